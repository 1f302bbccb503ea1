#!/bin/bash
# SPDX-License-Identifier: MIT
# The overlay syntax and format (docs/format.md "The overlay format"):
# -o lowerdir=,upperdir=,workdir= as kernel overlayfs and fuse-overlayfs take
# them; whiteouts as 0/0 char devices named after what they hide (or
# xwhiteout files), opaque dirs by the overlay.opaque xattr, read in the
# lower dirs as written, and the AUFS names read there too (containers/storage
# unpacks layers that way for a mount program). Kernel overlayfs, mounted on
# the same dirs, must see what we see, and we must see what it wrote.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
command -v setfattr >/dev/null 2>&1 || skip_all "setfattr (attr) missing"

L1=$T/L1 L2=$T/L2 U=$T/U W=$T/W M=$T/mnt K=$T/kmnt
mkdir -p "$L1" "$L2" "$U" "$W" "$M" "$K"
OPTS="lowerdir=$L1:$L2,upperdir=$U,workdir=$W"
# L2 (bottom)
mk_file "$L2/f2" f2
mk_file "$L2/d/a" a;          mk_file "$L2/d/sub/s" s
mk_file "$L2/gone" gone;      mk_file "$L2/opq/x" x
mk_file "$L2/xw/x2" x2;       mk_file "$L2/xw/keep" keep
mk_file "$L2/mv/src" src;     mk_file "$L2/dirmv/in" in
mknod "$L2/null" c 1 3        # a real char device: never a whiteout
# L1 (top lower): overlay encodings
mk_file "$L1/d/b" b
mknod "$L1/gone" c 0 0                                  # whiteout
mk_file "$L1/opq/y" y; setfattr -n trusted.overlay.opaque -v y "$L1/opq"
mkdir -p "$L1/xw"; setfattr -n trusted.overlay.opaque -v x "$L1/xw"
: >"$L1/xw/x2"; setfattr -n trusted.overlay.whiteout -v "" "$L1/xw/x2"   # xwhiteout
ro_snapshot "$L1" "$L2"

view() { (cd "$1" && find . -path ./lost+found -prune -o -printf '%p %y %s\n' | sort); }

ufs_mount "$OPTS" "$M" || bail "mount failed"
check "mount type" "fuse.ufsmount" "$(awk -v m="$M" '$5 == m { for (i = 7; $i != "-"; i++) ; print $(i + 1) }' /proc/self/mountinfo)"
check "--status: format" "overlay (0/0 char device whiteouts)" "$("$UFSMOUNT" --status "$M" | sed -n 's/^format *//p')"
check "lower view: root" "d dirmv f2 mv null opq xw" "$(ls -A "$M" | tr '\n' ' ' | sed 's/ $//')"
check "lower view: merged dir" "a b sub" "$(ls_flat "$M/d")"
check_errno "lower view: char 0/0 whiteout hides" ENOENT lstat "$M/gone"
check "lower view: opaque xattr dir" "y" "$(ls_flat "$M/opq")"
check "lower view: xwhiteout in an x dir hides" "keep" "$(ls_flat "$M/xw")"
check_errno "  and lookup agrees" ENOENT lstat "$M/xw/x2"
check "lower view: a real char device stays" "character special file 1:3" "$(stat -c '%F %t:%T' "$M/null")"
check "statfs: the full name limit (whiteouts have the name itself)" 255 "$(stat -f -c %l "$M")"
check "listxattr hides trusted.overlay.*" "" "$(getfattr -d -m - "$M/opq" 2>/dev/null | grep overlay)"
check_false "getfattr trusted.overlay.opaque through the mount fails" getfattr -n trusted.overlay.opaque "$M/opq"
check_false "setfattr trusted.overlay.opaque through the mount fails" setfattr -n trusted.overlay.opaque -v y "$M/d"

