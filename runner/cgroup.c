// SPDX-License-Identifier: MIT
/* cgroups behind one small interface (after crun's cgroup manager vtable):
 * v1 or v2 detected at run time from the container's cgroup root. A hybrid
 * host (v1 controllers + a v2 mount holding only hugetlb, as here) is v1 at
 * /sys/fs/cgroup and v2 at /sys/fs/cgroup/unified: crun refuses it, we do
 * not. */
#include "run-internal.h"

#include "cm-fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>

const char *run_cgroup_default_root(void)
{
	const char *r = getenv("IMG_CGROUP_ROOT");
	return r && *r ? r : "/sys/fs/cgroup";
}

/* v2 if root is a cgroup2 mount, v1 if it holds a v1 memory hierarchy. */
static int detect(const char *root, const struct run_cgroup_ops **ret, struct cm_error *err)
{
	struct statfs sf;
	if (root[0] != '/')
		return cm_error_set(err, -EINVAL, "cgroup root '%s' is not an absolute path", root);
	if (statfs(root, &sf) < 0)
		return cm_error_setx(err, cm_neg_errno(), "cgroups: %s", root);
	if (sf.f_type == CGROUP2_SUPER_MAGIC) {
		*ret = &run_cgroup_v2_ops;
		return 0;
	}
	char p[512];
	snprintf(p, sizeof(p), "%s/memory", root);
	if (statfs(p, &sf) < 0 || sf.f_type != CGROUP_SUPER_MAGIC)
		return cm_error_set(err, -ENOTSUP, "cgroups: no v2 mount at %s and no v1 memory controller", root);
	*ret = &run_cgroup_v1_ops;
	return 0;
}

int run_cgroup_open(const char *root, const char *parent, const char *id,
		    struct run_cgroup **ret, struct cm_error *err)
{
	const struct run_cgroup_ops *ops;
	if (!root)
		root = "/sys/fs/cgroup";
	if (!parent || !*parent)
		parent = "img";
	/* "/": the group right under each hierarchy's root (an OCI
	 * cgroupsPath of one component, "/name") */
	bool top = strcmp(parent, "/") == 0;
	if (strstr(parent, "..") || (parent[0] == '/' && !top) || strchr(id, '/') || strstr(id, ".."))
		return cm_error_set(err, -EINVAL, "invalid cgroup parent '%s'", parent);
	int r = detect(root, &ops, err);
	if (r < 0)
		return r;
	struct run_cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg)
		return -ENOMEM;
	cg->ops = ops;
	snprintf(cg->root, sizeof(cg->root), "%s", root);
	snprintf(cg->rel, sizeof(cg->rel), "%s%s%s", top ? "" : parent, top ? "" : "/", id);
	*ret = cg;
	return 0;
}

