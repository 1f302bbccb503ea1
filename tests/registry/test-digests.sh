#!/bin/bash
# SPDX-License-Identifier: MIT
# img images --digests of images with a repo digest but no tag, as docker
# shows them (REPOSITORY the repo, TAG <none>, DIGEST the repo digest): an
# image pulled by digest only, and one whose tag moved to another image.
. "$(dirname "$0")/reglib.sh"

registry_start plain
# mkimage NAME SEED REF: a one-layer synthetic image pushed to REF; prints
# the manifest digest the registry serves
mkimage() {
	python3 "$SRC/tests/registry/mklayout.py" "$T/$1" 1 0.01 "$2" &&
		push_layout "$T/$1" "$3" &&
		echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$3" | sha256sum | cut -d' ' -f1)"
}
row() { img images --digests --format '{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}' "$@" | sort; }

# pulled by digest only: no name, the repo digest
da=$(mkimage a 1 "$REG/d:1") || { fail "push d:1"; finish; }
check "pull by digest" 0 "$(img pull -q "$REG/d@$da" >/dev/null; echo $?)"
ida=$(img inspect -f '{{.Id}}' "$REG/d@$da" | cut -c8-19)
check "by digest: inspect RepoTags RepoDigests" "[] [$REG/d@$da]" \
	"$(img inspect -f '{{.RepoTags}} {{.RepoDigests}}' "$REG/d@$da")"
check "by digest: images --digests shows REPO <none> DIGEST" "$REG/d <none> $da $ida" "$(row)"
check_re "by digest: the table's row" "^$REG/d +<none> +$da +$ida " "$(img images --digests | tail -n +2)"
check_re "by digest: images without --digests: REPO <none>" "^$REG/d +<none> +$ida " "$(img images | tail -n +2)"
check "by digest: images REPO finds it" "$REG/d <none> $da $ida" "$(row "$REG/d")"
check "by digest: images OTHER does not" "" "$(row "$REG/other")"
# a tag of the same image in the same repository: the tagged row carries the digest
img pull -q "$REG/d:1" >/dev/null || fail "pull d:1"
check "tagged: one row with the digest, no <none> row" "$REG/d 1 $da $ida" "$(row)"
img rmi "$REG/d:1" >/dev/null || fail "rmi d:1"
check "rmi of the only tag: the image goes (digest reference too)" "" "$(row)"

# a tag that moves to another image: the old one keeps its repo digest
db=$(mkimage b 2 "$REG/m:1") || { fail "push m:1 (b)"; finish; }
img pull -q "$REG/m:1" >/dev/null || fail "pull m:1 (b)"
idb=$(img images -q "$REG/m:1")
dc=$(mkimage c 3 "$REG/m:1") || { fail "push m:1 (c)"; finish; }
[ "$db" != "$dc" ] || fail "the two images differ"
img pull -q "$REG/m:1" >/dev/null || fail "pull m:1 (c)"
idc=$(img images -q "$REG/m:1")
check "moved tag: the new image tagged, the old one REPO <none> DIGEST" \
	"$(printf '%s\n' "$REG/m 1 $dc $idc" "$REG/m <none> $db $idb" | sort)" "$(row)"
check "moved tag: the old image's RepoTags RepoDigests" "[] [$REG/m@$db]" \
	"$(img inspect -f '{{.RepoTags}} {{.RepoDigests}}' "$idb")"
check "moved tag: the old image resolvable by REPO@DIGEST" "$idb" \
	"$(img inspect -f '{{.Id}}' "$REG/m@$db" | cut -c8-19)"
check "moved tag: dangling=true lists the old one" "$idb" "$(img images -q -f dangling=true)"
check "fsck clean" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
# the tag back to the old image: one row each again, no duplicate
img pull -q "$REG/m@$db" >/dev/null || fail "pull m@db"
img tag "$idb" "$REG/m:1" || fail "tag back"
check "tag moved back: the new one keeps its digest, the old one is tagged" \
	"$(printf '%s\n' "$REG/m 1 $db $idb" "$REG/m <none> $dc $idc" | sort)" "$(row)"
# prune removes the untagged one (docker: it is dangling)
img image prune -f >/dev/null || fail "image prune"
check "prune: the untagged image went" "$REG/m 1 $db $idb" "$(row)"
check "fsck clean after prune" 0 "$(img fsck >/dev/null 2>&1; echo $?)"
finish
