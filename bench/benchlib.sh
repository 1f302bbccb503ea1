# SPDX-License-Identifier: MIT
# Helpers of the benchmark scripts (bench/, tests/img/bench-podman.sh). Sourced.
# ms CMD...: the wall time of CMD in ms (its output dropped, a failure said)
ms() { local a b; a=$(date +%s%N); "$@" >/dev/null 2>&1 || echo "FAILED: $*" >&2; b=$(date +%s%N); echo $(( (b - a) / 1000000 )); }
# median: of the numbers on stdin, one a line
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/podman-cg.sh"
