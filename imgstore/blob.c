// SPDX-License-Identifier: MIT
/* Verified, atomic blob writes (published read-only, 0444) (after git's finalize_object_file: a temp in
 * tmp/, fsync, check, link to the content-addressed name, "exists" is
 * success, fsync the dir) and the gzip layer writer. */
#include "ims-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

int ims_blob_writer_open(struct ims_store *s, struct ims_blob_writer *w,
			 struct cm_error *err)
{
	memset(w, 0, sizeof(*w));
	w->total = -1; /* no label: no progress */
	w->s = s;
	w->fd = -1;
	ims_tmpname(w->tmp, sizeof(w->tmp), "blob");
	int r = cm_sha256_init(&w->h);
	if (r < 0)
		return cm_error_set(err, r, "out of memory");
	w->fd = openat(s->tmpfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				       O_CLOEXEC, 0444);
	if (w->fd < 0) {
		r = cm_neg_errno();
		cm_sha256_done(&w->h);
		return cm_error_setx(err, r, "creating a temp blob in %s/tmp", s->root);
	}
	return 0;
}

int ims_blob_writer_write(struct ims_blob_writer *w, const void *buf,
			  size_t len, struct cm_error *err)
{
	cm_sha256_update(&w->h, buf, len);
	w->size += (int64_t)len;
	int r = cm_write_all(w->fd, buf, len);
	if (r < 0)
		return cm_error_setx(err, r, "writing %s/tmp/%s", w->s->root, w->tmp);
	ims_progress(w->label, w->size, w->total, false, w->prog);
	return 0;
}

void ims_blob_writer_abort(struct ims_blob_writer *w)
{
	if (!w->s)
		return;
	cm_close(&w->fd);
	cm_sha256_done(&w->h);
	if (w->tmp[0])
		unlinkat(w->s->tmpfd, w->tmp, 0);
	w->tmp[0] = '\0';
}

int ims_blob_writer_finish_tmp(struct ims_blob_writer *w,
			       char ret_digest[CM_DIGEST_STR_LEN],
			       struct cm_error *err)
{
	ims_progress(w->label, w->size, w->size, true, w->prog);
	if (!w->nosync && !w->s->batch && fsync(w->fd) < 0) {
		int r = cm_neg_errno();
		ims_blob_writer_abort(w);
		return cm_error_setx(err, r, "fsync of a temp blob");
	}
	cm_close(&w->fd);
	cm_sha256_final(&w->h, ret_digest);
	return 0;
}

int ims_blob_publish_tmp(struct ims_store *s, const char *tmp,
			 const char *digest, struct cm_error *err)
{
	if (!cm_digest_valid(digest))
		return cm_error_set(err, -EINVAL, "invalid digest '%s'", digest);
	const char *hex = digest + 7;
	int r = 0;
	if (s->batch) { /* linked after the batch's syncfs */
		if ((r = ims_batch_add(s, IMS_PEND_LINK, s->tmpfd, tmp, s->blobsfd, hex, err)) < 0)
			unlinkat(s->tmpfd, tmp, 0);
		return r;
	}
	if (linkat(s->tmpfd, tmp, s->blobsfd, hex, 0) < 0 && errno != EEXIST)
		r = cm_neg_errno();
	unlinkat(s->tmpfd, tmp, 0);
	if (r < 0)
		return cm_error_setx(err, r, "publishing blob %s", digest);
	r = cm_fsync_dirfd(s->blobsfd);
	if (r < 0)
		return cm_error_setx(err, r, "fsync of %s/blobs/sha256", s->root);
	return 0;
}

int ims_blob_writer_commit(struct ims_blob_writer *w, const char *expect_digest,
			   int64_t expect_size, char ret_digest[CM_DIGEST_STR_LEN],
			   struct cm_error *err)
{
	char d[CM_DIGEST_STR_LEN];
	int64_t size = w->size;
	int r = ims_blob_writer_finish_tmp(w, d, err);
	if (r < 0)
		return r;
	if ((expect_size >= 0 && size != expect_size) ||
	    (expect_digest && strcmp(d, expect_digest) != 0)) {
		unlinkat(w->s->tmpfd, w->tmp, 0);
		if (expect_size >= 0 && size != expect_size)
			return cm_error_set(err, -EBADMSG,
					    "blob %s: size %lld, expected %lld",
					    expect_digest ? expect_digest : d,
					    (long long)size, (long long)expect_size);
		return cm_error_set(err, -EBADMSG, "blob digest mismatch: got %s, expected %s",
				    d, expect_digest);
	}
	r = ims_blob_publish_tmp(w->s, w->tmp, d, err);
	if (r < 0)
		return r;
	if (ret_digest)
		memcpy(ret_digest, d, CM_DIGEST_STR_LEN);
	return 0;
}

