#!/bin/bash
# SPDX-License-Identifier: MIT
# Every failure path of the container's union mount (issue 11): a store root
# ufsmount cannot take, no ufsmount found, an error of ufsmount itself. Each
# is one line and exit 125 (it was a segfault, 139: a goto past a cleanup
# variable), an --rm container does not stay behind, nothing stays mounted,
# and img mount fails the same way.
. "$(dirname "$0")/imglib.sh"
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
need_fuse

# no_leftovers NAME ROOT: no container, no run dir entry, no mount below $T
no_leftovers() {
	check "$1: no container left" "" "$("$IMG_BIN" --root "$2" ps -a -q)"
	check "$1: no run dir left" "" "$(ls -A "$2.run/containers" 2>/dev/null | grep -vx containers.lock)"
	check "$1: nothing mounted" "" "$(awk -v t="$T/" 'index($5, t) == 1' /proc/self/mountinfo)"
}

# ------------------------------------------------- a root ufsmount refuses
bad="$T/a:x"
"$IMG_BIN" --root "$bad" import --busybox busybox >/dev/null || { echo "import failed"; exit 1; }
check_fails "run --rm, root with ':'" "cannot be passed to ufsmount" \
	"$IMG_BIN" --root "$bad" run --rm busybox true
no_leftovers "root with ':'" "$bad"
check_fails "run -d, root with ':'" "cannot be passed to ufsmount" \
	"$IMG_BIN" --root "$bad" run -d busybox true
no_leftovers "run -d, root with ':'" "$bad"
id=$("$IMG_BIN" --root "$bad" create busybox true)
check_fails "mount, root with ':'" "cannot be passed to ufsmount" "$IMG_BIN" --root "$bad" mount "$id"
check "mount, root with ':': container kept" "${id:0:12}" "$("$IMG_BIN" --root "$bad" ps -a -q)"
check_fails "start, root with ':'" "cannot be passed to ufsmount" "$IMG_BIN" --root "$bad" start "$id"
"$IMG_BIN" --root "$bad" rm "$id" >/dev/null

# ------------------------------------------------------ no ufsmount found
img import --busybox busybox >/dev/null || { echo "import failed"; exit 1; }
export IMG_UFSMOUNT=$T/no-such-ufsmount
check_fails "run --rm, no ufsmount: names the path" "ufsmount not found: IMG_UFSMOUNT=$T/no-such-ufsmount: No such file or directory" \
	img run --rm busybox true
no_leftovers "no ufsmount" "$STORE"
id=$(img create busybox true)
check_fails "mount, no ufsmount" "ufsmount not found: .*no-such-ufsmount" img mount "$id"
check "mount, no ufsmount: run dir has no merged/" "" "$(ls -A "$STORE.run/containers/$id" 2>/dev/null | grep -x merged)"
unset IMG_UFSMOUNT

# ------------------------------------------------------ ufsmount's own error
# a damaged store: a layer dir replaced by a file (ufsmount: not a directory)
layer=$(ls "$STORE/layers" | head -1)
mv "$STORE/layers/$layer" "$T/layer.save"
: >"$STORE/layers/$layer"
check_fails "run --rm, ufsmount error: its message" "mounting the container: ufsmount: branch .*: not a directory" \
	img run --rm busybox true
check_fails "mount, ufsmount error" "mounting the container: ufsmount: branch .*: not a directory" \
	img mount "$id"
check "ufsmount error: only the created container left" "${id:0:12}" "$(img ps -a -q)"
rm "$STORE/layers/$layer"
mv "$T/layer.save" "$STORE/layers/$layer"

# ---------------------------------------------- and the good path still works
mp=$(ctr_mount "$id")
check "mount after the failures" "true" "$([ -x "$mp/bin/busybox" ] && echo true)"
check "umount" "${id:0:12}" "$(img umount "$id" | cut -c1-12)"
check "rm" "$id" "$(img rm "$id")"
no_leftovers "at the end" "$STORE"
finish
