#!/bin/bash
# SPDX-License-Identifier: MIT
# The verbs scripts use around the core ones (issue 14), through the real
# binary: load from stdin, save and export to stdout, import - -c -m,
# rename, image/container/system prune, system df [-v], info, version, and
# the image/container/system groups.
. "$(dirname "$0")/imglib.sh"
flat() { tr '\n' '|' | sed 's/|$//'; }
rc_err() { local out; out=$("$@" 2>&1 >/dev/null); echo "$?:$out"; }
img import --busybox busybox >/dev/null || { fail "import busybox"; finish; }

# ------------------------------------------------------------ load < file, save > file
img save busybox > "$T/bb.tar"
check_re "save streams to stdout" '^[0-9]+$' "$(stat -c %s "$T/bb.tar")"
img rmi busybox >/dev/null
check "load < file" "Loaded image: busybox:latest" "$(img load < "$T/bb.tar")"
img rmi busybox >/dev/null
check "load -q from a pipe: the result line only" "Loaded image: busybox:latest
0:" "$(cat "$T/bb.tar" | img load -q 2>&1; echo "0:")"
img rmi busybox >/dev/null
# on a tty stderr, progress is drawn; -q keeps it off (script(1) gives the tty)
if command -v script >/dev/null; then
	out=$(script -qec "$IMG_BIN --root $STORE load -q -i $T/bb.tar" /dev/null | tr -d '\r')
	check "load -q on a tty: no progress, the result line" "Loaded image: busybox:latest" "$out"
fi
check "the loaded image is there" "busybox:latest" "$(img images --format '{{.Repository}}:{{.Tag}}')"
check "load of garbage on stdin fails, leaves no spool" "125" "$(echo junk | img load >/dev/null 2>&1; echo $?)"
check "no temp file left" "" "$(ls "$STORE/tmp" | grep load-stdin)"

# ------------------------------------------------------------ export | import - -c -m
img create --name one busybox true >/dev/null
id=$(img export one | img import -c 'CMD ["/bin/echo","hi"]' -c 'ENV A=1' -c 'LABEL k=v' -c 'VOLUME /v' -m imported - imp:1)
check_re "export | import -: an image id" '^sha256:[0-9a-f]{64}$' "$id"
check "import -c: the config" '["/bin/echo","hi"] A=1 v {"/v":{}}' \
	"$(img inspect -f '{{json .Config.Cmd}} {{index .Config.Env 1}} {{.Config.Labels.k}} {{json .Config.Volumes}}' imp:1)"
check "import -m: the history comment" "imported" "$(img history --format '{{.Comment}}' imp:1)"
check "import -c with a bad instruction: nothing imported" \
	"125:img: --change 'RUN x': only CMD, ENTRYPOINT, ENV, WORKDIR, USER, VOLUME, EXPOSE, LABEL, STOPSIGNAL and HEALTHCHECK are supported" \
	"$(img export -o "$T/one.tar" one; rc_err img import -c 'RUN x' "$T/one.tar" imp:2)"
check "export refuses a terminal" "125" "$(script -qec "$IMG_BIN --root $STORE export one" /dev/null >/dev/null 2>&1; echo $?)"

# ------------------------------------------------------------ rename
img rename one two
check "rename" "two" "$(img ps -a --format '{{.Names}}')"
check "rename to the same name" "125:img: Renaming a container with the same name as its current name" \
	"$(rc_err img rename two two)"
img create --name three busybox true >/dev/null
check_re "rename to a name in use: docker's error" \
	'^125:img: Error when allocating new name: Conflict. The container name "/three" is already in use by container "[0-9a-f]{64}"$' \
	"$(rc_err img rename two three)"
check "rename of a missing container" "125:img: No such container: nope" "$(rc_err img rename nope x)"
check "rename with a bad name" "125:img: Invalid container name (a/b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed" \
	"$(rc_err img rename two a/b)"

# ------------------------------------------------------------ system df
out=$(img system df)
check "system df: docker's rows" "TYPE TOTAL ACTIVE SIZE RECLAIMABLE|Images 2 1|Containers 2 0|Local Volumes 0 0|Build Cache 0 0" \
	"$(echo "$out" | awk '{ if (NR == 1) print; else if ($1 == "Local" || $1 == "Build") print $1, $2, $3, $4; else print $1, $2, $3 }' | tr -s ' ' | flat)"
out=$(img system df -v)
check "system df -v: the sections" "Images space usage:|Containers space usage:|Local Volumes space usage:|Build cache usage: 0B" \
	"$(echo "$out" | grep -E 'usage' | flat)"

# ------------------------------------------------------------ prune
out=$(img container prune -f --filter label=nope)
check "container prune --filter: nothing matches" "Total reclaimed space: 0B" "$out"
out=$(img container prune -f)
check_re "container prune: docker's list" '^Deleted Containers:\|[0-9a-f]{64}\|[0-9a-f]{64}\|\|Total reclaimed space: ' "$(echo "$out" | flat)"
check "no container left" "" "$(img ps -aq)"
img tag busybox other:1
img rmi other:1 >/dev/null
out=$(img image prune -f)
check "image prune: nothing dangling" "Total reclaimed space: 0B" "$out"
out=$(img image prune -a -f)
check_re "image prune -a: docker's lines" '^Deleted Images:\|untagged: ' "$(echo "$out" | flat)"
check "no image left" "" "$(img images -q)"
img import --busybox busybox >/dev/null
img volume create vv >/dev/null
img create busybox true >/dev/null
out=$(img system prune -a -f --volumes)
check_re "system prune -a --volumes: containers, images" '^Deleted Containers:.*Deleted Images:.*Total reclaimed space: ' "$(echo "$out" | flat)"
check "system prune --volumes keeps named volumes (docker 23+)" "vv" "$(img volume ls -q)"
check "fsck after the prunes" "0" "$(img fsck >/dev/null 2>&1; echo $?)"

# ------------------------------------------------------------ info, version
check "version --format" "0.1.0 linux" "$(img version --format '{{.Client.Version}} {{.Server.Os}}')"
check_re "version: docker's layout" '^Client:\| Version: ' "$(img version | flat)"
check "info --format" "0 ufsmount $STORE" "$(img info --format '{{.Containers}} {{.Driver}} {{.DockerRootDir}}')"
check_re "info: docker's lines" 'Server:\| Containers: 0\|  Running: 0' "$(img info | flat)"
check "system info is info" "$(img info -f '{{.Images}}')" "$(img system info -f '{{.Images}}')"
check "image ls is images" "$(img images)" "$(img image ls)"
check "container ls -a is ps -a" "$(img ps -a)" "$(img container ls -a)"
finish
