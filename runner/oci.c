// SPDX-License-Identifier: MIT
/* img-runtime's containers (runc's model): ROOT/ID holds a copy of the
 * bundle's config.json, state.json (pid, its start time, bundle, created)
 * and, between create and start, exec.fifo, on which pid 1 waits right
 * before exec. No monitor: pid 1 is the creator's child and, once the
 * creator exits, the engine's (its shim or conmon is a subreaper). */
#include "run-internal.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* runc's words for memory.kernel / kernelTCP, which it ignores too */
#define KMEM_WARNING "Kernel memory settings are ignored and will be removed"

#define SPEC_MAX (4 << 20)

static bool id_ok(const char *id)
{
	if (!id || !*id || strlen(id) > RUN_ID_LEN || cm_streq(id, ".") || cm_streq(id, ".."))
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.' || *p == '+'))
			return false;
	return true;
}

static int state_dir(const char *root, const char *id, char *buf, size_t sz, struct cm_error *err)
{
	if (!id_ok(id))
		return cm_error_set(err, -EINVAL, "invalid container id '%s'", id ? id : "");
	if ((size_t)snprintf(buf, sz, "%s/%s", root, id) >= sz)
		return cm_error_set(err, -ENAMETOOLONG, "state directory too long");
	return 0;
}

/* A container of ROOT: its spec (the copy), its translated config, state. */
struct oci_ctr {
	char dir[4096];
	struct cm_json *spec;
	struct run_config *c;
	pid_t pid;
	uint64_t start;
	char bundle[4096];
	char created[64];
};

static void oci_ctr_done(struct oci_ctr *o)
{
	cm_json_free(o->spec);
	run_config_free(o->c);
}

static int read_json(const char *path, struct cm_json **ret, struct cm_error *err)
{
	_cleanup_free_ char *s = NULL;
	size_t len;
	char eb[128] = "";
	int r = run_read_file_at(AT_FDCWD, path, SPEC_MAX, &s, &len);
	if (r < 0)
		return cm_error_set(err, r, "reading %s: %s", path, strerror(-r));
	if ((r = cm_json_parse(s, len, ret, eb, sizeof(eb))) < 0)
		return cm_error_set(err, r, "%s: %s", path, eb);
	return 0;
}

static int ctr_open(const char *root, const char *id, struct oci_ctr *o, struct cm_error *err)
{
	char p[4200];
	int r;
	memset(o, 0, sizeof(*o));
	if ((r = state_dir(root, id, o->dir, sizeof(o->dir), err)) < 0)
		return r;
	snprintf(p, sizeof(p), "%s/state.json", o->dir);
	if (access(o->dir, F_OK) < 0 || access(p, F_OK) < 0)
		return cm_error_set(err, -ENOENT, "container \"%s\" does not exist", id);
	_cleanup_json_ struct cm_json *st = NULL;
	if ((r = read_json(p, &st, err)) < 0)
		return r;
	int64_t v;
	if (cm_json_get_int(st, "pid", &v))
		o->pid = (pid_t)v;
	if (cm_json_get_int(st, "start", &v))
		o->start = (uint64_t)v;
	snprintf(o->bundle, sizeof(o->bundle), "%s", cm_json_get_str(st, "bundle") ?: "");
	snprintf(o->created, sizeof(o->created), "%s", cm_json_get_str(st, "created") ?: "");
	snprintf(p, sizeof(p), "%s/config.json", o->dir);
	if ((r = read_json(p, &o->spec, err)) < 0 ||
	    (r = run_oci_config(o->spec, o->bundle, id, &o->c, err)) < 0) {
		oci_ctr_done(o);
		return r;
	}
	/* the limits of the last `update`, over the spec's */
	snprintf(p, sizeof(p), "%s/resources.json", o->dir);
	if (access(p, F_OK) == 0) {
		_cleanup_json_ struct cm_json *res = NULL;
		if ((r = read_json(p, &res, err)) < 0 || (r = run_oci_limits(res, &o->c->lim, err)) < 0) {
			oci_ctr_done(o);
			return r;
		}
	}
	return 0;
}