# writes
rm "$M/f2"
check "rm lower file: upper holds a 0/0 char device of that name" "character special file 0:0" "$(stat -c '%F %t:%T' "$U/f2")"
check_absent "  no .wh. name written" "$U/.wh.f2"
check_errno "  gone from the view" ENOENT lstat "$M/f2"
echo new >"$M/f2"
check_content "create over the whiteout" "$M/f2" new
check "  the upper file replaced it" "regular file" "$(stat -c %F "$U/f2")"
rm -rf "$M/d/sub"
check "rm -rf a lower dir: a char device whiteout" "character special file" "$(stat -c %F "$U/d/sub")"
mkdir "$M/d/sub"
check "mkdir over it: a dir" "directory" "$(stat -c %F "$U/d/sub")"
check "  marked opaque by xattr" "y" "$(getfattr --only-values -n trusted.overlay.opaque "$U/d/sub" 2>/dev/null)"
check_absent "  no .wh..wh..opq file" "$U/d/sub/.wh..wh..opq"
check "  empty in the view" "" "$(ls -A "$M/d/sub")"
rm "$M/d/a"; ln -s target "$M/d/a"
check "symlink over a whiteout" "target" "$(readlink "$M/d/a")"
rm "$M/d/b"; mkfifo "$M/d/b"
check "mkfifo over a whiteout" "fifo" "$(stat -c %F "$M/d/b")"
rm "$M/xw/keep"; ln "$M/f2" "$M/xw/keep"
check_content "hard link over a whiteout" "$M/xw/keep" new
mv "$M/mv/src" "$M/mv/dst"
check "rename of a lower file: whiteout at the source" "character special file 0:0" "$(stat -c '%F %t:%T' "$U/mv/src")"
check_content "  data at the target" "$M/mv/dst" src
mv "$M/dirmv" "$M/dirmv2"
check "rename of a lower dir: whiteout at the source" "character special file" "$(stat -c %F "$U/dirmv")"
check_content "  tree at the target" "$M/dirmv2/in" in
mkdir "$M/dirmv"; rmdir "$M/dirmv"
mkdir "$M/newd"; echo in >"$M/newd/f"
mv "$M/newd" "$M/mv/src"    # mv/src is a whiteout now
check_content "rename a dir onto a whiteout" "$M/mv/src/f" in
check "work dir: only its lock file left" "" "$(work_leftovers "$W/work")"
view "$M" >"$T/ours.view"
ufs_umount "$M"

# kernel overlayfs on the same dirs sees the same tree
if mount -t overlay overlay -o "lowerdir=$L1:$L2,upperdir=$U,workdir=$W" "$K" 2>"$T/kerr"; then
	_track_mount "$K"
	check "kernel overlayfs shows what we showed" "$(cat "$T/ours.view")" "$(view "$K")"
	# ... and what it writes, we read
	rm "$K/null"; rm -rf "$K/opq"; mkdir "$K/opq"; echo k >"$K/opq/k"; mv "$K/d/b" "$K/d/kb"
	view "$K" >"$T/kernel.view"
	umount "$K"
	ufs_mount "$OPTS" "$M" || bail "remount failed"
	check "we show what kernel overlayfs wrote" "$(cat "$T/kernel.view")" "$(view "$M")"
	ufs_umount "$M"
else
	skip "kernel overlayfs cross-check" "mount -t overlay failed: $(cat "$T/kerr")"
fi
rm -rf "$W/index" "$W/work"

# AUFS names in a lower dir are read too (containers/storage's layers)
A0=$T/A0; mkdir -p "$A0/ad"
mk_file "$A0/ad/x" x; mk_wh "$A0" f2; mk_opq "$A0/opq"
# an overlay.whiteout file outside a dir marked "x" is a file (as the kernel
# lists it; its lookup hides it, which we do not follow: a listed name that
# cannot be looked up breaks find(1))
mkdir -p "$A0/nx"; : >"$A0/nx/e"; setfattr -n trusted.overlay.whiteout -v "" "$A0/nx/e"
mkdir -p "$T/U2"
ufs_mount "lowerdir=$A0:$L1:$L2,upperdir=$T/U2,workdir=$W" "$M" || bail "mount failed"
check_errno "AUFS .wh.NAME in a lower dir hides" ENOENT lstat "$M/f2"
check "AUFS .wh..wh..opq in a lower dir makes it opaque" "" "$(ls -A "$M/opq")"
check "  no .wh. name listed" "" "$(find "$M" -name '.wh.*')"
check "an overlay.whiteout file outside an x dir: listed" "e" "$(ls_flat "$M/nx")"
check_errno "  and found" OK lstat "$M/nx/e"
ufs_umount "$M"

