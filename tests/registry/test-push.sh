#!/bin/bash
# SPDX-License-Identifier: MIT
# img push to a real docker-registry on loopback (issue 9): skopeo inspects
# what was pushed, podman pulls and runs it; a second push sends no blob;
# a push to another repository mounts the blobs; a committed image pushes.
. "$(dirname "$0")/reglib.sh"
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }

registry_start plain
img import --busybox busybox >/dev/null || { fail "import --busybox"; finish; }
# uploads seen in the access log: upload starts, PUTs and PATCHes
uploads() { grep -cE '"(POST|PUT|PATCH) /v2/[^ ]*/blobs/' "$T/reg-plain/log"; }

out=$(img push busybox "$REG/x:1"); rc=$?
check "push: exit 0" 0 "$rc"
check "push: first line" "The push refers to repository [$REG/x]" "$(printf '%s\n' "$out" | head -n1)"
check_re "push: a layer pushed" "[0-9a-f]{12}: Pushed" "$out"
mdigest=$(img inspect -f '{{.Digest}}' busybox 2>/dev/null)
[ -n "$mdigest" ] || mdigest=$(img images --digests --format '{{.Digest}}' busybox)
size=$(stat -c %s "$STORE/blobs/sha256/${mdigest#sha256:}")
check "push: docker's last line" "1: digest: $mdigest size: $size" "$(printf '%s\n' "$out" | tail -n1)"
check "skopeo inspect: the same manifest digest" "$mdigest" \
	"$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/x:1" 2>&1)"
check "skopeo inspect: the config" "$(img images -q --no-trunc busybox)" \
	"$(skopeo inspect --tls-verify=false --raw "docker://$REG/x:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')"
check_re "push: RepoDigests gain the pushed repo's digest" "^\\[$REG/x@$mdigest busybox@$mdigest\\]$" \
	"$(img inspect -f '{{.RepoDigests}}' busybox)"
check "push: fsck clean" 0 "$(img fsck >/dev/null 2>&1; echo $?)"

# second push: nothing sent but the manifest
n=$(uploads)
out=$(img push busybox "$REG/x:1")
check_re "re-push: Layer already exists" "Layer already exists" "$out"
check "re-push: no upload" "$n" "$(uploads)"

# another repository of the same registry: mounted from x
img tag busybox "$REG/x:1"
out=$(img push "$REG/x:1" "$REG/other/y:2")
check_re "push elsewhere: Mounted from x" "[0-9a-f]{12}: Mounted from x" "$out"
check "mounted: skopeo sees it" "$mdigest" \
	"$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/other/y:2" 2>&1)"

# six layers, pushed three at a time
python3 "$SRC/tests/registry/mklayout.py" "$T/six" 6 3 || fail "mklayout"
six=$(img load -i "$T/six" | sed -n 's/^Loaded image ID: //p')
sixd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$T/six/index.json")
img tag "$six" six:1
out=$(img push six:1 "$REG/six:1"); rc=$?
check "six layers: push" 0 "$rc"
check "six layers: six Pushed lines" 6 "$(printf '%s\n' "$out" | grep -c ': Pushed$')"
check "six layers: skopeo sees our manifest" "$sixd" \
	"$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/six:1" 2>&1)"
check "six layers: skopeo copies it back whole" 0 \
	"$(skopeo copy -q --src-tls-verify=false "docker://$REG/six:1" "oci:$T/six-back" >/dev/null 2>&1; echo $?)"

# push by the image's own name
img tag busybox "$REG/own:3"
check "push NAME alone" 0 "$(img push -q "$REG/own:3" >/dev/null 2>&1; echo $?)"

# errors: one line
check_fails "push of an unknown image" "An image does not exist locally" img push nope:1 "$REG/x:9"
check_fails "push to nothing listening" "push 127.0.0.1:1/x:1: " img push busybox 127.0.0.1:1/x:1

# round trip through podman (storage in the temp dir)
if command -v podman >/dev/null && [ "$(id -u)" = 0 ]; then
	P=(podman --root "$T/proot" --runroot "$T/prun" --storage-driver vfs)
	out=$("${P[@]}" pull -q --tls-verify=false "$REG/x:1" 2>&1); rc=$?
	check "podman pull of what img pushed" 0 "$rc"
	out=$("${P[@]}" run --rm --network none "$REG/x:1" sh -c 'echo from-podman' 2>&1); rc=$?
	if [ "$rc" = 0 ]; then
		check_re "podman run of what img pushed" "^from-podman" "$out"
	else
		# runc cannot set rlimits in some sandboxes: read podman's own rootfs instead
		echo "# podman run unavailable here: $out"
		cid=$("${P[@]}" create "$REG/x:1" true 2>/dev/null)
		pm=$("${P[@]}" mount "$cid" 2>/dev/null)
		case "$pm" in
		"$T"/?*) check "podman's rootfs of what img pushed" "$(sha256sum < /bin/busybox)" \
				"$(sha256sum < "$pm/bin/busybox")" ;;
		*) fail "podman mount: '$pm' not inside the test dir" ;;
		esac
		"${P[@]}" umount "$cid" >/dev/null 2>&1; "${P[@]}" rm -f "$cid" >/dev/null 2>&1
	fi
	# the other way: an image podman made, podman push, img pull
	mkdir -p "$T/podroot/etc"
	echo "made by podman $$" > "$T/podroot/etc/marker"
	tar -C "$T/podroot" -cf "$T/podroot.tar" etc
	"${P[@]}" import -q "$T/podroot.tar" localhost/pod/own:1 >/dev/null 2>&1 || fail "podman import"
	"${P[@]}" push -q --tls-verify=false localhost/pod/own:1 "docker://$REG/pod/own:1" >/dev/null 2>&1 ||
		fail "podman push"
	check "img pull of what podman pushed" 0 "$(img pull -q "$REG/pod/own:1" >/dev/null 2>&1; echo $?)"
	check "the same image id as podman's" "$("${P[@]}" image inspect --format '{{.Id}}' localhost/pod/own:1)" \
		"$(img images -q --no-trunc "$REG/pod/own:1" | sed 's/^sha256://')"
	lay=$(img inspect -f '{{json .RootFS.Layers}}' "$REG/pod/own:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1][7:])')
	check "podman's file in the pulled layer" "made by podman $$" "$(cat "$STORE/layers/$lay/etc/marker" 2>&1)"
	"${P[@]}" rmi -af >/dev/null 2>&1
fi
check "fsck after pushes" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
finish
