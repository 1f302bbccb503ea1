// SPDX-License-Identifier: MIT
/* Branch configuration: the dirs= syntax, option parsing, validation
 * (existence, overlap, modes), and opening branch roots and the work dir. */
#include "ufs-internal.h"
#include "cm-fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

int ufs_errf(char *err, size_t errsz, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return r;
}

void ufs_config_init(struct ufs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->entry_timeout = 86400.0;
	cfg->attr_timeout = 86400.0;
	cfg->copyup_fsync = true;
	cfg->readahead_kb = 1024;
	cfg->passthrough = true;
	cfg->max_threads = 16;
	cfg->io_uring = true;
	cfg->uring_depth = 2;
	cfg->squash_uid = cfg->squash_gid = -1;
}

void ufs_config_clear(struct ufs_config *cfg)
{
	for (size_t i = 0; i < cfg->nbranch; i++)
		free(cfg->branches[i].path);
	free(cfg->mountpoint);
	free(cfg->fuse_opts);
	free(cfg->lowerdir);
	free(cfg->upperdir);
	free(cfg->workdir);
	ufs_config_init(cfg);
}

static int parse_mode(const char *s, enum ufs_branch_mode *ret)
{
	if (strcmp(s, "rw") == 0)
		*ret = UFS_BR_RW;
	else if (strcmp(s, "ro") == 0)
		*ret = UFS_BR_RO;
	else if (strcmp(s, "rr") == 0)
		*ret = UFS_BR_RR;
	else
		return -EINVAL;
	return 0;
}

int ufs_config_parse_dirs(struct ufs_config *cfg, const char *dirs, char *err,
			  size_t errsz)
{
	_cleanup_free_ char *copy = strdup(dirs);
	if (!copy)
		return -ENOMEM;
	if (cfg->have_dirs)
		return ufs_errf(err, errsz, -EINVAL, "dirs= given twice");
	cfg->have_dirs = true;
	if (*copy == '\0')
		return ufs_errf(err, errsz, -EINVAL, "dirs=: no branch given");

	char *save = NULL;
	size_t n = 0;
	/* strtok_r would merge empty elements; walk by hand to refuse them. */
	for (char *p = copy;; p = save) {
		save = strchr(p, ':');
		if (save)
			*save++ = '\0';
		if (*p == '\0')
			return ufs_errf(err, errsz, -EINVAL,
				    "dirs=: empty branch at position %zu", n + 1);
		if (n >= UFS_MAX_BRANCHES)
			return ufs_errf(err, errsz, -EINVAL,
				    "dirs=: more than %d branches", UFS_MAX_BRANCHES);
		enum ufs_branch_mode mode = n == 0 ? UFS_BR_RW : UFS_BR_RO;
		char *eq = strrchr(p, '=');
		if (eq) {
			*eq = '\0';
			if (parse_mode(eq + 1, &mode) < 0)
				return ufs_errf(err, errsz, -EINVAL,
					    "branch '%s': bad mode '%s' (want rw, ro or rr)",
					    p, eq + 1);
			if (*p == '\0')
				return ufs_errf(err, errsz, -EINVAL,
					    "dirs=: empty branch at position %zu", n + 1);
		}
		cfg->branches[n].path = strdup(p);
		if (!cfg->branches[n].path)
			return -ENOMEM;
		cfg->branches[n].mode = mode;
		cfg->nbranch = ++n;
		if (!save)
			break;
	}
	return 0;
}

/* Generic FUSE/mount options we hand to libfuse unchanged. */
static const char *const fuse_passthrough_opts[] = {
	"allow_other", "allow_root", "default_permissions", "ro", "rw",
	"nodev", "dev", "nosuid", "suid", "exec", "noexec", "atime", "noatime",
	"relatime", "norelatime", "strictatime", "sync", "async", "dirsync",
	"fsname=", "subtype=", "max_read=",
};

