// SPDX-License-Identifier: MIT
/* The verb table's machinery (img-cli.h): getopt tables built from a verb's
 * option list, docker's usage block and docker's flag errors. */
#include "img-cli.h"
#include "cm.h"

#include <getopt.h>
#include <string.h>

const struct img_verb *img_verb_current;

const struct img_verb *img_verb_find(const char *name)
{
	for (const struct img_verb *v = img_verbs; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

static bool opt_in(const struct img_verb *v, const struct img_opt *o)
{
	return !(o->flags & IMG_OPT_RUN_ONLY) || strcmp(v->name, "run") == 0;
}

static bool uses_letter(const struct img_verb *v, int letter)
{
	for (const struct img_opt *o = v->opts; o && o->name; o++)
		if (o->letter == letter && opt_in(v, o))
			return true;
	return false;
}

/* ------------------------------------------------------------ parsing */

/* The getopt tables of one verb, rebuilt when the verb changes. */
static struct {
	const struct img_verb *verb;
	struct option lo[96];
	char so[200];
} gt;

static void build_tables(const struct img_verb *v)
{
	size_t n = 0, k = 0;
	gt.so[k++] = '+'; /* options stop at the first operand (IMAGE CMD...) */
	gt.so[k++] = ':'; /* ':' for a missing value, '?' for an unknown one */
	for (const struct img_opt *o = v->opts; o && o->name && n + 2 < CM_ARRAY_SIZE(gt.lo); o++) {
		if (!opt_in(v, o))
			continue;
		/* a switch with IMG_OPT_OPTARG is pflag's bool: --flag or --flag=false */
		int has = (o->flags & IMG_OPT_OPTARG) ? optional_argument :
			  !o->arg ? no_argument : required_argument;
		gt.lo[n++] = (struct option){ o->name, has, NULL, o->val };
		if (o->letter && k + 3 < sizeof(gt.so)) {
			gt.so[k++] = (char)o->letter;
			if (has == required_argument)
				gt.so[k++] = ':';
		}
	}
	gt.lo[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	gt.lo[n] = (struct option){ 0 };
	/* -h is --help unless the verb has its own -h (run's --hostname) */
	if (!uses_letter(v, 'h'))
		gt.so[k++] = 'h';
	gt.so[k] = '\0';
	gt.verb = v;
}

/* "Usage:  img wait CONTAINER [CONTAINER...]" and the description, after
 * an argument count error (docker's cli/required.go shape). */
static void see_help(const struct img_verb *v, bool with_usage)
{
	fprintf(stderr, "See 'img %s --help'.\n", v->name);
	if (with_usage)
		fprintf(stderr, "\nUsage:  img %s %s\n\n%s\n", v->name, v->usage, v->desc);
}

static int bad_count(const struct img_verb *v, int n)
{
	int lo = v->min_args, hi = v->max_args;
	const char *plural = (hi >= 0 ? hi : lo) == 1 ? "argument" : "arguments";
	fprintf(stderr, "img: \"img %s\" ", v->name);
	if (hi == 0)
		fputs("accepts no arguments.\n", stderr);
	else if (lo == hi)
		fprintf(stderr, "requires exactly %d %s.\n", lo, plural);
	else if (n < lo && hi < 0)
		fprintf(stderr, "requires at least %d %s.\n", lo, plural);
	else if (lo == 0)
		fprintf(stderr, "requires at most %d %s.\n", hi, plural);
	else
		fprintf(stderr, "requires at least %d and at most %d %s.\n", lo, hi, plural);
	see_help(v, true);
	return IMG_OPT_BAD;
}

/* The argv element an unknown short letter came from (for "in -xyz"). */
static const char *letter_source(int argc, char **argv, int letter)
{
	for (int i = optind; i >= 1 && i >= optind - 1; i--)
		if (i < argc && argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i] + 1, letter))
			return argv[i];
	return "";
}

int img_getopt(int argc, char **argv)
{
	const struct img_verb *v = img_verb_current;
	if (gt.verb != v)
		build_tables(v);
	opterr = 0;
	int prev = optind;
	int c = getopt_long(argc, argv, gt.so, gt.lo, NULL);
	switch (c) {
	case -1: {
		int n = argc - optind;
		if (n < v->min_args || (v->max_args >= 0 && n > v->max_args))
			return bad_count(v, n);
		return -1;
	}
	case OPT_HELP:
		img_verb_help(v, stdout);
		return IMG_OPT_HELP;
	case 'h':
		if (!uses_letter(v, 'h')) {
			img_verb_help(v, stdout);
			return IMG_OPT_HELP;
		}
		return c;
	case '?':
	case ':': {
		/* docker's (pflag's) texts */
		const char *a = argv[optind - 1 >= prev ? optind - 1 : prev];
		bool lng = optopt == 0 || optopt >= 256 || strncmp(a, "--", 2) == 0;
		if (c == '?' && lng) {
			const char *eq = strchr(a, '=');
			fprintf(stderr, "img: unknown flag: %.*s\n", eq ? (int)(eq - a) : (int)strlen(a), a);
		} else if (c == '?') {
			fprintf(stderr, "img: unknown shorthand flag: '%c' in %s\n", optopt,
				letter_source(argc, argv, optopt));
		} else if (lng) {
			fprintf(stderr, "img: flag needs an argument: %s\n", a);
		} else {
			fprintf(stderr, "img: flag needs an argument: '%c' in -%c\n", optopt, optopt);
		}
		see_help(v, false);
		return IMG_OPT_BAD;
	}
	default:
		return c;
	}
}

/* ------------------------------------------------------------ help */

static int cmp_opts(const void *a, const void *b)
{
	const struct img_opt *x = *(const struct img_opt *const *)a;
	const struct img_opt *y = *(const struct img_opt *const *)b;
	return strcmp(x->name, y->name);
}

/* pflag's FlagUsages: "  -a, --all" / "      --format string", then the
 * help text three spaces right of the longest of them; continuation lines
 * of a help text start in the same column. Sorted by long name. */
static void print_options(const struct img_verb *v, FILE *f)
{
	const struct img_opt *list[96];
	size_t n = 0, width = 0;
	for (const struct img_opt *o = v->opts; o && o->name && n < CM_ARRAY_SIZE(list); o++)
		if (!(o->flags & IMG_OPT_HIDDEN) && opt_in(v, o))
			list[n++] = o;
	if (!n)
		return;
	qsort(list, n, sizeof(list[0]), cmp_opts);
	for (size_t i = 0; i < n; i++) {
		size_t w = 6 + 2 + strlen(list[i]->name) + (list[i]->arg ? 1 + strlen(list[i]->arg) : 0);
		if (w > width)
			width = w;
	}
	fputs("\nOptions:\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct img_opt *o = list[i];
		char head[128];
		int k;
		if (o->letter)
			k = snprintf(head, sizeof(head), "  -%c, --%s", o->letter, o->name);
		else
			k = snprintf(head, sizeof(head), "      --%s", o->name);
		if (o->arg && k > 0 && (size_t)k < sizeof(head))
			snprintf(head + k, sizeof(head) - (size_t)k, " %s", o->arg);
		fprintf(f, "%-*s   ", (int)width, head);
		for (const char *p = o->help; *p; p++) {
			fputc(*p, f);
			if (*p == '\n' && p[1])
				fprintf(f, "%*s", (int)width + 3, "");
		}
		fputc('\n', f);
	}
}

/* The subcommands of a group verb ("container inspect" under "container"). */
static void print_subcommands(const struct img_verb *g, FILE *f)
{
	size_t gl = strlen(g->name), width = 11;
	bool any = false;
	for (const struct img_verb *v = img_verbs; v->name; v++)
		if (strncmp(v->name, g->name, gl) == 0 && v->name[gl] == ' ' &&
		    strlen(v->name + gl + 1) + 1 > width)
			width = strlen(v->name + gl + 1) + 1;
	for (const struct img_verb *v = img_verbs; v->name; v++) {
		if (strncmp(v->name, g->name, gl) != 0 || v->name[gl] != ' ')
			continue;
		if (!any)
			fputs("\nCommands:\n", f);
		any = true;
		fprintf(f, "  %-*s%s\n", (int)width, v->name + gl + 1, v->desc);
	}
	if (any)
		fprintf(f, "\nRun 'img %s COMMAND --help' for more information on a command.\n", g->name);
}

void img_verb_help(const struct img_verb *v, FILE *f)
{
	fprintf(f, "Usage:  img %s%s%s\n\n%s\n", v->name, *v->usage ? " " : "", v->usage, v->desc);
	print_options(v, f);
	print_subcommands(v, f);
}

void img_main_help(FILE *f)
{
	static const char *const groups[] = { "Container Commands", "Image Commands",
					      "Management Commands", "Store Commands" };
	fputs("Usage:  img [OPTIONS] COMMAND\n\n"
	      "Images and containers with docker's verbs, on the ufsmount union filesystem\n",
	      f);
	size_t width = 11;
	for (const struct img_verb *v = img_verbs; v->name; v++)
		if (v->group && strlen(v->name) + 1 > width)
			width = strlen(v->name) + 1;
	for (size_t g = 0; g < CM_ARRAY_SIZE(groups); g++) {
		fprintf(f, "\n%s:\n", groups[g]);
		for (const struct img_verb *v = img_verbs; v->name; v++)
			if (v->group && strcmp(v->group, groups[g]) == 0)
				fprintf(f, "  %-*s%s\n", (int)width, v->name, v->desc);
	}
	fputs("\nGlobal Options:\n"
	      "      --root string   The store (default $IMG_ROOT, else /var/lib/img)\n"
	      "  -h, --help          Print usage\n"
	      "  -v, --version       Print version information and quit\n"
	      "\nRun 'img COMMAND --help' for more information on a command.\n",
	      f);
}

/* ------------------------------------------------------------ man pages */

/* text as roff: backslashes and dashes escaped, no line starting with a
 * control character */
static void roff(FILE *f, const char *s)
{
	bool bol = true;
	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
		bol = *s == '\n';
	}
}

