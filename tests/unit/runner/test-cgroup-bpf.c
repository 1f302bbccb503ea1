// SPDX-License-Identifier: MIT
/* Unit tests of the device rules (runner/cgroup.c: the v1 lines) and of the
 * v2 eBPF program generated from them (runner/cgroup-bpf.c): its shape, and
 * its verdicts run through a small interpreter of the instructions it uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "run-internal.h"

/* The lines v1 wrote before the list was shared (docker's default set). */
static void test_v1_lines(void **state)
{
	static const char *const want[] = {
		"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
		"c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
	};
	char b[64];
	assert_int_equal(run_cgroup_n_default_devices, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < run_cgroup_n_default_devices; i++) {
		assert_int_equal(run_dev_rule_format(&run_cgroup_default_devices[i], b, sizeof(b)), 0);
		assert_string_equal(b, want[i]);
	}
	struct run_dev_rule r = { 'a', -1, 7, RUN_DEV_READ | RUN_DEV_WRITE };
	assert_int_equal(run_dev_rule_format(&r, b, sizeof(b)), 0);
	assert_string_equal(b, "a *:7 rw");
	assert_int_equal(run_dev_rule_format(&r, b, 6), -ENAMETOOLONG);
	r.type = 'x';
	assert_int_equal(run_dev_rule_format(&r, b, sizeof(b)), -EINVAL);
}

/* Run prog on one request, as the kernel would: the instructions the
 * generator emits, nothing else (anything else fails the test). Checks
 * that every jump lands inside the program and every path exits. */
static int run_prog(const struct bpf_insn *p, size_t n, int type, unsigned access,
		    uint32_t major, uint32_t minor)
{
	struct bpf_cgroup_dev_ctx ctx = { .access_type = (access << 16) | (unsigned)type,
					  .major = major, .minor = minor };
	uint64_t reg[11] = { 0 };
	size_t pc = 0;
	for (int steps = 0; steps < 4096; steps++) {
		assert_true(pc < n);
		const struct bpf_insn *i = &p[pc++];
		uint64_t imm = (uint64_t)(int64_t)i->imm;
		switch (i->code) {
		case BPF_LDX | BPF_W | BPF_MEM:
			assert_int_equal(i->src_reg, BPF_REG_1);
			assert_true(i->off >= 0 && (size_t)i->off + 4 <= sizeof(ctx));
			uint32_t v;
			memcpy(&v, (const char *)&ctx + i->off, 4);
			reg[i->dst_reg] = v;
			break;
		case BPF_ALU64 | BPF_AND | BPF_K: reg[i->dst_reg] &= imm; break;
		case BPF_ALU64 | BPF_RSH | BPF_K: reg[i->dst_reg] >>= i->imm; break;
		case BPF_ALU64 | BPF_MOV | BPF_K: reg[i->dst_reg] = imm; break;
		case BPF_JMP | BPF_JNE | BPF_K:
			assert_true(i->off > 0); /* forward only */
			if (reg[i->dst_reg] != imm)
				pc += (size_t)i->off;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			assert_true(i->off > 0);
			if (reg[i->dst_reg] & imm)
				pc += (size_t)i->off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)reg[BPF_REG_0];
		default:
			fail_msg("unexpected opcode 0x%x at %zu", i->code, pc - 1);
		}
	}
	fail_msg("no exit");
	return -1;
}

/* Every check that fails goes to the next rule: a jump lands just after
 * an exit, never in the middle of a block. */
static void check_jumps(const struct bpf_insn *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (BPF_CLASS(p[i].code) != BPF_JMP || BPF_OP(p[i].code) == BPF_EXIT)
			continue;
		size_t to = i + 1 + (size_t)p[i].off;
		assert_true(p[i].off > 0 && to < n);
		if (p[to - 1].code != (BPF_JMP | BPF_EXIT))
			fail_msg("the jump at %zu lands inside a rule (at %zu)", i, to);
	}
}

enum { C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK };
enum { M = BPF_DEVCG_ACC_MKNOD, R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE };

