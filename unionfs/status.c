// SPDX-License-Identifier: MIT
/* Live inspection of a mount (the AUFS /sys/fs/aufs/si_* idea): per-op
 * counters and latencies, copy-up and whiteout counts, served on a unix
 * socket MAJ:MIN.sock named after the mount's device, so `ufsmount --status
 * MNT` finds it from the mountpoint: in /run/ufsmount (0700) for root's
 * mounts, in $XDG_RUNTIME_DIR/ufsmount for a user's (through fusermount3). */
#include "ufs-internal.h"
#include "cm-fs.h"
#include "cm-ufsctl.h"
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

static const char *const op_names[UFS_OP__MAX] = {
	"lookup", "forget", "getattr", "setattr", "readlink", "mknod", "mkdir",
	"unlink", "rmdir", "symlink", "rename", "link", "open", "read", "write",
	"flush", "release", "fsync", "opendir", "readdir", "readdirplus",
	"releasedir", "fsyncdir", "statfs", "setxattr", "getxattr", "listxattr",
	"removexattr", "create", "fallocate", "lseek", "copy_file_range",
};

const char *ufs_op_name(enum ufs_op op)
{
	return op < UFS_OP__MAX ? op_names[op] : "?";
}

uint64_t ufs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void ufs_stat_record(struct ufs_stats *s, enum ufs_op op, uint64_t t0, int err)
{
	struct ufs_op_stat *o = &s->op[op];
	uint64_t d = ufs_now_ns() - t0;
	atomic_fetch_add_explicit(&o->count, 1, memory_order_relaxed);
	if (err)
		atomic_fetch_add_explicit(&o->errors, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&o->ns, d, memory_order_relaxed);
	unsigned long long m = atomic_load_explicit(&o->max_ns, memory_order_relaxed);
	while (d > m && !atomic_compare_exchange_weak(&o->max_ns, &m, d))
		;
}


static const char *mode_name(enum ufs_branch_mode m)
{
	return m == UFS_BR_RW ? "rw" : m == UFS_BR_RO ? "ro" : "rr";
}

#define L(x) atomic_load(&(x))

void ufs_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* the on-disk format of whiteouts and opaque dirs (docs/format.md) */
static const char *format_name(const struct ufs_fs *fs)
{
	if (fs->wh.fmt == CM_WH_FMT_AUFS)
		return "aufs (.wh. names)";
	return fs->wh.no_mknod ? "overlay (xwhiteouts)" : "overlay (0/0 char device whiteouts)";
}

/* -o allow_idmap: whether the mount may be idmapped */
static const char *idmap_state(const struct ufs_fs *fs)
{
	if (!fs->cfg->allow_idmap)
		return "off";
	return fs->idmap_allowed ? "allowed" : "unavailable (the kernel does not offer FUSE_ALLOW_IDMAP)";
}

/* who clears suid/sgid/security.capability on write, truncate, chown */
static const char *killpriv_state(const struct ufs_fs *fs)
{
	return fs->killpriv_v2 ? "v2 (the daemon clears suid/sgid; no getxattr per write)"
			       : "kernel (getxattr security.capability before writes)";
}