# xwhiteout: whiteouts as files with overlay.whiteout (where mknod is refused)
mkdir -p "$T/U3" "$T/W3"
ufs_mount "lowerdir=$L2,upperdir=$T/U3,workdir=$T/W3,xwhiteout" "$M" || bail "mount failed"
rm "$M/d/a"
check "xwhiteout: an empty regular file" "regular empty file" "$(stat -c %F "$T/U3/d/a")"
check "  with trusted.overlay.whiteout" yes "$(getfattr -n trusted.overlay.whiteout "$T/U3/d/a" >/dev/null 2>&1 && echo yes || echo no)"
check "  its dir marked overlay.opaque=x" "x" "$(getfattr --only-values -n trusted.overlay.opaque "$T/U3/d" 2>/dev/null)"
check_errno "  hidden" ENOENT lstat "$M/d/a"
check "  listing" "sub" "$(ls_flat "$M/d")"
ufs_umount "$M"
if mount -t overlay overlay -o "lowerdir=$T/U3:$L2" "$K" 2>/dev/null; then
	check "  kernel overlayfs reads our xwhiteout" "sub" "$(ls_flat "$K/d")"
	umount "$K"
fi

# read-only: lowerdir= alone
ufs_mount "lowerdir=$L1:$L2" "$M" || bail "ro mount failed"
check_errno "lowerdir only: read-only" EROFS open "$M/newfile" wc
check "  the view" "a b sub" "$(ls_flat "$M/d")"
ufs_umount "$M"

# the lock: same upper with another work dir, same work dir with another upper
mkdir -p "$T/W4" "$T/U4"
ufs_mount "$OPTS" "$M" || bail "mount failed"
out=$("$UFSMOUNT" -o "lowerdir=$L2,upperdir=$U,workdir=$T/W4" "$K" 2>&1); rc=$?
check "same upperdir, another workdir: refused" 1 "$rc"
check_re "  says so" "upperdir|branch '$U': in use" "$out"
out=$("$UFSMOUNT" -o "lowerdir=$L2,upperdir=$T/U4,workdir=$W" "$K" 2>&1); rc=$?
check "same workdir, another upperdir: refused" 1 "$rc"
check_re "  names the holder" "in use as the rw branch of the mount on $M" "$out"
ufs_umount "$M"

# id mapping (fuse-overlayfs's uidmapping=DISK:VIEW:COUNT, squash_to_*)
mkdir -p "$T/U5" "$T/W5"; mk_file "$T/L5/root_file" r; mk_file "$T/L5/u1000" u
chown 1000:1000 "$T/L5/u1000"
mk_file "$T/L5/unmapped" x; chown 80000:80000 "$T/L5/unmapped"
ufs_mount "lowerdir=$T/L5,upperdir=$T/U5,workdir=$T/W5,uidmapping=0:100000:65536,gidmapping=0:200000:65536" "$M" || bail "idmap mount failed"
check "uidmapping: disk 0 shows as 100000/200000" "100000 200000" "$(stat -c '%u %g' "$M/root_file")"
check "  disk 1000 shows as 101000" "101000 201000" "$(stat -c '%u %g' "$M/u1000")"
check "  an unmapped id shows as 65534" "65534 65534" "$(stat -c '%u %g' "$M/unmapped")"
# the root dir is disk uid 0, view uid 100000: that uid may write it
setpriv --reuid=100000 --regid=200000 --clear-groups -- sh -c "echo n >'$M/by_root_in_ctr'"
check "  a file made by view uid 100000 is stored as 0" "0 0" "$(stat -c '%u %g' "$T/U5/by_root_in_ctr" 2>&1)"
chown 101005:201005 "$M/by_root_in_ctr"
check "  chown to view 101005 stores 1005" "1005 1005" "$(stat -c '%u %g' "$T/U5/by_root_in_ctr")"
ufs_umount "$M"
ufs_mount "lowerdir=$T/L5,upperdir=$T/U5,workdir=$T/W5,squash_to_uid=1234,squash_to_gid=4321" "$M" || bail "squash mount failed"
check "squash_to_uid/gid: every owner shown as one" "1234 4321 1234 4321" "$(stat -c '%u %g' "$M/root_file" "$M/u1000" | tr '\n' ' ' | sed 's/ $//')"
ufs_umount "$M"

