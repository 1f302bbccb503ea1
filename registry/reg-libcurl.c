/* SPDX-License-Identifier: MIT */
#include "reg-libcurl.h"

REG_LIBCURL_SYMS(CM_DL_DEFINE)

static const struct cm_dl_sym reg_libcurl_syms[] = {
	REG_LIBCURL_SYMS(CM_DL_ENTRY)
};

struct cm_dl_lib reg_libcurl = CM_DL_LIB("libcurl.so.4", reg_libcurl_syms);
