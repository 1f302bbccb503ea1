// SPDX-License-Identifier: MIT
/* Unit tests of the Containerfile parser (builder/parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bld.h"

static struct bld_file parse_ok(const char *text)
{
	struct bld_file f = { 0 };
	struct cm_error e = { 0 };
	if (bld_parse("Containerfile", text, strlen(text), &f, &e) < 0)
		fail_msg("parse: %s", e.msg);
	return f;
}

static void parse_bad(const char *text, const char *want)
{
	struct bld_file f = { 0 };
	struct cm_error e = { 0 };
	assert_int_equal(bld_parse("Dockerfile", text, strlen(text), &f, &e), -EINVAL);
	if (!strstr(e.msg, want))
		fail_msg("error '%s' does not hold '%s'", e.msg, want);
	assert_null(f.v);
}

static void test_instructions(void **state)
{
	(void)state;
	struct bld_file f = parse_ok(
		"# a comment\n"
		"ARG BASE=busybox\n"
		"FROM ${BASE} AS build\n"
		"run echo hi\n"
		"RUN [\"/bin/sh\", \"-c\", \"echo x\"]\n"
		"COPY --from=build --chown=1:2 a b /dst/\n"
		"ADD --chmod=0644 x.tar /\n"
		"ENV A=1 B=\"two words\"\n"
		"LABEL k=v\n"
		"MAINTAINER me <me@example.org>\n"
		"EXPOSE 80/tcp 53/udp\n"
		"VOLUME [\"/data\"]\n"
		"USER 1000:1000\n"
		"WORKDIR /w\n"
		"ONBUILD RUN echo trig\n"
		"STOPSIGNAL SIGTERM\n"
		"HEALTHCHECK --interval=5s CMD [\"true\"]\n"
		"SHELL [\"/bin/sh\", \"-ec\"]\n"
		"CMD [\"sh\"]\n"
		"ENTRYPOINT echo\n");
	assert_int_equal(f.n, 19);
	assert_int_equal(f.v[0].kind, BLD_ARG);
	assert_int_equal(f.v[1].kind, BLD_FROM);
	assert_int_equal(f.v[1].line, 3);
	assert_string_equal(f.v[1].args, "${BASE} AS build");
	assert_int_equal(f.v[2].kind, BLD_RUN);
	assert_false(f.v[2].json);
	assert_string_equal(f.v[2].args, "echo hi");
	assert_true(f.v[3].json);
	assert_int_equal(f.v[3].n_argv, 3);
	assert_string_equal(f.v[3].argv[2], "echo x");
	assert_int_equal(f.v[4].kind, BLD_COPY);
	assert_int_equal(f.v[4].n_flags, 2);
	assert_string_equal(bld_flag(&f.v[4], "from"), "build");
	assert_string_equal(bld_flag(&f.v[4], "chown"), "1:2");
	assert_null(bld_flag(&f.v[4], "chmod"));
	assert_string_equal(f.v[4].args, "a b /dst/");
	assert_string_equal(bld_flag(&f.v[5], "chmod"), "0644");
	assert_int_equal(f.v[13].kind, BLD_ONBUILD);
	assert_non_null(f.v[13].sub);
	assert_int_equal(f.v[13].sub->kind, BLD_RUN);
	assert_string_equal(f.v[13].args, "RUN echo trig");
	assert_int_equal(f.v[15].kind, BLD_HEALTHCHECK);
	assert_true(f.v[15].json);
	assert_string_equal(bld_flag(&f.v[15], "interval"), "5s");
	assert_int_equal(f.v[16].n_argv, 2);
	assert_int_equal(f.v[18].kind, BLD_ENTRYPOINT);
	assert_false(f.v[18].json);
	bld_file_free(&f);
}

static void test_continuations(void **state)
{
	(void)state;
	struct bld_file f = parse_ok(
		"FROM scratch\n"
		"RUN echo a \\\n"
		"# a comment inside\n"
		"\n"
		"    b \\  \n"
		"  c\n"
		"RUN echo d\\\n");
	assert_int_equal(f.n, 3);
	assert_string_equal(f.v[1].args, "echo a     b   c");
	assert_int_equal(f.v[1].line, 2);
	assert_int_equal(f.v[2].line, 7);
	assert_string_equal(f.v[2].args, "echo d");
	bld_file_free(&f);
}

static void test_directives(void **state)
{
	(void)state;
	struct bld_file f = parse_ok(
		"# syntax=docker/dockerfile:1\n"
		"# escape=`\n"
		"FROM scratch\n"
		"RUN echo a `\n"
		"  b\\c\n");
	assert_int_equal(f.escape, '`');
	assert_string_equal(f.syntax, "docker/dockerfile:1");
	assert_string_equal(f.v[1].args, "echo a   b\\c");
	bld_file_free(&f);
	/* a directive after a comment is a comment */
	f = parse_ok("# hello\n# escape=`\nFROM scratch\nRUN a \\\n b\n");
	assert_int_equal(f.escape, '\\');
	assert_int_equal(f.n, 2);
	bld_file_free(&f);
	parse_bad("# escape=x\nFROM scratch\n", "Dockerfile:1: invalid escape token");
	parse_bad("# escape=`\n# escape=\\\nFROM scratch\n", "only one escape");
}

