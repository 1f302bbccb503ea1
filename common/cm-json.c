// SPDX-License-Identifier: MIT
/* JSON reader and writer (see cm-json.h). The reader is recursive descent
 * with a depth bound; every allocation failure unwinds cleanly. */
#include "cm-json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p, *end, *start;
	int depth;
	int err;
	char *errbuf;
	size_t errsz;
};

static void perr(struct parser *ps, const char *what)
{
	if (ps->err)
		return;
	ps->err = -EINVAL;
	if (ps->errbuf)
		snprintf(ps->errbuf, ps->errsz, "%s at offset %zu", what,
			 (size_t)(ps->p - ps->start));
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

void cm_json_free(struct cm_json *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		cm_json_free(j->v[i]);
		if (j->k)
			free(j->k[i]);
	}
	free(j->v);
	free(j->k);
	free(j->s);
	free(j);
}

void cm_json_freep(struct cm_json **j)
{
	cm_json_free(*j);
}

static struct cm_json *new_node(struct parser *ps, enum cm_json_type t)
{
	struct cm_json *j = calloc(1, sizeof(*j));
	if (!j && !ps->err)
		ps->err = -ENOMEM;
	if (j)
		j->type = t;
	return j;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_u4(struct parser *ps, unsigned *ret)
{
	if (ps->end - ps->p < 4)
		return -1;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(ps->p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + (unsigned)h;
	}
	ps->p += 4;
	*ret = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At the opening quote; returns a malloc'd string or NULL (error set). */
static char *parse_string(struct parser *ps)
{
	ps->p++; /* '"' */
	const char *q = ps->p;
	size_t raw = 0;
	while (q < ps->end && *q != '"') {
		if (*q == '\\')
			q++;
		q++;
		raw++;
	}
	if (q >= ps->end) {
		perr(ps, "unterminated string");
		return NULL;
	}
	/* each escape expands to at most 4 bytes for at least 2 input bytes */
	char *out = malloc((size_t)(q - ps->p) * 2 + 1);
	if (!out) {
		ps->err = ps->err ? ps->err : -ENOMEM;
		return NULL;
	}
	size_t n = 0;
	while (*ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p;
		if (c < 0x20) {
			perr(ps, "control character in string");
			goto fail;
		}
		if (c != '\\') {
			out[n++] = (char)c;
			ps->p++;
			continue;
		}
		ps->p++;
		char e = *ps->p++;
		switch (e) {
		case '"': out[n++] = '"'; break;
		case '\\': out[n++] = '\\'; break;
		case '/': out[n++] = '/'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (read_u4(ps, &cp) < 0) {
				perr(ps, "bad \\u escape");
				goto fail;
			}
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') {
					perr(ps, "lone surrogate");
					goto fail;
				}
				ps->p += 2;
				if (read_u4(ps, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
					perr(ps, "bad surrogate pair");
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				perr(ps, "lone surrogate");
				goto fail;
			}
			if (cp == 0) {
				perr(ps, "NUL in string");
				goto fail;
			}
			n += put_utf8(out + n, cp);
			break;
		}
		default:
			perr(ps, "bad escape");
			goto fail;
		}
	}
	ps->p++; /* closing quote */
	out[n] = '\0';
	(void)raw;
	return out;
fail:
	free(out);
	return NULL;
}

static struct cm_json *parse_value(struct parser *ps);

static int push_child(struct parser *ps, struct cm_json *j, char *key,
		      struct cm_json *child, size_t *cap)
{
	if (j->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct cm_json **nv = realloc(j->v, nc * sizeof(*nv));
		if (!nv)
			goto oom;
		j->v = nv;
		if (j->type == CM_JSON_OBJECT) {
			char **nk = realloc(j->k, nc * sizeof(*nk));
			if (!nk)
				goto oom;
			j->k = nk;
		}
		*cap = nc;
	}
	j->v[j->n] = child;
	if (j->type == CM_JSON_OBJECT)
		j->k[j->n] = key;
	j->n++;
	return 0;
oom:
	ps->err = ps->err ? ps->err : -ENOMEM;
	free(key);
	cm_json_free(child);
	return -ENOMEM;
}

static struct cm_json *parse_container(struct parser *ps, bool obj)
{
	struct cm_json *j = new_node(ps, obj ? CM_JSON_OBJECT : CM_JSON_ARRAY);
	size_t cap = 0;
	if (!j)
		return NULL;
	if (++ps->depth > CM_JSON_MAX_DEPTH) {
		perr(ps, "nesting too deep");
		goto fail;
	}
	ps->p++;
	skip_ws(ps);
	char close = obj ? '}' : ']';
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return j;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(ps);
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"') {
				perr(ps, "expected a key");
				goto fail;
			}
			key = parse_string(ps);
			if (!key)
				goto fail;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				perr(ps, "expected ':'");
				goto fail;
			}
			ps->p++;
		}
		struct cm_json *child = parse_value(ps);
		if (!child) {
			free(key);
			goto fail;
		}
		if (push_child(ps, j, key, child, &cap) < 0)
			goto fail;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			break;
		}
		perr(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		goto fail;
	}
	ps->depth--;
	return j;
