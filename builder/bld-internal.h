/* SPDX-License-Identifier: MIT */
/* libbuilder private header, sectioned by file. */
#pragma once

#include <errno.h>

#include "bld.h"
#include "cm.h"
#include "cm-json.h"
#include "cm-template.h"

/* ---- parse.c: small string helpers shared by the builder ---- */
#define bld_sb cm_tpl_out /* common's growable buffer */
#define bld_sb_add cm_tpl_out_put
int bld_sb_addc(struct bld_sb *b, char c);
/* The string (never NULL unless out of memory); b is reset. */
char *bld_sb_take(struct bld_sb *b);
/* Append s (owned; NULL = -ENOMEM) to the NULL-terminated vector *v. */
int bld_strv_push(char ***v, size_t *n, char *s);

int bld_cmp_str(const void *a, const void *b);
/* ignore.c: a slash path cleaned into out ("" = the root): no leading '/',
 * "." and empty components dropped, ".." never climbing above the root.
 * -ENAMETOOLONG if it does not fit. */
int bld_path_clean(const char *in, char *out, size_t sz);

/* ---- copy.c: COPY / ADD ---- */
#include <sys/types.h>
#define BLD_HASH_LEN 40 /* "xxh3:" + 32 hex + NUL */
struct bld_doc {
	const char *name, *body;
};
struct bld_copy {
	int src_root;                   /* dir fd of the sources' root */
	const struct bld_ignore *ignore; /* the context's rules, or NULL */
	const struct bld_ignore *exclude; /* --exclude patterns, or NULL */
	bool parents;                   /* --parents: source paths kept below DEST */
	bool keep_owner;                /* --from: owners kept; else 0:0 */
	bool chown, chmod;              /* --chown / --chmod given */
	uid_t uid;
	gid_t gid;
	mode_t mode;
	bool extract;                   /* ADD: local tars unpacked */
	char **srcs;                    /* source words ("<<NAME": a heredoc) */
	size_t n_srcs;
	const struct bld_doc *docs;     /* heredoc files */
	size_t n_docs;
	const char *dest;               /* absolute path in the image */
	int image_root;                 /* the image's root (mounted), or -1 */
	int64_t clamp;                  /* file times later than this are set to it (-1: kept) */
};
/* The matching sources (paths below src_root, "" the root), in order; a
 * source matching nothing is -ENOENT. */
int bld_copy_resolve(const struct bld_copy *c, char ***ret, size_t *ret_n, struct cm_error *err);
/* mkdir -p of path in the tree, each dir with the metadata the image (its
 * root c->image_root, or -1) has for it, else root 0755 (--chown's owner).
 * Returns the fd of the last dir. */
int bld_make_dirs(const struct bld_copy *c, int tree, const char *path, struct cm_error *err);
/* The sources' content hash for the cache key. */
int bld_copy_hash(const struct bld_copy *c, char out[BLD_HASH_LEN], struct cm_error *err);
/* Write the sources into the tree (an empty dir: the new layer). */
int bld_copy_write(const struct bld_copy *c, int tree, struct cm_error *err);

/* ---- mounts.c: RUN --mount=type=cache|secret ---- */
struct bld_mounts {
	char **vols;      /* "HOST:CTR[:ro]" binds for the runner */
	size_t n_vols;
	char **targets;   /* their paths in the container */
	size_t n_targets;
	char *tmp;        /* the secrets' private temp dir, or NULL */
	char *key;        /* the --mount flags, for the step's cache key */
	char **tmpfs;     /* type=tmpfs: "CTR[:size=N]" for the runner's --tmpfs */
	size_t n_tmpfs;
	char **env;       /* K=V the RUN gets (type=ssh: SSH_AUTH_SOCK) */
	size_t n_env;
};
/* Where a type=bind mount's source= is looked up: a dir (fd and host
 * path); sub, when set, is the path in it to bind instead of source= (a
 * temp copy of source=). */
struct bld_bind_root {
	int fd;
	const char *path;
	const char *sub;
};
/* One "k=v,k=v" option of a --mount spec (a bare k: "true"), or NULL. */
char *bld_mount_opt(const char *spec, const char *k);
/* The binds of in's --mount flags (secrets from --secret "id=X,src=F", ssh
 * agents from --ssh "ID[=SOCKET]"); roots[i] (n_flags of them, or NULL)
 * is the source root of flag i when it is a type=bind with from= or rw,
 * fd -1 for the context itself. */
int bld_mounts_setup(struct ims_store *s, const struct bld_instr *in, char *const *secrets,
		     char *const *ssh,
		     const char *workdir, int context, const char *context_path,
		     const struct bld_bind_root *roots,
		     struct bld_mounts *ret, struct cm_error *err);
/* Drop the secrets' copies and free. */
void bld_mounts_free(struct bld_mounts *m);
/* Take the stubs the runner made for the targets (empty files and dirs the
 * image's layers lack) out of the rw branch rw. */
void bld_mounts_unstub(const struct bld_mounts *m, int rw, char *const *layers, size_t n);

/* ---- config.c: maps and the image config ---- */
#include <sys/types.h>
struct bld_kv {
	char **k, **v; /* v[i] may be NULL (an ARG without a value) */
	size_t n;
};

struct bld_cfg {
	struct bld_kv env, labels;
	char **cmd, **ep, **shell, **ports, **vols, **onbuild;
	size_t n_cmd, n_ep, n_shell, n_ports, n_vols, n_onbuild;
	char *workdir, *user, *stopsignal, *healthcheck; /* healthcheck: JSON text */
	const struct cm_json *base; /* the image's config object (other keys kept) */
};

void bld_kv_free(struct bld_kv *m);
/* The index of key k (kl bytes), or -1. */
ssize_t bld_kv_find(const struct bld_kv *m, const char *k, size_t kl);
/* Set k to v (copied; v NULL: declared, no value); first-set order kept. */
int bld_kv_set(struct bld_kv *m, const char *k, const char *v);
void bld_cfg_free(struct bld_cfg *c);
/* Read the image's config object cc (kept as c->base, not copied). */
int bld_cfg_load(struct bld_cfg *c, const struct cm_json *cc);
/* The config object (docker's key order); *ret malloc'd. */
int bld_cfg_json(const struct bld_cfg *c, char **ret);
