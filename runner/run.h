/* SPDX-License-Identifier: MIT */
/* librunner: runs a process in a container on an already prepared root
 * filesystem (issue 4). Namespaces, the mount plan, pivot_root, secure
 * defaults, cgroups (v1 and v2 behind one interface), a per-container monitor
 * and the lifecycle state. Every public function fills a struct cm_error on
 * failure; none prints. See docs/runner.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cm-error.h"
#include "cm-json.h"

#define RUN_ID_LEN 64
#define RUN_DEFAULT_PIDS_LIMIT 2048
#define RUN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Exit codes of docker run. */
#define RUN_EXIT_IMG 125
#define RUN_EXIT_NOEXEC 126
#define RUN_EXIT_NOTFOUND 127

/* ---- configuration (config.c) ------------------------------------------ */

/* --device HOST[:CTR][:PERMS]: a host device node in the container. */
struct run_device {
	char *host, *ctr;    /* absolute; ctr under /dev. Both NULL: a device
			      * cgroup rule with no node (an OCI spec's
			      * resources.devices), major/minor RUN_DEV_ANY for "*" */
	char type;           /* 'c', 'b' or 'p' (a FIFO: a node, no cgroup rule) */
	unsigned major, minor;
	char perms[4];       /* subset of "rwm" */
	/* an OCI spec's linux.devices: the node is made (mknod) with these,
	 * not bound from the host (a FIFO always; c and b but in a user
	 * namespace, where the kernel refuses device nodes: bound, as runc) */
	bool node;
	mode_t mode;         /* fileMode's permission bits (0666 when absent) */
	uid_t uid;           /* the owner, container ids (0 when absent) */
	gid_t gid;
};

#define RUN_DEV_ANY UINT32_MAX

struct run_ulimit {
	int resource;        /* RLIMIT_* */
	int64_t soft, hard;  /* -1: unlimited */
};

struct run_volume {
	char *host;   /* absolute host path (trusted: the command line); for a
		       * volume its _data dir, filled in by img once it exists */
	char *ctr;    /* absolute path in the container, resolved in-root */
	bool ro;
	char *name;   /* a volume's name (NULL: a bind, or an anonymous volume
		       * not made yet) */
	bool volume;  /* a volume (named or anonymous), not a bind mount */
	bool anon;    /* anonymous: made for this container (rm -v removes it) */
	bool nocopy;  /* not seeded from the image's content at ctr */
	bool mount;   /* given with --mount (a bind's source must exist) */
};

/* docker's --detach-keys: "ctrl-<a-z@[\\]^_>" or one character, comma-
 * separated (NULL or "": ctrl-p,ctrl-q), into the bytes; docker's error. */
int run_parse_detach_keys(const char *spec, char ret[16], size_t *ret_n, struct cm_error *err);

/* docker's --network: none (a netns with lo only), host (the host's), or
 * bridge (the default: a veth on img0, an address of 10.89/16, NAT). */
enum run_netmode { RUN_NET_NONE, RUN_NET_HOST, RUN_NET_BRIDGE,
		   RUN_NET_CONTAINER /* --network container:X: X's namespace */ };

/* -p [IP:][HOSTPORT:]CTRPORT[/tcp|udp]: one published port. */
struct run_port {
	char host_ip[16];   /* dotted IPv4, "0.0.0.0" = every address */
	uint16_t host_port; /* 0: choose a free one (run_net_check_ports) */
	uint16_t ctr_port;
	bool udp;
};

/* An OCI spec's linux.resources.blockIO throttle*Device rule: bytes or
 * I/O operations per second for one block device (rate 0: the rule lifted).
 * Kinds in run_blkio_kinds' order. No padding (run_limits is compared
 * bytewise in the unit tests). */
enum { RUN_BLKIO_READ_BPS, RUN_BLKIO_WRITE_BPS, RUN_BLKIO_READ_IOPS, RUN_BLKIO_WRITE_IOPS, RUN_BLKIO_KINDS };
struct run_blkio_throttle {
	uint64_t rate;
	uint32_t major, minor;
	uint32_t kind;
	uint32_t pad_;
};
#define RUN_BLKIO_MAX_THROTTLE 16
/* Per kind: the spec's key, v1's blkio.throttle file, v2's io.max key. */
struct run_blkio_kind_name {
	const char *oci, *v1, *v2;
};
extern const struct run_blkio_kind_name run_blkio_kinds[RUN_BLKIO_KINDS];

/* Limits; 0 = not set (-1 for memory_swap = unlimited swap). */
struct run_limits {
	int64_t memory;      /* bytes */
	int64_t memory_swap; /* memory + swap bytes, -1 unlimited */
	int64_t cpu_quota;   /* us per period, 0 none */
	int64_t cpu_period;  /* us */
	int64_t cpu_shares;  /* v1 shares (2..262144) */
	int64_t pids;        /* max tasks, -1 unlimited, 0 not set: RUN_DEFAULT_PIDS_LIMIT
			      * where the pids controller is available */
	int64_t memory_reservation; /* bytes: v1 memory.soft_limit_in_bytes, v2 memory.low */
	int64_t blkio_weight;       /* 10..1000: v1 blkio[.bfq].weight, v2 io[.bfq].weight */
	bool oom_kill_disable;      /* v1 memory.oom_control (v2 has none) */
	bool swappiness_set;        /* an OCI spec's memory.swappiness (0..100): */
	uint8_t swappiness;         /* v1 memory.swappiness (v2 has none: a warning) */
	char cpuset_cpus[128];      /* "0-1,3": v1 cpuset.cpus, v2 cpuset.cpus */
	struct run_blkio_throttle throttle[RUN_BLKIO_MAX_THROTTLE]; /* v1 blkio.throttle.*, v2 io.max */
	uint32_t n_throttle;
	bool cpuset_group;          /* v1: a cpuset group of its own without cpuset_cpus
				     * too (a private cgroup namespace mounts it); not
				     * recorded: set at creation from c->cgroupns */
};

/* docker's restart policies */
/* --cgroupns: docker's modes; DEFAULT is private on cgroup v2, host on v1 */
enum run_cgroupns { RUN_CGROUPNS_DEFAULT, RUN_CGROUPNS_HOST, RUN_CGROUPNS_PRIVATE };

enum run_restart { RUN_RESTART_NO, RUN_RESTART_ALWAYS, RUN_RESTART_ON_FAILURE,
		   RUN_RESTART_UNLESS_STOPPED };

