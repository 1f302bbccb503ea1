#!/bin/bash
# SPDX-License-Identifier: MIT
# img build vs buildah bud, side by side, one run (issue 12; results in
# docs/perf-img.md): a 10-step Containerfile (file writes, a COPY of a
# 5,000-file context, a RUN that makes 1,000 files, config steps) built
# cold (--no-cache), fully cached, and after one file of the big COPY
# changed. Each figure is the median of RUNS (3) runs. Both use private
# stores under a temp dir: buildah with --layers and its overlay driver
# (kernel overlayfs), img with its store. The base is the embedded busybox,
# or BASE_TAR=ROOTFS.tar (a debootstrapped Debian: see docs/perf-img.md).
# Usage (root): IMG=build/tools/img [BASE_TAR=debian.tar] [RUNS=3] bash bench/bench-build.sh
set -u
IMG=${IMG:?}
RUNS=${RUNS:-3}
command -v buildah >/dev/null || { echo "buildah missing"; exit 77; }
T=$(mktemp -d /var/tmp/img-bench-build.XXXXXX)
B=(buildah --root "$T/broot" --runroot "$T/brun" --storage-driver overlay)
S=$T/store
CGP=imgbench$$
cleanup() {
	"${B[@]}" rm --all >/dev/null 2>&1; "${B[@]}" rmi --all --force >/dev/null 2>&1
	for m in $(awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
	for c in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do [ -d "$c$CGP" ] && find "$c$CGP" -depth -type d -exec rmdir {} + 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/benchlib.sh"
img() { "$IMG" --root "$S" "$@"; }

if [ -n "${BASE_TAR:-}" ]; then
	img import "$BASE_TAR" base:latest >/dev/null || { echo "import of $BASE_TAR failed"; exit 1; }
else
	img import --busybox base:latest >/dev/null || exit 1
fi
img save -o "$T/base.tar" base:latest
"${B[@]}" pull -q "docker-archive:$T/base.tar" >/dev/null 2>&1 || { echo "buildah pull failed"; exit 1; }
"${B[@]}" tag "$("${B[@]}" images -q | head -1)" localhost/base:latest docker.io/library/base:latest >/dev/null 2>&1

C=$T/ctx
mkdir -p "$C/tree"
for d in $(seq 1 50); do
	mkdir -p "$C/tree/d$d"
	for f in $(seq 1 100); do echo "file $d/$f" > "$C/tree/d$d/f$f"; done
done
echo v1 > "$C/changing.txt"
cat > "$C/Containerfile" <<'CF'
FROM base
ENV APP=/app
RUN mkdir -p /app && echo v1 > /app/version
COPY tree/ /app/tree/
RUN i=0; while [ $i -lt 1000 ]; do echo $i > /app/gen.$i; i=$((i+1)); done
WORKDIR /app
COPY changing.txt /app/changing.txt
RUN cat /app/changing.txt > /app/copy
LABEL bench=1
CMD ["sh"]
CF
ib() { "$IMG" --root "$S" build -q --network none --cgroup-parent "$CGP" "$@" "$C"; }
bb() { "${B[@]}" bud -q --pull-never --layers --network none "$@" "$C"; }
ib >/dev/null; bb >/dev/null # warm both (page cache, the base unpacked)
cold_i=$(for i in $(seq "$RUNS"); do ms ib --no-cache; done | median)
cold_b=$(for i in $(seq "$RUNS"); do ms bb --no-cache; done | median)
ib >/dev/null; bb >/dev/null
hit_i=$(for i in $(seq "$RUNS"); do ms ib; done | median)
hit_b=$(for i in $(seq "$RUNS"); do ms bb; done | median)
# one file of the 5,000-file COPY changes before each run (a new content each time)
chg_i=$(for i in $(seq "$RUNS"); do echo "img $i $(date +%s%N)" > "$C/tree/d7/f7"; ms ib; done | median)
chg_b=$(for i in $(seq "$RUNS"); do echo "bah $i $(date +%s%N)" > "$C/tree/d7/f7"; ms bb; done | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (a > 0 ? b / a : 0) }'; }
echo "| build | img (ms) | buildah bud (ms) | buildah/img |"
echo "|---|---|---|---|"
echo "| cold (--no-cache), 10 steps | $cold_i | $cold_b | $(ratio "$cold_i" "$cold_b") |"
echo "| fully cached rebuild | $hit_i | $hit_b | $(ratio "$hit_i" "$hit_b") |"
echo "| one file of the 5,000-file COPY changed | $chg_i | $chg_b | $(ratio "$chg_i" "$chg_b") |"
