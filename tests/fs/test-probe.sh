#!/bin/bash
# SPDX-License-Identifier: MIT
# Changes that trust what the name's resolution saw beside and below it
# (the upper whiteout, the lower names: lookup.c's ufs_probe) instead of
# asking again, on the edges where the resolution stops early: a stale
# .wh.NAME in an opaque upper-only dir, a whiteout in a middle branch over
# a bottom name, an upper dir over a lower file, a target hidden below.
. "$(dirname "$0")/../lib/fslib.sh"
need_root_fuse

new_branches
# an opaque upper-only dir with stale whiteouts, and lower names it hides
mk_opq "$A/opd"; mk_wh "$A/opd" st; mk_wh "$A/opd" st2; mk_wh "$A/opd" st3
mk_file "$B/opd/st" B; mk_file "$B/opd/st3" B
# whited out in the rw branch, present at the bottom
mk_file "$C/w1" C; mk_wh "$A" w1
mk_file "$C/w2/inner" C; mk_wh "$A" w2
mk_file "$C/w3" C; mk_wh "$A" w3
# whited out in the middle branch over a bottom name
mk_file "$C/mid/x" C; mk_wh "$B" mid
mk_dir "$C/x5"; mk_wh "$B" x5; mk_dir "$A/x5"
# an upper dir over a lower file of the same name
mk_dir "$A/x4"; mk_file "$B/x4" B
# rename targets: hidden in the rw branch over a bottom dir; an empty bottom dir
mk_file "$C/t6/inner" C; mk_wh "$A" t6
mk_dir "$C/t8"
ro_snapshot "$B" "$C"

ufs_mount "$DIRS" "$M" || bail "mount failed"
fast() { ufs_counter "$M" rmdir_fast; }

# the opaque dir: nothing below shows, the stale whiteouts go with each new name
check "opaque upper-only dir: empty" "" "$(ls -A "$M/opd")"
echo new >"$M/opd/st"
check_content "create over a stale .wh. in an opaque dir" "$M/opd/st" new
check_absent "  the stale whiteout removed" "$A/opd/.wh.st"
check_errno "mkdir over a stale .wh. in an opaque dir" OK mkdir "$M/opd/st2"
check_absent "  the stale whiteout removed" "$A/opd/.wh.st2"
check "  the new dir empty" "" "$(ls -A "$M/opd/st2")"
check_errno "rename onto a stale .wh. in an opaque dir" OK rename "$M/opd/st" "$M/opd/st3"
check_content "  the renamed file" "$M/opd/st3" new
check_absent "  the stale whiteout removed" "$A/opd/.wh.st3"
check_errno "  the source gone (B's st stays hidden)" ENOENT lstat "$M/opd/st"
check_errno "unlink in the opaque dir" OK unlink "$M/opd/st3"
check_errno "  gone (B's st3 stays hidden)" ENOENT lstat "$M/opd/st3"
check_absent "  no whiteout: nothing below shows" "$A/opd/.wh.st3"

# whited out in the rw branch over a bottom name
echo new >"$M/w1"
check_content "create over an upper whiteout" "$M/w1" new
check_absent "  the whiteout removed" "$A/.wh.w1"
check_errno "mkdir over an upper whiteout of a lower dir" OK mkdir "$M/w2"
check "  empty (the lower entries hidden)" "" "$(ls -A "$M/w2")"
check_exists "  made opaque" "$A/w2/.wh..wh..opq"
check_absent "  the whiteout removed" "$A/.wh.w2"
echo src >"$M/src3"
check_errno "rename onto an upper whiteout" OK rename "$M/src3" "$M/w3"
check_content "  the target" "$M/w3" src
check_absent "  the whiteout removed" "$A/.wh.w3"
check_errno "rename it away again" OK rename "$M/w3" "$M/back3"
check_errno "  the lower name stays hidden" ENOENT lstat "$M/w3"
check_exists "  by a new whiteout" "$A/.wh.w3"

