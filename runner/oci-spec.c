// SPDX-License-Identifier: MIT
/* An OCI runtime spec (a bundle's config.json, runtime-spec 1.x) translated
 * into the runner's own run_config, so that img-runtime runs it with the
 * code of `img run` (linux.c, mountplan.c, cgroup*.c, seccomp.c). What the
 * runner provides itself (proc, sysfs, the minimal /dev, devpts, shm,
 * mqueue, cgroups) replaces the spec's mounts of those paths. */
#include "run-internal.h"

#include "cm-fs.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static bool is_arr(const struct cm_json *v)
{
	return cm_json_is(v, CM_JSON_ARRAY);
}

/* A JSON array of strings into a NULL-terminated malloc'd vector. */
static int strv_from(const struct cm_json *a, char ***ret, const char *what, struct cm_error *err)
{
	if (!a) {
		*ret = NULL;
		return 0;
	}
	if (!is_arr(a))
		return cm_error_set(err, -EINVAL, "config.json: %s is not an array", what);
	char **v = calloc(a->n + 1, sizeof(char *));
	if (!v)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < a->n; i++) {
		const char *s = cm_json_str(a->v[i]);
		if (!s || !(v[i] = strdup(s))) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return cm_error_set(err, s ? -ENOMEM : -EINVAL, "config.json: %s[%zu] is not a string",
					    what, i);
		}
	}
	*ret = v;
	return 0;
}

static int strv_push(char ***v, const char *s)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	char **nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[n] = strdup(s)))
		return -ENOMEM;
	nv[n + 1] = NULL;
	return 0;
}

/* uidMappings/gidMappings into the text of /proc/PID/uid_map. */
static int idmap_text(const struct cm_json *a, char **ret, struct cm_error *err)
{
	char buf[1024];
	size_t len = 0;
	if (!is_arr(a) || a->n == 0 || a->n > 340)
		return cm_error_set(err, -EINVAL, "config.json: bad uid/gid mappings");
	for (size_t i = 0; i < a->n; i++) {
		int64_t c, h, s;
		if (!cm_json_get_int(a->v[i], "containerID", &c) || !cm_json_get_int(a->v[i], "hostID", &h) ||
		    !cm_json_get_int(a->v[i], "size", &s) || c < 0 || h < 0 || s <= 0)
			return cm_error_set(err, -EINVAL, "config.json: bad uid/gid mapping %zu", i);
		int n = snprintf(buf + len, sizeof(buf) - len, "%lld %lld %lld\n", (long long)c,
				 (long long)h, (long long)s);
		if (n < 0 || (size_t)n >= sizeof(buf) - len)
			return cm_error_set(err, -E2BIG, "config.json: too many uid/gid mappings");
		len += (size_t)n;
	}
	if (!(*ret = strdup(buf)))
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* A spec without a mount namespace: runc then makes / rslave, binds the
 * rootfs, mounts every mount of the spec and creates linux.devices, all in
 * the host's mount namespace, and chroots (libcontainer/rootfs_linux.go
 * prepareRootfs, chroot). We change nothing in the host's mount table
 * (SECURITY.md): only the chroot is done, and a spec that needs a mount is
 * refused; maskedPaths/readonlyPaths as runc's validator refuses them. */
static int host_mnt_check(const struct cm_json *spec, struct cm_error *err)
{
	const struct cm_json *lx = cm_json_get(spec, "linux"), *ms = cm_json_get(spec, "mounts");
	const struct cm_json *ro = cm_json_get(cm_json_get(spec, "root"), "readonly");
	const struct cm_json *mp = cm_json_get(lx, "maskedPaths"), *rp = cm_json_get(lx, "readonlyPaths");
	const struct cm_json *dv = cm_json_get(lx, "devices");
	if (is_arr(ms) && ms->n > 0) {
		const char *d = cm_json_get_str(ms->v[0], "destination");
		return cm_error_set(err, -ENOTSUP,
				    "config.json: mount %s needs a mount namespace (linux.namespaces has no \"mount\": "
				    "it would be made in the host's)", d ? d : "");
	}
	if ((is_arr(mp) && mp->n > 0) || (is_arr(rp) && rp->n > 0))
		return cm_error_set(err, -ENOTSUP, "config.json: unable to restrict sys entries without a private MNT namespace");
	if (ro && ro->type == CM_JSON_BOOL && ro->b)
		return cm_error_set(err, -ENOTSUP,
				    "config.json: root.readonly needs a mount namespace (a remount in the host's)");
	if (is_arr(dv) && dv->n > 0)
		return cm_error_set(err, -ENOTSUP,
				    "config.json: linux.devices need a mount namespace (made on the container's own /dev)");
	return 0;
}

static int parse_namespaces(struct run_config *c, const struct cm_json *ns, struct cm_error *err)
{
	static const struct { const char *name; int idx; } names[] = {
		{ "user", RUN_NS_USER }, { "ipc", RUN_NS_IPC }, { "uts", RUN_NS_UTS },
		{ "network", RUN_NS_NET }, { "pid", RUN_NS_PID }, { "cgroup", RUN_NS_CGROUP },
		{ "mount", RUN_NS_MNT },
	};
	bool seen[RUN_NS_N] = { false };
	if (ns && !is_arr(ns))
		return cm_error_set(err, -EINVAL, "config.json: linux.namespaces is not an array");
	for (size_t i = 0; ns && i < ns->n; i++) {
		const char *t = cm_json_get_str(ns->v[i], "type"), *p = cm_json_get_str(ns->v[i], "path");
		size_t k = 0;
		while (k < CM_ARRAY_SIZE(names) && !cm_streq(names[k].name, t))
			k++;
		if (k == CM_ARRAY_SIZE(names))
			return cm_error_set(err, -EINVAL, "config.json: unknown namespace type '%s'", t ? t : "");
		int idx = names[k].idx;
		if (seen[idx])
			return cm_error_set(err, -EINVAL, "config.json: namespace '%s' given twice", t);
		seen[idx] = true;
		if (p && *p) {
			if (p[0] != '/')
				return cm_error_set(err, -EINVAL, "config.json: namespace path '%s' is not absolute", p);
			if (idx == RUN_NS_MNT)
				return cm_error_set(err, -ENOTSUP, "joining a %s namespace by path is not supported", t);
			if (!(c->ns_path[idx] = strdup(p)))
				return cm_error_set(err, -ENOMEM, "out of memory");
		}
	}
	c->host_mnt = !seen[RUN_NS_MNT];
	c->host_pid = !seen[RUN_NS_PID];
	c->host_uts = !seen[RUN_NS_UTS];
	c->host_ipc = !seen[RUN_NS_IPC];
	c->network = seen[RUN_NS_NET] ? RUN_NET_NONE : RUN_NET_HOST;
	c->userns = seen[RUN_NS_USER];
	c->cgroupns = seen[RUN_NS_CGROUP]; /* v1 and v2 (linux.c) */
	return 0;
}

/* The paths the runner mounts itself (mountplan.c): the spec's mounts there
 * are replaced by ours. */
static bool runner_mount(const char *dest)
{
	static const char *const own[] = { "/proc", "/sys", "/dev", "/dev/pts", "/dev/shm",
					   "/dev/mqueue", "/sys/fs/cgroup" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(own); i++)
		if (cm_streq(dest, own[i]))
			return true;
	return false;
}

static bool has_opt(const struct cm_json *opts, const char *o)
{
	for (size_t i = 0; is_arr(opts) && i < opts->n; i++)
		if (cm_streq(cm_json_str(opts->v[i]), o))
			return true;
	return false;
}

