#!/bin/bash
# SPDX-License-Identifier: MIT
# img vs podman, side by side, one run (issue 3's benchmarks; results in
# docs/perf-img.md): load of a docker-archive, commit of a container that
# changed 1,000 files, diff of it, save. Each timing is the median of 5.
# Both use private stores under a temp dir; podman uses its overlay driver.
# The base image is the embedded busybox, or BASE_TAR=ROOTFS.tar (e.g. a
# debootstrap-built Debian: see docs/perf-img.md).
# Usage: IMG=build/tools/img [BASE_TAR=debian.tar] bash tests/img/bench-podman.sh
set -u
IMG=${IMG:?}
command -v podman >/dev/null || { echo "podman missing"; exit 77; }
T=$(mktemp -d /var/tmp/img-bench.XXXXXX)
P=(podman --root "$T/proot" --runroot "$T/prun" --storage-driver overlay)
S=$T/store
cleanup() {
	for m in $(awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
	"${P[@]}" rm -af >/dev/null 2>&1; "${P[@]}" rmi -af >/dev/null 2>&1
	rm -rf "$T"
	podman_cg_drop
}
trap cleanup EXIT
. "$(dirname "$0")/../../bench/benchlib.sh"
podman_cg_note
img() { "$IMG" --root "$S" "$@"; }

if [ -n "${BASE_TAR:-}" ]; then
	img import "$BASE_TAR" base:latest >/dev/null || { echo "import of $BASE_TAR failed"; exit 1; }
	base=base:latest
else
	img import --busybox busybox >/dev/null
	base=busybox
fi
img save -o "$T/bb.tar" "$base"

# load (fresh store / image removed between runs)
li=$(for i in 1 2 3 4 5; do rm -rf "$T/l" "$T/l.run"; ms "$IMG" --root "$T/l" load -i "$T/bb.tar"; done | median)
lp=$(for i in 1 2 3 4 5; do "${P[@]}" rmi -af >/dev/null 2>&1; ms "${P[@]}" load -i "$T/bb.tar"; done | median)

# 1000 changed files in a container of each
fill() { local d=$1 i; rootfs_ok "$d" || exit 1; mkdir -p "$d/data"; for i in $(seq 1 1000); do head -c 4096 /dev/urandom > "$d/data/f$i"; done; }
# Every path below is written into: refuse anything but a real mountpoint of
# a container of ours (an empty one would write into the host's /).
rootfs_ok() { [ -n "$1" ] && [ "$1" != / ] && [ -d "$1/etc" ] && mountpoint -q "$1"; }
cid=$(img create "$base" true) && mp=$(img mount "$cid") && rootfs_ok "$mp" ||
	{ echo "img create/mount failed (mountpoint '${mp:-}')"; exit 1; }
pid=$("${P[@]}" create "$base" true) && pmp=$("${P[@]}" mount "$pid") && rootfs_ok "$pmp" ||
	{ echo "podman create/mount failed (mountpoint '${pmp:-}')"; exit 1; }
fill "$mp"; for i in $(seq 1 50); do echo x >> "$mp/etc/passwd"; done; rm -f "$mp/bin/ls" "$mp/usr/bin/ls"
fill "$pmp"; echo x >> "$pmp/etc/passwd"; rm -f "$pmp/bin/ls" "$pmp/usr/bin/ls"

# a new layer each time (one more changed byte): no run reuses the last one's
ci=$(for i in 1 2 3 4 5; do echo $i >> "$mp/etc/passwd"; ms "$IMG" --root "$S" commit "$cid" "bench:$i"; done | median)
cp=$(for i in 1 2 3 4 5; do echo $i >> "$pmp/etc/passwd"; ms "${P[@]}" commit -q "$pid" "bench:$i"; done | median)
di=$(for i in 1 2 3 4 5; do ms "$IMG" --root "$S" diff "$cid"; done | median)
dp=$(for i in 1 2 3 4 5; do ms "${P[@]}" diff "$pid"; done | median)
check_i=$(img diff "$cid" | wc -l); check_p=$("${P[@]}" diff "$pid" | wc -l)
si=$(for i in 1 2 3 4 5; do rm -f "$T/si.tar"; ms "$IMG" --root "$S" save -o "$T/si.tar" bench:1; done | median)
sp=$(for i in 1 2 3 4 5; do rm -f "$T/sp.tar"; ms "${P[@]}" save -o "$T/sp.tar" bench:1; done | median)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "-" }'; }
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs, $(podman --version), podman driver overlay"
echo "| operation | img (ms) | podman (ms) | podman/img |"
echo "|---|---|---|---|"
echo "| load $base docker-archive ($(du -k "$T/bb.tar" | cut -f1) kB) | $li | $lp | $(ratio "$li" "$lp") |"
echo "| commit, 1,000 new 4 kB files + 1 changed + 1 deleted | $ci | $cp | $(ratio "$ci" "$cp") |"
echo "| diff of that container ($check_i / $check_p lines) | $di | $dp | $(ratio "$di" "$dp") |"
echo "| save the committed image (docker-archive) | $si | $sp | $(ratio "$si" "$sp") |"
