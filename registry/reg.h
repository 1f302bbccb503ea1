/* SPDX-License-Identifier: MIT */
/* libregistry: img's client of OCI / Docker registries (issue 9), on libcurl.
 * Split by role after containerd's remotes/docker: references (reg-ref.c),
 * one HTTP exchange with auth challenges answered (reg-http.c), manifests
 * fetched and checked (reg-manifest.c), blobs streamed in parallel
 * (reg-blob.c), and the pull into the store (reg-pull.c). Registries are
 * untrusted (docs/SECURITY.md): every size is capped, every digest is
 * computed by us. Every function fills a struct cm_error; none prints. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cm-error.h"
#include "cm-hash.h"
#include "cm-json.h"

#define REG_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define REG_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define REG_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define REG_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* Caps against hostile registries (containerd's 4 MiB for metadata). */
#define REG_MAX_MANIFEST (4 << 20)
#define REG_MAX_LAYERS 1000
#define REG_MAX_LAYER_SIZE ((int64_t)64 << 30)

/* ---- references (reg-ref.c): pure ------------------------------------ */

/* A parsed reference, docker's grammar: [DOMAIN/]PATH[:TAG][@DIGEST]. */
struct reg_ref {
	char *domain;                   /* "docker.io", "127.0.0.1:5000" */
	char *repo;                     /* "library/busybox" */
	char *tag;                      /* "latest" (the default), NULL with a
					 * digest and no tag */
	char digest[CM_DIGEST_STR_LEN]; /* "" when none */
	char *name;                     /* "DOMAIN/REPO:TAG", the store's name;
					 * NULL when pulled by digest alone */
};

/* Parse in. Returns 0 and fills *ret (clear with reg_ref_clear), -EINVAL
 * with err saying why. */
int reg_ref_parse(const char *in, struct reg_ref *ret, struct cm_error *err);
void reg_ref_clear(struct reg_ref *r);
/* The host to talk to: docker.io is registry-1.docker.io. */
const char *reg_ref_host(const struct reg_ref *r);
/* "DOMAIN/REPO" (malloc'd) or NULL. */
char *reg_ref_repo_full(const struct reg_ref *r);

/* ---- platforms (reg-manifest.c): pure --------------------------------- */

struct reg_platform {
	char os[32];
	char arch[32];
	char variant[16]; /* "" when none */
};

/* "os/arch[/variant]" -> *ret; -EINVAL if malformed. */
int reg_platform_parse(const char *s, struct reg_platform *ret, struct cm_error *err);
/* The host's platform, as Go names it (linux/amd64, linux/arm64/v8...). */
void reg_platform_host(struct reg_platform *ret);

/* ---- manifests (reg-manifest.c) --------------------------------------- */

enum reg_manifest_kind { REG_KIND_MANIFEST, REG_KIND_INDEX };

/* Classify a manifest body against the Content-Type it came with: schema 2
 * only (schema1 refused), a mediaType in the body must be the same, OCI
 * bodies without one are told apart by their fields. Returns 0 and the kind
 * and its parsed JSON, or -EINVAL / -EPROTO with err saying why. */
int reg_manifest_check(const char *body, size_t len, const char *content_type,
		       enum reg_manifest_kind *ret_kind, struct cm_json **ret_json,
		       struct cm_error *err);

/* Pick the entry of an index for platform p (variant ignored when p has
 * none). Returns its index in manifests[], or -ENOENT with err listing the
 * platforms the index has. */
int reg_index_select(const struct cm_json *index, const struct reg_platform *p,
		     struct cm_error *err);

/* A descriptor's digest and size, validated (sha256 only, 0 <= size <= max). */
int reg_desc_get(const struct cm_json *desc, int64_t max, const char **ret_digest,
		 int64_t *ret_size, struct cm_error *err);

/* ---- settings (reg-config.c) ------------------------------------------ */

/* docker's daemon.json keys that a client honours (0: not set). */
struct reg_config {
	char **mirrors;        /* "registry-mirrors": http(s)://HOST[:PORT] */
	size_t n_mirrors;
	char **insecure;       /* "insecure-registries": HOST[:PORT] or CIDR */
	size_t n_insecure;
	int max_downloads;     /* "max-concurrent-downloads" */
	int max_uploads;       /* "max-concurrent-uploads" */
};

