// SPDX-License-Identifier: MIT
/* Word expansion with the ARG/ENV in scope, after the rules of docker's shell
 * lexer (quotes, the escape character, $V ${V} and the :- :+ :? - + ?
 * modifiers), and the KEY=VALUE pairs of ENV, LABEL and ARG. Pure. */
#include "bld-internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct ex {
	const char *p;
	char esc;
	bool split;
	bool vars_only; /* heredoc bodies: quotes are text, only $ expands */
	bld_lookup_fn *lookup;
	void *ctx;
	struct cm_error *err;
	/* split mode: the words so far and the one being built */
	char **words;
	size_t n_words;
	struct bld_sb cur;
	bool in_word;
};

static int end_word(struct ex *x)
{
	if (!x->in_word)
		return 0;
	x->in_word = false;
	char *w = bld_sb_take(&x->cur);
	return bld_strv_push(&x->words, &x->n_words, w);
}

/* Add text to out; at the top level of a split, unquoted blanks end words. */
static int emit(struct ex *x, struct bld_sb *out, const char *s, size_t n, bool splits)
{
	if (!splits)
		return bld_sb_add(out, s, n);
	for (size_t i = 0; i < n; i++) {
		int r;
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			if ((r = end_word(x)) < 0)
				return r;
			continue;
		}
		x->in_word = true;
		if ((r = bld_sb_addc(out, s[i])) < 0)
			return r;
	}
	return 0;
}

static int word(struct ex *x, char stop, struct bld_sb *out, bool top);

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* After a '$' (x->p on the next char). */
static int dollar(struct ex *x, struct bld_sb *out, bool splits)
{
	const char *s = x->p;
	if (*s != '{') {
		size_t n = 0;
		while (name_char(s[n]))
			n++;
		if (n == 0) /* a lone '$' is itself */
			return emit(x, out, "$", 1, splits);
		x->p += n;
		const char *v = x->lookup ? x->lookup(x->ctx, s, n) : NULL;
		return v ? emit(x, out, v, strlen(v), splits) : 0;
	}
	s++;
	size_t n = 0;
	while (name_char(s[n]))
		n++;
	if (n == 0)
		return cm_error_set(x->err, -EINVAL, "bad substitution: missing a name after '${'");
	const char *name = s;
	const char *v = x->lookup ? x->lookup(x->ctx, name, n) : NULL;
	s += n;
	if (*s == '}') {
		x->p = s + 1;
		return v ? emit(x, out, v, strlen(v), splits) : 0;
	}
	bool colon = *s == ':';
	if (colon)
		s++;
	char mod = *s;
	if (!mod)
		return cm_error_set(x->err, -EINVAL, "missing '}' in substitution of %.*s", (int)n, name);
	if (mod != '-' && mod != '+' && mod != '?')
		return cm_error_set(x->err, -EINVAL, "unsupported modifier (%c) in substitution", mod ? mod : ' ');
	x->p = s + 1;
	/* the word after the modifier, expanded (unsplit) up to the '}' */
	struct bld_sb alt = { 0 };
	int r = word(x, '}', &alt, false);
	if (r == 0 && *x->p != '}')
		r = cm_error_set(x->err, -EINVAL, "missing '}' in substitution of %.*s", (int)n, name);
	if (r < 0) {
		free(alt.s);
		return r;
	}
	x->p++;
	bool set = v && (!colon || *v);
	const char *use = NULL;
	if (mod == '-')
		use = set ? v : (alt.s ? alt.s : "");
	else if (mod == '+')
		use = set ? (alt.s ? alt.s : "") : NULL;
	else if (!set)
		r = cm_error_set(x->err, -EINVAL, "%.*s: %s", (int)n, name,
				 alt.s && *alt.s ? alt.s : "is not allowed to be unset");
	else
		use = v;
	if (r == 0 && use)
		r = emit(x, out, use, strlen(use), splits);
	free(alt.s);
	return r;
}

/* Expand up to stop (or the end); top: the word list level of a split. */
static int word(struct ex *x, char stop, struct bld_sb *out, bool top)
{
	bool splits = top && x->split;
	int r = 0;
	while (r == 0 && *x->p && *x->p != stop) {
		char c = *x->p++;
		if (x->vars_only && c != '$' && !(c == x->esc && x->p[0] == '$')) {
			r = bld_sb_addc(out, c);
		} else if (c == '\'') {
			const char *e = strchr(x->p, '\'');
			if (!e)
				return cm_error_set(x->err, -EINVAL,
						    "unexpected end of statement while looking for matching single-quote");
			x->in_word = true;
			r = bld_sb_add(out, x->p, (size_t)(e - x->p));
			x->p = e + 1;
		} else if (c == '"') {
			x->in_word = true;
			while (r == 0 && *x->p && *x->p != '"') {
				char d = *x->p++;
				if (d == x->esc && (*x->p == '"' || *x->p == '$' || *x->p == x->esc))
					r = bld_sb_addc(out, *x->p++);
				else if (d == '$')
					r = dollar(x, out, false);
				else
					r = bld_sb_addc(out, d);
			}
			if (r == 0 && *x->p != '"')
				return cm_error_set(x->err, -EINVAL,
						    "unexpected end of statement while looking for matching double-quote");
			if (r == 0)
				x->p++;
		} else if (c == x->esc) {
			if (*x->p) {
				x->in_word = true;
				r = bld_sb_addc(out, *x->p++);
			}
		} else if (c == '$') {
			r = dollar(x, out, splits);
		} else {
			r = emit(x, out, &c, 1, splits);
		}
	}
	return r;
}

