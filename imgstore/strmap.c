// SPDX-License-Identifier: MIT
/* A string -> pointer hash map (open addressing, FNV-1a, linear probing):
 * lookups of untrusted names (archive paths, layer dirs) in O(1), so a
 * hostile archive with many entries costs linear time, not quadratic. */
#include "ims-internal.h"

#include <string.h>

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct ims_strmap_ent *slot(struct ims_strmap_ent *t, size_t cap, const char *key)
{
	size_t i = (size_t)fnv1a(key) & (cap - 1);
	while (t[i].key && strcmp(t[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static int grow(struct ims_strmap *m)
{
	size_t nc = m->cap ? m->cap * 2 : 64;
	struct ims_strmap_ent *nt = calloc(nc, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->t[i].key)
			*slot(nt, nc, m->t[i].key) = m->t[i];
	free(m->t);
	m->t = nt;
	m->cap = nc;
	return 0;
}

int ims_strmap_put(struct ims_strmap *m, const char *key, void *value)
{
	if ((m->n + 1) * 2 > m->cap) {
		int r = grow(m);
		if (r < 0)
			return r;
	}
	struct ims_strmap_ent *e = slot(m->t, m->cap, key);
	if (!e->key) {
		if (!(e->key = strdup(key)))
			return -ENOMEM;
		m->n++;
	}
	e->value = value;
	return 0;
}

void *ims_strmap_get(const struct ims_strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	return slot(m->t, m->cap, key)->value;
}

bool ims_strmap_has(const struct ims_strmap *m, const char *key)
{
	return m->cap && slot(m->t, m->cap, key)->key;
}

void ims_strmap_free(struct ims_strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->t[i].key);
	free(m->t);
	m->t = NULL;
	m->n = m->cap = 0;
}
