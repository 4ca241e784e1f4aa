// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <limits.h>
#include <string.h>

#include "text.h"

/* A continuation byte: 10xxxxxx. */
static int cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t tfc_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return cont(p[1]) ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		/* E0 needs A0.. (no overlong form); ED stops at 9F (no surrogates). */
		if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f))
			return 0;
		return cont(p[1]) && cont(p[2]) ? 3 : 0;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		/* F0 needs 90.. (no overlong form); F4 stops at 8F (U+10FFFF). */
		if ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
			return 0;
		return cont(p[1]) && cont(p[2]) && cont(p[3]) ? 4 : 0;
	}
	return 0;
}

/* How many bytes at s are one printable character (0: s[0] is not). */
static size_t printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (p[0] < 0x20 || p[0] == 0x7f)
		return 0;
	n = tfc_utf8_len(s);
	/* U+0080..U+009F (C2 80..C2 9F): C1 controls, CSI among them. */
	if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return 0;
	return n;
}

/* How many bytes at s tfc_text_safe shows as they are (0: s[0] is escaped). */
static size_t shown_as_is(const char *s)
{
	return *s == '\\' ? 0 : printable(s);
}

int tfc_text_is_printable(const char *s)
{
	size_t n;

	for (; *s; s += n) {
		n = printable(s);
		if (!n)
			return 0;
	}
	return 1;
}

int tfc_text_is_safe(const char *s)
{
	return tfc_text_is_printable(s) && !strchr(s, '\\');
}

const char *tfc_text_safe(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, n;

	if (!len)
		return buf;
	for (; *s; s += n) {
		n = shown_as_is(s);
		if (n) {
			if (o + n >= len)
				break;
			memcpy(buf + o, s, n);
			o += n;
			continue;
		}
		n = 1;
		if (o + (*s == '\\' ? 2 : 4) >= len)
			break;
		buf[o++] = '\\';
		if (*s == '\\') {
			buf[o++] = '\\';
			continue;
		}
		buf[o++] = 'x';
		buf[o++] = hex[(unsigned char)*s >> 4];
		buf[o++] = hex[(unsigned char)*s & 0xf];
	}
	buf[o] = '\0';
	return buf;
}

const char *tfc_text_shown(const char *s)
{
	static char slot[TFC_SHOWN_SLOTS][TFC_SAFE_LEN(PATH_MAX)];
	static unsigned int next;
	char *buf = slot[next++ % TFC_SHOWN_SLOTS];

	return tfc_text_safe(s, buf, sizeof(slot[0]));
}