static void write_status(struct ufs_fs *fs, FILE *f, bool json)
{
	struct ufs_stats *s = &fs->st;
	const struct ufs_config *c = fs->cfg;
	if (!json) {
		fprintf(f, "mountpoint   %s\npid          %d\nversion      %s (libfuse %s)\n",
			c->mountpoint, (int)getpid(), PACKAGE_VERSION, fuse_pkgversion());
		fprintf(f, "mode         %s\n", fs->rw ? "read-write" : "read-only");
		fprintf(f, "format       %s\n", format_name(fs));
		if (c->workdir)
			fprintf(f, "workdir      %s\n", c->workdir);
		enum ufs_pt_state pst = ufs_pt_state_get(fs);
		fprintf(f, "passthrough  %s (%s)\n", ufs_pt_state_name(pst), fs->pt_reason);
		fprintf(f, "idmap        %s\n", idmap_state(fs));
		fprintf(f, "killpriv     %s\n", killpriv_state(fs));
		ufs_uring_status(fs, f, false);
		fprintf(f, "options      entry_timeout=%g attr_timeout=%g copyup_fsync=%d writeback=%d readahead=%u\n",
			c->entry_timeout, c->attr_timeout, c->copyup_fsync, c->writeback,
			c->readahead_kb);
		fprintf(f, "branches\n");
		for (int b = 0; b < fs->nbr; b++)
			fprintf(f, "  %-3d %s  %s\n", b, mode_name(fs->br[b].mode), fs->br[b].path);
		fprintf(f, "counters\n");
		fprintf(f, "  copyup           %llu\n  copyup_bytes     %llu\n  copyup_ms        %.3f\n",
			L(s->copyup), L(s->copyup_bytes), L(s->copyup_ns) / 1e6);
		fprintf(f, "  whiteout         %llu\n  opaque           %llu\n  dir_copyup_tree  %llu\n",
			L(s->whiteout), L(s->opaque), L(s->dir_copyup_tree));
		fprintf(f, "  rmdir_fast       %llu\n", L(s->rmdir_fast));
		fprintf(f, "  read_bytes       %llu\n  write_bytes      %llu\n",
			L(s->read_bytes), L(s->write_bytes));
		fprintf(f, "  pt_opens         %llu\n  pt_backing       %llu\n  pt_refused       %llu%s%s%s\n  pt_stale         %llu\n",
			L(s->pt_opens), L(s->pt_backing), L(s->pt_refused),
			fs->pt_last_refusal[0] ? " (last: " : "", fs->pt_last_refusal,
			fs->pt_last_refusal[0] ? ")" : "", L(s->pt_stale));
		fprintf(f, "  nodes            %llu\n  dir_fds          %llu\n", L(s->nodes), L(s->dirfds));
		fprintf(f, "operations   %12s %8s %10s %10s\n", "count", "errors", "avg_us", "max_us");
		for (int i = 0; i < UFS_OP__MAX; i++) {
			unsigned long long n = L(s->op[i].count);
			if (!n)
				continue;
			fprintf(f, "  %-16s %8llu %8llu %10.1f %10.1f\n", op_names[i], n,
				L(s->op[i].errors), L(s->op[i].ns) / 1e3 / (double)n,
				L(s->op[i].max_ns) / 1e3);
		}
		return;
	}
	fprintf(f, "{\"mountpoint\":");
	ufs_json_str(f, c->mountpoint);
	fprintf(f, ",\"pid\":%d,\"version\":\"%s\",\"read_only\":%s,\"passthrough\":{\"state\":\"%s\",\"reason\":",
		(int)getpid(), PACKAGE_VERSION, fs->rw ? "false" : "true",
		ufs_pt_state_name(ufs_pt_state_get(fs)));
	ufs_json_str(f, fs->pt_reason);
	fprintf(f, "},\"format\":");
	ufs_json_str(f, format_name(fs));
	fprintf(f, ",\"idmap\":");
	ufs_json_str(f, idmap_state(fs));
	fprintf(f, ",\"killpriv_v2\":%s", fs->killpriv_v2 ? "true" : "false");
	ufs_uring_status(fs, f, true);
	fprintf(f, ",\"branches\":[");
	for (int b = 0; b < fs->nbr; b++) {
		fprintf(f, "%s{\"index\":%d,\"mode\":\"%s\",\"path\":", b ? "," : "", b,
			mode_name(fs->br[b].mode));
		ufs_json_str(f, fs->br[b].path);
		fputc('}', f);
	}
	fprintf(f, "],\"counters\":{\"copyup\":%llu,\"copyup_bytes\":%llu,\"copyup_ns\":%llu,"
		   "\"whiteout\":%llu,\"opaque\":%llu,\"dir_copyup_tree\":%llu,\"rmdir_fast\":%llu,"
		   "\"read_bytes\":%llu,\"write_bytes\":%llu,\"pt_opens\":%llu,\"pt_backing\":%llu,"
		   "\"pt_refused\":%llu,\"pt_stale\":%llu,\"nodes\":%llu,\"dir_fds\":%llu},\"ops\":{",
		L(s->copyup), L(s->copyup_bytes), L(s->copyup_ns), L(s->whiteout), L(s->opaque),
		L(s->dir_copyup_tree), L(s->rmdir_fast), L(s->read_bytes), L(s->write_bytes), L(s->pt_opens),
		L(s->pt_backing), L(s->pt_refused), L(s->pt_stale), L(s->nodes), L(s->dirfds));
	for (int i = 0; i < UFS_OP__MAX; i++)
		fprintf(f, "%s\"%s\":{\"count\":%llu,\"errors\":%llu,\"ns\":%llu,\"max_ns\":%llu}",
			i ? "," : "", op_names[i], L(s->op[i].count), L(s->op[i].errors),
			L(s->op[i].ns), L(s->op[i].max_ns));
	fprintf(f, "}}\n");
}

/* The last mount at path wins, as in the kernel's view. */
int ufs_mount_find(const char *path, unsigned *maj, unsigned *min, char *fstype,
		   size_t fssz, uid_t *ret_owner)
{
	return cm_mountinfo_find(path, maj, min, fstype, fssz, ret_owner);
}

static pthread_t status_thread;
static int listen_fd = -1;
static int stop_pipe[2] = { -1, -1 };

