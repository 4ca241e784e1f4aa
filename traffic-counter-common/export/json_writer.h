/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one JSON writer of every command: streams to a FILE, no document in
 * memory (dump-maps writes a million rows through it), and every string,
 * key or value, goes through tfc_json_string's escaping.
 */
#ifndef TFC_JSON_WRITER_H
#define TFC_JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>

#define TFC_JSON_DEPTH 16 /* deepest nesting a writer tracks */

struct tfc_json {
	FILE *f;
	/* Containers at depth < wrap put each member on a line of its own,
	 * indented; deeper ones are written on one line. 0: all on one line. */
	int wrap;
	int depth;
	unsigned long members[TFC_JSON_DEPTH];
};

/*
 * s as one JSON string, quotes included, valid UTF-8 whatever s holds:
 * '"' and '\' escaped, control characters (C0, DEL, C1) as \u00XX, and each
 * byte that is not part of valid UTF-8 replaced by U+FFFD. NULL: null.
 * Uses the _unlocked stdio calls: the caller owns f (flockfile for threads).
 */
void tfc_json_string(FILE *f, const char *s);

void tfc_json_init(struct tfc_json *j, FILE *f, int wrap);

/*
 * Each value takes the member name key inside an object, and NULL inside an
 * array or at the top.
 */
void tfc_json_obj_begin(struct tfc_json *j, const char *key);
void tfc_json_obj_end(struct tfc_json *j);
void tfc_json_arr_begin(struct tfc_json *j, const char *key);
void tfc_json_arr_end(struct tfc_json *j);
void tfc_json_str(struct tfc_json *j, const char *key, const char *v); /* NULL: null */
void tfc_json_u64(struct tfc_json *j, const char *key, uint64_t v);
void tfc_json_bool(struct tfc_json *j, const char *key, int v);
void tfc_json_double(struct tfc_json *j, const char *key, double v); /* %g; null if not finite */

/* Ends the document with a newline; 0, or -EIO when writing failed. */
int tfc_json_finish(struct tfc_json *j);

#endif /* TFC_JSON_WRITER_H */
