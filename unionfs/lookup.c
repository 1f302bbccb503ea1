// SPDX-License-Identifier: MIT
/* Resolution of a name across branches (after overlayfs namei.c): the
 * topmost branch that has the name wins; .wh.NAME in a branch hides NAME in
 * the branches below it (not in its own: the OCI rule); a directory merges
 * with the directories below it until an opaque marker, a whiteout, or a
 * non-directory stops the merge. */
#include "ufs-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <xxhash.h>

static bool br_checks_whiteouts(const struct ufs_fs *fs, int b)
{
	/* An rr branch is the bottom of a read-only stack by contract: its
	 * whiteouts could only hide names in branches below it. */
	return fs->br[b].mode != UFS_BR_RR || b + 1 < fs->nbr;
}

/* .wh.NAME beside (read in both formats: see cm-whiteout.h) */
static int wh_exists(int dirfd, const char *name)
{
	return cm_wh_beside(dirfd, name);
}

static int opq_exists(struct ufs_fs *fs, int dirfd, const char *name)
{
	return cm_wh_opaque_at(fs->wh.fmt, dirfd, name);
}

/* ---- the lower branches' names of a dir ----
 * Lower branches never change while mounted, so the names a dir has in them
 * are read once (one getdents pass per lower branch) and kept as sorted
 * 64-bit hashes. A name whose hash is not there is in no lower branch: its
 * resolution asks the rw branch alone, without the whiteout and opaque
 * checks, which can only hide lower names. A hash collision only costs the
 * full resolution. A dir with more than LNAMES_MAX lower names keeps none
 * (huge), as does one where a name may be found under another spelling (a
 * casefolded dir: the fstatat finds what the listing spells otherwise);
 * one whose listing fails is asked as before. The names stay right while
 * the node's lower bits (lowers) do: a dir with lower parts is copied whole
 * into the rw branch before it moves (rename, its mask then 1), so a node
 * never reaches other lower dirs under the same bits. */
#define LNAMES_MAX 65536

struct ufs_lnames {
	uint64_t lowers; /* the dir's lower branches it was read from */
	bool huge;
	size_t n;
	uint64_t h[];
};

void ufs_lnames_free(struct ufs_lnames *l)
{
	free(l);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* append the hashes of the names of lower branch b of dir to *h */
static int lnames_read(struct ufs_fs *fs, struct ufs_node *dir, int b, uint64_t **h,
		       size_t *n, size_t *cap, char *buf, size_t bufsz)
{
	_cleanup_ufd_ struct ufs_fd df = { -1, false };
	int r = ufs_dir_fd(fs, dir, b, &df);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	_cleanup_close_ int fd = openat(df.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_neg_errno();
	int flags = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_CASEFOLD_FL))
		return -E2BIG;
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, bufsz);
		if (got < 0)
			return cm_neg_errno();
		if (got == 0)
			return 0;
		for (long off = 0; off < got;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			off += d->d_reclen;
			const char *name = d->d_name;
			if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			if (*n >= LNAMES_MAX)
				return -E2BIG;
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 256;
				uint64_t *nh = realloc(*h, nc * sizeof(**h));
				if (!nh)
					return -ENOMEM;
				*h = nh;
				*cap = nc;
			}
			(*h)[(*n)++] = XXH3_64bits(name, strlen(name));
		}
	}
}

static struct ufs_lnames *lnames_build(struct ufs_fs *fs, struct ufs_node *dir, uint64_t lowers)
{
	const size_t bufsz = 32 * 1024;
	_cleanup_free_ char *buf = malloc(bufsz);
	_cleanup_free_ uint64_t *h = NULL;
	size_t n = 0, cap = 0;
	int r = buf ? 0 : -ENOMEM;
	for (int b = 1; r == 0 && b < fs->nbr; b++)
		if (lowers & UFS_BIT(b))
			r = lnames_read(fs, dir, b, &h, &n, &cap, buf, bufsz);
	if (r < 0 && r != -E2BIG)
		return NULL; /* asked as before, and read again next time */
	if (r == -E2BIG)
		n = 0;
	struct ufs_lnames *l = malloc(sizeof(*l) + n * sizeof(uint64_t));
	if (!l)
		return NULL;
	l->lowers = lowers;
	l->huge = r == -E2BIG;
	l->n = n;
	if (n) {
		memcpy(l->h, h, n * sizeof(uint64_t));
		qsort(l->h, n, sizeof(uint64_t), u64_cmp);
	}
	return l;
}

