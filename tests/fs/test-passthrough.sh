#!/bin/bash
# SPDX-License-Identifier: MIT
# FUSE passthrough (issue 5): data through backing files never reaches the
# daemon (READ/WRITE counters stay 0), sizes and mtimes stay right, mmap
# works, opens and releases racing on one inode give no EIO, a copy-up while
# a reader is open leaves the reader on the lower data and everyone else on
# the copy, and every fallback (-o nopassthrough, a refused probe, refused
# inodes, a branch on overlayfs) is fully functional.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
PTS=$(helper ptstress) || bail "no ptstress helper"
MMAPT=$(helper mmaptest) || bail "no mmaptest helper"

build_std_layers
head -c 8M /dev/urandom >"$C/lowdata"
for f in app ext tr mm keep; do mk_file "$C/$f" "lower $f"; done
mkdir -p "$C/stress"; for i in 0 1 2 3 4 5 6 7; do mk_file "$C/stress/f$i" "s$i"; done
ro_snapshot "$B" "$C"

pt_state() { "$UFSMOUNT" --status "$1" | awk '$1 == "passthrough" { print $2 }'; }
# op_count MNT OP: requests of that operation the daemon answered
op_count() {
	"$UFSMOUNT" --status "$1" | awk -v op="$2" '
		f && $1 == op { n = $2 } /^operations/ { f = 1 } END { print n + 0 }'
}
counter() { "$UFSMOUNT" --status "$1" | awk -v k="$2" '$1 == k { print $2 }'; }

# data checks shared by every mode; MODE=pt expects zero READ/WRITE requests
data_checks() { # LABEL MODE
	local l=$1 mode=$2
	check "$l: lower file reads back" "$(md5sum <"$C/lowdata")" "$(md5sum <"$M/lowdata")"
	head -c 3M /dev/urandom >"$T/payload"
	dd if="$T/payload" of="$M/new_$l" bs=64k status=none
	check "$l: written file via the mount" "$(md5sum <"$T/payload")" "$(md5sum <"$M/new_$l")"
	check "$l: written file in the rw branch" "$(md5sum <"$T/payload")" "$(md5sum <"$A/new_$l")"
	if [ "$mode" = pt ]; then
		check "$l: no READ reached the daemon" 0 "$(op_count "$M" read)"
		check "$l: no WRITE reached the daemon" 0 "$(op_count "$M" write)"
	else
		check_true "$l: READs reached the daemon" test "$(op_count "$M" read)" -gt 0
		check_true "$l: WRITEs reached the daemon" test "$(op_count "$M" write)" -gt 0
	fi
	check "$l: concurrent open/close of shared files" OK "$("$PTS" "$M/stress" 8 16 300 2>&1)"
}

# ---- passthrough active
ufs_mount "$DIRS" "$M" || bail "mount failed"
ls "$M" >/dev/null
state=$(pt_state "$M")
if [ "$state" != active ]; then
	skip "passthrough checks" "state is '$state': $("$UFSMOUNT" --status "$M" | grep '^passthrough')"
