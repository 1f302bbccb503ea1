// SPDX-License-Identifier: MIT
/* img-runtime: img's runner as an OCI runtime with runc's command line, for
 * the engines that take one (containerd's runc shim --runc-binary, podman
 * --runtime, conmon). A thin main over librunner's run_oci_* (oci.c): the
 * container runs with the code of `img run`. See docs/runner.md. */
#include "run.h"
#include "cm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VERSION "0.1"
#define DEFAULT_ROOT "/run/img-runtime"

static const char *log_path;
static bool log_json;

static void fail_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_msg(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "img-runtime: %s\n", msg);
	if (!log_path)
		return;
	FILE *f = fopen(log_path, "ae");
	if (!f)
		return;
	char t[64];
	time_t now = time(NULL);
	struct tm tm;
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	if (log_json) {
		/* the line containerd's shim and conmon read back for the error */
		struct cm_jw w;
		char *s = NULL;
		cm_jw_init(&w, 0);
		cm_jw_obj(&w);
		cm_jw_kstr(&w, "level", "error");
		cm_jw_kstr(&w, "msg", msg);
		cm_jw_kstr(&w, "time", t);
		cm_jw_obj_end(&w);
		if (cm_jw_finish(&w, &s, NULL) == 0)
			fprintf(f, "%s\n", s);
		free(s);
	} else {
		fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", t, msg);
	}
	fclose(f);
}

static int fail_err(const char *verb, const struct cm_error *e)
{
	fail_msg("%s: %s", verb, e->msg[0] ? e->msg : strerror(-e->code));
	return 1;
}

/* runc's flags: -x, --x, -x=V, --x=V, or the value as the next argument. */
struct opts {
	char **argv;
	int argc, i;
	const char *val;
};

/* Whether argv[i] is option name (or alias) taking a value (with_val): on
 * a match o->val is the value and o->i is past it. */
static bool opt(struct opts *o, const char *name, const char *alias, bool with_val)
{
	const char *a = o->argv[o->i];
	if (a[0] != '-')
		return false;
	a += a[1] == '-' ? 2 : 1;
	size_t nl = strcspn(a, "=");
	bool m = (strlen(name) == nl && !strncmp(a, name, nl)) ||
		 (alias && strlen(alias) == nl && !strncmp(a, alias, nl));
	if (!m)
		return false;
	if (!with_val) {
		o->val = a[nl] == '=' ? a + nl + 1 : "true";
		o->i++;
		return true;
	}
	if (a[nl] == '=') {
		o->val = a + nl + 1;
		o->i++;
		return true;
	}
	if (o->i + 1 >= o->argc) {
		fail_msg("option --%s needs a value", name);
		exit(1);
	}
	o->val = o->argv[o->i + 1];
	o->i += 2;
	return true;
}

static bool is_true(const char *v)
{
	return !strcmp(v, "true") || !strcmp(v, "1");
}

static void unknown(struct opts *o, const char *verb)
{
	fail_msg("%s: unknown option %s", verb, o->argv[o->i]);
	exit(1);
}

static const char *need_id(struct opts *o, const char *verb)
{
	if (o->i >= o->argc) {
		fail_msg("%s: a container id is required", verb);
		exit(1);
	}
	return o->argv[o->i++];
}

