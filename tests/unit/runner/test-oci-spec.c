// SPDX-License-Identifier: MIT
/* Unit tests of runner/oci-spec.c: an OCI runtime spec into a run_config
 * (what img-runtime runs), its refusals, and the spec of an img run
 * config read back into the same config. Data only, no privilege. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "run.h"

static int parse(const char *text, struct run_config **ret, struct cm_error *e)
{
	struct cm_json *j = NULL;
	assert_int_equal(cm_json_parse(text, strlen(text), &j, NULL, 0), 0);
	int r = run_oci_config(j, "/b", "id1", ret, e);
	cm_json_free(j);
	return r;
}

static const char full[] =
	"{\"ociVersion\":\"1.0.2\","
	"\"process\":{\"terminal\":true,\"user\":{\"uid\":5,\"gid\":6,\"additionalGids\":[7,8]},"
	"\"args\":[\"sh\",\"-c\",\"x\"],\"env\":[\"A=1\"],\"cwd\":\"/w\","
	"\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_NOT_A_CAP\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20},"
	"{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,\"hard\":18446744073709551615}],"
	"\"noNewPrivileges\":true,\"oomScoreAdj\":100},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"h\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"size=1m\"]},"
	"{\"destination\":\"/v\",\"type\":\"none\",\"source\":\"/host\",\"options\":[\"rbind\",\"ro\"]},"
	"{\"destination\":\"/rel\",\"type\":\"bind\",\"source\":\"data\"},"
	"{\"destination\":\"/dev/x\",\"type\":\"bind\",\"source\":\"/hx\",\"options\":[\"bind\"]},"
	"{\"destination\":\"/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"size=2m\",\"mode=700\"]}],"
	"\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/proc/9/ns/net\"},"
	"{\"type\":\"user\"},{\"type\":\"cgroup\",\"path\":\"/proc/9/ns/cgroup\"}],"
	"\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
	"\"gidMappings\":[{\"containerID\":0,\"hostID\":2000,\"size\":10},{\"containerID\":10,\"hostID\":3000,\"size\":1}],"
	"\"resources\":{\"memory\":{\"limit\":1048576,\"swap\":2097152},\"pids\":{\"limit\":9},"
	"\"cpu\":{\"shares\":512,\"quota\":5000}},"
	"\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229}],"
	"\"cgroupsPath\":\"/a/b/c\",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},"
	"\"maskedPaths\":[\"/m\"],\"readonlyPaths\":[\"/r1\",\"/r2\"],"
	"\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}},"
	"\"hooks\":{\"startContainer\":[{\"path\":\"/hk\",\"args\":[\"hk\",\"a\"],\"timeout\":3}]}}";

static void test_oci_fields(void **state)
{
	struct run_config *c = NULL;
	struct cm_error e = { 0 };
	assert_int_equal(parse(full, &c, &e), 0);
	assert_string_equal(c->id, "id1");
	{
		struct cm_json *j = NULL;
		char unk[64];
		assert_int_equal(cm_json_parse(full, strlen(full), &j, NULL, 0), 0);
		assert_int_equal(run_oci_unknown_caps(j, unk, sizeof(unk)), 1);
		assert_string_equal(unk, "CAP_NOT_A_CAP");
		cm_json_free(j);
	}
	assert_true(c->oci && c->tty && c->read_only);
	assert_string_equal(c->rootfs, "/b/rootfs");
	assert_string_equal(c->hostname, "h");
	assert_string_equal(c->argv[2], "x");
	assert_null(c->argv[3]);
	assert_string_equal(c->env[0], "A=1");
	assert_string_equal(c->cwd, "/w");
	assert_string_equal(c->user, "5:6");
	assert_int_equal(c->n_add_gids, 2);
	assert_int_equal(c->add_gids[1], 8);
	assert_int_equal(run_caps_effective(c), (1u << 0) | (1u << 5)); /* CHOWN KILL */
	assert_int_equal(c->n_ulimits, 2);
	assert_int_equal(c->ulimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(c->ulimits[0].soft, 10);
	assert_int_equal(c->ulimits[0].hard, 20);
	assert_int_equal(c->ulimits[1].resource, RLIMIT_CORE);
	assert_int_equal(c->ulimits[1].soft, -1);
	assert_false(c->new_privs); /* noNewPrivileges: set */
	assert_int_equal(c->shm_size, 1 << 20);
	assert_int_equal(c->n_vols, 2);
	assert_string_equal(c->vols[0].host, "/host");
	assert_string_equal(c->vols[0].ctr, "/v");
	assert_true(c->vols[0].ro);
	assert_string_equal(c->vols[1].host, "/b/data");
	assert_false(c->vols[1].ro);
	assert_string_equal(c->tmpfs[0], "/t:nosuid,size=2m,mode=700");
	assert_null(c->tmpfs[1]);
	assert_false(c->host_pid);
	assert_true(c->host_uts && c->host_ipc && c->userns);
	assert_int_equal(c->network, RUN_NET_NONE);
	assert_string_equal(c->ns_path[RUN_NS_NET], "/proc/9/ns/net");
	/* a cgroup namespace by path: joined by pid 1 (v1 and v2) */
	assert_true(c->cgroupns);
	assert_string_equal(c->ns_path[RUN_NS_CGROUP], "/proc/9/ns/cgroup");
	assert_string_equal(c->uid_map, "0 1000 10\n");
	assert_string_equal(c->gid_map, "0 2000 10\n10 3000 1\n");
	assert_int_equal(c->lim.memory, 1048576);
	assert_int_equal(c->lim.memory_swap, 2097152);
	assert_int_equal(c->lim.pids, 9);
	assert_int_equal(c->lim.cpu_shares, 512);
	assert_int_equal(c->lim.cpu_quota, 5000);
	assert_int_equal(c->lim.cpu_period, 100000);
	assert_int_equal(c->n_devices, 1);
	assert_string_equal(c->devices[0].host, "/dev/fuse");
	assert_int_equal(c->devices[0].minor, 229);
	assert_string_equal(c->cgroup_parent, "a/b");
	assert_string_equal(c->cgroup_name, "c");
	assert_string_equal(c->seccomp, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
	assert_true(c->paths_set);
	assert_string_equal(c->masked[0], "/m");
	assert_null(c->masked[1]);
	assert_string_equal(c->readonly_paths[1], "/r2");
	assert_string_equal(c->sysctls[0], "net.ipv4.ip_forward=1");
	assert_int_equal(c->n_start_hooks, 1);
	assert_string_equal(c->start_hooks[0].path, "/hk");
	assert_string_equal(c->start_hooks[0].args[1], "a");
	assert_int_equal(c->start_hooks[0].timeout, 3);
	/* the mount plan takes the spec's lists */
	struct run_plan p;
	assert_int_equal(run_plan_build(c, &p, &e), 0);
	size_t masks = 0, ros = 0;
	for (size_t i = 0; i < p.n; i++) {
		masks += p.ops[i].op == RUN_MOP_MASK;
		ros += p.ops[i].op == RUN_MOP_RO && strcmp(p.ops[i].target, "/sys/fs/cgroup") != 0;
	}
	assert_int_equal(masks, 1);
	assert_int_equal(ros, 2);
	run_plan_free(&p);
	run_config_free(c);
}

static void test_oci_minimal(void **state)
{
	struct run_config *c = NULL;
	assert_int_equal(parse("{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
			       "\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
			       &c, NULL), 0);
	/* no namespace but mount: the host's; no seccomp: none; no limit */
	assert_true(c->host_pid && c->host_uts && c->host_ipc && !c->userns && !c->cgroupns);
	assert_int_equal(c->network, RUN_NET_HOST);
	assert_string_equal(c->seccomp, "unconfined");
	assert_int_equal(c->lim.pids, -1);
	assert_string_equal(c->user, "0:0");
	assert_int_equal(run_caps_effective(c), 0);
	assert_true(c->new_privs);
	assert_string_equal(c->cgroup_parent, "img-runtime");
	assert_null(c->cgroup_name);
	assert_false(c->host_mnt);
	run_config_free(c);
	/* no mount namespace: the host's (a chroot), nothing to mount there */
	c = NULL;
	assert_int_equal(parse("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
			       "\"root\":{\"path\":\"/r\"},\"mounts\":[],\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
			       "{\"type\":\"network\"}],\"maskedPaths\":[],\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}",
			       &c, NULL), 0);
	assert_true(c->host_mnt && !c->host_pid);
	assert_string_equal(c->sysctls[0], "net.ipv4.ip_forward=1");
	run_config_free(c);
	/* a net.* sysctl in the host's network namespace: runc's refusal */
	c = NULL;
	assert_int_equal(parse("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
			       "\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
			       "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}", &c, NULL), -EINVAL);
	assert_null(c);
	/* one component: right under the hierarchy's root (was img/NAME) */
	c = NULL;
	assert_int_equal(parse("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
			       "\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
			       "\"cgroupsPath\":\"/cgtop\"}}", &c, NULL), 0);
	assert_string_equal(c->cgroup_parent, "/");
	assert_string_equal(c->cgroup_name, "cgtop");
	run_config_free(c);
	/* resources.devices allow rules without a node: cgroup rules only */
	c = NULL;
	assert_int_equal(parse("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
			       "\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
			       "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
			       "{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":229,\"access\":\"rw\"},"
			       "{\"allow\":true,\"type\":\"b\",\"access\":\"m\"}]}}}", &c, NULL), 0);
	assert_int_equal(c->n_devices, 2);
	assert_null(c->devices[0].host);
	assert_int_equal(c->devices[0].major, 10);
	assert_string_equal(c->devices[0].perms, "rw");
	assert_int_equal(c->devices[1].type, 'b');
	assert_int_equal(c->devices[1].major, RUN_DEV_ANY);
	assert_string_equal(c->devices[1].perms, "m");
	assert_false(c->devices_all);
	run_config_free(c);
}

static void test_oci_refused(void **state)
{
	static const struct { const char *frag, *msg; } bad[] = {
		{ "\"ociVersion\":\"2.0.0\"", "is not 1.x" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"cgroupsPath\":\"system.slice:img:x\"}", "systemd" },
		/* no mount namespace: what runc would mount in the host's */
		{ "\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]},\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"}]",
		  "mount /proc needs a mount namespace" },
		{ "\"linux\":{\"namespaces\":[],\"maskedPaths\":[\"/m\"]}", "without a private MNT namespace" },
		{ "\"linux\":{\"namespaces\":[],\"readonlyPaths\":[\"/r\"]}", "without a private MNT namespace" },
		{ "\"linux\":{\"namespaces\":[]},\"root\":{\"path\":\"/r\",\"readonly\":true}", "root.readonly needs" },
		{ "\"linux\":{\"namespaces\":[],\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1,\"minor\":3}]}",
		  "linux.devices need a mount namespace" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"mount\",\"path\":\"/proc/1/ns/mnt\"}]}", "by path" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"mount\"}]}", "twice" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"time\"},{\"type\":\"mount\"}]}", "unknown namespace" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"cgroupsPath\":\"/a/../b\"}", "cgroupsPath" },
		{ "\"mounts\":[{\"destination\":\"/x\",\"type\":\"proc\",\"source\":\"proc\"}]", "not supported" },
		{ "\"mounts\":[{\"destination\":\"x\",\"type\":\"tmpfs\"}]", "not absolute" },
		{ "\"hooks\":{\"startContainer\":[{\"path\":\"rel\"}]}", "absolute" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"resources\":{\"cpu\":{\"cpus\":\"0;1\"}}}", "cpu.cpus" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"resources\":{\"blockIO\":{\"weight\":5}}}", "10..1000" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"resources\":{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"rate\":1}]}}}",
		  "throttleReadBpsDevice 0: needs major, minor and rate" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1,\"minor\":3}]},"
		  "\"annotations\":{\"org.img.device-host:/dev/x\":\"/etc/passwd\"}", "not under /dev/" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the fragment last: a duplicate key replaces the base's */
		char text[1024];
		snprintf(text, sizeof(text), "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],"
			 "\"cwd\":\"/\"},\"root\":{\"path\":\"/r\"},"
			 "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]},%s}", bad[i].frag);
		struct run_config *c = NULL;
		struct cm_error e = { 0 };
		assert_true(parse(text, &c, &e) < 0);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("%s: got '%s'", bad[i].frag, e.msg);
		assert_null(c);
	}
}

