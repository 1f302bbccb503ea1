// SPDX-License-Identifier: MIT
/* RUN --mount=type=cache, type=secret, type=bind (BuildKit's syntax;
 * bind: read-only, from the context), type=tmpfs and type=ssh (an agent's
 * socket of --ssh bound in): a cache is a
 * dir of the store (ROOT/build-mounts/cache-<hash of its id>) kept from
 * build to build, a secret a copy of the --secret file in a private temp
 * dir; both are bind mounts of the RUN's container, so nothing of them is
 * in the layer, and the stubs the runner makes for their targets are taken
 * out of the rw branch before it is committed. Neither the cache's content
 * nor the secret's is part of the step's cache key. */
#include "bld-internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm-fs.h"
#include "cm-hash.h"
#include "ims.h"
#include "run.h"

#define MAX_SECRET (512 << 10) /* BuildKit's 500 KiB, rounded */

void bld_mounts_free(struct bld_mounts *m)
{
	bld_strv_free(m->vols);
	bld_strv_free(m->targets);
	bld_strv_free(m->tmpfs);
	bld_strv_free(m->env);
	bld_tmpdir_remove(m->tmp);
	free(m->key);
	*m = (struct bld_mounts){ 0 };
}

char *bld_mount_opt(const char *spec, const char *k)
{
	size_t kl = strlen(k);
	for (const char *p = spec; p && *p;) {
		size_t n = strcspn(p, ",");
		if (n > kl && strncmp(p, k, kl) == 0 && p[kl] == '=')
			return strndup(p + kl + 1, n - kl - 1);
		if (n == kl && strncmp(p, k, kl) == 0)
			return strdup("true");
		p += n + (p[n] == ',');
	}
	return NULL;
}

static char *opt_any(const char *spec, const char *a, const char *b, const char *c)
{
	char *v = bld_mount_opt(spec, a);
	if (!v && b)
		v = bld_mount_opt(spec, b);
	if (!v && c)
		v = bld_mount_opt(spec, c);
	return v;
}

/* The number of option k (mode octal, uid/gid decimal), or dflt. */
static int opt_num(const char *spec, const char *k, int base, long dflt, long max, long *ret,
		   struct cm_error *err)
{
	_cleanup_free_ char *v = bld_mount_opt(spec, k);
	if (!v) {
		*ret = dflt;
		return 0;
	}
	char *end;
	long n = strtol(v, &end, base);
	if (!*v || *end || n < 0 || n > max)
		return cm_error_set(err, -EINVAL, "--mount %s=%s: not a valid value", k, v);
	*ret = n;
	return 0;
}

/* The path in the container: absolute, or below the workdir. */
static char *target_of(const char *t, const char *workdir)
{
	char *r = NULL;
	if (t[0] == '/')
		return strdup(t);
	const char *w = workdir ? workdir : "/";
	if (asprintf(&r, "%s%s%s", w, w[strlen(w) - 1] == '/' ? "" : "/", t) < 0)
		return NULL;
	return r;
}

static int add_vol(struct bld_mounts *m, const char *host, const char *ctr, bool ro)
{
	char *v = NULL;
	if (asprintf(&v, "%s:%s%s", host, ctr, ro ? ":ro" : "") < 0)
		return -ENOMEM;
	size_t n = m->n_vols;
	int r = bld_strv_push(&m->vols, &n, v);
	m->n_vols = n;
	if (r == 0) {
		n = m->n_targets;
		r = bld_strv_push(&m->targets, &n, strdup(ctr));
		m->n_targets = n;
	}
	return r;
}