/* Is name surely in none of dir's lower branches (lowers)? */
static bool lower_names_lack(struct ufs_fs *fs, struct ufs_node *dir, uint64_t lowers,
			     const char *name)
{
	struct ufs_lnames *l = atomic_load(&dir->lnames);
	if (!l) {
		l = lnames_build(fs, dir, lowers);
		if (!l)
			return false;
		struct ufs_lnames *none = NULL;
		if (!atomic_compare_exchange_strong(&dir->lnames, &none, l)) {
			ufs_lnames_free(l); /* another thread's came first */
			l = none;
		}
	}
	if (l->huge || l->lowers != lowers)
		return false;
	uint64_t k = XXH3_64bits(name, strlen(name));
	return !bsearch(&k, l->h, l->n, sizeof(uint64_t), u64_cmp);
}

int ufs_resolve_probe(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		      int start, struct ufs_res *res, struct ufs_probe *ret_probe)
{
	if (ret_probe)
		*ret_probe = (struct ufs_probe){ -1, -1, -1, 0 };
	if (cm_wh_is_reserved(name))
		return -ENOENT;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	uint64_t mask = atomic_load(&dir->mask);
	if (start > 0)
		mask &= ~(UFS_BIT(start) - 1);
	bool found = false;
	/* the probe: the rw branch's whiteout of name (no upper part: none),
	 * whether a lower branch shows it (lower_found, once past branch 0)
	 * or has it at all (lower_any), and whether every branch was asked */
	int wh0 = (mask & 1) ? -1 : 0;
	bool lower_found = false, lower_any = false, all = true, lower_none = false;
	int r;
	uint64_t lowers = mask & ~1ULL;
	if (start == 0 && lowers && S_ISDIR(dir->type) && lower_names_lack(fs, dir, lowers, name)) {
		/* only the rw (top) branch can have it */
		lower_none = true;
		r = -ENOENT;
		if (!(mask & 1))
			goto out;
		_cleanup_ufd_ struct ufs_fd df = { -1, false };
		if ((r = ufs_dir_fd(fs, dir, 0, &df)) < 0)
			return r;
		struct stat st;
		if (fstatat(df.fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT && errno != ENOTDIR)
				return cm_neg_errno();
			r = -ENOENT;
			goto out;
		}
		if ((r = cm_wh_is_object(fs->wh.fmt, df.fd, name, &st)) != 0) {
			if (r < 0)
				return r;
			wh0 = UFS_WH_INPLACE;
			r = -ENOENT;
			goto out;
		}
		res->branch = 0;
		res->st = st;
		res->mask = S_ISDIR(st.st_mode) ? 1 : 0;
		r = 0;
		goto out;
	}
	for (int b = 0; b < fs->nbr; b++) {
		if (!(mask & UFS_BIT(b)))
			continue;
		_cleanup_ufd_ struct ufs_fd df = { -1, false };
		r = ufs_dir_fd(fs, dir, b, &df);
		if (r < 0) {
			if (r == -ENOENT && b > 0)
				continue;
			return r;
		}
		/* nothing below b in this dir: no whiteout or opaque marker
		 * of b can hide anything (one fstatat for a name of an
		 * upper-only dir, a fresh container's, not three) */
		bool below = b + 1 < 64 && (mask >> (b + 1)) != 0;
		all = !below;
		struct stat st;
		if (fstatat(df.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (b > 0)
				lower_any = true;
			/* an overlay whiteout: nothing here nor below */
			if ((r = cm_wh_is_object(fs->wh.fmt, df.fd, name, &st)) != 0) {
				if (r < 0)
					return r;
				if (b == 0)
					wh0 = UFS_WH_INPLACE;
				if (br_checks_whiteouts(fs, b)) {
					r = found ? 0 : -ENOENT;
					goto out;
				}
				continue;
			}
			if (b > 0)
				lower_found = true;
			r = 0;
			if (!found) {
				found = true;
				res->branch = b;
				res->st = st;
				res->mask = 0;
				if (!S_ISDIR(st.st_mode))
					goto out;
				res->mask = UFS_BIT(b);
			} else if (S_ISDIR(st.st_mode)) {
				res->mask |= UFS_BIT(b);
			} else {
				goto out; /* a non-dir below a dir stops the merge */
			}
			if (!below)
				goto out;
			/* Does anything below b show through this dir? */
			if ((r = opq_exists(fs, df.fd, name)) != 0) {
				if (r < 0)
					return r;
				r = 0;
				goto out;
			}
			if (br_checks_whiteouts(fs, b)) {
				if ((r = wh_exists(df.fd, name)) < 0)
					return r;
				if (b == 0)
					wh0 = r ? UFS_WH_BESIDE : 0;
				if (r) {
					r = 0;
					goto out;
				}
			}
			continue;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return cm_neg_errno();
		if (!below || !br_checks_whiteouts(fs, b))
			continue;
		r = wh_exists(df.fd, name);
		if (r < 0)
			return r;
		if (b == 0)
			wh0 = r ? UFS_WH_BESIDE : 0;
		if (r > 0) {
			r = found ? 0 : -ENOENT;
			goto out;
		}
	}
	all = true;
	r = found ? 0 : -ENOENT;
out:
	/* What ufs_lower_exists and ufs_lower_has_name would answer (for a
	 * resolution from the top of a rw mount). Past branch 0 (wh0 0) the
	 * loop stops where a resolution from branch 1 stops. */
	if (ret_probe && start == 0 && fs->rw) {
		ret_probe->mask = mask;
		ret_probe->wh0 = wh0;
		ret_probe->lower = wh0 > 0 || !lowers ? 0 : wh0 == 0 ? lower_found : -1;
		ret_probe->lower_has = !lowers ? 0 : lower_any ? 1 : wh0 == 0 && all ? 0 : -1;
		if (lower_none)
			ret_probe->lower = ret_probe->lower_has = 0;
	}
	return r;
}

int ufs_resolve(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		int start, struct ufs_res *res)
{
	return ufs_resolve_probe(fs, dir, name, start, res, NULL);
}

int ufs_whiteout_at(struct ufs_fs *fs, int dirfd, const char *name)
{
	struct stat st;
	if (fs->wh.fmt == CM_WH_FMT_OVERLAY && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		int r = cm_wh_is_object(fs->wh.fmt, dirfd, name, &st);
		if (r != 0)
			return r < 0 ? r : UFS_WH_INPLACE;
	}
	int r = wh_exists(dirfd, name);
	return r > 0 ? UFS_WH_BESIDE : r;
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
	return ufs_whiteout_at(fs, df.fd, name);
}

int ufs_lower_exists(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		     const struct ufs_probe *pr)
{
	if (pr && pr->lower >= 0)
		return pr->lower;
	/* The lower branches first: the name is usually not there, and
	 * then the upper whiteout does not matter (one fstatat saved per
	 * rename and unlink of an upper name). */
	struct ufs_res res;
	int r = ufs_resolve(fs, dir, name, 1, &res);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = ufs_upper_whiteout_exists(fs, dir, name);
	return r < 0 ? r : r == 0;
}

int ufs_lower_has_name(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		       const struct ufs_probe *pr)
{
	if (pr && pr->lower_has >= 0)
		return pr->lower_has;
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
	ufs_stat_fixup(fs, n, &e->attr);
	e->attr_timeout = fs->cfg->attr_timeout;
	e->entry_timeout = fs->cfg->entry_timeout;
}

/* ---- names found absent ---- */

struct ufs_negmemo {
	unsigned gen;          /* dir->nsgen before the resolution */
	struct ufs_probe pr;
	char name[];
};

void ufs_neg_free(struct ufs_negmemo *m)
{
	free(m);
}

static void neg_remember(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
			 unsigned gen, const struct ufs_probe *pr)
{
	size_t len = strlen(name);
	struct ufs_negmemo *m = malloc(sizeof(*m) + len + 1);
	if (!m)
		return; /* only a cost: the create resolves again */
	m->gen = gen;
	m->pr = *pr;
	memcpy(m->name, name, len + 1);
	pthread_mutex_lock(&fs->neg_lock);
	struct ufs_negmemo *old = dir->neg;
	dir->neg = m;
	pthread_mutex_unlock(&fs->neg_lock);
	ufs_neg_free(old);
}

bool ufs_neg_recall(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		    struct ufs_probe *ret)
{
	if (!S_ISDIR(dir->type))
		return false;
	pthread_mutex_lock(&fs->neg_lock);
	struct ufs_negmemo *m = dir->neg;
	bool hit = m && m->gen == atomic_load(&dir->nsgen) &&
		   m->pr.mask == atomic_load(&dir->mask) && strcmp(m->name, name) == 0;
	if (hit) {
		*ret = m->pr;
		dir->neg = NULL; /* the change about to be made ends it anyway */
	}
	pthread_mutex_unlock(&fs->neg_lock);
	if (hit)
		ufs_neg_free(m);
	return hit;
}

int ufs_do_lookup(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		  int start, struct fuse_entry_param *e)
{
	struct ufs_res res;
	struct ufs_probe pr;
	/* read before the resolution: a change it may have missed bumps
	 * nsgen after itself, so the memo of a stale answer never matches */
	unsigned gen = atomic_load(&dir->nsgen);
	int r = ufs_resolve_probe(fs, dir, name, start, &res, &pr);
	if (r == -ENOENT && start == 0 && fs->rw && S_ISDIR(dir->type) && !cm_wh_is_reserved(name))
		neg_remember(fs, dir, name, gen, &pr);
	if (r < 0)
		return r;
	struct ufs_node *n = ufs_node_get(fs, dir, name, &res);
	if (!n)
		return -ENOMEM;
	ufs_fill_entry(fs, n, &res.st, e);
	return 0;
}
