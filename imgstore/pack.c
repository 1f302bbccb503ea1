// SPDX-License-Identifier: MIT
/* Directory -> deterministic tar (after umoci's tar_generate.go): depth first,
 * siblings sorted, numeric owners, mtimes kept, no atime/ctime, hardlinks
 * kept, whiteouts as .wh. entries. Every access is fd-relative and never
 * follows a symlink: the tree (a container's rw branch) is untrusted. */
#include "ims-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define MAX_DEPTH 1024

bool ims_pack_keep_name(const char *name, enum ims_pack_mode mode)
{
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	enum cm_wh_kind k = cm_wh_classify(name, NULL);
	if (mode == IMS_PACK_ROOTFS)
		return k == CM_WH_NONE;
	return k == CM_WH_NONE || k == CM_WH_FILE || k == CM_WH_OPQ;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t ims_pack_sort_names(char **names, size_t n, enum ims_pack_mode mode)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (ims_pack_keep_name(names[i], mode))
			names[k++] = names[i];
		else
			free(names[i]);
	}
	if (k > 1)
		qsort(names, k, sizeof(char *), cmp_name);
	return k;
}

struct hlink {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct pack {
	struct archive *a;
	struct archive_entry *e;
	enum ims_pack_mode mode;
	ims_tee_fn out;
	void *ctx;
	struct cm_error *err;
	int64_t clamp; /* mtimes later than this become this (< 0: kept) */
	int failed;
	struct hlink *links;
	size_t nlinks, caplinks;
	char buf[1 << 16];
};

static la_ssize_t pack_write(struct archive *a, void *ud, const void *buf, size_t len)
{
	struct pack *p = ud;
	int r = p->out(p->ctx, buf, len, p->err);
	if (r < 0) {
		p->failed = r;
		archive_set_error(a, EIO, "output failed");
		return -1;
	}
	return (la_ssize_t)len;
}

static int tar_fail(struct pack *p, const char *path)
{
	if (p->failed)
		return p->failed;
	return cm_error_set(p->err, -EIO, "tar of '%s': %s", path, archive_error_string(p->a));
}

int ims_list_dir(int dfd, char ***ret, size_t *ret_n)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_neg_errno();
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r = 0;
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	if (r == 0 && errno)
		r = cm_neg_errno();
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* user.* and security.capability xattrs of fd, in name order. */
static int add_xattrs(struct pack *p, int fd, const char *path)
{
	char names[8192];
	ssize_t n = flistxattr(fd, names, sizeof(names));
	if (n < 0) {
		if (errno == ENOTSUP || errno == ERANGE)
			return 0;
		return cm_error_setx(p->err, cm_neg_errno(), "xattrs of '%s'", path);
	}
	char *v[256];
	size_t k = 0;
	for (char *q = names; q < names + n && k < CM_ARRAY_SIZE(v); q += strlen(q) + 1)
		if (strncmp(q, "user.", 5) == 0 || strcmp(q, "security.capability") == 0)
			v[k++] = q;
	if (k > 1)
		qsort(v, k, sizeof(char *), cmp_str);
	for (size_t i = 0; i < k; i++) {
		char val[4096];
		ssize_t l = fgetxattr(fd, v[i], val, sizeof(val));
		if (l < 0)
			continue; /* removed meanwhile, or too big for a layer */
		archive_entry_xattr_add_entry(p->e, v[i], val, (size_t)l);
	}
	return 0;
}

static void set_common(struct pack *p, const char *path, const struct stat *st)
{
	archive_entry_clear(p->e);
	archive_entry_set_pathname(p->e, path);
	archive_entry_set_uid(p->e, st->st_uid);
	archive_entry_set_gid(p->e, st->st_gid);
	archive_entry_set_perm(p->e, st->st_mode & 07777);
	int64_t t = st->st_mtim.tv_sec;
	if (p->clamp >= 0 && t > p->clamp)
		t = p->clamp;
	archive_entry_set_mtime(p->e, t, 0);
}

static int write_whiteout(struct pack *p, const char *path)
{
	struct stat st = { .st_mode = 0444 };
	set_common(p, path, &st);
	archive_entry_set_filetype(p->e, AE_IFREG);
	archive_entry_set_size(p->e, 0);
	if (archive_write_header(p->a, p->e) != ARCHIVE_OK)
		return tar_fail(p, path);
	return 0;
}

static int write_file(struct pack *p, int dfd, const char *name, const char *path)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
						   O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(p->err, cm_neg_errno(), "opening '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return cm_error_setx(p->err, cm_neg_errno(), "stat of '%s'", path);
	if (!S_ISREG(st.st_mode))
		return cm_error_set(p->err, -EAGAIN, "'%s' changed type while being read; try again",
				    path);
	set_common(p, path, &st);
	archive_entry_set_filetype(p->e, AE_IFREG);
	if (st.st_nlink > 1) {
		for (size_t i = 0; i < p->nlinks; i++) {
			if (p->links[i].dev != st.st_dev || p->links[i].ino != st.st_ino)
				continue;
			archive_entry_set_hardlink(p->e, p->links[i].path);
			archive_entry_set_size(p->e, 0);
			if (archive_write_header(p->a, p->e) != ARCHIVE_OK)
				return tar_fail(p, path);
			return 0;
		}
		if (p->nlinks == p->caplinks) {
			size_t nc = p->caplinks ? p->caplinks * 2 : 16;
			struct hlink *nl = realloc(p->links, nc * sizeof(*nl));
			if (!nl)
				return cm_error_set(p->err, -ENOMEM, "out of memory");
			p->links = nl;
			p->caplinks = nc;
		}
		if (!(p->links[p->nlinks].path = strdup(path)))
			return cm_error_set(p->err, -ENOMEM, "out of memory");
		p->links[p->nlinks].dev = st.st_dev;
		p->links[p->nlinks].ino = st.st_ino;
		p->nlinks++;
	}
	archive_entry_set_size(p->e, st.st_size);
	int r = add_xattrs(p, fd, path);
	if (r < 0)
		return r;
	if (archive_write_header(p->a, p->e) != ARCHIVE_OK)
		return tar_fail(p, path);
	/* the file may change under a running container: exactly st_size bytes */
	int64_t left = st.st_size;
	while (left > 0) {
		size_t want = left > (int64_t)sizeof(p->buf) ? sizeof(p->buf) : (size_t)left;
		ssize_t k = read(fd, p->buf, want);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return cm_error_setx(p->err, cm_neg_errno(), "reading '%s'", path);
		if (k == 0) { /* shrank: pad */
			memset(p->buf, 0, want);
			k = (ssize_t)want;
		}
		if (archive_write_data(p->a, p->buf, (size_t)k) < 0)
			return tar_fail(p, path);
		left -= k;
	}
	return 0;
}

static int pack_dir(struct pack *p, int dfd, const char *rel, int depth);

static int pack_entry(struct pack *p, int dfd, const char *name, const char *rel, int depth)
{
	char path[PATH_MAX + 2];
	int n = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", name);
	if (n < 0 || n >= PATH_MAX)
		return cm_error_set(p->err, -ENAMETOOLONG, "path too long under '%s'", rel);
	const char *hidden = NULL;
	enum cm_wh_kind k = cm_wh_classify(name, &hidden);
	if (k == CM_WH_FILE) {
		char tp[PATH_MAX + 2];
		snprintf(tp, sizeof(tp), "%s%s%s", rel, *rel ? "/" : "", hidden);
		if (p->mode != IMS_PACK_ROOTFS && ims_init_path(tp))
			return 0; /* a container's rm of an init-layer file */
	}
	if (p->mode != IMS_PACK_ROOTFS && ims_init_path(path))
		return 0; /* the init layer's files stay out of commits */
	if (k == CM_WH_FILE || k == CM_WH_OPQ)
		return write_whiteout(p, path);
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0; /* removed meanwhile */
		return cm_error_setx(p->err, cm_neg_errno(), "stat of '%s'", path);
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return write_file(p, dfd, name, path);
	case S_IFDIR: {
		_cleanup_close_ int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							   O_CLOEXEC);
		if (sub < 0)
			return cm_error_setx(p->err, cm_neg_errno(), "opening '%s'", path);
		if (fstat(sub, &st) < 0)
			return cm_error_setx(p->err, cm_neg_errno(), "stat of '%s'", path);
		char dpath[PATH_MAX + 3];
		snprintf(dpath, sizeof(dpath), "%s/", path);
		set_common(p, dpath, &st);
		archive_entry_set_filetype(p->e, AE_IFDIR);
		int r = add_xattrs(p, sub, path);
		if (r < 0)
			return r;
		if (archive_write_header(p->a, p->e) != ARCHIVE_OK)
			return tar_fail(p, path);
		return pack_dir(p, sub, path, depth + 1);
	}
	case S_IFLNK: {
		char target[PATH_MAX + 1];
		ssize_t l = readlinkat(dfd, name, target, PATH_MAX);
		if (l < 0)
			return cm_error_setx(p->err, cm_neg_errno(), "readlink of '%s'", path);
		target[l] = '\0';
		set_common(p, path, &st);
		archive_entry_set_filetype(p->e, AE_IFLNK);
		archive_entry_set_symlink(p->e, target);
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		set_common(p, path, &st);
		archive_entry_set_filetype(p->e, S_ISCHR(st.st_mode) ? AE_IFCHR :
						 S_ISBLK(st.st_mode) ? AE_IFBLK : AE_IFIFO);
		if (!S_ISFIFO(st.st_mode)) {
			archive_entry_set_rdevmajor(p->e, major(st.st_rdev));
			archive_entry_set_rdevminor(p->e, minor(st.st_rdev));
		}
		break;
	default:
		return 0; /* sockets have no tar form */
	}
	if (archive_write_header(p->a, p->e) != ARCHIVE_OK)
		return tar_fail(p, path);
	return 0;
}

