#!/bin/bash
# SPDX-License-Identifier: MIT
# img run's defence in depth through the real binary, as root (issue 10):
# the default seccomp filter (docker's profile: a sample of blocked and
# allowed calls, the capability-conditioned rules with --cap-add), a user's
# profile in docker's JSON format, seccomp=unconfined, no-new-privileges,
# --privileged, inspect's SecurityOpt/Privileged, and the audit's
# reproduction of a container lifting its own cgroup limits.
. "$(dirname "$0")/../img/imglib.sh"
. "$(dirname "$0")/privlib.sh"
flat() { tr '\n' ' ' | sed 's/ $//'; }
hc() { img container inspect "$1" | python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)[0]['HostConfig'].get('$2')))"; }
# the static helpers, given to containers as a read-only volume
mkdir -p "$T/bin" && cp "${SC_PROBE:?}" "${CG_ESCAPE:?}" "$T/bin/" || { fail "helpers"; finish; }
probe() { run --rm --network none -v "$T/bin:/t:ro" "$@"; }

# ------------------------------------------------------------ the default filter
check "default: Seccomp 2 (filter mode), one filter, NoNewPrivs 1 (pid 1 and exec)" \
	"NoNewPrivs: 1 Seccomp: 2 Seccomp_filters: 1" \
	"$(probe busybox sh -c 'grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs):" /proc/self/status | tr -s "\t" " " | sort' | flat)"
run -d --name ex busybox sleep 60 >/dev/null
check "exec inherits the filter" "Seccomp: 2" \
	"$(img exec ex grep ^Seccomp: /proc/self/status | tr -s '\t' ' ')"
img rm -f ex >/dev/null
# calls docker's profile blocks (EPERM; clone3 ENOSYS so libc falls back)
# where the kernel alone would let a container root make them
blocked="keyctl add_key clone-newuser unshare-newuser personality-norandom socket-vsock socket-alg kcmp perf_event_open"
check "default: docker's profile blocks keyctl, add_key, user namespaces, personality, AF_VSOCK/AF_ALG, kcmp, perf" \
	"keyctl EPERM add_key EPERM clone-newuser EPERM unshare-newuser EPERM personality-norandom EPERM socket-vsock EPERM socket-alg EPERM kcmp EPERM perf_event_open EPERM" \
	"$(probe busybox /t/sc-probe $blocked | flat)"
check "default: clone3 is ENOSYS, namespaces of clone/unshare and mount EPERM" \
	"clone3 ENOSYS clone-newns EPERM unshare-newns EPERM mount EPERM" \
	"$(probe busybox /t/sc-probe clone3 clone-newns unshare-newns mount | flat)"
allowed="getpid open fork mkdir getcwd socket-inet personality-query process_vm_readv"
check "default: ordinary calls work (fork, open, mkdir, AF_INET, the personality query, process_vm_readv)" \
	"getpid ok open ok fork ok mkdir ok getcwd ok socket-inet ok personality-query ok process_vm_readv ok" \
	"$(probe busybox /t/sc-probe $allowed | flat)"
# the control: the same calls with no filter (the kernel allows them)
check "seccomp=unconfined: Seccomp 0, and the kernel lets those calls through" \
	"Seccomp: 0 keyctl ok add_key ok clone-newuser ok unshare-newuser ok personality-norandom ok kcmp ok perf_event_open ok" \
	"$(probe --security-opt seccomp=unconfined busybox sh -c 'grep ^Seccomp: /proc/self/status | tr -s "\t" " "; /t/sc-probe keyctl add_key clone-newuser unshare-newuser personality-norandom kcmp perf_event_open' | flat)"
# capability-conditioned rules
check "--cap-add SYS_ADMIN: mount, unshare, clone with namespace flags, clone3 allowed" \
	"mount ok unshare-newns ok clone-newns ok clone-newuser ok clone3 ok keyctl EPERM" \
	"$(probe --cap-add SYS_ADMIN busybox /t/sc-probe mount unshare-newns clone-newns clone-newuser clone3 keyctl | flat)"
check "--cap-add SYS_PTRACE: kcmp (ptrace family) allowed, the rest still blocked" \
	"kcmp ok unshare-newuser EPERM" \
	"$(probe --cap-add SYS_PTRACE busybox /t/sc-probe kcmp unshare-newuser | flat)"
