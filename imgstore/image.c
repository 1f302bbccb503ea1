// SPDX-License-Identifier: MIT
/* Images: manifests and configs (OCI JSON), names in index.json, reference
 * resolution, tag, rmi, and docker inspect's view. */
#include "ims-internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t ims_time_parse(const char *s)
{
	struct tm tm = { 0 };
	if (!s)
		return 0;
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return 0;
	int64_t t = (int64_t)timegm(&tm);
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
		int h = (p[1] - '0') * 10 + (p[2] - '0');
		int m = (p[4] - '0') * 10 + (p[5] - '0');
		int64_t off = (int64_t)h * 3600 + m * 60;
		t += *p == '+' ? -off : off;
	}
	return t;
}

void ims_time_format(int64_t t, char *buf, size_t sz)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ims_image_free(struct ims_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->n_names; i++)
		free(img->names[i]);
	free(img->names);
	for (size_t i = 0; i < img->n_repo_digests; i++)
		free(img->repo_digests[i]);
	free(img->repo_digests);
	cm_json_free(img->manifest);
	cm_json_free(img->config);
	free(img);
}

void ims_image_freep(struct ims_image **img)
{
	ims_image_free(*img);
}

static int read_json_blob(struct ims_store *s, const char *digest,
			  struct cm_json **ret, struct cm_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	char jerr[128];
	int r = ims_blob_read(s, digest, IMS_MAX_JSON, &buf, &len, err);
	if (r < 0)
		return r;
	r = cm_json_parse(buf, len, ret, jerr, sizeof(jerr));
	if (r < 0)
		return cm_error_set(err, r, "blob %s: %s", digest, jerr);
	return 0;
}

