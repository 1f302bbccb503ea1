// SPDX-License-Identifier: MIT
/* The FUSE low-level operations: decode the request, call the mechanism,
 * reply. The only file that calls fuse_reply_*; every reply is counted. */
#include "ufs-internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#define FS(req) ((struct ufs_fs *)fuse_req_userdata(req))
#define FILE_OF(fi) ((struct ufs_file *)(uintptr_t)(fi)->fh)

static void rep_err(fuse_req_t req, enum ufs_op op, uint64_t t0, int err)
{
	ufs_stat_record(&FS(req)->st, op, t0, err);
	fuse_reply_err(req, err);
}

static void rep_entry(fuse_req_t req, enum ufs_op op, uint64_t t0, int r,
		      const struct fuse_entry_param *e)
{
	if (r < 0)
		return rep_err(req, op, t0, -r);
	ufs_stat_record(&FS(req)->st, op, t0, 0);
	if (fuse_reply_entry(req, e) == -ENOENT) /* interrupted: undo */
		ufs_node_forget(FS(req), ufs_node_of(FS(req), e->ino), 1);
}

static void rep_attr(fuse_req_t req, enum ufs_op op, uint64_t t0, int r,
		     const struct stat *st)
{
	if (r < 0)
		return rep_err(req, op, t0, -r);
	ufs_stat_record(&FS(req)->st, op, t0, 0);
	fuse_reply_attr(req, st, FS(req)->cfg->attr_timeout);
}

static void ufs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct ufs_fs *fs = userdata;
	unsigned want = FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
			FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_CACHE_SYMLINKS |
			FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO |
			FUSE_CAP_ASYNC_DIO | FUSE_CAP_ASYNC_READ;
	if (fs->cfg->writeback)
		want |= FUSE_CAP_WRITEBACK_CACHE;
	/* Requests are read with read(2): splicing each one into a pipe and
	 * out again costs two syscalls per request for no gain on small ones.
	 * readdirplus is adaptive: the kernel asks for attributes when the
	 * reader stats the entries (find -ls, ls -l), not for a plain ls. */
	conn->want &= ~FUSE_CAP_SPLICE_READ;
	conn->want |= want & conn->capable;
	/* io_uring replies go into the ring entry's buffer, never a pipe */
	if (fs->uring_requested)
		conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	/* Locks are local to the kernel: the union has one client. */
	conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	fs->no_opendir = conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT;
	conn->time_gran = 1;
	/* the payload of a request or reply, which sizes each ring entry's
	 * buffer (the kernel's max(8 KiB, max_write, max_pages pages)) */
	if (fs->cfg->uring_payload_kb)
		conn->max_write = fs->cfg->uring_payload_kb * 1024u;
}

static void ufs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct fuse_entry_param e;
	int r = ufs_do_lookup(fs, ufs_node_of(fs, parent), name, 0, &e);
	if (r == -ENOENT) { /* cache the negative entry */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->cfg->entry_timeout;
		ufs_stat_record(&fs->st, UFS_OP_LOOKUP, t0, 0);
		fuse_reply_entry(req, &e);
		return;
	}
	rep_entry(req, UFS_OP_LOOKUP, t0, r, &e);
}

static void ufs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	ufs_node_forget(fs, ufs_node_of(fs, ino), nlookup);
	ufs_stat_record(&fs->st, UFS_OP_FORGET, t0, 0);
	fuse_reply_none(req);
}

static void ufs_forget_multi(fuse_req_t req, size_t count,
			     struct fuse_forget_data *forgets)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	for (size_t i = 0; i < count; i++)
		ufs_node_forget(fs, ufs_node_of(fs, forgets[i].ino), forgets[i].nlookup);
	ufs_stat_record(&fs->st, UFS_OP_FORGET, t0, 0);
	fuse_reply_none(req);
}

static void ufs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct ufs_node *n = ufs_node_of(fs, ino);
	struct stat st;
	int r;
	if (fi && !S_ISDIR(n->type)) {
		r = fstat(ufs_file_fd(fs, FILE_OF(fi)), &st) < 0 ? cm_neg_errno() : 0;
		if (r == 0)
			ufs_stat_fixup(fs, n, &st);
	} else {
		r = ufs_node_stat(fs, n, &st);
	}
	rep_attr(req, UFS_OP_GETATTR, t0, r, &st);
}

