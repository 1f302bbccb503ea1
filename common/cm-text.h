/* SPDX-License-Identifier: MIT */
/* Text in terminal columns: display width of UTF-8, docker's ellipsis and
 * Go's text/tabwriter, so tables align by what the eye sees (issue 11: a
 * cut "…" counted 3 bytes and shifted every later column). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cm-template.h"

/* Columns the UTF-8 text s[0..len) takes: 2 for East Asian wide and
 * fullwidth characters and most emoji, 0 for combining marks, zero-width
 * and control characters, 1 otherwise (an invalid byte counts as 1). */
size_t cm_text_width(const char *s, size_t len);

/* s[0..len) is well-formed UTF-8, as Go's utf8.Valid: no stray or
 * truncated sequence, no overlong form, surrogate or code point past
 * U+10FFFF. */
bool cm_text_utf8_valid(const char *s, size_t len);

/* s cut to at most cols columns, ending in "…" when it was cut (docker's
 * formatter.Ellipsis); never splits a UTF-8 sequence. malloc'd, NULL on
 * ENOMEM. */
char *cm_text_ellipsis(const char *s, size_t cols);

/* Go's text/tabwriter (flags 0, padchar ' ') over in[0..len): cells end at
 * '\t', lines at '\n'; each column block (consecutive lines with a cell in
 * that column) is as wide as its widest cell + padding, at least minwidth,
 * measured with cm_text_width. docker's tables use minwidth 10, padding 3.
 * Appends to out; returns 0 or -ENOMEM. */
int cm_tabwrite(const char *in, size_t len, size_t minwidth, size_t padding,
		struct cm_tpl_out *out);

/* docker's rule for the names of local objects (volumes, networks):
 * [a-zA-Z0-9][a-zA-Z0-9_.-]*, between min and max bytes. */
bool cm_text_object_name_valid(const char *name, size_t min, size_t max);
