// SPDX-License-Identifier: MIT
/* The Linux side of a container: clone into new namespaces, execute the
 * mount plan with every target resolved inside the root (openat2
 * RESOLVE_IN_ROOT) and checked after mounting, pivot_root, then the process:
 * user, capabilities, no_new_privs, closed fds, session, exec. Also exec
 * into a running container (setns, non-dumpable while joining). */
#include "run-internal.h"
#include "cm-fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <grp.h>


/* ------------------------------------------------------------ child errors */

struct child_ctx {
	int sync;
	int gate; /* O_PATH fd of c->exec_fifo, or -1 */
	int procfd; /* O_PATH fd of the host's /proc/self/fd (chroot_root), or -1 */
};

static void child_fail(struct child_ctx *cx, int code, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));
static void child_fail(struct child_ctx *cx, int code, int e, const char *fmt, ...)
{
	struct run_child_error ce = { .code = code, .err = e };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ce.msg, sizeof(ce.msg), fmt, ap);
	va_end(ap);
	if (e) {
		size_t l = strlen(ce.msg);
		snprintf(ce.msg + l, sizeof(ce.msg) - l, ": %s", strerror(-e));
	}
	if (cx->sync >= 0)
		(void)!write(cx->sync, &ce, sizeof(ce));
	_exit(code);
}

/* ------------------------------------------------------------ in-root paths */

static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	long fd;
	do
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? cm_neg_errno() : (int)fd;
}

/* Create path (and its parents) inside the root: directories, or an empty
 * file as the last component when file. Each parent is resolved in-root and
 * the new name is created relative to it, never through a symlink. */
static int mkpath_in_root(int rootfd, const char *path, bool file)
{
	char buf[256];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	char *p = buf;
	while (*p == '/')
		p++;
	for (;;) {
		char *slash = strchr(p, '/');
		bool last = !slash;
		if (slash)
			*slash = '\0';
		_cleanup_close_ int fd = open_in_root(rootfd, buf, O_PATH);
		if (fd < 0 && fd != -ENOENT)
			return fd;
		if (fd == -ENOENT) {
			char *name = strrchr(buf, '/');
			_cleanup_close_ int parent = -1;
			if (name) {
				*name = '\0';
				parent = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
				*name++ = '/';
			} else {
				name = buf;
				parent = open_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
			}
			if (parent < 0)
				return parent;
			if (last && file) {
				int f = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (f < 0 && errno != EEXIST)
					return cm_neg_errno();
				if (f >= 0)
					close(f);
			} else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
				return cm_neg_errno();
			}
		}
		if (last)
			return 0;
		*slash = '/';
		p = slash + 1;
	}
}

static void fdpath(int fd, char *buf, size_t sz)
{
	snprintf(buf, sz, "/proc/self/fd/%d", fd);
}

/* Keep the flags the kernel locks (nodev, nosuid, noexec...) on a remount. */
static unsigned long locked_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
	return f;
}

static int remount_ro(int fd)
{
	char p[64];
	fdpath(fd, p, sizeof(p));
	if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(fd), NULL) < 0)
		return cm_neg_errno();
	return 0;
}

/* ------------------------------------------------------------ the plan */

static bool same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* The host side of a BIND or DEV op, opened (O_PATH) before pid 1 takes a
 * user namespace's uid: container root may not reach a volume that host
 * root can (docker binds what the daemon can open). -1 for other ops. */
static int open_source(struct child_ctx *cx, const struct run_mount_op *o)
{
	struct stat st;
	int src;
	switch (o->op) {
	case RUN_MOP_BIND:
		src = open(o->source, O_PATH | O_CLOEXEC);
		if (src < 0 && errno == ENOENT && o->optional)
			return -1;
		if (src < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "volume source %s", o->source);
		return src;
	case RUN_MOP_DEV:
		src = open(o->source, O_PATH | O_CLOEXEC | O_NOFOLLOW);
		if (src < 0 || fstat(src, &st) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "host device %s", o->source);
		if (!(o->dev_block ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode)) ||
		    major(st.st_rdev) != o->dev_major || minor(st.st_rdev) != o->dev_minor)
			child_fail(cx, RUN_EXIT_IMG, 0, "host device %s is not %s %u:%u", o->source,
				   o->dev_block ? "block" : "char", o->dev_major, o->dev_minor);
		return src;
	default:
		return -1;
	}
}

/* A node of linux.devices (or --device) made in the container's /dev, as
 * runc makes them: mknod with the spec's type and numbers, then its mode
 * (exactly, not under the umask) and owner. The parent is resolved in-root
 * and must be our /dev tmpfs (or a directory made in it); a node already
 * there is one of the checked defaults, which stays. */
static void make_node(struct child_ctx *cx, int rootfd, const struct run_mount_op *o)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", o->target);
	char *slash = strrchr(dir, '/'), *name = slash + 1;
	*slash = '\0';
	int r = mkpath_in_root(rootfd, dir, false);
	if (r < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "device %s: its directory", o->target);
	_cleanup_close_ int pfd = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
	_cleanup_close_ int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
	struct statfs sf;
	struct stat ps, ds;
	if (pfd < 0 || dev < 0 || fstatfs(pfd, &sf) < 0 || sf.f_type != TMPFS_MAGIC || fstat(pfd, &ps) < 0 ||
	    fstat(dev, &ds) < 0 || ps.st_dev != ds.st_dev)
		child_fail(cx, RUN_EXIT_IMG, pfd < 0 ? pfd : 0, "device %s: not in our /dev tmpfs", o->target);
	if (mknodat(pfd, name, o->node_mode, makedev(o->dev_major, o->dev_minor)) < 0) {
		if (errno == EEXIST)
			return;
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "device %s: mknod", o->target);
	}
	if (fchownat(pfd, name, o->node_uid, o->node_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(pfd, name, o->node_mode & 07777, 0) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "device %s: owner %u:%u, mode %o", o->target,
			   (unsigned)o->node_uid, (unsigned)o->node_gid, (unsigned)(o->node_mode & 07777));
}

