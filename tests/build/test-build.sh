#!/bin/bash
# SPDX-License-Identifier: MIT
# img build through the real binary: every instruction into the image's
# config and history, the output (STEP n/N, the id last, -q), RUN's layers
# (writes in a lower dir, deleted lower files, a replaced dir: whiteouts
# and an opaque dir), COPY/ADD (globs, dirs, --chown, --chmod, heredocs,
# a local tar), .dockerignore, build args and their scoping, SHELL,
# ONBUILD, multi-stage builds with COPY --from and --target, stdin.
. "$(dirname "$0")/buildlib.sh"
runc() { img run --rm --pull=never --cgroup-parent "$CGP" --network none "$@"; }
lines() { tr '\n' '|' | sed 's/|$//'; }

# ---- every instruction (history as buildah writes it: the instruction as
# written, "ARG NAME", COPY's "file:|dir:|multi:HASH in DEST ")
mkdir -p "$T/all"
echo hello > "$T/all/a.txt"; echo other > "$T/all/b.txt"; mkdir -p "$T/all/dir/sub"
echo deep > "$T/all/dir/sub/f"; chmod 0600 "$T/all/dir/sub/f"
ctx all <<'CF'
# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE
MAINTAINER someone <s@example.org>
ARG WHO=world
ENV GREETING="hello ${WHO}" \
    EMPTY= PATHX=${PATH}:/x
