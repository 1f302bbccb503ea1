// SPDX-License-Identifier: MIT
/* Bridge networking (docs/network.md): the img0 bridge, a veth per
 * container, addresses of 10.89/16 recorded one file each under
 * RUN_NET_DIR, and one nftables table (`ip img`) that is always rendered
 * from the live records and applied whole: a crashed monitor's rules go the
 * next time any img sets up, tears down or reconciles, and the bridge, the
 * table and ip_forward go back to as found with the last bridged container.
 * Every change happens under RUN_NET_DIR/lock. Lock order: a container's
 * monitor.lock (held by its monitor), then the network lock; monitor.lock of
 * other containers is only probed (LOCK_NB). */
#include "run-internal.h"
#include "cm-fs.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define ADDR_DIR RUN_NET_DIR "/addr"
#define NFT_TABLE "img"

struct net_rec {
	char ip[16];
	char id[RUN_ID_LEN + 1];
	char bundle[4096];
	struct run_port ports[64];
	size_t n_ports;
	bool live;
	/* user-defined networks: the network ("" = bridge), the interface in
	 * the container and the host's veth (empty in older records: eth0 and
	 * veth_name()), the names the embedded DNS answers for it */
	char net[64];
	char ifname[IFNAMSIZ];
	char veth[IFNAMSIZ];
	char name[128];
	char host[64];
	char aliases[8][64];
	size_t n_aliases;
};

struct net_recs {
	struct net_rec *v;
	size_t n;
};

static void recs_free(struct net_recs *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* "img" + 12 hex of the id: 15 chars, the kernel's limit */
static void veth_name(const char *id, char buf[IFNAMSIZ])
{
	snprintf(buf, IFNAMSIZ, "img%.12s", id);
}

static void mac_of(const char *ip, char buf[18])
{
	struct in_addr a;
	buf[0] = '\0';
	if (inet_pton(AF_INET, ip, &a) == 1) {
		const uint8_t *b = (const uint8_t *)&a.s_addr;
		snprintf(buf, 18, "02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]);
	}
}

int run_net_lock(void)
{
	int r = run_mkdir_p(ADDR_DIR, 0700);
	if (r < 0)
		return r;
	return cm_flock_at(AT_FDCWD, RUN_NET_DIR "/lock", LOCK_EX);
}

/* ------------------------------------------------------------ records */

static int rec_parse(const char *ip, const char *text, struct net_rec *ret)
{
	struct net_rec r = { 0 };
	snprintf(r.ip, sizeof(r.ip), "%s", ip);
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char a[16], proto[8];
		unsigned hp, cp;
		if (strncmp(l, "id ", 3) == 0)
			snprintf(r.id, sizeof(r.id), "%s", l + 3);
		else if (strncmp(l, "net ", 4) == 0)
			snprintf(r.net, sizeof(r.net), "%s", l + 4);
		else if (strncmp(l, "if ", 3) == 0)
			snprintf(r.ifname, sizeof(r.ifname), "%s", l + 3);
		else if (strncmp(l, "veth ", 5) == 0)
			snprintf(r.veth, sizeof(r.veth), "%s", l + 5);
		else if (strncmp(l, "name ", 5) == 0)
			snprintf(r.name, sizeof(r.name), "%s", l + 5);
		else if (strncmp(l, "host ", 5) == 0)
			snprintf(r.host, sizeof(r.host), "%s", l + 5);
		else if (strncmp(l, "alias ", 6) == 0 && r.n_aliases < CM_ARRAY_SIZE(r.aliases))
			snprintf(r.aliases[r.n_aliases++], sizeof(r.aliases[0]), "%s", l + 6);
		else if (strncmp(l, "bundle ", 7) == 0)
			snprintf(r.bundle, sizeof(r.bundle), "%s", l + 7);
		else if (sscanf(l, "port %15s %u %u %7s", a, &hp, &cp, proto) == 4 &&
			 r.n_ports < CM_ARRAY_SIZE(r.ports) && hp && hp < 65536 && cp && cp < 65536) {
			struct run_port *p = &r.ports[r.n_ports++];
			snprintf(p->host_ip, sizeof(p->host_ip), "%s", a);
			p->host_port = (uint16_t)hp;
			p->ctr_port = (uint16_t)cp;
			p->udp = strcmp(proto, "udp") == 0;
		}
	}
	if (strlen(r.id) != RUN_ID_LEN || !r.bundle[0])
		return -EINVAL;
	if (!r.veth[0])
		veth_name(r.id, r.veth);
	if (!r.ifname[0])
		snprintf(r.ifname, sizeof(r.ifname), "eth0");
	*ret = r;
	return 0;
}

/* A record whose container's monitor no longer holds monitor.lock is stale. */
static bool rec_alive(const struct net_rec *r)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/monitor.lock", r->bundle);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return false;
	return errno == EWOULDBLOCK;
}

static int recs_load(struct net_recs *ret)
{
	DIR *d = opendir(ADDR_DIR);
	if (!d)
		return cm_neg_errno();
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		struct in_addr a;
		if (inet_pton(AF_INET, de->d_name, &a) != 1)
			continue;
		char p[512];
		_cleanup_free_ char *text = NULL;
		snprintf(p, sizeof(p), "%s/%s", ADDR_DIR, de->d_name);
		if (run_read_file_at(AT_FDCWD, p, 1 << 16, &text, NULL) < 0)
			continue;
		struct net_rec *nv = realloc(ret->v, (ret->n + 1) * sizeof(*nv));
		if (!nv) {
			r = -ENOMEM;
			break;
		}
		ret->v = nv;
		if (rec_parse(de->d_name, text, &ret->v[ret->n]) < 0) {
			(void)unlink(p); /* not ours to keep: a torn or foreign file */
			continue;
		}
		ret->v[ret->n].live = rec_alive(&ret->v[ret->n]);
		ret->n++;
	}
	closedir(d);
	return r;
}

static int rec_write(const struct net_rec *r)
{
	char buf[8192];
	size_t off = (size_t)snprintf(buf, sizeof(buf), "id %s\nbundle %s\nif %s\nveth %s\n", r->id,
				      r->bundle, r->ifname, r->veth);
	if (r->net[0])
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "net %s\n", r->net);
	if (r->name[0] && off < sizeof(buf))
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "name %s\n", r->name);
	if (r->host[0] && off < sizeof(buf))
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "host %s\n", r->host);
	for (size_t i = 0; i < r->n_aliases && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "alias %s\n", r->aliases[i]);
	for (size_t i = 0; i < r->n_ports && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "port %s %u %u %s\n",
					r->ports[i].host_ip, r->ports[i].host_port,
					r->ports[i].ctr_port, r->ports[i].udp ? "udp" : "tcp");
	if (off >= sizeof(buf))
		return -E2BIG;
	return run_write_atomic(ADDR_DIR, r->ip, buf, off);
}

/* The record itself: the address is free at once. Its veth is deleted by
 * the reaper (net_reap), off the caller's path. */
static void rec_drop(struct net_rec *r)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", ADDR_DIR, r->ip);
	(void)unlink(p);
	r->live = false;
	r->ip[0] = '\0';
}

/* ------------------------------------------------------------ sysctl, nft */

