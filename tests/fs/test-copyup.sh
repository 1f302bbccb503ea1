#!/bin/bash
# SPDX-License-Identifier: MIT
# Copy-up on the first change of a lower object: which operations trigger it,
# and that data (holes kept), mode, owner, timestamps, xattrs and the parents'
# metadata are preserved. The work dir stays invisible and empty.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

new_branches
OLD='2001-02-03 04:05:06.123456789 +0000'
PDATE='2002-03-04 05:06:07.5 +0000'
GDATE='2003-04-05 06:07:08 +0000'
# C/g (grandparent, 0751 1111:2222) / p (parent, 0750 3333:4444) / files
mkdir -p "$C/g/p"
for f in open trunc chmod chown touch setx remx link ren suid plain; do
	mk_file "$C/g/p/$f" "data of $f
second line" 0640
	chown 1234:5678 "$C/g/p/$f"
	setfattr -n user.test -v hello "$C/g/p/$f"
	touch -d "$OLD" "$C/g/p/$f"
done
chmod 04755 "$C/g/p/suid"
chown 3333:4444 "$C/g/p"; chmod 0750 "$C/g/p"; touch -d "$PDATE" "$C/g/p"
chown 1111:2222 "$C/g";   chmod 0751 "$C/g";   touch -d "$GDATE" "$C/g"
# a random 5 MiB file, a 1 GiB sparse file with data at 0 and 512 MiB
head -c 5M /dev/urandom >"$C/rand"
truncate -s 1G "$C/sparse"
printf 'HEAD' | dd of="$C/sparse" conv=notrunc status=none
printf 'MIDDLE' | dd of="$C/sparse" bs=1M seek=512 conv=notrunc status=none
# a lower dir with entries, a lower symlink, a file with a file capability
mk_file "$C/ldir/inner" inner; chmod 0705 "$C/ldir"; touch -d "$PDATE" "$C/ldir"
ln -s g/p/plain "$C/lsym"
mk_file "$C/atonly" at; touch -d "$OLD" "$C/atonly"
mk_file "$C/xdir/e1" 1; mk_file "$C/xdir/e2" 2; setfattr -n user.dold -v dold "$C/xdir"
have_setcap=0
if command -v setcap >/dev/null && mk_file "$C/capfile" cap 0755 &&
	setcap cap_net_raw+ep "$C/capfile" 2>/dev/null; then have_setcap=1; fi
ro_snapshot "$B" "$C"

ufs_mount "$DIRS" "$M" || bail "mount failed"
MP=$M/g/p
ino_before=$(stat -c %i "$MP/chmod")

# nothing is copied up by reads
cat "$MP/plain" "$C/rand" >/dev/null; stat "$MP/open" >/dev/null; getfattr --absolute-names -d "$MP/plain" >/dev/null 2>&1
check_absent "read/stat/getxattr do not copy up" "$A/g"

# each operation triggers a copy-up of its file
printf 'X' >>"$MP/open"
AP=$A/g/p
# parents copied up first, with their metadata; a child copy-up is not a
# visible change to the parent (kernel overlayfs restores the parent times)
check "parent copied up: mode owner" "750 3333:4444" "$(stat -c '%a %u:%g' "$AP" 2>&1)"
check "grandparent copied up: mode owner" "751 1111:2222" "$(stat -c '%a %u:%g' "$A/g" 2>&1)"
check "grandparent mtime preserved" "$(TZ=UTC stat -c %y "$C/g")" "$(TZ=UTC stat -c %y "$A/g" 2>&1)"
check "view: parent mtime unchanged by a copy-up" "$(TZ=UTC stat -c %y "$C/g/p")" "$(TZ=UTC stat -c %y "$MP" 2>&1)"
check "parent mtime preserved in rw branch" "$(TZ=UTC stat -c %y "$C/g/p")" "$(TZ=UTC stat -c %y "$AP" 2>&1)"


