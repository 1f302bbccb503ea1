// SPDX-License-Identifier: MIT
/* Ingest (ims-ingest.h): objects streamed in from outside the store, on the
 * store's own verified paths (blob writer, layer unpack, index put), with a
 * record of what this ingest published so a failure can take it back.
 *
 * Durability is batched (batch.c): no blob temp, layer or layer manifest is
 * fsynced; each waits in tmp/ with its name queued. ims_ingest_name makes
 * them durable with one syncfs, gives them their names, makes those durable
 * with a second syncfs (which takes the index.json temp too), and only then
 * renames index.json: a crash at any point leaves no name pointing at data
 * or names that could be lost. Two syncfs and one fsync per pull, whatever
 * the number of layers (was: an fsync per blob temp and dir, and a syncfs
 * per layer). */
#include "ims-internal.h"
#include "ims-ingest.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ims_ingest {
	struct ims_store *s;
	char **blobs;   /* hex names linked by us */
	size_t n_blobs;
	char **layers;  /* hex diff_ids unpacked by us */
	size_t n_layers;
	bool flushed; /* the batch published (some of) what it queued */
	bool named;
	bool locked;
};

/* A streamed layer is unpacked while it arrives: its bytes go to the blob
 * writer and down a pipe to a thread running the store's unpack, which
 * reads the pipe to its end whatever happens (so a write never blocks
 * forever). The layer it publishes is named by the diff_id of the verified
 * config, so it is right even before the blob's own digest is checked. */
struct ims_ingest_blob {
	struct ims_ingest *t;
	struct ims_blob_writer w;
	char digest[CM_DIGEST_STR_LEN];
	int64_t size;
	int pipe_w;                      /* -1: not streamed */
	int pipe_r;
	pthread_t th;
	bool th_running;
	char diffid[CM_DIGEST_STR_LEN];
	int th_r;
	struct cm_error th_err;
	char *stage;   /* bytes not yet written: STAGE_SIZE, or NULL */
	size_t staged;
};

/* A download's pieces (curl hands 16 KiB at a time) are gathered to this
 * size before a blob write and a pipe write: strace -c of a 56 MB layer
 * counted 7,500 writes of 16 KiB on the download thread. */
#define STAGE_SIZE ((size_t)256 << 10)

int ims_ingest_begin(struct ims_store *s, struct ims_ingest **ret, struct cm_error *err)
{
	struct ims_ingest *t = calloc(1, sizeof(*t));
	if (!t)
		return cm_error_set(err, -ENOMEM, "out of memory");
	t->s = s;
	int r = ims_store_lock_shared(s, err);
	if (r < 0) {
		free(t);
		return r;
	}
	t->locked = true;
	ims_batch_begin(s);
	*ret = t;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ims_ingest_free(struct ims_ingest *t)
{
	if (!t)
		return;
	if (t->s->batch) /* a failure before the name: the queued temps go unnamed */
		ims_batch_abort(t->s);
	if (t->locked)
		ims_store_unlock_shared(t->s);
	/* a concurrent writer may count what we published as present: only
	 * what nobody references goes, and only with no other writer (issue 11).
	 * Nothing published (a push, which only reads): nothing to take back,
	 * and no store lock, index read, mark or dir fsyncs to pay for it. */
	if (!t->named && t->flushed && (t->n_blobs > 0 || t->n_layers > 0))
		(void)ims_gc_rollback(t->s, t->blobs, t->n_blobs, t->layers, t->n_layers);
	strv_free(t->blobs, t->n_blobs);
	strv_free(t->layers, t->n_layers);
	free(t);
}

static int remember(char ***v, size_t *n, const char *digest, struct cm_error *err)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return cm_error_set(err, -ENOMEM, "out of memory");
	*v = nv;
	if (!(nv[*n] = strdup(digest + 7)))
		return cm_error_set(err, -ENOMEM, "out of memory");
	(*n)++;
	return 0;
}

bool ims_ingest_has_blob(struct ims_ingest *t, const char *digest)
{
	return ims_blob_exists(t->s, digest);
}

