// SPDX-License-Identifier: MIT
/* img-monitor BUNDLE SYNCFD attach|detach: the small per-container monitor
 * (librunner's run_monitor_main), exec'd by img before any container
 * namespace exists; never run from inside a container. It links librunner
 * only (no store, no libarchive/libcrypto: ~1 MB less resident per running
 * container, docs/runner.md). An --rm container is removed once it exited:
 * by the attached `img run` itself, else (detached, or img died) by
 * exec'ing `img rm -f ID` in place of the monitor (same pid: whoever waits
 * for the monitor sees the removal done); img is $IMG_EXE and the store
 * root $IMG_ROOT, both set by img. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void exec_remove(const char *id, int sync)
{
	const char *img = getenv("IMG_EXE");
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) /* img rm prints the id: not to the user's terminal */
		dup2(null, 1);
	close(sync);
	if (img && *img)
		execl(img, "img", "rm", "-f", id, (char *)NULL);
	execlp("img", "img", "rm", "-f", id, (char *)NULL);
}

/* Attached: `img run --rm` removes the container itself once told the exit
 * code, then closes its end; we wait for that (or for its death). */
static void wait_attached(int sync)
{
	char b[64];
	ssize_t n;
	do
		n = read(sync, b, sizeof(b));
	while (n > 0 || (n < 0 && errno == EINTR));
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return RUN_EXIT_IMG;
	int fd = atoi(argv[2]);
	if (fd < 3)
		return RUN_EXIT_IMG;
	bool attach = strcmp(argv[3], "attach") == 0;
	int code = run_monitor_main(argv[1], fd, attach);
	struct run_config *c = NULL;
	if (run_config_read(argv[1], &c, NULL) == 0 && c->autoremove) {
		if (attach) {
			wait_attached(fd);
			run_config_free(c);
			c = NULL;
			if (run_config_read(argv[1], &c, NULL) < 0)
				return code; /* img removed it */
		}
		char id[RUN_ID_LEN + 1];
		memcpy(id, c->id, sizeof(id));
		run_config_free(c);
		exec_remove(id, fd);
		/* no img to exec: at least the runner's part (img rm finishes it) */
		(void)run_container_remove(argv[1], true, NULL);
		return code;
	}
	run_config_free(c);
	return code;
}
