// SPDX-License-Identifier: MIT
/* Unit tests of the Go template subset (common/cm-template.c) and of the
 * column text helpers (common/cm-text.c): expected outputs are what Go's
 * text/template, docker's functions and Go's tabwriter print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cm-json.h"
#include "cm-template.h"
#include "cm-text.h"

static const char data[] =
	"{\"Id\":\"abc123\",\"State\":{\"Pid\":42,\"Running\":true,\"Status\":\"running\","
	"\"Ratio\":0.5},\"Name\":\"/web\",\"Config\":{\"Labels\":{\"b\":\"2\",\"a\":\"1\","
	"\"com.x\":\"y\"},\"Env\":[\"A=1\",\"B=2\"],\"Cmd\":null,\"Empty\":[]},"
	"\"Mounts\":[{\"Source\":\"/h\",\"Destination\":\"/c\"},{\"Source\":\"/h2\","
	"\"Destination\":\"/c2\"}],\"Html\":\"<a&b>\",\"Zero\":0}";

/* run tmpl on data (strict: type name, or NULL); returns the output or the
 * error text, malloc'd */
static char *run(const char *tmpl, const char *type)
{
	struct cm_json *j = NULL;
	assert_int_equal(cm_json_parse(data, strlen(data), &j, NULL, 0), 0);
	struct cm_tpl *t = NULL;
	char err[512] = "";
	struct cm_tpl_out out = { 0 };
	char *res;
	if (cm_tpl_parse(tmpl, &t, err, sizeof(err)) < 0) {
		res = strdup(err);
	} else {
		struct cm_tpl_opts o = { .type_name = type };
		int r = cm_tpl_exec(t, j, &o, &out, err, sizeof(err));
		res = strdup(r < 0 ? err : out.s);
	}
	free(out.s);
	cm_tpl_free(t);
	cm_json_free(j);
	return res;
}

#define EXPECT(tmpl, want)                                                                         \
	do {                                                                                       \
		char *got_ = run(tmpl, NULL);                                                      \
		assert_string_equal(got_, want);                                                   \
		free(got_);                                                                        \
	} while (0)

static void test_fields(void **state)
{
	(void)state;
	EXPECT("{{.Id}}", "abc123");
	EXPECT("pid={{.State.Pid}} {{.State.Running}} {{.State.Ratio}}", "pid=42 true 0.5");
	EXPECT("{{.Name}}\t{{.Id}}\n", "/web\tabc123\n");
	EXPECT("{{.Nope}}", "<no value>");               /* Go's missing map key */
	EXPECT("{{.Nope.Deeper}}", "<no value>");
	EXPECT("{{.Config.Cmd}}", "<nil>");
	EXPECT("{{.Config.Env}}", "[A=1 B=2]");          /* fmt's %v of a slice */
	EXPECT("{{.Config.Labels}}", "map[a:1 b:2 com.x:y]"); /* keys in order */
	EXPECT("{{ .Id }}", "abc123");
	EXPECT("a {{- .Id -}} b", "aabc123b");
	EXPECT("a  {{- /* a comment */ -}}  b", "ab");
	EXPECT("{{.}}", "map[Config:map[Cmd:<nil> Empty:[] Env:[A=1 B=2] Labels:map[a:1 b:2 com.x:y]] "
			"Html:<a&b> Id:abc123 Mounts:[map[Destination:/c Source:/h] map[Destination:/c2 Source:/h2]] "
			"Name:/web State:map[Pid:42 Ratio:0.5 Running:true Status:running] Zero:0]");
}

