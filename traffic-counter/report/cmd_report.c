// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * report: traffic per interface or address out of the history database
 * that record writes (openspec/specs/report.md): a summary (today,
 * yesterday, this month, last month), a listing per bucket, the top
 * addresses of a period or the 95th percentile of the 5-minute rates; as a
 * table, JSON or CSV, and a listing also as a bar chart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "commands.h"
#include "report.h"

enum {
	OPT_DB = 1,
	OPT_5MIN,
	OPT_HOURS,
	OPT_DAYS,
	OPT_MONTHS,
	OPT_YEARS,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_UTC,
	OPT_IFACE,
	OPT_ADDRESS,
	OPT_TOP,
	OPT_95TH,
	OPT_CGROUPS,
	OPT_JSON,
	OPT_CSV,
	OPT_CHART,
	OPT_CHART_SIZE,
};

static const struct tfc_opt report_opts[] = {
	{"db", "FILE", "the history database (default " TFC_HISTORY_DB_DEFAULT ")", OPT_DB},
	{"5min", NULL, "list 5-minute buckets (default: the last 2 hours)", OPT_5MIN},
	{"hours", NULL, "list hours (default: the last 24)", OPT_HOURS},
	{"days", NULL, "list days (default: the last 30)", OPT_DAYS},
	{"months", NULL, "list months (default: the last 12)", OPT_MONTHS},
	{"years", NULL, "list years (default: the last 10)", OPT_YEARS},
	{"since", "TIME", "from TIME: YYYY-MM-DD[ HH:MM[:SS]], local time unless --utc", OPT_SINCE},
	{"until", "TIME", "up to TIME, excluded (default: now)", OPT_UNTIL},
	{"utc", NULL, "read and print times in UTC instead of local time", OPT_UTC},
	{"iface", "NAME", "only this interface", OPT_IFACE},
	{"address", "IP|CIDR",
	 "only this address, or the sum of the addresses and prefixes under the CIDR", OPT_ADDRESS},
	{"top", "N", "the N addresses with the most bytes in the period (default: today)", OPT_TOP},
	{"95th", NULL,
	 "95th percentile of the 5-minute rates per interface and direction (default: this "
	 "month)",
	 OPT_95TH},
	{"cgroups", NULL,
	 "the cgroups with the most bytes in the period (default: today), all or --top N",
	 OPT_CGROUPS},
	{"json", NULL, "print JSON (schema in report(8) and openspec/specs/report.md)", OPT_JSON},
	{"csv", NULL, "print CSV", OPT_CSV},
	{"chart", "FILE", "also draw the listing or the top as a bar chart: FILE.svg or FILE.png",
	 OPT_CHART},
	{"chart-size", "WxH", "the chart's size in pixels (default 800x400)", OPT_CHART_SIZE},
	{0},
};

const struct tfc_cmd_def report_def = {
	.name = "report",
	.summary = "Traffic per interface and address from the history database that record\n"
		   "writes: today, yesterday, this month and last month by default; buckets of\n"
		   "5 minutes, hours, days, months or years; the top addresses; the 95th\n"
		   "percentile of the 5-minute rates. Buckets follow local time, as vnStat's.",
	.opts = report_opts,
	.examples = "  traffic-counter report\n"
		    "  traffic-counter report --days --iface eth0 --chart days.svg\n"
		    "  traffic-counter report --hours --since '2026-03-29' --until '2026-03-30'\n"
		    "  traffic-counter report --top 10 --since 2026-12-01\n"
		    "  traffic-counter report --address 198.18.0.0/24 --months --json\n"
		    "  traffic-counter report --95th --iface eth0\n"
		    "  traffic-counter report --cgroups --top 5 --since 2026-12-01 --json\n",
};

