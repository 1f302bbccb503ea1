# SPDX-License-Identifier: MIT
# Fixture of the img-runtime tests (tests/engines/test-runtime*.sh): root,
# namespaces, busybox-static; a busybox rootfs in $T/rootfs (and its tar);
# rt = img-runtime with its state in $T/state; at exit every container of
# that state deleted (-f), every process we started killed by its PID.
# Sourced; it sources tests/lib/fslib.sh. Environment: IMG_RUNTIME.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/fslib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
unshare -m -p -f -u -i -n true 2>/dev/null || skip_all "no namespaces"
[ -x /bin/busybox ] || skip_all "busybox (busybox-static) missing"
command -v python3 >/dev/null || skip_all "python3 missing"
[ -x "${IMG_RUNTIME:-}" ] || { echo "IMG_RUNTIME not set" >&2; exit 1; }
# absolute: containerd's shim and podman run it from their own directories
IMG_RUNTIME=$(realpath "$IMG_RUNTIME")
case "$T" in /tmp/ufs-*|"${TMPDIR:-/tmp}"/ufs-*) ;; *) echo "bad temp dir '$T'" >&2; exit 1 ;; esac
RT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RTSTATE=$T/state
rt() { timeout 60 "$IMG_RUNTIME" --root "$RTSTATE" "$@"; }

_rt_cleanup() {
	local rc=$? d
	for d in "$RTSTATE"/*/; do
		[ -d "$d" ] && timeout 20 "$IMG_RUNTIME" --root "$RTSTATE" delete -f "$(basename "$d")" >/dev/null 2>&1
	done
	(exit $rc)
	_cleanup
}

# rt_rootfs DIR: busybox, its applets we use, passwd and group
rt_rootfs() {
	local R=$1 a
	mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/root"
	cp /bin/busybox "$R/bin/busybox"
	for a in sh ls cat echo sleep id hostname mkdir touch grep wc stat readlink pwd ps true \
		false tty mount ulimit test env; do
		ln -sf busybox "$R/bin/$a"
	done
	printf '%s\n' "root:x:0:0:root:/root:/bin/sh" "nobody:x:65534:65534:nobody:/:/bin/sh" >"$R/etc/passwd"
	printf '%s\n' "root:x:0:" "users:x:100:" "nogroup:x:65534:" >"$R/etc/group"
}

rt_setup() {
	trap _rt_cleanup EXIT
	rt_rootfs "$T/rootfs"
	tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
}

# ---------------------------------------------------------------- containerd
ctd_need() {
	local c
	for c in containerd ctr containerd-shim-runc-v2; do
		command -v "$c" >/dev/null 2>&1 || skip_all "$c missing"
	done
}
CTR=$(command -v ctr)
ctr() { timeout 120 "$CTR" -a "$T/ctd.sock" "$@"; }
# what a test leaves in containerd goes before containerd itself; the
# runtime's state is its --runc-root $T/runc, namespace default
ctd_cleanup() {
	local rc=$? id
	for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s KILL "$id" >/dev/null 2>&1; done
	for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks delete -f "$id" >/dev/null 2>&1; done
	for id in $(ctr containers ls -q 2>/dev/null); do ctr containers rm "$id" >/dev/null 2>&1; done
	RTSTATE=$T/runc/default
	# the shims' sockets and ctr's fifos live in /run/containerd (fixed
	# in containerd 1.6): gone if we made it and left it empty
	if [ "$HAD_RUN_CTD" = 0 ]; then
		rmdir /run/containerd/s /run/containerd/fifo /run/containerd/runc 2>/dev/null
		rmdir /run/containerd 2>/dev/null
	fi
	(exit $rc)
	_rt_cleanup
}
# ctd_setup (after rt_setup): containerd on $T/ctd.sock, localhost/rt:1
# imported from an OCI archive of the rootfs; ctr talks to it; at exit its
# tasks and containers go, then containerd itself (by its PID)
ctd_setup() {
	HAD_RUN_CTD=0
	[ -e /run/containerd ] && HAD_RUN_CTD=1
	cat >"$T/containerd.toml" <<EOF
version = 2
root = "$T/ctd-root"
state = "$T/ctd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$T/ctd.sock"
[ttrpc]
  address = "$T/ctd.sock.ttrpc"
[debug]
  address = "$T/ctd-debug.sock"
[metrics]
  address = ""
EOF
	containerd --config "$T/containerd.toml" >"$T/containerd.log" 2>&1 &
	CTD=$!
	_PIDS+=("$CTD")
	for i in $(seq 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
	ctr version >/dev/null 2>&1 || bail "containerd did not start: $(tail -5 "$T/containerd.log")"
	trap ctd_cleanup EXIT
	python3 "$RT_DIR/mkoci.py" "$T/rootfs.tar" localhost/rt:1 "$T/img.tar" || bail "mkoci"
	ctr images import "$T/img.tar" >/dev/null 2>"$T/err" || bail "import: $(cat "$T/err")"
}

# ---------------------------------------------------------------- podman
pod_need() {
	command -v podman >/dev/null 2>&1 || skip_all "podman missing"
	command -v conmon >/dev/null 2>&1 || [ -x /usr/libexec/podman/conmon ] || skip_all "conmon missing"
}
# pod_setup (after rt_setup): pod = podman with its store, run and tmp
# dirs in $T (vfs) and --runtime $T/img-runtime (img-runtime with its state
# in $RTSTATE: conmon passes no --root); localhost/rt:1 imported; at exit
# every container and image removed
pod_setup() {
	# podman as root raises RLIMIT_NOFILE/NPROC to values this host's root
	# (no CAP_SYS_RESOURCE) cannot set: containers.conf limits them
	printf '%s\n' '[containers]' 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]' \
		'[engine]' 'cgroup_manager = "cgroupfs"' 'events_logger = "file"' >"$T/containers.conf"
	export CONTAINERS_CONF=$T/containers.conf
	unset CONTAINERS_STORAGE_CONF
	printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$IMG_RUNTIME" "$RTSTATE" >"$T/img-runtime"
	chmod 755 "$T/img-runtime"
	trap pod_cleanup EXIT
	pod import -q "$T/rootfs.tar" localhost/rt:1 >/dev/null || bail "podman import"
}
short_tmp || exit 1
pod() { timeout 120 podman --root "$T/pr" --runroot "$TS/prr" --tmpdir "$T/ptmp" --storage-driver vfs \
	--runtime "${POD_RUNTIME:-$T/img-runtime}" "$@"; }
pod_cleanup() {
	local rc=$?
	pod rm -af -t 0 >/dev/null 2>&1
	pod rmi -af >/dev/null 2>&1
	(exit $rc)
	${POD_THEN:-_rt_cleanup} # with containerd too: ctd_cleanup
}