/* pid 1 lives (not a zombie, same start time as recorded). */
static bool pid_alive(pid_t pid, uint64_t start)
{
	char p[64], *s = NULL;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (pid <= 0 || run_read_file_at(AT_FDCWD, p, 4096, &s, NULL) < 0)
		return false;
	const char *q = strrchr(s, ')');
	bool zombie = !q || q[1] != ' ' || q[2] == 'Z' || q[2] == 'X';
	free(s);
	return !zombie && run_pid_starttime(pid) == start;
}

static const char *ctr_status(const struct oci_ctr *o)
{
	char p[4200];
	if (!pid_alive(o->pid, o->start))
		return "stopped";
	snprintf(p, sizeof(p), "%s/exec.fifo", o->dir);
	if (access(p, F_OK) == 0)
		return "created";
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	return run_cgroup_for(o->c, &cg, NULL) == 0 && run_cgroup_frozen(cg) == 1 ? "paused" : "running";
}

static void state_json(const struct oci_ctr *o, const char *id, const char *status, struct cm_jw *w)
{
	cm_jw_obj(w);
	cm_jw_kstr(w, "ociVersion", "1.0.2");
	cm_jw_kstr(w, "id", id);
	cm_jw_kstr(w, "status", status);
	cm_jw_kint(w, "pid", cm_streq(status, "stopped") ? 0 : o->pid);
	cm_jw_kstr(w, "bundle", o->bundle);
	cm_jw_kstr(w, "rootfs", o->c ? o->c->rootfs : "");
	cm_jw_kstr(w, "created", o->created);
	const struct cm_json *an = cm_json_get(o->spec, "annotations");
	cm_jw_key(w, "annotations");
	if (cm_json_is(an, CM_JSON_OBJECT))
		cm_jw_value(w, an);
	else {
		cm_jw_obj(w);
		cm_jw_obj_end(w);
	}
	cm_jw_obj_end(w);
}

int run_oci_state(const char *root, const char *id, struct cm_jw *w, struct cm_error *err)
{
	struct oci_ctr o;
	int r = ctr_open(root, id, &o, err);
	if (r < 0)
		return r;
	state_json(&o, id, ctr_status(&o), w);
	oci_ctr_done(&o);
	return 0;
}

/* ------------------------------------------------------------ hooks */

/* Run hooks (in the runtime's namespaces) with the state on stdin. */
static int run_hooks(const struct oci_ctr *o, const char *id, const char *kind, const char *status,
		     struct cm_error *err)
{
	struct run_hook *h = NULL;
	size_t n = 0;
	int r = run_oci_hooks(o->spec, kind, &h, &n, err);
	if (r < 0 || n == 0)
		return r;
	struct cm_jw w;
	cm_jw_init(&w, 0);
	state_json(o, id, status, &w);
	_cleanup_free_ char *st = NULL;
	size_t st_len = 0;
	if ((r = cm_jw_finish(&w, &st, &st_len)) < 0) {
		run_hooks_free(h, n);
		return cm_error_set(err, r, "out of memory");
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		int in[2];
		if (pipe2(in, O_CLOEXEC) < 0) {
			r = cm_error_set(err, cm_neg_errno(), "%s hook: pipe", kind);
			break;
		}
		pid_t pid = fork();
		if (pid == 0) {
			dup2(in[0], 0);
			char *argv0[] = { h[i].path, NULL }, *env0[] = { NULL };
			execve(h[i].path, h[i].args ? h[i].args : argv0, h[i].env ? h[i].env : env0);
			_exit(127);
		}
		close(in[0]);
		if (pid > 0) {
			/* a hook that does not read its state: not an error */
			signal(SIGPIPE, SIG_IGN);
			(void)cm_write_all(in[1], st, st_len);
		}
		close(in[1]);
		if (pid < 0) {
			r = cm_error_set(err, cm_neg_errno(), "%s hook %s: fork", kind, h[i].path);
			break;
		}
		int ws = 0;
		for (int waited = 0;; waited++) {
			pid_t wp = waitpid(pid, &ws, WNOHANG);
			if (wp == pid || (wp < 0 && errno != EINTR))
				break;
			if (h[i].timeout && waited > h[i].timeout * 100) {
				kill(pid, SIGKILL);
				(void)waitpid(pid, &ws, 0);
				r = cm_error_set(err, -ETIMEDOUT, "%s hook %s: timed out", kind, h[i].path);
				break;
			}
			usleep(10000);
		}
		if (r == 0 && (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0))
			r = cm_error_set(err, -EIO, "%s hook %s failed (status %d)", kind, h[i].path, ws);
	}
	run_hooks_free(h, n);
	return r;
}