struct run_config {
	char id[RUN_ID_LEN + 1];
	char *name;
	char *image;        /* as given on the command line */
	char *image_id;     /* sha256:... */
	char *bundle;       /* the container's directory (state, logs, branches) */
	char *rootfs;       /* the mounted root of the container */
	char **layers;      /* ro layer dirs, top first (rootfs.c mounts them) */
	char **argv;        /* the process: argv[0] searched in the container's PATH */
	char **env;         /* KEY=VALUE */
	char **labels;      /* KEY=VALUE: the image's, then --label (docker's merge) */
	char **extra_hosts; /* --add-host NAME:IP (checked) */
	char **dns, **dns_search, **dns_options; /* --dns, --dns-search, --dns-option */
	char *cwd;          /* absolute, "/" by default */
	char *user;         /* UID[:GID] or NAME[:GROUP], resolved in the container */
	char *hostname;
	bool tty, interactive, read_only, userns, autoremove;
	enum run_netmode network;
	uint64_t cap_add, cap_drop; /* --cap-add / --cap-drop (bit = capability) */
	bool host_pid, host_uts;    /* --pid host, --uts host: the host's namespace */
	bool host_mnt;              /* an OCI spec without a mount namespace: the host's,
				     * chroot into the rootfs, nothing mounted (oci-spec.c) */
	/* --security-opt as docker records them (a seccomp=FILE's content
	 * compacted in place of the name), and what they set: */
	char **security_opt;
	char *seccomp;       /* NULL: the default profile; "unconfined"; else a
			      * profile in docker's JSON format */
	bool new_privs;      /* no-new-privileges=false: PR_SET_NO_NEW_PRIVS is
			      * not set (it is by default, unlike docker's) */
	bool systempaths_unconfined; /* systempaths=unconfined: no masked or
				      * read-only /proc, /sys paths */
	bool privileged;     /* --privileged: every capability, no seccomp, every
			      * device, /sys read-write, no masked paths; written
			      * into the OCI spec (oci-spec.c), which the runner
			      * runs: cleared by run_oci_bundle_apply */
	bool sys_rw, cgroup_rw; /* the spec's /sys, /sys/fs/cgroup mounts without "ro" */
	enum run_restart restart; /* --restart: the monitor starts pid 1 again */
	int restart_max;          /* on-failure:N, 0 = no limit */
	enum run_cgroupns cgroupns_mode; /* --cgroupns (CgroupnsMode); DEFAULT:
					  * docker's for the cgroup root's
					  * version (run_cgroupns_private) */
	bool cgroupns;      /* not stored: from the spec's "cgroup" namespace (img run:
			     * cgroupns_mode): pid 1 unshares one once in its cgroup
			     * (or joins ns_path[RUN_NS_CGROUP]), so its cgroup is "/"
			     * inside, and mounts the cgroup filesystems itself */
	bool cgroup_v2;     /* not stored: the container's cgroup is v2 (set by the
			     * monitor or the runtime: which tree /sys/fs/cgroup gets) */
	unsigned short tty_rows, tty_cols; /* -t: the initial window size, 0 unknown */
	struct run_volume *vols;
	char **tmpfs;        /* --tmpfs PATH[:OPTIONS] (checked) */
	int64_t shm_size;    /* --shm-size in bytes, 0: 64 MiB */
	struct run_ulimit *ulimits; /* --ulimit NAME=SOFT[:HARD] */
	struct run_device *devices; /* --device */
	size_t n_devices;
	size_t n_ulimits;
	size_t n_vols;
	struct run_limits lim;
	struct run_port *ports;
	size_t n_ports;
	char *init_dir;      /* the init layer (its etc/hosts gets the address), or NULL */
	char *cgroup_parent; /* relative to each hierarchy's root, "img" by default */
	char *cgroup_root;   /* the cgroup mount the container runs under, recorded
			      * when its config is made (run_cgroup_default_root);
			      * NULL (configs older than the field): /sys/fs/cgroup */
	int64_t created;     /* seconds */
	/* ---- set only by an OCI runtime spec (oci.c, img-runtime): NULL, 0
	 * or false keep img run's behaviour; not stored in runner.json */
	bool oci;            /* the caller is an engine's runtime call: pid 1 does
			      * not die with its parent (which exits after create),
			      * no idmapped root (the engine owns the rootfs) */
	bool host_ipc;       /* no ipc namespace in the spec */
	bool devices_all;    /* the spec's device cgroup rules allow every device */
	char *ns_path[8];    /* RUN_NS_*: a namespace to join (setns) instead of
			      * a new one */
	char *uid_map, *gid_map; /* user namespace maps ("0 100000 65536\n..."),
				  * NULL: RUN_USERNS_BASE/SIZE */
	gid_t *add_gids;     /* process.user.additionalGids */
	size_t n_add_gids;
	char **masked, **readonly_paths; /* with paths_set: these, not docker's lists */
	bool paths_set;
	char *cgroup_name;   /* the group's last component (NULL: id) */
	char *exec_fifo;     /* create/start: pid 1 opens it for writing right before
			      * exec and blocks there until `start` opens it */
	struct run_hook *start_hooks; /* startContainer: run in the container */
	size_t n_start_hooks;
	/* issue 14's run flags */
	int stop_signal;     /* --stop-signal or the image's StopSignal; 0: SIGTERM */
	int stop_timeout;    /* --stop-timeout seconds; -1: not set (10) */
	bool init;           /* --init: img-init runs as pid 1 (from a sealed memfd) */
	char *init_path;     /* the host's img-init, found by img at run */
	int init_fd;         /* not stored: the monitor's sealed copy of it, or -1 */
	char **sysctls;      /* --sysctl KEY=VALUE (checked: namespaced ones), an OCI
			      * spec's linux.sysctl; written below /proc/sys after pivot_root */
	char **group_add;    /* --group-add NAME|GID */
	char *cidfile;       /* --cidfile: where img wrote the id (HostConfig.ContainerIDFile) */
	char *net_container;  /* --network container:X: X's id, and its bundle */
	char *net_container_bundle;
	int net_fd;           /* not stored: the monitor's fd of X's netns, or -1 */
	char *detach_keys;    /* --detach-keys as given (docker's "ctrl-p,ctrl-q" when
			       * NULL): an attached -i's input ends at them */
	char **networks;      /* --network NAME, connect: "NAME|IP|ALIASES" each
			       * (run_netatt), the first one eth0 with the default
			       * route; NULL: the default bridge only */
	char *log_driver;     /* --log-driver: NULL/"json-file" (ctr.log), "none" */
	int64_t log_max_size; /* --log-opt max-size= bytes, 0: unbounded */
	int log_max_file;     /* --log-opt max-file=, 0: 1 */
	struct run_healthcheck {
		char **test;     /* docker's Test: ["CMD-SHELL", cmd], ["CMD", argv...],
				  * ["NONE"]; NULL: none */
		int64_t interval_ns, timeout_ns, start_period_ns; /* 0: docker's defaults */
		int retries;     /* 0: 3 */
	} health;
};

/* The namespaces an OCI spec may name by path. */
enum { RUN_NS_USER, RUN_NS_IPC, RUN_NS_UTS, RUN_NS_NET, RUN_NS_PID, RUN_NS_CGROUP,
       RUN_NS_MNT, RUN_NS_N };

/* An OCI hook: path (absolute), args (argv, may be NULL: path), env,
 * timeout in seconds (0: none). */
struct run_hook {
	char *path;
	char **args, **env;
	int timeout;
};
void run_hooks_free(struct run_hook *h, size_t n);

void run_config_free(struct run_config *c);
void run_config_freep(struct run_config **c);
#define _cleanup_run_config_ __attribute__((cleanup(run_config_freep)))

