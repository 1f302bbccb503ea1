// SPDX-License-Identifier: MIT
/* Named and anonymous volumes (issue 14): ROOT/volumes/<name>/ holds
 * volume.json (driver, labels, options, creation time) and _data/, the
 * directory a container gets bind-mounted (docker's layout). A volume is
 * built in tmp/ and published with one rename; it is removed by renaming it
 * back into tmp/ first, so it is there whole or not at all. */
#include "cm-text.h"
#include "ims.h"
#include "ims-internal.h"
#include "cm.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#define VOL_DIR "volumes"
#define VOL_JSON_MAX (256 * 1024)

void ims_volume_free(struct ims_volume *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->driver);
	free(v->mountpoint);
	for (char **p = v->labels; p && *p; p++)
		free(*p);
	free(v->labels);
	for (char **p = v->options; p && *p; p++)
		free(*p);
	free(v->options);
	free(v);
}

void ims_volume_freep(struct ims_volume **v)
{
	ims_volume_free(*v);
}

/* docker's rule for a local volume's name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool ims_volume_name_valid(const char *name)
{
	return cm_text_object_name_valid(name, 2, 200);
}

static int vol_dirfd(struct ims_store *s, int *ret, struct cm_error *err)
{
	if (mkdirat(s->rootfd, VOL_DIR, 0700) < 0 && errno != EEXIST)
		return cm_error_setx(err, cm_neg_errno(), "creating %s/" VOL_DIR, s->root);
	int fd = openat(s->rootfd, VOL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s/" VOL_DIR, s->root);
	*ret = fd;
	return 0;
}

static int strv_from_obj(const struct cm_json *o, char ***ret)
{
	size_t n = o && cm_json_is(o, CM_JSON_OBJECT) ? o->n : 0;
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *val = cm_json_str(o->v[i]);
		if (asprintf(&v[i], "%s=%s", o->k[i], val ? val : "") < 0) {
			v[i] = NULL;
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return -ENOMEM;
		}
	}
	*ret = v;
	return 0;
}

static void kv_obj(struct cm_jw *w, const char *key, char *const *kv, bool null_if_empty)
{
	cm_jw_key(w, key);
	if (null_if_empty && !(kv && *kv)) {
		cm_jw_null(w);
		return;
	}
	cm_jw_obj(w);
	for (char *const *p = kv; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		char k[256];
		snprintf(k, sizeof(k), "%.*s", eq ? (int)(eq - *p) : (int)strlen(*p), *p);
		cm_jw_kstr(w, k, eq ? eq + 1 : "");
	}
	cm_jw_obj_end(w);
}

static int vol_read(struct ims_store *s, int vdir, const char *name, struct ims_volume **ret,
		    struct cm_error *err)
{
	if (!ims_volume_name_valid(name))
		return cm_error_set(err, -ENOENT, "get %s: no such volume", name);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/volume.json", name);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = ims_read_file_at(vdir, p, VOL_JSON_MAX, &buf, &len);
	if (r == -ENOENT || r == -ENOTDIR)
		return cm_error_set(err, -ENOENT, "get %s: no such volume", name);
	if (r < 0)
		return cm_error_setx(err, r, "reading volume %s", name);
	_cleanup_json_ struct cm_json *j = NULL;
	char eb[128];
	if (cm_json_parse(buf, len, &j, eb, sizeof(eb)) < 0 || !cm_json_is(j, CM_JSON_OBJECT))
		return cm_error_set(err, -EINVAL, "volume %s: bad volume.json", name);
	_cleanup_(ims_volume_freep) struct ims_volume *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	const char *drv = cm_json_get_str(j, "Driver");
	int64_t created = 0;
	(void)cm_json_get_int(j, "Created", &created);
	v->created = created;
	const struct cm_json *anon = cm_json_get(j, "Anonymous");
	v->anonymous = anon && cm_json_is(anon, CM_JSON_BOOL) && anon->b;
	if (!(v->name = strdup(name)) || !(v->driver = strdup(drv ? drv : "local")) ||
	    asprintf(&v->mountpoint, "%s/" VOL_DIR "/%s/_data", s->root, name) < 0 ||
	    strv_from_obj(cm_json_get(j, "Labels"), &v->labels) < 0 ||
	    strv_from_obj(cm_json_get(j, "Options"), &v->options) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	*ret = TAKE_PTR(v);
	return 0;
}

int ims_volume_get(struct ims_store *s, const char *name, struct ims_volume **ret,
		   struct cm_error *err)
{
	_cleanup_close_ int vdir = -1;
	int r = vol_dirfd(s, &vdir, err);
	return r < 0 ? r : vol_read(s, vdir, name, ret, err);
}

int ims_volume_create(struct ims_store *s, const struct ims_volume_opts *o,
		      struct ims_volume **ret, struct cm_error *err)
{
	char name[201];
	if (o->name) {
		if (!ims_volume_name_valid(o->name))
			return cm_error_set(err, -EINVAL,
					    "create %s: \"%s\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path",
					    o->name, o->name);
		snprintf(name, sizeof(name), "%s", o->name);
	} else {
		uint8_t rnd[32];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return cm_error_setx(err, cm_neg_errno(), "getrandom");
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(name + 2 * i, 3, "%02x", rnd[i]);
	}
	const char *drv = o->driver ? o->driver : "local";
	if (strcmp(drv, "local") != 0)
		return cm_error_set(err, -EINVAL,
				    "create %s: plugin \"%s\" not found (img has the local driver only)",
				    name, drv);
	for (char *const *p = o->options; p && *p; p++) {
		size_t kl = strcspn(*p, "=");
		if ((*p)[kl] != '=' || !((kl == 4 && !strncmp(*p, "type", 4)) ||
					 (kl == 6 && !strncmp(*p, "device", 6)) ||
					 (kl == 1 && **p == 'o')))
			return cm_error_set(err, -EINVAL, "create %s: invalid option key: \"%.*s\"", name,
					    (int)kl, *p);
	}
	_cleanup_close_ int vdir = -1;
	int r = vol_dirfd(s, &vdir, err);
	if (r < 0)
		return r;
	/* docker: creating a volume that exists gives it back */
	if (vol_read(s, vdir, name, ret, NULL) == 0)
		return 0;

	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "Name", name);
	cm_jw_kstr(&w, "Driver", drv);
	cm_jw_kint(&w, "Created", (int64_t)time(NULL));
	cm_jw_key(&w, "Anonymous");
	cm_jw_bool(&w, o->anonymous);
	kv_obj(&w, "Labels", o->labels, false);
	kv_obj(&w, "Options", o->options, false);
	cm_jw_obj_end(&w);
	_cleanup_free_ char *json = NULL;
	size_t jl;
	if (cm_jw_finish(&w, &json, &jl) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");

	char tmp[64];
	ims_tmpname(tmp, sizeof(tmp), "vol");
	if (mkdirat(s->tmpfd, tmp, 0701) < 0)
		return cm_error_setx(err, cm_neg_errno(), "creating volume %s", name);
	_cleanup_close_ int td = openat(s->tmpfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (td < 0 || mkdirat(td, "_data", 0755) < 0 ||
	    (r = ims_write_file_atomic(td, "volume.json", json, jl, 0600)) < 0) {
		r = td < 0 || !r ? cm_neg_errno() : r;
		(void)cm_rm_rf_at(s->tmpfd, tmp);
		return cm_error_setx(err, r, "creating volume %s", name);
	}
	r = cm_publish_rename(s->tmpfd, tmp, vdir, name);
	if (r < 0) {
		(void)cm_rm_rf_at(s->tmpfd, tmp);
		if (r != -EEXIST && r != -ENOTEMPTY)
			return cm_error_setx(err, r, "creating volume %s", name);
		/* made meanwhile by another img: that one */
	} else {
		cm_fsync_dirfd(vdir);
	}
	return vol_read(s, vdir, name, ret, err);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ims_volume_list(struct ims_store *s, struct ims_volume ***ret, size_t *ret_n,
		    struct cm_error *err)
{
	_cleanup_close_ int vdir = -1;
	int r = vol_dirfd(s, &vdir, err);
	if (r < 0)
		return r;
	char **names = NULL;
	size_t n = 0;
	if ((r = ims_list_dir(vdir, &names, &n)) < 0)
		return cm_error_setx(err, r, "listing %s/" VOL_DIR, s->root);
	if (n > 1) /* (names is NULL for an empty dir) */
		qsort(names, n, sizeof(char *), name_cmp);
	struct ims_volume **v = calloc(n + 1, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (v && vol_read(s, vdir, names[i], &v[k], NULL) == 0)
			k++;
		free(names[i]);
	}
	free(names);
	if (!v)
		return cm_error_set(err, -ENOMEM, "out of memory");
	*ret = v;
	*ret_n = k;
	return 0;
}

static const char *opt_get(char *const *opts, const char *key)
{
	size_t kl = strlen(key);
	for (char *const *p = opts; p && *p; p++)
		if (strncmp(*p, key, kl) == 0 && (*p)[kl] == '=')
			return *p + kl + 1;
	return NULL;
}

/* The o= list of the local driver: mount flags we know, the rest is data. */
static void mount_opts(const char *o, unsigned long *flags, char *data, size_t sz)
{
	static const struct { const char *n; unsigned long f; } known[] = {
		{ "bind", MS_BIND }, { "rbind", MS_BIND | MS_REC }, { "ro", MS_RDONLY },
		{ "nosuid", MS_NOSUID }, { "nodev", MS_NODEV }, { "noexec", MS_NOEXEC },
		{ "rw", 0 },
	};
	char buf[1024];
	size_t off = 0;
	snprintf(buf, sizeof(buf), "%s", o ? o : "");
	*flags = 0;
	data[0] = '\0';
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < CM_ARRAY_SIZE(known); i++)
			if (strcmp(t, known[i].n) == 0)
				break;
		if (i < CM_ARRAY_SIZE(known))
			*flags |= known[i].f;
		else if (off < sz)
			off += (size_t)snprintf(data + off, sz - off, "%s%s", off ? "," : "", t);
	}
}

