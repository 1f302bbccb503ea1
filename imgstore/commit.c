// SPDX-License-Identifier: MIT
/* img commit (the rw branch -> a new layer over the container's image) and
 * img export (the flattened rootfs as a tar). Commit order: gzip blob to a
 * temp, layer unpacked from it and published, blob published, then config,
 * manifest and name: a failure or kill -9 leaves only unreferenced objects,
 * which fsck accepts and gc removes. */
#include "ims-internal.h"
#include "cm-platform.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int gz_out(void *ctx, const void *buf, size_t len, struct cm_error *err)
{
	return ims_gz_write(ctx, buf, len, err);
}

/* ------------------------------------------------------- config changes */

struct changes {
	char *cmd, *entrypoint; /* JSON arrays */
	char *workdir, *user;
	char **env;             /* "K=V" */
	size_t n_env;
	/* VOLUME, EXPOSE, LABEL: keys added to the image's Volumes,
	 * ExposedPorts and Labels ("K=V" for labels); STOPSIGNAL replaces */
	char **vols, **ports, **labels;
	size_t n_vols, n_ports, n_labels;
	char *stopsignal;
	char *healthcheck; /* the Healthcheck object, JSON */
};

/* A Dockerfile duration of HEALTHCHECK's options: 30s, 500ms, 1m30s. */
static int64_t hc_duration(const char *s, size_t n)
{
	int64_t total = 0;
	const char *p = s, *end = s + n;
	while (p < end) {
		char *q;
		double v = strtod(p, &q);
		if (q == p || q >= end + 1)
			return -1;
		int64_t unit;
		if (q + 1 < end + 1 && strncmp(q, "ms", 2) == 0)
			unit = 1000000, q += 2;
		else if (*q == 's')
			unit = 1000000000LL, q++;
		else if (*q == 'm')
			unit = 60000000000LL, q++;
		else if (*q == 'h')
			unit = 3600000000000LL, q++;
		else
			return -1;
		total += (int64_t)(v * (double)unit);
		p = q;
	}
	return total;
}

/* HEALTHCHECK NONE | HEALTHCHECK [--interval=D] [--timeout=D]
 * [--start-period=D] [--retries=N] CMD command (shell or JSON form) */
