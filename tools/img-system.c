// SPDX-License-Identifier: MIT
/* The verbs scripts use around the core ones (issue 14): img info, img
 * version, img system df/prune, img container prune, img rename. Thin
 * commands over the store and the runner, with docker's output shapes. */
#include "img-run.h"
#include "cm-platform.h"
#include "img-format.h"
#include "cm.h"
#include "config.h"
#include "ims.h"
#include "run.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* The bytes of the files below dir (no symlink followed). */
int64_t img_du(const char *path)
{
	_cleanup_(ims_volume_freep) struct ims_volume *v = calloc(1, sizeof(*v));
	if (!v || !(v->mountpoint = strdup(path)))
		return 0;
	return ims_volume_size(v); /* the same walk as a volume's */
}

/* ------------------------------------------------------------ version, info */

int img_cmd_version(int argc, char **argv)
{
	const char *format = NULL;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c != 'f')
			return img_opt_exit(c);
		format = optarg;
	}
	struct utsname u;
	uname(&u);
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	for (int k = 0; k < 2; k++) {
		cm_jw_key(&w, k ? "Server" : "Client");
		cm_jw_obj(&w);
		cm_jw_kstr(&w, "Platform", "img");
		cm_jw_kstr(&w, "Version", PACKAGE_VERSION);
		cm_jw_kstr(&w, "ApiVersion", "1.43");
		cm_jw_kstr(&w, "Os", "linux");
		cm_jw_kstr(&w, "Arch", cm_host_arch());
		if (k)
			cm_jw_kstr(&w, "KernelVersion", u.release);
		cm_jw_kstr(&w, "GitCommit", "");
		cm_jw_kstr(&w, "BuildTime", "");
		cm_jw_obj_end(&w);
	}
	cm_jw_obj_end(&w);
	_cleanup_free_ char *text = NULL;
	size_t len;
	_cleanup_json_ struct cm_json *j = NULL;
	if (cm_jw_finish(&w, &text, &len) < 0 || cm_json_parse(text, len, &j, NULL, 0) < 0)
		return img_fail("out of memory");
	if (format)
		return img_fmt_once(format, j);
	/* docker's layout; img is its own daemon: the "server" is this binary */
	printf("Client:\n Version:           %s\n API version:       1.43\n OS/Arch:           linux/%s\n\n",
	       PACKAGE_VERSION, cm_host_arch());
	printf("Server: img\n Engine:\n  Version:          %s\n  API version:      1.43\n  OS/Arch:          linux/%s\n  Kernel:           %s\n",
	       PACKAGE_VERSION, cm_host_arch(), u.release);
	return 0;
}

static const char *cgroup_version(void)
{
	struct stat st;
	return stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0 ? "2" : "1";
}

