#!/bin/bash
# SPDX-License-Identifier: MIT
# bench-runtime.sh [N]: `ctr run --rm` and `podman run --rm` of `true`
# with img-runtime vs runc, N runs each (default 20), alternated so that
# the load of a shared machine falls on both alike; prints the median and
# mean wall time of each and the ratios (docs/runner.md).
# Run: IMG_RUNTIME=build/tools/img-runtime bash tests/engines/bench-runtime.sh 20
. "$(dirname "$0")/rtlib.sh"
ctd_need
pod_need
command -v runc >/dev/null || skip_all "runc missing"
N=${1:-20}
podman_cg_note
rt_setup
ctd_setup
RUNC=$(command -v runc)
# podman's state of both runtimes is torn down with the store; runc's
# own root (podman passes none) would be /run/runc: a wrapper moves it here
printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$RUNC" "$T/runc-pod" >"$T/runc-wrap"
chmod 755 "$T/runc-wrap"
POD_THEN=ctd_cleanup
pod_setup

ms() { echo $(( $(date +%s%N) / 1000000 )); }
# time_one FILE CMD...: append the wall time of CMD in ms to FILE
time_one() {
	local f=$1 t0 t1
	shift
	t0=$(ms)
	"$@" >/dev/null 2>"$T/one.err" </dev/null || echo "failed: $*: $(tail -2 "$T/one.err")" >&2
	t1=$(ms)
	echo $((t1 - t0)) >>"$f"
}
for i in $(seq "$N"); do
	time_one "$T/ctr-img" ctr run --rm --runc-binary "$IMG_RUNTIME" --runc-root "$T/runc" localhost/rt:1 "bi$i" true
	time_one "$T/ctr-runc" ctr run --rm --runc-binary "$RUNC" --runc-root "$T/runc" localhost/rt:1 "br$i" true
	time_one "$T/pod-img" pod run --rm --network none localhost/rt:1 true
	POD_RUNTIME=$T/runc-wrap time_one "$T/pod-runc" pod run --rm --network none localhost/rt:1 true
done
python3 - "$T" "$N" <<'EOF'
import statistics, sys
T, n = sys.argv[1], sys.argv[2]
def load(k):
    return [int(x) for x in open(f"{T}/{k}")]
print(f"# {n} runs each, wall time in ms (median / mean)")
for eng in ("ctr", "pod"):
    a, b = load(f"{eng}-img"), load(f"{eng}-runc")
    ma, mb = statistics.median(a), statistics.median(b)
    name = "ctr run --rm" if eng == "ctr" else "podman run --rm"
    print(f"{name:16} img-runtime {ma:6.0f} / {statistics.mean(a):6.0f}   runc {mb:6.0f} / {statistics.mean(b):6.0f}"
          f"   ratio (median) {ma / mb:.2f}")
EOF
