/* SPDX-License-Identifier: MIT */
/* The ONE whiteout specification shared by the union filesystem and the image
 * store: what hides a name of the branches (layers) below, and what makes a
 * directory opaque. One meaning, two encodings on disk:
 *   AUFS (the OCI image-layer format; ufsmount dirs=, the image store)
 *     .wh.NAME        hides NAME in every branch (layer) below this one
 *     .wh..wh..opq    inside DIR: nothing below DIR shows through
 *     .wh..wh.*       other names with this prefix are private metadata
 *                     (our work dir .wh..wh.work) and never part of the view
 *   OVERLAY (kernel overlayfs and fuse-overlayfs; ufsmount upperdir=)
 *     NAME, a 0/0 character device: hides NAME below (and is not shown);
 *       where mknod is refused, a regular empty NAME with the xattr
 *       overlay.whiteout, in a dir marked overlay.opaque="x" (kernel 6.7's
 *       xwhiteout)
 *     DIR with the xattr overlay.opaque="y": nothing below DIR shows
 *     (the xattrs in trusted.*, or user.* for unprivileged mounts)
 *   An OVERLAY branch also reads the AUFS names: containers/storage unpacks
 *   layers in AUFS form when a mount program serves them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

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

/* The longest NAME whose whiteout fits a filesystem taking names of at
 * most namemax bytes (what a union reports in statfs). */
static inline unsigned long cm_wh_target_max(unsigned long namemax)
{
	return namemax > CM_WH_PREFIX_LEN ? namemax - CM_WH_PREFIX_LEN : 0;
}

/* Write ".wh." NAME into buf (size bufsz). Returns 0, or -ENAMETOOLONG when
 * the result does not fit in bufsz or exceeds NAME_MAX. */
int cm_wh_name(char *buf, size_t bufsz, const char *name);

/* ---- the two encodings (fd-relative; see docs/format.md) ---- */

enum cm_wh_format {
	CM_WH_FMT_AUFS,
	CM_WH_FMT_OVERLAY,
};

/* How one branch is written: the format, and for OVERLAY the xattr
 * namespace and whether whiteouts can be device nodes. */
struct cm_wh_enc {
	enum cm_wh_format fmt;
	bool user_xattr; /* user.overlay.* (unprivileged, -o userxattr), else trusted. */
	bool no_mknod;   /* whiteouts as xwhiteout files (mknod refused) */
};

/* Is name in dirfd (lstat st) itself a whiteout? Never in AUFS; in OVERLAY
 * a 0/0 char device, or an empty regular file with overlay.whiteout in a
 * dir marked overlay.opaque="x". 1, 0, or -errno. */
int cm_wh_is_object(enum cm_wh_format f, int dirfd, const char *name,
		    const struct stat *st);

/* Is the dir dirfd marked to hold xwhiteouts (overlay.opaque="x")? */
bool cm_wh_dir_has_xwhiteouts(int dirfd);

/* Does dirfd hold the AUFS whiteout .wh.NAME (read in both formats)? 1,
 * 0 (also for a name too long to have one), or -errno. */
int cm_wh_beside(int dirfd, const char *name);

/* Is the dir name in dirfd opaque? AUFS: it holds .wh..wh..opq; OVERLAY:
 * that, or overlay.opaque="y" (trusted., user., or fuse-overlayfs's
 * user.fuseoverlayfs.). 1, 0, or -errno. */
int cm_wh_opaque_at(enum cm_wh_format f, int dirfd, const char *name);

/* Mark the dir dfd (any fd of it, O_PATH too) opaque in encoding e.
 * OVERLAY falls back to .wh..wh..opq where the xattr cannot be set. */
int cm_wh_set_opaque(const struct cm_wh_enc *e, int dfd);

/* Make name in dirfd a whiteout. AUFS: .wh.NAME is created beside NAME
 * (which is left alone). OVERLAY: the whiteout is built in workfd and
 * published as NAME with one rename; an object that was NAME is exchanged
 * into workfd, named in old (size oldsz), for the caller to delete (old is
 * "" otherwise). Returns 1 if a whiteout was made, 0 if one was there. */
int cm_wh_make(const struct cm_wh_enc *e, int dirfd, const char *name, int workfd,
	       char *old, size_t oldsz);

/* Is the xattr name part of the OVERLAY encoding (trusted.overlay.*,
 * user.overlay.*, user.fuseoverlayfs.*), hence never shown or copied? */
bool cm_wh_xattr_is_private(const char *name);