static int cache_mount(struct ims_store *s, const char *spec, const char *target,
		       struct bld_mounts *m, struct cm_error *err)
{
	_cleanup_free_ char *id = bld_mount_opt(spec, "id");
	_cleanup_free_ char *sharing = bld_mount_opt(spec, "sharing");
	_cleanup_free_ char *ro = opt_any(spec, "ro", "readonly", NULL);
	if (sharing && strcmp(sharing, "shared") != 0 && strcmp(sharing, "locked") != 0 &&
	    strcmp(sharing, "private") != 0)
		return cm_error_set(err, -EINVAL, "--mount sharing=%s: shared, private or locked", sharing);
	long mode, uid, gid;
	int r;
	if ((r = opt_num(spec, "mode", 8, 0755, 07777, &mode, err)) < 0 ||
	    (r = opt_num(spec, "uid", 10, 0, 0x7fffffff, &uid, err)) < 0 ||
	    (r = opt_num(spec, "gid", 10, 0, 0x7fffffff, &gid, err)) < 0)
		return r;
	const char *name = id ? id : target;
	char d[CM_DIGEST_STR_LEN];
	if ((r = cm_sha256_buf(name, strlen(name), d)) < 0)
		return cm_error_set(err, r, "hashing a cache id");
	_cleanup_free_ char *dir = NULL;
	if (asprintf(&dir, "%s/build-mounts/cache-%.32s", ims_store_root(s), d + 7) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	struct stat st;
	bool fresh = stat(dir, &st) < 0;
	if ((r = run_mkdir_p(dir, 0755)) < 0)
		return cm_error_setx(err, r, "creating %s", dir);
	/* a new cache takes the mount's owner and mode (BuildKit's) */
	if (fresh && (chown(dir, (uid_t)uid, (gid_t)gid) < 0 || chmod(dir, (mode_t)mode) < 0))
		return cm_error_setx(err, cm_neg_errno(), "setting up %s", dir);
	bool is_ro = ro && strcmp(ro, "false") != 0;
	return add_vol(m, dir, target, is_ro) < 0 ? cm_error_set(err, -ENOMEM, "out of memory") : 0;
}

/* "id=X,src=FILE" of --secret with id, or NULL. */
static char *secret_src(char *const *secrets, const char *id)
{
	for (size_t i = 0; secrets && secrets[i]; i++) {
		_cleanup_free_ char *sid = bld_mount_opt(secrets[i], "id");
		if (sid && strcmp(sid, id) == 0)
			return opt_any(secrets[i], "src", "source", NULL);
	}
	return NULL;
}

static int secret_mount(struct ims_store *s, const char *spec, char *const *secrets,
			const char *workdir, struct bld_mounts *m, struct cm_error *err)
{
	_cleanup_free_ char *id = bld_mount_opt(spec, "id");
	_cleanup_free_ char *tgt = opt_any(spec, "target", "dst", "destination");
	_cleanup_free_ char *req = bld_mount_opt(spec, "required");
	if (!id && tgt) {
		const char *sl = strrchr(tgt, '/');
		id = strdup(sl ? sl + 1 : tgt);
	}
	if (!id || !*id)
		return cm_error_set(err, -EINVAL, "--mount=type=secret needs an id");
	_cleanup_free_ char *src = secret_src(secrets, id);
	if (!src) {
		if (req && strcmp(req, "false") != 0)
			return cm_error_set(err, -ENOENT, "secret %s: required and not given (--secret id=%s,src=FILE)",
					    id, id);
		return 0; /* BuildKit: an absent optional secret is no mount */
	}
	long mode, uid, gid;
	int r;
	if ((r = opt_num(spec, "mode", 8, 0400, 07777, &mode, err)) < 0 ||
	    (r = opt_num(spec, "uid", 10, 0, 0x7fffffff, &uid, err)) < 0 ||
	    (r = opt_num(spec, "gid", 10, 0, 0x7fffffff, &gid, err)) < 0)
		return r;
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (in < 0 || (r = ims_read_fd(in, MAX_SECRET, &data, &len)) < 0)
		return cm_error_setx(err, in < 0 ? cm_neg_errno() : r, "secret %s: reading %s", id, src);
	if (!m->tmp) {
		if (asprintf(&m->tmp, "%s/tmp/build-secrets.XXXXXX", ims_store_root(s)) < 0 || !mkdtemp(m->tmp)) {
			free(m->tmp);
			m->tmp = NULL;
			return cm_error_setx(err, -errno ? -errno : -ENOMEM, "a temp dir for secrets");
		}
	}
	/* one copy per mount: the same secret may be mounted twice, differently */
	_cleanup_free_ char *file = NULL, *target = NULL;
	if (asprintf(&file, "%s/secret.%zu", m->tmp, m->n_vols) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	_cleanup_close_ int out = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0 || cm_write_all(out, data, len) < 0 || fchown(out, (uid_t)uid, (gid_t)gid) < 0 ||
	    fchmod(out, (mode_t)mode) < 0)
		return cm_error_setx(err, cm_neg_errno(), "secret %s: its copy", id);
	if (tgt) {
		target = target_of(tgt, workdir);
	} else if (asprintf(&target, "/run/secrets/%s", id) < 0) {
		target = NULL;
	}
	if (!target || add_vol(m, file, target, true) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* type=bind: from the context (the default), a stage or an image (the
 * root build.c mounted for it, a union of its own), source= a path below
 * that root (no link or ".." out of it); read-only unless rw, and then the
 * writes land in the root's own rw branch or temp copy, both dropped after
 * the RUN (BuildKit's: never in the source, never in the layer). */
static int bind_mount(const char *spec, const char *target, int context,
		      const char *context_path, const struct bld_bind_root *root,
		      struct bld_mounts *m, struct cm_error *err)
{
	_cleanup_free_ char *src = opt_any(spec, "source", "src", NULL);
	_cleanup_free_ char *from = bld_mount_opt(spec, "from");
	_cleanup_free_ char *rw = opt_any(spec, "rw", "readwrite", NULL);
	bool is_rw = rw && strcmp(rw, "false") != 0;
	int dir = context;
	const char *dir_path = context_path;
	if (root && root->fd >= 0) {
		dir = root->fd;
		dir_path = root->path;
	} else if (from || is_rw) {
		return cm_error_set(err, -EINVAL, "RUN --mount=type=bind%s: no source root", from ? ",from=" : ",rw");
	}
	if (!dir_path)
		return cm_error_set(err, -ENOTSUP, "RUN --mount=type=bind: no context dir");
	char rel[PATH_MAX];
	if (bld_path_clean(root && root->sub ? root->sub : src ? src : ".", rel, sizeof(rel)) < 0)
		return cm_error_set(err, -ENAMETOOLONG, "--mount source too long");
	/* inside the root, no link out of it */
	_cleanup_close_ int fd = cm_openat_beneath(dir, *rel ? rel : ".", O_PATH, 0, false);
	if (fd < 0)
		return cm_error_setx(err, fd, "--mount=type=bind,source=%s: not in %s", src ? src : ".",
				     from ? from : "the context");
	_cleanup_free_ char *host = NULL;
	if (asprintf(&host, "%s%s%s", dir_path, *rel ? "/" : "", rel) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return add_vol(m, host, target, !is_rw) < 0 ? cm_error_set(err, -ENOMEM, "out of memory") : 0;
}

/* type=tmpfs,target=P[,size=BYTES]: a fresh tmpfs (BuildKit's), nothing
 * of it in the layer. */
static int tmpfs_mount(const char *spec, const char *target, struct bld_mounts *m,
		       struct cm_error *err)
{
	_cleanup_free_ char *size = bld_mount_opt(spec, "size");
	if (size && (!*size || strspn(size, "0123456789") != strlen(size)))
		return cm_error_set(err, -EINVAL, "--mount=type=tmpfs size=%s: a number of bytes", size);
	if (strchr(target, ':') || strchr(target, ','))
		return cm_error_set(err, -EINVAL, "--mount=type=tmpfs target=%s: no ':' or ','", target);
	char *t = NULL;
	if (asprintf(&t, "%s%s%s", target, size ? ":size=" : "", size ? size : "") < 0 ||
	    bld_strv_push(&m->tmpfs, &m->n_tmpfs, t) < 0 ||
	    bld_strv_push(&m->targets, &m->n_targets, strdup(target)) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* The agent socket of --ssh ID[=SOCKET] ("default" alone: $SSH_AUTH_SOCK),
 * malloc'd, or NULL when the build has no such id. */
static char *ssh_socket(char *const *ssh, const char *id)
{
	for (size_t i = 0; ssh && ssh[i]; i++) {
		size_t l = strcspn(ssh[i], "=");
		if (strlen(id) != l || strncmp(ssh[i], id, l) != 0)
			continue;
		if (ssh[i][l] == '=')
			return strdup(ssh[i] + l + 1);
		const char *e = getenv("SSH_AUTH_SOCK");
		return e && *e ? strdup(e) : NULL;
	}
	return NULL;
}

/* type=ssh[,id=ID][,target=P][,required]: the agent socket of --ssh ID
 * bound at P (/run/buildkit/ssh_agent.N), SSH_AUTH_SOCK=P for the first
 * (BuildKit's). A key file is refused: no agent is run for it. */
static int ssh_mount(const char *spec, char *const *ssh, const char *workdir, size_t nth,
		     struct bld_mounts *m, struct cm_error *err)
{
	_cleanup_free_ char *id = bld_mount_opt(spec, "id");
	_cleanup_free_ char *tgt = opt_any(spec, "target", "dst", "destination");
	_cleanup_free_ char *req = bld_mount_opt(spec, "required");
	const char *sid = id && *id ? id : "default";
	_cleanup_free_ char *sock = ssh_socket(ssh, sid);
	if (!sock) {
		if (req && strcmp(req, "false") != 0)
			return cm_error_set(err, -ENOENT, "ssh %s: required and not given (--ssh %s[=SOCKET])", sid, sid);
		return 0;
	}
	struct stat st;
	if (sock[0] != '/' || stat(sock, &st) < 0 || !S_ISSOCK(st.st_mode))
		return cm_error_set(err, -EINVAL,
				    "--ssh %s=%s: not an agent's socket (an absolute path; keys need an agent: ssh-add them to one)",
				    sid, sock);
	_cleanup_free_ char *target = NULL;
	if (tgt)
		target = target_of(tgt, workdir);
	else if (asprintf(&target, "/run/buildkit/ssh_agent.%zu", nth) < 0)
		target = NULL;
	if (!target || add_vol(m, sock, target, false) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	if (nth == 0) {
		char *e = NULL;
		if (asprintf(&e, "SSH_AUTH_SOCK=%s", target) < 0 || bld_strv_push(&m->env, &m->n_env, e) < 0)
			return cm_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int bld_mounts_setup(struct ims_store *s, const struct bld_instr *in, char *const *secrets,
		     char *const *ssh, const char *workdir, int context, const char *context_path,
		     const struct bld_bind_root *roots, struct bld_mounts *ret, struct cm_error *err)
{
	struct bld_mounts m = { 0 };
	struct bld_sb key = { 0 };
	int r = 0;
	size_t n_ssh = 0;
	for (size_t i = 0; r == 0 && i < in->n_flags; i++) {
		const char *f = in->flags[i];
		if (strncmp(f, "--mount=", 8) != 0)
			continue;
		const char *spec = f + 8;
		_cleanup_free_ char *type = bld_mount_opt(spec, "type");
		_cleanup_free_ char *tgt = opt_any(spec, "target", "dst", "destination");
		const char *t = type ? type : "bind";
		if ((r = bld_sb_add(&key, f, strlen(f))) < 0 || (r = bld_sb_addc(&key, '\n')) < 0)
			break;
		if (strcmp(t, "secret") == 0) {
			r = secret_mount(s, spec, secrets, workdir, &m, err);
			continue;
		}
		if (strcmp(t, "ssh") == 0) {
			r = ssh_mount(spec, ssh, workdir, n_ssh++, &m, err);
			continue;
		}
		if (strcmp(t, "cache") != 0 && strcmp(t, "bind") != 0 && strcmp(t, "tmpfs") != 0) {
			r = cm_error_set(err, -EINVAL, "RUN --mount=type=%s: bind, cache, tmpfs, secret or ssh", t);
			break;
		}
		if (!tgt || !*tgt) {
			r = cm_error_set(err, -EINVAL, "RUN --mount=type=%s needs a target", t);
			break;
		}
		_cleanup_free_ char *target = target_of(tgt, workdir);
		if (!target)
			r = -ENOMEM;
		else if (strcmp(t, "bind") == 0)
			r = bind_mount(spec, target, context, context_path, roots ? &roots[i] : NULL, &m, err);
		else if (strcmp(t, "tmpfs") == 0)
			r = tmpfs_mount(spec, target, &m, err);
		else
			r = cache_mount(s, spec, target, &m, err);
	}
	m.key = r == 0 ? bld_sb_take(&key) : NULL;
	free(key.s);
	if (r == 0 && !m.key)
		r = -ENOMEM;
	if (r < 0) {
		bld_mounts_free(&m);
		return err->code ? r : cm_error_set(err, r, "out of memory");
	}
	*ret = m;
	return 0;
}

/* path (relative) is in one of the image's layer dirs. */
static bool in_layers(char *const *layers, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int d = open(layers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (d < 0)
			continue;
		_cleanup_close_ int fd = cm_openat_beneath(d, path, O_PATH | O_NOFOLLOW, 0, true);
		if (fd >= 0)
			return true;
	}
	return false;
}

/* Remove rel from the branch if it is an empty stub the image lacks. */
static bool unstub_one(int rw, const char *rel, char *const *layers, size_t n)
{
	const char *sl = strrchr(rel, '/');
	_cleanup_free_ char *dir = sl ? strndup(rel, (size_t)(sl - rel)) : strdup(".");
	const char *name = sl ? sl + 1 : rel;
	if (!dir)
		return false;
	_cleanup_close_ int pfd = cm_openat_beneath(rw, dir, O_RDONLY | O_DIRECTORY, 0, true);
	struct stat st;
	if (pfd < 0 || fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (!(S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0)))
		return false;
	if (in_layers(layers, n, rel))
		return false;
	return unlinkat(pfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == 0;
}

void bld_mounts_unstub(const struct bld_mounts *m, int rw, char *const *layers, size_t n)
{
	for (size_t i = 0; i < m->n_targets; i++) {
		char rel[PATH_MAX];
		if (bld_path_clean(m->targets[i], rel, sizeof(rel)) < 0 || !*rel)
			continue;
		/* the target, then the parents the runner made for it */
		while (*rel && unstub_one(rw, rel, layers, n)) {
			char *sl = strrchr(rel, '/');
			if (!sl)
				break;
			*sl = '\0';
		}
	}
}
