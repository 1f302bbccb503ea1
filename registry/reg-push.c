// SPDX-License-Identifier: MIT
/* img push: every blob of the image HEADed (there already?), else mounted
 * from another repository of the same registry that has it, else uploaded
 * (POST, then PATCHes of a chunk each and PUT ?digest=, or one PUT with the
 * bytes when the blob fits a chunk or the registry refuses PATCH, streamed
 * from the store),
 * then the manifest PUT with its media type, byte for byte as stored (so its
 * digest is the one we have). After containerd's pusher.go. */
#include "reg-internal.h"
#include "ims-ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct body {
	const char *mem;  /* from memory, or */
	int fd;           /* from fd at off (pread: a retry starts again) */
	int64_t off;
	int64_t size;
	int64_t sent;
	int64_t total;    /* the whole blob's size (progress) */
	const struct reg_push_opts *o;
	const char *id;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
	struct body *b = ud;
	size_t want = size * n;
	if ((int64_t)want > b->size - b->sent)
		want = (size_t)(b->size - b->sent);
	if (want == 0)
		return 0;
	if (b->mem) {
		memcpy(buf, b->mem + b->sent, want);
	} else {
		ssize_t k = pread(b->fd, buf, want, (off_t)(b->off + b->sent));
		if (k <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)k;
	}
	b->sent += (int64_t)want;
	if (b->o && b->o->event && b->id)
		b->o->event(b->o->ctx, REG_PUSH_PUSHING, b->id, b->off + b->sent, b->total, NULL);
	return want;
}

/* One request with an optional body, Content-Type and one more header
 * line, the auth challenge answered once (the body sent again). */
static int exchange(struct reg_client *c, const char *method, const char *url, struct body *b,
		    const char *ctype, const char *extra, struct reg_resp *resp, struct cm_error *err)
{
	for (int attempt = 0;; attempt++) {
		CURL *h = reg_easy(c, method, url, NULL, resp);
		if (!h)
			return cm_error_set(err, -ENOMEM, "out of memory");
		resp->max = REG_MAX_MANIFEST;
		resp->limit = -1;
		/* redirects are for GETs; an upload goes where it was sent */
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		if (ctype) {
			char hdr[200];
			snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
			resp->hdrs = curl_slist_append(resp->hdrs, hdr);
		}
		if (extra)
			resp->hdrs = curl_slist_append(resp->hdrs, extra);
		/* no "Expect: 100-continue" wait before a body (docker's client
		 * sends none): the token is in hand before any upload starts */
		if (b)
			resp->hdrs = curl_slist_append(resp->hdrs, "Expect:");
		if (ctype || extra || b)
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, resp->hdrs);
		if (b) {
			b->sent = 0;
			curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(h, CURLOPT_READDATA, b);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->size);
		} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		}
		CURLcode cc = reg_perform(h);
		curl_easy_cleanup(h);
		if (cc == CURLE_OK && !resp->fail && resp->status == 401 && resp->www_auth &&
		    attempt == 0) {
			int r = reg_auth_answer(c, resp->www_auth, err);
			if (r < 0)
				return r;
			continue;
		}
		return reg_result(c, cc, resp, err);
	}
}

/* An upload URL from a Location header: absolute (http/https) or a path;
 * with ?digest= when digest is given (the closing PUT). */
static char *location_url(struct reg_client *c, const char *loc, const char *digest)
{
	char *u;
	const char *sep = !digest ? "" : strchr(loc, '?') ? "&digest=" : "?digest=";
	int r;
	if (strncmp(loc, "https://", 8) == 0 || strncmp(loc, "http://", 7) == 0)
		r = asprintf(&u, "%s%s%s", loc, sep, digest ? digest : "");
	else if (loc[0] == '/')
		r = asprintf(&u, "%s://%s%s%s%s", c->scheme, c->host, loc, sep, digest ? digest : "");
	else
		return NULL;
	return r < 0 ? NULL : u;
}

/* 1 there, 0 not there, < 0 error. */
static int blob_exists(struct reg_client *c, const char *digest, int64_t size, struct cm_error *err)
{
	char what[100];
	snprintf(what, sizeof(what), "blobs/%s", digest);
	_cleanup_free_ char *url = reg_url(c, what);
	if (!url)
		return cm_error_set(err, -ENOMEM, "out of memory");
	struct reg_resp resp = { 0 };
	int r = exchange(c, "HEAD", url, NULL, NULL, NULL, &resp, err);
	reg_resp_clear(&resp);
	if (r == -ENOENT)
		return 0;
	(void)size;
	return r < 0 ? r : 1;
}

/* Start an upload, mounting from `from` if given: 1 mounted (done), 0 an
 * upload session in *ret_loc. */
