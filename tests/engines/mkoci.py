#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# mkoci.py ROOTFS_TAR NAME OUT.tar: a one-layer OCI image archive (an OCI
# layout in a tar: oci-layout, index.json, blobs/sha256/*) of a rootfs
# tarball, named NAME in index.json (both the OCI ref-name annotation and
# containerd's io.containerd.image.name), for `ctr images import`.
import hashlib
import io
import json
import sys
import tarfile


def blob(tf, data):
    d = hashlib.sha256(data).hexdigest()
    ti = tarfile.TarInfo("blobs/sha256/" + d)
    ti.size = len(data)
    ti.mtime = 0
    tf.addfile(ti, io.BytesIO(data))
    return "sha256:" + d, len(data)


def add(tf, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 0
    tf.addfile(ti, io.BytesIO(data))


def main():
    layer_path, name, out = sys.argv[1:4]
    layer = open(layer_path, "rb").read()
    diff = "sha256:" + hashlib.sha256(layer).hexdigest()
    with tarfile.open(out, "w") as tf:
        ld, ls = blob(tf, layer)
        cfg = json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                       "Cmd": ["sh"], "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": [diff]},
        }, sort_keys=True).encode()
        cd, cs = blob(tf, cfg)
        man = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}],
        }, sort_keys=True).encode()
        md, ms = blob(tf, man)
        add(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add(tf, "index.json", json.dumps({
            "schemaVersion": 2,
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
                           "size": ms, "annotations": {"io.containerd.image.name": name,
                                                       "org.opencontainers.image.ref.name": name}}],
        }).encode())


main()