static int append_fuse_opt(struct ufs_config *cfg, const char *o)
{
	size_t old = cfg->fuse_opts ? strlen(cfg->fuse_opts) : 0;
	char *s = realloc(cfg->fuse_opts, old + strlen(o) + 2);
	if (!s)
		return -ENOMEM;
	if (old)
		s[old++] = ',';
	strcpy(s + old, o);
	cfg->fuse_opts = s;
	return 0;
}

static int parse_seconds(const char *v, double *ret)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end || d < 0 || d > 1e9)
		return -EINVAL;
	*ret = d;
	return 0;
}

/* A decimal number in [lo, hi]. */
static int parse_range(const char *s, unsigned long lo, unsigned long hi, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int ufs_config_parse_opts(struct ufs_config *cfg, const char *opts, char *err,
			  size_t errsz)
{
	_cleanup_free_ char *copy = strdup(opts);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		int r = ufs_ovl_parse_opt(cfg, o, err, errsz);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (strncmp(o, "dirs=", 5) == 0) {
			r = ufs_config_parse_dirs(cfg, o + 5, err, errsz);
		} else if (strncmp(o, "br=", 3) == 0) { /* AUFS spelling */
			r = ufs_config_parse_dirs(cfg, o + 3, err, errsz);
		} else if (strcmp(o, "nofsync") == 0) {
			cfg->copyup_fsync = false;
			r = 0;
		} else if (strcmp(o, "passthrough") == 0 || strcmp(o, "nopassthrough") == 0) {
			cfg->passthrough = o[0] == 'p';
			r = 0;
		} else if (strcmp(o, "io_uring") == 0 || strcmp(o, "noio_uring") == 0) {
			cfg->io_uring = o[0] == 'i';
			r = 0;
		} else if (strncmp(o, "uring_depth=", 12) == 0) {
			if (parse_range(o + 12, 1, 64, &cfg->uring_depth) < 0)
				return ufs_errf(err, errsz, -EINVAL, "option '%s': 1 to 64 entries per queue", o);
			r = 0;
		} else if (strncmp(o, "uring_payload=", 14) == 0) {
			if (parse_range(o + 14, 8, 1024, &cfg->uring_payload_kb) < 0)
				return ufs_errf(err, errsz, -EINVAL, "option '%s': 8 to 1024 KiB", o);
			r = 0;
		} else if (strcmp(o, "allow_idmap") == 0) {
			cfg->allow_idmap = true;
			r = 0;
		} else if (strcmp(o, "writeback") == 0) {
			cfg->writeback = true;
			r = 0;
		} else if (strcmp(o, "nowriteback") == 0) {
			cfg->writeback = false;
			r = 0;
		} else if (strncmp(o, "entry_timeout=", 14) == 0) {
			r = parse_seconds(o + 14, &cfg->entry_timeout);
			if (r < 0)
				return ufs_errf(err, errsz, r, "option '%s': bad number of seconds", o);
		} else if (strncmp(o, "attr_timeout=", 13) == 0) {
			r = parse_seconds(o + 13, &cfg->attr_timeout);
			if (r < 0)
				return ufs_errf(err, errsz, r, "option '%s': bad number of seconds", o);
		} else if (strncmp(o, "max_threads=", 12) == 0) {
			char *end;
			errno = 0;
			unsigned long v = strtoul(o + 12, &end, 10);
			if (errno || end == o + 12 || *end || v < 1 || v > 256)
				return ufs_errf(err, errsz, -EINVAL, "option '%s': want 1 to 256", o);
			cfg->max_threads = (unsigned)v;
			r = 0;
		} else if (strncmp(o, "readahead=", 10) == 0) {
			char *end;
			errno = 0;
			unsigned long v = strtoul(o + 10, &end, 10);
			if (errno || end == o + 10 || *end || v > 1024 * 1024)
				return ufs_errf(err, errsz, -EINVAL, "option '%s': bad size in KiB", o);
			cfg->readahead_kb = (unsigned)v;
			r = 0;
		} else if (strcmp(o, "auto_unmount") == 0) {
			return ufs_errf(err, errsz, -EINVAL,
				    "option 'auto_unmount' is refused (a crashed daemon must leave its mount for umount -l)");
		} else {
			bool known = false;
			for (size_t i = 0; i < CM_ARRAY_SIZE(fuse_passthrough_opts); i++) {
				const char *k = fuse_passthrough_opts[i];
				size_t kl = strlen(k);
				if (k[kl - 1] == '=' ? strncmp(o, k, kl) == 0 : strcmp(o, k) == 0) {
					known = true;
					break;
				}
			}
			if (!known)
				return ufs_errf(err, errsz, -EINVAL, "unknown option '%s'", o);
			r = append_fuse_opt(cfg, o);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static bool path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);
	if (strcmp(outer, "/") == 0)
		return true;
	return strncmp(inner, outer, n) == 0 && (inner[n] == '/' || inner[n] == '\0');
}

int ufs_config_validate(struct ufs_config *cfg, char *err, size_t errsz)
{
	int r = ufs_ovl_assemble(cfg, err, errsz);
	if (r < 0)
		return r;
	if (!cfg->have_dirs || cfg->nbranch == 0)
		return ufs_errf(err, errsz, -EINVAL,
			    "no branches: give -o dirs=BRANCH[=MODE]:... or -o lowerdir=DIR[:DIR...]");
	if (!cfg->mountpoint)
		return ufs_errf(err, errsz, -EINVAL, "no mountpoint given");

	for (size_t i = 0; i < cfg->nbranch; i++) {
		struct ufs_branch_spec *b = &cfg->branches[i];
		char *real = realpath(b->path, NULL);
		if (!real)
			return ufs_errf(err, errsz, -errno, "branch '%s': %s", b->path, strerror(errno));
		struct stat st;
		if (stat(real, &st) < 0) {
			int e = errno;
			free(real);
			return ufs_errf(err, errsz, -e, "branch '%s': %s", b->path, strerror(e));
		}
		if (!S_ISDIR(st.st_mode)) {
			free(real);
			return ufs_errf(err, errsz, -ENOTDIR, "branch '%s': not a directory", b->path);
		}
		free(b->path);
		b->path = real;
	}
	char *mreal = realpath(cfg->mountpoint, NULL);
	if (!mreal)
		return ufs_errf(err, errsz, -errno, "mountpoint '%s': %s", cfg->mountpoint,
			    strerror(errno));
	struct stat mst;
	if (stat(mreal, &mst) < 0 || !S_ISDIR(mst.st_mode)) {
		int e = errno ? errno : ENOTDIR;
		free(mreal);
		return ufs_errf(err, errsz, -ENOTDIR, "mountpoint '%s': %s", cfg->mountpoint,
			    e == ENOTDIR ? "not a directory" : strerror(e));
	}
	free(cfg->mountpoint);
	cfg->mountpoint = mreal;

	for (size_t i = 0; i < cfg->nbranch; i++) {
		const struct ufs_branch_spec *b = &cfg->branches[i];
		if (b->mode == UFS_BR_RW && i != 0)
			return ufs_errf(err, errsz, -EINVAL,
				    cfg->branches[0].mode == UFS_BR_RW
					    ? "branch '%s': only one rw branch is allowed"
					    : "branch '%s': the rw branch must be the first (top) one",
				    b->path);
		for (size_t j = i + 1; j < cfg->nbranch; j++)
			if (path_within(b->path, cfg->branches[j].path) ||
			    path_within(cfg->branches[j].path, b->path))
				return ufs_errf(err, errsz, -EINVAL,
					    "branch '%s' overlaps branch '%s'", b->path,
					    cfg->branches[j].path);
		if (path_within(b->path, cfg->mountpoint) ||
		    path_within(cfg->mountpoint, b->path))
			return ufs_errf(err, errsz, -EINVAL,
				    "branch '%s' overlaps the mountpoint '%s'", b->path,
				    cfg->mountpoint);
	}
	return ufs_ovl_check_workdir(cfg, err, errsz);
}

/* The lock of a live mount's rw branch, in its work dir: flocked for the
 * life of the daemon (the lock passes to the child at daemonize and dies
 * with the process, so a crash leaves nothing to clean), holding "PID
 * MOUNTPOINT" of the holder for the refusal message of a second mount. */
#define UFS_OWNER_FILE "owner"

static int clean_workdir(int workfd)
{
	int fd = openat(workfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_neg_errno();
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return cm_neg_errno();
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, UFS_OWNER_FILE))
			if ((r = cm_rm_rf_at(dirfd(d), de->d_name)) < 0)
				break;
	}
	closedir(d);
	return r;
}

