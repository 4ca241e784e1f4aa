// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* report's reads of the history database: sums per bucket, addresses, 95th. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/traffic_counter_abi.h"
#include "util/log.h"
#include "report.h"

#define FIVE_MIN 300

void report_cells_free(struct report_cells *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

void report_addrs_free(struct report_addrs *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *nv;

	if (n < *cap)
		return 0;
	nv = reallocarray(*v, ncap, size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static void sum_add(struct report_sum *s, int dir, __u64 packets, __u64 bytes)
{
	if (dir == TFC_DIR_EGRESS) {
		s->tx_packets += packets;
		s->tx_bytes += bytes;
	} else {
		s->rx_packets += packets;
		s->rx_bytes += bytes;
	}
}

static int query_failed(sqlite3 *db, const char *what)
{
	tfc_err("%s: cannot read %s: %s", sqlite3_db_filename(db, "main") ?: "history", what,
		sqlite3_errmsg(db));
	return -EIO;
}

/* The address text of a row, as an address: 1 if it is one, 0 if not ("other"). */
static int row_addr(const char *text, __u8 *family, __u8 *addr)
{
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = 6;
		return 1;
	}
	return 0;
}

/*
 * Whether an address row counts under the --address filter: an address in
 * the CIDR, or a prefix row wholly inside it. A row with prefix_len 0 or the
 * full length is one address.
 */
static int row_matches(const struct report_args *a, const char *text, int plen)
{
	__u8 family, addr[16] = {0};

	if (!a->addr_set)
		return 1;
	if (!row_addr(text, &family, addr))
		return 0;
	if (plen > 0 && plen < (family == 4 ? 32 : 128) && plen < a->addr.plen)
		return 0;
	return tfc_addr_in_cidr(&a->addr, family, addr);
}

/* One address: its canonical text, so the index on addr finds it. */
static const char *single_addr(const struct report_args *a, char *buf, size_t len)
{
	if (!a->addr_set || a->addr.plen != (a->addr.family == 4 ? 32 : 128))
		return NULL;
	return tfc_addr_str(a->addr.family, a->addr.addr, buf, len);
}

static const char iface_sql[] =
	"SELECT ts, iface, dir, SUM(packets), SUM(bytes), '', 0 FROM iface_traffic"
	" WHERE res = ?1 AND ts >= ?2 AND ts < ?3 AND (?4 IS NULL OR iface = ?4)"
	" GROUP BY iface, ts, dir ORDER BY iface, ts";
static const char addr_sql[] =
	"SELECT ts, iface, dir, packets, bytes, addr, prefix_len FROM addr_traffic"
	" WHERE res = ?1 AND ts >= ?2 AND ts < ?3 AND (?4 IS NULL OR iface = ?4)"
	" AND (?5 IS NULL OR addr = ?5) ORDER BY iface, ts";

static int bind_range(sqlite3_stmt *st, const struct report_args *a, enum tfc_hist_res res,
		      time_t since, time_t until)
{
	int rc = sqlite3_bind_int(st, 1, res);

	rc = rc ?: sqlite3_bind_int64(st, 2, since);
	rc = rc ?: sqlite3_bind_int64(st, 3, until);
	if (a->iface)
		rc = rc ?: sqlite3_bind_text(st, 4, a->iface, -1, SQLITE_STATIC);
	return rc;
}

/* Appends the row to the last cell when it is the same interface and bucket. */
static int add_cell(struct report_cells *out, const char *iface, time_t ts, int dir, __u64 packets,
		    __u64 bytes)
{
	struct report_cell *c = out->n ? &out->v[out->n - 1] : NULL;

	if (!c || c->ts != ts || strncmp(c->iface, iface, sizeof(c->iface))) {
		if (grow((void **)&out->v, &out->cap, out->n, sizeof(*out->v)))
			return -ENOMEM;
		c = &out->v[out->n++];
		memset(c, 0, sizeof(*c));
		snprintf(c->iface, sizeof(c->iface), "%s", iface);
		c->ts = ts;
	}
	sum_add(&c->s, dir, packets, bytes);
	return 0;
}

int report_query_cells(sqlite3 *db, const struct report_args *a, enum tfc_hist_res res,
		       time_t since, time_t until, struct report_cells *out)
{
	char one[TFC_ADDR_STRLEN];
	const char *single = single_addr(a, one, sizeof(one));
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db, a->addr_set ? addr_sql : iface_sql, -1, &st, NULL);
	rc = rc ?: bind_range(st, a, res, since, until);
	if (!rc && single)
		rc = sqlite3_bind_text(st, 5, single, -1, SQLITE_STATIC);
	if (rc) {
		err = query_failed(db, "the traffic rows");
		goto out;
	}
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *iface = (const char *)sqlite3_column_text(st, 1);
		const char *addr = (const char *)sqlite3_column_text(st, 5);

		if (!iface || !row_matches(a, addr ?: "", sqlite3_column_int(st, 6)))
			continue;
		err = add_cell(out, iface, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 2),
			       sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4));
	}
	if (!err && rc != SQLITE_DONE)
		err = query_failed(db, "the traffic rows");
