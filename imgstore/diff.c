// SPDX-License-Identifier: MIT
/* docker diff of a container: walk its rw branch (nothing mounted), look each
 * name up in init + image layers with the union's own rules (docs/format.md:
 * whiteouts, opaque dirs, stop rules), classify A/C/D. A copy-up that left a
 * file identical (metadata, then XXH3 of the data) is not a change. */
#include "ims-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#define MAX_DEPTH 1024

char ims_diff_classify(const struct stat *upper, const struct stat *lower,
		       bool same_content, size_t changes_below, bool opaque)
{
	if (!lower)
		return 'A';
	if ((upper->st_mode & S_IFMT) != (lower->st_mode & S_IFMT))
		return 'C';
	bool same_meta = upper->st_mode == lower->st_mode && upper->st_uid == lower->st_uid &&
			 upper->st_gid == lower->st_gid;
	if (S_ISDIR(upper->st_mode))
		return changes_below || opaque || !same_meta ||
		       upper->st_mtim.tv_sec != lower->st_mtim.tv_sec ? 'C' : 0;
	if (same_meta && same_content && upper->st_size == lower->st_size &&
	    upper->st_mtim.tv_sec == lower->st_mtim.tv_sec &&
	    upper->st_mtim.tv_nsec == lower->st_mtim.tv_nsec &&
	    (!S_ISCHR(upper->st_mode) && !S_ISBLK(upper->st_mode) ? true
								   : upper->st_rdev == lower->st_rdev))
		return 0;
	return 'C';
}

/* The lower dirs that make up one directory of the view, top first. */
struct lower {
	int *fds;
	size_t n;
};

static void lower_free(struct lower *l)
{
	for (size_t i = 0; i < l->n; i++)
		close(l->fds[i]);
	free(l->fds);
	l->fds = NULL;
	l->n = 0;
}

static bool exists_at(int dfd, const char *name, struct stat *st)
{
	struct stat tmp;
	return fstatat(dfd, name, st ? st : &tmp, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool whiteout_at(int dfd, const char *name)
{
	char wh[NAME_MAX + 8];
	if (cm_wh_name(wh, sizeof(wh), name) < 0)
		return false;
	return exists_at(dfd, wh, NULL);
}

/* The visible lower object of name: index of its layer or -1. */
static ssize_t lower_lookup(const struct lower *l, const char *name, struct stat *st)
{
	for (size_t i = 0; i < l->n; i++) {
		if (exists_at(l->fds[i], name, st))
			return (ssize_t)i;
		if (whiteout_at(l->fds[i], name))
			return -1;
	}
	return -1;
}

/* The lower dirs of child dir name (stop rules of docs/format.md). */
static int lower_child(const struct lower *l, const char *name, struct lower *ret)
{
	ret->fds = calloc(l->n ? l->n : 1, sizeof(int));
	ret->n = 0;
	if (!ret->fds)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		struct stat st;
		if (exists_at(l->fds[i], name, &st)) {
			if (!S_ISDIR(st.st_mode))
				break;
			int fd = openat(l->fds[i], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							      O_CLOEXEC);
			if (fd < 0)
				break;
			ret->fds[ret->n++] = fd;
			if (exists_at(fd, CM_WH_OPAQUE, NULL) || whiteout_at(l->fds[i], name))
				break;
		} else if (whiteout_at(l->fds[i], name)) {
			break;
		}
	}
	return 0;
}

struct diff {
	struct ims_change_ent *v;
	size_t n, cap;
	struct cm_error *err;
	char buf[1 << 16];
	char buf2[1 << 16];
};

static int add(struct diff *d, char kind, const char *rel)
{
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 64;
		struct ims_change_ent *nv = realloc(d->v, nc * sizeof(*nv));
		if (!nv)
			return cm_error_set(d->err, -ENOMEM, "out of memory");
		d->v = nv;
		d->cap = nc;
	}
	if (asprintf(&d->v[d->n].path, "/%s", rel) < 0)
		return cm_error_set(d->err, -ENOMEM, "out of memory");
	d->v[d->n].kind = kind;
	d->n++;
	return 0;
}

int ims_xxh3_fd(int fd, char *buf, size_t bufsz, uint64_t *ret)
{
	XXH3_state_t *h = XXH3_createState();
	if (!h)
		return -ENOMEM;
	XXH3_64bits_reset(h);
	int r = 0;
	for (;;) {
		ssize_t k = read(fd, buf, bufsz);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = cm_neg_errno();
			break;
		}
		if (k == 0)
			break;
		XXH3_64bits_update(h, buf, (size_t)k);
	}
	*ret = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	return r;
}