/* ------------------------------------------------------------ create */

/* The pty master to the engine's console socket (runc's protocol: one
 * message, the fd as SCM_RIGHTS, the pty's name as data). */
static int send_console(const char *sock, int ptm, struct cm_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(sa.sun_path))
		return cm_error_set(err, -ENAMETOOLONG, "console socket path too long");
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cm_error_set(err, cm_neg_errno(), "connecting to the console socket %s", sock);
	static const char name[] = "/dev/ptmx";
	ssize_t n = run_send_with_fd(fd, name, sizeof(name) - 1, ptm);
	if (n < 0)
		return cm_error_set(err, (int)n, "sending the pty to the console socket");
	return 0;
}

static int write_pid_file(const char *path, pid_t pid, struct cm_error *err)
{
	char buf[32], dir[4096];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	const char *name = path;
	if (slash) {
		*slash = '\0';
		name = slash + 1;
		if (!dir[0])
			memcpy(dir, "/", 2);
	} else {
		memcpy(dir, ".", 2);
	}
	int r = run_write_atomic(dir, name, buf, (size_t)n);
	return r < 0 ? cm_error_set(err, r, "writing the pid file %s: %s", path, strerror(-r)) : 0;
}

static void now_rfc3339(char *buf, size_t sz)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	run_time_fmt_ns((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, buf, sz);
}

/* The messages of pid 1 until it is set up: the pty master (tty), then
 * "R" (blocked on the exec fifo), or its error. */
