/* SPDX-License-Identifier: MIT */
/* The ufsmount status socket: where the daemon serving a mount listens
 * ($UFS_RUNDIR or /run/ufsmount, "MAJOR:MINOR.sock" of the mount's device),
 * the contract between unionfs (the server) and its clients (ufsmount
 * --status, the runner's monitor). */
#pragma once

#include <stddef.h>

/* The sockets' directory: $UFS_RUNDIR or /run/ufsmount. */
const char *cm_ufsctl_rundir(void);

/* The socket's path for the mount of device maj:min into buf. Returns 0 or
 * -ENAMETOOLONG. */
int cm_ufsctl_sock_path(char *buf, size_t sz, unsigned maj, unsigned min);

/* A pidfd of the daemon serving the ufsmount mount of device maj:min (the
 * peer of its status socket: SO_PEERPIDFD, race-free), readable (POLLIN)
 * once that daemon has exited; O_CLOEXEC, the caller closes it. Nothing is
 * asked of the mount itself (a stalled daemon does not block us). Returns
 * the fd, or -errno: -ECONNREFUSED when the socket is a dead daemon's,
 * -ENOENT when there is none. */
int cm_ufsctl_daemon_pidfd(unsigned maj, unsigned min);

/* Whether the ufsmount mount at mountpoint lost its daemon (every access
 * to it then fails with ENOTCONN): 1 when its socket refuses or its pidfd
 * says exited, 0 when the daemon is there (maybe stalled: the mount is not
 * asked), -errno when unknown (nothing mounted, no socket). */
int cm_ufsctl_mount_dead(const char *mountpoint);
