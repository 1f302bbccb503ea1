#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A hostile registry for the fault tests: a proxy on 127.0.0.1 in front of a
# real docker-registry that, per the mode in MODEFILE (re-read on every
# request), serves it straight ("pass") or breaks it: flip (a byte of every
# blob), truncate (half of every blob answer, resumed ones too, then the
# connection closed), grow (a blob
# longer than its descriptor), truncate-once (the first blob cut, the rest
# served: a Range resume completes), badmanifest (a manifest that does not match
# its digest), badtype (a manifest under the wrong Content-Type), huge (a
# manifest over the 4 MiB cap), schema1, status-NNN (every manifest
# request answered NNN), redirect (blobs sent to a non-http scheme),
# redirect-ok (blobs sent on to the registry itself, as to an object store),
# stall (half a blob, then wait for STALLFLAG to appear, then the
# connection closed), nopatch (chunked uploads refused: every PATCH answered
# 405, as by a registry without them), barrier-N (the first N blob GETs after
# the first one, a pull's config, held until N are in flight, 60 s at most). Uploads (POST, PUT, PATCH)
# are forwarded, their Location sent back through the proxy. Every blob
# request's line says how many were in flight with it (inflight=K).
# Writes its port to PORTFILE; one line per request to LOGFILE.
# Usage: fault-proxy.py UPSTREAM_HOST:PORT MODEFILE PORTFILE LOGFILE STALLFLAG
import http.client, http.server, os, socketserver, sys, threading, time

upstream, modefile, portfile, logfile, stallflag = sys.argv[1:6]
lock = threading.Condition()
inflight = [0]
arrived = [0]


def mode():
    try:
        return open(modefile).read().strip()
    except OSError:
        return 'pass'


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def log(self, what):
        with open(logfile, 'a') as f:
            f.write('%s %s %s\n' % (self.command, self.path, what))

    def send(self, status, headers, body, length=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body) if length is None else length))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def forward(self, body=None):
        c = http.client.HTTPConnection(upstream, timeout=60)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() in ('accept', 'authorization', 'range', 'content-type', 'content-range')}
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        body = r.read()
        me = '127.0.0.1:%d' % self.server.server_address[1]
        keep = [(k, v.replace(upstream, me) if k.lower() == 'location' else v) for k, v in r.getheaders()
                if k.lower() in ('content-type', 'docker-content-digest', 'www-authenticate', 'location',
                                 'content-range', 'range', 'docker-upload-uuid')]
        c.close()
        return r.status, keep, body

    def upload(self):
        n = int(self.headers.get('Content-Length', '0') or '0')
        body = self.rfile.read(n) if n else b''
        m = mode()
        with lock:
            inflight[0] += 1
            k = inflight[0]
        try:
            self.log('%s len=%d range=%s inflight=%d' % (m, n, self.headers.get('Content-Range', '-'), k))
            if m == 'nopatch' and self.command == 'PATCH':
                self.send(405, [('Content-Type', 'application/json')],
                          b'{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}')
                return
            status, hdrs, rbody = self.forward(body)
            self.send(status, hdrs, rbody)
        finally:
            with lock:
                inflight[0] -= 1

    do_POST = do_PUT = do_PATCH = upload

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        is_blob = '/blobs/sha256:' in self.path and self.command == 'GET'
        if not is_blob:
            return self.get()
        m = mode()
        with lock:
            inflight[0] += 1
            arrived[0] += 1
            if m.startswith('barrier-') and 1 < arrived[0] <= int(m[8:]) + 1:
                lock.wait_for(lambda: arrived[0] >= int(m[8:]) + 1, timeout=60)
                lock.notify_all()
            k = inflight[0]
        try:
            self.get(k)
        finally:
            with lock:
                inflight[0] -= 1

    def get(self, k=0):
        m = mode()
        is_blob = '/blobs/sha256:' in self.path
        is_manifest = '/manifests/' in self.path
        self.log('%s range=%s%s' % (m, self.headers.get('Range', '-'), ' inflight=%d' % k if k else ''))
        if m.startswith('status-') and is_manifest:
            code = int(m[7:])
            body = b''
            if code == 403:
                body = b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'
            self.send(code, [('Content-Type', 'application/json')], body)
            return
        if m == 'redirect' and is_blob:
            self.send(302, [('Location', 'ftp://127.0.0.1:1/blob')], b'')
            return
        if m == 'redirect-ok' and is_blob and self.command == 'GET':
            # an object store elsewhere: the registry itself, straight
            self.send(307, [('Location', 'http://%s%s' % (upstream, self.path))], b'')
            return
        status, hdrs, body = self.forward()
        if status == 200 and is_manifest and self.command == 'GET':
            if m == 'badmanifest':
                body = body.replace(b'"schemaVersion"', b' "schemaVersion"', 1)
            elif m == 'badtype':
                hdrs = [(k, 'application/vnd.oci.image.index.v1+json' if k.lower() == 'content-type' else v)
                        for k, v in hdrs]
            elif m == 'huge':
                body = body[:-1] + b',"x":"' + b'a' * (5 << 20) + b'"}'
                hdrs = [(k, v) for k, v in hdrs if k.lower() != 'docker-content-digest']
            elif m == 'schema1':
                hdrs = [(k, 'application/vnd.docker.distribution.manifest.v1+prettyjws'
                         if k.lower() == 'content-type' else v) for k, v in hdrs]
        if status in (200, 206) and is_blob and self.command == 'GET' and len(body) > 1000:
            if m == 'flip':
                i = len(body) // 2
                body = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
            elif m == 'grow':
                body = body + b'\0' * 4096
            elif m == 'truncate-once' and not os.path.exists(modefile + '.cut'):
                open(modefile + '.cut', 'w').close()
                self.send(status, hdrs, body[:len(body) // 2], length=len(body))
                self.wfile.flush()
                self.close_connection = True
                return
            elif m in ('truncate', 'stall'):
                self.send(status, hdrs, body[:len(body) // 2], length=len(body))
                self.wfile.flush()
                if m == 'stall':
                    self.log('stalled')
                    for _ in range(6000):
                        if os.path.exists(stallflag):
                            break
                        time.sleep(0.05)
                self.close_connection = True
                return
        self.send(status, hdrs, body)


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = S(('127.0.0.1', 0), H)
with open(portfile + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + '.tmp', portfile)
srv.serve_forever()
