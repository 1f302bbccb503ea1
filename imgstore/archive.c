// SPDX-License-Identifier: MIT
/* img load (docker-archive, OCI archive, OCI layout dir) and img save (the
 * same three). Load: every file of an archive is first streamed into a
 * hashed temp (tmp/), then the manifests are checked against those digests
 * and sizes, every layer is unpacked with its diff_id verified, and blobs
 * are linked in. Names are written last, all at once (one index.json write),
 * only when every image of the load is published. A failure names nothing;
 * what this load published is removed if no other writer may count it as
 * present (ims_gc_rollback), else left to gc. */
#include "ims-internal.h"
#include "cm-platform.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

struct srcfile {
	char *path;                      /* cleaned path in the source */
	char tmp[64];                    /* temp in s->tmpfd */
	char digest[CM_DIGEST_STR_LEN];
	int64_t size;
	char *link;                      /* symlink/hardlink: cleaned target */
};

struct pending {                 /* a name to write once everything is in */
	char digest[CM_DIGEST_STR_LEN];  /* manifest */
	int64_t size;
	char id[CM_DIGEST_STR_LEN];      /* config */
	char *name;                      /* normalized, or NULL */
};

struct loader {
	struct ims_store *s;
	struct cm_error *err;
	int dirfd;                       /* OCI layout dir source, or -1 */
	struct srcfile **f;              /* each allocated alone: pointers stay valid */
	size_t n;
	struct ims_strmap byname;        /* path -> srcfile (the last of a name) */
	char **new_layers;               /* published by this load (hex) */
	size_t n_new;
	char **new_blobs;                /* linked by this load (hex) */
	size_t n_newb;
	struct pending *pend;
	size_t n_pend;
	void (*report)(void *, const char *);
	void *ctx;
};

static void loader_free(struct loader *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->f[i]->tmp[0])
			unlinkat(l->s->tmpfd, l->f[i]->tmp, 0);
		free(l->f[i]->path);
		free(l->f[i]->link);
		free(l->f[i]);
	}
	free(l->f);
	ims_strmap_free(&l->byname);
	for (size_t i = 0; i < l->n_new; i++)
		free(l->new_layers[i]);
	free(l->new_layers);
	for (size_t i = 0; i < l->n_newb; i++)
		free(l->new_blobs[i]);
	free(l->new_blobs);
	for (size_t i = 0; i < l->n_pend; i++)
		free(l->pend[i].name);
	free(l->pend);
	cm_close(&l->dirfd);
}

static struct srcfile *add_file(struct loader *l, const char *path)
{
	struct srcfile **nf = realloc(l->f, (l->n + 1) * sizeof(*nf));
	if (!nf)
		return NULL;
	l->f = nf;
	struct srcfile *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	l->f[l->n++] = f;
	if (!(f->path = strdup(path)) || ims_strmap_put(&l->byname, path, f) < 0)
		return NULL;
	return f;
}

static int64_t fd_size(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* Stream fd (or the current archive entry) into a hashed temp. */
static int copy_to_tmp(struct loader *l, struct srcfile *f, int fd, struct archive *a,
		       int64_t total)
{
	struct ims_blob_writer w;
	int r = ims_blob_writer_open(l->s, &w, l->err);
	if (r < 0)
		return r;
	char label[96];
	snprintf(label, sizeof(label), "Loading %.80s", f->path);
	w.label = label;
	w.total = total;
	w.nosync = true; /* most temps are never published: synced when linked */
	char buf[1 << 16];
	for (;;) {
		ssize_t k = a ? archive_read_data(a, buf, sizeof(buf)) : read(fd, buf, sizeof(buf));
		if (k < 0 && !a && errno == EINTR)
			continue;
		if (k < 0) {
			r = a ? cm_error_set(l->err, -EBADMSG, "reading %s: %s", f->path,
					     archive_error_string(a))
			      : cm_error_setx(l->err, cm_neg_errno(), "reading %s", f->path);
			ims_blob_writer_abort(&w);
			return r;
		}
		if (k == 0)
			break;
		if ((r = ims_blob_writer_write(&w, buf, (size_t)k, l->err)) < 0) {
			ims_blob_writer_abort(&w);
			return r;
		}
	}
	f->size = w.size;
	memcpy(f->tmp, w.tmp, sizeof(f->tmp));
	return ims_blob_writer_finish_tmp(&w, f->digest, l->err);
}

static int resolve_link(const char *dir_of, const char *target, char *out, size_t sz)
{
	char joined[PATH_MAX * 2];
	if (target[0] == '/')
		snprintf(joined, sizeof(joined), "%s", target);
	else
		snprintf(joined, sizeof(joined), "%s/%s", dir_of, target);
	/* resolve '..' lexically, refusing to climb above the archive root */
	char *parts[PATH_MAX / 2];
	size_t np = 0;
	char *save = NULL;
	for (char *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (np == 0)
				return -EINVAL;
			np--;
			continue;
		}
		if (np == CM_ARRAY_SIZE(parts))
			return -ENAMETOOLONG;
		parts[np++] = c;
	}
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < np; i++) {
		int k = snprintf(out + n, sz - n, "%s%s", i ? "/" : "", parts[i]);
		if (k < 0 || (size_t)k >= sz - n)
			return -ENAMETOOLONG;
		n += (size_t)k;
	}
	return 0;
}

