/* SPDX-License-Identifier: MIT */
/* The ONE whiteout specification shared by the union filesystem and the image
 * store: AUFS names, which are also the OCI image-layer format.
 *   .wh.NAME        hides NAME in every branch (layer) below this one
 *   .wh..wh..opq    inside DIR: nothing below DIR shows through
 *   .wh..wh.*       other names with this prefix are private metadata
 *                   (our work dir .wh..wh.work) and never part of the view. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CM_WH_PREFIX ".wh."
#define CM_WH_PREFIX_LEN 4
#define CM_WH_META_PREFIX ".wh..wh."
#define CM_WH_OPAQUE ".wh..wh..opq"
#define CM_WH_WORKDIR ".wh..wh.work"

enum cm_wh_kind {
	CM_WH_NONE = 0,  /* an ordinary name */
	CM_WH_FILE,      /* .wh.NAME, target NAME is valid */
	CM_WH_OPQ,       /* .wh..wh..opq */
	CM_WH_META,      /* other .wh..wh.* (private, ignored) */
	CM_WH_INVALID,   /* .wh. alone, .wh.., .wh..., or a target with '/' */
};

/* Classify a directory entry name. For CM_WH_FILE, *ret_target (if not NULL)
 * points into name at the hidden name. Pure function, no allocation. */
enum cm_wh_kind cm_wh_classify(const char *name, const char **ret_target);

/* True if name begins with the whiteout prefix (such names are never created,
 * looked up or listed through a union mount). */
bool cm_wh_is_reserved(const char *name);

/* Write ".wh." NAME into buf (size bufsz). Returns 0, or -ENAMETOOLONG when
 * the result does not fit in bufsz or exceeds NAME_MAX. */
int cm_wh_name(char *buf, size_t bufsz, const char *name);
