// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * report's periods and layout: which buckets a report covers (local time,
 * as record made them), then a table, JSON (openspec/specs/report.md) or
 * CSV, and the chart of a listing or a top.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export/json_writer.h"
#include "util/log.h"
#include "util/text.h"
#include "report.h"

/* Buckets a listing shows when --since is not given. */
static const int listing_default_n[TFC_RES_MAX] = {24, 24, 30, 12, 10};
static const char *const kind_names[] = {"summary", "listing", "top", "95th", "cgroups"};

/* ---- times ---------------------------------------------------------------- */

static void time_str(const struct report_args *a, time_t t, const char *fmt, char *buf, size_t len)
{
	struct tm tm;

	if (a->utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	strftime(buf, len, fmt, &tm);
}

/* RFC 3339 with the offset of that instant: "2026-03-29T03:00:00+02:00". */
static void iso_str(const struct report_args *a, time_t t, char *buf, size_t len)
{
	char z[8];

	time_str(a, t, "%Y-%m-%dT%H:%M:%S", buf, len);
	time_str(a, t, "%z", z, sizeof(z));
	snprintf(buf + strlen(buf), len - strlen(buf), "%.3s:%.2s", z, z + 3);
}

static const char *bucket_fmt(enum tfc_hist_res res)
{
	static const char *const f[TFC_RES_MAX] = {"%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M %Z",
						   "%Y-%m-%d", "%Y-%m", "%Y"};
	return f[res];
}

static time_t prev_bucket(enum tfc_hist_res res, time_t start)
{
	return tfc_history_bucket(res, start - 1);
}

/* Rounds up to a bucket start. */
static time_t bucket_ceil(enum tfc_hist_res res, time_t t)
{
	time_t b = tfc_history_bucket(res, t);

	return b == t ? b : tfc_history_bucket_next(res, b);
}

/* ---- numbers ---------------------------------------------------------------- */

static const char *si(double v, const char *unit, char *buf, size_t len)
{
	static const char prefix[] = "kMGTPE";
	int p = -1;

	while (v >= 999.5 && p < (int)sizeof(prefix) - 2) {
		v /= 1000;
		p++;
	}
	if (p < 0 && v > 0 && v < 9.995 && v != (double)(__u64)v)
		snprintf(buf, len, "%.2f %s", v, unit);
	else if (p < 0)
		snprintf(buf, len, "%.0f %s", v, unit);
	else
		snprintf(buf, len, "%.2f %c%s", v, prefix[p], unit);
	return buf;
}

static double rate(__u64 bytes, time_t seconds)
{
	return seconds > 0 ? (double)bytes / (double)seconds : 0;
}

/* For report_cgroups.c: the same times and numbers. */
void report_iso_str(const struct report_args *a, time_t t, char *buf, size_t len)
{
	iso_str(a, t, buf, len);
}

const char *report_si(double v, const char *unit, char *buf, size_t len)
{
	return si(v, unit, buf, len);
}

time_t report_seconds(const struct report_args *a, time_t start, time_t end)
{
	if (end > a->now)
		end = a->now;
	return end > start ? end - start : 0;
}

/* ---- one row, three formats ------------------------------------------------- */

struct row {
	const char *iface; /* or the address */
	const char *label; /* period name or bucket start */
	time_t start, end; /* end: exclusive; rates over [start, min(end, now)) */
	int prefix_len;	   /* top only */
	struct report_sum s;
};

struct out {
	const struct report_args *a;
	struct tfc_json j; /* JSON: the document, written as rows come */
	size_t rows;
};

/* The document's top and its list on lines of their own, a row on one line. */
#define REPORT_JSON_WRAP 2

static time_t row_seconds(const struct out *o, const struct row *r)
{
	time_t end = r->end < o->a->now ? r->end : o->a->now;

	return end > r->start ? end - r->start : 0;
}

static void json_sum(struct tfc_json *j, const struct report_sum *s)
{
	tfc_json_u64(j, "rx_bytes", s->rx_bytes);
	tfc_json_u64(j, "tx_bytes", s->tx_bytes);
	tfc_json_u64(j, "rx_packets", s->rx_packets);
	tfc_json_u64(j, "tx_packets", s->tx_packets);
}

static void row_json(struct out *o, const struct row *r)
{
	struct tfc_json *j = &o->j;
	time_t secs = row_seconds(o, r);
	char t[40];

	tfc_json_obj_begin(j, NULL);
	if (o->a->kind == REPORT_TOP) {
		tfc_json_str(j, "address", r->iface);
		tfc_json_u64(j, "prefix_len", (__u64)r->prefix_len);
	} else {
		tfc_json_str(j, "iface", r->iface);
	}
	if (o->a->kind == REPORT_SUMMARY)
		tfc_json_str(j, "period", r->label);
	iso_str(o->a, r->start, t, sizeof(t));
	tfc_json_str(j, "start", t);
	iso_str(o->a, r->end, t, sizeof(t));
	tfc_json_str(j, "end", t);
	tfc_json_u64(j, "ts", (__u64)r->start);
	tfc_json_u64(j, "seconds", (__u64)secs);
	json_sum(j, &r->s);
	tfc_json_double(j, "rx_bytes_per_s", rate(r->s.rx_bytes, secs));
	tfc_json_double(j, "tx_bytes_per_s", rate(r->s.tx_bytes, secs));
	tfc_json_obj_end(j);
}

static void row_csv(struct out *o, const struct row *r)
{
	time_t secs = row_seconds(o, r);
	char t0[40], t1[40];

	if (!o->rows)
		printf("%s,period,start,end,ts,seconds,rx_bytes,tx_bytes,rx_packets,tx_packets,"
		       "rx_bytes_per_s,tx_bytes_per_s\n",
		       o->a->kind == REPORT_TOP ? "address" : "iface");
	iso_str(o->a, r->start, t0, sizeof(t0));
	iso_str(o->a, r->end, t1, sizeof(t1));
	printf("%s%s%.0d,%s,%s,%s,%lld,%lld,%llu,%llu,%llu,%llu,%.3f,%.3f\n",
	       tfc_text_shown(r->iface), r->prefix_len ? "/" : "", r->prefix_len, r->label, t0, t1,
	       (long long)r->start, (long long)secs, (unsigned long long)r->s.rx_bytes,
	       (unsigned long long)r->s.tx_bytes, (unsigned long long)r->s.rx_packets,
	       (unsigned long long)r->s.tx_packets, rate(r->s.rx_bytes, secs),
	       rate(r->s.tx_bytes, secs));
}

static void row_table(struct out *o, const struct row *r)
{
	time_t secs = row_seconds(o, r);
	char rx[24], tx[24], rxr[24], txr[24], name[64];

	if (!o->rows)
		printf("%-24s %-22s %12s %12s %14s %14s\n",
		       o->a->kind == REPORT_TOP ? "address" : "iface", "period", "rx", "tx",
		       "rx rate", "tx rate");
	/* Any bytes can name an interface: escaped, as on every text output. */
	snprintf(name, sizeof(name), "%s%s%.0d", tfc_text_shown(r->iface), r->prefix_len ? "/" : "",
		 r->prefix_len);
	printf("%-24s %-22s %12s %12s %14s %14s\n", name, r->label,
	       si((double)r->s.rx_bytes, "B", rx, sizeof(rx)),
	       si((double)r->s.tx_bytes, "B", tx, sizeof(tx)),
	       si(rate(r->s.rx_bytes, secs), "B/s", rxr, sizeof(rxr)),
	       si(rate(r->s.tx_bytes, secs), "B/s", txr, sizeof(txr)));
}

static void emit(struct out *o, const struct row *r)
{
	if (o->a->format == TFC_FMT_JSON)
		row_json(o, r);
	else if (o->a->format == TFC_FMT_CSV)
		row_csv(o, r);
	else
		row_table(o, r);
	o->rows++;
}

static void out_begin(struct out *o, const struct report_args *a, const char *list_key,
		      const char *res)
{
	char t[40];

	memset(o, 0, sizeof(*o));
	o->a = a;
	if (a->format != TFC_FMT_JSON)
		return;
	tfc_json_init(&o->j, stdout, REPORT_JSON_WRAP);
	tfc_json_obj_begin(&o->j, NULL);
	tfc_json_u64(&o->j, "schema", 1);
	tfc_json_str(&o->j, "kind", kind_names[a->kind]);
	if (res)
		tfc_json_str(&o->j, "resolution", res);
	tfc_json_str(&o->j, "database", a->db);
	tfc_json_str(&o->j, "timezone", a->utc ? "UTC" : "local");
	iso_str(a, a->now, t, sizeof(t));
	tfc_json_str(&o->j, "now", t);
	tfc_json_arr_begin(&o->j, list_key);
}

static void out_end(struct out *o)
{
	if (o->a->format == TFC_FMT_JSON) {
		tfc_json_arr_end(&o->j);
		tfc_json_obj_end(&o->j);
		tfc_json_finish(&o->j);
	} else if (!o->rows && o->a->format == TFC_FMT_TABLE) {
		printf("no traffic recorded in this period\n");
	}
}

/* ---- summary ------------------------------------------------------------------ */

struct period {
	const char *name;
	enum tfc_hist_res res;
	time_t start, end;
	struct report_cells cells;
};

static void set_period(struct period *p, const char *name, enum tfc_hist_res res, time_t start)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->res = res;
	p->start = start;
	p->end = tfc_history_bucket_next(res, start);
}

