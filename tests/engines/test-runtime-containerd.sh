#!/bin/bash
# SPDX-License-Identifier: MIT
# img-runtime under containerd: Debian's containerd started by the test
# (config, root, state and socket in its temp dir, stopped by its PID), an
# image imported from an OCI archive, containers run by ctr with the runc
# shim pointed at img-runtime (--runc-binary, --runc-root in the temp dir).
. "$(dirname "$0")/rtlib.sh"
for c in containerd ctr containerd-shim-runc-v2; do
	command -v "$c" >/dev/null 2>&1 || skip_all "$c missing"
done
rt_setup

cat >"$T/containerd.toml" <<EOF
version = 2
root = "$T/ctd-root"
state = "$T/ctd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$T/ctd.sock"
[ttrpc]
  address = "$T/ctd.sock.ttrpc"
[debug]
  address = "$T/ctd-debug.sock"
[metrics]
  address = ""
EOF
containerd --config "$T/containerd.toml" >"$T/containerd.log" 2>&1 &
CTD=$!
_PIDS+=("$CTD")
CTR=$(command -v ctr)
ctr() { timeout 120 "$CTR" -a "$T/ctd.sock" "$@"; }
for i in $(seq 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
ctr version >/dev/null 2>&1 || bail "containerd did not start: $(tail -5 "$T/containerd.log")"

# what the test leaves in containerd goes before containerd itself
ctd_cleanup() {
	local rc=$? id
	for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s KILL "$id" >/dev/null 2>&1; done
	for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks delete -f "$id" >/dev/null 2>&1; done
	for id in $(ctr containers ls -q 2>/dev/null); do ctr containers rm "$id" >/dev/null 2>&1; done
	RTSTATE=$T/runc/default
	(exit $rc)
	_rt_cleanup
}
trap ctd_cleanup EXIT

python3 "$RT_DIR/mkoci.py" "$T/rootfs.tar" localhost/rt:1 "$T/img.tar" || bail "mkoci"
ctr images import "$T/img.tar" >/dev/null 2>"$T/err" || bail "import: $(cat "$T/err")"
check "images import: the OCI archive" "localhost/rt:1" "$(ctr images ls -q)"

RUNC=(--runc-binary "$IMG_RUNTIME" --runc-root "$T/runc")
out=$(ctr run --rm "${RUNC[@]}" localhost/rt:1 c1 sh -c 'echo hello; echo err >&2; exit 3' 2>"$T/c1.err" </dev/null)
rc=$?
check "ctr run --rm: stdout, stderr and exit code" "hello|err|3" "$out|$(cat "$T/c1.err")|$rc"
check "ctr run --rm: the container removed" "" "$(ctr containers ls -q)"
check "ctr run --rm: nothing left in the runtime's root" "" "$(ls "$T/runc/default" 2>/dev/null)"

out=$(ctr run --rm "${RUNC[@]}" --env K=val --cwd /tmp --memory-limit 67108864 localhost/rt:1 c2 \
	sh -c 'echo $K $(pwd) $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); grep CapBnd /proc/self/status' 2>&1 </dev/null)
check "ctr run: env, cwd, memory limit, containerd's capabilities" "val /tmp 67108864|CapBnd:	00000000a80425fb" \
	"$(printf '%s' "$out" | tr '\n' '|')"

ctr run -d "${RUNC[@]}" localhost/rt:1 d1 sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' </dev/null >/dev/null 2>"$T/err" ||
	fail "ctr run -d" "$(cat "$T/err")"
check_re "ctr tasks ls: running" "^d1 +[0-9]+ +RUNNING$" "$(ctr tasks ls | grep '^d1 ')"
out=$(ctr tasks exec --exec-id e1 d1 sh -c 'echo in-exec; exit 4' 2>&1 </dev/null)
rc=$?
check "ctr tasks exec: output and exit code" "in-exec 4" "$out $rc"
pid=$(ctr tasks ls | awk '$1 == "d1" {print $2}')
check_re "ctr tasks ps (runtime ps --format json): pid 1" "^$pid( |$)" "$(ctr tasks ps d1 | awk 'NR > 1 {print $1}' | tr '\n' ' ')"
ctr tasks kill d1 || fail "ctr tasks kill"
for i in $(seq 200); do ctr tasks ls | grep -q '^d1 .*STOPPED' && break; sleep 0.1; done
check_re "ctr tasks kill (TERM): stopped" "STOPPED$" "$(ctr tasks ls | grep '^d1 ')"
ctr tasks delete d1 >/dev/null || fail "ctr tasks delete"
ctr containers rm d1 || fail "ctr containers rm"

# -t: the shim's console socket gets the pty master
out=$(python3 -c 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)' \
	timeout 120 "$CTR" -a "$T/ctd.sock" run --rm -t "${RUNC[@]}" localhost/rt:1 t1 sh -c 'tty; exit 5' 2>&1 </dev/null)
rc=$?
check "ctr run -t: a pty, the exit code" "/dev/pts/0 5" "$(echo $(printf '%s' "$out" | tr -d '\r') $rc)"

check "nothing left: tasks, containers, runtime state" "||" \
	"$(ctr tasks ls -q | tr '\n' ' ')|$(ctr containers ls -q | tr '\n' ' ')|$(ls "$T/runc/default" 2>/dev/null)"
finish
