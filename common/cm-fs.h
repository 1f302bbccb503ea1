/* SPDX-License-Identifier: MIT */
/* fd-relative filesystem helpers: in-root opens, publishing by rename/link,
 * directory fsync, full reads and writes. All return 0 / fd, or -errno. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* openat2(dirfd, path) that cannot leave dirfd: RESOLVE_BENEATH and no magic
 * links; with no_symlinks, no symlink is followed in any component. O_CLOEXEC
 * is always added. Returns an fd or -errno (-ENOSYS if the kernel lacks
 * openat2; callers treat that as fatal at start-up, we require >= 5.6). */
int cm_openat_beneath(int dirfd, const char *path, int flags, mode_t mode,
		      bool no_symlinks);

/* fsync the directory dirfd (which may be O_PATH). */
int cm_fsync_dirfd(int dirfd);

/* renameat2 with RENAME_NOREPLACE: publish a fully built object. */
int cm_publish_rename(int olddir, const char *oldname, int newdir,
		      const char *newname);

/* Write all of buf, restarting on EINTR and short writes. */
int cm_write_all(int fd, const void *buf, size_t len);

/* Replace dirfd/name by a file holding buf: a temp file "PREFIX.<pid>.<n>"
 * (never through a symlink), then rename, so that a reader or a crash of any
 * process sees the old content or the new. durable: fsync the file before
 * the rename and the directory after, for a power loss too; runtime state
 * (what a reboot makes stale anyway) passes false. */
int cm_replace_file_at(int dirfd, const char *name, const char *prefix, const void *buf,
		       size_t len, mode_t mode, bool durable);

/* Make a unique name "PREFIX.<pid>.<counter>" in buf for temporary objects. */
void cm_tmpname(char *buf, size_t bufsz, const char *prefix);

/* Open (creating, 0600, never through a symlink) the lock file name below
 * dirfd (AT_FDCWD: a path) and flock it with op (LOCK_SH/LOCK_EX, maybe
 * LOCK_NB), retrying on EINTR. Returns the fd holding the lock, or -errno. */
int cm_flock_at(int dirfd, const char *name, int op);

/* Remove path below dirfd recursively without following any symlink.
 * Missing entries are not an error. */
int cm_rm_rf_at(int dirfd, const char *name);
/* A DIR stream over a new descriptor of the directory dirfd (dirfd stays
 * the caller's); NULL with errno set. Close it with closedir. */
struct __dirstream;
struct __dirstream *cm_opendir_at(int dirfd);

/* Raise RLIMIT_NOFILE's soft limit to its hard limit (never above: root may
 * lack CAP_SYS_RESOURCE). Returns the resulting soft limit. */
long cm_raise_nofile(void);

/* The device (and, fstype not NULL, the type: "fuse.ufsmount") of the mount
 * at path in our mount namespace (the last one there: what path shows),
 * from /proc/self/mountinfo (octal escapes undone); nothing is asked of the
 * mount itself. ret_owner (may be NULL): the mounting user of a FUSE mount
 * (its super options' user_id=), 0 otherwise. Returns 0, or -ENOENT when
 * nothing is mounted at path. */
int cm_mountinfo_find(const char *path, unsigned *ret_maj, unsigned *ret_min, char *fstype,
		      size_t fssz, uid_t *ret_owner);
