// SPDX-License-Identifier: MIT
/* Manifests as registries send them: the media type checked against the
 * body (a body claiming to be something else than its Content-Type is
 * refused, as containerd does), schema1 refused, descriptors validated, and
 * an index resolved to one platform. Pure. */
#include "reg.h"
#include "cm.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

static bool is_index_type(const char *mt)
{
	return cm_streq(mt, REG_MT_OCI_INDEX) || cm_streq(mt, REG_MT_DOCKER_LIST);
}

static bool is_manifest_type(const char *mt)
{
	return cm_streq(mt, REG_MT_OCI_MANIFEST) || cm_streq(mt, REG_MT_DOCKER_MANIFEST);
}

int reg_manifest_check(const char *body, size_t len, const char *content_type,
		       enum reg_manifest_kind *ret_kind, struct cm_json **ret_json,
		       struct cm_error *err)
{
	char jerr[128] = "";
	char ct[128] = "";
	if (content_type) {
		/* drop parameters ("; charset=utf-8") */
		snprintf(ct, sizeof(ct), "%s", content_type);
		ct[strcspn(ct, "; \t")] = '\0';
	}
	static const char v1[] = "application/vnd.docker.distribution.manifest.v1";
	if (strncmp(ct, v1, sizeof(v1) - 1) == 0)
		return cm_error_set(err, -EPROTO,
				    "schema1 manifests are not supported (Docker Image Format v1 is deprecated; push the image again with a current tool)");
	_cleanup_json_ struct cm_json *j = NULL;
	int r = cm_json_parse(body, len, &j, jerr, sizeof(jerr));
	if (r < 0)
		return cm_error_set(err, r == -ENOMEM ? r : -EPROTO, "manifest is not JSON: %s", jerr);
	int64_t sv = 0;
	if (!cm_json_is(j, CM_JSON_OBJECT))
		return cm_error_set(err, -EPROTO, "manifest is not a JSON object");
	if (cm_json_get_int(j, "schemaVersion", &sv) && sv == 1)
		return cm_error_set(err, -EPROTO, "schema1 manifests are not supported");
	if (sv != 2)
		return cm_error_set(err, -EPROTO, "manifest schemaVersion %lld is not 2", (long long)sv);
	const char *bmt = cm_json_get_str(j, "mediaType");
	bool has_manifests = cm_json_is(cm_json_get(j, "manifests"), CM_JSON_ARRAY);
	bool has_layers = cm_json_is(cm_json_get(j, "layers"), CM_JSON_ARRAY) &&
			  cm_json_is(cm_json_get(j, "config"), CM_JSON_OBJECT);
	if (has_manifests == has_layers)
		return cm_error_set(err, -EPROTO, "manifest is neither an image manifest nor an index");
	const char *mt = ct[0] ? ct : bmt;
	if (bmt && ct[0] && strcmp(bmt, ct) != 0)
		return cm_error_set(err, -EPROTO, "manifest mediaType %s does not match its Content-Type %s",
				    bmt, ct);
	if (!mt)
		mt = has_manifests ? REG_MT_OCI_INDEX : REG_MT_OCI_MANIFEST;
	if (is_index_type(mt) && has_manifests)
		*ret_kind = REG_KIND_INDEX;
	else if (is_manifest_type(mt) && has_layers)
		*ret_kind = REG_KIND_MANIFEST;
	else if (is_index_type(mt) || is_manifest_type(mt))
		return cm_error_set(err, -EPROTO, "manifest body does not match its media type %s", mt);
	else
		return cm_error_set(err, -EPROTO, "unsupported manifest media type %s", mt);
	*ret_json = TAKE_PTR(j);
	return 0;
}

int reg_desc_get(const struct cm_json *desc, int64_t max, const char **ret_digest,
		 int64_t *ret_size, struct cm_error *err)
{
	const char *d = cm_json_get_str(desc, "digest");
	int64_t size = -1;
	if (!d)
		return cm_error_set(err, -EPROTO, "descriptor without a digest");
	if (strncmp(d, "sha256:", 7) != 0)
		return cm_error_set(err, -EPROTO, "unsupported digest %.80s", d);
	if (!cm_digest_valid(d))
		return cm_error_set(err, -EPROTO, "invalid digest %.80s", d);
	if (!cm_json_get_int(desc, "size", &size) || size < 0)
		return cm_error_set(err, -EPROTO, "descriptor %s: bad size", d);
	if (size > max)
		return cm_error_set(err, -EFBIG, "descriptor %s: %lld bytes, over the %lld byte cap",
				    d, (long long)size, (long long)max);
	*ret_digest = d;
	*ret_size = size;
	return 0;
}