LABEL org.example.k=v "two words"="a b"
RUN echo "run: $GREETING" && mkdir -p /out && echo "$WHO" > /out/who
COPY a.txt /opt/
COPY *.txt /glob/
COPY dir /copied/
COPY --chown=1:2 --chmod=0640 a.txt /owned
COPY --chown=nobody a.txt /named
ADD b.txt /added
WORKDIR /work
WORKDIR sub
USER 1000:1000
EXPOSE 80 53/udp
VOLUME /data /cache
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD ["true"]
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered > /tmp/onbuild
ENTRYPOINT ["/bin/echo"]
CMD ["default"]
CF
out=$(build -t all:1 "$T/all" 2>&1); rc=$?
check "build of every instruction" 0 "$rc"
check_re "syntax noted, STEP 1/24 first" "^note: the syntax directive .*ignored.*STEP 1/23: FROM \\\$BASE" "$(printf '%s\n' "$out" | tr '\n' ' ')"
check_re "RUN's output streamed" $'\n'"run: hello world"$'\n' "$out"
check_re "id printed last" $'\n'"sha256:[0-9a-f]{64}\$" "$out"
check_re "tagged" $'\n'"Successfully tagged all:1"$'\n' "$out"
id=$(printf '%s\n' "$out" | tail -1)
check "the id is the image's" "$id" "$(cfg all:1 '{{.Id}}')"
check "Env" '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","GREETING=hello world","EMPTY=","PATHX=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/x"]' "$(cfg all:1 '{{json .Config.Env}}')"
check "Labels" '{"org.example.k":"v","two words":"a b"}' "$(cfg all:1 '{{json .Config.Labels}}')"
check "WorkingDir" /work/sub "$(cfg all:1 '{{.Config.WorkingDir}}')"
check "User" 1000:1000 "$(cfg all:1 '{{.Config.User}}')"
check "ExposedPorts" '{"53/udp":{},"80/tcp":{}}' "$(cfg all:1 '{{json .Config.ExposedPorts}}')"
check "Volumes" '{"/cache":{},"/data":{}}' "$(cfg all:1 '{{json .Config.Volumes}}')"
check "Entrypoint" '["/bin/echo"]' "$(cfg all:1 '{{json .Config.Entrypoint}}')"
check "Cmd" '["default"]' "$(cfg all:1 '{{json .Config.Cmd}}')"
cj() { python3 -c 'import json,sys
c=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: c=c[k]
print(json.dumps(c))' "$STORE/blobs/sha256/${id#sha256:}" "$@"; }
check "StopSignal" '"SIGINT"' "$(cj config StopSignal)"
check "Healthcheck" '{"Test": ["CMD", "true"], "Interval": 5000000000, "Retries": 2}' "$(cj config Healthcheck)"
check "OnBuild" '["RUN echo triggered > /tmp/onbuild"]' "$(cj config OnBuild)"
check "Shell" '["/bin/sh", "-ec"]' "$(cj config Shell)"
check "author" '"someone <s@example.org>"' "$(cj author)"
check "created: the fixed epoch" '"1970-01-01T00:00:00Z"' "$(cj created)"
hist=$(python3 -c 'import json,sys
for h in json.load(open(sys.argv[1]))["history"][1:]:
    print(("E " if h.get("empty_layer") else "L ") + h["created_by"])' "$STORE/blobs/sha256/${id#sha256:}")
want='E /bin/sh -c #(nop) MAINTAINER someone <s@example.org>
E /bin/sh -c #(nop) ARG WHO
E /bin/sh -c #(nop) ENV GREETING="hello ${WHO}"     EMPTY= PATHX=${PATH}:/x
E /bin/sh -c #(nop) LABEL org.example.k=v "two words"="a b"
L |1 WHO=world /bin/sh -c echo "run: $GREETING" && mkdir -p /out && echo "$WHO" > /out/who
L /bin/sh -c #(nop) COPY file:H in /opt/ 
L /bin/sh -c #(nop) COPY multi:H in /glob/ 
L /bin/sh -c #(nop) COPY dir:H in /copied/ 
L /bin/sh -c #(nop) COPY file:H in /owned 
L /bin/sh -c #(nop) COPY file:H in /named 
L /bin/sh -c #(nop) ADD file:H in /added 
L /bin/sh -c #(nop) WORKDIR /work
L /bin/sh -c #(nop) WORKDIR sub
E /bin/sh -c #(nop) USER 1000:1000
E /bin/sh -c #(nop) EXPOSE 80 53/udp
E /bin/sh -c #(nop) VOLUME /data /cache
E /bin/sh -c #(nop) STOPSIGNAL SIGINT
E /bin/sh -c #(nop) HEALTHCHECK --interval=5s --retries=2 CMD ["true"]
E /bin/sh -c #(nop) SHELL ["/bin/sh", "-ec"]
E /bin/sh -c #(nop) ONBUILD RUN echo triggered > /tmp/onbuild
E /bin/sh -c #(nop) ENTRYPOINT ["/bin/echo"]
E /bin/sh -c #(nop) CMD ["default"]'
hist=$(printf '%s\n' "$hist" | sed -E 's/(file|dir|multi):[0-9a-f]+ in/\1:H in/')
check "history: created_by and empty_layer" "$want" "$hist"
check "img history lists the steps" 23 "$(img history -q all:1 | wc -l)"
check "the entrypoint runs" "default" "$(runc all:1)"
st=$(runc --entrypoint stat all:1 -c '%F %a %u:%g %s %n' /out/who /opt/a.txt /glob/a.txt /glob/b.txt /copied/sub/f /owned /named /added | lines)
check "files, owners, modes" "regular file 644 0:0 6 /out/who|regular file 644 0:0 6 /opt/a.txt|regular file 644 0:0 6 /glob/a.txt|regular file 644 0:0 6 /glob/b.txt|regular file 600 0:0 5 /copied/sub/f|regular file 640 1:2 6 /owned|regular file 644 65534:65534 6 /named|regular file 644 0:0 6 /added" "$st"

# ---- ONBUILD triggers run in a child, SHELL is used by RUN
ctx child <<'CF'
FROM all:1
USER 0
RUN echo "$-" > /shell
CF
out=$(build -q -t child "$T/child" 2>&1)
check_re "-q prints only the id" "^sha256:[0-9a-f]{64}$" "$out"
check "ONBUILD trigger ran" "triggered" "$(runc --entrypoint cat child /tmp/onbuild)"
check "triggers are not inherited" "null" "$(cfg child '{{json .Config.OnBuild}}')"
check_re "SHELL's -e used" "e" "$(runc --entrypoint cat child /shell)"

# ---- RUN's layer: a write in a lower dir, deleted files, a replaced dir
ctx wh <<'CF'
FROM busybox
RUN echo new > /etc/added && rm /bin/ls /etc/group && rm -rf /root && mkdir /root && echo r > /root/only
CF
build -q -t wh "$T/wh" >/dev/null
check "the RUN's changes" "new|r|absent|absent" "$(runc wh sh -c 'cat /etc/added /root/*; [ -e /bin/ls ] || echo absent; [ -e /etc/group ] || echo absent' | lines)"
layer=$(img inspect -f '{{json .RootFS.Layers}}' wh | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1])')
names=$(cd "$STORE/layers/${layer#sha256:}" 2>/dev/null && find . | sort | tr '\n' ' ')
check "whiteouts and the opaque dir in the layer" ". ./bin ./bin/.wh.ls ./etc ./etc/.wh.group ./etc/added ./root ./root/.wh..wh..opq ./root/only " "$names"

# ---- COPY through the image's symlinks (/var/run -> /run, merged /usr): the
# link stays a link, the files land where it points
ctx ln <<'CF'
FROM busybox
RUN mkdir -p /real/dir && ln -s /real /abs && ln -s real/dir /rel
COPY a.txt /abs/sub/
COPY a.txt /rel/
WORKDIR /abs/wd
CF
cp "$T/all/a.txt" "$T/ln/"
build -q -t ln "$T/ln" >/dev/null; check "build through symlinks" 0 $?
check "the links kept, the files behind them" "/real|real/dir|hello|hello|dir" "$(runc ln sh -c 'readlink /abs; readlink /rel; cat /real/sub/a.txt /real/dir/a.txt; [ -d /real/wd ] && echo dir' | lines)"

# ---- heredocs, exec form, ADD of a tar
mkdir -p "$T/hd/src"; echo in-tar > "$T/hd/src/t"; tar -C "$T/hd/src" -czf "$T/hd/x.tgz" t
ctx hd <<'CF'
FROM busybox
ARG NAME=v1
RUN <<EOF
echo line1 > /h1
echo "$HOME" >> /h1
EOF
RUN cat > /h2 <<-X && echo done >> /h2
	tabbed
	X
COPY <<A <<"B" /docs/
name=$NAME
A
literal $NAME
B
RUN ["/bin/sh", "-c", "echo exec > /h3"]
ADD x.tgz /untar/
ADD x.tgz /kept.tgz
CF
build -q -t hd "$T/hd" >/dev/null; check "heredoc build" 0 $?
check "RUN <<EOF script" "line1|/root" "$(runc hd cat /h1 | lines)"
check "RUN with a <<- heredoc" "tabbed|done" "$(runc hd cat /h2 | lines)"
check "COPY heredocs (expanded, quoted literal)" 'name=v1|literal $NAME' "$(runc hd cat /docs/A /docs/B | lines)"
check "RUN exec form" "exec" "$(runc hd cat /h3)"
check "ADD unpacks a local tar" "in-tar" "$(runc hd cat /untar/t)"
check "ADD x.tgz /path: unpacked there" "in-tar" "$(runc hd cat /kept.tgz/t)"

# ---- .dockerignore
mkdir -p "$T/ig/logs" "$T/ig/keep"
for f in a.log keep.log logs/x keep/y main.c; do echo "$f" > "$T/ig/$f"; done
printf '*.log\n!keep.log\nlogs\n# comment\n**/y\n' > "$T/ig/.dockerignore"
printf 'FROM busybox\nCOPY . /ctx/\n' > "$T/ig/Containerfile"
build -q -t ig "$T/ig" >/dev/null
check ".dockerignore honoured" "./.dockerignore ./Containerfile ./keep ./keep.log ./main.c" "$(runc ig sh -c 'cd /ctx && find . -mindepth 1 | sort | tr "\n" " "' | sed 's/ $//')"
printf 'FROM busybox\nCOPY a.log /\n' > "$T/ig/Other"
check_fails "COPY of an ignored file" "a.log: excluded by .dockerignore" build -f "$T/ig/Other" "$T/ig"
# .containerignore first: where both exist, .dockerignore is not read
cp -a "$T/ig" "$T/ig2"
printf 'main.c\n' > "$T/ig2/.containerignore"
build -q -t ig2 "$T/ig2" >/dev/null
check ".containerignore wins over .dockerignore" \
	"./.containerignore ./.dockerignore ./Containerfile ./Other ./a.log ./keep ./keep.log ./keep/y ./logs ./logs/x" \
	"$(runc ig2 sh -c 'cd /ctx && find . -mindepth 1 | sort | tr "\n" " "' | sed 's/ $//')"

# ---- COPY --exclude and --parents
mkdir -p "$T/cx/src/a/b" "$T/cx/src/c" "$T/cx/x/./y"
for f in src/top.txt src/top.md src/a/one.txt src/a/b/two.txt src/a/b/two.md src/c/three.txt x/y/z.txt; do echo "$f" > "$T/cx/$f"; done
ctx cx <<'CF'
FROM busybox
COPY --exclude=*.md --exclude=a/b src/ /ex/
COPY --exclude=**/*.txt src /ex2/
COPY --exclude=*.md src/top.txt src/top.md /ex3/
COPY --parents src/a/b/two.txt src/c/three.txt /par/
COPY --parents src/*/*.txt /par2/
COPY --parents ./x/./y/z.txt /piv/
COPY --parents src/c /pdir/
CF
build -q -t cx "$T/cx" >/dev/null; check "COPY --exclude and --parents" 0 $?
lst() { runc cx sh -c "cd $1 && find . -mindepth 1 | sort | tr '\n' ' '" | sed 's/ $//'; }
check "--exclude: patterns below the source dir" "./a ./a/one.txt ./c ./c/three.txt ./top.txt" "$(lst /ex)"
check "--exclude with **" "./a ./a/b ./a/b/two.md ./c ./top.md" "$(lst /ex2)"
check "--exclude of a named source" "./top.txt" "$(lst /ex3)"
check "--parents keeps the source paths" "./src ./src/a ./src/a/b ./src/a/b/two.txt ./src/c ./src/c/three.txt" "$(lst /par)"
check "--parents with a glob" "./src ./src/a ./src/a/one.txt ./src/c ./src/c/three.txt" "$(lst /par2)"
check "--parents below a /./ pivot" "./y ./y/z.txt" "$(lst /piv)"
check "--parents of a dir: the dir kept" "./src ./src/c ./src/c/three.txt" "$(lst /pdir)"
# an excluded file's change does not miss; a copied one's does
out=$(build "$T/cx" 2>&1)
echo changed > "$T/cx/src/top.md"
out=$(build "$T/cx" 2>&1)
check "an excluded file changed: that COPY cached, the next missed" "1" "$(printf '%s\n' "$out" | grep -c 'Using cache')"

# ---- build args: default, --build-arg, scoping, unused warning
ctx args <<'CF'
ARG V=global
FROM busybox
ARG V
ARG W=w-default
ENV E=$W
RUN echo "$V $W $E" > /args
CF
build -q -t args1 "$T/args" >/dev/null
check "ARG defaults (global ARG re-declared)" "global w-default w-default" "$(runc args1 cat /args)"
out=$(build -t args2 --build-arg V=cli --build-arg W=ww --build-arg UNUSED=1 "$T/args" 2>&1)
check "--build-arg" "cli ww ww" "$(runc args2 cat /args)"
check_re "unused build arg warned" "build-args \[UNUSED\] were not consumed" "$out"
# a predefined proxy arg: in the RUN's environment without an ARG, not in history
printf 'FROM busybox\nRUN echo "$http_proxy" > /proxy\n' > "$T/args/Proxy"
build -q -t proxy --build-arg http_proxy=http://127.0.0.1:9 -f "$T/args/Proxy" "$T/args" >/dev/null
check "a proxy build arg reaches RUN" "http://127.0.0.1:9" "$(runc proxy cat /proxy)"
check "and stays out of the history" "/bin/sh -c echo \"\$http_proxy\" > /proxy" "$(img history --no-trunc --format '{{.CreatedBy}}' proxy | head -1)"
check "ARG values stay out of the config" '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","E=ww"]' "$(cfg args2 '{{json .Config.Env}}')"

# ---- multi-stage: COPY --from by name and index, --target, unneeded stages skipped
ctx ms <<'CF'
FROM busybox AS base
RUN echo base > /b

FROM busybox AS unused
RUN exit 3

FROM base AS build
RUN echo built > /artifact && chown 5:6 /artifact

FROM scratch
COPY --from=build /artifact /
COPY --from=0 /b /from-index
COPY --from=busybox /bin/busybox /bin/busybox
CF
out=$(build -t ms "$T/ms" 2>&1); rc=$?
check "multi-stage build" 0 "$rc"
check_re "only the needed stages" "^\[1/3\] STEP 1/2: FROM busybox AS base" "$out"
case "$out" in *"exit status 3"*) fail "the unused stage was built" ;; *) pass "the unused stage was not built" ;; esac
check "COPY --from a stage keeps owners" "regular file 644 5:6 6 /artifact|regular file 644 0:0 5 /from-index" "$(runc --entrypoint /bin/busybox ms stat -c '%F %a %u:%g %s %n' /artifact /from-index | lines)"
check "a scratch image has only its layers" 3 "$(cfg ms '{{len .RootFS.Layers}}')"
build -q -t ms-base --target base "$T/ms" >/dev/null
check "--target" "base" "$(runc ms-base cat /b)"
check_fails "--target of no stage" "target stage \"nope\" could not be found" build --target nope "$T/ms"

