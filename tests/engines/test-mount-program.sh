#!/bin/bash
# SPDX-License-Identifier: MIT
# ufsmount as containers/storage's mount_program, under the real engines:
# podman and buildah run, commit, build and diff with
# --storage-opt overlay.mount_program=ufsmount, side by side with the same
# engines on fuse-overlayfs, and the images they commit hold the same
# content. Each engine gets its own --root/--runroot in the test's temp dir,
# the mount program is reached through a wrapper there that logs the command
# line it is given, and everything is removed at the end (containers, images,
# mounts). Needs root, podman, buildah, runc, fuse-overlayfs, busybox.
. "$(dirname "$0")/enginelib.sh"
engines_setup log
check "both stores hold the same base image" "$(pod ufs image inspect -f '{{.Id}}' base:1)" \
	"$(pod fo image inspect -f '{{.Id}}' base:1 2>&1)"

# podman run: writes of every kind, then diff and commit
OPS='set -e
echo new >/new_file
echo appended >>/etc/dir/g
rm /etc/passwd
mkdir -p /newdir/sub && echo n >/newdir/sub/f
chmod 700 /etc/dir/sub
chown 1234:5678 /etc/dir/sub/f
ln -s /etc/dir/g /link
ln /new_file /hardlink
mv /ren/file /ren/file2
mv /ren/d /ren/d2
mkfifo /fifo
rm -rf /data/deep
echo done'
for s in ufs fo; do
	out=$(pod "$s" run --name c1 --network none base:1 sh -c "$OPS" 2>&1); rc=$?
	check "$s: podman run (file operations) exits 0" 0 "$rc"
	[ $rc -eq 0 ] || note "$s: $out"
	pod "$s" diff c1 | sort >"$T/$s.diff"
	pod "$s" commit -q c1 localhost/c1:1 >/dev/null || fail "$s: podman commit"
	pod "$s" save -q -o "$T/$s.c1.tar" localhost/c1:1
	info layers "$T/$s.c1.tar" 1 >"$T/$s.c1.layer"
	mp=$(pod "$s" image mount localhost/c1:1)
	case "$mp" in "$T"/?*) info tree "$mp" >"$T/$s.c1.tree" ;; *) fail "$s: image mount gave '$mp'" ;; esac
	pod "$s" image unmount localhost/c1:1 >/dev/null
done
check "podman diff: the same changes" "$(cat "$T/fo.diff")" "$(cat "$T/ufs.diff")"
check "  it lists them" "A /new_file D /etc/passwd" "$(grep -E '^(A /new_file|D /etc/passwd)$' "$T/ufs.diff" | tr '\n' ' ' | sed 's/ $//')"
check "podman commit: the committed layers hold the same content" "$(cat "$T/fo.c1.layer")" "$(cat "$T/ufs.c1.layer")"
check_re "  the layer has the whiteouts" "etc/\.wh\.passwd f .*ren/\.wh\.d f" "$(tr '\n' ' ' <"$T/ufs.c1.layer")"
check "podman image mount: the committed images show the same tree" "$(cat "$T/fo.c1.tree")" "$(cat "$T/ufs.c1.tree")"
out=$(pod ufs run --rm --network none localhost/c1:1 sh -c 'cat /new_file /etc/dir/g; ls /etc; stat -c %u:%g /etc/dir/sub/f' 2>&1)
check "ufs: the committed image runs" "new
g
appended
dir
hostname
hosts
mtab
1234:5678" "$out"

# rm -rf of a lower dir, then mkdir: the new dir must be empty in the image
RMRF='rm -rf /etc/dir && mkdir /etc/dir && echo x >/etc/dir/x'
for s in ufs fo; do
	pod "$s" run --name c2 --network none base:1 sh -c "$RMRF" >/dev/null 2>&1 || fail "$s: podman run c2"
	pod "$s" commit -q c2 localhost/c2:1 >/dev/null || fail "$s: podman commit c2"
	eval "${s}_c2=\$(pod $s run --rm --network none localhost/c2:1 ls -R /etc/dir 2>&1 | tr '\n' ' ')"
done
check "ufs: rm -rf DIR; mkdir DIR: committed with only the new entry" "/etc/dir: x " "$ufs_c2"
[ "$fo_c2" = "$ufs_c2" ] ||
	note "fuse-overlayfs $(fuse-overlayfs --version 2>/dev/null | head -1 | awk '{print $NF}') commits this as '$fo_c2' (the removed files come back: podman's naive diff prunes by its st_dev/st_ino)"

