# SPDX-License-Identifier: MIT
# Fixture for the img build tests: tests/img/imglib.sh's temp dir and store,
# tests/priv/privlib.sh's root checks, cgroup parent and clean-up (RUN steps
# are real containers), busybox in the store. Sourced.
# (imglib.sh once: a test may have sourced it through registry/reglib.sh)
declare -F img >/dev/null || . "$(dirname "${BASH_SOURCE[0]}")/../img/imglib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../priv/privlib.sh"
# build ARGS...: img build, RUN steps under our cgroup parent, no network
build() { timeout 300 "$IMG_BIN" --root "$STORE" build --cgroup-parent "$CGP" --network none "$@"; }
# ctx NAME: the context dir NAME (made if needed); its Containerfile from stdin
ctx() { mkdir -p "$T/$1"; cat > "$T/$1/Containerfile"; }
# cfg IMAGE TEMPLATE: img inspect -f
cfg() { img inspect -f "$2" "$1"; }
# nothing_left: no container, mount, cgroup or temp dir of ours
nothing_left() {
	local what=""
	[ -z "$(img ps -a -q)" ] || what+=" containers:$(img ps -a -q | tr '\n' ' ')"
	[ -z "$(ls -A "$STORE/containers" 2>/dev/null)" ] || what+=" store-containers"
	[ -z "$(awk -v t="$T/" 'index($5, t) == 1' /proc/self/mountinfo)" ] || what+=" mounts"
	[ -z "$(cg_dirs)" ] || what+=" cgroups:$(cg_dirs | tr '\n' ' ')"
	[ -z "$(ls -A "$STORE/tmp" 2>/dev/null)" ] || what+=" tmp:$(ls -A "$STORE/tmp" | tr '\n' ' ')"
	printf '%s' "$what"
}
