#!/bin/bash
# SPDX-License-Identifier: MIT
# Registry settings and upload forms (issue 9): daemon.json's
# registry-mirrors for docker.io (tried in order, a dead one skipped),
# --max-concurrent-downloads / --max-concurrent-uploads and their
# daemon.json keys (seen as requests in flight at a proxy), chunked PATCH
# uploads and the fall back to one PUT where a registry refuses PATCH.
# docker.io itself is never reached: every https request outside loopback
# goes to a proxy address that refuses it.
. "$(dirname "$0")/reglib.sh"
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
export https_proxy=http://127.0.0.1:1 HTTPS_PROXY=http://127.0.0.1:1 no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
unset http_proxy HTTP_PROXY ALL_PROXY all_proxy

registry_start plain
PLAIN=$REG
src() { "$IMG_BIN" --root "$T/src" "$@"; }
src import --busybox busybox >/dev/null && src save --format oci-dir -o "$T/lay" busybox ||
	{ fail "source image"; finish; }

# ------------------------------------------------------------ mirrors
push_layout "$T/lay" "$REG/library/busybox:latest" || fail "skopeo push to the mirror"
printf '{"registry-mirrors":["http://127.0.0.1:1", "http://%s/"]}\n' "$REG" > "$IMG_DAEMON_CONFIG"
out=$(img pull busybox 2>&1); rc=$?
check "mirror: pull busybox through the second mirror" 0 "$rc"
check_re "mirror: docker's first line" "^latest: Pulling from library/busybox" "$out"
check "mirror: named as docker.io's" "docker.io/library/busybox:latest" "$(printf '%s\n' "$out" | tail -n1)"
check "mirror: the same image" "$(src images -q --no-trunc busybox)" "$(img images -q --no-trunc busybox)"
check_re "mirror: the manifest came from the mirror" '"GET /v2/library/busybox/manifests/latest' "$(cat "$T/reg-plain/log")"
img rmi busybox >/dev/null
printf '{"registry-mirrors":["http://127.0.0.1:1"]}\n' > "$IMG_DAEMON_CONFIG"
img images >/dev/null
before=$(store_state)
check_fails "mirror down: docker.io tried last (refused here)" "pull busybox: " img pull busybox
check "mirror down: store unchanged" "$before" "$(store_state)"
printf '{"registry-mirrors":["ftp://%s"]}\n' "$REG" > "$IMG_DAEMON_CONFIG"
check_fails "a bad mirror URL" "pull busybox: .*registry mirror \"ftp://" img pull busybox
# pull -a: the tag list through the mirrors too (docker.io unreachable
# here), a mirror without the repository handing over to the next
registry_start empty
push_layout "$T/lay" "$PLAIN/library/busybox:2" || fail "skopeo push busybox:2 to the mirror"
printf '{"registry-mirrors":["http://127.0.0.1:1", "http://%s", "http://%s/"]}\n' "$REG" "$PLAIN" > "$IMG_DAEMON_CONFIG"
out=$(img pull -a busybox 2>&1); rc=$?
check "mirror: pull -a busybox through the third mirror" 0 "$rc"
check "mirror: pull -a: every tag the mirror has" "2 latest" \
	"$(img images --format '{{.Tag}}' busybox | sort | paste -sd' ')"
check_re "mirror: the tag list came from the mirror" '"GET /v2/library/busybox/tags/list' "$(cat "$T/reg-plain/log")"
check_re "mirror: the mirror without the repository was asked first" '"GET /v2/library/busybox/tags/list' \
	"$(cat "$T/reg-empty/log")"
img rmi busybox busybox:2 >/dev/null
printf '{"registry-mirrors":["http://127.0.0.1:1", "http://%s"]}\n' "$REG" > "$IMG_DAEMON_CONFIG"
before=$(store_state)
check_fails "mirror: pull -a, no mirror has it: docker.io tried last (refused here)" "pull busybox: " img pull -a busybox
check "mirror: pull -a failed: store unchanged" "$before" "$(store_state)"
registry_stop "$REG_PID"
REG=$PLAIN
rm -f "$IMG_DAEMON_CONFIG"
check_fails "mirror: a non-docker.io image never goes to a mirror" "pull 127.0.0.1:1/x:1: " img pull 127.0.0.1:1/x:1

# ------------------------------------------------------------ concurrency
python3 "$SRC/tests/registry/mklayout.py" "$T/six" 6 2 || fail "mklayout"
skopeo copy -q --dest-tls-verify=false "oci:$T/six" "docker://$REG/six:1" >/dev/null || fail "skopeo push six"
proxy_start "$REG" || finish
blob_get='^GET /v2/six/blobs/'
check_fails "--max-concurrent-downloads 0 refused" 'invalid argument "0" for "--max-concurrent-downloads"' \
	img pull --max-concurrent-downloads 0 "$PX/six:1"
check_fails "--max-concurrent-downloads x refused" 'invalid argument "x" for "--max-concurrent-downloads"' \
	img pull --max-concurrent-downloads x "$PX/six:1"