out:
	sqlite3_finalize(st);
	return err;
}

static int addr_cmp_key(const void *x, const void *y)
{
	const struct report_addr *a = x, *b = y;
	int c = strcmp(a->addr, b->addr);

	return c ?: a->prefix_len - b->prefix_len;
}

static __u64 addr_total(const struct report_addr *a)
{
	return a->s.rx_bytes + a->s.tx_bytes;
}

/* Most bytes first; ties by address so the output is stable. */
static int addr_cmp_bytes(const void *x, const void *y)
{
	const struct report_addr *a = x, *b = y;
	__u64 ta = addr_total(a), tb = addr_total(b);

	if (ta != tb)
		return ta < tb ? 1 : -1;
	return addr_cmp_key(a, b);
}

/*
 * The rows in key order, summed here: a hash over the addresses is some
 * times faster than SQLite's GROUP BY, which sorts every row of the period
 * (millions for a month of hours) in a temporary b-tree.
 */
static const char top_sql[] =
	"SELECT addr, prefix_len, dir, packets, bytes FROM addr_traffic"
	" WHERE res = ?1 AND ts >= ?2 AND ts < ?3 AND (?4 IS NULL OR iface = ?4)"
	" AND (?5 IS NULL OR addr = ?5)";

struct addr_index {
	__u32 *slot; /* 1 + index into the addresses; 0: empty */
	size_t mask;
};

static __u64 addr_hash(const char *addr, int plen)
{
	__u64 h = 1469598103934665603ULL ^ (__u64)plen;

	for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

/* Doubles the table and places every address again. */
static int index_grow(struct addr_index *ix, const struct report_addrs *out)
{
	size_t cap = ix->mask ? (ix->mask + 1) * 2 : 1024;
	__u32 *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < out->n; i++) {
		size_t k = addr_hash(out->v[i].addr, out->v[i].prefix_len) & (cap - 1);

		while (slot[k])
			k = (k + 1) & (cap - 1);
		slot[k] = (__u32)i + 1;
	}
	free(ix->slot);
	ix->slot = slot;
	ix->mask = cap - 1;
	return 0;
}

static int add_addr(struct report_addrs *out, struct addr_index *ix, const char *addr, int plen,
		    int dir, __u64 packets, __u64 bytes)
{
	struct report_addr *c;
	size_t k;

	/* At most half full. */
	if ((out->n + 1) * 2 > ix->mask + 1 && index_grow(ix, out))
		return -ENOMEM;
	k = addr_hash(addr, plen) & ix->mask;
	for (; ix->slot[k]; k = (k + 1) & ix->mask) {
		c = &out->v[ix->slot[k] - 1];
		if (c->prefix_len == plen && !strcmp(c->addr, addr))
			goto add;
	}
	if (grow((void **)&out->v, &out->cap, out->n, sizeof(*out->v)))
		return -ENOMEM;
	c = &out->v[out->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->prefix_len = plen;
	ix->slot[k] = (__u32)out->n;
add:
	sum_add(&c->s, dir, packets, bytes);
	return 0;
}

int report_query_addrs(sqlite3 *db, const struct report_args *a, enum tfc_hist_res res,
		       time_t since, time_t until, struct report_addrs *out)
{
	char one[TFC_ADDR_STRLEN];
	const char *single = single_addr(a, one, sizeof(one));
	struct addr_index ix = {0};
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db, top_sql, -1, &st, NULL);
	rc = rc ?: bind_range(st, a, res, since, until);
	if (!rc && single)
		rc = sqlite3_bind_text(st, 5, single, -1, SQLITE_STATIC);
	if (rc) {
		err = query_failed(db, "the address rows");
		goto out;
	}
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 0);
		int plen = sqlite3_column_int(st, 1);

		if (!addr || !row_matches(a, addr, plen))
			continue;
		err = add_addr(out, &ix, addr, plen, sqlite3_column_int(st, 2),
			       sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4));
	}
	if (!err && rc != SQLITE_DONE)
		err = query_failed(db, "the address rows");
	if (!err && out->n)
		qsort(out->v, out->n, sizeof(*out->v), addr_cmp_bytes);
