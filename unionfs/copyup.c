// SPDX-License-Identifier: MIT
/* Copy-up (after overlayfs copy_up.c): the object is built in the rw
 * branch's work dir with its data (holes kept), xattrs, owner, mode,
 * security.capability (after chown, which clears it) and times, then
 * published with one rename. A crash or ENOSPC leaves only a temporary in
 * the work dir, which the next mount clears. Parents go first. */
#include "ufs-internal.h"
#include "cm-fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/xattr.h>

#define CAP_XATTR "security.capability"

static int copy_range_fallback(int src, int dst, off_t off, off_t len)
{
	while (len > 0) {
		off_t o = off;
		ssize_t n = sendfile(dst, src, &o, len > (1 << 30) ? (1 << 30) : (size_t)len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cm_neg_errno();
		}
		if (n == 0)
			return -EIO; /* source shrank under us: lower branches are immutable */
		off += n;
		len -= n;
	}
	return 0;
}

static int copy_range(int src, int dst, off_t off, off_t len)
{
	if (lseek(dst, off, SEEK_SET) < 0)
		return cm_neg_errno();
	while (len > 0) {
		loff_t in = off, out = off;
		ssize_t n = copy_file_range(src, &in, dst, &out, (size_t)len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			    errno == EOPNOTSUPP)
				return copy_range_fallback(src, dst, off, len);
			return cm_neg_errno();
		}
		if (n == 0)
			return -EIO;
		off += n;
		len -= n;
	}
	return 0;
}

/* Copy the data of src (size bytes) keeping holes. */
static int copy_data(int src, int dst, off_t size, uint64_t *copied)
{
	off_t pos = 0;
	while (pos < size) {
		off_t data = lseek(src, pos, SEEK_DATA);
		off_t hole;
		if (data < 0) {
			if (errno == ENXIO)
				break; /* only a hole remains */
			if (errno != EINVAL)
				return cm_neg_errno();
			data = pos; /* no SEEK_DATA here: copy everything */
			hole = size;
		} else {
			hole = lseek(src, data, SEEK_HOLE);
			if (hole < 0)
				return cm_neg_errno();
		}
		if (data >= size)
			break;
		if (hole > size)
			hole = size;
		int r = copy_range(src, dst, data, hole - data);
		if (r < 0)
			return r;
		*copied += (uint64_t)(hole - data);
		pos = hole;
	}
	if (ftruncate(dst, size) < 0)
		return cm_neg_errno();
	return 0;
}

static void proc_path(char *buf, size_t sz, int fd)
{
	snprintf(buf, sz, "/proc/self/fd/%d", fd);
}

/* Copy xattrs from O_PATH src to O_PATH dst. cap selects only
 * security.capability (done last) or everything but it. The overlay
 * format's own xattrs (opaque marks) describe the lower object's branch,
 * not the copy: never copied (as kernel overlayfs). */
static int copy_xattrs(struct ufs_fs *fs, int src, int dst, bool cap)
{
	char sp[64], dp[64];
	proc_path(sp, sizeof(sp), src);
	proc_path(dp, sizeof(dp), dst);
	ssize_t len = listxattr(sp, NULL, 0);
	if (len < 0)
		return errno == ENOTSUP || errno == EPERM ? 0 : cm_neg_errno();
	if (len == 0)
		return 0;
	_cleanup_free_ char *names = malloc((size_t)len);
	if (!names)
		return -ENOMEM;
	len = listxattr(sp, names, (size_t)len);
	if (len < 0)
		return cm_neg_errno();
	_cleanup_free_ char *val = NULL;
	size_t valcap = 0;
	for (char *n = names; n < names + len; n += strlen(n) + 1) {
		if ((strcmp(n, CAP_XATTR) == 0) != cap ||
		    (fs->wh.fmt == CM_WH_FMT_OVERLAY && cm_wh_xattr_is_private(n)))
			continue;
		ssize_t vl = getxattr(sp, n, NULL, 0);
		if (vl < 0) {
			if (errno == ENODATA)
				continue;
			return cm_neg_errno();
		}
		if ((size_t)vl > valcap) {
			char *v = realloc(val, (size_t)vl);
			if (!v)
				return -ENOMEM;
			val = v;
			valcap = (size_t)vl;
		}
		vl = getxattr(sp, n, val, valcap);
		if (vl < 0)
			return cm_neg_errno();
		if (setxattr(dp, n, val, (size_t)vl, 0) < 0) {
			/* The rw branch may not take every namespace (e.g.
			 * trusted.* or user.* on symlinks); data wins. */
			if (errno == ENOTSUP || errno == EPERM)
				continue;
			return cm_neg_errno();
		}
	}
	return 0;
}

