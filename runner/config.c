// SPDX-License-Identifier: MIT
/* The container's configuration: command-line value parsers, the merge of the
 * image config with the command line (docker's rules), users from passwd
 * text, and config.json. Pure functions except run_env_file_read. */
#include "run-internal.h"
#include "cm-text.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/mount.h>

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void run_config_free(struct run_config *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->image);
	free(c->image_id);
	free(c->bundle);
	free(c->rootfs);
	strv_free(c->layers);
	strv_free(c->argv);
	strv_free(c->env);
	strv_free(c->labels);
	strv_free(c->extra_hosts);
	strv_free(c->networks);
	free(c->detach_keys);
	strv_free(c->dns);
	strv_free(c->dns_search);
	strv_free(c->dns_options);
	strv_free(c->tmpfs);
	strv_free(c->security_opt);
	free(c->seccomp);
	free(c->ulimits);
	for (size_t i = 0; i < c->n_devices; i++) {
		free(c->devices[i].host);
		free(c->devices[i].ctr);
	}
	free(c->devices);
	free(c->cwd);
	free(c->user);
	free(c->hostname);
	for (size_t i = 0; i < c->n_vols; i++)
		run_volume_clear(&c->vols[i]);
	free(c->vols);
	for (char **p = c->sysctls; p && *p; p++)
		free(*p);
	free(c->sysctls);
	for (char **p = c->group_add; p && *p; p++)
		free(*p);
	free(c->group_add);
	free(c->cidfile);
	free(c->init_path);
	free(c->log_driver);
	free(c->net_container);
	free(c->net_container_bundle);
	for (char **p = c->health.test; p && *p; p++)
		free(*p);
	free(c->health.test);
	free(c->ports);
	free(c->init_dir);
	free(c->cgroup_parent);
	free(c->cgroup_root);
	for (size_t i = 0; i < CM_ARRAY_SIZE(c->ns_path); i++)
		free(c->ns_path[i]);
	free(c->uid_map);
	free(c->gid_map);
	free(c->add_gids);
	strv_free(c->masked);
	strv_free(c->readonly_paths);
	free(c->cgroup_name);
	free(c->exec_fifo);
	run_hooks_free(c->start_hooks, c->n_start_hooks);
	free(c);
}

void run_hooks_free(struct run_hook *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].path);
		strv_free(h[i].args);
		strv_free(h[i].env);
	}
	free(h);
}

void run_config_freep(struct run_config **c)
{
	run_config_free(*c);
}

/* ------------------------------------------------------------ parsers */

int run_parse_bytes(const char *s, int64_t *ret, struct cm_error *err)
{
	char *end;
	errno = 0;
	if (!s || !isdigit((unsigned char)*s))
		return cm_error_set(err, -EINVAL, "invalid size '%s'", s ? s : "");
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return cm_error_set(err, -EINVAL, "invalid size '%s'", s);
	unsigned shift = 0;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'b': break;
	case 'k': shift = 10; break;
	case 'm': shift = 20; break;
	case 'g': shift = 30; break;
	case 't': shift = 40; break;
	default:
		return cm_error_set(err, -EINVAL, "invalid size '%s'", s);
	}
	if (*end) {
		end++;
		if (shift && (*end == 'b' || *end == 'B'))
			end++;
		if (*end)
			return cm_error_set(err, -EINVAL, "invalid size '%s'", s);
	}
	if (v > ((unsigned long long)INT64_MAX >> shift))
		return cm_error_set(err, -EINVAL, "size '%s' too large", s);
	*ret = (int64_t)(v << shift);
	return 0;
}

int run_parse_cpus(const char *s, int64_t *ret_quota, int64_t *ret_period,
		   struct cm_error *err)
{
	char *end;
	errno = 0;
	double v = s ? strtod(s, &end) : 0;
	if (!s || errno || end == s || *end || !(v > 0) || v > 1024)
		return cm_error_set(err, -EINVAL, "invalid --cpus value '%s'", s ? s : "");
	*ret_period = 100000;
	*ret_quota = (int64_t)(v * 100000.0 + 0.5);
	if (*ret_quota < 1000)
		return cm_error_set(err, -EINVAL, "--cpus '%s' is below the minimum 0.01", s);
	return 0;
}

void run_volume_clear(struct run_volume *v)
{
	free(v->host);
	free(v->ctr);
	free(v->name);
	memset(v, 0, sizeof(*v));
}

/* A container path docker accepts: absolute, not "/". */
static int mount_path_check(const char *kind, const char *spec, const char *ctr, struct cm_error *err)
{
	if (ctr[0] != '/')
		return cm_error_set(err, -EINVAL,
				    "invalid volume specification: '%s': invalid mount config for type \"%s\": invalid mount path: '%s' mount path must be absolute",
				    spec, kind, ctr);
	if (strcmp(ctr, "/") == 0)
		return cm_error_set(err, -EINVAL, "invalid volume specification: '%s': invalid mount config for type \"%s\": invalid specification: destination can't be '/'",
				    spec, kind);
	return 0;
}

int run_parse_volume(const char *s, struct run_volume *ret, struct cm_error *err)
{
	_cleanup_free_ char *copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	char *f[4];
	size_t n = 0;
	for (char *p = copy; n < 4; n++) {
		f[n] = p;
		if (!(p = strchr(p, ':'))) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n == 4 || !*f[0])
		return cm_error_set(err, -EINVAL, "invalid volume specification: '%s'", s);
	struct run_volume v = { 0 };
	const char *host = NULL, *ctr, *mode = NULL;
	if (n == 1) {
		ctr = f[0];
	} else if (n == 2 && f[1][0] != '/' && f[0][0] == '/' &&
		   strspn(f[1], "rwoZznocpyshared,") == strlen(f[1])) {
		ctr = f[0]; /* /ctr:ro: an anonymous volume with a mode */
		mode = f[1];
	} else {
		host = f[0];
		ctr = f[1];
		mode = n == 3 ? f[2] : NULL;
	}
	for (char *save = NULL, *m = mode ? strtok_r((char *)mode, ",", &save) : NULL; m;
	     m = strtok_r(NULL, ",", &save)) {
		if (strcmp(m, "ro") == 0)
			v.ro = true;
		else if (strcmp(m, "nocopy") == 0)
			v.nocopy = true;
		else if (strcmp(m, "rw") != 0 && strcmp(m, "z") != 0 && strcmp(m, "Z") != 0 &&
			 strcmp(m, "private") != 0 && strcmp(m, "rprivate") != 0 &&
			 strcmp(m, "shared") != 0 && strcmp(m, "rshared") != 0 &&
			 strcmp(m, "slave") != 0 && strcmp(m, "rslave") != 0 &&
			 strcmp(m, "consistent") != 0 && strcmp(m, "cached") != 0 &&
			 strcmp(m, "delegated") != 0)
			return cm_error_set(err, -EINVAL, "invalid mode: %s", m);
	}
	bool bind = host && host[0] == '/';
	int r = mount_path_check(bind ? "bind" : "volume", s, ctr, err);
	if (r < 0)
		return r;
	v.volume = !bind;
	v.anon = !host;
	if ((bind && !(v.host = strdup(host))) || (host && !bind && !(v.name = strdup(host))) ||
	    !(v.ctr = strdup(ctr))) {
		run_volume_clear(&v);
		return -ENOMEM;
	}
	*ret = v;
	return 0;
}