fail:
	cm_json_free(j);
	return NULL;
}

static struct cm_json *parse_number(struct parser *ps)
{
	const char *s = ps->p;
	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9')) {
		perr(ps, "bad number");
		return NULL;
	}
	if (*ps->p == '0')
		ps->p++;
	else
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	bool integral = true;
	if (ps->p < ps->end && *ps->p == '.') {
		integral = false;
		ps->p++;
		if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9')) {
			perr(ps, "bad number");
			return NULL;
		}
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integral = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9')) {
			perr(ps, "bad number");
			return NULL;
		}
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	size_t len = (size_t)(ps->p - s);
	if (len > 64) {
		perr(ps, "number too long");
		return NULL;
	}
	struct cm_json *j = new_node(ps, CM_JSON_NUMBER);
	if (!j)
		return NULL;
	j->s = strndup(s, len);
	if (!j->s) {
		ps->err = ps->err ? ps->err : -ENOMEM;
		free(j);
		return NULL;
	}
	j->d = strtod(j->s, NULL);
	if (integral) {
		errno = 0;
		long long v = strtoll(j->s, NULL, 10);
		if (errno == 0) {
			j->is_int = true;
			j->i = v;
		}
	}
	return j;
}

static bool match_lit(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static struct cm_json *parse_value(struct parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end) {
		perr(ps, "unexpected end");
		return NULL;
	}
	struct cm_json *j;
	switch (*ps->p) {
	case '{':
		return parse_container(ps, true);
	case '[':
		return parse_container(ps, false);
	case '"': {
		char *s = parse_string(ps);
		if (!s)
			return NULL;
		j = new_node(ps, CM_JSON_STRING);
		if (!j) {
			free(s);
			return NULL;
		}
		j->s = s;
		return j;
	}
	case 't':
	case 'f':
		if (match_lit(ps, "true") || match_lit(ps, "false")) {
			j = new_node(ps, CM_JSON_BOOL);
			if (j)
				j->b = ps->p[-1] == 'e' && ps->p[-2] == 'u';
			return j;
		}
		break;
	case 'n':
		if (match_lit(ps, "null"))
			return new_node(ps, CM_JSON_NULL);
		break;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
	}
	perr(ps, "unexpected character");
	return NULL;
}

int cm_json_parse(const char *buf, size_t len, struct cm_json **ret,
		  char *errbuf, size_t errsz)
{
	struct parser ps = { .p = buf, .end = buf + len, .start = buf,
			     .errbuf = errbuf, .errsz = errsz };
	if (errbuf && errsz)
		errbuf[0] = '\0';
	struct cm_json *j = parse_value(&ps);
	if (j) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			perr(&ps, "trailing data");
	}
	if (ps.err || !j) {
		cm_json_free(j);
		return ps.err ? ps.err : -EINVAL;
	}
	*ret = j;
	return 0;
}

const struct cm_json *cm_json_get(const struct cm_json *obj, const char *key)
{
	if (!obj || obj->type != CM_JSON_OBJECT)
		return NULL;
	for (size_t i = obj->n; i-- > 0;)
		if (strcmp(obj->k[i], key) == 0)
			return obj->v[i];
	return NULL;
}

bool cm_json_is(const struct cm_json *v, enum cm_json_type t)
{
	return v && v->type == t;
}

const char *cm_json_str(const struct cm_json *v)
{
	return v && v->type == CM_JSON_STRING ? v->s : NULL;
}

const char *cm_json_get_str(const struct cm_json *obj, const char *key)
{
	return cm_json_str(cm_json_get(obj, key));
}

bool cm_json_get_int(const struct cm_json *obj, const char *key, int64_t *ret)
{
	const struct cm_json *v = cm_json_get(obj, key);
	if (!v || v->type != CM_JSON_NUMBER || !v->is_int)
		return false;
	*ret = v->i;
	return true;
}

/* ------------------------------------------------------------------ writer */

void cm_jw_init(struct cm_jw *w, int indent)
{
	memset(w, 0, sizeof(*w));
	w->indent = indent;
	w->first[0] = true;
}

