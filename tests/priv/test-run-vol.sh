#!/bin/bash
# SPDX-License-Identifier: MIT
# Volumes through the real binary, as root (issue 14): named volumes made on
# first use and seeded from the image, anonymous ones (-v /path, the image's
# VOLUME), --mount's three types and docker's errors, --volumes-from, rm -v,
# volume rm refusing a volume in use, the local driver's tmpfs option, and
# the data never passing through the union (a bind of the volume's dir).
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
flat() { tr '\n' '|' | sed 's/|$//'; }
# exit code and stderr of a command
rc_err() { local out; out=$("$@" 2>&1 >/dev/null); echo "$?:$out"; }

# ------------------------------------------------------------ named volumes
out=$(run --rm -v data:/data busybox sh -c 'echo one > /data/f; cat /data/f')
check "-v NAME:/path makes the volume on first use" "one" "$out"
check "it lives in the store's volumes dir" "one" "$(cat "$STORE/volumes/data/_data/f")"
out=$(run --rm -v data:/data:ro busybox sh -c 'cat /data/f; (echo x > /data/g) 2>/dev/null || echo ro')
check "the data survives the container; :ro" "one|ro" "$(echo "$out" | flat)"
out=$(run --rm -v data:/data busybox sh -c 'grep " /data " /proc/mounts | cut -d" " -f3')
[ "$out" != fuse.ufsmount ] && pass "the volume is not served by the union ($out)" ||
	fail "the volume is not served by the union" "$out"

# seeded from the image at that path when empty, as docker's
want=$(run --rm busybox sh -c 'ls /bin | grep -c .')
out=$(run --rm -v bins:/bin busybox sh -c 'ls /bin | grep -c .')
check "an empty volume is seeded from the image's content at its path" "$want" "$out"
[ -L "$STORE/volumes/bins/_data/sh" ] && pass "seeded: symlinks stay symlinks" || fail "seeded: symlinks stay symlinks"
echo mine > "$STORE/volumes/data/_data/only"
out=$(run --rm -v data:/etc busybox ls /etc | flat)
check "a volume with content is not seeded again" "f|only" "$out"
out=$(run --rm -v nocp:/bin:nocopy busybox /bin/busybox true 2>&1; ls -A "$STORE/volumes/nocp/_data" | wc -l)
check "nocopy: not seeded" "0" "$(echo "$out" | tail -1)"

