// SPDX-License-Identifier: MIT
/* Merged directory listings: every contributing branch read once, top
 * first, into one hash set of names (linear in the entries), whiteouts
 * applied to the branches below theirs, .wh.* names never listed. */
#include "ufs-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <xxhash.h>

#define HIDDEN_TYPE 0xff /* a whiteout-only name: hidden below wh branch */

struct nameset {
	int32_t *slots; /* index into list, -1 empty */
	uint64_t *hashes;
	size_t size, used;
};

static int ns_grow(struct nameset *s)
{
	size_t nsize = s->size ? s->size * 2 : 1024;
	int32_t *slots = malloc(nsize * sizeof(*slots));
	uint64_t *hashes = malloc(nsize * sizeof(*hashes));
	if (!slots || !hashes) {
		free(slots);
		free(hashes);
		return -ENOMEM;
	}
	memset(slots, 0xff, nsize * sizeof(*slots));
	for (size_t i = 0; i < s->size; i++) {
		if (s->slots[i] < 0)
			continue;
		size_t j = s->hashes[i] & (nsize - 1);
		while (slots[j] >= 0)
			j = (j + 1) & (nsize - 1);
		slots[j] = s->slots[i];
		hashes[j] = s->hashes[i];
	}
	free(s->slots);
	free(s->hashes);
	s->slots = slots;
	s->hashes = hashes;
	s->size = nsize;
	return 0;
}

/* Find name; returns the slot (empty or matching). */
static size_t ns_find(const struct nameset *s, const struct ufs_dirlist *l,
		      const char *name, uint64_t h)
{
	size_t j = h & (s->size - 1);
	while (s->slots[j] >= 0) {
		if (s->hashes[j] == h &&
		    strcmp(ufs_dirent_name(l, &l->ents[s->slots[j]]), name) == 0)
			return j;
		j = (j + 1) & (s->size - 1);
	}
	return j;
}

static int list_add(struct ufs_dirlist *l, const char *name, size_t len, int b,
		    uint8_t type, uint64_t ino)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct ufs_dirent *e = realloc(l->ents, ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->ents = e;
		l->cap = ncap;
	}
	if (l->names_len + len + 1 > l->names_cap) {
		size_t ncap = l->names_cap ? l->names_cap * 2 : 8192;
		while (ncap < l->names_len + len + 1)
			ncap *= 2;
		char *n = realloc(l->names, ncap);
		if (!n)
			return -ENOMEM;
		l->names = n;
		l->names_cap = ncap;
	}
	if (l->names_len > UINT32_MAX - len - 1)
		return -EOVERFLOW;
	memcpy(l->names + l->names_len, name, len + 1);
	l->ents[l->n] = (struct ufs_dirent){
		.name_off = (uint32_t)l->names_len,
		.branch = (int8_t)b,
		.type = type,
		.ino = ino,
	};
	l->names_len += len + 1;
	l->n++;
	return 0;
}

static int add_name(struct ufs_fs *fs, struct nameset *s, struct ufs_dirlist *l,
		    const char *name, int b, uint8_t type, uint64_t bino, bool wh)
{
	if ((s->used + 1) * 2 > s->size) {
		int r = ns_grow(s);
		if (r < 0)
			return r;
	}
	size_t len = strlen(name);
	uint64_t h = XXH3_64bits(name, len);
	size_t j = ns_find(s, l, name, h);
	if (s->slots[j] >= 0) {
		struct ufs_dirent *e = &l->ents[s->slots[j]];
		/* A name in the same branch as its whiteout stays visible. */
		if (!wh && e->type == HIDDEN_TYPE && e->branch == b) {
			e->type = type;
			e->ino = ufs_ino_of(fs, b, (ino_t)bino);
		}
		return 0;
	}
	int r = list_add(l, name, len, b, wh ? HIDDEN_TYPE : type,
			 wh ? 0 : ufs_ino_of(fs, b, (ino_t)bino));
	if (r < 0)
		return r;
	s->slots[j] = (int32_t)(l->n - 1);
	s->hashes[j] = h;
	s->used++;
	return 0;
}

