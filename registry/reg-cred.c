// SPDX-License-Identifier: MIT
/* Credentials in docker's config.json format: read from $DOCKER_CONFIG/
 * config.json (else ~/.docker/config.json), then podman's
 * $XDG_RUNTIME_DIR/containers/auth.json; written (login/logout) to docker's
 * file only, every other key of it kept, mode 0600, by temp + rename.
 * Secrets never reach a message. credsStore/credHelpers are not run. */
#include "reg-internal.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define REG_MAX_AUTH_FILE (1 << 20)

static char *docker_config_path(void)
{
	const char *d = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");
	char *p;
	int r;
	if (d && *d)
		r = asprintf(&p, "%s/config.json", d);
	else if (home && *home)
		r = asprintf(&p, "%s/.docker/config.json", home);
	else
		return NULL;
	return r < 0 ? NULL : p;
}

char *reg_cred_key(const char *registry)
{
	const char *h = registry;
	if (strncmp(h, "https://", 8) == 0)
		h += 8;
	else if (strncmp(h, "http://", 7) == 0)
		h += 7;
	size_t n = strcspn(h, "/");
	if ((n == 9 && strncmp(h, "docker.io", 9) == 0) ||
	    (n == 15 && strncmp(h, "index.docker.io", 15) == 0) ||
	    (n == 20 && strncmp(h, "registry-1.docker.io", 20) == 0) || n == 0)
		return strdup("https://index.docker.io/v1/");
	return strndup(h, n);
}

static int read_json_path(const char *path, struct cm_json **ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return cm_neg_errno();
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 > cap) {
			if (cap >= REG_MAX_AUTH_FILE)
				return -EFBIG;
			char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		ssize_t k = read(fd, buf + len, cap - len);
		if (k < 0)
			return cm_neg_errno();
		if (k == 0)
			break;
		len += (size_t)k;
	}
	return cm_json_parse(buf, len, ret, NULL, 0);
}

/* The auths entry for key (also under "https://KEY" forms). */
static const struct cm_json *find_auth(const struct cm_json *j, const char *key)
{
	const struct cm_json *auths = cm_json_get(j, "auths");
	if (!cm_json_is(auths, CM_JSON_OBJECT))
		return NULL;
	for (size_t i = 0; i < auths->n; i++) {
		_cleanup_free_ char *k = reg_cred_key(auths->k[i]);
		if (k && strcmp(k, key) == 0)
			return auths->v[i];
	}
	return NULL;
}

static int decode_auth(const char *b64, char **ret_user, char **ret_pass)
{
	size_t n = strlen(b64);
	if (n == 0 || n > 8192)
		return -EINVAL;
	_cleanup_free_ unsigned char *out = malloc(n + 1);
	if (!out)
		return -ENOMEM;
	int k = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (k < 0)
		return -EINVAL;
	/* EVP_DecodeBlock counts the '=' padding as zero bytes */
	while (k > 0 && n > 0 && b64[n - 1] == '=') {
		k--;
		n--;
	}
	out[k] = '\0';
	char *colon = memchr(out, ':', (size_t)k);
	int r = -EINVAL;
	if (colon && strlen((char *)out) == (size_t)k) {
		*colon = '\0';
		*ret_user = strdup((char *)out);
		*ret_pass = strdup(colon + 1);
		r = *ret_user && *ret_pass ? 0 : -ENOMEM;
		if (r < 0) {
			free(*ret_user);
			free(*ret_pass);
		}
	}
	explicit_bzero(out, n + 1);
	return r;
}

