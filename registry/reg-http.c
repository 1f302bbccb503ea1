// SPDX-License-Identifier: MIT
/* One HTTP exchange with a registry, on libcurl easy handles: TLS verified
 * (system CAs plus docker's certs.d/HOST/ca.crt and client certs), plain
 * HTTP only for loopback or --tls-verify=false, redirects to http(s) only,
 * every body capped, the spec's JSON errors turned into one line. */
#include "reg-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define REG_MAX_ERROR_BODY (64 << 10)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Each thread's connection pool: a curl multi handle that every request of
 * the thread runs on (reg_perform) and the blob downloads share, so the
 * ping, the token, the manifests and the blobs go over connections already
 * open (one TCP and TLS handshake per registry, not one per request; HTTP/2
 * multiplexes the parallel blobs over one). Released by reg_conn_release. */
static __thread CURLM *conn_pool;
static __thread bool conn_pool_busy; /* a transfer loop runs on it */

CURLM *reg_conn_acquire(void)
{
	if (conn_pool_busy)
		return NULL; /* a request made inside a loop (a token): its own */
	if (!conn_pool)
		conn_pool = curl_multi_init();
	conn_pool_busy = conn_pool != NULL;
	return conn_pool;
}

void reg_conn_put(void)
{
	conn_pool_busy = false;
}

void reg_conn_release(void)
{
	if (conn_pool && !conn_pool_busy) {
		curl_multi_cleanup(conn_pool);
		conn_pool = NULL;
	}
}

CURLcode reg_perform(CURL *h)
{
	CURLM *mh = reg_conn_acquire();
	if (!mh)
		return curl_easy_perform(h);
	if (curl_multi_add_handle(mh, h) != CURLM_OK) {
		reg_conn_put();
		return curl_easy_perform(h);
	}
	CURLcode cc = CURLE_OK;
	bool done = false;
	while (!done) {
		int running = 0;
		if (curl_multi_perform(mh, &running) != CURLM_OK) {
			cc = CURLE_OUT_OF_MEMORY;
			break;
		}
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(mh, &left)))
			if (m->msg == CURLMSG_DONE && m->easy_handle == h) {
				cc = m->data.result;
				done = true;
			}
		if (!done && curl_multi_poll(mh, NULL, 0, 1000, NULL) != CURLM_OK) {
			cc = CURLE_OUT_OF_MEMORY;
			break;
		}
	}
	curl_multi_remove_handle(mh, h);
	reg_conn_put();
	return cc;
}

static bool host_is_loopback(const char *host)
{
	if (strncmp(host, "127.", 4) == 0 || strncmp(host, "[::1]", 5) == 0)
		return true;
	size_t n = strcspn(host, ":");
	return n == 9 && strncmp(host, "localhost", 9) == 0;
}

