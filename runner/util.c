// SPDX-License-Identifier: MIT
/* Small file, time and process helpers of the runner. */
#include "run-internal.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

int run_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= max)
				return -EFBIG;
			cap = cap * 2 > max ? max : cap * 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cm_neg_errno();
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int run_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	/* non-blocking until it is known to be a regular file: a FIFO or a
	 * device put where a file was expected must not hang us */
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return cm_neg_errno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (fcntl(fd, F_SETFL, 0) < 0)
		return cm_neg_errno();
	return run_read_fd(fd, max, ret, ret_len);
}

int run_write_file(const char *path, const char *s)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return cm_neg_errno();
	ssize_t n = write(fd, s, strlen(s));
	if (n < 0)
		return cm_neg_errno();
	return (size_t)n == strlen(s) ? 0 : -EIO;
}

bool run_single_threaded(void)
{
	struct stat st;
	return stat("/proc/self/task", &st) == 0 && st.st_nlink == 3;
}

/* Not synced: everything the runner writes (a bundle's state.json, status,
 * runner.json, health.json, OCI state; /run/img/net's address records and
 * rules) describes processes, mounts, addresses and rules that no reboot
 * keeps, in the run dir (/run/img, tmpfs, for the default root). The rename
 * is what readers and a crash of any process need (old or new, never half);
 * an fsync only adds power-loss durability to state a reboot makes stale,
 * and made 10 of the 13 fsyncs of an `img run --rm` (about a journal commit
 * each on ext4). The store's durable files (index, container config, init
 * layer of a non --rm container) are synced by imgstore. */
int run_write_atomic(const char *dir, const char *name, const void *buf, size_t len)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cm_neg_errno();
	return cm_replace_file_at(dfd, name, ".tmp", buf, len, 0600, false);
}

int64_t run_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void run_time_fmt_ns(int64_t ns, char *buf, size_t sz)
{
	if (ns <= 0) {
		snprintf(buf, sz, "0001-01-01T00:00:00Z");
		return;
	}
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char d[32];
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%09lldZ", d, (long long)(ns % 1000000000));
}

uint64_t run_pid_starttime(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *s = NULL;
	if (pid <= 0 || run_read_file_at(AT_FDCWD, path, 1 << 16, &s, NULL) < 0)
		return 0;
	char *p = strrchr(s, ')');
	if (!p)
		return 0;
	/* after ") ": field 3 (state) ... field 22 (starttime) */
	int field = 2;
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (p[-1] != ' ' || field != 22)
		return 0;
	return strtoull(p, NULL, 10);
}

int run_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	/* A parent can vanish between our mkdirs (the last container of a
	 * cgroup parent removes it): start again a few times. */
	for (int attempt = 0;; attempt++) {
		strcpy(buf, path);
		int r = 0;
		for (char *p = buf + 1; *p && r == 0; p++)
			if (*p == '/') {
				*p = '\0';
				if (mkdir(buf, mode) < 0 && errno != EEXIST)
					r = cm_neg_errno();
				*p = '/';
			}
		if (r == 0 && mkdir(buf, mode) < 0 && errno != EEXIST)
			r = cm_neg_errno();
		if (r != -ENOENT || attempt >= 3)
			return r;
	}
}

int run_in_helper(int (*fn)(void *arg, int *ret_errno), void *arg, const char *what,
		  const char *const *steps, size_t n_steps, struct cm_error *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return cm_error_setx(err, cm_neg_errno(), "%s: pipe", what);
	pid_t h = fork();
	if (h < 0) {
		int r = cm_neg_errno();
		close(pfd[0]);
		close(pfd[1]);
		return cm_error_setx(err, r, "%s: fork", what);
	}
	if (h == 0) {
		int res[2] = { 0, 0 };
		res[0] = fn(arg, &res[1]);
		if (res[0])
			(void)!write(pfd[1], res, sizeof(res));
		_exit(res[0] ? 1 : 0);
	}
	close(pfd[1]);
	int res[2] = { 0, 0 }, status = 0;
	ssize_t n = read(pfd[0], res, sizeof(res));
	close(pfd[0]);
	while (waitpid(h, &status, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(res)) {
		const char *step = res[0] > 0 && (size_t)res[0] <= n_steps ? steps[res[0] - 1] : "?";
		return cm_error_setx(err, res[1] < 0 ? res[1] : -EIO, "%s: %s", what, step);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cm_error_set(err, -EIO, "%s: the helper process failed", what);
	return 0;
}

long run_clone(unsigned long flags, int cgfd)
{
	if (cgfd < 0) {
		long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
		return pid < 0 ? cm_neg_errno() : pid;
	}
	struct clone_args ca = {
		.flags = flags | CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)cgfd,
	};
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	return pid < 0 ? cm_neg_errno() : pid;
}

int64_t run_read_int(const char *path)
{
	_cleanup_free_ char *s = NULL;
	if (run_read_file_at(AT_FDCWD, path, 256, &s, NULL) < 0)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	return errno || end == s ? -1 : (int64_t)v;
}

int64_t run_read_key(const char *path, const char *key)
{
	_cleanup_free_ char *s = NULL;
	if (run_read_file_at(AT_FDCWD, path, 1 << 16, &s, NULL) < 0)
		return -1;
	size_t kl = strlen(key);
	for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && (l[kl] == ' ' || l[kl] == ':'))
			return strtoll(l + kl + 1, NULL, 10);
	return -1;
}

