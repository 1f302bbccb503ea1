#!/bin/bash
# SPDX-License-Identifier: MIT
# img load is a transaction (issue 11 §1): a multi-image load whose second
# image fails names nothing and keeps every name it would have moved; a
# failing load racing a good load of the same layer never breaks the good one.
# Archives come from tests/img/mkimage.py. IMG_RACE_RUNS: race rounds (20).
. "$(dirname "$0")/imglib.sh"
need python3
[ -x /bin/busybox ] || { echo "skip: busybox-static not installed"; exit 77; }
MK=$(dirname "$0")/mkimage.py

img import --busybox busybox >/dev/null || { fail "import --busybox"; finish; }
img tag busybox keep:1 && img gc >/dev/null || { fail "tag keep:1"; finish; }
bbid=$(img inspect --format '{{.Id}}' busybox)
python3 "$MK" txn-oci "$T/txn-oci" && python3 "$MK" txn-docker "$T/txn-docker.tar" ||
	{ fail "mkimage"; finish; }

for f in txn-oci txn-docker.tar; do
	before=$(store_state)
	check_fails "load $f: the second image fails" "diff_id mismatch" img load -i "$T/$f"
	check "load $f: store unchanged (names, blobs, layers, temps)" "$before" "$(store_state)"
	check "load $f: keep:1 still names the image it named" "$bbid" "$(img inspect --format '{{.Id}}' keep:1 2>&1)"
	check "load $f: no name from the failed load" "" "$(img images --format '{{.Repository}}' | grep -v -e '^busybox$' -e '^keep$')"
	check_true "load $f: fsck passes" img fsck
	check_true "load $f: images lists" img images
	check_true "load $f: gc runs" img gc
done
check_true "rmi works after the failed loads" img rmi keep:1
check_true "busybox still runs from its layer" test -x "$(img inspect --format '{{.GraphDriver.Data.LowerDir}}' busybox)/bin/busybox"

# ---------------------------------------------------------------- race
# bad.tar publishes the shared layer, then fails; good.tar needs that layer.
python3 "$MK" race "$T/race" || { fail "mkimage race"; finish; }
runs=${IMG_RACE_RUNS:-20}
broken=0 goodfail=0
RS=$T/rstore
for ((i = 0; i < runs; i++)); do
	rm -rf "$RS" "$RS.run"
	"$IMG_BIN" --root "$RS" load -i "$T/race/bad.tar" >/dev/null 2>&1 &
	pb=$!
	"$IMG_BIN" --root "$RS" load -i "$T/race/good.tar" >/dev/null 2>"$T/good.err" || goodfail=$((goodfail + 1))
	wait $pb
	if ! "$IMG_BIN" --root "$RS" fsck >"$T/fsck.out" 2>&1 ||
		! "$IMG_BIN" --root "$RS" images --format '{{.Repository}}:{{.Tag}}' | grep -qx race:good; then
		broken=$((broken + 1))
		note "run $i: $(head -c 300 "$T/fsck.out" | tr '\n' '|') $(head -c 200 "$T/good.err")"
	fi
done
check "race: the good load always succeeds ($runs runs)" 0 "$goodfail"
check "race: the good image is never broken ($runs runs)" 0 "$broken"
"$IMG_BIN" --root "$RS" gc >/dev/null
check "race: nothing the good image does not use is left after gc" "1 3" \
	"$(ls "$RS/layers" | wc -l) $(ls "$RS/blobs/sha256" | wc -l)"
finish
