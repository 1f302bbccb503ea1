#!/bin/bash
# SPDX-License-Identifier: MIT
# img run --cgroupns (docker's flag) on this host's cgroup v1: private makes
# pid 1 unshare a cgroup namespace once it is in its groups and mount the v1
# hierarchies itself (a tmpfs at /sys/fs/cgroup, one cgroup mount each), so
# /proc/self/cgroup is "/" inside; the limits still apply and cannot be
# lifted from inside (the audit's cg-escape); host (v1's default) is as
# before; inspect's CgroupnsMode. On the hybrid host's v2 tree: --cgroupns
# host binds the container's own group, not the host's tree.
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
[ -d /sys/fs/cgroup/pids ] && [ -d /sys/fs/cgroup/memory ] ||
	{ echo "skip: no cgroup v1 pids and memory hierarchies"; exit 77; }
flat() { tr '\n' ' ' | sed 's/ $//'; }
insp() { img container inspect "$1" | python3 -c "import json,sys; j=json.load(sys.stdin)[0]; print($2)"; }
mkdir -p "$T/bin" && cp "${CG_ESCAPE:?}" "$T/bin/" || { fail "helpers"; finish; }
# the hierarchies of ours this host has, as the container should list them
ours=$(for c in memory cpu cpuacct pids devices freezer blkio cpuset; do [ -d "/sys/fs/cgroup/$c" ] && echo "$c"; done | sort | flat)
# "ROOT ro|rw FSTYPE" of every mount below /sys/fs/cgroup/ (mountinfo)
mnts='awk "\$5 ~ \"^/sys/fs/cgroup/\" { for (i = 7; i <= NF; i++) if (\$i == \"-\") print \$4, substr(\$6, 1, 2), \$(i + 1) }" /proc/self/mountinfo | sort -u'

# ------------------------------------------------------------ host: v1's default, unchanged
run -d --name dflt --network none busybox sleep 60 >/dev/null
id=$(insp dflt "j['Id']")
check "v1 default: CgroupnsMode host, the host's namespace, its groups' host paths inside" \
	"host same /$CGP/$id" \
	"$(insp dflt "j['HostConfig']['CgroupnsMode']") $([ "$(readlink "/proc/$(insp dflt "j['State']['Pid']")/ns/cgroup")" = "$(readlink /proc/self/ns/cgroup)" ] && echo same) $(img exec dflt grep :pids: /proc/self/cgroup | cut -d: -f3)"
check "v1 default: its own groups bound at /sys/fs/cgroup/CTRL, read-only" \
	"/$CGP/$id ro cgroup" "$(img exec dflt sh -c "$mnts")"
img rm -f dflt >/dev/null
check "--cgroupns host: the same as the default" "/$CGP" \
	"$(run --rm --network none --cgroupns host busybox grep :memory: /proc/self/cgroup | cut -d: -f3 | sed "s,/[0-9a-f]*$,,")"

