// SPDX-License-Identifier: MIT
/* The embedded DNS server of a container on a user-defined network
 * (docker's 127.0.0.11; docs/network.md "Names"): a UDP socket made inside
 * the container's netns (and a TCP listener beside it, for answers too
 * big for a datagram: RFC 7766) and served by its monitor. A/AAAA questions for
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define DNS_PENDING 64
#define DNS_PENDING_NS (5LL * 1000000000) /* a forwarded question's slot is kept 5 s */
#define DNS_TTL 600
#define DNS_TCP_CONNS 16  /* TCP clients served at once; the 17th replaces the idlest */
#define DNS_TCP_QMAX 4096 /* a longer question over TCP closes the connection */

/* epoll tags: the UDP socket, its upstream, the TCP listener; a TCP
 * client i is TAG_CLIENT + i, its upstream connection TAG_UP + i */
enum { TAG_UDP, TAG_UDP_UP, TAG_LISTEN, TAG_CLIENT = 0x100, TAG_UP = 0x200 };

struct dns_pending {
	bool used;
	uint16_t up_id, client_id;
	struct sockaddr_in client;
	int64_t t;
};

/* One TCP client (RFC 7766: each message after its 2-byte length), one
 * question at a time: read it; ours answered at once, any other relayed
 * over a TCP connection of its own to the upstream server; the answer
 * written back; then the next question on the same connection. */
enum dns_tcp_state { TCP_QUESTION, TCP_CONNECTING, TCP_ANSWER, TCP_WRITING };
struct dns_tcp {
	int fd, up; /* -1: free / no upstream connection */
	enum dns_tcp_state state;
	uint8_t *buf;         /* the message being read (with its length) or written */
	size_t len, off, cap; /* its length so far (or in all), how much is sent */
	int64_t t;            /* last activity */
};

struct run_dns {
	int fd;  /* 127.0.0.11:53 UDP in the container's netns */
	int up;  /* UDP, connected to the first upstream server, host netns; -1: none */
	int lfd; /* 127.0.0.11:53 TCP, listening, in the container's netns */
	int ep;  /* epoll over all of them and the TCP connections */
	bool has_up;
	struct sockaddr_in up_addr;
	char id[RUN_ID_LEN + 1];
	uint16_t next_id;
	struct dns_pending p[DNS_PENDING];
	struct dns_tcp tcp[DNS_TCP_CONNS];
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

static int watch(struct run_dns *d, int fd, uint32_t events, uint64_t tag, int op)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };
	return epoll_ctl(d->ep, op, fd, &ev);
}

