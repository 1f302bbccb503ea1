// SPDX-License-Identifier: MIT
/* COPY and ADD: the sources (globs resolved per component, .dockerignore
 * honoured) hashed for the cache key (xxh3 over names, modes, owners, sizes
 * and contents) and written into the new layer's tree. Every access to the
 * sources is fd-relative below their root, never following a symlink but
 * in the source path's own parents; the tree is ours (a fresh temp dir). */
#include "bld-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <xxhash.h>

#include "cm-fs.h"
#include "ims.h"

/* The names in dir fd (no . and ..), sorted. */
static int list_sorted(int fd, char ***ret, size_t *ret_n)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cm_neg_errno();
	DIR *d = fdopendir(dfd);
	if (!d) {
		int r = cm_neg_errno();
		close(dfd);
		return r;
	}
	char **v = NULL;
	size_t n = 0;
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			r = bld_strv_push(&v, &n, strdup(de->d_name));
	closedir(d);
	if (r < 0) {
		bld_strv_free(v);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), bld_cmp_str);
	*ret = v;
	*ret_n = n;
	return 0;
}

int bld_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define SOURCE ((size_t)-1)
/* rel (below the sources' root) matches an --exclude pattern: as a path of
 * the context, or below the source dir (its first srclen bytes and '/') it
 * is copied from, or (srclen SOURCE: a source itself) by its name. */
static bool cut(const struct bld_copy *c, const char *rel, size_t srclen)
{
	if (!c->exclude || !*rel)
		return false;
	if (bld_ignore_match(c->exclude, rel))
		return true;
	if (srclen == SOURCE) {
		const char *sl = strrchr(rel, '/');
		return sl && bld_ignore_match(c->exclude, sl + 1);
	}
	return srclen && strlen(rel) > srclen && rel[srclen] == '/' &&
	       bld_ignore_match(c->exclude, rel + srclen + 1);
}