truncate -s 4 "$MP/trunc"
chmod 0600 "$MP/chmod"
chown 4321:8765 "$MP/chown"
touch -d '2010-01-01 00:00:00 +0000' "$MP/touch"
setfattr -n user.new -v val "$MP/setx"
setfattr -x user.test "$MP/remx"
ln "$MP/link" "$MP/link2"
mv "$MP/ren" "$MP/ren2"
setfattr -n user.other -v 1 "$MP/suid"

AP=$A/g/p
check "open for write: copied up with appended data" "data of open
second lineX" "$(cat "$AP/open" 2>&1)"
check "truncate: copied up" "data" "$(cat "$AP/trunc" 2>&1)"
check "chmod: copied up with new mode" "600 data of chmod" "$(stat -c %a "$AP/chmod" 2>&1) $(head -n1 "$AP/chmod" 2>&1)"
check "chown: copied up with new owner" "4321:8765" "$(stat -c %u:%g "$AP/chown" 2>&1)"
check "utimens: copied up with new mtime" "2010-01-01 00:00:00.000000000 +0000" "$(TZ=UTC stat -c %y "$AP/touch" 2>&1)"
check "setxattr: copied up with old and new xattr" "hello val" \
	"$(getfattr --absolute-names --only-values -n user.test "$AP/setx" 2>&1) $(getfattr --absolute-names --only-values -n user.new "$AP/setx" 2>&1)"
check "removexattr: copied up without it" "" "$(getfattr --absolute-names -d -m '^user\.' "$AP/remx" 2>/dev/null)"
check_exists "removexattr: copied up" "$AP/remx"
check "link: both names in rw, one inode" "$(stat -c %i "$AP/link" 2>&1)" "$(stat -c %i "$AP/link2" 2>&1)"
check "rename: new name in rw" "data of ren
second line" "$(cat "$AP/ren2" 2>&1)"
check_exists "rename: whiteout for old name" "$AP/.wh.ren"

# metadata preserved on the copies (those not changed by the op itself)
for f in open trunc chmod touch setx remx link ren2; do
	want_mode=640; [ $f = chmod ] && want_mode=600
	check "$f: mode and owner preserved" "$want_mode 1234:5678" "$(stat -c '%a %u:%g' "$AP/$f" 2>&1)"
done
for f in chmod chown setx remx link ren2; do
	check "$f: mtime preserved" "2001-02-03 04:05:06.123456789 +0000" "$(TZ=UTC stat -c %y "$AP/$f" 2>&1)"
done
for f in open trunc chmod chown touch link ren2; do
	check "$f: user.* xattr preserved" hello "$(getfattr --absolute-names --only-values -n user.test "$AP/$f" 2>&1)"
done
check "setuid file: mode 4755 kept by a setxattr copy-up" 4755 "$(stat -c %a "$AP/suid" 2>&1)"
check "chmod: data intact" "data of chmod
second line" "$(cat "$MP/chmod" 2>&1)"
check "st_ino unchanged by copy-up" "$ino_before" "$(stat -c %i "$MP/chmod" 2>&1)"
check "view shows new mode" 600 "$(stat -c %a "$MP/chmod" 2>&1)"

# big and sparse files
printf 'Z' >>"$M/rand"
check "5 MiB file: data intact after append" \
	"$( { cat "$C/rand"; printf Z; } | md5sum)" "$(md5sum <"$A/rand" 2>&1)"
t0=$(date +%s)
printf 'E' >>"$M/sparse"
t1=$(date +%s)
note "1 GiB sparse copy-up took $((t1 - t0)) s"
check "sparse: size after append" $((1024 * 1024 * 1024 + 1)) "$(stat -c %s "$A/sparse" 2>&1)"
lowblk=$(stat -c %b "$C/sparse")
upblk=$(stat -c %b "$A/sparse" 2>/dev/null || echo 999999999)
if [ "$upblk" -le $((lowblk + 64)) ]; then pass "sparse: holes kept in rw branch ($upblk blocks, lower $lowblk)"
else fail "sparse: holes kept in rw branch" "expected <= $((lowblk + 64)) blocks, got $upblk"; fi
check "sparse: data at 0"      HEAD   "$(dd if="$M/sparse" bs=4 count=1 status=none 2>&1)"
check "sparse: data at 512 MiB" MIDDLE "$(dd if="$M/sparse" bs=1M skip=512 count=1 status=none 2>&1 | head -c 6)"
check "sparse: appended byte"  E      "$(tail -c 1 "$M/sparse" 2>&1)"

