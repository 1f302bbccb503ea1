# SPDX-License-Identifier: MIT
# podman (as root, cgroupfs manager) makes a libpod_parent cgroup in every
# hierarchy and never removes it. A benchmark run by hand, alone on the
# machine (under set -e too), calls podman_cg_note before its first podman and podman_cg_drop
# at exit: what podman made during the run goes (its empty children first).
# Not for tests: meson runs them side by side, and one test's drop could
# pull the parent from under another's podman (tools/run-tests drops it
# once at the end of the whole run instead). Sourced.
podman_cg_note() {
	_PODMAN_CG_HAD=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null || true)
	_PODMAN_CG_NOTED=1
}
podman_cg_drop() {
	local d c
	[ "${_PODMAN_CG_NOTED:-0}" = 1 ] && [ -z "$_PODMAN_CG_HAD" ] || return 0
	for d in /sys/fs/cgroup/*/libpod_parent; do
		[ -d "$d" ] || continue
		for c in "$d"/*/; do [ -d "$c" ] && { rmdir "$c" 2>/dev/null || true; }; done
		rmdir "$d" 2>/dev/null || echo "podman's $d is still busy, left in place" >&2
	done
	return 0
}
