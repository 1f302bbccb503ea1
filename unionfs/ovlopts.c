// SPDX-License-Identifier: MIT
/* The overlay command line: kernel overlayfs's lowerdir=,upperdir=,workdir=
 * and the options fuse-overlayfs takes from containers/storage (podman,
 * buildah, CRI-O run their mount_program with them), turned into our
 * branches, the overlay on-disk format and an id mapping. See
 * docs/format.md "The overlay format" for what each option does here. */
#include "ufs-internal.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static int parse_u32(const char *s, uint32_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* DISK:VIEW:COUNT[:DISK:VIEW:COUNT...] */
static int parse_idmap(const char *o, const char *v, struct ufs_idmap *m, char *err,
		       size_t errsz)
{
	_cleanup_free_ char *copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	if (m->n)
		return ufs_errf(err, errsz, -EINVAL, "option '%s': given twice", o);
	char *save = NULL;
	uint32_t f[3];
	unsigned k = 0;
	for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (parse_u32(t, &f[k % 3]) < 0)
			return ufs_errf(err, errsz, -EINVAL, "option '%s': '%s' is not an id", o, t);
		if (++k % 3)
			continue;
		if (m->n >= UFS_MAX_IDMAP)
			return ufs_errf(err, errsz, -EINVAL, "option '%s': more than %d ranges", o,
				    UFS_MAX_IDMAP);
		if (f[2] == 0 || (uint64_t)f[0] + f[2] - 1 > UINT32_MAX ||
		    (uint64_t)f[1] + f[2] - 1 > UINT32_MAX)
			return ufs_errf(err, errsz, -EINVAL, "option '%s': bad range %u:%u:%u", o, f[0],
				    f[1], f[2]);
		m->r[m->n].disk = f[0];
		m->r[m->n].view = f[1];
		m->r[m->n].count = f[2];
		m->n++;
	}
	if (k == 0 || k % 3)
		return ufs_errf(err, errsz, -EINVAL,
			    "option '%s': want DISK:VIEW:COUNT triples (e.g. 0:100000:65536)", o);
	return 0;
}

static int set_path(char **slot, const char *o, const char *v, char *err, size_t errsz)
{
	if (*slot)
		return ufs_errf(err, errsz, -EINVAL, "option '%.*s' given twice",
			    (int)(strchr(o, '=') - o + 1), o);
	if (!*v)
		return ufs_errf(err, errsz, -EINVAL, "option '%s': no directory given", o);
	*slot = strdup(v);
	return *slot ? 0 : -ENOMEM;
}

/* Options of kernel overlayfs whose only value we implement. */
static const struct {
	const char *key, *ok, *why;
} fixed[] = {
	{ "redirect_dir=", "off", "a renamed merged dir is copied up whole, never redirected" },
	{ "index=", "off", "no inode index: hard links are broken by copy-up" },
	{ "metacopy=", "off", "copy-up copies data" },
	{ "nfs_export=", "off", "no NFS export" },
	{ "xino=", "off", "st_ino carries the branch in its top byte anyway" },
	{ "xattr_permissions=", "0", "modes are stored in the files themselves" },
	{ "noxattrs=", "0", "xattrs are passed through" },
	{ "plugins=", "", "no layer plugins" },
};

/* Accepted for fuse-overlayfs's command line, with no effect here. */
static const char *const noops[] = {
	"noacl",         /* we never ask FUSE for POSIX ACLs */
	"static_nlink",  /* merged dirs report st_nlink 1 already */
	"threaded=",     /* always multi-threaded */
	"fast_ino=",     /* st_ino is always fast */
	/* SELinux labels (containers/storage adds them when it has one):
	 * this FUSE mount does not apply them, as fuse-overlayfs does not */
	"context=", "fscontext=", "defcontext=", "rootcontext=",
};

static int handled(int r)
{
	return r < 0 ? r : 1;
}

