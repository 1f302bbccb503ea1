/* SPDX-License-Identifier: MIT */
/* librunner's private header, sectioned by file. */
#pragma once

#include "cm.h"
#include "run.h"

#include <errno.h>
#include <stdlib.h>

/* ---- util.c ---------------------------------------------------------- */

/* Read a whole small file (at most max bytes) at dirfd/path, NUL-terminated. */
int run_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* Write a string to an existing file (cgroup knobs). */
int run_write_file(const char *path, const char *s);
/* temp + fsync + rename in dir. */
int run_write_atomic(const char *dir, const char *name, const void *buf, size_t len);
int64_t run_now_ns(void);
void run_time_fmt_ns(int64_t ns, char *buf, size_t sz); /* RFC 3339 with ns, UTC */
/* Start time of pid in clock ticks since boot (field 22 of /proc/PID/stat), 0 if gone. */
uint64_t run_pid_starttime(pid_t pid);
/* mkdir -p of an absolute host path (trusted). */
int run_mkdir_p(const char *path, mode_t mode);
/* The calling process has one thread (/proc/self/task has 2 + threads links). */
bool run_single_threaded(void);

/* ---- cgroup.c / cgroup-v1.c / cgroup-v2.c ------------------------------ */

struct run_cgroup_ops {
	enum run_cgroup_version version;
	int (*create)(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err);
	int (*enter)(struct run_cgroup *cg, pid_t pid, struct cm_error *err);
	int (*freeze)(struct run_cgroup *cg, bool frozen);
	/* pids of the group, malloc'd */
	int (*procs)(struct run_cgroup *cg, pid_t **ret, size_t *ret_n);
	bool (*oom_killed)(struct run_cgroup *cg);
	int (*remove)(struct run_cgroup *cg);
	void (*describe)(struct run_cgroup *cg, struct cm_jw *w);
};

struct run_cgroup {
	const struct run_cgroup_ops *ops;
	char root[256];  /* /sys/fs/cgroup */
	char rel[512];   /* parent/id */
};

extern const struct run_cgroup_ops run_cgroup_v1_ops;
extern const struct run_cgroup_ops run_cgroup_v2_ops;

/* v1: the controllers we use, each its own hierarchy. */
extern const char *const run_cgroup_v1_controllers[];
/* Read a list of pids from a cgroup.procs file. */
int run_cgroup_read_procs(const char *path, pid_t **ret, size_t *ret_n);

/* ---- linux.c --------------------------------------------------------- */

/* Clone pid 1 of c into new namespaces. Runs in the monitor. With
 * self_join (a created cgroup, run_cgroup_self_join_fast()) the child joins
 * it first thing; else the parent moves it. The child waits on sync (a
 * socketpair end) for "go" after the parent has put it in the cgroup (and
 * written uid maps), then sets everything up and execs.
 * stdio: fds to become 0, 1, 2 in the child. Failures before exec are
 * written to sync as struct run_child_error. Returns the child pid. */
struct run_child_error {
	int code;      /* exit code the container gets: 125, 126, 127 */
	int err;       /* negative errno */
	char msg[480];
};
int run_linux_clone(const struct run_config *c, const int stdio[3], int sync_child,
		    struct run_cgroup *self_join, pid_t *ret_pid, struct cm_error *err);
/* Join the namespaces and cgroup of a running container, then fork and run x. */
int run_linux_exec(const struct run_config *c, const struct run_state *st,
		   const struct run_exec *x, int *ret_code, struct cm_error *err);
/* Write uid_map/gid_map for --userns (container 0 -> RUN_USERNS_BASE). */
#define RUN_USERNS_BASE 100000
#define RUN_USERNS_SIZE 65536
int run_linux_userns_map(pid_t pid, struct cm_error *err);
/* --userns: mount an idmapped clone of the union over the rootfs path in the
 * mount namespace of pid (before it goes on), mapped like the uid map. */
int run_linux_userns_root(pid_t pid, const char *rootfs, struct cm_error *err);

/* ---- netlink.c: rtnetlink requests (0 or the kernel's -errno) ---------- */

int run_nl_open(void);
int run_nl_bridge_add(int fd, const char *name);
int run_nl_veth_add(int fd, const char *name, int master, const char *peer_name, pid_t peer_pid,
		    const uint8_t mac[6]);
int run_nl_link_up(int fd, int ifindex);
int run_nl_link_del(int fd, const char *name); /* missing = 0 */
int run_nl_addr_add(int fd, int ifindex, const char *ip, int prefix);
int run_nl_route_default(int fd, int ifindex, const char *gw);

/* ---- net.c -------------------------------------------------------------- */

/* The monitor, between clone and "go": an address and a record, the bridge
 * (first user), the veth pair (eth0 in pid's netns), the inside configured
 * by a helper in that netns, the init layer's /etc/hosts, the rules. On
 * failure nothing of it is left. Returns the address and eth0's MAC. */
int run_net_setup(const struct run_config *c, pid_t pid, char ret_ip[16], char ret_mac[18],
		  struct cm_error *err);
/* inspect: HostConfig.PortBindings ({"80/tcp": [{HostIp, HostPort}]}) and
 * NetworkSettings (IPAddress, Gateway, MacAddress, Ports, Networks). */
void run_ports_json(const struct run_config *c, struct cm_jw *w);
void run_net_inspect(const struct run_config *c, const struct run_state *st, struct cm_jw *w);

/* ---- container.c ------------------------------------------------------ */

/* Relay the caller's stdin/stdout to a pty master until it hangs up (the
 * caller's tty in raw mode, window size copied on SIGWINCH). */
int run_relay_tty(int ptm, pid_t child);

int run_cgroup_for(const struct run_config *c, struct run_cgroup **ret, struct cm_error *err);
