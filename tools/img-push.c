// SPDX-License-Identifier: MIT
/* img push (issue 9): libregistry's push with docker's output. */
#include "cm.h"
#include "ims.h"
#include "reg.h"
#include "img-cli.h"
#include "img-pull.h"
#include "img-run.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_push(void *ctx, enum reg_push_event ev, const char *id, int64_t done,
		    int64_t total, const char *from)
{
	bool tty = *(bool *)ctx;
	switch (ev) {
	case REG_PUSH_PREPARING:
		printf("%s: Preparing\n", id);
		break;
	case REG_PUSH_PUSHING:
		if (tty && total > 0)
			printf("\r%s: Pushing %3d%%", id, (int)(100 * done / total));
		break;
	case REG_PUSH_PUSHED:
		printf(tty ? "\r\033[2K%s: Pushed\n" : "%s: Pushed\n", id);
		break;
	case REG_PUSH_EXISTS:
		printf("%s: Layer already exists\n", id);
		break;
	case REG_PUSH_MOUNTED:
		printf("%s: Mounted from %s\n", id, from);
		break;
	}
	fflush(stdout);
}

int img_cmd_push(int argc, char **argv)
{
	struct img_pull_args a = { 0 };
	int c, k;
	while ((c = img_getopt(argc, argv)) != -1)
		if ((k = img_reg_opt(c, &a)) != 0)
			return k < 0 ? 0 : k;
	bool insecure = a.insecure, quiet = a.quiet;
	const char *image = argv[optind];
	const char *dest = optind + 1 < argc ? argv[optind + 1] : image;
	struct cm_error e = { 0 };
	struct reg_ref ref;
	if (reg_ref_parse(dest, &ref, &e) < 0)
		return img_fail("push %s: %s", dest, e.msg);
	__attribute__((cleanup(ims_store_freep))) struct ims_store *s = NULL;
	_cleanup_image_ struct ims_image *img = NULL;
	int rc = 0;
	if (img_open_store(&s, &e) < 0 || ims_image_resolve(s, image, &img, &e) < 0) {
		rc = e.code == -ENOENT ? img_fail("push %s: An image does not exist locally with the tag: %s",
						 dest, image)
				       : img_fail("push %s: %s", dest, e.msg);
		reg_ref_clear(&ref);
		return rc;
	}
	/* mount sources: the image's other repositories on the same registry */
	const char *from[16];
	char fbuf[16][300];
	size_t nf = 0;
	size_t dl = strlen(ref.domain);
	for (size_t i = 0; i < img->n_names && nf < CM_ARRAY_SIZE(from); i++) {
		const char *n = img->names[i];
		int off = ims_ref_tag_offset(n);
		if (strncmp(n, ref.domain, dl) != 0 || n[dl] != '/' || off < 0)
			continue;
		snprintf(fbuf[nf], sizeof(fbuf[nf]), "%.*s", off - (int)dl - 1, n + dl + 1);
		if (strcmp(fbuf[nf], ref.repo) != 0)
			from[nf] = fbuf[nf], nf++;
	}
	_cleanup_free_ char *full = reg_ref_repo_full(&ref);
	bool tty = isatty(1);
	if (!quiet)
		printf("The push refers to repository [%s]\n", full ? ims_ref_short(full) : dest);
	struct reg_push_opts o = { .reg = { .insecure = insecure }, .parallel = a.parallel, .event = quiet ? NULL : on_push,
				   .ctx = &tty };
	struct reg_push_result res;
	if (reg_push(s, img->digest, &ref, from, nf, &o, &res, &e) < 0)
		rc = img_fail("push %s: %s", dest, e.msg);
	else if (quiet)
		printf("%s\n", ref.name ? ref.name : dest);
	else
		printf("%s: digest: %s size: %lld\n", ref.tag ? ref.tag : "latest", res.digest,
		       (long long)res.size);
	reg_ref_clear(&ref);
	return rc;
}
