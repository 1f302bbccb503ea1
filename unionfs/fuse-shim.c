// SPDX-License-Identifier: MIT
/* FUSE passthrough on libfuse 3.14, which has no API for it: we mount
 * ourselves, give libfuse our /dev/fuse fd through fuse_session_custom_io(),
 * and patch three replies on their way to the kernel: INIT (the passthrough
 * flag and max_stack_depth), OPEN and CREATE (FOPEN_PASSTHROUGH and the
 * backing id). All kernel-ABI knowledge of passthrough lives here, so that
 * moving to libfuse >= 3.16 (fuse_passthrough_open(), fi->backing_id,
 * conn->max_backing_stack_depth) deletes this file and keeps passthrough.c. */
#include "ufs-internal.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>

/* ---- kernel ABI (include/uapi/linux/fuse.h, protocol 7.40) ---- */

struct k_in_header {
	uint32_t len, opcode;
	uint64_t unique, nodeid;
	uint32_t uid, gid, pid;
	uint16_t total_extlen, padding;
};
struct k_out_header {
	uint32_t len;
	int32_t error;
	uint64_t unique;
};
struct k_init_in {
	uint32_t major, minor, max_readahead, flags, flags2, unused[11];
};
struct k_init_out {
	uint32_t major, minor, max_readahead, flags;
	uint16_t max_background, congestion_threshold;
	uint32_t max_write, time_gran;
	uint16_t max_pages, map_alignment;
	uint32_t flags2, max_stack_depth;
	uint32_t unused[6];
};
struct k_open_out {
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;
};
struct k_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};
_Static_assert(sizeof(struct k_in_header) == 40, "fuse_in_header");
_Static_assert(sizeof(struct k_out_header) == 16, "fuse_out_header");
_Static_assert(sizeof(struct k_init_in) == 64, "fuse_init_in");
_Static_assert(sizeof(struct k_init_out) == 64, "fuse_init_out");
_Static_assert(offsetof(struct k_init_out, max_stack_depth) == 36, "max_stack_depth");
_Static_assert(sizeof(struct k_open_out) == 16, "fuse_open_out");
_Static_assert(offsetof(struct k_open_out, backing_id) == 12, "backing_id");
_Static_assert(sizeof(struct k_backing_map) == 16, "fuse_backing_map");

#define K_FUSE_INIT 26
#define K_FUSE_OPEN 14
#define K_FUSE_CREATE 35
#define K_FUSE_SETATTR 4
#define K_FUSE_WRITE 16
#define K_WRITE_FLAGS_OFF 20             /* fuse_write_in.write_flags */
#define K_FUSE_WRITE_KILL_SUIDGID (1u << 2)
#define K_FATTR_KILL_SUIDGID (1u << 11)  /* fuse_setattr_in.valid */
#define K_FUSE_HANDLE_KILLPRIV_V2 (1u << 28)
#define K_ENTRY_OUT_SIZE 128 /* struct fuse_entry_out, before fuse_open_out */
#define K_FUSE_WRITEBACK_CACHE (1u << 16)
#define K_FUSE_INIT_EXT (1u << 30)
#define K_FUSE_PASSTHROUGH_HI (1u << (37 - 32)) /* in flags2 */
#define K_FUSE_ALLOW_IDMAP_HI (1u << (40 - 32))  /* in flags2, protocol 7.40 */
#define K_FUSE_OVER_IO_URING_HI (1u << (41 - 32)) /* in flags2, protocol 7.42 */
#define K_FUSE_MIN_READ_BUFFER 8192
#define K_FOPEN_KEEP_CACHE (1u << 1)
#define K_FOPEN_PASSTHROUGH (1u << 7)
#define K_DEV_IOC_MAGIC 229
#define K_DEV_IOC_BACKING_OPEN _IOW(K_DEV_IOC_MAGIC, 1, struct k_backing_map)
#define K_DEV_IOC_BACKING_CLOSE _IOW(K_DEV_IOC_MAGIC, 2, uint32_t)
/* Our backing files are on disk filesystems (depth 0): one level is enough,
 * and keeps our mount usable below another stacking filesystem. */
#define UFS_MAX_STACK_DEPTH 1

/* The request a worker thread is handling: libfuse reads, handles and
 * replies to a request in one thread, so the reply can be matched. */
static __thread struct {
	uint64_t unique;
	uint32_t opcode;
	int backing_id; /* set by the OPEN/CREATE handler, 0: none */
	bool kill_suidgid; /* WRITE/SETATTR: FUSE_HANDLE_KILLPRIV_V2's flag */
	bool setattr_none; /* SETATTR of nothing: the kernel's remove-privs */
	struct ufs_ring_ent *ring; /* serving a request of this ring entry */
} cur;

static struct ufs_fs *shim_fs; /* one mount per process */

