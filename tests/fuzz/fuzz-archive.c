// SPDX-License-Identifier: MIT
/* Fuzz driver for the readers of untrusted input: layer tars (the unpacker),
 * image archives (docker-archive and OCI archive: manifests, configs, index)
 * and JSON. Standalone: seeds are built in-process, mutated with a seeded
 * PRNG, and every input must end in success or a clean error, with nothing
 * written outside the unpack root and a store that fsck passes.
 *   fuzz-archive unpack|load|json ITERATIONS [SEED]
 * Built with -DUFS_LIBFUZZER and -fsanitize=fuzzer, LLVMFuzzerTestOneInput
 * feeds each input to the unpacker instead. Prints "N passed, 0 failed". */
#include "cm.h"
#include "cm-error.h"
#include "cm-fs.h"
#include "cm-json.h"
#include "ims.h"
#include "ims-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static la_ssize_t buf_write(struct archive *a, void *ud, const void *data, size_t len)
{
	(void)a;
	struct buf *b = ud;
	if (b->n + len > b->cap) {
		size_t cap = (b->n + len) * 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	return (la_ssize_t)len;
}

static void add(struct archive *a, const char *path, mode_t type, const char *data,
		const char *link, bool hard)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_mtime(e, 1000000000, 0);
	if (link && hard)
		archive_entry_set_hardlink(e, link);
	else if (link)
		archive_entry_set_symlink(e, link);
	archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
	if (archive_write_header(a, e) == ARCHIVE_OK && data)
		archive_write_data(a, data, strlen(data));
	archive_entry_free(e);
}

/* Seed layer tars: what real layers hold, and what hostile ones try. */
static struct buf seed_tar(int which)
{
	struct buf b = { 0 };
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (which == 2)
		archive_write_add_filter_gzip(a);
	archive_write_open(a, &b, NULL, buf_write, NULL);
	add(a, "etc", AE_IFDIR, NULL, NULL, false);
	add(a, "etc/passwd", AE_IFREG, "root:x:0:0:root:/root:/bin/sh\n", NULL, false);
	add(a, "etc/link", AE_IFLNK, NULL, "/etc/passwd", false);
	add(a, "etc/hard", AE_IFREG, NULL, "etc/passwd", true);
	add(a, "etc/.wh.gone", AE_IFREG, "", NULL, false);
	add(a, "var/.wh..wh..opq", AE_IFREG, "", NULL, false);
	if (which == 1) {
		add(a, "../escape", AE_IFREG, "x", NULL, false);
		add(a, "up", AE_IFLNK, NULL, "..", false);
		add(a, "up/out", AE_IFREG, "x", NULL, false);
		add(a, "abs", AE_IFLNK, NULL, "/", false);
		add(a, "abs/tmp/out", AE_IFREG, "x", NULL, false);
		add(a, "hl", AE_IFREG, NULL, "../outside", true);
	}
	add(a, "usr/bin/tool", AE_IFREG, "#!/bin/sh\necho tool\n", NULL, false);
	archive_write_close(a);
	archive_write_free(a);
	return b;
}

static void mutate(unsigned char *p, size_t *n, int maxk)
{
	int k = 1 + (int)(rnd() % (unsigned)maxk);
	for (int i = 0; i < k && *n > 0; i++) {
		size_t at = rnd() % *n, len = 1 + rnd() % 16;
		if (len > *n - at)
			len = *n - at;
		switch (rnd() % 6) {
		case 0: p[at] ^= (unsigned char)(1u << (rnd() % 8)); break;
		case 1: p[at] = (unsigned char)rnd(); break;
		case 2: p[at] = (unsigned char)"0/.\\\"{}[]:, 7a-"[rnd() % 16]; break;
		case 3: if (rnd() % 4 == 0) *n = at + 1; break; /* truncate */
		default: memset(p + at, (int)(rnd() & 0xff), len); break;
		}
	}
}