/* 127.0.0.11:53 of TYPE (made in the container's netns, by the caller) */
static int bind_dns(int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	inet_pton(AF_INET, RUN_DNS_ADDR, &sa.sin_addr);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
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
	d->fd = d->up = d->lfd = d->ep = -1;
	for (size_t i = 0; i < DNS_TCP_CONNS; i++)
		d->tcp[i].fd = d->tcp[i].up = -1;
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
		if ((d->fd = bind_dns(SOCK_DGRAM)) < 0)
			r = cm_error_setx(err, cm_neg_errno(), "the embedded DNS: binding " RUN_DNS_ADDR ":53/udp");
		else if ((d->lfd = bind_dns(SOCK_STREAM)) < 0)
			r = cm_error_setx(err, cm_neg_errno(), "the embedded DNS: listening on " RUN_DNS_ADDR ":53/tcp");
		if (setns(self, CLONE_NEWNET) < 0) /* cannot be left half-done: the monitor's netns */
			_exit(RUN_EXIT_IMG);
	}
	if (r == 0 && (d->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		r = cm_error_setx(err, cm_neg_errno(), "the embedded DNS: epoll");
	if (r == 0 && (watch(d, d->fd, EPOLLIN, TAG_UDP, EPOLL_CTL_ADD) < 0 ||
		       watch(d, d->lfd, EPOLLIN, TAG_LISTEN, EPOLL_CTL_ADD) < 0))
		r = cm_error_setx(err, cm_neg_errno(), "the embedded DNS: epoll");
	if (r == 0 && (d->has_up = upstream_of(c, &d->up_addr))) {
		/* connected: a server that refuses (ICMP) is known at once and
		 * the questions waiting for it get SERVFAIL, not a timeout */
		d->up = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (d->up >= 0 && (connect(d->up, (struct sockaddr *)&d->up_addr, sizeof(d->up_addr)) < 0 ||
				   watch(d, d->up, EPOLLIN, TAG_UDP_UP, EPOLL_CTL_ADD) < 0))
			cm_close(&d->up);
	}
	if (r < 0) {
		run_dns_close(d);
		return r;
	}
	*ret = d;
	return 0;
}

int run_dns_fd(const struct run_dns *d)
{
	return d ? d->ep : -1;
}

static void tcp_drop(struct dns_tcp *t)
{
	cm_close(&t->fd);
	cm_close(&t->up);
	free(t->buf);
	*t = (struct dns_tcp){ .fd = -1, .up = -1 };
}

void run_dns_close(struct run_dns *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < DNS_TCP_CONNS; i++)
		tcp_drop(&d->tcp[i]);
	cm_close(&d->fd);
	cm_close(&d->up);
	cm_close(&d->lfd);
	cm_close(&d->ep);
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

/* An answer of our own into out (512 bytes): the question echoed, rcode,
 * the addresses as A records when the question asks for A (or ANY); its
 * length, 0 when the question does not fit. */
static size_t answer(const uint8_t *q, size_t qend, int rcode, char (*ips)[16], size_t n_ips, bool a_records,
		     uint8_t out[512])
{
	if (qend > 512)
		return 0;
	if (qend > 512 - 16 * n_ips)
		n_ips = 0;
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
	return off;
}

/* What the embedded DNS makes of a question of n bytes: -1 not a query
 * of one question (dropped), 0 to forward, else the length of our own
 * answer in out. */
static ssize_t local_answer(struct run_dns *d, const uint8_t *b, size_t n, uint8_t out[512])
{
	if (n < 12 || (b[2] & 0x80) || (b[2] & 0x78) || b[4] || b[5] != 1)
		return -1; /* not a standard query with one question */
	char name[256];
	uint16_t type;
	ssize_t qend = question(b, n, name, &type);
	if (qend < 0)
		return (ssize_t)answer(b, 12, 1 /* FORMERR */, NULL, 0, false, out);
	char ips[16][16];
	size_t n_ips = 0;
	(void)run_net_lookup(d->id, name, ips, CM_ARRAY_SIZE(ips), &n_ips);
	if (!n_ips)
		return 0;
	/* ours: A answered, any other type has no data (IPv4 only) */
	return (ssize_t)answer(b, (size_t)qend, 0, ips, n_ips, type == 1 || type == 255, out);
}

/* SERVFAIL for a question (its header and question section echoed) */
static size_t servfail(const uint8_t *b, size_t n, uint8_t out[512])
{
	char name[256];
	uint16_t type;
	ssize_t qend = question(b, n, name, &type);
	return answer(b, qend < 0 ? 12 : (size_t)qend, 2, NULL, 0, false, out);
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

static void udp_send(struct run_dns *d, const uint8_t *b, size_t n, const struct sockaddr_in *to)
{
	if (n)
		(void)sendto(d->fd, b, n, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to));
}

static void udp_forward(struct run_dns *d, uint8_t *b, size_t n, const struct sockaddr_in *from)
{
	uint8_t out[512];
	int64_t now = run_now_ns();
	struct dns_pending *slot = NULL;
	for (size_t i = 0; i < DNS_PENDING && !slot; i++)
		if (!d->p[i].used || now - d->p[i].t > DNS_PENDING_NS)
			slot = &d->p[i];
	if (d->up < 0 || !slot) {
		udp_send(d, out, servfail(b, n, out), from);
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
		udp_send(d, out, servfail(b, n, out), from);
	}
}

/* an upstream answer over UDP: back to who asked */
static void udp_upstream(struct run_dns *d)
{
	uint8_t b[1500];
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
			udp_send(d, b, (size_t)n, &p->client);
			p->used = false;
			break;
		}
	}
}

