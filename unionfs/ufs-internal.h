/* SPDX-License-Identifier: MIT */
/* Private header of the union filesystem, sectioned by file (after kernel
 * overlayfs's overlayfs.h). See docs/design.md for the model. */
#pragma once

#include "ufs.h"
#include "cm.h"
#include "cm-whiteout.h"

#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/uio.h>

/* ---- status.c: counters ------------------------------------------------ */

enum ufs_op {
	UFS_OP_LOOKUP, UFS_OP_FORGET, UFS_OP_GETATTR, UFS_OP_SETATTR,
	UFS_OP_READLINK, UFS_OP_MKNOD, UFS_OP_MKDIR, UFS_OP_UNLINK,
	UFS_OP_RMDIR, UFS_OP_SYMLINK, UFS_OP_RENAME, UFS_OP_LINK, UFS_OP_OPEN,
	UFS_OP_READ, UFS_OP_WRITE, UFS_OP_FLUSH, UFS_OP_RELEASE, UFS_OP_FSYNC,
	UFS_OP_OPENDIR, UFS_OP_READDIR, UFS_OP_READDIRPLUS, UFS_OP_RELEASEDIR,
	UFS_OP_FSYNCDIR, UFS_OP_STATFS, UFS_OP_SETXATTR, UFS_OP_GETXATTR,
	UFS_OP_LISTXATTR, UFS_OP_REMOVEXATTR, UFS_OP_CREATE, UFS_OP_FALLOCATE,
	UFS_OP_LSEEK, UFS_OP_COPY_FILE_RANGE,
	UFS_OP__MAX
};

struct ufs_op_stat {
	atomic_ullong count;
	atomic_ullong errors;
	atomic_ullong ns; /* total latency */
	atomic_ullong max_ns;
};

struct ufs_stats {
	struct ufs_op_stat op[UFS_OP__MAX];
	atomic_ullong copyup;        /* objects copied up */
	atomic_ullong copyup_bytes;
	atomic_ullong copyup_ns;
	atomic_ullong whiteout;      /* whiteouts written */
	atomic_ullong opaque;        /* opaque dirs made */
	atomic_ullong read_bytes;
	atomic_ullong write_bytes;
	atomic_ullong dir_copyup_tree; /* lower dirs copied whole for rename */
	atomic_ullong rmdir_fast;    /* rmdirs done as one rmdir(2) */
	atomic_ullong pt_opens;      /* opens handed to the kernel (passthrough) */
	atomic_ullong pt_backing;    /* backing files registered now */
	atomic_ullong pt_refused;    /* inodes the kernel refused a backing for */
	atomic_ullong pt_stale;      /* copy-ups of inodes open in passthrough */
	atomic_ullong nodes;         /* live nodes */
	atomic_ullong dirfds;        /* cached branch dir fds */
};

const char *ufs_op_name(enum ufs_op op);
void ufs_json_str(FILE *f, const char *s);
uint64_t ufs_now_ns(void);
void ufs_stat_record(struct ufs_stats *s, enum ufs_op op, uint64_t t0, int err);

/* ---- the filesystem ------------------------------------------------------ */

struct ufs_branch {
	int fd;          /* O_PATH|O_DIRECTORY of the branch root */
	char *path;
	enum ufs_branch_mode mode;
	dev_t dev;
};

struct ufs_node;

enum ufs_pt_state {
	UFS_PT_OFF,         /* -o nopassthrough */
	UFS_PT_PENDING,     /* our mount, INIT not yet probed */
	UFS_PT_UNAVAILABLE, /* kernel or mount cannot */
	UFS_PT_REFUSED,     /* the probe's backing open failed */
	UFS_PT_ACTIVE,
};

