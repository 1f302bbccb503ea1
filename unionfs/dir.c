// SPDX-License-Identifier: MIT
/* Namespace changes in the rw branch (after overlayfs dir.c): create over a
 * whiteout, remove-and-whiteout, rename with copy-up, link. Each change is
 * ordered so that a crash between two steps shows the old or the new state:
 * a whiteout beside a live upper name is harmless (the OCI same-layer rule),
 * so whiteouts are written before the upper name goes away. An overlay
 * whiteout is the name itself: it replaces the upper object in one rename
 * (built in the work dir, exchanged in), and a new object replaces it the
 * same way. The encodings are common/cm-whiteout's. */
#include "ufs-internal.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

/* Make name in upperdir a whiteout. 1 if made, 0 if one was there; an
 * upper object that was name (overlay) is gone with it: *gone. */
static int whiteout_make(struct ufs_fs *fs, int upperdir, const char *name, bool *gone)
{
	char old[64];
	int r = cm_wh_make(&fs->wh, upperdir, name, fs->workfd, old, sizeof(old));
	if (r > 0)
		atomic_fetch_add(&fs->st.whiteout, 1);
	if (old[0]) {
		(void)cm_rm_rf_at(fs->workfd, old);
		*gone = true;
	}
	return r;
}

int ufs_opaque_mark(struct ufs_fs *fs, int dfd)
{
	int r = cm_wh_set_opaque(&fs->wh, dfd);
	if (r == 0)
		atomic_fetch_add(&fs->st.opaque, 1);
	return r;
}

/* Can a whiteout of name be written? (".wh." NAME must fit in NAME_MAX;
 * an overlay whiteout has the name itself.) */
static bool whiteout_fits(struct ufs_fs *fs, const char *name)
{
	char wh[NAME_MAX + 1];
	return fs->wh.fmt == CM_WH_FMT_OVERLAY || cm_wh_name(wh, sizeof(wh), name) == 0;
}

/* Hide the lower parts of name in dir without a whiteout: make dir opaque,
 * its whole visible tree but name copied into the rw branch first (a lower
 * name of 252 to 255 bytes, docs/format.md). */
static int hide_by_opaque_parent(struct ufs_fs *fs, struct ufs_node *dir, const char *name)
{
	return ufs_copyup_tree(fs, dir, name);
}

/* Remove the .wh.NAME beside a name just made (the UFS_WH_BESIDE form). */
static void whiteout_remove(int upperdir, const char *name)
{
	char wh[NAME_MAX + 1];
	if (cm_wh_name(wh, sizeof(wh), name) == 0)
		(void)unlinkat(upperdir, wh, 0);
}

/* Publish tmp (built in the work dir) as name in upperfd: a new name, or
 * (UFS_WH_INPLACE in wh) over the overlay whiteout that name is, which a
 * dir replaces by exchange (rename(2) puts no dir over a non-dir). */
static int publish_new(struct ufs_fs *fs, const char *tmp, int upperfd, const char *name,
		       int wh, bool is_dir)
{
	if (!(wh & UFS_WH_INPLACE))
		return cm_publish_rename(fs->workfd, tmp, upperfd, name);
	if (!is_dir)
		return renameat(fs->workfd, tmp, upperfd, name) < 0 ? cm_neg_errno() : 0;
	if (renameat2(fs->workfd, tmp, upperfd, name, RENAME_EXCHANGE) < 0)
		return cm_neg_errno();
	(void)unlinkat(fs->workfd, tmp, 0); /* the whiteout */
	return 0;
}

/* Give a new object the caller's owner and, in a setgid parent, the
 * parent's group. An object made in the parent got that group from the rw
 * branch's filesystem (root created it); one made aside in the work dir
 * (aside) did not. The parent (parentfd) is asked only when its setgid bit
 * decides something: not for a caller whose group is the daemon's, the
 * common case, where the group the filesystem gave is right either way.
 * pst: the parent's stat when the caller has it. */
