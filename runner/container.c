// SPDX-License-Identifier: MIT
/* Container lifecycle and state: bundles under <store root>/runner/<id>/
 * (config.json, state.json written by temp+rename, ctr.log, the
 * branches and the rootfs mountpoint), start through the monitor, stop, kill,
 * wait, remove, exec. The monitor holds monitor.lock for its whole life, so
 * a lock we can take means the monitor is gone (img ps stays correct after a
 * monitor is killed). Lock order: monitor.lock, then state.lock. */
#include "run-internal.h"
#include "cm-fs.h"
#include "cm-ufsctl.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/random.h>
#include <time.h>

const char *run_status_name(enum run_status s)
{
	switch (s) {
	case RUN_CREATED: return "created";
	case RUN_RUNNING: return "running";
	case RUN_EXITED: return "exited";
	case RUN_REMOVING: return "removing";
	case RUN_RESTARTING: return "restarting";
	}
	return "unknown";
}

static int path_in(const char *bundle, const char *name, char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s/%s", bundle, name) >= (int)sz ? -ENAMETOOLONG : 0;
}

int run_cgroup_for(const struct run_config *c, struct run_cgroup **ret, struct cm_error *err)
{
	/* the root recorded in the container's config: stop, rm, exec... from
	 * a shell without $IMG_CGROUP_ROOT find the same cgroup */
	return run_cgroup_open(c->cgroup_root, c->cgroup_parent, c->cgroup_name ? c->cgroup_name : c->id,
			       ret, err);
}

/* ------------------------------------------------------------ state */

int run_state_write(const char *bundle, const struct run_state *st, struct cm_error *err)
{
	struct cm_jw w;
	char t1[64], t2[64];
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "Status", run_status_name(st->status));
	cm_jw_kint(&w, "Pid", st->pid);
	cm_jw_kint(&w, "MonitorPid", st->monitor);
	cm_jw_kint(&w, "MonitorStart", (int64_t)st->monitor_start);
	cm_jw_kint(&w, "ExitCode", st->exit_code);
	cm_jw_key(&w, "OOMKilled");
	cm_jw_bool(&w, st->oom_killed);
	cm_jw_kint(&w, "StartedNs", st->started_ns);
	cm_jw_kint(&w, "FinishedNs", st->finished_ns);
	cm_jw_kint(&w, "RestartCount", st->restart_count);
	run_time_fmt_ns(st->started_ns, t1, sizeof(t1));
	run_time_fmt_ns(st->finished_ns, t2, sizeof(t2));
	cm_jw_kstr(&w, "StartedAt", t1);
	cm_jw_kstr(&w, "FinishedAt", t2);
	cm_jw_kstr(&w, "Error", st->error);
	cm_jw_kstr(&w, "IPAddress", st->ip);
	cm_jw_kstr(&w, "MacAddress", st->mac);
	cm_jw_obj_end(&w);
	/* the one-line status the store's `img ps` shows (docs/store.md):
	 * "Up @T" / "Exited (N) @T", T the start or end in seconds since the
	 * epoch, rendered by ps relative to its own now */
	char line[64];
	if (st->status == RUN_RUNNING)
		snprintf(line, sizeof(line), "Up @%lld\n", (long long)(st->started_ns / 1000000000));
	else if (st->status == RUN_RESTARTING)
		snprintf(line, sizeof(line), "Restarting (%d) @%lld\n", st->exit_code,
			 (long long)(st->finished_ns / 1000000000));
	else if (st->status == RUN_EXITED && st->finished_ns > 0)
		snprintf(line, sizeof(line), "Exited (%d) @%lld\n", st->exit_code,
			 (long long)(st->finished_ns / 1000000000));
	else if (st->status == RUN_EXITED)
		snprintf(line, sizeof(line), "Exited (%d)\n", st->exit_code);
	else
		snprintf(line, sizeof(line), "Created\n");
	/* first: whoever sees the new state.json (img stop waiting for the
	 * exit) must find ps's line new too */
	(void)run_write_atomic(bundle, "status", line, strlen(line));
	_cleanup_free_ char *s = NULL;
	size_t len;
	int r = cm_jw_finish(&w, &s, &len);
	if (r < 0 || (r = run_write_atomic(bundle, "state.json", s, len)) < 0)
		return cm_error_setx(err, r, "writing the state of %s", bundle);
	return 0;
}

int run_state_read(const char *bundle, struct run_state *ret, struct cm_error *err)
{
	char p[4096];
	_cleanup_free_ char *s = NULL;
	size_t len;
	struct run_state st = { .status = RUN_CREATED };
	path_in(bundle, "state.json", p, sizeof(p));
	int r = run_read_file_at(AT_FDCWD, p, 1 << 16, &s, &len);
	if (r == -ENOENT) {
		*ret = st;
		return 0;
	}
	if (r < 0)
		return cm_error_setx(err, r, "reading %s", p);
	_cleanup_json_ struct cm_json *j = NULL;
	if ((r = cm_json_parse(s, len, &j, NULL, 0)) < 0)
		return cm_error_set(err, r, "%s: invalid JSON", p);
	const char *status = cm_json_get_str(j, "Status");
	if (cm_streq(status, "running"))
		st.status = RUN_RUNNING;
	else if (cm_streq(status, "exited"))
		st.status = RUN_EXITED;
	else if (cm_streq(status, "removing"))
		st.status = RUN_REMOVING;
	else if (cm_streq(status, "restarting"))
		st.status = RUN_RESTARTING;
	int64_t v;
	if (cm_json_get_int(j, "Pid", &v)) st.pid = (pid_t)v;
	if (cm_json_get_int(j, "MonitorPid", &v)) st.monitor = (pid_t)v;
	if (cm_json_get_int(j, "MonitorStart", &v)) st.monitor_start = (uint64_t)v;
	if (cm_json_get_int(j, "ExitCode", &v)) st.exit_code = (int)v;
	if (cm_json_get_int(j, "StartedNs", &v)) st.started_ns = v;
	if (cm_json_get_int(j, "FinishedNs", &v)) st.finished_ns = v;
	if (cm_json_get_int(j, "RestartCount", &v)) st.restart_count = (int)v;
	const struct cm_json *b = cm_json_get(j, "OOMKilled");
	st.oom_killed = b && cm_json_is(b, CM_JSON_BOOL) && b->b;
	snprintf(st.error, sizeof(st.error), "%s", cm_json_get_str(j, "Error") ? cm_json_get_str(j, "Error") : "");
	const char *ip = cm_json_get_str(j, "IPAddress"), *mac = cm_json_get_str(j, "MacAddress");
	snprintf(st.ip, sizeof(st.ip), "%s", ip ? ip : "");
	snprintf(st.mac, sizeof(st.mac), "%s", mac ? mac : "");
	*ret = st;
	return 0;
}

