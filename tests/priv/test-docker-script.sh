#!/bin/bash
# SPDX-License-Identifier: MIT
# docker-script.sh, written as a docker user would, run unchanged with
# `docker` a function that calls img (issue 14): its output compared with
# what docker prints for it (docs/network.md).
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
NET_CLEANUP=_ds_cleanup
. "$(dirname "$0")/netlib.sh"
P=tds$$
_ds_cleanup() {
	local i
	for i in $(img ps -a -q --no-trunc 2>/dev/null); do timeout 20 "$IMG_BIN" --root "$STORE" rm -f "$i" >/dev/null 2>&1; done
	timeout 20 "$IMG_BIN" --root "$STORE" network rm -f $P-net >/dev/null 2>&1
	rmdir /run/img/net/nets 2>/dev/null
}
# the user's alias: a `docker` first on PATH that is img (run's containers
# under the test's cgroup parent, the fixture's cleanup, as a docker daemon
# puts them under its own)
mkdir -p "$T/bin"
cat > "$T/bin/docker" <<EOS
#!/bin/sh
if [ "\$1" = run ]; then shift; exec timeout 60 "$IMG_BIN" --root "$STORE" run --cgroup-parent "$CGP" "\$@"; fi
exec timeout 60 "$IMG_BIN" --root "$STORE" "\$@"
EOS
chmod +x "$T/bin/docker"
out=$(PATH="$T/bin:$PATH" P=$P sh "$(dirname "$0")/docker-script.sh" 2>&1); rc=$?
check "the script: exit 0" "0" "$rc"
id_lines=$(printf '%s\n' "$out" | grep -cE '^[0-9a-f]{64}$')
check "run -d and network create print ids (3)" "3" "$id_lines"
check "the script's report" "$P-data
web got: hello-from-db
db resolves web's alias: yes
db running: true
db network: $P-net
db mounts: $P-data:/data
on the network: $P-db $P-web 
running db: 1
the volume kept: hello-from-db
$P-net
$P-data
events:
volume create $P-data
network create $P-net
network destroy $P-net
volume destroy $P-data" "$(printf '%s\n' "$out" | grep -vE '^[0-9a-f]{64}$')"
[ $_FAIL = 0 ] || printf "%s\n" "$out" >&2
finish
