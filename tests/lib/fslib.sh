# SPDX-License-Identifier: MIT
# Fixture for the real-mount tests (tests/fs/test-*.sh): a temp dir per test,
# a layered-tree builder, mount/unmount of "$UFSMOUNT" with cleanup on EXIT
# (even on failure), read-only branch snapshots, and check/fail reporting.
#
# Sourced, never run. Environment: UFSMOUNT (the binary, required),
# HELPERS (dir of the built tests/fs/helpers; compiled on demand if unset).
# Each check prints one line "ok   - NAME" or "FAIL - NAME: expected .., got ..".
# A script ends with `finish`: exit 0 if all passed, 1 otherwise; 77 = skip.

set -u
export LC_ALL=C

FSLIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FSTEST_DIR=$(cd "$FSLIB_DIR/../fs" && pwd)
TEST_NAME=$(basename "$0" .sh)
UFSMOUNT=${UFSMOUNT:-}
HELPERS=${HELPERS:-}

_PASS=0
_FAIL=0
_SKIP=0
_MOUNTS=()          # every mountpoint we mounted, in order
_PIDS=()            # every background process we started (by PID)
_SNAP_DIRS=()       # read-only branches snapshotted by ro_snapshot
declare -A _MOPTS=() _MARGS=()

T=$(mktemp -d "${TMPDIR:-/tmp}/ufs-$TEST_NAME.XXXXXX") || exit 1
chmod 755 "$T"      # the non-root user of the permission tests must traverse it

# ---------------------------------------------------------------- reporting

. "$FSLIB_DIR/check.sh"
. "$FSLIB_DIR/podman-cg.sh"

# check_errno NAME 'E1|E2' FSOP-ARGS...: the fsop helper reports one of those
# errno names (or OK).
check_errno() {
	local name=$1 want=$2 got; shift 2
	got=$("$FSOP" "$@" 2>&1 | head -n1)
	got=${got%% *}
	if [[ "$got" =~ ^($want)$ ]]; then pass "$name"
	else fail "$name" "expected $want from '$*', got '$got'"; fi
}

# check_exists NAME PATH / check_absent NAME PATH (lstat, no link following).
check_exists() {
	if [ -e "$2" ] || [ -L "$2" ]; then pass "$1"; else fail "$1" "expected $2 to exist"; fi
}
check_absent() {
	if [ -e "$2" ] || [ -L "$2" ]; then fail "$1" "expected $2 to be absent, it exists"
	else pass "$1"; fi
}

# check_content NAME PATH EXPECTED: file content (trailing newlines stripped by $()).
check_content() {
	local got
	got=$(cat -- "$2" 2>&1) || got="<cat failed: $got>"
	check "$1" "$3" "$got"
}

# bail MSG: fatal failure, stop the script (cleanup still runs).
bail() { fail "$TEST_NAME: fatal" "$*"; finish; }

skip_all() { printf 'SKIP: %s: %s\n' "$TEST_NAME" "$*"; exit 77; }

# finish: verify snapshotted ro branches, print a summary, exit 0/1.
finish() {
	ro_verify
	printf '# %s: %d passed, %d failed, %d skipped\n' "$TEST_NAME" "$_PASS" "$_FAIL" "$_SKIP"
	[ "$_FAIL" -eq 0 ] && exit 0
	exit 1
}

# short_tmp: $TS, a second temp dir of a short path (podman refuses a
# runroot of over 50 characters, which $T below a CI run's TMPDIR passes),
# removed with $T. Call it in the test's shell, not in $(...).
short_tmp() { [ -n "${TS:-}" ] || TS=$(mktemp -d /tmp/ufsr.XXXXXX); }

# ---------------------------------------------------------------- environment

