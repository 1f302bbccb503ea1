/* SPDX-License-Identifier: MIT */
/* Optional shared libraries loaded at first use (after systemd's dlopen of
 * its optional libraries). libcurl and libarchive bring 30-odd libraries
 * between them; loading them for every `img run` cost more than the rest of
 * img's start, and only the verbs that pull, push or read a tar need them.
 *
 * A library's header (imgstore/ims-libarchive.h, registry/reg-libcurl.h)
 * includes the real headers, then declares one pointer per function used,
 * typed with typeof of the real prototype, and redirects the function's name
 * to it with an object-like macro:
 *
 *   #define ARCHIVE_SYMS(X) X(archive_read_new) X(archive_read_free) ...
 *   ARCHIVE_SYMS(CM_DL_DECLARE)
 *   extern struct cm_dl_lib ims_libarchive;
 *   #define archive_read_new CM_DL_SYM(ims_libarchive, archive_read_new)
 *
 * so call sites keep their names and the compiler checks every call against
 * the real prototype. The table (CM_DL_DEFINE, CM_DL_ENTRY) lives in one .c
 * file. A name with a redirect but missing from the list does not compile
 * (sym_NAME undeclared); a name used without a redirect does not link (the
 * program is not linked with the library).
 *
 * The first use of any of a library's functions dlopens it by soname and
 * resolves the whole table (RTLD_NOW: a missing symbol shows at once, not in
 * the middle of a pull); it is never closed. A library that cannot be
 * loaded ends the program with one line on stderr and exit 125: the verb
 * that needs it cannot work, and the others never get here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct cm_dl_sym {
	const char *name;
	void **ptr;
};

struct cm_dl_lib {
	const char *soname;          /* "libarchive.so.13" */
	const struct cm_dl_sym *syms;
	size_t nsyms;
	bool loaded;                 /* read with acquire, set with release */
};

/* Load lib and fill its table, or print "PROG: cannot load SONAME: why"
 * and exit 125. Thread-safe; cm_dl_need is the cheap check before it. */
void cm_dl_load(struct cm_dl_lib *lib);

static inline void cm_dl_need(struct cm_dl_lib *lib)
{
	if (!__atomic_load_n(&lib->loaded, __ATOMIC_ACQUIRE))
		cm_dl_load(lib);
}

/* before the redirects: typeof of the real prototype */
#define CM_DL_DECLARE(f) extern typeof(f) *sym_##f;
/* f itself only with # and ##: the table is defined after the redirects */
#define CM_DL_DEFINE(f) typeof(sym_##f) sym_##f;
#define CM_DL_ENTRY(f) { #f, (void **)&sym_##f },
/* The redirect of a function name: load on first use, then its pointer. */
#define CM_DL_SYM(lib, f) (cm_dl_need(&(lib)), sym_##f)
/* A struct cm_dl_lib for the table syms (an array of CM_DL_ENTRY). */
#define CM_DL_LIB(so, syms) { (so), (syms), sizeof(syms) / sizeof((syms)[0]), false }