/* One op of the plan; src from open_source() (the caller closes it). */
static void apply_op(struct child_ctx *cx, int rootfd, const struct run_mount_op *o, int src)
{
	char tp[64], sp[64];
	int r = 0;
	_cleanup_close_ int null = -1;
	struct stat st;

	switch (o->op) {
	case RUN_MOP_MKNOD:
		make_node(cx, rootfd, o);
		return;
	case RUN_MOP_FS:
		r = mkpath_in_root(rootfd, o->target, false);
		break;
	case RUN_MOP_BIND:
		if (src < 0 && o->optional)
			return;
		if (fstat(src, &st) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "volume source %s", o->source);
		r = mkpath_in_root(rootfd, o->target, !S_ISDIR(st.st_mode));
		break;
	case RUN_MOP_DEV:
		r = mkpath_in_root(rootfd, o->target, true);
		break;
	case RUN_MOP_SYMLINK: {
		/* in a tmpfs of ours: /dev, /sys/fs/cgroup */
		char dir[256];
		snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(o->target, '/') - o->target), o->target);
		_cleanup_close_ int parent = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
		struct statfs sf;
		if (parent < 0 || fstatfs(parent, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
			child_fail(cx, RUN_EXIT_IMG, parent < 0 ? parent : 0, "symlink %s: %s is not our tmpfs",
				   o->target, dir);
		const char *name = strrchr(o->target, '/') + 1;
		if (symlinkat(o->source, parent, name) < 0 && errno != EEXIST)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "symlink %s", o->target);
		return;
	}
	case RUN_MOP_MASK:
	case RUN_MOP_RO:
		r = 0;
		break;
	}
	if (r < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "creating the mount target %s", o->target);

	_cleanup_close_ int tfd = open_in_root(rootfd, o->target, O_PATH);
	if (tfd < 0) {
		if (tfd == -ENOENT && o->optional)
			return;
		child_fail(cx, RUN_EXIT_IMG, tfd, "mount target %s", o->target);
	}
	fdpath(tfd, tp, sizeof(tp));
	switch (o->op) {
	case RUN_MOP_FS:
		if (mount(o->source, tp, o->fstype, o->flags, o->data) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "mounting %s on %s", o->fstype, o->target);
		break;
	case RUN_MOP_BIND:
	case RUN_MOP_DEV:
		fdpath(src, sp, sizeof(sp));
		if (mount(sp, tp, NULL, MS_BIND | (o->op == RUN_MOP_BIND ? MS_REC : 0), NULL) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "binding %s on %s", o->source, o->target);
		break;
	case RUN_MOP_MASK:
		if (fstat(tfd, &st) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "mask %s", o->target);
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", tp, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
				child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "masking %s", o->target);
		} else {
			/* our own /dev/null, checked 1:3 when it was bound */
			null = open_in_root(rootfd, "/dev/null", O_PATH);
			if (null < 0 || fstat(null, &st) < 0 || !S_ISCHR(st.st_mode) ||
			    st.st_rdev != makedev(1, 3))
				child_fail(cx, RUN_EXIT_IMG, null < 0 ? null : 0, "masking %s: no /dev/null", o->target);
			fdpath(null, sp, sizeof(sp));
			if (mount(sp, tp, NULL, MS_BIND, NULL) < 0)
				child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "masking %s", o->target);
		}
		break;
	case RUN_MOP_RO:
		if (mount(tp, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "binding %s read-only", o->target);
		break;
	case RUN_MOP_SYMLINK:
	case RUN_MOP_MKNOD:
		break;
	}

	/* check: the target as seen now, resolved in-root again, is what we mounted */
	_cleanup_close_ int chk = open_in_root(rootfd, o->target, O_PATH);
	if (chk < 0)
		child_fail(cx, RUN_EXIT_IMG, chk, "mount target %s vanished", o->target);
	struct statfs sf;
	switch (o->op) {
	case RUN_MOP_FS:
		if (fstatfs(chk, &sf) < 0 || (o->magic && (uint32_t)sf.f_type != o->magic))
			child_fail(cx, RUN_EXIT_IMG, 0, "mount target %s: not the %s we mounted", o->target, o->fstype);
		break;
	case RUN_MOP_BIND:
	case RUN_MOP_DEV:
		if (!same_file(chk, src))
			child_fail(cx, RUN_EXIT_IMG, 0, "mount target %s: not %s after mounting", o->target, o->source);
		if (o->readonly && (r = remount_ro(chk)) < 0)
			child_fail(cx, RUN_EXIT_IMG, r, "volume %s read-only", o->target);
		break;
	case RUN_MOP_MASK:
		if (fstat(chk, &st) < 0 || (!S_ISDIR(st.st_mode) && st.st_rdev != makedev(1, 3)) ||
		    (S_ISDIR(st.st_mode) && (fstatfs(chk, &sf) < 0 || sf.f_type != TMPFS_MAGIC)))
			child_fail(cx, RUN_EXIT_IMG, 0, "mask %s: not in place after mounting", o->target);
		break;
	case RUN_MOP_RO:
		if ((r = remount_ro(chk)) < 0)
			child_fail(cx, RUN_EXIT_IMG, r, "%s read-only", o->target);
		break;
	case RUN_MOP_SYMLINK:
	case RUN_MOP_MKNOD:
		break;
	}
}

/* ------------------------------------------------------------ process */

/* What the runner reads of the image (passwd, group) is untrusted
 * (SECURITY.md): resolved in the container's root (we are past pivot_root or
 * in its mount namespace) without magic links, opened non-blocking (a FIFO
 * must not hang pid 1 before exec, as it did), a regular file that is not
 * a kernel's pseudo file (a link to /proc/kmsg would have pid 1, still
 * holding every capability, consume the host's kernel log), at most
 * RUN_IMAGE_FILE_MAX bytes. Returns 0 with *ret NULL for a missing file
 * (as runc: names then do not resolve, numeric ids do). */
#define RUN_IMAGE_FILE_MAX (4 << 20)

static bool pseudo_fs(int fd)
{
	static const unsigned long magic[] = {
		PROC_SUPER_MAGIC, SYSFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC,
		DEBUGFS_MAGIC, TRACEFS_MAGIC, SECURITYFS_MAGIC, BPF_FS_MAGIC,
	};
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return true;
	for (size_t i = 0; i < CM_ARRAY_SIZE(magic); i++)
		if ((unsigned long)sf.f_type == magic[i])
			return true;
	return false;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a file";
}

static int read_image_file(const char *path, char **ret, struct cm_error *err)
{
	*ret = NULL;
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening the container's root");
	_cleanup_close_ int fd = open_in_root(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd == -ENOENT)
		return 0;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return cm_error_setx(err, fd < 0 ? fd : cm_neg_errno(), "%s of the container", path);
	if (!S_ISREG(st.st_mode))
		return cm_error_set(err, -EINVAL, "%s of the container is %s, not a regular file", path,
				    file_kind(st.st_mode));
	if (pseudo_fs(fd))
		return cm_error_set(err, -EINVAL, "%s of the container is a kernel file (procfs, sysfs...), not the image's",
				    path);
	int r = -EFBIG;
	if (st.st_size > RUN_IMAGE_FILE_MAX ||
	    (r = fcntl(fd, F_SETFL, 0) < 0 ? cm_neg_errno() : run_read_fd(fd, RUN_IMAGE_FILE_MAX, ret, NULL)) == -EFBIG)
		return cm_error_set(err, -EFBIG, "%s of the container is too large (%lld bytes, at most %d)", path,
				    (long long)st.st_size, RUN_IMAGE_FILE_MAX);
	return r < 0 ? cm_error_setx(err, r, "reading %s of the container", path) : 0;
}

