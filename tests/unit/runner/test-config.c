// SPDX-License-Identifier: MIT
/* Unit tests of the runner's pure configuration logic (runner/config.c):
 * sizes, cpus, volumes, signals, the image config merge, users, runner.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <unistd.h>

#include "run.h"

static void test_bytes(void **state)
{
	int64_t v;
	assert_int_equal(run_parse_bytes("128m", &v, NULL), 0);
	assert_int_equal(v, 128LL << 20);
	assert_int_equal(run_parse_bytes("1g", &v, NULL), 0);
	assert_int_equal(v, 1LL << 30);
	assert_int_equal(run_parse_bytes("512kb", &v, NULL), 0);
	assert_int_equal(v, 512LL << 10);
	assert_int_equal(run_parse_bytes("100", &v, NULL), 0);
	assert_int_equal(v, 100);
	assert_int_equal(run_parse_bytes("12x", &v, NULL), -EINVAL);
	assert_int_equal(run_parse_bytes("-1", &v, NULL), -EINVAL);
	assert_int_equal(run_parse_bytes("99999999999999999999t", &v, NULL), -EINVAL);
}

static void test_cpus(void **state)
{
	int64_t q, p;
	assert_int_equal(run_parse_cpus("0.5", &q, &p, NULL), 0);
	assert_int_equal(q, 50000);
	assert_int_equal(p, 100000);
	assert_int_equal(run_parse_cpus("2", &q, &p, NULL), 0);
	assert_int_equal(q, 200000);
	assert_int_equal(run_parse_cpus("0", &q, &p, NULL), -EINVAL);
	assert_int_equal(run_parse_cpus("abc", &q, &p, NULL), -EINVAL);
	assert_int_equal(run_parse_cpus("0.001", &q, &p, NULL), -EINVAL);
}

static void test_volume(void **state)
{
	struct run_volume v;
	struct cm_error e = { 0 };
	assert_int_equal(run_parse_volume("/a:/b:ro", &v, &e), 0);
	assert_string_equal(v.host, "/a");
	assert_string_equal(v.ctr, "/b");
	assert_true(v.ro);
	free(v.host);
	free(v.ctr);
	assert_int_equal(run_parse_volume("/a:/b", &v, &e), 0);
	assert_false(v.ro);
	free(v.host);
	free(v.ctr);
	assert_int_equal(run_parse_volume("name:/b", &v, &e), 0);
	assert_null(v.host);
	assert_string_equal(v.name, "name");
	assert_true(v.volume);
	assert_false(v.anon);
	run_volume_clear(&v);
	assert_int_equal(run_parse_volume("/a", &v, &e), 0);
	assert_true(v.volume && v.anon);
	assert_string_equal(v.ctr, "/a");
	run_volume_clear(&v);
	assert_int_equal(run_parse_volume("/a:ro", &v, &e), 0);
	assert_true(v.volume && v.anon && v.ro);
	run_volume_clear(&v);
	assert_int_equal(run_parse_volume("data:/b:ro,nocopy", &v, &e), 0);
	assert_true(v.ro && v.nocopy);
	run_volume_clear(&v);
	assert_int_equal(run_parse_volume("/a:b", &v, &e), -EINVAL);
	assert_int_equal(run_parse_volume("/a:/b:xx", &v, &e), -EINVAL);
	assert_int_equal(run_parse_volume("/a:/", &v, &e), -EINVAL);
	assert_int_equal(run_parse_volume("a:b:c:d", &v, &e), -EINVAL);
}

static void test_mount(void **state)
{
	struct run_volume v;
	struct cm_error e = { 0 };
	char *t = NULL;
	assert_int_equal(run_parse_mount("type=bind,source=/a,target=/b,readonly", &v, &t, &e), 0);
	assert_string_equal(v.host, "/a");
	assert_string_equal(v.ctr, "/b");
	assert_true(v.ro && !v.volume && v.mount);
	run_volume_clear(&v);
	assert_int_equal(run_parse_mount("src=data,dst=/b", &v, &t, &e), 0);
	assert_true(v.volume && !v.anon);
	assert_string_equal(v.name, "data");
	run_volume_clear(&v);
	assert_int_equal(run_parse_mount("type=volume,target=/b,volume-nocopy", &v, &t, &e), 0);
	assert_true(v.volume && v.anon && v.nocopy);
	run_volume_clear(&v);
	assert_int_equal(run_parse_mount("type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770", &v, &t, &e), 1);
	assert_string_equal(t, "/t:size=1048576,mode=1770");
	free(t);
	cm_error_clear(&e);
	assert_int_equal(run_parse_mount("type=bind,source=/a", &v, &t, &e), -EINVAL);
	assert_string_equal(e.msg, "invalid argument \"type=bind,source=/a\" for \"--mount\" flag: target is required");
	cm_error_clear(&e);
	assert_int_equal(run_parse_mount("type=bind,target=/a", &v, &t, &e), -EINVAL);
	assert_string_equal(e.msg, "invalid mount config for type \"bind\": field Source must not be empty");
	cm_error_clear(&e);
	assert_int_equal(run_parse_mount("type=bind,target=/a,bogus=1", &v, &t, &e), -EINVAL);
	assert_string_equal(e.msg, "invalid argument \"type=bind,target=/a,bogus=1\" for \"--mount\" flag: unexpected key 'bogus' in 'bogus'");
	assert_int_equal(run_parse_mount("type=foo,target=/a", &v, &t, &e), -EINVAL);
	assert_int_equal(run_parse_mount("type=tmpfs,source=x,target=/a", &v, &t, &e), -EINVAL);
	assert_int_equal(run_parse_mount("type=bind,source=/x,target=/a,volume-nocopy", &v, &t, &e), -EINVAL);
	assert_int_equal(run_parse_mount("target", &v, &t, &e), -EINVAL);
}

static void test_signal(void **state)
{
	int s;
	assert_int_equal(run_parse_signal("KILL", &s, NULL), 0);
	assert_int_equal(s, SIGKILL);
	assert_int_equal(run_parse_signal("sigterm", &s, NULL), 0);
	assert_int_equal(s, SIGTERM);
	assert_int_equal(run_parse_signal("9", &s, NULL), 0);
	assert_int_equal(s, 9);
	assert_int_equal(run_parse_signal("NOPE", &s, NULL), -EINVAL);
	assert_int_equal(run_parse_signal("0", &s, NULL), -EINVAL);
}

static struct cm_json *parse(const char *s)
{
	struct cm_json *j = NULL;
	assert_int_equal(cm_json_parse(s, strlen(s), &j, NULL, 0), 0);
	return j;
}

static void test_merge(void **state)
{
	struct cm_json *img = parse("{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\",\"b\"],"
				    "\"Env\":[\"PATH=/x\",\"K=img\"],\"WorkingDir\":\"/w\",\"User\":\"1:2\"}");
	struct run_config c = { .hostname = (char *)"h", .tty = true };
	struct cm_error e = { 0 };
	char *env[] = { (char *)"K=cli", (char *)"N=1", NULL };
	char *cmd0[] = { NULL };
	struct run_cli cli = { .cmd = cmd0, .env = env };
	assert_int_equal(run_spec_merge(&c, img, &cli, &e), 0);
	assert_string_equal(c.argv[0], "/ep");
	assert_string_equal(c.argv[1], "a");
	assert_string_equal(c.argv[2], "b");
	assert_null(c.argv[3]);
	assert_string_equal(run_env_get(c.env, "PATH"), "/x");
	assert_string_equal(run_env_get(c.env, "K"), "cli");
	assert_string_equal(run_env_get(c.env, "HOSTNAME"), "h");
	assert_string_equal(run_env_get(c.env, "TERM"), "xterm");
	assert_string_equal(c.cwd, "/w");
	assert_string_equal(c.user, "1:2");

	/* a command replaces Cmd, keeps the Entrypoint; --entrypoint drops Cmd */
	char *cmd[] = { (char *)"x", NULL };
	struct run_cli cli2 = { .cmd = cmd, .entrypoint = "/other", .cwd = "/c", .user = "0" };
	assert_int_equal(run_spec_merge(&c, img, &cli2, &e), 0);
	assert_string_equal(c.argv[0], "/other");
	assert_string_equal(c.argv[1], "x");
	assert_null(c.argv[2]);
	assert_string_equal(c.cwd, "/c");

	struct run_cli cli3 = { .cmd = cmd0, .entrypoint = "" };
	assert_int_equal(run_spec_merge(&c, img, &cli3, &e), -EINVAL);
	struct run_cli cli4 = { .cmd = cmd0, .cwd = "rel" };
	assert_int_equal(run_spec_merge(&c, img, &cli4, &e), -EINVAL);

	/* no Env in the image: PATH defaulted */
	struct cm_json *bare = parse("{\"Cmd\":[\"sh\"]}");
	c.tty = false;
	assert_int_equal(run_spec_merge(&c, bare, &cli, &e), 0);
	assert_string_equal(run_env_get(c.env, "PATH"), RUN_DEFAULT_PATH);
	assert_null(run_env_get(c.env, "TERM"));

	/* labels: the image's, then --label (same key: ours; KEY alone: "") */
	struct cm_json *lab = parse("{\"Cmd\":[\"sh\"],\"Labels\":{\"a\":\"1\",\"b\":\"2\"}}");
	char *labels[] = { (char *)"b=3", (char *)"c", NULL };
	struct run_cli cli5 = { .cmd = cmd0, .labels = labels };
	assert_int_equal(run_spec_merge(&c, lab, &cli5, &e), 0);
	assert_string_equal(run_env_get(c.labels, "a"), "1");
	assert_string_equal(run_env_get(c.labels, "b"), "3");
	assert_string_equal(run_env_get(c.labels, "c"), "");
	char *bad[] = { (char *)"=x", NULL };
	struct run_cli cli6 = { .cmd = cmd0, .labels = bad };
	assert_int_equal(run_spec_merge(&c, lab, &cli6, &e), -EINVAL);
	cm_json_free(lab);
	c.hostname = NULL;
	run_config_free(memcpy(calloc(1, sizeof(c)), &c, sizeof(c)));
	cm_json_free(img);
	cm_json_free(bare);
}

