#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A DNS client and a stand-in upstream server for test-run-dns.sh.
#   dns-tool.py serve ADDR N READYFILE: on ADDR:53, UDP and TCP, answer any
#     A question with N addresses 10.99.0.1.. (over UDP, when that is more
#     than 512 bytes, the header and question with TC set, as a real server
#     does); writes READYFILE once both sockets listen; runs until killed.
#   dns-tool.py ask tcp|udp SERVER NAME...: ask SERVER:53 for each NAME's A
#     records (over TCP all questions first on one connection, then the
#     answers, in order); one line per name: "rcode=N tc=0|1 ADDR ADDR...".
import socket, struct, sys, threading

def question(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for part in name.split("."):
        q += bytes([len(part)]) + part.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)

def skip_name(b, off):
    while True:
        l = b[off]
        if l & 0xC0 == 0xC0:
            return off + 2
        off += 1
        if l == 0:
            return off
        off += l

def parse(b):
    _, flags, qd, an, _, _ = struct.unpack(">HHHHHH", b[:12])
    off = 12
    for _ in range(qd):
        off = skip_name(b, off) + 4
    addrs = []
    for _ in range(an):
        off = skip_name(b, off)
        typ, _, _, rdl = struct.unpack(">HHIH", b[off:off + 10])
        off += 10
        if typ == 1:
            addrs.append(socket.inet_ntoa(b[off:off + rdl]))
        off += rdl
    return "rcode=%d tc=%d %s" % (flags & 0xF, (flags >> 9) & 1, " ".join(addrs))

def answer(q, n, udp):
    qid, flags = struct.unpack(">HH", q[:4])
    qend = skip_name(q, 12) + 4
    hdr = struct.pack(">HHHHHH", qid, 0x8180 | (flags & 0x0100), 1, n, 0, 0)
    rrs = b"".join(struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([10, 99, 0, i + 1]) for i in range(n))
    out = hdr + q[12:qend] + rrs
    if udp and len(out) > 512:  # truncated: no answers, TC
        out = struct.pack(">HHHHHH", qid, 0x8380 | (flags & 0x0100), 1, 0, 0, 0) + q[12:qend]
    return out

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

def serve(addr, n, ready):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, 53))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, 53))
    t.listen(8)

    def tcp_loop():
        while True:
            c, _ = t.accept()
            try:
                while True:
                    l, = struct.unpack(">H", recv_exact(c, 2))
                    a = answer(recv_exact(c, l), n, False)
                    c.sendall(struct.pack(">H", len(a)) + a)
            except (EOFError, OSError):
                c.close()
    threading.Thread(target=tcp_loop, daemon=True).start()
    open(ready, "w").close()
    while True:
        q, peer = u.recvfrom(1500)
        u.sendto(answer(q, n, True), peer)

def ask(proto, server, names):
    if proto == "udp":
        for i, name in enumerate(names):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(10)
            s.sendto(question(name, 100 + i), (server, 53))
            print(parse(s.recv(65535)))
        return
    s = socket.create_connection((server, 53), timeout=10)
    for i, name in enumerate(names):
        q = question(name, 100 + i)
        s.sendall(struct.pack(">H", len(q)) + q)
    for _ in names:
        l, = struct.unpack(">H", recv_exact(s, 2))
        print(parse(recv_exact(s, l)))

if sys.argv[1] == "serve":
    serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
else:
    try:
        ask(sys.argv[2], sys.argv[3], sys.argv[4:])
    except (OSError, EOFError) as e:
        print("error: %s" % e)