static char *file_in(const char *dir, const char *host, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s/%s", dir, host, name) < 0)
		return NULL;
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

static int client_new(const char *host, const char *repo, const struct reg_opts *o,
		      struct reg_client **ret, struct cm_error *err)
{
	pthread_once(&curl_once, curl_init_once);
	const struct reg_config *cf;
	int r = reg_config_get(&cf, err);
	if (r < 0)
		return r;
	struct reg_client *c = calloc(1, sizeof(*c));
	if (!c)
		return cm_error_set(err, -ENOMEM, "out of memory");
	c->host = strdup(host);
	c->repo = strdup(repo);
	c->insecure = (o && o->insecure) || reg_config_insecure(cf, host);
	c->loopback = host_is_loopback(c->host);
	c->scheme = "https";
	c->scope_actions = "pull";
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&c->auth_lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (o && o->user && !(c->user = strdup(o->user)))
		goto oom;
	if (o && o->pass && !(c->pass = strdup(o->pass)))
		goto oom;
	if (!c->host || !c->repo)
		goto oom;
	if (!c->user && reg_cred_lookup(c->host, &c->user, &c->pass) < 0)
		c->user = c->pass = NULL;
	const char *dir = o && o->certs_dir ? o->certs_dir : getenv("IMG_CERTS_D");
	if (!dir || !*dir)
		dir = "/etc/docker/certs.d";
	c->ca_file = file_in(dir, c->host, "ca.crt");
	c->cert = file_in(dir, c->host, "client.cert");
	c->key = file_in(dir, c->host, "client.key");
	*ret = c;
	return 0;
oom:
	reg_client_free(c);
	return cm_error_set(err, -ENOMEM, "out of memory");
}

int reg_client_new(const struct reg_ref *ref, const struct reg_opts *o,
		   struct reg_client **ret, struct cm_error *err)
{
	return client_new(reg_ref_host(ref), ref->repo, o, ret, err);
}

int reg_client_new_at(const char *host, const char *scheme, const char *repo,
		      const struct reg_opts *o, struct reg_client **ret, struct cm_error *err)
{
	struct reg_client *c;
	int r = client_new(host, repo, o, &c, err);
	if (r < 0)
		return r;
	if (scheme && strcmp(scheme, "http") == 0) {
		/* a mirror configured as http:// speaks plain HTTP */
		c->scheme = "http";
	}
	*ret = c;
	return 0;
}

void reg_client_free(struct reg_client *c)
{
	if (!c)
		return;
	free(c->host);
	free(c->repo);
	free(c->ca_file);
	free(c->cert);
	free(c->key);
	free(c->user);
	if (c->pass) {
		explicit_bzero(c->pass, strlen(c->pass));
		free(c->pass);
	}
	if (c->authz) {
		explicit_bzero(c->authz, strlen(c->authz));
		free(c->authz);
	}
	free(c->challenge);
	pthread_mutex_destroy(&c->auth_lock);
	free(c);
	reg_conn_release();
}

void reg_client_freep(struct reg_client **c)
{
	reg_client_free(*c);
}

char *reg_url(struct reg_client *c, const char *what)
{
	char *u;
	int r = what ? asprintf(&u, "%s://%s/v2/%s/%s", c->scheme, c->host, c->repo, what)
		     : asprintf(&u, "%s://%s/v2/", c->scheme, c->host);
	return r < 0 ? NULL : u;
}

static void resp_reset_headers(struct reg_resp *r)
{
	free(r->ctype);
	free(r->dcd);
	free(r->www_auth);
	free(r->location);
	free(r->range);
	free(r->crange);
	free(r->chunk_min);
	r->ctype = r->dcd = r->www_auth = r->location = r->range = r->crange = r->chunk_min = NULL;
	r->seen = 0;
}

void reg_resp_clear(struct reg_resp *r)
{
	resp_reset_headers(r);
	free(r->mem);
	r->mem = NULL;
	r->len = 0;
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
}

static void keep_header(char **dst, const char *v, size_t len)
{
	free(*dst);
	*dst = strndup(v, len);
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
	struct reg_resp *r = ud;
	size_t len = size * n;
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or a 100) */
		resp_reset_headers(r);
		const char *sp = memchr(buf, ' ', len);
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return len;
	}
	const char *colon = memchr(buf, ':', len);
	if (!colon)
		return len;
	size_t klen = (size_t)(colon - buf);
	const char *v = colon + 1;
	size_t vlen = len - klen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	static const struct { const char *k; size_t off; } keys[] = {
		{ "content-type", offsetof(struct reg_resp, ctype) },
		{ "docker-content-digest", offsetof(struct reg_resp, dcd) },
		{ "www-authenticate", offsetof(struct reg_resp, www_auth) },
		{ "location", offsetof(struct reg_resp, location) },
		{ "range", offsetof(struct reg_resp, range) },
		{ "content-range", offsetof(struct reg_resp, crange) },
		{ "oci-chunk-min-length", offsetof(struct reg_resp, chunk_min) },
	};
	for (size_t i = 0; i < CM_ARRAY_SIZE(keys); i++)
		if (klen == strlen(keys[i].k) && strncasecmp(buf, keys[i].k, klen) == 0)
			keep_header((char **)((char *)r + keys[i].off), v, vlen);
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
	struct reg_resp *r = ud;
	size_t len = size * n;
	if (r->fail)
		return 0;
	if (r->sink && r->status >= 200 && r->status < 300) {
		if (r->resume_at > 0 && r->seen == 0 && r->status == 206) {
			/* a resumed blob: the part must start where we stopped */
			long long from = -1;
			if (!r->crange || sscanf(r->crange, "bytes %lld-", &from) != 1 ||
			    from != r->resume_at) {
				r->fail = cm_error_set(&r->err, -EPROTO, "resumed at %lld, the registry sent %.60s",
						       (long long)r->resume_at, r->crange ? r->crange : "no Content-Range");
				return 0;
			}
		}
		if (r->resume_at > 0 && r->status == 200) {
			/* the registry ignored Range: skip what we already have */
			int64_t drop = r->resume_at - r->seen;
			r->seen += (int64_t)len;
			if (drop >= (int64_t)len)
				return len;
			if (drop > 0) {
				buf += drop;
				len -= (size_t)drop;
			}
			r->resume_at = 0;
		}
		r->seen += (int64_t)len;
		if (r->limit >= 0 && r->got + (int64_t)len > r->limit) {
			r->fail = cm_error_set(&r->err, -EPROTO,
					       "the registry sent more than the %lld bytes declared",
					       (long long)r->limit);
			return 0;
		}
		r->got += (int64_t)len;
		int rc = r->sink(r->sink_ctx, buf, len, &r->err);
		if (rc < 0) {
			r->fail = rc;
			return 0;
		}
		if (r->progress)
			r->progress(r->sink_ctx, r->got, r->limit);
		return len;
	}
	size_t max = r->status >= 200 && r->status < 300 ? r->max : REG_MAX_ERROR_BODY;
	if (r->len + len > max) {
		r->fail = cm_error_set(&r->err, -EFBIG, "response over the %zu byte cap", max);
		return 0;
	}
	char *m = realloc(r->mem, r->len + len + 1);
	if (!m) {
		r->fail = cm_error_set(&r->err, -ENOMEM, "out of memory");
		return 0;
	}
	memcpy(m + r->len, buf, len);
	r->len += len;
	m[r->len] = '\0';
	r->mem = m;
	return len;
}

