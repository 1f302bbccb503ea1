// SPDX-License-Identifier: MIT
/* The build: stages chosen from --target, then one dispatcher per
 * instruction over a small state (the stage's image, its config, the ARGs in
 * scope), after openshift/imagebuilder's dispatchers. Every step ends in an
 * image of the store (unnamed) recorded in the build cache under a key made
 * of the parent image, the instruction after substitution, the build args
 * it used and, for COPY/ADD, the sources' content hash: a hit skips the
 * work, a miss does it (RUN: a container through the caller's run; COPY:
 * a tree written aside) and publishes the result. */
#include "bld-internal.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm-fs.h"
#include "cm-hash.h"
#include "ims.h"
#include "reg.h"
#include "run.h"

/* ------------------------------------------------------------ the build state */

struct stage {
	size_t first, end; /* instructions [first, end), first is the FROM */
	char *name;        /* AS name (lower case) or NULL */
	bool needed, done;
	char id[CM_DIGEST_STR_LEN]; /* the current image ("" = scratch, nothing yet) */
	struct ims_image *img;
	struct bld_cfg cfg;
	struct bld_kv args;    /* ARGs declared in the stage: their values */
	char *author;
	bool cmd_set;      /* CMD given in this stage (ENTRYPOINT keeps it) */
};

struct build {
	struct ims_store *s;
	const struct bld_opts *o;
	struct cm_error *err;
	struct bld_file f;
	struct stage *st;
	size_t n_st;
	struct bld_kv meta;    /* ARGs before the first FROM */
	struct bld_kv cli;     /* --build-arg */
	bool *cli_used;
	struct bld_ignore ig;
	bool have_ig;
	unsigned step, steps, stage_no, n_needed;
	int code;
	bool published; /* a step image was made: ims_store_sync at the end */
};

static void say(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct build *b, const char *fmt, ...)
{
	if (!b->o->ops->print)
		return;
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	b->o->ops->print(b->o->ops->ctx, line);
}

static const char *const proxy_args[] = {
	"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
	"NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
};

static bool is_proxy(const char *k, size_t kl)
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(proxy_args); i++)
		if (strlen(proxy_args[i]) == kl && strncmp(proxy_args[i], k, kl) == 0)
			return true;
	return false;
}

/* The value of --build-arg k (marking it used), or NULL. */
static const char *cli_arg(struct build *b, const char *k, size_t kl, bool *found)
{
	ssize_t i = bld_kv_find(&b->cli, k, kl);
	*found = i >= 0;
	if (i < 0)
		return NULL;
	b->cli_used[i] = true;
	return b->cli.v[i];
}

struct scope {
	struct build *b;
	struct stage *st; /* NULL: the FROM lines (meta args only) */
};

static const char *lookup(void *ctx, const char *name, size_t len)
{
	struct scope *sc = ctx;
	if (sc->st) {
		ssize_t i = bld_kv_find(&sc->st->cfg.env, name, len);
		if (i >= 0)
			return sc->st->cfg.env.v[i] ? sc->st->cfg.env.v[i] : "";
		i = bld_kv_find(&sc->st->args, name, len);
		if (i >= 0)
			return sc->st->args.v[i];
		return NULL;
	}
	ssize_t i = bld_kv_find(&sc->b->meta, name, len);
	return i >= 0 ? sc->b->meta.v[i] : NULL;
}

/* The ARG values a RUN sees (docker passes them as env and keys its cache
 * and history by them), proxies only when given. */