int bld_expand(const char *in, char escape, bool split, bld_lookup_fn *lookup, void *ctx,
	       char ***ret, size_t *ret_n, struct cm_error *err)
{
	struct ex x = { .p = in, .esc = escape, .split = split, .lookup = lookup, .ctx = ctx,
			.err = err };
	int r = word(&x, '\0', &x.cur, true);
	if (r == 0) {
		if (split)
			r = end_word(&x);
		else
			r = bld_strv_push(&x.words, &x.n_words, bld_sb_take(&x.cur));
	}
	if (r == 0 && !x.words)
		r = (x.words = calloc(1, sizeof(char *))) ? 0 : -ENOMEM;
	free(x.cur.s);
	if (r < 0) {
		bld_strv_free(x.words);
		return r == -ENOMEM ? cm_error_set(err, r, "out of memory") : r;
	}
	*ret = x.words;
	if (ret_n)
		*ret_n = x.n_words;
	return 0;
}

int bld_expand_vars(const char *in, char escape, bld_lookup_fn *lookup, void *ctx, char **ret,
		    struct cm_error *err)
{
	struct ex x = { .p = in, .esc = escape, .vars_only = true, .lookup = lookup, .ctx = ctx,
			.err = err };
	struct bld_sb out = { 0 };
	int r = word(&x, '\0', &out, false);
	char *s = r == 0 ? bld_sb_take(&out) : NULL;
	free(out.s);
	if (r < 0)
		return r;
	if (!s)
		return cm_error_set(err, -ENOMEM, "out of memory");
	*ret = s;
	return 0;
}

int bld_expand_word(const char *in, char escape, bld_lookup_fn *lookup, void *ctx,
		    char **ret, struct cm_error *err)
{
	char **v;
	int r = bld_expand(in, escape, false, lookup, ctx, &v, NULL, err);
	if (r < 0)
		return r;
	*ret = v[0];
	free(v);
	return 0;
}

int bld_parse_pairs(const char *args, char escape, bool legacy_ok, bool value_optional,
		    bld_lookup_fn *lookup, void *ctx, char ***ret_keys, char ***ret_vals,
		    size_t *ret_n, struct cm_error *err)
{
	char **keys = NULL, **vals = NULL;
	size_t nk = 0, nv = 0;
	int r;
	const char *s = args;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t first = strcspn(s, " \t=");
	if (legacy_ok && s[first] != '=') {
		/* ENV KEY value words: one pair, the value the rest (expanded) */
		const char *v = s + first;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!*v)
			return cm_error_set(err, -EINVAL, "%.*s: needs a value (ENV KEY=VALUE or ENV KEY VALUE)",
					    (int)first, s);
		char *val;
		if ((r = bld_expand_word(v, escape, lookup, ctx, &val, err)) < 0)
			return r;
		if ((r = bld_strv_push(&keys, &nk, strndup(s, first))) < 0 ||
		    (r = bld_strv_push(&vals, &nv, val)) < 0)
			goto fail;
		goto done;
	}
	char **words;
	size_t n;
	if ((r = bld_expand(args, escape, true, lookup, ctx, &words, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');
		if (!eq && !value_optional) {
			r = cm_error_set(err, -EINVAL, "'%s': a KEY=VALUE pair is needed", words[i]);
			goto bad;
		}
		if (eq == words[i]) {
			r = cm_error_set(err, -EINVAL, "'%s': a pair needs a name", words[i]);
			goto bad;
		}
		char *k = eq ? strndup(words[i], (size_t)(eq - words[i])) : strdup(words[i]);
		char *v = eq ? strdup(eq + 1) : NULL;
		if ((r = bld_strv_push(&keys, &nk, k)) < 0) {
			free(v);
			bld_strv_free(words);
			goto fail;
		}
		/* a NULL value (ARG without a default) is kept as a hole */
		char **nvv = realloc(vals, (nv + 2) * sizeof(*nvv));
		if (!nvv || (eq && !v)) {
			free(v);
			if (nvv)
				vals = nvv;
			bld_strv_free(words);
			r = -ENOMEM;
			goto fail;
		}
		vals = nvv;
		vals[nv++] = v;
		vals[nv] = NULL;
	}
	bld_strv_free(words);
done:
	*ret_keys = keys;
	*ret_vals = vals;
	*ret_n = nk;
	return 0;
fail:
	bld_strv_free(keys);
	bld_strv_freen(vals, nv);
	return cm_error_set(err, r, "out of memory");
bad:
	bld_strv_free(words);
	bld_strv_free(keys);
	bld_strv_freen(vals, nv);
	return r;
}
