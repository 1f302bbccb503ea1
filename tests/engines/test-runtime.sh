#!/bin/bash
# SPDX-License-Identifier: MIT
# img-runtime driven directly with runc's command line on bundles of a
# busybox rootfs: the lifecycle (create/start/state/kill/delete, run, exec,
# ps), features, spec, the global flags, and one check per config.json
# field the runtime reads (docs/runner.md).
. "$(dirname "$0")/rtlib.sh"
rt_setup

# bundle NAME PY [ARG...]: $T/b-NAME from `img-runtime spec`, terminal off,
# root $T/rootfs read-write, process.args ARGs if given, then the python
# statements PY on c (the spec; pr = c["process"], lx = c["linux"])
bundle() {
	local n=$1 py=$2 b=$T/b-$1
	shift 2
	mkdir -p "$b"
	rm -f "$b/config.json"
	rt spec --bundle "$b" || bail "spec --bundle $b"
	python3 - "$b/config.json" "$T" "$py" "$@" <<'EOF' || bail "bundle $n"
import json, sys
p, T, code = sys.argv[1:4]
c = json.load(open(p))
pr, lx = c["process"], c["linux"]
pr["terminal"] = False
c["root"] = {"path": T + "/rootfs", "readonly": False}
if len(sys.argv) > 4:
    pr["args"] = sys.argv[4:]
exec(code)
json.dump(c, open(p, "w"))
EOF
}
# runb NAME PY ARG...: run it in the foreground: output in $OUT, exit in $RC
runb() {
	bundle "$@"
	OUT=$(rt run --bundle "$T/b-$1" "$1" 2>&1 </dev/null)
	RC=$?
}

# ---------------------------------------------------------------- lifecycle
bundle life '' sleep 1000
rt create --bundle "$T/b-life" --pid-file "$T/life.pid" life </dev/null >/dev/null 2>"$T/err" ||
	bail "create: $(cat "$T/err")"
pid=$(cat "$T/life.pid")
st() { rt state "$1" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j["pid"], j["id"], j["ociVersion"], j["bundle"])'; }
check "create: state created, the pid file's pid" "created $pid life 1.0.2 $T/b-life" "$(st life)"
check "create: pid 1 waits on the exec fifo (not yet sleep)" "yes" \
	"$([ "$(cat /proc/$pid/comm)" != sleep ] && echo yes || echo no)"
check_false "create: an id in use is refused" rt create --bundle "$T/b-life" life
rt start life || fail "start"
check "start: running" "running $pid" "$(st life | cut -d' ' -f1-2)"
check "start: pid 1 is the process" "sleep" "$(cat /proc/$pid/comm)"
check_false "start: a running container is refused" rt start life
check "ps --format json: pid 1" "[$pid]" "$(rt ps --format json life)"
check "exec: output and exit code" "in-exec 7" "$(echo $(rt exec life sh -c 'echo in-exec; exit 7') $?)"
check "exec: in the container's pid namespace" "1" "$(rt exec life sh -c 'ps -o pid,comm | grep -c " sleep"')"
printf '{"args":["sh","-c","echo $FOO $(pwd) $(id -u)"],"env":["FOO=bar","PATH=/bin"],"cwd":"/tmp","user":{"uid":65534,"gid":65534}}' >"$T/proc.json"
check "exec --process: args, env, cwd, user" "bar /tmp 65534" "$(rt exec --process "$T/proc.json" life)"
rt exec -d --pid-file "$T/ex.pid" life sleep 300 </dev/null >/dev/null 2>&1
xp=$(cat "$T/ex.pid" 2>/dev/null)
check "exec -d --pid-file: the process runs, its host pid" "sleep" "$(cat /proc/${xp:-0}/comm 2>/dev/null)"
check "ps: both processes" "2" "$(rt ps --format json life | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
# pause, resume, update, events: the container's own cgroup (v1 here)
cgof() { awk -F: -v c="$1" '$2 == c {print $3}' /proc/$pid/cgroup; }
fz=/sys/fs/cgroup/freezer$(cgof freezer) mg=/sys/fs/cgroup/memory$(cgof memory)
pg=/sys/fs/cgroup/pids$(cgof pids) cg=/sys/fs/cgroup/cpu$(cgof cpu)
rt pause life || fail "pause"
check "pause: state paused, the freezer FROZEN" "paused FROZEN" "$(st life | cut -d' ' -f1) $(cat "$fz/freezer.state")"
check_false "pause: a paused container is refused" rt pause life
rt resume life || fail "resume"
check "resume: state running, THAWED" "running THAWED" "$(st life | cut -d' ' -f1) $(cat "$fz/freezer.state")"
check_false "resume: a running container is not paused" rt resume life
rt update --memory 48m --pids-limit 50 --cpu-quota 20000 --cpu-period 100000 --cpu-shares 300 life || fail "update"
check "update (runc's flags): memory, pids, cpu quota and shares in the cgroup" "50331648 50 20000 300" \
	"$(echo $(cat "$mg/memory.limit_in_bytes" "$pg/pids.max" "$cg/cpu.cfs_quota_us" "$cg/cpu.shares"))"