static int lock_file(const char *bundle, const char *name, int op)
{
	char p[4096];
	path_in(bundle, name, p, sizeof(p));
	return cm_flock_at(AT_FDCWD, p, op);
}

/* Is the monitor alive? It holds monitor.lock for its whole life. */
static bool monitor_alive(const char *bundle)
{
	int fd = lock_file(bundle, "monitor.lock", LOCK_SH | LOCK_NB);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	return fd == -EWOULDBLOCK;
}

int run_state_refresh(const char *bundle, struct run_state *ret, struct cm_error *err)
{
	int r = run_state_read(bundle, ret, err);
	if (r < 0 || (ret->status != RUN_RUNNING && ret->status != RUN_RESTARTING) ||
	    monitor_alive(bundle))
		return r;
	/* the monitor died: take its lock so no new monitor races us, kill what
	 * is left of the container and record what is known */
	_cleanup_close_ int ml = lock_file(bundle, "monitor.lock", LOCK_EX | LOCK_NB);
	if (ml < 0)
		return run_state_read(bundle, ret, err);
	if ((r = run_state_read(bundle, ret, err)) < 0 ||
	    (ret->status != RUN_RUNNING && ret->status != RUN_RESTARTING))
		return r;
	_cleanup_run_config_ struct run_config *c = NULL;
	if (run_config_read(bundle, &c, NULL) == 0) {
		_cleanup_cgroup_ struct run_cgroup *cg = NULL;
		if (run_cgroup_for(c, &cg, NULL) == 0) {
			ret->oom_killed = run_cgroup_oom_killed(cg);
			(void)run_cgroup_destroy(cg, NULL);
		}
		(void)run_rootfs_umount(c->rootfs, NULL);
		if (c->network == RUN_NET_BRIDGE)
			(void)run_net_release(c->id, NULL);
	}
	ret->status = RUN_EXITED;
	ret->ip[0] = ret->mac[0] = '\0';
	ret->exit_code = 255;
	ret->finished_ns = run_now_ns();
	snprintf(ret->error, sizeof(ret->error), "the monitor of the container died");
	return run_state_write(bundle, ret, err);
}

/* ------------------------------------------------------------ config */

int run_config_read(const char *bundle, struct run_config **ret, struct cm_error *err)
{
	char p[4096];
	_cleanup_free_ char *s = NULL;
	size_t len;
	path_in(bundle, "runner.json", p, sizeof(p));
	int r = run_read_file_at(AT_FDCWD, p, 1 << 22, &s, &len);
	if (r < 0)
		return cm_error_setx(err, r, "reading %s", p);
	_cleanup_json_ struct cm_json *j = NULL;
	if ((r = cm_json_parse(s, len, &j, NULL, 0)) < 0)
		return cm_error_set(err, r, "%s: invalid JSON", p);
	return run_config_from_json(j, ret, err);
}

int run_config_write(const struct run_config *c, struct cm_error *err)
{
	struct cm_jw w;
	cm_jw_init(&w, 2);
	run_config_to_json(c, &w);
	_cleanup_free_ char *s = NULL;
	size_t len;
	int r = cm_jw_finish(&w, &s, &len);
	if (r < 0 || (r = run_write_atomic(c->bundle, "runner.json", s, len)) < 0)
		return cm_error_setx(err, r, "writing the config of %s", c->bundle);
	return 0;
}

/* ------------------------------------------------------------ find, list */

