/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "cm-dlopen.h"

static pthread_mutex_t cm_dl_lock = PTHREAD_MUTEX_INITIALIZER;

static void cm_dl_fail(const struct cm_dl_lib *lib, const char *why)
{
	fprintf(stderr, "%s: cannot load %s: %s\n", program_invocation_short_name,
		lib->soname, why ? why : "unknown error");
	exit(125);
}

void cm_dl_load(struct cm_dl_lib *lib)
{
	pthread_mutex_lock(&cm_dl_lock);
	if (lib->loaded) {
		pthread_mutex_unlock(&cm_dl_lock);
		return;
	}
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		cm_dl_fail(lib, dlerror());
	for (size_t i = 0; i < lib->nsyms; i++) {
		dlerror();
		void *p = dlsym(h, lib->syms[i].name);
		if (!p) {
			const char *e = dlerror();
			cm_dl_fail(lib, e ? e : lib->syms[i].name);
		}
		*lib->syms[i].ptr = p;
	}
	__atomic_store_n(&lib->loaded, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&cm_dl_lock);
}
