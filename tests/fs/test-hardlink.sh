#!/bin/bash
# SPDX-License-Identifier: MIT
# Hard links made through the mount: one st_ino, the right st_nlink, shared
# data, for rw files and for lower files (copied up once, then linked).
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

build_std_layers
ufs_mount "$DIRS" "$M" || bail "mount failed"

nl() { stat -c %h "$1" 2>&1; }
ino() { stat -c %i "$1" 2>&1; }

echo one >"$M/h1"
check_errno "link rw file" OK link "$M/h1" "$M/h2"
check "  same st_ino" "$(ino "$M/h1")" "$(ino "$M/h2")"
check "  st_nlink 2 on both" "2 2" "$(nl "$M/h1") $(nl "$M/h2")"
check_errno "third link in a lower-only dir" OK link "$M/h1" "$M/cdir/h3"
check "  st_nlink 3" "3 3 3" "$(nl "$M/h1") $(nl "$M/h2") $(nl "$M/cdir/h3")"
echo two >>"$M/h2"
check "  write through one name seen through another" "one
two" "$(cat "$M/cdir/h3" 2>&1)"
check "  size seen through another name" "$(stat -c %s "$M/h2")" "$(stat -c %s "$M/h1")"
rm "$M/h1"
check "  st_nlink after unlink" "2 2" "$(nl "$M/h2") $(nl "$M/cdir/h3")"
check "  data after unlink" "one
two" "$(cat "$M/h2" 2>&1)"

c_ino=$(ino "$M/c_only")
check_errno "link lower file" OK link "$M/c_only" "$M/c_link"
check "  same st_ino" "$c_ino $c_ino" "$(ino "$M/c_only") $(ino "$M/c_link")"
check "  st_nlink 2" "2 2" "$(nl "$M/c_only") $(nl "$M/c_link")"
check "  one inode in the rw branch" "$(ino "$A/c_only")" "$(ino "$A/c_link")"
check_content "  content" "$M/c_link" c_only
echo X >>"$M/c_link"
check "  write through the link seen through the original" "c_onlyX" "$(cat "$M/c_only" 2>&1)"
check_errno "second link of the copied-up file" OK link "$M/c_only" "$M/d/c_link2"
check "  st_nlink 3" "3" "$(nl "$M/c_only")"
check_errno "link over an existing lower name" EEXIST link "$M/c_only" "$M/b_only"
check_errno "link over a whited-out name" OK link "$M/c_only" "$M/hid_by_b"
check "  st_nlink 4" 4 "$(nl "$M/c_only")"
check_errno "link of a dir" EPERM link "$M/cdir" "$M/cdir_link"
check_errno "link of missing" ENOENT link "$M/nope" "$M/nope2"
chmod 600 "$M/c_link"
check "  chmod through one name seen through another" 600 "$(stat -c %a "$M/c_only")"
mv "$M/c_link" "$M/c_link_moved"
check "  rename keeps the link" "$c_ino 4" "$(ino "$M/c_link_moved") $(nl "$M/c_link_moved")"
rm "$M/c_only"
check "  unlink of the original name" 3 "$(nl "$M/c_link_moved")"
check_errno "  original name gone" ENOENT lstat "$M/c_only"

echo k >"$M/k1"; ln "$M/k1" "$M/k2"; echo other >"$M/kother"
mv "$M/kother" "$M/k1"
check "rename over one of two links: the other's st_nlink" 1 "$(nl "$M/k2")"
check_content "  the other's data" "$M/k2" k
check_errno "link the survivor of a rename-over to a new name" OK link "$M/k2" "$M/k3"
check "  st_nlink" "2 2" "$(nl "$M/k2") $(nl "$M/k3")"
check_errno "  unlink the survivor" OK unlink "$M/k2"
check_errno "  rename the new link" OK rename "$M/k3" "$M/k4"
check_content "  data" "$M/k4" k

# link, unlink the new name, link again: the node was detached with the
# name it was last known by; the next link is made from the object itself
echo p >"$M/p0"
for i in 1 2 3; do ln "$M/p0" "$M/p$i" && rm "$M/p$i"; done
check_errno "link after link+unlink of the same file" OK link "$M/p0" "$M/p9"
check "  same st_ino" "$(ino "$M/p0")" "$(ino "$M/p9")"
check "  st_nlink 2 on both" "2 2" "$(nl "$M/p0") $(nl "$M/p9")"
check "  one inode in the rw branch" "$(ino "$A/p0")" "$(ino "$A/p9")"
check_content "  data" "$M/p9" p
check "  the removed names gone" "p0 p9" "$(ls "$M" | grep -x 'p[0-9]' | tr '\n' ' ' | sed 's/ $//')"

ufs_remount "$M" || bail "remount failed"
check "after remount: links share st_ino" "$(ino "$M/h2")" "$(ino "$M/cdir/h3")"
check "after remount: st_nlink" "2 3" "$(nl "$M/h2") $(nl "$M/c_link_moved")"
check "after remount: content" "c_onlyX" "$(cat "$M/d/c_link2" 2>&1)"
finish