static int parse_mounts(struct run_config *c, const struct cm_json *ms, const char *bundle,
			struct cm_error *err)
{
	if (ms && !is_arr(ms))
		return cm_error_set(err, -EINVAL, "config.json: mounts is not an array");
	for (size_t i = 0; ms && i < ms->n; i++) {
		const struct cm_json *m = ms->v[i], *opts = cm_json_get(m, "options");
		const char *dest = cm_json_get_str(m, "destination");
		const char *type = cm_json_get_str(m, "type"), *src = cm_json_get_str(m, "source");
		if (!dest || dest[0] != '/')
			return cm_error_set(err, -EINVAL, "config.json: mount %zu: destination not absolute", i);
		if (runner_mount(dest)) {
			/* sysfs and the cgroup mount read-write when the spec's
			 * are (docker's privileged spec), else read-only */
			if (cm_streq(dest, "/sys"))
				c->sys_rw = !has_opt(opts, "ro");
			else if (cm_streq(dest, "/sys/fs/cgroup"))
				c->cgroup_rw = !has_opt(opts, "ro");
			/* ours, but /dev/shm's size is the spec's */
			for (size_t k = 0; cm_streq(dest, "/dev/shm") && is_arr(opts) && k < opts->n; k++) {
				const char *o = cm_json_str(opts->v[k]);
				if (o && !strncmp(o, "size=", 5) &&
				    run_parse_bytes(o + 5, &c->shm_size, NULL) < 0)
					return cm_error_set(err, -EINVAL, "config.json: /dev/shm: bad %s", o);
			}
			continue;
		}
		bool bind = has_opt(opts, "bind") || has_opt(opts, "rbind") || cm_streq(type, "bind");
		if (bind) {
			/* under /dev, /proc, /sys the runner's own mounts stay
			 * (mountplan.c refuses volumes there) */
			if (!strncmp(dest, "/dev/", 5) || !strncmp(dest, "/proc/", 6) || !strncmp(dest, "/sys/", 5))
				continue;
			if (!src)
				return cm_error_set(err, -EINVAL, "config.json: bind mount %s without source", dest);
			struct run_volume *nv = realloc(c->vols, (c->n_vols + 1) * sizeof(*nv));
			if (!nv)
				return cm_error_set(err, -ENOMEM, "out of memory");
			c->vols = nv;
			struct run_volume *v = &c->vols[c->n_vols];
			*v = (struct run_volume){ .ro = has_opt(opts, "ro") };
			if (src[0] == '/' ? !(v->host = strdup(src)) : asprintf(&v->host, "%s/%s", bundle, src) < 0)
				return cm_error_set(err, -ENOMEM, "out of memory");
			if (!(v->ctr = strdup(dest))) {
				free(v->host);
				return cm_error_set(err, -ENOMEM, "out of memory");
			}
			c->n_vols++;
		} else if (cm_streq(type, "tmpfs")) {
			/* the options the runner's --tmpfs takes, the rest dropped */
			static const char *const keep[] = { "ro", "rw", "exec", "noexec", "suid", "nosuid",
							    "dev", "nodev" };
			char spec[512];
			size_t len = (size_t)snprintf(spec, sizeof(spec), "%s:", dest);
			for (size_t k = 0; is_arr(opts) && k < opts->n && len < sizeof(spec); k++) {
				const char *o = cm_json_str(opts->v[k]);
				bool ok = o && (!strncmp(o, "size=", 5) || !strncmp(o, "mode=", 5) ||
						!strncmp(o, "uid=", 4) || !strncmp(o, "gid=", 4) ||
						!strncmp(o, "nr_inodes=", 10));
				for (size_t q = 0; o && !ok && q < CM_ARRAY_SIZE(keep); q++)
					ok = cm_streq(o, keep[q]);
				if (ok)
					len += (size_t)snprintf(spec + len, sizeof(spec) - len, "%s%s",
								spec[len - 1] == ':' ? "" : ",", o);
			}
			if (len >= sizeof(spec))
				return cm_error_set(err, -E2BIG, "config.json: tmpfs %s: options too long", dest);
			if (spec[len - 1] == ':')
				spec[len - 1] = '\0';
			if (strv_push(&c->tmpfs, spec) < 0)
				return cm_error_set(err, -ENOMEM, "out of memory");
		} else {
			return cm_error_set(err, -ENOTSUP, "config.json: mount of type '%s' at %s is not supported",
					    type ? type : "", dest);
		}
	}
	return 0;
}

#define RLIM_INF_TEXT "18446744073709551615" /* RLIM_INFINITY, a uint64 */

/* An rlimit's soft or hard value; RLIM_INFINITY (or -1) is -1. */
static bool rlim_value(const struct cm_json *o, const char *key, int64_t *ret)
{
	const struct cm_json *v = cm_json_get(o, key);
	if (!cm_json_is(v, CM_JSON_NUMBER))
		return false;
	if (v->is_int) {
		*ret = v->i < 0 ? -1 : v->i;
		return true;
	}
	if (cm_streq(v->s, RLIM_INF_TEXT)) {
		*ret = -1;
		return true;
	}
	return false;
}

static int parse_process(struct run_config *c, const struct cm_json *p, struct cm_error *err)
{
	int r;
	if (!cm_json_is(p, CM_JSON_OBJECT))
		return cm_error_set(err, -EINVAL, "config.json: no process");
	if ((r = strv_from(cm_json_get(p, "args"), &c->argv, "process.args", err)) < 0)
		return r;
	if (!c->argv || !c->argv[0])
		return cm_error_set(err, -EINVAL, "config.json: process.args is empty");
	if ((r = strv_from(cm_json_get(p, "env"), &c->env, "process.env", err)) < 0)
		return r;
	const char *cwd = cm_json_get_str(p, "cwd");
	if (!cwd || cwd[0] != '/')
		return cm_error_set(err, -EINVAL, "config.json: process.cwd must be an absolute path");
	if (!(c->cwd = strdup(cwd)))
		return -ENOMEM;
	const struct cm_json *t = cm_json_get(p, "terminal");
	c->tty = t && t->type == CM_JSON_BOOL && t->b;

	const struct cm_json *u = cm_json_get(p, "user");
	int64_t uid = 0, gid = 0;
	(void)cm_json_get_int(u, "uid", &uid);
	(void)cm_json_get_int(u, "gid", &gid);
	if (uid < 0 || gid < 0 || uid > UINT32_MAX || gid > UINT32_MAX ||
	    asprintf(&c->user, "%lld:%lld", (long long)uid, (long long)gid) < 0)
		return cm_error_set(err, -EINVAL, "config.json: bad process.user");
	const struct cm_json *ag = cm_json_get(u, "additionalGids");
	if (is_arr(ag) && ag->n) {
		if (!(c->add_gids = calloc(ag->n, sizeof(gid_t))))
			return -ENOMEM;
		for (size_t i = 0; i < ag->n; i++)
			if (ag->v[i]->is_int && ag->v[i]->i >= 0)
				c->add_gids[c->n_add_gids++] = (gid_t)ag->v[i]->i;
	}

	/* capabilities: the bounding set is the container's set (the runner
	 * keeps one set: bounding, and effective+permitted for root) */
	const struct cm_json *caps = cm_json_get(p, "capabilities");
	const struct cm_json *bnd = cm_json_get(caps, "bounding");
	if (!bnd)
		bnd = cm_json_get(caps, "permitted");
	c->cap_drop = RUN_CAP_ALL;
	c->cap_add = 0;
	for (size_t i = 0; is_arr(bnd) && i < bnd->n; i++) {
		uint64_t bit;
		if (run_parse_cap(cm_json_str(bnd->v[i]) ? cm_json_str(bnd->v[i]) : "", &bit, NULL) == 0)
			c->cap_add |= bit; /* a capability this kernel lacks is ignored, as runc does */
	}

	const struct cm_json *rl = cm_json_get(p, "rlimits");
	if (is_arr(rl) && rl->n) {
		if (!(c->ulimits = calloc(rl->n, sizeof(*c->ulimits))))
			return -ENOMEM;
		for (size_t i = 0; i < rl->n; i++) {
			const char *type = cm_json_get_str(rl->v[i], "type");
			int64_t soft, hard;
			if (!type || strncmp(type, "RLIMIT_", 7) != 0 || !rlim_value(rl->v[i], "soft", &soft) ||
			    !rlim_value(rl->v[i], "hard", &hard))
				return cm_error_set(err, -EINVAL, "config.json: bad rlimit %zu", i);
			char spec[96];
			size_t k = 0;
			for (const char *q = type + 7; *q && k < 32; q++)
				spec[k++] = (char)tolower((unsigned char)*q);
			snprintf(spec + k, sizeof(spec) - k, "=%lld:%lld", (long long)soft, (long long)hard);
			if ((r = run_parse_ulimit(spec, &c->ulimits[c->n_ulimits], err)) < 0)
				return r;
			c->n_ulimits++;
		}
	}
	const struct cm_json *nnp = cm_json_get(p, "noNewPrivileges");
	c->new_privs = !(nnp && nnp->type == CM_JSON_BOOL && nnp->b);
	return 0;
}

