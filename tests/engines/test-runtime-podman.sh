#!/bin/bash
# SPDX-License-Identifier: MIT
# img-runtime under podman (podman --runtime, through conmon): run --rm,
# run -d, exec, stop, logs, rm, -t, a limit, --cgroupns; podman's store and run dirs
# and the runtime's state in the test's temp dir; no network (--network
# none: podman's bridge would use addresses outside 127/8).
. "$(dirname "$0")/rtlib.sh"
pod_need
rt_setup

pod_setup

out=$(pod run --rm --network none localhost/rt:1 sh -c 'echo hello; exit 4' 2>&1 </dev/null)
rc=$?
check "podman run --rm: output and exit code" "hello 4" "$out $rc"
check "podman run --rm: removed" "" "$(pod ps -aq)"

out=$(pod run --rm --network none --memory 64m --pids-limit 50 localhost/rt:1 \
	cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>&1 </dev/null)
check "podman run: memory and pids limits" "67108864 50" "$(echo $out)"

# --device-read-bps / --device-write-iops: blockIO throttle rules in the spec
# (dropped before); a whole disk of the host
bdev=$(for d in /sys/dev/block/*; do [ -e "$d/partition" ] || [ ! -e "$d/queue" ] || basename "$d"; done | grep -v '^7:' | head -1)
bnode=$([ -n "$bdev" ] && sed -n 's,^DEVNAME=,/dev/,p' "/sys/dev/block/$bdev/uevent")
if [ -b "$bnode" ] && [ -d /sys/fs/cgroup/blkio ]; then
	out=$(pod run --rm --network none --device-read-bps "$bnode:1mb" --device-write-iops "$bnode:400" localhost/rt:1 \
		cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device 2>&1 </dev/null)
	check "podman run --device-read-bps, --device-write-iops: the v1 throttle files" "$bdev 1048576 $bdev 400" "$(echo $out)"
else
	skip "podman run --device-read-bps" "no whole disk node or no v1 blkio hierarchy"
fi

# podman's --cgroupns: a "cgroup" namespace in the spec it hands us (v1 here)
out=$(pod run --rm --network none --cgroupns private --pids-limit 40 localhost/rt:1 \
	sh -c 'grep -c -v ":/$" /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max' 2>&1 </dev/null)
check "podman run --cgroupns private: every hierarchy / inside, its pids limit mounted" "0 40" "$(echo $out)"
out=$(pod run --rm --network none --cgroupns host localhost/rt:1 grep -c -v ":/$" /proc/self/cgroup 2>&1 </dev/null)
check_re "podman run --cgroupns host: the host's paths" "^[1-9][0-9]*$" "$out"

out=$(pod run --rm -t --network none localhost/rt:1 sh -c 'tty; exit 6' 2>&1 </dev/null)
rc=$?
check "podman run -t: a pty through conmon's console socket" "/dev/pts/0 6" "$(echo $(printf '%s' "$out" | tr -d '\r') $rc)"

pod run -d --name d1 --network none localhost/rt:1 \
	sh -c 'echo started; trap "echo got-term; exit 0" TERM; while :; do sleep 0.1; done' >/dev/null </dev/null ||
	bail "podman run -d"
for i in $(seq 100); do pod logs d1 2>/dev/null | grep -q started && break; sleep 0.1; done
check_re "podman ps: Up" "Up " "$(pod ps --format '{{.Names}} {{.Status}}' | grep '^d1 ')"
out=$(pod exec d1 sh -c 'echo in-exec; exit 5' 2>&1 </dev/null)
rc=$?
check "podman exec: output and exit code" "in-exec 5" "$out $rc"
check "podman exec: in the container's pid namespace" "1" "$(pod exec d1 sh -c 'ps -o pid,args | grep -c "^ *1 .*while"' </dev/null)"
out=$(pod exec -t d1 sh -c 'tty; exit 2' 2>&1 </dev/null)
rc=$?
check_re "podman exec -t: a pty of the container's devpts, the exit code" "^/dev/pts/[0-9]+ 2$" \
	"$(echo $(printf '%s' "$out" | tr -d '\r') $rc)"
pod pause d1 >/dev/null || fail "podman pause"
check "podman pause (img-runtime pause): paused" "paused" "$(pod inspect --format '{{.State.Status}}' d1)"
pod unpause d1 >/dev/null || fail "podman unpause"
check "podman unpause (img-runtime resume): running" "running" "$(pod inspect --format '{{.State.Status}}' d1)"
pod stop -t 20 d1 >/dev/null || fail "podman stop"
check "podman stop: SIGTERM, the process's exit code" "exited 0" \
	"$(pod inspect -f '{{.State.Status}} {{.State.ExitCode}}' d1)"
check "podman logs" "started|got-term" "$(pod logs d1 2>&1 | tr '\n' '|' | sed 's/|$//')"
pod rm d1 >/dev/null || fail "podman rm"

pod run -d --name d2 --network none localhost/rt:1 sleep 1000 >/dev/null </dev/null || bail "podman run -d d2"
pod stop -t 1 d2 >/dev/null 2>&1 || fail "podman stop (KILL after the timeout)"
check "podman stop: a process ignoring SIGTERM killed after -t" "exited 137" \
	"$(pod inspect -f '{{.State.Status}} {{.State.ExitCode}}' d2)"
pod rm d2 >/dev/null || fail "podman rm d2"
pod run -d --name d3 --network none localhost/rt:1 sleep 1000 >/dev/null </dev/null || bail "podman run -d d3"
pod rm -f -t 0 d3 >/dev/null || fail "podman rm -f"

check "nothing left: containers, runtime state" "|" "$(pod ps -aq)|$(ls "$RTSTATE" 2>/dev/null)"
finish