static int upload_start(struct reg_client *c, const char *digest, const char *from,
			char **ret_loc, char **ret_chunk_min, struct cm_error *err)
{
	char what[700];
	if (from)
		snprintf(what, sizeof(what), "blobs/uploads/?mount=%s&from=%s", digest, from);
	else
		snprintf(what, sizeof(what), "blobs/uploads/");
	_cleanup_free_ char *url = reg_url(c, what);
	if (!url)
		return cm_error_set(err, -ENOMEM, "out of memory");
	struct reg_resp resp = { 0 };
	int r = exchange(c, "POST", url, NULL, NULL, NULL, &resp, err);
	if (r >= 0 && resp.status == 201 && from) {
		r = 1;
	} else if (r >= 0 && resp.status == 202 && resp.location) {
		*ret_loc = TAKE_PTR(resp.location);
		*ret_chunk_min = TAKE_PTR(resp.chunk_min);
		r = 0;
	} else if (r >= 0) {
		r = cm_error_set(err, -EPROTO, "upload start answered HTTP %ld without a Location",
				 resp.status);
	}
	reg_resp_clear(&resp);
	return r;
}

/* The closing PUT ?digest= of an upload, with the whole blob (b, monolithic)
 * or nothing (after PATCHes): 201 and the digest we sent. */
static int upload_put(struct reg_client *c, const char *loc, const char *digest, struct body *b,
		      struct cm_error *err)
{
	_cleanup_free_ char *url = location_url(c, loc, digest);
	if (!url)
		return cm_error_set(err, -EPROTO, "bad upload location %.100s", loc);
	struct reg_resp resp = { 0 };
	int r = exchange(c, "PUT", url, b, b ? "application/octet-stream" : NULL, NULL, &resp, err);
	if (r >= 0 && resp.status != 201)
		r = cm_error_set(err, -EPROTO, "blob upload answered HTTP %ld", resp.status);
	if (r >= 0 && resp.dcd && strcmp(resp.dcd, digest) != 0)
		r = cm_error_set(err, -EBADMSG, "the registry stored %.80s for blob %s", resp.dcd, digest);
	reg_resp_clear(&resp);
	return r;
}

/* Bytes per PATCH of a chunked upload: $IMG_PUSH_CHUNK_SIZE, else 32 MiB;
 * at least the registry's OCI-Chunk-Min-Length. A blob that fits in one
 * chunk goes up in one PUT (a request fewer, as the spec's monolithic
 * upload). */
#define REG_PUSH_CHUNK ((int64_t)32 << 20)

static int64_t chunk_size(const char *min_hdr)
{
	const char *e = getenv("IMG_PUSH_CHUNK_SIZE");
	long long v = e && *e ? strtoll(e, NULL, 10) : 0;
	int64_t n = v > 0 ? (int64_t)v : REG_PUSH_CHUNK;
	long long min = min_hdr ? strtoll(min_hdr, NULL, 10) : 0;
	return min > n ? (int64_t)min : n;
}

/* A registry that has no chunked uploads answers a PATCH so. */
static bool patch_refused(long status)
{
	return status == 404 || status == 405 || status == 415 || status == 501;
}

/* Upload b's blob into the session at loc: PATCHes of a chunk each (every
 * answer's Location is the next one's URL), then the closing PUT; a
 * registry that refuses the first PATCH gets the blob in one PUT of a new
 * session instead. */
static int upload(struct reg_client *c, const char *loc, const char *chunk_min, const char *digest,
		  struct body *b, struct cm_error *err)
{
	int64_t chunk = chunk_size(chunk_min);
	if (b->size <= chunk)
		return upload_put(c, loc, digest, b, err);
	_cleanup_free_ char *cur = strdup(loc);
	if (!cur)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (int64_t off = 0; off < b->size;) {
		int64_t n = b->size - off < chunk ? b->size - off : chunk;
		_cleanup_free_ char *url = location_url(c, cur, NULL);
		if (!url)
			return cm_error_set(err, -EPROTO, "bad upload location %.100s", cur);
		char range[80];
		snprintf(range, sizeof(range), "Content-Range: %lld-%lld", (long long)off,
			 (long long)(off + n - 1));
		struct body part = *b;
		part.off = off;
		part.size = n;
		struct reg_resp resp = { 0 };
		int r = exchange(c, "PATCH", url, &part, "application/octet-stream", range, &resp, err);
		if (r < 0 && off == 0 && patch_refused(resp.status)) {
			/* monolithic, in a fresh session (this one may be spoilt) */
			reg_resp_clear(&resp);
			_cleanup_free_ char *loc2 = NULL;
			_cleanup_free_ char *min2 = NULL;
			cm_error_clear(err);
			if ((r = upload_start(c, digest, NULL, &loc2, &min2, err)) < 0)
				return r;
			b->off = 0;
			return upload_put(c, loc2, digest, b, err);
		}
		if (r >= 0 && resp.status != 202)
			r = cm_error_set(err, -EPROTO, "blob chunk answered HTTP %ld", resp.status);
		if (r >= 0 && resp.location) {
			free(cur);
			cur = TAKE_PTR(resp.location);
		}
		reg_resp_clear(&resp);
		if (r < 0)
			return r;
		off += n;
	}
	return upload_put(c, cur, digest, NULL, err);
}

