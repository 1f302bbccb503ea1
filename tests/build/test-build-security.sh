#!/bin/bash
# SPDX-License-Identifier: MIT
# RUN --security (buildkit's): insecure runs the step as img run
# --privileged does (every capability, no seccomp filter, /sys read-write),
# only when the build was started with --allow security.insecure (buildx's
# entitlement); sandbox, the default, is the ordinary container; the mode is
# in the step's cache key. Refusals: one line, exit 125, nothing left.
. "$(dirname "$0")/buildlib.sh"
runc() { img run --rm --pull=never --cgroup-parent "$CGP" --network none "$@"; }
caps() { grep '^CapEff:' | awk '{ print $2 }'; }
# the reference sets: img run's default and --privileged containers
dflt=$(runc busybox cat /proc/self/status | caps)
priv=$(runc --privileged busybox cat /proc/self/status | caps)
[ -n "$dflt" ] && [ "$dflt" != "$priv" ] || { fail "img run --privileged gives more capabilities" "$dflt vs $priv"; finish; }

# the step: its capabilities, whether it may mount a tmpfs (CAP_SYS_ADMIN,
# outside the default set, and a syscall docker's filter allows only with
# it) and /sys's mount flags, written into the layer
step='grep ^CapEff: /proc/self/status > /caps; if mkdir -p /m && mount -t tmpfs none /m && umount /m; then echo yes; else echo no; fi > /mounted; awk '"'"'$2 == "/sys" { split($4, o, ","); print o[1] }'"'"' /proc/mounts > /sys-mode'
ctx ins <<CF
FROM busybox
RUN --security=insecure $step
CF
ctx sbx <<CF
FROM busybox
RUN --security=sandbox $step
CF
ctx dfl <<CF
FROM busybox
RUN $step
CF
ctx bad <<'CF'
FROM busybox
RUN --security=root true
CF

# refusals
check_fails "insecure without --allow, naming the flag" \
	"build: Containerfile:2: RUN --security=insecure: not allowed without img build --allow security.insecure\$" build "$T/ins"
check_fails "another --allow value" "build: invalid --allow 'network.host' \(only security.insecure is supported\)" \
	build --allow network.host "$T/ins"
check_fails "an unknown --security mode" "build: Containerfile:2: RUN --security=root: sandbox or insecure" \
	build --allow security.insecure "$T/bad"
check "nothing left after the refusals" "" "$(nothing_left)"

# sandbox (the default, and said): the default set, no mount, /sys ro
for c in dfl sbx; do
	out=$(build --allow security.insecure -t "$c" "$T/$c" 2>&1); check "$c: built" 0 $?
	check "$c: the default capabilities" "$dflt" "$(runc "$c" cat /caps | awk '{ print $2 }')"
	check "$c: no tmpfs mount" "no" "$(runc "$c" cat /mounted)"
	check "$c: /sys read-only" "ro" "$(runc "$c" cat /sys-mode)"
done
# insecure, allowed: --privileged's container
out=$(build --allow security.insecure -t ins "$T/ins" 2>&1); check "insecure with --allow: built" 0 $? 
check "insecure: every capability (--privileged's set)" "$priv" "$(runc ins cat /caps | awk '{ print $2 }')"
check "insecure: a tmpfs mounted" "yes" "$(runc ins cat /mounted)"
check "insecure: /sys read-write" "rw" "$(runc ins cat /sys-mode)"

# the mode is in the cache key: the same command sandboxed then insecure
# (and back) is not taken from the other's cache
ctx k <<'CF'
FROM busybox
RUN grep ^CapEff: /proc/self/status > /caps
CF
out=$(build --allow security.insecure -t k1 "$T/k" 2>&1); check "key: sandboxed build" 0 $?
sed -i 's/^RUN /RUN --security=insecure /' "$T/k/Containerfile"
out=$(build --allow security.insecure -t k2 "$T/k" 2>&1); check "key: insecure build" 0 $?
case "$out" in *"Using cache"*) fail "insecure step taken from the sandboxed one's cache" "$out" ;; *) pass "insecure: not the sandboxed step's cache" ;; esac
check "key: the insecure step's capabilities" "$priv" "$(runc k2 cat /caps | awk '{ print $2 }')"
out=$(build --allow security.insecure -t k3 "$T/k" 2>&1)
check_re "key: the insecure step cached on a rebuild" "Using cache" "$out"
sed -i 's/^RUN --security=insecure /RUN /' "$T/k/Containerfile"
check "key: back to sandboxed, its image again" "$(cfg k1 '{{.Id}}')" "$(build -q "$T/k" 2>&1)"

check "nothing left behind" "" "$(nothing_left)"
check "fsck" "$STORE: ok" "$(img fsck 2>&1)"
finish