static bool has_meta(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static char *join(const char *a, const char *b)
{
	char *r = NULL;
	if (!*a)
		return strdup(b);
	if (asprintf(&r, "%s/%s", a, b) < 0)
		return NULL;
	return r;
}

/* Expand pattern components from dir rel (below root) into out. */
static int glob_walk(const struct bld_copy *c, const char *rel, const char *pat, char ***out,
		     size_t *n)
{
	size_t cl = strcspn(pat, "/");
	const char *next = pat[cl] == '/' ? pat + cl + 1 : NULL;
	while (next && *next == '/')
		next++;
	if (next && !*next)
		next = NULL;
	_cleanup_free_ char *comp = strndup(pat, cl);
	if (!comp)
		return -ENOMEM;
	int r;
	if (!has_meta(comp)) {
		_cleanup_free_ char *p = join(rel, comp);
		if (!p)
			return -ENOMEM;
		struct stat st;
		_cleanup_close_ int fd = cm_openat_beneath(c->src_root, *p ? p : ".", O_PATH | O_NOFOLLOW, 0, false);
		if (fd < 0 || fstat(fd, &st) < 0)
			return 0;
		if (next)
			return S_ISDIR(st.st_mode) ? glob_walk(c, p, next, out, n) : 0;
		if (cut(c, p, SOURCE))
			return 0;
		return bld_strv_push(out, n, TAKE_PTR(p));
	}
	_cleanup_close_ int dfd = cm_openat_beneath(c->src_root, *rel ? rel : ".", O_RDONLY | O_DIRECTORY, 0, false);
	if (dfd < 0)
		return 0;
	char **names;
	size_t nn;
	if ((r = list_sorted(dfd, &names, &nn)) < 0)
		return r;
	for (size_t i = 0; r == 0 && i < nn; i++) {
		if (!bld_match(comp, names[i]))
			continue;
		char *p = join(rel, names[i]);
		if (!p) {
			r = -ENOMEM;
			break;
		}
		if ((c->ignore && bld_ignore_match(c->ignore, p)) || cut(c, p, next ? 0 : SOURCE)) {
			free(p);
			continue;
		}
		if (next) {
			r = glob_walk(c, p, next, out, n);
			free(p);
		} else {
			r = bld_strv_push(out, n, p);
		}
	}
	bld_strv_free(names);
	return r;
}

int bld_copy_resolve(const struct bld_copy *c, char ***ret, size_t *ret_n, struct cm_error *err)
{
	char **v = NULL;
	size_t n = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < c->n_srcs; i++) {
		if (c->srcs[i][0] == '<' && c->srcs[i][1] == '<')
			continue; /* a heredoc: not from the root */
		char p[PATH_MAX];
		if ((r = bld_path_clean(c->srcs[i], p, sizeof(p))) < 0) {
			r = cm_error_set(err, r, "%s: source path too long", c->srcs[i]);
			break;
		}
		size_t before = n;
		if (!*p && !c->ignore) {
			r = bld_strv_push(&v, &n, strdup(""));
		} else if (!*p) {
			r = bld_strv_push(&v, &n, strdup(""));
		} else {
			struct stat dst;
			_cleanup_close_ int pf = c->ignore ? cm_openat_beneath(c->src_root, p, O_PATH | O_NOFOLLOW, 0, false) : -1;
			bool is_dir = pf >= 0 && fstat(pf, &dst) == 0 && S_ISDIR(dst.st_mode);
			if (c->ignore && !has_meta(p) && bld_ignore_match(c->ignore, p) &&
			    !(is_dir && bld_ignore_has_exceptions(c->ignore))) {
				r = cm_error_set(err, -ENOENT, "%s: excluded by .dockerignore",
						 c->srcs[i]);
				break;
			}
			r = glob_walk(c, "", p, &v, &n);
			if (r < 0)
				r = cm_error_setx(err, r, "resolving %s", c->srcs[i]);
		}
		/* a source named alone and --exclude'd is no error */
		if (r == 0 && n == before && !(!has_meta(p) && cut(c, p, SOURCE)))
			r = cm_error_set(err, -ENOENT, "%s: no source files were specified",
					 c->srcs[i]);
	}
	if (r < 0) {
		bld_strv_free(v);
		return r;
	}
	if (!v && !(v = calloc(1, sizeof(*v))))
		return cm_error_set(err, -ENOMEM, "out of memory");
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------ hashing */

struct hasher {
	XXH3_state_t *h;
	const struct bld_copy *c;
	size_t srclen; /* the source being walked: its path's length */
};

static void h_add(struct hasher *h, const void *p, size_t n)
{
	XXH3_128bits_update(h->h, p, n);
}

static int hash_entry(struct hasher *h, int dfd, const char *name, const char *rel, int depth)
{
	if (depth > 256)
		return -ELOOP;
	bool excluded = h->c->ignore && *rel && bld_ignore_match(h->c->ignore, rel);
	if (cut(h->c, rel, h->srclen))
		return 0;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return cm_neg_errno();
	if (excluded && !(S_ISDIR(st.st_mode) && bld_ignore_has_exceptions(h->c->ignore)))
		return 0;
	if (!excluded) {
		int64_t meta[5] = { st.st_mode, st.st_uid, st.st_gid,
				    S_ISREG(st.st_mode) ? st.st_size : 0, (int64_t)st.st_rdev };
		h_add(h, rel, strlen(rel) + 1);
		h_add(h, meta, sizeof(meta));
	}
	if (S_ISREG(st.st_mode) && !excluded) {
		_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return cm_neg_errno();
		char buf[1 << 16];
		ssize_t k;
		while ((k = read(fd, buf, sizeof(buf))) > 0)
			h_add(h, buf, (size_t)k);
		if (k < 0)
			return cm_neg_errno();
	} else if (S_ISLNK(st.st_mode) && !excluded) {
		char t[PATH_MAX];
		ssize_t k = readlinkat(dfd, name, t, sizeof(t));
		if (k < 0)
			return cm_neg_errno();
		h_add(h, t, (size_t)k);
	} else if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return cm_neg_errno();
		char **names;
		size_t n;
		int r = list_sorted(sub, &names, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; r == 0 && i < n; i++) {
			_cleanup_free_ char *p = join(rel, names[i]);
			r = p ? hash_entry(h, sub, names[i], p, depth + 1) : -ENOMEM;
		}
		bld_strv_free(names);
		return r;
	}
	return 0;
}