/* Whether the caller of req has CAP_FSETID in the initial user namespace
 * (the kernel's capable() test), read from /proc: a caller in another user
 * namespace, or any doubt, counts as not having it. */
static bool caller_has_fsetid(fuse_req_t req)
{
	pid_t pid = fuse_req_ctx(req)->pid;
	char path[64], ns[64], own[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	ssize_t n = readlink(path, ns, sizeof(ns));
	ssize_t m = readlink("/proc/self/ns/user", own, sizeof(own));
	if (pid <= 0 || n <= 0 || n != m || memcmp(ns, own, (size_t)n) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	unsigned long long caps = 0;
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "CapEff: %llx", &caps) == 1;
	if (f)
		fclose(f);
	return found && (caps & (1ULL << 4 /* CAP_FSETID */));
}

/* FUSE_HANDLE_KILLPRIV_V2: a write or truncate by a caller without
 * CAP_FSETID clears suid, and sgid when the group may execute, as the VFS
 * does (the daemon's own write keeps them: it has CAP_FSETID; the branch
 * drops security.capability on the daemon's write itself). fd may be
 * O_PATH. 1 if bits were cleared, 0 if there were none. */
static int kill_suidgid(int fd, fuse_req_t check_caller)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	mode_t m = st.st_mode & 07777;
	mode_t k = m & ~(mode_t)(S_ISUID | (m & S_IXGRP ? S_ISGID : 0));
	if (k == m || (check_caller && caller_has_fsetid(check_caller)))
		return 0;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fchmod(fd, k) < 0 && chmod(proc, k) < 0)
		return 0;
	return 1;
}

static void setattr_times(const struct stat *attr, int valid, struct timespec ts[2])
{
	ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
}

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* setattr by (dir fd, name) in the rw branch, following no symlink: the
 * name may have been swapped for a link by the container meanwhile, and the
 * daemon must never change a file out of the branch. -ENOSYS when chmod
 * needs fchmodat2 (Linux >= 6.6) and the kernel lacks it. */
static int setattr_at(int dfd, const char *name, mode_t type, const struct stat *attr,
		      int valid, struct ufs_file *f)
{
	if (valid & FUSE_SET_ATTR_MODE && !S_ISLNK(type) &&
	    syscall(SYS_fchmodat2, dfd, name, attr->st_mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		return cm_neg_errno();
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = valid & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t gid = valid & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;
		if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return cm_neg_errno();
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		if (f && (f->flags & O_ACCMODE) != O_RDONLY) {
			if (ftruncate(f->fd, attr->st_size) < 0)
				return cm_neg_errno();
		} else {
			_cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || ftruncate(fd, attr->st_size) < 0)
				return cm_neg_errno();
		}
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec ts[2];
		setattr_times(attr, valid, ts);
		if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return cm_neg_errno();
	}
	return 0;
}

