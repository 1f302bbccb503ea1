/* SPDX-License-Identifier: MIT */
/* libimgstore private header, sectioned by file (after overlayfs.h). */
#pragma once

#include "ims-libarchive.h"
#include <pthread.h>
#include <stdio.h>
#include <sys/types.h>
#include <zlib.h>

#include "cm.h"
#include "cm-fs.h"
#include "cm-whiteout.h"
#include "ims.h"

#define IMS_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define IMS_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMS_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define IMS_MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define IMS_MT_LAYER_GZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMS_MT_LAYER_ZST "application/vnd.oci.image.layer.v1.tar+zstd"
#define IMS_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IMS_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMS_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define IMS_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define IMS_MT_DOCKER_LAYER_GZ "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define IMS_ANN_REF_NAME "org.opencontainers.image.ref.name"
/* the registry digest a pull or push recorded: DOMAIN/REPO@sha256:... */
#define IMS_ANN_REPO_DIGEST "io.img.repo.digest"
#define IMS_ANN_CONTAINERD_NAME "io.containerd.image.name"

/* Bounds on untrusted metadata read into memory. */
#define IMS_MAX_JSON (8 << 20)

/* ---- strmap.c: string -> pointer hash map (keys copied; zero-init) ---- */
struct ims_strmap_ent {
	char *key;
	void *value;
};
struct ims_strmap {
	struct ims_strmap_ent *t;
	size_t n, cap; /* cap a power of two, at most half full */
};
/* Set key's value (replacing one there). 0 or -ENOMEM. */
int ims_strmap_put(struct ims_strmap *m, const char *key, void *value);
/* key's value, NULL if absent. */
void *ims_strmap_get(const struct ims_strmap *m, const char *key);
bool ims_strmap_has(const struct ims_strmap *m, const char *key);
void ims_strmap_free(struct ims_strmap *m);

/* ---- store.c ----
 * Lock order: store.lock (LOCK_SH for the whole of any command that
 * publishes objects; LOCK_EX for gc) before index.lock (LOCK_EX around every
 * read-modify-write of index.json). Both live in the run dir. */
struct ims_store {
	char *root;
	char *rundir;
	int rootfd;    /* O_PATH dir fds */
	int blobsfd;   /* blobs/sha256 */
	int layersfd;  /* layers */
	int metafd;    /* layer-manifests: a content manifest per layer */
	int tmpfd;     /* tmp: temp files and dirs, same filesystem */
	int runfd;
	int lockfd;    /* run/store.lock */
	int lock_depth;
	bool batch;    /* batch.c: names queued, published after one syncfs */
	pthread_mutex_t pend_lock; /* pend, n_pend (a pull's unpack threads queue too) */
	struct ims_pend *pend;
	size_t n_pend;
};

/* ---- batch.c: one syncfs for an image publish's names ---- */
enum ims_pend_kind {
	IMS_PEND_LINK, /* a blob: linked (exists: success), the temp unlinked */
	IMS_PEND_FILE, /* a file renamed over the old one (index.json) */
	IMS_PEND_DIR,  /* an unpacked layer: renamed unless there, else dropped */
};
struct ims_pend {
	enum ims_pend_kind kind;
	int from, to; /* the store's dir fds (not owned) */
	char tmp[NAME_MAX + 1], name[NAME_MAX + 1];
};
/* From here on, blob temps are not fsynced and the names below are queued
 * (ims_batch_add) until ims_batch_flush. */
void ims_batch_begin(struct ims_store *s);
int ims_batch_add(struct ims_store *s, enum ims_pend_kind kind, int from, const char *tmp, int to,
		  const char *name, struct cm_error *err);
/* One syncfs, then every queued name published in order; if the syncfs
 * fails, the temps are dropped and nothing is published. */
int ims_batch_flush(struct ims_store *s, struct cm_error *err);
/* Flush and leave batch mode (whatever the flush's outcome). */
int ims_batch_end(struct ims_store *s, struct cm_error *err);
/* Leave batch mode naming nothing: every queued temp removed, no sync. */
void ims_batch_abort(struct ims_store *s);
/* dirfd/name replaced by buf: durably (temp fsynced, renamed, dir fsynced),
 * or in a batch the unsynced temp queued as an IMS_PEND_FILE. */