/* /proc/sys/net/<family>/conf/<dev>/<key> */
static int sysctl_write(const char *family, const char *dev, const char *key, const char *val)
{
	char p[256];
	snprintf(p, sizeof(p), "/proc/sys/net/%s/conf/%s/%s", family, dev, key);
	return run_write_file(p, val);
}

/* /sys/class/net/<dev>/brport/<key>: a bridge port's setting */
static int brport_write(const char *dev, const char *key, const char *val)
{
	char p[256];
	snprintf(p, sizeof(p), "/sys/class/net/%s/brport/%s", dev, key);
	return run_write_file(p, val);
}

/* Run `nft -f -` with text on stdin; its first error line into err. As
 * docker execs iptables: the nft CLI is the stable interface (its netlink
 * batches are not), and one exec applies the whole table atomically. */
static int nft_apply(const char *text, struct cm_error *err)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return cm_error_setx(err, cm_neg_errno(), "pipe");
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return cm_error_setx(err, cm_neg_errno(), "pipe");
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(127);
		char *const argv[] = { "nft", "-f", "-", NULL };
		char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
		execve("/usr/sbin/nft", argv, envp);
		execve("/sbin/nft", argv, envp);
		execvpe("nft", argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	int r = pid < 0 ? cm_neg_errno() : cm_write_all(in[1], text, strlen(text));
	close(in[1]);
	char msg[400] = "";
	ssize_t n = pid < 0 ? 0 : read(out[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(out[0]);
	if (pid < 0)
		return cm_error_setx(err, r, "fork");
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[strcspn(msg, "\n")] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return cm_error_set(err, -ENOENT, "nftables: the nft command is not installed");
	return cm_error_set(err, -EIO, "nftables: %s", msg[0] ? msg : "nft failed");
}

/* The port rules of the live records, one per line, each line prefixed. */
static void nft_render_ports(FILE *f, const struct net_recs *rs, const char *prefix)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct net_rec *r = &rs->v[i];
		for (size_t k = 0; r->live && k < r->n_ports; k++) {
			const struct run_port *p = &r->ports[k];
			fputs(prefix, f);
			if (strcmp(p->host_ip, "0.0.0.0") != 0)
				fprintf(f, "ip daddr %s ", p->host_ip);
			fprintf(f, "%s dport %u dnat to %s:%u comment \"%.12s\"\n", p->udp ? "udp" : "tcp",
				p->host_port, r->ip, p->ctr_port, r->id);
		}
	}
}

/* What to apply (each one nft transaction; in nf_tables any deletion waits
 * for an RCU grace period, ~14 ms here, additions do not):
 * NFT_FULL the whole table: added if missing, flushed (rules only: the base
 * chains stay hooked) and filled; NFT_PORTS the ports chain flushed and
 * refilled; NFT_ADD only the rules of one new record appended. */
enum nft_what { NFT_FULL, NFT_PORTS, NFT_ADD };

/* net.ipv4.ip_forward was on before img turned it on (as recorded by
 * bridge_create; no record: img did not change it, so it counts as on) */
static bool forwarding_was_on(void)
{
	_cleanup_free_ char *v = NULL;
	return run_read_file_at(AT_FDCWD, RUN_NET_DIR "/ip_forward", 16, &v, NULL) < 0 || v[0] != '0';
}

/* The networks of the live records, "bridge" (img0) always first: the
 * rules are a function of them. */
struct net_defs {
	struct run_network v[32];
	size_t n;
};

static void defs_collect(const struct net_recs *rs, struct net_defs *d)
{
	d->n = 0;
	if (run_network_get_active("bridge", &d->v[0]) == 0)
		d->n = 1;
	for (size_t i = 0; i < rs->n && d->n < CM_ARRAY_SIZE(d->v); i++) {
		const struct net_rec *r = &rs->v[i];
		bool seen = !r->live || !r->net[0];
		for (size_t k = 0; k < d->n && !seen; k++)
			seen = strcmp(d->v[k].name, r->net) == 0;
		/* (any store's: the copies of the networks in use) */
		if (!seen && run_network_get_active(r->net, &d->v[d->n]) == 0) {
			struct run_network *n = &d->v[d->n++];
			for (char **l = n->labels; l && *l; l++)
				free(*l);
			free(n->labels);
			n->labels = NULL;
		}
	}
}

/* nft's set of the bridges' names: "img0" alone, or { "img0", "imb-..." } */
static void bridge_set(const struct net_defs *d, char *buf, size_t sz)
{
	size_t off = (size_t)snprintf(buf, sz, "%s", d->n > 1 ? "{ " : "");
	for (size_t i = 0; i < d->n && off < sz; i++)
		off += (size_t)snprintf(buf + off, sz - off, "%s\"%s\"", i ? ", " : "", d->v[i].bridge);
	if (d->n > 1 && off < sz)
		snprintf(buf + off, sz - off, " }");
}

