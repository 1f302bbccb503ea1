// SPDX-License-Identifier: MIT
/* cgroup v2: one unified tree (ROOT/PARENT/ID). memory.max, memory.swap.max,
 * cpu.max, cpu.weight, pids.max, cgroup.freeze and cgroup.kill; devices by
 * the eBPF program of cgroup-bpf.c, from the default list v1 uses too. */
#include "run-internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void path_of(const struct run_cgroup *cg, const char *file, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s/%s%s%s", cg->root, cg->rel, file ? "/" : "", file ? file : "");
}

static int knob(const struct run_cgroup *cg, const char *file, const char *val,
		struct cm_error *err)
{
	char p[1024];
	path_of(cg, file, p, sizeof(p));
	int r = run_write_file(p, val);
	return r < 0 ? cm_error_setx(err, r, "writing '%s' to %s", val, p) : 0;
}

/* The controllers our limits use. */
static const char *const wanted[] = { "memory", "cpu", "pids", "io" };

/* Is w a word of the space-separated list? */
static bool has_word(const char *list, const char *w)
{
	size_t l = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += l)
		if ((p == list || p[-1] == ' ') && (p[l] == '\0' || p[l] == ' ' || p[l] == '\n'))
			return true;
	return false;
}

static int read_controllers(const char *dir, char **ret)
{
	char p[1100];
	snprintf(p, sizeof(p), "%s/cgroup.controllers", dir);
	int r = run_read_file_at(AT_FDCWD, p, 4096, ret, NULL);
	if (r < 0)
		return r;
	(*ret)[strcspn(*ret, "\n")] = '\0';
	return 0;
}

bool run_cgroup_v2_has(const char *root, const char *ctrl)
{
	_cleanup_free_ char *avail = NULL;
	return read_controllers(root, &avail) == 0 && has_word(avail, ctrl);
}

int run_cgroup_v2_check(const char *root, const struct run_limits *lim, struct cm_error *err)
{
	_cleanup_free_ char *avail = NULL;
	int r = read_controllers(root, &avail);
	if (r < 0)
		return cm_error_setx(err, r, "reading %s/cgroup.controllers", root);
	const bool asked[] = { lim->memory > 0, lim->cpu_quota > 0 || lim->cpu_shares > 0, lim->pids > 0,
			       lim->n_throttle > 0 };
	for (size_t i = 0; i < CM_ARRAY_SIZE(wanted); i++)
		if (asked[i] && !has_word(avail, wanted[i]))
			return cm_error_set(err, -ENOTSUP, "cgroup v2 at %s has no %s controller (available: %s)",
					    root, wanted[i], avail[0] ? avail : "none");
	return 0;
}

/* In dir's cgroup.subtree_control, enable those of ours that dir has (on a
 * hybrid host memory, cpu and pids may be bound to v1: asking for them would
 * fail the whole write). Best effort: a limit whose file is then missing
 * fails when it is written. */
static void enable_in(const char *dir)
{
	_cleanup_free_ char *avail = NULL;
	char p[1100], req[64] = "";
	if (read_controllers(dir, &avail) < 0)
		return;
	for (size_t i = 0; i < CM_ARRAY_SIZE(wanted); i++)
		if (has_word(avail, wanted[i])) {
			size_t l = strlen(req);
			snprintf(req + l, sizeof(req) - l, "%s+%s", l ? " " : "", wanted[i]);
		}
	if (!req[0])
		return;
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", dir);
	(void)run_write_file(p, req);
}

/* Create the ancestors of the group, enabling our controllers in each. */
static int enable_controllers(const struct run_cgroup *cg)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", cg->root);
	const char *rel = cg->rel;
	for (;;) {
		enable_in(dir);
		const char *slash = strchr(rel, '/');
		if (!slash)
			return 0;
		size_t l = strlen(dir);
		snprintf(dir + l, sizeof(dir) - l, "/%.*s", (int)(slash - rel), rel);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return cm_neg_errno();
		rel = slash + 1;
	}
}

static int v2_limits(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err);

static int v2_update(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err)
{
	int r = run_cgroup_v2_check(cg->root, lim, err);
	return r < 0 ? r : v2_limits(cg, lim, err);
}

static int v2_create(struct run_cgroup *cg, const struct run_limits *lim,
		     const struct run_dev_rule *rules, size_t n_rules, struct cm_error *err)
{
	char p[1024];
	int r = run_cgroup_v2_check(cg->root, lim, err);
	if (r < 0)
		return r;
	r = enable_controllers(cg);
	path_of(cg, NULL, p, sizeof(p));
	if (r < 0 || (mkdir(p, 0755) < 0 && errno != EEXIST))
		return cm_error_setx(err, r < 0 ? r : cm_neg_errno(), "creating the cgroup %s", p);
	/* before any process is in it: nothing opens a device unchecked */
	if ((r = run_bpf_devices_attach(p, rules, n_rules, err)) < 0)
		return r;
	return v2_limits(cg, lim, err);
}

