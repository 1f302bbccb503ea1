// SPDX-License-Identifier: MIT
/* img-monitor BUNDLE SYNCFD attach|detach: the small per-container monitor
 * (librunner's run_monitor_main), exec'd by img before any container
 * namespace exists; never run from inside a container. An --rm container is
 * removed here once it exited (runner state, then the store's container:
 * the store root comes from $IMG_ROOT, set by img). */
#include "ims.h"
#include "run.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc != 4)
		return RUN_EXIT_IMG;
	int fd = atoi(argv[2]);
	if (fd < 3)
		return RUN_EXIT_IMG;
	int code = run_monitor_main(argv[1], fd, strcmp(argv[3], "attach") == 0);
	struct run_config *c = NULL;
	if (run_config_read(argv[1], &c, NULL) == 0 && c->autoremove) {
		struct ims_store *s = NULL;
		(void)run_container_remove(argv[1], true, NULL);
		if (ims_store_open(NULL, &s, NULL) == 0) {
			(void)ims_container_remove(s, c->id, true, NULL);
			ims_store_free(s);
		}
	}
	run_config_free(c);
	return code;
}
