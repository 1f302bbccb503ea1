#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Normalised content of image layers or of a tree, for comparing what two
engines' stores hold: one line per entry with its path, type, mode, owner,
size, link target, sha256 of data and xattrs, and no times (the runs being
compared happen at different times).

  treeinfo.py layers ARCHIVE.tar N   the last N layers of a docker-archive
                                     (podman save), each as "== layer K"
  treeinfo.py tree DIR               a directory tree (lstat, no following)
"""
import hashlib, io, json, os, stat, sys, tarfile


def layer_lines(tf):
    out = []
    for m in tf.getmembers():
        name = m.name.lstrip("./") or "."
        kind = {tarfile.REGTYPE: "f", tarfile.AREGTYPE: "f", tarfile.DIRTYPE: "d",
                tarfile.SYMTYPE: "l", tarfile.LNKTYPE: "h", tarfile.CHRTYPE: "c",
                tarfile.BLKTYPE: "b", tarfile.FIFOTYPE: "p"}.get(m.type, "?")
        data = ""
        if m.isfile():
            data = hashlib.sha256(tf.extractfile(m).read()).hexdigest()[:16]
        xattrs = ",".join(sorted(f"{k[len('SCHILY.xattr.'):]}" for k in m.pax_headers
                                 if k.startswith("SCHILY.xattr.")))
        dev = f"{m.devmajor}:{m.devminor}" if m.ischr() or m.isblk() else ""
        out.append(f"{name} {kind} {m.mode:o} {m.uid}:{m.gid} {m.size} {m.linkname} {dev} {data} {xattrs}".rstrip())
    return sorted(out)


def layers(archive, n):
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        names = manifest[0]["Layers"][-n:]
        for i, ln in enumerate(names):
            print(f"== layer {i}")
            with tarfile.open(fileobj=io.BytesIO(outer.extractfile(ln).read())) as tf:
                print("\n".join(layer_lines(tf)))


def tree(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            p = os.path.join(d, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            mode = stat.S_IMODE(st.st_mode)
            kind = stat.filemode(st.st_mode)[0]
            extra = ""
            if stat.S_ISLNK(st.st_mode):
                extra = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    extra = hashlib.sha256(f.read()).hexdigest()[:16]
            size = st.st_size if not stat.S_ISDIR(st.st_mode) else ""
            out.append(f"{rel} {kind} {mode:o} {st.st_uid}:{st.st_gid} {size} {extra}".rstrip())
    print("\n".join(sorted(out)))


if __name__ == "__main__":
    if sys.argv[1] == "layers":
        layers(sys.argv[2], int(sys.argv[3]))
    else:
        tree(sys.argv[2])
