// SPDX-License-Identifier: MIT
/* The build cache of img build (issue 12): ROOT/build-cache/<hex> holds the
 * image id a build step made, <hex> the sha256 of the step's key (parent
 * image, instruction after substitution, build args it used, content hash
 * of COPY/ADD sources). A record whose image is gone is a miss. */
#include "ims-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cm-fs.h"

static int cache_dir(struct ims_store *s, int *ret, struct cm_error *err)
{
	if (mkdirat(s->rootfd, "build-cache", 0700) < 0 && errno != EEXIST)
		return cm_error_setx(err, cm_neg_errno(), "creating %s/build-cache", s->root);
	int fd = openat(s->rootfd, "build-cache", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s/build-cache", s->root);
	*ret = fd;
	return 0;
}

int ims_cache_get(struct ims_store *s, const char *key, char ret_id[CM_DIGEST_STR_LEN])
{
	char kd[CM_DIGEST_STR_LEN];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct cm_error e = { 0 };
	if (cm_sha256_buf(key, strlen(key), kd) < 0 || cache_dir(s, &fd, &e) < 0 ||
	    ims_read_file_at(fd, kd + 7, 256, &buf, &len) < 0)
		return -ENOENT;
	while (len && (buf[len - 1] == '\n'))
		buf[--len] = '\0';
	if (!cm_digest_valid(buf))
		return -ENOENT;
	_cleanup_image_ struct ims_image *img = NULL;
	if (ims_image_resolve(s, buf, &img, &e) < 0 || strcmp(img->id, buf) != 0)
		return -ENOENT;
	memcpy(ret_id, img->id, CM_DIGEST_STR_LEN);
	return 0;
}

int ims_cache_put(struct ims_store *s, const char *key, const char *id, struct cm_error *err)
{
	char kd[CM_DIGEST_STR_LEN];
	_cleanup_close_ int fd = -1;
	int r = cm_sha256_buf(key, strlen(key), kd);
	if (r < 0)
		return cm_error_set(err, r, "hashing a cache key");
	if ((r = cache_dir(s, &fd, err)) < 0)
		return r;
	char line[CM_DIGEST_STR_LEN + 1], tmp[NAME_MAX + 1];
	int n = snprintf(line, sizeof(line), "%s\n", id);
	/* not synced: a record lost or torn by a crash reads as a miss */
	cm_tmpname(tmp, sizeof(tmp), ".tmp-rec");
	_cleanup_close_ int out = openat(fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0 || (r = cm_write_all(out, line, (size_t)n)) < 0 || renameat(fd, tmp, fd, kd + 7) < 0) {
		r = out < 0 || r == 0 ? cm_neg_errno() : r;
		if (out >= 0)
			unlinkat(fd, tmp, 0);
		return cm_error_setx(err, r, "writing the build cache");
	}
	return 0;
}

/* The bytes below dir fd's entry name (no symlink followed). */
static int64_t du_at(int at, const char *name, int depth)
{
	struct stat st;
	if (depth > 64 || fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	int64_t sum = st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode))
		return sum;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return sum;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			sum += du_at(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	return sum;
}

static void line(void (*report)(void *, const char *), void *ctx, const char *what, const char *x)
{
	char buf[600];
	if (!report)
		return;
	snprintf(buf, sizeof(buf), "%s%s", what, x);
	report(ctx, buf);
}

/* The image of id in v, or NULL. */
static struct ims_image *find_id(struct ims_image **v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && strcmp(v[i]->id, id) == 0)
			return v[i];
	return NULL;
}

/* Whether img is the cache alone: untagged, no tagged image extends it. */
static bool cache_only(struct ims_image **v, size_t n, const struct ims_image *img)
{
	if (img->n_names)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] && v[i]->n_names && ims_image_extends(v[i], img))
			return false;
	return true;
}

int ims_cache_prune(struct ims_store *s, bool all, void (*report)(void *ctx, const char *line),
		    void *ctx, int64_t *freed, struct cm_error *err)
{
	struct ims_image **v = NULL;
	size_t n = 0;
	int64_t sum = 0;
	int r = ims_image_list(s, &v, &n, err);
	if (r < 0)
		return r;
	_cleanup_close_ int cfd = -1, mfd = -1;
	DIR *d = NULL;
	if ((r = cache_dir(s, &cfd, err)) < 0)
		goto out;
	int dfd = fcntl(cfd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		r = cm_error_setx(err, -ENOMEM, "%s/build-cache", s->root);
		goto out;
	}
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *buf = NULL;
		size_t len;
		struct ims_image *img = NULL;
		if (ims_read_file_at(cfd, de->d_name, 256, &buf, &len) == 0) {
			while (len && buf[len - 1] == '\n')
				buf[--len] = '\0';
			img = cm_digest_valid(buf) ? find_id(v, n, buf) : NULL;
		}
		if (img && !all && !cache_only(v, n, img))
			continue; /* a tagged image uses it: kept */
		if (img && !img->n_names && !ims_container_uses_image(s, img->id, NULL)) {
			struct cm_error e2 = { 0 };
			if (ims_image_remove(s, img->id, true, report, ctx, &e2) == 0)
				sum += img->size;
			for (size_t i = 0; i < n; i++)
				if (v[i] == img) {
					ims_image_free(v[i]);
					v[i] = NULL;
				}
		} else if (img && !all) {
			continue; /* a container's image: its record kept */
		}
		if (unlinkat(cfd, de->d_name, 0) < 0 && errno != ENOENT)
			r = cm_error_setx(err, cm_neg_errno(), "removing %s/build-cache/%s", s->root, de->d_name);
	}
	closedir(d);
	/* the cache mounts: kept from build to build, gone now */
	mfd = openat(s->rootfd, "build-mounts", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int mdup = mfd >= 0 ? fcntl(mfd, F_DUPFD_CLOEXEC, 3) : -1;
	DIR *md = mdup >= 0 ? fdopendir(mdup) : NULL;
	if (mdup >= 0 && !md)
		close(mdup);
	while (r == 0 && md && (de = readdir(md))) {
		if (strncmp(de->d_name, "cache-", 6) != 0)
			continue;
		int64_t sz = du_at(mfd, de->d_name, 0);
		int q = cm_rm_rf_at(mfd, de->d_name);
		if (q < 0)
			r = cm_error_setx(err, q, "removing %s/build-mounts/%s", s->root, de->d_name);
		else {
			sum += sz;
			line(report, ctx, "Deleted build cache mount: ", de->d_name + 6);
		}
	}
	if (md)
		closedir(md);
out:
	for (size_t i = 0; i < n; i++)
		ims_image_free(v[i]);
	free(v);
	if (r == 0 && freed)
		*freed = sum;
	return r;
}
