# SPDX-License-Identifier: MIT
# Helpers of the benchmark scripts (bench/, tests/img/bench-podman.sh). Sourced.
# ms CMD...: the wall time of CMD in ms (its output dropped, a failure said)
ms() { local a b; a=$(date +%s%N); "$@" >/dev/null 2>&1 || echo "FAILED: $*" >&2; b=$(date +%s%N); echo $(( (b - a) / 1000000 )); }
# median: of the numbers on stdin, one a line
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/podman-cg.sh"

# meta_setup NAME DEFAULT_N [N [TRANSPORT...]]: the common start of the
# metadata counters (meta-counts.sh, meta-syscalls.sh): n (default
# DEFAULT_N) and transports (default dev uring), UFSMOUNT (default the
# build's), root required, P the fuse module's enable_uring and old its
# value, D a temp dir (/tmp/NAME.*) for the branches and the mount D/m,
# and an EXIT trap running meta_cleanup.
meta_setup() {
	local name=$1 def=$2
	shift 2
	n=${1:-$def}; shift 2>/dev/null
	transports=${*:-dev uring}
	UFSMOUNT=${UFSMOUNT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/tools/ufsmount}
	P=/sys/module/fuse/parameters/enable_uring
	[ "$(id -u)" = 0 ] || { echo "$name: needs root" >&2; exit 1; }
	old=$(cat "$P" 2>/dev/null)
	D=$(mktemp -d "/tmp/$name.XXXXXX") || exit 1
	trap meta_cleanup EXIT
}
# meta_cleanup: meta_cleanup_first if the script has one (a tracer to
# stop), then D/m unmounted if mounted, enable_uring restored, D removed.
meta_cleanup() {
	declare -F meta_cleanup_first >/dev/null && meta_cleanup_first
	awk -v m="$D/m" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo && umount "$D/m"
	[ -n "$old" ] && [ -w "$P" ] && echo "$old" >"$P"
	rm -rf --one-file-system "$D"
}