static char *nft_render_defs(const struct net_recs *rs, enum nft_what what, struct net_defs *defs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	if (what != NFT_FULL) {
		if (what == NFT_PORTS)
			fprintf(f, "flush chain ip " NFT_TABLE " ports\n");
		nft_render_ports(f, rs, "add rule ip " NFT_TABLE " ports ");
		return fclose(f) == 0 ? buf : (free(buf), NULL);
	}
	defs_collect(rs, defs);
	fprintf(f, "table ip " NFT_TABLE "\nflush table ip " NFT_TABLE "\n"
		   "table ip " NFT_TABLE " {\n\tchain ports {\n");
	nft_render_ports(f, rs, "\t\t");
	/* raw: nothing from outside lo may reach 127/8 (route_localnet on img0
	 * would let a container, or a DNAT of 127.0.0.1 would let a neighbour,
	 * reach the host's loopback services: CVE-2020-8558) */
	fprintf(f, "\t}\n"
		   "\tchain raw {\n\t\ttype filter hook prerouting priority raw; policy accept;\n"
		   "\t\tiifname != \"lo\" ip daddr 127.0.0.0/8 drop\n\t}\n"
		   "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		   "\t\tfib daddr type local jump ports\n\t}\n"
		   "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n"
		   "\t\tfib daddr type local jump ports\n\t}\n");
	/* forward (docker's default since 28.0, stricter), for each bridge
	 * B in use: into B from elsewhere only replies and what a published
	 * port's DNAT sent there (a 127.0.0.1 one never comes from outside:
	 * raw); no direct route to a container's address, so no traffic
	 * between two networks (only a container on both joins them); an
	 * --internal B sends nothing out either. The host's other traffic
	 * keeps its fate (policy accept: another table may still drop it),
	 * except where img turned forwarding on: then nothing else is routed,
	 * as before. */
	fprintf(f, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
	for (size_t i = 0; i < defs->n; i++) {
		const struct run_network *d = &defs->v[i];
		fprintf(f, "\t\toifname \"%s\" iifname != \"%s\" ct state established,related accept\n",
			d->bridge, d->bridge);
		if (!d->internal)
			fprintf(f, "\t\toifname \"%s\" iifname != \"%s\" ct status dnat accept\n", d->bridge, d->bridge);
		fprintf(f, "\t\toifname \"%s\" iifname != \"%s\" drop\n", d->bridge, d->bridge);
		if (d->internal)
			fprintf(f, "\t\tiifname \"%s\" oifname != \"%s\" drop\n", d->bridge, d->bridge);
	}
	/* (a bridge of the host, seen here through br_netfilter, bridges on
	 * whatever ip_forward says: only routed traffic is dropped; a kind the
	 * kernel cannot tell, a NIC's, fails the match and is routed traffic) */
	if (!forwarding_was_on()) {
		char set[600];
		bridge_set(defs, set, sizeof(set));
		fprintf(f, "\t\tiifname != %s oifname != %s meta iifkind \"bridge\" meta oifkind \"bridge\" accept\n"
			   "\t\tiifname != %s oifname != %s drop\n", set, set, set, set);
	}
	/* postrouting: containers out masqueraded (not from an internal
	 * network); the host's 127/8 towards a bridge too (route_localnet);
	 * hairpin: a container's packet DNATed back into its bridge (to itself
	 * or a neighbour, through a host address) leaves with the gateway as
	 * source, so the reply comes back through us to be un-DNATed (docker
	 * masquerades the self case and leaves the rest to br_netfilter, which
	 * we do not load) */
	fprintf(f, "\t}\n"
		   "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	for (size_t i = 0; i < defs->n; i++) {
		const struct run_network *d = &defs->v[i];
		if (!d->internal)
			fprintf(f, "\t\tip saddr %s oifname != \"%s\" masquerade\n", d->subnet, d->bridge);
		fprintf(f, "\t\toifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n"
			   "\t\toifname \"%s\" ip saddr %s ct status dnat masquerade\n",
			d->bridge, d->bridge, d->subnet);
	}
	fprintf(f, "\t}\n}\n");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *nft_render(const struct net_recs *rs, enum nft_what what)
{
	struct net_defs *defs = what == NFT_FULL ? calloc(1, sizeof(*defs)) : NULL;
	if (what == NFT_FULL && !defs)
		return NULL;
	char *text = nft_render_defs(rs, what, defs);
	free(defs);
	return text;
}

/* ------------------------------------------------------------ bridge */

int run_net_bridge_up(int nl, const char *br, const char *gw, int prefix, struct cm_error *err)
{
	int r = run_nl_bridge_add(nl, br);
	if (r < 0 && r != -EEXIST)
		return cm_error_setx(err, r, "creating the bridge %s", br);
	int idx = (int)if_nametoindex(br);
	if (!idx)
		return cm_error_setx(err, -ENODEV, "bridge %s", br);
	/* no router advertisements on our side (SECURITY.md); 127.0.0.1:PORT
	 * DNATed to a container must be routable through our bridges only */
	if ((r = sysctl_write("ipv6", br, "accept_ra", "0")) < 0 && r != -ENOENT)
		return cm_error_setx(err, r, "accept_ra of %s", br);
	if ((r = sysctl_write("ipv4", br, "route_localnet", "1")) < 0)
		return cm_error_setx(err, r, "route_localnet of %s", br);
	if ((r = run_nl_addr_add(nl, idx, gw, prefix)) < 0 && r != -EEXIST)
		return cm_error_setx(err, r, "address of %s", br);
	if ((r = run_nl_link_up(nl, idx)) < 0)
		return cm_error_setx(err, r, "bringing %s up", br);
	return 0;
}

/* A container's network ready on the host: its bridge (img0 is made by
 * the first container; a user-defined one by `network create`, again if
 * it went) and forwarding on, as found recorded once (a crash keeps the
 * first value). */
static int bridge_create(int nl, const struct run_network *n, struct cm_error *err)
{
	int r;
	if (access(RUN_NET_DIR "/ip_forward", F_OK) < 0) {
		_cleanup_free_ char *v = NULL;
		if ((r = run_read_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", 16, &v, NULL)) < 0 ||
		    (r = run_write_atomic(RUN_NET_DIR, "ip_forward", v, strlen(v))) < 0)
			return cm_error_setx(err, r, "recording net.ipv4.ip_forward");
	}
	if ((r = run_net_bridge_up(nl, n->bridge, n->gateway, n->prefix, err)) < 0)
		return r;
	/* in use: its copy for the rules and the other stores (after a
	 * reboot its first container makes it again) */
	if ((r = run_network_activate(n)) < 0)
		return cm_error_setx(err, r, "recording network %s in use", n->name);
	if ((r = run_write_file("/proc/sys/net/ipv4/ip_forward", "1")) < 0)
		return cm_error_setx(err, r, "enabling net.ipv4.ip_forward");
	return 0;
}

/* No bridged container left: the table, the bridge, ip_forward as found. */
static void bridge_remove(int nl)
{
	(void)nft_apply("table ip " NFT_TABLE "\ndelete table ip " NFT_TABLE "\n", NULL);
	(void)unlink(RUN_NET_DIR "/rules");
	(void)run_nl_link_del(nl, RUN_NET_BRIDGE_NAME);
	_cleanup_free_ char *v = NULL;
	if (run_read_file_at(AT_FDCWD, RUN_NET_DIR "/ip_forward", 16, &v, NULL) == 0) {
		v[strcspn(v, "\n")] = '\0';
		if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)
			(void)run_write_file("/proc/sys/net/ipv4/ip_forward", v);
		(void)unlink(RUN_NET_DIR "/ip_forward");
	}
}

static bool bridge_state_exists(void)
{
	return if_nametoindex(RUN_NET_BRIDGE_NAME) != 0 ||
	       access(RUN_NET_DIR "/ip_forward", F_OK) == 0 || access(RUN_NET_DIR "/rules", F_OK) == 0;
}

/* Name the calling process as what it is, not as the monitor or img it was
 * forked from: its command line (argv's memory, arg_start..arg_end of
 * /proc/self/stat, fields 48-49) overwritten in place as setproctitle does
 * (PR_SET_MM would need CAP_SYS_RESOURCE), and its comm. */
static void rename_self(const char *name)
{
	_cleanup_free_ char *st = NULL;
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
	if (run_read_file_at(AT_FDCWD, "/proc/self/stat", 4096, &st, NULL) < 0)
		return;
	const char *p = strrchr(st, ')');
	unsigned long long start = 0, end = 0;
	for (int field = 2; p && *p && field < 49; field++) {
		p = strchr(p, ' ');
		if (!p)
			return;
		p++;
		if (field + 1 == 48)
			start = strtoull(p, NULL, 10);
		else if (field + 1 == 49)
			end = strtoull(p, NULL, 10);
	}
	size_t len = strlen(name) + 1;
	if (!start || end < start + len)
		return;
	memset((void *)(uintptr_t)start, 0, (size_t)(end - start));
	memcpy((void *)(uintptr_t)start, name, len);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long img0 and the table outlive the last bridged container:
 * $IMG_NET_LINGER_MS (0: not at all) or RUN_NET_LINGER_MS. */
static int64_t linger_ms(void)
{
	const char *v = getenv("IMG_NET_LINGER_MS");
	char *end;
	long long ms = v && *v ? strtoll(v, &end, 10) : -1;
	if (ms < 0 || *end || ms > 86400000LL)
		return RUN_NET_LINGER_MS;
	return ms;
}

/* Deleting a link or a rule waits for RCU grace periods (a veth ~19 ms,
 * the bridge ~35 ms, the table ~16 ms, a rule ~14 ms here), none of which a
 * container's start or exit needs to wait for: a detached reaper does them.
 * The rules first, holding the network lock (it shares the lock's open
 * file), so whoever needs settled rules next (set-up, release, reconcile,
 * img's port check) waits for them; then, without the lock, the veths
 * (their names are per container; a restart deletes a leftover itself);
 * then, when no container is left, the bridge and the table linger
 * (linger_ms()) and go only if still nobody uses them, under the lock
 * again: containers run one after another (a script's loop) keep img0
 * instead of each waiting for its deletion (95 ms a run, measured). A new
 * record ends the lingering at once (that container's exit lingers anew):
 * one reaper waits, not one per container run. ports:
 * the ports chain to apply (full: the table if that fails), written as the
 * rules applied. Its fds: the lock, /dev/null as stdio. */
static void net_reap(int lock, char (*veths)[IFNAMSIZ], size_t n_veths, bool bridge,
		     const char *ports, const char *full)
{
	if (!n_veths && !bridge && !ports)
		return;
	pid_t pid = fork();
	if (pid != 0) {
		while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	if (fork() != 0)
		_exit(0);
	(void)setsid();
	rename_self("img-net-reaper");
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    dup2(lock, 3) < 0)
		_exit(1);
	(void)close_range(4, ~0U, 0);
	if (ports) {
		(void)unlink(RUN_NET_DIR "/rules");
		if (nft_apply(ports, NULL) == 0 || nft_apply(full, NULL) == 0)
			(void)run_write_atomic(RUN_NET_DIR, "rules", full, strlen(full));
	}
	close(3); /* the rules are settled: the lock is free once our caller returns */
	int nl = run_nl_open();
	for (size_t i = 0; i < n_veths; i++)
		(void)run_nl_link_del(nl, veths[i]);
	if (!bridge)
		_exit(0);
	/* a container set up meanwhile (its record published by rename) ends
	 * the wait: img0 is used again and its exit brings the next reaper */
	int in = inotify_init1(IN_CLOEXEC);
	if (in >= 0 && inotify_add_watch(in, ADDR_DIR, IN_MOVED_TO) < 0)
		cm_close(&in);
	struct pollfd pf = { .fd = in, .events = POLLIN };
	for (int64_t left = linger_ms(), end = mono_ms() + left; left > 0; left = end - mono_ms())
		if (poll(&pf, 1, left > INT_MAX ? INT_MAX : (int)left) > 0)
			_exit(0);
	int l = run_net_lock();
	struct net_recs rs = { 0 };
	bool used = l < 0 || recs_load(&rs) < 0;
	for (size_t i = 0; i < rs.n; i++)
		used |= rs.v[i].live;
	recs_free(&rs);
	if (!used && bridge_state_exists())
		bridge_remove(nl);
	_exit(0);
}

/* Whether two renderings of the table differ in the port rules at most
 * (else only a whole table brings one to the other: a table of an older
 * img, the ip_forward record changed). */
static bool same_frame(const char *a, const char *b)
{
	static const char head[] = "\tchain ports {\n", tail[] = "\n\t}\n";
	const char *a1 = strstr(a, head), *b1 = strstr(b, head);
	const char *a2 = a1 ? strstr(a1, tail) : NULL, *b2 = b1 ? strstr(b1, tail) : NULL;
	if (!a2 || !b2)
		return false;
	return a1 - a == b1 - b && memcmp(a, b, (size_t)(a1 - a)) == 0 && strcmp(a2, b2) == 0;
}

/* After the records changed: drop the stale ones, then either take down
 * what no container uses or bring the rules up to date. added: the record
 * a set-up just made (its rules can be appended when nothing else changed).
 * Rules equal to the ones last applied cost no nft run. lock: the network
 * lock's fd, lent to the reaper. */
static int net_sync(int lock, struct net_recs *rs, const struct net_rec *added,
		    struct cm_error *err)
{
	size_t live = 0, n_veths = 0;
	bool dropped = false;
	char (*veths)[IFNAMSIZ] = calloc(rs->n + 1, IFNAMSIZ);
	if (!veths)
		return cm_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->v[i].live) {
			live++;
			continue;
		}
		/* a restarted container's old record names its new veth */
		bool again = false;
		for (size_t k = 0; k < rs->n; k++)
			again |= rs->v[k].live && strcmp(rs->v[k].veth, rs->v[i].veth) == 0;
		if (!again)
			snprintf(veths[n_veths++], IFNAMSIZ, "%s", rs->v[i].veth);
		dropped |= rs->v[i].n_ports > 0;
		if (rs->v[i].ip[0])
			rec_drop(&rs->v[i]);
	}
	int r = 0;
	_cleanup_free_ char *full = NULL, *ports = NULL, *last = NULL;
	if (live) {
		bool known = run_read_file_at(AT_FDCWD, RUN_NET_DIR "/rules", 1 << 22, &last, NULL) == 0;
		if (!(full = nft_render(rs, NFT_FULL)))
			r = cm_error_set(err, -ENOMEM, "rendering the nftables rules");
		else if (known && strcmp(last, full) == 0)
			; /* as applied */
		else if (!(known = known && same_frame(last, full)) || (added && !dropped)) {
			/* a new table, or only the rules of added to append */
			struct net_recs one = { .v = (struct net_rec *)added, .n = 1 };
			_cleanup_free_ char *add = known ? nft_render(&one, NFT_ADD) : NULL;
			(void)unlink(RUN_NET_DIR "/rules");
			r = add ? nft_apply(add, NULL) : -1;
			if (r < 0)
				r = nft_apply(full, err);
			if (r == 0)
				r = run_write_atomic(RUN_NET_DIR, "rules", full, strlen(full));
		} else if (!(ports = nft_render(rs, NFT_PORTS))) {
			r = cm_error_set(err, -ENOMEM, "rendering the nftables rules");
		} else if (added) {
			/* a set-up's own rules are in place before it returns */
			(void)unlink(RUN_NET_DIR "/rules");
			if ((r = nft_apply(ports, NULL)) < 0)
				r = nft_apply(full, err);
			if (r == 0)
				r = run_write_atomic(RUN_NET_DIR, "rules", full, strlen(full));
			free(TAKE_PTR(ports));
		}
	} else if (bridge_state_exists()) {
		/* the table lingers with the bridge (net_reap): the gone ones'
		 * port rules go now, as a later set-up may only append */
		bool known = run_read_file_at(AT_FDCWD, RUN_NET_DIR "/rules", 1 << 22, &last, NULL) == 0;
		if ((full = nft_render(rs, NFT_FULL)) && known && strcmp(last, full) != 0)
			ports = same_frame(last, full) ? nft_render(rs, NFT_PORTS) : strdup(full);
	}
	net_reap(lock, veths, n_veths, !live && bridge_state_exists(), ports, full);
	free(veths);
	return r;
}

