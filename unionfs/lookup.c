// SPDX-License-Identifier: MIT
/* Resolution of a name across branches (after overlayfs namei.c): the
 * topmost branch that has the name wins; .wh.NAME in a branch hides NAME in
 * the branches below it (not in its own: the OCI rule); a directory merges
 * with the directories below it until an opaque marker, a whiteout, or a
 * non-directory stops the merge. */
#include "ufs-internal.h"

#include <fcntl.h>
#include <string.h>

static bool br_checks_whiteouts(const struct ufs_fs *fs, int b)
{
	/* An rr branch is the bottom of a read-only stack by contract: its
	 * whiteouts could only hide names in branches below it. */
	return fs->br[b].mode != UFS_BR_RR || b + 1 < fs->nbr;
}

static int wh_exists(int dirfd, const char *name)
{
	char wh[NAME_MAX + 1];
	if (cm_wh_name(wh, sizeof(wh), name) < 0)
		return 0; /* a name that long has no whiteout */
	struct stat st;
	if (fstatat(dirfd, wh, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0 : cm_neg_errno();
}

static int opq_exists(int dirfd, const char *name)
{
	char p[NAME_MAX + sizeof(CM_WH_OPAQUE) + 2];
	snprintf(p, sizeof(p), "%s/" CM_WH_OPAQUE, name);
	struct stat st;
	if (fstatat(dirfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0 : cm_neg_errno();
}

int ufs_resolve(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		int start, struct ufs_res *res)
{
	if (cm_wh_is_reserved(name))
		return -ENOENT;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	uint64_t mask = atomic_load(&dir->mask);
	if (start > 0)
		mask &= ~(UFS_BIT(start) - 1);
	bool found = false;
	for (int b = 0; b < fs->nbr; b++) {
		if (!(mask & UFS_BIT(b)))
			continue;
		_cleanup_ufd_ struct ufs_fd df = { -1, false };
		int r = ufs_dir_fd(fs, dir, b, &df);
		if (r < 0) {
			if (r == -ENOENT && b > 0)
				continue;
			return r;
		}
		struct stat st;
		if (fstatat(df.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (!found) {
				found = true;
				res->branch = b;
				res->st = st;
				res->mask = 0;
				if (!S_ISDIR(st.st_mode))
					return 0;
				res->mask = UFS_BIT(b);
			} else if (S_ISDIR(st.st_mode)) {
				res->mask |= UFS_BIT(b);
			} else {
				return 0; /* a non-dir below a dir stops the merge */
			}
			/* Does anything below b show through this dir? */
			if ((r = opq_exists(df.fd, name)) != 0)
				return r < 0 ? r : 0;
			if (br_checks_whiteouts(fs, b) && (r = wh_exists(df.fd, name)) != 0)
				return r < 0 ? r : 0;
			continue;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return cm_neg_errno();
		if (!br_checks_whiteouts(fs, b))
			continue;
		r = wh_exists(df.fd, name);
		if (r < 0)
			return r;
		if (r > 0)
			return found ? 0 : -ENOENT;
	}
	return found ? 0 : -ENOENT;
}

int ufs_upper_whiteout_exists(struct ufs_fs *fs, struct ufs_node *dir,
			      const char *name)
{
	if (!fs->rw || !(atomic_load(&dir->mask) & 1))
		return 0;
	_cleanup_ufd_ struct ufs_fd df = { -1, false };
	int r = ufs_dir_fd(fs, dir, 0, &df);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	return wh_exists(df.fd, name);
}

int ufs_lower_exists(struct ufs_fs *fs, struct ufs_node *dir, const char *name)
{
	int r = ufs_upper_whiteout_exists(fs, dir, name);
	if (r != 0)
		return r < 0 ? r : 0;
	struct ufs_res res;
	r = ufs_resolve(fs, dir, name, 1, &res);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

int ufs_lower_has_name(struct ufs_fs *fs, struct ufs_node *dir, const char *name)
{
	uint64_t mask = atomic_load(&dir->mask) & ~1ULL;
	for (int b = 1; b < fs->nbr; b++) {
		if (!(mask & UFS_BIT(b)))
			continue;
		_cleanup_ufd_ struct ufs_fd df = { -1, false };
		if (ufs_dir_fd(fs, dir, b, &df) < 0)
			continue;
		struct stat st;
		if (fstatat(df.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return 1;
	}
	return 0;
}

void ufs_fill_entry(struct ufs_fs *fs, struct ufs_node *n, const struct stat *st,
		    struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = (fuse_ino_t)(uintptr_t)n;
	e->generation = 0;
	e->attr = *st;
	ufs_stat_fixup(n, &e->attr);
	e->attr_timeout = fs->cfg->attr_timeout;
	e->entry_timeout = fs->cfg->entry_timeout;
}

int ufs_do_lookup(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		  int start, struct fuse_entry_param *e)
{
	struct ufs_res res;
	int r = ufs_resolve(fs, dir, name, start, &res);
	if (r < 0)
		return r;
	struct ufs_node *n = ufs_node_get(fs, dir, name, &res);
	if (!n)
		return -ENOMEM;
	ufs_fill_entry(fs, n, &res.st, e);
	return 0;
}
