/* SPDX-License-Identifier: MIT */
/* rocopy FILE NEWDATA: open FILE read-only, then (through a second fd)
 * truncate it and write NEWDATA, which copies a lower file up; the first fd,
 * opened before the copy-up, must read NEWDATA and keep the same st_ino.
 * The page cache is dropped with fadvise so the read reaches the daemon.
 * Prints "OK" or what differed; exit 0 / 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: rocopy FILE NEWDATA\n");
		return 2;
	}
	const char *path = argv[1], *data = argv[2];
	size_t len = strlen(data);
	char buf[4096];
	struct stat st1, st2;

	int ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0 || fstat(ro, &st1) < 0) {
		printf("open ro: %s\n", strerror(errno));
		return 1;
	}
	ssize_t r = read(ro, buf, sizeof(buf) - 1);
	if (r < 0) {
		printf("read before: %s\n", strerror(errno));
		return 1;
	}
	int wr = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (wr < 0) {
		printf("open wr: %s\n", strerror(errno));
		return 1;
	}
	if (write(wr, data, len) != (ssize_t)len || close(wr) < 0) {
		printf("write: %s\n", strerror(errno));
		return 1;
	}
	posix_fadvise(ro, 0, 0, POSIX_FADV_DONTNEED);
	r = pread(ro, buf, sizeof(buf) - 1, 0);
	if (r < 0) {
		printf("read after: %s\n", strerror(errno));
		return 1;
	}
	buf[r] = 0;
	if (fstat(ro, &st2) < 0) {
		printf("fstat after: %s\n", strerror(errno));
		return 1;
	}
	int bad = 0;
	if ((size_t)r != len || memcmp(buf, data, len) != 0) {
		printf("ro fd reads '%s' after copy-up, expected '%s'\n", buf, data);
		bad = 1;
	}
	if (st1.st_ino != st2.st_ino) {
		printf("ro fd st_ino changed %llu -> %llu\n", (unsigned long long)st1.st_ino,
		       (unsigned long long)st2.st_ino);
		bad = 1;
	}
	if (st2.st_size != (off_t)len) {
		printf("ro fd st_size %lld, expected %zu\n", (long long)st2.st_size, len);
		bad = 1;
	}
	close(ro);
	if (!bad)
		printf("OK\n");
	return bad;
}
