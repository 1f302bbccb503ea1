// SPDX-License-Identifier: MIT
/* img network create/ls/inspect/rm/prune/connect/disconnect (issue 14):
 * user-defined networks (runner/net-user.c keeps them, runner/net.c
 * attaches containers; docs/network.md). Only this file's commands print. */
#include "img-run.h"
#include "img-format.h"
#include "cm.h"
#include "ims.h"
#include "run.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* docker's built-in "host" and "none" (img has no definition to keep) */
static const char host_id[] = "696d672d686f73742d6e6574776f726b2d6275696c742d696e2d303030303030";
static const char none_id[] = "696d672d6e6f6e652d6e6574776f726b2d6275696c742d696e2d303030303030";

/* RFC 3339 with ns, UTC (docker's Created) */
static void time_fmt(int64_t ns, char *buf, size_t sz)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	char b[32];
	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%09lldZ", b, (long long)(ns % 1000000000));
}

static void net_event(const struct run_network *n, const char *action, const char *ctr)
{
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	if (img_open_store(&s, &e) < 0)
		return;
	char name[80], cid[80];
	snprintf(name, sizeof(name), "name=%s", n->name);
	snprintf(cid, sizeof(cid), "container=%s", ctr ? ctr : "");
	char *attrs[] = { ctr ? cid : name, ctr ? name : "type=bridge", ctr ? "type=bridge" : NULL, NULL };
	img_event(s, "network", action, n->id, NULL, attrs);
}

int img_network_no_ipv6(const char *flag)
{
	return img_fail("%s: IPv6 is not supported: img's networks are IPv4 only (docs/network.md)", flag);
}

int img_cmd_network_create(int argc, char **argv)
{
	struct run_network n = { 0 };
	char **labels = NULL;
	size_t nl = 0;
	int c, rc;
	while ((c = img_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'd':
			if (strcmp(optarg, "bridge") != 0) {
				img_strv_free(labels);
				return img_fail("plugin \"%s\" not found (img: only the bridge driver)", optarg);
			}
			break;
		case OPT_SUBNET: snprintf(n.subnet, sizeof(n.subnet), "%.19s", optarg); break;
		case OPT_GATEWAY: snprintf(n.gateway, sizeof(n.gateway), "%.15s", optarg); break;
		case OPT_INTERNAL: n.internal = true; break;
		case OPT_IPV6: /* pflag's bool: --ipv6, --ipv6=false */
			if (!optarg || strcmp(optarg, "true") == 0 || strcmp(optarg, "1") == 0) {
				img_strv_free(labels);
				return img_network_no_ipv6("--ipv6");
			}
			if (strcmp(optarg, "false") != 0 && strcmp(optarg, "0") != 0) {
				img_strv_free(labels);
				return img_fail("invalid argument \"%s\" for \"--ipv6\" flag: want true or false", optarg);
			}
			break;
		case OPT_LABEL:
			if (img_strv_add(&labels, &nl, optarg) < 0)
				return img_fail("out of memory");
			break;
		default:
			img_strv_free(labels);
			return img_opt_exit(c);
		}
	}
	snprintf(n.name, sizeof(n.name), "%.63s", argv[optind]);
	n.labels = labels;
	struct cm_error e = { 0 };
	rc = strlen(argv[optind]) > 63 ? img_fail("invalid network name \"%s\": too long", argv[optind])
	     : run_network_create(&n, &e) < 0 ? img_fail_err(&e) : 0;
	if (rc == 0) {
		puts(n.id);
		net_event(&n, "create", NULL);
	}
	run_network_clear(&n);
	return rc;
}

static bool label_match(char *const *labels, const char *want)
{
	size_t kl = strcspn(want, "=");
	for (char *const *l = labels; l && *l; l++)
		if (want[kl] ? strcmp(*l, want) == 0 : (strncmp(*l, want, kl) == 0 && (*l)[kl] == '='))
			return true;
	return false;
}

