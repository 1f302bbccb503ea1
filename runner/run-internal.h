/* SPDX-License-Identifier: MIT */
/* librunner's private header, sectioned by file. */
#pragma once

#include "cm.h"
#include "run.h"

#include <errno.h>
#include <stdlib.h>

/* ---- util.c ---------------------------------------------------------- */

/* Read a whole small regular file (at most max bytes, else -EFBIG) at
 * dirfd/path, NUL-terminated; opened non-blocking, anything but a regular
 * file is -EINVAL. */
int run_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* The same from an open fd, to its end. */
int run_read_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Write a string to an existing file (cgroup knobs). */
int run_write_file(const char *path, const char *s);
/* temp + fsync + rename in dir. */
int run_write_atomic(const char *dir, const char *name, const void *buf, size_t len);
/* One message of len bytes on a socket, fd (when >= 0) passed with it as
 * SCM_RIGHTS. The bytes sent, or -errno. */
ssize_t run_send_with_fd(int sock, const void *buf, size_t len, int fd);
/* The same with up to 3 fds. */
ssize_t run_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds);
/* One message into buf (len bytes at most), the fds passed with it (up
 * to 3, O_CLOEXEC) into fds[max], their count in *ret_n (the ones past max
 * closed). The bytes read, or -errno (then *ret_n is 0). */
ssize_t run_recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t max, size_t *ret_n);

/* The monitor's messages to img: on the sync socket of run_container_start,
 * and on an attach connection (run_container_attach). */
enum { RUN_MSG_STARTED = 1, RUN_MSG_FAILED, RUN_MSG_EXITED, RUN_MSG_DETACHED };
int run_monitor_send(int fd, int type, int code, pid_t pid, const char *text, int pass_fd);

/* img attach: BUNDLE/attach.sock, the monitor's SOCK_SEQPACKET listener
 * while pid 1 runs. A client sends one run_attach_req with its stdin (if
 * with_stdin), stdout and stderr as SCM_RIGHTS; the monitor answers
 * RUN_MSG_STARTED (pid 1's pid, the pty master with it under -t) or
 * RUN_MSG_FAILED (text), then relays pid 1's output to those fds and the
 * stdin to pid 1 (-i) until the detach keys (RUN_MSG_DETACHED) or pid 1's
 * exit (RUN_MSG_EXITED, its code). One client at a time. */
#define RUN_ATTACH_SOCK "attach.sock"
struct run_attach_req {
	int with_stdin;
	char detach_keys[64]; /* docker's spec, "": ctrl-p,ctrl-q */
};
void run_time_fmt_ns(int64_t ns, char *buf, size_t sz); /* RFC 3339 with ns, UTC */
/* Start time of pid in clock ticks since boot (field 22 of /proc/PID/stat), 0 if gone. */
uint64_t run_pid_starttime(pid_t pid);
/* mkdir -p of an absolute host path (trusted). */
int run_mkdir_p(const char *path, mode_t mode);
/* The number in a one-number file (cgroup counters), or -1. */
int64_t run_read_int(const char *path);
/* The value of "KEY VALUE" in a flat keyed file (memory.stat, cpu.stat), or -1. */
int64_t run_read_key(const char *path, const char *key);
/* The host's MemTotal in bytes, or -1. */
int64_t run_host_memory(void);
/* The calling process has one thread (/proc/self/task has 2 + threads links). */
bool run_single_threaded(void);
/* fork() semantics with clone flags (namespaces; the exit signal is
 * SIGCHLD), the child born in the cgroup2 directory cgfd when cgfd >= 0
 * (clone3 CLONE_INTO_CGROUP). Returns 0 in the child, the pid in the
 * parent, a negative errno on failure (-ENOSYS/-E2BIG/-EINVAL: a kernel
 * without clone3 or CLONE_INTO_CGROUP, where the caller falls back). */
long run_clone(unsigned long flags, int cgfd);
/* rootfs.c: the init layer's etc/NAME, read, and replaced by rename (it is
 * a read-only branch of the union: written only before pid 1 goes on). */
int run_init_read(const char *init_dir, const char *name, char **ret);
int run_init_replace(const char *init_dir, const char *name, const char *text);
/* the init layer's resolv.conf: nameservers ns, options opt0 first (rootfs.c) */
int run_resolv_write(const struct run_config *c, const char *const *ns, const char *opt0);
/* --add-host into etc/hosts, --dns* into etc/resolv.conf (idempotent). */
int run_init_apply(const struct run_config *c, struct cm_error *err);
/* -i: a stdin (src) copied to a process's stdin (dst: a pty master, or
 * our non-blocking end of its pipe) through a buffer, so a process that
 * does not read never stalls the caller's other work. Poll src for POLLIN
 * while len is 0, dst for POLLOUT while it is not; step with readable =
 * src's event. src at EOF (or dst gone) stops it: -1 both, dst closed when
 * close_at_eof (the reader sees EOF). */
