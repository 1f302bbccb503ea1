// SPDX-License-Identifier: MIT
/* The node table: the union's inodes, their kernel lookup counts, aliases
 * (parent, name), identity by top backing object, stable st_ino across
 * copy-up, and the bounded cache of per-branch directory fds.
 * Lock order: node->lock, then fs->table_lock (a leaf lock). */
#include "ufs-internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

struct ufs_origin {
	struct ufs_origin *next;
	ino_t upper;
	uint64_t ino;
};

/* xino: backing inode numbers of branch b > 0 get b in the top byte, so the
 * numbers of different branches never collide (kernel overlayfs "xino"). */
static uint64_t xino(int b, ino_t bino)
{
	return (uint64_t)bino ^ ((uint64_t)b << 56);
}

static size_t id_slot(const struct ufs_fs *fs, int b, ino_t bino)
{
	uint64_t k[2] = { (uint64_t)b, (uint64_t)bino };
	return XXH3_64bits(k, sizeof(k)) & (fs->hsize - 1);
}

static size_t al_slot(const struct ufs_fs *fs, const struct ufs_node *parent,
		      const char *name)
{
	return XXH3_64bits_withSeed(name, strlen(name), (uint64_t)(uintptr_t)parent) &
	       (fs->hsize - 1);
}

static size_t or_slot(const struct ufs_fs *fs, ino_t upper)
{
	return XXH3_64bits(&upper, sizeof(upper)) & (fs->osize - 1);
}

int ufs_table_init(struct ufs_fs *fs)
{
	pthread_mutex_init(&fs->table_lock, NULL);
	pthread_mutex_init(&fs->dcache_lock, NULL);
	pthread_mutex_init(&fs->neg_lock, NULL);
	pthread_mutex_init(&fs->files_lock, NULL);
	fs->hsize = 4096;
	fs->osize = 1024;
	fs->idhash = calloc(fs->hsize, sizeof(*fs->idhash));
	fs->alhash = calloc(fs->hsize, sizeof(*fs->alhash));
	fs->origins = calloc(fs->osize, sizeof(*fs->origins));
	if (!fs->idhash || !fs->alhash || !fs->origins)
		return -ENOMEM;
	return 0;
}

static void node_release(struct ufs_fs *fs, struct ufs_node *n)
{
	if (n->all_prev)
		n->all_prev->all_next = n->all_next;
	else if (fs->all == n)
		fs->all = n->all_next;
	if (n->all_next)
		n->all_next->all_prev = n->all_prev;
	if (n->bfd) {
		for (int b = 0; b < fs->nbr; b++) {
			int fd = atomic_load(&n->bfd[b]);
			if (fd >= 0) {
				close(fd);
				atomic_fetch_sub(&fs->st.dirfds, 1);
			}
		}
		free((void *)n->bfd);
	}
	cm_close(&n->dfd);
	ufs_dircache_put(n->dcache); /* no reader: the kernel forgot the dir */
	ufs_neg_free(n->neg);
	ufs_lnames_free(atomic_load(&n->lnames));
	pthread_mutex_destroy(&n->lock);
	free(n->name);
	free(n);
	atomic_fetch_sub(&fs->st.nodes, 1);
}

void ufs_table_destroy(struct ufs_fs *fs)
{
	/* Hashed or not (detached nodes are in neither hash): all of them. */
	while (fs->all)
		node_release(fs, fs->all);
	for (size_t i = 0; fs->origins && i < fs->osize; i++) {
		struct ufs_origin *o = fs->origins[i];
		while (o) {
			struct ufs_origin *next = o->next;
			free(o);
			o = next;
		}
	}
	if (fs->root) {
		free((void *)fs->root->bfd); /* branch root fds are the branches' */
		fs->root->bfd = NULL;
		node_release(fs, fs->root);
		fs->root = NULL;
	}
	free(fs->idhash);
	free(fs->alhash);
	free(fs->origins);
	pthread_mutex_destroy(&fs->table_lock);
}

/* ---- hashes (table_lock held) ---- */

static void id_unhash(struct ufs_fs *fs, struct ufs_node *n)
{
	if (!n->idhashed)
		return;
	struct ufs_node **pp = &fs->idhash[id_slot(fs, n->top, n->bino)];
	for (; *pp; pp = &(*pp)->idnext)
		if (*pp == n) {
			*pp = n->idnext;
			break;
		}
	n->idhashed = false;
	fs->hcount--;
}

