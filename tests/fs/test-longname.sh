#!/bin/bash
# SPDX-License-Identifier: MIT
# Names of 252 to 255 bytes, whose ".wh." whiteout cannot exist: statfs
# reports the limit that can still be whited out (251, as fuse-overlayfs);
# lower names that long are removed and renamed away anyway, by making their
# parent opaque with the rest of its visible tree copied up (docs/format.md).
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

name_of() { printf "$1%.0s" $(seq 1 "$2"); }
L255=$(name_of L 255)
L252=$(name_of M 252)
L251=$(name_of W 251)
D255=$(name_of D 255)
R255=$(name_of R 255)
new_branches
mk_file "$C/d/$L255" c255
mk_file "$C/f/$L251" c251
mk_file "$C/d/keep" keep
mk_file "$C/d/sub/deep/f" deep
mk_file "$B/d/sub/b_only" b_only
mk_wh "$B/d" hidden;  mk_file "$C/d/hidden" hidden
mk_file "$C/d/$D255/inner" inner
mk_file "$C/d/$R255" r255
mk_file "$C/e/$L252" c252
ro_snapshot "$B" "$C"

ufs_mount "$DIRS" "$M" || bail "mount failed"
check "statfs: name limit 251 (255 minus '.wh.')" 251 "$(stat -f -c %l "$M")"

check_errno "unlink a 255-byte lower name" OK unlink "$M/d/$L255"
check_errno "  gone" ENOENT lstat "$M/d/$L255"
check "  the rest of the dir still shows (lower, merged, whiteouts kept)" \
	"$D255 $R255 keep sub" "$(ls_flat "$M/d")"
check "  nested lower dirs keep their merged content" "b_only deep" "$(ls_flat "$M/d/sub")"
check_content "  nested lower file" "$M/d/sub/deep/f" deep
check_errno "  a name whited out below stays hidden" ENOENT lstat "$M/d/hidden"
check_exists "  rw branch: the parent is opaque" "$A/d/.wh..wh..opq"
check_absent "  rw branch: no copy of the removed file" "$A/d/$L255"
check_errno "unlink a 251-byte lower name: an ordinary whiteout" OK unlink "$M/f/$L251"
check_exists "  .wh. + 251 bytes in the rw branch" "$A/f/.wh.$L251"

check_errno "rmdir of a 255-byte lower dir (emptied first)" OK unlink "$M/d/$D255/inner"
check_errno "  rmdir" OK rmdir "$M/d/$D255"
check_errno "  gone" ENOENT lstat "$M/d/$D255"

check_errno "rename a 252-byte lower name away" OK rename "$M/e/$L252" "$M/e/short"
check_errno "  old name gone" ENOENT lstat "$M/e/$L252"
check_content "  new name has the data" "$M/e/short" c252
check_exists "  rw branch: the source dir is opaque" "$A/e/.wh..wh..opq"

check_errno "create a 255-byte new name" OK open "$M/e/$L255" wc
check_errno "  and unlink it (upper only: no whiteout needed)" OK unlink "$M/e/$L255"

echo over >"$T/over"
check_errno "rename onto a 255-byte lower name" OK rename "$M/e/short" "$M/d/$R255"
check_content "  replaced" "$M/d/$R255" c252

ufs_remount "$M" || bail "remount failed"
check_errno "after remount: the 255-byte name stays gone" ENOENT lstat "$M/d/$L255"
check "after remount: same listing" "$R255 keep sub" "$(ls_flat "$M/d")"
check "after remount: no .wh. listed" "" "$(find "$M" -name '.wh.*' 2>&1)"
finish