/* The owner file of a locked work dir, "PID MNT": 0 with line split at the
 * space (*ret_mnt), or -1. */
static int read_owner(int workfd, char *line, size_t sz, char **ret_mnt)
{
	_cleanup_close_ int fd = openat(workfd, UFS_OWNER_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, line, sz - 1, 0);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	char *sp = strchr(line, ' ');
	if (!sp || sp == line)
		return -1;
	*sp = '\0';
	*ret_mnt = sp + 1;
	return 0;
}

/* "ufsmount pid N on MNT" from the owner file of a locked work dir. */
static void holder_of(int workfd, char *buf, size_t sz)
{
	snprintf(buf, sz, "another ufsmount (starting up)");
	char line[PATH_MAX + 32], *mnt;
	if (read_owner(workfd, line, sizeof(line), &mnt) == 0)
		snprintf(buf, sz, "the mount on %s (ufsmount pid %s)", mnt, line);
}

/* Is the holder of the work dir's lock on its way out: its mountpoint no
 * longer holds a FUSE mount (unmounted, the daemon still closing)? */
static bool holder_leaving(int workfd)
{
	char line[PATH_MAX + 32], *mnt, type[64];
	unsigned maj, min;
	if (read_owner(workfd, line, sizeof(line), &mnt) < 0)
		return false;
	return ufs_mount_find(mnt, &maj, &min, type, sizeof(type), NULL) < 0 ||
	       strncmp(type, "fuse", 4) != 0;
}

