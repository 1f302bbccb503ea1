// SPDX-License-Identifier: MIT
/* Unit tests of runner/seccomp.c and the --security-opt parsers: profiles
 * refused with docker's messages, the default profile compiled and loaded
 * into a forked child (no_new_privs, no root needed) to see what it lets
 * through, moby's includes/excludes against the capability set, the
 * prologue for calls newer than libseccomp, and the x32 numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run-internal.h"

#define CAP(n) (UINT64_C(1) << (n))
#define CAP_SYS_ADMIN 21
#define CAP_SYS_PTRACE 19

static int compile(const char *json, uint64_t caps, struct run_seccomp **ret, struct cm_error *e)
{
	return run_seccomp_compile_profile(json, strlen(json), caps, ret, e);
}

static void refused(const char *json, const char *msg)
{
	struct run_seccomp *s = NULL;
	struct cm_error e = { 0 };
	assert_true(compile(json, run_caps_default(), &s, &e) < 0);
	assert_null(s);
	if (!strstr(e.msg, msg))
		fail_msg("'%s': wanted '%s' in '%s'", json, msg, e.msg);
}

static void test_refused(void **state)
{
	refused("{\"defaultAction\": ", "Decoding seccomp profile failed");
	refused("[]", "not a JSON object");
	refused("{\"defaultAction\": \"SCMP_ACT_BOGUS\"}", "unknown action SCMP_ACT_BOGUS");
	refused("{\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}", "action is missing");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86\"],"
		" \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
		"both 'architectures' and 'archMap'");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_VAX\"]}",
		"unknown architecture SCMP_ARCH_VAX");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"name\": \"read\","
		" \"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}", "both 'name' and 'names'");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
		" \"action\": \"SCMP_ACT_NOTIFY\"}]}", "SCMP_ACT_NOTIFY is not supported");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 5000}", "invalid errnoRet");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
		" \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		"invalid args of read");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
		" \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		"invalid args of read");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
		" \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"4\"}}]}", "invalid minKernel '4'");
	refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_BOGUS\"]}",
		"seccomp flag SECCOMP_FILTER_FLAG_BOGUS is not known");
}

static void test_no_filter(void **state)
{
	struct run_seccomp *s = (void *)1;
	/* moby: no default action and no rules, or allow-all, is no filter */
	assert_int_equal(compile("{}", 0, &s, NULL), 0);
	assert_null(s);
	s = (void *)1;
	assert_int_equal(compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", 0, &s, NULL), 0);
	assert_null(s);
	struct run_config c = { .seccomp = "unconfined" };
	assert_int_equal(run_seccomp_compile(&c, &s, NULL), 0);
	assert_null(s);
	struct run_config p = { .privileged = true };
	assert_int_equal(run_seccomp_compile(&p, &s, NULL), 0);
	assert_null(s);
}

/* In a forked child: no_new_privs, load s, make each call; the child's exit
 * code carries one bit per call that failed with EPERM. */
static unsigned eperm_bits(const struct run_seccomp *s, long (*const calls[])(void), size_t n)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned bits = 0;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || run_seccomp_load(s) < 0)
			_exit(255);
		for (size_t i = 0; i < n; i++) {
			errno = 0;
			if (calls[i]() < 0 && errno == EPERM)
				bits |= 1u << i;
		}
		_exit((int)bits); /* _exit: no sanitizer at-exit work under the filter */
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 255);
	return (unsigned)WEXITSTATUS(st);
}

static long c_getpid(void) { return getpid(); }
static long c_keyctl(void) { return syscall(SYS_keyctl, 0, -3, 0, 0, 0); }
static long c_userns(void) { return unshare(CLONE_NEWUSER); }
static long c_pers_query(void) { return personality(0xffffffff); }
static long c_pers_norandom(void) { return personality(ADDR_NO_RANDOMIZE); }
static long c_kcmp(void) { return syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0); }
/* statmount (457): newer than libseccomp 2.5.4, allowed by the profile
 * through our prologue: EFAULT or ENOSYS, not EPERM */
