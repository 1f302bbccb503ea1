// SPDX-License-Identifier: MIT
/* img cp (docker cp): files between the host and a container, running or
 * not. The container's side is a root dirfd: /proc/PID/root of a running
 * container (its whole view, volumes included), else its union mounted for
 * the copy. Its path is resolved with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS): a symlink in the container, absolute or "..",
 * stays inside it (the lesson of docker's CVE-2018-15664 and
 * CVE-2019-14271). Below the named object everything is fd-relative and
 * nothing is followed: a symlink is copied as a symlink. */
#include "img-run.h"
#include "cm.h"
#include "cm-fs.h"
#include "ims.h"
#include "run.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct cp_opts {
	bool archive;   /* -a: keep uid/gid (else the copy is root's) */
	bool follow;    /* -L: follow a symlink named as the source */
	bool into_ctr;  /* the destination is the container */
};

/* ------------------------------------------------------------ resolution */

/* The container side: path inside root, as the container would see it. */
static int open_in_root(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;
	do
		fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? cm_neg_errno() : (int)fd;
}

/* Split path into its parent's fd and its last name. root < 0: a host path.
 * "/" and "." as last name mean the directory itself (name "."). */
static int open_parent(int root, const char *path, char name[NAME_MAX + 1])
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	size_t l = strlen(buf);
	while (l > 1 && buf[l - 1] == '/')
		buf[--l] = '\0';
	char *slash = strrchr(buf, '/');
	const char *dir = ".", *last = buf;
	if (slash) {
		*slash = '\0';
		dir = slash == buf ? "/" : buf;
		last = slash + 1;
	}
	if (!*last || strcmp(last, "/") == 0)
		last = ".";
	size_t nl = strlen(last);
	if (nl > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, last, nl + 1);
	return root >= 0 ? open_in_root(root, dir, O_PATH | O_DIRECTORY)
			 : open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* ------------------------------------------------------------ copying */

static int copy_tree(int sdir, const char *sname, int ddir, const char *dname,
		     const struct cp_opts *o, bool follow_top);

static int set_meta(int fd, int ddir, const char *dname, const struct stat *st,
		    const struct cp_opts *o, bool is_link)
{
	/* docker: into a container the copy is root's unless -a; out of one,
	 * the caller's (root here): -a keeps the ids both ways */
	uid_t u = o->archive ? st->st_uid : 0;
	gid_t g = o->archive ? st->st_gid : 0;
	if (is_link)
		return fchownat(ddir, dname, u, g, AT_SYMLINK_NOFOLLOW) < 0 ? cm_neg_errno() : 0;
	if (fchown(fd, u, g) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
		return cm_neg_errno();
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	return futimens(fd, ts) < 0 ? cm_neg_errno() : 0;
}

static int copy_file(int sfd, const struct stat *st, int ddir, const char *dname,
		     const struct cp_opts *o)
{
	/* built aside and renamed over dname: a failed copy leaves nothing
	 * half-written, and nothing is written through a symlink */
	char tmp[64];
	cm_tmpname(tmp, sizeof(tmp), ".img-cp");
	_cleanup_close_ int dfd = openat(ddir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dfd < 0)
		return cm_neg_errno();
	int r = 0;
	for (off_t left = st->st_size; r == 0 && left > 0;) {
		ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, (size_t)left, 0);
		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
			char buf[1 << 16];
			n = read(sfd, buf, sizeof(buf));
			if (n > 0 && (r = cm_write_all(dfd, buf, (size_t)n)) < 0)
				break;
		}
		if (n < 0)
			r = cm_neg_errno();
		else if (n == 0)
			break; /* shrank meanwhile */
		left -= n;
	}
	if (r == 0)
		r = set_meta(dfd, ddir, tmp, st, o, false);
	if (r == 0 && renameat(ddir, tmp, ddir, dname) < 0)
		r = cm_neg_errno();
	if (r < 0)
		(void)unlinkat(ddir, tmp, 0);
	return r;
}

/* Every entry of the directory sfd into dfd; skip_special: devices,
 * FIFOs and sockets are left out instead of failing the copy. */
static int copy_entries(int sfd, int dfd, const struct cp_opts *o, bool skip_special)
{
	int dup = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup < 0 ? NULL : fdopendir(dup);
	if (!d) {
		int r = cm_neg_errno();
		if (dup >= 0)
			close(dup);
		return r;
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			r = copy_tree(sfd, de->d_name, dfd, de->d_name, o, false);
			if (r == -EOPNOTSUPP && skip_special)
				r = 0;
		}
	if (r == 0 && errno)
		r = cm_neg_errno();
	closedir(d);
	return r;
}