/* "YYYY-MM-DD[( |T)HH:MM[:SS]]" in local time, or UTC. */
static int parse_time(const char *option, const char *s, int utc, time_t *out)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%d", &tm);

	if (end && (*end == ' ' || *end == 'T')) {
		const char *e2 = strptime(end + 1, "%H:%M:%S", &tm);

		end = e2 ?: strptime(end + 1, "%H:%M", &tm);
	}
	if (!end || *end)
		return tfc_opt_invalid(option, "'%s' is not YYYY-MM-DD[ HH:MM[:SS]]", s);
	tm.tm_isdst = -1;
	*out = utc ? timegm(&tm) : mktime(&tm);
	return 0;
}

static int set_kind(struct report_args *a, enum report_kind k, const char *option)
{
	if (a->kind != REPORT_SUMMARY && a->kind != k)
		return tfc_opt_invalid(option, "choose one of --5min/--hours/--days/--months/"
					       "--years, --top and --95th");
	a->kind = k;
	return 0;
}

static int set_res(struct report_args *a, enum tfc_hist_res res, const char *option)
{
	if (a->kind == REPORT_LISTING && a->res != res)
		return tfc_opt_invalid(option, "choose one resolution");
	a->res = res;
	return set_kind(a, REPORT_LISTING, option);
}

static int set_format(struct report_args *a, enum tfc_format f, const char *option)
{
	if (a->format != TFC_FMT_TABLE && a->format != f)
		return tfc_opt_invalid(option, "choose one of --json and --csv");
	a->format = f;
	return 0;
}

static int parse_size(const char *s, __u32 *w, __u32 *h)
{
	char x;

	if (sscanf(s, "%u%c%u", w, &x, h) != 3 || (x != 'x' && x != 'X') || *w < 200 || *w > 8000 ||
	    *h < 150 || *h > 8000)
		return tfc_opt_invalid("chart-size", "'%s' is not WxH from 200x150 to 8000x8000",
				       s);
	return 0;
}

static int report_opt(int id, const char *arg, void *ctx)
{
	struct report_args *a = ctx;

	switch (id) {
	case OPT_DB:
		a->db = arg;
		return 0;
	case OPT_5MIN:
		return set_res(a, TFC_RES_5MIN, "5min");
	case OPT_HOURS:
		return set_res(a, TFC_RES_HOUR, "hours");
	case OPT_DAYS:
		return set_res(a, TFC_RES_DAY, "days");
	case OPT_MONTHS:
		return set_res(a, TFC_RES_MONTH, "months");
	case OPT_YEARS:
		return set_res(a, TFC_RES_YEAR, "years");
	case OPT_SINCE:
		a->since_set = 1;
		a->since_str = arg;
		return 0;
	case OPT_UNTIL:
		a->until_set = 1;
		a->until_str = arg;
		return 0;
	case OPT_UTC:
		a->utc = 1;
		return 0;
	case OPT_IFACE:
		a->iface = arg;
		return 0;
	case OPT_ADDRESS:
		a->addr_set = 1;
		if (tfc_cidr_parse(arg, &a->addr))
			return tfc_opt_invalid("address",
					       "'%s' is not an IPv4 or IPv6 address or "
					       "CIDR",
					       arg);
		return 0;
	case OPT_TOP:
		return set_kind(a, REPORT_TOP, "top")
			       ?: tfc_parse_u32("top", arg, 1, 1000000, &a->top);
	case OPT_95TH:
		return set_kind(a, REPORT_P95, "95th");
	case OPT_CGROUPS:
		a->cgroups = 1;
		return 0;
	case OPT_JSON:
		return set_format(a, TFC_FMT_JSON, "json");
	case OPT_CSV:
		return set_format(a, TFC_FMT_CSV, "csv");
	case OPT_CHART:
		if (!report_chart_path_ok(arg))
			return tfc_opt_invalid("chart", "'%s' does not end in .svg or .png", arg);
		a->chart = arg;
		return 0;
	case OPT_CHART_SIZE:
		return parse_size(arg, &a->chart_w, &a->chart_h);
	default:
		return -EINVAL;
	}
}