static void test_user(void **state)
{
	const char *pw = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:44:w:/var/www:/bin/false\n";
	const char *gr = "root:x:0:\nstaff:x:50:www,other\nweb:x:44:\n";
	struct run_user u;
	struct cm_error e = { 0 };
	assert_int_equal(run_user_resolve("www", pw, gr, &u, &e), 0);
	assert_int_equal(u.uid, 33);
	assert_int_equal(u.gid, 44);
	assert_string_equal(u.home, "/var/www");
	assert_int_equal(u.n_groups, 2);
	assert_int_equal(u.groups[1], 50);
	assert_int_equal(run_user_resolve("1000:staff", pw, gr, &u, &e), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 50);
	assert_string_equal(u.home, "/");
	assert_int_equal(run_user_resolve(NULL, pw, gr, &u, &e), 0);
	assert_int_equal(u.uid, 0);
	assert_string_equal(u.home, "/root");
	assert_int_equal(run_user_resolve("nobody", pw, gr, &u, &e), -ENOENT);
	assert_int_equal(run_user_resolve("www:nogroup", pw, gr, &u, &e), -ENOENT);
}

/* a config read from runner.json's text */
static struct run_config *from_text(const char *text)
{
	struct cm_error e = { 0 };
	_cleanup_json_ struct cm_json *j = NULL;
	struct run_config *c = NULL;
	assert_int_equal(cm_json_parse(text, strlen(text), &j, NULL, 0), 0);
	assert_int_equal(run_config_from_json(j, &c, &e), 0);
	return c;
}