static int set_owner(fuse_req_t req, int parentfd, const struct stat *pst, bool aside,
		     int dirfd, const char *name, int fd)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	const struct ufs_fs *fs = fuse_req_userdata(req);
	/* the owner the kernel sent is a view id: store its disk id */
	uid_t uid = ufs_uid_to_disk(fs->cfg, c->uid);
	gid_t gid = ufs_gid_to_disk(fs->cfg, c->gid);
	if (gid == fs->egid && !aside) {
		gid = (gid_t)-1;
	} else {
		struct stat st;
		if (!pst) {
			if (fstat(parentfd, &st) < 0)
				return cm_neg_errno();
			pst = &st;
		}
		if (pst->st_mode & S_ISGID)
			gid = aside ? pst->st_gid : (gid_t)-1;
	}
	/* the daemon never changes its ids: fs has them (no two calls per
	 * mkdir and create) */
	if (uid == fs->euid && (gid == (gid_t)-1 || gid == fs->egid))
		return 0;
	int r = fd >= 0 ? fchown(fd, uid, gid)
			: fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
	return r < 0 ? cm_neg_errno() : 0;
}

/* Checks shared by every creation: name allowed, rw branch, parent copied
 * up, name absent. Fills the upper dir fd, whiteout state and what the
 * resolution saw below (pr). */
static int prep_create(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		       struct ufs_fd *upper, int *wh, struct ufs_probe *pr)
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
	/* the kernel's LOOKUP of the name, just before, found it absent:
	 * not asked again unless something changed the dir since */
	struct ufs_res res;
	r = ufs_neg_recall(fs, dir, name, pr) ? -ENOENT : ufs_resolve_probe(fs, dir, name, 0, &res, pr);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	r = ufs_dir_fd(fs, dir, 0, upper);
	if (r < 0)
		return r;
	/* the resolution asked for the whiteout unless nothing is below
	 * (an upper-only dir may be opaque and keep a stale .wh.NAME) */
	r = pr->wh0 >= 0 ? pr->wh0 : ufs_whiteout_at(fs, upper->fd, name);
	if (r < 0)
		return r;
	*wh = r;
	return 0;
}

static int finish_create(struct ufs_fs *fs, struct ufs_node *dir, int upperfd,
			 const char *name, int wh, struct fuse_entry_param *e)
{
	if (wh & UFS_WH_BESIDE)
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
	/* a new dir's fd is opened at its first use (ufs_dir_fd), not here:
	 * the same openat when it is used, none (and no close) when not */
	ufs_fill_entry(fs, n, &res.st, e);
	return 0;
}

/* mkdir where a lower branch has the name (hidden): build an opaque dir in
 * the work dir and publish it with one rename. */