/* Open the parent of rel below root and give the last name. */
static int open_parent(int root, const char *rel, const char **base)
{
	const char *sl = strrchr(rel, '/');
	if (!*rel || !sl) {
		*base = *rel ? rel : ".";
		int fd = fcntl(root, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? cm_neg_errno() : fd;
	}
	_cleanup_free_ char *dir = strndup(rel, (size_t)(sl - rel));
	if (!dir)
		return -ENOMEM;
	*base = sl + 1;
	return cm_openat_beneath(root, dir, O_RDONLY | O_DIRECTORY, 0, false);
}

int bld_copy_hash(const struct bld_copy *c, char out[BLD_HASH_LEN], struct cm_error *err)
{
	char **srcs;
	size_t n;
	int r = bld_copy_resolve(c, &srcs, &n, err);
	if (r < 0)
		return r;
	struct hasher h = { XXH3_createState(), c, 0 };
	if (!h.h) {
		bld_strv_free(srcs);
		return cm_error_set(err, -ENOMEM, "out of memory");
	}
	XXH3_128bits_reset(h.h);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *base;
		_cleanup_close_ int pfd = open_parent(c->src_root, srcs[i], &base);
		if (pfd < 0) {
			r = cm_error_setx(err, pfd, "%s", srcs[i]);
			break;
		}
		h_add(&h, "\0src", 4);
		h.srclen = strlen(srcs[i]);
		if ((r = hash_entry(&h, pfd, base, srcs[i], 0)) < 0)
			cm_error_setx(err, r, "reading %s", *srcs[i] ? srcs[i] : ".");
	}
	for (size_t i = 0; i < c->n_docs; i++) {
		h_add(&h, c->docs[i].name, strlen(c->docs[i].name) + 1);
		h_add(&h, c->docs[i].body, strlen(c->docs[i].body) + 1);
	}
	XXH128_hash_t d = XXH3_128bits_digest(h.h);
	XXH3_freeState(h.h);
	bld_strv_free(srcs);
	if (r < 0)
		return r;
	snprintf(out, BLD_HASH_LEN, "xxh3:%016llx%016llx", (unsigned long long)d.high64,
		 (unsigned long long)d.low64);
	return 0;
}

/* ------------------------------------------------------------ writing */

struct writer {
	const struct bld_copy *c;
	struct cm_error *err;
	size_t srclen; /* the source being copied: its path's length */
	mode_t umask;  /* the process's (a new file's mode loses these bits) */
};

/* The umask (read once per COPY: the builder runs on one thread). */
static mode_t umask_now(void)
{
	mode_t um = umask(077);
	umask(um);
	return um;
}

static void owner_of(const struct writer *w, const struct stat *st, uid_t *u, gid_t *g)
{
	*u = w->c->keep_owner ? st->st_uid : 0;
	*g = w->c->keep_owner ? st->st_gid : 0;
	if (w->c->chown) {
		*u = w->c->uid;
		*g = w->c->gid;
	}
}

/* size: what in holds by its stat (a copy that reached it stops without
 * the call that would return 0). */
static int copy_data(int in, int out, off_t size)
{
	off_t done = 0;
	if (size == 0)
		return 0;
	for (;;) {
		ssize_t k = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (k == 0)
			return 0;
		if (k > 0) {
			if ((done += k) >= size)
				return 0;
			continue;
		}
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return cm_neg_errno();
		break;
	}
	char buf[1 << 16];
	ssize_t k;
	while ((k = read(in, buf, sizeof(buf))) > 0) {
		int r = cm_write_all(out, buf, (size_t)k);
		if (r < 0)
			return r;
	}
	return k < 0 ? cm_neg_errno() : 0;
}

