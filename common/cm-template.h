/* SPDX-License-Identifier: MIT */
/* A subset of Go's text/template over cm_json data: what docker's --format
 * flags take (issue 11, issue 14). Actions: {{pipeline}}, if/else if/else,
 * range (with $i, $e := ...), with, comments, {{- and -}} trims,
 * variables ($, $x := ..., $x = ...), pipes (|), parenthesised pipelines.
 * Operands: .Field.Path, ., $var.Field, "strings", `raw`, numbers, true,
 * false, nil. Functions: Go's and, or, not, len, index, print, printf,
 * println, eq, ne, lt, le, gt, ge, plus docker's json, join, split, lower,
 * upper, title, truncate, pad. Values print as Go's fmt %v does (arrays
 * "[a b]", objects "map[k:v]" in key order, a missing key "<no value>").
 * Error texts are Go's ("template: :1:2: executing \"\" at <.Foo>: can't
 * evaluate field Foo in type T"), which scripts and users know. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cm-json.h"

struct cm_tpl;

/* A growable output buffer (NUL-terminated; free s). */
struct cm_tpl_out {
	char *s;
	size_t len, cap;
};
int cm_tpl_out_put(struct cm_tpl_out *o, const char *s, size_t n);

/* Parse text. Returns 0 and *ret (free with cm_tpl_free), -EINVAL with
 * Go's message in err ("template: :1: function \"foo\" not defined"), or
 * -ENOMEM. */
int cm_tpl_parse(const char *text, struct cm_tpl **ret, char *err, size_t errsz);
void cm_tpl_free(struct cm_tpl *t);
void cm_tpl_freep(struct cm_tpl **t);

struct cm_tpl_opts {
	/* strict: a field missing from the top-level object is an error
	 * naming this type (docker's typed contexts: ps, images rows); NULL:
	 * a missing key is "<no value>" (inspect's JSON, as in Go's maps) */
	const char *type_name;
	/* docker's table header pass: data maps each field to its column
	 * name, docker's functions (json, join, split, lower, upper, title,
	 * truncate, pad) return their first argument unchanged, Go's run on
	 * the names, range and with run their body once */
	bool header;
};

/* Execute t on dot, appending to out. Returns 0, -EINVAL with Go's
 * message in err, or -ENOMEM. */
int cm_tpl_exec(const struct cm_tpl *t, const struct cm_json *dot, const struct cm_tpl_opts *o,
		struct cm_tpl_out *out, char *err, size_t errsz);

/* A flat object of string values (docker's row contexts): kv holds n
 * key/value pairs (2n strings). NULL on ENOMEM; free with cm_json_free. */
struct cm_json *cm_tpl_strmap(const char *const *kv, size_t n);
