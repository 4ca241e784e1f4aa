// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The two escapings of text from outside: util/text for terminals and logs,
 * json_writer's strings for JSON. An interface can be renamed to any bytes
 * but '/', ':', whitespace and NUL (issue 18 point 6).
 */
#include <stdlib.h>

#include "unit.h"
#include "export/json_writer.h"
#include "util/text.h"

static void test_utf8_len(void **state)
{
	(void)state;
	assert_int_equal(tfc_utf8_len("a"), 1);
	assert_int_equal(tfc_utf8_len("\xc3\xa9"), 2);	       /* é */
	assert_int_equal(tfc_utf8_len("\xe2\x82\xac"), 3);     /* € */
	assert_int_equal(tfc_utf8_len("\xf0\x9f\x98\x80"), 4); /* U+1F600 */
	assert_int_equal(tfc_utf8_len("\xc3"), 0);	       /* cut short */
	assert_int_equal(tfc_utf8_len("\xc3("), 0);	       /* not a continuation */
	assert_int_equal(tfc_utf8_len("\x80"), 0);	       /* continuation first */
	assert_int_equal(tfc_utf8_len("\xc0\xaf"), 0);	       /* overlong '/' */
	assert_int_equal(tfc_utf8_len("\xe0\x80\xaf"), 0);     /* overlong */
	assert_int_equal(tfc_utf8_len("\xed\xa0\x80"), 0);     /* surrogate U+D800 */
	assert_int_equal(tfc_utf8_len("\xf4\x90\x80\x80"), 0); /* above U+10FFFF */
	assert_int_equal(tfc_utf8_len("\xf5\x80\x80\x80"), 0);
	assert_int_equal(tfc_utf8_len("\xff"), 0);
}

static void expect_safe(const char *in, const char *want)
{
	char buf[TFC_SAFE_LEN(64)];

	assert_string_equal(tfc_text_safe(in, buf, sizeof(buf)), want);
	assert_int_equal(tfc_text_is_safe(in), !strcmp(in, want));
}

static void test_text_safe(void **state)
{
	(void)state;
	expect_safe("eth0", "eth0");
	expect_safe("caf\xc3\xa9", "caf\xc3\xa9"); /* valid UTF-8 stays */
	expect_safe("\x1b[31mx", "\\x1b[31mx");
	expect_safe("a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd");
	expect_safe("del\x7f", "del\\x7f");
	expect_safe("csi\xc2\x9b", "csi\\xc2\\x9b"); /* C1 control U+009B */
	expect_safe("nbsp\xc2\xa0", "nbsp\xc2\xa0"); /* U+00A0 is printable */
	expect_safe("caf\xe9", "caf\\xe9");	     /* Latin-1, not UTF-8 */
	expect_safe("\xff\xfe", "\\xff\\xfe");
	expect_safe("a\\x1b", "a\\\\x1b"); /* a backslash cannot fake an escape */
	expect_safe("q\"'", "q\"'");
	expect_safe("", "");
}

/* A short buffer: cut at a whole character or escape, always terminated. */
static void test_text_safe_truncates(void **state)
{
	char buf[6];

	(void)state;
	assert_string_equal(tfc_text_safe("abcdefgh", buf, sizeof(buf)), "abcde");
	assert_string_equal(tfc_text_safe("ab\x1b", buf, sizeof(buf)), "ab");
	assert_string_equal(tfc_text_safe("abcd\xc3\xa9", buf, sizeof(buf)), "abcd");
	assert_string_equal(tfc_text_safe("\x1b\x1b", buf, sizeof(buf)), "\\x1b");
}

static void test_text_printable(void **state)
{
	(void)state;
	assert_true(tfc_text_is_printable("we\"ird\\dev"));
	assert_false(tfc_text_is_safe("we\"ird\\dev"));
	assert_false(tfc_text_is_printable("\x1b"));
	assert_false(tfc_text_is_printable("a\xff"));
	assert_true(tfc_text_is_printable("\xe2\x82\xac"));
}

/* The last few answers of tfc_text_shown stay valid together. */
static void test_text_shown_slots(void **state)
{
	const char *a, *b;

	(void)state;
	a = tfc_text_shown("a\x01");
	b = tfc_text_shown("b\x02");
	assert_string_equal(a, "a\\x01");
	assert_string_equal(b, "b\\x02");
}

/* tfc_json_string of s, as text. */
static char *json_of(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	tfc_json_string(f, s);
	fclose(f);
	return out;
}

static void expect_json(const char *in, const char *want)
{
	char *got = json_of(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_json_string(void **state)
{
	(void)state;
	expect_json("eth0", "\"eth0\"");
	expect_json("q\"b\\", "\"q\\\"b\\\\\"");
	expect_json("\x1b[31m", "\"\\u001b[31m\"");
	expect_json("\n\t\x01\x1f\x7f", "\"\\u000a\\u0009\\u0001\\u001f\\u007f\"");
	expect_json("csi\xc2\x9b", "\"csi\\u009b\"");
	expect_json("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	expect_json("caf\xe9", "\"caf\\ufffd\"");		  /* each invalid byte: U+FFFD */
	expect_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
	expect_json("a/b", "\"a/b\"");
	expect_json(NULL, "null");
}

/* Nesting, commas, wrapping: what dump-maps, status and verify rely on. */
static void test_json_writer_layout(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct tfc_json j;

	(void)state;
	assert_non_null(f);
	tfc_json_init(&j, f, 1);
	tfc_json_arr_begin(&j, NULL);
	for (int i = 0; i < 2; i++) {
		tfc_json_obj_begin(&j, NULL);
		tfc_json_str(&j, "k\x01", "v");
		tfc_json_u64(&j, "n", UINT64_MAX);
		tfc_json_bool(&j, "b", i);
		tfc_json_double(&j, "d", 0.5);
		tfc_json_arr_begin(&j, "e");
		tfc_json_arr_end(&j);
		tfc_json_obj_end(&j);
	}
	tfc_json_arr_end(&j);
	assert_int_equal(tfc_json_finish(&j), 0);
	fclose(f);
	assert_string_equal(out, "[\n"
				 "  {\"k\\u0001\":\"v\",\"n\":18446744073709551615,\"b\":false,"
				 "\"d\":0.5,\"e\":[]},\n"
				 "  {\"k\\u0001\":\"v\",\"n\":18446744073709551615,\"b\":true,"
				 "\"d\":0.5,\"e\":[]}\n"
				 "]\n");
	free(out);
}

static void test_json_writer_empty_and_pretty(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct tfc_json j;

	(void)state;
	assert_non_null(f);
	tfc_json_init(&j, f, TFC_JSON_DEPTH);
	tfc_json_obj_begin(&j, NULL);
	tfc_json_arr_begin(&j, "none");
	tfc_json_arr_end(&j);
	tfc_json_obj_begin(&j, "o");
	tfc_json_str(&j, "s", NULL);
	tfc_json_double(&j, "inf", 1.0 / 0.0);
	tfc_json_obj_end(&j);
	tfc_json_obj_end(&j);
	tfc_json_finish(&j);
	fclose(f);
	assert_string_equal(out, "{\n"
				 "  \"none\": [],\n"
				 "  \"o\": {\n"
				 "    \"s\": null,\n"
				 "    \"inf\": null\n"
				 "  }\n"
				 "}\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_text_safe),
		cmocka_unit_test(test_text_safe_truncates),
		cmocka_unit_test(test_text_printable),
		cmocka_unit_test(test_text_shown_slots),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_json_writer_layout),
		cmocka_unit_test(test_json_writer_empty_and_pretty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
