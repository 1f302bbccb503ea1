// SPDX-License-Identifier: MIT
/* img pull (issue 9): libregistry's pull with docker's output, one line per
 * layer redrawn in place on a terminal, plain lines otherwise. */
#include "cm.h"
#include "ims.h"
#include "reg.h"
#include "img-cli.h"
#include "img-pull.h"
#include "img-run.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct view {
	bool tty;
	bool quiet;
	FILE *f;
	char repo[256];
	int64_t last_ms;
	char ids[REG_MAX_LAYERS][16];
	size_t n;
};

static size_t view_line(struct view *v, const char *id)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->ids[i], id) == 0)
			return i;
	if (v->n == REG_MAX_LAYERS)
		return v->n - 1;
	snprintf(v->ids[v->n], sizeof(v->ids[0]), "%s", id);
	if (v->tty)
		fputc('\n', v->f);
	return v->n++;
}

static void human(int64_t b, char *buf, size_t sz)
{
	static const char *const u[] = { "B", "kB", "MB", "GB", "TB" };
	double d = (double)b;
	size_t i = 0;
	while (d >= 1000.0 && i + 1 < CM_ARRAY_SIZE(u)) {
		d /= 1000.0;
		i++;
	}
	snprintf(buf, sz, i ? "%.3g%s" : "%.0f%s", d, u[i]);
}

static void view_say(struct view *v, const char *id, const char *text)
{
	if (!v->tty) {
		fprintf(v->f, "%s: %s\n", id, text);
		return;
	}
	size_t i = view_line(v, id);
	size_t up = v->n - i;
	/* cursor up to the layer's line, rewrite it, back down */
	fprintf(v->f, "\033[%zuA\r\033[2K%s: %s\033[%zuB\r", up, id, text, up);
	fflush(v->f);
}

/* at most 10 redraws a second on a terminal */
static bool redraw_due(struct view *v)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now - v->last_ms < 100)
		return false;
	v->last_ms = now;
	return true;
}

static void on_event(void *ctx, enum reg_pull_event ev, const char *id, int64_t done,
		     int64_t total)
{
	struct view *v = ctx;
	if (v->quiet)
		return;
	char bar[256], d[32], t[32];
	switch (ev) {
	case REG_EV_PULLING:
		fprintf(v->f, "%s: Pulling from %s\n", id, v->repo);
		v->n = 0;
		break;
	case REG_EV_EXISTS:
		view_say(v, id, "Already exists");
		break;
	case REG_EV_FS_LAYER:
		view_say(v, id, "Pulling fs layer");
		break;
	case REG_EV_DOWNLOADING:
		if (!v->tty || (done < total && !redraw_due(v)))
			break;
		{
			int w = total > 0 ? (int)(50 * done / total) : 0;
			human(done, d, sizeof(d));
			human(total, t, sizeof(t));
			snprintf(bar, sizeof(bar), "Downloading [%.*s>%*s]  %s/%s", w > 0 ? w - 1 : 0,
				 "==================================================", 49 - (w > 0 ? w - 1 : 0),
				 "", d, t);
			view_say(v, id, bar);
		}
		break;
	case REG_EV_VERIFYING:
		if (!v->tty)
			view_say(v, id, "Verifying Checksum");
		view_say(v, id, "Download complete");
		break;
	case REG_EV_EXTRACTING:
		if (v->tty)
			view_say(v, id, "Extracting");
		break;
	case REG_EV_COMPLETE:
		view_say(v, id, "Pull complete");
		break;
	}
}

int img_pull_opts_tls(const char *arg, bool *ret_insecure)
{
	if (!arg || strcmp(arg, "true") == 0)
		*ret_insecure = false;
	else if (strcmp(arg, "false") == 0)
		*ret_insecure = true;
	else
		return img_fail("invalid argument \"%s\" for \"--tls-verify\" flag: want true or false", arg);
	return 0;
}

int img_reg_opt(int c, struct img_pull_args *a)
{
	switch (c) {
	case 'q':
		a->quiet = true;
		return 0;
	case OPT_PLATFORM:
		a->platform = optarg;
		return 0;
	case OPT_TLSVERIFY:
		return img_pull_opts_tls(optarg, &a->insecure) ? IMG_EXIT : 0;
	case OPT_MAXDOWNLOADS:
	case OPT_MAXUPLOADS: {
		char *end;
		long v = strtol(optarg, &end, 10);
		if (!*optarg || *end || v < 1 || v > 64)
			return img_fail("invalid argument \"%s\" for \"--max-concurrent-%s\" flag: want a number from 1 to 64",
					optarg, c == OPT_MAXDOWNLOADS ? "downloads" : "uploads");
		a->parallel = (int)v;
		return 0;
	}
	default:
		/* --help printed: exit 0, told apart from "taken" */
		return c == IMG_OPT_HELP ? -1 : img_opt_exit(c);
	}
}

