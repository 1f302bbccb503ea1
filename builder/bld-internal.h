/* SPDX-License-Identifier: MIT */
/* libbuilder private header, sectioned by file. */
#pragma once

#include <errno.h>

#include "bld.h"
#include "cm.h"
#include "cm-json.h"
#include "cm-template.h"

/* ---- parse.c: small string helpers shared by the builder ---- */
#define bld_sb cm_tpl_out /* common's growable buffer */
#define bld_sb_add cm_tpl_out_put
int bld_sb_addc(struct bld_sb *b, char c);
/* The string (never NULL unless out of memory); b is reset. */
char *bld_sb_take(struct bld_sb *b);
/* Append s (owned; NULL = -ENOMEM) to the NULL-terminated vector *v. */
int bld_strv_push(char ***v, size_t *n, char *s);
