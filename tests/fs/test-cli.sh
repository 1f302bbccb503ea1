#!/bin/bash
# SPDX-License-Identifier: MIT
# The command line: branch modes and defaults, daemonizing only once the mount
# is ready, -f/-d, FUSE option pass-through, --help/--version, and each
# refusal (one line on stderr naming the branch, non-zero exit, no mount).
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

build_std_layers
mk_file "$T/plainfile" x
mkdir -p "$A/sub" "$T/outer/mnt" "$T/mp2/br" "$T/X1" "$T/X2"

out=$("$UFSMOUNT" --help 2>&1); rc=$?
check "--help exits 0" 0 "$rc"
check "--help mentions dirs=" yes "$(grep -q 'dirs=' <<<"$out" && echo yes || echo no)"
out=$("$UFSMOUNT" --version 2>&1); rc=$?
check "--version exits 0" 0 "$rc"
check_re "--version prints a version" '[0-9]+\.[0-9]+' "$out"

# daemonizes once the mount is ready: no wait loop here
_track_mount "$M"
"$UFSMOUNT" -o "dirs=$A:$B:$C" "$M" >"$T/out" 2>&1 </dev/null; rc=$?
check "mount exits 0" 0 "$rc"
check "mounted when ufsmount returns" yes "$(is_mounted "$M" && echo yes || echo no)"
check_content "usable at once" "$M/shared" A
check "default modes: first rw" OK "$("$FSOP" open "$M/newf" wc)"
check_exists "  created in the first branch" "$A/newf"
mo=$(mount_opts "$M")
check "default_permissions always on" yes "$(grep -q default_permissions <<<"$mo" && echo yes || echo no)"
check "fuse mount type" yes "$(awk -v m="$M" '$5 == m' /proc/self/mountinfo | grep -q ' - fuse' && echo yes || echo no)"
check_true "umount unmounts" umount "$M"
check "  gone" no "$(is_mounted "$M" && echo yes || echo no)"

ufs_mount "dirs=$A=rw:$B=ro:$C=rr" "$M" || fail "explicit modes incl. rr accepted" "$(cat "$T/mount.err")"
check "explicit rw/ro/rr: view" A "$(cat "$M/shared" 2>&1)"
check_true "fusermount3 -u unmounts" fusermount3 -u "$M"
wait_unmounted "$M" 5
check "  gone" no "$(is_mounted "$M" && echo yes || echo no)"

snap_tree "$A" >"$T/snapA"
ufs_mount "dirs=$A=ro:$B:$C" "$M" || fail "all-ro mount accepted" "$(cat "$T/mount.err")"
check_errno "no rw branch: create EROFS" EROFS open "$M/x" wc
check_errno "no rw branch: mkdir EROFS" EROFS mkdir "$M/xd"
check_errno "no rw branch: chmod EROFS" EROFS chmod "$M/shared" 600
check_content "no rw branch: reads work" "$M/shared" A
ufs_umount "$M"
check "no rw branch: first branch untouched" "" "$(snap_tree "$A" | diff "$T/snapA" - | head -n 5)"

ufs_mount "dirs=$T/X1:$T/X2" "$M" || fail "two branches, first is rw by default" "$(cat "$T/mount.err")"
ufs_umount "$M"
ufs_mount "dirs=$A,allow_other" "$M" || fail "allow_other passes through" "$(cat "$T/mount.err")"
check "allow_other in mount options" yes "$(mount_opts "$M" | grep -q allow_other && echo yes || echo no)"
ufs_umount "$M"
new=$T/A_single; mkdir -p "$new"
ufs_mount "dirs=$new" "$M" || fail "single branch accepted" "$(cat "$T/mount.err")"
ufs_umount "$M"

# relative branch paths and mountpoint, resolved before daemonizing
_track_mount "$T/relmnt"; mkdir -p "$T/relmnt"
(cd "$T" && "$UFSMOUNT" -o "dirs=A:B:C" relmnt >"$T/rel.out" 2>&1 </dev/null); rc=$?
check "relative paths: mount exits 0" 0 "$rc"
wait_mounted "$T/relmnt" 5
check_content "relative paths: view" "$T/relmnt/shared" A
ufs_umount "$T/relmnt"

# -f stays in the foreground until unmounted; -d prints debug output
ufs_mount_fg "dirs=$A:$B:$C" "$M" || fail "-f mounts" "$(cat "$T"/daemon.*.log)"
pid=$UFS_PID
check "-f: process still running while mounted" yes "$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)"
ufs_umount "$M"
rc=124; for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || { wait "$pid"; rc=$?; break; }; sleep 0.1; done
check "-f: exits 0 after unmount" 0 "$rc"
ufs_mount_fg "dirs=$A:$B:$C" "$M" -d || fail "-f -d mounts" "$(cat "$T"/daemon.*.log)"
ls "$M" >/dev/null
check "-d: debug output" yes "$([ -s "$T/daemon.$UFS_PID.log" ] && echo yes || echo no)"
ufs_umount "$M"

