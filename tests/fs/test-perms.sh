#!/bin/bash
# SPDX-License-Identifier: MIT
# Permissions are checked by the kernel (default_permissions) against the
# union's view; new objects belong to the caller; copy-up keeps the original
# owner. Runs commands as uid/gid 65534 with setpriv; mounts with allow_other.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
command -v setpriv >/dev/null || skip_all "setpriv missing"

build_std_layers
mk_file "$C/secret" secret 0600
mk_file "$C/pub" pub 0644
mk_file "$C/world" world 0666
mk_dir  "$C/tmp" 1777
mk_file "$C/tmp/rootfile" root 0644
mk_dir  "$C/private" 0700; mk_file "$C/private/f" f
mk_dir  "$C/sgid" 2775; chgrp 1234 "$C/sgid"
# setgid and not, writable by all, merged (lower) and upper-only; a lower
# name to hide in the setgid one (mkdir over it makes an opaque dir aside)
mk_dir  "$C/sgw" 2777; chgrp 1234 "$C/sgw"; mk_file "$C/sgw/hidden/x" x
mk_dir  "$C/nosgw" 0777
mk_dir  "$A/upw" 0777
mk_dir  "$C/nobodydir" 0755; chown 65534:65534 "$C/nobodydir"
mk_file "$C/nobodydir/own" own 0644; chown 65534:65534 "$C/nobodydir/own"
for f in tw1 tw2 tw3; do mk_file "$C/$f" "$f" 0666; touch -d '2001-01-01' "$C/$f"; done
mk_dir "$C/nobodydir/sub" 0755; chown 65534:65534 "$C/nobodydir/sub"
mk_dir  "$C/ro555" 0555; mk_file "$C/ro555/w" w 0666
mk_file "$C/tmp/nbown" mine 0644; chown 65534:65534 "$C/tmp/nbown"
ro_snapshot "$B" "$C"
ufs_mount "$DIRS,allow_other" "$M" || bail "mount failed"

nb() { as_nobody "$@"; }
own() { stat -c %u:%g "$1" 2>&1; }

check "mount has default_permissions" yes "$(mount_opts "$M" | grep -q default_permissions && echo yes || echo no)"
check_false "nobody cannot read a 0600 root file" nb cat "$M/secret"
check "  EACCES" EACCES "$(nb "$FSOP" open "$M/secret" r 2>&1)"
check_content "root can read it" "$M/secret" secret
check_true "nobody can read a 0644 file" nb cat "$M/pub"
check_false "nobody cannot write a 0644 root file" nb sh -c "echo x >>'$M/pub'"
check_absent "  and no copy-up happened" "$A/pub"
check_false "nobody cannot create in a root 0755 dir" nb touch "$M/nbfile"
check_false "nobody cannot list a 0700 dir" nb ls "$M/private"
check_false "nobody cannot chmod a root file" nb chmod 777 "$M/pub"
check_false "nobody cannot chown" nb chown 65534 "$M/pub"
check_false "nobody cannot unlink in a root dir" nb rm -f "$M/pub"
check_exists "  still there" "$M/pub"

check_true "nobody can write a 0666 lower file" nb sh -c "echo more >>'$M/world'"
check "  copy-up keeps the original owner" "0:0 666" "$(own "$A/world") $(stat -c %a "$A/world" 2>&1)"

