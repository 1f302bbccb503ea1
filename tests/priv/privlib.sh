# SPDX-License-Identifier: MIT
# Fixture for the root-only runner tests: skip (77) where namespaces, cgroups,
# /dev/fuse or busybox-static are truly missing; containers run under a
# cgroup parent of our own (imgtestPID) that the EXIT trap empties and
# removes, with every container, process and mount of the test. Sourced
# after tests/img/imglib.sh.
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
[ -e /dev/fuse ] || { echo "skip: no /dev/fuse"; exit 77; }
unshare -m -p -f -u -i -n true 2>/dev/null || { echo "skip: no namespaces"; exit 77; }
[ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || { echo "skip: no cgroups"; exit 77; }
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
need python3
# UFS_TRANSPORT=uring: the containers' unions on FUSE over io_uring (the
# kernel's enable_uring, off by default, on for this test; the old value
# back at exit, after the last unmount); tools/run-tests runs the suite so
URING_PARAM=/sys/module/fuse/parameters/enable_uring
URING_OLD=
if [ "${UFS_TRANSPORT:-}" = uring ]; then
	[ -w "$URING_PARAM" ] || { echo "skip: UFS_TRANSPORT=uring: this kernel has no FUSE over io_uring ($URING_PARAM)"; exit 77; }
	URING_OLD=$(cat "$URING_PARAM") && echo Y >"$URING_PARAM"
fi
CGP=imgtest$$   # our own cgroup parent: every test cgroup is ours to remove
# img's host-wide network state (docs/network.md): removed at exit when this
# test made it and no container holds an address any more
HAD_NETDIR=0; [ -e /run/img/net ] && HAD_NETDIR=1
HAD_RUNDIR=0; [ -e /run/img ] && HAD_RUNDIR=1

run() { timeout 60 "$IMG_BIN" --root "$STORE" run --cgroup-parent "$CGP" "$@"; }
# img's network reapers (docs/network.md) done: the rules under the network
# lock, then the veths, then img0 and the table after they lingered ~2 s
net_settled() {
	local i
	for i in $(seq 100); do
		ps -eo comm | grep -qx img-net-reaper || break
		sleep 0.1
	done
	[ -e /run/img/net/lock ] && flock /run/img/net/lock true 2>/dev/null
	return 0
}
# every hierarchy: v1 controllers and a hybrid host's unified/ below
# /sys/fs/cgroup, or /sys/fs/cgroup itself on a v2-only host
cg_dirs() { for c in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do [ -d "$c$CGP" ] && find "$c$CGP" -mindepth 1 -type d; done 2>/dev/null; }
_priv_cleanup() {
	local ids i c d p
	ids=$(img ps -a -q --no-trunc 2>/dev/null)
	for i in $ids; do timeout 20 "$IMG_BIN" --root "$STORE" rm -f "$i" >/dev/null 2>&1; done
	for c in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
		[ -d "$c$CGP" ] || continue
		for d in $(find "$c$CGP" -mindepth 1 -depth -type d); do
			for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
			rmdir "$d" 2>/dev/null
		done
		rmdir "$c$CGP" 2>/dev/null
	done
	awk -v s="$T" '$2 ~ "^"s {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	net_settled
	if [ $HAD_NETDIR = 0 ] && [ -d /run/img/net ] && [ -z "$(ls /run/img/net/addr 2>/dev/null)" ]; then
		rm -rf /run/img/net
		[ $HAD_RUNDIR = 0 ] && rmdir /run/img 2>/dev/null
	fi
	_cleanup
	[ -n "$URING_OLD" ] && echo "$URING_OLD" >"$URING_PARAM"
}
trap _priv_cleanup EXIT
img import --busybox busybox >/dev/null || { fail "import --busybox"; finish; }
