/* SPDX-License-Identifier: MIT */
/* Finding the project's helper programs (img-monitor, ufsmount) for the
 * build tree and for an installed tree alike (issue 11). */
#pragma once

#include "cm-error.h"

/* Resolve the helper program `name`:
 *   1. $env when set and non-empty (an override: tests, packagers);
 *   2. beside the running binary (/proc/self/exe): the build tree, where
 *      tools/ holds img, img-monitor and ufsmount together;
 *   3. `installed`, the absolute path meson configured (config.h).
 * Returns 0 and a malloc'd path in *ret (the caller frees it), or -errno
 * with err naming the path tried last and why, in one line ("img-monitor
 * not found: /usr/libexec/img-monitor: No such file or directory"). */
int cm_helper_find(const char *name, const char *env, const char *installed, char **ret,
		   struct cm_error *err);
