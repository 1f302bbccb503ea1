#!/bin/bash
# SPDX-License-Identifier: MIT
# Races on copy-up: several processes writing different ranges of the same
# lower file at once lose no byte and copy it up once; parallel creates in a
# lower-only dir (parent copy-up race) all land; fio with verification.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
CW=$(helper cwrite) || bail "no cwrite helper"

NFILES=12 NW=6 CHUNK=$((256 * 1024))
new_branches
for i in $(seq 1 $NFILES); do
	mkdir -p "$C/dir$i"
	head -c $(( (NW + 1) * CHUNK )) /dev/zero | tr '\0' . >"$C/dir$i/f"
done
mkdir -p "$C/shared_dir/lower_sub"; echo keep >"$C/shared_dir/keep"
seq 1 100 >"$C/applog"
head -c 20M /dev/urandom >"$C/readme20"
mkdir -p "$C/pc/x/y"; for p in 1 2 3 4 5 6 7 8; do echo "$p" >"$C/pc/x/y/f$p"; done
ro_snapshot "$B" "$C"
ufs_mount "$DIRS" "$M" || bail "mount failed"

copyups() { ufs_counter "$M" 'copy.?up'; }
cu0=$(copyups)

pids=()
for i in $(seq 1 $NFILES); do
	"$CW" write "$M/dir$i/f" $NW $CHUNK >"$T/cw.$i" 2>&1 &
	pids+=($!); _PIDS+=($!)
done
bad=0
for i in $(seq 1 $NFILES); do
	wait "${pids[i - 1]}" || { bad=1; note "writer set $i: $(cat "$T/cw.$i")"; }
done
check "concurrent writers: all writes succeeded" 0 "$bad"
res=""
for i in $(seq 1 $NFILES); do
	r=$("$CW" verify "$M/dir$i/f" $NW $CHUNK 2>&1)
	[ "$r" = OK ] || res="$res dir$i: $r;"
done
check "concurrent writers: no byte lost (through the mount)" "" "$res"
cu1=$(copyups)
if [ -n "$cu0" ] && [ -n "$cu1" ]; then
	# each file plus its parent dir are copied up exactly once
	d=$((cu1 - cu0))
	if [ $d -ge $NFILES ] && [ $d -le $((2 * NFILES)) ]; then pass "copy-up counter grew by $d for $NFILES files + dirs"
	else fail "copy-up counter: once per object" "expected between $NFILES and $((2 * NFILES)), got $d"; fi
else
	skip "copy-up counter: once per object" "no copy-up counter in --status"
fi

# parallel creates in one lower-only dir: the parent is copied up once, by
# whichever request comes first, and no entry is lost
pids=()
for p in 1 2 3 4 5 6 7 8; do
	( for n in $(seq 1 40); do echo "$p.$n" >"$M/shared_dir/p${p}_$n" || exit 1; done ) &
	pids+=($!); _PIDS+=($!)
done
( for n in $(seq 1 20); do mkdir -p "$M/shared_dir/lower_sub/m$n" || exit 1; done ) &
pids+=($!); _PIDS+=($!)
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=1; done
check "parallel creates: all succeeded" 0 "$bad"
check "parallel creates: entry count" $((8 * 40 + 2)) "$(ls -A "$M/shared_dir" | wc -l)"
check "parallel creates: lower entries kept" "keep" "$(cat "$M/shared_dir/keep" 2>&1)"
check "parallel mkdirs in lower sub" 20 "$(ls -A "$M/shared_dir/lower_sub" | wc -l)"
check "parallel creates: contents" "" "$(for p in 1 2 3 4 5 6 7 8; do for n in 1 20 40; do
	[ "$(cat "$M/shared_dir/p${p}_$n" 2>&1)" = "$p.$n" ] || echo "p${p}_$n"; done; done)"

# copy-ups of different files in the same lower dir chain, at once
pids=()
for p in 1 2 3 4 5 6 7 8; do
	( printf 'w' >>"$M/pc/x/y/f$p" ) & pids+=($!); _PIDS+=($!)
	( chmod 600 "$M/pc/x/y/f$p" ) & pids+=($!); _PIDS+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=1; done
