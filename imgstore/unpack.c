// SPDX-License-Identifier: MIT
/* Layer tar -> directory in the branch format of docs/format.md. libarchive
 * reads; every write is ours, fd-relative from the layer root: parents are
 * resolved with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, the last component is
 * created O_EXCL|O_NOFOLLOW, so no entry can write through a symlink or climb
 * out (after umoci's tar_extract.go; refusals follow SECURITY.md). */
#include "ims-internal.h"
#include "gunzip.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <xxhash.h>

#define MAX_ENTRY_SIZE ((int64_t)1 << 40)
#define MAX_MAJOR 0xfffu
#define MAX_MINOR 0xfffffu

struct dirfix {
	char *path;
	mode_t mode;
	struct timespec mtime;
};

struct unpack {
	int rootfd;
	bool root;
	struct dirfix *dirs;
	size_t ndirs, capdirs;
	struct ims_strmap dirpos;   /* path -> index in dirs + 1 */
	struct cm_error *err;
	struct ims_known *known; /* NULL: no hashes taken */
	XXH3_state_t *xs;        /* the current file's, with known */
	char path[PATH_MAX];  /* cleaned path of the current entry */
};

static int refuse(struct unpack *u, const char *raw, const char *why)
{
	return cm_error_set(u->err, -EINVAL, "refusing archive entry '%s': %s", raw, why);
}

/* Open (creating missing components as 0755 dirs) the directory rel below the
 * root, never following a symlink. */
static int open_parent(struct unpack *u, const char *rel, const char *raw, int *ret)
{
	if (!*rel) {
		int fd = openat(u->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "opening layer root");
		*ret = fd;
		return 0;
	}
	int fd = cm_openat_beneath(u->rootfd, rel, O_PATH | O_DIRECTORY, 0, true);
	if (fd >= 0) {
		*ret = fd;
		return 0;
	}
	if (fd == -ELOOP || fd == -ENOTDIR || fd == -EXDEV)
		return refuse(u, raw, "its parent is a symlink or not a directory");
	if (fd != -ENOENT)
		return cm_error_setx(u->err, fd, "resolving the parent of '%s'", raw);
	/* walk and create */
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", rel);
	_cleanup_close_ int cur = openat(u->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return cm_error_setx(u->err, cm_neg_errno(), "opening layer root");
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST)
				return cm_error_setx(u->err, cm_neg_errno(), "creating a parent of '%s'", raw);
			next = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next >= 0)
				fchmodat(cur, c, 0755, 0);
		}
		if (next < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				return refuse(u, raw, "its parent is a symlink or not a directory");
			return cm_error_setx(u->err, cm_neg_errno(), "resolving the parent of '%s'", raw);
		}
		close(cur);
		cur = next;
	}
	*ret = TAKE_FD(cur);
	return 0;
}

static int set_xattrs(struct unpack *u, struct archive_entry *e, int fd, const char *raw)
{
	const char *name;
	const void *val;
	size_t size;
	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (strncmp(name, "user.", 5) != 0 && strcmp(name, "security.capability") != 0)
			continue; /* trusted.*, system.*, selinux labels: not ours to set */
		if (fsetxattr(fd, name, val, size, 0) < 0 && errno != ENOTSUP &&
		    errno != EPERM)
			return cm_error_setx(u->err, cm_neg_errno(), "xattr %s on '%s'", name, raw);
	}
	return 0;
}

/* A hole of a sparse entry reads as zeros: hashed as such. */
static void hash_zeros(XXH3_state_t *xs, int64_t n)
{
	static const char zeros[64 << 10];
	for (; n > 0; n -= (int64_t)sizeof(zeros))
		XXH3_64bits_update(xs, zeros, n < (int64_t)sizeof(zeros) ? (size_t)n : sizeof(zeros));
}

