#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# pty-run.py CMD...: run CMD on a new pty (33x101) like a terminal would;
# once its output shows "ready", resize to 44x120 (SIGWINCH to CMD).
# pty-run.py --detach KEYS CMD...: once the output shows "ready" and img
# made the terminal raw (typed before, ^Q would be the line discipline's,
# IXON), type "hello-1" + CR, then once that came back the bytes of KEYS (a
# Python bytes literal body, e.g. '\x10\x11').
# pty-run.py --detach KEYS --send LINE [--expect TEXT] CMD...: the same
# with LINE typed (no "ready" awaited: img attach shows only new output)
# and TEXT (default LINE) awaited before KEYS; KEYS '' types nothing more
# (CMD is to exit by itself, e.g. LINE "exit 7").
# Prints the output (CR removed) and "rc=N" (rc=timeout when CMD did not
# exit within 30 s). Used by test-run-io.sh and test-run-detach.sh.
import ast, fcntl, os, pty, select, struct, sys, termios, time

keys, send, expect, ready = None, b"hello-1", None, b"ready"
if sys.argv[1] == "--detach":
    keys = ast.literal_eval("b'" + sys.argv[2] + "'")
    del sys.argv[1:3]
    if sys.argv[1] == "--send":
        send, ready = sys.argv[2].encode(), b""
        del sys.argv[1:3]
    if sys.argv[1] == "--expect":
        expect = sys.argv[2].encode()
        del sys.argv[1:3]
expect = send if expect is None else expect
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
out, step, t0, st = b"", 0, time.time(), None
while time.time() - t0 < 30:
    if keys is None and step == 0 and b"ready" in out:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 44, 120, 0, 0))
        step = 1
    elif keys is not None and step == 0 and ready in out and not termios.tcgetattr(fd)[3] & termios.ICANON:
        os.write(fd, send + b"\r")
        step = 1
    elif keys is not None and step == 1 and expect in out:
        os.write(fd, keys)
        step = 2
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
    elif keys is not None:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            st = status
            break
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
    print("rc=timeout")
    sys.exit(0)
if st is None:
    _, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("rc=%d" % os.waitstatus_to_exitcode(st))
