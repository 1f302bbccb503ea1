#!/bin/bash
# SPDX-License-Identifier: MIT
# img run on cgroup v2 through the real binary, as root: the v2 mount of a
# hybrid host (/sys/fs/cgroup/unified, where memory/cpu/pids are bound to
# v1) or /sys/fs/cgroup on a v2-only host. Only `run` gets IMG_CGROUP_ROOT:
# every later command must find the cgroup from the container's config.
# Checks: a limit whose controller is missing refused with nothing left;
# pid 1 and exec in the v2 group; the cgroup namespace; the device eBPF
# program attached, what it allows and denies, freed with the cgroup;
# stop of a pid 1 ignoring SIGTERM; rm removes the group and its parent.
. "$(dirname "$0")/../img/imglib.sh"
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
	CG2=/sys/fs/cgroup
elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	CG2=/sys/fs/cgroup/unified
else
	echo "skip: no cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified"
	exit 77
fi
. "$(dirname "$0")/privlib.sh"
Q=${CG_BPF_QUERY:?CG_BPF_QUERY must name tests/priv/cg-bpf-query}
unset IMG_CGROUP_ROOT
run2() { IMG_CGROUP_ROOT=$CG2 run "$@"; }
inspect() { img container inspect "$1" | python3 -c "import json,sys; j=json.load(sys.stdin)[0]; print($2)"; }
lines() { tr '\n' '|' | sed 's/|$//'; }
nothing_left() { # PREFIX: no container, cgroup, mount, runner state of ours
	check "$1: no container" "" "$(img ps -a -q)"
	check "$1: no cgroup" "" "$(ls -d "$CG2/$CGP" 2>/dev/null; cg_dirs)"
	check "$1: no mount" "" "$(awk -v s="$T" '$2 ~ "^"s' /proc/mounts)"
	check "$1: no runner state" "" "$(ls "$STORE.run/containers" 2>/dev/null | grep -v '^containers.lock$')"
}
ctrls=$(cat "$CG2/cgroup.controllers")
note "cgroup v2 at $CG2, controllers: ${ctrls:-none}"
has() { [[ " $ctrls " == *" $1 "* ]]; }

# ------------------------------------------------------------ a limit without its controller
if has memory; then
	id=$(run2 -d -m 64m busybox sleep 30)
	check "-m: memory.max" 67108864 "$(cat "$CG2/$CGP/$id/memory.max" 2>&1)"
	timeout 20 "$IMG_BIN" --root "$STORE" rm -f "$id" >/dev/null
else
	check_fails "-m refused: no memory controller, one line, 125" \
		"cgroup v2 at $CG2 has no memory controller \(available: ${ctrls:-none}\)$" \
		run2 --name m1 -m 64m busybox true
	nothing_left "refused -m"
fi
has cpu || check_fails "--cpus refused: no cpu controller" "has no cpu controller" run2 --cpus 0.5 busybox true
has pids || check_fails "--pids-limit refused: no pids controller" "has no pids controller" \
	run2 --pids-limit 10 busybox true
has pids || check "no pids controller: the default limit is not applied, run works" "ok" \
	"$(run2 --rm busybox echo ok 2>&1)"
check "--pids-limit 0 (unlimited) needs no controller" "ok" "$(run2 --rm --pids-limit 0 busybox echo ok 2>&1)"

