// SPDX-License-Identifier: MIT
/* .dockerignore / .containerignore: docker's rules (patterns cleaned like
 * filepath.Clean, '!' exceptions, the last matching pattern decides, a
 * pattern that matches a parent dir excludes what is below it) and the glob
 * match they use: '*' '?' and [classes] within a component, '**' across
 * components. Pure. */
#include "bld-internal.h"

#include <stdlib.h>
#include <string.h>

/* [class] at p (after '['): matches c? *end set past the ']'. */
static bool class_match(const char *p, char c, const char **end)
{
	bool neg = *p == '^' || *p == '!';
	if (neg)
		p++;
	bool hit = false;
	bool first = true;
	while (*p && (*p != ']' || first)) {
		first = false;
		char lo = *p++;
		if (lo == '\\' && *p)
			lo = *p++;
		char hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			hi = *p++;
			if (hi == '\\' && *p)
				hi = *p++;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	if (*p != ']') {
		*end = NULL;
		return false;
	}
	*end = p + 1;
	return hit != neg && c != '/';
}

bool bld_match(const char *p, const char *s)
{
	while (*p) {
		if (p[0] == '*' && p[1] == '*') {
			while (*p == '*')
				p++;
			if (*p == '/') {
				/* "**" + "/": zero or more whole components */
				p++;
				if (bld_match(p, s))
					return true;
				for (const char *t = s; *t; t++)
					if (*t == '/' && bld_match(p, t + 1))
						return true;
				return false;
			}
			for (const char *t = s;; t++) {
				if (bld_match(p, t))
					return true;
				if (!*t)
					return false;
			}
		}
		if (*p == '*') {
			p++;
			for (const char *t = s;; t++) {
				if (bld_match(p, t))
					return true;
				if (!*t || *t == '/')
					return false;
			}
		}
		if (!*s)
			return false;
		if (*p == '?') {
			if (*s == '/')
				return false;
		} else if (*p == '[') {
			const char *end;
			bool hit = class_match(p + 1, *s, &end);
			if (!end)
				return false; /* a malformed class matches nothing */
			if (!hit)
				return false;
			p = end;
			s++;
			continue;
		} else {
			if (*p == '\\' && p[1])
				p++;
			if (*p != *s)
				return false;
		}
		p++;
		s++;
	}
	return *s == '\0';
}

/* filepath.Clean on a slash path, without a leading '/' (kept if alone). */
static char *clean(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	bld_path_clean(in, out, n + 2);
	if (!out[0]) {
		out[0] = in[0] == '/' ? '/' : '.';
		out[1] = '\0';
	}
	return out;
}

int bld_path_clean(const char *in, char *out, size_t sz)
{
	size_t o = 0;
	const char *s = in;
	while (*s) {
		while (*s == '/')
			s++;
		size_t l = strcspn(s, "/");
		if (!l)
			break;
		if (l == 1 && s[0] == '.') {
			s += l;
			continue;
		}
		if (l == 2 && s[0] == '.' && s[1] == '.') {
			/* drop the last component (none left: ".." at the top of
			 * the context is the context) */
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			s += l;
			continue;
		}
		if (o + l + 2 > sz)
			return -ENAMETOOLONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, l);
		o += l;
		s += l;
	}
	out[o] = '\0';
	return 0;
}

int bld_ignore_parse(const char *text, size_t len, struct bld_ignore *ret)
{
	struct bld_ignore ig = { 0 };
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && text[j] != '\n')
			j++;
		const char *s = text + i;
		size_t l = j - i;
		i = j + 1;
		if (l && s[0] == '#')
			continue;
		while (l && (*s == ' ' || *s == '\t' || *s == '\r')) {
			s++;
			l--;
		}
		while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
			l--;
		if (!l)
			continue;
		bool neg = s[0] == '!';
		if (neg) {
			s++;
			l--;
			while (l && (*s == ' ' || *s == '\t')) {
				s++;
				l--;
			}
		}
		char *raw = strndup(s, l);
		char *c = raw ? clean(raw) : NULL;
		free(raw);
		if (!c) {
			bld_ignore_free(&ig);
			return -ENOMEM;
		}
		if (c[0] == '/' && c[1]) {
			memmove(c, c + 1, strlen(c));
		}
		struct bld_ignore_pat *nv = realloc(ig.v, (ig.n + 1) * sizeof(*nv));
		if (!nv) {
			free(c);
			bld_ignore_free(&ig);
			return -ENOMEM;
		}
		ig.v = nv;
		ig.v[ig.n++] = (struct bld_ignore_pat){ c, neg };
	}
	*ret = ig;
	return 0;
}

void bld_ignore_free(struct bld_ignore *ig)
{
	for (size_t i = 0; ig && i < ig->n; i++)
		free(ig->v[i].pat);
	if (ig) {
		free(ig->v);
		*ig = (struct bld_ignore){ 0 };
	}
}

/* The pattern matches path or one of its parent dirs. */
static bool match_or_parent(const char *pat, const char *path)
{
	if (bld_match(pat, path))
		return true;
	char buf[4096];
	size_t n = strlen(path);
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, path, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		bool m = bld_match(pat, buf);
		buf[i] = '/';
		if (m)
			return true;
	}
	return false;
}

bool bld_ignore_match(const struct bld_ignore *ig, const char *path)
{
	bool excluded = false;
	for (size_t i = 0; ig && i < ig->n; i++)
		if (match_or_parent(ig->v[i].pat, path))
			excluded = !ig->v[i].negate;
	return excluded;
}

bool bld_ignore_has_exceptions(const struct bld_ignore *ig)
{
	for (size_t i = 0; ig && i < ig->n; i++)
		if (ig->v[i].negate)
			return true;
	return false;
}
