/* SPDX-License-Identifier: MIT */
/* seekhole make FILE: write a sparse file (4 KiB data at 0, 1 MiB and 3 MiB,
 * size 4 MiB). seekhole map FILE: print its data segments found with
 * SEEK_DATA/SEEK_HOLE, "data START END" lines then "size N", or the errno
 * name of a failing lseek. Exit 0 / 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int make(const char *path)
{
	char buf[4096];
	static const off_t offs[] = { 0, 1 << 20, 3 << 20 };
	memset(buf, 'D', sizeof(buf));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (pwrite(fd, buf, sizeof(buf), offs[i]) != (ssize_t)sizeof(buf))
			return 1;
	if (ftruncate(fd, 4 << 20) < 0 || fsync(fd) < 0)
		return 1;
	return close(fd) < 0;
}

static int map(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	off_t pos = 0;
	while (pos < st.st_size) {
		off_t d = lseek(fd, pos, SEEK_DATA);
		if (d < 0) {
			if (errno == ENXIO)
				break;
			printf("SEEK_DATA %s\n", strerrorname_np(errno));
			return 1;
		}
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0) {
			printf("SEEK_HOLE %s\n", strerrorname_np(errno));
			return 1;
		}
		printf("data %lld %lld\n", (long long)d, (long long)h);
		pos = h;
	}
	printf("size %lld\n", (long long)st.st_size);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "make"))
		return make(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "map"))
		return map(argv[2]);
	fprintf(stderr, "usage: seekhole make|map FILE\n");
	return 2;
}
