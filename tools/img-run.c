// SPDX-License-Identifier: MIT
/* img run/start/stop/kill/restart/wait/logs/exec/top and `container
 * inspect`: thin commands over librunner (issue 4) and the store's
 * containers (libimgstore). Only this file prints. */
#include "img-run.h"
#include "img-pull.h"
#include "img-format.h"
#include "cm.h"
#include "cm-helper.h"
#include "cm-text.h"
#include "config.h"
#include "ims.h"
#include "run.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

const char *img_run_root;

int img_open_store(struct ims_store **s, struct cm_error *e)
{
	/* the monitor removes an --rm container by exec'ing `img rm -f`: the
	 * store and this binary (the monitor links no store code) */
	if (img_run_root)
		setenv("IMG_ROOT", img_run_root, 1);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		setenv("IMG_EXE", self, 1);
	}
	return ims_store_open(img_run_root, s, e);
}

/* img-monitor: $IMG_MONITOR, beside img (the build tree), else where meson
 * installed it; NULL and the one-line error printed when it is missing. */
char *img_monitor_path(void)
{
	struct cm_error e = { 0 };
	char *p = NULL;
	if (cm_helper_find("img-monitor", "IMG_MONITOR", IMG_MONITOR_PATH, &p, &e) < 0)
		img_fail_err(&e);
	return p;
}

