// SPDX-License-Identifier: MIT
/* Unit tests of branch parsing and validation (unionfs/branch.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ufs.h"

static char tmp[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/ufs-unit-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	const char *dirs[] = { "A", "B", "C", "mnt", "A/sub" };
	char p[512];
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmp, dirs[i]);
		if (mkdir(p, 0755) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/file", tmp);
	FILE *f = fopen(p, "w");
	if (!f)
		return -1;
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static int parse(struct ufs_config *c, const char *opts, char *err)
{
	ufs_config_init(c);
	return ufs_config_parse_opts(c, opts, err, 512);
}

static void test_modes_default(void **state)
{
	(void)state;
	struct ufs_config c;
	char err[512] = "";
	assert_int_equal(parse(&c, "dirs=/a:/b=ro:/c=rr:/d", err), 0);
	assert_int_equal(c.nbranch, 4);
	assert_string_equal(c.branches[0].path, "/a");
	assert_int_equal(c.branches[0].mode, UFS_BR_RW);
	assert_int_equal(c.branches[1].mode, UFS_BR_RO);
	assert_int_equal(c.branches[2].mode, UFS_BR_RR);
	assert_int_equal(c.branches[3].mode, UFS_BR_RO);
	ufs_config_clear(&c);
}

static void test_bad_mode_and_empty(void **state)
{
	(void)state;
	struct ufs_config c;
	char err[512] = "";
	assert_int_equal(parse(&c, "dirs=/a=rw:/b=xx", err), -EINVAL);
	assert_non_null(strstr(err, "branch '/b'"));
	assert_non_null(strstr(err, "bad mode 'xx'"));
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "dirs=/a::/b", err), -EINVAL);
	assert_non_null(strstr(err, "empty branch"));
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "dirs=", err), -EINVAL);
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "dirs=/a,dirs=/b", err), -EINVAL);
	ufs_config_clear(&c);
}

static void test_options(void **state)
{
	(void)state;
	struct ufs_config c;
	char err[512] = "";
	assert_int_equal(parse(&c, "dirs=/a,allow_other,noatime,fsname=x,nofsync,entry_timeout=2.5", err), 0);
	assert_string_equal(c.fuse_opts, "allow_other,noatime,fsname=x");
	assert_false(c.copyup_fsync);
	assert_true(c.entry_timeout == 2.5);
	assert_false(c.allow_idmap);
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "dirs=/a,allow_idmap", err), 0);
	assert_true(c.allow_idmap);
	assert_true(!c.fuse_opts || !*c.fuse_opts); /* ours, not the kernel's */
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "dirs=/a,bogus", err), -EINVAL);
	assert_non_null(strstr(err, "unknown option 'bogus'"));
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "dirs=/a,auto_unmount", err), -EINVAL);
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "dirs=/a,attr_timeout=-1", err), -EINVAL);
	ufs_config_clear(&c);
}

static int validate(const char *dirs, const char *mnt, char *err)
{
	struct ufs_config c;
	char opt[1024];
	snprintf(opt, sizeof(opt), "dirs=%s", dirs);
	int r = parse(&c, opt, err);
	if (r == 0) {
		c.mountpoint = strdup(mnt);
		r = ufs_config_validate(&c, err, 512);
	}
	ufs_config_clear(&c);
	return r;
}

static void test_validate(void **state)
{
	(void)state;
	char d[1024], m[300], err[512];
	snprintf(m, sizeof(m), "%s/mnt", tmp);
	snprintf(d, sizeof(d), "%s/A:%s/B:%s/C", tmp, tmp, tmp);
	assert_int_equal(validate(d, m, err), 0);

	snprintf(d, sizeof(d), "%s/A:%s/missing", tmp, tmp);
	assert_true(validate(d, m, err) < 0);
	assert_non_null(strstr(err, "missing"));

	snprintf(d, sizeof(d), "%s/A:%s/file", tmp, tmp);
	assert_int_equal(validate(d, m, err), -ENOTDIR);
	assert_non_null(strstr(err, "not a directory"));

	snprintf(d, sizeof(d), "%s/A:%s/A/sub", tmp, tmp);
	assert_int_equal(validate(d, m, err), -EINVAL);
	assert_non_null(strstr(err, "overlaps"));

	snprintf(d, sizeof(d), "%s/A:%s/B", tmp, tmp);
	char m2[300];
	snprintf(m2, sizeof(m2), "%s/A/sub", tmp);
	assert_int_equal(validate(d, m2, err), -EINVAL);
	assert_non_null(strstr(err, "mountpoint"));

	snprintf(d, sizeof(d), "%s/A=rw:%s/B=rw", tmp, tmp);
	assert_int_equal(validate(d, m, err), -EINVAL);
	assert_non_null(strstr(err, "only one rw"));

	snprintf(d, sizeof(d), "%s/A=ro:%s/B=rw", tmp, tmp);
	assert_int_equal(validate(d, m, err), -EINVAL);
	assert_non_null(strstr(err, "must be the first"));

	snprintf(d, sizeof(d), "%s/A=ro:%s/B=ro", tmp, tmp);
	assert_int_equal(validate(d, m, err), 0); /* read-only union */
}

