#!/bin/bash
# SPDX-License-Identifier: MIT
# Every verb's --help and flag errors (issue 11): for each verb img --help
# lists (so a new verb is covered by adding it to the table), --help prints
# docker's usage block and runs nothing, an unknown flag is docker's error
# and exit 125, a wrong argument count is docker's message; plus prune -a,
# --userns host, rm/rmi of an unknown object (exit 1) and unknown commands.
. "$(dirname "$0")/imglib.sh"
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }

img import --busybox busybox >/dev/null || { echo "import failed"; exit 1; }
# a temp file gc (and so prune) would delete if it ran
printf 'x\n' >"$T/f" && tar -C "$T" -cf "$T/one.tar" f && : >"$STORE/tmp/leftover" &&
	img tag busybox keep:1 || { echo "setup failed"; exit 1; }
ctr=$(img create --name c1 busybox true) || { echo "create failed"; exit 1; }
before=$(store_state)

# ------------------------------------------------------------ the verb list
verbs=$(img --help | awk '/^[A-Za-z ]+Commands:$/ { on = 1; next } /^$/ { on = 0 } on { print $1 }')
n=$(printf '%s\n' "$verbs" | wc -l)
check_re "img --help lists the verbs" "^(3[5-9]|[4-9][0-9])$" "$n"
for v in run ps images rmi gc prune fsck wait pause unpause top port cp container; do
	printf '%s\n' "$verbs" | grep -qx "$v" || fail "img --help lists $v"
done
check "img -h = img --help" "$(img --help)" "$(img -h)"
check "img help run = img run --help" "$(img run --help)" "$(img help run)"
check "img help container inspect" "$(img container inspect --help)" "$(img help container inspect)"

# ------------------------------------------------------------ every verb
for v in $verbs "container inspect"; do
	# shellcheck disable=SC2086
	out=$(img $v --help 2>"$T/err"); rc=$?
	err=$(cat "$T/err")
	first=$(printf '%s\n' "$out" | head -1)
	# more usage lines start with a tab (docker's cp), then a blank, the description
	rest=$(printf '%s\n' "$out" | sed '1d' | sed '/^\t/d')
	desc=$(printf '%s\n' "$rest" | sed -n 2p)
	if [ $rc -ne 0 ] || [ -n "$err" ] || [[ "$first" != "Usage:  img $v"* ]] || [ -z "$desc" ] ||
	   [ -n "$(printf '%s\n' "$rest" | sed -n 1p)" ]; then
		fail "$v --help: docker's usage block" "rc=$rc stderr='$err' out='$out'"
	else
		pass "$v --help: docker's usage block"
	fi
	case "$out" in *"No such"*|*"deleted: "*|*": ok"*) fail "$v --help ran the command" "$out" ;; esac
	# options listed as pflag does: "  -x, --long type   text" / "      --long ..."
	if printf '%s\n' "$out" | grep -q '^Options:$'; then
		bad=$(printf '%s\n' "$out" | sed -n '/^Options:$/,/^$/p' | sed 1d | grep -v '^$' |
			grep -Ev '^(  -[a-zA-Z], |      )--[a-z][a-z0-9-]*( [a-z][a-z0-9]*)?   +[^ ]|^ {20,}[^ ]')
		[ -z "$bad" ] || fail "$v --help: option lines" "$bad"
	fi
	# shellcheck disable=SC2086
	out=$(img $v --no-such-flag 2>"$T/err" </dev/null); rc=$?
	check "$v --no-such-flag: docker's error, 125" \
		"125|img: unknown flag: --no-such-flag|See 'img $v --help'.|" \
		"$rc|$(tr '\n' '|' <"$T/err")$out"
	# shellcheck disable=SC2086
	out=$(img $v -Z 2>"$T/err" </dev/null); rc=$?
	check "$v -Z: docker's shorthand error, 125" \
		"125|img: unknown shorthand flag: 'Z' in -Z|See 'img $v --help'.|" \
		"$rc|$(tr '\n' '|' <"$T/err")$out"
done
check "nothing ran: the store is as it was" "$before" "$(store_state)"

# ------------------------------------------------------------ man pages
# docs/img-VERB.1 is `img help --man VERB`, installed by docs/meson.build
if [ -n "${SRC:-}" ] && [ -d "$SRC/docs" ]; then
	for v in $verbs "container inspect"; do
		page=img-${v// /-}.1
		# shellcheck disable=SC2086
		if ! img help --man $v | cmp -s - "$SRC/docs/$page"; then
			fail "docs/$page is img help --man $v" "regenerate: img help --man $v > docs/$page"
		elif ! grep -q "'$page'" "$SRC/docs/meson.build"; then
			fail "docs/meson.build installs $page"
		elif command -v groff >/dev/null && [ -n "$(groff -man -ww -z "$SRC/docs/$page" 2>&1)" ]; then
			fail "$page: groff warnings" "$(groff -man -ww -z "$SRC/docs/$page" 2>&1)"
		else
			pass "man page $page"
		fi
	done
	check "img.1: no groff warnings" "" "$(groff -man -ww -z "$SRC/docs/img.1" 2>&1)"
else
	skip "man pages" "SRC (the source tree) not set"
fi
check "nothing ran: the container is still there" "${ctr:0:12}" "$(img ps -a -q)"

# ------------------------------------------------------------ details
out=$(img run --help)
check_re "run --help: -d, docker's text" $'\n'"  -d, --detach +Run container in background and print container ID"$'\n' "$out"
check_re "run --help: --name string" $'\n'"      --name string +Assign a name to the container"$'\n' "$out"
check_re "run --help: sorted by long name" "add-host.*cap-add.*detach.*workdir" "$(printf '%s' "$out" | tr '\n' ' ')"
case "$out" in *"--net "*) fail "run --help: the hidden alias --net is not listed" ;; *) pass "run --help: --net hidden" ;; esac
check "create --help has no --detach" "0" "$(img create --help | grep -c -- '--detach')"
check "create -d: unknown shorthand" "img: unknown shorthand flag: 'd' in -d|See 'img create --help'.|" \
	"$(img create -d busybox 2>&1 | tr '\n' '|')"
