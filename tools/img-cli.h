/* SPDX-License-Identifier: MIT */
/* img's verbs as data (issue 11): each verb's synopsis, description, option
 * list and argument count live in one table (img-verbs.c), from which the
 * getopt tables, `img VERB --help` (docker's usage block), `img --help` and
 * docker's errors for an unknown flag or a wrong argument count are all
 * made. Adding a verb: a row in img_verbs[], its options in an img_opt list,
 * a handler `int img_cmd_X(int argc, char **argv)` looping on img_getopt();
 * see docs/cli.md. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* Exit code of img's own errors (docker's 125). */
#define IMG_EXIT 125

/* Long-only options: img_getopt returns these (short ones return the
 * letter). One enum for every verb, so one table can be shared. */
enum {
	OPT_RM = 256, OPT_NAME, OPT_ENVFILE, OPT_ENTRYPOINT, OPT_MEMSWAP, OPT_CPUS,
	OPT_SHARES, OPT_PIDS, OPT_RO, OPT_NET, OPT_USERNS, OPT_CGPARENT, OPT_RESTART,
	OPT_CAPADD, OPT_CAPDROP, OPT_ADDHOST, OPT_DNS, OPT_DNSSEARCH, OPT_DNSOPT,
	OPT_TMPFS, OPT_SHMSIZE, OPT_ULIMIT, OPT_PIDNS, OPT_UTSNS, OPT_DEVICE,
	OPT_SECOPT, OPT_PRIVILEGED,
	OPT_FORMAT, OPT_NOTRUNC, OPT_BUSYBOX, OPT_TYPE, OPT_NOSTREAM, OPT_SINCE,
	OPT_UNTIL, OPT_MAN, OPT_HELP, OPT_REPAIR,
	OPT_TLSVERIFY, OPT_PLATFORM, OPT_PULL, OPT_PASSSTDIN, OPT_DIGESTS,
	OPT_BUILDARG, OPT_TARGET, OPT_NOCACHE, OPT_IIDFILE, OPT_SECRET, OPT_LABEL,
	OPT_FILTER, OPT_MOUNT, OPT_VOLFROM, OPT_VOLUMES,
	OPT_CIDFILE, OPT_STOPSIGNAL, OPT_STOPTIMEOUT, OPT_INIT, OPT_SYSCTL, OPT_GROUPADD,
	OPT_CPUSET, OPT_MEMRES, OPT_OOMKILL, OPT_BLKIO,
	OPT_HCMD, OPT_HINTERVAL, OPT_HRETRIES, OPT_HTIMEOUT, OPT_HSTART, OPT_NOHEALTH,
	OPT_LOGDRIVER, OPT_LOGOPT, OPT_EXPOSE, OPT_SIGPROXY, OPT_SSH,
	OPT_MAXDOWNLOADS, OPT_MAXUPLOADS,
	OPT_SUBNET, OPT_GATEWAY, OPT_INTERNAL, OPT_ALIAS, OPT_IP, OPT_NETALIAS,
	OPT_DETACHKEYS,
	OPT_IPV6, OPT_IP6,
	OPT_NOSTDIN,
	OPT_ALLOW,
	OPT_CGROUPNS,
};

/* One option of a verb. */
struct img_opt {
	const char *name;  /* long name without "--" */
	int letter;        /* short letter, 0 for none */
	const char *arg;   /* NULL: a switch; else docker's type word in --help
			    * ("string", "int", "list", "bytes", ...) */
	int val;           /* returned by img_getopt: the letter or an OPT_* */
	const char *help;  /* one line (continuation lines after '\n') */
	unsigned flags;
};
#define IMG_OPT_HIDDEN   1u /* accepted, not listed (an alias: --net) */
#define IMG_OPT_OPTARG   2u /* an optional argument (--opt=VALUE only); on a switch:
			    * pflag's bool (--flag, --flag=false) */
#define IMG_OPT_RUN_ONLY 4u /* in run's list, not in create's */

struct img_verb {
	const char *name;
	const char *usage;  /* after "img NAME ": "[OPTIONS] CONTAINER [CONTAINER...]" */
	const char *desc;   /* docker's one-line description */
	const struct img_opt *opts; /* NULL or { 0 }-terminated */
	int min_args, max_args;     /* positional arguments; max -1: any */
	int (*fn)(int argc, char **argv);
	const char *group;  /* heading in `img --help`; NULL: not listed */
};

extern const struct img_verb img_verbs[];

/* The verb whose options img_getopt parses: set by main before calling its
 * handler (and by a group verb for its subcommand). */
extern const struct img_verb *img_verb_current;

const struct img_verb *img_verb_find(const char *name);

