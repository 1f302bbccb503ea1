// SPDX-License-Identifier: MIT
/* seccomp in docker's JSON profile format: defaultAction, defaultErrnoRet,
 * architectures or archMap, flags, and syscalls[] (name or names, action,
 * errnoRet, args, includes/excludes of caps, arches, minKernel), evaluated
 * as moby does against the container's capability set and compiled by
 * libseccomp into a BPF program before the clone. The container's process
 * loads it with seccomp(2) right before exec. The default profile is data in
 * the same format (seccomp-default.json, embedded), read by the same code as
 * a user's --security-opt seccomp=FILE. */
#include "run-internal.h"
#include "cm-fs.h"

#include <ctype.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

extern const char run_seccomp_default_json[]; /* seccomp-default.json, generated */

const char *run_seccomp_default_profile(void)
{
	return run_seccomp_default_json;
}

struct run_seccomp {
	struct sock_filter *insns;
	unsigned short n;
	unsigned flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

/* The profile's architecture names, libseccomp's, and the names moby's
 * includes/excludes "arches" use (Go's, mapped as moby maps them). */
static const struct {
	const char *token;
	uint32_t arch;
	const char *goname;
} arches[] = {
	{ "SCMP_ARCH_X86", SCMP_ARCH_X86, "x86" },
	{ "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64, "amd64" },
	{ "SCMP_ARCH_X32", SCMP_ARCH_X32, "x32" },
	{ "SCMP_ARCH_ARM", SCMP_ARCH_ARM, "arm" },
	{ "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64, "arm64" },
	{ "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS, "mips" },
	{ "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64, "mips64" },
	{ "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32, "mips64n32" },
	{ "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL, "mipsel" },
	{ "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64, "mipsel64" },
	{ "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32, "mips3l64n32" },
	{ "SCMP_ARCH_PPC", SCMP_ARCH_PPC, "ppc" },
	{ "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64, "ppc64" },
	{ "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE, "ppc64le" },
	{ "SCMP_ARCH_S390", SCMP_ARCH_S390, "s390" },
	{ "SCMP_ARCH_S390X", SCMP_ARCH_S390X, "s390x" },
	{ "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC, "parisc" },
	{ "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64, "parisc64" },
	{ "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64, "riscv64" },
#ifdef SCMP_ARCH_LOONGARCH64
	{ "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64, "loongarch64" },
#endif
};

/* Calls newer than this libseccomp (Debian 12's 2.5.4 knows names up to
 * 454 and numbers up to 456). Since 424 every architecture but alpha and
 * mips gives a call one number (x32: with its bit), so a rule without
 * arguments for one of these is compiled by us, as a prologue in front of
 * libseccomp's program: what the profile allows stays allowed here rather
 * than failing with EPERM. */
static const struct {
	const char *name;
	int nr;
} newer[] = {
	{ "cachestat", 451 }, { "fchmodat2", 452 }, { "map_shadow_stack", 453 },
	{ "futex_wake", 454 }, { "futex_wait", 455 }, { "futex_requeue", 456 },
	{ "statmount", 457 }, { "listmount", 458 }, { "lsm_get_self_attr", 459 },
	{ "lsm_set_self_attr", 460 }, { "lsm_list_modules", 461 }, { "mseal", 462 },
	{ "setxattrat", 463 }, { "getxattrat", 464 }, { "listxattrat", 465 },
	{ "removexattrat", 466 }, { "open_tree_attr", 467 },
};

struct sc_extra {
	int nr;
	uint32_t act; /* libseccomp's actions are the kernel's SECCOMP_RET_* values */
};

struct sc {
	scmp_filter_ctx f;
	uint32_t arch[CM_ARRAY_SIZE(arches)]; /* those in the filter */
	size_t n_arch;
	struct sc_extra extra[CM_ARRAY_SIZE(newer)];
	size_t n_extra;
	uint32_t def;        /* the default action */
	uint64_t caps;       /* the container's capability set (bounding) */
	const char *goarch;  /* the native arch, by moby's name */
	int kver[3];         /* the running kernel */
	unsigned flags;
	size_t n_rules;
	struct cm_error *err;
};

/* A call libseccomp does not know: one of the prologue's, or nothing. */
static void add_newer(struct sc *x, const char *name, uint32_t act, unsigned n_args)
{
#if !defined(__mips__) && !defined(__alpha__)
	for (size_t i = 0; n_args == 0 && i < CM_ARRAY_SIZE(newer); i++) {
		if (strcmp(newer[i].name, name) != 0)
			continue;
		for (size_t k = 0; k < x->n_extra; k++)
			if (x->extra[k].nr == newer[i].nr)
				return; /* the first rule for it wins */
		x->extra[x->n_extra++] = (struct sc_extra){ newer[i].nr, act };
		return;
	}
#else
	(void)x, (void)name, (void)act, (void)n_args;
#endif
}

static int parse_u64(const struct cm_json *v, uint64_t *ret)
{
	if (!cm_json_is(v, CM_JSON_NUMBER) || !v->s || !isdigit((unsigned char)v->s[0]))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v->s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = x;
	return 0;
}

/* An action name (and its errnoRet) into libseccomp's; EPERM when an
 * errno action gives none (runc's default). */
static int parse_action(struct sc *x, const char *name, const struct cm_json *errno_ret,
			uint32_t *ret)
{
	uint64_t e = EPERM;
	if (errno_ret && !cm_json_is(errno_ret, CM_JSON_NULL) &&
	    (parse_u64(errno_ret, &e) < 0 || e > 4095))
		return cm_error_set(x->err, -EINVAL, "seccomp profile: invalid errnoRet for %s", name ? name : "?");
	if (!name)
		return cm_error_set(x->err, -EINVAL, "seccomp profile: an action is missing");
	static const struct { const char *name; uint32_t act; } acts[] = {
		{ "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD }, { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
		{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS }, { "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
		{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW }, { "SCMP_ACT_LOG", SCMP_ACT_LOG },
	};
	for (size_t i = 0; i < CM_ARRAY_SIZE(acts); i++)
		if (strcmp(name, acts[i].name) == 0) {
			*ret = acts[i].act;
			return 0;
		}
	if (strcmp(name, "SCMP_ACT_ERRNO") == 0) {
		*ret = SCMP_ACT_ERRNO((uint16_t)e);
		return 0;
	}
	if (strcmp(name, "SCMP_ACT_TRACE") == 0) {
		*ret = SCMP_ACT_TRACE((uint16_t)e);
		return 0;
	}
	if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
		return cm_error_set(x->err, -ENOTSUP, "seccomp profile: SCMP_ACT_NOTIFY is not supported (no seccomp agent)");
	return cm_error_set(x->err, -EINVAL, "seccomp profile: unknown action %s", name);
}

static int parse_op(const char *s, enum scmp_compare *ret)
{
	static const struct { const char *name; enum scmp_compare op; } ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};
	for (size_t i = 0; s && i < CM_ARRAY_SIZE(ops); i++)
		if (strcmp(s, ops[i].name) == 0) {
			*ret = ops[i].op;
			return 0;
		}
	return -EINVAL;
}

static int arch_of_token(const char *token, uint32_t *ret)
{
	for (size_t i = 0; token && i < CM_ARRAY_SIZE(arches); i++)
		if (strcmp(token, arches[i].token) == 0) {
			*ret = arches[i].arch;
			return 0;
		}
	return -EINVAL;
}

static bool strv_has(const struct cm_json *arr, const char *s)
{
	for (size_t i = 0; cm_json_is(arr, CM_JSON_ARRAY) && i < arr->n; i++)
		if (cm_streq(cm_json_str(arr->v[i]), s))
			return true;
	return false;
}

static bool have_cap(const struct sc *x, const char *name)
{
	uint64_t m;
	/* a name we do not know is a capability nobody holds */
	return name && run_parse_cap(name, &m, NULL) == 0 && m != RUN_CAP_ALL && (x->caps & m) == m;
}

/* "4.8", "5.10.1": the kernel is at least that. */
static int kernel_at_least(const struct sc *x, const char *v, bool *ret)
{
	int want[3] = { 0, 0, 0 }, n = 0;
	const char *p = v;
	while (p && n < 3) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		want[n++] = (int)strtol(p, (char **)&p, 10);
		if (*p == '\0')
			break;
		if (*p++ != '.')
			return -EINVAL;
	}
	if (!p || *p || n < 2)
		return -EINVAL;
	int c = 0;
	for (int i = 0; i < 3 && c == 0; i++)
		c = x->kver[i] < want[i] ? -1 : x->kver[i] > want[i];
	*ret = c >= 0;
	return 0;
}

/* moby's includes/excludes: does the rule apply to this container? */
static int rule_applies(struct sc *x, const struct cm_json *rule, bool *ret)
{
	const struct cm_json *ex = cm_json_get(rule, "excludes"), *in = cm_json_get(rule, "includes");
	bool ok;
	*ret = false;
	if (cm_json_is(ex, CM_JSON_OBJECT)) {
		if (strv_has(cm_json_get(ex, "arches"), x->goarch))
			return 0;
		const struct cm_json *caps = cm_json_get(ex, "caps");
		for (size_t i = 0; cm_json_is(caps, CM_JSON_ARRAY) && i < caps->n; i++)
			if (have_cap(x, cm_json_str(caps->v[i])))
				return 0;
		const char *mk = cm_json_get_str(ex, "minKernel");
		if (mk && kernel_at_least(x, mk, &ok) < 0)
			return cm_error_set(x->err, -EINVAL, "seccomp profile: invalid minKernel '%s'", mk);
		if (mk && ok)
			return 0;
	}
	if (cm_json_is(in, CM_JSON_OBJECT)) {
		const struct cm_json *ar = cm_json_get(in, "arches");
		if (cm_json_is(ar, CM_JSON_ARRAY) && ar->n && !strv_has(ar, x->goarch))
			return 0;
		const struct cm_json *caps = cm_json_get(in, "caps");
		for (size_t i = 0; cm_json_is(caps, CM_JSON_ARRAY) && i < caps->n; i++)
			if (!have_cap(x, cm_json_str(caps->v[i])))
				return 0;
		const char *mk = cm_json_get_str(in, "minKernel");
		if (mk && kernel_at_least(x, mk, &ok) < 0)
			return cm_error_set(x->err, -EINVAL, "seccomp profile: invalid minKernel '%s'", mk);
		if (mk && !ok)
			return 0;
	}
	*ret = true;
	return 0;
}

/* One name of a rule. Conditions on distinct arguments are one rule (all
 * must hold); two on the same argument become a rule each (either may
 * hold), as runc adds them. */
static int add_call(struct sc *x, const char *name, uint32_t act, const struct scmp_arg_cmp *c,
		    unsigned n, bool separate)
{
	if (act == x->def)
		return 0; /* what the default does anyway (libseccomp refuses it) */
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR) {
		/* newer than libseccomp, or not a call of this architecture */
		add_newer(x, name, act, n);
		return 0;
	}
	int r = 0;
	if (separate)
		for (unsigned i = 0; i < n && r == 0; i++)
			r = seccomp_rule_add_array(x->f, act, nr, 1, &c[i]);
	else
		r = seccomp_rule_add_array(x->f, act, nr, n, c);
	if (r < 0)
		return cm_error_set(x->err, r, "seccomp profile: rule for %s: %s", name, strerror(-r));
	x->n_rules++;
	return 0;
}

static int add_rule(struct sc *x, const struct cm_json *rule)
{
	if (!cm_json_is(rule, CM_JSON_OBJECT))
		return cm_error_set(x->err, -EINVAL, "seccomp profile: a syscalls entry is not an object");
	const struct cm_json *names = cm_json_get(rule, "names");
	const char *name = cm_json_get_str(rule, "name");
	if (name && cm_json_is(names, CM_JSON_ARRAY) && names->n)
		return cm_error_set(x->err, -EINVAL, "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
	bool applies;
	int r = rule_applies(x, rule, &applies);
	if (r < 0 || !applies)
		return r;
	uint32_t act;
	if ((r = parse_action(x, cm_json_get_str(rule, "action"), cm_json_get(rule, "errnoRet"), &act)) < 0)
		return r;
	struct scmp_arg_cmp c[6];
	unsigned n = 0, seen = 0;
	bool separate = false;
	const struct cm_json *args = cm_json_get(rule, "args");
	for (size_t i = 0; cm_json_is(args, CM_JSON_ARRAY) && i < args->n; i++) {
		const struct cm_json *a = args->v[i];
		uint64_t idx, v1, v2 = 0;
		enum scmp_compare op;
		const struct cm_json *two = cm_json_get(a, "valueTwo");
		if (n == CM_ARRAY_SIZE(c) || parse_u64(cm_json_get(a, "index"), &idx) < 0 || idx > 5 ||
		    parse_u64(cm_json_get(a, "value"), &v1) < 0 ||
		    (two && parse_u64(two, &v2) < 0) || parse_op(cm_json_get_str(a, "op"), &op) < 0)
			return cm_error_set(x->err, -EINVAL, "seccomp profile: invalid args of %s",
					    name ? name : names && names->n ? cm_json_str(names->v[0]) : "?");
		if (seen & (1u << idx))
			separate = true;
		seen |= 1u << idx;
		c[n++] = (struct scmp_arg_cmp){ .arg = (unsigned)idx, .op = op, .datum_a = v1, .datum_b = v2 };
	}
	if (name)
		return add_call(x, name, act, c, n, separate);
	for (size_t i = 0; cm_json_is(names, CM_JSON_ARRAY) && i < names->n; i++) {
		const char *nm = cm_json_str(names->v[i]);
		if (!nm || !*nm)
			return cm_error_set(x->err, -EINVAL, "seccomp profile: a syscall name is not a string");
		if ((r = add_call(x, nm, act, c, n, separate)) < 0)
			return r;
	}
	return 0;
}

static int add_arch(struct sc *x, const char *token)
{
	uint32_t a;
	if (arch_of_token(token, &a) < 0)
		return cm_error_set(x->err, -EINVAL, "seccomp profile: unknown architecture %s", token ? token : "?");
	int r = seccomp_arch_add(x->f, a);
	if (r < 0 && r != -EEXIST)
		return cm_error_set(x->err, r, "seccomp: architecture %s: %s", token, strerror(-r));
	for (size_t i = 0; i < x->n_arch; i++)
		if (x->arch[i] == a)
			return 0;
	if (x->n_arch < CM_ARRAY_SIZE(x->arch))
		x->arch[x->n_arch++] = a;
	return 0;
}

static int add_arches(struct sc *x, const struct cm_json *prof)
{
	const struct cm_json *list = cm_json_get(prof, "architectures"), *map = cm_json_get(prof, "archMap");
	bool has_list = cm_json_is(list, CM_JSON_ARRAY) && list->n, has_map = cm_json_is(map, CM_JSON_ARRAY) && map->n;
	int r;
	if (has_list && has_map)
		return cm_error_set(x->err, -EINVAL, "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
	for (size_t i = 0; has_list && i < list->n; i++)
		if ((r = add_arch(x, cm_json_str(list->v[i]))) < 0)
			return r;
	/* archMap: the native architecture's entry and its sub-architectures */
	uint32_t native = seccomp_arch_native();
	for (size_t i = 0; has_map && i < map->n; i++) {
		uint32_t a;
		if (arch_of_token(cm_json_get_str(map->v[i], "architecture"), &a) < 0 || a != native)
			continue;
		const struct cm_json *sub = cm_json_get(map->v[i], "subArchitectures");
		for (size_t k = 0; cm_json_is(sub, CM_JSON_ARRAY) && k < sub->n; k++)
			if ((r = add_arch(x, cm_json_str(sub->v[k]))) < 0)
				return r;
		break;
	}
	return 0;
}

static int parse_flags(struct sc *x, const struct cm_json *flags)
{
	for (size_t i = 0; cm_json_is(flags, CM_JSON_ARRAY) && i < flags->n; i++) {
		const char *f = cm_json_str(flags->v[i]);
		if (cm_streq(f, "SECCOMP_FILTER_FLAG_TSYNC"))
			continue; /* one thread: nothing to synchronise */
		else if (cm_streq(f, "SECCOMP_FILTER_FLAG_LOG"))
			x->flags |= SECCOMP_FILTER_FLAG_LOG;
		else if (cm_streq(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			x->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
		else
			return cm_error_set(x->err, -EINVAL, "seccomp flag %s is not known", f ? f : "?");
	}
	return 0;
}

#define X32_BIT 0x40000000u

/* One block of the prologue: the calls (and with x32 their x32 numbers),
 * each "jeq nr; ret action", then a jump over what follows to the end. */
static size_t prologue_block(const struct sc *x, bool x32, struct sock_filter *p, size_t at,
			     size_t end)
{
	p[at++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (int pass = 0; pass < (x32 ? 2 : 1); pass++)
		for (size_t i = 0; i < x->n_extra; i++) {
			uint32_t nr = (uint32_t)x->extra[i].nr | (pass ? X32_BIT : 0);
			p[at++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
			p[at++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, x->extra[i].act);
		}
	p[at] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(end - at - 1));
	return at + 1;
}

/* The calls newer than libseccomp (see `newer`), ahead of its program:
 *   ld arch; jeq X86_64 -> B; jeq A1..An -> A; ja END
 *   A: ld nr; (jeq nr; ret act)*; ja END
 *   B: the same, plus the x32 numbers when x32 is in the filter
 * Only the filter's own architectures are matched, so nothing another
 * architecture could reach is opened; the rest falls through to
 * libseccomp's program, which checks the architecture again. */
static size_t prologue(const struct sc *x, struct sock_filter *p)
{
	uint32_t plain[CM_ARRAY_SIZE(arches)];
	size_t np = 0;
	bool x86_64 = false, x32 = false;
	for (size_t i = 0; i < x->n_arch; i++) {
		uint32_t a = x->arch[i];
		if (a == SCMP_ARCH_X86_64)
			x86_64 = true;
		else if (a == SCMP_ARCH_X32)
			x32 = true;
		else if (a != SCMP_ARCH_MIPS && a != SCMP_ARCH_MIPS64 && a != SCMP_ARCH_MIPS64N32 &&
			 a != SCMP_ARCH_MIPSEL && a != SCMP_ARCH_MIPSEL64 && a != SCMP_ARCH_MIPSEL64N32)
			plain[np++] = a;
	}
	if (!x->n_extra || (!x86_64 && !x32 && !np))
		return 0;
	bool b = x86_64 || x32; /* the X86_64 audit arch carries both */
	size_t n_heads = 1 + (b ? 1 : 0) + np + 1;
	size_t len_a = np ? 1 + 2 * x->n_extra + 1 : 0;
	size_t len_b = b ? 1 + 2 * x->n_extra * ((x86_64 ? 1 : 0) + (x32 ? 1 : 0)) + 1 : 0;
	size_t end = n_heads + len_a + len_b, at = 0;
	size_t start_a = n_heads, start_b = n_heads + len_a;
	p[at++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	if (b) {
		p[at] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SCMP_ARCH_X86_64,
						     (uint8_t)(start_b - at - 1), 0);
		at++;
	}
	for (size_t i = 0; i < np; i++, at++)
		p[at] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, plain[i],
						     (uint8_t)(start_a - at - 1), 0);
	p[at] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(end - at - 1));
	at++;
	if (np)
		at = prologue_block(x, false, p, at, end);
	if (b) {
		/* x86_64 numbers only if x86_64 is in, x32 ones only if x32 is */
		struct sc only = *x;
		if (!x86_64) { /* x32 alone: the x32 pass only */
			for (size_t i = 0; i < only.n_extra; i++)
				only.extra[i].nr = (int)((uint32_t)only.extra[i].nr | X32_BIT);
			at = prologue_block(&only, false, p, at, end);
		} else {
			at = prologue_block(x, x32, p, at, end);
		}
	}
	return at;
}

/* libseccomp 2.5 exports to an fd only: a memfd, read back. */
static int export_bpf(struct sc *x, struct run_seccomp *s)
{
	_cleanup_close_ int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return cm_error_setx(x->err, cm_neg_errno(), "seccomp: memfd");
	int r = seccomp_export_bpf(x->f, fd);
	if (r < 0)
		return cm_error_set(x->err, r, "seccomp: generating the filter: %s", strerror(-r));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return cm_error_setx(x->err, cm_neg_errno(), "seccomp: the filter");
	size_t n = (size_t)st.st_size / sizeof(struct sock_filter);
	/* the prologue's bound: 3 heads + a jump per architecture, then two
	 * blocks of 2 + 2 per call (the x86_64 one + 2 more for x32) */
	size_t pmax = 3 + CM_ARRAY_SIZE(arches) + 4 + 6 * CM_ARRAY_SIZE(newer);
	if (n == 0 || n + pmax > BPF_MAXINSNS)
		return cm_error_set(x->err, -E2BIG, "seccomp: the filter has %zu instructions (at most %d)", n, BPF_MAXINSNS);
	if (!(s->insns = malloc((n + pmax) * sizeof(struct sock_filter))))
		return cm_error_set(x->err, -ENOMEM, "seccomp: out of memory");
	size_t np = prologue(x, s->insns);
	if (pread(fd, s->insns + np, n * sizeof(struct sock_filter), 0) != (ssize_t)(n * sizeof(struct sock_filter)))
		return cm_error_setx(x->err, cm_neg_errno(), "seccomp: reading the filter");
	s->n = (unsigned short)(np + n);
	return 0;
}

static void native_names(struct sc *x)
{
	uint32_t native = seccomp_arch_native();
	x->goarch = "";
	for (size_t i = 0; i < CM_ARRAY_SIZE(arches); i++)
		if (arches[i].arch == native)
			x->goarch = arches[i].goname;
	struct utsname u;
	if (uname(&u) == 0)
		(void)sscanf(u.release, "%d.%d.%d", &x->kver[0], &x->kver[1], &x->kver[2]);
}

int run_seccomp_compile_profile(const char *json, size_t len, uint64_t caps,
				struct run_seccomp **ret, struct cm_error *err)
{
	char where[128] = "";
	_cleanup_json_ struct cm_json *prof = NULL;
	*ret = NULL;
	int r = cm_json_parse(json, len, &prof, where, sizeof(where));
	if (r < 0)
		return cm_error_set(err, r, "Decoding seccomp profile failed: %s", where[0] ? where : strerror(-r));
	if (!cm_json_is(prof, CM_JSON_OBJECT))
		return cm_error_set(err, -EINVAL, "Decoding seccomp profile failed: not a JSON object");
	const struct cm_json *calls = cm_json_get(prof, "syscalls");
	const char *def = cm_json_get_str(prof, "defaultAction");
	/* moby: neither a default action nor rules is no filter at all */
	if (!def && !(cm_json_is(calls, CM_JSON_ARRAY) && calls->n))
		return 0;
	struct sc x = { .caps = caps, .err = err };
	native_names(&x);
	x.arch[x.n_arch++] = seccomp_arch_native();
	if ((r = parse_action(&x, def, cm_json_get(prof, "defaultErrnoRet"), &x.def)) < 0)
		return r;
	if (x.def == SCMP_ACT_ALLOW && !(cm_json_is(calls, CM_JSON_ARRAY) && calls->n))
		return 0; /* allow everything: nothing to load */
	if (!(x.f = seccomp_init(x.def)))
		return cm_error_set(err, -ENOMEM, "seccomp: cannot make a filter");
	struct run_seccomp *s = calloc(1, sizeof(*s));
	if (!s)
		r = cm_error_set(err, -ENOMEM, "seccomp: out of memory");
	if (r == 0)
		r = add_arches(&x, prof);
	if (r == 0)
		r = parse_flags(&x, cm_json_get(prof, "flags"));
	for (size_t i = 0; r == 0 && cm_json_is(calls, CM_JSON_ARRAY) && i < calls->n; i++)
		r = add_rule(&x, calls->v[i]);
	/* a binary tree of the calls past some rules (runc's threshold) */
	if (r == 0 && x.n_rules > 32)
		(void)seccomp_attr_set(x.f, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r == 0)
		r = export_bpf(&x, s);
	seccomp_release(x.f);
	if (r < 0) {
		run_seccomp_free(s);
		return r;
	}
	s->flags = x.flags;
	*ret = s;
	return 0;
}

/* ------------------------------------------------------------ the cache */

/* libseccomp's BPF generation is slow (15-40 ms for docker's profile on
 * three architectures here, every start and every exec): compiled filters
 * are kept in RUN/seccomp/ (RUN: the store's run dir, root's, 0700, never
 * seen by a container), one file a key. The key is everything the program
 * depends on, kept whole in the file and compared byte for byte on a hit
 * (its FNV-1a hash only names the file): this format's version, the
 * libseccomp version, the kernel release (minKernel), the architecture,
 * the capability set and the profile's text. */
/* bump with any change to what a profile compiles to (files of another
 * version are then ignored and replaced) */
#define CACHE_MAGIC "img-seccomp 1\n"

static int cache_key(const struct run_config *c, const char *json, char **ret)
{
	const struct scmp_version *v = seccomp_version();
	struct utsname u;
	if (uname(&u) < 0)
		return cm_neg_errno();
	return asprintf(ret, "%u.%u.%u\n%s\n%u\n%016llx\n%s", v->major, v->minor, v->micro,
			u.release, seccomp_arch_native(), (unsigned long long)run_caps_effective(c),
			json) < 0 ? -ENOMEM : 0;
}

/* RUN/seccomp/HASH.bpf for the container of bundle RUN/containers/ID */
static int cache_path(const char *bundle, const char *key, char *buf, size_t sz, size_t *ret_dirlen)
{
	const char *end = bundle ? strrchr(bundle, '/') : NULL;
	while (end && end > bundle && end[-1] == '/')
		end--;
	const char *mid = end ? end : NULL;
	while (mid && mid > bundle && mid[-1] != '/')
		mid--;
	if (!mid || mid == bundle)
		return -ENOENT;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const char *k = key; *k; k++)
		h = (h ^ (unsigned char)*k) * 0x100000001b3ULL;
	int dl = snprintf(buf, sz, "%.*sseccomp", (int)(mid - bundle), bundle);
	if (dl < 0 || (size_t)dl >= sz ||
	    snprintf(buf + dl, sz - (size_t)dl, "/%016llx.bpf", (unsigned long long)h) >= (int)(sz - (size_t)dl))
		return -ENAMETOOLONG;
	*ret_dirlen = (size_t)dl;
	return 0;
}

/* A file of ours: magic, the key's length and bytes, flags, count, insns. */
static int cache_load(const char *path, const char *key, struct run_seccomp **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len, kl = strlen(key), ml = strlen(CACHE_MAGIC);
	int r = run_read_file_at(AT_FDCWD, path, ml + 12 + kl + 8 * BPF_MAXINSNS + 1, &buf, &len);
	if (r < 0)
		return r;
	uint32_t hdr[3];
	if (len < ml + 4 + kl + 8 || memcmp(buf, CACHE_MAGIC, ml) != 0)
		return -EINVAL;
	memcpy(&hdr[0], buf + ml, 4);
	if (hdr[0] != kl || memcmp(buf + ml + 4, key, kl) != 0)
		return -ESTALE; /* another key with the same hash */
	memcpy(&hdr[1], buf + ml + 4 + kl, 8);
	size_t off = ml + 4 + kl + 8;
	if (hdr[2] == 0 || hdr[2] > BPF_MAXINSNS || len != off + hdr[2] * sizeof(struct sock_filter))
		return -EINVAL;
	struct run_seccomp *s = calloc(1, sizeof(*s));
	if (!s || !(s->insns = malloc(hdr[2] * sizeof(struct sock_filter)))) {
		free(s);
		return -ENOMEM;
	}
	memcpy(s->insns, buf + off, hdr[2] * sizeof(struct sock_filter));
	s->n = (unsigned short)hdr[2];
	s->flags = hdr[1];
	*ret = s;
	return 0;
}

/* Best effort: written aside, published by rename. */
static void cache_store(char *path, size_t dirlen, const char *key, const struct run_seccomp *s)
{
	path[dirlen] = '\0';
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		path[dirlen] = '/';
		return;
	}
	path[dirlen] = '/';
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		return;
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	uint32_t hdr[3] = { (uint32_t)strlen(key), s->flags, s->n };
	bool ok = cm_write_all(fd, CACHE_MAGIC, strlen(CACHE_MAGIC)) == 0 &&
		  cm_write_all(fd, &hdr[0], 4) == 0 && cm_write_all(fd, key, hdr[0]) == 0 &&
		  cm_write_all(fd, &hdr[1], 8) == 0 &&
		  cm_write_all(fd, s->insns, s->n * sizeof(struct sock_filter)) == 0;
	if (!ok || rename(tmp, path) < 0)
		(void)unlink(tmp);
}

int run_seccomp_compile(const struct run_config *c, struct run_seccomp **ret, struct cm_error *err)
{
	*ret = NULL;
	/* docker: --privileged and seccomp=unconfined run without a filter */
	if (c->privileged || cm_streq(c->seccomp, "unconfined"))
		return 0;
	const char *json = c->seccomp ? c->seccomp : run_seccomp_default_json;
	_cleanup_free_ char *key = NULL;
	char path[PATH_MAX];
	size_t dirlen = 0;
	bool cached = cache_key(c, json, &key) == 0 &&
		      cache_path(c->bundle, key, path, sizeof(path), &dirlen) == 0;
	if (cached && cache_load(path, key, ret) == 0)
		return 0;
	int r = run_seccomp_compile_profile(json, strlen(json), run_caps_effective(c), ret, err);
	if (r < 0 && !c->seccomp)
		return cm_error_prefix(err, r, "the default seccomp profile");
	if (r == 0 && cached && *ret)
		cache_store(path, dirlen, key, *ret);
	return r;
}

int run_seccomp_check(const struct run_config *c, struct cm_error *err)
{
	struct run_seccomp *s = NULL;
	int r = run_seccomp_compile(c, &s, err);
	run_seccomp_free(s);
	return r;
}

int run_seccomp_load(const struct run_seccomp *s)
{
	struct sock_fprog prog = { .len = s->n, .filter = s->insns };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &prog) < 0)
		return cm_neg_errno();
	return 0;
}

void run_seccomp_free(struct run_seccomp *s)
{
	if (!s)
		return;
	free(s->insns);
	free(s);
}

void run_seccomp_freep(struct run_seccomp **s)
{
	run_seccomp_free(*s);
}
