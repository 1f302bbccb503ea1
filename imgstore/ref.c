// SPDX-License-Identifier: MIT
/* Image references, docker's grammar: [DOMAIN/]PATH[:TAG], DOMAIN has a '.'
 * or ':' or is localhost; PATH components [a-z0-9]+ joined by '.', '_',
 * '__' or dashes; TAG [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. Pure functions. */
#include "ims-internal.h"

#include <stdio.h>
#include <string.h>

static bool is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool path_component_valid(const char *c, size_t len)
{
	if (len == 0 || !is_alnum_lower(c[0]) || !is_alnum_lower(c[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (is_alnum_lower(c[i]))
			continue;
		if (c[i] == '.' || c[i] == '_') {
			/* one '.', one '_' or exactly "__" */
			size_t j = i;
			while (j < len && (c[j] == '.' || c[j] == '_'))
				j++;
			size_t run = j - i;
			if (run > 2 || (run == 2 && !(c[i] == '_' && c[i + 1] == '_')))
				return false;
			i = j - 1;
			continue;
		}
		if (c[i] == '-')
			continue;
		return false;
	}
	return true;
}

static bool has_upper(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

static bool domain_valid(const char *d, size_t len)
{
	if (len == 0)
		return false;
	size_t i = 0;
	for (; i < len && d[i] != ':'; i++) {
		char c = d[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
	}
	if (i == 0)
		return false;
	if (i < len) {
		if (i + 1 == len)
			return false;
		for (size_t j = i + 1; j < len; j++)
			if (d[j] < '0' || d[j] > '9')
				return false;
	}
	return true;
}

static bool tag_valid(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		bool w = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_';
		if (!w && (i == 0 || (c != '.' && c != '-')))
			return false;
	}
	return true;
}

int ims_ref_tag_offset(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');
	return colon ? (int)(colon - ref) : -1;
}

int ims_ref_normalize(const char *in, char **ret, struct cm_error *err)
{
	if (!in || !*in)
		return cm_error_set(err, -EINVAL, "empty image name");
	if (strchr(in, '@'))
		return cm_error_set(err, -EINVAL, "'%s': a digest reference is not a name", in);
	if (strlen(in) > 512)
		return cm_error_set(err, -EINVAL, "image name too long");
	_cleanup_free_ char *name = strdup(in);
	if (!name)
		return cm_error_set(err, -ENOMEM, "out of memory");
	const char *tag = "latest";
	int off = ims_ref_tag_offset(name);
	if (off >= 0) {
		name[off] = '\0';
		tag = name + off + 1;
		if (!tag_valid(tag))
			return cm_error_set(err, -EINVAL, "'%s': invalid tag '%s'", in, tag);
	}
	const char *domain = "docker.io";
	size_t dlen = strlen(domain);
	const char *path = name;
	const char *slash = strchr(name, '/');
	if (slash) {
		size_t l = (size_t)(slash - name);
		if (memchr(name, '.', l) || memchr(name, ':', l) ||
		    (l == 9 && strncmp(name, "localhost", 9) == 0) ||
		    has_upper(name, l)) {
			if (!domain_valid(name, l))
				return cm_error_set(err, -EINVAL, "'%s': invalid registry '%.*s'",
						    in, (int)l, name);
			domain = name;
			dlen = l;
			path = slash + 1;
		}
	}
	if (dlen == 15 && strncmp(domain, "index.docker.io", 15) == 0) {
		domain = "docker.io";
		dlen = 9;
	}
	/* validate path components */
	for (const char *c = path;;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (!path_component_valid(c, l))
			return cm_error_set(err, -EINVAL,
					    "'%s': invalid reference format (repository names must be lowercase)",
					    in);
		if (!e)
			break;
		c = e + 1;
	}
	bool library = dlen == 9 && strncmp(domain, "docker.io", 9) == 0 && !strchr(path, '/');
	char *out;
	if (asprintf(&out, "%.*s/%s%s:%s", (int)dlen, domain, library ? "library/" : "",
		     path, tag) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	if (strlen(out) > 255 + 129) {
		free(out);
		return cm_error_set(err, -EINVAL, "'%s': name too long", in);
	}
	*ret = out;
	return 0;
}

const char *ims_ref_short(const char *full)
{
	if (strncmp(full, "docker.io/library/", 18) == 0)
		return full + 18;
	if (strncmp(full, "docker.io/", 10) == 0)
		return full + 10;
	return full;
}

size_t ims_ref_repo_len(const char *ref)
{
	const char *at = strchr(ref, '@');
	if (at)
		return (size_t)(at - ref);
	int off = ims_ref_tag_offset(ref);
	return off >= 0 ? (size_t)off : strlen(ref);
}

bool ims_ref_same_repo(const char *a, const char *b)
{
	size_t n = ims_ref_repo_len(a);
	return ims_ref_repo_len(b) == n && strncmp(a, b, n) == 0;
}

bool ims_ref_is_id_prefix(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n >= 1 && n <= 64;
}
