/* SPDX-License-Identifier: MIT */
/* Whether a mount can be idmapped, as img run --userns does it:
 *   idmap MNT   clone MNT's mount (open_tree OPEN_TREE_CLONE) and set
 *               MOUNT_ATTR_IDMAP on the clone with a fresh user namespace
 *               (0 -> 100000, 65536 ids); the clone is never attached.
 * Prints "OK" or the errno name of the step that failed; exit 0 / 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *step)
{
	int e = errno;
	printf("%s %s: %s\n", strerrorname_np(e) ? strerrorname_np(e) : "?", step, strerror(e));
	return 1;
}

static int write_map(pid_t pid, const char *file)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	static const char map[] = "0 100000 65536\n";
	ssize_t n = write(fd, map, sizeof(map) - 1);
	close(fd);
	return n == (ssize_t)sizeof(map) - 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: idmap MNT\n");
		return 2;
	}
	/* a child in a new user namespace, alive until we have its ns fd */
	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
		return fail("pipe");
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		(void)read(hold[0], &c, 1); /* returns when the parent closes it */
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	char c = 'n';
	int rc = 1;
	if (read(ready[0], &c, 1) != 1 || c != 'y') {
		errno = EPERM;
		rc = fail("unshare(CLONE_NEWUSER)");
		goto out;
	}
	if (write_map(pid, "uid_map") < 0 || write_map(pid, "gid_map") < 0) {
		rc = fail("writing the uid/gid map");
		goto out;
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)pid);
	int userns = open(p, O_RDONLY | O_CLOEXEC);
	if (userns < 0) {
		rc = fail("opening the user namespace");
		goto out;
	}
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, argv[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0) {
		rc = fail("open_tree");
		goto out;
	}
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		rc = fail("mount_setattr(MOUNT_ATTR_IDMAP)");
		goto out;
	}
	printf("OK\n");
	rc = 0;
out:
	close(hold[1]);
	waitpid(pid, NULL, 0);
	return rc;
}
