// SPDX-License-Identifier: MIT
/* The embedded DNS server of a container on a user-defined network
 * (docker's 127.0.0.11; docs/network.md "Names"): a UDP socket made inside
 * the container's netns and served by its monitor. A/AAAA questions for
 * the containers that share a network with it are answered from the
 * address records (so a container that joins or leaves is seen at the next
 * question, nothing to rewrite in the others); anything else goes to the
 * host's servers (or --dns) from the host's netns, the answer relayed. */
#include "run-internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define DNS_PENDING 64
#define DNS_PENDING_NS (5LL * 1000000000) /* a forwarded question's slot is kept 5 s */
#define DNS_TTL 600

struct dns_pending {
	bool used;
	uint16_t up_id, client_id;
	struct sockaddr_in client;
	int64_t t;
};

struct run_dns {
	int fd; /* 127.0.0.11:53 in the container's netns */
	int up; /* connected to the first upstream server, host netns; -1: none */
	char id[RUN_ID_LEN + 1];
	uint16_t next_id;
	struct dns_pending p[DNS_PENDING];
};

/* The first IPv4 nameserver: --dns, else the host's resolv.conf. */
static bool upstream_of(const struct run_config *c, struct sockaddr_in *ret)
{
	*ret = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(53) };
	for (char **d = c->dns; d && *d; d++)
		if (inet_pton(AF_INET, *d, &ret->sin_addr) == 1)
			return true;
	_cleanup_free_ char *text = NULL;
	if (run_read_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &text, NULL) < 0)
		return false;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char a[64];
		if (sscanf(l, "nameserver %63s", a) == 1 && strcmp(a, RUN_DNS_ADDR) != 0 &&
		    inet_pton(AF_INET, a, &ret->sin_addr) == 1)
			return true;
	}
	return false;
}

int run_dns_open(const struct run_config *c, pid_t pid, struct run_dns **ret, struct cm_error *err)
{
	*ret = NULL;
	/* every bridged container: one on the default bridge alone may be
	 * connected to a user-defined network later (docker's resolver then) */
	if (c->network != RUN_NET_BRIDGE)
		return 0;
	struct run_dns *d = calloc(1, sizeof(*d));
	if (!d)
		return cm_error_set(err, -ENOMEM, "out of memory");
	d->fd = d->up = -1;
	snprintf(d->id, sizeof(d->id), "%s", c->id);
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	/* the socket belongs to the netns it is made in: ours for a moment is
	 * the container's (the monitor is one thread), then ours again */
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int ns = open(p, O_RDONLY | O_CLOEXEC);
	int r = 0;
	if (self < 0 || ns < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "the embedded DNS: opening the network namespaces");
	} else if (setns(ns, CLONE_NEWNET) < 0) {
		r = cm_error_setx(err, cm_neg_errno(), "the embedded DNS: joining the container's network namespace");
	} else {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
		inet_pton(AF_INET, RUN_DNS_ADDR, &sa.sin_addr);
		d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			r = cm_error_setx(err, cm_neg_errno(), "the embedded DNS: binding " RUN_DNS_ADDR ":53");
		if (setns(self, CLONE_NEWNET) < 0) /* cannot be left half-done: the monitor's netns */
			_exit(RUN_EXIT_IMG);
	}
	struct sockaddr_in up;
	if (r == 0 && upstream_of(c, &up)) {
		/* connected: a server that refuses (ICMP) is known at once and
		 * the questions waiting for it get SERVFAIL, not a timeout */
		d->up = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (d->up >= 0 && connect(d->up, (struct sockaddr *)&up, sizeof(up)) < 0)
			cm_close(&d->up);
	}
	if (r < 0) {
		run_dns_close(d);
		return r;
	}
	*ret = d;
	return 0;
}

int run_dns_fd(const struct run_dns *d, int which)
{
	return !d ? -1 : which == 0 ? d->fd : d->up;
}

void run_dns_close(struct run_dns *d)
{
	if (!d)
		return;
	cm_close(&d->fd);
	cm_close(&d->up);
	free(d);
}

/* The question's name (lower case, no trailing dot) and the offset after
 * its type and class, or -1 when malformed (compression is not allowed in
 * a question). */
