#!/bin/bash
# SPDX-License-Identifier: MIT
# FUSE_HANDLE_KILLPRIV_V2: the daemon clears suid, sgid (of a group-executable
# file) and security.capability on write and truncate by a caller without
# CAP_FSETID and on chown, as the kernel would; root's write keeps suid; the
# kernel no longer asks for security.capability before each write (the
# getxattr counter). With passthrough (writes never reach the daemon) and
# without, on upper files and on lower files (copied up by the write).
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse
command -v setcap >/dev/null && command -v getcap >/dev/null || skip_all "setcap/getcap missing"

new_branches
for m in passthrough nopassthrough; do
	mk_file "$B/low_$m" low 6777
done
ro_snapshot "$B" "$C"

mode() { stat -c %a "$1" 2>&1; }

for m in passthrough nopassthrough; do
	ufs_mount "$DIRS,$m" "$M" || bail "mount ($m) failed"
	ls "$M" >/dev/null # INIT done
	check "$m: --status: killpriv v2 negotiated" v2 \
		"$("$UFSMOUNT" --status "$M" | awk '$1 == "killpriv" { print $2 }')"
	f=$M/f_$m
	echo x >"$f"

	chmod 6777 "$f"; as_nobody sh -c "echo y >>'$f'"
	check "$m: write by a non-owner clears suid and sgid" 777 "$(mode "$f")"
	check "  in the rw branch too" 777 "$(mode "$A/f_$m")"
	check_content "  the data was written" "$f" "$(printf 'x\ny')"
	chmod 6777 "$f"; as_nobody truncate -s 1 "$f"
	check "$m: truncate by a non-owner clears suid and sgid" 777 "$(mode "$f")"
	chmod 2767 "$f"; as_nobody sh -c "echo y >>'$f'"
	check "$m: sgid without group execute stays on write" 2767 "$(mode "$f")"
	chmod 6777 "$f"; echo z >>"$f"
	check "$m: root's write keeps suid and sgid" 6777 "$(mode "$f")"
	chmod 6777 "$f"; truncate -s 2 "$f"
	check "$m: root's truncate keeps suid and sgid" 6777 "$(mode "$f")"
	chown 65534 "$f"
	check "$m: chown clears suid and sgid" 777 "$(mode "$f")"
	chown 0 "$f"

	# security.capability goes with any write, truncate or chown
	setcap cap_net_raw+ep "$f"
	check_re "$m: setcap through the mount" "cap_net_raw" "$(getcap "$f")"
	as_nobody sh -c "echo y >>'$f'"
	check "$m: write by a non-owner drops security.capability" "" "$(getcap "$f")"
	setcap cap_net_raw+ep "$f"; echo z >>"$f"
	check "$m: root's write drops security.capability" "" "$(getcap "$f")"
	setcap cap_net_raw+ep "$f"; as_nobody truncate -s 0 "$f"
	check "$m: truncate drops security.capability" "" "$(getcap "$f")"
	setcap cap_net_raw+ep "$f"; chown 65534 "$f"
	check "$m: chown drops security.capability" "" "$(getcap "$f")"
	check "  in the rw branch too" "" "$(getcap "$A/f_$m")"

	# a lower suid file: the write copies it up, then the bits go
	as_nobody sh -c "echo y >>'$M/low_$m'"
	check "$m: write by a non-owner to a lower suid file" 777 "$(mode "$M/low_$m")"
	check "  the copy in the rw branch" 777 "$(mode "$A/low_$m")"

	# no getxattr security.capability per write any more
	g0=$(ufs_counter "$M" getxattr); g0=${g0:-0}
	: >"$M/loop"; chmod 666 "$M/loop"
	as_nobody dd if=/dev/zero of="$M/loop" bs=512 count=200 conv=notrunc status=none
	g1=$(ufs_counter "$M" getxattr); g1=${g1:-0}
	if [ $((g1 - g0)) -le 5 ]; then pass "$m: 200 writes cost $((g1 - g0)) getxattr (not one each)"
	else fail "$m: 200 writes, getxattr requests" "at most 5, got $((g1 - g0))"; fi
	ufs_umount "$M"
done
finish