/* One rule of linux.resources.devices as read (type NULL: any, major and
 * minor -1: any). */
struct dev_rule_in {
	bool allow;
	const char *type, *access;
	int64_t major, minor;
};

static struct dev_rule_in dev_rule_read(const struct cm_json *r)
{
	const struct cm_json *a = cm_json_get(r, "allow");
	struct dev_rule_in d = { .allow = a && a->type == CM_JSON_BOOL && a->b, .major = -1, .minor = -1,
				 .type = cm_json_get_str(r, "type"), .access = cm_json_get_str(r, "access") };
	(void)cm_json_get_int(r, "major", &d.major);
	(void)cm_json_get_int(r, "minor", &d.minor);
	return d;
}

int run_oci_limits(const struct cm_json *res, struct run_limits *lim, struct cm_error *err)
{
	const struct cm_json *mem = cm_json_get(res, "memory"), *cpu = cm_json_get(res, "cpu");
	int64_t v;
	if (res && !cm_json_is(res, CM_JSON_OBJECT))
		return cm_error_set(err, -EINVAL, "linux.resources: not an object");
	if (cm_json_get_int(mem, "limit", &v))
		lim->memory = v > 0 ? v : 0;
	if (cm_json_get_int(mem, "swap", &v) && v != 0)
		lim->memory_swap = v;
	if (cm_json_get_int(mem, "reservation", &v))
		lim->memory_reservation = v > 0 ? v : 0;
	/* swappiness: 0..100; -1 (or a uint64 -1, as some engines write it)
	 * is "not set", as runc reads it */
	const struct cm_json *sw = cm_json_get(mem, "swappiness");
	if (cm_json_is(sw, CM_JSON_NUMBER) && (!sw->is_int || sw->i != -1) &&
	    !(!sw->is_int && cm_streq(sw->s, RLIM_INF_TEXT))) {
		if (!sw->is_int || sw->i < 0 || sw->i > 100)
			return cm_error_set(err, -EINVAL, "linux.resources.memory.swappiness %lld is not in 0..100",
					    sw->is_int ? (long long)sw->i : -2LL);
		lim->swappiness_set = true;
		lim->swappiness = (uint8_t)sw->i;
	}
	const struct cm_json *oom = cm_json_get(mem, "disableOOMKiller");
	if (oom && oom->type == CM_JSON_BOOL)
		lim->oom_kill_disable = oom->b;
	if (cm_json_get_int(cm_json_get(res, "pids"), "limit", &v))
		lim->pids = v > 0 ? v : -1; /* 0 or -1: unlimited */
	if (cm_json_get_int(cpu, "shares", &v) && v > 0)
		lim->cpu_shares = v;
	if (cm_json_get_int(cpu, "quota", &v))
		lim->cpu_quota = v > 0 ? v : 0;
	if (cm_json_get_int(cpu, "period", &v) && v > 0)
		lim->cpu_period = v;
	if (lim->cpu_quota && !lim->cpu_period)
		lim->cpu_period = 100000;
	const char *cpus = cm_json_get_str(cpu, "cpus");
	if (cpus && *cpus) {
		if (strlen(cpus) >= sizeof(lim->cpuset_cpus) || strspn(cpus, "0123456789,-") != strlen(cpus))
			return cm_error_set(err, -EINVAL, "linux.resources.cpu.cpus '%s' is not a cpu list", cpus);
		memcpy(lim->cpuset_cpus, cpus, strlen(cpus) + 1);
	}
	const struct cm_json *bio = cm_json_get(res, "blockIO");
	for (uint32_t k = 0; k < RUN_BLKIO_KINDS; k++) {
		const struct cm_json *a = cm_json_get(bio, run_blkio_kinds[k].oci);
		for (size_t i = 0; is_arr(a) && i < a->n; i++) {
			int64_t ma, mi, rate;
			if (!cm_json_get_int(a->v[i], "major", &ma) || !cm_json_get_int(a->v[i], "minor", &mi) ||
			    !cm_json_get_int(a->v[i], "rate", &rate) || ma < 0 || mi < 0 || rate < 0 ||
			    ma > UINT32_MAX || mi > UINT32_MAX)
				return cm_error_set(err, -EINVAL, "linux.resources.blockIO.%s %zu: needs major, minor and rate",
						    run_blkio_kinds[k].oci, i);
			if (lim->n_throttle == RUN_BLKIO_MAX_THROTTLE)
				return cm_error_set(err, -E2BIG, "linux.resources.blockIO: more than %d throttle rules",
						    RUN_BLKIO_MAX_THROTTLE);
			lim->throttle[lim->n_throttle++] = (struct run_blkio_throttle){
				.rate = (uint64_t)rate, .major = (uint32_t)ma, .minor = (uint32_t)mi, .kind = k };
		}
	}
	if (cm_json_get_int(cm_json_get(res, "blockIO"), "weight", &v) && v != 0) {
		if (v < 10 || v > 1000)
			return cm_error_set(err, -EINVAL, "linux.resources.blockIO.weight %lld is not in 10..1000",
					    (long long)v);
		lim->blkio_weight = v;
	}
	return 0;
}

static int parse_resources(struct run_config *c, const struct cm_json *res, struct cm_error *err)
{
	c->lim.pids = -1; /* no limit asked: none (runc's) */
	int r = run_oci_limits(res, &c->lim, err);
	if (r < 0)
		return cm_error_prefix(err, r, "config.json");
	/* device rules: an "allow all" rule lifts the list (privileged);
	 * else the runner's default set plus the spec's linux.devices, each
	 * with the access of its allow rule (parse_devices) */
	const struct cm_json *dv = cm_json_get(res, "devices");
	for (size_t i = 0; is_arr(dv) && i < dv->n; i++) {
		struct dev_rule_in d = dev_rule_read(dv->v[i]);
		if (d.allow && (!d.type || cm_streq(d.type, "a")) && d.major < 0 && d.minor < 0 &&
		    (!d.access || cm_streq(d.access, "rwm")))
			c->devices_all = true;
		else if (!d.allow)
			c->devices_all = false; /* a deny after allow-all: back to the list */
	}
	return 0;
}

/* The access the spec's device rules give a node (the last matching rule
 * wins, as in the kernel's list); no rule naming it: "rwm", as runc's
 * engines always add one for each of linux.devices. */
static void device_access(const struct cm_json *rules, char type, int64_t mj, int64_t mn, char perms[4])
{
	memcpy(perms, "rwm", 4);
	for (size_t i = 0; is_arr(rules) && i < rules->n; i++) {
		struct dev_rule_in d = dev_rule_read(rules->v[i]);
		if (!d.type || d.type[0] != type || d.major != mj || d.minor != mn)
			continue; /* the catch-all deny and other nodes' rules */
		size_t k = 0;
		for (const char *q = "rwm"; *q; q++)
			if (d.allow && d.access && strchr(d.access, *q))
				perms[k++] = *q;
		perms[k] = '\0';
	}
}

/* An allow rule of resources.devices for c or b nodes that no node of
 * linux.devices has: a cgroup rule of its own (engines allow e.g. the
 * host's /dev/fuse or "c *:* m" this way). */
