// SPDX-License-Identifier: MIT
/* Unit tests of the JSON reader and writer (common/cm-json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cm-json.h"

static struct cm_json *parse(const char *s)
{
	struct cm_json *j = NULL;
	char err[128];
	int r = cm_json_parse(s, strlen(s), &j, err, sizeof(err));
	if (r != 0)
		fail_msg("parse '%s': %s", s, err);
	return j;
}

static void bad(const char *s)
{
	struct cm_json *j = NULL;
	assert_int_equal(cm_json_parse(s, strlen(s), &j, NULL, 0), -EINVAL);
	assert_null(j);
}

static void test_parse(void **state)
{
	(void)state;
	struct cm_json *j = parse(" {\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\", \"a\": 7} ");
	int64_t v;
	assert_true(cm_json_get_int(j, "a", &v)); /* last duplicate wins */
	assert_int_equal(v, 7);
	assert_string_equal(cm_json_get_str(j, "s"), "x\xc3\xa9\xf0\x9f\x98\x80\n");
	assert_int_equal(j->v[0]->n, 5);
	assert_true(j->v[0]->v[1]->d == -2500.0);
	assert_false(j->v[0]->v[1]->is_int);
	assert_null(cm_json_get(j, "missing"));
	assert_null(cm_json_get_str(j, "a"));
	cm_json_free(j);
}

static void test_bad(void **state)
{
	(void)state;
	bad("");
	bad("{");
	bad("[1,]");
	bad("{\"a\" 1}");
	bad("\"abc");
	bad("\"\\u0000\"");
	bad("\"\\ud800\"");
	bad("01");
	bad("1.");
	bad("tru");
	bad("{} x");
	bad("\"a\tb\"");
	char deep[200];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	bad(deep);
}

static void test_write(void **state)
{
	(void)state;
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kstr(&w, "k", "a\"b\\<>&\x01");
	cm_jw_kint(&w, "n", -5);
	cm_jw_key(&w, "e");
	cm_jw_arr(&w);
	cm_jw_arr_end(&w);
	cm_jw_key(&w, "o");
	cm_jw_obj(&w);
	cm_jw_obj_end(&w);
	cm_jw_obj_end(&w);
	char *out;
	assert_int_equal(cm_jw_finish(&w, &out, NULL), 0);
	assert_string_equal(out, "{\"k\":\"a\\\"b\\\\\\u003c\\u003e\\u0026\\u0001\",\"n\":-5,\"e\":[],\"o\":{}}");
	/* round trip */
	struct cm_json *j = parse(out);
	assert_string_equal(cm_json_get_str(j, "k"), "a\"b\\<>&\x01");
	free(out);
	cm_jw_init(&w, 2);
	cm_jw_value(&w, j);
	assert_int_equal(cm_jw_finish(&w, &out, NULL), 0);
	assert_non_null(strstr(out, "\n  \"n\": -5,\n"));
	free(out);
	cm_json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