/* Every capability not in keep leaves the bounding set. */
static int drop_bounding(uint64_t keep)
{
	_cleanup_free_ char *s = NULL;
	int last = CAP_LAST_CAP;
	if (run_read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &s, NULL) == 0)
		last = atoi(s);
	for (int c = 0; c <= last; c++) {
		bool k = c < 64 && (keep >> c) & 1;
		if (!k && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return cm_neg_errno();
	}
	return 0;
}

static int set_caps(uint64_t caps, bool root)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };
	/* never more than we hold (--cap-add ALL: all of ours; root here may
	 * lack some, e.g. CAP_SYS_RESOURCE) */
	struct __user_cap_data_struct have[2] = { 0 };
	if (syscall(SYS_capget, &h, have) == 0)
		caps &= (uint64_t)have[0].permitted | (uint64_t)have[1].permitted << 32;
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (root)
		for (int c = 0; c < 64; c++)
			if ((caps >> c) & 1) {
				d[c / 32].effective |= 1u << (c % 32);
				d[c / 32].permitted |= 1u << (c % 32);
			}
	if (syscall(SYS_capset, &h, d) < 0)
		return cm_neg_errno();
	return 0;
}

/* --ulimit: clamped to the hard limit we hold (without CAP_SYS_RESOURCE,
 * as root here, a hard limit cannot be raised: docker's would fail). */
static int apply_ulimits(const struct run_ulimit *ul, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct rlimit cur, want;
		if (getrlimit(ul[i].resource, &cur) < 0)
			return cm_neg_errno();
		want.rlim_max = ul[i].hard < 0 ? RLIM_INFINITY : (rlim_t)ul[i].hard;
		want.rlim_cur = ul[i].soft < 0 ? RLIM_INFINITY : (rlim_t)ul[i].soft;
		if (setrlimit(ul[i].resource, &want) == 0)
			continue;
		if (errno != EPERM)
			return cm_neg_errno();
		if (want.rlim_max > cur.rlim_max)
			want.rlim_max = cur.rlim_max;
		if (want.rlim_cur > want.rlim_max)
			want.rlim_cur = want.rlim_max;
		if (setrlimit(ul[i].resource, &want) < 0)
			return cm_neg_errno();
	}
	return 0;
}

/* An OCI hook run from inside the container (startContainer): its path in
 * the container's root, waited for (timeout: SIGKILL). */
static void run_hook_inside(struct child_ctx *cx, const struct run_hook *h)
{
	pid_t pid = fork();
	if (pid < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "startContainer hook %s", h->path);
	if (pid == 0) {
		char *argv0[] = { h->path, NULL };
		char *env0[] = { NULL };
		execve(h->path, h->args ? h->args : argv0, h->env ? h->env : env0);
		_exit(127);
	}
	int status = 0, waited = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, h->timeout ? WNOHANG : 0);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "startContainer hook %s", h->path);
		if (w == 0 && ++waited > h->timeout * 100) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			child_fail(cx, RUN_EXIT_IMG, -ETIMEDOUT, "startContainer hook");
		}
		if (w == 0)
			usleep(10000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		child_fail(cx, RUN_EXIT_IMG, 0, "startContainer hook %s failed (status %d)", h->path,
			   status);
}

/* create/start (img-runtime): tell the creator we are set up ("R"), then
 * block opening the exec fifo for writing until `start` opens it for
 * reading (runc's exec.fifo); then the startContainer hooks. */
static void wait_start(struct child_ctx *cx, const struct run_config *c)
{
	if (write(cx->sync, "R", 1) != 1)
		_exit(RUN_EXIT_IMG);
	char p[64];
	snprintf(p, sizeof(p), "%s%d", cx->procfd >= 0 ? "" : "/proc/self/fd/", cx->gate);
	int w;
	do
		w = openat(cx->procfd >= 0 ? cx->procfd : AT_FDCWD, p, O_WRONLY | O_CLOEXEC);
	while (w < 0 && errno == EINTR);
	if (w < 0 || write(w, "0", 1) != 1)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "exec fifo");
	close(w);
	cm_close(&cx->gate);
	cm_close(&cx->procfd);
	for (size_t i = 0; i < c->n_start_hooks; i++)
		run_hook_inside(cx, &c->start_hooks[i]);
}