/* The unpack root's parent must hold nothing but the root and the canary. */
static int check_confined(int outer)
{
	struct stat st;
	if (fstatat(outer, "canary", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size != 6)
		return -1;
	_cleanup_close_ int fd = openat(outer, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(TAKE_FD(fd));
	if (!d)
		return -1;
	int bad = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, "root") && strcmp(de->d_name, "canary"))
			bad = 1;
	closedir(d);
	return bad ? -1 : 0;
}

static int unpack_one(int outer, const unsigned char *data, size_t n)
{
	(void)cm_rm_rf_at(outer, "root");
	if (mkdirat(outer, "root", 0755) < 0)
		return -1;
	_cleanup_close_ int root = openat(outer, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	struct cm_error err = { 0 };
	if (archive_read_open_memory(a, data, n) == ARCHIVE_OK)
		(void)ims_unpack_entries(a, root, &err);
	archive_read_free(a);
	return check_confined(outer);
}

static int make_outer(char *tmpl)
{
	if (!mkdtemp(tmpl))
		return -1;
	int outer = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int c = openat(outer, "canary", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (c < 0 || cm_write_all(c, "canary", 6) < 0)
		return -1;
	close(c);
	return outer;
}

#ifdef UFS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int outer = -1;
	if (outer < 0) {
		char t[] = "/tmp/ufs-fuzz.XXXXXX";
		outer = make_outer(t);
	}
	if (unpack_one(outer, data, size) < 0)
		abort(); /* something escaped the root */
	return 0;
}
#else
static int fuzz_unpack(long iters)
{
	char t[] = "/tmp/ufs-fuzz.XXXXXX";
	int outer = make_outer(t);
	if (outer < 0)
		return 1;
	struct buf seeds[3] = { seed_tar(0), seed_tar(1), seed_tar(2) };
	long fails = 0;
	for (long i = 0; i < iters; i++) {
		struct buf *s = &seeds[rnd() % 3];
		unsigned char *p = malloc(s->n);
		memcpy(p, s->p, s->n);
		size_t n = s->n;
		if (i > 2) /* the first inputs are the seeds themselves */
			mutate(p, &n, 8);
		if (unpack_one(outer, p, n) < 0) {
			fprintf(stderr, "iteration %ld: something escaped the root\n", i);
			fails++;
		}
		free(p);
	}
	(void)cm_rm_rf_at(outer, "root");
	(void)unlinkat(outer, "canary", 0);
	close(outer);
	rmdir(t);
	for (int i = 0; i < 3; i++)
		free(seeds[i].p);
	printf("%ld passed, %ld failed\n", iters - fails, fails);
	return fails ? 1 : 0;
}

static void count_problem(void *ctx, const char *line)
{
	fprintf(stderr, "fsck: %s\n", line);
	++*(int *)ctx;
}

static void ignore(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

/* Mutated docker/OCI archives of a small image into one store: each load
 * succeeds or fails cleanly, and the store stays consistent throughout. */
static int fuzz_load(long iters)
{
	char t[] = "/tmp/ufs-fuzz-store.XXXXXX";
	if (!mkdtemp(t))
		return 1;
	char root[64], arc[2][80], in[80];
	snprintf(root, sizeof(root), "%s/store", t);
	snprintf(arc[0], sizeof(arc[0]), "%s/docker.tar", t);
	snprintf(arc[1], sizeof(arc[1]), "%s/oci.tar", t);
	snprintf(in, sizeof(in), "%s/in.tar", t);
	struct cm_error err = { 0 };
	struct ims_store *s = NULL;
	struct buf layer = seed_tar(0);
	char id[CM_DIGEST_STR_LEN];
	int lfd = memfd_create("layer", MFD_CLOEXEC);
	struct ims_import_opts o = { .name = "fuzz:seed", .created = 1000000000 };
	if (ims_store_open(root, &s, &err) < 0 || lfd < 0 ||
	    cm_write_all(lfd, layer.p, layer.n) < 0 || lseek(lfd, 0, SEEK_SET) < 0 ||
	    ims_import_fd(s, lfd, &o, id, &err) < 0) {
		fprintf(stderr, "seed: %s\n", err.msg);
		return 1;
	}
	close(lfd);
	const char *refs[] = { "fuzz:seed" };
	if (ims_save(s, refs, 1, IMS_SAVE_DOCKER_ARCHIVE, arc[0], &err) < 0 ||
	    ims_save(s, refs, 1, IMS_SAVE_OCI_ARCHIVE, arc[1], &err) < 0) {
		fprintf(stderr, "seed save: %s\n", err.msg);
		return 1;
	}
	struct buf seeds[2] = { { 0 }, { 0 } };
	for (int i = 0; i < 2; i++) {
		_cleanup_close_ int fd = open(arc[i], O_RDONLY | O_CLOEXEC);
		char *p = NULL;
		size_t n = 0;
		if (fd < 0 || ims_read_fd(fd, 64 << 20, &p, &n) < 0)
			return 1;
		seeds[i].p = (unsigned char *)p;
		seeds[i].n = n;
	}
	long fails = 0, loaded = 0;
	for (long i = 0; i < iters; i++) {
		struct buf *sd = &seeds[i <= 1 ? i : (long)(rnd() % 2)];
		unsigned char *p = malloc(sd->n);
		memcpy(p, sd->p, sd->n);
		size_t n = sd->n;
		if (i > 1) /* the seeds load as they are, then light mutations */
			mutate(p, &n, 3);
		int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || cm_write_all(fd, p, n) < 0)
			return 1;
		close(fd);
		free(p);
		struct cm_error e2 = { 0 };
		int lr = ims_load(s, in, ignore, NULL, &e2);
		if (i <= 1 && lr < 0) {
			fprintf(stderr, "seed %ld does not load: %s\n", i, e2.msg);
			fails++;
		}
		loaded += lr == 0;
		int problems = 0;
		if (i % 25 == 0 || i == iters - 1) {
			if (ims_fsck(s, count_problem, &problems, &e2) != 0) {
				fprintf(stderr, "iteration %ld: fsck found %d problems\n", i, problems);
				fails++;
			}
		}
	}
	ims_store_free(s);
	for (int i = 0; i < 2; i++)
		free(seeds[i].p);
	free(layer.p);
	printf("# %ld of %ld mutated archives loaded\n", loaded, iters);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t);
	if (system(cmd) != 0)
		fails++;
	printf("%ld passed, %ld failed\n", iters - fails, fails);
	return fails ? 1 : 0;
}

