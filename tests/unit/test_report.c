// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* report's arithmetic and options: the 95th percentile, the resolution of a period, parsing. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "opts.h"
#include "report/report.h"

static struct unit_args args;
static struct unit_capture cap_out, cap_err;

static int run_report(struct report_args *a)
{
	int err;

	unit_capture_start(&cap_out, stdout);
	unit_capture_start(&cap_err, stderr);
	err = report_parse(args.argc, args.argv, a);
	unit_capture_end(&cap_err);
	unit_capture_end(&cap_out);
	return err;
}

#define REPORT(out, ...) (UNIT_ARGS(&args, __VA_ARGS__), run_report(out))

/* Nearest rank: the highest floor(n / 20) samples are discarded. */
static void test_percentile95(void **state)
{
	double v[100];

	(void)state;
	assert_true(report_percentile95(v, 0) == 0);
	v[0] = 7;
	assert_true(report_percentile95(v, 1) == 7);
	/* 1..19: nothing discarded, the maximum. */
	for (int i = 0; i < 19; i++)
		v[i] = 19 - i;
	assert_true(report_percentile95(v, 19) == 19);
	/* 1..20: one discarded. */
	for (int i = 0; i < 20; i++)
		v[i] = 20 - i;
	assert_true(report_percentile95(v, 20) == 19);
	/* 1..100 shuffled: five discarded, the 95th value. */
	for (int i = 0; i < 100; i++)
		v[i] = (double)((i * 37) % 100 + 1);
	assert_true(report_percentile95(v, 100) == 95);
}

static time_t local(int y, int mon, int d, int h)
{
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h, .tm_isdst = -1};

	return mktime(&tm);
}

/* The coarsest rows that tile a period, in local time across DST. */
static void test_pick_res(void **state)
{
	(void)state;
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	assert_int_equal(report_pick_res(TFC_RES_HOUR, local(2026, 3, 1, 0), 0, 0),
			 TFC_RES_YEAR - 1);
	assert_int_equal(
		report_pick_res(TFC_RES_HOUR, local(2026, 3, 1, 0), local(2026, 4, 1, 0), 1),
		TFC_RES_MONTH);
	assert_int_equal(
		report_pick_res(TFC_RES_HOUR, local(2026, 3, 29, 0), local(2026, 3, 30, 0), 1),
		TFC_RES_DAY);
	assert_int_equal(
		report_pick_res(TFC_RES_HOUR, local(2026, 3, 29, 0), local(2026, 3, 29, 5), 1),
		TFC_RES_HOUR);
	assert_int_equal(report_pick_res(TFC_RES_HOUR, local(2026, 1, 1, 0), 0, 0), TFC_RES_YEAR);
	/* Not on an hour: hours anyway (the caller rounds down). */
	assert_int_equal(report_pick_res(TFC_RES_HOUR, local(2026, 3, 29, 0) + 60, 0, 0),
			 TFC_RES_HOUR);
	assert_int_equal(report_pick_res(TFC_RES_5MIN, local(2026, 3, 29, 0) + 300, 0, 0),
			 TFC_RES_5MIN);
}

static void test_parse(void **state)
{
	struct report_args a;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(REPORT(&a, "report"), 0);
	assert_int_equal(a.kind, REPORT_SUMMARY);
	assert_string_equal(a.db, TFC_HISTORY_DB_DEFAULT);
	assert_int_equal(REPORT(&a, "report", "--days", "--since", "2026-03-29 01:30", "--until",
				"2026-03-30", "--csv", "--chart", "x.PNG"),
			 0);
	assert_int_equal(a.kind, REPORT_LISTING);
	assert_int_equal(a.res, TFC_RES_DAY);
	assert_int_equal(a.since, 1774747800);
	assert_int_equal(a.until, 1774828800);
	assert_int_equal(a.format, TFC_FMT_CSV);
	assert_int_equal(REPORT(&a, "report", "--top", "5", "--address", "198.18.0.0/16"), 0);
	assert_int_equal(a.top, 5);
	assert_int_equal(a.addr.plen, 16);
	assert_int_equal(REPORT(&a, "report", "--chart-size", "640x300", "--95th"), 0);
	assert_int_equal(a.chart_w, 640);
	assert_int_equal(a.chart_h, 300);
	assert_int_equal(REPORT(&a, "report", "--hours", "--5min"), -EINVAL);
	assert_int_equal(REPORT(&a, "report", "--since", "2026-03-29T25:00", "--days"), -EINVAL);
	assert_int_equal(REPORT(&a, "report", "--chart", "x.jpg", "--days"), -EINVAL);
	assert_int_equal(REPORT(&a, "report", "--chart-size", "640by300"), -EINVAL);
	assert_true(report_chart_path_ok("a.svg") && report_chart_path_ok("b.Png"));
	assert_false(report_chart_path_ok("svg"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile95),
		cmocka_unit_test(test_pick_res),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