static bool nfilter_one(const struct img_filter *f, void *ctx)
{
	const struct run_network *n = ctx;
	bool builtin = !strcmp(n->name, "bridge") || !strcmp(n->name, "host") || !strcmp(n->name, "none");
	if (strcmp(f->key, "name") == 0)
		return strstr(n->name, f->val) != NULL;
	if (strcmp(f->key, "id") == 0)
		return strncmp(n->id, f->val, strlen(f->val)) == 0;
	if (strcmp(f->key, "label") == 0)
		return label_match(n->labels, f->val);
	if (strcmp(f->key, "driver") == 0)
		return strcmp(f->val, !strcmp(n->name, "host") ? "host" : !strcmp(n->name, "none") ? "null" : "bridge") == 0;
	if (strcmp(f->key, "type") == 0)
		return strcmp(f->val, builtin ? "builtin" : "custom") == 0;
	if (strcmp(f->key, "scope") == 0)
		return strcmp(f->val, "local") == 0;
	return false;
}

/* Every network with docker's built-in host and none after bridge. */
static int all_networks(struct run_network **ret, size_t *ret_n)
{
	struct cm_error e = { 0 };
	struct run_network *v;
	size_t n;
	if (run_network_list(&v, &n, &e) < 0)
		return img_fail_err(&e);
	struct run_network *nv = realloc(v, (n + 2) * sizeof(*nv));
	if (!nv) {
		run_network_list_free(v, n);
		return img_fail("out of memory");
	}
	memmove(nv + 3, nv + 1, (n - 1) * sizeof(*nv));
	nv[1] = (struct run_network){ 0 };
	nv[2] = (struct run_network){ 0 };
	snprintf(nv[1].name, sizeof(nv[1].name), "host");
	snprintf(nv[1].id, sizeof(nv[1].id), "%s", host_id);
	snprintf(nv[2].name, sizeof(nv[2].name), "none");
	snprintf(nv[2].id, sizeof(nv[2].id), "%s", none_id);
	*ret = nv;
	*ret_n = n + 2;
	return 0;
}

static const char *const nfilter_keys[] = { "driver", "id", "label", "name", "scope", "type", "dangling" };

int img_cmd_network_ls(int argc, char **argv)
{
	bool quiet = false, notrunc = false;
	const char *format = NULL;
	struct img_filter fs[IMG_MAX_FILTERS];
	size_t nf = 0;
	int c;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c == OPT_NOTRUNC)
			notrunc = true;
		else if (c == OPT_FORMAT)
			format = optarg;
		else if (c == 'f') {
			if (img_filter_add(fs, &nf, optarg, nfilter_keys, CM_ARRAY_SIZE(nfilter_keys)) != 0)
				return IMG_EXIT;
		} else
			return img_opt_exit(c);
	}
	struct run_network *v;
	size_t n;
	int rc = all_networks(&v, &n);
	if (rc)
		return rc;
	static const char *const hdr[] = {
		"ID", "NETWORK ID", "Name", "NAME", "Driver", "DRIVER", "Scope", "SCOPE", "IPv6", "IPV6",
		"Internal", "INTERNAL", "Labels", "LABELS", "CreatedAt", "CREATED AT",
	};
	struct img_fmt f = { 0 };
	rc = quiet ? 0 : img_fmt_open(&f, format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", hdr,
				      CM_ARRAY_SIZE(hdr) / 2, "*formatter.networkContext");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!img_filters_match(fs, nf, nfilter_one, &v[i]))
			continue;
		char id[65];
		snprintf(id, sizeof(id), "%.*s", notrunc ? 64 : 12, v[i].id);
		if (quiet) {
			puts(id);
			continue;
		}
		char labels[2048] = "", created[64] = "";
		size_t off = 0;
		for (char **l = v[i].labels; l && *l && off < sizeof(labels); l++)
			off += (size_t)snprintf(labels + off, sizeof(labels) - off, "%s%s", off ? "," : "", *l);
		if (v[i].created)
			time_fmt(v[i].created, created, sizeof(created));
		const char *drv = !strcmp(v[i].name, "host") ? "host" : !strcmp(v[i].name, "none") ? "null" : "bridge";
		const char *kv[] = { "CreatedAt", created, "Driver", drv, "ID", id, "IPv6", "false",
				     "Internal", v[i].internal ? "true" : "false", "Labels", labels,
				     "Name", v[i].name, "Scope", "local" };
		_cleanup_json_ struct cm_json *row = cm_tpl_strmap(kv, CM_ARRAY_SIZE(kv) / 2);
		rc = row ? img_fmt_row(&f, row) : img_fail("out of memory");
	}
	run_network_list_free(v, n);
	return img_fmt_end(&f, rc);
}

