// SPDX-License-Identifier: MIT
/* Store layout, locks and index.json (the names). Layout under the root:
 *   oci-layout  index.json  blobs/sha256/<hex>  layers/<diff_id hex>/  tmp/
 * and in the run dir: store.lock, index.lock. See docs/store.md. */
#include "ims-internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define DEFAULT_RUN "/run/img"
#define OCI_LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"

static int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return cm_neg_errno();
		*q = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return cm_neg_errno();
	return 0;
}

static int open_dir_at(int dirfd, const char *name, bool create, int *ret)
{
	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return cm_neg_errno();
	int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_neg_errno();
	*ret = fd;
	return 0;
}

void ims_store_free(struct ims_store *s)
{
	if (!s)
		return;
	cm_close(&s->rootfd);
	cm_close(&s->blobsfd);
	cm_close(&s->layersfd);
	cm_close(&s->metafd);
	cm_close(&s->tmpfd);
	cm_close(&s->runfd);
	cm_close(&s->lockfd);
	pthread_mutex_destroy(&s->pend_lock);
	free(s->pend);
	free(s->root);
	free(s->rundir);
	free(s);
}

void ims_store_freep(struct ims_store **s)
{
	ims_store_free(*s);
}

const char *ims_store_root(const struct ims_store *s)
{
	return s->root;
}

const char *ims_store_rundir(const struct ims_store *s)
{
	return s->rundir;
}

int ims_store_open(const char *root, struct ims_store **ret, struct cm_error *err)
{
	struct ims_store *s = calloc(1, sizeof(*s));
	__attribute__((cleanup(ims_store_freep))) struct ims_store *sp = s;
	int r;
	if (!s)
		return cm_error_set(err, -ENOMEM, "out of memory");
	s->rootfd = s->blobsfd = s->layersfd = s->metafd = s->tmpfd = s->runfd = s->lockfd = -1;
	pthread_mutex_init(&s->pend_lock, NULL);

	bool explicit = true;
	if (!root || !*root)
		root = getenv("IMG_ROOT");
	if (!root || !*root) {
		root = IMS_DEFAULT_ROOT;
		explicit = false;
	}
	s->root = strdup(root);
	if (!s->root)
		return cm_error_set(err, -ENOMEM, "out of memory");
	size_t n = strlen(s->root);
	while (n > 1 && s->root[n - 1] == '/')
		s->root[--n] = '\0';
	if (explicit) {
		if (asprintf(&s->rundir, "%s.run", s->root) < 0) {
			s->rundir = NULL;
			return cm_error_set(err, -ENOMEM, "out of memory");
		}
	} else if (!(s->rundir = strdup(DEFAULT_RUN))) {
		return cm_error_set(err, -ENOMEM, "out of memory");
	}

	r = mkdir_p(s->root, 0700);
	if (r < 0)
		return cm_error_setx(err, r, "creating store root %s", s->root);
	r = mkdir_p(s->rundir, 0700);
	if (r < 0)
		return cm_error_setx(err, r, "creating run dir %s", s->rundir);
	s->rootfd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening store root %s", s->root);
	s->runfd = open(s->rundir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->runfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening run dir %s", s->rundir);

	int blobs = -1;
	if ((r = open_dir_at(s->rootfd, "blobs", true, &blobs)) < 0)
		return cm_error_setx(err, r, "%s/blobs", s->root);
	r = open_dir_at(blobs, "sha256", true, &s->blobsfd);
	close(blobs);
	if (r < 0)
		return cm_error_setx(err, r, "%s/blobs/sha256", s->root);
	if ((r = open_dir_at(s->rootfd, "layers", true, &s->layersfd)) < 0)
		return cm_error_setx(err, r, "%s/layers", s->root);
	if ((r = open_dir_at(s->rootfd, "layer-manifests", true, &s->metafd)) < 0)
		return cm_error_setx(err, r, "%s/layer-manifests", s->root);
	if ((r = open_dir_at(s->rootfd, "tmp", true, &s->tmpfd)) < 0)
		return cm_error_setx(err, r, "%s/tmp", s->root);

	if (faccessat(s->rootfd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		r = ims_write_file_atomic(s->rootfd, "oci-layout", OCI_LAYOUT,
					  strlen(OCI_LAYOUT), 0644);
		if (r < 0)
			return cm_error_setx(err, r, "%s/oci-layout", s->root);
	}
	if (faccessat(s->rootfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		struct ims_index idx = { .lockfd = -1 };
		r = ims_index_write(s, &idx, err);
		if (r < 0)
			return r;
	}
	s->lockfd = openat(s->runfd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "%s/store.lock", s->rundir);
	*ret = TAKE_PTR(sp);
	return 0;
}

int ims_store_lock_shared(struct ims_store *s, struct cm_error *err)
{
	if (s->lock_depth++ > 0)
		return 0;
	while (flock(s->lockfd, LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		s->lock_depth--;
		return cm_error_setx(err, cm_neg_errno(), "locking %s/store.lock", s->rundir);
	}
	return 0;
}

void ims_store_unlock_shared(struct ims_store *s)
{
	if (s->lock_depth > 0 && --s->lock_depth == 0)
		flock(s->lockfd, LOCK_UN);
}

void ims_tmpname(char *buf, size_t sz, const char *what)
{
	cm_tmpname(buf, sz, what);
}

int ims_write_file_atomic(int dirfd, const char *name, const void *buf,
			  size_t len, mode_t mode)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), ".tmp-%.40s", name);
	return cm_replace_file_at(dirfd, name, prefix, buf, len, mode, true);
}

int ims_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				free(buf);
				return -EFBIG;
			}
			cap = cap * 2 > max ? max : cap * 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			int r = cm_neg_errno();
			free(buf);
			return r;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int ims_read_file_at(int dirfd, const char *path, size_t max, char **ret,
		     size_t *ret_len)
{
	_cleanup_close_ int fd = cm_openat_beneath(dirfd, path, O_RDONLY, 0, true);
	if (fd < 0)
		return fd;
	return ims_read_fd(fd, max, ret, ret_len);
}

