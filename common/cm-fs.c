// SPDX-License-Identifier: MIT
/* fd-relative filesystem helpers (see cm-fs.h). */
#include "cm-fs.h"
#include "cm.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int cm_openat_beneath(int dirfd, const char *path, int flags, mode_t mode,
		      bool no_symlinks)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS |
			   (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
	};
	long fd;
	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? cm_neg_errno() : (int)fd;
}

int cm_fsync_dirfd(int dirfd)
{
	_cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_neg_errno();
	return fsync(fd) < 0 ? cm_neg_errno() : 0;
}

int cm_publish_rename(int olddir, const char *oldname, int newdir,
		      const char *newname)
{
	if (renameat2(olddir, oldname, newdir, newname, RENAME_NOREPLACE) < 0)
		return cm_neg_errno();
	return 0;
}

int cm_flock_at(int dirfd, const char *name, int op)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cm_neg_errno();
	while (flock(fd, op) < 0) {
		if (errno == EINTR)
			continue;
		int r = cm_neg_errno();
		close(fd);
		return r;
	}
	return fd;
}

int cm_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cm_neg_errno();
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void cm_tmpname(char *buf, size_t bufsz, const char *prefix)
{
	static atomic_ulong counter;
	unsigned long c = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
	snprintf(buf, bufsz, "%s.%d.%lu", prefix, (int)getpid(), c);
}

static int rm_rf_depth(int dirfd, const char *name, int depth);

static int rm_rf_children(int dfd, int depth)
{
	if (depth > 4096)
		return -ELOOP;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_neg_errno();
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return cm_neg_errno();
	}
	int r = 0;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int q = rm_rf_depth(dfd, de->d_name, depth);
		if (q < 0 && r == 0)
			r = q;
	}
	if (errno && r == 0)
		r = cm_neg_errno();
	closedir(d);
	return r;
}

static int rm_rf_depth(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return cm_neg_errno();
	_cleanup_close_ int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY |
						     O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return errno == ENOENT ? 0 : cm_neg_errno();
	int r = rm_rf_children(sub, depth + 1);
	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return cm_neg_errno();
	return 0;
}

int cm_rm_rf_at(int dirfd, const char *name)
{
	return rm_rf_depth(dirfd, name, 0);
}

long cm_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (long)rl.rlim_cur;
}