static int parse_dev_rules(struct run_config *c, const struct cm_json *rules)
{
	for (size_t i = 0; is_arr(rules) && i < rules->n; i++) {
		struct dev_rule_in r = dev_rule_read(rules->v[i]);
		const char *t = r.type, *acc = r.access;
		int64_t mj = r.major, mn = r.minor;
		if (!r.allow || !t || (strcmp(t, "c") && strcmp(t, "b")))
			continue;
		bool node = false;
		for (size_t k = 0; k < c->n_devices && !node; k++)
			node = c->devices[k].type == t[0] && (int64_t)c->devices[k].major == mj &&
			       (int64_t)c->devices[k].minor == mn;
		if (node || mj > INT32_MAX || mn > INT32_MAX)
			continue;
		struct run_device *d = &c->devices[c->n_devices++];
		d->type = t[0];
		d->major = mj < 0 ? RUN_DEV_ANY : (unsigned)mj;
		d->minor = mn < 0 ? RUN_DEV_ANY : (unsigned)mn;
		size_t n = 0;
		for (const char *q = "rwm"; *q; q++)
			if (!acc || strchr(acc, *q))
				d->perms[n++] = *q;
		d->perms[n] = '\0';
	}
	return 0;
}

static int parse_devices(struct run_config *c, const struct cm_json *dv, const struct cm_json *rules,
			 const struct cm_json *an, struct cm_error *err)
{
	size_t nd = is_arr(dv) ? dv->n : 0, nr = is_arr(rules) ? rules->n : 0;
	if (!nd && !nr)
		return 0;
	if (!(c->devices = calloc(nd + nr, sizeof(*c->devices))))
		return -ENOMEM;
	for (size_t i = 0; i < nd; i++) {
		const struct cm_json *o = dv->v[i];
		const char *path = cm_json_get_str(o, "path"), *type = cm_json_get_str(o, "type");
		int64_t mj = 0, mn = 0, fm = 0666, uid = 0, gid = 0;
		bool fifo = cm_streq(type, "p");
		if (!path || strncmp(path, "/dev/", 5) != 0 || strstr(path, "/..") || !type ||
		    (strcmp(type, "c") && strcmp(type, "b") && strcmp(type, "u") && !fifo))
			return cm_error_set(err, -EINVAL, "config.json: bad linux.devices[%zu]", i);
		/* major and minor: required but for a FIFO (runtime-spec) */
		if ((!cm_json_get_int(o, "major", &mj) && !fifo) || (!cm_json_get_int(o, "minor", &mn) && !fifo) ||
		    mj < 0 || mn < 0 || mj > INT32_MAX || mn > INT32_MAX)
			return cm_error_set(err, -EINVAL, "config.json: linux.devices %s: bad major/minor", path);
		if ((cm_json_get(o, "fileMode") && (!cm_json_get_int(o, "fileMode", &fm) || fm < 0)) ||
		    (cm_json_get(o, "uid") && (!cm_json_get_int(o, "uid", &uid) || uid < 0 || uid > UINT32_MAX - 1)) ||
		    (cm_json_get(o, "gid") && (!cm_json_get_int(o, "gid", &gid) || gid < 0 || gid > UINT32_MAX - 1)))
			return cm_error_set(err, -EINVAL, "config.json: linux.devices %s: bad fileMode, uid or gid", path);
		/* the node is made with the spec's mode and owner (runc's mknod),
		 * but in a user namespace, where c and b nodes would not open:
		 * the host's node of that path (or the one img's annotation
		 * names) is bound, checked to be that device */
		struct run_device *d = &c->devices[c->n_devices];
		char key[300];
		snprintf(key, sizeof(key), RUN_OCI_ANN_DEVHOST "%s", path);
		const char *host = cm_json_get_str(an, key);
		if (host && strncmp(host, "/dev/", 5) != 0)
			return cm_error_set(err, -EINVAL, "config.json: annotation %s: not under /dev/", key);
		d->type = fifo ? 'p' : type[0] == 'b' ? 'b' : 'c';
		d->major = (unsigned)mj;
		d->minor = (unsigned)mn;
		d->node = fifo || !c->userns;
		d->mode = (mode_t)fm & 07777; /* a type in fileMode's S_IFMT bits is the type's */
		d->uid = (uid_t)uid;
		d->gid = (gid_t)gid;
		if (fifo)
			d->perms[0] = '\0';
		else
			device_access(rules, d->type, mj, mn, d->perms);
		if (!(d->host = strdup(host ? host : path)) || !(d->ctr = strdup(path)))
			return -ENOMEM;
		c->n_devices++;
	}
	return parse_dev_rules(c, rules);
}

static int parse_hook_list(const struct cm_json *a, struct run_hook **ret, size_t *ret_n,
			   struct cm_error *err)
{
	*ret = NULL;
	*ret_n = 0;
	if (!is_arr(a) || !a->n)
		return 0;
	struct run_hook *h = calloc(a->n, sizeof(*h));
	if (!h)
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; i < a->n && r == 0; i++) {
		const char *path = cm_json_get_str(a->v[i], "path");
		int64_t t = 0;
		if (!path || path[0] != '/') {
			r = cm_error_set(err, -EINVAL, "config.json: hook %zu: path must be absolute", i);
			break;
		}
		if (cm_json_get_int(a->v[i], "timeout", &t) && t <= 0) {
			r = cm_error_set(err, -EINVAL, "config.json: hook %s: timeout must be positive", path);
			break;
		}
		h[i].timeout = (int)t;
		if (!(h[i].path = strdup(path)))
			r = -ENOMEM;
		else if ((r = strv_from(cm_json_get(a->v[i], "args"), &h[i].args, "hook args", err)) == 0)
			r = strv_from(cm_json_get(a->v[i], "env"), &h[i].env, "hook env", err);
		*ret_n = i + 1;
	}
	if (r < 0) {
		run_hooks_free(h, a->n);
		*ret_n = 0;
		return r;
	}
	*ret = h;
	return 0;
}

int run_oci_hooks(const struct cm_json *spec, const char *kind, struct run_hook **ret,
		  size_t *ret_n, struct cm_error *err)
{
	return parse_hook_list(cm_json_get(cm_json_get(spec, "hooks"), kind), ret, ret_n, err);
}

/* linux.resources.memory.kernel / kernelTCP: runc (1.1 on, create and
 * update) ignores both and says so; so do we (v2 has no such limit). */
bool run_oci_kmem_set(const struct cm_json *res)
{
	const struct cm_json *mem = cm_json_get(res, "memory");
	int64_t v;
	return cm_json_get_int(mem, "kernel", &v) || cm_json_get_int(mem, "kernelTCP", &v);
}

size_t run_oci_unknown_caps(const struct cm_json *spec, char *buf, size_t sz)
{
	static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted", "ambient" };
	const struct cm_json *caps = cm_json_get(cm_json_get(spec, "process"), "capabilities");
	size_t n = 0, len = 0;
	if (sz)
		buf[0] = '\0';
	for (size_t k = 0; k < CM_ARRAY_SIZE(sets); k++) {
		const struct cm_json *a = cm_json_get(caps, sets[k]);
		for (size_t i = 0; is_arr(a) && i < a->n; i++) {
			const char *name = cm_json_str(a->v[i]) ? cm_json_str(a->v[i]) : "";
			uint64_t bit;
			if (run_parse_cap(name, &bit, NULL) == 0)
				continue;
			/* once: a set seen before that holds it */
			bool seen = false;
			for (size_t k2 = 0; k2 <= k && !seen; k2++) {
				const struct cm_json *b = cm_json_get(caps, sets[k2]);
				for (size_t j = 0; is_arr(b) && j < (k2 == k ? i : b->n) && !seen; j++)
					seen = cm_streq(cm_json_str(b->v[j]), name);
			}
			if (seen)
				continue;
			n++;
			if (len < sz) {
				int w = snprintf(buf + len, sz - len, "%s%s", len ? " " : "", name);
				len += w > 0 ? (size_t)w : 0;
			}
		}
	}
	return n;
}

/* linux.sysctl: only the keys a namespace of the container's own scopes,
 * as runc's validator has it; a write to any other key (kernel.panic...)
 * would change the host's kernel, whatever the mount namespace. */
