/* SPDX-License-Identifier: MIT */
/* Concurrent writers racing a copy-up.
 *   cwrite write FILE N CHUNK   fork N processes that open FILE O_WRONLY at
 *                               once (pipe barrier); process i fills bytes
 *                               [i*CHUNK, (i+1)*CHUNK) with 'a'+i, 4 KiB at a
 *                               time, interleaved with the others
 *   cwrite verify FILE N CHUNK  check those ranges and that every byte after
 *                               N*CHUNK (the original content) is '.'
 * Prints "OK" or the first bad offset; exit 0 / 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PIECE 4096

static int writer(const char *path, int i, long chunk, int barrier)
{
	char buf[PIECE], c;
	memset(buf, 'a' + i, sizeof(buf));
	if (read(barrier, &c, 1) < 0) /* returns 0 when the parent closes the pipe */
		return 1;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("writer %d: open: %s\n", i, strerror(errno));
		return 1;
	}
	for (long off = 0; off < chunk; off += PIECE) {
		size_t n = chunk - off < PIECE ? (size_t)(chunk - off) : PIECE;
		if (pwrite(fd, buf, n, (off_t)i * chunk + off) != (ssize_t)n) {
			printf("writer %d: pwrite: %s\n", i, strerror(errno));
			return 1;
		}
	}
	if (close(fd) < 0) {
		printf("writer %d: close: %s\n", i, strerror(errno));
		return 1;
	}
	return 0;
}

static int do_write(const char *path, int n, long chunk)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			close(p[1]);
			fflush(stdout);
			_exit(writer(path, i, chunk, p[0]));
		}
	}
	close(p[0]);
	usleep(20000);
	close(p[1]); /* release all writers at once */
	int bad = 0, st;
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	if (!bad)
		printf("OK\n");
	return bad;
}

static int do_verify(const char *path, int n, long chunk)
{
	char buf[PIECE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("open: %s\n", strerror(errno));
		return 1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	off_t off = 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t k = 0; k < r; k++, off++) {
			char want = off < (off_t)n * chunk ? (char)('a' + off / chunk) : '.';
			if (buf[k] != want) {
				printf("offset %lld: got '%c' (0x%02x), expected '%c'\n",
				       (long long)off, buf[k] >= 32 && buf[k] < 127 ? buf[k] : '?',
				       (unsigned char)buf[k], want);
				return 1;
			}
		}
	}
	if (r < 0) {
		printf("read: %s\n", strerror(errno));
		return 1;
	}
	if (off < (off_t)n * chunk) {
		printf("file too short: %lld bytes\n", (long long)off);
		return 1;
	}
	printf("OK\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: cwrite write|verify FILE N CHUNK\n");
		return 2;
	}
	int n = atoi(argv[3]);
	long chunk = atol(argv[4]);
	if (n < 1 || n > 26 || chunk < 1)
		return 2;
	if (!strcmp(argv[1], "write"))
		return do_write(argv[2], n, chunk);
	if (!strcmp(argv[1], "verify"))
		return do_verify(argv[2], n, chunk);
	return 2;
}