/* The settings, read once from $IMG_DAEMON_CONFIG, else
 * /etc/img/daemon.json (none: all unset). -EINVAL with err naming the file
 * and the key when the file is bad. The result lives as long as the
 * process. */
int reg_config_get(const struct reg_config **ret, struct cm_error *err);
/* Transfers at a time: given (> 0), else the config's
 * max-concurrent-uploads/-downloads, else docker's 5 / 3. */
int reg_config_concurrency(int given, bool uploads, int *ret, struct cm_error *err);
/* Whether host (HOST[:PORT]) is listed in insecure-registries. */
bool reg_config_insecure(const struct reg_config *cf, const char *host);

/* ---- the client (reg-http.c) ------------------------------------------ */

struct reg_opts {
	bool insecure;         /* --tls-verify=false: plain HTTP or unverified TLS */
	const char *certs_dir; /* docker's certs.d (NULL: $IMG_CERTS_D, else
				* /etc/docker/certs.d) */
	const char *user;      /* credentials given (login), else the auth files */
	const char *pass;
};

struct reg_client;

/* A client for one repository of one registry: nothing is sent yet. */
int reg_client_new(const struct reg_ref *ref, const struct reg_opts *o,
		   struct reg_client **ret, struct cm_error *err);
void reg_client_free(struct reg_client *c);
void reg_client_freep(struct reg_client **c);
#define _cleanup_client_ __attribute__((cleanup(reg_client_freep)))

/* GET /v2/: finds the scheme (https; http only for loopback or insecure)
 * and answers the auth challenge. */
int reg_ping(struct reg_client *c, struct cm_error *err);

struct reg_manifest {
	char *body;
	size_t len;
	char *media_type;
	char digest[CM_DIGEST_STR_LEN]; /* computed by us */
	enum reg_manifest_kind kind;
	struct cm_json *json;
};
void reg_manifest_clear(struct reg_manifest *m);

/* GET /v2/REPO/manifests/REF (a tag or a digest) with every schema 2 type
 * accepted; checked by reg_manifest_check; its digest must be the reference's
 * (a digest) or the registry's Docker-Content-Digest. At most
 * REG_MAX_MANIFEST bytes. */
int reg_manifest_get(struct reg_client *c, const char *ref, struct reg_manifest *ret,
		     struct cm_error *err);

/* GET a small blob (a config) whole into memory, verified. */
int reg_blob_get_mem(struct reg_client *c, const char *digest, int64_t size,
		     char **ret, size_t *ret_len, struct cm_error *err);

/* One blob to stream: write(ctx) gets its bytes in order, never more than
 * size in all; progress(ctx) its running count. The digest is checked by the
 * sink (the store's writer hashes while it writes). */
struct reg_blob_req {
	const char *digest;
	int64_t size;
	int (*write)(void *ctx, const void *buf, size_t len, struct cm_error *err);
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *ctx;
	int result;           /* out: 0 or -errno */
	struct cm_error err;  /* out */
};

/* Fetch n blobs, at most parallel at a time (curl multi), redirects followed
 * to http/https only (https only from https). Returns 0 if every one came
 * whole, else the first failure (each req has its own result). */
int reg_blobs_get(struct reg_client *c, struct reg_blob_req *reqs, size_t n,
		  int parallel, struct cm_error *err);

/* A plain GET of url (http or https, TLS verified, redirects followed but
 * never down to http, no credentials sent), the body given to sink in order,
 * at most max bytes (img build's ADD of a URL). */
int reg_fetch_url(const char *url, int64_t max,
		  int (*sink)(void *ctx, const void *buf, size_t len, struct cm_error *err),
		  void *ctx, struct cm_error *err);

/* ---- pull (reg-pull.c) ------------------------------------------------ */

struct ims_store;

