/* SPDX-License-Identifier: MIT */
/* libregistry private header, sectioned by file. */
#pragma once

#include "reg-libcurl.h"
#include <pthread.h>

#include "reg.h"
#include "cm.h"

/* ---- reg-http.c ---- */
struct reg_client {
	char *host;      /* "127.0.0.1:5000", "registry-1.docker.io" */
	char *repo;      /* "library/busybox" */
	const char *scheme; /* "https" or "http", set by reg_ping */
	bool insecure;   /* --tls-verify=false */
	bool loopback;   /* 127.0.0.0/8, ::1, localhost: http allowed */
	bool pinged;
	char *ca_file;   /* certs.d/HOST/ca.crt if present */
	char *cert, *key; /* certs.d/HOST/client.cert, client.key */
	char *user, *pass; /* credentials (never printed) */
	char *authz;     /* "Authorization: ..." header line, or NULL */
	char *challenge; /* the last WWW-Authenticate seen */
	const char *scope_actions; /* "pull" or "pull,push" */
	/* recursive: held around every read and change of authz (push runs
	 * blobs in threads; answering a challenge builds a request itself) */
	pthread_mutex_t auth_lock;
};

/* One response as seen by our callbacks. Headers are those of the last
 * response (a redirect resets them). Body: into mem (at most max bytes,
 * -EFBIG beyond) unless sink is set and the status is 2xx. */
struct reg_resp {
	struct reg_client *c;
	long status;
	char *ctype, *dcd, *www_auth, *location, *range, *crange;
	char *chunk_min; /* OCI-Chunk-Min-Length of an upload session */
	char *mem;
	size_t len, max;
	int64_t limit;   /* sink: refuse more than this many bytes (-1: none) */
	int64_t got;
	int64_t resume_at; /* a resumed blob: bytes the sink already has */
	int64_t seen;      /* body bytes of this response seen so far */
	int (*sink)(void *ctx, const void *buf, size_t len, struct cm_error *err);
	void *sink_ctx;
	void (*progress)(void *ctx, int64_t done, int64_t total);
	int fail;        /* first error of a callback */
	struct cm_error err;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
};

/* The calling thread's connection pool (a curl multi handle, made on first
 * use), taken for one transfer loop: NULL when a loop of this thread has it
 * already (or without memory), then the caller makes its own; given back
 * by reg_conn_put. reg_conn_release closes its connections (a thread that
 * made requests calls it before it ends; reg_client_free does for the
 * caller's). */
CURLM *reg_conn_acquire(void);
void reg_conn_put(void);
void reg_conn_release(void);
/* curl_easy_perform of h, on the thread's pool so its connections are
 * reused; h stays the caller's to clean up. */
CURLcode reg_perform(CURL *h);

/* An easy handle for method on url with our TLS, redirect and auth
 * settings, its callbacks writing into resp (reset first). */
CURL *reg_easy(struct reg_client *c, const char *method, const char *url,
	       const char *accept, struct reg_resp *resp);
/* The same with the given "Authorization: ..." line (NULL: none) instead of
 * the client's (which reg_easy sends to the registry's own host only). */
CURL *reg_easy_authz(struct reg_client *c, const char *method, const char *url,
		     const char *accept, struct reg_resp *resp, const char *authz);
void reg_resp_clear(struct reg_resp *resp);
/* "https://HOST/v2/REPO/what" (malloc'd). */
char *reg_url(struct reg_client *c, const char *what);
/* After a transfer: curl's code and resp turned into 0 or -errno with a
 * one-line reason in err (a registry's JSON error, the HTTP status, curl's
 * own message). A 2xx is success. */
int reg_result(struct reg_client *c, CURLcode cc, struct reg_resp *resp,
	       struct cm_error *err);
/* Run method on path (below /v2/REPO/, or "" for /v2/ itself) with the
 * challenge answered once on 401. */
int reg_request(struct reg_client *c, const char *method, const char *url,
		const char *accept, struct reg_resp *resp, struct cm_error *err);

/* ---- reg-cred.c ---- */
/* Parse the JSON file at path (at most 1 MiB, not through a symlink):
 * 0 and *ret, or -errno (-ENOENT: none, -EINVAL: not JSON). */
int reg_read_json(const char *path, struct cm_json **ret);

/* ---- reg-http.c (more) ---- */
/* A client of host (not from a reference: a mirror) speaking scheme
 * ("https", or "http" for a mirror configured so; NULL: found by ping). */
int reg_client_new_at(const char *host, const char *scheme, const char *repo,
		      const struct reg_opts *o, struct reg_client **ret, struct cm_error *err);

/* ---- reg-auth.c ---- */
/* Answer a WWW-Authenticate challenge (Basic: the credentials; Bearer: a
 * token from the realm for repository:REPO:actions) into c->authz. -EACCES
 * when nothing can answer it. */
int reg_auth_answer(struct reg_client *c, const char *challenge, struct cm_error *err);