check "ps --help: docker's -a line" "  -a, --all             Show all containers (default shows just running)" \
	"$(img ps --help | grep -- '--all')"
out=$(img wait 2>&1); rc=$?
check "wait: docker's argument count error" \
	"125|img: \"img wait\" requires at least 1 argument.|See 'img wait --help'.||Usage:  img wait CONTAINER [CONTAINER...]||Block until one or more containers stop, then print their exit codes" \
	"$rc|$(printf '%s' "$out" | tr '\n' '|')"
check_re "logs: exactly 1" "requires exactly 1 argument" "$(img logs a b 2>&1)"
check_re "ps: accepts no arguments" "\"img ps\" accepts no arguments" "$(img ps x 2>&1)"
check_re "port: at least 1 and at most 2" "requires at least 1 and at most 2 arguments" "$(img port a b c 2>&1)"
out=$(img run --name 2>&1); rc=$?
check "run --name: flag needs an argument" "125|img: flag needs an argument: --name|See 'img run --help'." \
	"$rc|$(printf '%s' "$out" | tr '\n' '|')"
check_re "run -e at the end: needs an argument" "flag needs an argument: 'e' in -e" "$(img run -e 2>&1)"
check_re "-h of run is --hostname (needs a value)" "flag needs an argument: 'h' in -h" "$(img run -h 2>&1)"
out=$(img bogus 2>&1); rc=$?
check "unknown command" "125|img: 'bogus' is not an img command.|See 'img --help'." "$rc|$(printf '%s' "$out" | tr '\n' '|')"
out=$(img container bogus 2>&1); rc=$?
check "unknown container command" "125|img: 'container bogus' is not an img command.|See 'img container --help'." \
	"$rc|$(printf '%s' "$out" | tr '\n' '|')"
check_re "img container: its commands" $'\n'"Commands:"$'\n'"  inspect +Display detailed" "$(img container)"
check_re "container inspect: the container" "\"Id\": \"$ctr\"" "$(img container inspect c1)"
check_re "inspect --type container" "\"Id\": \"$ctr\"" "$(img inspect --type container c1)"
check_fails "inspect --type image of a container" "No such image: c1" img inspect --type image c1
check_fails "inspect --type bogus" "is not a valid value for --type" img inspect --type bogus c1
check_re "global: unknown flag" "^img: unknown flag: --bogus" "$(img --bogus ps 2>&1)"

# ------------------------------------------------------------ --userns
id=$(img create --userns host --name u1 busybox true); rc=$?
check "create --userns host IMAGE: host is the value, not the image" "0 busybox" \
	"$rc $(img ps -a --filter name=u1 --format '{{.Image}}')"
check_re "create --userns=host" "^[0-9a-f]{64}$" "$(img create --userns=host busybox true)"
check_re "create --userns=private" "^[0-9a-f]{64}$" "$(img create --userns=private busybox true)"
check_re "create --userns busybox: img's own (the flag alone)" "^[0-9a-f]{64}$" "$(img create --userns busybox true)"
check_fails "--userns=bogus" "invalid --userns 'bogus'" img create --userns=bogus busybox
check "--userns host: no user namespace in the config" "False" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["UsernsMode"])' "$STORE.run/containers/$id/runner.json" 2>&1)"

# ------------------------------------------------------------ exit 1 of docker
out=$(img rmi nope 2>&1); rc=$?
check "rmi of an unknown image: 1" "1 img: No such image: nope" "$rc $out"
out=$(img rm nope 2>&1); rc=$?
check "rm of an unknown container: 1" "1 img: No such container: nope" "$rc $out"
out=$(img rm nope c1 2>&1); rc=$?
check "rm nope c1: c1 removed, exit 1" "1|img: No such container: nope|c1" "$rc|$(printf '%s' "$out" | tr '\n' '|')"

# ------------------------------------------------------------ prune -a
img rm -f u1 >/dev/null
for c in $(img ps -a -q); do img rm -f "$c" >/dev/null; done
ctr=$(img create busybox true)
img import "$T/one.tar" unused:1 >/dev/null
out=$(img prune -a -f); rc=$?
check_re "prune -a: docker's heading and lines" "^Deleted Images:"$'\n'"untagged: unused:1"$'\n'"deleted: sha256:" "$out"
check "prune -a: the image a container uses stays" "busybox keep" \
	"$(img images --format '{{.Repository}}' | sort | tr '\n' ' ' | sed 's/ $//')"
check_true "prune -a: fsck" img fsck
finish