static int print_state(const char *root, const char *id)
{
	struct cm_error e = { 0 };
	struct cm_jw w;
	char *s = NULL;
	cm_jw_init(&w, 2);
	if (run_oci_state(root, id, &w, &e) < 0) {
		cm_jw_free(&w);
		return fail_err("state", &e);
	}
	if (cm_jw_finish(&w, &s, NULL) < 0)
		return 1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static int cmd_create_run(const char *root, struct opts *o, bool run)
{
	struct run_oci_create c = { .root = root };
	bool detach = false;
	const char *verb = run ? "run" : "create";
	while (o->i < o->argc && o->argv[o->i][0] == '-') {
		if (opt(o, "bundle", "b", true))
			c.bundle = o->val;
		else if (opt(o, "pid-file", NULL, true))
			c.pid_file = o->val;
		else if (opt(o, "console-socket", NULL, true))
			c.console_socket = o->val;
		else if (opt(o, "preserve-fds", NULL, true)) {
			if (atoi(o->val) != 0) {
				fail_msg("%s: --preserve-fds is not supported", verb);
				return 1;
			}
		} else if (opt(o, "no-pivot", NULL, false) || opt(o, "no-new-keyring", NULL, false) ||
			   opt(o, "keep", NULL, false))
			; /* pivot_root always (a ramfs root is not supported); no keyring of ours */
		else if (run && opt(o, "detach", "d", false))
			detach = is_true(o->val);
		else
			unknown(o, verb);
	}
	c.id = need_id(o, verb);
	struct cm_error e = { 0 };
	pid_t pid;
	if (run_oci_create(&c, &pid, &e) < 0)
		return fail_err(verb, &e);
	if (!run)
		return 0;
	if (run_oci_start(root, c.id, &e) < 0) {
		(void)run_oci_delete(root, c.id, true, NULL);
		return fail_err(verb, &e);
	}
	if (detach)
		return 0;
	/* foreground: our child's exit, then the container removed */
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (run_oci_delete(root, c.id, true, &e) < 0)
		fail_err(verb, &e);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmd_exec(const char *root, struct opts *o)
{
	struct run_oci_exec x = { 0 };
	char **env = calloc((size_t)o->argc + 1, sizeof(char *));
	size_t n_env = 0;
	if (!env)
		return 1;
	while (o->i < o->argc && o->argv[o->i][0] == '-') {
		if (opt(o, "process", "p", true))
			x.process = o->val;
		else if (opt(o, "detach", "d", false))
			x.detach = is_true(o->val);
		else if (opt(o, "pid-file", NULL, true))
			x.pid_file = o->val;
		else if (opt(o, "console-socket", NULL, true))
			x.console_socket = o->val;
		else if (opt(o, "tty", "t", false))
			x.tty = is_true(o->val);
		else if (opt(o, "cwd", NULL, true))
			x.cwd = o->val;
		else if (opt(o, "env", "e", true))
			env[n_env++] = (char *)o->val;
		else if (opt(o, "user", "u", true))
			x.user = o->val;
		else if (opt(o, "preserve-fds", NULL, true) || opt(o, "process-label", NULL, true) ||
			 opt(o, "apparmor", NULL, true) || opt(o, "cap", "c", true))
			; /* accepted, without effect here */
		else if (opt(o, "no-new-privs", NULL, false))
			;
		else
			unknown(o, "exec");
	}
	const char *id = need_id(o, "exec");
	if (o->i < o->argc && !strcmp(o->argv[o->i], "--"))
		o->i++;
	x.args = o->argv + o->i;
	x.env = env;
	int code = 0;
	struct cm_error e = { 0 };
	int r = run_oci_exec(root, id, &x, &code, &e);
	free(env);
	if (r < 0)
		return fail_err("exec", &e);
	return code;
}

static int cmd_ps(const char *root, struct opts *o)
{
	bool json = false;
	while (o->i < o->argc && o->argv[o->i][0] == '-') {
		if (opt(o, "format", "f", true))
			json = !strcmp(o->val, "json");
		else
			unknown(o, "ps");
	}
	const char *id = need_id(o, "ps");
	pid_t *pids = NULL;
	size_t n = 0;
	struct cm_error e = { 0 };
	if (run_oci_ps(root, id, &pids, &n, &e) < 0)
		return fail_err("ps", &e);
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
	} else {
		printf("%-8s %s\n", "PID", "CMD");
		for (size_t i = 0; i < n; i++) {
			char p[64], comm[64] = "?";
			snprintf(p, sizeof(p), "/proc/%d/comm", (int)pids[i]);
			FILE *f = fopen(p, "re");
			if (f) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			printf("%-8d %s\n", (int)pids[i], comm);
		}
	}
	free(pids);
	return 0;
}

static void strs(struct cm_jw *w, const char *key, const char *const *v)
{
	cm_jw_key(w, key);
	cm_jw_arr(w);
	for (; *v; v++)
		cm_jw_str(w, *v);
	cm_jw_arr_end(w);
}

static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "user", "uts", NULL };

