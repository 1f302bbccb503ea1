// SPDX-License-Identifier: MIT
/* Open files: write opens copy up first; a read-only open made before a
 * copy-up follows the object to the rw branch on its next read. */
#include "ufs-internal.h"

#include <fcntl.h>

struct ufs_file *ufs_file_wrap(struct ufs_fs *fs, struct ufs_node *node, int fd, int flags)
{
	struct ufs_file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->fd = fd;
	f->oldfd = -1;
	f->flags = flags;
	f->node = node;
	f->gen = atomic_load(&node->gen);
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_lock(&fs->files_lock);
	f->next = fs->files;
	if (fs->files)
		fs->files->prev = f;
	fs->files = f;
	pthread_mutex_unlock(&fs->files_lock);
	return f;
}

void ufs_file_free(struct ufs_fs *fs, struct ufs_file *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&fs->files_lock);
	if (f->prev)
		f->prev->next = f->next;
	else if (fs->files == f)
		fs->files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	pthread_mutex_unlock(&fs->files_lock);
	cm_close(&f->fd);
	cm_close(&f->oldfd);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static bool wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

int ufs_file_open(struct ufs_fs *fs, struct ufs_node *node, int flags,
		  struct ufs_file **ret)
{
	if (wants_write(flags)) {
		if (!fs->rw)
			return -EROFS;
		int r = ufs_copyup(fs, node, (flags & O_TRUNC) ? 0 : -1);
		if (r < 0)
			return r;
	}
	int fd = ufs_node_open(fs, node, flags & ~(O_CREAT | O_EXCL | O_NOCTTY));
	if (fd < 0)
		return fd;
	struct ufs_file *f = ufs_file_wrap(fs, node, fd, flags);
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

int ufs_file_fd(struct ufs_fs *fs, struct ufs_file *f)
{
	if (CM_LIKELY(f->gen == atomic_load(&f->node->gen)) || wants_write(f->flags))
		return f->fd;
	pthread_mutex_lock(&f->lock);
	unsigned gen = atomic_load(&f->node->gen);
	if (f->gen != gen && f->oldfd < 0) {
		int fd = ufs_node_open(fs, f->node, f->flags & ~(O_TRUNC | O_CREAT | O_EXCL));
		if (fd >= 0) {
			/* Keep the old fd until release: a read may still use it. */
			f->oldfd = f->fd;
			f->fd = fd;
		}
	}
	f->gen = gen;
	pthread_mutex_unlock(&f->lock);
	return f->fd;
}

void ufs_files_free_all(struct ufs_fs *fs)
{
	while (fs->files)
		ufs_file_free(fs, fs->files);
}
