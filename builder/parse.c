// SPDX-License-Identifier: MIT
/* The Containerfile/Dockerfile parser: parser directives, comments, line
 * continuations, here-documents, flags, exec (JSON) and shell forms, and the
 * per-instruction argument checks of the Dockerfile reference. Pure: text in,
 * a list of instructions out; words are expanded later (expand.c), when the
 * ARG/ENV in scope are known. */
#include "bld-internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[] = {
	[BLD_FROM] = "FROM", [BLD_RUN] = "RUN", [BLD_CMD] = "CMD", [BLD_LABEL] = "LABEL",
	[BLD_MAINTAINER] = "MAINTAINER", [BLD_EXPOSE] = "EXPOSE", [BLD_ENV] = "ENV",
	[BLD_ADD] = "ADD", [BLD_COPY] = "COPY", [BLD_ENTRYPOINT] = "ENTRYPOINT",
	[BLD_VOLUME] = "VOLUME", [BLD_USER] = "USER", [BLD_WORKDIR] = "WORKDIR",
	[BLD_ARG] = "ARG", [BLD_ONBUILD] = "ONBUILD", [BLD_STOPSIGNAL] = "STOPSIGNAL",
	[BLD_HEALTHCHECK] = "HEALTHCHECK", [BLD_SHELL] = "SHELL",
};

const char *bld_kind_name(enum bld_kind k)
{
	return (size_t)k < CM_ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

/* The flags each instruction accepts (docker's and buildah's). */
static const char *const *kind_flags(enum bld_kind k)
{
	static const char *const from[] = { "platform", NULL };
	static const char *const run[] = { "mount", "network", "security", NULL };
	static const char *const copy[] = { "from", "chown", "chmod", "link", "exclude",
					    "parents", NULL };
	static const char *const add[] = { "chown", "chmod", "link", "exclude",
					   "keep-git-dir", "checksum", NULL };
	static const char *const hc[] = { "interval", "timeout", "start-period",
					  "start-interval", "retries", NULL };
	static const char *const none[] = { NULL };
	switch (k) {
	case BLD_FROM: return from;
	case BLD_RUN: return run;
	case BLD_COPY: return copy;
	case BLD_ADD: return add;
	case BLD_HEALTHCHECK: return hc;
	default: return none;
	}
}

/* ------------------------------------------------------------ strings */

int bld_sb_addc(struct bld_sb *b, char c)
{
	return cm_tpl_out_put(b, &c, 1);
}

char *bld_sb_take(struct bld_sb *b)
{
	if (!b->s && cm_tpl_out_put(b, "", 0) < 0)
		return NULL;
	char *s = b->s;
	*b = (struct bld_sb){ 0 };
	return s;
}

int bld_strv_push(char ***v, size_t *n, char *s)
{
	if (!s)
		return -ENOMEM;
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

void bld_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void bld_strv_freen(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------ lines */

struct lines {
	char **v;      /* physical lines, no '\n' (nor a '\r' before it) */
	size_t n;
};

static int split_lines(const char *text, size_t len, struct lines *ret)
{
	struct lines l = { 0 };
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && text[j] != '\n')
			j++;
		size_t e = j;
		if (e > i && text[e - 1] == '\r')
			e--;
		if (memchr(text + i, '\0', e - i)) {
			bld_strv_free(l.v);
			return -EINVAL;
		}
		if (bld_strv_push(&l.v, &l.n, strndup(text + i, e - i)) < 0) {
			bld_strv_free(l.v);
			return -ENOMEM;
		}
		i = j + 1;
	}
	*ret = l;
	return 0;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static bool blank(const char *s)
{
	return *skip_ws(s) == '\0';
}

static bool comment(const char *s)
{
	return *skip_ws(s) == '#';
}

/* The line ends with the escape character (trailing blanks allowed):
 * strip both and return true. */
static bool continues(char *s, char escape)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || s[n - 1] != escape)
		return false;
	s[n - 1] = '\0';
	return true;
}

