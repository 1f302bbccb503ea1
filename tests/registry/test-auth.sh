#!/bin/bash
# SPDX-License-Identifier: MIT
# Registry auth (issue 9): htpasswd Basic and token (Bearer) auth on a real
# docker-registry, img login / logout with docker's config.json (0600,
# never printed), podman's auth.json read, docker's credential helpers
# (credsStore, credHelpers) run, anonymous Bearer pulls.
. "$(dirname "$0")/reglib.sh"
need htpasswd openssl
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
python3 -c 'import cryptography' 2>/dev/null || { echo "skip: python3-cryptography missing"; exit 77; }

export DOCKER_CONFIG=$T/docker
export XDG_RUNTIME_DIR=$T/xdg
unset REGISTRY_AUTH_FILE
PASS='s3cret-Pa55'
src() { "$IMG_BIN" --root "$T/src" "$@"; }
src import --busybox busybox >/dev/null && src save --format oci-dir -o "$T/lay" busybox ||
	{ fail "source image"; finish; }

# ------------------------------------------------------------ Basic
htpasswd -Bbn alice "$PASS" > "$T/htpasswd" 2>/dev/null
registry_start basic "auth:
  htpasswd:
    realm: img-test
    path: $T/htpasswd"
skopeo copy -q --dest-tls-verify=false --dest-creds "alice:$PASS" "oci:$T/lay" "docker://$REG/x:1" >/dev/null ||
	fail "skopeo push with credentials"
check_fails "basic: anonymous pull refused" "pull $REG/x:1: unauthorized" img pull "$REG/x:1"
check_fails "basic: login with a wrong password" "login $REG: " \
	sh -c "echo wrong | '$IMG_BIN' login -u alice --password-stdin $REG"
check "basic: failed login wrote nothing" "no" "$([ -e "$DOCKER_CONFIG/config.json" ] && echo yes || echo no)"
out=$(echo "$PASS" | img login -u alice --password-stdin "$REG" 2>&1); rc=$?
check "basic: login" "0 Login Succeeded" "$rc $out"
check "config.json mode 0600" "600" "$(stat -c %a "$DOCKER_CONFIG/config.json")"
check "config.json: docker's auths format" "alice:$PASS" \
	"$(python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"]).decode())' "$DOCKER_CONFIG/config.json" "$REG")"
out=$(img pull "$REG/x:1" 2>&1); rc=$?
check "basic: pull with the stored credentials" 0 "$rc"
case "$out" in *"$PASS"*) fail "password printed";; *) pass "password never printed";; esac
img import --busybox busybox >/dev/null
check "basic: push with the stored credentials" 0 "$(img push -q busybox "$REG/basic/pushed:1" >/dev/null 2>&1; echo $?)"
check "basic: skopeo sees the push" 0 \
	"$(skopeo inspect --tls-verify=false --creds "alice:$PASS" "docker://$REG/basic/pushed:1" >/dev/null 2>&1; echo $?)"
out=$(img logout "$REG"); check "logout" "Removing login credentials for $REG" "$out"
out=$(img logout "$REG"); check "logout again" "Not logged in to $REG" "$out"
check_fails "basic: after logout refused" "unauthorized" img pull "$REG/x:1"
# podman's auth.json is read too
mkdir -p "$XDG_RUNTIME_DIR/containers"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$(printf 'alice:%s' "$PASS" | base64 -w0)" \
	> "$XDG_RUNTIME_DIR/containers/auth.json"
img rmi "$REG/x:1" >/dev/null
check "basic: pull with podman's auth.json" 0 "$(img pull -q "$REG/x:1" >/dev/null 2>&1; echo $?)"
rm -f "$XDG_RUNTIME_DIR/containers/auth.json"
# docker's credential helpers: credsStore and credHelpers run
# docker-credential-NAME get/store/erase (a helper this test writes, keeping
# its secrets in a JSON file of the temp dir)
mkdir -p "$T/bin"
cat > "$T/bin/docker-credential-imgtest" <<'HELPER'
#!/usr/bin/env python3
import json, os, sys
db = os.environ["IMGTEST_HELPER_DB"]
verb = sys.argv[1]
d = json.load(open(db)) if os.path.exists(db) else {}
with open(db + ".log", "a") as f:
    f.write(verb + "\n")
if verb == "get":
    url = sys.stdin.read().strip()
    if url not in d:
        print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps({"ServerURL": url, "Username": d[url][0], "Secret": d[url][1]}))
elif verb == "store":
    c = json.load(sys.stdin)
    d[c["ServerURL"]] = [c["Username"], c["Secret"]]
    json.dump(d, open(db, "w"))
elif verb == "erase":
    url = sys.stdin.read().strip()
    if url not in d:
        print("credentials not found in native keychain"); sys.exit(1)
    del d[url]; json.dump(d, open(db, "w"))
HELPER
chmod +x "$T/bin/docker-credential-imgtest"
export IMGTEST_HELPER_DB=$T/helper.json
OLDPATH=$PATH; export PATH=$T/bin:$PATH
printf '{"credsStore":"imgtest"}\n' > "$DOCKER_CONFIG/config.json"
out=$(echo "$PASS" | img login -u alice --password-stdin "$REG" 2>&1); rc=$?
check "credsStore: login" "0 Login Succeeded" "$rc $out"
check "credsStore: the helper has the secret" "alice $PASS" \
	"$(python3 -c 'import json,sys; print(*json.load(open(sys.argv[1]))[sys.argv[2]])' "$IMGTEST_HELPER_DB" "$REG")"