# ufsmount returns once its daemon has answered the kernel's INIT. The
# kernel refuses MOUNT_ATTR_IDMAP until it has the INIT reply, and the
# parent of libfuse's fuse_daemonize exited before the daemon's loop read
# INIT: img run --userns failed now and then on a loaded machine. hold-init.so
# (LD_PRELOAD) makes the daemon answer INIT late, or die instead.
PRE=$(helper hold-init.so) || bail "cannot build hold-init.so"
IDMAP=$(helper idmap) || bail "cannot build the idmap helper"
preload() { LD_PRELOAD=$PRE ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"; }
mkdir -p "$T/mpi"
_track_mount "$T/mpi"
err=$(HOLD_INIT=die preload timeout 60 "$UFSMOUNT" -o "dirs=$A:$B" "$T/mpi" 2>&1 </dev/null); rc=$?
check "a daemon dead before answering INIT: exit 1, one stderr line naming the mountpoint, no mount left" \
	"1|1|named|unmounted" \
	"$rc|$(grep -c . <<<"$err")|$(grep -qF "$T/mpi" <<<"$err" && echo named)|$(is_mounted "$T/mpi" || echo unmounted)"
mkdir -p "$T/mpi2"
_track_mount "$T/mpi2"
if HOLD_INIT=1000 preload timeout 60 "$UFSMOUNT" -o "dirs=$A:$B,allow_idmap" "$T/mpi2" </dev/null; then
	out=$("$IDMAP" "$T/mpi2")
	# (the kernel's offer is known once INIT is answered: a statfs waits for it)
	if [ "$out" != OK ] && timeout 20 stat -f "$T/mpi2" >/dev/null && [ "$("$UFSMOUNT" --status --json "$T/mpi2" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["idmap"])')" != allowed ]; then
		skip "INIT answered 1 s late: the mount idmaps as soon as ufsmount returns" "no idmapped FUSE mounts here (Linux 6.12)"
	else
		check "INIT answered 1 s late: the mount idmaps as soon as ufsmount returns" OK "$out"
	fi
	ufs_umount "$T/mpi2"
else
	fail "INIT answered 1 s late: ufsmount -o allow_idmap" "exit status $?"
fi

# refusals
# the message must name MUSTNAME (the branch as given or as resolved)
refuse() { # LABEL MUSTNAME OPTS [MNT]
	local label=$1 name=$2 opts=$3 mnt=${4:-$T/mp2} rc err nl
	_track_mount "$mnt"
	err=$(timeout 20 "$UFSMOUNT" -o "$opts" "$mnt" 2>&1 >/dev/null </dev/null); rc=$?
	if is_mounted "$mnt"; then fail "refused: $label" "it mounted"; ufs_umount "$mnt"; return; fi
	if [ $rc -eq 0 ]; then fail "refused: $label" "exit status 0"; return; fi
	nl=$(printf '%s\n' "$err" | grep -c .)
	if [ "$nl" -ne 1 ]; then fail "refused: $label" "expected one line on stderr, got $nl: $err"; return; fi
	if ! grep -qF -- "$name" <<<"$err"; then fail "refused: $label" "stderr does not name '$name': $err"; return; fi
	pass "refused: $label (exit $rc: $err)"
}
refuse "missing branch"               "$T/nonexistent" "dirs=$A:$T/nonexistent"
refuse "non-directory branch"         "$T/plainfile"   "dirs=$A:$T/plainfile"
refuse "branch contains another"      "$A"             "dirs=$A:$A/sub"
refuse "branch contained in another"  "$A/sub"         "dirs=$A/sub:$A"
refuse "same branch twice"            "$B"             "dirs=$A:$B:$B"
refuse "branch contains the mountpoint" "$T/outer"     "dirs=$T/outer" "$T/outer/mnt"
refuse "mountpoint contains the branch" "$T/mp2"       "dirs=$A:$T/mp2/br" "$T/mp2"
refuse "branch is the mountpoint"     "$T/mp2"         "dirs=$A:$T/mp2" "$T/mp2"
refuse "two rw branches"              "$B"             "dirs=$A=rw:$B=rw"
refuse "rw not first"                 "$B"             "dirs=$A=ro:$B=rw"
refuse "bad mode"                     "$B"             "dirs=$A:$B=rx"
refuse "unknown option"               "bogus_opt"      "dirs=$A:$B,bogus_opt"
ln -s "$A" "$T/Alink"
refuse "same branch via a symlink"    "$A"             "dirs=$A:$T/Alink"
refuse "same branch via .."           "$A"             "dirs=$A:$A/sub/.."
refuse "same branch with a trailing /" "$A"            "dirs=$A:$A/"
refuse "branch under the mountpoint via a symlink" "$A" "dirs=$T/Alink/sub" "$A"
refuse "empty dirs"                   ""               "dirs="
err=$("$UFSMOUNT" "$T/mp2" 2>&1 </dev/null); rc=$?
check "no dirs option: non-zero exit, no mount" yes "$([ $rc -ne 0 ] && ! is_mounted "$T/mp2" && echo yes || echo no)"
err=$("$UFSMOUNT" -o "dirs=$A" "$T/nonexistent_mnt" 2>&1 </dev/null); rc=$?
check "missing mountpoint: non-zero exit" yes "$([ $rc -ne 0 ] && echo yes || echo no)"
check "no mount left by refusals" "" "$(awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo)"
finish
