/* SPDX-License-Identifier: MIT */
/* dino: list a directory with readdir and lstat each entry. Prints one line
 * per entry "d_ino st_ino st_dev st_nlink d_type lstat_type name" (. and ..
 * skipped) so scripts can compare readdir's d_ino with st_ino, check d_type and
 * count entries. Exit 0, or 1 if the directory cannot be read. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char type_char(unsigned char t)
{
	switch (t) {
	case DT_REG: return 'f';
	case DT_DIR: return 'd';
	case DT_LNK: return 'l';
	case DT_FIFO: return 'p';
	case DT_SOCK: return 's';
	case DT_CHR: return 'c';
	case DT_BLK: return 'b';
	case DT_UNKNOWN: return 'u';
	default: return '?';
	}
}

static char mode_char(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return 'f';
	case S_IFDIR: return 'd';
	case S_IFLNK: return 'l';
	case S_IFIFO: return 'p';
	case S_IFSOCK: return 's';
	case S_IFCHR: return 'c';
	case S_IFBLK: return 'b';
	default: return '?';
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: dino DIR\n");
		return 2;
	}
	DIR *d = opendir(argv[1]);
	if (!d) {
		fprintf(stderr, "dino: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int dfd = dirfd(d);
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			printf("%llu - - - %c - %s\n", (unsigned long long)e->d_ino,
			       type_char(e->d_type), e->d_name);
		} else {
			printf("%llu %llu %llu %llu %c %c %s\n", (unsigned long long)e->d_ino,
			       (unsigned long long)st.st_ino, (unsigned long long)st.st_dev,
			       (unsigned long long)st.st_nlink, type_char(e->d_type),
			       mode_char(st.st_mode), e->d_name);
		}
		errno = 0;
	}
	if (errno) {
		fprintf(stderr, "dino: readdir %s: %s\n", argv[1], strerror(errno));
		closedir(d);
		return 1;
	}
	closedir(d);
	return 0;
}