bool run_cgroup_has(const char *root, const char *ctrl)
{
	const struct run_cgroup_ops *ops;
	char p[512];
	struct statfs sf;
	if (!root)
		root = run_cgroup_default_root();
	if (detect(root, &ops, NULL) < 0)
		return false;
	if (ops->version == RUN_CGROUP_V2)
		return run_cgroup_v2_has(root, ctrl);
	snprintf(p, sizeof(p), "%s/%s", root, ctrl);
	return statfs(p, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC;
}

int run_cgroup_check(const char *root, const struct run_limits *lim, struct cm_error *err)
{
	const struct run_cgroup_ops *ops;
	int r = detect(root ? root : "/sys/fs/cgroup", &ops, err);
	if (r < 0 || ops->version != RUN_CGROUP_V2)
		return r;
	return run_cgroup_v2_check(root ? root : "/sys/fs/cgroup", lim, err);
}

void run_cgroup_free(struct run_cgroup *cg)
{
	free(cg);
}

void run_cgroup_freep(struct run_cgroup **cg)
{
	run_cgroup_free(*cg);
}

enum run_cgroup_version run_cgroup_version(const struct run_cgroup *cg)
{
	return cg->ops->version;
}

const struct run_blkio_kind_name run_blkio_kinds[RUN_BLKIO_KINDS] = {
	[RUN_BLKIO_READ_BPS] = { "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps" },
	[RUN_BLKIO_WRITE_BPS] = { "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps" },
	[RUN_BLKIO_READ_IOPS] = { "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops" },
	[RUN_BLKIO_WRITE_IOPS] = { "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops" },
};

bool run_cgroupns_private(const struct run_config *c)
{
	const struct run_cgroup_ops *ops;
	if (c->cgroupns_mode != RUN_CGROUPNS_DEFAULT)
		return c->cgroupns_mode == RUN_CGROUPNS_PRIVATE;
	return detect(c->cgroup_root ? c->cgroup_root : "/sys/fs/cgroup", &ops, NULL) == 0 &&
	       ops->version == RUN_CGROUP_V2;
}

int run_cgroup_create(struct run_cgroup *cg, const struct run_limits *lim, bool all_devices,
		      const struct run_device *devices, size_t n_devices, struct cm_error *err)
{
	/* --privileged: every device (docker's "a *:* rwm") */
	static const struct run_dev_rule all = { 'a', -1, -1, RUN_DEV_RWM };
	if (all_devices)
		return cg->ops->create(cg, lim, &all, 1, err);
	/* one device set for both versions: --device (an OCI spec's rules, in
	 * its order, as runc applies them), then the default set */
	struct run_dev_rule rules[64];
	size_t n = 0;
	if (run_cgroup_n_default_devices + n_devices > CM_ARRAY_SIZE(rules))
		return cm_error_set(err, -E2BIG, "too many --device (at most %zu)",
				    CM_ARRAY_SIZE(rules) - run_cgroup_n_default_devices);
	for (size_t i = 0; i < n_devices; i++) {
		const struct run_device *d = &devices[i];
		if (d->type == 'p')
			continue; /* a FIFO: no device of the cgroup's */
		rules[n++] = (struct run_dev_rule){
			.type = d->type,
			.major = d->major == RUN_DEV_ANY ? -1 : (int32_t)d->major,
			.minor = d->minor == RUN_DEV_ANY ? -1 : (int32_t)d->minor,
			.access = (strchr(d->perms, 'r') ? RUN_DEV_READ : 0) |
				  (strchr(d->perms, 'w') ? RUN_DEV_WRITE : 0) |
				  (strchr(d->perms, 'm') ? RUN_DEV_MKNOD : 0),
		};
	}
	for (size_t i = 0; i < run_cgroup_n_default_devices; i++)
		rules[n++] = run_cgroup_default_devices[i];
	return cg->ops->create(cg, lim, rules, n, err);
}

int run_cgroup_update(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err)
{
	return cg->ops->update(cg, lim, err);
}

int run_cgroup_enter(struct run_cgroup *cg, pid_t pid, struct cm_error *err)
{
	if (pid == 0 && !(cg->ops->version == RUN_CGROUP_V1 && run_single_threaded()))
		pid = getpid();
	return cg->ops->enter(cg, pid, err);
}

int run_cgroup_freeze(struct run_cgroup *cg, bool frozen)
{
	return cg->ops->freeze(cg, frozen);
}

int run_cgroup_frozen(struct run_cgroup *cg)
{
	return cg->ops->frozen(cg);
}

int run_cgroup_dir_fd(struct run_cgroup *cg)
{
	return cg->ops->dir_fd ? cg->ops->dir_fd(cg) : -EOPNOTSUPP;
}

bool run_cgroup_self_join_fast(const struct run_cgroup *cg)
{
	return cg->ops->version == RUN_CGROUP_V1;
}

/* Append the pids of dirfd/name (a cgroup.procs file) to *v, skipping
 * those already there when unique. */
static int read_procs_at(int dirfd, const char *name, bool unique, pid_t **v, size_t *n,
			 size_t *cap)
{
	_cleanup_free_ char *s = NULL;
	int r = run_read_file_at(dirfd, name, 1 << 22, &s, NULL);
	if (r < 0)
		return r;
	for (char *p = s; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		p = end;
		while (*p == '\n')
			p++;
		bool seen = false;
		for (size_t i = 0; unique && !seen && i < *n; i++)
			seen = (*v)[i] == (pid_t)pid;
		if (seen)
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			pid_t *nv = realloc(*v, nc * sizeof(pid_t));
			if (!nv)
				return -ENOMEM;
			*v = nv;
			*cap = nc;
		}
		(*v)[(*n)++] = (pid_t)pid;
	}
	return 0;
}

