#!/bin/bash
# SPDX-License-Identifier: MIT
# ufsmount --status MNT: branches with their modes and per-operation counters
# (checked loosely: paths, rw/ro, and counters that grow with the operations).
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

build_std_layers
ufs_mount "$DIRS" "$M" || bail "mount failed"

st=$("$UFSMOUNT" --status "$M" 2>&1); rc=$?
check "--status exits 0" 0 "$rc"
for br in "$A" "$B" "$C"; do
	check "--status names branch ${br#"$T"/}" yes "$(grep -qF "$br" <<<"$st" && echo yes || echo no)"
done
check "--status shows rw on the rw branch's line" yes "$(grep -F "$A" <<<"$st" | grep -qw rw && echo yes || echo no)"
check "--status shows ro on the ro branches' lines" yes \
	"$(grep -F "$B" <<<"$st" | grep -qw ro && grep -F "$C" <<<"$st" | grep -qw ro && echo yes || echo no)"

counter() { ufs_counter "$M" "$1"; }
positive() { # LABEL ERE
	local v; v=$(counter "$2")
	if [ -n "$v" ] && [ "$v" -gt 0 ]; then pass "$1 ($v)"
	else fail "$1" "expected a line matching /$2/ with a number > 0, got '${v:-no such line}'"; fi
}

cat "$M/c_only" >/dev/null; ls "$M/d" >/dev/null
positive "lookup counter non-zero after lookups" 'lookup'
chmod 600 "$M/c_only"
positive "copy-up counter non-zero after a copy-up" 'copy.?up'
rm "$M/b_only"
positive "whiteout counter non-zero after an unlink of a lower file" 'whiteout'

c1=$(counter 'copy.?up')
for f in d/c_file d/b_file cdir/x; do echo x >>"$M/$f"; done
c2=$(counter 'copy.?up')
if [ -n "$c1" ] && [ -n "$c2" ] && [ "$c2" -gt "$c1" ]; then pass "copy-up counter grows ($c1 -> $c2)"
else fail "copy-up counter grows" "before '$c1', after '$c2'"; fi

if [ -z "${UFS_EXTRA_OPTS:-}" ]; then
	check "--status: idmap off by default" "off" "$("$UFSMOUNT" --status "$M" | awk '$1 == "idmap" {print $2}')"
fi
ufs_umount "$M"
ufs_mount "$DIRS,allow_idmap" "$M" || bail "mount failed"
check "--status: -o allow_idmap granted by this kernel (6.12+)" "allowed" \
	"$("$UFSMOUNT" --status --json "$M" | python3 -c 'import json,sys; print(json.load(sys.stdin)["idmap"])')"

# -o subtype= (which --help offers) renames the mount type: --status still finds it
ufs_umount "$M"
ufs_mount "$DIRS,subtype=myunion,fsname=mydata" "$M" || bail "mount with subtype failed"
check "subtype=: the mount's type" "fuse.myunion" "$(awk -v m="$M" '$5 == m { for (i = 7; $i != "-"; i++) ; print $(i + 1) }' /proc/self/mountinfo)"
st=$("$UFSMOUNT" --status "$M" 2>&1); rc=$?
check "subtype=: --status exits 0" 0 "$rc"
check "subtype=: --status names the rw branch" yes "$(grep -F "$A" <<<"$st" | grep -qw rw && echo yes || echo no)"
check "subtype=: --status --json" "$A" \
	"$("$UFSMOUNT" --status --json "$M" | python3 -c 'import json,sys; print(json.load(sys.stdin)["branches"][0]["path"])')"
# another FUSE filesystem is not ours: a clear refusal naming its type
if command -v fuse-overlayfs >/dev/null 2>&1; then
	mkdir -p "$T/fo/l" "$T/fo/m"
	_track_mount "$T/fo/m"
	if fuse-overlayfs -o "lowerdir=$T/fo/l" "$T/fo/m" 2>/dev/null; then
		st=$("$UFSMOUNT" --status "$T/fo/m" 2>&1); rc=$?
		check "--status on fuse-overlayfs's mount: exits 1" 1 "$rc"
		check_re "  says it is not ours, with its type" "not a ufsmount mount \(fuse\.fuse-overlayfs" "$st"
		ufs_umount "$T/fo/m"
	fi
fi

# Requests per operation (docs/perf.md "Requests per metadata operation"):
# counts from the daemon's counters around a loop of 100, bounded well below
# what one extra request per operation would add, so a regression fails.
ufs_umount "$M"
ufs_mount "$DIRS" "$M" || bail "mount failed"
mkdir "$M/rq" && : >"$M/rq/c0" || bail "setup of the request-count dir failed"
reqs() { # OP...: the sum of these ops' counters
	local sum=0 v
	for op in "$@"; do v=$(counter "$op"); sum=$((sum + ${v:-0})); done
	echo "$sum"
}
loop() { (cd "$M/rq" && python3 -I -c "import os
for i in range(100):
    $1") || fail "loop: $1" "python exited $?"; }
at_most() { # LABEL MAX OPS-BEFORE OPS-AFTER
	local d=$(($4 - $3))
	if [ "$d" -le "$2" ]; then pass "$1 ($d)"; else fail "$1" "got $d, expected at most $2"; fi
}
b=$(reqs getattr); s0=$(reqs setattr)
loop 'os.chmod("c0", 0o600 if i % 2 else 0o644); os.stat("c0")'
at_most "100 chmod+stat: no GETATTR after SETATTR" 10 "$b" "$(reqs getattr)"
at_most "100 chmod+stat: one SETATTR each" 100 "$s0" "$(reqs setattr)"
b=$(reqs lookup)
loop 'os.path.exists("nosuch")'
at_most "100 stats of a missing name: its negative entry is cached" 2 "$b" "$(reqs lookup)"
all="lookup getattr create release getxattr open flush setattr"
b=$(reqs $all)
loop 'os.close(os.open(f"f{i}", os.O_CREAT | os.O_WRONLY, 0o644))'
# LOOKUP, CREATE, RELEASE and the parent's GETATTR: 400
at_most "100 create+close: 4 requests each" 420 "$b" "$(reqs $all)"
b=$(reqs lookup getattr mkdir rmdir)
loop 'os.mkdir("d"); os.rmdir("d")'
# LOOKUP, MKDIR, RMDIR and two GETATTRs of the parent: 500
at_most "100 mkdir+rmdir: 5 requests each (FORGET aside)" 520 "$b" "$(reqs lookup getattr mkdir rmdir)"

st=$("$UFSMOUNT" --status "$T" 2>&1); rc=$?
check "--status on a non-union dir fails" yes "$([ $rc -ne 0 ] && echo yes || echo no)"
st=$("$UFSMOUNT" --status "$T/nonexistent" 2>&1); rc=$?
check "--status on a missing path fails" yes "$([ $rc -ne 0 ] && echo yes || echo no)"
ufs_umount "$M"
st=$("$UFSMOUNT" --status "$M" 2>&1); rc=$?
check "--status on an unmounted mountpoint fails" yes "$([ $rc -ne 0 ] && echo yes || echo no)"
finish
