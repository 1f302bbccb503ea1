#!/bin/bash
# SPDX-License-Identifier: MIT
# gzip layers (imgstore/gunzip.c, ISA-L's igzip): every member of a
# multi-member stream, optional header fields (FEXTRA, FNAME, FCOMMENT,
# FHCRC) and what follows the last member are read as gzip(1) reads them; a
# wrong CRC32, length or header CRC, a truncated stream, a missing trailer
# and corrupt deflate data are refused with one line naming the layer and
# the reason, the store unchanged. Through img load (OCI layouts made by
# tests/img/mkimage.py) and img import of a tarball.
. "$(dirname "$0")/imglib.sh"
need python3 gzip
MK=$(dirname "$0")/mkimage.py
img images >/dev/null || { echo "img does not run"; exit 1; }

for c in plain members header garbage zeros bad-crc bad-size truncated no-trailer corrupt bad-header-crc; do
	python3 "$MK" gzip "$T/$c" "$c" || { fail "mkimage gzip $c"; finish; }
done
# good streams: the load's diff_id check proves the bytes are the tar's
for c in plain members header garbage zeros; do
	check "load, gzip $c: loaded" "Loaded image: gz:$c" "$(img load -q -i "$T/$c" 2>&1)"
done
check "fsck after the good loads" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
before=$(store_state)
check_fails "load, gzip bad-crc: refused" "layer blobs/sha256/[0-9a-f]{64}: .*decompressing the layer: gzip checksum or length mismatch" img load -q -i "$T/bad-crc"
check_fails "load, gzip bad-size: refused" "decompressing the layer: gzip checksum or length mismatch" img load -q -i "$T/bad-size"
check_fails "load, gzip bad-header-crc: refused" "decompressing the layer: gzip checksum or length mismatch" img load -q -i "$T/bad-header-crc"
check_fails "load, gzip truncated: refused" "decompressing the layer: the gzip stream is truncated" img load -q -i "$T/truncated"
check_fails "load, gzip no-trailer: refused" "decompressing the layer: the gzip stream is truncated" img load -q -i "$T/no-trailer"
check_fails "load, gzip corrupt: refused" "decompressing the layer: (gzip checksum|corrupt deflate)" img load -q -i "$T/corrupt"
check "the refusals left the store unchanged" "$before" "$(store_state)"

# import: the diff_id is the sha256 of exactly the tar, however it was cut
# into members
mkdir -p "$T/root/d" && head -c 300000 /dev/urandom > "$T/root/d/bin" && seq 1 20000 > "$T/root/d/text"
tar -C "$T/root" -cf "$T/root.tar" d
want=sha256:$(sha256sum < "$T/root.tar" | cut -d' ' -f1)
{ head -c 1000 "$T/root.tar" | gzip -c; tail -c +1001 "$T/root.tar" | head -c 200000 | gzip -c
  tail -c +201001 "$T/root.tar" | gzip -c; } > "$T/members.tar.gz"
img import "$T/members.tar.gz" gzi:members >/dev/null 2>&1
check "import of a 3-member tar.gz: the diff_id of the whole tar" "$want" \
	"$(img image inspect --format '{{index .RootFS.Layers 0}}' gzi:members 2>&1)"
gzip -c "$T/root.tar" > "$T/one.tar.gz"
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-8]^=1; open(sys.argv[2],"wb").write(b)' "$T/one.tar.gz" "$T/badcrc.tar.gz"
before=$(store_state)
check_fails "import of a tar.gz with a wrong CRC32: refused" "gzip checksum or length mismatch" img import "$T/badcrc.tar.gz" gzi:bad
check "the refused import left the store unchanged" "$before" "$(store_state)"
check "fsck at the end" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
finish