int run_container_list(const char *dir, char ***ret, size_t *ret_n, struct cm_error *err)
{
	DIR *d = opendir(dir);
	*ret = NULL;
	*ret_n = 0;
	if (!d)
		return errno == ENOENT ? 0 : cm_error_setx(err, cm_neg_errno(), "listing %s", dir);
	struct ent { int64_t created; char *path; } *v = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != RUN_ID_LEN || strspn(de->d_name, "0123456789abcdef") != RUN_ID_LEN)
			continue;
		char *p = NULL;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			break;
		_cleanup_run_config_ struct run_config *c = NULL;
		if (run_config_read(p, &c, NULL) < 0) {
			free(p);
			continue;
		}
		struct ent *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(p);
			break;
		}
		v = nv;
		v[n].created = c->created;
		v[n++].path = p;
	}
	closedir(d);
	/* newest first */
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && v[k].created > v[k - 1].created; k--) {
			struct ent t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	char **out = calloc(n + 1, sizeof(char *));
	if (!out) {
		for (size_t i = 0; i < n; i++)
			free(v[i].path);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = v[i].path;
	free(v);
	*ret = out;
	*ret_n = n;
	return 0;
}

int run_container_find(const char *dir, const char *ref, char **ret_bundle,
		       struct cm_error *err)
{
	char **all = NULL;
	size_t n = 0;
	int r = run_container_list(dir, &all, &n, err);
	if (r < 0)
		return r;
	char *found = NULL;
	int matches = 0;
	size_t rl = strlen(ref);
	for (size_t i = 0; i < n; i++) {
		const char *id = strrchr(all[i], '/') + 1;
		_cleanup_run_config_ struct run_config *c = NULL;
		bool by_name = run_config_read(all[i], &c, NULL) == 0 && cm_streq(c->name, ref);
		if (by_name || strcmp(id, ref) == 0) {
			found = all[i];
			matches = 1;
			break;
		}
		if (rl > 0 && rl < RUN_ID_LEN && strncmp(id, ref, rl) == 0) {
			found = all[i];
			matches++;
		}
	}
	if (matches == 1)
		*ret_bundle = strdup(found);
	for (size_t i = 0; i < n; i++)
		free(all[i]);
	free(all);
	if (matches == 0)
		return cm_error_set(err, -ENOENT, "No such container: %s", ref);
	if (matches > 1)
		return cm_error_set(err, -ENOTUNIQ, "multiple containers match '%s'", ref);
	return *ret_bundle ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ create */

int run_container_create(const char *dir, struct run_config *c, const char *ufsmount,
			 struct cm_error *err)
{
	int r;
	if (!c->id[0]) {
		uint8_t b[32];
		if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
			return cm_error_setx(err, cm_neg_errno(), "getrandom");
		for (size_t i = 0; i < sizeof(b); i++)
			sprintf(c->id + 2 * i, "%02x", b[i]);
	}
	if ((r = run_mkdir_p(dir, 0700)) < 0)
		return cm_error_setx(err, r, "creating %s", dir);
	free(c->bundle);
	if (asprintf(&c->bundle, "%s/%s", dir, c->id) < 0)
		return -ENOMEM;
	if (mkdir(c->bundle, 0700) < 0)
		return cm_error_setx(err, cm_neg_errno(), "creating %s", c->bundle);
	char rw[4096], init[4096], mnt[4096];
	path_in(c->bundle, "rw", rw, sizeof(rw));
	path_in(c->bundle, "init", init, sizeof(init));
	path_in(c->bundle, "rootfs", mnt, sizeof(mnt));
	if (c->layers && c->layers[0]) {
		if (mkdir(rw, 0755) < 0 || mkdir(init, 0755) < 0 || mkdir(mnt, 0755) < 0)
			return cm_error_setx(err, cm_neg_errno(), "creating the branches of %s", c->bundle);
		if ((r = run_rootfs_init_layer(init, c->hostname ? c->hostname : c->id, err)) < 0)
			return r;
		free(c->rootfs);
		if (!(c->rootfs = strdup(mnt)))
			return -ENOMEM;
	}
	if (!c->created)
		c->created = (int64_t)time(NULL);
	if (!c->cgroup_root && !(c->cgroup_root = strdup(run_cgroup_default_root())))
		return -ENOMEM;
	if ((r = run_config_write(c, err)) < 0)
		return r;
	(void)ufsmount;
	return 0;
}

static int ensure_mounted(const struct run_config *c, const char *ufsmount, struct cm_error *err)
{
	if (!c->layers || !c->layers[0])
		return 0;
	if (run_rootfs_is_mounted(c->rootfs)) {
		/* a mount whose daemon died (all of it ENOTCONN) goes, and a new
		 * one comes; asked of the daemon's socket, not of the mount,
		 * which a stalled daemon would not answer (only without one) */
		struct stat st;
		int dead = cm_ufsctl_mount_dead(c->rootfs);
		if (dead == 0 || (dead < 0 && stat(c->rootfs, &st) == 0))
			return 0;
		int r = run_rootfs_umount(c->rootfs, err);
		if (r < 0)
			return r;
	}
	char rw[4096], init[4096];
	path_in(c->bundle, "rw", rw, sizeof(rw));
	path_in(c->bundle, "init", init, sizeof(init));
	return run_rootfs_mount(ufsmount, rw, init, c->layers, c->rootfs, err);
}

/* ------------------------------------------------------------ start */

struct run_msg {
	int type;      /* RUN_MSG_* */
	int code;
	int pid;
	int monitor;
	char text[480];
};

static ssize_t msg_recv(int fd, struct run_msg *m, int *ret_fd)
{
	int got = -1;
	size_t k;
	ssize_t n = run_recv_with_fds(fd, m, sizeof(*m), &got, 1, &k);
	if (ret_fd)
		*ret_fd = k ? got : -1;
	else if (k)
		close(got);
	return n;
}

int run_monitor_send(int fd, int type, int code, pid_t pid, const char *text, int pass_fd)
{
	struct run_msg m = { .type = type, .code = code, .pid = pid, .monitor = getpid() };
	snprintf(m.text, sizeof(m.text), "%s", text ? text : "");
	ssize_t n = run_send_with_fd(fd, &m, sizeof(m), pass_fd);
	return n < 0 ? (int)n : 0;
}

int run_container_start(const char *monitor_exe, const char *ufsmount, const char *bundle,
			bool attach, struct run_started *ret, struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	struct run_state st;
	int r;
	ret->sync = ret->ptm = -1;
	ret->fail_code = RUN_EXIT_IMG;
	if ((r = run_config_read(bundle, &c, err)) < 0 || (r = run_state_refresh(bundle, &st, err)) < 0)
		return r;
	if (st.status == RUN_RUNNING || run_container_starting(bundle, &st))
		return cm_error_set(err, -EBUSY, "container %.12s is already running", c->id);
	if ((r = ensure_mounted(c, ufsmount, err)) < 0)
		return r;
	/* the monitor and pid 1 (its clone) run from a sealed copy */
	_cleanup_close_ int exe = run_sealed_copy(monitor_exe, err);
	if (exe < 0)
		return exe;
	/* a new start: restarts allowed again (before the monitor exists, so
	 * an img stop that sees it alive leaves a mark that stays) */
	char mark[4096];
	if (path_in(bundle, "stopped", mark, sizeof(mark)) == 0)
		(void)unlink(mark);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return cm_error_setx(err, cm_neg_errno(), "socketpair");
	pid_t pid = fork();
	if (pid < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "fork");
		close(sp[0]);
		close(sp[1]);
		return r;
	}
	if (pid == 0) {
		if (dup2(sp[1], 3) < 0)
			_exit(RUN_EXIT_IMG);
		if (!attach) {
			int null = open("/dev/null", O_RDWR);
			if (null >= 0) {
				dup2(null, 0);
				dup2(null, 1);
				dup2(null, 2);
			}
		}
		char *const args[] = { "img-monitor", (char *)bundle, "3", attach ? "attach" : "detach", NULL };
		(void)run_exec_fd(exe, args);
		_exit(RUN_EXIT_IMG);
	}
	close(sp[1]);
	cm_close(&exe);
	struct run_msg m;
	int fd = -1;
	ssize_t n = msg_recv(sp[0], &m, &fd);
	if (n != (ssize_t)sizeof(m) || m.type != RUN_MSG_STARTED) {
		if (fd >= 0)
			close(fd);
		close(sp[0]);
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (n == (ssize_t)sizeof(m) && m.type == RUN_MSG_FAILED) {
			ret->fail_code = m.code;
			return cm_error_set(err, -EIO, "%s", m.text);
		}
		return cm_error_set(err, -EIO, "the monitor %s failed to start the container", monitor_exe);
	}
	ret->sync = sp[0];
	ret->ptm = fd;
	ret->pid = m.pid;
	ret->monitor = pid;
	return 0;
}

int run_wait_sync(int sync_fd, int *ret_code, struct cm_error *err)
{
	struct run_msg m;
	ssize_t n = msg_recv(sync_fd, &m, NULL);
	if (n == (ssize_t)sizeof(m) && m.type == RUN_MSG_EXITED) {
		*ret_code = m.code;
		return 0;
	}
	if (n == (ssize_t)sizeof(m) && m.type == RUN_MSG_DETACHED) {
		*ret_code = 0;
		return 1; /* the detach keys: the container runs on */
	}
	return cm_error_set(err, -EPIPE, "the monitor went away before the container exited");
}

int run_container_attach(const char *bundle, bool with_stdin, const char *detach_keys,
			 struct run_started *ret, struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	struct run_state st;
	struct run_attach_req q = { .with_stdin = with_stdin };
	int r;
	ret->sync = ret->ptm = -1;
	ret->monitor = 0;
	ret->fail_code = RUN_EXIT_IMG;
	if (detach_keys) {
		char k[16];
		size_t nk;
		if ((r = run_parse_detach_keys(detach_keys, k, &nk, err)) < 0)
			return r;
		if (strlen(detach_keys) >= sizeof(q.detach_keys))
			return cm_error_set(err, -EINVAL, "Invalid detach keys (%s) provided: too long", detach_keys);
		memcpy(q.detach_keys, detach_keys, strlen(detach_keys) + 1);
	}
	if ((r = run_config_read(bundle, &c, err)) < 0 || (r = run_state_refresh(bundle, &st, err)) < 0)
		return r;
	if (st.status != RUN_RUNNING)
		return cm_error_set(err, -ESRCH, "You cannot attach to a stopped container, start it first");
	if (run_container_paused(bundle))
		return cm_error_set(err, -EBUSY, "You cannot attach to a paused container, unpause it first");
	/* the bundle's path may not fit sun_path: reached through its fd */
	_cleanup_close_ int dir = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s", bundle);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" RUN_ATTACH_SOCK, dir);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return cm_error_setx(err, cm_neg_errno(), "socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cm_error_setx(err, cm_neg_errno(),
				     "container %.12s: connecting to its monitor's %s", c->id, RUN_ATTACH_SOCK);
	static const int fds[3] = { 0, 1, 2 };
	ssize_t n = run_send_with_fds(s, &q, sizeof(q), with_stdin ? fds : fds + 1, with_stdin ? 3 : 2);
	if (n < 0)
		return cm_error_setx(err, (int)n, "container %.12s: attaching", c->id);
	struct run_msg m;
	int ptm = -1;
	n = msg_recv(s, &m, &ptm);
	if (n == (ssize_t)sizeof(m) && m.type == RUN_MSG_STARTED) {
		ret->sync = TAKE_FD(s);
		ret->ptm = ptm;
		ret->pid = m.pid;
		return 0;
	}
	if (ptm >= 0)
		close(ptm);
	if (n == (ssize_t)sizeof(m) && m.type == RUN_MSG_FAILED)
		return cm_error_set(err, -EBUSY, "%s", m.text);
	return cm_error_set(err, -EIO, "container %.12s: its monitor did not answer the attach (it exited?)",
			    c->id);
}