int ims_store_replace_file(struct ims_store *s, int dirfd, const char *name, const void *buf,
			   size_t len, mode_t mode, struct cm_error *err);

int ims_store_lock_shared(struct ims_store *s, struct cm_error *err);
void ims_store_unlock_shared(struct ims_store *s);

struct ims_index_ent {
	char digest[CM_DIGEST_STR_LEN];
	int64_t size;
	char *name; /* normalized NAME:TAG, or NULL */
	char *repo_digest; /* DOMAIN/REPO@sha256:... (pull, push), or NULL */
};

struct ims_index {
	struct ims_index_ent *e;
	size_t n;
	int lockfd; /* index.lock held while >= 0 */
};

/* Read index.json; with lock, take index.lock first (released by
 * ims_index_release). */
int ims_index_read(struct ims_store *s, struct ims_index *idx, bool lock,
		   struct cm_error *err);
/* Write index.json atomically (temp, fsync, rename, fsync dir). */
int ims_index_write(struct ims_store *s, const struct ims_index *idx,
		    struct cm_error *err);
void ims_index_release(struct ims_index *idx);
/* Name a manifest: drop name from any other entry (and the unnamed entry of
 * the same digest), add (digest, name). name NULL: add an unnamed entry if the
 * digest has no entry yet. */
int ims_index_put(struct ims_index *idx, const char *digest, int64_t size,
		  const char *name);
/* The same with the repo digest a pull recorded (NULL: none, as a tag).
 * name NULL and a repo digest: an unnamed entry carrying it (pull by
 * digest), kept when the image is named later. */
int ims_index_put_rd(struct ims_index *idx, const char *digest, int64_t size,
		     const char *name, const char *repo_digest);
void ims_index_remove_at(struct ims_index *idx, size_t i);

/* gc.c: undo a failed writer: remove those of blobs and layers (hex names)
 * that nothing references, but only if no other writer holds the store
 * (store.lock taken LOCK_EX, non-blocking): a concurrent writer may count
 * them as present, so then they are left to gc (-EAGAIN). Call with the
 * store lock released (lock_depth 0). */
int ims_gc_rollback(struct ims_store *s, char *const *blobs, size_t n_blobs,
		    char *const *layers, size_t n_layers);

/* Write buf as dirfd/name atomically, fsyncing the file and dirfd. */
int ims_write_file_atomic(int dirfd, const char *name, const void *buf,
			  size_t len, mode_t mode);
/* Read a whole small file below dirfd (no symlinks), at most max bytes. */
int ims_read_file_at(int dirfd, const char *path, size_t max, char **ret,
		     size_t *ret_len);
/* Make a temp name in s->tmpfd. */
void ims_tmpname(char *buf, size_t sz, const char *what);

/* ---- blob.c ---- */
struct ims_blob_writer {
	struct ims_store *s;
	int fd;
	char tmp[64];
	struct cm_sha256 h;
	int64_t size;
	const char *label; /* progress label, NULL: none */
	int64_t total;     /* expected size for progress, < 0 unknown */
	uint64_t prog[2];  /* progress: start, last report */
	bool nosync;       /* finish_tmp leaves the fsync to whoever publishes */
};

/* progress.c: report a stream's progress: shown once it has run 250 ms, at
 * most ten times a second; st is the stream's {start, last report}, zeroed
 * by the caller. */
void ims_progress(const char *what, int64_t done, int64_t total, bool final,
		  uint64_t st[2]);

int ims_blob_writer_open(struct ims_store *s, struct ims_blob_writer *w,
			 struct cm_error *err);
int ims_blob_writer_write(struct ims_blob_writer *w, const void *buf,
			  size_t len, struct cm_error *err);
/* fsync, compare with expect_digest/expect_size (if given: NULL / < 0 skip),
 * publish as blobs/sha256/<hex> (already there = success), fsync the dir. The
 * writer is closed either way. */
int ims_blob_writer_commit(struct ims_blob_writer *w, const char *expect_digest,
			   int64_t expect_size, char ret_digest[CM_DIGEST_STR_LEN],
			   struct cm_error *err);
