// SPDX-License-Identifier: MIT
/* Health checks (issue 14): docker's --health-cmd and the image's
 * HEALTHCHECK, run by the container's monitor. Each check is a fork of the
 * monitor that joins the container as `img exec` does (run_container_exec)
 * with its output into a pipe; the monitor's loop reaps it, keeps the last
 * five results and the state (starting, healthy, unhealthy) in the bundle's
 * health.json (temp + rename) for ps and inspect, and journals
 * "health_status: STATE" when the state changes. */
#include "run-internal.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEALTH_LOG_KEEP 5
#define HEALTH_OUT_MAX 4096 /* docker's */

static int64_t interval(const struct run_config *c)
{
	return c->health.interval_ns > 0 ? c->health.interval_ns : 30LL * 1000000000;
}

static int64_t timeout(const struct run_config *c)
{
	return c->health.timeout_ns > 0 ? c->health.timeout_ns : 30LL * 1000000000;
}

bool run_health_enabled(const struct run_config *c)
{
	return c->health.test && c->health.test[0] && strcmp(c->health.test[0], "NONE") != 0;
}

static void write_state(struct run_health_run *h, const char *bundle)
{
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "Status", h->status);
	cm_jw_kint(&w, "FailingStreak", h->streak);
	cm_jw_key(&w, "Log");
	cm_jw_arr(&w);
	for (size_t i = 0; i < h->n_log; i++) {
		const struct run_health_result *r = &h->log[i];
		char a[64], b[64];
		run_time_fmt_ns(r->start_ns, a, sizeof(a));
		run_time_fmt_ns(r->end_ns, b, sizeof(b));
		cm_jw_obj(&w);
		cm_jw_kstr(&w, "Start", a);
		cm_jw_kstr(&w, "End", b);
		cm_jw_kint(&w, "ExitCode", r->code);
		cm_jw_kstr(&w, "Output", r->out);
		cm_jw_obj_end(&w);
	}
	cm_jw_arr_end(&w);
	cm_jw_obj_end(&w);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (cm_jw_finish(&w, &text, &len) == 0)
		(void)run_write_atomic(bundle, "health.json", text, len);
}

void run_health_begin(struct run_health_run *h, const struct run_config *c, const char *bundle,
		      int64_t now)
{
	memset(h, 0, sizeof(*h));
	h->pid = -1;
	h->out = -1;
	if (!run_health_enabled(c))
		return;
	h->on = true;
	h->life_start_ns = now;
	h->next_ns = now + interval(c);
	snprintf(h->status, sizeof(h->status), "starting");
	write_state(h, bundle);
}

int run_health_poll_ms(const struct run_health_run *h, int64_t now)
{
	if (!h->on)
		return -1;
	int64_t due = h->pid > 0 ? h->deadline_ns : h->next_ns;
	int64_t ms = (due - now) / 1000000;
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

static void child(const struct run_config *c, const char *bundle, int out)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(RUN_EXIT_IMG);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	char *sh[] = { (char *)"/bin/sh", (char *)"-c", NULL, NULL };
	struct run_exec x = { 0 };
	if (strcmp(c->health.test[0], "CMD-SHELL") == 0) {
		sh[2] = c->health.test[1];
		x.argv = sh;
	} else {
		x.argv = c->health.test + (strcmp(c->health.test[0], "CMD") == 0);
	}
	if (!x.argv[0])
		_exit(RUN_EXIT_IMG);
	int code = RUN_EXIT_IMG;
	struct cm_error e = { 0 };
	if (run_container_exec(bundle, &x, &code, &e) < 0)
		dprintf(2, "%s\n", e.msg);
	_exit(code);
}

void run_health_tick(struct run_health_run *h, const struct run_config *c, const char *bundle,
		     int64_t now)
{
	if (!h->on)
		return;
	if (h->pid > 0) {
		if (now >= h->deadline_ns && !h->timed_out) { /* docker's timeout */
			h->timed_out = true;
			kill(h->pid, SIGKILL);
		}
		return;
	}
	if (now < h->next_ns)
		return;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0)
		child(c, bundle, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		h->next_ns = now + interval(c);
		return;
	}
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	h->pid = pid;
	h->out = p[0];
	h->len = 0;
	h->timed_out = false;
	h->started_ns = now;
	h->deadline_ns = now + timeout(c);
}

void run_health_drain(struct run_health_run *h)
{
	while (h->out >= 0 && h->len < sizeof(h->buf) - 1) {
		ssize_t k = read(h->out, h->buf + h->len, sizeof(h->buf) - 1 - h->len);
		if (k <= 0)
			break;
		h->len += (size_t)k;
	}
}

