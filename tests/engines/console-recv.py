#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# console-recv.py SOCK: an engine's console socket (runc's protocol):
# listen on SOCK, take the pty master one connection sends as SCM_RIGHTS,
# then copy what the container writes on its terminal to stdout until it
# hangs up. Prints "console: no fd" if none came.
import os
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
s.settimeout(60)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 4096, 1)
if not fds:
    print("console: no fd")
    sys.exit(1)
while True:
    try:
        b = os.read(fds[0], 4096)
    except OSError:  # EIO: the last slave closed
        break
    if not b:
        break
    sys.stdout.write(b.decode(errors="replace").replace("\r", ""))
sys.stdout.flush()
