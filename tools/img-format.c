// SPDX-License-Identifier: MIT
/* docker's formatter for the listing verbs (img-format.h), over the Go
 * template subset (common/cm-template.h) and Go's tabwriter (cm-text.h). */
#include "img-format.h"
#include "img-run.h"
#include "cm.h"
#include "cm-text.h"

#include <stdio.h>
#include <string.h>

/* docker's preFormat: "\t" and "\n" as typed become a tab and a newline */
static char *unescape(const char *in)
{
	char *s = strdup(in), *o = s;
	for (const char *p = in; s && *p; p++) {
		if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
			*o++ = p[1] == 't' ? '\t' : '\n';
			p++;
		} else {
			*o++ = *p;
		}
	}
	if (o)
		*o = '\0';
	return s;
}

static int parse(const char *text, struct cm_tpl **ret)
{
	char err[512];
	_cleanup_free_ char *t = unescape(text);
	if (!t)
		return img_fail("out of memory");
	int r = cm_tpl_parse(t, ret, err, sizeof(err));
	if (r == -EINVAL)
		return img_fail("template parsing error: %s", err);
	return r < 0 ? img_fail("out of memory") : 0;
}

int img_fmt_open(struct img_fmt *f, const char *format, const char *deflt,
		 const char *const *header_kv, size_t n, const char *type)
{
	*f = (struct img_fmt){ .type = type };
	const char *t = format ? format : deflt;
	while (*t == ' ')
		t++;
	if (strcmp(t, "table") == 0)
		t = deflt;
	if (strcmp(t, "json") == 0)
		t = "{{json .}}";
	if (strncmp(t, "table", 5) == 0) {
		f->table = true;
		t += 5;
		while (*t == ' ')
			t++;
	}
	if (!(f->header = cm_tpl_strmap(header_kv, n)))
		return img_fail("out of memory");
	int rc = parse(t, &f->tpl);
	if (rc)
		img_fmt_free(f);
	return rc;
}

int img_fmt_row(struct img_fmt *f, const struct cm_json *row)
{
	char err[512];
	struct cm_tpl_opts o = { .type_name = f->type };
	int r = cm_tpl_exec(f->tpl, row, &o, &f->rows, err, sizeof(err));
	if (r == -EINVAL)
		return img_fail("%s", err);
	if (r < 0 || cm_tpl_out_put(&f->rows, "\n", 1) < 0)
		return img_fail("out of memory");
	return 0;
}

int img_fmt_close(struct img_fmt *f)
{
	int rc = 0;
	if (!f->table) {
		if (f->rows.len)
			fwrite(f->rows.s, 1, f->rows.len, stdout);
		img_fmt_free(f);
		return 0;
	}
	/* docker: the header is the template run on the column names; like
	 * docker's, it stays what was printed when that fails (index of a
	 * name, say) */
	struct cm_tpl_out all = { 0 }, out = { 0 };
	struct cm_tpl_opts o = { .type_name = f->type, .header = true };
	if (cm_tpl_exec(f->tpl, f->header, &o, &all, NULL, 0) == -ENOMEM ||
	    cm_tpl_out_put(&all, "\n", 1) < 0 ||
	    (f->rows.len && cm_tpl_out_put(&all, f->rows.s, f->rows.len) < 0) ||
	    cm_tabwrite(all.s, all.len, 10, 3, &out) < 0)
		rc = img_fail("out of memory");
	else
		fwrite(out.s, 1, out.len, stdout);
	free(all.s);
	free(out.s);
	img_fmt_free(f);
	return rc;
}

int img_fmt_end(struct img_fmt *f, int rc)
{
	if (!f->tpl)
		return rc;
	if (rc) {
		img_fmt_free(f);
		return rc;
	}
	return img_fmt_close(f);
}

void img_fmt_free(struct img_fmt *f)
{
	cm_tpl_free(f->tpl);
	cm_json_free(f->header);
	free(f->rows.s);
	*f = (struct img_fmt){ 0 };
}

int img_fmt_once(const char *format, const struct cm_json *data)
{
	_cleanup_(cm_tpl_freep) struct cm_tpl *t = NULL;
	int rc = parse(format, &t);
	if (rc)
		return rc;
	char err[512];
	struct cm_tpl_out out = { 0 };
	int r = cm_tpl_exec(t, data, NULL, &out, err, sizeof(err));
	if (r == 0)
		printf("%s\n", out.s);
	free(out.s);
	if (r == -EINVAL)
		return img_fail("%s", err);
	return r < 0 ? img_fail("out of memory") : 0;
}

char *img_go_quote(const char *s)
{
	struct cm_tpl_out o = { 0 };
	int r = cm_tpl_out_put(&o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; r == 0 && *p; p++) {
		char b[8];
		if (*p == '"' || *p == '\\')
			snprintf(b, sizeof(b), "\\%c", *p);
		else if (*p == '\n')
			snprintf(b, sizeof(b), "\\n");
		else if (*p == '\t')
			snprintf(b, sizeof(b), "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			snprintf(b, sizeof(b), "\\x%02x", *p);
		else
			snprintf(b, sizeof(b), "%c", *p);
		r = cm_tpl_out_put(&o, b, strlen(b));
	}
	if (r == 0)
		r = cm_tpl_out_put(&o, "\"", 1);
	if (r < 0) {
		free(o.s);
		return NULL;
	}
	return o.s;
}

int img_filter_add(struct img_filter *fs, size_t *n, const char *arg, const char *const *keys,
		   size_t nkeys)
{
	const char *eq = strchr(arg, '=');
	size_t kl = eq ? (size_t)(eq - arg) : strlen(arg);
	bool ok = false;
	for (size_t i = 0; eq && i < nkeys; i++)
		ok |= strlen(keys[i]) == kl && strncmp(arg, keys[i], kl) == 0;
	if (!ok)
		return img_fail("invalid filter '%.*s'", (int)kl, arg);
	if (*n == IMG_MAX_FILTERS)
		return img_fail("at most %d filters", IMG_MAX_FILTERS);
	snprintf(fs[*n].key, sizeof(fs[*n].key), "%.*s", (int)kl, arg);
	fs[(*n)++].val = eq + 1;
	return 0;
}

bool img_filters_match(const struct img_filter *fs, size_t n,
		       bool (*one)(const struct img_filter *f, void *ctx), void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		bool any = false, seen = false;
		for (size_t k = 0; k < i; k++)
			seen |= strcmp(fs[k].key, fs[i].key) == 0;
		if (seen)
			continue; /* this key was decided with its first filter */
		for (size_t k = i; k < n && !any; k++)
			if (strcmp(fs[k].key, fs[i].key) == 0)
				any = one(&fs[k], ctx);
		if (!any)
			return false;
	}
	return true;
}
