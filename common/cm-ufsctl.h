/* SPDX-License-Identifier: MIT */
/* The ufsmount status socket: where the daemon serving a mount listens
 * ("MAJOR:MINOR.sock" of the mount's device, in the socket dir of the
 * mounting user), the contract between unionfs (the server) and its
 * clients (ufsmount --status, the runner's monitor). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* The socket dir of mounts made by uid into buf: $UFS_RUNDIR if set; root's
 * is /run/ufsmount; a user's is $XDG_RUNTIME_DIR/ufsmount when uid is ours
 * and the variable is set, else /run/user/UID/ufsmount (systemd's runtime
 * dir) when that exists and is uid's, else /tmp/ufsmount-UID. Returns 0 or
 * -ENAMETOOLONG. */
int cm_ufsctl_rundir(uid_t uid, char *buf, size_t sz);

/* Make our socket dir: 0700, ours, not a symlink (a shared /tmp could hold
 * a dir someone else made for us). Returns 0, -EPERM or -errno. */
int cm_ufsctl_rundir_make(const char *dir);

/* The socket's path for the mount of device maj:min made by owner into
 * buf. Returns 0 or -ENAMETOOLONG. */
int cm_ufsctl_sock_path(char *buf, size_t sz, uid_t owner, unsigned maj, unsigned min);

/* A pidfd of the daemon serving the ufsmount mount of device maj:min (the
 * peer of its status socket: SO_PEERPIDFD, race-free), readable (POLLIN)
 * once that daemon has exited (owner: the mounting user); O_CLOEXEC, the caller closes it. Nothing is
 * asked of the mount itself (a stalled daemon does not block us). Returns
 * the fd, or -errno: -ECONNREFUSED when the socket is a dead daemon's,
 * -ENOENT when there is none. */
int cm_ufsctl_daemon_pidfd(uid_t owner, unsigned maj, unsigned min);

/* Whether the ufsmount mount at mountpoint lost its daemon (every access
 * to it then fails with ENOTCONN): 1 when its socket refuses or its pidfd
 * says exited, 0 when the daemon is there (maybe stalled: the mount is not
 * asked), -errno when unknown (nothing mounted, no socket). */
int cm_ufsctl_mount_dead(const char *mountpoint);

/* Abort the FUSE connection of device maj:min (fusectl's
 * /sys/fs/fuse/connections/N/abort): every request waiting on it ends with
 * ENOTCONN, the mount is dead. For a daemon that does not answer when a
 * stop or unmount timed out: over FUSE over io_uring a request in a ring
 * entry is sent, and its task unkillable, until the daemon answers or the
 * connection is aborted. When fusectl is not mounted it is mounted in a
 * mount namespace of a child's own, gone with it (the host's mounts are not
 * touched). Root only. Returns 0, -ENOENT when there is no such connection,
 * or -errno. */
int cm_fuse_abort(unsigned maj, unsigned min);
