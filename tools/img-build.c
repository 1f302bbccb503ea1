// SPDX-License-Identifier: MIT
/* img build (issue 12): the command line, the context (a dir, or a tar on
 * stdin), the Containerfile, and the RUN steps through img run's own code
 * (img-run.c); the build itself is libbuilder's. Only this file prints. */
#include "img-run.h"
#include "img-pull.h"
#include "bld.h"
#include "cm.h"
#include "cm-fs.h"
#include "ims.h"
#include "run.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (16 << 20)

struct build_ctx {
	char *monitor;
	const char *cgroup_parent; /* --cgroup-parent, or NULL: img's default */
	const char *pull;          /* --pull: missing (default), always, never */
	bool quiet;
	int saved_out, saved_err; /* -q: our stdout/stderr while a RUN's go to /dev/null */
};

static void print_line(void *ctx, const char *line)
{
	struct build_ctx *b = ctx;
	if (b->quiet)
		return;
	printf("%s\n", line);
	fflush(stdout);
}

static int quiet_fds(struct build_ctx *b, bool on)
{
	if (!b->quiet)
		return 0;
	if (on) {
		int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (nul < 0)
			return cm_neg_errno();
		b->saved_out = fcntl(1, F_DUPFD_CLOEXEC, 3);
		b->saved_err = fcntl(2, F_DUPFD_CLOEXEC, 3);
		dup2(nul, 1);
		dup2(nul, 2);
		close(nul);
		return 0;
	}
	if (b->saved_out >= 0)
		dup2(b->saved_out, 1);
	if (b->saved_err >= 0)
		dup2(b->saved_err, 2);
	cm_close(&b->saved_out);
	cm_close(&b->saved_err);
	return 0;
}

static int strv_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = (char *)s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* A RUN: img run's container set-up, started attached, waited for. */
static int build_run(void *ctx, struct ims_store *s, const struct bld_run_req *req,
		     struct ims_container **ret_ct, int *ret_code, struct cm_error *e)
{
	struct build_ctx *b = ctx;
	_cleanup_run_config_ struct run_config *c = calloc(1, sizeof(*c));
	int r;
	if (!c)
		return cm_error_set(e, -ENOMEM, "out of memory");
	c->network = (enum run_netmode)req->network;
	c->privileged = req->privileged; /* RUN --security=insecure */
	if (b->cgroup_parent && !(c->cgroup_parent = strdup(b->cgroup_parent)))
		return cm_error_set(e, -ENOMEM, "out of memory");
	if (!(c->cgroup_root = strdup(run_cgroup_default_root())))
		return cm_error_set(e, -ENOMEM, "out of memory");
	for (char **v = req->vols; v && *v; v++) {
		struct run_volume vol;
		struct run_volume *nv = realloc(c->vols, (c->n_vols + 1) * sizeof(*nv));
		if (!nv)
			return cm_error_set(e, -ENOMEM, "out of memory");
		c->vols = nv;
		if ((r = run_parse_volume(*v, &vol, e)) < 0)
			return r;
		c->vols[c->n_vols++] = vol;
	}
	size_t n_tmpfs = 0;
	for (char **t = req->tmpfs; t && *t; t++) {
		if ((r = run_parse_tmpfs(*t, e)) < 0)
			return r;
		char *d = strdup(*t);
		if (!d || strv_add(&c->tmpfs, &n_tmpfs, d) < 0) {
			free(d);
			return cm_error_set(e, -ENOMEM, "out of memory");
		}
	}
	struct ims_create_opts co = { .image = req->image, .cmd = (const char *const *)req->argv,
				      .ephemeral = true };
	/* docker's RUN: no ENTRYPOINT, the command as given */
	struct run_cli cli = { .cmd = req->argv, .entrypoint = "", .env = req->env };
	struct ims_container *ct = NULL;
	r = img_container_setup(s, &co, c, &cli, false, IMG_NO_VOLUMES, &ct, e);
	if (r < 0)
		return r;
	struct run_started st;
	fflush(stdout);
	quiet_fds(b, true);
	r = run_container_start(b->monitor, NULL, c->bundle, true, &st, e);
	if (r < 0) {
		quiet_fds(b, false);
		*ret_ct = ct;
		return r;
	}
	int code = img_attach_wait(&st, false, c->bundle, NULL);
	quiet_fds(b, false);
	*ret_ct = ct;
	*ret_code = code;
	return 0;
}

