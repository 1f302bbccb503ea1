// SPDX-License-Identifier: MIT
/* img volume create/ls/inspect/rm/prune, and the volumes of run/create
 * (issue 14): -v NAME:/path, anonymous volumes (-v /path, the image's
 * VOLUME), --mount, --volumes-from, rm -v. The store keeps the volumes
 * (imgstore/volume.c); which container uses which is in each container's
 * runner config, read here. Only this file's commands print. */
#include "img-run.h"
#include "img-format.h"
#include "cm.h"
#include "ims.h"
#include "run.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define ANON_LABEL "com.docker.volume.anonymous"

int img_strv_add(char ***v, size_t *n, const char *s)
{
	char *d = strdup(s);
	char **nv = d ? realloc(*v, (*n + 2) * sizeof(char *)) : NULL;
	if (!nv) {
		free(d);
		return -ENOMEM;
	}
	nv[(*n)++] = d;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

void img_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* ------------------------------------------------------------ who uses what */

/* The containers (12-hex ids, ", "-joined into buf) whose config names the
 * volume; skip: a container id not counted. Returns how many. */
static size_t volume_users(struct ims_store *s, const char *name, const char *skip, char *buf,
			   size_t sz)
{
	struct ims_container **v = NULL;
	size_t n = 0, users = 0, off = 0;
	if (buf && sz)
		buf[0] = '\0';
	if (ims_container_list(s, &v, &n, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_run_config_ struct run_config *c = NULL;
		if ((!skip || strcmp(v[i]->id, skip) != 0) && v[i]->rundir &&
		    run_config_read(v[i]->rundir, &c, NULL) == 0)
			for (size_t k = 0; k < c->n_vols; k++)
				if (c->vols[k].volume && cm_streq(c->vols[k].name, name)) {
					if (buf && off < sz)
						off += (size_t)snprintf(buf + off, sz - off, "%s%s",
									users ? ", " : "", v[i]->id);
					users++;
					break;
				}
		ims_container_free(v[i]);
	}
	free(v);
	return users;
}

/* ------------------------------------------------------------ run's side */

static bool has_target(const struct run_config *c, const char *ctr)
{
	for (size_t i = 0; i < c->n_vols; i++)
		if (strcmp(c->vols[i].ctr, ctr) == 0)
			return true;
	for (char **t = c->tmpfs; t && *t; t++)
		if (strncmp(*t, ctr, strlen(ctr)) == 0 && ((*t)[strlen(ctr)] == ':' || !(*t)[strlen(ctr)]))
			return true;
	return false;
}

int img_vol_push(struct run_config *c, const struct run_volume *v)
{
	struct run_volume *nv = realloc(c->vols, (c->n_vols + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->vols = nv;
	c->vols[c->n_vols++] = *v;
	return 0;
}

/* --volumes-from CTR[:ro|rw]: CTR's mounts (its volumes and binds), at the
 * same paths; ro/rw overrides their mode. */
static int volumes_from(struct ims_store *s, struct run_config *c, const char *spec,
			struct cm_error *e)
{
	char ref[256];
	const char *colon = strrchr(spec, ':');
	bool force_ro = false, force_rw = false;
	if (colon && (strcmp(colon + 1, "ro") == 0 || strcmp(colon + 1, "rw") == 0)) {
		force_ro = colon[1] == 'r' && colon[2] == 'o';
		force_rw = !force_ro;
		snprintf(ref, sizeof(ref), "%.*s", (int)(colon - spec), spec);
	} else if (colon) {
		return cm_error_set(e, -EINVAL, "invalid mode: %s", colon + 1);
	} else {
		snprintf(ref, sizeof(ref), "%s", spec);
	}
	_cleanup_container_ struct ims_container *ct = NULL;
	_cleanup_run_config_ struct run_config *from = NULL;
	int r = ims_container_get(s, ref, &ct, e);
	if (r < 0)
		return r;
	if (!ct->rundir || run_config_read(ct->rundir, &from, NULL) < 0)
		return 0; /* never configured: no mounts */
	for (size_t i = 0; i < from->n_vols; i++) {
		const struct run_volume *f = &from->vols[i];
		if (has_target(c, f->ctr))
			continue;
		/* the volume stays the other container's: rm -v of this one
		 * leaves it */
		struct run_volume v = { .ro = force_ro ? true : force_rw ? false : f->ro,
					.volume = f->volume, .nocopy = true };
		if ((f->host && !(v.host = strdup(f->host))) || !(v.ctr = strdup(f->ctr)) ||
		    (f->name && !(v.name = strdup(f->name))) || img_vol_push(c, &v) < 0) {
			run_volume_clear(&v);
			return cm_error_set(e, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

static void vol_event(struct ims_store *s, const char *name, const char *action)
{
	char *const attrs[] = { (char *)"driver=local", NULL };
	img_event(s, "volume", action, name, NULL, attrs);
}

static int vol_remove(struct ims_store *s, const char *name, struct cm_error *e)
{
	int r = ims_volume_remove(s, name, e);
	if (r == 0)
		vol_event(s, name, "destroy");
	return r;
}

void img_volumes_mounted(struct ims_store *s, const struct run_config *c)
{
	for (size_t i = 0; i < c->n_vols; i++) {
		const struct run_volume *v = &c->vols[i];
		if (!v->volume || !v->name)
			continue;
		char ctr[80], dst[300];
		snprintf(ctr, sizeof(ctr), "container=%s", c->id);
		snprintf(dst, sizeof(dst), "destination=%s", v->ctr);
		char *const attrs[] = { ctr, dst, (char *)"driver=local", (char *)(v->ro ? "read/write=false" : "read/write=true"), NULL };
		img_event(s, "volume", "mount", v->name, NULL, attrs);
	}
}

/* Remove the anonymous volumes of c that no other container uses. */
static void drop_anonymous(struct ims_store *s, const struct run_config *c, bool made_only,
			   size_t first_made)
{
	for (size_t i = made_only ? first_made : 0; i < c->n_vols; i++) {
		const struct run_volume *v = &c->vols[i];
		if (!v->volume || !v->anon || !v->name || volume_users(s, v->name, c->id, NULL, 0))
			continue;
		(void)vol_remove(s, v->name, NULL);
	}
}

int img_volumes_prepare(struct ims_store *s, struct run_config *c, const struct cm_json *img_cfg,
			char *const *from, struct cm_error *e)
{
	int r;
	for (char *const *f = from; f && *f; f++)
		if ((r = volumes_from(s, c, *f, e)) < 0)
			return r;
	/* the image's VOLUME paths not mounted otherwise: anonymous volumes */
	const struct cm_json *iv = cm_json_get(img_cfg, "Volumes");
	for (size_t i = 0; cm_json_is(iv, CM_JSON_OBJECT) && i < iv->n; i++) {
		const char *p = iv->k[i];
		if (p[0] != '/' || strcmp(p, "/") == 0 || has_target(c, p))
			continue;
		struct run_volume v = { .volume = true, .anon = true, .ctr = strdup(p) };
		if (!v.ctr || img_vol_push(c, &v) < 0) {
			free(v.ctr);
			return cm_error_set(e, -ENOMEM, "out of memory");
		}
	}
	size_t first_made = c->n_vols;
	for (size_t i = 0; i < c->n_vols; i++) {
		struct run_volume *v = &c->vols[i];
		if (!v->volume) {
			struct stat st;
			if (stat(v->host, &st) == 0)
				continue;
			if (v->mount) /* --mount: docker's error; -v: made, as docker's */
				return cm_error_set(e, -ENOENT,
						    "invalid mount config for type \"bind\": bind source path does not exist: %s",
						    v->host);
			if ((r = run_mkdir_p(v->host, 0755)) < 0)
				return cm_error_setx(e, r, "creating %s", v->host);
			continue;
		}
		char *const anon_labels[] = { (char *)ANON_LABEL "=", NULL };
		struct ims_volume_opts o = { .name = v->name, .anonymous = v->anon,
					     .labels = v->anon ? anon_labels : NULL };
		_cleanup_(ims_volume_freep) struct ims_volume *vol = NULL;
		bool existed = v->name && ims_volume_get(s, v->name, &vol, NULL) == 0;
		if (!existed && (r = ims_volume_create(s, &o, &vol, e)) < 0)
			goto fail;
		if (!existed)
			vol_event(s, vol->name, "create");
		if (!existed && first_made > i)
			first_made = i;
		if ((r = ims_volume_mount(vol, e)) < 0)
			goto fail;
		free(v->host);
		free(v->name);
		v->host = strdup(vol->mountpoint);
		v->name = strdup(vol->name);
		if (!v->host || !v->name) {
			r = cm_error_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	drop_anonymous(s, c, true, first_made);
	return r;
}

int img_volumes_seed(struct ims_store *s, const struct run_config *c, struct cm_error *e)
{
	_cleanup_close_ int root = -1;
	for (size_t i = 0; i < c->n_vols; i++) {
		const struct run_volume *v = &c->vols[i];
		_cleanup_(ims_volume_freep) struct ims_volume *vol = NULL;
		if (!v->volume || v->nocopy || !v->name || ims_volume_get(s, v->name, &vol, NULL) < 0 ||
		    !ims_volume_empty(vol))
			continue;
		if (root < 0 && (root = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return cm_error_setx(e, cm_neg_errno(), "opening %s", c->rootfs);
		_cleanup_close_ int dd = open(vol->mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int r = dd < 0 ? cm_neg_errno() : img_cp_seed(root, v->ctr, dd);
		if (r < 0)
			return cm_error_setx(e, r, "copying the image's %s into volume %s", v->ctr, v->name);
	}
	return 0;
}

void img_volumes_release(struct ims_store *s, const struct run_config *c)
{
	drop_anonymous(s, c, false, 0);
}

/* ------------------------------------------------------------ the verbs */

int img_cmd_volume_create(int argc, char **argv)
{
	const char *name = NULL, *driver = NULL;
	char **labels = NULL, **opts = NULL;
	size_t nl = 0, no = 0;
	int c, rc;
	while ((c = img_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'd': driver = optarg; break;
		case OPT_NAME: name = optarg; break;
		case 'l':
		case 'o':
			if (img_strv_add(c == 'l' ? &labels : &opts, c == 'l' ? &nl : &no, optarg) < 0)
				return img_fail("out of memory");
			break;
		default:
			img_strv_free(labels);
			img_strv_free(opts);
			return img_opt_exit(c);
		}
	}
	if (optind < argc) {
		if (name && strcmp(name, argv[optind]) != 0) {
			img_strv_free(labels);
			img_strv_free(opts);
			return img_fail("conflicting options: either specify --name or provide positional arg, not both");
		}
		name = argv[optind];
	}
	for (size_t i = 0; i < nl; i++)
		if (!strchr(labels[i], '=')) { /* docker: a bare label is KEY= */
			char *l = NULL;
			if (asprintf(&l, "%s=", labels[i]) < 0)
				return img_fail("out of memory");
			free(labels[i]);
			labels[i] = l;
		}
	for (size_t i = 0; i < no; i++)
		if (!strchr(opts[i], '=')) {
			rc = img_fail("invalid argument \"%s\" for \"-o, --opt\" flag: invalid key value pair format in driver options", opts[i]);
			img_strv_free(labels);
			img_strv_free(opts);
			return rc;
		}
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	_cleanup_(ims_volume_freep) struct ims_volume *v = NULL;
	struct ims_volume_opts o = { .name = name, .driver = driver, .labels = labels, .options = opts };
	_cleanup_(ims_volume_freep) struct ims_volume *had = NULL;
	bool existed = false;
	if (img_open_store(&s, &e) == 0 && name)
		existed = ims_volume_get(s, name, &had, NULL) == 0;
	if (!s || ims_volume_create(s, &o, &v, &e) < 0) {
		rc = img_fail_err(&e);
	} else {
		if (!existed)
			vol_event(s, v->name, "create");
		rc = (puts(v->name), 0);
	}
	img_strv_free(labels);
	img_strv_free(opts);
	return rc;
}

/* docker volume ls / prune --filter: dangling, driver, label, label!,
 * name (prune's: all too). */
static const char *const vkeys[] = { "dangling", "driver", "label", "label!", "name", "all" };

static int vfilter_add(struct img_filter *fs, size_t *n, const char *arg, bool prune)
{
	if (img_filter_add(fs, n, arg, vkeys, CM_ARRAY_SIZE(vkeys) - (prune ? 0 : 1)))
		return -1;
	const char *v = fs[*n - 1].val;
	if (strcmp(fs[*n - 1].key, "dangling") == 0 && strcmp(v, "true") && strcmp(v, "false") &&
	    strcmp(v, "1") && strcmp(v, "0"))
		return img_fail("invalid filter 'dangling=%s'", v), -1;
	return 0;
}

static bool has_label(char *const *labels, const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t kl = eq ? (size_t)(eq - spec) : strlen(spec);
	for (char *const *l = labels; l && *l; l++)
		if (eq ? strcmp(*l, spec) == 0 : strncmp(*l, spec, kl) == 0 && (*l)[kl] == '=')
			return true;
	return false;
}

struct vctx {
	struct ims_store *s;
	const struct ims_volume *v;
};

static bool vfilter_one(const struct img_filter *f, void *ctx)
{
	struct ims_store *s = ((struct vctx *)ctx)->s;
	const struct ims_volume *v = ((struct vctx *)ctx)->v;
	if (strcmp(f->key, "name") == 0)
		return strstr(v->name, f->val) != NULL;
	if (strcmp(f->key, "driver") == 0)
		return strcmp(v->driver, f->val) == 0;
	if (strcmp(f->key, "label") == 0)
		return has_label(v->labels, f->val);
	if (strcmp(f->key, "label!") == 0)
		return !has_label(v->labels, f->val);
	if (strcmp(f->key, "dangling") == 0) {
		bool want = strcmp(f->val, "true") == 0 || strcmp(f->val, "1") == 0;
		return (volume_users(s, v->name, NULL, NULL, 0) == 0) == want;
	}
	return true; /* all= (prune's) */
}

static bool vfilters_match(struct ims_store *s, const struct img_filter *fs, size_t n,
			   const struct ims_volume *v)
{
	return img_filters_match(fs, n, vfilter_one, &(struct vctx){ s, v });
}

static char *labels_joined(char *const *labels)
{
	size_t len = 1;
	for (char *const *l = labels; l && *l; l++)
		len += strlen(*l) + 1;
	char *out = malloc(len);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (char *const *l = labels; l && *l; l++) {
		if (out[0])
			strcat(out, ",");
		strcat(out, *l);
	}
	return out;
}

int img_cmd_volume_ls(int argc, char **argv)
{
	bool quiet = false;
	const char *format = NULL;
	struct img_filter fs[IMG_MAX_FILTERS];
	size_t nf = 0;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c == OPT_FORMAT)
			format = optarg;
		else if (c == 'f') {
			if (vfilter_add(fs, &nf, optarg, false) < 0)
				return IMG_EXIT;
		} else
			return img_opt_exit(c);
	}
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	struct ims_volume **v = NULL;
	size_t n = 0;
	if (img_open_store(&s, &e) < 0 || ims_volume_list(s, &v, &n, &e) < 0)
		return img_fail_err(&e);
	static const char *const hdr[] = {
		"Name", "VOLUME NAME", "Driver", "DRIVER", "Scope", "SCOPE", "Mountpoint", "MOUNTPOINT",
		"Labels", "LABELS", "Links", "LINKS", "Size", "SIZE", "Availability", "AVAILABILITY",
		"Group", "GROUP", "Status", "STATUS",
	};
	struct img_fmt f = { 0 };
	int rc = quiet ? 0 : img_fmt_open(&f, format, "table {{.Driver}}\t{{.Name}}", hdr,
					  CM_ARRAY_SIZE(hdr) / 2, "*formatter.volumeContext");
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && vfilters_match(s, fs, nf, v[i])) {
			if (quiet) {
				puts(v[i]->name);
			} else {
				char links[24];
				snprintf(links, sizeof(links), "%zu", volume_users(s, v[i]->name, NULL, NULL, 0));
				_cleanup_free_ char *labels = labels_joined(v[i]->labels);
				const char *kv[] = { /* docker's json: keys sorted */
					"Availability", "N/A", "Driver", v[i]->driver, "Group", "N/A",
					"Labels", labels ? labels : "", "Links", links,
					"Mountpoint", v[i]->mountpoint, "Name", v[i]->name, "Scope", "local",
					"Size", "N/A", "Status", "N/A",
				};
				_cleanup_json_ struct cm_json *row = cm_tpl_strmap(kv, CM_ARRAY_SIZE(kv) / 2);
				rc = row && labels ? img_fmt_row(&f, row) : img_fail("out of memory");
			}
		}
		ims_volume_free(v[i]);
	}
	free(v);
	return img_fmt_end(&f, rc);
}

int img_cmd_volume_inspect(int argc, char **argv)
{
	const char *format = NULL;
	int c, rc = 0;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c != 'f')
			return img_opt_exit(c);
		format = optarg;
	}
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	if (img_open_store(&s, &e) < 0)
		return img_fail_err(&e);
	struct cm_jw w;
	cm_jw_init(&w, 4);
	cm_jw_arr(&w);
	for (int i = optind; i < argc; i++) {
		_cleanup_(ims_volume_freep) struct ims_volume *v = NULL;
		cm_error_clear(&e);
		if (ims_volume_get(s, argv[i], &v, &e) < 0) {
			img_fail_err(&e);
			rc = 1; /* docker's for an unknown object */
			continue;
		}
		ims_volume_inspect(v, &w);
	}
	cm_jw_arr_end(&w);
	return img_inspect_print(&w, format, rc);
}

static int remove_one(struct ims_store *s, const char *name, bool force, struct cm_error *e)
{
	_cleanup_(ims_volume_freep) struct ims_volume *v = NULL;
	int r = ims_volume_get(s, name, &v, e);
	if (r < 0)
		return r == -ENOENT && force ? 0 : r;
	char users[4096];
	if (volume_users(s, name, NULL, users, sizeof(users)))
		return cm_error_set(e, -EBUSY, "remove %s: volume is in use - [%s]", name, users);
	return vol_remove(s, name, e);
}

int img_cmd_volume_rm(int argc, char **argv)
{
	bool force = false;
	int c, rc = 0;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c != 'f')
			return img_opt_exit(c);
		force = true;
	}
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	if (img_open_store(&s, &e) < 0)
		return img_fail_err(&e);
	for (int i = optind; i < argc; i++) {
		cm_error_clear(&e);
		if (remove_one(s, argv[i], force, &e) < 0) {
			img_fail_err(&e);
			rc = 1; /* docker: 1 for a volume missing or in use */
		} else {
			puts(argv[i]);
		}
	}
	return rc;
}

int img_cmd_volume_prune(int argc, char **argv)
{
	bool all = false;
	struct img_filter fs[IMG_MAX_FILTERS];
	size_t nf = 0;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == OPT_FILTER) {
			if (vfilter_add(fs, &nf, optarg, true) < 0)
				return IMG_EXIT;
		} else if (c != 'f')
			return img_opt_exit(c);
	}
	for (size_t i = 0; i < nf; i++)
		if (strcmp(fs[i].key, "all") == 0)
			all |= strcmp(fs[i].val, "true") == 0 || strcmp(fs[i].val, "1") == 0;
	return img_print_reclaimed(img_volume_prune(all, fs, nf, true));
}

int64_t img_volume_prune(bool all, const void *filters, size_t nf, bool print)
{
	const struct img_filter *fs = filters;
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	struct ims_volume **v = NULL;
	size_t n = 0;
	int64_t freed = 0;
	bool any = false;
	if (img_open_store(&s, &e) < 0 || ims_volume_list(s, &v, &n, &e) < 0)
		return img_fail_err(&e), -1;
	for (size_t i = 0; i < n; i++) {
		/* docker 23+: without --all only anonymous volumes go */
		if ((all || v[i]->anonymous) && vfilters_match(s, fs, nf, v[i]) &&
		    volume_users(s, v[i]->name, NULL, NULL, 0) == 0) {
			int64_t sz = ims_volume_size(v[i]);
			cm_error_clear(&e);
			if (vol_remove(s, v[i]->name, &e) < 0) {
				img_fail_err(&e);
			} else {
				if (print && !any)
					puts("Deleted Volumes:");
				if (print)
					puts(v[i]->name);
				any = true;
				freed += sz;
			}
		}
		ims_volume_free(v[i]);
	}
	free(v);
	if (print && any)
		putchar('\n');
	return freed;
}
