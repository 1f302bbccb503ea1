// SPDX-License-Identifier: MIT
/* Unit tests of the mount plan (runner/mountplan.c) and of the cgroup limit
 * conversions (runner/cgroup.c): data only, no privilege. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "run.h"

static ssize_t find(const struct run_plan *p, const char *target)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->ops[i].target, target) == 0)
			return (ssize_t)i;
	return -1;
}

static void test_plan_order(void **state)
{
	struct run_volume v[] = { { .host = (char *)"/host", .ctr = (char *)"/data", .ro = true } };
	struct run_config c = { .vols = v, .n_vols = 1 };
	struct run_plan p;
	assert_int_equal(run_plan_build(&c, &p, NULL), 0);
	ssize_t proc = find(&p, "/proc"), sys = find(&p, "/sys"), dev = find(&p, "/dev"),
		null = find(&p, "/dev/null"), pts = find(&p, "/dev/pts"), ptmx = find(&p, "/dev/ptmx"),
		data = find(&p, "/data"), kcore = find(&p, "/proc/kcore"), psys = find(&p, "/proc/sys"),
		fw = find(&p, "/sys/firmware");
	assert_true(proc == 0);
	assert_true(proc < sys && sys < dev && dev < null && null < pts && pts < ptmx);
	assert_true(ptmx < data && data < kcore && kcore < psys);
	assert_int_equal(p.ops[sys].flags & MS_RDONLY, MS_RDONLY);
	assert_int_equal(p.ops[null].op, RUN_MOP_DEV);
	assert_int_equal(p.ops[null].dev_major, 1);
	assert_int_equal(p.ops[null].dev_minor, 3);
	assert_string_equal(p.ops[pts].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	assert_string_equal(p.ops[ptmx].source, "pts/ptmx");
	assert_int_equal(p.ops[data].op, RUN_MOP_BIND);
	assert_true(p.ops[data].readonly);
	assert_int_equal(p.ops[kcore].op, RUN_MOP_MASK);
	assert_int_equal(p.ops[fw].op, RUN_MOP_MASK);
	assert_int_equal(p.ops[psys].op, RUN_MOP_RO);
	static const char *const masked[] = { "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/latency_stats", "/proc/scsi" };
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++)
		assert_true(find(&p, masked[i]) > 0);
	static const char *const ro[] = { "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs" };
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		assert_int_equal(p.ops[find(&p, ro[i])].op, RUN_MOP_RO);
	run_plan_free(&p);
}

/* --privileged as its OCI spec says it (sysfs and cgroup rw, the host's
 * devices as linux.devices nodes, empty path lists), systempaths=unconfined,
 * and the v1 cgroup view */
