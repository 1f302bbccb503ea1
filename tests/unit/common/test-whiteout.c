// SPDX-License-Identifier: MIT
/* Unit tests of the whiteout rules and their two encodings
 * (common/cm-whiteout.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cm-whiteout.h"

static void test_classify(void **state)
{
	(void)state;
	const char *t = NULL;
	assert_int_equal(cm_wh_classify("file", &t), CM_WH_NONE);
	assert_int_equal(cm_wh_classify(".whatever", &t), CM_WH_NONE);
	assert_int_equal(cm_wh_classify(".wh", &t), CM_WH_NONE);
	assert_int_equal(cm_wh_classify(".wh.file", &t), CM_WH_FILE);
	assert_string_equal(t, "file");
	assert_int_equal(cm_wh_classify(".wh..hidden", &t), CM_WH_FILE);
	assert_string_equal(t, ".hidden");
	assert_int_equal(cm_wh_classify(".wh..wh..opq", &t), CM_WH_OPQ);
	assert_int_equal(cm_wh_classify(".wh..wh.work", &t), CM_WH_META);
	assert_int_equal(cm_wh_classify(".wh..wh.plnk", &t), CM_WH_META);
}

static void test_invalid(void **state)
{
	(void)state;
	/* SECURITY.md: ".wh." alone, ".wh..", ".wh..." are invalid */
	assert_int_equal(cm_wh_classify(".wh.", NULL), CM_WH_INVALID);
	assert_int_equal(cm_wh_classify(".wh..", NULL), CM_WH_INVALID);
	assert_int_equal(cm_wh_classify(".wh...", NULL), CM_WH_INVALID);
	assert_int_equal(cm_wh_classify(".wh.a/b", NULL), CM_WH_INVALID);
}

static void test_reserved(void **state)
{
	(void)state;
	assert_true(cm_wh_is_reserved(".wh.x"));
	assert_true(cm_wh_is_reserved(".wh."));
	assert_false(cm_wh_is_reserved(".wh"));
	assert_false(cm_wh_is_reserved("x.wh.x"));
}

static void test_name(void **state)
{
	(void)state;
	char buf[NAME_MAX + 1];
	assert_int_equal(cm_wh_name(buf, sizeof(buf), "abc"), 0);
	assert_string_equal(buf, ".wh.abc");
	char big[NAME_MAX + 1];
	memset(big, 'a', NAME_MAX - 4);
	big[NAME_MAX - 4] = '\0';
	assert_int_equal(cm_wh_name(buf, sizeof(buf), big), 0);
	assert_int_equal(strlen(buf), NAME_MAX);
	memset(big, 'a', NAME_MAX - 3);
	big[NAME_MAX - 3] = '\0';
	assert_int_equal(cm_wh_name(buf, sizeof(buf), big), -ENAMETOOLONG);
	char small[6];
	assert_int_equal(cm_wh_name(small, sizeof(small), "ab"), -ENAMETOOLONG);
}

/* ---- the encodings, on a temp dir (user.* xattrs: no privilege) ---- */

static char tmp[64];
static int dfd = -1, wfd = -1;

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ufs-unit-wh-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	char p[128];
	snprintf(p, sizeof(p), "%s/work", tmp);
	if (mkdir(p, 0700) < 0)
		return -1;
	dfd = open(tmp, O_PATH | O_DIRECTORY);
	wfd = open(p, O_PATH | O_DIRECTORY);
	return dfd < 0 || wfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	close(dfd);
	close(wfd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void touch(const char *name)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "data", 4), 4);
	close(fd);
}

static bool is_wh_object(enum cm_wh_format f, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       cm_wh_is_object(f, dfd, name, &st) > 0;
}