static int wait_ready(int sp, const char *console, struct cm_error *err)
{
	for (;;) {
		struct run_child_error ce;
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &ce, sizeof(ce) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		int ptm = -1;
		ssize_t n = recvmsg(sp, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n > 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				memcpy(&ptm, CMSG_DATA(cm), sizeof(int));
		if (n == 1 && ptm >= 0) {
			int r = console ? send_console(console, ptm, err) : 0;
			close(ptm);
			if (r < 0)
				return r;
			continue;
		}
		if (n == 1 && ((char *)&ce)[0] == 'R')
			return 0;
		if (n == (ssize_t)sizeof(ce))
			return cm_error_set(err, ce.err ? ce.err : -EINVAL, "%s", ce.msg);
		return cm_error_set(err, -ECHILD, "the container's init exited during its set-up");
	}
}

int run_oci_create(const struct run_oci_create *o, pid_t *ret_pid, struct cm_error *err)
{
	char dir[4096], p[4200], bundle[4096];
	int r;
	if ((r = state_dir(o->root, o->id, dir, sizeof(dir), err)) < 0)
		return r;
	if (!realpath(o->bundle ? o->bundle : ".", bundle))
		return cm_error_set(err, cm_neg_errno(), "bundle %s: %s", o->bundle ? o->bundle : ".",
				    strerror(errno));
	snprintf(p, sizeof(p), "%s/config.json", bundle);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if ((r = run_read_file_at(AT_FDCWD, p, SPEC_MAX, &text, &len)) < 0)
		return cm_error_set(err, r, "reading %s: %s", p, strerror(-r));
	struct oci_ctr c = { 0 };
	char eb[128] = "";
	if ((r = cm_json_parse(text, len, &c.spec, eb, sizeof(eb))) < 0)
		return cm_error_set(err, r, "%s: %s", p, eb);
	if ((r = run_oci_config(c.spec, bundle, o->id, &c.c, err)) < 0) {
		oci_ctr_done(&c);
		return r;
	}
	char unknown[256];
	if (run_oci_unknown_caps(c.spec, unknown, sizeof(unknown)) > 0)
		fprintf(stderr, "img-runtime: warning: ignoring unknown or unavailable capabilities: %s\n", unknown);
	if (run_oci_kmem_set(cm_json_get(cm_json_get(c.spec, "linux"), "resources")))
		fprintf(stderr, "img-runtime: warning: %s\n", KMEM_WARNING);
	if (c.c->tty && !o->console_socket) {
		oci_ctr_done(&c);
		return cm_error_set(err, -EINVAL, "process.terminal is set: --console-socket is required");
	}
	if (!c.c->tty && o->console_socket) {
		oci_ctr_done(&c);
		return cm_error_set(err, -EINVAL, "--console-socket given but process.terminal is not set");
	}
	if ((r = run_mkdir_p(o->root, 0700)) < 0 && r != -EEXIST) {
		oci_ctr_done(&c);
		return cm_error_set(err, r, "creating %s: %s", o->root, strerror(-r));
	}
	if (mkdir(dir, 0700) < 0) {
		r = cm_neg_errno();
		oci_ctr_done(&c);
		if (r == -EEXIST)
			return cm_error_set(err, r, "container with id exists: %s", o->id);
		return cm_error_set(err, r, "creating %s: %s", dir, strerror(-r));
	}
	memcpy(c.dir, dir, sizeof(dir));
	snprintf(c.bundle, sizeof(c.bundle), "%s", bundle);
	now_rfc3339(c.created, sizeof(c.created));
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	pid_t pid = 0;
	int csp[2] = { -1, -1 };
	bool cg_made = false;
	_cleanup_free_ char *stj = NULL;

	if ((r = run_write_atomic(dir, "config.json", text, len)) < 0) {
		r = cm_error_set(err, r, "writing the config copy: %s", strerror(-r));
		goto fail;
	}
	snprintf(p, sizeof(p), "%s/exec.fifo", dir);
	/* 0622 whatever the umask: pid 1 opens it after its uid change */
	if (mkfifo(p, 0622) < 0 || chmod(p, 0622) < 0 || !(c.c->exec_fifo = strdup(p))) {
		r = cm_error_set(err, cm_neg_errno(), "creating the exec fifo");
		goto fail;
	}
	if ((r = run_cgroup_for(c.c, &cg, err)) < 0)
		goto fail;
	c.c->cgroup_v2 = run_cgroup_version(cg) == RUN_CGROUP_V2;
	/* made before a limit may fail (a device the kernel refuses): what
	 * was made goes with the failure */
	cg_made = true;
	if ((r = run_cgroup_create(cg, &c.c->lim, c.c->devices_all, c.c->devices, c.c->n_devices, err)) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, csp) < 0) {
		r = cm_error_set(err, cm_neg_errno(), "socketpair");
		goto fail;
	}
	/* as the monitor does (monitor.c): v1 pid 1 joins by itself, v2 it is
	 * born in the group */
	const int stdio[3] = { 0, 1, 2 };
	bool self_join = run_cgroup_self_join_fast(cg);
	int cgfd = self_join ? -1 : run_cgroup_dir_fd(cg);
	r = run_linux_clone(c.c, stdio, csp[1], self_join ? cg : NULL, cgfd, &pid, err);
	if (r == -ENOSYS || r == -E2BIG || r == -EINVAL) {
		cm_close(&cgfd);
		r = run_linux_clone(c.c, stdio, csp[1], NULL, -1, &pid, err);
	}
	bool born_in = cgfd >= 0;
	cm_close(&cgfd);
	cm_close(&csp[1]);
	if (r < 0)
		goto fail;
	c.pid = pid;
	c.start = run_pid_starttime(pid);
	if (!self_join && !born_in && (r = run_cgroup_enter(cg, pid, err)) < 0)
		goto fail;
	if (c.c->userns && !c.c->ns_path[RUN_NS_USER] && (r = run_linux_userns_map(c.c, pid, err)) < 0)
		goto fail;
	int64_t adj;
	if (cm_json_get_int(cm_json_get(c.spec, "process"), "oomScoreAdj", &adj)) {
		char v[32], f[64];
		snprintf(v, sizeof(v), "%lld", (long long)adj);
		snprintf(f, sizeof(f), "/proc/%d/oom_score_adj", (int)pid);
		if ((r = run_write_file(f, v)) < 0) {
			r = cm_error_set(err, r, "process.oomScoreAdj %s: %s", v, strerror(-r));
			goto fail;
		}
	}
	/* state.json before the hooks (they may ask for the state) */
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kint(&w, "pid", pid);
	cm_jw_kint(&w, "start", (int64_t)c.start);
	cm_jw_kstr(&w, "bundle", bundle);
	cm_jw_kstr(&w, "created", c.created);
	cm_jw_obj_end(&w);
	size_t stl;
	if ((r = cm_jw_finish(&w, &stj, &stl)) < 0 || (r = run_write_atomic(dir, "state.json", stj, stl)) < 0) {
		r = cm_error_set(err, r, "writing the state");
		goto fail;
	}
	/* runc's order; createContainer runs here too, in the runtime's
	 * namespaces (runc: in the container's mount namespace) */
	if ((r = run_hooks(&c, o->id, "prestart", "created", err)) < 0 ||
	    (r = run_hooks(&c, o->id, "createRuntime", "created", err)) < 0 ||
	    (r = run_hooks(&c, o->id, "createContainer", "created", err)) < 0)
		goto fail;
	if (write(csp[0], "G", 1) != 1) {
		r = cm_error_set(err, -ECHILD, "the container's init exited during its set-up");
		(void)wait_ready(csp[0], NULL, err);
		goto fail;
	}
	if ((r = wait_ready(csp[0], o->console_socket, err)) < 0)
		goto fail;
	cm_close(&csp[0]);
	if (o->pid_file && (r = write_pid_file(o->pid_file, pid, err)) < 0)
		goto fail;
	oci_ctr_done(&c);
	*ret_pid = pid;
	return 0;
fail:
	if (pid > 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
	}
	cm_close(&csp[0]);
	cm_close(&csp[1]);
	if (cg_made)
		(void)run_cgroup_destroy(cg, NULL);
	(void)cm_rm_rf_at(AT_FDCWD, dir);
	oci_ctr_done(&c);
	return r;
}

