#!/bin/bash
# SPDX-License-Identifier: MIT
# The hostile tarball corpus (SECURITY.md "Layer tarballs"): each one is
# refused by `img import` with a clear one-line error, nothing is written
# outside the store, and the store is exactly as it was (no layer, blob, temp
# or name left behind). Also: what must be accepted is, and lands in-root.
. "$(dirname "$0")/imglib.sh"
need python3

OUT=$T/outside
mkdir -p "$OUT" "$T/corpus"
img images >/dev/null || { echo "img does not run"; exit 1; }

python3 - "$T/corpus" "$OUT" <<'PY'
import io, os, sys, tarfile, gzip
d, out = sys.argv[1], sys.argv[2]

def ti(name, typ=tarfile.REGTYPE, data=b"", **kw):
    t = tarfile.TarInfo(name)
    t.type = typ
    t.size = len(data) if typ == tarfile.REGTYPE else 0
    t.mode = kw.pop("mode", 0o644)
    for k, v in kw.items():
        setattr(t, k, v)
    return t, (io.BytesIO(data) if typ == tarfile.REGTYPE else None)

def write(name, entries, fmt=tarfile.PAX_FORMAT):
    with tarfile.open(os.path.join(d, name), "w", format=fmt) as tf:
        for t, f in entries:
            tf.addfile(t, f)

write("dotdot.tar", [ti("../outside/evil", data=b"x")])
write("dotdot-deep.tar", [ti("a/", tarfile.DIRTYPE, mode=0o755), ti("a/../../outside/evil", data=b"x")])
write("symlink-parent-abs.tar", [ti("link", tarfile.SYMTYPE, linkname=out), ti("link/evil", data=b"x")])
write("symlink-parent-rel.tar", [ti("link", tarfile.SYMTYPE, linkname="../../../../../../.." + out), ti("link/evil", data=b"x")])
write("hardlink-dotdot.tar", [ti("hl", tarfile.LNKTYPE, linkname="../../../../etc/passwd")])
write("hardlink-abs-missing.tar", [ti("hl", tarfile.LNKTYPE, linkname="/etc/passwd")])
write("hardlink-via-symlink.tar", [ti("sl", tarfile.SYMTYPE, linkname="/etc"), ti("hl", tarfile.LNKTYPE, linkname="sl/passwd")])
write("hardlink-dir.tar", [ti("d/", tarfile.DIRTYPE, mode=0o755), ti("hl", tarfile.LNKTYPE, linkname="d")])
write("root-file.tar", [ti(".", data=b"x")])
write("root-symlink.tar", [ti("./", tarfile.SYMTYPE, linkname="/")])
write("wh-empty.tar", [ti(".wh.")])
write("wh-dot.tar", [ti("d/.wh..")])
write("wh-dotdot.tar", [ti(".wh...")])
write("wh-as-dir.tar", [ti(".wh.x/y", data=b"x")])
write("dev-major.tar", [ti("dev/bad", tarfile.CHRTYPE, devmajor=4096, devminor=1)], fmt=tarfile.GNU_FORMAT)
write("dev-minor.tar", [ti("dev/bad", tarfile.BLKTYPE, devmajor=1, devminor=1 << 20)], fmt=tarfile.GNU_FORMAT)
write("uid-range.tar", [ti("f", data=b"x", uid=1 << 32)])
write("socket.tar", [ti("s", tarfile.FIFOTYPE)])  # replaced below
# a truncated tar (cut inside file data) and a truncated gzip
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    t, f = ti("big", data=os.urandom(100000))
    tf.addfile(t, f)
raw = buf.getvalue()
open(os.path.join(d, "truncated.tar"), "wb").write(raw[:60000])
open(os.path.join(d, "truncated.tar.gz"), "wb").write(gzip.compress(raw)[:50000])
open(os.path.join(d, "garbage.tar"), "wb").write(os.urandom(4096))
open(os.path.join(d, "empty.tar"), "wb").write(b"")
os.unlink(os.path.join(d, "socket.tar"))
PY