/* "# name = value" at the top of the file. */
static bool directive(const char *line, char *name, size_t nsz, const char **val)
{
	const char *s = skip_ws(line);
	if (*s++ != '#')
		return false;
	s = skip_ws(s);
	size_t n = 0;
	while (isalnum((unsigned char)s[n]))
		n++;
	if (n == 0 || n >= nsz || !isalpha((unsigned char)s[0]))
		return false;
	memcpy(name, s, n);
	name[n] = '\0';
	s = skip_ws(s + n);
	if (*s != '=')
		return false;
	*val = skip_ws(s + 1);
	return true;
}

/* ------------------------------------------------------------ heredocs */

/* Find the next "<<[-]WORD" outside quotes in args from *pos: its name
 * (quotes removed), whether it expands, whether tabs are stripped. */
static bool next_heredoc(const char *args, size_t *pos, char escape, char **name,
			 bool *expand, bool *chomp)
{
	char q = 0;
	for (size_t i = *pos; args[i]; i++) {
		char c = args[i];
		if (q) {
			if (c == q)
				q = 0;
			else if (c == escape && q == '"' && args[i + 1])
				i++;
			continue;
		}
		if (c == escape && args[i + 1]) {
			i++;
			continue;
		}
		if (c == '\'' || c == '"') {
			q = c;
			continue;
		}
		if (c != '<' || args[i + 1] != '<' || args[i + 2] == '<')
			continue;
		size_t j = i + 2;
		*chomp = args[j] == '-';
		if (*chomp)
			j++;
		char wq = 0;
		if (args[j] == '"' || args[j] == '\'')
			wq = args[j++];
		size_t k = j;
		while (args[k] && (isalnum((unsigned char)args[k]) || args[k] == '_' ||
				   args[k] == '-' || args[k] == '.'))
			k++;
		if (k == j)
			continue;
		if (wq && args[k] != wq)
			continue;
		*name = strndup(args + j, k - j);
		*expand = !wq;
		*pos = k + (wq ? 1 : 0);
		return true;
	}
	return false;
}

static bool heredoc_kind(enum bld_kind k)
{
	return k == BLD_RUN || k == BLD_COPY || k == BLD_ADD;
}

/* ------------------------------------------------------------ one instruction */

void bld_instr_free(struct bld_instr *in)
{
	if (!in)
		return;
	free(in->text);
	bld_strv_free(in->flags);
	free(in->args);
	bld_strv_free(in->argv);
	for (size_t i = 0; i < in->n_heredocs; i++) {
		free(in->heredocs[i].name);
		free(in->heredocs[i].body);
	}
	free(in->heredocs);
	if (in->sub) {
		bld_instr_free(in->sub);
		free(in->sub);
	}
	*in = (struct bld_instr){ 0 };
}

const char *bld_flag(const struct bld_instr *in, const char *name)
{
	size_t nl = strlen(name);
	const char *found = NULL;
	for (size_t i = 0; i < in->n_flags; i++) {
		const char *f = in->flags[i] + 2;
		if (strncmp(f, name, nl) == 0 && (f[nl] == '=' || f[nl] == '\0'))
			found = f[nl] == '=' ? f + nl + 1 : f + nl;
	}
	return found;
}

/* A JSON array of strings: the exec form. */
static bool parse_json_argv(const char *args, char ***ret, size_t *ret_n)
{
	const char *s = skip_ws(args);
	if (*s != '[')
		return false;
	struct cm_json *j = NULL;
	if (cm_json_parse(s, strlen(s), &j, NULL, 0) < 0)
		return false;
	bool ok = cm_json_is(j, CM_JSON_ARRAY);
	char **v = NULL;
	size_t n = 0;
	for (size_t i = 0; ok && i < j->n; i++) {
		const char *str = cm_json_str(j->v[i]);
		ok = str && bld_strv_push(&v, &n, strdup(str)) == 0;
	}
	cm_json_free(j);
	if (ok && !v)
		ok = (v = calloc(1, sizeof(*v))) != NULL;
	if (!ok) {
		bld_strv_free(v);
		return false;
	}
	*ret = v;
	*ret_n = n;
	return true;
}

