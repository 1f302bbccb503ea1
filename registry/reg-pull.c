// SPDX-License-Identifier: MIT
/* img pull: reference -> manifest (an index resolved to one platform) ->
 * config -> the layers the store lacks, downloaded in parallel into the
 * store's ingest (hashed while written, unpacked, diff_id checked), then one
 * index write names the image. A failure anywhere takes back what this pull
 * published (containerd's content ingest, committed after verification). */
#include "reg-internal.h"
#include "ims-ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct job {
	const struct reg_pull_opts *o;
	struct ims_ingest_blob *b;
	const char *digest;
	const char *diffid;
	int64_t size;
	char id[16]; /* 12 hex, docker's layer id */
	bool fetch;
};

static void event(const struct reg_pull_opts *o, enum reg_pull_event ev, const char *id,
		  int64_t done, int64_t total)
{
	if (o->event)
		o->event(o->ctx, ev, id, done, total);
}

static int job_write(void *ctx, const void *buf, size_t len, struct cm_error *err)
{
	struct job *j = ctx;
	return ims_ingest_blob_write(j->b, buf, len, err);
}

static void job_progress(void *ctx, int64_t done, int64_t total)
{
	struct job *j = ctx;
	event(j->o, REG_EV_DOWNLOADING, j->id, done, total);
}

static bool layer_type_ok(const char *mt)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.diff.tar",
	};
	for (size_t i = 0; i < CM_ARRAY_SIZE(ok); i++)
		if (cm_streq(mt, ok[i]))
			return true;
	return false;
}

/* The image manifest of ref: m itself, or the platform's entry of an index
 * (one level: an index inside an index is refused). */
static int resolve_manifest(struct reg_client *c, const struct reg_ref *ref,
			    const struct reg_pull_opts *o, struct reg_manifest *m,
			    struct reg_pull_result *res, struct cm_error *err)
{
	int r = reg_manifest_get(c, ref->digest[0] ? ref->digest : ref->tag, m, err);
	if (r < 0)
		return r;
	memcpy(res->digest, m->digest, CM_DIGEST_STR_LEN);
	if (m->kind == REG_KIND_MANIFEST)
		return 0;
	struct reg_platform p;
	if (o->platform)
		r = reg_platform_parse(o->platform, &p, err);
	else
		reg_platform_host(&p);
	if (r < 0)
		return r;
	int i = reg_index_select(m->json, &p, err);
	if (i < 0)
		return i;
	const struct cm_json *desc = cm_json_get(m->json, "manifests")->v[i];
	const char *d;
	int64_t size;
	if ((r = reg_desc_get(desc, REG_MAX_MANIFEST, &d, &size, err)) < 0)
		return r;
	char want[CM_DIGEST_STR_LEN];
	memcpy(want, d, sizeof(want));
	reg_manifest_clear(m);
	if ((r = reg_manifest_get(c, want, m, err)) < 0)
		return r;
	if (m->kind != REG_KIND_MANIFEST)
		return cm_error_set(err, -EPROTO, "index entry %s is itself an index", want);
	if ((int64_t)m->len != size)
		return cm_error_set(err, -EBADMSG, "manifest %s: %zu bytes, the index says %lld", want,
				    m->len, (long long)size);
	return 0;
}

static int get_config(struct reg_client *c, struct ims_ingest *t, const char *digest,
		      int64_t size, struct cm_json **ret, struct cm_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	char jerr[128] = "";
	bool have = ims_ingest_has_blob(t, digest);
	int r = have ? ims_ingest_read_blob(t, digest, REG_MAX_MANIFEST, &buf, &len, err)
		     : reg_blob_get_mem(c, digest, size, &buf, &len, err);
	if (r < 0)
		return r;
	if ((int64_t)len != size)
		return cm_error_set(err, -EBADMSG, "config %s: %zu bytes, its descriptor says %lld", digest,
				    len, (long long)size);
	if ((r = cm_json_parse(buf, len, ret, jerr, sizeof(jerr))) < 0)
		return cm_error_set(err, r, "config %s: %s", digest, jerr);
	if (!have && (r = ims_ingest_put(t, digest, buf, len, err)) < 0)
		return r;
	return 0;
}

