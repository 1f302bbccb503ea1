/* SPDX-License-Identifier: MIT */
/* libarchive, loaded at first use (common/cm-dlopen.h): include this instead of
 * <archive.h> and <archive_entry.h>. A function called here for the first time goes into
 * IMS_LIBARCHIVE_SYMS and gets its #define below. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include "cm-dlopen.h"

#define IMS_LIBARCHIVE_SYMS(X) \
	X(archive_entry_clear) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_gid) \
	X(archive_entry_hardlink) \
	X(archive_entry_mtime) \
	X(archive_entry_mtime_nsec) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_perm) \
	X(archive_entry_rdevmajor) \
	X(archive_entry_rdevminor) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_hardlink) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_rdevmajor) \
	X(archive_entry_set_rdevminor) \
	X(archive_entry_set_size) \
	X(archive_entry_set_symlink) \
	X(archive_entry_set_uid) \
	X(archive_entry_size) \
	X(archive_entry_size_is_set) \
	X(archive_entry_symlink) \
	X(archive_entry_uid) \
	X(archive_entry_xattr_add_entry) \
	X(archive_entry_xattr_next) \
	X(archive_entry_xattr_reset) \
	X(archive_error_string) \
	X(archive_format) \
	X(archive_read_data) \
	X(archive_read_data_block) \
	X(archive_read_free) \
	X(archive_read_header_position) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open) \
	X(archive_read_open_fd) \
	X(archive_read_support_filter_all) \
	X(archive_read_support_format_gnutar) \
	X(archive_read_support_format_raw) \
	X(archive_read_support_format_tar) \
	X(archive_set_error) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open2) \
	X(archive_write_open_fd) \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_bytes_per_block) \
	X(archive_write_set_format_pax_restricted)

IMS_LIBARCHIVE_SYMS(CM_DL_DECLARE)
extern struct cm_dl_lib ims_libarchive;

#define archive_entry_clear CM_DL_SYM(ims_libarchive, archive_entry_clear)
#define archive_entry_filetype CM_DL_SYM(ims_libarchive, archive_entry_filetype)
#define archive_entry_free CM_DL_SYM(ims_libarchive, archive_entry_free)
#define archive_entry_gid CM_DL_SYM(ims_libarchive, archive_entry_gid)
#define archive_entry_hardlink CM_DL_SYM(ims_libarchive, archive_entry_hardlink)
#define archive_entry_mtime CM_DL_SYM(ims_libarchive, archive_entry_mtime)
#define archive_entry_mtime_nsec CM_DL_SYM(ims_libarchive, archive_entry_mtime_nsec)
#define archive_entry_new CM_DL_SYM(ims_libarchive, archive_entry_new)
#define archive_entry_pathname CM_DL_SYM(ims_libarchive, archive_entry_pathname)
#define archive_entry_perm CM_DL_SYM(ims_libarchive, archive_entry_perm)
#define archive_entry_rdevmajor CM_DL_SYM(ims_libarchive, archive_entry_rdevmajor)
#define archive_entry_rdevminor CM_DL_SYM(ims_libarchive, archive_entry_rdevminor)
#define archive_entry_set_filetype CM_DL_SYM(ims_libarchive, archive_entry_set_filetype)
#define archive_entry_set_gid CM_DL_SYM(ims_libarchive, archive_entry_set_gid)
#define archive_entry_set_hardlink CM_DL_SYM(ims_libarchive, archive_entry_set_hardlink)
#define archive_entry_set_mtime CM_DL_SYM(ims_libarchive, archive_entry_set_mtime)
#define archive_entry_set_pathname CM_DL_SYM(ims_libarchive, archive_entry_set_pathname)
#define archive_entry_set_perm CM_DL_SYM(ims_libarchive, archive_entry_set_perm)
#define archive_entry_set_rdevmajor CM_DL_SYM(ims_libarchive, archive_entry_set_rdevmajor)
#define archive_entry_set_rdevminor CM_DL_SYM(ims_libarchive, archive_entry_set_rdevminor)
#define archive_entry_set_size CM_DL_SYM(ims_libarchive, archive_entry_set_size)
#define archive_entry_set_symlink CM_DL_SYM(ims_libarchive, archive_entry_set_symlink)
#define archive_entry_set_uid CM_DL_SYM(ims_libarchive, archive_entry_set_uid)
#define archive_entry_size CM_DL_SYM(ims_libarchive, archive_entry_size)
#define archive_entry_size_is_set CM_DL_SYM(ims_libarchive, archive_entry_size_is_set)
#define archive_entry_symlink CM_DL_SYM(ims_libarchive, archive_entry_symlink)
#define archive_entry_uid CM_DL_SYM(ims_libarchive, archive_entry_uid)
#define archive_entry_xattr_add_entry CM_DL_SYM(ims_libarchive, archive_entry_xattr_add_entry)
#define archive_entry_xattr_next CM_DL_SYM(ims_libarchive, archive_entry_xattr_next)
#define archive_entry_xattr_reset CM_DL_SYM(ims_libarchive, archive_entry_xattr_reset)
#define archive_error_string CM_DL_SYM(ims_libarchive, archive_error_string)
#define archive_format CM_DL_SYM(ims_libarchive, archive_format)
#define archive_read_data CM_DL_SYM(ims_libarchive, archive_read_data)
#define archive_read_data_block CM_DL_SYM(ims_libarchive, archive_read_data_block)
#define archive_read_free CM_DL_SYM(ims_libarchive, archive_read_free)
#define archive_read_header_position CM_DL_SYM(ims_libarchive, archive_read_header_position)
#define archive_read_new CM_DL_SYM(ims_libarchive, archive_read_new)
#define archive_read_next_header CM_DL_SYM(ims_libarchive, archive_read_next_header)
#define archive_read_open CM_DL_SYM(ims_libarchive, archive_read_open)
#define archive_read_open_fd CM_DL_SYM(ims_libarchive, archive_read_open_fd)
#define archive_read_support_filter_all CM_DL_SYM(ims_libarchive, archive_read_support_filter_all)
#define archive_read_support_format_gnutar CM_DL_SYM(ims_libarchive, archive_read_support_format_gnutar)
#define archive_read_support_format_raw CM_DL_SYM(ims_libarchive, archive_read_support_format_raw)
#define archive_read_support_format_tar CM_DL_SYM(ims_libarchive, archive_read_support_format_tar)
#define archive_set_error CM_DL_SYM(ims_libarchive, archive_set_error)
#define archive_write_close CM_DL_SYM(ims_libarchive, archive_write_close)
#define archive_write_data CM_DL_SYM(ims_libarchive, archive_write_data)
#define archive_write_free CM_DL_SYM(ims_libarchive, archive_write_free)
#define archive_write_header CM_DL_SYM(ims_libarchive, archive_write_header)
#define archive_write_new CM_DL_SYM(ims_libarchive, archive_write_new)
#define archive_write_open2 CM_DL_SYM(ims_libarchive, archive_write_open2)
#define archive_write_open_fd CM_DL_SYM(ims_libarchive, archive_write_open_fd)
#define archive_write_set_bytes_in_last_block CM_DL_SYM(ims_libarchive, archive_write_set_bytes_in_last_block)
#define archive_write_set_bytes_per_block CM_DL_SYM(ims_libarchive, archive_write_set_bytes_per_block)
#define archive_write_set_format_pax_restricted CM_DL_SYM(ims_libarchive, archive_write_set_format_pax_restricted)
