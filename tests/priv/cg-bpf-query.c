// SPDX-License-Identifier: MIT
/* The device eBPF programs of a v2 cgroup, seen by the kernel (bpftool is
 * not installed here): used by test-run-cgv2.sh.
 *   cg-bpf-query DIR   one line a program attached to DIR (BPF_CGROUP_DEVICE):
 *                      "ID TYPE NAME N_INSNS", TYPE cgroup_device or a number
 *   cg-bpf-query --id ID   "present" or "gone" (the kernel freed it) */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *a)
{
	return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static int prog_fd(uint32_t id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	return (int)bpf(BPF_PROG_GET_FD_BY_ID, &a);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--id") == 0) {
		int fd = prog_fd((uint32_t)strtoul(argv[2], NULL, 10));
		if (fd < 0 && errno != ENOENT) {
			perror("BPF_PROG_GET_FD_BY_ID");
			return 1;
		}
		puts(fd >= 0 ? "present" : "gone");
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: cg-bpf-query CGROUP_DIR | --id ID\n");
		return 2;
	}
	int cg = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		perror(argv[1]);
		return 1;
	}
	uint32_t ids[64];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cg;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = 64;
	if (bpf(BPF_PROG_QUERY, &a) < 0) {
		perror("BPF_PROG_QUERY");
		return 1;
	}
	for (uint32_t i = 0; i < a.query.prog_cnt && i < 64; i++) {
		int fd = prog_fd(ids[i]);
		struct bpf_prog_info info;
		union bpf_attr q;
		memset(&info, 0, sizeof(info));
		memset(&q, 0, sizeof(q));
		q.info.bpf_fd = (uint32_t)fd;
		q.info.info_len = sizeof(info);
		q.info.info = (uint64_t)(uintptr_t)&info;
		if (fd < 0 || bpf(BPF_OBJ_GET_INFO_BY_FD, &q) < 0) {
			perror("program info");
			return 1;
		}
		char type[16];
		if (info.type == BPF_PROG_TYPE_CGROUP_DEVICE)
			snprintf(type, sizeof(type), "cgroup_device");
		else
			snprintf(type, sizeof(type), "%u", info.type);
		printf("%u %s %s %u\n", ids[i], type, info.name,
		       info.xlated_prog_len / (uint32_t)sizeof(struct bpf_insn));
		close(fd);
	}
	close(cg);
	return 0;
}