/* The layer jobs of manifest m over config cfg: validated descriptors. */
static int plan_layers(const struct cm_json *m, const struct cm_json *cfg, struct job **ret,
		       size_t *ret_n, struct cm_error *err)
{
	const struct cm_json *ls = cm_json_get(m, "layers");
	const struct cm_json *di = cm_json_get(cm_json_get(cfg, "rootfs"), "diff_ids");
	if (!cm_json_is(ls, CM_JSON_ARRAY) || ls->n > REG_MAX_LAYERS)
		return cm_error_set(err, -EPROTO, "manifest has %zu layers, over the cap of %d",
				    cm_json_is(ls, CM_JSON_ARRAY) ? ls->n : 0, REG_MAX_LAYERS);
	if (!cm_json_is(di, CM_JSON_ARRAY) || di->n != ls->n)
		return cm_error_set(err, -EPROTO, "config rootfs.diff_ids does not match the manifest's layers");
	struct job *js = calloc(ls->n + 1, sizeof(*js));
	if (!js)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ls->n; i++) {
		const char *mt = cm_json_get_str(ls->v[i], "mediaType");
		int r = reg_desc_get(ls->v[i], REG_MAX_LAYER_SIZE, &js[i].digest, &js[i].size, err);
		if (r >= 0 && !layer_type_ok(mt))
			r = cm_error_set(err, -EPROTO, "layer %zu: unsupported media type %.100s", i,
					 mt ? mt : "(none)");
		js[i].diffid = cm_json_str(di->v[i]);
		if (r >= 0 && !cm_digest_valid(js[i].diffid))
			r = cm_error_set(err, -EPROTO, "config: bad diff_id %zu", i);
		if (r < 0) {
			free(js);
			return r;
		}
		snprintf(js[i].id, sizeof(js[i].id), "%.12s", js[i].digest + 7);
	}
	*ret = js;
	*ret_n = ls->n;
	return 0;
}

static int fetch_layers(struct reg_client *c, struct ims_ingest *t, struct job *js, size_t n,
			const struct reg_pull_opts *o, bool *ret_any, struct cm_error *err)
{
	struct reg_blob_req *q = calloc(n + 1, sizeof(*q));
	size_t nq = 0;
	int r = 0;
	if (!q)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r >= 0; i++) {
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= strcmp(js[k].digest, js[i].digest) == 0;
		if (dup)
			continue;
		if (ims_ingest_has_blob(t, js[i].digest) && ims_ingest_has_layer(t, js[i].diffid)) {
			event(o, REG_EV_EXISTS, js[i].id, 0, 0);
			continue;
		}
		event(o, REG_EV_FS_LAYER, js[i].id, 0, js[i].size);
		js[i].o = o;
		js[i].fetch = true;
		if ((r = ims_ingest_blob_open_layer(t, js[i].digest, js[i].size, js[i].diffid, &js[i].b,
						    err)) < 0)
			break;
		q[nq++] = (struct reg_blob_req){ .digest = js[i].digest, .size = js[i].size,
						 .write = job_write, .progress = job_progress,
						 .ctx = &js[i] };
	}
	if (r >= 0 && nq)
		r = reg_blobs_get(c, q, nq, o->parallel, err);
	for (size_t i = 0; i < n; i++) {
		if (!js[i].b)
			continue;
		if (r >= 0) {
			event(o, REG_EV_VERIFYING, js[i].id, js[i].size, js[i].size);
			event(o, REG_EV_EXTRACTING, js[i].id, 0, js[i].size);
			r = ims_ingest_blob_commit(js[i].b, js[i].diffid, err);
			if (r < 0)
				cm_error_prefix(err, r, "layer %s", js[i].id);
			else
				event(o, REG_EV_COMPLETE, js[i].id, 0, 0);
		} else {
			ims_ingest_blob_free(js[i].b);
		}
		js[i].b = NULL;
	}
	*ret_any = nq > 0;
	free(q);
	return r;
}

