// SPDX-License-Identifier: MIT
/* Go's text/template, the subset docker's --format uses (cm-template.h):
 * the values and a recursive-descent parser to a small tree (the tree walk
 * that executes it is cm-template-exec.c). */
#include "cm-template-internal.h"
#include "cm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void pipe_free(struct pipe *p);

static void arg_clear(struct arg *a)
{
	free(a->name);
	for (size_t i = 0; i < a->nchain; i++)
		free(a->chain[i]);
	free(a->chain);
	cm_json_free(a->lit);
	pipe_free(a->pipe);
}

static void pipe_free(struct pipe *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ndecl; i++)
		free(p->decl[i]);
	for (size_t i = 0; i < p->n; i++) {
		for (size_t k = 0; k < p->cmds[i].n; k++)
			arg_clear(&p->cmds[i].args[k]);
		free(p->cmds[i].args);
	}
	free(p->cmds);
	free(p);
}

static void list_clear(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].text);
		pipe_free(l->v[i].pipe);
		list_clear(&l->v[i].body);
		list_clear(&l->v[i].alt);
	}
	free(l->v);
}

void cm_tpl_free(struct cm_tpl *t)
{
	if (!t)
		return;
	list_clear(&t->root);
	free(t->src);
	free(t);
}

void cm_tpl_freep(struct cm_tpl **t)
{
	cm_tpl_free(*t);
}

/* grow *v (n elements of sz) by one zeroed element */
void *cm_tpl_grow(void *pv, size_t *n, size_t sz)
{
	void **v = pv;
	char *nv = realloc(*v, (*n + 1) * sz);
	if (!nv)
		return NULL;
	memset(nv + *n * sz, 0, sz);
	*v = nv;
	return nv + (*n)++ * sz;
}

/* ------------------------------------------------------------ values */

struct cm_json *cm_tpl_jnew(enum cm_json_type t)
{
	struct cm_json *j = calloc(1, sizeof(*j));
	if (j)
		j->type = t;
	return j;
}

struct cm_json *cm_tpl_jstr(const char *s, size_t n)
{
	struct cm_json *j = cm_tpl_jnew(CM_JSON_STRING);
	if (j && !(j->s = strndup(s, n))) {
		free(j);
		return NULL;
	}
	return j;
}

struct cm_json *cm_tpl_jint(int64_t v)
{
	struct cm_json *j = cm_tpl_jnew(CM_JSON_NUMBER);
	if (j) {
		j->is_int = true;
		j->i = v;
		j->d = (double)v;
	}
	return j;
}

