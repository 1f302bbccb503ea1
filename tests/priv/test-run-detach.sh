#!/bin/bash
# SPDX-License-Identifier: MIT
# Detaching from `img run -it` (issue 14): docker's ctrl-p ctrl-q and
# --detach-keys, driven through a pty (pty-run.py --detach types the keys once
# the container answered): img returns 0, the container runs on, keys that
# only begin the sequence reach the container, run --rm removes the
# container when it exits later; a bad --detach-keys is refused. img attach
# to a detached container: typed into, detached, again, its exit code.
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
PTY="$(dirname "$0")/pty-run.py"
N=tdt$$
prun() { timeout 60 python3 "$PTY" --detach "$1" "$IMG_BIN" --root "$STORE" run --cgroup-parent "$CGP" --network none "${@:2}"; }

out=$(prun '\x10\x11' -it --name ${N}a busybox sh -c 'echo ready; exec cat')
check_re "ctrl-p ctrl-q: img returns 0, the input reached the container first" $'hello-1\n.*rc=0$' "$out"
check "ctrl-p ctrl-q: the container runs on" "true" "$(img inspect -f '{{.State.Running}}' ${N}a)"
img exec ${N}a true
check "detached: exec into it still works" "0" "$?"
img rm -f ${N}a >/dev/null

out=$(prun '\x01y\r\x01x' -it --detach-keys ctrl-a,x --name ${N}b busybox sh -c 'echo ready; exec cat -v')
check_re "--detach-keys ctrl-a,x: detached with 0" "rc=0$" "$out"
check "--detach-keys: the running container" "true" "$(img inspect -f '{{.State.Running}}' ${N}b)"
for _ in $(seq 100); do [ "$(img logs ${N}b | grep -c '\^Ay')" -ge 2 ] && break; sleep 0.1; done
check "--detach-keys: a prefix of the keys then another key reached the container (its echo and cat -v: ^Ay), the keys did not" \
	"2 0" "$(img logs ${N}b | grep -c '\^Ay') $(img logs ${N}b | grep -c '\^Ax')"
img rm -f ${N}b >/dev/null

out=$(prun '\x10\x11' -it --rm --name ${N}c busybox sh -c 'echo ready; exec cat >/dev/null')
check_re "run --rm -it, detached: 0" "rc=0$" "$out"
id=$(img inspect -f '{{.Id}}' ${N}c 2>/dev/null)
check_re "run --rm -it, detached: still there" "^[0-9a-f]{64}$" "$id"
img kill ${N}c >/dev/null
for _ in $(seq 200); do [ -z "$(img ps -a -q --filter name=${N}c)" ] && break; sleep 0.1; done
check "run --rm -it, detached: removed once it exited" "" "$(img ps -a -q --filter name=${N}c)"

# img attach (issue 14): a -itd shell's pty, typed into, detached from
# with the default keys and with --detach-keys, attached again, left by its
# exit: attach's exit code is the container's
aprun() { timeout 60 python3 "$PTY" --detach "$1" --send "$2" ${3:+--expect "$3"} "$IMG_BIN" --root "$STORE" attach "${@:4}"; }
run -itd --network none --name ${N}d busybox sh >/dev/null
check "run -itd: running" "true" "$(img inspect -f '{{.State.Running}}' ${N}d)"
out=$(aprun '\x10\x11' 'echo at-$((6*7))' at-42 ${N}d)
check_re "attach: the typed command's output came back, ctrl-p ctrl-q left with 0" $'at-42\n.*rc=0$' "$out"
check "attach, detached: the container runs on" "true" "$(img inspect -f '{{.State.Running}}' ${N}d)"
out=$(aprun '\x18x' 'echo again-$((2+3))' again-5 --detach-keys ctrl-x,x ${N}d)
check_re "attach --detach-keys ctrl-x,x: attached again, detached with 0" $'again-5\n.*rc=0$' "$out"
check "attach --detach-keys: still running" "true" "$(img inspect -f '{{.State.Running}}' ${N}d)"
out=$(aprun '' 'exit 7' '' ${N}d)
check_re "attach, the shell exits 7: attach exits 7" "rc=7$" "$out"
check "attach: the container exited with 7" "false 7" "$(img inspect -f '{{.State.Running}} {{.State.ExitCode}}' ${N}d)"
check_fails "attach: a stopped container" "You cannot attach to a stopped container, start it first" img attach ${N}d
check_fails "attach: a bad --detach-keys" "Invalid detach keys \(ctrl-1\) provided" img attach --detach-keys ctrl-1 ${N}d
img rm -f ${N}d >/dev/null

# without -t: run -di keeps the stdin open for attach (docker's), which
# gives it the caller's stdin (a pipe here) and the output back
run -di --network none --name ${N}e busybox sh -c 'read x; echo got-$x; echo err-$x >&2; exit 3' >/dev/null
out=$(echo piped | timeout 60 "$IMG_BIN" --root "$STORE" attach ${N}e 2>"$T/attach.err"; echo "rc=$?")
check "attach -i without -t: stdin in, stdout out, the exit code" $'got-piped\nrc=3' "$out"
check "attach -i without -t: stderr apart" "err-piped" "$(cat "$T/attach.err")"
img rm -f ${N}e >/dev/null

# one client at a time; the container's end (img kill) ends attach with
# its code. Attached for sure once a line fed through it came back.
run -di --network none --name ${N}f busybox sh -c 'while read x; do echo got-$x; done' >/dev/null
mkfifo "$T/in"
timeout 60 "$IMG_BIN" --root "$STORE" attach ${N}f <"$T/in" >"$T/f.out" 2>&1 &
apid=$!
_PIDS+=($apid)
exec 7>"$T/in"
echo one >&7
for _ in $(seq 300); do grep -q got-one "$T/f.out" && break; sleep 0.1; done
check "attach: a line through it" "got-one" "$(cat "$T/f.out")"
check_fails "attach: a second client meanwhile" "another client is attached" img attach --no-stdin ${N}f
exec 7>&-
img kill ${N}f >/dev/null
wait $apid
check "attach: the container killed, attach exits 137" "137" "$?"
img rm -f ${N}f >/dev/null

check_fails "--detach-keys: a bad key" "Invalid detach keys \(ctrl-1\) provided" img run --rm --detach-keys ctrl-1 busybox true
finish