static int build_pull(void *ctx, struct ims_store *s, const char *ref)
{
	struct build_ctx *b = ctx;
	return img_pull_for_run(s, ref, b->pull);
}

static void build_discard(void *ctx, struct ims_store *s, struct ims_container *ct)
{
	struct cm_error e = { 0 };
	(void)ctx;
	if (img_container_discard(s, ct->rundir, ct->id, &e) < 0)
		img_fail_err(&e);
	ims_container_free(ct);
}

/* Read a whole file (at most MAX_FILE), "-" = stdin. */
static int read_all(const char *path, int dirfd, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = strcmp(path, "-") == 0 ? fcntl(0, F_DUPFD_CLOEXEC, 3)
						       : openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_neg_errno();
	return ims_read_fd(fd, MAX_FILE, ret, ret_len);
}

/* Context "-": stdin is a tar (the context) or, if not, the Containerfile
 * with an empty context (docker's `build - < Dockerfile`). */
static int stdin_context(struct ims_store *s, char **ret_dir, int *ret_fd, char **ret_text,
			 size_t *ret_len)
{
	char *dir = NULL, *file = NULL;
	if (asprintf(&dir, "%s/tmp/build-ctx.XXXXXX", ims_store_root(s)) < 0 ||
	    asprintf(&file, "%s/tmp/build-in.XXXXXX", ims_store_root(s)) < 0 || !mkdtemp(dir)) {
		free(dir);
		free(file);
		return img_fail("build: a temp dir in the store: %s", strerror(errno));
	}
	*ret_dir = dir;
	_cleanup_close_ int tf = mkostemp(file, O_CLOEXEC);
	if (tf < 0) {
		free(file);
		return img_fail("build: a temp file in the store: %s", strerror(errno));
	}
	unlink(file);
	free(file);
	char buf[65536];
	ssize_t k;
	while ((k = read(0, buf, sizeof(buf))) > 0)
		if (cm_write_all(tf, buf, (size_t)k) < 0)
			return img_fail("build: reading the context from stdin: %s", strerror(errno));
	if (k < 0 || lseek(tf, 0, SEEK_SET) < 0)
		return img_fail("build: reading the context from stdin: %s", strerror(errno));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return img_fail("build: %s: %s", dir, strerror(errno));
	*ret_fd = fd;
	struct cm_error e = { 0 };
	bool is_tar = false;
	if (ims_unpack_archive_fd(tf, fd, &is_tar, &e) < 0)
		return img_fail("build: the context on stdin: %s", e.msg);
	if (!is_tar) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", tf);
		lseek(tf, 0, SEEK_SET);
		int r = read_all(path, AT_FDCWD, ret_text, ret_len);
		if (r < 0)
			return img_fail("build: reading stdin: %s", strerror(-r));
	}
	return 0;
}


