#!/bin/bash
# SPDX-License-Identifier: MIT
# podman with mount_program=ufsmount vs mount_program=fuse-overlayfs: the
# wall time of `podman run --rm` and of `podman build --no-cache` of a small
# Containerfile, and of the mount program alone (mount a container's stack,
# walk it, unmount), N runs each, interleaved (ufs, fo, ufs, fo...) so that the
# load of the machine falls on both alike. Prints a markdown table (median,
# min, max in ms; fuse-overlayfs/ufsmount ratio of the medians). Results in
# docs/perf.md. Not a test: run by hand.
#
#   UFSMOUNT=build/tools/ufsmount [RUNS=20] [BUILDS=8] bash tests/engines/bench-mount-program.sh
. "$(dirname "$0")/enginelib.sh"
podman_cg_note
engines_setup nolog
RUNS=${RUNS:-20}
BUILDS=${BUILDS:-8}
mkdir -p "$T/ctx"
echo hello >"$T/ctx/hello"
printf '%s\n' 'FROM localhost/base:1' \
	'RUN mkdir -p /app && echo built >/app/f && rm /etc/passwd && echo more >>/etc/dir/g' \
	'COPY hello /app/hello' \
	'RUN mv /ren/file /ren/moved && rm -rf /data' >"$T/ctx/Containerfile"

ms() { # CMD...: run it, print its wall time in ms (its output discarded)
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
stats() { # FILE: median min max
	sort -n "$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}

# one warm-up each (page cache, podman's first-run set-up)
for s in ufs fo; do
	pod "$s" run --rm --network none localhost/base:1 true >/dev/null
	pod "$s" build -q --network none -t localhost/warm:1 "$T/ctx" >/dev/null
done
for ((i = 0; i < RUNS; i++)); do
	for s in ufs fo; do ms pod "$s" run --rm --network none localhost/base:1 true >>"$T/run.$s"; done
done
for ((i = 0; i < BUILDS; i++)); do
	for s in ufs fo; do
		ms pod "$s" build -q --no-cache --network none -t "localhost/b$i:1" "$T/ctx" >>"$T/build.$s"
	done
done

# the mount program alone: mount a container's stack (the base rootfs as
# lower dir, an empty upper), read the tree once, unmount
mkdir -p "$T/mnt"
mount_cycle() { # ufs|fo N
	mkdir -p "$T/u.$1.$2" "$T/w.$1.$2"
	"$T/mp-$1" -o "lowerdir=$T/rootfs,upperdir=$T/u.$1.$2,workdir=$T/w.$1.$2" "$T/mnt" &&
		find "$T/mnt" -xdev >/dev/null && fusermount3 -u "$T/mnt"
}
for ((i = 0; i < RUNS; i++)); do
	for s in ufs fo; do ms mount_cycle "$s" "$i" >>"$T/mount.$s"; done
done

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(podman --version), fuse-overlayfs $(fuse-overlayfs --version 2>/dev/null | awk '/^fuse-overlayfs/ { print $NF }'), ufsmount $("$UFSMOUNT" --version | awk '{ print $2 }')"
echo
echo "| command | runs | ufsmount median (min-max) ms | fuse-overlayfs median (min-max) ms | fuse-overlayfs / ufsmount |"
echo "|---|---|---|---|---|"
for w in mount run build; do
	read -r um un ux < <(stats "$T/$w.ufs")
	read -r fm fn fx < <(stats "$T/$w.fo")
	label="podman run --rm base true"
	[ $w = build ] && label="podman build --no-cache (3 steps)"
	[ $w = mount ] && label="mount program alone: mount, find, fusermount3 -u"
	n=$RUNS; [ $w = build ] && n=$BUILDS
	echo "| \`$label\` | $n | $um ($un-$ux) | $fm ($fn-$fx) | $(awk -v a="$fm" -v b="$um" 'BEGIN { printf "%.2f", a / b }') |"
done