static void test_heredocs(void **state)
{
	(void)state;
	struct bld_file f = parse_ok(
		"FROM scratch\n"
		"RUN <<EOF\n"
		"echo one\n"
		"echo two\n"
		"EOF\n"
		"COPY <<-\"A\" <<B /dst/\n"
		"\t\tliteral $x\n"
		"\tA\n"
		"b $y\n"
		"B\n"
		"RUN echo after\n");
	assert_int_equal(f.n, 4);
	assert_int_equal(f.v[1].n_heredocs, 1);
	assert_string_equal(f.v[1].heredocs[0].name, "EOF");
	assert_string_equal(f.v[1].heredocs[0].body, "echo one\necho two\n");
	assert_true(f.v[1].heredocs[0].expand);
	assert_int_equal(f.v[2].n_heredocs, 2);
	assert_string_equal(f.v[2].heredocs[0].body, "literal $x\n");
	assert_false(f.v[2].heredocs[0].expand);
	assert_string_equal(f.v[2].heredocs[1].name, "B");
	assert_string_equal(f.v[2].heredocs[1].body, "b $y\n");
	assert_int_equal(f.v[3].line, 11);
	bld_file_free(&f);
	parse_bad("FROM scratch\nRUN <<EOF\necho\n", "Dockerfile:2: unterminated heredoc <<EOF");
	/* quoted "<<" is no heredoc */
	f = parse_ok("FROM scratch\nRUN echo '<<EOF'\n");
	assert_int_equal(f.v[1].n_heredocs, 0);
	bld_file_free(&f);
	/* a bare RUN is BuildKit's /bin/sh -c "" (build.c), flags or not */
	f = parse_ok("FROM scratch\nRUN\nRUN --network=none  \n");
	assert_int_equal(f.n, 3);
	assert_int_equal(f.v[1].kind, BLD_RUN);
	assert_string_equal(f.v[1].args, "");
	assert_false(f.v[1].json);
	assert_string_equal(f.v[2].args, "");
	bld_file_free(&f);
}

static void test_errors(void **state)
{
	(void)state;
	parse_bad("FROM scratch\nFOO bar\n", "Dockerfile:2: unknown instruction: FOO");
	parse_bad("RUN echo\nFROM scratch\n", "Dockerfile:1: no build stage");
	parse_bad("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments");
	parse_bad("FROM a AT b\n", "FROM requires either one or three");
	parse_bad("FROM scratch\nCOPY a\n", "Dockerfile:2: COPY requires at least two arguments");
	parse_bad("FROM scratch\nSHELL sh -c\n", "SHELL requires the arguments to be in JSON form");
	parse_bad("FROM scratch\nCOPY --frob=1 a b\n", "Dockerfile:2: unknown flag: --frob");
	parse_bad("FROM scratch\nONBUILD FROM x\n", "FROM isn't allowed as an ONBUILD trigger");
	parse_bad("FROM scratch\nENV\n", "ENV requires at least one argument");
	parse_bad("FROM scratch\nUSER a b\n", "USER requires exactly one argument");
	parse_bad("FROM scratch\nHEALTHCHECK FOO x\n", "Unknown type");
	parse_bad("# only a comment\n", "no instructions");
	parse_bad("ARG x\n", "no FROM");
	parse_bad("FROM scratch\nARG a b\n", "ARG requires exactly one argument");
}

static void test_line(void **state)
{
	(void)state;
	struct bld_instr in;
	struct cm_error e = { 0 };
	assert_int_equal(bld_parse_line("RUN echo x", '\\', &in, &e), 0);
	assert_int_equal(in.kind, BLD_RUN);
	bld_instr_free(&in);
	assert_int_equal(bld_parse_line("BOGUS", '\\', &in, &e), -EINVAL);
	/* JSON that is not an array of strings is the shell form */
	assert_int_equal(bld_parse_line("CMD [1, 2]", '\\', &in, &e), 0);
	assert_false(in.json);
	bld_instr_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instructions),
		cmocka_unit_test(test_continuations),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_heredocs),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