int ims_volume_mount(const struct ims_volume *v, struct cm_error *err)
{
	const char *type = opt_get(v->options, "type"), *dev = opt_get(v->options, "device");
	if (!type && !dev)
		return 0;
	if (ims_is_mountpoint(v->mountpoint))
		return 0;
	unsigned long flags;
	char data[1024];
	mount_opts(opt_get(v->options, "o"), &flags, data, sizeof(data));
	/* the local driver's options are the volume creator's (the command
	 * line, trusted), as docker's: mount(8)'s arguments */
	if (mount(dev ? dev : "none", v->mountpoint, type && strcmp(type, "none") ? type : NULL,
		  flags, data[0] ? data : NULL) < 0)
		return cm_error_setx(err, cm_neg_errno(), "error while mounting volume '%s'", v->mountpoint);
	return 0;
}

int ims_volume_remove(struct ims_store *s, const char *name, struct cm_error *err)
{
	_cleanup_(ims_volume_freep) struct ims_volume *v = NULL;
	_cleanup_close_ int vdir = -1;
	int r = vol_dirfd(s, &vdir, err);
	if (r < 0 || (r = vol_read(s, vdir, name, &v, err)) < 0)
		return r;
	if (ims_is_mountpoint(v->mountpoint) && umount2(v->mountpoint, MNT_DETACH) < 0)
		return cm_error_setx(err, cm_neg_errno(), "remove %s: unmounting %s", name, v->mountpoint);
	char tmp[64];
	ims_tmpname(tmp, sizeof(tmp), "rmvol");
	if (renameat(vdir, name, s->tmpfd, tmp) < 0)
		return cm_error_setx(err, cm_neg_errno(), "remove %s", name);
	cm_fsync_dirfd(vdir);
	if ((r = cm_rm_rf_at(s->tmpfd, tmp)) < 0)
		return cm_error_setx(err, r, "removing %s/tmp/%s", s->root, tmp);
	return 0;
}

