#!/bin/bash
# SPDX-License-Identifier: MIT
# User-defined networks through the real binary, as root (docs/network.md):
# network create/ls/inspect/rm/prune/connect/disconnect, run --network
# NAME, --network-alias, --ip, --hostname; names resolved by the embedded
# DNS (127.0.0.11) as containers join and leave; no traffic between two
# networks unless a container is on both; --internal; the bridges, veths,
# rules and definitions gone after rm; a definition kept in the store
# across a (simulated) reboot. Traffic only to the test's
# containers (the embedded DNS forwards other names to --dns 127.0.0.1,
# where nothing listens: it answers SERVFAIL at once).
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
NET_CLEANUP=_nu_cleanup
. "$(dirname "$0")/netlib.sh"

N=tnu$$
NETS=()             # the networks we made (names), for the trap
BRS=()              # and their bridges
_nu_cleanup() {
	local i
	for i in $(img ps -a -q --no-trunc 2>/dev/null); do timeout 20 "$IMG_BIN" --root "$STORE" rm -f "$i" >/dev/null 2>&1; done
	for i in "${NETS[@]}"; do timeout 20 "$IMG_BIN" --root "$STORE" network rm -f "$i" >/dev/null 2>&1; done
	for i in "${BRS[@]}"; do ip link del "$i" 2>/dev/null; done
	for i in "${NETS[@]}"; do rm -f "/run/img/net/nets/$i"; done
	rmdir /run/img/net/nets 2>/dev/null
}
ss -lun 2>/dev/null | awk '{print $4}' | grep -qE '^(127\.0\.0\.1|0\.0\.0\.0|\*):53$' &&
	{ echo "skip: something serves DNS on 127.0.0.1:53 (the forwarding target of this test)"; exit 77; }
# run on a network, the embedded DNS forwarding nowhere
nrun() { run --dns 127.0.0.1 "$@"; }
# the addresses nslookup (busybox's own resolver: resolv.conf, then
# 127.0.0.11) gives for a name in container $1, space-separated
lookup() {
	img exec "$1" timeout 10 nslookup "$2" 2>/dev/null |
		awk '/^Name:/ {n=1} n && /^Address/ {sub(/^Address[ 0-9]*: */, ""); print $1}' | grep -v : | sort | tr '\n' ' ' | sed 's/ $//'
}
# (no wget -T: it crashes in Debian's busybox 1.35; a dropped SYN costs the 5 s)
get() { img exec "$1" timeout 5 wget -q -O- "http://$2/" 2>/dev/null; }
SINCE=$(date +%s)

