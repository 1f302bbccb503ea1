// SPDX-License-Identifier: MIT
/* Executing a parsed template (cm-template.h): a tree walk over cm_json
 * values, and the functions. Values made while executing (function
 * results) live in an arena freed at the end, so borrowed and made values
 * mix freely. */
#include "cm-template-internal.h"
#include "cm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct ex {
	const char *src;
	const struct cm_tpl_opts *o;
	const struct cm_json *root;
	struct cm_tpl_out *out;
	struct {
		const char *name;
		const struct cm_json *v;
	} vars[MAX_VARS];
	size_t nvars;
	struct cm_json **arena;
	size_t narena;
	char *err;
	size_t errsz;
	int rc;
};

/* keep a made value until the end of the execution */
static const struct cm_json *keep(struct ex *x, struct cm_json *v)
{
	if (!v || !cm_tpl_grow(&x->arena, &x->narena, sizeof(*x->arena))) {
		cm_json_free(v);
		if (!x->rc && x->err)
			snprintf(x->err, x->errsz, "out of memory");
		x->rc = x->rc ? x->rc : -ENOMEM;
		return NULL;
	}
	return x->arena[x->narena - 1] = v;
}

__attribute__((format(printf, 4, 5)))
static int xerr(struct ex *x, size_t pos, size_t end, const char *fmt, ...)
{
	if (x->rc)
		return x->rc;
	x->rc = -EINVAL;
	if (!x->err)
		return x->rc;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t bol = pos;
	while (bol > 0 && x->src[bol - 1] != '\n')
		bol--;
	snprintf(x->err, x->errsz, "template: :%d:%zu: executing \"\" at <%.*s>: %s",
		 cm_tpl_line_of(x->src, pos), pos - bol, (int)(end - pos), x->src + pos, msg);
	return x->rc;
}

static int eval_pipe(struct ex *x, const struct pipe *p, const struct cm_json *dot, bool declare,
		     const struct cm_json **ret);

/* .name of v */
static int field(struct ex *x, const struct arg *a, const struct cm_json *v, const char *name,
		 const struct cm_json **ret)
{
	if (!v || v->type == CM_JSON_NULL) { /* Go: a missing map value has no fields */
		*ret = NULL;
		return 0;
	}
	if (v->type != CM_JSON_OBJECT)
		return xerr(x, a->pos, a->end, "can't evaluate field %s in type %s", name, cm_tpl_go_type(v));
	const struct cm_json *f = cm_json_get(v, name);
	if (!f && v == x->root && x->o->type_name && !x->o->header)
		return xerr(x, a->pos, a->end, "can't evaluate field %s in type %s", name,
			    x->o->type_name);
	if (!f && x->o->header)
		f = keep(x, cm_tpl_jstr("", 0));
	*ret = f;
	return x->rc;
}

static int eval_arg(struct ex *x, const struct arg *a, const struct cm_json *dot,
		    const struct cm_json **ret)
{
	const struct cm_json *v = NULL;
	switch (a->kind) {
	case A_FIELD:
	case A_DOT:
		v = dot;
		break;
	case A_VAR: {
		size_t i = x->nvars;
		while (i > 0 && strcmp(x->vars[i - 1].name, a->name) != 0)
			i--;
		if (i == 0 && strcmp(a->name, "$") != 0)
			return xerr(x, a->pos, a->end, "undefined variable: %s", a->name);
		v = i ? x->vars[i - 1].v : x->root;
		break;
	}
	case A_LIT:
		v = a->lit;
		break;
	case A_PIPE:
		if (eval_pipe(x, a->pipe, dot, false, &v) < 0)
			return x->rc;
		break;
	case A_FUNC:
		return xerr(x, a->pos, a->end, "can't use function %s as an argument (put it in parentheses)",
			    a->name);
	}
	for (size_t i = 0; i < a->nchain; i++)
		if (field(x, a, v, a->chain[i], &v) < 0)
			return x->rc;
	*ret = v;
	return 0;
}

/* -------- functions */

static const char *as_str(struct ex *x, const struct cmd *c, const char *fn, const struct cm_json *v)
{
	if (v && v->type == CM_JSON_STRING)
		return v->s;
	xerr(x, c->pos, c->end, "error calling %s: wrong type for value; expected string; got %s", fn,
	     v ? cm_tpl_go_type(v) : "<no value>");
	return NULL;
}

