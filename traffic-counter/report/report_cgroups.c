// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * report --cgroups: the cgroups of a period out of cgroup_traffic, largest
 * first, each with the names recorded with it (so a cgroup removed since
 * still reads by unit, container and pod); as a table, JSON or CSV.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/json_writer.h"
#include "util/log.h"
#include "util/text.h"
#include "report.h"

/* Rows sorted by path, so one cgroup's two directions are adjacent. */
static const char cgroup_sql[] =
	"SELECT cgroup, dir, max(unit), max(container), max(pod), max(namespace), sum(packets),"
	" sum(bytes) FROM cgroup_traffic WHERE res = ?1 AND ts >= ?2 AND ts < ?3"
	" GROUP BY cgroup, dir ORDER BY cgroup, dir";

static char *column(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return strdup(s ? s : "");
}

static int cgroup_new(struct report_cgroups *out, sqlite3_stmt *st)
{
	struct report_cgroup *c;

	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		void *v = reallocarray(out->v, cap, sizeof(*out->v));

		if (!v)
			return -ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	c = &out->v[out->n++];
	memset(c, 0, sizeof(*c));
	c->cgroup = column(st, 0);
	c->unit = column(st, 2);
	c->container = column(st, 3);
	c->pod = column(st, 4);
	c->pod_namespace = column(st, 5);
	if (!c->cgroup || !c->unit || !c->container || !c->pod || !c->pod_namespace)
		return -ENOMEM;
	return 0;
}

/* One (cgroup, direction) sum: a new cgroup, or the other direction of the last. */
static int add_row(struct report_cgroups *out, sqlite3_stmt *st)
{
	const char *path = (const char *)sqlite3_column_text(st, 0);
	struct report_sum *s;
	__u64 packets = (__u64)sqlite3_column_int64(st, 6),
	      bytes = (__u64)sqlite3_column_int64(st, 7);
	int err;

	if (!path)
		return 0;
	if (!out->n || strcmp(out->v[out->n - 1].cgroup, path)) {
		err = cgroup_new(out, st);
		if (err)
			return err;
	}
	s = &out->v[out->n - 1].s;
	if (sqlite3_column_int(st, 1) == TFC_DIR_EGRESS) {
		s->tx_packets += packets;
		s->tx_bytes += bytes;
	} else {
		s->rx_packets += packets;
		s->rx_bytes += bytes;
	}
	return 0;
}

/* Largest first (both directions), then by path: a stable order. */
static int cmp_bytes(const void *pa, const void *pb)
{
	const struct report_cgroup *a = pa, *b = pb;
	__u64 x = a->s.rx_bytes + a->s.tx_bytes, y = b->s.rx_bytes + b->s.tx_bytes;

	if (x != y)
		return x > y ? -1 : 1;
	return strcmp(a->cgroup, b->cgroup);
}

int report_query_cgroups(sqlite3 *db, enum tfc_hist_res res, time_t since, time_t until,
			 struct report_cgroups *out)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db, cgroup_sql, -1, &st, NULL);
	rc = rc ?: sqlite3_bind_int(st, 1, res);
	rc = rc ?: sqlite3_bind_int64(st, 2, since);
	rc = rc ?: sqlite3_bind_int64(st, 3, until);
	if (rc) {
		tfc_err("%s: cannot read the cgroup rows: %s",
			sqlite3_db_filename(db, "main") ?: "history", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -EIO;
	}
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = add_row(out, st);
	if (!err && rc != SQLITE_DONE) {
		tfc_err("%s: cannot read the cgroup rows: %s",
			sqlite3_db_filename(db, "main") ?: "history", sqlite3_errmsg(db));
		err = -EIO;
	}
	sqlite3_finalize(st);
	if (!err && out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_bytes);
	return err;
}

void report_cgroups_free(struct report_cgroups *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].cgroup);
		free(c->v[i].unit);
		free(c->v[i].container);
		free(c->v[i].pod);
		free(c->v[i].pod_namespace);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ---- output -------------------------------------------------------------- */

struct period {
	time_t since, until, secs;
	enum tfc_hist_res res;
};

static double rate(__u64 bytes, time_t secs)
{
	return secs > 0 ? (double)bytes / (double)secs : 0;
}

/*
 * What a table shows of a cgroup: unit, else pod (NAMESPACE/NAME where the
 * namespace is known, as dump-maps writes it), else container, else "-".
 */
static const char *display_name(const struct report_cgroup *c, char *buf, size_t len)
{
	if (c->unit[0])
		return c->unit;
	if (c->pod[0] && c->pod_namespace[0]) {
		snprintf(buf, len, "%s/%s", c->pod_namespace, c->pod);
		return buf;
	}
	return c->pod[0] ? c->pod : c->container[0] ? c->container : "-";
}