static int write_data(struct unpack *u, struct archive *a, int fd, int64_t size,
		      const char *raw)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int64_t pos = 0;
	if (u->xs)
		XXH3_64bits_reset(u->xs);
	for (;;) {
		int ar = archive_read_data_block(a, &buf, &len, &off);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN)
			return cm_error_set(u->err, -EIO, "reading '%s': %s", raw,
					    archive_error_string(a));
		if (off < pos || off + (int64_t)len > size)
			return refuse(u, raw, "data beyond its declared size");
		if (off > pos && lseek(fd, off, SEEK_SET) < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "seeking in '%s'", raw);
		int r = cm_write_all(fd, buf, len);
		if (r < 0)
			return cm_error_setx(u->err, r, "writing '%s'", raw);
		if (u->xs) {
			hash_zeros(u->xs, off - pos);
			XXH3_64bits_update(u->xs, buf, len);
		}
		pos = off + (int64_t)len;
	}
	if (pos < size && ftruncate(fd, size) < 0)
		return cm_error_setx(u->err, cm_neg_errno(), "writing '%s'", raw);
	if (u->xs) {
		hash_zeros(u->xs, size - pos);
		struct stat st;
		if (fstat(fd, &st) < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "stat of '%s'", raw);
		if (st.st_size == size &&
		    ims_known_put(u->known, st.st_dev, st.st_ino, size, XXH3_64bits_digest(u->xs)) < 0)
			return cm_error_set(u->err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int own(struct unpack *u, int dirfd, const char *name, int fd,
	       struct archive_entry *e, const char *raw)
{
	uid_t uid = (uid_t)archive_entry_uid(e);
	gid_t gid = (gid_t)archive_entry_gid(e);
	int r = fd >= 0 ? fchown(fd, uid, gid)
			: fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
	if (r < 0 && (u->root || errno != EPERM))
		return cm_error_setx(u->err, cm_neg_errno(), "chown of '%s'", raw);
	return 0;
}

static int push_dir(struct unpack *u, const char *path, struct archive_entry *e)
{
	/* the same dir twice in a layer: the last entry wins, as for files */
	uintptr_t at = (uintptr_t)ims_strmap_get(&u->dirpos, path);
	if (at) {
		struct dirfix *d = &u->dirs[at - 1];
		d->mode = archive_entry_perm(e) & 07777;
		d->mtime.tv_sec = archive_entry_mtime(e);
		d->mtime.tv_nsec = archive_entry_mtime_nsec(e);
		return 0;
	}
	if (ims_strmap_put(&u->dirpos, path, (void *)(uintptr_t)(u->ndirs + 1)) < 0)
		return cm_error_set(u->err, -ENOMEM, "out of memory");
	if (u->ndirs == u->capdirs) {
		size_t nc = u->capdirs ? u->capdirs * 2 : 64;
		struct dirfix *nd = realloc(u->dirs, nc * sizeof(*nd));
		if (!nd)
			return cm_error_set(u->err, -ENOMEM, "out of memory");
		u->dirs = nd;
		u->capdirs = nc;
	}
	struct dirfix *d = &u->dirs[u->ndirs];
	if (!(d->path = strdup(path)))
		return cm_error_set(u->err, -ENOMEM, "out of memory");
	d->mode = archive_entry_perm(e) & 07777;
	d->mtime.tv_sec = archive_entry_mtime(e);
	d->mtime.tv_nsec = archive_entry_mtime_nsec(e);
	u->ndirs++;
	return 0;
}

/* Remove whatever is at name unless both it and the new entry are dirs. */
static int clear_slot(struct unpack *u, int pfd, const char *name, bool newdir,
		      bool *ret_isdir, const char *raw)
{
	struct stat st;
	*ret_isdir = false;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return cm_error_setx(u->err, cm_neg_errno(), "stat of '%s'", raw);
	}
	if (S_ISDIR(st.st_mode)) {
		if (newdir) {
			*ret_isdir = true;
			return 0;
		}
		int r = cm_rm_rf_at(pfd, name);
		if (r < 0)
			return cm_error_setx(u->err, r, "replacing '%s'", raw);
		return 0;
	}
	if (unlinkat(pfd, name, 0) < 0)
		return cm_error_setx(u->err, cm_neg_errno(), "replacing '%s'", raw);
	return 0;
}

static int unpack_entry(struct unpack *u, struct archive *a, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e);
	if (!raw)
		return cm_error_set(u->err, -EINVAL, "refusing an archive entry without a name");
	int r = ims_path_clean(raw, u->path, sizeof(u->path));
	if (r == -EINVAL)
		return refuse(u, raw, "'..' escapes the layer root");
	if (r < 0)
		return refuse(u, raw, "name too long");

	mode_t type = archive_entry_filetype(e);
	const char *hl = archive_entry_hardlink(e);
	int64_t size = archive_entry_size(e);
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	if (uid < 0 || uid >= 0xffffffffLL || gid < 0 || gid >= 0xffffffffLL)
		return refuse(u, raw, "uid or gid out of range");
	if (size < 0 || size > MAX_ENTRY_SIZE)
		return refuse(u, raw, "size out of range");

	if (!u->path[0]) {
		/* '.' or '/': only a directory (umoci CVE-2021-29136) */
		if (type != AE_IFDIR || hl)
			return refuse(u, raw, "the root entry is not a directory");
		_cleanup_close_ int rfd = openat(u->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rfd < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "opening layer root");
		if ((r = own(u, -1, NULL, rfd, e, raw)) < 0)
			return r;
		return push_dir(u, "", e);
	}

	char *slash = strrchr(u->path, '/');
	const char *base = slash ? slash + 1 : u->path;
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - u->path) : 0, u->path);

	const char *target = NULL;
	enum cm_wh_kind wk = cm_wh_classify(base, &target);
	if (wk == CM_WH_INVALID)
		return refuse(u, raw, "invalid whiteout name");
	if (wk == CM_WH_META)
		return 0; /* private names of another store: never part of a layer */

	/* a whiteout name is never a directory of a layer */
	for (const char *c = parent; *c;) {
		const char *e2 = strchr(c, '/');
		size_t l = e2 ? (size_t)(e2 - c) : strlen(c);
		if (l >= CM_WH_PREFIX_LEN && strncmp(c, CM_WH_PREFIX, CM_WH_PREFIX_LEN) == 0) {
			if (l >= sizeof(CM_WH_META_PREFIX) - 1 &&
			    strncmp(c, CM_WH_META_PREFIX, sizeof(CM_WH_META_PREFIX) - 1) == 0)
				return 0; /* inside private metadata: skipped */
			return refuse(u, raw, "a whiteout used as a directory");
		}
		if (!e2)
			break;
		c = e2 + 1;
	}

	_cleanup_close_ int pfd = -1;
	if ((r = open_parent(u, parent, raw, &pfd)) < 0)
		return r;

	if (wk == CM_WH_FILE || wk == CM_WH_OPQ) {
		/* kept as a file, exactly as ufsmount writes it (docs/format.md);
		 * it hides only lower layers, never what this layer wrote */
		bool isdir;
		if ((r = clear_slot(u, pfd, base, false, &isdir, raw)) < 0)
			return r;
		_cleanup_close_ int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL |
						       O_NOFOLLOW | O_CLOEXEC, 0444);
		if (fd < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "creating whiteout '%s'", raw);
		fchmod(fd, 0444);
		return 0;
	}

	if (hl) {
		char tpath[PATH_MAX];
		r = ims_path_clean(hl, tpath, sizeof(tpath));
		if (r == -EINVAL)
			return refuse(u, raw, "hardlink target escapes the layer root");
		if (r < 0 || !tpath[0])
			return refuse(u, raw, "bad hardlink target");
		char *ts = strrchr(tpath, '/');
		const char *tbase = ts ? ts + 1 : tpath;
		char tparent[PATH_MAX];
		snprintf(tparent, sizeof(tparent), "%.*s", ts ? (int)(ts - tpath) : 0, tpath);
		_cleanup_close_ int tfd = -1;
		if (!tparent[0])
			tfd = openat(u->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		else
			tfd = cm_openat_beneath(u->rootfd, tparent, O_PATH | O_DIRECTORY, 0, true);
		if (tfd < 0)
			return refuse(u, raw, "hardlink target is not inside this layer");
		struct stat st;
		if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return refuse(u, raw, "hardlink target is not inside this layer");
		if (S_ISDIR(st.st_mode))
			return refuse(u, raw, "hardlink to a directory");
		if (strcmp(tpath, u->path) == 0)
			return 0;
		bool isdir;
		if ((r = clear_slot(u, pfd, base, false, &isdir, raw)) < 0)
			return r;
		/* no AT_SYMLINK_FOLLOW: a link to a symlink links the symlink */
		if (linkat(tfd, tbase, pfd, base, 0) < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "hardlink '%s'", raw);
		return 0;
	}

	bool isdir = false;
	if ((r = clear_slot(u, pfd, base, type == AE_IFDIR, &isdir, raw)) < 0)
		return r;
	struct timespec ts[2] = {
		{ archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
		{ archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
	};
	mode_t perm = archive_entry_perm(e) & 07777;

	switch (type) {
	case AE_IFREG: {
		_cleanup_close_ int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL |
						       O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "creating '%s'", raw);
		if ((r = write_data(u, a, fd, size, raw)) < 0)
			return r;
		if ((r = own(u, pfd, base, fd, e, raw)) < 0)
			return r;
		if (fchmod(fd, perm) < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "chmod of '%s'", raw);
		if ((r = set_xattrs(u, e, fd, raw)) < 0)
			return r;
		futimens(fd, ts);
		return 0;
	}
	case AE_IFDIR: {
		if (!isdir && mkdirat(pfd, base, 0700) < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "mkdir '%s'", raw);
		_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY |
						       O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "opening '%s'", raw);
		if ((r = own(u, pfd, base, fd, e, raw)) < 0)
			return r;
		if ((r = set_xattrs(u, e, fd, raw)) < 0)
			return r;
		return push_dir(u, u->path, e);
	}
	case AE_IFLNK: {
		const char *t = archive_entry_symlink(e);
		if (!t || !*t)
			return refuse(u, raw, "symlink without a target");
		/* stored verbatim: absolute targets are legitimate (var/run -> /run) */
		if (symlinkat(t, pfd, base) < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "symlink '%s'", raw);
		if ((r = own(u, pfd, base, -1, e, raw)) < 0)
			return r;
		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		dev_t dev = 0;
		if (type != AE_IFIFO) {
			la_int64_t ma = archive_entry_rdevmajor(e), mi = archive_entry_rdevminor(e);
			if (ma < 0 || ma > MAX_MAJOR || mi < 0 || mi > MAX_MINOR)
				return refuse(u, raw, "device number out of range");
			dev = makedev((unsigned)ma, (unsigned)mi);
		}
		mode_t m = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
		if (mknodat(pfd, base, m | 0600, dev) < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "mknod '%s'", raw);
		if ((r = own(u, pfd, base, -1, e, raw)) < 0)
			return r;
		if (fchmodat(pfd, base, perm, 0) < 0)
			return cm_error_setx(u->err, cm_neg_errno(), "chmod of '%s'", raw);
		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	default:
		return refuse(u, raw, "unsupported file type");
	}
}

static void fix_dirs(struct unpack *u)
{
	for (size_t i = u->ndirs; i-- > 0;) {
		struct dirfix *d = &u->dirs[i];
		_cleanup_close_ int fd = -1;
		if (!d->path[0])
			fd = openat(u->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		else
			fd = cm_openat_beneath(u->rootfd, d->path, O_RDONLY | O_DIRECTORY, 0, true);
		if (fd < 0)
			continue; /* replaced later by a non-directory */
		struct timespec ts[2] = { d->mtime, d->mtime };
		fchmod(fd, d->mode);
		futimens(fd, ts);
	}
}

int ims_unpack_entries(struct archive *a, int dirfd, struct cm_error *err)
{
	return ims_unpack_entries_checked(a, dirfd, NULL, NULL, NULL, err);
}

int ims_unpack_entries_checked(struct archive *a, int dirfd,
			       int (*check)(void *ctx, struct archive *a, const char *name,
					    struct cm_error *err),
			       void *ctx, struct ims_known *known, struct cm_error *err)
{
	struct unpack u = { .rootfd = dirfd, .root = geteuid() == 0, .err = err, .known = known };
	struct archive_entry *e;
	int r = 0;
	if (known && !(u.xs = XXH3_createState()))
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (;;) {
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			r = cm_error_set(err, -EBADMSG, "reading the layer tar: %s",
					 archive_error_string(a));
			break;
		}
		if (check && (r = check(ctx, a, archive_entry_pathname(e), err)) < 0)
			break;
		if ((r = unpack_entry(&u, a, e)) < 0)
			break;
	}
	if (r == 0)
		fix_dirs(&u);
	for (size_t i = 0; i < u.ndirs; i++)
		free(u.dirs[i].path);
	free(u.dirs);
	ims_strmap_free(&u.dirpos);
	if (u.xs)
		XXH3_freeState(u.xs);
	return r;
}

bool ims_layer_exists(struct ims_store *s, const char *diffid)
{
	return cm_digest_valid(diffid) &&
	       faccessat(s->layersfd, diffid + 7, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A layer's stages run on two threads, so one layer keeps two cores busy
 * (perf on img pull of a 1-layer image: the unpack thread was the critical
 * path, its CPU about 40% sha256 of the tar stream, the rest inflate, tar
 * parsing and file writes): a decompressor thread reads the raw stream,
 * inflates, hashes the diff_id and feeds the caller's tee; the unpack
 * reads its buffers from a queue of QUEUE_SLOTS (bounded: at most that
 * many bytes decompressed ahead of the writes). */
#define QUEUE_SLOTS 4

struct tee_queue {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf[QUEUE_SLOTS];
	size_t len[QUEUE_SLOTS];
	unsigned head, tail; /* filled: tail..head-1, the one at tail lent to the tar reader */
	bool lent;           /* the tar reader holds buf[tail % QUEUE_SLOTS] */
	bool done;           /* the decompressor is through (end, failure or stop) */
	bool stop;           /* the unpack wants no more */
	int failed;          /* the decompressor's error, its message in err */
	struct cm_error err;
};

/* The tar reader pulls decompressed bytes from the raw reader through here,
 * so the diff_id (and the caller's tee) see exactly the tar stream. */
struct tee_src {
	struct archive *raw;     /* libarchive's filters (zstd, xz, plain tar), or */
	struct ims_gunzip *gz;   /* a gzip stream (most layers) */
	int fd;
	unsigned char *pbuf;     /* raw's input: first the bytes raw_open read */
	size_t npeek;
	struct cm_sha256 h;
	ims_tee_fn tee;
	void *ctx;
	struct cm_error *err;
	int failed;       /* negative errno of a tee or raw failure */
	char *buf;
	size_t bufsz;
	const char *cur;  /* what the tar reader was given last */
	unsigned char *ring; /* the last RING_SIZE bytes of the tar stream, or NULL */
	int64_t total;    /* bytes of the tar stream so far */
	struct tee_queue *q; /* NULL: all on the caller's thread */
};

/* The tar headers of an entry are read again from here: libarchive takes an
 * unknown typeflag as a regular file (POSIX says so), we refuse it. */
#define RING_SIZE ((size_t)2 << 20)
#define PEEK_BUF ((size_t)256 << 10)

static void ring_add(struct tee_src *t, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	if (len > RING_SIZE) {
		t->total += (int64_t)(len - RING_SIZE);
		p += len - RING_SIZE;
		len = RING_SIZE;
	}
	while (len > 0) {
		size_t at = (size_t)t->total & (RING_SIZE - 1);
		size_t k = RING_SIZE - at < len ? RING_SIZE - at : len;
		memcpy(t->ring + at, p, k);
		t->total += (int64_t)k;
		p += k;
		len -= k;
	}
}

static bool ring_block(const struct tee_src *t, int64_t off, unsigned char out[512])
{
	if (off < 0 || off + 512 > t->total || off < t->total - (int64_t)RING_SIZE)
		return false;
	for (size_t i = 0; i < 512; i++)
		out[i] = t->ring[(size_t)(off + (int64_t)i) & (RING_SIZE - 1)];
	return true;
}

static int64_t tar_size(const unsigned char *h)
{
	int64_t v = 0;
	if (h[124] & 0x80) { /* base-256 */
		for (int i = 125; i < 136; i++)
			v = (v << 8) | h[i];
		return v;
	}
	for (int i = 124; i < 136 && h[i]; i++)
		if (h[i] >= '0' && h[i] <= '7')
			v = v * 8 + (h[i] - '0');
	return v;
}

/* Walk the entry's header blocks (extensions first) from where libarchive
 * started reading it, and refuse a typeflag that is none of POSIX's. */
static int check_typeflag(void *ctx, struct archive *a, const char *name, struct cm_error *err)
{
	struct tee_src *t = ctx;
	int64_t off = archive_read_header_position(a);
	unsigned char h[512];
	for (int hop = 0; hop < 16; hop++) {
		if (!ring_block(t, off, h))
			return cm_error_set(err, -EINVAL, "refusing archive entry '%s': its tar headers are too large to check",
					    name ? name : "");
		unsigned char f = h[156];
		if (f == 'x' || f == 'g' || f == 'L' || f == 'K') {
			int64_t sz = tar_size(h);
			if (sz < 0 || sz > (int64_t)RING_SIZE)
				break;
			off += 512 + ((sz + 511) & ~(int64_t)511);
			continue;
		}
		if (f == 0 || (f >= '0' && f <= '7'))
			return 0;
		if (f >= 0x20 && f < 0x7f)
			return cm_error_set(err, -EINVAL, "refusing archive entry '%s': unknown tar typeflag '%c'",
					    name ? name : "", f);
		return cm_error_set(err, -EINVAL, "refusing archive entry '%s': unknown tar typeflag 0x%02x",
				    name ? name : "", f);
	}
	return cm_error_set(err, -EINVAL, "refusing archive entry '%s': its tar headers are too large to check",
			    name ? name : "");
}

/* The next decompressed bytes into buf, hashed and teed: their count, 0 at
 * the end, or a negative errno with err set. */
static ssize_t decompress(struct tee_src *t, char *buf, struct cm_error *err)
{
	ssize_t n;
	if (t->gz) {
		n = ims_gunzip_read(t->gz, buf, t->bufsz, err);
	} else if ((n = archive_read_data(t->raw, buf, t->bufsz)) < 0) {
		return cm_error_set(err, -EBADMSG, "decompressing the layer: %s",
				    archive_error_string(t->raw));
	}
	if (n > 0) {
		cm_sha256_update(&t->h, buf, (size_t)n);
		if (t->tee) {
			int r = t->tee(t->ctx, buf, (size_t)n, err);
			if (r < 0)
				return r;
		}
	}
	return n;
}

static void *decompress_thread(void *ud)
{
	struct tee_src *t = ud;
	struct tee_queue *q = t->q;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && q->head - q->tail == QUEUE_SLOTS)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop)
			break;
		char *buf = q->buf[q->head % QUEUE_SLOTS];
		pthread_mutex_unlock(&q->mu);
		ssize_t n = decompress(t, buf, &q->err);
		pthread_mutex_lock(&q->mu);
		if (n <= 0) {
			q->failed = (int)n;
			break;
		}
		q->len[q->head % QUEUE_SLOTS] = (size_t)n;
		q->head++;
		pthread_cond_broadcast(&q->cv);
	}
	q->done = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* The decompressor's next buffer (the one lent before is given back). */
static ssize_t queue_pop(struct tee_src *t)
{
	struct tee_queue *q = t->q;
	ssize_t n;
	pthread_mutex_lock(&q->mu);
	if (q->lent) {
		q->tail++;
		q->lent = false;
		pthread_cond_broadcast(&q->cv);
	}
	while (q->head == q->tail && !q->done)
		pthread_cond_wait(&q->cv, &q->mu);
	if (q->head != q->tail) {
		t->cur = q->buf[q->tail % QUEUE_SLOTS];
		n = (ssize_t)q->len[q->tail % QUEUE_SLOTS];
		q->lent = true;
	} else if (q->failed < 0) {
		if (t->err)
			*t->err = q->err;
		n = t->failed = q->failed;
	} else {
		n = 0;
	}
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* Start the decompressor thread; without one (no memory, no thread) the
 * stages stay on the caller's thread. */
static void queue_start(struct tee_src *t)
{
	struct tee_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return;
	for (int i = 0; i < QUEUE_SLOTS; i++)
		if (!(q->buf[i] = malloc(t->bufsz)))
			goto fail;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	t->q = q;
	if (pthread_create(&q->th, NULL, decompress_thread, t) == 0)
		return;
	t->q = NULL;
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
fail:
	for (int i = 0; i < QUEUE_SLOTS; i++)
		free(q->buf[i]);
	free(q);
}

/* Stop the decompressor (if still running) and wait for it: after this t->h
 * holds the hash of all it read. */
static void queue_stop(struct tee_src *t)
{
	struct tee_queue *q = t->q;
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->th, NULL);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	for (int i = 0; i < QUEUE_SLOTS; i++)
		free(q->buf[i]);
	free(q);
	t->q = NULL;
}

static ssize_t tee_pull(struct tee_src *t)
{
	ssize_t n;
	if (t->q) {
		n = queue_pop(t);
	} else {
		t->cur = t->buf;
		n = decompress(t, t->buf, t->err);
		if (n < 0)
			t->failed = (int)n;
	}
	if (n > 0 && t->ring)
		ring_add(t, t->cur, (size_t)n);
	return n < 0 ? -1 : n;
}

static la_ssize_t tee_read(struct archive *a, void *ud, const void **buf)
{
	struct tee_src *t = ud;
	ssize_t n = tee_pull(t);
	if (n < 0) {
		/* the reason (a corrupt or truncated stream) goes up with the
		 * entry being read */
		archive_set_error(a, EIO, "%s", t->err && t->err->msg[0] ? t->err->msg : "layer stream failed");
		return -1;
	}
	*buf = t->cur;
	return n;
}

/* libarchive's input: the bytes raw_open read, then the rest of the fd. */
static la_ssize_t peek_read(struct archive *a, void *ud, const void **buf)
{
	struct tee_src *t = ud;
	ssize_t n;
	*buf = t->pbuf;
	if (t->npeek) {
		n = (ssize_t)t->npeek;
		t->npeek = 0;
		return n;
	}
	do
		n = read(t->fd, t->pbuf, PEEK_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		archive_set_error(a, errno, "reading the layer");
	return n;
}

/* Open the layer stream on fd: gzip (by its magic) is inflated with ISA-L
 * (gunzip.c), anything else goes through libarchive's filters. */
static int raw_open(struct tee_src *t, int fd, struct cm_error *err)
{
	struct archive_entry *e;
	ssize_t n;
	t->fd = fd;
	if (!(t->pbuf = malloc(PEEK_BUF)))
		return cm_error_set(err, -ENOMEM, "out of memory");
	while (t->npeek < 3) {
		n = read(fd, t->pbuf + t->npeek, PEEK_BUF - t->npeek);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cm_error_setx(err, cm_neg_errno(), "reading the layer");
		if (n == 0)
			break;
		t->npeek += (size_t)n;
	}
	if (ims_gunzip_magic(t->pbuf, t->npeek)) {
		if (ims_gunzip_new(&t->gz, fd, t->pbuf, t->npeek) < 0)
			return cm_error_set(err, -ENOMEM, "out of memory");
		return 0;
	}
	if (!(t->raw = archive_read_new()))
		return cm_error_set(err, -ENOMEM, "out of memory");
	archive_read_support_filter_all(t->raw);
	archive_read_support_format_raw(t->raw);
	if (archive_read_open(t->raw, t, NULL, peek_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(t->raw, &e) != ARCHIVE_OK)
		return cm_error_set(err, -EBADMSG, "reading the layer: %s",
				    archive_error_string(t->raw) ? archive_error_string(t->raw)
								 : "empty stream");
	return 0;
}

static void raw_close(struct tee_src *t)
{
	if (t->raw)
		archive_read_free(t->raw);
	ims_gunzip_free(t->gz);
	free(t->pbuf);
}

int ims_layer_unpack_fd(struct ims_store *s, int fd, const char *expect_diffid,
			ims_tee_fn tee, void *tee_ctx,
			char ret_diffid[CM_DIGEST_STR_LEN], struct cm_error *err)
{
	struct tee_src t = { .tee = tee, .ctx = tee_ctx, .err = err, .bufsz = 256 << 10 };
	struct ims_known known = { 0 };
	struct archive *tar = NULL;
	char tmp[64];
	bool made = false;
	int r;
	_cleanup_close_ int dfd = -1;

	if (expect_diffid && !cm_digest_valid(expect_diffid))
		return cm_error_set(err, -EINVAL, "invalid diff_id '%s'", expect_diffid);
	if ((r = cm_sha256_init(&t.h)) < 0)
		return cm_error_set(err, r, "out of memory");
	t.buf = malloc(t.bufsz);
	t.ring = malloc(RING_SIZE);
	if (!t.buf || !t.ring) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = raw_open(&t, fd, err)) < 0)
		goto out;

	ims_tmpname(tmp, sizeof(tmp), "layer");
	if (mkdirat(s->tmpfd, tmp, 0755) < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "creating %s/tmp/%s", s->root, tmp);
		goto out;
	}
	made = true;
	dfd = openat(s->tmpfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "opening %s/tmp/%s", s->root, tmp);
		goto out;
	}
	fchmod(dfd, 0755);

	tar = archive_read_new();
	if (!tar) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	archive_read_support_format_tar(tar);
	queue_start(&t);
	if (archive_read_open(tar, &t, NULL, tee_read, NULL) != ARCHIVE_OK) {
		r = t.failed ? t.failed
			     : cm_error_set(err, -EBADMSG, "the layer is not a tar archive: %s",
					    archive_error_string(tar));
		goto out;
	}
	r = ims_unpack_entries_checked(tar, dfd, check_typeflag, &t, &known, err);
	if (r < 0) {
		if (t.failed)
			r = t.failed;
		goto out;
	}
	/* hash what follows the end-of-archive blocks too: the diff_id covers
	 * the whole stream, and a truncated compressed stream fails here */
	ssize_t n;
	while ((n = tee_pull(&t)) > 0)
		;
	if (n < 0) {
		r = t.failed;
		goto out;
	}
	queue_stop(&t); /* through: t.h has hashed the whole stream */
	char d[CM_DIGEST_STR_LEN];
	cm_sha256_final(&t.h, d);
	if (expect_diffid && strcmp(d, expect_diffid) != 0) {
		r = cm_error_set(err, -EBADMSG, "layer diff_id mismatch: got %s, expected %s",
				 d, expect_diffid);
		goto out;
	}
	if (!ims_layer_exists(s, d)) {
		if ((r = ims_layer_manifest_write_known(s, dfd, d, &known, err)) < 0)
			goto out;
		if (s->batch) { /* renamed into layers/ after the batch's syncfs */
			if ((r = ims_batch_add(s, IMS_PEND_DIR, s->tmpfd, tmp, s->layersfd, d + 7, err)) < 0)
				goto out;
			made = false;
		} else if (syncfs(dfd) < 0) {
			r = cm_error_setx(err, cm_neg_errno(), "syncing layer %s", d);
			goto out;
		}
		if (s->batch) {
			/* queued above */
		} else if (renameat2(s->tmpfd, tmp, s->layersfd, d + 7, RENAME_NOREPLACE) < 0) {
			if (errno != EEXIST && errno != ENOTEMPTY) {
				r = cm_error_setx(err, cm_neg_errno(), "publishing layer %s", d);
				goto out;
			}
		} else {
			made = false;
			r = cm_fsync_dirfd(s->layersfd);
			if (r < 0) {
				cm_error_setx(err, r, "fsync of %s/layers", s->root);
				goto out;
			}
		}
	}
	memcpy(ret_diffid, d, CM_DIGEST_STR_LEN);
	r = 0;