/* ------------------------------------------------------------ wait, kill, stop */

int run_container_wait(const char *bundle, int *ret_code, struct cm_error *err)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	for (;;) {
		struct run_state st;
		int r = run_state_refresh(bundle, &st, err);
		if (r < 0)
			return r;
		if (st.status != RUN_RUNNING) {
			*ret_code = st.exit_code;
			return 0;
		}
		nanosleep(&ts, NULL);
	}
}

/* The config, fresh state and cgroup of a container that must be running. */
static int open_running(const char *bundle, struct run_config **c, struct run_state *st,
			struct run_cgroup **cg, struct cm_error *err)
{
	int r;
	if ((r = run_config_read(bundle, c, err)) < 0 || (r = run_state_refresh(bundle, st, err)) < 0)
		return r;
	if (st->status != RUN_RUNNING)
		return cm_error_set(err, -ESRCH, "container %.12s is not running", (*c)->id);
	return run_cgroup_for(*c, cg, err);
}

/* The user stopped it: its monitor will not restart it (--restart). */
static void mark_stopped(const char *bundle)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/stopped", bundle);
	int fd = open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

int run_container_kill(const char *bundle, int sig, struct cm_error *err)
{
	struct run_state st;
	_cleanup_run_config_ struct run_config *c = NULL;
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	int r;
	if ((r = open_running(bundle, &c, &st, &cg, err)) < 0)
		return r;
	if (sig == SIGKILL || sig == SIGTERM)
		mark_stopped(bundle);
	if (sig == SIGKILL) /* every process, frozen first: no fork escapes */
		return run_cgroup_signal(cg, SIGKILL, true, err);
	if (kill(st.pid, sig) < 0)
		return cm_error_setx(err, cm_neg_errno(), "kill %d", (int)st.pid);
	/* a paused container gets the signal when thawed (stop: at once) */
	if (run_cgroup_frozen(cg) == 1)
		(void)run_cgroup_freeze(cg, false);
	return 0;
}

int run_container_update(const char *bundle, const struct run_limits *set, struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	struct run_state st;
	int r;
	if ((r = run_config_read(bundle, &c, err)) < 0 || (r = run_state_refresh(bundle, &st, err)) < 0)
		return r;
	struct run_limits l = c->lim;
	if (set->memory) {
		l.memory = set->memory;
		l.memory_swap = set->memory_swap; /* 0: twice the memory, as at run */
	} else if (set->memory_swap) {
		if (!l.memory)
			return cm_error_set(err, -EINVAL,
					    "you should always set the memory limit when using a memory-swap limit");
		l.memory_swap = set->memory_swap;
	}
	if (l.memory && l.memory_swap > 0 && l.memory_swap < l.memory)
		return cm_error_set(err, -EINVAL, "Minimum memoryswap limit should be larger than memory limit");
	if (set->cpu_quota) {
		l.cpu_quota = set->cpu_quota;
		l.cpu_period = set->cpu_period;
	}
	if (set->cpu_shares)
		l.cpu_shares = set->cpu_shares;
	if (set->pids)
		l.pids = set->pids;
	if (st.status == RUN_RUNNING) {
		_cleanup_cgroup_ struct run_cgroup *cg = NULL;
		if ((r = run_cgroup_for(c, &cg, err)) < 0 || (r = run_cgroup_update(cg, &l, err)) < 0)
			return r;
	}
	c->lim = l;
	return run_config_write(c, err);
}

