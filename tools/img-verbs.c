// SPDX-License-Identifier: MIT
/* Every verb of img in one table: synopsis, docker's description, options
 * with their help, argument counts, handler (img-cli.h). The texts follow
 * docker's where docker has the verb or flag; img's own additions say so. */
#include "img-cli.h"

#include <stddef.h>

/* ------------------------------------------------------------ images */

/* docker's --format text of the listing verbs */
#define FORMAT_HELP                                                                                \
	"Format output using a custom template:\n"                                                 \
	"'table':            Print output in table format with column headers (default)\n"         \
	"'table TEMPLATE':   Print output in table format using the given Go template\n"           \
	"'json':             Print in JSON format\n"                                               \
	"'TEMPLATE':         Print output using the given Go template (docs/cli.md)"

static const struct img_opt images_opts[] = {
	{ "all", 'a', NULL, 'a', "Show all images (default hides intermediate images)", 0 },
	{ "digests", 0, NULL, OPT_DIGESTS, "Show digests", 0 },
	{ "filter", 'f', "filter", 'f', "Filter output based on conditions provided", 0 },
	{ "format", 0, "string", OPT_FORMAT, FORMAT_HELP, 0 },
	{ "no-trunc", 0, NULL, OPT_NOTRUNC, "Don't truncate output", 0 },
	{ "quiet", 'q', NULL, 'q', "Only show image IDs", 0 },
	{ 0 },
};

static const struct img_opt import_opts[] = {
	{ "change", 'c', "list", 'c', "Apply Dockerfile instruction to the created image", 0 },
	{ "message", 'm', "string", 'm', "Set commit message for imported image", 0 },
	{ "busybox", 0, NULL, OPT_BUSYBOX,
	  "img: the embedded image, made from the host's busybox ($IMG_BUSYBOX)", 0 },
	{ 0 },
};

static const struct img_opt pull_opts[] = {
	{ "all-tags", 'a', NULL, 'a', "Download all tagged images in the repository", 0 },
	{ "max-concurrent-downloads", 0, "int", OPT_MAXDOWNLOADS,
	  "img: layers downloaded at a time (default: daemon.json's\n"
	  "max-concurrent-downloads, else 3, as docker)", 0 },
	{ "platform", 0, "string", OPT_PLATFORM, "Set platform if server is multi-platform capable", 0 },
	{ "quiet", 'q', NULL, 'q', "Suppress verbose output", 0 },
	{ "tls-verify", 0, "bool", OPT_TLSVERIFY,
	  "img: require HTTPS and verify certificates (default true; loopback\n"
	  "registries may answer in plain HTTP)", IMG_OPT_OPTARG },
	{ 0 },
};

static const struct img_opt login_opts[] = {
	{ "password", 'p', "string", 'p', "Password", 0 },
	{ "password-stdin", 0, NULL, OPT_PASSSTDIN, "Take the password from stdin", 0 },
	{ "username", 'u', "string", 'u', "Username", 0 },
	{ "tls-verify", 0, "bool", OPT_TLSVERIFY,
	  "img: require HTTPS and verify certificates (default true)", IMG_OPT_OPTARG },
	{ 0 },
};

static const struct img_opt push_opts[] = {
	{ "max-concurrent-uploads", 0, "int", OPT_MAXUPLOADS,
	  "img: layers uploaded at a time (default: daemon.json's\n"
	  "max-concurrent-uploads, else 5, as docker)", 0 },
	{ "quiet", 'q', NULL, 'q', "Suppress verbose output", 0 },
	{ "tls-verify", 0, "bool", OPT_TLSVERIFY,
	  "img: require HTTPS and verify certificates (default true; loopback\n"
	  "registries may answer in plain HTTP)", IMG_OPT_OPTARG },
	{ 0 },
};

static const struct img_opt load_opts[] = {
	{ "input", 'i', "string", 'i', "Read from tar archive file or OCI layout dir, instead of STDIN", 0 },
	{ "quiet", 'q', NULL, 'q', "Suppress the load output", 0 },
	{ 0 },
};

static const struct img_opt save_opts[] = {
	{ "output", 'o', "string", 'o', "Write to a file, instead of STDOUT", 0 },
	{ "format", 0, "string", OPT_FORMAT,
	  "img: docker-archive (default), oci-archive or oci-dir", 0 },
	{ 0 },
};

static const struct img_opt rmi_opts[] = {
	{ "force", 'f', NULL, 'f', "Force removal of the image", 0 },
	{ 0 },
};

static const struct img_opt inspect_opts[] = {
	{ "format", 'f', "string", 'f', "Format output using the given Go template", 0 },
	{ "type", 0, "string", OPT_TYPE, "Return JSON for specified type (image, container)", 0 },
	{ 0 },
};