/* img run's config -> spec -> config: what a spec says comes back */
static void test_oci_roundtrip(void **state)
{
	char *argv[] = { "sh", "-c", "echo", NULL }, *env[] = { "PATH=/bin", "K=v", NULL };
	char *tmpfs[] = { "/t:size=1m,mode=700", NULL };
	struct run_volume vols[] = { { .host = "/h1", .ctr = "/c1", .ro = true }, { .host = "/h2", .ctr = "/c2" } };
	struct run_ulimit ul[] = { { RLIMIT_NOFILE, 100, 200 }, { RLIMIT_CORE, -1, -1 } };
	struct run_device dev[] = {
		{ .host = "/dev/fuse", .ctr = "/dev/fuse", .type = 'c', .major = 10, .minor = 229, .perms = "rwm" },
		{ .host = "/dev/sda", .ctr = "/dev/xvda", .type = 'b', .major = 8, .minor = 0, .perms = "r" },
	};
	char *sysctls[] = { "net.ipv4.ip_forward=1", "kernel.msgmax=9000", NULL };
	char *groups[] = { "users", "42", NULL };
	struct run_config c = {
		.id = "abc", .argv = argv, .env = env, .cwd = "/w", .user = "nobody:users",
		.hostname = "hn", .tty = true, .read_only = true, .rootfs = "/root/fs",
		.network = RUN_NET_BRIDGE, .cap_drop = 1u << 0, .cap_add = 1u << 12,
		.vols = vols, .n_vols = 2, .tmpfs = tmpfs, .shm_size = 8 << 20,
		.ulimits = ul, .n_ulimits = 2, .devices = dev, .n_devices = 2,
		.sysctls = sysctls, .group_add = groups,
		.cgroup_parent = "imgtest", .cgroupns = true,
	};
	/* every field of run_limits: a new one the spec does not carry fails
	 * the memory compare below (padding zeroed, as calloc's is) */
	memset(&c.lim, 0, sizeof(c.lim));
	c.lim.memory = 1 << 26;
	c.lim.memory_swap = 1 << 27;
	c.lim.cpu_quota = 50000;
	c.lim.cpu_period = 100000;
	c.lim.cpu_shares = 256;
	c.lim.pids = 77;
	c.lim.memory_reservation = 1 << 25;
	c.lim.blkio_weight = 300;
	c.lim.oom_kill_disable = true;
	c.lim.swappiness_set = true;
	c.lim.swappiness = 30;
	memcpy(c.lim.cpuset_cpus, "0-1", 4);
	c.lim.cpuset_group = true; /* not in the spec: its cgroup namespace says it */
	c.lim.throttle[0] = (struct run_blkio_throttle){ .rate = 1 << 20, .major = 254, .minor = 0,
							 .kind = RUN_BLKIO_WRITE_BPS };
	c.lim.throttle[1] = (struct run_blkio_throttle){ .rate = 0, .major = 8, .minor = 16,
							 .kind = RUN_BLKIO_READ_IOPS };
	c.lim.n_throttle = 2;
	struct cm_jw w;
	char *text = NULL;
	struct cm_error e = { 0 };
	cm_jw_init(&w, 0);
	assert_int_equal(run_oci_spec_write(&c, &w, &e), 0);
	assert_int_equal(cm_jw_finish(&w, &text, NULL), 0);
	struct cm_json *j = NULL;
	assert_int_equal(cm_json_parse(text, strlen(text), &j, NULL, 0), 0);
	struct run_config *b = NULL;
	assert_int_equal(run_oci_config(j, "/", "abc", &b, &e), 0);
	assert_string_equal(b->argv[2], "echo");
	assert_string_equal(b->env[1], "K=v");
	assert_string_equal(b->cwd, "/w");
	assert_string_equal(b->user, "nobody:users"); /* resolved in the container */
	assert_string_equal(b->hostname, "hn");
	assert_true(b->tty && b->read_only);
	assert_string_equal(b->rootfs, "/root/fs");
	assert_int_equal(b->network, RUN_NET_BRIDGE);
	assert_false(b->host_pid || b->host_uts || b->host_ipc || b->userns);
	assert_true(b->cgroupns); /* --cgroupns private */
	assert_null(b->ns_path[RUN_NS_CGROUP]);
	assert_int_equal(run_caps_effective(b), run_caps_effective(&c));
	assert_int_equal(b->n_vols, 2);
	assert_string_equal(b->vols[0].host, "/h1");
	assert_true(b->vols[0].ro);
	assert_false(b->vols[1].ro);
	assert_string_equal(b->tmpfs[0], "/t:size=1m,mode=700");
	assert_int_equal(b->shm_size, 8 << 20);
	assert_int_equal(b->n_ulimits, 2);
	assert_int_equal(b->ulimits[0].soft, 100);
	assert_int_equal(b->ulimits[1].hard, -1);
	assert_int_equal(b->n_devices, 2);
	assert_int_equal(b->devices[0].major, 10);
	assert_string_equal(b->devices[0].host, "/dev/fuse");
	assert_string_equal(b->devices[0].perms, "rwm");
	assert_string_equal(b->devices[1].host, "/dev/sda"); /* img's annotation */
	assert_string_equal(b->devices[1].ctr, "/dev/xvda");
	assert_int_equal(b->devices[1].type, 'b');
	assert_string_equal(b->devices[1].perms, "r");       /* its allow rule */
	assert_false(b->devices_all);
	assert_string_equal(b->sysctls[0], "net.ipv4.ip_forward=1");
	assert_string_equal(b->sysctls[1], "kernel.msgmax=9000");
	assert_null(b->sysctls[2]);
	assert_string_equal(b->group_add[0], "users");
	assert_string_equal(b->group_add[1], "42");
	assert_null(b->group_add[2]);
	assert_memory_equal(&b->lim, &c.lim, sizeof(c.lim));
	assert_string_equal(b->cgroup_parent, "imgtest");
	assert_string_equal(b->cgroup_name, "abc");
	assert_true(b->new_privs == c.new_privs);
	/* the default profile, embedded: it compiles for these caps */
	assert_non_null(b->seccomp);
	assert_int_equal(run_seccomp_check(b, &e), 0);
	/* docker's lists */
	const char *const *m, *const *ro;
	size_t nm, nro, n = 0;
	run_plan_default_paths(&m, &nm, &ro, &nro);
	while (b->masked[n])
		n++;
	assert_int_equal(n, nm);
	run_config_free(b);
	cm_json_free(j);
	free(text);

	/* --privileged: the allow-all device rule; pids 0: img's default */
	c.privileged = true;
	c.lim = (struct run_limits){ 0 };
	cm_jw_init(&w, 0);
	assert_int_equal(run_oci_spec_write(&c, &w, &e), 0);
	assert_int_equal(cm_jw_finish(&w, &text, NULL), 0);
	assert_int_equal(cm_json_parse(text, strlen(text), &j, NULL, 0), 0);
	assert_int_equal(run_oci_config(j, "/", "abc", &b, &e), 0);
	assert_true(b->devices_all);
	/* docker's privileged spec: sysfs and cgroup rw, no seccomp, empty
	 * path lists, the host's /dev/null among linux.devices as a node */
	assert_true(b->sys_rw && b->cgroup_rw);
	assert_string_equal(b->seccomp, "unconfined");
	assert_null(b->masked[0]);
	assert_null(b->readonly_paths[0]);
	bool null_node = false;
	for (size_t i = 0; i < b->n_devices; i++)
		null_node = null_node || (!strcmp(b->devices[i].ctr, "/dev/null") && b->devices[i].node &&
					  b->devices[i].major == 1 && b->devices[i].minor == 3);
	assert_true(null_node);
	assert_int_equal(b->lim.pids, run_cgroup_has(NULL, "pids") ? RUN_DEFAULT_PIDS_LIMIT : -1);
	assert_int_equal(b->lim.memory, 0);
	assert_false(b->lim.oom_kill_disable);
	run_config_free(b);
	cm_json_free(j);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oci_fields),
		cmocka_unit_test(test_oci_minimal),
		cmocka_unit_test(test_oci_refused),
		cmocka_unit_test(test_oci_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
