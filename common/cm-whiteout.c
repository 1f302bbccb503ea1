// SPDX-License-Identifier: MIT
/* Whiteout rules and their two encodings (see cm-whiteout.h and
 * docs/format.md). */
#include "cm-whiteout.h"
#include "cm-fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

bool cm_wh_is_reserved(const char *name)
{
	return strncmp(name, CM_WH_PREFIX, CM_WH_PREFIX_LEN) == 0;
}

enum cm_wh_kind cm_wh_classify(const char *name, const char **ret_target)
{
	if (!cm_wh_is_reserved(name))
		return CM_WH_NONE;
	if (strcmp(name, CM_WH_OPAQUE) == 0)
		return CM_WH_OPQ;
	if (strncmp(name, CM_WH_META_PREFIX, sizeof(CM_WH_META_PREFIX) - 1) == 0)
		return CM_WH_META;
	const char *t = name + CM_WH_PREFIX_LEN;
	/* ".wh." alone, ".wh..", ".wh..." would hide nothing, ".", or "..". */
	if (t[0] == '\0' || strcmp(t, ".") == 0 || strcmp(t, "..") == 0 ||
	    strchr(t, '/'))
		return CM_WH_INVALID;
	if (ret_target)
		*ret_target = t;
	return CM_WH_FILE;
}

int cm_wh_name(char *buf, size_t bufsz, const char *name)
{
	size_t n = strlen(name);
	if (n + CM_WH_PREFIX_LEN > NAME_MAX || n + CM_WH_PREFIX_LEN + 1 > bufsz)
		return -ENAMETOOLONG;
	memcpy(buf, CM_WH_PREFIX, CM_WH_PREFIX_LEN);
	memcpy(buf + CM_WH_PREFIX_LEN, name, n + 1);
	return 0;
}

/* ---- the two encodings ---- */

#define OVL_T "trusted.overlay."
#define OVL_U "user.overlay."
#define FOVL_U "user.fuseoverlayfs." /* fuse-overlayfs's unprivileged opaque mark */

bool cm_wh_xattr_is_private(const char *name)
{
	return strncmp(name, OVL_T, sizeof(OVL_T) - 1) == 0 ||
	       strncmp(name, OVL_U, sizeof(OVL_U) - 1) == 0 ||
	       strncmp(name, FOVL_U, sizeof(FOVL_U) - 1) == 0;
}

