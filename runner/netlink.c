// SPDX-License-Identifier: MIT
/* A small rtnetlink client: the few requests the bridge network needs (a
 * bridge, a veth pair with one end created in another netns, master/up,
 * an address, a default route, delete), each sent with NLM_F_ACK and its
 * errno read back. No libmnl/libnl: a request is one buffer of aligned
 * attributes, nested ones closed by fixing their length. */
#include "run-internal.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

struct nlreq {
	char buf[1024];
	struct nlmsghdr *h;
	bool overflow;
};

static void *nl_put(struct nlreq *q, size_t len)
{
	size_t at = NLMSG_ALIGN(q->h->nlmsg_len);
	if (at + NLMSG_ALIGN(len) > sizeof(q->buf)) {
		q->overflow = true;
		return NULL;
	}
	void *p = q->buf + at;
	memset(p, 0, NLMSG_ALIGN(len));
	q->h->nlmsg_len = (uint32_t)(at + len);
	return p;
}

static struct rtattr *nl_attr(struct nlreq *q, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = nl_put(q, RTA_LENGTH(len));
	if (!a)
		return NULL;
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	return a;
}

static struct rtattr *nl_nest(struct nlreq *q, unsigned short type)
{
	return nl_attr(q, type, NULL, 0);
}

static void nl_nest_end(struct nlreq *q, struct rtattr *a)
{
	if (a)
		a->rta_len = (unsigned short)(q->buf + q->h->nlmsg_len - (char *)a);
}

static void *nl_begin(struct nlreq *q, uint16_t type, uint16_t flags, size_t hdr)
{
	memset(q->buf, 0, sizeof(q->buf));
	q->overflow = false;
	q->h = (struct nlmsghdr *)q->buf;
	q->h->nlmsg_len = NLMSG_LENGTH(hdr);
	q->h->nlmsg_type = type;
	q->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	q->h->nlmsg_seq = 1;
	return NLMSG_DATA(q->h);
}

int run_nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return cm_neg_errno();
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = cm_neg_errno();
		close(fd);
		return r;
	}
	return fd;
}

/* Send q and read its ack: 0 or the kernel's -errno. */
static int nl_talk(int fd, struct nlreq *q)
{
	if (q->overflow)
		return -E2BIG;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (sendto(fd, q->buf, q->h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cm_neg_errno();
	char rb[4096];
	for (;;) {
		ssize_t n = recv(fd, rb, sizeof(rb), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cm_neg_errno();
		for (struct nlmsghdr *h = (struct nlmsghdr *)rb; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error;
			}
		}
	}
}

static void link_name(struct nlreq *q, const char *name)
{
	nl_attr(q, IFLA_IFNAME, name, strlen(name) + 1);
}

int run_nl_bridge_add(int fd, const char *name)
{
	struct nlreq q;
	nl_begin(&q, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	link_name(&q, name);
	struct rtattr *li = nl_nest(&q, IFLA_LINKINFO);
	nl_attr(&q, IFLA_INFO_KIND, "bridge", 6);
	nl_nest_end(&q, li);
	return nl_talk(fd, &q);
}

/* A veth pair: name here, down, under master (an ifindex, 0 none); the
 * peer created as peer_name directly in the netns of peer_pid, with mac. */
int run_nl_veth_add(int fd, const char *name, int master, const char *peer_name, pid_t peer_pid,
		    const uint8_t mac[6])
{
	struct nlreq q;
	nl_begin(&q, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	link_name(&q, name);
	if (master)
		nl_attr(&q, IFLA_MASTER, &master, sizeof(master));
	struct rtattr *li = nl_nest(&q, IFLA_LINKINFO);
	nl_attr(&q, IFLA_INFO_KIND, "veth", 4);
	struct rtattr *data = nl_nest(&q, IFLA_INFO_DATA);
	struct rtattr *peer = nl_nest(&q, VETH_INFO_PEER);
	nl_put(&q, sizeof(struct ifinfomsg));
	link_name(&q, peer_name);
	uint32_t pid = (uint32_t)peer_pid;
	nl_attr(&q, IFLA_NET_NS_PID, &pid, sizeof(pid));
	nl_attr(&q, IFLA_ADDRESS, mac, 6);
	nl_nest_end(&q, peer);
	nl_nest_end(&q, data);
	nl_nest_end(&q, li);
	return nl_talk(fd, &q);
}

int run_nl_link_up(int fd, int ifindex)
{
	struct nlreq q;
	struct ifinfomsg *ifi = nl_begin(&q, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nl_talk(fd, &q);
}

int run_nl_link_del(int fd, const char *name)
{
	struct nlreq q;
	nl_begin(&q, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	link_name(&q, name);
	int r = nl_talk(fd, &q);
	return r == -ENODEV ? 0 : r;
}

int run_nl_addr_add(int fd, int ifindex, const char *ip, int prefix)
{
	struct nlreq q;
	struct in_addr a;
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -EINVAL;
	struct ifaddrmsg *ifa = nl_begin(&q, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = (unsigned)ifindex;
	nl_attr(&q, IFA_LOCAL, &a, sizeof(a));
	nl_attr(&q, IFA_ADDRESS, &a, sizeof(a));
	return nl_talk(fd, &q);
}

int run_nl_route_default(int fd, int ifindex, const char *gw)
{
	struct nlreq q;
	struct in_addr a;
	if (inet_pton(AF_INET, gw, &a) != 1)
		return -EINVAL;
	struct rtmsg *rt = nl_begin(&q, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));
	rt->rtm_family = AF_INET;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	uint32_t oif = (uint32_t)ifindex;
	nl_attr(&q, RTA_GATEWAY, &a, sizeof(a));
	nl_attr(&q, RTA_OIF, &oif, sizeof(oif));
	return nl_talk(fd, &q);
}
