// SPDX-License-Identifier: MIT
/* References as docker parses them: the name part by the store's own
 * normaliser (one grammar for names in the whole tool), plus "@sha256:"
 * digests and the split into domain and repository. Pure. */
#include "reg.h"
#include "cm.h"
#include "ims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void reg_ref_clear(struct reg_ref *r)
{
	free(r->domain);
	free(r->repo);
	free(r->tag);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

int reg_ref_parse(const char *in, struct reg_ref *ret, struct cm_error *err)
{
	struct reg_ref r = { 0 };
	if (!in || !*in)
		return cm_error_set(err, -EINVAL, "empty image name");
	_cleanup_free_ char *name = strdup(in);
	if (!name)
		return cm_error_set(err, -ENOMEM, "out of memory");
	char *at = strchr(name, '@');
	if (at) {
		*at = '\0';
		const char *d = at + 1;
		if (strncmp(d, "sha256:", 7) != 0 && strchr(d, ':'))
			return cm_error_set(err, -EINVAL, "'%s': unsupported digest algorithm", in);
		if (!cm_digest_valid(d))
			return cm_error_set(err, -EINVAL, "'%s': invalid reference format (bad digest)", in);
		memcpy(r.digest, d, CM_DIGEST_STR_LEN);
	}
	bool has_tag = ims_ref_tag_offset(name) >= 0;
	_cleanup_free_ char *full = NULL;
	int rc = ims_ref_normalize(name, &full, err);
	if (rc < 0)
		return rc;
	char *slash = strchr(full, '/');
	int off = ims_ref_tag_offset(full);
	if (!slash || off < 0)
		return cm_error_set(err, -EINVAL, "'%s': invalid reference format", in);
	r.domain = strndup(full, (size_t)(slash - full));
	r.repo = strndup(slash + 1, (size_t)(full + off - slash - 1));
	if (has_tag || !at)
		r.tag = strdup(full + off + 1);
	if (!r.domain || !r.repo || ((has_tag || !at) && !r.tag)) {
		reg_ref_clear(&r);
		return cm_error_set(err, -ENOMEM, "out of memory");
	}
	if (r.tag)
		r.name = TAKE_PTR(full);
	*ret = r;
	return 0;
}

const char *reg_ref_host(const struct reg_ref *r)
{
	return strcmp(r->domain, "docker.io") == 0 ? "registry-1.docker.io" : r->domain;
}

char *reg_ref_repo_full(const struct reg_ref *r)
{
	char *s;
	if (asprintf(&s, "%s/%s", r->domain, r->repo) < 0)
		return NULL;
	return s;
}
