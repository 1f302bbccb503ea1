#!/bin/bash
# SPDX-License-Identifier: MIT
# img commit through the real binary: the layer tar (order, headers,
# whiteouts, opaque dirs, hardlinks, symlinks, internal names), the same
# content twice = the same layer digest, the config (history, --change), the
# new image mounts at once, a hostile rw branch (symlinks out), a commit of a
# mounted container being written, ENOSPC on a small tmpfs and kill -9 leave
# the store as it was (fsck passes).
. "$(dirname "$0")/imglib.sh"
need python3
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
need_fuse

img import --busybox busybox >/dev/null || { echo "pull failed"; exit 1; }
# the last layer blob of an image
last_layer() {
	python3 -c 'import json,sys
d=json.load(sys.stdin)[0]["Digest"]
m=json.load(open(sys.argv[1]+"/blobs/sha256/"+d[7:]))
print(m["layers"][-1]["digest"][7:])' "$STORE" < <(img inspect "$1")
}

id=$(img create --name c1 busybox)
C=$STORE/containers/$id
mp=$(ctr_mount c1) || exit 1
echo changed > "$mp/etc/passwd"
mkdir -p "$mp/new/dir"; echo x > "$mp/new/dir/f"
ln "$mp/new/dir/f" "$mp/new/hard"
ln -s /etc/shadow "$mp/new/abs-link"
rm "$mp/bin/ls"
rm -rf "$mp/usr/sbin"; mkdir "$mp/usr/sbin"; touch "$mp/usr/sbin/q"
long=$(printf 'd%.0s' {1..60})/$(printf 'f%.0s' {1..80})
mkdir -p "$mp/new/$(dirname "$long")"; echo long > "$mp/new/$long"
mkfifo "$mp/new/fifo"
echo s > "$mp/new/xa"; setfattr -n user.color -v blue "$mp/new/xa" 2>/dev/null
touch -d '2001-02-03 04:05:06' "$mp/new/dir/f"
img umount c1 >/dev/null
# ufsmount's private names, and one of another store, must never be committed
mkdir -p "$C/rw/.wh..wh.work/cu.1"; echo junk > "$C/rw/.wh..wh.work/cu.1/x"
touch "$C/rw/.wh..wh.plnk"

# ---------------------------------------------------------------- commit
iid=$(img commit -m "first" -a "Ann <a@x>" -c 'CMD ["echo","hi"]' -c 'ENV A=1' -c 'WORKDIR /new' c1 mine:v1); rc=$?
check "commit: exit 0" 0 "$rc"
check_re "commit: prints the image id" "^sha256:[0-9a-f]{64}$" "$iid"
check "commit: the image is listed" "$iid" "$(img inspect mine:v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')"
L1=$(last_layer mine:v1)
iid2=$(img commit c1 mine:v2)
check "commit twice: same layer digest" "$L1" "$(last_layer mine:v2)"
check "commit twice: 2 layers each" "2 2" "$(for i in mine:v1 mine:v2; do img inspect $i | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["RootFS"]["Layers"]))'; done | tr '\n' ' ' | sed 's/ $//')"
check "inspect: --change applied, author, comment" "['echo', 'hi'] True /new Ann <a@x> first" \
	"$(img inspect mine:v1 | python3 -c 'import json,sys
j=json.load(sys.stdin)[0]; c=j["Config"]
print(c["Cmd"], "A=1" in c["Env"] and any(e.startswith("PATH=") for e in c["Env"]), c["WorkingDir"], j["Author"], j["Comment"])')"
check_re "history: the commit entry on top" "^IMAGE.*\|${iid:7:12} +.* ago +img commit --change 'CMD \[\"echo\",\"hi\"\]' .* first\|<missing> +.*busybox rootfs" \
	"$(img history mine:v1 | tr '\n' '|')"
check "no temp left" "" "$(ls -A "$STORE/tmp")"
check_true "fsck after commit" img fsck

# ---------------------------------------------------------------- the tar
python3 - "$STORE/blobs/sha256/$L1" > "$T/tar.txt" <<'PY'
import gzip, sys, tarfile
raw = open(sys.argv[1], "rb").read()
print("gzip-header", raw[3], int.from_bytes(raw[4:8], "little"))  # FLG (no name), MTIME
with tarfile.open(fileobj=gzip.GzipFile(fileobj=__import__("io").BytesIO(raw)), mode="r|") as t:
    for m in t:
        kind = {tarfile.REGTYPE: "f", tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l",
                tarfile.LNKTYPE: "h", tarfile.FIFOTYPE: "p"}.get(m.type, "?")
        extra = sorted(k for k in m.pax_headers if k != "path")
        print(kind, m.name, m.linkname or "-", m.uname or "-", m.gname or "-", m.mtime, oct(m.mode), ",".join(extra) or "-")
