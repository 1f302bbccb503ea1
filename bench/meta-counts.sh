#!/bin/bash
# SPDX-License-Identifier: MIT
# FUSE requests per metadata operation: a fixed loop of each operation on an
# empty ufsmount union (rw upper over an ro lower), the daemon's --status
# counters read before and after, printed per operation and opcode. Counts,
# not timings: meaningful on a busy machine. Root.
#   [STRESS="dir:200 rename:200 ..."] bench/meta-counts.sh [N [TRANSPORT...]]
#   (N loops, default 1000;
#   transports dev and/or uring, default both where the kernel offers it;
#   STRESS: stress-ng stressors with a bogo-op count each, on /dev/fuse)
# The fuse module's enable_uring is turned on for a uring run and restored.
# UFSMOUNT: the binary (default build/tools/ufsmount).
set -u
. "$(dirname "$0")/benchlib.sh"
meta_setup meta-counts 1000 "$@"

# the loops: each line NAME, then python statements run N times with i set
# (setup runs once, in the mount's dir)
read -r -d '' LOOPS <<'EOF'
mkdir+rmdir	-	os.mkdir("d"); os.rmdir("d")
mkdir+rmdir(new names)	-	os.mkdir(f"n{i}"); os.rmdir(f"n{i}")
rename there+back	open("r0", "w").close()	os.rename("r0", "r1"); os.rename("r1", "r0")
link+unlink	open("l0", "w").close()	os.link("l0", "l1"); os.unlink("l1")
setxattr+getxattr	open("x0", "w").close()	os.setxattr("x0", "user.k", b"v"); os.getxattr("x0", "user.k")
chmod	open("c0", "w").close()	os.chmod("c0", 0o600 if i % 2 else 0o644)
stat after chmod	open("s0", "w").close()	os.chmod("s0", 0o600 if i % 2 else 0o644); os.stat("s0")
create+close(new names)	-	os.close(os.open(f"f{i}", os.O_CREAT | os.O_WRONLY, 0o644))
create+write+close	-	fd = os.open(f"w{i}", os.O_CREAT | os.O_WRONLY, 0o644); os.write(fd, b"x"); os.close(fd)
unlink	-	os.unlink(f"f{i}")
stat(missing)	-	os.path.exists("nosuch")
EOF

ops() { # MNT: "op count" lines of the daemon's counters
	"$UFSMOUNT" --status --json "$1" | python3 -c '
import json, sys
for k, v in json.load(sys.stdin)["ops"].items():
    print(k, v["count"])'
}

for t in $transports; do
	opt=noio_uring
	if [ "$t" = uring ]; then
		[ -w "$P" ] || { echo "meta-counts: no $P, uring skipped" >&2; continue; }
		echo Y >"$P"; opt=io_uring
	fi
	rm -rf --one-file-system "$D"/{l,u,m}; mkdir -p "$D"/{l,u,m}
	"$UFSMOUNT" -o "dirs=$D/u=rw:$D/l=ro,$opt" "$D/m" || exit 1
	"$UFSMOUNT" --status "$D/m" | grep '^transport'
	echo "| operation (x$n) | requests per operation |"
	echo "|---|---|"
	while IFS=$'\t' read -r name setup body; do
		[ "$setup" = - ] && setup=pass
		(cd "$D/m" && python3 -I -c "import os
$setup") || exit 1
		before=$(ops "$D/m")
		(cd "$D/m" && python3 -I -c "import os
for i in range($n):
    $body") || exit 1
		after=$(ops "$D/m")
		printf '| %s | %s |\n' "$name" "$(join <(sort <<<"$before") <(sort <<<"$after") |
			awk -v n="$n" '$3 > $2 { d = ($3 - $2) / n; printf "%s%s %.2f", sep, toupper($1), d; sep = ", " }')"
	done <<<"$LOOPS"
	umount "$D/m"
	# as the tests do: on while a uring mount is served, then restored
	[ -n "$old" ] && [ -w "$P" ] && echo "$old" >"$P"
done

# stress-ng's fs stressors (issue 13's), a fixed number of bogo ops each
# with one worker: requests per bogo op
if [ -n "${STRESS:-}" ] && command -v stress-ng >/dev/null; then
	rm -rf --one-file-system "$D"/{l,u,m}; mkdir -p "$D"/{l,u,m}
	"$UFSMOUNT" -o "dirs=$D/u=rw:$D/l=ro,noio_uring" "$D/m" || exit 1
	echo "| stressor (bogo ops) | requests per bogo op |"
	echo "|---|---|"
	for s in $STRESS; do
		k=${s#*:}; s=${s%%:*}
		before=$(ops "$D/m")
		(cd "$D/m" && stress-ng --temp-path "$D/m" --"$s" 1 --"$s"-ops "$k" >/dev/null 2>&1)
		after=$(ops "$D/m")
		printf '| %s (%s) | %s |\n' "$s" "$k" "$(join <(sort <<<"$before") <(sort <<<"$after") |
			awk -v n="$k" '$3 > $2 { d = ($3 - $2) / n; printf "%s%s %.2f", sep, toupper($1), d; sep = ", " }')"
	done
	umount "$D/m"
fi