# whited out in the middle branch: the resolution stops there, the bottom
# name is still below (a new dir is made opaque, as before)
check_errno "mkdir over a middle whiteout of a bottom dir" OK mkdir "$M/mid"
check "  empty" "" "$(ls -A "$M/mid")"
check_exists "  made opaque" "$A/mid/.wh..wh..opq"
f0=$(fast)
check_errno "rmdir of an upper dir whose lower dir is hidden in the middle" OK rmdir "$M/x5"
check "  the fast path (nothing below shows)" $((f0 + 1)) "$(fast)"
check_errno "  gone" ENOENT lstat "$M/x5"
check_absent "  no whiteout" "$A/.wh.x5"

# an upper dir over a lower file: removing it must hide the file
check "upper dir over a lower file: a dir" directory "$(stat -c %F "$M/x4")"
f0=$(fast)
check_errno "rmdir of it" OK rmdir "$M/x4"
check "  not the fast path" "$f0" "$(fast)"
check_errno "  the lower file stays hidden" ENOENT lstat "$M/x4"
check_exists "  by a whiteout" "$A/.wh.x4"

# a dir renamed where a lower name is: made opaque
mkdir "$M/sd6"
check_errno "rename a dir onto an upper whiteout of a lower dir" OK rename "$M/sd6" "$M/t6"
check "  empty (the lower entries hidden)" "" "$(ls -A "$M/t6")"
check_exists "  made opaque" "$A/t6/.wh..wh..opq"
check_absent "  the whiteout removed" "$A/.wh.t6"
mkdir "$M/sd8"
check_errno "rename a dir over an empty lower dir" OK rename "$M/sd8" "$M/t8"
check_exists "  made opaque" "$A/t8/.wh..wh..opq"
check_errno "  the source gone" ENOENT lstat "$M/sd8"

ufs_umount "$M"

# a merged dir's lower names are read once (lookup.c's lnames): a name in
# none of them is asked of the rw branch alone, one in any of them as before
PA=$T/PA PB=$T/PB PC=$T/PC
mkdir -p "$PA/m" "$PB/m" "$PC/m" "$PC/lo/sub"
mk_file "$PB/m/inb" B; mk_file "$PC/m/inc" C; mk_file "$PC/m/hid" C; mk_wh "$PA/m" hid
mk_file "$PC/m/midwh" C; mk_wh "$PB/m" midwh          # whited out in the middle
mk_wh "$PA/m" stale; mk_wh "$PA/m" stale2             # stale: no lower name
mk_dir "$PA/m/ud"; mk_wh "$PA/m" ud                   # upper dir, stale .wh. beside
mk_opq "$PA/m/od"; mk_file "$PA/m/od/in" A            # opaque upper-only dir
mk_file "$PB/m/od/below" B                            # ... hiding a lower one
mk_file "$PC/lo/only" C                               # a dir only the bottom has
ro_snapshot "$PB" "$PC"
ufs_mount "dirs=$PA=rw:$PB=ro:$PC=ro" "$M" || bail "mount failed"
check_errno "merged dir: a missing name (the lower names read)" ENOENT lstat "$M/m/none"
check_content "  a name only the middle branch has" "$M/m/inb" B
check_content "  a name only the bottom branch has" "$M/m/inc" C
check_errno "  a bottom name whited out in the rw branch" ENOENT lstat "$M/m/hid"
check_errno "  a bottom name whited out in the middle branch" ENOENT lstat "$M/m/midwh"
check "  an upper dir beside a stale .wh.: a dir" directory "$(stat -c %F "$M/m/ud")"
check "  an opaque upper dir: its own entries only" "in" "$(ls -A "$M/m/od")"
check "  the listing" "inb inc od ud" "$(ls "$M/m" | tr '\n' ' ' | sed 's/ $//')"
check_errno "  stale .wh.: absent" ENOENT lstat "$M/m/stale"
echo n >"$M/m/stale"; mkdir "$M/m/stale2"
check_content "create over a stale .wh. (no lower name)" "$M/m/stale" n
check_absent "  the stale whiteout removed" "$PA/m/.wh.stale"
check_absent "  the same for mkdir" "$PA/m/.wh.stale2"
echo h >"$M/m/hid"; echo w >"$M/m/midwh"
check_content "create over a rw whiteout of a bottom name" "$M/m/hid" h
check_absent "  the whiteout removed" "$PA/m/.wh.hid"
check_content "create where the middle branch hides a bottom name" "$M/m/midwh" w
rm "$M/m/hid" "$M/m/inc" "$M/m/stale"
check_errno "unlink of it: the bottom name stays hidden" ENOENT lstat "$M/m/hid"
check_exists "  by a whiteout" "$PA/m/.wh.hid"
check_errno "unlink of a bottom name: hidden" ENOENT lstat "$M/m/inc"
check_exists "  by a whiteout" "$PA/m/.wh.inc"
check_absent "unlink of a name no lower branch has: no whiteout" "$PA/m/.wh.stale"
check_errno "  gone" ENOENT lstat "$M/m/stale"
# a dir only the bottom has, listed before and after its copy-up
check_errno "a bottom-only dir: a missing name" ENOENT lstat "$M/lo/none"
check_content "  its file" "$M/lo/only" C
echo n >"$M/lo/new"
check_content "  after the copy-up (a new name): the bottom file" "$M/lo/only" C
check_content "  the new one" "$M/lo/new" n
check "  the listing" "new only sub" "$(ls "$M/lo" | tr '\n' ' ' | sed 's/ $//')"
# a merged dir whose lower names were read, moved, and made again
check_errno "rename of the merged dir" OK rename "$M/lo" "$M/lo2"
check_content "  its bottom file at the new name" "$M/lo2/only" C
check_errno "  a missing name there" ENOENT lstat "$M/lo2/none"
mkdir "$M/lo"
check "  mkdir at the old name: empty (the bottom dir hidden)" "" "$(ls -A "$M/lo")"
check_errno "  the bottom file hidden there" ENOENT lstat "$M/lo/only"
echo n >"$M/lo/only"
check_content "  a new file over the hidden name" "$M/lo/only" n
ufs_umount "$M"
ufs_mount "dirs=$PA=rw:$PB=ro:$PC=ro" "$M" || bail "remount failed"
check "after a remount: the merged listing" "inb midwh od stale2 ud" "$(ls "$M/m" | tr '\n' ' ' | sed 's/ $//')"
check_errno "  the bottom name still hidden" ENOENT lstat "$M/m/inc"
ufs_umount "$M"

