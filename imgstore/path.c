// SPDX-License-Identifier: MIT
/* Path rules for names read from untrusted archives (SECURITY.md). */
#include "ims-internal.h"

#include <limits.h>
#include <string.h>

int ims_path_clean(const char *in, char *out, size_t outsz)
{
	size_t n = 0;
	const char *p = in;
	if (outsz == 0)
		return -ENAMETOOLONG;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *c = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - c);
		if (len == 1 && c[0] == '.')
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return -EINVAL;
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		if (n + (n ? 1 : 0) + len + 1 > outsz)
			return -ENAMETOOLONG;
		if (n)
			out[n++] = '/';
		memcpy(out + n, c, len);
		n += len;
	}
	out[n] = '\0';
	return 0;
}
