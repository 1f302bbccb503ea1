#!/bin/bash
# SPDX-License-Identifier: MIT
# A daemon killed with SIGKILL leaves a dead mount that `umount -l` clears;
# a remount shows everything written and fsynced before the kill, and no
# half-made object or work-dir leftover is visible.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

build_std_layers
head -c 2M /dev/urandom >"$C/lowbig"
yes 0123456789abcdef | head -c 768M >"$C/huge"     # slow enough to copy to be killed mid-way
ro_snapshot "$B" "$C"

crash_round() { # LABEL: daemon pid in $dpid, mount $M
	local label=$1
	head -c 1M /dev/urandom >"$T/payload.$label"
	dd if="$T/payload.$label" of="$M/new_$label" bs=64k conv=fsync status=none
	mkdir -p "$M/dir_$label/sub"; echo inner >"$M/dir_$label/sub/f"
	"$FSOP" fsync "$M/dir_$label/sub/f" >/dev/null
	printf 'X' >>"$M/lowbig"; "$FSOP" fsync "$M/lowbig" >/dev/null
	rm -f "$M/c_only"; rm -rf "$M/cdir"
	mv "$M/b_only" "$M/b_moved_$label"
	sync
	# leave work in flight: a big unsynced write in the background
	(dd if=/dev/zero of="$M/inflight_$label" bs=1M count=64 status=none 2>/dev/null) &
	local bg=$!
	_PIDS+=("$bg")
	sleep 0.2
	{ kill -KILL "$dpid"; wait "$dpid"; } 2>/dev/null
	local i; for i in $(seq 1 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	check "$label: daemon gone after SIGKILL" gone "$(kill -0 "$dpid" 2>/dev/null && echo alive || echo gone)"
	wait "$bg" 2>/dev/null
	check "$label: dead mount still listed" yes "$(is_mounted "$M" && echo yes || echo no)"
	check_errno "$label: access gives ENOTCONN" 'ENOTCONN|ECONNABORTED' lstat "$M/shared"
	umount -l "$M" 2>/dev/null
	check "$label: umount -l clears it" no "$(is_mounted "$M" && echo yes || echo no)"
	ufs_mount "$DIRS" "$M" || bail "remount after kill failed"
	check "$label: fsynced new file intact" "$(md5sum <"$T/payload.$label")" "$(md5sum <"$M/new_$label" 2>&1)"
	check_content "$label: new nested file" "$M/dir_$label/sub/f" inner
	check "$label: copied-up file intact" "$( { cat "$C/lowbig"; printf X; [ "$label" = daemonized ] && printf X; } | md5sum)" \
		"$(md5sum <"$M/lowbig" 2>&1)"
	check_errno "$label: unlinked lower file stays gone" ENOENT lstat "$M/c_only"
	check_errno "$label: removed lower dir stays gone" ENOENT lstat "$M/cdir"
	check_content "$label: renamed file" "$M/b_moved_$label" b_only
	check "$label: no .wh. name visible" "" "$(find "$M" -name '.wh.*' 2>&1)"
	check "$label: no duplicate names" "" "$(ls -fA "$M" | sort | uniq -d)"
	check_true "$label: tree fully readable" sh -c "find '$M' -type f -exec cat {} + >/dev/null"
	[ -e "$M/inflight_$label" ] && check_true "$label: in-flight file readable" sh -c "cat '$M/inflight_$label' >/dev/null"
	echo after >"$M/after_$label"
	check_content "$label: writable after remount" "$M/after_$label" after
}

# 1. foreground daemon, pid from $!
ufs_mount_fg "$DIRS" "$M" || bail "mount -f failed"
dpid=$UFS_PID
crash_round foreground
ufs_umount "$M"

# 2. daemonized: the pid from --status, if it prints one
ufs_mount "$DIRS" "$M" || bail "mount failed"
mv "$M/b_moved_foreground" "$M/b_only"
dpid=$(ufs_daemon_pid "$M")
if [ -n "$dpid" ]; then
	crash_round daemonized
else
	skip "daemonized kill" "--status prints no pid of the daemon"
fi

# 3. SIGKILL in the middle of a copy-up: after remount the file is either the
# old content or the new one, never a partial copy
ufs_umount "$M"
ufs_mount_fg "$DIRS" "$M" || bail "mount -f failed"
dpid=$UFS_PID
( printf 'N' >>"$M/huge" ) 2>/dev/null &
bg=$!; _PIDS+=("$bg")
sleep 0.15
{ kill -KILL "$dpid"; wait "$dpid"; } 2>/dev/null
wait "$bg" 2>/dev/null
umount -l "$M" 2>/dev/null
ufs_mount "$DIRS" "$M" || bail "remount failed"
sz=$(stat -c %s "$M/huge" 2>&1)
lsz=$(stat -c %s "$C/huge")
if [ "$sz" = "$lsz" ] || [ "$sz" = $((lsz + 1)) ]; then pass "killed mid copy-up: size is old or new ($sz)"
else fail "killed mid copy-up: size is old or new" "expected $lsz or $((lsz + 1)), got $sz"; fi
if [ "$sz" = "$lsz" ]; then
	check "killed mid copy-up: old content" "$(md5sum <"$C/huge")" "$(md5sum <"$M/huge" 2>&1)"
else
	check "killed mid copy-up: new content" "$( { cat "$C/huge"; printf N; } | md5sum)" "$(md5sum <"$M/huge" 2>&1)"
fi
check "killed mid copy-up: no .wh. name visible" "" "$(find "$M" -name '.wh.*' 2>&1)"
finish
