# SPDX-License-Identifier: MIT
# Fixture for the bridge network tests (docs/network.md), sourced after
# privlib.sh: skip (77) without veth, bridge or nf_tables; the EXIT trap
# removes our containers' veths and records and, when no other container
# holds an address, img0 and the table if this test made them, with
# ip_forward as found (and a long $IMG_NET_LINGER_MS of the test ended).
# NET_CLEANUP: more cleanup to run first (a function).
need nft ip
ip link add tnetprb$$ type veth peer name tnetprp$$ 2>/dev/null || { echo "skip: no veth"; exit 77; }
ip link del tnetprb$$
ip link add tnetbr$$ type bridge 2>/dev/null || { echo "skip: no bridge"; exit 77; }
ip link del tnetbr$$
nft list tables >/dev/null 2>&1 || { echo "skip: no nf_tables"; exit 77; }

# ip_forward as the host had it: img's record while a bridge of img exists
FWD0=$(cat /run/img/net/ip_forward 2>/dev/null || cat /proc/sys/net/ipv4/ip_forward)
HAD_BR=0; [ -e /sys/class/net/img0 ] && HAD_BR=1
HAD_TABLE=0; nft list table ip img >/dev/null 2>&1 && HAD_TABLE=1
IDS=()              # every container we start, for the trap
NET_CLEANUP=${NET_CLEANUP:-}
_net_cleanup() {
	local i
	[ -n "$NET_CLEANUP" ] && "$NET_CLEANUP"
	if [ "${IMG_NET_LINGER_MS:-0}" != 0 ]; then
		# reapers of ours lingering long (a test cut short): our containers
		# go, then one that lingers 0 ends their wait and takes img0 along
		export IMG_NET_LINGER_MS=0
		for i in $(img ps -a -q --no-trunc 2>/dev/null); do timeout 20 "$IMG_BIN" --root "$STORE" rm -f "$i" >/dev/null 2>&1; done
		run --rm busybox true >/dev/null 2>&1
	fi
	_priv_cleanup   # rm -f of our containers releases their addresses and rules
	for i in "${IDS[@]}"; do
		ip link del "img${i:0:12}" 2>/dev/null
		grep -l "^id $i" /run/img/net/addr/* 2>/dev/null | xargs -r rm -f
	done
	if [ -z "$(ls /run/img/net/addr 2>/dev/null)" ]; then
		[ $HAD_BR = 0 ] && ip link del img0 2>/dev/null
		[ $HAD_TABLE = 0 ] && nft delete table ip img 2>/dev/null
		rm -f /run/img/net/rules /run/img/net/ip_forward
		echo "$FWD0" > /proc/sys/net/ipv4/ip_forward
	fi
}
trap _net_cleanup EXIT
inspect() { img container inspect "$1" | python3 -c "import json,sys; j=json.load(sys.stdin)[0]; print($2)"; }
started() { IDS+=("$(img container inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')"); }
# the slow deletions (veths, rules, bridge) run in a reaper that holds the
# network lock: wait for it as img's next set-up would
settled() { flock /run/img/net/lock true 2>/dev/null; }
. "$(dirname "${BASH_SOURCE[0]}")/../lib/ports.sh" # free_port