int run_container_pause(const char *bundle, bool pause, struct cm_error *err)
{
	struct run_state st;
	_cleanup_run_config_ struct run_config *c = NULL;
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	int r;
	if ((r = open_running(bundle, &c, &st, &cg, err)) < 0)
		return r;
	if ((r = run_cgroup_frozen(cg)) < 0)
		return cm_error_setx(err, r, "the freezer of container %.12s", c->id);
	if (pause && r == 1)
		return cm_error_set(err, -EALREADY, "container %.12s is already paused", c->id);
	if (!pause && r == 0)
		return cm_error_set(err, -EINVAL, "container %.12s is not paused", c->id);
	if ((r = run_cgroup_freeze(cg, pause)) < 0)
		return cm_error_setx(err, r, "%s container %.12s", pause ? "freezing" : "thawing", c->id);
	return 0;
}

/* /proc/PID/net/dev: bytes received and sent on every interface but lo */
static void net_bytes(pid_t pid, int64_t *rx, int64_t *tx)
{
	char p[64];
	_cleanup_free_ char *s = NULL;
	snprintf(p, sizeof(p), "/proc/%d/net/dev", (int)pid);
	if (run_read_file_at(AT_FDCWD, p, 1 << 16, &s, NULL) < 0)
		return;
	*rx = *tx = 0;
	for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *colon = strchr(l, ':'), *eol = strchr(l, '\n');
		if (!colon || (eol && colon > eol))
			continue; /* the two header lines */
		char name[32];
		long long r, t;
		if (sscanf(l, " %31[^:]: %lld %*s %*s %*s %*s %*s %*s %*s %lld", name, &r, &t) == 3 &&
		    strcmp(name, "lo") != 0) {
			*rx += r;
			*tx += t;
		}
	}
}

int run_container_stats(const char *bundle, struct run_stats *ret, struct cm_error *err)
{
	struct run_state st;
	_cleanup_run_config_ struct run_config *c = NULL;
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	int r;
	*ret = (struct run_stats){ -1, -1, -1, -1, -1, -1, -1, -1 };
	if ((r = open_running(bundle, &c, &st, &cg, err)) < 0)
		return r;
	cg->ops->stats(cg, ret);
	if (ret->mem_limit < 0 || ret->mem_limit > ((int64_t)1 << 60))
		ret->mem_limit = run_host_memory(); /* docker shows the host's */
	net_bytes(st.pid, &ret->net_rx, &ret->net_tx);
	return 0;
}

static bool config_paused(const struct run_config *c)
{
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	return run_cgroup_for(c, &cg, NULL) == 0 && run_cgroup_frozen(cg) == 1;
}

bool run_container_paused(const char *bundle)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	return run_config_read(bundle, &c, NULL) == 0 && config_paused(c);
}

/* Wait up to ms for the container to be neither running nor starting.
 * cg: while it starts (pid 1 not yet exec'd: it cannot be asked to stop,
 * and may enter its group any moment), SIGKILL to the group each round.
 * By the clock: a round's kill can take seconds (the freezer waits for a
 * task in an uninterruptible wait). */
static bool wait_exit(const char *bundle, int64_t ms, struct run_cgroup *cg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 }, now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t end = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + ms;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 > end)
			break;
		struct run_state st;
		if (run_state_refresh(bundle, &st, NULL) < 0)
			return true;
		bool starting = run_container_starting(bundle, &st);
		if (st.status != RUN_RUNNING && st.status != RUN_RESTARTING && !starting)
			return true;
		if (cg && (starting || st.status == RUN_RUNNING))
			(void)run_cgroup_signal(cg, SIGKILL, true, NULL);
		nanosleep(&ts, NULL);
	}
	return false;
}

bool run_container_starting(const char *bundle, const struct run_state *st)
{
	return st->status == RUN_CREATED && monitor_alive(bundle);
}

/* A stop that timed out: the container's processes may wait on its union's
 * daemon (stopped, hung), which over FUSE over io_uring no signal ends; its
 * connection is aborted (the union is gone with the container anyway).
 * Waited for again either way: a monitor whose pid 1 is gone may itself be
 * in its unmount's wait for that daemon (10 s, then its own abort), with
 * the union already detached and nothing left here to abort. */
static bool abort_rootfs_and_wait(const char *bundle, const struct run_config *c, struct run_cgroup *cg)
{
	if (c && c->rootfs)
		(void)run_rootfs_abort(c->rootfs);
	return wait_exit(bundle, 15000, cg);
}

/* img stop of a starting container: nothing runs of the image yet, no
 * SIGTERM to ask with; the mark tells the monitor (no restart, and it
 * kills what it starts), the group is killed until the monitor is done. */
static int stop_starting(const char *bundle, struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	int r;
	mark_stopped(bundle);
	if ((r = run_config_read(bundle, &c, err)) < 0 || (r = run_cgroup_for(c, &cg, err)) < 0)
		return r;
	if (!wait_exit(bundle, 10000, cg) && !abort_rootfs_and_wait(bundle, c, cg))
		return cm_error_set(err, -ETIMEDOUT, "the container did not stop");
	return 0;
}

