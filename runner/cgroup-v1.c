// SPDX-License-Identifier: MIT
/* cgroup v1: one hierarchy per controller (/sys/fs/cgroup/<ctrl>/PARENT/ID).
 * memory (+memsw), cpu (cfs quota/period, shares), pids, devices (deny all
 * then the default set of cgroup.c), freezer (stop and kill of the whole
 * tree). */
#include "run-internal.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

const char *const run_cgroup_v1_controllers[] = {
	"memory", "cpu", "cpuacct", "pids", "devices", "freezer", "blkio", NULL,
};

static void path_of(const struct run_cgroup *cg, const char *ctrl, const char *file,
		    char *buf, size_t sz)
{
	snprintf(buf, sz, "%s/%s/%s%s%s", cg->root, ctrl, cg->rel, file ? "/" : "", file ? file : "");
}

static bool have_ctrl(const struct run_cgroup *cg, const char *ctrl)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s/cgroup.procs", cg->root, ctrl);
	return access(p, F_OK) == 0;
}

static int knob(const struct run_cgroup *cg, const char *ctrl, const char *file,
		const char *val, struct cm_error *err)
{
	char p[1024];
	path_of(cg, ctrl, file, p, sizeof(p));
	int r = run_write_file(p, val);
	return r < 0 ? cm_error_setx(err, r, "writing '%s' to %s", val, p) : 0;
}

static int knob_int(const struct run_cgroup *cg, const char *ctrl, const char *file,
		    int64_t v, struct cm_error *err)
{
	char b[32];
	snprintf(b, sizeof(b), "%lld", (long long)v);
	return knob(cg, ctrl, file, b, err);
}

/* The resource limits, at creation and for img update. memsw may never be
 * below memory: raising memory above the current memsw writes memsw first. */
