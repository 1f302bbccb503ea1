#!/bin/bash
# SPDX-License-Identifier: MIT
# Copy-up into a full rw branch (a small tmpfs): the write fails with ENOSPC,
# nothing half-copied becomes visible in the rw branch or through the mount,
# the work dir is left empty, the lower file is intact; once space is freed
# the same copy-up succeeds. Also mkdir/create/whiteout on a full branch.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

new_branches
mount -t tmpfs -o size=1m,nr_inodes=64,mode=0755 tmpfs "$A" || skip_all "cannot mount a tmpfs"
mkdir -p "$C/d"
head -c 3M /dev/urandom >"$C/d/big"
echo small >"$C/small"
ro_snapshot "$B" "$C"
want=$(md5sum <"$C/d/big")

ufs_mount "$DIRS" "$M" || bail "mount failed"
check_errno "append to a 3 MiB lower file on a 1 MiB rw branch" ENOSPC append "$M/d/big" x
check "  lower content still visible" "$want" "$(md5sum <"$M/d/big")"
check_absent "  no half-copied file in the rw branch" "$A/d/big"
check "  work dir left empty" "" "$(work_leftovers "$A/.wh..wh.work")"
check "  nothing but the work dir and the parent in the rw branch" ".wh..wh.work d" "$(ls_flat "$A")"
check "  parent copy-up kept" "" "$(ls -A "$A/d")"

# fill the branch, then see namespace operations fail cleanly
head -c 2M /dev/zero >"$A/filler" 2>/dev/null
for i in $(seq 1 200); do : >"$A/f$i" 2>/dev/null || break; done  # until no inode is left
check_errno "create on a full branch" 'ENOSPC' open "$M/newfile" wcx 0644
check_absent "  no new name in the rw branch" "$A/newfile"
check_errno "rm of a lower file on a full branch (whiteout)" 'ENOSPC' unlink "$M/small"
check_content "  the file is still there" "$M/small" small
check "  work dir still empty" "" "$(work_leftovers "$A/.wh..wh.work")"

# free the space: the same copy-up now works
rm -f "$A"/filler "$A"/f*
umount -l "$A" && mount -t tmpfs -o size=16m,mode=0755 tmpfs "$A"
ufs_umount "$M"; ufs_mount "$DIRS" "$M" || bail "remount failed"
check_true "append after space was freed" sh -c "printf x >>'$M/d/big'"
check "  new content" "$( { cat "$C/d/big"; printf x; } | md5sum)" "$(md5sum <"$M/d/big")"
check "  copy-up counted" 1 "$("$UFSMOUNT" --status "$M" | awk '$1=="copyup"{print ($2>=1)}')"
ufs_umount "$M"
finish