static long c_statmount(void) { return syscall(457, NULL, NULL, 0, 0); }
/* the same call and getpid with the x32 bit: x32 is in the default filter */
static long c_statmount_x32(void) { return syscall(457 | 0x40000000, NULL, NULL, 0, 0); }
static long c_keyctl_x32(void) { return syscall(250 | 0x40000000, 0, -3, 0, 0, 0); }
/* open_tree_attr (467): not in the profile's lists: the default EPERM */
static long c_open_tree_attr(void) { return syscall(467, -1, "", 0, NULL, 0); }

static void test_default_profile(void **state)
{
	static long (*const calls[])(void) = { c_getpid, c_keyctl, c_userns, c_pers_query,
					       c_pers_norandom, c_kcmp, c_statmount,
					       c_open_tree_attr };
	struct run_config c = { 0 };
	struct run_seccomp *s = NULL;
	struct cm_error e = { 0 };
	if (run_seccomp_compile(&c, &s, &e) < 0)
		fail_msg("%s", e.msg);
	assert_non_null(s);
	/* EPERM: keyctl, userns, personality(ADDR_NO_RANDOMIZE), kcmp, 467 */
	assert_int_equal(eperm_bits(s, calls, CM_ARRAY_SIZE(calls)),
			 (1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 7));
	run_seccomp_free(s);
	/* --cap-add SYS_PTRACE: kcmp allowed (includes.caps) */
	c.cap_add = CAP(CAP_SYS_PTRACE);
	assert_int_equal(run_seccomp_compile(&c, &s, NULL), 0);
	assert_int_equal(eperm_bits(s, calls, CM_ARRAY_SIZE(calls)),
			 (1u << 1) | (1u << 2) | (1u << 4) | (1u << 7));
	run_seccomp_free(s);
#ifdef __x86_64__
	static long (*const x32[])(void) = { c_statmount_x32, c_keyctl_x32 };
	c.cap_add = 0;
	assert_int_equal(run_seccomp_compile(&c, &s, NULL), 0);
	assert_int_equal(eperm_bits(s, x32, CM_ARRAY_SIZE(x32)), 1u << 1);
	run_seccomp_free(s);
#endif
}

static long c_mkdir(void) { return mkdirat(AT_FDCWD, "/nonexistent-dir/x", 0700); }
static long c_uname(void) { return syscall(SYS_uname, NULL); }

static void test_user_profile(void **state)
{
	/* allow by default; mkdirat EPERM; uname EPERM only without SYS_ADMIN
	 * (excludes.caps) and only where the kernel is at least 3.0 */
	const char *json = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
			   "{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\"},"
			   "{\"name\": \"uname\", \"action\": \"SCMP_ACT_ERRNO\","
			   " \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}, \"includes\": {\"minKernel\": \"3.0\"}},"
			   "{\"names\": [\"no_such_call\"], \"action\": \"SCMP_ACT_ERRNO\"}]}";
	static long (*const calls[])(void) = { c_mkdir, c_uname, c_getpid };
	struct run_seccomp *s = NULL;
	assert_int_equal(compile(json, run_caps_default(), &s, NULL), 0);
	assert_int_equal(eperm_bits(s, calls, 3), 3);
	run_seccomp_free(s);
	assert_int_equal(compile(json, run_caps_default() | CAP(CAP_SYS_ADMIN), &s, NULL), 0);
	assert_int_equal(eperm_bits(s, calls, 3), 1);
	run_seccomp_free(s);
	/* a minKernel far ahead: the rule is left out */
	const char *future = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
			     "{\"names\": [\"uname\"], \"action\": \"SCMP_ACT_ERRNO\","
			     " \"includes\": {\"minKernel\": \"99.0\"}},"
			     "{\"names\": [\"mkdirat\", \"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"}]}";
	assert_int_equal(compile(future, 0, &s, NULL), 0);
	assert_int_equal(eperm_bits(s, calls, 3), 1);
	run_seccomp_free(s);
}

