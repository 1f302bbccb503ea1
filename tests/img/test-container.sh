#!/bin/bash
# SPDX-License-Identifier: MIT
# Containers through the real binary: create (state, init layer, names), ps,
# rmi refused while a container uses the image, gc keeping a container's
# image, mount/umount (idempotent, the union's content), diff (A/C/D, opaque
# dirs, parents, internal names hidden, JSON), export, rm (-f of a mounted one).
. "$(dirname "$0")/imglib.sh"
need python3
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
need_fuse

img import --busybox busybox >/dev/null || { echo "pull failed"; exit 1; }

# ---------------------------------------------------------------- create
id=$(img create --name c1 busybox sh -c 'echo hi'); rc=$?
check "create: exit 0" 0 "$rc"
check_re "create: prints a 64-hex id" "^[0-9a-f]{64}$" "$id"
C=$STORE/containers/$id
check "state dir 0700" "700" "$(stat -c %a "$C")"
check "config.json: id, name, image" "$id c1 busybox ['sh', '-c', 'echo hi']" \
	"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["Id"], j["Name"], j["Image"], j["Cmd"])' "$C/config.json")"
check "rw branch: empty dir" "" "$(ls -A "$C/rw")"
check "init: stubs" "dev dev/pts dev/shm etc etc/hostname etc/hosts etc/resolv.conf proc sys" \
	"$(cd "$C/init" && find . -mindepth 1 | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')"
check "init: hostname = 12 hex of the id" "${id:0:12}" "$(cat "$C/init/etc/hostname")"
check_re "init: hosts has localhost" "127.0.0.1[[:space:]]+localhost" "$(cat "$C/init/etc/hosts")"
check_re "init: resolv.conf has a nameserver" "nameserver [0-9a-f.:]+" "$(cat "$C/init/etc/resolv.conf")"
check "no temp left" "" "$(ls -A "$STORE/tmp")"
check "inspect CONTAINER: docker's keys, State created" "/c1 created False ${id:0:12}" \
	"$(img inspect c1 | python3 -c 'import json,sys; j=json.load(sys.stdin)[0]; print(j["Name"], j["State"]["Status"], j["State"]["Running"], j["Id"][:12])')"
check_fails "create: name in use" "already in use" img create --name c1 busybox
check_fails "create: bad name" "Invalid container name" img create --name '-x' busybox
check_fails "create: unknown image" "No such image: nope" img create --pull never nope
id2=$(img create busybox)
check_re "create without a name: img_ + 12 hex" "img_${id2:0:12}$" "$(img ps -a --format '{{.Names}}' | head -1)"

# ---------------------------------------------------------------- ps
check "ps -a -q: newest first" "${id2:0:12} ${id:0:12}" "$(img ps -a -q | tr '\n' ' ' | sed 's/ $//')"
check_re "ps -a: docker's header and row" \
	"^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\|.*\|${id:0:12} +busybox +\"sh -c echo hi\" +.* +Created +c1$" \
	"$(img ps -a | tr '\n' '|' | sed 's/|$//')"
check "ps: no running container" "" "$(img ps -q)"
check "ps --format json" "${id:0:12} c1 Created created" "$(img ps -a --format json | python3 -c '
import json,sys
for l in sys.stdin:
    j=json.loads(l)
    if j["Names"]=="c1": print(j["ID"], j["Names"], j["Status"], j["State"])')"
check "ps: the image's command when none given" '"sh"' "$(img ps -a --format '{{.Command}}' | head -1)"

# ---------------------------------------------------------------- rmi / gc
img tag busybox other:1
check "rmi of one of two names works" "Untagged: other:1" "$(img rmi other:1)"
check_fails "rmi of the image used by a container" "container ${id2:0:12}|container ${id:0:12}" img rmi busybox
check_fails "rmi by id too" "must be forced" img rmi "$(img images -q busybox)"
check "rmi -f untags" "Untagged: busybox:latest" "$(img rmi -f busybox | head -1)"
img gc >/dev/null
check "gc keeps the container's layer" "1" "$(ls "$STORE/layers" | wc -l)"
check_true "fsck with containers" img fsck
img import --busybox busybox >/dev/null

# ---------------------------------------------------------------- mount
mp=$(ctr_mount c1); rc=$?
check "mount: exit 0" 0 "$rc"
[ "$rc" = 0 ] || finish   # everything below writes into "$mp/..."
check "mount: under the run dir" "$STORE.run/containers/$id/merged" "$mp"
check_re "mount: a ufsmount mount, nodev" "fuse.ufsmount .*nodev|nodev.* fuse.ufsmount" "$(grep " $mp " /proc/self/mountinfo)"
check "mount: idempotent" "$mp" "$(img mount "${id:0:8}")"
check "mount: one mount only" "1" "$(grep -c " $mp " /proc/self/mountinfo)"
check "union: image content" "$(sha256sum < /bin/busybox)" "$(sha256sum < "$mp/bin/busybox")"
check "union: init layer on top of the image" "${id:0:12}" "$(cat "$mp/etc/hostname")"
check "union: /proc stub" "yes" "$(test -d "$mp/proc" && echo yes)"
check "union: no internal names" "" "$(ls -a "$mp" | grep '^\.wh\.')"
check "mount.json records it" "$mp" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Mountpoint"])' "$STORE.run/containers/$id/mount.json")"