/* Everything after the root is in place: the process of c (or of an exec x). */
static void setup_process(struct child_ctx *cx, char **argv, char **env_in, const char *cwd,
			  const char *user, bool tty, bool is_init, uint64_t caps,
			  const struct run_config *c, const struct run_seccomp *sec)
{
	_cleanup_free_ char *pw = NULL, *gr = NULL;
	struct cm_error e = { 0 };
	struct run_user u;
	int r;

	if (read_image_file("/etc/passwd", &pw, &e) < 0 || read_image_file("/etc/group", &gr, &e) < 0 ||
	    (r = run_user_resolve(user, pw, gr, &u, &e)) < 0)
		child_fail(cx, RUN_EXIT_IMG, 0, "%s", e.msg);
	/* an OCI spec's process.user.additionalGids */
	for (size_t i = 0; i < c->n_add_gids && u.n_groups < CM_ARRAY_SIZE(u.groups); i++)
		u.groups[u.n_groups++] = c->add_gids[i];

	/* --group-add: a gid, or a group of the container's /etc/group */
	for (char **g = c->group_add; g && *g; g++) {
		struct run_user gu;
		char spec[300];
		snprintf(spec, sizeof(spec), "0:%s", *g);
		if (run_user_resolve(spec, pw, gr, &gu, &e) < 0)
			child_fail(cx, RUN_EXIT_IMG, 0, "Unable to find group %s: no matching entries in group file", *g);
		if (u.n_groups == CM_ARRAY_SIZE(u.groups))
			child_fail(cx, RUN_EXIT_IMG, -E2BIG, "--group-add");
		u.groups[u.n_groups++] = gu.gid;
	}

	/* env: HOME from the user unless set */
	size_t n = 0;
	char **env = NULL;
	for (char **p = env_in; p && *p; p++)
		if (run_env_set(&env, &n, *p) < 0)
			child_fail(cx, RUN_EXIT_IMG, -ENOMEM, "env");
	if (!run_env_get(env, "HOME")) {
		char h[300];
		snprintf(h, sizeof(h), "HOME=%s", u.home);
		if (run_env_set(&env, &n, h) < 0)
			child_fail(cx, RUN_EXIT_IMG, -ENOMEM, "env");
	}
	if (!env && run_env_set(&env, &n, "PATH=" RUN_DEFAULT_PATH) < 0)
		child_fail(cx, RUN_EXIT_IMG, -ENOMEM, "env");

	/* the working dir (created as docker does), then getcwd inside the root:
	 * a leaked host directory fd would show as unreachable (CVE-2024-21626) */
	if (chdir(cwd) < 0) {
		if (errno != ENOENT || run_mkdir_p(cwd, 0755) < 0 || chdir(cwd) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "working directory %s", cwd);
	}
	char wd[4096];
	if (!getcwd(wd, sizeof(wd)) || wd[0] != '/')
		child_fail(cx, RUN_EXIT_IMG, -EPERM, "working directory %s is outside the container root", cwd);

	if (tty) {
		if (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "controlling terminal");
	} else if (setsid() < 0 && errno != EPERM) {
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "setsid");
	}

	/* fds: all but 0, 1, 2 close at exec (the sync fd reports the exec);
	 * before any filter, which may not allow close_range (the runtime-spec
	 * validation suite's profile does not) */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "close_range");
	/* rlimits while we still may set them (before the uid change) */
	if ((r = apply_ulimits(c->ulimits, c->n_ulimits)) < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "--ulimit");
	if ((r = drop_bounding(caps)) < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "capability bounding set");
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* no-new-privileges=false: without no_new_privs the kernel takes a
	 * filter only from a holder of CAP_SYS_ADMIN, which we are until the
	 * uid change and capset below (runc's order); every call from here on
	 * goes through the filter (docker's profile allows them) */
	if (sec && c->new_privs && (r = run_seccomp_load(sec)) < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "loading the seccomp filter");
	if (setgroups(u.n_groups, u.groups) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "setgroups");
	if (setresgid(u.gid, u.gid, u.gid) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "setgid %u", u.gid);
	if (setresuid(u.uid, u.uid, u.uid) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "setuid %u", u.uid);
	if ((r = set_caps(caps, u.uid == 0)) < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "capabilities");
	if (!c->new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "no_new_privs");
	/* pid 1 dies with its monitor (set after the uid change, which clears
	 * it); an OCI runtime's caller exits after create */
	if (is_init && !c->oci)
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	if (is_init && cx->gate >= 0)
		wait_start(cx, c);
	/* the filter last: after no_new_privs, before exec (only the exec and
	 * the error report below run under it) */
	if (sec && !c->new_privs && (r = run_seccomp_load(sec)) < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "loading the seccomp filter");

	if (is_init && c->init && c->init_fd >= 0) {
		/* --init: img-init PID-1-reaps and passes signals, then runs argv
		 * (its own PATH search, 127/126 as a shell's) */
		size_t na = 0;
		while (argv[na])
			na++;
		char **av = calloc(na + 3, sizeof(char *));
		if (!av)
			child_fail(cx, RUN_EXIT_IMG, -ENOMEM, "--init");
		av[0] = (char *)"img-init";
		av[1] = (char *)"--";
		memcpy(av + 2, argv, (na + 1) * sizeof(char *));
		syscall(SYS_execveat, c->init_fd, "", av, env, AT_EMPTY_PATH);
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "exec of img-init");
	}
	const char *file = argv[0];
	if (strchr(file, '/')) {
		execve(file, argv, env);
		int e2 = errno;
		child_fail(cx, e2 == ENOENT ? RUN_EXIT_NOTFOUND : RUN_EXIT_NOEXEC, -e2,
			   "exec: \"%s\"", file);
	}
	const char *path = run_env_get(env, "PATH");
	if (!path)
		path = RUN_DEFAULT_PATH;
	int seen = ENOENT;
	/* an empty name is never found (runc's exec.LookPath), not the
	 * EACCES of executing the PATH dir itself */
	for (const char *p = path; *file && *p;) {
		size_t len = strcspn(p, ":");
		char full[4096];
		if (len && snprintf(full, sizeof(full), "%.*s/%s", (int)len, p, file) < (int)sizeof(full)) {
			execve(full, argv, env);
			if (errno != ENOENT && errno != ENOTDIR)
				seen = errno;
		}
		p += len;
		if (*p == ':')
			p++;
	}
	if (seen != ENOENT)
		child_fail(cx, RUN_EXIT_NOEXEC, -seen, "exec: \"%s\"", file);
	child_fail(cx, RUN_EXIT_NOTFOUND, 0, "exec: \"%s\": executable file not found in $PATH", file);
}

/* -t: a pty of the container's own devpts instance (so `tty` names it
 * /dev/pts/0 inside), the slave as stdio, the master sent to the monitor
 * on the sync socket (a 1-byte message with the fd), like runc's console
 * socket. Runs after pivot_root: /dev/ptmx is the container's. */
static void open_console(struct child_ctx *cx, unsigned short rows, unsigned short cols)
{
	int unlock = 0;
	_cleanup_close_ int ptm = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (ptm < 0 || ioctl(ptm, TIOCSPTLCK, &unlock) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "allocating a pty");
	_cleanup_close_ int pts = ioctl(ptm, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pts < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "opening the pty");
	/* the caller's window size before anything runs (img updates it later) */
	struct winsize ws = { .ws_row = rows, .ws_col = cols };
	if (rows && cols)
		(void)ioctl(pts, TIOCSWINSZ, &ws);
	for (int i = 0; i < 3; i++)
		if (dup2(pts, i) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "pty as stdio");
	ssize_t n = run_send_with_fd(cx->sync, "T", 1, ptm);
	if (n != 1)
		child_fail(cx, RUN_EXIT_IMG, n < 0 ? (int)n : -EIO, "sending the pty");
}

/* In its cgroup now (after pivot_root: "/" is the container's): the root
 * of a cgroup namespace of its own, or the spec's (cgns, opened before
 * pivot_root), and the cgroup filesystems of that namespace at
 * /sys/fs/cgroup (run_plan_cgroupns; v1 after the hierarchies our
 * /proc/self/cgroup lists now). */
