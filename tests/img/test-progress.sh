#!/bin/bash
# SPDX-License-Identifier: MIT
# Progress of long streams: shown on a terminal (import, save of a big
# layer), never when stderr is not one, and short streams stay silent.
. "$(dirname "$0")/imglib.sh"
command -v script >/dev/null || { echo "SKIP: script(1) missing"; exit 77; }

mkdir -p "$T/r"
head -c 200M /dev/urandom >"$T/r/big"
tar -C "$T/r" -cf "$T/r.tar" .
rm -rf "$T/r"

img import "$T/r.tar" big:1 >/dev/null 2>"$T/notty.err"
check "no terminal: import prints no progress" "" "$(cat "$T/notty.err")"
img save -o "$T/s1.tar" big:1 2>"$T/notty2.err"
check "no terminal: save prints no progress" "" "$(cat "$T/notty2.err")"

script -qec "'$IMG_BIN' --root '$STORE' import '$T/r.tar' big:2 >/dev/null; '$IMG_BIN' --root '$STORE' save -o '$T/s2.tar' big:2" /dev/null >"$T/tty.out" 2>&1
tr '\r' '\n' <"$T/tty.out" >"$T/tty.txt"
check_re "terminal: import shows the layer being written" "Writing layer +[0-9.]+[kMG]?B" "$(grep 'Writing layer' "$T/tty.txt" | tail -n1)"
check_re "terminal: save shows bytes of the total" "Saving blobs/sha256/[0-9a-f]+ +[0-9.]+MB / [0-9.]+MB" "$(grep 'Saving' "$T/tty.txt" | tail -n1)"
check "terminal: small files are not shown" "" "$(grep -E 'manifest.json|index.json' "$T/tty.txt")"
finish