/* Make the entry dst in tree dir tfd from (sfd, name); dirs recursively. */
static int put_entry(struct writer *w, int sfd, const char *name, const char *rel, int tfd,
		     const char *dst, int depth)
{
	if (depth > 256)
		return -ELOOP;
	bool excluded = w->c->ignore && *rel && bld_ignore_match(w->c->ignore, rel);
	if (cut(w->c, rel, w->srclen))
		return 0;
	struct stat st;
	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return cm_neg_errno();
	if (excluded && !(S_ISDIR(st.st_mode) && bld_ignore_has_exceptions(w->c->ignore)))
		return 0;
	uid_t u;
	gid_t g;
	owner_of(w, &st, &u, &g);
	mode_t mode = w->c->chmod ? w->c->mode : st.st_mode & 07777;
	struct timespec ts[2] = { st.st_mtim, st.st_mtim };
	/* the layer's times clamped here, not again by the store */
	if (w->c->clamp >= 0 && st.st_mtim.tv_sec > w->c->clamp)
		ts[0] = ts[1] = (struct timespec){ w->c->clamp, 0 };
	int r;
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(tfd, dst, 0700) < 0 && errno != EEXIST)
			return cm_neg_errno();
		_cleanup_close_ int sub = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int tsub = openat(tfd, dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || tsub < 0)
			return cm_neg_errno();
		char **names;
		size_t n;
		if ((r = list_sorted(sub, &names, &n)) < 0)
			return r;
		for (size_t i = 0; r == 0 && i < n; i++) {
			_cleanup_free_ char *p = join(rel, names[i]);
			r = p ? put_entry(w, sub, names[i], p, tsub, names[i], depth + 1) : -ENOMEM;
		}
		bld_strv_free(names);
		if (r < 0)
			return r;
		if (excluded) { /* only there for what is re-included below it */
			cm_close(&tsub);
			(void)unlinkat(tfd, dst, AT_REMOVEDIR); /* if nothing was */
			return 0;
		}
		if (fchown(tsub, u, g) < 0 || fchmod(tsub, mode) < 0 || futimens(tsub, ts) < 0)
			return cm_neg_errno();
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		int fl = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
		/* made with its mode when the umask leaves it whole (the tree is
		 * a 0700 dir of ours: no one else sees it meanwhile) */
		bool exact = !(mode & ~0777) && !(mode & w->umask);
		_cleanup_close_ int out = openat(tfd, dst, fl, exact ? mode : 0600);
		if (out < 0 && errno == EEXIST) { /* a later source of the same name wins */
			(void)unlinkat(tfd, dst, 0);
			out = openat(tfd, dst, fl, exact ? mode : 0600);
		}
		if (in < 0 || out < 0)
			return cm_neg_errno();
		if ((r = copy_data(in, out, st.st_size)) < 0)
			return r;
		/* a new file is ours (euid, egid: the tree's dirs are not setgid) */
		if (((u != geteuid() || g != getegid()) && fchown(out, u, g) < 0) ||
		    (!exact && fchmod(out, mode) < 0) || futimens(out, ts) < 0)
			return cm_neg_errno();
		return 0;
	}
	(void)unlinkat(tfd, dst, 0); /* a later source of the same name wins */
	if (S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t k = readlinkat(sfd, name, t, sizeof(t) - 1);
		if (k < 0)
			return cm_neg_errno();
		t[k] = '\0';
		if (symlinkat(t, tfd, dst) < 0 || fchownat(tfd, dst, u, g, AT_SYMLINK_NOFOLLOW) < 0)
			return cm_neg_errno();
		(void)utimensat(tfd, dst, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		if (mknodat(tfd, dst, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0 ||
		    fchownat(tfd, dst, u, g, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(tfd, dst, mode, 0) < 0)
			return cm_neg_errno();
		return 0;
	}
	return 0; /* sockets are not copied */
}

/* mkdir -p of dest's dirs in the tree, each with the metadata the image has
 * for it (its mount root at c->image_root), else root 0755. Returns the fd
 * of the last dir made. */
/* path (absolute, in the image) with the image's symlinks among its
 * components followed in-root (at most 40), as docker copies through
 * /var/run -> /run or a merged /usr's /lib -> usr/lib: a COPY must not
 * replace such a link by a dir. */
static int resolve_in_image(int root, const char *path, char *out, size_t sz)
{
	char cur[PATH_MAX] = "", rest[PATH_MAX], next[PATH_MAX * 2];
	if ((size_t)snprintf(rest, sizeof(rest), "%s", path) >= sizeof(rest))
		return -ENAMETOOLONG;
	int hops = 0;
	char *p = rest;
	while (*p) {
		while (*p == '/')
			p++;
		size_t l = strcspn(p, "/");
		if (!l)
			break;
		char comp[NAME_MAX + 1];
		if (l > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, l);
		comp[l] = '\0';
		p += l;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *sl = strrchr(cur, '/');
			*(sl ? sl : cur) = '\0';
			continue;
		}
		char t[PATH_MAX];
		ssize_t k = -1;
		if (root >= 0) {
			_cleanup_close_ int d = cm_openat_beneath(root, *cur ? cur : ".", O_PATH | O_DIRECTORY, 0, true);
			if (d >= 0)
				k = readlinkat(d, comp, t, sizeof(t) - 1);
		}
		if (k < 0) {
			size_t cl = strlen(cur);
			if (cl + l + 2 > sizeof(cur))
				return -ENAMETOOLONG;
			if (cl)
				cur[cl++] = '/';
			memcpy(cur + cl, comp, l + 1);
			continue;
		}
		if (++hops > 40)
			return -ELOOP;
		t[k] = '\0';
		if (t[0] == '/')
			cur[0] = '\0'; /* absolute: from the image's root */
		if ((size_t)snprintf(next, sizeof(next), "%s/%s", t, p) >= sizeof(rest))
			return -ENAMETOOLONG;
		memcpy(rest, next, strlen(next) + 1);
		p = rest;
	}
	if ((size_t)snprintf(out, sz, "/%s", cur) >= sz)
		return -ENAMETOOLONG;
	return 0;
}

int bld_make_dirs(const struct bld_copy *c, int tree, const char *given, struct cm_error *err)
{
	char path[PATH_MAX];
	int rr = resolve_in_image(c->image_root, given, path, sizeof(path));
	if (rr < 0)
		return cm_error_set(err, rr, "%s: resolving it in the image", given);
	int fd = fcntl(tree, F_DUPFD_CLOEXEC, 3);
	char sofar[PATH_MAX] = "";
	const char *s = path;
	while (fd >= 0 && *s) {
		while (*s == '/')
			s++;
		size_t l = strcspn(s, "/");
		if (!l)
			break;
		char comp[NAME_MAX + 1];
		if (l > NAME_MAX || strlen(sofar) + l + 2 > sizeof(sofar)) {
			close(fd);
			return cm_error_set(err, -ENAMETOOLONG, "%s: name too long", path);
		}
		memcpy(comp, s, l);
		comp[l] = '\0';
		s += l;
		if (sofar[0])
			strcat(sofar, "/");
		strcat(sofar, comp);
		struct stat st = { .st_mode = S_IFDIR | 0755 };
		bool existing = false;
		if (c->image_root >= 0) {
			_cleanup_close_ int e = cm_openat_beneath(c->image_root, sofar, O_PATH | O_NOFOLLOW, 0, false);
			existing = e >= 0 && fstat(e, &st) == 0 && S_ISDIR(st.st_mode);
			if (!existing)
				st = (struct stat){ .st_mode = S_IFDIR | 0755 };
		}
		if (mkdirat(fd, comp, st.st_mode & 07777) < 0 && errno != EEXIST) {
			int r = cm_neg_errno();
			close(fd);
			return cm_error_setx(err, r, "creating %s in the layer", sofar);
		}
		uid_t u = existing ? st.st_uid : 0;
		gid_t g = existing ? st.st_gid : 0;
		if (!existing && c->chown) {
			u = c->uid;
			g = c->gid;
		}
		(void)fchownat(fd, comp, u, g, AT_SYMLINK_NOFOLLOW);
		(void)fchmodat(fd, comp, st.st_mode & 07777, 0);
		if (existing) {
			struct timespec ts[2] = { st.st_mtim, st.st_mtim };
			(void)utimensat(fd, comp, ts, AT_SYMLINK_NOFOLLOW);
		}
		int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
	}
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "creating %s in the layer", path);
	return fd;
}

