/* SPDX-License-Identifier: MIT */
/* libbuilder: `img build` (issue 12). A Containerfile/Dockerfile is parsed
 * into a list of instructions (parse.c: pure), its words expanded with the
 * ARG/ENV in scope (expand.c: pure), the context filtered by .dockerignore
 * (ignore.c: pure), then each instruction dispatched over a small build
 * state (build.c, after openshift/imagebuilder's dispatchers): RUN through a
 * container the caller runs (img's runner), COPY/ADD written straight into a
 * new layer, the rest into the image config. Nothing here prints but the
 * build's progress lines, through the caller's out function. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cm-error.h"
#include "cm-hash.h"

/* ---- the parsed file (parse.c) ------------------------------------------ */

enum bld_kind {
	BLD_FROM, BLD_RUN, BLD_CMD, BLD_LABEL, BLD_MAINTAINER, BLD_EXPOSE, BLD_ENV,
	BLD_ADD, BLD_COPY, BLD_ENTRYPOINT, BLD_VOLUME, BLD_USER, BLD_WORKDIR, BLD_ARG,
	BLD_ONBUILD, BLD_STOPSIGNAL, BLD_HEALTHCHECK, BLD_SHELL,
};

/* A here-document of the instruction (`<<EOF`, `<<-EOF`, `<<"EOF"`). */
struct bld_heredoc {
	char *name;   /* the delimiter word */
	char *body;   /* its lines, each ending in '\n' (tabs stripped for <<-) */
	bool expand;  /* the delimiter was unquoted: variables are expanded */
};

struct bld_instr {
	enum bld_kind kind;
	unsigned line;        /* line of the keyword (1-based) */
	char *text;           /* "KEYWORD rest" as written, continuations joined */
	char **flags;         /* leading --name[=value] words, raw */
	size_t n_flags;
	char *args;           /* the rest after the flags, raw (not expanded) */
	bool json;            /* args is a JSON array of strings (exec form) */
	char **argv;          /* with json: its strings (NULL-terminated) */
	size_t n_argv;
	struct bld_heredoc *heredocs;
	size_t n_heredocs;
	struct bld_instr *sub; /* ONBUILD: the instruction it holds */
};

struct bld_file {
	struct bld_instr *v;
	size_t n;
	char escape;          /* '\\' or '`' (the escape directive) */
	char *syntax;         /* the syntax directive's value, or NULL (ignored) */
	char *name;           /* the file's name for messages */
};

/* Parse text (len bytes) named name (for messages). A parse error is -EINVAL
 * with "NAME:LINE: reason" in err. *ret is filled on success only. */
int bld_parse(const char *name, const char *text, size_t len, struct bld_file *ret,
	      struct cm_error *err);
void bld_file_free(struct bld_file *f);
void bld_instr_free(struct bld_instr *in);
const char *bld_kind_name(enum bld_kind k);
/* Parse one instruction line (ONBUILD triggers from an image's config). */
int bld_parse_line(const char *line, char escape, struct bld_instr *ret, struct cm_error *err);
/* The value of flag name of in ("--from=x" -> "x", "--x" alone -> ""), or
 * NULL when absent. */
const char *bld_flag(const struct bld_instr *in, const char *name);

/* ---- words and variables (expand.c) -------------------------------------- */

/* A variable's value, or NULL if it is not set. */
typedef const char *bld_lookup_fn(void *ctx, const char *name, size_t len);

/* Expand one shell-like word list as docker's shell lexer does: 'single'
 * quotes literal, "double" quotes with escapes of " $ and the escape
 * character, the escape character outside quotes, $V ${V} ${V:-d} ${V-d}
 * ${V:+a} ${V+a} ${V:?msg}. split: words split at unquoted blanks (*ret a
 * NULL-terminated vector of *ret_n words); else one word. used(ctx, name)
 * is called for every variable referenced (may be NULL). */
int bld_expand(const char *in, char escape, bool split, bld_lookup_fn *lookup, void *ctx,
	       char ***ret, size_t *ret_n, struct cm_error *err);
/* The single-word form: *ret malloc'd. */
int bld_expand_word(const char *in, char escape, bld_lookup_fn *lookup, void *ctx,
		    char **ret, struct cm_error *err);
/* Heredoc bodies: only $V forms expand (and escape + '$' is a '$'); quotes
 * and other escapes are text. */
int bld_expand_vars(const char *in, char escape, bld_lookup_fn *lookup, void *ctx, char **ret,
		    struct cm_error *err);
void bld_strv_free(char **v);
/* Free n strings of v (some may be NULL), then v. */
void bld_strv_freen(char **v, size_t n);