static void print_table(const struct report_args *a, const struct period *p,
			const struct report_cgroup *v, size_t n)
{
	char rx[24], tx[24], rxr[24], txr[24], name[600];

	(void)a; /* the table shows no times: the same signature as the others */
	if (!n) {
		printf("no cgroup traffic recorded in this period\n");
		return;
	}
	printf("%-40s %-28s %12s %12s %14s %14s\n", "cgroup", "name", "rx", "tx", "rx rate",
	       "tx rate");
	for (size_t i = 0; i < n; i++)
		printf("%-40s %-28s %12s %12s %14s %14s\n", tfc_text_shown(v[i].cgroup),
		       tfc_text_shown(display_name(&v[i], name, sizeof(name))),
		       report_si((double)v[i].s.rx_bytes, "B", rx, sizeof(rx)),
		       report_si((double)v[i].s.tx_bytes, "B", tx, sizeof(tx)),
		       report_si(rate(v[i].s.rx_bytes, p->secs), "B/s", rxr, sizeof(rxr)),
		       report_si(rate(v[i].s.tx_bytes, p->secs), "B/s", txr, sizeof(txr)));
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_field(const char *s, int last)
{
	const char *shown = tfc_text_shown(s);

	if (strpbrk(shown, ",\"\r\n")) {
		putchar('"');
		for (; *shown; shown++) {
			if (*shown == '"')
				putchar('"');
			putchar(*shown);
		}
		putchar('"');
	} else {
		fputs(shown, stdout);
	}
	putchar(last ? '\n' : ',');
}

static void print_csv(const struct report_args *a, const struct period *p,
		      const struct report_cgroup *v, size_t n)
{
	char t0[40], t1[40];

	report_iso_str(a, p->since, t0, sizeof(t0));
	report_iso_str(a, p->until, t1, sizeof(t1));
	printf("cgroup,unit,container,pod,namespace,start,end,ts,seconds,rx_bytes,tx_bytes,"
	       "rx_packets,tx_packets,rx_bytes_per_s,tx_bytes_per_s\n");
	for (size_t i = 0; i < n; i++) {
		csv_field(v[i].cgroup, 0);
		csv_field(v[i].unit, 0);
		csv_field(v[i].container, 0);
		csv_field(v[i].pod, 0);
		csv_field(v[i].pod_namespace, 0);
		printf("%s,%s,%lld,%lld,%llu,%llu,%llu,%llu,%.3f,%.3f\n", t0, t1,
		       (long long)p->since, (long long)p->secs, (unsigned long long)v[i].s.rx_bytes,
		       (unsigned long long)v[i].s.tx_bytes, (unsigned long long)v[i].s.rx_packets,
		       (unsigned long long)v[i].s.tx_packets, rate(v[i].s.rx_bytes, p->secs),
		       rate(v[i].s.tx_bytes, p->secs));
	}
}

static void json_cgroup(struct tfc_json *j, const struct period *p, const char *t0, const char *t1,
			const struct report_cgroup *c)
{
	tfc_json_obj_begin(j, NULL);
	tfc_json_str(j, "cgroup", c->cgroup);
	tfc_json_str(j, "unit", c->unit);
	tfc_json_str(j, "container", c->container);
	tfc_json_str(j, "pod", c->pod);
	tfc_json_str(j, "namespace", c->pod_namespace);
	tfc_json_str(j, "start", t0);
	tfc_json_str(j, "end", t1);
	tfc_json_u64(j, "ts", (__u64)p->since);
	tfc_json_u64(j, "seconds", (__u64)p->secs);
	tfc_json_u64(j, "rx_bytes", c->s.rx_bytes);
	tfc_json_u64(j, "tx_bytes", c->s.tx_bytes);
	tfc_json_u64(j, "rx_packets", c->s.rx_packets);
	tfc_json_u64(j, "tx_packets", c->s.tx_packets);
	tfc_json_double(j, "rx_bytes_per_s", rate(c->s.rx_bytes, p->secs));
	tfc_json_double(j, "tx_bytes_per_s", rate(c->s.tx_bytes, p->secs));
	tfc_json_obj_end(j);
}

/* The document as report's others: schema, kind, resolution, where, when. */
static void print_json(const struct report_args *a, const struct period *p,
		       const struct report_cgroup *v, size_t n)
{
	char t0[40], t1[40], now[40];
	struct tfc_json j;

	report_iso_str(a, p->since, t0, sizeof(t0));
	report_iso_str(a, p->until, t1, sizeof(t1));
	report_iso_str(a, a->now, now, sizeof(now));
	tfc_json_init(&j, stdout, 2);
	tfc_json_obj_begin(&j, NULL);
	tfc_json_u64(&j, "schema", 1);
	tfc_json_str(&j, "kind", "cgroups");
	tfc_json_str(&j, "resolution", tfc_history_res_name(p->res));
	tfc_json_str(&j, "database", a->db);
	tfc_json_str(&j, "timezone", a->utc ? "UTC" : "local");
	tfc_json_str(&j, "now", now);
	tfc_json_arr_begin(&j, "cgroups");
	for (size_t i = 0; i < n; i++)
		json_cgroup(&j, p, t0, t1, &v[i]);
	tfc_json_arr_end(&j);
	tfc_json_obj_end(&j);
	tfc_json_finish(&j);
}

/* As --top's period: --since (default today) to --until, at hour or coarser. */
static void cgroups_period(const struct report_args *a, struct period *p)
{
	time_t since = a->since_set ? a->since : tfc_history_bucket(TFC_RES_DAY, a->now);

	p->res = report_pick_res(TFC_RES_HOUR, since, a->until, a->until_set);
	p->since = tfc_history_bucket(p->res, since);
	p->until = tfc_history_bucket(p->res, a->until_set ? a->until : a->now);
	if (!a->until_set || p->until != a->until)
		p->until = tfc_history_bucket_next(p->res, p->until);
	p->secs = report_seconds(a, p->since, p->until);
}

int report_cgroups(sqlite3 *db, const struct report_args *a)
{
	struct report_cgroups cg = {0};
	struct period p;
	size_t n;
	int err;

	cgroups_period(a, &p);
	err = report_query_cgroups(db, p.res, p.since, p.until, &cg);
	if (!err) {
		n = a->top && a->top < cg.n ? a->top : cg.n;
		if (a->format == TFC_FMT_JSON)
			print_json(a, &p, cg.v, n);
		else if (a->format == TFC_FMT_CSV)
			print_csv(a, &p, cg.v, n);
		else
			print_table(a, &p, cg.v, n);
	}
	report_cgroups_free(&cg);
	return err;
}