/* The build, the tags, --iidfile, the id printed: the exit code. */
static int build_and_tag(struct ims_store *s, struct build_ctx *bc, struct bld_opts *bo,
			 char **tags, size_t n_tags, const char *iidfile)
{
	struct cm_error e = { 0 };
	/* the RUN steps read nothing of ours */
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, 0);
		close(nul);
	}
	struct bld_ops ops = { build_run, build_discard, print_line, build_pull, bc };
	bo->ops = &ops;
	char id[CM_DIGEST_STR_LEN];
	int code = 0;
	if (bld_build(s, bo, id, &code, &e) < 0) {
		quiet_fds(bc, false);
		img_fail("build: %s", e.msg);
		return code ? code : IMG_EXIT;
	}
	for (size_t i = 0; i < n_tags; i++) {
		_cleanup_free_ char *full = NULL;
		if (ims_ref_normalize(tags[i], &full, &e) < 0 || ims_image_tag(s, id, full, &e) < 0)
			return img_fail("build: tagging %s: %s", tags[i], e.msg);
		if (!bc->quiet)
			printf("Successfully tagged %s\n", ims_ref_short(full));
	}
	if (iidfile) {
		_cleanup_close_ int fd = open(iidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || cm_write_all(fd, id, strlen(id)) < 0)
			return img_fail("build: --iidfile %s: %s", iidfile, strerror(errno));
	}
	printf("%s\n", id);
	return 0;
}

