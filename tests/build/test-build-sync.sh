#!/bin/bash
# SPDX-License-Identifier: MIT
# How img build makes its steps durable, from the syscalls (strace -f -y):
# one syncfs of the store's filesystem per step that publishes an image and
# one at the end, no fsync (of blobs, layers, index.json temps, or the
# containers dir when a step's ephemeral container is removed),
# and every name in blobs/, layers/, layer-manifests/ and index.json given
# only after a sync that follows the last file written (sync-order.py):
# nothing is published before its data is durable; a failed syncfs names
# nothing of its step.
. "$(dirname "$0")/buildlib.sh"
need strace
mkdir -p "$T/s/src"
for i in $(seq 20); do echo "$i $$" > "$T/s/src/f$i"; done
# 10 steps after FROM, each a new image (no tag: a tag's index write is
# fsynced as any) (the context is new: no layer of it exists)
ctx s <<CF
FROM busybox
ENV A=$$
RUN echo one > /one
COPY src /src/
RUN mkdir /many && cd /many && for i in \$(seq 100); do echo \$i > f\$i; done
WORKDIR /w
RUN echo w > w
COPY Containerfile /cf
RUN rm /one
LABEL x=y
RUN echo last > /last
CF
tr=$T/trace
# (LeakSanitizer cannot run under ptrace: off for the traced commands of a
# sanitizer build; ASan itself stays on)
[ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
strace -f -y -o "$tr" -e trace=syncfs,fsync,fdatasync,sync,openat,linkat,renameat,renameat2 \
	"$IMG_BIN" --root "$STORE" build --cgroup-parent "$CGP" --network none --iidfile "$T/iid" "$T/s" >"$T/out" 2>&1
check "the build under strace" 0 $?
check "FROM and its 10 steps" 11 "$(grep -c '^STEP' "$T/out")"
ord=$(python3 "$(dirname "$0")/sync-order.py" "$STORE" "$tr"); rc=$?
check "no name published before its data is synced" 0 "$rc"
check_re "one syncfs per step that made an image, one at the end, no fsync" "^syncfs 11 fsync 0$" "$(head -1 <<<"$ord")"
check "no fsync of a blob, layer or index temp" "" \
	"$(grep -E "fsync\([0-9]+<$STORE/(tmp|blobs|layers|layer-manifests|\.tmp-index)" "$tr" | head -3)"
check "no fdatasync or sync" "" "$(grep -E '^[0-9]+ +(fdatasync|sync)\(' "$tr" | head -3)"
check "the image" "last" "$(img run --rm --pull=never --cgroup-parent "$CGP" --network none "$(cat "$T/iid")" cat /last)"
# a cached rebuild publishes nothing: no syncfs at all
strace -f -y -o "$tr" -e trace=syncfs,fsync,openat,linkat,renameat,renameat2 \
	"$IMG_BIN" --root "$STORE" build --cgroup-parent "$CGP" --network none "$T/s" >"$T/out" 2>&1
check "the cached rebuild" 0 $?
check_re "a cached rebuild: no syncfs" "^syncfs 0 " "$(python3 "$(dirname "$0")/sync-order.py" "$STORE" "$tr")"
# a sync that fails (strace's fault injection: syncfs gets EIO) publishes
# nothing of its step: no blob, layer, content manifest or index entry, no
# temp left; the steps before it stay, the build says why, exit 125
names() { (cd "$STORE" && ls blobs/sha256 layers layer-manifests 2>/dev/null; cat index.json; ls -A tmp); }
sed -i "s/^ENV A=.*/ENV A=eio$$/" "$T/s/Containerfile"
before=$(names)
out=$(strace -f -o /dev/null -e trace=syncfs -e inject=syncfs:error=EIO \
	"$IMG_BIN" --root "$STORE" build --cgroup-parent "$CGP" --network none "$T/s" 2>&1); rc=$?
check "a failed syncfs fails the build" 125 "$rc"
check_re "it says so" "img: build: Containerfile:2: syncing the store $STORE: Input/output error" "$out"
check "nothing of the step named, no temp left" "" "$(diff <(echo "$before") <(echo "$(names)"))"
# the third syncfs fails: ENV and RUN are published, the COPY is not
out=$(strace -f -o /dev/null -e trace=syncfs -e inject=syncfs:error=EIO:when=3 \
	"$IMG_BIN" --root "$STORE" build --cgroup-parent "$CGP" --network none "$T/s" 2>&1); rc=$?
check "the third syncfs failing" 125 "$rc"
check_re "at the COPY" "Containerfile:4: syncing the store" "$out"
out=$(build "$T/s" 2>&1); check "the build again" 0 $?
check "the two steps before it from the cache" "2" "$(grep -c '^--> Using cache' <<<"$out")"
check "nothing left behind" "" "$(nothing_left)"
check "fsck" "$STORE: ok" "$(img fsck 2>&1)"
finish