static int mkdir_opaque(struct ufs_fs *fs, fuse_req_t req, int upperfd,
			const char *name, mode_t mode, int wh)
{
	struct stat pst;
	if (fstat(upperfd, &pst) < 0)
		return cm_neg_errno();
	char tmp[64];
	cm_tmpname(tmp, sizeof(tmp), "mk");
	if (mkdirat(fs->workfd, tmp, mode & 07777) < 0)
		return cm_neg_errno();
	_cleanup_close_ int d = openat(fs->workfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = d < 0 ? cm_neg_errno() : 0;
	if (r == 0)
		r = cm_wh_set_opaque(&fs->wh, d);
	/* The work dir is not setgid: apply the parent's group by hand. */
	if (r == 0 && (pst.st_mode & S_ISGID)) {
		if (fchown(d, (uid_t)-1, pst.st_gid) < 0 || fchmod(d, (mode & 07777) | S_ISGID) < 0)
			r = cm_neg_errno();
	}
	if (r == 0) /* the group is set: as made in the parent */
		r = set_owner(req, upperfd, &pst, false, -1, NULL, d);
	if (r == 0)
		r = publish_new(fs, tmp, upperfd, name, wh, true);
	if (r < 0) {
		(void)cm_rm_rf_at(fs->workfd, tmp);
		return r;
	}
	atomic_fetch_add(&fs->st.opaque, 1);
	return 0;
}

static int do_mknod(struct ufs_fs *fs, fuse_req_t req, struct ufs_node *dir,
		    const char *name, mode_t mode, dev_t rdev, const char *link,
		    struct fuse_entry_param *e)
{
	_cleanup_ufd_ struct ufs_fd up = { -1, false };
	struct ufs_probe pr;
	int wh = 0;
	int r = prep_create(fs, dir, name, &up, &wh, &pr);
	if (r < 0)
		return r;
	if (S_ISDIR(mode)) {
		if (wh || ufs_lower_has_name(fs, dir, name, &pr) > 0)
			r = mkdir_opaque(fs, req, up.fd, name, mode, wh);
		else if (mkdirat(up.fd, name, mode & 07777) < 0)
			r = cm_neg_errno();
		else if ((r = set_owner(req, up.fd, NULL, false, up.fd, name, -1)) < 0)
			(void)unlinkat(up.fd, name, AT_REMOVEDIR);
	} else if (wh & UFS_WH_INPLACE) {
		/* over an overlay whiteout: built aside, then it replaces it */
		char tmp[64];
		cm_tmpname(tmp, sizeof(tmp), "mk");
		if (link ? symlinkat(link, fs->workfd, tmp) < 0
			 : mknodat(fs->workfd, tmp, mode, rdev) < 0)
			return cm_neg_errno();
		r = set_owner(req, up.fd, NULL, true, fs->workfd, tmp, -1);
		if (r == 0)
			r = publish_new(fs, tmp, up.fd, name, wh, false);
		if (r < 0)
			(void)unlinkat(fs->workfd, tmp, 0);
	} else {
		if (link ? symlinkat(link, up.fd, name) < 0
			 : mknodat(up.fd, name, mode, rdev) < 0)
			r = cm_neg_errno();
		else if ((r = set_owner(req, up.fd, NULL, false, up.fd, name, -1)) < 0)
			(void)unlinkat(up.fd, name, 0);
	}
	if (r < 0)
		return r;
	return finish_create(fs, dir, up.fd, name, wh, e);
}

int ufs_do_mknod(struct ufs_fs *fs, fuse_req_t req, struct ufs_node *dir,
		 const char *name, mode_t mode, dev_t rdev, const char *link,
		 struct fuse_entry_param *e)
{
	int r = do_mknod(fs, req, dir, name, mode, rdev, link, e);
	ufs_dir_changed(dir);
	return r;
}

static int do_create(struct ufs_fs *fs, fuse_req_t req, struct ufs_node *dir,
		     const char *name, mode_t mode, int flags, int *ret_fd,
		     struct fuse_entry_param *e)
{
	_cleanup_ufd_ struct ufs_fd up = { -1, false };
	struct ufs_probe pr;
	int wh = 0;
	int r = prep_create(fs, dir, name, &up, &wh, &pr);
	if (r < 0)
		return r;
	/* over an overlay whiteout the file is made aside and replaces it */
	bool aside = wh & UFS_WH_INPLACE;
	char tmp[64] = "";
	if (aside) /* a temporary name only where one is used (getpid) */
		cm_tmpname(tmp, sizeof(tmp), "cr");
	int dfd = aside ? fs->workfd : up.fd;
	const char *nm = aside ? tmp : name;
	_cleanup_close_ int fd = openat(dfd, nm,
					(flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC) & ~O_NOCTTY,
					mode);
	if (fd < 0)
		return cm_neg_errno();
	r = set_owner(req, up.fd, NULL, aside, -1, NULL, fd);
	if (r == 0 && aside && (r = publish_new(fs, tmp, up.fd, name, wh, false)) == 0)
		dfd = up.fd, nm = name;
	if (r == 0)
		r = finish_create(fs, dir, up.fd, name, wh, e);
	if (r < 0) {
		(void)unlinkat(dfd, nm, 0);
		return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int ufs_do_create(struct ufs_fs *fs, fuse_req_t req, struct ufs_node *dir,
		  const char *name, mode_t mode, int flags, int *ret_fd,
		  struct fuse_entry_param *e)
{
	int r = do_create(fs, req, dir, name, mode, flags, ret_fd, e);
	ufs_dir_changed(dir);
	return r;
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

/* rmdir of a dir only the rw branch holds (no lower dir merged into it,
 * no lower name of it to hide): one rmdir(2), which fails with ENOTEMPTY
 * unless it is empty. 1 done, 0 not that case (or it held entries, maybe
 * whiteouts only: the general path decides), -errno. */
static int rmdir_upper_only(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
			    const struct ufs_res *res, const struct ufs_probe *pr)
{
	if (res->branch != 0 || res->mask != UFS_BIT(0))
		return 0;
	int lower = (atomic_load(&dir->mask) & ~UFS_BIT(0)) ? ufs_lower_exists(fs, dir, name, pr) : 0;
	if (lower != 0)
		return lower < 0 ? lower : 0;
	_cleanup_ufd_ struct ufs_fd up = { -1, false };
	int r = ufs_dir_fd(fs, dir, 0, &up);
	if (r < 0)
		return r;
	if (unlinkat(up.fd, name, AT_REMOVEDIR) < 0)
		return errno == ENOTEMPTY || errno == EEXIST ? 0 : cm_neg_errno();
	detach_alias(fs, dir, name, false);
	atomic_fetch_add(&fs->st.rmdir_fast, 1);
	return 1;
}

static int do_unlink(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		     bool is_dir)
{
	if (cm_wh_is_reserved(name))
		return -ENOENT;
	if (!fs->rw)
		return -EROFS;
	struct ufs_res res;
	struct ufs_probe pr;
	int r = ufs_resolve_probe(fs, dir, name, 0, &res, &pr);
	if (r < 0)
		return r;
	if (is_dir && !S_ISDIR(res.st.st_mode))
		return -ENOTDIR;
	if (!is_dir && S_ISDIR(res.st.st_mode))
		return -EISDIR;
	if (is_dir && (r = rmdir_upper_only(fs, dir, name, &res, &pr)) != 0)
		return r < 0 ? r : 0;
	if (is_dir && (r = dir_is_empty(fs, dir, name, &res)) < 0)
		return r;
	if ((r = ufs_copyup(fs, dir, -1)) < 0)
		return r;
	_cleanup_ufd_ struct ufs_fd up = { -1, false };
	if ((r = ufs_dir_fd(fs, dir, 0, &up)) < 0)
		return r;
	int lower = res.branch > 0 ? 1 : ufs_lower_exists(fs, dir, name, &pr);
	if (lower < 0)
		return lower;
	detach_alias(fs, dir, name, !is_dir);
	int made = 0;
	bool gone = false; /* the overlay whiteout replaced the upper object */
	if (lower && !whiteout_fits(fs, name)) {
		if ((r = hide_by_opaque_parent(fs, dir, name)) < 0)
			return r;
		lower = 0;
	}
	if (lower && (made = whiteout_make(fs, up.fd, name, &gone)) < 0)
		return made;
	if (res.branch == 0 && !gone) {
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

int ufs_do_unlink(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		  bool is_dir)
{
	int r = do_unlink(fs, dir, name, is_dir);
	ufs_dir_changed(dir);
	return r;
}

static int do_link(struct ufs_fs *fs, struct ufs_node *node, struct ufs_node *dir,
		   const char *name, struct fuse_entry_param *e)
{
	if (S_ISDIR(node->type))
		return -EPERM;
	int r = ufs_copyup(fs, node, -1);
	if (r < 0)
		return r;
	_cleanup_ufd_ struct ufs_fd up = { -1, false };
	struct ufs_probe pr;
	int wh = 0;
	if ((r = prep_create(fs, dir, name, &up, &wh, &pr)) < 0)
		return r;
	/* over an overlay whiteout the link is made aside, then replaces it */
	char tmp[64] = "";
	if (wh & UFS_WH_INPLACE)
		cm_tmpname(tmp, sizeof(tmp), "ln");
	int ldir = (wh & UFS_WH_INPLACE) ? fs->workfd : up.fd;
	const char *lname = (wh & UFS_WH_INPLACE) ? tmp : name;
	struct ufs_node *sp;
	char sname[NAME_MAX + 1];
	r = ufs_node_alias(fs, node, &sp, sname);
	if (r == -ENOENT) {
		/* The name we knew it by was replaced, yet the kernel still
		 * holds it through another link: link the object itself,
		 * through the O_PATH fd it kept when detached (it lives as
		 * long as the node: no dup and close per link). */
		_cleanup_close_ int own = -1;
		int fd = node->detached ? node->dfd : -1;
		if (fd < 0 && (fd = own = ufs_node_open(fs, node, O_PATH)) < 0)
			return fd;
		if (linkat(fd, "", ldir, lname, AT_EMPTY_PATH) < 0)
			return cm_neg_errno();
	} else if (r < 0) {
		return r;
	} else {
		_cleanup_ufd_ struct ufs_fd sd = { -1, false };
		r = ufs_dir_fd(fs, sp, 0, &sd);
		if (r == 0 && linkat(sd.fd, sname, ldir, lname, 0) < 0)
			r = cm_neg_errno();
		ufs_node_unpin(fs, sp);
		if (r < 0)
			return r;
	}
	if ((wh & UFS_WH_INPLACE) && (r = publish_new(fs, tmp, up.fd, name, wh, false)) < 0) {
		(void)unlinkat(fs->workfd, tmp, 0);
		return r;
	}
	if (wh & UFS_WH_BESIDE)
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

int ufs_do_link(struct ufs_fs *fs, struct ufs_node *node, struct ufs_node *dir,
		const char *name, struct fuse_entry_param *e)
{
	int r = do_link(fs, node, dir, name, e);
	ufs_dir_changed(dir);
	return r;
}

/* ---- rename ---- */

struct rn_side {
	struct ufs_node *dir;
	const char *name;
	bool exists;
	struct ufs_res res;
	struct ufs_probe pr;   /* what its resolution saw beside and below */
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
			return ufs_copyup_tree(fs, s->node, NULL);
		return 0;
	}
	return ufs_copyup(fs, s->node, -1);
}

static int mark_opaque(struct ufs_fs *fs, int upperfd, const char *name)
{
	_cleanup_close_ int fd = openat(upperfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? cm_neg_errno() : ufs_opaque_mark(fs, fd);
}

/* The overlay format: the whiteout left at the source is the source's name
 * itself, so it comes with the rename (RENAME_WHITEOUT, as kernel overlayfs
 * does) or replaces what is left there; a target that is an upper dir (it
 * may hold whiteouts) or an overlay whiteout under a dir is exchanged
 * with the source first, so the target changes in one step. */
static int rename_ovl(struct ufs_fs *fs, struct rn_side *s, struct rn_side *d, int su, int du,
		      unsigned int flags, int slower, int dwh)
{
	bool sdir = S_ISDIR(s->res.st.st_mode);
	bool dupper_dir = d->exists && S_ISDIR(d->res.st.st_mode) && d->res.branch == 0;
	bool gone = false;
	int r;
	if (d->exists)
		detach_alias(fs, d->dir, d->name, !S_ISDIR(d->res.st.st_mode));
	if (dupper_dir || (sdir && (dwh & UFS_WH_INPLACE))) {
		if (renameat2(su, s->name, du, d->name, RENAME_EXCHANGE) < 0)
			return cm_neg_errno();
		ufs_node_set_alias(fs, s->node, d->dir, d->name);
		/* the source's name now holds the old target */
		if (slower)
			r = whiteout_make(fs, su, s->name, &gone);
		else if (dupper_dir)
			r = remove_upper_dir(fs, su, s->name);
		else
			r = unlinkat(su, s->name, 0) < 0 ? cm_neg_errno() : 0;
	} else {
		unsigned fl = flags & RENAME_NOREPLACE;
		r = -EINVAL;
		if (slower && !fs->wh.no_mknod &&
		    (r = renameat2(su, s->name, du, d->name, fl | RENAME_WHITEOUT) < 0 ? cm_neg_errno() : 0) == 0)
			atomic_fetch_add(&fs->st.whiteout, 1);
		if (r == -EINVAL || r == -EPERM) {
			/* no RENAME_WHITEOUT here (or xwhiteouts): rename, then
			 * the whiteout (a crash between shows the lower name) */
			if (renameat2(su, s->name, du, d->name, fl) < 0)
				return cm_neg_errno();
			r = slower ? whiteout_make(fs, su, s->name, &gone) : 0;
		} else if (r < 0) {
			return r;
		}
		ufs_node_set_alias(fs, s->node, d->dir, d->name);
	}
	if (r >= 0 && (dwh & UFS_WH_BESIDE))
		whiteout_remove(du, d->name);
	return r < 0 ? r : 0;
}

static int rename_inner(struct ufs_fs *fs, struct rn_side *s, struct rn_side *d,
			unsigned int flags)
{
	int r;
	if (cm_wh_is_reserved(s->name) || cm_wh_is_reserved(d->name))
		return cm_wh_is_reserved(s->name) ? -ENOENT : -EPERM;
	if (!fs->rw)
		return -EROFS;
	if ((r = ufs_resolve_probe(fs, s->dir, s->name, 0, &s->res, &s->pr)) < 0)
		return r;
	if (s->dir == d->dir && strcmp(s->name, d->name) == 0)
		return 0;
	r = ufs_neg_recall(fs, d->dir, d->name, &d->pr) ? -ENOENT
		: ufs_resolve_probe(fs, d->dir, d->name, 0, &d->res, &d->pr);
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
		if (sdir && ufs_lower_has_name(fs, d->dir, d->name, &d->pr) > 0 &&
		    (r = mark_opaque(fs, su.fd, s->name)) < 0)
			return r;
		if (S_ISDIR(d->res.st.st_mode) && ufs_lower_has_name(fs, s->dir, s->name, &s->pr) > 0 &&
		    (r = mark_opaque(fs, du.fd, d->name)) < 0)
			return r;
		if (renameat2(su.fd, s->name, du.fd, d->name, RENAME_EXCHANGE) < 0)
			return cm_neg_errno();
		ufs_node_set_alias(fs, s->node, d->dir, d->name);
		ufs_node_set_alias(fs, d->node, s->dir, s->name);
		return 0;
	}

	int slower = ufs_lower_exists(fs, s->dir, s->name, &s->pr);
	if (slower < 0)
		return slower;
	if (sdir && ufs_lower_has_name(fs, d->dir, d->name, &d->pr) > 0 &&
	    (r = mark_opaque(fs, su.fd, s->name)) < 0)
		return r;
	/* the resolution of the target asked already, unless it found an
	 * upper object (a stale .wh. beside it) or nothing is below */
	int dwh = d->pr.wh0 >= 0 ? d->pr.wh0 : ufs_whiteout_at(fs, du.fd, d->name);
	if (dwh < 0)
		return dwh;
	if (slower && !whiteout_fits(fs, s->name)) {
		if ((r = hide_by_opaque_parent(fs, s->dir, s->name)) < 0)
			return r;
		slower = 0;
	}
	if (fs->wh.fmt == CM_WH_FMT_OVERLAY)
		return rename_ovl(fs, s, d, su.fd, du.fd, flags, slower, dwh);
	/* A dir being replaced may hold whiteouts in the rw branch: move it
	 * out of the way first (its lower parts stay hidden by a whiteout). */
	bool dupper_dir = d->exists && S_ISDIR(d->res.st.st_mode) && d->res.branch == 0;
	bool gone = false;
	if (dupper_dir) {
		if (!whiteout_fits(fs, d->name))
			r = hide_by_opaque_parent(fs, d->dir, d->name);
		else if ((r = whiteout_make(fs, du.fd, d->name, &gone)) > 0)
			dwh = UFS_WH_BESIDE;
		if (r < 0)
			return r;
		if ((r = remove_upper_dir(fs, du.fd, d->name)) < 0)
			return r;
	}
	int made = 0;
	if (slower && (made = whiteout_make(fs, su.fd, s->name, &gone)) < 0)
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
	ufs_dir_changed(sdir);
	ufs_dir_changed(ddir);
	if (s.node)
		ufs_node_forget(fs, s.node, 1);
	if (d.node)
		ufs_node_forget(fs, d.node, 1);
	return r;
}
