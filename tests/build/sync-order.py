#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Reads `strace -f -y` output of an img build (syscalls syncfs, fsync,
# openat, linkat, renameat, renameat2) and checks the store's publish order:
# every name given in STORE/blobs/sha256, STORE/layers, STORE/layer-manifests
# or STORE/index.json comes after a sync (syncfs or fsync) that follows the
# last file created in the store. Prints the syncfs and fsync counts and one
# line per violation; exit 1 on any. With "names" (img pull), index.json's
# rename must also come after a sync that follows the last name given in
# the other three: the name never points at a name a crash could lose.
# Usage: sync-order.py STORE TRACE [names]
import re, sys

store, trace = sys.argv[1], sys.argv[2]
strict = sys.argv[3:4] == ['names']
named_since_sync = None  # a name given in blobs/layers/layer-manifests since the last sync
pub_dirs = {store + '/blobs/sha256', store + '/layers', store + '/layer-manifests'}
call = re.compile(r'^\d+ +(\w+)\((.*)\) += (-?\d+)(<[^>]*>)?')
dirfd = re.compile(r'\d+<([^>]*)>')
created_since_sync = None  # a file created in the store after the last sync
counts = {'syncfs': 0, 'fsync': 0}
bad = []
# strace -f splits a call another process interrupted: "PID name(args
# <unfinished ...>" then "PID <... name resumed>rest) = ret": joined here
unfinished = re.compile(r'^(\d+) +(\w+\(.*) <unfinished \.\.\.>$')
resumed = re.compile(r'^(\d+) +<\.\.\. \w+ resumed>(.*)$')
pending = {}
def calls():
    for line in open(trace):
        line = line.rstrip('\n')
        u = unfinished.match(line)
        if u:
            pending[u.group(1)] = u.group(2)
            continue
        r = resumed.match(line)
        if r and r.group(1) in pending:
            line = r.group(1) + ' ' + pending.pop(r.group(1)) + r.group(2)
        yield line
for line in calls():
    m = call.match(line)
    if not m:
        continue
    name, args, ret, retpath = m.group(1), m.group(2), int(m.group(3)), m.group(4)
    if name in counts:
        counts[name] += 1
        created_since_sync = named_since_sync = None
    elif name == 'openat' and 'O_CREAT' in args and ret >= 0 and retpath:
        p = retpath[1:-1]
        if p.startswith(store + '/'):
            created_since_sync = p
    elif name in ('linkat', 'renameat', 'renameat2'):
        fds = dirfd.findall(args)
        names = re.findall(r'"([^"]*)"', args)
        if len(fds) < 2 or len(names) < 2:
            continue
        to_dir, to_name = fds[1], names[1]
        if to_dir in pub_dirs or (to_dir == store and to_name == 'index.json'):
            if created_since_sync:
                bad.append('%s %s/%s before %s was synced' % (name, to_dir, to_name, created_since_sync))
            if strict and to_dir == store and named_since_sync:
                bad.append('%s %s/%s before the name %s was synced' % (name, to_dir, to_name, named_since_sync))
            if to_dir in pub_dirs and ret >= 0:
                named_since_sync = to_dir + '/' + to_name
print('syncfs %d fsync %d' % (counts['syncfs'], counts['fsync']))
for b in bad:
    print('unsynced publish: ' + b)
sys.exit(1 if bad else 0)