static int lookup_kind(const char *word, size_t n, enum bld_kind *ret)
{
	for (size_t k = 0; k < CM_ARRAY_SIZE(kind_names); k++)
		if (strlen(kind_names[k]) == n && strncasecmp(kind_names[k], word, n) == 0) {
			*ret = (enum bld_kind)k;
			return 0;
		}
	return -ENOENT;
}

/* Split the leading --flags off args; check them against the instruction. */
static int take_flags(struct bld_instr *in, const char **rest, char *why, size_t wsz)
{
	const char *s = skip_ws(*rest);
	while (s[0] == '-' && s[1] == '-') {
		size_t n = strcspn(s, " \t");
		if (n == 2)
			break; /* a lone "--" is an argument */
		char *f = strndup(s, n);
		if (!f)
			return -ENOMEM;
		size_t nl = strcspn(f + 2, "=");
		bool known = false;
		for (const char *const *k = kind_flags(in->kind); *k; k++)
			known |= strlen(*k) == nl && strncmp(*k, f + 2, nl) == 0;
		if (!known) {
			snprintf(why, wsz, "unknown flag: %.*s", (int)(nl + 2), f);
			free(f);
			return -EINVAL;
		}
		if (bld_strv_push(&in->flags, &in->n_flags, f) < 0)
			return -ENOMEM;
		s = skip_ws(s + n);
	}
	*rest = s;
	return 0;
}

static size_t count_words(const char *s)
{
	size_t n = 0;
	for (s = skip_ws(s); *s; n++) {
		s += strcspn(s, " \t");
		s = skip_ws(s);
	}
	return n;
}

