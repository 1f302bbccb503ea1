/* SPDX-License-Identifier: MIT */
/* A gzip stream (RFC 1952) read from an fd and inflated with ISA-L's igzip,
 * about 5x faster than zlib on a layer (imgstore/gunzip.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "cm-error.h"

struct ims_gunzip;

/* Does a stream that starts with p[0..n) look like gzip (magic, deflate)? */
bool ims_gunzip_magic(const void *p, size_t n);
/* A decoder of fd, whose first n bytes were already read into p (copied). */
int ims_gunzip_new(struct ims_gunzip **ret, int fd, const void *p, size_t n);
/* Up to len decompressed bytes into buf: their count, 0 at the end, or a
 * negative errno with err set (a corrupt or truncated stream). */
ssize_t ims_gunzip_read(struct ims_gunzip *g, void *buf, size_t len, struct cm_error *err);
void ims_gunzip_free(struct ims_gunzip *g);