int run_parse_sysctl(const char *s, enum run_netmode net, struct cm_error *err)
{
	static const char *const exact[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					     "kernel.sem", "kernel.shmall", "kernel.shmmax",
					     "kernel.shmmni", "kernel.shm_rmid_forced" };
	const char *eq = strchr(s, '=');
	if (!eq || eq == s)
		return cm_error_set(err, -EINVAL, "invalid argument \"%s\" for \"--sysctl\" flag: invalid sysctl: it must be KEY=VALUE", s);
	size_t kl = (size_t)(eq - s);
	for (size_t i = 0; i < kl; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-' && s[i] != '/')
			return cm_error_set(err, -EINVAL, "sysctl '%.*s' is not allowed", (int)kl, s);
	if (strstr(s, "..") && (size_t)(strstr(s, "..") - s) < kl)
		return cm_error_set(err, -EINVAL, "sysctl '%.*s' is not allowed", (int)kl, s);
	for (size_t i = 0; i < CM_ARRAY_SIZE(exact); i++)
		if (strlen(exact[i]) == kl && strncmp(s, exact[i], kl) == 0)
			return 0;
	if (kl > 10 && strncmp(s, "fs.mqueue.", 10) == 0)
		return 0;
	if (kl > 4 && strncmp(s, "net.", 4) == 0) {
		if (net == RUN_NET_HOST)
			return cm_error_set(err, -EINVAL, "sysctl '%.*s' not allowed in host network namespace",
					    (int)kl, s);
		return 0;
	}
	return cm_error_set(err, -EINVAL, "sysctl '%.*s' is not allowed", (int)kl, s);
}

int run_parse_log_driver(struct run_config *c, const char *driver, char *const *opts,
			 struct cm_error *err)
{
	const char *d = driver ? driver : "json-file";
	if (strcmp(d, "json-file") != 0 && strcmp(d, "none") != 0)
		return cm_error_set(err, -EINVAL, "logging driver '%s' is not supported here (json-file, none)", d);
	for (char *const *o = opts; o && *o; o++) {
		const char *eq = strchr(*o, '=');
		size_t kl = eq ? (size_t)(eq - *o) : strlen(*o);
		bool json = strcmp(d, "json-file") == 0;
		if (!eq)
			return cm_error_set(err, -EINVAL, "invalid key value pair format in log opts: %s", *o);
		if (json && kl == 8 && strncmp(*o, "max-size", 8) == 0) {
			if (run_parse_bytes(eq + 1, &c->log_max_size, NULL) < 0 || c->log_max_size <= 0)
				return cm_error_set(err, -EINVAL, "invalid max-size '%s'", eq + 1);
		} else if (json && kl == 8 && strncmp(*o, "max-file", 8) == 0) {
			char *end;
			long n = strtol(eq + 1, &end, 10);
			if (*end || n < 1 || n > 999)
				return cm_error_set(err, -EINVAL, "max-file cannot be less than 1");
			c->log_max_file = (int)n;
		} else if (json && ((kl == 8 && strncmp(*o, "compress", 8) == 0) ||
				    (kl == 6 && strncmp(*o, "labels", 6) == 0) ||
				    (kl == 3 && strncmp(*o, "env", 3) == 0) ||
				    (kl == 3 && strncmp(*o, "tag", 3) == 0))) {
			/* accepted, no effect here */
		} else {
			return cm_error_set(err, -EINVAL, "unknown log opt '%.*s' for %s log driver", (int)kl, *o, d);
		}
	}
	if (c->log_max_file > 1 && !c->log_max_size)
		return cm_error_set(err, -EINVAL, "max-file cannot be set without max-size");
	free(c->log_driver);
	return (c->log_driver = strdup(d)) ? 0 : -ENOMEM;
}

int run_parse_cpuset(const char *s, struct cm_error *err)
{
	const char *p = s;
	if (!*p || strlen(s) >= sizeof(((struct run_limits *)0)->cpuset_cpus))
		goto bad;
	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (end == p || a > 4095)
			goto bad;
		p = end;
		if (*p == '-') {
			b = strtoul(++p, &end, 10);
			if (end == p || b < a || b > 4095)
				goto bad;
			p = end;
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	return 0;
bad:
	return cm_error_set(err, -EINVAL, "Invalid value %s for cpuset cpus", s);
}

static int parse_bool_val(const char *key, const char *val, bool *ret, struct cm_error *err)
{
	if (!val || !strcmp(val, "1") || !strcasecmp(val, "true") || !strcmp(val, "t"))
		*ret = true;
	else if (!strcmp(val, "0") || !strcasecmp(val, "false") || !strcmp(val, "f"))
		*ret = false;
	else
		return cm_error_set(err, -EINVAL, "invalid value for %s: %s", key, val);
	return 0;
}

int run_parse_mount(const char *s, struct run_volume *ret, char **ret_tmpfs, struct cm_error *err)
{
	_cleanup_free_ char *copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	char type[16] = "volume", tsize[32] = "", tmode[16] = "";
	const char *src = NULL, *dst = NULL;
	bool ro = false, nocopy = false, vol_opt = false, bind_opt = false, tmpfs_opt = false;
	int r;
#define MOUNT_ERR(...) cm_error_set(err, -EINVAL, "invalid argument \"%s\" for \"--mount\" flag: " __VA_ARGS__)
	for (char *save = NULL, *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		char *val = strchr(f, '=');
		if (val)
			*val++ = '\0';
		for (char *k = f; *k; k++)
			*k = (char)tolower((unsigned char)*k);
		if (!val && strcmp(f, "readonly") && strcmp(f, "ro") && strcmp(f, "volume-nocopy") &&
		    strcmp(f, "bind-nonrecursive"))
			return MOUNT_ERR("invalid field '%s' must be a key=value pair", s, f);
		if (!strcmp(f, "type")) {
			snprintf(type, sizeof(type), "%s", val);
			for (char *k = type; *k; k++)
				*k = (char)tolower((unsigned char)*k);
		} else if (!strcmp(f, "source") || !strcmp(f, "src")) {
			src = val;
		} else if (!strcmp(f, "target") || !strcmp(f, "dst") || !strcmp(f, "destination")) {
			dst = val;
		} else if (!strcmp(f, "readonly") || !strcmp(f, "ro")) {
			if (parse_bool_val(f, val, &ro, err) < 0)
				return MOUNT_ERR("invalid value for %s: %s", s, f, val);
		} else if (!strcmp(f, "volume-nocopy")) {
			vol_opt = true;
			if (parse_bool_val(f, val, &nocopy, err) < 0)
				return MOUNT_ERR("invalid value for volume-nocopy: %s", s, val);
		} else if (!strcmp(f, "volume-label") || !strcmp(f, "volume-driver") ||
			   !strcmp(f, "volume-opt") || !strcmp(f, "volume-subpath")) {
			vol_opt = true;
		} else if (!strcmp(f, "bind-propagation") || !strcmp(f, "bind-nonrecursive") ||
			   !strcmp(f, "bind-recursive") || !strcmp(f, "bind-create-src")) {
			bind_opt = true;
		} else if (!strcmp(f, "tmpfs-size")) {
			int64_t b;
			tmpfs_opt = true;
			if (run_parse_bytes(val, &b, NULL) < 0)
				return MOUNT_ERR("invalid value for tmpfs-size: %s", s, val);
			snprintf(tsize, sizeof(tsize), "%lld", (long long)b);
		} else if (!strcmp(f, "tmpfs-mode")) {
			char *end;
			tmpfs_opt = true;
			unsigned long m = strtoul(val, &end, 8);
			if (!*val || *end || m > 07777)
				return MOUNT_ERR("invalid value for tmpfs-mode: %s", s, val);
			snprintf(tmode, sizeof(tmode), "%lo", m);
		} else if (!strcmp(f, "consistency")) {
			/* docker for mac's; nothing to do */
		} else {
			return MOUNT_ERR("unexpected key '%s' in '%s'", s, f, f);
		}
	}
	if (!dst || !*dst)
		return MOUNT_ERR("target is required", s);
	if (vol_opt && strcmp(type, "volume"))
		return MOUNT_ERR("cannot mix 'volume-*' options with mount type '%s'", s, type);
	if (bind_opt && strcmp(type, "bind"))
		return MOUNT_ERR("cannot mix 'bind-*' options with mount type '%s'", s, type);
	if (tmpfs_opt && strcmp(type, "tmpfs"))
		return MOUNT_ERR("cannot mix 'tmpfs-*' options with mount type '%s'", s, type);
#undef MOUNT_ERR
	if (strcmp(type, "bind") && strcmp(type, "volume") && strcmp(type, "tmpfs"))
		return cm_error_set(err, -EINVAL, "invalid mount config for type \"%s\": mount type unknown", type);
	if (dst[0] != '/')
		return cm_error_set(err, -EINVAL,
				    "invalid mount config for type \"%s\": invalid mount path: '%s' mount path must be absolute",
				    type, dst);
	if (!strcmp(type, "tmpfs")) {
		if (src && *src)
			return cm_error_set(err, -EINVAL, "invalid mount config for type \"tmpfs\": field Source must not be specified");
		char opts[96] = "";
		size_t o = 0;
		if (ro)
			o += (size_t)snprintf(opts + o, sizeof(opts) - o, ",ro");
		if (tsize[0])
			o += (size_t)snprintf(opts + o, sizeof(opts) - o, ",size=%s", tsize);
		if (tmode[0])
			snprintf(opts + o, sizeof(opts) - o, ",mode=%s", tmode);
		char *t = NULL;
		if (asprintf(&t, "%s%s%s", dst, opts[0] ? ":" : "", opts[0] ? opts + 1 : "") < 0)
			return -ENOMEM;
		if ((r = run_parse_tmpfs(t, err)) < 0) {
			free(t);
			return r;
		}
		*ret_tmpfs = t;
		return 1;
	}
	struct run_volume v = { .ro = ro, .nocopy = nocopy, .mount = true };
	if (!strcmp(type, "bind")) {
		if (!src || !*src)
			return cm_error_set(err, -EINVAL, "invalid mount config for type \"bind\": field Source must not be empty");
		if (src[0] != '/')
			return cm_error_set(err, -EINVAL,
					    "invalid mount config for type \"bind\": invalid mount path: '%s' mount path must be absolute",
					    src);
		v.host = strdup(src);
	} else {
		v.volume = true;
		v.anon = !src || !*src;
		if (!v.anon && !(v.name = strdup(src)))
			return -ENOMEM;
	}
	if (!(v.ctr = strdup(dst)) || (!v.volume && !v.host)) {
		run_volume_clear(&v);
		return -ENOMEM;
	}
	*ret = v;
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "PWR", SIGPWR }, { "SYS", SIGSYS },
};

void run_signal_name(int sig, char *buf, size_t sz)
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(signals); i++)
		if (signals[i].sig == sig) {
			snprintf(buf, sz, "SIG%s", signals[i].name);
			return;
		}
	snprintf(buf, sz, "%d", sig);
}