/* Serialise / read back the config (config.json in the bundle). */
int run_config_to_json(const struct run_config *c, struct cm_jw *w);
int run_config_from_json(const struct cm_json *j, struct run_config **ret,
			 struct cm_error *err);

/* Pure parsers of command-line values (unit tested). All return 0 or -EINVAL
 * with a message in err. */
int run_parse_bytes(const char *s, int64_t *ret, struct cm_error *err);   /* 128m, 1g, 512k, 100 */
int run_parse_cpus(const char *s, int64_t *ret_quota, int64_t *ret_period,
		   struct cm_error *err);                                   /* 0.5 -> 50000/100000 */
/* -v HOST:CTR[:OPTS], -v NAME:CTR[:OPTS] (a volume), -v CTR (an anonymous
 * volume); OPTS: ro, rw, nocopy, z, Z, propagation (ignored) joined by ','. */
int run_parse_volume(const char *s, struct run_volume *ret, struct cm_error *err);
/* --mount type=bind|volume|tmpfs,source=,target=,readonly,... (docker's
 * syntax and errors; type defaults to volume). Returns 0 with *ret filled
 * (bind, volume), or 1 for a tmpfs with *ret_tmpfs a malloc'd --tmpfs
 * PATH:OPTIONS. */
int run_parse_mount(const char *s, struct run_volume *ret, char **ret_tmpfs, struct cm_error *err);
void run_volume_clear(struct run_volume *v);
int run_parse_signal(const char *s, int *ret, struct cm_error *err);  /* KILL, SIGTERM, 9 */
/* "SIGTERM" (a number for one without a name). */
void run_signal_name(int sig, char *buf, size_t sz);
int run_parse_network(const char *s, enum run_netmode *ret, struct cm_error *err);
/* Capabilities: docker's default set minus NET_RAW (SECURITY.md), a name
 * (CHOWN, CAP_CHOWN, any case; ALL: every one) to its bit mask, the set a
 * container's processes get, and the name of a capability. */
#define RUN_CAP_ALL ((UINT64_C(1) << 41) - 1) /* 0..CAP_CHECKPOINT_RESTORE */
uint64_t run_caps_default(void);
int run_parse_cap(const char *name, uint64_t *ret, struct cm_error *err);
/* The container's set: (default - drops) + adds, every one with --privileged. */
uint64_t run_caps_effective(const struct run_config *c);
const char *run_cap_name(int cap);
/* --security-opt as docker's CLI sends it to the daemon: seccomp=FILE is
 * read (at most 1 MiB) and becomes seccomp=<the file's JSON, compacted>;
 * the other forms are kept. *ret is malloc'd. */
int run_security_opt_read(const char *opt, char **ret, struct cm_error *err);
/* Apply one recorded --security-opt to c: seccomp=unconfined|builtin|JSON,
 * no-new-privileges[=BOOL], systempaths=unconfined; apparmor= and label=
 * are accepted and have no effect (neither LSM is used here). Anything else
 * is docker's "invalid --security-opt" error. */
int run_security_opt_apply(struct run_config *c, const char *opt, struct cm_error *err);
/* Compile c's seccomp profile as the container would get it (its caps,
 * this architecture and kernel): 0, or the profile's error in err. */
int run_seccomp_check(const struct run_config *c, struct cm_error *err);
/* --security-opt as docker's CLI sends it to the daemon: seccomp=FILE is
 * read (at most 1 MiB) and becomes seccomp=<the file's JSON, compacted>;
 * the other forms are kept. *ret is malloc'd. */
int run_security_opt_read(const char *opt, char **ret, struct cm_error *err);
/* Apply one recorded --security-opt to c: seccomp=unconfined|builtin|JSON,
 * no-new-privileges[=BOOL], systempaths=unconfined; apparmor= and label=
 * are accepted and have no effect (neither LSM is used here). Anything else
 * is docker's "invalid --security-opt" error. */
int run_security_opt_apply(struct run_config *c, const char *opt, struct cm_error *err);
/* Compile c's seccomp profile as the container would get it (its caps,
 * this architecture and kernel): 0, or the profile's error in err. */
int run_seccomp_check(const struct run_config *c, struct cm_error *err);
/* --add-host NAME:IP (IP v4 or v6, or host-gateway: the bridge's address)
 * into a malloc'd "NAME:IP"; --dns IP; --dns-search DOMAIN; --dns-option OPT. */
int run_parse_add_host(const char *s, char **ret, struct cm_error *err);
/* --ulimit NAME=SOFT[:HARD] (docker's names: nofile, nproc, core, ...;
 * -1 or unlimited); --tmpfs PATH[:OPTIONS] (ro rw exec noexec suid nosuid
 * dev nodev, size= mode= uid= gid= nr_inodes=); the mount flags and data
 * of such options. */
int run_parse_ulimit(const char *s, struct run_ulimit *ret, struct cm_error *err);
/* --device HOST[:CTR][:PERMS]: HOST must be a char or block device now. */
int run_parse_device(const char *s, struct run_device *ret, struct cm_error *err);
const char *run_ulimit_name(int resource);
/* docker's Devices array (PathOnHost, PathInContainer, CgroupPermissions;
 * with Type, Major, Minor as found at run) */
void run_devices_json(const struct run_config *c, struct cm_jw *w);
/* docker's Ulimits array: [{"Name":"nofile","Soft":N,"Hard":N}] */
void run_ulimits_json(const struct run_config *c, struct cm_jw *w);
int run_parse_tmpfs(const char *s, struct cm_error *err);
int run_tmpfs_options(const char *opts, unsigned long *flags, char *data, size_t sz);
int run_parse_dns(const char *kind, const char *s, struct cm_error *err);
/* --sysctl KEY=VALUE: docker's namespaced ones only (kernel.msg*,
 * kernel.sem, kernel.shm*, fs.mqueue.*, net.* but with --network host). */
int run_parse_sysctl(const char *s, enum run_netmode net, struct cm_error *err);
/* --cpuset-cpus: "0-3,5" (checked against nothing but the syntax). */
int run_parse_cpuset(const char *s, struct cm_error *err);
/* no | always | unless-stopped | on-failure[:N] */
int run_parse_restart(const char *s, enum run_restart *ret, int *ret_max, struct cm_error *err);
const char *run_restart_name(enum run_restart r);
const char *run_network_name(enum run_netmode m);
/* -p: 80, 8080:80, 127.0.0.1:8080:80, 127.0.0.1::80, 53/udp (docker's forms). */
int run_parse_port(const char *s, struct run_port *ret, struct cm_error *err);
/* docker's PORTS form: "127.0.0.1:8080->80/tcp". */
void run_port_format(const struct run_port *p, char *buf, size_t sz);
/* Append the KEY=VALUE lines of an env file (docker's format: # comments,
 * blank lines skipped, a bare KEY takes the value of the caller's env). */
int run_env_file_read(const char *path, char ***envp, size_t *n, struct cm_error *err);
/* Set KEY=VALUE in a NULL-terminated, malloc'd vector (replacing KEY). */
int run_env_set(char ***envp, size_t *n, const char *kv);
const char *run_env_get(char *const *env, const char *key);