/* setattr through an O_PATH fd of the object (detached nodes, old kernels). */
static int setattr_fd(struct ufs_fs *fs, struct ufs_node *n, const struct stat *attr,
		      int valid, struct ufs_file *f)
{
	_cleanup_close_ int pfd = ufs_node_open(fs, n, O_PATH);
	if (pfd < 0)
		return pfd;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	if (valid & FUSE_SET_ATTR_MODE && !S_ISLNK(n->type) &&
	    chmod(proc, attr->st_mode & 07777) < 0)
		return cm_neg_errno();
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = valid & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t gid = valid & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;
		if (fchownat(pfd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return cm_neg_errno();
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		if (f && (f->flags & O_ACCMODE) != O_RDONLY) {
			if (ftruncate(f->fd, attr->st_size) < 0)
				return cm_neg_errno();
		} else if (truncate(proc, attr->st_size) < 0) {
			return cm_neg_errno();
		}
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec ts[2];
		setattr_times(attr, valid, ts);
		int q = S_ISLNK(n->type) ? utimensat(pfd, "", ts, AT_EMPTY_PATH)
					 : utimensat(AT_FDCWD, proc, ts, 0);
		if (q < 0)
			return cm_neg_errno();
	}
	return 0;
}

static int do_setattr(fuse_req_t req, struct ufs_fs *fs, struct ufs_node *n,
		      struct stat *attr, int valid, struct fuse_file_info *fi)
{
	if (!fs->rw)
		return -EROFS;
	/* an owner the kernel sends is a view id (uidmapping=) */
	attr->st_uid = ufs_uid_to_disk(fs->cfg, attr->st_uid);
	attr->st_gid = ufs_gid_to_disk(fs->cfg, attr->st_gid);
	bool trunc0 = (valid & FUSE_SET_ATTR_SIZE) && attr->st_size == 0;
	int r = ufs_copyup(fs, n, trunc0 ? 0 : -1);
	if (r < 0)
		return r;
	struct ufs_file *f = fi ? FILE_OF(fi) : NULL;
	/* The common case: by name in the object's upper dir, no open, no
	 * /proc lookup (tar sets owner, mode and times of every file). */
	_cleanup_ufd_ struct ufs_fd df = { -1, false };
	if (S_ISDIR(n->type) && !n->detached) {
		r = ufs_dir_fd(fs, n, 0, &df);
		if (r == 0)
			r = setattr_at(df.fd, ".", n->type, attr, valid, f);
	} else {
		struct ufs_node *parent;
		char name[NAME_MAX + 1];
		r = ufs_node_alias(fs, n, &parent, name);
		if (r == 0) {
			r = ufs_dir_fd(fs, parent, 0, &df);
			if (r == 0)
				r = setattr_at(df.fd, name, n->type, attr, valid, f);
			ufs_node_unpin(fs, parent);
		}
	}
	if (r == -ENOENT || r == -ENOSYS)
		r = setattr_fd(fs, n, attr, valid, f);
	/* killpriv_v2: a truncate the kernel flagged, or the empty SETATTR
	 * the kernel's remove-privs sends instead of a mode (who writes is
	 * only known from the caller then) */
	bool none = valid == 0 && ufs_shim_setattr_none();
	if (r == 0 && fs->killpriv_v2 &&
	    (none || ((valid & FUSE_SET_ATTR_SIZE) && ufs_shim_kill_suidgid()))) {
		_cleanup_close_ int pfd = ufs_node_open(fs, n, O_PATH);
		if (pfd >= 0)
			kill_suidgid(pfd, none ? req : NULL);
	}
	return r;
}

static void ufs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			int valid, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct ufs_node *n = ufs_node_of(fs, ino);
	struct stat st;
	int r = do_setattr(req, fs, n, attr, valid, fi);
	if (r == 0)
		r = ufs_node_stat(fs, n, &st);
	rep_attr(req, UFS_OP_SETATTR, t0, r, &st);
}

static void ufs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	char buf[PATH_MAX + 1];
	_cleanup_close_ int fd = ufs_node_open(fs, ufs_node_of(fs, ino), O_PATH);
	if (fd < 0)
		return rep_err(req, UFS_OP_READLINK, t0, -fd);
	ssize_t n = readlinkat(fd, "", buf, sizeof(buf) - 1);
	if (n < 0)
		return rep_err(req, UFS_OP_READLINK, t0, errno);
	buf[n] = '\0';
	ufs_stat_record(&fs->st, UFS_OP_READLINK, t0, 0);
	fuse_reply_readlink(req, buf);
}

static void ufs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct fuse_entry_param e;
	int r = ufs_do_mknod(fs, req, ufs_node_of(fs, parent), name, mode, rdev, NULL, &e);
	rep_entry(req, UFS_OP_MKNOD, t0, r, &e);
}

static void ufs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct fuse_entry_param e;
	int r = ufs_do_mknod(fs, req, ufs_node_of(fs, parent), name, S_IFDIR | mode, 0, NULL, &e);
	rep_entry(req, UFS_OP_MKDIR, t0, r, &e);
}