/* The resource limits, at creation and for img update (checked against the
 * tree's controllers by the caller). */
static int v2_limits(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err)
{
	char p[1024], b[64];
	int r;
	if (lim->memory > 0) {
		run_cgroup_fmt_max(lim->memory, b, sizeof(b));
		if ((r = knob(cg, "memory.max", b, err)) < 0)
			return r;
		int64_t sw = run_cgroup_swap_v2(lim->memory, lim->memory_swap ? lim->memory_swap : 2 * lim->memory);
		run_cgroup_fmt_max(sw, b, sizeof(b));
		path_of(cg, "memory.swap.max", p, sizeof(p));
		if (access(p, F_OK) == 0 && (r = knob(cg, "memory.swap.max", sw == 0 ? "0" : b, err)) < 0)
			return r;
	}
	if (lim->cpu_quota > 0) {
		snprintf(b, sizeof(b), "%lld %lld", (long long)lim->cpu_quota,
			 (long long)(lim->cpu_period ? lim->cpu_period : 100000));
		if ((r = knob(cg, "cpu.max", b, err)) < 0)
			return r;
	}
	if (lim->cpu_shares > 0) {
		snprintf(b, sizeof(b), "%lld", (long long)run_cgroup_shares_to_weight(lim->cpu_shares));
		if ((r = knob(cg, "cpu.weight", b, err)) < 0)
			return r;
	}
	/* an asked limit was checked above; the default only where pids is */
	run_cgroup_fmt_max(lim->pids == 0 ? RUN_DEFAULT_PIDS_LIMIT : lim->pids, b, sizeof(b));
	path_of(cg, "pids.max", p, sizeof(p));
	if (access(p, F_OK) == 0 && (r = knob(cg, "pids.max", b, err)) < 0)
		return r;
	/* --memory-reservation: memory.low; --blkio-weight where the kernel
	 * has a weight; --cpuset-cpus where cpuset is enabled; v2 has no
	 * --oom-kill-disable (docker ignores it there too) */
	/* an OCI spec's memory.swappiness: v2 has no such file; ignored with
	 * a warning, as runc does (its v2 manager has no knob for it) */
	if (lim->swappiness_set)
		fprintf(stderr, "warning: linux.resources.memory.swappiness %u ignored: cgroup v2 has no memory.swappiness\n",
			(unsigned)lim->swappiness);
	if (lim->memory_reservation > 0) {
		snprintf(b, sizeof(b), "%lld", (long long)lim->memory_reservation);
		if ((r = knob(cg, "memory.low", b, err)) < 0)
			return r;
	}
	if (lim->blkio_weight > 0) {
		static const char *const files[] = { "io.bfq.weight", "io.weight" };
		for (size_t i = 0; i < CM_ARRAY_SIZE(files); i++) {
			path_of(cg, files[i], p, sizeof(p));
			if (access(p, F_OK) < 0)
				continue;
			/* io.weight is 1..10000 (default 100), docker's 10..1000 scaled */
			snprintf(b, sizeof(b), "%lld", (long long)(i ? lim->blkio_weight * 10 : lim->blkio_weight));
			if ((r = knob(cg, files[i], b, err)) < 0)
				return r;
			break;
		}
	}
	/* an OCI spec's blockIO throttle rules: io.max "MAJ:MIN KEY=RATE"
	 * (rate 0: "max", the rule lifted, as v1's 0 does) */
	for (uint32_t i = 0; i < lim->n_throttle; i++) {
		const struct run_blkio_throttle *t = &lim->throttle[i];
		char line[80];
		path_of(cg, "io.max", p, sizeof(p));
		if (access(p, F_OK) < 0)
			return cm_error_set(err, -ENOTSUP, "linux.resources.blockIO: the io controller is not enabled at %s",
					    cg->root);
		if (t->rate)
			snprintf(line, sizeof(line), "%u:%u %s=%llu", t->major, t->minor, run_blkio_kinds[t->kind].v2,
				 (unsigned long long)t->rate);
		else
			snprintf(line, sizeof(line), "%u:%u %s=max", t->major, t->minor, run_blkio_kinds[t->kind].v2);
		if ((r = knob(cg, "io.max", line, err)) < 0)
			return r;
	}
	if (lim->cpuset_cpus[0]) {
		path_of(cg, "cpuset.cpus", p, sizeof(p));
		if (access(p, F_OK) < 0)
			return cm_error_set(err, -ENOTSUP, "--cpuset-cpus: the cpuset controller is not enabled at %s",
					    cg->root);
		if ((r = knob(cg, "cpuset.cpus", lim->cpuset_cpus, err)) < 0)
			return r;
	}
	return 0;
}

static int v2_enter(struct run_cgroup *cg, pid_t pid, struct cm_error *err)
{
	char b[32];
	snprintf(b, sizeof(b), "%d", (int)pid);
	return knob(cg, "cgroup.procs", b, err);
}