int run_cgroup_read_procs(const char *path, pid_t **ret, size_t *ret_n)
{
	pid_t *v = NULL;
	size_t n = 0, cap = 0;
	int r = read_procs_at(AT_FDCWD, path, false, &v, &n, &cap);
	if (r < 0) {
		free(v);
		return r;
	}
	if (!v && !(v = malloc(sizeof(pid_t))))
		return -ENOMEM;
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Below a container's group: what it made itself, at most this deep. */
#define CG_MAX_DEPTH 64

/* The cgroups below dirfd (not dirfd's own), children before their
 * parent: fn(parent fd, name, the child's fd, arg) for each. */
static void walk_below(int dirfd, int depth, void (*fn)(int, const char *, int, void *), void *arg)
{
	if (depth >= CG_MAX_DEPTH)
		return;
	DIR *d = cm_opendir_at(dirfd);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_close_ int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		walk_below(sub, depth + 1, fn, arg);
		fn(dirfd, de->d_name, sub, arg);
	}
	closedir(d);
}

struct procs_acc {
	pid_t *v;
	size_t n, cap;
	int err;
};

static void collect(int parent, const char *name, int fd, void *arg)
{
	struct procs_acc *a = arg;
	(void)parent, (void)name;
	int r = read_procs_at(fd, "cgroup.procs", true, &a->v, &a->n, &a->cap);
	if (r == -ENOMEM)
		a->err = r;
}

int run_cgroup_tree_procs(struct run_cgroup *cg, pid_t **ret, size_t *ret_n)
{
	char dirs[8][1024];
	size_t nd = cg->ops->dirs(cg, dirs, CM_ARRAY_SIZE(dirs));
	struct procs_acc a = { 0 };
	for (size_t i = 0; i < nd && !a.err; i++) {
		_cleanup_close_ int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue; /* not (or no longer) there */
		collect(-1, NULL, fd, &a);
		walk_below(fd, 0, collect, &a);
	}
	if (a.err || (!a.v && !(a.v = malloc(sizeof(pid_t))))) {
		free(a.v);
		return -ENOMEM;
	}
	*ret = a.v;
	*ret_n = a.n;
	return 0;
}

int run_cgroup_count(struct run_cgroup *cg)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	if (run_cgroup_tree_procs(cg, &pids, &n) < 0)
		return 0;
	return (int)n;
}

int run_cgroup_signal(struct run_cgroup *cg, int sig, bool freeze, struct cm_error *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	/* v2's cgroup.kill (5.14+): the kernel kills a fork racing with it too;
	 * else (v1, or the file missing) freeze, signal each, thaw */
	if (sig == SIGKILL && cg->ops->kill && cg->ops->kill(cg) == 0)
		return 0;
	if (freeze)
		(void)cg->ops->freeze(cg, true);
	/* the groups the container may have made below its own too (the
	 * freezer is hierarchical: they are frozen with it) */
	int r = run_cgroup_tree_procs(cg, &pids, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		(void)kill(pids[i], sig);
	if (freeze)
		(void)cg->ops->freeze(cg, false);
	return r < 0 ? cm_error_setx(err, r, "signalling the cgroup %s", cg->rel) : 0;
}

bool run_cgroup_oom_killed(struct run_cgroup *cg)
{
	return cg->ops->oom_killed(cg);
}

static void rmdir_child(int parent, const char *name, int fd, void *arg)
{
	(void)fd, (void)arg;
	(void)unlinkat(parent, name, AT_REMOVEDIR);
}

/* The groups below the container's, deepest first: rmdir of a group with
 * a child is EBUSY (a child made inside once kept `rm -f` from removing
 * the container, issue 10). */
static void remove_below(struct run_cgroup *cg)
{
	char dirs[8][1024];
	size_t nd = cg->ops->dirs(cg, dirs, CM_ARRAY_SIZE(dirs));
	for (size_t i = 0; i < nd; i++) {
		_cleanup_close_ int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			walk_below(fd, 0, rmdir_child, NULL);
	}
}

int run_cgroup_destroy(struct run_cgroup *cg, struct cm_error *err)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	for (int i = 0; i < 400; i++) { /* up to 2 s for the kernel to reap */
		if (run_cgroup_count(cg) == 0)
			break;
		(void)run_cgroup_signal(cg, SIGKILL, true, NULL);
		nanosleep(&ts, NULL);
	}
	remove_below(cg);
	int r = cg->ops->remove(cg);
	return r < 0 ? cm_error_setx(err, r, "removing the cgroup %s", cg->rel) : 0;
}