static int cmd_features(void)
{
	static const char *const hooks[] = { "prestart", "createRuntime", "createContainer",
					     "startContainer", "poststart", "poststop", NULL };
	static const char *const mopts[] = { "bind", "rbind", "ro", "rw", "nosuid", "suid", "nodev",
					     "dev", "noexec", "exec", NULL };
	static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
					       "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
					       "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", NULL };
	static const char *const ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
					   "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
	static const char *const archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
					     "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
	struct cm_jw w;
	char *s = NULL;
	cm_jw_init(&w, 2);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "ociVersionMin", "1.0.0");
	cm_jw_kstr(&w, "ociVersionMax", "1.1.0");
	strs(&w, "hooks", hooks);
	strs(&w, "mountOptions", mopts);
	cm_jw_key(&w, "linux");
	cm_jw_obj(&w);
	strs(&w, "namespaces", namespaces);
	cm_jw_key(&w, "capabilities");
	cm_jw_arr(&w);
	for (int c = 0; c < 41; c++) {
		char n[64];
		snprintf(n, sizeof(n), "CAP_%s", run_cap_name(c));
		cm_jw_str(&w, n);
	}
	cm_jw_arr_end(&w);
	cm_jw_key(&w, "cgroup");
	cm_jw_obj(&w);
	cm_jw_key(&w, "v1");
	cm_jw_bool(&w, true);
	cm_jw_key(&w, "v2");
	cm_jw_bool(&w, true);
	cm_jw_key(&w, "systemd");
	cm_jw_bool(&w, false);
	cm_jw_key(&w, "systemdUser");
	cm_jw_bool(&w, false);
	cm_jw_obj_end(&w);
	cm_jw_key(&w, "seccomp");
	cm_jw_obj(&w);
	cm_jw_key(&w, "enabled");
	cm_jw_bool(&w, true);
	strs(&w, "actions", actions);
	strs(&w, "operators", ops);
	strs(&w, "archs", archs);
	cm_jw_obj_end(&w);
	cm_jw_key(&w, "apparmor");
	cm_jw_obj(&w);
	cm_jw_key(&w, "enabled");
	cm_jw_bool(&w, false);
	cm_jw_obj_end(&w);
	cm_jw_key(&w, "selinux");
	cm_jw_obj(&w);
	cm_jw_key(&w, "enabled");
	cm_jw_bool(&w, false);
	cm_jw_obj_end(&w);
	cm_jw_obj_end(&w);
	cm_jw_obj_end(&w);
	if (cm_jw_finish(&w, &s, NULL) < 0)
		return 1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static void mount_obj(struct cm_jw *w, const char *dest, const char *type, const char *src,
		      const char *const *opts)
{
	cm_jw_obj(w);
	cm_jw_kstr(w, "destination", dest);
	cm_jw_kstr(w, "type", type);
	cm_jw_kstr(w, "source", src);
	strs(w, "options", opts);
	cm_jw_obj_end(w);
}