/* ------------------------------------------------------------ ports */

static bool ports_clash(const struct run_port *a, const struct run_port *b)
{
	return a->udp == b->udp && a->host_port == b->host_port &&
	       (strcmp(a->host_ip, b->host_ip) == 0 || strcmp(a->host_ip, "0.0.0.0") == 0 ||
		strcmp(b->host_ip, "0.0.0.0") == 0);
}

/* Bind p's host address and port (0: the kernel picks a free one, returned
 * in p): a port a host program holds is refused as docker's proxy would. */
static int port_probe(struct run_port *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p->host_port) };
	if (inet_pton(AF_INET, p->host_ip, &sa.sin_addr) != 1)
		return -EINVAL;
	_cleanup_close_ int fd = socket(AF_INET, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return cm_neg_errno();
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cm_neg_errno();
	socklen_t sl = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return cm_neg_errno();
	p->host_port = ntohs(sa.sin_port);
	return 0;
}

static int port_taken(const struct net_recs *rs, const char *id, const struct run_port *ports,
		      size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (ports_clash(&ports[k], &ports[i]))
			return 1;
	for (size_t r = 0; r < rs->n; r++)
		for (size_t k = 0; rs->v[r].live && strcmp(rs->v[r].id, id) != 0 && k < rs->v[r].n_ports; k++)
			if (ports_clash(&rs->v[r].ports[k], &ports[i]))
				return 1;
	return 0;
}

