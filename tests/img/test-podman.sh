#!/bin/bash
# SPDX-License-Identifier: MIT
# Round trip with podman: what img saves (docker-archive), podman loads, and
# the committed layer's content is there (read through podman's own mount).
# Skips (77) when podman cannot run here.
. "$(dirname "$0")/imglib.sh"
need python3 podman
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
need_fuse
P=(podman --root "$T/proot" --runroot "$T/prun" --storage-driver overlay)
podman_cleanup() {
	"${P[@]}" rm -af >/dev/null 2>&1; "${P[@]}" rmi -af >/dev/null 2>&1
	_cleanup
}
trap podman_cleanup EXIT
"${P[@]}" images >/dev/null 2>&1 || { echo "skip: podman cannot run here"; exit 77; }

img import --busybox busybox >/dev/null
id=$(img create busybox)
mp=$(ctr_mount "$id") || exit 1
mkdir -p "$mp/new"; echo "from img" > "$mp/new/f"; rm "$mp/bin/ls"
img umount "$id" >/dev/null
img commit -c 'CMD ["cat","/new/f"]' "$id" rt:1 >/dev/null
check_true "save docker-archive" img save -o "$T/rt.tar" rt:1
out=$("${P[@]}" load -i "$T/rt.tar" 2>&1); rc=$?
check "podman load: exit 0" 0 "$rc"
check_re "podman load: names the image" "Loaded image.*rt:1" "$out"
check "podman: two layers" "2" "$("${P[@]}" image inspect rt:1 --format '{{len .RootFS.Layers}}')"
check "podman: the CMD" "[cat /new/f]" "$("${P[@]}" image inspect rt:1 --format '{{.Config.Cmd}}')"
pc=$("${P[@]}" create rt:1)
pm=$("${P[@]}" mount "$pc")
# podman's merged dir: a real mount, never empty (writes follow)
{ [ -n "$pm" ] && [ "$pm" != / ] && mountpoint -q "$pm"; } || { fail "podman mount: '$pm'"; finish; }
check "podman: the committed file" "from img" "$(cat "$pm/new/f")"
check "podman: the whiteout applied" "no" "$(test -e "$pm/bin/ls" && echo yes || echo no)"
check "podman: the base layer" "$(sha256sum < /bin/busybox)" "$(sha256sum < "$pm/bin/busybox")"
"${P[@]}" umount "$pc" >/dev/null
img rm "$id" >/dev/null
finish