/* Merge the image config ("config" object of the image config blob: Env,
 * Entrypoint, Cmd, WorkingDir, User) with the command line as docker does:
 * entrypoint (if not NULL) replaces the image's ("" clears it); a non-empty
 * cmd replaces Cmd; env entries override the image's; PATH defaulted;
 * HOSTNAME, HOME (from the user, resolved later if unset), TERM with tty.
 * Fills c->argv, c->env, c->cwd, c->user. -EINVAL if no command results. */
struct run_cli {
	char **cmd;            /* NULL-terminated, may be empty */
	const char *entrypoint;/* NULL: the image's */
	char **env;            /* -e and --env-file in order */
	char **labels;         /* --label KEY[=VALUE] */
	const char *cwd, *user;
};
int run_spec_merge(struct run_config *c, const struct cm_json *image_cfg,
		   const struct run_cli *cli, struct cm_error *err);

/* User lookup in passwd/group text (pure; the container's files are read by
 * linux.c after pivot_root). Returns 0 and uid/gid/home, -ENOENT if a name is
 * not found, -EINVAL if malformed. */
struct run_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[32];
	size_t n_groups;
	char home[256];
};
int run_user_resolve(const char *spec, const char *passwd, const char *group,
		     struct run_user *ret, struct cm_error *err);

/* ---- the mount plan (mountplan.c): mounts as data ----------------------- */

enum run_mop {
	RUN_MOP_FS,      /* mount a fresh filesystem (proc, sysfs, tmpfs, devpts) */
	RUN_MOP_BIND,    /* bind a host path (volume) */
	RUN_MOP_DEV,     /* bind a host char device, checked major:minor */
	RUN_MOP_SYMLINK, /* create a symlink in a tmpfs we made */
	RUN_MOP_MASK,    /* hide a path: /dev/null over a file, empty ro tmpfs over a dir */
	RUN_MOP_RO,      /* bind a path over itself read-only */
	RUN_MOP_MKNOD,   /* make a node (char, block, FIFO) in our /dev tmpfs: a
			  * node of the spec's linux.devices (--privileged: the
			  * host's devices, listed there by oci-spec.c) */
};

struct run_mount_op {
	enum run_mop op;
	const char *source;   /* host path (BIND, DEV), symlink target, or fs source */
	char target[256];     /* absolute path inside the container */
	const char *fstype;   /* FS */
	unsigned long flags;  /* MS_* for FS */
	const char *data;     /* FS options */
	unsigned dev_major, dev_minor;
	bool readonly;        /* BIND: remount ro after */
	bool dev_block;       /* DEV: a block device (else char) */
	mode_t node_mode;     /* MKNOD: S_IFCHR/S_IFBLK/S_IFIFO | permission bits */
	uid_t node_uid;       /* MKNOD: the owner */
	gid_t node_gid;
	bool optional;        /* a missing target (MASK, RO) or source (BIND) is skipped */
	uint32_t magic;       /* FS: the statfs f_type checked after mounting */
};

struct run_plan {
	struct run_mount_op *ops;
	size_t n, cap;
	char *strs[64];   /* mount data the plan made (--shm-size, --tmpfs) */
	size_t n_strs;
};

/* Build the ordered list of mounts for c. Pure (no system call). Refuses a
 * volume target that is relative, "/", or over /proc, /sys or /dev.
 * --privileged: /sys read-write, the host's devices, no masked or
 * read-only paths (systempaths=unconfined: no masked or read-only paths).
 * Without a cgroup namespace: the container's groups read-only (rw with
 * --privileged), v1 at /sys/fs/cgroup/CTRL, v2 (c->cgroup_v2) at
 * /sys/fs/cgroup; with one, nothing there (run_plan_cgroupns).
 * Returns 0 or -EINVAL/-ENOMEM. */
int run_plan_build(const struct run_config *c, struct run_plan *ret, struct cm_error *err);
/* The cgroup filesystems of a container in a cgroup namespace (c->cgroupns),
 * which pid 1 mounts after pivot_root once it is in its group and that
 * namespace: the kernel roots each at the namespace's root. v2: cgroup2 at
 * /sys/fs/cgroup. v1 (proc_cgroup: pid 1's /proc/self/cgroup, read then): a
 * tmpfs there and one cgroup mount per hierarchy holding one of
 * run_cgroup_v1_controllers (a co-mounted one at /sys/fs/cgroup/CTRL,CTRL
 * with a symlink per controller, as runc and crun lay it out), and cpuset
 * where the container has a group of its own (c->lim.cpuset_group or
 * cpuset_cpus); named ones (name=systemd), and cpuset without its group
 * (the namespace's root there is the host's group of img), are left out.
 * Read-only (the tmpfs too) unless c->cgroup_rw. Pure; 0 or -ENOMEM. */
int run_plan_cgroupns(const struct run_config *c, const char *proc_cgroup, struct run_plan *ret);
void run_plan_free(struct run_plan *p);
/* docker's masked and read-only paths, the plan's default lists. */
void run_plan_default_paths(const char *const **ret_masked, size_t *ret_n_masked,
			    const char *const **ret_ro, size_t *ret_n_ro);

/* ---- cgroups (cgroup.c, cgroup-v1.c, cgroup-v2.c) ----------------------- */

struct run_cgroup;

enum run_cgroup_version { RUN_CGROUP_V1 = 1, RUN_CGROUP_V2 = 2 };

/* The root a new container records: $IMG_CGROUP_ROOT when set (tests, and
 * the v2 mount of a hybrid host: /sys/fs/cgroup/unified), else
 * /sys/fs/cgroup. Later commands use the recorded one, not the env. */
const char *run_cgroup_default_root(void);
/* Whether the cgroup tree at root (NULL: the default) has controller ctrl
 * ("pids": a v1 hierarchy of it, or in v2's cgroup.controllers). */
bool run_cgroup_has(const char *root, const char *ctrl);
/* Detect the layout under root (absolute; NULL = /sys/fs/cgroup) and name
 * the container's group parent/id. Nothing is created. */
int run_cgroup_open(const char *root, const char *parent, const char *id,
		    struct run_cgroup **ret, struct cm_error *err);
void run_cgroup_free(struct run_cgroup *cg);
void run_cgroup_freep(struct run_cgroup **cg);
#define _cleanup_cgroup_ __attribute__((cleanup(run_cgroup_freep)))
enum run_cgroup_version run_cgroup_version(const struct run_cgroup *cg);
/* Whether c's container gets a cgroup namespace of its own: its
 * cgroupns_mode, or for DEFAULT docker's default for the version of its
 * cgroup root (c->cgroup_root, NULL: /sys/fs/cgroup): private on v2, host
 * on v1 (and where the root cannot be read). */
bool run_cgroupns_private(const struct run_config *c);
/* Refuse, before anything exists, limits the hierarchy at root (NULL =
 * /sys/fs/cgroup) cannot apply: on v2 -m, --cpus, --cpu-shares or a
 * pids limit whose controller (memory, cpu, pids) is not in root's
 * cgroup.controllers ("cgroup v2 at ROOT has no memory controller
 * (available: hugetlb)", -ENOTSUP). v1: 0 (its create says what fails). */
