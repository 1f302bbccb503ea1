// SPDX-License-Identifier: MIT
/* The device controller of cgroup v2: an eBPF program (CGROUP_DEVICE)
 * attached to the container's cgroup, as crun and runc do, generated here
 * from the same rules v1 writes to devices.allow. Raw bpf(2): the program
 * is a few dozen instructions, so libbpf (ELF, BTF, relocations) buys
 * nothing and would be one more library in every container's monitor. */
#include "run-internal.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

/* Registers of the program: r1 the context (struct bpf_cgroup_dev_ctx),
 * then what the prologue loads from it. r0 the verdict: 1 allow, 0 deny. */
enum { R_TYPE = BPF_REG_2, R_ACCESS = BPF_REG_3, R_MAJOR = BPF_REG_4, R_MINOR = BPF_REG_5 };

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

static int rule_checks(const struct run_dev_rule *r)
{
	return (r->type != 'a') + ((r->access & RUN_DEV_RWM) != RUN_DEV_RWM) + (r->major >= 0) +
	       (r->minor >= 0);
}

static unsigned bpf_access(unsigned a)
{
	return ((a & RUN_DEV_MKNOD) ? BPF_DEVCG_ACC_MKNOD : 0) |
	       ((a & RUN_DEV_READ) ? BPF_DEVCG_ACC_READ : 0) |
	       ((a & RUN_DEV_WRITE) ? BPF_DEVCG_ACC_WRITE : 0);
}

int run_bpf_devices_build(const struct run_dev_rule *rules, size_t n, struct bpf_insn **ret,
			  size_t *ret_n)
{
	const size_t prologue = 6;
	size_t cap = prologue + 2;
	for (size_t i = 0; i < n; i++) {
		const struct run_dev_rule *r = &rules[i];
		if ((r->type != 'c' && r->type != 'b' && r->type != 'a') || r->major < -1 ||
		    r->minor < -1 || (r->access & ~(unsigned)RUN_DEV_RWM))
			return -EINVAL;
		cap += (size_t)rule_checks(r) + 2;
	}
	struct bpf_insn *p = calloc(cap, sizeof(*p));
	if (!p)
		return -ENOMEM;
	size_t k = 0;
	/* type = access_type & 0xffff, access = access_type >> 16 (uapi bpf.h) */
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, R_TYPE, BPF_REG_1,
		      offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	p[k++] = insn(BPF_ALU64 | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, R_ACCESS, BPF_REG_1,
		      offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	p[k++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, R_MAJOR, BPF_REG_1,
		      offsetof(struct bpf_cgroup_dev_ctx, major), 0);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, R_MINOR, BPF_REG_1,
		      offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
	/* one block a rule: each check that fails jumps to the next block */
	for (size_t i = 0; i < n; i++) {
		const struct run_dev_rule *r = &rules[i];
		int len = rule_checks(r) + 2, at = 0;
		if (r->type != 'a') {
			int t = r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
			p[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, R_TYPE, 0, (int16_t)(len - ++at), t);
		}
		if ((r->access & RUN_DEV_RWM) != RUN_DEV_RWM) /* a bit asked that the rule lacks */
			p[k++] = insn(BPF_JMP | BPF_JSET | BPF_K, R_ACCESS, 0, (int16_t)(len - ++at),
				      (int32_t)bpf_access(~r->access & RUN_DEV_RWM));
		if (r->major >= 0)
			p[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, R_MAJOR, 0, (int16_t)(len - ++at), r->major);
		if (r->minor >= 0)
			p[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, R_MINOR, 0, (int16_t)(len - ++at), r->minor);
		p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
		p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		/* a rule without checks allows everything: what follows would be
		 * unreachable, which the verifier refuses */
		if (at == 0) {
			*ret = p;
			*ret_n = k;
			return 0;
		}
	}
	p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	*ret = p;
	*ret_n = k;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *a)
{
	long r = syscall(SYS_bpf, cmd, a, sizeof(*a));
	return r < 0 ? cm_neg_errno() : (int)r;
}

/* The verifier's reason: the last line of its log that is not one of the
 * statistics it appends ("processed N insns ...", with log_level 1). */
static void verifier_reason(char *log, char *out, size_t sz)
{
	static const char *const stats[] = { "processed ", "verification time", "stack depth" };
	snprintf(out, sz, "no log");
	for (char *end = log + strlen(log); end > log;) {
		*end = '\0';
		char *nl = end;
		while (nl > log && nl[-1] != '\n')
			nl--;
		bool skip = strspn(nl, " \t") == strlen(nl);
		for (size_t i = 0; i < CM_ARRAY_SIZE(stats); i++)
			skip |= strncmp(nl, stats[i], strlen(stats[i])) == 0;
		if (!skip) {
			snprintf(out, sz, "%s", nl);
			return;
		}
		end = nl > log ? nl - 1 : log;
	}
}

int run_bpf_devices_load(const struct bpf_insn *insns, size_t n, struct cm_error *err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t)"MIT"; /* no GPL-only helper is called */
	snprintf(a.prog_name, sizeof(a.prog_name), "%s", RUN_BPF_DEVICES_NAME);
	int fd = sys_bpf(BPF_PROG_LOAD, &a); /* the kernel makes it O_CLOEXEC */
	if (fd >= 0 || (fd != -EACCES && fd != -EINVAL))
		return fd < 0 ? cm_error_setx(err, fd, "loading the device eBPF program") : fd;
	/* refused by the verifier: load again with its log for the reason */
	size_t logsz = 1 << 16;
	_cleanup_free_ char *log = calloc(1, logsz);
	if (!log)
		return -ENOMEM;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = (uint32_t)logsz;
	a.log_level = 1;
	int r = sys_bpf(BPF_PROG_LOAD, &a);
	if (r >= 0)
		return r;
	char why[256];
	verifier_reason(log, why, sizeof(why));
	return cm_error_set(err, fd, "loading the device eBPF program: %s (verifier: %s)",
			    strerror(-fd), why);
}

int run_bpf_devices_attach(const char *cgroup_dir, const struct run_dev_rule *rules, size_t n,
			   struct cm_error *err)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	size_t n_insns;
	int r = run_bpf_devices_build(rules, n, &insns, &n_insns);
	if (r < 0)
		return cm_error_set(err, r, "building the device eBPF program");
	_cleanup_close_ int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return cm_error_setx(err, cm_neg_errno(), "opening the cgroup %s", cgroup_dir);
	_cleanup_close_ int prog = run_bpf_devices_load(insns, n_insns, err);
	if (prog < 0)
		return prog;
	/* ALLOW_MULTI: programs of the ancestors (systemd's) still run, and a
	 * device is allowed only if every one allows it. The attachment holds
	 * the program until the cgroup is removed; our fd can go. */
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cg;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if ((r = sys_bpf(BPF_PROG_ATTACH, &a)) < 0)
		return cm_error_setx(err, r, "attaching the device eBPF program to %s", cgroup_dir);
	return 0;
}
