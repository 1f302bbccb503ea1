#!/bin/bash
# SPDX-License-Identifier: MIT
# TLS (issue 9): a registry with a certificate from a CA the test makes with
# openssl. Verified by default (no CA: refused, no fall back to plain HTTP),
# docker's certs.d/HOST:PORT/ca.crt trusted, --tls-verify=false, client
# certificates (client.cert / client.key) for a registry that wants them;
# daemon.json's insecure-registries.
. "$(dirname "$0")/reglib.sh"
need openssl
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }

pki=$T/pki
mkdir -p "$pki"
ossl() { openssl "$@" >/dev/null 2>&1 || { fail "openssl $1"; finish; }; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 2 -subj /CN=img-test-ca
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$pki/srv.ext"
ossl req -newkey rsa:2048 -nodes -keyout "$pki/srv.key" -out "$pki/srv.csr" -subj /CN=127.0.0.1
ossl x509 -req -in "$pki/srv.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
	-out "$pki/srv.crt" -days 2 -extfile "$pki/srv.ext"
printf 'extendedKeyUsage=clientAuth\n' > "$pki/cli.ext"
ossl req -newkey rsa:2048 -nodes -keyout "$pki/cli.key" -out "$pki/cli.csr" -subj /CN=img-client
ossl x509 -req -in "$pki/cli.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
	-out "$pki/cli.crt" -days 2 -extfile "$pki/cli.ext"

export IMG_CERTS_D=$T/certs.d
mkdir -p "$IMG_CERTS_D"
src() { "$IMG_BIN" --root "$T/src" "$@"; }
src import --busybox busybox >/dev/null && src save --format oci-dir -o "$T/lay" busybox ||
	{ fail "source image"; finish; }

# a plain-HTTP registry on loopback: found by an unverified TLS probe, so the
# system CA bundle is never read (parsing it was 35-40 ms of every pull and
# push); a verified pull below reads it as ever
ca_reads() { grep -cE "open(at)?\\(.*\"(/etc/ssl|/etc/pki|/usr/share/ca-certificates|$IMG_CERTS_D)/[^\"]*\\.(crt|pem)\"" "$1"; }
# (LeakSanitizer cannot run under ptrace: off for the traced commands of a
# sanitizer build, on for the rest)
traced() { ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -e trace=open,openat "$@"; }
if command -v strace >/dev/null; then
	registry_start plain
	push_layout "$T/lay" "$REG/x:1" || fail "skopeo push over HTTP"
	traced -o "$T/tr-plain" "$IMG_BIN" --root "$T/plain" pull -q "$REG/x:1" >/dev/null 2>&1
	check "http: pulled after the unverified probe" 0 "$?"
	check "http: no CA file read" 0 "$(ca_reads "$T/tr-plain")"
	registry_stop "$REG_PID"
fi

registry_start tls "  tls:
    certificate: $pki/srv.crt
    key: $pki/srv.key"
push_layout "$T/lay" "$REG/x:1" || fail "skopeo push over TLS"

img images >/dev/null
before=$(store_state)
check_fails "tls: an unknown CA is refused" "pull $REG/x:1: TLS: .*certs.d/$REG/ca.crt" img pull "$REG/x:1"
check "tls: no plain HTTP fall back (store unchanged)" "$before" "$(store_state)"
# daemon.json's insecure-registries: by HOST:PORT, by CIDR; a bad file is one line
printf '{"insecure-registries":["%s"]}\n' "$REG" > "$IMG_DAEMON_CONFIG"
check "tls: insecure-registries HOST:PORT" 0 "$(img pull -q "$REG/x:1" >/dev/null 2>&1; echo $?)"
img rmi "$REG/x:1" >/dev/null
printf '{"insecure-registries":["127.0.0.0/8"]}\n' > "$IMG_DAEMON_CONFIG"
check "tls: insecure-registries CIDR" 0 "$(img pull -q "$REG/x:1" >/dev/null 2>&1; echo $?)"
img rmi "$REG/x:1" >/dev/null
printf '{"insecure-registries":["10.0.0.0/8", "127.0.0.2:5000"]}\n' > "$IMG_DAEMON_CONFIG"
check_fails "tls: another insecure registry listed: still verified" "pull $REG/x:1: TLS: " img pull "$REG/x:1"
printf '{"insecure-registries":"%s"}\n' "$REG" > "$IMG_DAEMON_CONFIG"
check_fails "tls: a bad daemon.json" "pull $REG/x:1: $IMG_DAEMON_CONFIG: \"insecure-registries\" is not a list" img pull "$REG/x:1"
rm -f "$IMG_DAEMON_CONFIG"
check "tls: --tls-verify=false" 0 "$(img pull -q --tls-verify=false "$REG/x:1" >/dev/null 2>&1; echo $?)"
img rmi "$REG/x:1" >/dev/null
mkdir -p "$IMG_CERTS_D/$REG"
cp "$pki/ca.crt" "$IMG_CERTS_D/$REG/ca.crt"
if command -v strace >/dev/null; then
	traced -o "$T/tr-tls" "$IMG_BIN" --root "$STORE" pull -q "$REG/x:1" >/dev/null 2>&1
	check "tls: certs.d ca.crt trusted" 0 "$?"
	check "tls: the verified pull read the CAs" 1 "$(( $(ca_reads "$T/tr-tls") > 0 ))"
else
	check "tls: certs.d ca.crt trusted" 0 "$(img pull -q "$REG/x:1" >/dev/null 2>&1; echo $?)"
fi
check "tls: push verified" 0 "$(img push -q "$REG/x:1" "$REG/y:1" >/dev/null 2>&1; echo $?)"
registry_stop "$REG_PID"

# a registry that wants a client certificate signed by the CA
registry_start mtls "  tls:
    certificate: $pki/srv.crt
    key: $pki/srv.key
    clientcas:
      - $pki/ca.crt"
mkdir -p "$IMG_CERTS_D/$REG"
cp "$pki/ca.crt" "$IMG_CERTS_D/$REG/ca.crt"
skopeo copy -q --dest-cert-dir "$pki/skopeo" --dest-tls-verify=false "oci:$T/lay" "docker://$REG/x:1" >/dev/null 2>&1 || {
	mkdir -p "$pki/skopeo"; cp "$pki/cli.crt" "$pki/skopeo/client.cert"; cp "$pki/cli.key" "$pki/skopeo/client.key"
	skopeo copy -q --dest-cert-dir "$pki/skopeo" --dest-tls-verify=false "oci:$T/lay" "docker://$REG/x:1" >/dev/null ||
		fail "skopeo push with a client cert"
}
check_fails "mtls: without a client certificate" "pull $REG/x:1: " img pull "$REG/x:1"
cp "$pki/cli.crt" "$IMG_CERTS_D/$REG/client.cert"
cp "$pki/cli.key" "$IMG_CERTS_D/$REG/client.key"
img rmi -f "$REG/x:1" >/dev/null 2>&1
check "mtls: with client.cert / client.key" 0 "$(img pull -q "$REG/x:1" >/dev/null 2>&1; echo $?)"
check "tls: fsck" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
finish