static void ufs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			const char *name)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct fuse_entry_param e;
	int r = ufs_do_mknod(fs, req, ufs_node_of(fs, parent), name, S_IFLNK | 0777, 0, link, &e);
	rep_entry(req, UFS_OP_SYMLINK, t0, r, &e);
}

static void ufs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	int r = ufs_do_unlink(fs, ufs_node_of(fs, parent), name, false);
	rep_err(req, UFS_OP_UNLINK, t0, -r);
}

static void ufs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	int r = ufs_do_unlink(fs, ufs_node_of(fs, parent), name, true);
	rep_err(req, UFS_OP_RMDIR, t0, -r);
}

static void ufs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		       fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	int r = ufs_do_rename(fs, ufs_node_of(fs, parent), name,
			      ufs_node_of(fs, newparent), newname, flags);
	rep_err(req, UFS_OP_RENAME, t0, -r);
}

static void ufs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		     const char *newname)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct fuse_entry_param e;
	int r = ufs_do_link(fs, ufs_node_of(fs, ino), ufs_node_of(fs, newparent), newname, &e);
	rep_entry(req, UFS_OP_LINK, t0, r, &e);
}

/* created: f->fd is of the node's object as made (no copy-up since) */
static void set_open_flags(struct ufs_fs *fs, struct ufs_file *f,
			   struct fuse_file_info *fi, bool created)
{
	fi->fh = (uint64_t)(uintptr_t)f;
	int id = ufs_pt_open(fs, f->node, created ? f->fd : -1);
	if (id > 0) {
		/* Reads, writes and mmap go straight to the backing file. */
		f->pt = true;
		ufs_shim_set_backing(id);
		fi->keep_cache = 0;
		fi->noflush = 1;
		return;
	}
	/* Lower branches are immutable and every change to the rw branch
	 * goes through this mount, so the kernel's page cache stays valid. */
	fi->keep_cache = 1;
	/* FLUSH would only close a dup of a local fd: save the round trip
	 * on every close (with writeback the kernel flushes pages itself). */
	fi->noflush = 1;
	if (f->flags & O_DIRECT)
		fi->direct_io = 1;
}

static void ufs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct ufs_file *f;
	ufs_readahead_apply(fs);
	/* O_DIRECT is honoured by the kernel side (direct_io); the backing
	 * file is opened buffered, as our request buffers are not aligned. */
	int r = ufs_file_open(fs, ufs_node_of(fs, ino), fi->flags & ~O_DIRECT, &f);
	if (r < 0)
		return rep_err(req, UFS_OP_OPEN, t0, -r);
	f->flags = fi->flags;
	set_open_flags(fs, f, fi, false);
	ufs_stat_record(&fs->st, UFS_OP_OPEN, t0, 0);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		if (f->pt)
			ufs_pt_release(fs, f->node);
		ufs_file_free(fs, f);
	}
}

static void ufs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct fuse_entry_param e;
	int fd = -1;
	int r = ufs_do_create(fs, req, ufs_node_of(fs, parent), name, mode,
			      fi->flags & ~O_DIRECT, &fd, &e);
	if (r < 0)
		return rep_err(req, UFS_OP_CREATE, t0, -r);
	struct ufs_node *n = ufs_node_of(fs, e.ino);
	struct ufs_file *f = ufs_file_wrap(fs, n, fd, fi->flags);
	if (!f) {
		close(fd);
		ufs_node_forget(fs, n, 1);
		return rep_err(req, UFS_OP_CREATE, t0, ENOMEM);
	}
	set_open_flags(fs, f, fi, true);
	ufs_stat_record(&fs->st, UFS_OP_CREATE, t0, 0);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		if (f->pt)
			ufs_pt_release(fs, n);
		ufs_file_free(fs, f);
		ufs_node_forget(fs, n, 1);
	}
}