/* Whether path is a directory in the image. */
static bool image_dir(const struct bld_copy *c, const char *given)
{
	char buf[PATH_MAX];
	if (c->image_root < 0 || resolve_in_image(c->image_root, given, buf, sizeof(buf)) < 0)
		return false;
	const char *path = buf;
	while (*path == '/')
		path++;
	if (!*path)
		return true;
	_cleanup_close_ int fd = cm_openat_beneath(c->image_root, path, O_PATH, 0, false);
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

static int put_heredoc(const struct bld_copy *c, int dir, const char *name, const char *body,
		       struct cm_error *err)
{
	(void)unlinkat(dir, name, 0);
	_cleanup_close_ int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || cm_write_all(fd, body, strlen(body)) < 0 ||
	    fchown(fd, c->chown ? c->uid : 0, c->chown ? c->gid : 0) < 0 ||
	    fchmod(fd, c->chmod ? c->mode : 0644) < 0)
		return cm_error_setx(err, cm_neg_errno(), "writing %s", name);
	return 0;
}

/* The length of the part of src (a source word) that --parents drops: up
 * to a "/./" pivot (BuildKit's), none without one. */
static size_t pivot_len(const char *src)
{
	const char *p = strstr(src, "/./");
	if (!p)
		return 0;
	char pre[PATH_MAX];
	_cleanup_free_ char *head = strndup(src, (size_t)(p - src));
	if (!head || bld_path_clean(head, pre, sizeof(pre)) < 0)
		return 0;
	return strlen(pre);
}

