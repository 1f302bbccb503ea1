// SPDX-License-Identifier: MIT
/* Unit tests of the archive path rules (imgstore/path.c) and digest
 * validation (common/cm-hash.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "ims-internal.h"

static void clean_ok(const char *in, const char *want)
{
	char out[PATH_MAX];
	assert_int_equal(ims_path_clean(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_clean(void **state)
{
	(void)state;
	clean_ok("a/b", "a/b");
	clean_ok("./a/b/", "a/b");
	clean_ok("/etc/passwd", "etc/passwd");
	clean_ok("//a//./b/.", "a/b");
	clean_ok(".", "");
	clean_ok("/", "");
	clean_ok("./", "");
	clean_ok("...", "...");
	clean_ok("a/..b", "a/..b");
	clean_ok(".wh..wh..opq", ".wh..wh..opq");
}

static void test_escape(void **state)
{
	(void)state;
	char out[PATH_MAX];
	assert_int_equal(ims_path_clean("..", out, sizeof(out)), -EINVAL);
	assert_int_equal(ims_path_clean("../etc/passwd", out, sizeof(out)), -EINVAL);
	assert_int_equal(ims_path_clean("a/../../b", out, sizeof(out)), -EINVAL);
	assert_int_equal(ims_path_clean("a/b/..", out, sizeof(out)), -EINVAL);
	assert_int_equal(ims_path_clean("/../x", out, sizeof(out)), -EINVAL);
}

static void test_long(void **state)
{
	(void)state;
	char in[NAME_MAX + 3], out[16];
	memset(in, 'x', NAME_MAX + 1);
	in[NAME_MAX + 1] = '\0';
	char big[PATH_MAX];
	assert_int_equal(ims_path_clean(in, big, sizeof(big)), -ENAMETOOLONG);
	assert_int_equal(ims_path_clean("aaaa/bbbb/cccc/dddd", out, sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(ims_path_clean("aaaa/bbbb/ccc", out, sizeof(out)), 0);
}

static void test_digest(void **state)
{
	(void)state;
	char d[CM_DIGEST_STR_LEN];
	assert_int_equal(cm_sha256_buf("", 0, d), 0);
	assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_true(cm_digest_valid(d));
	assert_false(cm_digest_valid(NULL));
	assert_false(cm_digest_valid("sha256:"));
	assert_false(cm_digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	assert_false(cm_digest_valid("sha256:E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	assert_false(cm_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
	assert_false(cm_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855/"));
	assert_false(cm_digest_valid("sha256:../../../../etc/passwd000000000000000000000000000000000000000"));
	assert_true(cm_xxh3("a", 1) != cm_xxh3("b", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
