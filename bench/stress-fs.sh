#!/bin/bash
# SPDX-License-Identifier: MIT
# stress-ng's filesystem stressors side by side: kernel overlayfs, ufsmount
# over FUSE over io_uring and ufsmount over /dev/fuse, each on an empty union
# of its own in one temp dir; prints bogo ops/s (real time) and the ratios to
# overlayfs. Root. The fuse module's enable_uring is turned on for the run
# and restored at the end.
#   bench/stress-fs.sh [SECONDS [WORKERS [EXTRA stress-ng ARGS...]]]
#   e.g. bench/stress-fs.sh 30 2 --verify      (issue 13's settings)
# UFSMOUNT: the binary (default build/tools/ufsmount).
set -u
secs=${1:-8} workers=${2:-2}; shift 2 2>/dev/null || shift $#
UFSMOUNT=${UFSMOUNT:-$(cd "$(dirname "$0")/.." && pwd)/build/tools/ufsmount}
P=/sys/module/fuse/parameters/enable_uring
[ "$(id -u)" = 0 ] || { echo "stress-fs: needs root" >&2; exit 1; }
command -v stress-ng >/dev/null || { echo "stress-fs: stress-ng missing" >&2; exit 1; }
old=$(cat "$P" 2>/dev/null)
D=$(mktemp -d /tmp/stress-fs.XXXXXX) || exit 1
cleanup() {
	for m in "$D"/*/m; do
		awk -v m="$m" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo && umount "$m"
	done
	[ -n "$old" ] && echo "$old" >"$P"
	rm -rf --one-file-system "$D"
}
trap cleanup EXIT
[ -w "$P" ] && echo Y >"$P"

mk() { mkdir -p "$D/$1"/{l,u,w,m}; }
mk ovl && mount -t overlay overlay -o "lowerdir=$D/ovl/l,upperdir=$D/ovl/u,workdir=$D/ovl/w" "$D/ovl/m" || exit 1
mk ur && "$UFSMOUNT" -o "dirs=$D/ur/u=rw:$D/ur/l=ro" "$D/ur/m" || exit 1
mk dev && "$UFSMOUNT" -o "dirs=$D/dev/u=rw:$D/dev/l=ro,noio_uring" "$D/dev/m" || exit 1
stat -f "$D/ur/m" "$D/dev/m" >/dev/null
for k in ur dev; do "$UFSMOUNT" --status "$D/$k/m" | grep '^transport'; done

ratio() { python3 -c "import sys; o = float(sys.argv[1] or 0); v = float(sys.argv[2] or 0); print(f'{v / o:.2f}' if o else '-')" "$1" "$2"; }
printf '| stressor | overlay | ufsmount io_uring | ufsmount /dev/fuse | io_uring/overlay | /dev/fuse/overlay |\n|---|---|---|---|---|---|\n'
for s in dir dentry rename link symlink xattr chmod fallocate; do
	declare -A r=()
	for k in ovl ur dev; do
		r[$k]=$(cd "$D/$k/m" && stress-ng --temp-path "$D/$k/m" --"$s" "$workers" -t "$secs" \
			--metrics-brief "$@" 2>&1 | awk -v s="$s" '$4 == s && $5 ~ /^[0-9]+$/ { print $(NF - 1); exit }')
	done
	printf '| %s | %s | %s | %s | %s | %s |\n' "$s" "${r[ovl]:--}" "${r[ur]:--}" "${r[dev]:--}" \
		"$(ratio "${r[ovl]:-}" "${r[ur]:-}")" "$(ratio "${r[ovl]:-}" "${r[dev]:-}")"
done