/* COPY --parents: each match at DEST/its path (its part after a "/./"
 * pivot), the parents made as bld_make_dirs makes DEST's. */
static int write_parents(const struct bld_copy *c, int tree, struct cm_error *err)
{
	int r = 0;
	for (size_t s = 0; r == 0 && s < c->n_srcs; s++) {
		struct bld_copy one = *c;
		one.srcs = &c->srcs[s];
		one.n_srcs = 1;
		one.n_docs = 0;
		char **m;
		size_t n;
		if ((r = bld_copy_resolve(&one, &m, &n, err)) < 0)
			return r;
		size_t cut_at = pivot_len(c->srcs[s]);
		for (size_t i = 0; r == 0 && i < n; i++) {
			const char *kept = m[i] + cut_at;
			while (*kept == '/')
				kept++;
			const char *sl = strrchr(kept, '/');
			_cleanup_free_ char *dir = NULL;
			if (asprintf(&dir, "%s/%.*s", c->dest, sl ? (int)(sl - kept) : 0, kept) < 0) {
				r = cm_error_set(err, -ENOMEM, "out of memory");
				break;
			}
			int dfd = bld_make_dirs(c, tree, dir, err);
			if (dfd < 0) {
				r = dfd;
				break;
			}
			const char *base;
			_cleanup_close_ int pfd = open_parent(c->src_root, m[i], &base);
			struct writer w = { c, err, strlen(m[i]), umask_now() };
			if (pfd < 0)
				r = cm_error_setx(err, pfd, "%s", m[i]);
			else if (!*kept)
				r = cm_error_set(err, -EINVAL, "COPY --parents %s: the source is the pivot itself", m[i]);
			else if ((r = put_entry(&w, pfd, base, m[i], dfd, sl ? sl + 1 : kept, 0)) < 0 && !err->code)
				cm_error_setx(err, r, "copying %s", m[i]);
			close(dfd);
		}
		bld_strv_free(m);
	}
	return r;
}

