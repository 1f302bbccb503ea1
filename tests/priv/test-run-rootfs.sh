#!/bin/bash
# SPDX-License-Identifier: MIT
# Image content never blocks or misleads the runner, and the container's
# union is watched (docs/runner.md "Files of the image", "The union's
# daemon"): hostile images made from tars of this test (img import) whose
# /etc/passwd is a FIFO, 35 MB, a directory, a link to a kernel file, or
# whose /etc/group is a device; docker's rules for -u without a passwd entry;
# img stop of a container whose pid 1 has not exec'd yet (its union's daemon
# stopped by the test); a container whose union's daemon is killed.
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
UFSMOUNT=$(dirname "$IMG_BIN")/ufsmount
daemon_pid() { "$UFSMOUNT" --status "$1" 2>/dev/null | awk '$1 == "pid" {print $2}'; }
inspect() { img container inspect "$1" | python3 -c "import json,sys; j=json.load(sys.stdin)[0]; print($2)"; }
# wait_for SECS CMD...: until CMD succeeds, for at most SECS seconds
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done; }
exited() { [ "$(inspect "$1" 'j["State"]["Status"]')" = exited ]; }
gone() { [ ! -d /proc/$1 ]; }
all_stopped() { awk '$3 != "T" {exit 1}' /proc/$1/task/*/stat; }
STOPPED=()   # daemons this test stopped (SIGSTOP): continued by the trap
_rootfs_cleanup() {
	local p
	for p in "${STOPPED[@]}"; do kill -CONT "$p" 2>/dev/null; done
	_priv_cleanup
}
trap _rootfs_cleanup EXIT

# image NAME KIND: a busybox root whose /etc is made hostile by KIND
image() {
	python3 - "$T/$1.tar" "$2" <<'EOF' || { fail "making $1.tar"; finish; }
import io, sys, tarfile
out, kind = sys.argv[1], sys.argv[2]
def reg(t, name, data, mode=0o644):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode
    t.addfile(i, io.BytesIO(data))
def node(t, name, typ, **kw):
    i = tarfile.TarInfo(name); i.type = typ
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i)
passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
group = b"root:x:0:\nnogroup:x:65534:\n"
with tarfile.open(out, "w") as t:
    for d in ("bin", "etc", "root", "tmp", "lib"):
        node(t, d, tarfile.DIRTYPE, mode=0o755)
    with open("/bin/busybox", "rb") as f:
        reg(t, "bin/busybox", f.read(), 0o755)
    for a in ("sh", "echo", "id", "cat", "sleep", "true"):
        node(t, "bin/" + a, tarfile.SYMTYPE, linkname="busybox")
    if kind == "fifo":
        node(t, "etc/passwd", tarfile.FIFOTYPE, mode=0o644)
    elif kind == "big":   # 35 MB, root's entry last
        filler = b"".join(b"u%d:x:%d:%d::/home/u%d:/bin/sh\n" % (i, 1000 + i, 1000 + i, i)
                          for i in range(1100000))
        reg(t, "etc/passwd", filler[:35 << 20].rsplit(b"\n", 1)[0] + b"\n" + passwd)
    elif kind == "dir":
        node(t, "etc/passwd", tarfile.DIRTYPE, mode=0o755)
    elif kind == "proc":
        node(t, "etc/passwd", tarfile.SYMTYPE, linkname="/proc/self/environ")
    elif kind == "link":  # a legitimate link, absolute, resolved in the root
        reg(t, "lib/passwd", passwd)
        node(t, "etc/passwd", tarfile.SYMTYPE, linkname="/lib/passwd")
    elif kind != "none":
        raise SystemExit("unknown kind " + kind)
    reg(t, "etc/group", group)
EOF
	img import "$T/$1.tar" "hostile:$1" >/dev/null || { fail "img import $1.tar"; finish; }
}
# the exit code and the stderr of a run that must fail at once (a hang
# ends at 30 s: exit 124; stderr goes to a file, not a pipe, whose other
# holders, a hung container's monitor, would keep us waiting)
fails() {
	timeout 30 "$IMG_BIN" --root "$STORE" run --rm --network none --cgroup-parent "$CGP" "$@" >/dev/null 2>"$T/fails.err"
	echo "$? $(cat "$T/fails.err")"
}

# ------------------------------------------------------------ /etc/passwd
for k in fifo big dir proc link none; do image $k $k; done
check_re "a FIFO /etc/passwd: refused at once, not a hang of pid 1" \
	"^125 img: /etc/passwd of the container is a FIFO, not a regular file$" "$(fails hostile:fifo echo ran)"
check_re "... also for -u 0 (no name to look up)" \
	"^125 img: /etc/passwd of the container is a FIFO, not a regular file$" "$(fails -u 0 hostile:fifo echo ran)"
check "... and nothing of it left" "" "$(img ps -a -q --filter ancestor=hostile:fifo)"
check_re "a 35 MB /etc/passwd with -u root: too large, said so (not 'no matching entries')" \
	"^125 img: /etc/passwd of the container is too large \([0-9]+ bytes, at most [0-9]+\)$" "$(fails -u root hostile:big echo ran)"
check_re "a directory /etc/passwd: refused" \
	"^125 img: /etc/passwd of the container is a directory, not a regular file$" "$(fails hostile:dir echo ran)"
check_re "/etc/passwd a link to a kernel file (/proc/self/environ): refused" \
	"^125 img: /etc/passwd of the container is a kernel file" "$(fails hostile:proc echo ran)"
check "an absolute link /etc/passwd -> /lib/passwd, resolved in the root: used" "65534 /nonexistent" \
	"$(run --rm --network none -u nobody hostile:link sh -c 'echo $(id -u) $HOME')"
check "no /etc/passwd, -u 1234: the numeric id (docker's)" "1234:0 /" \
	"$(run --rm --network none -u 1234 hostile:none sh -c 'echo $(id -u):$(id -g) $HOME')"
check_re "no /etc/passwd, -u root: no matching entries (docker's)" \
	"^125 img: unable to find user root: no matching entries in passwd file$" "$(fails -u root hostile:none echo ran)"
check "no /etc/passwd, no -u: root" "0" "$(run --rm --network none hostile:none id -u)"
# /etc/group a character device, given by a volume (an image's tar cannot
# hold a device node: img import refuses them)
check_re "/etc/group a character device (-v /dev/zero:/etc/group): refused" \
	"^125 img: /etc/group of the container is a character device, not a regular file$" \
	"$(fails -v /dev/zero:/etc/group hostile:link echo ran)"

# ------------------------------------------------------------ stop before exec
# pid 1's set-up blocks on the container's union when its daemon stops
# (SIGSTOP by this test, our own mount): img stop must still stop it.
# Over FUSE over io_uring the kernel puts the request into a ring entry at
# once (sent to userspace): then the wait is uninterruptible, SIGKILL
# included, until the daemon answers (fs/fuse/dev.c request_wait_answer);
# img stop aborts the union's connection when the kill times out.
img create --cgroup-parent "$CGP" --name early --network none busybox sleep 1000 >/dev/null
mp=$(ctr_mount early)
dpid=$(daemon_pid "$mp")
check_re "stop before exec: the union's daemon, by its pid from the mount" "^[0-9]+$" "$dpid"
kill -STOP "$dpid" && STOPPED+=("$dpid")
wait_for 30 all_stopped $dpid   # every thread: none may take a request
( timeout 60 "$IMG_BIN" --root "$STORE" start early >/dev/null 2>&1 ) &
startpid=$!
# pid 1 exists (in the container's cgroup) and cannot get on
id=$(inspect early 'j["Id"]')
procs() { cat /sys/fs/cgroup/pids/$CGP/$id/cgroup.procs /sys/fs/cgroup/$CGP/$id/cgroup.procs 2>/dev/null; }
has_procs() { [ -n "$(procs)" ]; }
wait_for 60 has_procs
check "stop before exec: pid 1 is there, the container not yet running" "created" "$([ -n "$(procs)" ] && inspect early 'j["State"]["Status"]')"
out=$(timeout 30 "$IMG_BIN" --root "$STORE" stop early 2>&1); rc=$?
check "stop before exec: img stop succeeds" "0 early" "$rc $out"
check_re "stop before exec: ps shows it exited (137)" "^Exited \(137\)" "$(img ps -a --filter name=early --format '{{.Status}}')"
check "stop before exec: no process left in its cgroup" "" "$(procs)"
kill -CONT "$dpid"; STOPPED=()
wait $startpid
check "stop before exec: stays stopped (no late start)" "exited" "$(inspect early 'j["State"]["Status"]')"
timeout 20 "$IMG_BIN" --root "$STORE" rm -f early >/dev/null

# ------------------------------------------------------------ the union's daemon dies
run -d --name ufsd --network none busybox sleep 1000 >/dev/null
mp=$(inspect ufsd 'j["GraphDriver"]["Data"]["MergedDir"]')
dpid=$(daemon_pid "$mp")
check_re "daemon death: its pid, from the mount" "^[0-9]+$" "$dpid"
check "daemon death: running before" "running" "$(inspect ufsd 'j["State"]["Status"]')"
kill -9 "$dpid"
wait_for 60 exited ufsd
check_re "daemon death: ps shows it exited, not Up" "^Exited \(137\)" "$(img ps -a --filter name=ufsd --format '{{.Status}}')"
check_re "daemon death: inspect State.Error names the reason" \
	"^the container's root filesystem went away: its ufsmount daemon \(pid $dpid\) exited$" "$(inspect ufsd 'j["State"]["Error"]')"
check_re "daemon death: exec says not running (not ENOTCONN)" "^125 img: container [0-9a-f]+ is not running$" \
	"$(out=$(img exec ufsd true 2>&1); echo "$? $out")"
check "daemon death: the dead mount is gone" "" "$(awk -v m="$mp" '$2 == m' /proc/mounts)"
check "daemon death: img start mounts afresh and runs it" "again" "$(img start ufsd >/dev/null && img exec ufsd echo again)"
timeout 20 "$IMG_BIN" --root "$STORE" rm -f ufsd >/dev/null
run -d --name ufsr --restart always --network none busybox sleep 1000 >/dev/null
kill -9 "$(daemon_pid "$(inspect ufsr 'j["GraphDriver"]["Data"]["MergedDir"]')")"
wait_for 60 exited ufsr
check "daemon death with --restart always: stopped, not restarted on a dead root" "exited 0" \
	"$(inspect ufsr '"%s %d" % (j["State"]["Status"], j["RestartCount"])')"
timeout 20 "$IMG_BIN" --root "$STORE" rm -f ufsr >/dev/null
# a stopped container's mount whose daemon died (img mount, then -9)
img create --cgroup-parent "$CGP" --name stale --network none busybox echo stale-ok >/dev/null
mp=$(ctr_mount stale)
dpid=$(daemon_pid "$mp")
kill -9 "$dpid"
wait_for 30 gone $dpid
check "a dead daemon's mount at img start: mounted again" "stale-ok" "$(img start -a stale 2>&1)"
timeout 20 "$IMG_BIN" --root "$STORE" rm -f stale >/dev/null
finish
