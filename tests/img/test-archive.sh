#!/bin/bash
# SPDX-License-Identifier: MIT
# img save / img load through the real binary: round trips in the three
# formats, interop with skopeo and umoci (both ways, gzip/zstd/plain layers),
# and hostile archives (bad digests, sizes, diff_ids, escaping paths) refused
# with the store left exactly as it was.
. "$(dirname "$0")/imglib.sh"
need python3 skopeo umoci
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }

img import --busybox busybox >/dev/null || { fail "import --busybox"; finish; }
id=$(img inspect busybox | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
L=$(img inspect busybox | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["GraphDriver"]["Data"]["LowerDir"])')
S2=$T/s2
img2() { "$IMG_BIN" --root "$S2" "$@"; }
same_tree() { # same_tree A B: identical names, types, modes, owners, contents
	diff <(cd "$1" && find . -printf '%p %y %m %U %G %s %l\n' | sort) \
	     <(cd "$2" && find . -printf '%p %y %m %U %G %s %l\n' | sort) >/dev/null &&
	diff -r --no-dereference "$1" "$2" >/dev/null
}

# ---------------------------------------------------------------- save
check_true "save docker-archive (default)" img save -o "$T/d.tar" busybox
check_true "save --format oci-archive" img save -o "$T/o.tar" --format oci-archive busybox
check_true "save --format oci-dir" img save -o "$T/odir" --format oci-dir busybox
check_fails "save oci-dir over an existing path" "already exists" img save -o "$T/odir" --format oci-dir busybox
check_fails "save of an unknown image" "No such image" img save -o "$T/x.tar" nope
check "failed save leaves no file" "no" "$(ls "$T"/x.tar* >/dev/null 2>&1 && echo yes || echo no)"
img save busybox > "$T/stdout.tar"
check "save to stdout = save -o" "$(sha256sum < "$T/d.tar")" "$(sha256sum < "$T/stdout.tar")"
check "save is deterministic" "$(sha256sum < "$T/o.tar")" "$(img save --format oci-archive busybox | sha256sum)"
dg=$(img inspect busybox | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')
check "skopeo inspects the oci-archive" "$dg" "$(skopeo inspect oci-archive:"$T/o.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')"
check "skopeo inspects the docker-archive" "1" "$(skopeo inspect docker-archive:"$T/d.tar" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Layers"]))')"
umoci unpack --image "$T/odir:latest" "$T/bundle" >/dev/null 2>&1
check_true "umoci unpacks the oci-dir to the same tree" same_tree "$T/bundle/rootfs" "$L"
rm -rf "$T/bundle"
mkdir "$T/ox" && tar -C "$T/ox" -xf "$T/o.tar"
umoci unpack --image "$T/ox:latest" "$T/bundle" >/dev/null 2>&1
check_true "umoci unpacks the oci-archive to the same tree" same_tree "$T/bundle/rootfs" "$L"
rm -rf "$T/bundle" "$T/ox"

# ---------------------------------------------------------------- load (ours)
for f in d.tar o.tar odir; do
	out=$(img2 load -i "$T/$f"); rc=$?
	check "load $f" "0 Loaded image: busybox:latest" "$rc $out"
	check "load $f: same image id" "$id" "$(img2 inspect busybox | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')"
	L2=$(img2 inspect busybox | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["GraphDriver"]["Data"]["LowerDir"])')
	check_true "load $f: same layer tree" same_tree "$L2" "$L"
	img2 rmi busybox >/dev/null
done
check "rmi + gc leave an empty store" "0 0" "$(ls "$S2/layers" | wc -l) $(ls "$S2/blobs/sha256" | wc -l)"

# one image from two formats: one row per image id, one size (docker's view);
# an unnamed load of an image named elsewhere is no <none> row; prune removes
# a dangling image
S3=$T/s3
img3() { "$IMG_BIN" --root "$S3" "$@"; }
# (img's own layers are plain tars: skopeo gzips them into another manifest)
skopeo copy -q --dest-compress "oci:$STORE:docker.io/library/busybox:latest" "oci:$T/gzdir:busybox:latest"
img3 load -i "$T/d.tar" >/dev/null && img3 tag busybox keep:1 && img3 load -i "$T/gzdir" >/dev/null
python3 - "$T/d.tar" "$T/untagged.tar" <<'PY'
import io, json, sys, tarfile
with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w") as dst:
    for m in src.getmembers():
        data = src.extractfile(m).read() if m.isfile() else None
        if m.name == "manifest.json":
            j = json.loads(data); j[0]["RepoTags"] = None; data = json.dumps(j).encode(); m.size = len(data)
        dst.addfile(m, io.BytesIO(data) if data is not None else None)
