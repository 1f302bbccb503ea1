// SPDX-License-Identifier: MIT
/* The ufsmount status socket's address, and a pidfd of the daemon behind
 * it (cm-ufsctl.h). */
#include "cm-ufsctl.h"
#include "cm.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif

int cm_ufsctl_rundir(uid_t uid, char *buf, size_t sz)
{
	const char *d = getenv("UFS_RUNDIR");
	int n;
	if (d && *d) {
		n = snprintf(buf, sz, "%s", d);
	} else if (uid == 0) {
		n = snprintf(buf, sz, "/run/ufsmount");
	} else {
		const char *x = getenv("XDG_RUNTIME_DIR");
		char ud[64];
		struct stat st;
		snprintf(ud, sizeof(ud), "/run/user/%u", (unsigned)uid);
		if (uid == geteuid() && x && x[0] == '/')
			n = snprintf(buf, sz, "%s/ufsmount", x);
		else if (stat(ud, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid)
			n = snprintf(buf, sz, "%s/ufsmount", ud);
		else
			n = snprintf(buf, sz, "/tmp/ufsmount-%u", (unsigned)uid);
	}
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

int cm_ufsctl_rundir_make(const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return cm_neg_errno();
	struct stat st;
	if (lstat(dir, &st) < 0)
		return cm_neg_errno();
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

int cm_ufsctl_sock_path(char *buf, size_t sz, uid_t owner, unsigned maj, unsigned min)
{
	char dir[256];
	int r = cm_ufsctl_rundir(owner, dir, sizeof(dir));
	if (r < 0)
		return r;
	int n = snprintf(buf, sz, "%s/%u:%u.sock", dir, maj, min);
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

int cm_ufsctl_daemon_pidfd(uid_t owner, unsigned maj, unsigned min)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r = cm_ufsctl_sock_path(sa.sun_path, sizeof(sa.sun_path), owner, maj, min);
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
	uid_t owner;
	int r = cm_mountinfo_find(mountpoint, &maj, &min, NULL, 0, &owner);
	if (r < 0)
		return r;
	_cleanup_close_ int pidfd = cm_ufsctl_daemon_pidfd(owner, maj, min);
	if (pidfd == -ECONNREFUSED)
		return 1;
	if (pidfd < 0)
		return pidfd;
	struct pollfd pf = { .fd = pidfd, .events = POLLIN };
	return poll(&pf, 1, 0) == 1;
}

#define FUSECTL_DIR "/sys/fs/fuse/connections"

/* 1 written to path: 0 or -errno */
static int write_one(const char *path)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return cm_neg_errno();
	return write(fd, "1", 1) == 1 ? 0 : cm_neg_errno();
}

int cm_fuse_abort(unsigned maj, unsigned min)
{
	/* the connection's name is the superblock's dev_t, the kernel's
	 * encoding (major << 20 | minor) in decimal */
	char path[128];
	snprintf(path, sizeof(path), FUSECTL_DIR "/%u/abort", maj << 20 | min);
	int r = write_one(path);
	if (r != -ENOENT)
		return r;
	struct statfs sf;
	if (statfs(FUSECTL_DIR, &sf) == 0 && sf.f_type == 0x65735543 /* FUSECTL_SUPER_MAGIC */)
		return -ENOENT; /* mounted: no such connection */
	/* not mounted here: in a child's own mount namespace (only system
	 * calls after the fork: the caller may have threads) */
	pid_t pid = fork();
	if (pid < 0)
		return cm_neg_errno();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("fusectl", FUSECTL_DIR, "fusectl", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			_exit(126);
		r = write_one(path);
		_exit(r == 0 ? 0 : r == -ENOENT ? 1 : 2);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return cm_neg_errno();
	if (!WIFEXITED(st))
		return -EIO;
	switch (WEXITSTATUS(st)) {
	case 0: return 0;
	case 1: return -ENOENT;
	case 126: return -EPERM;
	default: return -EIO;
	}
}