int img_cmd_build(int argc, char **argv)
{
	_cleanup_free_ char **tags = NULL, **bargs = NULL, **labels = NULL, **secrets = NULL, **ssh = NULL;
	size_t n_tags = 0, n_bargs = 0, n_labels = 0, n_secrets = 0, n_ssh = 0;
	const char *file = NULL, *target = NULL, *iidfile = NULL, *cgparent = NULL, *pull = "missing";
	bool no_cache = false, quiet = false, allow_insecure = false;
	enum run_netmode net = RUN_NET_BRIDGE;
	struct cm_error e = { 0 };
	int o;
	while ((o = img_getopt(argc, argv)) != -1) {
		int r = 0;
		switch (o) {
		case 't': r = strv_add(&tags, &n_tags, optarg); break;
		case 'f': file = optarg; break;
		case OPT_BUILDARG: r = strv_add(&bargs, &n_bargs, optarg); break;
		case OPT_LABEL: r = strv_add(&labels, &n_labels, optarg); break;
		case OPT_TARGET: target = optarg; break;
		case OPT_NOCACHE: no_cache = true; break;
		case 'q': quiet = true; break;
		case OPT_IIDFILE: iidfile = optarg; break;
		case OPT_CGPARENT: cgparent = optarg; break;
		case OPT_NET:
			if (strcmp(optarg, "default") == 0)
				net = RUN_NET_BRIDGE;
			else if (run_parse_network(optarg, &net, &e) < 0)
				return img_fail("build: %s", e.msg);
			break;
		case OPT_PULL:
			/* docker's --pull switch is always; podman's values */
			pull = !optarg || strcmp(optarg, "true") == 0 ? "always"
			       : strcmp(optarg, "false") == 0	      ? "missing"
								      : optarg;
			if (strcmp(pull, "always") != 0 && strcmp(pull, "missing") != 0 &&
			    strcmp(pull, "never") != 0)
				return img_fail("build: invalid --pull '%s' (missing, always or never)", optarg);
			break;
		case OPT_SECRET: {
			/* id=ID,src=FILE (docker's; type=file accepted) */
			if (!strstr(optarg, "id=") || (!strstr(optarg, "src=") && !strstr(optarg, "source=")))
				return img_fail("build: --secret '%s': id=ID,src=FILE", optarg);
			r = strv_add(&secrets, &n_secrets, optarg);
			break;
		}
		case OPT_ALLOW:
			/* buildx's entitlements: only security.insecure means
			 * something to a local build (network.host is --network) */
			if (strcmp(optarg, "security.insecure") != 0)
				return img_fail("build: invalid --allow '%s' (only security.insecure is supported)", optarg);
			allow_insecure = true;
			break;
		case OPT_SSH:
			/* default|ID[=SOCKET] (docker's; one socket, not keys) */
			if (!*optarg || *optarg == '=' || strchr(optarg, ','))
				return img_fail("build: --ssh '%s': default|ID[=SOCKET]", optarg);
			r = strv_add(&ssh, &n_ssh, optarg);
			break;
		default:
			return img_opt_exit(o);
		}
		if (r < 0)
			return img_fail("out of memory");
	}
	const char *ctxarg = argv[optind];
	/* names are checked before anything is built */
	for (size_t i = 0; i < n_tags; i++) {
		_cleanup_free_ char *full = NULL;
		if (ims_ref_normalize(tags[i], &full, &e) < 0)
			return img_fail("build: invalid tag '%s': %s", tags[i], e.msg);
	}
	if (strcmp(ctxarg, "-") == 0 && file && strcmp(file, "-") == 0)
		return img_fail("build: the context and the Containerfile cannot both be on stdin");
	int64_t epoch = 0;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		long long v = strtoll(sde, &end, 10);
		if (*end || v < 0)
			return img_fail("build: invalid SOURCE_DATE_EPOCH '%s'", sde);
		epoch = v;
	}
	struct build_ctx bc = { .quiet = quiet, .saved_out = -1, .saved_err = -1,
				.cgroup_parent = cgparent, .pull = pull };
	if (!(bc.monitor = img_monitor_path()))
		return IMG_EXIT;
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	if (img_open_store(&s, &e) < 0) {
		free(bc.monitor);
		return img_fail_err(&e);
	}
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	char *tmpctx = NULL;
	_cleanup_free_ char *ctxpath = NULL; /* for RUN --mount=type=bind */
	_cleanup_close_ int ctxfd = -1;
	int rc = IMG_EXIT, r;
	const char *fname = file ? file : "Containerfile";
	if (strcmp(ctxarg, "-") == 0) {
		if (stdin_context(s, &tmpctx, &ctxfd, &text, &len) != 0)
			goto out;
		if (text)
			fname = "-";
	} else {
		ctxfd = open(ctxarg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (ctxfd < 0) {
			img_fail("build: context %s: %s", ctxarg, strerror(errno));
			goto out;
		}
		ctxpath = realpath(ctxarg, NULL);
	}
	if (tmpctx && !(ctxpath = strdup(tmpctx))) {
		img_fail("out of memory");
		goto out;
	}
	if (!text) {
		if (file) {
			/* -f: as given (or below the context when relative and absent there) */
			r = read_all(file, AT_FDCWD, &text, &len);
			if (r == -ENOENT && file[0] != '/')
				r = read_all(file, ctxfd, &text, &len);
		} else {
			r = read_all("Containerfile", ctxfd, &text, &len);
			if (r == -ENOENT) {
				fname = "Dockerfile";
				r = read_all("Dockerfile", ctxfd, &text, &len);
			}
		}
		if (r < 0) {
			img_fail("build: %s: %s", file ? file : "Containerfile or Dockerfile in the context",
				 strerror(-r));
			goto out;
		}
	}
	rc = build_and_tag(s, &bc, &(struct bld_opts){ .file_name = strrchr(fname, '/') ? strrchr(fname, '/') + 1 : fname,
					.text = text, .len = len, .context = ctxfd, .build_args = bargs,
					.labels = labels, .target = target, .no_cache = no_cache,
					.secrets = secrets, .ssh = ssh, .context_path = ctxpath,
					.network = (int)net, .allow_insecure = allow_insecure,
					.epoch = epoch },
			   tags, n_tags, iidfile);
out:
	bld_tmpdir_remove(tmpctx);
	free(bc.monitor);
	return rc;
}

static void prune_say(void *ctx, const char *line)
{
	bool *said = ctx;
	if (!*said)
		puts("Deleted build cache objects:");
	*said = true;
	puts(line);
}

int64_t img_builder_prune(bool all, bool print)
{
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	int64_t freed = 0;
	bool said = false;
	if (img_open_store(&s, &e) < 0 ||
	    ims_cache_prune(s, all, print ? prune_say : NULL, &said, &freed, &e) < 0)
		return img_fail_err(&e), -1;
	if (said)
		putchar('\n');
	return freed;
}

/* img builder prune [-a] [-f]: docker's (img never prompts). */
int img_cmd_builder_prune(int argc, char **argv)
{
	return img_prune_verb(argc, argv, img_builder_prune);
}
