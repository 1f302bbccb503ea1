// SPDX-License-Identifier: MIT
/* The registry's WWW-Authenticate challenges (RFC 7235, the distribution
 * token spec): Basic with the credentials, Bearer with a token fetched from
 * the realm for repository:REPO:ACTIONS (anonymous when there are no
 * credentials). Every request goes through here on a 401; secrets are only
 * ever put in headers, never in messages. */
#include "reg-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#define REG_MAX_TOKEN_BODY (1 << 20)

struct challenge {
	char scheme[16];
	char *realm, *service, *scope;
};

static void challenge_clear(struct challenge *ch)
{
	free(ch->realm);
	free(ch->service);
	free(ch->scope);
}

/* Parse 'Scheme k="v", k=v' (the first challenge only). */
static int challenge_parse(const char *s, struct challenge *ch)
{
	memset(ch, 0, sizeof(*ch));
	size_t n = strcspn(s, " \t");
	if (n == 0 || n >= sizeof(ch->scheme))
		return -EPROTO;
	memcpy(ch->scheme, s, n);
	const char *p = s + n;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *k = p;
		while (*p && *p != '=' && *p != ',' && *p != ' ')
			p++;
		size_t klen = (size_t)(p - k);
		if (*p != '=')
			break;
		p++;
		char val[2048];
		size_t vlen = 0;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (vlen + 1 < sizeof(val))
					val[vlen++] = *p;
			}
			if (*p == '"')
				p++;
		} else {
			for (; *p && *p != ',' && *p != ' '; p++)
				if (vlen + 1 < sizeof(val))
					val[vlen++] = *p;
		}
		val[vlen] = '\0';
		char **dst = klen == 5 && strncasecmp(k, "realm", 5) == 0     ? &ch->realm
			     : klen == 7 && strncasecmp(k, "service", 7) == 0 ? &ch->service
			     : klen == 5 && strncasecmp(k, "scope", 5) == 0   ? &ch->scope
									      : NULL;
		if (dst) {
			free(*dst);
			*dst = strdup(val);
		}
	}
	return 0;
}

static int set_authz(struct reg_client *c, const char *kind, const char *cred)
{
	char *h;
	if (asprintf(&h, "Authorization: %s %s", kind, cred) < 0)
		return -ENOMEM;
	if (c->authz) {
		explicit_bzero(c->authz, strlen(c->authz));
		free(c->authz);
	}
	c->authz = h;
	return 0;
}

static char *basic_cred(const struct reg_client *c)
{
	_cleanup_free_ char *up = NULL;
	if (asprintf(&up, "%s:%s", c->user, c->pass) < 0)
		return NULL;
	size_t n = strlen(up);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, (unsigned char *)up, (int)n);
	explicit_bzero(up, n);
	return out;
}

static int bearer_token(struct reg_client *c, const struct challenge *ch, struct cm_error *err)
{
	if (!ch->realm || (strncmp(ch->realm, "https://", 8) != 0 &&
			   !(strncmp(ch->realm, "http://", 7) == 0 && (c->loopback || c->insecure))))
		return cm_error_set(err, -EPROTO, "token realm '%.100s' is not an https URL",
				    ch->realm ? ch->realm : "");
	CURL *e = curl_easy_init();
	if (!e)
		return cm_error_set(err, -ENOMEM, "out of memory");
	char scope[600] = "";
	if (ch->scope && c->repo[0] && strstr(ch->scope, c->repo))
		snprintf(scope, sizeof(scope), "%s", ch->scope);
	else if (c->repo[0])
		snprintf(scope, sizeof(scope), "repository:%s:%s", c->repo, c->scope_actions);
	char *es = scope[0] ? curl_easy_escape(e, scope, 0) : NULL;
	char *ev = ch->service ? curl_easy_escape(e, ch->service, 0) : NULL;
	curl_easy_cleanup(e);
	_cleanup_free_ char *url = NULL;
	int r = asprintf(&url, "%s%s%s%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
			 es ? "scope=" : "", es ? es : "", ev ? (es ? "&service=" : "service=") : "",
			 ev ? ev : "");
	curl_free(es);
	curl_free(ev);
	if (r < 0)
		return cm_error_set(err, -ENOMEM, "out of memory");
	/* the token request carries the credentials (or nothing), never a token */
	_cleanup_free_ char *cred = NULL, *hdr = NULL;
	if (c->user && c->pass) {
		if (!(cred = basic_cred(c)) || asprintf(&hdr, "Authorization: Basic %s", cred) < 0) {
			hdr = NULL;
			return cm_error_set(err, -ENOMEM, "out of memory");
		}
		explicit_bzero(cred, strlen(cred));
	}
	struct reg_resp resp = { .max = REG_MAX_TOKEN_BODY, .limit = -1 };
	CURL *h = reg_easy_authz(c, "GET", url, NULL, &resp, hdr);
	if (!h)
		return cm_error_set(err, -ENOMEM, "out of memory");
	CURLcode cc = reg_perform(h);
	curl_easy_cleanup(h);
	if (hdr)
		explicit_bzero(hdr, strlen(hdr));
	r = reg_result(c, cc, &resp, err);
	if (r < 0) {
		reg_resp_clear(&resp);
		return cm_error_prefix(err, r == -EACCES ? r : -EACCES, "token from %.100s", ch->realm);
	}
	_cleanup_json_ struct cm_json *j = NULL;
	const char *tok = NULL;
	if (resp.mem && cm_json_parse(resp.mem, resp.len, &j, NULL, 0) >= 0) {
		tok = cm_json_get_str(j, "token");
		if (!tok || !*tok)
			tok = cm_json_get_str(j, "access_token");
	}
	bool ok = tok && *tok && strlen(tok) < 64 * 1024 && !strpbrk(tok, "\r\n");
	r = ok ? set_authz(c, "Bearer", tok) : cm_error_set(err, -EPROTO, "token server sent no token");
	if (r == -ENOMEM)
		cm_error_set(err, r, "out of memory");
	if (resp.mem)
		explicit_bzero(resp.mem, resp.len);
	reg_resp_clear(&resp);
	return r;
}

static int auth_answer(struct reg_client *c, const char *challenge, struct cm_error *err);

int reg_auth_answer(struct reg_client *c, const char *challenge, struct cm_error *err)
{
	pthread_mutex_lock(&c->auth_lock);
	int r = auth_answer(c, challenge, err);
	pthread_mutex_unlock(&c->auth_lock);
	return r;
}

static int auth_answer(struct reg_client *c, const char *challenge, struct cm_error *err)
{
	struct challenge ch;
	if (challenge_parse(challenge, &ch) < 0)
		return cm_error_set(err, -EACCES, "unauthorized: unparsable WWW-Authenticate challenge");
	int r;
	if (strcasecmp(ch.scheme, "Basic") == 0) {
		_cleanup_free_ char *cred = NULL;
		if (!c->user || !c->pass)
			r = cm_error_set(err, -EACCES, "unauthorized: authentication required (img login %s)",
					 c->host);
		else if (!(cred = basic_cred(c)))
			r = cm_error_set(err, -ENOMEM, "out of memory");
		else
			r = set_authz(c, "Basic", cred) < 0 ? cm_error_set(err, -ENOMEM, "out of memory") : 0;
		if (cred)
			explicit_bzero(cred, strlen(cred));
	} else if (strcasecmp(ch.scheme, "Bearer") == 0) {
		r = bearer_token(c, &ch, err);
	} else {
		r = cm_error_set(err, -EACCES, "unauthorized: unsupported auth scheme %s", ch.scheme);
	}
	challenge_clear(&ch);
	return r;
}
