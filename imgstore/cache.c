// SPDX-License-Identifier: MIT
/* The build cache of img build (issue 12): ROOT/build-cache/<hex> holds the
 * image id a build step made, <hex> the sha256 of the step's key (parent
 * image, instruction after substitution, build args it used, content hash
 * of COPY/ADD sources). A record whose image is gone is a miss. */
#include "ims-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

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
	char line[CM_DIGEST_STR_LEN + 1];
	int n = snprintf(line, sizeof(line), "%s\n", id);
	if ((r = ims_write_file_atomic(fd, kd + 7, line, (size_t)n, 0600)) < 0)
		return cm_error_setx(err, r, "writing the build cache");
	return 0;
}
