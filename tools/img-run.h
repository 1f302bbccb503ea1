/* SPDX-License-Identifier: MIT */
/* What img.c, img-run.c and img-cp.c share beyond the verb table
 * (img-cli.h, where the handlers are declared). */
#pragma once

#include <stdbool.h>

#include "cm-error.h"
#include "img-cli.h"
#include "cm-json.h"

/* img's one-line error on stderr ("img: ..."); both return 125. */
int img_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int img_fail_err(const struct cm_error *e);

/* Set by img.c's --root parsing (NULL: $IMG_ROOT or the default). */
extern const char *img_run_root;

/* img inspect of a container: the runner's view once started, else the
 * store's record with State.Status "created". Appends one object to w. */
int img_inspect_container(const char *ref, struct cm_jw *w, struct cm_error *e);
/* The store of --root / $IMG_ROOT, with IMG_ROOT and IMG_EXE set for the monitor. */
struct ims_store;
int img_open_store(struct ims_store **s, struct cm_error *e);
/* img ps: a container listed as running whose monitor died is recorded as
 * exited (255) now, and its status line (Exited (255) ...) re-read; a
 * paused one gets docker's " (Paused)". */
struct ims_container;
void img_refresh_status(struct ims_container *ct);
/* img ps --filter label=KEY[=VALUE]: the container's labels (runner.json). */
bool img_ctr_has_label(const struct ims_container *ct, const char *spec);
/* img ps's PORTS column of a running container (empty otherwise). */
#include <stddef.h>
void img_ports_column(const struct ims_container *ct, char *buf, size_t sz);
/* img ps's Labels ("K=V,..."), Mounts (the host paths, each cut to 15
 * columns when trunc, as docker's) and Networks ("bridge") of a container,
 * from its runner config (empty strings without one). malloc'd; -ENOMEM. */
int img_ctr_columns(const struct ims_container *ct, bool trunc, char **labels, char **mounts,
		    char **networks);

/* What img run and img build share (img-run.c). */
struct ims_create_opts;
struct run_config;
struct run_cli;
struct run_started;
/* Create a container of co->image for c (runtime settings; filled with the
 * container's id, name, paths, image) and cli (the process over the image's
 * config), mounted (create_only: only its run dir), its runner config
 * written. On failure nothing is left. */
int img_container_setup(struct ims_store *s, const struct ims_create_opts *co,
			struct run_config *c, const struct run_cli *cli, bool create_only,
			struct ims_container **ret, struct cm_error *e);
/* Attached: wait for the exit code (signals forwarded; tty: window size and
 * raw mode), remove an --rm container (rm_id), reap the monitor. Returns the
 * exit code (125 when it cannot be read). */
int img_attach_wait(struct run_started *st, bool tty, const char *bundle, const char *rm_id);
/* Remove an exited container: the runner's state and cgroup, then the
 * store's (mount, branches). */
int img_container_discard(struct ims_store *s, const char *bundle, const char *id,
			  struct cm_error *e);
/* img-monitor's path, or NULL with the error printed. */
char *img_monitor_path(void);