/* Path of name below dirfd through /proc, for the *xattr calls. */
static int at_path(char *buf, size_t sz, int dirfd, const char *name)
{
	int n = snprintf(buf, sz, "/proc/self/fd/%d/%s", dirfd, name);
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

/* The first byte of an overlay.opaque value of name (trusted., user., then
 * fuse-overlayfs's), or 0 if none is set. */
static char opaque_value(int dirfd, const char *name)
{
	static const char *const keys[] = { OVL_T "opaque", OVL_U "opaque", FOVL_U "opaque" };
	char p[PATH_MAX], v[8];
	if (at_path(p, sizeof(p), dirfd, name) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ssize_t n = lgetxattr(p, keys[i], v, sizeof(v));
		if (n > 0)
			return v[0];
	}
	return 0;
}

static bool has_xattr(int dirfd, const char *name, const char *suffix)
{
	char p[PATH_MAX], k[64];
	if (at_path(p, sizeof(p), dirfd, name) < 0)
		return false;
	snprintf(k, sizeof(k), OVL_T "%s", suffix);
	if (lgetxattr(p, k, NULL, 0) >= 0)
		return true;
	snprintf(k, sizeof(k), OVL_U "%s", suffix);
	return lgetxattr(p, k, NULL, 0) >= 0;
}

int cm_wh_is_object(enum cm_wh_format f, int dirfd, const char *name, const struct stat *st)
{
	if (f != CM_WH_FMT_OVERLAY)
		return 0;
	if (S_ISCHR(st->st_mode))
		return st->st_rdev == makedev(0, 0);
	/* xwhiteouts are looked for only in dirs marked for them (as the
	 * kernel does), so a listing needs no getxattr per file */
	if (!S_ISREG(st->st_mode) || st->st_size != 0 || !cm_wh_dir_has_xwhiteouts(dirfd))
		return 0;
	return has_xattr(dirfd, name, "whiteout");
}

bool cm_wh_dir_has_xwhiteouts(int dirfd)
{
	return opaque_value(dirfd, ".") == 'x';
}

int cm_wh_beside(int dirfd, const char *name)
{
	char wh[NAME_MAX + 1];
	if (cm_wh_name(wh, sizeof(wh), name) < 0)
		return 0; /* a name that long has no whiteout */
	struct stat st;
	if (fstatat(dirfd, wh, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
}

int cm_wh_opaque_at(enum cm_wh_format f, int dirfd, const char *name)
{
	if (f == CM_WH_FMT_OVERLAY && opaque_value(dirfd, name) == 'y')
		return 1;
	char p[NAME_MAX + sizeof(CM_WH_OPAQUE) + 2];
	snprintf(p, sizeof(p), "%s/" CM_WH_OPAQUE, name);
	struct stat st;
	if (fstatat(dirfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
}

/* Set ns.overlay.KEY=val on name below dirfd, the trusted. namespace
 * first unless user_xattr (it needs CAP_SYS_ADMIN), then user.. */
static int ovl_setxattr(const struct cm_wh_enc *e, int dirfd, const char *name,
			const char *key, const char *val)
{
	char p[PATH_MAX], k[64];
	int r = at_path(p, sizeof(p), dirfd, name);
	if (r < 0)
		return r;
	for (int user = e->user_xattr; user < 2; user++) {
		snprintf(k, sizeof(k), "%s%s", user ? OVL_U : OVL_T, key);
		if (lsetxattr(p, k, val, strlen(val), 0) == 0)
			return 0;
		r = -errno;
		if (r != -EPERM && r != -ENOTSUP)
			return r;
	}
	return r;
}

int cm_wh_set_opaque(const struct cm_wh_enc *e, int dfd)
{
	if (e->fmt == CM_WH_FMT_OVERLAY && ovl_setxattr(e, dfd, ".", "opaque", "y") == 0)
		return 0;
	int fd = openat(dfd, CM_WH_OPAQUE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	return 0;
}

/* An OVERLAY whiteout named tmp in workfd: a 0/0 char device, else an
 * xwhiteout file (and dirfd marked to hold xwhiteouts). */
static int ovl_build(const struct cm_wh_enc *e, int dirfd, int workfd, const char *tmp)
{
	if (!e->no_mknod) {
		if (mknodat(workfd, tmp, S_IFCHR | 0000, makedev(0, 0)) == 0)
			return 0;
		if (errno != EPERM && errno != EOPNOTSUPP)
			return -errno;
	}
	int fd = openat(workfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
	if (fd < 0)
		return -errno;
	close(fd);
	int r = ovl_setxattr(e, workfd, tmp, "whiteout", "");
	if (r == 0 && opaque_value(dirfd, ".") != 'y')
		r = ovl_setxattr(e, dirfd, ".", "opaque", "x");
	if (r < 0)
		(void)unlinkat(workfd, tmp, 0);
	return r;
}

int cm_wh_make(const struct cm_wh_enc *e, int dirfd, const char *name, int workfd,
	       char *old, size_t oldsz)
{
	if (oldsz)
		old[0] = '\0';
	if (e->fmt != CM_WH_FMT_OVERLAY) {
		char wh[NAME_MAX + 1];
		int r = cm_wh_name(wh, sizeof(wh), name);
		if (r < 0)
			return r;
		int fd = openat(dirfd, wh, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
		if (fd < 0)
			return errno == EEXIST ? 0 : -errno;
		close(fd);
		return 1;
	}
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    cm_wh_is_object(e->fmt, dirfd, name, &st) > 0)
		return 0;
	char tmp[64];
	cm_tmpname(tmp, sizeof(tmp), "wh");
	int r = ovl_build(e, dirfd, workfd, tmp);
	if (r < 0)
		return r;
	if (renameat2(workfd, tmp, dirfd, name, RENAME_NOREPLACE) == 0)
		return 1;
	if (errno == EEXIST && renameat2(workfd, tmp, dirfd, name, RENAME_EXCHANGE) == 0) {
		if (oldsz)
			snprintf(old, oldsz, "%s", tmp);
		return 1;
	}
	r = -errno;
	(void)unlinkat(workfd, tmp, 0);
	return r;
}
