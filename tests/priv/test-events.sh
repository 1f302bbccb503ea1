#!/bin/bash
# SPDX-License-Identifier: MIT
# img events through the real binary, as root (issue 14): the journal the
# commands and the monitor append to, docker's default line, --since,
# --until, --filter, --format, and the live stream without --until.
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
flat() { tr '\n' '|' | sed 's/|$//'; }
rc_err() { local out; out=$("$@" 2>&1 >/dev/null); echo "$?:$out"; }
wait_for() { local i; for i in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }
t0=$(date +%s)

# the live stream, started before anything happens
# (a journal first, so the stream opens it at once)
run --name warm busybox true >/dev/null 2>&1
"$IMG_BIN" --root "$STORE" events --filter container=ev1 --format '{{.Action}}' > "$T/live" 2>&1 &
live=$!
_PIDS+=($live)
is_open() { ls -l /proc/$live/fd 2>/dev/null | grep -q 'events.jsonl$'; }
wait_for is_open || fail "the stream opens the journal"

run --name ev1 -l team=a -v evvol:/v busybox sh -c 'exit 3' >/dev/null 2>&1
img rename ev1 ev1b
img rename ev1b ev1
img rm -v ev1 >/dev/null
img volume rm evvol >/dev/null
img tag busybox evimg:1
img rmi evimg:1 >/dev/null

out=$(img events --since "$t0" --until 0s --filter container=ev1)
check_re "docker's line: time, type, action, id, sorted attributes" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z container create [0-9a-f]{64} \(image=busybox, name=ev1, team=a\)$' \
	"$(echo "$out" | head -1)"
check "a container's life: create start die rename destroy" "create|start|die|rename|destroy" \
	"$(img events --since "$t0" --until 0s -f container=ev1 -f container=ev1b --format '{{.Action}}' | uniq | flat)"
check "die carries the exit code" "3" \
	"$(img events --since "$t0" --until 0s -f container=ev1 -f event=die --format '{{.Actor.Attributes.exitCode}}')"
check "rename carries the old name" "/ev1b" \
	"$(img events --since "$t0" --until 0s -f container=ev1 -f event=rename --format '{{.Actor.Attributes.oldName}}')"
check "volume events" "create|mount|destroy" \
	"$(img events --since "$t0" --until 0s -f type=volume -f volume=evvol --format '{{.Action}}' | flat)"
check "image events" "tag evimg:1|untag evimg:1" \
	"$(img events --since "$t0" --until 0s -f type=image -f image=evimg:1 --format '{{.Action}} {{.Actor.Attributes.name}}' | flat)"
check "--filter label=" "ev1" \
	"$(img events --since "$t0" --until 0s -f label=team=a -f event=create --format '{{.Actor.Attributes.name}}')"
check_re "--format json: docker's API object" '^\{"status":"create","id":"[0-9a-f]{64}","from":"busybox","Type":"container","Action":"create","Actor":\{"ID":"[0-9a-f]{64}","Attributes":\{' \
	"$(img events --since "$t0" --until 0s -f container=ev1 --format json | head -1)"
check "the Go struct's field names too" "create busybox local" \
	"$(img events --since "$t0" --until 0s -f container=ev1 --format '{{.Status}} {{.From}} {{.Scope}}' | head -1)"
check "--until before them: nothing" "" "$(img events --since "$t0" --until "$((t0 - 1))")"
check "--since later: nothing" "" "$(img events --since 0s --until 0s)"
check "an unknown filter" "125:img: invalid filter 'colour'" "$(rc_err img events --until 0s -f colour=red)"

# the stream saw them as they came
wait_for grep -q destroy "$T/live" && pass "the live stream follows the journal" || fail "the live stream follows the journal" "$(cat "$T/live")"
check "the live stream: only ev1, in order" "create|start|die|destroy" "$(grep -v rename "$T/live" | flat)"
kill "$live" 2>/dev/null
wait "$live" 2>/dev/null
check "the stream ends on SIGTERM, exit 0" "0" "$(kill -0 "$live" 2>/dev/null && echo running || echo 0)"
img rm -f warm >/dev/null 2>&1
finish