/* The checks of the reference, on the raw words ("why" filled on error). */
static int check_args(struct bld_instr *in, char *why, size_t wsz)
{
	const char *kw = bld_kind_name(in->kind);
	size_t words = count_words(in->args);
	bool empty = words == 0 && in->n_heredocs == 0;
	switch (in->kind) {
	case BLD_FROM: {
		if (words != 1 && words != 3)
			goto bad_from;
		if (words == 3) {
			const char *s = skip_ws(in->args);
			s = skip_ws(s + strcspn(s, " \t"));
			if (strncasecmp(s, "AS", 2) != 0 || (s[2] != ' ' && s[2] != '\t'))
				goto bad_from;
		}
		return 0;
bad_from:
		snprintf(why, wsz, "FROM requires either one or three arguments");
		return -EINVAL;
	}
	case BLD_COPY:
	case BLD_ADD:
		if (in->json ? in->n_argv < 2 : words + in->n_heredocs < 2) {
			snprintf(why, wsz, "%s requires at least two arguments, but only one was provided. Destination could not be determined", kw);
			return -EINVAL;
		}
		return 0;
	case BLD_SHELL:
		if (!in->json) {
			snprintf(why, wsz, "SHELL requires the arguments to be in JSON form");
			return -EINVAL;
		}
		if (in->n_argv == 0) {
			snprintf(why, wsz, "SHELL requires at least one argument");
			return -EINVAL;
		}
		return 0;
	case BLD_ENV:
	case BLD_LABEL:
		if (empty) {
			snprintf(why, wsz, "%s requires at least one argument", kw);
			return -EINVAL;
		}
		return 0;
	case BLD_ARG:
		if (words != 1 && !strchr(in->args, '=')) {
			snprintf(why, wsz, "ARG requires exactly one argument");
			return -EINVAL;
		}
		if (empty) {
			snprintf(why, wsz, "ARG requires at least one argument");
			return -EINVAL;
		}
		return 0;
	case BLD_USER:
	case BLD_WORKDIR:
	case BLD_STOPSIGNAL:
	case BLD_MAINTAINER:
		if (words == 0) {
			snprintf(why, wsz, "%s requires exactly one argument", kw);
			return -EINVAL;
		}
		if (words > 1 && in->kind != BLD_MAINTAINER && in->kind != BLD_WORKDIR) {
			snprintf(why, wsz, "%s requires exactly one argument", kw);
			return -EINVAL;
		}
		return 0;
	case BLD_HEALTHCHECK: {
		const char *s = skip_ws(in->args);
		size_t n = strcspn(s, " \t");
		if (n == 4 && strncasecmp(s, "NONE", 4) == 0) {
			if (*skip_ws(s + 4) || in->n_flags) {
				snprintf(why, wsz, "HEALTHCHECK NONE takes no arguments");
				return -EINVAL;
			}
			return 0;
		}
		if (n != 3 || strncasecmp(s, "CMD", 3) != 0) {
			snprintf(why, wsz, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)", (int)n, s);
			return -EINVAL;
		}
		if (!*skip_ws(s + 3) || (in->json && in->n_argv == 0)) {
			snprintf(why, wsz, "Missing command after HEALTHCHECK CMD");
			return -EINVAL;
		}
		return 0;
	}
	case BLD_RUN:
		/* BuildKit checks no count: a bare RUN runs the shell with an
		 * empty command (/bin/sh -c ""), a step that changes nothing; but
		 * an empty exec form has no command at all, and BuildKit's LLB
		 * refuses it before anything runs ("arguments are required") */
		if (in->json && in->n_argv == 0) {
			snprintf(why, wsz, "RUN []: arguments are required (the exec form is empty)");
			return -EINVAL;
		}
		return 0;
	case BLD_EXPOSE:
	case BLD_VOLUME:
	case BLD_ONBUILD:
		if (empty) {
			snprintf(why, wsz, "%s requires at least one argument", kw);
			return -EINVAL;
		}
		return 0;
	case BLD_CMD:
	case BLD_ENTRYPOINT:
		return 0;
	}
	return 0;
}

/* Parse one logical line "KEYWORD args" (heredoc bodies attached later). */
static int parse_logical(const char *line, char escape, struct bld_instr *in, char *why,
			 size_t wsz, bool *wants_heredocs)
{
	const char *s = skip_ws(line);
	size_t kl = strcspn(s, " \t");
	int r;
	*in = (struct bld_instr){ 0 };
	if (lookup_kind(s, kl, &in->kind) < 0) {
		snprintf(why, wsz, "unknown instruction: %.*s", (int)(kl > 40 ? 40 : kl), s);
		return -EINVAL;
	}
	if (!(in->text = strdup(s)))
		return -ENOMEM;
	const char *rest = s + kl;
	if (in->kind == BLD_ONBUILD) {
		rest = skip_ws(rest);
		size_t sl = strcspn(rest, " \t");
		enum bld_kind sk;
		if (sl == 0) {
			snprintf(why, wsz, "ONBUILD requires at least one argument");
			return -EINVAL;
		}
		if (lookup_kind(rest, sl, &sk) == 0 &&
		    (sk == BLD_ONBUILD || sk == BLD_FROM || sk == BLD_MAINTAINER)) {
			snprintf(why, wsz, "%s isn't allowed as an ONBUILD trigger", bld_kind_name(sk));
			return -EINVAL;
		}
		if (!(in->args = strdup(rest)) || !(in->sub = calloc(1, sizeof(*in->sub))))
			return -ENOMEM;
		bool hd = false;
		if ((r = parse_logical(rest, escape, in->sub, why, wsz, &hd)) < 0)
			return r;
		return 0;
	}
	if ((r = take_flags(in, &rest, why, wsz)) < 0)
		return r;
	/* trailing blanks are not part of the arguments */
	size_t al = strlen(rest);
	while (al && (rest[al - 1] == ' ' || rest[al - 1] == '\t'))
		al--;
	if (!(in->args = strndup(rest, al)))
		return -ENOMEM;
	switch (in->kind) {
	case BLD_RUN: case BLD_CMD: case BLD_ENTRYPOINT: case BLD_SHELL: case BLD_VOLUME:
	case BLD_COPY: case BLD_ADD:
		in->json = parse_json_argv(in->args, &in->argv, &in->n_argv);
		break;
	case BLD_HEALTHCHECK: {
		const char *c = skip_ws(in->args);
		if (strncasecmp(c, "CMD", 3) == 0 && (c[3] == ' ' || c[3] == '\t'))
			in->json = parse_json_argv(c + 3, &in->argv, &in->n_argv);
		break;
	}
	default:
		break;
	}
	*wants_heredocs = heredoc_kind(in->kind) && !in->json;
	return 0;
}