static int read_branch(struct ufs_fs *fs, struct ufs_node *dir, int b,
		       struct nameset *s, struct ufs_dirlist *l, char *buf,
		       size_t bufsz)
{
	_cleanup_ufd_ struct ufs_fd df = { -1, false };
	int r = ufs_dir_fd(fs, dir, b, &df);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = openat(df.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_neg_errno();
	bool whiteouts = fs->br[b].mode != UFS_BR_RR || b + 1 < fs->nbr;
	/* overlay whiteouts are entries of their own: char devices (one
	 * stat each) and, in dirs marked for them, empty files */
	bool ovl = fs->wh.fmt == CM_WH_FMT_OVERLAY;
	bool xwh = ovl && cm_wh_dir_has_xwhiteouts(fd);
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, bufsz);
		if (n < 0)
			return cm_neg_errno();
		if (n == 0)
			return 0;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			off += d->d_reclen;
			const char *name = d->d_name;
			if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			const char *target;
			switch (cm_wh_classify(name, &target)) {
			case CM_WH_NONE:
				if (ovl && (d->d_type == DT_CHR || d->d_type == DT_UNKNOWN ||
					    (xwh && d->d_type == DT_REG))) {
					struct stat st;
					r = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0
						    ? (errno == ENOENT ? 0 : cm_neg_errno())
						    : cm_wh_is_object(fs->wh.fmt, fd, name, &st);
					if (r < 0)
						return r;
					if (r > 0) {
						r = whiteouts ? add_name(fs, s, l, name, b, 0, 0, true) : 0;
						break;
					}
				}
				r = add_name(fs, s, l, name, b, d->d_type, d->d_ino, false);
				break;
			case CM_WH_FILE:
				r = whiteouts ? add_name(fs, s, l, target, b, 0, 0, true) : 0;
				break;
			default:
				r = 0;
				break;
			}
			if (r < 0)
				return r;
		}
	}
}

int ufs_dirlist_build(struct ufs_fs *fs, struct ufs_node *dir, struct ufs_dirlist *ret)
{
	struct ufs_dirlist l = { 0 };
	struct nameset s = { 0 };
	const size_t bufsz = 64 * 1024;
	_cleanup_free_ char *buf = malloc(bufsz);
	if (!buf)
		return -ENOMEM;
	uint64_t mask = atomic_load(&dir->mask);
	int r = 0;
	for (int b = 0; b < fs->nbr && r == 0; b++)
		if (mask & UFS_BIT(b))
			r = read_branch(fs, dir, b, &s, &l, buf, bufsz);
	free(s.slots);
	free(s.hashes);
	if (r < 0) {
		ufs_dirlist_free(&l);
		return r;
	}
	/* Drop the whiteout-only names, keeping order. */
	size_t k = 0;
	for (size_t i = 0; i < l.n; i++)
		if (l.ents[i].type != HIDDEN_TYPE)
			l.ents[k++] = l.ents[i];
	l.n = k;
	*ret = l;
	return 0;
}

void ufs_dirlist_free(struct ufs_dirlist *l)
{
	free(l->ents);
	free(l->names);
	memset(l, 0, sizeof(*l));
}

void ufs_dircache_put(struct ufs_dircache *dc)
{
	if (dc && atomic_fetch_sub(&dc->ref, 1) == 1) {
		ufs_dirlist_free(&dc->l);
		free(dc);
	}
}

struct ufs_dircache *ufs_dircache_get(struct ufs_fs *fs, struct ufs_node *dir,
				      bool fresh, int *err)
{
	struct ufs_dircache *dc;
	if (!fresh) {
		pthread_mutex_lock(&fs->dcache_lock);
		dc = dir->dcache;
		if (dc)
			atomic_fetch_add(&dc->ref, 1);
		pthread_mutex_unlock(&fs->dcache_lock);
		if (dc)
			return dc;
	}
	dc = calloc(1, sizeof(*dc));
	if (!dc) {
		*err = -ENOMEM;
		return NULL;
	}
	int r = ufs_dirlist_build(fs, dir, &dc->l);
	if (r < 0) {
		free(dc);
		*err = r;
		return NULL;
	}
	atomic_init(&dc->ref, 2); /* the node's and the caller's */
	pthread_mutex_lock(&fs->dcache_lock);
	struct ufs_dircache *old = dir->dcache;
	dir->dcache = dc;
	pthread_mutex_unlock(&fs->dcache_lock);
	ufs_dircache_put(old);
	return dc;
}