int img_cmd_info(int argc, char **argv)
{
	const char *format = NULL;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c != 'f')
			return img_opt_exit(c);
		format = optarg;
	}
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	struct ims_container **cv = NULL;
	struct ims_image **iv = NULL;
	size_t nc = 0, ni = 0, running = 0, paused = 0, stopped = 0;
	if (img_open_store(&s, &e) < 0 || ims_container_list(s, &cv, &nc, &e) < 0 ||
	    ims_image_list(s, &iv, &ni, &e) < 0)
		return img_fail_err(&e);
	for (size_t i = 0; i < nc; i++) {
		img_refresh_status(cv[i]);
		if (strstr(cv[i]->status, "(Paused)"))
			paused++;
		else if (strncmp(cv[i]->status, "Up", 2) == 0)
			running++;
		else
			stopped++;
		ims_container_free(cv[i]);
	}
	free(cv);
	for (size_t i = 0; i < ni; i++)
		ims_image_free(iv[i]);
	free(iv);
	struct utsname u;
	uname(&u);
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t mem = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	struct cm_jw w;
	cm_jw_init(&w, 0);
	cm_jw_obj(&w);
	cm_jw_kint(&w, "Containers", (int64_t)nc);
	cm_jw_kint(&w, "ContainersRunning", (int64_t)running);
	cm_jw_kint(&w, "ContainersPaused", (int64_t)paused);
	cm_jw_kint(&w, "ContainersStopped", (int64_t)stopped);
	cm_jw_kint(&w, "Images", (int64_t)ni);
	cm_jw_kstr(&w, "Driver", "ufsmount");
	cm_jw_kstr(&w, "LoggingDriver", "json-file");
	cm_jw_kstr(&w, "CgroupDriver", "cgroupfs");
	cm_jw_kstr(&w, "CgroupVersion", cgroup_version());
	cm_jw_kstr(&w, "KernelVersion", u.release);
	cm_jw_kstr(&w, "OperatingSystem", "Linux");
	cm_jw_kstr(&w, "OSType", "linux");
	cm_jw_kstr(&w, "Architecture", u.machine);
	cm_jw_kint(&w, "NCPU", ncpu);
	cm_jw_kint(&w, "MemTotal", mem);
	cm_jw_kstr(&w, "DockerRootDir", ims_store_root(s));
	cm_jw_kstr(&w, "Name", host);
	cm_jw_kstr(&w, "ServerVersion", PACKAGE_VERSION);
	cm_jw_kstr(&w, "DefaultRuntime", "img");
	cm_jw_obj_end(&w);
	_cleanup_free_ char *text = NULL;
	size_t len;
	_cleanup_json_ struct cm_json *j = NULL;
	if (cm_jw_finish(&w, &text, &len) < 0 || cm_json_parse(text, len, &j, NULL, 0) < 0)
		return img_fail("out of memory");
	if (format)
		return img_fmt_once(format, j);
	char memh[32];
	img_human_size(mem, memh, sizeof(memh));
	printf("Client:\n Version:    %s\n Context:    default\n\n", PACKAGE_VERSION);
	printf("Server:\n Containers: %zu\n  Running: %zu\n  Paused: %zu\n  Stopped: %zu\n Images: %zu\n",
	       nc, running, paused, stopped, ni);
	printf(" Server Version: %s\n Storage Driver: ufsmount\n Logging Driver: json-file\n"
	       " Cgroup Driver: cgroupfs\n Cgroup Version: %s\n Kernel Version: %s\n"
	       " Operating System: Linux\n OSType: linux\n Architecture: %s\n CPUs: %ld\n"
	       " Total Memory: %s\n Name: %s\n Docker Root Dir: %s\n",
	       PACKAGE_VERSION, cgroup_version(), u.release, u.machine, ncpu, memh, host,
	       ims_store_root(s));
	return 0;
}

/* ------------------------------------------------------------ rename */

int img_cmd_rename(int argc, char **argv)
{
	int c = img_getopt(argc, argv);
	if (c != -1)
		return img_opt_exit(c);
	const char *ref = argv[optind], *name = argv[optind + 1];
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	_cleanup_container_ struct ims_container *ct = NULL;
	if (img_open_store(&s, &e) < 0 || ims_container_get(s, ref, &ct, &e) < 0 ||
	    ims_container_rename(s, ct->id, name, &e) < 0)
		return img_fail_err(&e);
	/* the runner's copy of the name (inspect, ps), where it has one */
	_cleanup_run_config_ struct run_config *cfg = NULL;
	if (ct->rundir && run_config_read(ct->rundir, &cfg, NULL) == 0) {
		free(cfg->name);
		if (!(cfg->name = strdup(name)) || run_config_write(cfg, &e) < 0)
			return img_fail_err(&e);
		char old[300];
		snprintf(old, sizeof(old), "oldName=/%s", ct->name);
		char *const attrs[] = { old, NULL };
		run_event_container(ct->rundir, cfg, "rename", attrs);
	}
	return 0;
}

/* ------------------------------------------------------------ prune */

static bool stopped(struct ims_container *ct)
{
	img_refresh_status(ct);
	return strncmp(ct->status, "Up", 2) != 0 && strncmp(ct->status, "Restarting", 10) != 0;
}

/* container prune's work: every stopped container goes (rm -f's path: the
 * runner's part, then the store's; one left mounted by img mount or a
 * killed export is unmounted, docker has no such state). Returns the bytes of their rw
 * branches, -1 after an error. */
static int64_t prune_containers(const struct img_filter *fs, size_t nf, bool print)
{
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	struct ims_container **v = NULL;
	size_t n = 0;
	int64_t freed = 0;
	bool any = false, bad = false;
	if (img_open_store(&s, &e) < 0 || ims_container_list(s, &v, &n, &e) < 0)
		return img_fail_err(&e), -1;
	for (size_t i = 0; i < n; i++) {
		struct ims_container *ct = v[i];
		if (stopped(ct) && img_ctr_filter_match(ct, fs, nf)) {
			int64_t sz = img_du(ct->rw);
			cm_error_clear(&e);
			if (img_ctr_remove(s, ct->id, true, false, &e) < 0) {
				img_fail_err(&e);
				bad = true;
			} else {
				if (print && !any)
					puts("Deleted Containers:");
				if (print)
					puts(ct->id);
				any = true;
				freed += sz;
			}
		}
		ims_container_free(ct);
	}
	free(v);
	if (print && any)
		putchar('\n');
	return bad && !any ? -1 : freed;
}