PY
img3 load -i "$T/untagged.tar" >/dev/null
check "two formats, one image: the manifests stay distinct" "2" \
	"$(python3 -c 'import json,sys; print(len({m["digest"] for m in json.load(open(sys.argv[1]))["manifests"]}))' "$S3/index.json")"
check "two formats, one image: one id, both names, one size" "busybox latest ${id:7:12}|keep 1 ${id:7:12}|1" \
	"$(img3 images --format '{{.Repository}} {{.Tag}} {{.ID}}' | sort | tr '\n' '|')$(img3 images --format '{{.Size}}' | sort -u | wc -l)"
check "no <none> row for an image named elsewhere" "" "$(img3 images --format '{{.Repository}}' | grep -x '<none>')"
img3 rmi busybox keep:1 >/dev/null
img3 load -i "$T/untagged.tar" >/dev/null
check "an unnamed load alone: one <none> row" "<none>" "$(img3 images --format '{{.Repository}}')"
img3 prune >/dev/null
check "prune removes the dangling image" "" "$(img3 images -q)"
check "  and its blobs and layers" "0 0" "$(ls "$S3/layers" | wc -l) $(ls "$S3/blobs/sha256" | wc -l)"

# ---------------------------------------------------------------- load (theirs)
skopeo copy -q "oci:$STORE:docker.io/library/busybox:latest" "docker-archive:$T/sk.tar:sk/box:1"
check "load skopeo's docker-archive" "Loaded image: sk/box:1" "$(img2 load -i "$T/sk.tar")"
skopeo copy -q --dest-compress-format zstd "oci:$STORE:docker.io/library/busybox:latest" "oci:$T/skz:zbox:2"
check "load skopeo's OCI dir with zstd layers" "Loaded image: zbox:2" "$(img2 load -i "$T/skz")"
skopeo copy -q "oci:$STORE:docker.io/library/busybox:latest" "oci-archive:$T/sko.tar:quay.io/x/y:3"
check "load skopeo's oci-archive" "Loaded image: quay.io/x/y:3" "$(img2 load -i "$T/sko.tar")"
# (umoci insert writes unpadded tars that GNU tar refuses too: use repack)
{ umoci init --layout "$T/u" && umoci new --image "$T/u:t" && umoci unpack --image "$T/u:t" "$T/ub" &&
	mkdir -p "$T/ub/rootfs/bin" && cp /bin/busybox "$T/ub/rootfs/bin/" && ln -s busybox "$T/ub/rootfs/bin/sh" &&
	umoci repack --image "$T/u:t" "$T/ub" && umoci config --image "$T/u:t" --config.cmd sh; } >/dev/null 2>&1
out=$(img2 load -i "$T/u")
check_re "load umoci's layout (a bare tag names nothing)" "^Loaded image ID: sha256:[0-9a-f]{64}$" "$out"
check_true "fsck after the loads" img2 fsck
check "load of plain + zstd layers: same tree" "ok" \
	"$(same_tree "$(img2 inspect zbox:2 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["GraphDriver"]["Data"]["LowerDir"])')" "$L" && echo ok)"

# ---------------------------------------------------------------- hostile
mkdir -p "$T/h"
python3 - "$T/d.tar" "$T/h" <<'PY'
import io, json, os, sys, tarfile, hashlib
src, d = sys.argv[1], sys.argv[2]
files = {}
with tarfile.open(src) as tf:
    for m in tf.getmembers():
        if m.isfile(): files[m.name] = tf.extractfile(m).read()
man = json.loads(files["manifest.json"])
def write(name, fs, extra=()):
    with tarfile.open(os.path.join(d, name), "w", format=tarfile.PAX_FORMAT) as tf:
        for n, data in fs.items():
            t = tarfile.TarInfo(n); t.size = len(data); tf.addfile(t, io.BytesIO(data))
        for t in extra: tf.addfile(t)
def variant(name, mutate):
    fs = dict(files); m = json.loads(json.dumps(man)); mutate(fs, m)
    fs["manifest.json"] = json.dumps(m).encode(); write(name, fs)
layer = man[0]["Layers"][0]; cfg = man[0]["Config"]
def flip(fs, m):
    b = bytearray(fs[layer]); b[2000] ^= 1; fs[layer] = bytes(b)