int ufs_ovl_parse_opt(struct ufs_config *c, const char *o, char *err, size_t errsz)
{
	const char *v;
#define KEY(k) (strncmp(o, k, sizeof(k) - 1) == 0 ? (v = o + sizeof(k) - 1, true) : false)
	if (KEY("lowerdir="))
		return c->overlay = true, handled(set_path(&c->lowerdir, o, v, err, errsz));
	if (KEY("upperdir="))
		return handled(set_path(&c->upperdir, o, v, err, errsz));
	if (KEY("workdir="))
		return handled(set_path(&c->workdir, o, v, err, errsz));
	if (KEY("uidmapping="))
		return handled(parse_idmap(o, v, &c->uidmap, err, errsz));
	if (KEY("gidmapping="))
		return handled(parse_idmap(o, v, &c->gidmap, err, errsz));
	if (KEY("squash_to_uid=") || KEY("squash_to_gid=")) {
		uint32_t id;
		if (parse_u32(v, &id) < 0)
			return ufs_errf(err, errsz, -EINVAL, "option '%s': '%s' is not an id", o, v);
		*(o[10] == 'u' ? &c->squash_uid : &c->squash_gid) = id;
		return 1;
	}
	if (strcmp(o, "squash_to_root") == 0) {
		c->squash_uid = c->squash_gid = 0;
		return 1;
	}
	if (strcmp(o, "volatile") == 0 || strcmp(o, "fsync=0") == 0) {
		c->fsync_off = true;
		c->copyup_fsync = false;
		return 1;
	}
	if (strcmp(o, "fsync=1") == 0) {
		c->fsync_off = false;
		c->copyup_fsync = true;
		return 1;
	}
	if (strcmp(o, "userxattr") == 0 || strcmp(o, "xwhiteout") == 0) {
		*(o[0] == 'u' ? &c->userxattr : &c->xwhiteout) = true;
		return 1;
	}
	if (KEY("writeback=")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return ufs_errf(err, errsz, -EINVAL, "option '%s': want 0 or 1", o);
		c->writeback = v[0] == '1';
		return 1;
	}
	if (KEY("timeout=")) {
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		if (errno || end == v || *end || d < 0 || d > 1e9)
			return ufs_errf(err, errsz, -EINVAL, "option '%s': bad number of seconds", o);
		c->entry_timeout = c->attr_timeout = d;
		return 1;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(fixed); i++) {
		size_t kl = strlen(fixed[i].key);
		if (strncmp(o, fixed[i].key, kl) != 0)
			continue;
		if (strcmp(o + kl, fixed[i].ok) == 0 ||
		    (fixed[i].key[0] == 'r' && strcmp(o + kl, "nofollow") == 0))
			return 1;
		return ufs_errf(err, errsz, -EINVAL, "option '%s' is not supported (%s; only %s%s)", o,
			    fixed[i].why, fixed[i].key, fixed[i].ok[0] ? fixed[i].ok : "(empty)");
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(noops); i++) {
		size_t kl = strlen(noops[i]);
		if (noops[i][kl - 1] == '=' ? strncmp(o, noops[i], kl) == 0 : strcmp(o, noops[i]) == 0)
			return 1;
	}
	return 0;
#undef KEY
}

