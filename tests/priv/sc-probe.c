// SPDX-License-Identifier: MIT
/* sc-probe CALL...: makes each named system call the way a program would
 * and prints "CALL ok" or "CALL ERRNONAME", to see what a container's
 * seccomp filter (test-run-sec.sh) lets through. Built static: it runs
 * inside containers of any image. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

/* fork with these clone flags: the child exits at once */
static long clone_flags(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static long sock(int family, int type)
{
	int fd = socket(family, type, 0);
	if (fd >= 0)
		close(fd);
	return fd;
}

static long probe(const char *c)
{
	char buf[16];
	if (!strcmp(c, "getpid"))
		return getpid();
	if (!strcmp(c, "open"))
		return open("/proc/self/status", O_RDONLY);
	if (!strcmp(c, "fork"))
		return clone_flags(0);
	if (!strcmp(c, "clone-newns"))
		return clone_flags(CLONE_NEWNS);
	if (!strcmp(c, "clone-newuser"))
		return clone_flags(CLONE_NEWUSER);
	if (!strcmp(c, "clone3")) {
		struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; }
			a = { .exit_signal = SIGCHLD };
		long pid = syscall(SYS_clone3, &a, sizeof(a));
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return pid;
	}
	if (!strcmp(c, "unshare-newuser"))
		return unshare(CLONE_NEWUSER);
	if (!strcmp(c, "unshare-newns"))
		return unshare(CLONE_NEWNS);
	if (!strcmp(c, "mount"))
		return mount("none", "/tmp", "tmpfs", 0, "size=64k");
	if (!strcmp(c, "keyctl")) /* KEYCTL_GET_KEYRING_ID of the session keyring */
		return syscall(SYS_keyctl, 0, -3, 0, 0, 0);
	if (!strcmp(c, "add_key"))
		return syscall(SYS_add_key, "user", "probe", "x", 1, -2);
	if (!strcmp(c, "personality-query"))
		return personality(0xffffffff);
	if (!strcmp(c, "personality-norandom"))
		return personality(ADDR_NO_RANDOMIZE);
	if (!strcmp(c, "socket-inet"))
		return sock(AF_INET, SOCK_STREAM);
	if (!strcmp(c, "socket-vsock"))
		return sock(AF_VSOCK, SOCK_STREAM);
	if (!strcmp(c, "socket-alg"))
		return sock(AF_ALG, SOCK_SEQPACKET);
	if (!strcmp(c, "kcmp"))
		return syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM, 0, 0);
	if (!strcmp(c, "process_vm_readv")) {
		char src[8] = "x", dst[8];
		struct iovec l = { dst, 1 }, r = { src, 1 };
		return process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	}
	if (!strcmp(c, "perf_event_open")) {
		struct perf_event_attr a = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(a),
					     .config = PERF_COUNT_SW_TASK_CLOCK, .disabled = 1,
					     .exclude_kernel = 1 };
		long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
		if (fd >= 0)
			close((int)fd);
		return fd;
	}
	if (!strcmp(c, "mkdir")) {
		long r = mkdir("/tmp/sc-probe.d", 0700);
		int e = errno;
		rmdir("/tmp/sc-probe.d");
		errno = e;
		return r;
	}
	if (!strcmp(c, "getcwd"))
		return getcwd(buf, sizeof(buf)) ? 0 : -1;
	errno = EINVAL;
	fprintf(stderr, "sc-probe: unknown call %s\n", c);
	exit(2);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		errno = 0;
		long r = probe(argv[i]);
		if (r >= 0)
			printf("%s ok\n", argv[i]);
		else
			printf("%s %s\n", argv[i], strerrorname_np(errno) ? strerrorname_np(errno) : "?");
		fflush(stdout);
	}
	return 0;
}
