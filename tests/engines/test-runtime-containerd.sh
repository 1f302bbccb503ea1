#!/bin/bash
# SPDX-License-Identifier: MIT
# img-runtime under containerd: Debian's containerd started by the test
# (config, root, state and socket in its temp dir, stopped by its PID), an
# image imported from an OCI archive, containers run by ctr with the runc
# shim pointed at img-runtime (--runc-binary, --runc-root in the temp dir).
. "$(dirname "$0")/rtlib.sh"
ctd_need
rt_setup

ctd_setup

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
# pause / resume: the shim runs `img-runtime pause`, then reads `state`
ctr tasks pause d1 || fail "ctr tasks pause"
fz=/sys/fs/cgroup/freezer$(awk -F: '$2 == "freezer" {print $3}' /proc/$pid/cgroup)
check_re "ctr tasks pause: PAUSED, the freezer FROZEN" "PAUSED FROZEN$" "$(echo $(ctr tasks ls | grep '^d1 ') $(cat "$fz/freezer.state"))"
ctr tasks resume d1 || fail "ctr tasks resume"
check_re "ctr tasks resume: RUNNING, THAWED" "RUNNING THAWED$" "$(echo $(ctr tasks ls | grep '^d1 ') $(cat "$fz/freezer.state"))"
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
