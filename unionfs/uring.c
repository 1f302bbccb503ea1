// SPDX-License-Identifier: MIT
/* FUSE over io_uring (Linux 6.14+, the kernel's
 * Documentation/filesystems/fuse-io-uring.rst): after INIT, one queue per
 * possible CPU; each queue gets ring entries (a header buffer and a payload
 * buffer registered with FUSE_IO_URING_CMD_REGISTER), and a request is
 * queued on the entry of the CPU that issued it. Each entry here has its own
 * thread and io_uring, pinned to the queue's CPU: the thread waits for a
 * request in the entry, serves it through libfuse's decoding and our ops
 * (fuse-shim.c routes the reply into the entry), and commits the reply and
 * fetches the next request in one IORING_OP_URING_CMD. /dev/fuse stays open
 * for what the kernel still sends there (INTERRUPT, FORGET) and for
 * notifications; until every queue has an entry the kernel keeps using it
 * for everything, so a failed registration falls back to /dev/fuse whole. */
#include "ufs-internal.h"
#include "config.h"
#include "cm-ufsctl.h"

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <time.h>

#if HAVE_LIBURING
#include <liburing.h>

/* ---- kernel ABI (include/uapi/linux/fuse.h, protocol 7.42) ---- */

#define K_URING_IN_OUT_SZ 128
#define K_URING_OP_SZ 128
struct k_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;   /* the request's unique, echoed in the commit */
	uint32_t payload_sz;  /* bytes in the payload buffer, either way */
	uint32_t padding;
	uint64_t reserved;
};
struct k_uring_req_header {
	char in_out[K_URING_IN_OUT_SZ]; /* fuse_in_header in, fuse_out_header out */
	char op_in[K_URING_OP_SZ];      /* the request's first argument */
	struct k_uring_ent_in_out ent;
};
struct k_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};
_Static_assert(sizeof(struct k_uring_req_header) == 288, "fuse_uring_req_header");
_Static_assert(sizeof(struct k_uring_cmd_req) == 24, "fuse_uring_cmd_req");
#define K_URING_CMD_REGISTER 1
#define K_URING_CMD_COMMIT_AND_FETCH 2
#define K_IN_HEADER_SZ 40
#define K_OUT_HEADER_SZ 16

/* The request is handed to libfuse as one buffer: fuse_in_header, the first
 * argument, the payload. The payload buffer has room before it for the
 * first two, so the payload (a write's data) is not copied. */
#define HEADROOM (K_IN_HEADER_SZ + K_URING_OP_SZ)

struct ufs_ring_ent {
	struct ufs_uring *u;
	int qid;
	pthread_t thread;
	bool started;
	struct io_uring ring;
	bool ring_ok;
	struct k_uring_req_header hdr __attribute__((aligned(64)));
	char *buf;        /* HEADROOM + payload */
	bool replied;
};

struct ufs_uring {
	struct ufs_fs *fs;
	int nq, depth;    /* queues, entries (threads) per queue */
	size_t payload;
	int stopfd;       /* eventfd: readable when the session ends */
	atomic_int registered; /* entries whose REGISTER the kernel took */
	atomic_int failed;
	atomic_ullong commit_errors; /* commits refused, entry registered again */
	atomic_int last_error;
	atomic_ullong *served; /* per queue */
	struct ufs_ring_ent *ents;
	pthread_mutex_t lock;  /* reason */
	char reason[160];
};