static int v1_limits(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err)
{
	char p[1024];
	int r;
	if (lim->memory > 0) {
		/* docker: --memory-swap unset = twice the memory; -1 = unlimited */
		int64_t sw = lim->memory_swap == 0 ? 2 * lim->memory : lim->memory_swap;
		path_of(cg, "memory", "memory.memsw.limit_in_bytes", p, sizeof(p));
		bool memsw = access(p, F_OK) == 0;
		int64_t cur_sw = memsw ? run_read_int(p) : -1;
		bool sw_first = memsw && cur_sw >= 0 && lim->memory > cur_sw;
		if (sw_first && (r = knob_int(cg, "memory", "memory.memsw.limit_in_bytes", sw, err)) < 0)
			return r;
		if ((r = knob_int(cg, "memory", "memory.limit_in_bytes", lim->memory, err)) < 0)
			return r;
		if (memsw && !sw_first &&
		    (r = knob_int(cg, "memory", "memory.memsw.limit_in_bytes", sw, err)) < 0)
			return r;
		/* no swap on the host: memsw = memory makes the OOM killer act at the limit */
	}
	if (lim->cpu_quota > 0) {
		if ((r = knob_int(cg, "cpu", "cpu.cfs_period_us",
				  lim->cpu_period ? lim->cpu_period : 100000, err)) < 0 ||
		    (r = knob_int(cg, "cpu", "cpu.cfs_quota_us", lim->cpu_quota, err)) < 0)
			return r;
	}
	if (lim->cpu_shares > 0 && (r = knob_int(cg, "cpu", "cpu.shares", lim->cpu_shares, err)) < 0)
		return r;
	if (have_ctrl(cg, "pids")) {
		if (lim->pids > 0)
			r = knob_int(cg, "pids", "pids.max", lim->pids, err);
		else if (lim->pids == 0)
			r = knob_int(cg, "pids", "pids.max", RUN_DEFAULT_PIDS_LIMIT, err);
		else
			r = knob(cg, "pids", "pids.max", "max", err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --cpuset-cpus or a private cgroup namespace (lim->cpuset_group): the
 * container's cpuset group is made only then (each level's cpuset.cpus and
 * cpuset.mems start empty on v1 and must be copied from the parent before a
 * task may join), then the cpus written if given. */
static bool cpuset_group(const struct run_cgroup *cg)
{
	char p[1024];
	path_of(cg, "cpuset", "cpuset.cpus", p, sizeof(p));
	return access(p, F_OK) == 0;
}

static int inherit(const char *dir, const char *file)
{
	char p[1100], parent[1100];
	_cleanup_free_ char *cur = NULL, *val = NULL;
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if (run_read_file_at(AT_FDCWD, p, 4096, &cur, NULL) == 0 && cur[0] && cur[0] != '\n')
		return 0; /* set already */
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	snprintf(parent + strlen(parent), sizeof(parent) - strlen(parent), "/%s", file);
	int r = run_read_file_at(AT_FDCWD, parent, 4096, &val, NULL);
	return r < 0 ? r : run_write_file(p, val);
}

static int v1_cpuset(struct run_cgroup *cg, const char *cpus, struct cm_error *err)
{
	char dir[1024];
	int r;
	if (!have_ctrl(cg, "cpuset"))
		return cpus[0] ? cm_error_set(err, -ENOTSUP, "--cpuset-cpus: no cpuset controller under %s", cg->root)
			       : 0;
	int n = snprintf(dir, sizeof(dir), "%s/cpuset", cg->root);
	for (const char *p = cg->rel; *p;) {
		size_t l = strcspn(p, "/");
		n += snprintf(dir + n, sizeof(dir) - (size_t)n, "/%.*s", (int)l, p);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return cm_error_setx(err, cm_neg_errno(), "creating the cgroup %s", dir);
		if ((r = inherit(dir, "cpuset.cpus")) < 0 || (r = inherit(dir, "cpuset.mems")) < 0)
			return cm_error_setx(err, r, "setting up the cpuset %s", dir);
		p += l;
		if (*p == '/')
			p++;
	}
	return cpus[0] ? knob(cg, "cpuset", "cpuset.cpus", cpus, err) : 0;
}

/* --memory-reservation, --oom-kill-disable, --blkio-weight (where the
 * kernel has a weight file: blkio.weight, or BFQ's), an OCI spec's blockIO
 * throttle rules ("MAJ:MIN RATE"; the kernel refuses a partition or a
 * device it does not know: ENODEV). */
static int v1_extra(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err)
{
	char p[1024];
	int r;
	if (lim->memory_reservation > 0 &&
	    (r = knob_int(cg, "memory", "memory.soft_limit_in_bytes", lim->memory_reservation, err)) < 0)
		return r;
	if (lim->oom_kill_disable && (r = knob(cg, "memory", "memory.oom_control", "1", err)) < 0)
		return r;
	if (lim->swappiness_set && (r = knob_int(cg, "memory", "memory.swappiness", lim->swappiness, err)) < 0)
		return r;
	if (lim->blkio_weight > 0) {
		static const char *const files[] = { "blkio.weight", "blkio.bfq.weight" };
		for (size_t i = 0; i < CM_ARRAY_SIZE(files); i++) {
			path_of(cg, "blkio", files[i], p, sizeof(p));
			if (access(p, F_OK) < 0)
				continue;
			/* the first one there, then the cpuset (a return here
			 * dropped --cpuset-cpus given with a weight) */
			if ((r = knob_int(cg, "blkio", files[i], lim->blkio_weight, err)) < 0)
				return r;
			break;
		}
	}
	for (uint32_t i = 0; i < lim->n_throttle; i++) {
		const struct run_blkio_throttle *t = &lim->throttle[i];
		char line[64];
		if (!have_ctrl(cg, "blkio"))
			return cm_error_set(err, -ENOTSUP, "linux.resources.blockIO: no blkio controller under %s", cg->root);
		snprintf(line, sizeof(line), "%u:%u %llu", t->major, t->minor, (unsigned long long)t->rate);
		if ((r = knob(cg, "blkio", run_blkio_kinds[t->kind].v1, line, err)) < 0)
			return r;
	}
	if ((lim->cpuset_cpus[0] || lim->cpuset_group) && (r = v1_cpuset(cg, lim->cpuset_cpus, err)) < 0)
		return r;
	return 0;
}

static int v1_update(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err)
{
	int r = v1_limits(cg, lim, err);
	return r < 0 ? r : v1_extra(cg, lim, err);
}

static int v1_create(struct run_cgroup *cg, const struct run_limits *lim,
		     const struct run_dev_rule *rules, size_t n_rules, struct cm_error *err)
{
	char p[1024];
	int r;
	for (size_t i = 0; run_cgroup_v1_controllers[i]; i++) {
		const char *c = run_cgroup_v1_controllers[i];
		if (!have_ctrl(cg, c))
			continue;
		path_of(cg, c, NULL, p, sizeof(p));
		if ((r = run_mkdir_p(p, 0755)) < 0)
			return cm_error_setx(err, r, "creating the cgroup %s", p);
	}
	if ((r = v1_update(cg, lim, err)) < 0)
		return r;
	if (have_ctrl(cg, "devices")) {
		if ((r = knob(cg, "devices", "devices.deny", "a", err)) < 0)
			return r;
		for (size_t i = 0; i < n_rules; i++) {
			char line[64];
			if ((r = run_dev_rule_format(&rules[i], line, sizeof(line))) < 0)
				return cm_error_set(err, r, "invalid device rule %zu", i);
			if ((r = knob(cg, "devices", "devices.allow", line, err)) < 0)
				return r;
		}
	}
	return 0;
}

/* pid 0: the calling thread of a single-threaded process moves itself
 * through `tasks`, which spares the kernel's global threadgroup lock (and
 * the RCU grace period its first writer waits for); else the whole
 * process through cgroup.procs. */
static int v1_enter(struct run_cgroup *cg, pid_t pid, struct cm_error *err)
{
	char b[32];
	snprintf(b, sizeof(b), "%d", (int)pid);
	for (size_t i = 0; run_cgroup_v1_controllers[i]; i++) {
		if (!have_ctrl(cg, run_cgroup_v1_controllers[i]))
			continue;
		int r = knob(cg, run_cgroup_v1_controllers[i], pid ? "cgroup.procs" : "tasks", b, err);
		if (r < 0)
			return r;
	}
	if (cpuset_group(cg))
		return knob(cg, "cpuset", pid ? "cgroup.procs" : "tasks", b, err);
	return 0;
}

static int v1_freeze(struct run_cgroup *cg, bool frozen)
{
	char p[1024];
	path_of(cg, "freezer", "freezer.state", p, sizeof(p));
	int r = run_write_file(p, frozen ? "FROZEN" : "THAWED");
	if (r < 0 || !frozen)
		return r;
	struct timespec ts = { 0, 1000 * 1000 };
	for (int i = 0; i < 1000; i++) { /* FREEZING -> FROZEN */
		_cleanup_free_ char *s = NULL;
		if (run_read_file_at(AT_FDCWD, p, 64, &s, NULL) < 0 || strncmp(s, "FROZEN", 6) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static int v1_frozen(struct run_cgroup *cg)
{
	char p[1024];
	_cleanup_free_ char *s = NULL;
	path_of(cg, "freezer", "freezer.state", p, sizeof(p));
	int r = run_read_file_at(AT_FDCWD, p, 64, &s, NULL);
	return r < 0 ? r : strncmp(s, "THAWED", 6) != 0;
}

/* blkio.throttle.io_service_bytes_recursive: "MAJ:MIN Read N" lines */
static void v1_blkio(const char *path, int64_t *rd, int64_t *wr)
{
	_cleanup_free_ char *s = NULL;
	if (run_read_file_at(AT_FDCWD, path, 1 << 20, &s, NULL) < 0)
		return;
	*rd = *wr = 0;
	char op[16];
	long long v;
	for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (sscanf(l, "%*s %15s %lld", op, &v) == 2) {
			if (strcmp(op, "Read") == 0)
				*rd += v;
			else if (strcmp(op, "Write") == 0)
				*wr += v;
		}
}

static void v1_stats(struct run_cgroup *cg, struct run_stats *st)
{
	char p[1024];
	path_of(cg, "cpuacct", "cpuacct.usage", p, sizeof(p));
	st->cpu_ns = run_read_int(p);
	path_of(cg, "memory", "memory.usage_in_bytes", p, sizeof(p));
	st->mem_usage = run_read_int(p);
	path_of(cg, "memory", "memory.stat", p, sizeof(p));
	int64_t inactive = run_read_key(p, "total_inactive_file");
	if (st->mem_usage >= 0 && inactive > 0 && inactive < st->mem_usage)
		st->mem_usage -= inactive;
	path_of(cg, "memory", "memory.limit_in_bytes", p, sizeof(p));
	st->mem_limit = run_read_int(p);
	path_of(cg, "blkio", "blkio.throttle.io_service_bytes_recursive", p, sizeof(p));
	v1_blkio(p, &st->blk_read, &st->blk_write);
	path_of(cg, "pids", "pids.current", p, sizeof(p));
	st->pids = run_read_int(p);
}

static int v1_procs(struct run_cgroup *cg, pid_t **ret, size_t *ret_n)
{
	char p[1024];
	/* pids or freezer: every process of the container is in both */
	path_of(cg, have_ctrl(cg, "freezer") ? "freezer" : "memory", "cgroup.procs", p, sizeof(p));
	return run_cgroup_read_procs(p, ret, ret_n);
}

static size_t v1_dirs(const struct run_cgroup *cg, char (*ret)[1024], size_t max)
{
	size_t n = 0;
	for (size_t i = 0; run_cgroup_v1_controllers[i] && n < max; i++)
		if (have_ctrl(cg, run_cgroup_v1_controllers[i]))
			path_of(cg, run_cgroup_v1_controllers[i], NULL, ret[n++], sizeof(ret[0]));
	/* its own cpuset group, where it has one (v1_cpuset) */
	if (n < max && cpuset_group(cg))
		path_of(cg, "cpuset", NULL, ret[n++], sizeof(ret[0]));
	return n;
}

static bool v1_oom_killed(struct run_cgroup *cg)
{
	char p[1024];
	path_of(cg, "memory", "memory.oom_control", p, sizeof(p));
	return run_read_key(p, "oom_kill") > 0;
}

static int v1_remove(struct run_cgroup *cg)
{
	char p[1024];
	int r = 0;
	for (size_t i = 0; run_cgroup_v1_controllers[i]; i++) {
		path_of(cg, run_cgroup_v1_controllers[i], NULL, p, sizeof(p));
		if (rmdir(p) < 0 && errno != ENOENT && r == 0)
			r = cm_neg_errno();
		/* the parent (img/ by default) goes with its last container;
		 * EBUSY while others live, and never the controller's root */
		char *slash = strrchr(p, '/');
		if (r == 0 && slash && strchr(cg->rel, '/')) {
			*slash = '\0';
			(void)rmdir(p);
		}
	}
	path_of(cg, "cpuset", NULL, p, sizeof(p));
	if (rmdir(p) == 0 && strchr(cg->rel, '/')) {
		*strrchr(p, '/') = '\0';
		(void)rmdir(p);
	}
	return r;
}

static void v1_describe(struct run_cgroup *cg, struct cm_jw *w)
{
	char p[1024];
	cm_jw_obj(w);
	for (size_t i = 0; run_cgroup_v1_controllers[i]; i++) {
		if (!have_ctrl(cg, run_cgroup_v1_controllers[i]))
			continue;
		path_of(cg, run_cgroup_v1_controllers[i], NULL, p, sizeof(p));
		cm_jw_kstr(w, run_cgroup_v1_controllers[i], p);
	}
	cm_jw_obj_end(w);
}

const struct run_cgroup_ops run_cgroup_v1_ops = {
	.version = RUN_CGROUP_V1,
	.create = v1_create,
	.update = v1_update,
	.enter = v1_enter,
	.freeze = v1_freeze,
	.frozen = v1_frozen,
	.stats = v1_stats,
	.procs = v1_procs,
	.dirs = v1_dirs,
	.oom_killed = v1_oom_killed,
	.remove = v1_remove,
	.describe = v1_describe,
};