out:
	free(ix.slot);
	sqlite3_finalize(st);
	return err;
}

static int dbl_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/*
 * As transit billing takes it: sort the samples, discard the highest 5%
 * (rounded down), take the highest remaining: the nearest-rank percentile,
 * sample number ceil(0.95 n).
 */
double report_percentile95(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), dbl_cmp);
	return v[n - 1 - n / 20];
}

enum tfc_hist_res report_pick_res(enum tfc_hist_res min, time_t since, time_t until, int until_set)
{
	enum tfc_hist_res best = min;

	for (int r = min; r < TFC_RES_MAX; r++) {
		if (tfc_history_bucket(r, since) != since)
			break;
		if (until_set && tfc_history_bucket(r, until) != until)
			continue;
		best = r;
	}
	return best;
}

/* The first and last 5-minute buckets recorded in [since, until), any interface. */
static int recorded_span(sqlite3 *db, time_t since, time_t until, time_t *first, time_t *last)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	*first = *last = 0;
	rc = sqlite3_prepare_v2(db,
				"SELECT MIN(ts), MAX(ts), COUNT(*) FROM iface_traffic"
				" WHERE res = 0 AND ts >= ?1 AND ts < ?2",
				-1, &st, NULL);
	rc = rc ?: sqlite3_bind_int64(st, 1, since);
	rc = rc ?: sqlite3_bind_int64(st, 2, until);
	if (rc || sqlite3_step(st) != SQLITE_ROW) {
		err = query_failed(db, "the 5-minute rows");
		goto out;
	}
	if (sqlite3_column_int64(st, 2)) {
		*first = sqlite3_column_int64(st, 0);
		*last = sqlite3_column_int64(st, 1);
	}
out:
	sqlite3_finalize(st);
	return err;
}

/* One interface's samples, one direction: a rate per 5-minute bucket, 0 when no row. */
static int p95_of(const struct report_cell *c, size_t n, int dir, time_t first, size_t nbuckets,
		  struct report_p95 *out)
{
	double *v = calloc(nbuckets ?: 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t k = (size_t)((c[i].ts - first) / FIVE_MIN);

		if (k < nbuckets)
			v[k] = (double)(dir == TFC_DIR_EGRESS ? c[i].s.tx_bytes : c[i].s.rx_bytes) /
			       FIVE_MIN;
	}
	snprintf(out->iface, sizeof(out->iface), "%s", c[0].iface);
	out->dir = dir;
	out->samples = nbuckets;
	out->bytes_per_s = report_percentile95(v, nbuckets);
	free(v);
	return 0;
}

int report_query_p95(sqlite3 *db, const struct report_args *a, time_t since, time_t until,
		     struct report_p95 **out, size_t *n)
{
	struct report_cells cells = {0};
	time_t first, last;
	size_t nb, i = 0;
	int err;

	*out = NULL;
	*n = 0;
	err = recorded_span(db, since, until, &first, &last);
	if (!err && last >= first)
		err = report_query_cells(db, a, TFC_RES_5MIN, first, last + 1, &cells);
	if (err || !cells.n)
		goto out;
	nb = (size_t)((last - first) / FIVE_MIN) + 1;
	/* Two entries per interface at most. */
	*out = calloc(cells.n * 2, sizeof(**out));
	if (!*out) {
		err = -ENOMEM;
		goto out;
	}
	while (!err && i < cells.n) {
		size_t j = i;

		while (j < cells.n && !strcmp(cells.v[j].iface, cells.v[i].iface))
			j++;
		err = p95_of(&cells.v[i], j - i, TFC_DIR_INGRESS, first, nb, &(*out)[(*n)++]);
		if (!err)
			err = p95_of(&cells.v[i], j - i, TFC_DIR_EGRESS, first, nb,
				     &(*out)[(*n)++]);
		i = j;
	}
out:
	report_cells_free(&cells);
	return err;
}