# ---- stdin: a Containerfile, a tar context
printf 'FROM busybox\nRUN echo from-stdin > /s\n' | build -q -t stdin1 - >/dev/null
check "Containerfile on stdin" "from-stdin" "$(runc stdin1 cat /s)"
out=$(tar -C "$T/all" -c . | build -q -t stdin2 -f - - 2>&1)
check_re "the context and the file not both on stdin" "cannot both be on stdin" "$out"
tar -C "$T/hd" -c . | build -q -t stdin3 - >/dev/null
check "a tar context on stdin" "in-tar" "$(runc stdin3 cat /untar/t)"
build -q --iidfile "$T/iid" "$T/hd" >/dev/null
check "--iidfile" "$(cfg hd '{{.Id}}')" "$(cat "$T/iid")"
build -q -t lab --label a=1 --label b=2 "$T/hd" >/dev/null
check "--label on the final image" '{"a":"1","b":"2"}' "$(cfg lab '{{json .Config.Labels}}')"

# ---- a RUN that changes nothing adds no layer (docs/build.md; docker's
# classic builder adds an empty one): its history entry is empty_layer
# last_two IMAGE: its last two history entries, "E|L created_by" (empty_layer or not)
last_two() {
	local id; id=$(cfg "$1" '{{.Id}}')
	python3 -c 'import json,sys
for h in json.load(open(sys.argv[1]))["history"][-2:]:
    print(("E " if h.get("empty_layer") else "L ") + h["created_by"])' "$STORE/blobs/sha256/${id#sha256:}" | lines
}
printf 'FROM busybox\nRUN true\nRUN echo x > /x\n' | build -q -t emptyrun - >/dev/null
check "a RUN that changes nothing: no layer, one for the RUN that writes" \
	"$(( $(cfg busybox '{{len .RootFS.Layers}}') + 1 ))" "$(cfg emptyrun '{{len .RootFS.Layers}}')"
