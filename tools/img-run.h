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
/* A NULL-terminated list of strdup'd strings (img-volume.c): one more, or
 * -ENOMEM; and its free (NULL ok). */
int img_strv_add(char ***v, size_t *n, const char *s);
void img_strv_free(char **v);

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
/* img ps's Labels ("K=V,..."), Mounts (volume names and bind host paths,
 * each cut to 15 columns when trunc, as docker's), Networks ("bridge") and
 * LocalVolumes (the count of volumes) of a container, from its runner
 * config (empty strings without one). malloc'd; -ENOMEM. */
int img_ctr_columns(const struct ims_container *ct, bool trunc, char **labels, char **mounts,
		    char **networks, size_t *n_local);

/* What img run and img build share (img-run.c). */
struct ims_create_opts;
struct run_config;
struct run_cli;
struct run_started;
/* Create a container of co->image for c (runtime settings; filled with the
 * container's id, name, paths, image) and cli (the process over the image's
 * config), mounted (create_only: only its run dir), its volumes made
 * (from: --volumes-from's containers) and seeded, its runner config
 * written. On failure nothing is left. */
int img_container_setup(struct ims_store *s, const struct ims_create_opts *co,
			struct run_config *c, const struct run_cli *cli, bool create_only,
			char *const *from, struct ims_container **ret, struct cm_error *e);
/* from of a container without volumes (a build step) */
#define IMG_NO_VOLUMES ((char *const *)-1)
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

/* docker's sizes (units.HumanSize: decimal, 3 significant digits): "1.2kB". */
#include <stdint.h>
void img_human_size(int64_t size, char *buf, size_t sz);
/* The end of an inspect: w holds the array of objects; without format it
 * is printed (indented), else format runs on each object (-f). Frees w's
 * text. Returns rc, or 125 on a template's error. */
int img_inspect_print(struct cm_jw *w, const char *format, int rc);
/* Seed an empty volume (ddir) from the image: the content of the directory
 * path in root (resolved in-root, nothing followed below it), ids, modes and
 * times kept; the volume's root takes the directory's owner and mode, as
 * docker's copy does. Missing or not a directory: nothing (0). */
int img_cp_seed(int root, const char *path, int ddir);

/* img-volume.c: the volumes of run/create. prepare: --volumes-from's mounts
 * (from), the image's VOLUME paths (img_cfg: the image config's "config")
 * as anonymous volumes, each volume made if missing (its device mounted)
 * and its _data set as the bind's source, a missing -v host dir made (a
 * --mount one refused); on failure the volumes it made are removed. seed:
 * each empty volume (not nocopy) gets the image's content at its path,
 * read from c->rootfs (mounted). release: c's anonymous volumes no other
 * container uses are removed (rm -v, --rm). */
struct run_config;
struct run_volume;
struct ims_store;
int img_volumes_prepare(struct ims_store *s, struct run_config *c, const struct cm_json *img_cfg,
			char *const *from, struct cm_error *e);
/* Append v (moved) to c's mounts: 0 or -ENOMEM. */
int img_vol_push(struct run_config *c, const struct run_volume *v);
int img_volumes_seed(struct ims_store *s, const struct run_config *c, struct cm_error *e);
void img_volumes_release(struct ims_store *s, const struct run_config *c);
/* volume prune's work (also system prune's): the unused volumes (only
 * anonymous ones unless all) matching filters go; print: docker's
 * "Deleted Volumes:" list. Returns the bytes freed, -1 after an error. */
int64_t img_volume_prune(bool all, const void *filters, size_t nf, bool print);

/* img rm's work for one container: the runtime part first (stop with force,
 * the cgroup, the runner's state, the union), then the store's; volumes:
 * its anonymous volumes too (also for an --rm one). -ENOENT "No such
 * container" for an unknown one. */
int img_ctr_remove(struct ims_store *s, const char *ref, bool force, bool volumes, struct cm_error *e);
/* image prune's work (also system prune's): the dangling images (every
 * unused one with all) removed, then gc; print: docker's "Deleted Images:"
 * lines. Returns the bytes freed, -1 after an error. */
int64_t img_image_prune(bool all, bool print);
/* A prune verb's [-a] [-f] (img never prompts), prune's work, docker's
 * "Total reclaimed space" line. */
int img_prune_verb(int argc, char **argv, int64_t (*prune)(bool all, bool print));
/* builder prune's work (all: -a); the bytes freed, or -1 after an error. */
int64_t img_builder_prune(bool all, bool print);
/* docker's "5 minutes ago" (N/A for t <= 0). */
void img_human_since(int64_t t, char *buf, size_t sz);
/* container prune --filter until=, label=, label!= (img-format.h's filters). */
struct img_filter;
bool img_ctr_filter_match(const struct ims_container *ct, const struct img_filter *fs, size_t n);
/* The end of a prune: docker's "Total reclaimed space: 1.2kB" and 0, or
 * 125 when freed < 0 (the error already printed). */
int img_print_reclaimed(int64_t freed);
/* The bytes (blocks) of the files below path, nothing followed. */
int64_t img_du(const char *path);
/* One event to the store's journal (runner/events.c), for img events. */
void img_event(struct ims_store *s, const char *type, const char *action, const char *id,
	       const char *from, char *const *attrs);
/* docker's volume mount events of a starting container. */
void img_volumes_mounted(struct ims_store *s, const struct run_config *c);
