/* SPDX-License-Identifier: MIT */
/* An error object for library APIs: a negative errno plus a one-line message
 * that gains context on its way up (after crun's libcrun_error). Only tools/
 * print it. The message never ends with a newline. */
#pragma once

#include <stddef.h>

struct cm_error {
	int code;        /* negative errno, 0 when no error was set */
	char msg[1024];  /* "what: why" */
};

/* Set *err (may be NULL) to code r (negative errno) and a printf message; if
 * the message is empty, strerror(-r) is used. Returns r, so callers write
 * `return cm_error_set(err, r, "reading %s", name);`. When r is not 0 and the
 * format does not already name the cause, ": strerror" is appended by
 * cm_error_setx only. */
int cm_error_set(struct cm_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like cm_error_set, then append ": strerror(-r)". */
int cm_error_setx(struct cm_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend "context: " to the message already set (or set one from r).
 * Returns r. */
int cm_error_prefix(struct cm_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reset to no error. */
void cm_error_clear(struct cm_error *err);