static void *serve(void *arg)
{
	struct ufs_fs *fs = arg;
	for (;;) {
		struct pollfd p[2] = { { listen_fd, POLLIN, 0 }, { stop_pipe[0], POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		char req = 't';
		struct timeval tv = { 1, 0 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (read(c, &req, 1) != 1)
			req = 't';
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (m) {
			write_status(fs, m, req == 'j');
			fclose(m);
			(void)cm_write_all(c, buf, len);
			free(buf);
		}
		close(c);
	}
	return NULL;
}

int ufs_status_start(struct ufs_fs *fs)
{
	unsigned maj, min;
	char fstype[128];
	int r = ufs_mount_find(fs->cfg->mountpoint, &maj, &min, fstype, sizeof(fstype), NULL);
	if (r < 0)
		return r;
	fs->dev_major = maj;
	fs->dev_minor = min;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	if ((r = cm_ufsctl_rundir(geteuid(), dir, sizeof(dir))) < 0 ||
	    (r = cm_ufsctl_sock_path(sa.sun_path, sizeof(sa.sun_path), geteuid(), maj, min)) < 0)
		return r;
	if ((r = cm_ufsctl_rundir_make(dir)) < 0)
		return r;
	(void)unlink(sa.sun_path); /* a stale socket of a killed daemon */
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		return cm_neg_errno();
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0600) < 0 || listen(listen_fd, 8) < 0 ||
	    pipe2(stop_pipe, O_CLOEXEC) < 0) {
		r = cm_neg_errno();
		cm_close(&listen_fd);
		return r;
	}
	fs->status_sock = strdup(sa.sun_path);
	if ((r = -pthread_create(&status_thread, NULL, serve, fs)) < 0) {
		cm_close(&listen_fd);
		return r;
	}
	return 0;
}

void ufs_status_stop(struct ufs_fs *fs)
{
	if (listen_fd < 0)
		return;
	(void)!write(stop_pipe[1], "x", 1);
	pthread_join(status_thread, NULL);
	cm_close(&listen_fd);
	cm_close(&stop_pipe[0]);
	cm_close(&stop_pipe[1]);
	if (fs->status_sock)
		unlink(fs->status_sock);
	free(fs->status_sock);
	fs->status_sock = NULL;
}

int ufs_status_query(const char *mountpoint, bool json, FILE *out, char *err,
		     size_t errsz)
{
	char *real = realpath(mountpoint, NULL);
	const char *mp = real ? real : mountpoint;
	unsigned maj, min;
	char fstype[128];
	uid_t owner = 0;
	int r = ufs_mount_find(mp, &maj, &min, fstype, sizeof(fstype), &owner);
	if (r < 0) {
		snprintf(err, errsz, "mountpoint '%s': nothing is mounted there", mountpoint);
		free(real);
		return r;
	}
	free(real);
	/* -o subtype= renames the type: any FUSE mount may be ours, and the
	 * socket named after its device tells. */
	if (strcmp(fstype, "fuse") != 0 && strncmp(fstype, "fuse.", 5) != 0) {
		snprintf(err, errsz, "mountpoint '%s': not a ufsmount mount (%s)", mountpoint, fstype);
		return -EINVAL;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if ((r = cm_ufsctl_sock_path(sa.sun_path, sizeof(sa.sun_path), owner, maj, min)) < 0) {
		snprintf(err, errsz, "mountpoint '%s': socket path too long", mountpoint);
		return r;
	}
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = cm_neg_errno();
		if (r == -ENOENT && strcmp(fstype, "fuse.ufsmount") != 0)
			snprintf(err, errsz, "mountpoint '%s': not a ufsmount mount (%s: no socket %s)",
				 mountpoint, fstype, sa.sun_path);
		else
			snprintf(err, errsz, "mountpoint '%s': its daemon does not answer on %s: %s",
				 mountpoint, sa.sun_path, strerror(-r));
		return r;
	}
	char c = json ? 'j' : 't';
	if (write(fd, &c, 1) != 1)
		return cm_neg_errno();
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, out);
	return n < 0 ? cm_neg_errno() : 0;
}

void ufs_readahead_apply(struct ufs_fs *fs)
{
	if (atomic_load_explicit(&fs->ra_done, memory_order_relaxed) ||
	    atomic_exchange(&fs->ra_done, true))
		return;
	if (!fs->cfg->readahead_kb || (!fs->dev_major && !fs->dev_minor))
		return;
	char p[96];
	snprintf(p, sizeof(p), "/sys/class/bdi/%u:%u/read_ahead_kb", fs->dev_major,
		 fs->dev_minor);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd >= 0)
		dprintf(fd, "%u\n", fs->cfg->readahead_kb);
}
