/* SPDX-License-Identifier: MIT */
/* libimgstore: the content-addressed image store of `img` (issue 3). An OCI
 * image layout (oci-layout, index.json, blobs/sha256/) plus layers/<diff_id>/:
 * each layer unpacked once into a directory in the on-disk branch format of
 * docs/format.md (whiteouts kept as .wh. files), ready to be an ro branch.
 * Every public function fills a struct cm_error on failure; none prints. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cm-error.h"
#include "cm-hash.h"
#include "cm-json.h"

struct ims_store;

/* Root resolution: root if not NULL, else $IMG_ROOT, else /var/lib/img. The run
 * dir (locks) is /run/img for the default root, else "<root>.run" beside it.
 * Creates the layout on first use (root and run dir 0700). Returns 0 and
 * *ret (free with ims_store_free) or -errno. */
int ims_store_open(const char *root, struct ims_store **ret, struct cm_error *err);
void ims_store_free(struct ims_store *s);
void ims_store_freep(struct ims_store **s);
const char *ims_store_root(const struct ims_store *s);
const char *ims_store_rundir(const struct ims_store *s);

/* ---- references (ref.c): pure functions ------------------------------- */

/* Normalize NAME[:TAG] to "domain/path:tag" (docker.io/library/ added to a
 * one-component name, tag latest by default). Refuses digests and invalid
 * names (-EINVAL, err says why). *ret is malloc'd. */
int ims_ref_normalize(const char *in, char **ret, struct cm_error *err);
/* docker's short form of a normalized name: docker.io/library/x:t -> x:t,
 * docker.io/u/x:t -> u/x:t. Returns a pointer into full. */
const char *ims_ref_short(const char *full);
/* Split a normalized or short "repo:tag" at the tag colon: returns the
 * offset of ':' (the tag starts after it), or -1 if there is no tag. */
int ims_ref_tag_offset(const char *ref);
/* True if s is 1..64 lowercase hex digits (an id prefix). */
bool ims_ref_is_id_prefix(const char *s);

/* RFC 3339 timestamp <-> seconds since the epoch (0 if unparsable). */
int64_t ims_time_parse(const char *s);
void ims_time_format(int64_t t, char *buf, size_t sz);

/* ---- images (image.c) ------------------------------------------------- */

struct ims_image {
	char digest[CM_DIGEST_STR_LEN]; /* manifest digest */
	char id[CM_DIGEST_STR_LEN];     /* config digest = image id */
	int64_t manifest_size;
	char **names;                   /* normalized names, sorted */
	size_t n_names;
	struct cm_json *manifest;
	struct cm_json *config;
	int64_t size;                   /* sum of the layer blob sizes */
	int64_t created;                /* seconds since the epoch, 0 unknown */
};

void ims_image_free(struct ims_image *img);
void ims_image_freep(struct ims_image **img);
#define _cleanup_image_ __attribute__((cleanup(ims_image_freep)))

/* Resolve NAME[:TAG], NAME@sha256:..., sha256:<id>, <id>, or a unique id
 * prefix. Returns 0 and *ret, -ENOENT (no such image), -EINVAL (bad
 * reference), -ENOTUNIQ (ambiguous prefix). */
int ims_image_resolve(struct ims_store *s, const char *ref,
		      struct ims_image **ret, struct cm_error *err);

/* Every image, newest first. *ret is an array of n pointers (free each, then
 * the array). */
int ims_image_list(struct ims_store *s, struct ims_image ***ret, size_t *ret_n,
		   struct cm_error *err);

/* Give image ref the name dst (moved from any image that had it). */
int ims_image_tag(struct ims_store *s, const char *ref, const char *dst,
		  struct cm_error *err);

/* Remove a name, or (ref by id/digest, or force) every name of the image.
 * report(line) is called with docker's "Untagged: x" / "Deleted: sha256:..."
 * lines. Unreferenced blobs and layers are then collected if no other img
 * process is writing. */
int ims_image_remove(struct ims_store *s, const char *ref, bool force,
		     void (*report)(void *ctx, const char *line), void *ctx,
		     struct cm_error *err);

/* docker inspect's JSON object for an image into w. */
int ims_image_inspect(struct ims_store *s, const struct ims_image *img,
		      struct cm_jw *w, struct cm_error *err);

/* ---- import (import.c) ------------------------------------------------ */

struct ims_import_opts {
	const char *name;      /* NAME[:TAG] or NULL for an untagged image */
	const char *created_by; /* history entry text */
	const char *message;   /* history comment, or NULL */
	const char *const *cmd; /* Config.Cmd (NULL-terminated) or NULL */
	const char *const *env; /* Config.Env or NULL (a default PATH then) */
	int64_t created;       /* seconds since the epoch; < 0: now */
};

/* A plain rootfs tarball read from fd (plain, gzip, zstd, xz, bzip2...)
 * becomes a one-layer image: the layer is validated and unpacked first, then
 * its gzip blob, config, manifest and the index entry are published. Returns
 * 0 and the image id in ret_id. */
int ims_import_fd(struct ims_store *s, int fd, const struct ims_import_opts *o,
		  char ret_id[CM_DIGEST_STR_LEN], struct cm_error *err);

/* The embedded default image: a rootfs built from a static busybox binary
 * (bin/busybox, one symlink per applet, etc/passwd, etc/group, tmp, root,
 * Cmd ["sh"]), deterministic for a given binary. */
int ims_import_busybox(struct ims_store *s, const char *busybox,
		       const char *name, char ret_id[CM_DIGEST_STR_LEN],
		       struct cm_error *err);

/* ---- load / save (archive.c) ------------------------------------------ */

/* Load a docker-archive tar, an OCI archive tar, or an OCI layout dir.
 * report(line) gets "Loaded image: NAME:TAG" or "Loaded image ID: sha256:..".
 * Every blob is verified (size, digest, diff_id) before anything is named. */
int ims_load(struct ims_store *s, const char *path,
	     void (*report)(void *ctx, const char *line), void *ctx,
	     struct cm_error *err);

enum ims_save_format {
	IMS_SAVE_DOCKER_ARCHIVE,
	IMS_SAVE_OCI_ARCHIVE,
	IMS_SAVE_OCI_DIR,
};

/* Save images (refs, n) to out (a file, "-" = fd 1 for archives, a new dir
 * for oci-dir). Blobs are re-verified while they are copied. */
int ims_save(struct ims_store *s, const char *const *refs, size_t n,
	     enum ims_save_format fmt, const char *out, struct cm_error *err);

/* ---- maintenance (store.c) -------------------------------------------- */

/* Remove blobs, layers and temp files that no image references. Waits for
 * concurrent writers unless nonblock (then -EAGAIN if busy). report gets
 * "deleted: ..." lines. */
int ims_gc(struct ims_store *s, bool nonblock,
	   void (*report)(void *ctx, const char *line), void *ctx,
	   struct cm_error *err);

/* Re-hash every blob, check every manifest, config, layer and name. report
 * gets one line per problem; returns the number of problems (>= 0) or -errno. */
int ims_fsck(struct ims_store *s, void (*report)(void *ctx, const char *line),
	     void *ctx, struct cm_error *err);
