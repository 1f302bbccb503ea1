// SPDX-License-Identifier: MIT
/* img events' journal (issue 14): one JSON line per event (docker's API
 * form: status, id, from, Type, Action, Actor{ID, Attributes}, scope, time,
 * timeNano) appended to RUN/events.jsonl by the commands and the monitor.
 * Each line is one O_APPEND write (under PIPE_BUF bytes the kernel keeps
 * concurrent appends whole on a local filesystem); past RUN_EVENTS_MAX the
 * file becomes events.jsonl.1 (one generation kept). The run dir is tmpfs
 * for the default store: like docker's, the journal does not outlive a
 * reboot. Nothing here may fail a command: errors are dropped. */
#include "run-internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void run_event_append(const char *rundir, const char *type, const char *action, const char *id,
		      const char *from, char *const *attrs)
{
	if (!rundir)
		return;
	int64_t now = run_now_ns();
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	if (strcmp(type, "container") == 0 || strcmp(type, "image") == 0) {
		cm_jw_kstr(&w, "status", action); /* docker's deprecated fields */
		cm_jw_kstr(&w, "id", id);
		if (from)
			cm_jw_kstr(&w, "from", from);
	}
	cm_jw_kstr(&w, "Type", type);
	cm_jw_kstr(&w, "Action", action);
	cm_jw_key(&w, "Actor");
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "ID", id);
	cm_jw_key(&w, "Attributes");
	cm_jw_obj(&w);
	for (char *const *a = attrs; a && *a; a++) {
		const char *eq = strchr(*a, '=');
		char k[256];
		if (!eq)
			continue;
		snprintf(k, sizeof(k), "%.*s", (int)(eq - *a), *a);
		cm_jw_kstr(&w, k, eq + 1);
	}
	cm_jw_obj_end(&w);
	cm_jw_obj_end(&w);
	cm_jw_kstr(&w, "scope", "local");
	cm_jw_kint(&w, "time", now / 1000000000);
	cm_jw_kint(&w, "timeNano", now);
	cm_jw_obj_end(&w);
	_cleanup_free_ char *line = NULL;
	size_t len;
	if (cm_jw_finish(&w, &line, &len) < 0)
		return;
	char p[PATH_MAX], old[PATH_MAX + 8];
	snprintf(p, sizeof(p), "%s/events.jsonl", rundir);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > RUN_EVENTS_MAX) {
		snprintf(old, sizeof(old), "%s.1", p);
		(void)rename(p, old);
	}
	char *nl = realloc(line, len + 2);
	if (!nl)
		return;
	line = nl;
	line[len] = '\n';
	(void)!write(fd, line, len + 1);
}

void run_event_container(const char *bundle, const struct run_config *c, const char *action,
			 char *const *extra)
{
	char rundir[PATH_MAX];
	snprintf(rundir, sizeof(rundir), "%s", bundle);
	for (int i = 0; i < 2; i++) { /* RUN/containers/<id> -> RUN */
		char *slash = strrchr(rundir, '/');
		if (!slash)
			return;
		*slash = '\0';
	}
	_cleanup_run_config_ struct run_config *own = NULL;
	if (!c && run_config_read(bundle, &own, NULL) < 0)
		return;
	if (!c)
		c = own;
	size_t n = 0;
	for (char *const *a = extra; a && *a; a++)
		n++;
	for (char **l = c->labels; l && *l; l++)
		n++;
	_cleanup_free_ char **attrs = calloc(n + 3, sizeof(char *));
	_cleanup_free_ char *img = NULL, *name = NULL;
	if (!attrs || asprintf(&img, "image=%s", c->image ? c->image : "") < 0 ||
	    asprintf(&name, "name=%s", c->name ? c->name : "") < 0)
		return;
	size_t k = 0;
	for (char **l = c->labels; l && *l; l++)
		attrs[k++] = *l; /* docker's: the container's labels, then these */
	for (char *const *a = extra; a && *a; a++)
		attrs[k++] = *a;
	attrs[k++] = img;
	attrs[k++] = name;
	run_event_append(rundir, "container", action, c->id, c->image, attrs);
}
