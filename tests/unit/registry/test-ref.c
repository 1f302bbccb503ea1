// SPDX-License-Identifier: MIT
/* Unit tests of registry references, manifest checks and platform choice
 * (registry/reg-ref.c, reg-manifest.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reg.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void ref_ok(const char *in, const char *domain, const char *repo, const char *tag,
		   const char *digest, const char *name)
{
	struct reg_ref r;
	struct cm_error e = { 0 };
	if (reg_ref_parse(in, &r, &e) != 0)
		fail_msg("%s: %s", in, e.msg);
	assert_string_equal(r.domain, domain);
	assert_string_equal(r.repo, repo);
	if (tag)
		assert_string_equal(r.tag, tag);
	else
		assert_null(r.tag);
	assert_string_equal(r.digest, digest ? digest : "");
	if (name)
		assert_string_equal(r.name, name);
	else
		assert_null(r.name);
	reg_ref_clear(&r);
}

static void ref_bad(const char *in)
{
	struct reg_ref r;
	struct cm_error e = { 0 };
	assert_int_equal(reg_ref_parse(in, &r, &e), -EINVAL);
	assert_true(e.msg[0] != '\0');
}

static void test_ref(void **state)
{
	(void)state;
	ref_ok("busybox", "docker.io", "library/busybox", "latest", NULL,
	       "docker.io/library/busybox:latest");
	ref_ok("user/app:1.0", "docker.io", "user/app", "1.0", NULL, "docker.io/user/app:1.0");
	ref_ok("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest", NULL,
	       "127.0.0.1:5000/team/app:latest");
	ref_ok("localhost/x:2", "localhost", "x", "2", NULL, "localhost/x:2");
	ref_ok("index.docker.io/library/debian:12", "docker.io", "library/debian", "12", NULL,
	       "docker.io/library/debian:12");
	ref_ok("busybox@sha256:" D64, "docker.io", "library/busybox", NULL, "sha256:" D64, NULL);
	ref_ok("h:1/x:t@sha256:" D64, "h:1", "x", "t", "sha256:" D64, "h:1/x:t");
	ref_bad("");
	ref_bad("Busybox");
	ref_bad("busybox@sha256:abc");
	ref_bad("busybox@sha512:" D64 D64);
	ref_bad("x:bad/tag");
	ref_bad("h:port/x");

	struct reg_ref r;
	assert_int_equal(reg_ref_parse("busybox", &r, NULL), 0);
	assert_string_equal(reg_ref_host(&r), "registry-1.docker.io");
	reg_ref_clear(&r);
}

static int check(const char *body, const char *ct, enum reg_manifest_kind *k)
{
	struct cm_json *j = NULL;
	struct cm_error e = { 0 };
	int r = reg_manifest_check(body, strlen(body), ct, k, &j, &e);
	cm_json_free(j);
	if (r < 0)
		assert_true(e.msg[0] != '\0');
	return r;
}

#define MANIFEST "{\"schemaVersion\":2,%s\"config\":{},\"layers\":[]}"

static void test_manifest(void **state)
{
	(void)state;
	enum reg_manifest_kind k;
	char b[512];
	snprintf(b, sizeof(b), MANIFEST, "");
	assert_int_equal(check(b, REG_MT_OCI_MANIFEST, &k), 0);
	assert_int_equal(k, REG_KIND_MANIFEST);
	assert_int_equal(check(b, NULL, &k), 0);
	assert_int_equal(check(b, REG_MT_DOCKER_MANIFEST "; charset=utf-8", &k), 0);
	/* a body that is not what its Content-Type says */
	assert_int_equal(check(b, REG_MT_OCI_INDEX, &k), -EPROTO);
	snprintf(b, sizeof(b), MANIFEST, "\"mediaType\":\"" REG_MT_DOCKER_MANIFEST "\",");
	assert_int_equal(check(b, REG_MT_OCI_MANIFEST, &k), -EPROTO);
	assert_int_equal(check(b, REG_MT_DOCKER_MANIFEST, &k), 0);
	assert_int_equal(check("{\"schemaVersion\":2,\"manifests\":[]}", REG_MT_DOCKER_LIST, &k), 0);
	assert_int_equal(k, REG_KIND_INDEX);
	/* schema1, by type and by body */
	assert_int_equal(check("{\"schemaVersion\":1}",
			       "application/vnd.docker.distribution.manifest.v1+prettyjws", &k), -EPROTO);
	assert_int_equal(check("{\"schemaVersion\":1,\"fsLayers\":[]}", "application/json", &k), -EPROTO);
	snprintf(b, sizeof(b), MANIFEST, "");
	assert_int_equal(check(b, "application/vnd.docker.distribution.manifest.v1+json", &k), -EPROTO);
	assert_int_equal(check("not json", NULL, &k), -EPROTO);
	assert_int_equal(check("{\"schemaVersion\":2}", NULL, &k), -EPROTO);
	assert_int_equal(check("{\"schemaVersion\":2,\"manifests\":[],\"config\":{},\"layers\":[]}", NULL, &k),
			 -EPROTO);
}

