/* SPDX-License-Identifier: MIT */
/* img pull's driver, shared with run/create --pull (img-pull.c). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct ims_store;

struct img_pull_args {
	bool quiet;           /* -q: the name alone */
	bool insecure;        /* --tls-verify=false */
	const char *platform; /* --platform or NULL */
	int parallel;         /* --max-concurrent-downloads/-uploads (0: unset) */
	FILE *out;            /* NULL: stdout (run prints on stderr) */
};

/* Pull name with docker's output; returns the exit code (0, or 125 with
 * the one-line error printed). */
int img_pull_image(struct ims_store *s, const char *name, const struct img_pull_args *a);
/* -a: every tag of the repository name. */
int img_pull_all_tags(struct ims_store *s, const char *name, const struct img_pull_args *a);
/* --tls-verify[=true|false] -> *ret_insecure; 125 (printed) if neither. */
int img_pull_opts_tls(const char *arg, bool *ret_insecure);
/* An option of pull, push or login (-q, --platform, --tls-verify): 0 taken,
 * -1 --help was printed (exit 0), else the exit code (125). Each verb's
 * table decides which of them it accepts. */
int img_reg_opt(int c, struct img_pull_args *a);
/* run/create --pull POLICY (NULL: missing): "missing" pulls an image the
 * store lacks (docker's "Unable to find image" first, the pull's output on
 * stderr), "always" pulls, "never" does not. 0, or the exit code. */
int img_pull_for_run(struct ims_store *s, const char *image, const char *policy);