static ssize_t question(const uint8_t *b, size_t n, char name[256], uint16_t *ret_type)
{
	size_t off = 12, nl = 0;
	while (off < n && b[off]) {
		size_t l = b[off];
		if (l > 63 || off + 1 + l >= n || nl + l + 1 > 254)
			return -1;
		if (nl)
			name[nl++] = '.';
		for (size_t i = 0; i < l; i++) {
			char ch = (char)b[off + 1 + i];
			name[nl++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
		}
		off += 1 + l;
	}
	name[nl] = '\0';
	if (off + 5 > n || nl == 0)
		return -1;
	*ret_type = (uint16_t)(b[off + 1] << 8 | b[off + 2]);
	return (ssize_t)(off + 5);
}

/* An answer of our own: the question echoed, rcode, the addresses as A
 * records when the question asks for A (or ANY). */
static void reply(struct run_dns *d, const uint8_t *q, size_t qend, const struct sockaddr_in *to,
		  int rcode, char (*ips)[16], size_t n_ips, bool a_records)
{
	uint8_t out[512];
	if (qend > sizeof(out) - 16 * n_ips)
		n_ips = 0;
	if (qend > sizeof(out))
		return;
	memcpy(out, q, qend);
	out[2] = (uint8_t)(0x80 | 0x04 | (q[2] & 0x01)); /* QR, AA, RD as asked */
	out[3] = (uint8_t)(0x80 | rcode);                /* RA */
	size_t an = a_records ? n_ips : 0, off = qend;
	out[4] = 0, out[5] = qend > 12; /* FORMERR: the header alone */
	out[6] = (uint8_t)(an >> 8), out[7] = (uint8_t)an;
	memset(out + 8, 0, 4); /* no authority, no additional */
	for (size_t i = 0; i < an; i++) {
		struct in_addr a;
		inet_pton(AF_INET, ips[i], &a);
		const uint8_t rr[12] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, DNS_TTL >> 8, DNS_TTL & 0xff, 0, 4 };
		memcpy(out + off, rr, sizeof(rr));
		memcpy(out + off + 12, &a.s_addr, 4);
		off += 16;
	}
	(void)sendto(d->fd, out, off, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to));
}

static void servfail_pending(struct run_dns *d)
{
	for (size_t i = 0; i < DNS_PENDING; i++) {
		struct dns_pending *p = &d->p[i];
		if (!p->used)
			continue;
		uint8_t h[12] = { (uint8_t)(p->client_id >> 8), (uint8_t)p->client_id, 0x81, 0x82 };
		(void)sendto(d->fd, h, sizeof(h), MSG_DONTWAIT, (struct sockaddr *)&p->client, sizeof(p->client));
		p->used = false;
	}
}

static void forward(struct run_dns *d, uint8_t *b, size_t n, const struct sockaddr_in *from, size_t qend)
{
	int64_t now = run_now_ns();
	struct dns_pending *slot = NULL;
	for (size_t i = 0; i < DNS_PENDING && !slot; i++)
		if (!d->p[i].used || now - d->p[i].t > DNS_PENDING_NS)
			slot = &d->p[i];
	if (d->up < 0 || !slot) {
		reply(d, b, qend, from, 2 /* SERVFAIL */, NULL, 0, false);
		return;
	}
	*slot = (struct dns_pending){ .used = true, .up_id = d->next_id++,
				      .client_id = (uint16_t)(b[0] << 8 | b[1]), .client = *from, .t = now };
	b[0] = (uint8_t)(slot->up_id >> 8);
	b[1] = (uint8_t)slot->up_id;
	if (send(d->up, b, n, MSG_DONTWAIT) < 0) {
		slot->used = false;
		b[0] = (uint8_t)(slot->client_id >> 8);
		b[1] = (uint8_t)slot->client_id;
		reply(d, b, qend, from, 2, NULL, 0, false);
	}
}

void run_dns_step(struct run_dns *d, int which)
{
	uint8_t b[1500];
	if (which == 1) { /* an upstream answer: back to who asked */
		ssize_t n = recv(d->up, b, sizeof(b), MSG_DONTWAIT);
		if (n < 0 && errno == ECONNREFUSED)
			servfail_pending(d);
		if (n < 12)
			return;
		uint16_t id = (uint16_t)(b[0] << 8 | b[1]);
		for (size_t i = 0; i < DNS_PENDING; i++) {
			struct dns_pending *p = &d->p[i];
			if (p->used && p->up_id == id) {
				b[0] = (uint8_t)(p->client_id >> 8);
				b[1] = (uint8_t)p->client_id;
				(void)sendto(d->fd, b, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&p->client,
					     sizeof(p->client));
				p->used = false;
				break;
			}
		}
		return;
	}
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(d->fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 12 || fl != sizeof(from) || (b[2] & 0x80) || (b[2] & 0x78) || b[4] || b[5] != 1)
		return; /* not a standard query with one question: dropped */
	char name[256];
	uint16_t type;
	ssize_t qend = question(b, (size_t)n, name, &type);
	if (qend < 0) {
		if (n >= 12)
			reply(d, b, 12, &from, 1 /* FORMERR */, NULL, 0, false);
		return;
	}
	char ips[16][16];
	size_t n_ips = 0;
	(void)run_net_lookup(d->id, name, ips, CM_ARRAY_SIZE(ips), &n_ips);
	if (n_ips) /* ours: A answered, any other type has no data (IPv4 only) */
		reply(d, b, (size_t)qend, &from, 0, ips, n_ips, type == 1 || type == 255);
	else
		forward(d, b, (size_t)n, &from, (size_t)qend);
}
