// SPDX-License-Identifier: MIT
/* gzip layers inflated with ISA-L's igzip (Debian's libisal): on a 56 MB
 * layer of 110 MB it inflates in about a fifth of zlib's time, and inflate
 * was the longest stage of a pull. ISA-L parses each member's header and
 * checks its CRC32 and length (ISAL_GZIP); members are decoded one after
 * another (RFC 1952 2.2). What follows the last member and does not start
 * another is read and ignored, as gzip(1) and libarchive do; the caller's
 * digests cover the bytes either way. */
#include "gunzip.h"
#include "ims-libisal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IN_SIZE ((size_t)256 << 10)

struct ims_gunzip {
	struct inflate_state st;
	int fd;
	bool eof;     /* fd is at its end */
	bool between; /* a member ended: another may follow */
	bool end;
	unsigned char in[IN_SIZE];
};

bool ims_gunzip_magic(const void *p, size_t n)
{
	const unsigned char *b = p;
	return n >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8;
}

static void member_start(struct ims_gunzip *g)
{
	uint8_t *in = g->st.next_in;
	uint32_t avail = g->st.avail_in;
	isal_inflate_reset(&g->st);
	g->st.crc_flag = ISAL_GZIP;
	g->st.next_in = in;
	g->st.avail_in = avail;
}

int ims_gunzip_new(struct ims_gunzip **ret, int fd, const void *p, size_t n)
{
	if (n > IN_SIZE)
		return -EINVAL;
	struct ims_gunzip *g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	isal_inflate_init(&g->st);
	g->st.crc_flag = ISAL_GZIP;
	memcpy(g->in, p, n);
	g->st.next_in = g->in;
	g->st.avail_in = (uint32_t)n;
	g->fd = fd;
	g->eof = g->between = g->end = false;
	*ret = g;
	return 0;
}

void ims_gunzip_free(struct ims_gunzip *g)
{
	free(g);
}

/* Read until want bytes (at most a full buffer) are buffered or the fd
 * ends. */
static int fill(struct ims_gunzip *g, size_t want)
{
	if (want > IN_SIZE)
		want = IN_SIZE;
	if (g->st.avail_in && g->st.next_in != g->in)
		memmove(g->in, g->st.next_in, g->st.avail_in);
	g->st.next_in = g->in;
	while (g->st.avail_in < want && !g->eof) {
		ssize_t n = read(g->fd, g->in + g->st.avail_in, IN_SIZE - g->st.avail_in);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			g->eof = true;
		g->st.avail_in += (uint32_t)n;
	}
	return 0;
}

static int drain(struct ims_gunzip *g)
{
	while (!g->eof) {
		g->st.avail_in = 0;
		int r = fill(g, IN_SIZE);
		if (r < 0)
			return r;
	}
	g->st.avail_in = 0;
	return 0;
}

static int inflate_error(int r, struct cm_error *err)
{
	switch (r) {
	case ISAL_INCORRECT_CHECKSUM:
		return cm_error_set(err, -EBADMSG, "decompressing the layer: gzip checksum or length mismatch");
	case ISAL_INVALID_WRAPPER:
		return cm_error_set(err, -EBADMSG, "decompressing the layer: invalid gzip header");
	case ISAL_UNSUPPORTED_METHOD:
		return cm_error_set(err, -EBADMSG, "decompressing the layer: unsupported gzip method");
	default:
		return cm_error_set(err, -EBADMSG, "decompressing the layer: corrupt deflate data (igzip error %d)", r);
	}
}

ssize_t ims_gunzip_read(struct ims_gunzip *g, void *buf, size_t len, struct cm_error *err)
{
	int r;
	if (g->end || len == 0)
		return 0;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	g->st.next_out = buf;
	g->st.avail_out = (uint32_t)len;
	while (g->st.avail_out > 0) {
		if (g->between) {
			if ((r = fill(g, 3)) < 0)
				return cm_error_set(err, r, "reading the layer");
			if (!ims_gunzip_magic(g->st.next_in, g->st.avail_in)) {
				if ((r = drain(g)) < 0)
					return cm_error_set(err, r, "reading the layer");
				g->end = true;
				break;
			}
			member_start(g);
			g->between = false;
		}
		if (g->st.avail_in == 0 && (r = fill(g, 1)) < 0)
			return cm_error_set(err, r, "reading the layer");
		uint32_t in0 = g->st.avail_in, out0 = g->st.avail_out;
		if ((r = isal_inflate(&g->st)) < 0)
			return inflate_error(r, err);
		if (g->st.block_state == ISAL_BLOCK_FINISH) {
			g->between = true;
			continue;
		}
		if (g->st.avail_in == in0 && g->st.avail_out == out0) {
			if (g->eof)
				return cm_error_set(err, -EBADMSG, "decompressing the layer: the gzip stream is truncated");
			if (g->st.avail_in == IN_SIZE) /* never loop on input igzip will not take */
				return inflate_error(ISAL_INVALID_BLOCK, err);
			if ((r = fill(g, g->st.avail_in + 1)) < 0)
				return cm_error_set(err, r, "reading the layer");
		}
	}
	return (ssize_t)(len - g->st.avail_out);
}