int img_cmd_container_prune(int argc, char **argv)
{
	static const char *const keys[] = { "until", "label", "label!" };
	struct img_filter fs[IMG_MAX_FILTERS];
	size_t nf = 0;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == OPT_FILTER) {
			if (img_filter_add(fs, &nf, optarg, keys, CM_ARRAY_SIZE(keys)))
				return IMG_EXIT;
		} else if (c != 'f') {
			return img_opt_exit(c);
		}
	}
	return img_print_reclaimed(prune_containers(fs, nf, true));
}

int img_cmd_system_prune(int argc, char **argv)
{
	bool all = false, volumes = false;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == OPT_VOLUMES)
			volumes = true;
		else if (c != 'f')
			return img_opt_exit(c);
	}
	int64_t total = 0, r = prune_containers(NULL, 0, true);
	if (r < 0)
		return IMG_EXIT;
	total += r;
	if (volumes) {
		if ((r = img_volume_prune(false, NULL, 0, true)) < 0)
			return IMG_EXIT;
		total += r;
	}
	if ((r = img_image_prune(all, true)) < 0)
		return IMG_EXIT;
	total += r;
	/* docker's: the dangling build cache, all of it with -a */
	if ((r = img_builder_prune(all, true)) < 0)
		return IMG_EXIT;
	total += r;
	return img_print_reclaimed(total);
}

/* ------------------------------------------------------------ system df */

struct df_row {
	size_t total, active;
	int64_t size, reclaim;
};

static void df_line(const char *type, const struct df_row *r, bool pct)
{
	char a[32], b[32], rec[48];
	img_human_size(r->size, a, sizeof(a));
	img_human_size(r->reclaim, b, sizeof(b));
	if (pct)
		snprintf(rec, sizeof(rec), "%s (%d%%)", b, r->size ? (int)(100 * r->reclaim / r->size) : 0);
	else
		snprintf(rec, sizeof(rec), "%s", b);
	printf("%-15s %-9zu %-9zu %-9s %s\n", type, r->total, r->active, a, rec);
}