# a dir with more lower names than are kept (65536): asked as before
HA=$T/HA HB=$T/HB
mkdir -p "$HA/big" "$HB/big"
python3 -c 'import sys
for i in range(65540): open(f"{sys.argv[1]}/f{i}", "w").close()' "$HB/big"
mk_file "$HB/big/hid" B; mk_wh "$HA/big" hid; mk_wh "$HA/big" stale
ufs_mount "dirs=$HA=rw:$HB=ro" "$M" || bail "mount failed"
check_errno "a huge merged dir: a missing name" ENOENT lstat "$M/big/none"
check_errno "  its first lower name" OK lstat "$M/big/f0"
check_errno "  its last" OK lstat "$M/big/f65539"
check_errno "  a lower name whited out" ENOENT lstat "$M/big/hid"
echo n >"$M/big/stale"
check_absent "  create over a stale .wh.: removed" "$HA/big/.wh.stale"
rm "$M/big/f7"
check_exists "  unlink of a lower name: a whiteout" "$HA/big/.wh.f7"
ufs_umount "$M"

# the overlay format: a whiteout object in the top lower branch over a
# bottom dir; the scan stops at it, having seen a lower object of the name
L1=$T/L1 L2=$T/L2 U=$T/U W=$T/W
mkdir -p "$L1" "$L2" "$U" "$W"
mk_file "$L2/og/x" x; mknod "$L1/og" c 0 0
ro_snapshot "$L1" "$L2"
ufs_mount "lowerdir=$L1:$L2,upperdir=$U,workdir=$W" "$M" || bail "overlay mount failed"
check_errno "overlay: the bottom dir hidden" ENOENT lstat "$M/og"
check_errno "mkdir over it" OK mkdir "$M/og"
check "  empty (the bottom entries hidden)" "" "$(ls -A "$M/og")"
check "  made opaque" y "$(getfattr --only-values -n trusted.overlay.opaque "$U/og" 2>/dev/null)"
ufs_umount "$M"
finish
