#!/bin/bash
# SPDX-License-Identifier: MIT
# unlink/rmdir of lower objects write .wh.NAME in the rw branch; rmdir of a
# merged dir is ENOTEMPTY while any branch still shows an entry; rm -rf then
# mkdir gives an empty opaque dir; .wh. names cannot be created.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

build_std_layers
mk_dir "$C/emptyd"
mk_file "$C/allwh/x" x;  mk_file "$C/allwh/y" y;  mk_wh "$A/allwh" x;  mk_wh "$B/allwh" y
mk_file "$C/wd/old" old; mk_wh "$B" wd          # whited-out dir, to be recreated
mk_file "$C/nested/a/b/c" c
mk_file "$C/wd2/old" old; mk_wh "$A" wd2         # whited out in the rw branch itself
LONG=$(printf 'L%.0s' $(seq 1 253))               # .wh.+253 chars > NAME_MAX
mk_file "$C/$LONG" long
mk_file "$C/lowd/x" x
ro_snapshot "$B" "$C"

ufs_mount "$DIRS" "$M" || bail "mount failed"

# unlink
check_errno "unlink file only in B" OK unlink "$M/b_only"
check_exists "  whiteout written in rw" "$A/.wh.b_only"
check_errno "  name gone" ENOENT lstat "$M/b_only"
check_errno "unlink file in A, B and C" OK unlink "$M/shared"
check_absent "  rw copy removed" "$A/shared"
check_exists "  whiteout written in rw" "$A/.wh.shared"
check_errno "  name gone (not B's or C's showing through)" ENOENT lstat "$M/shared"
check_errno "unlink file only in A" OK unlink "$M/a_only"
check_errno "  name gone" ENOENT lstat "$M/a_only"
check_errno "unlink in lower-only dir" OK unlink "$M/d/c_file"
check "  parent copied up as a dir" directory "$(stat -c %F "$A/d" 2>&1)"
check_exists "  whiteout in copied-up parent" "$A/d/.wh.c_file"
check "  merged listing" "a_file b_file common sub" "$(ls_flat "$M/d")"
check_errno "unlink OCI same-branch name" OK unlink "$M/samebr"
check_errno "  name gone" ENOENT lstat "$M/samebr"
check_errno "unlink missing name" ENOENT unlink "$M/nope"
check_errno "unlink whited-out name" ENOENT unlink "$M/hid_by_b"
check_errno "unlink a dir" 'EISDIR|EPERM' unlink "$M/cdir"

# rmdir
check_errno "rmdir empty lower dir" OK rmdir "$M/emptyd"
check_exists "  whiteout written in rw" "$A/.wh.emptyd"
check_errno "  name gone" ENOENT lstat "$M/emptyd"
check_errno "rmdir merged dir with entries: ENOTEMPTY" ENOTEMPTY rmdir "$M/d"
check_errno "rmdir lower dir with an entry only in C: ENOTEMPTY" ENOTEMPTY rmdir "$M/cdir"
check_errno "rmdir dir whose lower entries are all whited out" OK rmdir "$M/allwh"
check_errno "  name gone" ENOENT lstat "$M/allwh"
check_exists "  whiteout written in rw" "$A/.wh.allwh"
check_errno "rmdir a file" ENOTDIR rmdir "$M/c_only"
check_errno "rmdir missing" ENOENT rmdir "$M/nope"

# rmdir of an upper-only empty dir: one rmdir(2) (the rmdir_fast counter),
# no whiteout, nothing left in the work dir; the other cases take the
# general path (merged listing, work dir, whiteout where a lower name shows)
fast() { ufs_counter "$M" rmdir_fast; }
f0=$(fast); w0=$(ufs_counter "$M" whiteout)
mkdir "$M/newd"
check_errno "rmdir of an upper-only empty dir" OK rmdir "$M/newd"
check "  one rmdir(2): the fast path" $((f0 + 1)) "$(fast)"
check "  no whiteout written" "$w0" "$(ufs_counter "$M" whiteout)"
check_absent "  gone from the rw branch" "$A/newd"
check "  nothing left in the work dir" "" "$(work_leftovers "$A/.wh..wh.work")"
mkdir -p "$M/newd2/sub"
check_errno "rmdir of an upper-only dir with an entry: ENOTEMPTY" ENOTEMPTY rmdir "$M/newd2"
check "  not counted as fast" $((f0 + 1)) "$(fast)"
mk_dir "$A/whonly"; mk_wh "$A/whonly" ghost      # only a whiteout inside
check_errno "rmdir of an upper-only dir holding only a whiteout" OK rmdir "$M/whonly"
check "  general path" $((f0 + 1)) "$(fast)"
check_absent "  gone from the rw branch" "$A/whonly"
check "  nothing left in the work dir" "" "$(work_leftovers "$A/.wh..wh.work")"
rm "$M/lowd/x"                                    # a lower dir emptied through the mount
check_errno "rmdir of a merged dir emptied by whiteouts" OK rmdir "$M/lowd"
check "  general path" $((f0 + 1)) "$(fast)"
check_exists "  whiteout written" "$A/.wh.lowd"
check_errno "  name gone" ENOENT lstat "$M/lowd"