bool ufs_shim_kill_suidgid(void)
{
	return cur.kill_suidgid;
}

bool ufs_shim_setattr_none(void)
{
	return cur.setattr_none;
}

/* The flags of a request the handlers need and libfuse 3.14 drops. */
static void note_request(const struct k_in_header *h, size_t n)
{
	const char *arg = (const char *)(h + 1);
	uint32_t v;
	cur.kill_suidgid = cur.setattr_none = false;
	if (h->opcode == K_FUSE_WRITE && n >= sizeof(*h) + K_WRITE_FLAGS_OFF + 4) {
		memcpy(&v, arg + K_WRITE_FLAGS_OFF, 4);
		cur.kill_suidgid = v & K_FUSE_WRITE_KILL_SUIDGID;
	} else if (h->opcode == K_FUSE_SETATTR && n >= sizeof(*h) + 4) {
		memcpy(&v, arg, 4);
		cur.kill_suidgid = v & K_FATTR_KILL_SUIDGID;
		cur.setattr_none = v == 0;
	}
}

void ufs_shim_set_backing(int backing_id)
{
	cur.backing_id = backing_id;
}

int ufs_shim_backing_open(struct ufs_fs *fs, int fd)
{
	struct k_backing_map map = { .fd = fd };
	int id = ioctl(fs->devfd, K_DEV_IOC_BACKING_OPEN, &map);
	return id < 0 ? cm_neg_errno() : (id == 0 ? -EIO : id);
}

void ufs_shim_backing_close(struct ufs_fs *fs, int id)
{
	uint32_t v = (uint32_t)id;
	(void)ioctl(fs->devfd, K_DEV_IOC_BACKING_CLOSE, &v);
}

/* Why the kernel offers no io_uring, from its module parameter. */
static void uring_not_offered(struct ufs_fs *fs)
{
	char v[8] = "";
	FILE *f = fopen("/sys/module/fuse/parameters/enable_uring", "re");
	if (f) {
		if (!fgets(v, sizeof(v), f))
			v[0] = '\0';
		fclose(f);
	}
	if (!f)
		snprintf(fs->uring_reason, sizeof(fs->uring_reason),
			 "this kernel has no FUSE over io_uring (Linux 6.14+, CONFIG_FUSE_IO_URING)");
	else if (v[0] != 'Y')
		snprintf(fs->uring_reason, sizeof(fs->uring_reason),
			 "off in the kernel (/sys/module/fuse/parameters/enable_uring is N)");
	else
		snprintf(fs->uring_reason, sizeof(fs->uring_reason),
			 "the kernel did not offer it at INIT");
}

static void note_init(struct ufs_fs *fs, uint64_t flags)
{
	fs->pt_kernel_offers = (flags >> 32) & K_FUSE_PASSTHROUGH_HI;
	fs->idmap_kernel_offers = (flags >> 32) & K_FUSE_ALLOW_IDMAP_HI;
	fs->killpriv_v2 = flags & K_FUSE_HANDLE_KILLPRIV_V2; /* offered */
	fs->uring_offered = (flags >> 32) & K_FUSE_OVER_IO_URING_HI;
	if (!fs->cfg->io_uring)
		snprintf(fs->uring_reason, sizeof(fs->uring_reason), "-o noio_uring");
	else if (!ufs_uring_built())
		snprintf(fs->uring_reason, sizeof(fs->uring_reason), "built without liburing");
	else if (!fs->uring_offered)
		uring_not_offered(fs);
	else
		fs->uring_requested = true;
}

/* What the handlers need to know of the request this thread serves. */
static void begin_request(const void *buf, size_t n)
{
	const struct k_in_header *h = buf;
	cur.unique = h->unique;
	cur.opcode = h->opcode;
	cur.backing_id = 0;
	note_request(h, n);
}

static ssize_t shim_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)userdata;
	ssize_t n = read(fd, buf, len);
	if (n < (ssize_t)sizeof(struct k_in_header))
		return n;
	const struct k_in_header *h = buf;
	begin_request(buf, (size_t)n);
	if (h->opcode == K_FUSE_INIT &&
	    (size_t)n >= sizeof(*h) + offsetof(struct k_init_in, flags2) + 4) {
		const struct k_init_in *in = (const void *)((const char *)buf + sizeof(*h));
		uint64_t flags = in->flags;
		if (flags & K_FUSE_INIT_EXT)
			flags |= (uint64_t)in->flags2 << 32;
		note_init(shim_fs, flags);
		ufs_pt_init_begin(shim_fs); /* ended in shim_writev, same thread */
	}
	return n;
}

