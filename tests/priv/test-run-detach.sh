#!/bin/bash
# SPDX-License-Identifier: MIT
# Detaching from `img run -it` (issue 14): docker's ctrl-p ctrl-q and
# --detach-keys, driven through a pty (pty-run.py --detach types the keys once
# the container answered): img returns 0, the container runs on, keys that
# only begin the sequence reach the container, run --rm removes the
# container when it exits later; a bad --detach-keys is refused.
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

check_fails "--detach-keys: a bad key" "Invalid detach keys \(ctrl-1\) provided" img run --rm --detach-keys ctrl-1 busybox true
finish