static void udp_question(struct run_dns *d)
{
	uint8_t b[1500], out[512];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(d->fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 0 || fl != sizeof(from))
		return;
	ssize_t a = local_answer(d, b, (size_t)n, out);
	if (a > 0)
		udp_send(d, out, (size_t)a, &from);
	else if (a == 0)
		udp_forward(d, b, (size_t)n, &from);
}

/* ---- TCP ------------------------------------------------------------- */

static void tcp_accept(struct run_dns *d)
{
	int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct dns_tcp *t = NULL, *idlest = &d->tcp[0];
	for (size_t i = 0; i < DNS_TCP_CONNS && !t; i++) {
		if (d->tcp[i].fd < 0)
			t = &d->tcp[i];
		else if (d->tcp[i].t < idlest->t)
			idlest = &d->tcp[i];
	}
	if (!t) {
		tcp_drop(idlest);
		t = idlest;
	}
	*t = (struct dns_tcp){ .fd = fd, .up = -1, .state = TCP_QUESTION, .t = run_now_ns() };
	if (watch(d, fd, EPOLLIN, TAG_CLIENT + (uint64_t)(t - d->tcp), EPOLL_CTL_ADD) < 0)
		tcp_drop(t);
}

/* t->buf holds MSG (n bytes) to write to the client, after its length */
static bool tcp_reply(struct run_dns *d, struct dns_tcp *t, const uint8_t *msg, size_t n)
{
	uint8_t *b = malloc(n + 2);
	if (!b)
		return false;
	b[0] = (uint8_t)(n >> 8), b[1] = (uint8_t)n;
	memcpy(b + 2, msg, n);
	free(t->buf);
	*t = (struct dns_tcp){ .fd = t->fd, .up = t->up, .state = TCP_WRITING, .buf = b, .len = n + 2,
			       .cap = n + 2, .t = run_now_ns() };
	return watch(d, t->fd, EPOLLOUT, TAG_CLIENT + (uint64_t)(t - d->tcp), EPOLL_CTL_MOD) == 0;
}

/* read into t->buf until a whole message (length + body, at most max): 1
 * when it is there, 0 for more to come, -1 on EOF, an error or too long */
