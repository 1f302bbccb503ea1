#!/bin/bash
# SPDX-License-Identifier: MIT
# img fsck sees what containers run from (issue 11 §2): a changed byte, a
# deleted file, a chmod inside an unpacked layer are found against the
# content manifest recorded at publish; fsck --repair unpacks the layer again
# from its blob; orphan blobs are reported (not failed); blobs are 0444.
. "$(dirname "$0")/imglib.sh"
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }

img import --busybox busybox >/dev/null || { fail "import --busybox"; finish; }
L=$(img inspect --format '{{.GraphDriver.Data.LowerDir}}' busybox)
case $L in "$STORE"/layers/?*) ;; *) fail "layer dir '$L' is not in the store"; finish ;; esac
did=$(basename "$L")
check_true "fsck of a fresh store" img fsck
check "a content manifest per layer" "yes" "$(test -f "$STORE/layer-manifests/$did" && echo yes)"
check "blobs are published read-only" "444" "$(stat -c %a "$STORE"/blobs/sha256/* | sort -u | tr '\n' ' ' | sed 's/ $//')"

damage() { # damage KIND: one change inside the unpacked layer
	case $1 in
	byte) printf 'X' | dd of="$L/etc/passwd" bs=1 seek=3 conv=notrunc status=none ;;
	delete) rm -f "$L/bin/ls" ;;
	mode) chmod 600 "$L/etc/group" ;;
	add) echo evil >"$L/etc/extra" ;;
	esac
}
for k in byte delete mode add; do
	damage $k
	case $k in
	byte) re="'etc/passwd' content changed" ;;
	delete) re="'bin/ls' is missing" ;;
	mode) re="'etc/group' mode changed" ;;
	add) re="'etc/extra' was added" ;;
	esac
	out=$(img fsck 2>&1); rc=$?
	check_re "fsck finds: $k" "^125 .*layer sha256:$did: $re" "$rc $(echo "$out" | tr '\n' ' ')"
	out=$(img fsck --repair 2>&1); rc=$?
	check_re "fsck --repair after: $k" "^0 .*repaired from blob" "$rc $(echo "$out" | tr '\n' ' ')"
	check_true "fsck clean after the repair of: $k" img fsck
done
check "the repaired layer has the original bytes" "$(sha256sum </bin/busybox)" "$(sha256sum <"$L/bin/busybox")"
check_re "the repaired passwd" "^root:x:0:0:" "$(cat "$L/etc/passwd")"
check "no temp left by the repairs" "" "$(ls -A "$STORE/tmp")"
rm -rf "$L"
check_re "fsck finds a missing layer dir" "unpacked layer sha256:$did missing" "$(img fsck 2>&1)"
check_true "fsck --repair unpacks it again" img fsck --repair
check_true "  then fsck passes" img fsck
rm -f "$STORE/layer-manifests/$did"
check_re "fsck finds a missing content manifest" "no content manifest" "$(img fsck 2>&1)"
check_true "fsck --repair records it again" img fsck --repair
check_true "  then fsck passes" img fsck

# a layer a mounted container runs from is not replaced under it
if [ -c /dev/fuse ] && [ "$(id -u)" = 0 ]; then
	c=$(img create busybox true) && mp=$(ctr_mount "$c")
	damage byte
	out=$(img fsck --repair 2>&1); rc=$?
	check_re "fsck --repair refuses a layer a mounted container uses" "^125 .*not repaired: container ${c:0:12} is mounted from it" "$rc $(echo "$out" | tr '\n' ' ')"
	img umount "$c" >/dev/null
	check_true "  repaired once it is unmounted" img fsck --repair
	check_true "  then fsck passes" img fsck
	img rm "$c" >/dev/null
else
	skip "repair beside a mounted container" "needs /dev/fuse and root"
fi

# an orphan blob is reported as a note; fsck still passes; gc removes it
printf 'orphan' >"$T/o" && h=$(sha256sum <"$T/o" | cut -d' ' -f1) && cp "$T/o" "$STORE/blobs/sha256/$h"
out=$(img fsck 2>&1); rc=$?
check_re "fsck reports an orphan blob" "^0 .*note: blob sha256:$h is not referenced" "$rc $(echo "$out" | tr '\n' ' ')"
img gc >/dev/null
check "gc removes it" "no" "$(test -e "$STORE/blobs/sha256/$h" && echo yes || echo no)"
check "gc keeps the layer's manifest" "yes" "$(test -f "$STORE/layer-manifests/$did" && echo yes)"
img rmi busybox >/dev/null
check "rmi + gc remove the manifest with the layer" "" "$(ls -A "$STORE/layer-manifests")"

# the manifest takes each file's XXH3 as the unpack writes it: right for a
# sparse file (holes hashed as zeros), a hardlink, a whiteout, a file that a
# later entry of the same tar replaces, and an empty file; fsck reads them all
# back and must agree
mkdir -p "$T/tx/a/d" "$T/tx/b/d"
truncate -s 3M "$T/tx/a/d/sparse"
printf 'mid' | dd of="$T/tx/a/d/sparse" bs=1 seek=1500000 conv=notrunc status=none
printf 'end' >> "$T/tx/a/d/sparse"
ln "$T/tx/a/d/sparse" "$T/tx/a/d/hl"
: > "$T/tx/a/d/empty"
: > "$T/tx/a/d/.wh.gone"
echo first > "$T/tx/a/d/twice"
echo "second, longer" > "$T/tx/b/d/twice"
tar --sparse --format=pax -cf "$T/tx.tar" -C "$T/tx/a" d -C "$T/tx/b" d/twice
check_true "import of a sparse / hardlink / replaced-file tar" img import "$T/tx.tar" tx:1
did=$(basename "$(img inspect --format '{{.GraphDriver.Data.LowerDir}}' tx:1)")
check "  the replaced file is the last entry's" "second, longer" "$(cat "$STORE/layers/$did/d/twice")"
check_re "  the sparse file and its hardlink: one hash" "^f 0644 [0-9]+ [0-9]+ 3145731 ([0-9a-f]+) d/hl f 0644 [0-9]+ [0-9]+ 3145731 \\1 d/sparse$" \
	"$(grep -E ' d/(hl|sparse)$' "$STORE/layer-manifests/$did" | tr '\n' ' ' | sed 's/ $//')"
check_true "  fsck agrees with the hashes taken while unpacking" img fsck
finish
