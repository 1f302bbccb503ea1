/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD interposer for ufsmount: acts on the FUSE INIT request the
 * daemon reads from /dev/fuse, nothing else.
 *   HOLD_INIT=die   the daemon exits (status 1) instead of answering INIT
 *   HOLD_INIT=MS    INIT is handed on MS milliseconds late
 * so a test can see what "ufsmount exited" promises about the handshake. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define FUSE_INIT_OPCODE 26
#define IN_HEADER_LEN 40 /* struct fuse_in_header: len, opcode, ... */

static int is_dev_fuse(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(10, 229);
}

ssize_t read(int fd, void *buf, size_t len)
{
	static ssize_t (*real_read)(int, void *, size_t);
	if (!real_read)
		real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	ssize_t n = real_read(fd, buf, len);
	uint32_t op;
	const char *mode = getenv("HOLD_INIT");
	if (n < IN_HEADER_LEN || !mode || !is_dev_fuse(fd))
		return n;
	memcpy(&op, (const char *)buf + 4, sizeof(op));
	if (op != FUSE_INIT_OPCODE)
		return n;
	if (strcmp(mode, "die") == 0)
		_exit(1);
	long ms = strtol(mode, NULL, 10);
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
	return n;
}