/* Read the heredoc bodies the instruction names from lines[*li...]. */
static int read_heredocs(struct bld_instr *in, char escape, const struct lines *l, size_t *li,
			 char *why, size_t wsz)
{
	size_t pos = 0;
	char *name;
	bool expand, chomp;
	while (next_heredoc(in->args, &pos, escape, &name, &expand, &chomp)) {
		if (!name)
			return -ENOMEM;
		struct bld_sb body = { 0 };
		bool done = false;
		while (*li < l->n) {
			const char *ln = l->v[(*li)++];
			if (chomp)
				while (*ln == '\t')
					ln++;
			if (strcmp(ln, name) == 0) {
				done = true;
				break;
			}
			if (bld_sb_add(&body, ln, strlen(ln)) < 0 || bld_sb_addc(&body, '\n') < 0) {
				free(body.s);
				free(name);
				return -ENOMEM;
			}
		}
		if (!done) {
			snprintf(why, wsz, "unterminated heredoc <<%s", name);
			free(body.s);
			free(name);
			return -EINVAL;
		}
		struct bld_heredoc *nv = realloc(in->heredocs, (in->n_heredocs + 1) * sizeof(*nv));
		char *b = bld_sb_take(&body);
		if (!nv || !b) {
			free(nv ? NULL : b);
			free(name);
			if (nv)
				in->heredocs = nv;
			return -ENOMEM;
		}
		in->heredocs = nv;
		in->heredocs[in->n_heredocs++] = (struct bld_heredoc){ name, b, expand };
	}
	return 0;
}

int bld_parse_line(const char *line, char escape, struct bld_instr *ret, struct cm_error *err)
{
	char why[256] = "";
	bool hd;
	struct bld_instr in;
	int r = parse_logical(line, escape, &in, why, sizeof(why), &hd);
	if (r == 0)
		r = check_args(in.sub ? in.sub : &in, why, sizeof(why));
	if (r < 0) {
		bld_instr_free(&in);
		return cm_error_set(err, r, "%s", why[0] ? why : "out of memory");
	}
	in.line = 1;
	*ret = in;
	return 0;
}

void bld_file_free(struct bld_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		bld_instr_free(&f->v[i]);
	free(f->v);
	free(f->syntax);
	free(f->name);
	*f = (struct bld_file){ 0 };
}

