// SPDX-License-Identifier: MIT
/* Hash wrappers (see cm-hash.h). */
#include "cm-hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <xxhash.h>

int cm_sha256_init(struct cm_sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c)
		return -ENOMEM;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return -ENOMEM;
	}
	h->ctx = c;
	return 0;
}

void cm_sha256_update(struct cm_sha256 *h, const void *buf, size_t len)
{
	if (len)
		EVP_DigestUpdate(h->ctx, buf, len);
}

void cm_sha256_final(struct cm_sha256 *h, char out[CM_DIGEST_STR_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[7 + 2 * i + 1] = hex[md[i] & 15];
	}
	out[7 + 64] = '\0';
	cm_sha256_done(h);
}

void cm_sha256_done(struct cm_sha256 *h)
{
	if (h && h->ctx) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

int cm_sha256_buf(const void *buf, size_t len, char out[CM_DIGEST_STR_LEN])
{
	struct cm_sha256 h;
	int r = cm_sha256_init(&h);
	if (r < 0)
		return r;
	cm_sha256_update(&h, buf, len);
	cm_sha256_final(&h, out);
	return 0;
}

bool cm_hex64_valid(const char *s)
{
	for (int i = 0; i < CM_SHA256_HEX_LEN; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[CM_SHA256_HEX_LEN] == '\0';
}

bool cm_digest_valid(const char *s)
{
	return s && strncmp(s, "sha256:", 7) == 0 && cm_hex64_valid(s + 7);
}

uint64_t cm_xxh3(const void *buf, size_t len)
{
	return XXH3_64bits(buf, len);
}
