// SPDX-License-Identifier: MIT
/* img login / logout (issue 9): credentials checked against the registry,
 * then kept in docker's config.json (libregistry's reg-cred.c). The password
 * is read from --password-stdin, -p, or the terminal without echo; it is
 * never printed. */
#include "cm.h"
#include "reg.h"
#include "img-cli.h"
#include "img-pull.h"
#include "img-run.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* One line from f (the newline dropped); NULL at EOF. */
static char *read_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static char *prompt(const char *what, bool echo)
{
	struct termios old, t;
	bool tty = tcgetattr(0, &old) == 0;
	fprintf(stderr, "%s: ", what);
	fflush(stderr);
	if (tty && !echo) {
		t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &t);
	}
	char *s = read_line(stdin);
	if (tty && !echo) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return s;
}

static void secret_free(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
	}
}

int img_cmd_login(int argc, char **argv)
{
	const char *user = NULL;
	__attribute__((cleanup(secret_free))) char *pass = NULL;
	bool pass_stdin = false, insecure = false;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'u':
			user = optarg;
			break;
		case 'p':
			secret_free(&pass);
			pass = strdup(optarg);
			break;
		case OPT_PASSSTDIN:
			pass_stdin = true;
			break;
		default: {
			struct img_pull_args a = { .insecure = insecure };
			int k = img_reg_opt(c, &a);
			if (k)
				return k < 0 ? 0 : k;
			insecure = a.insecure;
		}
		}
	}
	const char *registry = optind < argc ? argv[optind] : "docker.io";
	if (pass && pass_stdin)
		return img_fail("login: --password and --password-stdin are mutually exclusive");
	if (pass)
		fputs("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n", stderr);
	_cleanup_free_ char *uprompt = NULL;
	if (pass_stdin) {
		if (!user)
			return img_fail("login: must provide --username with --password-stdin");
		if (!(pass = read_line(stdin)))
			return img_fail("login: no password on stdin");
	}
	if (!user || !pass) {
		if (!isatty(0))
			return img_fail("login: cannot perform an interactive login from a non TTY device");
		if (!user) {
			if (!(uprompt = prompt("Username", true)) || !*uprompt)
				return img_fail("login: username is required");
			user = uprompt;
		}
		if (!pass && !(pass = prompt("Password", false)))
			return img_fail("login: password is required");
	}
	struct cm_error e = { 0 };
	struct reg_opts o = { .insecure = insecure, .user = user, .pass = pass };
	if (reg_login(registry, &o, &e) < 0)
		return img_fail("login %s: %s", registry, e.msg);
	if (reg_cred_store(registry, user, pass, &e) < 0)
		return img_fail("login %s: %s", registry, e.msg);
	puts("Login Succeeded");
	return 0;
}

int img_cmd_logout(int argc, char **argv)
{
	int c = img_getopt(argc, argv);
	if (c != -1)
		return img_opt_exit(c);
	const char *registry = optind < argc ? argv[optind] : "docker.io";
	struct cm_error e = { 0 };
	bool had = false;
	_cleanup_free_ char *key = reg_cred_key(registry);
	if (reg_cred_erase(registry, &had, &e) < 0)
		return img_fail("logout %s: %s", registry, e.msg);
	if (had)
		printf("Removing login credentials for %s\n", key ? key : registry);
	else
		printf("Not logged in to %s\n", key ? key : registry);
	return 0;
}