static const struct img_opt history_opts[] = {
	{ "format", 0, "string", OPT_FORMAT, "Format output using a custom template", 0 },
	{ "no-trunc", 0, NULL, OPT_NOTRUNC, "Don't truncate output", 0 },
	{ "quiet", 'q', NULL, 'q', "Only show image IDs", 0 },
	{ 0 },
};

static const struct img_opt prune_opts[] = {
	{ "all", 'a', NULL, 'a', "Remove all unused images, not just dangling ones", 0 },
	{ "force", 'f', NULL, 'f', "Do not prompt for confirmation (img never prompts)", 0 },
	{ 0 },
};

static const struct img_opt builder_prune_opts[] = {
	{ "all", 'a', NULL, 'a', "Remove all unused build cache, not just dangling ones", 0 },
	{ "force", 'f', NULL, 'f', "Do not prompt for confirmation (img never prompts)", 0 },
	{ 0 },
};

static const struct img_opt fsck_opts[] = {
	{ "repair", 0, NULL, OPT_REPAIR,
	  "img: unpack a damaged or missing layer again from its blob", 0 },
	{ 0 },
};

/* ------------------------------------------------------------ system */

static const struct img_opt format_only_opts[] = {
	{ "format", 'f', "string", 'f', "Format output using a custom template", 0 },
	{ 0 },
};

static const struct img_opt container_prune_opts[] = {
	{ "filter", 0, "filter", OPT_FILTER, "Provide filter values (e.g. \"until=<timestamp>\")", 0 },
	{ "force", 'f', NULL, 'f', "Do not prompt for confirmation (img never prompts)", 0 },
	{ 0 },
};

static const struct img_opt system_prune_opts[] = {
	{ "all", 'a', NULL, 'a', "Remove all unused images not just dangling ones", 0 },
	{ "force", 'f', NULL, 'f', "Do not prompt for confirmation (img never prompts)", 0 },
	{ "volumes", 0, NULL, OPT_VOLUMES, "Prune anonymous volumes", 0 },
	{ 0 },
};

static const struct img_opt events_opts[] = {
	{ "filter", 'f', "filter", 'f', "Filter output based on conditions provided", 0 },
	{ "format", 0, "string", OPT_FORMAT, FORMAT_HELP, 0 },
	{ "since", 0, "string", OPT_SINCE, "Show all events created since timestamp", 0 },
	{ "until", 0, "string", OPT_UNTIL, "Stream events until this timestamp", 0 },
	{ 0 },
};

static const struct img_opt system_df_opts[] = {
	{ "verbose", 'v', NULL, 'v', "Show detailed information on space usage", 0 },
	{ 0 },
};

/* ------------------------------------------------------------ volumes */

static const struct img_opt volume_create_opts[] = {
	{ "driver", 'd', "string", 'd', "Specify volume driver name (default \"local\")", 0 },
	{ "label", 0, "list", 'l', "Set metadata for a volume", 0 },
	{ "name", 0, "string", OPT_NAME, "Specify volume name", 0 },
	{ "opt", 'o', "map", 'o', "Set driver specific options (default map[])", 0 },
	{ 0 },
};

static const struct img_opt volume_ls_opts[] = {
	{ "filter", 'f', "filter", 'f', "Provide filter values (e.g. \"dangling=true\")", 0 },
	{ "format", 0, "string", OPT_FORMAT, FORMAT_HELP, 0 },
	{ "quiet", 'q', NULL, 'q', "Only display volume names", 0 },
	{ 0 },
};

static const struct img_opt volume_inspect_opts[] = {
	{ "format", 'f', "string", 'f', "Format output using a custom template", 0 },
	{ 0 },
};

static const struct img_opt volume_rm_opts[] = {
	{ "force", 'f', NULL, 'f', "Force the removal of one or more volumes", 0 },
	{ 0 },
};

static const struct img_opt volume_prune_opts[] = {
	{ "all", 'a', NULL, 'a', "Remove all unused volumes, not just anonymous ones", 0 },
	{ "filter", 0, "filter", OPT_FILTER, "Provide filter values (e.g. \"label=<label>\")", 0 },
	{ "force", 'f', NULL, 'f', "Do not prompt for confirmation (img never prompts)", 0 },
	{ 0 },
};

/* ------------------------------------------------------------ networks */

static const struct img_opt network_create_opts[] = {
	{ "driver", 'd', "string", 'd', "Driver to manage the Network (default \"bridge\")", 0 },
	{ "gateway", 0, "strings", OPT_GATEWAY, "IPv4 or IPv6 Gateway for the master subnet", 0 },
	{ "internal", 0, NULL, OPT_INTERNAL, "Restrict external access to the network", 0 },
	{ "ipv6", 0, NULL, OPT_IPV6, "Enable IPv6 networking (img: refused, IPv4 only)", IMG_OPT_OPTARG },
	{ "label", 0, "list", OPT_LABEL, "Set metadata on a network", 0 },
	{ "subnet", 0, "strings", OPT_SUBNET, "Subnet in CIDR format that represents a network segment", 0 },
	{ 0 },
};

