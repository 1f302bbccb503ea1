#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Container start time: img run --rm beside runc run of a prepared bundle.

Usage: bench/start-time.py [--img build/tools/img] [--rounds 40] [--pause 0.1]

Makes its own store (the embedded busybox) and a runc bundle of the same
image (img save | umoci unpack) in a temp dir, then runs the commands
interleaved, one round at a time, each after a short pause (the cold start
a user sees), and prints a markdown table: mean, sd, min, median in ms.
Run it as root on a quiet machine; the ratios are what to read.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--img", default=os.path.join(os.path.dirname(__file__), "..", "build", "tools", "img"))
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--pause", type=float, default=0.1)
    a = ap.parse_args()
    img = os.path.abspath(a.img)
    if os.geteuid() != 0:
        sys.exit("start-time: run as root")
    for tool in ("runc", "umoci"):
        if not shutil.which(tool):
            sys.exit(f"start-time: {tool} not found (tools/setup installs it)")
    tmp = tempfile.mkdtemp(prefix="start-time.")
    store = os.path.join(tmp, "store")
    try:
        # the embedded image: `import --busybox` where pull is a real pull
        if subprocess.run([img, "--root", store, "import", "--busybox"],
                          capture_output=True).returncode != 0:
            sh(img, "--root", store, "pull", "busybox", capture_output=True)
        sh(img, "--root", store, "save", "--format", "oci-dir", "-o",
           os.path.join(tmp, "oci"), "busybox")
        bundle = os.path.join(tmp, "bundle")
        sh("umoci", "unpack", "--image", os.path.join(tmp, "oci") + ":latest", bundle,
           capture_output=True)
        cfg = os.path.join(bundle, "config.json")
        with open(cfg) as f:
            spec = json.load(f)
        spec["process"]["args"] = ["true"]
        spec["process"]["terminal"] = False
        with open(cfg, "w") as f:
            json.dump(spec, f)
        runc_root = os.path.join(tmp, "runc")
        cmds = {
            "`img run --rm busybox true` (bridge)":
                f"{img} --root {store} run --rm busybox true",
            "`img run --rm --network none busybox true`":
                f"{img} --root {store} run --rm --network none busybox true",
            "same, `--security-opt seccomp=unconfined`":
                f"{img} --root {store} run --rm --network none --security-opt seccomp=unconfined busybox true",
            "`runc run` of the prepared bundle (no seccomp)":
                f"runc --root {runc_root} run -b {bundle} r$$",
        }
        times = {k: [] for k in cmds}
        for rnd in range(a.warmup + a.rounds):
            for k, c in cmds.items():
                time.sleep(a.pause)
                t0 = time.perf_counter()
                r = subprocess.run(["sh", "-c", c], capture_output=True)
                dt = (time.perf_counter() - t0) * 1000
                if r.returncode != 0:
                    sys.exit(f"start-time: {c}: exit {r.returncode}: {r.stderr.decode().strip()}")
                if rnd >= a.warmup:
                    times[k].append(dt)
        print(f"load average before: {os.getloadavg()[0]:.2f}; {a.rounds} rounds, "
              f"{a.pause} s pause before each run\n")
        print("| command | mean ± σ | min | median |")
        print("|---|---|---|---|")
        for k, v in times.items():
            print(f"| {k} | {statistics.mean(v):.1f} ± {statistics.stdev(v):.1f} ms | "
                  f"{min(v):.1f} | {statistics.median(v):.1f} |")
    finally:
        # nothing may be mounted below tmp when it is removed (a failed
        # run could leave a union mounted): then it is left for a look
        with open("/proc/self/mounts") as f:
            left = [l.split()[1] for l in f if l.split()[1].startswith(tmp + "/")]
        if left:
            print(f"start-time: still mounted, {tmp} left in place: {left}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
