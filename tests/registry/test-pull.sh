#!/bin/bash
# SPDX-License-Identifier: MIT
# img pull from a real docker-registry on loopback (issue 9): an image
# pushed by skopeo is pulled, run and compared; by digest; a re-pull is up
# to date with no blob request; errors are one line and leave the store as
# it was.
. "$(dirname "$0")/reglib.sh"
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }

registry_start plain
SRC_STORE=$T/src
src() { "$IMG_BIN" --root "$SRC_STORE" "$@"; }
src import --busybox busybox >/dev/null || { fail "import --busybox"; finish; }
src save --format oci-dir -o "$T/lay" busybox || { fail "save"; finish; }
push_layout "$T/lay" "$REG/x:1" || { fail "skopeo push"; finish; }

out=$(img pull "$REG/x:1"); rc=$?
check "pull: exit 0" 0 "$rc"
check_re "pull: docker's first line" "^1: Pulling from x" "$out"
check_re "pull: a layer pulled" "[0-9a-f]{12}: Pull complete" "$out"
digest=$(src inspect -f '{{.Digest}}' busybox 2>/dev/null || true)
check_re "pull: Digest line" "Digest: sha256:[0-9a-f]{64}" "$out"
check_re "pull: Status line" "Status: Downloaded newer image for $REG/x:1" "$out"
check "pull: last line is the full name" "$REG/x:1" "$(printf '%s\n' "$out" | tail -n1)"
check "same image id as the source" "$(src images -q --no-trunc busybox)" "$(img images -q --no-trunc "$REG/x:1")"
check "fsck clean after pull" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
check "no temp left" "" "$(ls -A "$STORE/tmp")"

# the files, through an unpacked layer: same tree as the source store's
lsrc=$(ls "$SRC_STORE/layers"); ldst=$(ls "$STORE/layers")
check "the same layer diff_id" "$lsrc" "$ldst"
check "same files" "$(cd "$SRC_STORE/layers/$lsrc" && find . -printf '%p %m %s %l\n' | sort | sha256sum)" \
	"$(cd "$STORE/layers/$ldst" && find . -printf '%p %m %s %l\n' | sort | sha256sum)"

# re-pull: up to date, the manifest request alone
gets=$(blob_gets plain)
out=$(img pull "$REG/x:1")
check "re-pull: no blob request" "$gets" "$(blob_gets plain)"
check_re "first pull: blob requests seen" "^[1-9]" "$gets"
mdigest=$(printf '%s\n' "$out" | sed -n 's/^Digest: //p')
check_re "re-pull: up to date" "Status: Image is up to date for $REG/x:1" "$out"
check "re-pull: docker's three lines and the name" "1: Pulling from x|Digest: $mdigest|Status: Image is up to date for $REG/x:1|$REG/x:1" "$(printf '%s\n' "$out" | paste -sd'|')"
# another tag of the same layers: they already exist
push_layout "$T/lay" "$REG/x:same" || fail "skopeo push x:same"
check_re "a new tag of present layers: Already exists" "[0-9a-f]{12}: Already exists" "$(img pull "$REG/x:same")"
img rmi "$REG/x:same" >/dev/null

check_re "images --digests" "^$REG/x +1 +$mdigest " "$(img images --digests "$REG/x:1" | tail -n1)"
check "inspect RepoDigests" "[$REG/x@$mdigest]" "$(img inspect -f '{{.RepoDigests}}' "$REG/x:1")"

# by digest: an unnamed entry reachable by NAME@DIGEST
img rmi "$REG/x:1" >/dev/null
out=$(img pull "$REG/x@$mdigest"); rc=$?
check "pull by digest: exit 0" 0 "$rc"
check "pull by digest: last line" "$REG/x@$mdigest" "$(printf '%s\n' "$out" | tail -n1)"
check "pull by digest: resolvable" 0 "$(img inspect "$REG/x@$mdigest" >/dev/null 2>&1; echo $?)"

# -q
out=$(img pull -q "$REG/x:1")
check "pull -q: the name alone" "$REG/x:1" "$out"