int cm_tpl_jpush(struct cm_json *arr, const char *key, struct cm_json *v)
{
	struct cm_json **nv = realloc(arr->v, (arr->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	arr->v = nv;
	if (key) {
		char **nk = realloc(arr->k, (arr->n + 1) * sizeof(*nk));
		if (!nk)
			return -ENOMEM;
		arr->k = nk;
		if (!(nk[arr->n] = strdup(key)))
			return -ENOMEM;
	}
	arr->v[arr->n++] = v;
	return 0;
}

struct cm_json *cm_tpl_strmap(const char *const *kv, size_t n)
{
	struct cm_json *o = cm_tpl_jnew(CM_JSON_OBJECT);
	for (size_t i = 0; o && i < n; i++) {
		struct cm_json *v = cm_tpl_jstr(kv[2 * i + 1], strlen(kv[2 * i + 1]));
		if (!v || cm_tpl_jpush(o, kv[2 * i], v) < 0) {
			cm_json_free(v);
			cm_json_free(o);
			return NULL;
		}
	}
	return o;
}

int cm_tpl_out_put(struct cm_tpl_out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t c = o->cap ? o->cap : 256;
		while (c < o->len + n + 1)
			c *= 2;
		char *ns = realloc(o->s, c);
		if (!ns)
			return -ENOMEM;
		o->s = ns;
		o->cap = c;
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
	return 0;
}

int cm_tpl_out_puts(struct cm_tpl_out *o, const char *s)
{
	return cm_tpl_out_put(o, s, strlen(s));
}

/* Go's type of a decoded JSON value, for error messages */
const char *cm_tpl_go_type(const struct cm_json *v)
{
	if (!v || v->type == CM_JSON_NULL)
		return "<nil>";
	switch (v->type) {
	case CM_JSON_BOOL: return "bool";
	case CM_JSON_NUMBER: return v->is_int ? "int" : "float64";
	case CM_JSON_STRING: return "string";
	case CM_JSON_ARRAY: return "[]interface {}";
	default: return "map[string]interface {}";
	}
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* fmt's %v */
int cm_tpl_print(struct cm_tpl_out *o, const struct cm_json *v, int depth)
{
	char b[64];
	if (!v)
		return cm_tpl_out_puts(o, "<no value>");
	if (depth > CM_JSON_MAX_DEPTH)
		return 0;
	switch (v->type) {
	case CM_JSON_NULL: return cm_tpl_out_puts(o, "<nil>");
	case CM_JSON_BOOL: return cm_tpl_out_puts(o, v->b ? "true" : "false");
	case CM_JSON_NUMBER:
		if (v->is_int)
			snprintf(b, sizeof(b), "%lld", (long long)v->i);
		else
			snprintf(b, sizeof(b), "%.17g", v->d);
		if (!v->is_int) { /* shortest text that reads back the same */
			for (int p = 1; p <= 17; p++) {
				snprintf(b, sizeof(b), "%.*g", p, v->d);
				if (strtod(b, NULL) == v->d)
					break;
			}
		}
		return cm_tpl_out_puts(o, b);
	case CM_JSON_STRING: return cm_tpl_out_puts(o, v->s);
	case CM_JSON_ARRAY: {
		int r = cm_tpl_out_puts(o, "[");
		for (size_t i = 0; r == 0 && i < v->n; i++)
			if ((r = cm_tpl_out_puts(o, i ? " " : "")) == 0)
				r = cm_tpl_print(o, v->v[i], depth + 1);
		return r ? r : cm_tpl_out_puts(o, "]");
	}
	default: {
		/* map keys in order, as fmt prints maps */
		char ***order = calloc(v->n ? v->n : 1, sizeof(*order));
		if (!order)
			return -ENOMEM;
		for (size_t i = 0; i < v->n; i++)
			order[i] = &v->k[i];
		qsort(order, v->n, sizeof(order[0]), cmp_keys);
		int r = cm_tpl_out_puts(o, "map[");
		for (size_t i = 0; r == 0 && i < v->n; i++) {
			size_t k = (size_t)(order[i] - v->k);
			if ((r = cm_tpl_out_puts(o, i ? " " : "")) == 0 && (r = cm_tpl_out_puts(o, v->k[k])) == 0 &&
			    (r = cm_tpl_out_puts(o, ":")) == 0)
				r = cm_tpl_print(o, v->v[k], depth + 1);
		}
		free(order);
		return r ? r : cm_tpl_out_puts(o, "]");
	}
	}
}

bool cm_tpl_truth(const struct cm_json *v)
{
	if (!v)
		return false;
	switch (v->type) {
	case CM_JSON_NULL: return false;
	case CM_JSON_BOOL: return v->b;
	case CM_JSON_NUMBER: return v->d != 0;
	case CM_JSON_STRING: return v->s[0] != '\0';
	default: return v->n > 0;
	}
}

/* ------------------------------------------------------------ parsing */

struct parser {
	const char *src;
	size_t p;
	int nest;
	const char *vars[MAX_VARS]; /* declared so far, in scope ($ is always) */
	size_t nvars;
	bool trim_next; /* the last action ended with -}} */
	char *err;
	size_t errsz;
	int rc;
};

int cm_tpl_line_of(const char *src, size_t pos)
{
	int l = 1;
	for (size_t i = 0; i < pos && src[i]; i++)
		l += src[i] == '\n';
	return l;
}

__attribute__((format(printf, 2, 3)))
static int perr(struct parser *ps, const char *fmt, ...)
{
	if (ps->rc)
		return ps->rc;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err)
		snprintf(ps->err, ps->errsz, "template: :%d: %s", cm_tpl_line_of(ps->src, ps->p), msg);
	return ps->rc = -EINVAL;
}

static int nomem(struct parser *ps)
{
	if (!ps->rc && ps->err)
		snprintf(ps->err, ps->errsz, "out of memory");
	return ps->rc = ps->rc ? ps->rc : -ENOMEM;
}

bool cm_tpl_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void skip_sp(struct parser *ps)
{
	while (cm_tpl_is_space(ps->src[ps->p]))
		ps->p++;
}

/* at "}}" or " -}}" (the space before '-' already skipped) */
static bool at_close(struct parser *ps)
{
	const char *s = ps->src + ps->p;
	return strncmp(s, "}}", 2) == 0 ||
	       (s[0] == '-' && s[1] == '}' && s[2] == '}' && ps->p > 0 && cm_tpl_is_space(s[-1]));
}

static void eat_close(struct parser *ps)
{
	if (ps->src[ps->p] == '-') {
		ps->trim_next = true;
		ps->p++;
	}
	ps->p += 2;
}

static const char *const funcs[] = {
	"and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne", "lt",
	"le", "gt", "ge", "json", "join", "split", "lower", "upper", "title", "truncate", "pad",
};

static bool known_func(const char *n)
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(funcs); i++)
		if (strcmp(funcs[i], n) == 0)
			return true;
	return false;
}

