// SPDX-License-Identifier: MIT
/* ufsmount: mount a copy-on-write union of branches (thin main: parse the
 * command line, call libunionfs, print the error). */
#include "ufs.h"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("Usage: ufsmount [-f] [-d] -o dirs=BRANCH[=MODE][:BRANCH[=MODE]...][,OPTION...] MOUNTPOINT\n"
	      "       ufsmount [-f] [-d] -o lowerdir=DIR[:DIR...][,upperdir=DIR,workdir=DIR][,OPTION...] [SOURCE] MOUNTPOINT\n"
	      "       ufsmount --status [--json] MOUNTPOINT\n"
	      "       ufsmount --help | --version\n"
	      "\n"
	      "Mount a copy-on-write union of directories (AUFS semantics: .wh.NAME\n"
	      "whiteouts, .wh..wh..opq opaque dirs, the OCI layer format).\n"
	      "Branches are listed top to bottom; MODE is rw, ro or rr (default: rw for\n"
	      "the first, ro for the others). At most one rw branch, the first one.\n"
	      "\n"
	      "  -f               stay in the foreground\n"
	      "  -d               debug: foreground, log every request\n"
	      "  -o OPTIONS       dirs=..., the options below, and FUSE mount options\n"
	      "                   (allow_other, default_permissions, ro, nodev, nosuid,\n"
	      "                   noexec, noatime, fsname=, subtype=, max_threads=, ...)\n"
	      "     nopassthrough no FUSE passthrough (file data then goes through the daemon)\n"
	      "     noio_uring    requests over /dev/fuse, not io_uring (the default when the\n"
	      "                   kernel offers it: /sys/module/fuse/parameters/enable_uring)\n"
	      "     uring_depth=N ring entries (threads) per CPU queue (default 2)\n"
	      "     uring_payload=KB  largest request payload, sizes each ring entry\n"
	      "                   (8 to 1024, default 1024: libfuse's max_write)\n"
	      "     readahead=KB  read-ahead of the mount (default 1024)\n"
	      "     nofsync       do not fsync copied-up data before publishing it\n"
	      "     writeback     use the kernel's writeback cache for writes\n"
	      "     allow_idmap   let the mount be idmapped (mount_setattr MOUNT_ATTR_IDMAP)\n"
	      "     entry_timeout=S, attr_timeout=S   kernel cache times (default 86400)\n"
	      "\n"
	      "The overlay syntax (kernel overlayfs's, fuse-overlayfs's; podman's and\n"
	      "buildah's mount_program) uses overlayfs's on-disk format: 0/0 char device\n"
	      "whiteouts and overlay.opaque xattrs. lowerdir= lists the read-only dirs top\n"
	      "first; without upperdir= the mount is read-only. With it:\n"
	      "     uidmapping=DISK:VIEW:N[:...], gidmapping=...   ids as stored : as shown\n"
	      "     squash_to_uid=ID, squash_to_gid=ID, squash_to_root   show one owner\n"
	      "     volatile, fsync=0   no fsync (copy-ups and fsync(2))\n"
	      "     userxattr     user.overlay.* xattrs (the default when not root)\n"
	      "     xwhiteout     whiteouts as files with overlay.whiteout, not devices\n"
	      "     timeout=S     both kernel cache times\n"
	      "     noacl, static_nlink, threaded=, fast_ino=, context=: accepted, no effect\n"
	      "  --status MNT     show branches, modes and per-operation counters\n"
	      "  --json           with --status: one JSON object\n"
	      "\n"
	      "Unmount with umount MOUNTPOINT or fusermount3 -u MOUNTPOINT.\n"
	      "See ufsmount(8).\n",
	      f);
}

int main(int argc, char **argv)
{
	struct ufs_config cfg;
	char err[1024] = "";
	bool status = false, json = false;
	const char *mnt = NULL, *source = NULL;
	ufs_config_init(&cfg);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			ufs_config_clear(&cfg);
			return 0;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("ufsmount %s (libfuse %s)\n", PACKAGE_VERSION, FUSE_VERSION_STRING);
			ufs_config_clear(&cfg);
			return 0;
		} else if (strcmp(a, "--status") == 0) {
			status = true;
		} else if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "-f") == 0) {
			cfg.foreground = true;
		} else if (strcmp(a, "-d") == 0) {
			cfg.debug = cfg.foreground = true;
		} else if (strncmp(a, "-o", 2) == 0) {
			const char *o = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
			if (!o) {
				fprintf(stderr, "ufsmount: option -o needs a value\n");
				goto fail;
			}
			if (ufs_config_parse_opts(&cfg, o, err, sizeof(err)) < 0) {
				fprintf(stderr, "ufsmount: %s\n", err[0] ? err : "out of memory");
				goto fail;
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "ufsmount: unknown option '%s' (see --help)\n", a);
			goto fail;
		} else if (!mnt) {
			mnt = a;
		} else if (!source) {
			/* SOURCE MOUNTPOINT, as mount(8)'s helpers are run */
			source = mnt;
			mnt = a;
		} else {
			fprintf(stderr, "ufsmount: unexpected argument '%s' (one mountpoint only)\n", a);
			goto fail;
		}
	}
	if (source && !status && *source && !strpbrk(source, ",\\") &&
	    strcmp(source, "none") != 0) {
		char o[4096];
		snprintf(o, sizeof(o), "fsname=%s", source);
		if (ufs_config_parse_opts(&cfg, o, err, sizeof(err)) < 0) {
			fprintf(stderr, "ufsmount: %s\n", err[0] ? err : "out of memory");
			goto fail;
		}
	}
	if (!mnt) {
		fprintf(stderr, "ufsmount: no mountpoint given (see --help)\n");
		goto fail;
	}
	if (status) {
		ufs_config_clear(&cfg);
		if (ufs_status_query(mnt, json, stdout, err, sizeof(err)) < 0) {
			fprintf(stderr, "ufsmount: %s\n", err[0] ? err : strerror(errno));
			return 1;
		}
		return 0;
	}
	cfg.mountpoint = strdup(mnt);
	if (!cfg.mountpoint || ufs_config_validate(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "ufsmount: %s\n", err[0] ? err : "out of memory");
		goto fail;
	}
	int r = ufs_run(&cfg);
	ufs_config_clear(&cfg);
	return r;
fail:
	ufs_config_clear(&cfg);
	return 1;
}