static void test_aufs_make(void **state)
{
	(void)state;
	struct cm_wh_enc e = { .fmt = CM_WH_FMT_AUFS };
	char old[64];
	touch("a");
	assert_int_equal(cm_wh_make(&e, dfd, "a", wfd, old, sizeof(old)), 1);
	assert_string_equal(old, "");
	assert_int_equal(cm_wh_beside(dfd, "a"), 1);
	assert_int_equal(faccessat(dfd, "a", F_OK, 0), 0); /* NAME left alone */
	assert_int_equal(cm_wh_make(&e, dfd, "a", wfd, old, sizeof(old)), 0);
	assert_false(is_wh_object(CM_WH_FMT_AUFS, ".wh.a"));
	assert_int_equal(mkdirat(dfd, "d", 0755), 0);
	assert_int_equal(cm_wh_opaque_at(CM_WH_FMT_AUFS, dfd, "d"), 0);
	int d = openat(dfd, "d", O_PATH | O_DIRECTORY);
	assert_int_equal(cm_wh_set_opaque(&e, d), 0);
	close(d);
	assert_int_equal(faccessat(dfd, "d/" CM_WH_OPAQUE, F_OK, 0), 0);
	assert_int_equal(cm_wh_opaque_at(CM_WH_FMT_AUFS, dfd, "d"), 1);
}

static void test_overlay_make(void **state)
{
	(void)state;
	struct cm_wh_enc e = { .fmt = CM_WH_FMT_OVERLAY, .user_xattr = true };
	char old[64];
	/* a new name: a 0/0 char device of that name */
	assert_int_equal(cm_wh_make(&e, dfd, "n", wfd, old, sizeof(old)), 1);
	assert_string_equal(old, "");
	struct stat st;
	assert_int_equal(fstatat(dfd, "n", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	assert_true(is_wh_object(CM_WH_FMT_OVERLAY, "n"));
	assert_false(is_wh_object(CM_WH_FMT_AUFS, "n")); /* AUFS: just a device */
	assert_int_equal(cm_wh_make(&e, dfd, "n", wfd, old, sizeof(old)), 0);
	/* over an object: exchanged into the work dir, named in old */
	touch("f");
	assert_int_equal(cm_wh_make(&e, dfd, "f", wfd, old, sizeof(old)), 1);
	assert_true(is_wh_object(CM_WH_FMT_OVERLAY, "f"));
	assert_string_not_equal(old, "");
	assert_int_equal(fstatat(wfd, old, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(unlinkat(wfd, old, 0), 0);
	/* a real device is no whiteout */
	assert_false(cm_wh_xattr_is_private("user.foo"));
	assert_true(cm_wh_xattr_is_private("trusted.overlay.opaque"));
	assert_true(cm_wh_xattr_is_private("user.overlay.whiteout"));
	assert_true(cm_wh_xattr_is_private("user.fuseoverlayfs.opaque"));
	/* opaque by xattr (user.overlay.opaque here), and .wh..wh..opq read too */
	assert_int_equal(mkdirat(dfd, "o", 0755), 0);
	int d = openat(dfd, "o", O_PATH | O_DIRECTORY);
	assert_int_equal(cm_wh_set_opaque(&e, d), 0);
	close(d);
	char p[128], v[8];
	snprintf(p, sizeof(p), "%s/o", tmp);
	assert_int_equal(lgetxattr(p, "user.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	assert_int_not_equal(faccessat(dfd, "o/" CM_WH_OPAQUE, F_OK, 0), 0);
	assert_int_equal(cm_wh_opaque_at(CM_WH_FMT_OVERLAY, dfd, "o"), 1);
	assert_int_equal(cm_wh_opaque_at(CM_WH_FMT_AUFS, dfd, "o"), 0);
}

static void test_overlay_xwhiteout(void **state)
{
	(void)state;
	struct cm_wh_enc e = { .fmt = CM_WH_FMT_OVERLAY, .user_xattr = true, .no_mknod = true };
	char old[64];
	assert_int_equal(mkdirat(dfd, "x", 0755), 0);
	int d = openat(dfd, "x", O_PATH | O_DIRECTORY);
	assert_false(cm_wh_dir_has_xwhiteouts(d));
	assert_int_equal(cm_wh_make(&e, d, "gone", wfd, old, sizeof(old)), 1);
	struct stat st;
	assert_int_equal(fstatat(d, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 0);
	assert_true(cm_wh_dir_has_xwhiteouts(d));
	assert_int_equal(cm_wh_is_object(CM_WH_FMT_OVERLAY, d, "gone", &st), 1);
	assert_int_equal(cm_wh_opaque_at(CM_WH_FMT_OVERLAY, dfd, "x"), 0); /* "x" is not opaque */
	close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_name),
		cmocka_unit_test_setup_teardown(test_aufs_make, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_make, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_xwhiteout, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
