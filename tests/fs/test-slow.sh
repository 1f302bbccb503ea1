#!/bin/bash
# SPDX-License-Identifier: MIT
# Long tests (suite "slow"): a 100k-entry merged directory lists correctly,
# and a > 4 GiB sparse lower file is copied up sparse with its data intact.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
DINO=$(helper dino) || bail "no dino helper"

new_branches
mkdir -p "$A/huge" "$B/huge" "$C/huge"
# C: 0..59999, B: 40000..89999 and whiteouts of 0..9999,
# A: 85000..109999 and whiteouts of 20000..24999
(cd "$C/huge" && seq -f 'entry_%06g' 0 59999 | xargs touch)
(cd "$B/huge" && seq -f 'entry_%06g' 40000 89999 | xargs touch)
(cd "$B/huge" && seq -f '.wh.entry_%06g' 0 9999 | xargs touch)
(cd "$A/huge" && seq -f 'entry_%06g' 85000 109999 | xargs touch)
(cd "$A/huge" && seq -f '.wh.entry_%06g' 20000 24999 | xargs touch)
{ seq -f 'entry_%06g' 10000 19999; seq -f 'entry_%06g' 25000 109999; } >"$T/expected"
nexp=$(wc -l <"$T/expected")   # 95000

# > 4 GiB sparse file with data at 0, 2 GiB + 1 and 4.5 GiB
truncate -s 5G "$C/huge5g"
printf 'HEAD' | dd of="$C/huge5g" conv=notrunc status=none
printf 'MID' | dd of="$C/huge5g" bs=1 seek=$((2 * 1024 * 1024 * 1024 + 1)) conv=notrunc status=none
printf 'TAIL' | dd of="$C/huge5g" bs=1M seek=4608 conv=notrunc status=none
ro_snapshot "$B" "$C"
ufs_mount "$DIRS" "$M" || bail "mount failed"

t0=$(date +%s)
ls -fA "$M/huge" >"$T/listing"; rc=$?
t1=$(date +%s)
note "listing $nexp entries took $((t1 - t0)) s"
check "huge dir: ls exits 0" 0 "$rc"
check "huge dir: count" "$nexp" "$(wc -l <"$T/listing")"
check "huge dir: exact names" "" "$(sort "$T/listing" | diff - "$T/expected" | head -n 5)"
check "huge dir: no duplicates" "" "$(sort "$T/listing" | uniq -d | head -n 5)"
"$DINO" "$M/huge" >"$T/dino"
check "huge dir: d_ino equals st_ino" "" "$(awk '$1 != $2 { print $7; exit }' "$T/dino")"
check "huge dir: st_ino unique" "" "$(awk '{ print $2 }' "$T/dino" | sort | uniq -d | head -n 3)"
check "huge dir: find agrees" "$nexp" "$(find "$M/huge" -mindepth 1 | wc -l)"
rm -f "$M/huge/entry_010000" "$M/huge/entry_050000" "$M/huge/entry_100000"
touch "$M/huge/entry_000001" "$M/huge/zz_new"
check "huge dir: count after 3 removals and 2 creations" $((nexp - 1)) "$(ls -fA "$M/huge" | wc -l)"
check_errno "huge dir: removed name gone" ENOENT lstat "$M/huge/entry_050000"
check_errno "huge dir: recreated whited-out name" OK lstat "$M/huge/entry_000001"

# > 4 GiB sparse copy-up
t0=$(date +%s)
printf 'E' >>"$M/huge5g"
t1=$(date +%s)
note "5 GiB sparse copy-up took $((t1 - t0)) s"
check "5 GiB sparse: size" $((5 * 1024 * 1024 * 1024 + 1)) "$(stat -c %s "$A/huge5g" 2>&1)"
lowblk=$(stat -c %b "$C/huge5g"); upblk=$(stat -c %b "$A/huge5g" 2>/dev/null || echo 999999999)
if [ "$upblk" -le $((lowblk + 64)) ]; then pass "5 GiB sparse: holes kept ($upblk blocks, lower $lowblk)"
else fail "5 GiB sparse: holes kept" "expected <= $((lowblk + 64)) blocks, got $upblk"; fi
check "5 GiB sparse: data at 0" HEAD "$(dd if="$M/huge5g" bs=4 count=1 status=none 2>&1)"
check "5 GiB sparse: data past 2 GiB" MID "$(dd if="$M/huge5g" bs=1 skip=$((2 * 1024 * 1024 * 1024 + 1)) count=3 status=none 2>&1)"
check "5 GiB sparse: data past 4 GiB" TAIL "$(dd if="$M/huge5g" bs=1M skip=4608 count=1 status=none 2>&1 | head -c 4)"
check "5 GiB sparse: appended byte" E "$(tail -c 1 "$M/huge5g" 2>&1)"
check "5 GiB sparse: rw branch data past 4 GiB" TAIL "$(dd if="$A/huge5g" bs=1M skip=4608 count=1 status=none 2>&1 | head -c 4)"
printf 'W' | dd of="$M/huge5g" bs=1M seek=4700 conv=notrunc status=none
check "write past 4 GiB through the mount" W "$(dd if="$M/huge5g" bs=1M skip=4700 count=1 status=none 2>&1 | head -c 1)"
finish