static int run_args(struct build *b, struct stage *st, char ***env, size_t *n)
{
	for (size_t i = 0; i < st->args.n; i++) {
		if (!st->args.v[i] || bld_kv_find(&st->cfg.env, st->args.k[i], strlen(st->args.k[i])) >= 0)
			continue;
		char *e = NULL;
		if (asprintf(&e, "%s=%s", st->args.k[i], st->args.v[i]) < 0 ||
		    bld_strv_push(env, n, e) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------ steps */

static int stage_set_image(struct build *b, struct stage *st, const char *id)
{
	struct ims_image *img = NULL;
	int r = ims_image_resolve(b->s, id, &img, b->err);
	if (r < 0)
		return r;
	bld_cfg_free(&st->cfg);
	ims_image_free(st->img);
	st->img = img;
	memcpy(st->id, img->id, CM_DIGEST_STR_LEN);
	if ((r = bld_cfg_load(&st->cfg, cm_json_get(img->config, "config"))) < 0)
		return cm_error_set(b->err, r, "out of memory");
	return 0;
}

static void print_id(struct build *b, const char *id)
{
	say(b, "--> %.12s", id + 7);
}

/* The cache key of a step: the epoch (created, layer times), the parent,
 * what the step does after substitution (a RUN's: with the build args it
 * sees), plus extra (the sources' hash, or the --from image). */
static char *step_key(struct build *b, struct stage *st, const char *what, const char *extra)
{
	struct bld_sb k = { 0 };
	char epoch[32];
	int el = snprintf(epoch, sizeof(epoch), "%lld\n", (long long)b->o->epoch);
	bool ok = bld_sb_add(&k, "img-build-v1\n", 13) == 0 && bld_sb_add(&k, epoch, (size_t)el) == 0 &&
		  bld_sb_add(&k, st->id, strlen(st->id)) == 0 && bld_sb_addc(&k, '\n') == 0 &&
		  bld_sb_add(&k, what, strlen(what)) == 0 && bld_sb_addc(&k, '\n') == 0;
	if (ok && extra)
		ok = bld_sb_add(&k, extra, strlen(extra)) == 0;
	char *s = ok ? bld_sb_take(&k) : NULL;
	free(k.s);
	return s;
}

/* Use the cached result of key, if any. 1: hit, 0: miss. */
static int cache_hit(struct build *b, struct stage *st, const char *key)
{
	char id[CM_DIGEST_STR_LEN];
	if (b->o->no_cache || ims_cache_get(b->s, key, id) < 0)
		return 0;
	int r = stage_set_image(b, st, id);
	if (r < 0)
		return r;
	say(b, "--> Using cache %s", id);
	print_id(b, id);
	return 1;
}

/* Publish the step's image (tree_fd: its layer, or -1), record it. */
static int publish_tree(struct build *b, struct stage *st, const char *key,
			const char *created_by, int tree_fd, const char *tree_path);

static int publish(struct build *b, struct stage *st, const char *key, const char *created_by,
		   int tree_fd)
{
	return publish_tree(b, st, key, created_by, tree_fd, NULL);
}

/* tree_path: tree_fd's path when it is a temp tree of ours in ROOT/tmp
 * (the store adopts it as the layer's unpacked dir). */
static int publish_tree(struct build *b, struct stage *st, const char *key,
			const char *created_by, int tree_fd, const char *tree_path)
{
	_cleanup_free_ char *config = NULL;
	int r = bld_cfg_json(&st->cfg, &config);
	if (r < 0)
		return cm_error_set(b->err, r, "out of memory");
	struct ims_derive_opts d = { .parent = st->id[0] ? st->id : NULL, .tree_fd = tree_fd,
				     .skip_empty = true, .config = config,
				     .created_by = created_by, .author = st->author,
				     .created = b->o->epoch, .clamp = b->o->epoch,
				     .tree_tmp = tree_path ? strrchr(tree_path, '/') + 1 : NULL,
				     .batch = true };
	char id[CM_DIGEST_STR_LEN];
	if ((r = ims_image_derive(b->s, &d, id, NULL, b->err)) < 0)
		return r;
	b->published = true;
	if ((r = ims_cache_put(b->s, key, id, b->err)) < 0)
		return r;
	if ((r = stage_set_image(b, st, id)) < 0)
		return r;
	print_id(b, id);
	return 0;
}

/* A config-only step: the config as changed, keyed by desc (substituted),
 * history "#(nop) raw" (the instruction as written, as buildah and
 * docker's classic builder record it). */
static int config_step(struct build *b, struct stage *st, const char *desc, const char *raw)
{
	_cleanup_free_ char *key = step_key(b, st, desc, NULL);
	_cleanup_free_ char *by = NULL;
	if (!key || asprintf(&by, "/bin/sh -c #(nop) %s", raw ? raw : desc) < 0)
		return cm_error_set(b->err, -ENOMEM, "out of memory");
	int r = cache_hit(b, st, key);
	if (r != 0)
		return r < 0 ? r : 0;
	return publish(b, st, key, by, -1);
}

static char *join_words(char **v, size_t n, const char *sep)
{
	struct bld_sb s = { 0 };
	for (size_t i = 0; i < n; i++)
		if ((i && bld_sb_add(&s, sep, strlen(sep)) < 0) || bld_sb_add(&s, v[i], strlen(v[i])) < 0) {
			free(s.s);
			return NULL;
		}
	char *r = bld_sb_take(&s);
	free(s.s);
	return r;
}

/* The instruction's words, expanded (JSON form: each string expanded). */
static int words_of(struct build *b, struct stage *st, const struct bld_instr *in, char ***ret,
		    size_t *ret_n)
{
	struct scope sc = { b, st };
	if (!in->json)
		return bld_expand(in->args, b->f.escape, true, lookup, &sc, ret, ret_n, b->err);
	char **v = NULL;
	size_t n = 0;
	for (size_t i = 0; i < in->n_argv; i++) {
		char *w;
		int r = bld_expand_word(in->argv[i], b->f.escape, lookup, &sc, &w, b->err);
		if (r < 0 || (r = bld_strv_push(&v, &n, w)) < 0) {
			bld_strv_free(v);
			return r;
		}
	}
	if (!v && !(v = calloc(1, sizeof(*v))))
		return -ENOMEM;
	*ret = v;
	*ret_n = n;
	return 0;
}

/* CMD/ENTRYPOINT/SHELL-form commands: exec form as is, shell form through
 * the stage's SHELL (default /bin/sh -c). */
static int command_of(struct stage *st, const struct bld_instr *in, const char *text, char ***ret,
		      size_t *ret_n)
{
	char **v = NULL;
	size_t n = 0;
	if (in->json) {
		for (size_t i = 0; i < in->n_argv; i++)
			if (bld_strv_push(&v, &n, strdup(in->argv[i])) < 0)
				return -ENOMEM;
	} else {
		if (st->cfg.n_shell) {
			for (size_t i = 0; i < st->cfg.n_shell; i++)
				if (bld_strv_push(&v, &n, strdup(st->cfg.shell[i])) < 0)
					return -ENOMEM;
		} else if (bld_strv_push(&v, &n, strdup("/bin/sh")) < 0 ||
			   bld_strv_push(&v, &n, strdup("-c")) < 0) {
			return -ENOMEM;
		}
		if (bld_strv_push(&v, &n, strdup(text)) < 0)
			return -ENOMEM;
	}
	if (!v && !(v = calloc(1, sizeof(*v))))
		return -ENOMEM;
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ------------------------------------------- RUN --mount=type=bind sources */

/* An image's root, mounted through a short-lived container. */
struct root {
	struct ims_container *ct;
	int fd;
};
static int root_open(struct build *b, const char *id, struct root *ret);
static void root_close(struct build *b, struct root *rt);
static struct stage *stage_named(struct build *b, const char *name, size_t before);
static int tmp_tree(struct build *b, char **ret_path, int *ret_fd);

/* The source roots of a RUN's type=bind mounts, one per flag: a stage or
 * image (from=) by its id, the context by the content of source=. */
struct binds {
	size_t n;
	char (*id)[CM_DIGEST_STR_LEN]; /* from=: the image; "" the context */
	bool *rw;
	struct root *rt;                /* from=: its root, mounted (a union) */
	char **tmp;                     /* the context, rw: a temp copy */
	char **sub;                     /* the source's path in that copy */
	struct bld_bind_root *roots;
};

static bool is_bind(const char *flag)
{
	if (strncmp(flag, "--mount=", 8) != 0)
		return false;
	_cleanup_free_ char *t = bld_mount_opt(flag + 8, "type");
	return !t || strcmp(t, "bind") == 0;
}

static void binds_close(struct build *b, struct binds *bs)
{
	for (size_t i = 0; i < bs->n; i++) {
		root_close(b, &bs->rt[i]);
		if (bs->tmp[i] && bs->roots[i].fd >= 0)
			close(bs->roots[i].fd);
		bld_tmpdir_remove(bs->tmp[i]);
		free(bs->sub[i]);
	}
	free(bs->id);
	free(bs->rw);
	free(bs->rt);
	free(bs->tmp);
	free(bs->sub);
	free(bs->roots);
	*bs = (struct binds){ 0 };
}

/* The sources' identities, appended to *key: an image id, or the xxh3 of
 * the context's files at source= (what the RUN sees: a change in them
 * makes the step miss, BuildKit's rule). */
static int binds_key(struct build *b, struct stage *st, const struct bld_instr *in, struct binds *bs,
		     struct bld_sb *key)
{
	size_t n = in->n_flags;
	bs->id = calloc(n + 1, sizeof(*bs->id));
	bs->rw = calloc(n + 1, sizeof(*bs->rw));
	bs->rt = calloc(n + 1, sizeof(*bs->rt));
	bs->tmp = calloc(n + 1, sizeof(*bs->tmp));
	bs->sub = calloc(n + 1, sizeof(*bs->sub));
	bs->roots = calloc(n + 1, sizeof(*bs->roots));
	if (!bs->id || !bs->rw || !bs->rt || !bs->tmp || !bs->sub || !bs->roots)
		return cm_error_set(b->err, -ENOMEM, "out of memory");
	bs->n = n;
	for (size_t i = 0; i < n; i++) {
		bs->rt[i] = (struct root){ NULL, -1 };
		bs->roots[i].fd = -1;
	}
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!is_bind(in->flags[i]))
			continue;
		const char *spec = in->flags[i] + 8;
		_cleanup_free_ char *from = bld_mount_opt(spec, "from");
		_cleanup_free_ char *src = bld_mount_opt(spec, "source");
		_cleanup_free_ char *rw = bld_mount_opt(spec, "rw");
		if (!src)
			src = bld_mount_opt(spec, "src");
		if (!rw)
			rw = bld_mount_opt(spec, "readwrite");
		bs->rw[i] = rw && strcmp(rw, "false") != 0;
		char line[CM_DIGEST_STR_LEN + 64];
		if (from && *from) {
			struct stage *fs = stage_named(b, from, (size_t)(st - b->st));
			if (fs) {
				if (!fs->id[0])
					return cm_error_set(b->err, -EINVAL, "RUN --mount=type=bind,from=%s: that stage is empty", from);
				snprintf(bs->id[i], sizeof(bs->id[i]), "%s", fs->id);
			} else {
				struct ims_image *fi = NULL;
				if (b->o->ops->pull && b->o->ops->pull(b->o->ops->ctx, b->s, from) != 0)
					return cm_error_set(b->err, -ENOENT,
							    "RUN --mount=type=bind,from=%s: not a stage, and the image could not be pulled",
							    from);
				if ((r = ims_image_resolve(b->s, from, &fi, b->err)) < 0)
					return cm_error_prefix(b->err, r, "RUN --mount=type=bind,from=%s: not a stage", from);
				snprintf(bs->id[i], sizeof(bs->id[i]), "%s", fi->id);
				ims_image_free(fi);
			}
			snprintf(line, sizeof(line), "bind %zu %s\n", i, bs->id[i]);
		} else {
			if (b->o->context < 0)
				return cm_error_set(b->err, -ENOTSUP, "RUN --mount=type=bind: no context dir");
			char rel[PATH_MAX];
			if (bld_path_clean(src ? src : ".", rel, sizeof(rel)) < 0)
				return cm_error_set(b->err, -ENAMETOOLONG, "--mount source too long");
			_cleanup_close_ int fd = cm_openat_beneath(b->o->context, *rel ? rel : ".", O_PATH, 0, false);
			if (fd < 0)
				return cm_error_setx(b->err, fd, "--mount=type=bind,source=%s: not in the context",
						     src ? src : ".");
			char *w = *rel ? rel : ".";
			struct bld_copy c = { .src_root = b->o->context, .image_root = -1, .srcs = &w, .n_srcs = 1,
					      .keep_owner = true, .clamp = -1 };
			char hash[BLD_HASH_LEN];
			if ((r = bld_copy_hash(&c, hash, b->err)) < 0)
				return cm_error_prefix(b->err, r, "RUN --mount=type=bind,source=%s", src ? src : ".");
			snprintf(line, sizeof(line), "bind %zu %s\n", i, hash);
		}
		r = bld_sb_add(key, line, strlen(line));
	}
	return r < 0 ? cm_error_set(b->err, r, "out of memory") : 0;
}

/* Mount the from= roots; copy the context's source= for an rw bind. */
static int binds_open(struct build *b, const struct bld_instr *in, struct binds *bs)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < bs->n; i++) {
		if (!is_bind(in->flags[i]))
			continue;
		if (bs->id[i][0]) {
			if ((r = root_open(b, bs->id[i], &bs->rt[i])) < 0)
				return r;
			bs->roots[i] = (struct bld_bind_root){ bs->rt[i].fd, bs->rt[i].ct->mountpoint, NULL };
			continue;
		}
		if (!bs->rw[i])
			continue;
		/* a copy: the writes of the RUN must not reach the user's files */
		_cleanup_free_ char *src = bld_mount_opt(in->flags[i] + 8, "source");
		if (!src)
			src = bld_mount_opt(in->flags[i] + 8, "src");
		char rel[PATH_MAX];
		if (bld_path_clean(src ? src : ".", rel, sizeof(rel)) < 0)
			return cm_error_set(b->err, -ENAMETOOLONG, "--mount source too long");
		char *w = *rel ? rel : ".";
		int fd = -1;
		if ((r = tmp_tree(b, &bs->tmp[i], &fd)) < 0)
			return r;
		/* COPY's rule: a dir's content lands at the copy's root, a file by its name */
		struct stat sst;
		const char *base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		bool dir = fstatat(b->o->context, w, &sst, 0) == 0 && S_ISDIR(sst.st_mode);
		if (!(bs->sub[i] = strdup(dir || !*base ? "." : base))) {
			close(fd);
			return cm_error_set(b->err, -ENOMEM, "out of memory");
		}
		bs->roots[i] = (struct bld_bind_root){ fd, bs->tmp[i], bs->sub[i] };
		struct bld_copy c = { .src_root = b->o->context, .image_root = -1, .srcs = &w, .n_srcs = 1,
				      .keep_owner = true, .clamp = -1, .dest = "/" };
		if ((r = bld_copy_write(&c, fd, b->err)) < 0)
			return cm_error_prefix(b->err, r, "RUN --mount=type=bind,rw,source=%s", src ? src : ".");
	}
	return 0;
}