/* the overlay syntax (unionfs/ovlopts.c) */
static void test_overlay_opts(void **state)
{
	(void)state;
	struct ufs_config c;
	char err[512] = "", p[2048], m[300];
	snprintf(p, sizeof(p), "lowerdir=%s/B:%s/C,upperdir=%s/A,workdir=%s/W,"
		 "uidmapping=0:100000:65536:65536:1000:1,squash_to_gid=7,volatile,noacl,"
		 "redirect_dir=off,context=\"system_u:object_r:container_file_t:s0\",", tmp, tmp, tmp, tmp);
	assert_int_equal(parse(&c, p, err), 0);
	assert_true(c.overlay);
	assert_true(c.fsync_off);
	assert_false(c.copyup_fsync);
	assert_int_equal(c.uidmap.n, 2);
	assert_int_equal(c.uidmap.r[1].disk, 65536);
	assert_int_equal(c.uidmap.r[1].view, 1000);
	assert_int_equal(c.uidmap.r[1].count, 1);
	assert_int_equal(c.squash_gid, 7);
	assert_int_equal(c.squash_uid, -1);
	snprintf(m, sizeof(m), "%s/mnt", tmp);
	c.mountpoint = strdup(m);
	char w[300];
	snprintf(w, sizeof(w), "%s/W", tmp);
	assert_int_equal(mkdir(w, 0755), 0);
	assert_int_equal(ufs_config_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(c.nbranch, 3); /* upper rw, then the lower dirs top first */
	assert_non_null(strstr(c.branches[0].path, "/A"));
	assert_int_equal(c.branches[0].mode, UFS_BR_RW);
	assert_non_null(strstr(c.branches[1].path, "/B"));
	assert_int_equal(c.branches[2].mode, UFS_BR_RO);
	ufs_config_clear(&c);
	rmdir(w);

	assert_int_equal(parse(&c, "lowerdir=/a,uidmapping=0:1", err), -EINVAL);
	assert_non_null(strstr(err, "DISK:VIEW:COUNT"));
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "lowerdir=/a,uidmapping=0:1:0", err), -EINVAL);
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "lowerdir=/a,uidmapping=4294967295:0:2", err), -EINVAL);
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "lowerdir=/a,index=on", err), -EINVAL);
	assert_non_null(strstr(err, "'index=on' is not supported"));
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "lowerdir=/a,lowerdir=/b", err), -EINVAL);
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "lowerdir=/a,squash_to_uid=x", err), -EINVAL);
	ufs_config_clear(&c);
	/* upperdir needs workdir; dirs= and lowerdir= do not mix */
	assert_int_equal(parse(&c, "lowerdir=/a,upperdir=/b", err), 0);
	c.mountpoint = strdup("/mnt");
	assert_int_equal(ufs_config_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs workdir="));
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "dirs=/a,lowerdir=/b", err), 0);
	c.mountpoint = strdup("/mnt");
	assert_int_equal(ufs_config_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot be mixed"));
	ufs_config_clear(&c);
	assert_int_equal(parse(&c, "lowerdir=/a::/b", err), 0);
	c.mountpoint = strdup("/mnt");
	assert_int_equal(ufs_config_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty directory"));
	ufs_config_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes_default),
		cmocka_unit_test(test_bad_mode_and_empty),
		cmocka_unit_test(test_options),
		cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_opts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
