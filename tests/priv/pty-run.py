#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# pty-run.py CMD...: run CMD on a new pty (33x101) like a terminal would;
# once its output shows "ready", resize to 44x120 (SIGWINCH to CMD).
# Prints the output (CR removed) and "rc=N". Used by test-run-io.sh.
import fcntl, os, pty, select, struct, sys, termios, time

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
out, resized, t0 = b"", False, time.time()
while time.time() - t0 < 30:
    if not resized and b"ready" in out:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 44, 120, 0, 0))
        resized = True
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("rc=%d" % os.waitstatus_to_exitcode(st))