# ------------------------------------------------------------ private
run -d --name priv --network none --cgroupns private --pids-limit 77 -m 64m busybox sleep 60 >/dev/null
id=$(insp priv "j['Id']")
pid=$(insp priv "j['State']['Pid']")
check "private: CgroupnsMode private, a cgroup namespace of its own" "private other" \
	"$(insp priv "j['HostConfig']['CgroupnsMode']") $([ "$(readlink "/proc/$pid/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ] && echo other)"
check "private: every hierarchy is / in pid 1's and exec's /proc/self/cgroup" "/" \
	"$(img exec priv sh -c 'cut -d: -f3 /proc/1/cgroup /proc/self/cgroup' | sort -u)"
check "private: from the host, pid 1 is in its own groups (pids, memory)" "/$CGP/$id /$CGP/$id yes" \
	"$(grep :pids: "/proc/$pid/cgroup" | cut -d: -f3) $(grep :memory: "/proc/$pid/cgroup" | cut -d: -f3) $(grep -qx "$pid" "/sys/fs/cgroup/pids/$CGP/$id/cgroup.procs" && echo yes)"
check "private: a cgroup mount per hierarchy of ours, rooted at its group (/), read-only" \
	"$ours | / ro cgroup" \
	"$(img exec priv ls /sys/fs/cgroup | sort | flat) | $(img exec priv sh -c "$mnts")"
check "private: its limits seen inside (pids.max, memory.limit_in_bytes) and on the host" \
	"77 67108864 | 77 67108864" \
	"$(img exec priv cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes | flat) | $(cat "/sys/fs/cgroup/pids/$CGP/$id/pids.max" "/sys/fs/cgroup/memory/$CGP/$id/memory.limit_in_bytes" | flat)"
check "private: read-only: a limit, a group, the tmpfs refused (EROFS); no remount without CAP_SYS_ADMIN" \
	"ro ro ro refused 77" \
	"$(img exec priv sh -c 'echo max > /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo ro; mkdir /sys/fs/cgroup/pids/x 2>/dev/null || echo ro; mkdir /sys/fs/cgroup/x 2>/dev/null || echo ro; mount -o remount,rw /sys/fs/cgroup/pids 2>/dev/null || echo refused' | flat) $(cat "/sys/fs/cgroup/pids/$CGP/$id/pids.max")"
if [ -d /sys/fs/cgroup/cpuset ]; then
	cs=/sys/fs/cgroup/cpuset/$CGP/$id
	check "private: its own cpuset group (cpus, mems copied from the parent), pid 1 in it" \
		"$(cat /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/cpuset/cpuset.mems | flat) yes /$CGP/$id" \
		"$(cat "$cs/cpuset.cpus" "$cs/cpuset.mems" 2>/dev/null | flat) $(grep -qx "$pid" "$cs/cgroup.procs" 2>/dev/null && echo yes) $(grep :cpuset: "/proc/$pid/cgroup" | cut -d: -f3)"
	check "private: cpuset mounted inside at its group, read-only, its cpus" \
		"/ ro cgroup $(cat /sys/fs/cgroup/cpuset/cpuset.cpus) ro" \
		"$(img exec priv sh -c 'awk "\$5 == \"/sys/fs/cgroup/cpuset\" { print \$4, substr(\$6, 1, 2), \$(NF - 2) }" /proc/self/mountinfo | sort -u; cat /sys/fs/cgroup/cpuset/cpuset.cpus; echo 0 >/sys/fs/cgroup/cpuset/cpuset.cpus 2>/dev/null || echo ro' | flat)"
fi
img rm -f priv >/dev/null
[ -d /sys/fs/cgroup/cpuset ] &&
	check "private: rm removes its cpuset group" "gone" "$([ -d "$cs" ] || echo gone)"
if [ -d /sys/fs/cgroup/cpuset ]; then
	check "private, --cpuset-cpus 0: the cpus inside, and the process bound to them" "0 0" \
		"$(run --rm --network none --cgroupns private --cpuset-cpus 0 busybox sh -c 'cat /sys/fs/cgroup/cpuset/cpuset.cpus; grep Cpus_allowed_list /proc/self/status | cut -f2' | flat)"
	check "host, --cpuset-cpus 0: bound to them, no cpuset mount (as before)" "0 0" \
		"$(run --rm --network none --cgroupns host --cpuset-cpus 0 busybox sh -c 'grep Cpus_allowed_list /proc/self/status | cut -f2; grep -c " /sys/fs/cgroup/cpuset " /proc/self/mountinfo' | flat)"
	check "no cpuset group of ours left" "" "$(ls -d /sys/fs/cgroup/cpuset/"$CGP"/* 2>/dev/null)"
else
	skip "private: the cpuset group" "no cgroup v1 cpuset hierarchy"
fi
check "private: the mount's root is its own group: cgroup.procs lists its processes only" "1 2" \
	"$(run --rm --network none --cgroupns private busybox sh -c 'cat /sys/fs/cgroup/pids/cgroup.procs; true' | flat)"
# 5 pids: the shell and four sleeps; the fifth fork fails
check "private: the pids limit still applies (--pids-limit 5: four children, then fork fails)" "1 2 3 4" \
	"$(run --rm --network none --cgroupns private --pids-limit 5 busybox sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 60 & echo $i; done' 2>/dev/null | flat)"
check "private, --privileged: read-write, as docker's" "made" \
	"$(run --rm --network none --cgroupns private --privileged busybox sh -c 'mkdir /sys/fs/cgroup/pids/x && rmdir /sys/fs/cgroup/pids/x && echo made')"
check "private, --userns: the namespace's root is its group there too" "/ 2048" \
	"$(run --rm --network none --cgroupns private --userns busybox sh -c 'cut -d: -f3 /proc/self/cgroup | sort -u; cat /sys/fs/cgroup/pids/pids.max' | flat)"
check "img create --cgroupns private, then start" "/" \
	"$(img create --name cr --cgroup-parent "$CGP" --network none --cgroupns private busybox cut -d: -f3 /proc/self/cgroup >/dev/null; timeout 60 "$IMG_BIN" --root "$STORE" start -a cr | sort -u)"
img rm -f cr >/dev/null
n0=$(img ps -a -q | wc -l)
check_fails "--cgroupns bogus is refused" "invalid --cgroupns 'bogus' \(host or private\)" \
	run --rm --cgroupns bogus busybox true
check "nothing was created by the refused run" "$n0" "$(img ps -a -q | wc -l)"

# ------------------------------------------------------------ the audit in a private namespace
# cg-escape (tests/priv/cg-escape.c): unshare(USER|NS|CGROUP), map 0 to 0,
# mount the v1 pids and memory hierarchies, write pids.max=max and 1 GiB
# limits; the host's files tell whether it worked
escape() { # NAME OPTS...: cg-escape in a fresh private container; its steps, then the host's values
	local name=$1 id; shift
	run -d --name "$name" --network none --cgroupns private --pids-limit 50 -m 64m -v "$T/bin:/t:ro" "$@" busybox sleep 60 >/dev/null
	id=$(insp "$name" "j['Id']")
	echo "$(img exec "$name" /t/cg-escape v1 | flat) | $(cat "/sys/fs/cgroup/pids/$CGP/$id/pids.max" "/sys/fs/cgroup/memory/$CGP/$id/memory.limit_in_bytes" | flat)"
	img rm -f "$name" >/dev/null
}
check "audit, private: the default filter refuses the user namespace; limits unchanged" \
	"unshare EPERM | 50 67108864" "$(escape esc1)"
check "audit, private, --userns + seccomp=unconfined: mounted, but the files are not container root's" \
	"unshare ok setgroups ok uid_map ok gid_map ok private ok tmpfs ok mount-pids ok pids.max EACCES | 50 67108864" \
	"$(escape esc2 --userns --security-opt seccomp=unconfined)"
# the namespace hides the host's paths, it is no boundary on v1: without
# the filter host root's uid lifts them, as in the host's namespace
check "audit, private, seccomp=unconfined: lifted (the filter is what prevents it, not the namespace)" \
	"unshare ok setgroups ok uid_map ok gid_map ok private ok tmpfs ok mount-pids ok pids.max ok mount-memory ok memory.memsw ok memory.limit ok | max 1073741824" \
	"$(escape esc3 --security-opt seccomp=unconfined)"

# ------------------------------------------------------------ the hybrid host's v2 tree
if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	check "v2, --cgroupns host: its own group bound at /sys/fs/cgroup (its processes only), the host's path, read-only" \
		"1 2 /$CGP/ID ro" \
		"$(IMG_CGROUP_ROOT=/sys/fs/cgroup/unified run --rm --network none --cgroupns host busybox sh -c 'cat /sys/fs/cgroup/cgroup.procs; grep ^0:: /proc/self/cgroup | cut -d: -f3; mkdir /sys/fs/cgroup/x 2>/dev/null || echo ro' | sed 's,/[0-9a-f]\{64\}$,/ID,' | flat)"
else
	skip "v2, --cgroupns host" "no cgroup2 mount at /sys/fs/cgroup/unified"
fi
finish
