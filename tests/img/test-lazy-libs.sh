#!/bin/bash
# SPDX-License-Identifier: MIT
# libcurl and libarchive are loaded at first use (common/cm-dlopen.h): img is
# not linked with them, the verbs that do not pull, push or read a tar work
# where they are missing, and those that need one fail with one line naming
# the library and exit 125. "Missing" is /dev/null bound over the library
# file in a mount namespace of each command's own (dlopen: file too short).
. "$(dirname "$0")/imglib.sh"
need readelf ldconfig unshare
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
unshare -m true 2>/dev/null || { echo "skip: no mount namespace here"; exit 77; }

needed=$(readelf -d "$IMG_BIN" | awk '/\(NEEDED\)/ { print $NF }' | tr -d '[]' | tr '\n' ' ')
case "$needed" in
*libcurl*|*libarchive*) fail "img is not linked with libcurl or libarchive" "$needed" ;;
*libc.so*) pass "img is not linked with libcurl or libarchive" ;;
*) fail "readelf -d lists img's libraries" "$needed" ;;
esac

libpath() { ldconfig -p | awk -v so="$1" '$1 == so { print $NF; exit }'; }
curl_so=$(readlink -f "$(libpath libcurl.so.4)")
archive_so=$(readlink -f "$(libpath libarchive.so.13)")
[ -f "$curl_so" ] && [ -f "$archive_so" ] || { fail "ldconfig finds libcurl.so.4 and libarchive.so.13" "'$curl_so' '$archive_so'"; finish; }

# without LIBS...: CMD in its own mount namespace where each library file reads empty
without() {
	local libs=()
	while [ "$1" != -- ]; do libs+=("$1"); shift; done
	shift
	unshare -m --propagation private bash -c '
		while [ "$1" != -- ]; do mount --bind /dev/null "$1" || exit 99; shift; done
		shift; exec "$@"' _ "${libs[@]}" -- "$@"
}
imgw() { without "$curl_so" "$archive_so" -- "$IMG_BIN" --root "$STORE" "$@"; }

# the library really is unreadable in there (else the checks below prove nothing)
check "the namespace hides libcurl" 0 "$(without "$curl_so" -- stat -c %s "$curl_so")"
check "the host still has libcurl" 1 "$([ -s "$curl_so" ] && echo 1)"

img import --busybox busybox >/dev/null || { fail "import --busybox"; finish; }
printf 'x\n' >"$T/f" && tar -C "$T" -cf "$T/one.tar" f || { fail "setup"; finish; }

# verbs that need neither
check "img --version without either" 0 "$(imgw --version >/dev/null; echo $?)"
check "img images without either" busybox:latest \
	"$(imgw images --format '{{.Repository}}:{{.Tag}}' 2>&1)"
id=$(imgw create --name c1 busybox true 2>&1) && pass "img create without either" ||
	fail "img create without either" "$id"
check "img ps -a without either" c1 "$(imgw ps -a --format '{{.Names}}' 2>&1)"
check "img rm without either" c1 "$(imgw rm c1 2>&1)"

# verbs that need one: the library named, one line, 125
check_fails "pull without libcurl" "cannot load libcurl\.so\.4: " \
	without "$curl_so" -- "$IMG_BIN" --root "$STORE" pull 127.0.0.1:9/none:latest
check_fails "import without libarchive" "cannot load libarchive\.so\.13: " \
	without "$archive_so" -- "$IMG_BIN" --root "$STORE" import "$T/one.tar" one:1
# and with them the same verb works (the loader path itself)
check "import with libarchive" 0 "$(img import "$T/one.tar" one:1 >/dev/null; echo $?)"
finish
