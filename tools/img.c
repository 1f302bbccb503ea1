// SPDX-License-Identifier: MIT
/* img: docker-style image commands over libimgstore (thin main: parse the
 * command line, call the library, print; exit 125 on img's own errors). */
#include "cm.h"
#include "cm-text.h"
#include "cm-fs.h"
#include "ims.h"
#include "img-cli.h"
#include "img-run.h"
#include "img-format.h"
#include "config.h"
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define EXIT_IMG IMG_EXIT


int img_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("img: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_IMG;
}

int img_fail_err(const struct cm_error *e)
{
	return img_fail("%s", e->msg[0] ? e->msg : strerror(-e->code));
}

static void print_line(void *ctx, const char *line)
{
	FILE *f = ctx ? ctx : stdout;
	fprintf(f, "%s\n", line);
}

void img_event(struct ims_store *s, const char *type, const char *action, const char *id,
	       const char *from, char *const *attrs)
{
	if (s)
		run_event_append(ims_store_rundir(s), type, action, id, from, attrs);
}

/* rmi's and prune's "Untagged: NAME" / "Deleted: ID" lines as docker's
 * untag and delete events */
static void image_line_event(struct ims_store *s, const char *line)
{
	const char *v = strchr(line, ' ');
	if (!v)
		return;
	v++;
	char name[600];
	snprintf(name, sizeof(name), "name=%s", v);
	char *const attrs[] = { name, NULL };
	if (strncasecmp(line, "untagged:", 9) == 0)
		img_event(s, "image", "untag", v, NULL, attrs);
	else if (strncasecmp(line, "deleted:", 8) == 0)
		img_event(s, "image", "delete", v, NULL, attrs);
}

static void rmi_line(void *ctx, const char *line)
{
	print_line(NULL, line);
	image_line_event(ctx, line);
}

static int open_store(struct ims_store **s, struct cm_error *e)
{
	return ims_store_open(img_run_root, s, e);
}

/* ------------------------------------------------------------ formatting */

void img_human_size(int64_t size, char *buf, size_t sz)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = (double)size;
	size_t u = 0;
	while (v >= 1000.0 && u + 1 < CM_ARRAY_SIZE(units)) {
		v /= 1000.0;
		u++;
	}
	snprintf(buf, sz, "%.3g%s", v, units[u]);
}

/* Progress of long streams on a terminal (never when stderr is not one). */
static void progress_print(void *ctx, const char *what, int64_t done, int64_t total,
			   bool final)
{
	(void)ctx;
	char d[32], t[32];
	img_human_size(done, d, sizeof(d));
	if (total >= 0) {
		img_human_size(total, t, sizeof(t));
		fprintf(stderr, "\r%-48.48s %9s / %-9s", what, d, t);
	} else {
		fprintf(stderr, "\r%-48.48s %9s", what, d);
	}
	if (final)
		fputc('\n', stderr);
}

/* docker's durations: "Less than a second", "5 seconds", "About a minute"... */
static void human_duration(int64_t s, char *buf, size_t sz)
{
	int64_t m = s / 60, h = m / 60;
	if (s < 1)
		snprintf(buf, sz, "Less than a second");
	else if (s == 1)
		snprintf(buf, sz, "1 second");
	else if (s < 60)
		snprintf(buf, sz, "%lld seconds", (long long)s);
	else if (m == 1)
		snprintf(buf, sz, "About a minute");
	else if (m < 60)
		snprintf(buf, sz, "%lld minutes", (long long)m);
	else if (h == 1)
		snprintf(buf, sz, "About an hour");
	else if (h < 48)
		snprintf(buf, sz, "%lld hours", (long long)h);
	else if (h < 24 * 7 * 2)
		snprintf(buf, sz, "%lld days", (long long)(h / 24));
	else if (h < 24 * 30 * 2)
		snprintf(buf, sz, "%lld weeks", (long long)(h / 24 / 7));
	else if (h < 24 * 365 * 2)
		snprintf(buf, sz, "%lld months", (long long)(h / 24 / 30));
	else
		snprintf(buf, sz, "%lld years", (long long)(h / 24 / 365));
}

void img_human_since(int64_t t, char *buf, size_t sz)
{
	if (t <= 0) {
		snprintf(buf, sz, "N/A");
		return;
	}
	char d[48];
	human_duration((int64_t)time(NULL) - t, d, sizeof(d));
	snprintf(buf, sz, "%s ago", d);
}

/* The runner's status line ("Up @T", "Exited (N) @T") as docker shows it:
 * "Up 3 seconds", "Exited (0) 2 minutes ago". */
static void render_status(const char *raw, char *buf, size_t sz)
{
	const char *at = strstr(raw, " @");
	if (!at) {
		snprintf(buf, sz, "%s", raw);
		return;
	}
	char *rest;
	int64_t t = strtoll(at + 2, &rest, 10);
	char d[48];
	human_duration((int64_t)time(NULL) - t, d, sizeof(d));
	/* what follows the time stays: "Up @T (Paused)" */
	snprintf(buf, sz, "%.*s %s%s%s", (int)(at - raw), raw, d,
		 strncmp(raw, "Up", 2) == 0 ? "" : " ago", rest);
}

/* --------------------------------------------------------------- commands */

/* docker images --filter: dangling, label, before, since, reference */
struct images_ctx {
	const struct ims_image *img;
	const char *repo, *tag;
	const int64_t *ref_created; /* before=/since=: their image's time, by filter */
	const struct img_filter *fs;
};

static bool images_filter_one(const struct img_filter *f, void *ctx)
{
	const struct images_ctx *x = ctx;
	if (strcmp(f->key, "dangling") == 0)
		return (x->img->n_names == 0) == (strcmp(f->val, "true") == 0 || strcmp(f->val, "1") == 0);
	if (strcmp(f->key, "label") == 0) {
		const struct cm_json *l = cm_json_get(cm_json_get(x->img->config, "config"), "Labels");
		const char *eq = strchr(f->val, '=');
		char k[256];
		snprintf(k, sizeof(k), "%.*s", eq ? (int)(eq - f->val) : (int)strlen(f->val), f->val);
		const char *v = cm_json_get_str(l, k);
		return v && (!eq || strcmp(v, eq + 1) == 0);
	}
	if (strcmp(f->key, "before") == 0)
		return x->img->created < x->ref_created[f - x->fs];
	if (strcmp(f->key, "since") == 0)
		return x->img->created > x->ref_created[f - x->fs];
	if (strcmp(f->key, "reference") == 0) {
		char full[1024];
		snprintf(full, sizeof(full), "%s:%s", x->repo, x->tag);
		return strcmp(x->repo, "<none>") != 0 &&
		       (fnmatch(f->val, x->repo, 0) == 0 || fnmatch(f->val, full, 0) == 0);
	}
	return false;
}