void img_verb_man(const struct img_verb *v, FILE *f)
{
	char up[64], dash[64];
	size_t i;
	for (i = 0; v->name[i] && i + 1 < sizeof(up); i++) {
		up[i] = v->name[i] == ' ' ? '-' : (char)(v->name[i] >= 'a' && v->name[i] <= 'z' ?
							  v->name[i] - 'a' + 'A' : v->name[i]);
		dash[i] = v->name[i] == ' ' ? '-' : v->name[i];
	}
	up[i] = dash[i] = '\0';
	fprintf(f, ".\\\" SPDX-License-Identifier: MIT\n"
		   ".\\\" Made by `img help --man %s` from tools/img-verbs.c: change the table, not this.\n"
		   ".TH IMG-%s 1 \"\" \"img\" \"img manual\"\n.SH NAME\nimg\\-%s \\- ",
		v->name, up, dash);
	roff(f, v->desc);
	fputs("\n.SH SYNOPSIS\n", f);
	/* one line per usage form: "\n\t" starts another, "img VERB ..." */
	size_t skip = 0;
	for (const char *u = v->usage; u;) {
		const char *nl = strstr(u, "\n\t");
		char form[256];
		snprintf(form, sizeof(form), "%.*s", nl ? (int)(nl - u) : (int)strlen(u), u);
		fprintf(f, "%s.B img %s\n", skip ? ".br\n" : "", v->name);
		if (strlen(form) > skip) {
			roff(f, form + skip);
			fputc('\n', f);
		}
		u = nl ? nl + 2 : NULL;
		skip = strlen("img ") + strlen(v->name) + 1;
	}
	fputs(".SH DESCRIPTION\n", f);
	roff(f, v->desc);
	fputs(".\n", f);
	const struct img_opt *list[96];
	size_t n = 0;
	for (const struct img_opt *o = v->opts; o && o->name && n < CM_ARRAY_SIZE(list); o++)
		if (!(o->flags & IMG_OPT_HIDDEN) && opt_in(v, o))
			list[n++] = o;
	qsort(list, n, sizeof(list[0]), cmp_opts);
	if (n)
		fputs(".SH OPTIONS\n", f);
	for (size_t k = 0; k < n; k++) {
		const struct img_opt *o = list[k];
		fputs(".TP\n.BR ", f);
		if (o->letter)
			fprintf(f, "\\-%c \", \" ", o->letter);
		fputs("\\-\\-", f);
		roff(f, o->name);
		if (o->arg)
			fprintf(f, " \" \" \\fI%s\\fR", o->arg);
		fputc('\n', f);
		roff(f, o->help);
		fputc('\n', f);
	}
	fputs(".TP\n.B \\-\\-help\nPrint this usage and exit.\n"
	      ".SH EXIT STATUS\n"
	      "0 on success; 125 when img itself fails (an unknown flag, a bad value, a store\n"
	      "error), with one line on standard error naming the thing and the reason.\n"
	      "Where a container's command runs in the foreground (run, start \\-a, exec) its\n"
	      "exit status, 126 when it cannot be invoked, 127 when it is not found.\n"
	      "rm and rmi exit 1 for an object that does not exist, as docker's.\n"
	      ".SH SEE ALSO\n.BR img (1)\n", f);
}