int run_cgroup_check(const char *root, const struct run_limits *lim, struct cm_error *err);
/* Create the group(s) and write the limits and the device rules (the
 * default set and devices, or every device with all_devices); v2 refuses as
 * run_cgroup_check first. */
int run_cgroup_create(struct run_cgroup *cg, const struct run_limits *lim, bool all_devices,
		      const struct run_device *devices, size_t n_devices, struct cm_error *err);
/* New limits for an existing group (img update). */
int run_cgroup_update(struct run_cgroup *cg, const struct run_limits *lim, struct cm_error *err);
/* Move pid (0 = the caller) into the group. A single-threaded caller that
 * moves itself (pid 0) takes the fast way where there is one (v1: see
 * run_cgroup_self_join_fast()). */
int run_cgroup_enter(struct run_cgroup *cg, pid_t pid, struct cm_error *err);
/* Whether a process joining by itself is much cheaper than being moved: on
 * v1 the kernel moves the writing thread of a "0" written to `tasks`
 * without taking cgroup_threadgroup_rwsem for writing, whose first writer
 * waits for an RCU grace period (4-24 ms here; 0.3 ms without). */
bool run_cgroup_self_join_fast(const struct run_cgroup *cg);
/* v2: an fd of the group's directory, for a child born in the group
 * (clone3 CLONE_INTO_CGROUP: no cgroup.procs write, hence no RCU wait);
 * -EOPNOTSUPP on v1. */
int run_cgroup_dir_fd(struct run_cgroup *cg);
/* Freeze or thaw every process of the group (img pause / unpause). */
int run_cgroup_freeze(struct run_cgroup *cg, bool frozen);
/* 1 frozen, 0 not, or a negative errno. */
int run_cgroup_frozen(struct run_cgroup *cg);
/* Signal every process of the group; with freeze, frozen first so no fork
 * escapes, thawed after. SIGKILL on v2: one write to cgroup.kill (the kernel
 * kills racing forks too), the freezer way where that file is missing. */
int run_cgroup_signal(struct run_cgroup *cg, int sig, bool freeze, struct cm_error *err);
/* Number of processes in the group (0 when it does not exist). */
int run_cgroup_count(struct run_cgroup *cg);
/* True if the memory controller killed a process of the group. */
bool run_cgroup_oom_killed(struct run_cgroup *cg);
/* Kill everything, wait for the group to empty, remove it. Missing = ok. */
int run_cgroup_destroy(struct run_cgroup *cg, struct cm_error *err);
/* Paths of the group, for inspect: "memory=/sys/fs/cgroup/memory/img/ID,...". */
int run_cgroup_describe(struct run_cgroup *cg, struct cm_jw *w);

/* Limit conversions (pure, unit tested). */
int64_t run_cgroup_shares_to_weight(int64_t shares);
/* v2 memory.swap.max from docker's --memory-swap (memory + swap). */
int64_t run_cgroup_swap_v2(int64_t memory, int64_t memory_swap);
/* Format a v2 limit ("max" for <= 0) into buf. */
void run_cgroup_fmt_max(int64_t v, char *buf, size_t sz);

/* ---- rootfs (rootfs.c) --------------------------------------------------- */

/* mkdir -p of a trusted host path. */
int run_mkdir_p(const char *path, mode_t mode);

/* Refuse a root whose /proc, /sys or /dev is a symlink or not a directory.
 * rootfd: an fd of the root directory. */
int run_rootfs_check(int rootfd, struct cm_error *err);
/* Build the per-container init layer in the empty dir init: mountpoint stubs
 * (proc sys dev dev/pts dev/shm) and etc/hosts, etc/hostname,
 * etc/resolv.conf (copied from the host's, or an empty file). */
int run_rootfs_init_layer(const char *init, const char *hostname, struct cm_error *err);
/* Mount the union (ufsmount dirs=rw=rw:init=ro:layers=ro,nodev) at mnt.
 * ufsmount: the binary. The daemon stays in the caller's namespaces and
 * cgroup. */
int run_rootfs_mount(const char *ufsmount, const char *rw, const char *init,
		     char *const *layers, const char *mnt, struct cm_error *err);
/* Unmount (the daemon exits). Not mounted = ok. A daemon that has not
 * exited 10 s after the unmount gets its connection aborted, and is
 * killed 2 s later (as run_rootfs_abort). */
int run_rootfs_umount(const char *mnt, struct cm_error *err);
bool run_rootfs_is_mounted(const char *mnt);
/* A pidfd of the ufsmount daemon serving mnt (cm_ufsctl_daemon_pidfd), or
 * -errno. */
int run_rootfs_daemon_pidfd(const char *mnt);
/* Abort the FUSE connection of the union at mnt (cm_fuse_abort), and kill
 * its daemon if it has not exited 2 s later: for a stop that timed out,
 * when the container's processes wait on a daemon that does not answer
 * (over FUSE over io_uring they cannot be killed while they wait). 0,
 * -ENOENT when no FUSE mount is there, or -errno. */
int run_rootfs_abort(const char *mnt);

/* ---- bridge networking (net.c, netlink.c; docs/network.md) -------------- */

#define RUN_NET_BRIDGE_NAME "img0"
#define RUN_NET_GATEWAY "10.89.0.1"
#define RUN_NET_PREFIX 16
/* Host-wide state (the bridge is host-wide, whatever the store's --root):
 * lock, one record per address, ip_forward as found, the applied rules. */
#define RUN_NET_DIR "/run/img/net"
/* How long img0 and the table outlive the last bridged container. */
#define RUN_NET_LINGER_MS 2000

/* Before creating a container: refuse a port another container publishes
 * (or a host socket holds), choose the free ports of host_port 0. -EADDRINUSE
 * with a docker-like message. id: the container (its own record ignored). */
int run_net_check_ports(const char *id, struct run_port *ports, size_t n,
			struct cm_error *err);
/* Drop the records of containers whose monitor is gone (their veth, their
 * rules) and, when no bridged container is left, the bridge, the table and
 * ip_forward as found. Takes the network lock. */
int run_net_reconcile(struct cm_error *err);
/* Release what container id holds (record, veth, rules; the bridge if it was
 * the last). Missing = ok. */
int run_net_release(const char *id, struct cm_error *err);

/* ---- user-defined networks (net-user.c, net-dns.c; docs/network.md) ----- */

/* One network: "bridge" (img0, built in) or one made by `img network
 * create`, its definition in STORE/networks/NAME (run_network_store_set:
 * it survives a reboot), a copy while it is in use (made, or a container
 * set up on it since boot) in RUN_NET_DIR/nets/NAME: host-wide runtime
 * state, as the addresses are (two stores must not hand out one subnet or
 * name; the rules are rendered from every store's networks in use). */