static int run_step_in(struct build *b, struct stage *st, const struct bld_instr *in, struct binds *bs)
{
	/* buildkit's entitlement: insecure only when the build was started
	 * with it allowed; sandbox (the default) is the ordinary container */
	const char *sec = bld_flag(in, "security");
	bool insecure = false;
	if (sec) {
		if (strcmp(sec, "insecure") == 0)
			insecure = true;
		else if (strcmp(sec, "sandbox") != 0)
			return cm_error_set(b->err, -EINVAL, "RUN --security=%s: sandbox or insecure", sec);
		if (insecure && !b->o->allow_insecure)
			return cm_error_set(b->err, -EPERM,
					    "RUN --security=insecure: not allowed without img build --allow security.insecure");
	}
	int net = b->o->network;
	const char *nf = bld_flag(in, "network");
	if (nf) {
		if (strcmp(nf, "default") == 0)
			net = b->o->network;
		else if (strcmp(nf, "none") == 0)
			net = RUN_NET_NONE;
		else if (strcmp(nf, "host") == 0)
			net = RUN_NET_HOST;
		else
			return cm_error_set(b->err, -EINVAL, "RUN --network=%s: none, host or default", nf);
	}
	/* RUN <<EOF alone: the heredoc is the script; else the shell reads the
	 * heredocs itself from the command text */
	_cleanup_free_ char *text = NULL;
	const char *a = in->args;
	if (in->n_heredocs == 1 && a[0] == '<' && a[1] == '<' && !strpbrk(a, " \t")) {
		text = strdup(in->heredocs[0].body);
	} else {
		struct bld_sb t = { 0 };
		int r = bld_sb_add(&t, a, strlen(a));
		for (size_t i = 0; r == 0 && i < in->n_heredocs; i++)
			if ((r = bld_sb_addc(&t, '\n')) < 0 ||
			    (r = bld_sb_add(&t, in->heredocs[i].body, strlen(in->heredocs[i].body))) < 0 ||
			    (r = bld_sb_add(&t, in->heredocs[i].name, strlen(in->heredocs[i].name))) < 0)
				break;
		text = r == 0 ? bld_sb_take(&t) : NULL;
		free(t.s);
	}
	char **argv = NULL, **env = NULL;
	size_t na = 0, ne = 0;
	int r = text ? command_of(st, in, text, &argv, &na) : -ENOMEM;
	if (r == 0)
		r = run_args(b, st, &env, &ne);
	for (size_t i = 0; r == 0 && i < b->cli.n; i++)
		if (is_proxy(b->cli.k[i], strlen(b->cli.k[i])) && b->cli.v[i]) {
			char *e = NULL;
			b->cli_used[i] = true;
			r = asprintf(&e, "%s=%s", b->cli.k[i], b->cli.v[i]) < 0 ? -ENOMEM
										 : bld_strv_push(&env, &ne, e);
		}
	struct bld_sb bsb = { 0 };
	if (r == 0 && (r = binds_key(b, st, in, bs, &bsb)) < 0) {
		free(bsb.s);
		bld_strv_free(argv);
		bld_strv_free(env);
		return r;
	}
	_cleanup_free_ char *bkey = r == 0 && bsb.s ? bld_sb_take(&bsb) : NULL;
	free(bsb.s);
	_cleanup_free_ char *cmdline = r == 0 ? join_words(argv, na, " ") : NULL;
	_cleanup_free_ char *by = NULL, *key = NULL;
	if (r == 0 && cmdline) {
		/* docker's history form: "|N K=V ... /bin/sh -c cmd" when args are used */
		_cleanup_free_ char *args = NULL;
		size_t nonproxy = 0;
		for (size_t i = 0; i < ne; i++)
			nonproxy += !is_proxy(env[i], strcspn(env[i], "="));
		if (nonproxy) {
			char **v = calloc(nonproxy + 1, sizeof(*v));
			size_t k = 0;
			for (size_t i = 0; v && i < ne; i++)
				if (!is_proxy(env[i], strcspn(env[i], "=")))
					v[k++] = env[i];
			args = v ? join_words(v, k, " ") : NULL;
			free(v);
			if (args && asprintf(&by, "|%zu %s %s", nonproxy, args, cmdline) < 0)
				by = NULL;
		} else {
			by = strdup(cmdline);
		}
		_cleanup_free_ char *what = NULL;
		_cleanup_free_ char *mounts = NULL;
		for (size_t i = 0; i < in->n_flags; i++)
			if (strncmp(in->flags[i], "--mount=", 8) == 0) {
				char *nm = NULL;
				if (asprintf(&nm, "%s%s\n", mounts ? mounts : "", in->flags[i]) < 0)
					break;
				free(mounts);
				mounts = nm;
			}
		/* what the RUN could reach and do is in the key, as buildkit's
		 * ExecOp digest has them: the network mode in effect (the build's
		 * --network or the step's, "default" being the build's) and
		 * --security=insecure (a sandboxed RUN may fail where it works) */
		static const char *const netname[] = { [RUN_NET_NONE] = "none", [RUN_NET_HOST] = "host",
							[RUN_NET_BRIDGE] = "bridge",
							[RUN_NET_CONTAINER] = "container" };
		const char *nn = net >= 0 && (size_t)net < CM_ARRAY_SIZE(netname) ? netname[net] : "?";
		if (by && asprintf(&what, "RUN --network=%s%s\n%s%s%s", nn,
				   insecure ? " --security=insecure" : "",
				   mounts ? mounts : "", bkey ? bkey : "", by) >= 0)
			key = step_key(b, st, what, NULL);
	}
	if (r == 0 && !key)
		r = -ENOMEM;
	if (r < 0) {
		bld_strv_free(argv);
		bld_strv_free(env);
		return cm_error_set(b->err, r, "out of memory");
	}
	r = cache_hit(b, st, key);
	if (r != 0) {
		bld_strv_free(argv);
		bld_strv_free(env);
		return r < 0 ? r : 0;
	}
	if (!st->id[0]) {
		bld_strv_free(argv);
		bld_strv_free(env);
		return cm_error_set(b->err, -EINVAL, "RUN on an empty (scratch) image: nothing to run it with");
	}
	struct bld_mounts mnt = { 0 };
	if ((r = binds_open(b, in, bs)) < 0 ||
	    (r = bld_mounts_setup(b->s, in, b->o->secrets, b->o->ssh, st->cfg.workdir, b->o->context,
				  b->o->context_path, bs->roots, &mnt, b->err)) < 0) {
		bld_strv_free(argv);
		bld_strv_free(env);
		return r;
	}
	for (size_t i = 0; r == 0 && i < mnt.n_env; i++)
		r = bld_strv_push(&env, &ne, strdup(mnt.env[i]));
	if (r < 0) {
		bld_strv_free(argv);
		bld_strv_free(env);
		bld_mounts_free(&mnt);
		return cm_error_set(b->err, r, "out of memory");
	}
	struct bld_run_req req = { .image = st->id, .argv = argv, .env = env, .network = net,
				   .vols = mnt.vols, .tmpfs = mnt.tmpfs, .privileged = insecure };
	struct ims_container *ct = NULL;
	int code = 0;
	r = b->o->ops->run(b->o->ops->ctx, b->s, &req, &ct, &code, b->err);
	bld_strv_free(argv);
	bld_strv_free(env);
	if (r < 0 || code != 0)
		bld_mounts_free(&mnt);
	if (r < 0) {
		if (ct)
			b->o->ops->discard(b->o->ops->ctx, b->s, ct);
		return r;
	}
	if (code != 0) {
		b->o->ops->discard(b->o->ops->ctx, b->s, ct);
		b->code = code;
		return cm_error_set(b->err, -ECANCELED,
				    "building at STEP \"RUN %s\": while running runtime: exit status %d",
				    cmdline ? in->args : "", code);
	}
	_cleanup_close_ int rw = -1;
	r = ims_container_rw_fd(b->s, ct, &rw, b->err);
	if (r == 0 && mnt.n_targets) {
		char **layers = NULL;
		size_t nl = 0;
		if ((r = ims_image_layers(b->s, st->img, &layers, &nl, b->err)) == 0)
			bld_mounts_unstub(&mnt, rw, layers, nl);
		bld_strv_freen(layers, nl);
	}
	bld_mounts_free(&mnt);
	if (r == 0)
		r = publish(b, st, key, by, rw);
	cm_close(&rw);
	b->o->ops->discard(b->o->ops->ctx, b->s, ct);
	return r;
}

/* RUN: its bind sources released whatever the outcome. */
static int run_step(struct build *b, struct stage *st, const struct bld_instr *in)
{
	struct binds bs = { 0 };
	int r = run_step_in(b, st, in, &bs);
	binds_close(b, &bs);
	return r;
}


static int root_open(struct build *b, const char *id, struct root *ret)
{
	struct ims_create_opts co = { .image = id, .ephemeral = true };
	struct ims_container *ct = NULL;
	int r = ims_container_create(b->s, &co, &ct, b->err);
	if (r < 0)
		return r;
	if ((r = ims_container_mount(b->s, ct, b->err)) < 0) {
		struct cm_error e2 = { 0 };
		(void)ims_container_remove(b->s, ct->id, true, &e2);
		ims_container_free(ct);
		return r;
	}
	int fd = open(ct->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = cm_error_setx(b->err, cm_neg_errno(), "opening %s", ct->mountpoint);
		struct cm_error e2 = { 0 };
		(void)ims_container_remove(b->s, ct->id, true, &e2);
		ims_container_free(ct);
		return r;
	}
	*ret = (struct root){ ct, fd };
	return 0;
}

