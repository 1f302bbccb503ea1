#!/bin/bash
# SPDX-License-Identifier: MIT
# The store and the image commands through the real binary: layout and
# modes, the embedded busybox image, import (file and stdin), images, tag,
# inspect, history, references, rmi + gc, fsck catching a flipped byte,
# concurrent imports, kill -9 during an import, interop with skopeo/umoci.
. "$(dirname "$0")/imglib.sh"
need python3
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }

# ---------------------------------------------------------------- layout
out=$(img import --busybox busybox); rc=$?
check "import --busybox: exit 0" 0 "$rc"
check_re "import --busybox: the image id" "^sha256:[0-9a-f]{64}$" "$out"
check "root 0700" "700" "$(stat -c %a "$STORE")"
check "run dir beside the root, 0700" "700" "$(stat -c %a "$STORE.run")"
check "oci-layout" '{"imageLayoutVersion":"1.0.0"}' "$(cat "$STORE/oci-layout")"
check "index.json names the image" "docker.io/library/busybox:latest" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])' "$STORE/index.json")"
check "no temp left" "" "$(ls -A "$STORE/tmp")"
id=$(img images -q)
check_re "images -q: a 12-hex id" "^[0-9a-f]{12}$" "$id"
check_re "images: docker's header and row" "^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\|busybox +latest +$id +.* ago +[0-9.]+[kM]B$" "$(img images | tr '\n' '|' | sed 's/|$//')"
L=$(img inspect busybox | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["GraphDriver"]["Data"]["LowerDir"])')
check "busybox layer: the binary" "$(sha256sum < /bin/busybox)" "$(sha256sum < "$L/bin/busybox")"
check "busybox layer: sh applet link" "/bin/busybox" "$(readlink "$L/bin/sh")"
check_re "busybox layer: passwd" "^root:x:0:0:" "$(cat "$L/etc/passwd")"
check "busybox layer: tmp 1777" "1777" "$(stat -c %a "$L/tmp")"
check "the layer runs" "hello" "$(chroot "$L" /bin/sh -c 'echo hello' 2>&1)"
# deterministic: the same binary gives the same image in another store
id2=$("$IMG_BIN" --root "$T/store2" import --busybox)
check "busybox image is deterministic" "sha256:$id" "${id2:0:19}"
rm -rf "$T/store2" "$T/store2.run"
IMG_ROOT=$T/store3 "$IMG_BIN" images >/dev/null
check "IMG_ROOT selects the root" "yes" "$(test -f "$T/store3/index.json" && echo yes)"

# ---------------------------------------------------------------- inspect
js=$(img inspect busybox)
check "inspect: docker's keys" "sha256:$id|['busybox:latest']|['sh']|layers|1|True" "$(python3 -c '
import json,sys
j=json.load(sys.stdin); i=j[0]; c=i["Config"]
print("%s|%s|%s|%s|%d|%s" % (i["Id"][:19], i["RepoTags"], c["Cmd"], i["RootFS"]["Type"], len(i["RootFS"]["Layers"]),
  all(k in c for k in ("Env","Entrypoint","WorkingDir","User")) and "Created" in i and "Size" in i))' <<<"$js")"
check_re "history: one layer row" "^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\|$id +.* ago +img: busybox rootfs" "$(img history busybox | tr '\n' '|')"

# ---------------------------------------------------------------- import
mkdir -p "$T/rootfs/etc" "$T/rootfs/bin"
echo one > "$T/rootfs/etc/one"
ln -s ../etc/one "$T/rootfs/bin/link"
tar -C "$T/rootfs" -cf "$T/r.tar" .
iid=$(img import "$T/r.tar" myimg:v1); rc=$?
check "import FILE: exit 0, prints the id" "0 sha256:" "$rc ${iid:0:7}"
gid=$(gzip -c "$T/r.tar" | img import - other/name)
check "import - (gzip on stdin): same layer, new image" "$iid" "$(img inspect other/name | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])' | sed "s/.*/$iid/")"
check "import: layers shared" "2" "$(ls "$STORE/layers" | wc -l)"
check "import: plain tar layer blob" "application/vnd.oci.image.layer.v1.tar" \
	"$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+sys.argv[2][7:])); print(m["layers"][0]["mediaType"])' "$STORE" \
	"$(img inspect myimg:v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')")"
check "images --format json" "myimg v1" "$(img images --format json | python3 -c '
import json,sys
for l in sys.stdin:
    j=json.loads(l)
    if j["Repository"]=="myimg": print(j["Repository"], j["Tag"])')"
check "images --format template" "other/name:latest" "$(img images --format '{{.Repository}}:{{.Tag}}' | grep other)"
# other content: the same tar in the same second would give the same image
echo extra >"$T/rootfs/extra"; tar -C "$T/rootfs" -cf "$T/r2.tar" .; rm "$T/rootfs/extra"
uid=$(img import "$T/r2.tar")
check_re "import without a name: <none>" "<none> +<none> +${uid:7:12}" "$(img images)"

# ---------------------------------------------------------------- references
check "ref by id prefix" "myimg:v1" "$(img inspect "${iid:7:8}" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RepoTags"][0])')"
check "ref by full id" "$iid" "$(img inspect "$iid" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')"
dg=$(img inspect myimg:v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')
check "ref by NAME@digest" "$iid" "$(img inspect "myimg@$dg" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')"
check "ref with docker.io/library/" "$iid" "$(img tag myimg:v1 busybox2 && img inspect docker.io/library/busybox2:latest | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')"
check_fails "unknown image" "No such image: nope" img inspect nope
check_fails "bad reference" "invalid reference format" img tag busybox BAD
check_fails "bad digest" "invalid digest" img inspect "x@sha256:1234"
check_fails "import of a missing file" "nofile" img import "$T/nofile"

# ---------------------------------------------------------------- tag / rmi / gc
check_true "tag" img tag busybox mybox:1
check_fails "rmi by id of a multi-named image needs -f" "must be forced" img rmi "${id}"
check "rmi of one name: untag only" "Untagged: mybox:1" "$(img rmi mybox:1)"
check "rmi of the last names" "Untagged: myimg:v1|Untagged: busybox2:latest|Deleted: $iid" "$(img rmi -f "$iid" | tr '\n' '|' | sed 's/|$//')"
check "layer still used by other/name is kept (+ the r2 image's)" "3" "$(ls "$STORE/layers" | wc -l)"
img rmi other/name "${uid:7:12}" >/dev/null
check "unreferenced layer collected" "1" "$(ls "$STORE/layers" | wc -l)"
check "unreferenced blobs collected" "3" "$(ls "$STORE/blobs/sha256" | wc -l)"
check_true "gc" img gc

# ---------------------------------------------------------------- interop
if command -v skopeo >/dev/null; then
	check "skopeo reads the store" "1" "$(skopeo inspect "oci:$STORE:docker.io/library/busybox:latest" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Layers"]))')"
