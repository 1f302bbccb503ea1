/* SPDX-License-Identifier: MIT */
/* docker's --format for the listing verbs (ps, images, history; stats and
 * the other listings of issue 14 plug in the same way): "table" (or no
 * format): the verb's default table; "table TEMPLATE": that template with
 * a header row, aligned by Go's tabwriter (minwidth 10, padding 3, in
 * columns); "json": one JSON object per row; "TEMPLATE": the rows as the
 * template prints them, one per line. \t and \n in the format are a tab
 * and a newline, as docker reads them. Rows are flat string objects
 * (cm_tpl_strmap), whose field names are docker's. */
#pragma once

#include <stdbool.h>

#include "cm-template.h"

struct img_fmt {
	bool table;
	const char *type;          /* docker's context type, for unknown fields */
	struct cm_tpl *tpl;
	struct cm_json *header;    /* field -> column name */
	struct cm_tpl_out rows;
};

/* format as given (NULL: the default), deflt docker's default ("table
 * {{.ID}}\t..."), header_kv n pairs of field and column name. Returns 0,
 * or 125 with the parse error printed. */
int img_fmt_open(struct img_fmt *f, const char *format, const char *deflt,
		 const char *const *header_kv, size_t n, const char *type);
/* One row (borrowed). 0, or 125 with the template's error printed. */
int img_fmt_row(struct img_fmt *f, const struct cm_json *row);
/* The header (tables) and rows to stdout; frees f. 0 or 125. */
int img_fmt_close(struct img_fmt *f);
void img_fmt_free(struct img_fmt *f);
/* The end of a listing: rc 0: img_fmt_close; else free and rc. A zeroed
 * f (never opened: -q) just returns rc. */
int img_fmt_end(struct img_fmt *f, int rc);

/* Execute a template read from a format flag (\t, \n unescaped) once on
 * data (inspect -f: not strict, a missing key prints <no value>), append
 * "\n", print it. 0, or 125 with the error printed. */
int img_fmt_once(const char *format, const struct cm_json *data);

/* Go's strconv.Quote of s into a malloc'd string (docker's COMMAND column). */
char *img_go_quote(const char *s);

/* docker's --filter KEY=VALUE of the listings: filters of one key are
 * alternatives, of different keys all must hold. */
#include <stddef.h>
#define IMG_MAX_FILTERS 16
struct img_filter {
	char key[16];
	const char *val; /* borrowed from argv */
};
/* Add arg to fs if its key is one of keys (docker's "invalid filter 'KEY'"
 * printed otherwise): 0, or 125. */
int img_filter_add(struct img_filter *fs, size_t *n, const char *arg, const char *const *keys,
		   size_t nkeys);
/* Whether ctx passes fs, one(f, ctx) deciding each filter. */
bool img_filters_match(const struct img_filter *fs, size_t n,
		       bool (*one)(const struct img_filter *f, void *ctx), void *ctx);
