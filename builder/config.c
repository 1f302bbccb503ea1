// SPDX-License-Identifier: MIT
/* The build's small maps (ENV, LABEL, ARG: ordered, a key once) and the
 * image's "config" object as the dispatchers change it: read from an image,
 * written back in docker's key order with the keys img does not manage kept
 * from the image's. */
#include "bld-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ maps */

void bld_kv_free(struct bld_kv *m)
{
	bld_strv_freen(m->k, m->n);
	bld_strv_freen(m->v, m->n);
	*m = (struct bld_kv){ 0 };
}

ssize_t bld_kv_find(const struct bld_kv *m, const char *k, size_t kl)
{
	for (size_t i = 0; i < m->n; i++)
		if (strlen(m->k[i]) == kl && strncmp(m->k[i], k, kl) == 0)
			return (ssize_t)i;
	return -1;
}

/* Set k to v (copied; v NULL: declared, no value); the order of first
 * setting is kept. */
int bld_kv_set(struct bld_kv *m, const char *k, const char *v)
{
	ssize_t i = bld_kv_find(m, k, strlen(k));
	char *nv = v ? strdup(v) : NULL;
	if (v && !nv)
		return -ENOMEM;
	if (i >= 0) {
		free(m->v[i]);
		m->v[i] = nv;
		return 0;
	}
	char **a = realloc(m->k, (m->n + 1) * sizeof(*a));
	if (a)
		m->k = a;
	char **b = a ? realloc(m->v, (m->n + 1) * sizeof(*b)) : NULL;
	if (b)
		m->v = b;
	char *nk = strdup(k);
	if (!a || !b || !nk) {
		free(nv);
		free(nk);
		return -ENOMEM;
	}
	m->k[m->n] = nk;
	m->v[m->n++] = nv;
	return 0;
}

/* ------------------------------------------------------------ image config */


void bld_cfg_free(struct bld_cfg *c)
{
	bld_kv_free(&c->env);
	bld_kv_free(&c->labels);
	bld_strv_free(c->cmd);
	bld_strv_free(c->ep);
	bld_strv_free(c->shell);
	bld_strv_free(c->ports);
	bld_strv_free(c->vols);
	bld_strv_free(c->onbuild);
	free(c->workdir);
	free(c->user);
	free(c->stopsignal);
	free(c->healthcheck);
	*c = (struct bld_cfg){ 0 };
}

static int strv_from(const struct cm_json *a, char ***v, size_t *n)
{
	*v = NULL;
	*n = 0;
	for (size_t i = 0; cm_json_is(a, CM_JSON_ARRAY) && i < a->n; i++)
		if (cm_json_str(a->v[i]) && bld_strv_push(v, n, strdup(cm_json_str(a->v[i]))) < 0)
			return -ENOMEM;
	return 0;
}

static int keys_from(const struct cm_json *o, char ***v, size_t *n)
{
	*v = NULL;
	*n = 0;
	for (size_t i = 0; cm_json_is(o, CM_JSON_OBJECT) && i < o->n; i++)
		if (bld_strv_push(v, n, strdup(o->k[i])) < 0)
			return -ENOMEM;
	return 0;
}

static char *dup_str(const struct cm_json *v)
{
	const char *s = cm_json_str(v);
	return s && *s ? strdup(s) : NULL;
}

int bld_cfg_load(struct bld_cfg *c, const struct cm_json *cc)
{
	int r = 0;
	*c = (struct bld_cfg){ .base = cc };
	const struct cm_json *env = cm_json_get(cc, "Env");
	for (size_t i = 0; r == 0 && cm_json_is(env, CM_JSON_ARRAY) && i < env->n; i++) {
		const char *e = cm_json_str(env->v[i]);
		if (!e)
			continue;
		_cleanup_free_ char *k = strndup(e, strcspn(e, "="));
		r = k ? bld_kv_set(&c->env, k, strchr(e, '=') ? strchr(e, '=') + 1 : "") : -ENOMEM;
	}
	const struct cm_json *l = cm_json_get(cc, "Labels");
	for (size_t i = 0; r == 0 && cm_json_is(l, CM_JSON_OBJECT) && i < l->n; i++)
		r = bld_kv_set(&c->labels, l->k[i], cm_json_str(l->v[i]) ? cm_json_str(l->v[i]) : "");
	if (r == 0)
		r = strv_from(cm_json_get(cc, "Cmd"), &c->cmd, &c->n_cmd);
	if (r == 0)
		r = strv_from(cm_json_get(cc, "Entrypoint"), &c->ep, &c->n_ep);
	if (r == 0)
		r = strv_from(cm_json_get(cc, "Shell"), &c->shell, &c->n_shell);
	if (r == 0)
		r = strv_from(cm_json_get(cc, "OnBuild"), &c->onbuild, &c->n_onbuild);
	if (r == 0)
		r = keys_from(cm_json_get(cc, "ExposedPorts"), &c->ports, &c->n_ports);
	if (r == 0)
		r = keys_from(cm_json_get(cc, "Volumes"), &c->vols, &c->n_vols);
	c->workdir = dup_str(cm_json_get(cc, "WorkingDir"));
	c->user = dup_str(cm_json_get(cc, "User"));
	c->stopsignal = dup_str(cm_json_get(cc, "StopSignal"));
	const struct cm_json *hc = cm_json_get(cc, "Healthcheck");
	if (r == 0 && cm_json_is(hc, CM_JSON_OBJECT)) {
		struct cm_jw w;
		cm_jw_init(&w, 0);
		cm_jw_value(&w, hc);
		r = cm_jw_finish(&w, &c->healthcheck, NULL);
	}
	return r;
}