/* getopt_long over the current verb's table. Returns an option's val, -1
 * when the options end and the argument count fits, or one of:
 *   IMG_OPT_HELP  --help was given: the usage block is printed (stdout);
 *   IMG_OPT_BAD   an unknown flag, a missing value or a wrong argument
 *                 count: docker's error and "See 'img VERB --help'." printed.
 * Handlers end their switch with `default: return img_opt_exit(c);`. */
#define IMG_OPT_HELP (-2)
#define IMG_OPT_BAD  (-3)
int img_getopt(int argc, char **argv);
static inline int img_opt_exit(int c)
{
	return c == IMG_OPT_HELP ? 0 : IMG_EXIT;
}

/* docker's usage block of v on f: "Usage:  img NAME USAGE", the
 * description, "Options:" aligned as pflag aligns them. */
void img_verb_help(const struct img_verb *v, FILE *f);
/* v's manual page (roff) on f: docs/img-VERB.1 is this output, kept in
 * step by tests/img/test-cli-help.sh (`img help --man VERB`). */
void img_verb_man(const struct img_verb *v, FILE *f);
/* `img --help`: the global options and every listed verb by group. */
void img_main_help(FILE *f);

/* The handlers: (argc, argv) with argv[0] the verb; return the exit code.
 * img.c: images, store and container-store verbs; img-run.c: the runtime;
 * img-cp.c: cp. */
int img_cmd_images(int argc, char **argv);
int img_cmd_import(int argc, char **argv);
int img_cmd_pull(int argc, char **argv);
int img_cmd_login(int argc, char **argv);
int img_cmd_push(int argc, char **argv);
int img_cmd_logout(int argc, char **argv);
int img_cmd_load(int argc, char **argv);
int img_cmd_save(int argc, char **argv);
int img_cmd_tag(int argc, char **argv);
int img_cmd_rmi(int argc, char **argv);
int img_cmd_inspect(int argc, char **argv);
int img_cmd_history(int argc, char **argv);
int img_cmd_prune(int argc, char **argv);
int img_cmd_gc(int argc, char **argv);
int img_cmd_fsck(int argc, char **argv);
int img_cmd_ps(int argc, char **argv);
int img_cmd_mount(int argc, char **argv);
int img_cmd_umount(int argc, char **argv);
int img_cmd_diff(int argc, char **argv);
int img_cmd_commit(int argc, char **argv);
int img_cmd_export(int argc, char **argv);
int img_cmd_help(int argc, char **argv);
int img_cmd_run(int argc, char **argv);
int img_cmd_start(int argc, char **argv);
int img_cmd_attach(int argc, char **argv);
int img_cmd_stop(int argc, char **argv);
int img_cmd_kill(int argc, char **argv);
int img_cmd_pause(int argc, char **argv);
int img_cmd_unpause(int argc, char **argv);
int img_cmd_stats(int argc, char **argv);
int img_cmd_update(int argc, char **argv);
int img_cmd_restart(int argc, char **argv);
int img_cmd_wait(int argc, char **argv);
int img_cmd_logs(int argc, char **argv);
int img_cmd_exec(int argc, char **argv);
int img_cmd_top(int argc, char **argv);
int img_cmd_port(int argc, char **argv);
int img_cmd_rm(int argc, char **argv);
/* img-build.c */
int img_cmd_build(int argc, char **argv);
int img_cmd_builder_prune(int argc, char **argv);
int img_cmd_container(int argc, char **argv);
int img_cmd_container_inspect(int argc, char **argv);
int img_cmd_cp(int argc, char **argv);
/* img-volume.c */
int img_cmd_network_create(int argc, char **argv);
int img_cmd_network_ls(int argc, char **argv);
int img_cmd_network_inspect(int argc, char **argv);
int img_cmd_network_rm(int argc, char **argv);
int img_cmd_network_prune(int argc, char **argv);
int img_cmd_network_connect(int argc, char **argv);
int img_cmd_network_disconnect(int argc, char **argv);
/* The refusal of an IPv6 flag (FLAG: "--ipv6", "--ip6"): img's networks
 * are IPv4 only (docs/network.md). */
int img_network_no_ipv6(const char *flag);
int img_cmd_volume_create(int argc, char **argv);
int img_cmd_volume_ls(int argc, char **argv);
int img_cmd_volume_inspect(int argc, char **argv);
int img_cmd_volume_rm(int argc, char **argv);
int img_cmd_volume_prune(int argc, char **argv);
/* img-events.c */
int img_cmd_events(int argc, char **argv);
/* img-system.c */
int img_cmd_version(int argc, char **argv);
int img_cmd_info(int argc, char **argv);
int img_cmd_rename(int argc, char **argv);
int img_cmd_container_prune(int argc, char **argv);
int img_cmd_system_prune(int argc, char **argv);
int img_cmd_system_df(int argc, char **argv);