static int ports_check_locked(const struct net_recs *rs, const char *id, struct run_port *ports,
			      size_t n, bool probe, struct cm_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct run_port *p = &ports[i];
		char a[64];
		if (p->host_port == 0) {
			int tries = 0, r;
			do {
				p->host_port = 0;
				if ((r = port_probe(p)) < 0)
					return cm_error_setx(err, r, "choosing a host port on %s", p->host_ip);
			} while (port_taken(rs, id, ports, i) && ++tries < 64);
			if (tries == 64)
				return cm_error_set(err, -EADDRINUSE, "no free host port on %s", p->host_ip);
			continue;
		}
		snprintf(a, sizeof(a), "%s:%u", p->host_ip, p->host_port);
		if (port_taken(rs, id, ports, i))
			return cm_error_set(err, -EADDRINUSE, "Bind for %s failed: port is already allocated", a);
		if (probe && port_probe(p) == -EADDRINUSE)
			return cm_error_set(err, -EADDRINUSE, "Bind for %s failed: port is already in use on the host", a);
	}
	return 0;
}

int run_net_check_ports(const char *id, struct run_port *ports, size_t n, struct cm_error *err)
{
	if (!n)
		return 0;
	_cleanup_close_ int lock = run_net_lock();
	if (lock < 0)
		return cm_error_setx(err, lock, "locking " RUN_NET_DIR);
	struct net_recs rs = { 0 };
	int r = recs_load(&rs);
	if (r == 0)
		r = ports_check_locked(&rs, id, ports, n, true, err);
	else
		r = cm_error_setx(err, r, "reading " ADDR_DIR);
	recs_free(&rs);
	return r;
}

/* ------------------------------------------------------------ in the netns */

/* The container's side, from a short helper in pid's netns (the socket
 * speaks for the netns it was made in): lo up, the interface up with
 * ip/prefix, the default route through the gateway (gw NULL: none, for a
 * network connected later or an internal one). */
struct inside_job {
	int netns;
	const char *ifname, *ip, *gw;
	int prefix;
};

static int inside(void *arg, int *ret_errno)
{
	const struct inside_job *j = arg;
	int nl, idx, r = 0, step = 0;
	if (setns(j->netns, CLONE_NEWNET) < 0)
		step = 1, r = cm_neg_errno();
	else if ((nl = run_nl_open()) < 0)
		step = 2, r = nl;
	else if ((r = run_nl_link_up(nl, (int)if_nametoindex("lo"))) < 0)
		step = 3;
	else if (!(idx = (int)if_nametoindex(j->ifname)))
		step = 4, r = -ENODEV;
	else if ((r = run_nl_addr_add(nl, idx, j->ip, j->prefix)) < 0)
		step = 5;
	else if ((r = run_nl_link_up(nl, idx)) < 0)
		step = 6;
	else if (j->gw && (r = run_nl_route_default(nl, idx, j->gw)) < 0)
		step = 7;
	*ret_errno = r;
	return step;
}

static int configure_inside(pid_t pid, const struct inside_job *job, struct cm_error *err)
{
	static const char *const steps[] = {
		"joining the container's network namespace", "opening rtnetlink", "bringing lo up",
		"finding its interface", "adding the address", "bringing its interface up",
		"adding the default route",
	};
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	_cleanup_close_ int ns = open(p, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening %s", p);
	struct inside_job j = *job;
	j.netns = ns;
	return run_in_helper(inside, &j, "network", steps, CM_ARRAY_SIZE(steps), err);
}

/* The init layer's etc/hosts: the container's address with its hostname
 * (docker's line), in place of 127.0.1.1. Replaced by rename before pid 1
 * goes on (the union has not looked the file up yet); not fsynced: it is
 * written again at every start. */
static int hosts_write(const char *init_dir, const char *ip, const char *hostname)
{
	_cleanup_free_ char *old = NULL;
	int r = run_init_read(init_dir, "hosts", &old);
	if (r < 0)
		return r;
	size_t cap = strlen(old) + 512, off = 0, hl = strlen(hostname);
	_cleanup_free_ char *out = malloc(cap);
	if (!out)
		return -ENOMEM;
	char *save = NULL;
	for (char *l = strtok_r(old, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		size_t ll = strlen(l);
		/* an earlier start's line: an address of ours (10.89/16, a user
		 * network's 10.90/16 or --subnet) with the hostname */
		bool ours = strncmp(l, "127.", 4) != 0 && strncmp(l, "::1", 3) != 0 && ll > hl &&
			    l[ll - hl - 1] == '\t' && strcmp(l + ll - hl, hostname) == 0;
		if (strncmp(l, "127.0.1.1\t", 10) != 0 && !ours)
			off += (size_t)snprintf(out + off, cap - off, "%s\n", l);
	}
	off += (size_t)snprintf(out + off, cap - off, "%s\t%s\n", ip, hostname);
	if (off >= cap)
		return -E2BIG;
	return run_init_replace(init_dir, "hosts", out);
}

/* A container on a user-defined network asks the embedded DNS server
 * (docker's resolv.conf there): nameserver 127.0.0.11, the host's search
 * domains (or --dns-search), options ndots:0 and --dns-option. */
static int resolv_write(const struct run_config *c)
{
	static const char *const ns[] = { RUN_DNS_ADDR, NULL };
	return run_resolv_write(c, ns, "ndots:0");
}

/* ------------------------------------------------------------ set-up, release */

static bool addr_used(const struct net_recs *rs, const char *ip)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].ip[0] && strcmp(rs->v[i].ip, ip) == 0)
			return true;
	return false;
}

/* An address of n for a container: want (--ip), checked, or the lowest
 * free one after the gateway (10.89.0.2 first on img0). */
static int pick_address(const struct net_recs *rs, const struct run_network *n, const char *want,
			char ret[16], struct cm_error *err)
{
	struct in_addr a, g;
	char sn[20];
	snprintf(sn, sizeof(sn), "%s", n->subnet);
	sn[strcspn(sn, "/")] = '\0';
	if (inet_pton(AF_INET, sn, &a) != 1 || inet_pton(AF_INET, n->gateway, &g) != 1)
		return cm_error_set(err, -EINVAL, "network %s: a bad subnet", n->name);
	uint32_t base = ntohl(a.s_addr), mask = ~0u << (32 - n->prefix), bcast = base | ~mask;
	uint32_t gw = ntohl(g.s_addr);
	if (want && want[0]) {
		struct in_addr w;
		if (inet_pton(AF_INET, want, &w) != 1)
			return cm_error_set(err, -EINVAL, "invalid IPv4 address: %s", want);
		uint32_t h = ntohl(w.s_addr);
		if ((h & mask) != base || h == base || h == bcast)
			return cm_error_set(err, -EINVAL, "no configured subnet or ip-range contain the IP address %s", want);
		if (h == gw || addr_used(rs, want))
			return cm_error_set(err, -EADDRINUSE, "Address already in use");
		snprintf(ret, 16, "%s", want);
		return 0;
	}
	for (uint32_t h = base + 1; h < bcast; h++) {
		char ip[16];
		struct in_addr w = { .s_addr = htonl(h) };
		inet_ntop(AF_INET, &w, ip, sizeof(ip));
		if (h != gw && !addr_used(rs, ip)) {
			snprintf(ret, 16, "%s", ip);
			return 0;
		}
	}
	return cm_error_set(err, -EADDRNOTAVAIL, "no free address in %s (network %s)", n->subnet, n->name);
}

