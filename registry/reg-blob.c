// SPDX-License-Identifier: MIT
/* Blobs: GET /v2/REPO/blobs/DIGEST, streamed to a sink that never gets more
 * than the descriptor's size, several at a time on one curl multi handle
 * (docker downloads 3 layers at a time). */
#include "reg-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mem_sink {
	char *buf;
	size_t len, cap;
};

static int mem_write(void *ctx, const void *buf, size_t len, struct cm_error *err)
{
	struct mem_sink *m = ctx;
	if (m->len + len > m->cap)
		return cm_error_set(err, -EPROTO, "blob larger than declared");
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

int reg_blob_get_mem(struct reg_client *c, const char *digest, int64_t size,
		     char **ret, size_t *ret_len, struct cm_error *err)
{
	if (size < 0 || size > REG_MAX_MANIFEST)
		return cm_error_set(err, -EFBIG, "blob %s: %lld bytes, over the %d byte cap", digest,
				    (long long)size, REG_MAX_MANIFEST);
	struct mem_sink m = { .cap = (size_t)size };
	if (!(m.buf = malloc((size_t)size + 1)))
		return cm_error_set(err, -ENOMEM, "out of memory");
	struct reg_blob_req q = { .digest = digest, .size = size, .write = mem_write, .ctx = &m };
	int r = reg_blobs_get(c, &q, 1, 1, err);
	char got[CM_DIGEST_STR_LEN];
	if (r >= 0 && m.len != (size_t)size)
		r = cm_error_set(err, -EPROTO, "blob %s: %zu bytes, expected %lld", digest, m.len,
				 (long long)size);
	if (r >= 0 && (r = cm_sha256_buf(m.buf, m.len, got)) < 0)
		cm_error_set(err, r, "out of memory");
	if (r >= 0 && strcmp(got, digest) != 0)
		r = cm_error_set(err, -EBADMSG, "blob digest mismatch: got %s, expected %s", got, digest);
	if (r < 0) {
		free(m.buf);
		return r;
	}
	m.buf[m.len] = '\0';
	*ret = m.buf;
	*ret_len = m.len;
	return 0;
}

struct xfer {
	struct reg_blob_req *q;
	struct reg_resp resp;
	CURL *h;
	char *url;
	bool retried; /* answered a 401 once */
	int resumes;  /* Range restarts after a cut connection */
};

#define REG_MAX_RESUMES 3

static int xfer_start(struct reg_client *c, CURLM *mh, struct xfer *x, int64_t from)
{
	if (!x->url) {
		char what[100];
		snprintf(what, sizeof(what), "blobs/%s", x->q->digest);
		if (!(x->url = reg_url(c, what)))
			return -ENOMEM;
	}
	x->resp.max = REG_MAX_MANIFEST;
	x->h = reg_easy(c, "GET", x->url, NULL, &x->resp);
	if (!x->h)
		return -ENOMEM;
	x->resp.limit = x->q->size;
	x->resp.got = from;
	x->resp.resume_at = from;
	if (from > 0) {
		char range[64];
		snprintf(range, sizeof(range), "%lld-", (long long)from);
		curl_easy_setopt(x->h, CURLOPT_RANGE, range);
	}
	x->resp.sink = x->q->write;
	x->resp.sink_ctx = x->q->ctx;
	x->resp.progress = x->q->progress;
	/* a declared length over the size is refused before any byte */
	curl_easy_setopt(x->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->q->size);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	/* the body in pieces of up to 256 KiB, not curl's default 16: a recv,
	 * a blob write and a pipe write per piece (strace -c of a 56 MB layer:
	 * 3,675 recvfrom and 8,080 writes with 16 KiB) */
	curl_easy_setopt(x->h, CURLOPT_BUFFERSIZE, 256L << 10);
	if (curl_multi_add_handle(mh, x->h) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

/* A finished transfer: 0 done, 1 restarted (after an auth answer), <0 failed. */
static int xfer_done(struct reg_client *c, CURLM *mh, struct xfer *x, CURLcode cc)
{
	struct reg_blob_req *q = x->q;
	curl_multi_remove_handle(mh, x->h);
	curl_easy_cleanup(x->h);
	x->h = NULL;
	if (cc == CURLE_OK && !x->resp.fail && x->resp.status == 401 && x->resp.www_auth &&
	    !x->retried) {
		x->retried = true;
		int r = reg_auth_answer(c, x->resp.www_auth, &q->err);
		if (r < 0)
			return q->result = r;
		return xfer_start(c, mh, x, 0) < 0 ? (q->result = -ENOMEM) : 1;
	}
	/* a dropped connection mid-blob: go on from there with Range */
	int64_t got = x->resp.got;
	if ((cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING) &&
	    !x->resp.fail && got > 0 && got < q->size && x->resumes < REG_MAX_RESUMES) {
		x->resumes++;
		return xfer_start(c, mh, x, got) < 0 ? (q->result = -ENOMEM) : 1;
	}
	int r = reg_result(c, cc, &x->resp, &q->err);
	if (r >= 0 && x->resp.got != q->size)
		r = cm_error_set(&q->err, -EPROTO, "got %lld of %lld bytes",
				 (long long)x->resp.got, (long long)q->size);
	if (r < 0)
		cm_error_prefix(&q->err, r, "blob %.19s", q->digest);
	return q->result = r < 0 ? r : 0;
}

int reg_blobs_get(struct reg_client *c, struct reg_blob_req *reqs, size_t n,
		  int parallel, struct cm_error *err)
{
	int r = reg_ping(c, err);
	if (r < 0)
		return r;
	if (parallel < 1)
		parallel = 1;
	struct xfer *xs = calloc(n ? n : 1, sizeof(*xs));
	/* on the connections of the ping and the manifests, if free */
	CURLM *pool = reg_conn_acquire();
	CURLM *mh = pool ? pool : curl_multi_init();
	if (!xs || !mh) {
		free(xs);
		if (pool)
			reg_conn_put();
		else if (mh)
			curl_multi_cleanup(mh);
		return cm_error_set(err, -ENOMEM, "out of memory");
	}
	size_t next = 0, active = 0;
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		xs[i].q = &reqs[i];
		reqs[i].result = 0;
		cm_error_clear(&reqs[i].err);
	}
	while (!first && (next < n || active > 0)) {
		while (!first && next < n && active < (size_t)parallel) {
			if (xfer_start(c, mh, &xs[next], 0) < 0)
				first = cm_error_set(err, -ENOMEM, "out of memory");
			next++;
			active++;
		}
		int running = 0;
		if (curl_multi_perform(mh, &running) != CURLM_OK) {
			first = cm_error_set(err, -EIO, "curl multi failed");
			break;
		}
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(mh, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct xfer *x = NULL;
			CURLcode cc = msg->data.result;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			int d = xfer_done(c, mh, x, cc);
			if (d == 1)
				continue;
			active--;
			if (d < 0 && !first) {
				*err = x->q->err;
				first = d;
			}
		}
		if (!first && active > 0 && curl_multi_poll(mh, NULL, 0, 1000, NULL) != CURLM_OK)
			first = cm_error_set(err, -EIO, "curl multi poll failed");
	}
	for (size_t i = 0; i < n; i++) {
		if (xs[i].h) {
			curl_multi_remove_handle(mh, xs[i].h);
			curl_easy_cleanup(xs[i].h);
		}
		reg_resp_clear(&xs[i].resp);
		free(xs[i].url);
	}
	if (pool)
		reg_conn_put();
	else
		curl_multi_cleanup(mh);
	free(xs);
	return first;
}