/* KEY=VALUE pairs of ENV, LABEL, ARG: expanded words split at the first
 * '='; legacy "ENV KEY value words" (one pair, the rest verbatim) when
 * legacy_ok and the first word has no '='. ARG NAME without '=' gives a
 * NULL value. keys[i] / vals[i] malloc'd, NULL-terminated. */
int bld_parse_pairs(const char *args, char escape, bool legacy_ok, bool value_optional,
		    bld_lookup_fn *lookup, void *ctx, char ***ret_keys, char ***ret_vals,
		    size_t *ret_n, struct cm_error *err);

/* ---- .dockerignore (ignore.c) -------------------------------------------- */

struct bld_ignore_pat {
	char *pat;   /* cleaned, no leading '/' */
	bool negate; /* a '!' exception */
};
struct bld_ignore {
	struct bld_ignore_pat *v;
	size_t n;
};

/* Parse a .dockerignore's text: one pattern a line, '#' comments, blank
 * lines skipped, '!' exceptions, paths cleaned (a/./b, a//b, trailing /). */
int bld_ignore_parse(const char *text, size_t len, struct bld_ignore *ret);
void bld_ignore_free(struct bld_ignore *ig);
/* Whether path (relative to the context, cleaned) is excluded: the last
 * pattern that matches it or one of its parent dirs decides. */
bool bld_ignore_match(const struct bld_ignore *ig, const char *path);
/* Whether an excluded dir may hold a re-included path (an exception below
 * it): the walk must then look inside. */
bool bld_ignore_has_exceptions(const struct bld_ignore *ig);
/* Pattern match of docker's filepath.Match plus '**' (any number of
 * components): '*' and '?' stop at '/', [...] classes, escapes. */
bool bld_match(const char *pat, const char *path);

/* ---- the build (build.c) --------------------------------------------------- */

struct ims_store;
struct ims_container;

/* One RUN: a container of image with argv, the image's env plus env. */
struct bld_run_req {
	const char *image;  /* image id */
	char **argv;
	char **env;         /* KEY=VALUE: the build args in scope */
	int network;        /* enum run_netmode */
	char **vols;        /* RUN --mount binds, docker -v's HOST:CTR[:ro] */
	char **tmpfs;       /* RUN --mount=type=tmpfs: --tmpfs CTR[:OPTIONS] */
	bool privileged;    /* RUN --security=insecure: img run --privileged's
			     * container (every capability, no seccomp, rw /sys) */
};

/* What the caller (the tool) provides. run: create and run the container in
 * the foreground, its output on ours; on return (any exit code) *ret_ct is
 * the stopped container (its rw branch becomes the layer), given back to
 * discard once committed or on failure (nothing may be left). print: one
 * progress line (the caller drops them with -q). */
struct bld_ops {
	int (*run)(void *ctx, struct ims_store *s, const struct bld_run_req *r,
		   struct ims_container **ret_ct, int *ret_code, struct cm_error *err);
	void (*discard)(void *ctx, struct ims_store *s, struct ims_container *ct);
	void (*print)(void *ctx, const char *line);
	/* FROM IMAGE / COPY --from=IMAGE: make ref present in the store (the
	 * tool's --pull policy: missing, always, never). 0, or non-zero after
	 * the tool said why. NULL: images must be in the store. */
	int (*pull)(void *ctx, struct ims_store *s, const char *ref);
	void *ctx;
};

struct bld_opts {
	const char *file_name;     /* for messages */
	const char *text;          /* the Containerfile */
	size_t len;
	int context;               /* dir fd of the context */
	const char *context_path;  /* its absolute path (RUN --mount=type=bind), or NULL */
	char *const *build_args;   /* K=V, or K: its value from our environment */
	char *const *labels;       /* --label K=V */
	const char *target;        /* --target STAGE or NULL: the last */
	char *const *secrets;      /* --secret id=ID,src=FILE */
	char *const *ssh;          /* --ssh ID[=SOCKET] (default: $SSH_AUTH_SOCK) */
	bool no_cache;
	int network;               /* enum run_netmode */
	bool allow_insecure;       /* --allow security.insecure: RUN --security=insecure
				    * may run privileged (refused otherwise) */
	int64_t epoch;             /* created and layer mtimes clamp (SOURCE_DATE_EPOCH) */
	const struct bld_ops *ops;
};

/* Build: every needed stage's instructions in order, each step's image in
 * the store (unnamed) and in the build cache. Returns 0 and the final image
 * id, or < 0 with err; a RUN that failed sets *ret_code to its exit code
 * (else 0 is left there). */
int bld_build(struct ims_store *s, const struct bld_opts *o, char ret_id[CM_DIGEST_STR_LEN], int *ret_code,
	      struct cm_error *err);
/* Remove the temp dir path (recursively, no symlink followed) and free path. */
void bld_tmpdir_remove(char *path);
