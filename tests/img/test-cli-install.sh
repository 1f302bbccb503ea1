#!/bin/bash
# SPDX-License-Identifier: MIT
# The installed tree (issue 11, section 4), run by tools/run-tests after
# `meson install` to a temporary prefix: IMG=PREFIX/bin/img PREFIX=PREFIX.
# Not in meson's suites (it needs an install). The installed img finds
# img-monitor and ufsmount where meson put them, with no override and no
# build tree beside it; it runs containers (attached, --rm, detached,
# exec); a missing helper is one line naming its path and leaves nothing
# behind; the man pages are installed.
. "$(dirname "$0")/imglib.sh"
P=${PREFIX:?PREFIX must name the install prefix}
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
need_fuse
unset IMG_MONITOR IMG_UFSMOUNT
case "$IMG_BIN" in "$P"/bin/img) ;; *) echo "IMG must be $P/bin/img"; exit 1 ;; esac

# ------------------------------------------------------------ the files
for f in bin/img sbin/ufsmount sbin/img-runtime libexec/img-monitor; do
	check "installed: $f" "yes" "$([ -x "$P/$f" ] && echo yes)"
done
check "nothing beside the installed img" "img" "$(ls "$P/bin")"
for m in man1/img.1 man1/img-run.1 man1/img-ps.1 man1/img-container-inspect.1 man8/ufsmount.8; do
	check "installed: share/man/$m" "yes" "$([ -s "$P/share/man/$m" ] && echo yes)"
done
check_re "man finds img-run(1) there" "img-run - Create and run a new container" \
	"$(MANPATH="$P/share/man" MANWIDTH=100 man img-run 2>&1 | sed -n 4p | sed 's/^ *//; s/  */ /g')"

# ------------------------------------------------------------ containers
check_re "import --busybox" "^sha256:[0-9a-f]{64}$" "$(img import --busybox busybox)"
check "run --rm, attached" "hello from the installed tree" "$(img run --rm busybox echo hello from the installed tree)"
check "run --rm: nothing left" "" "$(img ps -a -q)"
id=$(img run -d --name web busybox sleep 600); rc=$?
check "run -d" "0 Up" "$rc $(img ps --filter name=web --format '{{.Status}}' | cut -c1-2)"
check "exec in it" "pid1 sleep" "$(img exec web sh -c 'echo pid1 $(cat /proc/1/comm)')"
check "rm -f" "web" "$(img rm -f web)"
check "rm -f: nothing left" "" "$(img ps -a -q)"
[ -n "$id" ] && check "rm -f: run dir gone" "no" "$([ -e "$STORE.run/containers/$id" ] && echo yes || echo no)"

# ------------------------------------------------------------ a missing helper
mv "$P/libexec/img-monitor" "$T/img-monitor.aside"
check_fails "no img-monitor: run names its path" \
	"img-monitor not found: $P/libexec/img-monitor: No such file or directory" img run --rm busybox true
check_fails "no img-monitor: run -d names its path" "img-monitor not found: $P/libexec/img-monitor" \
	img run -d busybox true
check "no img-monitor: no container created" "" "$(img ps -a -q)"
mv "$T/img-monitor.aside" "$P/libexec/img-monitor"
mv "$P/sbin/ufsmount" "$T/ufsmount.aside"
check_fails "no ufsmount: run names its path" \
	"ufsmount not found: $P/sbin/ufsmount: No such file or directory" img run --rm busybox true
id=$(img create busybox true)
check_fails "no ufsmount: mount names its path" "ufsmount not found: $P/sbin/ufsmount" img mount "$id"
check "no ufsmount: only the created container" "${id:0:12}" "$(img ps -a -q)"
mv "$T/ufsmount.aside" "$P/sbin/ufsmount"
check "with both back: run" "ok" "$(img run --rm busybox echo ok)"
img rm "$id" >/dev/null
check "at the end: nothing mounted below the test dir" "" "$(awk -v t="$T/" 'index($5, t) == 1' /proc/self/mountinfo)"
finish