/* Row k of img in docker images (false: no such row). Its names first, each
 * with the digest recorded for its repository; then, as docker does, a
 * REPO <none> DIGEST row for each repo digest of a repository no name of the
 * image is in (pulled by digest, or its tag moved to another image): one
 * per digest with --digests, one per repository without; an image with
 * neither names nor repo digests is the one <none> <none> row. */
static bool image_row(const struct ims_image *img, size_t k, bool digests, char *repo, size_t sz,
		      const char **ret_tag, const char **ret_digest)
{
	*ret_tag = "<none>";
	if (k < img->n_names) {
		const char *sh = ims_ref_short(img->names[k]);
		int off = ims_ref_tag_offset(sh);
		snprintf(repo, sz, "%.*s", off, sh);
		*ret_tag = sh + off + 1;
		*ret_digest = ims_image_repo_digest(img, img->names[k]);
		return true;
	}
	k -= img->n_names;
	if (!img->n_names && !img->n_repo_digests) {
		snprintf(repo, sz, "<none>");
		*ret_digest = img->digest;
		return k == 0;
	}
	if (k >= img->n_repo_digests)
		return false;
	const char *rd = img->repo_digests[k];
	for (size_t i = 0; i < img->n_names; i++)
		if (ims_ref_same_repo(img->names[i], rd))
			return false;
	if (!digests && k > 0 && ims_ref_same_repo(img->repo_digests[k - 1], rd))
		return false; /* sorted: that repository has its row */
	const char *sh = ims_ref_short(rd);
	size_t n = ims_ref_repo_len(sh);
	if (sh[n] != '@')
		return false; /* not REPO@DIGEST */
	snprintf(repo, sz, "%.*s", (int)n, sh);
	*ret_digest = sh + n + 1;
	return true;
}

int img_cmd_images(int argc, char **argv)
{
	bool quiet = false, notrunc = false, digests = false, all = false;
	const char *format = NULL;
	static const char *const keys[] = { "before", "dangling", "label", "reference", "since" };
	struct img_filter fs[IMG_MAX_FILTERS];
	size_t nf = 0;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c == OPT_DIGESTS)
			digests = true;
		else if (c == OPT_FORMAT)
			format = optarg;
		else if (c == OPT_NOTRUNC)
			notrunc = true;
		else if (c == 'a')
			all = true; /* the build's intermediate images too */
		else if (c == 'f') {
			if (img_filter_add(fs, &nf, optarg, keys, CM_ARRAY_SIZE(keys)))
				return EXIT_IMG;
			const char *v = fs[nf - 1].val;
			if (strcmp(fs[nf - 1].key, "dangling") == 0 && strcmp(v, "true") && strcmp(v, "false") &&
			    strcmp(v, "1") && strcmp(v, "0"))
				return img_fail("invalid filter 'dangling=%s'", v);
		} else
			return img_opt_exit(c);
	}
	const char *filter = optind < argc ? argv[optind] : NULL;
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (open_store(&s, &e) < 0)
		return img_fail_err(&e);
	struct ims_image **v;
	size_t n;
	int64_t ref_created[IMG_MAX_FILTERS] = { 0 };
	for (size_t k = 0; k < nf; k++) {
		_cleanup_image_ struct ims_image *ri = NULL;
		if (strcmp(fs[k].key, "before") && strcmp(fs[k].key, "since"))
			continue;
		if (ims_image_resolve(s, fs[k].val, &ri, &e) < 0)
			return img_fail_err(&e);
		ref_created[k] = ri->created;
	}
	if (ims_image_list(s, &v, &n, &e) < 0)
		return img_fail_err(&e);
	_cleanup_free_ bool *inter = NULL;
	if (!all && ims_image_intermediates(v, n, &inter) < 0)
		return img_fail("out of memory");
	static const char *const hdr[] = {
		"Containers", "CONTAINERS", "CreatedAt", "CREATED AT", "CreatedSince", "CREATED",
		"Digest", "DIGEST", "ID", "IMAGE ID", "Repository", "REPOSITORY",
		"SharedSize", "SHARED SIZE", "Size", "SIZE", "Tag", "TAG", "UniqueSize", "UNIQUE SIZE",
		"VirtualSize", "VIRTUAL SIZE",
	};
	struct img_fmt f = { 0 };
	int rc = quiet ? 0 : img_fmt_open(&f, format,
					  digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
						  : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
					  hdr, CM_ARRAY_SIZE(hdr) / 2, "*formatter.ImageContext");
	for (size_t i = 0; i < n; i++) {
		struct ims_image *img = v[i];
		if (inter && inter[i])
			continue; /* docker hides them without -a */
		char id[80], since[64], size[32], created[64];
		snprintf(id, sizeof(id), "%.*s", notrunc ? 71 : 12, notrunc ? img->id : img->id + 7);
		img_human_since(img->created, since, sizeof(since));
		img_human_size(img->size, size, sizeof(size));
		struct tm tm;
		time_t ct = (time_t)img->created;
		gmtime_r(&ct, &tm);
		strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
		size_t rows = img->n_names + img->n_repo_digests + 1;
		for (size_t k = 0; k < rows && rc == 0; k++) {
			char repo[512];
			const char *tag, *digest;
			if (!image_row(img, k, digests, repo, sizeof(repo), &tag, &digest))
				continue;
			if (filter) {
				char want[512];
				snprintf(want, sizeof(want), "%s", filter);
				int off = ims_ref_tag_offset(want);
				const char *wtag = NULL;
				if (off >= 0) {
					want[off] = '\0';
					wtag = want + off + 1;
				}
				if (strcmp(want, repo) != 0 || (wtag && strcmp(wtag, tag) != 0))
					continue;
			}
			struct images_ctx ix = { img, repo, tag, ref_created, fs };
			if (!img_filters_match(fs, nf, images_filter_one, &ix))
				continue;
			if (quiet) {
				puts(id);
				continue;
			}
			const char *kv[] = {
				"Containers", "N/A", "CreatedAt", created, "CreatedSince", since,
				"Digest", digest, "ID", id, "Repository", repo, "SharedSize", "N/A",
				"Size", size, "Tag", tag, "UniqueSize", "N/A", "VirtualSize", size,
			};
			_cleanup_json_ struct cm_json *row = cm_tpl_strmap(kv, CM_ARRAY_SIZE(kv) / 2);
			rc = row ? img_fmt_row(&f, row) : img_fail("out of memory");
		}
	}
	for (size_t i = 0; i < n; i++)
		ims_image_free(v[i]);
	free(v);
	return img_fmt_end(&f, rc);
}