static void test_functions(void **state)
{
	(void)state;
	EXPECT("{{json .Config.Env}}", "[\"A=1\",\"B=2\"]");
	EXPECT("{{json .Html}}", "\"<a&b>\"");            /* docker: no HTML escaping */
	EXPECT("{{json .Nope}}", "null");
	EXPECT("{{index .Config.Labels \"com.x\"}}", "y");
	EXPECT("{{index .Config.Env 1}}", "B=2");
	EXPECT("{{index .Mounts 1 \"Source\"}}", "/h2");
	EXPECT("{{join .Config.Env \",\"}}", "A=1,B=2");
	EXPECT("{{lower \"AbC\"}} {{upper .Name}} {{title \"hello world\"}}", "abc /WEB Hello World");
	EXPECT("{{printf \"%s-%d-%5.2f|%-4s|%q|%x|%v\" .Name .State.Pid .State.Ratio \"ab\" \"q\" 255 .Config.Env}}",
	       "/web-42- 0.50|ab  |\"q\"|ff|[A=1 B=2]");
	EXPECT("{{printf \"%d %d\" 1}}", "1 %!d(MISSING)");
	EXPECT("{{printf \"%%\"}}", "%");
	EXPECT("{{len .Config.Env}} {{len .Name}} {{len .Config.Labels}}", "2 4 3");
	EXPECT("{{.Name | upper}}", "/WEB");
	EXPECT("{{join .Config.Env \"+\" | printf \"<%s>\"}}", "<A=1+B=2>"); /* piped last */
	EXPECT("{{.Config.Env | len}}", "2");
	EXPECT("{{split \"a:b:c\" \":\"}}", "[a b c]");
	EXPECT("{{truncate .Id 3}}|{{pad \"x\" 1 2}}|", "abc| x  |");
	EXPECT("{{print 1 2 \"a\" \"b\" 3}}", "1 2ab3"); /* Go's Sprint spacing */
	EXPECT("{{println 1 \"a\"}}", "1 a\n");
	EXPECT("{{eq .State.Status \"running\"}} {{ne .State.Pid 42}} {{lt 1 2}} {{ge \"b\" \"a\"}}",
	       "true false true true");
	EXPECT("{{eq .State.Status \"x\" \"running\"}}", "true"); /* eq with several */
	EXPECT("{{and .State.Running .Id}} {{or .Zero .Name}} {{not .Zero}}", "abc123 /web true");
	EXPECT("{{len (index .Mounts 0)}}", "2");
	EXPECT("{{(index .Mounts 0).Destination}}", "/c");
}

static void test_control(void **state)
{
	(void)state;
	EXPECT("{{if .State.Running}}up{{else}}down{{end}}", "up");
	EXPECT("{{if .Zero}}a{{else if .Nope}}b{{else if .Id}}c{{end}}", "c");
	EXPECT("{{if .Config.Empty}}x{{end}}", "");
	EXPECT("{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=2]");
	EXPECT("{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}", "0=A=1;1=B=2;");
	EXPECT("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}", "a:1 b:2 com.x:y ");
	EXPECT("{{range .Mounts}}{{.Source}}->{{.Destination}},{{end}}", "/h->/c,/h2->/c2,");
	EXPECT("{{range .Config.Empty}}x{{else}}none{{end}}", "none");
	EXPECT("{{range .Nope}}x{{end}}", "");
	EXPECT("{{with .State}}{{.Pid}}{{end}}{{with .Nope}}x{{else}}-{{end}}", "42-");
	EXPECT("{{$n := .Name}}{{range .Config.Env}}{{$n}}{{.}} {{end}}", "/webA=1 /webB=2 ");
	EXPECT("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2");
	EXPECT("{{range .Mounts}}{{$.Id}} {{end}}", "abc123 abc123 ");
}

static void test_errors(void **state)
{
	(void)state;
	char *e = run("{{.Foo}}", "*formatter.ContainerContext");
	assert_string_equal(e, "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type "
			       "*formatter.ContainerContext");
	free(e);
	e = run("x\n  {{.Id.Bar}}", NULL);
	assert_string_equal(e, "template: :2:4: executing \"\" at <.Id.Bar>: can't evaluate field Bar in type string");
	free(e);
	EXPECT("{{nope .}}", "template: :1: function \"nope\" not defined");
	EXPECT("{{.Id", "template: :1: unclosed action");
	EXPECT("{{if .Id}}x", "template: :1: unexpected EOF");
	EXPECT("{{end}}", "template: :1: unexpected {{end}}");
	EXPECT("{{index .Config.Env 5}}",
	       "template: :1:2: executing \"\" at <index .Config.Env 5>: error calling index: index out of range: 5");
	EXPECT("{{range .Id}}{{end}}", "template: :1:8: executing \"\" at <.Id>: range can't iterate over abc123");
	EXPECT("{{\"unterminated}}", "template: :1: unterminated quoted string");
	EXPECT("{{.Id 1}}", "template: :1:2: executing \"\" at <.Id>: Id is not a method but has arguments");
	EXPECT("{{$y}}", "template: :1: undefined variable \"$y\"");
	EXPECT("{{range $i, $e := .Config.Env}}{{end}}{{$e}}", "template: :1: undefined variable \"$e\"");
	EXPECT("{{eq .Id 1}}",
	       "template: :1:2: executing \"\" at <eq .Id 1>: error calling eq: incompatible types for comparison");
	EXPECT("{{template \"x\"}}", "template: :1: {{template}} is not supported by img");
}

