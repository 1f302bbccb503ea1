#!/bin/bash
# SPDX-License-Identifier: MIT
# The daemon's own cost per metadata request: a fixed loop of each operation
# on an ufsmount union (rw upper over an ro lower), with the daemon's system
# calls and context switches counted by `perf stat -p` (raw_syscalls:sys_enter,
# context-switches) and its FUSE requests by the --status counters; then the
# same loop again under `strace -f -c -p` for the calls by name. Counts, not
# timings: they hold on a busy machine (context switches the least: they move
# with the load). Root.
#   bench/meta-syscalls.sh [N [TRANSPORT...]]    (default 10000, dev uring)
# The fuse module's enable_uring is turned on for a uring run and restored.
# UFSMOUNT: the binary (default build/tools/ufsmount). STRACE=0: perf only.
set -u
command -v perf >/dev/null || { echo "meta-syscalls: perf missing" >&2; exit 1; }
. "$(dirname "$0")/benchlib.sh"
meta_setup meta-syscalls 10000 "$@"
tracer=
meta_cleanup_first() { [ -n "$tracer" ] && kill -INT "$tracer" 2>/dev/null && wait "$tracer" 2>/dev/null; }

# NAME, then the python statement run N times with i set and tag t (each
# pass has its own tag, so "new names" are new in every pass); the files
# and dirs they use are made before the mount (prep below)
read -r -d '' LOOPS <<'EOF'
chmod	os.chmod("c0", 0o600 if i % 2 else 0o644)
chmod (lower file, copied up once)	os.chmod("lc", 0o600 if i % 2 else 0o644)
rename there+back	os.rename("r0", "r1"); os.rename("r1", "r0")
link+unlink	os.link("l0", "l1"); os.unlink("l1")
setxattr+getxattr	os.setxattr("x0", "user.k", b"v"); os.getxattr("x0", "user.k")
lookup (upper dir, new names)	os.stat(f"up{t}/f{i}")
lookup (merged dir, lower names)	os.stat(f"mg{t}/f{i}")
lookup (missing, new names)	os.path.exists(f"nx{t}{i}")
mkdir (new names)	os.mkdir(f"d{t}{i}")
rmdir	os.rmdir(f"d{t}{i}")
create+close (new names)	os.close(os.open(f"f{t}{i}", os.O_CREAT | os.O_WRONLY, 0o644))
unlink	os.unlink(f"f{t}{i}")
EOF

prep() { # the trees the loops expect, for tags a (perf) and b (strace)
	mkdir -p "$D"/{l,u,m}
	: >"$D/u/c0"; : >"$D/u/r0"; : >"$D/u/l0"; : >"$D/u/x0"; : >"$D/l/lc"
	python3 -I - "$D" "$n" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for t in "ab":
    os.makedirs(f"{d}/u/up{t}"); os.makedirs(f"{d}/u/mg{t}"); os.makedirs(f"{d}/l/mg{t}")
    for i in range(n):
        open(f"{d}/u/up{t}/f{i}", "w").close()
        open(f"{d}/l/mg{t}/f{i}", "w").close()
PY
}

ops() { # MNT: total requests served
	"$UFSMOUNT" --status --json "$1" | python3 -c '
import json, sys
print(sum(v["count"] for v in json.load(sys.stdin)["ops"].values()))'
}

# run_loop TAG BODY CMD...: the loop in a python process started first
# (its own startup is not measured), the tracer CMD started in the
# background on the daemon once python is ready and stopped after it
run_loop() {
	local tag=$1 body=$2; shift 2
	local fifo=$D/go; rm -f "$fifo"; mkfifo "$fifo"
	(cd "$D/m" && exec python3 -I -c "import os, sys
sys.stdout.write('ready\n'); sys.stdout.flush()
open('$fifo').read()
t = '$tag'
for i in range($n):
    $body") >"$D/py.out" &
	local py=$!
	until grep -q ready "$D/py.out" 2>/dev/null; do sleep 0.05; done
	"$@" 2>"$D/tracer.err" &
	tracer=$!
	attached
	echo go >"$fifo"
	wait "$py" || { echo "meta-syscalls: loop failed: $body" >&2; exit 1; }
	tracer_stop
}

for tr in $transports; do
	opt=noio_uring
	if [ "$tr" = uring ]; then
		[ -w "$P" ] || { echo "meta-syscalls: no $P, uring skipped" >&2; continue; }
		echo Y >"$P"; opt=io_uring
	fi
	rm -rf --one-file-system "${D:?}"/{l,u,m}
	prep
	"$UFSMOUNT" -o "dirs=$D/u=rw:$D/l=ro,$opt" "$D/m" || exit 1
	stat "$D/m/." >/dev/null
	pid=$("$UFSMOUNT" --status "$D/m" | awk '$1 == "pid" { print $2 }')
	"$UFSMOUNT" --status "$D/m" | grep '^transport'
	echo "| operation (x$n) | requests/op | syscalls/op | syscalls/request | context switches/op | by name (strace), per op |"
	echo "|---|---|---|---|---|---|"
	while IFS=$'\t' read -r name body; do
		# pass 1: perf, started disabled and enabled once attached
		rm -f "$D"/ctl "$D"/ack; mkfifo "$D/ctl" "$D/ack"
		attached() { exec {cfd}>"$D/ctl"; exec {afd}<"$D/ack"; echo enable >&$cfd; read -r -u $afd _; }
		tracer_stop() {
			echo disable >&$cfd; read -r -u $afd _
			kill -INT "$tracer"; wait "$tracer"; tracer=
			exec {cfd}>&- {afd}<&-
		}
		before=$(ops "$D/m")
		run_loop a "$body" perf stat -x, -o "$D/perf.out" -D -1 --control "fifo:$D/ctl,$D/ack" \
			-e raw_syscalls:sys_enter,context-switches -p "$pid"
		after=$(ops "$D/m")
		sc=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$D/perf.out")
		cs=$(awk -F, '$3 == "context-switches" { print $1 }' "$D/perf.out")
		# the --status reads are outside the window; the loop's own
		# requests are after - before
		req=$((after - before))
		byname=-
		if [ "${STRACE:-1}" != 0 ]; then
			# pass 2: strace, once every thread is traced
			attached() {
				local t
				for t in /proc/"$pid"/task/*; do
					until awk '$1 == "TracerPid:" && $2 != 0 { f = 1 } END { exit !f }' "$t/status" 2>/dev/null
					do [ -d "$t" ] || break; sleep 0.05; done
				done
			}
			tracer_stop() { kill -INT "$tracer"; wait "$tracer"; tracer=; }
			# the undo of the perf pass's side effects (mkdir/create of tag a
			# are undone by the rmdir/unlink loops of tag a; the same for b)
			run_loop b "$body" strace -qq -f -c -U name,calls -o "$D/strace.out" -p "$pid"
			byname=$(awk -v n="$n" 'NR > 2 && $1 !~ /^-/ && $1 != "total" && $2 + 0 > 0 {
				printf "%s%s %.2f", sep, $1, $2 / n; sep = ", " }' "$D/strace.out")
		fi
		awk -v name="$name" -v n="$n" -v req="$req" -v sc="$sc" -v cs="$cs" -v by="$byname" 'BEGIN {
			printf "| %s | %.2f | %.2f | %.2f | %.2f | %s |\n", name, req / n, sc / n,
				req ? sc / req : 0, cs / n, by }'
	done <<<"$LOOPS"
	umount "$D/m"
	[ -n "$old" ] && [ -w "$P" ] && echo "$old" >"$P"
done