/* ------------------------------------------------------------ the others */

int run_oci_start(const char *root, const char *id, struct cm_error *err)
{
	struct oci_ctr o;
	int r = ctr_open(root, id, &o, err);
	if (r < 0)
		return r;
	const char *status = ctr_status(&o);
	if (!cm_streq(status, "created")) {
		r = cm_error_set(err, -EINVAL, "cannot start a container that is %s", status);
		goto out;
	}
	char p[4200];
	snprintf(p, sizeof(p), "%s/exec.fifo", o.dir);
	int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = cm_error_set(err, cm_neg_errno(), "opening the exec fifo");
		goto out;
	}
	/* pid 1 opens it for writing (no longer blocked now) and writes one
	 * byte; poll while checking that it lives */
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int n = poll(&pf, 1, 100);
		char b;
		if (n > 0 && read(fd, &b, 1) == 1)
			break;
		if (!pid_alive(o.pid, o.start)) {
			close(fd);
			r = cm_error_set(err, -ESRCH, "the container's init exited before start");
			goto out;
		}
	}
	close(fd);
	(void)unlink(p);
	/* poststart failures are warnings (runtime-spec) */
	struct cm_error he = { 0 };
	if (run_hooks(&o, id, "poststart", "running", &he) < 0)
		fprintf(stderr, "img-runtime: warning: %s\n", he.msg);
	r = 0;