static void enter_cgroupns(struct child_ctx *cx, const struct run_config *c, int cgns)
{
	_cleanup_free_ char *self = NULL;
	struct run_plan plan = { 0 };
	int r;
	if (cgns >= 0 && setns(cgns, CLONE_NEWCGROUP) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "joining namespace %s", c->ns_path[RUN_NS_CGROUP]);
	if (cgns < 0 && unshare(CLONE_NEWCGROUP) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "cgroup namespace");
	if (c->host_mnt)
		return; /* nothing mounted in the host's mount namespace */
	if (!c->cgroup_v2 && (r = run_read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &self, NULL)) < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "reading /proc/self/cgroup");
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "/");
	if ((r = run_plan_cgroupns(c, self, &plan)) < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "the cgroup mounts");
	for (size_t i = 0; i < plan.n; i++)
		apply_op(cx, root, &plan.ops[i], -1);
	run_plan_free(&plan);
}

/* --sysctl KEY=VALUE (checked by run_parse_sysctl) and an OCI spec's
 * linux.sysctl, written through the container's own /proc (its namespaces:
 * ipc, net; mounted, not yet read-only), resolved in-root: KEY in dotted or
 * slashed form. */
static void write_sysctls(struct child_ctx *cx, int rootfd, char *const *kv)
{
	for (; kv && *kv; kv++) {
		const char *eq = strchr(*kv, '=');
		char path[256];
		int n = snprintf(path, sizeof(path), "proc/sys/%.*s", eq ? (int)(eq - *kv) : 0, *kv);
		if (!eq || n >= (int)sizeof(path) || strstr(path, ".."))
			child_fail(cx, RUN_EXIT_IMG, -EINVAL, "sysctl %s", *kv);
		for (char *q = path + 9; *q; q++)
			if (*q == '.')
				*q = '/';
		_cleanup_close_ int fd = open_in_root(rootfd, path, O_WRONLY | O_NOFOLLOW);
		if (fd < 0 || cm_write_all(fd, eq + 1, strlen(eq + 1)) < 0)
			child_fail(cx, RUN_EXIT_IMG, fd < 0 ? fd : cm_neg_errno(), "sysctl %s", *kv);
	}
}

/* An OCI spec's namespace given by path: joined instead of a new one. */
static void join_paths(struct child_ctx *cx, const struct run_config *c)
{
	static const int order[] = { RUN_NS_USER, RUN_NS_IPC, RUN_NS_UTS, RUN_NS_NET };
	static const int type[] = { CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET };
	for (size_t i = 0; i < CM_ARRAY_SIZE(order); i++) {
		const char *p = c->ns_path[order[i]];
		if (!p)
			continue;
		/* the type given: a path to another kind of namespace is
		 * refused (EINVAL), as the runtime-spec requires */
		_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, type[i]) < 0)
			child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "joining namespace %s", p);
	}
}

/* The root in our own mount namespace: the rootfs bound on itself, the
 * mount plan (mountplan.c) applied in-root, the sysctls written through the
 * container's /proc, then pivot_root and the old root detached. */
static void pivot_into_root(struct child_ctx *cx, const struct run_config *c)
{
	struct cm_error e = { 0 };
	int r;
	_cleanup_close_ int old = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "rootfs %s", c->rootfs);
	char p[64];
	fdpath(old, p, sizeof(p));
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "binding the rootfs");
	_cleanup_close_ int root = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "rootfs %s", c->rootfs);
	struct run_plan plan = { 0 };
	if ((r = run_plan_build(c, &plan, &e)) < 0)
		child_fail(cx, RUN_EXIT_IMG, 0, "%s", e.msg);
	_cleanup_free_ int *src = malloc((plan.n ? plan.n : 1) * sizeof(int));
	if (!src)
		child_fail(cx, RUN_EXIT_IMG, -ENOMEM, "mount plan");
	for (size_t i = 0; i < plan.n; i++)
		src[i] = open_source(cx, &plan.ops[i]);
	/* --userns: become the namespace's root only now: the rootfs lies under
	 * the 0700 run dir, which our host uid (still the owner) can traverse
	 * and container root (an unprivileged host uid) cannot; the volumes
	 * were opened above for the same reason */
	if (c->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "user namespace root");
	if ((r = run_rootfs_check(root, &e)) < 0)
		child_fail(cx, RUN_EXIT_IMG, 0, "%s", e.msg);
	bool sysctl_done = false;
	for (size_t i = 0; i < plan.n; i++) {
		/* before /proc/sys becomes read-only */
		if (!sysctl_done && (plan.ops[i].op == RUN_MOP_MASK || plan.ops[i].op == RUN_MOP_RO)) {
			write_sysctls(cx, root, c->sysctls);
			sysctl_done = true;
		}
		apply_op(cx, root, &plan.ops[i], src[i]);
		cm_close(&src[i]);
	}
	if (!sysctl_done)
		write_sysctls(cx, root, c->sysctls);
	run_plan_free(&plan);

	if (c->read_only && (r = remount_ro(root)) < 0)
		child_fail(cx, RUN_EXIT_IMG, r, "read-only rootfs");

	if (fchdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "detaching the old root");
	if (chdir("/") < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "chdir /");
	cm_close(&root);
	cm_close(&old);
}

/* An OCI spec without a mount namespace: the host's, where we mount
 * nothing (runc would, oci-spec.c refuses a spec that needs it): the
 * sysctls through the host's /proc, as seen from our own namespaces (net,
 * ipc), then chroot into the rootfs, runc's way there. The rootfs has no
 * /proc of its own: the exec fifo is reopened through our /proc/self/fd,
 * kept open until the exec (CLOEXEC). */
static void chroot_root(struct child_ctx *cx, const struct run_config *c)
{
	_cleanup_close_ int host = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (host < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "/");
	write_sysctls(cx, host, c->sysctls);
	_cleanup_close_ int root = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "rootfs %s", c->rootfs);
	if (cx->gate >= 0 && (cx->procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "/proc/self/fd");
	if (c->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "user namespace root");
	if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)
		child_fail(cx, RUN_EXIT_IMG, cm_neg_errno(), "chroot into %s", c->rootfs);
}

/* pid 1: everything from the new namespaces to exec. Never returns. */
static void child_main(const struct run_config *c, const int stdio[3], int sync,
		       struct run_cgroup *self_join, const struct run_seccomp *sec)
{
	struct child_ctx cx = { .sync = sync, .gate = -1, .procfd = -1 };
	struct cm_error e = { 0 };
	char go;

