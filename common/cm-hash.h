/* SPDX-License-Identifier: MIT */
/* sha256 (OpenSSL EVP: OCI digests only) and XXH3 (fast fingerprints) wrappers,
 * plus validation of "sha256:<64 lowercase hex>" digest strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CM_SHA256_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define CM_DIGEST_STR_LEN (7 + CM_SHA256_HEX_LEN + 1)

struct cm_sha256 {
	void *ctx; /* EVP_MD_CTX */
};

/* Start a hash; returns 0 or -ENOMEM. cm_sha256_done frees the context. */
int cm_sha256_init(struct cm_sha256 *h);
void cm_sha256_update(struct cm_sha256 *h, const void *buf, size_t len);
/* Finish: write "sha256:<hex>" into out (CM_DIGEST_STR_LEN bytes) and free. */
void cm_sha256_final(struct cm_sha256 *h, char out[CM_DIGEST_STR_LEN]);
/* Free without finishing (safe on a finished or zeroed struct). */
void cm_sha256_done(struct cm_sha256 *h);

/* One-shot digest of a buffer into "sha256:<hex>". Returns 0 or -ENOMEM. */
int cm_sha256_buf(const void *buf, size_t len, char out[CM_DIGEST_STR_LEN]);

/* True if s is exactly "sha256:" followed by 64 lowercase hex digits: the only
 * form ever used to build a path. */
bool cm_digest_valid(const char *s);

/* True if s is 64 lowercase hex digits. */
bool cm_hex64_valid(const char *s);

/* XXH3 64-bit of a buffer. */
uint64_t cm_xxh3(const void *buf, size_t len);