static void root_close(struct build *b, struct root *rt)
{
	if (!rt->ct)
		return;
	cm_close(&rt->fd);
	struct cm_error e2 = { 0 };
	(void)ims_container_remove(b->s, rt->ct->id, true, &e2);
	ims_container_free(rt->ct);
	rt->ct = NULL;
}

/* A small file of the image (etc/passwd) read in-root, or NULL. */
static char *read_small(int root, const char *path)
{
	_cleanup_close_ int fd = cm_openat_beneath(root, path, O_RDONLY | O_NONBLOCK, 0, false);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
		return NULL;
	char *buf = calloc(1, (size_t)st.st_size + 1);
	if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --chown=USER[:GROUP]: numbers, or names in the image's passwd/group. */
static int parse_chown(struct build *b, int root, const char *spec, uid_t *u, gid_t *g)
{
	char *end;
	const char *colon = strchr(spec, ':');
	unsigned long nu = strtoul(spec, &end, 10);
	bool num_u = end != spec && (end == colon || !*end);
	bool num_g = false;
	unsigned long ng = 0;
	if (colon) {
		ng = strtoul(colon + 1, &end, 10);
		num_g = end != colon + 1 && !*end;
	}
	if (num_u && (!colon || num_g)) {
		*u = (uid_t)nu;
		*g = colon ? (gid_t)ng : (gid_t)nu;
		return 0;
	}
	_cleanup_free_ char *passwd = root >= 0 ? read_small(root, "etc/passwd") : NULL;
	_cleanup_free_ char *group = root >= 0 ? read_small(root, "etc/group") : NULL;
	struct run_user ru;
	struct cm_error e2 = { 0 };
	if (run_user_resolve(spec, passwd ? passwd : "", group ? group : "", &ru, &e2) < 0)
		return cm_error_set(b->err, -EINVAL, "--chown=%s: %s", spec, e2.msg);
	*u = ru.uid;
	*g = ru.gid;
	return 0;
}

static struct stage *stage_named(struct build *b, const char *name, size_t before)
{
	char *end;
	unsigned long idx = strtoul(name, &end, 10);
	if (*name && !*end && idx < before)
		return &b->st[idx];
	for (size_t i = 0; i < before; i++)
		if (b->st[i].name && strcasecmp(b->st[i].name, name) == 0)
			return &b->st[i];
	return NULL;
}

static int tmp_tree(struct build *b, char **ret_path, int *ret_fd)
{
	char *p = NULL;
	if (asprintf(&p, "%s/tmp/build.XXXXXX", ims_store_root(b->s)) < 0)
		return cm_error_set(b->err, -ENOMEM, "out of memory");
	if (!mkdtemp(p)) {
		int r = cm_error_setx(b->err, cm_neg_errno(), "creating %s", p);
		free(p);
		return r;
	}
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int r = cm_error_setx(b->err, cm_neg_errno(), "opening %s", p);
		rmdir(p);
		free(p);
		return r;
	}
	(void)fchmod(fd, 0755);
	*ret_path = p;
	*ret_fd = fd;
	return 0;
}

void bld_tmpdir_remove(char *path)
{
	if (!path)
		return;
	char *sl = strrchr(path, '/');
	if (sl) {
		*sl = '\0';
		_cleanup_close_ int dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0)
			(void)cm_rm_rf_at(dfd, sl + 1);
	}
	free(path);
}

/* "<<EOF", "<<-EOF", "<<\"EOF\"" -> the heredoc of that name, or NULL. */
static const struct bld_heredoc *heredoc_word(const struct bld_instr *in, const char *w)
{
	if (w[0] != '<' || w[1] != '<')
		return NULL;
	w += 2;
	if (*w == '-')
		w++;
	size_t l = strlen(w);
	if (l >= 2 && (w[0] == '"' || w[0] == '\'') && w[l - 1] == w[0]) {
		w++;
		l -= 2;
	}
	for (size_t i = 0; i < in->n_heredocs; i++)
		if (strlen(in->heredocs[i].name) == l && strncmp(in->heredocs[i].name, w, l) == 0)
			return &in->heredocs[i];
	return NULL;
}

#define MAX_URL_FILE (INT64_C(8) << 30)

static int sink_fd(void *ctx, const void *buf, size_t len, struct cm_error *err)
{
	int r = cm_write_all(*(int *)ctx, buf, len);
	return r < 0 ? cm_error_setx(err, r, "writing the download") : 0;
}

/* Download urls[0..n) into a new temp dir (*ret_path, *ret_fd), each as the
 * last component of its path; the words become those names. */
static int fetch_urls(struct build *b, char **urls, size_t n, char **ret_path, int *ret_fd)
{
	int r = tmp_tree(b, ret_path, ret_fd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const char *u = urls[i];
		const char *path = strchr(u + strlen("https://") - (u[4] == ':' ? 1 : 0), '/');
		_cleanup_free_ char *name = NULL;
		if (path) {
			size_t pl = strcspn(path, "?#");
			while (pl > 1 && path[pl - 1] == '/')
				pl--;
			const char *e = path + pl, *st = e;
			while (st > path && st[-1] != '/')
				st--;
			name = strndup(st, (size_t)(e - st));
		}
		if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			free(name);
			name = strdup("index.html"); /* docker's name for a URL without a file */
		}
		if (!name)
			return cm_error_set(b->err, -ENOMEM, "out of memory");
		_cleanup_close_ int fd = openat(*ret_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return cm_error_setx(b->err, cm_neg_errno(), "ADD %s: a temp file", u);
		say(b, "--> Downloading %s", u);
		if ((r = reg_fetch_url(u, MAX_URL_FILE, sink_fd, &fd, b->err)) < 0)
			return cm_error_prefix(b->err, r, "ADD");
		(void)fchmod(fd, 0600);
		free(urls[i]);
		urls[i] = TAKE_PTR(name);
	}
	return 0;
}

/* A git source of ADD (BuildKit's forms): git@host:path, git:// and
 * ssh:// URLs, and a URL whose path (before a #ref) ends in .git. */
static bool git_source(const char *w)
{
	if (strncmp(w, "git@", 4) == 0 || strncmp(w, "git://", 6) == 0 || strncmp(w, "ssh://", 6) == 0)
		return true;
	if (!strstr(w, "://"))
		return false;
	size_t l = strcspn(w, "#?");
	while (l > 0 && w[l - 1] == '/')
		l--;
	return l >= 4 && strncmp(w + l - 4, ".git", 4) == 0;
}

/* ADD --checksum=sha256:HEX: the downloaded file (name in dir fd) has it. */
static int check_sum(struct build *b, int dir, const char *name, const char *want)
{
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(b->err, cm_neg_errno(), "ADD --checksum: reading %s", name);
	struct cm_sha256 h;
	if (cm_sha256_init(&h) < 0)
		return cm_error_set(b->err, -ENOMEM, "out of memory");
	char buf[1 << 16], got[CM_DIGEST_STR_LEN];
	ssize_t k;
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		cm_sha256_update(&h, buf, (size_t)k);
	if (k < 0) {
		cm_sha256_done(&h);
		return cm_error_setx(b->err, cm_neg_errno(), "ADD --checksum: reading %s", name);
	}
	cm_sha256_final(&h, got);
	if (strcmp(got, want) != 0)
		return cm_error_set(b->err, -EINVAL, "ADD --checksum: %s has %s, not %s", name, got, want);
	return 0;
}

/* A lone COPY source is a dir (history's "dir:" or "file:"). */
static bool src_is_dir(const struct bld_copy *c)
{
	if (c->n_srcs != 1 || c->src_root < 0)
		return false;
	char p[PATH_MAX];
	if (bld_path_clean(c->srcs[0], p, sizeof(p)) < 0)
		return false;
	_cleanup_close_ int fd = cm_openat_beneath(c->src_root, *p ? p : ".", O_PATH | O_DIRECTORY, 0, false);
	return fd >= 0;
}