out:
	oci_ctr_done(&o);
	return r;
}

int run_oci_kill(const char *root, const char *id, int sig, bool all, struct cm_error *err)
{
	struct oci_ctr o;
	int r = ctr_open(root, id, &o, err);
	if (r < 0)
		return r;
	if (cm_streq(ctr_status(&o), "stopped") && !all) {
		r = cm_error_set(err, -ESRCH, "container not running");
	} else if (all) {
		_cleanup_cgroup_ struct run_cgroup *cg = NULL;
		if ((r = run_cgroup_for(o.c, &cg, err)) == 0)
			r = run_cgroup_signal(cg, sig, false, err);
	} else if (kill(o.pid, sig) < 0) {
		r = cm_error_set(err, cm_neg_errno(), "kill %d: %s", (int)o.pid, strerror(errno));
	}
	oci_ctr_done(&o);
	return r;
}

int run_oci_delete(const char *root, const char *id, bool force, struct cm_error *err)
{
	struct oci_ctr o;
	int r = ctr_open(root, id, &o, err);
	if (r < 0)
		return r;
	const char *status = ctr_status(&o);
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	if (!cm_streq(status, "stopped") && !force) {
		r = cm_error_set(err, -EBUSY, "cannot delete container %s that is not stopped: %s", id, status);
		goto out;
	}
	if ((r = run_cgroup_for(o.c, &cg, err)) < 0)
		goto out;
	if (!cm_streq(status, "stopped")) {
		(void)run_cgroup_signal(cg, SIGKILL, true, NULL);
		kill(o.pid, SIGKILL);
		for (int i = 0; i < 1000 && pid_alive(o.pid, o.start); i++)
			usleep(10000);
	}
	if ((r = run_cgroup_destroy(cg, err)) < 0)
		goto out;
	struct cm_error he = { 0 };
	if (run_hooks(&o, id, "poststop", "stopped", &he) < 0)
		fprintf(stderr, "img-runtime: warning: %s\n", he.msg);
	if ((r = cm_rm_rf_at(AT_FDCWD, o.dir)) < 0)
		r = cm_error_set(err, r, "removing %s: %s", o.dir, strerror(-r));
out:
	oci_ctr_done(&o);
	return r;
}

int run_oci_ps(const char *root, const char *id, pid_t **ret, size_t *ret_n, struct cm_error *err)
{
	struct oci_ctr o;
	int r = ctr_open(root, id, &o, err);
	if (r < 0)
		return r;
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	if ((r = run_cgroup_for(o.c, &cg, err)) == 0 && (r = run_cgroup_tree_procs(cg, ret, ret_n)) < 0)
		r = cm_error_set(err, r, "listing the container's processes");
	oci_ctr_done(&o);
	return r;
}

int run_oci_pause(const char *root, const char *id, bool pause, struct cm_error *err)
{
	struct oci_ctr o;
	int r = ctr_open(root, id, &o, err);
	if (r < 0)
		return r;
	const char *st = ctr_status(&o);
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	if (pause && !cm_streq(st, "running") && !cm_streq(st, "created"))
		r = cm_error_set(err, -EINVAL, "container %s is %s, not running", id, st);
	else if (!pause && !cm_streq(st, "paused"))
		r = cm_error_set(err, -EINVAL, "container %s is %s, not paused", id, st);
	else if ((r = run_cgroup_for(o.c, &cg, err)) == 0 && (r = run_cgroup_freeze(cg, pause)) < 0)
		r = cm_error_set(err, r, "%s the container's cgroup: %s", pause ? "freezing" : "thawing",
				 strerror(-r));
	oci_ctr_done(&o);
	return r;
}

