#!/bin/bash
# SPDX-License-Identifier: MIT
# A hostile or failing registry (issue 9): a proxy in front of a real
# docker-registry flips a byte of a blob, truncates one, sends one longer
# than declared, serves a manifest that does not match its digest or its
# Content-Type, one over the cap, schema1, answers 401/403/404/429/500,
# redirects a blob to another scheme; the registry is killed mid-pull. Each
# is one line of error, img fsck stays clean and the store unchanged; after
# the registry is back the pull completes.
. "$(dirname "$0")/reglib.sh"
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }

# (a port below the kernel's ephemeral range: the registry is killed and
# served again on it, and no outgoing connection may take it in between)
REG_PORT=$(free_port) registry_start real || finish
REAL=$REG
REAL_PID=$REG_PID
src() { "$IMG_BIN" --root "$T/src" "$@"; }
src import --busybox busybox >/dev/null && src save --format oci-dir -o "$T/lay" busybox ||
	{ fail "source image"; finish; }
push_layout "$T/lay" "$REAL/x:1" || { fail "skopeo push"; finish; }

echo pass > "$T/mode"
python3 "$SRC/tests/registry/fault-proxy.py" "$REAL" "$T/mode" "$T/proxy.port" "$T/proxy.log" \
	"$T/stall.go" 2>"$T/proxy.err" &
_PIDS+=($!)
wait_for "the proxy" test -s "$T/proxy.port" || finish
P=127.0.0.1:$(cat "$T/proxy.port")

img images >/dev/null
before=$(store_state)
# fault MODE NAME ERE: the pull through the proxy fails with one line, the
# store as it was, fsck clean
fault() {
	echo "$1" > "$T/mode"
	check_fails "$2" "pull $P/x:1: .*$3" img pull "$P/x:1"
	check "$2: store unchanged" "$before" "$(store_state)"
	check "$2: fsck clean" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
}
fault flip "a flipped byte" "digest mismatch"
fault truncate "a truncated blob" "(transfer closed|bytes)"
fault grow "a blob longer than its descriptor" "more than the [0-9]+ bytes"
fault badmanifest "a manifest not matching its digest" "manifest digest mismatch"
fault badtype "a manifest under the wrong Content-Type" "does not match"
fault huge "a manifest over the 4 MiB cap" "over the 4194304 byte cap"
fault schema1 "a schema1 manifest" "schema1 manifests are not supported"
fault status-401 "401" "unauthorized"
fault status-403 "403" "requested access to the resource is denied"
fault status-404 "404" "HTTP 404"
fault status-429 "429" "toomanyrequests"
fault status-500 "500" "HTTP 500"
fault redirect "a redirect to ftp://" "refused a redirect"

# a connection cut once mid-blob: resumed with Range, the pull completes
echo truncate-once > "$T/mode"
check "a cut blob is resumed with Range" 0 "$(img pull -q "$P/x:1" >/dev/null 2>&1; echo $?)"
check_re "the resume asked for the rest" "blobs/sha256:.* truncate-once range=bytes=[1-9][0-9]*-" "$(cat "$T/proxy.log")"
check "resumed: fsck clean" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
img rmi "$P/x:1" >/dev/null

# a redirect to plain http elsewhere (an object store) is followed
echo redirect-ok > "$T/mode"
check "a blob redirected to http:// is followed" 0 "$(img pull -q "$P/x:1" >/dev/null 2>&1; echo $?)"
check_re "the proxy sent it elsewhere" "blobs/sha256:.* redirect-ok" "$(cat "$T/proxy.log")"
img rmi "$P/x:1" >/dev/null
img gc >/dev/null 2>&1
check "after rmi + gc, no blob or layer left" "" "$(ls -A "$STORE/blobs/sha256"; ls -A "$STORE/layers")"
before=$(store_state)

# by digest: the body must hash to the digest asked for
echo badmanifest > "$T/mode"
d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REAL/x:1")
check_fails "by digest: a manifest not matching" "pull $P/x@$d: manifest digest mismatch" img pull "$P/x@$d"

# img itself killed (-9) mid-blob: fsck is clean, the next pull finishes
echo stall > "$T/mode"
: > "$T/proxy.log"
rm -f "$T/stall.go"
"$IMG_BIN" --root "$STORE" pull -q "$P/x:1" >/dev/null 2>&1 &
pull_pid=$!
wait_for "the proxy to stall mid-blob" grep -q stalled "$T/proxy.log"
kill -9 "$pull_pid"; wait "$pull_pid" 2>/dev/null
touch "$T/stall.go"
check "img killed mid-pull: fsck clean" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
check "img killed mid-pull: nothing named" "" "$(img images -q)"
echo pass > "$T/mode"
check "img killed mid-pull: the next pull completes" 0 "$(img pull -q "$P/x:1" >/dev/null 2>&1; echo $?)"
check "img killed mid-pull: then fsck clean" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
img rmi "$P/x:1" >/dev/null
img gc >/dev/null 2>&1
before=$(store_state)

# the registry killed mid-pull: half a blob, then kill -9, then the cut
: > "$T/proxy.log"
rm -f "$T/stall.go"
echo stall > "$T/mode"
img pull "$P/x:1" >"$T/killed.out" 2>"$T/killed.err" &
pull_pid=$!
wait_for "the proxy to stall mid-blob" grep -q stalled "$T/proxy.log"
kill -9 "$REAL_PID"; wait "$REAL_PID" 2>/dev/null
touch "$T/stall.go"
wait "$pull_pid"; rc=$?
check "killed mid-pull: exit 125" 125 "$rc"
check "killed mid-pull: one line" 1 "$(wc -l < "$T/killed.err")"
check "killed mid-pull: store unchanged" "$before" "$(store_state)"
check "killed mid-pull: fsck clean" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
# the registry back on the same port and storage: the pull completes
"$REGISTRY_BIN" serve "$T/reg-real/config.yml" >> "$T/reg-real/log" 2>&1 &
_PIDS+=($!)
listening_twice() { [ "$(grep -c 'msg="listening on' "$T/reg-real/log")" -ge 2 ]; }
wait_for "registry restart" listening_twice
echo pass > "$T/mode"
check "after the restart the pull completes" 0 "$(img pull -q "$P/x:1" >/dev/null 2>&1; echo $?)"
check "and fsck is clean" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
finish