/* One interface of a container (pid 1: pid) on network n: its record
 * (the address, the names the DNS answers), the veth pair with ifname in
 * the container (index k: the veth's name), the address inside, the
 * default route on the primary one. The record joins rs on success and on
 * a failure after it was written (the caller's net_sync drops it). */
static int attach_one(int nl, struct net_recs *rs, const struct run_config *c, pid_t pid,
		      const struct run_network *n, const struct run_netatt *att, unsigned k,
		      struct net_rec *me, uint8_t mac[6], struct cm_error *err)
{
	int r;
	bool primary = k == 0, user = strcmp(n->name, "bridge") != 0;
	*me = (struct net_rec){ .live = true };
	snprintf(me->id, sizeof(me->id), "%s", c->id);
	snprintf(me->bundle, sizeof(me->bundle), "%s", c->bundle);
	snprintf(me->ifname, sizeof(me->ifname), "eth%u", k);
	if (primary)
		veth_name(c->id, me->veth);
	else
		snprintf(me->veth, sizeof(me->veth), "im%c%.12s", (char)('0' + k % 10), c->id);
	snprintf(me->name, sizeof(me->name), "%s", c->name && c->name[0] == '/' ? c->name + 1 : c->name ? c->name : "");
	if (user) {
		snprintf(me->net, sizeof(me->net), "%s", n->name);
		snprintf(me->host, sizeof(me->host), "%s", c->hostname ? c->hostname : "");
		for (size_t i = 0; att && i < att->n_aliases; i++)
			snprintf(me->aliases[me->n_aliases++], sizeof(me->aliases[0]), "%s", att->aliases[i]);
	}
	if (primary) {
		if (c->n_ports > CM_ARRAY_SIZE(me->ports))
			return cm_error_set(err, -E2BIG, "at most %zu published ports", CM_ARRAY_SIZE(me->ports));
		if (c->n_ports)
			memcpy(me->ports, c->ports, c->n_ports * sizeof(*c->ports));
		me->n_ports = c->n_ports;
		/* a port chosen by img run could be taken by now: refused
		 * here; one with host_port 0 (a config from elsewhere) is chosen */
		if ((r = ports_check_locked(rs, c->id, me->ports, me->n_ports, false, err)) < 0)
			return r;
	}
	if ((r = pick_address(rs, n, att ? att->ip : NULL, me->ip, err)) < 0)
		return r;
	if ((r = rec_write(me)) < 0)
		return cm_error_setx(err, r, "recording %s", me->ip);
	/* the new record joins the set (for the rules and the bridge's fate) */
	struct net_rec *nv = realloc(rs->v, (rs->n + 1) * sizeof(*nv));
	if (!nv) {
		rec_drop(me);
		return cm_error_set(err, -ENOMEM, "out of memory");
	}
	rs->v = nv;
	rs->v[rs->n++] = *me;

	if ((r = bridge_create(nl, n, err)) < 0)
		return r;
	struct in_addr a;
	inet_pton(AF_INET, me->ip, &a);
	mac[0] = 0x02; /* docker's rule: 02:42 and the address */
	mac[1] = 0x42;
	memcpy(mac + 2, &a.s_addr, 4);
	(void)run_nl_link_del(nl, me->veth); /* a leftover of a crash, if any */
	if ((r = run_nl_veth_add(nl, me->veth, (int)if_nametoindex(n->bridge), me->ifname, pid, mac)) < 0)
		return cm_error_setx(err, r, "creating the veth pair %s", me->veth);
	if ((r = sysctl_write("ipv6", me->veth, "accept_ra", "0")) < 0 && r != -ENOENT)
		return cm_error_setx(err, r, "accept_ra of %s", me->veth);
	/* hairpin: a container's packet DNATed back to itself through a host
	 * address leaves the bridge by the port it came in; where br_netfilter
	 * bridges it (not routes it), the bridge sends it back through that
	 * port only in hairpin mode (docker's, without its userland proxy) */
	if ((r = brport_write(me->veth, "hairpin_mode", "1")) < 0)
		return cm_error_setx(err, r, "hairpin mode of %s", me->veth);
	if ((r = run_nl_link_up(nl, (int)if_nametoindex(me->veth))) < 0)
		return cm_error_setx(err, r, "bringing %s up", me->veth);
	struct inside_job j = { .ifname = me->ifname, .ip = me->ip, .prefix = n->prefix,
				.gw = primary && !n->internal ? n->gateway : NULL };
	return configure_inside(pid, &j, err);
}

/* The container's networks: its config's list, or the default bridge. */
static int atts_of(const struct run_config *c, struct run_netatt *atts, size_t max, size_t *ret_n)
{
	size_t n = 0;
	for (char **s = c->networks; s && *s && n < max; s++)
		if (run_netatt_parse(*s, &atts[n]) == 0)
			n++;
	if (n == 0) {
		atts[0] = (struct run_netatt){ .name = "bridge" };
		n = 1;
	}
	*ret_n = n;
	return 0;
}

bool run_net_has_user(const struct run_config *c)
{
	struct run_netatt atts[RUN_NET_MAX_ATTS];
	size_t n;
	(void)atts_of(c, atts, CM_ARRAY_SIZE(atts), &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(atts[i].name, "bridge") != 0)
			return true;
	return false;
}

int run_net_setup(const struct run_config *c, pid_t pid, char ret_ip[16], char ret_mac[18],
		  struct cm_error *err)
{
	struct run_netatt atts[RUN_NET_MAX_ATTS];
	size_t n_atts;
	(void)atts_of(c, atts, CM_ARRAY_SIZE(atts), &n_atts);
	_cleanup_close_ int lock = run_net_lock();
	if (lock < 0)
		return cm_error_setx(err, lock, "locking " RUN_NET_DIR);
	_cleanup_close_ int nl = run_nl_open();
	if (nl < 0)
		return cm_error_setx(err, nl, "opening rtnetlink");
	struct net_recs rs = { 0 };
	int r = recs_load(&rs);
	if (r < 0) {
		recs_free(&rs);
		return cm_error_setx(err, r, "reading " ADDR_DIR);
	}
	/* our own records of an earlier run (a crashed monitor's) go first */
	for (size_t i = 0; i < rs.n; i++)
		if (strcmp(rs.v[i].id, c->id) == 0)
			rs.v[i].live = false;