check "credsStore: no secret in config.json, docker's empty entry" '{}' \
	"$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["auths"][sys.argv[2]]))' "$DOCKER_CONFIG/config.json" "$REG")"
check "credsStore: the file keeps credsStore" imgtest \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credsStore"])' "$DOCKER_CONFIG/config.json")"
img rmi "$REG/x:1" >/dev/null 2>&1
check "credsStore: pull with the helper's credentials" 0 "$(img pull -q "$REG/x:1" >/dev/null 2>&1; echo $?)"
check "credsStore: the helper was asked (store, get)" "store get" "$(paste -sd" " "$IMGTEST_HELPER_DB.log")"
out=$(img logout "$REG"); check "credsStore: logout" "Removing login credentials for $REG" "$out"
check "credsStore: erased from the helper" "{}" "$(cat "$IMGTEST_HELPER_DB")"
img rmi "$REG/x:1" >/dev/null 2>&1
check_fails "credsStore: after logout refused" "unauthorized" img pull "$REG/x:1"
# credHelpers by registry win over credsStore; a missing helper is one line
printf '{"credsStore":"nosuchhelper","credHelpers":{"%s":"imgtest"}}\n' "$REG" > "$DOCKER_CONFIG/config.json"
printf '{"%s":["alice","%s"]}' "$REG" "$PASS" > "$IMGTEST_HELPER_DB"
check "credHelpers: pull with the registry's helper" 0 "$(img pull -q "$REG/x:1" >/dev/null 2>&1; echo $?)"
printf '{"credsStore":"nosuchhelper"}\n' > "$DOCKER_CONFIG/config.json"
check_fails "a credsStore not in PATH: logout says so" "docker-credential-nosuchhelper: not found" img logout "$REG"
rm -f "$DOCKER_CONFIG/config.json" "$IMGTEST_HELPER_DB"
export PATH=$OLDPATH
check_fails "login --password-stdin without -u" "must provide --username" \
	sh -c "echo x | '$IMG_BIN' login --password-stdin $REG"
check_fails "login from a non-tty without a password" "non TTY" \
	sh -c "'$IMG_BIN' login -u alice $REG < /dev/null"
registry_stop "$REG_PID"

# ------------------------------------------------------------ Bearer
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tk.key" -out "$T/tk.crt" -days 2 \
	-subj /CN=img-test-token >/dev/null 2>&1 || { fail "openssl"; finish; }
python3 "$SRC/tests/registry/token-server.py" "$T/tk.key" "$T/tk.crt" img-test-issuer \
	"bob:$PASS" "$T/tk.port" "$T/tk.log" 2>"$T/tk.err" &
_PIDS+=($!)
wait_for "the token server" test -s "$T/tk.port" || finish
TPORT=$(cat "$T/tk.port")
registry_start bearer "auth:
  token:
    realm: http://127.0.0.1:$TPORT/token
    service: img-test
    issuer: img-test-issuer
    rootcertbundle: $T/tk.crt"
skopeo copy -q --dest-tls-verify=false --dest-creds "bob:$PASS" "oci:$T/lay" "docker://$REG/team/x:1" >/dev/null ||
	fail "skopeo push with a token"
skopeo copy -q --dest-tls-verify=false --dest-creds "bob:$PASS" "oci:$T/lay" "docker://$REG/pub/x:1" >/dev/null ||
	fail "skopeo push pub/x"
img rmi "$(img images -q)" -f >/dev/null 2>&1
check "bearer: anonymous pull of a public repo" 0 "$(img pull -q "$REG/pub/x:1" >/dev/null 2>&1; echo $?)"
check_re "bearer: the token asked for the repository's pull scope" "scope=repository%3Apub%2Fx%3Apull" "$(cat "$T/tk.log")"
check_fails "bearer: anonymous pull of a private repo" "pull $REG/team/x:1: .*(unauthorized|authentication required|denied)" \
	img pull "$REG/team/x:1"
check_fails "bearer: wrong password" "login $REG: .*incorrect username or password" \
	sh -c "echo nope | '$IMG_BIN' login -u bob --password-stdin $REG"
out=$(echo "$PASS" | img login -u bob --password-stdin "$REG" 2>&1)
check "bearer: login" "Login Succeeded" "$out"
check "bearer: pull with credentials" 0 "$(img pull -q "$REG/team/x:1" >/dev/null 2>&1; echo $?)"
img import --busybox busybox >/dev/null
check "bearer: push with credentials (pull,push scope)" 0 "$(img push -q busybox "$REG/team/pushed:1" >/dev/null 2>&1; echo $?)"
check_re "bearer: the token asked for push" "repository%3Ateam%2Fpushed%3Apull%2Cpush" "$(cat "$T/tk.log")"
img logout "$REG" >/dev/null
check_fails "bearer: anonymous push refused" "push $REG/team/pushed:2: " img push busybox "$REG/team/pushed:2"
check "bearer: fsck" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
finish