static void summary_periods(const struct report_args *a, struct period p[4])
{
	time_t today = tfc_history_bucket(TFC_RES_DAY, a->now);
	time_t month = tfc_history_bucket(TFC_RES_MONTH, a->now);

	set_period(&p[0], "today", TFC_RES_DAY, today);
	set_period(&p[1], "yesterday", TFC_RES_DAY, prev_bucket(TFC_RES_DAY, today));
	set_period(&p[2], "this month", TFC_RES_MONTH, month);
	set_period(&p[3], "last month", TFC_RES_MONTH, prev_bucket(TFC_RES_MONTH, month));
}

/* Every interface named in any period, in order: the first period's, then new ones. */
static const char *next_iface(struct period p[4], const char *after)
{
	const char *best = NULL;

	for (int i = 0; i < 4; i++)
		for (size_t k = 0; k < p[i].cells.n; k++) {
			const char *n = p[i].cells.v[k].iface;

			if ((!after || strcmp(n, after) > 0) && (!best || strcmp(n, best) < 0))
				best = n;
		}
	return best;
}

static struct report_sum period_sum(const struct period *p, const char *iface)
{
	struct report_sum s = {0};

	for (size_t k = 0; k < p->cells.n; k++)
		if (!strcmp(p->cells.v[k].iface, iface))
			s = p->cells.v[k].s;
	return s;
}