/* runc spec's default: sh on a terminal, rootfs/ read-only, few caps. */
static int cmd_spec(struct opts *o)
{
	const char *bundle = ".";
	while (o->i < o->argc && o->argv[o->i][0] == '-') {
		if (opt(o, "bundle", "b", true))
			bundle = o->val;
		else if (opt(o, "rootless", NULL, false)) {
			fail_msg("spec: --rootless is not supported");
			return 1;
		} else
			unknown(o, "spec");
	}
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
	static const char *const env[] = { "PATH=" RUN_DEFAULT_PATH, "TERM=xterm", NULL };
	static const char *const args[] = { "sh", NULL };
	static const char *const o_proc[] = { NULL };
	static const char *const o_dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
	static const char *const o_pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
					     "mode=0620", "gid=5", NULL };
	static const char *const o_shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
	static const char *const o_mq[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *const o_sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const o_cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
	static const char *const masked[] = { "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
					      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
					      "/proc/sched_debug", "/sys/firmware", "/proc/scsi", NULL };
	static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					  "/proc/sysrq-trigger", NULL };
	struct cm_jw w;
	char *s = NULL;
	cm_jw_init(&w, 2);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "ociVersion", "1.0.2");
	cm_jw_key(&w, "process");
	cm_jw_obj(&w);
	cm_jw_key(&w, "terminal");
	cm_jw_bool(&w, true);
	cm_jw_key(&w, "user");
	cm_jw_obj(&w);
	cm_jw_kint(&w, "uid", 0);
	cm_jw_kint(&w, "gid", 0);
	cm_jw_obj_end(&w);
	strs(&w, "args", args);
	strs(&w, "env", env);
	cm_jw_kstr(&w, "cwd", "/");
	cm_jw_key(&w, "capabilities");
	cm_jw_obj(&w);
	strs(&w, "bounding", caps);
	strs(&w, "effective", caps);
	strs(&w, "permitted", caps);
	strs(&w, "ambient", caps);
	cm_jw_obj_end(&w);
	cm_jw_key(&w, "rlimits");
	cm_jw_arr(&w);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "type", "RLIMIT_NOFILE");
	cm_jw_kint(&w, "hard", 1024);
	cm_jw_kint(&w, "soft", 1024);
	cm_jw_obj_end(&w);
	cm_jw_arr_end(&w);
	cm_jw_key(&w, "noNewPrivileges");
	cm_jw_bool(&w, true);
	cm_jw_obj_end(&w);
	cm_jw_key(&w, "root");
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "path", "rootfs");
	cm_jw_key(&w, "readonly");
	cm_jw_bool(&w, true);
	cm_jw_obj_end(&w);
	cm_jw_kstr(&w, "hostname", "img-runtime");
	cm_jw_key(&w, "mounts");
	cm_jw_arr(&w);
	mount_obj(&w, "/proc", "proc", "proc", o_proc);
	mount_obj(&w, "/dev", "tmpfs", "tmpfs", o_dev);
	mount_obj(&w, "/dev/pts", "devpts", "devpts", o_pts);
	mount_obj(&w, "/dev/shm", "tmpfs", "shm", o_shm);
	mount_obj(&w, "/dev/mqueue", "mqueue", "mqueue", o_mq);
	mount_obj(&w, "/sys", "sysfs", "sysfs", o_sys);
	mount_obj(&w, "/sys/fs/cgroup", "cgroup", "cgroup", o_cg);
	cm_jw_arr_end(&w);
	cm_jw_key(&w, "linux");
	cm_jw_obj(&w);
	cm_jw_key(&w, "resources");
	cm_jw_obj(&w);
	cm_jw_key(&w, "devices");
	cm_jw_arr(&w);
	cm_jw_obj(&w);
	cm_jw_key(&w, "allow");
	cm_jw_bool(&w, false);
	cm_jw_kstr(&w, "access", "rwm");
	cm_jw_obj_end(&w);
	cm_jw_arr_end(&w);
	cm_jw_obj_end(&w);
	cm_jw_key(&w, "namespaces");
	cm_jw_arr(&w);
	for (size_t i = 0; namespaces[i]; i++) {
		if (!strcmp(namespaces[i], "user"))
			continue;
		cm_jw_obj(&w);
		cm_jw_kstr(&w, "type", namespaces[i]);
		cm_jw_obj_end(&w);
	}
	cm_jw_arr_end(&w);
	strs(&w, "maskedPaths", masked);
	strs(&w, "readonlyPaths", ro);
	cm_jw_obj_end(&w);
	cm_jw_obj_end(&w);
	if (cm_jw_finish(&w, &s, NULL) < 0)
		return 1;
	char path[4096];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fail_msg("spec: %s: %s", path, errno == EEXIST ? "File exists" : strerror(errno));
		free(s);
		return 1;
	}
	size_t len = strlen(s);
	s[len] = '\n';
	bool ok = write(fd, s, len + 1) == (ssize_t)(len + 1);
	free(s);
	if (close(fd) < 0 || !ok) {
		fail_msg("spec: writing %s failed", path);
		return 1;
	}
	return 0;
}

/* update: --resources FILE ("-": stdin), a linux.resources object, or
 * runc's flags, which make one */