check_true "nobody creates a file in a 1777 lower dir" nb sh -c "echo mine >'$M/tmp/nb'"
check "  owner in rw branch" 65534:65534 "$(own "$A/tmp/nb")"
check "  owner through the mount" 65534:65534 "$(own "$M/tmp/nb")"
check "  parent copied up with sticky 1777" 1777 "$(stat -c %a "$A/tmp" 2>&1)"
check_true "nobody mkdir in a 1777 dir" nb mkdir "$M/tmp/nbdir"
check "  owner" 65534:65534 "$(own "$A/tmp/nbdir")"
check_true "nobody symlink in a 1777 dir" nb ln -s x "$M/tmp/nbsym"
check "  owner" 65534:65534 "$(stat -c %u:%g "$A/tmp/nbsym" 2>&1)"
check_true "nobody mkfifo in a 1777 dir" nb mkfifo "$M/tmp/nbfifo"
check "  owner" 65534:65534 "$(own "$A/tmp/nbfifo")"
check_false "sticky: nobody cannot remove root's file" nb rm -f "$M/tmp/rootfile"
check_exists "  still there" "$M/tmp/rootfile"
check_true "nobody can remove own file" nb rm "$M/tmp/nb"
check_true "nobody edits own file in a lower dir" nb sh -c "echo more >>'$M/nobodydir/own'"
check "  copy-up keeps owner 65534" 65534:65534 "$(own "$A/nobodydir/own")"

check_true "nobody writes a 0666 file in a 0555 lower dir (copy-up needs no dir write access)" nb sh -c "echo x >>'$M/ro555/w'"
check "  copy-up kept owner and parent mode" "0:0 555" "$(own "$A/ro555/w") $(stat -c %a "$A/ro555" 2>&1)"
check_true "nobody removes own lower file in a 1777 dir" nb rm "$M/tmp/nbown"
check_errno "  gone" ENOENT lstat "$M/tmp/nbown"
check_exists "  whiteout in rw" "$A/tmp/.wh.nbown"

check_true "nobody touches (times to now) a 0666 root file" nb touch "$M/tw1"
check "  copied up, owner kept" 0:0 "$(own "$A/tw1")"
check_false "nobody cannot set explicit times on a root file" nb touch -d '2005-01-01' "$M/tw3"
check_true "nobody truncates a 0666 root file" nb truncate -s 1 "$M/tw2"
check "  size" 1 "$(stat -c %s "$M/tw2" 2>&1)"
check_true "nobody sets user.* xattr on a 0666 root file" nb setfattr -n user.nb -v 1 "$M/tw3"
check_true "nobody chmods own lower file" nb chmod 600 "$M/nobodydir/own"
check "  copied up, mode and owner" "600 65534:65534" "$(stat -c '%a %u:%g' "$A/nobodydir/own" 2>&1)"
check_true "nobody creates in own lower dir (parent copy-up)" nb sh -c "echo c >'$M/nobodydir/sub/new'"
check "  parent copied up with owner 65534" 65534:65534 "$(own "$A/nobodydir/sub")"
check "  file owner" 65534:65534 "$(own "$A/nobodydir/sub/new")"
check_true "nobody renames own lower file in a 1777 dir" nb mv "$M/tmp/nbdir" "$M/tmp/nbdir2"

echo r >"$M/rootnew"
check "root creates: owner 0:0" 0:0 "$(own "$A/rootnew")"
echo g >"$M/sgid/f"; mkdir "$M/sgid/sd"
check "setgid dir: file inherits group" 1234 "$(stat -c %g "$M/sgid/f" 2>&1)"
check "setgid dir: subdir inherits group and setgid" "1234 2755" "$(stat -c '%g %a' "$M/sgid/sd" 2>&1)"
# the group a new object takes, for callers whose group is not the
# daemon's (the parent's setgid bit is read only then): as kernel overlayfs
gsee() { stat -c %g "$@" 2>&1 | tr '\n' ' ' | sed 's/ $//'; }
nb sh -c "echo n >'$M/sgw/nf'; mkdir '$M/sgw/nd'; mkfifo '$M/sgw/np'; ln -s t '$M/sgw/nl'"
check "setgid dir, nobody's file, dir, fifo, symlink: the dir's group" "1234 1234 1234 1234" \
	"$(gsee "$A/sgw/nf" "$A/sgw/nd" "$A/sgw/np" "$A/sgw/nl")"