static bool as_int(const struct cm_json *v, int64_t *ret)
{
	if (!v || v->type != CM_JSON_NUMBER || !v->is_int)
		return false;
	*ret = v->i;
	return true;
}

static const struct cm_json *printed(struct ex *x, const struct cm_json *v)
{
	struct cm_tpl_out o = { 0 };
	if (cm_tpl_print(&o, v, 0) < 0) {
		free(o.s);
		return keep(x, NULL);
	}
	struct cm_json *s = cm_tpl_jstr(o.s ? o.s : "", o.len);
	free(o.s);
	return keep(x, s);
}

/* compare for eq/lt...: -2 if the kinds cannot be compared */
static int compare(const struct cm_json *a, const struct cm_json *b)
{
	if (!a || !b || a->type != b->type)
		return -2;
	switch (a->type) {
	case CM_JSON_STRING: {
		int c = strcmp(a->s, b->s);
		return c < 0 ? -1 : c > 0;
	}
	case CM_JSON_NUMBER:
		return a->d < b->d ? -1 : a->d > b->d;
	case CM_JSON_BOOL:
		return a->b == b->b ? 0 : 3; /* equal or not, no order */
	default:
		return -2;
	}
}

/* one verb of printf with flags/width/precision in spec ("%-10s"): the C
 * format is built from the checked spec and verb, never from the data */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int printf_one(struct ex *x, struct cm_tpl_out *o, const char *spec, size_t sl, char verb,
		      const struct cm_json *v)
{
	char f[40], b[512];
	if (sl > 30)
		sl = 30;
	switch (verb) {
	case 'd': case 'x': case 'X': case 'o': case 'c': {
		int64_t i;
		if (v && v->type == CM_JSON_NUMBER && !v->is_int && v->d > -9e15 && v->d < 9e15 &&
		    v->d == (double)(int64_t)v->d)
			i = (int64_t)v->d;
		else if (!as_int(v, &i)) {
			if (verb == 'x' && v && v->type == CM_JSON_STRING) {
				for (const unsigned char *p = (const unsigned char *)v->s; *p; p++) {
					snprintf(b, sizeof(b), "%02x", *p);
					if (cm_tpl_out_puts(o, b) < 0)
						return -ENOMEM;
				}
				return 0;
			}
			snprintf(b, sizeof(b), "%%!%c(%s=", verb, cm_tpl_go_type(v));
			if (cm_tpl_out_puts(o, b) < 0 || cm_tpl_print(o, v, 0) < 0)
				return -ENOMEM;
			return cm_tpl_out_puts(o, ")");
		}
		if (verb == 'c') {
			char u[5] = "";
			unsigned cp = (unsigned)i;
			if (cp < 0x80)
				u[0] = (char)cp;
			else if (cp < 0x800)
				snprintf(u, sizeof(u), "%c%c", 0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
			else if (cp < 0x10000)
				snprintf(u, sizeof(u), "%c%c%c", 0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f),
					 0x80 | (cp & 0x3f));
			return cm_tpl_out_puts(o, u);
		}
		snprintf(f, sizeof(f), "%%%.*sll%c", (int)sl, spec, verb);
		snprintf(b, sizeof(b), f, (long long)i);
		break;
	}
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
		if (!v || v->type != CM_JSON_NUMBER) {
			snprintf(b, sizeof(b), "%%!%c(%s)", verb, cm_tpl_go_type(v));
			break;
		}
		snprintf(f, sizeof(f), "%%%.*s%c", (int)sl, spec, verb);
		snprintf(b, sizeof(b), f, v->d);
		break;
	case 't':
		if (v && v->type == CM_JSON_BOOL)
			return cm_tpl_out_puts(o, v->b ? "true" : "false");
		snprintf(b, sizeof(b), "%%!t(%s)", cm_tpl_go_type(v));
		break;
	default: { /* s, v, q */
		const struct cm_json *s = printed(x, v);
		if (!s)
			return -ENOMEM;
		if (verb == 'q') {
			struct cm_jw w;
			char *q = NULL;
			cm_jw_init(&w, 0);
			cm_jw_str(&w, s->s);
			if (cm_jw_finish(&w, &q, NULL) < 0)
				return -ENOMEM;
			int r = cm_tpl_out_puts(o, q);
			free(q);
			return r;
		}
		if (!sl)
			return cm_tpl_out_puts(o, s->s);
		snprintf(f, sizeof(f), "%%%.*ss", (int)sl, spec);
		snprintf(b, sizeof(b), f, s->s);
		break;
	}
	}
	return cm_tpl_out_puts(o, b);
}
#pragma GCC diagnostic pop