static int read_archive(struct loader *l, int fd)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r = 0;
	if (!a)
		return cm_error_set(l->err, -ENOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
		r = cm_error_set(l->err, -EBADMSG, "not an image archive: %s", archive_error_string(a));
		goto out;
	}
	for (;;) {
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			r = cm_error_set(l->err, -EBADMSG, "reading the archive: %s",
					 archive_error_string(a));
			goto out;
		}
		char path[PATH_MAX];
		const char *raw = archive_entry_pathname(e);
		if (!raw || ims_path_clean(raw, path, sizeof(path)) < 0) {
			r = cm_error_set(l->err, -EINVAL, "refusing archive entry '%s': bad name",
					 raw ? raw : "");
			goto out;
		}
		mode_t t = archive_entry_filetype(e);
		const char *hl = archive_entry_hardlink(e);
		if (t == AE_IFDIR || !path[0])
			continue;
		struct srcfile *f = add_file(l, path);
		if (!f) {
			r = cm_error_set(l->err, -ENOMEM, "out of memory");
			goto out;
		}
		if (hl || t == AE_IFLNK) {
			char tgt[PATH_MAX], dir[PATH_MAX];
			snprintf(dir, sizeof(dir), "%s", path);
			char *sl = strrchr(dir, '/');
			if (sl)
				*sl = '\0';
			else
				dir[0] = '\0';
			const char *target = hl ? hl : archive_entry_symlink(e);
			if (!target || resolve_link(hl ? "" : dir, target, tgt, sizeof(tgt)) < 0) {
				r = cm_error_set(l->err, -EINVAL, "refusing archive entry '%s': link leaves the archive", raw);
				goto out;
			}
			if (!(f->link = strdup(tgt))) {
				r = cm_error_set(l->err, -ENOMEM, "out of memory");
				goto out;
			}
			continue;
		}
		if (t != AE_IFREG)
			continue;
		if ((r = copy_to_tmp(l, f, -1, a, archive_entry_size_is_set(e) ? archive_entry_size(e) : -1)) < 0)
			goto out;
		if (archive_entry_size_is_set(e) && archive_entry_size(e) != f->size) {
			r = cm_error_set(l->err, -EBADMSG, "archive entry '%s' is truncated", raw);
			goto out;
		}
	}
out:
	archive_read_free(a);
	return r;
}

/* The file at path: from the archive's temps (following links, at most 8),
 * or copied from the layout dir on first use. NULL with err set if absent. */
static struct srcfile *get_file(struct loader *l, const char *path)
{
	char cur[PATH_MAX];
	if (ims_path_clean(path, cur, sizeof(cur)) < 0) {
		cm_error_set(l->err, -EINVAL, "bad path '%s' in the image manifest", path);
		return NULL;
	}
	for (int hop = 0; hop < 8; hop++) {
		struct srcfile *f = ims_strmap_get(&l->byname, cur);
		if (f && f->link) {
			snprintf(cur, sizeof(cur), "%s", f->link);
			continue;
		}
		if (f)
			return f;
		break;
	}
	if (l->dirfd >= 0) {
		_cleanup_close_ int fd = cm_openat_beneath(l->dirfd, cur, O_RDONLY, 0, false);
		if (fd < 0) {
			cm_error_setx(l->err, fd, "%s", cur);
			return NULL;
		}
		struct srcfile *f = add_file(l, cur);
		if (!f) {
			cm_error_set(l->err, -ENOMEM, "out of memory");
			return NULL;
		}
		if (copy_to_tmp(l, f, fd, NULL, fd_size(fd)) < 0)
			return NULL;
		return f;
	}
	cm_error_set(l->err, -ENOENT, "'%s' is missing from the archive", cur);
	return NULL;
}