static int copy_step(struct build *b, struct stage *st, size_t sti, const struct bld_instr *in)
{
	bool add = in->kind == BLD_ADD;
	const char *kw = add ? "ADD" : "COPY";
	if (bld_flag(in, "keep-git-dir"))
		return cm_error_set(b->err, -ENOTSUP,
				    "ADD --keep-git-dir: git sources are not supported (clone the repository into the context)");
	struct scope sc = { b, st };
	/* --exclude=PATTERN (any number), --parents[=BOOL] */
	struct bld_ignore excl = { 0 };
	struct bld_sb xs = { 0 };
	for (size_t i = 0; i < in->n_flags; i++)
		if (strncmp(in->flags[i], "--exclude=", 10) == 0) {
			_cleanup_free_ char *pat = NULL;
			int r2 = bld_expand_word(in->flags[i] + 10, b->f.escape, lookup, &sc, &pat, b->err);
			if (r2 < 0) {
				free(xs.s);
				return r2;
			}
			if (!*pat || pat[0] == '!') {
				free(xs.s);
				return cm_error_set(b->err, -EINVAL, "%s --exclude=%s: a pattern is needed (no '!' exceptions)",
						    kw, pat);
			}
			if (bld_sb_add(&xs, pat, strlen(pat)) < 0 || bld_sb_addc(&xs, '\n') < 0) {
				free(xs.s);
				return cm_error_set(b->err, -ENOMEM, "out of memory");
			}
		}
	_cleanup_free_ char *xtext = xs.s ? bld_sb_take(&xs) : NULL;
	free(xs.s);
	if (xtext && bld_ignore_parse(xtext, strlen(xtext), &excl) < 0)
		return cm_error_set(b->err, -ENOMEM, "out of memory");
	const char *pf = bld_flag(in, "parents");
	bool parents = pf && strcmp(pf, "false") != 0;
	if (pf && *pf && strcmp(pf, "true") != 0 && strcmp(pf, "false") != 0) {
		bld_ignore_free(&excl);
		return cm_error_set(b->err, -EINVAL, "%s --parents=%s: true or false", kw, pf);
	}
	const char *checksum = bld_flag(in, "checksum");
	char **words = NULL;
	size_t nw = 0;
	_cleanup_free_ char *from = NULL, *chown_s = NULL;
	int r = 0;
	if (bld_flag(in, "from"))
		r = bld_expand_word(bld_flag(in, "from"), b->f.escape, lookup, &sc, &from, b->err);
	if (r == 0 && bld_flag(in, "chown"))
		r = bld_expand_word(bld_flag(in, "chown"), b->f.escape, lookup, &sc, &chown_s, b->err);
	if (r == 0)
		r = words_of(b, st, in, &words, &nw);
	if (r < 0)
		return r;
	/* heredoc words become generated files; the rest are sources and the dest */
	struct bld_doc *docs = calloc(nw + 1, sizeof(*docs));
	char **expanded_docs = calloc(nw + 1, sizeof(char *));
	size_t nd = 0;
	struct bld_copy c = { .src_root = b->o->context, .ignore = b->have_ig ? &b->ig : NULL,
			      .extract = add, .image_root = -1, .exclude = excl.n ? &excl : NULL,
			      .parents = parents, .clamp = b->o->epoch };
	struct root src = { NULL, -1 }, img = { NULL, -1 };
	_cleanup_free_ char *dest = NULL, *tree_path = NULL, *key = NULL, *by = NULL;
	_cleanup_free_ char *wtext = NULL, *what = NULL, *url_path = NULL;
	_cleanup_close_ int url_fd = -1;
	_cleanup_close_ int tree = -1;
	char hash[BLD_HASH_LEN] = "";
	if (!docs || !expanded_docs) {
		r = cm_error_set(b->err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i + 1 < nw; i++) {
		const struct bld_heredoc *h = heredoc_word(in, words[i]);
		if (!h)
			continue;
		char *body = NULL;
		if (h->expand)
			r = bld_expand_vars(h->body, b->f.escape, lookup, &sc, &body, b->err);
		else if (!(body = strdup(h->body)))
			r = -ENOMEM;
		if (r < 0)
			goto out;
		expanded_docs[nd] = body;
		docs[nd].name = h->name;
		docs[nd++].body = body;
	}
	c.docs = docs;
	c.n_docs = nd;
	c.srcs = words;
	c.n_srcs = nw - 1;
	size_t n_urls = 0;
	for (size_t i = 0; i < c.n_srcs; i++) {
		bool url = strncmp(words[i], "http://", 7) == 0 || strncmp(words[i], "https://", 8) == 0;
		if (add && git_source(words[i])) {
			r = cm_error_set(b->err, -ENOTSUP,
					 "ADD %s: git sources are not supported (img build fetches only over HTTP(S); clone the repository into the context and COPY it)",
					 words[i]);
			goto out;
		}
		if (add && strncmp(words[i], "file://", 7) == 0) {
			r = cm_error_set(b->err, -ENOTSUP, "ADD %s: file:// URLs are not supported (a path of the context is)",
					 words[i]);
			goto out;
		}
		n_urls += add && url;
	}
	if (checksum && (n_urls != 1 || c.n_srcs != 1)) {
		r = cm_error_set(b->err, -EINVAL, "ADD --checksum: one HTTP(S) URL source is needed");
		goto out;
	}
	if (checksum && (strncmp(checksum, "sha256:", 7) != 0 || strlen(checksum) != 71 ||
			 strspn(checksum + 7, "0123456789abcdef") != 64)) {
		r = cm_error_set(b->err, -EINVAL, "ADD --checksum=%s: sha256:<64 hex digits> is needed", checksum);
		goto out;
	}
	if (c.parents && (n_urls || from)) {
		r = cm_error_set(b->err, -ENOTSUP, "%s --parents: only with sources of the context", kw);
		goto out;
	}
	if (n_urls && n_urls != c.n_srcs) {
		r = cm_error_set(b->err, -ENOTSUP, "ADD: URLs and local sources in one ADD are not supported");
		goto out;
	}
	if (n_urls) {
		/* ADD URL...: each downloaded (libregistry's HTTP client) into a
		 * temp dir, the sources of this ADD; files 0600, not unpacked
		 * (docker's rules); the key is their content */
		if ((r = fetch_urls(b, words, c.n_srcs, &url_path, &url_fd)) < 0)
			goto out;
		if (checksum && (r = check_sum(b, url_fd, words[0], checksum)) < 0)
			goto out;
		c.src_root = url_fd;
		c.extract = false;
		c.ignore = NULL;
	}
	const char *d = words[nw - 1];
	const char *wd = st->cfg.workdir ? st->cfg.workdir : "/";
	if (d[0] == '/')
		dest = strdup(d);
	else if (asprintf(&dest, "%s%s%s", wd, wd[strlen(wd) - 1] == '/' ? "" : "/", d) < 0)
		dest = NULL;
	/* "." and "./" name the workdir itself, as a dir */
	size_t dl = dest ? strlen(dest) : 0;
	if (dest && dl >= 2 && strcmp(dest + dl - 2, "/.") == 0)
		dest[dl - 1] = '\0';
	if (!dest) {
		r = cm_error_set(b->err, -ENOMEM, "out of memory");
		goto out;
	}
	c.dest = dest;
	if (bld_flag(in, "chmod")) {
		char *end;
		const char *m = bld_flag(in, "chmod");
		unsigned long mode = strtoul(m, &end, 8);
		if (!*m || *end || mode > 07777) {
			r = cm_error_set(b->err, -EINVAL, "--chmod=%s: an octal mode is needed", m);
			goto out;
		}
		c.chmod = true;
		c.mode = (mode_t)mode;
	}
	/* the key: the sources' content, or (--from) the image they come from */
	char srcid[CM_DIGEST_STR_LEN + 8] = "";
	if (from) {
		struct stage *fs = stage_named(b, from, sti);
		if (fs) {
			if (!fs->id[0]) {
				r = cm_error_set(b->err, -EINVAL, "%s --from=%s: that stage is empty", kw, from);
				goto out;
			}
			snprintf(srcid, sizeof(srcid), "%s", fs->id);
		} else {
			struct ims_image *fi = NULL;
			if (b->o->ops->pull && b->o->ops->pull(b->o->ops->ctx, b->s, from) != 0) {
				r = cm_error_set(b->err, -ENOENT, "%s --from=%s: the image could not be pulled", kw, from);
				goto out;
			}
			if ((r = ims_image_resolve(b->s, from, &fi, b->err)) < 0) {
				cm_error_prefix(b->err, r, "%s --from=%s", kw, from);
				goto out;
			}
			snprintf(srcid, sizeof(srcid), "%s", fi->id);
			ims_image_free(fi);
		}
		c.keep_owner = true;
		c.ignore = NULL;
	} else if ((r = bld_copy_hash(&c, hash, b->err)) < 0) {
		cm_error_prefix(b->err, r, "%s", kw);
		goto out;
	}
	wtext = join_words(words, nw, " ");
	if (!wtext || asprintf(&what, "%s --chown=%s --chmod=%s%s%s%s %s", kw, chown_s ? chown_s : "",
			       bld_flag(in, "chmod") ? bld_flag(in, "chmod") : "",
			       parents ? " --parents" : "", xtext ? " --exclude=" : "", xtext ? xtext : "",
			       wtext) < 0 ||
	    !(key = step_key(b, st, what, from ? srcid : hash))) {
		r = cm_error_set(b->err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = cache_hit(b, st, key)) != 0) {
		r = r < 0 ? r : 0;
		goto out;
	}
	if (from) {
		if ((r = root_open(b, srcid, &src)) < 0)
			goto out;
		c.src_root = src.fd;
	}
	if (st->id[0] && (r = root_open(b, st->id, &img)) < 0)
		goto out;
	c.image_root = img.fd;
	if (chown_s) {
		if ((r = parse_chown(b, img.fd, chown_s, &c.uid, &c.gid)) < 0)
			goto out;
		c.chown = true;
	}
	/* buildah's history form (a --from source is looked at in its image) */
	if (asprintf(&by, "/bin/sh -c #(nop) %s %s:%s in %s ", kw,
		     nw > 2 || strpbrk(words[0], "*?[") ? "multi" : src_is_dir(&c) ? "dir" : "file",
		     from ? srcid + 7 : hash + 5, words[nw - 1]) < 0) {
		r = cm_error_set(b->err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = tmp_tree(b, &tree_path, &tree)) < 0)
		goto out;
	if ((r = bld_copy_write(&c, tree, b->err)) < 0) {
		cm_error_prefix(b->err, r, "%s", kw);
		goto out;
	}
	root_close(b, &img);
	root_close(b, &src);
	r = publish_tree(b, st, key, by, tree, tree_path);
out:
	root_close(b, &img);
	root_close(b, &src);
	cm_close(&tree);
	bld_tmpdir_remove(TAKE_PTR(tree_path));
	cm_close(&url_fd);
	bld_tmpdir_remove(TAKE_PTR(url_path));
	bld_strv_free(words);
	for (size_t i = 0; expanded_docs && i < nd; i++)
		free(expanded_docs[i]);
	free(expanded_docs);
	free(docs);
	bld_ignore_free(&excl);
	return r;
}

/* Go's time.ParseDuration for HEALTHCHECK flags: "30s", "1m30s", "500ms". */
static int parse_duration(const char *s, int64_t *ret)
{
	double total = 0;
	const char *p = s;
	if (!*p)
		return -EINVAL;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p)
			return -EINVAL;
		p = end;
		double unit;
		if (strncmp(p, "ns", 2) == 0) { unit = 1; p += 2; }
		else if (strncmp(p, "us", 2) == 0) { unit = 1e3; p += 2; }
		else if (strncmp(p, "ms", 2) == 0) { unit = 1e6; p += 2; }
		else if (*p == 's') { unit = 1e9; p++; }
		else if (*p == 'm') { unit = 60e9; p++; }
		else if (*p == 'h') { unit = 3600e9; p++; }
		else if (v == 0 && !*p) { unit = 0; }
		else return -EINVAL;
		total += v * unit;
	}
	*ret = (int64_t)total;
	return 0;
}

