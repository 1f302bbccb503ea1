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

#define IMS_DEFAULT_ROOT "/var/lib/img"

/* Root resolution: root if not NULL, else $IMG_ROOT, else /var/lib/img. The run
 * dir (locks) is /run/img for the default root, else "<root>.run" beside it.
 * Creates the layout on first use (root and run dir 0700). Returns 0 and
 * *ret (free with ims_store_free) or -errno. */
int ims_store_open(const char *root, struct ims_store **ret, struct cm_error *err);
void ims_store_free(struct ims_store *s);
void ims_store_freep(struct ims_store **s);
const char *ims_store_root(const struct ims_store *s);
const char *ims_store_rundir(const struct ims_store *s);
/* syncfs of the store's filesystem: what was published is durable. */
int ims_store_sync(struct ims_store *s, struct cm_error *err);

/* Read all of fd (at most max bytes, -EFBIG beyond; NUL-terminated). */
int ims_read_fd(int fd, size_t max, char **ret, size_t *ret_len);

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
/* Length of the repository part of a NAME:TAG or REPO@DIGEST (all of it
 * if it has neither), and whether two such references share it. */
size_t ims_ref_repo_len(const char *ref);
bool ims_ref_same_repo(const char *a, const char *b);
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
	char **repo_digests;            /* DOMAIN/REPO@sha256:... a pull or push
					 * recorded, sorted (none in old stores) */
	size_t n_repo_digests;
	struct cm_json *manifest;
	struct cm_json *config;
	int64_t size;                   /* sum of the layer blob sizes */
	int64_t created;                /* seconds since the epoch, 0 unknown */
};

void ims_image_free(struct ims_image *img);
/* The digest docker shows for the repository of name (normalized): the one
 * a pull or push recorded, else the manifest's. */
const char *ims_image_repo_digest(const struct ims_image *img, const char *name);
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

/* Which of v[0..n) are intermediate images (docker's): untagged, with a
 * child among v, an image whose diff_ids and history start with all of its
 * own and whose history is longer (a build's step images). *ret: n bools,
 * malloc'd. */
int ims_image_intermediates(struct ims_image *const *v, size_t n, bool **ret);
/* child extends parent: its diff_ids and history start with all of
 * parent's, its history longer. */
bool ims_image_extends(const struct ims_image *child, const struct ims_image *parent);

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
	const char *const *changes; /* docker's --change instructions, or NULL */
};

/* A plain rootfs tarball read from fd (plain, gzip, zstd, xz, bzip2...)
 * becomes a one-layer image: the layer is validated and unpacked first, then
 * its blob (the uncompressed tar), config, manifest and the index entry are
 * published. Returns
 * 0 and the image id in ret_id. */
int ims_import_fd(struct ims_store *s, int fd, const struct ims_import_opts *o,
		  char ret_id[CM_DIGEST_STR_LEN], struct cm_error *err);

/* The embedded default image: a rootfs built from a static busybox binary
 * (bin/busybox, one symlink per applet, etc/passwd, etc/group, tmp, root,
 * Cmd ["sh"]), deterministic for a given binary. */
int ims_import_busybox(struct ims_store *s, const char *busybox,
		       const char *name, char ret_id[CM_DIGEST_STR_LEN],
		       struct cm_error *err);

/* ---- progress (progress.c) --------------------------------------------- */

/* Report the progress of long byte streams (load, import, commit, save):
 * fn(ctx, what, done, total) at most ten times a second per stream, and once
 * more with final set when it ends; total < 0 when unknown. NULL: silent
 * (the default). The tool installs one only when stderr is a terminal. */
typedef void ims_progress_fn(void *ctx, const char *what, int64_t done, int64_t total,
			     bool final);
void ims_set_progress(ims_progress_fn *fn, void *ctx);

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
/* The same with flags: IMS_FSCK_REPAIR unpacks a damaged or missing layer
 * again from its blob (store.lock held LOCK_EX meanwhile: no writer runs).
 * Every unpacked layer is compared with the content manifest recorded when
 * it was published (path, type, mode, owner, size, XXH3); blobs nothing
 * references are reported as "note:" lines, not counted. */
#define IMS_FSCK_REPAIR 1u
int ims_fsck_ex(struct ims_store *s, unsigned flags,
		void (*report)(void *ctx, const char *line), void *ctx,
		struct cm_error *err);