static void ufs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = ufs_file_fd(fs, FILE_OF(fi));
	buf.buf[0].pos = off;
	atomic_fetch_add_explicit(&fs->st.read_bytes, size, memory_order_relaxed);
	ufs_stat_record(&fs->st, UFS_OP_READ, t0, 0);
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void ufs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
			  off_t off, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = FILE_OF(fi)->fd;
	out.buf[0].pos = off;
	ssize_t n = fuse_buf_copy(&out, in, 0);
	if (n < 0)
		return rep_err(req, UFS_OP_WRITE, t0, (int)-n);
	/* the kernel's cached mode is stale once the daemon changed it */
	if (fs->killpriv_v2 && ufs_shim_kill_suidgid() && kill_suidgid(FILE_OF(fi)->fd, NULL) > 0)
		(void)fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
	atomic_fetch_add_explicit(&fs->st.write_bytes, (unsigned long long)n, memory_order_relaxed);
	ufs_stat_record(&fs->st, UFS_OP_WRITE, t0, 0);
	fuse_reply_write(req, (size_t)n);
}

static void ufs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	/* close() of a dup reports deferred write errors, as on the backing fs */
	int fd = dup(FILE_OF(fi)->fd);
	int r = fd < 0 || close(fd) < 0 ? errno : 0;
	rep_err(req, UFS_OP_FLUSH, t0, r);
}

static void ufs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct ufs_file *f = FILE_OF(fi);
	if (f->pt)
		ufs_pt_release(fs, f->node);
	ufs_file_free(fs, f);
	rep_err(req, UFS_OP_RELEASE, t0, 0);
}

static void ufs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	/* fsync=0, volatile: ENOSYS makes the kernel stop asking (success) */
	if (FS(req)->cfg->fsync_off)
		return rep_err(req, UFS_OP_FSYNC, t0, ENOSYS);
	int fd = FILE_OF(fi)->fd;
	int r = (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
	rep_err(req, UFS_OP_FSYNC, t0, r);
}

static void ufs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
			  off_t len, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	int r = fallocate(FILE_OF(fi)->fd, mode, off, len) < 0 ? errno : 0;
	rep_err(req, UFS_OP_FALLOCATE, t0, r);
}

static void ufs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		      struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	off_t r = lseek(ufs_file_fd(fs, FILE_OF(fi)), off, whence);
	if (r < 0)
		return rep_err(req, UFS_OP_LSEEK, t0, errno);
	ufs_stat_record(&fs->st, UFS_OP_LSEEK, t0, 0);
	fuse_reply_lseek(req, r);
}

/* ---- directories ---- */

static void ufs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	/* Zero-message opendir: ENOSYS once and the kernel stops sending
	 * OPENDIR/RELEASEDIR (one round trip less each per directory read),
	 * keeping its readdir cache on. Listings live in the dir's node. */
	if (fs->no_opendir)
		return rep_err(req, UFS_OP_OPENDIR, t0, ENOSYS);
	fi->fh = 0;
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	ufs_stat_record(&fs->st, UFS_OP_OPENDIR, t0, 0);
	fuse_reply_open(req, fi);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	uint64_t t0 = ufs_now_ns();
	enum ufs_op op = plus ? UFS_OP_READDIRPLUS : UFS_OP_READDIR;
	struct ufs_fs *fs = FS(req);
	struct ufs_node *dir = ufs_node_of(fs, ino);
	/* A fresh listing at offset 0 (first read or rewinddir). The kernel
	 * stamps its readdir cache with the dir's version when it sends that
	 * request, so a listing older than the stamp could stay cached stale.
	 * A first read at an offset (the kernel served the start from its
	 * cache) takes the node's listing, identical while the dir is: the
	 * kernel drops its cache when the dir changes. */
	int err = 0;
	struct ufs_dircache *dc = ufs_dircache_get(fs, dir, off == 0, &err);
	if (!dc)
		return rep_err(req, op, t0, -err);
	const struct ufs_dirlist *list = &dc->l;
	_cleanup_free_ char *buf = malloc(size);
	if (!buf) {
		ufs_dircache_put(dc);
		return rep_err(req, op, t0, ENOMEM);
	}
	size_t pos = 0;
	for (size_t i = (size_t)off; i < list->n + 2; i++) {
		const char *name;
		struct fuse_entry_param e;
		memset(&e, 0, sizeof(e));
		struct ufs_node *child = NULL;
		if (i < 2) {
			name = i == 0 ? "." : "..";
			struct ufs_node *p = dir;
			if (i == 1) {
				struct ufs_node *pp;
				char nb[NAME_MAX + 1];
				if (ufs_node_alias(fs, dir, &pp, nb) == 0) {
					p = pp;
					ufs_node_unpin(fs, pp); /* only its st_ino is read */
				}
			}
			e.attr.st_ino = p->ino;
			e.attr.st_mode = S_IFDIR;
		} else {
			const struct ufs_dirent *de = &list->ents[i - 2];
			name = ufs_dirent_name(list, de);
			if (plus) {
				int r = ufs_do_lookup(fs, dir, name, de->branch, &e);
				if (r < 0)
					continue; /* gone since opendir */
				child = ufs_node_of(fs, e.ino);
			} else {
				e.attr.st_ino = de->ino;
				e.attr.st_mode = (mode_t)de->type << 12;
			}
		}
		size_t n = plus ? fuse_add_direntry_plus(req, buf + pos, size - pos, name, &e, (off_t)i + 1)
				: fuse_add_direntry(req, buf + pos, size - pos, name, &e.attr, (off_t)i + 1);
		if (n > size - pos) {
			if (child)
				ufs_node_forget(fs, child, 1);
			break;
		}
		pos += n;
	}
	ufs_dircache_put(dc);
	ufs_stat_record(&fs->st, op, t0, 0);
	fuse_reply_buf(req, buf, pos);
}