int run_container_stop(const char *bundle, int timeout, struct cm_error *err)
{
	struct run_state st;
	int r = run_state_refresh(bundle, &st, err);
	if (r < 0)
		return r;
	if (st.status == RUN_RESTARTING) {
		/* between two lives: the mark ends its monitor's wait */
		mark_stopped(bundle);
		return wait_exit(bundle, 10000, NULL) ? 0 : cm_error_set(err, -ETIMEDOUT, "the container did not stop");
	}
	if (run_container_starting(bundle, &st))
		return stop_starting(bundle, err);
	if (st.status != RUN_RUNNING)
		return r;
	_cleanup_run_config_ struct run_config *c = NULL;
	int sig = SIGTERM;
	if (run_config_read(bundle, &c, NULL) == 0) {
		if (c->stop_signal > 0)
			sig = c->stop_signal;
		if (timeout < 0)
			timeout = c->stop_timeout;
	}
	if (timeout < 0)
		timeout = 10; /* docker's default */
	if (timeout > 0) {
		(void)run_container_kill(bundle, sig, NULL);
		if (wait_exit(bundle, (int64_t)timeout * 1000, NULL))
			return 0;
	}
	if ((r = run_container_kill(bundle, SIGKILL, err)) < 0 && r != -ESRCH)
		return r;
	if (!wait_exit(bundle, 10000, NULL) && !abort_rootfs_and_wait(bundle, c, NULL))
		return cm_error_set(err, -ETIMEDOUT, "the container did not stop");
	return 0;
}

int run_container_remove(const char *bundle, bool force, struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	struct run_state st;
	int r;
	if ((r = run_config_read(bundle, &c, err)) < 0 || (r = run_state_refresh(bundle, &st, err)) < 0)
		return r;
	bool starting = run_container_starting(bundle, &st);
	if (st.status == RUN_RUNNING || st.status == RUN_RESTARTING || starting) {
		if (!force)
			return cm_error_set(err, -EBUSY,
					    "cannot remove container %.12s: container is %s: stop the container before removing or force remove",
					    c->id, starting ? "starting" : run_status_name(st.status));
		if ((r = run_container_stop(bundle, 0, err)) < 0)
			return r;
	}
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	if ((r = run_cgroup_for(c, &cg, err)) < 0 || (r = run_cgroup_destroy(cg, err)) < 0)
		return r;
	if ((r = run_rootfs_umount(c->rootfs, err)) < 0)
		return r;
	if (c->network == RUN_NET_BRIDGE && (r = run_net_release(c->id, err)) < 0)
		return r;
	_cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s", bundle);
	if (c->layers && c->layers[0]) { /* our own bundle: all of it */
		static const char *const dirs[] = { "rw", "init", "rootfs" };
		for (size_t i = 0; i < CM_ARRAY_SIZE(dirs); i++)
			if ((r = cm_rm_rf_at(dfd, dirs[i])) < 0)
				return cm_error_setx(err, r, "removing %s/%s", bundle, dirs[i]);
	}
	/* the runner's names in the store's run dir (docs/store.md) */
	static const char *const names[] = { "ctr.log", "state.json", "status", "monitor.lock", "runner.json",
					     "config.json" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(names); i++)
		if (unlinkat(dfd, names[i], 0) < 0 && errno != ENOENT)
			return cm_error_setx(err, cm_neg_errno(), "removing %s/%s", bundle, names[i]);
	if (c->layers && c->layers[0])
		(void)unlinkat(AT_FDCWD, bundle, AT_REMOVEDIR);
	return 0;
}

/* ------------------------------------------------------------ exec, top, inspect */

int run_container_exec(const char *bundle, const struct run_exec *x, int *ret_code,
		       struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	struct run_state st;
	int r;
	if ((r = run_config_read(bundle, &c, err)) < 0 || (r = run_state_refresh(bundle, &st, err)) < 0)
		return r;
	if (st.status != RUN_RUNNING)
		return cm_error_set(err, -ESRCH, "container %.12s is not running", c->id);
	if (config_paused(c))
		return cm_error_set(err, -EAGAIN, "container %.12s is paused, unpause the container before exec", c->id);
	*ret_code = RUN_EXIT_IMG;
	return run_linux_exec(c, &st, x, ret_code, err);
}