check "its history entry: empty_layer" "E /bin/sh -c true|L /bin/sh -c echo x > /x" "$(last_two emptyrun)"

# ---- a bare RUN: BuildKit runs /bin/sh -c "" (buildah runs /bin/sh -c with
# no argument, which busybox's sh refuses): a step that changes nothing
out=$(printf 'FROM busybox\nRUN\nRUN echo x > /x\n' | build -q -t barerun - 2>&1 >/dev/null); rc=$?
check "a bare RUN builds" "0" "$rc${out:+ $out}"
check "a bare RUN: no layer of its own" \
	"$(( $(cfg busybox '{{len .RootFS.Layers}}') + 1 ))" "$(cfg barerun '{{len .RootFS.Layers}}')"
check "a bare RUN's history entry: /bin/sh -c with an empty command, empty_layer" \
	"E /bin/sh -c |L /bin/sh -c echo x > /x" "$(last_two barerun)"

# ---- CMD [] and ENTRYPOINT [] clear the value: no key in the config, as
# BuildKit's and buildah's (Go's omitempty); a new ENTRYPOINT drops an
# inherited CMD, and one given in the same stage survives it
# keys IMAGE: the config's Cmd and Entrypoint, "-" where absent
keys() {
	local id; id=$(cfg "$1" '{{.Id}}')
	python3 -c 'import json,sys
c=json.load(open(sys.argv[1]))["config"]
print(" ".join(json.dumps(c[k]) if k in c else "-" for k in ("Cmd", "Entrypoint")))' "$STORE/blobs/sha256/${id#sha256:}"
}
printf 'FROM busybox\nCMD ["sh"]\nENTRYPOINT ["/bin/echo"]\n' | build -q -t clr - >/dev/null
check "CMD kept by an ENTRYPOINT of its stage" '["sh"] ["/bin/echo"]' "$(keys clr)"
printf 'FROM clr\nCMD []\n' | build -q -t clr-cmd - >/dev/null
check "CMD []: no Cmd, the Entrypoint kept" '- ["/bin/echo"]' "$(keys clr-cmd)"
printf 'FROM clr\nENTRYPOINT [ ]\n' | build -q -t clr-ep - >/dev/null
check "ENTRYPOINT [ ]: no Entrypoint, nor the inherited Cmd" '- -' "$(keys clr-ep)"
printf 'FROM clr\nCMD ["x"]\nENTRYPOINT []\n' | build -q -t clr-both - >/dev/null
check "ENTRYPOINT [] after this stage's CMD keeps it" '["x"] -' "$(keys clr-both)"
check "CMD []'s history entry" "E /bin/sh -c #(nop) CMD []" "$(last_two clr-cmd | sed 's/.*|//')"

check "nothing left behind" "" "$(nothing_left)"
check "fsck" "$STORE: ok" "$(img fsck 2>&1)"
finish