/* ---- containers (container.c, diff.c, pack.c) -------------------------
 * A container is ROOT/containers/<id>/ = config.json + rw/ (the rw branch,
 * an OCI layer in the making, format of docs/format.md) + init/ (the ro init
 * layer: mountpoint stubs, /etc/hosts, /etc/hostname, /etc/resolv.conf),
 * and RUN/containers/<id>/ for runtime state (merged/ = the union's
 * mountpoint, mount.json, lock; every other name there belongs to the
 * runner). The union is rw/ : init/ : the image layers top..bottom.
 * Lock order: store.lock, a container's lock, containers.lock (create/rm),
 * index.lock. */

struct ims_container {
	char id[CM_SHA256_HEX_LEN + 1];       /* 64 hex */
	char *name;
	char *image;                          /* the reference given to create */
	char image_id[CM_DIGEST_STR_LEN];     /* config digest */
	char image_digest[CM_DIGEST_STR_LEN]; /* manifest digest */
	char **cmd;                           /* argv given to create (NULL-terminated,
					       * empty: the image's Entrypoint + Cmd) */
	size_t n_cmd;
	int64_t created;                      /* seconds since the epoch */
	char *dir;        /* ROOT/containers/<id> */
	char *rw;         /* ROOT/containers/<id>/rw: the rw branch */
	char *init;       /* ROOT/containers/<id>/init: the init layer */
	char *rundir;     /* RUN/containers/<id>: runtime state (created by mount) */
	char *mountpoint; /* RUN/containers/<id>/merged (mounted or not) */
	bool mounted;     /* a live mount at mountpoint (from mountinfo) */
	char *status;     /* RUN/containers/<id>/status if the runner wrote one
			   * (one line, e.g. "Up 3 seconds"), else "Created" */
	struct cm_json *config; /* config.json as read */
};

void ims_container_free(struct ims_container *c);
void ims_container_freep(struct ims_container **c);
#define _cleanup_container_ __attribute__((cleanup(ims_container_freep)))

struct ims_create_opts {
	const char *image;           /* IMAGE reference (required) */
	const char *name;            /* unique name, or NULL: "img_" + 12 hex of the id */
	const char *const *cmd;      /* NULL-terminated argv, or NULL: the image's */
	const char *hostname;        /* /etc/hostname and hosts, or NULL: 12 hex of the id */
	bool ephemeral;              /* run --rm: no fsync (still published by one
				      * rename; after a crash gc removes it) */
};

/* Create a container: resolve the image, build containers/<id>/ (config.json,
 * rw/, init/) in tmp/ and publish it with one rename. Names are unique
 * (-EEXIST otherwise). Returns 0 and *ret (free with ims_container_free). */
int ims_container_create(struct ims_store *s, const struct ims_create_opts *o,
			 struct ims_container **ret, struct cm_error *err);

/* docker rename: the container's name becomes name (unique, docker's
 * rules and errors), its config.json rewritten atomically. */
int ims_container_rename(struct ims_store *s, const char *ref, const char *name,
			 struct cm_error *err);

/* Find a container by full id, name, or unique id prefix: -ENOENT "No such
 * container", -ENOTUNIQ. *ret reflects the mount state at the time of the
 * call. */
int ims_container_get(struct ims_store *s, const char *ref,
		      struct ims_container **ret, struct cm_error *err);

/* Every container, newest first (array of n pointers: free each, then it). */
int ims_container_list(struct ims_store *s, struct ims_container ***ret,
		       size_t *ret_n, struct cm_error *err);

/* The container's image (manifest + config), also once its names are gone
 * (a container keeps its image's blobs and layers alive). */
int ims_container_image(struct ims_store *s, const struct ims_container *c,
			struct ims_image **ret, struct cm_error *err);

/* Mount the union at c->mountpoint (idempotent: already mounted = success),
 * exec'ing ufsmount (next to /proc/self/exe, else $UFSMOUNT, else PATH) with
 * dirs=rw=rw:init=ro:layers..=ro,nodev; it returns once the mount is ready
 * and its daemon runs detached. Sets c->mounted. */
int ims_container_mount(struct ims_store *s, struct ims_container *c,
			struct cm_error *err);

/* Make the container's run dir (c->rundir), where the runner keeps its
 * config and state, without mounting anything (img create). */
int ims_container_rundir(struct ims_store *s, struct ims_container *c, struct cm_error *err);