static int do_printf(struct ex *x, const char *fmt, const struct cm_json *const *av, size_t n,
		     struct cm_tpl_out *o)
{
	size_t used = 0;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			if (cm_tpl_out_put(o, p, 1) < 0)
				return -ENOMEM;
			continue;
		}
		const char *spec = ++p;
		while (*p && strchr("-+# 0123456789.", *p))
			p++;
		if (!*p)
			return cm_tpl_out_puts(o, "%!(NOVERB)");
		if (*p == '%') {
			if (cm_tpl_out_puts(o, "%") < 0)
				return -ENOMEM;
			continue;
		}
		if (used >= n) {
			char m[32];
			snprintf(m, sizeof(m), "%%!%c(MISSING)", *p);
			if (cm_tpl_out_puts(o, m) < 0)
				return -ENOMEM;
			continue;
		}
		if (printf_one(x, o, spec, (size_t)(p - spec), *p, av[used++]) < 0)
			return -ENOMEM;
	}
	if (used < n) {
		if (cm_tpl_out_puts(o, "%!(EXTRA ") < 0)
			return -ENOMEM;
		for (size_t i = used; i < n; i++) {
			char m[64];
			snprintf(m, sizeof(m), "%s%s=", i > used ? ", " : "", cm_tpl_go_type(av[i]));
			if (cm_tpl_out_puts(o, m) < 0 || cm_tpl_print(o, av[i], 0) < 0)
				return -ENOMEM;
		}
		return cm_tpl_out_puts(o, ")");
	}
	return 0;
}

