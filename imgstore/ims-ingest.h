/* SPDX-License-Identifier: MIT */
/* Ingest: objects arriving one by one from outside (a registry pull) put in
 * the store the way load puts them (issue 9): each blob hashed while it is
 * written to tmp/, checked against its descriptor, a layer unpacked and its
 * diff_id checked, then linked; nothing is named until ims_ingest_name, and
 * an ingest freed without it removes what it published. The store lock is
 * held (shared) from begin to free, so gc cannot collect the new objects. */
#pragma once

#include "ims.h"

struct ims_ingest;
struct ims_ingest_blob;

int ims_ingest_begin(struct ims_store *s, struct ims_ingest **ret, struct cm_error *err);
/* Roll back (if not named) and release the lock. NULL is fine. */
void ims_ingest_free(struct ims_ingest *t);

bool ims_ingest_has_blob(struct ims_ingest *t, const char *digest);
bool ims_ingest_has_layer(struct ims_ingest *t, const char *diffid);
/* A stored blob whole (at most max bytes), re-verified. */
int ims_ingest_read_blob(struct ims_ingest *t, const char *digest, size_t max, char **ret,
			 size_t *ret_len, struct cm_error *err);
/* The manifest digest the name points to now ("" if none). */
void ims_ingest_named(struct ims_ingest *t, const char *name, char ret[CM_DIGEST_STR_LEN]);

/* A small blob from memory: verified against digest, linked. */
int ims_ingest_put(struct ims_ingest *t, const char *digest, const void *buf, size_t len,
		   struct cm_error *err);

/* A streamed blob of the given digest and size. write refuses bytes past
 * size. */
int ims_ingest_blob_open(struct ims_ingest *t, const char *digest, int64_t size,
			 struct ims_ingest_blob **ret, struct cm_error *err);
int ims_ingest_blob_write(struct ims_ingest_blob *b, const void *buf, size_t len,
			  struct cm_error *err);
/* The same for a layer blob of that diff_id: unless the store has the layer,
 * it is unpacked while the bytes arrive (a thread reading a pipe), so
 * commit has no second pass to make. */
int ims_ingest_blob_open_layer(struct ims_ingest *t, const char *digest, int64_t size,
			       const char *diffid, struct ims_ingest_blob **ret,
			       struct cm_error *err);
/* Check digest and size; with diffid, the blob is a layer: unpacked into
 * layers/ (or, if that layer is there already, its diff_id proved). Then
 * linked. b is freed either way. */
int ims_ingest_blob_commit(struct ims_ingest_blob *b, const char *diffid,
			   struct cm_error *err);
void ims_ingest_blob_free(struct ims_ingest_blob *b);

/* The commit: the manifest (already put) gets name (normalized, NULL: an
 * unnamed entry) and repo_digest (DOMAIN/REPO@sha256:..., the digest the
 * registry named, or NULL) in one index.json write. */
int ims_ingest_name(struct ims_ingest *t, const char *manifest_digest, int64_t size,
		    const char *name, const char *repo_digest, struct cm_error *err);

/* A stored blob opened read-only (for push), the digest validated first. */
int ims_ingest_open_blob(struct ims_ingest *t, const char *digest, struct cm_error *err);