static const char *busybox_path(void)
{
	const char *b = getenv("IMG_BUSYBOX");
	return b && *b ? b : "/bin/busybox";
}

int img_cmd_import(int argc, char **argv)
{
	bool busybox = false;
	const char *msg = NULL;
	const char *changes[64];
	size_t nch = 0;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == OPT_BUSYBOX)
			busybox = true;
		else if (c == 'm')
			msg = optarg;
		else if (c == 'c' && nch + 1 < CM_ARRAY_SIZE(changes))
			changes[nch++] = optarg;
		else if (c == 'c')
			return img_fail("import: at most %zu --change", CM_ARRAY_SIZE(changes) - 1);
		else
			return img_opt_exit(c);
	}
	changes[nch] = NULL;
	struct cm_error e = { 0 };
	char id[CM_DIGEST_STR_LEN];
	const char *file = NULL, *name = NULL;
	if (!busybox) {
		if (optind >= argc)
			return img_fail("import: needs a FILE or - (see img import --help)");
		file = argv[optind++];
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		return img_fail("import: too many arguments");
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (open_store(&s, &e) < 0)
		return img_fail_err(&e);
	if (busybox) {
		if (ims_import_busybox(s, busybox_path(), name, id, &e) < 0)
			return img_fail_err(&e);
		puts(id);
		return 0;
	}
	int fd = 0;
	if (strcmp(file, "-") != 0) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return img_fail("import: %s: %s", file, strerror(errno));
	}
	char by[600];
	snprintf(by, sizeof(by), "img import %s", file);
	struct ims_import_opts o = { .name = name, .created_by = by, .message = msg,
				     .created = -1, .changes = nch ? changes : NULL };
	int r = ims_import_fd(s, fd, &o, id, &e);
	if (r == 0)
		img_event(s, "image", "import", id, NULL, NULL);
	if (fd > 0)
		close(fd);
	if (r < 0)
		return img_fail_err(&e);
	puts(id);
	return 0;
}

int img_cmd_tag(int argc, char **argv)
{
	int c = img_getopt(argc, argv);
	if (c != -1)
		return img_opt_exit(c);
	argv += optind - 1;
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (open_store(&s, &e) < 0 || ims_image_tag(s, argv[1], argv[2], &e) < 0)
		return img_fail_err(&e);
	_cleanup_image_ struct ims_image *img = NULL;
	_cleanup_free_ char *full = NULL;
	if (ims_image_resolve(s, argv[2], &img, NULL) == 0 && ims_ref_normalize(argv[2], &full, NULL) == 0) {
		char name[600];
		snprintf(name, sizeof(name), "name=%s", ims_ref_short(full));
		char *const attrs[] = { name, NULL };
		img_event(s, "image", "tag", img->id, NULL, attrs);
	}
	return 0;
}

int img_cmd_rmi(int argc, char **argv)
{
	bool force = false;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'f')
			force = true;
		else
			return img_opt_exit(c);
	}
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (open_store(&s, &e) < 0)
		return img_fail_err(&e);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		cm_error_clear(&e);
		if (ims_image_remove(s, argv[i], force, rmi_line, s, &e) < 0) {
			img_fail_err(&e);
			/* docker's exit code for an unknown image */
			if (rc != EXIT_IMG)
				rc = e.code == -ENOENT && strstr(e.msg, "No such image") ? 1 : EXIT_IMG;
		}
	}
	return rc;
}

/* inspect and container inspect: type NULL (an image, else a container),
 * "image" or "container". */
static int inspect(int argc, char **argv, const char *type)
{
	const char *format = NULL;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == OPT_TYPE)
			type = optarg;
		else if (c == 'f')
			format = optarg;
		else
			return img_opt_exit(c);
	}
	if (type && strcmp(type, "image") != 0 && strcmp(type, "container") != 0)
		return img_fail("\"%s\" is not a valid value for --type (image, container)", type);
	bool images = !type || strcmp(type, "image") == 0;
	bool containers = !type || strcmp(type, "container") == 0;
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (open_store(&s, &e) < 0)
		return img_fail_err(&e);
	struct cm_jw w;
	cm_jw_init(&w, 4);
	cm_jw_arr(&w);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		_cleanup_image_ struct ims_image *img = NULL;
		cm_error_clear(&e);
		if (!images || ims_image_resolve(s, argv[i], &img, &e) < 0) {
			/* docker's inspect takes a container as well */
			struct cm_error ce = { 0 };
			if ((!images || e.code == -ENOENT) && containers &&
			    img_inspect_container(argv[i], &w, &ce) == 0)
				continue;
			rc = EXIT_IMG;
			fprintf(stderr, "img: %s\n", images ? e.msg : ce.msg);
			continue;
		}
		if (ims_image_inspect(s, img, &w, &e) < 0) {
			cm_jw_free(&w);
			return img_fail_err(&e);
		}
	}
	cm_jw_arr_end(&w);
	return img_inspect_print(&w, format, rc);
}

int img_inspect_print(struct cm_jw *w, const char *format, int rc)
{
	_cleanup_free_ char *out = NULL;
	size_t len;
	if (cm_jw_finish(w, &out, &len) < 0)
		return img_fail("out of memory");
	if (!format) {
		puts(out);
		return rc;
	}
	/* -f: the template on each object, as docker's inspect */
	_cleanup_json_ struct cm_json *arr = NULL;
	if (cm_json_parse(out, len, &arr, NULL, 0) < 0)
		return img_fail("inspect: cannot read back its own output");
	for (size_t i = 0; i < arr->n; i++) {
		int r = img_fmt_once(format, arr->v[i]);
		if (r)
			return r;
	}
	return rc;
}

int img_cmd_inspect(int argc, char **argv)
{
	return inspect(argc, argv, NULL);
}