struct ufs_fs {
	struct ufs_config *cfg;
	struct ufs_branch br[UFS_MAX_BRANCHES];
	int nbr;
	bool rw;          /* branch 0 is writable */
	struct cm_wh_enc wh; /* how whiteouts and opaque dirs are written */
	int workfd;       /* O_PATH of the work dir (<rw>/.wh..wh.work, or
			   * WORKDIR/work in the overlay syntax), -1 if read-only */
	int ownerfd;      /* the work dir's flocked owner file (branch.c) */
	int rootlockfd;   /* the rw branch root, flocked */
	uid_t euid;       /* the daemon's, fixed for its life: set_owner */
	gid_t egid;       /* compares each new object's owner with them */
	struct ufs_node *root;
	struct ufs_stats st;
	long dirfd_budget; /* cached dir fds allowed */
	struct fuse_session *se;
	char *status_sock;
	unsigned dev_major, dev_minor; /* of the mount, once known */
	atomic_bool ra_done;          /* bdi read-ahead applied */
	bool no_opendir;              /* zero-message opendir (kernel >= 5.1) */

	/* passthrough.c, fuse-shim.c */
	int devfd;                    /* /dev/fuse when we mounted (shim) */
	bool shim_mounted;
	bool pt_wanted, pt_kernel_offers, pt_requested;
	/* fuse-shim.c: idmapped mounts allowed (-o allow_idmap and the kernel offers it) */
	bool idmap_kernel_offers, idmap_allowed;
	/* fuse-shim.c: FUSE_HANDLE_KILLPRIV_V2 negotiated (the daemon clears
	 * suid/sgid on write/truncate, no GETXATTR security.capability per write) */
	bool killpriv_v2;
	/* uring.c: FUSE over io_uring */
	bool uring_offered, uring_requested;
	struct ufs_uring *uring;      /* the queues, once INIT asked for them */
	char uring_reason[160];       /* why not, when not */
	_Atomic enum ufs_pt_state pt_state;
	pthread_mutex_t pt_probe_lock; /* held from INIT's arrival to the probe */
	char pt_reason[160];
	char pt_last_refusal[64];

	/* node table (inode.c); table_lock protects both hashes, every
	 * node's parent/name/nlookup/pins and the origin map. Lock order:
	 * node->lock before table_lock; table_lock is a leaf lock. */
	pthread_mutex_t table_lock;
	pthread_mutex_t dcache_lock; /* every node->dcache pointer; leaf */
	pthread_mutex_t neg_lock;    /* every node->neg pointer; leaf */
	pthread_mutex_t files_lock;  /* the list of open files; leaf */
	struct ufs_file *files;
	struct ufs_node **idhash;   /* key (branch, backing ino) */
	struct ufs_node *all;       /* every node but the root (teardown) */
	struct ufs_node **alhash;   /* key (parent, name) */
	size_t hsize, hcount;
	struct ufs_origin **origins; /* upper ino -> reported ino, after copy-up */
	size_t osize;
	atomic_size_t ocount;
};

/* ---- inode.c: nodes ------------------------------------------------------ */

/* A node is the union's inode: one visible object. Identity is the backing
 * object of its top branch; st_ino is stable across copy-up (ino). */
struct ufs_node {
	/* table_lock */
	struct ufs_node *parent; /* pinned while we point at it */
	char *name;              /* alias used for copy-up and path ops */
	uint64_t nlookup;        /* kernel references */
	uint64_t pins;           /* children + temporary users */
	struct ufs_node *idnext, *alnext;
	struct ufs_node *all_prev, *all_next; /* every node, for teardown */
	bool idhashed, alhashed;

