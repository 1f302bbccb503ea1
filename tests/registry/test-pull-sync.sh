#!/bin/bash
# SPDX-License-Identifier: MIT
# How img pull makes an image durable, from the syscalls (strace -f -y),
# against a real docker-registry on 127.0.0.1: no fsync of a blob temp, a
# layer or a layer manifest; one syncfs after the last of them is written,
# then their names, then a second syncfs, then index.json renamed and the
# store dir fsynced (tests/build/sync-order.py with "names": no name is given
# before its data is synced, and the image's name not before theirs). The
# count is the same for one layer and for six. A syncfs that fails is one
# line, exit 125, the store as it was; img killed at either syncfs leaves
# nothing named, fsck clean, and the next pull completes.
. "$(dirname "$0")/reglib.sh"
need strace
ORDER=$SRC/tests/build/sync-order.py
registry_start plain
for im in "one 1 1" "six 6 2" "eio 2 3"; do
	set -- $im
	python3 "$SRC/tests/registry/mklayout.py" "$T/$1" "$2" 0.5 "$3" && push_layout "$T/$1" "$REG/$1:1" ||
		{ fail "push $1"; finish; }
done
# (LeakSanitizer cannot run under ptrace: off for the traced commands of a
# sanitizer build; ASan itself stays on)
[ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
img images >/dev/null # the store made: its first index.json is not the pull's
traced_pull() { # traced_pull TRACE REF
	strace -f -y -o "$1" -e trace=syncfs,fsync,fdatasync,sync,openat,linkat,renameat,renameat2 \
		"$IMG_BIN" --root "$STORE" pull -q "$2" >/dev/null 2>"$T/err"
}
for im in one six; do
	traced_pull "$T/tr-$im" "$REG/$im:1"
	check "$im: the pull under strace" "0 " "$? $(cat "$T/err")"
	ord=$(python3 "$ORDER" "$STORE" "$T/tr-$im" names); rc=$?
	check "$im: no name before its data is synced, the image's after theirs" 0 "$rc"
	[ "$rc" = 0 ] || echo "$ord" | head -5
	check "$im: two syncfs, one fsync (the store dir after index.json)" "syncfs 2 fsync 1" "$(head -1 <<<"$ord")"
	check "$im: the fsync is the store dir's" "1" "$(grep -cE "fsync\([0-9]+<$STORE>\)" "$T/tr-$im")"
	check "$im: no fsync of a blob, layer, layer manifest or temp" "" \
		"$(grep -E "fsync\([0-9]+<$STORE/" "$T/tr-$im" | head -3)"
	check "$im: no fdatasync or sync" "" "$(grep -E '^[0-9]+ +(fdatasync|sync)\(' "$T/tr-$im" | head -3)"
	# the layer manifest takes the XXH3 of each file as it was written: no
	# file of the unpacked layer is opened again to be read back
	check "$im: no unpacked file read back" 0 \
		"$(grep -cE 'openat\([0-9]+<[^>]*/tmp/layer[^>]*>, "[^"]*", O_RDONLY\|O_NOFOLLOW\|O_CLOEXEC\)' "$T/tr-$im")"
	check "$im: syncfs last but for the name" "renameat index.json" \
		"$(sed -n '/syncfs(/,$p' "$T/tr-$im" | grep -E 'renameat2?\(|linkat\(' | tail -n1 |
			sed -E 's/^[0-9]+ +(renameat2?)\(.*"(index\.json)".*/\1 \2/')"
done
check "layers unpacked: 1 + 6" 7 "$(ls "$STORE/layers" | wc -l)"
check "pulled: fsck clean" "$STORE: ok" "$(img fsck 2>&1)"
check "tmp/ empty" "" "$(ls -A "$STORE/tmp")"
# one layer keeps two cores busy: the download (blob hash and write) on the
# main thread, the decompressor (inflate, diff_id hash) and the unpack (tar,
# file writes) on a thread each
strace -f -y -o "$T/tr-threads" -e trace=clone,clone3,write "$IMG_BIN" --root "$T/s1" pull -q "$REG/one:1" >/dev/null 2>&1
check "one layer: pulled on 3 threads" "0 2" "$? $(grep -cE '^[0-9]+ +clone3?\(' "$T/tr-threads")"
# curl's 16 KiB pieces gathered to 256 KiB before they are written: of the
# writes into a blob temp, only each blob's last is shorter
check "one layer: blob temps written in 256 KiB pieces" "1 3" \
	"$(grep -cE 'write\([0-9]+<[^>]*/tmp/blob[^>]*>, .*\) = 262144$' "$T/tr-threads") $(grep -E 'write\([0-9]+<[^>]*/tmp/blob[^>]*>' "$T/tr-threads" | grep -cvE '\) = 262144$')"
check "one layer: fsck clean" "$T/s1: ok" "$("$IMG_BIN" --root "$T/s1" fsck 2>&1)"
# an up-to-date re-pull queues nothing: no syncfs, index.json as ever
traced_pull "$T/tr-re" "$REG/six:1"
check "re-pull: no syncfs" "syncfs 0 fsync 2" "$(python3 "$ORDER" "$STORE" "$T/tr-re" | head -1)"

# a syncfs that fails (strace's fault injection, EIO): the first (the data)
# or the second (the names): one line, 125, nothing named, nothing left
for when in 1 2; do
	before=$(store_state)
	out=$(strace -f -o /dev/null -e trace=syncfs -e inject=syncfs:error=EIO:when=$when \
		"$IMG_BIN" --root "$STORE" pull "$REG/eio:1" 2>&1 >/dev/null); rc=$?
	check "syncfs $when failing: exit 125" 125 "$rc"
	check "syncfs $when failing: one line" "img: pull $REG/eio:1: syncing the store $STORE: Input/output error" "$out"
	check "syncfs $when failing: store unchanged (no name, blob, layer or temp)" "$before" "$(store_state)"
	check "syncfs $when failing: fsck clean" "$STORE: ok" "$(img fsck 2>&1)"
done

# img killed (-9) at the first syncfs (every layer waiting in tmp/, nothing
# named) and at the second (blobs and layers named, the image not)
for when in 1 2; do
	nb=$(ls "$STORE/blobs/sha256" | wc -l)
	strace -f -o /dev/null -e trace=syncfs -e inject=syncfs:signal=KILL:when=$when \
		"$IMG_BIN" --root "$STORE" pull -q "$REG/eio:1" >/dev/null 2>&1
	check "killed at syncfs $when: the image not named" "" "$(img images -q "$REG/eio:1" 2>/dev/null)"
	if [ $when = 1 ]; then
		check "killed at syncfs 1: no new blob" "$nb" "$(ls "$STORE/blobs/sha256" | wc -l)"
		check_re "killed at syncfs 1: the layers were waiting in tmp/" "layer" "$(ls "$STORE/tmp")"
	else
		check "killed at syncfs 2: the 2 layers, config and manifest named" "$((nb + 4))" \
			"$(ls "$STORE/blobs/sha256" | wc -l)"
	fi
	# (what is named but unreferenced is a note for gc, not an error)
	check "killed at syncfs $when: fsck clean" "0 $STORE: ok" "$(img fsck >"$T/fsck" 2>&1; echo $? "$(tail -n1 "$T/fsck")")"
done
check "after the kills the pull completes" 0 "$(img pull -q "$REG/eio:1" >/dev/null 2>&1; echo $?)"
check "and fsck is clean" "$STORE: ok" "$(img fsck 2>&1)"
img gc >/dev/null 2>&1
check "gc leaves tmp/ empty" "" "$(ls -A "$STORE/tmp")"
check "three images" 3 "$(img images -q | wc -l)"
finish
