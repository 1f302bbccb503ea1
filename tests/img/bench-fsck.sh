#!/bin/bash
# SPDX-License-Identifier: MIT
# fsck of a big image against its load and import (issue 11 §2 and "Also";
# results in docs/perf-img.md). The image: BASE_TAR=ROOTFS.tar (e.g. the
# debootstrap Debian of docs/perf-img.md), else a tree of about 6,000 files
# and 120 MB copied from the host's /usr/lib. Each figure: median of 3.
# Usage: IMG=build/tools/img [BASE_TAR=debian.tar] bash tests/img/bench-fsck.sh
set -u
IMG=${IMG:?}
T=$(mktemp -d /var/tmp/img-bench-fsck.XXXXXX)
trap 'rm -rf "$T" "$T.run"' EXIT
ms() { local a b; a=$(date +%s%N); "$@" >/dev/null 2>&1 || echo "FAILED: $*" >&2; b=$(date +%s%N); echo $(( (b - a) / 1000000 )); }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
tarf=${BASE_TAR:-}
if [ -z "$tarf" ]; then
	mkdir -p "$T/root"
	find /usr/lib -xdev -type f -size -200k 2>/dev/null | head -6000 |
		tar -cf "$T/base.tar" --numeric-owner -T - 2>/dev/null
	tarf=$T/base.tar
fi
echo "base: $tarf ($(($(stat -c %s "$tarf") / 1024)) kB, $(tar -tf "$tarf" | wc -l) entries)"
imp=() load=() fsck=()
"$IMG" --root "$T/s0" import "$tarf" big:1 >/dev/null && "$IMG" --root "$T/s0" save -o "$T/big-docker.tar" big:1
for i in 1 2 3; do
	imp+=("$(ms "$IMG" --root "$T/si$i" import "$tarf" big:1)")
	load+=("$(ms "$IMG" --root "$T/s$i" load -i "$T/big-docker.tar")")
	sync
	fsck+=("$(ms "$IMG" --root "$T/s$i" fsck)")
	rm -rf "$T/si$i" "$T/si$i.run"
done
printf '| import of the rootfs tar | %s |\n' "$(printf '%s\n' "${imp[@]}" | median)"
printf '| load of its docker-archive | %s |\n' "$(printf '%s\n' "${load[@]}" | median)"
printf '| fsck of the store holding it | %s |\n' "$(printf '%s\n' "${fsck[@]}" | median)"
