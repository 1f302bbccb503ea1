#!/bin/bash
# SPDX-License-Identifier: MIT
# What a build leaves in the store and how it goes: img images hides the
# step (intermediate) images unless -a (docker's), an untagged final image
# is shown; img gc drops the build cache's records of images gone; img
# builder prune removes the cache mounts and the cache no tagged image uses,
# -a all of it (every record, every untagged step image); img system prune
# does builder prune's part too.
. "$(dirname "$0")/buildlib.sh"
runc() { img run --rm --pull=never --cgroup-parent "$CGP" --network none "$@"; }
ctx p <<'CF'
FROM busybox
RUN echo one > /one
RUN --mount=type=cache,target=/c echo x > /c/x && echo two > /two
LABEL step=3
CF
build -q -t t1 "$T/p" >/dev/null; check "a build" 0 $?
records() { find "$STORE/build-cache" -type f 2>/dev/null | wc -l; }
n_all=$(img images -a -q | wc -l)
check "img images: the tagged ones" "busybox t1" "$(img images --format '{{.Repository}}' | sort | tr '\n' ' ' | sed 's/ $//')"
check "img images -a: the step images too" "4" "$n_all"
check "-a shows them as <none>" "2" "$(img images -a --format '{{.Repository}}' | grep -c '<none>')"
# an untagged build: its final image is shown (dangling), its steps not
printf 'FROM busybox\nRUN echo u > /u\nLABEL u=1\n' > "$T/p/Untagged"
uid=$(build -q -f "$T/p/Untagged" "$T/p"); check "an untagged build" 0 $?
check "its final image shown" "1" "$(img images -q --no-trunc | grep -c "$uid")"
check "its step not" "3" "$(img images -q | wc -l)"
check "-a: all" "$((n_all + 2))" "$(img images -a -q | wc -l)"
check "a record per step" "5" "$(records)"
check "the cache mount is there" "1" "$(ls "$STORE/build-mounts" | grep -c '^cache-')"
check "system df counts the build cache's records" "5" "$(img system df | awk '$1 == "Build" { print $3 }')"
# a record whose image was removed goes (rmi's gc, img gc)
img rmi -f "$uid" >/dev/null; check "rmi of the untagged build" 0 $?
check "its record gone" "4" "$(records)"
echo "sha256:$(printf '%064d' 1)" > "$STORE/build-cache/$(printf '%064d' 2)"
out=$(img gc); check "gc" 0 $?
check "gc names a stale record" "deleted: build-cache/$(printf '%064d' 2)" "$out"
check "and removes it" "4" "$(records)"
# builder prune: the cache mounts, what no tagged image uses; t1's steps kept
build -q -f "$T/p/Untagged" "$T/p" >/dev/null
out=$(img builder prune); check "builder prune" 0 $?
check_re "it reports" "^Deleted build cache objects:" "$out"
check_re "and the space" "Total reclaimed space: " "$out"
check "t1's records kept" "3" "$(records)"
check "the cache mount gone" "0" "$(ls "$STORE/build-mounts" 2>/dev/null | grep -c '^cache-')"
check "the untagged build gone" "busybox t1" "$(img images -a --format '{{.Repository}}' | grep -v '<none>' | sort | tr '\n' ' ' | sed 's/ $//')"
check "t1's steps kept" "2" "$(img images -a --format '{{.Repository}}' | grep -c '<none>')"
out=$(build "$T/p" 2>&1)
check "t1 still cached (the RUN with a cache mount too)" "3" "$(printf '%s\n' "$out" | grep -c 'Using cache')"
# builder prune -a: every record, every step image; t1 itself stays
out=$(img builder prune -a); check "builder prune -a" 0 $?
check "no record left" "0" "$(records)"
check "system df: no build cache" "0 0B" "$(img system df | awk '$1 == "Build" { print $3, $6 }')"
check "no step image left" "busybox t1" "$(img images -a --format '{{.Repository}}' | sort | tr '\n' ' ' | sed 's/ $//')"
check "t1 runs" "one two" "$(runc t1 cat /one /two | tr '\n' ' ' | sed 's/ $//')"
out=$(build "$T/p" 2>&1)
check "nothing cached after -a" "0" "$(printf '%s\n' "$out" | grep -c 'Using cache')"
# system prune: the build cache too
build -q -f "$T/p/Untagged" "$T/p" >/dev/null
out=$(img system prune -f); check "system prune" 0 $?
check "system prune: the cache mount gone" "0" "$(ls "$STORE/build-mounts" 2>/dev/null | grep -c '^cache-')"
check "image prune keeps t1's steps" "2" "$(img images -a --format '{{.Repository}}' | grep -c '<none>')"
check "system prune: the untagged build's records gone" "3" "$(records)"
out=$(img system prune -a -f); check "system prune -a" 0 $?
check "system prune -a: no record left" "0" "$(records)"
check "nothing left behind" "" "$(nothing_left)"
check "fsck" "$STORE: ok" "$(img fsck 2>&1)"
finish