static const struct img_opt network_ls_opts[] = {
	{ "filter", 'f', "filter", 'f', "Provide filter values (e.g. \"driver=bridge\")", 0 },
	{ "format", 0, "string", OPT_FORMAT, FORMAT_HELP, 0 },
	{ "no-trunc", 0, NULL, OPT_NOTRUNC, "Do not truncate the output", 0 },
	{ "quiet", 'q', NULL, 'q', "Only display network IDs", 0 },
	{ 0 },
};

static const struct img_opt network_rm_opts[] = {
	{ "force", 'f', NULL, 'f', "Do not error if the network does not exist", 0 },
	{ 0 },
};

static const struct img_opt network_prune_opts[] = {
	{ "filter", 0, "filter", OPT_FILTER, "Provide filter values (e.g. \"until=<timestamp>\")", 0 },
	{ "force", 'f', NULL, 'f', "Do not prompt for confirmation (img never prompts)", 0 },
	{ 0 },
};

static const struct img_opt network_connect_opts[] = {
	{ "alias", 0, "strings", OPT_ALIAS, "Add network-scoped alias for the container", 0 },
	{ "ip", 0, "string", OPT_IP, "IPv4 address (e.g., \"172.30.100.104\")", 0 },
	{ "ip6", 0, "string", OPT_IP6, "IPv6 address (img: refused, IPv4 only)", 0 },
	{ 0 },
};

static const struct img_opt network_disconnect_opts[] = {
	{ "force", 'f', NULL, 'f', "Force the container to disconnect from a network", 0 },
	{ 0 },
};

/* ------------------------------------------------------------ containers */

static const struct img_opt ps_opts[] = {
	{ "all", 'a', NULL, 'a', "Show all containers (default shows just running)", 0 },
	{ "filter", 'f', "filter", 'f', "Filter output based on conditions provided", 0 },
	{ "format", 0, "string", OPT_FORMAT, FORMAT_HELP, 0 },
	{ "last", 'n', "int", 'n', "Show n last created containers (includes all states) (default -1)", 0 },
	{ "latest", 'l', NULL, 'l', "Show the latest created container (includes all states)", 0 },
	{ "no-trunc", 0, NULL, OPT_NOTRUNC, "Don't truncate output", 0 },
	{ "quiet", 'q', NULL, 'q', "Only display container IDs", 0 },
	{ "size", 's', NULL, 's', "Display total file sizes", 0 },
	{ 0 },
};

static const struct img_opt rm_opts[] = {
	{ "force", 'f', NULL, 'f', "Force the removal of a running container (uses SIGKILL)", 0 },
	{ "volumes", 'v', NULL, 'v', "Remove anonymous volumes associated with the container", 0 },
	{ 0 },
};

static const struct img_opt umount_opts[] = {
	{ "force", 'f', NULL, 'f', "Unmount lazily when the mount is busy", 0 },
	{ 0 },
};

static const struct img_opt diff_opts[] = {
	{ "format", 0, "string", OPT_FORMAT, "img: json (podman's changed/added/deleted)", 0 },
	{ 0 },
};

static const struct img_opt commit_opts[] = {
	{ "author", 'a', "string", 'a', "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")", 0 },
	{ "change", 'c', "list", 'c', "Apply Dockerfile instruction to the created image\n"
	  "(CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)", 0 },
	{ "message", 'm', "string", 'm', "Commit message", 0 },
	{ 0 },
};

static const struct img_opt export_opts[] = {
	{ "output", 'o', "string", 'o', "Write to a file, instead of STDOUT", 0 },
	{ 0 },
};

/* the cgroup limits of run, create and update */
#define LIMIT_OPTS                                                                                 \
	{ "memory", 'm', "bytes", 'm', "Memory limit", 0 },                                        \
	{ "memory-swap", 0, "bytes", OPT_MEMSWAP,                                                  \
	  "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", 0 },              \
	{ "cpus", 0, "decimal", OPT_CPUS, "Number of CPUs", 0 },                                   \
	{ "cpu-shares", 0, "int", OPT_SHARES, "CPU shares (relative weight)", 0 },                 \
	{ "pids-limit", 0, "int", OPT_PIDS, "Tune container pids limit (set -1 for unlimited)", 0 }