int img_cmd_container_inspect(int argc, char **argv)
{
	return inspect(argc, argv, "container");
}

int img_cmd_history(int argc, char **argv)
{
	bool notrunc = false, quiet = false;
	const char *format = NULL;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == OPT_FORMAT)
			format = optarg;
		else if (c == OPT_NOTRUNC)
			notrunc = true;
		else if (c == 'q')
			quiet = true;
		else
			return img_opt_exit(c);
	}
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	_cleanup_image_ struct ims_image *img = NULL;
	if (open_store(&s, &e) < 0 || ims_image_resolve(s, argv[optind], &img, &e) < 0)
		return img_fail_err(&e);
	const struct cm_json *h = cm_json_get(img->config, "history");
	const struct cm_json *layers = cm_json_get(img->manifest, "layers");
	size_t nh = cm_json_is(h, CM_JSON_ARRAY) ? h->n : 0;
	size_t nl = cm_json_is(layers, CM_JSON_ARRAY) ? layers->n : 0;
	/* sizes: each non-empty history entry takes the next layer */
	int64_t *sizes = calloc(nh + 1, sizeof(*sizes));
	if (!sizes)
		return img_fail("out of memory");
	size_t li = 0;
	for (size_t i = 0; i < nh; i++) {
		const struct cm_json *empty = cm_json_get(h->v[i], "empty_layer");
		if (empty && empty->type == CM_JSON_BOOL && empty->b)
			continue;
		if (li < nl)
			cm_json_get_int(layers->v[li++], "size", &sizes[i]);
	}
	static const char *const hdr[] = {
		"ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt", "CREATED AT",
		"CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT",
	};
	struct img_fmt f = { 0 };
	int rc = quiet ? 0 : img_fmt_open(&f, format,
					  "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
					  hdr, CM_ARRAY_SIZE(hdr) / 2, "*image.historyContext");
	for (size_t i = nh; rc == 0 && i-- > 0;) {
		char id[80], since[64], size[32], by[4096], at[64];
		if (i == nh - 1)
			snprintf(id, sizeof(id), "%.*s", notrunc ? 71 : 12,
				 notrunc ? img->id : img->id + 7);
		else
			snprintf(id, sizeof(id), "<missing>");
		if (quiet) {
			puts(id);
			continue;
		}
		int64_t when = ims_time_parse(cm_json_get_str(h->v[i], "created"));
		img_human_since(when, since, sizeof(since));
		ims_time_format(when, at, sizeof(at));
		img_human_size(sizes[i], size, sizeof(size));
		const char *cb = cm_json_get_str(h->v[i], "created_by");
		snprintf(by, sizeof(by), "%s", cb ? cb : "");
		for (char *p = by; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		/* docker: 45 columns, the last one "…" */
		_cleanup_free_ char *cut = notrunc ? strdup(by) : cm_text_ellipsis(by, 45);
		const char *cm = cm_json_get_str(h->v[i], "comment");
		const char *kv[] = { "ID", id, "CreatedSince", since, "CreatedAt", at,
				     "CreatedBy", cut ? cut : "", "Size", size, "Comment", cm ? cm : "" };
		_cleanup_json_ struct cm_json *row = cut ? cm_tpl_strmap(kv, CM_ARRAY_SIZE(kv) / 2) : NULL;
		rc = row ? img_fmt_row(&f, row) : img_fail("out of memory");
	}
	free(sizes);
	return img_fmt_end(&f, rc);
}

/* prune -a's report: docker's "Deleted Images:" heading, lower-case lines */
struct prune_ctx {
	bool said, print;
	struct ims_store *s;
};

static void prune_line(void *ctx, const char *line)
{
	struct prune_ctx *pc = ctx;
	image_line_event(pc->s, line);
	if (!pc->print)
		return;
	bool *said = &pc->said;
	if (!*said)
		puts("Deleted Images:");
	*said = true;
	printf("%c%s\n", line[0] >= 'A' && line[0] <= 'Z' ? line[0] - 'A' + 'a' : line[0], line + 1);
}

int64_t img_image_prune(bool all, bool print)
{
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	struct ims_image **v = NULL;
	size_t n = 0;
	int64_t freed = 0;
	bool bad = false;
	bool said = false;
	if (open_store(&s, &e) < 0 || ims_image_list(s, &v, &n, &e) < 0)
		return img_fail_err(&e), -1;
	_cleanup_free_ bool *inter = NULL;
	if (ims_image_intermediates(v, n, &inter) < 0)
		return img_fail("out of memory"), -1;
	for (size_t i = 0; i < n; i++) {
		char user[CM_SHA256_HEX_LEN + 1];
		cm_error_clear(&e);
		/* docker: the dangling (untagged, no child) ones, every unused one with -a */
		if ((all || (v[i]->n_names == 0 && !inter[i])) &&
		    !ims_container_uses_image(s, v[i]->id, user)) {
			struct prune_ctx pc = { .said = said, .print = print, .s = s };
			int rr = ims_image_remove(s, v[i]->id, true, prune_line, &pc, &e);
			said = pc.said;
			if (rr < 0) {
				img_fail_err(&e);
				bad = true;
			} else {
				freed += v[i]->size;
			}
		}
		ims_image_free(v[i]);
	}
	free(v);
	cm_error_clear(&e);
	if (ims_gc(s, false, NULL, NULL, &e) < 0)
		return img_fail_err(&e), -1;
	if (print && said && freed)
		putchar('\n');
	return bad ? -1 : freed;
}

/* img prune / image prune [-a] [-f]: docker's image prune (img never
 * prompts, -f is accepted), then gc. */
int img_prune_verb(int argc, char **argv, int64_t (*prune)(bool all, bool print))
{
	bool all = false;
	int c;
	while ((c = img_getopt(argc, argv)) != -1)
		if (c == 'a')
			all = true;
		else if (c != 'f')
			return img_opt_exit(c);
	return img_print_reclaimed(prune(all, true));
}

int img_cmd_prune(int argc, char **argv)
{
	return img_prune_verb(argc, argv, img_image_prune);
}

int img_print_reclaimed(int64_t freed)
{
	if (freed < 0)
		return EXIT_IMG;
	char sz[32];
	img_human_size(freed, sz, sizeof(sz));
	printf("Total reclaimed space: %s\n", sz);
	return 0;
}