# rm -rf of a merged dir, then mkdir: empty and opaque
check_true "rm -rf merged dir" rm -rf "$M/d"
check_errno "  name gone" ENOENT lstat "$M/d"
check_exists "  whiteout written in rw" "$A/.wh.d"
check "  not listed" "" "$(ls -A "$M" | grep -x d)"
check_errno "mkdir over the removed dir" OK mkdir "$M/d"
check "  new dir is empty" "" "$(ls -A "$M/d" 2>&1)"
check_exists "  and opaque in rw" "$A/d/.wh..wh..opq"
check_errno "  old lower entry not resolvable" ENOENT lstat "$M/d/c_file"
check_errno "  rmdir of the new empty dir" OK rmdir "$M/d"
check_true "rm -rf nested lower-only tree" rm -rf "$M/nested"
check_errno "  gone" ENOENT lstat "$M/nested"
check "  no listing of it" "" "$(ls -A "$M" | grep -x nested)"

# mkdir over a whiteout that hides a lower dir: must not show the old content
check_errno "mkdir over whited-out lower dir" OK mkdir "$M/wd"
check "  new dir is empty" "" "$(ls -A "$M/wd" 2>&1)"
check_errno "  old entry not resolvable" ENOENT lstat "$M/wd/old"

# create over whiteouts
echo new >"$M/hid_by_b"
check_content "create over a whiteout in B" "$M/hid_by_b" new
echo new2 >"$M/hid_by_a"
check_content "create over a whiteout in A" "$M/hid_by_a" new2
check "  listed once" 1 "$(ls -A "$M" | grep -cx hid_by_a)"
echo again >"$M/b_only"
check_content "re-create after unlink" "$M/b_only" again
mkdir "$M/emptyd"
check "re-create dir after rmdir: empty" "" "$(ls -A "$M/emptyd" 2>&1)"

# remove what was created over a whiteout: the lower object stays hidden
check_errno "mkdir over whiteout in rw" OK mkdir "$M/wd2"
check_errno "  then rmdir" OK rmdir "$M/wd2"
check_errno "  lower dir stays hidden" ENOENT lstat "$M/wd2"
check "  (an opaque upper dir over a lower name: not the fast path)" $((f0 + 1)) "$(fast)"
check_errno "unlink the file created over a whiteout in A" OK unlink "$M/hid_by_a"
check_errno "  lower file stays hidden" ENOENT lstat "$M/hid_by_a"
echo tmp >"$M/hid_by_a"; rm -f "$M/hid_by_a"; echo tmp2 >"$M/hid_by_a"
check_content "  create, unlink, create again" "$M/hid_by_a" tmp2

# a lower name too long for its whiteout: removed all the same (the root is
# made opaque, see test-longname.sh), the rest of the root still shows
check_errno "unlink of a 253-char lower name" OK unlink "$M/$LONG"
check_errno "  gone" ENOENT lstat "$M/$LONG"
check_content "  a lower file beside it still shows" "$M/c_only" c_only

# whiteout names cannot be created through the mount
check_errno "create .wh.x refused"          'EINVAL|EPERM' open "$M/.wh.x" wc
check_errno "mkdir .wh.x refused"           'EINVAL|EPERM' mkdir "$M/.wh.x"
check_errno "symlink .wh.x refused"         'EINVAL|EPERM' symlink target "$M/.wh.x"
check_errno "mknod .wh.x refused"           'EINVAL|EPERM' mknod "$M/.wh.x" p
check_errno "link to .wh.x refused"         'EINVAL|EPERM' link "$M/c_only" "$M/.wh.x"
check_errno "rename to .wh.x refused"       'EINVAL|EPERM' rename "$M/c_only" "$M/.wh.x"
check_errno "create x.wh.y allowed" OK open "$M/x.wh.y" wc
check_errno "create .whx allowed" OK open "$M/.whx" wc
check_errno "mkdir .wh allowed" OK mkdir "$M/.wh"
check "  listed" ".wh .whx x.wh.y" "$(ls -A "$M" | grep -E '^\.wh|wh\.' | sort | tr '\n' ' ' | sed 's/ $//')"
check_errno "create .wh..wh..opq refused"   'EINVAL|EPERM' open "$M/cdir/.wh..wh..opq" wc
check_errno "create .wh.c_only (would hide) refused" 'EINVAL|EPERM' open "$M/.wh.c_only" wc
check_errno "  c_only still visible"        OK lstat "$M/c_only"
check_absent "  nothing created in rw"      "$A/.wh.x"

# persistence: the same view after a remount
ufs_remount "$M" || bail "remount failed"
check_errno "after remount: unlinked file stays gone" ENOENT lstat "$M/shared"
check_errno "after remount: removed dir stays gone" ENOENT lstat "$M/allwh"
check "after remount: recreated dir empty" "" "$(ls -A "$M/wd" 2>&1)"
check_content "after remount: created over whiteout" "$M/hid_by_a" tmp2
check_errno "after remount: rmdir'd dir over whiteout stays gone" ENOENT lstat "$M/wd2"
check_errno "after remount: long name stays gone" ENOENT lstat "$M/$LONG"
check "after remount: no .wh. listed" "" "$(find "$M" -name '.wh.*' 2>&1)"

# read-only mount: EROFS
ufs_umount "$M"
ufs_mount "dirs=$B=ro:$C=ro" "$M" || bail "ro mount failed"
check_errno "ro mount: unlink EROFS" EROFS unlink "$M/b_only"
check_errno "ro mount: rmdir EROFS" EROFS rmdir "$M/cdir"
check_errno "ro mount: create EROFS" EROFS open "$M/newf" wc
check_errno "ro mount: mkdir EROFS" EROFS mkdir "$M/newd"
check_errno "ro mount: open for write EROFS" EROFS open "$M/b_only" w
finish