static int report_summary(sqlite3 *db, const struct report_args *a)
{
	struct period p[4];
	struct out o;
	int err = 0;

	summary_periods(a, p);
	for (int i = 0; !err && i < 4; i++)
		err = report_query_cells(db, a, p[i].res, p[i].start, p[i].start + 1, &p[i].cells);
	if (!err) {
		out_begin(&o, a, "periods", NULL);
		for (const char *n = next_iface(p, NULL); n; n = next_iface(p, n))
			for (int i = 0; i < 4; i++)
				emit(&o, &(struct row){.iface = n,
						       .label = p[i].name,
						       .start = p[i].start,
						       .end = p[i].end,
						       .s = period_sum(&p[i], n)});
		out_end(&o);
	}
	for (int i = 0; i < 4; i++)
		report_cells_free(&p[i].cells);
	return err;
}

/* ---- listing ------------------------------------------------------------------- */

static void listing_range(const struct report_args *a, time_t *since, time_t *until)
{
	enum tfc_hist_res res = a->res;

	*until = a->until_set ? bucket_ceil(res, a->until)
			      : tfc_history_bucket_next(res, tfc_history_bucket(res, a->now));
	if (a->since_set) {
		*since = tfc_history_bucket(res, a->since);
		return;
	}
	*since = prev_bucket(res, *until);
	for (int i = 1; i < listing_default_n[res]; i++)
		*since = prev_bucket(res, *since);
}

struct chart_data {
	struct report_sum *sums;
	char (*labels)[64];
	const char **label_ptrs;
	size_t n, cap;
};

