#!/bin/bash
# SPDX-License-Identifier: MIT
# img volume create/ls/inspect/rm/prune through the real binary (issue 14):
# docker's output shapes, filters, --format, errors and exit codes. Running
# containers on volumes is tests/priv/test-run-vol.sh.
. "$(dirname "$0")/imglib.sh"
flat() { tr '\n' '|' | sed 's/|$//'; }
rc_err() { local out; out=$("$@" 2>&1 >/dev/null); echo "$?:$out"; }

check "volume create NAME prints the name" "v1" "$(img volume create v1)"
check "volume create --name, labels" "v2" "$(img volume create --name v2 --label env=prod --label bare)"
check "creating an existing volume gives it back" "v1" "$(img volume create v1)"
anon=$(img volume create)
check_re "volume create without a name: 64 hex" '^[0-9a-f]{64}$' "$anon"
check "volume create with a bad name: docker's error" \
	"125:img: create a/b: \"a/b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" \
	"$(rc_err img volume create a/b)"
check "volume create -d other" \
	"125:img: create x1: plugin \"other\" not found (img has the local driver only)" \
	"$(rc_err img volume create -d other x1)"
check "volume create -o unknown key" "125:img: create x2: invalid option key: \"size\"" \
	"$(rc_err img volume create -o size=1 x2)"
check "--name and a different argument" \
	"125:img: conflicting options: either specify --name or provide positional arg, not both" \
	"$(rc_err img volume create --name a1 a2)"

out=$(img volume ls)
check "volume ls: docker's table, sorted by name" \
	"DRIVER    VOLUME NAME|local     $anon|local     v1|local     v2" "$(echo "$out" | flat)"
check "volume ls -q" "$anon|v1|v2" "$(img volume ls -q | flat)"
check "volume ls --filter name= (substring)" "v1|v2" "$(img volume ls -q --filter name=v | flat)"
check "volume ls --filter label=KEY" "v2" "$(img volume ls -q -f label=bare)"
check "volume ls --filter label=KEY=VALUE" "v2" "$(img volume ls -q -f label=env=prod)"
check "volume ls --filter dangling=true (no container uses them)" "$anon|v1|v2" "$(img volume ls -q -f dangling=true | flat)"
check "volume ls --filter driver=local" "3" "$(img volume ls -q -f driver=local | wc -l)"
check "volume ls --filter bad key" "125:img: invalid filter 'foo'" "$(rc_err img volume ls -f foo=1)"
check "volume ls --format" "v2 local env=prod,bare= local" \
	"$(img volume ls -f name=v2 --format '{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}')"
check "volume ls --format json" '{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"","Links":"0","Mountpoint":"'"$STORE"'/volumes/v1/_data","Name":"v1","Scope":"local","Size":"N/A","Status":"N/A"}' \
	"$(img volume ls -f name=v1 --format json)"
check "volume ls --format 'table ...'" "VOLUME NAME   MOUNTPOINT|v1            $STORE/volumes/v1/_data" \
	"$(img volume ls -f name=v1 --format 'table {{.Name}}\t{{.Mountpoint}}' | flat)"

out=$(img volume inspect v2)
check_re "volume inspect: docker's object" \
	'^\[.*"CreatedAt": "[0-9-]+T[0-9:]+Z",.*"Driver": "local",.*"Labels": \{.*"env": "prod".*\},.*"Mountpoint": ".*/volumes/v2/_data",.*"Name": "v2",.*"Options": null,.*"Scope": "local".*\]$' \
	"$(echo "$out" | tr -d '\n')"
check "volume inspect -f" "v2 local prod" "$(img volume inspect -f '{{.Name}} {{.Driver}} {{index .Labels "env"}}' v2)"
check "volume inspect of a missing volume: exit 1" "1:img: get nope: no such volume" "$(rc_err img volume inspect nope)"
[ -d "$STORE/volumes/v1/_data" ] && pass "volumes live in the store's root" || fail "volumes live in the store's root"

check "volume rm prints the names" "v1" "$(img volume rm v1)"
check "volume rm of a missing volume: exit 1" "1:img: get v1: no such volume" "$(rc_err img volume rm v1)"
check "volume rm -f of a missing volume: ok" "0:" "$(rc_err img volume rm -f v1)"
[ ! -e "$STORE/volumes/v1" ] && pass "volume rm leaves nothing" || fail "volume rm leaves nothing"

# prune: docker 23+ removes only anonymous volumes unless --all; the
# anonymous one made by volume create without a name is not (docker's)
echo data > "$STORE/volumes/v2/_data/f"
check "volume prune without --all keeps named volumes" "Total reclaimed space: 0B" "$(img volume prune -f | flat)"
out=$(img volume prune -f --filter label=env=prod -a)
check "volume prune -a --filter label" "Deleted Volumes:|v2||Total reclaimed space: 4.1kB" "$(echo "$out" | flat)"
check "volume prune -a" "Deleted Volumes:|$anon||Total reclaimed space: 0B" "$(img volume prune -a -f | flat)"
check "nothing left" "" "$(img volume ls -q)"
check "volume with no subcommand prints its help" "Usage:  img volume COMMAND" "$(img volume | head -1)"
check "volume bogus" "125:img: 'volume bogus' is not an img command.|See 'img volume --help'." "$(rc_err img volume bogus | flat)"
finish