out:
	queue_stop(&t);
	if (tar)
		archive_read_free(tar);
	raw_close(&t);
	cm_sha256_done(&t.h);
	free(t.buf);
	free(t.ring);
	ims_known_free(&known);
	if (made)
		cm_rm_rf_at(s->tmpfd, tmp);
	return r;
}

int ims_layer_diffid_fd(int fd, char ret[CM_DIGEST_STR_LEN], struct cm_error *err)
{
	struct tee_src t = { .err = err, .bufsz = 256 << 10 };
	int r = cm_sha256_init(&t.h);
	if (r < 0)
		return cm_error_set(err, r, "out of memory");
	if (!(t.buf = malloc(t.bufsz))) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = raw_open(&t, fd, err)) < 0)
		goto out;
	ssize_t n;
	while ((n = tee_pull(&t)) > 0)
		;
	if (n < 0) {
		r = t.failed;
		goto out;
	}
	cm_sha256_final(&t.h, ret);
out:
	raw_close(&t);
	cm_sha256_done(&t.h);
	free(t.buf);
	return r;
}

int ims_unpack_archive_fd(int fd, int dirfd, bool *ret_is_archive, struct cm_error *err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return cm_error_set(err, -ENOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	int r = 0;
	*ret_is_archive = false;
	struct archive_entry *e;
	/* not a (compressed) tar: not an error, the file is copied as is */
	if (archive_read_open_fd(a, fd, 256 << 10) != ARCHIVE_OK)
		goto out;
	int ar = archive_read_next_header(a, &e);
	if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN && ar != ARCHIVE_EOF)
		goto out;
	if (ar == ARCHIVE_EOF && archive_format(a) == 0)
		goto out;
	*ret_is_archive = true;
	if (ar == ARCHIVE_EOF)
		goto out;
	/* the first header was read: reopen from the start for the walk */
	archive_read_free(a);
	if (lseek(fd, 0, SEEK_SET) < 0) {
		a = NULL;
		r = cm_error_setx(err, cm_neg_errno(), "rewinding the archive");
		goto out;
	}
	if (!(a = archive_read_new())) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_fd(a, fd, 256 << 10) != ARCHIVE_OK) {
		r = cm_error_set(err, -EBADMSG, "reading the archive: %s", archive_error_string(a));
		goto out;
	}
	r = ims_unpack_entries(a, dirfd, err);
out:
	if (a)
		archive_read_free(a);
	return r;
}
