#!/bin/bash
# SPDX-License-Identifier: MIT
# img run --network bridge (the default) and -p through the real binary, as
# root: the address and route inside, two containers over img0, published
# ports from the host's loopback, accept_ra, refusals, a killed monitor's
# rules reclaimed, and nothing left after rm (docs/network.md). Traffic only
# to 127.0.0.1 and to the containers this test starts.
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
. "$(dirname "$0")/netlib.sh"

N=tnet$$            # our container names
export IMG_NET_LINGER_MS=600000 # img0 lingers: see "the bridge lingers"
# GET / from 127.0.0.1:PORT with bash alone (no proxy, no name lookup)
get_local() {
	timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"' && printf "GET / HTTP/1.0\r\n\r\n" >&3 && cat <&3' 2>/dev/null | tail -1
}

# ------------------------------------------------------------ inside
out=$(run --rm -h ${N}h busybox sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"; ip route | grep ^default; grep ${HOSTNAME} /etc/hosts | grep -v 127.0; cat /sys/class/net/lo/operstate /sys/class/net/eth0/operstate' | tr '\n' '|')
check_re "inside: eth0 in 10.89/16, default via 10.89.0.1, /etc/hosts, lo and eth0 up" \
	"^10\.89\.[0-9]+\.[0-9]+/16\|default via 10\.89\.0\.1 dev eth0 *\|10\.89\.[0-9]+\.[0-9]+.${N}h\|unknown\|up\|$" "$out"

# ------------------------------------------------------------ two containers, ports
P1=$(free_port)
run -d --name ${N}a -p 127.0.0.1:$P1:80 -p 80 busybox sh -c 'mkdir /w && echo hello-$HOSTNAME > /w/index.html && exec httpd -f -p 80 -h /w' >/dev/null
started ${N}a
ida=${IDS[0]}
ipa=$(inspect ${N}a 'j["NetworkSettings"]["IPAddress"]')
check_re "inspect: IPAddress in 10.89/16" "^10\.89\.[0-9]+\.[0-9]+$" "$ipa"
mac=$(python3 -c "import sys; a=sys.argv[1].split('.'); print('02:42:0a:59:%02x:%02x' % (int(a[2]), int(a[3])))" "$ipa")
check "inspect: Gateway, MacAddress from the address, NetworkMode" "10.89.0.1 $mac bridge" \
	"$(inspect ${N}a 'j["NetworkSettings"]["Gateway"], j["NetworkSettings"]["MacAddress"], j["HostConfig"]["NetworkMode"]')"
P2=$(inspect ${N}a '[p["HostPort"] for p in j["NetworkSettings"]["Ports"]["80/tcp"] if p["HostIp"] == "0.0.0.0"][0]')
check_re "-p 80: a host port chosen" "^[0-9]+$" "$P2"
check "inspect: Ports in docker's shape" "[('127.0.0.1', '$P1'), ('0.0.0.0', '$P2')]" \
	"$(inspect ${N}a '[(p["HostIp"], p["HostPort"]) for p in j["NetworkSettings"]["Ports"]["80/tcp"]]')"
check "ps: PORTS" "127.0.0.1:$P1->80/tcp, 0.0.0.0:$P2->80/tcp" "$(img ps --format '{{.Names}} {{.Ports}}' | awk -v n=${N}a '$1 == n {sub(/^[^ ]+ /, ""); print}')"
check "img port" "80/tcp -> 127.0.0.1:$P1|80/tcp -> 0.0.0.0:$P2" "$(img port ${N}a | tr '\n' '|' | sed 's/|$//')"
for _ in $(seq 50); do [ -n "$(get_local $P1)" ] && break; sleep 0.1; done
hn=$(inspect ${N}a 'j["Config"]["Hostname"]')
check "container to container over img0" "hello-$hn" "$(run --rm busybox wget -qO- http://$ipa/)"
check "host 127.0.0.1:$P1 -> the container (-p 127.0.0.1:$P1:80)" "hello-$hn" "$(get_local $P1)"
check "host 127.0.0.1:$P2 -> the container (-p 80)" "hello-$hn" "$(get_local $P2)"
veth=img${ida:0:12}
check "host veth enslaved to img0" "img0" "$(basename "$(readlink /sys/class/net/$veth/master)")"
check "accept_ra 0: the host veth and img0; route_localnet 1 on img0 only" "0 0 1 0" \
	"$(cat /proc/sys/net/ipv6/conf/$veth/accept_ra /proc/sys/net/ipv6/conf/img0/accept_ra /proc/sys/net/ipv4/conf/img0/route_localnet /proc/sys/net/ipv4/conf/$veth/route_localnet | tr '\n' ' ' | sed 's/ $//')"
check "ip_forward on while bridged" 1 "$(cat /proc/sys/net/ipv4/ip_forward)"
check "the rules are tagged with the container" 2 "$(nft list table ip img | grep -c "comment \"${ida:0:12}\"")"

