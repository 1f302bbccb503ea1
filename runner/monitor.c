// SPDX-License-Identifier: MIT
/* The per-container monitor (like conmon): runs outside the container's
 * namespaces and cgroup, creates the cgroup, clones pid 1 and keeps it as
 * its child, writes the logs (docker's json-file lines, stdout and stderr
 * apart, timestamps), relays stdio when attached, records the exit status
 * and OOMKilled, and removes an --rm container. Also `img logs` and the
 * pty relay of the foreground. */
#include "run-internal.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>


/* ------------------------------------------------------------ log lines */

struct stream {
	int fd;          /* read end, -1 when closed */
	int out;         /* attach fd, -1 none */
	const char *name;
	char buf[16384];
	size_t len;
};

static void json_escape(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

/* --log-driver none, --log-opt max-size/max-file: set once by the monitor */
static struct {
	const char *path; /* BUNDLE/ctr.log */
	bool none;
	int64_t max_size;
	int max_file;
} logcfg;

/* json-file's rotation: ctr.log -> ctr.log.1 -> ... -> ctr.log.(max-file - 1),
 * the oldest dropped; with max-file 1 the log starts again empty. The same
 * FILE goes on (freopen). */
static void log_rotate(FILE *log)
{
	char a[4200], b[4200];
	fflush(log);
	for (int i = logcfg.max_file - 1; i >= 1; i--) {
		snprintf(a, sizeof(a), i == 1 ? "%s" : "%s.%d", logcfg.path, i - 1);
		snprintf(b, sizeof(b), "%s.%d", logcfg.path, i);
		(void)rename(a, b);
	}
	(void)!freopen(logcfg.path, logcfg.max_file > 1 ? "ae" : "we", log);
}

static void log_line(FILE *log, const char *stream, const char *s, size_t n)
{
	char t[64];
	if (logcfg.none)
		return;
	run_time_fmt_ns(run_now_ns(), t, sizeof(t));
	fputs("{\"log\":\"", log);
	json_escape(log, s, n);
	fprintf(log, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, t);
	if (logcfg.max_size > 0 && logcfg.path && ftell(log) >= logcfg.max_size)
		log_rotate(log);
}

/* Emit every complete line of s (or everything with flush). */
static void stream_flush(struct stream *s, FILE *log, bool all)
{
	size_t start = 0;
	for (size_t i = 0; i < s->len; i++)
		if (s->buf[i] == '\n') {
			log_line(log, s->name, s->buf + start, i + 1 - start);
			start = i + 1;
		}
	if ((all || start == 0) && s->len == sizeof(s->buf) && start == 0) {
		log_line(log, s->name, s->buf, s->len);
		start = s->len;
	}
	if (all && start < s->len) {
		log_line(log, s->name, s->buf + start, s->len - start);
		start = s->len;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
	fflush(log);
}

static void stream_read(struct stream *s, FILE *log)
{
	ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) { /* EOF, or EIO of a pty master when the slave closed */
		stream_flush(s, log, true);
		cm_close(&s->fd);
		return;
	}
	if (s->out >= 0 && cm_write_all(s->out, s->buf + s->len, (size_t)n) < 0)
		s->out = -1; /* the attached img went away: keep logging */
	s->len += (size_t)n;
	stream_flush(s, log, false);
}

/* ------------------------------------------------------------ monitor */

/* The pid a pidfd names (its fdinfo's "Pid:"), 0 if unknown. */
static pid_t pidfd_pid(int pidfd)
{
	char p[64];
	_cleanup_free_ char *s = NULL;
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", pidfd);
	if (pidfd < 0 || run_read_file_at(AT_FDCWD, p, 4096, &s, NULL) < 0)
		return 0;
	const char *l = strstr(s, "\nPid:");
	return l ? (pid_t)atoi(l + 5) : 0;
}

/* The first message of a -t pid 1: its pty master (1 byte + fd), or its
 * error. Returns the length read. */
static ssize_t recv_console(int fd, struct run_child_error *ce, int *ret_fd)
{
	size_t k;
	ssize_t n = run_recv_with_fds(fd, ce, sizeof(*ce), ret_fd, 1, &k);
	return n == 1 && !k ? -1 : n;
}

static int monitor_fail(int sync, const char *bundle, int code, const char *msg)
{
	struct run_state st = { .status = RUN_EXITED, .exit_code = code,
				.finished_ns = run_now_ns() };
	snprintf(st.error, sizeof(st.error), "%s", msg);
	(void)run_state_write(bundle, &st, NULL);
	(void)run_monitor_send(sync, RUN_MSG_FAILED, code, 0, msg, -1);
	return code;
}

/* What the lives of one container share. */
struct monitor {
	struct run_health_run health;
	const char *bundle;
	struct run_config *c;
	struct run_cgroup *cg;
	FILE *log;
	int sfd;      /* SIGCHLD */
	int null;
	int sync;     /* img's socket, -1 once img is gone or detached */
	bool attach;
	int ufsd;     /* a pidfd of the union's daemon (ufsmount), -1 if unknown */
	pid_t ufsd_pid;
	bool fs_lost; /* that daemon died: the container was stopped */
	int lsn;      /* BUNDLE/attach.sock's listener, -1 none */
	struct attach_client {
		int conn;   /* -1: none attached by img attach */
		int fd[3];  /* its stdin (-1: --no-stdin), stdout, stderr */
		char keys[64];
	} cl;
};

/* ------------------------------------------------------------ img attach */

/* The listener of img attach (run_container_attach); the bundle's path
 * may be longer than sun_path: bound through its fd. -errno if none. */
static int attach_listen(const char *bundle)
{
	_cleanup_close_ int dir = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return cm_neg_errno();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" RUN_ATTACH_SOCK, dir);
	(void)unlinkat(dir, RUN_ATTACH_SOCK, 0); /* a dead monitor's */
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0)
		return cm_neg_errno();
	return TAKE_FD(s);
}

