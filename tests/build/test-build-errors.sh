#!/bin/bash
# SPDX-License-Identifier: MIT
# img build's failures: a failing RUN stops the build with its exit code and
# leaves no container, mount, cgroup or temp dir, nor a name; parse errors
# name the file, the line and the reason; a missing base image, source or
# Containerfile, ADD of a URL, bad flags: one line, exit 125, nothing built.
. "$(dirname "$0")/buildlib.sh"
ctx f <<'CF'
FROM busybox
RUN echo before > /b
RUN echo out; echo err >&2; exit 7
RUN echo never
CF
before=$(store_state)
out=$(build -t failed "$T/f" 2>&1); rc=$?
check "a failing RUN's exit code" 7 "$rc"
check_re "its output streamed" $'\n'"out"$'\n'"err"$'\n' "$out"
check_re "the error names the step" $'\n'"img: build: building at STEP \"RUN echo out; echo err >&2; exit 7\": while running runtime: exit status 7\$" "$out"
case "$out" in *"STEP 4/4"*) fail "the build went on" ;; *) pass "the build stopped" ;; esac
check "no name given" "" "$(img images -q failed 2>/dev/null)"
check "nothing left behind" "" "$(nothing_left)"
# a RUN that cannot start (no such command): 127 as docker's run, nothing left
ctx nf <<'CF'
FROM busybox
RUN ["/no/such/cmd"]
CF
build "$T/nf" >/dev/null 2>&1; rc=$?
check_re "a RUN whose command is missing fails" "^(127|125)$" "$rc"
check "nothing left after it" "" "$(nothing_left)"
# a blank or empty command name is no command found (runc's words), not the
# EACCES of executing a PATH dir
for c in '"  "' '""'; do
	ctx nf <<CF
FROM busybox
RUN [$c]
CF
	out=$(build "$T/nf" 2>&1 >/dev/null); rc=$?
	check "RUN [$c]: no such command, one line" \
		"125 img: build: Containerfile:2: exec: $c: executable file not found in \$PATH" "$rc $out"
done
check "nothing left after them" "" "$(nothing_left)"

# parse errors: file, line, reason
perr() { # perr NAME ERE CONTAINERFILE-TEXT
	printf '%s' "$3" > "$T/pe/Containerfile"
	check_fails "$1" "$2" build "$T/pe"
}
mkdir -p "$T/pe"
perr "unknown instruction" "build: Containerfile:3: unknown instruction: FROB" $'FROM busybox\n\nFROB x\n'
perr "instruction before FROM" "Containerfile:1: no build stage" $'RUN x\nFROM busybox\n'
perr "unterminated heredoc" "Containerfile:2: unterminated heredoc <<EOF" $'FROM busybox\nRUN <<EOF\necho\n'
perr "COPY with one argument" "Containerfile:2: COPY requires at least two arguments" $'FROM busybox\nCOPY a\n'
perr "a bad escape directive" "Containerfile:1: invalid escape token" $'# escape=x\nFROM busybox\n'
perr "a bad substitution" "Containerfile:2: .*missing '}'" $'FROM busybox\nENV A=${B\n'
perr "an unknown flag" "Containerfile:2: unknown flag: --frob" $'FROM busybox\nRUN --frob x\n'
# an empty exec form is refused before any step runs (BuildKit's LLB:
# "arguments are required"), with or without blanks inside; CMD [] and
# ENTRYPOINT [] are valid (test-build.sh); HEALTHCHECK CMD [] is not
pre=$(store_state)
perr "RUN []" "Containerfile:3: RUN \[\]: arguments are required" $'FROM busybox\nRUN echo built > /x\nRUN []\n'
perr "RUN [ ]" "Containerfile:2: RUN \[\]: arguments are required" $'FROM busybox\nRUN [ \t ]\n'
perr "ONBUILD RUN []" "Containerfile:2: RUN \[\]: arguments are required" $'FROM busybox\nONBUILD RUN []\n'
perr "HEALTHCHECK CMD []" "Containerfile:2: Missing command after HEALTHCHECK CMD" $'FROM busybox\nHEALTHCHECK CMD [ ]\n'
check "nothing built before the refusals" "" "$(diff <(echo "$pre") <(store_state))"
perr "a continued line's number" "Containerfile:2: FROM requires either one or three" $'\nFROM \\\n a b\n'
printf 'FROM busybox\nFROB\n' > "$T/pe/Dockerfile"; rm "$T/pe/Containerfile"
check_fails "Dockerfile when there is no Containerfile" "build: Dockerfile:2: unknown instruction" build "$T/pe"
printf 'ARG x\n' > "$T/other.cf"
check_fails "-f FILE" "build: other.cf:1: no FROM instruction" build -f "$T/other.cf" "$T/pe"