static int sysctl_check(const struct run_config *c, const char *k, struct cm_error *err)
{
	char key[256]; /* the slashed form (net/ipv4/...) is the same key */
	if (snprintf(key, sizeof(key), "%s", k) >= (int)sizeof(key))
		return cm_error_set(err, -EINVAL, "config.json: linux.sysctl %.64s...: too long", k);
	for (char *q = key; *q; q++)
		if (*q == '/')
			*q = '.';
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					   "kernel.sem", "kernel.shmall", "kernel.shmmax",
					   "kernel.shmmni", "kernel.shm_rmid_forced" };
	const char *ns = NULL;
	bool host = false;
	for (size_t i = 0; i < CM_ARRAY_SIZE(ipc); i++)
		if (strcmp(key, ipc[i]) == 0)
			ns = "ipc", host = c->host_ipc;
	if (strncmp(key, "fs.mqueue.", 10) == 0)
		ns = "ipc", host = c->host_ipc;
	else if (strncmp(key, "net.", 4) == 0)
		ns = "network", host = c->network == RUN_NET_HOST;
	else if (strcmp(key, "kernel.domainname") == 0)
		ns = "uts", host = c->host_uts;
	if (!ns || strstr(key, ".."))
		return cm_error_set(err, -EINVAL, "config.json: linux.sysctl %s: not in a separate kernel namespace", key);
	if (host)
		return cm_error_set(err, -EINVAL, "config.json: linux.sysctl %s: not allowed in the host's %s namespace", key, ns);
	return 0;
}

