#!/bin/bash
# SPDX-License-Identifier: MIT
# The embedded DNS (127.0.0.11) of a user-defined network over TCP as well
# as UDP (docs/network.md "Names"), as root: questions asked from inside a
# container's netns (nsenter, tests/priv/dns-tool.py) for a container's name
# (answered by the monitor) and for an outside name, which the monitor
# relays to an upstream server of the test's own on a loopback address
# (--dns): over UDP a too-big answer comes back truncated (TC), over TCP
# whole; several questions on one TCP connection; an upstream that is not
# there gives SERVFAIL over TCP. Also IPv6, which img's networks do not
# have, refused clearly (network create --ipv6, run/create/network connect
# --ip6). Traffic only to loopback and the test's own netns.
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
NET_CLEANUP=_dns_cleanup
. "$(dirname "$0")/netlib.sh"
need nsenter python3
TOOL=$(dirname "$0")/dns-tool.py

N=tdn$$
NET=${N}n
SRV=
NETS=()
_dns_cleanup() {
	local i
	for i in $(img ps -a -q --no-trunc 2>/dev/null); do timeout 20 "$IMG_BIN" --root "$STORE" rm -f "$i" >/dev/null 2>&1; done
	for i in "$NET" "${NETS[@]}"; do timeout 20 "$IMG_BIN" --root "$STORE" network rm -f "$i" >/dev/null 2>&1; done
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
}
# the upstream: a loopback address of ours where nothing serves DNS, and
# one beside it where nothing ever will
for _ in $(seq 20); do
	UP=127.53.$((RANDOM % 250 + 1)).1
	ss -Hln "src $UP" 2>/dev/null | grep -q . || break
done
DOWN=${UP%.1}.2
python3 "$TOOL" serve "$UP" 40 "$T/ready" 2>"$T/srv.err" &
SRV=$!
while [ ! -e "$T/ready" ]; do
	kill -0 $SRV 2>/dev/null || { echo "the upstream stand-in did not start: $(cat "$T/srv.err")"; exit 1; }
	sleep 0.1
done

img network create "$NET" >/dev/null || { echo "network create failed"; exit 1; }
run -d --name ${N}a --network "$NET" --dns "$UP" busybox sleep 1000 >/dev/null && started ${N}a
run -d --name ${N}b --network "$NET" --dns "$UP" busybox sleep 1000 >/dev/null && started ${N}b
run -d --name ${N}c --network "$NET" --dns "$DOWN" busybox sleep 1000 >/dev/null && started ${N}c
ipb=$(img inspect -f "{{.NetworkSettings.Networks.$NET.IPAddress}}" ${N}b)
check_re "b has an address" "^[0-9.]+$" "$ipb"
ask() { # CONTAINER tcp|udp NAME...: the answers, as dns-tool.py prints them
	local pid
	pid=$(img inspect -f '{{.State.Pid}}' "$1")
	shift
	timeout 30 nsenter --net=/proc/$pid/ns/net python3 "$TOOL" ask "$1" 127.0.0.11 "${@:2}"
}
big=$(seq 40 | sed 's/^/10.99.0./' | tr '\n' ' ' | sed 's/ $//')

check "udp: a container's name, from the records" "rcode=0 tc=0 $ipb" "$(ask ${N}a udp ${N}b)"
check "udp: an outside name, too big: relayed truncated (TC)" "rcode=0 tc=1 " "$(ask ${N}a udp big.example)"
check "tcp: a container's name, from the records" "rcode=0 tc=0 $ipb" "$(ask ${N}a tcp ${N}b)"
check "tcp: an outside name, relayed whole over TCP (40 addresses)" "rcode=0 tc=0 $big" "$(ask ${N}a tcp big.example)"
check "tcp: three questions on one connection, answered in order" \
	"rcode=0 tc=0 $ipb|rcode=0 tc=0 $big|rcode=0 tc=0 $ipb" \
	"$(ask ${N}a tcp ${N}b big.example ${N}b | tr '\n' '|' | sed 's/|$//')"
check "tcp: no upstream there: SERVFAIL" "rcode=2 tc=0 " "$(ask ${N}c tcp big.example)"
check "tcp: the names still answered beside it" "rcode=0 tc=0 $ipb" "$(ask ${N}c tcp ${N}b)"
check "udp: still served after the TCP clients" "rcode=0 tc=0 $ipb" "$(ask ${N}a udp ${N}b)"

# ------------------------------------------------------------ IPv6: refused
six="IPv6 is not supported: img's networks are IPv4 only"
check_fails "network create --ipv6" "--ipv6: $six" img network create --ipv6 ${N}v6
check_fails "network create --ipv6=true" "--ipv6: $six" img network create --ipv6=true ${N}v6
check_fails "network create --ipv6=bad" 'invalid argument "bad" for "--ipv6" flag' img network create --ipv6=bad ${N}v6
check_fails "network create --subnet of IPv6" "invalid subnet fd00::/64" img network create --subnet fd00::/64 ${N}v6
check "none of them made a network" "" "$(img network ls -q --filter name=${N}v6)"
check_fails "run --ip6" "--ip6: $six" run --rm --network "$NET" --ip6 fd00::5 busybox true
check_fails "create --ip6" "--ip6: $six" img create --network "$NET" --ip6 fd00::5 busybox true
check_fails "network connect --ip6" "--ip6: $six" img network connect --ip6 fd00::5 "$NET" ${N}a
id=$(img network create --ipv6=false ${N}v4) && NETS+=(${N}v4)
check_re "network create --ipv6=false: an IPv4 network" "^10\.[0-9.]+/24$" \
	"$(img network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' ${N}v4)"
finish
