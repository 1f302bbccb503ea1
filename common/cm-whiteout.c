// SPDX-License-Identifier: MIT
/* Whiteout name rules (see cm-whiteout.h and docs/format.md). */
#include "cm-whiteout.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

bool cm_wh_is_reserved(const char *name)
{
	return strncmp(name, CM_WH_PREFIX, CM_WH_PREFIX_LEN) == 0;
}

enum cm_wh_kind cm_wh_classify(const char *name, const char **ret_target)
{
	if (!cm_wh_is_reserved(name))
		return CM_WH_NONE;
	if (strcmp(name, CM_WH_OPAQUE) == 0)
		return CM_WH_OPQ;
	if (strncmp(name, CM_WH_META_PREFIX, sizeof(CM_WH_META_PREFIX) - 1) == 0)
		return CM_WH_META;
	const char *t = name + CM_WH_PREFIX_LEN;
	/* ".wh." alone, ".wh..", ".wh..." would hide nothing, ".", or "..". */
	if (t[0] == '\0' || strcmp(t, ".") == 0 || strcmp(t, "..") == 0 ||
	    strchr(t, '/'))
		return CM_WH_INVALID;
	if (ret_target)
		*ret_target = t;
	return CM_WH_FILE;
}

int cm_wh_name(char *buf, size_t bufsz, const char *name)
{
	size_t n = strlen(name);
	if (n + CM_WH_PREFIX_LEN > NAME_MAX || n + CM_WH_PREFIX_LEN + 1 > bufsz)
		return -ENAMETOOLONG;
	memcpy(buf, CM_WH_PREFIX, CM_WH_PREFIX_LEN);
	memcpy(buf + CM_WH_PREFIX_LEN, name, n + 1);
	return 0;
}
