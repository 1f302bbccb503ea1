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