/* True if url is on the registry's own authority (scheme://HOST[:PORT]/). */
static bool same_host(const struct reg_client *c, const char *url)
{
	const char *a = strstr(url, "://");
	if (!a)
		return false;
	a += 3;
	size_t n = strcspn(a, "/?#");
	return n == strlen(c->host) && strncasecmp(a, c->host, n) == 0;
}

CURL *reg_easy(struct reg_client *c, const char *method, const char *url,
	       const char *accept, struct reg_resp *resp)
{
	/* our credentials or token go to the registry only: an upload Location
	 * or a realm elsewhere never sees them (curl drops them on redirects) */
	pthread_mutex_lock(&c->auth_lock);
	_cleanup_free_ char *authz = c->authz && same_host(c, url) ? strdup(c->authz) : NULL;
	pthread_mutex_unlock(&c->auth_lock);
	CURL *h = reg_easy_authz(c, method, url, accept, resp, authz);
	if (authz)
		explicit_bzero(authz, strlen(authz));
	return h;
}

/* No verification, so no CA store either: curl loads the whole system
 * bundle for every TLS connection it verifies or not (OpenSSL 3 parses its
 * ~140 PEM certificates in 35-40 ms of CPU, measured with perf on img
 * pull), and an unverified one has no use for it. */
static void tls_unverified(CURL *h)
{
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
}

CURL *reg_easy_authz(struct reg_client *c, const char *method, const char *url,
		     const char *accept, struct reg_resp *resp, const char *authz)
{
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	reg_resp_clear(resp);
	resp->c = c;
	resp->status = 0;
	resp->fail = 0;
	resp->got = 0;
	resp->resume_at = 0;
	resp->errbuf[0] = '\0';
	cm_error_clear(&resp->err);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "img/" "0.1 (OCI distribution client)");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->errbuf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer: under 1 byte/s for a minute */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	/* never from https down to http; never another scheme */
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
			 strncmp(url, "https:", 6) == 0 ? "https" : "http,https");
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (c->insecure)
		tls_unverified(h);
	else if (c->ca_file) {
		/* in addition to the system's CAs (CAPATH stays the default dir) */
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
		curl_easy_setopt(h, CURLOPT_CAPATH, "/etc/ssl/certs");
	}
	if (c->cert && c->key) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
	}
	if (accept) {
		char *a;
		if (asprintf(&a, "Accept: %s", accept) >= 0) {
			resp->hdrs = curl_slist_append(resp->hdrs, a);
			free(a);
		}
	}
	/* curl drops our Authorization header on a redirect to another host */
	if (authz)
		resp->hdrs = curl_slist_append(resp->hdrs, authz);
	if (resp->hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, resp->hdrs);
	return h;
}