PY
tarlist=$(cat "$T/tar.txt")
check "gzip: no name, mtime 0" "gzip-header 0 0" "$(head -1 "$T/tar.txt")"
names=$(sed 1d "$T/tar.txt" | awk '{print $2}')
check "tar: entries in sorted depth-first order" "$(python3 -c '
import sys
names=sys.stdin.read().split()
def key(n): return n.rstrip("/").split("/")
print("\n".join(sorted(names, key=key)))' <<<"$names")" "$names"
check "tar: no internal names" "" "$(grep -E '\.wh\.\.wh\.(work|plnk)' <<<"$names")"
check "tar: whiteout for the deleted file" "f bin/.wh.ls - - - 0 0o444 -" "$(grep ' bin/.wh.ls ' "$T/tar.txt")"
check "tar: opaque marker" "f usr/sbin/.wh..wh..opq" "$(grep -o '^f usr/sbin/.wh..wh..opq' "$T/tar.txt")"
check "tar: numeric owners only" "" "$(sed 1d "$T/tar.txt" | awk '$4 != "-" || $5 != "-"')"
check "tar: hardlink kept" "h new/hard new/dir/f" "$(grep -o '^h new/hard new/dir/f' "$T/tar.txt")"
check "tar: symlink verbatim" "l new/abs-link /etc/shadow" "$(grep -o '^l new/abs-link /etc/shadow' "$T/tar.txt")"
check "tar: mtime kept" "981173106" "$(awk '$2 == "new/dir/f" {print $6}' "$T/tar.txt")"
check "tar: fifo" "p new/fifo" "$(grep -o '^p new/fifo' "$T/tar.txt")"
check "tar: no atime/ctime/pax junk" "" "$(sed 1d "$T/tar.txt" | awk '{print $8}' | grep -v -E '^-$|^SCHILY.xattr.user.color(,LIBARCHIVE.xattr.user.color)?$|^LIBARCHIVE.xattr.user.color(,SCHILY.xattr.user.color)?$')"
check "tar: long name" "yes" "$(grep -q "new/$long" <<<"$names" && echo yes)"

# ---------------------------------------------------------------- the new image
id2=$(img create mine:v1)
mp2=$(ctr_mount "$id2") || exit 1
check "new image: mounts at once, the new file" "x" "$(cat "$mp2/new/dir/f")"
check "new image: hardlink" "x" "$(cat "$mp2/new/hard")"
check "new image: deleted file" "no" "$(test -e "$mp2/bin/ls" && echo yes || echo no)"
check "new image: opaque dir" "q" "$(ls "$mp2/usr/sbin")"
check "new image: symlink verbatim" "/etc/shadow" "$(readlink "$mp2/new/abs-link")"
check "new image: long name" "long" "$(cat "$mp2/new/$long")"
check "new image: the union's mtime" "981173106" "$(stat -c %Y "$mp2/new/dir/f")"
check "new image: diff of the new container is empty" "" "$(img diff "$id2")"

# a commit of a mounted container being written
( i=0; while [ $i -lt 4000 ]; do echo "line $i" >> "$mp2/new/log"; i=$((i+1)); done ) &
wp=$!; _PIDS+=("$wp")
sleep 0.2
cid=$(img commit "$id2" live:1); rc=$?
wait "$wp"
check "commit of a mounted container being written: exit 0" "0" "$rc"
check_true "fsck after the live commit" img fsck
check_re "live commit: a prefix of the log was captured" "^(line [0-9]+$|$)" \
	"$(id3=$(img create live:1); m=$(ctr_mount "$id3") || exit 1; tail -c 200 "$m/new/log" 2>/dev/null | tail -1; img rm -f "$id3" >/dev/null)"
img rm -f "$id2" >/dev/null

