#!/bin/bash
# SPDX-License-Identifier: MIT
# ufsmount as a non-root user (uid 65534), mounting through fusermount3: the
# union works, its status socket lives in $XDG_RUNTIME_DIR/ufsmount (or
# /tmp/ufsmount-UID without it) so `ufsmount --status` reaches it, the rw
# branch lock holds, and the user unmounts it with fusermount3 -u.
#
# Where /dev/fuse is root-only (mode 0600 on this host), the script runs
# itself again in a private mount namespace with a 0666 node of the same
# device bound over /dev/fuse there: the host's /dev/fuse is never changed,
# and the node goes away with the namespace.
if [ -z "${UFS_USER_NS:-}" ] && [ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] &&
	! setpriv --reuid=65534 --regid=65534 --clear-groups -- test -r /dev/fuse -a -w /dev/fuse 2>/dev/null; then
	command -v unshare >/dev/null 2>&1 || { echo "SKIP: /dev/fuse is root-only and unshare is missing"; exit 77; }
	UFS_USER_NS=1 exec unshare --mount --propagation private -- bash "$0" "$@"
fi
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv missing"
[ -u "$(command -v fusermount3)" ] || skip_all "fusermount3 is not setuid root"

if [ -n "${UFS_USER_NS:-}" ]; then
	read -r maj min < <(stat -c '%t %T' /dev/fuse)
	mknod "$T/fuse" c $((16#$maj)) $((16#$min)) 2>/dev/null && chmod 666 "$T/fuse" &&
		mount --bind "$T/fuse" /dev/fuse ||
		skip_all "/dev/fuse is root-only (mode $(stat -c %a /dev/fuse)) and no user-accessible node can be bound over it here"
	note "/dev/fuse is root-only on this host: a 0666 node is bound over it in this test's own mount namespace"
fi

U=$T/u
A=$U/A B=$U/B M=$U/mnt N=$U/mnt2 RUN=$U/run
mkdir -p "$A" "$B" "$M" "$N" "$RUN" "$U/X"
mk_file "$B/lower" lower
mk_file "$B/d/inner" inner
mk_file "$B/gone" gone
chown -R 65534:65534 "$U"
chmod 700 "$RUN"
ro_snapshot "$B"
user() { setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH="$PATH" XDG_RUNTIME_DIR="$RUN" "$@"; }

_track_mount "$M"
out=$(user "$UFSMOUNT" -o "dirs=$A:$B" "$M" 2>&1); rc=$?
check "user mount: exits 0" 0 "$rc"
[ $rc -eq 0 ] || bail "user mount failed: $out"
check "user mount: in mountinfo, made by uid 65534" yes \
	"$(awk -v m="$M" '$5 == m' /proc/self/mountinfo | grep -q 'fuse.ufsmount .*user_id=65534' && echo yes || echo no)"
check "user mount: reads a lower file" lower "$(user cat "$M/lower")"
user sh -c "echo more >>'$M/lower'"
check "user mount: copy-up on write" "lowermore" "$(cat "$A/lower")"
user rm "$M/gone"
check_exists "user mount: whiteout written" "$A/.wh.gone"
check "user mount: new files are the user's" 65534 "$(user sh -c "echo x >'$M/new' && stat -c %u '$A/new'")"

dev=$(awk -v m="$M" '$5 == m { print $3 }' /proc/self/mountinfo)
st=$(user "$UFSMOUNT" --status "$M" 2>&1); rc=$?
check "--status as the user: exits 0" 0 "$rc"
check "--status as the user: names the rw branch" yes "$(grep -F "$A" <<<"$st" | grep -qw rw && echo yes || echo no)"
check_exists "  its socket is in \$XDG_RUNTIME_DIR/ufsmount" "$RUN/ufsmount/$dev.sock"
check "  that dir is 0700 and the user's" "700 65534" "$(stat -c '%a %u' "$RUN/ufsmount")"

out=$(user "$UFSMOUNT" -o "dirs=$A:$U/X" "$N" 2>&1); rc=$?
_track_mount "$N"
check "user: a second mount of the live rw branch is refused" 1 "$rc"
check_re "  naming the holder" "in use as the rw branch of the mount on $M" "$out"

out=$(user fusermount3 -u "$M" 2>&1); rc=$?
check "fusermount3 -u as the user: exits 0" 0 "$rc"
wait_unmounted "$M" 10
check "  unmounted" no "$(is_mounted "$M" && echo yes || echo no)"
for ((i = 0; i < 100; i++)); do [ -e "$RUN/ufsmount/$dev.sock" ] || break; sleep 0.1; done
check_absent "  the daemon removed its socket" "$RUN/ufsmount/$dev.sock"

# -o subtype= as a user
out=$(user "$UFSMOUNT" -o "dirs=$A:$B,subtype=userunion" "$M" 2>&1) || bail "user mount with subtype failed: $out"
wait_mounted "$M" 10
st=$(user "$UFSMOUNT" --status "$M" 2>&1); rc=$?
check "subtype= as the user: --status exits 0" 0 "$rc"
user fusermount3 -u "$M"; wait_unmounted "$M" 10

# the overlay format as a user: 0/0 char device whiteouts (Linux >= 5.8
# lets anyone make those), user.overlay.opaque (trusted.* needs root)
mkdir -p "$U/OU" "$U/OW"; chown 65534:65534 "$U/OU" "$U/OW"
out=$(user "$UFSMOUNT" -o "lowerdir=$B,upperdir=$U/OU,workdir=$U/OW" "$M" 2>&1) || bail "user overlay mount failed: $out"
wait_mounted "$M" 10
user mv "$M/lower" "$M/moved"
check "user, overlay: rmdir leaves a 0/0 char device" "character special file 0:0" \
	"$(user sh -c "rm -rf '$M/d' && stat -c '%F %t:%T' '$U/OU/d'")"
user mkdir "$M/d"
check "user, overlay: mkdir over it is opaque by user.overlay.opaque" "y" \
	"$(getfattr --only-values -n user.overlay.opaque "$U/OU/d" 2>/dev/null)"
check "user, overlay: a renamed lower file leaves a whiteout" "character special file" "$(stat -c %F "$U/OU/lower")"
check "user, overlay: the view" "d gone moved" "$(user ls "$M" | tr '\n' ' ' | sed 's/ $//')"
user fusermount3 -u "$M"; wait_unmounted "$M" 10

# no XDG_RUNTIME_DIR: /tmp/ufsmount-UID (0700, checked to be the user's)
fallback=/tmp/ufsmount-65534
had_fallback=no; [ -e "$fallback" ] && had_fallback=yes
userx() { setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH="$PATH" "$@"; }
out=$(userx "$UFSMOUNT" -o "dirs=$A:$B" "$M" 2>&1) || bail "user mount without XDG_RUNTIME_DIR failed: $out"
wait_mounted "$M" 10
for _ in $(seq 1 50); do userx "$UFSMOUNT" --status "$M" >/dev/null 2>&1 && break; sleep 0.1; done
st=$(userx "$UFSMOUNT" --status "$M" 2>&1); rc=$?
check "no XDG_RUNTIME_DIR: --status as the user exits 0" 0 "$rc"
st=$("$UFSMOUNT" --status "$M" 2>&1); rc=$?
check "  root's --status reaches the user's mount too" 0 "$rc"
userx fusermount3 -u "$M"; wait_unmounted "$M" 10
[ "$had_fallback" = no ] && rm -rf --one-file-system "$fallback"
finish