# podman build: RUN, COPY, a whiteout, an opaque dir
mkdir -p "$T/ctx"; echo hello >"$T/ctx/hello"
cat >"$T/ctx/Containerfile" <<'EOF'
FROM localhost/base:1
RUN mkdir -p /app && echo built >/app/f && rm /etc/passwd && echo more >>/etc/dir/g
COPY hello /app/hello
RUN mv /ren/file /ren/moved && rm -rf /data && ln -s /app/f /app/link
EOF
for s in ufs fo; do
	out=$(pod "$s" build -q --network none -t localhost/built:1 "$T/ctx" 2>&1); rc=$?
	check "$s: podman build exits 0" 0 "$rc"
	[ $rc -eq 0 ] || note "$s: $out"
	pod "$s" save -q -o "$T/$s.built.tar" localhost/built:1
	info layers "$T/$s.built.tar" 3 >"$T/$s.built.layers"
	pod "$s" image diff localhost/built:1 localhost/base:1 2>/dev/null | sort >"$T/$s.built.diff"
done
check "podman build: the three new layers hold the same content" "$(cat "$T/fo.built.layers")" "$(cat "$T/ufs.built.layers")"
check "podman image diff built base: the same" "$(cat "$T/fo.built.diff")" "$(cat "$T/ufs.built.diff")"
check "ufs: the built image runs" "built hello" "$(pod ufs run --rm --network none localhost/built:1 sh -c 'cat /app/link /app/hello' | tr '\n' ' ' | sed 's/ $//')"

# buildah: from, run, commit
for s in ufs fo; do
	ctr=$(bah "$s" from -q localhost/base:1) || fail "$s: buildah from"
	out=$(bah "$s" run --network none "$ctr" -- sh -c 'echo from buildah >/bfile; rm /etc/dir/sub/f; chmod 600 /etc/dir/g' 2>&1); rc=$?
	check "$s: buildah run exits 0" 0 "$rc"
	[ $rc -eq 0 ] || note "$s: $out"
	bah "$s" commit -q "$ctr" localhost/b1:1 >/dev/null || fail "$s: buildah commit"
	bah "$s" rm "$ctr" >/dev/null
	pod "$s" save -q -o "$T/$s.b1.tar" localhost/b1:1
	info layers "$T/$s.b1.tar" 1 >"$T/$s.b1.layer"
done
check "buildah commit: the committed layers hold the same content" "$(cat "$T/fo.b1.layer")" "$(cat "$T/ufs.b1.layer")"
check_re "  with the whiteout" "etc/dir/sub/\.wh\.f" "$(cat "$T/ufs.b1.layer")"

# what containers/storage ran: our command line was fuse-overlayfs's
check_re "the engines ran ufsmount with lowerdir=,upperdir=,workdir=" "^-o lowerdir=[^ ]+,upperdir=[^ ]+/diff,workdir=[^ ]+/work,? $T/ufs/root/overlay/[0-9a-f]+/merged$" \
	"$(grep upperdir= "$T/mp-ufs.log" | head -1)"
check_re "  and read-only lowerdir=DIFF:..." "^-o lowerdir=[^ ,]+/diff:[^ ,]+ $T/ufs/root/overlay/[0-9a-f]+/merged$" \
	"$(grep -v upperdir= "$T/mp-ufs.log" | head -1)"
note "options seen: $(sed 's/ [^ ]*$//; s/^-o //' "$T/mp-ufs.log" | tr ',' '\n' | sed 's/=.*//' | sort -u | tr '\n' ' ')"

# everything goes: no container, no image, no mount left
engines_left() { awk -v t="$T/" 'index($5, t) == 1 && $0 ~ / - fuse/ { print $5 }' /proc/self/mountinfo; }
for s in ufs fo; do
	pod "$s" rm -af -t 0 >/dev/null 2>&1
	bah "$s" rm --all >/dev/null 2>&1
	pod "$s" rmi -af >/dev/null 2>&1
	check "$s: no container left" "" "$(pod "$s" ps -aq)"
done
check "no mount program's mount left" "" "$(engines_left)"
finish