static int cmd_update(const char *root, struct opts *o)
{
	static const struct { const char *flag, *obj, *key; bool bytes; } flags[] = {
		{ "memory", "memory", "limit", true }, { "memory-swap", "memory", "swap", true },
		{ "memory-reservation", "memory", "reservation", true },
		{ "cpu-shares", "cpu", "shares", false }, { "cpu-quota", "cpu", "quota", false },
		{ "cpu-period", "cpu", "period", false }, { "pids-limit", "pids", "limit", false },
		{ "blkio-weight", "blockIO", "weight", false },
	};
	int64_t vals[CM_ARRAY_SIZE(flags)];
	bool set[CM_ARRAY_SIZE(flags)] = { false };
	const char *file = NULL, *cpus = NULL;
	struct cm_error e = { 0 };
	while (o->i < o->argc && o->argv[o->i][0] == '-') {
		size_t k;
		if (opt(o, "resources", "r", true)) {
			file = o->val;
			continue;
		}
		if (opt(o, "cpuset-cpus", NULL, true)) {
			cpus = o->val;
			continue;
		}
		for (k = 0; k < CM_ARRAY_SIZE(flags); k++)
			if (opt(o, flags[k].flag, NULL, true))
				break;
		if (k == CM_ARRAY_SIZE(flags))
			unknown(o, "update");
		char *end = NULL;
		if (flags[k].bytes && !strcmp(o->val, "-1"))
			vals[k] = -1;
		else if (flags[k].bytes ? run_parse_bytes(o->val, &vals[k], &e) < 0 :
			 (errno = 0, vals[k] = strtoll(o->val, &end, 10), errno || !*o->val || *end)) {
			fail_msg("update: --%s '%s' is not a number", flags[k].flag, o->val);
			return 1;
		}
		set[k] = true;
	}
	const char *id = need_id(o, "update");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (file) {
		/* the whole file: a JSON text has no NUL */
		FILE *f = !strcmp(file, "-") ? stdin : fopen(file, "re");
		size_t cap = 0;
		ssize_t n = f ? getdelim(&text, &cap, '\0', f) : -1;
		int saved = errno;
		if (f && f != stdin)
			fclose(f);
		if (n < 0) {
			fail_msg("update: reading --resources %s: %s", file, f ? "empty or unreadable" : strerror(saved));
			return 1;
		}
		len = (size_t)n;
	} else {
		struct cm_jw w;
		cm_jw_init(&w, 0);
		cm_jw_obj(&w);
		static const char *const objs[] = { "memory", "cpu", "pids", "blockIO" };
		for (size_t q = 0; q < CM_ARRAY_SIZE(objs); q++) {
			cm_jw_key(&w, objs[q]);
			cm_jw_obj(&w);
			for (size_t k = 0; k < CM_ARRAY_SIZE(flags); k++)
				if (set[k] && !strcmp(flags[k].obj, objs[q]))
					cm_jw_kint(&w, flags[k].key, vals[k]);
			if (q == 1 && cpus)
				cm_jw_kstr(&w, "cpus", cpus);
			cm_jw_obj_end(&w);
		}
		cm_jw_obj_end(&w);
		if (cm_jw_finish(&w, &text, &len) < 0)
			return 1;
	}
	_cleanup_json_ struct cm_json *res = NULL;
	char eb[128] = "";
	if (cm_json_parse(text, len, &res, eb, sizeof(eb)) < 0) {
		fail_msg("update: --resources %s: %s", file ? file : "", eb);
		return 1;
	}
	return run_oci_update(root, id, res, &e) < 0 ? fail_err("update", &e) : 0;
}

/* events: --stats prints one stats event; else one every --interval
 * (5s) until the container stops */
static int cmd_events(const char *root, struct opts *o)
{
	bool once = false;
	long interval = 5;
	while (o->i < o->argc && o->argv[o->i][0] == '-') {
		if (opt(o, "stats", NULL, false))
			once = is_true(o->val);
		else if (opt(o, "interval", NULL, true)) {
			char *end = NULL;
			interval = strtol(o->val, &end, 10);
			if (interval <= 0 || (*end && strcmp(end, "s"))) {
				fail_msg("events: --interval '%s' is not a number of seconds", o->val);
				return 1;
			}
		} else
			unknown(o, "events");
	}
	const char *id = need_id(o, "events");
	for (int n = 0;; n++) {
		struct cm_error e = { 0 };
		struct cm_jw w;
		char *s = NULL;
		cm_jw_init(&w, 0);
		if (run_oci_stats(root, id, &w, &e) < 0) {
			cm_jw_free(&w);
			/* a stream ends with its container */
			return n && !once ? 0 : fail_err("events", &e);
		}
		if (cm_jw_finish(&w, &s, NULL) < 0)
			return 1;
		printf("%s\n", s);
		fflush(stdout);
		free(s);
		if (once)
			return 0;
		sleep((unsigned)interval);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: img-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTIONS] ID\n"
		"commands (runc's): create start state kill delete run exec ps pause resume update events\n"
		"features spec\n");
}

