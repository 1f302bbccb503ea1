/* SPDX-License-Identifier: MIT */
/* The template's parse tree and the value helpers that cm-template.c
 * (parsing, values) and cm-template-exec.c (execution, functions) share. */
#pragma once

#include "cm-template.h"

#include <stdint.h>

#define MAX_NEST 100 /* control structures and parentheses in one template */
#define MAX_VARS 64


enum arg_kind { A_FIELD, A_VAR, A_DOT, A_LIT, A_FUNC, A_PIPE };

struct pipe;
struct arg {
	enum arg_kind kind;
	char *name;          /* A_VAR "$x", A_FUNC "printf" */
	char **chain;        /* .A.B after the operand (A_FIELD: the fields) */
	size_t nchain;
	struct cm_json *lit; /* A_LIT */
	struct pipe *pipe;   /* A_PIPE */
	size_t pos, end;     /* source span, for errors */
};

struct cmd {
	struct arg *args;
	size_t n, pos, end;
};

struct pipe {
	char *decl[2];
	size_t ndecl;
	bool assign; /* $x = ... rather than $x := ... */
	struct cmd *cmds;
	size_t n;
};

enum node_kind { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH };

struct node;
struct list {
	struct node *v;
	size_t n;
};

struct node {
	enum node_kind kind;
	char *text; /* N_TEXT */
	size_t len;
	struct pipe *pipe;
	struct list body, alt; /* alt: the else branch */
};

struct cm_tpl {
	struct list root;
	char *src;
};

/* grow the array *pv of *n elements of sz by one zeroed element: it, or NULL */
void *cm_tpl_grow(void *pv, size_t *n, size_t sz);
/* new values (NULL on ENOMEM) */
struct cm_json *cm_tpl_jnew(enum cm_json_type t);
struct cm_json *cm_tpl_jstr(const char *s, size_t n);
struct cm_json *cm_tpl_jint(int64_t v);
/* append v (with key for an object) to arr; -ENOMEM */
int cm_tpl_jpush(struct cm_json *arr, const char *key, struct cm_json *v);
int cm_tpl_out_puts(struct cm_tpl_out *o, const char *s);
/* Go's type name of a decoded JSON value, fmt's %v of it, its truth */
const char *cm_tpl_go_type(const struct cm_json *v);
int cm_tpl_print(struct cm_tpl_out *o, const struct cm_json *v, int depth);
bool cm_tpl_truth(const struct cm_json *v);
int cm_tpl_line_of(const char *src, size_t pos);
bool cm_tpl_is_space(char c);