static int read_json_file(struct loader *l, struct srcfile *f, struct cm_json **ret)
{
	_cleanup_close_ int fd = openat(l->s->tmpfd, f->tmp, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	char jerr[128];
	if (fd < 0)
		return cm_error_setx(l->err, cm_neg_errno(), "%s", f->path);
	int r = ims_read_fd(fd, IMS_MAX_JSON, &buf, &len);
	if (r < 0)
		return cm_error_setx(l->err, r, "%s", f->path);
	if ((r = cm_json_parse(buf, len, ret, jerr, sizeof(jerr))) < 0)
		return cm_error_set(l->err, r, "%s: %s", f->path, jerr);
	return 0;
}

/* Remember a blob (hex) this load may have published, for the rollback. */
static int note_blob(struct loader *l, const char *digest)
{
	char **nb = realloc(l->new_blobs, (l->n_newb + 1) * sizeof(*nb));
	if (!nb)
		return cm_error_set(l->err, -ENOMEM, "out of memory");
	l->new_blobs = nb;
	if (!(nb[l->n_newb] = strdup(digest + 7)))
		return cm_error_set(l->err, -ENOMEM, "out of memory");
	l->n_newb++;
	return 0;
}

static int link_blob(struct loader *l, struct srcfile *f)
{
	_cleanup_close_ int fd = openat(l->s->tmpfd, f->tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return cm_error_setx(l->err, cm_neg_errno(), "fsync of the temp of blob %s", f->digest);
	if (linkat(l->s->tmpfd, f->tmp, l->s->blobsfd, f->digest + 7, 0) < 0) {
		if (errno == EEXIST)
			return 0;
		return cm_error_setx(l->err, cm_neg_errno(), "publishing blob %s", f->digest);
	}
	return note_blob(l, f->digest);
}

/* Queue the name (normalized, or NULL) of a published manifest. */
static int add_pending(struct loader *l, const char *digest, int64_t size, const char *id,
		       const char *name)
{
	struct pending *np = realloc(l->pend, (l->n_pend + 1) * sizeof(*np));
	if (!np)
		return cm_error_set(l->err, -ENOMEM, "out of memory");
	l->pend = np;
	struct pending *p = &np[l->n_pend];
	memset(p, 0, sizeof(*p));
	snprintf(p->digest, sizeof(p->digest), "%s", digest);
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->size = size;
	if (name && !(p->name = strdup(name)))
		return cm_error_set(l->err, -ENOMEM, "out of memory");
	l->n_pend++;
	return 0;
}

/* Every image is in: write all the names in one index.json write. */
static int commit_names(struct loader *l)
{
	struct ims_index idx;
	int r = ims_index_read(l->s, &idx, true, l->err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l->n_pend && r >= 0; i++)
		if ((r = ims_index_put(&idx, l->pend[i].digest, l->pend[i].size, l->pend[i].name)) < 0)
			cm_error_set(l->err, r, "out of memory");
	if (r >= 0)
		r = ims_index_write(l->s, &idx, l->err);
	ims_index_release(&idx);
	return r;
}

static int unpack_layer(struct loader *l, struct srcfile *f, const char *diffid)
{
	bool existed = ims_layer_exists(l->s, diffid);
	_cleanup_close_ int fd = openat(l->s->tmpfd, f->tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(l->err, cm_neg_errno(), "%s", f->path);
	char got[CM_DIGEST_STR_LEN];
	int r;
	if (existed) {
		/* already unpacked: still prove this blob is that layer */
		r = ims_layer_diffid_fd(fd, got, l->err);
		if (r >= 0 && strcmp(got, diffid) != 0)
			r = cm_error_set(l->err, -EBADMSG, "layer diff_id mismatch: got %s, expected %s",
					 got, diffid);
	} else {
		r = ims_layer_unpack_fd(l->s, fd, diffid, NULL, NULL, got, l->err);
	}
	if (r < 0)
		return cm_error_prefix(l->err, r, "layer %s", f->path);
	if (!existed) {
		char **nl = realloc(l->new_layers, (l->n_new + 1) * sizeof(*nl));
		if (!nl)
			return cm_error_set(l->err, -ENOMEM, "out of memory");
		l->new_layers = nl;
		if (!(nl[l->n_new] = strdup(diffid + 7)))
			return cm_error_set(l->err, -ENOMEM, "out of memory");
		l->n_new++;
	}
	return 0;
}

static const char *diff_id_at(const struct cm_json *config, size_t i, size_t n)
{
	const struct cm_json *d = cm_json_get(cm_json_get(config, "rootfs"), "diff_ids");
	if (!cm_json_is(d, CM_JSON_ARRAY) || d->n != n || i >= n)
		return NULL;
	const char *s = cm_json_str(d->v[i]);
	return cm_digest_valid(s) ? s : NULL;
}

static const char *layer_type(struct loader *l, struct srcfile *f, const char *diffid)
{
	unsigned char m[4] = { 0 };
	_cleanup_close_ int fd = openat(l->s->tmpfd, f->tmp, O_RDONLY | O_CLOEXEC);
	if (strcmp(f->digest, diffid) == 0)
		return IMS_MT_LAYER;
	if (fd >= 0 && read(fd, m, 4) == 4) {
		if (m[0] == 0x1f && m[1] == 0x8b)
			return IMS_MT_LAYER_GZ;
		if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
			return IMS_MT_LAYER_ZST;
	}
	return IMS_MT_LAYER;
}

static void report_loaded(struct loader *l, const char *full, const char *id)
{
	char line[700];
	if (full)
		snprintf(line, sizeof(line), "Loaded image: %s", ims_ref_short(full));
	else
		snprintf(line, sizeof(line), "Loaded image ID: %s", id);
	if (l->report)
		l->report(l->ctx, line);
}

static int load_docker(struct loader *l, struct srcfile *mf)
{
	_cleanup_json_ struct cm_json *m = NULL;
	int r = read_json_file(l, mf, &m);
	if (r < 0)
		return r;
	if (!cm_json_is(m, CM_JSON_ARRAY) || m->n == 0)
		return cm_error_set(l->err, -EINVAL, "manifest.json: not a list of images");
	/* every name is checked before anything is published */
	for (size_t i = 0; i < m->n; i++) {
		const struct cm_json *tags = cm_json_get(m->v[i], "RepoTags");
		for (size_t k = 0; cm_json_is(tags, CM_JSON_ARRAY) && k < tags->n; k++) {
			_cleanup_free_ char *full = NULL;
			const char *t = cm_json_str(tags->v[k]);
			if (!t)
				return cm_error_set(l->err, -EINVAL, "manifest.json: entry %zu: a tag is not a string", i);
			if ((r = ims_ref_normalize(t, &full, l->err)) < 0)
				return r;
		}
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct cm_json *it = m->v[i];
		const char *cpath = cm_json_get_str(it, "Config");
		const struct cm_json *layers = cm_json_get(it, "Layers");
		const struct cm_json *tags = cm_json_get(it, "RepoTags");
		if (!cpath || !cm_json_is(layers, CM_JSON_ARRAY) || layers->n > 4096)
			return cm_error_set(l->err, -EINVAL, "manifest.json: entry %zu lacks Config or Layers", i);
		struct srcfile *cf = get_file(l, cpath);
		if (!cf)
			return l->err ? l->err->code : -ENOENT;
		_cleanup_json_ struct cm_json *config = NULL;
		if ((r = read_json_file(l, cf, &config)) < 0)
			return r;
		struct ims_desc *descs = calloc(layers->n + 1, sizeof(*descs));
		if (!descs)
			return cm_error_set(l->err, -ENOMEM, "out of memory");
		for (size_t j = 0; j < layers->n && r >= 0; j++) {
			const char *lp = cm_json_str(layers->v[j]);
			const char *did = diff_id_at(config, j, layers->n);
			struct srcfile *lf = lp ? get_file(l, lp) : NULL;
			if (!did)
				r = cm_error_set(l->err, -EINVAL, "%s: rootfs.diff_ids does not match Layers", cpath);
			else if (!lf)
				r = l->err && l->err->code ? l->err->code
							   : cm_error_set(l->err, -EINVAL, "manifest.json: bad layer %zu", j);
			else if ((r = unpack_layer(l, lf, did)) >= 0 && (r = link_blob(l, lf)) >= 0) {
				descs[j].media_type = layer_type(l, lf, did);
				memcpy(descs[j].digest, lf->digest, sizeof(descs[j].digest));
				descs[j].size = lf->size;
			}
		}
		if (r >= 0)
			r = cm_fsync_dirfd(l->s->blobsfd);
		/* the config is kept byte for byte: its digest is the image id */
		_cleanup_close_ int cfd = r >= 0 ? openat(l->s->tmpfd, cf->tmp, O_RDONLY | O_CLOEXEC) : -1;
		_cleanup_free_ char *ctext = NULL;
		size_t clen = 0;
		if (r >= 0 && (cfd < 0 || ims_read_fd(cfd, IMS_MAX_JSON, &ctext, &clen) < 0))
			r = cm_error_set(l->err, -EIO, "rereading %s", cpath);
		char id[CM_DIGEST_STR_LEN], md[CM_DIGEST_STR_LEN];
		int64_t msize = 0;
		if (r >= 0)
			r = ims_image_put_blobs(l->s, ctext, clen, descs, layers->n, id, md, &msize, l->err);
		if (r >= 0 && (r = note_blob(l, id)) >= 0)
			r = note_blob(l, md);
		size_t ntags = cm_json_is(tags, CM_JSON_ARRAY) ? tags->n : 0;
		for (size_t k = 0; r >= 0 && k < (ntags ? ntags : 1); k++) {
			_cleanup_free_ char *full = NULL;
			const char *t = ntags ? cm_json_str(tags->v[k]) : NULL;
			if (t && (r = ims_ref_normalize(t, &full, l->err)) < 0)
				break;
			r = add_pending(l, md, msize, id, full);
		}
		free(descs);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool is_index_type(const char *mt)
{
	return cm_streq(mt, IMS_MT_INDEX) || cm_streq(mt, IMS_MT_DOCKER_LIST);
}

static bool is_manifest_type(const char *mt)
{
	return cm_streq(mt, IMS_MT_MANIFEST) || cm_streq(mt, IMS_MT_DOCKER_MANIFEST);
}

static bool is_layer_type(const char *mt)
{
	return !mt || strncmp(mt, "application/vnd.oci.image.layer.", 32) == 0 ||
	       strncmp(mt, "application/vnd.docker.image.rootfs.", 36) == 0;
}

/* What a manifest-or-index blob is: its own mediaType, the descriptor's, and
 * its fields must agree; a blob with both an index's and a manifest's fields
 * is refused whatever it claims (CVE-2021-41190). Returns 1 index, 0
 * manifest, or -errno with err set. */
static int blob_kind(struct loader *l, const struct cm_json *desc, const struct cm_json *m,
		     const char *digest)
{
	const char *dmt = cm_json_get_str(desc, "mediaType");
	const char *bmt = cm_json_get_str(m, "mediaType");
	bool idx_fields = cm_json_get(m, "manifests") != NULL;
	bool man_fields = cm_json_get(m, "config") || cm_json_get(m, "layers");
	if (idx_fields && man_fields)
		return cm_error_set(l->err, -EINVAL, "blob %s is both a manifest and an index (ambiguous, refused)",
				    digest);
	if (dmt && bmt && strcmp(dmt, bmt) != 0)
		return cm_error_set(l->err, -EINVAL, "blob %s: the descriptor's media type %s is not the blob's (%s)",
				    digest, dmt, bmt);
	const char *mt = bmt ? bmt : dmt;
	if (!mt)
		return idx_fields ? 1 : 0;
	if (is_index_type(mt) && !man_fields)
		return 1;
	if (is_manifest_type(mt) && !idx_fields)
		return 0;
	return cm_error_set(l->err, -EINVAL, "blob %s: media type %s does not fit its content", digest, mt);
}

/* A descriptor's blob, verified by digest and size. */
static struct srcfile *get_blob(struct loader *l, const struct cm_json *desc)
{
	const char *d = cm_json_get_str(desc, "digest");
	int64_t size = -1;
	if (!cm_digest_valid(d) || !cm_json_get_int(desc, "size", &size) || size < 0) {
		cm_error_set(l->err, -EINVAL, "descriptor with a bad digest or size");
		return NULL;
	}
	char path[100];
	snprintf(path, sizeof(path), "blobs/sha256/%s", d + 7);
	struct srcfile *f = get_file(l, path);
	if (!f)
		return NULL;
	if (strcmp(f->digest, d) != 0 || f->size != size) {
		cm_error_set(l->err, -EBADMSG, "blob %s: content is %s, %lld bytes (descriptor says %lld)",
			     d, f->digest, (long long)f->size, (long long)size);
		return NULL;
	}
	return f;
}

/* Nesting of image indexes accepted below index.json (containerd bounds it
 * too): a chain of indexes is refused before it costs stack or time. */
#define MAX_INDEX_DEPTH 4

static int load_oci_manifest(struct loader *l, const struct cm_json *desc, const char *name,
			     int depth)
{
	struct srcfile *mf = get_blob(l, desc);
	if (!mf)
		return l->err->code ? l->err->code : -EINVAL;
	_cleanup_json_ struct cm_json *m = NULL;
	int r = read_json_file(l, mf, &m);
	if (r < 0)
		return r;
	int kind = blob_kind(l, desc, m, mf->digest);
	if (kind < 0)
		return kind;
	if (kind == 1) {
		const struct cm_json *ms = cm_json_get(m, "manifests");
		const struct cm_json *pick = NULL;
		for (size_t i = 0; cm_json_is(ms, CM_JSON_ARRAY) && i < ms->n; i++) {
			const struct cm_json *p = cm_json_get(ms->v[i], "platform");
			if (!pick && cm_streq(cm_json_get_str(p, "os"), "linux") &&
			    cm_streq(cm_json_get_str(p, "architecture"), cm_host_arch()))
				pick = ms->v[i];
		}
		if (!pick && cm_json_is(ms, CM_JSON_ARRAY) && ms->n)
			pick = ms->v[0];
		if (!pick)
			return cm_error_set(l->err, -EINVAL, "image index %s: no usable manifest", mf->digest);
		if (depth >= MAX_INDEX_DEPTH)
			return cm_error_set(l->err, -ELOOP, "image index %s: indexes nested deeper than %d",
					    mf->digest, MAX_INDEX_DEPTH);
		return load_oci_manifest(l, pick, name, depth + 1);
	}
	const struct cm_json *cdesc = cm_json_get(m, "config");
	const struct cm_json *layers = cm_json_get(m, "layers");
	if (!cm_json_is(layers, CM_JSON_ARRAY) || layers->n > 4096)
		return cm_error_set(l->err, -EINVAL, "manifest %s: no layers list", mf->digest);
	const char *cmt = cm_json_get_str(cdesc, "mediaType");
	if (cmt && !cm_streq(cmt, IMS_MT_CONFIG) && !cm_streq(cmt, IMS_MT_DOCKER_CONFIG))
		return cm_error_set(l->err, -EINVAL, "manifest %s: config media type %s is not an image config",
				    mf->digest, cmt);
	struct srcfile *cf = get_blob(l, cdesc);
	if (!cf)
		return l->err->code;
	_cleanup_json_ struct cm_json *config = NULL;
	if ((r = read_json_file(l, cf, &config)) < 0)
		return r;
	for (size_t j = 0; j < layers->n; j++) {
		const char *did = diff_id_at(config, j, layers->n);
		if (!did)
			return cm_error_set(l->err, -EINVAL, "config %s: rootfs.diff_ids does not match the layers",
					    cf->digest);
		const char *lmt = cm_json_get_str(layers->v[j], "mediaType");
		if (!is_layer_type(lmt))
			return cm_error_set(l->err, -EINVAL, "manifest %s: layer %zu has media type %s, not a layer",
					    mf->digest, j, lmt);
		struct srcfile *lf = get_blob(l, layers->v[j]);
		if (!lf)
			return l->err->code;
		if ((r = unpack_layer(l, lf, did)) < 0 || (r = link_blob(l, lf)) < 0)
			return r;
	}
	if ((r = link_blob(l, cf)) < 0 || (r = link_blob(l, mf)) < 0)
		return r;
	if ((r = cm_fsync_dirfd(l->s->blobsfd)) < 0)
		return cm_error_setx(l->err, r, "fsync of the blobs dir");
	_cleanup_free_ char *full = NULL;
	if (name && (r = ims_ref_normalize(name, &full, l->err)) < 0)
		return r;
	return add_pending(l, mf->digest, mf->size, cf->digest, full);
}

/* The name of an OCI index entry: containerd's full name, else a ref.name
 * that is a whole NAME:TAG (a bare tag, per the OCI spec, names nothing). */
static const char *oci_name(const struct cm_json *desc)
{
	const struct cm_json *ann = cm_json_get(desc, "annotations");
	const char *n = cm_json_get_str(ann, IMS_ANN_CONTAINERD_NAME);
	if (n)
		return n;
	n = cm_json_get_str(ann, IMS_ANN_REF_NAME);
	if (n && ims_ref_tag_offset(n) > 0)
		return n;
	return NULL;
}

static int load_oci(struct loader *l, struct srcfile *xf)
{
	/* the layout's version first: an unknown one may mean other rules */
	struct srcfile *lf = get_file(l, "oci-layout");
	if (!lf)
		return cm_error_set(l->err, -EINVAL, "not an OCI layout: no oci-layout file");
	_cleanup_json_ struct cm_json *lj = NULL;
	int r = read_json_file(l, lf, &lj);
	if (r < 0)
		return r;
	const char *ver = cm_json_get_str(lj, "imageLayoutVersion");
	if (!cm_streq(ver, "1.0.0"))
		return cm_error_set(l->err, -EINVAL, "oci-layout: imageLayoutVersion %s%s%s is not 1.0.0",
				    ver ? "'" : "", ver ? ver : "missing", ver ? "'" : "");
	_cleanup_json_ struct cm_json *idx = NULL;
	if ((r = read_json_file(l, xf, &idx)) < 0)
		return r;
	const struct cm_json *ms = cm_json_get(idx, "manifests");
	if (!cm_json_is(ms, CM_JSON_ARRAY) || ms->n == 0)
		return cm_error_set(l->err, -EINVAL, "index.json: no manifests");
	for (size_t i = 0; i < ms->n; i++)
		if ((r = load_oci_manifest(l, ms->v[i], oci_name(ms->v[i]), 0)) < 0)
			return r;
	return 0;
}

int ims_load(struct ims_store *s, const char *path,
	     void (*report)(void *ctx, const char *line), void *ctx,
	     struct cm_error *err)
{
	struct loader l = { .s = s, .err = err, .dirfd = -1, .report = report, .ctx = ctx };
	struct stat st;
	int r;
	if (strcmp(path, "-") == 0 ? fstat(0, &st) < 0 : stat(path, &st) < 0)
		return cm_error_setx(err, cm_neg_errno(), "load: %s", path);
	if ((r = ims_store_lock_shared(s, err)) < 0)
		return r;
	if (S_ISDIR(st.st_mode)) {
		l.dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (l.dirfd < 0)
			r = cm_error_setx(err, cm_neg_errno(), "load: %s", path);
	} else {
		int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = cm_error_setx(err, cm_neg_errno(), "load: %s", path);
		else {
			r = read_archive(&l, fd);
			if (fd > 0)
				close(fd);
		}
	}
	if (r >= 0) {
		struct cm_error probe;
		struct srcfile *f = NULL;
		bool docker = false;
		for (size_t i = 0; i < l.n; i++)
			docker |= strcmp(l.f[i]->path, "manifest.json") == 0;
		if (l.dirfd >= 0)
			docker = faccessat(l.dirfd, "manifest.json", F_OK, 0) == 0 &&
				 faccessat(l.dirfd, "index.json", F_OK, 0) != 0;
		struct cm_error *keep = l.err;
		l.err = &probe;
		f = get_file(&l, docker ? "manifest.json" : "index.json");
		l.err = keep;
		if (!f)
			r = cm_error_set(err, -EINVAL, "load: %s is neither a docker archive nor an OCI layout (%s)",
					 path, probe.msg);
		else
			r = docker ? load_docker(&l, f) : load_oci(&l, f);
		if (r >= 0)
			r = commit_names(&l);
		if (r < 0)
			cm_error_prefix(err, r, "load %s", path);
	}
	for (size_t i = 0; r >= 0 && i < l.n_pend; i++)
		report_loaded(&l, l.pend[i].name, l.pend[i].id);
	ims_store_unlock_shared(s);
	/* nothing was named; what no other writer counts as present goes */
	if (r < 0)
		(void)ims_gc_rollback(s, l.new_blobs, l.n_newb, l.new_layers, l.n_new);
	loader_free(&l);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------- save */

struct saver {
	struct ims_store *s;
	struct cm_error *err;
	struct archive *a;    /* tar writer, or NULL for oci-dir */
	int dirfd;            /* oci-dir output */
	char **done;          /* paths already written */
	size_t n_done;
};

static bool saver_seen(struct saver *v, const char *path)
{
	for (size_t i = 0; i < v->n_done; i++)
		if (strcmp(v->done[i], path) == 0)
			return true;
	char **nd = realloc(v->done, (v->n_done + 1) * sizeof(*nd));
	if (!nd)
		return false;
	v->done = nd;
	if ((nd[v->n_done] = strdup(path)))
		v->n_done++;
	return false;
}

static int out_begin(struct saver *v, const char *path, int64_t size, int *ret_fd)
{
	*ret_fd = -1;
	if (v->a) {
		struct archive_entry *e = archive_entry_new();
		if (!e)
			return cm_error_set(v->err, -ENOMEM, "out of memory");
		archive_entry_set_pathname(e, path);
		archive_entry_set_filetype(e, size < 0 ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(e, size < 0 ? 0755 : 0644);
		archive_entry_set_size(e, size < 0 ? 0 : size);
		archive_entry_set_mtime(e, 0, 0);
		int ar = archive_write_header(v->a, e);
		archive_entry_free(e);
		if (ar != ARCHIVE_OK)
			return cm_error_set(v->err, -EIO, "writing the archive: %s", archive_error_string(v->a));
		return 0;
	}
	if (size < 0) {
		if (mkdirat(v->dirfd, path, 0755) < 0 && errno != EEXIST)
			return cm_error_setx(v->err, cm_neg_errno(), "mkdir %s", path);
		return 0;
	}
	*ret_fd = openat(v->dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*ret_fd < 0)
		return cm_error_setx(v->err, cm_neg_errno(), "creating %s", path);
	return 0;
}

static int out_data(struct saver *v, int fd, const void *buf, size_t len)
{
	if (v->a) {
		if (archive_write_data(v->a, buf, len) < 0)
			return cm_error_set(v->err, -EIO, "writing the archive: %s", archive_error_string(v->a));
		return 0;
	}
	int r = cm_write_all(fd, buf, len);
	return r < 0 ? cm_error_setx(v->err, r, "writing the output") : 0;
}

static int out_mem(struct saver *v, const char *path, const char *buf, size_t len)
{
	int fd;
	int r = out_begin(v, path, (int64_t)len, &fd);
	if (r >= 0)
		r = out_data(v, fd, buf, len);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Copy fd (size bytes) to path, verifying its sha256 against want. */
static int out_verified(struct saver *v, const char *path, int in, int64_t size,
			const char *want)
{
	int fd;
	int r = out_begin(v, path, size, &fd);
	if (r < 0)
		return r;
	struct cm_sha256 h;
	if ((r = cm_sha256_init(&h)) < 0) {
		cm_close(&fd);
		return cm_error_set(v->err, r, "out of memory");
	}
	char buf[1 << 16];
	char label[96];
	uint64_t last[2] = { 0, 0 };
	snprintf(label, sizeof(label), "Saving %.80s", path);
	int64_t left = size;
	while (left > 0 && r >= 0) {
		ssize_t k = read(in, buf, left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = cm_error_set(v->err, -EIO, "%s: short read from the store", want);
			break;
		}
		cm_sha256_update(&h, buf, (size_t)k);
		r = out_data(v, fd, buf, (size_t)k);
		left -= k;
		ims_progress(label, size - left, size, left == 0, last);
	}
	cm_close(&fd);
	if (r < 0) {
		cm_sha256_done(&h);
		return r;
	}
	char got[CM_DIGEST_STR_LEN];
	cm_sha256_final(&h, got);
	if (strcmp(got, want) != 0)
		return cm_error_set(v->err, -EBADMSG, "store blob %s is corrupt (hashes to %s): run img fsck",
				    want, got);
	return 0;
}

static int out_blob(struct saver *v, const char *digest, const char *path)
{
	if (saver_seen(v, path))
		return 0;
	_cleanup_close_ int fd = ims_blob_open(v->s, digest, v->err);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return cm_error_setx(v->err, cm_neg_errno(), "blob %s", digest);
	return out_verified(v, path, fd, st.st_size, digest);
}

/* Decompress a layer blob into a temp (verifying the diff_id), then copy it. */
static int out_layer_tar(struct saver *v, const char *digest, const char *diffid,
			 const char *path)
{
	if (saver_seen(v, path))
		return 0;
	_cleanup_close_ int in = ims_blob_open(v->s, digest, v->err);
	if (in < 0)
		return in;
	char tmp[64];
	ims_tmpname(tmp, sizeof(tmp), "save");
	_cleanup_close_ int t = openat(v->s->tmpfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (t < 0)
		return cm_error_setx(v->err, cm_neg_errno(), "temp file");
	unlinkat(v->s->tmpfd, tmp, 0);
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r = 0;
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_fd(a, in, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		r = cm_error_set(v->err, -EBADMSG, "layer %s: %s", digest, archive_error_string(a));
		goto out;
	}
	char buf[1 << 16];
	int64_t size = 0;
	for (;;) {
		la_ssize_t k = archive_read_data(a, buf, sizeof(buf));
		if (k < 0) {
			r = cm_error_set(v->err, -EBADMSG, "layer %s: %s", digest, archive_error_string(a));
			goto out;
		}
		if (k == 0)
			break;
		if ((r = cm_write_all(t, buf, (size_t)k)) < 0) {
			cm_error_setx(v->err, r, "temp file");
			goto out;
		}
		size += k;
	}
	if (lseek(t, 0, SEEK_SET) < 0) {
		r = cm_error_setx(v->err, cm_neg_errno(), "temp file");
		goto out;
	}
	r = out_verified(v, path, t, size, diffid);
out:
	archive_read_free(a);
	return r;
}

static int save_oci_layout(struct saver *v, struct ims_image **imgs, const char **names, size_t n)
{
	int r, fd;
	if ((r = out_begin(v, "blobs", -1, &fd)) < 0 || (r = out_begin(v, "blobs/sha256", -1, &fd)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char p[100];
		const struct cm_json *l = cm_json_get(imgs[i]->manifest, "layers");
		for (size_t j = 0; cm_json_is(l, CM_JSON_ARRAY) && j < l->n; j++) {
			const char *d = cm_json_get_str(l->v[j], "digest");
			if (!cm_digest_valid(d))
				return cm_error_set(v->err, -EINVAL, "image %s: bad layer digest", imgs[i]->id);
			snprintf(p, sizeof(p), "blobs/sha256/%s", d + 7);
			if ((r = out_blob(v, d, p)) < 0)
				return r;
		}
		snprintf(p, sizeof(p), "blobs/sha256/%s", imgs[i]->id + 7);
		if ((r = out_blob(v, imgs[i]->id, p)) < 0)
			return r;
		snprintf(p, sizeof(p), "blobs/sha256/%s", imgs[i]->digest + 7);
		if ((r = out_blob(v, imgs[i]->digest, p)) < 0)
			return r;
	}
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if ((r = out_mem(v, "oci-layout", layout, sizeof(layout) - 1)) < 0)
		return r;
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kint(&w, "schemaVersion", 2);
	cm_jw_kstr(&w, "mediaType", IMS_MT_INDEX);
	cm_jw_key(&w, "manifests");
	cm_jw_arr(&w);
	for (size_t i = 0; i < n; i++) {
		const char *mt = cm_json_get_str(imgs[i]->manifest, "mediaType");
		cm_jw_obj(&w);
		cm_jw_kstr(&w, "mediaType", mt ? mt : IMS_MT_MANIFEST);
		cm_jw_kstr(&w, "digest", imgs[i]->digest);
		cm_jw_kint(&w, "size", imgs[i]->manifest_size);
		if (names[i]) {
			/* docker's convention: the tag in ref.name, the full name
			 * in containerd's annotation */
			cm_jw_key(&w, "annotations");
			cm_jw_obj(&w);
			cm_jw_kstr(&w, IMS_ANN_CONTAINERD_NAME, names[i]);
			cm_jw_kstr(&w, IMS_ANN_REF_NAME, names[i] + ims_ref_tag_offset(names[i]) + 1);
			cm_jw_obj_end(&w);
		}
		cm_jw_obj_end(&w);
	}
	cm_jw_arr_end(&w);
	cm_jw_obj_end(&w);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if ((r = cm_jw_finish(&w, &text, &len)) < 0)
		return cm_error_set(v->err, r, "out of memory");
	return out_mem(v, "index.json", text, len);
}

static int save_docker(struct saver *v, struct ims_image **imgs, const char **names, size_t n)
{
	int r, fd;
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_arr(&w);
	if ((r = out_begin(v, "blobs", -1, &fd)) < 0 || (r = out_begin(v, "blobs/sha256", -1, &fd)) < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		char p[120];
		const struct cm_json *diffs = cm_json_get(cm_json_get(imgs[i]->config, "rootfs"), "diff_ids");
		const struct cm_json *l = cm_json_get(imgs[i]->manifest, "layers");
		if (!cm_json_is(l, CM_JSON_ARRAY) || !cm_json_is(diffs, CM_JSON_ARRAY) || l->n != diffs->n) {
			r = cm_error_set(v->err, -EINVAL, "image %s: layers and diff_ids differ", imgs[i]->id);
			break;
		}
		snprintf(p, sizeof(p), "blobs/sha256/%s", imgs[i]->id + 7);
		if ((r = out_blob(v, imgs[i]->id, p)) < 0)
			break;
		cm_jw_obj(&w);
		cm_jw_kstr(&w, "Config", p);
		cm_jw_key(&w, "RepoTags");
		if (names[i]) {
			cm_jw_arr(&w);
			cm_jw_str(&w, ims_ref_short(names[i]));
			cm_jw_arr_end(&w);
		} else {
			cm_jw_null(&w);
		}
		cm_jw_key(&w, "Layers");
		cm_jw_arr(&w);
		for (size_t j = 0; j < l->n && r >= 0; j++) {
			const char *d = cm_json_get_str(l->v[j], "digest");
			const char *did = cm_json_str(diffs->v[j]);
			if (!cm_digest_valid(d) || !cm_digest_valid(did)) {
				r = cm_error_set(v->err, -EINVAL, "image %s: bad layer digest", imgs[i]->id);
				break;
			}
			/* docker-archive layers are uncompressed: blob name = diff_id */
			snprintf(p, sizeof(p), "blobs/sha256/%s", did + 7);
			r = out_layer_tar(v, d, did, p);
			cm_jw_str(&w, p);
		}
		cm_jw_arr_end(&w);
		cm_jw_obj_end(&w);
	}
	cm_jw_arr_end(&w);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int q = cm_jw_finish(&w, &text, &len);
	if (r < 0)
		return r;
	if (q < 0)
		return cm_error_set(v->err, q, "out of memory");
	return out_mem(v, "manifest.json", text, len);
}

int ims_save(struct ims_store *s, const char *const *refs, size_t n,
	     enum ims_save_format fmt, const char *out, struct cm_error *err)
{
	struct ims_image **imgs = calloc(n + 1, sizeof(*imgs));
	const char **names = calloc(n + 1, sizeof(*names));
	char **owned = calloc(n + 1, sizeof(*owned));
	struct saver v = { .s = s, .err = err, .dirfd = -1 };
	char tmpout[PATH_MAX] = "";
	int r = 0, outfd = -1;
	if (!imgs || !names || !owned) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		if ((r = ims_image_resolve(s, refs[i], &imgs[i], err)) < 0)
			break;
		struct cm_error e2;
		/* the name asked for, else the image's first name */
		if (ims_ref_normalize(refs[i], &owned[i], &e2) == 0) {
			bool has = false;
			for (size_t k = 0; k < imgs[i]->n_names; k++)
				has |= strcmp(imgs[i]->names[k], owned[i]) == 0;
			if (has)
				names[i] = owned[i];
		}
		if (!names[i] && imgs[i]->n_names)
			names[i] = imgs[i]->names[0];
	}
	if (r < 0)
		goto out;

	bool to_stdout = strcmp(out, "-") == 0 && fmt != IMS_SAVE_OCI_DIR;
	if (!to_stdout) {
		/* built aside, published by one rename */
		int k = snprintf(tmpout, sizeof(tmpout), "%s.img-tmp.%d", out, (int)getpid());
		if (k < 0 || (size_t)k >= sizeof(tmpout)) {
			r = cm_error_set(err, -ENAMETOOLONG, "save: %s: name too long", out);
			goto out;
		}
	}
	if (fmt == IMS_SAVE_OCI_DIR) {
		struct stat st;
		if (stat(out, &st) == 0) {
			r = cm_error_set(err, -EEXIST, "save: %s already exists", out);
			goto out;
		}
		if (mkdir(tmpout, 0755) < 0 ||
		    (v.dirfd = open(tmpout, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			r = cm_error_setx(err, cm_neg_errno(), "save: %s", out);
			goto out;
		}
	} else {
		outfd = to_stdout ? 1 : open(tmpout, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (outfd < 0) {
			r = cm_error_setx(err, cm_neg_errno(), "save: %s", out);
			goto out;
		}
		v.a = archive_write_new();
		if (!v.a) {
			r = cm_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		archive_write_set_format_pax_restricted(v.a);
		archive_write_set_bytes_in_last_block(v.a, 1);
		if (archive_write_open_fd(v.a, outfd) != ARCHIVE_OK) {
			r = cm_error_set(err, -EIO, "save: %s", archive_error_string(v.a));
			goto out;
		}
	}
	r = fmt == IMS_SAVE_DOCKER_ARCHIVE ? save_docker(&v, imgs, names, n)
					   : save_oci_layout(&v, imgs, names, n);
	if (r >= 0 && v.a && archive_write_close(v.a) != ARCHIVE_OK)
		r = cm_error_set(err, -EIO, "save: %s", archive_error_string(v.a));
	if (r >= 0 && outfd > 1 && fsync(outfd) < 0)
		r = cm_error_setx(err, cm_neg_errno(), "save: fsync of %s", out);
	if (r >= 0 && tmpout[0] && rename(tmpout, out) < 0)
		r = cm_error_setx(err, cm_neg_errno(), "save: %s", out);
	if (r >= 0)
		tmpout[0] = '\0';
out:
	if (v.a)
		archive_write_free(v.a);
	if (outfd > 1)
		close(outfd);
	cm_close(&v.dirfd);
	if (tmpout[0]) {
		if (fmt == IMS_SAVE_OCI_DIR)
			cm_rm_rf_at(AT_FDCWD, tmpout);
		else
			unlink(tmpout);
	}
	for (size_t i = 0; imgs && i < n; i++)
		ims_image_free(imgs[i]);
	for (size_t i = 0; owned && i < n; i++)
		free(owned[i]);
	for (size_t i = 0; i < v.n_done; i++)
		free(v.done[i]);
	free(v.done);
	free(imgs);
	free(names);
	free(owned);
	return r < 0 ? r : 0;
}
