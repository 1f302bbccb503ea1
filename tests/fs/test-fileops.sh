#!/bin/bash
# SPDX-License-Identifier: MIT
# File operations through the mount: open-before-copy-up, mmap shared and
# private, O_APPEND, fallocate, SEEK_DATA/SEEK_HOLE, fsync, truncate, large
# data, nanosecond times, O_EXCL, xattrs, statfs.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
ROCOPY=$(helper rocopy) || bail "no rocopy helper"
MMAPT=$(helper mmaptest) || bail "no mmaptest helper"
SEEKH=$(helper seekhole) || bail "no seekhole helper"

build_std_layers
for f in ro1 mm1 mm2 mm3 app1 fal1 sk1 ou1 ou2; do mk_file "$C/$f" "lower $f content"; done
"$SEEKH" make "$C/sk2"
mk_file "$C/xa1" xa1; setfattr -n user.low -v lv "$C/xa1"
head -c 3M /dev/urandom >"$C/big3m"
ro_snapshot "$B" "$C"
ufs_mount "$DIRS" "$M" || bail "mount failed"

# an fd opened read-only before a copy-up reads the new data afterwards: the
# semantics without passthrough (with it, test-passthrough.sh: the reader
# keeps the lower data)
ufs_umount "$M"; ufs_mount "$DIRS,nopassthrough" "$M" || bail "mount failed"
check "ro fd opened before copy-up sees new data (nopassthrough)" OK "$("$ROCOPY" "$M/ro1" NEWDATA 2>&1)"
ufs_umount "$M"; ufs_mount "$DIRS" "$M" || bail "mount failed"
check_content "  new data in the rw branch" "$A/ro1" NEWDATA

# mmap
echo rwfile >"$M/mmrw"
check "mmap shared write on rw file" OK "$("$MMAPT" shared "$M/mmrw" 2>&1)"
check "mmap shared write on lower file (copy-up)" OK "$("$MMAPT" shared "$M/mm1" 2>&1)"
check "  data in rw branch after unmap" MMAPSHARED "$(dd if="$A/mm1" bs=1 skip=100 count=10 status=none 2>&1)"
check "mmap private on lower file" OK "$("$MMAPT" private "$M/mm2" 2>&1)"
check_absent "  private mapping did not copy up" "$A/mm2"
check_content "  file unchanged" "$M/mm2" "lower mm2 content"
check "mmap shared sees pwrite (lower file)" OK "$("$MMAPT" coherent "$M/mm3" 2>&1)"

# O_APPEND
check_errno "O_APPEND write to lower file" OK append "$M/app1" "+tail"
check_content "  appended at the end despite lseek(0)" "$M/app1" "lower app1 content+tail"
echo -n ab >"$M/apprw"; printf c >>"$M/apprw"; printf d >>"$M/apprw"
check_content "O_APPEND on rw file" "$M/apprw" abcd

# fallocate
if fallocate -l 1M "$M/fal0" 2>/dev/null; then
	check "fallocate: size" 1048576 "$(stat -c %s "$M/fal0")"
	blk=$(stat -c %b "$M/fal0")
	if [ "$blk" -ge 2048 ]; then pass "fallocate: blocks allocated ($blk)"
	else fail "fallocate: blocks allocated" "expected >= 2048 blocks, got $blk"; fi
	check_true "fallocate --keep-size" fallocate -n -o 1M -l 1M "$M/fal0"
	check "  size unchanged" 1048576 "$(stat -c %s "$M/fal0")"
	blk=$(stat -c %b "$A/fal0")
	check_true "fallocate --punch-hole" fallocate -p -o 0 -l 512K "$M/fal0"
	blk2=$(stat -c %b "$A/fal0")
	if [ "$blk2" -lt "$blk" ]; then pass "  punched blocks freed ($blk -> $blk2)"
	else fail "  punched blocks freed" "expected < $blk blocks, got $blk2"; fi
	check_true "fallocate on a lower file" fallocate -o 64K -l 64K "$M/fal1"
	check "  copied up with the new size" "131072 lower fal1 content" \
		"$(stat -c %s "$A/fal1" 2>&1) $(head -c 18 "$A/fal1" 2>&1)"
else
	fail "fallocate" "fallocate -l 1M failed: $(fallocate -l 1M "$M/fal0" 2>&1)"
fi

# SEEK_DATA / SEEK_HOLE: the map through the mount is the backing file's map
"$SEEKH" make "$M/skrw"
check "SEEK_DATA/HOLE on rw file match backing file" "$("$SEEKH" map "$A/skrw")" "$("$SEEKH" map "$M/skrw" 2>&1)"
check "SEEK_DATA/HOLE on lower file match lower file" "$("$SEEKH" map "$C/sk2")" "$("$SEEKH" map "$M/sk2" 2>&1)"
check_re "  lower sparse file has 3 data segments" '^data 0 [0-9]+
data [0-9]+ [0-9]+
data [0-9]+ [0-9]+
size 4194304$' "$("$SEEKH" map "$M/sk2" 2>&1)"
printf x | dd of="$M/sk2" bs=1 seek=4194303 conv=notrunc status=none
check "SEEK_DATA/HOLE after copy-up of sparse file" "$("$SEEKH" map "$A/sk2")" "$("$SEEKH" map "$M/sk2" 2>&1)"

