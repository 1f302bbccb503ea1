/* SPDX-License-Identifier: MIT */
/* fsop: run one system call and print "OK [value]" or the errno name (EROFS,
 * ENOENT...), so the fs tests can check exact error codes. Exit 0 when the
 * call ran (whatever its result), 2 on a usage error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr,
		"usage: fsop OP ARGS\n"
		"  open PATH FLAGS [MODE]   FLAGS: letters r w c(reat) x(cl) t(runc) a(ppend) d(irectory) n(ofollow)\n"
		"  mkdir PATH [MODE] | rmdir PATH | unlink PATH | link OLD NEW | symlink TARGET PATH\n"
		"  rename OLD NEW [noreplace|exchange|whiteout]\n"
		"  mknod PATH p|c|b|s|f [MAJOR MINOR]\n"
		"  lstat PATH (prints ino dev nlink mode) | truncate PATH LEN | chmod PATH MODE\n"
		"  setxattr PATH NAME VALUE | getxattr PATH NAME | removexattr PATH NAME\n"
		"  append PATH DATA (O_APPEND after lseek 0) | pwrite PATH OFF DATA\n"
		"  fsync PATH | fdatasync PATH | fsyncdir PATH | syncfs PATH\n"
		"  socket PATH (bind, listen, connect, send one message)\n"
		"  openunlink PATH ro|rw (open, unlink, then the fd still reads/writes; prints data)\n");
	return 2;
}

static int result(int r)
{
	if (r < 0) {
		const char *n = strerrorname_np(errno);
		printf("%s\n", n ? n : "E?");
	} else {
		printf("OK\n");
	}
	return 0;
}

static int open_flags(const char *s)
{
	int f = 0, rd = 0, wr = 0;
	for (; *s; s++) {
		switch (*s) {
		case 'r': rd = 1; break;
		case 'w': wr = 1; break;
		case 'c': f |= O_CREAT; break;
		case 'x': f |= O_EXCL; break;
		case 't': f |= O_TRUNC; break;
		case 'a': f |= O_APPEND; break;
		case 'd': f |= O_DIRECTORY; break;
		case 'n': f |= O_NOFOLLOW; break;
		default: return -1;
		}
	}
	if (rd && wr)
		f |= O_RDWR;
	else if (wr)
		f |= O_WRONLY;
	return f | O_CLOEXEC;
}

static int with_fd(const char *path, int flags, int op)
{
	int fd = open(path, flags | O_CLOEXEC);
	int r;
	if (fd < 0)
		return result(-1);
	switch (op) {
	case 0: r = fsync(fd); break;
	case 1: r = fdatasync(fd); break;
	default: r = syncfs(fd); break;
	}
	int e = errno;
	close(fd);
	errno = e;
	return result(r);
}

static int do_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[16] = { 0 };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return result(-1);
	}
	strcpy(sa.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0)
		return result(-1);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return result(-1);
	int a = accept(s, NULL, NULL);
	if (a < 0 || write(c, "ping", 4) != 4 || read(a, buf, sizeof(buf) - 1) != 4)
		return result(-1);
	if (strcmp(buf, "ping") != 0) {
		printf("EBADMSG\n");
		return 0;
	}
	close(a);
	close(c);
	close(s);
	return result(0);
}

/* open PATH, unlink it, then use the fd: "rw" writes "fresh" and reads it back,
 * "ro" reads the old content. Prints "OK nlink=N data=..." */