static void set_reason(struct ufs_uring *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_reason(struct ufs_uring *u, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&u->lock);
	if (!u->reason[0]) {
		va_start(ap, fmt);
		vsnprintf(u->reason, sizeof(u->reason), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&u->lock);
}

static void prep_cmd(struct ufs_ring_ent *e, int op, uint64_t commit_id, const struct iovec *iov)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	/* an SQE128: the command area runs past struct io_uring_sqe */
	void *raw = (void *)(uintptr_t)sqe;
	__asm__("" : "+r"(raw));
	memset(raw, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = e->u->fs->devfd;
	sqe->cmd_op = (uint32_t)op;
	if (iov) {
		sqe->addr = (uint64_t)(uintptr_t)iov;
		sqe->len = 2;
	}
	struct k_uring_cmd_req *req = (void *)sqe->cmd;
	req->qid = (uint16_t)e->qid;
	req->commit_id = commit_id;
}

ssize_t ufs_uring_reply(struct ufs_ring_ent *e, const struct iovec *iov, int count)
{
	size_t total = 0, off = 0;
	for (int i = 0; i < count; i++)
		total += iov[i].iov_len;
	if (total < K_OUT_HEADER_SZ || total - K_OUT_HEADER_SZ > e->u->payload) {
		errno = total < K_OUT_HEADER_SZ ? EINVAL : E2BIG;
		return -1;
	}
	char *payload = e->buf + HEADROOM;
	for (int i = 0; i < count; i++) {
		const char *p = iov[i].iov_base;
		size_t n = iov[i].iov_len;
		while (n > 0) {
			size_t k;
			if (off < K_OUT_HEADER_SZ) {
				k = n < K_OUT_HEADER_SZ - off ? n : K_OUT_HEADER_SZ - off;
				memcpy(e->hdr.in_out + off, p, k);
			} else {
				k = n;
				memcpy(payload + off - K_OUT_HEADER_SZ, p, k);
			}
			off += k;
			p += k;
			n -= k;
		}
	}
	e->hdr.ent.payload_sz = (uint32_t)(total - K_OUT_HEADER_SZ);
	e->replied = true;
	return (ssize_t)total;
}

/* One request in e: hand it to libfuse as one buffer. */
static void serve(struct ufs_ring_ent *e)
{
	struct ufs_fs *fs = e->u->fs;
	uint32_t len, psz = e->hdr.ent.payload_sz;
	memcpy(&len, e->hdr.in_out, sizeof(len));
	e->replied = false;
	if (len < K_IN_HEADER_SZ + (uint64_t)psz || len - K_IN_HEADER_SZ - psz > K_URING_OP_SZ ||
	    psz > e->u->payload) {
		/* not what the ABI says: an error reply keeps the entry going */
		uint64_t unique;
		memcpy(&unique, e->hdr.in_out + 8, sizeof(unique));
		struct { uint32_t len; int32_t error; uint64_t unique; } oh = { K_OUT_HEADER_SZ, -EIO, unique };
		struct iovec iov = { &oh, sizeof(oh) };
		ufs_uring_reply(e, &iov, 1);
		return;
	}
	size_t oplen = len - K_IN_HEADER_SZ - psz;
	char *msg = e->buf + HEADROOM - oplen - K_IN_HEADER_SZ;
	memcpy(msg, e->hdr.in_out, K_IN_HEADER_SZ);
	memcpy(msg + K_IN_HEADER_SZ, e->hdr.op_in, oplen);
	ufs_shim_serve(fs, e, msg, len);
	if (!e->replied) {
		uint64_t unique;
		memcpy(&unique, msg + 8, sizeof(unique));
		struct { uint32_t len; int32_t error; uint64_t unique; } oh = { K_OUT_HEADER_SZ, -EIO, unique };
		struct iovec iov = { &oh, sizeof(oh) };
		ufs_uring_reply(e, &iov, 1);
	}
}

static void *ent_thread(void *arg)
{
	struct ufs_ring_ent *e = arg;
	struct ufs_uring *u = e->u;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(e->qid, &set);
	(void)sched_setaffinity(0, sizeof(set), &set); /* best effort */

	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER |
						  IORING_SETUP_COOP_TASKRUN };
	int r = io_uring_queue_init_params(4, &e->ring, &p);
	if (r == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_SQE128;
		r = io_uring_queue_init_params(4, &e->ring, &p);
	}
	if (r < 0) {
		set_reason(u, "io_uring_setup: %s", strerror(-r));
		atomic_fetch_add(&u->failed, 1);
		return NULL;
	}
	e->ring_ok = true;
	struct iovec iov[2] = {
		{ &e->hdr, sizeof(e->hdr) },
		{ e->buf + HEADROOM, u->payload },
	};
	/* the end of the session wakes every thread (user_data 1) */
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	io_uring_prep_poll_add(sqe, u->stopfd, POLLIN);
	io_uring_sqe_set_data64(sqe, 1);
	prep_cmd(e, K_URING_CMD_REGISTER, 0, iov);
	r = io_uring_submit(&e->ring);
	if (r != 2) {
		set_reason(u, "io_uring_submit: %s", r < 0 ? strerror(-r) : "nothing submitted");
		atomic_fetch_add(&u->failed, 1);
		return NULL;
	}
	atomic_fetch_add(&u->registered, 1); /* unless its completion says otherwise */
	bool served = false;
	for (;;) {
		struct io_uring_cqe *cqe;
		r = io_uring_submit_and_wait(&e->ring, 1);
		if (r == -EINTR)
			continue;
		if (r >= 0)
			r = io_uring_peek_cqe(&e->ring, &cqe);
		if (r == -EAGAIN)
			continue;
		if (r < 0) {
			set_reason(u, "io_uring_enter: %s", strerror(-r));
			break;
		}
		int res = cqe->res;
		uint64_t what = io_uring_cqe_get_data64(cqe);
		io_uring_cqe_seen(&e->ring, cqe);
		if (what == 1)
			break; /* stopping */
		if (res < 0 && (res == -ENOTCONN || res == -ECANCELED || res == -ENODEV))
			break; /* unmounted */
		if (res < 0 && !served) {
			set_reason(u, "the kernel refused a ring entry: %s", strerror(-res));
			atomic_fetch_add(&u->failed, 1);
			break;
		}
		if (res < 0) {
			/* a commit the kernel refused (its request gone): the
			 * entry is the kernel's no more; register it anew so that
			 * the queue keeps its depth */
			atomic_fetch_add(&u->commit_errors, 1);
			atomic_store(&u->last_error, -res);
			prep_cmd(e, K_URING_CMD_REGISTER, 0, iov);
			continue;
		}
		served = true;
		uint64_t commit_id = e->hdr.ent.commit_id;
		serve(e);
		atomic_fetch_add_explicit(&u->served[e->qid], 1, memory_order_relaxed);
		prep_cmd(e, K_URING_CMD_COMMIT_AND_FETCH, commit_id, NULL);
	}
	return NULL;
}

