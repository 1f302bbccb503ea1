// SPDX-License-Identifier: MIT
/* The mount session: open branches, build the root node, mount, daemonize,
 * run the multi-threaded loop until unmounted, tear down. */
#include "ufs-internal.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define UFS_FUSE_SUPER_MAGIC 0x65735546

static int make_root(struct ufs_fs *fs)
{
	/* The root merges every branch down to the first opaque root. */
	uint64_t mask = 0;
	for (int b = 0; b < fs->nbr; b++) {
		mask |= UFS_BIT(b);
		if (cm_wh_opaque_at(fs->wh.fmt, fs->br[b].fd, ".") > 0)
			break;
	}
	struct stat st;
	if (fstat(fs->br[0].fd, &st) < 0)
		return cm_neg_errno();
	return ufs_node_root_new(fs, mask, &st) ? 0 : -ENOMEM;
}

/* The mount options (the kernel's and libfuse's), as one comma list. */
static int mount_opts(struct ufs_fs *fs, char *opts, size_t sz)
{
	const struct ufs_config *c = fs->cfg;
	char fsname[PATH_MAX];
	/* fsname shows the rw branch in mount(8); libfuse splits on commas */
	snprintf(fsname, sizeof(fsname), "%s", c->branches[0].path);
	for (char *p = fsname; *p; p++)
		if (*p == ',' || *p == '\\' || *p == ' ')
			*p = '_';
	/* The kernel checks permissions against the branch files' modes;
	 * other users may use the mount as they would a kernel filesystem. */
	int n = snprintf(opts, sz, "default_permissions,fsname=%s,subtype=ufsmount%s%s%s%s",
			 fsname, geteuid() == 0 ? ",allow_other" : "",
			 fs->rw ? "" : ",ro", c->fuse_opts ? "," : "",
			 c->fuse_opts ? c->fuse_opts : "");
	return n < 0 || (size_t)n >= sz ? -E2BIG : 0;
}

static int build_args(struct ufs_fs *fs, struct fuse_args *args, const char *opts)
{
	const struct ufs_config *c = fs->cfg;
	if (fuse_opt_add_arg(args, "ufsmount") < 0 || fuse_opt_add_arg(args, "-o") < 0 ||
	    fuse_opt_add_arg(args, opts) < 0)
		return -ENOMEM;
	if (c->debug && fuse_opt_add_arg(args, "-d") < 0)
		return -ENOMEM;
	return 0;
}

struct ufs_fs *ufs_fs_new(struct ufs_config *cfg, char *err, size_t errsz)
{
	struct ufs_fs *fs = calloc(1, sizeof(*fs));
	if (!fs) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	fs->cfg = cfg;
	fs->devfd = -1;
	fs->euid = geteuid();
	fs->egid = getegid();
	snprintf(fs->uring_reason, sizeof(fs->uring_reason), "waiting for the kernel's INIT");
	ufs_pt_init(fs, cfg->passthrough);
	long nofile = cm_raise_nofile();
	fs->dirfd_budget = nofile > 2048 ? nofile / 2 : 512;
	int r = ufs_fs_open_branches(fs, err, errsz);
	if (r == 0 && (r = ufs_table_init(fs)) == 0 && (r = make_root(fs)) < 0)
		snprintf(err, errsz, "cannot start: %s", strerror(-r));
	if (r < 0) {
		if (!err[0])
			snprintf(err, errsz, "cannot start: %s", strerror(-r));
		ufs_fs_free(fs);
		return NULL;
	}
	return fs;
}

void ufs_fs_free(struct ufs_fs *fs)
{
	if (!fs)
		return;
	if (fs->idhash) {
		ufs_files_free_all(fs);
		ufs_table_destroy(fs);
	}
	ufs_fs_close_branches(fs);
	free(fs);
}

/* The parent of the daemon: returns once the mount has answered a
 * request, or fails. mount(2) returns before the kernel's INIT handshake,
 * which the daemon's loop answers. Requests wait for it, but the superblock
 * refuses MOUNT_ATTR_IDMAP until the kernel has processed the INIT reply
 * (SB_I_NOIDMAP, fs/fuse/inode.c process_init_reply), so with libfuse's
 * fuse_daemonize, whose parent exits before the loop starts, an idmap right
 * after ufsmount failed with EINVAL now and then (img run --userns under
 * load). A statfs waits for INIT, then is answered itself. Our copy of
 * /dev/fuse goes first: a daemon dead before answering then aborts the
 * connection (ENOTCONN) instead of leaving us waiting, and its mount is
 * detached. */