/* c through runner.json's JSON and back: a new config */
static struct run_config *roundtrip(const struct run_config *c)
{
	struct cm_jw w;
	char *s = NULL;
	size_t len;
	cm_jw_init(&w, 0);
	assert_int_equal(run_config_to_json(c, &w), 0);
	assert_int_equal(cm_jw_finish(&w, &s, &len), 0);
	struct run_config *b = from_text(s);
	free(s);
	return b;
}

/* runner.json keeps the cgroup root; a config older than the field has
 * none (= /sys/fs/cgroup for run_cgroup_open) */
static void test_config_cgroup_root(void **state)
{
	static const char old[] = "{\"Id\":\"" "0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdef\",\"Bundle\":\"/b\","
				  "\"Rootfs\":\"/r\",\"Args\":[\"sh\"],\"PidsLimit\":77}";
	struct run_config *c = from_text(old);
	assert_null(c->cgroup_root);
	assert_int_equal(c->lim.pids, 77);
	c->cgroup_root = strdup("/sys/fs/cgroup/unified");
	struct run_config *b = roundtrip(c);
	run_config_free(c);
	assert_string_equal(b->cgroup_root, "/sys/fs/cgroup/unified");
	run_config_free(b);
}

/* --cgroupns: kept when set; absent (an older config) docker's default,
 * decided at use by the version of the cgroup root */