static char *read_ident(struct parser *ps)
{
	size_t s = ps->p;
	while (is_ident(ps->src[ps->p]))
		ps->p++;
	char *n = strndup(ps->src + s, ps->p - s);
	if (!n)
		nomem(ps);
	return n;
}

/* .A.B directly after an operand */
static int parse_chain(struct parser *ps, struct arg *a)
{
	while (ps->src[ps->p] == '.' && is_ident(ps->src[ps->p + 1])) {
		ps->p++;
		char **slot = cm_tpl_grow(&a->chain, &a->nchain, sizeof(char *));
		if (!slot || !(*slot = read_ident(ps)))
			return nomem(ps);
	}
	return 0;
}

/* a quoted string with Go's escapes, or a `raw` one */
static int parse_string(struct parser *ps, struct arg *a)
{
	char q = ps->src[ps->p++];
	struct cm_tpl_out b = { 0 };
	for (;;) {
		char c = ps->src[ps->p];
		if (!c || (c == '\n' && q == '"')) {
			free(b.s);
			return perr(ps, "unterminated quoted string");
		}
		ps->p++;
		if (c == q)
			break;
		if (c == '\\' && q == '"') {
			char e = ps->src[ps->p++], x;
			switch (e) {
			case 'n': x = '\n'; break;
			case 't': x = '\t'; break;
			case 'r': x = '\r'; break;
			case '\\': x = '\\'; break;
			case '"': x = '"'; break;
			case '\'': x = '\''; break;
			default:
				free(b.s);
				return perr(ps, "invalid syntax");
			}
			c = x;
		}
		if (cm_tpl_out_put(&b, &c, 1) < 0) {
			free(b.s);
			return nomem(ps);
		}
	}
	a->kind = A_LIT;
	a->lit = cm_tpl_jstr(b.s ? b.s : "", b.len);
	free(b.s);
	return a->lit ? 0 : nomem(ps);
}

static int parse_number(struct parser *ps, struct arg *a)
{
	const char *s = ps->src + ps->p;
	char *end;
	errno = 0;
	long long i = strtoll(s, &end, 0);
	a->kind = A_LIT;
	if (end > s && !strchr(".eE", *end) && errno == 0) {
		a->lit = cm_tpl_jint(i);
	} else {
		double d = strtod(s, &end);
		if (end == s)
			return perr(ps, "bad number syntax: %.10s", s);
		if ((a->lit = cm_tpl_jnew(CM_JSON_NUMBER))) {
			a->lit->d = d;
			a->lit->is_int = d > -9e15 && d < 9e15 && d == (double)(int64_t)d;
			a->lit->i = (int64_t)d;
		}
	}
	ps->p += (size_t)(end - s);
	if (is_ident(ps->src[ps->p]))
		return perr(ps, "bad number syntax: %.10s", s);
	return a->lit ? 0 : nomem(ps);
}

static struct pipe *parse_pipe(struct parser *ps, bool in_parens, bool decls);