int main(int argc, char **argv)
{
	struct opts o = { .argv = argv, .argc = argc, .i = 1 };
	const char *root = DEFAULT_ROOT;
	/* the engines leave the container's process to us without SIGPIPE */
	while (o.i < argc && argv[o.i][0] == '-') {
		if (opt(&o, "root", NULL, true))
			root = o.val;
		else if (opt(&o, "log", NULL, true))
			log_path = o.val;
		else if (opt(&o, "log-format", NULL, true)) {
			if (strcmp(o.val, "json") && strcmp(o.val, "text")) {
				fail_msg("--log-format: '%s' is not text or json", o.val);
				return 1;
			}
			log_json = !strcmp(o.val, "json");
		} else if (opt(&o, "systemd-cgroup", NULL, false)) {
			if (is_true(o.val)) {
				fail_msg("--systemd-cgroup: the systemd cgroup driver is not supported; "
					 "use cgroupfs (a cgroupsPath of the form /parent/name)");
				return 1;
			}
		} else if (opt(&o, "debug", NULL, false) || opt(&o, "rootless", NULL, true) ||
			   opt(&o, "criu", NULL, true))
			;
		else if (opt(&o, "version", "v", false)) {
			printf("img-runtime version %s\nspec: 1.0.2\n", VERSION);
			return 0;
		} else if (opt(&o, "help", "h", false)) {
			usage(stdout);
			return 0;
		} else {
			fail_msg("unknown global option %s", argv[o.i]);
			return 1;
		}
	}
	if (o.i >= argc) {
		usage(stderr);
		return 1;
	}
	const char *verb = argv[o.i++];
	struct cm_error e = { 0 };
	if (!strcmp(verb, "create"))
		return cmd_create_run(root, &o, false);
	if (!strcmp(verb, "run"))
		return cmd_create_run(root, &o, true);
	if (!strcmp(verb, "exec"))
		return cmd_exec(root, &o);
	if (!strcmp(verb, "ps"))
		return cmd_ps(root, &o);
	if (!strcmp(verb, "features"))
		return cmd_features();
	if (!strcmp(verb, "spec"))
		return cmd_spec(&o);
	if (!strcmp(verb, "version")) {
		printf("img-runtime version %s\nspec: 1.0.2\n", VERSION);
		return 0;
	}
	if (!strcmp(verb, "start") || !strcmp(verb, "state")) {
		const char *id = need_id(&o, verb);
		if (!strcmp(verb, "state"))
			return print_state(root, id);
		return run_oci_start(root, id, &e) < 0 ? fail_err(verb, &e) : 0;
	}
	if (!strcmp(verb, "kill")) {
		bool all = false;
		while (o.i < argc && argv[o.i][0] == '-')
			if (opt(&o, "all", "a", false))
				all = is_true(o.val);
			else
				unknown(&o, verb);
		const char *id = need_id(&o, verb);
		int sig = SIGTERM;
		if (o.i < argc && run_parse_signal(argv[o.i], &sig, &e) < 0)
			return fail_err(verb, &e);
		return run_oci_kill(root, id, sig, all, &e) < 0 ? fail_err(verb, &e) : 0;
	}
	if (!strcmp(verb, "delete")) {
		bool force = false;
		while (o.i < argc && argv[o.i][0] == '-')
			if (opt(&o, "force", "f", false))
				force = is_true(o.val);
			else
				unknown(&o, verb);
		const char *id = need_id(&o, verb);
		return run_oci_delete(root, id, force, &e) < 0 ? fail_err(verb, &e) : 0;
	}
	if (!strcmp(verb, "pause") || !strcmp(verb, "resume")) {
		const char *id = need_id(&o, verb);
		return run_oci_pause(root, id, !strcmp(verb, "pause"), &e) < 0 ? fail_err(verb, &e) : 0;
	}
	if (!strcmp(verb, "update"))
		return cmd_update(root, &o);
	if (!strcmp(verb, "events"))
		return cmd_events(root, &o);
	fail_msg("%s: command not supported (checkpoint, restore are not)", verb);
	return 1;
}