static void ufs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void ufs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void ufs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	rep_err(req, UFS_OP_RELEASEDIR, t0, 0);
}

static void ufs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			 struct fuse_file_info *fi)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct ufs_node *n = ufs_node_of(fs, ino);
	int r = 0;
	if (fs->cfg->fsync_off)
		return rep_err(req, UFS_OP_FSYNCDIR, t0, ENOSYS);
	if (fs->rw && atomic_load(&n->top) == 0) {
		_cleanup_close_ int fd = ufs_node_open(fs, n, O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			r = -fd;
		else if ((datasync ? fdatasync(fd) : fsync(fd)) < 0)
			r = errno;
	}
	rep_err(req, UFS_OP_FSYNCDIR, t0, r);
}

static void ufs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct statvfs sv;
	if (fstatvfs(fs->br[0].fd, &sv) < 0)
		return rep_err(req, UFS_OP_STATFS, t0, errno);
	/* the longest name that can still be whited out (as fuse-overlayfs);
	 * an overlay whiteout has the name itself */
	if (fs->wh.fmt == CM_WH_FMT_AUFS)
		sv.f_namemax = cm_wh_target_max(sv.f_namemax);
	ufs_stat_record(&fs->st, UFS_OP_STATFS, t0, 0);
	fuse_reply_statfs(req, &sv);
}

/* ---- xattrs ---- */

/* The xattr calls on a node: Linux 6.13's *xattrat relative to the dir fd
 * that ufsmount keeps (the node's own for a dir, its parent's and its name
 * otherwise), no open of the node; else (an older kernel: ENOSYS, once) and
 * for a detached node, on /proc/self/fd/N of an O_PATH fd of it. */
#define K_NR_SETXATTRAT 463
#define K_NR_GETXATTRAT 464
#define K_NR_LISTXATTRAT 465
#define K_NR_REMOVEXATTRAT 466
struct k_xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};
enum xop { XOP_GET, XOP_SET, XOP_LIST, XOP_REMOVE };
static atomic_bool no_xattrat;

static long xattrat(int dfd, const char *path, enum xop op, const char *name, void *buf,
		    size_t size, int flags)
{
	struct k_xattr_args a = { (uint64_t)(uintptr_t)buf, (uint32_t)size, (uint32_t)flags };
	if (size > UINT32_MAX) {
		errno = E2BIG;
		return -1;
	}
	switch (op) {
	case XOP_GET: return syscall(K_NR_GETXATTRAT, dfd, path, AT_SYMLINK_NOFOLLOW, name, &a, sizeof(a));
	case XOP_SET: return syscall(K_NR_SETXATTRAT, dfd, path, AT_SYMLINK_NOFOLLOW, name, &a, sizeof(a));
	case XOP_LIST: return syscall(K_NR_LISTXATTRAT, dfd, path, AT_SYMLINK_NOFOLLOW, buf, size);
	default: return syscall(K_NR_REMOVEXATTRAT, dfd, path, AT_SYMLINK_NOFOLLOW, name);
	}
}

