// SPDX-License-Identifier: MIT
/* Content manifests of unpacked layers (issue 11 §2): when a layer is
 * published, every entry of its dir is recorded in layer-manifests/<diff_id
 * hex> (path, type, mode, owner, size, XXH3 of the contents); fsck walks the
 * dir again and compares, so a changed byte, a deleted file or a chmod in
 * what containers run from is seen. Format in docs/store.md. */
#include "ims-internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <xxhash.h>

#define MANIFEST_MAGIC "img-layer-manifest 1"
#define MAX_DEPTH 512

struct mbuf {
	char *p;
	size_t len, cap;
	int64_t entries, bytes;
};

static int mb_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int mb_printf(struct mbuf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (k < 0)
			return -EINVAL;
		if ((size_t)k < b->cap - b->len) {
			b->len += (size_t)k;
			return 0;
		}
		size_t nc = b->cap * 2 + (size_t)k + 4096;
		char *np = realloc(b->p, nc);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = nc;
	}
}

/* A path with '%', spaces, controls and DEL as %XX: one token per line. */
static void escape_path(const char *in, char *out, size_t sz)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < sz; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '%')
			o += (size_t)snprintf(out + o, sz - o, "%%%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct ims_known_ent *known_slot(struct ims_known_ent *t, size_t cap, uint64_t dev,
					 uint64_t ino)
{
	size_t i = (size_t)((ino * 0x9e3779b97f4a7c15ULL) ^ dev) & (cap - 1);
	while (t[i].ino && (t[i].ino != ino || t[i].dev != dev))
		i = (i + 1) & (cap - 1);
	return &t[i];
}

int ims_known_put(struct ims_known *k, uint64_t dev, uint64_t ino, int64_t size, uint64_t h)
{
	if (ino == 0)
		return 0; /* not an inode we can key on: read back */
	if ((k->n + 1) * 2 > k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 256;
		struct ims_known_ent *nt = calloc(nc, sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		for (size_t i = 0; i < k->cap; i++)
			if (k->t[i].ino)
				*known_slot(nt, nc, k->t[i].dev, k->t[i].ino) = k->t[i];
		free(k->t);
		k->t = nt;
		k->cap = nc;
	}
	struct ims_known_ent *e = known_slot(k->t, k->cap, dev, ino);
	if (!e->ino)
		k->n++;
	*e = (struct ims_known_ent){ .dev = dev, .ino = ino, .size = size, .h = h };
	return 0;
}

void ims_known_free(struct ims_known *k)
{
	free(k->t);
	*k = (struct ims_known){ 0 };
}

static bool known_get(const struct ims_known *k, const struct stat *st, uint64_t *ret)
{
	if (!k || !k->cap || st->st_ino == 0)
		return false;
	const struct ims_known_ent *e = known_slot(k->t, k->cap, st->st_dev, st->st_ino);
	if (!e->ino || e->size != st->st_size)
		return false;
	*ret = e->h;
	return true;
}

/* One line per entry below dfd, depth first, siblings in byte order. */
static int walk(int dfd, const char *rel, int depth, const struct ims_known *known,
		struct mbuf *b)
{
	if (depth > MAX_DEPTH)
		return -ELOOP;
	char **names = NULL;
	size_t n = 0;
	int r = ims_list_dir(dfd, &names, &n);
	if (r < 0)
		return r;
	if (n > 1) /* names is NULL for an empty dir */
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX], esc[PATH_MAX * 3];
		struct stat st;
		if (r < 0)
			goto next;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", names[i]) >= sizeof(path)) {
			r = -ENAMETOOLONG;
			goto next;
		}
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = cm_neg_errno();
			goto next;
		}
		char type = S_ISREG(st.st_mode) ? 'f' : S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l'
			  : S_ISCHR(st.st_mode) ? 'c' : S_ISBLK(st.st_mode) ? 'b' : S_ISFIFO(st.st_mode) ? 'p' : 's';
		int64_t size = 0;
		uint64_t h = 0;
		if (type == 'f' && known_get(known, &st, &h)) {
			size = st.st_size;
		} else if (type == 'f') {
			_cleanup_close_ int fd = openat(dfd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			static __thread char buf[1 << 17];
			if (fd < 0 || (r = ims_xxh3_fd(fd, buf, sizeof(buf), &h)) < 0) {
				r = fd < 0 ? cm_neg_errno() : r;
				goto next;
			}
			size = st.st_size;
		} else if (type == 'l') {
			char t[PATH_MAX];
			ssize_t k = readlinkat(dfd, names[i], t, sizeof(t));
			if (k < 0) {
				r = cm_neg_errno();
				goto next;
			}
			h = XXH3_64bits(t, (size_t)k);
			size = k;
		} else if (type == 'c' || type == 'b') {
			size = (int64_t)st.st_rdev;
		}
		escape_path(path, esc, sizeof(esc));
		r = mb_printf(b, "%c %04o %u %u %" PRId64 " %016" PRIx64 " %s\n", type,
			      (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
			      size, h, esc);
		b->entries++;
		if (type == 'f')
			b->bytes += size;
		if (r >= 0 && type == 'd') {
			_cleanup_close_ int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = sub < 0 ? cm_neg_errno() : walk(sub, path, depth + 1, known, b);
		}
next:
		free(names[i]);
	}
	free(names);
	return r;
}