void ims_volume_inspect(const struct ims_volume *v, struct cm_jw *w)
{
	char created[64];
	ims_time_format(v->created, created, sizeof(created));
	cm_jw_obj(w);
	cm_jw_kstr(w, "CreatedAt", created);
	cm_jw_kstr(w, "Driver", v->driver);
	kv_obj(w, "Labels", v->labels, false);
	cm_jw_kstr(w, "Mountpoint", v->mountpoint);
	cm_jw_kstr(w, "Name", v->name);
	kv_obj(w, "Options", v->options, true);
	cm_jw_kstr(w, "Scope", "local");
	cm_jw_obj_end(w);
}

/* Bytes below dfd (no symlink followed), for system df -v. */
static int64_t tree_size(int dfd, int depth)
{
	char **names = NULL;
	size_t n = 0;
	int64_t total = 0;
	if (depth > 256 || ims_list_dir(dfd, &names, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			total += (int64_t)st.st_blocks * 512;
			if (S_ISDIR(st.st_mode)) {
				int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0) {
					total += tree_size(sub, depth + 1);
					close(sub);
				}
			}
		}
		free(names[i]);
	}
	free(names);
	return total;
}

int64_t ims_volume_size(const struct ims_volume *v)
{
	_cleanup_close_ int fd = open(v->mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? 0 : tree_size(fd, 0);
}

bool ims_volume_empty(const struct ims_volume *v)
{
	_cleanup_close_ int fd = open(v->mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char **names = NULL;
	size_t n = 0;
	if (fd < 0 || ims_list_dir(fd, &names, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n == 0;
}