struct run_network {
	char id[65];         /* 64 hex */
	char name[64];
	char bridge[16];     /* img0, or "imb-" + 11 hex of the id */
	char subnet[20];     /* a.b.c.d/p */
	char gateway[16];
	int prefix;
	bool internal;       /* --internal: no route out, nothing in */
	int64_t created;     /* ns since the epoch */
	char **labels;       /* KEY=VALUE */
};
void run_network_clear(struct run_network *n);
/* Where this process's definitions live: STORE/networks of root (img and
 * the monitor, from $IMG_ROOT). Not called: the copies in use only. */
int run_network_store_set(const char *root);
/* Docker's name rule ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 63). */
bool run_network_name_valid(const char *name);
/* Create n (name, subnet/gateway or empty: the next free /24 of
 * 10.90.0.0/16, internal, labels given): its bridge up with the gateway
 * address, its definition published. Fills id, bridge, subnet, gateway,
 * prefix, created. Docker's errors: a name taken, a subnet that overlaps. */
int run_network_create(struct run_network *n, struct cm_error *err);
/* By name, full id or unique id prefix; "bridge" too. -ENOENT: docker's
 * "network X not found". */
int run_network_get(const char *ref, struct run_network *ret, struct cm_error *err);
/* Every network, "bridge" first, then by name. */
int run_network_list(struct run_network **ret, size_t *ret_n, struct cm_error *err);
void run_network_list_free(struct run_network *v, size_t n);
/* Remove a user-defined network: refused while a running container is on
 * it (-EBUSY) and for "bridge" (-EPERM); its bridge deleted. */
int run_network_remove(const char *ref, struct cm_error *err);
/* The running containers on network name (read without the lock). */
struct run_endpoint {
	char id[RUN_ID_LEN + 1];
	char ip[16];
	char mac[18];
	char name[128];
};
int run_network_endpoints(const char *name, struct run_endpoint **ret, size_t *ret_n,
			  struct cm_error *err);

/* One of a container's networks, as stored in run_config.networks:
 * "NAME|IP|ALIAS,ALIAS" (IP empty: the next free one). */
struct run_netatt {
	char name[64];
	char ip[16];
	char aliases[8][64];
	size_t n_aliases;
};
int run_netatt_parse(const char *s, struct run_netatt *ret);
/* "NAME|IP|ALIASES" made of its parts (aliases may be NULL): malloc'd. */
char *run_netatt_format(const char *name, const char *ip, char *const *aliases);
/* The container's primary network name: networks[0]'s, else "bridge". */
const char *run_config_net_primary(const struct run_config *c, char buf[64]);

/* Connect a running container (its pid 1 pid) to one more network: a
 * veth ethN on its bridge, an address, a record; no default route. att's
 * ip empty: the next free one. ret_ip: the address. */
int run_net_connect(const struct run_config *c, pid_t pid, const struct run_netatt *att,
		    char ret_ip[16], struct cm_error *err);
/* Disconnect container id from network name (its veth, record, rules).
 * -ENOENT when it is not on it. */
int run_net_disconnect(const char *id, const char *name, struct cm_error *err);

/* The embedded DNS server of a container on a user-defined network: UDP
 * and TCP on 127.0.0.11:53 inside its netns, served by its monitor; names
 * of the containers that share a network with it answered from the
 * address records, the rest forwarded to the host's (or --dns) servers
 * (over TCP for a question that came over TCP). */
struct run_dns;
/* NULL with *ret when the container has no user-defined network. */
int run_dns_open(const struct run_config *c, pid_t pid, struct run_dns **ret, struct cm_error *err);
/* The fd to poll (POLLIN: an epoll fd over its sockets), -1 when none. */
int run_dns_fd(const struct run_dns *d);
/* Serve what is ready (never blocks). */
void run_dns_step(struct run_dns *d);
void run_dns_close(struct run_dns *d);

/* ---- container state and lifecycle (container.c) ------------------------- */

enum run_status { RUN_CREATED, RUN_RUNNING, RUN_EXITED, RUN_REMOVING,
		  RUN_RESTARTING /* exited, its monitor waits to start it again */ };

struct run_state {
	enum run_status status;
	pid_t pid;           /* host pid of the container's pid 1 */
	pid_t monitor;       /* host pid of the monitor */
	uint64_t monitor_start; /* its start time (clock ticks), to detect pid reuse */
	int exit_code;
	bool oom_killed;
	int64_t started_ns, finished_ns; /* ns since the epoch, 0 = never */
	char error[256];
	int restart_count;   /* times the monitor started pid 1 again */
	char ip[16];         /* bridge: the container's address while running */
	char mac[18];
};

const char *run_status_name(enum run_status s);

/* Containers live in DIR/<id>/ (DIR = <store root>/runner). */
int run_state_read(const char *bundle, struct run_state *ret, struct cm_error *err);
int run_state_write(const char *bundle, const struct run_state *st, struct cm_error *err);
/* Read the state and correct it if its monitor died (the container is then
 * killed through its cgroup and shown as exited 255, as docker does). */
int run_state_refresh(const char *bundle, struct run_state *ret, struct cm_error *err);
int run_config_read(const char *bundle, struct run_config **ret, struct cm_error *err);
int run_config_write(const struct run_config *c, struct cm_error *err);

/* Find a container by full id, unique id prefix or name below dir. Returns
 * 0 and the bundle path (malloc'd), -ENOENT, -ENOTUNIQ. */
int run_container_find(const char *dir, const char *ref, char **ret_bundle,
		       struct cm_error *err);
/* Every bundle below dir (malloc'd array of malloc'd paths), newest first. */
int run_container_list(const char *dir, char ***ret, size_t *ret_n, struct cm_error *err);

/* Create the bundle DIR/<c->id>/ for c: rw/, init/ (the init layer),
 * rootfs/ and, when c->layers is set, the union mounted there by ufsmount
 * (the temporary internal path until the store creates containers); then
 * config.json. Sets c->bundle (and c->rootfs if NULL). */
int run_container_create(const char *dir, struct run_config *c, const char *ufsmount,
			 struct cm_error *err);

/* Start the container of bundle: (re)mounts its union if needed, spawns the
 * monitor (monitor_exe) which clones pid 1 into the namespaces and cgroup and
 * reports back. attach: the monitor relays the process's stdio to the
 * caller's fds 0/1/2 (foreground). */
struct run_started {
	int sync;        /* socket that later carries the exit code (run_wait_sync) */
	int ptm;         /* pty master (tty + attach) for the window size, or -1 */
	pid_t pid;       /* host pid of the container's pid 1 */
	pid_t monitor;
	int fail_code;   /* on failure: 125, 126 (not executable), 127 (not found) */
};
int run_container_start(const char *monitor_exe, const char *ufsmount, const char *bundle,
			bool attach, struct run_started *ret, struct cm_error *err);
/* img attach: the caller's fds 0 (with_stdin), 1 and 2 joined to the
 * running container's pid 1 by its monitor (BUNDLE/attach.sock): its
 * output to them, them to its input when it was started with -i. ret's
 * sync then carries the exit (run_wait_sync: the container's exit code,
 * or detached by detach_keys, NULL: ctrl-p,ctrl-q, with -t), ptm the pty
 * master under -t (the window size), monitor 0 (not the caller's child).
 * docker's errors for a stopped or paused container. */
