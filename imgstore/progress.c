// SPDX-License-Identifier: MIT
/* Progress of long byte streams, for a terminal: a process-wide reporter
 * (the tool installs it), throttled to ten reports a second per stream. */
#include "ims.h"
#include "ims-internal.h"

#include <time.h>

static ims_progress_fn *prog_fn;
static void *prog_ctx;

void ims_set_progress(ims_progress_fn *fn, void *ctx)
{
	prog_fn = fn;
	prog_ctx = ctx;
}

void ims_progress(const char *what, int64_t done, int64_t total, bool final,
		  uint64_t st[2])
{
	if (!prog_fn || !what)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (!st[0])
		st[0] = now; /* start: short streams are never shown */
	if (final) {
		if (st[1])
			prog_fn(prog_ctx, what, done, total, true);
		return;
	}
	if (now - st[0] < 250000000ULL || (st[1] && now - st[1] < 100000000ULL))
		return;
	st[1] = now;
	prog_fn(prog_ctx, what, done, total, false);
}