int run_oci_update(const char *root, const char *id, const struct cm_json *res, struct cm_error *err)
{
	struct oci_ctr o;
	int r = ctr_open(root, id, &o, err);
	if (r < 0)
		return r;
	struct run_limits l = o.c->lim;
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct cm_jw w;
	if ((r = run_oci_limits(res, &l, err)) < 0)
		goto out;
	if (run_oci_kmem_set(res))
		fprintf(stderr, "img-runtime: warning: %s\n", KMEM_WARNING);
	if (l.memory && l.memory_swap > 0 && l.memory_swap < l.memory) {
		r = cm_error_set(err, -EINVAL, "memory+swap limit %lld is below the memory limit %lld",
				 (long long)l.memory_swap, (long long)l.memory);
		goto out;
	}
	if (cm_streq(ctr_status(&o), "stopped")) {
		r = cm_error_set(err, -ESRCH, "container %s is not running", id);
		goto out;
	}
	if ((r = run_cgroup_for(o.c, &cg, err)) < 0 || (r = run_cgroup_update(cg, &l, err)) < 0)
		goto out;
	cm_jw_init(&w, 2);
	cm_jw_obj(&w);
	run_oci_limits_write(&w, &l);
	cm_jw_obj_end(&w);
	if ((r = cm_jw_finish(&w, &text, &len)) < 0 || (r = run_write_atomic(o.dir, "resources.json", text, len)) < 0)
		r = cm_error_set(err, r, "writing %s/resources.json: %s", o.dir, strerror(-r));
out:
	oci_ctr_done(&o);
	return r;
}

int run_oci_stats(const char *root, const char *id, struct cm_jw *w, struct cm_error *err)
{
	struct oci_ctr o;
	int r = ctr_open(root, id, &o, err);
	if (r < 0)
		return r;
	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	struct run_stats st = { -1, -1, -1, -1, -1, -1, -1, -1 };
	if (cm_streq(ctr_status(&o), "stopped"))
		r = cm_error_set(err, -ESRCH, "container %s is not running", id);
	else if ((r = run_cgroup_for(o.c, &cg, err)) == 0)
		cg->ops->stats(cg, &st);
	oci_ctr_done(&o);
	if (r < 0)
		return r;
	/* runc's event: {"type": "stats", "id", "data": {cpu, memory, pids, blkio}} */
	cm_jw_obj(w);
	cm_jw_kstr(w, "type", "stats");
	cm_jw_kstr(w, "id", id);
	cm_jw_key(w, "data");
	cm_jw_obj(w);
	const struct { const char *obj, *sub, *key; int64_t v; } f[] = {
		{ "cpu", "usage", "total", st.cpu_ns },
		{ "memory", "usage", "usage", st.mem_usage },
		{ "memory", "usage", "limit", st.mem_limit },
		{ "pids", NULL, "current", st.pids },
	};
	for (size_t i = 0; i < CM_ARRAY_SIZE(f); i++) {
		bool first = i == 0 || strcmp(f[i].obj, f[i - 1].obj) != 0;
		bool last = i + 1 == CM_ARRAY_SIZE(f) || strcmp(f[i].obj, f[i + 1].obj) != 0;
		if (first) {
			cm_jw_key(w, f[i].obj);
			cm_jw_obj(w);
			if (f[i].sub) {
				cm_jw_key(w, f[i].sub);
				cm_jw_obj(w);
			}
		}
		if (f[i].v >= 0)
			cm_jw_kint(w, f[i].key, f[i].v);
		if (last) {
			if (f[i].sub)
				cm_jw_obj_end(w);
			cm_jw_obj_end(w);
		}
	}
	cm_jw_key(w, "blkio");
	cm_jw_obj(w);
	cm_jw_key(w, "ioServiceBytesRecursive");
	cm_jw_arr(w);
	const struct { const char *op; int64_t v; } io[] = { { "Read", st.blk_read }, { "Write", st.blk_write } };
	for (size_t i = 0; i < CM_ARRAY_SIZE(io); i++) {
		if (io[i].v < 0)
			continue;
		cm_jw_obj(w);
		cm_jw_kstr(w, "op", io[i].op);
		cm_jw_kint(w, "value", io[i].v);
		cm_jw_obj_end(w);
	}
	cm_jw_arr_end(w);
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	return 0;
}

