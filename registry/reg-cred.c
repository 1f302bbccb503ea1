// SPDX-License-Identifier: MIT
/* Credentials in docker's config.json format: read from $DOCKER_CONFIG/
 * config.json (else ~/.docker/config.json), then podman's
 * $XDG_RUNTIME_DIR/containers/auth.json; written (login/logout) to docker's
 * file only, every other key of it kept, mode 0600, by temp + rename.
 * Secrets never reach a message. docker's credential helpers are run as
 * docker runs them: credHelpers[HOST], else credsStore, names
 * docker-credential-NAME (found in $PATH) with get/store/erase. */
#include "reg-internal.h"
#include "cm-fs.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

int reg_read_json(const char *path, struct cm_json **ret)
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


#define REG_MAX_HELPER_OUT (64 << 10)

/* The credential helper docker would use for key in config j: credHelpers
 * by registry, else credsStore; NULL when none. */
static const char *helper_for(const struct cm_json *j, const char *key)
{
	const struct cm_json *hs = cm_json_get(j, "credHelpers");
	for (size_t i = 0; cm_json_is(hs, CM_JSON_OBJECT) && i < hs->n; i++) {
		_cleanup_free_ char *k = reg_cred_key(hs->k[i]);
		const char *v = cm_json_str(hs->v[i]);
		if (k && v && *v && strcmp(k, key) == 0)
			return v;
	}
	const char *st = cm_json_get_str(j, "credsStore");
	return st && *st ? st : NULL;
}

/* Run docker-credential-NAME VERB with in on its stdin; its stdout (at most
 * REG_MAX_HELPER_OUT bytes, NUL-ended, malloc'd) in *ret_out. Returns its
 * exit status (>= 0) or -errno if it could not run. */
static int helper_run(const char *name, const char *verb, const char *in, char **ret_out)
{
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
	    strlen(name))
		return -EINVAL;
	char prog[300];
	snprintf(prog, sizeof(prog), "docker-credential-%s", name);
	int pin[2], pout[2];
	if (pipe2(pin, O_CLOEXEC) < 0)
		return cm_neg_errno();
	if (pipe2(pout, O_CLOEXEC) < 0) {
		int r = cm_neg_errno();
		close(pin[0]);
		close(pin[1]);
		return r;
	}
	pid_t pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 || (nul >= 0 && dup2(nul, 2) < 0))
			_exit(127);
		execlp(prog, prog, verb, (char *)NULL);
		_exit(127);
	}
	int r = pid < 0 ? cm_neg_errno() : 0;
	close(pin[0]);
	close(pout[1]);
	if (r < 0) {
		close(pin[1]);
		close(pout[0]);
		return r;
	}
	/* the answer to a write on a helper that has exited is EPIPE, not death */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);
	(void)cm_write_all(pin[1], in, strlen(in));
	close(pin[1]);
	sigaction(SIGPIPE, &old, NULL);
	char *out = malloc(REG_MAX_HELPER_OUT + 1);
	size_t len = 0;
	while (out && len < REG_MAX_HELPER_OUT) {
		ssize_t k = read(pout[0], out + len, REG_MAX_HELPER_OUT - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(pout[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			st = 127 << 8;
			break;
		}
	if (!out)
		return -ENOMEM;
	out[len] = '\0';
	*ret_out = out;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The helper's first line of output, printable, for an error message (its
 * output of a failed call holds no secret). */
static const char *helper_said(char *out)
{
	if (!out)
		return "";
	out[strcspn(out, "\r\n")] = '\0';
	if (strlen(out) > 200)
		out[200] = '\0';
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return out;
}

/* get: 0 and the pair, -ENOENT if the helper has none (or fails). */
static int helper_get(const char *name, const char *key, char **ret_user, char **ret_pass)
{
	char *out = NULL;
	int st = helper_run(name, "get", key, &out);
	int r = -ENOENT;
	_cleanup_json_ struct cm_json *j = NULL;
	if (st == 0 && cm_json_parse(out, strlen(out), &j, NULL, 0) >= 0) {
		const char *u = cm_json_get_str(j, "Username");
		const char *p = cm_json_get_str(j, "Secret");
		if (u && p && *p) {
			*ret_user = strdup(u);
			*ret_pass = strdup(p);
			r = *ret_user && *ret_pass ? 0 : -ENOMEM;
			if (r < 0) {
				free(*ret_user);
				wipe_free(*ret_pass);
			}
		}
		if (p)
			explicit_bzero((char *)p, strlen(p));
	}
	wipe_free(out);
	return r;
}

static int helper_store(const char *name, const char *key, const char *user, const char *pass,
			struct cm_error *err)
{
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "ServerURL", key);
	cm_jw_kstr(&w, "Username", user);
	cm_jw_kstr(&w, "Secret", pass);
	cm_jw_obj_end(&w);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (cm_jw_finish(&w, &text, &len) < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	char *out = NULL;
	int st = helper_run(name, "store", text, &out);
	explicit_bzero(text, len);
	int r = 0;
	if (st < 0)
		r = cm_error_set(err, st, "credential helper docker-credential-%s: %s", name, strerror(-st));
	else if (st != 0)
		r = cm_error_set(err, -EIO, "credential helper docker-credential-%s store failed (exit %d)%s%s",
				 name, st, out && *out ? ": " : "", helper_said(out));
	wipe_free(out);
	return r;
}

/* erase: 1 erased, 0 the helper had nothing, < 0 it could not run. */
static int helper_erase(const char *name, const char *key, struct cm_error *err)
{
	char *out = NULL;
	int st = helper_run(name, "erase", key, &out);
	int r = st == 0 ? 1 : 0;
	if (st < 0 || st == 127)
		r = cm_error_set(err, st < 0 ? st : -ENOENT, "credential helper docker-credential-%s: %s",
				 name, st < 0 ? strerror(-st) : "not found in $PATH or not runnable");
	wipe_free(out);
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
		if (!paths[i] || reg_read_json(paths[i], &j) < 0)
			continue;
		/* docker's file may name a helper for this registry */
		const char *h = helper_for(j, key);
		if (h && helper_get(h, key, ret_user, ret_pass) == 0)
			return 0;
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
	int r = reg_read_json(path, &j);
	if (r < 0 && r != -ENOENT)
		return cm_error_set(err, r, "%s: unreadable or not JSON", path);
	if (j && !cm_json_is(j, CM_JSON_OBJECT))
		return cm_error_set(err, -EINVAL, "%s: not a JSON object", path);
	/* a helper keeps the secret; the file keeps an empty entry (as docker) */
	const char *helper = j ? helper_for(j, key) : NULL;
	bool had = false;
	if (helper && user && (r = helper_store(helper, key, user, pass, err)) < 0)
		return r;
	if (helper && !user) {
		if ((r = helper_erase(helper, key, err)) < 0)
			return r;
		had = r > 0;
	}
	_cleanup_free_ char *cred = NULL;
	if (user && !helper) {
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
		if (cred)
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
