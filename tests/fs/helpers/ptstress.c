/* SPDX-License-Identifier: MIT */
/* ptstress DIR NFILES NTHREADS ITERS: NTHREADS threads open and close the
 * files DIR/f0..f(NFILES-1) in random modes (read-only, read-write, append),
 * reading and writing a little through each fd, all at once, so that opens
 * and last releases of one inode race. Prints "OK" or the first error
 * (EIO and EBUSY are what a backing-id mix-up gives); exit 0 / 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir;
static int nfiles, iters;
static char err[4400];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what, const char *path, int e)
{
	pthread_mutex_lock(&lock);
	if (!err[0])
		snprintf(err, sizeof(err), "%s %s: %s", what, path, strerror(e));
	pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char path[4096], buf[256];
	for (int i = 0; i < iters && !err[0]; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, (int)(rand_r(&seed) % (unsigned)nfiles));
		int mode = (int)(rand_r(&seed) % 3);
		int flags = mode == 0 ? O_RDONLY : mode == 1 ? O_RDWR : (O_WRONLY | O_APPEND);
		int fd = open(path, flags | O_CLOEXEC);
		if (fd < 0) {
			fail("open", path, errno);
			break;
		}
		if (mode != 2 && pread(fd, buf, sizeof(buf), 0) < 0)
			fail("read", path, errno);
		if (mode == 1 && pwrite(fd, "rw", 2, 0) != 2)
			fail("pwrite", path, errno);
		if (mode == 2 && write(fd, "a", 1) != 1)
			fail("append", path, errno);
		if (close(fd) < 0)
			fail("close", path, errno);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: ptstress DIR NFILES NTHREADS ITERS\n");
		return 2;
	}
	dir = argv[1];
	nfiles = atoi(argv[2]);
	int nthreads = atoi(argv[3]);
	iters = atoi(argv[4]);
	if (nfiles < 1 || nthreads < 1 || nthreads > 256 || iters < 1)
		return 2;
	pthread_t t[256];
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) != 0)
			return 2;
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	if (err[0]) {
		printf("%s\n", err);
		return 1;
	}
	printf("OK\n");
	return 0;
}