variant("diffid-mismatch.tar", flip)
def escape(fs, m): m[0]["Layers"][0] = "../../../../etc/passwd"
variant("layer-escape.tar", escape)
def missing(fs, m): m[0]["Layers"][0] = "nothere/layer.tar"
variant("layer-missing.tar", missing)
def cfgbad(fs, m): fs[cfg] = b"{not json"
variant("config-bad.tar", cfgbad)
def count(fs, m): m[0]["Layers"].append(layer)
variant("layers-count.tar", count)
def badname(fs, m): m[0]["RepoTags"] = ["BAD:name"]
variant("bad-name.tar", badname)
t = tarfile.TarInfo("manifest.json"); t.type = tarfile.SYMTYPE; t.linkname = "../../../etc/passwd"
fs = dict(files); del fs["manifest.json"]; write("link-escape.tar", fs, [t])
# OCI: a blob whose content does not match its name / descriptor size
o = {}
with tarfile.open(src.replace("d.tar", "o.tar")) as tf:
    for m in tf.getmembers():
        if m.isfile(): o[m.name] = tf.extractfile(m).read()
idx = json.loads(o["index.json"]); mdesc = idx["manifests"][0]
mf = json.loads(o["blobs/sha256/" + mdesc["digest"][7:]]); ldig = mf["layers"][0]["digest"][7:]
oo = dict(o); b = bytearray(oo["blobs/sha256/" + ldig]); b[-100] ^= 0xff; oo["blobs/sha256/" + ldig] = bytes(b)
write("oci-blob-corrupt.tar", oo)
oo = dict(o); i2 = json.loads(json.dumps(idx)); i2["manifests"][0]["size"] += 1; oo["index.json"] = json.dumps(i2).encode()
write("oci-size-mismatch.tar", oo)
oo = dict(o); i2 = json.loads(json.dumps(idx)); i2["manifests"][0]["digest"] = "sha256:../../../../../../etc/passwd"; oo["index.json"] = json.dumps(i2).encode()
write("oci-bad-digest.tar", oo)
write("not-an-image.tar", {"hello": b"world"})
PY
before=$( (cd "$S2" && find . -printf '%p %s\n' | sort; sha256sum index.json) )
for f in "$T"/h/*.tar; do
	n=$(basename "$f")
	case $n in
	diffid-*) re="diff_id mismatch" ;;
	layer-escape*) re="'\.\.' escapes|bad path" ;;
	layer-missing*) re="missing from the archive" ;;
	config-bad*) re="expected a key|unexpected" ;;
	layers-count*) re="diff_ids does not match" ;;
	bad-name*) re="invalid reference format" ;;
	link-escape*) re="link leaves the archive" ;;
	oci-blob-corrupt*) re="content is sha256:" ;;
	oci-size-mismatch*) re="descriptor says" ;;
	oci-bad-digest*) re="bad digest" ;;
	not-an-image*) re="neither a docker archive nor an OCI layout" ;;
	esac
	check_fails "load refuses $n" "$re" img2 load -i "$f"
	check "load $n: store unchanged" "$before" "$( (cd "$S2" && find . -printf '%p %s\n' | sort; sha256sum index.json) )"
done
# kill -9 during load: the store stays consistent, names only for what loaded
mkdir -p "$T/kbig"; head -c 60000000 /dev/urandom >"$T/kbig/file"
tar -C "$T/kbig" -cf "$T/kbig.tar" . && rm -rf "$T/kbig"
img import "$T/kbig.tar" kbig:1 >/dev/null && img save -o "$T/kbig-docker.tar" kbig:1 && img rmi kbig:1 >/dev/null && img gc >/dev/null
KS=$T/kstore
for delay in 0.05 0.2 0.5; do
	"$IMG_BIN" --root "$KS" load -i "$T/kbig-docker.tar" >/dev/null 2>&1 &
	p=$!; sleep $delay; kill -9 $p 2>/dev/null; wait $p 2>/dev/null
	check_true "kill -9 during load ($delay s): fsck passes" "$IMG_BIN" --root "$KS" fsck
	check_re "  and no half-loaded name" "^(|kbig:1)$" "$("$IMG_BIN" --root "$KS" images --format '{{.Repository}}:{{.Tag}}' | grep -v '^busybox' | tr -d '\n')"
done
check_true "gc after the killed loads" "$IMG_BIN" --root "$KS" gc
check "  no temp left" "" "$(ls -A "$KS/tmp" 2>/dev/null)"
check_true "a full load afterwards" "$IMG_BIN" --root "$KS" load -i "$T/kbig-docker.tar"
check_true "  fsck" "$IMG_BIN" --root "$KS" fsck
finish
