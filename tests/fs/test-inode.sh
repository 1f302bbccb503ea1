#!/bin/bash
# SPDX-License-Identifier: MIT
# st_ino: stable across copy-up, rename and cache eviction, equal to readdir's
# d_ino, unique within the mount even when branches are on different
# filesystems with colliding inode numbers; one st_dev for the whole mount.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
DINO=$(helper dino) || bail "no dino helper"

# ino_problems DIR...: entries whose d_ino != st_ino, or that fail lstat
ino_problems() {
	local d
	for d in "$@"; do "$DINO" "$d" || echo "dino failed on $d"; done |
		awk '$1 != $2 { print $7 ": d_ino " $1 " st_ino " $2 }' | head -n 5
}
# dup_inos DIR: st_ino shared by two entries that are not hard links
dup_inos() {
	find "$1" \( -type d -o -links 1 \) -printf '%i %p\n' 2>/dev/null |
		awk '{ n[$1]++; p[$1] = p[$1] " " $2 } END { for (i in n) if (n[i] > 1) print i ":" p[i] }' | head -n 5
}

build_std_layers
ufs_mount "$DIRS" "$M" || bail "mount failed"

dirs=$(find "$M" -type d)
# shellcheck disable=SC2086
check "d_ino equals st_ino everywhere" "" "$(IFS=$'\n'; ino_problems $dirs)"
check "st_ino unique" "" "$(dup_inos "$M")"
check "one st_dev" 1 "$(find "$M" -printf '%D\n' | sort -u | wc -l)"
check "ls -i agrees with stat -c %i" "$(stat -c %i "$M/c_only")" "$(ls -i "$M" | awk '$2 == "c_only" { print $1 }')"
check "st_dev of root equals that of files" "$(stat -c %d "$M")" "$(stat -c %d "$M/d/sub/deep")"

# stability
declare -A before
for f in c_only b_only shared d d/c_file d/sub cdir cdir/x "sp ace"; do
	before[$f]=$(stat -c %i "$M/$f")
done
drop_caches
for f in c_only d/c_file cdir/x; do
	check "st_ino stable across cache eviction: $f" "${before[$f]}" "$(stat -c %i "$M/$f" 2>&1)"
done
chmod 600 "$M/c_only"; echo more >>"$M/b_only"; touch "$M/d/c_file"; chmod 700 "$M/cdir"
for f in c_only b_only d d/c_file cdir; do
	check "st_ino stable across copy-up: $f" "${before[$f]}" "$(stat -c %i "$M/$f" 2>&1)"
done
drop_caches
for f in c_only b_only d/c_file cdir cdir/x; do
	check "st_ino stable after copy-up and eviction: $f" "${before[$f]}" "$(stat -c %i "$M/$f" 2>&1)"
done
check "d_ino equals st_ino after copy-ups" "" "$(ino_problems "$M" "$M/d" "$M/cdir")"
mv "$M/c_only" "$M/c_renamed"; mv "$M/cdir" "$M/cdir_renamed"
check "st_ino kept by rename of a file" "${before[c_only]}" "$(stat -c %i "$M/c_renamed" 2>&1)"
check "st_ino kept by rename of a dir" "${before[cdir]}" "$(stat -c %i "$M/cdir_renamed" 2>&1)"
check "d_ino equals st_ino after renames" "" "$(ino_problems "$M")"

ino_fd=$(exec 3<"$M/shared"; stat -L -c %i /proc/self/fd/3)
check "fstat of an open fd agrees" "$(stat -c %i "$M/shared")" "$ino_fd"
echo new >"$M/newfile"; mkdir "$M/newdir"
check "new objects: unique" "" "$(dup_inos "$M")"
check "new objects: d_ino equals st_ino" "" "$(ino_problems "$M")"
ufs_umount "$M"
ro_verify

# branches on separate tmpfs instances: identical trees give identical raw
# inode numbers in both, which the mount must still tell apart
A=$T/A2 B=$T/B2 C=$T/C2
mkdir -p "$A" "$B" "$C"
DIRS="dirs=$A=rw:$B=ro:$C=ro"
mount -t tmpfs -o size=16m tmpfs "$A" || bail "cannot mount tmpfs"
mount -t tmpfs -o size=16m tmpfs "$B" || bail "cannot mount tmpfs"
mount -t tmpfs -o size=16m tmpfs "$C" || bail "cannot mount tmpfs"
for br in "$B" "$C"; do
	mkdir "$br/dir_$(basename "$br")"
	for i in 1 2 3 4 5 6 7 8; do echo "$br $i" >"$br/f_$(basename "$br")_$i"; done
	echo "$br" >"$br/dir_$(basename "$br")/inner"
done
raw_collisions=$(comm -12 <(find "$B" -mindepth 1 -printf '%i\n' | sort) <(find "$C" -mindepth 1 -printf '%i\n' | sort) | wc -l)
note "raw inode numbers shared by B and C: $raw_collisions"
ro_snapshot "$B" "$C"
ufs_mount "$DIRS" "$M" || bail "mount over tmpfs branches failed"
check "tmpfs branches: all 18 names listed" 18 "$(ls -A "$M" | wc -l)"
check "tmpfs branches: st_ino unique" "" "$(dup_inos "$M")"
check "tmpfs branches: one st_dev" 1 "$(find "$M" -printf '%D\n' | sort -u | wc -l)"
check "tmpfs branches: d_ino equals st_ino" "" "$(ino_problems "$M" "$M/dir_B2" "$M/dir_C2")"
check "tmpfs branches: root and lower file share st_dev" "$(stat -c %d "$M")" "$(stat -c %d "$M/dir_C2/inner")"
for i in 1 2 3 4 5 6 7 8 9 10; do echo "$i" >"$M/new_$i"; done; mkdir "$M/nd1" "$M/nd2"
ib=$(stat -c %i "$M/f_B2_3"); chmod 600 "$M/f_B2_3"; echo x >>"$M/dir_C2/inner"
check "tmpfs rw branch: new objects keep st_ino unique" "" "$(dup_inos "$M")"
check "tmpfs rw branch: copy-up keeps st_ino" "$ib" "$(stat -c %i "$M/f_B2_3" 2>&1)"
check "tmpfs rw branch: d_ino equals st_ino" "" "$(ino_problems "$M" "$M/dir_C2")"
ufs_umount "$M"
finish