# other failures
mkdir -p "$T/o"
# (--pull=never: a missing image is not looked for in a registry; the
# pulls are test-build-pull.sh's, on loopback)
oerr() { printf '%s' "$3" > "$T/o/Containerfile"; check_fails "$1" "$2" build --pull=never "$T/o"; }
oerr "a missing base image" "Containerfile:1: FROM nosuch: no such image in the store" $'FROM nosuch\n'
oerr "a missing COPY source" "Containerfile:2: COPY: nothere: no source files were specified" $'FROM busybox\nCOPY nothere /\n'
oerr "a glob matching nothing" "Containerfile:2: COPY: \*.none: no source files" $'FROM busybox\nCOPY *.none /\n'
oerr "ADD of a git source" "Containerfile:2: ADD git@example.org:x: git sources are not supported \(img build fetches only over HTTP\(S\); clone the repository into the context and COPY it\)" $'FROM busybox\nADD git@example.org:x /x\n'
for g in https://127.0.0.1:9/r.git 'http://127.0.0.1:9/r.git#main' git://127.0.0.1/r ssh://git@127.0.0.1/r file:///srv/r.git; do
	oerr "ADD of the git URL $g" "ADD $g: git sources are not supported" "FROM busybox"$'\n'"ADD $g /x"$'\n'
done
oerr "ADD of a file:// URL" "ADD file:///etc/passwd: file:// URLs are not supported" $'FROM busybox\nADD file:///etc/passwd /x\n'
oerr "ADD --keep-git-dir" "ADD --keep-git-dir: git sources are not supported" $'FROM busybox\nADD --keep-git-dir=true https://127.0.0.1:9/r.git /x\n'
oerr "ADD --checksum of a local file" "ADD --checksum: one HTTP\(S\) URL source is needed" $'FROM busybox\nADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 Containerfile /x\n'
oerr "ADD --checksum not a digest" "ADD --checksum=md5:1: sha256:<64 hex digits> is needed" $'FROM busybox\nADD --checksum=md5:1 http://127.0.0.1:9/x /x\n'
oerr "COPY --exclude with an exception" "COPY --exclude=!x: a pattern is needed" $'FROM busybox\nCOPY --exclude=!x . /x/\n'
oerr "COPY --parents=maybe" "COPY --parents=maybe: true or false" $'FROM busybox\nCOPY --parents=maybe . /x/\n'
oerr "ADD of a URL and a file" "URLs and local sources in one ADD are not supported" $'FROM busybox\nADD http://127.0.0.1:9/x Containerfile /x/\n'
oerr "COPY --from an unknown image" "COPY --from=nosuch" $'FROM busybox\nCOPY --from=nosuch /x /\n'
oerr "two files to a non-dir" "the destination must be a directory and end with a /" $'FROM busybox\nCOPY Containerfile Containerfile /x\n'
check_fails "no context dir" "build: context .*nothing-here: No such file" build "$T/nothing-here"
mkdir -p "$T/empty"
check_fails "an empty context" "Containerfile or Dockerfile in the context: No such file" build "$T/empty"
check_fails "a bad tag" "build: invalid tag 'UPPER'" build -t UPPER "$T/o"
check_fails "a bad --pull" "build: invalid --pull 'sometimes'" build --pull=sometimes "$T/o"
out=$(img build 2>&1); check "no context: usage error" 125 $?
check "nothing left behind" "" "$(nothing_left)"
# the step images and the cache are the only change
filt() { grep -v -e build-cache -e blobs/sha256/ -e layers/ -e layer-manifests/ -e index.json -e '^./containers [0-9]* d$'; }
check "the store as it was, but the build's steps" "" "$(diff <(echo "$before" | filt) <(store_state | filt))"
check "fsck" "$STORE: ok" "$(img fsck 2>&1)"
finish