static int call(struct ex *x, const struct cmd *c, const char *fn, const struct cm_json *const *av,
		size_t n, const struct cm_json **ret)
{
	struct cm_tpl_out o = { 0 };
	const struct cm_json *r = NULL;
	int64_t k;
#define NEED(lo, hi)                                                                               \
	do {                                                                                       \
		if (n < (lo) || n > (hi))                                                          \
			return xerr(x, c->pos, c->end, "wrong number of args for %s: want %d got %zu", \
				    fn, (int)(lo), n);                                             \
	} while (0)
	/* docker's HeaderFunctions: its own functions pass the column name
	 * through; Go's builtins (printf, index...) run on the names */
	static const char *const docker_fns[] = { "json", "join", "split", "lower", "upper",
						  "title", "truncate", "pad" };
	for (size_t i = 0; x->o->header && i < CM_ARRAY_SIZE(docker_fns); i++)
		if (strcmp(fn, docker_fns[i]) == 0) {
			*ret = n ? av[0] : keep(x, cm_tpl_jstr("", 0));
			return x->rc;
		}
	if (strcmp(fn, "and") == 0 || strcmp(fn, "or") == 0) {
		NEED(1, SIZE_MAX);
		bool want = fn[0] == 'o';
		r = av[n - 1];
		for (size_t i = 0; i < n; i++)
			if (cm_tpl_truth(av[i]) == want) {
				r = av[i];
				break;
			}
	} else if (strcmp(fn, "not") == 0) {
		NEED(1, 1);
		struct cm_json *b = cm_tpl_jnew(CM_JSON_BOOL);
		if (b)
			b->b = !cm_tpl_truth(av[0]);
		r = keep(x, b);
	} else if (strcmp(fn, "len") == 0) {
		NEED(1, 1);
		const struct cm_json *v = av[0];
		if (!v || (v->type != CM_JSON_STRING && v->type != CM_JSON_ARRAY && v->type != CM_JSON_OBJECT))
			return xerr(x, c->pos, c->end, "error calling len: len of type %s", cm_tpl_go_type(v));
		r = keep(x, cm_tpl_jint((int64_t)(v->type == CM_JSON_STRING ? strlen(v->s) : v->n)));
	} else if (strcmp(fn, "index") == 0) {
		NEED(1, SIZE_MAX);
		r = av[0];
		for (size_t i = 1; i < n; i++) {
			if (!r || r->type == CM_JSON_NULL)
				return xerr(x, c->pos, c->end, "error calling index: index of untyped nil");
			if (r->type == CM_JSON_ARRAY && as_int(av[i], &k)) {
				if (k < 0 || (size_t)k >= r->n)
					return xerr(x, c->pos, c->end,
						    "error calling index: index out of range: %lld", (long long)k);
				r = r->v[k];
			} else if (r->type == CM_JSON_OBJECT && av[i] && av[i]->type == CM_JSON_STRING) {
				r = cm_json_get(r, av[i]->s);
			} else {
				return xerr(x, c->pos, c->end, "error calling index: cannot index %s with %s",
					    cm_tpl_go_type(r), cm_tpl_go_type(av[i]));
			}
		}
	} else if (strcmp(fn, "print") == 0 || strcmp(fn, "println") == 0) {
		bool ln = fn[5] == 'l';
		for (size_t i = 0; i < n; i++) {
			bool str = av[i] && av[i]->type == CM_JSON_STRING;
			bool pstr = i && av[i - 1] && av[i - 1]->type == CM_JSON_STRING;
			if (i && (ln || (!str && !pstr)) && cm_tpl_out_puts(&o, " ") < 0)
				goto nomem;
			if (cm_tpl_print(&o, av[i], 0) < 0)
				goto nomem;
		}
		if (ln && cm_tpl_out_puts(&o, "\n") < 0)
			goto nomem;
		goto string;
	} else if (strcmp(fn, "printf") == 0) {
		NEED(1, SIZE_MAX);
		const char *f = as_str(x, c, fn, av[0]);
		if (!f)
			return x->rc;
		if (do_printf(x, f, av + 1, n - 1, &o) < 0)
			goto nomem;
		goto string;
	} else if (strcmp(fn, "eq") == 0 || strcmp(fn, "ne") == 0 || strcmp(fn, "lt") == 0 ||
		   strcmp(fn, "le") == 0 || strcmp(fn, "gt") == 0 || strcmp(fn, "ge") == 0) {
		NEED(2, fn[0] == 'e' ? SIZE_MAX : 2);
		bool res = false;
		for (size_t i = 1; i < n; i++) {
			int cmp = compare(av[0], av[i]);
			if (cmp == -2 || (cmp == 3 && fn[0] != 'e' && fn[0] != 'n'))
				return xerr(x, c->pos, c->end, "error calling %s: incompatible types for comparison",
					    fn);
			bool lt = cmp == -1, eq = cmp == 0;
			res |= strcmp(fn, "eq") == 0 ? eq : strcmp(fn, "ne") == 0 ? !eq :
			       strcmp(fn, "lt") == 0 ? lt : strcmp(fn, "le") == 0 ? lt || eq :
			       strcmp(fn, "gt") == 0 ? !lt && !eq : !lt;
		}
		struct cm_json *b = cm_tpl_jnew(CM_JSON_BOOL);
		if (b)
			b->b = res;
		r = keep(x, b);
	} else if (strcmp(fn, "json") == 0) {
		NEED(1, 1);
		struct cm_jw w;
		char *j = NULL;
		size_t jl = 0;
		cm_jw_init(&w, 0);
		if (av[0])
			cm_jw_value(&w, av[0]);
		else
			cm_jw_null(&w);
		if (cm_jw_finish(&w, &j, &jl) < 0)
			goto nomem;
		/* docker's json turns Go's HTML escaping off: \u003c \u003e
		 * \u0026 back to < > & (an escaped backslash stays a pair) */
		size_t o2 = 0;
		for (size_t i = 0; i < jl; i++) {
			if (j[i] == '\\' && i + 5 < jl && j[i + 1] == 'u' &&
			    (strncmp(j + i + 2, "003c", 4) == 0 || strncmp(j + i + 2, "003e", 4) == 0 ||
			     strncmp(j + i + 2, "0026", 4) == 0)) {
				j[o2++] = j[i + 5] == 'c' ? '<' : j[i + 5] == 'e' ? '>' : '&';
				i += 5;
			} else if (j[i] == '\\' && i + 1 < jl) {
				j[o2++] = j[i++];
				j[o2++] = j[i];
			} else {
				j[o2++] = j[i];
			}
		}
		r = keep(x, cm_tpl_jstr(j, o2));
		free(j);
	} else if (strcmp(fn, "join") == 0) {
		NEED(2, 2);
		const char *sep = as_str(x, c, fn, av[1]);
		if (!sep)
			return x->rc;
		if (!av[0] || av[0]->type != CM_JSON_ARRAY)
			return xerr(x, c->pos, c->end,
				    "error calling join: wrong type for value; expected []string; got %s",
				    cm_tpl_go_type(av[0]));
		for (size_t i = 0; i < av[0]->n; i++)
			if ((i && cm_tpl_out_puts(&o, sep) < 0) || cm_tpl_print(&o, av[0]->v[i], 0) < 0)
				goto nomem;
		goto string;
	} else if (strcmp(fn, "split") == 0) {
		NEED(2, 2);
		const char *s = as_str(x, c, fn, av[0]), *sep = s ? as_str(x, c, fn, av[1]) : NULL;
		if (!sep)
			return x->rc;
		struct cm_json *a = cm_tpl_jnew(CM_JSON_ARRAY);
		if (!keep(x, a))
			return x->rc;
		size_t sl = strlen(sep);
		for (const char *p = s;;) {
			const char *e = sl ? strstr(p, sep) : (*p ? p + 1 : NULL);
			if (!sl && !*p)
				break;
			struct cm_json *part = cm_tpl_jstr(p, e ? (size_t)(e - p) : strlen(p));
			if (!part || cm_tpl_jpush(a, NULL, part) < 0) {
				cm_json_free(part);
				goto nomem;
			}
			if (!e)
				break;
			p = e + sl;
		}
		r = a;
	} else if (strcmp(fn, "truncate") == 0 || strcmp(fn, "pad") == 0) {
		NEED(fn[0] == 't' ? 2 : 3, fn[0] == 't' ? 2 : 3);
		const char *s = as_str(x, c, fn, av[0]);
		int64_t a1, a2 = 0;
		if (!s)
			return x->rc;
		if (!as_int(av[1], &a1) || (fn[0] == 'p' && !as_int(av[2], &a2)) || a1 < 0 || a2 < 0 ||
		    a1 > 4096 || a2 > 4096)
			return xerr(x, c->pos, c->end, "error calling %s: wrong type for value; expected int", fn);
		if (fn[0] == 't') {
			if (cm_tpl_out_put(&o, s, strlen(s) < (size_t)a1 ? strlen(s) : (size_t)a1) < 0)
				goto nomem;
		} else if (*s) {
			for (int64_t i = 0; i < a1; i++)
				if (cm_tpl_out_puts(&o, " ") < 0)
					goto nomem;
			if (cm_tpl_out_puts(&o, s) < 0)
				goto nomem;
			for (int64_t i = 0; i < a2; i++)
				if (cm_tpl_out_puts(&o, " ") < 0)
					goto nomem;
		}
		goto string;
	} else { /* lower upper title */
		NEED(1, 1);
		const char *s = as_str(x, c, fn, av[0]);
		if (!s)
			return x->rc;
		if (cm_tpl_out_puts(&o, s) < 0)
			goto nomem;
		bool word = true;
		for (char *p = o.s; p && *p; p++) {
			if (fn[0] == 'l' && *p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
			else if ((fn[0] == 'u' || (fn[0] == 't' && word)) && *p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
			word = cm_tpl_is_space(*p);
		}
		goto string;
	}
	*ret = r;
	return x->rc;
string:
	r = keep(x, cm_tpl_jstr(o.s ? o.s : "", o.len));
	free(o.s);
	*ret = r;
	return x->rc;
nomem:
	free(o.s);
	keep(x, NULL);
	return x->rc;
#undef NEED
}

/* docker's one method with an argument, .Label "KEY" of its listing
 * contexts (ps, images, volume ls, network ls): the value of KEY in the
 * object's Labels ("k=v,k2=v2" as a row holds it, or an object), "" when
 * missing. */
static int label_method(struct ex *x, const struct cmd *c, const struct cm_json *dot,
			bool has_final, const struct cm_json *final, const struct cm_json **ret)
{
	struct arg obj = c->args[0];
	const struct cm_json *o, *key;
	obj.nchain--;
	if (eval_arg(x, &obj, dot, &o) < 0)
		return x->rc;
	if (has_final)
		key = final;
	else if (eval_arg(x, &c->args[1], dot, &key) < 0)
		return x->rc;
	if (!key || key->type != CM_JSON_STRING)
		return xerr(x, c->pos, c->end, "wrong type for value; expected string");
	const struct cm_json *labels = o && o->type == CM_JSON_OBJECT ? cm_json_get(o, "Labels") : NULL;
	if (!labels)
		return xerr(x, c->args[0].pos, c->args[0].end, "can't evaluate field Label");
	size_t kl = strlen(key->s);
	if (labels->type == CM_JSON_OBJECT) {
		const struct cm_json *v = cm_json_get(labels, key->s);
		*ret = v ? v : keep(x, cm_tpl_jstr("", 0));
		return x->rc;
	}
	const char *l = labels->type == CM_JSON_STRING ? labels->s : "";
	while (*l) {
		size_t n = strcspn(l, ",");
		if (n > kl && strncmp(l, key->s, kl) == 0 && l[kl] == '=') {
			*ret = keep(x, cm_tpl_jstr(l + kl + 1, n - kl - 1));
			return x->rc;
		}
		l += n + (l[n] == ',');
	}
	*ret = keep(x, cm_tpl_jstr("", 0));
	return x->rc;
}

static int eval_cmd(struct ex *x, const struct cmd *c, const struct cm_json *dot, bool has_final,
		    const struct cm_json *final, const struct cm_json **ret)
{
	const struct arg *a0 = &c->args[0];
	if (a0->kind != A_FUNC && a0->nchain && strcmp(a0->chain[a0->nchain - 1], "Label") == 0 &&
	    c->n + has_final == 2)
		return label_method(x, c, dot, has_final, final, ret);
	if (a0->kind != A_FUNC) {
		if ((c->n > 1 || has_final) && a0->nchain)
			return xerr(x, a0->pos, a0->end, "%s is not a method but has arguments",
				    a0->chain[a0->nchain - 1]);
		if (c->n > 1 || has_final)
			return xerr(x, c->pos, c->end, "can't give argument to non-function %.*s",
				    (int)(a0->end - a0->pos), x->src + a0->pos);
		return eval_arg(x, a0, dot, ret);
	}
	size_t n = c->n - 1 + has_final;
	_cleanup_free_ const struct cm_json **av = calloc(n ? n : 1, sizeof(*av));
	if (!av)
		return keep(x, NULL), x->rc;
	bool lazy = strcmp(a0->name, "and") == 0 || strcmp(a0->name, "or") == 0;
	size_t k = 0;
	for (size_t i = 1; i < c->n; i++) {
		if (eval_arg(x, &c->args[i], dot, &av[k]) < 0)
			return x->rc;
		/* and/or stop at the first value that decides (Go 1.18) */
		if (lazy && cm_tpl_truth(av[k]) == (a0->name[0] == 'o')) {
			*ret = av[k];
			return 0;
		}
		k++;
	}
	if (has_final)
		av[k++] = final;
	return call(x, c, a0->name, av, k, ret);
}

static int set_var(struct ex *x, const char *name, const struct cm_json *v, bool assign,
		   size_t pos)
{
	if (assign) {
		for (size_t i = x->nvars; i > 0; i--)
			if (strcmp(x->vars[i - 1].name, name) == 0) {
				x->vars[i - 1].v = v;
				return 0;
			}
		return xerr(x, pos, pos, "undefined variable: %s", name);
	}
	if (x->nvars == MAX_VARS)
		return xerr(x, pos, pos, "too many variables");
	x->vars[x->nvars].name = name;
	x->vars[x->nvars++].v = v;
	return 0;
}

static int eval_pipe(struct ex *x, const struct pipe *p, const struct cm_json *dot, bool declare,
		     const struct cm_json **ret)
{
	const struct cm_json *v = NULL;
	for (size_t i = 0; i < p->n; i++)
		if (eval_cmd(x, &p->cmds[i], dot, i > 0, v, &v) < 0)
			return x->rc;
	if (declare && p->ndecl && set_var(x, p->decl[p->ndecl - 1], v, p->assign, p->cmds[0].pos) < 0)
		return x->rc;
	*ret = v;
	return 0;
}

static int exec_list(struct ex *x, const struct list *l, const struct cm_json *dot);

static int exec_range(struct ex *x, const struct node *n, const struct cm_json *dot)
{
	const struct cm_json *v;
	size_t mark = x->nvars;
	if (eval_pipe(x, n->pipe, dot, false, &v) < 0)
		return x->rc;
	if (x->o->header)
		return exec_list(x, &n->body, dot);
	if (v && v->type != CM_JSON_ARRAY && v->type != CM_JSON_OBJECT && v->type != CM_JSON_NULL) {
		const struct cm_json *p = printed(x, v);
		return xerr(x, n->pipe->cmds[0].pos, n->pipe->cmds[0].end, "range can't iterate over %s",
			    p ? p->s : "");
	}
	size_t cnt = v && v->type != CM_JSON_NULL ? v->n : 0;
	if (!cnt)
		return exec_list(x, &n->alt, dot);
	/* objects in key order, as Go ranges over maps */
	_cleanup_free_ size_t *order = calloc(cnt, sizeof(*order));
	if (!order)
		return keep(x, NULL), x->rc;
	for (size_t i = 0; i < cnt; i++)
		order[i] = i;
	if (v->type == CM_JSON_OBJECT)
		for (size_t i = 1; i < cnt; i++)
			for (size_t j = i; j > 0 && strcmp(v->k[order[j - 1]], v->k[order[j]]) > 0; j--) {
				size_t t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
	for (size_t i = 0; i < cnt; i++) {
		const struct cm_json *e = v->v[order[i]], *key;
		if (v->type == CM_JSON_OBJECT)
			key = keep(x, cm_tpl_jstr(v->k[order[i]], strlen(v->k[order[i]])));
		else
			key = keep(x, cm_tpl_jint((int64_t)i));
		if (!key)
			return x->rc;
		x->nvars = mark;
		if (n->pipe->ndecl == 2 && set_var(x, n->pipe->decl[0], key, false, 0) < 0)
			return x->rc;
		if (n->pipe->ndecl && set_var(x, n->pipe->decl[n->pipe->ndecl - 1], e, false, 0) < 0)
			return x->rc;
		if (exec_list(x, &n->body, e) < 0)
			return x->rc;
	}
	x->nvars = mark;
	return 0;
}

static int exec_list(struct ex *x, const struct list *l, const struct cm_json *dot)
{
	size_t mark = x->nvars;
	for (size_t i = 0; i < l->n && !x->rc; i++) {
		const struct node *n = &l->v[i];
		const struct cm_json *v = NULL;
		size_t inner = x->nvars;
		switch (n->kind) {
		case N_TEXT:
			if (cm_tpl_out_put(x->out, n->text, n->len) < 0)
				keep(x, NULL);
			break;
		case N_ACTION:
			if (eval_pipe(x, n->pipe, dot, true, &v) == 0 && !n->pipe->ndecl &&
			    cm_tpl_print(x->out, v, 0) < 0)
				keep(x, NULL);
			break;
		case N_IF:
		case N_WITH:
			if (eval_pipe(x, n->pipe, dot, true, &v) < 0)
				break;
			if (cm_tpl_truth(v) || (x->o->header && n->kind == N_WITH))
				exec_list(x, &n->body, n->kind == N_WITH && !x->o->header ? v : dot);
			else
				exec_list(x, &n->alt, dot);
			x->nvars = inner;
			break;
		case N_RANGE:
			exec_range(x, n, dot);
			break;
		}
	}
	x->nvars = mark;
	return x->rc;
}

int cm_tpl_exec(const struct cm_tpl *t, const struct cm_json *dot, const struct cm_tpl_opts *o,
		struct cm_tpl_out *out, char *err, size_t errsz)
{
	static const struct cm_tpl_opts none = { 0 };
	struct ex x = { .src = t->src, .o = o ? o : &none, .root = dot, .out = out, .err = err,
			.errsz = errsz };
	exec_list(&x, &t->root, dot);
	for (size_t i = 0; i < x.narena; i++)
		cm_json_free(x.arena[i]);
	free(x.arena);
	if (!out->s && !x.rc && cm_tpl_out_put(out, "", 0) < 0)
		return -ENOMEM;
	return x.rc;
}
