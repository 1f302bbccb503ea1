// SPDX-License-Identifier: MIT
/* Garbage collection (mark from index.json, sweep blobs, layers, tmp, the
 * build cache's records of images gone) and
 * fsck (re-hash every blob, check every manifest, config, layer and name). */
#include "ims-internal.h"

#include <dirent.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

struct strset {
	char **v;
	size_t n, cap;
};

static int set_add(struct strset *s, const char *str)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		char **nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	if (!(s->v[s->n] = strdup(str)))
		return -ENOMEM;
	s->n++;
	return 0;
}

static bool set_has(const struct strset *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return true;
	return false;
}

static void set_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static void say(void (*report)(void *, const char *), void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(void (*report)(void *, const char *), void *ctx, const char *fmt, ...)
{
	if (!report)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	report(ctx, line);
}

static int mark_image(struct ims_store *s, const char *digest, int64_t size,
		      struct strset *blobs, struct strset *layers, struct cm_error *err)
{
	_cleanup_image_ struct ims_image *img = NULL;
	int r = ims_image_load(s, digest, size, &img, err);
	if (r < 0)
		return r;
	r = set_add(blobs, img->digest + 7);
	if (r >= 0)
		r = set_add(blobs, img->id + 7);
	const struct cm_json *l = cm_json_get(img->manifest, "layers");
	for (size_t j = 0; r >= 0 && cm_json_is(l, CM_JSON_ARRAY) && j < l->n; j++) {
		const char *d = cm_json_get_str(l->v[j], "digest");
		if (cm_digest_valid(d))
			r = set_add(blobs, d + 7);
	}
	const struct cm_json *di = cm_json_get(cm_json_get(img->config, "rootfs"), "diff_ids");
	for (size_t j = 0; r >= 0 && cm_json_is(di, CM_JSON_ARRAY) && j < di->n; j++) {
		const char *d = cm_json_str(di->v[j]);
		if (cm_digest_valid(d))
			r = set_add(layers, d + 7);
	}
	if (r == -ENOMEM)
		cm_error_set(err, r, "out of memory");
	return r;
}

/* Mark every blob (hex) and layer (hex) reachable from index.json and from
 * the containers (a container keeps its image alive after rmi -f). */
static int mark(struct ims_store *s, struct strset *blobs, struct strset *layers,
		struct cm_error *err)
{
	struct ims_index idx;
	int r = ims_index_read(s, &idx, false, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < idx.n && r >= 0; i++)
		r = mark_image(s, idx.e[i].digest, idx.e[i].size, blobs, layers, err);
	ims_index_release(&idx);
	if (r < 0)
		return r;
	struct ims_container **v = NULL;
	size_t n = 0;
	if ((r = ims_container_list(s, &v, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (r >= 0 && !set_has(blobs, v[i]->image_digest + 7) &&
		    fstatat(s->blobsfd, v[i]->image_digest + 7, &st, AT_SYMLINK_NOFOLLOW) == 0)
			r = mark_image(s, v[i]->image_digest, st.st_size, blobs, layers, err);
		ims_container_free(v[i]);
	}
	free(v);
	return r;
}

static int sweep(struct ims_store *s, int dirfd, const char *what,
		 const struct strset *keep, void (*report)(void *, const char *),
		 void *ctx, struct cm_error *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "%s/%s", s->root, what);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return cm_error_setx(err, -ENOMEM, "%s/%s", s->root, what);
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (keep && set_has(keep, de->d_name))
			continue;
		int q = cm_rm_rf_at(dirfd, de->d_name);
		if (q < 0 && r == 0)
			r = cm_error_setx(err, q, "removing %s/%s/%s", s->root, what, de->d_name);
		else if (keep)
			say(report, ctx, "deleted: %s/%s", what, de->d_name);
	}
	closedir(d);
	if (r == 0)
		r = cm_fsync_dirfd(dirfd);
	return r;
}

/* The build cache's records (ROOT/build-cache) whose image is not kept. */
static int sweep_cache(struct ims_store *s, const struct strset *blobs,
		       void (*report)(void *, const char *), void *ctx, struct cm_error *err)
{
	_cleanup_close_ int cfd = openat(s->rootfd, "build-cache", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0)
		return errno == ENOENT ? 0 : cm_error_setx(err, cm_neg_errno(), "%s/build-cache", s->root);
	int fd = fcntl(cfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return cm_error_setx(err, -ENOMEM, "%s/build-cache", s->root);
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		if (ims_read_file_at(cfd, de->d_name, 256, &buf, &len) == 0) {
			while (len && buf[len - 1] == '\n')
				buf[--len] = '\0';
			if (cm_digest_valid(buf) && set_has(blobs, buf + 7))
				continue;
		}
		if (unlinkat(cfd, de->d_name, 0) < 0)
			r = cm_error_setx(err, cm_neg_errno(), "removing %s/build-cache/%s", s->root, de->d_name);
		else
			say(report, ctx, "deleted: build-cache/%s", de->d_name);
	}
	closedir(d);
	return r;
}

int ims_gc(struct ims_store *s, bool nonblock,
	   void (*report)(void *ctx, const char *line), void *ctx,
	   struct cm_error *err)
{
	if (s->lock_depth > 0)
		return cm_error_set(err, -EAGAIN, "gc while this process writes");
	_cleanup_close_ int lfd = openat(s->runfd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "%s/store.lock", s->rundir);
	while (flock(lfd, LOCK_EX | (nonblock ? LOCK_NB : 0)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return cm_error_set(err, -EAGAIN, "the store is busy");
		return cm_error_setx(err, cm_neg_errno(), "locking %s/store.lock", s->rundir);
	}
	/* also hold index.lock so no name appears while we sweep */
	struct ims_index hold;
	int r = ims_index_read(s, &hold, true, err);
	if (r < 0)
		return r;
	struct strset blobs = { 0 }, layers = { 0 };
	r = mark(s, &blobs, &layers, err);
	if (r >= 0)
		r = sweep(s, s->blobsfd, "blobs/sha256", &blobs, report, ctx, err);
	if (r >= 0)
		r = sweep(s, s->layersfd, "layers", &layers, report, ctx, err);
	if (r >= 0)
		r = sweep(s, s->metafd, "layer-manifests", &layers, NULL, NULL, err);
	if (r >= 0)
		r = sweep(s, s->tmpfd, "tmp", NULL, report, ctx, err);
	if (r >= 0)
		r = sweep_cache(s, &blobs, report, ctx, err);
	set_free(&blobs);
	set_free(&layers);
	ims_index_release(&hold);
	return r < 0 ? r : 0;
}

int ims_gc_rollback(struct ims_store *s, char *const *blobs, size_t n_blobs,
		    char *const *layers, size_t n_layers)
{
	if (s->lock_depth > 0)
		return -EAGAIN;
	_cleanup_close_ int lfd = openat(s->runfd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return cm_neg_errno();
	/* another writer may count these as present: then they are its (or
	 * gc's) to keep or collect, never ours to remove */
	while (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		return errno == EWOULDBLOCK ? -EAGAIN : cm_neg_errno();
	}
	struct ims_index hold;
	int r = ims_index_read(s, &hold, true, NULL);
	if (r < 0)
		return r;
	struct strset kb = { 0 }, kl = { 0 };
	r = mark(s, &kb, &kl, NULL);
	for (size_t i = 0; r >= 0 && i < n_layers; i++)
		if (!set_has(&kl, layers[i])) {
			cm_rm_rf_at(s->layersfd, layers[i]);
			unlinkat(s->metafd, layers[i], 0);
		}
	for (size_t i = 0; r >= 0 && i < n_blobs; i++)
		if (!set_has(&kb, blobs[i]))
			unlinkat(s->blobsfd, blobs[i], 0);
	if (r >= 0) {
		cm_fsync_dirfd(s->layersfd);
		cm_fsync_dirfd(s->blobsfd);
	}
	set_free(&kb);
	set_free(&kl);
	ims_index_release(&hold);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------ fsck */

static int rehash_fd(int fd, char out[CM_DIGEST_STR_LEN])
{
	struct cm_sha256 h;
	int r = cm_sha256_init(&h);
	if (r < 0)
		return r;
	char buf[1 << 16];
	for (;;) {
		ssize_t k = read(fd, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = cm_neg_errno();
			cm_sha256_done(&h);
			return r;
		}
		if (k == 0)
			break;
		cm_sha256_update(&h, buf, (size_t)k);
	}
	cm_sha256_final(&h, out);
	return 0;
}

/* Walk a layer dir: every name must be a valid branch name. */
static int check_layer_tree(int dfd, const char *rel, int depth,
			    void (*report)(void *, const char *), void *ctx)
{
	if (depth > 512)
		return 1;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 1;
	}
	int bad = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		enum cm_wh_kind k = cm_wh_classify(de->d_name, NULL);
		if (k == CM_WH_INVALID || k == CM_WH_META) {
			say(report, ctx, "layer %s: bad name '%s/%s'", rel, "", de->d_name);
			bad++;
			continue;
		}
		if (de->d_type == DT_DIR) {
			_cleanup_close_ int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
								  O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				say(report, ctx, "layer %s: cannot open dir '%s'", rel, de->d_name);
				bad++;
				continue;
			}
			bad += check_layer_tree(sub, rel, depth + 1, report, ctx);
		}
	}
	closedir(d);
	return bad;
}

/* Unpack layer diffid again from its blob bd: the damaged dir is moved
 * aside, the new one published (with its manifest), the old one removed;
 * if the unpack fails the old dir is put back. Called under store.lock
 * LOCK_EX. */
/* A mounted container whose union has layer diffid as a branch: its id in
 * ret (the daemon keeps the dir it opened; replacing it under a live mount
 * would leave that container on the damaged copy). */
static bool layer_mounted(struct ims_store *s, const char *diffid, char ret[CM_SHA256_HEX_LEN + 1])
{
	struct ims_container **v = NULL;
	size_t n = 0;
	bool found = false;
	if (ims_container_list(s, &v, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		_cleanup_image_ struct ims_image *img = NULL;
		if (!found && v[i]->mounted && ims_container_image(s, v[i], &img, NULL) == 0) {
			const struct cm_json *di = cm_json_get(cm_json_get(img->config, "rootfs"), "diff_ids");
			for (size_t j = 0; cm_json_is(di, CM_JSON_ARRAY) && j < di->n && !found; j++)
				found = cm_streq(cm_json_str(di->v[j]), diffid);
			if (found)
				snprintf(ret, CM_SHA256_HEX_LEN + 1, "%s", v[i]->id);
		}
		ims_container_free(v[i]);
	}
	free(v);
	return found;
}

static int repair_layer(struct ims_store *s, const char *diffid, const char *bd,
			void (*report)(void *, const char *), void *ctx)
{
	char user[CM_SHA256_HEX_LEN + 1];
	if (layer_mounted(s, diffid, user)) {
		say(report, ctx, "layer %s: not repaired: container %.12s is mounted from it (img umount it first)",
		    diffid, user);
		return -EBUSY;
	}
	char aside[64];
	struct cm_error e2 = { 0 };
	ims_tmpname(aside, sizeof(aside), "damaged");
	bool moved = renameat(s->layersfd, diffid + 7, s->tmpfd, aside) == 0;
	_cleanup_close_ int bfd = ims_blob_open(s, bd, &e2);
	char got[CM_DIGEST_STR_LEN];
	int r = bfd < 0 ? bfd : ims_layer_unpack_fd(s, bfd, diffid, NULL, NULL, got, &e2);
	if (r < 0) {
		if (moved)
			renameat(s->tmpfd, aside, s->layersfd, diffid + 7);
		say(report, ctx, "layer %s: repair failed: %s", diffid, e2.msg);
		return r;
	}
	if (moved)
		cm_rm_rf_at(s->tmpfd, aside);
	say(report, ctx, "layer %s: repaired from blob %s", diffid, bd);
	return 0;
}

static void report_orphans(struct ims_store *s, void (*report)(void *, const char *), void *ctx)
{
	struct strset kb = { 0 }, kl = { 0 };
	int fd = mark(s, &kb, &kl, NULL) < 0 ? -1
		 : openat(s->blobsfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (cm_hex64_valid(de->d_name) && !set_has(&kb, de->d_name))
				say(report, ctx, "note: blob sha256:%s is not referenced (img gc removes it)",
				    de->d_name);
		closedir(d);
	}
	set_free(&kb);
	set_free(&kl);
}

int ims_fsck(struct ims_store *s, void (*report)(void *ctx, const char *line),
	     void *ctx, struct cm_error *err)
{
	return ims_fsck_ex(s, 0, report, ctx, err);
}

int ims_fsck_ex(struct ims_store *s, unsigned flags,
		void (*report)(void *ctx, const char *line), void *ctx,
		struct cm_error *err)
{
	int problems = 0;
	bool repair = flags & IMS_FSCK_REPAIR;
	_cleanup_close_ int lfd_ex = -1;
	if (repair) {
		/* no writer and no gc while layers are replaced */
		if (s->lock_depth > 0)
			return cm_error_set(err, -EAGAIN, "fsck --repair while this process writes");
		lfd_ex = openat(s->runfd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lfd_ex < 0)
			return cm_error_setx(err, cm_neg_errno(), "%s/store.lock", s->rundir);
		while (flock(lfd_ex, LOCK_EX) < 0)
			if (errno != EINTR)
				return cm_error_setx(err, cm_neg_errno(), "locking %s/store.lock", s->rundir);
	}
	/* 1. every blob re-hashed */
	int fd = openat(s->blobsfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "%s/blobs/sha256", s->root);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return cm_error_set(err, -ENOMEM, "out of memory");
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!cm_hex64_valid(de->d_name)) {
			say(report, ctx, "blobs/sha256/%s: not a sha256 name", de->d_name);
			problems++;
			continue;
		}
		_cleanup_close_ int bfd = openat(s->blobsfd, de->d_name,
						 O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		char got[CM_DIGEST_STR_LEN];
		if (bfd < 0 || rehash_fd(bfd, got) < 0) {
			say(report, ctx, "blob sha256:%s: unreadable", de->d_name);
			problems++;
			continue;
		}
		if (strcmp(got + 7, de->d_name) != 0) {
			say(report, ctx, "blob sha256:%s: content hashes to %s", de->d_name, got);
			problems++;
		}
	}
	closedir(d);

	/* 2. names, manifests, configs, layers */
	struct ims_index idx;
	int r = ims_index_read(s, &idx, false, err);
	if (r < 0) {
		say(report, ctx, "index.json: %s", err ? err->msg : "unreadable");
		return problems + 1;
	}
	struct strset checked = { 0 };
	for (size_t i = 0; i < idx.n; i++) {
		const char *name = idx.e[i].name ? idx.e[i].name : "<none>";
		struct cm_error e2;
		_cleanup_image_ struct ims_image *img = NULL;
		if (ims_image_load(s, idx.e[i].digest, idx.e[i].size, &img, &e2) < 0) {
			say(report, ctx, "image %s: %s", name, e2.msg);
			problems++;
			continue;
		}
		struct stat st;
		if (fstatat(s->blobsfd, idx.e[i].digest + 7, &st, 0) == 0 &&
		    st.st_size != idx.e[i].size) {
			say(report, ctx, "image %s: manifest size %lld, index says %lld", name,
			    (long long)st.st_size, (long long)idx.e[i].size);
			problems++;
		}
		const struct cm_json *l = cm_json_get(img->manifest, "layers");
		const struct cm_json *di = cm_json_get(cm_json_get(img->config, "rootfs"), "diff_ids");
		if (!cm_json_is(l, CM_JSON_ARRAY) || !cm_json_is(di, CM_JSON_ARRAY) || l->n != di->n) {
			say(report, ctx, "image %s: layers and diff_ids differ", name);
			problems++;
			continue;
		}
		for (size_t j = 0; j < l->n; j++) {
			const char *bd = cm_json_get_str(l->v[j], "digest");
			int64_t bs = -1;
			cm_json_get_int(l->v[j], "size", &bs);
			if (!ims_blob_exists(s, bd)) {
				say(report, ctx, "image %s: layer blob %s missing", name, bd ? bd : "?");
				problems++;
			} else if (fstatat(s->blobsfd, bd + 7, &st, 0) == 0 && st.st_size != bs) {
				say(report, ctx, "image %s: layer blob %s has size %lld, manifest says %lld",
				    name, bd, (long long)st.st_size, (long long)bs);
				problems++;
			}
			const char *dd = cm_json_str(di->v[j]);
			if (!cm_digest_valid(dd)) {
				say(report, ctx, "image %s: bad diff_id", name);
				problems++;
				continue;
			}
			bool done = set_has(&checked, dd + 7);
			if (!done && set_add(&checked, dd + 7) < 0) {
				problems++;
				continue;
			}
			if (done)
				continue; /* a layer shared by images: checked once */
			if (!ims_layer_exists(s, dd)) {
				say(report, ctx, "image %s: unpacked layer %s missing", name, dd);
				if (!repair || repair_layer(s, dd, bd, report, ctx) < 0)
					problems++;
				continue;
			}
			int diffs = ims_layer_manifest_verify(s, dd, report, ctx);
			if (diffs > 0) {
				if (!repair || repair_layer(s, dd, bd, report, ctx) < 0)
					problems += diffs;
				continue;
			}
			_cleanup_close_ int lfd = openat(s->layersfd, dd + 7, O_RDONLY | O_DIRECTORY |
									    O_NOFOLLOW | O_CLOEXEC);
			if (lfd < 0) {
				say(report, ctx, "layer %s: not a directory", dd);
				problems++;
				continue;
			}
			problems += check_layer_tree(lfd, dd, 0, report, ctx);
		}
	}
	ims_index_release(&idx);
	set_free(&checked);
	report_orphans(s, report, ctx);
	return problems;
}
