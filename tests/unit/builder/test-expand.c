// SPDX-License-Identifier: MIT
/* Unit tests of word expansion and KEY=VALUE pairs (builder/expand.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bld.h"

static const char *lookup(void *ctx, const char *name, size_t len)
{
	static const char *const vars[][2] = {
		{ "A", "apple" }, { "EMPTY", "" }, { "SP", "two words" }, { "P", "/usr/bin" },
	};
	(void)ctx;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i][0]) == len && strncmp(vars[i][0], name, len) == 0)
			return vars[i][1];
	return NULL;
}

static void word_is(const char *in, const char *want)
{
	char *out = NULL;
	struct cm_error e = { 0 };
	if (bld_expand_word(in, '\\', lookup, NULL, &out, &e) < 0)
		fail_msg("%s: %s", in, e.msg);
	if (strcmp(out, want) != 0)
		fail_msg("'%s' -> '%s', wanted '%s'", in, out, want);
	free(out);
}

static void word_bad(const char *in, const char *want)
{
	char *out = NULL;
	struct cm_error e = { 0 };
	assert_int_equal(bld_expand_word(in, '\\', lookup, NULL, &out, &e), -EINVAL);
	if (!strstr(e.msg, want))
		fail_msg("'%s': error '%s' lacks '%s'", in, e.msg, want);
}

static void test_vars(void **state)
{
	(void)state;
	word_is("$A", "apple");
	word_is("${A}pie", "applepie");
	word_is("$Apie", "");
	word_is("x$NOPE-y", "x-y");
	word_is("${NOPE:-def}", "def");
	word_is("${EMPTY:-def}", "def");
	word_is("${EMPTY-def}", "");
	word_is("${NOPE-def}", "def");
	word_is("${A:-def}", "apple");
	word_is("${A:+alt}", "alt");
	word_is("${EMPTY:+alt}", "");
	word_is("${EMPTY+alt}", "alt");
	word_is("${NOPE:+alt}", "");
	word_is("${NOPE:-${A}/x}", "apple/x");
	word_is("${NOPE:-'a b'}", "a b");
	word_is("$", "$");
	word_is("a$ b", "a$ b");
	word_is("${P}:/bin", "/usr/bin:/bin");
	word_bad("${NOPE:?must be set}", "NOPE: must be set");
	word_bad("${A", "missing '}'");
	word_bad("${A%x}", "unsupported modifier");
	word_bad("${}", "bad substitution");
}

static void test_quotes(void **state)
{
	(void)state;
	word_is("'$A'", "$A");
	word_is("\"$A\"", "apple");
	word_is("\"a \\\"q\\\" \\$A \\x\"", "a \"q\" $A \\x");
	word_is("\\$A", "$A");
	word_is("a\\ b", "a b");
	word_is("'it''s'", "its");
	word_bad("'open", "single-quote");
	word_bad("\"open", "double-quote");
	char *out;
	struct cm_error e = { 0 };
	assert_int_equal(bld_expand_word("`$A", '`', lookup, NULL, &out, &e), 0);
	assert_string_equal(out, "$A");
	free(out);
}

static void test_split(void **state)
{
	(void)state;
	char **w;
	size_t n;
	struct cm_error e = { 0 };
	assert_int_equal(bld_expand("  a \"b c\" '$A' $A $SP \"$SP\" ''", '\\', true, lookup, NULL,
				    &w, &n, &e), 0);
	assert_int_equal(n, 8);
	assert_string_equal(w[0], "a");
	assert_string_equal(w[1], "b c");
	assert_string_equal(w[2], "$A");
	assert_string_equal(w[3], "apple");
	assert_string_equal(w[4], "two");
	assert_string_equal(w[5], "words");
	assert_string_equal(w[6], "two words");
	assert_string_equal(w[7], "");
	assert_null(w[8]);
	bld_strv_free(w);
	assert_int_equal(bld_expand("   ", '\\', true, lookup, NULL, &w, &n, &e), 0);
	assert_int_equal(n, 0);
	bld_strv_free(w);
}

static void test_pairs(void **state)
{
	(void)state;
	char **k, **v;
	size_t n;
	struct cm_error e = { 0 };
	assert_int_equal(bld_parse_pairs("X=1 Y=\"a b\" Z=$A W=", '\\', true, false, lookup, NULL,
					 &k, &v, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(k[1], "Y");
	assert_string_equal(v[1], "a b");
	assert_string_equal(v[2], "apple");
	assert_string_equal(v[3], "");
	bld_strv_free(k);
	bld_strv_freen(v, n);
	/* legacy ENV K value words */
	assert_int_equal(bld_parse_pairs("K  one  $A two", '\\', true, false, lookup, NULL, &k, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(k[0], "K");
	assert_string_equal(v[0], "one  apple two");
	bld_strv_free(k);
	bld_strv_freen(v, n);
	/* ARG NAME: no value */
	assert_int_equal(bld_parse_pairs("NAME", '\\', false, true, lookup, NULL, &k, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_null(v[0]);
	bld_strv_free(k);
	bld_strv_freen(v, n);
	assert_int_equal(bld_parse_pairs("a=1 b", '\\', false, false, lookup, NULL, &k, &v, &n, &e), -EINVAL);
	assert_int_equal(bld_parse_pairs("=1", '\\', false, false, lookup, NULL, &k, &v, &n, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vars),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_pairs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
