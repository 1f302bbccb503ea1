/* SPDX-License-Identifier: MIT */
/* Public interface of the union filesystem library: configuration (branch
 * list and options), the mount session, and the status client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define UFS_MAX_BRANCHES 64

enum ufs_branch_mode {
	UFS_BR_RW,
	UFS_BR_RO,
	UFS_BR_RR, /* really read-only: no whiteout lookups below it */
};

struct ufs_branch_spec {
	char *path; /* canonical absolute path after validation */
	enum ufs_branch_mode mode;
};

/* uid or gid mapping between the ids stored in the branches and the ids
 * the mount shows (fuse-overlayfs's uidmapping=DISK:VIEW:COUNT[:...], as
 * containers/storage passes ContainerID:HostID:Size). */
#define UFS_MAX_IDMAP 32
struct ufs_idmap {
	unsigned n;
	struct {
		uint32_t disk, view, count;
	} r[UFS_MAX_IDMAP];
};

struct ufs_config {
	struct ufs_branch_spec branches[UFS_MAX_BRANCHES];
	size_t nbranch;
	char *mountpoint; /* canonical */
	bool foreground;
	bool debug;
	bool have_dirs;
	char *fuse_opts;     /* comma list passed to libfuse, NULL if none */
	double entry_timeout; /* seconds */
	double attr_timeout;
	bool copyup_fsync;   /* fsync copied-up data before publishing */
	bool writeback;      /* kernel writeback cache */
	bool passthrough;    /* FUSE passthrough for file data when possible */
	bool allow_idmap;    /* let the mount be idmapped (FUSE_ALLOW_IDMAP) */
	unsigned readahead_kb; /* bdi read-ahead of the mount, 0 = kernel's */
	unsigned max_threads;  /* request threads */
	bool io_uring;         /* FUSE over io_uring when the kernel offers it */
	unsigned uring_depth;  /* ring entries (threads) per queue */
	unsigned uring_payload_kb; /* largest request/reply payload, 0: libfuse's */

	/* The overlay syntax (kernel overlayfs's and fuse-overlayfs's
	 * lowerdir=,upperdir=,workdir=), which selects the overlay on-disk
	 * format: 0/0 char device whiteouts, overlay.opaque xattrs. */
	bool overlay;
	char *lowerdir, *upperdir; /* as given, until ufs_config_validate */
	char *workdir;       /* canonical after validation; our temps go in WORKDIR/work */
	bool userxattr;      /* user.overlay.* xattrs (else trusted. as root) */
	bool xwhiteout;      /* whiteouts as overlay.whiteout files, not devices */
	bool fsync_off;      /* fsync=0, volatile: fsync(2) is not passed down */
	struct ufs_idmap uidmap, gidmap;
	long squash_uid, squash_gid; /* every object shown with this owner, -1: off */
};

/* Parse the value of dirs= into cfg->branches (paths not yet validated).
 * Returns 0 or -EINVAL with a one-line reason in err. */
int ufs_config_parse_dirs(struct ufs_config *cfg, const char *dirs, char *err,
			  size_t errsz);

/* Parse one -o argument (comma list): dirs=, our options, and the generic
 * FUSE mount options we pass through. Unknown options are refused.
 * Returns 0 or -EINVAL with the reason in err. */
int ufs_config_parse_opts(struct ufs_config *cfg, const char *opts, char *err,
			  size_t errsz);

/* One option of the overlay syntax (ovlopts.c): 1 if o is one (then
 * parsed into cfg), 0 if not, or -EINVAL/-ENOMEM with the reason in err. */
int ufs_ovl_parse_opt(struct ufs_config *cfg, const char *o, char *err, size_t errsz);

/* Canonicalise and check branches and mountpoint: existence, directory,
 * overlap, modes (the overlay syntax is turned into branches first: the
 * upper dir rw, then the lower dirs ro, top first). Returns 0 or a
 * negative errno with the reason in err. */
int ufs_config_validate(struct ufs_config *cfg, char *err, size_t errsz);

void ufs_config_init(struct ufs_config *cfg);
void ufs_config_clear(struct ufs_config *cfg);

/* Mount, daemonize unless foreground, serve until unmounted.
 * Returns a process exit code (0 after a clean unmount). */
int ufs_run(struct ufs_config *cfg);

/* Print the status (branches, modes, counters) of the ufsmount instance
 * serving mountpoint. Returns 0, or -errno with the reason in err. */
int ufs_status_query(const char *mountpoint, bool json, FILE *out, char *err,
		     size_t errsz);
