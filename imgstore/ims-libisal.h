/* SPDX-License-Identifier: MIT */
/* ISA-L's igzip inflate, loaded at first use (common/cm-dlopen.h), like
 * libarchive: only the verbs that read a gzip layer map it. */
#pragma once

#include <isa-l/igzip_lib.h>
#include "cm-dlopen.h"

#define IMS_LIBISAL_SYMS(X) \
	X(isal_inflate) \
	X(isal_inflate_init) \
	X(isal_inflate_reset)

IMS_LIBISAL_SYMS(CM_DL_DECLARE)
extern struct cm_dl_lib ims_libisal;

#define isal_inflate CM_DL_SYM(ims_libisal, isal_inflate)
#define isal_inflate_init CM_DL_SYM(ims_libisal, isal_inflate_init)
#define isal_inflate_reset CM_DL_SYM(ims_libisal, isal_inflate_reset)