static void test_config_cgroupns(void **state)
{
	static const char old[] = "{\"Id\":\"" "0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdef\",\"Bundle\":\"/b\","
				  "\"Rootfs\":\"/r\",\"Args\":[\"sh\"],\"CgroupRoot\":\"/nonexistent\"}";
	struct run_config *c = from_text(old);
	assert_int_equal(c->cgroupns_mode, RUN_CGROUPNS_DEFAULT);
	assert_false(run_cgroupns_private(c)); /* no v2 there: host */
	static const enum run_cgroupns modes[] = { RUN_CGROUPNS_PRIVATE, RUN_CGROUPNS_HOST };
	for (size_t i = 0; i < 2; i++) {
		c->cgroupns_mode = modes[i];
		struct run_config *b = roundtrip(c);
		assert_int_equal(b->cgroupns_mode, modes[i]);
		assert_int_equal(run_cgroupns_private(b), modes[i] == RUN_CGROUPNS_PRIVATE);
		run_config_free(b);
	}
	run_config_free(c);
}

static void test_port(void **state)
{
	struct run_port p;
	char b[64];
	(void)state;
	static const struct { const char *in, *out; } ok[] = {
		{ "80", "0.0.0.0:0->80/tcp" },
		{ "8080:80", "0.0.0.0:8080->80/tcp" },
		{ "127.0.0.1:18080:80", "127.0.0.1:18080->80/tcp" },
		{ "127.0.0.1::80/tcp", "127.0.0.1:0->80/tcp" },
		{ "53:53/udp", "0.0.0.0:53->53/udp" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(run_parse_port(ok[i].in, &p, NULL), 0);
		run_port_format(&p, b, sizeof(b));
		assert_string_equal(b, ok[i].out);
	}
	static const char *const bad[] = { "", "0", "65536", "x", "80/sctp", ":80", "8080:",
					   "1.2.3:1:80", "256.0.0.1:1:80", "a:b:c:d", "80:0",
					   "::80", "1.2.3.4:80", "127.0.0.1:99999:80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(run_parse_port(bad[i], &p, NULL), -EINVAL);
	enum run_netmode m;
	assert_int_equal(run_parse_network("bridge", &m, NULL), 0);
	assert_int_equal(m, RUN_NET_BRIDGE);
	assert_string_equal(run_network_name(RUN_NET_HOST), "host");
	assert_int_equal(run_parse_network("overlay", &m, NULL), -EINVAL);
}

static void test_log_time(void **state)
{
	(void)state;
	int64_t t, now = 1800000000LL * 1000000000LL;
	assert_int_equal(run_time_parse_ns("2026-11-29T10:00:00Z"), 1795946400LL * 1000000000LL);
	assert_int_equal(run_time_parse_ns("2026-11-29T10:00:00.5Z"), 1795946400LL * 1000000000LL + 500000000);
	assert_int_equal(run_time_parse_ns("2026-11-29T10:00:00.123456789Z") % 1000000000, 123456789);
	assert_int_equal(run_time_parse_ns("yesterday"), -1);
	assert_int_equal(run_parse_log_time("10m", now, &t, NULL), 0);
	assert_int_equal(now - t, 600LL * 1000000000);
	assert_int_equal(run_parse_log_time("1h30m", now, &t, NULL), 0);
	assert_int_equal(now - t, 5400LL * 1000000000);
	assert_int_equal(run_parse_log_time("1.5s", now, &t, NULL), 0);
	assert_int_equal(now - t, 1500000000);
	assert_int_equal(run_parse_log_time("1795946400", now, &t, NULL), 0);
	assert_int_equal(t, 1795946400LL * 1000000000LL);
	assert_int_equal(run_parse_log_time("2026-11-29T10:00:00Z", now, &t, NULL), 0);
	assert_int_equal(t, 1795946400LL * 1000000000LL);
	static const char *const bad[] = { "5x", "m", "1h-2m", "2026-13-45Tx" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(run_parse_log_time(bad[i], now, &t, NULL), -EINVAL);
}

static void test_ulimit_tmpfs(void **state)
{
	(void)state;
	struct run_ulimit u;
	assert_int_equal(run_parse_ulimit("nofile=512:1024", &u, NULL), 0);
	assert_int_equal(u.resource, RLIMIT_NOFILE);
	assert_int_equal(u.soft, 512);
	assert_int_equal(u.hard, 1024);
	assert_int_equal(run_parse_ulimit("core=0", &u, NULL), 0);
	assert_int_equal(u.soft, 0);
	assert_int_equal(u.hard, 0);
	assert_int_equal(run_parse_ulimit("memlock=-1:unlimited", &u, NULL), 0);
	assert_int_equal(u.soft, -1);
	assert_int_equal(u.hard, -1);
	assert_string_equal(run_ulimit_name(RLIMIT_NPROC), "nproc");
	static const char *const badu[] = { "nofile", "nope=1", "nofile=x", "nofile=5:2", "nofile=-1:5", "nofile=" };
	for (size_t i = 0; i < sizeof(badu) / sizeof(badu[0]); i++)
		assert_int_equal(run_parse_ulimit(badu[i], &u, NULL), -EINVAL);

	unsigned long fl;
	char data[128];
	assert_int_equal(run_tmpfs_options(NULL, &fl, data, sizeof(data)), 0);
	assert_int_equal(fl, MS_NOEXEC | MS_NOSUID | MS_NODEV);
	assert_string_equal(data, "");
	assert_int_equal(run_tmpfs_options("exec,ro,size=1m,mode=700", &fl, data, sizeof(data)), 0);
	assert_int_equal(fl, MS_RDONLY | MS_NOSUID | MS_NODEV);
	assert_string_equal(data, "size=1m,mode=700");
	assert_int_equal(run_tmpfs_options("size=1m,x", &fl, data, sizeof(data)), -EINVAL);
	assert_int_equal(run_tmpfs_options("mode=7,00", &fl, data, sizeof(data)), -EINVAL);
	assert_int_equal(run_tmpfs_options("uid=0;rm", &fl, data, sizeof(data)), -EINVAL);
	assert_int_equal(run_parse_tmpfs("/run", NULL), 0);
	assert_int_equal(run_parse_tmpfs("run", NULL), -EINVAL);
	assert_int_equal(run_parse_tmpfs(":size=1m", NULL), -EINVAL);
}

static void test_caps(void **state)
{
	(void)state;
	uint64_t m;
	assert_int_equal(run_caps_default(), 0xa80405fbULL); /* docker's minus NET_RAW */
	assert_int_equal(run_parse_cap("NET_ADMIN", &m, NULL), 0);
	assert_int_equal(m, 1ULL << 12);
	assert_int_equal(run_parse_cap("cap_chown", &m, NULL), 0);
	assert_int_equal(m, 1ULL);
	assert_int_equal(run_parse_cap("all", &m, NULL), 0);
	assert_int_equal(m, RUN_CAP_ALL);
	assert_int_equal(run_parse_cap("CHECKPOINT_RESTORE", &m, NULL), 0);
	assert_int_equal(m, 1ULL << 40);
	assert_int_equal(run_parse_cap("NOPE", &m, NULL), -EINVAL);
	struct run_config c = { .cap_add = 1ULL << 12, .cap_drop = 1ULL };
	assert_int_equal(run_caps_effective(&c), 0xa80415faULL);
	c.cap_drop = RUN_CAP_ALL;
	c.cap_add = 1ULL << 5;
	assert_int_equal(run_caps_effective(&c), 1ULL << 5);
	assert_string_equal(run_cap_name(21), "SYS_ADMIN");
}

/* --env-file, as docker/cli opts/file.go reads it */
static void envv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int env_file(const char *text, size_t len, char ***env, size_t *n, struct cm_error *e)
{
	char path[] = "/tmp/test-envfile.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	*env = NULL;
	*n = 0;
	int r = run_env_file_read(path, env, n, e);
	unlink(path);
	return r;
}

static void test_env_file(void **state)
{
	(void)state;
	char **env;
	size_t n;
	struct cm_error e = { 0 };
	static const char good[] = "\xef\xbb\xbf" "A=1\n"
				   "  \t B=two words  \r\n"
				   "# a comment\n"
				   "\n"
				   "   \n"
				   "C=\n"
				   "D==x=\n"
				   "  BARE  \n"
				   "E=\xc3\xa9t\xc3\xa9";
	assert_int_equal(env_file(good, sizeof(good) - 1, &env, &n, &e), 0);
	assert_int_equal(n, 6);
	assert_string_equal(env[0], "A=1"); /* the BOM dropped */
	assert_string_equal(env[1], "B=two words  "); /* the value untrimmed */
	assert_string_equal(env[2], "C=");
	assert_string_equal(env[3], "D==x=");
	assert_string_equal(env[4], "BARE"); /* for -e's rule: the caller's value or nothing */
	assert_string_equal(env[5], "E=\xc3\xa9t\xc3\xa9");
	envv_free(env);

	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "A=1\nMY VAR=x\n", "variable 'MY VAR' contains whitespaces" },
		{ "A\tB\n", "variable 'A\tB' contains whitespaces" },
		{ "=x\n", "no variable name on line '=x'" },
		{ "A=1\nB=\xff\n", "contains invalid utf8 bytes at line 2" },
		{ "A=\xc0\xaf\n", "invalid utf8 bytes at line 1" },    /* overlong '/' */
		{ "A=\xed\xa0\x80\n", "invalid utf8 bytes at line 1" }, /* a surrogate */
		{ "A=\xe2\x82\n", "invalid utf8 bytes at line 1" },     /* cut short */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cm_error be = { 0 };
		assert_int_equal(env_file(bad[i].text, strlen(bad[i].text), &env, &n, &be), -EINVAL);
		if (!strstr(be.msg, bad[i].msg))
			fail_msg("%s: got '%s'", bad[i].msg, be.msg);
		envv_free(env);
	}
	struct cm_error me = { 0 };
	assert_true(run_env_file_read("/nonexistent/env", &env, &n, &me) == -ENOENT);
	assert_non_null(strstr(me.msg, "/nonexistent/env"));
}

static void test_restart(void **state)
{
	(void)state;
	enum run_restart r;
	int max;
	assert_int_equal(run_parse_restart("no", &r, &max, NULL), 0);
	assert_int_equal(r, RUN_RESTART_NO);
	assert_int_equal(run_parse_restart("always", &r, &max, NULL), 0);
	assert_int_equal(r, RUN_RESTART_ALWAYS);
	assert_int_equal(run_parse_restart("unless-stopped", &r, &max, NULL), 0);
	assert_int_equal(r, RUN_RESTART_UNLESS_STOPPED);
	assert_int_equal(run_parse_restart("on-failure", &r, &max, NULL), 0);
	assert_int_equal(r, RUN_RESTART_ON_FAILURE);
	assert_int_equal(max, 0);
	assert_int_equal(run_parse_restart("on-failure:5", &r, &max, NULL), 0);
	assert_int_equal(max, 5);
	assert_string_equal(run_restart_name(RUN_RESTART_ON_FAILURE), "on-failure");
	static const char *const bad[] = { "", "sometimes", "always:3", "on-failure:", "on-failure:x",
					   "on-failure:-1", "no:1", "on-failure:5x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(run_parse_restart(bad[i], &r, &max, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),  cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_volume),
		cmocka_unit_test(test_mount), cmocka_unit_test(test_signal),
		cmocka_unit_test(test_merge),  cmocka_unit_test(test_user),
		cmocka_unit_test(test_config_cgroup_root),
		cmocka_unit_test(test_config_cgroupns),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_env_file),
		cmocka_unit_test(test_log_time),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_ulimit_tmpfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