static void attach_unlisten(struct monitor *m)
{
	char p[4200];
	if (m->lsn < 0)
		return;
	cm_close(&m->lsn);
	snprintf(p, sizeof(p), "%s/" RUN_ATTACH_SOCK, m->bundle);
	(void)unlink(p);
}

/* The attached client told type (RUN_MSG_DETACHED, RUN_MSG_EXITED with
 * code; 0: nothing, it went away) and let go. */
static void client_drop(struct monitor *m, int type, int code)
{
	struct attach_client *cl = &m->cl;
	if (cl->conn < 0)
		return;
	for (int i = 0; i < 3; i++)
		cm_close(&cl->fd[i]);
	if (type)
		(void)run_monitor_send(cl->conn, type, code, 0, NULL, -1);
	cm_close(&cl->conn);
}

/* A connection on the listener: its request read and checked (same user),
 * refused while another client is attached (busy). 0: m->cl is the new
 * client, not yet answered; else nothing changed. */
static int client_accept(struct monitor *m, bool busy)
{
	_cleanup_close_ int conn = accept4(m->lsn, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return cm_neg_errno();
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 ||
	    (cr.uid != 0 && cr.uid != geteuid()))
		return -EPERM;
	/* the request comes with the connection: a client that connects and
	 * sends nothing is not waited for */
	struct pollfd pf = { .fd = conn, .events = POLLIN };
	if (poll(&pf, 1, 1000) != 1)
		return -ETIMEDOUT;
	struct run_attach_req q;
	int fds[3] = { -1, -1, -1 };
	size_t k;
	ssize_t n = run_recv_with_fds(conn, &q, sizeof(q), fds, 3, &k);
	bool ok = n == (ssize_t)sizeof(q) && k == (q.with_stdin ? 3u : 2u);
	if (ok && busy) {
		char t[128];
		snprintf(t, sizeof(t), "container %.12s: another client is attached (one at a time)", m->c->id);
		(void)run_monitor_send(conn, RUN_MSG_FAILED, RUN_EXIT_IMG, 0, t, -1);
		ok = false;
	}
	if (!ok) {
		for (size_t i = 0; i < k; i++)
			close(fds[i]);
		return -EBADMSG;
	}
	m->cl.conn = TAKE_FD(conn);
	m->cl.fd[0] = q.with_stdin ? fds[0] : -1;
	m->cl.fd[1] = fds[q.with_stdin ? 1 : 0];
	m->cl.fd[2] = fds[q.with_stdin ? 2 : 1];
	q.detach_keys[sizeof(q.detach_keys) - 1] = '\0';
	memcpy(m->cl.keys, q.detach_keys, sizeof(m->cl.keys));
	return 0;
}

/* img stop and kill leave a mark before they signal: no restart then. */
static bool stopped_by_user(const char *bundle)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/stopped", bundle);
	return access(p, F_OK) == 0;
}

/* The union's daemon died: recorded (State.Error, the log), no restart. */
static void fs_lost(struct monitor *m, struct run_state *st)
{
	m->fs_lost = true;
	snprintf(st->error, sizeof(st->error),
		 "the container's root filesystem went away: its ufsmount daemon (pid %d) exited",
		 (int)m->ufsd_pid);
	log_line(m->log, "stderr", st->error, strlen(st->error));
	fflush(m->log);
}

/* An attached -it's input ends at the detach keys (docker's ctrl-p ctrl-q;
 * as docker's, not without -t: piped data may hold any byte). */
static void input_keys(struct run_input *in, const char *spec)
{
	if (run_parse_detach_keys(spec, in->keys, &in->n_keys, NULL) < 0)
		(void)run_parse_detach_keys(NULL, in->keys, &in->n_keys, NULL);
}

#define STOPPED_STARTING "stopped before the container's process started"

