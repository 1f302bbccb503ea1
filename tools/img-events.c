// SPDX-License-Identifier: MIT
/* img events (issue 14): the journal the commands and the monitors append
 * to (runner/events.c: RUN/events.jsonl, one rotated generation) read back
 * with docker's --since, --until, --filter and --format. Without --until it
 * follows the journal until interrupted, as docker's stream does; without
 * --since it starts now. */
#include "img-run.h"
#include "img-format.h"
#include "cm.h"
#include "ims.h"
#include "run.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ev_ctx {
	const struct cm_json *ev;
};

static const char *attr(const struct cm_json *ev, const char *k)
{
	return cm_json_get_str(cm_json_get(cm_json_get(ev, "Actor"), "Attributes"), k);
}

static bool ev_filter_one(const struct img_filter *f, void *ctx)
{
	const struct cm_json *ev = ((struct ev_ctx *)ctx)->ev;
	const char *type = cm_json_get_str(ev, "Type"), *action = cm_json_get_str(ev, "Action");
	const char *id = cm_json_get_str(cm_json_get(ev, "Actor"), "ID");
	const char *name = attr(ev, "name");
	if (!type || !action || !id)
		return false;
	if (strcmp(f->key, "type") == 0)
		return strcmp(type, f->val) == 0;
	if (strcmp(f->key, "event") == 0) /* health_status: ... matches its prefix */
		return strcmp(action, f->val) == 0 ||
		       (strncmp(action, f->val, strlen(f->val)) == 0 && action[strlen(f->val)] == ':');
	if (strcmp(f->key, "container") == 0)
		return strcmp(type, "container") == 0 &&
		       ((strlen(f->val) >= 4 && strncmp(id, f->val, strlen(f->val)) == 0) ||
			cm_streq(name, f->val));
	if (strcmp(f->key, "image") == 0) {
		const char *img = attr(ev, "image");
		return cm_streq(img, f->val) || (strcmp(type, "image") == 0 && (cm_streq(name, f->val) ||
										 strcmp(id, f->val) == 0));
	}
	if (strcmp(f->key, "volume") == 0)
		return strcmp(type, "volume") == 0 && strcmp(id, f->val) == 0;
	if (strcmp(f->key, "network") == 0)
		return strcmp(type, "network") == 0 && (strcmp(id, f->val) == 0 || cm_streq(name, f->val));
	if (strcmp(f->key, "label") == 0) {
		const char *eq = strchr(f->val, '=');
		char k[256];
		snprintf(k, sizeof(k), "%.*s", eq ? (int)(eq - f->val) : (int)strlen(f->val), f->val);
		const char *v = attr(ev, k);
		return v && (!eq || strcmp(v, eq + 1) == 0);
	}
	if (strcmp(f->key, "scope") == 0)
		return strcmp(f->val, "local") == 0;
	return false;
}

static void fmt_ns(int64_t ns, char *buf, size_t sz)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sz - n, ".%09lldZ", (long long)(ns % 1000000000));
}

/* docker's line: "2026-12-02T01:00:00.123456789Z container start ID (a=b, name=x)" */
static void ev_print(const struct cm_json *ev)
{
	int64_t ns = 0;
	(void)cm_json_get_int(ev, "timeNano", &ns);
	char when[64];
	fmt_ns(ns, when, sizeof(when));
	const struct cm_json *a = cm_json_get(cm_json_get(ev, "Actor"), "Attributes");
	printf("%s %s %s %s", when, cm_json_get_str(ev, "Type"), cm_json_get_str(ev, "Action"),
	       cm_json_get_str(cm_json_get(ev, "Actor"), "ID"));
	if (cm_json_is(a, CM_JSON_OBJECT) && a->n) {
		/* sorted by key, as docker's */
		size_t order[256], n = a->n < 256 ? a->n : 256;
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && strcmp(a->k[order[j - 1]], a->k[order[j]]) > 0; j--) {
				size_t t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		fputs(" (", stdout);
		for (size_t i = 0; i < n; i++) {
			const char *v = cm_json_str(a->v[order[i]]);
			printf("%s%s=%s", i ? ", " : "", a->k[order[i]], v ? v : "");
		}
		putchar(')');
	}
	putchar('\n');
}

/* The template's view of an event: the API object, plus the Go struct's
 * field names (Status, ID, From, Scope, Time, TimeNano). */
static struct cm_json *ev_data(const char *line, size_t len)
{
	struct cm_json *j = NULL;
	if (cm_json_parse(line, len, &j, NULL, 0) < 0)
		return NULL;
	static const char *const alias[][2] = { { "Status", "status" }, { "ID", "id" }, { "From", "from" },
						{ "Scope", "scope" }, { "Time", "time" },
						{ "TimeNano", "timeNano" } };
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	for (size_t i = 0; i < j->n; i++) {
		cm_jw_key(&w, j->k[i]);
		cm_jw_value(&w, j->v[i]);
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(alias); i++) {
		const struct cm_json *v = cm_json_get(j, alias[i][1]);
		cm_jw_key(&w, alias[i][0]);
		if (v)
			cm_jw_value(&w, v);
		else
			cm_jw_str(&w, "");
	}
	cm_jw_obj_end(&w);
	cm_json_free(j);
	_cleanup_free_ char *text = NULL;
	size_t tl;
	struct cm_json *out = NULL;
	if (cm_jw_finish(&w, &text, &tl) < 0 || cm_json_parse(text, tl, &out, NULL, 0) < 0)
		return NULL;
	return out;
}

