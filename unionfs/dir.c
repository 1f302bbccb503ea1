// SPDX-License-Identifier: MIT
/* Namespace changes in the rw branch (after overlayfs dir.c): create over a
 * whiteout, remove-and-whiteout, rename with copy-up, link. Each change is
 * ordered so that a crash between two steps shows the old or the new state:
 * a whiteout beside a live upper name is harmless (the OCI same-layer rule),
 * so whiteouts are written before the upper name goes away. */
#include "ufs-internal.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int ufs_whiteout_create(struct ufs_fs *fs, int upperdir, const char *name)
{
	char wh[NAME_MAX + 1];
	int r = cm_wh_name(wh, sizeof(wh), name);
	if (r < 0)
		return r;
	int fd = openat(upperdir, wh, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return errno == EEXIST ? 0 : cm_neg_errno();
	close(fd);
	atomic_fetch_add(&fs->st.whiteout, 1);
	return 1;
}

static void whiteout_remove(int upperdir, const char *name)
{
	char wh[NAME_MAX + 1];
	if (cm_wh_name(wh, sizeof(wh), name) == 0)
		(void)unlinkat(upperdir, wh, 0);
}

static int wh_present(int upperdir, const char *name)
{
	char wh[NAME_MAX + 1];
	struct stat st;
	if (cm_wh_name(wh, sizeof(wh), name) < 0)
		return 0;
	if (fstatat(upperdir, wh, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT ? 0 : cm_neg_errno();
}

/* Give a new object the caller's owner; a setgid parent keeps its group
 * (the rw branch's filesystem already applied it, as root created it). */
static int set_owner(fuse_req_t req, int dirfd, const char *name, int fd,
		     const struct stat *parent_st)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	gid_t gid = (parent_st->st_mode & S_ISGID) ? (gid_t)-1 : c->gid;
	if (c->uid == geteuid() && (gid == (gid_t)-1 || gid == getegid()))
		return 0;
	int r = fd >= 0 ? fchown(fd, c->uid, gid)
			: fchownat(dirfd, name, c->uid, gid, AT_SYMLINK_NOFOLLOW);
	return r < 0 ? cm_neg_errno() : 0;
}

/* Checks shared by every creation: name allowed, rw branch, parent copied
 * up, name absent. Fills the upper dir fd, its stat and whiteout state. */
static int prep_create(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		       struct ufs_fd *upper, struct stat *pst, int *wh)
{
	if (cm_wh_is_reserved(name))
		return -EPERM;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	if (!fs->rw)
		return -EROFS;
	if (dir->detached)
		return -ENOENT;
	int r = ufs_copyup(fs, dir, -1);
	if (r < 0)
		return r;
	struct ufs_res res;
	r = ufs_resolve(fs, dir, name, 0, &res);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	r = ufs_dir_fd(fs, dir, 0, upper);
	if (r < 0)
		return r;
	if (fstat(upper->fd, pst) < 0)
		return cm_neg_errno();
	r = wh_present(upper->fd, name);
	if (r < 0)
		return r;
	*wh = r;
	return 0;
}

static int finish_create(struct ufs_fs *fs, struct ufs_node *dir, int upperfd,
			 const char *name, int wh, struct fuse_entry_param *e)
{
	if (wh)
		whiteout_remove(upperfd, name);
	struct ufs_res res = { .branch = 0 };
	if (fstatat(upperfd, name, &res.st, AT_SYMLINK_NOFOLLOW) < 0)
		return cm_neg_errno();
	res.mask = S_ISDIR(res.st.st_mode) ? 1 : 0;
	struct ufs_node *n = ufs_node_get_new(fs, dir, name, &res);
	if (!n)
		return -ENOMEM;
	/* New: no security.capability (the kernel asks before each write) */
	atomic_store(&n->nocap, true);
	if (S_ISDIR(res.st.st_mode)) {
		int fd = openat(upperfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			ufs_dir_set_fd(fs, n, 0, fd);
	}
	ufs_fill_entry(fs, n, &res.st, e);
	return 0;
}

/* mkdir where a lower branch has the name (hidden): build an opaque dir in
 * the work dir and publish it with one rename. */
static int mkdir_opaque(struct ufs_fs *fs, fuse_req_t req, int upperfd,
			const char *name, mode_t mode, const struct stat *pst)
{
	char tmp[64];
	cm_tmpname(tmp, sizeof(tmp), "mk");
	if (mkdirat(fs->workfd, tmp, mode & 07777) < 0)
		return cm_neg_errno();
	_cleanup_close_ int d = openat(fs->workfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = d < 0 ? cm_neg_errno() : 0;
	if (r == 0) {
		int fd = openat(d, CM_WH_OPAQUE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd < 0)
			r = cm_neg_errno();
		else
			close(fd);
	}
	/* The work dir is not setgid: apply the parent's group by hand. */
	if (r == 0 && (pst->st_mode & S_ISGID)) {
		if (fchown(d, (uid_t)-1, pst->st_gid) < 0 || fchmod(d, (mode & 07777) | S_ISGID) < 0)
			r = cm_neg_errno();
	}
	if (r == 0)
		r = set_owner(req, -1, NULL, d, pst);
	if (r == 0)
		r = cm_publish_rename(fs->workfd, tmp, upperfd, name);
	if (r < 0) {
		(void)cm_rm_rf_at(fs->workfd, tmp);
		return r;
	}
	atomic_fetch_add(&fs->st.opaque, 1);
	return 0;
}

int ufs_do_mknod(struct ufs_fs *fs, fuse_req_t req, struct ufs_node *dir,
		 const char *name, mode_t mode, dev_t rdev, const char *link,
		 struct fuse_entry_param *e)
{
	_cleanup_ufd_ struct ufs_fd up = { -1, false };
	struct stat pst;
	int wh = 0;
	int r = prep_create(fs, dir, name, &up, &pst, &wh);
	if (r < 0)
		return r;
	if (S_ISDIR(mode)) {
		if (wh || ufs_lower_has_name(fs, dir, name) > 0)
			r = mkdir_opaque(fs, req, up.fd, name, mode, &pst);
		else if (mkdirat(up.fd, name, mode & 07777) < 0)
			r = cm_neg_errno();
		else if ((r = set_owner(req, up.fd, name, -1, &pst)) < 0)
			(void)unlinkat(up.fd, name, AT_REMOVEDIR);
	} else {
		if (link ? symlinkat(link, up.fd, name) < 0
			 : mknodat(up.fd, name, mode, rdev) < 0)
			r = cm_neg_errno();
		else if ((r = set_owner(req, up.fd, name, -1, &pst)) < 0)
			(void)unlinkat(up.fd, name, 0);
	}
	if (r < 0)
		return r;
	return finish_create(fs, dir, up.fd, name, wh, e);
}

int ufs_do_create(struct ufs_fs *fs, fuse_req_t req, struct ufs_node *dir,
		  const char *name, mode_t mode, int flags, int *ret_fd,
		  struct fuse_entry_param *e)
{
	_cleanup_ufd_ struct ufs_fd up = { -1, false };
	struct stat pst;
	int wh = 0;
	int r = prep_create(fs, dir, name, &up, &pst, &wh);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = openat(up.fd, name,
					(flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC) & ~O_NOCTTY,
					mode);
	if (fd < 0)
		return cm_neg_errno();
	r = set_owner(req, -1, NULL, fd, &pst);
	if (r == 0)
		r = finish_create(fs, dir, up.fd, name, wh, e);
	if (r < 0) {
		(void)unlinkat(up.fd, name, 0);
		return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Detach the live node at (dir, name), keeping an O_PATH fd so that an open
 * or cached unlinked object still answers getattr. */
static void detach_alias(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
			 bool keep_fd)
{
	struct ufs_node *n = ufs_node_find_alias(fs, dir, name);
	if (!n)
		return;
	if (keep_fd && n->dfd < 0) {
		int fd = ufs_node_open(fs, n, O_PATH);
		if (fd >= 0)
			n->dfd = fd;
	}
	ufs_node_set_alias(fs, n, NULL, NULL);
	ufs_node_unpin(fs, n);
}

/* Remove a dir in the rw branch whose visible content is empty: move it to
 * the work dir in one rename (it may hold whiteouts), then delete it. */
static int remove_upper_dir(struct ufs_fs *fs, int upperfd, const char *name)
{
	char tmp[64];
	cm_tmpname(tmp, sizeof(tmp), "rm");
	if (renameat2(upperfd, name, fs->workfd, tmp, RENAME_NOREPLACE) < 0)
		return cm_neg_errno();
	(void)cm_rm_rf_at(fs->workfd, tmp);
	return 0;
}

static int dir_is_empty(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
			const struct ufs_res *res)
{
	struct ufs_node *n = ufs_node_get(fs, dir, name, res);
	if (!n)
		return -ENOMEM;
	struct ufs_dirlist l;
	int r = ufs_dirlist_build(fs, n, &l);
	if (r == 0) {
		r = l.n == 0 ? 0 : -ENOTEMPTY;
		ufs_dirlist_free(&l);
	}
	ufs_node_forget(fs, n, 1);
	return r;
}

int ufs_do_unlink(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		  bool is_dir)
{
	if (cm_wh_is_reserved(name))
		return -ENOENT;
	if (!fs->rw)
		return -EROFS;
	struct ufs_res res;
	int r = ufs_resolve(fs, dir, name, 0, &res);
	if (r < 0)
		return r;
	if (is_dir && !S_ISDIR(res.st.st_mode))
		return -ENOTDIR;
	if (!is_dir && S_ISDIR(res.st.st_mode))
		return -EISDIR;
	if (is_dir && (r = dir_is_empty(fs, dir, name, &res)) < 0)
		return r;
	if ((r = ufs_copyup(fs, dir, -1)) < 0)
		return r;
	_cleanup_ufd_ struct ufs_fd up = { -1, false };
	if ((r = ufs_dir_fd(fs, dir, 0, &up)) < 0)
		return r;
	int lower = res.branch > 0 ? 1 : ufs_lower_exists(fs, dir, name);
	if (lower < 0)
		return lower;
	detach_alias(fs, dir, name, !is_dir);
	int made = 0;
	if (lower && (made = ufs_whiteout_create(fs, up.fd, name)) < 0)
		return made;
	if (res.branch == 0) {
		r = is_dir ? remove_upper_dir(fs, up.fd, name)
			   : (unlinkat(up.fd, name, 0) < 0 ? cm_neg_errno() : 0);
		if (r < 0) {
			if (made > 0)
				whiteout_remove(up.fd, name);
			return r;
		}
	}
	return 0;
}

int ufs_do_link(struct ufs_fs *fs, struct ufs_node *node, struct ufs_node *dir,
		const char *name, struct fuse_entry_param *e)
{
	if (S_ISDIR(node->type))
		return -EPERM;
	int r = ufs_copyup(fs, node, -1);
	if (r < 0)
		return r;
	_cleanup_ufd_ struct ufs_fd up = { -1, false };
	struct stat pst;
	int wh = 0;
	if ((r = prep_create(fs, dir, name, &up, &pst, &wh)) < 0)
		return r;
	struct ufs_node *sp;
	char sname[NAME_MAX + 1];
	r = ufs_node_alias(fs, node, &sp, sname);
	if (r == -ENOENT) {
		/* The name we knew it by was replaced, yet the kernel still
		 * holds it through another link: link the object itself. */
		_cleanup_close_ int fd = ufs_node_open(fs, node, O_PATH);
		if (fd < 0)
			return fd;
		if (linkat(fd, "", up.fd, name, AT_EMPTY_PATH) < 0)
			return cm_neg_errno();
	} else if (r < 0) {
		return r;
	} else {
		_cleanup_ufd_ struct ufs_fd sd = { -1, false };
		r = ufs_dir_fd(fs, sp, 0, &sd);
		if (r == 0 && linkat(sd.fd, sname, up.fd, name, 0) < 0)
			r = cm_neg_errno();
		ufs_node_unpin(fs, sp);
		if (r < 0)
			return r;
	}
	if (wh)
		whiteout_remove(up.fd, name);
	struct ufs_res res = { .branch = 0 };
	if (fstatat(up.fd, name, &res.st, AT_SYMLINK_NOFOLLOW) < 0)
		return cm_neg_errno();
	struct ufs_node *n = ufs_node_get(fs, dir, name, &res);
	if (!n)
		return -ENOMEM;
	ufs_fill_entry(fs, n, &res.st, e);
	return 0;
}

/* ---- rename ---- */

struct rn_side {
	struct ufs_node *dir;
	const char *name;
	bool exists;
	struct ufs_res res;
	struct ufs_node *node; /* temporary reference, for copy-up */
};

static int rn_prepare_src(struct ufs_fs *fs, struct rn_side *s)
{
	/* Make the object live entirely in the rw branch. A directory with
	 * lower parts is copied whole and made opaque (overlayfs answers
	 * EXDEV here; the cost is one copy of the tree, see design.md). */
	s->node = ufs_node_get(fs, s->dir, s->name, &s->res);
	if (!s->node)
		return -ENOMEM;
	if (S_ISDIR(s->res.st.st_mode)) {
		if (s->res.branch > 0 || (s->res.mask & ~1ULL))
			return ufs_copyup_tree(fs, s->node);
		return 0;
	}
	return ufs_copyup(fs, s->node, -1);
}

static int mark_opaque(struct ufs_fs *fs, int upperfd, const char *name)
{
	char p[NAME_MAX + sizeof(CM_WH_OPAQUE) + 2];
	snprintf(p, sizeof(p), "%s/" CM_WH_OPAQUE, name);
	int fd = openat(upperfd, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return errno == EEXIST ? 0 : cm_neg_errno();
	close(fd);
	atomic_fetch_add(&fs->st.opaque, 1);
	return 0;
}

static int rename_inner(struct ufs_fs *fs, struct rn_side *s, struct rn_side *d,
			unsigned int flags)
{
	int r;
	if (cm_wh_is_reserved(s->name) || cm_wh_is_reserved(d->name))
		return cm_wh_is_reserved(s->name) ? -ENOENT : -EPERM;
	if (!fs->rw)
		return -EROFS;
	if ((r = ufs_resolve(fs, s->dir, s->name, 0, &s->res)) < 0)
		return r;
	if (s->dir == d->dir && strcmp(s->name, d->name) == 0)
		return 0;
	r = ufs_resolve(fs, d->dir, d->name, 0, &d->res);
	if (r < 0 && r != -ENOENT)
		return r;
	d->exists = r == 0;
	bool sdir = S_ISDIR(s->res.st.st_mode);
	if (flags & RENAME_NOREPLACE && d->exists)
		return -EEXIST;
	if (flags & RENAME_EXCHANGE && !d->exists)
		return -ENOENT;
	if (d->exists && !(flags & RENAME_EXCHANGE)) {
		bool ddir = S_ISDIR(d->res.st.st_mode);
		if (sdir && !ddir)
			return -ENOTDIR;
		if (!sdir && ddir)
			return -EISDIR;
		if (ddir && (r = dir_is_empty(fs, d->dir, d->name, &d->res)) < 0)
			return r;
	}
	if ((r = ufs_copyup(fs, s->dir, -1)) < 0 || (r = ufs_copyup(fs, d->dir, -1)) < 0)
		return r;
	if ((r = rn_prepare_src(fs, s)) < 0)
		return r;
	if (flags & RENAME_EXCHANGE) {
		struct rn_side tmp = *d;
		if ((r = rn_prepare_src(fs, &tmp)) < 0) {
			d->node = tmp.node;
			return r;
		}
		d->node = tmp.node;
	}

	_cleanup_ufd_ struct ufs_fd su = { -1, false }, du = { -1, false };
	if ((r = ufs_dir_fd(fs, s->dir, 0, &su)) < 0 || (r = ufs_dir_fd(fs, d->dir, 0, &du)) < 0)
		return r;

	if (flags & RENAME_EXCHANGE) {
		/* Both live in the rw branch now. A dir arriving where a lower
		 * object of that name exists must not merge with it. */
		if (sdir && ufs_lower_has_name(fs, d->dir, d->name) > 0 &&
		    (r = mark_opaque(fs, su.fd, s->name)) < 0)
			return r;
		if (S_ISDIR(d->res.st.st_mode) && ufs_lower_has_name(fs, s->dir, s->name) > 0 &&
		    (r = mark_opaque(fs, du.fd, d->name)) < 0)
			return r;
		if (renameat2(su.fd, s->name, du.fd, d->name, RENAME_EXCHANGE) < 0)
			return cm_neg_errno();
		ufs_node_set_alias(fs, s->node, d->dir, d->name);
		ufs_node_set_alias(fs, d->node, s->dir, s->name);
		return 0;
	}

	int slower = ufs_lower_exists(fs, s->dir, s->name);
	if (slower < 0)
		return slower;
	if (sdir && ufs_lower_has_name(fs, d->dir, d->name) > 0 &&
	    (r = mark_opaque(fs, su.fd, s->name)) < 0)
		return r;
	int dwh = wh_present(du.fd, d->name);
	if (dwh < 0)
		return dwh;
	/* A dir being replaced may hold whiteouts in the rw branch: move it
	 * out of the way first (its lower parts stay hidden by a whiteout). */
	bool dupper_dir = d->exists && S_ISDIR(d->res.st.st_mode) && d->res.branch == 0;
	if (dupper_dir) {
		if ((r = ufs_whiteout_create(fs, du.fd, d->name)) < 0)
			return r;
		if (r > 0)
			dwh = 1;
		if ((r = remove_upper_dir(fs, du.fd, d->name)) < 0)
			return r;
	}
	int made = 0;
	if (slower && (made = ufs_whiteout_create(fs, su.fd, s->name)) < 0)
		return made;
	if (d->exists)
		detach_alias(fs, d->dir, d->name, !S_ISDIR(d->res.st.st_mode));
	if (renameat2(su.fd, s->name, du.fd, d->name, flags & RENAME_NOREPLACE) < 0) {
		r = cm_neg_errno();
		if (made > 0)
			whiteout_remove(su.fd, s->name);
		return r;
	}
	if (dwh)
		whiteout_remove(du.fd, d->name);
	ufs_node_set_alias(fs, s->node, d->dir, d->name);
	return 0;
}

int ufs_do_rename(struct ufs_fs *fs, struct ufs_node *sdir, const char *sname,
		  struct ufs_node *ddir, const char *dname, unsigned int flags)
{
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	struct rn_side s = { .dir = sdir, .name = sname };
	struct rn_side d = { .dir = ddir, .name = dname };
	int r = rename_inner(fs, &s, &d, flags);
	if (s.node)
		ufs_node_forget(fs, s.node, 1);
	if (d.node)
		ufs_node_forget(fs, d.node, 1);
	return r;
}