static int await_daemon(struct ufs_fs *fs)
{
	const char *mp = fs->cfg->mountpoint;
	struct statfs sf;
	int r;
	fuse_remove_signal_handlers(fs->se); /* ^C ends the wait */
	close(fuse_session_fd(fs->se));
	do
		r = statfs(mp, &sf);
	while (r < 0 && errno == EINTR);
	if (r == 0 && sf.f_type == UFS_FUSE_SUPER_MAGIC)
		return 0;
	if (r < 0) {
		fprintf(stderr, "ufsmount: mountpoint '%s': the daemon did not answer: %s\n", mp,
			strerror(errno));
		(void)umount2(mp, MNT_DETACH);
	} else {
		fprintf(stderr, "ufsmount: mountpoint '%s': the daemon ended before serving it\n", mp);
	}
	return -1;
}

/* Unless -f, fork the daemon (in a session of its own, its stdio on
 * /dev/null, like fuse_daemonize); the parent exits once the mount serves
 * (await_daemon). Returns 0 in the daemon, -errno if fork fails. */
static int daemonize(struct ufs_fs *fs)
{
	if (!fs->cfg->foreground) {
		pid_t pid = fork();
		if (pid < 0)
			return cm_neg_errno();
		if (pid > 0)
			_exit(await_daemon(fs) == 0 ? 0 : 1);
		(void)setsid();
	}
	if (chdir("/") < 0)
		return cm_neg_errno();
	if (fs->cfg->foreground)
		return 0;
	int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nullfd < 0)
		return cm_neg_errno();
	for (int fd = 0; fd <= 2; fd++)
		(void)dup2(nullfd, fd);
	if (nullfd > 2)
		close(nullfd);
	return 0;
}

int ufs_run(struct ufs_config *cfg)
{
	char err[1024] = "";
	int ret = 1;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	umask(0); /* modes come from the kernel with the caller's umask applied */
	struct ufs_fs *fs = ufs_fs_new(cfg, err, sizeof(err));
	if (!fs) {
		fprintf(stderr, "ufsmount: %s\n", err);
		return 1;
	}
	char opts[4096];
	int r = mount_opts(fs, opts, sizeof(opts));
	if (r == 0)
		r = build_args(fs, &args, opts);
	if (r < 0) {
		fprintf(stderr, "ufsmount: cannot start: %s\n", strerror(-r));
		goto out;
	}
	fs->se = fuse_session_new(&args, &ufs_ops, sizeof(ufs_ops), fs);
	if (!fs->se) {
		fprintf(stderr, "ufsmount: cannot create the FUSE session (see above)\n");
		goto out;
	}
	if (fuse_set_signal_handlers(fs->se) != 0)
		goto out_session;
	/* Passthrough and FUSE_HANDLE_KILLPRIV_V2 need our own mount
	 * (fuse-shim.c); fall back to libfuse's when we cannot make it. */
	r = ufs_shim_mount(fs, fs->se, opts);
	if (r < 0) {
		if (cfg->passthrough)
			ufs_pt_mounted_without_shim(fs, r);
		snprintf(fs->uring_reason, sizeof(fs->uring_reason),
			 "mounted through libfuse (%s): /dev/fuse only",
			 r == -EPERM ? "not root" : strerror(-r));
		if (fuse_session_mount(fs->se, cfg->mountpoint) != 0) {
			fprintf(stderr, "ufsmount: mountpoint '%s': mount failed (see above)\n",
				cfg->mountpoint);
			goto out_signals;
		}
	}
	if ((r = daemonize(fs)) < 0) {
		fprintf(stderr, "ufsmount: cannot daemonize: %s\n", strerror(-r));
		goto out_unmount;
	}
	if ((r = ufs_fs_owner_publish(fs)) < 0)
		fprintf(stderr, "ufsmount: cannot record the rw branch's holder: %s\n", strerror(-r));
	if ((r = ufs_status_start(fs)) < 0)
		fprintf(stderr, "ufsmount: status socket unavailable: %s\n", strerror(-r));

	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	if (!lc)
		goto out_status;
	fuse_loop_cfg_set_clone_fd(lc, 1);
	fuse_loop_cfg_set_idle_threads(lc, 4);
	fuse_loop_cfg_set_max_threads(lc, cfg->max_threads);
	ret = fuse_session_loop_mt(fs->se, lc) == 0 ? 0 : 1;
	fuse_loop_cfg_destroy(lc);
	ufs_uring_stop(fs);
out_status:
	ufs_status_stop(fs);
out_unmount:
	ufs_shim_unmount(fs);
	fuse_session_unmount(fs->se);
out_signals:
	fuse_remove_signal_handlers(fs->se);
out_session:
	fuse_session_destroy(fs->se);
out:
	fuse_opt_free_args(&args);
	ufs_fs_free(fs);
	return ret;
}