struct run_input {
	int src, dst;
	bool close_at_eof;
	char buf[4096];
	size_t len, off;
	/* the detach keys (n_keys 0: none): the bytes matched so far are held
	 * back; all of them seen: detached is set and nothing more is read */
	char keys[16];
	size_t n_keys, matched;
	bool detached;
};
void run_input_step(struct run_input *in, bool readable);
void run_input_stop(struct run_input *in);
/* What is buffered written out (the bytes before the detach keys), for at
 * most ~1 s of a reader that does not read. */
void run_input_flush(struct run_input *in);
/* Run fn(arg) in a short forked process (to join a namespace without
 * changing the caller) and wait for it. fn returns 0, or the failed step
 * (1-based index into steps) with *ret_errno a negative errno; the error
 * then reads "WHAT: STEP: strerror". */
int run_in_helper(int (*fn)(void *arg, int *ret_errno), void *arg, const char *what,
		  const char *const *steps, size_t n_steps, struct cm_error *err);

/* ---- cgroup.c / cgroup-v1.c / cgroup-v2.c ------------------------------ */

struct run_dev_rule; /* below */

struct run_cgroup_ops {
	enum run_cgroup_version version;
	/* rules: the device set to allow (the default one and --device) */
	int (*create)(struct run_cgroup *cg, const struct run_limits *lim,
		      const struct run_dev_rule *rules, size_t n_rules, struct cm_error *err);
	/* new limits for a group that exists (img update) */
	int (*update)(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err);
	int (*enter)(struct run_cgroup *cg, pid_t pid, struct cm_error *err);
	int (*freeze)(struct run_cgroup *cg, bool frozen);
	/* 1 if the group is frozen (img pause), 0 if not, or a negative errno */
	int (*frozen)(struct run_cgroup *cg);
	/* what the group's files tell of cpu, memory, block I/O, pids */
	void (*stats)(struct run_cgroup *cg, struct run_stats *st);
	/* SIGKILL to the whole group in one step, or NULL (v1) */
	int (*kill)(struct run_cgroup *cg);
	/* pids of the group itself (not of groups below it), malloc'd */
	int (*procs)(struct run_cgroup *cg, pid_t **ret, size_t *ret_n);
	/* the group's directory in each hierarchy (v1: one a controller that
	 * exists here, v2: one): the roots of what the container may have made
	 * below it. Returns how many were written (at most max). */
	size_t (*dirs)(const struct run_cgroup *cg, char (*ret)[1024], size_t max);
	bool (*oom_killed)(struct run_cgroup *cg);
	int (*remove)(struct run_cgroup *cg);
	void (*describe)(struct run_cgroup *cg, struct cm_jw *w);
	/* an fd of the group's directory for clone3(CLONE_INTO_CGROUP), or
	 * NULL (v1: the kernel takes only a cgroup2 directory) */
	int (*dir_fd)(struct run_cgroup *cg);
};

struct run_cgroup {
	const struct run_cgroup_ops *ops;
	char root[256];  /* /sys/fs/cgroup */
	char rel[512];   /* parent/id */
};

extern const struct run_cgroup_ops run_cgroup_v1_ops;
extern const struct run_cgroup_ops run_cgroup_v2_ops;

/* The default device set (docker's: mknod of anything, the minimal /dev),
 * the one list both versions apply: v1 as devices.allow lines, v2 as the
 * eBPF program of cgroup-bpf.c. Everything else is denied. */
enum { RUN_DEV_MKNOD = 1, RUN_DEV_READ = 2, RUN_DEV_WRITE = 4, RUN_DEV_RWM = 7 };
struct run_dev_rule {
	char type;            /* 'c', 'b', or 'a' (both) */
	int32_t major, minor; /* -1: any */
	unsigned access;      /* RUN_DEV_* bits */
};
extern const struct run_dev_rule run_cgroup_default_devices[];
extern const size_t run_cgroup_n_default_devices;
/* A rule in v1's devices.allow syntax ("c 1:3 rwm", "b *:* m") into buf.
 * Returns 0, or -EINVAL for a malformed rule or -ENAMETOOLONG. */
int run_dev_rule_format(const struct run_dev_rule *r, char *buf, size_t sz);

/* v2: refuse a limit whose controller is not in root's cgroup.controllers. */
int run_cgroup_v2_check(const char *root, const struct run_limits *lim, struct cm_error *err);
/* Whether the v2 tree at root offers the controller ctrl. */
bool run_cgroup_v2_has(const char *root, const char *ctrl);

/* v1: the controllers we use, each its own hierarchy. */
extern const char *const run_cgroup_v1_controllers[];
/* Read a list of pids from a cgroup.procs file. */
int run_cgroup_read_procs(const char *path, pid_t **ret, size_t *ret_n);
/* Every process of the group and of the groups below it, in every
 * hierarchy (a container that could mount cgroupfs, e.g. --privileged, may
 * have made children and moved processes there), each pid once. */
int run_cgroup_tree_procs(struct run_cgroup *cg, pid_t **ret, size_t *ret_n);

/* ---- cgroup-bpf.c: the v2 device controller ------------------------- */

