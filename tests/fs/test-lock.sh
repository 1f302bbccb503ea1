#!/bin/bash
# SPDX-License-Identifier: MIT
# The rw branch of a live mount is locked: a second ufsmount with the same rw
# branch is refused with one line naming the holder, and leaves the live
# mount's work dir (a copy-up in flight) alone; the lock goes with the
# daemon (unmount, SIGKILL); ro use of the branch by another mount is fine.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

build_std_layers
N=$T/mnt2; mkdir -p "$N" "$T/m3"
WORK=$A/.wh..wh.work

ufs_mount_fg "$DIRS" "$M" || bail "mount failed"
dpid=$UFS_PID
# a copy-up in flight: a temporary being built in the work dir
mk_file "$WORK/cu.inflight" partial

"$UFSMOUNT" -o "dirs=$A=rw:$C=ro" "$N" >"$T/out2" 2>"$T/err2" </dev/null; rc=$?
_track_mount "$N"
check "second mount on the live rw branch: refused" 1 "$rc"
check "  one line on stderr" 1 "$(wc -l <"$T/err2")"
check_re "  names the branch and the holder (mountpoint, pid)" \
	"^ufsmount: branch '$A': in use as the rw branch of the mount on $M \(ufsmount pid $dpid\)$" "$(cat "$T/err2")"
check "  nothing mounted" no "$(is_mounted "$N" && echo yes || echo no)"
check_content "  the live mount's work dir untouched" "$WORK/cu.inflight" partial
check_content "  the live mount still serves" "$M/shared" A

# the same rw branch through another path (a symlink) is the same branch
ln -s "$A" "$T/alias"
out=$("$UFSMOUNT" -o "dirs=$T/alias:$B" "$N" 2>&1); rc=$?
check "same rw branch by another path: refused" 1 "$rc"
check_re "  names the holder" "in use as the rw branch of the mount on $M" "$out"

# a daemonized holder is named by its own (final) pid
mkdir -p "$T/X" "$T/Y"
ufs_mount "dirs=$T/X=rw:$C=ro" "$T/m3" || bail "daemonized mount failed"
xpid=$(ufs_daemon_pid "$T/m3")
out=$("$UFSMOUNT" -o "dirs=$T/X:$B" "$N" 2>&1); rc=$?
check "daemonized holder: second mount refused" 1 "$rc"
check_re "  names the daemon's pid" "\(ufsmount pid ${xpid:-none}\)$" "$out"
ufs_umount "$T/m3"

# using the branch read-only in another mount is not a conflict
ufs_mount "dirs=$T/Y=rw:$A=ro" "$N" || fail "ro use of a live rw branch" "$(cat "$T/mount.err")"
is_mounted "$N" && pass "ro use of a live rw branch by another mount: allowed"
check_content "  it reads the branch" "$N/a_only" a_only
ufs_umount "$N"

# the lock ends with the mount
ufs_umount "$M"
wait "$dpid" 2>/dev/null
ufs_mount "dirs=$A=rw:$C=ro" "$N" || fail "mount after the holder unmounted" "$(cat "$T/mount.err")"
is_mounted "$N" && pass "after the holder unmounted: the branch can be mounted"
check_absent "  its work dir was cleaned" "$WORK/cu.inflight"
ufs_umount "$N"

# ... and with a killed daemon (nothing stale to clean by hand)
ufs_mount_fg "$DIRS" "$M" || bail "mount failed"
kill -KILL "$UFS_PID"; wait "$UFS_PID" 2>/dev/null
umount -l "$M" 2>/dev/null
ufs_mount "$DIRS" "$M" || fail "mount after SIGKILL of the holder" "$(cat "$T/mount.err")"
is_mounted "$M" && pass "after SIGKILL of the holder: the branch can be mounted"
check_content "  and serves" "$M/shared" A
finish
