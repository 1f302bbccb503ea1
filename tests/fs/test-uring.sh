#!/bin/bash
# SPDX-License-Identifier: MIT
# FUSE over io_uring: with the kernel's enable_uring on, a root mount serves
# its requests from per-CPU ring entries (--status: the transport, requests
# per queue), with passthrough and without; with it off or -o noio_uring, a
# clear reason and a working /dev/fuse; concurrent requests on
# every queue; unmount leaves no daemon thread behind. The module parameter
# is saved and restored (tests/lib/fslib.sh).
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
[ -e "$URING_PARAM" ] || skip_all "this kernel has no FUSE over io_uring ($URING_PARAM)"
uring_on || skip_all "cannot turn on $URING_PARAM"

build_std_layers
transport() { # (the status socket appears just after the mount)
	local i t
	for ((i = 0; i < 50; i++)); do
		t=$("$UFSMOUNT" --status "$M" 2>/dev/null | awk '$1 == "transport" { print $2 }')
		[ -n "$t" ] && break
		sleep 0.1
	done
	echo "$t"
}
wait_ring() { # the entries register after INIT, in the daemon's threads
	local i
	for ((i = 0; i < 100; i++)); do [ "$(transport)" = io_uring ] && return 0; sleep 0.1; done
	return 1
}
queues_served() { # the sum of the uring_qN lines, and how many queues served any
	"$UFSMOUNT" --status "$M" | awk '$1 ~ /^uring_q/ { s += $2; if ($2 > 0) n++ } END { print s + 0, n + 0 }'
}
work() { # a little of everything, checked
	local d=$1
	mkdir -p "$d/sub" && echo data >"$d/sub/f" && ln -s f "$d/sub/l" && mv "$d/sub/f" "$d/sub/g" &&
		[ "$(cat "$d/sub/g")" = data ] && [ "$(readlink "$d/sub/l")" = f ] && chmod 600 "$d/sub/g" &&
		ls -l "$d/sub" >/dev/null && rm -r "$d/sub"
}

for m in passthrough nopassthrough; do
	ufs_mount "$DIRS,$m" "$M" || bail "mount ($m) failed"
	ls "$M" >/dev/null; wait_ring
	check "$m: transport io_uring" io_uring "$(transport)"
	check_re "  with a line per queue" "uring_q0" "$("$UFSMOUNT" --status "$M")"
	read -r s0 _ <<<"$(queues_served)"
	check_content "$m: a lower file read" "$M/c_only" c_only
	check "  merged listing" "a_file b_file c_file common sub" "$(ls_flat "$M/d")"
	check_true "$m: mkdir, create, symlink, rename, chmod, rm -r" work "$M/w"
	lf=d/b_file; [ "$m" = passthrough ] || lf=d/c_file
	echo "$m" >>"$M/$lf"
	check_content "  copy-up on append" "$M/$lf" "$(cat "$B/$lf" "$C/$lf" 2>/dev/null)$m"
	read -r s1 _ <<<"$(queues_served)"
	if [ "$s1" -gt "$s0" ]; then pass "$m: requests served from the ring ($s0 -> $s1)"
	else fail "$m: requests served from the ring" "counters $s0 -> $s1"; fi
	check "  --status --json names the transport" io_uring \
		"$("$UFSMOUNT" --status --json "$M" | python3 -c 'import json,sys; print(json.load(sys.stdin)["transport"]["name"])')"
	ufs_umount "$M"
done

# concurrent work from every CPU: each worker pinned to one
ufs_mount "$DIRS" "$M" || bail "mount failed"
ls "$M" >/dev/null; wait_ring
ncpu=$(nproc)
pids=()
for ((c = 0; c < ncpu; c++)); do
	for k in 1 2; do
		taskset -c "$c" bash -c '
			for i in $(seq 1 40); do
				echo "$i" >"$1/f$i" && [ "$(cat "$1/f$i")" = "$i" ] || exit 1
				mkdir "$1/d$i" && rmdir "$1/d$i" || exit 1
			done' _ "$(mkdir -p "$M/c$c-$k" && echo "$M/c$c-$k")" &
		pids+=($!)
	done
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check "concurrent workers on every CPU succeed" 0 "$bad"
read -r _ nq <<<"$(queues_served)"
check "  every CPU's queue served requests" "$ncpu" "$nq"
pid=$(ufs_daemon_pid "$M")
ufs_umount "$M"
gone=no
for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || { gone=yes; break; }; sleep 0.1; done
check "unmount: the daemon (and its ring threads) exit" yes "$gone"

# uring_depth= and uring_payload=: the entries and their buffers; a file
# larger than one payload written and read back through the daemon
ufs_mount "$DIRS,nopassthrough,uring_depth=3,uring_payload=64" "$M" || bail "mount failed"
ls "$M" >/dev/null; wait_ring
check_re "uring_depth=3,uring_payload=64: --status" "io_uring \($(nproc) queues x 3 entries, payload 64 KiB\)" \
	"$("$UFSMOUNT" --status "$M" | grep transport)"
head -c 1000000 /dev/urandom >"$T/big"
cp "$T/big" "$M/big"
check_true "  a 1 MB file written in 64 KiB requests reads back the same" cmp -s "$T/big" "$M/big"
drop_caches
check_true "  and after dropping the caches" cmp -s "$T/big" "$M/big"
ufs_umount "$M"

# -o noio_uring: /dev/fuse, with the reason
ufs_mount "$DIRS,noio_uring" "$M" || bail "mount failed"
check "-o noio_uring: transport /dev/fuse" /dev/fuse "$(transport)"
check_re "  the reason" "noio_uring" "$("$UFSMOUNT" --status "$M" | grep transport)"
check_true "  works" work "$M/w"
ufs_umount "$M"

# the kernel's parameter off: /dev/fuse, and the reason names it
uring_off
ufs_mount "$DIRS" "$M" || bail "mount failed"
check "enable_uring off: transport /dev/fuse" /dev/fuse "$(transport)"
check_re "  the reason names the module parameter" "enable_uring is N" "$("$UFSMOUNT" --status "$M" | grep transport)"
check_true "  works" work "$M/w"
ufs_umount "$M"
uring_on

# a mount whose ring the kernel enables after INIT is not ours: a mount made
# while the parameter was on keeps working when it is turned off
ufs_mount "$DIRS" "$M" || bail "mount failed"
ls "$M" >/dev/null; wait_ring
uring_off
check_true "parameter turned off under a live ring mount: still works" work "$M/w"
check "  still io_uring" io_uring "$(transport)"
ufs_umount "$M"
uring_on

finish