/* ------------------------------------------------------------- index.json */

void ims_index_release(struct ims_index *idx)
{
	for (size_t i = 0; i < idx->n; i++) {
		free(idx->e[i].name);
		free(idx->e[i].repo_digest);
	}
	free(idx->e);
	idx->e = NULL;
	idx->n = 0;
	if (idx->lockfd >= 0) {
		flock(idx->lockfd, LOCK_UN);
		cm_close(&idx->lockfd);
	}
}

static int index_append(struct ims_index *idx, const char *digest, int64_t size,
			const char *name, const char *repo_digest)
{
	struct ims_index_ent *ne = realloc(idx->e, (idx->n + 1) * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	idx->e = ne;
	struct ims_index_ent *e = &idx->e[idx->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->digest, sizeof(e->digest), "%s", digest);
	e->size = size;
	if (name && !(e->name = strdup(name)))
		return -ENOMEM;
	if (repo_digest && !(e->repo_digest = strdup(repo_digest))) {
		free(e->name);
		return -ENOMEM;
	}
	idx->n++;
	return 0;
}

void ims_index_remove_at(struct ims_index *idx, size_t i)
{
	free(idx->e[i].name);
	free(idx->e[i].repo_digest);
	memmove(&idx->e[i], &idx->e[i + 1], (idx->n - i - 1) * sizeof(idx->e[0]));
	idx->n--;
}

int ims_index_put(struct ims_index *idx, const char *digest, int64_t size,
		  const char *name)
{
	return ims_index_put_rd(idx, digest, size, name, NULL);
}

/* Another entry than i of digest carries repo digest rd. */
static bool index_has_rd(const struct ims_index *idx, size_t i, const char *digest, const char *rd)
{
	for (size_t j = 0; j < idx->n; j++)
		if (j != i && strcmp(idx->e[j].digest, digest) == 0 && cm_streq(idx->e[j].repo_digest, rd))
			return true;
	return false;
}

int ims_index_put_rd(struct ims_index *idx, const char *digest, int64_t size,
		     const char *name, const char *repo_digest)
{
	bool have = false;
	for (size_t i = 0; i < idx->n;) {
		struct ims_index_ent *e = &idx->e[i];
		bool same = strcmp(e->digest, digest) == 0;
		/* a name moving to another image leaves the old one its repo
		 * digest, unnamed (docker: REPO <none> DIGEST in images
		 * --digests, the image dangling until pruned) */
		if (name && !same && cm_streq(e->name, name) && e->repo_digest &&
		    !index_has_rd(idx, i, e->digest, e->repo_digest)) {
			free(e->name);
			e->name = NULL;
			i++;
			continue;
		}
		/* an unnamed entry goes when the digest gets a name or the repo
		 * digest it carries is put again; one carrying another repo
		 * digest stays (docker keeps every repo digest of an image) */
		bool drop_unnamed = same && !e->name && (name || repo_digest) &&
				    (!e->repo_digest || cm_streq(e->repo_digest, repo_digest));
		if ((name && cm_streq(e->name, name)) || drop_unnamed) {
			ims_index_remove_at(idx, i);
			continue;
		}
		if (same && (!repo_digest || cm_streq(e->repo_digest, repo_digest)))
			have = true;
		i++;
	}
	if (!name && have)
		return 0;
	return index_append(idx, digest, size, name, repo_digest);
}

int ims_index_read(struct ims_store *s, struct ims_index *idx, bool lock,
		   struct cm_error *err)
{
	memset(idx, 0, sizeof(*idx));
	idx->lockfd = -1;
	if (lock) {
		idx->lockfd = openat(s->runfd, "index.lock",
				     O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (idx->lockfd < 0)
			return cm_error_setx(err, cm_neg_errno(), "%s/index.lock", s->rundir);
		while (flock(idx->lockfd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				int r = cm_neg_errno();
				cm_close(&idx->lockfd);
				return cm_error_setx(err, r, "locking %s/index.lock", s->rundir);
			}
		}
	}
	_cleanup_free_ char *buf = NULL;
	size_t len;
	char jerr[128];
	int r = ims_read_file_at(s->rootfd, "index.json", IMS_MAX_JSON, &buf, &len);
	if (r < 0) {
		ims_index_release(idx);
		return cm_error_setx(err, r, "reading %s/index.json", s->root);
	}
	_cleanup_json_ struct cm_json *j = NULL;
	r = cm_json_parse(buf, len, &j, jerr, sizeof(jerr));
	if (r < 0) {
		ims_index_release(idx);
		return cm_error_set(err, r, "%s/index.json: %s", s->root, jerr);
	}
	const struct cm_json *m = cm_json_get(j, "manifests");
	if (m && m->type != CM_JSON_ARRAY) {
		ims_index_release(idx);
		return cm_error_set(err, -EINVAL, "%s/index.json: manifests is not an array", s->root);
	}
	for (size_t i = 0; m && i < m->n; i++) {
		const char *d = cm_json_get_str(m->v[i], "digest");
		int64_t size = -1;
		cm_json_get_int(m->v[i], "size", &size);
		const struct cm_json *ann = cm_json_get(m->v[i], "annotations");
		const char *name = cm_json_get_str(ann, IMS_ANN_REF_NAME);
		/* stores from before the field have none: the manifest digest is shown */
		const char *rd = cm_json_get_str(ann, IMS_ANN_REPO_DIGEST);
		if (rd && (!strchr(rd, '@') || !cm_digest_valid(strchr(rd, '@') + 1)))
			rd = NULL;
		if (!cm_digest_valid(d) || size < 0) {
			ims_index_release(idx);
			return cm_error_set(err, -EINVAL, "%s/index.json: entry %zu has a bad digest or size",
					    s->root, i);
		}
		if ((r = index_append(idx, d, size, name, rd)) < 0) {
			ims_index_release(idx);
			return cm_error_set(err, r, "out of memory");
		}
	}
	return 0;
}

int ims_index_write(struct ims_store *s, const struct ims_index *idx,
		    struct cm_error *err)
{
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kint(&w, "schemaVersion", 2);
	cm_jw_kstr(&w, "mediaType", IMS_MT_INDEX);
	cm_jw_key(&w, "manifests");
	cm_jw_arr(&w);
	for (size_t i = 0; i < idx->n; i++) {
		cm_jw_obj(&w);
		cm_jw_kstr(&w, "mediaType", IMS_MT_MANIFEST);
		cm_jw_kstr(&w, "digest", idx->e[i].digest);
		cm_jw_kint(&w, "size", idx->e[i].size);
		if (idx->e[i].name || idx->e[i].repo_digest) {
			cm_jw_key(&w, "annotations");
			cm_jw_obj(&w);
			if (idx->e[i].name)
				cm_jw_kstr(&w, IMS_ANN_REF_NAME, idx->e[i].name);
			if (idx->e[i].repo_digest)
				cm_jw_kstr(&w, IMS_ANN_REPO_DIGEST, idx->e[i].repo_digest);
			cm_jw_obj_end(&w);
		}
		cm_jw_obj_end(&w);
	}
	cm_jw_arr_end(&w);
	cm_jw_obj_end(&w);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = cm_jw_finish(&w, &text, &len);
	if (r < 0)
		return cm_error_set(err, r, "out of memory");
	if (s->batch) { /* the last name of the batch: all of them after one syncfs */
		if ((r = ims_store_replace_file(s, s->rootfd, "index.json", text, len, 0644, err)) < 0)
			return r;
		return ims_batch_flush(s, err);
	}
	r = ims_write_file_atomic(s->rootfd, "index.json", text, len, 0644);
	if (r < 0)
		return cm_error_setx(err, r, "writing %s/index.json", s->root);
	return 0;
}