	/* the exec fifo while the host's paths are ours (create/start) */
	if (c->exec_fifo && (cx.gate = open(c->exec_fifo, O_PATH | O_CLOEXEC)) < 0)
		child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "exec fifo %s", c->exec_fifo);
	/* the spec's cgroup namespace, joined once we are in our cgroup */
	_cleanup_close_ int cgns = -1;
	if (c->ns_path[RUN_NS_CGROUP] && (cgns = open(c->ns_path[RUN_NS_CGROUP], O_RDONLY | O_CLOEXEC)) < 0)
		child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "joining namespace %s", c->ns_path[RUN_NS_CGROUP]);
	join_paths(&cx, c);

	/* into the cgroup before anything else, by ourselves (a raw clone of
	 * the single-threaded monitor: one thread) */
	if (self_join && run_cgroup_enter(self_join, 0, &e) < 0)
		child_fail(&cx, RUN_EXIT_IMG, 0, "%s", e.msg);

	/* "go" comes once the monitor put us in the cgroup (and wrote the uid
	 * maps). With a user namespace nothing can be done before the maps; else
	 * the mount setup overlaps the move into the v1 cgroups (each
	 * cgroup.procs write may wait for an RCU grace period, ~6 ms here) and
	 * we wait just before the process set-up: nothing of the image runs and
	 * no device is opened before we are in the cgroup. */
	if (c->userns && read(sync, &go, 1) != 1)
		_exit(RUN_EXIT_IMG); /* the monitor died */
	for (int i = 0; i < 3; i++)
		if (dup2(stdio[i], i) < 0)
			child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "stdio");

	/* --network container:X: X's network namespace (opened by the monitor),
	 * before /sys is mounted, so that it shows X's interfaces */
	if (c->network == RUN_NET_CONTAINER && setns(c->net_fd, CLONE_NEWNET) < 0)
		child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "joining the network namespace of %.12s",
			   c->net_container ? c->net_container : "");

	/* the mount namespace first: nothing we mount may propagate to the host
	 * (the host's, an OCI spec's without one: nothing is mounted) */
	if (!c->host_mnt && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "making / a slave mount");
	/* never with --uts host: that would be the host's name */
	if (!c->host_uts && c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
		child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "sethostname");

	if (c->host_mnt)
		chroot_root(&cx, c);
	else
		pivot_into_root(&cx, c);

	if (c->tty)
		open_console(&cx, c->tty_rows, c->tty_cols);
	if (!c->userns && read(sync, &go, 1) != 1)
		_exit(RUN_EXIT_IMG);
	if (c->cgroupns)
		enter_cgroupns(&cx, c, cgns);
	setup_process(&cx, c->argv, c->env, c->cwd ? c->cwd : "/", c->user, c->tty, true,
		      run_caps_effective(c), c, sec);
}

int run_linux_clone(const struct run_config *c, const int stdio[3], int sync_child,
		    struct run_cgroup *self_join, int cgfd, pid_t *ret_pid, struct cm_error *err)
{
	unsigned long flags = c->host_mnt ? 0 : CLONE_NEWNS;
	if (!c->host_ipc && !c->ns_path[RUN_NS_IPC])
		flags |= CLONE_NEWIPC;
	if (!c->host_pid && !c->ns_path[RUN_NS_PID])
		flags |= CLONE_NEWPID;
	if (!c->host_uts && !c->ns_path[RUN_NS_UTS])
		flags |= CLONE_NEWUTS;
	if (c->network != RUN_NET_HOST && c->network != RUN_NET_CONTAINER && !c->ns_path[RUN_NS_NET])
		flags |= CLONE_NEWNET;
	if (c->userns && !c->ns_path[RUN_NS_USER])
		flags |= CLONE_NEWUSER;
	/* a pid namespace by path: ours for our children (the caller is an
	 * OCI runtime's short-lived process, never the monitor) */
	if (c->ns_path[RUN_NS_PID]) {
		_cleanup_close_ int pfd = open(c->ns_path[RUN_NS_PID], O_RDONLY | O_CLOEXEC);
		if (pfd < 0 || setns(pfd, CLONE_NEWPID) < 0)
			return cm_error_setx(err, cm_neg_errno(), "joining namespace %s",
					     c->ns_path[RUN_NS_PID]);
	}
	if (c->network == RUN_NET_CONTAINER && c->net_fd < 0)
		return cm_error_set(err, -EINVAL, "no network namespace to join");
	/* the filter is compiled here, the child only loads it */
	_cleanup_seccomp_ struct run_seccomp *sec = NULL;
	int r = run_seccomp_compile(c, &sec, err);
	if (r < 0)
		return r;
	/* raw clone: fork semantics into new namespaces; the child only makes
	 * async-signal-safe-enough calls of a single-threaded process, then execs */
	long pid = run_clone(flags, cgfd);
	if (pid < 0)
		return cm_error_setx(err, (int)pid, "clone into new namespaces%s",
				     cgfd >= 0 ? " and the cgroup" : "");
	if (pid == 0)
		child_main(c, stdio, sync_child, self_join, sec);
	*ret_pid = (pid_t)pid;
	return 0;
}

int run_linux_userns_map(const struct run_config *c, pid_t pid, struct cm_error *err)
{
	char p[64], m[64];
	snprintf(m, sizeof(m), "0 %d %d\n", RUN_USERNS_BASE, RUN_USERNS_SIZE);
	const char *files[] = { "uid_map", "gid_map" };
	const char *maps[] = { c->uid_map ? c->uid_map : m, c->gid_map ? c->gid_map : m };
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, files[i]);
		int r = run_write_file(p, maps[i]);
		if (r < 0)
			return cm_error_setx(err, r, "writing %s", p);
	}
	return 0;
}

/* --userns: the container's root becomes an idmapped mount of the union
 * (0 -> RUN_USERNS_BASE, like the uid map), so container root owns the
 * image's files and what it creates lands in the rw branch with the image's
 * own ids (commit stays portable). Only host root can idmap a mount whose
 * superblock belongs to the initial user namespace, and a detached clone
 * may only be attached in the mount namespace it was cloned from: a short
 * helper process joins pid 1's mount namespace (a slave copy of ours, made
 * by CLONE_NEWUSER|CLONE_NEWNS, so nothing propagates back to the host),
 * clones the union there, idmaps it with pid 1's user namespace and mounts
 * it over the rootfs path. pid 1 waits for "go" and finds it in place. */
struct idmap_job {
	int userns, mntns;
	const char *rootfs;
};