/* The pull from one endpoint (the registry, or a mirror of docker.io). */
static int pull_from(struct reg_client *c, struct ims_store *s, const struct reg_ref *ref,
		     const struct reg_pull_opts *o, struct reg_pull_result *ret,
		     struct cm_error *err)
{
	struct reg_manifest m = { 0 };
	struct reg_pull_result res = { 0 };
	struct ims_ingest *t = NULL;
	struct job *js = NULL;
	size_t n = 0;
	_cleanup_json_ struct cm_json *cfg = NULL;
	int r = ims_ingest_begin(s, &t, err);
	if (r < 0)
		return r;
	if ((r = resolve_manifest(c, ref, o, &m, &res, err)) < 0)
		goto out;
	memcpy(res.manifest, m.digest, CM_DIGEST_STR_LEN);
	const char *cd;
	int64_t cs;
	if ((r = reg_desc_get(cm_json_get(m.json, "config"), REG_MAX_MANIFEST, &cd, &cs, err)) < 0)
		goto out;
	memcpy(res.id, cd, CM_DIGEST_STR_LEN);
	char before[CM_DIGEST_STR_LEN];
	ims_ingest_named(t, ref->name, before);
	/* docker prints no layer lines for an image that is up to date */
	struct reg_pull_opts lo = *o;
	if (ref->name && strcmp(before, m.digest) == 0)
		lo.event = NULL;
	if ((r = get_config(c, t, cd, cs, &cfg, err)) < 0 ||
	    (r = plan_layers(m.json, cfg, &js, &n, err)) < 0 ||
	    (r = fetch_layers(c, t, js, n, &lo, &res.downloaded, err)) < 0)
		goto out;
	if (!ims_ingest_has_blob(t, m.digest)) {
		res.downloaded = true;
		if ((r = ims_ingest_put(t, m.digest, m.body, m.len, err)) < 0)
			goto out;
	}
	if (ref->name && strcmp(before, m.digest) != 0)
		res.downloaded = true;
	/* docker's RepoDigests name what the registry serves for the reference:
	 * the index's digest when it was one */
	char rd[1024];
	if (snprintf(rd, sizeof(rd), "%s/%s@%s", ref->domain, ref->repo,
		     res.digest[0] ? res.digest : m.digest) >= (int)sizeof(rd)) {
		r = cm_error_set(err, -ENAMETOOLONG, "%s/%s: name too long", ref->domain, ref->repo);
		goto out;
	}
	r = ims_ingest_name(t, m.digest, (int64_t)m.len, ref->name, rd, err);
out:
	free(js);
	reg_manifest_clear(&m);
	ims_ingest_free(t);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}

/* fn over the endpoints of ref until one succeeds: docker.io's mirrors
 * first, in order, as docker does (a mirror that fails, down or without the
 * image, hands over to the next one), the registry itself last; its error
 * is the one returned. fn takes back what a failed try published. */
static int each_endpoint(const struct reg_ref *ref, const struct reg_opts *ro,
			 int (*fn)(struct reg_client *c, void *ctx, struct cm_error *err), void *ctx,
			 struct cm_error *err)
{
	const struct reg_config *cf;
	int r = reg_config_get(&cf, err);
	if (r < 0)
		return r;
	for (size_t i = 0; strcmp(ref->domain, "docker.io") == 0 && i < cf->n_mirrors; i++) {
		const char *m = cf->mirrors[i];
		bool http = strncmp(m, "http://", 7) == 0;
		_cleanup_free_ char *host = strndup(m + (http ? 7 : 8), strcspn(m + (http ? 7 : 8), "/"));
		_cleanup_client_ struct reg_client *c = NULL;
		struct cm_error me = { 0 };
		if (!host)
			return cm_error_set(err, -ENOMEM, "out of memory");
		if (reg_client_new_at(host, http ? "http" : "https", ref->repo, ro, &c, &me) >= 0 &&
		    fn(c, ctx, &me) >= 0)
			return 0;
	}
	_cleanup_client_ struct reg_client *c = NULL;
	if ((r = reg_client_new(ref, ro, &c, err)) < 0)
		return r;
	return fn(c, ctx, err);
}

struct pull_ctx {
	struct ims_store *s;
	const struct reg_ref *ref;
	const struct reg_pull_opts *o;
	struct reg_pull_result *ret;
};

static int pull_one(struct reg_client *c, void *ctx, struct cm_error *err)
{
	struct pull_ctx *x = ctx;
	return pull_from(c, x->s, x->ref, x->o, x->ret, err);
}

int reg_pull(struct ims_store *s, const struct reg_ref *ref, const struct reg_pull_opts *o,
	     struct reg_pull_result *ret, struct cm_error *err)
{
	const struct reg_config *cf;
	struct reg_pull_opts po = *o;
	int r = reg_config_get(&cf, err);
	if (r < 0 || (r = reg_config_concurrency(o->parallel, false, &po.parallel, err)) < 0)
		return r;
	event(o, REG_EV_PULLING, ref->digest[0] ? ref->digest : ref->tag, 0, 0);
	struct pull_ctx x = { s, ref, &po, ret };
	return each_endpoint(ref, &o->reg, pull_one, &x, err);
}

struct tags_ctx {
	char ***ret;
	size_t *ret_n;
};

static int tags_one(struct reg_client *c, void *ctx, struct cm_error *err)
{
	struct tags_ctx *x = ctx;
	return reg_tags_list(c, x->ret, x->ret_n, err);
}

int reg_pull_tags(const struct reg_ref *ref, const struct reg_opts *o, char ***ret, size_t *ret_n,
		  struct cm_error *err)
{
	struct tags_ctx x = { ret, ret_n };
	return each_endpoint(ref, o, tags_one, &x, err);
}