static void test_platform(void **state)
{
	(void)state;
	struct reg_platform p;
	struct cm_error e = { 0 };
	const char *idx = "{\"manifests\":["
			  "{\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
			  "{\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
			  "{\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	struct cm_json *j = NULL;
	assert_int_equal(cm_json_parse(idx, strlen(idx), &j, NULL, 0), 0);
	assert_int_equal(reg_platform_parse("linux/amd64", &p, &e), 0);
	assert_int_equal(reg_index_select(j, &p, &e), 2);
	assert_int_equal(reg_platform_parse("linux/arm/v7", &p, &e), 0);
	assert_string_equal(p.variant, "v7");
	assert_int_equal(reg_index_select(j, &p, &e), 1);
	assert_int_equal(reg_platform_parse("linux/s390x", &p, &e), 0);
	assert_int_equal(reg_index_select(j, &p, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "linux/arm/v6, linux/arm/v7, linux/amd64"));
	assert_int_equal(reg_platform_parse("linux", &p, &e), -EINVAL);
	assert_int_equal(reg_platform_parse("linux/AMD64", &p, &e), -EINVAL);
	reg_platform_host(&p);
	assert_string_equal(p.os, "linux");
	cm_json_free(j);
}

static void test_desc(void **state)
{
	(void)state;
	struct cm_json *j = NULL;
	const char *d;
	int64_t sz;
	const char *ok = "{\"digest\":\"sha256:" D64 "\",\"size\":10}";
	assert_int_equal(cm_json_parse(ok, strlen(ok), &j, NULL, 0), 0);
	assert_int_equal(reg_desc_get(j, 10, &d, &sz, NULL), 0);
	assert_int_equal(sz, 10);
	assert_int_equal(reg_desc_get(j, 9, &d, &sz, NULL), -EFBIG);
	cm_json_free(j);
	const char *bad = "{\"digest\":\"sha256:../../etc\",\"size\":10}";
	assert_int_equal(cm_json_parse(bad, strlen(bad), &j, NULL, 0), 0);
	assert_int_equal(reg_desc_get(j, 10, &d, &sz, NULL), -EPROTO);
	cm_json_free(j);
}

static void test_cred(void **state)
{
	(void)state;
	char *k;
	assert_string_equal(k = reg_cred_key("docker.io"), "https://index.docker.io/v1/");
	free(k);
	assert_string_equal(k = reg_cred_key("https://index.docker.io/v1/"), "https://index.docker.io/v1/");
	free(k);
	assert_string_equal(k = reg_cred_key("registry-1.docker.io"), "https://index.docker.io/v1/");
	free(k);
	assert_string_equal(k = reg_cred_key("https://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
	free(k);
	assert_string_equal(k = reg_cred_key("quay.io"), "quay.io");
	free(k);

	char dir[] = "/tmp/reg-cred-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	setenv("DOCKER_CONFIG", dir, 1);
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");
	char path[300];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	/* "u:p:x" (a colon in the password), and an entry under https:// */
	fputs("{\"auths\":{\"https://h:1\":{\"auth\":\"dTpwOng=\"},\"bad\":{\"auth\":\"!!\"}},"
	      "\"detachKeys\":\"kept\"}", f);
	fclose(f);
	char *u = NULL, *p = NULL;
	assert_int_equal(reg_cred_lookup("h:1", &u, &p), 0);
	assert_string_equal(u, "u");
	assert_string_equal(p, "p:x");
	free(u);
	free(p);
	assert_int_equal(reg_cred_lookup("bad", &u, &p), -ENOENT);
	assert_int_equal(reg_cred_lookup("other:2", &u, &p), -ENOENT);
	struct cm_error e = { 0 };
	assert_int_equal(reg_cred_store("other:2", "me", "pw", &e), 0);
	assert_int_equal(reg_cred_lookup("other:2", &u, &p), 0);
	assert_string_equal(u, "me");
	free(u);
	free(p);
	bool had = false;
	assert_int_equal(reg_cred_erase("h:1", &had, &e), 0);
	assert_true(had);
	assert_int_equal(reg_cred_lookup("h:1", &u, &p), -ENOENT);
	/* other keys survive the rewrites */
	f = fopen(path, "r");
	char buf[4096] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\"detachKeys\": \"kept\""));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_platform),
		cmocka_unit_test(test_desc),
		cmocka_unit_test(test_cred),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