bool ims_ingest_has_layer(struct ims_ingest *t, const char *diffid)
{
	return cm_digest_valid(diffid) && ims_layer_exists(t->s, diffid);
}

int ims_ingest_read_blob(struct ims_ingest *t, const char *digest, size_t max, char **ret,
			 size_t *ret_len, struct cm_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	char got[CM_DIGEST_STR_LEN];
	int r = ims_blob_read(t->s, digest, max, &buf, &len, err);
	if (r < 0)
		return r;
	if ((r = cm_sha256_buf(buf, len, got)) < 0)
		return cm_error_set(err, r, "out of memory");
	if (strcmp(got, digest) != 0)
		return cm_error_set(err, -EBADMSG, "stored blob %s hashes to %s (run img fsck)", digest, got);
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

void ims_ingest_named(struct ims_ingest *t, const char *name, char ret[CM_DIGEST_STR_LEN])
{
	struct ims_index idx;
	ret[0] = '\0';
	if (!name || ims_index_read(t->s, &idx, false, NULL) < 0)
		return;
	for (size_t i = 0; i < idx.n; i++)
		if (cm_streq(idx.e[i].name, name))
			memcpy(ret, idx.e[i].digest, CM_DIGEST_STR_LEN);
	ims_index_release(&idx);
}

/* Queue the verified temp as blobs/sha256/<hex> (linked at the name's
 * flush); a blob the store has already is not ours to roll back: the temp
 * goes. */
static int link_tmp(struct ims_ingest *t, const char *tmp, const char *digest,
		    struct cm_error *err)
{
	if (ims_blob_exists(t->s, digest)) {
		unlinkat(t->s->tmpfd, tmp, 0);
		return 0;
	}
	int r = ims_blob_publish_tmp(t->s, tmp, digest, err);
	return r < 0 ? r : remember(&t->blobs, &t->n_blobs, digest, err);
}

int ims_ingest_blob_open(struct ims_ingest *t, const char *digest, int64_t size,
			 struct ims_ingest_blob **ret, struct cm_error *err)
{
	if (!cm_digest_valid(digest) || size < 0)
		return cm_error_set(err, -EINVAL, "invalid descriptor %.80s", digest ? digest : "");
	struct ims_ingest_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return cm_error_set(err, -ENOMEM, "out of memory");
	int r = ims_blob_writer_open(t->s, &b->w, err);
	if (r < 0) {
		free(b);
		return r;
	}
	b->t = t;
	memcpy(b->digest, digest, CM_DIGEST_STR_LEN);
	b->size = size;
	b->pipe_w = b->pipe_r = -1;
	*ret = b;
	return 0;
}

static void *unpack_thread(void *ud)
{
	struct ims_ingest_blob *b = ud;
	char got[CM_DIGEST_STR_LEN];
	b->th_r = ims_layer_unpack_fd(b->t->s, b->pipe_r, b->diffid, NULL, NULL, got, &b->th_err);
	char buf[64 << 10];
	for (;;) {
		ssize_t k = read(b->pipe_r, buf, sizeof(buf));
		if (k == 0 || (k < 0 && errno != EINTR))
			break;
	}
	return NULL;
}

int ims_ingest_blob_open_layer(struct ims_ingest *t, const char *digest, int64_t size,
			       const char *diffid, struct ims_ingest_blob **ret,
			       struct cm_error *err)
{
	if (!cm_digest_valid(diffid))
		return cm_error_set(err, -EINVAL, "invalid diff_id %.80s", diffid ? diffid : "");
	struct ims_ingest_blob *b;
	int r = ims_ingest_blob_open(t, digest, size, &b, err);
	if (r < 0 || ims_layer_exists(t->s, diffid)) {
		if (r >= 0)
			*ret = b;
		return r;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "pipe");
		ims_ingest_blob_free(b);
		return r;
	}
	(void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	b->pipe_r = p[0];
	b->pipe_w = p[1];
	memcpy(b->diffid, diffid, CM_DIGEST_STR_LEN);
	if ((r = -pthread_create(&b->th, NULL, unpack_thread, b)) < 0) {
		cm_error_setx(err, r, "starting the unpack of layer %s", diffid);
		ims_ingest_blob_free(b);
		return r;
	}
	b->th_running = true;
	*ret = b;
	return 0;
}

/* End the stream and wait for the unpack: its result (and the layer noted
 * for the rollback if it was published). */
static int stream_join(struct ims_ingest_blob *b, struct cm_error *err)
{
	cm_close(&b->pipe_w);
	if (b->th_running) {
		pthread_join(b->th, NULL);
		b->th_running = false;
		cm_close(&b->pipe_r);
		if (b->th_r >= 0)
			return remember(&b->t->layers, &b->t->n_layers, b->diffid, err);
		if (err)
			*err = b->th_err;
		return b->th_r;
	}
	cm_close(&b->pipe_r);
	return 0;
}

static int blob_sink(struct ims_ingest_blob *b, const void *buf, size_t len,
		     struct cm_error *err)
{
	int r = ims_blob_writer_write(&b->w, buf, len, err);
	if (r >= 0 && b->pipe_w >= 0 && (r = cm_write_all(b->pipe_w, buf, len)) < 0)
		cm_error_setx(err, r, "feeding the unpack of layer %s", b->diffid);
	return r;
}

static int stage_flush(struct ims_ingest_blob *b, struct cm_error *err)
{
	size_t n = b->staged;
	b->staged = 0;
	return n ? blob_sink(b, b->stage, n, err) : 0;
}

int ims_ingest_blob_write(struct ims_ingest_blob *b, const void *buf, size_t len,
			  struct cm_error *err)
{
	if (b->w.size + (int64_t)b->staged + (int64_t)len > b->size)
		return cm_error_set(err, -EBADMSG, "blob %s: more than the %lld bytes of its descriptor",
				    b->digest, (long long)b->size);
	if (!b->stage && len < STAGE_SIZE && b->size > (int64_t)STAGE_SIZE)
		b->stage = malloc(STAGE_SIZE); /* none: every piece goes as it is */
	if (!b->stage || (len >= STAGE_SIZE && !b->staged))
		return blob_sink(b, buf, len, err);
	/* whole stages: the blob written in pieces of STAGE_SIZE exactly */
	const char *p = buf;
	while (len > 0) {
		size_t k = STAGE_SIZE - b->staged < len ? STAGE_SIZE - b->staged : len;
		memcpy(b->stage + b->staged, p, k);
		b->staged += k;
		p += k;
		len -= k;
		if (b->staged == STAGE_SIZE) {
			int r = stage_flush(b, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void ims_ingest_blob_free(struct ims_ingest_blob *b)
{
	if (!b)
		return;
	stream_join(b, NULL);
	ims_blob_writer_abort(&b->w);
	free(b->stage);
	free(b);
}

/* The layer in tmp is diffid: unpack it, or prove it if present. */
static int ingest_layer(struct ims_ingest *t, const char *tmp, const char *diffid,
			struct cm_error *err)
{
	bool existed = ims_layer_exists(t->s, diffid);
	_cleanup_close_ int fd = openat(t->s->tmpfd, tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "reopening %s", tmp);
	char got[CM_DIGEST_STR_LEN];
	int r;
	if (!existed) {
		r = ims_layer_unpack_fd(t->s, fd, diffid, NULL, NULL, got, err);
		if (r >= 0)
			r = remember(&t->layers, &t->n_layers, diffid, err);
		return r;
	}
	if ((r = ims_layer_diffid_fd(fd, got, err)) < 0)
		return r;
	if (strcmp(got, diffid) != 0)
		return cm_error_set(err, -EBADMSG, "layer diff_id mismatch: got %s, expected %s", got, diffid);
	return 0;
}

int ims_ingest_blob_commit(struct ims_ingest_blob *b, const char *diffid,
			   struct cm_error *err)
{
	struct ims_ingest *t = b->t;
	char got[CM_DIGEST_STR_LEN];
	int r = stage_flush(b, err);
	free(b->stage);
	b->stage = NULL;
	if (r < 0) {
		ims_ingest_blob_free(b);
		return r;
	}
	int64_t size = b->w.size;
	bool streamed = b->pipe_w >= 0;
	struct cm_error uerr = { 0 };
	/* the unpack's verdict is reported only if the blob itself is right:
	 * a corrupt blob is a digest mismatch, not whatever garbage it unpacks to */
	int ur = stream_join(b, &uerr);
	r = ims_blob_writer_finish_tmp(&b->w, got, err);
	if (r < 0) {
		free(b);
		return r;
	}
	if (size != b->size)
		r = cm_error_set(err, -EBADMSG, "blob %s: %lld bytes, its descriptor says %lld", b->digest,
				 (long long)size, (long long)b->size);
	else if (strcmp(got, b->digest) != 0)
		r = cm_error_set(err, -EBADMSG, "blob digest mismatch: got %s, expected %s", got, b->digest);
	else if (ur < 0) {
		if (err)
			*err = uerr;
		r = ur;
	} else if (diffid && !cm_digest_valid(diffid))
		r = cm_error_set(err, -EINVAL, "invalid diff_id %.80s", diffid);
	else if (diffid && streamed && strcmp(diffid, b->diffid) != 0)
		r = cm_error_set(err, -EINVAL, "layer %s committed as %s", b->diffid, diffid);
	else if (diffid && !streamed)
		r = ingest_layer(t, b->w.tmp, diffid, err);
	if (r >= 0)
		r = link_tmp(t, b->w.tmp, b->digest, err);
	else
		unlinkat(t->s->tmpfd, b->w.tmp, 0);
	free(b);
	return r;
}

int ims_ingest_put(struct ims_ingest *t, const char *digest, const void *buf, size_t len,
		   struct cm_error *err)
{
	struct ims_ingest_blob *b;
	int r = ims_ingest_blob_open(t, digest, (int64_t)len, &b, err);
	if (r < 0)
		return r;
	if ((r = ims_ingest_blob_write(b, buf, len, err)) < 0) {
		ims_ingest_blob_free(b);
		return r;
	}
	return ims_ingest_blob_commit(b, NULL, err);
}

int ims_ingest_name(struct ims_ingest *t, const char *manifest_digest, int64_t size,
		    const char *name, const char *repo_digest, struct cm_error *err)
{
	struct ims_store *s = t->s;
	struct ims_index idx;
	/* nothing queued (a re-pull, a push): the index written as ever */
	bool queued = s->batch && s->n_pend > 0;
	if (!queued)
		ims_batch_abort(s);
	/* the first syncfs: the data, then the names of blobs and layers */
	t->flushed = true;
	int r = ims_batch_flush(s, err);
	if (r < 0)
		return r;
	if (!ims_blob_exists(s, manifest_digest))
		return cm_error_set(err, -ENOENT, "manifest %s is not in the store", manifest_digest);
	if ((r = ims_index_read(s, &idx, true, err)) < 0)
		return r;
	/* still batched: index.json's temp queued, the second syncfs (those
	 * names and the temp), then the rename */
	if ((r = ims_index_put_rd(&idx, manifest_digest, size, name, repo_digest)) < 0)
		cm_error_set(err, r, "out of memory");
	else
		r = ims_index_write(s, &idx, err);
	ims_index_release(&idx);
	if (queued) {
		ims_batch_abort(s); /* flushed above: empty */
		if (r >= 0 && (r = cm_fsync_dirfd(s->rootfd)) < 0)
			cm_error_setx(err, r, "fsync of %s", s->root);
	}
	if (r >= 0)
		t->named = true;
	return r;
}

int ims_ingest_open_blob(struct ims_ingest *t, const char *digest, struct cm_error *err)
{
	return ims_blob_open(t->s, digest, err);
}