/* The runner's bundle of a container: the store's run dir for it. */
static int find_bundle(struct ims_store *s, const char *ref, char **ret, struct cm_error *e)
{
	_cleanup_container_ struct ims_container *c = NULL;
	int r = ims_container_get(s, ref, &c, e);
	if (r < 0)
		return r;
	char p[4200];
	snprintf(p, sizeof(p), "%s/runner.json", c->rundir);
	if (access(p, F_OK) < 0)
		return cm_error_set(e, -ENOENT, "container %s was never started", ref);
	return (*ret = strdup(c->rundir)) ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ foreground */

static volatile sig_atomic_t fwd_pid;
static void forward(int sig)
{
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

static void forward_signals(pid_t pid, bool on)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	struct sigaction sa = { .sa_handler = on ? forward : SIG_DFL, .sa_flags = SA_RESTART };
	fwd_pid = pid;
	for (size_t i = 0; i < CM_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static volatile sig_atomic_t winch_ptm = -1;
static void copy_winsize(int sig)
{
	struct winsize ws;
	(void)sig;
	if (winch_ptm >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(winch_ptm, TIOCSWINSZ, &ws);
}

/* --rm in the foreground: remove the exited container here, while the
 * monitor waits for our end of the sync socket to close (it execs `img rm`
 * only if we did not: killed, or failed). Saves starting a second img. */
static void remove_exited(const char *bundle, const char *id)
{
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	_cleanup_run_config_ struct run_config *c = NULL;
	(void)run_config_read(bundle, &c, NULL);
	if (img_open_store(&s, &e) < 0 || img_container_discard(s, bundle, id, &e) < 0)
		img_fail_err(&e);
	else if (c) { /* docker's --rm: its anonymous volumes too */
		run_event_container(bundle, c, "destroy", NULL);
		img_volumes_release(s, c);
	}
}

int img_container_discard(struct ims_store *s, const char *bundle, const char *id,
			  struct cm_error *e)
{
	int r = run_container_remove(bundle, true, e);
	if (r < 0)
		return r;
	return ims_container_remove(s, id, true, e);
}

/* run --sig-proxy=false: signals to a foreground img are not passed on */
static bool sig_proxy = true;

/* --sig-proxy[=BOOL] (run, attach) into sig_proxy; docker's error. */
static int parse_sig_proxy(const char *arg)
{
	if (arg && strcmp(arg, "true") && strcmp(arg, "false") && strcmp(arg, "1") && strcmp(arg, "0"))
		return img_fail("invalid argument \"%s\" for \"--sig-proxy\" flag: strconv.ParseBool: parsing \"%s\": invalid syntax",
				arg, arg), -1;
	sig_proxy = !arg || !strcmp(arg, "true") || !strcmp(arg, "1");
	return 0;
}

/* Attached: relay (tty), wait for the exit code, remove an --rm container
 * (rm_id), reap the monitor. */
int img_attach_wait(struct run_started *st, bool tty, const char *bundle, const char *rm_id)
{
	struct cm_error e = { 0 };
	int code = RUN_EXIT_IMG;
	struct termios saved;
	bool raw = false;
	forward_signals(st->pid, !tty && sig_proxy);
	if (tty && st->ptm >= 0) {
		/* the monitor relays the data; we keep the window size (now and on
		 * SIGWINCH) and, like docker, put our terminal in raw mode so ^C
		 * and friends reach the container's pty as bytes */
		winch_ptm = st->ptm;
		copy_winsize(0);
		struct sigaction sa = { .sa_handler = copy_winsize, .sa_flags = SA_RESTART };
		sigaction(SIGWINCH, &sa, NULL);
		if (tcgetattr(0, &saved) == 0) {
			struct termios t = saved;
			cfmakeraw(&t);
			raw = tcsetattr(0, TCSANOW, &t) == 0;
		}
	}
	int w = run_wait_sync(st->sync, &code, &e);
	if (w < 0) {
		img_fail_err(&e);
		code = RUN_EXIT_IMG;
	} else if (w == 0 && rm_id) {
		remove_exited(bundle, rm_id);
	}
	forward_signals(0, false);
	if (tty) {
		signal(SIGWINCH, SIG_DFL);
		winch_ptm = -1;
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	cm_close(&st->sync);
	cm_close(&st->ptm);
	int status;
	/* detached: the monitor runs on with the container (--rm: it removes);
	 * img attach's monitor is not our child */
	while (w != 1 && st->monitor > 0 && waitpid(st->monitor, &status, 0) < 0 && errno == EINTR)
		;
	return code;
}

/* ------------------------------------------------------------ run */

/* --expose N[-M][/tcp|udp] into v (the ports -P publishes). */
static int expose_add(const char *spec, struct run_port *v, size_t *n)
{
	char *end;
	unsigned long a = strtoul(spec, &end, 10), b = a;
	if (*end == '-')
		b = strtoul(end + 1, &end, 10);
	bool udp = strcmp(end, "/udp") == 0;
	if (end == spec || a < 1 || b > 65535 || b < a || (*end && !udp && strcmp(end, "/tcp") != 0))
		return img_fail("invalid range format for --expose: %s", spec), -1;
	for (unsigned long p = a; p <= b; p++) {
		if (*n == 64)
			return img_fail("--expose: at most 64 ports"), -1;
		v[(*n)++] = (struct run_port){ .host_ip = "0.0.0.0", .ctr_port = (uint16_t)p, .udp = udp };
	}
	return 0;
}

/* -P: every port of ports (and the image's EXPOSE) not published yet, to a
 * free host port (host_port 0, chosen by run_net_check_ports). */
static int publish_all_ports(struct run_config *c, const struct run_port *ports, size_t n,
			     const struct cm_json *image_ports)
{
	struct run_port all[128];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 128; i++)
		all[k++] = ports[i];
	for (size_t i = 0; cm_json_is(image_ports, CM_JSON_OBJECT) && i < image_ports->n && k < 128; i++) {
		int p = atoi(image_ports->k[i]);
		if (p > 0 && p < 65536)
			all[k++] = (struct run_port){ .host_ip = "0.0.0.0", .ctr_port = (uint16_t)p,
						      .udp = strstr(image_ports->k[i], "/udp") != NULL };
	}
	for (size_t i = 0; i < k; i++) {
		bool have = false;
		for (size_t j = 0; j < c->n_ports; j++)
			have |= c->ports[j].ctr_port == all[i].ctr_port && c->ports[j].udp == all[i].udp;
		if (have)
			continue;
		struct run_port *nv = realloc(c->ports, (c->n_ports + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->ports = nv;
		c->ports[c->n_ports++] = all[i];
	}
	return 0;
}

static int port_push(struct run_config *c, const char *spec, struct cm_error *e)
{
	struct run_port p;
	if (run_parse_port(spec, &p, e) < 0)
		return -EINVAL;
	struct run_port *nv = realloc(c->ports, (c->n_ports + 1) * sizeof(*nv));
	if (!nv)
		return cm_error_set(e, -ENOMEM, "out of memory");
	c->ports = nv;
	c->ports[c->n_ports++] = p;
	return 0;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = (char *)s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

static void strv_freep(char ***v)
{
	img_strv_free(*v);
}

static void free_container(struct ims_store *s, const char *id)
{
	struct cm_error e = { 0 };
	(void)ims_container_remove(s, id, true, &e);
}

/* Go's time.ParseDuration, the units docker's flags take (1m30s, 500ms). */
static int parse_duration(const char *flag, const char *s, int64_t *ret)
{
	static const struct { const char *u; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000LL },
		{ "m", 60000000000LL }, { "h", 3600000000000LL },
	};
	const char *p = s;
	int64_t total = 0;
	if (strcmp(s, "0") == 0)
		return *ret = 0, 0;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || v < 0)
			goto bad;
		size_t i, best = CM_ARRAY_SIZE(units);
		for (i = 0; i < CM_ARRAY_SIZE(units); i++)
			if (strncmp(end, units[i].u, strlen(units[i].u)) == 0 &&
			    (best == CM_ARRAY_SIZE(units) || strlen(units[i].u) > strlen(units[best].u)))
				best = i;
		if (best == CM_ARRAY_SIZE(units))
			goto bad;
		total += (int64_t)(v * (double)units[best].ns);
		p = end + strlen(units[best].u);
	}
	if (!*s)
		goto bad;
	*ret = total;
	return 0;
bad:
	return img_fail("invalid argument \"%s\" for \"--%s\" flag: time: invalid duration \"%s\"", s, flag, s);
}

/* docker's warnings for limits the kernel here cannot apply (the limit is
 * then dropped, as docker's daemon does). */
static void limits_warn(struct run_limits *lim, const char *root)
{
	char p[512];
	bool v2 = (snprintf(p, sizeof(p), "%s/cgroup.controllers", root), access(p, F_OK) == 0);
	if (lim->oom_kill_disable && v2) {
		fputs("WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.\n", stderr);
		lim->oom_kill_disable = false;
	} else if (lim->oom_kill_disable && !lim->memory) {
		fputs("WARNING: Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.\n",
		      stderr);
	}
	if (lim->blkio_weight > 0) {
		char a[600], b[600];
		snprintf(a, sizeof(a), v2 ? "%s/cgroup.subtree_control" : "%s/blkio/blkio.weight", root);
		snprintf(b, sizeof(b), "%s/blkio/blkio.bfq.weight", root);
		char ctl[512] = "";
		FILE *f = v2 ? fopen(a, "re") : NULL;
		if (f) {
			if (!fgets(ctl, sizeof(ctl), f))
				ctl[0] = '\0';
			fclose(f);
		}
		bool ok = v2 ? strstr(ctl, "io") != NULL : access(a, F_OK) == 0 || access(b, F_OK) == 0;
		if (!ok) {
			fputs("WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.\n",
			      stderr);
			lim->blkio_weight = 0;
		}
	}
}

/* -m --memory-swap --cpus --cpu-shares --pids-limit, for run and update;
 * a bad value is reported here (-1). */
static int limit_opt(int o, const char *arg, struct run_limits *lim)
{
	struct cm_error e = { 0 };
	switch (o) {
	case 'm':
		if (run_parse_bytes(arg, &lim->memory, &e) < 0)
			return img_fail_err(&e), -1;
		if (lim->memory < 6 * 1024 * 1024)
			return img_fail("Minimum memory limit allowed is 6MB"), -1;
		return 0;
	case OPT_MEMSWAP:
		if (strcmp(arg, "-1") == 0)
			lim->memory_swap = -1;
		else if (run_parse_bytes(arg, &lim->memory_swap, &e) < 0)
			return img_fail_err(&e), -1;
		return 0;
	case OPT_CPUS:
		if (run_parse_cpus(arg, &lim->cpu_quota, &lim->cpu_period, &e) < 0)
			return img_fail_err(&e), -1;
		return 0;
	case OPT_SHARES:
		lim->cpu_shares = strtoll(arg, NULL, 10);
		if (lim->cpu_shares < 2 || lim->cpu_shares > 262144)
			return img_fail("invalid --cpu-shares '%s' (2..262144)", arg), -1;
		return 0;
	case OPT_PIDS:
		lim->pids = strtoll(arg, NULL, 10);
		if (lim->pids == 0)
			lim->pids = -1;
		return 0;
	case OPT_CPUSET:
		if (run_parse_cpuset(arg, &e) < 0)
			return img_fail_err(&e), -1;
		snprintf(lim->cpuset_cpus, sizeof(lim->cpuset_cpus), "%s", arg);
		return 0;
	case OPT_MEMRES:
		if (run_parse_bytes(arg, &lim->memory_reservation, &e) < 0)
			return img_fail_err(&e), -1;
		return 0;
	case OPT_OOMKILL:
		lim->oom_kill_disable = true;
		return 0;
	case OPT_BLKIO: {
		char *end;
		long w = strtol(arg, &end, 10);
		if (!*arg || *end || (w != 0 && (w < 10 || w > 1000)))
			return img_fail("Range of blkio weight is from 10 to 1000"), -1;
		lim->blkio_weight = w;
		return 0;
	}
	}
	return -1;
}

int img_container_setup(struct ims_store *s, const struct ims_create_opts *co,
			struct run_config *c, const struct run_cli *cli, bool create_only,
			char *const *from, struct ims_container **ret, struct cm_error *e)
{
	/* volumes (the image's VOLUME paths, -v, --volumes-from) for img run and
	 * create; a build step (from == IMG_NO_VOLUMES) has none, as docker's */
	bool vols = from != IMG_NO_VOLUMES;
	if (!vols)
		from = NULL;
	_cleanup_container_ struct ims_container *ct = NULL;
	int r = ims_container_create(s, co, &ct, e);
	if (r < 0)
		return r;
	_cleanup_image_ struct ims_image *img = NULL;
	/* img create: only the run dir for the config (nothing mounted) */
	if ((r = ims_container_image(s, ct, &img, e)) < 0 ||
	    (r = create_only ? ims_container_rundir(s, ct, e) : ims_container_mount(s, ct, e)) < 0) {
		free_container(s, ct->id);
		return r;
	}
	memcpy(c->id, ct->id, RUN_ID_LEN + 1);
	c->name = strdup(ct->name);
	c->image = strdup(co->image);
	c->image_id = strdup(img->id);
	c->bundle = strdup(ct->rundir);
	c->rootfs = strdup(ct->mountpoint);
	c->init_dir = strdup(ct->init);
	if (!c->hostname) {
		char h[13];
		snprintf(h, sizeof(h), "%.12s", ct->id);
		c->hostname = strdup(h);
	}
	c->created = ct->created;
	const struct cm_json *icfg = cm_json_get(img->config, "config");
	/* the image's HEALTHCHECK under what --health-* set (test, each number) */
	struct run_healthcheck ih = { 0 };
	if (vols && run_health_from_json(cm_json_get(icfg, "Healthcheck"), &ih) < 0) { /* not a build step's */
		free_container(s, ct->id);
		return cm_error_set(e, -ENOMEM, "out of memory");
	}
	if (!c->health.test)
		c->health.test = TAKE_PTR(ih.test);
	for (char **p = ih.test; p && *p; p++)
		free(*p);
	free(ih.test);
	if (!c->health.interval_ns)
		c->health.interval_ns = ih.interval_ns;
	if (!c->health.timeout_ns)
		c->health.timeout_ns = ih.timeout_ns;
	if (!c->health.start_period_ns)
		c->health.start_period_ns = ih.start_period_ns;
	if (!c->health.retries)
		c->health.retries = ih.retries;
	/* the image's STOPSIGNAL unless --stop-signal */
	const char *isig = cm_json_get_str(icfg, "StopSignal");
	if (!c->stop_signal && isig)
		(void)run_parse_signal(isig, &c->stop_signal, NULL);
	if ((r = run_spec_merge(c, icfg, cli, e)) < 0 ||
	    (vols && (r = img_volumes_prepare(s, c, icfg, from, e)) < 0)) {
		free_container(s, ct->id);
		return r;
	}
	/* run: the union is mounted, the volumes are seeded now; create's
	 * are at their first start */
	if ((vols && !create_only && (r = img_volumes_seed(s, c, e)) < 0) ||
	    (r = run_config_write(c, e)) < 0) {
		if (vols)
			img_volumes_release(s, c);
		free_container(s, ct->id);
		return r;
	}
	*ret = TAKE_PTR(ct);
	return 0;
}

int img_cmd_run(int argc, char **argv)
{
	/* img create takes run's flags (docker's create) and stops short of the start */
	bool create_only = strcmp(argv[0], "create") == 0;
	struct cm_error e = { 0 };
	_cleanup_run_config_ struct run_config *c = calloc(1, sizeof(*c));
	_cleanup_free_ char **env = NULL, **labels = NULL, **from = NULL;
	size_t n_from = 0;
	size_t n_env = 0, n_labels = 0, n_hosts = 0, n_dns = 0, n_search = 0, n_opts = 0,
	       n_tmpfs = 0, n_secopt = 0;
	/* the --env-file lines, owned here; env points at them */
	__attribute__((cleanup(strv_freep))) char **file_env = NULL;
	size_t n_file_env = 0;
	const char *name = NULL, *entrypoint = NULL, *cwd = NULL, *user = NULL;
	const char *pull = NULL;
	bool detach = false;
	int o, r;
	size_t n_sysctl = 0, n_groups = 0;
	struct run_healthcheck hc = { 0 };
	const char *hcmd = NULL;
	bool hset = false, nohealth = false;
	const char *log_driver = NULL, *net_ctr = NULL, *user_net = NULL, *want_ip = NULL;
	_cleanup_free_ char **net_aliases = NULL;
	size_t n_net_aliases = 0;
	bool publish_all = false;
	struct run_port expose[64];
	size_t n_expose = 0;
	_cleanup_free_ char **log_opts = NULL;
	size_t n_log_opts = 0;
	if (!c)
		return img_fail("out of memory");
	c->network = RUN_NET_BRIDGE; /* docker's default */
	c->stop_timeout = -1;
	while ((o = img_getopt(argc, argv)) != -1) {
		switch (o) {
		case 'd': detach = true; break;
		case 'i': c->interactive = true; break;
		case 't': c->tty = true; break;
		case OPT_RM: c->autoremove = true; break;
		case OPT_NAME: name = optarg; break;
		case OPT_PULL: pull = optarg; break;
		case 'e':
			if (strv_push(&env, &n_env, optarg) < 0)
				return img_fail("out of memory");
			break;
		case 'l':
			if (strv_push(&labels, &n_labels, optarg) < 0)
				return img_fail("out of memory");
			break;
		case OPT_ENVFILE: {
			size_t k = n_file_env;
			if (run_env_file_read(optarg, &file_env, &n_file_env, &e) < 0)
				return img_fail_err(&e);
			for (; k < n_file_env; k++)
				if (strv_push(&env, &n_env, file_env[k]) < 0)
					return img_fail("out of memory");
			break;
		}
		case 'v': {
			struct run_volume v;
			if (run_parse_volume(optarg, &v, &e) < 0)
				return img_fail_err(&e);
			if (img_vol_push(c, &v) < 0)
				return img_fail("out of memory");
			break;
		}
		case OPT_MOUNT: {
			struct run_volume v;
			char *t = NULL;
			if ((r = run_parse_mount(optarg, &v, &t, &e)) < 0)
				return img_fail_err(&e);
			if (r == 1 ? strv_push(&c->tmpfs, &n_tmpfs, t) < 0 : img_vol_push(c, &v) < 0)
				return img_fail("out of memory");
			break;
		}
		case OPT_VOLFROM:
			if (strv_push(&from, &n_from, optarg) < 0)
				return img_fail("out of memory");
			break;
		case 'w': cwd = optarg; break;
		case 'u': user = optarg; break;
		case 'h':
			free(c->hostname);
			c->hostname = strdup(optarg);
			break;
		case OPT_ENTRYPOINT: entrypoint = optarg; break;
		case 'm':
		case OPT_MEMSWAP:
		case OPT_CPUS:
		case OPT_SHARES:
		case OPT_PIDS:
			if (limit_opt(o, optarg, &c->lim) < 0)
				return RUN_EXIT_IMG;
			break;
		case OPT_RO: c->read_only = true; break;
		case OPT_NET:
			if (strncmp(optarg, "container:", 10) == 0 && optarg[10]) {
				c->network = RUN_NET_CONTAINER;
				net_ctr = optarg + 10;
				break;
			}
			user_net = NULL;
			if (run_parse_network(optarg, &c->network, &e) < 0) {
				/* a user-defined network: its name checked below */
				c->network = RUN_NET_BRIDGE;
				user_net = optarg;
				cm_error_clear(&e);
			}
			break;
		case OPT_NETALIAS:
			if (strchr(optarg, ',') || strchr(optarg, '|') || !*optarg)
				return img_fail("invalid network alias \"%s\"", optarg);
			if (strv_push(&net_aliases, &n_net_aliases, optarg) < 0)
				return img_fail("out of memory");
			break;
		case OPT_IP6:
			return img_network_no_ipv6("--ip6");
		case OPT_IP: {
			struct in_addr ia;
			if (inet_pton(AF_INET, optarg, &ia) != 1)
				return img_fail("invalid IPv4 address: %s", optarg);
			want_ip = optarg;
			break;
		}
		case 'p':
			if (port_push(c, optarg, &e) < 0)
				return img_fail_err(&e);
			break;
		case 'P': publish_all = true; break;
		case OPT_DETACHKEYS: {
			char k[16];
			size_t nk;
			if (run_parse_detach_keys(optarg, k, &nk, &e) < 0)
				return img_fail_err(&e);
			free(c->detach_keys);
			if (!(c->detach_keys = strdup(optarg)))
				return img_fail("out of memory");
			break;
		}
		case OPT_SIGPROXY:
			if (parse_sig_proxy(optarg) < 0)
				return RUN_EXIT_IMG;
			break;
		case OPT_EXPOSE:
			if (expose_add(optarg, expose, &n_expose) < 0)
				return RUN_EXIT_IMG;
			break;
		case OPT_USERNS:
			/* docker's --userns host (or =host): the host's user
			 * namespace, the default; img's own idmapped one is
			 * --userns alone or =private */
			if (!optarg && optind < argc && strcmp(argv[optind], "host") == 0)
				optarg = argv[optind++];
			if (optarg && strcmp(optarg, "host") != 0 && strcmp(optarg, "private") != 0 &&
			    *optarg)
				return img_fail("invalid --userns '%s' (host, or private: img's own)", optarg);
			c->userns = !optarg || strcmp(optarg, "private") == 0;
			break;
		case OPT_CGPARENT: c->cgroup_parent = strdup(optarg); break;
		case OPT_CGROUPNS:
			/* docker's: "" is the default for the host's version */
			if (strcmp(optarg, "host") != 0 && strcmp(optarg, "private") != 0 && *optarg)
				return img_fail("invalid --cgroupns '%s' (host or private)", optarg);
			c->cgroupns_mode = !*optarg ? RUN_CGROUPNS_DEFAULT
					 : strcmp(optarg, "host") == 0 ? RUN_CGROUPNS_HOST : RUN_CGROUPNS_PRIVATE;
			break;
		case OPT_RESTART:
			if (run_parse_restart(optarg, &c->restart, &c->restart_max, &e) < 0)
				return img_fail_err(&e);
			break;
		case OPT_ADDHOST: {
			char *h = NULL;
			if (run_parse_add_host(optarg, &h, &e) < 0)
				return img_fail_err(&e);
			if (strv_push(&c->extra_hosts, &n_hosts, h) < 0)
				return img_fail("out of memory");
			break;
		}
		case OPT_DNS:
		case OPT_DNSSEARCH:
		case OPT_DNSOPT: {
			const char *kind = o == OPT_DNS ? "dns" : o == OPT_DNSSEARCH ? "dns-search" : "dns-option";
			char ***v = o == OPT_DNS ? &c->dns : o == OPT_DNSSEARCH ? &c->dns_search : &c->dns_options;
			size_t *n = o == OPT_DNS ? &n_dns : o == OPT_DNSSEARCH ? &n_search : &n_opts;
			if (run_parse_dns(kind, optarg, &e) < 0)
				return img_fail_err(&e);
			if (strv_push(v, n, strdup(optarg)) < 0)
				return img_fail("out of memory");
			break;
		}
		case OPT_DEVICE: {
			struct run_device d, *nv;
			if (run_parse_device(optarg, &d, &e) < 0)
				return img_fail_err(&e);
			if (!(nv = realloc(c->devices, (c->n_devices + 1) * sizeof(*nv)))) {
				free(d.host);
				free(d.ctr);
				return img_fail("out of memory");
			}
			c->devices = nv;
			c->devices[c->n_devices++] = d;
			break;
		}
		case OPT_PIDNS:
		case OPT_UTSNS:
			/* the host's namespace, or the container's own (docker's
			 * container:NAME sharing is not supported) */
			if (strcmp(optarg, "host") != 0 && *optarg)
				return img_fail("--%s: '%s' is not supported (host, or none for the container's own)",
						o == OPT_PIDNS ? "pid" : "uts", optarg);
			*(o == OPT_PIDNS ? &c->host_pid : &c->host_uts) = *optarg != '\0';
			break;
		case OPT_TMPFS:
			if (run_parse_tmpfs(optarg, &e) < 0)
				return img_fail_err(&e);
			if (strv_push(&c->tmpfs, &n_tmpfs, strdup(optarg)) < 0)
				return img_fail("out of memory");
			break;
		case OPT_SHMSIZE:
			if (run_parse_bytes(optarg, &c->shm_size, &e) < 0)
				return img_fail_err(&e);
			if (c->shm_size <= 0)
				return img_fail("invalid --shm-size '%s'", optarg);
			break;
		case OPT_ULIMIT: {
			struct run_ulimit u, *nv;
			if (run_parse_ulimit(optarg, &u, &e) < 0)
				return img_fail_err(&e);
			if (!(nv = realloc(c->ulimits, (c->n_ulimits + 1) * sizeof(*nv))))
				return img_fail("out of memory");
			c->ulimits = nv;
			c->ulimits[c->n_ulimits++] = u;
			break;
		}
		case OPT_SECOPT: {
			char *so = NULL;
			if (run_security_opt_read(optarg, &so, &e) < 0 ||
			    run_security_opt_apply(c, so, &e) < 0) {
				free(so);
				return img_fail_err(&e);
			}
			if (strv_push(&c->security_opt, &n_secopt, so) < 0)
				return img_fail("out of memory");
			break;
		}
		case OPT_PRIVILEGED: c->privileged = true; break;
		case OPT_CIDFILE:
			free(c->cidfile);
			c->cidfile = strdup(optarg);
			break;
		case OPT_STOPSIGNAL:
			if (run_parse_signal(optarg, &c->stop_signal, &e) < 0)
				return img_fail_err(&e);
			break;
		case OPT_STOPTIMEOUT: {
			char *end;
			long t = strtol(optarg, &end, 10);
			if (!*optarg || *end || t < -1 || t > 1000000)
				return img_fail("invalid argument \"%s\" for \"--stop-timeout\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax",
						optarg, optarg);
			c->stop_timeout = (int)t;
			break;
		}
		case OPT_INIT: c->init = true; break;
		case OPT_HCMD:
			hcmd = optarg;
			hset = true;
			break;
		case OPT_HINTERVAL:
		case OPT_HTIMEOUT:
		case OPT_HSTART: {
			int64_t *dst = o == OPT_HINTERVAL ? &hc.interval_ns : o == OPT_HTIMEOUT ? &hc.timeout_ns : &hc.start_period_ns;
			const char *fl = o == OPT_HINTERVAL ? "health-interval" : o == OPT_HTIMEOUT ? "health-timeout" : "health-start-period";
			if (parse_duration(fl, optarg, dst))
				return RUN_EXIT_IMG;
			if (*dst && *dst < 1000000)
				return img_fail("%s in Healthcheck cannot be less than 1ms",
						o == OPT_HINTERVAL ? "Interval" : o == OPT_HTIMEOUT ? "Timeout" : "StartPeriod");
			hset = true;
			break;
		}
		case OPT_HRETRIES:
			hc.retries = atoi(optarg);
			if (hc.retries < 0)
				return img_fail("--health-retries cannot be negative");
			hset = true;
			break;
		case OPT_NOHEALTH: nohealth = true; break;
		case OPT_LOGDRIVER: log_driver = optarg; break;
		case OPT_LOGOPT:
			if (strv_push(&log_opts, &n_log_opts, optarg) < 0)
				return img_fail("out of memory");
			break;
		case OPT_SYSCTL:
			if (strv_push(&c->sysctls, &n_sysctl, strdup(optarg)) < 0)
				return img_fail("out of memory");
			break;
		case OPT_GROUPADD:
			if (strv_push(&c->group_add, &n_groups, strdup(optarg)) < 0)
				return img_fail("out of memory");
			break;
		case OPT_CPUSET:
		case OPT_MEMRES:
		case OPT_OOMKILL:
		case OPT_BLKIO:
			if (limit_opt(o, optarg, &c->lim) < 0)
				return RUN_EXIT_IMG;
			break;
		case OPT_CAPADD:
		case OPT_CAPDROP: {
			uint64_t m;
			if (run_parse_cap(optarg, &m, &e) < 0)
				return img_fail_err(&e);
			*(o == OPT_CAPADD ? &c->cap_add : &c->cap_drop) |= m;
			break;
		}
		default:
			return img_opt_exit(o);
		}
	}
	if (c->lim.memory && c->lim.memory_swap > 0 && c->lim.memory_swap < c->lim.memory)
		return img_fail("Minimum memoryswap limit should be larger than memory limit");
	if (nohealth && hset)
		return img_fail("--no-healthcheck conflicts with --health-* options");
	if (run_parse_log_driver(c, log_driver, log_opts, &e) < 0)
		return img_fail_err(&e);
	if (c->lim.memory && c->lim.memory_reservation > c->lim.memory)
		return img_fail("Minimum memory limit can not be less than memory reservation limit, see usage");
	for (char **p = c->sysctls; p && *p; p++)
		if (run_parse_sysctl(*p, c->network, &e) < 0)
			return img_fail_err(&e);
	if (c->init && cm_helper_find("img-init", "IMG_INIT", IMG_INIT_PATH, &c->init_path, &e) < 0)
		return img_fail_err(&e);
	if (c->cidfile && access(c->cidfile, F_OK) == 0)
		return img_fail("Container ID file found, make sure the other container isn't running or delete %s",
				c->cidfile);
	limits_warn(&c->lim, run_cgroup_default_root());
	if (c->network == RUN_NET_CONTAINER) { /* docker's conflicts */
		if (c->hostname)
			return img_fail("conflicting options: hostname and the network mode");
		if (c->dns || c->dns_search || c->dns_options)
			return img_fail("conflicting options: dns and the network mode");
		if (c->extra_hosts)
			return img_fail("conflicting options: custom host-to-IP mapping and the network mode");
		if (c->userns)
			return img_fail("conflicting options: --userns and the network mode (the other container's namespace)");
	}
	if (c->host_uts && c->hostname)
		return img_fail("Conflicting options: hostname and the UTS mode");
	if (c->host_uts) { /* /etc/hostname and $HOSTNAME: the host's, as docker's */
		char hn[256] = "";
		(void)gethostname(hn, sizeof(hn) - 1);
		if (!(c->hostname = strdup(hn)))
			return img_fail("out of memory");
	}
	if (c->autoremove && c->restart != RUN_RESTART_NO)
		return img_fail("Conflicting options: --restart and --rm");
	if (user_net) { /* docker: "network X not found" before anything exists */
		struct run_network un;
		if (run_network_get(user_net, &un, &e) < 0)
			return img_fail_err(&e);
		char *entry = run_netatt_format(un.name, want_ip, net_aliases);
		run_network_clear(&un);
		if (!entry || !(c->networks = calloc(2, sizeof(char *)))) {
			free(entry);
			return img_fail("out of memory");
		}
		c->networks[0] = entry;
	} else if (want_ip) {
		return img_fail("user specified IP address is supported on user defined networks only");
	} else if (n_net_aliases) {
		return img_fail("network-scoped alias is supported only for containers in user defined networks");
	}
	if (c->n_ports && c->network != RUN_NET_BRIDGE)
		return img_fail("conflicting options: port publishing and the container type network mode");
	if (c->privileged && c->userns)
		return img_fail("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode");
	/* a user's profile compiled as the container will get it: a bad one
	 * is refused before anything exists (the default one is known good) */
	if (c->seccomp && run_seccomp_check(c, &e) < 0)
		return img_fail_err(&e);
	/* recorded in runner.json: later commands find the cgroup without the env */
	if (!(c->cgroup_root = strdup(run_cgroup_default_root())))
		return img_fail("out of memory");
	/* a limit the cgroups cannot apply: refused before anything exists */
	if (run_cgroup_check(c->cgroup_root, &c->lim, &e) < 0)
		return img_fail_err(&e);
	/* docker records the mode it chose (private on v2, host on v1) */
	if (c->cgroupns_mode == RUN_CGROUPNS_DEFAULT)
		c->cgroupns_mode = run_cgroupns_private(c) ? RUN_CGROUPNS_PRIVATE : RUN_CGROUPNS_HOST;
	if (publish_all && c->network == RUN_NET_BRIDGE) { /* -P: needs the image's EXPOSE */
		_cleanup_(ims_store_freep) struct ims_store *ps = NULL;
		_cleanup_image_ struct ims_image *pimg = NULL;
		if (img_open_store(&ps, &e) < 0 || ims_image_resolve(ps, argv[optind], &pimg, &e) < 0)
			return img_fail_err(&e);
		if (publish_all_ports(c, expose, n_expose,
				      cm_json_get(cm_json_get(pimg->config, "config"), "ExposedPorts")) < 0)
			return img_fail("out of memory");
	}
	/* before anything is created: a port taken is refused, -p CTRPORT gets
	 * a free host port (the monitor checks again under the network lock) */
	if (run_net_check_ports("", c->ports, c->n_ports, &e) < 0)
		return img_fail_err(&e);

	/* a missing monitor is found before anything exists */
	_cleanup_free_ char *monitor = create_only ? NULL : img_monitor_path();
	if (!create_only && !monitor)
		return RUN_EXIT_IMG;
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	if (img_open_store(&s, &e) < 0)
		return img_fail_err(&e);
	r = img_pull_for_run(s, argv[optind], pull);
	if (r != 0)
		return r;
	const char *const *cmd = (const char *const *)argv + optind + 1;
	if (net_ctr) { /* --network container:X: X's id and bundle, X running now */
		_cleanup_container_ struct ims_container *x = NULL;
		struct run_state xs;
		if (ims_container_get(s, net_ctr, &x, &e) < 0)
			return img_fail_err(&e);
		if (!x->rundir || run_state_refresh(x->rundir, &xs, NULL) < 0 || xs.status != RUN_RUNNING)
			return img_fail("cannot join network of a non running container: %s", net_ctr);
		if (!(c->net_container = strdup(x->id)) || !(c->net_container_bundle = strdup(x->rundir)))
			return img_fail("out of memory");
	}
	struct ims_create_opts co = { .image = argv[optind], .name = name, .cmd = *cmd ? cmd : NULL,
				      .hostname = c->hostname, .ephemeral = c->autoremove };
	_cleanup_container_ struct ims_container *ct = NULL;
	struct winsize ws;
	if (c->tty && ioctl(0, TIOCGWINSZ, &ws) == 0) {
		c->tty_rows = ws.ws_row;
		c->tty_cols = ws.ws_col;
	}
	struct run_cli cli = { .cmd = argv + optind + 1, .entrypoint = entrypoint, .env = env,
			       .labels = labels, .cwd = cwd, .user = user };
	/* --health-*: over the image's HEALTHCHECK (img_container_setup) */
	if (nohealth || hcmd) {
		c->health.test = calloc(3, sizeof(char *));
		if (!c->health.test)
			return img_fail("out of memory");
		c->health.test[0] = strdup(nohealth ? "NONE" : "CMD-SHELL");
		c->health.test[1] = nohealth ? NULL : strdup(hcmd);
	}
	c->health.interval_ns = hc.interval_ns;
	c->health.timeout_ns = hc.timeout_ns;
	c->health.start_period_ns = hc.start_period_ns;
	c->health.retries = hc.retries;
	if (img_container_setup(s, &co, c, &cli, create_only, from, &ct, &e) < 0)
		return img_fail_err(&e);

	if (c->cidfile) { /* docker's: written once the container exists */
		FILE *f = fopen(c->cidfile, "wx");
		if (!f || fprintf(f, "%s", c->id) < 0 || fclose(f) != 0) {
			r = img_fail("Failed to create the container ID file: %s", strerror(errno));
			img_volumes_release(s, c);
			free_container(s, ct->id);
			return r;
		}
	}
	run_event_container(c->bundle, c, "create", NULL);
	if (create_only) { /* img create: the config kept for img start */
		printf("%s\n", c->id);
		return 0;
	}

	struct run_started st;
	fflush(stdout);
	img_volumes_mounted(s, c); /* docker's order: mount, then the monitor's start */
	if (run_container_start(monitor, NULL, c->bundle, !detach, &st, &e) < 0) {
		img_fail_err(&e);
		if (c->autoremove)
			free_container(s, ct->id);
		else /* left Created, as docker's, and not mounted */
			(void)ims_container_umount(s, ct, true, NULL);
		return st.fail_code;
	}
	if (detach) {
		printf("%s\n", c->id);
		cm_close(&st.sync);
		return 0;
	}
	ims_store_free(TAKE_PTR(s)); /* no store lock held while the container runs */
	return img_attach_wait(&st, c->tty, c->bundle, c->autoremove ? c->id : NULL);
}

/* ------------------------------------------------------------ start, stop... */

static int with_bundle(const char *ref, char **bundle, struct cm_error *e)
{
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	int r = img_open_store(&s, e);
	if (r < 0)
		return r;
	return find_bundle(s, ref, bundle, e);
}

/* A container made by `img create` has no runner config yet: the image's
 * process with the defaults. */
static int default_config(struct ims_store *s, struct ims_container *ct, struct cm_error *e)
{
	_cleanup_run_config_ struct run_config *c = calloc(1, sizeof(*c));
	_cleanup_image_ struct ims_image *img = NULL;
	char h[13];
	int r;
	if (!c)
		return -ENOMEM;
	if ((r = ims_container_image(s, ct, &img, e)) < 0)
		return r;
	memcpy(c->id, ct->id, RUN_ID_LEN + 1);
	snprintf(h, sizeof(h), "%.12s", ct->id);
	c->name = strdup(ct->name);
	c->image = strdup(ct->image ? ct->image : "");
	c->image_id = strdup(img->id);
	c->bundle = strdup(ct->rundir);
	c->rootfs = strdup(ct->mountpoint);
	c->hostname = strdup(h);
	c->init_dir = strdup(ct->init);
	c->network = RUN_NET_BRIDGE;
	c->created = ct->created;
	c->cgroup_root = strdup(run_cgroup_default_root());
	if (!c->name || !c->image || !c->image_id || !c->bundle || !c->rootfs || !c->hostname ||
	    !c->cgroup_root)
		return -ENOMEM;
	struct run_cli cli = { .cmd = ct->cmd };
	if ((r = run_spec_merge(c, cm_json_get(img->config, "config"), &cli, e)) < 0 ||
	    (r = run_mkdir_p(ct->rundir, 0700)) < 0)
		return r;
	return run_config_write(c, e);
}

static int start_one(const char *ref, bool attach)
{
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	_cleanup_container_ struct ims_container *ct = NULL;
	_cleanup_free_ char *bundle = NULL;
	if (img_open_store(&s, &e) < 0 || ims_container_get(s, ref, &ct, &e) < 0)
		return img_fail_err(&e);
	if (find_bundle(s, ref, &bundle, &e) == -ENOENT) {
		cm_error_clear(&e);
		if (default_config(s, ct, &e) < 0)
			return img_fail_err(&e);
	}
	if (!bundle && find_bundle(s, ref, &bundle, &e) < 0)
		return img_fail_err(&e);
	struct run_state rs;
	if (run_state_refresh(bundle, &rs, &e) < 0)
		return img_fail_err(&e);
	if (rs.status == RUN_RUNNING)
		return 0;
	_cleanup_free_ char *monitor = img_monitor_path();
	if (!monitor)
		return RUN_EXIT_IMG;
	bool was_mounted = ct->mounted; /* by img mount: stays so */
	if (ims_container_mount(s, ct, &e) < 0)
		return img_fail_err(&e);
	if (rs.status == RUN_CREATED && rs.started_ns == 0) { /* img create's: seeded now */
		_cleanup_run_config_ struct run_config *c = NULL;
		if (run_config_read(bundle, &c, &e) < 0 || img_volumes_seed(s, c, &e) < 0) {
			if (!was_mounted)
				(void)ims_container_umount(s, ct, true, NULL);
			return img_fail_err(&e);
		}
	}
	struct run_started st;
	{
		_cleanup_run_config_ struct run_config *c = NULL;
		if (run_config_read(bundle, &c, NULL) == 0)
			img_volumes_mounted(s, c);
	}
	if (run_container_start(monitor, NULL, bundle, attach, &st, &e) < 0) {
		img_fail_err(&e);
		if (!was_mounted)
			(void)ims_container_umount(s, ct, true, NULL);
		return st.fail_code;
	}
	ims_store_free(TAKE_PTR(s));
	if (attach) {
		_cleanup_run_config_ struct run_config *c = NULL;
		bool tty = run_config_read(bundle, &c, NULL) == 0 && c->tty;
		return img_attach_wait(&st, tty, bundle, NULL);
	}
	cm_close(&st.sync);
	return 0;
}

int img_cmd_start(int argc, char **argv)
{
	bool attach = false;
	int o, rc = 0;
	while ((o = img_getopt(argc, argv)) != -1) {
		if (o != 'a')
			return img_opt_exit(o);
		attach = true;
	}
	for (int i = optind; i < argc; i++) {
		int r = start_one(argv[i], attach);
		if (attach)
			return r;
		if (r)
			rc = r;
		else
			puts(argv[i]);
	}
	return rc;
}

/* img attach: docker's; the detach keys leave it with 0 (as docker's
 * current client does, and run -it here), the container's exit with its
 * exit code. */
int img_cmd_attach(int argc, char **argv)
{
	const char *keys = NULL;
	bool with_stdin = true;
	int o;
	while ((o = img_getopt(argc, argv)) != -1) {
		switch (o) {
		case OPT_DETACHKEYS: keys = optarg; break;
		case OPT_NOSTDIN: with_stdin = false; break;
		case OPT_SIGPROXY:
			if (parse_sig_proxy(optarg) < 0)
				return RUN_EXIT_IMG;
			break;
		default: return img_opt_exit(o);
		}
	}
	struct cm_error e = { 0 };
	_cleanup_free_ char *bundle = NULL;
	_cleanup_run_config_ struct run_config *c = NULL;
	struct run_started st;
	if (with_bundle(argv[optind], &bundle, &e) < 0 || run_config_read(bundle, &c, &e) < 0 ||
	    run_container_attach(bundle, with_stdin, keys, &st, &e) < 0)
		return img_fail_err(&e);
	return img_attach_wait(&st, c->tty, bundle, NULL);
}

static int stop_like(int argc, char **argv, bool restart)
{
	int timeout = -1, o, rc = 0; /* -1: the container's --stop-timeout, else 10 */
	while ((o = img_getopt(argc, argv)) != -1) {
		if (o != 't')
			return img_opt_exit(o);
		timeout = atoi(optarg);
	}
	for (int i = optind; i < argc; i++) {
		struct cm_error e = { 0 };
		_cleanup_free_ char *bundle = NULL;
		if (with_bundle(argv[i], &bundle, &e) < 0 || run_container_stop(bundle, timeout, &e) < 0) {
			rc = img_fail_err(&e);
			continue;
		}
		run_event_container(bundle, NULL, "stop", NULL);
		if (restart && (rc = start_one(argv[i], false)) != 0)
			continue;
		if (restart)
			run_event_container(bundle, NULL, "restart", NULL);
		puts(argv[i]);
	}
	return rc;
}

int img_cmd_stop(int argc, char **argv)
{
	return stop_like(argc, argv, false);
}

int img_cmd_restart(int argc, char **argv)
{
	return stop_like(argc, argv, true);
}

int img_cmd_kill(int argc, char **argv)
{
	int sig = SIGKILL, o, rc = 0;
	struct cm_error e = { 0 };
	while ((o = img_getopt(argc, argv)) != -1) {
		if (o != 's')
			return img_opt_exit(o);
		if (run_parse_signal(optarg, &sig, &e) < 0)
			return img_fail_err(&e);
	}
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *bundle = NULL;
		cm_error_clear(&e);
		if (with_bundle(argv[i], &bundle, &e) < 0 || run_container_kill(bundle, sig, &e) < 0) {
			rc = img_fail_err(&e);
		} else {
			char sa[24];
			snprintf(sa, sizeof(sa), "signal=%d", sig);
			char *const attrs[] = { sa, NULL };
			run_event_container(bundle, NULL, "kill", attrs);
			puts(argv[i]);
		}
	}
	return rc;
}

static int pause_like(int argc, char **argv, bool pause)
{
	int o = img_getopt(argc, argv), rc = 0;
	if (o != -1)
		return img_opt_exit(o);
	for (int i = optind; i < argc; i++) {
		struct cm_error e = { 0 };
		_cleanup_free_ char *bundle = NULL;
		if (with_bundle(argv[i], &bundle, &e) < 0 || run_container_pause(bundle, pause, &e) < 0) {
			rc = img_fail_err(&e);
		} else {
			run_event_container(bundle, NULL, pause ? "pause" : "unpause", NULL);
			puts(argv[i]);
		}
	}
	return rc;
}

int img_cmd_pause(int argc, char **argv)
{
	return pause_like(argc, argv, true);
}

int img_cmd_unpause(int argc, char **argv)
{
	return pause_like(argc, argv, false);
}

/* ------------------------------------------------------------ stats */

/* docker's sizes: binary for memory (MiB), decimal for I/O (MB) */
static void stats_size(int64_t v, bool binary, char *buf, size_t sz)
{
	static const char *const bin[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	static const char *const dec[] = { "B", "kB", "MB", "GB", "TB" };
	if (v < 0) {
		snprintf(buf, sz, "--");
		return;
	}
	double x = (double)v, k = binary ? 1024.0 : 1000.0;
	size_t u = 0;
	while (x >= k && u + 1 < CM_ARRAY_SIZE(bin)) {
		x /= k;
		u++;
	}
	snprintf(buf, sz, "%.4g%s", x, binary ? bin[u] : dec[u]);
}

struct stats_row {
	char id[13], name[64], ref[80], *bundle; /* ref: as given (docker's .Container) */
	struct run_stats a, b;
	bool ok;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One refresh of the table (or format): 0, or 125 after a template error. */
static int stats_print(struct stats_row *rows, size_t n, int64_t wall_ns, const char *format)
{
	static const char *const hdr[] = {
		"BlockIO", "BLOCK I/O", "CPUPerc", "CPU %", "Container", "CONTAINER", "ID", "CONTAINER ID",
		"MemPerc", "MEM %", "MemUsage", "MEM USAGE / LIMIT", "Name", "NAME", "NetIO", "NET I/O",
		"PIDs", "PIDS",
	};
	struct img_fmt f = { 0 };
	int rc = img_fmt_open(&f, format,
			      "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
			      hdr, CM_ARRAY_SIZE(hdr) / 2, "*formatter.statsContext");
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct run_stats *a = &rows[i].a, *b = &rows[i].b;
		if (!rows[i].ok)
			continue;
		char cpu[16] = "--", mu[16], ml[16], mem[48], mp[16] = "--", n1[16], n2[16], net[40],
		     b1[16], b2[16], blk[40], pids[24] = "--";
		if (a->cpu_ns >= 0 && b->cpu_ns >= a->cpu_ns && wall_ns > 0)
			snprintf(cpu, sizeof(cpu), "%.2f%%", 100.0 * (double)(b->cpu_ns - a->cpu_ns) / (double)wall_ns);
		stats_size(b->mem_usage, true, mu, sizeof(mu));
		stats_size(b->mem_limit, true, ml, sizeof(ml));
		snprintf(mem, sizeof(mem), "%s / %s", mu, ml);
		if (b->mem_usage >= 0 && b->mem_limit > 0)
			snprintf(mp, sizeof(mp), "%.2f%%", 100.0 * (double)b->mem_usage / (double)b->mem_limit);
		stats_size(b->net_rx, false, n1, sizeof(n1));
		stats_size(b->net_tx, false, n2, sizeof(n2));
		snprintf(net, sizeof(net), "%s / %s", n1, n2);
		stats_size(b->blk_read, false, b1, sizeof(b1));
		stats_size(b->blk_write, false, b2, sizeof(b2));
		snprintf(blk, sizeof(blk), "%s / %s", b1, b2);
		if (b->pids >= 0)
			snprintf(pids, sizeof(pids), "%lld", (long long)b->pids);
		const char *kv[] = {
			"BlockIO", blk, "CPUPerc", cpu, "Container", rows[i].ref, "ID", rows[i].id,
			"MemPerc", mp, "MemUsage", mem, "Name", rows[i].name, "NetIO", net, "PIDs", pids,
		};
		_cleanup_json_ struct cm_json *row = cm_tpl_strmap(kv, CM_ARRAY_SIZE(kv) / 2);
		rc = row ? img_fmt_row(&f, row) : img_fail("out of memory");
	}
	rc = img_fmt_end(&f, rc);
	fflush(stdout);
	return rc;
}

/* img stats [--no-stream] [CONTAINER...]: every running container without
 * names; CPU % from two samples (0.5 s apart with --no-stream, else each
 * refresh, every second, until interrupted). */
int img_cmd_stats(int argc, char **argv)
{
	bool stream = true, all = false;
	const char *format = NULL;
	int o;
	while ((o = img_getopt(argc, argv)) != -1) {
		if (o == OPT_NOSTREAM)
			stream = false;
		else if (o == OPT_FORMAT)
			format = optarg;
		else if (o == 'a')
			all = true;
		else if (o == OPT_NOTRUNC)
			;
		else
			return img_opt_exit(o);
	}
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	if (img_open_store(&s, &e) < 0)
		return img_fail_err(&e);
	struct ims_container **v = NULL;
	size_t nv = 0, n = 0;
	int rc = 0;
	if (optind == argc && ims_container_list(s, &v, &nv, &e) < 0)
		return img_fail_err(&e);
	size_t want = optind < argc ? (size_t)(argc - optind) : nv;
	struct stats_row *rows = calloc(want ? want : 1, sizeof(*rows));
	if (!rows)
		return img_fail("out of memory");
	for (size_t i = 0; i < want; i++) {
		_cleanup_container_ struct ims_container *ct = NULL;
		if (optind < argc) {
			if (ims_container_get(s, argv[optind + (int)i], &ct, &e) < 0) {
				rc = img_fail_err(&e);
				cm_error_clear(&e);
				continue;
			}
		} else {
			ct = TAKE_PTR(v[i]);
			if (!all && strncmp(ct->status, "Up", 2) != 0)
				continue;
		}
		struct stats_row *r = &rows[n];
		snprintf(r->id, sizeof(r->id), "%.12s", ct->id);
		snprintf(r->ref, sizeof(r->ref), "%s", optind < argc ? argv[optind + (int)i] : r->id);
		snprintf(r->name, sizeof(r->name), "%s", ct->name ? ct->name : "");
		if (!(r->bundle = strdup(ct->rundir)))
			continue;
		if (run_container_stats(r->bundle, &r->b, &e) < 0) {
			if (optind < argc)
				rc = img_fail_err(&e);
			cm_error_clear(&e);
			free(r->bundle);
			continue;
		}
		n++;
	}
	free(v);
	for (;;) {
		int64_t t0 = mono_ns();
		for (size_t i = 0; i < n; i++) {
			rows[i].a = rows[i].b;
			rows[i].ok = true;
		}
		struct timespec ts = { stream ? 1 : 0, stream ? 0 : 500 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		int64_t wall = mono_ns() - t0;
		for (size_t i = 0; i < n; i++)
			rows[i].ok = run_container_stats(rows[i].bundle, &rows[i].b, NULL) == 0;
		if (stream && isatty(1))
			fputs("\033[2J\033[H", stdout);
		int fr = stats_print(rows, n, wall, format);
		if (fr) {
			rc = fr;
			break;
		}
		if (!stream)
			break;
	}
	for (size_t i = 0; i < n; i++)
		free(rows[i].bundle);
	free(rows);
	return rc;
}

/* img update [-m] [--memory-swap] [--cpus] [--cpu-shares] [--pids-limit]
 * CONTAINER...: new limits, applied at once to a running container's cgroup
 * and kept in its config for the next start. */
int img_cmd_update(int argc, char **argv)
{
	struct run_limits set = { 0 };
	int o, rc = 0;
	while ((o = img_getopt(argc, argv)) != -1) {
		if (o < 0)
			return img_opt_exit(o);
		if (limit_opt(o, optarg, &set) < 0)
			return RUN_EXIT_IMG;
	}
	for (int i = optind; i < argc; i++) {
		struct cm_error e = { 0 };
		_cleanup_free_ char *bundle = NULL;
		if (with_bundle(argv[i], &bundle, &e) < 0 || run_container_update(bundle, &set, &e) < 0)
			rc = img_fail_err(&e);
		else
			puts(argv[i]);
	}
	return rc;
}

int img_cmd_wait(int argc, char **argv)
{
	int o = img_getopt(argc, argv), rc = 0;
	if (o != -1)
		return img_opt_exit(o);
	for (int i = optind; i < argc; i++) {
		struct cm_error e = { 0 };
		_cleanup_free_ char *bundle = NULL;
		int code;
		if (with_bundle(argv[i], &bundle, &e) < 0 || run_container_wait(bundle, &code, &e) < 0) {
			rc = img_fail_err(&e);
			continue;
		}
		printf("%d\n", code);
		fflush(stdout);
	}
	return rc;
}

int img_cmd_logs(int argc, char **argv)
{
	bool follow = false, ts = false;
	long tail = -1;
	int64_t since = 0, until = 0, now = run_now_ns();
	struct cm_error e = { 0 };
	int o;
	while ((o = img_getopt(argc, argv)) != -1) {
		switch (o) {
		case 'f': follow = true; break;
		case 't': ts = true; break;
		case 'n': tail = strcmp(optarg, "all") == 0 ? -1 : strtol(optarg, NULL, 10); break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (run_parse_log_time(optarg, now, o == OPT_SINCE ? &since : &until, &e) < 0)
				return img_fail_err(&e);
			break;
		default: return img_opt_exit(o);
		}
	}
	_cleanup_free_ char *bundle = NULL;
	if (with_bundle(argv[optind], &bundle, &e) < 0 ||
	    run_logs(bundle, tail, follow, ts, since, until, 1, 2, &e) < 0) {
		img_fail_err(&e);
		return e.code == -ENOTSUP ? 1 : RUN_EXIT_IMG; /* docker's 1 for --log-driver none */
	}
	return 0;
}

int img_cmd_exec(int argc, char **argv)
{
	struct run_exec x = { 0 };
	_cleanup_free_ char **env = NULL;
	size_t n_env = 0;
	int o;
	while ((o = img_getopt(argc, argv)) != -1) {
		switch (o) {
		case 'i': x.interactive = true; break;
		case 't': x.tty = true; break;
		case 'e':
			if (strv_push(&env, &n_env, optarg) < 0)
				return img_fail("out of memory");
			break;
		case 'w': x.cwd = optarg; break;
		case 'u': x.user = optarg; break;
		default: return img_opt_exit(o);
		}
	}
	x.env = env;
	x.argv = argv + optind + 1;
	struct cm_error e = { 0 };
	_cleanup_free_ char *bundle = NULL;
	if (with_bundle(argv[optind], &bundle, &e) < 0)
		return img_fail_err(&e);
	if (!x.interactive && !x.tty) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			close(null);
		}
	}
	/* what joins the container is the small monitor binary, run from a
	 * sealed copy: a "#!/proc/self/exe" or /proc/PID/exe in there reaches
	 * no file of the host (runc's CVE-2019-5736) */
	_cleanup_free_ char *monitor = img_monitor_path();
	if (!monitor)
		return RUN_EXIT_IMG;
	_cleanup_close_ int exe = run_sealed_copy(monitor, &e);
	if (exe < 0)
		return img_fail_err(&e);
	_cleanup_free_ char **av = calloc(2 * n_env + (size_t)argc + 12, sizeof(char *));
	if (!av)
		return img_fail("out of memory");
	size_t n = 0;
	av[n++] = "img-monitor";
	av[n++] = "exec";
	av[n++] = bundle;
	if (x.interactive)
		av[n++] = "-i";
	if (x.tty)
		av[n++] = "-t";
	if (x.cwd) {
		av[n++] = "-w";
		av[n++] = (char *)x.cwd;
	}
	if (x.user) {
		av[n++] = "-u";
		av[n++] = (char *)x.user;
	}
	for (size_t i = 0; i < n_env; i++) {
		av[n++] = "-e";
		av[n++] = env[i];
	}
	av[n++] = "--";
	for (char **a = x.argv; *a; a++)
		av[n++] = *a;
	fflush(stdout);
	int r = run_exec_fd(exe, av);
	return img_fail("executing %s: %s", monitor, strerror(-r));
}

int img_cmd_top(int argc, char **argv)
{
	int o = img_getopt(argc, argv);
	if (o != -1)
		return img_opt_exit(o);
	const char *ref = argv[optind];
	struct cm_error e = { 0 };
	_cleanup_free_ char *bundle = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	struct run_state st;
	if (with_bundle(ref, &bundle, &e) < 0 || run_state_refresh(bundle, &st, &e) < 0)
		return img_fail_err(&e);
	if (st.status != RUN_RUNNING)
		return img_fail("container %s is not running", ref);
	if (run_container_pids(bundle, &pids, &n, &e) < 0)
		return img_fail_err(&e);
	printf("%-8s %-8s %-8s %s\n", "UID", "PID", "PPID", "CMD");
	for (size_t i = 0; i < n; i++) {
		char p[64], line[4096] = "", buf[4096];
		unsigned uid = 0;
		int ppid = 0;
		snprintf(p, sizeof(p), "/proc/%d/status", (int)pids[i]);
		FILE *f = fopen(p, "re");
		while (f && fgets(buf, sizeof(buf), f)) {
			if (strncmp(buf, "Uid:", 4) == 0)
				uid = (unsigned)strtoul(buf + 4, NULL, 10);
			else if (strncmp(buf, "PPid:", 5) == 0)
				ppid = atoi(buf + 5);
		}
		if (f)
			fclose(f);
		snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pids[i]);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		ssize_t k = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
		if (fd >= 0)
			close(fd);
		for (ssize_t j = 0; j < k - 1; j++)
			if (!line[j])
				line[j] = ' ';
		if (k > 0)
			line[k] = '\0';
		printf("%-8u %-8d %-8d %s\n", uid, (int)pids[i], ppid, line);
	}
	return 0;
}

/* `img container inspect CTR...`: the runtime view (State, namespaces, limits). */
int img_inspect_container(const char *ref, struct cm_jw *w, struct cm_error *e)
{
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	_cleanup_container_ struct ims_container *c = NULL;
	_cleanup_free_ char *bundle = NULL;
	int r = img_open_store(&s, e);
	if (r < 0 || (r = ims_container_get(s, ref, &c, e)) < 0)
		return r;
	cm_error_clear(e);
	if (find_bundle(s, ref, &bundle, e) == 0)
		return run_container_inspect(bundle, w, e);
	cm_error_clear(e);
	cm_jw_obj(w);
	cm_jw_key(w, "Id");
	cm_jw_str(w, c->id);
	cm_jw_key(w, "Name");
	char name[512];
	snprintf(name, sizeof(name), "/%s", c->name ? c->name : "");
	cm_jw_str(w, name);
	cm_jw_key(w, "Image");
	cm_jw_str(w, c->image_id);
	char created[64];
	ims_time_format(c->created, created, sizeof(created));
	cm_jw_key(w, "Created");
	cm_jw_str(w, created);
	cm_jw_key(w, "State");
	cm_jw_obj(w);
	cm_jw_key(w, "Status");
	cm_jw_str(w, "created");
	cm_jw_key(w, "Running");
	cm_jw_bool(w, false);
	cm_jw_key(w, "Pid");
	cm_jw_int(w, 0);
	cm_jw_key(w, "ExitCode");
	cm_jw_int(w, 0);
	cm_jw_obj_end(w);
	cm_jw_key(w, "GraphDriver");
	cm_jw_obj(w);
	cm_jw_key(w, "Name");
	cm_jw_str(w, "ufsmount");
	cm_jw_key(w, "Data");
	cm_jw_obj(w);
	cm_jw_key(w, "UpperDir");
	cm_jw_str(w, c->rw);
	cm_jw_key(w, "InitDir");
	cm_jw_str(w, c->init);
	cm_jw_key(w, "MergedDir");
	cm_jw_str(w, c->mountpoint);
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	return 0;
}

/* `img rm [-f] CTR...`: the runtime part first (stop with -f, the cgroup,
 * the runner's state, the union), then the store's container. Registered
 * ahead of the store's rm so a running container never outlives its
 * removal; a container that never ran goes straight to the store. */
int img_cmd_rm(int argc, char **argv)
{
	bool force = false, volumes = false;
	int o, rc = 0;
	while ((o = img_getopt(argc, argv)) != -1) {
		if (o == 'f')
			force = true;
		else if (o == 'v')
			volumes = true;
		else
			return img_opt_exit(o);
	}
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	struct cm_error e = { 0 };
	if (img_open_store(&s, &e) < 0)
		return img_fail_err(&e);
	for (int i = optind; i < argc; i++) {
		cm_error_clear(&e);
		int r = img_ctr_remove(s, argv[i], force, volumes, &e);
		if (r < 0) {
			img_fail_err(&e);
			/* docker's exit code for an unknown container */
			rc = r == -ENOENT && strstr(e.msg, "No such") ? (rc ? rc : 1) : RUN_EXIT_IMG;
			continue;
		}
		puts(argv[i]);
	}
	return rc;
}

int img_ctr_remove(struct ims_store *s, const char *ref, bool force, bool volumes, struct cm_error *e)
{
	_cleanup_free_ char *bundle = NULL;
	int r = find_bundle(s, ref, &bundle, e);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT && e->msg[0] && strstr(e->msg, "No such"))
		return r;
	cm_error_clear(e);
	/* the runner unmounts what it mounted to run; a container
	 * only mounted by img mount still needs -f, as before */
	struct run_state rst;
	_cleanup_container_ struct ims_container *ct = NULL;
	if (bundle && !force && run_state_refresh(bundle, &rst, NULL) == 0 &&
	    rst.status != RUN_RUNNING && rst.status != RUN_RESTARTING &&
	    ims_container_get(s, ref, &ct, NULL) == 0 && ct->mounted &&
	    (r = ims_container_remove(s, ref, false, e)) < 0)
		return r;
	_cleanup_run_config_ struct run_config *cfg = NULL;
	if (bundle)
		(void)run_config_read(bundle, &cfg, NULL);
	if ((bundle && (r = run_container_remove(bundle, force, e)) < 0) ||
	    (r = ims_container_remove(s, ref, force || bundle, e)) < 0)
		return r;
	if (cfg)
		run_event_container(bundle, cfg, "destroy", NULL);
	/* rm -v, and an --rm container (the monitor's img rm -f) */
	if (cfg && (volumes || cfg->autoremove))
		img_volumes_release(s, cfg);
	return 0;
}

void img_refresh_status(struct ims_container *ct)
{
	struct run_state st;
	if (!ct->rundir ||
	    (strncmp(ct->status, "Up", 2) != 0 && strncmp(ct->status, "Restarting", 10) != 0) ||
	    run_state_refresh(ct->rundir, &st, NULL) < 0)
		return;
	if (st.status == RUN_RUNNING) {
		char *p = NULL, hs[16];
		if (run_container_paused(ct->rundir) && asprintf(&p, "%s (Paused)", ct->status) > 0) {
			free(ct->status);
			ct->status = p;
		} else if (run_health_status(ct->rundir, hs, sizeof(hs)) &&
			   asprintf(&p, "%s (%s%s)", ct->status, strcmp(hs, "starting") ? "" : "health: ", hs) > 0) {
			free(ct->status); /* docker's "Up 5 seconds (healthy)" */
			ct->status = p;
		}
		return;
	}
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/status", ct->rundir);
	_cleanup_free_ char *line = NULL;
	FILE *f = fopen(p, "re");
	size_t cap = 0;
	if (f && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		free(ct->status);
		ct->status = TAKE_PTR(line);
	}
	if (f)
		fclose(f);
}

/* img ps's PORTS of a running container: "127.0.0.1:8080->80/tcp, ...". */
void img_ports_column(const struct ims_container *ct, char *buf, size_t sz)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	size_t off = 0;
	buf[0] = '\0';
	if (!ct->rundir || strncmp(ct->status, "Up", 2) != 0 || run_config_read(ct->rundir, &c, NULL) < 0)
		return;
	for (size_t i = 0; i < c->n_ports && off < sz; i++) {
		char p[64];
		run_port_format(&c->ports[i], p, sizeof(p));
		off += (size_t)snprintf(buf + off, sz - off, "%s%s", i ? ", " : "", p);
	}
}