static void inspect_one(const struct run_network *n, struct cm_jw *w)
{
	bool host = !strcmp(n->name, "host"), none = !strcmp(n->name, "none");
	char created[64] = "0001-01-01T00:00:00Z";
	if (n->created)
		time_fmt(n->created, created, sizeof(created));
	cm_jw_obj(w);
	cm_jw_kstr(w, "Name", n->name);
	cm_jw_kstr(w, "Id", n->id);
	cm_jw_kstr(w, "Created", created);
	cm_jw_kstr(w, "Scope", "local");
	cm_jw_kstr(w, "Driver", host ? "host" : none ? "null" : "bridge");
	cm_jw_key(w, "EnableIPv6"); cm_jw_bool(w, false);
	cm_jw_key(w, "IPAM");
	cm_jw_obj(w);
	cm_jw_kstr(w, "Driver", "default");
	cm_jw_key(w, "Options"); cm_jw_null(w);
	cm_jw_key(w, "Config");
	cm_jw_arr(w);
	if (n->subnet[0]) {
		cm_jw_obj(w);
		cm_jw_kstr(w, "Subnet", n->subnet);
		cm_jw_kstr(w, "Gateway", n->gateway);
		cm_jw_obj_end(w);
	}
	cm_jw_arr_end(w);
	cm_jw_obj_end(w);
	cm_jw_key(w, "Internal"); cm_jw_bool(w, n->internal);
	cm_jw_key(w, "Attachable"); cm_jw_bool(w, false);
	cm_jw_key(w, "Ingress"); cm_jw_bool(w, false);
	cm_jw_key(w, "ConfigFrom");
	cm_jw_obj(w);
	cm_jw_kstr(w, "Network", "");
	cm_jw_obj_end(w);
	cm_jw_key(w, "ConfigOnly"); cm_jw_bool(w, false);
	cm_jw_key(w, "Containers");
	cm_jw_obj(w);
	struct run_endpoint *ep = NULL;
	size_t ne = 0;
	if (n->bridge[0] && run_network_endpoints(n->name, &ep, &ne, NULL) == 0)
		for (size_t i = 0; i < ne; i++) {
			char a[32];
			snprintf(a, sizeof(a), "%s/%d", ep[i].ip, n->prefix);
			cm_jw_key(w, ep[i].id);
			cm_jw_obj(w);
			cm_jw_kstr(w, "Name", ep[i].name);
			cm_jw_kstr(w, "MacAddress", ep[i].mac);
			cm_jw_kstr(w, "IPv4Address", a);
			cm_jw_kstr(w, "IPv6Address", "");
			cm_jw_obj_end(w);
		}
	free(ep);
	cm_jw_obj_end(w);
	cm_jw_key(w, "Options");
	cm_jw_obj(w);
	if (n->bridge[0])
		cm_jw_kstr(w, "com.docker.network.bridge.name", n->bridge);
	cm_jw_obj_end(w);
	cm_jw_key(w, "Labels");
	cm_jw_obj(w);
	for (char **l = n->labels; l && *l; l++) {
		size_t kl = strcspn(*l, "=");
		char k[256];
		snprintf(k, sizeof(k), "%.*s", (int)kl, *l);
		cm_jw_kstr(w, k, (*l)[kl] ? *l + kl + 1 : "");
	}
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
}

int img_cmd_network_inspect(int argc, char **argv)
{
	const char *format = NULL;
	int c, rc = 0;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c != 'f')
			return img_opt_exit(c);
		format = optarg;
	}
	struct run_network *v;
	size_t n;
	if ((rc = all_networks(&v, &n)) != 0)
		return rc;
	struct cm_jw w;
	cm_jw_init(&w, 4);
	cm_jw_arr(&w);
	for (int i = optind; i < argc; i++) {
		const struct run_network *hit = NULL;
		for (size_t k = 0; k < n && !hit; k++)
			if (!strcmp(v[k].name, argv[i]) || !strcmp(v[k].id, argv[i]))
				hit = &v[k];
		for (size_t k = 0; k < n && !hit && strlen(argv[i]) < 64; k++)
			if (!strncmp(v[k].id, argv[i], strlen(argv[i])))
				hit = &v[k];
		if (!hit) {
			img_fail("network %s not found", argv[i]);
			rc = 1; /* docker's for an unknown object */
			continue;
		}
		inspect_one(hit, &w);
	}
	cm_jw_arr_end(&w);
	run_network_list_free(v, n);
	return img_inspect_print(&w, format, rc);
}