struct bpf_insn;
#define RUN_BPF_DEVICES_NAME "img_devices" /* the program's name, for bpftool */
/* The BPF_PROG_TYPE_CGROUP_DEVICE program that allows exactly rules and
 * denies every other device access: a prologue of 6 instructions, a block of
 * 2-6 a rule (none after a rule that allows everything), then "deny" (2).
 * Pure. Returns 0 and a malloc'd array, or -EINVAL for a malformed rule. */
int run_bpf_devices_build(const struct run_dev_rule *rules, size_t n, struct bpf_insn **ret,
			  size_t *ret_n);
/* Load a program of that type. Returns its fd (O_CLOEXEC); a refusal of the
 * verifier gives the last line of its log in err. Needs CAP_BPF (root). */
int run_bpf_devices_load(const struct bpf_insn *insns, size_t n, struct cm_error *err);
/* Build and load it, then attach it to the cgroup directory cgroup_dir
 * (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI). The kernel keeps the program while
 * the cgroup exists and frees it with the cgroup: no fd of ours stays open. */
int run_bpf_devices_attach(const char *cgroup_dir, const struct run_dev_rule *rules, size_t n,
			   struct cm_error *err);

/* ---- linux.c --------------------------------------------------------- */

/* Clone pid 1 of c into new namespaces. Runs in the monitor. With
 * self_join (a created cgroup, run_cgroup_self_join_fast()) the child joins
 * it first thing; with cgfd >= 0 (run_cgroup_dir_fd()) it is born in it;
 * else the parent moves it. The child waits on sync (a
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
		    struct run_cgroup *self_join, int cgfd, pid_t *ret_pid, struct cm_error *err);
/* Join the namespaces and cgroup of a running container, then fork and run x. */
int run_linux_exec(const struct run_config *c, const struct run_state *st,
		   const struct run_exec *x, int *ret_code, struct cm_error *err);
/* Write uid_map/gid_map for --userns (container 0 -> RUN_USERNS_BASE). */
#define RUN_USERNS_BASE 100000
#define RUN_USERNS_SIZE 65536
int run_linux_userns_map(const struct run_config *c, pid_t pid, struct cm_error *err);
/* --userns: mount an idmapped clone of the union over the rootfs path in the
 * mount namespace of pid (before it goes on), mapped like the uid map. */
int run_linux_userns_root(pid_t pid, const char *rootfs, struct cm_error *err);

/* ---- seccomp.c: docker's JSON profiles through libseccomp -------------- */

struct run_seccomp; /* a compiled filter (BPF) and its seccomp(2) flags */
/* Compile a profile (docker's JSON format) for a container holding caps
 * (the includes/excludes "caps" are matched against it). *ret is NULL when
 * the profile filters nothing (no default action and no rules, or allow
 * with no rules). */
int run_seccomp_compile_profile(const char *json, size_t len, uint64_t caps,
				struct run_seccomp **ret, struct cm_error *err);
/* c's filter: NULL with --privileged or seccomp=unconfined, else its
 * profile or the default one (seccomp-default.json). Run before the clone
 * or fork, so the child only loads it. */
int run_seccomp_compile(const struct run_config *c, struct run_seccomp **ret, struct cm_error *err);
/* Load s into the calling thread (seccomp(2), no allocation): needs
 * no_new_privs or CAP_SYS_ADMIN. 0 or a negative errno. */
int run_seccomp_load(const struct run_seccomp *s);
void run_seccomp_free(struct run_seccomp *s);
void run_seccomp_freep(struct run_seccomp **s);
#define _cleanup_seccomp_ __attribute__((cleanup(run_seccomp_freep)))

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

/* The most interfaces (networks) of one container: eth0..eth9. */
#define RUN_NET_MAX_ATTS 10
/* The embedded DNS server's address in every container on a user network. */
#define RUN_DNS_ADDR "127.0.0.11"
/* A network in use, under the network lock: its copy published in
 * RUN_NET_DIR/nets (run.h's struct run_network); get_active: that copy by
 * name, else this store's definition (NULL err: no message). */
int run_network_activate(const struct run_network *n);
int run_network_get_active(const char *name, struct run_network *ret);
/* The network lock (RUN_NET_DIR/lock, made if missing): its fd or -errno. */
int run_net_lock(void);
/* A bridge br up with gw/prefix (made if missing), accept_ra 0,
 * route_localnet 1. */
int run_net_bridge_up(int nl, const char *br, const char *gw, int prefix, struct cm_error *err);
/* The ids of the live records on network name; the caller holds the lock. */
int run_net_users_locked(const char *name, char ***ret, struct cm_error *err);
/* Whether the container's networks include a user-defined one. */
bool run_net_has_user(const struct run_config *c);
/* The embedded DNS's answer for qname asked by container self_id (see
 * net.c): at most max addresses in ret, their count in *ret_n. */
int run_net_lookup(const char *self_id, const char *qname, char (*ret)[16], size_t max, size_t *ret_n);

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
