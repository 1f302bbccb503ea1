#!/bin/bash
# SPDX-License-Identifier: MIT
# img import vs podman import of the same rootfs tar, side by side, one run
# (issue 11 "Also"; results in docs/perf-img.md). Each figure is the median
# of RUNS (5) runs, the two tools interleaved, each into a fresh store under
# a temp dir (podman: its overlay driver). The tar is BASE_TAR, or one made
# of the host's /usr/lib/python3 (about 60 MB) when none is given.
# Usage (root): IMG=build/tools/img [BASE_TAR=debian.tar] [RUNS=5] bash bench/bench-import.sh
set -euo pipefail
IMG=${IMG:-build/tools/img}
RUNS=${RUNS:-5}
command -v podman >/dev/null || { echo "bench-import: podman not found (tools/setup)"; exit 1; }
T=$(mktemp -d /var/tmp/bench-import.XXXXXX)
cleanup() {
	# nothing may be mounted below T when it goes (podman's overlay)
	podman --root "$T/p" --runroot "$T/pr" --storage-driver overlay system reset -f >/dev/null 2>&1 || true
	if awk -v t="$T/" 'index($5, t) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
		echo "bench-import: still mounted below $T, left in place" >&2
	else
		rm -rf --one-file-system "$T"
	fi
	podman_cg_drop
}
trap cleanup EXIT
. "$(dirname "$0")/benchlib.sh"
podman_cg_note
tar=${BASE_TAR:-}
if [ -z "$tar" ]; then
	tar="$T/base.tar"
	tar -C / -cf "$tar" usr/lib/python3 2>/dev/null || true
fi
i_t=() p_t=()
for r in $(seq "$RUNS"); do
	rm -rf "$T/s"
	i_t+=("$(ms "$IMG" --root "$T/s" import "$tar" x:1)")
	podman --root "$T/p" --runroot "$T/pr" --storage-driver overlay system reset -f >/dev/null 2>&1 || true
	p_t+=("$(ms podman --root "$T/p" --runroot "$T/pr" --storage-driver overlay import "$tar" x:1)")
done
im=$(printf '%s\n' "${i_t[@]}" | median)
pm=$(printf '%s\n' "${p_t[@]}" | median)
echo "tar: $(du -m "$tar" | cut -f1) MB, $(tar -tf "$tar" | wc -l) entries; runs: img ${i_t[*]}; podman ${p_t[*]}"
echo "| import | img | podman | podman/img |"
echo "|---|---|---|---|"
echo "| $(basename "$tar") | $im ms | $pm ms | $(awk -v a="$pm" -v b="$im" 'BEGIN { printf "%.2fx", a / b }') |"
