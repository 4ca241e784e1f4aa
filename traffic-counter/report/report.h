/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * report: answers from the history database that record writes
 * (openspec/specs/report.md). report_query.c reads sums out of it,
 * cmd_report.c lays them out as text, JSON or CSV, report_chart.c draws a
 * listing as a bar chart (SVG or PNG, one cairo API).
 */
#ifndef TFC_REPORT_H
#define TFC_REPORT_H

#include <stddef.h>
#include <time.h>
#include <sqlite3.h>
#include <linux/types.h>

#include "export/format.h"
#include "export/history.h"

/* What report shows: one of these per run. */
enum report_kind {
	REPORT_SUMMARY, /* today, yesterday, this month, last month */
	REPORT_LISTING, /* one row per bucket of one resolution */
	REPORT_TOP,	/* the N addresses with the most bytes in a period */
	REPORT_P95,	/* 95th percentile of the 5-minute rates */
	REPORT_CGROUPS, /* the cgroups of a period, largest first (--top N: the N first) */
};

struct report_args {
	const char *db;
	enum report_kind kind;
	enum tfc_hist_res res; /* REPORT_LISTING */
	time_t since, until;
	int since_set, until_set;
	const char *since_str, *until_str; /* read once --utc is known */
	int utc;
	const char *iface;
	struct tfc_addr_filter addr;
	int addr_set;
	__u32 top;
	int cgroups; /* --cgroups: REPORT_CGROUPS once every option is read */
	enum tfc_format format;
	const char *chart;
	__u32 chart_w, chart_h;
	time_t now; /* the time the report is of; $TRAFFIC_COUNTER_NOW in tests */
};

/* Sums of one interface (or address) in one bucket or period. */
struct report_sum {
	__u64 rx_bytes, tx_bytes, rx_packets, tx_packets;
};

/* A bucket of one interface: its start and what was recorded in it. */
struct report_cell {
	char iface[TFC_IFNAME_LEN];
	time_t ts;
	struct report_sum s;
};

struct report_cells {
	struct report_cell *v;
	size_t n, cap;
};

/* One address (or prefix, or "other") of --top. */
struct report_addr {
	char addr[TFC_ADDR_STRLEN + 8];
	int prefix_len;
	struct report_sum s;
};

struct report_addrs {
	struct report_addr *v;
	size_t n, cap;
};

/* The 95th percentile of one interface and direction. */
struct report_p95 {
	char iface[TFC_IFNAME_LEN];
	int dir; /* enum tfc_direction */
	size_t samples;
	double bytes_per_s;
};

/*
 * Sums per interface and bucket of `res` over [since, until), sorted by
 * interface then bucket; with an address filter, from the address rows
 * (hour and coarser only). Appends to *out. 0 or a negative errno.
 */
int report_query_cells(sqlite3 *db, const struct report_args *a, enum tfc_hist_res res,
		       time_t since, time_t until, struct report_cells *out);

/* The addresses of [since, until) at `res`, largest first. */
int report_query_addrs(sqlite3 *db, const struct report_args *a, enum tfc_hist_res res,
		       time_t since, time_t until, struct report_addrs *out);

/*
 * 95th percentile of the 5-minute rates over [since, until), per interface
 * and direction. *out is allocated; *n its length.
 */
int report_query_p95(sqlite3 *db, const struct report_args *a, time_t since, time_t until,
		     struct report_p95 **out, size_t *n);

/* The percentile itself: v sorted in place; 0 for n == 0. */
double report_percentile95(double *v, size_t n);

/*
 * The coarsest resolution, at least `min`, whose buckets tile [since,
 * until): since on a bucket start, and until on one or not given (then the
 * current bucket holds what was recorded so far).
 */
enum tfc_hist_res report_pick_res(enum tfc_hist_res min, time_t since, time_t until, int until_set);

void report_cells_free(struct report_cells *c);
void report_addrs_free(struct report_addrs *c);

/* One bar chart of a listing, one bar per bucket and direction. */
struct report_chart {
	const char *title;
	const char *const *labels; /* one per bucket */
	const struct report_sum *sums;
	size_t n;
	__u32 width, height;
};

/* Whether the name ends in .svg or .png (any case). */
int report_chart_path_ok(const char *path);

/* Writes FILE.svg or FILE.png. 0, or a negative errno after logging. */
int report_chart_write(const char *path, const struct report_chart *c);

/* One cgroup of --cgroups: its path and the names recorded with it. */
struct report_cgroup {
	char *cgroup, *unit, *container, *pod, *pod_namespace;
	struct report_sum s;
};

struct report_cgroups {
	struct report_cgroup *v;
	size_t n, cap;
};

/* report_cgroups.c: the cgroups of [since, until) at `res`, largest first. */
int report_query_cgroups(sqlite3 *db, enum tfc_hist_res res, time_t since, time_t until,
			 struct report_cgroups *out);
void report_cgroups_free(struct report_cgroups *c);
/* Runs --cgroups and prints it. 0 or -errno. */
int report_cgroups(sqlite3 *db, const struct report_args *a);

/* report_out.c's layout, shared with report_cgroups.c. */
void report_iso_str(const struct report_args *a, time_t t, char *buf, size_t len);
const char *report_si(double v, const char *unit, char *buf, size_t len);
/* The time a period's rates are over: [start, min(end, now)). */
time_t report_seconds(const struct report_args *a, time_t start, time_t end);

/* 0, TFC_OPTS_HELP, or -EINVAL after printing the usage error. */
int report_parse(int argc, char **argv, struct report_args *a);

/* report_out.c: runs the report a asks for (not --cgroups) and prints it. 0 or -errno. */
int report_run(sqlite3 *db, const struct report_args *a);

#endif /* TFC_REPORT_H */