int64_t run_host_memory(void)
{
	int64_t kb = run_read_key("/proc/meminfo", "MemTotal");
	return kb < 0 ? -1 : kb * 1024;
}

int run_sealed_copy(const char *path, struct cm_error *err)
{
	_cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (src < 0 || fstat(src, &st) < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s", path);
	if (!S_ISREG(st.st_mode))
		return cm_error_set(err, -EINVAL, "%s is not a regular file", path);
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	/* MFD_EXEC: executable even where vm.memfd_noexec says otherwise by
	 * default (6.3+); older kernels refuse the flag */
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | 0x10u /* MFD_EXEC */);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "a sealed copy of %s: memfd", path);
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(fd, src, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			int r = n < 0 ? cm_neg_errno() : -EIO;
			close(fd);
			return cm_error_setx(err, r, "a sealed copy of %s", path);
		}
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		int r = cm_neg_errno();
		close(fd);
		return cm_error_setx(err, r, "sealing the copy of %s", path);
	}
	return fd;
}

int run_exec_fd(int fd, char *const argv[])
{
	extern char **environ;
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	return cm_neg_errno();
}

void run_input_stop(struct run_input *in)
{
	in->src = -1;
	in->len = in->off = 0;
	if (in->close_at_eof)
		cm_close(&in->dst); /* the reader sees EOF */
	else
		in->dst = -1;
}

/* The k bytes read into buf without the detach keys: a byte that goes on
 * the keys is held back, a mismatch sends what was held first (docker's
 * escape proxy). The keys complete: detached, the rest dropped. Returns
 * the bytes left to write. */
static size_t keys_filter(struct run_input *in, size_t k)
{
	char out[sizeof(in->buf) + sizeof(in->keys)];
	size_t n = 0;
	for (size_t i = 0; i < k; i++) {
		char ch = in->buf[i];
		if (ch == in->keys[in->matched]) {
			if (++in->matched == in->n_keys) {
				in->detached = true;
				break;
			}
			continue;
		}
		memcpy(out + n, in->keys, in->matched);
		n += in->matched;
		in->matched = 0;
		if (ch == in->keys[0])
			in->matched = 1;
		else
			out[n++] = ch;
	}
	/* at most the held prefix more than was read: it fits the buffer
	 * only if the read left room for it, which the caller's read size
	 * ensures (a read of sizeof(buf) - sizeof(keys)) */
	memcpy(in->buf, out, n);
	return n;
}

void run_input_step(struct run_input *in, bool readable)
{
	if (readable) {
		ssize_t k = read(in->src, in->buf, sizeof(in->buf) - (in->n_keys ? sizeof(in->keys) : 0));
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (k <= 0) {
			run_input_stop(in);
			return;
		}
		in->len = in->n_keys ? keys_filter(in, (size_t)k) : (size_t)k;
		in->off = 0;
		return;
	}
	ssize_t w = write(in->dst, in->buf + in->off, in->len - in->off);
	if (w < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (w < 0) { /* the reader closed its end */
		run_input_stop(in);
		return;
	}
	in->off += (size_t)w;
	if (in->off == in->len)
		in->len = in->off = 0;
}

int run_parse_detach_keys(const char *spec, char ret[16], size_t *ret_n, struct cm_error *err)
{
	size_t n = 0;
	if (!spec || !*spec)
		spec = "ctrl-p,ctrl-q";
	for (const char *p = spec; *p;) {
		size_t l = strcspn(p, ",");
		char ch;
		if (l == 1) {
			ch = *p;
		} else if (l == 6 && strncmp(p, "ctrl-", 5) == 0 &&
			   ((p[5] >= 'a' && p[5] <= 'z') || strchr("@[\\]^_", p[5]))) {
			ch = p[5] >= 'a' && p[5] <= 'z' ? (char)(p[5] - 'a' + 1) : (char)(p[5] - '@');
		} else {
			return cm_error_set(err, -EINVAL, "Invalid detach keys (%s) provided: unknown character: '%.*s'",
					    spec, (int)l, p);
		}
		if (n == 16)
			return cm_error_set(err, -EINVAL, "Invalid detach keys (%s) provided: at most 16", spec);
		ret[n++] = ch;
		p += l + (p[l] == ',');
	}
	*ret_n = n;
	return 0;
}

void run_input_flush(struct run_input *in)
{
	for (int tries = 0; in->len && in->dst >= 0 && tries < 100; tries++) {
		struct pollfd pf = { .fd = in->dst, .events = POLLOUT };
		if (poll(&pf, 1, 10) > 0)
			run_input_step(in, false);
	}
}

ssize_t run_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n_fds > 3)
		return -EINVAL;
	if (n_fds) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
	}
	ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	return n < 0 ? cm_neg_errno() : n;
}

ssize_t run_send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	return run_send_with_fds(sock, buf, len, &fd, fd >= 0 ? 1 : 0);
}

ssize_t run_recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t max, size_t *ret_n)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	size_t k = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = cm_neg_errno();
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (k < max)
				fds[k++] = fd;
			else
				close(fd);
		}
	}
	*ret_n = k;
	return n;
}