static void test_default_program(void **state)
{
	struct bpf_insn *p = NULL;
	size_t n = 0;
	assert_int_equal(run_bpf_devices_build(run_cgroup_default_devices,
					       run_cgroup_n_default_devices, &p, &n), 0);
	/* prologue 6; "c *:* m", "b *:* m": type + access + 2; seven c MAJ:MIN
	 * rwm: type + major + minor + 2; "c 136:* rwm": 4; deny 2 */
	assert_int_equal(n, 6 + 4 + 4 + 8 * 5 + 4 + 2);
	assert_int_equal(p[0].code, BPF_LDX | BPF_W | BPF_MEM);
	assert_int_equal(p[0].off, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	assert_int_equal(p[n - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
	assert_int_equal(p[n - 2].imm, 0);
	assert_int_equal(p[n - 1].code, BPF_JMP | BPF_EXIT);
	check_jumps(p, n);

	static const struct {
		int type;
		unsigned access;
		uint32_t major, minor;
		int allow;
	} cases[] = {
		{ C, R | W, 1, 3, 1 },     /* null */
		{ C, R, 1, 5, 1 },         /* zero */
		{ C, W, 1, 7, 1 },         /* full */
		{ C, R, 1, 8, 1 },         /* random */
		{ C, R | W, 1, 9, 1 },     /* urandom */
		{ C, R | W, 5, 0, 1 },     /* tty */
		{ C, R | W, 5, 2, 1 },     /* ptmx */
		{ C, R | W, 136, 0, 1 },   /* pts/0 */
		{ C, R | W, 136, 4095, 1 },
		{ C, M, 10, 200, 1 },      /* mknod of anything */
		{ B, M, 8, 0, 1 },
		{ B, R, 8, 0, 0 },         /* a disk: denied */
		{ B, W, 254, 0, 0 },
		{ B, R | M, 8, 0, 0 },
		{ C, R, 1, 1, 0 },         /* mem */
		{ C, R, 1, 11, 0 },        /* kmsg */
		{ C, R | W, 10, 200, 0 },  /* tun */
		{ C, R, 5, 3, 0 },
		{ C, R, 137, 0, 0 },
		{ B, R, 1, 3, 0 },         /* null's numbers as a block device */
		{ B, R, 136, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int v = run_prog(p, n, cases[i].type, cases[i].access, cases[i].major, cases[i].minor);
		if (v != cases[i].allow)
			fail_msg("case %zu: %c %u:%u access %u: got %d", i, cases[i].type == C ? 'c' : 'b',
				 cases[i].major, cases[i].minor, cases[i].access, v);
	}
	free(p);
}

static void test_edge_rules(void **state)
{
	struct bpf_insn *p = NULL;
	size_t n = 0;
	/* no rule: deny all */
	assert_int_equal(run_bpf_devices_build(NULL, 0, &p, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(run_prog(p, n, C, R, 1, 3), 0);
	free(p);
	/* a rule that allows everything ends the program there */
	struct run_dev_rule all[] = { { 'a', -1, -1, RUN_DEV_RWM }, { 'c', 1, 3, RUN_DEV_RWM } };
	assert_int_equal(run_bpf_devices_build(all, 2, &p, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(run_prog(p, n, B, R | W, 8, 0), 1);
	free(p);
	/* 'a' with numbers: both types, read only */
	struct run_dev_rule both[] = { { 'a', 7, -1, RUN_DEV_READ } };
	assert_int_equal(run_bpf_devices_build(both, 1, &p, &n), 0);
	assert_int_equal(n, 6 + 4 + 2);
	check_jumps(p, n);
	assert_int_equal(run_prog(p, n, B, R, 7, 3), 1);
	assert_int_equal(run_prog(p, n, C, R, 7, 0), 1);
	assert_int_equal(run_prog(p, n, B, R | W, 7, 3), 0);
	assert_int_equal(run_prog(p, n, B, M, 7, 3), 0);
	assert_int_equal(run_prog(p, n, B, R, 8, 3), 0);
	free(p);
	/* malformed rules */
	struct run_dev_rule bad[] = { { 'x', 1, 3, RUN_DEV_RWM } };
	assert_int_equal(run_bpf_devices_build(bad, 1, &p, &n), -EINVAL);
	bad[0] = (struct run_dev_rule){ 'c', -2, 3, RUN_DEV_RWM };
	assert_int_equal(run_bpf_devices_build(bad, 1, &p, &n), -EINVAL);
	bad[0] = (struct run_dev_rule){ 'c', 1, 3, 8 };
	assert_int_equal(run_bpf_devices_build(bad, 1, &p, &n), -EINVAL);
}

/* The kernel's verifier on the default program, and its reason for a bad
 * one; skipped without the privilege to load (a unit test needs none). */
static void test_load(void **state)
{
	struct cm_error e = { 0 };
	struct bpf_insn *p = NULL;
	size_t n = 0;
	assert_int_equal(run_bpf_devices_build(run_cgroup_default_devices,
					       run_cgroup_n_default_devices, &p, &n), 0);
	int fd = run_bpf_devices_load(p, n, &e);
	free(p);
	if (fd == -EPERM || fd == -ENOSYS) {
		skip();
		return;
	}
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	/* exit with r0 never set: refused, with the verifier's reason */
	struct bpf_insn bad[] = { { .code = BPF_JMP | BPF_EXIT } };
	assert_int_equal(run_bpf_devices_load(bad, 1, &e), -EACCES);
	assert_non_null(strstr(e.msg, "loading the device eBPF program: Permission denied (verifier: "));
	assert_non_null(strstr(e.msg, "R0"));
	assert_null(strchr(e.msg, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_lines),
		cmocka_unit_test(test_default_program),
		cmocka_unit_test(test_edge_rules),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
