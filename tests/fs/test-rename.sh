#!/bin/bash
# SPDX-License-Identifier: MIT
# rename(2)/renameat2(2): files from any branch, directories from rw and lower
# branches (copied up: same content at the new name, nothing at the old),
# RENAME_NOREPLACE, RENAME_EXCHANGE, and the usual error cases.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

build_std_layers
mk_file "$C/pd/x" x;  mk_file "$C/pd/y" y;  mk_file "$C/pd/sub/z" z
mk_file "$C/ld/f" f
mk_file "$C/ld2/f" f
mk_file "$C/nonempty/f" f
mk_dir  "$C/emptydir"
mk_file "$C/xa" xa; mk_file "$B/xb" xb
mk_file "$C/xd/in" in
mk_file "$C/back" back; mk_file "$C/bd/f" f
mk_file "$C/xdir1/in1" 1
ro_snapshot "$B" "$C"

ufs_mount "$DIRS" "$M" || bail "mount failed"

# files
check_errno "rename rw file" OK rename "$M/a_only" "$M/a_moved"
check_content "  new name" "$M/a_moved" a_only
check_errno "  old name gone" ENOENT lstat "$M/a_only"
check_errno "rename lower file (C)" OK rename "$M/c_only" "$M/c_moved"
check_content "  new name" "$M/c_moved" c_only
check_errno "  old name gone" ENOENT lstat "$M/c_only"
check_exists "  copied up under the new name" "$A/c_moved"
check_exists "  whiteout for the old name" "$A/.wh.c_only"
check_errno "rename lower file into a lower-only dir" OK rename "$M/b_only" "$M/cdir/b_moved"
check_content "  new name" "$M/cdir/b_moved" b_only
check "  dir listing" "b_moved x" "$(ls_flat "$M/cdir")"
check_errno "rename lower file over a lower file" OK rename "$M/d/c_file" "$M/d/b_file"
check_content "  target replaced" "$M/d/b_file" c_file
check "  listing" "a_file b_file common sub" "$(ls_flat "$M/d")"
check_errno "rename over whited-out name" OK rename "$M/revived" "$M/hid_by_b"
check_content "  content" "$M/hid_by_b" A
check_errno "rename file onto a dir" EISDIR rename "$M/shared" "$M/cdir"
check_errno "rename missing" ENOENT rename "$M/nope" "$M/nope2"
check_errno "rename into missing dir" ENOENT rename "$M/shared" "$M/nodir/x"

# directories
mkdir -p "$M/rwdir/in"; echo r >"$M/rwdir/in/f"
check_errno "rename rw dir" OK rename "$M/rwdir" "$M/rwdir2"
check_content "  content follows" "$M/rwdir2/in/f" r
check_errno "rename lower-only dir (syscall succeeds)" OK rename "$M/ld" "$M/ld_new"
check "  new name lists the same content" f "$(ls_flat "$M/ld_new")"
check_content "  file content" "$M/ld_new/f" f
check_errno "  old name gone" ENOENT lstat "$M/ld"
check "  root listing" "" "$(ls -A "$M" | grep -x ld)"
check_errno "rename merged dir (A+B+C)" OK rename "$M/d" "$M/d_new"
check "  new name lists the merged content" "a_file b_file common sub" "$(ls_flat "$M/d_new")"
check_content "  nested lower file" "$M/d_new/sub/deep" deep
check_content "  B over C kept" "$M/d_new/common" B
check_errno "  old name gone" ENOENT lstat "$M/d"
check_errno "mkdir at a renamed lower dir's old name" OK mkdir "$M/ld"
check "  is empty (no lower leak)" "" "$(ls -A "$M/ld" 2>&1)"
rm -f "$M/pd/x"
check_errno "rename lower dir with a whited-out entry" OK rename "$M/pd" "$M/pd2"
check "  whited-out entry stays hidden" "sub y" "$(ls_flat "$M/pd2")"
check_errno "rename opaque dir" OK rename "$M/opq" "$M/opq2"
check "  still opaque" b_in_opq "$(ls_flat "$M/opq2")"
check_errno "rename dir into itself" EINVAL rename "$M/pd2" "$M/pd2/sub/inside"
check_errno "rename dir onto non-empty dir" 'ENOTEMPTY|EEXIST' rename "$M/ld2" "$M/nonempty"
check_errno "rename dir onto empty lower dir" OK rename "$M/ld2" "$M/emptydir"
check_content "  content" "$M/emptydir/f" f
check_errno "rename dir onto a file" ENOTDIR rename "$M/emptydir" "$M/shared"