static void test_plan_privileged(void **state)
{
	struct run_device dev = { .host = (char *)"/dev/loop-control", .ctr = (char *)"/dev/loop-control",
				  .type = 'c', .major = 10, .minor = 237, .perms = "rwm", .node = true,
				  .mode = 0660, .gid = 6 };
	struct run_config c = { .id = "abc", .cgroup_parent = (char *)"par", .sys_rw = true, .cgroup_rw = true,
				.paths_set = true, .devices = &dev, .n_devices = 1 };
	struct run_plan p;
	assert_int_equal(run_plan_build(&c, &p, NULL), 0);
	ssize_t sys = find(&p, "/sys"), devs = find(&p, "/dev/loop-control"), pts = find(&p, "/dev/pts"),
		mem = find(&p, "/sys/fs/cgroup/memory");
	assert_int_equal(p.ops[sys].flags & MS_RDONLY, 0);
	assert_int_equal(p.ops[devs].op, RUN_MOP_MKNOD);
	assert_int_equal(p.ops[devs].node_mode, S_IFCHR | 0660);
	assert_int_equal(p.ops[devs].node_gid, 6);
	assert_true(find(&p, "/dev/null") < devs && devs < pts); /* after the checked ones */
	assert_true(find(&p, "/proc/kcore") < 0 && find(&p, "/proc/sys") < 0);
	/* the container's own group, read-write, a missing controller skipped */
	assert_int_equal(p.ops[mem].op, RUN_MOP_BIND);
	assert_string_equal(p.ops[mem].source, "/sys/fs/cgroup/memory/par/abc");
	assert_false(p.ops[mem].readonly);
	assert_true(p.ops[mem].optional);
	assert_true(find(&p, "/sys/fs/cgroup") > sys);
	run_plan_free(&p);

	struct run_config d = { .id = "abc", .cgroup_root = (char *)"/cg", .systempaths_unconfined = true };
	assert_int_equal(run_plan_build(&d, &p, NULL), 0);
	mem = find(&p, "/sys/fs/cgroup/memory");
	assert_string_equal(p.ops[mem].source, "/cg/memory/img/abc");
	assert_true(p.ops[mem].readonly);
	assert_int_equal(p.ops[find(&p, "/sys")].flags & MS_RDONLY, MS_RDONLY);
	assert_true(find(&p, "/proc/kcore") < 0 && find(&p, "/proc/sys") < 0);
	/* the tmpfs under the groups made read-only after them */
	ssize_t last = -1;
	for (size_t i = 0; i < p.n; i++)
		if (!strcmp(p.ops[i].target, "/sys/fs/cgroup"))
			last = (ssize_t)i;
	assert_int_equal(p.ops[last].op, RUN_MOP_RO);
	assert_true(last > mem);
	run_plan_free(&p);

	/* a cgroup namespace (v1 or v2): pid 1 mounts them itself */
	struct run_config ns = { .id = "abc", .cgroupns = true };
	assert_int_equal(run_plan_build(&ns, &p, NULL), 0);
	assert_true(find(&p, "/sys/fs/cgroup") < 0 && find(&p, "/sys/fs/cgroup/memory") < 0);
	run_plan_free(&p);
	ns.cgroup_v2 = true;
	assert_int_equal(run_plan_build(&ns, &p, NULL), 0);
	assert_true(find(&p, "/sys/fs/cgroup") < 0);
	run_plan_free(&p);

	/* v2 in the host's namespace: its own group, never the host's tree */
	struct run_config v2 = { .id = "abc", .cgroup_root = (char *)"/cg2", .cgroup_parent = (char *)"par",
				 .cgroup_v2 = true };
	assert_int_equal(run_plan_build(&v2, &p, NULL), 0);
	ssize_t g = find(&p, "/sys/fs/cgroup");
	assert_int_equal(p.ops[g].op, RUN_MOP_BIND);
	assert_string_equal(p.ops[g].source, "/cg2/par/abc");
	assert_true(p.ops[g].readonly);
	run_plan_free(&p);
}