check "--max-concurrent-downloads 1" 0 "$(img pull -q --max-concurrent-downloads 1 "$PX/six:1" >/dev/null 2>&1; echo $?)"
check "--max-concurrent-downloads 1: one blob at a time" 1 "$(max_inflight "$PX_LOG" "$blob_get")"
img rmi "$PX/six:1" >/dev/null; : > "$PX_LOG"
# the first two blob requests held until both are there: two at once, never three
proxy_start "$REG" || finish
echo barrier-2 > "$PX_MODE"
check "--max-concurrent-downloads 2" 0 "$(img pull -q --max-concurrent-downloads 2 "$PX/six:1" >/dev/null 2>&1; echo $?)"
check "--max-concurrent-downloads 2: two at once, no more" 2 "$(max_inflight "$PX_LOG" "$blob_get")"
img rmi "$PX/six:1" >/dev/null
proxy_start "$REG" || finish
printf '{"max-concurrent-downloads":1,"max-concurrent-uploads":1}\n' > "$IMG_DAEMON_CONFIG"
check "daemon.json max-concurrent-downloads" 0 "$(img pull -q "$PX/six:1" >/dev/null 2>&1; echo $?)"
check "daemon.json max-concurrent-downloads 1: one at a time" 1 "$(max_inflight "$PX_LOG" "$blob_get")"
check "daemon.json max-concurrent-uploads" 0 "$(img push -q "$PX/six:1" "$PX/six-up:1" >/dev/null 2>&1; echo $?)"
check "daemon.json max-concurrent-uploads 1: one upload request at a time" 1 \
	"$(max_inflight "$PX_LOG" '^(POST|PUT|PATCH) /v2/six-up/blobs/')"
printf '{"max-concurrent-downloads":0}\n' > "$IMG_DAEMON_CONFIG"
check_fails "daemon.json: a bad max-concurrent-downloads" "max-concurrent-downloads\" must be a number" img pull "$PX/six:1"
rm -f "$IMG_DAEMON_CONFIG"
check_fails "--max-concurrent-uploads -1 refused" 'invalid argument "-1" for "--max-concurrent-uploads"' \
	img push --max-concurrent-uploads -1 "$PX/six:1" "$PX/six-up:2"
check "--max-concurrent-uploads 1" 0 \
	"$(img push -q --max-concurrent-uploads 1 "$PX/six:1" "$PX/six-up2:1" >/dev/null 2>&1; echo $?)"
check "--max-concurrent-uploads 1: one upload request at a time" 1 \
	"$(max_inflight "$PX_LOG" '^(POST|PUT|PATCH) /v2/six-up2/blobs/')"

# ------------------------------------------------------------ chunked uploads
img import --busybox busybox >/dev/null
man=$STORE/blobs/sha256/$(img inspect -f '{{.Digest}}' busybox | sed 's/^sha256://')
read -r layer ldigest < <(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["layers"][0]; print(l["size"], l["digest"][7:])' "$man")
chunk=65536
want=$(( (layer + chunk - 1) / chunk ))
out=$(IMG_PUSH_CHUNK_SIZE=$chunk img push busybox "$PX/chunked:1"); rc=$?
check "chunked: push" 0 "$rc"
check_re "chunked: more than one chunk" "^[2-9]|^[1-9][0-9]" "$want"
check "chunked: one PATCH a chunk" "$want" "$(grep -c '^PATCH /v2/chunked/blobs/uploads/' "$PX_LOG")"
check_re "chunked: Content-Range of the last chunk" "range=$(( (want - 1) * chunk ))-$(( layer - 1 )) " \
	"$(grep '^PATCH /v2/chunked/' "$PX_LOG" | tail -n1)"
check "chunked: skopeo sees it" "$(img inspect -f '{{.Digest}}' busybox)" \
	"$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/chunked:1" 2>&1)"
check "chunked: the registry has the layer whole" "$ldigest" \
	"$(curl -s "http://$REG/v2/chunked/blobs/sha256:$ldigest" | sha256sum | cut -d' ' -f1)"
# a registry without PATCH: one PUT with the blob
echo nopatch > "$PX_MODE"
out=$(IMG_PUSH_CHUNK_SIZE=$chunk img push busybox "$PX/mono:1" 2>&1); rc=$?
check "no PATCH: push falls back" "0" "$rc"
check "no PATCH: the refused PATCH seen" 1 "$(grep -c '^PATCH /v2/mono/blobs/uploads/' "$PX_LOG")"
check "no PATCH: one PUT with the whole layer" 1 \
	"$(grep -cE "^PUT /v2/mono/blobs/uploads/[^ ]*digest=[^ ]* nopatch len=$layer " "$PX_LOG")"
check "no PATCH: skopeo sees it" "$(img inspect -f '{{.Digest}}' busybox)" \
	"$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/mono:1" 2>&1)"
check "fsck" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
finish