static int chart_add(struct chart_data *c, size_t i, const char *label, const struct report_sum *s)
{
	if (i >= c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		void *a = reallocarray(c->sums, cap, sizeof(*c->sums));

		if (!a)
			return -ENOMEM;
		c->sums = a;
		a = reallocarray(c->labels, cap, sizeof(*c->labels));
		if (!a)
			return -ENOMEM;
		c->labels = a;
		memset(c->sums + c->cap, 0, (cap - c->cap) * sizeof(*c->sums));
		c->cap = cap;
	}
	if (i >= c->n) {
		c->n = i + 1;
		snprintf(c->labels[i], sizeof(c->labels[i]), "%s", label);
	}
	c->sums[i].rx_bytes += s->rx_bytes;
	c->sums[i].tx_bytes += s->tx_bytes;
	c->sums[i].rx_packets += s->rx_packets;
	c->sums[i].tx_packets += s->tx_packets;
	return 0;
}

static void chart_free(struct chart_data *c)
{
	free(c->sums);
	free(c->labels);
	free(c->label_ptrs);
}

static int chart_write(const struct report_args *a, struct chart_data *c, const char *title)
{
	struct report_chart rc = {.title = title,
				  .sums = c->sums,
				  .n = c->n,
				  .width = a->chart_w,
				  .height = a->chart_h};

	c->label_ptrs = calloc(c->n ?: 1, sizeof(*c->label_ptrs));
	if (!c->label_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		c->label_ptrs[i] = c->labels[i];
	rc.labels = c->label_ptrs;
	return report_chart_write(a->chart, &rc);
}

/* One interface's buckets from [since, until), zeros where nothing was recorded. */
static int listing_iface(struct out *o, struct chart_data *c, const char *iface,
			 const struct report_cell *cell, size_t n, time_t since, time_t until)
{
	const struct report_args *a = o->a;
	size_t k = 0, i = 0;
	int err = 0;

	for (time_t b = since; !err && b < until; b = tfc_history_bucket_next(a->res, b), i++) {
		struct row r = {
			.iface = iface, .start = b, .end = tfc_history_bucket_next(a->res, b)};
		char label[64];

		while (k < n && cell[k].ts < b)
			k++;
		if (k < n && cell[k].ts == b)
			r.s = cell[k].s;
		time_str(a, b, bucket_fmt(a->res), label, sizeof(label));
		r.label = label;
		emit(o, &r);
		if (a->chart)
			err = chart_add(c, i, label, &r.s);
	}
	return err;
}

static void listing_title(const struct report_args *a, char *buf, size_t len)
{
	static const char *const what[TFC_RES_MAX] = {"5 minutes", "hour", "day", "month", "year"};

	snprintf(buf, len, "traffic-counter: bytes per %s, %s%s", what[a->res],
		 a->iface ?: "all interfaces", a->addr_set ? " (address filter)" : "");
}

static int report_listing(sqlite3 *db, const struct report_args *a)
{
	struct report_cells cells = {0};
	struct chart_data c = {0};
	time_t since, until;
	char title[160];
	struct out o;
	int err;

	listing_range(a, &since, &until);
	err = report_query_cells(db, a, a->res, since, until, &cells);
	if (err)
		goto out;
	out_begin(&o, a, "buckets", tfc_history_res_name(a->res));
	if (!cells.n && a->iface) {
		static const struct report_cell none;

		err = listing_iface(&o, &c, a->iface, &none, 0, since, until);
	}
	for (size_t i = 0; !err && i < cells.n;) {
		size_t j = i;

		while (j < cells.n && !strcmp(cells.v[j].iface, cells.v[i].iface))
			j++;
		err = listing_iface(&o, &c, cells.v[i].iface, &cells.v[i], j - i, since, until);
		i = j;
	}
	out_end(&o);
	listing_title(a, title, sizeof(title));
	if (!err && a->chart)
		err = chart_write(a, &c, title);
out:
	chart_free(&c);
	report_cells_free(&cells);
	return err;
}

/* ---- top ---------------------------------------------------------------------- */

static int report_top(sqlite3 *db, const struct report_args *a)
{
	time_t since = a->since_set ? a->since : tfc_history_bucket(TFC_RES_DAY, a->now);
	enum tfc_hist_res res = report_pick_res(TFC_RES_HOUR, since, a->until, a->until_set);
	time_t until = a->until_set ? bucket_ceil(res, a->until)
				    : tfc_history_bucket_next(res, tfc_history_bucket(res, a->now));
	struct report_addrs addrs = {0};
	struct chart_data c = {0};
	char title[160], t0[40];
	struct out o;
	size_t n;
	int err;

	since = tfc_history_bucket(res, since);
	err = report_query_addrs(db, a, res, since, until, &addrs);
	if (err)
		goto out;
	n = addrs.n < a->top ? addrs.n : a->top;
	out_begin(&o, a, "addresses", tfc_history_res_name(res));
	time_str(a, since, "%Y-%m-%d %H:%M", t0, sizeof(t0));
	for (size_t i = 0; !err && i < n; i++) {
		const struct report_addr *ad = &addrs.v[i];
		/* One address (or "other"): its family's full length, or 0. */
		int full =
			ad->prefix_len == 0 || ad->prefix_len == (strchr(ad->addr, ':') ? 128 : 32);

		emit(&o, &(struct row){.iface = ad->addr,
				       .label = t0,
				       .start = since,
				       .end = until,
				       .prefix_len = full ? 0 : ad->prefix_len,
				       .s = ad->s});
		if (a->chart)
			err = chart_add(&c, i, ad->addr, &ad->s);
	}
	out_end(&o);
	snprintf(title, sizeof(title), "traffic-counter: top %zu addresses since %s", n, t0);
	if (!err && a->chart)
		err = chart_write(a, &c, title);
out:
	chart_free(&c);
	report_addrs_free(&addrs);
	return err;
}

/* ---- 95th percentile -------------------------------------------------------------- */

static void p95_json(const struct report_args *a, const struct report_p95 *p, size_t n)
{
	struct tfc_json j;

	tfc_json_init(&j, stdout, REPORT_JSON_WRAP);
	tfc_json_obj_begin(&j, NULL);
	tfc_json_u64(&j, "schema", 1);
	tfc_json_str(&j, "kind", "95th");
	tfc_json_str(&j, "database", a->db);
	tfc_json_arr_begin(&j, "percentiles");
	for (size_t i = 0; i < n; i++) {
		tfc_json_obj_begin(&j, NULL);
		tfc_json_str(&j, "iface", p[i].iface);
		tfc_json_str(&j, "direction", p[i].dir ? "tx" : "rx");
		tfc_json_u64(&j, "samples", p[i].samples);
		tfc_json_double(&j, "bytes_per_s", p[i].bytes_per_s);
		tfc_json_double(&j, "bits_per_s", p[i].bytes_per_s * 8);
		tfc_json_obj_end(&j);
	}
	tfc_json_arr_end(&j);
	tfc_json_obj_end(&j);
	tfc_json_finish(&j);
}

static void p95_print(const struct report_args *a, const struct report_p95 *p, size_t n)
{
	char b1[24], b2[24];

	if (a->format == TFC_FMT_JSON) {
		p95_json(a, p, n);
		return;
	}
	if (a->format == TFC_FMT_CSV)
		printf("iface,direction,samples,bytes_per_s,bits_per_s\n");
	else
		printf("%-24s %-4s %8s %14s %14s\n", "iface", "dir", "samples", "95th",
		       "95th bits");
	for (size_t i = 0; i < n; i++) {
		const char *dir = p[i].dir ? "tx" : "rx";

		if (a->format == TFC_FMT_CSV)
			printf("%s,%s,%zu,%.3f,%.3f\n", tfc_text_shown(p[i].iface), dir,
			       p[i].samples, p[i].bytes_per_s, p[i].bytes_per_s * 8);
		else
			printf("%-24s %-4s %8zu %14s %14s\n", tfc_text_shown(p[i].iface), dir,
			       p[i].samples, si(p[i].bytes_per_s, "B/s", b1, sizeof(b1)),
			       si(p[i].bytes_per_s * 8, "bit/s", b2, sizeof(b2)));
	}
}

static int report_p95(sqlite3 *db, const struct report_args *a)
{
	time_t since = a->since_set ? a->since : tfc_history_bucket(TFC_RES_MONTH, a->now);
	time_t until = a->until_set ? a->until : a->now + 1;
	struct report_p95 *p = NULL;
	size_t n = 0;
	int err = report_query_p95(db, a, tfc_history_bucket(TFC_RES_5MIN, since), until, &p, &n);

	if (!err)
		p95_print(a, p, n);
	free(p);
	return err;
}

int report_run(sqlite3 *db, const struct report_args *a)
{
	switch (a->kind) {
	case REPORT_LISTING:
		return report_listing(db, a);
	case REPORT_TOP:
		return report_top(db, a);
	case REPORT_P95:
		return report_p95(db, a);
	default:
		return report_summary(db, a);
	}
}
