// SPDX-License-Identifier: MIT
/* img-monitor BUNDLE SYNCFD attach|detach: the small per-container monitor
 * (librunner's run_monitor_main), exec'd by img before any container
 * namespace exists; never run from inside a container.
 * img-monitor exec BUNDLE [-i] [-t] [-w DIR] [-u USER] [-e K=V]... -- CMD...:
 * `img exec` (run_container_exec), which img execs in its place so that
 * what joins the container is this small binary. img runs both from a
 * sealed memfd copy (run_sealed_copy). It links librunner
 * only (no store, no libarchive/libcrypto: ~1 MB less resident per running
 * container, docs/runner.md). An --rm container is removed once it exited:
 * by the attached `img run` itself, else (detached, or img died) by
 * exec'ing `img rm -f ID` in place of the monitor (same pid: whoever waits
 * for the monitor sees the removal done); img is $IMG_EXE and the store
 * root $IMG_ROOT, both set by img; $IMG_STORE_ROOT, the root resolved,
 * where the networks' definitions are (STORE/networks). */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
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

/* `img exec` after img found the container (its bundle): the options as
 * img passed them. Prints the error as img would. */
static int exec_main(int argc, char **argv)
{
	struct run_exec x = { 0 };
	char **env = calloc((size_t)argc, sizeof(char *));
	size_t n_env = 0;
	int i = 3, code = RUN_EXIT_IMG;
	if (!env)
		return RUN_EXIT_IMG;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-i") == 0)
			x.interactive = true;
		else if (strcmp(argv[i], "-t") == 0)
			x.tty = true;
		else if (i + 1 < argc && strcmp(argv[i], "-w") == 0)
			x.cwd = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "-u") == 0)
			x.user = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "-e") == 0)
			env[n_env++] = argv[++i];
		else
			break;
	}
	if (i + 1 >= argc || strcmp(argv[i], "--") != 0) {
		fprintf(stderr, "img-monitor: usage: img-monitor exec BUNDLE [-i] [-t] [-w DIR] [-u USER] [-e K=V]... -- CMD...\n");
		free(env);
		return RUN_EXIT_IMG;
	}
	x.env = env;
	x.argv = argv + i + 1;
	/* the process's output is relayed: a reader of ours gone is an error
	 * of that write, not our death (the process then gets its EPIPE) */
	signal(SIGPIPE, SIG_IGN);
	struct cm_error e = { 0 };
	if (run_container_exec(argv[2], &x, &code, &e) < 0)
		fprintf(stderr, "img: %s\n", e.msg[0] ? e.msg : strerror(-e.code));
	free(env);
	return code;
}

int main(int argc, char **argv)
{
	/* the networks' definitions: in img's store (else the copies in use) */
	(void)run_network_store_set(getenv("IMG_STORE_ROOT"));
	if (argc >= 3 && strcmp(argv[1], "exec") == 0)
		return exec_main(argc, argv);
	if (argc != 4) {
		fprintf(stderr, "img-monitor: usage: img-monitor BUNDLE SYNCFD attach|detach\n");
		return RUN_EXIT_IMG;
	}
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