static int fuzz_json(long iters)
{
	static const char *const seeds[] = {
		("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"digest\":\"sha256:0123\",\"size\":12},\"layers\":[{\"size\":1}]}"),
		"[{\"Config\":\"a.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l/layer.tar\"]}]",
		"{\"a\":[1,2.5e10,-0,true,false,null,\"\\u00e9\\n\\\"\"],\"b\":{}}",
	};
	for (long i = 0; i < iters; i++) {
		const char *sd = seeds[rnd() % 3];
		size_t n = strlen(sd);
		unsigned char *p = malloc(n + 1);
		memcpy(p, sd, n + 1);
		mutate(p, &n, 8);
		struct cm_json *j = NULL;
		if (cm_json_parse((const char *)p, n, &j, NULL, 0) == 0)
			cm_json_free(j);
		free(p);
	}
	printf("%ld passed, 0 failed\n", iters);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: fuzz-archive unpack|load|json ITERATIONS [SEED]\n");
		return 2;
	}
	long iters = strtol(argv[2], NULL, 10);
	if (argc > 3)
		rng ^= strtoull(argv[3], NULL, 10) * 0x2545f4914f6cdd1dULL;
	if (strcmp(argv[1], "unpack") == 0)
		return fuzz_unpack(iters);
	if (strcmp(argv[1], "load") == 0)
		return fuzz_load(iters);
	if (strcmp(argv[1], "json") == 0)
		return fuzz_json(iters);
	return 2;
}
#endif