# The kernel's FUSE over io_uring is off by default (an admin's choice that
# ufsmount never makes): uring_on turns it on for this test, and the cleanup
# puts the old value back after the last unmount. UFS_TRANSPORT=uring runs a
# whole suite on it (tools/run-tests does, for the fuse suite).
URING_PARAM=/sys/module/fuse/parameters/enable_uring
_URING_OLD=
uring_on() {
	[ -w "$URING_PARAM" ] || return 1
	[ -n "$_URING_OLD" ] || _URING_OLD=$(cat "$URING_PARAM")
	echo Y >"$URING_PARAM"
}
uring_off() {
	[ -w "$URING_PARAM" ] || return 0
	[ -n "$_URING_OLD" ] || _URING_OLD=$(cat "$URING_PARAM")
	echo N >"$URING_PARAM"
}
_uring_restore() {
	[ -n "$_URING_OLD" ] && echo "$_URING_OLD" >"$URING_PARAM"
	_URING_OLD=
}

need_root_fuse() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root"
	[ -c /dev/fuse ] || skip_all "no /dev/fuse"
	if [ "${UFS_TRANSPORT:-}" = uring ]; then
		uring_on || skip_all "UFS_TRANSPORT=uring: this kernel has no FUSE over io_uring ($URING_PARAM)"
	fi
	command -v fusermount3 >/dev/null 2>&1 || skip_all "fusermount3 missing"
	[ -n "$UFSMOUNT" ] || skip_all "UFSMOUNT not set"
	[ -x "$UFSMOUNT" ] || skip_all "UFSMOUNT=$UFSMOUNT is not executable"
	FSOP=$(helper fsop) || skip_all "cannot build the fsop helper"
}

# helper NAME: path of a C helper; built from tests/fs/helpers/NAME.c (or, for
# NAME.so, an LD_PRELOAD library from NAME.c) into the temp dir when $HELPERS
# does not have it (manual runs outside meson).
helper() {
	local n=$1 out
	if [ -n "$HELPERS" ] && [ -x "$HELPERS/$n" ]; then printf '%s\n' "$HELPERS/$n"; return 0; fi
	out="$T/.bin/$n"
	if [ ! -x "$out" ]; then
		mkdir -p "$T/.bin" && chmod 755 "$T/.bin"
		case $n in
		*.so) cc -shared -fPIC -O1 -Wall -Wextra -o "$out" "$FSTEST_DIR/helpers/${n%.so}.c" -ldl >&2 ;;
		*) cc -O1 -Wall -Wextra -D_FILE_OFFSET_BITS=64 -o "$out" "$FSTEST_DIR/helpers/$n.c" -lpthread >&2 ;;
		esac || return 1
	fi
	printf '%s\n' "$out"
}

# as_nobody CMD...: run as uid/gid 65534 with no supplementary groups.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }

# ---------------------------------------------------------------- mounts

# is_mounted MNT: MNT is a mountpoint in our mount namespace.
is_mounted() {
	awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo
}

# mount_opts MNT: the mount and super options of MNT from mountinfo.
mount_opts() {
	awk -v m="$1" '$5 == m { for (i = 7; $i != "-"; i++) ; print $6 "," $(i + 3) }' /proc/self/mountinfo | tail -n1
}

wait_mounted() { # MNT [SECONDS]
	local i n=$(( ${2:-10} * 10 ))
	for ((i = 0; i < n; i++)); do is_mounted "$1" && return 0; sleep 0.1; done
	return 1
}

wait_unmounted() { # MNT [SECONDS]
	local i n=$(( ${2:-10} * 10 ))
	for ((i = 0; i < n; i++)); do is_mounted "$1" || return 0; sleep 0.1; done
	return 1
}

_track_mount() {
	local m
	for m in "${_MOUNTS[@]}"; do [ "$m" = "$1" ] && return 0; done
	_MOUNTS+=("$1")
}