/* compiled filters kept in RUN/seccomp/ of the container's run dir */
static void test_cache(void **state)
{
	static long (*const calls[])(void) = { c_getpid, c_keyctl, c_userns };
	char dir[] = "/tmp/test-seccomp-cache.XXXXXX", bundle[128], cache[160], cmd[256];
	assert_non_null(mkdtemp(dir));
	snprintf(bundle, sizeof(bundle), "%s/containers/abc", dir);
	snprintf(cache, sizeof(cache), "%s/seccomp", dir);
	struct run_config c = { .bundle = bundle };
	struct run_seccomp *s = NULL;
	assert_int_equal(run_seccomp_compile(&c, &s, NULL), 0);
	assert_int_equal(eperm_bits(s, calls, 3), 6);
	run_seccomp_free(s);
	snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) = 1", cache);
	assert_int_equal(system(cmd), 0);
	/* a hit gives the same filter */
	assert_int_equal(run_seccomp_compile(&c, &s, NULL), 0);
	assert_int_equal(eperm_bits(s, calls, 3), 6);
	run_seccomp_free(s);
	/* another capability set is another key: SYS_ADMIN allows unshare */
	c.cap_add = CAP(CAP_SYS_ADMIN);
	assert_int_equal(run_seccomp_compile(&c, &s, NULL), 0);
	assert_int_equal(eperm_bits(s, calls, 3), 2);
	run_seccomp_free(s);
	snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) = 2", cache);
	assert_int_equal(system(cmd), 0);
	/* a damaged file is not used: compiled again and replaced */
	snprintf(cmd, sizeof(cmd), "for f in %s/*.bpf; do printf garbage > $f; done", cache);
	assert_int_equal(system(cmd), 0);
	c.cap_add = 0;
	assert_int_equal(run_seccomp_compile(&c, &s, NULL), 0);
	assert_int_equal(eperm_bits(s, calls, 3), 6);
	run_seccomp_free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_security_opt(void **state)
{
	struct run_config c = { 0 };
	struct cm_error e = { 0 };
	assert_int_equal(run_security_opt_apply(&c, "no-new-privileges", NULL), 0);
	assert_false(c.new_privs);
	assert_int_equal(run_security_opt_apply(&c, "no-new-privileges=false", NULL), 0);
	assert_true(c.new_privs);
	assert_int_equal(run_security_opt_apply(&c, "no-new-privileges=TRUE", NULL), 0);
	assert_false(c.new_privs);
	assert_int_equal(run_security_opt_apply(&c, "no-new-privileges=maybe", &e), -EINVAL);
	assert_string_equal(e.msg, "invalid --security-opt 2: \"no-new-privileges=maybe\"");
	assert_int_equal(run_security_opt_apply(&c, "seccomp=unconfined", NULL), 0);
	assert_string_equal(c.seccomp, "unconfined");
	assert_int_equal(run_security_opt_apply(&c, "seccomp=builtin", NULL), 0);
	assert_null(c.seccomp);
	assert_int_equal(run_security_opt_apply(&c, "systempaths=unconfined", NULL), 0);
	assert_true(c.systempaths_unconfined);
	assert_int_equal(run_security_opt_apply(&c, "apparmor=unconfined", NULL), 0);
	assert_int_equal(run_security_opt_apply(&c, "label=disable", NULL), 0);
	assert_int_equal(run_security_opt_apply(&c, "bogus", &e), -EINVAL);
	assert_string_equal(e.msg, "invalid --security-opt 1: \"bogus\"");
	assert_int_equal(run_security_opt_apply(&c, "seccomp=", &e), -EINVAL);

	/* a file: read and compacted, as docker's CLI sends it */
	char path[] = "/tmp/test-seccomp.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *prof = "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": []\n}\n";
	assert_int_equal(write(fd, prof, strlen(prof)), (ssize_t)strlen(prof));
	close(fd);
	char opt[64], *out = NULL;
	snprintf(opt, sizeof(opt), "seccomp=%s", path);
	assert_int_equal(run_security_opt_read(opt, &out, NULL), 0);
	assert_string_equal(out, "seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}");
	assert_int_equal(run_security_opt_apply(&c, out, NULL), 0);
	assert_string_equal(c.seccomp, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}");
	free(out);
	free(c.seccomp);
	c.seccomp = NULL;
	unlink(path);
	assert_true(run_security_opt_read(opt, &out, &e) < 0);
	assert_non_null(strstr(e.msg, "opening seccomp profile ("));
	assert_int_equal(run_security_opt_read("no-new-privileges", &out, NULL), 0);
	assert_string_equal(out, "no-new-privileges");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_no_filter),
		cmocka_unit_test(test_default_profile),
		cmocka_unit_test(test_user_profile),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_security_opt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