/* Unmount (not mounted = success); lazy detaches a busy mount. */
int ims_container_umount(struct ims_store *s, struct ims_container *c, bool lazy,
			 struct cm_error *err);

/* Remove the container (state, rw and init dirs, run dir). A mounted one is
 * refused (-EBUSY) unless force (then it is unmounted first, lazily if busy). */
int ims_container_remove(struct ims_store *s, const char *ref, bool force,
			 struct cm_error *err);

/* Take the container's lock (RUN/containers/<id>/lock), exclusive or
 * shared; returns the fd to close to release it. mount/umount/rm take it
 * exclusive, diff/commit shared. */
int ims_container_lock(struct ims_store *s, const struct ims_container *c,
		       bool exclusive, int *ret_fd, struct cm_error *err);

/* True if any container was created from image id (config digest); its id in
 * ret_ctr (may be NULL). */
bool ims_container_uses_image(struct ims_store *s, const char *image_id,
			      char ret_ctr[CM_SHA256_HEX_LEN + 1]);

enum ims_change { IMS_CHANGE_MODIFY = 'C', IMS_CHANGE_ADD = 'A', IMS_CHANGE_DELETE = 'D' };

struct ims_change_ent {
	char kind;  /* 'A', 'C', 'D' */
	char *path; /* "/a/b" */
};

/* docker diff of the rw branch against init + image layers (nothing mounted
 * needed): sorted by path; parents of changes are 'C'. *ret: n entries
 * (free with ims_changes_free). */
int ims_container_diff(struct ims_store *s, const struct ims_container *c,
		       struct ims_change_ent **ret, size_t *ret_n,
		       struct cm_error *err);
void ims_changes_free(struct ims_change_ent *v, size_t n);

struct ims_commit_opts {
	const char *name;             /* REPO[:TAG] or NULL (untagged) */
	const char *message;          /* history comment */
	const char *author;
	const char *const *changes;   /* "CMD ...", "ENTRYPOINT ...", "ENV K=V",
				       * "WORKDIR /d", "USER u" (NULL-terminated) */
	int64_t created;              /* < 0: now */
};

/* The rw branch (read directly, not through the mount) becomes a new layer
 * over the container's image: deterministic tar, gzip blob, layer unpacked
 * into layers/, config, manifest, name. Each file is captured as it is when
 * read (no freeze). Returns 0 and the new image id. Nothing is published if
 * it fails. */
int ims_container_commit(struct ims_store *s, const struct ims_container *c,
			 const struct ims_commit_opts *o,
			 char ret_id[CM_DIGEST_STR_LEN], struct cm_error *err);

/* A new image over parent (an image reference, or NULL: scratch): the
 * parent's layers, plus the branch tree_fd packed as a layer (tree_fd >= 0;
 * with skip_empty none when it holds nothing), config as the new "config"
 * object, the parent's history plus created_by (empty_layer when no layer
 * was added). Published unnamed (name it with ims_image_tag). Used by img
 * build for each step. *ret_layer (may be NULL): whether a layer was added. */
struct ims_derive_opts {
	const char *parent;
	int tree_fd;
	bool skip_empty;
	const char *config;      /* a JSON object */
	const char *created_by;
	const char *comment;     /* NULL: none */
	const char *author;      /* NULL: none */
	int64_t created;         /* seconds; < 0: now */
	int64_t clamp;           /* layer mtimes later than this are clamped; < 0 kept */
	const char *tree_tmp;    /* tree_fd's name in ROOT/tmp when it is a tree of
				  * the caller's (not a container's): adopted as the
				  * unpacked layer (renamed away), or NULL */
	bool batch;              /* one syncfs for the layer, the blobs and
				  * index.json (batch.c) instead of an fsync per
				  * file and dir; the index's new name is left to
				  * the next sync (img build: ims_store_sync last) */
};
int ims_image_derive(struct ims_store *s, const struct ims_derive_opts *o,
		     char ret_id[CM_DIGEST_STR_LEN], bool *ret_layer, struct cm_error *err);
/* ADD of a local archive (unpack.c): a tar (plain, gzip, bzip2, xz, zstd)
 * read from fd (seekable) unpacked into dirfd by the checked layer code;
 * *ret_is_archive false (and 0) when fd is no tar: nothing written. */