/* Copy the iovec into buf (replies we patch are small). */
static ssize_t flatten(const struct iovec *iov, int count, char *buf, size_t cap)
{
	size_t n = 0;
	for (int i = 0; i < count; i++) {
		if (n + iov[i].iov_len > cap)
			return -1;
		memcpy(buf + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	return (ssize_t)n;
}

/* The INIT reply, with passthrough asked for when the kernel offers it;
 * the kernel processes it inside our write, so the probe follows. */
static ssize_t init_reply(int fd, struct iovec *iov, int count)
{
	char buf[sizeof(struct k_out_header) + sizeof(struct k_init_out) + 64];
	ssize_t len = flatten(iov, count, buf, sizeof(buf));
	const struct k_out_header *oh = (const void *)buf;
	struct ufs_fs *fs = shim_fs;
	if (len < (ssize_t)(sizeof(*oh) + sizeof(struct k_init_out)) || oh->error != 0) {
		fs->killpriv_v2 = false;
		fs->uring_requested = false;
		return writev(fd, iov, count);
	}
	struct k_init_out *o = (void *)(buf + sizeof(struct k_out_header));
	if (fs->pt_kernel_offers && fs->pt_wanted && !(o->flags & K_FUSE_WRITEBACK_CACHE)) {
		o->flags |= K_FUSE_INIT_EXT;
		o->flags2 |= K_FUSE_PASSTHROUGH_HI;
		o->max_stack_depth = UFS_MAX_STACK_DEPTH;
		fs->pt_requested = true;
	}
	/* -o allow_idmap: the mount may be idmapped (a --userns container's
	 * root). The kernel then sends the owner of a new inode mapped through
	 * the mount's idmap, and no uid/gid with other requests: the daemon
	 * only reads them for the owner of new inodes (dir.c set_owner). It
	 * needs default_permissions, which we always mount with. */
	if (fs->idmap_kernel_offers && fs->cfg->allow_idmap) {
		o->flags |= K_FUSE_INIT_EXT;
		o->flags2 |= K_FUSE_ALLOW_IDMAP_HI;
		fs->idmap_allowed = true;
	}
	/* The daemon clears suid/sgid where the kernel tells it to (ops.c);
	 * security.capability goes with the branch's own write or truncate,
	 * which are the daemon's. The kernel then stops asking for
	 * security.capability before each write. */
	if (fs->killpriv_v2)
		o->flags |= K_FUSE_HANDLE_KILLPRIV_V2;
	if (fs->uring_requested) {
		o->flags |= K_FUSE_INIT_EXT;
		o->flags2 |= K_FUSE_OVER_IO_URING_HI;
	}
	ssize_t r = write(fd, buf, (size_t)len);
	if (r < 0) {
		fs->killpriv_v2 = false;
		fs->uring_requested = false;
		return r;
	}
	ufs_pt_probe(fs);
	if (fs->uring_requested) {
		/* the kernel's payload size: what the largest request needs */
		size_t payload = o->max_write > K_FUSE_MIN_READ_BUFFER ? o->max_write
								       : K_FUSE_MIN_READ_BUFFER;
		size_t pages = (size_t)o->max_pages * (size_t)sysconf(_SC_PAGESIZE);
		if (pages > payload)
			payload = pages;
		int e = ufs_uring_start(fs, payload);
		if (e < 0)
			snprintf(fs->uring_reason, sizeof(fs->uring_reason), "cannot start: %s",
				 strerror(-e));
	}
	return r;
}

/* A reply to the request this thread serves from a ring entry goes into
 * the entry; anything else (notifications) to /dev/fuse. */
static ssize_t send_out(int fd, const struct iovec *iov, int count)
{
	const struct k_out_header *oh = iov[0].iov_base;
	if (cur.ring && count > 0 && iov[0].iov_len >= sizeof(*oh) && oh->unique == cur.unique)
		return ufs_uring_reply(cur.ring, iov, count);
	return writev(fd, iov, count);
}

static ssize_t send_buf(int fd, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	return send_out(fd, &iov, 1);
}

void ufs_shim_serve(struct ufs_fs *fs, struct ufs_ring_ent *ent, void *msg, size_t len)
{
	begin_request(msg, len);
	cur.ring = ent;
	struct fuse_buf b = { .size = len, .mem = msg };
	fuse_session_process_buf(fs->se, &b);
	cur.ring = NULL;
}

static ssize_t shim_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	if (cur.opcode == K_FUSE_INIT) {
		ssize_t r = init_reply(fd, iov, count);
		cur.opcode = 0;
		ufs_pt_init_end(shim_fs);
		return r;
	}
	const struct k_out_header *oh = iov[0].iov_base;
	bool ours = count > 0 && iov[0].iov_len >= sizeof(*oh) && oh->unique == cur.unique &&
		    oh->unique != 0 && oh->error == 0;
	if (!ours || !((cur.opcode == K_FUSE_OPEN || cur.opcode == K_FUSE_CREATE) && cur.backing_id > 0))
		return send_out(fd, iov, count);

	/* A private copy of the reply, patched. */
	char buf[sizeof(struct k_out_header) + K_ENTRY_OUT_SIZE + sizeof(struct k_open_out) + 64];
	ssize_t len = flatten(iov, count, buf, sizeof(buf));
	if (len < 0)
		return send_out(fd, iov, count);
	size_t off = sizeof(struct k_out_header) + (cur.opcode == K_FUSE_CREATE ? K_ENTRY_OUT_SIZE : 0);
	if ((size_t)len >= off + sizeof(struct k_open_out)) {
		struct k_open_out *o = (void *)(buf + off);
		o->open_flags |= K_FOPEN_PASSTHROUGH;
		o->open_flags &= ~K_FOPEN_KEEP_CACHE; /* EIO with passthrough */
		o->backing_id = cur.backing_id;
	}
	cur.backing_id = 0;
	return send_buf(fd, buf, (size_t)len);
}

static ssize_t shim_splice_send(int fdin, off_t *offin, int fdout, off_t *offout,
				size_t len, unsigned int flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, len, flags);
}

