#!/bin/bash
# SPDX-License-Identifier: MIT
# --format through the real binary (issue 11): 'table TEMPLATE' prints a
# header and no "table" word, ps's Labels/Mounts/Networks are filled, the
# ps table stays aligned by display columns where a cell with multi-byte
# or wide characters is cut, docker's error for an unknown field, and the
# template subset in ps, images, history and inspect -f.
. "$(dirname "$0")/imglib.sh"
need python3
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }

img import --busybox busybox >/dev/null || { echo "import failed"; exit 1; }
mkdir -p "$T/a-rather-long-host-directory"
c1=$(img create --name web -l app=shop -l tier=front -v "$T/a-rather-long-host-directory:/data" \
	busybox sh -c 'echo héllo wörld, a long command') || { echo "create failed"; exit 1; }
c2=$(img create --name db --network none busybox sh -c 'echo 日本語日本語日本語日本語')
c3=$(img create --name plain busybox true)

# ------------------------------------------------------------ table
out=$(img ps -a --format 'table {{.ID}}\t{{.Names}}')
check "ps table: header, no 'table' word" "CONTAINER ID   NAMES|${c3:0:12}   plain|${c2:0:12}   db|${c1:0:12}   web" \
	"$(printf '%s' "$out" | tr '\n' '|')"
check "images table: docker's header" "REPOSITORY   TAG|busybox      latest" \
	"$(img images --format 'table {{.Repository}}\t{{.Tag}}' | paste -sd'|')"
# (the headers' words: their spacing follows the CREATED cells, which age)
check "format 'table' alone: the default table" "$(img ps -a | head -1 | tr -s ' ') 4" \
	"$(img ps -a --format table | head -1 | tr -s ' ') $(img ps -a --format table | wc -l)"
check "without table: no header, \\t a tab" "web"$'\t'"app=shop,tier=front" \
	"$(img ps -a --filter name=web --format '{{.Names}}\t{{.Labels}}')"

# ------------------------------------------------------------ the columns
check "ps .Labels" "app=shop,tier=front" "$(img ps -a --filter name=web --format '{{.Labels}}')"
check "ps .Mounts: the host path cut to 15 columns" "$(printf '%.14s' "$T/a-rather-long-host-directory")…" \
	"$(img ps -a --filter name=web --format '{{.Mounts}}')"
check "ps --no-trunc .Mounts: whole" "$T/a-rather-long-host-directory" \
	"$(img ps -a --no-trunc --filter name=web --format '{{.Mounts}}')"
check "ps .Networks" "bridge none" "$(img ps -a --filter name=web --format '{{.Networks}}') $(img ps -a --filter name=db --format '{{.Networks}}')"
check "ps .Command: 20 columns, Go-quoted" '"sh -c echo héllo wö…"' \
	"$(img ps -a --filter name=web --format '{{.Command}}')"
check "ps .State .Status" "created Created" "$(img ps -a --filter name=web --format '{{.State}} {{.Status}}')"

# the default table, aligned by columns: every row's NAMES starts in the
# header's NAMES column (é, ö and the CJK cells are cut; CJK is 2 wide)
cols=$(img ps -a | python3 -c '
import sys, unicodedata
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = sys.stdin.read().splitlines()
h = lines[0].index("NAMES")
print(" ".join(str(width(l[:len(l) - len(l.split()[-1])])) if l else "-" for l in lines), h)')
want=$(python3 -c 'import sys; h=int(sys.argv[1].split()[-1]); print(" ".join([str(h)] * (len(sys.argv[1].split()) - 1)), h)' "$cols")
check "ps table: NAMES aligned by display width" "$want" "$cols"
check_re "ps table: the CJK command cut with …" '"sh -c echo 日本語日…"' "$(img ps -a --filter name=db)"

# ------------------------------------------------------------ json
img ps -a --format json >"$T/ps.json"
check "ps --format json: one object a line, docker's keys" \
	"3 Command,CreatedAt,ID,Image,Labels,LocalVolumes,Mounts,Names,Networks,Ports,RunningFor,Size,State,Status" \
	"$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(len(rows), ",".join(sorted(rows[0])))' "$T/ps.json")"
check "ps {{json .Labels}}" '"app=shop,tier=front"' "$(img ps -a --filter name=web --format '{{json .Labels}}')"
check_re "images --format json" '^\{"Containers":"N/A",.*"Repository":"busybox".*"Tag":"latest"' "$(img images --format json)"

# ------------------------------------------------------------ errors
out=$(img ps -a --format '{{.Nope}}' 2>&1); rc=$?
check "ps: docker's unknown field error" \
	"125 img: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext" \
	"$rc $out"
out=$(img images --format '{{.ID}} {{nofunc .}}' 2>&1); rc=$?
check "images: parse error" "125 img: template parsing error: template: :1: function \"nofunc\" not defined" "$rc $out"
out=$(img ps -a --format '{{if .Names}}x' 2>&1); rc=$?
check "ps: unclosed if" "125 img: template parsing error: template: :1: unexpected EOF" "$rc $out"

# ------------------------------------------------------------ the subset
check "ps: if/else, upper, printf" "WEB:created|DB:created|PLAIN:created|" \
	"$(img ps -a --format '{{if eq .Names "web" "db" "plain"}}{{upper .Names}}:{{printf "%s" .State}}{{else}}?{{end}}' | tac | tr '\n' '|')"
check "inspect -f: fields" "/web created" "$(img inspect -f '{{.Name}} {{.State.Status}}' web)"
check "inspect -f: json, index" '{"app":"shop","tier":"front"} front' \
	"$(img inspect -f '{{json .Config.Labels}} {{index .Config.Labels "tier"}}' web)"
check "inspect -f: range over Env, join" "PATH" \
	"$(img inspect -f '{{range .Config.Env}}{{index (split . "=") 0}}{{end}}' web | cut -c1-4)"
check "inspect -f: range \$k, \$v" "app=shop;tier=front;" \
	"$(img inspect -f '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}' web)"
check "inspect -f: a missing key is <no value>" "<no value>" "$(img inspect -f '{{.Nope}}' web)"
check "inspect -f: one line per object" "2" "$(img inspect -f '{{.Id}}' web db | wc -l)"
check "inspect --format of an image" "busybox:latest" "$(img inspect --format '{{index .RepoTags 0}}' busybox)"
check "history --format" "$(img images -q)|img: busybox rootfs from /bin/busybox" \
	"$(img history --format '{{.ID}}|{{.CreatedBy}}' busybox)"
check_re "history: CREATED BY column" "^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$" "$(img history busybox | head -1)"
check "images --no-trunc: the full id" "$(img inspect -f '{{.Id}}' busybox)" "$(img images --no-trunc --format '{{.ID}}')"
finish