/* Push one blob from the store: exists, mounted or uploaded. */
static int push_blob(struct reg_client *c, struct ims_ingest *t, const char *digest, int64_t size,
		     const char *const *from, size_t n_from, const struct reg_push_opts *o,
		     const char *id, struct cm_error *err)
{
	int r = blob_exists(c, digest, size, err);
	if (r < 0)
		return r;
	if (r > 0) {
		if (id && o->event)
			o->event(o->ctx, REG_PUSH_EXISTS, id, 0, size, NULL);
		return 0;
	}
	_cleanup_free_ char *loc = NULL, *chunk_min = NULL;
	for (size_t i = 0; i < n_from && !loc; i++) {
		r = upload_start(c, digest, from[i], &loc, &chunk_min, err);
		if (r < 0)
			return r;
		if (r == 1) {
			if (id && o->event)
				o->event(o->ctx, REG_PUSH_MOUNTED, id, 0, size, from[i]);
			return 0;
		}
	}
	if (!loc && (r = upload_start(c, digest, NULL, &loc, &chunk_min, err)) < 0)
		return r;
	_cleanup_close_ int fd = ims_ingest_open_blob(t, digest, err);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size != size)
		return cm_error_set(err, -EBADMSG, "stored blob %s is not %lld bytes (run img fsck)",
				    digest, (long long)size);
	struct body b = { .fd = fd, .size = size, .total = size, .o = o, .id = id };
	if ((r = upload(c, loc, chunk_min, digest, &b, err)) < 0)
		return r;
	if (id && o->event)
		o->event(o->ctx, REG_PUSH_PUSHED, id, size, size, NULL);
	return 0;
}

struct push_job {
	const char *digest;
	int64_t size;
	char id[16];     /* "" for the config: no line of its own */
	int r;
	struct cm_error err;
};

struct push_pool {
	struct reg_client *c;
	struct ims_ingest *t;
	const char *const *from;
	size_t n_from;
	const struct reg_push_opts *o;
	struct push_job *jobs;
	size_t n, next;
	bool failed;
	pthread_mutex_t lock;
};

static void *push_worker(void *ud)
{
	struct push_pool *p = ud;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		struct push_job *j = !p->failed && p->next < p->n ? &p->jobs[p->next++] : NULL;
		pthread_mutex_unlock(&p->lock);
		if (!j) {
			reg_conn_release(); /* this thread's connections */
			return NULL;
		}
		j->r = push_blob(p->c, p->t, j->digest, j->size, p->from, p->n_from, p->o,
				 j->id[0] ? j->id : NULL, &j->err);
		if (j->r < 0) {
			if (j->id[0])
				cm_error_prefix(&j->err, j->r, "layer %s", j->id);
			pthread_mutex_lock(&p->lock);
			p->failed = true;
			pthread_mutex_unlock(&p->lock);
		}
	}
}

#define REG_PUSH_THREADS_MAX 64

/* Every layer and the config, o->parallel at a time (docker pushes
 * several at once). The challenge is answered for pull,push first, so the
 * workers start with a token. */