check "--cap-add PERFMON: perf_event_open allowed" "perf_event_open ok" \
	"$(probe --cap-add PERFMON busybox /t/sc-probe perf_event_open)"

# ------------------------------------------------------------ a user's profile
# docker's format: allow by default, mkdir fails with EACCES, personality
# with an argument filter, an unknown call name ignored, and a rule
# excluded for holders of SYS_ADMIN
cat > "$T/prof.json" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 },
    { "names": ["personality"], "action": "SCMP_ACT_ERRNO",
      "args": [{ "index": 0, "value": 262144, "op": "SCMP_CMP_EQ" }] },
    { "names": ["no_such_call_anywhere"], "action": "SCMP_ACT_ERRNO" },
    { "names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
      "excludes": { "caps": ["CAP_SYS_ADMIN"] } }
  ]
}
EOF
check "a user's profile: errnoRet, an argument filter, excludes.caps; the rest allowed" \
	"mkdir EACCES personality-norandom EPERM personality-query ok getcwd EPERM keyctl ok getpid ok" \
	"$(probe --security-opt seccomp="$T/prof.json" busybox /t/sc-probe mkdir personality-norandom personality-query getcwd keyctl getpid | flat)"
check "a user's profile: its excludes.caps rule left out with --cap-add SYS_ADMIN" "getcwd ok" \
	"$(probe --security-opt seccomp="$T/prof.json" --cap-add SYS_ADMIN busybox /t/sc-probe getcwd)"
run -d --name prof --security-opt seccomp="$T/prof.json" --security-opt no-new-privileges busybox sleep 60 >/dev/null
check "inspect: SecurityOpt holds the profile compacted (docker's CLI sends the content), Privileged false" \
	"True 2 false" \
	"$(hc prof SecurityOpt | python3 -c 'import json,sys; o=json.load(sys.stdin); print(json.loads(o[0][8:])["syscalls"][0]["errnoRet"] == 13, len(o))') $(hc prof Privileged)"
echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}' > "$T/prof.json"
check "the profile is the container's: the file changed, exec still gets the old one" "mkdir EACCES" \
	"$(img exec prof /bin/sh -c 'mkdir /tmp/x 2>/dev/null && echo "mkdir ok" || echo "mkdir EACCES"')"
img rm -f prof >/dev/null
check "inspect: SecurityOpt null by default (docker's)" "null" \
	"$(run -d --name plain busybox true >/dev/null; hc plain SecurityOpt)"
img rm -f plain >/dev/null
echo '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_BOGUS"}]}' > "$T/bad.json"
echo '{"defaultAction": ' > "$T/broken.json"
n0=$(img ps -a -q | wc -l)
check_fails "a profile with an unknown action: refused before anything exists" "unknown action SCMP_ACT_BOGUS" \
	run --rm --security-opt seccomp="$T/bad.json" busybox true
check_fails "a profile that is not JSON" "compacting json for seccomp profile .*broken.json. failed" \
	run --rm --security-opt seccomp="$T/broken.json" busybox true
check_fails "a missing profile" "opening seccomp profile .*missing.json. failed: No such file" \
	run --rm --security-opt seccomp="$T/missing.json" busybox true
check_fails "an unknown --security-opt" "invalid --security-opt 2: \"bogus=1\"" run --rm --security-opt bogus=1 busybox true
check_fails "no-new-privileges=maybe" "invalid --security-opt 2: \"no-new-privileges=maybe\"" \
	run --rm --security-opt no-new-privileges=maybe busybox true
check "nothing was created by the refused runs" "$n0" "$(img ps -a -q | wc -l)"

# ------------------------------------------------------------ no-new-privileges
check "no-new-privileges=false: NoNewPrivs 0, the filter still on (loaded with CAP_SYS_ADMIN)" \
	"NoNewPrivs: 0 Seccomp: 2" \
	"$(run --rm --security-opt no-new-privileges=false busybox sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\t" " "' | flat)"
check "no-new-privileges=false, a non-root user: filter loaded before the uid change" \
	"NoNewPrivs: 0 Seccomp: 2" \
	"$(run --rm -u 65534 --security-opt no-new-privileges=false busybox sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\t" " "' | flat)"

finish