int reg_cred_lookup(const char *registry, char **ret_user, char **ret_pass)
{
	_cleanup_free_ char *key = reg_cred_key(registry);
	_cleanup_free_ char *dpath = docker_config_path();
	_cleanup_free_ char *ppath = NULL;
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *auth_file = getenv("REGISTRY_AUTH_FILE");
	if (auth_file && *auth_file)
		ppath = strdup(auth_file);
	else if (xdg && *xdg && asprintf(&ppath, "%s/containers/auth.json", xdg) < 0)
		ppath = NULL;
	if (!key)
		return -ENOMEM;
	const char *paths[] = { dpath, ppath };
	for (size_t i = 0; i < CM_ARRAY_SIZE(paths); i++) {
		_cleanup_json_ struct cm_json *j = NULL;
		if (!paths[i] || read_json_path(paths[i], &j) < 0)
			continue;
		const char *a = cm_json_get_str(find_auth(j, key), "auth");
		if (a && decode_auth(a, ret_user, ret_pass) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Rewrite docker's config.json with auths[key] set (user) or removed. */
static int cred_write(const char *key, const char *user, const char *pass, bool *ret_had,
		      struct cm_error *err)
{
	_cleanup_free_ char *path = docker_config_path();
	if (!path)
		return cm_error_set(err, -ENOENT, "no $DOCKER_CONFIG and no $HOME for config.json");
	_cleanup_json_ struct cm_json *j = NULL;
	int r = read_json_path(path, &j);
	if (r < 0 && r != -ENOENT)
		return cm_error_set(err, r, "%s: unreadable or not JSON", path);
	if (j && !cm_json_is(j, CM_JSON_OBJECT))
		return cm_error_set(err, -EINVAL, "%s: not a JSON object", path);
	_cleanup_free_ char *cred = NULL;
	if (user) {
		_cleanup_free_ char *up = NULL;
		if (asprintf(&up, "%s:%s", user, pass) < 0)
			return cm_error_set(err, -ENOMEM, "out of memory");
		size_t n = strlen(up);
		if (!(cred = malloc(4 * ((n + 2) / 3) + 1)))
			return cm_error_set(err, -ENOMEM, "out of memory");
		EVP_EncodeBlock((unsigned char *)cred, (unsigned char *)up, (int)n);
		explicit_bzero(up, n);
	}
	struct cm_jw w;
	cm_jw_init(&w, 1);
	cm_jw_obj(&w);
	bool had = false;
	const struct cm_json *auths = cm_json_get(j, "auths");
	cm_jw_key(&w, "auths");
	cm_jw_obj(&w);
	for (size_t i = 0; cm_json_is(auths, CM_JSON_OBJECT) && i < auths->n; i++) {
		_cleanup_free_ char *k = reg_cred_key(auths->k[i]);
		if (k && strcmp(k, key) == 0) {
			had = true;
			continue;
		}
		cm_jw_key(&w, auths->k[i]);
		cm_jw_value(&w, auths->v[i]);
	}
	if (user) {
		cm_jw_key(&w, key);
		cm_jw_obj(&w);
		cm_jw_kstr(&w, "auth", cred);
		cm_jw_obj_end(&w);
	}
	cm_jw_obj_end(&w);
	for (size_t i = 0; j && i < j->n; i++) {
		if (strcmp(j->k[i], "auths") == 0)
			continue;
		cm_jw_key(&w, j->k[i]);
		cm_jw_value(&w, j->v[i]);
	}
	cm_jw_obj_end(&w);
	if (cred)
		explicit_bzero(cred, strlen(cred));
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (cm_jw_finish(&w, &text, &len) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	*ret_had = had;
	if (!user && !had) {
		explicit_bzero(text, len);
		return 0;
	}
	/* the dir 0700, the file 0600 from its creation, then renamed */
	char *slash = strrchr(path, '/');
	*slash = '\0';
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return cm_error_setx(err, cm_neg_errno(), "creating %s", path);
	_cleanup_close_ int dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*slash = '/';
	if (dfd < 0)
		return cm_error_setx(err, cm_neg_errno(), "%s", path);
	char tmp[64];
	cm_tmpname(tmp, sizeof(tmp), ".config.json");
	_cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					0600);
	if (fd < 0)
		return cm_error_setx(err, cm_neg_errno(), "creating a temp beside %s", path);
	r = cm_write_all(fd, text, len);
	if (r >= 0)
		r = cm_write_all(fd, "\n", 1);
	if (r >= 0 && fsync(fd) < 0)
		r = cm_neg_errno();
	explicit_bzero(text, len);
	if (r >= 0 && renameat(dfd, tmp, dfd, slash + 1) < 0)
		r = cm_neg_errno();
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		return cm_error_setx(err, r, "writing %s", path);
	}
	return 0;
}

int reg_cred_store(const char *registry, const char *user, const char *pass,
		   struct cm_error *err)
{
	_cleanup_free_ char *key = reg_cred_key(registry);
	bool had;
	if (!key)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return cred_write(key, user, pass, &had, err);
}

int reg_cred_erase(const char *registry, bool *ret_had, struct cm_error *err)
{
	_cleanup_free_ char *key = reg_cred_key(registry);
	if (!key)
		return cm_error_set(err, -ENOMEM, "out of memory");
	return cred_write(key, NULL, NULL, ret_had, err);
}