/* `img port CTR [PORT[/PROTO]]`: docker's "80/tcp -> 127.0.0.1:8080" lines. */
int img_cmd_port(int argc, char **argv)
{
	int o = img_getopt(argc, argv);
	if (o != -1)
		return img_opt_exit(o);
	const char *ref = argv[optind], *want = optind + 1 < argc ? argv[optind + 1] : NULL;
	struct cm_error e = { 0 };
	_cleanup_free_ char *bundle = NULL;
	_cleanup_run_config_ struct run_config *c = NULL;
	struct run_state st;
	if (with_bundle(ref, &bundle, &e) < 0 || run_config_read(bundle, &c, &e) < 0 ||
	    run_state_refresh(bundle, &st, &e) < 0)
		return img_fail_err(&e);
	if (st.status != RUN_RUNNING)
		return 0;
	bool found = false;
	for (size_t i = 0; i < c->n_ports; i++) {
		const struct run_port *p = &c->ports[i];
		char key[16];
		snprintf(key, sizeof(key), "%u/%s", p->ctr_port, p->udp ? "udp" : "tcp");
		if (want && strcmp(want, key) != 0 &&
		    !(strchr(want, '/') == NULL && !p->udp && (unsigned)atoi(want) == p->ctr_port))
			continue;
		found = true;
		if (want)
			printf("%s:%u\n", p->host_ip, p->host_port);
		else
			printf("%s -> %s:%u\n", key, p->host_ip, p->host_port);
	}
	if (want && !found)
		return img_fail("No public port '%s' published for %s", want, ref);
	return 0;
}

