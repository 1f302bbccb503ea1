// SPDX-License-Identifier: MIT
/* FUSE passthrough policy: whether the mount may use it (decided once by a
 * probe right after INIT), and the backing file of each inode. A backing id
 * belongs to the node: registered at its first open, closed at its last
 * release, never swapped while open (the kernel fails a second backing or a
 * plain open of an inode in passthrough mode with EIO). Any refusal makes
 * that node, or the whole mount, run as ordinary FUSE. The kernel ABI is in
 * fuse-shim.c. */
#include "ufs-internal.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static bool fault(const char *what)
{
	const char *f = getenv("UFS_PASSTHROUGH_FAULT"); /* tests: simulate refusals */
	return f && strcmp(f, what) == 0;
}

static void set_state(struct ufs_fs *fs, enum ufs_pt_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_state(struct ufs_fs *fs, enum ufs_pt_state st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fs->pt_reason, sizeof(fs->pt_reason), fmt, ap);
	va_end(ap);
	atomic_store(&fs->pt_state, st);
}

void ufs_pt_init(struct ufs_fs *fs, bool wanted)
{
	fs->pt_wanted = wanted;
	pthread_mutex_init(&fs->pt_probe_lock, NULL);
	if (!wanted)
		set_state(fs, UFS_PT_OFF, "-o nopassthrough");
	else
		set_state(fs, UFS_PT_PENDING, "waiting for the kernel's INIT");
}

/* Requests other than INIT may be served by other threads as soon as the
 * INIT reply is written, before the probe decided: an open then must wait,
 * or an inode could be opened plain and then in passthrough (EIO). */
void ufs_pt_init_begin(struct ufs_fs *fs)
{
	pthread_mutex_lock(&fs->pt_probe_lock);
}

void ufs_pt_init_end(struct ufs_fs *fs)
{
	if (atomic_load(&fs->pt_state) == UFS_PT_PENDING)
		set_state(fs, UFS_PT_UNAVAILABLE, "INIT was not probed");
	pthread_mutex_unlock(&fs->pt_probe_lock);
}

enum ufs_pt_state ufs_pt_state_get(struct ufs_fs *fs)
{
	enum ufs_pt_state st = atomic_load(&fs->pt_state);
	if (st == UFS_PT_PENDING) {
		pthread_mutex_lock(&fs->pt_probe_lock);
		pthread_mutex_unlock(&fs->pt_probe_lock);
		st = atomic_load(&fs->pt_state);
	}
	return st;
}

void ufs_pt_mounted_without_shim(struct ufs_fs *fs, int err)
{
	if (fs->pt_wanted)
		set_state(fs, UFS_PT_UNAVAILABLE, "mounted through libfuse: %s",
			  err == -EPERM ? "not root" : strerror(-err));
}

void ufs_pt_probe(struct ufs_fs *fs)
{
	if (!fs->pt_wanted)
		return;
	if (!fs->pt_kernel_offers)
		return set_state(fs, UFS_PT_UNAVAILABLE,
				 "the kernel does not offer FUSE_PASSTHROUGH (Linux < 6.9?)");
	if (!fs->pt_requested)
		return set_state(fs, UFS_PT_UNAVAILABLE,
				 "not requested: the writeback cache is on");
	int fd = memfd_create("ufs-passthrough-probe", MFD_CLOEXEC);
	if (fd < 0)
		return set_state(fs, UFS_PT_REFUSED, "probe: memfd_create: %s", strerror(errno));
	int id = fault("probe") ? -EPERM : ufs_shim_backing_open(fs, fd);
	close(fd);
	if (id < 0)
		return set_state(fs, UFS_PT_REFUSED, "probe: backing open refused: %s%s",
				 strerror(-id), id == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	ufs_shim_backing_close(fs, id);
	set_state(fs, UFS_PT_ACTIVE, "backing files for regular files");
}

int ufs_pt_open(struct ufs_fs *fs, struct ufs_node *n, int cfd)
{
	if (ufs_pt_state_get(fs) != UFS_PT_ACTIVE || !S_ISREG(n->type))
		return 0;
	pthread_mutex_lock(&n->lock);
	int id = 0;
	if (!n->pt_refused) {
		if (n->backing_id == 0) {
			/* Opened under node->lock, so it is the node's current
			 * object: a caller's fd may predate a copy-up (not
			 * create's, made with the node). The kernel reopens the
			 * backing with each file's own flags, so any fd will do. */
			int fd = cfd >= 0 ? cfd : ufs_node_open(fs, n, O_RDONLY);
			int r = fd < 0 ? fd : fault("open") ? -EPERM : ufs_shim_backing_open(fs, fd);
			if (fd >= 0 && fd != cfd)
				close(fd);
			if (r < 0) {
				/* e.g. ELOOP for a branch on overlayfs: this
				 * inode stays ordinary FUSE for good */
				n->pt_refused = true;
				atomic_fetch_add(&fs->st.pt_refused, 1);
				snprintf(fs->pt_last_refusal, sizeof(fs->pt_last_refusal),
					 "%s", strerror(-r));
			} else {
				n->backing_id = r;
				atomic_fetch_add(&fs->st.pt_backing, 1);
			}
		}
		if (n->backing_id > 0) {
			n->pt_opens++;
			id = n->backing_id;
			atomic_fetch_add(&fs->st.pt_opens, 1);
		}
	}
	pthread_mutex_unlock(&n->lock);
	return id;
}

void ufs_pt_release(struct ufs_fs *fs, struct ufs_node *n)
{
	pthread_mutex_lock(&n->lock);
	if (n->pt_opens > 0 && --n->pt_opens == 0 && n->backing_id > 0) {
		ufs_shim_backing_close(fs, n->backing_id);
		n->backing_id = 0;
		atomic_fetch_sub(&fs->st.pt_backing, 1);
	}
	pthread_mutex_unlock(&n->lock);
}

const char *ufs_pt_state_name(enum ufs_pt_state st)
{
	switch (st) {
	case UFS_PT_OFF: return "off";
	case UFS_PT_PENDING: return "pending";
	case UFS_PT_UNAVAILABLE: return "unavailable";
	case UFS_PT_REFUSED: return "refused";
	case UFS_PT_ACTIVE: return "active";
	}
	return "?";
}