check "  the dir setgid" 2755 "$(stat -c %a "$A/sgw/nd" 2>&1)"
rm -rf "$M/sgw/hidden"; nb mkdir "$M/sgw/hidden"
check "  mkdir over a hidden lower name: the group, setgid, opaque" "1234 2755 yes" \
	"$(stat -c '%g %a' "$A/sgw/hidden" 2>&1) $([ -e "$A/sgw/hidden/.wh..wh..opq" ] && echo yes || echo no)"
setpriv --regid=4321 --clear-groups -- sh -c "echo r >'$M/sgw/rf'; echo r >'$M/nosgw/rf'; mkdir '$M/nosgw/rd'"
check "root with group 4321: the setgid dir's group, else 4321" "1234 4321 4321" \
	"$(gsee "$A/sgw/rf" "$A/nosgw/rf" "$A/nosgw/rd")"
nb sh -c "echo n >'$M/nosgw/nf'"
check "nobody in a dir without setgid: its own group" 65534 "$(gsee "$A/nosgw/nf")"
chgrp 1234 "$M/upw"; chmod g+s "$M/upw"
nb sh -c "echo n >'$M/upw/f1'; mkdir '$M/upw/d1'"
check "chmod g+s of a dir through the mount, then nobody creates: the group" "1234 1234" \
	"$(gsee "$A/upw/f1" "$A/upw/d1")"
chmod g-s "$M/upw"
nb sh -c "echo n >'$M/upw/f2'; mkdir '$M/upw/d2'"
check "chmod g-s, then nobody creates: its own group" "65534 65534" "$(gsee "$A/upw/f2" "$A/upw/d2")"
chmod g+s "$M/nosgw"   # copy-up of the lower dir with the bit
nb sh -c "echo n >'$M/nosgw/f3'"
check "chmod g+s of a lower dir (copied up), then nobody creates: the group" 0 "$(gsee "$A/nosgw/f3")"
(umask 027; echo u >"$M/umasked"; mkdir "$M/umaskdir")
check "umask applied to create" 640 "$(stat -c %a "$M/umasked" 2>&1)"
check "umask applied to mkdir" 750 "$(stat -c %a "$M/umaskdir" 2>&1)"
chmod 0600 "$M/pub"
check_false "chmod through the mount takes effect for nobody" nb cat "$M/pub"
chown 65534 "$M/secret"
check_true "chown through the mount takes effect for nobody" nb cat "$M/secret"
# A name swapped for a symlink in the rw branch behind the daemon (what a
# racing container can do between our checks), while the kernel still holds
# it as a regular file: no operation the daemon does may follow it out.
# (Once the kernel sees the symlink, following it is the caller's own path
# walk, in the caller's namespace, not the daemon's.)
mkdir -p "$T/outside"; echo victim >"$T/outside/victim"; chmod 600 "$T/outside/victim"
touch -d @1500000000 "$T/outside/victim"
want=$(stat -c '%a %u:%g %s %Y' "$T/outside/victim")
i=0
for op in "chmod 777" "chown 65534:65534" "truncate -s 0" "touch -d @1000000000" \
	"setfattr -n user.x -v 1" "sh -c echo>>"; do
	i=$((i + 1))
	echo mine >"$M/swap$i"; stat "$M/swap$i" >/dev/null   # the kernel holds a regular file
	rm "$A/swap$i"; ln -s "$T/outside/victim" "$A/swap$i"
	if [ "$op" = "sh -c echo>>" ]; then sh -c "echo x >>'$M/swap$i'" 2>/dev/null
	else $op "$M/swap$i" 2>/dev/null; fi
	check "swapped symlink, $op: the outside file is untouched" "$want" \
		"$(stat -c '%a %u:%g %s %Y' "$T/outside/victim")"
done
check "swapped symlink: no xattr reached the outside file" "" "$(getfattr -d "$T/outside/victim" 2>/dev/null)"
finish
