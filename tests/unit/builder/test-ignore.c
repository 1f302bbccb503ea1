// SPDX-License-Identifier: MIT
/* Unit tests of .dockerignore rules and the glob match (builder/ignore.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bld.h"

static void test_match(void **state)
{
	(void)state;
	assert_true(bld_match("*.txt", "a.txt"));
	assert_false(bld_match("*.txt", "d/a.txt"));
	assert_true(bld_match("*/a.txt", "d/a.txt"));
	assert_true(bld_match("**/a.txt", "a.txt"));
	assert_true(bld_match("**/a.txt", "x/y/a.txt"));
	assert_true(bld_match("x/**", "x/y/z"));
	assert_true(bld_match("x/**/z", "x/z"));
	assert_true(bld_match("x/**/z", "x/a/b/z"));
	assert_false(bld_match("x/**/z", "y/a/z"));
	assert_true(bld_match("**", "anything/at/all"));
	assert_true(bld_match("a?c", "abc"));
	assert_false(bld_match("a?c", "a/c"));
	assert_true(bld_match("[a-c]x", "bx"));
	assert_false(bld_match("[a-c]x", "dx"));
	assert_true(bld_match("[^a-c]x", "dx"));
	assert_true(bld_match("a\\*", "a*"));
	assert_false(bld_match("a\\*", "ab"));
	assert_false(bld_match("[ab", "a"));
	assert_true(bld_match("", ""));
}

static struct bld_ignore parse(const char *text)
{
	struct bld_ignore ig;
	assert_int_equal(bld_ignore_parse(text, strlen(text), &ig), 0);
	return ig;
}

static void test_rules(void **state)
{
	(void)state;
	struct bld_ignore ig = parse("# comment\n\n  *.log  \n/build/\n./tmp//x\n!keep.log\n"
				     "docs\n!docs/README.md\n**/*.o\n");
	assert_int_equal(ig.n, 7);
	assert_string_equal(ig.v[1].pat, "build");
	assert_string_equal(ig.v[2].pat, "tmp/x");
	assert_true(ig.v[3].negate);
	assert_true(bld_ignore_match(&ig, "a.log"));
	assert_false(bld_ignore_match(&ig, "keep.log"));
	assert_false(bld_ignore_match(&ig, "sub/a.log"));
	assert_true(bld_ignore_match(&ig, "build"));
	assert_true(bld_ignore_match(&ig, "build/out/x"));
	assert_true(bld_ignore_match(&ig, "tmp/x/y"));
	assert_false(bld_ignore_match(&ig, "tmp/y"));
	assert_true(bld_ignore_match(&ig, "docs/a.md"));
	assert_false(bld_ignore_match(&ig, "docs/README.md"));
	assert_true(bld_ignore_match(&ig, "x/y/z.o"));
	assert_true(bld_ignore_match(&ig, "z.o"));
	assert_false(bld_ignore_match(&ig, "src/main.c"));
	assert_true(bld_ignore_has_exceptions(&ig));
	bld_ignore_free(&ig);
	ig = parse("a/../b\n..\n");
	assert_string_equal(ig.v[0].pat, "b");
	assert_string_equal(ig.v[1].pat, ".");
	assert_false(bld_ignore_has_exceptions(&ig));
	bld_ignore_free(&ig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