/*
 * --cgroups is a period's cgroups as --top is its addresses: alone, or with
 * --top N, --since, --until and a format; not per interface or address.
 */
static int check_cgroups(struct report_args *a)
{
	if (a->kind != REPORT_SUMMARY && a->kind != REPORT_TOP)
		return tfc_opt_invalid("cgroups", "lists the cgroups of one period: use --since, "
						  "--until and --top N, not a listing or --95th");
	if (a->iface)
		return tfc_opt_invalid("iface", "cgroups are counted at their sockets, not per "
						"interface: drop --iface or --cgroups");
	if (a->addr_set)
		return tfc_opt_invalid("address", "cgroup rows have no address: drop --address or "
						  "--cgroups");
	if (a->chart)
		return tfc_opt_invalid("chart", "draws a listing or the top addresses, not "
						"--cgroups");
	a->kind = REPORT_CGROUPS;
	if (a->since_set && a->until_set && a->until <= a->since)
		return tfc_opt_invalid("until", "is not after --since");
	return 0;
}

/* Options that only make sense together, once all are read. */
static int check_combination(struct report_args *a)
{
	if (a->cgroups)
		return check_cgroups(a);
	if (a->chart && a->kind != REPORT_LISTING && a->kind != REPORT_TOP)
		return tfc_opt_invalid("chart", "draws a listing or the top: add --5min, --hours, "
						"--days, --months, --years or --top N");
	if (a->addr_set && a->kind == REPORT_P95)
		return tfc_opt_invalid("address", "--95th is per interface: addresses have no "
						  "5-minute rows");
	if (a->addr_set && a->kind == REPORT_LISTING && a->res == TFC_RES_5MIN)
		return tfc_opt_invalid("address", "addresses are kept per hour and coarser: use "
						  "--hours or coarser");
	if (a->kind == REPORT_SUMMARY && (a->since_set || a->until_set))
		return tfc_opt_invalid(a->since_set ? "since" : "until",
				       "needs a listing, --top or --95th");
	if (a->since_set && a->until_set && a->until <= a->since)
		return tfc_opt_invalid("until", "is not after --since");
	return 0;
}

/* After every option: --utc decides how --since and --until are read. */
static int parse_times(struct report_args *a)
{
	int err = 0;

	if (a->since_str)
		err = parse_time("since", a->since_str, a->utc, &a->since);
	if (!err && a->until_str)
		err = parse_time("until", a->until_str, a->utc, &a->until);
	return err;
}

static time_t report_now(void)
{
	const char *s = getenv("TRAFFIC_COUNTER_NOW");

	return s && *s ? (time_t)strtoll(s, NULL, 10) : time(NULL);
}

int report_parse(int argc, char **argv, struct report_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->db = TFC_HISTORY_DB_DEFAULT;
	a->chart_w = 800;
	a->chart_h = 400;
	a->now = report_now();
	err = tfc_opts_parse(&report_def, argc, argv, report_opt, a);
	if (!err)
		err = parse_times(a);
	return err ?: check_combination(a);
}

int cmd_report(int argc, char **argv)
{
	struct report_args a;
	sqlite3 *db = NULL;
	int err = tfc_parse_exit(report_parse(argc, argv, &a));

	if (err >= 0)
		return err;
	if (access(a.db, F_OK) && errno == ENOENT) {
		tfc_err("no history database at %s: record writes it (traffic-counter record); "
			"give another with --db",
			a.db);
		return TFC_EXIT_FAIL;
	}
	if (tfc_history_open(a.db, TFC_HISTORY_RDONLY, &db))
		return TFC_EXIT_FAIL;
	/* report_cgroups.c lays out its own rows with report_out.c's helpers. */
	err = a.kind == REPORT_CGROUPS ? report_cgroups(db, &a) : report_run(db, &a);
	sqlite3_close(db);
	return err ? TFC_EXIT_FAIL : TFC_EXIT_OK;
}