static int copy_field(char *dst, size_t sz, const char *s, size_t len)
{
	if (len == 0 || len >= sz)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return -EINVAL;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

int reg_platform_parse(const char *s, struct reg_platform *ret, struct cm_error *err)
{
	struct reg_platform p = { 0 };
	const char *a = strchr(s, '/');
	const char *v = a ? strchr(a + 1, '/') : NULL;
	if (!a || copy_field(p.os, sizeof(p.os), s, (size_t)(a - s)) < 0 ||
	    copy_field(p.arch, sizeof(p.arch), a + 1, v ? (size_t)(v - a - 1) : strlen(a + 1)) < 0 ||
	    (v && copy_field(p.variant, sizeof(p.variant), v + 1, strlen(v + 1)) < 0))
		return cm_error_set(err, -EINVAL, "invalid platform '%s' (want OS/ARCH[/VARIANT])", s);
	*ret = p;
	return 0;
}

void reg_platform_host(struct reg_platform *ret)
{
	static const struct { const char *uname, *arch, *variant; } map[] = {
		{ "x86_64", "amd64", "" },   { "aarch64", "arm64", "" },
		{ "armv7l", "arm", "v7" },   { "armv6l", "arm", "v6" },
		{ "i686", "386", "" },       { "i386", "386", "" },
		{ "ppc64le", "ppc64le", "" }, { "s390x", "s390x", "" },
		{ "riscv64", "riscv64", "" },
	};
	struct utsname u;
	memset(ret, 0, sizeof(*ret));
	strcpy(ret->os, "linux");
	strcpy(ret->arch, "amd64");
	if (uname(&u) < 0)
		return;
	for (size_t i = 0; i < CM_ARRAY_SIZE(map); i++)
		if (strcmp(u.machine, map[i].uname) == 0) {
			snprintf(ret->arch, sizeof(ret->arch), "%s", map[i].arch);
			snprintf(ret->variant, sizeof(ret->variant), "%s", map[i].variant);
		}
}

int reg_index_select(const struct cm_json *index, const struct reg_platform *p,
		     struct cm_error *err)
{
	const struct cm_json *ms = cm_json_get(index, "manifests");
	size_t n = cm_json_is(ms, CM_JSON_ARRAY) ? ms->n : 0;
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		const struct cm_json *pl = cm_json_get(ms->v[i], "platform");
		const char *v = cm_json_get_str(pl, "variant");
		if (!cm_streq(cm_json_get_str(pl, "os"), p->os) ||
		    !cm_streq(cm_json_get_str(pl, "architecture"), p->arch))
			continue;
		if (p->variant[0] && v && strcmp(v, p->variant) != 0)
			continue;
		/* an exact variant beats an entry without one */
		if (best < 0 || (p->variant[0] && v))
			best = (int)i;
	}
	if (best >= 0)
		return best;
	char have[512] = "";
	size_t len = 0;
	for (size_t i = 0; i < n && len + 80 < sizeof(have); i++) {
		const struct cm_json *pl = cm_json_get(ms->v[i], "platform");
		const char *os = cm_json_get_str(pl, "os"), *ar = cm_json_get_str(pl, "architecture");
		const char *v = cm_json_get_str(pl, "variant");
		len += (size_t)snprintf(have + len, sizeof(have) - len, "%s%.20s/%.20s%s%.10s",
					len ? ", " : "", os ? os : "?", ar ? ar : "?",
					v ? "/" : "", v ? v : "");
	}
	return cm_error_set(err, -ENOENT, "no matching manifest for %s/%s%s%s in the manifest list entries (it has: %s)",
			    p->os, p->arch, p->variant[0] ? "/" : "", p->variant,
			    n ? have : "nothing");
}