# changes through the mount
echo changed > "$mp/etc/passwd"
mkdir -p "$mp/new/dir"; echo x > "$mp/new/dir/f"
rm "$mp/bin/ls"
rm -rf "$mp/usr/sbin"; mkdir "$mp/usr/sbin"; touch "$mp/usr/sbin/q"
cat "$mp/etc/group" >/dev/null
chmod 600 "$mp/root" 2>/dev/null
check "rw branch: ufsmount's work dir exists" "yes" "$(test -d "$C/rw/.wh..wh.work" && echo yes)"

# ---------------------------------------------------------------- diff
want='C /bin
D /bin/ls
C /etc
C /etc/passwd
A /new
A /new/dir
A /new/dir/f
C /root
C /usr
C /usr/sbin
A /usr/sbin/q'
check "diff: docker's lines, sorted, parents as C" "$want" "$(img diff c1)"
check "diff: the same unmounted" "$want" "$(img umount c1 >/dev/null; img diff c1)"
check "umount: gone from mountinfo" "0" "$(grep -c " $mp " /proc/self/mountinfo)"
check "umount: mountpoint removed" "no" "$(test -e "$mp" && echo yes || echo no)"
check_true "umount: again is fine" img umount c1
check "diff --format json" "['/bin', '/etc', '/etc/passwd', '/root', '/usr', '/usr/sbin'] ['/new', '/new/dir', '/new/dir/f', '/usr/sbin/q'] ['/bin/ls']" \
	"$(img diff --format json c1 | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["changed"], j["added"], j["deleted"])')"
# a copy-up with nothing changed is no change (XXH3 of the data)
cp -a "$STORE/layers/$(ls "$STORE/layers" | head -1)/etc/group" "$C/rw/etc/group"
check "diff: identical copy-up not reported" "$want" "$(img diff c1)"
echo >> "$C/rw/etc/group"
check_re "diff: changed copy-up reported" "C /etc/group" "$(img diff c1)"
rm "$C/rw/etc/group"
check "diff of an untouched container: nothing" "" "$(img diff "$id2")"
check_fails "diff: unknown container" "No such container: zz" img diff zz

# ---------------------------------------------------------------- export
check_true "export -o FILE" img export -o "$T/exp.tar" c1
check "export: unmounted again" "0" "$(grep -c " $mp " /proc/self/mountinfo)"
list=$(tar tf "$T/exp.tar")
check "export: the new file" "x" "$(tar xOf "$T/exp.tar" new/dir/f)"
check "export: the changed file" "changed" "$(tar xOf "$T/exp.tar" etc/passwd)"
check "export: deleted file absent" "" "$(grep -x 'bin/ls' <<<"$list")"
check "export: opaque dir replaced" "usr/sbin/q" "$(grep '^usr/sbin/.' <<<"$list")"
check "export: no whiteout names" "" "$(grep '\.wh\.' <<<"$list")"
check "export: busybox binary" "$(sha256sum < /bin/busybox)" "$(tar xOf "$T/exp.tar" bin/busybox | sha256sum)"
check "export: no temp file left" "exp.tar" "$(ls "$T" | grep exp)"

# ---------------------------------------------------------------- rm
mp=$(ctr_mount c1) || finish
check_fails "rm of a mounted container" "is mounted" img rm c1
check "rm -f of a mounted container" "c1" "$(img rm -f c1)"
check "rm -f: unmounted" "0" "$(grep -c " $mp " /proc/self/mountinfo)"
check "rm: state gone" "no no" "$(test -e "$C" && echo yes || echo no) $(test -e "$STORE.run/containers/$id" && echo yes || echo no)"
check_true "rm by id prefix" img rm "${id2:0:10}"
check "ps -a: empty" "" "$(img ps -a -q)"
check "rm: no temp left" "" "$(ls -A "$STORE/tmp")"
out=$(img rm c1 2>&1); rc=$?
check "rm: unknown: docker's exit 1 and message" "1 img: No such container: c1" "$rc $out"
check "rmi works once the containers are gone" "Untagged: busybox:latest" "$(img rmi busybox | head -1)"
img gc >/dev/null
check "gc: the layer went with the last user" "0" "$(ls "$STORE/layers" | wc -l)"
check_true "fsck at the end" img fsck
finish
