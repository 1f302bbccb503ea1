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