static int parse_operand(struct parser *ps, struct arg *a)
{
	const char *s = ps->src + ps->p;
	a->pos = ps->p;
	if (s[0] == '.') {
		ps->p++;
		a->kind = is_ident(s[1]) ? A_FIELD : A_DOT;
		if (a->kind == A_FIELD) {
			ps->p--;
			if (parse_chain(ps, a) < 0)
				return ps->rc;
		}
	} else if (s[0] == '$') {
		ps->p++;
		a->kind = A_VAR;
		size_t st = ps->p - 1;
		while (is_ident(ps->src[ps->p]))
			ps->p++;
		if (!(a->name = strndup(ps->src + st, ps->p - st)))
			return nomem(ps);
		bool known = strcmp(a->name, "$") == 0;
		for (size_t i = 0; !known && i < ps->nvars; i++)
			known = strcmp(ps->vars[i], a->name) == 0;
		if (!known)
			return perr(ps, "undefined variable \"%s\"", a->name);
		if (parse_chain(ps, a) < 0)
			return ps->rc;
	} else if (s[0] == '"' || s[0] == '`') {
		if (parse_string(ps, a) < 0)
			return ps->rc;
	} else if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+') && s[1] >= '0' && s[1] <= '9')) {
		if (parse_number(ps, a) < 0)
			return ps->rc;
	} else if (s[0] == '(') {
		ps->p++;
		if (++ps->nest > MAX_NEST)
			return perr(ps, "too deeply nested");
		a->kind = A_PIPE;
		if (!(a->pipe = parse_pipe(ps, true, false)))
			return ps->rc;
		ps->nest--;
		if (parse_chain(ps, a) < 0)
			return ps->rc;
	} else if (is_ident(s[0])) {
		char *n = read_ident(ps);
		if (!n)
			return ps->rc;
		if (strcmp(n, "true") == 0 || strcmp(n, "false") == 0) {
			a->kind = A_LIT;
			if ((a->lit = cm_tpl_jnew(CM_JSON_BOOL)))
				a->lit->b = n[0] == 't';
			free(n);
			return a->lit ? 0 : nomem(ps);
		}
		if (strcmp(n, "nil") == 0) {
			a->kind = A_LIT;
			free(n);
			return (a->lit = cm_tpl_jnew(CM_JSON_NULL)) ? 0 : nomem(ps);
		}
		if (!known_func(n)) {
			perr(ps, "function \"%s\" not defined", n);
			free(n);
			return ps->rc;
		}
		a->kind = A_FUNC;
		a->name = n;
	} else if (!*s) {
		return perr(ps, "unclosed action");
	} else {
		return perr(ps, "unexpected \"%c\" in operand", s[0]);
	}
	a->end = ps->p;
	return 0;
}

/* [$a[, $b] := | =] cmd ('|' cmd)*, up to "}}" (or ")" in parentheses) */
static struct pipe *parse_pipe(struct parser *ps, bool in_parens, bool decls)
{
	struct pipe *p = calloc(1, sizeof(*p));
	if (!p) {
		nomem(ps);
		return NULL;
	}
	skip_sp(ps);
	/* declarations: look ahead for $x[, $y] := or = */
	size_t save = ps->p;
	while (!in_parens && ps->src[ps->p] == '$' && p->ndecl < 2) {
		size_t st = ps->p++;
		while (is_ident(ps->src[ps->p]))
			ps->p++;
		size_t en = ps->p;
		skip_sp(ps);
		char c = ps->src[ps->p];
		bool comma = c == ',' && decls, def = strncmp(ps->src + ps->p, ":=", 2) == 0,
		     set = c == '=' && ps->src[ps->p + 1] != '=';
		if (!comma && !def && !set)
			break;
		if (!(p->decl[p->ndecl++] = strndup(ps->src + st, en - st))) {
			pipe_free(p);
			nomem(ps);
			return NULL;
		}
		ps->p += def ? 2 : 1;
		skip_sp(ps);
		if (!comma) {
			p->assign = set;
			save = ps->p;
			break;
		}
	}
	if (p->ndecl && save != ps->p) { /* no := after all: operands */
		for (size_t i = 0; i < p->ndecl; i++)
			free(p->decl[i]);
		p->ndecl = 0;
	}
	ps->p = save;
	for (;;) {
		struct cmd *c = cm_tpl_grow(&p->cmds, &p->n, sizeof(*c));
		if (!c) {
			nomem(ps);
			goto fail;
		}
		skip_sp(ps);
		c->pos = ps->p;
		for (;;) {
			skip_sp(ps);
			char ch = ps->src[ps->p];
			if (ch == '|' || (in_parens && ch == ')') || (!in_parens && at_close(ps)))
				break;
			if (!ch) {
				perr(ps, "unclosed action");
				goto fail;
			}
			if (c->n && !cm_tpl_is_space(ps->src[ps->p - 1]) && ps->src[ps->p - 1] != '(') {
				perr(ps, "unexpected \"%c\" in operand", ch);
				goto fail;
			}
			struct arg *a = cm_tpl_grow(&c->args, &c->n, sizeof(*a));
			if (!a) {
				nomem(ps);
				goto fail;
			}
			if (parse_operand(ps, a) < 0)
				goto fail;
		}
		c->end = ps->p;
		while (c->end > c->pos && cm_tpl_is_space(ps->src[c->end - 1]))
			c->end--;
		if (!c->n) {
			perr(ps, "missing value for command");
			goto fail;
		}
		if (ps->src[ps->p] != '|')
			break;
		ps->p++;
	}
	if (in_parens)
		ps->p++; /* ')' */
	/* declared names are in scope from here to the end of the list */
	for (size_t i = 0; !p->assign && i < p->ndecl; i++) {
		if (ps->nvars == MAX_VARS) {
			perr(ps, "too many variables");
			goto fail;
		}
		ps->vars[ps->nvars++] = p->decl[i];
	}
	for (size_t i = 0; p->assign && i < p->ndecl; i++) {
		bool known = false;
		for (size_t k = 0; !known && k < ps->nvars; k++)
			known = strcmp(ps->vars[k], p->decl[i]) == 0;
		if (!known) {
			perr(ps, "undefined variable \"%s\"", p->decl[i]);
			goto fail;
		}
	}
	return p;
fail:
	pipe_free(p);
	return NULL;
}

