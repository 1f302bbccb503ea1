#!/bin/bash
# SPDX-License-Identifier: MIT
# RUN --mount=type=cache, type=secret with --secret id=,src=, type=bind
# of the context, a stage or an image (read-only, or rw with the writes
# dropped; the bound files in the cache key), type=tmpfs and type=ssh (--ssh): a cache
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
# the bound files are in the key: a change in them makes the RUN miss
# (the context changed since: its second RUN binds all of it)
out=$(build -t bind -f "$T/m/bind" "$T/m" 2>&1)
check "a changed context bound whole: that RUN only runs again" "1" "$(printf '%s\n' "$out" | grep -c 'Using cache')"
out=$(build -t bind -f "$T/m/bind" "$T/m" 2>&1)
check "an unchanged bind source: cached" "2" "$(printf '%s\n' "$out" | grep -c 'Using cache')"
echo changed > "$T/m/data/f"
out=$(build -t bind -f "$T/m/bind" "$T/m" 2>&1)
check "a changed bind source: the RUN runs again" "changed" "$(runc bind cat /got)"
# rw: writes seen in the RUN, then dropped (not in the context, not in the layer)
printf 'FROM busybox\nRUN --mount=type=bind,source=data,target=/mnt/d,rw echo w > /mnt/d/new && echo x >> /mnt/d/f && cat /mnt/d/new /mnt/d/f > /rwgot\n' > "$T/m/bind4"
build -q -t bindrw -f "$T/m/bind4" "$T/m" >/dev/null; check "an rw bind of the context" 0 $?
check "its writes seen in the RUN" "w|changed|x" "$(runc bindrw cat /rwgot | tr '\n' '|' | sed 's/|$//')"
check "the context untouched by an rw bind" "changed|absent" "$( (cat "$T/m/data/f"; [ -e "$T/m/data/new" ] && echo present || echo absent) | tr '\n' '|' | sed 's/|$//')"
check "an rw bind's writes not in the image" "absent" "$(runc bindrw sh -c '[ -e /mnt/d ] && echo present || echo absent')"
printf 'FROM busybox\nRUN --mount=type=bind,source=data/f,target=/one,rw echo y >> /one && cat /one > /onegot\n' > "$T/m/bind4f"
build -q -t bindrwf -f "$T/m/bind4f" "$T/m" >/dev/null; check "an rw bind of a context file" 0 $?
check "the file's write seen in the RUN, not in the context" "changed|y|changed" "$( (runc bindrwf cat /onegot; cat "$T/m/data/f") | tr '\n' '|' | sed 's/|$//')"
# from=: a stage by name and by index, an image of the store; source= in it
cat > "$T/m/bind5" <<'CF'
FROM busybox AS base
RUN mkdir -p /opt/s && echo staged > /opt/s/f
FROM busybox
RUN --mount=type=bind,from=base,source=/opt/s,target=/s cat /s/f > /byname && ! touch /s/w 2>/dev/null
RUN --mount=type=bind,from=0,source=opt/s,target=/s cat /s/f > /byindex
RUN --mount=type=bind,from=busybox,target=/b [ -x /b/bin/busybox ] && echo img > /byimage
RUN --mount=type=bind,from=base,source=/opt/s,target=/s,rw echo w > /s/w && cat /s/w > /rw
RUN --mount=type=bind,from=base,source=/opt/s,target=/s [ ! -e /s/w ] && echo dropped > /after
CF
out=$(build -t bindfrom -f "$T/m/bind5" "$T/m" 2>&1); rc=$?
check "binds from a stage and an image" 0 "$rc"
check "from a stage by name, read-only" "staged" "$(runc bindfrom cat /byname)"
check "from a stage by index" "staged" "$(runc bindfrom cat /byindex)"
check "from an image of the store" "img" "$(runc bindfrom cat /byimage)"
check "rw from a stage: written, then dropped" "w|dropped" "$(runc bindfrom sh -c 'cat /rw /after' | tr '\n' '|' | sed 's/|$//')"
check "no bind stub in the image" "absent" "$(runc bindfrom sh -c '[ -e /s ] || [ -e /b ] && echo present || echo absent')"
# the stage's content is in the key: a change in the stage makes the RUN miss
sed -i 's/echo staged/echo restaged/' "$T/m/bind5"
out=$(build -t bindfrom -f "$T/m/bind5" "$T/m" 2>&1)
check "a changed bind stage: the RUN runs again" "restaged" "$(runc bindfrom cat /byname)"
printf 'FROM busybox\nRUN --mount=type=bind,from=nosuch,target=/x true\n' > "$T/m/bind6"
check_fails "an unknown stage or image" "from=nosuch: not a stage" build --pull=never -f "$T/m/bind6" "$T/m"
printf 'FROM busybox AS a\nRUN echo mine > /marker\nFROM busybox\nRUN --mount=type=bind,from=a,source=../../..,target=/x cat /x/marker > /m\n' > "$T/m/bind7"
build -q -t bind7 -f "$T/m/bind7" "$T/m" >/dev/null 2>&1; check ".. stays in the stage's root" "mine" "$(runc bind7 cat /m)"
printf 'FROM busybox AS a\nRUN ln -s / /out\nFROM busybox\nRUN --mount=type=bind,from=a,source=out/etc,target=/x true\n' > "$T/m/bind8"
check_fails "a bind through a link out of a stage" "source=out/etc: not in a" build -f "$T/m/bind8" "$T/m"
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
