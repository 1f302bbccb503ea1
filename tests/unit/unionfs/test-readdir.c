// SPDX-License-Identifier: MIT
/* Unit tests of the whiteout rules in lookup (lookup.c) and the merged
 * listing (readdir.c), on plain directories: no mount, no privilege. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ufs-internal.h"

static char tmp[256];

static void mk(const char *rel, bool dir)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	if (dir) {
		assert_int_equal(mkdir(p, 0755), 0);
	} else {
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
}

static struct ufs_config cfg;
static struct ufs_fs *fs;

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ufs-unit-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	/* A (rw) over B over C */
	const char *dirs[] = { "A", "B", "C", "mnt", "B/d", "C/d", "C/op", "B/op",
			       "C/wd", "A/sub", "C/sub",
			       "A/.wh..wh.work" /* private work dir, never listed */ };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++)
		mk(dirs[i], true);
	const char *files[] = {
		"A/top", "B/top", "C/top",      /* topmost wins */
		"C/gone", "B/.wh.gone",         /* hidden below B */
		"B/same", "B/.wh.same",         /* same-branch name stays visible */
		"C/same",
		"B/d/b1", "C/d/c1", "C/d/b1",   /* merged dir */
		"C/op/hidden", "B/op/.wh..wh..opq", "B/op/vis", /* opaque */
		"C/wd/x", "B/.wh.wd",           /* whited-out dir */
		"C/sub/c", "A/sub/.wh.c",       /* whiteout inside a merged dir */
		"B/.wh.",                       /* invalid whiteout: ignored */
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		mk(files[i], false);

	char opts[1024], err[512] = "";
	ufs_config_init(&cfg);
	snprintf(opts, sizeof(opts), "dirs=%s/A:%s/B:%s/C", tmp, tmp, tmp);
	if (ufs_config_parse_opts(&cfg, opts, err, sizeof(err)) < 0)
		return -1;
	char m[300];
	snprintf(m, sizeof(m), "%s/mnt", tmp);
	cfg.mountpoint = strdup(m);
	if (ufs_config_validate(&cfg, err, sizeof(err)) < 0)
		return -1;
	fs = ufs_fs_new(&cfg, err, sizeof(err));
	return fs ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ufs_fs_free(fs);
	ufs_config_clear(&cfg);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static int resolve(struct ufs_node *dir, const char *name, struct ufs_res *res)
{
	return ufs_resolve(fs, dir, name, 0, res);
}

static void test_lookup_rules(void **state)
{
	(void)state;
	struct ufs_res res;
	assert_int_equal(resolve(fs->root, "top", &res), 0);
	assert_int_equal(res.branch, 0);
	assert_int_equal(resolve(fs->root, "gone", &res), -ENOENT);
	assert_int_equal(resolve(fs->root, "same", &res), 0);
	assert_int_equal(res.branch, 1);
	assert_int_equal(resolve(fs->root, "d", &res), 0);
	assert_int_equal(res.branch, 1);
	assert_int_equal(res.mask, 0x6);
	assert_int_equal(resolve(fs->root, "op", &res), 0);
	assert_int_equal(res.mask, 0x2); /* opaque in B: C does not merge */
	assert_int_equal(resolve(fs->root, "wd", &res), -ENOENT);
	assert_int_equal(resolve(fs->root, ".wh.gone", &res), -ENOENT);
	assert_int_equal(resolve(fs->root, ".wh..wh.work", &res), -ENOENT);
	assert_int_equal(resolve(fs->root, "absent", &res), -ENOENT);
}

static bool has(const struct ufs_dirlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(ufs_dirent_name(l, &l->ents[i]), name) == 0)
			return true;
	return false;
}

static struct ufs_node *get(struct ufs_node *dir, const char *name)
{
	struct ufs_res res;
	assert_int_equal(resolve(dir, name, &res), 0);
	struct ufs_node *n = ufs_node_get(fs, dir, name, &res);
	assert_non_null(n);
	return n;
}

static void test_merge(void **state)
{
	(void)state;
	struct ufs_dirlist l;
	assert_int_equal(ufs_dirlist_build(fs, fs->root, &l), 0);
	/* top, same, d, op, sub: each once; no gone, wd, or .wh.* names */
	assert_int_equal(l.n, 5);
	assert_true(has(&l, "top") && has(&l, "same") && has(&l, "d") && has(&l, "op") &&
		    has(&l, "sub"));
	ufs_dirlist_free(&l);

	struct ufs_node *d = get(fs->root, "d");
	assert_int_equal(ufs_dirlist_build(fs, d, &l), 0);
	assert_int_equal(l.n, 2); /* b1 once, c1 */
	assert_true(has(&l, "b1") && has(&l, "c1"));
	ufs_dirlist_free(&l);
	ufs_node_forget(fs, d, 1);

	struct ufs_node *op = get(fs->root, "op");
	assert_int_equal(ufs_dirlist_build(fs, op, &l), 0);
	assert_int_equal(l.n, 1);
	assert_true(has(&l, "vis"));
	ufs_dirlist_free(&l);
	ufs_node_forget(fs, op, 1);

	struct ufs_node *sub = get(fs->root, "sub");
	assert_int_equal(ufs_dirlist_build(fs, sub, &l), 0);
	assert_int_equal(l.n, 0);
	ufs_dirlist_free(&l);
	ufs_node_forget(fs, sub, 1);
}

static void test_node_identity(void **state)
{
	(void)state;
	struct ufs_node *a = get(fs->root, "top");
	struct ufs_node *b = get(fs->root, "top");
	assert_ptr_equal(a, b); /* one node per object, counted twice */
	struct stat st;
	assert_int_equal(ufs_node_stat(fs, a, &st), 0);
	assert_int_equal(st.st_ino, a->ino);
	ufs_node_forget(fs, a, 2);
	/* lower objects get the branch in the top byte of st_ino */
	struct ufs_node *c = get(fs->root, "same");
	assert_int_equal(c->ino >> 56, 1);
	ufs_node_forget(fs, c, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_rules),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_node_identity),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
