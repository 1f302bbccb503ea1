# SPDX-License-Identifier: MIT
# Fixture for the img tests: a temp dir per test with its own --root, removed
# on EXIT even on failure; check/fail reporting like tests/lib/fslib.sh.
# Sourced. Environment: IMG (the binary, required).
set -u
export LC_ALL=C
TEST_NAME=$(basename "$0" .sh)
IMG_BIN=${IMG:?IMG must name the img binary}
_PASS=0
_FAIL=0
T=$(mktemp -d "${TMPDIR:-/tmp}/img-$TEST_NAME.XXXXXX") || exit 1
STORE=$T/store
_PIDS=()

_cleanup() {
	local p
	for p in "${_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	# container mounts left by a failed test: lazily, deepest first
	local m
	for m in $(awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$T"
}
trap _cleanup EXIT

img() { "$IMG_BIN" --root "$STORE" "$@"; }

. "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
# check_fails NAME ERE CMD...: CMD exits 125 with one stderr line matching ERE
check_fails() {
	local name=$1 re=$2 out rc; shift 2
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 125 ] && [[ "$out" =~ ^img:\ .*$re ]] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]; then
		pass "$name"
	else
		fail "$name" "exit $rc, stderr '$out' (wanted 125 and /img: .*$re/)"
	fi
}
# A fingerprint of everything in the store but the run dir: names, sizes, index.
store_state() {
	(cd "$STORE" && find . -printf '%p %s %y\n' | sort && sha256sum index.json)
}
# ctr_mount CTR: img mount, printing the mountpoint only when it is a real
# mount inside this test's temp dir. Tests write into "$mp/...": an empty or
# foreign answer must never turn that into the host's / (it did once, in a
# benchmark). Fails the test and stops it otherwise.
ctr_mount() {
	local m
	m=$(img mount "$1")
	case "$m" in
	"$T"/?*) ;;
	*) fail "img mount $1: '$m' is not inside the test dir"; finish ;;
	esac
	mountpoint -q "$m" || { fail "img mount $1: '$m' is not a mountpoint"; finish; }
	printf '%s\n' "$m"
}

finish() {
	printf '# %s: %d passed, %d failed\n' "$TEST_NAME" "$_PASS" "$_FAIL"
	[ "$_FAIL" -eq 0 ]
	exit $?
}
# need_fuse: skip (77) unless FUSE mounts can be made here (ufsmount, root)
need_fuse() {
	[ -c /dev/fuse ] && [ "$(id -u)" = 0 ] || { echo "skip: needs /dev/fuse and root"; exit 77; }
}
need() { # need CMD...: skip (77) if a tool is missing
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { echo "skip: $c not installed"; exit 77; }
	done
}