echo '{"memory": {"limit": 33554432}, "pids": {"limit": 60}}' >"$T/res.json"
rt update --resources "$T/res.json" life || fail "update --resources"
check "update --resources FILE: its fields, the earlier update's kept" "33554432 60 20000" \
	"$(echo $(cat "$mg/memory.limit_in_bytes" "$pg/pids.max" "$cg/cpu.cfs_quota_us"))"
echo '{"pids": {"limit": 70}}' | rt update -r - life || fail "update -r -"
check "update -r - (stdin)" "70" "$(cat "$pg/pids.max")"
check_false "update: a blockIO weight out of 10..1000 is refused" rt update --blkio-weight 5 life
check_false "update: a bad --memory is refused" rt update --memory lots life
rt events --stats life >"$T/ev.json" 2>&1 || fail "events --stats" "$(cat "$T/ev.json")"
check "events --stats: runc's stats event (pids, memory, cpu of the cgroup)" "stats life 2 True True" \
	"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); d=j["data"]
print(j["type"], j["id"], d["pids"]["current"], d["memory"]["usage"]["usage"] > 0, d["cpu"]["usage"]["total"] > 0)' "$T/ev.json" 2>&1)"
check_false "delete: a running container needs -f" rt delete life
rt kill life KILL || fail "kill KILL"
for i in $(seq 100); do [ "$(st life | cut -d' ' -f1)" = stopped ] && break; sleep 0.1; done
check "kill: stopped, pid 0" "stopped 0" "$(st life | cut -d' ' -f1-2)"
check_false "kill: a stopped container: not running" rt kill life KILL
check_false "pause: a stopped container is refused" rt pause life
check_false "update: a stopped container is refused" rt update --pids-limit 10 life
check_false "events --stats: a stopped container is refused" rt events --stats life
check_false "start: a stopped container is refused" rt start life
rt delete life || fail "delete"
check_false "delete: state gone" rt state life
check "delete: nothing left in the state dir" "" "$(ls "$RTSTATE")"

bundle lf2 '' sleep 1000
rt create --bundle "$T/b-lf2" lf2 </dev/null >/dev/null 2>&1
rt start lf2
rt exec -d lf2 sleep 300 </dev/null >/dev/null 2>&1
rt kill --all lf2 KILL || fail "kill --all"
for i in $(seq 100); do [ "$(rt ps --format json lf2)" = "[]" ] && break; sleep 0.1; done
check "kill --all: every process of the cgroup" "[]" "$(rt ps --format json lf2)"
rt delete -f lf2
bundle lf3 '' sleep 1000
rt create --bundle "$T/b-lf3" lf3 </dev/null >/dev/null 2>&1
rt delete -f lf3 || fail "delete -f a created container"
check_false "delete -f: a created container removed" rt state lf3

runb run1 '' sh -c 'echo out; echo err >&2; exit 3'
check "run: output and exit code" "out|err|3" "$(printf '%s' "$OUT" | tr '\n' '|')|$RC"
check_false "run: removed after" rt state run1

# ---------------------------------------------------------------- CLI
check "features: JSON with namespaces and seccomp" "True True" \
	"$(rt features | python3 -c 'import json,sys; j=json.load(sys.stdin); print("pid" in j["linux"]["namespaces"], j["linux"]["seccomp"]["enabled"])')"
check_false "spec: an existing config.json is kept" rt spec --bundle "$T/b-run1"
out=$("$IMG_RUNTIME" --root "$RTSTATE" --systemd-cgroup state x 2>&1)
check_re "--systemd-cgroup refused" "systemd cgroup driver is not supported" "$out"
"$IMG_RUNTIME" --root "$RTSTATE" --log "$T/log.json" --log-format json state nosuch 2>/dev/null
check "--log --log-format json: the error as a JSON line" 'error container "nosuch" does not exist' \
	"$(python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).readline()); print(j["level"], j["msg"].split(": ",1)[1])' "$T/log.json")"
