#!/bin/bash
# SPDX-License-Identifier: MIT
# The run flags scripts use (issue 14), through the real binary as root:
# --init (our img-init as pid 1: reaps zombies, passes signals, the exit
# code), --cidfile, --stop-signal/--stop-timeout (and the image's
# STOPSIGNAL), --sysctl (namespaced only), --group-add, --cpuset-cpus,
# --memory-reservation, --oom-kill-disable, --blkio-weight (cgroup v1 here;
# docker's warning where the kernel has no weight).
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
. "$(dirname "$0")/../lib/ports.sh" # free_port
flat() { tr '\n' '|' | sed 's/|$//'; }
rc_err() { local out; out=$("$@" 2>&1 >/dev/null); echo "$?:$out"; }
# wait_for CMD...: poll (up to 30 s) until CMD succeeds
wait_for() { local i; for i in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }

# ------------------------------------------------------------ --init
out=$(run --rm --init busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "; readlink /proc/1/exe')
check_re "--init: img-init is pid 1, from a sealed memfd" '^img-init -- sh -c .*memfd:img-init' "$(echo "$out" | flat)"
check "--init: the command's exit code" "7" "$(run --rm --init busybox sh -c 'exit 7' >/dev/null 2>&1; echo $?)"
check "--init: a missing command is 127" "127" "$(run --rm --init busybox nope >/dev/null 2>&1; echo $?)"
# zombies: an orphan's parent dies; pid 1 must reap it
id=$(run -d --init busybox sh -c '(sh -c "sleep 0.2 & exec true") ; sleep 60')
# reaped: the orphan's sleep ends, and no zombie stays (only the command's sleep left)
reaped() { [ "$(img exec "$id" ps -o stat,comm | awk '$1 ~ /^Z/ || $2 == "sleep"' | flat)" = "S    sleep" ]; }
wait_for reaped && pass "--init reaps the orphans re-parented to it" ||
	fail "--init reaps the orphans re-parented to it" "$(img exec "$id" ps -o pid,ppid,stat,comm)"
img rm -f "$id" >/dev/null
# signals pass through to the command (docker stop's SIGTERM)
id=$(run -d --init busybox sh -c 'trap "echo term; exit 9" TERM; while :; do sleep 0.1; done')
wait_for sh -c "$IMG_BIN --root $STORE top $id | grep -q sleep"
img stop -t 20 "$id" >/dev/null
check "--init passes SIGTERM to the command" "term 9" "$(img logs "$id") $(img inspect -f '{{.State.ExitCode}}' "$id")"
img rm -f "$id" >/dev/null
out=$(run --rm busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "')
check "without --init the command is pid 1" "sh -c cat /proc/1/cmdline | tr \"\\0\" \" \" " "$out"

# ------------------------------------------------------------ --env-file (docker/cli opts/file.go's rules)
printf '\357\273\277A=1\n  B=two words  \n# comment\n\nFROMHOST\nUNSETHOST\nC=file\n' >"$T/env1"
out=$(FROMHOST=h run --rm --env-file "$T/env1" -e C=cli busybox sh -c \
	'echo "$A|$B|$FROMHOST|${UNSETHOST-unset}|$C"')
check "--env-file: BOM, comments, untrimmed value, bare name from the caller, -e after it wins" \
	"1|two words  |h|unset|cli" "$out"
printf 'A=1\nMY VAR=x\n' >"$T/env2"
n0=$(img ps -aq | wc -l)
check "--env-file: a name with a space is docker's error, exit 125" \
	"img: env file $T/env2: poorly formatted environment: variable 'MY VAR' contains whitespaces|125" \
	"$(run --rm --env-file "$T/env2" busybox true 2>&1 | flat; echo "|${PIPESTATUS[0]}")"
printf 'A=\377\n' >"$T/env3"
check "--env-file: invalid UTF-8 refused with its line, exit 125" \
	"img: env file $T/env3 contains invalid utf8 bytes at line 1|125" \
	"$(run --rm --env-file "$T/env3" busybox true 2>&1 | flat; echo "|${PIPESTATUS[0]}")"
check "--env-file: a missing file, exit 125" "125" "$(run --rm --env-file "$T/nope" busybox true 2>/dev/null; echo $?)"
check "--env-file: nothing created on an error" "$n0" "$(img ps -aq | wc -l)"

# ------------------------------------------------------------ --cidfile, --stop-signal, --stop-timeout
id=$(run -d --cidfile "$T/cid" --stop-signal USR1 --stop-timeout 30 busybox sh -c 'trap "echo usr1; exit 5" USR1; while :; do sleep 0.1; done')
check "--cidfile: the full id" "$id" "$(cat "$T/cid")"
check "--cidfile that exists: docker's error" \
	"125:img: Container ID file found, make sure the other container isn't running or delete $T/cid" \
	"$(rc_err run -d --cidfile "$T/cid" busybox true)"
wait_for sh -c "$IMG_BIN --root $STORE top $id | grep -q sleep"
img stop "$id" >/dev/null
check "--stop-signal: img stop sends it" "usr1 5" "$(img logs "$id") $(img inspect -f '{{.State.ExitCode}}' "$id")"
check "inspect: StopSignal, StopTimeout, ContainerIDFile" "SIGUSR1 30 $T/cid" \
	"$(img inspect -f '{{.Config.StopSignal}} {{.Config.StopTimeout}} {{.HostConfig.ContainerIDFile}}' "$id")"
img rm -f "$id" >/dev/null
# --stop-timeout: SIGKILL after it (a container ignoring SIGTERM)
id=$(run -d --stop-timeout 1 busybox sh -c 'trap "" TERM; while :; do sleep 0.1; done')
wait_for sh -c "$IMG_BIN --root $STORE top $id | grep -q sleep"
img stop "$id" >/dev/null
check "--stop-timeout: killed after it" "137" "$(img inspect -f '{{.State.ExitCode}}' "$id")"
img rm -f "$id" >/dev/null
# the image's STOPSIGNAL
ctr=$(img create busybox true)
img commit -c 'STOPSIGNAL SIGUSR2' "$ctr" sigimg >/dev/null
img rm "$ctr" >/dev/null
id=$(run -d sigimg sh -c 'trap "echo usr2; exit 6" USR2; while :; do sleep 0.1; done')
wait_for sh -c "$IMG_BIN --root $STORE top $id | grep -q sleep"
img stop "$id" >/dev/null
check "the image's STOPSIGNAL" "usr2 6 SIGUSR2" "$(img logs "$id") $(img inspect -f '{{.State.ExitCode}} {{.Config.StopSignal}}' "$id")"
img rm -f "$id" >/dev/null

# ------------------------------------------------------------ --sysctl, --group-add
out=$(run --rm --sysctl net.ipv4.ip_forward=1 --sysctl kernel.shmmax=123456789 --sysctl fs.mqueue.msg_max=20 busybox \
	cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max)
check "--sysctl: net, kernel.shm*, fs.mqueue in the container's namespaces" "1|123456789|20" "$(echo "$out" | flat)"
check "--sysctl: the host's are untouched" "$(cat /proc/sys/kernel/shmmax)" "$(cat /proc/sys/kernel/shmmax)"
[ "$(cat /proc/sys/kernel/shmmax)" != 123456789 ] && pass "--sysctl: not the host's kernel.shmmax" || fail "--sysctl: not the host's kernel.shmmax"
check "--sysctl not namespaced: docker's error" "125:img: sysctl 'kernel.hostname' is not allowed" \
	"$(rc_err run --rm --sysctl kernel.hostname=x busybox true)"
check "--sysctl net.* with --network host" "125:img: sysctl 'net.ipv4.ip_forward' not allowed in host network namespace" \
	"$(rc_err run --rm --network host --sysctl net.ipv4.ip_forward=1 busybox true)"
check "inspect .HostConfig.Sysctls" "map[kernel.shmmax:1]" \
	"$(img inspect -f '{{.HostConfig.Sysctls}}' "$(img create --sysctl kernel.shmmax=1 busybox true)")"
out=$(run --rm --group-add 1234 --group-add 10 busybox id -G)
check "--group-add: extra groups" "0 10 1234" "$(echo "$out" | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')"
check_re "--group-add of an unknown group name" 'Unable to find group nogroupx' "$(run --rm --group-add nogroupx busybox true 2>&1)"

# ------------------------------------------------------------ cgroup flags (v1 here)
if [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/cpuset ]; then
	out=$(run --rm --cpuset-cpus 0 --memory-reservation 50m -m 100m --oom-kill-disable busybox \
		sh -c 'grep Cpus_allowed_list /proc/self/status | cut -f2; cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes; grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control')
	check "--cpuset-cpus, --memory-reservation, --oom-kill-disable" "0|52428800|oom_kill_disable 1" "$(echo "$out" | flat)"
	check "no cpuset group left" "" "$(ls /sys/fs/cgroup/cpuset/$CGP 2>/dev/null)"
else
	skip "cgroup v1 flags" "no v1 memory and cpuset hierarchies"
fi
check "--cpuset-cpus syntax" "125:img: Invalid value 1-0 for cpuset cpus" "$(rc_err run --rm --cpuset-cpus 1-0 busybox true)"
check "--blkio-weight range" "125:img: Range of blkio weight is from 10 to 1000" "$(rc_err run --rm --blkio-weight 5 busybox true)"
check "--memory-reservation above -m" \
	"125:img: Minimum memory limit can not be less than memory reservation limit, see usage" \
	"$(rc_err run --rm -m 10m --memory-reservation 20m busybox true)"
if ls /sys/fs/cgroup/blkio/blkio.weight /sys/fs/cgroup/blkio/blkio.bfq.weight >/dev/null 2>&1; then
	check "--blkio-weight" "300" "$(run --rm --blkio-weight 300 busybox sh -c 'cat /sys/fs/cgroup/blkio/blkio*weight | head -1')"
else
	check "--blkio-weight without a weight file: docker's warning" \
		"WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded." \
		"$(run --rm --blkio-weight 300 busybox true 2>&1)"
fi
check "inspect: the limits" "52428800 true 0-1 true" \
	"$(img inspect -f '{{.HostConfig.MemoryReservation}} {{.HostConfig.OomKillDisable}} {{.HostConfig.CpusetCpus}} {{.HostConfig.Init}}' \
		"$(img create --memory-reservation 50m -m 100m --oom-kill-disable --cpuset-cpus 0-1 --init busybox true 2>/dev/null)")"

# ------------------------------------------------------------ ps exited=, stats --format
run --name ex3 busybox sh -c 'exit 3' >/dev/null 2>&1
run --name ex0 busybox true >/dev/null 2>&1
id=$(run -d --name up1 busybox sleep 60)
check "ps --filter exited=3 (every state looked at)" "ex3" "$(img ps --format '{{.Names}}' -f exited=3)"
check "ps --filter status=exited" "ex0|ex3" "$(img ps --format '{{.Names}}' -f status=exited | flat)"
check "ps --filter status=running" "up1" "$(img ps --format '{{.Names}}' -f status=running)"
check_re "stats --format" '^up1 [0-9]+\.[0-9]{2}% [0-9]+$' "$(img stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.PIDs}}' up1)"
check_re "stats --format 'table ...'" '^NAME +PIDS\|up1 +1$' "$(img stats --no-stream --format 'table {{.Name}}\t{{.PIDs}}' up1 | flat)"
check_re "stats --format json" '^\{"BlockIO":".*","Container":"up1",.*"Name":"up1",.*"PIDs":"1"\}$' "$(img stats --no-stream --format json up1)"
check "stats --format with an unknown field: docker's error" \
	"125:img: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.statsContext" \
	"$(rc_err img stats --no-stream --format '{{.Nope}}' up1)"
img rm -f ex3 ex0 up1 >/dev/null

# ------------------------------------------------------------ health checks
hstat() { img inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null; }
id=$(run -d --name hc1 --health-cmd 'test -e /tmp/ok && echo fine' --health-interval 100ms --health-retries 1000 busybox \
	sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; touch /tmp/ok; sleep 60')
check "--health-cmd: starting first" "starting" "$(hstat hc1)"
check_re "ps shows (health: starting)" '^Up .* \(health: starting\)$' "$(img ps -f name=hc1 --format '{{.Status}}')"
img exec hc1 touch /tmp/go
wait_for sh -c "[ \"\$($IMG_BIN --root $STORE inspect -f '{{.State.Health.Status}}' hc1)\" = healthy ]" &&
	pass "then healthy once the check passes" || fail "then healthy once the check passes" "$(hstat hc1)"
check_re "ps shows (healthy)" '^Up .* \(healthy\)$' "$(img ps -f name=hc1 --format '{{.Status}}')"
check "ps --filter health=healthy" "hc1" "$(img ps -f health=healthy --format '{{.Names}}')"
check "the check's output and exit code in State.Health.Log" "0 fine" \
	"$(img inspect -f '{{with $l := index .State.Health.Log 0}}{{end}}{{range .State.Health.Log}}{{if eq .ExitCode 0}}{{.ExitCode}} {{.Output}}{{end}}{{end}}' hc1 | head -c 7)"
check "Config.Healthcheck" '{"Test":["CMD-SHELL","test -e /tmp/ok \u0026\u0026 echo fine"],"Interval":100000000,"Retries":1000}' \
	"$(img inspect -f '{{json .Config.Healthcheck}}' hc1 | sed 's/&/\\u0026/g')"
check "a health_status event" "health_status: healthy" \
	"$(img events --since 5m --until 0s -f container=hc1 -f event=health_status --format '{{.Action}}' | tail -1)"
img rm -f hc1 >/dev/null
run -d --name hc2 --health-cmd false --health-interval 100ms --health-retries 2 busybox sleep 60 >/dev/null
wait_for sh -c "[ \"\$($IMG_BIN --root $STORE inspect -f '{{.State.Health.Status}}' hc2)\" = unhealthy ]" &&
	pass "unhealthy after --health-retries failures" || fail "unhealthy after --health-retries failures" "$(hstat hc2)"
check_re "FailingStreak" '^[2-9]' "$(img inspect -f '{{.State.Health.FailingStreak}}' hc2)"
img rm -f hc2 >/dev/null
run -d --name hc3 --health-cmd 'sleep 10' --health-interval 100ms --health-timeout 200ms busybox sleep 60 >/dev/null
wait_for sh -c "$IMG_BIN --root $STORE inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' hc3 | grep -q 'exceeded timeout'" &&
	pass "--health-timeout: docker's text, exit -1" || fail "--health-timeout: docker's text, exit -1" "$(img inspect -f '{{json .State.Health}}' hc3)"
img rm -f hc3 >/dev/null
# in the start period failures do not count (docker): three failed checks
# logged, still "starting", no streak; the period kept in the config
run -d --name hc6 --health-cmd false --health-interval 100ms --health-retries 1 --health-start-period 1h busybox sleep 600 >/dev/null
wait_for sh -c "[ \"\$($IMG_BIN --root $STORE inspect -f '{{len .State.Health.Log}}' hc6)\" -ge 3 ]" &&
	pass "--health-start-period: the checks run" || fail "--health-start-period: the checks run" "$(img inspect -f '{{json .State.Health}}' hc6)"
check "--health-start-period: failures in it do not count" "starting 0" \
	"$(img inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' hc6)"
check "--health-start-period in Config.Healthcheck" "3600000000000" "$(img inspect -f '{{.Config.Healthcheck.StartPeriod}}' hc6)"
img rm -f hc6 >/dev/null
ctr=$(img create busybox true)
img commit -c 'HEALTHCHECK --interval=100ms --retries=5 CMD true' "$ctr" hcimg >/dev/null
img rm "$ctr" >/dev/null
run -d --name hc4 hcimg sleep 60 >/dev/null
wait_for sh -c "[ \"\$($IMG_BIN --root $STORE inspect -f '{{.State.Health.Status}}' hc4)\" = healthy ]" &&
	pass "the image's HEALTHCHECK" || fail "the image's HEALTHCHECK" "$(hstat hc4)"
run -d --name hc5 --no-healthcheck hcimg sleep 60 >/dev/null
check_re "--no-healthcheck: no health, ps without it" '^Up [^(]*$' "$(img ps -f name=hc5 --format '{{.Status}}')"
check "--no-healthcheck with --health-cmd" "125:img: --no-healthcheck conflicts with --health-* options" \
	"$(rc_err run --rm --no-healthcheck --health-cmd true busybox true)"
check "--health-interval below 1ms" "125:img: Interval in Healthcheck cannot be less than 1ms" \
	"$(rc_err run --rm --health-cmd true --health-interval 10us busybox true)"
img rm -f hc4 hc5 >/dev/null

# ------------------------------------------------------------ --log-driver, --log-opt
run --name lg1 --log-opt max-size=1k --log-opt max-file=3 busybox \
	sh -c 'i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done' >/dev/null
bundle=$(dirname "$(img inspect -f '{{.GraphDriver.Data.MergedDir}}' lg1)")
check "max-size, max-file: ctr.log and two rotated files, each about max-size" "3 yes" \
	"$(ls "$bundle" | grep -c '^ctr\.log') $(for f in "$bundle"/ctr.log*; do [ "$(stat -c %s "$f")" -le 1200 ] || echo no; done | grep -q no && echo no || echo yes)"
out=$(img logs lg1)
check "logs reads the rotated files, oldest first: the newest lines, in order" "line99" "$(echo "$out" | tail -1)"
check "the oldest lines were dropped" "" "$(echo "$out" | grep -x line0)"
check "logs --tail over the current file" "line99" "$(img logs --tail 1 lg1)"
check "LogConfig in inspect" '{"Type":"json-file","Config":{"max-size":"1024","max-file":"3"}}' \
	"$(img inspect -f '{{json .HostConfig.LogConfig}}' lg1)"
out=$(run --name lg2 --log-driver none busybox echo hi)
check "--log-driver none: the foreground still sees the output" "hi" "$out"
check "--log-driver none: logs refuses, docker's text and exit 1" \
	"1:img: configured logging driver does not support reading" "$(rc_err img logs lg2)"
check "an unknown driver" "125:img: logging driver 'syslog' is not supported here (json-file, none)" \
	"$(rc_err run --rm --log-driver syslog busybox true)"
check "an unknown log opt" "125:img: unknown log opt 'foo' for json-file log driver" \
	"$(rc_err run --rm --log-opt foo=1 busybox true)"
img rm -f lg1 lg2 >/dev/null

# ------------------------------------------------------------ --network container:X
run -d --name nsrv busybox sh -c 'mkdir -p /www && echo hello > /www/x && exec httpd -f -p 127.0.0.1:8080 -h /www' >/dev/null
listening() { img exec nsrv sh -c 'netstat -ltn 2>/dev/null | grep -q 127.0.0.1:8080'; }
wait_for listening || note "httpd did not show as listening"
check "--network container:X: X's interfaces" \
	"$(img exec nsrv cat /sys/class/net/eth0/address)" \
	"$(run --rm --network container:nsrv busybox cat /sys/class/net/eth0/address)"
check "--network container:X: X's loopback (its 127.0.0.1 server)" "hello" \
	"$(run --rm --network container:nsrv busybox wget -qO- http://127.0.0.1:8080/x)"
check "inspect: NetworkMode container:ID" "container:$(img inspect -f '{{.Id}}' nsrv)" \
	"$(img inspect -f '{{.HostConfig.NetworkMode}}' "$(img create --network container:nsrv busybox true)")"
check "--network container:X with -p: docker's error" \
	"125:img: conflicting options: port publishing and the container type network mode" \
	"$(rc_err run --rm --network container:nsrv -p 80 busybox true)"
check "--network container:X with -h" "125:img: conflicting options: hostname and the network mode" \
	"$(rc_err run --rm --network container:nsrv -h x busybox true)"
img stop -t 0 nsrv >/dev/null
check "--network container:X of a stopped X" "125:img: cannot join network of a non running container: nsrv" \
	"$(rc_err run --rm --network container:nsrv busybox true)"
img rm -f nsrv >/dev/null

# ------------------------------------------------------------ -P, --expose
ctr=$(img create busybox true)
img commit -c 'EXPOSE 80 53/udp' "$ctr" expimg >/dev/null
img rm "$ctr" >/dev/null
PF=$(free_port)
id=$(run -d -P --expose 8080 -p 127.0.0.1:$PF:80 expimg sleep 60)
out=$(img port "$id" | sort)
check_re "-P: --expose and the image's EXPOSE to free host ports; a -p one kept" \
	'^53/udp -> 0\.0\.0\.0:[0-9]+\|80/tcp -> 127\.0\.0\.1:'"$PF"'\|8080/tcp -> 0\.0\.0\.0:[0-9]+$' "$(echo "$out" | flat)"
check "ps --filter publish= sees -P's ports" "$(img ps -q -f id="$id")" "$(img ps -q -f publish=8080)"
img rm -f "$id" >/dev/null
# --sig-proxy: a signal to the foreground img reaches the container, or not
for sp in true false; do
	"$IMG_BIN" --root "$STORE" run --name "sp$sp" --cgroup-parent "$CGP" --sig-proxy=$sp busybox \
		sh -c 'trap "echo got; exit 5" USR1; i=0; while [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done; echo timeout' >/dev/null 2>&1 &
	fg=$!
	_PIDS+=($fg)
	wait_for sh -c "$IMG_BIN --root $STORE top sp$sp 2>/dev/null | grep -q sleep"
	kill -USR1 "$fg"
	timeout 30 "$IMG_BIN" --root "$STORE" wait "sp$sp" >/dev/null
done
check "--sig-proxy (default true): the signal is passed on" "got 5" "$(img logs sptrue) $(img inspect -f '{{.State.ExitCode}}' sptrue)"
check "--sig-proxy=false: not passed on" "timeout 0" "$(img logs spfalse) $(img inspect -f '{{.State.ExitCode}}' spfalse)"
img rm -f sptrue spfalse >/dev/null
check "--expose with a bad range" "125:img: invalid range format for --expose: 90-80" "$(rc_err run --rm --expose 90-80 busybox true)"
finish