int img_cmd_system_df(int argc, char **argv)
{
	bool verbose = false;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c != 'v')
			return img_opt_exit(c);
		verbose = true;
	}
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	struct ims_container **cv = NULL;
	struct ims_image **iv = NULL;
	struct ims_volume **vv = NULL;
	size_t nc = 0, ni = 0, nv = 0;
	if (img_open_store(&s, &e) < 0 || ims_container_list(s, &cv, &nc, &e) < 0 ||
	    ims_image_list(s, &iv, &ni, &e) < 0 || ims_volume_list(s, &vv, &nv, &e) < 0)
		return img_fail_err(&e);
	struct df_row ri = { .total = ni }, rc = { .total = nc }, rv = { .total = nv };
	int64_t *isz = calloc(ni + 1, sizeof(int64_t)), *csz = calloc(nc + 1, sizeof(int64_t)),
		*vsz = calloc(nv + 1, sizeof(int64_t));
	size_t *iuse = calloc(ni + 1, sizeof(size_t)), *vuse = calloc(nv + 1, sizeof(size_t));
	bool *crun = calloc(nc + 1, sizeof(bool));
	if (!isz || !csz || !vsz || !iuse || !vuse || !crun)
		return img_fail("out of memory");
	for (size_t i = 0; i < nc; i++) {
		crun[i] = !stopped(cv[i]);
		csz[i] = img_du(cv[i]->rw);
		rc.size += csz[i];
		if (crun[i])
			rc.active++;
		else
			rc.reclaim += csz[i];
		for (size_t k = 0; k < ni; k++)
			iuse[k] += strcmp(cv[i]->image_id, iv[k]->id) == 0;
		_cleanup_run_config_ struct run_config *cfg = NULL;
		if (cv[i]->rundir && run_config_read(cv[i]->rundir, &cfg, NULL) == 0)
			for (size_t m = 0; m < cfg->n_vols; m++)
				for (size_t k = 0; k < nv; k++)
					vuse[k] += cfg->vols[m].volume && cm_streq(cfg->vols[m].name, vv[k]->name);
	}
	for (size_t k = 0; k < ni; k++) {
		isz[k] = iv[k]->size;
		ri.size += isz[k];
		if (iuse[k])
			ri.active++;
		else
			ri.reclaim += isz[k];
	}
	for (size_t k = 0; k < nv; k++) {
		vsz[k] = ims_volume_size(vv[k]);
		rv.size += vsz[k];
		if (vuse[k])
			rv.active++;
		else
			rv.reclaim += vsz[k];
	}
	if (!verbose) {
		printf("%-15s %-9s %-9s %-9s %s\n", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
		df_line("Images", &ri, true);
		df_line("Containers", &rc, true);
		df_line("Local Volumes", &rv, true);
		/* img build's: its records and cache mounts (builder prune -a's) */
		struct df_row rb = { 0 };
		_cleanup_free_ char *bc = NULL, *bm = NULL;
		if (asprintf(&bc, "%s/build-cache", ims_store_root(s)) >= 0 &&
		    asprintf(&bm, "%s/build-mounts", ims_store_root(s)) >= 0) {
			DIR *d = opendir(bc);
			for (struct dirent *de; d && (de = readdir(d));)
				rb.total += de->d_name[0] != '.';
			if (d)
				closedir(d);
			struct stat st;
			rb.size = rb.reclaim = img_du(bc) + (stat(bm, &st) == 0 ? img_du(bm) : 0);
		}
		df_line("Build Cache", &rb, false);
	} else {
		char a[32];
		img_human_size(ri.size, a, sizeof(a));
		printf("Images space usage:\n\n%-30s %-10s %-14s %-22s %-10s %-12s %-12s %s\n", "REPOSITORY",
		       "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS");
		for (size_t k = 0; k < ni; k++) {
			char repo[256] = "<none>", tag[128] = "<none>", sz[32], since[64];
			const char *nm = iv[k]->n_names ? ims_ref_short(iv[k]->names[0]) : NULL;
			if (nm) {
				int t = ims_ref_tag_offset(nm);
				snprintf(repo, sizeof(repo), "%.*s", t >= 0 ? t : (int)strlen(nm), nm);
				if (t >= 0)
					snprintf(tag, sizeof(tag), "%s", nm + t + 1);
			}
			img_human_size(isz[k], sz, sizeof(sz));
			img_human_since(iv[k]->created, since, sizeof(since));
			printf("%-30s %-10s %-14.12s %-22s %-10s %-12s %-12s %zu\n", repo, tag, iv[k]->id + 7,
			       since, sz, "0B", sz, iuse[k]);
		}
		printf("\nContainers space usage:\n\n%-14s %-20s %-20s %-15s %-10s %-22s %-24s %s\n",
		       "CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES");
		for (size_t i = 0; i < nc; i++) {
			char sz[32], since[64];
			img_human_size(csz[i], sz, sizeof(sz));
			img_human_since(cv[i]->created, since, sizeof(since));
			_cleanup_free_ char *l = NULL, *m = NULL, *nw = NULL;
			size_t nl = 0;
			(void)img_ctr_columns(cv[i], true, &l, &m, &nw, &nl);
			printf("%-14.12s %-20.20s %-20.20s %-15zu %-10s %-22s %-24s %s\n", cv[i]->id,
			       cv[i]->image ? cv[i]->image : "", cv[i]->n_cmd ? cv[i]->cmd[0] : "", nl, sz,
			       since, cv[i]->status, cv[i]->name);
		}
		printf("\nLocal Volumes space usage:\n\n%-66s %-8s %s\n", "VOLUME NAME", "LINKS", "SIZE");
		for (size_t k = 0; k < nv; k++) {
			char sz[32];
			img_human_size(vsz[k], sz, sizeof(sz));
			printf("%-66s %-8zu %s\n", vv[k]->name, vuse[k], sz);
		}
		printf("\nBuild cache usage: 0B\n\nCACHE ID    CACHE TYPE    SIZE      CREATED   LAST USED   USAGE     SHARED\n");
	}
	for (size_t i = 0; i < nc; i++)
		ims_container_free(cv[i]);
	for (size_t k = 0; k < ni; k++)
		ims_image_free(iv[k]);
	for (size_t k = 0; k < nv; k++)
		ims_volume_free(vv[k]);
	free(cv);
	free(iv);
	free(vv);
	free(isz);
	free(csz);
	free(vsz);
	free(iuse);
	free(vuse);
	free(crun);
	return 0;
}