int run_parse_signal(const char *s, int *ret, struct cm_error *err)
{
	if (!s || !*s)
		return cm_error_set(err, -EINVAL, "invalid signal ''");
	if (isdigit((unsigned char)*s)) {
		char *end;
		long v = strtol(s, &end, 10);
		if (*end || v < 1 || v > SIGRTMAX)
			return cm_error_set(err, -EINVAL, "invalid signal '%s'", s);
		*ret = (int)v;
		return 0;
	}
	const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (size_t i = 0; i < CM_ARRAY_SIZE(signals); i++)
		if (strcasecmp(n, signals[i].name) == 0) {
			*ret = signals[i].sig;
			return 0;
		}
	return cm_error_set(err, -EINVAL, "invalid signal '%s'", s);
}

/* ------------------------------------------------------------ network */

static const char *const netmodes[] = { [RUN_NET_NONE] = "none", [RUN_NET_HOST] = "host",
					[RUN_NET_BRIDGE] = "bridge", [RUN_NET_CONTAINER] = "container" };

const char *run_network_name(enum run_netmode m)
{
	return (size_t)m < CM_ARRAY_SIZE(netmodes) ? netmodes[m] : "none";
}

int run_parse_network(const char *s, enum run_netmode *ret, struct cm_error *err)
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(netmodes); i++)
		if (i != RUN_NET_CONTAINER && strcmp(s, netmodes[i]) == 0) {
			*ret = (enum run_netmode)i;
			return 0;
		}
	return cm_error_set(err, -EINVAL, "network %s not found (bridge, host or none)", s);
}

/* capability names by number (linux/capability.h) */
static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
	"SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
	"AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};
_Static_assert(CM_ARRAY_SIZE(cap_names) == 41, "capabilities 0..40");

uint64_t run_caps_default(void)
{
	/* docker's default set minus NET_RAW (SECURITY.md) */
	static const int caps[] = { 0 /* CHOWN */, 1 /* DAC_OVERRIDE */, 3 /* FOWNER */,
				    4 /* FSETID */, 5 /* KILL */, 6 /* SETGID */, 7 /* SETUID */,
				    8 /* SETPCAP */, 10 /* NET_BIND_SERVICE */, 18 /* SYS_CHROOT */,
				    27 /* MKNOD */, 29 /* AUDIT_WRITE */, 31 /* SETFCAP */ };
	uint64_t m = 0;
	for (size_t i = 0; i < CM_ARRAY_SIZE(caps); i++)
		m |= UINT64_C(1) << caps[i];
	return m;
}

const char *run_cap_name(int cap)
{
	return cap >= 0 && (size_t)cap < CM_ARRAY_SIZE(cap_names) ? cap_names[cap] : "?";
}

int run_parse_cap(const char *name, uint64_t *ret, struct cm_error *err)
{
	const char *n = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
	if (strcasecmp(n, "ALL") == 0) {
		*ret = RUN_CAP_ALL;
		return 0;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(cap_names); i++)
		if (strcasecmp(n, cap_names[i]) == 0) {
			*ret = UINT64_C(1) << i;
			return 0;
		}
	return cm_error_set(err, -EINVAL, "unknown capability: \"%s\"", name);
}

