/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Text from outside (interface names, paths, arguments) made safe to show:
 * an interface can be renamed to any bytes but '/', ':', whitespace and NUL,
 * so a name may hold an escape sequence or bytes that are not UTF-8.
 */
#ifndef TFC_TEXT_H
#define TFC_TEXT_H

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at s (1 to 4 bytes; shortest form, no
 * surrogates, at most U+10FFFF), or 0 when s does not start one. s[0] must
 * not be NUL.
 */
size_t tfc_utf8_len(const char *s);

/* Room tfc_text_safe needs for n bytes of input: each may become 4 ("\xNN"). */
#define TFC_SAFE_LEN(n) (4 * (n) + 1)

/*
 * s as it may go to a terminal or a log line, into buf of len bytes: valid
 * UTF-8 but control characters (C0, DEL and C1) and invalid bytes as "\xNN",
 * and a backslash as "\\" so an escape cannot be mistaken for name text.
 * Truncated at a whole character when buf is too short; returns buf.
 */
const char *tfc_text_safe(const char *s, char *buf, size_t len);

/*
 * tfc_text_safe into one of a few static buffers, for printf arguments:
 * the last TFC_SHOWN_SLOTS answers stay valid. Not for threads; PATH_MAX
 * bytes of s at most are shown.
 */
#define TFC_SHOWN_SLOTS 4
const char *tfc_text_shown(const char *s);

/* Whether s is shown unchanged by tfc_text_safe. */
int tfc_text_is_safe(const char *s);

/* Whether s is valid UTF-8 without control characters (a backslash is fine). */
int tfc_text_is_printable(const char *s);

#endif /* TFC_TEXT_H */
