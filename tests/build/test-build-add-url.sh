#!/bin/bash
# SPDX-License-Identifier: MIT
# ADD of a URL (libregistry's HTTP client, reg_fetch_url): a file served by
# python's http.server on 127.0.0.1 lands at the destination, 0600, not
# unpacked; the step's key is the content (a changed file misses, the same
# hits); a 404 stops the build with the server's status; --checksum is
# checked.
. "$(dirname "$0")/buildlib.sh"
. "$(dirname "$0")/../lib/ports.sh"
runc() { img run --rm --pull=never --cgroup-parent "$CGP" --network none "$@"; }
mkdir -p "$T/www"; echo "served v1" > "$T/www/file.txt"; tar -C "$T/www" -czf "$T/www/a.tgz" file.txt
# port 0: the server binds a port of the kernel's choosing and says which
# ("Serving HTTP on 127.0.0.1 port N", unbuffered: -u)
python3 -u -m http.server --bind 127.0.0.1 --directory "$T/www" 0 >"$T/www.log" 2>&1 &
_PIDS+=("$!")
port=$(reported_port "$T/www.log" "$!" "$HTTP_SERVER_PORT_SED") ||
	{ fail "http.server on 127.0.0.1" "$(cat "$T/www.log")"; finish; }
U=http://127.0.0.1:$port
ctx u <<CF
FROM busybox
ADD $U/file.txt /dl/
ADD $U/a.tgz /tgz/
ADD $U/file.txt /named.txt
CF
out=$(build -t u1 "$T/u" 2>&1); rc=$?
check "ADD of URLs" 0 "$rc"
check "the files, 0600, the tar not unpacked" "600 served v1|600 a.tgz|600 served v1" "$(runc u1 sh -c 'stat -c %a /dl/file.txt; cat /dl/file.txt; stat -c %a /tgz/a.tgz; ls /tgz; stat -c %a /named.txt; cat /named.txt' | paste -d' ' - - | tr '\n' '|' | sed 's/|$//')"
out=$(build -t u2 "$T/u" 2>&1)
check "the same content: cached" 3 "$(printf '%s\n' "$out" | grep -c 'Using cache')"
echo "served v2" > "$T/www/file.txt"
out=$(build -t u3 "$T/u" 2>&1)
check "a changed download misses" "served v2" "$(runc u3 cat /named.txt)"
printf 'FROM busybox\nADD %s/nope /x\n' "$U" > "$T/u/Missing"
check_fails "a 404" "ADD: GET $U/nope: .*404" build -f "$T/u/Missing" "$T/u"
# ADD --checksum: the download must have that sha256
sum=$(sha256sum "$T/www/file.txt" | cut -d' ' -f1)
printf 'FROM busybox\nADD --checksum=sha256:%s %s/file.txt /sum.txt\n' "$sum" "$U" > "$T/u/Sum"
build -q -t sum -f "$T/u/Sum" "$T/u" >/dev/null; check "ADD --checksum matching" 0 $?
check "its file" "served v2" "$(runc sum cat /sum.txt)"
bad=$(printf '%064d' 0)
printf 'FROM busybox\nADD --checksum=sha256:%s %s/file.txt /sum.txt\n' "$bad" "$U" > "$T/u/Bad"
check_fails "ADD --checksum not matching" "ADD --checksum: file.txt has sha256:$sum, not sha256:$bad" build -f "$T/u/Bad" "$T/u"
check "nothing left behind" "" "$(nothing_left)"
finish