uint64_t run_caps_effective(const struct run_config *c)
{
	if (c->privileged)
		return RUN_CAP_ALL;
	return ((run_caps_default() & ~c->cap_drop) | c->cap_add) & RUN_CAP_ALL;
}

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static bool ip_ok(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

int run_parse_add_host(const char *s, char **ret, struct cm_error *err)
{
	const char *colon = strchr(s, ':');
	if (!colon || !name_ok(s, (size_t)(colon - s)))
		return cm_error_set(err, -EINVAL, "invalid argument \"%s\" for --add-host: NAME:IP", s);
	const char *ip = strcmp(colon + 1, "host-gateway") == 0 ? RUN_NET_GATEWAY : colon + 1;
	if (!ip_ok(ip))
		return cm_error_set(err, -EINVAL, "invalid IP address in --add-host: \"%s\"", colon + 1);
	return asprintf(ret, "%.*s:%s", (int)(colon - s), s, ip) < 0 ? -ENOMEM : 0;
}

int run_parse_dns(const char *kind, const char *s, struct cm_error *err)
{
	bool ok;
	if (strcmp(kind, "dns") == 0)
		ok = ip_ok(s);
	else if (strcmp(kind, "dns-search") == 0)
		ok = strcmp(s, ".") == 0 || name_ok(s, strlen(s));
	else {
		ok = *s && strlen(s) < 256;
		for (const char *p = s; ok && *p; p++)
			ok = isgraph((unsigned char)*p);
	}
	return ok ? 0 : cm_error_set(err, -EINVAL, "invalid --%s \"%s\"", kind, s);
}

static const struct { const char *name; int res; } ulimits[] = {
	{ "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU }, { "data", RLIMIT_DATA },
	{ "fsize", RLIMIT_FSIZE }, { "locks", RLIMIT_LOCKS }, { "memlock", RLIMIT_MEMLOCK },
	{ "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE }, { "nofile", RLIMIT_NOFILE },
	{ "nproc", RLIMIT_NPROC }, { "rss", RLIMIT_RSS }, { "rtprio", RLIMIT_RTPRIO },
	{ "rttime", RLIMIT_RTTIME }, { "sigpending", RLIMIT_SIGPENDING },
	{ "stack", RLIMIT_STACK }, { "as", RLIMIT_AS },
};

const char *run_ulimit_name(int resource)
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(ulimits); i++)
		if (ulimits[i].res == resource)
			return ulimits[i].name;
	return "?";
}

static int ulimit_value(const char *s, size_t n, int64_t *ret)
{
	if ((n == 2 && strncmp(s, "-1", 2) == 0) || (n == 9 && strncmp(s, "unlimited", 9) == 0)) {
		*ret = -1;
		return 0;
	}
	int64_t v = 0;
	if (n == 0 || n > 18)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

int run_parse_device(const char *s, struct run_device *ret, struct cm_error *err)
{
	char buf[600], *parts[3] = { NULL, NULL, NULL };
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return cm_error_set(err, -ENAMETOOLONG, "--device %s: too long", s);
	size_t np = 0;
	for (char *save = NULL, *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (np == 3)
			return cm_error_set(err, -EINVAL, "invalid --device '%s' (HOST[:CONTAINER][:PERMS])", s);
		parts[np++] = t;
	}
	const char *perms = "rwm";
	/* a last part made of r, w, m alone is the permissions */
	if (np >= 2 && strspn(parts[np - 1], "rwm") == strlen(parts[np - 1]) && parts[np - 1][0] != '/') {
		perms = parts[--np];
		if (strlen(perms) > 3)
			return cm_error_set(err, -EINVAL, "invalid --device permissions '%s'", perms);
	}
	if (np == 0 || parts[0][0] != '/' || (np == 2 && strncmp(parts[1], "/dev/", 5) != 0))
		return cm_error_set(err, -EINVAL, "invalid --device '%s': an absolute host path, the container's under /dev/", s);
	struct stat st;
	if (stat(parts[0], &st) < 0)
		return cm_error_setx(err, cm_neg_errno(), "--device %s", parts[0]);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return cm_error_set(err, -EINVAL, "--device %s: not a device", parts[0]);
	const char *ctr = np == 2 ? parts[1] : parts[0];
	if (strncmp(ctr, "/dev/", 5) != 0 || strstr(ctr, "/..") || strstr(ctr, "/./") || strlen(ctr) >= 200)
		return cm_error_set(err, -EINVAL, "--device %s: the container's path must be under /dev/", s);
	struct run_device d = { .type = S_ISCHR(st.st_mode) ? 'c' : 'b',
				.major = major(st.st_rdev), .minor = minor(st.st_rdev) };
	snprintf(d.perms, sizeof(d.perms), "%s", perms);
	if (!(d.host = strdup(parts[0])) || !(d.ctr = strdup(ctr))) {
		free(d.host);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

void run_devices_json(const struct run_config *c, struct cm_jw *w)
{
	cm_jw_arr(w);
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct run_device *d = &c->devices[i];
		char t[2] = { d->type, 0 };
		cm_jw_obj(w);
		cm_jw_kstr(w, "PathOnHost", d->host);
		cm_jw_kstr(w, "PathInContainer", d->ctr);
		cm_jw_kstr(w, "CgroupPermissions", d->perms);
		cm_jw_kstr(w, "Type", t);
		cm_jw_kint(w, "Major", d->major);
		cm_jw_kint(w, "Minor", d->minor);
		cm_jw_obj_end(w);
	}
	cm_jw_arr_end(w);
}

void run_ulimits_json(const struct run_config *c, struct cm_jw *w)
{
	cm_jw_arr(w);
	for (size_t i = 0; i < c->n_ulimits; i++) {
		cm_jw_obj(w);
		cm_jw_kstr(w, "Name", run_ulimit_name(c->ulimits[i].resource));
		cm_jw_kint(w, "Soft", c->ulimits[i].soft);
		cm_jw_kint(w, "Hard", c->ulimits[i].hard);
		cm_jw_obj_end(w);
	}
	cm_jw_arr_end(w);
}

int run_parse_ulimit(const char *s, struct run_ulimit *ret, struct cm_error *err)
{
	const char *eq = strchr(s, '=');
	if (!eq)
		return cm_error_set(err, -EINVAL, "invalid ulimit argument \"%s\" (NAME=SOFT[:HARD])", s);
	size_t nl = (size_t)(eq - s);
	for (size_t i = 0; i < CM_ARRAY_SIZE(ulimits); i++) {
		if (strlen(ulimits[i].name) != nl || strncmp(s, ulimits[i].name, nl) != 0)
			continue;
		const char *v = eq + 1, *colon = strchr(v, ':');
		struct run_ulimit u = { .resource = ulimits[i].res };
		if (ulimit_value(v, colon ? (size_t)(colon - v) : strlen(v), &u.soft) < 0 ||
		    ulimit_value(colon ? colon + 1 : v, strlen(colon ? colon + 1 : v), &u.hard) < 0)
			return cm_error_set(err, -EINVAL, "invalid ulimit value \"%s\"", eq + 1);
		if (u.hard >= 0 && (u.soft < 0 || u.soft > u.hard))
			return cm_error_set(err, -EINVAL, "ulimit soft limit must be less than or equal to hard limit: %s", s);
		*ret = u;
		return 0;
	}
	return cm_error_set(err, -EINVAL, "invalid ulimit type: %.*s", (int)nl, s);
}

/* One tmpfs option into the mount flags or data; -EINVAL for others. */
static int tmpfs_opt(const char *o, size_t n, unsigned long *flags, char *data, size_t sz)
{
	static const struct { const char *name; unsigned long set, clear; } fl[] = {
		{ "ro", MS_RDONLY, 0 }, { "rw", 0, MS_RDONLY }, { "noexec", MS_NOEXEC, 0 },
		{ "exec", 0, MS_NOEXEC }, { "nosuid", MS_NOSUID, 0 }, { "suid", 0, MS_NOSUID },
		{ "nodev", MS_NODEV, 0 }, { "dev", 0, MS_NODEV },
	};
	for (size_t i = 0; i < CM_ARRAY_SIZE(fl); i++)
		if (strlen(fl[i].name) == n && strncmp(o, fl[i].name, n) == 0) {
			*flags = (*flags | fl[i].set) & ~fl[i].clear;
			return 0;
		}
	static const char *const keys[] = { "size=", "mode=", "uid=", "gid=", "nr_inodes=" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(keys); i++) {
		size_t kl = strlen(keys[i]);
		if (n > kl && strncmp(o, keys[i], kl) == 0) {
			for (size_t k = kl; k < n; k++)
				if (!isalnum((unsigned char)o[k]))
					return -EINVAL;
			size_t l = strlen(data);
			if (l + n + 2 > sz)
				return -E2BIG;
			snprintf(data + l, sz - l, "%s%.*s", l ? "," : "", (int)n, o);
			return 0;
		}
	}
	return -EINVAL;
}

int run_tmpfs_options(const char *opts, unsigned long *flags, char *data, size_t sz)
{
	/* docker's defaults: noexec, nosuid, nodev */
	*flags = MS_NOEXEC | MS_NOSUID | MS_NODEV;
	data[0] = '\0';
	for (const char *o = opts; o && *o;) {
		size_t n = strcspn(o, ",");
		int r = tmpfs_opt(o, n, flags, data, sz);
		if (r < 0)
			return r;
		o += n;
		if (*o == ',')
			o++;
	}
	return 0;
}

int run_parse_tmpfs(const char *s, struct cm_error *err)
{
	const char *colon = strchr(s, ':');
	size_t pl = colon ? (size_t)(colon - s) : strlen(s);
	if (pl == 0 || s[0] != '/' || pl >= 256)
		return cm_error_set(err, -EINVAL, "invalid --tmpfs '%s': an absolute path in the container", s);
	unsigned long flags;
	char data[256];
	if (run_tmpfs_options(colon ? colon + 1 : NULL, &flags, data, sizeof(data)) < 0)
		return cm_error_set(err, -EINVAL, "invalid --tmpfs options '%s'", colon + 1);
	return 0;
}

/* ------------------------------------------------------------ --security-opt */

/* Go's strconv.ParseBool, as docker parses no-new-privileges=V */
static int parse_go_bool(const char *v, bool *ret)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(t); i++) {
		if (strcmp(v, t[i]) == 0)
			return *ret = true, 0;
		if (strcmp(v, f[i]) == 0)
			return *ret = false, 0;
	}
	return -EINVAL;
}

int run_security_opt_read(const char *opt, char **ret, struct cm_error *err)
{
	const char *v = strncmp(opt, "seccomp=", 8) == 0 ? opt + 8 : NULL;
	if (!v || strcmp(v, "unconfined") == 0 || strcmp(v, "builtin") == 0 || v[0] == '{')
		return (*ret = strdup(opt)) ? 0 : cm_error_set(err, -ENOMEM, "out of memory");
	/* a file of the caller's (trusted, as the command line): its content is
	 * what the container keeps, so later edits of the file change nothing */
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = run_read_file_at(AT_FDCWD, v, 1 << 20, &text, &len);
	if (r == -EFBIG)
		return cm_error_set(err, r, "opening seccomp profile (%s) failed: larger than 1 MiB", v);
	if (r < 0)
		return cm_error_setx(err, r, "opening seccomp profile (%s) failed", v);
	char where[128] = "";
	_cleanup_json_ struct cm_json *j = NULL;
	if ((r = cm_json_parse(text, len, &j, where, sizeof(where))) < 0)
		return cm_error_set(err, r, "compacting json for seccomp profile (%s) failed: %s", v,
				    where[0] ? where : "invalid JSON");
	struct cm_jw w;
	cm_jw_init(&w, 0);
	_cleanup_free_ char *compact = NULL;
	cm_jw_value(&w, j);
	if (cm_jw_finish(&w, &compact, &len) < 0 || asprintf(ret, "seccomp=%s", compact) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

int run_security_opt_apply(struct run_config *c, const char *opt, struct cm_error *err)
{
	if (strcmp(opt, "no-new-privileges") == 0) {
		c->new_privs = false;
		return 0;
	}
	const char *eq = strchr(opt, '=');
	if (!eq)
		return cm_error_set(err, -EINVAL, "invalid --security-opt 1: \"%s\"", opt);
	size_t kl = (size_t)(eq - opt);
	const char *v = eq + 1;
	if (kl == 7 && strncmp(opt, "seccomp", 7) == 0) {
		if (!*v)
			return cm_error_set(err, -EINVAL, "invalid --security-opt 2: \"%s\"", opt);
		free(c->seccomp);
		c->seccomp = NULL;
		if (strcmp(v, "builtin") != 0 && !(c->seccomp = strdup(v)))
			return cm_error_set(err, -ENOMEM, "out of memory");
		return 0;
	}
	if (kl == 17 && strncmp(opt, "no-new-privileges", 17) == 0) {
		bool b;
		if (parse_go_bool(v, &b) < 0)
			return cm_error_set(err, -EINVAL, "invalid --security-opt 2: \"%s\"", opt);
		c->new_privs = !b;
		return 0;
	}
	if (kl == 11 && strncmp(opt, "systempaths", 11) == 0 && strcmp(v, "unconfined") == 0) {
		c->systempaths_unconfined = true;
		return 0;
	}
	/* docker accepts these where the LSM is off, as it is here */
	if ((kl == 8 && strncmp(opt, "apparmor", 8) == 0) || (kl == 5 && strncmp(opt, "label", 5) == 0))
		return 0;
	return cm_error_set(err, -EINVAL, "invalid --security-opt 2: \"%s\"", opt);
}

static const char *const restarts[] = { "no", "always", "on-failure", "unless-stopped" };

const char *run_restart_name(enum run_restart r)
{
	return (size_t)r < CM_ARRAY_SIZE(restarts) ? restarts[r] : "no";
}

int run_parse_restart(const char *s, enum run_restart *ret, int *ret_max, struct cm_error *err)
{
	*ret_max = 0;
	const char *colon = strchr(s, ':');
	size_t l = colon ? (size_t)(colon - s) : strlen(s);
	for (size_t i = 0; i < CM_ARRAY_SIZE(restarts); i++) {
		if (strlen(restarts[i]) != l || strncmp(s, restarts[i], l) != 0)
			continue;
		if (colon) {
			char *end;
			long n = strtol(colon + 1, &end, 10);
			if (i != RUN_RESTART_ON_FAILURE)
				return cm_error_set(err, -EINVAL, "maximum retry count cannot be used with restart policy '%.*s'",
						    (int)l, s);
			if (end == colon + 1 || *end || n < 0 || n > 1000000)
				return cm_error_set(err, -EINVAL, "invalid restart policy '%s'", s);
			*ret_max = (int)n;
		}
		*ret = (enum run_restart)i;
		return 0;
	}
	return cm_error_set(err, -EINVAL, "invalid restart policy '%s' (no, always, unless-stopped, on-failure[:N])", s);
}

/* A port number 1..65535 (0 allowed where zero_ok: "choose one"). */
static int parse_port_num(const char *s, size_t len, bool zero_ok, uint16_t *ret)
{
	unsigned v = 0;
	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535 || (v == 0 && !zero_ok))
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* Dotted IPv4 with four parts 0..255, no leading junk. */
static bool valid_ipv4(const char *s, size_t len)
{
	unsigned parts = 0, v = 0, digits = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (!digits || v > 255)
				return false;
			parts++;
			v = digits = 0;
		} else if (isdigit((unsigned char)s[i]) && digits < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			digits++;
		} else {
			return false;
		}
	}
	return parts == 4;
}

int run_parse_port(const char *s, struct run_port *ret, struct cm_error *err)
{
	struct run_port p = { .host_ip = "0.0.0.0" };
	const char *proto = strchr(s, '/');
	size_t len = proto ? (size_t)(proto - s) : strlen(s);
	if (proto) {
		if (strcmp(proto, "/udp") == 0)
			p.udp = true;
		else if (strcmp(proto, "/tcp") != 0)
			return cm_error_set(err, -EINVAL, "invalid proto in port spec '%s' (tcp or udp)", s);
	}
	/* split the part before the protocol at its colons: CTR, HOST:CTR, IP:HOST:CTR */
	const char *c2 = memrchr(s, ':', len), *c1 = c2 ? memrchr(s, ':', (size_t)(c2 - s)) : NULL;
	const char *ctr = c2 ? c2 + 1 : s;
	if (parse_port_num(ctr, len - (size_t)(ctr - s), false, &p.ctr_port) < 0)
		return cm_error_set(err, -EINVAL, "invalid container port in port spec '%s'", s);
	if (c2) {
		const char *host = c1 ? c1 + 1 : s;
		size_t hl = (size_t)(c2 - host);
		if (hl && parse_port_num(host, hl, false, &p.host_port) < 0)
			return cm_error_set(err, -EINVAL, "invalid host port in port spec '%s'", s);
		if (!hl && !c1)
			return cm_error_set(err, -EINVAL, "invalid port spec '%s'", s);
	}
	if (c1) {
		size_t il = (size_t)(c1 - s);
		if (il >= sizeof(p.host_ip) || !valid_ipv4(s, il))
			return cm_error_set(err, -EINVAL, "invalid IP address in port spec '%s' (IPv4 only)", s);
		memcpy(p.host_ip, s, il);
		p.host_ip[il] = '\0';
	}
	*ret = p;
	return 0;
}

void run_port_format(const struct run_port *p, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s:%u->%u/%s", p->host_ip, p->host_port, p->ctr_port, p->udp ? "udp" : "tcp");
}

/* ------------------------------------------------------------ env */

const char *run_env_get(char *const *env, const char *key)
{
	size_t kl = strlen(key);
	for (; env && *env; env++)
		if (strncmp(*env, key, kl) == 0 && (*env)[kl] == '=')
			return *env + kl + 1;
	return NULL;
}

int run_env_set(char ***envp, size_t *n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
	char *dup = strdup(kv);
	if (!dup)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		if (strncmp((*envp)[i], kv, kl) == 0 && (*envp)[i][kl] == '=') {
			free((*envp)[i]);
			(*envp)[i] = dup;
			return 0;
		}
	char **nv = realloc(*envp, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(dup);
		return -ENOMEM;
	}
	nv[(*n)++] = dup;
	nv[*n] = NULL;
	*envp = nv;
	return 0;
}

/* A bare KEY (no '=') takes the caller's value, or is dropped (docker). */
static int env_add_cli(char ***envp, size_t *n, const char *e)
{
	if (!*e || *e == '=')
		return -EINVAL;
	if (strchr(e, '='))
		return run_env_set(envp, n, e);
	const char *v = getenv(e);
	if (!v)
		return 0;
	_cleanup_free_ char *kv = NULL;
	if (asprintf(&kv, "%s=%s", e, v) < 0)
		return -ENOMEM;
	return run_env_set(envp, n, kv);
}

/* docker's --env-file (docker/cli opts/file.go): UTF-8 only, a BOM on the
 * first line dropped, leading white space dropped, blank and '#' lines
 * skipped; the name (before the first '=') may not be empty or hold a space
 * or tab; the value passes through untrimmed; a bare NAME is kept for the
 * caller's -e rule (the caller's value, or dropped). */
static int env_file_line(const char *path, unsigned lineno, char *p, char **ret,
			 struct cm_error *err)
{
	*ret = NULL;
	if (!cm_text_utf8_valid(p, strlen(p)))
		return cm_error_set(err, -EINVAL, "env file %s contains invalid utf8 bytes at line %u",
				    path, lineno);
	if (lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (*p && strchr(" \t\v\f\r", *p))
		p++;
	if (!*p || *p == '#')
		return 0;
	char *eq = strchr(p, '=');
	size_t kl = eq ? (size_t)(eq - p) : strlen(p);
	if (!eq) /* a bare name: its trailing white space goes too */
		while (kl > 0 && strchr(" \t\v\f\r", p[kl - 1]))
			p[--kl] = '\0';
	if (kl == 0)
		return cm_error_set(err, -EINVAL,
				    "env file %s: poorly formatted environment: no variable name on line '%s'",
				    path, p);
	if (memchr(p, ' ', kl) || memchr(p, '\t', kl))
		return cm_error_set(err, -EINVAL,
				    "env file %s: poorly formatted environment: variable '%.*s' contains whitespaces",
				    path, (int)kl, p);
	if (!(*ret = strdup(p)))
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

int run_env_file_read(const char *path, char ***envp, size_t *n, struct cm_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return cm_error_setx(err, cm_neg_errno(), "reading env file %s", path);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int r = 0;
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			r = cm_error_set(err, -EINVAL, "env file %s: a NUL byte at line %u", path, lineno);
			break;
		}
		char *dup;
		if ((r = env_file_line(path, lineno, line, &dup, err)) < 0 || !dup)
			continue;
		char **nv = realloc(*envp, (*n + 2) * sizeof(char *));
		if (!nv) {
			free(dup);
			r = cm_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		nv[(*n)++] = dup;
		nv[*n] = NULL;
		*envp = nv;
	}
	if (r == 0 && ferror(f))
		r = cm_error_setx(err, -EIO, "reading env file %s", path);
	free(line);
	fclose(f);
	return r;
}

/* ------------------------------------------------------------ spec merge */

static int strv_from_json(const struct cm_json *a, char ***ret, size_t *ret_n)
{
	size_t n = 0;
	char **v = calloc((a && cm_json_is(a, CM_JSON_ARRAY) ? a->n : 0) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	if (a && cm_json_is(a, CM_JSON_ARRAY))
		for (size_t i = 0; i < a->n; i++) {
			const char *s = cm_json_str(a->v[i]);
			if (!s)
				continue;
			if (!(v[n] = strdup(s))) {
				strv_free(v);
				return -ENOMEM;
			}
			n++;
		}
	*ret = v;
	if (ret_n)
		*ret_n = n;
	return 0;
}

static int strv_append(char ***v, size_t *n, const char *s)
{
	char *dup = strdup(s);
	char **nv = dup ? realloc(*v, (*n + 2) * sizeof(char *)) : NULL;
	if (!nv) {
		free(dup);
		return -ENOMEM;
	}
	nv[(*n)++] = dup;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int run_spec_merge(struct run_config *c, const struct cm_json *image_cfg,
		   const struct run_cli *cli, struct cm_error *err)
{
	char **argv = NULL, **env = NULL;
	size_t na = 0, ne = 0;
	int r;

	/* argv = entrypoint + cmd; an explicit --entrypoint drops the image's Cmd */
	if (cli->entrypoint) {
		argv = calloc(1, sizeof(char *));
		if (!argv)
			return -ENOMEM;
		if (*cli->entrypoint && (r = strv_append(&argv, &na, cli->entrypoint)) < 0)
			goto fail;
	} else if ((r = strv_from_json(cm_json_get(image_cfg, "Entrypoint"), &argv, &na)) < 0) {
		return r;
	}
	if (cli->cmd && cli->cmd[0]) {
		for (char **p = cli->cmd; *p; p++)
			if ((r = strv_append(&argv, &na, *p)) < 0)
				goto fail;
	} else if (!cli->entrypoint) {
		const struct cm_json *cmd = cm_json_get(image_cfg, "Cmd");
		if (cmd && cm_json_is(cmd, CM_JSON_ARRAY))
			for (size_t i = 0; i < cmd->n; i++)
				if (cm_json_str(cmd->v[i]) &&
				    (r = strv_append(&argv, &na, cm_json_str(cmd->v[i]))) < 0)
					goto fail;
	}
	if (na == 0) {
		r = cm_error_set(err, -EINVAL, "no command specified");
		goto fail;
	}

	if ((r = strv_from_json(cm_json_get(image_cfg, "Env"), &env, &ne)) < 0)
		goto fail;
	if (!run_env_get(env, "PATH") && (r = run_env_set(&env, &ne, "PATH=" RUN_DEFAULT_PATH)) < 0)
		goto fail;
	if (c->hostname) {
		_cleanup_free_ char *h = NULL;
		if (asprintf(&h, "HOSTNAME=%s", c->hostname) < 0 || (r = run_env_set(&env, &ne, h)) < 0) {
			r = -ENOMEM;
			goto fail;
		}
	}
	if (c->tty && (r = run_env_set(&env, &ne, "TERM=xterm")) < 0)
		goto fail;
	for (char **p = cli->env; p && *p; p++)
		if ((r = env_add_cli(&env, &ne, *p)) < 0) {
			r = cm_error_set(err, -EINVAL, "invalid environment variable '%s'", *p);
			goto fail;
		}

	const char *cwd = cli->cwd ? cli->cwd : cm_json_get_str(image_cfg, "WorkingDir");
	if (!cwd || !*cwd)
		cwd = "/";
	if (cwd[0] != '/') {
		r = cm_error_set(err, -EINVAL, "the working directory '%s' is invalid, it needs to be an absolute path", cwd);
		goto fail;
	}
	const char *user = cli->user ? cli->user : cm_json_get_str(image_cfg, "User");
	char *ncwd = strdup(cwd), *nuser = user && *user ? strdup(user) : NULL;
	if (!ncwd || (user && *user && !nuser)) {
		free(ncwd);
		free(nuser);
		r = -ENOMEM;
		goto fail;
	}
	/* labels: the image's Labels object, then --label (same key: ours) */
	char **labels = NULL;
	size_t nl = 0;
	const struct cm_json *il = cm_json_get(image_cfg, "Labels");
	for (size_t i = 0; il && cm_json_is(il, CM_JSON_OBJECT) && i < il->n; i++) {
		_cleanup_free_ char *kv = NULL;
		const char *v = cm_json_str(il->v[i]);
		if (v && (asprintf(&kv, "%s=%s", il->k[i], v) < 0 || run_env_set(&labels, &nl, kv) < 0))
			r = -ENOMEM;
	}
	for (char **p = cli->labels; r >= 0 && p && *p; p++) {
		_cleanup_free_ char *kv = NULL;
		if (!**p || **p == '=') {
			r = cm_error_set(err, -EINVAL, "invalid label '%s'", *p);
			break;
		}
		if (asprintf(&kv, "%s%s", *p, strchr(*p, '=') ? "" : "=") < 0 || run_env_set(&labels, &nl, kv) < 0)
			r = -ENOMEM;
	}
	if (r < 0) {
		strv_free(labels);
		free(ncwd);
		free(nuser);
		goto fail;
	}
	strv_free(c->argv);
	strv_free(c->env);
	strv_free(c->labels);
	free(c->cwd);
	free(c->user);
	c->argv = argv;
	c->env = env;
	c->labels = labels;
	c->cwd = ncwd;
	c->user = nuser;
	return 0;
fail:
	strv_free(argv);
	strv_free(env);
	return r == -ENOMEM ? cm_error_set(err, r, "out of memory") : r;
}

/* ------------------------------------------------------------ users */

/* Find the line of a name or numeric id in passwd/group text: fields split
 * on ':' into f[]; returns the number of fields or 0. */
static size_t find_entry(const char *text, const char *name, long id, size_t idfield,
			 char *line, size_t linesz, char **f, size_t maxf)
{
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len < linesz) {
			memcpy(line, p, len);
			line[len] = '\0';
			size_t n = 0;
			char *s = line;
			while (n < maxf) {
				f[n++] = s;
				char *c = strchr(s, ':');
				if (!c)
					break;
				*c = '\0';
				s = c + 1;
			}
			if (n > idfield && line[0] != '#') {
				if (name && strcmp(f[0], name) == 0)
					return n;
				if (!name && strtol(f[idfield], NULL, 10) == id && isdigit((unsigned char)f[idfield][0]))
					return n;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

static bool parse_id(const char *s, long *ret)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || errno || v < 0 || v > (long)UINT32_MAX - 1)
		return false;
	*ret = v;
	return true;
}

int run_user_resolve(const char *spec, const char *passwd, const char *group,
		     struct run_user *ret, struct cm_error *err)
{
	char buf[512], line[1024];
	char *f[8];
	struct run_user u = { .uid = 0, .gid = 0 };
	snprintf(u.home, sizeof(u.home), "/");
	if (!spec || !*spec)
		spec = "0";
	if (strlen(spec) >= sizeof(buf))
		return cm_error_set(err, -EINVAL, "invalid user '%s'", spec);
	strcpy(buf, spec);
	char *grp = strchr(buf, ':');
	if (grp)
		*grp++ = '\0';
	long id;
	bool numeric = parse_id(buf, &id);
	size_t n = find_entry(passwd ? passwd : "", numeric ? NULL : buf, numeric ? id : 0, 2,
			      line, sizeof(line), f, 8);
	if (n >= 4) {
		long pg;
		u.uid = (uid_t)strtol(f[2], NULL, 10);
		u.gid = parse_id(f[3], &pg) ? (gid_t)pg : 0;
		if (n >= 6 && *f[5])
			snprintf(u.home, sizeof(u.home), "%s", f[5]);
	} else if (numeric) {
		u.uid = (uid_t)id;
		u.gid = 0;
	} else {
		return cm_error_set(err, -ENOENT, "unable to find user %s: no matching entries in passwd file", buf);
	}
	if (grp) {
		if (parse_id(grp, &id)) {
			u.gid = (gid_t)id;
		} else {
			n = find_entry(group ? group : "", grp, 0, 2, line, sizeof(line), f, 8);
			if (n < 3 || !parse_id(f[2], &id))
				return cm_error_set(err, -ENOENT, "unable to find group %s: no matching entries in group file", grp);
			u.gid = (gid_t)id;
		}
	}
	/* supplementary groups: every group listing the user's name */
	char uname[256] = "";
	if (find_entry(passwd ? passwd : "", NULL, (long)u.uid, 2, line, sizeof(line), f, 8) >= 1)
		snprintf(uname, sizeof(uname), "%s", f[0]);
	u.groups[u.n_groups++] = u.gid;
	const char *p = group;
	while (uname[0] && p && *p && !grp) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL,
			     *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
			if (c3) {
				*c3 = '\0';
				long gid;
				if (parse_id(c2 + 1, &gid))
					for (char *m = strtok(c3 + 1, ","); m; m = strtok(NULL, ","))
						if (strcmp(m, uname) == 0 && (gid_t)gid != u.gid &&
						    u.n_groups < CM_ARRAY_SIZE(u.groups))
							u.groups[u.n_groups++] = (gid_t)gid;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	*ret = u;
	return 0;
}

/* ------------------------------------------------------------ config.json */

static void jw_strv(struct cm_jw *w, const char *key, char **v)
{
	cm_jw_key(w, key);
	cm_jw_arr(w);
	for (; v && *v; v++)
		cm_jw_str(w, *v);
	cm_jw_arr_end(w);
}

static void jw_kstr_opt(struct cm_jw *w, const char *key, const char *s)
{
	cm_jw_key(w, key);
	if (s)
		cm_jw_str(w, s);
	else
		cm_jw_null(w);
}

int run_config_to_json(const struct run_config *c, struct cm_jw *w)
{
	cm_jw_obj(w);
	cm_jw_kstr(w, "Id", c->id);
	jw_kstr_opt(w, "Name", c->name);
	jw_kstr_opt(w, "Image", c->image);
	jw_kstr_opt(w, "ImageId", c->image_id);
	jw_kstr_opt(w, "Bundle", c->bundle);
	jw_kstr_opt(w, "Rootfs", c->rootfs);
	jw_strv(w, "Layers", c->layers);
	jw_strv(w, "Args", c->argv);
	jw_strv(w, "Env", c->env);
	jw_strv(w, "Labels", c->labels);
	jw_strv(w, "ExtraHosts", c->extra_hosts);
	jw_strv(w, "Networks", c->networks);
	jw_strv(w, "Dns", c->dns);
	jw_strv(w, "DnsSearch", c->dns_search);
	jw_strv(w, "DnsOptions", c->dns_options);
	jw_strv(w, "Tmpfs", c->tmpfs);
	jw_strv(w, "SecurityOpt", c->security_opt);
	cm_jw_key(w, "Privileged"); cm_jw_bool(w, c->privileged);
	cm_jw_kint(w, "ShmSize", c->shm_size);
	cm_jw_key(w, "Ulimits");
	run_ulimits_json(c, w);
	cm_jw_key(w, "Devices");
	run_devices_json(c, w);
	jw_kstr_opt(w, "WorkingDir", c->cwd);
	jw_kstr_opt(w, "User", c->user);
	jw_kstr_opt(w, "Hostname", c->hostname);
	cm_jw_key(w, "Tty"); cm_jw_bool(w, c->tty);
	if (c->tty_rows && c->tty_cols) {
		cm_jw_key(w, "ConsoleSize");
		cm_jw_arr(w);
		cm_jw_int(w, c->tty_rows);
		cm_jw_int(w, c->tty_cols);
		cm_jw_arr_end(w);
	}
	cm_jw_key(w, "OpenStdin"); cm_jw_bool(w, c->interactive);
	cm_jw_key(w, "ReadonlyRootfs"); cm_jw_bool(w, c->read_only);
	cm_jw_key(w, "HostNetwork"); cm_jw_bool(w, c->network == RUN_NET_HOST);
	cm_jw_kstr(w, "NetworkMode", run_network_name(c->network));
	cm_jw_key(w, "Ports");
	cm_jw_arr(w);
	for (size_t i = 0; i < c->n_ports; i++) {
		cm_jw_obj(w);
		cm_jw_kstr(w, "HostIp", c->ports[i].host_ip);
		cm_jw_kint(w, "HostPort", c->ports[i].host_port);
		cm_jw_kint(w, "ContainerPort", c->ports[i].ctr_port);
		cm_jw_kstr(w, "Proto", c->ports[i].udp ? "udp" : "tcp");
		cm_jw_obj_end(w);
	}
	cm_jw_arr_end(w);
	jw_kstr_opt(w, "InitDir", c->init_dir);
	cm_jw_key(w, "UsernsMode"); cm_jw_bool(w, c->userns);
	cm_jw_key(w, "AutoRemove"); cm_jw_bool(w, c->autoremove);
	cm_jw_key(w, "RestartPolicy");
	cm_jw_obj(w);
	cm_jw_kstr(w, "Name", run_restart_name(c->restart));
	cm_jw_kint(w, "MaximumRetryCount", c->restart_max);
	cm_jw_obj_end(w);
	cm_jw_key(w, "HostPid"); cm_jw_bool(w, c->host_pid);
	cm_jw_key(w, "HostUts"); cm_jw_bool(w, c->host_uts);
	if (c->cgroupns_mode != RUN_CGROUPNS_DEFAULT)
		cm_jw_kstr(w, "CgroupnsMode", c->cgroupns_mode == RUN_CGROUPNS_PRIVATE ? "private" : "host");
	cm_jw_kint(w, "CapAddMask", (int64_t)c->cap_add);
	cm_jw_kint(w, "CapDropMask", (int64_t)c->cap_drop);
	cm_jw_key(w, "Binds");
	cm_jw_arr(w);
	for (size_t i = 0; i < c->n_vols; i++) {
		cm_jw_obj(w);
		cm_jw_kstr(w, "Source", c->vols[i].host);
		cm_jw_kstr(w, "Destination", c->vols[i].ctr);
		cm_jw_key(w, "RW"); cm_jw_bool(w, !c->vols[i].ro);
		jw_kstr_opt(w, "Name", c->vols[i].name);
		cm_jw_key(w, "Volume"); cm_jw_bool(w, c->vols[i].volume);
		cm_jw_key(w, "Anonymous"); cm_jw_bool(w, c->vols[i].anon);
		cm_jw_key(w, "NoCopy"); cm_jw_bool(w, c->vols[i].nocopy);
		cm_jw_key(w, "Mount"); cm_jw_bool(w, c->vols[i].mount);
		cm_jw_obj_end(w);
	}
	cm_jw_arr_end(w);
	cm_jw_kint(w, "Memory", c->lim.memory);
	cm_jw_kint(w, "MemorySwap", c->lim.memory_swap);
	cm_jw_kint(w, "CpuQuota", c->lim.cpu_quota);
	cm_jw_kint(w, "CpuPeriod", c->lim.cpu_period);
	cm_jw_kint(w, "CpuShares", c->lim.cpu_shares);
	cm_jw_kint(w, "PidsLimit", c->lim.pids);
	cm_jw_kint(w, "MemoryReservation", c->lim.memory_reservation);
	cm_jw_kint(w, "BlkioWeight", c->lim.blkio_weight);
	cm_jw_key(w, "OomKillDisable"); cm_jw_bool(w, c->lim.oom_kill_disable);
	cm_jw_kstr(w, "CpusetCpus", c->lim.cpuset_cpus);
	cm_jw_kint(w, "StopSignalNum", c->stop_signal);
	cm_jw_kint(w, "StopTimeout", c->stop_timeout);
	cm_jw_key(w, "Init"); cm_jw_bool(w, c->init);
	jw_kstr_opt(w, "Cidfile", c->cidfile);
	jw_kstr_opt(w, "InitPath", c->init_path);
	jw_kstr_opt(w, "LogDriver", c->log_driver);
	jw_kstr_opt(w, "DetachKeys", c->detach_keys);
	jw_kstr_opt(w, "NetContainer", c->net_container);
	jw_kstr_opt(w, "NetContainerBundle", c->net_container_bundle);
	cm_jw_kint(w, "LogMaxSize", c->log_max_size);
	cm_jw_kint(w, "LogMaxFile", c->log_max_file);
	if (c->health.test) {
		cm_jw_key(w, "Healthcheck");
		run_health_json(&c->health, w);
	}
	cm_jw_key(w, "Sysctls");
	cm_jw_arr(w);
	for (char **p = c->sysctls; p && *p; p++)
		cm_jw_str(w, *p);
	cm_jw_arr_end(w);
	cm_jw_key(w, "GroupAdd");
	cm_jw_arr(w);
	for (char **p = c->group_add; p && *p; p++)
		cm_jw_str(w, *p);
	cm_jw_arr_end(w);
	jw_kstr_opt(w, "CgroupParent", c->cgroup_parent);
	jw_kstr_opt(w, "CgroupRoot", c->cgroup_root);
	cm_jw_kint(w, "Created", c->created);
	cm_jw_obj_end(w);
	return w->err;
}

static int dup_str(const struct cm_json *j, const char *key, char **ret)
{
	const char *s = cm_json_get_str(j, key);
	if (!s) {
		*ret = NULL;
		return 0;
	}
	return (*ret = strdup(s)) ? 0 : -ENOMEM;
}

static bool get_bool(const struct cm_json *j, const char *key)
{
	const struct cm_json *v = cm_json_get(j, key);
	return v && cm_json_is(v, CM_JSON_BOOL) && v->b;
}

static int64_t get_int(const struct cm_json *j, const char *key)
{
	int64_t v = 0;
	(void)cm_json_get_int(j, key, &v);
	return v;
}

int run_config_from_json(const struct cm_json *j, struct run_config **ret,
			 struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	const char *id = cm_json_get_str(j, "Id");
	if (!id || strlen(id) != RUN_ID_LEN || strspn(id, "0123456789abcdef") != RUN_ID_LEN)
		return cm_error_set(err, -EINVAL, "config.json: invalid Id");
	strcpy(c->id, id);
	int r = 0;
	if ((r = dup_str(j, "Name", &c->name)) < 0 || (r = dup_str(j, "Image", &c->image)) < 0 ||
	    (r = dup_str(j, "ImageId", &c->image_id)) < 0 || (r = dup_str(j, "Bundle", &c->bundle)) < 0 ||
	    (r = dup_str(j, "Rootfs", &c->rootfs)) < 0 || (r = dup_str(j, "WorkingDir", &c->cwd)) < 0 ||
	    (r = dup_str(j, "User", &c->user)) < 0 || (r = dup_str(j, "Hostname", &c->hostname)) < 0 ||
	    (r = dup_str(j, "CgroupParent", &c->cgroup_parent)) < 0 ||
	    (r = dup_str(j, "CgroupRoot", &c->cgroup_root)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "Layers"), &c->layers, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "Args"), &c->argv, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "Env"), &c->env, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "Labels"), &c->labels, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "ExtraHosts"), &c->extra_hosts, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "Networks"), &c->networks, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "Dns"), &c->dns, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "DnsSearch"), &c->dns_search, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "DnsOptions"), &c->dns_options, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "Tmpfs"), &c->tmpfs, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "SecurityOpt"), &c->security_opt, NULL)) < 0)
		return cm_error_set(err, r, "config.json: out of memory");
	c->privileged = get_bool(j, "Privileged");
	for (char **o = c->security_opt; o && *o; o++)
		if ((r = run_security_opt_apply(c, *o, err)) < 0)
			return cm_error_prefix(err, r, "config.json");
	c->shm_size = get_int(j, "ShmSize");
	const struct cm_json *dv = cm_json_get(j, "Devices");
	if (dv && cm_json_is(dv, CM_JSON_ARRAY) && dv->n) {
		if (!(c->devices = calloc(dv->n, sizeof(*c->devices))))
			return cm_error_set(err, -ENOMEM, "config.json: out of memory");
		for (size_t i = 0; i < dv->n; i++) {
			const char *h = cm_json_get_str(dv->v[i], "PathOnHost"),
				   *ct = cm_json_get_str(dv->v[i], "PathInContainer"),
				   *pm = cm_json_get_str(dv->v[i], "CgroupPermissions"),
				   *ty = cm_json_get_str(dv->v[i], "Type");
			if (!h || !ct || !pm || !ty || (ty[0] != 'c' && ty[0] != 'b') ||
			    strncmp(ct, "/dev/", 5) != 0 || strlen(pm) > 3)
				continue;
			struct run_device *d = &c->devices[c->n_devices];
			if (!(d->host = strdup(h)) || !(d->ctr = strdup(ct))) {
				free(d->host);
				return cm_error_set(err, -ENOMEM, "config.json: out of memory");
			}
			d->type = ty[0];
			d->major = (unsigned)get_int(dv->v[i], "Major");
			d->minor = (unsigned)get_int(dv->v[i], "Minor");
			snprintf(d->perms, sizeof(d->perms), "%s", pm);
			c->n_devices++;
		}
	}
	const struct cm_json *ul = cm_json_get(j, "Ulimits");
	if (ul && cm_json_is(ul, CM_JSON_ARRAY) && ul->n) {
		if (!(c->ulimits = calloc(ul->n, sizeof(*c->ulimits))))
			return cm_error_set(err, -ENOMEM, "config.json: out of memory");
		for (size_t i = 0; i < ul->n; i++) {
			const char *n = cm_json_get_str(ul->v[i], "Name");
			for (size_t k = 0; n && k < CM_ARRAY_SIZE(ulimits); k++)
				if (strcmp(n, ulimits[k].name) == 0) {
					struct run_ulimit *u = &c->ulimits[c->n_ulimits++];
					u->resource = ulimits[k].res;
					u->soft = get_int(ul->v[i], "Soft");
					u->hard = get_int(ul->v[i], "Hard");
				}
		}
	}
	c->tty = get_bool(j, "Tty");
	const struct cm_json *cs = cm_json_get(j, "ConsoleSize");
	if (cs && cm_json_is(cs, CM_JSON_ARRAY) && cs->n == 2 && cs->v[0]->is_int &&
	    cs->v[1]->is_int && cs->v[0]->i > 0 && cs->v[0]->i < 65536 &&
	    cs->v[1]->i > 0 && cs->v[1]->i < 65536) {
		c->tty_rows = (unsigned short)cs->v[0]->i;
		c->tty_cols = (unsigned short)cs->v[1]->i;
	}
	c->interactive = get_bool(j, "OpenStdin");
	c->read_only = get_bool(j, "ReadonlyRootfs");
	/* configs from before bridging: HostNetwork only, else none */
	const char *nm = cm_json_get_str(j, "NetworkMode");
	if (cm_streq(nm, "container") && cm_json_get_str(j, "NetContainerBundle"))
		c->network = RUN_NET_CONTAINER;
	else if (!nm || run_parse_network(nm, &c->network, NULL) < 0)
		c->network = get_bool(j, "HostNetwork") ? RUN_NET_HOST : RUN_NET_NONE;
	if ((r = dup_str(j, "InitDir", &c->init_dir)) < 0)
		return r;
	const struct cm_json *pa = cm_json_get(j, "Ports");
	if (pa && cm_json_is(pa, CM_JSON_ARRAY) && pa->n) {
		if (!(c->ports = calloc(pa->n, sizeof(*c->ports))))
			return -ENOMEM;
		for (size_t i = 0; i < pa->n; i++) {
			struct run_port *p = &c->ports[c->n_ports];
			const char *ip = cm_json_get_str(pa->v[i], "HostIp");
			int64_t hp = get_int(pa->v[i], "HostPort"), cp = get_int(pa->v[i], "ContainerPort");
			if (!ip || !valid_ipv4(ip, strlen(ip)) || hp < 0 || hp > 65535 || cp < 1 || cp > 65535)
				return cm_error_set(err, -EINVAL, "config.json: invalid port");
			snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip);
			p->host_port = (uint16_t)hp;
			p->ctr_port = (uint16_t)cp;
			p->udp = cm_streq(cm_json_get_str(pa->v[i], "Proto"), "udp");
			c->n_ports++;
		}
	}
	c->userns = get_bool(j, "UsernsMode");
	c->autoremove = get_bool(j, "AutoRemove");
	c->host_pid = get_bool(j, "HostPid");
	c->host_uts = get_bool(j, "HostUts");
	/* absent (configs older than the field): docker's default, at use */
	const char *cgns = cm_json_get_str(j, "CgroupnsMode");
	c->cgroupns_mode = cm_streq(cgns, "private") ? RUN_CGROUPNS_PRIVATE
			   : cm_streq(cgns, "host")  ? RUN_CGROUPNS_HOST
						     : RUN_CGROUPNS_DEFAULT;
	c->cap_add = (uint64_t)get_int(j, "CapAddMask") & RUN_CAP_ALL;
	c->cap_drop = (uint64_t)get_int(j, "CapDropMask") & RUN_CAP_ALL;
	const struct cm_json *rp = cm_json_get(j, "RestartPolicy");
	if (rp && cm_json_is(rp, CM_JSON_OBJECT)) {
		int max;
		const char *name = cm_json_get_str(rp, "Name");
		if (name && run_parse_restart(name, &c->restart, &max, NULL) < 0)
			c->restart = RUN_RESTART_NO;
		int64_t m = get_int(rp, "MaximumRetryCount");
		c->restart_max = m > 0 && m <= 1000000 ? (int)m : 0;
	}
	const struct cm_json *b = cm_json_get(j, "Binds");
	if (b && cm_json_is(b, CM_JSON_ARRAY) && b->n) {
		if (!(c->vols = calloc(b->n, sizeof(*c->vols))))
			return -ENOMEM;
		for (size_t i = 0; i < b->n; i++) {
			struct run_volume *v = &c->vols[c->n_vols];
			if ((r = dup_str(b->v[i], "Source", &v->host)) < 0 ||
			    (r = dup_str(b->v[i], "Destination", &v->ctr)) < 0 ||
			    (r = dup_str(b->v[i], "Name", &v->name)) < 0)
				return r;
			v->ro = !get_bool(b->v[i], "RW");
			v->volume = get_bool(b->v[i], "Volume");
			v->anon = get_bool(b->v[i], "Anonymous");
			v->nocopy = get_bool(b->v[i], "NoCopy");
			v->mount = get_bool(b->v[i], "Mount");
			c->n_vols++;
			if (!v->host || !v->ctr)
				return cm_error_set(err, -EINVAL, "config.json: invalid bind");
		}
	}
	c->lim.memory = get_int(j, "Memory");
	c->lim.memory_swap = get_int(j, "MemorySwap");
	c->lim.cpu_quota = get_int(j, "CpuQuota");
	c->lim.cpu_period = get_int(j, "CpuPeriod");
	c->lim.cpu_shares = get_int(j, "CpuShares");
	c->lim.pids = get_int(j, "PidsLimit");
	c->lim.memory_reservation = get_int(j, "MemoryReservation");
	c->lim.blkio_weight = get_int(j, "BlkioWeight");
	c->lim.oom_kill_disable = get_bool(j, "OomKillDisable");
	const char *cpus = cm_json_get_str(j, "CpusetCpus");
	if (cpus && run_parse_cpuset(cpus, NULL) == 0)
		snprintf(c->lim.cpuset_cpus, sizeof(c->lim.cpuset_cpus), "%s", cpus);
	int64_t sig = get_int(j, "StopSignalNum");
	c->stop_signal = sig > 0 && sig < 65 ? (int)sig : 0;
	int64_t st = cm_json_get(j, "StopTimeout") ? get_int(j, "StopTimeout") : -1;
	c->stop_timeout = st >= -1 && st < 1000000 ? (int)st : -1;
	c->init = get_bool(j, "Init");
	c->init_fd = -1;
	c->net_fd = -1;
	if ((r = run_health_from_json(cm_json_get(j, "Healthcheck"), &c->health)) < 0 ||
	    (r = dup_str(j, "LogDriver", &c->log_driver)) < 0 ||
	    (r = dup_str(j, "DetachKeys", &c->detach_keys)) < 0 ||
	    (r = dup_str(j, "NetContainer", &c->net_container)) < 0 ||
	    (r = dup_str(j, "NetContainerBundle", &c->net_container_bundle)) < 0)
		return r;
	c->log_max_size = get_int(j, "LogMaxSize") > 0 ? get_int(j, "LogMaxSize") : 0;
	c->log_max_file = get_int(j, "LogMaxFile") > 0 && get_int(j, "LogMaxFile") < 1000 ? (int)get_int(j, "LogMaxFile") : 0;
	if ((r = dup_str(j, "Cidfile", &c->cidfile)) < 0 ||
	    (r = dup_str(j, "InitPath", &c->init_path)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "Sysctls"), &c->sysctls, NULL)) < 0 ||
	    (r = strv_from_json(cm_json_get(j, "GroupAdd"), &c->group_add, NULL)) < 0)
		return r;
	for (char **p = c->sysctls; p && *p; p++)
		if (run_parse_sysctl(*p, c->network, err) < 0)
			return -EINVAL;
	c->created = get_int(j, "Created");
	if (!c->argv[0] || !c->rootfs || !c->bundle)
		return cm_error_set(err, -EINVAL, "config.json: no command, rootfs or bundle");
	*ret = TAKE_PTR(c);
	return 0;
}