/* Finish hashing without publishing: the temp stays (name in w->tmp, fd
 * closed) for a later ims_blob_publish_tmp or unlink. */
int ims_blob_writer_finish_tmp(struct ims_blob_writer *w,
			       char ret_digest[CM_DIGEST_STR_LEN],
			       struct cm_error *err);
int ims_blob_publish_tmp(struct ims_store *s, const char *tmp,
			 const char *digest, struct cm_error *err);
void ims_blob_writer_abort(struct ims_blob_writer *w);
int ims_blob_put(struct ims_store *s, const void *buf, size_t len,
		 char ret_digest[CM_DIGEST_STR_LEN], struct cm_error *err);
/* Open a stored blob read-only; the digest is validated first. */
int ims_blob_open(struct ims_store *s, const char *digest, struct cm_error *err);
int ims_blob_read(struct ims_store *s, const char *digest, size_t max,
		  char **ret, size_t *ret_len, struct cm_error *err);
bool ims_blob_exists(struct ims_store *s, const char *digest);

/* gzip-compressing layer writer: diff_id of what goes in, digest of the
 * blob that comes out. Deterministic (no name, mtime 0, fixed level). */
struct ims_gz_writer {
	struct ims_blob_writer b;
	z_stream z;
	bool zinit;
	struct cm_sha256 diff;
	int64_t usize;
};

int ims_gz_open(struct ims_store *s, struct ims_gz_writer *g, struct cm_error *err);
int ims_gz_write(struct ims_gz_writer *g, const void *buf, size_t len,
		 struct cm_error *err);
int ims_gz_commit(struct ims_gz_writer *g, char ret_diffid[CM_DIGEST_STR_LEN],
		  char ret_digest[CM_DIGEST_STR_LEN], int64_t *ret_size,
		  struct cm_error *err);
void ims_gz_abort(struct ims_gz_writer *g);

/* ---- unpack.c ---- */
/* Called with every decompressed byte of the layer, in order. */
typedef int (*ims_tee_fn)(void *ctx, const void *buf, size_t len,
			  struct cm_error *err);

/* Unpack the layer tar read from fd (any compression) into layers/<diff_id>
 * (built in tmp, published by rename; already present = success, nothing
 * rewritten). The whole stream is read and hashed; if expect_diffid is set it
 * must match. Hostile entries are refused and nothing is left behind. */
int ims_layer_unpack_fd(struct ims_store *s, int fd, const char *expect_diffid,
			ims_tee_fn tee, void *tee_ctx,
			char ret_diffid[CM_DIGEST_STR_LEN], struct cm_error *err);
/* The diff_id (sha256 of the decompressed stream) of a layer read from fd. */
int ims_layer_diffid_fd(int fd, char ret[CM_DIGEST_STR_LEN], struct cm_error *err);
/* Unpack tar entries of a into dirfd (exposed for tests and commit). */
int ims_unpack_entries(struct archive *a, int dirfd, struct cm_error *err);
/* The same, calling check(ctx, a, entry name, err) after each header is
 * read (a refusal stops the unpack). */
struct ims_known;
/* With known set, the XXH3 of every regular file written goes into it (the
 * layer manifest then need not read the files back). */
int ims_unpack_entries_checked(struct archive *a, int dirfd,
			       int (*check)(void *ctx, struct archive *a, const char *name,
					    struct cm_error *err),
			       void *ctx, struct ims_known *known, struct cm_error *err);
bool ims_layer_exists(struct ims_store *s, const char *diffid);

/* ---- layermeta.c: content manifests of unpacked layers ---- */
/* Record the tree at dfd as the contents of layer diffid (before the layer
 * is published: a published layer always has one). */
int ims_layer_manifest_write(struct ims_store *s, int dfd, const char *diffid,
			     struct cm_error *err);
/* Content hashes of the regular files an unpack wrote, by (st_dev, st_ino),
 * taken while the bytes went to the file: the manifest uses one for a file
 * of the same inode and size instead of reading it back. Only the unpack
 * that fills it makes regular files in its tree, each written once, so an
 * entry is right for the inode it names (a reused inode is a new regular
 * file, whose entry replaces the old, or an empty whiteout, whose size
 * gives the same hash). Zero-initialised; ims_known_free. */