static int idmap_root(void *arg, int *ret_errno)
{
	const struct idmap_job *j = arg;
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)j->userns };
	int tree, step = 0;
	if (setns(j->mntns, CLONE_NEWNS) < 0)
		step = 1;
	else if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		step = 2;
	else if ((tree = open_tree(AT_FDCWD, j->rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0)
		step = 3;
	else if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		step = 4;
	else if (move_mount(tree, "", AT_FDCWD, j->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		step = 5;
	*ret_errno = step ? cm_neg_errno() : 0;
	return step;
}

int run_linux_userns_root(pid_t pid, const char *rootfs, struct cm_error *err)
{
	static const char *const steps[] = {
		"joining the container's mount namespace", "making its mounts slaves",
		"cloning the union mount",
		"idmapping the union mount (Linux 6.12 and ufsmount -o allow_idmap needed)",
		"mounting the idmapped union",
	};
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)pid);
	_cleanup_close_ int userns = open(p, O_RDONLY | O_CLOEXEC);
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)pid);
	_cleanup_close_ int mntns = open(p, O_RDONLY | O_CLOEXEC);
	if (userns < 0 || mntns < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening the namespaces of pid %d", (int)pid);
	struct idmap_job j = { .userns = userns, .mntns = mntns, .rootfs = rootfs };
	return run_in_helper(idmap_root, &j, "--userns", steps, CM_ARRAY_SIZE(steps), err);
}

/* ------------------------------------------------------------ exec */

/* img exec without -t: our stdin into the process's pipe (-i), its stdout
 * and stderr pipes out to ours, until the joiner (which waits for the
 * process) exits; then what the pipes still hold. A reader of ours gone
 * (EPIPE) closes that pipe, so the process gets its EPIPE as before. */
static void relay_exec(int in_dst, int out, int errp, pid_t joiner)
{
	struct run_input in = { .src = in_dst >= 0 ? 0 : -1, .dst = in_dst, .close_at_eof = true };
	if (in_dst >= 0)
		(void)fcntl(in_dst, F_SETFL, O_NONBLOCK);
	int pfd = (int)syscall(SYS_pidfd_open, joiner, 0);
	int fds[2] = { out, errp };
	char b[16384];
	bool done = false;
	while (!done && (fds[0] >= 0 || fds[1] >= 0 || pfd >= 0)) {
		struct pollfd pf[5] = {
			{ .fd = fds[0], .events = POLLIN },
			{ .fd = fds[1], .events = POLLIN },
			{ .fd = pfd, .events = POLLIN },
			{ .fd = in.len ? -1 : in.src, .events = POLLIN },
			{ .fd = in.len ? in.dst : -1, .events = POLLOUT },
		};
		if (poll(pf, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int k = 0; k < 2; k++) {
			if (!pf[k].revents)
				continue;
			ssize_t n = read(fds[k], b, sizeof(b));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || cm_write_all(k + 1, b, (size_t)n) < 0)
				cm_close(&fds[k]);
		}
		if (pf[3].revents || pf[4].revents)
			run_input_step(&in, pf[3].revents != 0);
		done = pf[2].revents != 0;
	}
	/* exited: what it (or what it left running) wrote until now */
	for (int k = 0; k < 2; k++) {
		if (fds[k] < 0)
			continue;
		(void)fcntl(fds[k], F_SETFL, O_NONBLOCK);
		ssize_t n;
		while ((n = read(fds[k], b, sizeof(b))) > 0 && cm_write_all(k + 1, b, (size_t)n) == 0)
			;
		cm_close(&fds[k]);
	}
	cm_close(&pfd);
	if (in.dst >= 0)
		cm_close(&in.dst);
}

/* The joiner's report of an OCI exec: the process's host pid. */
struct exec_pid_msg {
	char tag; /* 'P' */
	int32_t pid;
};

/* OCI exec: the messages of joiner and process until both are done with
 * the socket (exec'd: closed on exec): the pid, the pty master, or an
 * error. The process keeps the caller's stdio. */
