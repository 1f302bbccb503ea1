// SPDX-License-Identifier: MIT
/* The container's root: the per-container init layer (mountpoint stubs and
 * the /etc files a container needs, read-only between the image layers and
 * the rw branch: what kept Docker safe from a malicious /dev symlink), the
 * union mount by ufsmount (whose daemon stays outside the container), and
 * the check that refuses a hostile root. */
#include "run-internal.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
	_cleanup_free_ char *m = NULL;
	if (run_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 24, &m, NULL) < 0)
		return false;
	size_t l = strlen(mnt);
	for (char *p = m; p && *p;) {
		/* id parent maj:min root MOUNTPOINT ... */
		char *f = p;
		for (int i = 0; i < 4 && f; i++) {
			f = strchr(f, ' ');
			if (f)
				f++;
		}
		if (f && strncmp(f, mnt, l) == 0 && f[l] == ' ')
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
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
	for (int i = 0; i < 50 && run_rootfs_is_mounted(mnt); i++) {
		if (umount2(mnt, i < 10 ? 0 : MNT_DETACH) == 0)
			continue;
		if (errno == EINVAL || errno == ENOENT)
			break;
		if (errno != EBUSY)
			return cm_error_setx(err, cm_neg_errno(), "unmounting %s", mnt);
		usleep(20000);
	}
	return 0;
}