static int tcp_read_msg(int fd, struct dns_tcp *t, size_t max)
{
	for (;;) {
		size_t want = t->len < 2 ? 2 : 2 + (size_t)(t->buf[0] << 8 | t->buf[1]);
		if (want > max + 2)
			return -1;
		if (t->len >= 2 && t->len == want)
			return 1;
		if (t->cap < want) {
			uint8_t *nb = realloc(t->buf, want);
			if (!nb)
				return -1;
			t->buf = nb, t->cap = want;
		}
		ssize_t n = recv(fd, t->buf + t->len, want - t->len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		t->len += (size_t)n;
	}
}

/* send fd what is left of t->buf (from t->off): 1 when all of it is out,
 * 0 for more to send (sent in part, or EAGAIN), -1 on an error */
static int tcp_send_rest(int fd, struct dns_tcp *t)
{
	ssize_t n = send(fd, t->buf + t->off, t->len - t->off, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	t->off += (size_t)n;
	return t->off == t->len;
}

/* the client's question is in t->buf: ours answered, else off upstream */
static bool tcp_question(struct run_dns *d, struct dns_tcp *t)
{
	uint8_t out[512];
	size_t i = (size_t)(t - d->tcp);
	ssize_t a = local_answer(d, t->buf + 2, t->len - 2, out);
	if (a < 0)
		return false;
	if (a > 0)
		return tcp_reply(d, t, out, (size_t)a);
	if (d->has_up) {
		t->up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (t->up >= 0 && (connect(t->up, (struct sockaddr *)&d->up_addr, sizeof(d->up_addr)) == 0 ||
				   errno == EINPROGRESS) &&
		    watch(d, t->up, EPOLLOUT, TAG_UP + i, EPOLL_CTL_ADD) == 0 &&
		    watch(d, t->fd, 0, TAG_CLIENT + i, EPOLL_CTL_MOD) == 0) {
			/* the question (length and all) goes out as it came */
			t->state = TCP_CONNECTING;
			t->off = 0;
			return true;
		}
		cm_close(&t->up);
	}
	return tcp_reply(d, t, out, servfail(t->buf + 2, t->len - 2, out));
}

/* the upstream connection failed: SERVFAIL to the client */
static bool tcp_up_failed(struct run_dns *d, struct dns_tcp *t)
{
	uint8_t out[512];
	cm_close(&t->up);
	size_t n = t->state == TCP_CONNECTING ? servfail(t->buf + 2, t->len - 2, out) : 0;
	if (!n) /* the question is gone (the answer half read): nothing to echo */
		return false;
	return tcp_reply(d, t, out, n);
}

static bool tcp_up_event(struct run_dns *d, struct dns_tcp *t, uint32_t ev)
{
	if (t->state == TCP_CONNECTING) {
		int e = 0;
		socklen_t el = sizeof(e);
		if ((ev & EPOLLERR) || getsockopt(t->up, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e)
			return tcp_up_failed(d, t);
		int r = tcp_send_rest(t->up, t);
		if (r < 0)
			return tcp_up_failed(d, t);
		if (r == 0)
			return true;
		/* sent: now its answer, into the same buffer */
		t->state = TCP_ANSWER;
		t->len = t->off = 0;
		return watch(d, t->up, EPOLLIN, TAG_UP + (uint64_t)(t - d->tcp), EPOLL_CTL_MOD) == 0;
	}
	if (t->state != TCP_ANSWER)
		return false;
	int r = tcp_read_msg(t->up, t, 65535);
	if (r < 0)
		return false;
	if (r == 0)
		return true;
	cm_close(&t->up); /* (epoll forgets a closed fd) */
	t->state = TCP_WRITING;
	t->off = 0;
	t->t = run_now_ns();
	return watch(d, t->fd, EPOLLOUT, TAG_CLIENT + (uint64_t)(t - d->tcp), EPOLL_CTL_MOD) == 0;
}

static bool tcp_client_event(struct run_dns *d, struct dns_tcp *t, uint32_t ev)
{
	t->t = run_now_ns();
	if (t->state == TCP_QUESTION) {
		int r = tcp_read_msg(t->fd, t, DNS_TCP_QMAX);
		return r == 0 || (r == 1 && tcp_question(d, t));
	}
	if (t->state != TCP_WRITING || !(ev & EPOLLOUT))
		return !(ev & (EPOLLERR | EPOLLHUP));
	int r = tcp_send_rest(t->fd, t);
	if (r <= 0)
		return r == 0;
	/* answered: the next question on the same connection */
	t->state = TCP_QUESTION;
	t->len = t->off = 0;
	return watch(d, t->fd, EPOLLIN, TAG_CLIENT + (uint64_t)(t - d->tcp), EPOLL_CTL_MOD) == 0;
}

void run_dns_step(struct run_dns *d)
{
	struct epoll_event evs[16];
	int n = epoll_wait(d->ep, evs, CM_ARRAY_SIZE(evs), 0);
	for (int k = 0; k < n; k++) {
		uint64_t tag = evs[k].data.u64;
		uint32_t ev = evs[k].events;
		if (tag == TAG_UDP) {
			udp_question(d);
		} else if (tag == TAG_UDP_UP) {
			udp_upstream(d);
		} else if (tag == TAG_LISTEN) {
			tcp_accept(d);
		} else {
			struct dns_tcp *t = &d->tcp[tag & 0xff];
			bool up = tag >= TAG_UP;
			/* an event of a connection dropped earlier in this batch */
			if ((tag & 0xff) >= DNS_TCP_CONNS || t->fd < 0 || (up && t->up < 0))
				continue;
			if (!(up ? tcp_up_event(d, t, ev) : tcp_client_event(d, t, ev)))
				tcp_drop(t);
		}
	}
}