int run_container_attach(const char *bundle, bool with_stdin, const char *detach_keys,
			 struct run_started *ret, struct cm_error *err);
/* Read the exit code from the sync socket of run_container_start: 0, or 1
 * when the user detached (the detach keys; *ret_code 0, the container runs on). */
int run_wait_sync(int sync_fd, int *ret_code, struct cm_error *err);
/* Wait for the container to exit (any process). Returns its exit code. */
int run_container_wait(const char *bundle, int *ret_code, struct cm_error *err);
int run_container_kill(const char *bundle, int sig, struct cm_error *err);
/* img update: the limits set (non-zero fields of set) replace the
 * container's, in its cgroup at once when it runs, and in its config. */
int run_container_update(const char *bundle, const struct run_limits *set, struct cm_error *err);
/* img pause / unpause: freeze or thaw the container's cgroup (docker's
 * errors for a container not running, already paused, not paused). */
int run_container_pause(const char *bundle, bool pause, struct cm_error *err);
/* Whether a running container is paused (its cgroup frozen). */
bool run_container_paused(const char *bundle);

/* A running container's resource use (img stats); -1 where unknown. */
struct run_stats {
	int64_t cpu_ns;               /* CPU time of the whole group */
	int64_t mem_usage, mem_limit; /* bytes; usage without the inactive page
				       * cache, limit the host's memory if none */
	int64_t blk_read, blk_write;  /* bytes */
	int64_t net_rx, net_tx;       /* bytes, every interface but lo */
	int64_t pids;
};
int run_container_stats(const char *bundle, struct run_stats *ret, struct cm_error *err);
/* The stop signal (c->stop_signal, else SIGTERM) to pid 1, then after
 * timeout seconds (< 0: the container's --stop-timeout, else 10) SIGKILL
 * to every process of the cgroup (frozen first). A container still starting (pid 1 not yet
 * exec'd: its set-up may hang on a stalled union) is killed at once. */
int run_container_stop(const char *bundle, int timeout, struct cm_error *err);
/* Whether st (fresh) is of a container being started: "created" with its
 * monitor alive, pid 1 not yet exec'd. */
bool run_container_starting(const char *bundle, const struct run_state *st);
/* Remove a stopped container (force: stop it first): cgroup, mounts, state. */
int run_container_remove(const char *bundle, bool force, struct cm_error *err);

/* img exec: join every namespace and the cgroup of a running container and
 * run argv there (env added, cwd, user). Returns the exit code. Without
 * tty the process gets pipes (stdin only with interactive; else it keeps
 * the caller's fd 0, which img makes /dev/null) that the caller relays to
 * and from its own 0, 1, 2 until the process exits: the caller should
 * ignore SIGPIPE. */
struct run_exec {
	char **argv;
	char **env;
	const char *cwd, *user;
	bool tty, interactive;
	/* img-runtime exec: the process keeps the caller's stdio and becomes
	 * the caller's child (the caller is a subreaper) once the joiner
	 * exits; run_container_exec returns at its exec with *ret_pid (its
	 * host pid) and, with tty, *ret_ptm (the pty master, or NULL to
	 * close it); *ret_code is then 0 */
	bool oci;
	pid_t *ret_pid;
	int *ret_ptm;
};
int run_container_exec(const char *bundle, const struct run_exec *x, int *ret_code,
		       struct cm_error *err);

/* Processes of the container (host pids), malloc'd. */
int run_container_pids(const char *bundle, pid_t **ret, size_t *ret_n, struct cm_error *err);
/* docker inspect's JSON object of a container. */
int run_container_inspect(const char *bundle, struct cm_jw *w, struct cm_error *err);

/* The binary every process that joins a container runs from: a copy of
 * path in a sealed memfd (no write, grow, shrink or new seal), as runc and
 * crun do against CVE-2019-5736. Executed from there, a process's
 * /proc/PID/exe inside the container (and a "#!/proc/self/exe" there) is
 * that anonymous file, never the host's binary. Returns the fd (O_CLOEXEC)
 * or a negative errno with err. */
int run_sealed_copy(const char *path, struct cm_error *err);
/* execveat(fd, "", argv, environ, AT_EMPTY_PATH); returns only on failure. */
int run_exec_fd(int fd, char *const argv[]);

/* The monitor's body (img-monitor BUNDLE SYNCFD [ATTACH]): never returns. */
int run_monitor_main(const char *bundle, int sync_fd, bool attach);

/* --log-driver and --log-opt KEY=VALUE (docker's json-file options
 * max-size, max-file; none takes none), checked and set in c. */
int run_parse_log_driver(struct run_config *c, const char *driver, char *const *opts,
			 struct cm_error *err);
/* Logs: copy the log to out/err (stdout and stderr apart). tail < 0: all;
 * follow: until the container stops (not while it restarts); timestamps:
 * RFC 3339 prefix; only lines logged at or after since_ns and before
 * until_ns (ns since the epoch, 0: no bound). */
int run_logs(const char *bundle, long tail, bool follow, bool timestamps,
	     int64_t since_ns, int64_t until_ns, int out, int err_fd, struct cm_error *err);
/* docker's --since/--until: a duration back from now (10m, 1h30m, 45s),
 * an RFC 3339 time (2026-11-29T10:00:00Z, fraction allowed), or Unix
 * seconds (fraction allowed). Returns ns since the epoch. */
int run_parse_log_time(const char *s, int64_t now_ns, int64_t *ret, struct cm_error *err);
/* CLOCK_REALTIME in ns. */
int64_t run_now_ns(void);
/* The RFC 3339 UTC times of the log ("2026-11-29T10:00:00.123456789Z"). */
int64_t run_time_parse_ns(const char *s);

/* ---- an OCI runtime: img-runtime (oci-spec.c, oci.c; docs/runner.md) ---- */

/* A bundle's config.json (runtime-spec 1.x, parsed) into a run_config run
 * by the code of `img run`: process, root, mounts (the runner's own proc,
 * sys, dev, pts, shm, mqueue and cgroup replace the spec's; binds become
 * volumes, tmpfs --tmpfs; other types are refused), namespaces (path:
 * joined), uid/gid mappings, resources (memory, pids, cpu, an allow-all
 * device rule), devices (bound from the host's node of that path),
 * cgroupsPath, seccomp (the OCI form, read as docker's), maskedPaths,
 * readonlyPaths, sysctl, rlimits, capabilities (the bounding set),
 * noNewPrivileges, the startContainer hooks. bundle: absolute. */
int run_oci_config(const struct cm_json *spec, const char *bundle, const char *id,
		   struct run_config **ret, struct cm_error *err);
/* The names in process.capabilities (every set) that are no capability of
 * ours, space-separated into buf (truncated to sz), each once: runc ignores
 * them with a warning, and so does img-runtime create. Returns their count. */