/* s joined to *acc with "," */
static int join_to(char **acc, const char *s)
{
	char *n = NULL;
	if (asprintf(&n, "%s%s%s", *acc ? *acc : "", *acc && **acc ? "," : "", s) < 0)
		return -ENOMEM;
	free(*acc);
	*acc = n;
	return 0;
}

int img_ctr_columns(const struct ims_container *ct, bool trunc, char **labels, char **mounts,
		    char **networks, size_t *n_local)
{
	*n_local = 0;
	_cleanup_run_config_ struct run_config *c = NULL;
	_cleanup_free_ char *l = strdup(""), *m = strdup(""), *n = strdup("");
	if (!l || !m || !n)
		return -ENOMEM;
	if (ct->rundir && run_config_read(ct->rundir, &c, NULL) == 0) {
		for (char **p = c->labels; p && *p; p++)
			if (join_to(&l, *p) < 0)
				return -ENOMEM;
		for (size_t i = 0; i < c->n_vols; i++) {
			/* docker: a volume's name, a bind's host path */
			const char *src = c->vols[i].volume && c->vols[i].name ? c->vols[i].name : c->vols[i].host;
			if (c->vols[i].volume)
				(*n_local)++;
			_cleanup_free_ char *name = trunc ? cm_text_ellipsis(src, 15) : strdup(src);
			if (!name || join_to(&m, name) < 0)
				return -ENOMEM;
		}
		if (join_to(&n, run_network_name(c->network)) < 0)
			return -ENOMEM;
	}
	*labels = TAKE_PTR(l);
	*mounts = TAKE_PTR(m);
	*networks = TAKE_PTR(n);
	return 0;
}

bool img_ctr_has_label(const struct ims_container *ct, const char *spec)
{
	_cleanup_run_config_ struct run_config *c = NULL;
	if (!ct->rundir || run_config_read(ct->rundir, &c, NULL) < 0)
		return false;
	bool with_value = strchr(spec, '=') != NULL;
	size_t kl = with_value ? (size_t)(strchr(spec, '=') - spec) : strlen(spec);
	for (char **l = c->labels; l && *l; l++)
		if (with_value ? strcmp(*l, spec) == 0 : strncmp(*l, spec, kl) == 0 && (*l)[kl] == '=')
			return true;
	return false;
}