# ufs_mount OPTS MNT [EXTRA ARGS...]: run "$UFSMOUNT -o OPTS EXTRA MNT" (it
# daemonizes) and wait until MNT is in mountinfo. Returns non-zero on failure
# with ufsmount's stderr on our stderr. Its stderr is kept in $T/mount.err.
# $UFS_EXTRA_OPTS is appended to every mount's options (to run a suite with
# one more option, e.g. allow_idmap).
ufs_mount() {
	local opts=$1${UFS_EXTRA_OPTS:+,$UFS_EXTRA_OPTS} mnt=$2 rc; shift 2
	mkdir -p "$mnt"
	_track_mount "$mnt"
	_MOPTS[$mnt]=$opts
	_MARGS[$mnt]="$*"
	timeout 60 "$UFSMOUNT" -o "$opts" "$@" "$mnt" >"$T/mount.out" 2>"$T/mount.err" </dev/null
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "ufs_mount: $UFSMOUNT -o $opts $* $mnt exited $rc: $(cat "$T/mount.err")" >&2
		return 1
	fi
	# (ufsmount returns once its daemon has answered INIT, test-cli.sh)
	wait_mounted "$mnt" 10 || { echo "ufs_mount: $mnt never appeared in mountinfo" >&2; return 1; }
	return 0
}

# ufs_mount_fg OPTS MNT [EXTRA ARGS...]: same with -f in the background;
# sets UFS_PID to the daemon's PID (ours to kill). Log in $T/daemon.$UFS_PID.log.
UFS_PID=
ufs_mount_fg() {
	local opts=$1${UFS_EXTRA_OPTS:+,$UFS_EXTRA_OPTS} mnt=$2; shift 2
	mkdir -p "$mnt"
	_track_mount "$mnt"
	_MOPTS[$mnt]=$opts
	# the shell names the log after its own pid, which exec hands to ufsmount
	LOGDIR=$T bash -c 'exec "$@" >"$LOGDIR/daemon.$$.log" 2>&1 </dev/null' _ \
		"$UFSMOUNT" -f -o "$opts" "$@" "$mnt" &
	UFS_PID=$!
	_PIDS+=("$UFS_PID")
	if ! wait_mounted "$mnt" 10; then
		echo "ufs_mount_fg: $mnt never appeared in mountinfo" >&2
		return 1
	fi
}

# wait_exited PID [SECONDS]: the process is gone (or a zombie).
wait_exited() {
	local i n=$(( ${2:-10} * 10 )) st
	for ((i = 0; i < n; i++)); do
		st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
		[ -z "$st" ] || [ "$st" = Z ] && return 0
		sleep 0.1
	done
	return 1
}

# ufs_umount MNT: fusermount3 -u, falling back to umount; waits until gone,
# and until its daemon has exited (it holds the rw branch's lock until then:
# a mount of the same branch right after must not find it busy).
ufs_umount() {
	local mnt=$1 pid
	is_mounted "$mnt" || return 0
	pid=$(ufs_daemon_pid "$mnt")
	# (no status socket yet or any more: the daemon by its command line,
	# whose last word is the mountpoint, unique to this test's temp dir)
	[ -n "$pid" ] || pid=$(pgrep -f -- "ufsmount .*${mnt}\$" | head -n1)
	fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null || {
		echo "ufs_umount: $mnt is busy" >&2; return 1; }
	wait_unmounted "$mnt" 10 || return 1
	[ -z "$pid" ] || wait_exited "$pid" 10 || echo "ufs_umount: daemon $pid of $mnt still running" >&2
	return 0
}

# ufs_remount MNT: unmount and mount again with the same options.
ufs_remount() {
	local mnt=$1
	ufs_umount "$mnt" || return 1
	# shellcheck disable=SC2086
	ufs_mount "${_MOPTS[$mnt]}" "$mnt" ${_MARGS[$mnt]:-}
}