# ---------------------------------------------------------------- hostile rw
id4=$(img create --name evil busybox)
R=$STORE/containers/$id4/rw
mkdir -p "$T/outside"; echo secret > "$T/outside/secret"
ln -s "$T/outside" "$R/etc"             # a dir replaced by a symlink out
ln -s / "$R/root"
ln "$T/outside/secret" "$R/hl" 2>/dev/null # a hardlink to a file outside: its data, as a file
h=$(img commit evil evil:1); rc=$?
check "hostile rw: commit works" "0" "$rc"
L=$(last_layer evil:1)
ent=$(python3 -c 'import gzip,sys,tarfile
for m in tarfile.open(sys.argv[1], "r:gz"): print(m.name, m.linkname)' "$STORE/blobs/sha256/$L")
check "hostile rw: symlinks kept as links, never followed" "etc $T/outside|root /" "$(grep -E '^(etc|root)( |/)' <<<"$ent" | tr '\n' '|' | sed 's/|$//')"
check "hostile rw: nothing from outside" "" "$(grep -E 'secret' <<<"$ent" | grep -v '^hl ')"
check "hostile rw: diff does not follow either" "C /etc|A /hl|C /root" "$(img diff evil | tr '\n' '|' | sed 's/|$//')" 
img rm evil >/dev/null

# ---------------------------------------------------------------- errors
check_fails "commit: unknown container" "No such container: nope" img commit nope
check_fails "commit: bad change" "only CMD, ENTRYPOINT, ENV, WORKDIR, USER, VOLUME, EXPOSE, LABEL, STOPSIGNAL and HEALTHCHECK" img commit -c 'ONBUILD RUN x' c1
img commit -c 'VOLUME /v1 /v2' -c 'EXPOSE 80 53/udp' -c 'LABEL a=1 b="two words"' -c 'STOPSIGNAL SIGUSR1' c1 withmeta >/dev/null
check "commit -c VOLUME EXPOSE LABEL STOPSIGNAL" \
	'{"/v1":{},"/v2":{}} {"80/tcp":{},"53/udp":{}} {"a":"1","b":"two words"} SIGUSR1' \
	"$(img inspect -f '{{json .Config.Volumes}} {{json .Config.ExposedPorts}} {{json .Config.Labels}} {{.Config.StopSignal}}' withmeta)"
check_fails "commit: bad name" "invalid reference format" img commit c1 BAD

# ---------------------------------------------------------------- ENOSPC
if mkdir -p "$T/small" && mount -t tmpfs -o size=8m tmpfs "$T/small" 2>/dev/null; then
	S=$T/small/store
	"$IMG_BIN" --root "$S" import --busybox busybox >/dev/null
	sid=$("$IMG_BIN" --root "$S" create busybox)
	head -c 3500000 /dev/urandom > "$S/containers/$sid/rw/big"
	before=$(cd "$S" && find . -printf '%p %s %y\n' | sort; sha256sum index.json)
	out=$("$IMG_BIN" --root "$S" commit "$sid" full:1 2>&1 >/dev/null); rc=$?
	check "ENOSPC: commit fails with 125" "125" "$rc"
	check_re "ENOSPC: one line" "^img: .*No space left on device$" "$out"
	check "ENOSPC: the store as it was" "$before" "$(cd "$S" && find . -printf '%p %s %y\n' | sort; sha256sum index.json)"
	check_true "ENOSPC: fsck passes" "$IMG_BIN" --root "$S" fsck
	"$IMG_BIN" --root "$S" rm "$sid" >/dev/null
	umount "$T/small"
else
	skip "ENOSPC" "cannot mount a tmpfs"
fi

# ---------------------------------------------------------------- kill -9
kid=$(img create busybox)
head -c 60000000 /dev/urandom > "$STORE/containers/$kid/rw/big"
names=$(img images --format '{{.Repository}}:{{.Tag}}' | sort)
for delay in 0.05 0.3 0.8; do
	"$IMG_BIN" --root "$STORE" commit "$kid" killed:1 >/dev/null 2>&1 &
	p=$!; sleep $delay; kill -9 $p 2>/dev/null; wait $p 2>/dev/null
	check_true "kill -9 during commit ($delay s): fsck passes" img fsck
done
img rmi killed:1 >/dev/null 2>&1
check_true "gc after kill -9" img gc
check "gc removed the temps" "" "$(ls -A "$STORE/tmp")"
check "no new name" "$names" "$(img images --format '{{.Repository}}:{{.Tag}}' | sort)"
img rm -f "$kid" c1 >/dev/null
finish