void cm_jw_free(struct cm_jw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

static void put(struct cm_jw *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t nc = w->cap ? w->cap : 256;
		while (nc < w->len + n + 1)
			nc *= 2;
		char *nb = realloc(w->buf, nc);
		if (!nb) {
			w->err = -ENOMEM;
			return;
		}
		w->buf = nb;
		w->cap = nc;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void puts_(struct cm_jw *w, const char *s)
{
	put(w, s, strlen(s));
}

static void newline(struct cm_jw *w)
{
	if (!w->indent)
		return;
	put(w, "\n", 1);
	for (int i = 0; i < w->depth * w->indent; i++)
		put(w, " ", 1);
}

/* Before any value or key: comma and indentation. */
static void pre(struct cm_jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth])
			put(w, ",", 1);
		newline(w);
	}
	w->first[w->depth] = false;
}

static void open_(struct cm_jw *w, const char *c)
{
	pre(w);
	puts_(w, c);
	if (w->depth >= CM_JSON_MAX_DEPTH) {
		w->err = -EINVAL;
		return;
	}
	w->depth++;
	w->first[w->depth] = true;
}

static void close_(struct cm_jw *w, const char *c)
{
	bool empty = w->first[w->depth];
	if (w->depth > 0)
		w->depth--;
	if (!empty)
		newline(w);
	puts_(w, c);
}

void cm_jw_obj(struct cm_jw *w) { open_(w, "{"); }
void cm_jw_obj_end(struct cm_jw *w) { close_(w, "}"); }
void cm_jw_arr(struct cm_jw *w) { open_(w, "["); }
void cm_jw_arr_end(struct cm_jw *w) { close_(w, "]"); }

static void put_escaped(struct cm_jw *w, const char *s)
{
	put(w, "\"", 1);
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;
		char ubuf[8];
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\t')
			esc = "\\t";
		else if (c == '\r')
			esc = "\\r";
		else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			/* docker (Go) escapes <, >, & as \u003c... */
			snprintf(ubuf, sizeof(ubuf), "\\u%04x", c);
			esc = ubuf;
		}
		if (esc) {
			put(w, run, (size_t)(s - run));
			puts_(w, esc);
			run = s + 1;
		}
	}
	put(w, run, (size_t)(s - run));
	put(w, "\"", 1);
}

void cm_jw_key(struct cm_jw *w, const char *key)
{
	pre(w);
	put_escaped(w, key);
	put(w, w->indent ? ": " : ":", w->indent ? 2 : 1);
	w->after_key = true;
}

void cm_jw_str(struct cm_jw *w, const char *s)
{
	pre(w);
	put_escaped(w, s ? s : "");
}

void cm_jw_int(struct cm_jw *w, int64_t v)
{
	char b[32];
	pre(w);
	snprintf(b, sizeof(b), "%" PRId64, v);
	puts_(w, b);
}

void cm_jw_bool(struct cm_jw *w, bool v)
{
	pre(w);
	puts_(w, v ? "true" : "false");
}

void cm_jw_null(struct cm_jw *w)
{
	pre(w);
	puts_(w, "null");
}

void cm_jw_kstr(struct cm_jw *w, const char *key, const char *s)
{
	cm_jw_key(w, key);
	cm_jw_str(w, s);
}

void cm_jw_kint(struct cm_jw *w, const char *key, int64_t v)
{
	cm_jw_key(w, key);
	cm_jw_int(w, v);
}

void cm_jw_value(struct cm_jw *w, const struct cm_json *v)
{
	if (!v) {
		cm_jw_null(w);
		return;
	}
	switch (v->type) {
	case CM_JSON_NULL: cm_jw_null(w); break;
	case CM_JSON_BOOL: cm_jw_bool(w, v->b); break;
	case CM_JSON_NUMBER: pre(w); puts_(w, v->s); break;
	case CM_JSON_STRING: cm_jw_str(w, v->s); break;
	case CM_JSON_ARRAY:
		cm_jw_arr(w);
		for (size_t i = 0; i < v->n; i++)
			cm_jw_value(w, v->v[i]);
		cm_jw_arr_end(w);
		break;
	case CM_JSON_OBJECT:
		cm_jw_obj(w);
		for (size_t i = 0; i < v->n; i++) {
			cm_jw_key(w, v->k[i]);
			cm_jw_value(w, v->v[i]);
		}
		cm_jw_obj_end(w);
		break;
	}
}

int cm_jw_finish(struct cm_jw *w, char **ret, size_t *ret_len)
{
	put(w, "", 0);
	if (!w->buf && !w->err) {
		w->buf = strdup("");
		if (!w->buf)
			w->err = -ENOMEM;
	}
	if (w->err) {
		int r = w->err;
		cm_jw_free(w);
		return r;
	}
	*ret = w->buf;
	if (ret_len)
		*ret_len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return 0;
}