int ufs_ovl_assemble(struct ufs_config *c, char *err, size_t errsz)
{
	if (!c->lowerdir) {
		if (c->upperdir || c->workdir)
			return ufs_errf(err, errsz, -EINVAL, "%s= needs lowerdir=",
				    c->upperdir ? "upperdir" : "workdir");
		return 0;
	}
	if (c->have_dirs)
		return ufs_errf(err, errsz, -EINVAL, "dirs= and lowerdir= cannot be mixed");
	if (c->upperdir && !c->workdir)
		return ufs_errf(err, errsz, -EINVAL, "upperdir= needs workdir= (on the same filesystem)");
	if (c->workdir && !c->upperdir)
		return ufs_errf(err, errsz, -EINVAL, "workdir= needs upperdir=");
	size_t n = 0;
	if (c->upperdir) {
		c->branches[n].path = strdup(c->upperdir);
		if (!c->branches[n].path)
			return -ENOMEM;
		c->branches[n].mode = UFS_BR_RW;
		c->nbranch = ++n;
	}
	_cleanup_free_ char *copy = strdup(c->lowerdir);
	if (!copy)
		return -ENOMEM;
	for (char *p = copy, *next;; p = next) {
		next = strchr(p, ':');
		if (next)
			*next++ = '\0';
		if (!*p)
			return ufs_errf(err, errsz, -EINVAL, "lowerdir=: empty directory at position %zu",
				    n + 1 - (c->upperdir != NULL));
		if (n >= UFS_MAX_BRANCHES)
			return ufs_errf(err, errsz, -EINVAL, "lowerdir=: more than %d directories",
				    UFS_MAX_BRANCHES - (c->upperdir != NULL));
		c->branches[n].path = strdup(p);
		if (!c->branches[n].path)
			return -ENOMEM;
		c->branches[n].mode = UFS_BR_RO;
		c->nbranch = ++n;
		if (!next)
			break;
	}
	c->have_dirs = true;
	return 0;
}

int ufs_ovl_check_workdir(struct ufs_config *c, char *err, size_t errsz)
{
	if (!c->workdir)
		return 0;
	char *real = realpath(c->workdir, NULL);
	struct stat st, ust;
	if (!real || stat(real, &st) < 0) {
		int e = errno;
		free(real);
		return ufs_errf(err, errsz, -e, "workdir '%s': %s", c->workdir, strerror(e));
	}
	free(c->workdir);
	c->workdir = real;
	if (!S_ISDIR(st.st_mode))
		return ufs_errf(err, errsz, -ENOTDIR, "workdir '%s': not a directory", real);
	if (stat(c->branches[0].path, &ust) < 0)
		return ufs_errf(err, errsz, -errno, "upperdir '%s': %s", c->branches[0].path,
			    strerror(errno));
	if (st.st_dev != ust.st_dev)
		return ufs_errf(err, errsz, -EXDEV, "workdir '%s' and upperdir '%s' are on different filesystems",
			    real, c->branches[0].path);
	for (size_t i = 0; i < c->nbranch; i++) {
		const char *b = c->branches[i].path;
		size_t bl = strlen(b), wl = strlen(real);
		bool in = (strncmp(real, b, bl) == 0 && (real[bl] == '/' || !real[bl])) ||
			  (strncmp(b, real, wl) == 0 && (b[wl] == '/' || !b[wl]));
		if (in)
			return ufs_errf(err, errsz, -EINVAL, "workdir '%s' overlaps %s '%s'", real,
				    i == 0 ? "upperdir" : "lowerdir", b);
	}
	return 0;
}

static uint32_t map_one(const struct ufs_idmap *m, uint32_t id, bool to_view)
{
	if (!m->n)
		return id;
	for (unsigned i = 0; i < m->n; i++) {
		uint32_t from = to_view ? m->r[i].disk : m->r[i].view;
		uint32_t to = to_view ? m->r[i].view : m->r[i].disk;
		if (id >= from && id - from < m->r[i].count)
			return to + (id - from);
	}
	return 65534; /* the overflow id, as the kernel shows unmapped ids */
}

void ufs_ids_to_view(const struct ufs_config *c, struct stat *st)
{
	st->st_uid = c->squash_uid >= 0 ? (uid_t)c->squash_uid : map_one(&c->uidmap, st->st_uid, true);
	st->st_gid = c->squash_gid >= 0 ? (gid_t)c->squash_gid : map_one(&c->gidmap, st->st_gid, true);
}

uid_t ufs_uid_to_disk(const struct ufs_config *c, uid_t uid)
{
	return uid == (uid_t)-1 ? uid : map_one(&c->uidmap, uid, false);
}

gid_t ufs_gid_to_disk(const struct ufs_config *c, gid_t gid)
{
	return gid == (gid_t)-1 ? gid : map_one(&c->gidmap, gid, false);
}