int run_container_pids(const char *bundle, pid_t **ret, size_t *ret_n, struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	int r;
	if ((r = run_config_read(bundle, &c, err)) < 0 || (r = run_cgroup_for(c, &cg, err)) < 0)
		return r;
	r = run_cgroup_tree_procs(cg, ret, ret_n);
	if (r == -ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	return r < 0 ? cm_error_setx(err, r, "listing the processes") : 0;
}

int run_container_inspect(const char *bundle, struct cm_jw *w, struct cm_error *err)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	struct run_state st;
	int r;
	if ((r = run_config_read(bundle, &c, err)) < 0 || (r = run_state_refresh(bundle, &st, err)) < 0)
		return r;
	char t[64], p[128];
	cm_jw_obj(w);
	cm_jw_kstr(w, "Id", c->id);
	time_t ct = (time_t)c->created;
	struct tm tm;
	gmtime_r(&ct, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cm_jw_kstr(w, "Created", t);
	cm_jw_key(w, "Path");
	cm_jw_str(w, c->argv[0]);
	cm_jw_key(w, "Args");
	cm_jw_arr(w);
	for (char **a = c->argv + 1; *a; a++)
		cm_jw_str(w, *a);
	cm_jw_arr_end(w);
	cm_jw_key(w, "State");
	cm_jw_obj(w);
	bool paused = st.status == RUN_RUNNING && config_paused(c);
	cm_jw_kstr(w, "Status", paused ? "paused" : run_status_name(st.status));
	cm_jw_key(w, "Running");
	cm_jw_bool(w, st.status == RUN_RUNNING);
	cm_jw_key(w, "Paused");
	cm_jw_bool(w, paused);
	cm_jw_key(w, "Restarting");
	cm_jw_bool(w, st.status == RUN_RESTARTING);
	cm_jw_key(w, "OOMKilled");
	cm_jw_bool(w, st.oom_killed);
	cm_jw_key(w, "Dead");
	cm_jw_bool(w, false);
	cm_jw_kint(w, "Pid", st.status == RUN_RUNNING ? st.pid : 0);
	cm_jw_kint(w, "ExitCode", st.exit_code);
	cm_jw_kstr(w, "Error", st.error);
	run_time_fmt_ns(st.started_ns, t, sizeof(t));
	cm_jw_kstr(w, "StartedAt", t);
	run_time_fmt_ns(st.finished_ns, t, sizeof(t));
	cm_jw_kstr(w, "FinishedAt", t);
	cm_jw_kint(w, "MonitorPid", st.status == RUN_RUNNING ? st.monitor : 0);
	if (run_health_enabled(c)) { /* docker's State.Health, as the monitor keeps it */
		_cleanup_free_ char *hj = NULL;
		_cleanup_json_ struct cm_json *h = NULL;
		size_t hl;
		cm_jw_key(w, "Health");
		if (run_health_read(bundle, &hj, &hl) == 0) {
			if (cm_json_parse(hj, hl, &h, NULL, 0) == 0)
				cm_jw_value(w, h);
			else
				cm_jw_null(w);
		} else {
			cm_jw_obj(w);
			cm_jw_kstr(w, "Status", "starting");
			cm_jw_kint(w, "FailingStreak", 0);
			cm_jw_key(w, "Log");
			cm_jw_arr(w);
			cm_jw_arr_end(w);
			cm_jw_obj_end(w);
		}
	}
	cm_jw_obj_end(w);
	cm_jw_kint(w, "RestartCount", st.restart_count);
	cm_jw_kstr(w, "Image", c->image_id ? c->image_id : "");
	char slash_name[300];
	snprintf(slash_name, sizeof(slash_name), "/%s", c->name ? c->name : "");
	cm_jw_kstr(w, "Name", slash_name); /* docker's leading slash */
	cm_jw_kstr(w, "Rootfs", c->rootfs);
	cm_jw_key(w, "Namespaces");
	cm_jw_obj(w);
	static const char *const ns[] = { "mnt", "uts", "ipc", "pid", "net", "user", "cgroup" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(ns); i++) {
		if (st.status == RUN_RUNNING)
			snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)st.pid, ns[i]);
		else
			p[0] = '\0';
		cm_jw_kstr(w, ns[i], p);
	}
	cm_jw_obj_end(w);
	cm_jw_key(w, "HostConfig");
	cm_jw_obj(w);
	cm_jw_kint(w, "Memory", c->lim.memory);
	/* docker's: unset with -m means twice the memory */
	cm_jw_kint(w, "MemorySwap", c->lim.memory_swap == 0 && c->lim.memory > 0 ?
					    2 * c->lim.memory : c->lim.memory_swap);
	cm_jw_kint(w, "CpuQuota", c->lim.cpu_quota);
	cm_jw_kint(w, "CpuPeriod", c->lim.cpu_period);
	cm_jw_kint(w, "CpuShares", c->lim.cpu_shares);
	cm_jw_kint(w, "NanoCpus", c->lim.cpu_period ? c->lim.cpu_quota * 1000000000 / c->lim.cpu_period : 0);
	cm_jw_kint(w, "PidsLimit", c->lim.pids);
	cm_jw_kint(w, "MemoryReservation", c->lim.memory_reservation);
	cm_jw_kint(w, "BlkioWeight", c->lim.blkio_weight);
	cm_jw_key(w, "OomKillDisable");
	cm_jw_bool(w, c->lim.oom_kill_disable);
	cm_jw_kstr(w, "CpusetCpus", c->lim.cpuset_cpus);
	cm_jw_key(w, "Init");
	cm_jw_bool(w, c->init);
	cm_jw_key(w, "LogConfig");
	cm_jw_obj(w);
	cm_jw_kstr(w, "Type", c->log_driver ? c->log_driver : "json-file");
	cm_jw_key(w, "Config");
	cm_jw_obj(w);
	char lv[32]; /* docker's: strings */
	if (c->log_max_size > 0) {
		snprintf(lv, sizeof(lv), "%lld", (long long)c->log_max_size);
		cm_jw_kstr(w, "max-size", lv);
	}
	if (c->log_max_file > 0) {
		snprintf(lv, sizeof(lv), "%d", c->log_max_file);
		cm_jw_kstr(w, "max-file", lv);
	}
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	cm_jw_kstr(w, "ContainerIDFile", c->cidfile ? c->cidfile : "");
	cm_jw_key(w, "GroupAdd"); /* docker's: null when none */
	if (c->group_add && c->group_add[0]) {
		cm_jw_arr(w);
		for (char **g = c->group_add; *g; g++)
			cm_jw_str(w, *g);
		cm_jw_arr_end(w);
	} else {
		cm_jw_null(w);
	}
	cm_jw_key(w, "Sysctls");
	cm_jw_obj(w);
	for (char **sc = c->sysctls; sc && *sc; sc++) {
		const char *eq = strchr(*sc, '=');
		char k[256];
		snprintf(k, sizeof(k), "%.*s", (int)(eq - *sc), *sc);
		cm_jw_kstr(w, k, eq + 1);
	}
	cm_jw_obj_end(w);
	cm_jw_key(w, "ReadonlyRootfs");
	cm_jw_bool(w, c->read_only);
	cm_jw_key(w, "AutoRemove");
	cm_jw_bool(w, c->autoremove);
	cm_jw_key(w, "RestartPolicy");
	cm_jw_obj(w);
	cm_jw_kstr(w, "Name", run_restart_name(c->restart));
	cm_jw_kint(w, "MaximumRetryCount", c->restart_max);
	cm_jw_obj_end(w);
	cm_jw_kint(w, "ShmSize", c->shm_size > 0 ? c->shm_size : 64 << 20);
	cm_jw_key(w, "Tmpfs");
	cm_jw_obj(w);
	for (char **tf = c->tmpfs; tf && *tf; tf++) {
		const char *colon = strchr(*tf, ':');
		char k[256];
		snprintf(k, sizeof(k), "%.*s", colon ? (int)(colon - *tf) : (int)strlen(*tf), *tf);
		cm_jw_kstr(w, k, colon ? colon + 1 : "");
	}
	cm_jw_obj_end(w);
	cm_jw_key(w, "Ulimits");
	run_ulimits_json(c, w);
	cm_jw_key(w, "Devices");
	run_devices_json(c, w);
	for (int k = 0; k < 2; k++) { /* docker's CapAdd, CapDrop: CAP_ names, or ALL */
		uint64_t m = k ? c->cap_drop : c->cap_add;
		cm_jw_key(w, k ? "CapDrop" : "CapAdd");
		cm_jw_arr(w);
		if (m == RUN_CAP_ALL)
			cm_jw_str(w, "ALL");
		for (int cap = 0; m != RUN_CAP_ALL && cap < 41; cap++)
			if ((m >> cap) & 1) {
				char n[40];
				snprintf(n, sizeof(n), "CAP_%s", run_cap_name(cap));
				cm_jw_str(w, n);
			}
		cm_jw_arr_end(w);
	}
	cm_jw_key(w, "Privileged");
	cm_jw_bool(w, c->privileged);
	cm_jw_key(w, "SecurityOpt"); /* docker's: null when none was given */
	if (c->security_opt && c->security_opt[0]) {
		cm_jw_arr(w);
		for (char **o = c->security_opt; *o; o++)
			cm_jw_str(w, *o);
		cm_jw_arr_end(w);
	} else {
		cm_jw_null(w);
	}
	if (c->network == RUN_NET_CONTAINER) {
		char nm[128];
		snprintf(nm, sizeof(nm), "container:%s", c->net_container ? c->net_container : "");
		cm_jw_kstr(w, "NetworkMode", nm);
	} else {
		char nb[64];
		cm_jw_kstr(w, "NetworkMode", c->network == RUN_NET_BRIDGE ? run_config_net_primary(c, nb)
									     : run_network_name(c->network));
	}
	cm_jw_kstr(w, "PidMode", c->host_pid ? "host" : "");
	cm_jw_kstr(w, "UTSMode", c->host_uts ? "host" : "");
	cm_jw_key(w, "PortBindings");
	run_ports_json(c, w);
	cm_jw_kstr(w, "UsernsMode", c->userns ? "private" : "");
	cm_jw_key(w, "Binds");
	cm_jw_arr(w);
	for (size_t i = 0; i < c->n_vols; i++) {
		char b[8192];
		if (c->vols[i].mount || (c->vols[i].volume && c->vols[i].anon))
			continue; /* docker: --mount ones and anonymous ones are not Binds */
		snprintf(b, sizeof(b), "%s:%s%s", c->vols[i].volume && c->vols[i].name ? c->vols[i].name : c->vols[i].host,
			 c->vols[i].ctr, c->vols[i].ro ? ":ro" : "");
		cm_jw_str(w, b);
	}
	cm_jw_arr_end(w);
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	if (run_cgroup_for(c, &cg, NULL) == 0) {
		cm_jw_key(w, "Cgroups");
		run_cgroup_describe(cg, w);
		cm_jw_kint(w, "CgroupVersion", run_cgroup_version(cg));
		/* --cgroupns, or docker's default where a config predates it */
		cm_jw_kstr(w, "CgroupnsMode", run_cgroupns_private(c) ? "private" : "host");
	}
	cm_jw_obj_end(w);
	cm_jw_key(w, "Mounts"); /* docker's: volumes, binds and tmpfs */
	cm_jw_arr(w);
	for (size_t i = 0; i < c->n_vols; i++) {
		const struct run_volume *v = &c->vols[i];
		cm_jw_obj(w);
		cm_jw_kstr(w, "Type", v->volume ? "volume" : "bind");
		if (v->volume)
			cm_jw_kstr(w, "Name", v->name ? v->name : "");
		cm_jw_kstr(w, "Source", v->host ? v->host : "");
		cm_jw_kstr(w, "Destination", v->ctr);
		if (v->volume)
			cm_jw_kstr(w, "Driver", "local");
		cm_jw_kstr(w, "Mode", v->volume ? "z" : v->ro ? "ro" : "");
		cm_jw_key(w, "RW");
		cm_jw_bool(w, !v->ro);
		cm_jw_kstr(w, "Propagation", v->volume ? "" : "rprivate");
		cm_jw_obj_end(w);
	}
	for (char **tf = c->tmpfs; tf && *tf; tf++) {
		const char *colon = strchr(*tf, ':');
		char k[256];
		snprintf(k, sizeof(k), "%.*s", colon ? (int)(colon - *tf) : (int)strlen(*tf), *tf);
		cm_jw_obj(w);
		cm_jw_kstr(w, "Type", "tmpfs");
		cm_jw_kstr(w, "Source", "");
		cm_jw_kstr(w, "Destination", k);
		cm_jw_kstr(w, "Mode", colon ? colon + 1 : "");
		cm_jw_key(w, "RW");
		cm_jw_bool(w, !(colon && strstr(colon, "ro")));
		cm_jw_kstr(w, "Propagation", "");
		cm_jw_obj_end(w);
	}
	cm_jw_arr_end(w);
	cm_jw_key(w, "Config");
	cm_jw_obj(w);
	cm_jw_kstr(w, "Hostname", c->hostname ? c->hostname : "");
	cm_jw_kstr(w, "User", c->user ? c->user : "");
	cm_jw_key(w, "Tty");
	cm_jw_bool(w, c->tty);
	cm_jw_key(w, "OpenStdin");
	cm_jw_bool(w, c->interactive);
	cm_jw_key(w, "Env");
	cm_jw_arr(w);
	for (char **e = c->env; e && *e; e++)
		cm_jw_str(w, *e);
	cm_jw_arr_end(w);
	cm_jw_key(w, "Cmd");
	cm_jw_arr(w);
	for (char **a = c->argv; *a; a++)
		cm_jw_str(w, *a);
	cm_jw_arr_end(w);
	cm_jw_kstr(w, "WorkingDir", c->cwd ? c->cwd : "/");
	cm_jw_kstr(w, "Image", c->image ? c->image : "");
	if (c->health.test) {
		cm_jw_key(w, "Healthcheck");
		run_health_json(&c->health, w);
	}
	if (c->stop_signal > 0) {
		char sn[32];
		run_signal_name(c->stop_signal, sn, sizeof(sn));
		cm_jw_kstr(w, "StopSignal", sn);
	}
	if (c->stop_timeout >= 0)
		cm_jw_kint(w, "StopTimeout", c->stop_timeout);
	cm_jw_key(w, "Labels");
	cm_jw_obj(w);
	for (char **l = c->labels; l && *l; l++) {
		const char *eq = strchr(*l, '=');
		char k[256];
		snprintf(k, sizeof(k), "%.*s", eq ? (int)(eq - *l) : (int)strlen(*l), *l);
		cm_jw_kstr(w, k, eq ? eq + 1 : "");
	}
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	cm_jw_key(w, "NetworkSettings");
	run_net_inspect(c, &st, w);
	cm_jw_key(w, "GraphDriver");
	cm_jw_obj(w);
	cm_jw_kstr(w, "Name", "ufsmount");
	cm_jw_key(w, "Data");
	cm_jw_obj(w);
	cm_jw_kstr(w, "MergedDir", c->rootfs);
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	return w->err;
}