# a setgid dir over overlay whiteouts: a new object replacing one is made
# in the work dir (not setgid) and must still get the dir's group
mkdir -p "$T/U6/sg" "$T/W6"; mk_file "$T/L6/sg/wf" l; mk_file "$T/L6/sg/wd" l
mknod "$T/U6/sg/wf" c 0 0; mknod "$T/U6/sg/wd" c 0 0
chgrp 1234 "$T/U6/sg"; chmod 2777 "$T/U6/sg"
ufs_mount "lowerdir=$T/L6,upperdir=$T/U6,workdir=$T/W6,allow_other" "$M" || bail "mount failed"
setpriv --regid=4321 --clear-groups -- sh -c "echo n >'$M/sg/wf'; mkdir '$M/sg/wd'; echo m >'$M/sg/plain'"
check "setgid dir, a file over an overlay whiteout (gid 4321 caller): the dir's group" \
	"1234 regular file" "$(stat -c '%g %F' "$T/U6/sg/wf" 2>&1)"
check "  a dir over one: the group and setgid" "1234 2755" "$(stat -c '%g %a' "$T/U6/sg/wd" 2>&1)"
check "  a new name: the group" 1234 "$(stat -c %g "$T/U6/sg/plain" 2>&1)"
ufs_umount "$M"

# fsync=0 / volatile: fsync(2) succeeds without reaching the disk
ufs_mount "$OPTS,volatile" "$M" || bail "volatile mount failed"
echo v >"$M/vol"
check "volatile: fsync succeeds" OK "$("$FSOP" fsync "$M/vol" | cut -d' ' -f1)"
check "  again" OK "$("$FSOP" fsync "$M/vol" | cut -d' ' -f1)"
check "  the daemon was asked once (ENOSYS: the kernel stops asking)" 1 "$(ufs_counter "$M" fsync)"
ufs_umount "$M"

# the command line containers/storage and mount(8) helpers give
out=$(cd "$T" && "$UFSMOUNT" -o "lowerdir=L1:L2,upperdir=U,workdir=W," "$M" 2>&1); rc=$?
_track_mount "$M"
check "relative dirs and a trailing comma (containers/storage's form)" 0 "$rc"
is_mounted "$M" && ufs_umount "$M"
out=$("$UFSMOUNT" mysource "$M" -o "$OPTS,rw,dev,suid" 2>&1); rc=$?
check "SOURCE MOUNTPOINT -o (a mount helper's form)" 0 "$rc"
check "  SOURCE is the mount's source" mysource "$(awk -v m="$M" '$5 == m { for (i = 7; $i != "-"; i++) ; print $(i + 2) }' /proc/self/mountinfo)"
ufs_umount "$M"
mkdir -p "$T/bin"; ln -s "$UFSMOUNT" "$T/bin/ufsmount"
out=$(PATH="$T/bin:$PATH" mount.fuse3 ufsmount "$M" -t ufsmount -o "$OPTS" 2>&1); rc=$?
check "mount.fuse3 -t ufsmount (mount -t fuse.ufsmount)" 0 "$rc"
is_mounted "$M" && ufs_umount "$M"

# refusals: one line each, nothing mounted
refuse() { # NAME ERE OPTS
	local out rc
	out=$("$UFSMOUNT" -o "$3" "$M" 2>&1); rc=$?
	if [ $rc -ne 0 ] && [[ "$out" =~ $2 ]] && [ "$(wc -l <<<"$out")" -eq 1 ] && ! is_mounted "$M"; then pass "$1"
	else fail "$1" "rc=$rc: $out"; fi
}
refuse "upperdir without workdir" "upperdir= needs workdir=" "lowerdir=$L2,upperdir=$U"
refuse "workdir without upperdir" "workdir= needs upperdir=" "lowerdir=$L2,workdir=$W"
refuse "dirs= and lowerdir= mixed" "cannot be mixed" "dirs=$U:$L2,lowerdir=$L1"
refuse "redirect_dir=on" "'redirect_dir=on' is not supported" "$OPTS,redirect_dir=on"
refuse "metacopy=on" "'metacopy=on' is not supported" "$OPTS,metacopy=on"
refuse "bad uidmapping" "uidmapping=.*DISK:VIEW:COUNT" "$OPTS,uidmapping=0:1"
mkdir -p "$U/w"
refuse "workdir inside upperdir" "overlaps upperdir" "lowerdir=$L2,upperdir=$U,workdir=$U/w"
mkdir -p "$T/tmpfs"; mount -t tmpfs ufs-test "$T/tmpfs"; mkdir -p "$T/tmpfs/w"
refuse "workdir on another filesystem" "different filesystems" "lowerdir=$L2,upperdir=$U,workdir=$T/tmpfs/w"
umount "$T/tmpfs"
finish
