/* SPDX-License-Identifier: MIT */
/* libcurl, loaded at first use (common/cm-dlopen.h): include this instead of
 * <curl/curl.h>. A function called here for the first time goes into
 * REG_LIBCURL_SYMS and gets its #define below. */
#pragma once

#include <curl/curl.h>
#include "cm-dlopen.h"

#define REG_LIBCURL_SYMS(X) \
	X(curl_easy_cleanup) \
	X(curl_easy_escape) \
	X(curl_easy_getinfo) \
	X(curl_easy_init) \
	X(curl_easy_perform) \
	X(curl_easy_setopt) \
	X(curl_easy_strerror) \
	X(curl_free) \
	X(curl_global_init) \
	X(curl_multi_add_handle) \
	X(curl_multi_cleanup) \
	X(curl_multi_info_read) \
	X(curl_multi_init) \
	X(curl_multi_perform) \
	X(curl_multi_poll) \
	X(curl_multi_remove_handle) \
	X(curl_slist_append) \
	X(curl_slist_free_all)

REG_LIBCURL_SYMS(CM_DL_DECLARE)
extern struct cm_dl_lib reg_libcurl;

/* curl.h makes these two macros (gcc: typecheck-gcc.h's option/argument
 * check) whose expansion calls the real function by name, which a redirect
 * cannot reach: the pointer's prototype checks handle and option, as for
 * clang, where curl.h has no type check either. */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#define curl_easy_cleanup CM_DL_SYM(reg_libcurl, curl_easy_cleanup)
#define curl_easy_escape CM_DL_SYM(reg_libcurl, curl_easy_escape)
#define curl_easy_getinfo CM_DL_SYM(reg_libcurl, curl_easy_getinfo)
#define curl_easy_init CM_DL_SYM(reg_libcurl, curl_easy_init)
#define curl_easy_perform CM_DL_SYM(reg_libcurl, curl_easy_perform)
#define curl_easy_setopt CM_DL_SYM(reg_libcurl, curl_easy_setopt)
#define curl_easy_strerror CM_DL_SYM(reg_libcurl, curl_easy_strerror)
#define curl_free CM_DL_SYM(reg_libcurl, curl_free)
#define curl_global_init CM_DL_SYM(reg_libcurl, curl_global_init)
#define curl_multi_add_handle CM_DL_SYM(reg_libcurl, curl_multi_add_handle)
#define curl_multi_cleanup CM_DL_SYM(reg_libcurl, curl_multi_cleanup)
#define curl_multi_info_read CM_DL_SYM(reg_libcurl, curl_multi_info_read)
#define curl_multi_init CM_DL_SYM(reg_libcurl, curl_multi_init)
#define curl_multi_perform CM_DL_SYM(reg_libcurl, curl_multi_perform)
#define curl_multi_poll CM_DL_SYM(reg_libcurl, curl_multi_poll)
#define curl_multi_remove_handle CM_DL_SYM(reg_libcurl, curl_multi_remove_handle)
#define curl_slist_append CM_DL_SYM(reg_libcurl, curl_slist_append)
#define curl_slist_free_all CM_DL_SYM(reg_libcurl, curl_slist_free_all)