static void test_header(void **state)
{
	(void)state;
	/* docker's table header: fields map to column names, functions
	 * pass their first argument through */
	static const char *const kv[] = { "ID", "CONTAINER ID", "Names", "NAMES" };
	struct cm_json *h = cm_tpl_strmap(kv, 2);
	assert_non_null(h);
	struct cm_tpl *t = NULL;
	assert_int_equal(cm_tpl_parse("{{.ID}}\t{{upper .Names}}\t{{.Other}}|{{range .Names}}r{{end}}"
				      "|{{printf \"%-7s\" .Names}}|{{join .Names \",\"}}", &t, NULL, 0), 0);
	struct cm_tpl_opts o = { .type_name = "T", .header = true };
	struct cm_tpl_out out = { 0 };
	assert_int_equal(cm_tpl_exec(t, h, &o, &out, NULL, 0), 0);
	assert_string_equal(out.s, "CONTAINER ID\tNAMES\t|r|NAMES  |NAMES");
	free(out.s);
	cm_tpl_free(t);
	cm_json_free(h);
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(cm_text_width("abc", 3), 3);
	assert_int_equal(cm_text_width("\xe2\x80\xa6", 3), 1);         /* … */
	assert_int_equal(cm_text_width("\xe6\x97\xa5\xe6\x9c\xac", 6), 4); /* 日本 */
	assert_int_equal(cm_text_width("e\xcc\x81", 3), 1);            /* e + combining acute */
	assert_int_equal(cm_text_width("\xff", 1), 1);                 /* invalid byte */
	char *s = cm_text_ellipsis("sh -c 'echo hello world'", 20);
	assert_string_equal(s, "sh -c 'echo hello w\xe2\x80\xa6");
	assert_int_equal(cm_text_width(s, strlen(s)), 20);
	free(s);
	s = cm_text_ellipsis("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4); /* 日本語 in 4 columns */
	assert_string_equal(s, "\xe6\x97\xa5\xe2\x80\xa6");           /* 日… (3 columns) */
	free(s);
	s = cm_text_ellipsis("short", 20);
	assert_string_equal(s, "short");
	free(s);
}

static void test_tabwriter(void **state)
{
	(void)state;
	struct cm_tpl_out o = { 0 };
	/* minwidth 10, padding 3 (docker): short columns still 10 wide */
	const char *in = "A\tBB\tC\nxxxxxxxxxxxx\ty\tz\n";
	assert_int_equal(cm_tabwrite(in, strlen(in), 10, 3, &o), 0);
	assert_string_equal(o.s, "A              BB        C\n"
				 "xxxxxxxxxxxx   y         z\n");
	free(o.s);
	/* a cut cell with "…" aligns by columns, not bytes */
	o = (struct cm_tpl_out){ 0 };
	in = "ab\xe2\x80\xa6\tX\nabcd\tY\n";
	assert_int_equal(cm_tabwrite(in, strlen(in), 1, 3, &o), 0);
	assert_string_equal(o.s, "ab\xe2\x80\xa6    X\nabcd   Y\n");
	free(o.s);
	/* column blocks: a line without the column ends the block (Go) */
	o = (struct cm_tpl_out){ 0 };
	in = "a\tb\nno tabs here\nlonger\tc\n";
	assert_int_equal(cm_tabwrite(in, strlen(in), 0, 1, &o), 0);
	assert_string_equal(o.s, "a b\nno tabs here\nlonger c\n");
	free(o.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),   cmocka_unit_test(test_functions),
		cmocka_unit_test(test_control),  cmocka_unit_test(test_errors),
		cmocka_unit_test(test_header),   cmocka_unit_test(test_width),
		cmocka_unit_test(test_tabwriter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
