// SPDX-License-Identifier: MIT
/* Batched durability (img build, issue 12): inside a batch, the names an
 * image publish makes (blobs, an unpacked layer, its content manifest,
 * index.json) are queued instead of each temp being fsynced and each dir
 * after its link; ims_batch_flush makes every queued temp durable with one
 * syncfs of the store's filesystem, then publishes the names in the order
 * they were queued (index.json last). Nothing gets a name before its data
 * is on disk, as git's core.fsyncMethod=batch does for loose objects.
 * A registry pull (ingest.c) queues from its unpack threads too: the queue
 * is under pend_lock. */
#include "ims-internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm-fs.h"

void ims_batch_begin(struct ims_store *s)
{
	s->batch = true;
}

int ims_batch_add(struct ims_store *s, enum ims_pend_kind kind, int from, const char *tmp, int to,
		  const char *name, struct cm_error *err)
{
	struct ims_pend p = { .kind = kind, .from = from, .to = to };
	if (snprintf(p.tmp, sizeof(p.tmp), "%s", tmp) >= (int)sizeof(p.tmp) ||
	    snprintf(p.name, sizeof(p.name), "%s", name) >= (int)sizeof(p.name))
		return cm_error_set(err, -ENAMETOOLONG, "publishing %s: name too long", name);
	pthread_mutex_lock(&s->pend_lock);
	struct ims_pend *nv = realloc(s->pend, (s->n_pend + 1) * sizeof(*nv));
	if (nv) {
		s->pend = nv;
		s->pend[s->n_pend++] = p;
	}
	pthread_mutex_unlock(&s->pend_lock);
	return nv ? 0 : cm_error_set(err, -ENOMEM, "out of memory");
}

int ims_store_sync(struct ims_store *s, struct cm_error *err)
{
	_cleanup_close_ int fd = openat(s->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0)
		return cm_error_setx(err, cm_neg_errno(), "syncing the store %s", s->root);
	return 0;
}

/* One queued name: a blob linked (already there: the same content), a file
 * renamed over its old version, a dir renamed unless one is there. */
static int pend_publish(const struct ims_pend *p)
{
	switch (p->kind) {
	case IMS_PEND_LINK: {
		int r = linkat(p->from, p->tmp, p->to, p->name, 0) < 0 && errno != EEXIST ? cm_neg_errno() : 0;
		unlinkat(p->from, p->tmp, 0);
		return r;
	}
	case IMS_PEND_FILE:
		if (renameat(p->from, p->tmp, p->to, p->name) < 0) {
			int r = cm_neg_errno();
			unlinkat(p->from, p->tmp, 0);
			return r;
		}
		return 0;
	case IMS_PEND_DIR:
		if (renameat2(p->from, p->tmp, p->to, p->name, RENAME_NOREPLACE) < 0) {
			int r = errno == EEXIST || errno == ENOTEMPTY ? 0 : cm_neg_errno();
			cm_rm_rf_at(p->from, p->tmp);
			return r;
		}
		return 0;
	}
	return -EINVAL;
}

static void pend_drop(const struct ims_pend *p)
{
	if (p->kind == IMS_PEND_DIR)
		cm_rm_rf_at(p->from, p->tmp);
	else
		unlinkat(p->from, p->tmp, 0);
}

int ims_batch_flush(struct ims_store *s, struct cm_error *err)
{
	pthread_mutex_lock(&s->pend_lock);
	int r = s->n_pend ? ims_store_sync(s, err) : 0;
	for (size_t i = 0; i < s->n_pend; i++) {
		struct ims_pend *p = &s->pend[i];
		if (r < 0) { /* not durable: nothing gets a name */
			pend_drop(p);
			continue;
		}
		int k = pend_publish(p);
		if (k < 0)
			r = cm_error_setx(err, k, "publishing %s in %s", p->name, s->root);
	}
	s->n_pend = 0;
	pthread_mutex_unlock(&s->pend_lock);
	return r;
}

void ims_batch_abort(struct ims_store *s)
{
	pthread_mutex_lock(&s->pend_lock);
	for (size_t i = 0; i < s->n_pend; i++)
		pend_drop(&s->pend[i]);
	s->n_pend = 0;
	pthread_mutex_unlock(&s->pend_lock);
	s->batch = false;
	free(s->pend);
	s->pend = NULL;
}

int ims_batch_end(struct ims_store *s, struct cm_error *err)
{
	int r = ims_batch_flush(s, err);
	s->batch = false;
	free(s->pend);
	s->pend = NULL;
	return r;
}

int ims_store_replace_file(struct ims_store *s, int dirfd, const char *name, const void *buf,
			   size_t len, mode_t mode, struct cm_error *err)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), ".tmp-%.40s", name);
	if (!s->batch) {
		int r = cm_replace_file_at(dirfd, name, prefix, buf, len, mode, true);
		return r < 0 ? cm_error_setx(err, r, "writing %s in %s", name, s->root) : 0;
	}
	char tmp[NAME_MAX + 1];
	cm_tmpname(tmp, sizeof(tmp), prefix);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "writing %s in %s", name, s->root);
	int r = cm_write_all(fd, buf, len);
	if (close(fd) < 0 && r == 0)
		r = cm_neg_errno();
	if (r == 0 && (r = ims_batch_add(s, IMS_PEND_FILE, dirfd, tmp, dirfd, name, err)) < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return cm_error_setx(err, r, "writing %s in %s", name, s->root);
	}
	return 0;
}