int run_oci_config(const struct cm_json *spec, const char *bundle, const char *id,
		   struct run_config **ret, struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = calloc(1, sizeof(*c));
	int r;
	if (!c)
		return cm_error_set(err, -ENOMEM, "out of memory");
	const char *ver = cm_json_get_str(spec, "ociVersion");
	if (!ver || strncmp(ver, "1.", 2) != 0)
		return cm_error_set(err, -EINVAL, "config.json: ociVersion '%s' is not 1.x", ver ? ver : "");
	if (strlen(id) > RUN_ID_LEN)
		return cm_error_set(err, -EINVAL, "container id '%s' is longer than %d", id, RUN_ID_LEN);
	memcpy(c->id, id, strlen(id) + 1);
	c->oci = true;
	c->paths_set = true;
	c->new_privs = true;

	const struct cm_json *root = cm_json_get(spec, "root");
	const char *rp = cm_json_get_str(root, "path");
	if (!rp || !*rp)
		return cm_error_set(err, -EINVAL, "config.json: no root.path");
	if (rp[0] == '/' ? !(c->rootfs = strdup(rp)) : asprintf(&c->rootfs, "%s/%s", bundle, rp) < 0)
		return -ENOMEM;
	const struct cm_json *ro = cm_json_get(root, "readonly");
	c->read_only = ro && ro->type == CM_JSON_BOOL && ro->b;
	const char *hn = cm_json_get_str(spec, "hostname");
	if (hn && *hn && !(c->hostname = strdup(hn)))
		return -ENOMEM;

	if ((r = parse_process(c, cm_json_get(spec, "process"), err)) < 0)
		return r;
	const struct cm_json *lx = cm_json_get(spec, "linux");
	if ((r = parse_namespaces(c, cm_json_get(lx, "namespaces"), err)) < 0)
		return r;
	if (c->userns) {
		if ((cm_json_get(lx, "uidMappings") && (r = idmap_text(cm_json_get(lx, "uidMappings"), &c->uid_map, err)) < 0) ||
		    (cm_json_get(lx, "gidMappings") && (r = idmap_text(cm_json_get(lx, "gidMappings"), &c->gid_map, err)) < 0))
			return r;
	}
	if ((r = parse_mounts(c, cm_json_get(spec, "mounts"), bundle, err)) < 0 ||
	    (r = parse_resources(c, cm_json_get(lx, "resources"), err)) < 0 ||
	    (r = parse_devices(c, cm_json_get(lx, "devices"), cm_json_get(cm_json_get(lx, "resources"), "devices"),
			       cm_json_get(spec, "annotations"), err)) < 0)
		return r;
	/* v1: a cgroup namespace of its own mounts its cpuset group (mountplan.c) */
	c->lim.cpuset_group = c->cgroupns;
	if ((r = strv_from(cm_json_get(lx, "maskedPaths"), &c->masked, "linux.maskedPaths", err)) < 0 ||
	    (r = strv_from(cm_json_get(lx, "readonlyPaths"), &c->readonly_paths, "linux.readonlyPaths", err)) < 0)
		return r;
	const struct cm_json *sc = cm_json_get(lx, "sysctl");
	for (size_t i = 0; cm_json_is(sc, CM_JSON_OBJECT) && i < sc->n; i++) {
		char *kv = NULL;
		const char *v = cm_json_str(sc->v[i]);
		if ((r = sysctl_check(c, sc->k[i], err)) < 0)
			return r;
		if (!v || asprintf(&kv, "%s=%s", sc->k[i], v) < 0 || strv_push(&c->sysctls, kv) < 0) {
			free(kv);
			return cm_error_set(err, -EINVAL, "config.json: bad linux.sysctl %s", sc->k[i]);
		}
		free(kv);
	}

	if (c->host_mnt && (r = host_mnt_check(spec, err)) < 0)
		return r;

	/* cgroupsPath: "/a/b/name" or "a/b/name" under the cgroup root;
	 * systemd's "slice:prefix:name" needs --systemd-cgroup (refused) */
	const char *cp = cm_json_get_str(lx, "cgroupsPath");
	if (cp && strchr(cp, ':'))
		return cm_error_set(err, -ENOTSUP, "cgroupsPath '%s' is systemd's form: the systemd cgroup driver is not supported", cp);
	if (cp && *cp) {
		while (*cp == '/')
			cp++;
		if (strstr(cp, "..") || !*cp)
			return cm_error_set(err, -EINVAL, "config.json: bad cgroupsPath");
		const char *slash = strrchr(cp, '/');
		if (!(c->cgroup_name = strdup(slash ? slash + 1 : cp)) ||
		    !(c->cgroup_parent = slash ? strndup(cp, (size_t)(slash - cp)) : strdup("/")))
			return -ENOMEM;
	} else if (!(c->cgroup_parent = strdup("img-runtime"))) {
		return -ENOMEM;
	}
	const char *cgr = run_cgroup_default_root();
	if (cgr && !(c->cgroup_root = strdup(cgr)))
		return -ENOMEM;

	/* seccomp: the OCI form is the subset of docker's profile format that
	 * seccomp.c reads (defaultAction, architectures, syscalls[names,
	 * action, errnoRet, args]); none: unconfined */
	const struct cm_json *sec = cm_json_get(lx, "seccomp");
	if (sec) {
		struct cm_jw w;
		cm_jw_init(&w, 0);
		cm_jw_value(&w, sec);
		if ((r = cm_jw_finish(&w, &c->seccomp, NULL)) < 0)
			return cm_error_set(err, r, "config.json: linux.seccomp");
	} else if (!(c->seccomp = strdup("unconfined"))) {
		return -ENOMEM;
	}
	/* img's own annotations (run_oci_spec_write): what the runner does
	 * that a spec does not say; an engine's spec has none of them */
	const struct cm_json *an = cm_json_get(spec, "annotations");
	const char *user = cm_json_get_str(an, RUN_OCI_ANN_USER);
	if (user && *user) {
		free(c->user);
		if (!(c->user = strdup(user)))
			return -ENOMEM;
	}
	const char *groups = cm_json_get_str(an, RUN_OCI_ANN_GROUPS);
	if (groups && *groups) {
		_cleanup_free_ char *g = strdup(groups);
		if (!g)
			return -ENOMEM;
		for (char *save = NULL, *tok = strtok_r(g, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (strv_push(&c->group_add, tok) < 0)
				return -ENOMEM;
	}
	if (cm_streq(cm_json_get_str(an, RUN_OCI_ANN_NETWORK), "bridge") && c->network == RUN_NET_NONE)
		c->network = RUN_NET_BRIDGE;
	if ((r = parse_hook_list(cm_json_get(cm_json_get(spec, "hooks"), "startContainer"),
				 &c->start_hooks, &c->n_start_hooks, err)) < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* ------------------------------------------------------------ config -> spec */

static void jw_strv(struct cm_jw *w, const char *key, char *const *v)
{
	cm_jw_key(w, key);
	cm_jw_arr(w);
	for (; v && *v; v++)
		cm_jw_str(w, *v);
	cm_jw_arr_end(w);
}

static void jw_mount(struct cm_jw *w, const char *dest, const char *type, const char *src,
		     const char *const *opts, size_t n)
{
	cm_jw_obj(w);
	cm_jw_kstr(w, "destination", dest);
	cm_jw_kstr(w, "type", type);
	cm_jw_kstr(w, "source", src);
	cm_jw_key(w, "options");
	cm_jw_arr(w);
	for (size_t i = 0; i < n; i++)
		if (opts[i])
			cm_jw_str(w, opts[i]);
	cm_jw_arr_end(w);
	cm_jw_obj_end(w);
}

static void jw_caps(struct cm_jw *w, uint64_t caps)
{
	static const char *const sets[] = { "bounding", "effective", "permitted" };
	cm_jw_key(w, "capabilities");
	cm_jw_obj(w);
	for (size_t k = 0; k < CM_ARRAY_SIZE(sets); k++) {
		cm_jw_key(w, sets[k]);
		cm_jw_arr(w);
		for (int i = 0; i < 64; i++)
			if ((caps >> i) & 1) {
				char n[64];
				snprintf(n, sizeof(n), "CAP_%s", run_cap_name(i));
				cm_jw_str(w, n);
			}
		cm_jw_arr_end(w);
	}
	cm_jw_obj_end(w);
}

static void jw_rlimit(struct cm_jw *w, const char *key, int64_t v)
{
	struct cm_json inf = { .type = CM_JSON_NUMBER, .s = (char *)RLIM_INF_TEXT };
	cm_jw_key(w, key);
	if (v < 0)
		cm_jw_value(w, &inf);
	else
		cm_jw_int(w, v);
}

static void jw_process(struct cm_jw *w, const struct run_config *c)
{
	cm_jw_key(w, "process");
	cm_jw_obj(w);
	cm_jw_key(w, "terminal");
	cm_jw_bool(w, c->tty);
	/* the user as img run names it (NAME[:GROUP] too) is resolved in the
	 * container after pivot_root (linux.c), never from the host: the
	 * annotation carries it, uid/gid 0 are placeholders */
	cm_jw_key(w, "user");
	cm_jw_obj(w);
	cm_jw_kint(w, "uid", 0);
	cm_jw_kint(w, "gid", 0);
	cm_jw_obj_end(w);
	jw_strv(w, "args", c->argv);
	jw_strv(w, "env", c->env);
	cm_jw_kstr(w, "cwd", c->cwd ? c->cwd : "/");
	jw_caps(w, run_caps_effective(c));
	cm_jw_key(w, "rlimits");
	cm_jw_arr(w);
	for (size_t i = 0; i < c->n_ulimits; i++) {
		char t[64];
		size_t k = (size_t)snprintf(t, sizeof(t), "RLIMIT_%s", run_ulimit_name(c->ulimits[i].resource));
		for (size_t q = 7; q < k && q < sizeof(t); q++)
			t[q] = (char)toupper((unsigned char)t[q]);
		cm_jw_obj(w);
		cm_jw_kstr(w, "type", t);
		jw_rlimit(w, "soft", c->ulimits[i].soft);
		jw_rlimit(w, "hard", c->ulimits[i].hard);
		cm_jw_obj_end(w);
	}
	cm_jw_arr_end(w);
	cm_jw_key(w, "noNewPrivileges");
	cm_jw_bool(w, !c->new_privs);
	cm_jw_obj_end(w);
}

static int jw_mounts(struct cm_jw *w, const struct run_config *c, struct cm_error *err)
{
	static const char *const nse[] = { "nosuid", "noexec", "nodev" };
	static const char *const o_dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k" };
	static const char *const o_pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
					     "mode=0620", "gid=5" };
	char shm[64];
	snprintf(shm, sizeof(shm), "size=%lld", (long long)(c->shm_size > 0 ? c->shm_size : 64 << 20));
	const char *o_shm[] = { "nosuid", "noexec", "nodev", "mode=1777", shm };
	const char *o_sys[] = { "nosuid", "noexec", "nodev", c->privileged ? "rw" : "ro" };
	/* docker's privileged spec: sysfs and cgroup rw, the rest as always */
	cm_jw_key(w, "mounts");
	cm_jw_arr(w);
	jw_mount(w, "/proc", "proc", "proc", nse, CM_ARRAY_SIZE(nse));
	jw_mount(w, "/dev", "tmpfs", "tmpfs", o_dev, CM_ARRAY_SIZE(o_dev));
	jw_mount(w, "/dev/pts", "devpts", "devpts", o_pts, CM_ARRAY_SIZE(o_pts));
	jw_mount(w, "/dev/shm", "tmpfs", "shm", o_shm, CM_ARRAY_SIZE(o_shm));
	jw_mount(w, "/dev/mqueue", "mqueue", "mqueue", nse, CM_ARRAY_SIZE(nse));
	jw_mount(w, "/sys", "sysfs", "sysfs", o_sys, CM_ARRAY_SIZE(o_sys));
	jw_mount(w, "/sys/fs/cgroup", "cgroup", "cgroup", o_sys, CM_ARRAY_SIZE(o_sys));
	for (size_t i = 0; i < c->n_vols; i++) {
		const char *o[] = { "rbind", c->vols[i].ro ? "ro" : "rw" };
		jw_mount(w, c->vols[i].ctr, "bind", c->vols[i].host, o, CM_ARRAY_SIZE(o));
	}
	for (char **t = c->tmpfs; t && *t; t++) {
		const char *colon = strchr(*t, ':');
		char dest[256], opts[256];
		const char *o[16];
		size_t n = 0;
		snprintf(dest, sizeof(dest), "%.*s", colon ? (int)(colon - *t) : (int)strlen(*t), *t);
		if (snprintf(opts, sizeof(opts), "%s", colon ? colon + 1 : "") >= (int)sizeof(opts))
			return cm_error_set(err, -E2BIG, "--tmpfs %s: options too long", *t);
		for (char *save = NULL, *tok = strtok_r(opts, ",", &save); tok && n < CM_ARRAY_SIZE(o);
		     tok = strtok_r(NULL, ",", &save))
			o[n++] = tok;
		jw_mount(w, dest, "tmpfs", "tmpfs", o, n);
	}
	cm_jw_arr_end(w);
	return 0;
}

/* The members of a linux.resources object for every field of run_limits
 * (0 = not set: left out; pids -1 or 0: -1, unlimited). */
void run_oci_limits_write(struct cm_jw *w, const struct run_limits *l)
{
	const struct { const char *obj, *key; int64_t v; } f[] = {
		{ "memory", "limit", l->memory }, { "memory", "swap", l->memory_swap },
		{ "memory", "reservation", l->memory_reservation },
		{ "cpu", "shares", l->cpu_shares }, { "cpu", "quota", l->cpu_quota },
		{ "cpu", "period", l->cpu_period },
	};
	for (size_t i = 0; i < CM_ARRAY_SIZE(f); i++) {
		if (i == 0 || strcmp(f[i].obj, f[i - 1].obj) != 0) {
			cm_jw_key(w, f[i].obj);
			cm_jw_obj(w);
		}
		if (f[i].v)
			cm_jw_kint(w, f[i].key, f[i].v);
		if (i + 1 < CM_ARRAY_SIZE(f) && strcmp(f[i].obj, f[i + 1].obj) == 0)
			continue;
		/* the last of its object: the members that are not numbers */
		if (!strcmp(f[i].obj, "memory")) {
			cm_jw_key(w, "disableOOMKiller");
			cm_jw_bool(w, l->oom_kill_disable);
			if (l->swappiness_set)
				cm_jw_kint(w, "swappiness", l->swappiness);
		} else if (l->cpuset_cpus[0]) {
			cm_jw_kstr(w, "cpus", l->cpuset_cpus);
		}
		cm_jw_obj_end(w);
	}
	cm_jw_key(w, "pids");
	cm_jw_obj(w);
	cm_jw_kint(w, "limit", l->pids ? l->pids : -1);
	cm_jw_obj_end(w);
	if (l->blkio_weight || l->n_throttle) {
		cm_jw_key(w, "blockIO");
		cm_jw_obj(w);
		if (l->blkio_weight)
			cm_jw_kint(w, "weight", l->blkio_weight);
		for (uint32_t k = 0; k < RUN_BLKIO_KINDS; k++) {
			bool any = false;
			for (uint32_t i = 0; i < l->n_throttle; i++) {
				const struct run_blkio_throttle *t = &l->throttle[i];
				if (t->kind != k)
					continue;
				if (!any) {
					cm_jw_key(w, run_blkio_kinds[k].oci);
					cm_jw_arr(w);
					any = true;
				}
				cm_jw_obj(w);
				cm_jw_kint(w, "major", t->major);
				cm_jw_kint(w, "minor", t->minor);
				cm_jw_kint(w, "rate", (int64_t)t->rate);
				cm_jw_obj_end(w);
			}
			if (any)
				cm_jw_arr_end(w);
		}
		cm_jw_obj_end(w);
	}
}

/* One rule of linux.resources.devices (type 0: any, major/minor -1: any). */
static void jw_dev_rule(struct cm_jw *w, bool allow, char type, int64_t major, int64_t minor,
			const char *access)
{
	char t[2] = { type, 0 };
	cm_jw_obj(w);
	cm_jw_key(w, "allow");
	cm_jw_bool(w, allow);
	if (type)
		cm_jw_kstr(w, "type", t);
	if (major >= 0)
		cm_jw_kint(w, "major", major);
	if (minor >= 0)
		cm_jw_kint(w, "minor", minor);
	cm_jw_kstr(w, "access", access);
	cm_jw_obj_end(w);
}

/* linux.resources: the limits, then the device rules: deny all,
 * the runner's default set is implied, each --device with its perms,
 * allow-all for --privileged */
static void jw_resources(struct cm_jw *w, const struct run_config *c)
{
	/* pids 0 (img run's "not set"): its default where the container's
	 * cgroup tree has the controller, else none (a spec's limit is one
	 * asked for, refused on a v2 tree without it) */
	struct run_limits l = c->lim;
	if (!l.pids)
		l.pids = run_cgroup_has(c->cgroup_root, "pids") ? RUN_DEFAULT_PIDS_LIMIT : -1;
	cm_jw_key(w, "resources");
	cm_jw_obj(w);
	run_oci_limits_write(w, &l);
	cm_jw_key(w, "devices");
	cm_jw_arr(w);
	jw_dev_rule(w, false, 0, -1, -1, "rwm");
	for (size_t i = 0; i < c->n_devices; i++)
		jw_dev_rule(w, true, c->devices[i].type,
			    c->devices[i].major == RUN_DEV_ANY ? -1 : (int64_t)c->devices[i].major,
			    c->devices[i].minor == RUN_DEV_ANY ? -1 : (int64_t)c->devices[i].minor,
			    c->devices[i].perms);
	if (c->privileged)
		jw_dev_rule(w, true, 'a', -1, -1, "rwm");
	cm_jw_arr_end(w);
	cm_jw_obj_end(w);
}

/* One node of linux.devices: the mode and owner of the host's node, as
 * docker reads them for --device (the runtime makes the node with them). */
static void jw_device(struct cm_jw *w, const char *path, const char *type, unsigned major,
		      unsigned minor, const char *host)
{
	struct stat st;
	cm_jw_obj(w);
	cm_jw_kstr(w, "path", path);
	cm_jw_kstr(w, "type", type);
	cm_jw_kint(w, "major", major);
	cm_jw_kint(w, "minor", minor);
	if (host && stat(host, &st) == 0) {
		cm_jw_kint(w, "fileMode", st.st_mode & 07777);
		cm_jw_kint(w, "uid", st.st_uid);
		cm_jw_kint(w, "gid", st.st_gid);
	}
	cm_jw_obj_end(w);
}

/* --privileged: every char and block node of the host's /dev (dir, at
 * most 4 levels down) as a node of linux.devices with its mode and owner,
 * as docker's spec lists them for runc; symlinks, the host's devpts, shm,
 * mqueue, console and ptmx are left out (docker's list). */
static void jw_host_devices(struct cm_jw *w, int dir, const char *prefix, int depth)
{
	static const char *const skip[] = { "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts",
					    ".udev", "console", "ptmx" };
	DIR *d = cm_opendir_at(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		bool skipped = !strcmp(n, ".") || !strcmp(n, "..");
		for (size_t i = 0; depth == 0 && i < CM_ARRAY_SIZE(skip); i++)
			skipped = skipped || !strcmp(n, skip[i]);
		struct stat st;
		char path[256];
		if (skipped || fstatat(dir, n, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    snprintf(path, sizeof(path), "%s/%s", prefix, n) >= (int)sizeof(path))
			continue;
		if (S_ISDIR(st.st_mode) && depth < 4) {
			_cleanup_close_ int sub = openat(dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				jw_host_devices(w, sub, path, depth + 1);
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			cm_jw_obj(w);
			cm_jw_kstr(w, "path", path);
			cm_jw_kstr(w, "type", S_ISBLK(st.st_mode) ? "b" : "c");
			cm_jw_kint(w, "major", major(st.st_rdev));
			cm_jw_kint(w, "minor", minor(st.st_rdev));
			cm_jw_kint(w, "fileMode", st.st_mode & 07777);
			cm_jw_kint(w, "uid", st.st_uid);
			cm_jw_kint(w, "gid", st.st_gid);
			cm_jw_obj_end(w);
		}
	}
	closedir(d);
}

static void jw_linux(struct cm_jw *w, const struct run_config *c, const char *seccomp_json)
{
	cm_jw_key(w, "linux");
	cm_jw_obj(w);
	cm_jw_key(w, "namespaces");
	cm_jw_arr(w);
	const struct { const char *type; bool on; } ns[] = {
		{ "mount", true }, { "ipc", !c->host_ipc }, { "pid", !c->host_pid },
		{ "uts", !c->host_uts }, { "network", c->network != RUN_NET_HOST },
		{ "user", c->userns }, { "cgroup", c->cgroupns },
	};
	for (size_t i = 0; i < CM_ARRAY_SIZE(ns); i++) {
		if (!ns[i].on)
			continue;
		cm_jw_obj(w);
		cm_jw_kstr(w, "type", ns[i].type);
		cm_jw_obj_end(w);
	}
	cm_jw_arr_end(w);
	if (c->userns) {
		static const char *const maps[] = { "uidMappings", "gidMappings" };
		for (size_t i = 0; i < 2; i++) {
			cm_jw_key(w, maps[i]);
			cm_jw_arr(w);
			cm_jw_obj(w);
			cm_jw_kint(w, "containerID", 0);
			cm_jw_kint(w, "hostID", RUN_USERNS_BASE);
			cm_jw_kint(w, "size", RUN_USERNS_SIZE);
			cm_jw_obj_end(w);
			cm_jw_arr_end(w);
		}
	}
	jw_resources(w, c);
	cm_jw_key(w, "devices");
	cm_jw_arr(w);
	for (size_t i = 0; i < c->n_devices; i++) {
		char t[2] = { c->devices[i].type, 0 };
		if (!c->devices[i].host)
			continue; /* a rule only: in resources.devices */
		jw_device(w, c->devices[i].ctr, t, c->devices[i].major, c->devices[i].minor, c->devices[i].host);
	}
	if (c->privileged) {
		_cleanup_close_ int dev = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dev >= 0)
			jw_host_devices(w, dev, "/dev", 0);
	}
	cm_jw_arr_end(w);
	if (c->sysctls && c->sysctls[0]) {
		cm_jw_key(w, "sysctl");
		cm_jw_obj(w);
		for (char **kv = c->sysctls; *kv; kv++) {
			const char *eq = strchr(*kv, '=');
			char k[256];
			if (!eq || (size_t)(eq - *kv) >= sizeof(k))
				continue; /* checked by img run */
			snprintf(k, sizeof(k), "%.*s", (int)(eq - *kv), *kv);
			cm_jw_kstr(w, k, eq + 1);
		}
		cm_jw_obj_end(w);
	}
	char cgp[1024];
	snprintf(cgp, sizeof(cgp), "/%s/%s", c->cgroup_parent && *c->cgroup_parent ? c->cgroup_parent : "img",
		 c->cgroup_name ? c->cgroup_name : c->id);
	cm_jw_kstr(w, "cgroupsPath", cgp);
	if (seccomp_json) {
		_cleanup_json_ struct cm_json *sj = NULL;
		if (cm_json_parse(seccomp_json, strlen(seccomp_json), &sj, NULL, 0) == 0) {
			cm_jw_key(w, "seccomp");
			cm_jw_value(w, sj);
		}
	}
	/* docker's lists unless --privileged or systempaths=unconfined */
	bool none = c->privileged || c->systempaths_unconfined;
	const char *const *m, *const *ro;
	size_t nm, nro;
	run_plan_default_paths(&m, &nm, &ro, &nro);
	cm_jw_key(w, "maskedPaths");
	cm_jw_arr(w);
	for (size_t i = 0; !none && i < nm; i++)
		cm_jw_str(w, m[i]);
	cm_jw_arr_end(w);
	cm_jw_key(w, "readonlyPaths");
	cm_jw_arr(w);
	for (size_t i = 0; !none && i < nro; i++)
		cm_jw_str(w, ro[i]);
	cm_jw_arr_end(w);
	cm_jw_obj_end(w);
}

int run_oci_spec_write(const struct run_config *c, struct cm_jw *w, struct cm_error *err)
{
	if (!c->rootfs)
		return cm_error_set(err, -EINVAL, "no rootfs");
	cm_jw_obj(w);
	cm_jw_kstr(w, "ociVersion", "1.0.2");
	jw_process(w, c);
	cm_jw_key(w, "root");
	cm_jw_obj(w);
	cm_jw_kstr(w, "path", c->rootfs);
	cm_jw_key(w, "readonly");
	cm_jw_bool(w, c->read_only);
	cm_jw_obj_end(w);
	if (c->hostname)
		cm_jw_kstr(w, "hostname", c->hostname);
	int r = jw_mounts(w, c, err);
	if (r < 0)
		return r;
	const char *sec = NULL;
	if (!c->privileged && !cm_streq(c->seccomp, "unconfined"))
		sec = c->seccomp ? c->seccomp : run_seccomp_default_profile();
	jw_linux(w, c, sec);
	cm_jw_key(w, "annotations");
	cm_jw_obj(w);
	if (c->user)
		cm_jw_kstr(w, RUN_OCI_ANN_USER, c->user);
	cm_jw_kstr(w, RUN_OCI_ANN_NETWORK, run_network_name(c->network));
	for (size_t i = 0; i < c->n_devices; i++) {
		char key[300];
		if (!c->devices[i].host || cm_streq(c->devices[i].host, c->devices[i].ctr))
			continue;
		snprintf(key, sizeof(key), RUN_OCI_ANN_DEVHOST "%s", c->devices[i].ctr);
		cm_jw_kstr(w, key, c->devices[i].host);
	}
	if (c->group_add && c->group_add[0]) {
		/* --group-add NAME|GID: resolved in the container, as the user */
		char g[1024];
		size_t n = 0;
		for (char **p = c->group_add; *p && n < sizeof(g); p++)
			n += (size_t)snprintf(g + n, sizeof(g) - n, "%s%s", n ? "," : "", *p);
		if (n >= sizeof(g))
			return cm_error_set(err, -E2BIG, "--group-add: too many groups");
		cm_jw_kstr(w, RUN_OCI_ANN_GROUPS, g);
	}
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	return 0;
}

#define SWAP(a, b)                           \
	do {                                 \
		__typeof__(a) tmp_ = (a);    \
		(a) = (b);                   \
		(b) = tmp_;                  \
	} while (0)

/* BUNDLE/config.json by temp + rename, not synced: made again at every
 * start from runner.json (a crash leaves the old one or the new one) */
static int write_derived(const char *bundle, const char *text, size_t len)
{
	char tmp[4200], dst[4200];
	snprintf(tmp, sizeof(tmp), "%s/.config.json.tmp", bundle);
	snprintf(dst, sizeof(dst), "%s/config.json", bundle);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = fd < 0 ? cm_neg_errno() : cm_write_all(fd, text, len);
	if (r == 0 && rename(tmp, dst) < 0)
		r = cm_neg_errno();
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

int run_oci_bundle_apply(struct run_config *c, struct cm_error *err)
{
	struct cm_jw w;
	_cleanup_free_ char *text = NULL;
	size_t len;
	cm_jw_init(&w, 2);
	int r = run_oci_spec_write(c, &w, err);
	if (r < 0) {
		cm_jw_free(&w);
		return r;
	}
	if ((r = cm_jw_finish(&w, &text, &len)) < 0 || (r = write_derived(c->bundle, text, len)) < 0)
		return cm_error_set(err, r, "writing the container's config.json: %s", strerror(-r));
	_cleanup_json_ struct cm_json *j = NULL;
	char eb[128] = "";
	if ((r = cm_json_parse(text, len, &j, eb, sizeof(eb))) < 0)
		return cm_error_set(err, r, "the container's config.json: %s", eb);
	_cleanup_run_config_ struct run_config *s = NULL;
	if ((r = run_oci_config(j, c->bundle, c->id, &s, err)) < 0)
		return cm_error_prefix(err, r, "the container's config.json");
	/* everything a spec says comes from it: the process, root, hostname,
	 * mounts, namespaces, security, limits, devices, the cgroup's path
	 * and sysctls. What stays runner.json's is what docker keeps in its
	 * daemon rather than hand runc: the network set-up (veth, NAT,
	 * ports, dns and hosts files), restart, logs, health, --init, and
	 * the host's cgroup mount (cgroup_root) */
	SWAP(c->argv, s->argv);
	SWAP(c->env, s->env);
	SWAP(c->cwd, s->cwd);
	SWAP(c->user, s->user);
	SWAP(c->group_add, s->group_add);
	SWAP(c->rootfs, s->rootfs);
	SWAP(c->hostname, s->hostname);
	SWAP(c->vols, s->vols);
	SWAP(c->n_vols, s->n_vols);
	SWAP(c->tmpfs, s->tmpfs);
	SWAP(c->ulimits, s->ulimits);
	SWAP(c->n_ulimits, s->n_ulimits);
	/* NULL: the default profile, by reference (its filter cache) */
	if (c->seccomp || cm_streq(s->seccomp, "unconfined"))
		SWAP(c->seccomp, s->seccomp);
	SWAP(c->masked, s->masked);
	SWAP(c->readonly_paths, s->readonly_paths);
	SWAP(c->devices, s->devices);
	SWAP(c->n_devices, s->n_devices);
	SWAP(c->sysctls, s->sysctls);
	SWAP(c->cgroup_parent, s->cgroup_parent);
	SWAP(c->cgroup_name, s->cgroup_name);
	c->lim = s->lim;
	c->devices_all = s->devices_all;
	c->tty = s->tty;
	c->read_only = s->read_only;
	c->shm_size = s->shm_size;
	c->cap_add = s->cap_add;
	c->cap_drop = s->cap_drop;
	c->new_privs = s->new_privs;
	c->paths_set = s->paths_set;
	c->host_pid = s->host_pid;
	c->host_uts = s->host_uts;
	c->host_ipc = s->host_ipc;
	c->userns = s->userns;
	c->cgroupns = s->cgroupns;
	c->sys_rw = s->sys_rw;
	c->cgroup_rw = s->cgroup_rw;
	/* --privileged and systempaths=unconfined are in the spec now (all
	 * capabilities, no seccomp, the host's devices, an allow-all device
	 * rule, sysfs and cgroup rw, empty masked and read-only lists): the
	 * runner must not act on runner.json's flags beside it */
	c->privileged = false;
	c->systempaths_unconfined = false;
	return 0;
}