/* run and create (IMG_OPT_RUN_ONLY: not create's) */
static const struct img_opt run_opts[] = {
	{ "detach", 'd', NULL, 'd', "Run container in background and print container ID", IMG_OPT_RUN_ONLY },
	{ "detach-keys", 0, "string", OPT_DETACHKEYS, "Override the key sequence for detaching a container", IMG_OPT_RUN_ONLY },
	{ "interactive", 'i', NULL, 'i', "Keep STDIN open even if not attached", 0 },
	{ "tty", 't', NULL, 't', "Allocate a pseudo-TTY", 0 },
	{ "rm", 0, NULL, OPT_RM, "Automatically remove the container when it exits", 0 },
	{ "name", 0, "string", OPT_NAME, "Assign a name to the container", 0 },
	{ "pull", 0, "string", OPT_PULL,
	  "Pull image before running (\"always\", \"missing\", \"never\") (default \"missing\")", 0 },
	{ "env", 'e', "list", 'e', "Set environment variables", 0 },
	{ "env-file", 0, "list", OPT_ENVFILE, "Read in a file of environment variables", 0 },
	{ "volume", 'v', "list", 'v', "Bind mount a volume", 0 },
	{ "mount", 0, "mount", OPT_MOUNT, "Attach a filesystem mount to the container", 0 },
	{ "volumes-from", 0, "list", OPT_VOLFROM, "Mount volumes from the specified container(s)", 0 },
	{ "workdir", 'w', "string", 'w', "Working directory inside the container", 0 },
	{ "user", 'u', "string", 'u', "Username or UID (format: <name|uid>[:<group|gid>])", 0 },
	{ "hostname", 'h', "string", 'h', "Container host name", 0 },
	{ "entrypoint", 0, "string", OPT_ENTRYPOINT, "Overwrite the default ENTRYPOINT of the image", 0 },
	LIMIT_OPTS,
	{ "read-only", 0, NULL, OPT_RO, "Mount the container's root filesystem as read only", 0 },
	{ "network", 0, "network", OPT_NET, "Connect a container to a network (bridge, none, host, container:NAME, or a\nuser-defined one)", 0 },
	{ "net", 0, "network", OPT_NET, "", IMG_OPT_HIDDEN },
	{ "network-alias", 0, "list", OPT_NETALIAS, "Add network-scoped alias for the container", 0 },
	{ "net-alias", 0, "list", OPT_NETALIAS, "", IMG_OPT_HIDDEN },
	{ "ip", 0, "string", OPT_IP, "IPv4 address (e.g., 172.30.100.104)", 0 },
	{ "ip6", 0, "string", OPT_IP6, "IPv6 address (img: refused, IPv4 only)", 0 },
	{ "userns", 0, "string", OPT_USERNS,
	  "User namespace to use: host (the default, as docker's), or\n"
	  "private (--userns alone): img's own, idmapped (docs/runner.md)", IMG_OPT_OPTARG },
	{ "cgroup-parent", 0, "string", OPT_CGPARENT, "Optional parent cgroup for the container", 0 },
	{ "cgroupns", 0, "string", OPT_CGROUPNS,
	  "Cgroup namespace to use (host|private): the container's own (private),\n"
	  "or the host's; default: private on cgroup v2, host on v1 (docker's)", 0 },
	{ "restart", 0, "string", OPT_RESTART,
	  "Restart policy to apply when a container exits (default \"no\")", 0 },
	{ "cap-add", 0, "list", OPT_CAPADD, "Add Linux capabilities", 0 },
	{ "cap-drop", 0, "list", OPT_CAPDROP, "Drop Linux capabilities", 0 },
	{ "add-host", 0, "list", OPT_ADDHOST, "Add a custom host-to-IP mapping (host:ip)", 0 },
	{ "dns", 0, "list", OPT_DNS, "Set custom DNS servers", 0 },
	{ "dns-search", 0, "list", OPT_DNSSEARCH, "Set custom DNS search domains", 0 },
	{ "dns-option", 0, "list", OPT_DNSOPT, "Set DNS options", 0 },
	{ "tmpfs", 0, "list", OPT_TMPFS, "Mount a tmpfs directory", 0 },
	{ "shm-size", 0, "bytes", OPT_SHMSIZE, "Size of /dev/shm", 0 },
	{ "ulimit", 0, "ulimit", OPT_ULIMIT, "Ulimit options", 0 },
	{ "pid", 0, "string", OPT_PIDNS, "PID namespace to use (host)", 0 },
	{ "uts", 0, "string", OPT_UTSNS, "UTS namespace to use (host)", 0 },
	{ "device", 0, "list", OPT_DEVICE, "Add a host device to the container", 0 },
	{ "security-opt", 0, "list", OPT_SECOPT,
	  "Security options (seccomp=unconfined|PROFILE.json, no-new-privileges[=BOOL])", 0 },
	{ "privileged", 0, NULL, OPT_PRIVILEGED, "Give extended privileges to this container", 0 },
	{ "publish", 'p', "list", 'p', "Publish a container's port(s) to the host", 0 },
	{ "publish-all", 'P', NULL, 'P', "Publish all exposed ports to random ports", 0 },
	{ "sig-proxy", 0, NULL, OPT_SIGPROXY, "Proxy received signals to the process (default true)",
	  IMG_OPT_OPTARG | IMG_OPT_RUN_ONLY },
	{ "expose", 0, "list", OPT_EXPOSE, "Expose a port or a range of ports", 0 },
	{ "label", 'l', "list", 'l', "Set meta data on a container", 0 },
	{ "cidfile", 0, "string", OPT_CIDFILE, "Write the container ID to the file", 0 },
	{ "stop-signal", 0, "string", OPT_STOPSIGNAL, "Signal to stop the container", 0 },
	{ "stop-timeout", 0, "int", OPT_STOPTIMEOUT, "Timeout (in seconds) to stop a container", 0 },
	{ "init", 0, NULL, OPT_INIT,
	  "Run an init inside the container that forwards signals and reaps processes", 0 },
	{ "sysctl", 0, "map", OPT_SYSCTL, "Sysctl options (default map[])", 0 },
	{ "group-add", 0, "list", OPT_GROUPADD, "Add additional groups to join", 0 },
	{ "cpuset-cpus", 0, "string", OPT_CPUSET, "CPUs in which to allow execution (0-3, 0,1)", 0 },
	{ "memory-reservation", 0, "bytes", OPT_MEMRES, "Memory soft limit", 0 },
	{ "oom-kill-disable", 0, NULL, OPT_OOMKILL, "Disable OOM Killer", 0 },
	{ "health-cmd", 0, "string", OPT_HCMD, "Command to run to check health", 0 },
	{ "health-interval", 0, "duration", OPT_HINTERVAL, "Time between running the check (ms|s|m|h) (default 0s)", 0 },
	{ "health-retries", 0, "int", OPT_HRETRIES, "Consecutive failures needed to report unhealthy", 0 },
	{ "health-start-period", 0, "duration", OPT_HSTART,
	  "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)", 0 },
	{ "health-timeout", 0, "duration", OPT_HTIMEOUT, "Maximum time to allow one check to run (ms|s|m|h) (default 0s)", 0 },
	{ "no-healthcheck", 0, NULL, OPT_NOHEALTH, "Disable any container-specified HEALTHCHECK", 0 },
	{ "log-driver", 0, "string", OPT_LOGDRIVER, "Logging driver for the container (json-file, none)", 0 },
	{ "log-opt", 0, "list", OPT_LOGOPT, "Log driver options (max-size, max-file)", 0 },
	{ "blkio-weight", 0, "uint16", OPT_BLKIO,
	  "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)", 0 },
	{ 0 },
};