/* The spec's {"errors":[{"code","message"}]}: the first message, else code. */
static void registry_message(const char *body, size_t len, char *out, size_t sz)
{
	out[0] = '\0';
	_cleanup_json_ struct cm_json *j = NULL;
	if (!body || cm_json_parse(body, len, &j, NULL, 0) < 0)
		return;
	const struct cm_json *es = cm_json_get(j, "errors");
	if (!cm_json_is(es, CM_JSON_ARRAY) || es->n == 0)
		return;
	const char *m = cm_json_get_str(es->v[0], "message");
	if (!m || !*m)
		m = cm_json_get_str(es->v[0], "code");
	if (!m)
		return;
	/* one line, printable */
	size_t i = 0;
	for (; m[i] && i + 1 < sz && i < 200; i++)
		out[i] = (m[i] < 0x20 || m[i] == 0x7f) ? ' ' : m[i];
	out[i] = '\0';
}

static int status_errno(long st)
{
	switch (st) {
	case 401: return -EACCES;
	case 403: return -EPERM;
	case 404: return -ENOENT;
	case 416: return -ERANGE;
	case 429: return -EAGAIN;
	default: return st >= 500 ? -EIO : -EPROTO;
	}
}

int reg_result(struct reg_client *c, CURLcode cc, struct reg_resp *r, struct cm_error *err)
{
	if (r->fail) {
		*err = r->err;
		return r->fail;
	}
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return cm_error_set(err, -EPROTO, "refused a redirect to %s (only http and https)",
				    r->location ? r->location : "another scheme");
	case CURLE_TOO_MANY_REDIRECTS:
		return cm_error_set(err, -ELOOP, "too many redirects");
	case CURLE_FILESIZE_EXCEEDED:
		if (r->sink && r->limit >= 0)
			return cm_error_set(err, -EPROTO, "the registry sent more than the %lld bytes declared",
					    (long long)r->limit);
		return cm_error_set(err, -EFBIG, "response over the %zu byte cap", r->max);
	case CURLE_PEER_FAILED_VERIFICATION:
		return cm_error_set(err, -EPERM, "TLS: %s (a CA for it goes in certs.d/%s/ca.crt; --tls-verify=false skips the check)",
				    r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc), c->host);
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return cm_error_set(err, -ECONNREFUSED, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
	default:
		return cm_error_set(err, -EIO, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
	}
	if (r->status >= 200 && r->status < 300)
		return 0;
	char msg[256];
	registry_message(r->mem, r->len, msg, sizeof(msg));
	if (msg[0])
		return cm_error_set(err, status_errno(r->status), "%s", msg);
	if (r->status == 401)
		return cm_error_set(err, -EACCES, "unauthorized: authentication required");
	if (r->status == 429)
		return cm_error_set(err, -EAGAIN, "toomanyrequests: the registry is rate limiting (HTTP 429)");
	return cm_error_set(err, status_errno(r->status), "the registry answered HTTP %ld", r->status);
}

static int request_once(struct reg_client *c, const char *method, const char *url,
			const char *accept, struct reg_resp *resp, CURLcode *ret_cc)
{
	CURL *h = reg_easy(c, method, url, accept, resp);
	if (!h)
		return -ENOMEM;
	*ret_cc = reg_perform(h);
	curl_easy_cleanup(h);
	return 0;
}

int reg_request(struct reg_client *c, const char *method, const char *url,
		const char *accept, struct reg_resp *resp, struct cm_error *err)
{
	CURLcode cc;
	for (int attempt = 0;; attempt++) {
		if (request_once(c, method, url, accept, resp, &cc) < 0)
			return cm_error_set(err, -ENOMEM, "out of memory");
		if (cc != CURLE_OK || resp->fail || resp->status != 401 || !resp->www_auth ||
		    attempt > 0)
			break;
		int r = reg_auth_answer(c, resp->www_auth, err);
		if (r < 0)
			return r;
	}
	return reg_result(c, cc, resp, err);
}