enum reg_pull_event {
	REG_EV_PULLING,      /* "TAG: Pulling from REPO" (id = tag or digest) */
	REG_EV_EXISTS,       /* a layer the store has: "Already exists" */
	REG_EV_FS_LAYER,     /* "Pulling fs layer" */
	REG_EV_DOWNLOADING,  /* done/total bytes */
	REG_EV_VERIFYING,    /* "Verifying Checksum" / "Download complete" */
	REG_EV_EXTRACTING,
	REG_EV_COMPLETE,     /* "Pull complete" */
};

struct reg_pull_opts {
	struct reg_opts reg;
	const char *platform; /* NULL: the host's */
	int parallel;         /* downloads at a time (0: the config's
			       * max-concurrent-downloads, else 3, docker's) */
	void (*event)(void *ctx, enum reg_pull_event ev, const char *id,
		      int64_t done, int64_t total);
	void *ctx;
};

struct reg_pull_result {
	char digest[CM_DIGEST_STR_LEN]; /* the reference's manifest (or index) digest */
	char manifest[CM_DIGEST_STR_LEN]; /* the image's manifest */
	char id[CM_DIGEST_STR_LEN];
	bool downloaded;                /* false: "Image is up to date" */
};

/* Pull ref into the store: manifest (index -> the platform's), config,
 * missing layers (in parallel), everything verified, then the name (if any)
 * in one index write. On failure the store is as it was. */
int reg_pull(struct ims_store *s, const struct reg_ref *ref,
	     const struct reg_pull_opts *o, struct reg_pull_result *ret,
	     struct cm_error *err);

/* GET /v2/REPO/tags/list: the tags (each malloc'd, the array too). */
int reg_tags_list(struct reg_client *c, char ***ret, size_t *ret_n, struct cm_error *err);
/* The tags of ref's repository (pull -a) from the endpoints a pull of it
 * uses: docker.io's registry-mirrors first, in order, the registry last. */
int reg_pull_tags(const struct reg_ref *ref, const struct reg_opts *o, char ***ret, size_t *ret_n,
		  struct cm_error *err);

/* ---- credentials (reg-cred.c) ------------------------------------------ */

/* The auths key of a registry name: "https://index.docker.io/v1/" for
 * docker.io, else HOST[:PORT] (scheme and path dropped). malloc'd. */
char *reg_cred_key(const char *registry);
/* user and password for registry from the auth files; -ENOENT if none. */
int reg_cred_lookup(const char *registry, char **ret_user, char **ret_pass);
/* Write (login) or remove (logout; *ret_had: there was an entry) the
 * registry's entry in docker's config.json, mode 0600. */
int reg_cred_store(const char *registry, const char *user, const char *pass,
		   struct cm_error *err);
int reg_cred_erase(const char *registry, bool *ret_had, struct cm_error *err);

/* img login: /v2/ with the credentials answering its challenge (Basic or a
 * Bearer token): 0 if the registry accepts them, -EACCES if not. */
int reg_login(const char *registry, const struct reg_opts *o, struct cm_error *err);

/* ---- push (reg-push.c) ------------------------------------------------ */

enum reg_push_event {
	REG_PUSH_PREPARING, /* "Preparing" */
	REG_PUSH_PUSHING,   /* done/total bytes */
	REG_PUSH_PUSHED,    /* "Pushed" */
	REG_PUSH_EXISTS,    /* "Layer already exists" */
	REG_PUSH_MOUNTED,   /* "Mounted from FROM" */
};

struct reg_push_opts {
	struct reg_opts reg;
	int parallel;         /* uploads at a time (0: the config's
			       * max-concurrent-uploads, else 5, docker's) */
	void (*event)(void *ctx, enum reg_push_event ev, const char *id, int64_t done,
		      int64_t total, const char *from);
	void *ctx;
};

struct reg_push_result {
	char digest[CM_DIGEST_STR_LEN];
	int64_t size;
};

/* Push the stored image whose manifest is manifest_digest to dst (its tag,
 * or by digest): blobs HEADed, mounted from one of from[] (repository paths
 * on the same registry) or uploaded, then the manifest byte for byte. */
int reg_push(struct ims_store *s, const char *manifest_digest, const struct reg_ref *dst,
	     const char *const *from, size_t n_from, const struct reg_push_opts *o,
	     struct reg_push_result *ret, struct cm_error *err);