# ------------------------------------------------------------ anonymous volumes
id=$(run -d -v /anon busybox sh -c 'echo a > /anon/x; sleep 60')
name=$(img inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$id")
check_re "-v /path: an anonymous volume (64 hex)" '^[0-9a-f]{64}$' "$name"
check "inspect .Mounts: type, destination" "volume /anon true" \
	"$(img inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}' "$id")"
check "volume rm refuses a volume in use (exit 1, docker's text)" \
	"1:img: remove $name: volume is in use - [$id]" "$(rc_err img volume rm "$name")"
check_re "ps --format {{.Mounts}} names the volume" "^${name:0:12}" "$(img ps --format '{{.Mounts}} {{.LocalVolumes}}' -f id="$id")"
img rm -f "$id" >/dev/null
[ -d "$STORE/volumes/$name" ] && pass "rm without -v keeps the anonymous volume" || fail "rm without -v keeps the anonymous volume"
img volume rm "$name" >/dev/null
id=$(run -d -v /anon busybox sleep 60)
name=$(img inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$id")
img rm -f -v "$id" >/dev/null
[ ! -e "$STORE/volumes/$name" ] && pass "rm -v removes the anonymous volume" || fail "rm -v removes the anonymous volume"
run --rm -v /anon2 busybox true
check "--rm removes its anonymous volumes" "" "$(img volume ls -q -f label=com.docker.volume.anonymous)"
id=$(run -d -v data:/data busybox sleep 60)
img rm -f -v "$id" >/dev/null
[ -d "$STORE/volumes/data" ] && pass "rm -v keeps named volumes" || fail "rm -v keeps named volumes"

# the image's VOLUME
ctr=$(img create busybox true)
img commit -c 'VOLUME /state' "$ctr" withvol >/dev/null
img rm "$ctr" >/dev/null
id=$(run -d withvol sh -c 'echo s > /state/s; sleep 60')
check "the image's VOLUME: an anonymous volume" "volume /state" \
	"$(img inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}}{{end}}' "$id")"
# --volumes-from
out=$(run --rm --volumes-from "$id" busybox cat /state/s)
check "--volumes-from: the other container's volumes at the same paths" "s" "$out"
out=$(run --rm --volumes-from "$id:ro" busybox sh -c '(echo x > /state/t) 2>/dev/null || echo ro')
check "--volumes-from CTR:ro" "ro" "$out"
img rm -f -v "$id" >/dev/null
id=$(run -d -v over:/state withvol sleep 60)
check "-v over an image VOLUME path replaces it" "over" \
	"$(img inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$id")"
img rm -f -v "$id" >/dev/null

# ------------------------------------------------------------ --mount
mkdir -p "$T/host" && echo h > "$T/host/file"
out=$(run --rm --mount type=bind,source="$T/host",target=/h,readonly busybox sh -c 'cat /h/file; touch /h/x 2>/dev/null || echo ro')
check "--mount type=bind,readonly" "h|ro" "$(echo "$out" | flat)"
out=$(run --rm --mount source=data,target=/d busybox cat /d/f)
check "--mount (type volume by default)" "one" "$out"
out=$(run --rm --mount type=tmpfs,destination=/t,tmpfs-size=1m busybox sh -c 'grep " /t " /proc/mounts | cut -d" " -f3,4')
check_re "--mount type=tmpfs,tmpfs-size" '^tmpfs .*size=1024k' "$out"
check "--mount without target: docker's error" \
	"125:img: invalid argument \"type=bind,source=/x\" for \"--mount\" flag: target is required" \
	"$(rc_err run --rm --mount type=bind,source=/x busybox true)"
check "--mount bind of a missing source: docker's error" \
	"125:img: invalid mount config for type \"bind\": bind source path does not exist: $T/nope" \
	"$(rc_err run --rm --mount type=bind,source=$T/nope,target=/x busybox true)"
check "--mount unknown key" \
	"125:img: invalid argument \"type=volume,target=/x,foo=1\" for \"--mount\" flag: unexpected key 'foo' in 'foo'" \
	"$(rc_err run --rm --mount type=volume,target=/x,foo=1 busybox true)"
check "-v with a bad volume name: docker's error" \
	"125:img: create a+b: \"a+b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" \
	"$(rc_err run --rm -v a+b:/x busybox true)"
check "two mounts on one path" "125:img: Duplicate mount point: /x" \
	"$(rc_err run --rm -v a1:/x -v a2:/x busybox true)"
check "a failed run leaves no anonymous volume" "" "$(img volume ls -q -f label=com.docker.volume.anonymous)"
out=$(run --rm -v "$T/made/here:/m" busybox sh -c 'echo y > /m/y'; cat "$T/made/here/y")
check "-v HOST:CTR makes a missing host dir, as docker's" "y" "$out"

# ------------------------------------------------------------ the local driver's options
img volume create -o type=tmpfs -o device=tmpfs -o o=size=2m tv >/dev/null
out=$(run --rm -v tv:/tv busybox sh -c 'echo t > /tv/t; df -k /tv | tail -1 | tr -s " " | cut -d" " -f2')
check "volume create -o type=tmpfs: mounted at first use" "2048" "$out"
mountpoint -q "$STORE/volumes/tv/_data" && pass "the tmpfs is on the volume's _data" || fail "the tmpfs is on the volume's _data"
img volume rm tv >/dev/null
mountpoint -q "$STORE/volumes/tv/_data" 2>/dev/null && fail "volume rm unmounts it" || pass "volume rm unmounts it"
finish
