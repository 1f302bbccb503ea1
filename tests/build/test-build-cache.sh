#!/bin/bash
# SPDX-License-Identifier: MIT
# img build's cache and reproducibility: a rebuild uses the cache for every
# step (no container run), a changed COPY source invalidates that step and
# the later ones only, so do a changed instruction and a changed build arg
# a RUN sees; --no-cache rebuilds; the same inputs give the same image
# digest, in this store and in another one, whatever the files' mtimes;
# SOURCE_DATE_EPOCH sets created and clamps the layers' times; a RUN's
# network mode is in its key.
. "$(dirname "$0")/buildlib.sh"
runc() { img run --rm --pull=never --cgroup-parent "$CGP" --network none "$@"; }
mkdir -p "$T/c/src"
echo one > "$T/c/src/one"; echo two > "$T/c/src/two"; echo keep > "$T/c/keep"
ctx c <<'CF'
FROM busybox
ARG A=a
RUN echo first > /first
COPY keep /keep
RUN echo "$A" > /a
COPY src /src/
RUN cat /src/one /src/two > /cat
ENV DONE=1
CF
# which steps of a build's output used the cache: "0 1 ..." per step (FROM
# never prints a cache line)
hits() { printf '%s\n' "$1" | awk '/^STEP/ { if (n) printf "%s ", h; n++; h=0 } /^--> Using cache/ { h=1 } END { print h }'; }
out=$(build -t c1 "$T/c" 2>&1); check "cold build" 0 $?
check "cold: no cache" "0 0 0 0 0 0 0 0" "$(hits "$out")"
id1=$(printf '%s\n' "$out" | tail -1)
out=$(build -t c2 "$T/c" 2>&1)
check "rebuild: every step from the cache" "0 1 1 1 1 1 1 1" "$(hits "$out")"
check_re "Using cache names the image" "--> Using cache sha256:[0-9a-f]{64}" "$out"
check "rebuild: the same image" "$id1" "$(printf '%s\n' "$out" | tail -1)"
case "$out" in *$'\nfirst\n'*) fail "a cached RUN ran" ;; *) pass "no RUN ran on a cached build" ;; esac
# a COPY source changes: that step and the later ones
echo ONE > "$T/c/src/one"
out=$(build -t c3 "$T/c" 2>&1)
check "one COPY source changed" "0 1 1 1 1 0 0 0" "$(hits "$out")"
check "its content is in the image" "ONE|two" "$(runc c3 cat /cat | tr '\n' '|' | sed 's/|$//')"
# only the mode changes: a change too
chmod 0600 "$T/c/src/two"
out=$(build -t c4 "$T/c" 2>&1)
check "a mode change invalidates" "0 1 1 1 1 0 0 0" "$(hits "$out")"
# only the mtime changes: no change (and the same digest)
touch -d '2001-01-01' "$T/c/src/two" "$T/c/keep"
out=$(build -t c5 "$T/c" 2>&1)
check "an mtime is not content" "0 1 1 1 1 1 1 1" "$(hits "$out")"
# a build arg that a RUN sees
out=$(build -t c6 --build-arg A=b "$T/c" 2>&1)
# (every RUN after an ARG sees it, as docker's: the first RUN misses)
check "a changed build arg: the RUNs from there" "0 1 0 0 0 0 0 0" "$(hits "$out")"
check "its value" "b" "$(runc c6 cat /a)"
# a changed instruction
sed -i 's/ENV DONE=1/ENV DONE=2/' "$T/c/Containerfile"
out=$(build -t c7 "$T/c" 2>&1)
check "a changed instruction: only it" "0 1 1 1 1 1 1 0" "$(hits "$out")"
# --no-cache: every step again, the same digest (reproducible)
c7=$(img inspect -f '{{.Id}}' c7)
out=$(build -t c8 --no-cache "$T/c" 2>&1)
check "--no-cache runs every step" "0 0 0 0 0 0 0 0" "$(hits "$out")"
check "--no-cache: the same digest" "$c7" "$(printf '%s\n' "$out" | tail -1)"
check "the manifest digest too" "$(img inspect -f '{{.Digest}}' c7 2>/dev/null || img inspect -f '{{index .RepoDigests 0}}' c7)" "$(img inspect -f '{{.Digest}}' c8 2>/dev/null || img inspect -f '{{index .RepoDigests 0}}' c8)"
# another store, the context copied (new mtimes): the same digest
cp -r "$T/c" "$T/c-copy"
other=$("$IMG_BIN" --root "$T/store2" import --busybox busybox >/dev/null && timeout 300 "$IMG_BIN" --root "$T/store2" build -q --cgroup-parent "$CGP" --network none "$T/c-copy" 2>&1)
check "another store: the same digest" "$c7" "$other"
"$IMG_BIN" --root "$T/store2" rmi -f "$other" >/dev/null 2>&1
# SOURCE_DATE_EPOCH: created, and file times clamped to it
out=$(SOURCE_DATE_EPOCH=1000000000 build -q -t sde "$T/c" 2>&1)
check_re "SOURCE_DATE_EPOCH: another image" "^sha256:" "$out"
[ "$out" != "$c7" ] && pass "SOURCE_DATE_EPOCH changes the digest" || fail "SOURCE_DATE_EPOCH changes the digest"
check "created from SOURCE_DATE_EPOCH" "2001-09-09T01:46:40Z" "$(img inspect -f '{{.Created}}' sde)"
check "a RUN's file clamped" "1000000000" "$(runc sde stat -c %Y /cat)"
check "a COPY's older file kept" "978307200" "$(runc sde stat -c %Y /keep)"
# the network mode a RUN has is in its key (buildkit's ExecOp has it): the
# build's --network, or the step's own; RUN --network=X and a build with
# --network X are the same step
ctx n <<'CF'
FROM busybox
RUN echo net > /n
CF
out=$(build "$T/n" 2>&1); check "network: --network none" "0 0" "$(hits "$out")"
out=$(build "$T/n" 2>&1); check "network: again, cached" "0 1" "$(hits "$out")"
out=$(build --network host "$T/n" 2>&1); check "network: --network host is another step" "0 0" "$(hits "$out")"
out=$(build --network host "$T/n" 2>&1); check "network: host again, cached" "0 1" "$(hits "$out")"
sed -i 's/^RUN /RUN --network=none /' "$T/n/Containerfile"
out=$(build --network host "$T/n" 2>&1); check "network: RUN --network=none is --network none's step" "0 1" "$(hits "$out")"
sed -i 's/^RUN --network=none /RUN --network=default /' "$T/n/Containerfile"
out=$(build "$T/n" 2>&1); check "network: RUN --network=default is the build's" "0 1" "$(hits "$out")"
out=$(build --network host "$T/n" 2>&1); check "network: default under --network host is host's" "0 1" "$(hits "$out")"
check "nothing left behind" "" "$(nothing_left)"
check "fsck" "$STORE: ok" "$(img fsck 2>&1)"
finish