static int remove_one(const char *ref, bool quiet_missing, struct cm_error *e)
{
	struct run_network n;
	int r = run_network_get(ref, &n, e);
	if (r == 0) {
		r = run_network_remove(ref, e);
		if (r == 0)
			net_event(&n, "destroy", NULL);
		run_network_clear(&n);
	} else if (!strcmp(ref, "host") || !strcmp(ref, "none")) {
		cm_error_clear(e);
		r = cm_error_set(e, -EPERM, "%s is a pre-defined network and cannot be removed", ref);
	}
	return r == -ENOENT && quiet_missing ? 0 : r;
}

int img_cmd_network_rm(int argc, char **argv)
{
	bool force = false;
	int c, rc = 0;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c != 'f')
			return img_opt_exit(c);
		force = true;
	}
	for (int i = optind; i < argc; i++) {
		struct cm_error e = { 0 };
		if (remove_one(argv[i], force, &e) < 0) {
			img_fail_err(&e);
			rc = 1;
		} else if (e.code == 0) {
			puts(argv[i]);
		}
	}
	return rc;
}

int img_cmd_network_prune(int argc, char **argv)
{
	int c;
	while ((c = img_getopt(argc, argv)) != -1)
		if (c != 'f' && c != OPT_FILTER)
			return img_opt_exit(c);
	struct cm_error e = { 0 };
	struct run_network *v;
	size_t n;
	if (run_network_list(&v, &n, &e) < 0)
		return img_fail_err(&e);
	bool first = true;
	for (size_t i = 1; i < n; i++) {
		struct run_endpoint *ep = NULL;
		size_t ne = 0;
		cm_error_clear(&e);
		if (run_network_endpoints(v[i].name, &ep, &ne, NULL) < 0 || ne) {
			free(ep);
			continue;
		}
		free(ep);
		if (run_network_remove(v[i].name, &e) < 0)
			continue; /* a container joined meanwhile */
		net_event(&v[i], "destroy", NULL);
		if (first)
			puts("Deleted Networks:");
		first = false;
		puts(v[i].name);
	}
	run_network_list_free(v, n);
	return 0;
}

/* The container's config and state for connect/disconnect. */
static int ctr_open(const char *ref, struct ims_container **ret_ct, struct run_config **ret_c,
		    struct run_state *ret_st)
{
	struct cm_error e = { 0 };
	_cleanup_(ims_store_freep) struct ims_store *s = NULL;
	if (img_open_store(&s, &e) < 0 || ims_container_get(s, ref, ret_ct, &e) < 0)
		return img_fail_err(&e);
	if (!(*ret_ct)->rundir || run_config_read((*ret_ct)->rundir, ret_c, &e) < 0 ||
	    run_state_refresh((*ret_ct)->rundir, ret_st, &e) < 0)
		return e.code ? img_fail_err(&e) : img_fail("container %s has no runner state", ref);
	return 0;
}

static int netatt_find(const struct run_config *c, const char *name)
{
	struct run_netatt a;
	for (size_t i = 0; c->networks && c->networks[i]; i++)
		if (run_netatt_parse(c->networks[i], &a) == 0 && strcmp(a.name, name) == 0)
			return (int)i;
	return !strcmp(name, "bridge") && (!c->networks || !c->networks[0]) ? -2 : -1;
}