/* What ended a list: the end of the text, {{end}} or {{else}}. */
enum stop { S_EOF, S_END, S_ELSE };

static int parse_list(struct parser *ps, struct list *l, enum stop *how, size_t *else_at);

/* if / range / with: pipeline, body, [else ...], end */
static int parse_control(struct parser *ps, struct list *l, enum node_kind k)
{
	if (++ps->nest > MAX_NEST)
		return perr(ps, "too deeply nested");
	struct node *n = cm_tpl_grow(&l->v, &l->n, sizeof(*n));
	if (!n)
		return nomem(ps);
	n->kind = k;
	size_t mark = ps->nvars; /* the pipeline's variables: this structure's */
	if (!(n->pipe = parse_pipe(ps, false, k == N_RANGE)))
		return ps->rc;
	eat_close(ps);
	enum stop how;
	size_t else_at;
	/* n may move when l grows: only l's last element is ours */
	if (parse_list(ps, &l->v[l->n - 1].body, &how, &else_at) < 0)
		return ps->rc;
	n = &l->v[l->n - 1];
	if (how == S_EOF)
		return perr(ps, "unexpected EOF");
	if (how == S_ELSE) {
		/* {{else if ...}} / {{else with ...}}: a nested one, same {{end}} */
		ps->p = else_at;
		skip_sp(ps);
		if (strncmp(ps->src + ps->p, "if", 2) == 0 && cm_tpl_is_space(ps->src[ps->p + 2])) {
			ps->p += 2;
			if (parse_control(ps, &n->alt, N_IF) < 0)
				return ps->rc;
		} else if (strncmp(ps->src + ps->p, "with", 4) == 0 && cm_tpl_is_space(ps->src[ps->p + 4])) {
			ps->p += 4;
			if (parse_control(ps, &n->alt, N_WITH) < 0)
				return ps->rc;
		} else {
			if (!at_close(ps))
				return perr(ps, "unexpected \"%c\" in else", ps->src[ps->p]);
			eat_close(ps);
			if (parse_list(ps, &n->alt, &how, &else_at) < 0)
				return ps->rc;
			if (how != S_END)
				return perr(ps, how == S_EOF ? "unexpected EOF" : "expected end; found {{else}}");
		}
	}
	ps->nvars = mark;
	ps->nest--;
	return 0;
}

static int parse_list_in(struct parser *ps, struct list *l, enum stop *how, size_t *else_at);

/* a list is a scope: variables declared in it end with it */
static int parse_list(struct parser *ps, struct list *l, enum stop *how, size_t *else_at)
{
	size_t mark = ps->nvars;
	int r = parse_list_in(ps, l, how, else_at);
	ps->nvars = mark;
	return r;
}

