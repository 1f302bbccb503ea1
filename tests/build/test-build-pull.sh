#!/bin/bash
# SPDX-License-Identifier: MIT
# img build's FROM and COPY --from pulled from a registry (Debian's
# docker-registry on 127.0.0.1, as tests/registry/): missing images are
# pulled (--pull=missing, the default), present ones are not, --pull=never
# refuses, --pull (always) fetches the manifest again.
. "$(dirname "$0")/../registry/reglib.sh"
. "$(dirname "$0")/buildlib.sh"
registry_start plain
img push busybox "$REG/base:1" >/dev/null || { fail "push busybox to $REG"; finish; }
manifest_gets() { grep -c '"GET /v2/base/manifests/' "$T/reg-plain/log"; }
S2=$T/store2
b2() { timeout 300 "$IMG_BIN" --root "$S2" build --cgroup-parent "$CGP" --network none "$@"; }
ctx p <<CF
FROM $REG/base:1
RUN echo pulled > /p
COPY --from=$REG/base:1 /bin/busybox /copy-of-busybox
CF
out=$(b2 --pull=never "$T/p" 2>&1); rc=$?
check "--pull=never: no pull" 125 "$rc"
check_re "--pull=never: the error" "FROM $REG/base:1: no such image in the store" "$out"
n=$(manifest_gets)
out=$(b2 -t p "$T/p" 2>&1); rc=$?
check "missing: pulled and built" 0 "$rc"
check_re "missing: said so" "Unable to find image '$REG/base:1' locally" "$out"
check "the pulled base ran" "pulled" "$("$IMG_BIN" --root "$S2" run --rm --pull=never --cgroup-parent "$CGP" --network none p cat /p)"
check "the base is in the store now" "$(img images -q --no-trunc busybox)" "$("$IMG_BIN" --root "$S2" images -q --no-trunc "$REG/base:1")"
n2=$(manifest_gets)
[ "$n2" -gt "$n" ] && pass "the registry was asked" || fail "the registry was asked" "$n -> $n2"
b2 -q "$T/p" >/dev/null
check "present: not asked again" "$n2" "$(manifest_gets)"
b2 -q --pull "$T/p" >/dev/null; rc=$?
check "--pull: built" 0 "$rc"
n3=$(manifest_gets)
[ "$n3" -gt "$n2" ] && pass "--pull: the manifest fetched again" || fail "--pull: the manifest fetched again" "$n2 -> $n3"
"$IMG_BIN" --root "$S2" ps -a -q | grep -q . && fail "containers left in store2" || pass "nothing left in store2"
finish
