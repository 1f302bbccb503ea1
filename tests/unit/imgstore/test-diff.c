// SPDX-License-Identifier: MIT
/* Unit tests of docker diff's classification (imgstore/diff.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include "ims-internal.h"

static struct stat st(mode_t mode, off_t size, time_t mtime)
{
	struct stat s;
	memset(&s, 0, sizeof(s));
	s.st_mode = mode;
	s.st_size = size;
	s.st_mtim.tv_sec = mtime;
	return s;
}

static void test_added(void **state)
{
	(void)state;
	struct stat u = st(S_IFREG | 0644, 1, 10);
	assert_int_equal(ims_diff_classify(&u, NULL, false, 0, false), 'A');
	u = st(S_IFDIR | 0755, 0, 10);
	assert_int_equal(ims_diff_classify(&u, NULL, false, 3, true), 'A');
}

static void test_files(void **state)
{
	(void)state;
	struct stat u = st(S_IFREG | 0644, 5, 10), l = st(S_IFREG | 0644, 5, 10);
	/* an identical copy-up is no change */
	assert_int_equal(ims_diff_classify(&u, &l, true, 0, false), 0);
	/* data differ */
	assert_int_equal(ims_diff_classify(&u, &l, false, 0, false), 'C');
	/* metadata differ */
	u.st_mode = S_IFREG | 0600;
	assert_int_equal(ims_diff_classify(&u, &l, true, 0, false), 'C');
	u = st(S_IFREG | 0644, 5, 11);
	assert_int_equal(ims_diff_classify(&u, &l, true, 0, false), 'C');
	u = st(S_IFREG | 0644, 5, 10);
	u.st_uid = 1000;
	assert_int_equal(ims_diff_classify(&u, &l, true, 0, false), 'C');
	/* type changed */
	u = st(S_IFLNK | 0777, 5, 10);
	assert_int_equal(ims_diff_classify(&u, &l, true, 0, false), 'C');
}

static void test_dirs(void **state)
{
	(void)state;
	struct stat u = st(S_IFDIR | 0755, 0, 10), l = st(S_IFDIR | 0755, 0, 10);
	/* a copied-up parent with nothing left below */
	assert_int_equal(ims_diff_classify(&u, &l, true, 0, false), 0);
	/* parents of changes */
	assert_int_equal(ims_diff_classify(&u, &l, true, 2, false), 'C');
	/* an opaque dir was replaced */
	assert_int_equal(ims_diff_classify(&u, &l, true, 0, true), 'C');
	/* chmod of a dir */
	u.st_mode = S_IFDIR | 0700;
	assert_int_equal(ims_diff_classify(&u, &l, true, 0, false), 'C');
	/* a dir over a file */
	u = st(S_IFDIR | 0755, 0, 10);
	l = st(S_IFREG | 0755, 0, 10);
	assert_int_equal(ims_diff_classify(&u, &l, true, 0, false), 'C');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_added),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_dirs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
