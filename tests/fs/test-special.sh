#!/bin/bash
# SPDX-License-Identifier: MIT
# Symlinks, FIFOs, sockets and device nodes: created through the mount, seen
# from lower branches, and copied up with their type, target and rdev.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

build_std_layers
ln -s c_only "$C/lsym"
ln -s /nonexistent/target "$C/ldangling"
mkfifo -m 0640 "$C/lfifo"
mknod -m 0600 "$C/lchr" c 1 3
mknod -m 0600 "$C/lblk" b 7 0
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$C/lsock" 2>/dev/null ||
	"$FSOP" mknod "$C/lsock" s >/dev/null
ro_snapshot "$B" "$C"
ufs_mount "$DIRS" "$M" || bail "mount failed"

typ() { stat -c %F "$1" 2>&1; }

# symlinks
check_errno "symlink create" OK symlink "d/c_file" "$M/sl"
check "  readlink" d/c_file "$(readlink "$M/sl" 2>&1)"
check "  type" "symbolic link" "$(typ "$M/sl")"
check_content "  follows into the union" "$M/sl" c_file
check "  in rw branch" d/c_file "$(readlink "$A/sl" 2>&1)"
check "  st_size is the target length" 8 "$(stat -c %s "$M/sl")"
check_errno "dangling symlink create" OK symlink "/no/where" "$M/sl2"
check "  readlink" /no/where "$(readlink "$M/sl2" 2>&1)"
long=$(printf 'x%.0s' $(seq 1 1000))
check_errno "1000-byte symlink target" OK symlink "$long" "$M/sl3"
check "  readlink" "$long" "$(readlink "$M/sl3" 2>&1)"
check "lower symlink readlink" c_only "$(readlink "$M/lsym" 2>&1)"
check_content "lower symlink follows" "$M/lsym" c_only
check "lower dangling symlink" /nonexistent/target "$(readlink "$M/ldangling" 2>&1)"
check_errno "symlink over existing lower name" EEXIST symlink x "$M/c_only"
check_true "chown -h lower symlink" chown -h 7:7 "$M/lsym"
check "  copied up as symlink" "c_only 7:7" "$(readlink "$A/lsym" 2>&1) $(stat -c %u:%g "$A/lsym" 2>&1)"
check_errno "open O_NOFOLLOW on symlink: ELOOP" ELOOP open "$M/sl" rn
echo through >"$M/sl2x" 2>/dev/null; ln -s sl2x "$M/sl4"; echo via >"$M/sl4"
check_content "write through a symlink" "$M/sl2x" via

# FIFOs
check_errno "mkfifo" OK mknod "$M/ff" p
check "  type" fifo "$(typ "$M/ff")"
check "  in rw branch" fifo "$(typ "$A/ff")"
(echo hello-fifo >"$M/ff") &
_PIDS+=($!)
check "  data passes through" hello-fifo "$(timeout 10 cat "$M/ff" 2>&1)"
check "lower fifo type" fifo "$(typ "$M/lfifo")"
check_true "chmod lower fifo" chmod 0604 "$M/lfifo"
check "  copied up as fifo" "fifo 604" "$(typ "$A/lfifo") $(stat -c %a "$A/lfifo" 2>&1)"

# sockets
check "unix socket bind/connect in the mount" OK "$("$FSOP" socket "$M/sock" 2>&1)"
check "  type" socket "$(typ "$M/sock")"
check "  in rw branch" socket "$(typ "$A/sock")"
check "lower socket type" socket "$(typ "$M/lsock")"
check_errno "mknod S_IFSOCK" OK mknod "$M/sock2" s
check "  type" socket "$(typ "$M/sock2")"

# device nodes
check_errno "mknod char 1:3" OK mknod "$M/cnull" c 1 3
check "  type and rdev" "character special file 1:3" "$(stat -c '%F %Hr:%Lr' "$M/cnull" 2>&1)"
check "  in rw branch" "character special file 1:3" "$(stat -c '%F %Hr:%Lr' "$A/cnull" 2>&1)"
check_errno "mknod block 7:0" OK mknod "$M/bloop" b 7 0
check "  type and rdev" "block special file 7:0" "$(stat -c '%F %Hr:%Lr' "$M/bloop" 2>&1)"
check "lower char dev" "character special file 1:3" "$(stat -c '%F %Hr:%Lr' "$M/lchr" 2>&1)"
check "lower block dev" "block special file 7:0" "$(stat -c '%F %Hr:%Lr' "$M/lblk" 2>&1)"
check_true "chown lower char dev" chown 5:5 "$M/lchr"
check "  copied up with rdev" "character special file 1:3 5:5" "$(stat -c '%F %Hr:%Lr %u:%g' "$A/lchr" 2>&1)"
check_errno "mknod regular file" OK mknod "$M/regnod" f
check "  type" "regular empty file" "$(typ "$M/regnod")"
check_errno "mknod over existing lower name" EEXIST mknod "$M/b_only" p

ufs_remount "$M" || bail "remount failed"
check "after remount: types" "symbolic link fifo socket character special file" \
	"$(typ "$M/sl") $(typ "$M/ff") $(typ "$M/sock") $(typ "$M/cnull")"
finish