# _abort_if_hung MNT: when MNT is a FUSE mount whose daemon no longer answers
# (statfs times out), abort its connection through fusectl so the unmount
# and the rest of the cleanup cannot block.
_abort_if_hung() {
	local m=$1 dev ctl=/sys/fs/fuse/connections mounted_ctl=0
	timeout 5 stat -f "$m" >/dev/null 2>&1 && return 0
	dev=$(awk -v m="$m" '$5 == m { split($3, d, ":"); print d[2] }' /proc/self/mountinfo | tail -n1)
	[ -n "$dev" ] || return 0
	if [ ! -e "$ctl/$dev" ]; then
		mount -t fusectl none "$ctl" 2>/dev/null && mounted_ctl=1
	fi
	[ -w "$ctl/$dev/abort" ] && echo 1 >"$ctl/$dev/abort" && echo "cleanup: aborted hung FUSE connection of $m" >&2
	[ $mounted_ctl = 1 ] && umount "$ctl" 2>/dev/null
	return 0
}

_cleanup() {
	local rc=$? i m p
	set +e
	cd / || true
	for ((i = ${#_MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${_MOUNTS[i]}
		is_mounted "$m" || continue
		_abort_if_hung "$m"
		fusermount3 -u "$m" 2>/dev/null || umount "$m" 2>/dev/null
		wait_unmounted "$m" 3 || umount -l "$m" 2>/dev/null
	done
	# anything else a test mounted under our temp dirs (tmpfs branches...)
	for m in $(awk -v t="$T/" -v s="${TS:-$T}/" 'index($5, t) == 1 || index($5, s) == 1 { print $5 }' \
			/proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	for p in "${_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null
		for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf --one-file-system "$T"
	[ -n "${TS:-}" ] && rm -rf --one-file-system "$TS"
	_uring_restore
	podman_cg_drop
	exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM HUP

# ufs_counter MNT NAME_ERE: the number right after a `--status` line's
# first word when that word matches NAME_ERE (case-insensitive), e.g.
# "  copyup   3" or "copy-up: 3"; empty when there is no such line.
ufs_counter() {
	"$UFSMOUNT" --status "$1" 2>/dev/null |
		grep -Eio "^[[:space:]]*($2)[[:space:]:=]+[0-9]+" | grep -Eo '[0-9]+$' | head -n1
}

# ufs_daemon_pid MNT: the daemon's pid from a "pid N" line of --status, if
# that process is a ufsmount serving MNT; empty otherwise.
ufs_daemon_pid() {
	local pid
	pid=$("$UFSMOUNT" --status "$1" 2>/dev/null | grep -Eio '^[[:space:]]*pid[[:space:]:=]+[0-9]+' | grep -Eo '[0-9]+$' | head -n1)
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$1" && echo "$pid"
	return 0
}

# ---------------------------------------------------------------- tree builder

# mk_file PATH CONTENT [MODE]: create PATH (and parents) holding CONTENT.
mk_file() {
	mkdir -p "$(dirname "$1")"
	printf '%s' "$2" >"$1"
	[ $# -ge 3 ] && chmod "$3" "$1"
	return 0
}
# mk_dir PATH [MODE]
mk_dir() { mkdir -p "$1"; [ $# -ge 2 ] && chmod "$2" "$1"; return 0; }
# mk_wh DIR NAME: whiteout NAME in DIR (hides NAME in lower branches).
mk_wh() { mkdir -p "$1"; : >"$1/.wh.$2"; }
# mk_opq DIR: make DIR opaque.
mk_opq() { mkdir -p "$1"; : >"$1/.wh..wh..opq"; }

# new_branches: A (rw, top), B and C (ro) empty, M the mountpoint; DIRS the
# default -o value "dirs=A=rw:B=ro:C=ro".
new_branches() {
	A=$T/A B=$T/B C=$T/C M=$T/mnt
	mkdir -p "$A" "$B" "$C" "$M"
	DIRS="dirs=$A=rw:$B=ro:$C=ro"
}

# build_std_layers: new_branches plus the standard tree below, then snapshots
# B and C (verified unchanged by finish).
#   name        C (bottom)        B (middle)                A (top, rw)
#   shared      "C"               "B"                       "A"
#   a_only                                                  "a_only"
#   b_only                        "b_only"
#   c_only      "c_only"
#   hid_by_b    "C"               .wh.hid_by_b
#   hid_by_a    "C"                                         .wh.hid_by_a
#   revived     "C"               .wh.revived               "A"
#   samebr      "C"               "B" + .wh.samebr (OCI: B's stays visible)
#   d/          c_file common=C   b_file common=B           a_file
#   d/sub/deep  "deep"
#   opq/        c_in_opq          .wh..wh..opq b_in_opq
#   cdir/x      "x"      (dir only in C)
#   gone/y      "y"               .wh.gone
#   typ         dir typ/z         -                         file "A"
#   sp ace      "sp ace"
build_std_layers() {
	new_branches
	mk_file "$C/shared" C;          mk_file "$B/shared" B;  mk_file "$A/shared" A
	mk_file "$A/a_only" a_only
	mk_file "$B/b_only" b_only
	mk_file "$C/c_only" c_only
	mk_file "$C/hid_by_b" C;        mk_wh "$B" hid_by_b
	mk_file "$C/hid_by_a" C;        mk_wh "$A" hid_by_a
	mk_file "$C/revived" C;         mk_wh "$B" revived;     mk_file "$A/revived" A
	mk_file "$C/samebr" C;          mk_file "$B/samebr" B;  mk_wh "$B" samebr
	mk_file "$C/d/c_file" c_file;   mk_file "$C/d/common" C
	mk_file "$B/d/b_file" b_file;   mk_file "$B/d/common" B
	mk_file "$A/d/a_file" a_file
	mk_file "$C/d/sub/deep" deep
	mk_file "$C/opq/c_in_opq" C;    mk_opq "$B/opq";        mk_file "$B/opq/b_in_opq" B
	mk_file "$C/cdir/x" x
	mk_file "$C/gone/y" y;          mk_wh "$B" gone
	mk_file "$C/typ/z" z;           mk_file "$A/typ" A
	mk_file "$C/sp ace" "sp ace"
	ro_snapshot "$B" "$C"
}

# ---------------------------------------------------------------- snapshots

# snap_tree DIR: a listing (path type mode uid gid size mtime link), checksums
# and xattrs of everything under DIR, stable across runs.
snap_tree() {
	(
		cd "$1" || exit 1
		find . -printf '%p %y %m %U %G %s %T@ %l\n' | sort
		find . -type f -print0 | sort -z | xargs -0 -r md5sum
		getfattr -R -P -d -m - -e hex . 2>/dev/null
	)
}

# ro_snapshot DIR...: remember DIRs' state (again: replaces the earlier
# snapshot); ro_verify (run by finish) checks it.
ro_snapshot() {
	local d i
	for d in "$@"; do
		for ((i = 0; i < ${#_SNAP_DIRS[@]}; i++)); do [ "${_SNAP_DIRS[i]}" = "$d" ] && break; done
		_SNAP_DIRS[i]=$d
		snap_tree "$d" >"$T/.snap.$i"
	done
}

ro_verify() {
	local i d diffout
	for ((i = 0; i < ${#_SNAP_DIRS[@]}; i++)); do
		d=${_SNAP_DIRS[i]}
		diffout=$(snap_tree "$d" | diff "$T/.snap.$i" - | head -n 20)
		if [ -z "$diffout" ]; then pass "ro branch unchanged: ${d#"$T"/}"
		else fail "ro branch unchanged: ${d#"$T"/}" "diff: $diffout"; fi
	done
	_SNAP_DIRS=()
}

# work_leftovers WORKDIR: what a work dir holds but its lock file "owner"
# (temporaries of copy-ups, removals...): empty when nothing is left.
work_leftovers() { ls -A -- "$1" 2>&1 | grep -vx owner; }

# ls_names DIR: the names in DIR, sorted, one line each (ls -A semantics).
ls_names() { ls -A1 -- "$1" 2>&1 | sort; }
# ls_flat DIR: names space-separated, sorted.
ls_flat() { ls -A1 -- "$1" 2>&1 | sort | tr '\n' ' ' | sed 's/ $//'; }