static const struct img_opt start_opts[] = {
	{ "attach", 'a', NULL, 'a', "Attach STDOUT/STDERR and forward signals", 0 },
	{ 0 },
};

static const struct img_opt attach_opts[] = {
	{ "detach-keys", 0, "string", OPT_DETACHKEYS, "Override the key sequence for detaching a container", 0 },
	{ "no-stdin", 0, NULL, OPT_NOSTDIN, "Do not attach STDIN", 0 },
	{ "sig-proxy", 0, NULL, OPT_SIGPROXY, "Proxy all received signals to the process (default true)",
	  IMG_OPT_OPTARG },
	{ 0 },
};

static const struct img_opt stop_opts[] = {
	{ "time", 't', "int", 't', "Seconds to wait before killing the container (default 10)", 0 },
	{ 0 },
};

static const struct img_opt kill_opts[] = {
	{ "signal", 's', "string", 's', "Signal to send to the container (default \"KILL\")", 0 },
	{ 0 },
};

static const struct img_opt stats_opts[] = {
	{ "all", 'a', NULL, 'a', "Show all containers (default shows just running)", 0 },
	{ "format", 0, "string", OPT_FORMAT, FORMAT_HELP, 0 },
	{ "no-stream", 0, NULL, OPT_NOSTREAM, "Disable streaming stats and only pull the first result", 0 },
	{ "no-trunc", 0, NULL, OPT_NOTRUNC, "Do not truncate output", 0 },
	{ 0 },
};

static const struct img_opt update_opts[] = {
	LIMIT_OPTS,
	{ 0 },
};

static const struct img_opt logs_opts[] = {
	{ "follow", 'f', NULL, 'f', "Follow log output", 0 },
	{ "since", 0, "string", OPT_SINCE,
	  "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)", 0 },
	{ "tail", 'n', "string", 'n', "Number of lines to show from the end of the logs (default \"all\")", 0 },
	{ "timestamps", 't', NULL, 't', "Show timestamps", 0 },
	{ "until", 0, "string", OPT_UNTIL,
	  "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)", 0 },
	{ 0 },
};