static int push_blobs(struct reg_client *c, struct ims_ingest *t, const struct cm_json *m,
		      const char *const *from, size_t n_from, const struct reg_push_opts *o,
		      struct cm_error *err)
{
	const struct cm_json *ls = cm_json_get(m, "layers");
	size_t n = ls->n + 1;
	struct push_pool p = { .c = c, .t = t, .from = from, .n_from = n_from, .o = o, .n = n };
	int r = 0;
	if (!(p.jobs = calloc(n, sizeof(*p.jobs))))
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ls->n && r >= 0; i++) {
		struct push_job *j = &p.jobs[i];
		if ((r = reg_desc_get(ls->v[i], REG_MAX_LAYER_SIZE, &j->digest, &j->size, err)) < 0)
			break;
		snprintf(j->id, sizeof(j->id), "%.12s", j->digest + 7);
		if (o->event)
			o->event(o->ctx, REG_PUSH_PREPARING, j->id, 0, j->size, NULL);
	}
	if (r >= 0)
		r = reg_desc_get(cm_json_get(m, "config"), REG_MAX_MANIFEST, &p.jobs[n - 1].digest,
				 &p.jobs[n - 1].size, err);
	if (r >= 0 && c->challenge)
		r = reg_auth_answer(c, c->challenge, err);
	if (r < 0) {
		free(p.jobs);
		return r;
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_t th[REG_PUSH_THREADS_MAX];
	size_t want = (size_t)o->parallel, nt = 0;
	if (want > REG_PUSH_THREADS_MAX)
		want = REG_PUSH_THREADS_MAX;
	for (; nt < want && nt < n; nt++)
		if (pthread_create(&th[nt], NULL, push_worker, &p) != 0)
			break;
	if (nt == 0)
		push_worker(&p);
	for (size_t i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.lock);
	for (size_t i = 0; i < n && r >= 0; i++)
		if (p.jobs[i].r < 0) {
			*err = p.jobs[i].err;
			r = p.jobs[i].r;
		}
	free(p.jobs);
	return r;
}

static int put_manifest(struct reg_client *c, const struct reg_ref *dst, const char *digest,
			const struct cm_json *m, const char *buf, size_t len, struct cm_error *err)
{
	const char *mt = cm_json_get_str(m, "mediaType");
	if (!mt)
		mt = REG_MT_OCI_MANIFEST;
	char what[300];
	snprintf(what, sizeof(what), "manifests/%s", dst->tag ? dst->tag : digest);
	_cleanup_free_ char *url = reg_url(c, what);
	if (!url)
		return cm_error_set(err, -ENOMEM, "out of memory");
	struct reg_resp resp = { 0 };
	struct body b = { .mem = buf, .size = (int64_t)len, .total = (int64_t)len, .fd = -1 };
	int r = exchange(c, "PUT", url, &b, mt, NULL, &resp, err);
	if (r >= 0 && resp.dcd && strcmp(resp.dcd, digest) != 0)
		r = cm_error_set(err, -EBADMSG, "the registry stored manifest %.80s, we sent %s", resp.dcd,
				 digest);
	reg_resp_clear(&resp);
	return r;
}

int reg_push(struct ims_store *s, const char *manifest_digest, const struct reg_ref *dst,
	     const char *const *from, size_t n_from, const struct reg_push_opts *o,
	     struct reg_push_result *ret, struct cm_error *err)
{
	_cleanup_client_ struct reg_client *c = NULL;
	struct ims_ingest *t = NULL;
	_cleanup_free_ char *mbuf = NULL;
	size_t mlen = 0;
	_cleanup_json_ struct cm_json *m = NULL;
	struct reg_push_opts po = *o;
	int r = reg_config_concurrency(o->parallel, true, &po.parallel, err);
	if (r < 0)
		return r;
	o = &po;
	if ((r = reg_client_new(dst, &o->reg, &c, err)) < 0)
		return r;
	c->scope_actions = "pull,push";
	if ((r = ims_ingest_begin(s, &t, err)) < 0)
		return r;
	enum reg_manifest_kind kind;
	if ((r = ims_ingest_read_blob(t, manifest_digest, REG_MAX_MANIFEST, &mbuf, &mlen, err)) < 0 ||
	    (r = reg_manifest_check(mbuf, mlen, NULL, &kind, &m, err)) < 0)
		goto out;
	if (kind != REG_KIND_MANIFEST) {
		r = cm_error_set(err, -EINVAL, "%s is an index, not an image", manifest_digest);
		goto out;
	}
	if ((r = reg_ping(c, err)) < 0 || (r = push_blobs(c, t, m, from, n_from, o, err)) < 0)
		goto out;
	if ((r = put_manifest(c, dst, manifest_digest, m, mbuf, mlen, err)) < 0)
		goto out;
	memcpy(ret->digest, manifest_digest, CM_DIGEST_STR_LEN);
	ret->size = (int64_t)mlen;
	/* the registry has it: docker's RepoDigests gain DOMAIN/REPO@digest,
	 * on the local name dst when it is this image's, else unnamed */
	char rd[1024], before[CM_DIGEST_STR_LEN];
	if (snprintf(rd, sizeof(rd), "%s/%s@%s", dst->domain, dst->repo, manifest_digest) <
	    (int)sizeof(rd)) {
		ims_ingest_named(t, dst->name, before);
		r = ims_ingest_name(t, manifest_digest, (int64_t)mlen,
				    strcmp(before, manifest_digest) == 0 ? dst->name : NULL, rd, err);
	}
out:
	ims_ingest_free(t);
	return r;
}