# ------------------------------------------------------------ create, ls, inspect
id1=$(img network create --label team=a ${N}n1) && NETS+=(${N}n1)
check_re "network create: prints the id" "^[0-9a-f]{64}$" "$id1"
S2=10.91.$((RANDOM % 200)).0
id2=$(img network create --subnet $S2/24 --gateway ${S2%.0}.254 ${N}n2) && NETS+=(${N}n2)
id3=$(img network create --internal ${N}n3) && NETS+=(${N}n3)
br1=$(img network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' ${N}n1)
br2=$(img network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' ${N}n2)
br3=$(img network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' ${N}n3)
BRS+=($br1 $br2 $br3)
sub1=$(img network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}' ${N}n1)
check_re "inspect: an automatic /24 of 10.90/16 with its gateway" "^10\.90\.[0-9]+\.0/24 10\.90\.[0-9]+\.1$" "$sub1"
check "inspect: --subnet, --gateway, --internal, --label, driver" \
	"$S2/24 ${S2%.0}.254|true|a|bridge" \
	"$(img network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}' ${N}n2)|$(img network inspect -f '{{.Internal}}' ${N}n3)|$(img network inspect -f '{{.Labels.team}}' ${N}n1)|$(img network inspect -f '{{.Driver}}' ${N}n1)"
check "the bridge: up with the gateway's address" "${S2%.0}.254/24" \
	"$(ip -4 -o addr show dev $br2 | awk '{print $4}')"
check "network ls: ours, and bridge host none" "bridge host none ${N}n1 ${N}n2 ${N}n3" \
	"$(img network ls --format '{{.Name}}' | grep -E "^(bridge|host|none|${N}n[0-9])$" | tr '\n' ' ' | sed 's/ $//')"
check "network ls --filter label, -q" "${id1:0:12}" "$(img network ls -q --filter label=team=a)"
check_fails "create: a name taken" "network with name ${N}n1 already exists" img network create ${N}n1
check_fails "create: an overlapping subnet" "Pool overlaps" img network create --subnet ${S2%.*.*}.0.0/16 ${N}bad
check_fails "create: a subnet with host bits" "it should be" img network create --subnet ${S2%.0}.7/24 ${N}bad
check_fails "create: a gateway outside the subnet" "no matching subnet" img network create --subnet 10.92.1.0/24 --gateway 10.92.2.1 ${N}bad
check_fails "run: an unknown network" "network ${N}nope not found" run --rm --network ${N}nope busybox true
check_fails "run --ip on the default bridge" "user defined networks only" run --rm --ip 10.89.9.9 busybox true

# ------------------------------------------------------------ names on one network
nrun -d --name ${N}web --network ${N}n1 --network-alias www busybox sh -c \
	'mkdir /w && echo web-ok > /w/index.html && exec httpd -f -p 80 -h /w' >/dev/null
started ${N}web
IPDB=${sub1%%.0/24*}.77
nrun -d --name ${N}db --network ${N}n1 --ip $IPDB -h dbhost busybox sleep 1000 >/dev/null
started ${N}db
nrun -d --name ${N}cli --network ${N}n1 busybox sleep 1000 >/dev/null
started ${N}cli
ipweb=$(img inspect -f "{{.NetworkSettings.Networks.${N}n1.IPAddress}}" ${N}web)
check_re "inspect: the address in n1's subnet" "^${sub1%%.0/24*}\.[0-9]+$" "$ipweb"
check "inspect: NetworkMode, the alias, --ip" "${N}n1 [www] $IPDB" \
	"$(img inspect -f "{{.HostConfig.NetworkMode}} {{.NetworkSettings.Networks.${N}n1.Aliases}}" ${N}web) $(img inspect -f '{{.NetworkSettings.IPAddress}}' ${N}db)"
check "resolv.conf: the embedded DNS" "nameserver 127.0.0.11" "$(img exec ${N}cli grep nameserver /etc/resolv.conf)"
check "DNS: by name" "$ipweb" "$(lookup ${N}cli ${N}web)"
check "DNS: by alias" "$ipweb" "$(lookup ${N}cli www)"
check "DNS: by --hostname, with --ip" "$IPDB" "$(lookup ${N}cli dbhost)"
check "DNS: by short id" "$ipweb" "$(lookup ${N}cli ${IDS[0]:0:12})"
check "DNS: a name of nobody (forwarded, refused): none" "" "$(lookup ${N}cli ${N}nobody)"
check "a name as a program uses it (wget)" "web-ok" "$(get ${N}cli ${N}web)"
check "network inspect: Containers" "${N}cli ${N}db ${N}web" \
	"$(img network inspect -f '{{range .Containers}}{{.Name}} {{end}}' ${N}n1 | tr ' ' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//')"
check "ps --filter network" "${N}cli ${N}db ${N}web" \
	"$(img ps --filter network=${N}n1 --format '{{.Names}}' | sort | tr '\n' ' ' | sed 's/ $//')"

# ------------------------------------------------------------ isolation
nrun -d --name ${N}other --network ${N}n2 busybox sh -c \
	'mkdir /w && echo other-ok > /w/index.html && exec httpd -f -p 80 -h /w' >/dev/null
started ${N}other
run -d --name ${N}dflt busybox sleep 1000 >/dev/null
started ${N}dflt
check "another network: the name is not answered" "" "$(lookup ${N}other ${N}web)"
check "another network: no traffic to n1's address" "" "$(get ${N}other $ipweb)"
check "the default bridge: no traffic to n1's address" "" "$(get ${N}dflt $ipweb)"
ipother=$(img inspect -f '{{.NetworkSettings.IPAddress}}' ${N}other)
check "n1 -> another network's address: none" "" "$(get ${N}cli $ipother)"
check "its own network's container -> that address: served (the server is up)" "other-ok" \
	"$(nrun --rm --network ${N}n2 busybox timeout 5 wget -q -O- http://$ipother/ 2>/dev/null)"

# ------------------------------------------------------------ joining and leaving
img network connect --alias front ${N}n1 ${N}other
check "connect: a second interface, both networks in inspect" "2 ${N}n1 ${N}n2" \
	"$(img exec ${N}other sh -c 'ls /sys/class/net | grep -c ^eth') $(img inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' ${N}other | sed 's/ $//')"
check "connected: names resolved, traffic passes" "$ipweb web-ok" "$(lookup ${N}other ${N}web) $(get ${N}other ${N}web)"
check "connected: its alias on n1 answered to the others" \
	"$(img inspect -f "{{.NetworkSettings.Networks.${N}n1.IPAddress}}" ${N}other)" "$(lookup ${N}cli front)"
# one of the default bridge alone, connected later: it asks the embedded
# DNS from then on, and is answered to the others
img network connect ${N}n1 ${N}dflt
check "connect from the default bridge: resolv.conf, the others' names" "nameserver 127.0.0.11|$ipweb" \
	"$(img exec ${N}dflt grep nameserver /etc/resolv.conf)|$(lookup ${N}dflt ${N}web)"
check "connect from the default bridge: its name answered to the others" \
	"$(img inspect -f "{{.NetworkSettings.Networks.${N}n1.IPAddress}}" ${N}dflt)" "$(lookup ${N}cli ${N}dflt)"
img network disconnect ${N}n1 ${N}dflt
img rm -f ${N}db >/dev/null
check "a container gone: its name is not answered" "" "$(lookup ${N}cli dbhost)"
img network disconnect ${N}n1 ${N}other
check "disconnect: the name no longer answered, no traffic" "|" "$(lookup ${N}other ${N}web)|$(get ${N}other $ipweb)"
check "disconnect: its interface gone" "1" "$(img exec ${N}other sh -c 'ls /sys/class/net | grep -c ^eth')"
out=$(img network disconnect ${N}n1 ${N}other 2>&1); rc=$?
check "disconnect again: docker's error" "1 img: container ${N}other is not connected to network ${N}n1" "$([ $rc = 125 ] && echo 1) $out"

# ------------------------------------------------------------ internal
nrun -d --name ${N}int --network ${N}n3 busybox sleep 1000 >/dev/null
started ${N}int
check "--internal: no default route" "" "$(img exec ${N}int ip route | grep ^default)"
check "--internal: nothing in from another network" "" "$(get ${N}cli $(img inspect -f '{{.NetworkSettings.IPAddress}}' ${N}int))"
check_re "rules: each bridge its own forward rules" \
	"oifname \"$br1\" iifname != \"$br1\" drop.*iifname \"$br3\" oifname != \"$br3\" drop" "$(nft list chain ip img forward | tr '\n' ' ')"

# ------------------------------------------------------------ rm, prune, events
out=$(img network rm ${N}n1 2>&1); rc=$?
check_re "rm: refused while in use" "^1 img: error while removing network: network ${N}n1 id ${id1} has active endpoints$" "$rc $out"
img rm -f ${N}web ${N}cli ${N}other ${N}int ${N}dflt >/dev/null
net_settled
check "rm: the name" "${N}n1" "$(img network rm ${N}n1)"
check "prune: the unused ones" "Deleted Networks:|${N}n2|${N}n3" "$(img network prune -f | tr '\n' '|' | sed 's/|$//')"
check "after: no network, bridge, definition or veth of ours" "|||" \
	"$(img network ls -q --filter name=$N)|$(ls /sys/class/net | grep -E "^($br1|$br2|$br3)$")|$(ls /run/img/net/nets 2>/dev/null | grep $N)|$(ip -br link | grep -E "^im[g1-9](${IDS[0]:0:12}|${IDS[2]:0:12}|${IDS[3]:0:12})")"
check "after: no rule names our bridges" "" "$(nft list table ip img 2>/dev/null | grep -E "$br1|$br2|$br3")"
check "events: network create, connect, disconnect, destroy" \
	"create ${N}n1|create ${N}n2|create ${N}n3|connect ${N}n1|connect ${N}n1|disconnect ${N}n1|disconnect ${N}n1|destroy ${N}n1|destroy ${N}n2|destroy ${N}n3" \
	"$(img events --since $SINCE --until $(( $(date +%s) + 1 )) --filter type=network --format '{{.Action}} {{.Actor.Attributes.name}}' | tr '\n' '|' | sed 's/|$//')"

# ------------------------------------------------------------ a reboot
# the definition lives in the store; /run's state of this one network alone
# (its copy in use, its bridge) removed as a reboot would
id4=$(img network create --label keep=yes ${N}n4) && NETS+=(${N}n4)
br4=$(img network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' ${N}n4)
BRS+=($br4)
sub4=$(img network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' ${N}n4)
check "the definition: in the store's root" "${N}n4" "$(ls "$STORE/networks" | grep "^${N}n4$")"
check "in use: its copy in /run" "id $id4" "$(grep ^id /run/img/net/nets/${N}n4)"
rm -f /run/img/net/nets/${N}n4
ip link del "$br4"
check "after the reboot: ls, inspect" "${id4:0:12} ${N}n4|$sub4 yes" \
	"$(img network ls --filter name=${N}n4 --format '{{.ID}} {{.Name}}')|$(img network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Labels.keep}}' ${N}n4)"
addr=$(nrun --rm --network ${N}n4 busybox ip -4 -o addr show eth0 | awk '{print $4}')
check_re "after the reboot: a container on it, an address of its subnet" "^${sub4%%.0/24}\.[0-9]+/24$" "$addr"
check "after the reboot: its bridge and its copy made again" "$br4|id $id4" \
	"$(ls /sys/class/net | grep -x "$br4")|$(grep ^id /run/img/net/nets/${N}n4)"
net_settled
check "rm after the reboot: the name; no definition, copy or bridge left" "${N}n4|||" \
	"$(img network rm ${N}n4)|$(ls "$STORE/networks" | grep "^${N}n4$")|$(ls /run/img/net/nets 2>/dev/null | grep "^${N}n4$")|$(ls /sys/class/net | grep -x "$br4")"
finish