static const struct img_opt exec_opts[] = {
	{ "env", 'e', "list", 'e', "Set environment variables", 0 },
	{ "interactive", 'i', NULL, 'i', "Keep STDIN open even if not attached", 0 },
	{ "tty", 't', NULL, 't', "Allocate a pseudo-TTY", 0 },
	{ "user", 'u', "string", 'u', "Username or UID (format: \"<name|uid>[:<group|gid>]\")", 0 },
	{ "workdir", 'w', "string", 'w', "Working directory inside the container", 0 },
	{ 0 },
};

static const struct img_opt cp_opts[] = {
	{ "archive", 'a', NULL, 'a', "Archive mode (copy all uid/gid information)", 0 },
	{ "follow-link", 'L', NULL, 'L', "Always follow symbol link in SRC_PATH", 0 },
	{ 0 },
};

static const struct img_opt build_opts[] = {
	{ "allow", 0, "list", OPT_ALLOW,
	  "Allow extra privileged entitlement (\"security.insecure\": RUN --security=insecure runs privileged)", 0 },
	{ "build-arg", 0, "list", OPT_BUILDARG, "Set build-time variables", 0 },
	{ "cgroup-parent", 0, "string", OPT_CGPARENT, "Set the parent cgroup for the \"RUN\" instructions during build", 0 },
	{ "file", 'f', "string", 'f', "Name of the Dockerfile (default: 'PATH/Containerfile', then 'PATH/Dockerfile'; - reads STDIN)", 0 },
	{ "iidfile", 0, "string", OPT_IIDFILE, "Write the image ID to the file", 0 },
	{ "label", 0, "list", OPT_LABEL, "Set metadata for an image", 0 },
	{ "network", 0, "string", OPT_NET,
	  "Set the networking mode for the RUN instructions during build (default \"default\")", 0 },
	{ "no-cache", 0, NULL, OPT_NOCACHE, "Do not use cache when building the image", 0 },
	{ "pull", 0, "string", OPT_PULL,
	  "Pull the FROM and COPY --from images: missing (default), always (--pull alone) or never", IMG_OPT_OPTARG },
	{ "quiet", 'q', NULL, 'q', "Suppress the build output and print image ID on success", 0 },
	{ "secret", 0, "string", OPT_SECRET,
	  "Secret to expose to the build (format: \"id=mysecret[,src=/local/secret]\")", 0 },
	{ "ssh", 0, "list", OPT_SSH,
	  "SSH agent socket to expose to the build (format: \"default|<id>[=<socket>]\")", 0 },
	{ "tag", 't', "list", 't', "Name and optionally a tag in the 'name:tag' format", 0 },
	{ "target", 0, "string", OPT_TARGET, "Set the target build stage to build.", 0 },
	{ 0 },
};

static const struct img_opt help_opts[] = {
	{ "man", 0, NULL, OPT_MAN, "the verb's manual page (roff), as in docs/", IMG_OPT_HIDDEN },
	{ 0 },
};

#define C "Container Commands"
#define I "Image Commands"
#define S "Store Commands"
#define M "Management Commands"