/* The manifest text of the tree at dfd: the header line, then the entries. */
static int build(int dfd, const struct ims_known *known, char **ret, size_t *ret_len)
{
	struct mbuf b = { 0 };
	int r = walk(dfd, "", 0, known, &b);
	if (r < 0) {
		free(b.p);
		return r;
	}
	struct mbuf out = { 0 };
	r = mb_printf(&out, MANIFEST_MAGIC " entries=%" PRId64 " bytes=%" PRId64 "\n", b.entries, b.bytes);
	if (r >= 0 && b.len)
		r = mb_printf(&out, "%.*s", (int)b.len, b.p);
	free(b.p);
	if (r < 0) {
		free(out.p);
		return r;
	}
	*ret = out.p;
	*ret_len = out.len;
	return 0;
}

int ims_layer_manifest_write(struct ims_store *s, int dfd, const char *diffid,
			     struct cm_error *err)
{
	return ims_layer_manifest_write_known(s, dfd, diffid, NULL, err);
}

int ims_layer_manifest_write_known(struct ims_store *s, int dfd, const char *diffid,
				   const struct ims_known *known, struct cm_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = build(dfd, known, &text, &len);
	if (r < 0)
		return cm_error_setx(err, r, "recording the contents of layer %s", diffid);
	r = ims_store_replace_file(s, s->metafd, diffid + 7, text, len, 0444, err);
	if (r < 0)
		return cm_error_prefix(err, r, "layer-manifests/%s", diffid + 7);
	return 0;
}

int64_t ims_layer_manifest_bytes(struct ims_store *s, const char *diffid)
{
	if (!cm_digest_valid(diffid))
		return -1;
	_cleanup_close_ int fd = openat(s->metafd, diffid + 7, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char head[128];
	ssize_t k = fd < 0 ? -1 : pread(fd, head, sizeof(head) - 1, 0);
	if (k <= 0)
		return -1;
	head[k] = '\0';
	const char *p = strstr(head, " bytes=");
	if (strncmp(head, MANIFEST_MAGIC " ", sizeof(MANIFEST_MAGIC)) != 0 || !p)
		return -1;
	return strtoll(p + 7, NULL, 10);
}

/* Split text into lines keyed by their path (the last field). */
static int index_lines(char *text, struct ims_strmap *m)
{
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(l, ' ');
		if (!sp || strncmp(l, MANIFEST_MAGIC, sizeof(MANIFEST_MAGIC) - 1) == 0)
			continue;
		*sp = '\0';
		if (ims_strmap_put(m, sp + 1, l) < 0)
			return -ENOMEM;
	}
	return 0;
}

static const char *what_differs(const char *want, const char *got)
{
	char wt, gt;
	unsigned wm, gm, wu, gu, wg, gg;
	long long ws, gs;
	char wh[20], gh[20];
	if (sscanf(want, "%c %o %u %u %lld %19s", &wt, &wm, &wu, &wg, &ws, wh) != 6 ||
	    sscanf(got, "%c %o %u %u %lld %19s", &gt, &gm, &gu, &gg, &gs, gh) != 6)
		return "changed";
	if (wt != gt)
		return "type changed";
	if (ws != gs)
		return "size changed";
	if (strcmp(wh, gh) != 0)
		return "content changed";
	if (wm != gm)
		return "mode changed";
	return "owner changed";
}

int ims_layer_manifest_verify(struct ims_store *s, const char *diffid,
			      void (*report)(void *, const char *), void *ctx)
{
	char line[PATH_MAX + 200];
	_cleanup_free_ char *want = NULL;
	size_t wlen;
	int r = ims_read_file_at(s->metafd, diffid + 7, 1u << 30, &want, &wlen);
	if (r < 0) {
		snprintf(line, sizeof(line), "layer %s: no content manifest (%s)", diffid, strerror(-r));
		if (report)
			report(ctx, line);
		return 1;
	}
	_cleanup_close_ int lfd = openat(s->layersfd, diffid + 7, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *got = NULL;
	size_t glen;
	if (lfd < 0 || (r = build(lfd, NULL, &got, &glen)) < 0) {
		snprintf(line, sizeof(line), "layer %s: unreadable (%s)", diffid,
			 strerror(lfd < 0 ? errno : -r));
		if (report)
			report(ctx, line);
		return 1;
	}
	if (wlen == glen && memcmp(want, got, wlen) == 0)
		return 0;
	struct ims_strmap wm = { 0 }, gm = { 0 };
	int bad = 0;
	if (index_lines(want, &wm) < 0 || index_lines(got, &gm) < 0) {
		bad = 1;
		goto out;
	}
	for (size_t i = 0; i < gm.cap; i++) {
		const char *p = gm.t[i].key;
		if (!p)
			continue;
		const char *w = ims_strmap_get(&wm, p);
		if (w && strcmp(w, gm.t[i].value) == 0)
			continue;
		snprintf(line, sizeof(line), "layer %s: '%s' %s", diffid, p,
			 w ? what_differs(w, gm.t[i].value) : "was added");
		if (report)
			report(ctx, line);
		bad++;
	}
	for (size_t i = 0; i < wm.cap; i++) {
		if (!wm.t[i].key || ims_strmap_has(&gm, wm.t[i].key))
			continue;
		snprintf(line, sizeof(line), "layer %s: '%s' is missing", diffid, wm.t[i].key);
		if (report)
			report(ctx, line);
		bad++;
	}
out:
	ims_strmap_free(&wm);
	ims_strmap_free(&gm);
	return bad ? bad : 1;
}
