// SPDX-License-Identifier: MIT
/* img-init: the tiny init of `img run --init` (docker's tini). It runs as
 * the container's pid 1 (from a sealed memfd, linked static: nothing of the
 * image is loaded), starts the command as its child in a process group of
 * its own, passes on every signal it gets, reaps every zombie (orphans are
 * re-parented to pid 1), and exits with the command's status (128+N when a
 * signal N killed it). Usage: img-init -- CMD [ARG...]. No libc beyond the
 * system calls; no allocation. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int first = 1;
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc) {
		fputs("img-init: usage: img-init -- CMD [ARG...]\n", stderr);
		return 125;
	}
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t child = fork();
	if (child < 0) {
		perror("img-init: fork");
		return 125;
	}
	if (child == 0) {
		/* the command: its own group (a ^C of a tty reaches it through
		 * us), the signal mask it would have had without us */
		setpgid(0, 0);
		if (isatty(0))
			tcsetpgrp(0, getpid());
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[first], argv + first);
		int e = errno;
		fprintf(stderr, "img-init: exec %s: %s\n", argv[first], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	/* a tty's job-control stops must not stop pid 1 */
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* the whole group (the command and what it started), as tini -g */
			if (kill(-child, sig) < 0)
				kill(child, sig);
			continue;
		}
		int status;
		pid_t p;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			if (p != child)
				continue; /* an orphan: reaped, nothing more */
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			if (WIFSIGNALED(status))
				return 128 + WTERMSIG(status);
		}
	}
}
