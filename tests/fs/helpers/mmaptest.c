/* SPDX-License-Identifier: MIT */
/* mmaptest MODE FILE: mmap checks, print "OK" or what failed; exit 0 / 1.
 *   shared    store through a MAP_SHARED mapping (file grown to 8 KiB if
 *             smaller), msync, munmap, then read() must see the bytes
 *   private   MAP_PRIVATE write on a read-only fd: the mapping sees it, the
 *             file does not
 *   coherent  pwrite() on the file shows in an existing shared mapping */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEN 8192

static int die(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	return 1;
}

static int shared(const char *path)
{
	struct stat st;
	char buf[32] = { 0 };
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return die("open");
	if (st.st_size < LEN && ftruncate(fd, LEN) < 0)
		return die("ftruncate");
	char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return die("mmap shared");
	memcpy(m + 100, "MMAPSHARED", 10);
	memcpy(m + 4096 + 7, "PAGE2", 5);
	if (msync(m, LEN, MS_SYNC) < 0)
		return die("msync");
	munmap(m, LEN);
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return die("reopen");
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (pread(fd, buf, 10, 100) != 10 || memcmp(buf, "MMAPSHARED", 10)) {
		printf("read after shared mmap write: got '%.10s'\n", buf);
		return 1;
	}
	if (pread(fd, buf, 5, 4096 + 7) != 5 || memcmp(buf, "PAGE2", 5)) {
		printf("read after shared mmap write (page 2): got '%.5s'\n", buf);
		return 1;
	}
	close(fd);
	return 0;
}

static int private(const char *path)
{
	struct stat st;
	char buf[8] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return die("open");
	if (st.st_size < 8) {
		printf("file too small\n");
		return 1;
	}
	char *m = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return die("mmap private");
	memcpy(m, "PRIVATE", 7);
	if (memcmp(m, "PRIVATE", 7)) {
		printf("private mapping lost the store\n");
		return 1;
	}
	if (pread(fd, buf, 7, 0) != 7)
		return die("pread");
	if (!memcmp(buf, "PRIVATE", 7)) {
		printf("MAP_PRIVATE store reached the file\n");
		return 1;
	}
	munmap(m, st.st_size);
	close(fd);
	return 0;
}

static int coherent(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return die("open");
	if (ftruncate(fd, LEN) < 0)
		return die("ftruncate");
	char *m = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return die("mmap");
	volatile char c = m[200];
	(void)c;
	if (pwrite(fd, "COHERENT", 8, 200) != 8)
		return die("pwrite");
	if (memcmp(m + 200, "COHERENT", 8)) {
		printf("shared mapping does not see pwrite: '%.8s'\n", m + 200);
		return 1;
	}
	munmap(m, LEN);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mmaptest shared|private|coherent FILE\n");
		return 2;
	}
	int r;
	if (!strcmp(argv[1], "shared"))
		r = shared(argv[2]);
	else if (!strcmp(argv[1], "private"))
		r = private(argv[2]);
	else if (!strcmp(argv[1], "coherent"))
		r = coherent(argv[2]);
	else
		return 2;
	if (!r)
		printf("OK\n");
	return r;
}
