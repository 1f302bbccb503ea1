# SPDX-License-Identifier: MIT
# Fixture for the registry tests: tests/img/imglib.sh's temp dir and store,
# plus Debian's docker-registry started on 127.0.0.1 at a free port with its
# storage in the temp dir (stopped by PID at exit), and helpers to push an
# image into it with skopeo. Sourced. Nothing talks beyond 127.0.0.0/8.
. "$(dirname "${BASH_SOURCE[0]}")/../img/imglib.sh"

need docker-registry skopeo python3
# img's daemon.json: the test's own (none unless a test writes it), never
# the machine's /etc/img/daemon.json
export IMG_DAEMON_CONFIG=$T/daemon.json
REGISTRY_BIN=/usr/bin/docker-registry
[ -x "$REGISTRY_BIN" ] || REGISTRY_BIN=$(command -v docker-registry)

. "$(dirname "${BASH_SOURCE[0]}")/../lib/ports.sh" # free_port, reported_port

# wait_for DESC CMD...: poll CMD up to 60 s (the machine is loaded)
wait_for() {
	local desc=$1 i; shift
	for ((i = 0; i < 600; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "timed out waiting for $desc"
	return 1
}

# registry_start NAME [EXTRA_YAML]: a registry in $T/reg-NAME on the port
# the kernel gives it (addr :0, the port read from its own "listening on"
# line: nothing can take the port between a choice and the bind), or on
# REG_PORT if set (a free_port, for a test that restarts it on its port);
# sets REG (host:port) and REG_PID. The config is left with the port, so
# serving it again binds the same one. EXTRA_YAML is appended to the
# config (auth:, http tls: ...). REG_SCHEME=https if tls is in EXTRA.
registry_start() {
	local name=$1 extra=${2:-} port
	mkdir -p "$T/reg-$name/data"
	# (level info: the "listening on" line; the access log's lines are
	# the ones the tests count, "GET /v2/...")
	cat > "$T/reg-$name/config.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $T/reg-$name/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${REG_PORT:-0}
$extra
YAML
	"$REGISTRY_BIN" serve "$T/reg-$name/config.yml" > "$T/reg-$name/log" 2>&1 &
	REG_PID=$!
	_PIDS+=("$REG_PID")
	port=$(reported_port "$T/reg-$name/log" "$REG_PID" "$REGISTRY_PORT_SED") ||
		{ fail "registry $name not listening" "$(tail -n1 "$T/reg-$name/log")"; return 1; }
	REG=127.0.0.1:$port
	sed -i "s/^  addr: 127\.0\.0\.1:.*/  addr: $REG/" "$T/reg-$name/config.yml"
}

# blob_gets NAME: how many blob GETs registry NAME's access log has seen
blob_gets() { grep -c '"GET /v2/[^ ]*/blobs/' "$T/reg-$1/log"; }

registry_stop() { # registry_stop PID
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# push_layout DIR REF: skopeo copy of the OCI layout DIR into the registry
push_layout() {
	skopeo copy -q --dest-tls-verify=false "oci:$1" "docker://$2" >/dev/null
}

# make_image NAME: a two-layer image in the store (busybox + a commit-like
# import), saved as an OCI layout at $T/lay-NAME
busybox_layout() {
	local name=$1
	img import --busybox "$name" >/dev/null || return 1
	img save --format oci-dir -o "$T/lay-$name" "$name"
}

# proxy_start UPSTREAM: tests/registry/fault-proxy.py in front of UPSTREAM
# (mode "pass" in $PX_MODE); sets PX (host:port) and PX_LOG.
proxy_start() {
	local d
	d=$(mktemp -d "$T/proxy.XXXXXX")
	PX_MODE=$d/mode PX_LOG=$d/log
	echo pass > "$PX_MODE"
	python3 "$SRC/tests/registry/fault-proxy.py" "$1" "$PX_MODE" "$d/port" "$PX_LOG" "$d/stall.go" \
		2>"$d/err" &
	_PIDS+=($!)
	wait_for "the proxy" test -s "$d/port" || return 1
	PX=127.0.0.1:$(cat "$d/port")
}

# max_inflight LOGFILE ERE: the most requests matching ERE in flight at once
max_inflight() {
	grep -E "$2" "$1" | sed -n 's/.*inflight=\([0-9]*\).*/\1/p' | sort -n | tail -n1
}
