// SPDX-License-Identifier: MIT
/* The container's root: the per-container init layer (mountpoint stubs and
 * the /etc files a container needs, read-only between the image layers and
 * the rw branch: what kept Docker safe from a malicious /dev symlink), the
 * union mount by ufsmount (whose daemon stays outside the container), and
 * the check that refuses a hostile root. */
#include "run-internal.h"
#include "cm-fs.h"
#include "cm-ufsctl.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int run_rootfs_check(int rootfd, struct cm_error *err)
{
	static const char *const must_dir[] = { "proc", "sys", "dev" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(must_dir); i++) {
		struct stat st;
		if (fstatat(rootfd, must_dir[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* created in-root by the plan */
			return cm_error_setx(err, cm_neg_errno(), "rootfs: /%s", must_dir[i]);
		}
		if (S_ISLNK(st.st_mode))
			return cm_error_set(err, -ELOOP, "refusing the rootfs: /%s is a symlink", must_dir[i]);
		if (!S_ISDIR(st.st_mode))
			return cm_error_set(err, -ENOTDIR, "refusing the rootfs: /%s is not a directory", must_dir[i]);
	}
	return 0;
}

int run_init_read(const char *init_dir, const char *name, char **ret)
{
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/etc", init_dir);
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return cm_neg_errno();
	return run_read_file_at(dfd, name, 1 << 16, ret, NULL);
}

int run_init_replace(const char *init_dir, const char *name, const char *text)
{
	char dir[4200], tmp[64];
	snprintf(dir, sizeof(dir), "%s/etc", init_dir);
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return cm_neg_errno();
	cm_tmpname(tmp, sizeof(tmp), ".tmp");
	_cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return cm_neg_errno();
	int r = cm_write_all(fd, text, strlen(text));
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = cm_neg_errno();
	if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = cm_neg_errno();
	if (r < 0)
		(void)unlinkat(dfd, tmp, 0);
	return r;
}

int run_init_apply(const struct run_config *c, struct cm_error *err)
{
	if (!c->init_dir)
		return 0;
	int r;
	if (c->extra_hosts && c->extra_hosts[0]) {
		/* --add-host: appended once (the same lines at every start) */
		_cleanup_free_ char *old = NULL;
		if ((r = run_init_read(c->init_dir, "hosts", &old)) < 0)
			return cm_error_setx(err, r, "reading the container's /etc/hosts");
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f)
			return -ENOMEM;
		fputs(old, f);
		if (*old && old[strlen(old) - 1] != '\n')
			fputc('\n', f);
		for (char **h = c->extra_hosts; *h; h++) {
			const char *colon = strchr(*h, ':'); /* NAME:IP, IP maybe v6 */
			char line[600];
			snprintf(line, sizeof(line), "%s\t%.*s\n", colon + 1, (int)(colon - *h), *h);
			if (!strstr(old, line))
				fputs(line, f);
		}
		fclose(f);
		r = run_init_replace(c->init_dir, "hosts", buf);
		free(buf);
		if (r < 0)
			return cm_error_setx(err, r, "writing the container's /etc/hosts");
	}
	if ((c->dns && c->dns[0]) || (c->dns_search && c->dns_search[0]) ||
	    (c->dns_options && c->dns_options[0])) {
		/* --dns, --dns-search, --dns-option: resolv.conf made of them
		 * (what is not given keeps the host-derived lines) */
		r = run_resolv_write(c, (const char *const *)c->dns, NULL);
		if (r < 0)
			return cm_error_setx(err, r, "writing the container's /etc/resolv.conf");
	}
	return 0;
}

/* The init layer's resolv.conf rewritten: nameservers ns (when any) replace
 * its nameserver lines, --dns-search its search/domain lines, and an options
 * line of opt0 (when given) and --dns-option replaces its options; every
 * other line is kept. */
int run_resolv_write(const struct run_config *c, const char *const *ns, const char *opt0)
{
	_cleanup_free_ char *old = NULL;
	(void)run_init_read(c->init_dir, "resolv.conf", &old);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	bool have_ns = ns && ns[0], have_search = c->dns_search && c->dns_search[0],
	     have_opts = opt0 || (c->dns_options && c->dns_options[0]);
	char *save = NULL;
	for (char *l = old ? strtok_r(old, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
		if (!(have_ns && strncmp(l, "nameserver", 10) == 0) &&
		    !(have_search && (strncmp(l, "search", 6) == 0 || strncmp(l, "domain", 6) == 0)) &&
		    !(have_opts && strncmp(l, "options", 7) == 0))
			fprintf(f, "%s\n", l);
	if (have_search) {
		fputs("search", f);
		for (char **d = c->dns_search; *d; d++)
			fprintf(f, " %s", *d);
		fputc('\n', f);
	}
	for (const char *const *d = ns; d && *d; d++)
		fprintf(f, "nameserver %s\n", *d);
	if (have_opts) {
		fputs("options", f);
		if (opt0)
			fprintf(f, " %s", opt0);
		for (char **d = c->dns_options; d && *d; d++)
			fprintf(f, " %s", *d);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	int r = run_init_replace(c->init_dir, "resolv.conf", buf);
	free(buf);
	return r;
}

static int write_at(int dfd, const char *name, const char *text)
{
	_cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return cm_neg_errno();
	return cm_write_all(fd, text, strlen(text));
}

int run_rootfs_init_layer(const char *init, const char *hostname, struct cm_error *err)
{
	static const char *const dirs[] = { "proc", "sys", "dev", "dev/pts", "dev/shm", "etc" };
	_cleanup_close_ int dfd = open(init, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "init layer %s", init);
	for (size_t i = 0; i < CM_ARRAY_SIZE(dirs); i++)
		if (mkdirat(dfd, dirs[i], 0755) < 0 && errno != EEXIST)
			return cm_error_setx(err, cm_neg_errno(), "init layer: %s", dirs[i]);
	_cleanup_close_ int etc = openat(dfd, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (etc < 0)
		return cm_error_setx(err, cm_neg_errno(), "init layer: etc");
	char hosts[512];
	snprintf(hosts, sizeof(hosts),
		 "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
		 "127.0.1.1\t%s\n", hostname);
	char hn[128];
	snprintf(hn, sizeof(hn), "%s\n", hostname);
	_cleanup_free_ char *resolv = NULL;
	if (run_read_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &resolv, NULL) < 0)
		resolv = NULL;
	int r;
	if ((r = write_at(etc, "hosts", hosts)) < 0 || (r = write_at(etc, "hostname", hn)) < 0 ||
	    (r = write_at(etc, "resolv.conf", resolv ? resolv : "")) < 0)
		return cm_error_setx(err, r, "init layer: etc files");
	return 0;
}

bool run_rootfs_is_mounted(const char *mnt)
{
	unsigned maj, min;
	return cm_mountinfo_find(mnt, &maj, &min, NULL, 0, NULL) == 0;
}

int run_rootfs_daemon_pidfd(const char *mnt)
{
	unsigned maj, min;
	uid_t owner;
	int r = cm_mountinfo_find(mnt, &maj, &min, NULL, 0, &owner);
	return r < 0 ? r : cm_ufsctl_daemon_pidfd(owner, maj, min);
}

/* Abort the connection of device maj:min; a daemon (pidfd, or -1) that has
 * not exited 2 s later is killed: the kernel hands a request to a ring
 * entry through the entry's thread, and one that is stopped holds it past
 * the abort, its requester still waiting, until the thread runs or dies. */
static int abort_conn(unsigned maj, unsigned min, int pidfd)
{
	int r = cm_fuse_abort(maj, min);
	if (pidfd < 0)
		return r;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	if (poll(&p, 1, 2000) == 0 && syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0)
		(void)poll(&p, 1, 2000);
	return r;
}

int run_rootfs_abort(const char *mnt)
{
	unsigned maj, min;
	uid_t owner;
	char type[64];
	int r = cm_mountinfo_find(mnt, &maj, &min, type, sizeof(type), &owner);
	if (r < 0)
		return r;
	if (strncmp(type, "fuse", 4) != 0)
		return -ENOENT;
	_cleanup_close_ int pfd = cm_ufsctl_daemon_pidfd(owner, maj, min);
	return abort_conn(maj, min, pfd);
}

int run_rootfs_mount(const char *ufsmount, const char *rw, const char *init,
		     char *const *layers, const char *mnt, struct cm_error *err)
{
	size_t len = strlen("dirs=") + strlen(rw) + strlen(init) + 32 + strlen(",nodev,fsname=img");
	for (char *const *l = layers; l && *l; l++) {
		if (strchr(*l, ':') || strchr(*l, ','))
			return cm_error_set(err, -EINVAL, "layer path '%s' has a ':' or ','", *l);
		len += strlen(*l) + 4;
	}
	if (strpbrk(rw, ":,") || strpbrk(init, ":,"))
		return cm_error_set(err, -EINVAL, "branch path with ':' or ','");
	_cleanup_free_ char *opt = malloc(len);
	if (!opt)
		return -ENOMEM;
	size_t o = (size_t)sprintf(opt, "dirs=%s=rw:%s=ro", rw, init);
	for (char *const *l = layers; l && *l; l++)
		o += (size_t)sprintf(opt + o, ":%s=ro", *l);
	strcpy(opt + o, ",nodev,fsname=img");

	pid_t pid = fork();
	if (pid < 0)
		return cm_error_setx(err, cm_neg_errno(), "fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execl(ufsmount, "ufsmount", "-o", opt, mnt, (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return cm_error_setx(err, cm_neg_errno(), "waiting for ufsmount");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cm_error_set(err, -EIO, "ufsmount %s failed (exit %d)", mnt,
				    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

int run_rootfs_umount(const char *mnt, struct cm_error *err)
{
	/* the daemon exits after the unmount and only then lets go of its lock
	 * on the rw branch: a mount of the same branches right after (img
	 * start, a restart) must find it gone, so it is waited for (its pidfd
	 * taken first: once unmounted its socket is gone) */
	unsigned maj, min;
	uid_t owner;
	_cleanup_close_ int pfd = cm_mountinfo_find(mnt, &maj, &min, NULL, 0, &owner) == 0
					  ? cm_ufsctl_daemon_pidfd(owner, maj, min) : -1;
	bool detached = false;
	for (int i = 0; i < 50 && run_rootfs_is_mounted(mnt); i++) {
		if (umount2(mnt, i < 10 ? 0 : MNT_DETACH) == 0) {
			detached = i >= 10;
			continue;
		}
		if (errno == EINVAL || errno == ENOENT)
			break;
		if (errno != EBUSY)
			return cm_error_setx(err, cm_neg_errno(), "unmounting %s", mnt);
		usleep(20000);
	}
	/* (a lazy unmount lives on while something holds it: not waited for) */
	if (pfd >= 0 && !detached) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int n;
		do
			n = poll(&p, 1, 10000);
		while (n < 0 && errno == EINTR);
		/* a daemon that does not exit (stopped, hung) may still hold
		 * tasks in requests of this connection: over io_uring those
		 * are unkillable until it is aborted */
		if (n == 0)
			(void)abort_conn(maj, min, pfd);
	}
	return 0;
}