int ims_unpack_archive_fd(int fd, int dirfd, bool *ret_is_archive, struct cm_error *err);
/* The build cache (cache.c): key (any text) -> an image id. get: 0 and
 * the id when recorded and the image is still there, else -ENOENT. */
int ims_cache_get(struct ims_store *s, const char *key, char ret_id[CM_DIGEST_STR_LEN]);
int ims_cache_put(struct ims_store *s, const char *key, const char *id, struct cm_error *err);
/* img builder prune: the build cache goes, what a tagged image does not
 * use: every RUN --mount=type=cache dir (ROOT/build-mounts), the records
 * whose image is gone, and the records naming an untagged image that no
 * tagged image extends (ims_image_intermediates' relation), with that image
 * unless a container uses it; all: every record and every untagged image a
 * record names. report: docker's "Deleted: ..." lines; *freed: the bytes
 * (image blobs and the cache dirs). */
int ims_cache_prune(struct ims_store *s, bool all, void (*report)(void *ctx, const char *line),
		    void *ctx, int64_t *freed, struct cm_error *err);
/* The unpacked layer dirs of img (absolute paths, top first; free each and
 * the vector). -EINVAL if one is missing. */
int ims_image_layers(struct ims_store *s, const struct ims_image *img, char ***ret,
		     size_t *ret_n, struct cm_error *err);
/* The container's rw branch as an O_RDONLY dir fd (no symlink followed). */
int ims_container_rw_fd(struct ims_store *s, const struct ims_container *c, int *ret,
			struct cm_error *err);

/* The flattened rootfs (through the union, mounted for the time of the call
 * if needed) as a tar to out (a path: built aside and renamed; "-" = fd 1). */
int ims_container_export(struct ims_store *s, struct ims_container *c,
			 const char *out, struct cm_error *err);

/* ---- volumes (volume.c) -------------------------------------------------
 * ROOT/volumes/<name>/ = volume.json + _data/ (what a container gets
 * bind-mounted: volume data never passes through the union). Only the local
 * driver; its options type=, device=, o= are mounted on _data at first use
 * (ims_volume_mount) and unmounted when the volume is removed. Whether a
 * container uses a volume is the runner's knowledge: img's commands check
 * it before ims_volume_remove. */
struct ims_volume {
	char *name;
	char *driver;      /* "local" */
	char *mountpoint;  /* ROOT/volumes/<name>/_data */
	int64_t created;   /* seconds */
	char **labels;     /* KEY=VALUE, NULL-terminated */
	char **options;    /* KEY=VALUE (type, device, o) */
	bool anonymous;    /* made for -v /path or an image's VOLUME */
};

struct ims_volume_opts {
	const char *name;         /* NULL: 64 random hex (an anonymous volume) */
	const char *driver;       /* NULL or "local" */
	char *const *labels;      /* KEY=VALUE */
	char *const *options;     /* type=, device=, o= */
	bool anonymous;
};

void ims_volume_free(struct ims_volume *v);
void ims_volume_freep(struct ims_volume **v);
/* docker's rule for local names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool ims_volume_name_valid(const char *name);
/* Create (built in tmp/, published by one rename); an existing name is
 * returned as it is, as docker's. docker's error for a bad name. */
int ims_volume_create(struct ims_store *s, const struct ims_volume_opts *o,
		      struct ims_volume **ret, struct cm_error *err);
/* -ENOENT "get NAME: no such volume". */
int ims_volume_get(struct ims_store *s, const char *name, struct ims_volume **ret,
		   struct cm_error *err);
/* Every volume sorted by name (array of n pointers: free each, then it). */
int ims_volume_list(struct ims_store *s, struct ims_volume ***ret, size_t *ret_n,
		    struct cm_error *err);
/* Mount the local driver's device on _data when the volume has one and it
 * is not mounted yet (0 when there is nothing to mount). */
int ims_volume_mount(const struct ims_volume *v, struct cm_error *err);
/* Unmount (if mounted) and delete: disappears with one rename. */
int ims_volume_remove(struct ims_store *s, const char *name, struct cm_error *err);
/* docker's volume inspect object. */
void ims_volume_inspect(const struct ims_volume *v, struct cm_jw *w);
/* Bytes used below _data (blocks), and whether _data is empty. */
int64_t ims_volume_size(const struct ims_volume *v);
bool ims_volume_empty(const struct ims_volume *v);