static int pack_dir(struct pack *p, int dfd, const char *rel, int depth)
{
	if (depth > MAX_DEPTH)
		return cm_error_set(p->err, -ELOOP, "'%s': tree too deep", rel);
	char **names = NULL;
	size_t n = 0;
	int r = ims_list_dir(dfd, &names, &n);
	if (r < 0)
		return cm_error_setx(p->err, r, "listing '%s'", *rel ? rel : "/");
	n = ims_pack_sort_names(names, n, p->mode);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = pack_entry(p, dfd, names[i], rel, depth);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

int ims_pack_tree(int rootfd, enum ims_pack_mode mode, ims_tee_fn out, void *ctx,
		  struct cm_error *err)
{
	return ims_pack_tree_clamped(rootfd, mode, -1, out, ctx, err);
}

int ims_pack_tree_clamped(int rootfd, enum ims_pack_mode mode, int64_t clamp, ims_tee_fn out,
			  void *ctx, struct cm_error *err)
{
	struct pack *p = calloc(1, sizeof(*p));
	if (!p)
		return cm_error_set(err, -ENOMEM, "out of memory");
	p->mode = mode;
	p->clamp = clamp;
	p->out = out;
	p->ctx = ctx;
	p->err = err;
	p->a = archive_write_new();
	p->e = archive_entry_new();
	int r = 0;
	if (!p->a || !p->e) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* ustar, plus pax records only for what ustar cannot hold */
	archive_write_set_format_pax_restricted(p->a);
	archive_write_set_bytes_per_block(p->a, 10240);
	archive_write_set_bytes_in_last_block(p->a, 1);
	if (archive_write_open2(p->a, p, NULL, pack_write, NULL, NULL) != ARCHIVE_OK) {
		r = tar_fail(p, "");
		goto out;
	}
	r = pack_dir(p, rootfd, "", 0);
	if (r >= 0 && archive_write_close(p->a) != ARCHIVE_OK)
		r = tar_fail(p, "");
out:
	if (p->a)
		archive_write_free(p->a);
	if (p->e)
		archive_entry_free(p->e);
	for (size_t i = 0; i < p->nlinks; i++)
		free(p->links[i].path);
	free(p->links);
	free(p);
	return r < 0 ? r : 0;
}