static int healthcheck(struct build *b, struct stage *st, const struct bld_instr *in)
{
	const char *a = in->args;
	while (*a == ' ' || *a == '\t')
		a++;
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_key(&w, "Test");
	cm_jw_arr(&w);
	if (strncasecmp(a, "NONE", 4) == 0) {
		cm_jw_str(&w, "NONE");
	} else {
		const char *cmd = a + 3;
		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		if (in->json) {
			cm_jw_str(&w, "CMD");
			for (size_t i = 0; i < in->n_argv; i++)
				cm_jw_str(&w, in->argv[i]);
		} else {
			cm_jw_str(&w, "CMD-SHELL");
			cm_jw_str(&w, cmd);
		}
	}
	cm_jw_arr_end(&w);
	static const char *const flags[][2] = { { "interval", "Interval" }, { "timeout", "Timeout" },
						{ "start-period", "StartPeriod" },
						{ "start-interval", "StartInterval" } };
	for (size_t i = 0; i < CM_ARRAY_SIZE(flags); i++) {
		const char *v = bld_flag(in, flags[i][0]);
		int64_t ns;
		if (!v)
			continue;
		if (parse_duration(v, &ns) < 0 || ns < 0) {
			cm_jw_free(&w);
			return cm_error_set(b->err, -EINVAL, "HEALTHCHECK --%s=%s: not a duration",
					    flags[i][0], v);
		}
		cm_jw_kint(&w, flags[i][1], ns);
	}
	const char *rv = bld_flag(in, "retries");
	if (rv) {
		char *end;
		long n = strtol(rv, &end, 10);
		if (!*rv || *end || n < 0) {
			cm_jw_free(&w);
			return cm_error_set(b->err, -EINVAL, "HEALTHCHECK --retries=%s: not a count", rv);
		}
		cm_jw_kint(&w, "Retries", n);
	}
	cm_jw_obj_end(&w);
	free(st->cfg.healthcheck);
	st->cfg.healthcheck = NULL;
	if (cm_jw_finish(&w, &st->cfg.healthcheck, NULL) < 0)
		return cm_error_set(b->err, -ENOMEM, "out of memory");
	return 0;
}

static int set_set(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	return bld_strv_push(v, n, strdup(s));
}

static int arg_step(struct build *b, struct stage *st, const struct bld_instr *in)
{
	struct scope sc = { b, st };
	char **k, **v;
	size_t n;
	int r = bld_parse_pairs(in->args, b->f.escape, false, true, lookup, &sc, &k, &v, &n, b->err);
	if (r < 0)
		return r;
	struct bld_kv *into = st ? &st->args : &b->meta;
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool given;
		const char *cv = cli_arg(b, k[i], strlen(k[i]), &given);
		const char *val = given ? cv : v[i];
		if (!given && !v[i] && st) {
			/* ARG NAME in a stage: the global ARG's value */
			ssize_t m = bld_kv_find(&b->meta, k[i], strlen(k[i]));
			val = m >= 0 ? b->meta.v[m] : NULL;
		}
		r = bld_kv_set(into, k[i], val);
	}
	/* in a stage: a history entry "ARG NAME..." of those with a value
	 * (buildah's), the values left out: the RUNs that see them are keyed
	 * by them */
	size_t nn = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		ssize_t at = bld_kv_find(into, k[i], strlen(k[i]));
		if (at >= 0 && into->v[at])
			k[nn++] = k[i];
		else
			free(k[i]);
	}
	if (k)
		k[nn] = NULL;
	_cleanup_free_ char *names = r == 0 ? join_words(k, nn, " ") : NULL;
	_cleanup_free_ char *desc = NULL;
	bld_strv_free(k);
	bld_strv_freen(v, n);
	if (r < 0 || !names || asprintf(&desc, "ARG%s%s", nn ? " " : "", names) < 0)
		return cm_error_set(b->err, -ENOMEM, "out of memory");
	return st ? config_step(b, st, desc, NULL) : 0;
}

static int dispatch(struct build *b, size_t sti, const struct bld_instr *in);

/* "KEYWORD rest as written" (the keyword upper case). */
static char *raw_text(const struct bld_instr *in)
{
	const char *rest = in->text + strcspn(in->text, " \t");
	rest += strspn(rest, " \t");
	char *r = NULL;
	if (asprintf(&r, "%s %s", bld_kind_name(in->kind), rest) < 0)
		return NULL;
	return r;
}

static int from_step(struct build *b, size_t sti, const struct bld_instr *in)
{
	struct stage *st = &b->st[sti];
	struct scope sc = { b, NULL };
	char **w;
	size_t n;
	int r = bld_expand(in->args, b->f.escape, true, lookup, &sc, &w, &n, b->err);
	if (r < 0)
		return r;
	if (n < 1 || !*w[0]) {
		bld_strv_free(w);
		return cm_error_set(b->err, -EINVAL, "FROM: the base image name is empty");
	}
	struct stage *prev = stage_named(b, w[0], sti);
	if (prev && (prev->name || strcmp(w[0], "scratch") != 0)) {
		if (prev->id[0])
			r = stage_set_image(b, st, prev->id);
	} else if (strcmp(w[0], "scratch") == 0) {
		st->id[0] = '\0';
	} else {
		if (b->o->ops->pull && b->o->ops->pull(b->o->ops->ctx, b->s, w[0]) != 0)
			r = cm_error_set(b->err, -ENOENT, "FROM %s: the image could not be pulled", w[0]);
		else
			r = ims_image_resolve(b->s, w[0], &st->img, b->err);
		if (r == -ENOENT && !strstr(b->err->msg, "could not be pulled"))
			r = cm_error_set(b->err, r, "FROM %s: no such image in the store (--pull=never, or img pull or img load it first)",
					 w[0]);
		else if (r == 0) {
			char id[CM_DIGEST_STR_LEN];
			memcpy(id, st->img->id, sizeof(id));
			ims_image_free(st->img);
			st->img = NULL;
			r = stage_set_image(b, st, id);
		}
	}
	bld_strv_free(w);
	if (r < 0)
		return r;
	if (st->cfg.n_onbuild) {
		/* the base's ONBUILD triggers run now, then leave the config */
		char **trig = st->cfg.onbuild;
		size_t nt = st->cfg.n_onbuild;
		st->cfg.onbuild = NULL;
		st->cfg.n_onbuild = 0;
		for (size_t i = 0; r == 0 && i < nt; i++) {
			struct bld_instr t;
			say(b, "--> Running ONBUILD trigger: %s", trig[i]);
			if ((r = bld_parse_line(trig[i], b->f.escape, &t, b->err)) < 0) {
				cm_error_prefix(b->err, r, "ONBUILD trigger '%s'", trig[i]);
				break;
			}
			r = dispatch(b, sti, &t);
			bld_instr_free(&t);
		}
		bld_strv_free(trig);
	}
	return r;
}

/* WORKDIR: the config, and the dir made (a layer) when the image lacks it,
 * as docker and buildah do. */
/* Whether the image's layer dirs show path (absolute) as a dir without a
 * doubt: the topmost layer holding it has it and every parent as real dirs
 * (no symlink), and no layer above it hides a part of it (a whiteout, an
 * opaque dir) or holds a part as a non-dir. False when unsure: the caller
 * then looks through a mount of the image. */
