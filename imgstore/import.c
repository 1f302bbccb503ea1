// SPDX-License-Identifier: MIT
/* img import: a plain rootfs tarball -> a one-layer image (its blob the
 * uncompressed tar); and the embedded default image built from the host's
 * static busybox. */
#include "ims-internal.h"
#include "cm-platform.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int blob_tee(void *ctx, const void *buf, size_t len, struct cm_error *err)
{
	return ims_blob_writer_write(ctx, buf, len, err);
}

static void str_array(struct cm_jw *w, const char *key, const char *const *v)
{
	cm_jw_key(w, key);
	cm_jw_arr(w);
	for (size_t i = 0; v && v[i]; i++)
		cm_jw_str(w, v[i]);
	cm_jw_arr_end(w);
}

/* The config an import starts from: Env (a default PATH), Cmd. */
static int base_config(const struct ims_import_opts *o, struct cm_json **ret, struct cm_error *err)
{
	static const char *const def_env[] = { DEFAULT_PATH, NULL };
	struct cm_jw w;
	_cleanup_free_ char *text = NULL;
	size_t len;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	str_array(&w, "Env", o->env ? o->env : def_env);
	if (o->cmd)
		str_array(&w, "Cmd", o->cmd);
	cm_jw_obj_end(&w);
	if (cm_jw_finish(&w, &text, &len) < 0 || cm_json_parse(text, len, ret, NULL, 0) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

int ims_import_fd(struct ims_store *s, int fd, const struct ims_import_opts *o,
		  char ret_id[CM_DIGEST_STR_LEN], struct cm_error *err)
{
	_cleanup_free_ char *full = NULL;
	int r;
	if (o->name && (r = ims_ref_normalize(o->name, &full, err)) < 0)
		return r;
	if ((r = ims_store_lock_shared(s, err)) < 0)
		return r;
	_cleanup_free_ char *cfg = NULL;
	/* the layer blob is the plain tar (digest = diff_id): no compression on
	 * the critical path; a push may compress it (issue 11 "Also") */
	struct ims_blob_writer bw;
	char diffid[CM_DIGEST_STR_LEN];
	struct ims_desc layer = { .media_type = IMS_MT_LAYER };
	_cleanup_json_ struct cm_json *base = NULL;
	if (o->changes) { /* a bad --change is refused before anything is read */
		struct cm_jw chk;
		cm_jw_init(&chk, 0);
		r = ims_config_apply_changes(&chk, NULL, o->changes, err);
		cm_jw_free(&chk);
		if (r < 0)
			goto out;
	}
	if ((r = ims_blob_writer_open(s, &bw, err)) < 0)
		goto out;
	bw.label = "Writing layer";
	r = ims_layer_unpack_fd(s, fd, NULL, blob_tee, &bw, diffid, err);
	if (r < 0) {
		ims_blob_writer_abort(&bw);
		cm_error_prefix(err, r, "import");
		goto out;
	}
	layer.size = bw.size;
	if ((r = ims_blob_writer_commit(&bw, diffid, -1, layer.digest, err)) < 0)
		goto out;

	char created[64];
	int64_t t = o->created >= 0 ? o->created : (int64_t)time(NULL);
	ims_time_format(t, created, sizeof(created));
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "created", created);
	cm_jw_kstr(&w, "architecture", cm_host_arch());
	cm_jw_kstr(&w, "os", "linux");
	cm_jw_key(&w, "config");
	if ((r = base_config(o, &base, err)) < 0 ||
	    (r = ims_config_apply_changes(&w, base, o->changes, err)) < 0) {
		cm_jw_free(&w);
		goto out;
	}
	cm_jw_key(&w, "rootfs");
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "type", "layers");
	cm_jw_key(&w, "diff_ids");
	cm_jw_arr(&w);
	cm_jw_str(&w, diffid);
	cm_jw_arr_end(&w);
	cm_jw_obj_end(&w);
	cm_jw_key(&w, "history");
	cm_jw_arr(&w);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "created", created);
	cm_jw_kstr(&w, "created_by", o->created_by ? o->created_by : "img import");
	if (o->message)
		cm_jw_kstr(&w, "comment", o->message);
	cm_jw_obj_end(&w);
	cm_jw_arr_end(&w);
	cm_jw_obj_end(&w);
	size_t cfglen;
	if ((r = cm_jw_finish(&w, &cfg, &cfglen)) < 0) {
		cm_error_set(err, r, "out of memory");
		goto out;
	}
	r = ims_image_publish(s, cfg, cfglen, &layer, 1, full, ret_id, NULL, err);