int img_cmd_gc(int argc, char **argv)
{
	int c = img_getopt(argc, argv);
	if (c != -1)
		return img_opt_exit(c);
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (open_store(&s, &e) < 0 || ims_gc(s, false, print_line, NULL, &e) < 0)
		return img_fail_err(&e);
	return 0;
}

int img_cmd_fsck(int argc, char **argv)
{
	unsigned flags = 0;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == OPT_REPAIR)
			flags |= IMS_FSCK_REPAIR;
		else
			return img_opt_exit(c);
	}
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (open_store(&s, &e) < 0)
		return img_fail_err(&e);
	int n = ims_fsck_ex(s, flags, print_line, stderr, &e);
	if (n < 0)
		return img_fail_err(&e);
	if (n > 0)
		return img_fail("fsck: %d problem%s in %s", n, n == 1 ? "" : "s", ims_store_root(s));
	printf("%s: ok\n", ims_store_root(s));
	return 0;
}

int img_cmd_load(int argc, char **argv)
{
	const char *in = NULL;
	bool quiet = false;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'i')
			in = optarg;
		else if (c == 'q')
			quiet = true;
		else
			return img_opt_exit(c);
	}
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (open_store(&s, &e) < 0)
		return img_fail_err(&e);
	char spool[PATH_MAX] = "";
	if (!in) { /* docker's: the archive on stdin, spooled in the store's tmp/ */
		if (isatty(0))
			return img_fail("requested load from stdin, but stdin is empty");
		snprintf(spool, sizeof(spool), "%s/tmp/load-stdin.XXXXXX", ims_store_root(s));
		int fd = mkostemp(spool, O_CLOEXEC);
		if (fd < 0)
			return img_fail("load: %s: %s", spool, strerror(errno));
		char buf[1 << 16];
		ssize_t k;
		int r = 0;
		while (r == 0 && (k = read(0, buf, sizeof(buf))) != 0)
			r = k < 0 ? (errno == EINTR ? 0 : -errno) : cm_write_all(fd, buf, (size_t)k);
		close(fd);
		if (r < 0) {
			unlink(spool);
			return img_fail("load: reading stdin: %s", strerror(-r));
		}
		in = spool;
	}
	/* docker's -q hides the progress only: "Loaded image: NAME" stays
	 * (docker-load(1): "still outputs the imported images") */
	if (quiet)
		ims_set_progress(NULL, NULL);
	int r = ims_load(s, in, print_line, NULL, &e);
	if (r == 0)
		img_event(s, "image", "load", "", NULL, NULL);
	if (spool[0])
		unlink(spool);
	if (r < 0)
		return img_fail_err(&e);
	return 0;
}

int img_cmd_save(int argc, char **argv)
{
	const char *out = NULL, *fmt = "docker-archive";
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == OPT_FORMAT)
			fmt = optarg;
		else
			return img_opt_exit(c);
	}
	enum ims_save_format f;
	if (strcmp(fmt, "docker-archive") == 0)
		f = IMS_SAVE_DOCKER_ARCHIVE;
	else if (strcmp(fmt, "oci-archive") == 0)
		f = IMS_SAVE_OCI_ARCHIVE;
	else if (strcmp(fmt, "oci-dir") == 0)
		f = IMS_SAVE_OCI_DIR;
	else
		return img_fail("save: unknown format '%s' (docker-archive, oci-archive, oci-dir)", fmt);
	if (!out) {
		if (f == IMS_SAVE_OCI_DIR)
			return img_fail("save: oci-dir needs -o DIR");
		if (isatty(1))
			return img_fail("save: refusing to write an archive to a terminal (use -o FILE)");
		out = "-";
	}
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (open_store(&s, &e) < 0 ||
	    ims_save(s, (const char *const *)argv + optind, (size_t)(argc - optind), f, out, &e) < 0)
		return img_fail_err(&e);
	return 0;
}

/* ------------------------------------------------------------ containers */

/* docker's COMMAND column: the argv that would run, quoted. */
static void ctr_command(struct ims_store *s, const struct ims_container *ct, char *buf,
			size_t sz)
{
	size_t off = 0;
	buf[0] = '\0';
	if (ct->n_cmd) {
		for (size_t i = 0; i < ct->n_cmd && off < sz; i++)
			off += (size_t)snprintf(buf + off, sz - off, "%s%s", i ? " " : "", ct->cmd[i]);
		return;
	}
	_cleanup_image_ struct ims_image *img = NULL;
	if (ims_container_image(s, ct, &img, NULL) < 0)
		return;
	const struct cm_json *cc = cm_json_get(img->config, "config");
	const char *keys[] = { "Entrypoint", "Cmd" };
	for (size_t k = 0; k < 2; k++) {
		const struct cm_json *a = cm_json_get(cc, keys[k]);
		for (size_t i = 0; cm_json_is(a, CM_JSON_ARRAY) && i < a->n && off < sz; i++) {
			const char *v = cm_json_str(a->v[i]);
			off += (size_t)snprintf(buf + off, sz - off, "%s%s", off ? " " : "", v ? v : "");
		}
	}
}

/* docker ps --filter: name (contains), id (prefix), status, label (KEY or
 * KEY=VALUE), ancestor (the image as given, or an id prefix). Filters of one
 * key are alternatives, of different keys all must hold. */
struct ps_ctx {
	struct ims_store *s;
	const struct ims_container *ct;
	const char *state;
	size_t pos;                  /* in the listing (newest first) */
	const size_t *ref_pos;       /* before=/since= filters' containers, by filter */
	const struct img_filter *fs; /* the filters ref_pos is of */
	struct run_config *cfg;      /* loaded on first need, may stay NULL */
	bool cfg_tried;
};

static struct run_config *ps_cfg(struct ps_ctx *x)
{
	if (!x->cfg_tried && x->ct->rundir)
		(void)run_config_read(x->ct->rundir, &x->cfg, NULL);
	x->cfg_tried = true;
	return x->cfg;
}

/* docker's port filter: N, N-M, with /tcp (default) or /udp */
static bool port_in(const char *spec, unsigned port, bool udp)
{
	char *end;
	unsigned long a = strtoul(spec, &end, 10), b = a;
	if (*end == '-')
		b = strtoul(end + 1, &end, 10);
	bool want_udp = strcmp(end, "/udp") == 0;
	return port >= a && port <= b && want_udp == udp;
}