static int parse_list_in(struct parser *ps, struct list *l, enum stop *how, size_t *else_at)
{
	for (;;) {
		const char *s = ps->src + ps->p;
		const char *open = strstr(s, "{{");
		size_t tl = open ? (size_t)(open - s) : strlen(s);
		const char *t = s;
		if (ps->trim_next) {
			while (tl && cm_tpl_is_space(*t)) {
				t++;
				tl--;
			}
			ps->trim_next = false;
		}
		bool trim = open && open[2] == '-' && cm_tpl_is_space(open[3]);
		if (trim)
			while (tl && cm_tpl_is_space(t[tl - 1]))
				tl--;
		if (tl) {
			struct node *n = cm_tpl_grow(&l->v, &l->n, sizeof(*n));
			if (!n || !(n->text = strndup(t, tl)))
				return nomem(ps);
			n->kind = N_TEXT;
			n->len = tl;
		}
		if (!open) {
			ps->p += strlen(s);
			*how = S_EOF;
			return 0;
		}
		ps->p = (size_t)(open - ps->src) + 2 + (trim ? 2 : 0);
		skip_sp(ps);
		const char *a = ps->src + ps->p;
		if (strncmp(a, "/*", 2) == 0) {
			const char *e = strstr(a + 2, "*/");
			if (!e)
				return perr(ps, "unclosed comment");
			ps->p = (size_t)(e - ps->src) + 2;
			skip_sp(ps);
			if (!at_close(ps))
				return perr(ps, "comment ends before closing delimiter");
			eat_close(ps);
			continue;
		}
		size_t kw = 0;
		while (is_ident(a[kw]))
			kw++;
		bool word_end = !a[kw] || cm_tpl_is_space(a[kw]) || a[kw] == '}' || a[kw] == '-';
		if (word_end && kw == 3 && strncmp(a, "end", 3) == 0) {
			ps->p += 3;
			skip_sp(ps);
			if (!at_close(ps))
				return perr(ps, "unexpected \"%c\" in end", ps->src[ps->p]);
			eat_close(ps);
			*how = S_END;
			return 0;
		}
		if (word_end && kw == 4 && strncmp(a, "else", 4) == 0) {
			*else_at = ps->p + 4;
			*how = S_ELSE;
			return 0;
		}
		enum node_kind k = N_ACTION;
		if (word_end && kw == 2 && strncmp(a, "if", 2) == 0)
			k = N_IF;
		else if (word_end && kw == 5 && strncmp(a, "range", 5) == 0)
			k = N_RANGE;
		else if (word_end && kw == 4 && strncmp(a, "with", 4) == 0)
			k = N_WITH;
		else if (word_end && kw &&
			 (strncmp(a, "define", kw) == 0 || strncmp(a, "template", kw) == 0 ||
			  strncmp(a, "block", kw) == 0 || strncmp(a, "break", kw) == 0 ||
			  strncmp(a, "continue", kw) == 0))
			return perr(ps, "{{%.*s}} is not supported by img", (int)kw, a);
		if (k != N_ACTION) {
			ps->p += kw;
			if (parse_control(ps, l, k) < 0)
				return ps->rc;
			continue;
		}
		struct node *n = cm_tpl_grow(&l->v, &l->n, sizeof(*n));
		if (!n)
			return nomem(ps);
		n->kind = N_ACTION;
		if (!(n->pipe = parse_pipe(ps, false, false)))
			return ps->rc;
		eat_close(ps);
	}
}

int cm_tpl_parse(const char *text, struct cm_tpl **ret, char *err, size_t errsz)
{
	struct cm_tpl *t = calloc(1, sizeof(*t));
	if (!t || !(t->src = strdup(text))) {
		free(t);
		return -ENOMEM;
	}
	struct parser ps = { .src = t->src, .err = err, .errsz = errsz };
	enum stop how;
	size_t else_at;
	if (parse_list(&ps, &t->root, &how, &else_at) == 0 && how != S_EOF)
		perr(&ps, how == S_END ? "unexpected {{end}}" : "unexpected {{else}}");
	if (ps.rc) {
		cm_tpl_free(t);
		return ps.rc;
	}
	*ret = t;
	return 0;
}