static int copy_dir(int sfd, const struct stat *st, int ddir, const char *dname,
		    const struct cp_opts *o)
{
	if (mkdirat(ddir, dname, 0700) < 0 && errno != EEXIST)
		return cm_neg_errno();
	_cleanup_close_ int dfd = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return cm_neg_errno();
	int r = copy_entries(sfd, dfd, o, false);
	return r < 0 ? r : set_meta(dfd, ddir, dname, st, o, false);
}

/* sdir/sname -> ddir/dname; follow_top: a symlink named by the user (-L). */
static int copy_tree(int sdir, const char *sname, int ddir, const char *dname,
		     const struct cp_opts *o, bool follow_top)
{
	struct stat st;
	_cleanup_close_ int sfd = openat(sdir, sname, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC |
						     (follow_top ? 0 : O_NOFOLLOW));
	if (sfd < 0 && errno == ELOOP) { /* a symlink: copied as one */
		char target[PATH_MAX];
		ssize_t n = readlinkat(sdir, sname, target, sizeof(target) - 1);
		if (n < 0 || fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return cm_neg_errno();
		target[n] = '\0';
		if (unlinkat(ddir, dname, 0) < 0 && errno != ENOENT && errno != EISDIR)
			return cm_neg_errno();
		if (symlinkat(target, ddir, dname) < 0)
			return cm_neg_errno();
		return set_meta(-1, ddir, dname, &st, o, true);
	}
	if (sfd < 0 || fstat(sfd, &st) < 0)
		return cm_neg_errno();
	if (S_ISREG(st.st_mode))
		return copy_file(sfd, &st, ddir, dname, o);
	if (S_ISDIR(st.st_mode))
		return copy_dir(sfd, &st, ddir, dname, o);
	return -EOPNOTSUPP; /* devices, FIFOs, sockets: not copied */
}

int img_cp_seed(int root, const char *path, int ddir)
{
	static const struct cp_opts keep = { .archive = true };
	_cleanup_close_ int sfd = open_in_root(root, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (sfd == -ENOENT || sfd == -ENOTDIR || sfd == -ELOOP)
		return 0; /* nothing there in the image, or not a directory */
	if (sfd < 0)
		return sfd;
	int r = copy_entries(sfd, ddir, &keep, true);
	struct stat st;
	if (r == 0 && fstat(sfd, &st) == 0 &&
	    (fchown(ddir, st.st_uid, st.st_gid) < 0 || fchmod(ddir, st.st_mode & 07777) < 0))
		r = cm_neg_errno();
	return r;
}

/* ------------------------------------------------------------ the command */

/* "CONTAINER:PATH" -> container and path (a host path may not hold a ':'
 * before its first '/', as in docker). */
static bool split_ref(const char *arg, char *ctr, size_t sz, const char **path)
{
	const char *colon = strchr(arg, ':');
	const char *slash = strchr(arg, '/');
	if (!colon || colon == arg || (slash && slash < colon) || (size_t)(colon - arg) >= sz)
		return false;
	snprintf(ctr, sz, "%.*s", (int)(colon - arg), arg);
	*path = colon + 1;
	return true;
}

static bool ends_with_dot(const char *p)
{
	size_t l = strlen(p);
	return (l >= 2 && strcmp(p + l - 2, "/.") == 0) || strcmp(p, ".") == 0;
}

static int img_copy(int root, const char *src, const char *dst, const struct cp_opts *o,
		    const char *ctr, struct cm_error *e)
{
	char sname[NAME_MAX + 1], dname[NAME_MAX + 1];
	int sroot = o->into_ctr ? -1 : root, droot = o->into_ctr ? root : -1;
	const char *where = o->into_ctr ? "host" : ctr;
	_cleanup_close_ int sdir = open_parent(sroot, src, sname);
	if (sdir < 0)
		return cm_error_setx(e, sdir, "could not find the file %s in %s", src, where);
	struct stat sst;
	if (fstatat(sdir, sname, &sst, o->follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
		return cm_error_setx(e, cm_neg_errno(), "could not find the file %s in %s", src, where);
	_cleanup_close_ int ddir = open_parent(droot, dst, dname);
	if (ddir < 0)
		return cm_error_setx(e, ddir, "destination directory of %s%s%s", o->into_ctr ? ctr : "",
				     o->into_ctr ? ":" : "", dst);
	/* docker's rules: into an existing directory the source keeps its
	 * name (its contents only with SRC/.); a directory never onto a file;
	 * DEST/ must be a directory */
	struct stat dst_st;
	bool dexists = fstatat(ddir, dname, &dst_st, AT_SYMLINK_NOFOLLOW) == 0;
	size_t dl = strlen(dst);
	bool contents = ends_with_dot(src) || strcmp(sname, ".") == 0;
	if (dexists && S_ISDIR(dst_st.st_mode) && strcmp(dname, ".") != 0 && !contents) {
		_cleanup_close_ int in = openat(ddir, dname, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return cm_error_setx(e, cm_neg_errno(), "destination %s", dst);
		int r = copy_tree(sdir, sname, in, sname, o, o->follow);
		return r < 0 ? cm_error_setx(e, r, "copying %s to %s", src, dst) : 0;
	}
	if (strcmp(dname, ".") == 0 || (dexists && S_ISDIR(dst_st.st_mode))) {
		/* SRC/. into DIR, or into DIR/.: the contents */
		_cleanup_close_ int in = openat(ddir, dname, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return cm_error_setx(e, cm_neg_errno(), "destination %s", dst);
		if (!S_ISDIR(sst.st_mode))
			return cm_error_set(e, -EISDIR, "destination %s is a directory", dst);
		int r = copy_tree(sdir, sname, in, ".", o, o->follow);
		return r < 0 ? cm_error_setx(e, r, "copying %s to %s", src, dst) : 0;
	}
	if (!dexists && dl > 0 && dst[dl - 1] == '/')
		return cm_error_set(e, -ENOENT, "destination directory %s does not exist", dst);
	if (dexists && S_ISDIR(sst.st_mode))
		return cm_error_set(e, -ENOTDIR, "cannot copy a directory to a file: %s", dst);
	int r = copy_tree(sdir, sname, ddir, dname, o, o->follow);
	return r < 0 ? cm_error_setx(e, r, "copying %s to %s", src, dst) : 0;
}

int img_cmd_cp(int argc, char **argv)
{
	struct cp_opts o = { 0 };
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'a')
			o.archive = true;
		else if (c == 'L')
			o.follow = true;
		else
			return img_opt_exit(c);
	}
	char ctr[256];
	const char *cpath, *src = argv[optind], *dst = argv[optind + 1];
	bool from = split_ref(src, ctr, sizeof(ctr), &cpath);
	char ctr2[256];
	const char *cpath2;
	bool to = split_ref(dst, ctr2, sizeof(ctr2), &cpath2);
	if (from == to)
		return img_fail(from ? "copying between containers is not supported"
				     : "one of the paths must name a container: CONTAINER:PATH");
	if (to) {
		o.into_ctr = true;
		snprintf(ctr, sizeof(ctr), "%s", ctr2);
		dst = cpath2;
	} else {
		src = cpath;
	}
	if (!*(to ? dst : src))
		return img_fail("empty path in the container");

	struct cm_error e = { 0 };
	int root = -1, rc = 0;
	bool mounted_here = false;
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	_cleanup_container_ struct ims_container *ct = NULL;
	if (img_open_store(&s, &e) < 0 || ims_container_get(s, ctr, &ct, &e) < 0)
		return img_fail_err(&e);
	/* running: its own view (volumes too), checked to be on its union (a
	 * pid reused meanwhile is not); a --userns container's root is
	 * idmapped, where host root cannot create files: its union then, as
	 * for a stopped container (mounted for us) */
	struct run_state st;
	_cleanup_run_config_ struct run_config *rc_cfg = NULL;
	struct stat a, b;
	if (run_state_refresh(ct->rundir, &st, NULL) == 0 && st.status == RUN_RUNNING &&
	    run_config_read(ct->rundir, &rc_cfg, NULL) == 0 && !rc_cfg->userns) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/root", (int)st.pid);
		root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root >= 0 && (fstat(root, &a) < 0 || stat(ct->mountpoint, &b) < 0 || a.st_dev != b.st_dev)) {
			close(root);
			root = -1;
		}
	}
	if (root < 0) {
		mounted_here = !ct->mounted;
		if (ims_container_mount(s, ct, &e) < 0)
			return img_fail_err(&e);
		root = open(ct->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			rc = img_fail("opening the container's root %s: %s", ct->mountpoint, strerror(errno));
	}
	if (root >= 0 && img_copy(root, src, dst, &o, ctr, &e) < 0)
		rc = img_fail_err(&e);
	if (root >= 0)
		close(root);
	if (mounted_here)
		(void)ims_container_umount(s, ct, true, NULL);
	return rc;
}
