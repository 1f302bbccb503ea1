/* SPDX-License-Identifier: MIT */
#include "ims-libarchive.h"

IMS_LIBARCHIVE_SYMS(CM_DL_DEFINE)

static const struct cm_dl_sym ims_libarchive_syms[] = {
	IMS_LIBARCHIVE_SYMS(CM_DL_ENTRY)
};

struct cm_dl_lib ims_libarchive = CM_DL_LIB("libarchive.so.13", ims_libarchive_syms);
