// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <math.h>

#include "json_writer.h"
#include "util/text.h"

static const char hex[] = "0123456789abcdef";

static void put_u00(FILE *f, unsigned int c)
{
	fputs_unlocked("\\u00", f);
	putc_unlocked(hex[c >> 4 & 0xf], f);
	putc_unlocked(hex[c & 0xf], f);
}

/* Writes the character at s escaped as needed; returns its length. */
static size_t put_char(FILE *f, const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n;

	if (c == '"' || c == '\\') {
		putc_unlocked('\\', f);
		putc_unlocked(c, f);
		return 1;
	}
	if (c < 0x20 || c == 0x7f) {
		put_u00(f, c);
		return 1;
	}
	if (c < 0x80) {
		putc_unlocked(c, f);
		return 1;
	}
	n = tfc_utf8_len(s);
	if (!n) {
		fputs_unlocked("\\ufffd", f);
		return 1;
	}
	/* C1 controls (U+0080..U+009F): valid JSON raw, but a terminal acts on them. */
	if (n == 2 && c == 0xc2 && (unsigned char)s[1] < 0xa0)
		put_u00(f, (unsigned char)s[1]);
	else
		fwrite_unlocked(s, 1, n, f);
	return n;
}

void tfc_json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs_unlocked("null", f);
		return;
	}
	putc_unlocked('"', f);
	while (*s)
		s += put_char(f, s);
	putc_unlocked('"', f);
}

void tfc_json_init(struct tfc_json *j, FILE *f, int wrap)
{
	*j = (struct tfc_json){.f = f, .wrap = wrap};
}

static void new_line(struct tfc_json *j, int depth)
{
	putc_unlocked('\n', j->f);
	for (int i = 0; i < depth; i++)
		fputs_unlocked("  ", j->f);
}

static unsigned long *members_at(struct tfc_json *j, int depth)
{
	return &j->members[depth < TFC_JSON_DEPTH ? depth : TFC_JSON_DEPTH - 1];
}

/* What comes before a value: a comma, a line of its own, its name. */
static void member(struct tfc_json *j, const char *key)
{
	int wrapped = j->depth <= j->wrap;

	if (j->depth > 0) {
		if ((*members_at(j, j->depth - 1))++)
			putc_unlocked(',', j->f);
		if (wrapped)
			new_line(j, j->depth);
	}
	if (!key)
		return;
	tfc_json_string(j->f, key);
	putc_unlocked(':', j->f);
	if (wrapped)
		putc_unlocked(' ', j->f);
}

static void open_container(struct tfc_json *j, const char *key, char c)
{
	member(j, key);
	putc_unlocked(c, j->f);
	*members_at(j, j->depth) = 0;
	j->depth++;
}

static void close_container(struct tfc_json *j, char c)
{
	j->depth--;
	if (*members_at(j, j->depth) && j->depth < j->wrap)
		new_line(j, j->depth);
	putc_unlocked(c, j->f);
}

void tfc_json_obj_begin(struct tfc_json *j, const char *key)
{
	open_container(j, key, '{');
}

void tfc_json_obj_end(struct tfc_json *j)
{
	close_container(j, '}');
}

void tfc_json_arr_begin(struct tfc_json *j, const char *key)
{
	open_container(j, key, '[');
}

void tfc_json_arr_end(struct tfc_json *j)
{
	close_container(j, ']');
}

void tfc_json_str(struct tfc_json *j, const char *key, const char *v)
{
	member(j, key);
	tfc_json_string(j->f, v);
}

void tfc_json_u64(struct tfc_json *j, const char *key, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	member(j, key);
	/* By hand: fprintf's format parsing was a third of a 1M-entry dump. */
	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	fputs_unlocked(p, j->f);
}

void tfc_json_bool(struct tfc_json *j, const char *key, int v)
{
	member(j, key);
	fputs_unlocked(v ? "true" : "false", j->f);
}

void tfc_json_double(struct tfc_json *j, const char *key, double v)
{
	member(j, key);
	if (isfinite(v))
		fprintf(j->f, "%g", v);
	else
		fputs_unlocked("null", j->f);
}

int tfc_json_finish(struct tfc_json *j)
{
	putc_unlocked('\n', j->f);
	return ferror_unlocked(j->f) ? -EIO : 0;
}