# -a: every tag
push_layout "$T/lay" "$REG/x:2" || fail "skopeo push x:2"
out=$(img pull -a "$REG/x"); rc=$?
check "pull -a: exit 0" 0 "$rc"
check "pull -a: every tag (1, 2, same)" "3" "$(img images --format '{{.Tag}}' "$REG/x" | wc -l)"
check_fails "pull -a with a tag" "tag can't be used" img pull -a "$REG/x:1"

# errors: one line, store unchanged
before=$(store_state)
check_fails "unknown tag" "pull $REG/x:nope: manifest unknown" img pull "$REG/x:nope"
check_fails "unknown repo" "pull $REG/nope:1: .*(unknown|not found)" img pull "$REG/nope:1"
check_fails "bad reference" "invalid reference format" img pull "$REG/X:1"
check_fails "nothing listening" "pull 127.0.0.1:1/x:1: .*" img pull 127.0.0.1:1/x:1
check "store unchanged by failed pulls" "$before" "$(store_state)"

# Docker schema2 (skopeo converts the OCI layout)
skopeo copy -q --format v2s2 --dest-tls-verify=false "oci:$T/lay" "docker://$REG/v2s2:1" >/dev/null ||
	fail "skopeo push v2s2"
check_re "docker schema2 manifest served" "distribution.manifest.v2" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$REG/v2s2:1" | head -c 300)"
check "pull a docker schema2 image" 0 "$(img pull -q "$REG/v2s2:1" >/dev/null 2>&1; echo $?)"
check "schema2: the same image id" "$(src images -q --no-trunc busybox)" "$(img images -q --no-trunc "$REG/v2s2:1")"

# a multi-arch index: the host's platform, --platform, no match listed
INDEX=1 python3 "$SRC/tests/registry/mklayout.py" "$T/idx" 2 1 || fail "mklayout index"
skopeo copy -q --all --dest-tls-verify=false "oci:$T/idx" "docker://$REG/multi:1" >/dev/null || fail "skopeo push index"
out=$(img pull "$REG/multi:1"); rc=$?
check "index: pull" 0 "$rc"
idigest=$(skopeo inspect --raw --tls-verify=false "docker://$REG/multi:1" | sha256sum | cut -d' ' -f1)
check_re "index: Digest is the index's" "Digest: sha256:$idigest" "$out"
[ "$(uname -m)" = x86_64 ] && check "index: the host's platform" amd64 "$(img inspect -f '{{.Architecture}}' "$REG/multi:1")"
# docker's RepoDigests after a pull of an index: the index's digest, not the
# platform manifest's
pdigest=$(img inspect -f '{{.Digest}}' "$REG/multi:1")
check_re "index: the image's manifest is the platform's" "^sha256:[0-9a-f]{64}$" "$pdigest"
[ "$pdigest" != "sha256:$idigest" ] || fail "index: platform manifest digest equals the index's"
check "index: inspect RepoDigests names the index" "[$REG/multi@sha256:$idigest]" \
	"$(img inspect -f '{{.RepoDigests}}' "$REG/multi:1")"
check_re "index: images --digests names the index" "^$REG/multi +1 +sha256:$idigest " \
	"$(img images --digests "$REG/multi:1" | tail -n1)"
img tag "$REG/multi:1" local/multi:t
check "index: a tag keeps no digest for the new repo" \
	"[$REG/multi@sha256:$idigest local/multi@$pdigest]" \
	"$(img inspect -f '{{.RepoDigests}}' local/multi:t)"
img rmi local/multi:t >/dev/null
# pull and run by an index's digest: busybox under an index (the host's
# platform and s390x, both the same manifest)
rm -rf "$T/bbidx"; cp -r "$T/lay" "$T/bbidx"
python3 - "$T/bbidx" <<'PY' || fail "busybox index layout"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(d + '/index.json'))['manifests'][0]
m.pop('annotations', None)
arch = {'x86_64': 'amd64', 'aarch64': 'arm64'}.get(os.uname().machine, os.uname().machine)
ix = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
                 'manifests': [dict(m, platform={'architecture': a, 'os': 'linux'})
                               for a in (arch, 's390x')]}).encode()