int bld_parse(const char *name, const char *text, size_t len, struct bld_file *ret,
	      struct cm_error *err)
{
	struct lines l;
	struct bld_file f = { .escape = '\\' };
	char why[320] = "";
	unsigned at = 0;
	int r = split_lines(text, len, &l);
	if (r < 0)
		return r == -EINVAL ? cm_error_set(err, r, "%s: a NUL byte in the file", name)
				    : cm_error_set(err, r, "out of memory");
	if (!(f.name = strdup(name))) {
		r = -ENOMEM;
		goto out;
	}
	size_t li = 0;
	/* parser directives: only before anything else (a comment, a blank
	 * line or an instruction ends them); unknown ones are comments */
	bool seen_escape = false;
	for (; li < l.n; li++) {
		char dn[32];
		const char *val;
		if (!directive(l.v[li], dn, sizeof(dn), &val))
			break;
		at = li + 1;
		if (strcasecmp(dn, "escape") == 0) {
			if (seen_escape) {
				snprintf(why, sizeof(why), "only one escape parser directive can be used");
				r = -EINVAL;
				goto out;
			}
			seen_escape = true;
			if ((strcmp(val, "\\") != 0 && strcmp(val, "`") != 0)) {
				snprintf(why, sizeof(why), "invalid escape token '%s' does not match ` or \\", val);
				r = -EINVAL;
				goto out;
			}
			f.escape = val[0];
		} else if (strcasecmp(dn, "syntax") == 0) {
			free(f.syntax);
			if (!(f.syntax = strdup(val))) {
				r = -ENOMEM;
				goto out;
			}
		}
	}
	while (li < l.n) {
		if (blank(l.v[li]) || comment(l.v[li])) {
			li++;
			continue;
		}
		at = li + 1;
		struct bld_sb logical = { 0 };
		char *cur = l.v[li++];
		bool more = continues(cur, f.escape);
		r = bld_sb_add(&logical, cur, strlen(cur));
		/* a continued line goes on past comment and blank lines */
		while (r == 0 && more && li < l.n) {
			cur = l.v[li++];
			if (comment(cur) || blank(cur))
				continue;
			more = continues(cur, f.escape);
			r = bld_sb_add(&logical, cur, strlen(cur));
		}
		if (r < 0) {
			free(logical.s);
			goto out;
		}
		struct bld_instr in;
		bool hd = false;
		r = parse_logical(logical.s, f.escape, &in, why, sizeof(why), &hd);
		free(logical.s);
		if (r == 0 && hd)
			r = read_heredocs(&in, f.escape, &l, &li, why, sizeof(why));
		if (r == 0)
			r = check_args(in.sub ? in.sub : &in, why, sizeof(why));
		if (r < 0) {
			bld_instr_free(&in);
			goto out;
		}
		in.line = at;
		struct bld_instr *nv = realloc(f.v, (f.n + 1) * sizeof(*nv));
		if (!nv) {
			bld_instr_free(&in);
			r = -ENOMEM;
			goto out;
		}
		f.v = nv;
		f.v[f.n++] = in;
	}
	if (f.n == 0) {
		snprintf(why, sizeof(why), "the file holds no instructions");
		at = 0;
		r = -EINVAL;
		goto out;
	}
	if (f.v[0].kind != BLD_FROM && f.v[0].kind != BLD_ARG) {
		/* only ARG may come before the first FROM */
		for (size_t i = 0; i < f.n && f.v[i].kind != BLD_FROM; i++)
			if (f.v[i].kind != BLD_ARG) {
				at = f.v[i].line;
				snprintf(why, sizeof(why), "no build stage in current context (%s before the first FROM)",
					 bld_kind_name(f.v[i].kind));
				r = -EINVAL;
				goto out;
			}
	}
	bool any_from = false;
	for (size_t i = 0; i < f.n; i++)
		any_from |= f.v[i].kind == BLD_FROM;
	if (!any_from) {
		at = f.v[f.n - 1].line;
		snprintf(why, sizeof(why), "no FROM instruction");
		r = -EINVAL;
		goto out;
	}
	r = 0;
	*ret = f;
	f = (struct bld_file){ 0 };
out:
	bld_strv_free(l.v);
	bld_file_free(&f);
	if (r == -EINVAL)
		return at ? cm_error_set(err, r, "%s:%u: %s", name, at, why)
			  : cm_error_set(err, r, "%s: %s", name, why);
	if (r < 0)
		return cm_error_set(err, r, "out of memory");
	return 0;
}