struct ev_opts {
	int64_t since, until; /* ns, 0: none */
	const struct img_filter *fs;
	size_t nf;
	const char *format;
};

/* One journal line: 1 printed or skipped, 0 past --until, 125 on a
 * template error. */
static int ev_line(const struct ev_opts *o, const char *line, size_t len)
{
	_cleanup_json_ struct cm_json *ev = ev_data(line, len);
	int64_t ns = 0;
	if (!ev || !cm_json_get_int(ev, "timeNano", &ns))
		return 1;
	if (o->until && ns > o->until)
		return 0;
	if (ns < o->since || !img_filters_match(o->fs, o->nf, ev_filter_one, &(struct ev_ctx){ ev }))
		return 1;
	if (!o->format) {
		ev_print(ev);
	} else if (strcmp(o->format, "json") == 0) {
		printf("%.*s\n", (int)len, line);
	} else {
		int r = img_fmt_once(o->format, ev);
		if (r)
			return r;
	}
	fflush(stdout);
	return 1;
}

/* Every whole line of fd from *off on; *off moves past them. */
static int ev_read(const struct ev_opts *o, int fd, off_t *off)
{
	char buf[1 << 16];
	size_t have = 0;
	for (;;) {
		ssize_t k = pread(fd, buf + have, sizeof(buf) - have, *off + (off_t)have);
		if (k <= 0)
			return 1;
		have += (size_t)k;
		char *start = buf, *nl;
		while ((nl = memchr(start, '\n', have - (size_t)(start - buf)))) {
			int r = ev_line(o, start, (size_t)(nl - start));
			*off += nl - start + 1;
			start = nl + 1;
			if (r != 1)
				return r;
		}
		have -= (size_t)(start - buf);
		memmove(buf, start, have);
		if (have == sizeof(buf)) { /* a line longer than the buffer: skipped */
			*off += (off_t)have;
			have = 0;
		}
	}
}

static volatile sig_atomic_t ev_stop;
static void on_int(int sig)
{
	(void)sig;
	ev_stop = 1;
}

int img_cmd_events(int argc, char **argv)
{
	static const char *const keys[] = { "container", "event", "image", "label", "network", "scope",
					    "type", "volume", "daemon" };
	struct img_filter fs[IMG_MAX_FILTERS];
	struct ev_opts o = { .fs = fs };
	int64_t now = run_now_ns();
	bool since_set = false;
	struct cm_error e = { 0 };
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		switch (c) {
		case OPT_SINCE:
		case OPT_UNTIL:
			if (run_parse_log_time(optarg, now, c == OPT_SINCE ? &o.since : &o.until, &e) < 0)
				return img_fail_err(&e);
			since_set |= c == OPT_SINCE;
			break;
		case 'f':
			if (img_filter_add(fs, &o.nf, optarg, keys, CM_ARRAY_SIZE(keys)))
				return IMG_EXIT;
			break;
		case OPT_FORMAT: o.format = optarg; break;
		default: return img_opt_exit(c);
		}
	}
	if (!since_set)
		o.since = now;
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	if (img_open_store(&s, &e) < 0)
		return img_fail_err(&e);
	char p[PATH_MAX], old[PATH_MAX + 8];
	snprintf(p, sizeof(p), "%s/events.jsonl", ims_store_rundir(s));
	snprintf(old, sizeof(old), "%s.1", p);
	ims_store_free(TAKE_PTR(s)); /* no store lock while following */
	int r = 1;
	off_t off = 0;
	_cleanup_close_ int ofd = since_set ? open(old, O_RDONLY | O_CLOEXEC) : -1;
	if (ofd >= 0)
		r = ev_read(&o, ofd, &off);
	if (r != 1)
		return r == 0 ? 0 : r;
	struct sigaction sa = { .sa_handler = on_int };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	_cleanup_close_ int fd = -1;
	struct stat st;
	ino_t ino = 0;
	off = 0;
	for (;;) {
		if (fd < 0 && (fd = open(p, O_RDONLY | O_CLOEXEC)) >= 0 && fstat(fd, &st) == 0) {
			ino = st.st_ino;
			/* without --since: only what comes from now on */
			off = since_set ? 0 : st.st_size;
		}
		if (fd >= 0 && (r = ev_read(&o, fd, &off)) != 1)
			return r == 0 ? 0 : r;
		if (ev_stop || (o.until && run_now_ns() > o.until))
			return 0;
		/* rotated: the new file from its start */
		if (fd >= 0 && stat(p, &st) == 0 && st.st_ino != ino) {
			(void)ev_read(&o, fd, &off);
			cm_close(&fd);
			since_set = true;
		}
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}