static void id_hash(struct ufs_fs *fs, struct ufs_node *n)
{
	size_t s = id_slot(fs, n->top, n->bino);
	n->idnext = fs->idhash[s];
	fs->idhash[s] = n;
	n->idhashed = true;
	fs->hcount++;
}

static void al_unhash(struct ufs_fs *fs, struct ufs_node *n)
{
	if (!n->alhashed)
		return;
	struct ufs_node **pp = &fs->alhash[al_slot(fs, n->parent, n->name)];
	for (; *pp; pp = &(*pp)->alnext)
		if (*pp == n) {
			*pp = n->alnext;
			break;
		}
	n->alhashed = false;
}

static struct ufs_node *al_find(struct ufs_fs *fs, struct ufs_node *parent,
				const char *name)
{
	for (struct ufs_node *n = fs->alhash[al_slot(fs, parent, name)]; n; n = n->alnext)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static void al_hash(struct ufs_fs *fs, struct ufs_node *n)
{
	struct ufs_node *old = al_find(fs, n->parent, n->name);
	if (old && old != n)
		al_unhash(fs, old); /* replaced on disk: the newer node owns the name */
	size_t s = al_slot(fs, n->parent, n->name);
	n->alnext = fs->alhash[s];
	fs->alhash[s] = n;
	n->alhashed = true;
}

static void grow(struct ufs_fs *fs)
{
	if (fs->hcount < fs->hsize)
		return;
	size_t nsize = fs->hsize * 2;
	struct ufs_node **nid = calloc(nsize, sizeof(*nid));
	struct ufs_node **nal = calloc(nsize, sizeof(*nal));
	if (!nid || !nal) {
		free(nid);
		free(nal);
		return; /* chains just get longer */
	}
	struct ufs_node **oid = fs->idhash, **oal = fs->alhash;
	size_t osz = fs->hsize;
	fs->idhash = nid;
	fs->alhash = nal;
	fs->hsize = nsize;
	for (size_t i = 0; i < osz; i++) {
		for (struct ufs_node *n = oid[i], *next; n; n = next) {
			next = n->idnext;
			size_t s = id_slot(fs, n->top, n->bino);
			n->idnext = nid[s];
			nid[s] = n;
		}
		for (struct ufs_node *n = oal[i], *next; n; n = next) {
			next = n->alnext;
			size_t s = al_slot(fs, n->parent, n->name);
			n->alnext = nal[s];
			nal[s] = n;
		}
	}
	free(oid);
	free(oal);
}

/* ---- st_ino ---- */

static uint64_t ino_of_locked(struct ufs_fs *fs, int b, ino_t bino)
{
	if (b == 0 && fs->rw && atomic_load(&fs->ocount) > 0)
		for (struct ufs_origin *o = fs->origins[or_slot(fs, bino)]; o; o = o->next)
			if (o->upper == bino)
				return o->ino;
	return xino(b, bino);
}

uint64_t ufs_ino_of(struct ufs_fs *fs, int b, ino_t bino)
{
	if (b != 0 || !fs->rw || atomic_load(&fs->ocount) == 0)
		return xino(b, bino);
	pthread_mutex_lock(&fs->table_lock);
	uint64_t r = ino_of_locked(fs, b, bino);
	pthread_mutex_unlock(&fs->table_lock);
	return r;
}

static void origin_del_locked(struct ufs_fs *fs, ino_t upper)
{
	for (struct ufs_origin **pp = &fs->origins[or_slot(fs, upper)]; *pp;
	     pp = &(*pp)->next)
		if ((*pp)->upper == upper) {
			struct ufs_origin *o = *pp;
			*pp = o->next;
			free(o);
			atomic_fetch_sub(&fs->ocount, 1);
			return;
		}
}

void ufs_origin_forget(struct ufs_fs *fs, ino_t bino)
{
	if (atomic_load(&fs->ocount) == 0)
		return;
	pthread_mutex_lock(&fs->table_lock);
	origin_del_locked(fs, bino);
	pthread_mutex_unlock(&fs->table_lock);
}

static void origin_set_locked(struct ufs_fs *fs, ino_t upper, uint64_t ino)
{
	origin_del_locked(fs, upper);
	if (xino(0, upper) == ino)
		return;
	struct ufs_origin *o = malloc(sizeof(*o));
	if (!o)
		return; /* st_ino then changes across this copy-up; not fatal */
	o->upper = upper;
	o->ino = ino;
	size_t s = or_slot(fs, upper);
	o->next = fs->origins[s];
	fs->origins[s] = o;
	atomic_fetch_add(&fs->ocount, 1);
}

/* ---- nodes ---- */

static struct ufs_node *node_alloc(struct ufs_fs *fs, mode_t type)
{
	struct ufs_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->type = type & S_IFMT;
	n->dfd = -1;
	pthread_mutex_init(&n->lock, NULL);
	if (S_ISDIR(type)) {
		n->bfd = malloc(sizeof(*n->bfd) * (size_t)fs->nbr);
		if (!n->bfd) {
			free(n);
			return NULL;
		}
		for (int b = 0; b < fs->nbr; b++)
			atomic_init(&n->bfd[b], -1);
	}
	atomic_fetch_add(&fs->st.nodes, 1);
	return n;
}

struct ufs_node *ufs_node_root_new(struct ufs_fs *fs, uint64_t mask,
				   const struct stat *st)
{
	struct ufs_node *n = node_alloc(fs, S_IFDIR);
	if (!n)
		return NULL;
	for (int b = 0; b < fs->nbr; b++)
		atomic_init(&n->bfd[b], fs->br[b].fd);
	int top = ufs_first_bit(mask);
	atomic_init(&n->top, top);
	atomic_init(&n->bino, st->st_ino);
	atomic_init(&n->mask, mask);
	n->ino = xino(top, st->st_ino);
	n->nlookup = 1;
	n->pins = 1; /* never freed before unmount */
	fs->root = n;
	return n;
}

static bool res_hashable(const struct ufs_fs *fs, const struct ufs_res *res)
{
	/* Lower non-directories with several links are not shared: copy-up
	 * of one name must not redirect the other names (see design.md). */
	return S_ISDIR(res->st.st_mode) || (res->branch == 0 && fs->rw) ||
	       res->st.st_nlink <= 1;
}

static void maybe_free_locked(struct ufs_fs *fs, struct ufs_node *n)
{
	while (n && n != fs->root && n->nlookup == 0 && n->pins == 0) {
		struct ufs_node *p = n->parent;
		al_unhash(fs, n);
		id_unhash(fs, n);
		node_release(fs, n);
		if (p)
			p->pins--;
		n = p;
	}
}

static void set_alias_locked(struct ufs_fs *fs, struct ufs_node *n,
			     struct ufs_node *parent, char *name)
{
	al_unhash(fs, n);
	struct ufs_node *old = n->parent;
	free(n->name);
	n->name = name;
	n->parent = parent;
	if (parent) {
		parent->pins++;
		n->detached = false;
		al_hash(fs, n);
	} else {
		n->detached = true;
	}
	if (old) {
		old->pins--;
		maybe_free_locked(fs, old);
	}
}

struct ufs_node *ufs_node_get(struct ufs_fs *fs, struct ufs_node *parent,
			      const char *name, const struct ufs_res *res)
{
	bool hashable = res_hashable(fs, res);
	char *dup = strdup(name);
	if (!dup)
		return NULL;
	pthread_mutex_lock(&fs->table_lock);
	struct ufs_node *n = NULL;
	if (hashable) {
		size_t s = id_slot(fs, res->branch, res->st.st_ino);
		for (n = fs->idhash[s]; n; n = n->idnext)
			if (n->top == res->branch && n->bino == res->st.st_ino)
				break;
		if (n && n->type != (res->st.st_mode & S_IFMT))
			n = NULL;
	}
	if (n) {
		n->nlookup++;
		if (n->parent != parent || n->detached || strcmp(n->name, name) != 0)
			set_alias_locked(fs, n, parent, TAKE_PTR(dup));
		if (S_ISDIR(n->type))
			atomic_store(&n->mask, res->mask);
		pthread_mutex_unlock(&fs->table_lock);
		free(dup);
		return n;
	}
	n = node_alloc(fs, res->st.st_mode);
	if (!n) {
		pthread_mutex_unlock(&fs->table_lock);
		free(dup);
		return NULL;
	}
	atomic_init(&n->top, res->branch);
	atomic_init(&n->bino, res->st.st_ino);
	atomic_init(&n->mask, res->mask);
	n->ino = ino_of_locked(fs, res->branch, res->st.st_ino);
	n->nlookup = 1;
	n->all_next = fs->all;
	if (fs->all)
		fs->all->all_prev = n;
	fs->all = n;
	set_alias_locked(fs, n, parent, TAKE_PTR(dup));
	if (hashable) {
		grow(fs);
		id_hash(fs, n);
	}
	pthread_mutex_unlock(&fs->table_lock);
	return n;
}

struct ufs_node *ufs_node_get_new(struct ufs_fs *fs, struct ufs_node *parent,
				  const char *name, const struct ufs_res *res)
{
	pthread_mutex_lock(&fs->table_lock);
	origin_del_locked(fs, res->st.st_ino);
	size_t s = id_slot(fs, res->branch, res->st.st_ino);
	for (struct ufs_node *n = fs->idhash[s], *next; n; n = next) {
		next = n->idnext;
		if (n->top == res->branch && n->bino == res->st.st_ino)
			id_unhash(fs, n);
	}
	pthread_mutex_unlock(&fs->table_lock);
	return ufs_node_get(fs, parent, name, res);
}

void ufs_node_forget(struct ufs_fs *fs, struct ufs_node *n, uint64_t count)
{
	if (n == fs->root)
		return;
	pthread_mutex_lock(&fs->table_lock);
	n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
	maybe_free_locked(fs, n);
	pthread_mutex_unlock(&fs->table_lock);
}

struct ufs_node *ufs_node_find_alias(struct ufs_fs *fs, struct ufs_node *parent,
				     const char *name)
{
	pthread_mutex_lock(&fs->table_lock);
	struct ufs_node *n = al_find(fs, parent, name);
	if (n)
		n->pins++;
	pthread_mutex_unlock(&fs->table_lock);
	return n;
}

void ufs_node_pin(struct ufs_fs *fs, struct ufs_node *n)
{
	pthread_mutex_lock(&fs->table_lock);
	n->pins++;
	pthread_mutex_unlock(&fs->table_lock);
}

void ufs_node_unpin(struct ufs_fs *fs, struct ufs_node *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&fs->table_lock);
	n->pins--;
	maybe_free_locked(fs, n);
	pthread_mutex_unlock(&fs->table_lock);
}