static void jw_strv(struct cm_jw *w, const char *key, char **v, size_t n)
{
	cm_jw_key(w, key);
	cm_jw_arr(w);
	for (size_t i = 0; i < n; i++)
		cm_jw_str(w, v[i]);
	cm_jw_arr_end(w);
}

static void jw_set(struct cm_jw *w, const char *key, char **v, size_t n)
{
	if (!n)
		return;
	qsort(v, n, sizeof(*v), bld_cmp_str);
	cm_jw_key(w, key);
	cm_jw_obj(w);
	for (size_t i = 0; i < n; i++) {
		cm_jw_key(w, v[i]);
		cm_jw_obj(w);
		cm_jw_obj_end(w);
	}
	cm_jw_obj_end(w);
}

/* The config object, keys in docker's order; keys we do not manage are
 * kept from the image's. */
int bld_cfg_json(const struct bld_cfg *c, char **ret)
{
	static const char *const mine[] = { "User", "ExposedPorts", "Env", "Cmd", "Healthcheck",
					    "Volumes", "WorkingDir", "Entrypoint", "OnBuild",
					    "Labels", "StopSignal", "Shell" };
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	if (c->user)
		cm_jw_kstr(&w, "User", c->user);
	jw_set(&w, "ExposedPorts", c->ports, c->n_ports);
	cm_jw_key(&w, "Env");
	cm_jw_arr(&w);
	for (size_t i = 0; i < c->env.n; i++) {
		_cleanup_free_ char *e = NULL;
		if (asprintf(&e, "%s=%s", c->env.k[i], c->env.v[i] ? c->env.v[i] : "") < 0)
			return -ENOMEM;
		cm_jw_str(&w, e);
	}
	cm_jw_arr_end(&w);
	/* an empty CMD [] / ENTRYPOINT [] clears the value: no key, as the
	 * config BuildKit and buildah write (Go's omitempty) */
	if (c->n_cmd)
		jw_strv(&w, "Cmd", c->cmd, c->n_cmd);
	if (c->healthcheck) {
		_cleanup_json_ struct cm_json *h = NULL;
		if (cm_json_parse(c->healthcheck, strlen(c->healthcheck), &h, NULL, 0) == 0) {
			cm_jw_key(&w, "Healthcheck");
			cm_jw_value(&w, h);
		}
	}
	jw_set(&w, "Volumes", c->vols, c->n_vols);
	if (c->workdir)
		cm_jw_kstr(&w, "WorkingDir", c->workdir);
	if (c->n_ep)
		jw_strv(&w, "Entrypoint", c->ep, c->n_ep);
	if (c->n_onbuild)
		jw_strv(&w, "OnBuild", c->onbuild, c->n_onbuild);
	if (c->labels.n) {
		cm_jw_key(&w, "Labels");
		cm_jw_obj(&w);
		/* sorted, as Go writes a map */
		size_t *ord = calloc(c->labels.n, sizeof(*ord));
		if (!ord) {
			cm_jw_free(&w);
			return -ENOMEM;
		}
		for (size_t i = 0; i < c->labels.n; i++) {
			size_t k = i;
			while (k > 0 && strcmp(c->labels.k[ord[k - 1]], c->labels.k[i]) > 0) {
				ord[k] = ord[k - 1];
				k--;
			}
			ord[k] = i;
		}
		for (size_t i = 0; i < c->labels.n; i++)
			cm_jw_kstr(&w, c->labels.k[ord[i]], c->labels.v[ord[i]] ? c->labels.v[ord[i]] : "");
		free(ord);
		cm_jw_obj_end(&w);
	}
	if (c->stopsignal)
		cm_jw_kstr(&w, "StopSignal", c->stopsignal);
	if (c->n_shell)
		jw_strv(&w, "Shell", c->shell, c->n_shell);
	for (size_t i = 0; cm_json_is(c->base, CM_JSON_OBJECT) && i < c->base->n; i++) {
		bool skip = false;
		for (size_t k = 0; k < CM_ARRAY_SIZE(mine); k++)
			skip |= strcmp(c->base->k[i], mine[k]) == 0;
		if (skip)
			continue;
		cm_jw_key(&w, c->base->k[i]);
		cm_jw_value(&w, c->base->v[i]);
	}
	cm_jw_obj_end(&w);
	return cm_jw_finish(&w, ret, NULL);
}