/* op on the node n: name, buf/size as getxattr(2) and the others;
 * returns the length (get, list), 0 (set, remove) or -1 with errno */
static ssize_t node_xattr(struct ufs_fs *fs, struct ufs_node *n, enum xop op, const char *name,
			  void *buf, size_t size, int flags)
{
	if (!n->detached && !atomic_load_explicit(&no_xattrat, memory_order_relaxed)) {
		int top = atomic_load(&n->top), r;
		long k = -1;
		if (S_ISDIR(n->type)) {
			_cleanup_ufd_ struct ufs_fd df = { -1, false };
			if ((r = ufs_dir_fd(fs, n, top, &df)) < 0) {
				errno = -r;
				return -1;
			}
			k = xattrat(df.fd, ".", op, name, buf, size, flags);
		} else {
			struct ufs_node *parent;
			char nm[NAME_MAX + 1];
			if ((r = ufs_node_alias(fs, n, &parent, nm)) < 0) {
				errno = -r;
				return -1;
			}
			_cleanup_ufd_ struct ufs_fd pf = { -1, false };
			r = ufs_dir_fd(fs, parent, top, &pf);
			if (r == 0)
				k = xattrat(pf.fd, nm, op, name, buf, size, flags);
			else
				errno = -r;
			int e = errno;
			ufs_fd_put(&pf); /* while the parent is pinned */
			ufs_node_unpin(fs, parent);
			errno = e;
			if (r < 0)
				return -1;
		}
		if (k >= 0 || errno != ENOSYS)
			return k;
		atomic_store(&no_xattrat, true);
	}
	_cleanup_close_ int fd = ufs_node_open(fs, n, O_PATH);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	switch (op) {
	case XOP_GET: return getxattr(proc, name, buf, size);
	case XOP_SET: return setxattr(proc, name, buf, size, flags);
	case XOP_LIST: return listxattr(proc, buf, size);
	default: return removexattr(proc, name);
	}
}

static void reply_xattr_result(fuse_req_t req, enum ufs_op op, uint64_t t0,
			       ssize_t n, size_t size, const char *buf)
{
	if (n < 0)
		return rep_err(req, op, t0, errno);
	ufs_stat_record(&FS(req)->st, op, t0, 0);
	if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

/* The overlay format's own xattrs (opaque marks, xwhiteouts) are the
 * branch's business: not shown, not settable (as kernel overlayfs). */
static bool private_xattr(const struct ufs_fs *fs, const char *name)
{
	return fs->wh.fmt == CM_WH_FMT_OVERLAY && cm_wh_xattr_is_private(name);
}

/* Drop the private names from a listxattr result; returns the new length. */
static ssize_t filter_xattr_list(char *buf, ssize_t n)
{
	ssize_t k = 0;
	for (ssize_t i = 0; i < n;) {
		size_t l = strnlen(buf + i, (size_t)(n - i)) + 1;
		if (!cm_wh_xattr_is_private(buf + i)) {
			memmove(buf + k, buf + i, l);
			k += (ssize_t)l;
		}
		i += (ssize_t)l;
	}
	return k;
}

static void ufs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct ufs_node *n = ufs_node_of(fs, ino);
	/* The kernel asks for security.capability before every write(2) (to
	 * drop it); it changes only through us, so a miss is remembered. */
	bool cap = strcmp(name, "security.capability") == 0;
	if (cap && atomic_load(&n->nocap))
		return rep_err(req, UFS_OP_GETXATTR, t0, ENODATA);
	if (private_xattr(fs, name))
		return rep_err(req, UFS_OP_GETXATTR, t0, EOPNOTSUPP);
	_cleanup_free_ char *buf = size ? malloc(size) : NULL;
	if (size && !buf)
		return rep_err(req, UFS_OP_GETXATTR, t0, ENOMEM);
	ssize_t len = node_xattr(fs, n, XOP_GET, name, buf, size, 0);
	if (cap && len < 0 && errno == ENODATA)
		atomic_store(&n->nocap, true);
	reply_xattr_result(req, UFS_OP_GETXATTR, t0, len, size, buf);
}

