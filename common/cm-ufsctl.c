// SPDX-License-Identifier: MIT
/* The ufsmount status socket's address, and a pidfd of the daemon behind
 * it (cm-ufsctl.h). */
#include "cm-ufsctl.h"
#include "cm.h"
#include "cm-fs.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif

const char *cm_ufsctl_rundir(void)
{
	const char *d = getenv("UFS_RUNDIR");
	return d && *d ? d : "/run/ufsmount";
}

int cm_ufsctl_sock_path(char *buf, size_t sz, unsigned maj, unsigned min)
{
	int n = snprintf(buf, sz, "%s/%u:%u.sock", cm_ufsctl_rundir(), maj, min);
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

int cm_ufsctl_daemon_pidfd(unsigned maj, unsigned min)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r = cm_ufsctl_sock_path(sa.sun_path, sizeof(sa.sun_path), maj, min);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cm_neg_errno();
	/* the credentials of the listener: the daemon, which listened after
	 * daemonizing (the socket is only ever bound by it) */
	int pidfd = -1;
	socklen_t len = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		return cm_neg_errno();
	return pidfd;
}

int cm_ufsctl_mount_dead(const char *mountpoint)
{
	unsigned maj, min;
	int r = cm_mountinfo_find(mountpoint, &maj, &min, NULL, 0);
	if (r < 0)
		return r;
	_cleanup_close_ int pidfd = cm_ufsctl_daemon_pidfd(maj, min);
	if (pidfd == -ECONNREFUSED)
		return 1;
	if (pidfd < 0)
		return pidfd;
	struct pollfd pf = { .fd = pidfd, .events = POLLIN };
	return poll(&pf, 1, 0) == 1;
}