int ufs_uring_start(struct ufs_fs *fs, size_t payload)
{
	struct ufs_uring *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fs = fs;
	u->nq = get_nprocs_conf();
	u->depth = (int)fs->cfg->uring_depth;
	u->payload = payload;
	u->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->stopfd < 0) {
		int r = cm_neg_errno();
		free(u);
		return r;
	}
	pthread_mutex_init(&u->lock, NULL);
	u->served = calloc((size_t)u->nq, sizeof(*u->served));
	u->ents = calloc((size_t)u->nq * (size_t)u->depth, sizeof(*u->ents));
	if (!u->served || !u->ents) {
		free(u->served);
		free(u->ents);
		close(u->stopfd);
		free(u);
		return -ENOMEM;
	}
	fs->uring = u;
	for (int i = 0; i < u->nq * u->depth; i++) {
		struct ufs_ring_ent *e = &u->ents[i];
		e->u = u;
		e->qid = i % u->nq;
		e->buf = aligned_alloc(4096, (HEADROOM + payload + 4095) / 4096 * 4096 + 4096);
		if (!e->buf) {
			set_reason(u, "out of memory for ring buffers");
			break;
		}
		int r = pthread_create(&e->thread, NULL, ent_thread, e);
		if (r != 0) {
			set_reason(u, "cannot start a queue thread: %s", strerror(r));
			break;
		}
		e->started = true;
	}
	return 0;
}