	/* node->lock, readable without it via atomics */
	pthread_mutex_t lock;    /* serialises copy-up and state changes */
	_Atomic int top;         /* branch holding the visible object */
	_Atomic ino_t bino;      /* backing inode number in branch top */
	_Atomic uint64_t mask;   /* dirs: branches that contribute */
	atomic_uint gen;         /* bumped by copy-up (open files reopen) */
	uint64_t ino;            /* reported st_ino, fixed at creation */
	mode_t type;             /* S_IFMT bits */
	bool detached;           /* unlinked/replaced: reach it via dfd */
	atomic_bool nocap;       /* known to have no security.capability */
	/* node->lock: passthrough (passthrough.c) */
	int backing_id;          /* > 0 while pt_opens > 0 */
	unsigned pt_opens;
	bool pt_refused;
	int dfd;                 /* O_PATH to the object once detached */
	_Atomic int *bfd;        /* dirs: per-branch O_PATH fds, lazily */
	struct ufs_dircache *dcache; /* dirs: last listing (fs->dcache_lock) */
	/* dirs (lookup.c): bumped after every change of the dir's names in
	 * the rw branch (dir.c, copyup.c), and the last name a lookup found
	 * absent with what its resolution saw (fs->neg_lock) */
	atomic_uint nsgen;
	struct ufs_negmemo *neg;
	/* dirs (lookup.c): hashes of the names in the lower branches, built
	 * once at the first resolution that needs them (they never change) */
	struct ufs_lnames *_Atomic lnames;
};

/* a getdents64(2) record (readdir.c, lookup.c) */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Result of resolving NAME in a directory across branches. */
struct ufs_res {
	int branch;      /* top branch holding the name */
	struct stat st;  /* lstat in that branch */
	uint64_t mask;   /* dirs: contributing branches */
};

