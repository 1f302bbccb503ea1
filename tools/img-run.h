/* SPDX-License-Identifier: MIT */
/* img's container runtime commands (issue 4), dispatched from img.c. Each
 * takes (argc, argv) with argv[0] the command name and returns the exit code. */
#pragma once

/* Set by img.c's --root parsing (NULL: $IMG_ROOT or the default). */
extern const char *img_run_root;

int img_cmd_run(int argc, char **argv);
int img_cmd_start(int argc, char **argv);
int img_cmd_stop(int argc, char **argv);
int img_cmd_kill(int argc, char **argv);
int img_cmd_restart(int argc, char **argv);
int img_cmd_wait(int argc, char **argv);
int img_cmd_logs(int argc, char **argv);
int img_cmd_exec(int argc, char **argv);
int img_cmd_top(int argc, char **argv);
int img_cmd_container(int argc, char **argv);
int img_cmd_rm(int argc, char **argv);