/* One life of pid 1: the cgroup made afresh, the clone, the network, "go",
 * the logs until it exits. 0: it ran; *st is its exit (not yet written).
 * Else its set-up failed, recorded and told to img, and *ret_code is the
 * exit code. The union stays mounted (the caller unmounts it). */
static int life(struct monitor *m, int restarts, struct run_state *st, int *ret_code)
{
	const char *bundle = m->bundle;
	struct run_config *c = m->c;
	struct run_cgroup *cg = m->cg;
	FILE *log = m->log;
	int sync = m->sync, null = m->null, sfd = m->sfd;
	bool attach = m->attach && restarts == 0;
	struct cm_error e = { 0 };
	int r;
	*ret_code = RUN_EXIT_IMG;

	/* stdio of pid 1 */
	int stdio[3] = { -1, -1, -1 };
	struct stream out = { .fd = -1, .out = attach ? 1 : -1, .name = "stdout" };
	struct stream err = { .fd = -1, .out = attach ? 2 : -1, .name = "stderr" };
	int ptm = -1;
	struct run_input in = { .src = -1, .dst = -1 };
	_cleanup_close_ int pin_w = -1; /* -i's pipe held for img attach (not attached) */
	if (c->tty) {
		/* pid 1 opens the pty in its own devpts and sends us the master */
		stdio[0] = stdio[1] = stdio[2] = null;
	} else {
		int po[2], pe[2], pi[2] = { -1, -1 };
		if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
		    (c->interactive && pipe2(pi, O_CLOEXEC) < 0))
			return monitor_fail(sync, bundle, RUN_EXIT_IMG, "pipes"), -1;
		/* -i: a pipe we fill from img's stdin, as docker gives, never
		 * img's own fd (the caller's terminal) */
		stdio[0] = pi[0] >= 0 ? pi[0] : null;
		stdio[1] = po[1];
		stdio[2] = pe[1];
		out.fd = po[0];
		err.fd = pe[0];
		if (pi[1] >= 0) {
			(void)fcntl(pi[1], F_SETFL, O_NONBLOCK);
			/* attached: its input ends with img's (docker's StdinOnce);
			 * else it stays open for img attach (docker's run -d -i) */
			if (attach)
				in = (struct run_input){ .src = 0, .dst = pi[1], .close_at_eof = true };
			else
				pin_w = pi[1];
		}
	}

	int csp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, csp) < 0)
		return monitor_fail(sync, bundle, RUN_EXIT_IMG, "socketpair"), -1;
	/* the cgroup first: where joining by itself is cheap (v1), pid 1 joins
	 * it as its first act; else (v2) we move it while it sets up its
	 * mounts (it waits for "go" before the process) */
	r = run_cgroup_destroy(cg, &e);
	if (r == 0)
		r = run_cgroup_create(cg, &c->lim, c->devices_all, c->devices, c->n_devices, &e);
	if (r < 0) {
		(void)run_cgroup_destroy(cg, NULL);
		*ret_code = monitor_fail(sync, bundle, RUN_EXIT_IMG, e.msg);
		return -1;
	}
	/* v1: pid 1 joins by itself; v2: it is born in the group (clone3),
	 * else (a kernel without CLONE_INTO_CGROUP) we move it */
	/* --init: pid 1 is img-init, executed from a sealed copy (nothing of
	 * the host's is reachable from the container through it) */
	_cleanup_close_ int initfd = -1;
	if (c->init && (initfd = run_sealed_copy(c->init_path ? c->init_path : "", &e)) < 0) {
		(void)run_cgroup_destroy(cg, NULL);
		*ret_code = monitor_fail(sync, bundle, RUN_EXIT_IMG, e.msg);
		return -1;
	}
	c->init_fd = initfd;
	/* --network container:X: X must run; its netns is held from here */
	_cleanup_close_ int netfd = -1;
	if (c->network == RUN_NET_CONTAINER) {
		struct run_state xs;
		char np[64];
		if (!c->net_container_bundle || run_state_refresh(c->net_container_bundle, &xs, NULL) < 0 ||
		    xs.status != RUN_RUNNING) {
			(void)run_cgroup_destroy(cg, NULL);
			snprintf(np, sizeof(np), "cannot join network of a non running container: %.12s",
				 c->net_container ? c->net_container : "");
			*ret_code = monitor_fail(sync, bundle, RUN_EXIT_IMG, np);
			return -1;
		}
		snprintf(np, sizeof(np), "/proc/%d/ns/net", (int)xs.pid);
		if ((netfd = open(np, O_RDONLY | O_CLOEXEC)) < 0) {
			(void)run_cgroup_destroy(cg, NULL);
			*ret_code = monitor_fail(sync, bundle, RUN_EXIT_IMG, "opening the other container's network namespace");
			return -1;
		}
	}
	c->net_fd = netfd;
	bool self_join = run_cgroup_self_join_fast(cg);
	_cleanup_close_ int cgfd = self_join ? -1 : run_cgroup_dir_fd(cg);
	pid_t pid;
	r = run_linux_clone(c, stdio, csp[1], self_join ? cg : NULL, cgfd, &pid, &e);
	if (r == -ENOSYS || r == -E2BIG || r == -EINVAL) {
		cm_close(&cgfd);
		r = run_linux_clone(c, stdio, csp[1], NULL, -1, &pid, &e);
	}
	if (r < 0) {
		(void)run_cgroup_destroy(cg, NULL);
		*ret_code = monitor_fail(sync, bundle, RUN_EXIT_IMG, e.msg);
		return -1;
	}
	bool born_in = cgfd >= 0;
	cm_close(&cgfd);
	close(csp[1]);
	if (!c->tty) {
		close(stdio[1]);
		close(stdio[2]);
		if (stdio[0] != null)
			close(stdio[0]);
	}
	int64_t started = run_now_ns();
	if (!self_join && !born_in)
		r = run_cgroup_enter(cg, pid, &e);
	if (r == 0 && c->userns)
		r = run_linux_userns_map(c, pid, &e);
	if (r == 0 && c->userns)
		r = run_linux_userns_root(pid, c->rootfs, &e);
	/* the network before "go": nothing of the image runs without it */
	char ip[16] = "", mac[18] = "";
	bool bridged = false;
	if (r == 0 && c->network == RUN_NET_BRIDGE)
		bridged = (r = run_net_setup(c, pid, ip, mac, &e)) == 0;
	/* a user-defined network's names: the embedded DNS, served below */
	struct run_dns *dns = NULL;
	if (r == 0 && bridged)
		r = run_dns_open(c, pid, &dns, &e);
	/* img stop while pid 1 sets up: it killed the group, and kills it again
	 * until we are done; one not yet in the group (moved above) goes here */
	if (r == 0 && stopped_by_user(bundle))
		r = -ECANCELED;
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		(void)run_cgroup_destroy(cg, NULL);
		run_dns_close(dns);
		if (bridged)
			(void)run_net_release(c->id, NULL);
		/* pid 1 may have failed first (a refused rootfs): its error is
		 * the cause, ours (its netns gone) only a consequence */
		struct run_child_error early;
		bool first = recv(csp[0], &early, sizeof(early), MSG_DONTWAIT) == (ssize_t)sizeof(early);
		close(csp[0]);
		cm_close(&out.fd);
		cm_close(&err.fd);
		if (stopped_by_user(bundle))
			*ret_code = monitor_fail(sync, bundle, 128 + SIGKILL, STOPPED_STARTING);
		else if (first)
			*ret_code = monitor_fail(sync, bundle, early.code, early.msg);
		else
			*ret_code = monitor_fail(sync, bundle, RUN_EXIT_IMG, e.msg);
		return -1;
	}
	/* the child may already have failed (its mount setup runs meanwhile):
	 * then "go" finds it gone and its error is read below */
	(void)!write(csp[0], "G", 1);
	struct run_child_error ce;
	ssize_t n = c->tty ? recv_console(csp[0], &ce, &ptm) : read(csp[0], &ce, sizeof(ce));
	if (n == 1) { /* the pty master: then the exec (EOF) or an error */
		out.fd = ptm;
		if (attach && c->interactive) {
			in = (struct run_input){ .src = 0, .dst = ptm };
			input_keys(&in, c->detach_keys);
		}
		n = read(csp[0], &ce, sizeof(ce));
	}
	close(csp[0]);
	if (n == (ssize_t)sizeof(ce) && stopped_by_user(bundle)) {
		/* killed by img stop in its set-up: not an error of its own */
		snprintf(ce.msg, sizeof(ce.msg), STOPPED_STARTING);
		ce.code = 128 + SIGKILL;
	}
	if (n == (ssize_t)sizeof(ce)) {
		waitpid(pid, NULL, 0);
		/* the error message also goes to the log, as docker shows it */
		log_line(log, "stderr", ce.msg, strlen(ce.msg));
		fflush(log);
		(void)run_cgroup_destroy(cg, NULL);
		if (bridged)
			(void)run_net_release(c->id, NULL);
		run_dns_close(dns);
		cm_close(&out.fd);
		cm_close(&err.fd);
		*ret_code = monitor_fail(sync, bundle, ce.code, ce.msg);
		return -1;
	}

	*st = (struct run_state){ .status = RUN_RUNNING, .pid = pid, .monitor = getpid(),
				  .monitor_start = run_pid_starttime(getpid()),
				  .started_ns = started, .restart_count = restarts };
	memcpy(st->ip, ip, sizeof(st->ip));
	memcpy(st->mac, mac, sizeof(st->mac));
	/* exec'd, or died: an img stop that came meanwhile (it kills the group
	 * while we start) may have missed it on its way into the group */
	if (stopped_by_user(bundle))
		(void)run_cgroup_signal(cg, SIGKILL, true, NULL);
	if (run_state_write(bundle, st, &e) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		(void)run_cgroup_destroy(cg, NULL);
		if (bridged)
			(void)run_net_release(c->id, NULL);
		run_dns_close(dns);
		*ret_code = monitor_fail(sync, bundle, RUN_EXIT_IMG, e.msg);
		return -1;
	}
	run_event_container(bundle, c, "start", NULL); /* before its die, whatever comes first */
	if (restarts == 0) {
		(void)run_monitor_send(sync, RUN_MSG_STARTED, 0, pid, NULL, attach && c->tty ? ptm : -1);
		if (!attach) {
			close(sync);
			m->sync = sync = -1;
		}
	}

	int status = 0, held_in = -1;
	bool exited = false, run_client = attach; /* img run's stdio still relayed */
	struct run_health_run *health = &m->health;
	run_health_begin(health, c, bundle, run_now_ns());
	while (!exited || out.fd >= 0 || err.fd >= 0) {
		struct pollfd pf[9] = {
			{ .fd = out.fd, .events = POLLIN },
			{ .fd = err.fd, .events = POLLIN },
			{ .fd = exited ? -1 : sfd, .events = POLLIN },
			{ .fd = in.len ? -1 : in.src, .events = POLLIN },
			{ .fd = in.len ? in.dst : -1, .events = POLLOUT },
			{ .fd = m->fs_lost ? -1 : m->ufsd, .events = POLLIN },
			{ .fd = exited ? -1 : run_dns_fd(dns), .events = POLLIN },
			{ .fd = exited ? -1 : m->lsn, .events = POLLIN },
			{ .fd = m->cl.conn, .events = POLLIN },
		};
		/* after pid 1 exited the pidns is gone: drain what is buffered */
		int pr = poll(pf, CM_ARRAY_SIZE(pf), exited ? 200 : run_health_poll_ms(health, run_now_ns()));
		if (pr < 0 && errno != EINTR)
			break;
		if (pr == 0 && exited)
			break;
		if (!exited) { /* --health-cmd: a check due, or one past its timeout */
			run_health_drain(health);
			run_health_tick(health, c, bundle, run_now_ns());
		}
		if (pf[0].revents) {
			stream_read(&out, log);
			if (out.fd < 0 && c->tty) /* the pty master is closed: no input either */
				in = (struct run_input){ .src = -1, .dst = -1 };
		}
		if (pf[1].revents)
			stream_read(&err, log);
		if (pf[6].revents)
			run_dns_step(dns);
		if (pf[3].revents || pf[4].revents)
			run_input_step(&in, pf[3].revents != 0);
		if (pf[8].revents && m->cl.conn >= 0) {
			/* img attach went away (killed: it sends nothing else) */
			if (in.src >= 0 && in.src == m->cl.fd[0])
				in = (struct run_input){ .src = -1, .dst = -1 };
			out.out = err.out = -1;
			client_drop(m, 0, 0);
		}
		if (pf[7].revents && client_accept(m, run_client || m->cl.conn >= 0) == 0) {
			/* docker's attach: the output from now on; the input
			 * with -i, through the detach keys with -t */
			out.out = m->cl.fd[1];
			err.out = m->cl.fd[2];
			int dst = c->tty ? ptm : pin_w;
			if (m->cl.fd[0] >= 0 && c->interactive && dst >= 0 && (!c->tty || out.fd >= 0)) {
				in = (struct run_input){ .src = m->cl.fd[0], .dst = dst };
				if (c->tty)
					input_keys(&in, m->cl.keys);
			}
			(void)run_monitor_send(m->cl.conn, RUN_MSG_STARTED, 0, pid, NULL, c->tty ? ptm : -1);
		}
		if (in.detached && m->cl.conn >= 0) {
			/* img attach's detach: it returns, the container runs on */
			run_input_flush(&in);
			in = (struct run_input){ .src = -1, .dst = -1 };
			out.out = err.out = -1;
			client_drop(m, RUN_MSG_DETACHED, 0);
		}
		if (in.detached) {
			/* docker's detach: img returns, the container runs on */
			run_input_flush(&in);
			held_in = in.close_at_eof ? in.dst : -1;
			in = (struct run_input){ .src = -1, .dst = -1 };
			out.out = err.out = -1;
			run_client = false;
			/* the terminal is the user's again: not ours to hold,
			 * nor its hangup ours to die of */
			(void)dup2(null, 0);
			(void)dup2(null, 1);
			(void)dup2(null, 2);
			(void)setsid();
			/* (the socket stays: img closes its end as it exits,
			 * which `run --rm`'s removal at our exit waits for) */
			if (m->sync >= 0)
				(void)run_monitor_send(m->sync, RUN_MSG_DETACHED, 0, pid, NULL, -1);
		}
		if (pf[5].revents) {
			/* the union's daemon is gone: every access to the root
			 * fails (ENOTCONN) from now on; the container stops */
			fs_lost(m, st);
			(void)run_cgroup_signal(cg, SIGKILL, true, NULL);
		}
		if (pf[2].revents) {
			struct signalfd_siginfo si;
			(void)!read(sfd, &si, sizeof(si));
			pid_t w;
			int ws;
			while ((w = waitpid(-1, &ws, WNOHANG)) > 0) {
				if (run_health_reaped(health, c, bundle, w, ws))
					continue;
				if (w == pid) {
					exited = true;
					status = ws;
				}
			}
		}
	}
	if (out.fd >= 0) {
		stream_flush(&out, log, true);
		cm_close(&out.fd);
	}
	if (err.fd >= 0) {
		stream_flush(&err, log, true);
		cm_close(&err.fd);
	}
	if (in.close_at_eof)
		cm_close(&in.dst);
	cm_close(&held_in);
	run_health_end(health);
	run_dns_close(dns);
	st->status = RUN_EXITED;
	st->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	st->oom_killed = run_cgroup_oom_killed(cg);
	st->finished_ns = run_now_ns();
	st->ip[0] = st->mac[0] = '\0';
	(void)run_cgroup_destroy(cg, NULL);
	/* the veth, the address, the rules (the bridge with the last user) */
	if (bridged)
		(void)run_net_release(c->id, NULL);
	*ret_code = st->exit_code;
	return 0;
}