bool run_health_reaped(struct run_health_run *h, const struct run_config *c, const char *bundle,
		       pid_t w, int status)
{
	if (!h->on || w != h->pid)
		return false;
	int64_t now = run_now_ns();
	run_health_drain(h);
	cm_close(&h->out);
	h->buf[h->len] = '\0';
	struct run_health_result r = { .start_ns = h->started_ns, .end_ns = now };
	if (h->timed_out) {
		r.code = -1;
		snprintf(r.out, sizeof(r.out), "Health check exceeded timeout (%llds)",
			 (long long)(timeout(c) / 1000000000));
	} else {
		r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		snprintf(r.out, sizeof(r.out), "%s", h->buf);
	}
	if (h->n_log == HEALTH_LOG_KEEP) {
		memmove(h->log, h->log + 1, (HEALTH_LOG_KEEP - 1) * sizeof(h->log[0]));
		h->n_log--;
	}
	h->log[h->n_log++] = r;
	char old[16];
	snprintf(old, sizeof(old), "%s", h->status);
	bool in_start = now - h->life_start_ns < c->health.start_period_ns;
	int retries = c->health.retries > 0 ? c->health.retries : 3;
	if (r.code == 0) {
		h->streak = 0;
		snprintf(h->status, sizeof(h->status), "healthy");
	} else if (!in_start) { /* failures in the start period do not count */
		if (++h->streak >= retries)
			snprintf(h->status, sizeof(h->status), "unhealthy");
	}
	h->pid = -1;
	h->next_ns = now + interval(c);
	write_state(h, bundle);
	if (strcmp(old, h->status) != 0) {
		char action[48];
		snprintf(action, sizeof(action), "health_status: %s", h->status);
		run_event_container(bundle, c, action, NULL);
	}
	return true;
}

void run_health_end(struct run_health_run *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	cm_close(&h->out);
	h->pid = -1;
}

int run_health_from_json(const struct cm_json *j, struct run_healthcheck *ret)
{
	const struct cm_json *t = cm_json_get(j, "Test");
	if (!cm_json_is(t, CM_JSON_ARRAY) || !t->n)
		return 0;
	char **v = calloc(t->n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const char *s = cm_json_str(t->v[i]);
		if (!(v[i] = strdup(s ? s : ""))) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return -ENOMEM;
		}
	}
	for (char **p = ret->test; p && *p; p++)
		free(*p);
	free(ret->test);
	ret->test = v;
	int64_t n;
	if (cm_json_get_int(j, "Interval", &n) && n > 0)
		ret->interval_ns = n;
	if (cm_json_get_int(j, "Timeout", &n) && n > 0)
		ret->timeout_ns = n;
	if (cm_json_get_int(j, "StartPeriod", &n) && n > 0)
		ret->start_period_ns = n;
	if (cm_json_get_int(j, "Retries", &n) && n > 0 && n < 1000000)
		ret->retries = (int)n;
	return 0;
}

void run_health_json(const struct run_healthcheck *h, struct cm_jw *w)
{
	cm_jw_obj(w);
	cm_jw_key(w, "Test");
	cm_jw_arr(w);
	for (char **p = h->test; p && *p; p++)
		cm_jw_str(w, *p);
	cm_jw_arr_end(w);
	if (h->interval_ns)
		cm_jw_kint(w, "Interval", h->interval_ns);
	if (h->timeout_ns)
		cm_jw_kint(w, "Timeout", h->timeout_ns);
	if (h->start_period_ns)
		cm_jw_kint(w, "StartPeriod", h->start_period_ns);
	if (h->retries)
		cm_jw_kint(w, "Retries", h->retries);
	cm_jw_obj_end(w);
}

int run_health_read(const char *bundle, char **ret, size_t *ret_len)
{
	_cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? cm_neg_errno() : run_read_file_at(dfd, "health.json", 1 << 16, ret, ret_len);
}

const char *run_health_status(const char *bundle, char *buf, size_t sz)
{
	_cleanup_free_ char *t = NULL;
	_cleanup_json_ struct cm_json *j = NULL;
	size_t len;
	if (run_health_read(bundle, &t, &len) < 0 || cm_json_parse(t, len, &j, NULL, 0) < 0 ||
	    !cm_json_get_str(j, "Status"))
		return NULL;
	snprintf(buf, sz, "%s", cm_json_get_str(j, "Status"));
	return buf;
}