"$IMG_RUNTIME" --root "$RTSTATE" --log "$T/log.txt" --log-format text state nosuch 2>/dev/null
check_re "--log-format text" 'level=error msg=".*does not exist"' "$(cat "$T/log.txt")"
check_false "--log-format other refused" "$IMG_RUNTIME" --log-format xml state x

# ---------------------------------------------------------------- config.json
runb args '' sh -c 'echo "$0" "$1"' a b
check "process.args" "a b" "$OUT"
runb env 'pr["env"] = ["PATH=/bin", "K=v w"]' sh -c 'echo "$K"'
check "process.env" "v w" "$OUT"
runb cwd 'pr["cwd"] = "/tmp"' pwd
check "process.cwd" "/tmp" "$OUT"
runb user 'pr["user"] = {"uid": 65534, "gid": 100, "additionalGids": [65534]}' id
check "process.user: uid, gid, additionalGids" "uid=65534(nobody) gid=100(users) groups=100(users),65534(nogroup)" "$OUT"
runb caps 'pr["capabilities"] = {k: ["CAP_CHOWN", "CAP_KILL"] for k in ("bounding", "effective", "permitted")}' \
	grep -E '^Cap(Bnd|Eff)' /proc/self/status
check "process.capabilities" "CapEff:	0000000000000021|CapBnd:	0000000000000021" "$(printf '%s' "$OUT" | tr '\n' '|')"
# an unknown name: ignored with a warning (runc's "ignoring unknown or
# unavailable capabilities"), each once, the rest applied
runb capx 'pr["capabilities"] = {k: ["CAP_CHOWN", "CAP_NOPE", "CAP_KILL"] for k in ("bounding", "effective", "permitted")}
pr["capabilities"]["ambient"] = ["CAP_ALSO_NOPE"]' grep CapBnd /proc/self/status
check "process.capabilities: unknown names ignored with one warning, the known ones applied" \
	"img-runtime: warning: ignoring unknown or unavailable capabilities: CAP_NOPE CAP_ALSO_NOPE|CapBnd:	0000000000000021|0" \
	"$(printf '%s' "$OUT" | tr '\n' '|')|$RC"
runb rlim 'pr["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]' sh -c 'ulimit -n; ulimit -Hn'
check "process.rlimits" "123 456" "$(echo $OUT)"
runb nnp 'pr["noNewPrivileges"] = True' grep NoNewPrivs /proc/self/status
check "process.noNewPrivileges true" "NoNewPrivs:	1" "$OUT"
runb nnp0 'pr["noNewPrivileges"] = False' grep NoNewPrivs /proc/self/status
check "process.noNewPrivileges false" "NoNewPrivs:	0" "$OUT"
runb oom 'pr["oomScoreAdj"] = 567' cat /proc/self/oom_score_adj
check "process.oomScoreAdj" "567" "$OUT"
# process.terminal: the pty master through the console socket
bundle tty 'pr["terminal"] = True' sh -c 'tty; echo on-tty'
python3 "$RT_DIR/console-recv.py" "$T/console.sock" >"$T/console.out" 2>&1 &
cpid=$!
_PIDS+=("$cpid")
for i in $(seq 100); do [ -S "$T/console.sock" ] && break; sleep 0.1; done
rt create --bundle "$T/b-tty" --console-socket "$T/console.sock" tty </dev/null >/dev/null 2>"$T/err" || fail "create --console-socket" "$(cat "$T/err")"
rt start tty
wait "$cpid"
check "process.terminal + --console-socket: a pty of the container's devpts" "/dev/pts/0|on-tty|" \
	"$(tr '\n' '|' <"$T/console.out")"
rt delete -f tty
check_false "process.terminal without --console-socket refused" rt create --bundle "$T/b-tty" tty2

mkdir -p "$T/rootfs2"
rt_rootfs "$T/rootfs2"
echo two >"$T/rootfs2/which"
runb rootp 'c["root"]["path"] = T + "/rootfs2"' cat /which
check "root.path" "two" "$OUT"
runb roro 'c["root"]["readonly"] = True' sh -c 'touch /x 2>&1 || echo refused'
check_re "root.readonly" "Read-only file system.*refused" "$(echo $OUT)"
runb host 'c["hostname"] = "rt-host"' hostname
check "hostname" "rt-host" "$OUT"