	struct net_rec me, primary = { 0 };
	uint8_t mac[6] = { 0 }, mac0[6] = { 0 };
	for (size_t k = 0; k < n_atts; k++) {
		struct run_network n;
		if ((r = run_network_get(atts[k].name, &n, err)) < 0)
			goto fail;
		r = attach_one(nl, &rs, c, pid, &n, strcmp(n.name, "bridge") ? &atts[k] : NULL,
			       (unsigned)k, &me, mac, err);
		run_network_clear(&n);
		if (r < 0)
			goto fail;
		if (k == 0) {
			primary = me;
			memcpy(mac0, mac, sizeof(mac0));
		}
	}
	if (c->init_dir && (r = hosts_write(c->init_dir, primary.ip, c->hostname ? c->hostname : c->id)) < 0) {
		r = cm_error_setx(err, r, "writing /etc/hosts");
		goto fail;
	}
	if (c->init_dir && run_net_has_user(c) && (r = resolv_write(c)) < 0) {
		r = cm_error_setx(err, r, "writing /etc/resolv.conf");
		goto fail;
	}
	if ((r = net_sync(lock, &rs, n_atts == 1 ? &primary : NULL, err)) < 0)
		goto fail;
	recs_free(&rs);
	snprintf(ret_ip, 16, "%s", primary.ip);
	snprintf(ret_mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac0[0], mac0[1], mac0[2], mac0[3], mac0[4], mac0[5]);
	return 0;

fail:
	for (size_t i = 0; i < rs.n; i++)
		if (strcmp(rs.v[i].id, c->id) == 0)
			rs.v[i].live = false;
	(void)net_sync(lock, &rs, NULL, NULL);
	recs_free(&rs);
	return r;
}

