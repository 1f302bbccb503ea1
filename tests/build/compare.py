#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare two built images (img build vs buildah bud, issue 12): the image
configs (Env, Cmd, Entrypoint, WorkingDir, User, Labels, ExposedPorts,
Volumes) and history commands of two OCI layouts, and the flattened
filesystems of two unpacked rootfs dirs (type, mode, owner, size, content or
link target; not mtimes). Prints one line per difference; exit 1 if any.
Usage: compare.py OCI_A REF_A ROOTFS_A OCI_B REF_B ROOTFS_B"""
import hashlib
import json
import os
import re
import stat
import sys

# what a RUN under buildah leaves of its runtime in the image (mountpoints,
# the files it bind-mounts), when the other image does not have them
RUNTIME = {"etc/hostname", "etc/hosts", "etc/resolv.conf", "run", "run/.containerenv"}
FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes"]


def config(layout, ref):
    idx = json.load(open(os.path.join(layout, "index.json")))
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            man = json.load(open(os.path.join(layout, "blobs/sha256", m["digest"][7:])))
            return json.load(open(os.path.join(layout, "blobs/sha256", man["config"]["digest"][7:])))
    sys.exit(f"{layout}: no image named {ref}")


def norm_config(c):
    cc = dict(c.get("config") or {})
    out = {f: cc.get(f) or None for f in FIELDS}
    labels = dict(out["Labels"] or {})
    labels.pop("io.buildah.version", None)
    out["Labels"] = labels or None
    hist = []
    for h in c.get("history", []):
        by = h.get("created_by", "")
        by = re.sub(r"\b(file|dir|multi):[0-9a-f]+ in ", r"\1:HASH in ", by).rstrip()
        hist.append(by)
    out["history"] = hist
    return out


def tree(root):
    ents = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            kind = stat.S_IFMT(st.st_mode)
            what = ""
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what = hashlib.sha256(f.read()).hexdigest()[:16]
            elif stat.S_ISLNK(st.st_mode):
                what = "-> " + os.readlink(p)
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
            ents[rel] = (oct(kind), oct(stat.S_IMODE(st.st_mode)), f"{st.st_uid}:{st.st_gid}", size, what)
    return ents


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    la, ra, fa, lb, rb, fb = sys.argv[1:]
    diffs = []
    ca, cb = norm_config(config(la, ra)), norm_config(config(lb, rb))
    for k in FIELDS + ["history"]:
        if ca[k] != cb[k]:
            diffs.append(f"config {k}: {json.dumps(ca[k])} != {json.dumps(cb[k])}")
    ta, tb = tree(fa), tree(fb)
    for p in sorted(set(ta) | set(tb)):
        a, b = ta.get(p), tb.get(p)
        if a == b:
            continue
        if (a is None or b is None) and p in RUNTIME:
            continue
        diffs.append(f"file {p}: {a} != {b}")
    for d in diffs:
        print(d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