static int health_change(const char *s, const char *rest, struct changes *c, struct cm_error *err)
{
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	if (strncasecmp(rest, "NONE", 4) == 0 && !rest[4]) {
		cm_jw_key(&w, "Test");
		cm_jw_arr(&w);
		cm_jw_str(&w, "NONE");
		cm_jw_arr_end(&w);
	} else {
		while (strncmp(rest, "--", 2) == 0) {
			size_t l = strcspn(rest, " \t");
			const char *eq = memchr(rest, '=', l);
			if (!eq) {
				cm_jw_free(&w);
				return cm_error_set(err, -EINVAL, "--change '%s': HEALTHCHECK options are --NAME=VALUE", s);
			}
			size_t kl = (size_t)(eq - rest - 2), vl = l - kl - 3;
			static const char *const keys[][2] = { { "interval", "Interval" }, { "timeout", "Timeout" },
							       { "start-period", "StartPeriod" }, { "retries", "Retries" } };
			size_t k;
			for (k = 0; k < 4; k++)
				if (strlen(keys[k][0]) == kl && strncmp(rest + 2, keys[k][0], kl) == 0)
					break;
			int64_t v = k == 3 ? strtoll(eq + 1, NULL, 10) : k < 3 ? hc_duration(eq + 1, vl) : -1;
			if (v < 0) {
				cm_jw_free(&w);
				return cm_error_set(err, -EINVAL, "--change '%s': bad HEALTHCHECK option", s);
			}
			cm_jw_kint(&w, keys[k][1], v);
			rest += l;
			while (*rest == ' ' || *rest == '\t')
				rest++;
		}
		if (strncasecmp(rest, "CMD", 3) != 0 || (rest[3] != ' ' && rest[3] != '\t')) {
			cm_jw_free(&w);
			return cm_error_set(err, -EINVAL, "--change '%s': HEALTHCHECK needs CMD or NONE", s);
		}
		rest += 4;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		_cleanup_json_ struct cm_json *j = NULL;
		cm_jw_key(&w, "Test");
		cm_jw_arr(&w);
		if (*rest == '[' && cm_json_parse(rest, strlen(rest), &j, NULL, 0) == 0 &&
		    cm_json_is(j, CM_JSON_ARRAY)) {
			cm_jw_str(&w, "CMD");
			for (size_t i = 0; i < j->n; i++)
				cm_jw_str(&w, cm_json_str(j->v[i]) ? cm_json_str(j->v[i]) : "");
		} else {
			cm_jw_str(&w, "CMD-SHELL");
			cm_jw_str(&w, rest);
		}
		cm_jw_arr_end(&w);
	}
	cm_jw_obj_end(&w);
	free(c->healthcheck);
	c->healthcheck = NULL;
	if (cm_jw_finish(&w, &c->healthcheck, NULL) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int strv_append(char ***v, size_t *n, const char *s, size_t len)
{
	char *d = strndup(s, len);
	char **nv = d ? realloc(*v, (*n + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(d);
		return -ENOMEM;
	}
	nv[(*n)++] = d;
	*v = nv;
	return 0;
}

/* VOLUME ["/a", "/b"] | VOLUME /a /b; EXPOSE 80 53/udp: words into v (a
 * port without a protocol gets /tcp). */
static int words_change(const char *s, const char *rest, bool ports, char ***v, size_t *n,
			struct cm_error *err)
{
	if (*rest == '[') {
		_cleanup_json_ struct cm_json *j = NULL;
		if (cm_json_parse(rest, strlen(rest), &j, NULL, 0) < 0 || !cm_json_is(j, CM_JSON_ARRAY))
			return cm_error_set(err, -EINVAL, "--change '%s': not a JSON array", s);
		for (size_t i = 0; i < j->n; i++) {
			const char *w = cm_json_str(j->v[i]);
			if (!w || strv_append(v, n, w, strlen(w)) < 0)
				return cm_error_set(err, -EINVAL, "--change '%s': must hold strings", s);
		}
		return 0;
	}
	for (const char *p = rest; *p;) {
		size_t l = strcspn(p, " \t");
		if (l) {
			char w[300];
			if (l > 256)
				return cm_error_set(err, -EINVAL, "--change '%s': word too long", s);
			snprintf(w, sizeof(w), "%.*s%s", (int)l, p, ports && !memchr(p, '/', l) ? "/tcp" : "");
			if (strv_append(v, n, w, strlen(w)) < 0)
				return cm_error_set(err, -ENOMEM, "out of memory");
		}
		p += l;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (!*n)
		return cm_error_set(err, -EINVAL, "--change '%s': needs a value", s);
	return 0;
}

/* LABEL k=v k2="v 2" */
static int label_change(const char *s, const char *rest, struct changes *c, struct cm_error *err)
{
	const char *p = rest;
	while (*p) {
		char kv[1024];
		size_t o = 0;
		bool q = false;
		for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '"') {
				q = !q;
				continue;
			}
			if (*p == '\\' && p[1])
				p++;
			if (o + 1 < sizeof(kv))
				kv[o++] = *p;
		}
		kv[o] = '\0';
		if (o && !strchr(kv, '='))
			return cm_error_set(err, -EINVAL, "--change '%s': LABEL needs KEY=VALUE", s);
		if (o && strv_append(&c->labels, &c->n_labels, kv, o) < 0)
			return cm_error_set(err, -ENOMEM, "out of memory");
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (!c->n_labels)
		return cm_error_set(err, -EINVAL, "--change '%s': LABEL needs KEY=VALUE", s);
	return 0;
}

static void changes_free(struct changes *c)
{
	free(c->cmd);
	free(c->entrypoint);
	free(c->workdir);
	free(c->user);
	for (size_t i = 0; i < c->n_env; i++)
		free(c->env[i]);
	free(c->env);
	for (size_t i = 0; i < c->n_vols; i++)
		free(c->vols[i]);
	free(c->vols);
	for (size_t i = 0; i < c->n_ports; i++)
		free(c->ports[i]);
	free(c->ports);
	for (size_t i = 0; i < c->n_labels; i++)
		free(c->labels[i]);
	free(c->labels);
	free(c->stopsignal);
	free(c->healthcheck);
}

/* 'CMD ["a","b"]' (exec form) or 'CMD a b' (shell form: sh -c) -> JSON. */
static int argv_json(const char *rest, char **ret, struct cm_error *err)
{
	if (*rest == '[') {
		_cleanup_json_ struct cm_json *j = NULL;
		if (cm_json_parse(rest, strlen(rest), &j, NULL, 0) < 0 || !cm_json_is(j, CM_JSON_ARRAY))
			return cm_error_set(err, -EINVAL, "--change: '%s' is not a JSON array", rest);
		for (size_t i = 0; i < j->n; i++)
			if (!cm_json_is(j->v[i], CM_JSON_STRING))
				return cm_error_set(err, -EINVAL, "--change: '%s' must hold strings", rest);
	}
	struct cm_jw w;
	cm_jw_init(&w, 0);
	if (*rest == '[') {
		_cleanup_json_ struct cm_json *j = NULL;
		cm_json_parse(rest, strlen(rest), &j, NULL, 0);
		cm_jw_value(&w, j);
	} else {
		cm_jw_arr(&w);
		cm_jw_str(&w, "/bin/sh");
		cm_jw_str(&w, "-c");
		cm_jw_str(&w, rest);
		cm_jw_arr_end(&w);
	}
	if (cm_jw_finish(&w, ret, NULL) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int parse_changes(const char *const *v, struct changes *c, struct cm_error *err)
{
	for (size_t i = 0; v && v[i]; i++) {
		const char *s = v[i];
		while (*s == ' ')
			s++;
		size_t kl = strcspn(s, " \t");
		const char *rest = s + kl;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		int r = 0;
		char **slot = NULL;
		if (kl == 3 && strncasecmp(s, "CMD", 3) == 0) {
			free(c->cmd);
			r = argv_json(rest, &c->cmd, err);
		} else if (kl == 10 && strncasecmp(s, "ENTRYPOINT", 10) == 0) {
			free(c->entrypoint);
			r = argv_json(rest, &c->entrypoint, err);
		} else if (kl == 7 && strncasecmp(s, "WORKDIR", 7) == 0) {
			slot = &c->workdir;
		} else if (kl == 4 && strncasecmp(s, "USER", 4) == 0) {
			slot = &c->user;
		} else if (kl == 3 && strncasecmp(s, "ENV", 3) == 0) {
			/* ENV K=V or ENV K V */
			size_t nl = strcspn(rest, "= \t");
			if (nl == 0)
				return cm_error_set(err, -EINVAL, "--change '%s': ENV needs a name", s);
			const char *val = rest + nl;
			if (*val == '=' || *val == ' ' || *val == '\t')
				val++;
			char *kv = NULL;
			if (asprintf(&kv, "%.*s=%s", (int)nl, rest, val) < 0)
				return cm_error_set(err, -ENOMEM, "out of memory");
			char **ne = realloc(c->env, (c->n_env + 1) * sizeof(*ne));
			if (!ne) {
				free(kv);
				return cm_error_set(err, -ENOMEM, "out of memory");
			}
			c->env = ne;
			c->env[c->n_env++] = kv;
			continue;
		} else if (kl == 6 && strncasecmp(s, "VOLUME", 6) == 0) {
			r = words_change(s, rest, false, &c->vols, &c->n_vols, err);
		} else if (kl == 6 && strncasecmp(s, "EXPOSE", 6) == 0) {
			r = words_change(s, rest, true, &c->ports, &c->n_ports, err);
		} else if (kl == 5 && strncasecmp(s, "LABEL", 5) == 0) {
			r = label_change(s, rest, c, err);
		} else if (kl == 10 && strncasecmp(s, "STOPSIGNAL", 10) == 0) {
			slot = &c->stopsignal;
		} else if (kl == 11 && strncasecmp(s, "HEALTHCHECK", 11) == 0) {
			r = health_change(s, rest, c, err);
		} else {
			return cm_error_set(err, -EINVAL,
					    "--change '%s': only CMD, ENTRYPOINT, ENV, WORKDIR, USER, VOLUME, EXPOSE, LABEL, STOPSIGNAL and HEALTHCHECK are supported",
					    s);
		}
		if (r < 0)
			return r;
		if (slot) {
			if (!*rest)
				return cm_error_set(err, -EINVAL, "--change '%s': needs a value", s);
			free(*slot);
			if (!(*slot = strdup(rest)))
				return cm_error_set(err, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

static void write_raw_json(struct cm_jw *w, const char *text)
{
	_cleanup_json_ struct cm_json *j = NULL;
	if (cm_json_parse(text, strlen(text), &j, NULL, 0) == 0)
		cm_jw_value(w, j);
	else
		cm_jw_null(w);
}

static bool env_same_key(const char *a, const char *b)
{
	size_t la = strcspn(a, "="), lb = strcspn(b, "=");
	return la == lb && strncmp(a, b, la) == 0;
}

static void write_env(struct cm_jw *w, const struct cm_json *old, const struct changes *c)
{
	cm_jw_arr(w);
	for (size_t i = 0; cm_json_is(old, CM_JSON_ARRAY) && i < old->n; i++) {
		const char *e = cm_json_str(old->v[i]);
		if (!e)
			continue;
		bool replaced = false;
		for (size_t k = 0; k < c->n_env; k++)
			replaced |= env_same_key(e, c->env[k]);
		if (!replaced)
			cm_jw_str(w, e);
	}
	for (size_t k = 0; k < c->n_env; k++) {
		bool later = false; /* the last ENV of a key wins */
		for (size_t j = k + 1; j < c->n_env; j++)
			later |= env_same_key(c->env[k], c->env[j]);
		if (!later)
			cm_jw_str(w, c->env[k]);
	}
	cm_jw_arr_end(w);
}

/* An object of the image's (Volumes, ExposedPorts: keys to {}; Labels:
 * KEY=VALUE strings) with the new keys added. */
static void write_merged(struct cm_jw *w, const char *key, const struct cm_json *old, char **add,
			 size_t n, bool kv)
{
	if (!n && !old)
		return;
	cm_jw_key(w, key);
	cm_jw_obj(w);
	for (size_t i = 0; cm_json_is(old, CM_JSON_OBJECT) && i < old->n; i++) {
		bool replaced = false;
		for (size_t k = 0; k < n; k++)
			replaced |= kv ? env_same_key(old->k[i], add[k]) && strlen(old->k[i]) == strcspn(add[k], "=")
				       : strcmp(old->k[i], add[k]) == 0;
		if (replaced)
			continue;
		cm_jw_key(w, old->k[i]);
		cm_jw_value(w, old->v[i]);
	}
	for (size_t k = 0; k < n; k++) {
		bool later = false;
		for (size_t j = k + 1; j < n; j++)
			later |= kv ? env_same_key(add[k], add[j]) : strcmp(add[k], add[j]) == 0;
		if (later)
			continue;
		if (kv) {
			size_t kl = strcspn(add[k], "=");
			char name[1024];
			snprintf(name, sizeof(name), "%.*s", (int)kl, add[k]);
			cm_jw_kstr(w, name, add[k][kl] ? add[k] + kl + 1 : "");
		} else {
			cm_jw_key(w, add[k]);
			cm_jw_obj(w);
			cm_jw_obj_end(w);
		}
	}
	cm_jw_obj_end(w);
}

static void write_runconfig(struct cm_jw *w, const struct cm_json *cc, const struct changes *c)
{
	static const char *const mine[] = { "Cmd", "Entrypoint", "Env", "WorkingDir", "User",
					    "Volumes", "ExposedPorts", "Labels", "StopSignal", "Healthcheck" };
	cm_jw_obj(w);
	for (size_t i = 0; cm_json_is(cc, CM_JSON_OBJECT) && i < cc->n; i++) {
		bool skip = false;
		for (size_t k = 0; k < CM_ARRAY_SIZE(mine); k++)
			skip |= strcmp(cc->k[i], mine[k]) == 0;
		if (skip)
			continue;
		cm_jw_key(w, cc->k[i]);
		cm_jw_value(w, cc->v[i]);
	}
	if (c->user || cm_json_get(cc, "User")) {
		cm_jw_key(w, "User");
		if (c->user)
			cm_jw_str(w, c->user);
		else
			cm_jw_value(w, cm_json_get(cc, "User"));
	}
	cm_jw_key(w, "Env");
	write_env(w, cm_json_get(cc, "Env"), c);
	if (c->entrypoint || cm_json_get(cc, "Entrypoint")) {
		cm_jw_key(w, "Entrypoint");
		if (c->entrypoint)
			write_raw_json(w, c->entrypoint);
		else
			cm_jw_value(w, cm_json_get(cc, "Entrypoint"));
	}
	if (c->cmd || cm_json_get(cc, "Cmd")) {
		cm_jw_key(w, "Cmd");
		if (c->cmd)
			write_raw_json(w, c->cmd);
		else
			cm_jw_value(w, cm_json_get(cc, "Cmd"));
	}
	if (c->workdir || cm_json_get(cc, "WorkingDir")) {
		cm_jw_key(w, "WorkingDir");
		if (c->workdir)
			cm_jw_str(w, c->workdir);
		else
			cm_jw_value(w, cm_json_get(cc, "WorkingDir"));
	}
	write_merged(w, "Volumes", cm_json_get(cc, "Volumes"), c->vols, c->n_vols, false);
	write_merged(w, "ExposedPorts", cm_json_get(cc, "ExposedPorts"), c->ports, c->n_ports, false);
	write_merged(w, "Labels", cm_json_get(cc, "Labels"), c->labels, c->n_labels, true);
	if (c->healthcheck || cm_json_get(cc, "Healthcheck")) {
		cm_jw_key(w, "Healthcheck");
		if (c->healthcheck)
			write_raw_json(w, c->healthcheck);
		else
			cm_jw_value(w, cm_json_get(cc, "Healthcheck"));
	}
	if (c->stopsignal || cm_json_get(cc, "StopSignal")) {
		cm_jw_key(w, "StopSignal");
		if (c->stopsignal)
			cm_jw_str(w, c->stopsignal);
		else
			cm_jw_value(w, cm_json_get(cc, "StopSignal"));
	}
	cm_jw_obj_end(w);
}

/* The rootfs object: the parent's diff_ids, plus diffid (NULL: none). */
static void write_rootfs(struct cm_jw *w, const struct cm_json *cfg, const char *diffid)
{
	cm_jw_key(w, "rootfs");
	cm_jw_obj(w);
	cm_jw_kstr(w, "type", "layers");
	cm_jw_key(w, "diff_ids");
	cm_jw_arr(w);
	const struct cm_json *di = cm_json_get(cm_json_get(cfg, "rootfs"), "diff_ids");
	for (size_t i = 0; cm_json_is(di, CM_JSON_ARRAY) && i < di->n; i++)
		cm_jw_value(w, di->v[i]);
	if (diffid)
		cm_jw_str(w, diffid);
	cm_jw_arr_end(w);
	cm_jw_obj_end(w);
}

/* The history: the parent's entries and a new one (empty_layer: no layer). */
static void write_history(struct cm_jw *w, const struct cm_json *cfg, const char *created,
			  const char *author, const char *by, const char *comment, bool empty)
{
	cm_jw_key(w, "history");
	cm_jw_arr(w);
	const struct cm_json *h = cm_json_get(cfg, "history");
	for (size_t i = 0; cm_json_is(h, CM_JSON_ARRAY) && i < h->n; i++)
		cm_jw_value(w, h->v[i]);
	cm_jw_obj(w);
	cm_jw_kstr(w, "created", created);
	if (author)
		cm_jw_kstr(w, "author", author);
	cm_jw_kstr(w, "created_by", by);
	if (comment)
		cm_jw_kstr(w, "comment", comment);
	if (empty) {
		cm_jw_key(w, "empty_layer");
		cm_jw_bool(w, true);
	}
	cm_jw_obj_end(w);
	cm_jw_arr_end(w);
}

int ims_config_apply_changes(struct cm_jw *w, const struct cm_json *cc, const char *const *changes,
			     struct cm_error *err)
{
	struct changes ch = { 0 };
	int r = parse_changes(changes, &ch, err);
	if (r == 0)
		write_runconfig(w, cc, &ch);
	changes_free(&ch);
	return r;
}

static int new_config(const struct ims_image *img, const struct ims_commit_opts *o,
		      const struct changes *c, const char *diffid, const char *ctr_id,
		      char **ret, size_t *ret_len, struct cm_error *err)
{
	char created[64];
	ims_time_format(o->created >= 0 ? o->created : (int64_t)time(NULL), created, sizeof(created));
	/* created_by: what changed the config, as docker records it */
	char by[2048] = "img commit";
	for (size_t i = 0; o->changes && o->changes[i]; i++) {
		size_t l = strlen(by);
		snprintf(by + l, sizeof(by) - l, " --change '%s'", o->changes[i]);
	}
	const struct cm_json *cfg = img->config;
	static const char *const mine[] = { "created", "author", "config", "rootfs",
					    "history", "container" };
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "created", created);
	if (o->author)
		cm_jw_kstr(&w, "author", o->author);
	for (size_t i = 0; cm_json_is(cfg, CM_JSON_OBJECT) && i < cfg->n; i++) {
		bool skip = false;
		for (size_t k = 0; k < CM_ARRAY_SIZE(mine); k++)
			skip |= strcmp(cfg->k[i], mine[k]) == 0;
		if (skip)
			continue;
		cm_jw_key(&w, cfg->k[i]);
		cm_jw_value(&w, cfg->v[i]);
	}
	cm_jw_kstr(&w, "container", ctr_id);
	cm_jw_key(&w, "config");
	write_runconfig(&w, cm_json_get(cfg, "config"), c);
	write_rootfs(&w, cfg, diffid);
	write_history(&w, cfg, created, o->author, by, o->message, false);
	cm_jw_obj_end(&w);
	if (cm_jw_finish(&w, ret, ret_len) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* Every mtime later than clamp in the tree set to clamp, children first (a
 * tree the caller built: img build's COPY). */
static int clamp_tree(int dfd, int64_t clamp, int depth)
{
	if (depth > 1024)
		return -ELOOP;
	char **names;
	size_t n;
	int r = ims_list_dir(dfd, &names, &n);
	if (r < 0)
		return r;
	struct timespec ts[2] = { { clamp, 0 }, { clamp, 0 } };
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (r == 0 && fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = cm_neg_errno();
		if (r == 0 && S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = sub < 0 ? cm_neg_errno() : clamp_tree(sub, clamp, depth + 1);
			if (sub >= 0)
				close(sub);
		}
		if (r == 0 && st.st_mtim.tv_sec > clamp &&
		    utimensat(dfd, names[i], ts, AT_SYMLINK_NOFOLLOW) < 0)
			r = cm_neg_errno();
		free(names[i]);
	}
	free(names);
	return r;
}

/* Adopt the tree tmp (in s->tmpfd, open as fd) as the unpacked layer diffid:
 * the same content as its tar, without unpacking that tar again. */
static int adopt_tree(struct ims_store *s, const char *tmp, int fd, const char *diffid,
		      struct cm_error *err)
{
	int r = ims_layer_manifest_write(s, fd, diffid, err);
	if (r < 0)
		return r;
	if (s->batch)
		return ims_batch_add(s, IMS_PEND_DIR, s->tmpfd, tmp, s->layersfd, diffid + 7, err);
	if (syncfs(fd) < 0)
		return cm_error_setx(err, cm_neg_errno(), "syncing layer %s", diffid);
	if (renameat2(s->tmpfd, tmp, s->layersfd, diffid + 7, RENAME_NOREPLACE) < 0)
		return errno == EEXIST || errno == ENOTEMPTY
			       ? 0
			       : cm_error_setx(err, cm_neg_errno(), "publishing layer %s", diffid);
	if ((r = cm_fsync_dirfd(s->layersfd)) < 0)
		return cm_error_setx(err, r, "fsync of %s/layers", s->root);
	return 0;
}

int ims_layer_from_tree(struct ims_store *s, int fd, int64_t clamp, struct ims_desc *ret,
			char ret_diffid[CM_DIGEST_STR_LEN], struct cm_error *err)
{
	return ims_layer_from_tree_adopt(s, fd, NULL, clamp, ret, ret_diffid, err);
}

int ims_layer_from_tree_adopt(struct ims_store *s, int fd, const char *adopt, int64_t clamp,
			      struct ims_desc *ret, char ret_diffid[CM_DIGEST_STR_LEN],
			      struct cm_error *err)
{
	struct ims_gz_writer g;
	struct ims_desc layer = { .media_type = IMS_MT_LAYER_GZ };
	char diffid[CM_DIGEST_STR_LEN], diffid2[CM_DIGEST_STR_LEN];
	_cleanup_close_ int bfd = -1;
	int r;
	if (adopt && clamp >= 0 && (r = clamp_tree(fd, clamp, 0)) < 0)
		return cm_error_setx(err, r, "setting the times of %s/tmp/%s", s->root, adopt);
	if ((r = ims_gz_open(s, &g, err)) < 0)
		return r;
	/* the rw branch itself, not the mount: what each file holds when it is
	 * read; ufsmount's work dir is left out (docs/store.md) */
	if ((r = ims_pack_tree_clamped(fd, IMS_PACK_LAYER, clamp, gz_out, &g, err)) < 0) {
		ims_gz_abort(&g);
		return r;
	}
	if ((r = ims_gz_finish_tmp(&g, diffid, layer.digest, &layer.size, err)) < 0)
		return r;
	/* the new layer, unpacked by the same checked code as any layer (not
	 * again when the same content was committed before) */
	if (!ims_layer_exists(s, diffid) && adopt) {
		if ((r = adopt_tree(s, adopt, fd, diffid, err)) < 0) {
			unlinkat(s->tmpfd, g.b.tmp, 0);
			return r;
		}
	} else if (!ims_layer_exists(s, diffid)) {
		bfd = openat(s->tmpfd, g.b.tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (bfd < 0) {
			r = cm_error_setx(err, cm_neg_errno(), "reopening %s/tmp/%s", s->root, g.b.tmp);
			unlinkat(s->tmpfd, g.b.tmp, 0);
			return r;
		}
		if ((r = ims_layer_unpack_fd(s, bfd, diffid, NULL, NULL, diffid2, err)) < 0) {
			unlinkat(s->tmpfd, g.b.tmp, 0);
			return r;
		}
	}
	if ((r = ims_blob_publish_tmp(s, g.b.tmp, layer.digest, err)) < 0)
		return r;
	*ret = layer;
	memcpy(ret_diffid, diffid, CM_DIGEST_STR_LEN);
	return 0;
}

int ims_image_descs(const struct ims_image *img, size_t extra, struct ims_desc **ret,
		    size_t *ret_n, struct cm_error *err)
{
	const struct cm_json *ml = img ? cm_json_get(img->manifest, "layers") : NULL;
	size_t nl = cm_json_is(ml, CM_JSON_ARRAY) ? ml->n : 0;
	struct ims_desc *descs = calloc(nl + extra + 1, sizeof(*descs));
	if (!descs)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < nl; i++) {
		const char *mt = cm_json_get_str(ml->v[i], "mediaType");
		const char *d = cm_json_get_str(ml->v[i], "digest");
		if (!cm_digest_valid(d) || !cm_json_get_int(ml->v[i], "size", &descs[i].size)) {
			free(descs);
			return cm_error_set(err, -EINVAL, "image %s: bad layer descriptor", img->id);
		}
		/* docker media types of a loaded image become their OCI twins */
		if (!mt || strcmp(mt, IMS_MT_DOCKER_LAYER_GZ) == 0)
			mt = IMS_MT_LAYER_GZ;
		else if (strcmp(mt, IMS_MT_DOCKER_LAYER) == 0)
			mt = IMS_MT_LAYER;
		descs[i].media_type = mt;
		snprintf(descs[i].digest, sizeof(descs[i].digest), "%s", d);
	}
	*ret = descs;
	*ret_n = nl;
	return 0;
}

int ims_container_commit(struct ims_store *s, const struct ims_container *c,
			 const struct ims_commit_opts *o,
			 char ret_id[CM_DIGEST_STR_LEN], struct cm_error *err)
{
	_cleanup_free_ char *full = NULL, *cfg = NULL;
	struct changes ch = { 0 };
	int r;
	if (o->name && (r = ims_ref_normalize(o->name, &full, err)) < 0)
		return r;
	if ((r = parse_changes(o->changes, &ch, err)) < 0) {
		changes_free(&ch);
		return r;
	}
	if ((r = ims_store_lock_shared(s, err)) < 0) {
		changes_free(&ch);
		return r;
	}
	_cleanup_close_ int lk = -1, rw = -1;
	_cleanup_image_ struct ims_image *img = NULL;
	char diffid[CM_DIGEST_STR_LEN];
	struct ims_desc *descs = NULL;
	size_t nl;
	struct ims_desc layer;

	if ((r = ims_container_lock(s, c, false, &lk, err)) < 0)
		goto out;
	if ((r = ims_container_image(s, c, &img, err)) < 0)
		goto out;
	if ((r = ims_ctr_open_rw(s, c, &rw, err)) < 0)
		goto out;
	if ((r = ims_layer_from_tree(s, rw, -1, &layer, diffid, err)) < 0) {
		cm_error_prefix(err, r, "commit");
		goto out;
	}
	if ((r = ims_image_descs(img, 1, &descs, &nl, err)) < 0)
		goto out;
	descs[nl] = layer;
	size_t cfglen;
	if ((r = new_config(img, o, &ch, diffid, c->id, &cfg, &cfglen, err)) < 0)
		goto out;
	r = ims_image_publish(s, cfg, cfglen, descs, nl + 1, full, ret_id, NULL, err);
out:
	free(descs);
	changes_free(&ch);
	ims_store_unlock_shared(s);
	return r;
}

/* ---------------------------------------------------------------- derive */

/* Whether the branch holds nothing a layer would keep. */
static bool tree_empty(int fd)
{
	char **names;
	size_t n;
	if (ims_list_dir(fd, &names, &n) < 0)
		return false;
	size_t k = ims_pack_sort_names(names, n, IMS_PACK_LAYER);
	for (size_t i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return k == 0;
}

static int derive_config(const struct ims_image *parent, const struct ims_derive_opts *o,
			 const char *diffid, char **ret, size_t *ret_len, struct cm_error *err)
{
	_cleanup_json_ struct cm_json *rc = NULL;
	if (cm_json_parse(o->config, strlen(o->config), &rc, NULL, 0) < 0 ||
	    !cm_json_is(rc, CM_JSON_OBJECT))
		return cm_error_set(err, -EINVAL, "the new image config is not a JSON object");
	char created[64];
	ims_time_format(o->created >= 0 ? o->created : (int64_t)time(NULL), created, sizeof(created));
	const struct cm_json *pc = parent ? parent->config : NULL;
	const char *arch = cm_json_get_str(pc, "architecture");
	const char *os = cm_json_get_str(pc, "os");
	/* docker's key order; the parent's other keys (variant, os.version)
	 * kept, docker's container/container_config dropped */
	static const char *const mine[] = { "architecture", "author", "config", "created",
					    "history", "os", "rootfs", "container",
					    "container_config", "docker_version" };
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "architecture", arch ? arch : cm_host_arch());
	if (o->author)
		cm_jw_kstr(&w, "author", o->author);
	cm_jw_key(&w, "config");
	cm_jw_value(&w, rc);
	cm_jw_kstr(&w, "created", created);
	write_history(&w, pc, created, o->author, o->created_by ? o->created_by : "", o->comment,
		      !diffid);
	cm_jw_kstr(&w, "os", os ? os : "linux");
	write_rootfs(&w, pc, diffid);
	for (size_t i = 0; cm_json_is(pc, CM_JSON_OBJECT) && i < pc->n; i++) {
		bool skip = false;
		for (size_t k = 0; k < CM_ARRAY_SIZE(mine); k++)
			skip |= strcmp(pc->k[i], mine[k]) == 0;
		if (skip)
			continue;
		cm_jw_key(&w, pc->k[i]);
		cm_jw_value(&w, pc->v[i]);
	}
	cm_jw_obj_end(&w);
	if (cm_jw_finish(&w, ret, ret_len) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

int ims_image_derive(struct ims_store *s, const struct ims_derive_opts *o,
		     char ret_id[CM_DIGEST_STR_LEN], bool *ret_layer, struct cm_error *err)
{
	int r = ims_store_lock_shared(s, err);
	if (r < 0)
		return r;
	if (o->batch)
		ims_batch_begin(s);
	_cleanup_image_ struct ims_image *parent = NULL;
	_cleanup_free_ char *cfg = NULL;
	struct ims_desc *descs = NULL;
	size_t nl = 0, cfglen;
	char diffid[CM_DIGEST_STR_LEN];
	bool layer = o->tree_fd >= 0 && !(o->skip_empty && tree_empty(o->tree_fd));
	if (o->parent && (r = ims_image_resolve(s, o->parent, &parent, err)) < 0)
		goto out;
	if ((r = ims_image_descs(parent, 1, &descs, &nl, err)) < 0)
		goto out;
	if (layer) {
		if ((r = ims_layer_from_tree_adopt(s, o->tree_fd, o->tree_tmp, o->clamp, &descs[nl],
						     diffid, err)) < 0)
			goto out;
		nl++;
	}
	if ((r = derive_config(parent, o, layer ? diffid : NULL, &cfg, &cfglen, err)) < 0)
		goto out;
	r = ims_image_publish(s, cfg, cfglen, descs, nl, NULL, ret_id, NULL, err);
	if (r == 0 && ret_layer)
		*ret_layer = layer;
out:
	free(descs);
	if (o->batch) { /* what a failure left queued: published (durable, unnamed) */
		struct cm_error e2 = { 0 };
		int k = ims_batch_end(s, r < 0 ? &e2 : err);
		if (r == 0)
			r = k;
	}
	ims_store_unlock_shared(s);
	return r;
}

int ims_image_layers(struct ims_store *s, const struct ims_image *img, char ***ret,
		     size_t *ret_n, struct cm_error *err)
{
	const struct cm_json *di = cm_json_get(cm_json_get(img->config, "rootfs"), "diff_ids");
	size_t n = cm_json_is(di, CM_JSON_ARRAY) ? di->n : 0;
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *d = cm_json_str(di->v[n - 1 - i]);
		if (!cm_digest_valid(d) || !ims_layer_exists(s, d) ||
		    asprintf(&v[i], "%s/layers/%s", s->root, d + 7) < 0) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return cm_error_set(err, -EINVAL, "image %s: layer %s is not in the store",
					    img->id, d ? d : "?");
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int ims_container_rw_fd(struct ims_store *s, const struct ims_container *c, int *ret,
			struct cm_error *err)
{
	return ims_ctr_open_rw(s, c, ret, err);
}

/* ---------------------------------------------------------------- export */

struct fd_out {
	int fd;
};

static int fd_write(void *ctx, const void *buf, size_t len, struct cm_error *err)
{
	struct fd_out *f = ctx;
	int r = cm_write_all(f->fd, buf, len);
	if (r < 0)
		return cm_error_setx(err, r, "writing the export");
	return 0;
}

int ims_container_export(struct ims_store *s, struct ims_container *c,
			 const char *out, struct cm_error *err)
{
	bool was = c->mounted;
	int r = ims_container_mount(s, c, err);
	if (r < 0)
		return r;
	_cleanup_close_ int root = open(c->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = -1, dirfd = -1;
	char tmp[NAME_MAX + 1] = "";
	if (root < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "opening %s", c->mountpoint);
		goto out;
	}
	if (strcmp(out, "-") == 0) {
		fd = dup(1);
	} else {
		/* built aside in the target's dir, renamed into place */
		_cleanup_free_ char *dir = strdup(out);
		if (!dir) {
			r = cm_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		char *sl = strrchr(dir, '/');
		const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
		if (sl)
			*(sl == dir ? sl + 1 : sl) = '\0';
		dirfd = open(sl ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0 || !*base) {
			r = cm_error_setx(err, dirfd < 0 ? cm_neg_errno() : -EINVAL, "export to %s", out);
			goto out;
		}
		char pfx[64];
		snprintf(pfx, sizeof(pfx), ".%.40s.tmp", base);
		cm_tmpname(tmp, sizeof(tmp), pfx);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (fd < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "export to %s", out);
		tmp[0] = '\0';
		goto out;
	}
	struct fd_out fo = { fd };
	if ((r = ims_pack_tree(root, IMS_PACK_ROOTFS, fd_write, &fo, err)) < 0) {
		cm_error_prefix(err, r, "export");
		goto out;
	}
	if (tmp[0]) {
		const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
		if (fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, base) < 0) {
			r = cm_error_setx(err, cm_neg_errno(), "export to %s", out);
			goto out;
		}
		tmp[0] = '\0';
	}
	r = 0;
out:
	if (tmp[0])
		unlinkat(dirfd, tmp, 0);
	cm_close(&root);
	if (!was) {
		struct cm_error e2;
		(void)ims_container_umount(s, c, true, &e2);
	}
	return r;
}