# directories and symlinks copy up too
chmod 0755 "$M/ldir"
check "dir chmod: copied up" "755" "$(stat -c %a "$A/ldir" 2>&1)"
check "dir chmod: lower entries still listed" inner "$(ls_flat "$M/ldir")"
check "dir chmod: mtime preserved" "$(TZ=UTC stat -c %y "$C/ldir")" "$(TZ=UTC stat -c %y "$A/ldir" 2>&1)"
chown -h 99:99 "$M/lsym"
check "symlink chown -h: copied up as a symlink" "g/p/plain 99:99" "$(readlink "$A/lsym" 2>&1) $(stat -c %u:%g "$A/lsym" 2>&1)"

# atime-only change: copy-up keeps mtime
touch -a -d '2011-01-01 00:00:00 +0000' "$M/atonly"
check "touch -a: copied up, atime set" "2011-01-01 00:00:00.000000000 +0000" "$(TZ=UTC stat -c %x "$A/atonly" 2>&1)"
check "touch -a: mtime preserved" "$(TZ=UTC stat -c %y "$C/atonly")" "$(TZ=UTC stat -c %y "$A/atonly" 2>&1)"
# xattr on a lower dir: the dir is copied up with its xattrs, still merged
setfattr -n user.dnew -v dv "$M/xdir"
check "dir setxattr: copied up with old and new xattrs" "dold dv" \
	"$(getfattr --absolute-names --only-values -n user.dold "$A/xdir" 2>&1) $(getfattr --absolute-names --only-values -n user.dnew "$A/xdir" 2>&1)"
check "dir setxattr: lower entries still listed" "e1 e2" "$(ls_flat "$M/xdir")"

# file capability (security.capability) kept
if [ $have_setcap = 1 ]; then
	setfattr -n user.x -v 1 "$M/capfile"
	check "security.capability preserved" "$(getcap "$C/capfile" | awk '{print $2}')" \
		"$(getcap "$A/capfile" 2>&1 | awk '{print $2}')"
else
	skip "security.capability preserved" "setcap not usable here"
fi

# O_TRUNC open of a lower file gives an empty file
: >"$M/g/p/plain"
check "O_TRUNC copy-up: empty" 0 "$(stat -c %s "$M/g/p/plain" 2>&1)"
check "O_TRUNC copy-up: owner kept" 1234:5678 "$(stat -c %u:%g "$A/g/p/plain" 2>&1)"

# the work dir: in the rw branch, never visible, nothing left behind
check "work dir not visible" "" "$(ls -A "$M" | grep -F .wh. )"
check_errno "work dir not resolvable" 'ENOENT|EINVAL|EPERM' lstat "$M/.wh..wh.work"
ufs_umount "$M"
if [ -d "$A/.wh..wh.work" ]; then
	check "work dir empty after copy-ups" "" "$(work_leftovers "$A/.wh..wh.work")"
else
	skip "work dir empty after copy-ups" "no $A/.wh..wh.work"
fi
ufs_mount "$DIRS" "$M" || bail "remount failed"
check "after remount: view of grandparent mtime is the lower one" "$(TZ=UTC stat -c %y "$C/g")" "$(TZ=UTC stat -c %y "$M/g" 2>&1)"
ufs_umount "$M"
check "data reached the rw branch after unmount" "data of open
second lineX" "$(cat "$AP/open" 2>&1)"
finish