struct ims_known_ent {
	uint64_t dev, ino; /* ino 0: free slot */
	int64_t size;
	uint64_t h;
};
struct ims_known {
	struct ims_known_ent *t;
	size_t n, cap;
};
int ims_known_put(struct ims_known *k, uint64_t dev, uint64_t ino, int64_t size, uint64_t h);
void ims_known_free(struct ims_known *k);
/* ims_layer_manifest_write with the hashes of known (NULL: read every file). */
int ims_layer_manifest_write_known(struct ims_store *s, int dfd, const char *diffid,
				   const struct ims_known *known, struct cm_error *err);
/* Walk layers/<diffid> and compare with its manifest: 0 if identical, else
 * the number of differences (>= 1), each reported as one line. */
int ims_layer_manifest_verify(struct ims_store *s, const char *diffid,
			      void (*report)(void *, const char *), void *ctx);
/* The bytes of regular files the manifest records, -1 without one. */
int64_t ims_layer_manifest_bytes(struct ims_store *s, const char *diffid);

/* ---- image.c ---- */
struct ims_desc {
	const char *media_type;
	char digest[CM_DIGEST_STR_LEN];
	int64_t size;
};

/* Publish config (a blob), a manifest over it and layers, and name the image
 * (name normalized, or NULL: untagged). Used by import, load and commit. */
int ims_image_publish(struct ims_store *s, const char *config, size_t config_len,
		      const struct ims_desc *layers, size_t n_layers,
		      const char *name, char ret_id[CM_DIGEST_STR_LEN],
		      char ret_manifest[CM_DIGEST_STR_LEN], struct cm_error *err);
/* The blobs of ims_image_publish without the name: config and manifest
 * published, index.json untouched (a load names all its images at once). */
int ims_image_put_blobs(struct ims_store *s, const char *config, size_t config_len,
			const struct ims_desc *layers, size_t n_layers,
			char ret_id[CM_DIGEST_STR_LEN], char ret_manifest[CM_DIGEST_STR_LEN],
			int64_t *ret_msize, struct cm_error *err);
/* Load manifest + config of one manifest digest. */
int ims_image_load(struct ims_store *s, const char *digest, int64_t size,
		   struct ims_image **ret, struct cm_error *err);

/* commit.c: the image config's "config" object cc (NULL: empty) with
 * docker's --change instructions applied (CMD ENTRYPOINT ENV WORKDIR USER
 * VOLUME EXPOSE LABEL STOPSIGNAL), written to w as one object; -EINVAL and
 * nothing written for a bad change. Import and commit share it. */
int ims_config_apply_changes(struct cm_jw *w, const struct cm_json *cc, const char *const *changes,
			     struct cm_error *err);

/* ---- path.c: pure path rules for untrusted archive names ---- */
/* Clean an archive entry name into a relative path inside the root: leading
 * '/' and './' stripped, empty and '.' components dropped, '..' refused
 * (-EINVAL), components over NAME_MAX or a result over outsz refused
 * (-ENAMETOOLONG). An empty result means the root itself. */
int ims_path_clean(const char *in, char *out, size_t outsz);

/* ---- container.c ---- */
/* ROOT/containers as an O_RDONLY dir fd (created 0700). */
int ims_ctr_dirfd(struct ims_store *s, int *ret, struct cm_error *err);
/* True if path is a mount point in our mount namespace (mountinfo). */
bool ims_is_mountpoint(const char *path);

/* pack.c: the names in dir dfd but . and .. (unsorted, each malloc'd, the
 * array too). 0 or -errno. */
int ims_list_dir(int dfd, char ***ret, size_t *ret_n);

/* container.c: files the per-container init layer provides (hosts,
 * hostname, resolv.conf): a container's changes to them stay out of diff
 * and commit, as docker's bind-mounted ones do. path is relative to the
 * root ("etc/hosts"). */
bool ims_init_path(const char *path);
/* The container image's diff_ids, top layer first; each is unpacked. */
int ims_ctr_layers(struct ims_store *s, const struct ims_container *c,
		   char ***ret, size_t *ret_n, struct cm_error *err);
