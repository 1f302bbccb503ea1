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

int cm_replace_file_at(int dirfd, const char *name, const char *prefix, const void *buf,
		       size_t len, mode_t mode, bool durable)
{
	char tmp[NAME_MAX + 1];
	cm_tmpname(tmp, sizeof(tmp), prefix);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return cm_neg_errno();
	int r = cm_write_all(fd, buf, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = cm_neg_errno();
	if (close(fd) < 0 && r == 0)
		r = cm_neg_errno();
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = cm_neg_errno();
	if (r < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return r;
	}
	return durable ? cm_fsync_dirfd(dirfd) : 0;
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

struct __dirstream *cm_opendir_at(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
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

static void unescape_octal(char *s)
{
	char *o = s;
	for (char *p = s; *p;) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
}

int cm_mountinfo_find(const char *path, unsigned *ret_maj, unsigned *ret_min, char *fstype,
		      size_t fssz, uid_t *ret_owner)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return cm_neg_errno();
	char *line = NULL;
	size_t cap = 0;
	int r = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		/* id parent major:minor root MOUNTPOINT options... - FSTYPE SOURCE SUPEROPTS */
		unsigned maj = 0, min = 0;
		char fst[128] = "", sopts[1024] = "";
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%127s %*s %1023s", fst, sopts) < 1)
			continue;
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 4; i++) {
			if (i == 2 && sscanf(tok, "%u:%u", &maj, &min) != 2) {
				tok = NULL;
				break;
			}
			tok = strtok_r(NULL, " ", &save);
		}
		if (!tok)
			continue;
		unescape_octal(tok);
		if (strcmp(tok, path) == 0) {
			*ret_maj = maj;
			*ret_min = min;
			if (fstype)
				snprintf(fstype, fssz, "%s", fst);
			if (ret_owner) {
				/* a FUSE mount's super options name the mounting user */
				const char *u = strstr(sopts, "user_id=");
				*ret_owner = u && (u == sopts || u[-1] == ',') ?
						     (uid_t)strtoul(u + 8, NULL, 10) : 0;
			}
			r = 0;
		}
	}
	free(line);
	fclose(f);
	return r;
}