/* An fd that may have to be closed after use (the dir fd cache is bounded). */
struct ufs_fd {
	int fd;
	bool owned;
};
static inline void ufs_fd_put(struct ufs_fd *f)
{
	if (f->owned && f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->owned = false;
}
#define _cleanup_ufd_ _cleanup_(ufs_fd_put)

int ufs_table_init(struct ufs_fs *fs);
void ufs_table_destroy(struct ufs_fs *fs);
struct ufs_node *ufs_node_root_new(struct ufs_fs *fs, uint64_t mask,
				   const struct stat *st);
/* Find or make the node for (parent, name) as resolved in res; adds one
 * kernel reference. Returns NULL on ENOMEM. */
struct ufs_node *ufs_node_get(struct ufs_fs *fs, struct ufs_node *parent,
			      const char *name, const struct ufs_res *res);
/* Like ufs_node_get for an object just created in the rw branch: a node
 * still hashed under a reused inode number is displaced, never returned. */
struct ufs_node *ufs_node_get_new(struct ufs_fs *fs, struct ufs_node *parent,
				  const char *name, const struct ufs_res *res);
/* Drop n kernel references; frees the node when nothing refers to it. */
void ufs_node_forget(struct ufs_fs *fs, struct ufs_node *node, uint64_t n);
/* Node aliased at (parent, name) with a temporary pin, or NULL. */
struct ufs_node *ufs_node_find_alias(struct ufs_fs *fs, struct ufs_node *parent,
				     const char *name);
void ufs_node_pin(struct ufs_fs *fs, struct ufs_node *node);
void ufs_node_unpin(struct ufs_fs *fs, struct ufs_node *node);
/* Copy the alias (parent pinned, name into buf) of node. -ENOENT if detached
 * or the root. */
int ufs_node_alias(struct ufs_fs *fs, struct ufs_node *node,
		   struct ufs_node **ret_parent, char name[NAME_MAX + 1]);
/* Move node to alias (parent, name); NULL parent detaches it. */
void ufs_node_set_alias(struct ufs_fs *fs, struct ufs_node *node,
			struct ufs_node *parent, const char *name);
/* Record a new top backing object after copy-up (rehash, origin map). */
void ufs_node_set_backing(struct ufs_fs *fs, struct ufs_node *node, int top,
			  ino_t bino);
/* Detach node from its name and identity for good (it keeps serving its
 * open files); the upper object bino, its copy, reports node's st_ino. */
void ufs_node_retire(struct ufs_fs *fs, struct ufs_node *node, ino_t bino);
/* Reported st_ino for backing object bino in branch b. */
uint64_t ufs_ino_of(struct ufs_fs *fs, int b, ino_t bino);
/* Forget any st_ino remembered for upper inode bino (it was just created). */
void ufs_origin_forget(struct ufs_fs *fs, ino_t bino);
/* Branch dir fd of a directory node (may be temporary). */
int ufs_dir_fd(struct ufs_fs *fs, struct ufs_node *dir, int b,
	       struct ufs_fd *ret);
/* Set a freshly made upper dir fd for dir (copy-up, mkdir). Takes fd. */
void ufs_dir_set_fd(struct ufs_fs *fs, struct ufs_node *dir, int b, int fd);
/* Open the node's top object (O_PATH when flags == O_PATH). */
int ufs_node_open(struct ufs_fs *fs, struct ufs_node *node, int flags);
/* lstat the node's top object, with st_ino mapped to the union's. */
int ufs_node_stat(struct ufs_fs *fs, struct ufs_node *node, struct stat *st);
/* Fix st_ino / st_nlink and the owner (id mapping) of a backing stat of
 * node for reporting. */
void ufs_stat_fixup(struct ufs_fs *fs, struct ufs_node *node, struct stat *st);

static inline struct ufs_node *ufs_node_of(struct ufs_fs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? fs->root : (struct ufs_node *)(uintptr_t)ino;
}
static inline int ufs_first_bit(uint64_t m)
{
	return m ? __builtin_ctzll(m) : -1;
}
#define UFS_BIT(b) (1ULL << (b))

/* ---- lookup.c: resolution across branches ------------------------------- */

/* Resolve name in dir, scanning branches from start (use 0 for all).
 * Returns 0 and fills res, -ENOENT if absent or whited out, -errno. */
int ufs_resolve(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		int start, struct ufs_res *res);
/* What a resolution learnt on its way about name beside and below its top
 * branch, for a change made right after it (in the same request, under the
 * kernel's lock of the dir) not to ask the branches again. Each field is
 * -1 where the resolution did not get that far (an upper non-dir, an
 * opaque upper dir, an upper-only dir's whiteouts: a stale .wh.NAME may
 * sit in an opaque dir). */
struct ufs_probe {
	int wh0;       /* ufs_upper_whiteout_exists's answer */
	int lower;     /* ufs_lower_exists's answer */
	int lower_has; /* ufs_lower_has_name's answer */
	uint64_t mask; /* the dir's branches it was scanned with */
};
/* ufs_resolve that also fills *ret_probe (on every return; all -1 unless
 * start is 0 on a rw mount and the result is 0 or -ENOENT). */
int ufs_resolve_probe(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		      int start, struct ufs_res *res, struct ufs_probe *ret_probe);
/* True if a branch below the rw one would show name in dir were the upper
 * entry removed (no upper whiteout, some lower branch has it); from pr
 * (may be NULL) where it knows. */
int ufs_lower_exists(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		     const struct ufs_probe *pr);
/* True if some lower branch of dir has name at all (whited out or not);
 * from pr (may be NULL) where it knows. */
int ufs_lower_has_name(struct ufs_fs *fs, struct ufs_node *dir,
		       const char *name, const struct ufs_probe *pr);
/* Which whiteout of name a dir fd of the rw branch holds: 0 none,
 * UFS_WH_BESIDE (.wh.NAME), UFS_WH_INPLACE (NAME is an overlay whiteout),
 * or -errno. */
#define UFS_WH_BESIDE 1
#define UFS_WH_INPLACE 2
int ufs_whiteout_at(struct ufs_fs *fs, int dirfd, const char *name);
/* The same for dir's upper part (0 if it has none). */
int ufs_upper_whiteout_exists(struct ufs_fs *fs, struct ufs_node *dir,
			      const char *name);
/* The dir's names in the rw branch changed (or may have): forget what
 * lookups found absent in it. After the change, on every path. */
static inline void ufs_dir_changed(struct ufs_node *dir)
{
	if (dir)
		atomic_fetch_add(&dir->nsgen, 1);
}
/* The kernel creates where it just looked up and found nothing (LOOKUP,
 * then MKDIR/CREATE/LINK or RENAME onto it): true, with the probe of that
 * lookup in *ret, when the last name found absent in dir is name and
 * nothing changed dir since (its nsgen and branches as then). */
bool ufs_neg_recall(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		    struct ufs_probe *ret);
/* Free a memo (the dir node's teardown); NULL is fine. */
void ufs_neg_free(struct ufs_negmemo *m);
void ufs_lnames_free(struct ufs_lnames *l);
/* Lookup for the kernel: resolve and make the node; fills e. An absent
 * name is remembered for ufs_neg_recall (start 0). */
int ufs_do_lookup(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		  int start, struct fuse_entry_param *e);
void ufs_fill_entry(struct ufs_fs *fs, struct ufs_node *n, const struct stat *st,
		    struct fuse_entry_param *e);

/* ---- copyup.c ------------------------------------------------------------ */

/* Copy node (and first its parents) into the rw branch. size_limit < 0
 * copies all data, else at most that many bytes (truncate). 0 or -errno;
 * on failure no branch changed visibly. */
int ufs_copyup(struct ufs_fs *fs, struct ufs_node *node, off_t size_limit);
/* Make every entry of the merged dir live in the rw branch and mark the
 * upper dir opaque (used by rename of lower dirs). An entry named skip (if
 * not NULL) is not copied: the opaque mark hides its lower parts, which is
 * how a name whose whiteout cannot be written is removed. */
int ufs_copyup_tree(struct ufs_fs *fs, struct ufs_node *dir, const char *skip);
/* Copy one object srcdir/name (any type) to dstdir/dstname atomically via
 * the work dir, with metadata. Returns the new upper ino in *ret_ino. */
int ufs_copy_object(struct ufs_fs *fs, int srcdir, const char *name,
		    int dstdir, const char *dstname, off_t size_limit,
		    ino_t *ret_ino);

/* ---- dir.c: namespace changes --------------------------------------------- */

/* Mark the upper dir dfd opaque (the rw branch's encoding), counted. */
int ufs_opaque_mark(struct ufs_fs *fs, int dfd);
int ufs_do_mknod(struct ufs_fs *fs, fuse_req_t req, struct ufs_node *dir,
		 const char *name, mode_t mode, dev_t rdev, const char *link,
		 struct fuse_entry_param *e);
int ufs_do_create(struct ufs_fs *fs, fuse_req_t req, struct ufs_node *dir,
		  const char *name, mode_t mode, int flags, int *ret_fd,
		  struct fuse_entry_param *e);
int ufs_do_unlink(struct ufs_fs *fs, struct ufs_node *dir, const char *name,
		  bool is_dir);
int ufs_do_rename(struct ufs_fs *fs, struct ufs_node *sdir, const char *sname,
		  struct ufs_node *ddir, const char *dname, unsigned int flags);
int ufs_do_link(struct ufs_fs *fs, struct ufs_node *node, struct ufs_node *dir,
		const char *name, struct fuse_entry_param *e);

/* ---- readdir.c: merged listings ------------------------------------------ */

struct ufs_dirent {
	uint32_t name_off;
	int8_t branch;
	uint8_t type; /* DT_* */
	uint64_t ino;
};

struct ufs_dirlist {
	struct ufs_dirent *ents;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
};

/* Build the merged listing of dir (whiteouts applied, .wh.* hidden, no
 * "." or ".."). Linear in the number of entries. */
int ufs_dirlist_build(struct ufs_fs *fs, struct ufs_node *dir,
		      struct ufs_dirlist *ret);
void ufs_dirlist_free(struct ufs_dirlist *l);

/* A listing shared by the readers of one directory (there are no dir
 * handles: OPENDIR is zero-message). Refcounted: a reader keeps the one it
 * started with while another rebuilds. */
struct ufs_dircache {
	atomic_int ref;
	struct ufs_dirlist l;
};
/* The node's listing: rebuilt when fresh (offset 0: first read or
 * rewinddir), else the cached one (or a new one if none). Returns a
 * reference, or NULL with -errno in *err. */
struct ufs_dircache *ufs_dircache_get(struct ufs_fs *fs, struct ufs_node *dir,
				      bool fresh, int *err);
void ufs_dircache_put(struct ufs_dircache *dc);
static inline const char *ufs_dirent_name(const struct ufs_dirlist *l,
					  const struct ufs_dirent *e)
{
	return l->names + e->name_off;
}

/* ---- file.c: open files --------------------------------------------------- */

struct ufs_file {
	int fd;
	int oldfd;           /* pre-copy-up fd, closed at release */
	bool pt;             /* opened in passthrough: release drops it */
	struct ufs_file *prev, *next; /* fs->files, under fs->files_lock */
	int flags;
	unsigned gen;        /* node->gen at open */
	struct ufs_node *node;
	pthread_mutex_t lock; /* reopen after copy-up */
};

int ufs_file_open(struct ufs_fs *fs, struct ufs_node *node, int flags,
		  struct ufs_file **ret);
/* Files are on fs's list until released, so that teardown frees those the
 * kernel never released (a lazy unmount with files open). */
struct ufs_file *ufs_file_wrap(struct ufs_fs *fs, struct ufs_node *node, int fd, int flags);
void ufs_file_free(struct ufs_fs *fs, struct ufs_file *f);
/* Teardown: free every file still open. */
void ufs_files_free_all(struct ufs_fs *fs);
/* The fd to read through: reopened on the upper copy if a copy-up happened
 * after this read-only open. */
int ufs_file_fd(struct ufs_fs *fs, struct ufs_file *f);

/* ---- ops.c ---------------------------------------------------------------- */

extern const struct fuse_lowlevel_ops ufs_ops;

/* ---- passthrough.c, fuse-shim.c --------------------------------------------- */

void ufs_pt_init(struct ufs_fs *fs, bool wanted);
/* The mount was made by libfuse (no shim): passthrough unavailable. */
void ufs_pt_mounted_without_shim(struct ufs_fs *fs, int err);
/* Decide the mount's state; called right after the kernel took INIT. */
void ufs_pt_probe(struct ufs_fs *fs);
/* At open of node: the backing id for the reply (> 0), or 0 for an
 * ordinary open. fd: an fd of the node's current object to register
 * (create's own), or -1 to open one. Takes node->lock. */
int ufs_pt_open(struct ufs_fs *fs, struct ufs_node *n, int fd);
/* At release of a passthrough open. Takes node->lock. */
void ufs_pt_release(struct ufs_fs *fs, struct ufs_node *n);
const char *ufs_pt_state_name(enum ufs_pt_state st);
/* The state, once decided (waits while INIT is being probed). */
enum ufs_pt_state ufs_pt_state_get(struct ufs_fs *fs);
/* fuse-shim.c brackets INIT's handling with these. */
void ufs_pt_init_begin(struct ufs_fs *fs);
void ufs_pt_init_end(struct ufs_fs *fs);

/* Mount at cfg->mountpoint ourselves with the comma list opts and hand the
 * fd to libfuse through custom io. -EOPNOTSUPP for an option only libfuse
 * handles, -EPERM when not root: the caller then uses fuse_session_mount. */
int ufs_shim_mount(struct ufs_fs *fs, struct fuse_session *se, const char *opts);
void ufs_shim_unmount(struct ufs_fs *fs);
/* The OPEN/CREATE reply this thread sends next carries this backing id. */
void ufs_shim_set_backing(int backing_id);
/* FUSE_HANDLE_KILLPRIV_V2: the kernel asked, with the WRITE or SETATTR this
 * thread is serving, that suid/sgid be cleared (a caller without CAP_FSETID). */
bool ufs_shim_kill_suidgid(void);
/* The SETATTR this thread serves changes nothing: with killpriv the kernel
 * sends one where it would have cleared suid/sgid itself (a write in
 * passthrough mode, or before a write). */
bool ufs_shim_setattr_none(void);
int ufs_shim_backing_open(struct ufs_fs *fs, int fd);
void ufs_shim_backing_close(struct ufs_fs *fs, int id);

/* Serve one request of ring entry ent (msg: the request as /dev/fuse
 * would give it): the reply goes into the entry. */
struct ufs_ring_ent;
void ufs_shim_serve(struct ufs_fs *fs, struct ufs_ring_ent *ent, void *msg, size_t len);

/* ---- uring.c: FUSE over io_uring ------------------------------------------ */

struct ufs_uring;
bool ufs_uring_built(void); /* with liburing */
/* Start the queues once the INIT reply asking for them is written. */
int ufs_uring_start(struct ufs_fs *fs, size_t payload);
void ufs_uring_stop(struct ufs_fs *fs);
/* Put a reply into the entry being served; like writev's result. */
ssize_t ufs_uring_reply(struct ufs_ring_ent *ent, const struct iovec *iov, int count);
/* The transport line(s) of --status (json: a ,"transport":{...} member). */
void ufs_uring_status(struct ufs_fs *fs, FILE *f, bool json);

/* ---- status.c: control socket ---------------------------------------------- */

int ufs_status_start(struct ufs_fs *fs);
/* Device and fstype of the mount at path, from /proc/self/mountinfo, and
 * (ret_owner, may be NULL) the uid that made a FUSE mount (0 if none). */
int ufs_mount_find(const char *path, unsigned *maj, unsigned *min, char *fstype,
		   size_t fssz, uid_t *ret_owner);
/* Apply cfg->readahead_kb to the mount's bdi once the kernel processed
 * INIT (which clamps it to what the kernel offered). Idempotent. */
void ufs_readahead_apply(struct ufs_fs *fs);
void ufs_status_stop(struct ufs_fs *fs);

/* ---- session.c ------------------------------------------------------------ */

/* Open the branches of a validated config and build the root node; no
 * mount. NULL with the reason in err. (Unit tests use this on plain dirs.) */
struct ufs_fs *ufs_fs_new(struct ufs_config *cfg, char *err, size_t errsz);
void ufs_fs_free(struct ufs_fs *fs);

/* ---- branch.c, ovlopts.c: configuration ------------------------------------ */

/* Format a one-line reason into err (size errsz); returns r. */
int ufs_errf(char *err, size_t errsz, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Turn lowerdir=/upperdir= into cfg->branches (before canonicalisation). */
int ufs_ovl_assemble(struct ufs_config *cfg, char *err, size_t errsz);
/* Canonicalise workdir= and check it against the branches (after them). */
int ufs_ovl_check_workdir(struct ufs_config *cfg, char *err, size_t errsz);
/* Owner as shown: squash_to_*, else uidmapping=/gidmapping= (disk -> view). */
void ufs_ids_to_view(const struct ufs_config *cfg, struct stat *st);
/* Owner as stored for an owner the kernel sent (view -> disk); -1 stays. */
uid_t ufs_uid_to_disk(const struct ufs_config *cfg, uid_t uid);
gid_t ufs_gid_to_disk(const struct ufs_config *cfg, gid_t gid);

/* ---- branch.c ------------------------------------------------------------- */

/* Open the branches; a rw branch is locked for the life of fs (a second
 * mount of it is refused with -EBUSY, naming the holder in err). */
int ufs_fs_open_branches(struct ufs_fs *fs, char *err, size_t errsz);
/* Record this process and the mountpoint as the rw branch's holder (call
 * once the daemon runs under its final pid). 0 or -errno. */
int ufs_fs_owner_publish(struct ufs_fs *fs);
void ufs_fs_close_branches(struct ufs_fs *fs);