static void ufs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	struct ufs_node *node = ufs_node_of(fs, ino);
	if (fs->wh.fmt == CM_WH_FMT_OVERLAY) {
		/* the size asked for must be the filtered one: list it all */
		ssize_t full = node_xattr(fs, node, XOP_LIST, NULL, NULL, 0, 0);
		_cleanup_free_ char *all = full > 0 ? malloc((size_t)full) : NULL;
		if (full > 0 && !all)
			return rep_err(req, UFS_OP_LISTXATTR, t0, ENOMEM);
		ssize_t n = full > 0 ? node_xattr(fs, node, XOP_LIST, NULL, all, (size_t)full, 0) : full;
		if (n > 0)
			n = filter_xattr_list(all, n);
		if (n >= 0 && size && (size_t)n > size)
			return rep_err(req, UFS_OP_LISTXATTR, t0, ERANGE);
		return reply_xattr_result(req, UFS_OP_LISTXATTR, t0, n, size, all);
	}
	_cleanup_free_ char *buf = size ? malloc(size) : NULL;
	if (size && !buf)
		return rep_err(req, UFS_OP_LISTXATTR, t0, ENOMEM);
	ssize_t n = node_xattr(fs, node, XOP_LIST, NULL, buf, size, 0);
	reply_xattr_result(req, UFS_OP_LISTXATTR, t0, n, size, buf);
}

static int xattr_change(struct ufs_fs *fs, struct ufs_node *n, const char *name,
			const char *value, size_t size, int flags, bool remove)
{
	if (!fs->rw)
		return -EROFS;
	if (private_xattr(fs, name))
		return -EOPNOTSUPP;
	int r = ufs_copyup(fs, n, -1);
	if (r < 0)
		return r;
	atomic_store(&n->nocap, false);
	ssize_t k = node_xattr(fs, n, remove ? XOP_REMOVE : XOP_SET, name, (void *)(uintptr_t)value,
			       size, flags);
	return k < 0 ? cm_neg_errno() : 0;
}

static void ufs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 const char *value, size_t size, int flags)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	int r = xattr_change(fs, ufs_node_of(fs, ino), name, value, size, flags, false);
	rep_err(req, UFS_OP_SETXATTR, t0, -r);
}

static void ufs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	uint64_t t0 = ufs_now_ns();
	struct ufs_fs *fs = FS(req);
	int r = xattr_change(fs, ufs_node_of(fs, ino), name, NULL, 0, 0, true);
	rep_err(req, UFS_OP_REMOVEXATTR, t0, -r);
}

const struct fuse_lowlevel_ops ufs_ops = {
	.init = ufs_init,
	.lookup = ufs_lookup,
	.forget = ufs_forget,
	.forget_multi = ufs_forget_multi,
	.getattr = ufs_getattr,
	.setattr = ufs_setattr,
	.readlink = ufs_readlink,
	.mknod = ufs_mknod,
	.mkdir = ufs_mkdir,
	.symlink = ufs_symlink,
	.unlink = ufs_unlink,
	.rmdir = ufs_rmdir,
	.rename = ufs_rename,
	.link = ufs_link,
	.open = ufs_open,
	.create = ufs_create,
	.read = ufs_read,
	.write_buf = ufs_write_buf,
	.flush = ufs_flush,
	.release = ufs_release,
	.fsync = ufs_fsync,
	.fallocate = ufs_fallocate,
	.lseek = ufs_lseek,
	.opendir = ufs_opendir,
	.readdir = ufs_readdir,
	.readdirplus = ufs_readdirplus,
	.releasedir = ufs_releasedir,
	.fsyncdir = ufs_fsyncdir,
	.statfs = ufs_statfs,
	.getxattr = ufs_getxattr,
	.listxattr = ufs_listxattr,
	.setxattr = ufs_setxattr,
	.removexattr = ufs_removexattr,
};