void ufs_uring_stop(struct ufs_fs *fs)
{
	struct ufs_uring *u = fs->uring;
	if (!u)
		return;
	uint64_t one = 1;
	if (write(u->stopfd, &one, sizeof(one)) < 0)
		fprintf(stderr, "ufsmount: cannot stop the io_uring queues: %s\n", strerror(errno));
	/* each thread ends with the request it serves; one that has not in
	 * 10 s (an op stuck) gets the connection aborted under it: its
	 * requester then waits no more (over io_uring a request in an entry
	 * cannot be killed), and the thread is left behind if still stuck */
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	bool aborted = false, left = false;
	for (int i = 0; i < u->nq * u->depth; i++) {
		struct ufs_ring_ent *e = &u->ents[i];
		if (e->started && pthread_timedjoin_np(e->thread, NULL, &dl) != 0) {
			if (!aborted && fs->dev_major + fs->dev_minor > 0) {
				int r = cm_fuse_abort(fs->dev_major, fs->dev_minor);
				fprintf(stderr, "ufsmount: a queue thread did not stop in 10 s: %s\n",
					r < 0 ? strerror(-r) : "connection aborted");
				clock_gettime(CLOCK_REALTIME, &dl);
				dl.tv_sec += 5;
			}
			aborted = true;
			if (pthread_timedjoin_np(e->thread, NULL, &dl) != 0) {
				left = true;
				continue; /* its ring and buffers stay its own */
			}
		}
		if (e->ring_ok)
			io_uring_queue_exit(&e->ring);
		free(e->buf);
	}
	fs->uring = NULL;
	if (left)
		return; /* the process is ending: the rest goes with it */
	free(u->ents);
	free(u->served);
	close(u->stopfd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

bool ufs_uring_built(void)
{
	return true;
}

void ufs_uring_status(struct ufs_fs *fs, FILE *f, bool json)
{
	struct ufs_uring *u = fs->uring;
	char reason[160];
	bool up = false;
	if (u) {
		pthread_mutex_lock(&u->lock);
		snprintf(reason, sizeof(reason), "%s", u->reason);
		pthread_mutex_unlock(&u->lock);
		up = !reason[0] && atomic_load(&u->failed) == 0 &&
		     atomic_load(&u->registered) == u->nq * u->depth;
	} else {
		snprintf(reason, sizeof(reason), "%s", fs->uring_reason);
	}
	if (!json) {
		if (up)
			fprintf(f, "transport    io_uring (%d queues x %d entries, payload %zu KiB)\n",
				u->nq, u->depth, u->payload / 1024);
		else
			fprintf(f, "transport    /dev/fuse (io_uring: %s)\n",
				reason[0] ? reason : "registering");
		for (int q = 0; up && q < u->nq; q++)
			fprintf(f, "  uring_q%-3d       %llu\n", q, (unsigned long long)atomic_load(&u->served[q]));
		if (up && atomic_load(&u->commit_errors))
			fprintf(f, "  uring_commit_errors %llu (last: %s)\n",
				(unsigned long long)atomic_load(&u->commit_errors),
				strerror(atomic_load(&u->last_error)));
		return;
	}
	fprintf(f, ",\"transport\":{\"name\":\"%s\",\"reason\":", up ? "io_uring" : "/dev/fuse");
	ufs_json_str(f, up ? "" : reason);
	fprintf(f, ",\"queues\":[");
	for (int q = 0; up && q < u->nq; q++)
		fprintf(f, "%s%llu", q ? "," : "", (unsigned long long)atomic_load(&u->served[q]));
	fprintf(f, "]}");
}

#else /* !HAVE_LIBURING */

ssize_t ufs_uring_reply(struct ufs_ring_ent *e, const struct iovec *iov, int count)
{
	(void)e, (void)iov, (void)count;
	return -1;
}

int ufs_uring_start(struct ufs_fs *fs, size_t payload)
{
	(void)fs, (void)payload;
	return -ENOTSUP;
}

void ufs_uring_stop(struct ufs_fs *fs)
{
	(void)fs;
}

bool ufs_uring_built(void)
{
	return false;
}

void ufs_uring_status(struct ufs_fs *fs, FILE *f, bool json)
{
	if (!json) {
		fprintf(f, "transport    /dev/fuse (io_uring: %s)\n", fs->uring_reason);
		return;
	}
	fprintf(f, ",\"transport\":{\"name\":\"/dev/fuse\",\"reason\":");
	ufs_json_str(f, fs->uring_reason);
	fprintf(f, ",\"queues\":[]}");
}

#endif
