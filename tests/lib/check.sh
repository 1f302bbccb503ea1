# SPDX-License-Identifier: MIT
# Test reporting shared by the fixtures (fslib.sh, imglib.sh): one line per
# check ("ok   - NAME" / "FAIL - NAME: why" / "skip - NAME"), counted in
# _PASS, _FAIL and _SKIP. Sourced.
# Nothing a test runs may reach past loopback (img run of a missing image
# pulls from docker.io, as docker's does): libcurl (img's registry client),
# skopeo, podman and buildah take these, so a request for any other host
# goes to a closed loopback port and fails at once, without a DNS lookup.
for _v in all_proxy ALL_PROXY http_proxy HTTP_PROXY https_proxy HTTPS_PROXY; do
	export "$_v=http://127.0.0.1:9"
done
export no_proxy=127.0.0.0/8,localhost,::1 NO_PROXY=127.0.0.0/8,localhost,::1
_PASS=${_PASS:-0}
_FAIL=${_FAIL:-0}
_SKIP=${_SKIP:-0}

_oneline() { printf '%s' "$1" | head -c 600 | tr '\n' '|'; }

pass() { _PASS=$((_PASS + 1)); printf 'ok   - %s\n' "$1"; }
fail() {
	_FAIL=$((_FAIL + 1))
	if [ $# -ge 2 ]; then printf 'FAIL - %s: %s\n' "$1" "$(_oneline "$2")"
	else printf 'FAIL - %s\n' "$1"; fi
}
skip() { _SKIP=$((_SKIP + 1)); printf 'skip - %s%s\n' "$1" "${2:+: $2}"; }
note() { printf '#      %s\n' "$*"; }

# check NAME EXPECTED ACTUAL: exact string comparison.
check() {
	if [ "$2" == "$3" ]; then pass "$1"
	else fail "$1" "expected '$(_oneline "$2")', got '$(_oneline "$3")'"; fi
}

# check_re NAME ERE ACTUAL: ACTUAL matches the extended regex (anchored by caller).
check_re() {
	if [[ "$3" =~ $2 ]]; then pass "$1"
	else fail "$1" "expected to match /$2/, got '$(_oneline "$3")'"; fi
}

# check_true NAME CMD...: CMD exits 0 (its output is shown on failure).
check_true() {
	local name=$1 out rc; shift
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then pass "$name"
	else fail "$name" "command failed (rc=$rc): $* -> $out"; fi
}

# check_false NAME CMD...: CMD exits non-zero.
check_false() {
	local name=$1 out rc; shift
	out=$("$@" 2>&1); rc=$?
	if [ $rc -ne 0 ]; then pass "$name"
	else fail "$name" "command unexpectedly succeeded: $* -> $out"; fi
}