# ------------------------------------------------------------ refusals (nothing left)
before=$(img ps -a -q | wc -l)
check_fails "-p: a port another container publishes" "port is already allocated" run --rm -p 127.0.0.1:$P1:80 busybox true
check_fails "-p: a bad spec" "invalid .*port spec" run --rm -p 80:99999 busybox true
check_fails "-p: a bad protocol" "invalid proto" run --rm -p 80/sctp busybox true
check_fails "-p with --network none" "conflicting options" run --rm --network none -p 80 busybox true
check_fails "-p with --network host" "conflicting options" run --rm --network host -p 80 busybox true
check_fails "--network: unknown" "network .* not found" run --rm --network overlay busybox true
check "refusals left no container" "$before" "$(img ps -a -q | wc -l)"
# (containers' veths, img + 12 hex, come and go with other users' containers)
stable_ifs() { grep -vE '^img[0-9a-f]{12}$' | tr '\n' ' '; }
check "--network host: the host's interfaces" "$(ls /sys/class/net | stable_ifs)" "$(run --rm --network host busybox ls /sys/class/net | stable_ifs)"
check "--network none: lo only" "lo" "$(run --rm --network none busybox ls /sys/class/net)"

# ------------------------------------------------------------ a killed monitor
P3=$(free_port)
run -d --name ${N}c -p 127.0.0.1:$P3:80 busybox sleep 100 >/dev/null
started ${N}c
idc=${IDS[1]}
mon=$(inspect ${N}c 'j["State"]["MonitorPid"]')
check "crash: its rule is in place" 1 "$(nft list table ip img | grep -c "comment \"${idc:0:12}\"")"
kill -9 "$mon"
img ps >/dev/null
settled
check "crash: the next img command removed its rule" 0 "$(nft list table ip img 2>/dev/null | grep -c "comment \"${idc:0:12}\"")"
check "crash: its address record is gone" "" "$(grep -l "^id $idc" /run/img/net/addr/* 2>/dev/null)"
for _ in $(seq 50); do [ -e /sys/class/net/img${idc:0:12} ] || break; sleep 0.1; done
check "crash: its veth is gone" no "$([ -e /sys/class/net/img${idc:0:12} ] && echo yes || echo no)"
check "crash: the others' rules stay" 2 "$(nft list table ip img | grep -c "comment \"${ida:0:12}\"")"

# ------------------------------------------------------------ the bridge lingers
# between containers run one after another (img0 is not deleted and made
# again for each: 95 ms a run when it was), and goes after the last. This
# test's own img commands linger 10 min (IMG_NET_LINGER_MS, exported at the
# top): the checks hold however slow the machine; a container set up ends a
# lingering reaper's wait, and the last one here (linger 0) removes img0.
img rm -f ${N}a ${N}c >/dev/null
if [ -z "$(ls /run/img/net/addr 2>/dev/null)" ]; then # no other user's container
	ix1=$(cat /sys/class/net/img0/ifindex 2>/dev/null)
	check "after the last container: img0 lingers" yes "$([ -n "$ix1" ] && echo yes || echo no)"
	settled
	check "the lingering table holds no port rule" 0 "$(nft list chain ip img ports 2>/dev/null | grep -c dnat)"
	out=$(run --rm --name ${N}l1 busybox true; run --rm --name ${N}l2 busybox cat /sys/class/net/eth0/operstate)
	check "runs one after another: bridged, the same img0" "up $ix1" "$out $(cat /sys/class/net/img0/ifindex 2>/dev/null)"
fi
IMG_NET_LINGER_MS=0 run --rm --name ${N}l3 busybox true

# ------------------------------------------------------------ nothing left
settled
net_settled
if [ -z "$(ls /run/img/net/addr 2>/dev/null)" ]; then
	check "after rm: no img0" no "$([ -e /sys/class/net/img0 ] && [ $HAD_BR = 0 ] && echo yes || echo no)"
	check "after rm: no table ip img" "" "$(nft list tables | grep -x 'table ip img')"
	check "after rm: ip_forward as before the test" "$FWD0" "$(cat /proc/sys/net/ipv4/ip_forward)"
fi
check "after rm: no veth of ours" "" "$(for i in "${IDS[@]}"; do [ -e /sys/class/net/img${i:0:12} ] && echo $i; done)"
check "after rm: no address record of ours" "" "$(for i in "${IDS[@]}"; do grep -l "^id $i" /run/img/net/addr/* 2>/dev/null; done)"
finish