before=$(store_state)
for f in "$T"/corpus/*; do
	n=$(basename "$f")
	case $n in
	dotdot*) re="'\.\.' escapes" ;;
	symlink-parent*) re="parent is a symlink" ;;
	hardlink-dir*) re="hardlink to a directory" ;;
	hardlink*) re="hardlink target" ;;
	root-*) re="root entry is not a directory" ;;
	wh-as-dir*) re="whiteout used as a directory" ;;
	wh-*) re="invalid whiteout" ;;
	dev-*) re="device number out of range" ;;
	uid-*) re="uid or gid out of range" ;;
	truncated*|garbage*|empty*) re="(runcated|not a tar|reading the layer|decompressing)" ;;
	*) re="." ;;
	esac
	check_fails "refused: $n" "$re" img import "$f" "hostile/$(echo "${n%%.*}" | tr -c 'a-z0-9\n' '-')"
	check "nothing left behind: $n" "$before" "$(store_state)"
done
check "nothing written outside" "" "$(ls -A "$OUT")"
check "no name from a refused import" "" "$(img images -q)"

# -------- accepted: absolute names are stripped into the root, a symlink
# replaced by a file is replaced (never written through), whiteouts kept.
python3 - "$T/ok.tar" "$OUT" <<'PY'
import io, sys, tarfile
path, out = sys.argv[1], sys.argv[2]
def add(tf, name, typ=tarfile.REGTYPE, data=b"", **kw):
    t = tarfile.TarInfo(name); t.type = typ
    t.size = len(data) if typ == tarfile.REGTYPE else 0
    t.mode = kw.pop("mode", 0o644)
    for k, v in kw.items(): setattr(t, k, v)
    tf.addfile(t, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
    add(tf, "./", tarfile.DIRTYPE, mode=0o755)
    add(tf, out + "/abs", data=b"abs")
    add(tf, "f", tarfile.SYMTYPE, linkname=out + "/target")
    add(tf, "f", data=b"replaced")
    add(tf, "var/run", tarfile.SYMTYPE, linkname="/run")
    add(tf, ".wh.gone")
    add(tf, "d/", tarfile.DIRTYPE, mode=0o750)
    add(tf, "d/.wh..wh..opq")
    add(tf, "d/kept", data=b"k", mode=0o4755)
    add(tf, "d/.wh.kept")
    add(tf, ".wh..wh.plnk/123", data=b"private")
    add(tf, "hl", tarfile.LNKTYPE, linkname="d/kept")
    add(tf, "fifo", tarfile.FIFOTYPE)
    add(tf, "null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
PY
id=$(img import "$T/ok.tar" ok:1); rc=$?
check "accepted: exit 0" 0 "$rc"
L=$(img inspect --type image ok:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["GraphDriver"]["Data"]["LowerDir"])')
check "absolute name stripped into the layer" "abs" "$(cat "$L$OUT/abs" 2>&1)"
check "symlink replaced, not followed" "replaced|0|" "$(cat "$L/f")|$(ls -A "$OUT" | wc -l)|$(test -L "$L/f" && echo link)"
check "absolute symlink target verbatim" "/run" "$(readlink "$L/var/run")"
check "whiteout kept as an empty 0444 file" "regular empty file 444" "$(stat -c '%F %a' "$L/.wh.gone")"
check "opaque marker kept" "yes" "$(test -f "$L/d/.wh..wh..opq" && echo yes)"
check "whiteout beside what the layer wrote keeps it" "k 4755" "$(cat "$L/d/kept") $(stat -c %a "$L/d/kept")"
check "dir mode applied" "750" "$(stat -c %a "$L/d")"
check "private .wh..wh. names skipped" "no" "$(test -e "$L/.wh..wh.plnk" && echo yes || echo no)"
check "hardlink inside the layer" "2" "$(stat -c %h "$L/hl")"
check "fifo and device" "fifo character special file 1:3" \
	"$(stat -c %F "$L/fifo" | sed 's/named pipe/fifo/') $(stat -c '%F %t:%T' "$L/null")"
check "nothing written outside (accepted)" "" "$(ls -A "$OUT")"
check_true "fsck after the corpus" img fsck
finish