const struct img_verb img_verbs[] = {
	/* containers */
	{ "run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image",
	  run_opts, 1, -1, img_cmd_run, C },
	{ "create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container",
	  run_opts, 1, -1, img_cmd_run, C },
	{ "start", "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers",
	  start_opts, 1, -1, img_cmd_start, C },
	{ "attach", "[OPTIONS] CONTAINER", "Attach local standard input, output, and error streams to a running container",
	  attach_opts, 1, 1, img_cmd_attach, C },
	{ "stop", "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",
	  stop_opts, 1, -1, img_cmd_stop, C },
	{ "restart", "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers",
	  stop_opts, 1, -1, img_cmd_restart, C },
	{ "kill", "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers",
	  kill_opts, 1, -1, img_cmd_kill, C },
	{ "pause", "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers",
	  NULL, 1, -1, img_cmd_pause, C },
	{ "unpause", "CONTAINER [CONTAINER...]", "Unpause all processes within one or more containers",
	  NULL, 1, -1, img_cmd_unpause, C },
	{ "wait", "CONTAINER [CONTAINER...]", "Block until one or more containers stop, then print their exit codes",
	  NULL, 1, -1, img_cmd_wait, C },
	{ "exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", "Execute a command in a running container",
	  exec_opts, 2, -1, img_cmd_exec, C },
	{ "logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container",
	  logs_opts, 1, 1, img_cmd_logs, C },
	{ "top", "CONTAINER", "Display the running processes of a container",
	  NULL, 1, 1, img_cmd_top, C },
	{ "port", "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping for the container",
	  NULL, 1, 2, img_cmd_port, C },
	{ "stats", "[OPTIONS] [CONTAINER...]", "Display a live stream of container(s) resource usage statistics",
	  stats_opts, 0, -1, img_cmd_stats, C },
	{ "update", "[OPTIONS] CONTAINER [CONTAINER...]", "Update configuration of one or more containers",
	  update_opts, 1, -1, img_cmd_update, C },
	{ "ps", "[OPTIONS]", "List containers", ps_opts, 0, 0, img_cmd_ps, C },
	{ "rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers",
	  rm_opts, 1, -1, img_cmd_rm, C },
	{ "cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH\n\timg cp [OPTIONS] SRC_PATH CONTAINER:DEST_PATH",
	  "Copy files/folders between a container and the local filesystem",
	  cp_opts, 2, 2, img_cmd_cp, C },
	{ "diff", "[OPTIONS] CONTAINER", "Inspect changes to files or directories on a container's filesystem",
	  diff_opts, 1, 1, img_cmd_diff, C },
	{ "commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes",
	  commit_opts, 1, 2, img_cmd_commit, C },
	{ "export", "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive",
	  export_opts, 1, 1, img_cmd_export, C },
	{ "mount", "CONTAINER", "Mount a container's union filesystem and print its mountpoint (podman's)",
	  NULL, 1, 1, img_cmd_mount, C },
	{ "umount", "[OPTIONS] CONTAINER", "Unmount a container's union filesystem (podman's)",
	  umount_opts, 1, 1, img_cmd_umount, C },
	{ "container", "COMMAND", "Manage containers", NULL, 0, -1, img_cmd_container, C },
	{ "container inspect", "[OPTIONS] CONTAINER [CONTAINER...]",
	  "Display detailed information on one or more containers",
	  inspect_opts, 1, -1, img_cmd_container_inspect, NULL },
	{ "container prune", "[OPTIONS]", "Remove all stopped containers",
	  container_prune_opts, 0, 0, img_cmd_container_prune, NULL },
	{ "container ls", "[OPTIONS]", "List containers", ps_opts, 0, 0, img_cmd_ps, NULL },
	{ "container rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers",
	  rm_opts, 1, -1, img_cmd_rm, NULL },
	{ "container attach", "[OPTIONS] CONTAINER",
	  "Attach local standard input, output, and error streams to a running container",
	  attach_opts, 1, 1, img_cmd_attach, NULL },
	{ "rename", "CONTAINER NEW_NAME", "Rename a container", NULL, 2, 2, img_cmd_rename, C },
	/* images */
	{ "image", "COMMAND", "Manage images", NULL, 0, -1, img_cmd_container, M },
	{ "image ls", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", images_opts, 0, 1, img_cmd_images, NULL },
	{ "image rm", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", rmi_opts, 1, -1, img_cmd_rmi, NULL },
	{ "image prune", "[OPTIONS]", "Remove unused images", prune_opts, 0, 0, img_cmd_prune, NULL },
	{ "image inspect", "[OPTIONS] IMAGE [IMAGE...]", "Display detailed information on one or more images",
	  inspect_opts, 1, -1, img_cmd_inspect, NULL },
	{ "image history", "[OPTIONS] IMAGE", "Show the history of an image", history_opts, 1, 1, img_cmd_history, NULL },
	{ "image tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
	  NULL, 2, 2, img_cmd_tag, NULL },
	{ "image load", "[OPTIONS]", "Load an image from a tar archive or STDIN", load_opts, 0, 0, img_cmd_load, NULL },
	{ "image save", "[OPTIONS] IMAGE [IMAGE...]", "Save one or more images to a tar archive (streamed to STDOUT by default)",
	  save_opts, 1, -1, img_cmd_save, NULL },
	{ "image import", "[OPTIONS] FILE|- [REPOSITORY[:TAG]]", "Import the contents from a tarball to create a filesystem image",
	  import_opts, 0, 2, img_cmd_import, NULL },
	/* images */
	{ "build", "[OPTIONS] PATH | -", "Build an image from a Containerfile or Dockerfile",
	  build_opts, 1, 1, img_cmd_build, I },
	{ "builder", "COMMAND", "Manage builds", NULL, 0, -1, img_cmd_container, M },
	{ "builder build", "[OPTIONS] PATH | -", "Build an image from a Containerfile or Dockerfile",
	  build_opts, 1, 1, img_cmd_build, NULL },
	{ "builder prune", "[OPTIONS]", "Remove build cache", builder_prune_opts, 0, 0,
	  img_cmd_builder_prune, NULL },
	{ "images", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", images_opts, 0, 1, img_cmd_images, I },
	{ "import", "[OPTIONS] FILE|- [REPOSITORY[:TAG]]\n\timg import --busybox [REPOSITORY[:TAG]]",
	  "Import the contents from a tarball to create a filesystem image",
	  import_opts, 0, 2, img_cmd_import, I },
	{ "pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry",
	  pull_opts, 1, 1, img_cmd_pull, I },
	{ "push", "[OPTIONS] NAME[:TAG] [DESTINATION]", "Upload an image to a registry",
	  push_opts, 1, 2, img_cmd_push, I },
	{ "login", "[OPTIONS] [SERVER]",
	  "Log in to a registry",
	  login_opts, 0, 1, img_cmd_login, I },
	{ "logout", "[SERVER]",
	  "Log out from a registry",
	  NULL, 0, 1, img_cmd_logout, I },
	{ "load", "[OPTIONS]", "Load an image from a tar archive or an OCI layout",
	  load_opts, 0, 0, img_cmd_load, I },
	{ "save", "[OPTIONS] IMAGE [IMAGE...]",
	  "Save one or more images to a tar archive (streamed to STDOUT by default)",
	  save_opts, 1, -1, img_cmd_save, I },
	{ "tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
	  NULL, 2, 2, img_cmd_tag, I },
	{ "rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", rmi_opts, 1, -1, img_cmd_rmi, I },
	{ "inspect", "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on images and containers",
	  inspect_opts, 1, -1, img_cmd_inspect, I },
	{ "history", "[OPTIONS] IMAGE", "Show the history of an image", history_opts, 1, 1, img_cmd_history, I },
	{ "prune", "[OPTIONS]", "Remove unused images", prune_opts, 0, 0, img_cmd_prune, I },
	/* system */
	{ "system", "COMMAND", "Manage img", NULL, 0, -1, img_cmd_container, M },
	{ "system df", "[OPTIONS]", "Show docker disk usage", system_df_opts, 0, 0, img_cmd_system_df, NULL },
	{ "system prune", "[OPTIONS]", "Remove unused data", system_prune_opts, 0, 0, img_cmd_system_prune, NULL },
	{ "system events", "[OPTIONS]", "Get real time events from the server", events_opts, 0, 0,
	  img_cmd_events, NULL },
	{ "events", "[OPTIONS]", "Get real time events from the server", events_opts, 0, 0, img_cmd_events, S },
	{ "system info", "[OPTIONS]", "Display system-wide information", format_only_opts, 0, 0, img_cmd_info, NULL },
	{ "info", "[OPTIONS]", "Display system-wide information", format_only_opts, 0, 0, img_cmd_info, S },
	{ "version", "[OPTIONS]", "Show the img version information", format_only_opts, 0, 0, img_cmd_version, S },
	/* networks */
	{ "network", "COMMAND", "Manage networks", NULL, 0, -1, img_cmd_container, M },
	{ "network create", "[OPTIONS] NETWORK", "Create a network",
	  network_create_opts, 1, 1, img_cmd_network_create, NULL },
	{ "network ls", "[OPTIONS]", "List networks", network_ls_opts, 0, 0, img_cmd_network_ls, NULL },
	{ "network inspect", "[OPTIONS] NETWORK [NETWORK...]", "Display detailed information on one or more networks",
	  volume_inspect_opts, 1, -1, img_cmd_network_inspect, NULL },
	{ "network rm", "NETWORK [NETWORK...]", "Remove one or more networks",
	  network_rm_opts, 1, -1, img_cmd_network_rm, NULL },
	{ "network prune", "[OPTIONS]", "Remove all unused networks",
	  network_prune_opts, 0, 0, img_cmd_network_prune, NULL },
	{ "network connect", "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network",
	  network_connect_opts, 2, 2, img_cmd_network_connect, NULL },
	{ "network disconnect", "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network",
	  network_disconnect_opts, 2, 2, img_cmd_network_disconnect, NULL },
	/* volumes */
	{ "volume", "COMMAND", "Manage volumes", NULL, 0, -1, img_cmd_container, M },
	{ "volume create", "[OPTIONS] [VOLUME]", "Create a volume",
	  volume_create_opts, 0, 1, img_cmd_volume_create, NULL },
	{ "volume ls", "[OPTIONS]", "List volumes", volume_ls_opts, 0, 0, img_cmd_volume_ls, NULL },
	{ "volume inspect", "[OPTIONS] VOLUME [VOLUME...]", "Display detailed information on one or more volumes",
	  volume_inspect_opts, 1, -1, img_cmd_volume_inspect, NULL },
	{ "volume rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes",
	  volume_rm_opts, 1, -1, img_cmd_volume_rm, NULL },
	{ "volume prune", "[OPTIONS]", "Remove unused local volumes",
	  volume_prune_opts, 0, 0, img_cmd_volume_prune, NULL },
	/* the store */
	{ "fsck", "[OPTIONS]", "Re-hash every blob, check every manifest, config, name and the contents of every layer",
	  fsck_opts, 0, 0, img_cmd_fsck, S },
	{ "gc", "", "Remove blobs, layers and temp files that no image references",
	  NULL, 0, 0, img_cmd_gc, S },
	{ "help", "[COMMAND]", "Help about any command", help_opts, 0, 2, img_cmd_help, NULL },
	{ 0 },
};
