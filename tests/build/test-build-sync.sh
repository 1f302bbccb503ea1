#!/bin/bash
# SPDX-License-Identifier: MIT
# How img build makes its steps durable, from the syscalls (strace -f -y):
# one syncfs of the store's filesystem per step that publishes an image and
# one at the end, no per-file fsync of blobs, layers or index.json temps,
# and every name in blobs/, layers/, layer-manifests/ and index.json given
# only after a sync that follows the last file written (sync-order.py):
# nothing is published before its data is durable.
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
check_re "one syncfs per step that made an image, one at the end" "^syncfs 11 " "$ord"
check "no fsync of a blob, layer or index temp" "" \
	"$(grep -E "fsync\([0-9]+<$STORE/(tmp|blobs|layers|layer-manifests|\.tmp-index)" "$tr" | head -3)"
check "no fdatasync or sync" "" "$(grep -E '^[0-9]+ +(fdatasync|sync)\(' "$tr" | head -3)"
check "the image" "last" "$(img run --rm --pull=never --cgroup-parent "$CGP" --network none "$(cat "$T/iid")" cat /last)"
# a cached rebuild publishes nothing: no syncfs at all
strace -f -y -o "$tr" -e trace=syncfs,fsync,openat,linkat,renameat,renameat2 \
	"$IMG_BIN" --root "$STORE" build --cgroup-parent "$CGP" --network none "$T/s" >"$T/out" 2>&1
check "the cached rebuild" 0 $?
check_re "a cached rebuild: no syncfs" "^syncfs 0 " "$(python3 "$(dirname "$0")/sync-order.py" "$STORE" "$tr")"
check "nothing left behind" "" "$(nothing_left)"
check "fsck" "$STORE: ok" "$(img fsck 2>&1)"
finish