static bool ps_filter_one(const struct img_filter *f, void *ctx)
{
	struct ps_ctx *x = ctx;
	const struct ims_container *ct = x->ct;
	const char *state = x->state;
	if (strcmp(f->key, "name") == 0)
		return ct->name && strstr(ct->name, f->val);
	if (strcmp(f->key, "id") == 0)
		return strncmp(ct->id, f->val, strlen(f->val)) == 0;
	if (strcmp(f->key, "status") == 0)
		return strcmp(state, f->val) == 0;
	if (strcmp(f->key, "label") == 0)
		return img_ctr_has_label(ct, f->val);
	if (strcmp(f->key, "label!") == 0)
		return !img_ctr_has_label(ct, f->val);
	if (strcmp(f->key, "until") == 0) {
		int64_t t;
		return run_parse_log_time(f->val, run_now_ns(), &t, NULL) == 0 &&
		       ct->created * 1000000000 < t;
	}
	if (strcmp(f->key, "ancestor") == 0) {
		const char *hex = strncmp(f->val, "sha256:", 7) == 0 ? f->val + 7 : f->val;
		return (ct->image && strcmp(ct->image, f->val) == 0) ||
		       (strlen(hex) >= 4 && strncmp(ct->image_id + 7, hex, strlen(hex)) == 0);
	}
	if (strcmp(f->key, "exited") == 0) {
		const char *p = strncmp(ct->status, "Exited (", 8) == 0 ? ct->status + 8 : NULL;
		return p && atoi(p) == atoi(f->val);
	}
	if (strcmp(f->key, "before") == 0 || strcmp(f->key, "since") == 0) {
		size_t ref = x->ref_pos[f - x->fs];
		/* the listing is newest first: before = further down */
		return f->key[0] == 'b' ? x->pos > ref : x->pos < ref;
	}
	if (strcmp(f->key, "health") == 0) {
		char hs[16];
		const char *h = ct->rundir && strcmp(state, "running") == 0 ?
				run_health_status(ct->rundir, hs, sizeof(hs)) : NULL;
		return strcmp(f->val, h ? h : "none") == 0;
	}
	struct run_config *c = ps_cfg(x);
	if (strcmp(f->key, "volume") == 0) {
		for (size_t i = 0; c && i < c->n_vols; i++)
			if (cm_streq(c->vols[i].name, f->val) || strcmp(c->vols[i].ctr, f->val) == 0 ||
			    cm_streq(c->vols[i].host, f->val))
				return true;
		return false;
	}
	if (strcmp(f->key, "network") == 0) {
		struct run_netatt a;
		for (char **n = c && c->network == RUN_NET_BRIDGE ? c->networks : NULL; n && *n; n++)
			if (run_netatt_parse(*n, &a) == 0 && strcmp(a.name, f->val) == 0)
				return true;
		return c && strcmp(run_network_name(c->network), f->val) == 0 &&
		       (!c->networks || !c->networks[0]);
	}
	if (strcmp(f->key, "publish") == 0 || strcmp(f->key, "expose") == 0) {
		for (size_t i = 0; c && i < c->n_ports; i++)
			if (port_in(f->val, c->ports[i].ctr_port, c->ports[i].udp))
				return true;
		if (f->key[0] == 'p')
			return false;
		_cleanup_image_ struct ims_image *img = NULL;
		if (ims_container_image(x->s, ct, &img, NULL) < 0)
			return false;
		const struct cm_json *ep = cm_json_get(cm_json_get(img->config, "config"), "ExposedPorts");
		for (size_t i = 0; cm_json_is(ep, CM_JSON_OBJECT) && i < ep->n; i++)
			if (port_in(f->val, (unsigned)atoi(ep->k[i]), strstr(ep->k[i], "/udp") != NULL))
				return true;
		return false;
	}
	return false;
}

bool img_ctr_filter_match(const struct ims_container *ct, const struct img_filter *fs, size_t n)
{
	struct ps_ctx x = { .ct = ct, .state = "" };
	bool r = img_filters_match(fs, n, ps_filter_one, &x);
	run_config_free(x.cfg);
	return r;
}

/* docker ps's filter keys and the status values its status filter knows */
static const char *const ps_keys[] = { "ancestor", "before", "expose", "exited", "id", "label",
				       "label!", "name", "network", "publish", "since", "status",
				       "volume", "health" };
static const char *const ps_states[] = { "created", "restarting", "running", "removing",
					 "paused", "exited", "dead" };