h = hashlib.sha256(ix).hexdigest()
open('%s/blobs/sha256/%s' % (d, h), 'wb').write(ix)
json.dump({'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.index.v1+json',
           'digest': 'sha256:' + h, 'size': len(ix)}]}, open(d + '/index.json', 'w'))
PY
skopeo copy -q --all --dest-tls-verify=false "oci:$T/bbidx" "docker://$REG/bbmulti:1" >/dev/null || fail "skopeo push busybox index"
bdigest=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REG/bbmulti:1" | sha256sum | cut -d' ' -f1)
out=$(img pull "$REG/bbmulti@$bdigest"); rc=$?
check "index: pull by the index digest" 0 "$rc"
check_re "index: pull by digest: Digest line" "Digest: $bdigest" "$out"
check "index: pull by digest: last line" "$REG/bbmulti@$bdigest" "$(printf '%s\n' "$out" | tail -n1)"
check "index: NAME@INDEXDIGEST resolves to the platform's image" "$(src images -q --no-trunc busybox)" \
	"$(img inspect -f '{{.Id}}' "$REG/bbmulti@$bdigest")"
# (the same manifest is x:1's too: both repositories' digests)
check_re "index: by digest: RepoDigests" "^\\[$REG/bbmulti@$bdigest $REG/x@sha256:[0-9a-f]{64}\\]$" \
	"$(img inspect -f '{{.RepoDigests}}' "$REG/bbmulti@$bdigest")"
check "index: re-pull by digest: up to date" 0 "$(img pull -q "$REG/bbmulti@$bdigest" >/dev/null 2>&1; echo $?)"
check "index: create NAME@INDEXDIGEST --pull never" 0 \
	"$(img create --pull never "$REG/bbmulti@$bdigest" >/dev/null 2>&1; echo $?)"
img rm -f $(img ps -aq) >/dev/null 2>&1
if [ -c /dev/fuse ] && [ "$(id -u)" = 0 ]; then
	out=$(img run --rm --pull never --network none "$REG/bbmulti@$bdigest" echo ran-by-index 2>&1); rc=$?
	check "index: run NAME@INDEXDIGEST" "0 ran-by-index" "$rc $out"
fi
check "index: fsck clean" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
img pull -q --platform linux/s390x "$REG/multi:1" >/dev/null
check "index: --platform linux/s390x" s390x "$(img inspect -f '{{.Architecture}}' "$REG/multi:1")"
check_fails "index: no match lists what it has" \
	"no matching manifest for linux/riscv64 in the manifest list entries \(it has: linux/amd64, linux/s390x\)" \
	img pull --platform linux/riscv64 "$REG/multi:1"
check_fails "index: a bad --platform" "invalid platform" img pull --platform linux "$REG/multi:1"

# run/create --pull
img rmi -f "$REG/x:2" >/dev/null 2>&1
check_fails "create --pull never: not pulled" "No such image" img create --pull never "$REG/x:2"
err=$(img create "$REG/x:2" 2>&1 >/dev/null); rc=$?
check "create of a missing image pulls it (missing is the default)" 0 "$rc"
check_re "create: docker's Unable to find line" "^Unable to find image '$REG/x:2' locally" "$err"
check_re "create: the pull's output on stderr" "Status: Downloaded newer image for $REG/x:2" "$err"
err=$(img create --pull always "$REG/x:2" 2>&1 >/dev/null)
check_re "create --pull always: pulls again" "Image is up to date for $REG/x:2" "$err"
err=$(img create --pull missing "$REG/x:2" 2>&1 >/dev/null)
check "create --pull missing of a present image: no pull" "" "$err"
check_fails "create --pull bogus" "invalid pull option" img create --pull bogus "$REG/x:2"
img rm -f $(img ps -aq) >/dev/null 2>&1

# run what was pulled
if [ -c /dev/fuse ] && [ "$(id -u)" = 0 ]; then
	out=$(img run --rm --network none "$REG/x:1" sh -c 'echo ran; cat /etc/passwd | head -n1')
	check_re "run the pulled image" "^ran" "$out"
fi
finish
