// SPDX-License-Identifier: MIT
/* User-defined networks (docs/network.md): their definitions, one file
 * each in the store's root (STORE/networks: they outlive a reboot), written
 * by temp + rename under the network lock; a copy of each in use under
 * RUN_NET_DIR/nets (host-wide runtime state, as the addresses: the rules
 * of every store's containers, the subnets no other store may take); their
 * bridges, made at create (again by the first container after a reboot)
 * and deleted at rm. The built-in "bridge" (img0) is described here too. */
#include "run-internal.h"
#include "cm-text.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define NETS_DIR RUN_NET_DIR "/nets" /* the copies in use */

/* STORE/networks, "" until run_network_store_set: then the copies only */
static char store_dir[4096];

int run_network_store_set(const char *root)
{
	if (!root || !*root)
		return -EINVAL;
	int n = snprintf(store_dir, sizeof(store_dir), "%s/networks", root);
	if (n < 0 || (size_t)n >= sizeof(store_dir)) {
		store_dir[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

static const char *defs_dir(void)
{
	return store_dir[0] ? store_dir : NETS_DIR;
}
/* the automatic subnets: the /24s of 10.90.0.0/16, lowest free first */
#define AUTO_BASE 0x0a5a0000u

void run_network_clear(struct run_network *n)
{
	if (!n)
		return;
	for (char **l = n->labels; l && *l; l++)
		free(*l);
	free(n->labels);
	memset(n, 0, sizeof(*n));
}

void run_network_list_free(struct run_network *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		run_network_clear(&v[i]);
	free(v);
}

bool run_network_name_valid(const char *name)
{
	return cm_text_object_name_valid(name, 1, 63);
}

/* img0 as a network (its id: fixed, as docker's is per daemon) */
static void builtin_bridge(struct run_network *n)
{
	*n = (struct run_network){ .prefix = RUN_NET_PREFIX };
	snprintf(n->id, sizeof(n->id), "%s", "696d67302d6272696467652d6e6574776f726b2d6275696c742d696e2d303030");
	snprintf(n->name, sizeof(n->name), "bridge");
	snprintf(n->bridge, sizeof(n->bridge), RUN_NET_BRIDGE_NAME);
	snprintf(n->subnet, sizeof(n->subnet), "10.89.0.0/%d", RUN_NET_PREFIX);
	snprintf(n->gateway, sizeof(n->gateway), RUN_NET_GATEWAY);
}

/* "a.b.c.d/p" (8 <= p <= 30) into its network address and prefix; the
 * host part must be 0, as docker asks. */
static int subnet_parse(const char *s, uint32_t *ret_net, int *ret_prefix, struct cm_error *err)
{
	char a[20];
	const char *slash = strchr(s, '/');
	struct in_addr in;
	char *end;
	if (!slash || (size_t)(slash - s) >= sizeof(a))
		return cm_error_set(err, -EINVAL, "invalid subnet %s: not an IPv4 CIDR (a.b.c.d/p)", s);
	snprintf(a, sizeof(a), "%.*s", (int)(slash - s), s);
	long p = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, a, &in) != 1 || *end || end == slash + 1 || p < 8 || p > 30)
		return cm_error_set(err, -EINVAL, "invalid subnet %s: an IPv4 CIDR with a prefix of 8 to 30", s);
	uint32_t mask = ~0u << (32 - p), h = ntohl(in.s_addr);
	if (h & ~mask) {
		struct in_addr w = { .s_addr = htonl(h & mask) };
		char b[16];
		inet_ntop(AF_INET, &w, b, sizeof(b));
		return cm_error_set(err, -EINVAL, "invalid subnet %s: it should be %s/%ld", s, b, p);
	}
	*ret_net = h;
	*ret_prefix = (int)p;
	return 0;
}

static bool overlaps(uint32_t a, int pa, uint32_t b, int pb)
{
	int p = pa < pb ? pa : pb;
	uint32_t mask = ~0u << (32 - p);
	return (a & mask) == (b & mask);
}

static int def_parse(const char *text, struct run_network *ret)
{
	struct run_network n = { 0 };
	size_t nl = 0;
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "id ", 3) == 0)
			snprintf(n.id, sizeof(n.id), "%s", l + 3);
		else if (strncmp(l, "name ", 5) == 0)
			snprintf(n.name, sizeof(n.name), "%s", l + 5);
		else if (strncmp(l, "bridge ", 7) == 0)
			snprintf(n.bridge, sizeof(n.bridge), "%s", l + 7);
		else if (strncmp(l, "subnet ", 7) == 0)
			snprintf(n.subnet, sizeof(n.subnet), "%s", l + 7);
		else if (strncmp(l, "gateway ", 8) == 0)
			snprintf(n.gateway, sizeof(n.gateway), "%s", l + 8);
		else if (strcmp(l, "internal 1") == 0)
			n.internal = true;
		else if (strncmp(l, "created ", 8) == 0)
			n.created = strtoll(l + 8, NULL, 10);
		else if (strncmp(l, "label ", 6) == 0) {
			char **v = realloc(n.labels, (nl + 2) * sizeof(*v));
			if (!v || !(v[nl] = strdup(l + 6))) {
				if (v)
					v[nl] = NULL;
				n.labels = v;
				run_network_clear(&n);
				return -ENOMEM;
			}
			v[++nl] = NULL;
			n.labels = v;
		}
	}
	uint32_t net;
	/* (64 lowercase hex; not cm_hex64_valid: cm-hash.c would link
	 * libcrypto into the monitor, which must stay small) */
	if (strlen(n.id) != 64 || strspn(n.id, "0123456789abcdef") != 64 || !run_network_name_valid(n.name) || !n.bridge[0] ||
	    subnet_parse(n.subnet, &net, &n.prefix, NULL) < 0 || !n.gateway[0]) {
		run_network_clear(&n);
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

static int def_load(const char *dir, const char *name, struct run_network *ret)
{
	char p[4200];
	_cleanup_free_ char *text = NULL;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int r = run_read_file_at(AT_FDCWD, p, 1 << 16, &text, NULL);
	if (r < 0)
		return r;
	return def_parse(text, ret);
}

/* Every network of dir, "bridge" first, then by name. */
static int list_dir(const char *dir, struct run_network **ret, size_t *ret_n, struct cm_error *err)
{
	struct run_network *v = calloc(1, sizeof(*v));
	size_t n = 1;
	if (!v)
		return cm_error_set(err, -ENOMEM, "out of memory");
	builtin_bridge(&v[0]);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		struct run_network one;
		if (!run_network_name_valid(de->d_name) || def_load(dir, de->d_name, &one) < 0)
			continue;
		struct run_network *nv = realloc(v, (n + 1) * sizeof(*nv));
		if (!nv) {
			run_network_clear(&one);
			closedir(d);
			run_network_list_free(v, n);
			return cm_error_set(err, -ENOMEM, "out of memory");
		}
		v = nv;
		v[n++] = one;
	}
	if (d)
		closedir(d);
	/* by name after "bridge" (insertion: the list is short) */
	for (size_t i = 2; i < n; i++)
		for (size_t k = i; k > 1 && strcmp(v[k - 1].name, v[k].name) > 0; k--) {
			struct run_network t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	*ret = v;
	*ret_n = n;
	return 0;
}

int run_network_list(struct run_network **ret, size_t *ret_n, struct cm_error *err)
{
	return list_dir(defs_dir(), ret, ret_n, err);
}

/* By name, full id or unique id prefix in dir. */
static int get_in(const char *dir, const char *ref, struct run_network *ret, struct cm_error *err)
{
	struct run_network *v;
	size_t n;
	int r = list_dir(dir, &v, &n, err);
	if (r < 0)
		return r;
	ssize_t hit = -1;
	size_t rl = strlen(ref);
	for (size_t i = 0; i < n && hit < 0; i++)
		if (strcmp(v[i].name, ref) == 0 || strcmp(v[i].id, ref) == 0)
			hit = (ssize_t)i;
	for (size_t i = 0; i < n && hit != -2 && rl && rl < 64 && strspn(ref, "0123456789abcdef") == rl; i++)
		if (strncmp(v[i].id, ref, rl) == 0 && (hit < 0 || strcmp(v[hit].name, ref) != 0))
			hit = hit >= 0 && (size_t)hit != i ? -2 : (ssize_t)i;
	if (hit == -2) {
		run_network_list_free(v, n);
		return cm_error_set(err, -EINVAL, "network %s is ambiguous", ref);
	}
	if (hit < 0) {
		run_network_list_free(v, n);
		return cm_error_set(err, -ENOENT, "network %s not found", ref);
	}
	*ret = v[hit];
	v[hit] = (struct run_network){ 0 };
	run_network_list_free(v, n);
	return 0;
}

int run_network_get(const char *ref, struct run_network *ret, struct cm_error *err)
{
	return get_in(defs_dir(), ref, ret, err);
}

int run_network_get_active(const char *name, struct run_network *ret)
{
	if (get_in(NETS_DIR, name, ret, NULL) == 0)
		return 0;
	return get_in(defs_dir(), name, ret, NULL);
}

/* n's definition as its file holds it (malloc'd text) */
static int def_format(const struct run_network *n, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "id %s\nname %s\nbridge %s\nsubnet %s\ngateway %s\ninternal %d\ncreated %lld\n",
		n->id, n->name, n->bridge, n->subnet, n->gateway, n->internal, (long long)n->created);
	for (char **l = n->labels; l && *l; l++)
		if (!strchr(*l, '\n'))
			fprintf(f, "label %s\n", *l);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int run_network_activate(const struct run_network *n)
{
	if (strcmp(n->name, "bridge") == 0)
		return 0;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = run_mkdir_p(NETS_DIR, 0700);
	if (r == 0)
		r = def_format(n, &buf, &len);
	return r < 0 ? r : run_write_atomic(NETS_DIR, n->name, buf, len);
}

int run_network_create(struct run_network *n, struct cm_error *err)
{
	if (!run_network_name_valid(n->name))
		return cm_error_set(err, -EINVAL, "invalid network name \"%s\": it must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", n->name);
	if (!strcmp(n->name, "bridge") || !strcmp(n->name, "host") || !strcmp(n->name, "none"))
		return cm_error_set(err, -EEXIST, "network with name %s already exists", n->name);
	uint32_t net = 0, gw = 0;
	int prefix = 24;
	struct in_addr in;
	if (n->subnet[0] && subnet_parse(n->subnet, &net, &prefix, err) < 0)
		return -EINVAL;
	if (n->gateway[0]) {
		if (!n->subnet[0])
			return cm_error_set(err, -EINVAL, "invalid network config: --gateway needs --subnet");
		if (inet_pton(AF_INET, n->gateway, &in) != 1)
			return cm_error_set(err, -EINVAL, "invalid gateway %s: not an IPv4 address", n->gateway);
		gw = ntohl(in.s_addr);
		uint32_t mask = ~0u << (32 - prefix);
		if ((gw & mask) != net || gw == net || gw == (net | ~mask))
			return cm_error_set(err, -EINVAL, "no matching subnet for gateway %s", n->gateway);
	}
	_cleanup_close_ int lock = run_net_lock();
	if (lock < 0)
		return cm_error_setx(err, lock, "locking " RUN_NET_DIR);
	int r = run_mkdir_p(defs_dir(), 0700);
	if (r < 0)
		return cm_error_setx(err, r, "creating %s", defs_dir());
	/* the store's networks, and those in use on this host (another
	 * store's too: their names and subnets are taken) */
	uint32_t nets[600];
	int prefixes[600];
	size_t nn = 0;
	const char *dirs[] = { defs_dir(), NETS_DIR };
	for (size_t di = 0; di < CM_ARRAY_SIZE(dirs); di++) {
		struct run_network *all;
		size_t na;
		if ((r = list_dir(dirs[di], &all, &na, err)) < 0)
			return r;
		for (size_t i = 0; i < na && nn < CM_ARRAY_SIZE(nets); i++) {
			if (strcmp(all[i].name, n->name) == 0) {
				run_network_list_free(all, na);
				return cm_error_set(err, -EEXIST, "network with name %s already exists", n->name);
			}
			if (subnet_parse(all[i].subnet, &nets[nn], &prefixes[nn], NULL) == 0)
				nn++;
		}
		run_network_list_free(all, na);
	}
	if (n->subnet[0]) {
		for (size_t i = 0; i < nn; i++)
			if (overlaps(net, prefix, nets[i], prefixes[i]))
				return cm_error_set(err, -EEXIST, "invalid pool request: Pool overlaps with other one on this address space");
	} else {
		bool found = false;
		for (uint32_t k = 0; k < 256 && !found; k++) {
			net = AUTO_BASE | (k << 8);
			found = true;
			for (size_t i = 0; i < nn && found; i++)
				found = !overlaps(net, 24, nets[i], prefixes[i]);
		}
		if (!found)
			return cm_error_set(err, -EADDRNOTAVAIL, "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
		in.s_addr = htonl(net);
		char b[16];
		inet_ntop(AF_INET, &in, b, sizeof(b));
		snprintf(n->subnet, sizeof(n->subnet), "%s/24", b);
	}
	if (!gw)
		gw = net + 1;
	in.s_addr = htonl(gw);
	inet_ntop(AF_INET, &in, n->gateway, sizeof(n->gateway));
	n->prefix = prefix;
	uint8_t rnd[32];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return cm_error_setx(err, cm_neg_errno(), "getrandom");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(n->id + 2 * i, 3, "%02x", rnd[i]);
	snprintf(n->bridge, sizeof(n->bridge), "imb-%.11s", n->id);
	n->created = run_now_ns();

	_cleanup_close_ int nl = run_nl_open();
	if (nl < 0)
		return cm_error_setx(err, nl, "opening rtnetlink");
	if ((r = run_net_bridge_up(nl, n->bridge, n->gateway, n->prefix, err)) < 0) {
		(void)run_nl_link_del(nl, n->bridge);
		return r;
	}
	char *buf = NULL;
	size_t len = 0;
	if ((r = def_format(n, &buf, &len)) < 0) {
		(void)run_nl_link_del(nl, n->bridge);
		return cm_error_set(err, r, "out of memory");
	}
	r = run_write_atomic(defs_dir(), n->name, buf, len);
	free(buf);
	if (r == 0 && store_dir[0])
		r = run_network_activate(n);
	if (r < 0) {
		(void)run_nl_link_del(nl, n->bridge);
		char p[4200];
		snprintf(p, sizeof(p), "%s/%s", defs_dir(), n->name);
		(void)unlink(p);
		return cm_error_setx(err, r, "recording network %s", n->name);
	}
	return 0;
}

int run_network_remove(const char *ref, struct cm_error *err)
{
	struct run_network n;
	int r = run_network_get(ref, &n, err);
	if (r < 0)
		return r;
	if (strcmp(n.name, "bridge") == 0) {
		run_network_clear(&n);
		return cm_error_set(err, -EPERM, "bridge is a pre-defined network and cannot be removed");
	}
	_cleanup_close_ int lock = run_net_lock();
	if (lock < 0) {
		run_network_clear(&n);
		return cm_error_setx(err, lock, "locking " RUN_NET_DIR);
	}
	char **users = NULL;
	if ((r = run_net_users_locked(n.name, &users, err)) < 0) {
		run_network_clear(&n);
		return r;
	}
	if (users && users[0]) {
		r = cm_error_set(err, -EBUSY, "error while removing network: network %s id %s has active endpoints",
				 n.name, n.id);
		for (char **u = users; *u; u++)
			free(*u);
		free(users);
		run_network_clear(&n);
		return r;
	}
	free(users);
	_cleanup_close_ int nl = run_nl_open();
	if (nl >= 0 && if_nametoindex(n.bridge) && (r = run_nl_link_del(nl, n.bridge)) < 0 && r != -ENODEV) {
		r = cm_error_setx(err, r, "deleting the bridge %s", n.bridge);
		run_network_clear(&n);
		return r;
	}
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", defs_dir(), n.name);
	r = unlink(p) < 0 && errno != ENOENT ? cm_error_setx(err, cm_neg_errno(), "removing %s", p) : 0;
	/* the copy in use, if it is this one (not another store's) */
	struct run_network act;
	if (r == 0 && store_dir[0] && get_in(NETS_DIR, n.name, &act, NULL) == 0) {
		if (strcmp(act.id, n.id) == 0) {
			snprintf(p, sizeof(p), NETS_DIR "/%s", n.name);
			(void)unlink(p);
		}
		run_network_clear(&act);
	}
	(void)rmdir(NETS_DIR); /* the last one: nothing of ours left (not empty: kept) */
	run_network_clear(&n);
	return r;
}

/* ------------------------------------------------------------ attachments */

int run_netatt_parse(const char *s, struct run_netatt *ret)
{
	struct run_netatt a = { 0 };
	const char *p1 = strchr(s, '|'), *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
	size_t nl = p1 ? (size_t)(p1 - s) : strlen(s);
	if (nl == 0 || nl >= sizeof(a.name))
		return -EINVAL;
	memcpy(a.name, s, nl);
	if (p1) {
		size_t il = p2 ? (size_t)(p2 - p1 - 1) : strlen(p1 + 1);
		if (il >= sizeof(a.ip))
			return -EINVAL;
		memcpy(a.ip, p1 + 1, il);
	}
	for (const char *q = p2 ? p2 + 1 : NULL; q && *q && a.n_aliases < CM_ARRAY_SIZE(a.aliases);) {
		size_t l = strcspn(q, ",");
		if (l && l < sizeof(a.aliases[0]))
			snprintf(a.aliases[a.n_aliases++], sizeof(a.aliases[0]), "%.*s", (int)l, q);
		q += l + (q[l] == ',');
	}
	*ret = a;
	return 0;
}

char *run_netatt_format(const char *name, const char *ip, char *const *aliases)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "%s|%s|", name, ip ? ip : "");
	for (char *const *a = aliases; a && *a; a++)
		fprintf(f, "%s%s", a == aliases ? "" : ",", *a);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

const char *run_config_net_primary(const struct run_config *c, char buf[64])
{
	struct run_netatt a;
	if (c->networks && c->networks[0] && run_netatt_parse(c->networks[0], &a) == 0) {
		snprintf(buf, 64, "%s", a.name);
		return buf;
	}
	return "bridge";
}