int ims_image_load(struct ims_store *s, const char *digest, int64_t size,
		   struct ims_image **ret, struct cm_error *err)
{
	struct ims_image *img = calloc(1, sizeof(*img));
	_cleanup_image_ struct ims_image *ip = img;
	if (!img)
		return cm_error_set(err, -ENOMEM, "out of memory");
	snprintf(img->digest, sizeof(img->digest), "%s", digest);
	img->manifest_size = size;
	int r = read_json_blob(s, digest, &img->manifest, err);
	if (r < 0)
		return r;
	const char *cd = cm_json_get_str(cm_json_get(img->manifest, "config"), "digest");
	if (!cm_digest_valid(cd))
		return cm_error_set(err, -EINVAL, "manifest %s: bad config digest", digest);
	snprintf(img->id, sizeof(img->id), "%s", cd);
	if ((r = read_json_blob(s, cd, &img->config, err)) < 0)
		return r;
	/* the unpacked size (the same whatever the format the image came in),
	 * else the sum of the layer blobs */
	const struct cm_json *layers = cm_json_get(img->manifest, "layers");
	const struct cm_json *di = cm_json_get(cm_json_get(img->config, "rootfs"), "diff_ids");
	for (size_t i = 0; cm_json_is(di, CM_JSON_ARRAY) && i < di->n && img->size >= 0; i++) {
		int64_t b = ims_layer_manifest_bytes(s, cm_json_str(di->v[i]));
		img->size = b < 0 ? -1 : img->size + b;
	}
	if (img->size < 0 || !cm_json_is(di, CM_JSON_ARRAY)) {
		img->size = 0;
		for (size_t i = 0; layers && layers->type == CM_JSON_ARRAY && i < layers->n; i++) {
			int64_t ls = 0;
			if (cm_json_get_int(layers->v[i], "size", &ls) && ls > 0)
				img->size += ls;
		}
	}
	img->created = ims_time_parse(cm_json_get_str(img->config, "created"));
	*ret = TAKE_PTR(ip);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* rd into img->repo_digests unless there */
static int add_repo_digest(struct ims_image *img, const char *rd)
{
	for (size_t k = 0; k < img->n_repo_digests; k++)
		if (strcmp(img->repo_digests[k], rd) == 0)
			return 0;
	char **nn = realloc(img->repo_digests, (img->n_repo_digests + 1) * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	img->repo_digests = nn;
	if (!(nn[img->n_repo_digests] = strdup(rd)))
		return -ENOMEM;
	img->n_repo_digests++;
	qsort(img->repo_digests, img->n_repo_digests, sizeof(char *), cmp_str);
	return 0;
}

const char *ims_image_repo_digest(const struct ims_image *img, const char *name)
{
	for (size_t k = 0; k < img->n_repo_digests; k++) {
		const char *rd = img->repo_digests[k];
		if (ims_ref_same_repo(rd, name))
			return rd + ims_ref_repo_len(rd) + 1;
	}
	return img->digest;
}

static int add_names(struct ims_image *img, const struct ims_index *idx)
{
	for (size_t i = 0; i < idx->n; i++) {
		if (idx->e[i].repo_digest && strcmp(idx->e[i].digest, img->digest) == 0) {
			int r = add_repo_digest(img, idx->e[i].repo_digest);
			if (r < 0)
				return r;
		}
		if (!idx->e[i].name || strcmp(idx->e[i].digest, img->digest) != 0)
			continue;
		char **nn = realloc(img->names, (img->n_names + 1) * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		img->names = nn;
		if (!(nn[img->n_names] = strdup(idx->e[i].name)))
			return -ENOMEM;
		img->n_names++;
	}
	if (img->n_names > 1)
		qsort(img->names, img->n_names, sizeof(char *), cmp_str);
	return 0;
}

/* Move b's names into a (the same image id under another manifest). */
static int merge_names(struct ims_image *a, struct ims_image *b)
{
	for (size_t k = 0; k < b->n_repo_digests; k++) {
		int r = add_repo_digest(a, b->repo_digests[k]);
		if (r < 0)
			return r;
	}
	if (!b->n_names)
		return 0;
	char **nn = realloc(a->names, (a->n_names + b->n_names) * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	a->names = nn;
	for (size_t k = 0; k < b->n_names; k++)
		a->names[a->n_names++] = b->names[k];
	b->n_names = 0;
	qsort(a->names, a->n_names, sizeof(char *), cmp_str);
	return 0;
}

static int load_entry(struct ims_store *s, const struct ims_index *idx, size_t i,
		      struct ims_image **ret, struct cm_error *err)
{
	struct ims_image *img = NULL;
	int r = ims_image_load(s, idx->e[i].digest, idx->e[i].size, &img, err);
	if (r < 0)
		return r;
	if ((r = add_names(img, idx)) < 0) {
		ims_image_free(img);
		return cm_error_set(err, r, "out of memory");
	}
	*ret = img;
	return 0;
}

/* Index of the first entry of each distinct manifest digest. */
static bool first_of_digest(const struct ims_index *idx, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(idx->e[j].digest, idx->e[i].digest) == 0)
			return false;
	return true;
}

static int resolve_in(struct ims_store *s, const struct ims_index *idx,
		      const char *ref, struct ims_image **ret, struct cm_error *err)
{
	const char *at = strchr(ref, '@');
	if (at || strncmp(ref, "sha256:", 7) == 0) {
		const char *d = at ? at + 1 : ref;
		if (at && !cm_digest_valid(d))
			return cm_error_set(err, -EINVAL, "'%s': invalid digest", ref);
		/* a manifest digest, or an image id */
		for (size_t i = 0; i < idx->n; i++)
			if (strcmp(idx->e[i].digest, d) == 0)
				return load_entry(s, idx, i, ret, err);
		/* REPO@DIGEST a pull recorded (an index's digest) */
		_cleanup_free_ char *full = NULL;
		_cleanup_free_ char *repo = at ? strndup(ref, (size_t)(at - ref)) : NULL;
		if (repo && ims_ref_normalize(repo, &full, NULL) == 0) {
			for (size_t i = 0; i < idx->n; i++) {
				const char *rd = idx->e[i].repo_digest;
				if (rd && ims_ref_same_repo(rd, full) &&
				    strcmp(rd + ims_ref_repo_len(rd) + 1, d) == 0)
					return load_entry(s, idx, i, ret, err);
			}
		}
		if (at)
			return cm_error_set(err, -ENOENT, "No such image: %s", ref);
		ref += 7;
		if (!ims_ref_is_id_prefix(ref))
			return cm_error_set(err, -EINVAL, "'%s': invalid image id", ref - 7);
	} else {
		struct cm_error e2;
		_cleanup_free_ char *full = NULL;
		if (ims_ref_normalize(ref, &full, &e2) == 0) {
			for (size_t i = 0; i < idx->n; i++)
				if (cm_streq(idx->e[i].name, full))
					return load_entry(s, idx, i, ret, err);
		}
		if (!ims_ref_is_id_prefix(ref)) {
			if (!full)
				return cm_error_set(err, e2.code, "%s", e2.msg);
			return cm_error_set(err, -ENOENT, "No such image: %s", ref);
		}
	}
	/* id or unique id prefix */
	size_t plen = strlen(ref), found = SIZE_MAX;
	char found_id[CM_DIGEST_STR_LEN] = "";
	for (size_t i = 0; i < idx->n; i++) {
		if (!first_of_digest(idx, i))
			continue;
		_cleanup_image_ struct ims_image *img = NULL;
		if (ims_image_load(s, idx->e[i].digest, idx->e[i].size, &img, NULL) < 0)
			continue;
		if (strncmp(img->id + 7, ref, plen) != 0)
			continue;
		if (found != SIZE_MAX && strcmp(found_id, img->id) != 0)
			return cm_error_set(err, -ENOTUNIQ, "'%s': ambiguous image id prefix", ref);
		found = i;
		snprintf(found_id, sizeof(found_id), "%s", img->id);
	}
	if (found == SIZE_MAX)
		return cm_error_set(err, -ENOENT, "No such image: %s", ref);
	return load_entry(s, idx, found, ret, err);
}

int ims_image_resolve(struct ims_store *s, const char *ref,
		      struct ims_image **ret, struct cm_error *err)
{
	struct ims_index idx;
	int r = ims_index_read(s, &idx, false, err);
	if (r < 0)
		return r;
	r = resolve_in(s, &idx, ref, ret, err);
	ims_index_release(&idx);
	return r;
}

static int cmp_created(const void *a, const void *b)
{
	const struct ims_image *x = *(struct ims_image *const *)a;
	const struct ims_image *y = *(struct ims_image *const *)b;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

int ims_image_list(struct ims_store *s, struct ims_image ***ret, size_t *ret_n,
		   struct cm_error *err)
{
	struct ims_index idx;
	int r = ims_index_read(s, &idx, false, err);
	if (r < 0)
		return r;
	struct ims_image **v = calloc(idx.n + 1, sizeof(*v));
	size_t n = 0;
	if (!v) {
		ims_index_release(&idx);
		return cm_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < idx.n; i++) {
		if (!first_of_digest(&idx, i))
			continue;
		if ((r = load_entry(s, &idx, i, &v[n], err)) < 0) {
			for (size_t j = 0; j < n; j++)
				ims_image_free(v[j]);
			free(v);
			ims_index_release(&idx);
			return r;
		}
		/* one row per image id, as docker: the same config under another
		 * manifest (loaded from another format) adds its names */
		size_t j = 0;
		while (j < n && strcmp(v[j]->id, v[n]->id) != 0)
			j++;
		if (j == n) {
			n++;
			continue;
		}
		if (!v[j]->n_names && v[n]->n_names) {
			struct ims_image *t = v[j];
			v[j] = v[n];
			v[n] = t;
		}
		r = merge_names(v[j], v[n]);
		ims_image_free(v[n]);
		v[n] = NULL;
		if (r < 0) {
			for (size_t k = 0; k < n; k++)
				ims_image_free(v[k]);
			free(v);
			ims_index_release(&idx);
			return cm_error_set(err, r, "out of memory");
		}
	}
	ims_index_release(&idx);
	if (n > 1) /* (v is NULL without images) */
		qsort(v, n, sizeof(*v), cmp_created);
	*ret = v;
	*ret_n = n;
	return 0;
}

int ims_image_tag(struct ims_store *s, const char *ref, const char *dst,
		  struct cm_error *err)
{
	_cleanup_free_ char *full = NULL;
	int r = ims_ref_normalize(dst, &full, err);
	if (r < 0)
		return r;
	struct ims_index idx;
	if ((r = ims_index_read(s, &idx, true, err)) < 0)
		return r;
	_cleanup_image_ struct ims_image *img = NULL;
	r = resolve_in(s, &idx, ref, &img, err);
	if (r == 0 && (r = ims_index_put(&idx, img->digest, img->manifest_size, full)) < 0)
		cm_error_set(err, r, "out of memory");
	if (r == 0)
		r = ims_index_write(s, &idx, err);
	ims_index_release(&idx);
	return r;
}

int ims_image_remove(struct ims_store *s, const char *ref, bool force,
		     void (*report)(void *ctx, const char *line), void *ctx,
		     struct cm_error *err)
{
	struct ims_index idx;
	int r = ims_index_read(s, &idx, true, err);
	if (r < 0)
		return r;
	_cleanup_image_ struct ims_image *img = NULL;
	if ((r = resolve_in(s, &idx, ref, &img, err)) < 0) {
		ims_index_release(&idx);
		return r;
	}
	_cleanup_free_ char *full = NULL;
	struct cm_error e2;
	bool by_name = !strchr(ref, '@') && ims_ref_normalize(ref, &full, &e2) == 0 &&
		       img->n_names > 0;
	if (by_name) {
		by_name = false;
		for (size_t i = 0; i < img->n_names; i++)
			by_name |= strcmp(img->names[i], full) == 0;
	}
	if (!by_name && img->n_names > 1 && !force) {
		ims_index_release(&idx);
		return cm_error_set(err, -EBUSY,
				    "conflict: unable to delete %.12s (must be forced) - image is referenced in multiple repositories",
				    img->id + 7);
	}
	/* a container keeps its image: refused unless forced (then only the
	 * names go; gc keeps what the container still uses) */
	bool would_delete = true;
	for (size_t i = 0; by_name && i < idx.n; i++)
		if (strcmp(idx.e[i].digest, img->digest) == 0 && !cm_streq(idx.e[i].name, full))
			would_delete = false;
	char user[CM_SHA256_HEX_LEN + 1];
	if (would_delete && !force && ims_container_uses_image(s, img->id, user)) {
		ims_index_release(&idx);
		if (by_name)
			return cm_error_set(err, -EBUSY,
					    "conflict: unable to remove repository reference \"%s\" (must force) - container %.12s is using its referenced image %.12s",
					    ref, user, img->id + 7);
		return cm_error_set(err, -EBUSY,
				    "conflict: unable to delete %.12s (must be forced) - image is being used by container %.12s",
				    img->id + 7, user);
	}
	char line[600];
	bool deleted = true;
	for (size_t i = 0; i < idx.n;) {
		struct ims_index_ent *e = &idx.e[i];
		bool same = strcmp(e->digest, img->digest) == 0;
		if (!same && !by_name) {
			/* by id: the same image under another manifest goes too */
			_cleanup_image_ struct ims_image *o = NULL;
			same = ims_image_load(s, e->digest, e->size, &o, NULL) == 0 &&
			       strcmp(o->id, img->id) == 0;
		}
		if (!same) {
			i++;
			continue;
		}
		if (by_name && !cm_streq(e->name, full)) {
			deleted = false;
			i++;
			continue;
		}
		if (e->name && report) {
			snprintf(line, sizeof(line), "Untagged: %s", ims_ref_short(e->name));
			report(ctx, line);
		}
		ims_index_remove_at(&idx, i);
	}
	r = ims_index_write(s, &idx, err);
	ims_index_release(&idx);
	if (r < 0)
		return r;
	if (deleted && report) {
		snprintf(line, sizeof(line), "Deleted: %s", img->id);
		report(ctx, line);
	}
	if (deleted)
		(void)ims_gc(s, true, NULL, NULL, NULL);
	return 0;
}

int ims_image_put_blobs(struct ims_store *s, const char *config, size_t config_len,
			const struct ims_desc *layers, size_t n_layers,
			char ret_id[CM_DIGEST_STR_LEN], char ret_manifest[CM_DIGEST_STR_LEN],
			int64_t *ret_msize, struct cm_error *err)
{
	char cd[CM_DIGEST_STR_LEN], md[CM_DIGEST_STR_LEN];
	int r = ims_blob_put(s, config, config_len, cd, err);
	if (r < 0)
		return r;
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kint(&w, "schemaVersion", 2);
	cm_jw_kstr(&w, "mediaType", IMS_MT_MANIFEST);
	cm_jw_key(&w, "config");
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "mediaType", IMS_MT_CONFIG);
	cm_jw_kstr(&w, "digest", cd);
	cm_jw_kint(&w, "size", (int64_t)config_len);
	cm_jw_obj_end(&w);
	cm_jw_key(&w, "layers");
	cm_jw_arr(&w);
	for (size_t i = 0; i < n_layers; i++) {
		cm_jw_obj(&w);
		cm_jw_kstr(&w, "mediaType", layers[i].media_type);
		cm_jw_kstr(&w, "digest", layers[i].digest);
		cm_jw_kint(&w, "size", layers[i].size);
		cm_jw_obj_end(&w);
	}
	cm_jw_arr_end(&w);
	cm_jw_obj_end(&w);
	_cleanup_free_ char *m = NULL;
	size_t mlen;
	if ((r = cm_jw_finish(&w, &m, &mlen)) < 0)
		return cm_error_set(err, r, "out of memory");
	if ((r = ims_blob_put(s, m, mlen, md, err)) < 0)
		return r;
	memcpy(ret_id, cd, CM_DIGEST_STR_LEN);
	memcpy(ret_manifest, md, CM_DIGEST_STR_LEN);
	*ret_msize = (int64_t)mlen;
	return 0;
}

int ims_image_publish(struct ims_store *s, const char *config, size_t config_len,
		      const struct ims_desc *layers, size_t n_layers,
		      const char *name, char ret_id[CM_DIGEST_STR_LEN],
		      char ret_manifest[CM_DIGEST_STR_LEN], struct cm_error *err)
{
	char cd[CM_DIGEST_STR_LEN], md[CM_DIGEST_STR_LEN];
	int64_t msize;
	int r = ims_image_put_blobs(s, config, config_len, layers, n_layers, cd, md, &msize, err);
	if (r < 0)
		return r;
	struct ims_index idx;
	if ((r = ims_index_read(s, &idx, true, err)) < 0)
		return r;
	if ((r = ims_index_put(&idx, md, msize, name)) < 0)
		cm_error_set(err, r, "out of memory");
	else
		r = ims_index_write(s, &idx, err);
	ims_index_release(&idx);
	if (r < 0)
		return r;
	if (ret_id)
		memcpy(ret_id, cd, CM_DIGEST_STR_LEN);
	if (ret_manifest)
		memcpy(ret_manifest, md, CM_DIGEST_STR_LEN);
	return 0;
}

static void kcopy(struct cm_jw *w, const struct cm_json *from, const char *key,
		  const char *as, bool str_default)
{
	const struct cm_json *v = cm_json_get(from, key);
	cm_jw_key(w, as ? as : key);
	if (v)
		cm_jw_value(w, v);
	else if (str_default)
		cm_jw_str(w, "");
	else
		cm_jw_null(w);
}

int ims_image_inspect(struct ims_store *s, const struct ims_image *img,
		      struct cm_jw *w, struct cm_error *err)
{
	const struct cm_json *cfg = img->config;
	const struct cm_json *cc = cm_json_get(cfg, "config");
	const struct cm_json *hist = cm_json_get(cfg, "history");
	const char *comment = "";
	if (cm_json_is(hist, CM_JSON_ARRAY) && hist->n > 0) {
		const char *c = cm_json_get_str(hist->v[hist->n - 1], "comment");
		if (c)
			comment = c;
	}
	cm_jw_obj(w);
	cm_jw_kstr(w, "Id", img->id);
	cm_jw_key(w, "RepoTags");
	cm_jw_arr(w);
	for (size_t i = 0; i < img->n_names; i++)
		cm_jw_str(w, ims_ref_short(img->names[i]));
	cm_jw_arr_end(w);
	cm_jw_key(w, "RepoDigests");
	cm_jw_arr(w);
	/* repo@digest, as docker shows it: what a pull or push recorded, the
	 * manifest digest for the other names' repositories */
	for (size_t i = 0; i < img->n_repo_digests; i++)
		cm_jw_str(w, ims_ref_short(img->repo_digests[i]));
	for (size_t i = 0; i < img->n_names; i++) {
		if (ims_image_repo_digest(img, img->names[i]) != img->digest)
			continue;
		char buf[600];
		const char *sh = ims_ref_short(img->names[i]);
		int off = ims_ref_tag_offset(sh);
		snprintf(buf, sizeof(buf), "%.*s@%s", off >= 0 ? off : (int)strlen(sh), sh,
			 img->digest);
		cm_jw_str(w, buf);
	}
	cm_jw_arr_end(w);
	cm_jw_kstr(w, "Parent", "");
	cm_jw_kstr(w, "Comment", comment);
	kcopy(w, cfg, "created", "Created", true);
	cm_jw_kstr(w, "DockerVersion", "");
	kcopy(w, cfg, "author", "Author", true);
	cm_jw_key(w, "Config");
	cm_jw_obj(w);
	cm_jw_kstr(w, "Hostname", "");
	cm_jw_kstr(w, "Domainname", "");
	kcopy(w, cc, "User", NULL, true);
	cm_jw_key(w, "AttachStdin");
	cm_jw_bool(w, false);
	cm_jw_key(w, "AttachStdout");
	cm_jw_bool(w, false);
	cm_jw_key(w, "AttachStderr");
	cm_jw_bool(w, false);
	if (cm_json_get(cc, "ExposedPorts"))
		kcopy(w, cc, "ExposedPorts", NULL, false);
	cm_jw_key(w, "Tty");
	cm_jw_bool(w, false);
	cm_jw_key(w, "OpenStdin");
	cm_jw_bool(w, false);
	cm_jw_key(w, "StdinOnce");
	cm_jw_bool(w, false);
	kcopy(w, cc, "Env", NULL, false);
	kcopy(w, cc, "Cmd", NULL, false);
	cm_jw_kstr(w, "Image", "");
	kcopy(w, cc, "Volumes", NULL, false);
	kcopy(w, cc, "WorkingDir", NULL, true);
	kcopy(w, cc, "Entrypoint", NULL, false);
	cm_jw_key(w, "OnBuild");
	cm_jw_null(w);
	kcopy(w, cc, "Labels", NULL, false);
	if (cm_json_get(cc, "StopSignal"))
		kcopy(w, cc, "StopSignal", NULL, false);
	cm_jw_obj_end(w);
	kcopy(w, cfg, "architecture", "Architecture", true);
	if (cm_json_get(cfg, "variant"))
		kcopy(w, cfg, "variant", "Variant", true);
	kcopy(w, cfg, "os", "Os", true);
	cm_jw_kint(w, "Size", img->size);
	cm_jw_key(w, "GraphDriver");
	cm_jw_obj(w);
	cm_jw_key(w, "Data");
	cm_jw_obj(w);
	const struct cm_json *diffs = cm_json_get(cm_json_get(cfg, "rootfs"), "diff_ids");
	/* ufsmount's ro branches, top first */
	size_t cap = 1;
	for (size_t i = 0; cm_json_is(diffs, CM_JSON_ARRAY) && i < diffs->n; i++)
		cap += strlen(s->root) + 80;
	_cleanup_free_ char *lower = calloc(1, cap);
	if (!lower)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = diffs ? diffs->n : 0; cm_json_is(diffs, CM_JSON_ARRAY) && i-- > 0;) {
		const char *d = cm_json_str(diffs->v[i]);
		if (!cm_digest_valid(d))
			continue;
		size_t l = strlen(lower);
		snprintf(lower + l, cap - l, "%s%s/layers/%s", l ? ":" : "", s->root, d + 7);
	}
	cm_jw_kstr(w, "LowerDir", lower);
	cm_jw_obj_end(w);
	cm_jw_kstr(w, "Name", "ufs");
	cm_jw_obj_end(w);
	cm_jw_key(w, "RootFS");
	cm_jw_obj(w);
	cm_jw_kstr(w, "Type", "layers");
	cm_jw_key(w, "Layers");
	cm_jw_arr(w);
	for (size_t i = 0; cm_json_is(diffs, CM_JSON_ARRAY) && i < diffs->n; i++)
		cm_jw_value(w, diffs->v[i]);
	cm_jw_arr_end(w);
	cm_jw_obj_end(w);
	cm_jw_key(w, "Metadata");
	cm_jw_obj(w);
	cm_jw_kstr(w, "LastTagTime", "0001-01-01T00:00:00Z");
	cm_jw_obj_end(w);
	cm_jw_kstr(w, "Digest", img->digest);
	cm_jw_obj_end(w);
	return 0;
}

/* a's array key (diff_ids, history) is a prefix of b's; *longer if b's is longer. */
static bool json_prefix(const struct cm_json *a, const struct cm_json *b, bool by, bool *longer)
{
	size_t na = cm_json_is(a, CM_JSON_ARRAY) ? a->n : 0, nb = cm_json_is(b, CM_JSON_ARRAY) ? b->n : 0;
	if (na > nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		const char *x = by ? cm_json_get_str(a->v[i], "created_by") : cm_json_str(a->v[i]);
		const char *y = by ? cm_json_get_str(b->v[i], "created_by") : cm_json_str(b->v[i]);
		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
			return false;
	}
	*longer = nb > na;
	return true;
}

bool ims_image_extends(const struct ims_image *child, const struct ims_image *parent)
{
	const struct cm_json *hp = cm_json_get(parent->config, "history");
	bool l1, l2;
	if (child == parent || !cm_json_is(hp, CM_JSON_ARRAY) || hp->n == 0)
		return false;
	return json_prefix(cm_json_get(cm_json_get(parent->config, "rootfs"), "diff_ids"),
			   cm_json_get(cm_json_get(child->config, "rootfs"), "diff_ids"), false, &l1) &&
	       json_prefix(hp, cm_json_get(child->config, "history"), true, &l2) && l2;
}

int ims_image_intermediates(struct ims_image *const *v, size_t n, bool **ret)
{
	bool *m = calloc(n + 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; !v[i]->n_names && k < n && !m[i]; k++)
			m[i] = ims_image_extends(v[k], v[i]);
	*ret = m;
	return 0;
}
