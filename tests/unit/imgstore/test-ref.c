// SPDX-License-Identifier: MIT
/* Unit tests of image reference parsing (imgstore/ref.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ims.h"

static void norm_ok(const char *in, const char *want)
{
	char *out = NULL;
	struct cm_error e = { 0 };
	int r = ims_ref_normalize(in, &out, &e);
	if (r != 0)
		fail_msg("%s: %s", in, e.msg);
	assert_string_equal(out, want);
	free(out);
}

static void norm_bad(const char *in)
{
	char *out = NULL;
	struct cm_error e = { 0 };
	assert_int_equal(ims_ref_normalize(in, &out, &e), -EINVAL);
	assert_null(out);
	assert_true(e.msg[0] != '\0');
}

static void test_normalize(void **state)
{
	(void)state;
	norm_ok("busybox", "docker.io/library/busybox:latest");
	norm_ok("busybox:1.36", "docker.io/library/busybox:1.36");
	norm_ok("library/busybox", "docker.io/library/busybox:latest");
	norm_ok("docker.io/busybox", "docker.io/library/busybox:latest");
	norm_ok("index.docker.io/library/busybox:x", "docker.io/library/busybox:x");
	norm_ok("user/app:v1.2-rc_3", "docker.io/user/app:v1.2-rc_3");
	norm_ok("localhost/app", "localhost/app:latest");
	norm_ok("localhost:5000/a/b:t", "localhost:5000/a/b:t");
	norm_ok("quay.io/org/my.app__x", "quay.io/org/my.app__x:latest");
	norm_ok("a-b--c", "docker.io/library/a-b--c:latest");
}

static void test_invalid(void **state)
{
	(void)state;
	norm_bad("");
	norm_bad("Busybox");
	norm_bad("busybox:");
	norm_bad("busybox:.bad");
	norm_bad("busybox@sha256:0000");
	norm_bad("a//b");
	norm_bad("a..b");
	norm_bad("-a");
	norm_bad("a_");
	norm_bad("a___b");
	norm_bad("host:port/x");
	norm_bad("bad host/x");
	char big[200];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char tag[220];
	snprintf(tag, sizeof(tag), "x:%s", big);
	norm_bad(tag);
}

static void test_short(void **state)
{
	(void)state;
	assert_string_equal(ims_ref_short("docker.io/library/busybox:latest"), "busybox:latest");
	assert_string_equal(ims_ref_short("docker.io/user/x:1"), "user/x:1");
	assert_string_equal(ims_ref_short("quay.io/a/b:1"), "quay.io/a/b:1");
	assert_int_equal(ims_ref_tag_offset("localhost:5000/a:t"), 16);
	assert_int_equal(ims_ref_tag_offset("localhost:5000/a"), -1);
	assert_int_equal(ims_ref_tag_offset("a:b"), 1);
}

static void test_repo(void **state)
{
	(void)state;
	assert_int_equal(ims_ref_repo_len("localhost:5000/a:t"), 16);
	assert_int_equal(ims_ref_repo_len("localhost:5000/a@sha256:00"), 16);
	assert_int_equal(ims_ref_repo_len("localhost:5000/a"), 16);
	assert_true(ims_ref_same_repo("localhost:5000/a:t", "localhost:5000/a@sha256:00"));
	assert_true(ims_ref_same_repo("docker.io/library/x:1", "docker.io/library/x:2"));
	assert_false(ims_ref_same_repo("localhost:5000/a:t", "localhost:5000/ab@sha256:00"));
	assert_false(ims_ref_same_repo("localhost:5000/ab:t", "localhost:5000/a@sha256:00"));
	assert_false(ims_ref_same_repo("localhost:5001/a:t", "localhost:5000/a:t"));
}

static void test_id_prefix(void **state)
{
	(void)state;
	assert_true(ims_ref_is_id_prefix("0"));
	assert_true(ims_ref_is_id_prefix("503bb1b5e349"));
	assert_false(ims_ref_is_id_prefix(""));
	assert_false(ims_ref_is_id_prefix("busybox"));
	assert_false(ims_ref_is_id_prefix("ABC"));
	char s[66];
	memset(s, 'a', 65);
	s[65] = '\0';
	assert_false(ims_ref_is_id_prefix(s));
	s[64] = '\0';
	assert_true(ims_ref_is_id_prefix(s));
}

static void test_time(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(ims_time_parse("1970-01-01T00:00:10Z"), 10);
	assert_int_equal(ims_time_parse("2024-01-02T03:04:05.123456789Z"), 1704164645);
	assert_int_equal(ims_time_parse("2024-01-02T05:04:05+02:00"), 1704164645);
	assert_int_equal(ims_time_parse("garbage"), 0);
	ims_time_format(1704164645, buf, sizeof(buf));
	assert_string_equal(buf, "2024-01-02T03:04:05Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_repo),
		cmocka_unit_test(test_id_prefix),
		cmocka_unit_test(test_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