/* Wait a little while the lock is held by a daemon that is exiting (a mount
 * right after an unmount of the same branch). */
#define LOCK_WAIT_STEPS 50 /* of 100 ms */

/* Lock the rw branch for this mount: its work dir (the owner file) and the
 * branch root itself (another mount could name a different work dir). */
static int lock_rw(struct ufs_fs *fs, char *err, size_t errsz)
{
	const char *path = fs->br[0].path;
	int fd = cm_flock_at(fs->workfd, UFS_OWNER_FILE, LOCK_EX | LOCK_NB);
	for (int i = 0; fd == -EWOULDBLOCK && i < LOCK_WAIT_STEPS && holder_leaving(fs->workfd); i++) {
		usleep(100 * 1000);
		fd = cm_flock_at(fs->workfd, UFS_OWNER_FILE, LOCK_EX | LOCK_NB);
	}
	if (fd == -EWOULDBLOCK) {
		char who[PATH_MAX + 64];
		holder_of(fs->workfd, who, sizeof(who));
		return ufs_errf(err, errsz, -EBUSY, "branch '%s': in use as the rw branch of %s", path, who);
	}
	if (fd < 0)
		return ufs_errf(err, errsz, fd, "branch '%s': cannot lock its work dir: %s", path,
			    strerror(-fd));
	fs->ownerfd = fd;
	fs->rootlockfd = openat(fs->br[0].fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->rootlockfd < 0)
		return ufs_errf(err, errsz, cm_neg_errno(), "branch '%s': %s", path, strerror(errno));
	/* the work dir's lock is ours: a holder of the root's is a mount with
	 * another work dir, or the last one still closing its fds */
	int waited = 0;
	while (flock(fs->rootlockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK && waited++ < LOCK_WAIT_STEPS / 5) {
			usleep(100 * 1000);
			continue;
		}
		if (errno == EWOULDBLOCK)
			return ufs_errf(err, errsz, -EBUSY,
				    "branch '%s': in use as the rw branch of another mount", path);
		return ufs_errf(err, errsz, cm_neg_errno(), "branch '%s': cannot lock it: %s", path,
			    strerror(errno));
	}
	return 0;
}

