// SPDX-License-Identifier: MIT
/* img's registry settings, in docker's daemon.json format so a docker user's
 * file serves as it is: "registry-mirrors" (tried in order for docker.io
 * pulls, docker.io itself last), "insecure-registries" (HOST[:PORT] or an
 * IPv4 CIDR: plain HTTP or unverified TLS allowed), "max-concurrent-
 * downloads" / "max-concurrent-uploads". Read once from $IMG_DAEMON_CONFIG,
 * else /etc/img/daemon.json; no file means docker's defaults. */
#include "reg-internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REG_CONFIG_DEFAULT "/etc/img/daemon.json"
#define REG_MAX_CONCURRENT 64

static struct reg_config config;
static int config_rc;
static struct cm_error config_err;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static int str_list(const char *path, const struct cm_json *j, const char *key, char ***ret,
		    size_t *ret_n, struct cm_error *err)
{
	const struct cm_json *a = cm_json_get(j, key);
	if (!a)
		return 0;
	if (!cm_json_is(a, CM_JSON_ARRAY))
		return cm_error_set(err, -EINVAL, "%s: \"%s\" is not a list of strings", path, key);
	char **v = calloc(a->n + 1, sizeof(*v));
	if (!v)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < a->n; i++) {
		const char *s = cm_json_str(a->v[i]);
		if (!s || !*s || strlen(s) > 300) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return cm_error_set(err, -EINVAL, "%s: \"%s\" entry %zu is not a name", path, key, i);
		}
		v[i] = strdup(s);
	}
	*ret = v;
	*ret_n = a->n;
	return 0;
}

static int max_key(const char *path, const struct cm_json *j, const char *key, int *ret,
		   struct cm_error *err)
{
	int64_t v;
	if (!cm_json_get(j, key))
		return 0;
	if (!cm_json_get_int(j, key, &v) || v < 1 || v > REG_MAX_CONCURRENT)
		return cm_error_set(err, -EINVAL, "%s: \"%s\" must be a number from 1 to %d", path, key,
				    REG_MAX_CONCURRENT);
	*ret = (int)v;
	return 0;
}

/* A mirror is scheme://HOST[:PORT][/], nothing more (docker refuses paths). */
static int mirror_check(const char *path, const char *m, struct cm_error *err)
{
	const char *h = strncmp(m, "https://", 8) == 0 ? m + 8 : strncmp(m, "http://", 7) == 0 ? m + 7 : NULL;
	size_t n = h ? strcspn(h, "/?#@") : 0;
	if (!h || n == 0 || (h[n] && strcmp(h + n, "/") != 0))
		return cm_error_set(err, -EINVAL, "%s: registry mirror \"%s\": want http(s)://HOST[:PORT]",
				    path, m);
	return 0;
}

static void config_load(void)
{
	const char *path = getenv("IMG_DAEMON_CONFIG");
	if (!path || !*path)
		path = REG_CONFIG_DEFAULT;
	_cleanup_json_ struct cm_json *j = NULL;
	int r = reg_read_json(path, &j);
	struct cm_error *err = &config_err;
	if (r == -ENOENT) {
		r = 0;
	} else if (r < 0) {
		r = cm_error_set(err, r, "%s: %s", path, r == -EINVAL ? "not JSON" : strerror(-r));
	} else if (!cm_json_is(j, CM_JSON_OBJECT)) {
		r = cm_error_set(err, -EINVAL, "%s: not a JSON object", path);
	} else if ((r = str_list(path, j, "registry-mirrors", &config.mirrors, &config.n_mirrors, err)) >= 0 &&
		   (r = str_list(path, j, "insecure-registries", &config.insecure, &config.n_insecure, err)) >= 0 &&
		   (r = max_key(path, j, "max-concurrent-downloads", &config.max_downloads, err)) >= 0 &&
		   (r = max_key(path, j, "max-concurrent-uploads", &config.max_uploads, err)) >= 0) {
		for (size_t i = 0; i < config.n_mirrors && r >= 0; i++)
			r = mirror_check(path, config.mirrors[i], err);
	}
	config_rc = r;
}

int reg_config_get(const struct reg_config **ret, struct cm_error *err)
{
	pthread_once(&config_once, config_load);
	if (config_rc < 0) {
		*err = config_err;
		return config_rc;
	}
	*ret = &config;
	return 0;
}

/* host (HOST[:PORT], IPv6 in brackets) against one insecure-registries entry */
static bool insecure_match(const char *host, const char *e)
{
	if (strcmp(host, e) == 0)
		return true;
	const char *slash = strchr(e, '/');
	if (!slash) {
		/* an entry without a port names the host on any port */
		size_t n = strlen(e);
		return !strchr(e, ':') && strncmp(host, e, n) == 0 && host[n] == ':';
	}
	char net[INET_ADDRSTRLEN], ip[INET_ADDRSTRLEN];
	size_t nl = (size_t)(slash - e), hl = strcspn(host, ":");
	char *end;
	long bits = strtol(slash + 1, &end, 10);
	if (nl >= sizeof(net) || hl >= sizeof(ip) || *end || bits < 0 || bits > 32)
		return false;
	memcpy(net, e, nl);
	net[nl] = '\0';
	memcpy(ip, host, hl);
	ip[hl] = '\0';
	struct in_addr a, b;
	if (inet_pton(AF_INET, net, &a) != 1 || inet_pton(AF_INET, ip, &b) != 1)
		return false;
	uint32_t mask = bits == 0 ? 0 : htonl(~(uint32_t)0 << (32 - bits));
	return (a.s_addr & mask) == (b.s_addr & mask);
}

bool reg_config_insecure(const struct reg_config *cf, const char *host)
{
	for (size_t i = 0; cf && i < cf->n_insecure; i++)
		if (insecure_match(host, cf->insecure[i]))
			return true;
	return false;
}

int reg_config_concurrency(int given, bool uploads, int *ret, struct cm_error *err)
{
	const struct reg_config *cf;
	int r = reg_config_get(&cf, err);
	if (r < 0)
		return r;
	int v = uploads ? cf->max_uploads : cf->max_downloads;
	*ret = given > 0 ? given : v > 0 ? v : uploads ? 5 : 3;
	return 0;
}
