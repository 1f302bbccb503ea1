/* SPDX-License-Identifier: MIT */
/* Public interface of the union filesystem library: configuration (branch
 * list and options), the mount session, and the status client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
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

/* Canonicalise and check branches and mountpoint: existence, directory,
 * overlap, modes. Returns 0 or a negative errno with the reason in err. */
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
