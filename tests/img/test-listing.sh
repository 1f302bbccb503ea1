#!/bin/bash
# SPDX-License-Identifier: MIT
# Listing flags and --format completeness (issue 14), through the real
# binary on created (not started) containers: docker's ps filters (id,
# name, label, status, ancestor, before, since, volume, publish, expose,
# network), ps -n -l -s --no-trunc, {{.Label "k"}}, images -a --digests
# --no-trunc --filter (dangling, label, before, since, reference). Exited
# containers (exited=, status=exited) are tested in tests/priv.
. "$(dirname "$0")/imglib.sh"
flat() { tr '\n' '|' | sed 's/|$//'; }
rc_err() { local out; out=$("$@" 2>&1 >/dev/null); echo "$?:$out"; }
img import --busybox busybox >/dev/null || { fail "import busybox"; finish; }
ctr=$(img create busybox true)
img commit -c 'LABEL tier=web' -c 'EXPOSE 8080' "$ctr" webimg >/dev/null
img rm "$ctr" >/dev/null
img create --name a1 -l app=shop -l tier=front -p 127.0.0.1::80 busybox true >/dev/null
img create --name a2 -l app=blog -v data:/data busybox true >/dev/null
img create --name a3 --network none webimg true >/dev/null
ps() { img ps -a --format '{{.Names}}' "$@" | flat; }

check "ps -a: newest first" "a3|a2|a1" "$(ps)"
check "--filter name=" "a2" "$(ps --filter name=a2)"
check "--filter label=KEY" "a2|a1" "$(ps --filter label=app)"
check "--filter label=KEY=VALUE" "a1" "$(ps --filter label=app=shop)"
check "two filters of one key: either" "a2|a1" "$(ps -f label=app=shop -f label=app=blog)"
check "filters of two keys: both" "a1" "$(ps -f label=app -f name=a1)"
check "--filter status=created" "a3|a2|a1" "$(img ps --format '{{.Names}}' -f status=created | flat)"
check "--filter status=running" "" "$(ps -f status=running)"
check "--filter ancestor=" "a3" "$(ps -f ancestor=webimg)"
check "--filter before=" "a1" "$(ps -f before=a2)"
check "--filter since=" "a3" "$(ps -f since=a2)"
check "--filter volume=NAME" "a2" "$(ps -f volume=data)"
check "--filter volume=DESTINATION" "a2" "$(ps -f volume=/data)"
check "--filter publish=" "a1" "$(ps -f publish=80)"
check "--filter publish=/udp" "" "$(ps -f publish=80/udp)"
check "--filter expose= (the image's EXPOSE, and published ports)" "a3|a1" "$(ps -f expose=80-8080)"
check "--filter network=" "a3" "$(ps -f network=none)"
check "--filter id=" "a1" "$(ps -f id="$(img ps -a -q -f name=a1)")"
check "an unknown filter: docker's error" "125:img: invalid filter 'color'" "$(rc_err img ps -f color=red)"
check "a bad status: docker's error" "125:img: invalid filter 'status=sleepy'" "$(rc_err img ps -f status=sleepy)"
check "ps -n 2: the last two created (every state)" "a3|a2" "$(img ps -n 2 --format '{{.Names}}' | flat)"
check "ps -l: the latest" "a3" "$(img ps -l --format '{{.Names}}')"
check_re "ps -s: a SIZE column" 'SIZE$' "$(img ps -a -s | head -1)"
check_re "ps -s: docker's size with virtual" '^[0-9.]+[kMG]?B \(virtual [0-9.]+[kMG]?B\)$' "$(img ps -l --format '{{.Size}}')"
check_re "ps --no-trunc: full ids" '^[0-9a-f]{64}$' "$(img ps -l --no-trunc --format '{{.ID}}')"
check "{{.Label \"k\"}}" "blog |shop front|" "$(img ps -a --format '{{.Label "app"}} {{.Label "tier"}}' -f label=app | flat)|"
check "{{.LocalVolumes}} {{.Mounts}}" "1 data" "$(img ps -a -f name=a2 --format '{{.LocalVolumes}} {{.Mounts}}')"

# ------------------------------------------------------------ images
img tag busybox other:1
ctr=$(img create busybox true)
img commit "$ctr" >/dev/null # an untagged image: dangling
img rm "$ctr" >/dev/null
ims() { img images --format '{{.Repository}}:{{.Tag}}' "$@" | sort | flat; }
check "images --filter dangling=true" "<none>:<none>" "$(ims -f dangling=true)"
check "images --filter dangling=false" "busybox:latest|other:1|webimg:latest" "$(ims -f dangling=false)"
check "images --filter label=" "webimg:latest" "$(ims -f label=tier=web)"
check "images --filter reference= (a glob)" "busybox:latest" "$(ims -f reference='busy*')"
check "images --filter reference=REPO:TAG" "other:1" "$(ims -f reference='other:1')"
check "images --filter since=" "<none>:<none>|webimg:latest" "$(ims -f since=busybox)"
check "images --filter before=" "busybox:latest|other:1" "$(ims -f before=webimg)"
# (ids, not the table: its CREATED column may turn "10 seconds ago" between the two)
ids() { img images --format '{{.Repository}}:{{.Tag}} {{.ID}}' "$@" | flat; }
check "images -a lists the same (no intermediate images)" "$(ids)" "$(ids -a)"
check_re "images --digests: a DIGEST column" '^REPOSITORY +TAG +DIGEST +IMAGE ID' "$(img images --digests | head -1)"
check_re "images --no-trunc: full ids" '^sha256:[0-9a-f]{64}$' "$(img images --no-trunc --format '{{.ID}}' -f reference=webimg)"
check "images: bad filter" "125:img: invalid filter 'colour'" "$(rc_err img images -f colour=1)"
finish