static bool restart_wanted(const struct run_config *c, int code, int restarts)
{
	switch (c->restart) {
	case RUN_RESTART_ALWAYS:
	case RUN_RESTART_UNLESS_STOPPED:
		return true;
	case RUN_RESTART_ON_FAILURE:
		return code != 0 && (c->restart_max == 0 || restarts < c->restart_max);
	default:
		return false;
	}
}

int run_monitor_main(const char *bundle, int sync, bool attach)
{
	struct cm_error e = { 0 };
	_cleanup_run_config_ struct run_config *c = NULL;
	char p[4096];

	(void)setsid();
	signal(SIGPIPE, SIG_IGN);
	if (run_config_read(bundle, &c, &e) < 0)
		return monitor_fail(sync, bundle, RUN_EXIT_IMG, e.msg);
	/* pid 1 as the container's OCI spec says (oci-spec.c), which has a
	 * cgroup namespace by --cgroupns (docker's default: private on v2,
	 * host on v1) */
	c->cgroupns = run_cgroupns_private(c);
	if (run_oci_bundle_apply(c, &e) < 0)
		return monitor_fail(sync, bundle, RUN_EXIT_IMG, e.msg);
	snprintf(p, sizeof(p), "%s/monitor.lock", bundle);
	_cleanup_close_ int lock = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
		return monitor_fail(sync, bundle, RUN_EXIT_IMG, "another monitor runs this container");
	/* --add-host, --dns*: the init layer's files, before pid 1 exists */
	if (run_init_apply(c, &e) < 0)
		return monitor_fail(sync, bundle, RUN_EXIT_IMG, e.msg);

	_cleanup_cgroup_ struct run_cgroup *cg = NULL;
	if (run_cgroup_for(c, &cg, &e) < 0)
		return monitor_fail(sync, bundle, RUN_EXIT_IMG, e.msg);
	c->cgroup_v2 = run_cgroup_version(cg) == RUN_CGROUP_V2;
	_cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	snprintf(p, sizeof(p), "%s/ctr.log", bundle);
	FILE *log = fopen(p, "ae");
	if (!log)
		return monitor_fail(sync, bundle, RUN_EXIT_IMG, "opening the log");
	static char log_path[4096];
	snprintf(log_path, sizeof(log_path), "%s", p);
	logcfg.path = log_path;
	logcfg.none = cm_streq(c->log_driver, "none");
	logcfg.max_size = c->log_max_size;
	logcfg.max_file = c->log_max_file > 0 ? c->log_max_file : 1;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	/* the union's daemon, watched for its whole life: its exit aborts the
	 * FUSE connection of the container's root (an event, no polling) */
	_cleanup_close_ int ufsd = c->rootfs ? run_rootfs_daemon_pidfd(c->rootfs) : -ENOENT;
	if (ufsd < 0 && ufsd != -ENOENT) { /* -ENOENT: not a ufsmount mount */
		snprintf(p, sizeof(p), "not watching the union's daemon: %s", strerror(-ufsd));
		log_line(log, "stderr", p, strlen(p));
		fflush(log);
	}
	struct monitor m = { .bundle = bundle, .c = c, .cg = cg, .log = log, .sfd = sfd,
			     .null = null, .sync = sync, .attach = attach, .ufsd = ufsd,
			     .ufsd_pid = pidfd_pid(ufsd), .cl = { .conn = -1, .fd = { -1, -1, -1 } } };
	/* img attach's socket: without it the container runs, not attachable */
	m.lsn = attach_listen(bundle);
	if (m.lsn < 0) {
		snprintf(p, sizeof(p), "img attach will not work: %s: %s", RUN_ATTACH_SOCK, strerror(-m.lsn));
		log_line(log, "stderr", p, strlen(p));
		fflush(log);
	}
	struct run_state st;
	int code;
	int64_t backoff_ms = 100; /* docker's: doubled each time, reset after 10 s up */
	for (int restarts = 0;; restarts++) {
		if (restarts > 0)
			run_event_container(bundle, c, "restart", NULL);
		if (life(&m, restarts, &st, &code) < 0) {
			client_drop(&m, RUN_MSG_EXITED, code);
			attach_unlisten(&m);
			fclose(log);
			(void)run_rootfs_umount(c->rootfs, NULL);
			return code;
		}
		char ec[32];
		snprintf(ec, sizeof(ec), "exitCode=%d", code);
		char *const die_attrs[] = { ec, NULL };
		if (st.oom_killed)
			run_event_container(bundle, c, "oom", NULL);
		run_event_container(bundle, c, "die", die_attrs);
		/* (it may also have died as pid 1 exited: then no restart either) */
		struct pollfd pf = { .fd = m.fs_lost ? -1 : m.ufsd, .events = POLLIN };
		if (poll(&pf, 1, 0) == 1)
			fs_lost(&m, &st);
		if (m.fs_lost || !restart_wanted(c, code, restarts) || stopped_by_user(bundle))
			break;
		/* restarting: img (attached) is told the first exit and returns */
		st.status = RUN_RESTARTING;
		(void)run_state_write(bundle, &st, NULL);
		client_drop(&m, RUN_MSG_EXITED, code); /* docker's attach ends at the exit */
		if (m.sync >= 0) {
			(void)run_monitor_send(m.sync, RUN_MSG_EXITED, code, st.pid, NULL, -1);
			close(m.sync);
			m.sync = -1;
		}
		if (st.finished_ns - st.started_ns >= 10LL * 1000000000)
			backoff_ms = 100;
		bool stop = false;
		for (int64_t t = 0; t < backoff_ms && !stop; t += 50) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			stop = stopped_by_user(bundle);
		}
		if (stop)
			break;
		backoff_ms = backoff_ms * 2 > 60000 ? 60000 : backoff_ms * 2;
		st.restart_count = restarts + 1;
	}
	attach_unlisten(&m);
	fclose(log);
	/* the union goes with the container (docker unmounts at stop): its
	 * daemon lived outside the container until now */
	(void)run_rootfs_umount(c->rootfs, NULL);
	st.status = RUN_EXITED;
	(void)run_state_write(bundle, &st, NULL);
	client_drop(&m, RUN_MSG_EXITED, code);
	if (m.sync >= 0)
		(void)run_monitor_send(m.sync, RUN_MSG_EXITED, code, st.pid, NULL, -1);
	return code;
}