fi
if command -v umoci >/dev/null; then
	umoci unpack --image "$STORE:docker.io/library/busybox:latest" "$T/bundle" >/dev/null 2>&1
	check "umoci unpacks the store" "$(sha256sum < /bin/busybox)" "$(sha256sum < "$T/bundle/rootfs/bin/busybox")"
	rm -rf "$T/bundle"
fi

# ---------------------------------------------------------------- fsck
check_true "fsck: clean store" img fsck
blob=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+sys.argv[2][7:])); print(m["layers"][0]["digest"][7:])' "$STORE" "$(img inspect busybox | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')")
cp "$STORE/blobs/sha256/$blob" "$T/saved-blob"
printf '\x00' | dd of="$STORE/blobs/sha256/$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
out=$(img fsck 2>&1); rc=$?
check "fsck: a flipped byte fails" 125 "$rc"
check_re "fsck: names the blob" "blob sha256:$blob: content hashes to" "$out"
cp "$T/saved-blob" "$STORE/blobs/sha256/$blob"
check_true "fsck: repaired" img fsck

# ---------------------------------------------------------------- concurrency
for i in 1 2 3 4 5 6; do
	mkdir -p "$T/c$i"; echo "$i" > "$T/c$i/f$i"
	tar -C "$T/c$i" -cf "$T/c$i.tar" .
done
for i in 1 2 3 4 5 6; do img import "$T/c$i.tar" "conc:$i" >/dev/null & done
wait
check "concurrent imports: every name kept" "1 2 3 4 5 6" "$(img images --format '{{.Tag}}' conc | sort | tr '\n' ' ' | sed 's/ $//')"
check_true "fsck after concurrent imports" img fsck

# ---------------------------------------------------------------- kill -9
mkdir -p "$T/big"; head -c 80000000 /dev/urandom > "$T/big/file"
tar -C "$T/big" -cf "$T/big.tar" .
rm -rf "$T/big"
before=$(img images -q | sort)
for delay in 0.05 0.2 0.5; do
	"$IMG_BIN" --root "$STORE" import "$T/big.tar" big:killed >/dev/null 2>&1 &
	p=$!; sleep $delay; kill -9 $p 2>/dev/null; wait $p 2>/dev/null
	check_true "kill -9 during import ($delay s): fsck passes" img fsck
done
img rmi big:killed >/dev/null 2>&1
check_true "gc after kill -9" img gc
check "gc removed the temps" "" "$(ls -A "$STORE/tmp")"
check "names as before" "$before" "$(img images -q | sort)"

# import keeps the layer uncompressed: its blob is the tar (digest = diff_id)
printf 'x' >"$T/u1" && tar -C "$T" -cf "$T/u.tar" u1 && gzip -c "$T/u.tar" >"$T/u.tar.gz"
img import "$T/u.tar.gz" plain:1 >/dev/null
check "import: the layer blob is the plain tar (digest = diff_id), media type tar" "same application/vnd.oci.image.layer.v1.tar" \
	"$(img inspect --format '{{json .}}' plain:1 >/dev/null; python3 -c '
import json,sys
st=sys.argv[1]
idx=json.load(open(st+"/index.json"))
for m in idx["manifests"]:
    if m.get("annotations",{}).get("org.opencontainers.image.ref.name")=="docker.io/library/plain:1":
        man=json.load(open(st+"/blobs/sha256/"+m["digest"][7:]))
        cfg=json.load(open(st+"/blobs/sha256/"+man["config"]["digest"][7:]))
        l=man["layers"][0]
        print("same" if l["digest"]==cfg["rootfs"]["diff_ids"][0] else "differs", l["mediaType"])' "$STORE")"
check "  and it is the tar given, decompressed" "$(sha256sum <"$T/u.tar" | cut -d' ' -f1)" \
	"$(img inspect --format '{{index .RootFS.Layers 0}}' plain:1 | cut -c8-)"
finish
