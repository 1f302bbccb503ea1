// SPDX-License-Identifier: MIT
/* The error object (see cm-error.h). */
#include "cm-error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cm_error_clear(struct cm_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

__attribute__((format(printf, 3, 0)))
static void error_vset(struct cm_error *err, int r, const char *fmt, va_list ap)
{
	err->code = r;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (!err->msg[0] && r)
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
}

int cm_error_set(struct cm_error *err, int r, const char *fmt, ...)
{
	if (!err)
		return r;
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, r, fmt, ap);
	va_end(ap);
	return r;
}

int cm_error_setx(struct cm_error *err, int r, const char *fmt, ...)
{
	if (!err)
		return r;
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, r, fmt, ap);
	va_end(ap);
	size_t n = strlen(err->msg);
	if (r && n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(-r));
	return r;
}

int cm_error_prefix(struct cm_error *err, int r, const char *fmt, ...)
{
	if (!err)
		return r;
	char ctx[512], old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	if (!err->msg[0])
		snprintf(err->msg, sizeof(err->msg), "%s", r ? strerror(-r) : "error");
	memcpy(old, err->msg, sizeof(old));
	size_t cl = strlen(ctx), ol = strlen(old), cap = sizeof(err->msg) - 1;
	size_t n = 0;
	memcpy(err->msg, ctx, cl < cap ? cl : cap);
	n = cl < cap ? cl : cap;
	if (n + 2 <= cap) {
		memcpy(err->msg + n, ": ", 2);
		n += 2;
	}
	if (ol > cap - n)
		ol = cap - n;
	memcpy(err->msg + n, old, ol);
	err->msg[n + ol] = '\0';
	if (!err->code)
		err->code = r;
	return r;
}
