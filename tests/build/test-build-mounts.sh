#!/bin/bash
# SPDX-License-Identifier: MIT
# RUN --mount=type=cache, type=secret with --secret id=,src=, type=bind
# of the context (read-only), type=tmpfs and type=ssh (--ssh): a cache
# dir outlives the build and is shared by id, a secret is readable only in
# its RUN (mode, owner), neither leaves anything in the image (not even the
# mount stubs), a secret's content is not part of the cache key, a
# required secret not given is an error.
. "$(dirname "$0")/buildlib.sh"
runc() { img run --rm --pull=never --cgroup-parent "$CGP" --network none "$@"; }
ctx m <<'CF'
FROM busybox
RUN --mount=type=cache,target=/var/cache/app,id=appcache \
    echo run >> /var/cache/app/log && wc -l < /var/cache/app/log > /count
RUN --mount=type=secret,id=tok \
    --mount=type=secret,id=tok,target=/etc/tok2,mode=0440,uid=5,gid=6 \
    cat /run/secrets/tok > /seen && stat -c '%a %u:%g' /run/secrets/tok /etc/tok2 > /modes
RUN [ ! -e /run/secrets/tok ] && echo gone > /after
CF
echo s3cret > "$T/secret"
out=$(build -t m1 --secret id=tok,src="$T/secret" "$T/m" 2>&1); rc=$?
check "build with a cache and secrets" 0 "$rc"
check "the cache dir in the RUN" "1" "$(runc m1 cat /count)"
check "the secret readable in its RUN" "s3cret" "$(runc m1 cat /seen)"
check "the secrets' modes and owners" "400 0:0|440 5:6" "$(runc m1 cat /modes | tr '\n' '|' | sed 's/|$//')"
check "the secret gone in the next RUN" "gone" "$(runc m1 cat /after)"
check "no mount stub in the image" "absent absent absent" "$(runc m1 sh -c 'for p in /run /var/cache/app /etc/tok2; do [ -e $p ] && echo present || echo absent; done' | tr '\n' ' ' | sed 's/ $//')"
# the cache persists from build to build (and does not make the step miss)
out=$(build -t m2 --no-cache --secret id=tok,src="$T/secret" "$T/m" 2>&1)
check "the cache outlives a build" "2" "$(runc m2 cat /count)"
# a new secret's content: the steps stay cached (docker's rule)
echo other > "$T/secret"
out=$(build -t m3 --secret id=tok,src="$T/secret" "$T/m" 2>&1)
check "a secret's content is not in the key" "3" "$(printf '%s\n' "$out" | grep -c 'Using cache')"
# required and missing; optional and missing
printf 'FROM busybox\nRUN --mount=type=secret,id=nope,required=true true\n' > "$T/m/req"
check_fails "a required secret not given" "secret nope: required and not given" build -f "$T/m/req" "$T/m"
printf 'FROM busybox\nRUN --mount=type=secret,id=nope [ ! -e /run/secrets/nope ]\n' > "$T/m/opt"
build -q -f "$T/m/opt" "$T/m" >/dev/null; check "an optional secret not given: no mount" 0 $?
# type=bind: the context (or a dir of it), read-only, not in the layer
mkdir -p "$T/m/data"; echo bound > "$T/m/data/f"
printf 'FROM busybox\nRUN --mount=type=bind,source=data,target=/mnt/d cat /mnt/d/f > /got && ! touch /mnt/d/w 2>/dev/null\nRUN --mount=type=bind,target=/ctx [ -f /ctx/Containerfile ]\n' > "$T/m/bind"
build -q -t bind -f "$T/m/bind" "$T/m" >/dev/null; check "a bind of the context, read-only" 0 $?
check "its content seen" "bound" "$(runc bind cat /got)"
check "not in the image" "absent" "$(runc bind sh -c '[ -e /mnt/d ] || [ -e /ctx ] && echo present || echo absent')"
[ -e "$T/m/data/w" ] && fail "a bind wrote into the context" || pass "the context untouched"
printf 'FROM busybox\nRUN --mount=type=bind,source=../..,target=/x true\n' > "$T/m/bind2"
build -q -f "$T/m/bind2" "$T/m" >/dev/null 2>&1; check ".. stays in the context" 0 $?
ln -sfn / "$T/m/out"
printf 'FROM busybox\nRUN --mount=type=bind,source=out,target=/x true\n' > "$T/m/bind3"
check_fails "a bind through a link out of the context" "source=out: not in the context" build -f "$T/m/bind3" "$T/m"
rm "$T/m/out"
printf 'FROM busybox\nRUN --mount=type=bind,target=/x,rw true\n' > "$T/m/bind4"
check_fails "a rw bind refused" "type=bind,rw is not supported" build -f "$T/m/bind4" "$T/m"
# type=tmpfs: a fresh tmpfs at the target (its size), nothing of it in the layer
printf 'FROM busybox\nRUN --mount=type=tmpfs,target=/t,size=1048576 echo x > /t/f && awk '"'"'$2 == "/t" { print $3, $4 }'"'"' /proc/mounts > /tm && df -k /t | awk '"'"'NR == 2 { print $2 }'"'"' > /tsize\nRUN [ ! -e /t/f ] && echo gone > /after\n' > "$T/m/tmpfs"
build -q -t tm -f "$T/m/tmpfs" "$T/m" >/dev/null; check "a tmpfs mount" 0 $?
check "it is a tmpfs" "tmpfs" "$(runc tm cut -d' ' -f1 /tm)"
check "of the size asked (KiB)" "1024" "$(runc tm cat /tsize)"
check "its files not in the image, nor its stub" "gone absent" "$(runc tm sh -c 'cat /after; [ -e /t ] && echo present || echo absent' | tr '\n' ' ' | sed 's/ $//')"
printf 'FROM busybox\nRUN --mount=type=tmpfs,target=/t,size=1g1 true\n' > "$T/m/tmpfs2"
check_fails "a tmpfs size not a number" "size=1g1: a number of bytes" build -f "$T/m/tmpfs2" "$T/m"
# type=ssh: the agent socket of --ssh bound in, SSH_AUTH_SOCK set to it
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/agent.sock"
printf 'FROM busybox\nRUN --mount=type=ssh [ -S "$SSH_AUTH_SOCK" ] && echo "$SSH_AUTH_SOCK" > /sock\nRUN --mount=type=ssh,id=other,target=/a.sock [ -S /a.sock ] && echo ok > /other\nRUN [ -z "$SSH_AUTH_SOCK" ] && echo unset > /later\n' > "$T/m/ssh"
out=$(build -t sshimg --ssh default="$T/agent.sock" --ssh other="$T/agent.sock" -f "$T/m/ssh" "$T/m" 2>&1); rc=$?
check "an ssh mount" 0 "$rc"
check "SSH_AUTH_SOCK names the socket" "/run/buildkit/ssh_agent.0" "$(runc sshimg cat /sock)"
check "an ssh id at a target" "ok" "$(runc sshimg cat /other)"
check "SSH_AUTH_SOCK only in the ssh RUN, no stub left" "unset absent absent" "$(runc sshimg sh -c 'cat /later; for p in /run/buildkit /a.sock; do [ -e $p ] && echo present || echo absent; done' | tr '\n' ' ' | sed 's/ $//')"
out=$(SSH_AUTH_SOCK="$T/agent.sock" build -q --ssh default -f "$T/m/ssh" "$T/m" 2>&1); rc=$?
check "--ssh default takes \$SSH_AUTH_SOCK" 0 "$rc"
printf 'FROM busybox\nRUN --mount=type=ssh,required=true true\n' > "$T/m/ssh2"
check_fails "a required ssh agent not given" "ssh default: required and not given" build -f "$T/m/ssh2" "$T/m"
printf 'FROM busybox\nRUN --mount=type=ssh [ -z "$SSH_AUTH_SOCK" ]\n' > "$T/m/ssh3"
build -q -f "$T/m/ssh3" "$T/m" >/dev/null; check "an optional ssh agent not given: no mount" 0 $?
check_fails "a key file is not an agent" "not an agent's socket" build --ssh default="$T/secret" -f "$T/m/ssh2" "$T/m"
printf 'FROM busybox\nRUN --mount=type=nfs,target=/t true\n' > "$T/m/nfs"
check_fails "an unknown mount type" "type=nfs: bind, cache, tmpfs, secret or ssh" build -f "$T/m/nfs" "$T/m"
check_fails "--secret needs id and src" "--secret 'x': id=ID,src=FILE" build --secret x "$T/m"
check "nothing left behind" "" "$(nothing_left)"
ls "$STORE/tmp" | grep -q secret && fail "a secret copy left in the store" || pass "no secret copy left"
finish