else
	pass "passthrough active on this kernel"
	data_checks pt pt
	check_true "  opens were handed to the kernel" test "$(counter "$M" pt_opens)" -gt 0

	# a create registers its own write-only fd as the backing: the kernel
	# reopens it with each open's flags (reads through a later open too)
	o0=$(counter "$M" pt_opens); f0=$(counter "$M" pt_refused)
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644)
os.write(fd, b"made"); r = os.open(sys.argv[1], os.O_RDONLY)
print(os.read(r, 10).decode()); os.close(r); os.close(fd)' "$M/created" >"$T/created.out" 2>&1
	check "create O_WRONLY, read through a second open while it is open" made "$(cat "$T/created.out")"
	check "  both opens in passthrough" $((o0 + 2)) "$(counter "$M" pt_opens)"
	check "  no refusal" "$f0" "$(counter "$M" pt_refused)"

	# sizes and mtimes right after append, extend, truncate
	printf 'XY' >>"$M/app"
	check "append: size" "$(( $(stat -c %s "$C/app") + 2 ))" "$(stat -c %s "$M/app")"
	check "append: content" "lower appXY" "$(cat "$M/app")"
	check "append: mtime as in the rw branch" "$(stat -c %Y "$A/app")" "$(stat -c %Y "$M/app")"
	touch -d @1000000000 "$M/ext"
	dd if=/dev/zero of="$M/ext" bs=1 count=1 seek=100000 conv=notrunc status=none
	check "extend: size" 100001 "$(stat -c %s "$M/ext")"
	check_true "extend: mtime moved" test "$(stat -c %Y "$M/ext")" -gt 1000000000
	exec 3<>"$M/tr"; printf 'abcdefgh' >&3; exec 3>&-
	truncate -s 3 "$M/tr"
	check "truncate: size" 3 "$(stat -c %s "$M/tr")"
	check "truncate: content" abc "$(cat "$M/tr")"

	check "mmap shared write on a lower file" OK "$("$MMAPT" shared "$M/mm" 2>&1)"
	check "mmap private on a lower file" OK "$("$MMAPT" private "$M/lowdata" 2>&1)"

	# copy-up while a reader holds the lower file open in passthrough
	ino=$(stat -c %i "$M/keep")
	exec 4<"$M/keep"
	printf ' NEW' >>"$M/keep"
	check "reader opened before the copy-up keeps the lower data" "lower keep" "$(cat <&4)"
	exec 4<&-
	check "new opens see the copy" "lower keep NEW" "$(cat "$M/keep")"
	check "the copy is in the rw branch" "lower keep NEW" "$(cat "$A/keep")"
	check "st_ino unchanged across that copy-up" "$ino" "$(stat -c %i "$M/keep")"
	check_true "  counted as a copy-up of an open inode" test "$(counter "$M" pt_stale)" -ge 1
	check "still no READ/WRITE at the daemon" "0 0" "$(op_count "$M" read) $(op_count "$M" write)"
fi
ufs_umount "$M"

# ---- forced fallbacks: each one fully functional
rm -rf "${A:?}"/* && mkdir -p "$A"
ufs_mount "$DIRS,nopassthrough" "$M" || bail "mount failed"
ls "$M" >/dev/null
check "nopassthrough: state off" off "$(pt_state "$M")"
data_checks nopt plain
ufs_umount "$M"

UFS_PASSTHROUGH_FAULT=probe ufs_mount "$DIRS" "$M" || bail "mount failed"
ls "$M" >/dev/null
check "simulated probe refusal: state" refused "$(pt_state "$M")"
data_checks probe plain
ufs_umount "$M"

UFS_PASSTHROUGH_FAULT=open ufs_mount "$DIRS" "$M" || bail "mount failed"
ls "$M" >/dev/null
if [ "$(pt_state "$M")" = active ]; then
	data_checks inode plain
	check_true "simulated inode refusals counted" test "$(counter "$M" pt_refused)" -gt 0
else
	skip "simulated inode refusal" "passthrough not active"
fi
ufs_umount "$M"

# a real refusal: a branch on overlayfs (the kernel answers ELOOP)
mkdir -p "$T/ol/low" "$T/ol/up" "$T/ol/work" "$T/ol/mnt"
printf "from overlay" >"$T/ol/low/of"
if mount -t overlay overlay -o "lowerdir=$T/ol/low,upperdir=$T/ol/up,workdir=$T/ol/work" "$T/ol/mnt" 2>/dev/null; then
	ufs_mount "dirs=$A=rw:$T/ol/mnt=ro" "$T/m2" || bail "mount over overlayfs failed"
	check "file of an overlayfs branch reads" "from overlay" "$(cat "$T/m2/of")"
	if [ "$(pt_state "$T/m2")" = active ]; then
		check_true "  its inode fell back to plain FUSE" test "$(counter "$T/m2" pt_refused)" -ge 1
	fi
	printf '+' >>"$T/m2/of"
	check "  and copies up" "from overlay+" "$(cat "$T/m2/of")"
	ufs_umount "$T/m2"
	umount "$T/ol/mnt"
else
	skip "overlayfs branch" "cannot mount overlayfs here"
fi
finish