# fsync family
echo data >"$M/fs1"
check_errno "fsync rw file" OK fsync "$M/fs1"
check_errno "fdatasync rw file" OK fdatasync "$M/fs1"
check_errno "fsync lower file opened rw" OK fsync "$M/sk1"
check_errno "fsync dir" OK fsyncdir "$M/d"
check_errno "syncfs" OK syncfs "$M/fs1"
check_true "dd conv=fsync" dd if=/dev/zero of="$M/fs2" bs=64k count=4 conv=fsync status=none

# truncate up and down
echo 0123456789 >"$M/tr"
truncate -s 4 "$M/tr";  check_content "truncate down" "$M/tr" 0123
truncate -s 8K "$M/tr"; check "truncate up: size" 8192 "$(stat -c %s "$M/tr")"
check "truncate up: zero fill" "0123$(printf '0%.0s' $(seq 1 8188))" "$(head -c 8192 "$M/tr" | tr '\0' 0)"

# large data, pwrite beyond EOF
head -c 20M /dev/urandom >"$T/rand20"
cp "$T/rand20" "$M/rand20"
check "20 MiB copy in: checksum" "$(md5sum <"$T/rand20")" "$(md5sum <"$M/rand20")"
check_errno "pwrite beyond EOF" OK pwrite "$M/rand20" 30000000 END
check "  size" 30000003 "$(stat -c %s "$M/rand20")"
check "  hole reads zeros" 0 "$(dd if="$M/rand20" bs=1M skip=22 count=1 status=none | tr -d '\0' | wc -c)"
check "lower 3 MiB file reads right" "$(md5sum <"$C/big3m")" "$(md5sum <"$M/big3m")"
check "reads with odd block sizes" "$(md5sum <"$C/big3m")" "$(dd if="$M/big3m" bs=12345 status=none | md5sum)"

# unlinked while open
echo -n rwdata >"$M/ou0"
check "rw file unlinked while open: fd still works" "OK nlink=0 data=fresha" "$("$FSOP" openunlink "$M/ou0" rw 2>&1)"
check_re "lower file unlinked while open read-only: fd reads" "^OK nlink=[01] data=lower ou1 content$" "$("$FSOP" openunlink "$M/ou1" ro 2>&1)"
check_errno "  name gone" ENOENT lstat "$M/ou1"
check_re "lower file unlinked while open read-write: fd works" "^OK nlink=0 data=fresh ou2 content$" "$("$FSOP" openunlink "$M/ou2" rw 2>&1)"
check_errno "  name gone" ENOENT lstat "$M/ou2"
exec 7<"$M/shared"
mv -f "$M/c_only" "$M/shared"
check "rename over an open file: old fd reads the old data" A "$(cat <&7)"
exec 7<&-

# nanosecond timestamps, O_EXCL
touch -d '@1234567890.123456789' "$M/fs1"
check "nanosecond mtime" "1234567890.123456789" "$(stat -c %.9Y "$M/fs1" 2>/dev/null || stat -c %Y "$M/fs1")"
check_errno "O_EXCL on a lower name: EEXIST" EEXIST open "$M/b_only" wcx
check_errno "O_EXCL on a whited-out name" OK open "$M/hid_by_b" wcx
check_errno "O_EXCL on a rw name: EEXIST" EEXIST open "$M/a_only" wcx
check_errno "open dir for write: EISDIR" EISDIR open "$M/d" w
check_errno "O_DIRECTORY on a file: ENOTDIR" ENOTDIR open "$M/b_only" rd

# xattrs through the mount
check "getxattr on lower file" lv "$(getfattr --absolute-names --only-values -n user.low "$M/xa1" 2>&1)"
check_absent "  no copy-up" "$A/xa1"
setfattr -n user.k -v v1 "$M/fs1"
check "setxattr/getxattr on rw file" v1 "$(getfattr --absolute-names --only-values -n user.k "$M/fs1" 2>&1)"
check "listxattr" "user.k" "$(getfattr --absolute-names -d -m '^user\.' "$M/fs1" 2>&1 | sed -n 's/=.*//p')"
setfattr -x user.k "$M/fs1"
check_errno "removed xattr: ENODATA" ENODATA getxattr "$M/fs1" user.k
check_errno "remove missing xattr: ENODATA" ENODATA removexattr "$M/fs1" user.nope

# statfs reports the rw branch's filesystem
read -r mb ms mf <<<"$(stat -f -c '%b %S %f' "$M")"
read -r ab as af <<<"$(stat -f -c '%b %S %f' "$A")"
check "statfs: total bytes equal the rw branch's" "$((ab * as))" "$((mb * ms))"
mfree=$((mf * ms / 1048576)); afree=$((af * as / 1048576))
diff=$((mfree - afree)); diff=${diff#-}
if [ "$diff" -le $((afree / 20 + 64)) ]; then pass "statfs: free space close to rw branch's (${mfree}M vs ${afree}M)"
else fail "statfs: free space close to rw branch's" "expected ~${afree}M, got ${mfree}M"; fi

ufs_umount "$M"
check "after unmount: rw branch has the data" "$(md5sum <"$T/rand20" | cut -c1-32)" "$(head -c 20M "$A/rand20" | md5sum | cut -c1-32)"
check_content "after unmount: appended lower file" "$A/app1" "lower app1 content+tail"
finish
