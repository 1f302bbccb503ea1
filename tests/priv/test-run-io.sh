#!/bin/bash
# SPDX-License-Identifier: MIT
# img run's process plumbing through the real binary, as root (issue 4):
# -t (a pty of the container's own devpts, window size at start and on
# SIGWINCH), -i (stdin forwarded), signals to a foreground img run reaching
# the container, --userns (uid map, owner of new files in the rw branch),
# -h (hostname and /etc/hostname), --rm leaving nothing.
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
PTY="$(dirname "$0")/pty-run.py"
flat() { tr '\n' '|' | sed 's/|$//'; }
# a container's key in inspect (Id, Rootfs), and its dir in the store
ctr_key() { img inspect "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['$2'])"; }
img_ctr_dir() { local id; id=$(ctr_key "$1" Id); [ -n "$id" ] && echo "$STORE/containers/$id"; }

# ------------------------------------------------------------ -t
out=$(timeout 60 python3 "$PTY" "$IMG_BIN" --root "$STORE" run --rm -t --cgroup-parent "$CGP" busybox \
	sh -c 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo isatty; echo $TERM; stty size; echo ready; sleep 1; stty size; exit 3')
check "-t: /dev/pts/0 of the container's devpts, stdio a tty, TERM, size at start and after SIGWINCH, exit code" \
	"/dev/pts/0|isatty|xterm|33 101|ready|44 120|rc=3" "$(echo "$out" | flat)"
out=$(run --rm busybox sh -c 'tty; [ -t 0 ] && echo tty || echo notty' </dev/null)
check "without -t: no tty" "not a tty|notty" "$(echo "$out" | flat)"
out=$(printf 'typed\n' | timeout 60 python3 "$PTY" "$IMG_BIN" --root "$STORE" run --rm -t --cgroup-parent "$CGP" busybox \
	sh -c 'echo x >/dev/tty && echo ctty')
check "-t: the pty is the controlling tty" "x|ctty|rc=0" "$(echo "$out" | flat)"
# exec -t: a pty of the container's devpts too, sized like ours
run -d --name ext busybox sleep 60 >/dev/null
out=$(timeout 60 python3 "$PTY" "$IMG_BIN" --root "$STORE" exec -t ext \
	sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo isatty; stty size; exit 4')
check "exec -t: a pty of the container's devpts, a tty, our size, exit code" \
	"/dev/pts/0|isatty|33 101|rc=4" "$(echo "$out" | flat)"
timeout 20 "$IMG_BIN" --root "$STORE" rm -f ext >/dev/null

# ------------------------------------------------------------ -i
check "-i: stdin forwarded" "data|2" "$( (printf 'data\n' | run --rm -i busybox cat; printf 'a\nb\n' | run --rm -i busybox wc -l) | flat)"
check "without -i: stdin is /dev/null" "0" "$(printf 'data\n' | run --rm busybox wc -c)"

# ------------------------------------------------------------ signals
# img itself in the background (not through timeout or a subshell), so $! is img
"$IMG_BIN" --root "$STORE" run --rm --cgroup-parent "$CGP" busybox \
	sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done' >"$T/sig" 2>&1 &
p=$!; _PIDS+=($p)
for _ in $(seq 100); do grep -q ready "$T/sig" 2>/dev/null && break; sleep 0.1; done
kill -TERM $p; wait $p; rc=$?
check "SIGTERM to a foreground img run reaches the container's trap" "ready|got-term|7" "$(cat "$T/sig" | flat)|$rc"
"$IMG_BIN" --root "$STORE" run --rm --cgroup-parent "$CGP" busybox \
	sh -c 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done' >"$T/sig2" 2>&1 &
p=$!; _PIDS+=($p)
for _ in $(seq 100); do grep -q ready "$T/sig2" 2>/dev/null && break; sleep 0.1; done
kill -USR1 $p; for _ in $(seq 50); do grep -q got-usr1 "$T/sig2" && break; sleep 0.1; done
check "SIGUSR1 forwarded too" "ready|got-usr1" "$(cat "$T/sig2" | flat)"
# the foreground img killed: the container goes on; rm -f, and --rm removed what exited
kill -KILL $p; wait $p 2>/dev/null
check "img killed: its container keeps running" "1" "$(img ps -q | wc -l)"
timeout 20 "$IMG_BIN" --root "$STORE" rm -f "$(img ps -q)" >/dev/null
check "--rm: nothing left of the exited ones" "" "$(img ps -a -q)"

# the monitor removes an --rm container itself (exec img rm) when detached,
# or when the foreground img was killed
run -d --rm busybox true >/dev/null
"$IMG_BIN" --root "$STORE" run --rm --cgroup-parent "$CGP" busybox sh -c 'echo ready; sleep 1' >"$T/sig3" 2>&1 &
p=$!; _PIDS+=($p)
for _ in $(seq 100); do grep -q ready "$T/sig3" 2>/dev/null && break; sleep 0.1; done
kill -KILL $p; wait $p 2>/dev/null
for _ in $(seq 100); do [ -z "$(img ps -a -q)" ] && break; sleep 0.1; done
check "--rm detached, and with its img killed: removed by the monitor" "" "$(img ps -a -q)"

# ------------------------------------------------------------ --userns
# container root = host uid 100000; the root is an idmapped mount of the
# union (ufsmount -o allow_idmap), so the image shows as root's inside and
# the rw branch keeps the image's own ids
out=$(run --name uns --userns busybox sh -c 'cat /proc/self/uid_map /proc/self/gid_map | tr -s " "; id -u; grep CapEff /proc/self/status | tr -s "\t" " "')
check "--userns: container root is host uid 100000 (65536 ids), with docker's caps" \
	" 0 100000 65536| 0 100000 65536|0|CapEff: 00000000a80405fb" "$(echo "$out" | flat)"
check "--userns: the image's files are container root's" "0:0|0:0|0:0|0:0" \
	"$(run --rm --userns busybox stat -c %u:%g / /bin/busybox /etc/passwd /tmp | flat)"
check "--userns: start again (the idmapped root is made anew)" "0" \
	"$(timeout 30 "$IMG_BIN" --root "$STORE" start -a uns | sed -n 3p)"
out=$(run --name uns2 --userns busybox sh -c 'echo changed >> /etc/passwd && mkdir /home/x && chown 1000:1001 /home/x && echo x > /tmp/made && su -s /bin/sh nobody -c "touch /tmp/nob" && stat -c %u:%g /etc/passwd /home/x /tmp/made /tmp/nob')
check "--userns: root changes image files, chowns, a user creates files" "0:0|1000:1001|0:0|65534:65534" "$(echo "$out" | flat)"
rw=$(img_ctr_dir uns2)/rw
check "--userns: the rw branch keeps the image's ids" "0:0|1000:1001|0:0|65534:65534" \
	"$(cd "$rw" && stat -c %u:%g etc/passwd home/x tmp/made tmp/nob | flat)"
check "--userns: no shifted id reaches the rw branch" "" "$(find "$rw" -uid +65535 -o -gid +65535)"
img commit uns2 usercommit:1 >/dev/null
check "--userns: commit, then run without --userns: the same ids" "0:0|1000:1001|changed" \
	"$(run --rm usercommit:1 sh -c 'stat -c %u:%g /etc/passwd /home/x; tail -1 /etc/passwd' | flat)"
id=$(run -d --userns busybox sleep 30)
check "--userns: exec sees the same view" "0|0:0|0:0" \
	"$(timeout 20 "$IMG_BIN" --root "$STORE" exec "$id" sh -c 'id -u; stat -c %u:%g /etc/passwd; touch /y && stat -c %u:%g /y' | flat)"
if [ -d /sys/fs/cgroup/memory ]; then
	upid=$(img container inspect "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])')
	check "--userns: pid 1 joined its cgroup itself (memory, pids, devices)" "3" \
		"$(grep -cE ":(memory|pids|devices):/$CGP/$id\$" /proc/$upid/cgroup)"
fi
echo cp-in > "$T/uns-cp"
img cp "$T/uns-cp" "$id:/tmp/uns-cp"
check "--userns: cp into it (through its union): container root's" "0:0 cp-in" \
	"$(timeout 20 "$IMG_BIN" --root "$STORE" exec "$id" sh -c 'stat -c %u:%g /tmp/uns-cp; cat /tmp/uns-cp' | tr '\n' ' ' | sed 's/ $//')"
check "--userns: the host sees the union unshifted" "0:0" "$(stat -c %u:%g "$(ctr_key "$id" Rootfs)/etc/passwd")"
timeout 20 "$IMG_BIN" --root "$STORE" rm -f "$id" >/dev/null
mkdir -p "$T/hostonly" && echo secret > "$T/hostonly/f" && chmod 600 "$T/hostonly/f"
# (img's stderr in the output: a failed run says why, e.g. the idmap refused
# before ufsmount waited for INIT, tests/fs/test-cli.sh)
check "--userns: host root's files stay out of reach (a volume shows nobody)" "65534|denied|denied" \
	"$(run --rm --userns -v "$T/hostonly:/h" busybox sh -c 'stat -c %u /h/f; cat /h/f 2>/dev/null || echo denied; touch /h/n 2>/dev/null || echo denied' 2>&1 | flat)"
img rm uns uns2 >/dev/null
img rmi usercommit:1 >/dev/null

# ------------------------------------------------------------ cp
mkdir -p "$T/cp/d/sub" "$T/cpout" && echo hello > "$T/cp/f" && echo y > "$T/cp/d/sub/y" &&
	ln -s f "$T/cp/lnk" && chown 4321:4321 "$T/cp/f"
run -d --name cpc busybox sh -c 'ln -s / /tmp/rootlink; ln -s ../../../../../../etc /tmp/up; mkdir /data; sleep 100' >/dev/null
sleep 0.3
img cp "$T/cp/f" cpc:/data/ && img cp "$T/cp/d" cpc:/data/ && img cp "$T/cp/lnk" cpc:/data/lnk &&
	img cp -a "$T/cp/f" cpc:/data/fa
check "cp in: a file into a dir, a tree, a symlink as one, root's unless -a" "hello|y|f|0:0|4321:4321" \
	"$(timeout 20 "$IMG_BIN" --root "$STORE" exec cpc sh -c 'cat /data/f /data/d/sub/y; readlink /data/lnk; stat -c %u:%g /data/f /data/fa' | flat)"
esc=cp-escape-$$
img cp "$T/cp/f" cpc:/tmp/rootlink/$esc.1; img cp "$T/cp/f" cpc:/tmp/up/$esc.2
check "cp in through the container's symlinks (to / and up ..) lands inside it" "hello|hello" \
	"$(timeout 20 "$IMG_BIN" --root "$STORE" exec cpc cat /$esc.1 /etc/$esc.2 | flat)"
check "and nothing reached the host's / or /etc" "none" "$([ -e /$esc.1 ] || [ -e /etc/$esc.2 ] && echo LEAK || echo none)"
rm -f "/$esc.1" "/etc/$esc.2"
img cp cpc:/etc/passwd "$T/cpout/" && img cp cpc:/data/d "$T/cpout/dd" && img cp cpc:/tmp/rootlink "$T/cpout/"
check "cp out: a file into a dir, a tree, a symlink as one" "yes|y|/" \
	"$([ -s "$T/cpout/passwd" ] && echo yes)|$(cat "$T/cpout/dd/sub/y")|$(readlink "$T/cpout/rootlink")"
check "cp: no such file, a directory onto a file, DEST/ missing: 125 each" "125 125 125" \
	"$(img cp cpc:/nope "$T/cpout/" 2>/dev/null; echo -n "$? "; img cp "$T/cp/d" cpc:/data/f 2>/dev/null; echo -n "$? "; img cp "$T/cp/f" cpc:/nodir/ 2>/dev/null; echo $?)"
timeout 20 "$IMG_BIN" --root "$STORE" stop -t 0 cpc >/dev/null
img cp "$T/cp/f" cpc:/data/stopped
check "cp into a stopped container: into its rw branch" "hello" "$(cat "$(img_ctr_dir cpc)/rw/data/stopped")"
check "and its union, mounted for the copy, is unmounted again" "0" \
	"$(awk -v m="$(ctr_key cpc Rootfs)" '$2 == m' /proc/mounts | wc -l)"
img rm cpc >/dev/null

# ------------------------------------------------------------ --add-host, --dns
out=$(run --rm --add-host db:10.1.2.3 --add-host gw:host-gateway --dns 10.0.0.53 --dns-search example.test --dns-option ndots:2 busybox sh -c 'grep -E "\s(db|gw)$" /etc/hosts; cat /etc/resolv.conf')
check "--add-host (host-gateway = the bridge), --dns, --dns-search, --dns-option" \
	"10.1.2.3	db|10.89.0.1	gw|search example.test|nameserver 10.0.0.53|options ndots:2" "$(echo "$out" | flat)"
run -d --name ahc --network none --add-host db:10.1.2.3 busybox sleep 30 >/dev/null
timeout 20 "$IMG_BIN" --root "$STORE" stop -t 0 ahc >/dev/null
timeout 20 "$IMG_BIN" --root "$STORE" start ahc >/dev/null
check "--add-host: once after a restart" 1 "$(timeout 20 "$IMG_BIN" --root "$STORE" exec ahc grep -cE '\sdb$' /etc/hosts)"
timeout 20 "$IMG_BIN" --root "$STORE" rm -f ahc >/dev/null
check "--add-host without an IP, --dns not an IP: refused (125)" "125 125" \
	"$(run --rm --add-host bad busybox true 2>/dev/null; echo -n "$? "; run --rm --dns x busybox true 2>/dev/null; echo $?)"

# ------------------------------------------------------------ --tmpfs, --shm-size, --ulimit
out=$(run --rm --tmpfs /run/t:size=1m,mode=700 --tmpfs /scratch:exec --shm-size 128m --ulimit nofile=512:1024 --ulimit core=0 busybox sh -c 'grep -E " /(run/t|scratch|dev/shm) " /proc/mounts | cut -d" " -f2,4; ulimit -n; ulimit -Hn; ulimit -c')
check "--tmpfs (docker's nosuid,nodev,noexec unless asked, size, mode), --shm-size, --ulimit" \
	"/dev/shm rw,nosuid,nodev,noexec,relatime,size=131072k|/run/t rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700|/scratch rw,nosuid,nodev,relatime|512|1024|0" \
	"$(echo "$out" | flat)"
hard=$(ulimit -Hn)
check "--ulimit above our own hard limit: clamped to it (no CAP_SYS_RESOURCE here)" "$hard" \
	"$(run --rm --ulimit nofile=100:99999999 busybox sh -c 'ulimit -Hn')"
check "--tmpfs relative, a bad option; --ulimit soft > hard, an unknown name: 125 each" "125 125 125 125" \
	"$(for a in '--tmpfs rel' '--tmpfs /x:bogus' '--ulimit nofile=5:2' '--ulimit nope=1'; do run --rm $a busybox true 2>/dev/null; echo -n "$? "; done | sed 's/ $//')"

# ------------------------------------------------------------ -h
out=$(run --rm -h box.example busybox sh -c 'hostname; cat /etc/hostname; grep -c box.example /etc/hosts')
check "-h: hostname, /etc/hostname and /etc/hosts" "box.example|box.example|1" "$(echo "$out" | flat)"
id=$(run -d busybox sleep 30)
check "without -h: the short id everywhere" "${id:0:12}|${id:0:12}" \
	"$(timeout 20 "$IMG_BIN" --root "$STORE" exec "$id" sh -c 'hostname; cat /etc/hostname' | flat)"
timeout 20 "$IMG_BIN" --root "$STORE" rm -f "$id" >/dev/null
check "-h: an invalid hostname is refused (125)" "125" "$(run --rm -h 'a b' busybox true 2>/dev/null; echo $?)"

# ------------------------------------------------------------ nothing left
check "--rm: no container left" "" "$(img ps -a -q)"
check "no cgroup left" "" "$(for c in /sys/fs/cgroup/*/; do [ -d "$c$CGP" ] && find "$c$CGP" -mindepth 1 -type d; done 2>/dev/null)"
check "no mount left" "" "$(awk -v s="$T" '$2 ~ "^"s' /proc/mounts)"
check "no monitor or daemon left" "" "$(ps -eo args | grep -E "img-monitor $STORE|ufsmount .*$STORE" | grep -v grep)"
finish