int bld_copy_write(const struct bld_copy *c, int tree, struct cm_error *err)
{
	if (c->parents)
		return write_parents(c, tree, err);
	char **srcs;
	size_t n;
	int r = bld_copy_resolve(c, &srcs, &n, err);
	if (r < 0)
		return r;
	size_t total = n + c->n_docs;
	size_t dl = strlen(c->dest);
	bool into = (dl && c->dest[dl - 1] == '/') || total > 1 || image_dir(c, c->dest);
	/* a lone source file into a path: that path is the file */
	struct writer w = { c, err, 0, umask_now() };
	_cleanup_free_ char *parent = NULL;
	const char *leaf = NULL;
	if (!into) {
		bool src_dir = false;
		if (n == 1) {
			const char *base;
			_cleanup_close_ int pfd = open_parent(c->src_root, srcs[0], &base);
			struct stat st;
			src_dir = pfd >= 0 && fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				  S_ISDIR(st.st_mode);
		}
		if (src_dir) {
			into = true;
		} else {
			const char *sl = strrchr(c->dest, '/');
			parent = strndup(c->dest, sl ? (size_t)(sl - c->dest) : 0);
			leaf = sl ? sl + 1 : c->dest;
			if (!parent || !*leaf) {
				bld_strv_free(srcs);
				return cm_error_set(err, -EINVAL, "%s: not a destination", c->dest);
			}
		}
	} else if (total > 1 && !(dl && c->dest[dl - 1] == '/') && !image_dir(c, c->dest)) {
		bld_strv_free(srcs);
		return cm_error_set(err, -EINVAL,
				    "When using COPY with more than one source file, the destination must be a directory and end with a /");
	}
	int dfd = bld_make_dirs(c, tree, into ? c->dest : parent, err);
	if (dfd < 0) {
		bld_strv_free(srcs);
		return dfd;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *base;
		_cleanup_close_ int pfd = open_parent(c->src_root, srcs[i], &base);
		struct stat st;
		w.srclen = strlen(srcs[i]);
		if (pfd < 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = cm_error_setx(err, pfd < 0 ? pfd : cm_neg_errno(), "%s", srcs[i]);
			break;
		}
		if (c->extract && S_ISREG(st.st_mode)) {
			/* ADD: a local tar is unpacked into the destination dir */
			_cleanup_close_ int af = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			bool is_ar = false;
			if (af < 0) {
				r = cm_error_setx(err, cm_neg_errno(), "%s", srcs[i]);
				break;
			}
			_cleanup_close_ int adir = -1;
			if (!into) {
				/* ADD x.tar /path: the tar's content goes in /path (a dir) */
				if (mkdirat(dfd, leaf, 0755) < 0 && errno != EEXIST) {
					r = cm_error_setx(err, cm_neg_errno(), "creating %s", c->dest);
					break;
				}
				adir = openat(dfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (adir < 0) {
					r = cm_error_setx(err, cm_neg_errno(), "opening %s", c->dest);
					break;
				}
			}
			if ((r = ims_unpack_archive_fd(af, into ? dfd : adir, &is_ar, err)) < 0)
				break;
			if (is_ar)
				continue;
			if (!into) { /* not an archive: the file itself at the path */
				cm_close(&adir);
				(void)unlinkat(dfd, leaf, AT_REMOVEDIR);
			}
		}
		if (S_ISDIR(st.st_mode)) {
			/* a dir's contents, not the dir itself, go into dest */
			_cleanup_close_ int sub = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char **names;
			size_t nn;
			if (sub < 0 || (r = list_sorted(sub, &names, &nn)) < 0) {
				r = cm_error_setx(err, sub < 0 ? cm_neg_errno() : r, "%s", srcs[i]);
				break;
			}
			for (size_t k = 0; r == 0 && k < nn; k++) {
				_cleanup_free_ char *p = join(srcs[i], names[k]);
				r = p ? put_entry(&w, sub, names[k], p, dfd, names[k], 0) : -ENOMEM;
			}
			bld_strv_free(names);
			/* the destination dir takes the source dir's metadata, as docker */
			if (r == 0 && !image_dir(c, c->dest) && *srcs[i]) {
				uid_t u;
				gid_t g;
				owner_of(&w, &st, &u, &g);
				if (fchown(dfd, u, g) < 0 || fchmod(dfd, c->chmod ? c->mode : st.st_mode & 07777) < 0)
					r = cm_neg_errno();
			}
		} else {
			const char *sl = strrchr(srcs[i], '/');
			r = put_entry(&w, pfd, base, srcs[i], dfd, into ? (sl ? sl + 1 : srcs[i]) : leaf, 0);
		}
		if (r < 0 && !err->code)
			cm_error_setx(err, r, "copying %s", srcs[i]);
	}
	for (size_t i = 0; r == 0 && i < c->n_docs; i++)
		r = put_heredoc(c, dfd, into ? c->docs[i].name : leaf, c->docs[i].body, err);
	close(dfd);
	bld_strv_free(srcs);
	return r;
}