/* Same data: XXH3 of both files (only called when the metadata are equal,
 * so a copy-up that changed nothing is not reported). */
static bool same_data(struct diff *d, int ufd, const char *name, int lfd,
		      const struct stat *us)
{
	if (S_ISLNK(us->st_mode)) {
		char a[PATH_MAX], b[PATH_MAX];
		ssize_t la = readlinkat(ufd, name, a, sizeof(a));
		ssize_t lb = readlinkat(lfd, name, b, sizeof(b));
		return la >= 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
	}
	if (!S_ISREG(us->st_mode))
		return true;
	_cleanup_close_ int f1 = openat(ufd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
						   O_NOCTTY | O_CLOEXEC);
	_cleanup_close_ int f2 = openat(lfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
						   O_NOCTTY | O_CLOEXEC);
	struct stat s1, s2;
	if (f1 < 0 || f2 < 0 || fstat(f1, &s1) < 0 || fstat(f2, &s2) < 0 ||
	    !S_ISREG(s1.st_mode) || !S_ISREG(s2.st_mode))
		return false;
	uint64_t h1, h2;
	if (ims_xxh3_fd(f1, d->buf, sizeof(d->buf), &h1) < 0 ||
	    ims_xxh3_fd(f2, d->buf2, sizeof(d->buf2), &h2) < 0)
		return false;
	return h1 == h2;
}

/* Walk rw dir ufd (path rel) over lower l; returns the number of changes
 * reported below it, or -errno. */
