#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A distribution token server for the registry tests: GET /token?scope=&service=
# answers a JWT (RS256, the signing cert in x5c) for the registry's
# `auth: token`. With Basic credentials matching USER:PASS: every action
# asked for; wrong credentials: 401; anonymous: pull on repositories under
# pub/ only. Listens on 127.0.0.1, port 0; writes the port to PORTFILE.
# Usage: token-server.py KEY CERT ISSUER USER:PASS PORTFILE LOGFILE
import base64, http.server, json, sys, time, urllib.parse, uuid
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

key_path, cert_path, issuer, userpass, portfile, logfile = sys.argv[1:7]
key = serialization.load_pem_private_key(open(key_path, 'rb').read(), None)
cert = x509.load_pem_x509_certificate(open(cert_path, 'rb').read())
der = cert.public_bytes(serialization.Encoding.DER)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


def token(sub, service, access):
    hdr = {'typ': 'JWT', 'alg': 'RS256', 'x5c': [base64.b64encode(der).decode()]}
    now = int(time.time())
    claims = {'iss': issuer, 'sub': sub, 'aud': service, 'exp': now + 600,
              'nbf': now - 60, 'iat': now, 'jti': uuid.uuid4().hex, 'access': access}
    signing = b64u(json.dumps(hdr).encode()) + '.' + b64u(json.dumps(claims).encode())
    sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing + '.' + b64u(sig)


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        with open(logfile, 'a') as f:
            f.write('%s auth=%s\n' % (self.path, 'basic' if self.headers.get('Authorization') else 'none'))

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path != '/token':
            self.send_error(404)
            return
        sub = ''
        a = self.headers.get('Authorization', '')
        if a:
            if not a.startswith('Basic ') or base64.b64decode(a[6:]).decode() != userpass:
                self.send_response(401)
                self.send_header('Content-Type', 'application/json')
                self.end_headers()
                self.wfile.write(b'{"errors":[{"code":"UNAUTHORIZED","message":"incorrect username or password"}]}')
                return
            sub = userpass.split(':')[0]
        access = []
        for s in q.get('scope', []):
            for one in s.split(' '):
                parts = one.split(':')
                if len(parts) != 3 or parts[0] != 'repository':
                    continue
                acts = parts[2].split(',')
                if not sub:
                    acts = [x for x in acts if x == 'pull'] if parts[1].startswith('pub/') else []
                access.append({'type': 'repository', 'name': parts[1], 'actions': acts})
        body = json.dumps({'token': token(sub, q.get('service', [''])[0], access)}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = http.server.HTTPServer(('127.0.0.1', 0), H)
with open(portfile + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + '.tmp', portfile)
srv.serve_forever()