# RENAME_NOREPLACE
check_errno "noreplace onto lower file: EEXIST" EEXIST rename "$M/a_moved" "$M/samebr" noreplace
check_errno "noreplace onto rw file: EEXIST" EEXIST rename "$M/a_moved" "$M/shared" noreplace
check_errno "noreplace onto whited-out name: ok" OK rename "$M/a_moved" "$M/hid_by_a" noreplace
check_content "  content" "$M/hid_by_a" a_only
check_errno "noreplace onto a fresh name: ok" OK rename "$M/hid_by_a" "$M/fresh" noreplace

# RENAME_EXCHANGE
echo one >"$M/e1"; echo two >"$M/e2"
check_errno "exchange two rw files" OK rename "$M/e1" "$M/e2" exchange
check "  swapped" "two one" "$(cat "$M/e1") $(cat "$M/e2")"
check_errno "exchange rw file and lower file" OK rename "$M/e1" "$M/xa" exchange
check "  swapped" "xa two" "$(cat "$M/e1" 2>&1) $(cat "$M/xa" 2>&1)"
check_errno "exchange two lower files" OK rename "$M/xb" "$M/samebr" exchange
check "  swapped" "B xb" "$(cat "$M/xb" 2>&1) $(cat "$M/samebr" 2>&1)"
check_errno "exchange lower dir and rw file" OK rename "$M/xd" "$M/e2" exchange
check "  dir now at e2" in "$(ls_flat "$M/e2")"
check_content "  file now at xd" "$M/xd" one
check_errno "exchange with missing target: ENOENT" ENOENT rename "$M/e1" "$M/nope" exchange

# there and back again
check_errno "rename lower file away" OK rename "$M/back" "$M/back2"
check_errno "  and back" OK rename "$M/back2" "$M/back"
check_content "  content" "$M/back" back
check_errno "  temp name gone" ENOENT lstat "$M/back2"
check_errno "rename lower dir away" OK rename "$M/bd" "$M/bd2"
check_errno "  and back" OK rename "$M/bd2" "$M/bd"
check "  listing" f "$(ls_flat "$M/bd")"
mkdir -p "$M/rwx"; echo rw >"$M/rwx/rwin"
check_errno "exchange lower dir and rw dir" OK rename "$M/xdir1" "$M/rwx" exchange
check "  contents swapped" "in1 | rwin" "$(ls_flat "$M/rwx") | $(ls_flat "$M/xdir1")"

check "no .wh. listed" "" "$(find "$M" -name '.wh.*' 2>&1)"
check "no duplicate names" "" "$(ls -fA "$M" | sort | uniq -d)"

# all of it persists
ufs_remount "$M" || bail "remount failed"
check "after remount: renamed lower dir" f "$(ls_flat "$M/ld_new")"
check "after remount: renamed merged dir" "a_file b_file common sub" "$(ls_flat "$M/d_new")"
check_errno "after remount: old name gone" ENOENT lstat "$M/d"
check "after remount: old name of lower dir is the new empty dir" "" "$(ls -A "$M/ld" 2>&1)"
check "after remount: exchanged" "B xb" "$(cat "$M/xb" 2>&1) $(cat "$M/samebr" 2>&1)"
check "after remount: pd2" "sub y" "$(ls_flat "$M/pd2")"
check_content "after remount: file renamed back" "$M/back" back
check "after remount: dir renamed back" f "$(ls_flat "$M/bd")"
check "after remount: exchanged dirs" "in1 | rwin" "$(ls_flat "$M/rwx") | $(ls_flat "$M/xdir1")"

ufs_umount "$M"
ufs_mount "dirs=$B=ro:$C=ro" "$M" || bail "ro mount failed"
check_errno "ro mount: rename EROFS" EROFS rename "$M/c_only" "$M/c2"
finish
