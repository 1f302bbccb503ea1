# SPDX-License-Identifier: MIT
# Test reporting shared by the fixtures (fslib.sh, imglib.sh): one line per
# check ("ok   - NAME" / "FAIL - NAME: why" / "skip - NAME"), counted in
# _PASS, _FAIL and _SKIP. Sourced.
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