int ims_blob_put(struct ims_store *s, const void *buf, size_t len,
		 char ret_digest[CM_DIGEST_STR_LEN], struct cm_error *err)
{
	struct ims_blob_writer w;
	int r = ims_blob_writer_open(s, &w, err);
	if (r < 0)
		return r;
	r = ims_blob_writer_write(&w, buf, len, err);
	if (r < 0) {
		ims_blob_writer_abort(&w);
		return r;
	}
	return ims_blob_writer_commit(&w, NULL, -1, ret_digest, err);
}

int ims_blob_open(struct ims_store *s, const char *digest, struct cm_error *err)
{
	if (!cm_digest_valid(digest))
		return cm_error_set(err, -EINVAL, "invalid digest '%s'", digest ? digest : "");
	int fd = openat(s->blobsfd, digest + 7, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "blob %s", digest);
	return fd;
}

bool ims_blob_exists(struct ims_store *s, const char *digest)
{
	return cm_digest_valid(digest) &&
	       faccessat(s->blobsfd, digest + 7, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int ims_blob_read(struct ims_store *s, const char *digest, size_t max,
		  char **ret, size_t *ret_len, struct cm_error *err)
{
	_cleanup_close_ int fd = ims_blob_open(s, digest, err);
	if (fd < 0)
		return fd;
	int r = ims_read_fd(fd, max, ret, ret_len);
	if (r < 0)
		return cm_error_setx(err, r, "reading blob %s", digest);
	return 0;
}

/* --------------------------------------------------------- gzip writer */

int ims_gz_open(struct ims_store *s, struct ims_gz_writer *g, struct cm_error *err)
{
	memset(g, 0, sizeof(*g));
	int r = cm_sha256_init(&g->diff);
	if (r < 0)
		return cm_error_set(err, r, "out of memory");
	r = ims_blob_writer_open(s, &g->b, err);
	if (r < 0) {
		cm_sha256_done(&g->diff);
		return r;
	}
	g->b.label = "Writing layer"; /* import, commit: compressed bytes */
	/* windowBits 15+16: gzip wrapper with mtime 0 and no name (deterministic) */
	if (deflateInit2(&g->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		ims_gz_abort(g);
		return cm_error_set(err, -ENOMEM, "zlib initialisation failed");
	}
	g->zinit = true;
	return 0;
}

static int gz_pump(struct ims_gz_writer *g, int flush, struct cm_error *err)
{
	unsigned char out[65536];
	int zr;
	do {
		g->z.next_out = out;
		g->z.avail_out = sizeof(out);
		zr = deflate(&g->z, flush);
		if (zr == Z_STREAM_ERROR)
			return cm_error_set(err, -EIO, "gzip compression failed");
		size_t have = sizeof(out) - g->z.avail_out;
		if (have) {
			int r = ims_blob_writer_write(&g->b, out, have, err);
			if (r < 0)
				return r;
		}
	} while (g->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
	return 0;
}

int ims_gz_write(struct ims_gz_writer *g, const void *buf, size_t len,
		 struct cm_error *err)
{
	cm_sha256_update(&g->diff, buf, len);
	g->usize += (int64_t)len;
	const unsigned char *p = buf;
	while (len > 0) {
		uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
		g->z.next_in = (unsigned char *)p;
		g->z.avail_in = chunk;
		int r = gz_pump(g, Z_NO_FLUSH, err);
		if (r < 0)
			return r;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

int ims_gz_commit(struct ims_gz_writer *g, char ret_diffid[CM_DIGEST_STR_LEN],
		  char ret_digest[CM_DIGEST_STR_LEN], int64_t *ret_size,
		  struct cm_error *err)
{
	char d[CM_DIGEST_STR_LEN];
	int r = ims_gz_finish_tmp(g, ret_diffid, d, ret_size, err);
	if (r < 0)
		return r;
	if ((r = ims_blob_publish_tmp(g->b.s, g->b.tmp, d, err)) < 0)
		return r;
	memcpy(ret_digest, d, CM_DIGEST_STR_LEN);
	return 0;
}

void ims_gz_abort(struct ims_gz_writer *g)
{
	if (g->zinit)
		deflateEnd(&g->z);
	g->zinit = false;
	cm_sha256_done(&g->diff);
	ims_blob_writer_abort(&g->b);
}

int ims_gz_finish_tmp(struct ims_gz_writer *g, char ret_diffid[CM_DIGEST_STR_LEN],
		      char ret_digest[CM_DIGEST_STR_LEN], int64_t *ret_size,
		      struct cm_error *err)
{
	g->z.next_in = NULL;
	g->z.avail_in = 0;
	int r = gz_pump(g, Z_FINISH, err);
	if (r < 0) {
		ims_gz_abort(g);
		return r;
	}
	deflateEnd(&g->z);
	g->zinit = false;
	int64_t size = g->b.size;
	cm_sha256_final(&g->diff, ret_diffid);
	r = ims_blob_writer_finish_tmp(&g->b, ret_digest, err);
	if (r < 0)
		return r;
	if (ret_size)
		*ret_size = size;
	return 0;
}