int img_cmd_network_connect(int argc, char **argv)
{
	char **aliases = NULL;
	size_t na = 0;
	const char *ip = NULL;
	int c, rc;
	while ((c = img_getopt(argc, argv)) != -1) {
		if (c == OPT_ALIAS) {
			if (img_strv_add(&aliases, &na, optarg) < 0)
				return img_fail("out of memory");
		} else if (c == OPT_IP) {
			ip = optarg;
		} else if (c == OPT_IP6) {
			img_strv_free(aliases);
			return img_network_no_ipv6("--ip6");
		} else {
			img_strv_free(aliases);
			return img_opt_exit(c);
		}
	}
	struct cm_error e = { 0 };
	struct run_network n;
	if (run_network_get(argv[optind], &n, &e) < 0) {
		img_strv_free(aliases);
		return img_fail_err(&e);
	}
	_cleanup_container_ struct ims_container *ct = NULL;
	_cleanup_run_config_ struct run_config *cfg = NULL;
	struct run_state st;
	struct run_netatt att = { 0 };
	_cleanup_free_ char *entry = run_netatt_format(n.name, ip, aliases);
	_cleanup_free_ char *dflt = run_netatt_format("bridge", NULL, NULL);
	char got[16];
	size_t len = 0;
	char **nv;
	if ((rc = ctr_open(argv[optind + 1], &ct, &cfg, &st)) != 0)
		goto out;
	if (cfg->network != RUN_NET_BRIDGE) {
		rc = img_fail("container sharing network namespace with another container or host cannot be connected to any other network");
		goto out;
	}
	if (!strcmp(n.name, "bridge") && (na || ip)) {
		rc = img_fail(ip ? "user specified IP address is supported on user defined networks only"
				 : "network-scoped alias is supported only for containers in user defined networks");
		goto out;
	}
	if (netatt_find(cfg, n.name) != -1) {
		rc = img_fail("endpoint with name %s already exists in network %s", cfg->name ? cfg->name : ct->id, n.name);
		goto out;
	}
	if (!entry || !dflt || run_netatt_parse(entry, &att) < 0) {
		rc = img_fail("invalid network options");
		goto out;
	}
	if (st.status == RUN_RUNNING && run_net_connect(cfg, st.pid, &att, got, &e) < 0) {
		rc = img_fail_err(&e);
		goto out;
	}
	/* the config: the default bridge named once it has company */
	while (cfg->networks && cfg->networks[len])
		len++;
	nv = realloc(cfg->networks, (len + 3) * sizeof(char *));
	if (!nv) {
		rc = img_fail("out of memory");
		goto out;
	}
	cfg->networks = nv;
	if (len == 0)
		nv[len++] = TAKE_PTR(dflt);
	nv[len++] = TAKE_PTR(entry);
	nv[len] = NULL;
	if (run_config_write(cfg, &e) < 0) {
		rc = img_fail_err(&e);
		goto out;
	}
	net_event(&n, "connect", ct->id);
	rc = 0;
out:
	img_strv_free(aliases);
	run_network_clear(&n);
	return rc;
}

int img_cmd_network_disconnect(int argc, char **argv)
{
	int c, rc;
	while ((c = img_getopt(argc, argv)) != -1)
		if (c != 'f')
			return img_opt_exit(c);
	struct cm_error e = { 0 };
	struct run_network n;
	if (run_network_get(argv[optind], &n, &e) < 0)
		return img_fail_err(&e);
	_cleanup_container_ struct ims_container *ct = NULL;
	_cleanup_run_config_ struct run_config *cfg = NULL;
	struct run_state st;
	int at = -1;
	if ((rc = ctr_open(argv[optind + 1], &ct, &cfg, &st)) != 0)
		goto out;
	at = netatt_find(cfg, n.name);
	if (at == -1 || cfg->network != RUN_NET_BRIDGE) {
		rc = img_fail("container %s is not connected to network %s", argv[optind + 1], n.name);
		goto out;
	}
	if (st.status == RUN_RUNNING && (rc = run_net_disconnect(ct->id, n.name, &e)) < 0 && rc != -ENOENT) {
		rc = img_fail_err(&e);
		goto out;
	}
	if (at == -2) { /* the default bridge alone: none is left, docker's "none" */
		cfg->network = RUN_NET_NONE;
	} else {
		free(cfg->networks[at]);
		for (size_t i = (size_t)at; cfg->networks[i]; i++)
			cfg->networks[i] = cfg->networks[i + 1];
		if (!cfg->networks[0])
			cfg->network = RUN_NET_NONE;
	}
	if (run_config_write(cfg, &e) < 0) {
		rc = img_fail_err(&e);
		goto out;
	}
	net_event(&n, "disconnect", ct->id);
	rc = 0;
out:
	run_network_clear(&n);
	return rc;
}
