#!/bin/bash
# SPDX-License-Identifier: MIT
# A layer entry below a lower layer's symlink (issue 11 §5, the rule in
# docs/format.md "Layers are applied independently"): with lib -> usr/lib
# (relative) and abs -> /usr/lib (absolute) in a lower layer, an upper entry
# lib/systemd/x makes a real dir lib in the upper layer, which hides the lower
# symlink in the union (docker's overlay2 does the same); a whiteout below one
# (lib/.wh.a) stays in that dir and hides nothing of usr/lib. Each layer is
# unpacked alone, keyed by its diff_id, and shared as it is.
. "$(dirname "$0")/imglib.sh"
need python3
python3 - "$T/sym.tar" <<'PY'
import hashlib, io, json, sys, tarfile
def tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, data in entries:
            t = tarfile.TarInfo(name)
            if kind == "d": t.type = tarfile.DIRTYPE; t.mode = 0o755
            elif kind == "l": t.type = tarfile.SYMTYPE; t.linkname = data
            else: t.size = len(data); t.mode = 0o644
            tf.addfile(t, io.BytesIO(data) if kind == "f" else None)
    return b.getvalue()
low = tar([("usr", "d", b""), ("usr/lib", "d", b""), ("usr/lib/a", "f", b"a\n"), ("usr/lib/b", "f", b"b\n"),
           ("lib", "l", "usr/lib"), ("abs", "l", "/usr/lib")])
up = tar([("lib", "d", b""), ("lib/systemd", "d", b""), ("lib/systemd/x", "f", b"x\n"),
          ("lib/.wh.a", "f", b""), ("abs", "d", b""), ("abs/y", "f", b"y\n")])
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": [sha(low), sha(up)]}}).encode()
files = {"c.json": cfg, "low.tar": low, "up.tar": up,
         "manifest.json": json.dumps([{"Config": "c.json", "RepoTags": ["sym:1"], "Layers": ["low.tar", "up.tar"]}]).encode()}
with tarfile.open(sys.argv[1], "w") as tf:
    for n, d in files.items():
        t = tarfile.TarInfo(n); t.size = len(d); tf.addfile(t, io.BytesIO(d))
PY
check_true "load the two-layer image" img load -i "$T/sym.tar"
IFS=: read -r UP LOW <<<"$(img inspect --format '{{.GraphDriver.Data.LowerDir}}' sym:1)"
case "$UP$LOW" in "$STORE"/layers/*"$STORE"/layers/*) ;; *) fail "layer dirs '$UP' '$LOW'"; finish ;; esac
check "lower layer: the relative symlink as it came" "usr/lib" "$(readlink "$LOW/lib")"
check "lower layer: the absolute symlink as it came" "/usr/lib" "$(readlink "$LOW/abs")"
check "upper layer: lib is its own real dir" "directory x" "$(stat -c %F "$UP/lib") $(cat "$UP/lib/systemd/x")"
check "upper layer: abs is its own real dir" "directory y" "$(stat -c %F "$UP/abs") $(cat "$UP/abs/y")"
check "upper layer: the whiteout stays below its own lib" "regular empty file" "$(stat -c %F "$UP/lib/.wh.a")"
check "upper layer: nothing written into the lower layer" "a b" "$(ls "$LOW/usr/lib" | tr '\n' ' ' | sed 's/ $//')"
check_true "fsck" img fsck

if [ -c /dev/fuse ] && [ "$(id -u)" = 0 ]; then
	c=$(img create sym:1 true) || { fail "create"; finish; }
	mp=$(ctr_mount "$c")
	check "union: /lib is the upper dir (lower symlink hidden)" "directory|systemd" "$(stat -c %F "$mp/lib")|$(ls "$mp/lib" | tr '\n' ' ' | sed 's/ $//')"
	check "union: /abs is the upper dir" "directory|y" "$(stat -c %F "$mp/abs")|$(ls "$mp/abs" | tr '\n' ' ' | sed 's/ $//')"
	check "union: the whiteout below lib hides nothing of usr/lib" "a b" "$(ls "$mp/usr/lib" | tr '\n' ' ' | sed 's/ $//')"
	check "union: /lib/a is not there (nothing resolved through the symlink)" "no" "$(test -e "$mp/lib/a" && echo yes || echo no)"
	img umount "$c" >/dev/null
	img rm "$c" >/dev/null
else
	skip "union checks" "needs /dev/fuse and root"
fi
finish