int run_oci_exec(const char *root, const char *id, const struct run_oci_exec *x, int *ret_code,
		 struct cm_error *err)
{
	struct oci_ctr o;
	int r = ctr_open(root, id, &o, err);
	if (r < 0)
		return r;
	struct run_config *exec_c = NULL;
	pid_t pid = 0;
	int ptm = -1;
	if (!cm_streq(ctr_status(&o), "running") && !cm_streq(ctr_status(&o), "created")) {
		r = cm_error_set(err, -ESRCH, "cannot exec in a stopped container");
		goto out;
	}
	/* the process: --process FILE (an OCI process object, read as a
	 * spec's would be) or the command line */
	struct run_exec ex = { .oci = true, .ret_pid = &pid, .ret_ptm = &ptm };
	if (x->process) {
		_cleanup_json_ struct cm_json *pj = NULL, *spec = NULL;
		if ((r = read_json(x->process, &pj, err)) < 0)
			goto out;
		/* a spec of the container with this process in place of its own */
		struct cm_jw w;
		cm_jw_init(&w, 0);
		cm_jw_obj(&w);
		for (size_t i = 0; i < o.spec->n; i++) {
			cm_jw_key(&w, o.spec->k[i]);
			cm_jw_value(&w, cm_streq(o.spec->k[i], "process") ? pj : o.spec->v[i]);
		}
		cm_jw_obj_end(&w);
		_cleanup_free_ char *s = NULL;
		size_t sl;
		if ((r = cm_jw_finish(&w, &s, &sl)) < 0 || (r = cm_json_parse(s, sl, &spec, NULL, 0)) < 0 ||
		    (r = run_oci_config(spec, o.bundle, id, &exec_c, err)) < 0) {
			cm_error_set(err, r, "exec --process %s: %s", x->process, err && err->msg[0] ? err->msg : "bad process");
			goto out;
		}
		ex.argv = exec_c->argv;
		ex.env = exec_c->env;
		ex.cwd = exec_c->cwd;
		ex.user = exec_c->user;
		ex.tty = exec_c->tty;
	} else {
		if (!x->args || !x->args[0]) {
			r = cm_error_set(err, -EINVAL, "exec: no command");
			goto out;
		}
		ex.argv = x->args;
		ex.env = x->env;
		ex.cwd = x->cwd;
		ex.user = x->user;
		ex.tty = x->tty;
	}
	if (ex.tty && !x->console_socket) {
		r = cm_error_set(err, -EINVAL, "exec with a terminal: --console-socket is required");
		goto out;
	}
	struct run_state st = { .status = RUN_RUNNING, .pid = o.pid };
	if ((r = run_linux_exec(o.c, &st, &ex, ret_code, err)) < 0)
		goto out;
	if (ptm >= 0 && (r = send_console(x->console_socket, ptm, err)) < 0)
		goto out;
	cm_close(&ptm);
	if (x->pid_file && (r = write_pid_file(x->pid_file, pid, err)) < 0)
		goto out;
	if (!x->detach) {
		/* ours once the joiner exited (we are a subreaper) */
		int status = 0;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		*ret_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	r = 0;
out:
	cm_close(&ptm);
	run_config_free(exec_c);
	oci_ctr_done(&o);
	return r;
}