check "parallel copy-ups under one lower parent: all succeeded" 0 "$bad"
check "  contents" "" "$(for p in 1 2 3 4 5 6 7 8; do
	[ "$(cat "$M/pc/x/y/f$p" 2>&1)" = "$p
w" ] || echo "f$p: $(cat "$M/pc/x/y/f$p" 2>&1)"; done)"
check "  modes" "600 600 600 600 600 600 600 600" "$(stat -c %a "$M"/pc/x/y/f? | tr '\n' ' ' | sed 's/ $//')"
check "  all 8 in the rw branch" 8 "$(find "$A/pc/x/y" -name 'f?' | wc -l)"

# O_APPEND from 4 processes on one lower file (racing its copy-up too)
pids=()
for p in 1 2 3 4; do
	( for n in $(seq 1 300); do echo "p$p line $n" >>"$M/applog" || exit 1; done ) & pids+=($!); _PIDS+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=1; done
check "parallel O_APPEND: all succeeded" 0 "$bad"
check "parallel O_APPEND: no line lost or torn" "1300 1200" \
	"$(wc -l <"$M/applog") $(grep -cE '^p[1-4] line [0-9]+$' "$M/applog")"

# readers racing a copy-up see the old or the new content, nothing else
old=$(md5sum <"$C/readme20"); new=$( { cat "$C/readme20"; printf Z; } | md5sum)
( for k in $(seq 1 8); do md5sum <"$M/readme20"; done >"$T/reads" ) & rp=$!; _PIDS+=($rp)
sleep 0.05; printf Z >>"$M/readme20"
wait $rp
check "readers during a copy-up: only old or new content" "" "$(grep -vxF -e "$old" -e "$new" "$T/reads")"
check "after: new content" "$new" "$(md5sum <"$M/readme20")"

# renames racing listings: afterwards the listing is exact (a merged-dir
# cache filled during a rename must not stay stale)
mkdir -p "$M/rl"
bad=""
for round in $(seq 1 12); do
	for i in $(seq 1 20); do echo "$i" >"$M/rl/r$i"; done
	( for i in $(seq 1 20); do mv "$M/rl/r$i" "$M/rl/rr$i"; done ) & p1=$!; _PIDS+=($p1)
	( for k in $(seq 1 10); do ls -l "$M/rl" >/dev/null 2>&1; done ) & p2=$!; _PIDS+=($p2)
	wait $p1; wait $p2
	got=$(ls -A "$M/rl" | sort | tr '\n' ' ')
	want=$(for i in $(seq 1 20); do echo "rr$i"; done | sort | tr '\n' ' ')
	if [ "$got" != "$want" ]; then bad="round $round: listed '$got'"; break; fi
	rm -f "$M"/rl/rr*
done
check "renames racing listings: listing exact afterwards" "" "$bad"

# fio: parallel jobs with data verification
if command -v fio >/dev/null; then
	mkdir -p "$M/fio"
	out=$(timeout 120 fio --name=ufs --directory="$M/fio" --numjobs=4 --size=16m --bs=4k \
		--rw=randwrite --ioengine=psync --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--group_reporting --verify_state_save=0 2>&1)
	rc=$?
	check "fio randwrite with crc32c verify, 4 jobs" 0 "$rc"
	[ $rc -ne 0 ] && note "$(printf '%s' "$out" | tail -n 5 | tr '\n' '|')"
else
	skip "fio" "not installed"
fi

ufs_umount "$M"
res=""
for i in $(seq 1 $NFILES); do
	r=$("$CW" verify "$A/dir$i/f" $NW $CHUNK 2>&1)
	[ "$r" = OK ] || res="$res dir$i: $r;"
done
check "concurrent writers: rw branch copies complete after unmount" "" "$res"
check "no leftovers in the work dir" "" "$(work_leftovers "$A/.wh..wh.work")"
finish