/* ---- mounting ourselves (what fuse_session_mount does for root) ---- */

struct mflag {
	const char *name;
	unsigned long set, clear;
};
static const struct mflag mflags[] = {
	{ "ro", MS_RDONLY, 0 },          { "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },      { "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },        { "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },      { "exec", 0, MS_NOEXEC },
	{ "noatime", MS_NOATIME, 0 },    { "atime", 0, MS_NOATIME },
	{ "relatime", MS_RELATIME, 0 },  { "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 },
	{ "sync", MS_SYNCHRONOUS, 0 },   { "async", 0, MS_SYNCHRONOUS },
	{ "dirsync", MS_DIRSYNC, 0 },
};

int ufs_shim_mount(struct ufs_fs *fs, struct fuse_session *se, const char *opts)
{
	if (geteuid() != 0)
		return -EPERM;
	_cleanup_free_ char *copy = strdup(opts);
	char data[4096], source[PATH_MAX] = "ufsmount", type[256] = "fuse.ufsmount";
	if (!copy)
		return -ENOMEM;
	unsigned long flags = MS_NOSUID | MS_NODEV; /* libfuse's defaults */
	_cleanup_close_ int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cm_neg_errno();
	struct stat st;
	if (stat(fs->cfg->mountpoint, &st) < 0)
		return cm_neg_errno();
	int n = snprintf(data, sizeof(data), "fd=%d,rootmode=%o,user_id=%u,group_id=%u", fd,
			 st.st_mode & S_IFMT, getuid(), getgid());
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		bool done = false;
		for (size_t i = 0; i < CM_ARRAY_SIZE(mflags); i++)
			if (strcmp(o, mflags[i].name) == 0) {
				flags = (flags | mflags[i].set) & ~mflags[i].clear;
				done = true;
			}
		if (done)
			continue;
		if (strncmp(o, "fsname=", 7) == 0)
			snprintf(source, sizeof(source), "%s", o + 7);
		else if (strncmp(o, "subtype=", 8) == 0)
			snprintf(type, sizeof(type), "fuse.%s", o + 8);
		else if (strcmp(o, "default_permissions") == 0 || strcmp(o, "allow_other") == 0 ||
			 strncmp(o, "max_read=", 9) == 0)
			n += snprintf(data + n, sizeof(data) - (size_t)n, ",%s", o);
		else
			return -EOPNOTSUPP; /* e.g. allow_root: libfuse's business */
		if ((size_t)n >= sizeof(data))
			return -E2BIG;
	}
	if (mount(source, fs->cfg->mountpoint, type, flags, data) < 0)
		return cm_neg_errno();
	static const struct fuse_custom_io io = {
		.read = shim_read,
		.writev = shim_writev,
		.splice_send = shim_splice_send,
	};
	shim_fs = fs;
	int r = fuse_session_custom_io(se, &io, fd);
	if (r < 0) {
		(void)umount2(fs->cfg->mountpoint, MNT_DETACH);
		return r;
	}
	fs->devfd = TAKE_FD(fd); /* owned by the session from now on */
	fs->shim_mounted = true;
	return 0;
}

void ufs_shim_unmount(struct ufs_fs *fs)
{
	if (!fs->shim_mounted)
		return;
	/* Like fuse_kern_unmount(): when our connection is gone (POLLERR) the
	 * mount was already unmounted, and the path may hold someone else's
	 * new mount by now; otherwise unmount lazily. */
	struct pollfd p = { .fd = fs->devfd, .events = 0 };
	if (fs->devfd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) {
		fs->shim_mounted = false;
		return;
	}
	(void)umount2(fs->cfg->mountpoint, MNT_DETACH);
	fs->shim_mounted = false;
}