static ssize_t walk(struct diff *d, int ufd, const char *rel, const struct lower *l, int depth)
{
	if (depth > MAX_DEPTH)
		return cm_error_set(d->err, -ELOOP, "'/%s': tree too deep", rel);
	char **names = NULL;
	size_t n = 0;
	int r = ims_list_dir(ufd, &names, &n);
	if (r < 0)
		return cm_error_setx(d->err, r, "listing '/%s' in the rw branch", rel);
	bool opaque = exists_at(ufd, CM_WH_OPAQUE, NULL);
	struct lower none = { 0 };
	const struct lower *below = opaque ? &none : l;
	ssize_t count = 0;
	char path[PATH_MAX + 2];
	for (size_t i = 0; i < n && r >= 0; i++) {
		const char *name = names[i], *target = NULL;
		enum cm_wh_kind k = cm_wh_classify(name, &target);
		if (k == CM_WH_META || k == CM_WH_OPQ || k == CM_WH_INVALID)
			continue;
		const char *obj = k == CM_WH_FILE ? target : name;
		int pl = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", obj);
		if (pl < 0 || pl >= PATH_MAX) {
			r = cm_error_set(d->err, -ENAMETOOLONG, "path too long under '/%s'", rel);
			break;
		}
		if (ims_init_path(path))
			continue; /* the init layer's: the container's own */
		if (k == CM_WH_FILE) {
			/* a deletion, unless the name was made again here */
			if (exists_at(ufd, target, NULL))
				continue;
			if (lower_lookup(below, target, NULL) >= 0) {
				if ((r = add(d, 'D', path)) < 0)
					break;
				count++;
			}
			continue;
		}
		struct stat us, ls;
		if (fstatat(ufd, name, &us, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed meanwhile */
		/* .wh.NAME beside NAME: the lower NAME is replaced, not merged */
		bool hidden = whiteout_at(ufd, name);
		ssize_t li = hidden ? -1 : lower_lookup(below, name, &ls);
		char kind;
		if (S_ISDIR(us.st_mode)) {
			_cleanup_close_ int sub = openat(ufd, name, O_RDONLY | O_DIRECTORY |
								   O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			struct lower child = { 0 };
			if (li >= 0 && S_ISDIR(ls.st_mode) && lower_child(below, name, &child) < 0) {
				r = cm_error_set(d->err, -ENOMEM, "out of memory");
				break;
			}
			/* reserve our slot so the parent sorts before its children
			 * (the final sort orders everything anyway) */
			size_t slot = d->n;
			if ((r = add(d, 'C', path)) < 0) {
				lower_free(&child);
				break;
			}
			ssize_t below_n = walk(d, sub, path, &child, depth + 1);
			lower_free(&child);
			if (below_n < 0) {
				r = (int)below_n;
				break;
			}
			kind = ims_diff_classify(&us, li >= 0 ? &ls : NULL, true, (size_t)below_n,
						 exists_at(sub, CM_WH_OPAQUE, NULL));
			if (kind) {
				d->v[slot].kind = kind;
				count += below_n + 1;
			} else {
				free(d->v[slot].path);
				d->v[slot].path = NULL; /* dropped below */
				d->v[slot].kind = 0;
			}
			continue;
		}
		bool same = false;
		if (li >= 0 && (us.st_mode & S_IFMT) == (ls.st_mode & S_IFMT) &&
		    us.st_size == ls.st_size && us.st_mode == ls.st_mode &&
		    us.st_mtim.tv_sec == ls.st_mtim.tv_sec && us.st_mtim.tv_nsec == ls.st_mtim.tv_nsec)
			same = same_data(d, ufd, name, below->fds[li], &us);
		kind = ims_diff_classify(&us, li >= 0 ? &ls : NULL, same, 0, false);
		if (kind) {
			if ((r = add(d, kind, path)) < 0)
				break;
			count++;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r < 0 ? r : count;
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct ims_change_ent *)a)->path,
		      ((const struct ims_change_ent *)b)->path);
}

void ims_changes_free(struct ims_change_ent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

int ims_ctr_open_rw(struct ims_store *s, const struct ims_container *c, int *ret,
		    struct cm_error *err)
{
	_cleanup_close_ int cfd = -1;
	int r = ims_ctr_dirfd(s, &cfd, err);
	if (r < 0)
		return r;
	char rel[CM_SHA256_HEX_LEN + 8];
	snprintf(rel, sizeof(rel), "%s/rw", c->id);
	int fd = cm_openat_beneath(cfd, rel, O_RDONLY | O_DIRECTORY, 0, true);
	if (fd < 0)
		return cm_error_setx(err, fd, "container %.12s: opening its rw branch", c->id);
	*ret = fd;
	return 0;
}

int ims_container_diff(struct ims_store *s, const struct ims_container *c,
		       struct ims_change_ent **ret, size_t *ret_n,
		       struct cm_error *err)
{
	_cleanup_close_ int rw = -1, lk = -1, cfd = -1;
	char **layers = NULL;
	size_t nl = 0;
	struct lower l = { 0 };
	struct diff d = { .err = err };
	int r = ims_container_lock(s, c, false, &lk, err);
	if (r < 0)
		return r;
	if ((r = ims_ctr_open_rw(s, c, &rw, err)) < 0)
		return r;
	if ((r = ims_ctr_layers(s, c, &layers, &nl, err)) < 0)
		return r;
	l.fds = calloc(nl + 1, sizeof(int));
	if (!l.fds) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* init layer first (it is below rw), then the image, top first */
	char rel[CM_SHA256_HEX_LEN + 8];
	snprintf(rel, sizeof(rel), "%s/init", c->id);
	if ((r = ims_ctr_dirfd(s, &cfd, err)) < 0)
		goto out;
	int fd = cm_openat_beneath(cfd, rel, O_RDONLY | O_DIRECTORY, 0, true);
	if (fd < 0) {
		r = cm_error_setx(err, fd, "container %.12s: opening its init layer", c->id);
		goto out;
	}
	l.fds[l.n++] = fd;
	for (size_t i = 0; i < nl; i++) {
		fd = openat(s->layersfd, layers[i] + 7, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = cm_error_setx(err, cm_neg_errno(), "opening layer %s", layers[i]);
			goto out;
		}
		l.fds[l.n++] = fd;
		if (exists_at(fd, CM_WH_OPAQUE, NULL))
			break;
	}
	ssize_t cnt = walk(&d, rw, "", &l, 0);
	if (cnt < 0) {
		r = (int)cnt;
		goto out;
	}
	/* drop the slots of unchanged dirs, then sort */
	size_t k = 0;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].kind)
			d.v[k++] = d.v[i];
	d.n = k;
	if (d.n > 1)
		qsort(d.v, d.n, sizeof(*d.v), cmp_change);
	*ret = d.v;
	*ret_n = d.n;
	d.v = NULL;
	d.n = 0;
	r = 0;
out:
	ims_changes_free(d.v, d.n);
	lower_free(&l);
	for (size_t i = 0; i < nl; i++)
		free(layers[i]);
	free(layers);
	return r;
}
