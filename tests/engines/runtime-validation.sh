#!/bin/bash
# SPDX-License-Identifier: MIT
# The opencontainers runtime-spec validation suite (runtime-tools'
# validation/*, each a Go program driving a runtime with runc's command
# line, most running runtimetest inside the container) against img-runtime.
# Not a meson test: the suite's source is not in Debian (its package
# golang-github-opencontainers-runtime-tools-dev ships the library only), so
# it needs a checkout of opencontainers/runtime-tools (commit 0105384, the
# one Debian packages) and of mndrix/tap-go, which CI cannot fetch; Go and
# the libraries come from Debian (see docs/runner.md, "Validation suite").
#   RUNTIME_TOOLS_SRC=DIR TAP_GO_SRC=DIR IMG_RUNTIME=build/tools/img-runtime \
#     bash tests/engines/runtime-validation.sh [TEST...]
# Prints one line per test program (ok / FAIL and its TAP "not ok" lines);
# exit 0 when every one passed. State, bundles and the Go build stay in a
# temp dir, removed at the end.
set -u
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
command -v go >/dev/null || { echo "go missing (apt-get install golang-go)" >&2; exit 77; }
[ -d /usr/share/gocode/src/github.com/opencontainers/runtime-tools ] ||
	{ echo "golang-github-opencontainers-runtime-tools-dev missing" >&2; exit 77; }
[ -d "${RUNTIME_TOOLS_SRC:-}/validation" ] || { echo "RUNTIME_TOOLS_SRC: no validation/ in '${RUNTIME_TOOLS_SRC:-}'" >&2; exit 77; }
[ -f "${TAP_GO_SRC:-}/tap.go" ] || { echo "TAP_GO_SRC: no tap.go in '${TAP_GO_SRC:-}'" >&2; exit 77; }
[ -x "${IMG_RUNTIME:-}" ] || { echo "IMG_RUNTIME not set" >&2; exit 1; }
IMG_RUNTIME=$(realpath "$IMG_RUNTIME")
T=$(mktemp -d "${TMPDIR:-/tmp}/ufs-rtval.XXXXXX") || exit 1
case "$T" in */ufs-rtval.*) ;; *) echo "bad temp dir '$T'" >&2; exit 1 ;; esac
cleanup() {
	local d
	for d in "$T"/state/*/; do
		[ -d "$d" ] && "$IMG_RUNTIME" --root "$T/state" delete -f "$(basename "$d")" >/dev/null 2>&1
	done
	rm -rf "$T"
}
trap cleanup EXIT

# GOPATH mode over Debian's gocode: the suite's source in our own GOPATH
G=$T/gopath
mkdir -p "$G/src/github.com/opencontainers" "$G/src/github.com/mndrix" "$T/bin" "$T/run"
cp -a "$RUNTIME_TOOLS_SRC" "$G/src/github.com/opencontainers/runtime-tools"
cp -a "$TAP_GO_SRC" "$G/src/github.com/mndrix/tap-go"
export GO111MODULE=off GOPATH=$G:/usr/share/gocode GOCACHE=$T/gocache GOFLAGS=
cd "$G/src/github.com/opencontainers/runtime-tools" || exit 1
go build -o "$T/run/runtimetest" ./cmd/runtimetest || { echo "building runtimetest failed" >&2; exit 1; }
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=($(ls validation | grep -v '^util$'))
for n in "${tests[@]}"; do
	go build -o "$T/bin/$n" "./validation/$n" 2>"$T/build-$n.log" || { echo "BUILD-FAIL $n: $(head -3 "$T/build-$n.log")"; }
done
cp rootfs-amd64.tar.gz "$T/run/"

# the suite runs $RUNTIME with runc's verbs; our state in the temp dir
printf '#!/bin/sh\nexec "%s" --root "%s/state" "$@"\n' "$IMG_RUNTIME" "$T" >"$T/run/rt"
chmod 755 "$T/run/rt"
cd "$T/run" || exit 1
pass=0 failed=0
for n in "${tests[@]}"; do
	[ -x "$T/bin/$n" ] || { failed=$((failed + 1)); continue; }
	out=$(RUNTIME=$T/run/rt timeout 300 "$T/bin/$n" 2>&1)
	rc=$?
	bad=$(printf '%s\n' "$out" | grep -E '^not ok' | grep -v '# *SKIP\|# *TODO')
	if [ $rc = 0 ] && [ -z "$bad" ]; then
		pass=$((pass + 1))
		echo "ok   $n ($(printf '%s\n' "$out" | grep -c '^ok') ok, $(printf '%s\n' "$out" | grep -c '# *SKIP') skipped)"
	else
		failed=$((failed + 1))
		echo "FAIL $n (exit $rc)"
		printf '%s\n' "${bad:-$(printf '%s\n' "$out" | tail -5)}" | sed 's/^/    /' | head -12
	fi
done
echo "# runtime-spec validation: $pass passed, $failed failed"
[ $failed = 0 ]