mkdir -p "$T/vol"
echo vol >"$T/vol/f"
runb mnt 'c["mounts"] += [{"destination": "/v", "type": "bind", "source": T + "/vol", "options": ["rbind", "ro"]},
	{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m", "strictatime"]}]' \
	sh -c 'cat /v/f; touch /v/g 2>/dev/null || echo ro; grep " /scratch " /proc/mounts | cut -d" " -f3'
check "mounts: a bind read-only, a tmpfs" "vol ro tmpfs" "$(echo $OUT)"

cat >"$T/hook" <<EOF
#!/bin/sh
cat >"$T/hook-\$1.json"
EOF
chmod 755 "$T/hook"
printf '#!/bin/sh\necho inside >/tmp/started\n' >"$T/rootfs/hook-in"
chmod 755 "$T/rootfs/hook-in"
runb hooks 'c["hooks"] = {k: [{"path": T + "/hook", "args": ["hook", k]}] for k in ("prestart", "createRuntime", "createContainer", "poststart", "poststop")}
c["hooks"]["startContainer"] = [{"path": "/hook-in"}]' sh -c 'cat /tmp/started'
got=""
for k in prestart createRuntime createContainer poststart poststop; do
	got="$got$k:$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["id"], j["status"])' "$T/hook-$k.json" 2>&1) "
done
check "hooks: prestart createRuntime createContainer poststart poststop, the state on stdin" \
	"prestart:hooks created createRuntime:hooks created createContainer:hooks created poststart:hooks running poststop:hooks stopped " "$got"
check "hooks: startContainer in the container" "inside" "$OUT"

hostnet=$(readlink /proc/self/ns/net)
runb nonet 'lx["namespaces"] = [n for n in lx["namespaces"] if n["type"] != "network"]' readlink /proc/self/ns/net
check "linux.namespaces: without network, the host's" "$hostnet" "$OUT"
runb newnet '' readlink /proc/self/ns/net
check "linux.namespaces: network, a new one" "yes" "$([ -n "$OUT" ] && [ "$OUT" != "$hostnet" ] && echo yes)"
unshare -n sleep 300 &
np=$!
_PIDS+=("$np")
for i in $(seq 100); do [ "$(readlink /proc/$np/ns/net)" != "$hostnet" ] && break; sleep 0.1; done
runb joinnet "[n.update(path='/proc/$np/ns/net') for n in lx['namespaces'] if n['type'] == 'network']" readlink /proc/self/ns/net
check "linux.namespaces: network path= joined" "$(readlink /proc/$np/ns/net)" "$OUT"
chmod 755 "$T"
runb userns 'lx["namespaces"].append({"type": "user"})
lx["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
lx["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]' cat /proc/self/uid_map /proc/self/gid_map
check "linux.uidMappings, gidMappings (user namespace)" "0 100000 65536 0 200000 65536" "$(echo $OUT)"

CGN=imgrt$$
# the host's cgroup namespace: its group's path shows in /proc/self/cgroup
runb res "lx['cgroupsPath'] = '/$CGN/res'
lx['namespaces'] = [n for n in lx['namespaces'] if n['type'] != 'cgroup']
lx['resources'].update(memory={'limit': 64 << 20, 'swap': 96 << 20, 'reservation': 32 << 20, 'disableOOMKiller': True},
	pids={'limit': 42}, cpu={'quota': 50000, 'period': 100000, 'shares': 512, 'cpus': '1'}, blockIO={'weight': 300})" \
	sh -c 'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us cpu/cpu.shares \
		memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes; grep -c "oom_kill_disable 1" memory/memory.oom_control
		cat blkio/blkio.bfq.weight 2>/dev/null || cat blkio/blkio.weight 2>/dev/null || echo no-weight-file
		grep Cpus_allowed_list /proc/self/status; grep pids /proc/self/cgroup'
check "linux.resources: memory, pids, cpu quota and shares" "67108864 42 50000 512" "$(echo $OUT | cut -d' ' -f1-4)"
check "linux.resources: memory swap, reservation, disableOOMKiller" "100663296 33554432 1" "$(echo $OUT | cut -d' ' -f5-7)"
w=$(echo $OUT | cut -d' ' -f8)
if [ "$w" = no-weight-file ]; then
	skip "linux.resources: blockIO.weight" "no blkio weight file (BFQ) on this host"
else
	check "linux.resources: blockIO.weight" "300" "$w"
fi
check "linux.resources: cpu.cpus (a cpuset group, with a weight)" "Cpus_allowed_list: 1" "$(echo $OUT | cut -d' ' -f9-10)"
check_re "linux.cgroupsPath: the group" "pids:/$CGN/res$" "$OUT"
# blockIO throttle rules on a whole disk of this host (the kernel refuses a
# partition): v1 blkio.throttle.*_device "MAJ:MIN RATE"
bdev=$(for d in /sys/dev/block/*; do [ -e "$d/partition" ] || [ ! -e "$d/queue" ] || basename "$d"; done | grep -v '^7:' | head -1)
if [ -n "$bdev" ] && [ -d /sys/fs/cgroup/blkio ]; then
	runb bio "lx['cgroupsPath'] = '/$CGN/bio'
lx['resources']['blockIO'] = {'throttleReadBpsDevice': [{'major': ${bdev%:*}, 'minor': ${bdev#*:}, 'rate': 1048576}],
	'throttleWriteBpsDevice': [{'major': ${bdev%:*}, 'minor': ${bdev#*:}, 'rate': 2097152}],
	'throttleReadIOPSDevice': [{'major': ${bdev%:*}, 'minor': ${bdev#*:}, 'rate': 300}],
	'throttleWriteIOPSDevice': [{'major': ${bdev%:*}, 'minor': ${bdev#*:}, 'rate': 400}]}" \
		sh -c 'cd /sys/fs/cgroup/blkio; cat blkio.throttle.read_bps_device blkio.throttle.write_bps_device \
			blkio.throttle.read_iops_device blkio.throttle.write_iops_device'
	check "linux.resources.blockIO throttle{Read,Write}{Bps,IOPS}Device (v1 blkio.throttle)" \
		"$bdev 1048576 $bdev 2097152 $bdev 300 $bdev 400" "$(echo $OUT)"
	runb biobad "lx['resources']['blockIO'] = {'throttleReadBpsDevice': [{'major': 7, 'minor': 250, 'rate': 1}]}" true
	check_re "linux.resources.blockIO: a device the kernel does not know refused" \
		"writing '7:250 1' to .*blkio.throttle.read_bps_device" "$OUT"
	check "linux.resources.blockIO: the refused create left no cgroup" "" \
		"$(ls -d /sys/fs/cgroup/*/img-runtime/biobad 2>/dev/null)"
else
	skip "linux.resources.blockIO throttle" "no whole disk or no v1 blkio hierarchy"
fi
runb swap "lx['cgroupsPath'] = '/$CGN/swap'
lx['resources'].update(memory={'limit': 64 << 20, 'swappiness': 17})" cat /sys/fs/cgroup/memory/memory.swappiness
check "linux.resources.memory.swappiness: in the container's v1 memory group" "17" "$OUT"
runb swap0 "lx['cgroupsPath'] = '/$CGN/swap0'
lx['resources'].update(memory={'swappiness': 0})" cat /sys/fs/cgroup/memory/memory.swappiness
check "linux.resources.memory.swappiness 0 (not \"unset\")" "0" "$OUT"
runb kmem "lx['resources'].update(memory={'kernel': 64 << 20, 'kernelTCP': 16 << 20})" echo ran
check "linux.resources.memory.kernel, kernelTCP: ignored with runc's warning" \
	"img-runtime: warning: Kernel memory settings are ignored and will be removed|ran|0" "$(printf '%s' "$OUT" | tr '\n' '|')|$RC"
runb swapbad "lx['resources'].update(memory={'swappiness': 101})" true
check_re "linux.resources.memory.swappiness 101 refused" "swappiness 101 is not in 0..100" "$OUT"

# linux.namespaces cgroup (in runc's default spec): pid 1 unshares it once
# in its groups (v1 here), then mounts each hierarchy, rooted at its group
hostcg=$(readlink /proc/self/ns/cgroup)
runb cgns "lx['cgroupsPath'] = '/$CGN/cgns'
lx['resources'].update(pids={'limit': 33})" \
	sh -c 'readlink /proc/self/ns/cgroup; grep -c -v ":/$" /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max
		grep -c "^[0-9]* [0-9]* [0-9:]* / /sys/fs/cgroup/pids ro," /proc/self/mountinfo
		grep -c "^[0-9]* [0-9]* [0-9:]* / /sys/fs/cgroup/cpuset ro," /proc/self/mountinfo'
set -- $OUT
check "linux.namespaces cgroup: a new one, every hierarchy / inside" "new 0" \
	"$([ -n "${1:-}" ] && [ "$1" != "$hostcg" ] && echo new) ${2:-}"
check "linux.namespaces cgroup: its pids group mounted at its root, read-only, the limit seen" "33 yes" \
	"${3:-} $([ "${4:-0}" -ge 1 ] && echo yes)"
if [ -d /sys/fs/cgroup/cpuset ]; then
	check "linux.namespaces cgroup: its own cpuset group mounted (v1), removed with the container" "yes gone" \
		"$([ "${5:-0}" -ge 1 ] && echo yes) $([ -d "/sys/fs/cgroup/cpuset/$CGN/cgns" ] || echo gone)"
fi
runb cghost "lx['cgroupsPath'] = '/$CGN/cghost'
lx['namespaces'] = [n for n in lx['namespaces'] if n['type'] != 'cgroup']" \
	sh -c 'readlink /proc/self/ns/cgroup; grep :pids: /proc/self/cgroup'
check "linux.namespaces without cgroup: the host's, its group's host path" "$hostcg 8:pids:/$CGN/cghost" \
	"$(echo $OUT | sed 's/ [0-9]*:pids:/ 8:pids:/')"
# path=: a namespace rooted at a group of ours (made by unshare -C in it);
# the container's own group is beside that root, so it shows as /../cgjoin
mkdir -p "/sys/fs/cgroup/pids/$CGN/nsroot"
sh -c 'echo $$ >"$1/cgroup.procs" && exec unshare -C sleep 300' sh "/sys/fs/cgroup/pids/$CGN/nsroot" &
cp=$!
_PIDS+=("$cp")
for i in $(seq 100); do [ "$(readlink /proc/$cp/ns/cgroup)" != "$hostcg" ] && break; sleep 0.1; done
runb cgjoin "lx['cgroupsPath'] = '/$CGN/cgjoin'
[n.update(path='/proc/$cp/ns/cgroup') for n in lx['namespaces'] if n['type'] == 'cgroup']" \
	sh -c 'readlink /proc/self/ns/cgroup; grep :pids: /proc/self/cgroup | sed "s/^[0-9]*://"'
check "linux.namespaces cgroup path= joined" \
	"$(readlink /proc/$cp/ns/cgroup) pids:/../cgjoin" "$(echo $OUT)"
runb cgbad "[n.update(path='/proc/$cp/ns/net') for n in lx['namespaces'] if n['type'] == 'cgroup']" true
check_re "linux.namespaces cgroup path= of another type refused" "joining namespace /proc/$cp/ns/net: Invalid argument" "$OUT"
kill -9 "$cp"
wait "$cp" 2>/dev/null
for c in /sys/fs/cgroup/*/; do rmdir "$c$CGN"/* "$c$CGN" 2>/dev/null; done
check "linux.cgroupsPath: the group removed with the container" "" "$(ls -d /sys/fs/cgroup/*/"$CGN"/res 2>/dev/null)"
if [ -c /dev/fuse ]; then
	runb dev 'lx["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]' stat -c '%F %t:%T' /dev/fuse
	check "linux.devices: the node" "character special file a:e5" "$OUT"
	runb devr 'lx["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]
lx["resources"]["devices"] = [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "r"}]' \
		sh -c 'grep -c "^c 10:229 r$" /sys/fs/cgroup/devices/devices.list'
	check "linux.resources.devices: the access of its rule (r)" "1" "$OUT"
	hostfuse=$(stat -c '%a %u %g' /dev/fuse)
	runb devmode 'lx["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600, "uid": 1, "gid": 2}]' \
		stat -c '%F %t:%T %a %u %g' /dev/fuse
	check "linux.devices: fileMode, uid, gid of a c node" "character special file a:e5 600 1 2" "$OUT"
	check "linux.devices: the host's node untouched" "$hostfuse" "$(stat -c '%a %u %g' /dev/fuse)"
else
	skip "linux.devices" "no /dev/fuse on the host"
fi
# a node the host has no file for (1:3 is null's): made, usable by its
# owner (runc's default capabilities lack CAP_DAC_OVERRIDE; no
# resources.devices rule for it: rwm, as the engines add one)
runb devnew 'pr["user"] = {"uid": 65534, "gid": 100}
lx["devices"] = [{"path": "/dev/sub/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o620, "uid": 65534, "gid": 100}]' \
	sh -c 'stat -c "%F %t:%T %a %u %g" /dev/sub/mynull; echo x >/dev/sub/mynull && echo written'
check "linux.devices: a c node with no host file, in a subdirectory, its mode and owner" \
	"character special file 1:3 620 65534 100 written" "$(echo $OUT)"
runb devblk 'lx["devices"] = [{"path": "/dev/myloop", "type": "b", "major": 7, "minor": 200, "fileMode": 0o640, "gid": 6}]' \
	stat -c '%F %t:%T %a %u %g' /dev/myloop
check "linux.devices: a b node (uid absent: 0)" "block special file 7:c8 640 0 6" "$OUT"
runb fifo 'pr["user"] = {"uid": 65534, "gid": 100}
lx["devices"] = [{"path": "/dev/myfifo", "type": "p", "fileMode": 0o640, "uid": 65534, "gid": 100}]' \
	sh -c 'stat -c "%F %a %u %g" /dev/myfifo; (echo through >/dev/myfifo &); cat /dev/myfifo'
check "linux.devices: type p, a FIFO with its fileMode, uid, gid, usable" "fifo 640 65534 100 through" "$(echo $OUT)"
runb fifo0 'lx["devices"] = [{"path": "/dev/f0", "type": "p"}]' stat -c '%F %a %u %g' /dev/f0
check "linux.devices: a FIFO without fileMode, uid, gid: 666 0 0 (runc's)" "fifo 666 0 0" "$OUT"
runb fifou 'lx["namespaces"].append({"type": "user"})
lx["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
lx["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
lx["devices"] = [{"path": "/dev/myfifo", "type": "p", "fileMode": 0o600, "uid": 65534, "gid": 100}]' \
	stat -c '%F %a %u %g' /dev/myfifo
check "linux.devices: a FIFO in a user namespace, owned by the container's ids" "fifo 600 65534 100" "$OUT"
runb fifobad 'lx["devices"] = [{"path": "/dev/../etc/f", "type": "p"}]' true
check_re "linux.devices: a path leaving /dev refused" "bad linux.devices" "$OUT"
runb seccomp 'lx["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
	"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}' \
	sh -c 'mkdir /tmp/d 2>&1; echo rc=$?'
check_re "linux.seccomp: the OCI profile's rule" "Operation not permitted.*rc=1" "$(echo $OUT)"
runb masked 'lx["maskedPaths"] = ["/proc/cpuinfo", "/etc"]' sh -c 'wc -c </proc/cpuinfo; ls /etc | wc -l'
check "linux.maskedPaths" "0 0" "$(echo $OUT)"
runb ropath 'lx["readonlyPaths"] = ["/tmp"]' sh -c 'touch /tmp/x 2>/dev/null || echo ro; touch /root/x && echo rw'
check "linux.readonlyPaths" "ro rw" "$(echo $OUT)"
hostfw=$(cat /proc/sys/net/ipv4/ip_forward)
runb sysctl 'lx["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"}' \
	cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced
check "linux.sysctl (net and ipc namespaced)" "1 1" "$(echo $OUT)"
check "linux.sysctl: the host's untouched" "$hostfw" "$(cat /proc/sys/net/ipv4/ip_forward)"
runb sysctlsl 'lx["sysctl"] = {"net/ipv4/ip_forward": "1"}' cat /proc/sys/net/ipv4/ip_forward
check "linux.sysctl: the slashed form" "1" "$OUT"
hostpanic=$(cat /proc/sys/kernel/panic)
runb sysctlhost 'lx["sysctl"] = {"kernel.panic": "77"}' true
check_re "linux.sysctl: a key no namespace scopes refused (runc's rule)" \
	"linux.sysctl kernel.panic: not in a separate kernel namespace" "$OUT"
check "  the host's kernel.panic untouched" "$hostpanic" "$(cat /proc/sys/kernel/panic)"
runb sysctlhnet 'lx["namespaces"] = [n for n in lx["namespaces"] if n["type"] != "network"]
lx["sysctl"] = {"net.ipv4.ip_forward": "1"}' true
check_re "linux.sysctl: net.* without a network namespace refused" \
	"linux.sysctl net.ipv4.ip_forward: not allowed in the host's network namespace" "$OUT"
runb sysctldots 'lx["sysctl"] = {"net/../kernel/panic": "77"}' true
check_re "linux.sysctl: a key climbing out of its tree refused" "not in a separate kernel namespace" "$OUT"

# ---------------------------------------------------------------- no mount namespace
# runc makes / rslave, binds the rootfs and mounts the spec's mounts in the
# host's mount namespace, then chroots; we only chroot and refuse a spec
# that needs a mount (oci-spec.c). The host's mount table must not change:
# no mount under the rootfs, the propagation of / as it was.
rt_rootfs "$T/rootfs-nm"
nomnt='c["root"]["path"] = T + "/rootfs-nm"
c["mounts"] = []
lx["namespaces"] = [n for n in lx["namespaces"] if n["type"] != "mount"]
lx.pop("maskedPaths", None); lx.pop("readonlyPaths", None)'
rootprop() { awk '$5 == "/" { for (i = 7; $i != "-"; i++) printf "%s ", $i; print $4 }' /proc/self/mountinfo; }
prop0=$(rootprop)
bundle nm "$nomnt
lx['sysctl'] = {'net.ipv4.ip_forward': '1'}" sh -c 'echo made >/made; exec sleep 300'
rt create --bundle "$T/b-nm" --pid-file "$T/nm.pid" nm </dev/null >/dev/null 2>"$T/err" || fail "create without a mount namespace" "$(cat "$T/err")"
pid=$(cat "$T/nm.pid" 2>/dev/null)
check "no mount namespace: created, the host's mount namespace, a new cgroup one, root is the rootfs (chroot)" \
	"created same new $T/rootfs-nm" \
	"$(st nm | cut -d' ' -f1) $([ "$(readlink /proc/${pid:-0}/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] && echo same) $([ "$(readlink /proc/${pid:-0}/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ] && echo new) $(readlink /proc/${pid:-0}/root)"
rt start nm || fail "start without a mount namespace"
for i in $(seq 100); do [ -e "$T/rootfs-nm/made" ] && break; sleep 0.1; done
check "no mount namespace: the process runs in the rootfs (its file there), exec too (chrooted: no /usr)" \
	"made made chrooted" \
	"$(cat "$T/rootfs-nm/made" 2>/dev/null) $(rt exec nm sh -c 'cat /made; [ -e /usr ] || echo chrooted' | tr '\n' ' ' | sed 's/ $//')"
check "no mount namespace: linux.sysctl in its network namespace (Ip Forwarding 1), the host's untouched" \
	"1 $hostfw" \
	"$(awk '$1 == "Ip:" && $2 ~ /^[0-9]/ { print $2 }' /proc/${pid:-0}/net/snmp) $(cat /proc/sys/net/ipv4/ip_forward)"
rt delete -f nm || fail "delete -f without a mount namespace"
check "no mount namespace: nothing mounted under the rootfs, / as it was" "0 $prop0" \
	"$(grep -c " $T/rootfs-nm" /proc/self/mountinfo) $(rootprop)"
# refused: what runc would do in the host's mount table; its own refusal
nmref() { # NAME PY MSG: create refused with MSG, exit 1, nothing left
	bundle "$1" "$nomnt
$2" true
	rt create --bundle "$T/b-$1" "$1" </dev/null >/dev/null 2>"$T/err"
	local rc=$?
	check_re "no mount namespace: $3 refused (exit 1, one line)" "^1 1 .*$3" "$rc $(wc -l <"$T/err") $(cat "$T/err")"
}
nmref nmm 'c["mounts"] = [{"destination": "/proc", "type": "proc", "source": "proc"}]' \
	"mount /proc needs a mount namespace"
nmref nmp 'lx["maskedPaths"] = ["/proc/kcore"]' "unable to restrict sys entries without a private MNT namespace"
nmref nmr 'c["root"]["readonly"] = True' "root.readonly needs a mount namespace"
nmref nmd 'lx["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]' \
	"linux.devices need a mount namespace"
check "no mount namespace: the refusals left no container, nothing mounted" "0 $prop0" \
	"$(ls "$RTSTATE" | wc -l) $(rootprop)"

check "nothing left in the state dir" "" "$(ls "$RTSTATE")"
finish