int img_cmd_ps(int argc, char **argv)
{
	bool all = false, quiet = false, notrunc = false, size = false;
	long last = -1;
	const char *format = NULL;
	struct img_filter fs[IMG_MAX_FILTERS];
	size_t nf = 0;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'f') {
			if (img_filter_add(fs, &nf, optarg, ps_keys, CM_ARRAY_SIZE(ps_keys)))
				return EXIT_IMG;
			const struct img_filter *f = &fs[nf - 1];
			bool ok = true;
			if (strcmp(f->key, "status") == 0) {
				ok = false;
				for (size_t i = 0; i < CM_ARRAY_SIZE(ps_states); i++)
					ok |= strcmp(f->val, ps_states[i]) == 0;
				if (!ok)
					return img_fail("invalid filter 'status=%s'", f->val);
			} else if (strcmp(f->key, "exited") == 0) {
				char *end;
				(void)strtol(f->val, &end, 10);
				if (!*f->val || *end)
					return img_fail("invalid filter 'exited=%s'", f->val);
			}
			/* docker: these look at every container */
			all |= strcmp(f->key, "status") == 0 || strcmp(f->key, "exited") == 0;
		} else if (c == 'a')
			all = true;
		else if (c == 'q')
			quiet = true;
		else if (c == 's')
			size = true;
		else if (c == 'l')
			last = 1;
		else if (c == 'n') {
			char *end;
			last = strtol(optarg, &end, 10);
			if (!*optarg || *end)
				return img_fail("invalid argument \"%s\" for \"-n, --last\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax",
						optarg, optarg);
		} else if (c == OPT_NOTRUNC)
			notrunc = true;
		else if (c == OPT_FORMAT)
			format = optarg;
		else
			return img_opt_exit(c);
	}
	if (last >= 0)
		all = true; /* docker: -n and -l show every state */
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	struct ims_container **v;
	size_t n;
	if (open_store(&s, &e) < 0 || ims_container_list(s, &v, &n, &e) < 0)
		return img_fail_err(&e);
	/* before=/since=: the position of their container in the listing */
	size_t ref_pos[IMG_MAX_FILTERS] = { 0 };
	for (size_t k = 0; k < nf; k++) {
		if (strcmp(fs[k].key, "before") && strcmp(fs[k].key, "since"))
			continue;
		_cleanup_container_ struct ims_container *rc = NULL;
		if (ims_container_get(s, fs[k].val, &rc, &e) < 0) {
			for (size_t i = 0; i < n; i++)
				ims_container_free(v[i]);
			free(v);
			return img_fail_err(&e);
		}
		for (size_t i = 0; i < n; i++)
			if (strcmp(v[i]->id, rc->id) == 0)
				ref_pos[k] = i;
	}
	if (last >= 0 && (size_t)last < n) { /* the last N created */
		for (size_t i = (size_t)last; i < n; i++)
			ims_container_free(v[i]);
		n = (size_t)last;
	}
	static const char *const hdr[] = {
		"Command", "COMMAND", "CreatedAt", "CREATED AT", "ID", "CONTAINER ID", "Image", "IMAGE",
		"Labels", "LABELS", "LocalVolumes", "LOCAL VOLUMES", "Mounts", "MOUNTS", "Names", "NAMES",
		"Networks", "NETWORKS", "Ports", "PORTS", "RunningFor", "CREATED", "Size", "SIZE",
		"State", "STATE", "Status", "STATUS",
	};
	struct img_fmt f = { 0 };
	int rc = quiet ? 0 : img_fmt_open(&f, format,
					  size ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
					       : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
					  hdr, CM_ARRAY_SIZE(hdr) / 2, "*formatter.ContainerContext");
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct ims_container *ct = v[i];
		img_refresh_status(ct);
		bool running = strncmp(ct->status, "Up", 2) == 0 ||
			       strncmp(ct->status, "Restarting", 10) == 0; /* docker lists both */
		const char *state = strncmp(ct->status, "Restarting", 10) == 0 ? "restarting" :
				    strstr(ct->status, "(Paused)") ? "paused" :
				    running ? "running" : strncmp(ct->status, "Exited", 6) == 0 ?
				    "exited" : "created";
		struct ps_ctx px = { .s = s, .ct = ct, .state = state, .pos = i, .ref_pos = ref_pos, .fs = fs };
		bool match = (all || running) && img_filters_match(fs, nf, ps_filter_one, &px);
		run_config_free(px.cfg);
		if (!match)
			continue;
		char id[65], since[64], created[64], cmdline[4096];
		snprintf(id, sizeof(id), "%.*s", notrunc ? 64 : 12, ct->id);
		if (quiet) {
			puts(id);
			continue;
		}
		img_human_since(ct->created, since, sizeof(since));
		char status[128];
		render_status(ct->status, status, sizeof(status));
		struct tm tm;
		time_t cts = (time_t)ct->created;
		gmtime_r(&cts, &tm);
		strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
		ctr_command(s, ct, cmdline, sizeof(cmdline));
		/* docker: cut to 20 columns ("…" included), then Go-quoted */
		_cleanup_free_ char *cut = notrunc ? strdup(cmdline) : cm_text_ellipsis(cmdline, 20);
		_cleanup_free_ char *command = cut ? img_go_quote(cut) : NULL;
		const char *image = ct->image ? ct->image : ct->image_id + 7;
		char ports[1024];
		img_ports_column(ct, ports, sizeof(ports));
		_cleanup_free_ char *labels = NULL, *mounts = NULL, *networks = NULL;
		size_t n_local = 0;
		char local[24];
		if (!command || img_ctr_columns(ct, !notrunc, &labels, &mounts, &networks, &n_local) < 0) {
			rc = img_fail("out of memory");
			break;
		}
		snprintf(local, sizeof(local), "%zu", n_local);
		/* docker's "2B (virtual 1.2MB)": the rw branch, and with the image */
		char sizes[80] = "0B";
		if (size || (format && strstr(format, ".Size"))) {
			char rw[32], virt[32];
			_cleanup_image_ struct ims_image *img = NULL;
			int64_t r = img_du(ct->rw);
			img_human_size(r, rw, sizeof(rw));
			img_human_size(r + (ims_container_image(s, ct, &img, NULL) == 0 ? img->size : 0), virt, sizeof(virt));
			snprintf(sizes, sizeof(sizes), "%s (virtual %s)", rw, virt);
		}
		const char *kv[] = {
			"Command", command, "CreatedAt", created, "ID", id, "Image", image,
			"Labels", labels, "LocalVolumes", local, "Mounts", mounts, "Names", ct->name,
			"Networks", networks, "Ports", ports, "RunningFor", since, "Size", sizes,
			"State", state, "Status", status,
		};
		_cleanup_json_ struct cm_json *row = cm_tpl_strmap(kv, CM_ARRAY_SIZE(kv) / 2);
		rc = row ? img_fmt_row(&f, row) : img_fail("out of memory");
	}
	for (size_t i = 0; i < n; i++)
		ims_container_free(v[i]);
	free(v);
	return img_fmt_end(&f, rc);
}


/* Open the store and find the one CONTAINER argument of a command (its
 * count checked by img_getopt). */
static int one_container(int argc, char **argv, struct ims_store **s, struct ims_container **ct,
			 struct cm_error *e)
{
	int r = open_store(s, e);
	if (r == 0)
		r = ims_container_get(*s, argv[optind], ct, e);
	return r;
}

int img_cmd_mount(int argc, char **argv)
{
	int c = img_getopt(argc, argv);
	if (c != -1)
		return img_opt_exit(c);
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	_cleanup_container_ struct ims_container *ct = NULL;
	if (one_container(argc, argv, &s, &ct, &e) < 0 ||
	    ims_container_mount(s, ct, &e) < 0)
		return img_fail_err(&e);
	puts(ct->mountpoint);
	return 0;
}

int img_cmd_umount(int argc, char **argv)
{
	bool lazy = false;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'f')
			lazy = true;
		else
			return img_opt_exit(c);
	}
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	_cleanup_container_ struct ims_container *ct = NULL;
	if (one_container(argc, argv, &s, &ct, &e) < 0 ||
	    ims_container_umount(s, ct, lazy, &e) < 0)
		return img_fail_err(&e);
	puts(ct->id);
	return 0;
}