int reg_ping(struct reg_client *c, struct cm_error *err)
{
	if (c->pinged)
		return 0;
	struct reg_resp resp = { .max = REG_MAX_ERROR_BODY, .limit = -1 };
	_cleanup_free_ char *url = reg_url(c, NULL);
	if (!url)
		return cm_error_set(err, -ENOMEM, "out of memory");
	CURLcode cc;
	bool may_fall_back = (c->loopback || c->insecure) && strcmp(c->scheme, "https") == 0;
	if (may_fall_back) {
		/* does the host speak TLS at all? Asked unverified, so without
		 * loading the CA store: a plain-HTTP registry (the usual one on
		 * loopback) never costs it. Nothing goes out but GET /v2/ with no
		 * credentials; unless verification is off anyway, its answer is
		 * dropped and the ping asked again verified (curl never reuses a
		 * connection across TLS settings). */
		CURL *h = reg_easy_authz(c, "GET", url, NULL, &resp, NULL);
		if (!h)
			return cm_error_set(err, -ENOMEM, "out of memory");
		tls_unverified(h);
		cc = reg_perform(h);
		curl_easy_cleanup(h);
	}
	if (may_fall_back &&
	    (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING)) {
		/* docker's fallback for insecure registries: plain HTTP */
		c->scheme = "http";
		free(url);
		if (!(url = reg_url(c, NULL)))
			return cm_error_set(err, -ENOMEM, "out of memory");
		if (request_once(c, "GET", url, NULL, &resp, &cc) < 0)
			return cm_error_set(err, -ENOMEM, "out of memory");
	} else if (!may_fall_back || !c->insecure) {
		if (request_once(c, "GET", url, NULL, &resp, &cc) < 0)
			return cm_error_set(err, -ENOMEM, "out of memory");
	}
	int r = 0;
	if (cc == CURLE_OK && resp.status == 401 && resp.www_auth) {
		/* answered on the first request that names the repository */
		free(c->challenge);
		c->challenge = strdup(resp.www_auth);
	} else if (cc != CURLE_OK || resp.status != 404) {
		/* 404: a registry without /v2/ ping support still serves */
		r = reg_result(c, cc, &resp, err);
	}
	reg_resp_clear(&resp);
	if (r < 0)
		return r;
	c->pinged = true;
	return 0;
}

void reg_manifest_clear(struct reg_manifest *m)
{
	free(m->body);
	free(m->media_type);
	cm_json_free(m->json);
	memset(m, 0, sizeof(*m));
}

