/* SPDX-License-Identifier: MIT */
#include "ims-libisal.h"

IMS_LIBISAL_SYMS(CM_DL_DEFINE)

static const struct cm_dl_sym ims_libisal_syms[] = {
	IMS_LIBISAL_SYMS(CM_DL_ENTRY)
};

struct cm_dl_lib ims_libisal = CM_DL_LIB("libisal.so.2", ims_libisal_syms);