/* what pid 1 mounts in its cgroup namespace, from its /proc/self/cgroup */
static void test_plan_cgroupns(void **state)
{
	static const char self[] = "12:name=systemd:/\n11:cpuset:/\n10:hugetlb:/\n"
				   "9:cpu,cpuacct:/\n8:pids:/\n4:memory:/\n2:net_cls,net_prio:/\n0::/\n";
	struct run_config c = { .id = "abc", .cgroupns = true };
	struct run_plan p;
	assert_int_equal(run_plan_cgroupns(&c, self, &p), 0);
	ssize_t tmp = find(&p, "/sys/fs/cgroup"), cc = find(&p, "/sys/fs/cgroup/cpu,cpuacct"),
		cpu = find(&p, "/sys/fs/cgroup/cpu"), acct = find(&p, "/sys/fs/cgroup/cpuacct"),
		pids = find(&p, "/sys/fs/cgroup/pids"), mem = find(&p, "/sys/fs/cgroup/memory");
	assert_int_equal(tmp, 0);
	assert_int_equal(p.ops[tmp].op, RUN_MOP_FS);
	assert_string_equal(p.ops[tmp].fstype, "tmpfs");
	assert_int_equal(p.ops[cc].op, RUN_MOP_FS);
	assert_string_equal(p.ops[cc].fstype, "cgroup");
	assert_string_equal(p.ops[cc].data, "cpu,cpuacct");
	assert_int_equal(p.ops[cc].flags & MS_RDONLY, MS_RDONLY);
	assert_int_equal(p.ops[cpu].op, RUN_MOP_SYMLINK);
	assert_string_equal(p.ops[cpu].source, "cpu,cpuacct");
	assert_int_equal(p.ops[acct].op, RUN_MOP_SYMLINK);
	assert_string_equal(p.ops[pids].data, "pids");
	assert_string_equal(p.ops[mem].data, "memory");
	/* no group of the container's there: not mounted */
	assert_true(find(&p, "/sys/fs/cgroup/cpuset") < 0 && find(&p, "/sys/fs/cgroup/systemd") < 0 &&
		    find(&p, "/sys/fs/cgroup/name=systemd") < 0 && find(&p, "/sys/fs/cgroup/hugetlb") < 0 &&
		    find(&p, "/sys/fs/cgroup/net_cls,net_prio") < 0);
	/* the tmpfs read-only last */
	assert_int_equal(p.ops[p.n - 1].op, RUN_MOP_RO);
	assert_string_equal(p.ops[p.n - 1].target, "/sys/fs/cgroup");
	assert_int_equal(p.n, 7);
	run_plan_free(&p);

	/* a cpuset group of its own (cgroup-v1.c): mounted too, read-only;
	 * a "cpusetx" controller is not cpuset */
	c.lim.cpuset_group = true;
	assert_int_equal(run_plan_cgroupns(&c, self, &p), 0);
	ssize_t cs = find(&p, "/sys/fs/cgroup/cpuset");
	assert_true(cs > 0);
	assert_int_equal(p.ops[cs].op, RUN_MOP_FS);
	assert_string_equal(p.ops[cs].data, "cpuset");
	assert_int_equal(p.ops[cs].flags & MS_RDONLY, MS_RDONLY);
	assert_int_equal(p.n, 8);
	run_plan_free(&p);
	assert_int_equal(run_plan_cgroupns(&c, "3:cpusetx:/\n", &p), 0);
	assert_int_equal(p.n, 2); /* the tmpfs, read-only */
	run_plan_free(&p);
	c.lim.cpuset_group = false;
	memcpy(c.lim.cpuset_cpus, "0", 2); /* --cpuset-cpus: a group too */
	assert_int_equal(run_plan_cgroupns(&c, self, &p), 0);
	assert_true(find(&p, "/sys/fs/cgroup/cpuset") > 0);
	run_plan_free(&p);
	c.lim.cpuset_cpus[0] = '\0';

	/* --privileged: read-write; malformed lines skipped */
	c.cgroup_rw = true;
	assert_int_equal(run_plan_cgroupns(&c, "garbage\n3:memory\n::\n5:pids:/\n", &p), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.ops[1].flags & MS_RDONLY, 0);
	assert_string_equal(p.ops[1].target, "/sys/fs/cgroup/pids");
	run_plan_free(&p);

	/* v2: the namespace's cgroup2 */
	struct run_config v2 = { .id = "abc", .cgroupns = true, .cgroup_v2 = true };
	assert_int_equal(run_plan_cgroupns(&v2, NULL, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.ops[0].fstype, "cgroup2");
	assert_int_equal(p.ops[0].flags & MS_RDONLY, MS_RDONLY);
	run_plan_free(&p);
}

static void bad_target(const char *t)
{
	struct run_volume v[] = { { .host = (char *)"/host", .ctr = (char *)t } };
	struct run_config c = { .vols = v, .n_vols = 1 };
	struct run_plan p;
	struct cm_error e = { 0 };
	assert_int_equal(run_plan_build(&c, &p, &e), -EINVAL);
}

static void test_plan_refuses(void **state)
{
	bad_target("/");
	bad_target("rel");
	bad_target("/a/../b");
	bad_target("/proc/x");
	bad_target("/sys");
	bad_target("/dev/shm");
	bad_target("/a/./b");
}

static void test_cgroup_conversions(void **state)
{
	assert_int_equal(run_cgroup_shares_to_weight(2), 1);
	assert_int_equal(run_cgroup_shares_to_weight(262144), 10000);
	assert_int_equal(run_cgroup_shares_to_weight(1024), 39);
	assert_int_equal(run_cgroup_swap_v2(100, 300), 200);
	assert_int_equal(run_cgroup_swap_v2(100, -1), -1);
	assert_int_equal(run_cgroup_swap_v2(100, 100), 0);
	char b[32];
	run_cgroup_fmt_max(0, b, sizeof(b));
	assert_string_equal(b, "max");
	run_cgroup_fmt_max(-1, b, sizeof(b));
	assert_string_equal(b, "max");
	run_cgroup_fmt_max(77, b, sizeof(b));
	assert_string_equal(b, "77");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_order),
		cmocka_unit_test(test_plan_privileged),
		cmocka_unit_test(test_plan_refuses),
		cmocka_unit_test(test_plan_cgroupns),
		cmocka_unit_test(test_cgroup_conversions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