int ufs_fs_owner_publish(struct ufs_fs *fs)
{
	if (fs->ownerfd < 0)
		return 0;
	char line[PATH_MAX + 32];
	int n = snprintf(line, sizeof(line), "%d %s\n", (int)getpid(), fs->cfg->mountpoint);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENAMETOOLONG;
	if (ftruncate(fs->ownerfd, 0) < 0 || pwrite(fs->ownerfd, line, (size_t)n, 0) != n)
		return cm_neg_errno();
	return 0;
}

int ufs_fs_open_branches(struct ufs_fs *fs, char *err, size_t errsz)
{
	struct ufs_config *cfg = fs->cfg;
	fs->nbr = (int)cfg->nbranch;
	fs->rw = cfg->branches[0].mode == UFS_BR_RW;
	fs->workfd = fs->ownerfd = fs->rootlockfd = -1;
	for (int i = 0; i < fs->nbr; i++)
		fs->br[i].fd = -1;
	for (int i = 0; i < fs->nbr; i++) {
		struct ufs_branch *b = &fs->br[i];
		b->path = cfg->branches[i].path;
		b->mode = cfg->branches[i].mode;
		b->fd = open(b->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct stat st;
		if (b->fd < 0 || fstat(b->fd, &st) < 0)
			return ufs_errf(err, errsz, cm_neg_errno(), "branch '%s': %s", b->path,
				    strerror(errno));
		b->dev = st.st_dev;
	}
	fs->wh = (struct cm_wh_enc){
		.fmt = cfg->overlay ? CM_WH_FMT_OVERLAY : CM_WH_FMT_AUFS,
		/* trusted.* needs CAP_SYS_ADMIN: a user's mount writes user.* */
		.user_xattr = cfg->userxattr || geteuid() != 0,
		.no_mknod = cfg->xwhiteout,
	};
	if (fs->rw) {
		/* dirs=: <rw>/.wh..wh.work; overlay syntax: WORKDIR/work, as
		 * kernel overlayfs and fuse-overlayfs use it */
		const char *wpath = cfg->workdir ? cfg->workdir : fs->br[0].path;
		const char *wname = cfg->workdir ? "work" : CM_WH_WORKDIR;
		_cleanup_close_ int wparent = cfg->workdir
			? open(cfg->workdir, O_PATH | O_DIRECTORY | O_CLOEXEC) : dup(fs->br[0].fd);
		if (wparent < 0)
			return ufs_errf(err, errsz, cm_neg_errno(), "workdir '%s': %s", wpath,
				    strerror(errno));
		if (mkdirat(wparent, wname, 0700) < 0 && errno != EEXIST)
			return ufs_errf(err, errsz, cm_neg_errno(),
				    "%s '%s': cannot make work dir %s: %s",
				    cfg->workdir ? "workdir" : "branch", wpath, wname, strerror(errno));
		fs->workfd = openat(wparent, wname, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fs->workfd < 0)
			return ufs_errf(err, errsz, cm_neg_errno(),
				    "%s '%s': work dir %s is not a directory: %s",
				    cfg->workdir ? "workdir" : "branch", wpath, wname, strerror(errno));
		int r = lock_rw(fs, err, errsz);
		if (r < 0)
			return r;
		r = clean_workdir(fs->workfd);
		if (r < 0)
			return ufs_errf(err, errsz, r, "%s '%s': cannot clean work dir: %s",
				    cfg->workdir ? "workdir" : "branch", wpath, strerror(-r));
	}
	return 0;
}

void ufs_fs_close_branches(struct ufs_fs *fs)
{
	for (int i = 0; i < fs->nbr; i++)
		cm_close(&fs->br[i].fd);
	cm_close(&fs->workfd);
	cm_close(&fs->ownerfd); /* drops the locks */
	cm_close(&fs->rootlockfd);
}
