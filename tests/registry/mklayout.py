#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write a synthetic OCI image layout for the registry tests and benchmarks:
# LAYERS gzip layers of about MB megabytes of files in all (half random,
# half text, so gzip has work), deterministic for a given SEED, with a
# config whose diff_ids match. With INDEX set, index.json names an image
# index instead: the image as linux/amd64 plus the same layers under a
# linux/s390x config. With TARS=A.tar[:B.tar...] the layers are those tars
# (a real rootfs, say), gzip'd the same way, and LAYERS, MB are ignored.
# Usage: [INDEX=1] [TARS=...] mklayout.py DIR LAYERS MB [SEED]
import gzip, hashlib, io, json, os, random, sys, tarfile

out, nlayers, mb = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rnd = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
os.makedirs(out + '/blobs/sha256', exist_ok=True)


def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open('%s/blobs/sha256/%s' % (out, d), 'wb') as f:
        f.write(data)
    return 'sha256:' + d


def add_layer(tar):
    diff_ids.append('sha256:' + hashlib.sha256(tar).hexdigest())
    gz = gzip.compress(tar, compresslevel=6, mtime=0)
    layers.append({'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip',
                   'digest': put(gz), 'size': len(gz)})


per = int(mb * 1e6 / nlayers)
layers, diff_ids = [], []
words = b'the quick brown fox jumps over the lazy dog registry layer blob '
tars = [t for t in os.environ.get('TARS', '').split(':') if t]
for n in range(len(tars) if tars else nlayers):
    if tars:
        with open(tars[n], 'rb') as f:
            add_layer(f.read())
        continue
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo('layer%d' % n)
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1700000000
        t.addfile(d)
        left, i = per, 0
        while left > 0:
            size = min(left, rnd.choice([4096, 65536, 1 << 20]))
            if i % 2:
                data = rnd.randbytes(size)
            else:
                data = (words * (size // len(words) + 1))[:size]
            ti = tarfile.TarInfo('layer%d/f%05d' % (n, i))
            ti.size, ti.mode, ti.mtime = size, 0o644, 1700000000
            t.addfile(ti, io.BytesIO(data))
            left -= size
            i += 1
    add_layer(raw.getvalue())
def image(arch):
    config = json.dumps({'architecture': arch, 'os': 'linux',
                         'created': '2026-01-01T00:00:00Z',
                         'config': {'Cmd': ['sh'], 'Env': ['PATH=/usr/bin:/bin']},
                         'rootfs': {'type': 'layers', 'diff_ids': diff_ids},
                         'history': [{'created_by': 'mklayout.py'} for _ in layers]}).encode()
    manifest = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                           'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                                      'digest': put(config), 'size': len(config)},
                           'layers': layers}).encode()
    return {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': put(manifest),
            'size': len(manifest), 'platform': {'os': 'linux', 'architecture': arch}}


top = image('amd64')
if os.environ.get('INDEX'):
    idx = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
                      'manifests': [top, image('s390x')]}).encode()
    top = {'mediaType': 'application/vnd.oci.image.index.v1+json', 'digest': put(idx), 'size': len(idx)}
else:
    del top['platform']
with open(out + '/oci-layout', 'w') as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(out + '/index.json', 'w') as f:
    json.dump({'schemaVersion': 2, 'manifests': [top]}, f)