int img_cmd_diff(int argc, char **argv)
{
	const char *format = NULL;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == OPT_FORMAT)
			format = optarg;
		else
			return img_opt_exit(c);
	}
	if (format && strcmp(format, "json") != 0)
		return img_fail("diff: unknown format '%s' (json)", format);
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	_cleanup_container_ struct ims_container *ct = NULL;
	struct ims_change_ent *v = NULL;
	size_t n = 0;
	if (one_container(argc, argv, &s, &ct, &e) < 0 ||
	    ims_container_diff(s, ct, &v, &n, &e) < 0)
		return img_fail_err(&e);
	if (!format) {
		for (size_t i = 0; i < n; i++)
			printf("%c %s\n", v[i].kind, v[i].path);
	} else {
		/* podman diff --format json */
		static const struct {
			const char *key;
			char kind;
		} groups[] = { { "changed", 'C' }, { "added", 'A' }, { "deleted", 'D' } };
		struct cm_jw w;
		cm_jw_init(&w, 0);
		cm_jw_obj(&w);
		for (size_t g = 0; g < CM_ARRAY_SIZE(groups); g++) {
			cm_jw_key(&w, groups[g].key);
			cm_jw_arr(&w);
			for (size_t i = 0; i < n; i++)
				if (v[i].kind == groups[g].kind)
					cm_jw_str(&w, v[i].path);
			cm_jw_arr_end(&w);
		}
		cm_jw_obj_end(&w);
		char *out;
		if (cm_jw_finish(&w, &out, NULL) == 0) {
			puts(out);
			free(out);
		}
	}
	ims_changes_free(v, n);
	return 0;
}

int img_cmd_commit(int argc, char **argv)
{
	const char *msg = NULL, *author = NULL;
	const char *changes[64];
	size_t nch = 0;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'm')
			msg = optarg;
		else if (c == 'a')
			author = optarg;
		else if (c == 'c') {
			if (nch + 1 >= CM_ARRAY_SIZE(changes))
				return img_fail("commit: too many --change options");
			changes[nch++] = optarg;
		} else
			return img_opt_exit(c);
	}
	changes[nch] = NULL;
	const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	_cleanup_container_ struct ims_container *ct = NULL;
	char id[CM_DIGEST_STR_LEN];
	struct ims_commit_opts o = { .name = name, .message = msg, .author = author,
				     .changes = changes, .created = -1 };
	if (open_store(&s, &e) < 0 || ims_container_get(s, argv[optind], &ct, &e) < 0 ||
	    ims_container_commit(s, ct, &o, id, &e) < 0)
		return img_fail_err(&e);
	if (ct->rundir)
		run_event_container(ct->rundir, NULL, "commit", NULL);
	puts(id);
	return 0;
}

int img_cmd_export(int argc, char **argv)
{
	const char *out = NULL;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'o')
			out = optarg;
		else
			return img_opt_exit(c);
	}
	if (!out) {
		if (isatty(1))
			return img_fail("export: refusing to write an archive to a terminal (use -o FILE)");
		out = "-";
	}
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	_cleanup_container_ struct ims_container *ct = NULL;
	if (one_container(argc, argv, &s, &ct, &e) < 0 ||
	    ims_container_export(s, ct, out, &e) < 0)
		return img_fail_err(&e);
	return 0;
}

/* img help [COMMAND [SUBCOMMAND]]: docker's `help` verb. */
int img_cmd_help(int argc, char **argv)
{
	bool man = false;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c != OPT_MAN)
			return img_opt_exit(c);
		man = true;
	}
	if (optind == argc) {
		img_main_help(stdout);
		return 0;
	}
	char name[128];
	snprintf(name, sizeof(name), "%s%s%s", argv[optind], optind + 1 < argc ? " " : "",
		 optind + 1 < argc ? argv[optind + 1] : "");
	const struct img_verb *v = img_verb_find(name);
	if (!v)
		return img_fail("unknown help topic '%s' (see img --help)", name);
	(man ? img_verb_man : img_verb_help)(v, stdout);
	return 0;
}

/* img container COMMAND ...: the verbs named "container COMMAND". */
int img_cmd_container(int argc, char **argv)
{
	int c = img_getopt(argc, argv);
	if (c != -1)
		return img_opt_exit(c);
	if (optind == argc) { /* docker prints the group's help */
		img_verb_help(img_verb_current, stdout);
		return 0;
	}
	char name[128];
	snprintf(name, sizeof(name), "%s %s", argv[0], argv[optind]);
	const struct img_verb *v = img_verb_find(name);
	if (!v) {
		fprintf(stderr, "img: '%s' is not an img command.\nSee 'img %s --help'.\n", name, argv[0]);
		return EXIT_IMG;
	}
	img_verb_current = v;
	argv += optind;
	argc -= optind;
	optind = 1;
	return v->fn(argc, argv);
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--root") == 0) {
			if (i + 1 >= argc)
				return img_fail("flag needs an argument: --root");
			img_run_root = argv[++i];
		} else if (strncmp(a, "--root=", 7) == 0) {
			img_run_root = a + 7;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			img_main_help(stdout);
			return 0;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
			printf("img version %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			fprintf(stderr, "img: unknown flag: %s\nSee 'img --help'.\n", a);
			return EXIT_IMG;
		}
	}
	if (i >= argc) {
		img_main_help(stderr);
		return EXIT_IMG;
	}
	/* the store's root, as ims_store_open resolves it: its networks'
	 * definitions there, and for the monitors img starts ($IMG_STORE_ROOT:
	 * not $IMG_ROOT, which would make the default root's run dir another) */
	const char *root = img_run_root && *img_run_root ? img_run_root : getenv("IMG_ROOT");
	if (!root || !*root)
		root = IMS_DEFAULT_ROOT;
	if (run_network_store_set(root) < 0)
		return img_fail("--root %s: too long", root);
	setenv("IMG_STORE_ROOT", root, 1);
	if (isatty(STDERR_FILENO))
		ims_set_progress(progress_print, NULL);
	const struct img_verb *v = img_verb_find(argv[i]);
	if (!v || strchr(argv[i], ' ')) {
		fprintf(stderr, "img: '%s' is not an img command.\nSee 'img --help'.\n", argv[i]);
		return EXIT_IMG;
	}
	img_verb_current = v;
	optind = 1;
	return v->fn(argc - i, argv + i);
}
