#!/bin/bash
# SPDX-License-Identifier: MIT
# Lookup across branches: topmost name wins, .wh.NAME hides lower names (not
# the same branch's: OCI rule), opaque dirs, .wh. names never resolvable.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

build_std_layers
mk_file "$C/mix/c_in_mix" C         # dir in C, file in B, dir in A: the B file blocks C
mk_file "$B/mix" B
mk_file "$A/mix/a_in_mix" A
mk_file "$C/typ2" C                 # file in C, dir in B: dir wins
mk_file "$B/typ2/in_b" B
mk_file "$C/aopq/c_hidden" C        # opaque dir in the rw branch itself
mk_file "$B/aopq/b_hidden" B
mk_opq "$A/aopq"; mk_file "$A/aopq/a_vis" A
mk_file "$C/wdir/inner" inner       # a whited-out directory
mk_wh "$A" wdir
ln -s /etc/hostname "$C/abs_link"   # symlinks are resolved by the caller, verbatim target
ln -s c_only "$C/rel_link"
mk_file "$C/.hidden" hidden         # ordinary dot file
mk_file "$C/sbd/c_file" C           # dir + its own whiteout in A: only A's entries
mk_file "$A/sbd/a_file" A; mk_wh "$A" sbd
mk_file "$C/x.wh.y" mid; mk_file "$C/.whx" whx; mk_file "$C/.wh" wh   # not whiteouts
mk_file "$T/R1/r1" r1; mk_opq "$T/R1"; mk_file "$T/R2/r2" r2         # opaque root
ro_snapshot "$B" "$C"

ufs_mount "$DIRS" "$M" || bail "mount failed"

check_content "top branch wins (A over B over C)" "$M/shared" A
check_content "name only in A"            "$M/a_only" a_only
check_content "name only in B"            "$M/b_only" b_only
check_content "name only in C"            "$M/c_only" c_only
check_content "name with a space"         "$M/sp ace" "sp ace"
check_content "dot file in C"             "$M/.hidden" hidden
check_errno   "whiteout in B hides C's file"        ENOENT lstat "$M/hid_by_b"
check_errno   "whiteout in A hides C's file"        ENOENT lstat "$M/hid_by_a"
check_content "file above a whiteout visible"       "$M/revived" A
check_content "name and whiteout in same branch: name stays visible (OCI)" "$M/samebr" B
check_errno   "whited-out dir hidden"               ENOENT lstat "$M/gone"
check_errno   "child of whited-out dir hidden"      ENOENT lstat "$M/gone/y"
check_errno   "whited-out dir in rw hidden"         ENOENT lstat "$M/wdir"
check_errno   "child of whited-out dir in rw hidden" ENOENT lstat "$M/wdir/inner"
check_content "merged dir: file from A"   "$M/d/a_file" a_file
check_content "merged dir: file from B"   "$M/d/b_file" b_file
check_content "merged dir: file from C"   "$M/d/c_file" c_file
check_content "merged dir: B over C"      "$M/d/common" B
check_content "lower-only nested path"    "$M/d/sub/deep" deep
check_content "opaque dir shows its own entries" "$M/opq/b_in_opq" B
check_errno   "opaque dir hides lower entries"   ENOENT lstat "$M/opq/c_in_opq"
check_content "opaque dir in rw branch: own entry" "$M/aopq/a_vis" A
check_errno   "opaque dir in rw branch hides B"  ENOENT lstat "$M/aopq/b_hidden"
check_errno   "opaque dir in rw branch hides C"  ENOENT lstat "$M/aopq/c_hidden"
check "file above dir: file wins"         "regular file" "$(stat -c %F "$M/typ" 2>&1)"
check_content "file above dir: content"   "$M/typ" A
check_errno   "file above dir: no lookup through it" ENOTDIR lstat "$M/typ/z"
check "dir above file: dir wins"          "directory" "$(stat -c %F "$M/typ2" 2>&1)"
check_content "dir above file: its entry" "$M/typ2/in_b" B
check "dir over file over dir: only the top dir's entries" "a_in_mix" "$(ls_flat "$M/mix")"
check_errno   "dir below a file does not merge" ENOENT lstat "$M/mix/c_in_mix"
check "absolute symlink target verbatim"  /etc/hostname "$(readlink "$M/abs_link" 2>&1)"
check_content "relative symlink resolves in the union" "$M/rel_link" c_only
check_errno   "missing name"              ENOENT lstat "$M/nope"
check_errno   "missing name in lower dir" ENOENT lstat "$M/cdir/nope"
check_errno   "lookup of .wh.NAME (whiteout in B)" ENOENT lstat "$M/.wh.hid_by_b"
check_errno   "lookup of .wh.NAME (whiteout in A)" ENOENT lstat "$M/.wh.hid_by_a"
check_errno   "lookup of .wh.NAME for a visible name" 'ENOENT|EINVAL|EPERM' lstat "$M/.wh.shared"
check_errno   "lookup of opaque marker"   'ENOENT|EINVAL|EPERM' lstat "$M/opq/.wh..wh..opq"
check_errno   "lookup of the work dir"    'ENOENT|EINVAL|EPERM' lstat "$M/.wh..wh.work"
check_errno   "lookup of .wh. (bare prefix)" 'ENOENT|EINVAL|EPERM' lstat "$M/.wh."
check "dir and its whiteout in one branch: lower entries hidden" a_file "$(ls_flat "$M/sbd")"
check_errno "  lower entry not resolvable" ENOENT lstat "$M/sbd/c_file"
check_content "'.wh.' inside a name is ordinary" "$M/x.wh.y" mid
check_content "'.whx' is ordinary" "$M/.whx" whx
check_content "'.wh' is ordinary" "$M/.wh" wh
check "root is a directory" directory "$(stat -c %F "$M" 2>&1)"
check_absent  "lookups do not copy up" "$A/c_only"
check_absent  "lookups do not copy up dirs" "$A/cdir"

# the same view on a read-only mount (no rw branch at all)
M2=$T/mnt2
ufs_mount "dirs=$B=ro:$C=ro" "$M2" || bail "ro mount failed"
check_content "ro mount: B over C"            "$M2/shared" B
check_errno   "ro mount: whiteout hides"      ENOENT lstat "$M2/hid_by_b"
check_content "ro mount: OCI same-branch rule" "$M2/samebr" B
check_errno   "ro mount: opaque dir hides"    ENOENT lstat "$M2/opq/c_in_opq"
ufs_umount "$M2"
ufs_mount "dirs=$T/R1=ro:$T/R2=ro" "$M2" || bail "mount failed"
check "opaque root dir hides the branch below" r1 "$(ls_flat "$M2")"
check_errno "  lower root entry not resolvable" ENOENT lstat "$M2/r2"
ufs_umount "$M2"
finish
