#!/bin/bash
# SPDX-License-Identifier: MIT
# The bridge is no door into the host's network (docs/network.md
# "Isolation"): a "LAN host" network namespace with a route to 10.89.0.0/16
# through the host reaches a container only through a published port's
# DNAT, never an unpublished port, a port published on 127.0.0.1 (not even at
# the container's own address) or a container address directly; the
# forwarding img turned on does not route the LAN host to another network of
# the host (a second namespace); hairpin NAT: a container reaches its own and
# another's published port through the host's addresses. Traffic only inside
# the namespaces and containers this test makes; the trap removes them.
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
NET_CLEANUP=_iso_cleanup
. "$(dirname "$0")/netlib.sh"

N=tiso$$
LAN=tisolan$$ OTHER=tisooth$$
HL=tisoh$$ LL=tisol$$ HO=tisoo$$ LO=tisop$$   # veth ends: host/LAN, host/other
# two /30s of the benchmark range 198.18.0.0/15 (RFC 2544), unique per pid
A=$((($$ >> 6) % 256)) B=$((($$ % 64) * 4))
H_IP=198.18.$A.$((B + 1)) L_IP=198.18.$A.$((B + 2))
HO_IP=198.19.$A.$((B + 1)) O_IP=198.19.$A.$((B + 2))
OPID=
_iso_cleanup() {
	[ -n "$OPID" ] && kill -9 $OPID 2>/dev/null && wait $OPID 2>/dev/null
	OPID=
	ip netns del $LAN 2>/dev/null    # its veth end goes with it, the pair too
	ip netns del $OTHER 2>/dev/null
	ip link del $HL 2>/dev/null
	ip link del $HO 2>/dev/null
}
ip netns add $LAN && ip netns add $OTHER || { fail "ip netns add"; finish; }
ip link add $HL type veth peer name $LL netns $LAN &&
	ip link add $HO type veth peer name $LO netns $OTHER || { fail "veth pairs"; finish; }
ip addr add $H_IP/30 dev $HL && ip link set $HL up &&
	ip addr add $HO_IP/30 dev $HO && ip link set $HO up &&
	ip -n $LAN addr add $L_IP/30 dev $LL && ip -n $LAN link set $LL up && ip -n $LAN link set lo up &&
	ip -n $LAN route add 10.89.0.0/16 via $H_IP &&
	ip -n $LAN route add 198.19.$A.$B/30 via $H_IP &&
	ip -n $OTHER addr add $O_IP/30 dev $LO && ip -n $OTHER link set $LO up &&
	ip -n $OTHER route add 198.18.$A.$B/30 via $HO_IP || { fail "LAN set-up"; finish; }
# from the LAN host: the body of GET http://$1/, or nothing (3 s: a dropped
# SYN is never answered, so "nothing" always costs the whole timeout)
# (curl: busybox wget -T crashes in Debian's 1.35; in containers: timeout)
lan_get() { ip netns exec $LAN curl -s --noproxy '*' -m 3 "http://$1/"; }
host_get() { curl -s --noproxy '*' -m 10 "http://$1/"; }
# ... and the same, waited for (the positive checks: generous)
lan_get_wait() {
	local out
	for _ in $(seq 20); do out=$(lan_get "$1") && [ -n "$out" ] && break; done
	printf '%s' "$out"
}

# a container with three servers: 80 published on all addresses, 81 on
# 127.0.0.1 only, 8080 not published
PPUB=$(free_port) PLOC=$(free_port)
run -d --name ${N}a -p $PPUB:80 -p 127.0.0.1:$PLOC:81 busybox sh -c \
	'for p in 80 81 8080; do mkdir /w$p && echo a-$p > /w$p/index.html && httpd -p $p -h /w$p; done; exec sleep 1000' >/dev/null
started ${N}a
ipa=$(inspect ${N}a 'j["NetworkSettings"]["IPAddress"]')
for _ in $(seq 100); do img exec ${N}a sh -c 'netstat -ltn | grep -q :8080' && break; sleep 0.1; done

check "LAN host -> host:$PPUB (published): the container" "a-80" "$(lan_get_wait $H_IP:$PPUB)"
check "LAN host -> the bridge's address:$PPUB (published): the container" "a-80" "$(lan_get_wait 10.89.0.1:$PPUB)"
check "host -> 127.0.0.1:$PLOC (-p 127.0.0.1:$PLOC:81): the container" "a-81" \
	"$(host_get 127.0.0.1:$PLOC)"
check "LAN host -> container:8080 (not published): nothing" "" "$(lan_get $ipa:8080)"
check "LAN host -> container:81 (published on 127.0.0.1 only): nothing" "" "$(lan_get $ipa:81)"
check "LAN host -> host:$PLOC (published on 127.0.0.1 only): nothing" "" "$(lan_get $H_IP:$PLOC)"
check "LAN host -> container:80 directly (published, but not through its DNAT): nothing" "" "$(lan_get $ipa:80)"
if [ "$(cat /run/img/net/ip_forward 2>/dev/null)" = 0 ]; then
	mkdir -p "$T/other" && echo other > "$T/other/index.html"
	ip netns exec $OTHER busybox httpd -f -p 8080 -h "$T/other" >/dev/null 2>&1 &
	OPID=$!; _PIDS+=($OPID)
	for _ in $(seq 100); do host_get $O_IP:8080 >/dev/null && break; sleep 0.1; done
	check "the host -> another network of the host: served" "other" "$(host_get $O_IP:8080)"
	check "ip_forward (turned on by img) does not route the LAN host to that network" "" "$(lan_get $O_IP:8080)"
else
	skip "ip_forward was on before img: the host's own routing is not img's to limit"
fi

# ------------------------------------------------------------ hairpin
check "hairpin: a container -> its own published port at the bridge's address" "a-80" \
	"$(img exec ${N}a timeout 10 wget -q -O- http://10.89.0.1:$PPUB/ 2>&1)"
check "hairpin: a container -> its own published port at the host's LAN address" "a-80" \
	"$(img exec ${N}a timeout 10 wget -q -O- http://$H_IP:$PPUB/ 2>&1)"
check "hairpin: another container -> the published port at the host's address" "a-80" \
	"$(run --rm busybox timeout 10 wget -q -O- http://$H_IP:$PPUB/ 2>&1)"
check "another container -> container:8080 over img0 (not published): served" "a-8080" \
	"$(run --rm busybox timeout 10 wget -q -O- http://$ipa:8080/ 2>&1)"

# ------------------------------------------------------------ nothing left
img rm -f ${N}a >/dev/null
_iso_cleanup
check "after: no namespace or veth of ours" "" "$(ip netns list | grep -E "^($LAN|$OTHER)( |$)"; ls /sys/class/net | grep -E "^($HL|$HO)$")"
finish