out:
	ims_store_unlock_shared(s);
	return r;
}

/* ---------------------------------------------------------- busybox */


/* Run "busybox --list-full" (no shell) and return its output. */
static int busybox_applets(const char *busybox, char **ret, struct cm_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cm_error_setx(err, cm_neg_errno(), "pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	char *argv[] = { (char *)busybox, (char *)"--list-full", NULL };
	char *envp[] = { NULL };
	pid_t pid;
	int r = posix_spawn(&pid, busybox, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		return cm_error_setx(err, -r, "running %s", busybox);
	}
	size_t len;
	r = ims_read_fd(p[0], 1 << 20, ret, &len);
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return cm_error_setx(err, r, "reading the applet list of %s", busybox);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(*ret);
		return cm_error_set(err, -EINVAL, "%s --list-full failed (not a busybox binary?)",
				    busybox);
	}
	return 0;
}

struct bbent {
	char *path;
	char type; /* d, f, l */
	mode_t mode;
	const char *data; /* file content or link target */
	size_t len;
	int fd;           /* file content from fd (busybox itself), or -1 */
};

static int cmp_bbent(const void *a, const void *b)
{
	return strcmp(((const struct bbent *)a)->path, ((const struct bbent *)b)->path);
}

static int add_ent(struct bbent **v, size_t *n, const char *path, char type,
		   mode_t mode, const char *data, size_t len, int fd)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].path, path) == 0)
			return 0;
	struct bbent *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	nv[*n] = (struct bbent){ p, type, mode, data, len, fd };
	(*n)++;
	return 0;
}

