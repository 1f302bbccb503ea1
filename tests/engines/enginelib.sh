# SPDX-License-Identifier: MIT
# Fixture of the engine tests and benchmarks (tests/engines/): two stores of
# podman and buildah in the temp dir, "ufs" with mount_program=ufsmount and
# "fo" with mount_program=fuse-overlayfs, a containers.conf for this host, a
# small busybox base image loaded into both, and the removal of every
# container, image and mount at exit. Sourced; it sources tests/lib/fslib.sh.
# Environment: UFSMOUNT (the binary).
. "$(dirname "${BASH_SOURCE[0]}")/../lib/fslib.sh"
need_root_fuse
for c in podman buildah fuse-overlayfs runc python3; do
	command -v "$c" >/dev/null 2>&1 || skip_all "$c missing"
done
[ -x /bin/busybox ] || skip_all "busybox (busybox-static) missing"
# every path below is built on $T: it must be this test's temp dir
case "$T" in /tmp/ufs-*|"${TMPDIR:-/tmp}"/ufs-*) ;; *) echo "bad temp dir '$T'" >&2; exit 1 ;; esac
ENGINES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
info() { python3 "$ENGINES_DIR/treeinfo.py" "$@"; }

short_tmp || exit 1
store() { # ufs|fo: the storage flags of that engine's store
	printf '%s\n' --root "$T/$1/root" --runroot "$TS/$1" --storage-driver overlay \
		--storage-opt "overlay.mount_program=$T/mp-$1"
}
pod() { local s=$1; shift; mapfile -t sf < <(store "$s"); podman "${sf[@]}" --tmpdir "$T/$s/tmp" "$@"; }
bah() { local s=$1; shift; mapfile -t sf < <(store "$s"); buildah "${sf[@]}" "$@"; }

engines_cleanup() {
	local rc=$? s
	for s in ufs fo; do
		[ -d "$T/$s" ] || continue
		bah "$s" rm --all >/dev/null 2>&1
		pod "$s" rm -af -t 0 >/dev/null 2>&1
		pod "$s" image unmount -a >/dev/null 2>&1
		pod "$s" rmi -af >/dev/null 2>&1
	done
	(exit $rc)
	_cleanup
}

# engines_setup log|nolog: the config, the two mount programs ($T/mp-ufs,
# $T/mp-fo: with "log", wrappers appending their command line to
# $T/mp-*.log; else links to the binaries) and localhost/base:1 in both.
engines_setup() {
	# podman as root raises RLIMIT_NOFILE/NPROC to values this host's root
	# (no CAP_SYS_RESOURCE) cannot set: containers.conf limits them
	printf '%s\n' '[containers]' 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]' \
		'[engine]' 'cgroup_manager = "cgroupfs"' 'events_logger = "file"' \
		"volume_path = \"$T/volumes\"" >"$T/containers.conf"
	export CONTAINERS_CONF=$T/containers.conf
	unset CONTAINERS_STORAGE_CONF
	local mp real
	for mp in ufs fo; do
		real=$(readlink -f "$UFSMOUNT") # a relative path would not hold in $T
		[ "$mp" = fo ] && real=$(command -v fuse-overlayfs)
		if [ "$1" = log ]; then
			printf '%s\n' '#!/bin/sh' "printf '%s\\n' \"\$*\" >>'$T/mp-$mp.log'" \
				"exec '$real' \"\$@\"" >"$T/mp-$mp"
			chmod 755 "$T/mp-$mp"
		else
			ln -s "$real" "$T/mp-$mp"
		fi
	done
	trap engines_cleanup EXIT
	# a busybox rootfs with a little tree, loaded into both stores from one
	# docker-archive so that both start from the same image id
	local R=$T/rootfs a
	mkdir -p "$R/bin" "$R/etc/dir/sub" "$R/tmp" "$R/data/deep/er" "$R/ren/d"
	cp /bin/busybox "$R/busybox"
	for a in sh ls rm cat echo mkdir touch ln mv chmod chown mkfifo find stat sort md5sum true; do
		ln -s ../busybox "$R/bin/$a"
	done
	echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
	echo g >"$R/etc/dir/g"
	echo f >"$R/etc/dir/sub/f"
	echo deep >"$R/data/deep/er/f"
	echo r >"$R/ren/file"
	echo d >"$R/ren/d/in"
	tar -C "$R" -cf "$T/rootfs.tar" .
	pod ufs import -q "$T/rootfs.tar" localhost/base:1 >/dev/null || bail "podman import failed"
	pod ufs save -q -o "$T/base.tar" localhost/base:1 || bail "podman save failed"
	pod fo load -q -i "$T/base.tar" >/dev/null || bail "podman load (fuse-overlayfs store) failed"
}
