#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Image archives for the img load tests, built from scratch (no engine):
#   mkimage.py txn-oci DIR        OCI layout: a good image named keep:1, then a
#                                 second whose layer fails its diff_id
#   mkimage.py txn-docker FILE    the same as a docker-archive (two entries)
#   mkimage.py race DIR           good.tar (one shared layer) and bad.tar (the
#                                 shared layer, then a layer failing fast)
#   mkimage.py nest DIR DEPTH KIND  OCI layout whose index entries nest DEPTH
#                                 deep; KIND "typed" (descriptors say index) or
#                                 "lying" (descriptors say manifest)
#   mkimage.py mediatype DIR CASE  OCI layouts breaking the media type rules
#   mkimage.py typeflag FILE FLAG  a layer tar with one entry of typeflag FLAG
#   mkimage.py gzip DIR CASE      OCI layout of one gzip layer (~1.5 MB of tar)
#                                 whose gzip stream is CASE (see gzip_case)
import hashlib, io, json, os, random, struct, sys, tarfile, zlib

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_LAYER_GZ = MT_LAYER + "+gzip"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer_tar(files):
    """files: {name: bytes}; a deterministic plain tar."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for n in sorted(files):
            t = tarfile.TarInfo(n)
            t.size = len(files[n])
            t.mode = 0o644
            tf.addfile(t, io.BytesIO(files[n]))
    return buf.getvalue()


def deflate_raw(b):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(b) + c.flush()


def gzip_member(b, extra=b"", name=b"", comment=b"", hcrc=False):
    """One RFC 1952 member, with the optional header fields asked for."""
    flg = (4 if extra else 0) | (8 if name else 0) | (16 if comment else 0) | (2 if hcrc else 0)
    h = b"\x1f\x8b\x08" + bytes([flg]) + struct.pack("<I", 1700000000) + b"\x00\x03"
    if extra:
        h += struct.pack("<H", len(extra)) + extra
    if name:
        h += name + b"\x00"
    if comment:
        h += comment + b"\x00"
    if hcrc:
        h += struct.pack("<H", zlib.crc32(h) & 0xffff)
    return h + deflate_raw(b) + struct.pack("<II", zlib.crc32(b), len(b) & 0xffffffff)


def gzip_case(tar, case):
    """The gzip stream of tar for a test CASE: good ones first."""
    one = gzip_member(tar)
    if case == "plain":
        return one
    if case == "members":  # three members, cut inside tar headers and data
        a, b = 1001, len(tar) // 2 + 7
        return gzip_member(tar[:a]) + gzip_member(b"") + gzip_member(tar[a:b]) + gzip_member(tar[b:])
    if case == "header":  # FEXTRA, FNAME, FCOMMENT and FHCRC
        return gzip_member(tar, extra=b"AB\x02\x00xy", name=b"layer.tar", comment=b"a comment", hcrc=True)
    if case == "garbage":
        return one + b"trailing garbage"
    if case == "zeros":
        return one + bytes(4096)
    if case == "bad-crc":
        return one[:-8] + bytes([one[-8] ^ 1]) + one[-7:]
    if case == "bad-size":
        return one[:-4] + bytes([one[-4] ^ 1]) + one[-3:]
    if case == "truncated":
        return one[:len(one) // 2]
    if case == "no-trailer":
        return one[:-8]
    if case == "corrupt":  # a byte of the deflate data flipped
        b = bytearray(one)
        b[len(b) // 3] ^= 0x55
        return bytes(b)
    if case == "bad-header-crc":
        b = bytearray(gzip_member(tar, name=b"x", hcrc=True))
        b[12] ^= 1
        return bytes(b)
    raise SystemExit("unknown gzip case " + case)


def config(diff_ids, tag):
    return json.dumps({"architecture": "amd64", "os": "linux",
                       "created": "2020-01-01T00:00:00Z",
                       "config": {"Cmd": ["sh"], "Labels": {"t": tag}},
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


class Layout:
    def __init__(self):
        self.blobs = {}
        self.index = []

    def blob(self, b):
        self.blobs[sha(b)] = b
        return sha(b)

    def desc(self, mt, b, **extra):
        d = {"mediaType": mt, "digest": self.blob(b), "size": len(b)}
        d.update(extra)
        return d

    def image(self, layers, tag, bad_diffid=False, blobs=None, mt=MT_LAYER):
        """layers: list of tar bytes (blobs: what is stored for each, of
        media type mt); returns the manifest descriptor."""
        dids = [sha(l) for l in layers]
        if bad_diffid:
            dids[-1] = sha(b"not this layer")
        c = config(dids, tag)
        m = json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                        "config": self.desc(MT_CONFIG, c),
                        "layers": [self.desc(mt, l) for l in (blobs or layers)]}).encode()
        return self.desc(MT_MANIFEST, m), c, dids

    def write_dir(self, d, index_doc=None, layout=b'{"imageLayoutVersion":"1.0.0"}'):
        os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)
        for k, v in self.blobs.items():
            with open(os.path.join(d, "blobs", "sha256", k[7:]), "wb") as f:
                f.write(v)
        if layout is not None:
            with open(os.path.join(d, "oci-layout"), "wb") as f:
                f.write(layout)
        doc = index_doc or {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": self.index}
        with open(os.path.join(d, "index.json"), "w") as f:
            json.dump(doc, f)


def named(desc, name):
    d = dict(desc)
    d["annotations"] = {"io.containerd.image.name": name}
    return d


def docker_archive(path, images):
    """images: list of (layers, tag list, bad_diffid)."""
    files, man = {}, []
    for layers, tags, bad in images:
        dids = [sha(l) for l in layers]
        if bad:
            dids[-1] = sha(b"not this layer")
        c = config(dids, ",".join(tags))
        files["blobs/sha256/" + sha(c)[7:]] = c
        lp = []
        for l in layers:
            p = "blobs/sha256/" + sha(l)[7:]
            files[p] = l
            lp.append(p)
        man.append({"Config": "blobs/sha256/" + sha(c)[7:], "RepoTags": tags, "Layers": lp})
    files["manifest.json"] = json.dumps(man).encode()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        for n, data in files.items():
            t = tarfile.TarInfo(n)
            t.size = len(data)
            tf.addfile(t, io.BytesIO(data))


def main():
    mode, out = sys.argv[1], sys.argv[2]
    good = layer_tar({"good": b"good layer\n"})
    bad = layer_tar({"bad": b"bad layer\n"})
    if mode == "txn-oci":
        L = Layout()
        d1, _, _ = L.image([good], "good")
        d2, _, _ = L.image([bad], "bad", bad_diffid=True)
        L.index = [named(d1, "docker.io/library/keep:1"), named(d2, "docker.io/library/bad:1")]
        L.write_dir(out)
    elif mode == "txn-docker":
        docker_archive(out, [([good], ["keep:1"], False), ([bad], ["bad:1"], True)])
    elif mode == "race":
        shared = layer_tar({"shared/%03d" % i: os.urandom(16384) for i in range(128)})
        os.makedirs(out, exist_ok=True)
        docker_archive(os.path.join(out, "good.tar"), [([shared], ["race:good"], False)])
        docker_archive(os.path.join(out, "bad.tar"), [([shared, bad], ["race:bad"], True)])
    elif mode == "nest":
        depth, kind = int(sys.argv[3]), sys.argv[4]
        L = Layout()
        d, _, _ = L.image([good], "nest")
        for _ in range(depth):
            idx = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX,
                              "manifests": [d]}).encode()
            d = L.desc(MT_INDEX if kind == "typed" else MT_MANIFEST, idx)
        L.index = [named(d, "docker.io/library/nest:%d" % depth)]
        L.write_dir(out)
    elif mode == "mediatype":
        case = sys.argv[3]
        L = Layout()
        d, c, dids = L.image([good], "mt")
        layout = b'{"imageLayoutVersion":"1.0.0"}'
        if case == "desc-says-index":
            d = dict(d, mediaType=MT_INDEX)
        elif case == "desc-says-config":
            d = dict(d, mediaType=MT_CONFIG)
        elif case == "both":
            # CVE-2021-41190: one blob that is a manifest and an index
            m = json.loads(L.blobs[d["digest"]])
            m["manifests"] = [dict(d)]
            del m["mediaType"]
            b = json.dumps(m).encode()
            d = L.desc(MT_MANIFEST, b)
        elif case == "no-layout":
            layout = None
        elif case == "layout-2":
            layout = b'{"imageLayoutVersion":"2.0.0"}'
        elif case == "layout-none":
            layout = b'{}'
        elif case != "ok":
            raise SystemExit("unknown case " + case)
        L.index = [named(d, "docker.io/library/mt:" + case)]
        L.write_dir(out, layout=layout)
    elif mode == "typeflag":
        flag = sys.argv[3].encode()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
            t = tarfile.TarInfo("odd")
            t.size = 4
            tf.addfile(t, io.BytesIO(b"data"))
        b = bytearray(buf.getvalue())
        b[156:157] = flag
        b[148:156] = b" " * 8
        chk = sum(b[0:512])
        b[148:156] = b"%06o\0 " % chk
        with open(out, "wb") as f:
            f.write(bytes(b))
    elif mode == "gzip":
        case = sys.argv[3]
        rnd = random.Random(7)
        files = {"gz/f%02d" % i: (rnd.randbytes(40000) if i % 2 else b"layer text %d\n" % i * 4000)
                 for i in range(40)}
        tar = layer_tar(files)
        L = Layout()
        d, _, _ = L.image([tar], "gz", blobs=[gzip_case(tar, case)], mt=MT_LAYER_GZ)
        L.index = [named(d, "docker.io/library/gz:" + case)]
        L.write_dir(out)
    else:
        raise SystemExit("unknown mode " + mode)


main()
