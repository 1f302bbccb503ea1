// SPDX-License-Identifier: MIT
/* Containers: state under ROOT/containers/<id>/ (config.json, rw/, init/),
 * runtime state under RUN/containers/<id>/, the union mount by exec'ing
 * ufsmount, and removal. Everything is built aside and published with one
 * rename (docs/store.md, "Containers"). */
#include "ims-internal.h"
#include "cm-fs.h"
#include "cm-helper.h"
#include "config.h"
#include "cm-ufsctl.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

#define CTR_DIR "containers"
#define MOUNT_TIMEOUT_MS 60000

void ims_container_free(struct ims_container *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->image);
	for (size_t i = 0; i < c->n_cmd; i++)
		free(c->cmd[i]);
	free(c->cmd);
	free(c->dir);
	free(c->rw);
	free(c->init);
	free(c->rundir);
	free(c->mountpoint);
	free(c->status);
	cm_json_free(c->config);
	free(c);
}

void ims_container_freep(struct ims_container **c)
{
	ims_container_free(*c);
}

/* ROOT/containers, created 0700 on first use. */
int ims_ctr_dirfd(struct ims_store *s, int *ret, struct cm_error *err)
{
	if (mkdirat(s->rootfd, CTR_DIR, 0700) < 0 && errno != EEXIST)
		return cm_error_setx(err, cm_neg_errno(), "creating %s/" CTR_DIR, s->root);
	int fd = openat(s->rootfd, CTR_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s/" CTR_DIR, s->root);
	*ret = fd;
	return 0;
}

/* RUN/containers[/<id>], created 0700. */
static int run_dirfd(struct ims_store *s, const char *id, int *ret, struct cm_error *err)
{
	if (mkdirat(s->runfd, CTR_DIR, 0700) < 0 && errno != EEXIST)
		return cm_error_setx(err, cm_neg_errno(), "creating %s/" CTR_DIR, s->rundir);
	_cleanup_close_ int cfd = openat(s->runfd, CTR_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW |
						     O_CLOEXEC);
	if (cfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s/" CTR_DIR, s->rundir);
	if (!id) {
		*ret = TAKE_FD(cfd);
		return 0;
	}
	if (mkdirat(cfd, id, 0700) < 0 && errno != EEXIST)
		return cm_error_setx(err, cm_neg_errno(), "creating %s/" CTR_DIR "/%s", s->rundir, id);
	int fd = openat(cfd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s/" CTR_DIR "/%s", s->rundir, id);
	*ret = fd;
	return 0;
}

static int flock_at(int dirfd, const char *name, int op, int *ret)
{
	int fd = cm_flock_at(dirfd, name, op);
	if (fd < 0)
		return fd;
	*ret = fd;
	return 0;
}

int ims_container_lock(struct ims_store *s, const struct ims_container *c,
		       bool exclusive, int *ret_fd, struct cm_error *err)
{
	_cleanup_close_ int dfd = -1;
	int r = run_dirfd(s, c->id, &dfd, err);
	if (r < 0)
		return r;
	r = flock_at(dfd, "lock", exclusive ? LOCK_EX : LOCK_SH, ret_fd);
	if (r < 0)
		return cm_error_setx(err, r, "locking container %.12s", c->id);
	return 0;
}

/* ------------------------------------------------------------ mountinfo */

/* True if path is a mount point in our mount namespace. */
bool ims_is_mountpoint(const char *path)
{
	unsigned maj, min;
	return cm_mountinfo_find(path, &maj, &min, NULL, 0, NULL) == 0;
}

/* ------------------------------------------------------------ reading */

static bool name_valid(const char *n)
{
	size_t l = strlen(n);
	if (l == 0 || l > 128)
		return false;
	for (size_t i = 0; i < l; i++) {
		char ch = n[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
			return false;
	}
	return true;
}

static char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int load_container(struct ims_store *s, int ctrfd, const char *id,
			  struct ims_container **ret, struct cm_error *err)
{
	struct ims_container *c = calloc(1, sizeof(*c));
	_cleanup_container_ struct ims_container *cp = c;
	if (!c)
		return cm_error_set(err, -ENOMEM, "out of memory");
	snprintf(c->id, sizeof(c->id), "%s", id);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/config.json", id);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	char jerr[128];
	int r = ims_read_file_at(ctrfd, path, IMS_MAX_JSON, &buf, &len);
	if (r < 0)
		return cm_error_setx(err, r, "container %.12s: reading config.json", id);
	if ((r = cm_json_parse(buf, len, &c->config, jerr, sizeof(jerr))) < 0)
		return cm_error_set(err, r, "container %.12s: config.json: %s", id, jerr);
	const char *idf = cm_json_get_str(c->config, "Id");
	const char *iid = cm_json_get_str(c->config, "ImageID");
	const char *idg = cm_json_get_str(c->config, "ImageDigest");
	const char *name = cm_json_get_str(c->config, "Name");
	if (!cm_streq(idf, id) || !cm_digest_valid(iid) || !cm_digest_valid(idg) || !name)
		return cm_error_set(err, -EINVAL, "container %.12s: config.json is damaged", id);
	snprintf(c->image_id, sizeof(c->image_id), "%s", iid);
	snprintf(c->image_digest, sizeof(c->image_digest), "%s", idg);
	c->name = strdup(name);
	c->image = strdup_or_null(cm_json_get_str(c->config, "Image"));
	c->created = ims_time_parse(cm_json_get_str(c->config, "Created"));
	const struct cm_json *cmd = cm_json_get(c->config, "Cmd");
	size_t n = cm_json_is(cmd, CM_JSON_ARRAY) ? cmd->n : 0;
	c->cmd = calloc(n + 1, sizeof(char *));
	if (!c->cmd || !c->name)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *a = cm_json_str(cmd->v[i]);
		if (!(c->cmd[c->n_cmd] = strdup(a ? a : "")))
			return cm_error_set(err, -ENOMEM, "out of memory");
		c->n_cmd++;
	}
	if (asprintf(&c->dir, "%s/" CTR_DIR "/%s", s->root, id) < 0 ||
	    asprintf(&c->rw, "%s/rw", c->dir) < 0 || asprintf(&c->init, "%s/init", c->dir) < 0 ||
	    asprintf(&c->rundir, "%s/" CTR_DIR "/%s", s->rundir, id) < 0 ||
	    asprintf(&c->mountpoint, "%s/merged", c->rundir) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	c->mounted = ims_is_mountpoint(c->mountpoint);
	/* the runner may leave a one-line status in the run dir */
	char sp[PATH_MAX];
	snprintf(sp, sizeof(sp), "%s/status", c->rundir);
	_cleanup_close_ int sfd = open(sp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *st = NULL;
	size_t sl;
	if (sfd >= 0 && ims_read_fd(sfd, 4096, &st, &sl) == 0) {
		st[strcspn(st, "\n")] = '\0';
		if (*st)
			c->status = TAKE_PTR(st);
	}
	if (!c->status && !(c->status = strdup("Created")))
		return cm_error_set(err, -ENOMEM, "out of memory");
	*ret = TAKE_PTR(cp);
	return 0;
}

static int cmp_ctr(const void *a, const void *b)
{
	const struct ims_container *x = *(struct ims_container *const *)a;
	const struct ims_container *y = *(struct ims_container *const *)b;
	const char *cx = cm_json_get_str(x->config, "Created");
	const char *cy = cm_json_get_str(y->config, "Created");
	int r = strcmp(cy ? cy : "", cx ? cx : ""); /* same fixed format: newest first */
	return r ? r : strcmp(x->id, y->id);
}

static void free_list(struct ims_container **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ims_container_free(v[i]);
	free(v);
}

int ims_container_list(struct ims_store *s, struct ims_container ***ret,
		       size_t *ret_n, struct cm_error *err)
{
	/* a listing creates nothing: a store that never had a container has
	 * no containers/ (a failed pull or fsck must leave the store as it was) */
	_cleanup_close_ int cfd = openat(s->rootfd, CTR_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0 && errno == ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (cfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s/" CTR_DIR, s->root);
	int dfd = openat(cfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return cm_error_setx(err, -ENOMEM, "listing %s/" CTR_DIR, s->root);
	}
	struct ims_container **v = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!cm_hex64_valid(de->d_name))
			continue;
		struct ims_container *c = NULL;
		struct cm_error e2;
		if (load_container(s, cfd, de->d_name, &c, &e2) < 0) {
			if (e2.code == -ENOENT)
				continue; /* removed meanwhile */
			closedir(d);
			free_list(v, n);
			return cm_error_set(err, e2.code, "%s", e2.msg);
		}
		struct ims_container **nv = realloc(v, (n + 1) * sizeof(*nv));
		if (!nv) {
			ims_container_free(c);
			closedir(d);
			free_list(v, n);
			return cm_error_set(err, -ENOMEM, "out of memory");
		}
		v = nv;
		v[n++] = c;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_ctr);
	*ret = v;
	*ret_n = n;
	return 0;
}

int ims_container_get(struct ims_store *s, const char *ref,
		      struct ims_container **ret, struct cm_error *err)
{
	struct ims_container **v = NULL;
	size_t n = 0;
	int r = ims_container_list(s, &v, &n, err);
	if (r < 0)
		return r;
	ssize_t found = -1;
	for (size_t i = 0; i < n && found < 0; i++)
		if (strcmp(v[i]->id, ref) == 0 || strcmp(v[i]->name, ref) == 0)
			found = (ssize_t)i;
	if (found < 0 && ims_ref_is_id_prefix(ref)) {
		for (size_t i = 0; i < n; i++) {
			if (strncmp(v[i]->id, ref, strlen(ref)) != 0)
				continue;
			if (found >= 0) {
				free_list(v, n);
				return cm_error_set(err, -ENOTUNIQ,
						    "multiple containers match '%s': use more of the id", ref);
			}
			found = (ssize_t)i;
		}
	}
	if (found < 0) {
		free_list(v, n);
		return cm_error_set(err, -ENOENT, "No such container: %s", ref);
	}
	*ret = TAKE_PTR(v[found]);
	free_list(v, n);
	return 0;
}

bool ims_container_uses_image(struct ims_store *s, const char *image_id,
			      char ret_ctr[CM_SHA256_HEX_LEN + 1])
{
	struct ims_container **v = NULL;
	size_t n = 0;
	if (ims_container_list(s, &v, &n, NULL) < 0)
		return false;
	bool used = false;
	for (size_t i = 0; i < n && !used; i++) {
		if (strcmp(v[i]->image_id, image_id) != 0)
			continue;
		used = true;
		if (ret_ctr)
			memcpy(ret_ctr, v[i]->id, sizeof(v[i]->id));
	}
	free_list(v, n);
	return used;
}

int ims_container_image(struct ims_store *s, const struct ims_container *c,
			struct ims_image **ret, struct cm_error *err)
{
	struct stat st;
	if (fstatat(s->blobsfd, c->image_digest + 7, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return cm_error_setx(err, cm_neg_errno(), "container %.12s: image manifest %s",
				     c->id, c->image_digest);
	int r = ims_image_load(s, c->image_digest, st.st_size, ret, err);
	if (r == 0 && strcmp((*ret)->id, c->image_id) != 0) {
		ims_image_free(*ret);
		*ret = NULL;
		return cm_error_set(err, -EINVAL, "container %.12s: image %s does not match its manifest",
				    c->id, c->image_id);
	}
	return r;
}

/* The image's layer dirs, top first, as diff_ids; each must be unpacked. */
int ims_ctr_layers(struct ims_store *s, const struct ims_container *c,
		   char ***ret, size_t *ret_n, struct cm_error *err)
{
	_cleanup_image_ struct ims_image *img = NULL;
	int r = ims_container_image(s, c, &img, err);
	if (r < 0)
		return r;
	const struct cm_json *di = cm_json_get(cm_json_get(img->config, "rootfs"), "diff_ids");
	size_t n = cm_json_is(di, CM_JSON_ARRAY) ? di->n : 0;
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *d = cm_json_str(di->v[n - 1 - i]);
		if (!ims_layer_exists(s, d) || !(v[i] = strdup(d))) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return cm_error_set(err, -ENOENT, "container %.12s: layer %s is missing (img fsck)",
					    c->id, d ? d : "?");
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------ create */

static int write_at(int dirfd, const char *name, const char *text, mode_t mode, bool durable)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
						     O_CLOEXEC, mode);
	if (fd < 0)
		return cm_neg_errno();
	int r = cm_write_all(fd, text, strlen(text));
	if (r == 0 && fchmod(fd, mode) < 0)
		r = cm_neg_errno();
	if (r == 0 && durable && fsync(fd) < 0)
		r = cm_neg_errno();
	return r;
}

bool ims_init_path(const char *path)
{
	static const char *const files[] = { "etc/hosts", "etc/hostname", "etc/resolv.conf" };
	while (*path == '/')
		path++;
	for (size_t i = 0; i < CM_ARRAY_SIZE(files); i++)
		if (strcmp(path, files[i]) == 0)
			return true;
	return false;
}

/* resolv.conf for the container: the host's, minus loopback nameservers
 * (unreachable from a network namespace), else public ones (as docker). */
static char *make_resolv(void)
{
	_cleanup_free_ char *host = NULL;
	size_t len = 0;
	_cleanup_close_ int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ims_read_fd(fd, 64 << 10, &host, &len) < 0)
		host = NULL;
	size_t cap = len + 128;
	char *out = calloc(1, cap);
	if (!out)
		return NULL;
	bool ns = false;
	char *save = NULL;
	for (char *l = host ? strtok_r(host, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "nameserver", 10) == 0) {
			const char *a = l + 10;
			while (*a == ' ' || *a == '\t')
				a++;
			if (strncmp(a, "127.", 4) == 0 || strncmp(a, "::1", 3) == 0)
				continue;
			ns = true;
		}
		strcat(out, l);
		strcat(out, "\n");
	}
	if (!ns)
		strcat(out, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	return out;
}

static int build_init(int dfd, const char *hostname, bool durable)
{
	static const char *const dirs[] = { "dev", "dev/pts", "dev/shm", "etc", "proc", "sys" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(dirs); i++)
		if (mkdirat(dfd, dirs[i], 0755) < 0)
			return cm_neg_errno();
	char hosts[512], hn[128];
	snprintf(hosts, sizeof(hosts),
		 "127.0.0.1\tlocalhost\n"
		 "::1\tlocalhost ip6-localhost ip6-loopback\n"
		 "fe00::0\tip6-localnet\n"
		 "ff00::0\tip6-mcastprefix\n"
		 "ff02::1\tip6-allnodes\n"
		 "ff02::2\tip6-allrouters\n"
		 "127.0.1.1\t%s\n", hostname);
	snprintf(hn, sizeof(hn), "%s\n", hostname);
	_cleanup_free_ char *resolv = make_resolv();
	if (!resolv)
		return -ENOMEM;
	_cleanup_close_ int efd = openat(dfd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (efd < 0)
		return cm_neg_errno();
	int r = write_at(efd, "hosts", hosts, 0644, durable);
	if (r == 0)
		r = write_at(efd, "hostname", hn, 0644, durable);
	if (r == 0)
		r = write_at(efd, "resolv.conf", resolv, 0644, durable);
	return r;
}

static int ctr_config_json(const struct ims_container *c, const char *created,
			   const char *const *cmd, bool ephemeral, char **ret, size_t *ret_len)
{
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "Id", c->id);
	cm_jw_kstr(&w, "Name", c->name);
	cm_jw_kstr(&w, "Image", c->image);
	cm_jw_kstr(&w, "ImageID", c->image_id);
	cm_jw_kstr(&w, "ImageDigest", c->image_digest);
	cm_jw_kstr(&w, "Created", created);
	char hn[13];
	snprintf(hn, sizeof(hn), "%.12s", c->id);
	cm_jw_kstr(&w, "Hostname", hn);
	cm_jw_key(&w, "Cmd");
	cm_jw_arr(&w);
	for (size_t i = 0; cmd && cmd[i]; i++)
		cm_jw_str(&w, cmd[i]);
	cm_jw_arr_end(&w);
	if (ephemeral) { /* its removal is not synced either (ims_container_remove) */
		cm_jw_key(&w, "Ephemeral");
		cm_jw_bool(&w, true);
	}
	cm_jw_obj_end(&w);
	return cm_jw_finish(&w, ret, ret_len);
}

static int name_taken(struct ims_store *s, const char *name, struct cm_error *err)
{
	struct ims_container **v = NULL;
	size_t n = 0;
	int r = ims_container_list(s, &v, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		if (strcmp(v[i]->name, name) == 0)
			r = cm_error_set(err, -EEXIST,
					 "Conflict. The container name \"/%s\" is already in use by container \"%s\"",
					 name, v[i]->id);
	free_list(v, n);
	return r;
}

int ims_container_create(struct ims_store *s, const struct ims_create_opts *o,
			 struct ims_container **ret, struct cm_error *err)
{
	if (o->name && !name_valid(o->name))
		return cm_error_set(err, -EINVAL,
				    "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				    o->name);
	int r = ims_store_lock_shared(s, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lockfd = -1, cfd = -1, tdfd = -1, idfd = -1, rfd = -1;
	_cleanup_image_ struct ims_image *img = NULL;
	_cleanup_free_ char *json = NULL;
	struct ims_container tmpl = { 0 };
	char tmp[64] = "", created[64], hostname[65];
	bool made = false;
	struct ims_index hold = { .lockfd = -1 };

	unsigned char rnd[32];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		r = cm_error_setx(err, cm_neg_errno(), "getrandom");
		goto out;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(tmpl.id + 2 * i, 3, "%02x", rnd[i]);
	if (o->hostname && (!o->hostname[0] || strlen(o->hostname) >= sizeof(hostname) ||
			    strpbrk(o->hostname, "/ \t\n"))) {
		r = cm_error_set(err, -EINVAL, "invalid hostname '%s'", o->hostname);
		goto out;
	}
	snprintf(hostname, sizeof(hostname), "%.64s", o->hostname ? o->hostname : tmpl.id);
	if (!o->hostname)
		hostname[12] = '\0';
	char defname[32];
	snprintf(defname, sizeof(defname), "img_%.12s", tmpl.id);
	tmpl.name = (char *)(o->name ? o->name : defname);
	tmpl.image = (char *)o->image;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	size_t cl = strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(created + cl, sizeof(created) - cl, ".%09ldZ", now.tv_nsec);

	if ((r = ims_ctr_dirfd(s, &cfd, err)) < 0)
		goto out;
	if ((r = run_dirfd(s, NULL, &rfd, err)) < 0)
		goto out;
	if ((r = flock_at(rfd, "containers.lock", LOCK_EX, &lockfd)) < 0) {
		cm_error_setx(err, r, "locking %s/containers.lock", s->rundir);
		goto out;
	}
	if ((r = name_taken(s, tmpl.name, err)) < 0)
		goto out;
	/* index.lock held from resolving the image to publishing: rmi sees
	 * either no container or one that uses the image */
	if ((r = ims_index_read(s, &hold, true, err)) < 0)
		goto out;
	if ((r = ims_image_resolve(s, o->image, &img, err)) < 0)
		goto out;
	memcpy(tmpl.image_id, img->id, sizeof(tmpl.image_id));
	memcpy(tmpl.image_digest, img->digest, sizeof(tmpl.image_digest));

	ims_tmpname(tmp, sizeof(tmp), "ctr");
	if (mkdirat(s->tmpfd, tmp, 0700) < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "creating %s/tmp/%s", s->root, tmp);
		goto out;
	}
	made = true;
	tdfd = openat(s->tmpfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tdfd < 0 || mkdirat(tdfd, "rw", 0755) < 0 || mkdirat(tdfd, "init", 0755) < 0 ||
	    fchmodat(tdfd, "rw", 0755, 0) < 0 || fchmodat(tdfd, "init", 0755, 0) < 0 ||
	    (idfd = openat(tdfd, "init", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "creating the container in %s/tmp", s->root);
		goto out;
	}
	bool durable = !o->ephemeral;
	if ((r = build_init(idfd, hostname, durable)) < 0) {
		cm_error_setx(err, r, "building the init layer");
		goto out;
	}
	size_t jl;
	if ((r = ctr_config_json(&tmpl, created, o->cmd, o->ephemeral, &json, &jl)) < 0) {
		cm_error_set(err, r, "out of memory");
		goto out;
	}
	/* the whole dir is still private in tmp/: one O_EXCL write is enough */
	if ((r = write_at(tdfd, "config.json", json, 0600, durable)) < 0 ||
	    (durable && ((r = cm_fsync_dirfd(idfd)) < 0 || (r = cm_fsync_dirfd(tdfd)) < 0))) {
		cm_error_setx(err, r, "writing the container state");
		goto out;
	}
	if ((r = cm_publish_rename(s->tmpfd, tmp, cfd, tmpl.id)) < 0) {
		cm_error_setx(err, r, "publishing container %s", tmpl.id);
		goto out;
	}
	made = false;
	if (durable && (r = cm_fsync_dirfd(cfd)) < 0) {
		cm_error_setx(err, r, "fsync of %s/" CTR_DIR, s->root);
		goto out;
	}
	r = load_container(s, cfd, tmpl.id, ret, err);
out:
	if (made)
		cm_rm_rf_at(s->tmpfd, tmp);
	ims_index_release(&hold);
	ims_store_unlock_shared(s);
	return r;
}

int ims_container_rename(struct ims_store *s, const char *ref, const char *name,
			 struct cm_error *err)
{
	if (!name_valid(name))
		return cm_error_set(err, -EINVAL,
				    "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
	_cleanup_container_ struct ims_container *c = NULL;
	_cleanup_close_ int lockfd = -1, cfd = -1, rfd = -1, dfd = -1;
	int r = ims_container_get(s, ref, &c, err);
	if (r < 0)
		return r;
	if (strcmp(c->name, name) == 0)
		return cm_error_set(err, -EINVAL, "Renaming a container with the same name as its current name");
	if ((r = ims_ctr_dirfd(s, &cfd, err)) < 0 || (r = run_dirfd(s, NULL, &rfd, err)) < 0)
		return r;
	if ((r = flock_at(rfd, "containers.lock", LOCK_EX, &lockfd)) < 0)
		return cm_error_setx(err, r, "locking %s/containers.lock", s->rundir);
	if ((r = name_taken(s, name, err)) < 0) {
		cm_error_prefix(err, r, "Error when allocating new name");
		return r;
	}
	/* config.json with the new Name, every other key as it was */
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	for (size_t i = 0; cm_json_is(c->config, CM_JSON_OBJECT) && i < c->config->n; i++) {
		cm_jw_key(&w, c->config->k[i]);
		if (strcmp(c->config->k[i], "Name") == 0)
			cm_jw_str(&w, name);
		else
			cm_jw_value(&w, c->config->v[i]);
	}
	cm_jw_obj_end(&w);
	_cleanup_free_ char *json = NULL;
	size_t jl;
	if (cm_jw_finish(&w, &json, &jl) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	dfd = openat(cfd, c->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || (r = ims_write_file_atomic(dfd, "config.json", json, jl, 0600)) < 0)
		return cm_error_setx(err, dfd < 0 ? cm_neg_errno() : r, "renaming container %.12s", c->id);
	return 0;
}

/* ------------------------------------------------------------ mount */

static bool bad_for_dirs(const char *p)
{
	return strpbrk(p, ":,=\\") != NULL;
}

/* Run ufsmount and wait for it: it exits once the mount is ready, leaving
 * its daemon detached. Its stderr goes to a memfd (the daemon keeps no pipe
 * of ours open) and its first line becomes our error message. */
static int spawn_ufsmount(const char *dirs, const char *mp, struct cm_error *err)
{
	_cleanup_free_ char *exe = NULL;
	int r = cm_helper_find("ufsmount", "IMG_UFSMOUNT", UFSMOUNT_PATH, &exe, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *opts = NULL;
	if (asprintf(&opts, "dirs=%s,nodev,allow_idmap", dirs) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	_cleanup_close_ int efd = memfd_create("img-ufsmount-err", MFD_CLOEXEC);
	if (efd < 0)
		return cm_error_setx(err, cm_neg_errno(), "memfd_create");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	char *argv[] = { exe, (char *)"-o", opts, (char *)mp, NULL };
	pid_t pid;
	r = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return cm_error_setx(err, -r, "running %s", exe);
	int st = 0;
	/* ufsmount exits as soon as the mount is ready (about 3 ms): wait on
	 * a pidfd rather than polling waitpid every 10 ms; the loop below is
	 * the fallback for kernels without pidfd_open (< 5.3). */
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd pf = { .fd = pfd, .events = POLLIN };
		int pr;
		do
			pr = poll(&pf, 1, MOUNT_TIMEOUT_MS);
		while (pr < 0 && errno == EINTR);
		close(pfd);
		if (pr == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			umount2(mp, MNT_DETACH);
			return cm_error_set(err, -ETIMEDOUT, "%s did not mount %s in time", exe, mp);
		}
	}
	for (int waited = 0;; waited += 10) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return cm_error_setx(err, cm_neg_errno(), "waiting for %s", exe);
		if (waited >= MOUNT_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			umount2(mp, MNT_DETACH);
			return cm_error_set(err, -ETIMEDOUT, "%s did not mount %s in time", exe, mp);
		}
		poll(NULL, 0, 10);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char msg[512] = "";
	ssize_t k = pread(efd, msg, sizeof(msg) - 1, 0);
	if (k > 0) {
		msg[k] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
	}
	return cm_error_set(err, -EIO, "mounting the container: %s",
			    msg[0] ? msg : "ufsmount failed");
}

int ims_container_rundir(struct ims_store *s, struct ims_container *c, struct cm_error *err)
{
	_cleanup_close_ int fd = -1;
	return run_dirfd(s, c->id, &fd, err);
}

int ims_container_mount(struct ims_store *s, struct ims_container *c,
			struct cm_error *err)
{
	_cleanup_close_ int lfd = -1, rfd = -1;
	int r = ims_container_lock(s, c, true, &lfd, err);
	if (r < 0)
		return r;
	if (ims_is_mountpoint(c->mountpoint)) {
		/* asked of the daemon's socket, not of the mount: a stalled
		 * daemon would not answer a stat (only without a socket) */
		struct stat st;
		int dead = cm_ufsctl_mount_dead(c->mountpoint);
		if (dead == 0 || (dead < 0 && stat(c->mountpoint, &st) == 0)) {
			c->mounted = true;
			return 0;
		}
		/* a dead daemon (ENOTCONN): detach and mount again */
		umount2(c->mountpoint, MNT_DETACH);
	}
	/* every cleanup variable before the first goto: a jump past one would
	 * free stack garbage (issue 11; clang refuses it, gcc does not) */
	char **layers = NULL;
	size_t n = 0;
	_cleanup_free_ char *dirs = NULL, *js = NULL;
	if ((r = ims_ctr_layers(s, c, &layers, &n, err)) < 0)
		return r;
	if (n + 2 > 64) {
		r = cm_error_set(err, -E2BIG, "container %.12s: too many layers (%zu)", c->id, n);
		goto out;
	}
	if (bad_for_dirs(s->root)) {
		r = cm_error_set(err, -EINVAL, "store root %s: ':', ',', '=' or '\\' cannot be passed to ufsmount",
				 s->root);
		goto out;
	}
	size_t cap = strlen(c->rw) + strlen(c->init) + 16 + n * (strlen(s->root) + 90);
	dirs = malloc(cap);
	if (!dirs) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	int off = snprintf(dirs, cap, "%s=rw:%s=ro", c->rw, c->init);
	for (size_t i = 0; i < n; i++)
		off += snprintf(dirs + off, cap - (size_t)off, ":%s/layers/%s=ro", s->root,
				layers[i] + 7);
	if ((r = run_dirfd(s, c->id, &rfd, err)) < 0)
		goto out;
	if (mkdirat(rfd, "merged", 0755) < 0 && errno != EEXIST) {
		r = cm_error_setx(err, cm_neg_errno(), "creating %s", c->mountpoint);
		goto out;
	}
	if ((r = spawn_ufsmount(dirs, c->mountpoint, err)) < 0) {
		(void)unlinkat(rfd, "merged", AT_REMOVEDIR); /* as before the call */
		goto out;
	}
	/* record the mount (runtime state: gone with the run dir at reboot) */
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "Mountpoint", c->mountpoint);
	cm_jw_kstr(&w, "Dirs", dirs);
	cm_jw_obj_end(&w);
	size_t jl;
	if (cm_jw_finish(&w, &js, &jl) == 0) /* not synced, as the runner's state */
		(void)cm_replace_file_at(rfd, "mount.json", ".tmp-mount.json", js, jl, 0600, false);
	c->mounted = true;
	r = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(layers[i]);
	free(layers);
	return r;
}

static int umount_locked(struct ims_store *s, struct ims_container *c, bool lazy,
			 struct cm_error *err)
{
	if (ims_is_mountpoint(c->mountpoint)) {
		if (umount2(c->mountpoint, 0) < 0 && errno != EINVAL) {
			if (errno != EBUSY || !lazy)
				return cm_error_setx(err, cm_neg_errno(), "unmounting %s", c->mountpoint);
			if (umount2(c->mountpoint, MNT_DETACH) < 0 && errno != EINVAL)
				return cm_error_setx(err, cm_neg_errno(), "unmounting %s", c->mountpoint);
		}
	}
	c->mounted = false;
	_cleanup_close_ int rfd = -1;
	if (run_dirfd(s, c->id, &rfd, NULL) == 0) {
		unlinkat(rfd, "mount.json", 0);
		unlinkat(rfd, "merged", AT_REMOVEDIR);
	}
	return 0;
}

int ims_container_umount(struct ims_store *s, struct ims_container *c, bool lazy,
			 struct cm_error *err)
{
	_cleanup_close_ int lfd = -1;
	int r = ims_container_lock(s, c, true, &lfd, err);
	if (r < 0)
		return r;
	return umount_locked(s, c, lazy, err);
}

int ims_container_remove(struct ims_store *s, const char *ref, bool force,
			 struct cm_error *err)
{
	_cleanup_container_ struct ims_container *c = NULL;
	int r = ims_container_get(s, ref, &c, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lfd = -1, cfd = -1, glock = -1, rfd = -1;
	if ((r = ims_container_lock(s, c, true, &lfd, err)) < 0)
		return r;
	if (ims_is_mountpoint(c->mountpoint)) {
		if (!force)
			return cm_error_set(err, -EBUSY,
					    "cannot remove container %.12s: it is mounted (img umount it, or rm -f)",
					    c->id);
		if ((r = umount_locked(s, c, true, err)) < 0)
			return r;
	}
	if (ims_is_mountpoint(c->mountpoint))
		return cm_error_set(err, -EBUSY, "cannot remove container %.12s: %s is still mounted",
				    c->id, c->mountpoint);
	if ((r = ims_ctr_dirfd(s, &cfd, err)) < 0)
		return r;
	if ((r = run_dirfd(s, NULL, &rfd, err)) < 0)
		return r;
	if ((r = flock_at(rfd, "containers.lock", LOCK_EX, &glock)) < 0)
		return cm_error_setx(err, r, "locking %s/containers.lock", s->rundir);
	/* disappear with one rename, then delete at leisure */
	char tmp[64];
	ims_tmpname(tmp, sizeof(tmp), "rm");
	if (renameat(cfd, c->id, s->tmpfd, tmp) < 0)
		return cm_error_setx(err, cm_neg_errno(), "removing container %.12s", c->id);
	/* an ephemeral container's creation was not synced: nor is its removal
	 * (a crash may bring back either the container or nothing, as before) */
	const struct cm_json *eph = cm_json_get(c->config, "Ephemeral");
	if (!(cm_json_is(eph, CM_JSON_BOOL) && eph->b))
		cm_fsync_dirfd(cfd);
	r = cm_rm_rf_at(s->tmpfd, tmp);
	if (r < 0)
		return cm_error_setx(err, r, "removing %s/tmp/%s", s->root, tmp);
	r = cm_rm_rf_at(rfd, c->id);
	if (r < 0)
		return cm_error_setx(err, r, "removing %s", c->rundir);
	return 0;
}