static int v2_freeze(struct run_cgroup *cg, bool frozen)
{
	char p[1024];
	path_of(cg, "cgroup.freeze", p, sizeof(p));
	int r = run_write_file(p, frozen ? "1" : "0");
	if (r < 0 || !frozen)
		return r;
	path_of(cg, "cgroup.events", p, sizeof(p));
	struct timespec ts = { 0, 1000 * 1000 };
	for (int i = 0; i < 1000; i++) {
		if (run_read_key(p, "frozen") != 0) /* 1, or unreadable */
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static int v2_kill(struct run_cgroup *cg)
{
	char p[1024];
	path_of(cg, "cgroup.kill", p, sizeof(p));
	return run_write_file(p, "1");
}

static int v2_procs(struct run_cgroup *cg, pid_t **ret, size_t *ret_n)
{
	char p[1024];
	path_of(cg, "cgroup.procs", p, sizeof(p));
	return run_cgroup_read_procs(p, ret, ret_n);
}

static size_t v2_dirs(const struct run_cgroup *cg, char (*ret)[1024], size_t max)
{
	if (max == 0)
		return 0;
	path_of(cg, NULL, ret[0], sizeof(ret[0]));
	return 1;
}

static bool v2_oom_killed(struct run_cgroup *cg)
{
	char p[1024];
	path_of(cg, "memory.events", p, sizeof(p));
	return run_read_key(p, "oom_kill") > 0;
}

static int v2_remove(struct run_cgroup *cg)
{
	char p[1024];
	(void)v2_kill(cg);
	path_of(cg, NULL, p, sizeof(p));
	if (rmdir(p) < 0 && errno != ENOENT)
		return cm_neg_errno();
	char *slash = strrchr(p, '/');
	if (slash && strchr(cg->rel, '/')) { /* the parent, with its last container */
		*slash = '\0';
		(void)rmdir(p);
	}
	return 0;
}

static void v2_describe(struct run_cgroup *cg, struct cm_jw *w)
{
	char p[1024];
	path_of(cg, NULL, p, sizeof(p));
	cm_jw_obj(w);
	cm_jw_kstr(w, "unified", p);
	cm_jw_obj_end(w);
}

static int v2_frozen(struct run_cgroup *cg)
{
	char p[1024];
	_cleanup_free_ char *s = NULL;
	path_of(cg, "cgroup.freeze", p, sizeof(p));
	int r = run_read_file_at(AT_FDCWD, p, 64, &s, NULL);
	return r < 0 ? r : s[0] == '1';
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=..." lines */
static void v2_io(const char *path, int64_t *rd, int64_t *wr)
{
	_cleanup_free_ char *s = NULL;
	if (run_read_file_at(AT_FDCWD, path, 1 << 20, &s, NULL) < 0)
		return;
	*rd = *wr = 0;
	for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *eol = strchr(l, '\n'), *r = strstr(l, " rbytes="), *w = strstr(l, " wbytes=");
		if (r && (!eol || r < eol))
			*rd += strtoll(r + 8, NULL, 10);
		if (w && (!eol || w < eol))
			*wr += strtoll(w + 8, NULL, 10);
	}
}

static void v2_stats(struct run_cgroup *cg, struct run_stats *st)
{
	char p[1024];
	path_of(cg, "cpu.stat", p, sizeof(p));
	int64_t us = run_read_key(p, "usage_usec");
	st->cpu_ns = us < 0 ? -1 : us * 1000;
	path_of(cg, "memory.current", p, sizeof(p));
	st->mem_usage = run_read_int(p);
	path_of(cg, "memory.stat", p, sizeof(p));
	int64_t inactive = run_read_key(p, "inactive_file");
	if (st->mem_usage >= 0 && inactive > 0 && inactive < st->mem_usage)
		st->mem_usage -= inactive;
	path_of(cg, "memory.max", p, sizeof(p));
	st->mem_limit = run_read_int(p); /* "max": -1, the host's below */
	path_of(cg, "io.stat", p, sizeof(p));
	v2_io(p, &st->blk_read, &st->blk_write);
	path_of(cg, "pids.current", p, sizeof(p));
	st->pids = run_read_int(p);
	if (st->pids < 0) {
		_cleanup_free_ pid_t *v = NULL;
		size_t n = 0;
		if (v2_procs(cg, &v, &n) == 0)
			st->pids = (int64_t)n;
	}
}

static int v2_dir_fd(struct run_cgroup *cg)
{
	char p[1024];
	path_of(cg, NULL, p, sizeof(p));
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? cm_neg_errno() : fd;
}

const struct run_cgroup_ops run_cgroup_v2_ops = {
	.version = RUN_CGROUP_V2,
	.create = v2_create,
	.update = v2_update,
	.enter = v2_enter,
	.freeze = v2_freeze,
	.frozen = v2_frozen,
	.stats = v2_stats,
	.kill = v2_kill,
	.procs = v2_procs,
	.dirs = v2_dirs,
	.oom_killed = v2_oom_killed,
	.remove = v2_remove,
	.describe = v2_describe,
	.dir_fd = v2_dir_fd,
};