static bool layers_show_dir(struct build *b, struct stage *st, const char *path)
{
	char rel[PATH_MAX];
	if (!st->img || bld_path_clean(path, rel, sizeof(rel)) < 0 || !*rel)
		return false;
	char **layers = NULL;
	size_t nl = 0;
	struct cm_error e = { 0 };
	if (ims_image_layers(b->s, st->img, &layers, &nl, &e) < 0)
		return false;
	int verdict = 0; /* 1 yes, -1 unsure */
	for (size_t i = 0; verdict == 0 && i < nl; i++) {
		_cleanup_close_ int at = open(layers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (at < 0) {
			verdict = -1;
			break;
		}
		/* walk the components in this layer */
		char *p = rel;
		for (;;) {
			char *sl = strchr(p, '/');
			size_t cl = sl ? (size_t)(sl - p) : strlen(p);
			char comp[NAME_MAX + 1], wh[NAME_MAX + 5];
			if (cl > NAME_MAX - 4) {
				verdict = -1;
				break;
			}
			memcpy(comp, p, cl);
			comp[cl] = '\0';
			snprintf(wh, sizeof(wh), ".wh.%s", comp);
			struct stat sb;
			if (fstatat(at, wh, &sb, AT_SYMLINK_NOFOLLOW) == 0 ||
			    fstatat(at, ".wh..wh..opq", &sb, AT_SYMLINK_NOFOLLOW) == 0) {
				verdict = -1; /* hidden below here: unsure */
				break;
			}
			if (fstatat(at, comp, &sb, AT_SYMLINK_NOFOLLOW) < 0)
				break; /* not in this layer: the next one down */
			if (!S_ISDIR(sb.st_mode)) {
				verdict = -1;
				break;
			}
			if (!sl) {
				verdict = 1;
				break;
			}
			int sub = openat(at, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				verdict = -1;
				break;
			}
			close(at);
			at = sub;
			p = sl + 1;
		}
	}
	bld_strv_freen(layers, nl);
	return verdict == 1;
}

static int workdir_step(struct build *b, struct stage *st, const struct bld_instr *in,
			const char *desc)
{
	_cleanup_free_ char *key = step_key(b, st, desc, NULL);
	_cleanup_free_ char *raw = raw_text(in), *by = NULL, *tree_path = NULL;
	if (!key || !raw || asprintf(&by, "/bin/sh -c #(nop) %s", raw) < 0)
		return cm_error_set(b->err, -ENOMEM, "out of memory");
	int r = cache_hit(b, st, key);
	if (r != 0)
		return r < 0 ? r : 0;
	struct root img = { NULL, -1 };
	_cleanup_close_ int tree = -1;
	/* the image's layers show the dir: no mount needed to know */
	if (strcmp(st->cfg.workdir, "/") == 0 || layers_show_dir(b, st, st->cfg.workdir))
		return publish(b, st, key, by, -1);
	if (st->id[0] && (r = root_open(b, st->id, &img)) < 0)
		return r;
	_cleanup_close_ int have = img.fd >= 0 ? cm_openat_beneath(img.fd, st->cfg.workdir + 1,
							     O_PATH | O_DIRECTORY, 0, false)
					       : -1;
	if (have >= 0 || strcmp(st->cfg.workdir, "/") == 0) {
		root_close(b, &img);
		return publish(b, st, key, by, -1);
	}
	struct bld_copy c = { .image_root = img.fd, .clamp = b->o->epoch };
	if ((r = tmp_tree(b, &tree_path, &tree)) == 0) {
		int dfd = bld_make_dirs(&c, tree, st->cfg.workdir, b->err);
		r = dfd < 0 ? dfd : 0;
		if (dfd >= 0)
			close(dfd);
	}
	root_close(b, &img);
	if (r == 0)
		r = publish_tree(b, st, key, by, tree, tree_path);
	cm_close(&tree);
	bld_tmpdir_remove(TAKE_PTR(tree_path));
	return r;
}

static int dispatch(struct build *b, size_t sti, const struct bld_instr *in)
{
	struct stage *st = &b->st[sti];
	struct scope sc = { b, st };
	struct bld_cfg *c = &st->cfg;
	const char *kw = bld_kind_name(in->kind);
	_cleanup_free_ char *desc = NULL, *word = NULL;
	char **w = NULL;
	size_t n = 0;
	int r = 0;
	switch (in->kind) {
	case BLD_FROM:
		return from_step(b, sti, in);
	case BLD_ARG:
		return arg_step(b, st, in);
	case BLD_RUN:
		return run_step(b, st, in);
	case BLD_COPY:
	case BLD_ADD:
		return copy_step(b, st, sti, in);
	case BLD_ENV:
	case BLD_LABEL: {
		char **k, **v;
		if ((r = bld_parse_pairs(in->args, b->f.escape, true, false, lookup, &sc, &k, &v, &n,
					 b->err)) < 0)
			return r;
		struct bld_sb d = { 0 };
		r = bld_sb_add(&d, kw, strlen(kw));
		for (size_t i = 0; r == 0 && i < n; i++) {
			r = bld_kv_set(in->kind == BLD_ENV ? &c->env : &c->labels, k[i], v[i]);
			if (r == 0)
				r = bld_sb_addc(&d, ' ');
			if (r == 0)
				r = bld_sb_add(&d, k[i], strlen(k[i]));
			if (r == 0)
				r = bld_sb_addc(&d, '=');
			if (r == 0)
				r = bld_sb_add(&d, v[i], strlen(v[i]));
		}
		bld_strv_free(k);
		bld_strv_freen(v, n);
		desc = r == 0 ? bld_sb_take(&d) : NULL;
		free(d.s);
		break;
	}
	case BLD_CMD:
	case BLD_ENTRYPOINT: {
		char ***dst = in->kind == BLD_CMD ? &c->cmd : &c->ep;
		size_t *dn = in->kind == BLD_CMD ? &c->n_cmd : &c->n_ep;
		bld_strv_free(*dst);
		*dst = NULL;
		if ((r = command_of(st, in, in->args, dst, dn)) < 0)
			break;
		if (in->kind == BLD_CMD) {
			st->cmd_set = true;
		} else if (!st->cmd_set) { /* an inherited CMD does not survive a new ENTRYPOINT */
			bld_strv_free(c->cmd);
			c->cmd = NULL;
			c->n_cmd = 0;
		}
		struct cm_jw jw;
		cm_jw_init(&jw, 0);
		cm_jw_arr(&jw);
		for (size_t i = 0; i < *dn; i++)
			cm_jw_str(&jw, (*dst)[i]);
		cm_jw_arr_end(&jw);
		_cleanup_free_ char *js = NULL;
		if (cm_jw_finish(&jw, &js, NULL) < 0 || asprintf(&desc, "%s %s", kw, js) < 0)
			r = -ENOMEM;
		break;
	}
	case BLD_WORKDIR: {
		if ((r = bld_expand_word(in->args, b->f.escape, lookup, &sc, &word, b->err)) < 0)
			return r;
		const char *cur = c->workdir ? c->workdir : "/";
		char *nw = NULL;
		if (word[0] == '/')
			nw = strdup(word);
		else if (asprintf(&nw, "%s%s%s", cur, cur[strlen(cur) - 1] == '/' ? "" : "/", word) < 0)
			nw = NULL;
		if (!nw)
			return cm_error_set(b->err, -ENOMEM, "out of memory");
		size_t l = strlen(nw);
		while (l > 1 && nw[l - 1] == '/')
			nw[--l] = '\0';
		free(c->workdir);
		c->workdir = nw;
		if (asprintf(&desc, "WORKDIR %s", nw) < 0)
			return cm_error_set(b->err, -ENOMEM, "out of memory");
		return workdir_step(b, st, in, desc);
	}
	case BLD_USER:
	case BLD_STOPSIGNAL: {
		if ((r = bld_expand_word(in->args, b->f.escape, lookup, &sc, &word, b->err)) < 0)
			return r;
		if (!*word)
			return cm_error_set(b->err, -EINVAL, "%s: the value is empty", kw);
		char **slot = in->kind == BLD_USER ? &c->user : &c->stopsignal;
		free(*slot);
		*slot = strdup(word);
		if (!*slot || asprintf(&desc, "%s %s", kw, word) < 0)
			r = -ENOMEM;
		break;
	}
	case BLD_EXPOSE:
	case BLD_VOLUME:
		if ((r = words_of(b, st, in, &w, &n)) < 0)
			return r;
		for (size_t i = 0; r == 0 && i < n; i++) {
			if (in->kind == BLD_VOLUME) {
				if (!*w[i])
					r = cm_error_set(b->err, -EINVAL, "VOLUME: an empty path");
				else
					r = set_set(&c->vols, &c->n_vols, w[i]);
				continue;
			}
			char *end;
			unsigned long p = strtoul(w[i], &end, 10);
			if (end == w[i] || p > 65535 || (*end && strcmp(end, "/tcp") != 0 &&
							 strcmp(end, "/udp") != 0 && strcmp(end, "/sctp") != 0)) {
				r = cm_error_set(b->err, -EINVAL, "EXPOSE %s: invalid port (PORT[/tcp|udp|sctp])", w[i]);
				continue;
			}
			char port[32];
			snprintf(port, sizeof(port), "%lu%s", p, *end ? end : "/tcp");
			r = set_set(&c->ports, &c->n_ports, port);
		}
		if (r == 0) {
			_cleanup_free_ char *j = join_words(w, n, " ");
			if (!j || asprintf(&desc, "%s %s", kw, j) < 0)
				r = -ENOMEM;
		}
		bld_strv_free(w);
		break;
	case BLD_ONBUILD:
		if ((r = bld_strv_push(&c->onbuild, &c->n_onbuild, strdup(in->args))) == 0 &&
		    asprintf(&desc, "ONBUILD %s", in->args) < 0)
			r = -ENOMEM;
		break;
	case BLD_SHELL:
		bld_strv_free(c->shell);
		c->shell = NULL;
		c->n_shell = 0;
		for (size_t i = 0; r == 0 && i < in->n_argv; i++)
			r = bld_strv_push(&c->shell, &c->n_shell, strdup(in->argv[i]));
		if (r == 0 && asprintf(&desc, "SHELL %s", in->args) < 0)
			r = -ENOMEM;
		break;
	case BLD_MAINTAINER:
		free(st->author);
		if (!(st->author = strdup(in->args)) || asprintf(&desc, "MAINTAINER %s", in->args) < 0)
			r = -ENOMEM;
		break;
	case BLD_HEALTHCHECK:
		if ((r = healthcheck(b, st, in)) < 0)
			return r;
		if (!(desc = strdup(in->text)))
			r = -ENOMEM;
		break;
	}
	if (r < 0)
		return b->err->code ? r : cm_error_set(b->err, r, "out of memory");
	_cleanup_free_ char *raw = raw_text(in);
	if (!raw)
		return cm_error_set(b->err, -ENOMEM, "out of memory");
	return config_step(b, st, desc, raw);
}

/* ------------------------------------------------------------ stages */

/* Mark stage i and what it needs (FROM <stage>, COPY --from=<stage>). */
static void need(struct build *b, size_t i)
{
	if (b->st[i].needed)
		return;
	b->st[i].needed = true;
	for (size_t k = b->st[i].first; k < b->st[i].end; k++) {
		const struct bld_instr *in = &b->f.v[k];
		const char *ref = NULL;
		char word[256] = "";
		if (in->kind == BLD_FROM) {
			snprintf(word, sizeof(word), "%.*s", (int)strcspn(in->args, " \t"), in->args);
			ref = word;
		} else if ((in->kind == BLD_COPY || (in->kind == BLD_ONBUILD && in->sub &&
						     in->sub->kind == BLD_COPY)) &&
			   bld_flag(in, "from")) {
			ref = bld_flag(in, "from");
		}
		struct stage *dep = ref ? stage_named(b, ref, i) : NULL;
		if (dep)
			need(b, (size_t)(dep - b->st));
		for (size_t j = 0; in->kind == BLD_RUN && j < in->n_flags; j++) {
			if (strncmp(in->flags[j], "--mount=", 8) != 0)
				continue;
			_cleanup_free_ char *from = bld_mount_opt(in->flags[j] + 8, "from");
			dep = from ? stage_named(b, from, i) : NULL;
			if (dep)
				need(b, (size_t)(dep - b->st));
		}
	}
}

static int setup(struct build *b)
{
	struct bld_file *f = &b->f;
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].kind != BLD_FROM)
			continue;
		struct stage *nv = realloc(b->st, (b->n_st + 1) * sizeof(*nv));
		if (!nv)
			return cm_error_set(b->err, -ENOMEM, "out of memory");
		b->st = nv;
		struct stage *st = &b->st[b->n_st];
		*st = (struct stage){ .first = i, .end = f->n };
		if (b->n_st)
			b->st[b->n_st - 1].end = i;
		/* FROM x AS name */
		const char *a = f->v[i].args;
		size_t w1 = strcspn(a, " \t");
		const char *as = a + w1;
		while (*as == ' ' || *as == '\t')
			as++;
		if (*as) {
			as += 2;
			while (*as == ' ' || *as == '\t')
				as++;
			if (!(st->name = strdup(as)))
				return cm_error_set(b->err, -ENOMEM, "out of memory");
			for (char *p = st->name; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			for (size_t k = 0; k < b->n_st; k++)
				if (b->st[k].name && strcmp(b->st[k].name, st->name) == 0)
					return cm_error_set(b->err, -EINVAL, "%s:%u: duplicate stage name \"%s\"",
							    f->name, f->v[i].line, st->name);
		}
		b->n_st++;
	}
	size_t target = b->n_st - 1;
	if (b->o->target) {
		struct stage *t = NULL;
		for (size_t k = 0; k < b->n_st; k++)
			if (b->st[k].name && strcasecmp(b->st[k].name, b->o->target) == 0)
				t = &b->st[k];
		if (!t)
			return cm_error_set(b->err, -EINVAL, "target stage \"%s\" could not be found",
					    b->o->target);
		target = (size_t)(t - b->st);
	}
	need(b, target);
	for (size_t k = 0; k <= target; k++)
		if (b->st[k].needed) {
			b->n_needed++;
			b->steps += (unsigned)(b->st[k].end - b->st[k].first);
		}
	return (int)target;
}

