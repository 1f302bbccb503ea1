#!/bin/bash
# SPDX-License-Identifier: MIT
# Hostile OCI layouts and layers for img load / import (issue 11 §1): index
# nesting bounded (depth 15,700 refused fast, no crash, no temp left), media
# types checked against the blobs, oci-layout required, unknown tar typeflags
# refused, duplicate dir entries: the last wins. Archives: tests/img/mkimage.py.
. "$(dirname "$0")/imglib.sh"
need python3
MK=$(dirname "$0")/mkimage.py
img images >/dev/null || { echo "img does not run"; exit 1; }
img gc >/dev/null
# no temp, no name, no blob, no layer: the store as it was (a dir's own size
# grows with the temps it held)
store_state() {
	(cd "$STORE" && find . \( -type d -printf '%p d\n' \) -o -printf '%p %s %y\n' | sort && sha256sum index.json)
}
unchanged() { check "$1: store unchanged" "$2" "$(store_state)"; }

# ---------------------------------------------------------------- nesting
python3 "$MK" nest "$T/n2" 2 typed && python3 "$MK" nest "$T/n15700" 15700 typed &&
	python3 "$MK" nest "$T/lie15700" 15700 lying && tar -C "$T/n15700" -cf "$T/n15700.tar" . ||
	{ fail "mkimage nest"; finish; }
before=$(store_state)
for f in n15700 n15700.tar lie15700; do
	# CPU seconds (user + sys), not wall time: that is the disk's, and a
	# loaded machine's journal made it over a minute for 15,700 blob files
	{ TIMEFORMAT='%U %S'; time out=$(img load -i "$T/$f" 2>&1 >/dev/null); } 2>"$T/cpu"; rc=$?
	check_re "load $f: refused with one clear line, exit 125" "^125 img: load .*(nested deeper than|media type)[^|]*$" "$rc $out"
	check "load $f: well under a minute of CPU (no work growing with the depth squared)" "yes" \
		"$(awk '{ print ($1 + $2 < 60) ? "yes" : $1 + $2 " s" }' "$T/cpu")"
	unchanged "load $f" "$before"
done
out=$(img load -i "$T/n2"); rc=$?
check "a legitimate nested index (depth 2) loads" "0 Loaded image: nest:2" "$rc $out"
check_true "fsck after the nesting" img fsck

# ---------------------------------------------------------------- media types
before=$(store_state)
for c in desc-says-index desc-says-config both no-layout layout-2 layout-none; do
	python3 "$MK" mediatype "$T/mt-$c" "$c" || fail "mkimage $c"
	case $c in
	desc-says-*) re="media type .* is not the blob's" ;;
	both) re="both a manifest and an index" ;;
	no-layout) re="no oci-layout file" ;;
	layout-2) re="imageLayoutVersion '2.0.0' is not 1.0.0" ;;
	layout-none) re="imageLayoutVersion missing" ;;
	esac
	check_fails "load refuses $c" "$re" img load -i "$T/mt-$c"
	unchanged "load $c" "$before"
done
python3 "$MK" mediatype "$T/mt-ok" ok
check "the same layout with right media types loads" "Loaded image: mt:ok" "$(img load -i "$T/mt-ok" 2>&1)"

# ---------------------------------------------------------------- typeflags
before=$(store_state)
for fl in S D 8 Z Q; do
	python3 "$MK" typeflag "$T/tf-$fl.tar" "$fl"
	check_fails "import refuses typeflag '$fl'" "unknown tar typeflag '$fl'" img import "$T/tf-$fl.tar" tf:x
	unchanged "import typeflag $fl" "$before"
done
for fl in 0 7; do
	python3 "$MK" typeflag "$T/tf-$fl.tar" "$fl"
	check_true "import accepts typeflag '$fl'" img import "$T/tf-$fl.tar" "tf:$fl"
done

# ---------------------------------------------------------------- dup dirs
python3 - "$T/dup.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tf:
    for mode, mt in ((0o700, 100), (0o751, 200)):
        t = tarfile.TarInfo("d"); t.type = tarfile.DIRTYPE; t.mode = mode; t.mtime = mt
        tf.addfile(t)
    t = tarfile.TarInfo("d/f"); t.size = 1; tf.addfile(t, io.BytesIO(b"x"))
PY
img import "$T/dup.tar" dup:1 >/dev/null
L=$(img inspect --format '{{.GraphDriver.Data.LowerDir}}' dup:1)
check "a dir given twice in a layer: the last entry's mode and mtime" "751 200" "$(stat -c '%a %Y' "$L/d")"
finish
