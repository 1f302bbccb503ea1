// SPDX-License-Identifier: MIT
/* Unit tests of the whiteout name rules (common/cm-whiteout.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