int run_cgroup_describe(struct run_cgroup *cg, struct cm_jw *w)
{
	cg->ops->describe(cg, w);
	return 0;
}

/* ------------------------------------------------------------ devices */

const struct run_dev_rule run_cgroup_default_devices[] = {
	{ 'c', -1, -1, RUN_DEV_MKNOD },   /* mknod of any device: opening it is what counts */
	{ 'b', -1, -1, RUN_DEV_MKNOD },
	{ 'c', 1, 3, RUN_DEV_RWM },       /* null */
	{ 'c', 1, 5, RUN_DEV_RWM },       /* zero */
	{ 'c', 1, 7, RUN_DEV_RWM },       /* full */
	{ 'c', 1, 8, RUN_DEV_RWM },       /* random */
	{ 'c', 1, 9, RUN_DEV_RWM },       /* urandom */
	{ 'c', 5, 0, RUN_DEV_RWM },       /* tty */
	{ 'c', 5, 1, RUN_DEV_RWM },       /* console */
	{ 'c', 5, 2, RUN_DEV_RWM },       /* ptmx */
	{ 'c', 136, -1, RUN_DEV_RWM },    /* pts/N */
};
const size_t run_cgroup_n_default_devices = CM_ARRAY_SIZE(run_cgroup_default_devices);

int run_dev_rule_format(const struct run_dev_rule *r, char *buf, size_t sz)
{
	char maj[16] = "*", min[16] = "*", acc[4];
	size_t n = 0;
	if ((r->type != 'c' && r->type != 'b' && r->type != 'a') || r->major < -1 ||
	    r->minor < -1 || (r->access & ~(unsigned)RUN_DEV_RWM))
		return -EINVAL;
	if (r->major >= 0)
		snprintf(maj, sizeof(maj), "%d", (int)r->major);
	if (r->minor >= 0)
		snprintf(min, sizeof(min), "%d", (int)r->minor);
	if (r->access & RUN_DEV_READ)
		acc[n++] = 'r';
	if (r->access & RUN_DEV_WRITE)
		acc[n++] = 'w';
	if (r->access & RUN_DEV_MKNOD)
		acc[n++] = 'm';
	acc[n] = '\0';
	int l = snprintf(buf, sz, "%c %s:%s %s", r->type, maj, min, acc);
	return l < 0 || (size_t)l >= sz ? -ENAMETOOLONG : 0;
}

/* ------------------------------------------------------------ conversions */

int64_t run_cgroup_shares_to_weight(int64_t shares)
{
	/* the linear map of [2, 262144] onto [1, 10000] (the kernel's own
	 * documented correspondence: 1024 shares ~ weight 100 is not exact) */
	if (shares <= 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

int64_t run_cgroup_swap_v2(int64_t memory, int64_t memory_swap)
{
	if (memory_swap < 0)
		return -1; /* unlimited */
	if (memory_swap == 0 || memory <= 0)
		return 0;  /* not set: the caller leaves the default */
	return memory_swap > memory ? memory_swap - memory : 0;
}

void run_cgroup_fmt_max(int64_t v, char *buf, size_t sz)
{
	if (v <= 0)
		snprintf(buf, sz, "max");
	else
		snprintf(buf, sz, "%lld", (long long)v);
}