int run_net_connect(const struct run_config *c, pid_t pid, const struct run_netatt *att,
		    char ret_ip[16], struct cm_error *err)
{
	struct run_network n;
	int r = run_network_get(att->name, &n, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = run_net_lock();
	_cleanup_close_ int nl = lock < 0 ? -1 : run_nl_open();
	struct net_recs rs = { 0 };
	if (lock < 0 || nl < 0 || (r = recs_load(&rs)) < 0) {
		run_network_clear(&n);
		recs_free(&rs);
		return cm_error_setx(err, lock < 0 ? lock : nl < 0 ? nl : r, "locking " RUN_NET_DIR);
	}
	/* the lowest free interface index of the container */
	unsigned k = 1;
	bool taken = true;
	for (; k < RUN_NET_MAX_ATTS && taken; k += taken) {
		char ifn[IFNAMSIZ];
		snprintf(ifn, sizeof(ifn), "eth%u", k);
		taken = false;
		for (size_t i = 0; i < rs.n; i++) {
			const struct net_rec *x = &rs.v[i];
			if (!x->live || strcmp(x->id, c->id) != 0)
				continue;
			if (strcmp(x->net[0] ? x->net : "bridge", n.name) == 0) {
				r = cm_error_set(err, -EEXIST, "endpoint with name %s already exists in network %s",
						 c->name && c->name[0] == '/' ? c->name + 1 : c->id, n.name);
				goto out;
			}
			taken |= strcmp(x->ifname, ifn) == 0;
		}
	}
	if (taken) {
		r = cm_error_set(err, -E2BIG, "at most %d networks per container", RUN_NET_MAX_ATTS);
		goto out;
	}
	struct net_rec me;
	uint8_t mac[6];
	r = attach_one(nl, &rs, c, pid, &n, strcmp(n.name, "bridge") ? att : NULL, k, &me, mac, err);
	if (r < 0) {
		for (size_t i = 0; i < rs.n; i++)
			if (strcmp(rs.v[i].veth, me.veth) == 0 && strcmp(rs.v[i].ip, me.ip) == 0)
				rs.v[i].live = false;
		(void)net_sync(lock, &rs, NULL, NULL);
	} else if ((r = net_sync(lock, &rs, NULL, err)) == 0) {
		snprintf(ret_ip, 16, "%s", me.ip);
		/* its first user-defined network: from now on it asks the
		 * embedded DNS its monitor serves, as docker rebuilds it */
		if (c->init_dir && strcmp(n.name, "bridge") != 0 && !run_net_has_user(c) &&
		    (r = resolv_write(c)) < 0)
			r = cm_error_setx(err, r, "writing /etc/resolv.conf");
	}
out:
	run_network_clear(&n);
	recs_free(&rs);
	return r;
}

int run_net_disconnect(const char *id, const char *name, struct cm_error *err)
{
	_cleanup_close_ int lock = run_net_lock();
	if (lock < 0)
		return cm_error_setx(err, lock, "locking " RUN_NET_DIR);
	struct net_recs rs = { 0 };
	int r = recs_load(&rs);
	bool found = false;
	for (size_t i = 0; r == 0 && i < rs.n; i++)
		if (rs.v[i].live && strcmp(rs.v[i].id, id) == 0 &&
		    strcmp(rs.v[i].net[0] ? rs.v[i].net : "bridge", name) == 0) {
			rs.v[i].live = false;
			found = true;
		}
	if (r < 0)
		r = cm_error_setx(err, r, "reading " ADDR_DIR);
	else if (!found)
		r = -ENOENT;
	else
		r = net_sync(lock, &rs, NULL, err);
	recs_free(&rs);
	return r;
}

int run_net_users_locked(const char *name, char ***ret, struct cm_error *err)
{
	struct net_recs rs = { 0 };
	int r = recs_load(&rs);
	if (r < 0 && r != -ENOENT) {
		recs_free(&rs);
		return cm_error_setx(err, r, "reading " ADDR_DIR);
	}
	char **v = calloc(rs.n + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; v && i < rs.n; i++)
		if (rs.v[i].live && strcmp(rs.v[i].net[0] ? rs.v[i].net : "bridge", name) == 0)
			v[n++] = strdup(rs.v[i].id);
	recs_free(&rs);
	if (!v)
		return cm_error_set(err, -ENOMEM, "out of memory");
	*ret = v;
	return 0;
}

int run_network_endpoints(const char *name, struct run_endpoint **ret, size_t *ret_n,
			  struct cm_error *err)
{
	struct net_recs rs = { 0 };
	int r = access(ADDR_DIR, F_OK) == 0 ? recs_load(&rs) : 0;
	struct run_endpoint *v = calloc(rs.n + 1, sizeof(*v));
	size_t n = 0;
	if (r < 0 || !v) {
		free(v);
		recs_free(&rs);
		return cm_error_set(err, r < 0 ? r : -ENOMEM, "reading " ADDR_DIR);
	}
	for (size_t i = 0; i < rs.n; i++)
		if (rs.v[i].live && strcmp(rs.v[i].net[0] ? rs.v[i].net : "bridge", name) == 0) {
			snprintf(v[n].id, sizeof(v[n].id), "%s", rs.v[i].id);
			snprintf(v[n].ip, sizeof(v[n].ip), "%s", rs.v[i].ip);
			snprintf(v[n].name, sizeof(v[n].name), "%s", rs.v[i].name);
			mac_of(rs.v[i].ip, v[n].mac);
			n++;
		}
	recs_free(&rs);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* A name the embedded DNS of container self_id answers: the containers
 * that share a user-defined network with it, by name, hostname, alias or
 * 12 hex of the id. Read without the lock (records are published by
 * rename). The addresses on the shared network, at most max. */
int run_net_lookup(const char *self_id, const char *qname, char (*ret)[16], size_t max, size_t *ret_n)
{
	struct net_recs rs = { 0 };
	int r = recs_load(&rs);
	size_t n = 0;
	for (size_t i = 0; r == 0 && i < rs.n; i++) {
		const struct net_rec *x = &rs.v[i];
		if (!x->live || !x->net[0])
			continue;
		bool shared = false;
		for (size_t k = 0; k < rs.n && !shared; k++)
			shared = rs.v[k].live && strcmp(rs.v[k].id, self_id) == 0 &&
				 strcmp(rs.v[k].net, x->net) == 0;
		bool match = shared && ((x->name[0] && strcasecmp(x->name, qname) == 0) ||
					(x->host[0] && strcasecmp(x->host, qname) == 0) ||
					(strlen(qname) == 12 && strncasecmp(x->id, qname, 12) == 0));
		for (size_t k = 0; shared && !match && k < x->n_aliases; k++)
			match = strcasecmp(x->aliases[k], qname) == 0;
		bool dup = false;
		for (size_t k = 0; match && k < n; k++)
			dup |= strcmp(ret[k], x->ip) == 0;
		if (match && !dup && n < max)
			snprintf(ret[n++], 16, "%s", x->ip);
	}
	recs_free(&rs);
	*ret_n = n;
	return r;
}

/* Whether a record names id (read without the lock: records are
 * published by rename, so one is seen whole or not at all). */
static bool has_record(const char *id)
{
	DIR *d = opendir(ADDR_DIR);
	bool found = false;
	struct dirent *de;
	while (d && !found && (de = readdir(d))) {
		char p[512], buf[80];
		snprintf(p, sizeof(p), "%s/%s", ADDR_DIR, de->d_name);
		_cleanup_close_ int fd = de->d_name[0] == '.' ? -1 : open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		found = n >= 3 + RUN_ID_LEN && memcmp(buf, "id ", 3) == 0 &&
			memcmp(buf + 3, id, RUN_ID_LEN) == 0;
	}
	if (d)
		closedir(d);
	return found;
}

/* Release id (NULL: none, only reconcile). */
static int net_release(const char *id, struct cm_error *err)
{
	if (!id && access(RUN_NET_DIR, F_OK) < 0)
		return 0; /* never used on this host */
	if (id && !has_record(id))
		return 0; /* already released (by its monitor): nothing to wait for */
	_cleanup_close_ int lock = run_net_lock();
	if (lock < 0)
		return cm_error_setx(err, lock, "locking " RUN_NET_DIR);
	struct net_recs rs = { 0 };
	int r = recs_load(&rs);
	for (size_t i = 0; r == 0 && id && i < rs.n; i++)
		if (strcmp(rs.v[i].id, id) == 0)
			rs.v[i].live = false;
	if (r == 0)
		r = net_sync(lock, &rs, NULL, err);
	else
		r = cm_error_setx(err, r, "reading " ADDR_DIR);
	recs_free(&rs);
	return r;
}

int run_net_release(const char *id, struct cm_error *err)
{
	return net_release(id, err);
}

int run_net_reconcile(struct cm_error *err)
{
	return net_release(NULL, err);
}

/* ------------------------------------------------------------ inspect */

void run_ports_json(const struct run_config *c, struct cm_jw *w)
{
	/* docker's shape: {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]} */
	cm_jw_obj(w);
	for (size_t i = 0; i < c->n_ports; i++) {
		const struct run_port *p = &c->ports[i];
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen |= c->ports[k].ctr_port == p->ctr_port && c->ports[k].udp == p->udp;
		if (seen)
			continue;
		char key[16], hp[8];
		snprintf(key, sizeof(key), "%u/%s", p->ctr_port, p->udp ? "udp" : "tcp");
		cm_jw_key(w, key);
		cm_jw_arr(w);
		for (size_t k = i; k < c->n_ports; k++) {
			if (c->ports[k].ctr_port != p->ctr_port || c->ports[k].udp != p->udp)
				continue;
			snprintf(hp, sizeof(hp), "%u", c->ports[k].host_port);
			cm_jw_obj(w);
			cm_jw_kstr(w, "HostIp", c->ports[k].host_ip);
			cm_jw_kstr(w, "HostPort", hp);
			cm_jw_obj_end(w);
		}
		cm_jw_arr_end(w);
	}
	cm_jw_obj_end(w);
}

void run_net_inspect(const struct run_config *c, const struct run_state *st, struct cm_jw *w)
{
	bool up = st->status == RUN_RUNNING && st->ip[0];
	bool bridged = c->network == RUN_NET_BRIDGE;
	struct run_netatt atts[RUN_NET_MAX_ATTS];
	size_t n_atts = 1;
	if (bridged)
		(void)atts_of(c, atts, CM_ARRAY_SIZE(atts), &n_atts);
	else {
		atts[0] = (struct run_netatt){ 0 };
		snprintf(atts[0].name, sizeof(atts[0].name), "%s", run_network_name(c->network));
	}
	struct run_network pn = { 0 };
	bool have = bridged && run_network_get(atts[0].name, &pn, NULL) == 0;
	struct net_recs rs = { 0 };
	if (up && bridged)
		(void)recs_load(&rs);
	cm_jw_obj(w);
	cm_jw_kstr(w, "Bridge", have ? pn.bridge : "");
	cm_jw_key(w, "Ports");
	if (up) {
		run_ports_json(c, w);
	} else {
		cm_jw_obj(w);
		cm_jw_obj_end(w);
	}
	cm_jw_kstr(w, "Gateway", up && have ? pn.gateway : "");
	cm_jw_kstr(w, "IPAddress", up ? st->ip : "");
	cm_jw_kint(w, "IPPrefixLen", up && have ? pn.prefix : 0);
	cm_jw_kstr(w, "MacAddress", up ? st->mac : "");
	run_network_clear(&pn);
	cm_jw_key(w, "Networks");
	cm_jw_obj(w);
	for (size_t i = 0; i < n_atts; i++) {
		struct run_network n = { 0 };
		bool known = bridged && run_network_get(atts[i].name, &n, NULL) == 0;
		const struct net_rec *x = NULL;
		for (size_t k = 0; k < rs.n && !x; k++)
			if (rs.v[k].live && strcmp(rs.v[k].id, c->id) == 0 &&
			    strcmp(rs.v[k].net[0] ? rs.v[k].net : "bridge", atts[i].name) == 0)
				x = &rs.v[k];
		char mac[18] = "";
		if (x)
			mac_of(x->ip, mac);
		cm_jw_key(w, atts[i].name);
		cm_jw_obj(w);
		cm_jw_key(w, "Aliases");
		if (atts[i].n_aliases) {
			cm_jw_arr(w);
			for (size_t k = 0; k < atts[i].n_aliases; k++)
				cm_jw_str(w, atts[i].aliases[k]);
			cm_jw_arr_end(w);
		} else {
			cm_jw_null(w);
		}
		cm_jw_kstr(w, "NetworkID", known ? n.id : "");
		cm_jw_kstr(w, "Gateway", x && known ? n.gateway : "");
		cm_jw_kstr(w, "IPAddress", x ? x->ip : "");
		cm_jw_kint(w, "IPPrefixLen", x && known ? n.prefix : 0);
		cm_jw_kstr(w, "MacAddress", mac);
		cm_jw_obj_end(w);
		run_network_clear(&n);
	}
	cm_jw_obj_end(w);
	cm_jw_obj_end(w);
	recs_free(&rs);
}
