/* SPDX-License-Identifier: MIT */
/* A small JSON reader (DOM, depth- and size-bounded: input is untrusted) and
 * writer (compact or indented), enough for OCI manifests, configs, index.json
 * and docker's output formats. Strings are NUL-free UTF-8 ("\u0000" is refused). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cm_json_type {
	CM_JSON_NULL,
	CM_JSON_BOOL,
	CM_JSON_NUMBER,
	CM_JSON_STRING,
	CM_JSON_ARRAY,
	CM_JSON_OBJECT,
};

struct cm_json {
	enum cm_json_type type;
	bool b;
	bool is_int;        /* number: integral and fits int64 */
	int64_t i;
	double d;
	char *s;            /* string value, or number text as written */
	size_t n;           /* array/object: number of children */
	struct cm_json **v; /* array/object children */
	char **k;           /* object keys (same order as v) */
};

#define CM_JSON_MAX_DEPTH 64

/* Parse len bytes (the whole buffer must be one value, whitespace around it).
 * Returns 0 and *ret (free with cm_json_free), -EINVAL on bad JSON (errbuf, if
 * not NULL, says where), -ENOMEM. */
int cm_json_parse(const char *buf, size_t len, struct cm_json **ret,
		  char *errbuf, size_t errsz);
void cm_json_free(struct cm_json *j);
void cm_json_freep(struct cm_json **j);
#define _cleanup_json_ __attribute__((cleanup(cm_json_freep)))

/* Accessors: all accept NULL and wrong types (then return NULL/false/0). The
 * last duplicate of an object key wins. */
const struct cm_json *cm_json_get(const struct cm_json *obj, const char *key);
const char *cm_json_str(const struct cm_json *v);
const char *cm_json_get_str(const struct cm_json *obj, const char *key);
bool cm_json_get_int(const struct cm_json *obj, const char *key, int64_t *ret);
bool cm_json_is(const struct cm_json *v, enum cm_json_type t);

/* Writer: a growable buffer; errors (ENOMEM) are sticky and reported by
 * cm_jw_finish. Commas and indentation are automatic. */
struct cm_jw {
	char *buf;
	size_t len, cap;
	int err;
	int depth;
	int indent;                        /* spaces per level, 0 = compact */
	bool first[CM_JSON_MAX_DEPTH + 1]; /* no element yet at this depth */
	bool after_key;
};

void cm_jw_init(struct cm_jw *w, int indent);
void cm_jw_obj(struct cm_jw *w);
void cm_jw_obj_end(struct cm_jw *w);
void cm_jw_arr(struct cm_jw *w);
void cm_jw_arr_end(struct cm_jw *w);
void cm_jw_key(struct cm_jw *w, const char *key);
void cm_jw_str(struct cm_jw *w, const char *s);
void cm_jw_int(struct cm_jw *w, int64_t v);
void cm_jw_bool(struct cm_jw *w, bool v);
void cm_jw_null(struct cm_jw *w);
/* Emit a parsed value (re-serialised; numbers keep their text). */
void cm_jw_value(struct cm_jw *w, const struct cm_json *v);
/* key + string, key + int shorthands */
void cm_jw_kstr(struct cm_jw *w, const char *key, const char *s);
void cm_jw_kint(struct cm_jw *w, const char *key, int64_t v);
/* Returns 0 and the NUL-terminated text in *ret (caller frees) and its length,
 * or -ENOMEM. The writer is empty afterwards either way. */
int cm_jw_finish(struct cm_jw *w, char **ret, size_t *ret_len);
void cm_jw_free(struct cm_jw *w);