int ufs_node_alias(struct ufs_fs *fs, struct ufs_node *n,
		   struct ufs_node **ret_parent, char name[NAME_MAX + 1])
{
	pthread_mutex_lock(&fs->table_lock);
	if (n->detached || !n->parent) {
		pthread_mutex_unlock(&fs->table_lock);
		return -ENOENT;
	}
	snprintf(name, NAME_MAX + 1, "%s", n->name);
	n->parent->pins++;
	*ret_parent = n->parent;
	pthread_mutex_unlock(&fs->table_lock);
	return 0;
}

void ufs_node_set_alias(struct ufs_fs *fs, struct ufs_node *n,
			struct ufs_node *parent, const char *name)
{
	char *dup = parent ? strdup(name) : NULL;
	pthread_mutex_lock(&fs->table_lock);
	if (parent && !dup)
		parent = NULL; /* out of memory: detach rather than lie */
	set_alias_locked(fs, n, parent, dup);
	pthread_mutex_unlock(&fs->table_lock);
}

void ufs_node_set_backing(struct ufs_fs *fs, struct ufs_node *n, int top,
			  ino_t bino)
{
	pthread_mutex_lock(&fs->table_lock);
	bool was = n->idhashed;
	id_unhash(fs, n);
	atomic_store(&n->top, top);
	atomic_store(&n->bino, bino);
	if (top == 0 && fs->rw)
		origin_set_locked(fs, bino, n->ino);
	if (was || top == 0) {
		grow(fs);
		id_hash(fs, n);
	}
	pthread_mutex_unlock(&fs->table_lock);
	atomic_fetch_add(&n->gen, 1);
}

