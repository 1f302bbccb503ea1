// SPDX-License-Identifier: MIT
/* Helper programs of the project, found by override, by the build tree's
 * layout, then by the configured install path (see cm-helper.h). */
#include "cm-helper.h"
#include "cm.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* path when it is an executable file; else -errno of access(2). */
static int usable(const char *path, char **ret)
{
	if (access(path, X_OK) < 0)
		return cm_neg_errno();
	return (*ret = strdup(path)) ? 0 : -ENOMEM;
}

int cm_helper_find(const char *name, const char *env, const char *installed, char **ret,
		   struct cm_error *err)
{
	const char *v = env ? getenv(env) : NULL;
	int r;
	if (v && *v) {
		if ((r = usable(v, ret)) < 0)
			return cm_error_setx(err, r, "%s not found: %s=%s", name, env, v);
		return 0;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		char beside[PATH_MAX];
		if (slash && snprintf(beside, sizeof(beside), "%.*s/%s", (int)(slash - self), self,
				      name) < (int)sizeof(beside) &&
		    usable(beside, ret) == 0)
			return 0;
	}
	if ((r = usable(installed, ret)) < 0)
		return cm_error_setx(err, r, "%s not found: %s", name, installed);
	return 0;
}