int ufs_copy_object(struct ufs_fs *fs, int srcdir, const char *name, int dstdir,
		    const char *dstname, off_t size_limit, ino_t *ret_ino)
{
	uint64_t t0 = ufs_now_ns();
	struct stat st;
	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return cm_neg_errno();
	char tmp[64];
	cm_tmpname(tmp, sizeof(tmp), "cu");
	int work = fs->workfd;
	uint64_t copied = 0;
	int r = 0;
	_cleanup_close_ int src = -1, dst = -1, dpath = -1, spath = -1;

	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		if (mkdirat(work, tmp, 0700) < 0)
			return cm_neg_errno();
		break;
	case S_IFREG: {
		src = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (src < 0)
			return cm_neg_errno();
		dst = openat(work, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (dst < 0)
			return cm_neg_errno();
		off_t size = st.st_size;
		if (size_limit >= 0 && size_limit < size)
			size = size_limit;
		r = copy_data(src, dst, size, &copied);
		if (r == 0 && fs->cfg->copyup_fsync && fsync(dst) < 0)
			r = cm_neg_errno();
		break;
	}
	case S_IFLNK: {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(srcdir, name, target, sizeof(target) - 1);
		if (n < 0)
			return cm_neg_errno();
		target[n] = '\0';
		if (symlinkat(target, work, tmp) < 0)
			return cm_neg_errno();
		break;
	}
	default:
		if (mknodat(work, tmp, st.st_mode & (S_IFMT | 0600), st.st_rdev) < 0)
			return cm_neg_errno();
		break;
	}

	if (r == 0) {
		spath = openat(srcdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		dpath = openat(work, tmp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (spath < 0 || dpath < 0)
			r = cm_neg_errno();
	}
	if (r == 0)
		r = copy_xattrs(fs, spath, dpath, false);
	if (r == 0 && fchownat(work, tmp, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		r = cm_neg_errno();
	if (r == 0 && !S_ISLNK(st.st_mode) && fchmodat(work, tmp, st.st_mode & 07777, 0) < 0)
		r = cm_neg_errno();
	if (r == 0)
		r = copy_xattrs(fs, spath, dpath, true);
	if (r == 0) {
		struct timespec ts[2] = { st.st_atim, st.st_mtim };
		if (utimensat(work, tmp, ts, AT_SYMLINK_NOFOLLOW) < 0)
			r = cm_neg_errno();
	}
	struct stat nst;
	if (r == 0 && fstat(dpath, &nst) < 0)
		r = cm_neg_errno();
	if (r == 0)
		r = cm_publish_rename(work, tmp, dstdir, dstname);
	if (r < 0) {
		(void)cm_rm_rf_at(work, tmp);
		return r;
	}
	ufs_origin_forget(fs, nst.st_ino);
	atomic_fetch_add(&fs->st.copyup, 1);
	atomic_fetch_add(&fs->st.copyup_bytes, copied);
	atomic_fetch_add(&fs->st.copyup_ns, ufs_now_ns() - t0);
	*ret_ino = nst.st_ino;
	return 0;
}

int ufs_copyup(struct ufs_fs *fs, struct ufs_node *node, off_t size_limit)
{
	if (!fs->rw)
		return -EROFS;
	if (atomic_load(&node->top) == 0)
		return 0;
	if (node == fs->root)
		return -EIO; /* the rw root always exists */
	struct ufs_node *parent;
	char name[NAME_MAX + 1];
	int r = ufs_node_alias(fs, node, &parent, name);
	if (r < 0)
		return r == -ENOENT ? -ESTALE : r;
	r = ufs_copyup(fs, parent, -1);
	if (r < 0)
		goto out;

	pthread_mutex_lock(&node->lock);
	int top = atomic_load(&node->top);
	if (top != 0 && node->detached) {
		/* retired by a copy-up that raced ours (see below): its
		 * name belongs to another node now */
		r = -ESTALE;
	} else if (top != 0) {
		_cleanup_ufd_ struct ufs_fd sd = { -1, false }, dd = { -1, false };
		r = ufs_dir_fd(fs, parent, top, &sd);
		if (r == 0)
			r = ufs_dir_fd(fs, parent, 0, &dd);
		ino_t nino = 0;
		struct stat pst;
		if (r == 0 && fstat(dd.fd, &pst) < 0)
			r = cm_neg_errno();
		/* A node made by a lookup that raced another copy-up of the
		 * same name finds the copy there: adopt it, it is the view. */
		struct stat ust;
		bool adopt = r == 0 && fstatat(dd.fd, name, &ust, AT_SYMLINK_NOFOLLOW) == 0 &&
			     (ust.st_mode & S_IFMT) == node->type;
		if (adopt)
			nino = ust.st_ino;
		else if (r == 0)
			r = ufs_copy_object(fs, sd.fd, name, dd.fd, name, size_limit, &nino);
		if (r == 0 && !adopt) {
			/* A copy-up is no change of the parent: keep its times
			 * (as overlayfs does). */
			char proc[64];
			struct timespec ts[2] = { pst.st_atim, pst.st_mtim };
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dd.fd);
			(void)utimensat(AT_FDCWD, proc, ts, 0);
		}
		if (r == 0 && node->pt_opens > 0) {
			/* The kernel inode is open in passthrough on the lower
			 * file, and a backing never changes while open: the old
			 * node stays with its readers (they keep reading the
			 * lower data), the copy gets a new node at the next
			 * lookup, and ESTALE makes the VFS redo that lookup
			 * (LOOKUP_REVAL) and the operation on the new node. */
			if (node->dfd < 0)
				node->dfd = ufs_node_open(fs, node, O_PATH);
			ufs_node_retire(fs, node, nino);
			atomic_fetch_add(&fs->st.pt_stale, 1);
			r = -ESTALE;
		} else if (r == 0 && S_ISDIR(node->type)) {
			int fd = openat(dd.fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				ufs_dir_set_fd(fs, node, 0, fd);
			atomic_fetch_or(&node->mask, 1);
		}
		if (r == 0)
			ufs_node_set_backing(fs, node, 0, nino);
		/* a name in the parent's upper dir; a dir's own branches */
		ufs_dir_changed(parent);
		ufs_dir_changed(node);
	}
	pthread_mutex_unlock(&node->lock);
out:
	ufs_node_unpin(fs, parent);
	return r;
}

int ufs_copyup_tree(struct ufs_fs *fs, struct ufs_node *dir, const char *skip)
{
	int r = ufs_copyup(fs, dir, -1);
	if (r < 0)
		return r;
	struct ufs_dirlist l = { 0 };
	r = ufs_dirlist_build(fs, dir, &l);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n && r == 0; i++) {
		const struct ufs_dirent *e = &l.ents[i];
		if ((e->branch == 0 && e->type != DT_DIR) ||
		    (skip && strcmp(ufs_dirent_name(&l, e), skip) == 0))
			continue;
		struct fuse_entry_param ent;
		r = ufs_do_lookup(fs, dir, ufs_dirent_name(&l, e), 0, &ent);
		if (r < 0)
			break;
		struct ufs_node *n = ufs_node_of(fs, ent.ino);
		r = S_ISDIR(n->type) ? ufs_copyup_tree(fs, n, NULL) : ufs_copyup(fs, n, -1);
		ufs_node_forget(fs, n, 1);
	}
	ufs_dirlist_free(&l);
	ufs_dir_changed(dir);
	if (r < 0)
		return r;
	_cleanup_ufd_ struct ufs_fd df = { -1, false };
	r = ufs_dir_fd(fs, dir, 0, &df);
	if (r < 0)
		return r;
	if ((r = ufs_opaque_mark(fs, df.fd)) < 0)
		return r;
	atomic_store(&dir->mask, 1);
	ufs_dir_changed(dir);
	atomic_fetch_add(&fs->st.dir_copyup_tree, 1);
	return 0;
}