static int exec_oci_wait(int sp, pid_t joiner, const struct run_exec *x, int *ret_code,
			 struct cm_error *err)
{
	union {
		struct run_child_error ce;
		struct exec_pid_msg pm;
	} m;
	pid_t pid = 0;
	int ptm = -1, r = 0;
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &m, sizeof(m) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(sp, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				memcpy(&ptm, CMSG_DATA(cm), sizeof(int));
		if (n == (ssize_t)sizeof(m.pm) && m.pm.tag == 'P')
			pid = m.pm.pid;
		else if (n == (ssize_t)sizeof(m.ce) && r == 0) {
			*ret_code = m.ce.code;
			r = cm_error_set(err, m.ce.err ? m.ce.err : -EINVAL, "%s", m.ce.msg);
		}
	}
	close(sp);
	int status = 0;
	while (waitpid(joiner, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && !pid)
		r = cm_error_set(err, -ESRCH, "exec: the process was not started (status %d)", status);
	if (r < 0) {
		cm_close(&ptm);
		return r;
	}
	*x->ret_pid = pid;
	if (x->ret_ptm)
		*x->ret_ptm = ptm;
	else
		cm_close(&ptm);
	*ret_code = 0;
	return 0;
}

int run_linux_exec(const struct run_config *c, const struct run_state *st,
		   const struct run_exec *x, int *ret_code, struct cm_error *err)
{
	static const char *const order[] = { "user", "ipc", "uts", "net", "pid", "cgroup", "mnt" };
	int nsfd[CM_ARRAY_SIZE(order)];
	/* without -t: pipes for 1 and 2 (and 0 with -i), as docker's exec
	 * gives, never our own fds (the caller's terminal) */
	int pio[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	char p[64];
	int r = 0;
	_cleanup_close_ int ptm = -1; /* -t: the master of the container's pty */
	_cleanup_close_ int rootfd = -1; /* pid 1's root, where it has no mount namespace */
	_cleanup_cgroup_ struct run_cgroup *cg = NULL; /* before any goto (issue 11) */
	_cleanup_seccomp_ struct run_seccomp *sec = NULL;

	for (size_t i = 0; i < CM_ARRAY_SIZE(order); i++)
		nsfd[i] = -1;

	/* open every namespace of pid 1 first, then check it is still that pid */
	for (size_t i = 0; i < CM_ARRAY_SIZE(order); i++) {
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)st->pid, order[i]);
		nsfd[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (nsfd[i] < 0) {
			r = cm_error_setx(err, cm_neg_errno(), "opening %s", p);
			goto out;
		}
	}
	/* no mount namespace of its own (oci-spec.c): its root is a chroot */
	if (c->host_mnt) {
		snprintf(p, sizeof(p), "/proc/%d/root", (int)st->pid);
		if ((rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			r = cm_error_setx(err, cm_neg_errno(), "opening %s", p);
			goto out;
		}
	}
	if (run_pid_starttime(st->pid) == 0) {
		r = cm_error_set(err, -ESRCH, "container %.12s is not running", c->id);
		goto out;
	}

	if ((r = run_cgroup_for(c, &cg, err)) < 0)
		goto out;
	/* the container's profile (exec inherits it), compiled before the fork */
	if ((r = run_seccomp_compile(c, &sec, err)) < 0)
		goto out;

	/* -t: the pty comes from the container's own devpts (opened inside,
	 * as for run -t), sized like our terminal */
	struct winsize ws = { 0 };
	if (x->tty)
		(void)ioctl(0, TIOCGWINSZ, &ws);
	for (int i = x->interactive ? 0 : 1; !x->tty && !x->oci && i < 3; i++)
		if (pipe2(pio[i], O_CLOEXEC) < 0) {
			r = cm_error_setx(err, cm_neg_errno(), "pipes");
			goto out;
		}
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "socketpair");
		goto out;
	}
	/* If the joiner dies first (stop kills the whole group), the process
	 * it forked into the pid namespace is orphaned to the reaper of the
	 * joiner's (host) namespace, and the container's pid 1 cannot finish
	 * exiting until that zombie is reaped: a slow host init (this VM's
	 * reaps every ~1.5 s) held up every stop of a container with an exec
	 * running. As a subreaper we get the orphan and reap it at once. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* the joiner: born in the group on v2 (clone3), else it joins it
	 * itself (v1: the cheap way, see run_cgroup_self_join_fast) */
	int cgfd = run_cgroup_self_join_fast(cg) ? -1 : run_cgroup_dir_fd(cg);
	long lpid = run_clone(0, cgfd);
	if (lpid < 0 && cgfd >= 0) {
		cm_close(&cgfd);
		lpid = run_clone(0, -1);
	}
	bool born_in = cgfd >= 0;
	cm_close(&cgfd);
	pid_t pid = (pid_t)lpid;
	if (lpid < 0) {
		r = cm_error_setx(err, (int)lpid, "fork");
		close(sp[0]);
		close(sp[1]);
		goto out;
	}
	if (pid == 0) {
		struct child_ctx cx = { .sync = sp[1], .gate = -1, .procfd = -1 };
		close(sp[0]);
		for (int i = 0; i < 3; i++)
			if (pio[i][0] >= 0 && dup2(pio[i][i ? 1 : 0], i) < 0)
				child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "stdio");
		for (int i = 0; i < 3; i++) {
			cm_close(&pio[i][0]);
			cm_close(&pio[i][1]);
		}
		/* nothing of ours may be read through /proc while we join */
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		struct cm_error e2 = { 0 };
		if (!born_in && run_cgroup_enter(cg, 0, &e2) < 0)
			child_fail(&cx, RUN_EXIT_IMG, 0, "%s", e2.msg);
		struct stat self, other;
		for (size_t i = 0; i < CM_ARRAY_SIZE(order); i++) {
			snprintf(p, sizeof(p), "/proc/self/ns/%s", order[i]);
			/* joining our own user ns is EINVAL: skip the same ns */
			if (stat(p, &self) == 0 && fstat(nsfd[i], &other) == 0 && self.st_ino == other.st_ino)
				continue;
			if (setns(nsfd[i], 0) < 0)
				child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "joining the %s namespace", order[i]);
		}
		for (size_t i = 0; i < CM_ARRAY_SIZE(order); i++)
			close(nsfd[i]);
		if (rootfd >= 0 && (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0))
			child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "chroot into the container's root");
		cm_close(&rootfd);
		/* a second fork to be inside the pid namespace */
		pid_t inner = fork();
		if (inner < 0)
			child_fail(&cx, RUN_EXIT_IMG, cm_neg_errno(), "fork");
		if (inner > 0 && x->oci) {
			/* the process is the caller's (a subreaper) once we exit */
			struct exec_pid_msg pm = { .tag = 'P', .pid = inner };
			_exit(write(sp[1], &pm, sizeof(pm)) == (ssize_t)sizeof(pm) ? 0 : RUN_EXIT_IMG);
		}
		if (inner > 0) {
			int status;
			close(sp[1]);
			while (waitpid(inner, &status, 0) < 0 && errno == EINTR)
				;
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
		if (x->tty)
			open_console(&cx, ws.ws_row, ws.ws_col);
		char **env = NULL;
		size_t n = 0;
		for (char **e = c->env; e && *e; e++)
			(void)run_env_set(&env, &n, *e);
		for (char **e = x->env; e && *e; e++)
			(void)run_env_set(&env, &n, *e);
		const char *cwd = x->cwd ? x->cwd : c->cwd ? c->cwd : "/";
		setup_process(&cx, x->argv, env, cwd, x->user ? x->user : c->user, x->tty, false,
			      run_caps_effective(c), c, sec);
	}
	close(sp[1]);
	cm_close(&pio[0][0]);
	cm_close(&pio[1][1]);
	cm_close(&pio[2][1]);
	struct run_child_error ce;
	ssize_t n = -1;
	if (x->oci) {
		r = exec_oci_wait(sp[0], pid, x, ret_code, err);
		goto out;
	}
	if (x->tty) {
		/* first message: the pty master ("T" + the fd), or an error */
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &ce, sizeof(ce) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		do
			n = recvmsg(sp[0], &mh, MSG_CMSG_CLOEXEC);
		while (n < 0 && errno == EINTR);
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				memcpy(&ptm, CMSG_DATA(cm), sizeof(int));
		if (ptm >= 0) {
			(void)run_relay_tty(ptm, pid);
			n = -1; /* the console message was not an error */
		}
	}
	if (n != (ssize_t)sizeof(ce))
		n = read(sp[0], &ce, sizeof(ce));
	close(sp[0]);
	/* exec'd (the socket closed on exec): relay until it is done */
	if (!x->tty && n != (ssize_t)sizeof(ce))
		relay_exec(TAKE_FD(pio[0][1]), TAKE_FD(pio[1][0]), TAKE_FD(pio[2][0]), pid);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* orphans of a killed joiner (above): they were SIGKILLed with it */
	for (;;) {
		pid_t w = waitpid(-1, NULL, __WALL);
		if (w < 0 && errno != EINTR)
			break;
	}
	if (n == (ssize_t)sizeof(ce)) {
		*ret_code = ce.code;
		r = cm_error_set(err, ce.err ? ce.err : -EINVAL, "%s", ce.msg);
		goto out;
	}
	*ret_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r = 0;
out:
	for (size_t i = 0; i < CM_ARRAY_SIZE(order); i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	for (int i = 0; i < 3; i++) {
		cm_close(&pio[i][0]);
		cm_close(&pio[i][1]);
	}
	return r;
}
