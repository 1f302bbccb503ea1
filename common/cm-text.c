// SPDX-License-Identifier: MIT
/* Display width, ellipsis and Go's tabwriter algorithm (cm-text.h). */
#include "cm-text.h"
#include "cm.h"

#include <stdint.h>
#include <string.h>

/* Decode one UTF-8 sequence at s (n bytes left): its length, and the code
 * point in *cp (-1 for an invalid byte, length 1). */
static size_t utf8_next(const unsigned char *s, size_t n, int32_t *cp)
{
	unsigned c = s[0];
	size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
	if (!l || l > n) {
		*cp = -1;
		return 1;
	}
	uint32_t v = l == 1 ? c : c & (0x7fu >> l);
	for (size_t i = 1; i < l; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = -1;
			return 1;
		}
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = (int32_t)v;
	return l;
}

bool cm_text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	static const int32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	for (size_t i = 0; i < len;) {
		int32_t cp;
		size_t l = utf8_next(u + i, len - i, &cp);
		if (cp < 0 || cp < least[l] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += l;
	}
	return true;
}

struct range {
	int32_t lo, hi;
};

static bool in(int32_t c, const struct range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c >= r[i].lo && c <= r[i].hi)
			return true;
	return false;
}

/* the main zero-width and wide blocks (Unicode's East Asian Width W/F) */
static const struct range zero[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x0610, 0x061a },
	{ 0x064b, 0x065f }, { 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e },
	{ 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x200b, 0x200f }, { 0x202a, 0x202e },
	{ 0x2060, 0x2064 }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f },
	{ 0xfeff, 0xfeff }, { 0xe0100, 0xe01ef },
};
static const struct range wide[] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a }, { 0x23e9, 0x23ec },
	{ 0x25fd, 0x25fe }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 }, { 0x26a1, 0x26a1 },
	{ 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 }, { 0x26ce, 0x26ce },
	{ 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea }, { 0x26f2, 0x26f5 }, { 0x26fa, 0x26fa },
	{ 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b }, { 0x2728, 0x2728 },
	{ 0x274c, 0x274c }, { 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf }, { 0x2b1b, 0x2b1c }, { 0x2b50, 0x2b50 },
	{ 0x2e80, 0x303e }, { 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff },
	{ 0xa000, 0xa4cf }, { 0xa960, 0xa97f }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff },
	{ 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 },
	{ 0x16fe0, 0x16fe4 }, { 0x17000, 0x18cff }, { 0x1b000, 0x1b2ff }, { 0x1f004, 0x1f004 },
	{ 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e }, { 0x1f191, 0x1f19a }, { 0x1f200, 0x1f251 },
	{ 0x1f300, 0x1f320 }, { 0x1f32d, 0x1f335 }, { 0x1f337, 0x1f37c }, { 0x1f37e, 0x1f393 },
	{ 0x1f3a0, 0x1f3ca }, { 0x1f3cf, 0x1f3d3 }, { 0x1f3e0, 0x1f3f0 }, { 0x1f3f4, 0x1f3f4 },
	{ 0x1f3f8, 0x1f43e }, { 0x1f440, 0x1f440 }, { 0x1f442, 0x1f4fc }, { 0x1f4ff, 0x1f53d },
	{ 0x1f54b, 0x1f54e }, { 0x1f550, 0x1f567 }, { 0x1f57a, 0x1f57a }, { 0x1f595, 0x1f596 },
	{ 0x1f5a4, 0x1f5a4 }, { 0x1f5fb, 0x1f64f }, { 0x1f680, 0x1f6c5 }, { 0x1f6cc, 0x1f6cc },
	{ 0x1f6d0, 0x1f6d2 }, { 0x1f6d5, 0x1f6d7 }, { 0x1f6eb, 0x1f6ec }, { 0x1f6f4, 0x1f6fc },
	{ 0x1f7e0, 0x1f7eb }, { 0x1f90c, 0x1f93a }, { 0x1f93c, 0x1f945 }, { 0x1f947, 0x1f9ff },
	{ 0x1fa70, 0x1faff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

static size_t cp_width(int32_t c)
{
	if (c < 0)
		return 1;
	if (c < 0x20 || (c >= 0x7f && c < 0xa0) || in(c, zero, CM_ARRAY_SIZE(zero)))
		return 0;
	return in(c, wide, CM_ARRAY_SIZE(wide)) ? 2 : 1;
}

size_t cm_text_width(const char *s, size_t len)
{
	size_t w = 0;
	for (size_t i = 0; i < len;) {
		int32_t c;
		i += utf8_next((const unsigned char *)s + i, len - i, &c);
		w += cp_width(c);
	}
	return w;
}

char *cm_text_ellipsis(const char *s, size_t cols)
{
	size_t len = strlen(s);
	if (cm_text_width(s, len) <= cols)
		return strdup(s);
	/* what fits in cols - 1 columns, then the ellipsis (1 column) */
	size_t w = 0, i = 0;
	while (cols && i < len) {
		int32_t c;
		size_t l = utf8_next((const unsigned char *)s + i, len - i, &c);
		if (w + cp_width(c) > cols - 1)
			break;
		w += cp_width(c);
		i += l;
	}
	char *r = malloc(i + 4);
	if (!r)
		return NULL;
	memcpy(r, s, i);
	memcpy(r + i, cols ? "\xe2\x80\xa6" : "", cols ? 4 : 1);
	return r;
}

/* ------------------------------------------------------------ tabwriter */

struct cell {
	size_t off, size, width;
};

struct line {
	struct cell *c;
	size_t n; /* the last cell is the one not ended by '\t' */
};

struct tw {
	const char *in;
	struct line *lines;
	size_t nlines;
	size_t widths[64], nwidths;
	size_t minwidth, padding;
	struct cm_tpl_out *out;
	int err;
};

static void put(struct tw *t, const char *s, size_t n)
{
	if (!t->err && cm_tpl_out_put(t->out, s, n) < 0)
		t->err = -ENOMEM;
}

static void pad(struct tw *t, size_t textw, size_t cellw)
{
	static const char sp[] = "                                ";
	for (size_t k = cellw > textw ? cellw - textw : 0; k > 0;) {
		size_t m = k < sizeof(sp) - 1 ? k : sizeof(sp) - 1;
		put(t, sp, m);
		k -= m;
	}
}

static void write_lines(struct tw *t, size_t l0, size_t l1)
{
	for (size_t i = l0; i < l1; i++) {
		const struct line *ln = &t->lines[i];
		for (size_t j = 0; j < ln->n; j++) {
			const struct cell *c = &ln->c[j];
			put(t, t->in + c->off, c->size);
			if (j + 1 < ln->n && j < t->nwidths)
				pad(t, c->width, t->widths[j]);
		}
		if (i + 1 < t->nlines)
			put(t, "\n", 1);
	}
}

/* Go's tabwriter.format: the blocks of column nwidths in lines l0..l1 */
static void format(struct tw *t, size_t l0, size_t l1)
{
	size_t column = t->nwidths;
	for (size_t this = l0; this < l1; this++) {
		if (column + 1 >= t->lines[this].n)
			continue;
		/* a cell in this column: the lines before the block go out */
		write_lines(t, l0, this);
		l0 = this;
		size_t width = t->minwidth;
		for (; this < l1; this++) {
			const struct line *ln = &t->lines[this];
			if (column + 1 >= ln->n)
				break;
			if (ln->c[column].width + t->padding > width)
				width = ln->c[column].width + t->padding;
		}
		if (t->nwidths == CM_ARRAY_SIZE(t->widths)) {
			t->err = -E2BIG;
			return;
		}
		t->widths[t->nwidths++] = width;
		format(t, l0, this);
		t->nwidths--;
		l0 = this;
		this--; /* the loop's ++ */
	}
	write_lines(t, l0, l1);
}

int cm_tabwrite(const char *in, size_t len, size_t minwidth, size_t padding,
		struct cm_tpl_out *out)
{
	struct tw t = { .in = in, .minwidth = minwidth, .padding = padding, .out = out };
	size_t start = 0;
	struct line cur = { 0 };
	for (size_t i = 0; i <= len; i++) {
		if (i < len && in[i] != '\t' && in[i] != '\n')
			continue;
		struct cell *nc = realloc(cur.c, (cur.n + 1) * sizeof(*nc));
		if (!nc) {
			t.err = -ENOMEM;
			break;
		}
		cur.c = nc;
		cur.c[cur.n++] = (struct cell){ start, i - start, cm_text_width(in + start, i - start) };
		start = i + 1;
		if (i < len && in[i] == '\t')
			continue;
		struct line *nl = realloc(t.lines, (t.nlines + 1) * sizeof(*nl));
		if (!nl) {
			t.err = -ENOMEM;
			break;
		}
		t.lines = nl;
		t.lines[t.nlines++] = cur;
		cur = (struct line){ 0 };
	}
	free(cur.c);
	if (!t.err)
		format(&t, 0, t.nlines);
	for (size_t i = 0; i < t.nlines; i++)
		free(t.lines[i].c);
	free(t.lines);
	return t.err;
}

bool cm_text_object_name_valid(const char *name, size_t min, size_t max)
{
	size_t n = strlen(name);
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
			return false;
	}
	return true;
}