/* Open a container's rw branch (O_RDONLY dir fd, no symlink followed). */
int ims_ctr_open_rw(struct ims_store *s, const struct ims_container *c, int *ret,
		    struct cm_error *err);

/* ---- pack.c: dir -> deterministic tar ----
 * Entries: depth first, siblings in byte order of their names; mtimes kept
 * (seconds), numeric uid/gid, no uname/gname/atime/ctime; pax extended
 * headers only where ustar cannot hold a value (long names, xattrs);
 * hardlinks within the tree as tar hardlinks; sockets skipped. */
enum ims_pack_mode {
	IMS_PACK_LAYER,  /* a branch: whiteouts and .wh..wh..opq kept as entries
			  * (normalized: empty, 0444, root, mtime 0), other
			  * .wh..wh.* (ufsmount's work dir) and invalid ones left out */
	IMS_PACK_ROOTFS, /* a plain tree (export): every .wh. name left out */
};
/* Keep (true) or leave out a name of a dir being packed. Pure. */
bool ims_pack_keep_name(const char *name, enum ims_pack_mode mode);
/* Filter names (freeing what is left out) and sort the rest in entry order;
 * returns the new count. Pure. */
size_t ims_pack_sort_names(char **names, size_t n, enum ims_pack_mode mode);
/* Tar the tree under rootfd (fd-relative, never following a symlink) into
 * out(ctx, bytes). The tree may change while it is read: a file is captured
 * as read, padded or cut to the size first seen. */
int ims_pack_tree(int rootfd, enum ims_pack_mode mode, ims_tee_fn out, void *ctx,
		  struct cm_error *err);
/* The same with every mtime later than clamp (seconds) set to clamp
 * (reproducible builds: SOURCE_DATE_EPOCH); clamp < 0 keeps them. */
int ims_pack_tree_clamped(int rootfd, enum ims_pack_mode mode, int64_t clamp, ims_tee_fn out,
			  void *ctx, struct cm_error *err);

/* ---- diff.c ---- */
/* XXH3-64 of the rest of fd, read through buf. 0 or -errno. */
int ims_xxh3_fd(int fd, char *buf, size_t bufsz, uint64_t *ret);
/* docker diff's verdict for one rw-branch entry: 'A' (nothing below), 'C'
 * (changed), or 0 (a copy-up identical to what is below). lower NULL: absent
 * below. same_content: regular files / symlinks of equal data (XXH3).
 * Pure. */
char ims_diff_classify(const struct stat *upper, const struct stat *lower,
		       bool same_content, size_t changes_below, bool opaque);

/* ---- commit.c ---- */
/* Pack the tree at fd (a branch) into a new layer: the gzip blob published,
 * the layer unpacked into layers/ (mtimes clamped to clamp unless < 0). */
int ims_layer_from_tree(struct ims_store *s, int fd, int64_t clamp, struct ims_desc *ret,
			char ret_diffid[CM_DIGEST_STR_LEN], struct cm_error *err);
/* The same for a tree of ours in s->tmpfd named adopt (NULL: as above): its
 * times clamped first, then it becomes the unpacked layer itself by one
 * rename (not unpacked from its tar again, nor removed after); left where
 * it is when the layer exists already. */
int ims_layer_from_tree_adopt(struct ims_store *s, int fd, const char *adopt, int64_t clamp,
			      struct ims_desc *ret, char ret_diffid[CM_DIGEST_STR_LEN],
			      struct cm_error *err);
/* The layer descriptors of img's manifest (NULL: none), OCI media types,
 * with room for extra more. */
int ims_image_descs(const struct ims_image *img, size_t extra, struct ims_desc **ret,
		    size_t *ret_n, struct cm_error *err);

/* ---- blob.c (commit) ---- */
/* Finish the gzip stream and keep the blob as a temp (name in g->b.tmp). */
int ims_gz_finish_tmp(struct ims_gz_writer *g, char ret_diffid[CM_DIGEST_STR_LEN],
		      char ret_digest[CM_DIGEST_STR_LEN], int64_t *ret_size,
		      struct cm_error *err);