static int add_parents(struct bbent **v, size_t *n, const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *q = buf; (q = strchr(q, '/')); q++) {
		*q = '\0';
		int r = add_ent(v, n, buf, 'd', 0755, NULL, 0, -1);
		*q = '/';
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_bb_tar(int out, struct bbent *v, size_t n, int64_t mtime,
			int64_t bbsize, struct cm_error *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int r = 0;
	if (!a || !e) {
		r = cm_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_fd(a, out) != ARCHIVE_OK) {
		r = cm_error_set(err, -EIO, "tar: %s", archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(e);
		char name[4200];
		snprintf(name, sizeof(name), "%s%s", v[i].path, v[i].type == 'd' ? "/" : "");
		archive_entry_set_pathname(e, name);
		archive_entry_set_mtime(e, mtime, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_perm(e, v[i].mode);
		if (v[i].type == 'd') {
			archive_entry_set_filetype(e, AE_IFDIR);
		} else if (v[i].type == 'l') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, v[i].data);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, v[i].fd >= 0 ? bbsize : (int64_t)v[i].len);
		}
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			r = cm_error_set(err, -EIO, "tar: %s", archive_error_string(a));
			goto out;
		}
		if (v[i].type != 'f')
			continue;
		if (v[i].fd < 0) {
			if (archive_write_data(a, v[i].data, v[i].len) < 0) {
				r = cm_error_set(err, -EIO, "tar: %s", archive_error_string(a));
				goto out;
			}
			continue;
		}
		char buf[65536];
		int64_t left = bbsize;
		while (left > 0) {
			ssize_t k = pread(v[i].fd, buf, sizeof(buf), bbsize - left);
			if (k <= 0) {
				r = cm_error_set(err, -EIO, "reading busybox: short read");
				goto out;
			}
			if (archive_write_data(a, buf, (size_t)k) < 0) {
				r = cm_error_set(err, -EIO, "tar: %s", archive_error_string(a));
				goto out;
			}
			left -= k;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		r = cm_error_set(err, -EIO, "tar: %s", archive_error_string(a));
out:
	if (e)
		archive_entry_free(e);
	if (a)
		archive_write_free(a);
	return r;
}

int ims_import_busybox(struct ims_store *s, const char *busybox,
		       const char *name, char ret_id[CM_DIGEST_STR_LEN],
		       struct cm_error *err)
{
	static const char passwd[] =
		"root:x:0:0:root:/root:/bin/sh\n"
		"daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
	static const char group[] = "root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n";
	if (!busybox)
		busybox = "/bin/busybox";
	_cleanup_close_ int bfd = open(busybox, O_RDONLY | O_CLOEXEC);
	if (bfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "%s (install busybox-static)", busybox);
	struct stat st;
	if (fstat(bfd, &st) < 0 || !S_ISREG(st.st_mode))
		return cm_error_set(err, -EINVAL, "%s is not a regular file", busybox);
	_cleanup_free_ char *list = NULL;
	int r = busybox_applets(busybox, &list, err);
	if (r < 0)
		return r;

	struct bbent *v = NULL;
	size_t n = 0;
	_cleanup_close_ int mfd = -1;
	static const char *const dirs[] = { "bin", "dev", "etc", "home", "proc",
					    "root", "sys", "tmp", "usr/bin", "usr/sbin",
					    "var/spool/mail", "var/www", "sbin" };
	for (size_t i = 0; i < CM_ARRAY_SIZE(dirs) && r >= 0; i++) {
		r = add_parents(&v, &n, dirs[i]);
		if (r >= 0)
			r = add_ent(&v, &n, dirs[i], 'd',
				    strcmp(dirs[i], "tmp") == 0 ? 01777 :
				    strcmp(dirs[i], "root") == 0 ? 0700 : 0755, NULL, 0, -1);
	}
	if (r >= 0)
		r = add_ent(&v, &n, "bin/busybox", 'f', 0755, NULL, 0, bfd);
	if (r >= 0)
		r = add_ent(&v, &n, "etc/passwd", 'f', 0644, passwd, sizeof(passwd) - 1, -1);
	if (r >= 0)
		r = add_ent(&v, &n, "etc/group", 'f', 0644, group, sizeof(group) - 1, -1);
	char *save = NULL;
	for (char *l = strtok_r(list, "\n", &save); l && r >= 0; l = strtok_r(NULL, "\n", &save)) {
		char clean[4096];
		if (ims_path_clean(l, clean, sizeof(clean)) < 0 || !clean[0] ||
		    strcmp(clean, "bin/busybox") == 0)
			continue;
		r = add_parents(&v, &n, clean);
		if (r >= 0)
			r = add_ent(&v, &n, clean, 'l', 0777, "/bin/busybox", 0, -1);
	}
	if (r < 0) {
		cm_error_set(err, r, "out of memory");
		goto out;
	}
	qsort(v, n, sizeof(*v), cmp_bbent);

	mfd = memfd_create("img-busybox", MFD_CLOEXEC);
	if (mfd < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "memfd_create");
		goto out;
	}
	if ((r = write_bb_tar(mfd, v, n, st.st_mtim.tv_sec, st.st_size, err)) < 0)
		goto out;
	if (lseek(mfd, 0, SEEK_SET) < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "lseek");
		goto out;
	}
	static const char *const cmd[] = { "sh", NULL };
	char by[512];
	snprintf(by, sizeof(by), "img: busybox rootfs from %s", busybox);
	struct ims_import_opts o = {
		.name = name ? name : "busybox:latest",
		.created_by = by,
		.cmd = cmd,
		.created = st.st_mtim.tv_sec,
	};
	r = ims_import_fd(s, mfd, &o, ret_id, err);
out:
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	return r;
}
