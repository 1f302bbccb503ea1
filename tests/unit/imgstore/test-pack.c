// SPDX-License-Identifier: MIT
/* Unit tests of the layer tar's entry rules (imgstore/pack.c): which names
 * of a branch become entries, and their order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ims-internal.h"

static void test_keep_layer(void **state)
{
	(void)state;
	assert_true(ims_pack_keep_name("etc", IMS_PACK_LAYER));
	assert_true(ims_pack_keep_name(".wh.ls", IMS_PACK_LAYER));
	assert_true(ims_pack_keep_name(".wh..wh..opq", IMS_PACK_LAYER));
	assert_true(ims_pack_keep_name(".hidden", IMS_PACK_LAYER));
	assert_false(ims_pack_keep_name(".wh..wh.work", IMS_PACK_LAYER));
	assert_false(ims_pack_keep_name(".wh..wh.plnk", IMS_PACK_LAYER));
	assert_false(ims_pack_keep_name(".wh.", IMS_PACK_LAYER));
	assert_false(ims_pack_keep_name(".wh..", IMS_PACK_LAYER));
	assert_false(ims_pack_keep_name(".wh...", IMS_PACK_LAYER));
	assert_false(ims_pack_keep_name(".", IMS_PACK_LAYER));
	assert_false(ims_pack_keep_name("..", IMS_PACK_LAYER));
}

static void test_keep_rootfs(void **state)
{
	(void)state;
	assert_true(ims_pack_keep_name("etc", IMS_PACK_ROOTFS));
	assert_false(ims_pack_keep_name(".wh.ls", IMS_PACK_ROOTFS));
	assert_false(ims_pack_keep_name(".wh..wh..opq", IMS_PACK_ROOTFS));
	assert_false(ims_pack_keep_name(".wh..wh.work", IMS_PACK_ROOTFS));
}

static void test_sort(void **state)
{
	(void)state;
	const char *in[] = { "zeta", ".wh..wh.work", "a-b", ".wh.gone", "A", "a", "..",
			     ".wh..wh..opq", "b", "." };
	const char *want[] = { ".wh..wh..opq", ".wh.gone", "A", "a", "a-b", "b", "zeta" };
	char *v[CM_ARRAY_SIZE(in)];
	for (size_t i = 0; i < CM_ARRAY_SIZE(in); i++)
		v[i] = strdup(in[i]);
	size_t n = ims_pack_sort_names(v, CM_ARRAY_SIZE(in), IMS_PACK_LAYER);
	assert_int_equal(n, CM_ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i], want[i]);
		free(v[i]);
	}
}

static void test_sort_bytes(void **state)
{
	(void)state;
	/* byte order, not the locale's: UTF-8 after ASCII, upper before lower */
	const char *in[] = { "\xc3\xa9t\xc3\xa9", "Z", "z", "_", "0" };
	const char *want[] = { "0", "Z", "_", "z", "\xc3\xa9t\xc3\xa9" };
	char *v[CM_ARRAY_SIZE(in)];
	for (size_t i = 0; i < CM_ARRAY_SIZE(in); i++)
		v[i] = strdup(in[i]);
	size_t n = ims_pack_sort_names(v, CM_ARRAY_SIZE(in), IMS_PACK_ROOTFS);
	assert_int_equal(n, CM_ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i], want[i]);
		free(v[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_layer),
		cmocka_unit_test(test_keep_rootfs),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_sort_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