static int open_unlink(const char *path, int rw)
{
	char buf[256] = { 0 };
	struct stat st;
	int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return result(-1);
	if (unlink(path) < 0)
		return result(-1);
	if (rw && pwrite(fd, "fresh", 5, 0) != 5)
		return result(-1);
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	if (r < 0 || fstat(fd, &st) < 0)
		return result(-1);
	buf[r] = 0;
	printf("OK nlink=%llu data=%s\n", (unsigned long long)st.st_nlink, buf);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *op = argv[1], *p = argv[2];
	int n = argc - 2; /* operands */

	if (!strcmp(op, "open") && n >= 2) {
		int fl = open_flags(argv[3]);
		if (fl < 0)
			return usage();
		int fd = open(p, fl, n >= 3 ? (mode_t)strtol(argv[4], NULL, 8) : 0644);
		if (fd >= 0)
			close(fd);
		return result(fd);
	}
	if (!strcmp(op, "mkdir"))
		return result(mkdir(p, n >= 2 ? (mode_t)strtol(argv[3], NULL, 8) : 0755));
	if (!strcmp(op, "rmdir"))
		return result(rmdir(p));
	if (!strcmp(op, "unlink"))
		return result(unlink(p));
	if (!strcmp(op, "link") && n == 2)
		return result(link(p, argv[3]));
	if (!strcmp(op, "symlink") && n == 2)
		return result(symlink(p, argv[3]));
	if (!strcmp(op, "rename") && n >= 2) {
		unsigned int fl = 0;
		if (n >= 3) {
			if (!strcmp(argv[4], "noreplace"))
				fl = RENAME_NOREPLACE;
			else if (!strcmp(argv[4], "exchange"))
				fl = RENAME_EXCHANGE;
			else if (!strcmp(argv[4], "whiteout"))
				fl = RENAME_WHITEOUT;
			else
				return usage();
		}
		return result(renameat2(AT_FDCWD, p, AT_FDCWD, argv[3], fl));
	}
	if (!strcmp(op, "mknod") && n >= 2) {
		mode_t m;
		switch (argv[3][0]) {
		case 'p': m = S_IFIFO; break;
		case 'c': m = S_IFCHR; break;
		case 'b': m = S_IFBLK; break;
		case 's': m = S_IFSOCK; break;
		case 'f': m = S_IFREG; break;
		default: return usage();
		}
		dev_t d = n >= 4 ? makedev(atoi(argv[4]), atoi(argv[5])) : 0;
		return result(mknod(p, m | 0644, d));
	}
	if (!strcmp(op, "lstat")) {
		struct stat st;
		if (lstat(p, &st) < 0)
			return result(-1);
		printf("OK %llu %llu %llu %o\n", (unsigned long long)st.st_ino,
		       (unsigned long long)st.st_dev, (unsigned long long)st.st_nlink,
		       (unsigned)st.st_mode);
		return 0;
	}
	if (!strcmp(op, "truncate") && n == 2)
		return result(truncate(p, strtoll(argv[3], NULL, 0)));
	if (!strcmp(op, "chmod") && n == 2)
		return result(chmod(p, (mode_t)strtol(argv[3], NULL, 8)));
	if (!strcmp(op, "setxattr") && n == 3)
		return result(lsetxattr(p, argv[3], argv[4], strlen(argv[4]), 0));
	if (!strcmp(op, "removexattr") && n == 2)
		return result(lremovexattr(p, argv[3]));
	if (!strcmp(op, "getxattr") && n == 2) {
		char buf[4096];
		ssize_t r = lgetxattr(p, argv[3], buf, sizeof(buf) - 1);
		if (r < 0)
			return result(-1);
		buf[r] = 0;
		printf("OK %s\n", buf);
		return 0;
	}
	if ((!strcmp(op, "append") && n == 2) || (!strcmp(op, "pwrite") && n == 3)) {
		int app = op[0] == 'a';
		int fd = open(p, O_WRONLY | O_CLOEXEC | (app ? O_APPEND : 0));
		if (fd < 0)
			return result(-1);
		const char *data = app ? argv[3] : argv[4];
		ssize_t w;
		if (app) {
			lseek(fd, 0, SEEK_SET);
			w = write(fd, data, strlen(data));
		} else {
			w = pwrite(fd, data, strlen(data), strtoll(argv[3], NULL, 0));
		}
		int e = errno;
		close(fd);
		errno = e;
		if (w >= 0 && (size_t)w != strlen(data)) {
			printf("ESHORT\n");
			return 0;
		}
		return result(w < 0 ? -1 : 0);
	}
	if (!strcmp(op, "fsync"))
		return with_fd(p, O_RDWR, 0);
	if (!strcmp(op, "fdatasync"))
		return with_fd(p, O_RDWR, 1);
	if (!strcmp(op, "fsyncdir")) {
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return result(-1);
		int r = fsync(fd);
		return result(r);
	}
	if (!strcmp(op, "syncfs"))
		return with_fd(p, O_RDONLY, 2);
	if (!strcmp(op, "openunlink") && n == 2)
		return open_unlink(p, !strcmp(argv[3], "rw"));
	if (!strcmp(op, "socket"))
		return do_socket(p);
	return usage();
}
