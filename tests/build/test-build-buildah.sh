#!/bin/bash
# SPDX-License-Identifier: MIT
# img build side by side with buildah bud (issue 12): for each Containerfile
# shipped in tests/build/cf/, both build it from the same context and the
# embedded busybox; the images' flattened filesystems (owners, modes,
# contents, link targets), Env/Cmd/Entrypoint/WorkingDir/User/Labels/
# ExposedPorts/Volumes and history commands must be the same (compare.py).
# buildah keeps its storage in the test's temp dir (vfs driver); both
# images are exported as OCI layouts and unpacked by umoci.
. "$(dirname "$0")/buildlib.sh"
need buildah umoci
HERE=$(cd "$(dirname "$0")" && pwd)
BAH=(buildah --root "$T/bah/root" --runroot "$T/bah/run" --storage-driver vfs)
_bah_cleanup() {
	# buildah's own mounts (vfs: none expected) and working containers
	"${BAH[@]}" rm --all >/dev/null 2>&1
	"${BAH[@]}" rmi --all --force >/dev/null 2>&1
	_priv_cleanup
}
trap _bah_cleanup EXIT
img save busybox > "$T/busybox.tar" || { fail "img save busybox"; finish; }
"${BAH[@]}" pull -q "docker-archive:$T/busybox.tar" >/dev/null 2>&1 ||
	{ fail "buildah pull of the embedded busybox"; finish; }
"${BAH[@]}" tag localhost/busybox docker.io/library/busybox:latest 2>/dev/null

for d in "$HERE"/cf/*/; do
	n=$(basename "$d")
	cp -a "$d" "$T/ctx-$n"
	out=$(timeout 300 "${BAH[@]}" bud --pull-never --network none --layers=false \
		-t "bah-$n" "$T/ctx-$n" 2>&1) || { fail "$n: buildah bud" "$out"; continue; }
	out=$(build -q -t "img-$n" "$T/ctx-$n" 2>&1) || { fail "$n: img build" "$out"; continue; }
	"${BAH[@]}" push "bah-$n" "oci:$T/oci-bah-$n:bah" >/dev/null 2>&1 ||
		{ fail "$n: buildah push to an OCI layout"; continue; }
	img save --format oci-dir -o "$T/oci-img-$n" "img-$n" || { fail "$n: img save"; continue; }
	umoci unpack --image "$T/oci-bah-$n:bah" "$T/unpack-bah-$n" >/dev/null 2>&1 &&
		umoci unpack --image "$T/oci-img-$n:latest" "$T/unpack-img-$n" >/dev/null 2>&1 ||
		{ fail "$n: umoci unpack"; continue; }
	diffs=$(python3 "$HERE/compare.py" "$T/oci-img-$n" latest "$T/unpack-img-$n/rootfs" \
		"$T/oci-bah-$n" bah "$T/unpack-bah-$n/rootfs")
	check "$n: the same image as buildah's (filesystem, config, history)" "" "$diffs"
	rm -rf "$T/unpack-bah-$n" "$T/unpack-img-$n"
done
check "nothing left behind" "" "$(nothing_left)"
finish