void ufs_node_retire(struct ufs_fs *fs, struct ufs_node *n, ino_t bino)
{
	pthread_mutex_lock(&fs->table_lock);
	id_unhash(fs, n);
	if (fs->rw)
		origin_set_locked(fs, bino, n->ino);
	set_alias_locked(fs, n, NULL, NULL);
	pthread_mutex_unlock(&fs->table_lock);
}

/* ---- fds ---- */

void ufs_dir_set_fd(struct ufs_fs *fs, struct ufs_node *dir, int b, int fd)
{
	int expected = -1;
	if (atomic_load(&fs->st.dirfds) < (unsigned long long)fs->dirfd_budget &&
	    atomic_compare_exchange_strong(&dir->bfd[b], &expected, fd)) {
		atomic_fetch_add(&fs->st.dirfds, 1);
		return;
	}
	close(fd);
}

int ufs_dir_fd(struct ufs_fs *fs, struct ufs_node *dir, int b, struct ufs_fd *ret)
{
	if (!dir->bfd || b < 0 || b >= fs->nbr)
		return -EIO;
	int fd = atomic_load(&dir->bfd[b]);
	if (fd >= 0) {
		ret->fd = fd;
		ret->owned = false;
		return 0;
	}
	struct ufs_node *parent;
	char name[NAME_MAX + 1];
	int r = ufs_node_alias(fs, dir, &parent, name);
	if (r < 0)
		return r;
	_cleanup_ufd_ struct ufs_fd pf = { -1, false };
	r = ufs_dir_fd(fs, parent, b, &pf);
	if (r == 0) {
		fd = openat(pf.fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			r = cm_neg_errno();
	}
	ufs_node_unpin(fs, parent);
	if (r < 0)
		return r;
	int expected = -1;
	if (atomic_load(&fs->st.dirfds) < (unsigned long long)fs->dirfd_budget &&
	    atomic_compare_exchange_strong(&dir->bfd[b], &expected, fd)) {
		atomic_fetch_add(&fs->st.dirfds, 1);
		ret->fd = fd;
		ret->owned = false;
		return 0;
	}
	if (expected >= 0) { /* another thread won the race */
		close(fd);
		ret->fd = expected;
		ret->owned = false;
		return 0;
	}
	ret->fd = fd;
	ret->owned = true;
	return 0;
}

int ufs_node_open(struct ufs_fs *fs, struct ufs_node *n, int flags)
{
	int fd;
	if (n->detached) {
		if (n->dfd < 0)
			return -ENOENT;
		if (flags == O_PATH) {
			fd = fcntl(n->dfd, F_DUPFD_CLOEXEC, 0);
		} else {
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", n->dfd);
			fd = open(proc, flags | O_CLOEXEC);
		}
		return fd < 0 ? cm_neg_errno() : fd;
	}
	int top = atomic_load(&n->top);
	if (S_ISDIR(n->type)) {
		_cleanup_ufd_ struct ufs_fd df = { -1, false };
		int r = ufs_dir_fd(fs, n, top, &df);
		if (r < 0)
			return r;
		fd = openat(df.fd, ".", flags | O_CLOEXEC);
		return fd < 0 ? cm_neg_errno() : fd;
	}
	struct ufs_node *parent;
	char name[NAME_MAX + 1];
	int r = ufs_node_alias(fs, n, &parent, name);
	if (r < 0)
		return r;
	_cleanup_ufd_ struct ufs_fd pf = { -1, false };
	r = ufs_dir_fd(fs, parent, top, &pf);
	if (r == 0) {
		fd = openat(pf.fd, name, flags | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? cm_neg_errno() : fd;
	}
	ufs_node_unpin(fs, parent);
	return r;
}

void ufs_stat_fixup(struct ufs_fs *fs, struct ufs_node *n, struct stat *st)
{
	st->st_ino = n->ino;
	ufs_ids_to_view(fs->cfg, st);
	/* A merged dir's link count is unknown; 1 tells find(1) so. */
	if (S_ISDIR(n->type) && __builtin_popcountll(atomic_load(&n->mask)) > 1)
		st->st_nlink = 1;
}

int ufs_node_stat(struct ufs_fs *fs, struct ufs_node *n, struct stat *st)
{
	int r = 0;
	if (n->detached) {
		if (n->dfd < 0)
			return -ENOENT;
		if (fstat(n->dfd, st) < 0)
			return cm_neg_errno();
		ufs_stat_fixup(fs, n, st);
		return 0;
	}
	int top = atomic_load(&n->top);
	if (S_ISDIR(n->type)) {
		_cleanup_ufd_ struct ufs_fd df = { -1, false };
		r = ufs_dir_fd(fs, n, top, &df);
		if (r == 0 && fstat(df.fd, st) < 0)
			r = cm_neg_errno();
	} else {
		struct ufs_node *parent;
		char name[NAME_MAX + 1];
		r = ufs_node_alias(fs, n, &parent, name);
		if (r < 0)
			return r;
		_cleanup_ufd_ struct ufs_fd pf = { -1, false };
		r = ufs_dir_fd(fs, parent, top, &pf);
		if (r == 0 && fstatat(pf.fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
			r = cm_neg_errno();
		ufs_node_unpin(fs, parent);
	}
	if (r == 0)
		ufs_stat_fixup(fs, n, st);
	return r;
}