int img_pull_image(struct ims_store *s, const char *name, const struct img_pull_args *a)
{
	struct cm_error e = { 0 };
	struct reg_ref ref;
	if (reg_ref_parse(name, &ref, &e) < 0)
		return img_fail("pull %s: %s", name, e.msg);
	static struct view v;
	memset(&v, 0, sizeof(v));
	v.f = a->out ? a->out : stdout;
	v.tty = isatty(fileno(v.f));
	v.quiet = a->quiet;
	/* the repository's path for the first line, as docker shows it */
	_cleanup_free_ char *full = reg_ref_repo_full(&ref);
	snprintf(v.repo, sizeof(v.repo), "%s", ref.repo);
	struct reg_pull_opts o = {
		.reg = { .insecure = a->insecure },
		.platform = a->platform,
		.parallel = a->parallel,
		.event = on_event,
		.ctx = &v,
	};
	struct reg_pull_result res;
	int r = reg_pull(s, &ref, &o, &res, &e);
	if (r < 0) {
		reg_ref_clear(&ref);
		return img_fail("pull %s: %s", name, e.msg);
	}
	/* what docker names it: NAME:TAG, or NAME@DIGEST */
	char shown[700];
	if (ref.name)
		snprintf(shown, sizeof(shown), "%s", ref.name);
	else
		snprintf(shown, sizeof(shown), "%s@%s", full ? full : ref.repo, ref.digest);
	{ /* img events: docker's image pull */
		char attr[760];
		snprintf(attr, sizeof(attr), "name=%s", ims_ref_short(shown));
		char *const attrs[] = { attr, NULL };
		img_event(s, "image", "pull", ims_ref_short(shown), NULL, attrs);
	}
	if (a->quiet) {
		fprintf(v.f, "%s\n", shown);
	} else {
		fprintf(v.f, "Digest: %s\n", res.digest);
		fprintf(v.f, "Status: %s for %s\n",
			res.downloaded ? "Downloaded newer image" : "Image is up to date",
			ims_ref_short(shown));
		fprintf(v.f, "%s\n", shown);
	}
	reg_ref_clear(&ref);
	return 0;
}

int img_cmd_pull(int argc, char **argv)
{
	struct img_pull_args a = { 0 };
	bool all = false;
	int c, k;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'a')
			all = true;
		else if ((k = img_reg_opt(c, &a)) != 0)
			return k < 0 ? 0 : k;
	}
	const char *name = argv[optind];
	struct cm_error e = { 0 };
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	if (img_open_store(&s, &e) < 0)
		return img_fail_err(&e);
	if (!all)
		return img_pull_image(s, name, &a);
	return img_pull_all_tags(s, name, &a);
}

int img_pull_all_tags(struct ims_store *s, const char *name, const struct img_pull_args *a)
{
	struct cm_error e = { 0 };
	struct reg_ref ref;
	if (reg_ref_parse(name, &ref, &e) < 0)
		return img_fail("pull %s: %s", name, e.msg);
	const char *last = strrchr(name, '/');
	if (ref.digest[0] || strchr(last ? last : name, ':')) {
		reg_ref_clear(&ref);
		return img_fail("pull %s: tag can't be used with --all-tags/-a", name);
	}
	char **tags = NULL;
	size_t n = 0;
	int rc = 0;
	struct reg_opts ro = { .insecure = a->insecure };
	if (reg_pull_tags(&ref, &ro, &tags, &n, &e) < 0)
		rc = img_fail("pull %s: %s", name, e.msg);
	_cleanup_free_ char *full = reg_ref_repo_full(&ref);
	for (size_t i = 0; i < n; i++) {
		char one[700];
		snprintf(one, sizeof(one), "%s:%s", full ? full : name, tags[i]);
		if (!rc)
			rc = img_pull_image(s, one, a);
		free(tags[i]);
	}
	free(tags);
	reg_ref_clear(&ref);
	return rc;
}

int img_pull_for_run(struct ims_store *s, const char *image, const char *policy)
{
	struct img_pull_args a = { .out = stderr };
	if (!policy)
		policy = "missing";
	if (strcmp(policy, "never") == 0)
		return 0;
	if (strcmp(policy, "always") != 0 && strcmp(policy, "missing") != 0)
		return img_fail("invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"",
				policy);
	if (strcmp(policy, "missing") == 0) {
		struct cm_error e = { 0 };
		_cleanup_image_ struct ims_image *img = NULL;
		int r = ims_image_resolve(s, image, &img, &e);
		/* present, or a local-only form (an id, sha256:...): create says */
		if (r != -ENOENT || ims_ref_is_id_prefix(image) || strncmp(image, "sha256:", 7) == 0)
			return 0;
		_cleanup_free_ char *full = NULL;
		if (ims_ref_normalize(image, &full, NULL) >= 0)
			fprintf(stderr, "Unable to find image '%s' locally\n", ims_ref_short(full));
	}
	return img_pull_image(s, image, &a);
}