# ------------------------------------------------------------ inside: cgroup namespace, devices
# Device nodes the program must deny, each tried on the host first as a
# control: there no program applies, so the kernel's own answer shows
# (8:0 is ENXIO where there is no sda; tun opens). A disk: the first block
# device of the host whose node the host itself can open (a sandbox may
# refuse its root disk to everyone).
probe() { # TYPE MAJ MIN: the host's error opening a new node of it, "" if it opens
	rm -f "$T/probe"; mknod "$T/probe" "$@" || return
	timeout 2 head -c1 "$T/probe" 2>&1 >/dev/null </dev/null | sed 's/.*: //'
	rm -f "$T/probe"
}
disk=
for d in $(cat /sys/block/*/dev 2>/dev/null); do
	[ -z "$(probe b "${d%:*}" "${d#*:}")" ] && disk=$d && break
done
if [ -z "$disk" ]; then
	disk=8:0
	note "no block device of the host opens from the host: 8:0 stands in for a disk"
fi
note "host disk for the device checks: $disk"
hs=$(probe b 8 0) hd=$(probe b "${disk%:*}" "${disk#*:}") ht=$(probe c 10 200)
note "on the host: 8:0 '$hs', $disk '$hd', 10:200 '$ht'"
check "controls on the host: no EPERM for 8:0, the disk, tun" "" \
	"$(printf '%s\n' "$hs" "$hd" "$ht" | grep 'Operation not permitted')"
out=$(run2 --rm busybox sh -c "
	grep '^0::' /proc/self/cgroup
	for d in null zero full random urandom; do head -c1 /dev/\$d >/dev/null && echo ok-\$d; done
	echo x >/dev/null && echo w-null
	mknod /dev/sda b 8 0 && echo mknod
	head -c1 /dev/sda 2>&1 >/dev/null
	mknod /dev/disk b ${disk%:*} ${disk#*:} && head -c1 /dev/disk 2>&1 >/dev/null
	mknod /dev/tun c 10 200 && head -c1 /dev/tun 2>&1 >/dev/null
	exec 3<>/dev/ptmx && echo ptmx")
check "inside: cgroup 0::/, the default devices open, a disk and tun denied (EPERM)" \
	"0::/|ok-null|ok-zero|ok-full|ok-random|ok-urandom|w-null|mknod|head: /dev/sda: Operation not permitted|head: /dev/disk: Operation not permitted|head: /dev/tun: Operation not permitted|ptmx" \
	"$(echo "$out" | lines)"
# the kernel asks the BPF program, then v1's devices controller: in the
# root of v1's devices hierarchy (allow all) only the program can deny
v1dev=$(grep -E '^[0-9]+:devices:' /proc/self/cgroup | cut -d: -f3)
if [ -n "$v1dev" ] && [ "$v1dev" != / ]; then
	skip "the denials are the eBPF program's" "this shell is in v1 devices cgroup $v1dev"
else
	pass "the denials are the eBPF program's (no v1 devices cgroup, or its root)"
fi
out=$(python3 "$(dirname "$0")/pty-run.py" /usr/bin/env IMG_CGROUP_ROOT="$CG2" "$IMG_BIN" --root "$STORE" \
	run --rm -t --cgroup-parent "$CGP" busybox sh -c 'echo a >/dev/tty && echo tty; echo b >/dev/pts/0 && echo pts; tty')
check "-t: /dev/tty (5:0) and /dev/pts/0 (136:0) open in the group" "a|tty|b|pts|/dev/pts/0|rc=0" "$(echo "$out" | lines)"

# ------------------------------------------------------------ from the host
id=$(run2 -d --name c1 busybox sh -c 'trap "" TERM; echo started; while :; do sleep 1; done')
check_re "run -d prints the id" "^[0-9a-f]{64}$" "$id"
cg=$CG2/$CGP/$id
pid=$(inspect c1 'j["State"]["Pid"]')
check "pid 1 is in the v2 group's cgroup.procs" "$pid" "$(grep -x "$pid" "$cg/cgroup.procs")"
check "runner.json records the cgroup root" "$CG2" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CgroupRoot"])' "$STORE.run/containers/$id/runner.json")"
check "inspect (no IMG_CGROUP_ROOT): the v2 path, version 2, private cgroupns" "$cg 2 private" \
	"$(inspect c1 '"%s %s %s" % (j["HostConfig"]["Cgroups"]["unified"], j["HostConfig"]["CgroupVersion"], j["HostConfig"]["CgroupnsMode"])')"
check "pid 1's cgroup namespace is not the host's" "other" \
	"$([ "$(readlink /proc/$pid/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ] && echo other)"
progs=$("$Q" "$cg")
note "device programs of the group: $(echo "$progs" | lines)"
check_re "one device eBPF program attached: ours (cgroup_device img_devices)" \
	"^[0-9]+ cgroup_device img_devices [0-9]+$" "$progs"
check "its 60 instructions: the default list (tests/unit/runner/test-cgroup-bpf.c)" 60 "${progs##* }"
prog_id=${progs%% *}
mon=$(inspect c1 'j["State"]["MonitorPid"]')
check "the monitor holds no BPF fd (the attachment keeps the program)" "" \
	"$(ls -l /proc/$mon/fd 2>/dev/null | grep bpf)"

# ------------------------------------------------------------ exec joins the group
out=$(timeout 20 "$IMG_BIN" --root "$STORE" exec c1 sh -c 'grep "^0::" /proc/self/cgroup; head -c1 /dev/zero | wc -c')
check "exec: cgroup 0::/ inside, /dev/zero opens" "0::/|1" "$(echo "$out" | lines)"
timeout 20 "$IMG_BIN" --root "$STORE" exec c1 sleep 7 >/dev/null 2>&1 &
_PIDS+=($!)
epid=
for i in $(seq 50); do
	for p in $(cat "$cg/cgroup.procs"); do
		[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "sleep 7 " ] && epid=$p
	done
	[ -n "$epid" ] && break
	sleep 0.1
done
check_re "exec: its process is in the group's cgroup.procs" "^[0-9]+$" "$epid"
timeout 20 "$IMG_BIN" --root "$STORE" exec c1 mknod /dev/disk b "${disk%:*}" "${disk#*:}"
check "exec: a disk node made inside is denied inside" "head: /dev/disk: Operation not permitted" \
	"$(timeout 20 "$IMG_BIN" --root "$STORE" exec c1 head -c1 /dev/disk 2>&1 >/dev/null)"
check "and opens from the host, outside the group (the node is fine)" "opens" \
	"$(head -c1 "/proc/$pid/root/dev/disk" >/dev/null && echo opens)"

# ------------------------------------------------------------ --device on v2
if [ -c /dev/net/tun ]; then
	check "--device on v2: the eBPF program allows it (tun, which it denies by default)" "open" \
		"$(run2 --rm --device /dev/net/tun busybox sh -c 'head -c0 /dev/net/tun && echo open')"
fi

# ------------------------------------------------------------ update
check "update -m on v2 without the memory controller: refused (125)" 125 "$(img update -m 64m c1 2>/dev/null; echo $?)"

# ------------------------------------------------------------ stats
check_re "stats on v2: cpu % (cpu.stat) and pids (cgroup.procs) without those controllers" \
	"^[0-9a-f]{12} +c1 +[0-9]+\.[0-9]{2}% .* [0-9]+$" "$(img stats --no-stream c1 | tail -1)"

# ------------------------------------------------------------ pause (cgroup.freeze)
img pause c1 >/dev/null
check "pause: cgroup.freeze 1 and inspect paused" "1 paused" \
	"$(cat "$cg/cgroup.freeze") $(img container inspect c1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Status"])')"
check "pause: cgroup.events frozen 1" "frozen 1" "$(grep '^frozen' "$cg/cgroup.events")"
img unpause c1 >/dev/null
check "unpause: thawed" "0 running" \
	"$(cat "$cg/cgroup.freeze") $(img container inspect c1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Status"])')"

# ------------------------------------------------------------ stop, rm
id2=$(run2 -d --name c2 busybox sleep 100)
s=$(date +%s%N); img stop -t 1 c1 >/dev/null; e=$(( ($(date +%s%N) - s) / 1000000 ))
check_re "stop -t 1 of a pid 1 ignoring SIGTERM: killed after ~1 s" "^(1[0-9]{3}|2[0-9]{3})$" "$e"
check "stopped: 137" 137 "$(timeout 10 "$IMG_BIN" --root "$STORE" wait c1)"
check "stopped: the exec'd process went too" "gone" "$(kill -0 "$epid" 2>/dev/null || echo gone)"
check "stopped: its group is removed, the parent stays for c2" "|$CG2/$CGP" \
	"$(ls -d "$cg" 2>/dev/null)|$(ls -d "$CG2/$CGP" 2>/dev/null)"
gone=
for i in $(seq 40); do [ "$("$Q" --id "$prog_id")" = gone ] && gone=gone && break; sleep 0.1; done
check "the device program was freed with its group" "gone" "$gone"
img rm c1 >/dev/null
check "rm -f c2 (running, no IMG_CGROUP_ROOT): its group and the parent removed" "0|" \
	"$(timeout 20 "$IMG_BIN" --root "$STORE" rm -f c2 >/dev/null; echo $?)|$(ls -d "$CG2/$CGP" 2>/dev/null)"
wait
_PIDS=()
nothing_left "rm"
check "rm: no monitor or daemon left" "" "$(ps -eo args | grep -E "img-monitor $STORE|ufsmount .*$STORE" | grep -v grep)"
finish