int bld_build(struct ims_store *s, const struct bld_opts *o, char ret_id[CM_DIGEST_STR_LEN],
	      int *ret_code, struct cm_error *err)
{
	struct build b = { .s = s, .o = o, .err = err };
	int r = bld_parse(o->file_name, o->text, o->len, &b.f, err);
	if (r < 0)
		return r;
	if (b.f.syntax)
		say(&b, "note: the syntax directive (%s) is ignored: img's own parser reads the file",
		    b.f.syntax);
	/* .containerignore, else .dockerignore */
	static const char *const ignores[] = { ".containerignore", ".dockerignore" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(ignores) && !b.have_ig; i++) {
		char *t = read_small(o->context, ignores[i]);
		if (!t)
			continue;
		r = bld_ignore_parse(t, strlen(t), &b.ig);
		free(t);
		if (r < 0) {
			r = cm_error_set(err, r, "out of memory");
			goto out;
		}
		b.have_ig = true;
	}
	for (size_t i = 0; o->build_args && o->build_args[i]; i++) {
		const char *a = o->build_args[i];
		const char *eq = strchr(a, '=');
		_cleanup_free_ char *k = strndup(a, eq ? (size_t)(eq - a) : strlen(a));
		if (!k || !*k) {
			r = cm_error_set(err, k ? -EINVAL : -ENOMEM, "--build-arg '%s': KEY=VALUE", a);
			goto out;
		}
		const char *v = eq ? eq + 1 : getenv(k);
		if ((r = bld_kv_set(&b.cli, k, v)) < 0) {
			r = cm_error_set(err, r, "out of memory");
			goto out;
		}
	}
	if (!(b.cli_used = calloc(b.cli.n + 1, sizeof(bool)))) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	int target = setup(&b);
	if (target < 0) {
		r = target;
		goto out;
	}
	/* the ARGs before the first FROM */
	for (size_t i = 0; i < b.st[0].first; i++)
		if ((r = arg_step(&b, NULL, &b.f.v[i])) < 0) {
			cm_error_prefix(err, r, "%s:%u", b.f.name, b.f.v[i].line);
			goto out;
		}
	for (size_t k = 0; k <= (size_t)target; k++) {
		struct stage *st = &b.st[k];
		if (!st->needed)
			continue;
		b.stage_no++;
		for (size_t i = st->first; i < st->end; i++) {
			const struct bld_instr *in = &b.f.v[i];
			b.step++;
			unsigned n_here = (unsigned)(st->end - st->first);
			unsigned at = (unsigned)(i - st->first + 1);
			if (b.n_needed > 1)
				say(&b, "[%u/%u] STEP %u/%u: %s", b.stage_no, b.n_needed, at, n_here, in->text);
			else
				say(&b, "STEP %u/%u: %s", at, n_here, in->text);
			if ((r = dispatch(&b, k, in)) < 0) {
				if (r != -ECANCELED)
					cm_error_prefix(err, r, "%s:%u", b.f.name, in->line);
				goto out;
			}
		}
		st->done = true;
	}
	struct stage *t = &b.st[target];
	/* --label: on the final image */
	if (o->labels && o->labels[0]) {
		struct bld_sb d = { 0 };
		r = bld_sb_add(&d, "LABEL", 5);
		for (size_t i = 0; r == 0 && o->labels[i]; i++) {
			const char *l = o->labels[i];
			const char *eq = strchr(l, '=');
			_cleanup_free_ char *k = strndup(l, eq ? (size_t)(eq - l) : strlen(l));
			if (!k || (r = bld_kv_set(&t->cfg.labels, k, eq ? eq + 1 : "")) < 0 ||
			    (r = bld_sb_addc(&d, ' ')) < 0 || (r = bld_sb_add(&d, l, strlen(l))) < 0)
				r = -ENOMEM;
		}
		_cleanup_free_ char *desc = r == 0 ? bld_sb_take(&d) : NULL;
		free(d.s);
		if (!desc) {
			r = cm_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		if ((r = config_step(&b, t, desc, NULL)) < 0)
			goto out;
	}
	if (!t->id[0]) {
		/* FROM scratch and nothing else: an empty image */
		if ((r = config_step(&b, t, "FROM scratch", NULL)) < 0)
			goto out;
	}
	for (size_t i = 0; i < b.cli.n; i++)
		if (!b.cli_used[i] && !is_proxy(b.cli.k[i], strlen(b.cli.k[i])))
			say(&b, "[Warning] one or more build-args [%s] were not consumed", b.cli.k[i]);
	/* each step's publish made its data durable before naming it
	 * (ims_derive_opts.batch); this makes the last names durable */
	if (b.published && (r = ims_store_sync(s, err)) < 0)
		goto out;
	memcpy(ret_id, t->id, CM_DIGEST_STR_LEN);
	r = 0;
out:
	if (ret_code && b.code)
		*ret_code = b.code;
	for (size_t i = 0; i < b.n_st; i++) {
		free(b.st[i].name);
		free(b.st[i].author);
		ims_image_free(b.st[i].img);
		bld_cfg_free(&b.st[i].cfg);
		bld_kv_free(&b.st[i].args);
	}
	free(b.st);
	bld_kv_free(&b.meta);
	bld_kv_free(&b.cli);
	free(b.cli_used);
	bld_ignore_free(&b.ig);
	bld_file_free(&b.f);
	return r;
}