size_t run_oci_unknown_caps(const struct cm_json *spec, char *buf, size_t sz);
/* Does linux.resources set memory.kernel or kernelTCP (ignored, with a warning)? */
bool run_oci_kmem_set(const struct cm_json *res);
/* The hooks of one kind ("prestart", "poststop", ...) of spec. */
int run_oci_hooks(const struct cm_json *spec, const char *kind, struct run_hook **ret,
		  size_t *ret_n, struct cm_error *err);

/* The reverse, for `img run` (issue 15's "clean way"): the OCI spec of an
 * img container, which run_oci_config reads back into the same config
 * (process, root, hostname, mounts, namespaces, resources, devices,
 * cgroupsPath, sysctl, seccomp, masked and read-only paths, rlimits,
 * capabilities, no_new_privs, /dev/shm's size). Annotations carry what
 * the runner does beyond a spec: the user and --group-add as img names
 * them (resolved in the container, never on the host), the network mode
 * (bridge: set up by the monitor) and a device's host node when its
 * container path differs. Not in a spec (the engine's part, as docker
 * keeps them in its daemon): --privileged's host devices and rw sysfs,
 * ports, restart, dns, extra hosts, logs, health, --init. */
#define RUN_OCI_ANN_USER "org.img.user"
#define RUN_OCI_ANN_NETWORK "org.img.network"
#define RUN_OCI_ANN_GROUPS "org.img.group-add"     /* --group-add, comma-separated */
#define RUN_OCI_ANN_DEVHOST "org.img.device-host:" /* + the container's path: the host node */
int run_oci_spec_write(const struct run_config *c, struct cm_jw *w, struct cm_error *err);
/* An OCI linux.resources object laid over lim: the fields it has replace
 * lim's (memory, swap, reservation, disableOOMKiller, pids, cpu shares,
 * quota, period, cpus, blockIO weight), the others stay. -EINVAL for a
 * bad value. And the reverse: every field of lim as those members (the
 * caller opens and closes the object). */
int run_oci_limits(const struct cm_json *res, struct run_limits *lim, struct cm_error *err);
void run_oci_limits_write(struct cm_jw *w, const struct run_limits *lim);
/* The monitor, before pid 1: the spec of c written to BUNDLE/config.json
 * (an OCI bundle, as docker hands runc) and read back; everything a spec
 * says then comes from it (the rest, above, from runner.json). */
int run_oci_bundle_apply(struct run_config *c, struct cm_error *err);
/* docker's default profile (seccomp-default.json), as embedded */
const char *run_seccomp_default_profile(void);

/* runc's verbs over the containers of root (ROOT/ID). */
struct run_oci_create {
	const char *root, *id, *bundle;   /* bundle NULL: the current dir */
	const char *pid_file, *console_socket;
};
/* Everything set up, pid 1 blocked before exec until run_oci_start;
 * pid 1 is the caller's child. */
int run_oci_create(const struct run_oci_create *o, pid_t *ret_pid, struct cm_error *err);
int run_oci_start(const char *root, const char *id, struct cm_error *err);
/* The runtime-spec state object (ociVersion, id, status, pid, bundle,
 * annotations; rootfs and created as runc adds). */
int run_oci_state(const char *root, const char *id, struct cm_jw *w, struct cm_error *err);
/* all: every process of the container's cgroup. */
int run_oci_kill(const char *root, const char *id, int sig, bool all, struct cm_error *err);
/* force: kill a container still created or running first. */
int run_oci_delete(const char *root, const char *id, bool force, struct cm_error *err);
int run_oci_ps(const char *root, const char *id, pid_t **ret, size_t *ret_n, struct cm_error *err);
/* pause / resume: freeze or thaw the container's cgroup (runc's errors
 * for one not running, not paused); state then says "paused". */
int run_oci_pause(const char *root, const char *id, bool pause, struct cm_error *err);
/* update: res (a linux.resources object) laid over the container's
 * limits, written to its cgroup, and kept in ROOT/ID/resources.json (read
 * back over the spec's by every later verb). */
int run_oci_update(const char *root, const char *id, const struct cm_json *res, struct cm_error *err);
/* events --stats: one runc "stats" event of the container's cgroup. */
int run_oci_stats(const char *root, const char *id, struct cm_jw *w, struct cm_error *err);
struct run_oci_exec {
	const char *process;             /* --process FILE, or: */
	char **args, **env;
	const char *cwd, *user;
	bool tty;
	bool detach;
	const char *pid_file, *console_socket;
};
/* Without detach: waits and returns the process's exit code. */
int run_oci_exec(const char *root, const char *id, const struct run_oci_exec *x, int *ret_code,
		 struct cm_error *err);

/* ---- the events journal (events.c) --------------------------------------- */

#define RUN_EVENTS_MAX (8 << 20) /* bytes of events.jsonl before it rotates */
/* Append one event to RUNDIR/events.jsonl (docker's API form; attrs
 * "k=v"). Never fails the caller: errors are dropped. */
void run_event_append(const char *rundir, const char *type, const char *action, const char *id,
		      const char *from, char *const *attrs);
/* A container's event: its labels, image and name as attributes, plus
 * extra ("exitCode=0", "signal=15"); c NULL: read from bundle. */
void run_event_container(const char *bundle, const struct run_config *c, const char *action,
			 char *const *extra);

/* ---- health checks (health.c), run by the monitor ------------------------ */

struct run_health_result {
	int64_t start_ns, end_ns;
	int code;            /* -1: killed at the timeout */
	char out[4096];
};

struct run_health_run {
	bool on;
	pid_t pid;           /* the running check, -1 none */
	int out;             /* its output pipe */
	bool timed_out;
	int64_t life_start_ns, started_ns, deadline_ns, next_ns;
	char buf[4096];
	size_t len;
	int streak;
	char status[16];     /* starting, healthy, unhealthy */
	struct run_health_result log[5];
	size_t n_log;
};

bool run_health_enabled(const struct run_config *c);
/* A new life of the container: "starting", the first check an interval away. */
void run_health_begin(struct run_health_run *h, const struct run_config *c, const char *bundle,
		      int64_t now);
/* How long the monitor's poll may sleep (-1: no checks). */
int run_health_poll_ms(const struct run_health_run *h, int64_t now);
/* Start a check that is due, kill one past its timeout. */
void run_health_tick(struct run_health_run *h, const struct run_config *c, const char *bundle,
		     int64_t now);
/* Read what the running check wrote so far (its pipe must not fill). */
void run_health_drain(struct run_health_run *h);
/* w (status) was reaped: if it is the check, record it; true then. */
bool run_health_reaped(struct run_health_run *h, const struct run_config *c, const char *bundle,
		       pid_t w, int status);
/* The life ends: a running check is killed. */
void run_health_end(struct run_health_run *h);
/* --health-cmd etc. or the image's Healthcheck object (docker's JSON) into c. */
int run_health_from_json(const struct cm_json *j, struct run_healthcheck *ret);
void run_health_json(const struct run_healthcheck *h, struct cm_jw *w);
/* The bundle's health.json (the monitor's record), and its Status into buf
 * (NULL when there is none). */
int run_health_read(const char *bundle, char **ret, size_t *ret_len);
const char *run_health_status(const char *bundle, char *buf, size_t sz);