/* ------------------------------------------------------------ tty relay */

static volatile sig_atomic_t winch = 1;
static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

int run_relay_tty(int ptm, pid_t child)
{
	struct termios saved, raw;
	bool is_tty = tcgetattr(0, &saved) == 0;
	if (is_tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		signal(SIGWINCH, on_winch);
	}
	bool in_open = true;
	for (;;) {
		if (winch && is_tty) {
			struct winsize ws;
			winch = 0;
			if (ioctl(0, TIOCGWINSZ, &ws) == 0)
				ioctl(ptm, TIOCSWINSZ, &ws);
		}
		struct pollfd pf[2] = { { .fd = ptm, .events = POLLIN },
					{ .fd = in_open ? 0 : -1, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		char b[8192];
		if (pf[0].revents) {
			ssize_t n = read(ptm, b, sizeof(b));
			if (n <= 0)
				break;
			if (cm_write_all(1, b, (size_t)n) < 0)
				break;
		}
		if (pf[1].revents) {
			ssize_t n = read(0, b, sizeof(b));
			if (n <= 0)
				in_open = false;
			else
				(void)cm_write_all(ptm, b, (size_t)n);
		}
	}
	if (is_tty)
		tcsetattr(0, TCSANOW, &saved);
	(void)child;
	return 0;
}

/* ------------------------------------------------------------ logs */

int64_t run_time_parse_ns(const char *s)
{
	struct tm tm = { 0 };
	int n = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int64_t ns = 0, scale = 100000000;
	const char *p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ns += (*p - '0') * scale;
	if (*p != 'Z' && *p != '\0')
		return -1;
	time_t t = timegm(&tm);
	return t < 0 ? -1 : (int64_t)t * 1000000000 + ns;
}

int run_parse_log_time(const char *s, int64_t now_ns, int64_t *ret, struct cm_error *err)
{
	if (strchr(s, 'T')) {
		int64_t t = run_time_parse_ns(s);
		if (t < 0)
			return cm_error_set(err, -EINVAL, "invalid time '%s' (RFC 3339, UTC)", s);
		*ret = t;
		return 0;
	}
	char *end;
	double v = strtod(s, &end);
	if (end != s && !*end && v >= 0) { /* Unix seconds */
		*ret = (int64_t)(v * 1e9);
		return 0;
	}
	/* a duration: [Nh][Nm][Ns], as Go writes them */
	int64_t d = 0;
	const char *p = s;
	while (*p) {
		double x = strtod(p, &end);
		if (end == p || x < 0)
			return cm_error_set(err, -EINVAL, "invalid time or duration '%s'", s);
		int64_t unit = *end == 'h' ? 3600000000000LL : *end == 'm' ? 60000000000LL :
			       *end == 's' ? 1000000000LL : 0;
		if (!unit)
			return cm_error_set(err, -EINVAL, "invalid time or duration '%s'", s);
		d += (int64_t)(x * (double)unit);
		p = end + 1;
	}
	*ret = now_ns - d;
	return 0;
}

/* Print one json-file line: returns false if it is not ours. */
static bool print_log_line(const char *line, bool timestamps, int64_t since_ns, int64_t until_ns,
			   int out, int err_fd)
{
	_cleanup_json_ struct cm_json *j = NULL;
	if (cm_json_parse(line, strlen(line), &j, NULL, 0) < 0)
		return false;
	const char *s = cm_json_get_str(j, "log"), *stream = cm_json_get_str(j, "stream"),
		   *t = cm_json_get_str(j, "time");
	if (!s)
		return false;
	if (since_ns || until_ns) {
		int64_t at = run_time_parse_ns(t);
		if ((since_ns && at < since_ns) || (until_ns && at >= until_ns))
			return true;
	}
	int fd = cm_streq(stream, "stderr") ? err_fd : out;
	if (timestamps && t) {
		(void)cm_write_all(fd, t, strlen(t));
		(void)cm_write_all(fd, " ", 1);
	}
	(void)cm_write_all(fd, s, strlen(s));
	return true;
}

int run_logs(const char *bundle, long tail, bool follow, bool timestamps,
	     int64_t since_ns, int64_t until_ns, int out, int err_fd, struct cm_error *err)
{
	char p[4096];
	_cleanup_run_config_ struct run_config *c = NULL;
	if (run_config_read(bundle, &c, NULL) == 0 && cm_streq(c->log_driver, "none"))
		return cm_error_set(err, -ENOTSUP, "configured logging driver does not support reading");
	snprintf(p, sizeof(p), "%s/ctr.log", bundle);
	char *line = NULL;
	size_t cap = 0;
	/* the rotated files first, oldest first (all of them: no --tail) */
	for (int i = c && c->log_max_file > 1 ? c->log_max_file - 1 : 0; tail < 0 && i >= 1; i--) {
		char rp[4200];
		snprintf(rp, sizeof(rp), "%s.%d", p, i);
		FILE *rf = fopen(rp, "re");
		while (rf && getline(&line, &cap, rf) >= 0)
			(void)print_log_line(line, timestamps, since_ns, until_ns, out, err_fd);
		if (rf)
			fclose(rf);
	}
	FILE *f = fopen(p, "re");
	if (!f && errno != ENOENT) {
		free(line);
		return cm_error_setx(err, cm_neg_errno(), "opening %s", p);
	}
	if (f && tail >= 0) {
		/* count lines, then skip all but the last tail */
		long total = 0;
		while (getline(&line, &cap, f) >= 0)
			total++;
		rewind(f);
		for (long skip = total - tail; skip > 0 && getline(&line, &cap, f) >= 0; skip--)
			;
	}
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	for (;;) {
		if (!f)
			f = fopen(p, "re");
		ssize_t n;
		while (f && (n = getline(&line, &cap, f)) >= 0) {
			if (n > 0 && line[n - 1] != '\n') { /* a line being written */
				fseek(f, -n, SEEK_CUR);
				break;
			}
			(void)print_log_line(line, timestamps, since_ns, until_ns, out, err_fd);
		}
		if (!follow)
			break;
		struct run_state st;
		if (run_state_refresh(bundle, &st, NULL) < 0 ||
		    (st.status != RUN_RUNNING && st.status != RUN_RESTARTING) ||
		    (until_ns && run_now_ns() >= until_ns)) {
			/* one last pass for what the monitor flushed at exit */
			while (f && getline(&line, &cap, f) >= 0)
				(void)print_log_line(line, timestamps, since_ns, until_ns, out, err_fd);
			break;
		}
		if (f)
			clearerr(f);
		struct stat a, b; /* rotated under us: what is left, then the new file */
		if (f && fstat(fileno(f), &a) == 0 && stat(p, &b) == 0 && a.st_ino != b.st_ino) {
			while (getline(&line, &cap, f) >= 0)
				(void)print_log_line(line, timestamps, since_ns, until_ns, out, err_fd);
			fclose(f);
			f = NULL;
			continue;
		}
		nanosleep(&ts, NULL);
	}
	free(line);
	if (f)
		fclose(f);
	return 0;
}
