/* SPDX-License-Identifier: MIT */
/* Shared helpers: cleanup attributes, ownership transfer, small utilities.
 * Every folder of the project builds on these (see docs/design.md). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define CM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CM_UNUSED __attribute__((unused))
#define CM_LIKELY(x) __builtin_expect(!!(x), 1)
#define CM_UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline void cm_freep(void *p)
{
	free(*(void **)p);
}

static inline void cm_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cm_freep)
#define _cleanup_close_ _cleanup_(cm_closep)

/* Move ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _tp = (p);                                       \
		(p) = NULL;                                                    \
		_tp;                                                           \
	})
#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int _tf = (fd);                                                \
		(fd) = -1;                                                     \
		_tf;                                                           \
	})

/* Negative errno of the last failed call, never 0 (a failing libc call that
 * left errno at 0 is reported as EIO rather than as success). */
static inline int cm_neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Close an fd kept in a variable and mark it closed. */
static inline void cm_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static inline bool cm_streq(const char *a, const char *b)
{
	return a && b && __builtin_strcmp(a, b) == 0;
}