int reg_manifest_get(struct reg_client *c, const char *ref, struct reg_manifest *ret,
		     struct cm_error *err)
{
	int r = reg_ping(c, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *what = NULL;
	if (asprintf(&what, "manifests/%s", ref) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	_cleanup_free_ char *url = reg_url(c, what);
	if (!url)
		return cm_error_set(err, -ENOMEM, "out of memory");
	struct reg_resp resp = { .max = REG_MAX_MANIFEST, .limit = -1 };
	r = reg_request(c, "GET", url,
			REG_MT_OCI_MANIFEST ", " REG_MT_OCI_INDEX ", " REG_MT_DOCKER_MANIFEST
			", " REG_MT_DOCKER_LIST, &resp, err);
	struct reg_manifest m = { 0 };
	if (r >= 0 && !resp.mem)
		r = cm_error_set(err, -EPROTO, "empty manifest");
	if (r >= 0 && (r = cm_sha256_buf(resp.mem, resp.len, m.digest)) < 0)
		cm_error_set(err, r, "out of memory");
	if (r >= 0 && strncmp(ref, "sha256:", 7) == 0 && strcmp(ref, m.digest) != 0)
		r = cm_error_set(err, -EBADMSG, "manifest digest mismatch: got %s, asked for %s",
				 m.digest, ref);
	if (r >= 0 && resp.dcd && strncmp(resp.dcd, "sha256:", 7) == 0 &&
	    strcmp(resp.dcd, m.digest) != 0)
		r = cm_error_set(err, -EBADMSG,
				 "manifest digest mismatch: got %s, the registry says %.80s",
				 m.digest, resp.dcd);
	if (r >= 0)
		r = reg_manifest_check(resp.mem, resp.len, resp.ctype, &m.kind, &m.json, err);
	if (r >= 0) {
		m.body = TAKE_PTR(resp.mem);
		m.len = resp.len;
		m.media_type = strdup(cm_json_get_str(m.json, "mediaType") ?:
				      (resp.ctype && *resp.ctype ? resp.ctype
				       : m.kind == REG_KIND_INDEX ? REG_MT_OCI_INDEX : REG_MT_OCI_MANIFEST));
		if (m.media_type)
			m.media_type[strcspn(m.media_type, "; ")] = '\0';
		*ret = m;
	} else {
		reg_manifest_clear(&m);
	}
	reg_resp_clear(&resp);
	return r;
}

int reg_tags_list(struct reg_client *c, char ***ret, size_t *ret_n, struct cm_error *err)
{
	int r = reg_ping(c, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *url = reg_url(c, "tags/list?n=10000");
	if (!url)
		return cm_error_set(err, -ENOMEM, "out of memory");
	struct reg_resp resp = { .max = REG_MAX_MANIFEST, .limit = -1 };
	r = reg_request(c, "GET", url, "application/json", &resp, err);
	_cleanup_json_ struct cm_json *j = NULL;
	if (r >= 0 && (!resp.mem || cm_json_parse(resp.mem, resp.len, &j, NULL, 0) < 0))
		r = cm_error_set(err, -EPROTO, "tags list is not JSON");
	reg_resp_clear(&resp);
	if (r < 0)
		return r;
	const struct cm_json *tl = cm_json_get(j, "tags");
	size_t n = cm_json_is(tl, CM_JSON_ARRAY) ? tl->n : 0;
	char **v = calloc(n + 1, sizeof(*v));
	size_t k = 0;
	if (!v)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *t = cm_json_str(tl->v[i]);
		if (t && strlen(t) <= 128 && strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(t) && *t &&
		    (v[k] = strdup(t)))
			k++;
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

int reg_login(const char *registry, const struct reg_opts *o, struct cm_error *err)
{
	_cleanup_free_ char *key = reg_cred_key(registry);
	if (!key)
		return cm_error_set(err, -ENOMEM, "out of memory");
	const char *host = strcmp(key, "https://index.docker.io/v1/") == 0 ? "registry-1.docker.io" : key;
	_cleanup_client_ struct reg_client *c = NULL;
	int r = client_new(host, "", o, &c, err);
	if (r < 0)
		return r;
	if ((r = reg_ping(c, err)) < 0)
		return r;
	if (!c->challenge)
		return 0; /* an open registry takes anyone */
	_cleanup_free_ char *url = reg_url(c, NULL);
	if (!url)
		return cm_error_set(err, -ENOMEM, "out of memory");
	struct reg_resp resp = { .max = REG_MAX_ERROR_BODY, .limit = -1 };
	if ((r = reg_auth_answer(c, c->challenge, err)) >= 0)
		r = reg_request(c, "GET", url, NULL, &resp, err);
	reg_resp_clear(&resp);
	return r;
}

int reg_fetch_url(const char *url, int64_t max,
		  int (*sink)(void *ctx, const void *buf, size_t len, struct cm_error *err),
		  void *ctx, struct cm_error *err)
{
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return cm_error_set(err, -EINVAL, "%s: not an http(s) URL", url);
	/* a client of no registry: no credentials, no certs.d of a host */
	struct reg_client *c = NULL;
	int r = client_new("", "", NULL, &c, err);
	if (r < 0)
		return r;
	struct reg_resp resp = { 0 };
	CURL *h = reg_easy(c, "GET", url, NULL, &resp);
	if (!h) {
		reg_client_free(c);
		return cm_error_set(err, -ENOMEM, "out of memory");
	}
	resp.sink = sink;
	resp.sink_ctx = ctx;
	resp.limit = max;
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	CURLcode cc = reg_perform(h);
	r = reg_result(c, cc, &resp, err);
	if (r < 0)
		cm_error_prefix(err, r, "GET %s", url);
	curl_easy_cleanup(h);
	reg_resp_clear(&resp);
	reg_client_free(c);
	return r;
}
