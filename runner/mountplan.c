// SPDX-License-Identifier: MIT
/* The mount plan as data (after bubblewrap's SetupOp list): which
 * filesystems, devices, masks and binds a container gets, in order. Built
 * here without any system call (unit tested); executed by linux.c, which
 * resolves every target inside the root and checks it after mounting. */
#include "run-internal.h"

#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* Paths of the host kernel a container must not read (docker's list). */
static const char *const masked[] = {
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* The devices of a minimal /dev, bound from the host after their numbers are
 * checked (a host /dev/null that is not 1:3 is refused). */
static const struct {
	const char *path; /* the host's node, and the container's path */
	unsigned major, minor;
} devices[] = {
	{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static const struct {
	const char *target, *link;
} links[] = {
	{ "/dev/ptmx", "pts/ptmx" }, { "/dev/fd", "/proc/self/fd" },
	{ "/dev/stdin", "/proc/self/fd/0" }, { "/dev/stdout", "/proc/self/fd/1" },
	{ "/dev/stderr", "/proc/self/fd/2" }, { "/dev/core", "/proc/kcore" },
};

void run_plan_default_paths(const char *const **ret_masked, size_t *ret_n_masked,
			    const char *const **ret_ro, size_t *ret_n_ro)
{
	*ret_masked = masked;
	*ret_n_masked = CM_ARRAY_SIZE(masked);
	*ret_ro = readonly;
	*ret_n_ro = CM_ARRAY_SIZE(readonly);
}

static size_t strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static struct run_mount_op *plan_add(struct run_plan *p, enum run_mop op, const char *target)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 32;
		struct run_mount_op *n = realloc(p->ops, nc * sizeof(*n));
		if (!n)
			return NULL;
		p->ops = n;
		p->cap = nc;
	}
	struct run_mount_op *o = &p->ops[p->n];
	memset(o, 0, sizeof(*o));
	o->op = op;
	if (snprintf(o->target, sizeof(o->target), "%s", target) >= (int)sizeof(o->target))
		return NULL;
	p->n++;
	return o;
}

static struct run_mount_op *plan_fs(struct run_plan *p, const char *target, const char *fstype,
				    unsigned long flags, const char *data, uint32_t magic)
{
	struct run_mount_op *o = plan_add(p, RUN_MOP_FS, target);
	if (o) {
		o->fstype = fstype;
		o->source = fstype;
		o->flags = flags;
		o->data = data;
		o->magic = magic;
	}
	return o;
}

/* A volume target: absolute, normalised (no "." or ".." component, no double
 * slash), not / and not in the kernel filesystems we mount. */
static int check_target(const char *t, struct cm_error *err)
{
	if (t[0] != '/')
		return cm_error_set(err, -EINVAL, "invalid mount target '%s': not an absolute path", t);
	if (strcmp(t, "/") == 0)
		return cm_error_set(err, -EINVAL, "invalid mount target '/': the root cannot be a volume");
	for (const char *c = t; *c;) {
		while (*c == '/')
			c++;
		size_t len = strcspn(c, "/");
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return cm_error_set(err, -EINVAL, "invalid mount target '%s': '.' or '..' component", t);
		c += len;
	}
	static const char *const reserved[] = { "/proc", "/sys", "/dev" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(reserved); i++) {
		size_t l = strlen(reserved[i]);
		if (strncmp(t, reserved[i], l) == 0 && (t[l] == '\0' || t[l] == '/'))
			return cm_error_set(err, -EINVAL, "invalid mount target '%s': inside %s", t, reserved[i]);
	}
	if (strlen(t) >= sizeof(((struct run_mount_op *)0)->target))
		return cm_error_set(err, -ENAMETOOLONG, "mount target '%s' too long", t);
	return 0;
}

/* The container's own group (ctrl NULL: v2's) bound at target, read-only
 * (read-write with --privileged); optional: a controller this host lacks. */
static int plan_cgroup_bind(const struct run_config *c, struct run_plan *p, const char *ctrl,
			    const char *target)
{
	const char *root = c->cgroup_root ? c->cgroup_root : "/sys/fs/cgroup";
	const char *parent = c->cgroup_parent && *c->cgroup_parent ? c->cgroup_parent : "img";
	char *src = NULL;
	if (p->n_strs == CM_ARRAY_SIZE(p->strs) ||
	    asprintf(&src, "%s%s%s/%s/%s", root, ctrl ? "/" : "", ctrl ? ctrl : "", parent,
		     c->cgroup_name ? c->cgroup_name : c->id) < 0)
		return -ENOMEM;
	p->strs[p->n_strs++] = src;
	struct run_mount_op *o = plan_add(p, RUN_MOP_BIND, target);
	if (!o)
		return -ENOMEM;
	o->source = src;
	o->readonly = !c->cgroup_rw;
	o->optional = true;
	return 0;
}

/* The host's cgroup namespace (--cgroupns host), as runc mounts it for
 * docker: v1 the container's own group of each hierarchy at
 * /sys/fs/cgroup/CTRL on a tmpfs, v2 its group at /sys/fs/cgroup, never
 * the host's whole tree. With a cgroup namespace pid 1 mounts the cgroup
 * filesystems itself once it is the root of that namespace (linux.c). */
static int plan_cgroup_host(const struct run_config *c, struct run_plan *p)
{
	const unsigned long nse = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (c->cgroup_v2)
		return plan_cgroup_bind(c, p, NULL, "/sys/fs/cgroup");
	if (!plan_fs(p, "/sys/fs/cgroup", "tmpfs", nse, "mode=755,size=64k", TMPFS_MAGIC))
		return -ENOMEM;
	for (size_t i = 0; run_cgroup_v1_controllers[i]; i++) {
		char t[64];
		snprintf(t, sizeof(t), "/sys/fs/cgroup/%s", run_cgroup_v1_controllers[i]);
		if (plan_cgroup_bind(c, p, run_cgroup_v1_controllers[i], t) < 0)
			return -ENOMEM;
	}
	if (!c->cgroup_rw && !plan_add(p, RUN_MOP_RO, "/sys/fs/cgroup"))
		return -ENOMEM;
	return 0;
}

/* Whether the controller list of a /proc/self/cgroup line (len bytes at
 * s, "cpu,cpuacct") names one of ours, or cpuset where the container has a
 * group of its own there. */
static bool ours(const char *s, size_t len, bool cpuset)
{
	for (const char *p = s, *end = s + len; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t l = (size_t)((comma ? comma : end) - p);
		if (cpuset && l == 6 && strncmp(p, "cpuset", 6) == 0)
			return true;
		for (size_t i = 0; run_cgroup_v1_controllers[i]; i++)
			if (strlen(run_cgroup_v1_controllers[i]) == l &&
			    strncmp(p, run_cgroup_v1_controllers[i], l) == 0)
				return true;
		p += l + 1;
	}
	return false;
}

int run_plan_cgroupns(const struct run_config *c, const char *proc_cgroup, struct run_plan *ret)
{
	const unsigned long nse = MS_NOSUID | MS_NODEV | MS_NOEXEC, ro = c->cgroup_rw ? 0 : MS_RDONLY;
	struct run_plan p = { 0 };
	if (c->cgroup_v2) {
		if (!plan_fs(&p, "/sys/fs/cgroup", "cgroup2", nse | ro, NULL, CGROUP2_SUPER_MAGIC))
			goto fail;
		*ret = p;
		return 0;
	}
	if (!plan_fs(&p, "/sys/fs/cgroup", "tmpfs", nse, "mode=755,size=64k", TMPFS_MAGIC))
		goto fail;
	/* cpuset only where pid 1 has its own group (cgroup-v1.c v1_cpuset):
	 * else that hierarchy's namespace root is the host's group of img */
	bool cpuset = c->lim.cpuset_group || c->lim.cpuset_cpus[0];
	/* "ID:CTRL[,CTRL...]:PATH" lines; v2's has no controllers ("0::/") */
	for (const char *l = proc_cgroup; l && *l;) {
		size_t ll = strcspn(l, "\n");
		const char *next = l + ll + (l[ll] == '\n');
		const char *ctl = memchr(l, ':', ll);
		const char *end = ctl ? memchr(ctl + 1, ':', (size_t)(l + ll - ctl - 1)) : NULL;
		l = next;
		if (!end || end == ctl + 1 || end - ctl > 200 || !ours(ctl + 1, (size_t)(end - ctl - 1), cpuset))
			continue;
		char t[256], *data = strndup(ctl + 1, (size_t)(end - ctl - 1));
		if (!data || p.n_strs == CM_ARRAY_SIZE(p.strs)) {
			free(data);
			goto fail;
		}
		p.strs[p.n_strs++] = data;
		snprintf(t, sizeof(t), "/sys/fs/cgroup/%s", data);
		if (!plan_fs(&p, t, "cgroup", nse | ro, data, CGROUP_SUPER_MAGIC))
			goto fail;
		/* co-mounted: /sys/fs/cgroup/cpu -> cpu,cpuacct, one a controller */
		for (const char *m = data; strchr(data, ',') && *m;) {
			size_t ml = strcspn(m, ",");
			struct run_mount_op *o;
			snprintf(t, sizeof(t), "/sys/fs/cgroup/%.*s", (int)ml, m);
			if (!(o = plan_add(&p, RUN_MOP_SYMLINK, t)))
				goto fail;
			o->source = data;
			m += ml + (m[ml] == ',');
		}
	}
	if (!c->cgroup_rw && !plan_add(&p, RUN_MOP_RO, "/sys/fs/cgroup"))
		goto fail;
	*ret = p;
	return 0;
fail:
	run_plan_free(&p);
	return -ENOMEM;
}

int run_plan_build(const struct run_config *c, struct run_plan *ret, struct cm_error *err)
{
	struct run_plan p = { 0 };
	int r = -ENOMEM;
	const unsigned long nse = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if (!plan_fs(&p, "/proc", "proc", nse, NULL, PROC_SUPER_MAGIC) ||
	    !plan_fs(&p, "/sys", "sysfs", nse | (c->sys_rw ? 0 : MS_RDONLY), NULL, SYSFS_MAGIC) ||
	    !plan_fs(&p, "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
		     TMPFS_MAGIC))
		goto fail;
	if (!c->cgroupns && plan_cgroup_host(c, &p) < 0)
		goto fail;
	for (size_t i = 0; i < CM_ARRAY_SIZE(devices); i++) {
		struct run_mount_op *o = plan_add(&p, RUN_MOP_DEV, devices[i].path);
		if (!o)
			goto fail;
		/* static, never a pointer into ops: plan_add moves them */
		o->source = devices[i].path;
		o->dev_major = devices[i].major;
		o->dev_minor = devices[i].minor;
	}
	char *shm = NULL;
	if (asprintf(&shm, "mode=1777,size=%lld", (long long)(c->shm_size > 0 ? c->shm_size : 64 << 20)) < 0)
		goto fail;
	p.strs[p.n_strs++] = shm;
	/* --device, linux.devices: a node made in our /dev (an OCI spec's,
	 * outside a user namespace), else the host's node, checked as found
	 * at run (type, numbers) */
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct run_device *d = &c->devices[i];
		if (!d->host)
			continue; /* a cgroup rule only (an OCI spec's resources.devices) */
		struct run_mount_op *o = plan_add(&p, d->node ? RUN_MOP_MKNOD : RUN_MOP_DEV, d->ctr);
		if (!o)
			goto fail;
		o->source = d->host;
		o->dev_major = d->major;
		o->dev_minor = d->minor;
		o->dev_block = d->type == 'b';
		o->node_mode = (d->type == 'p' ? S_IFIFO : d->type == 'b' ? S_IFBLK : S_IFCHR) | (d->mode & 07777);
		o->node_uid = d->uid;
		o->node_gid = d->gid;
	}
	if (!plan_fs(&p, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620,gid=5", DEVPTS_SUPER_MAGIC) ||
	    !plan_fs(&p, "/dev/shm", "tmpfs", nse, shm, TMPFS_MAGIC) ||
	    !plan_fs(&p, "/dev/mqueue", "mqueue", nse, NULL, 0x19800202 /* MQUEUE_MAGIC */))
		goto fail;
	for (size_t i = 0; i < CM_ARRAY_SIZE(links); i++) {
		struct run_mount_op *o = plan_add(&p, RUN_MOP_SYMLINK, links[i].target);
		if (!o)
			goto fail;
		o->source = links[i].link;
	}
	for (size_t i = 0; i < c->n_vols; i++) {
		if ((r = check_target(c->vols[i].ctr, err)) < 0)
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->vols[j].ctr, c->vols[i].ctr) == 0) {
				r = cm_error_set(err, -EINVAL, "Duplicate mount point: %s", c->vols[i].ctr);
				goto fail;
			}
		if (!c->vols[i].host) { /* img makes a volume before the plan */
			r = cm_error_set(err, -EINVAL, "volume for %s has no directory", c->vols[i].ctr);
			goto fail;
		}
		struct run_mount_op *o = plan_add(&p, RUN_MOP_BIND, c->vols[i].ctr);
		if (!o) {
			r = -ENOMEM;
			goto fail;
		}
		o->source = c->vols[i].host;
		o->readonly = c->vols[i].ro;
		r = -ENOMEM;
	}
	/* --tmpfs PATH[:OPTIONS]: after the volumes, as docker mounts them */
	for (char **t = c->tmpfs; t && *t; t++) {
		const char *colon = strchr(*t, ':');
		char target[256], data[256], *d = NULL;
		unsigned long flags;
		snprintf(target, sizeof(target), "%.*s", colon ? (int)(colon - *t) : (int)strlen(*t), *t);
		if ((r = check_target(target, err)) < 0)
			goto fail;
		if (run_tmpfs_options(colon ? colon + 1 : NULL, &flags, data, sizeof(data)) < 0) {
			r = cm_error_set(err, -EINVAL, "invalid --tmpfs '%s'", *t);
			goto fail;
		}
		r = -ENOMEM;
		if (p.n_strs == CM_ARRAY_SIZE(p.strs) || !(d = strdup(data)))
			goto fail;
		p.strs[p.n_strs++] = d;
		if (!plan_fs(&p, target, "tmpfs", flags, d, TMPFS_MAGIC))
			goto fail;
	}
	/* docker: --privileged or systempaths=unconfined, the kernel's paths as they are */
	if (c->privileged || c->systempaths_unconfined) {
		*ret = p;
		return 0;
	}
	/* an OCI spec's own lists (linux.maskedPaths, readonlyPaths), else docker's */
	size_t n_masked = c->paths_set ? strv_len(c->masked) : CM_ARRAY_SIZE(masked);
	size_t n_ro = c->paths_set ? strv_len(c->readonly_paths) : CM_ARRAY_SIZE(readonly);
	for (size_t i = 0; i < n_masked; i++) {
		struct run_mount_op *o = plan_add(&p, RUN_MOP_MASK, c->paths_set ? c->masked[i] : masked[i]);
		if (!o)
			goto fail;
		o->optional = true;
	}
	for (size_t i = 0; i < n_ro; i++) {
		struct run_mount_op *o = plan_add(&p, RUN_MOP_RO,
						  c->paths_set ? c->readonly_paths[i] : readonly[i]);
		if (!o)
			goto fail;
		o->optional = true;
	}
	*ret = p;
	return 0;
fail:
	run_plan_free(&p);
	return r == -ENOMEM ? cm_error_set(err, r, "building the mount plan: out of memory") : r;
}

void run_plan_free(struct run_plan *p)
{
	for (size_t i = 0; i < p->n_strs; i++)
		free(p->strs[i]);
	p->n_strs = 0;
	free(p->ops);
	p->ops = NULL;
	p->n = p->cap = 0;
}
