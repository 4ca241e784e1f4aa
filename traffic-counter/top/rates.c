// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rates.h"

#define INTERVAL_MIN 0.1
#define INTERVAL_MAX 3600.0

static int cmp_num(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

/*
 * Address order: family, address, an address before the prefixes starting
 * at it (longest first), then direction and interface. Rows are matched
 * across reads by this order: a prefix is never its network address.
 */
static int cmp_ip_key(const struct ip_key *a, const struct ip_key *b)
{
	int c = cmp_num(a->family, b->family);

	c = c ?: memcmp(a->addr, b->addr, sizeof(a->addr));
	c = c ?: cmp_num(a->is_prefix, b->is_prefix);
	c = c ?: cmp_num(b->prefix_len, a->prefix_len);
	c = c ?: cmp_num(a->direction, b->direction);
	return c ?: cmp_num(a->ifindex, b->ifindex);
}

static int cmp_flow_key(const struct flow_key *a, const struct flow_key *b)
{
	int c = cmp_num(a->family, b->family);

	c = c ?: memcmp(a->src, b->src, sizeof(a->src));
	c = c ?: memcmp(a->dst, b->dst, sizeof(a->dst));
	c = c ?: cmp_num(a->sport, b->sport);
	c = c ?: cmp_num(a->dport, b->dport);
	c = c ?: cmp_num(a->proto, b->proto);
	c = c ?: cmp_num(a->direction, b->direction);
	return c ?: cmp_num(a->ifindex, b->ifindex);
}

static int cmp_ip_row(const void *a, const void *b)
{
	return cmp_ip_key(&((const struct tfc_rate_row *)a)->key.ip,
			  &((const struct tfc_rate_row *)b)->key.ip);
}

static int cmp_flow_row(const void *a, const void *b)
{
	return cmp_flow_key(&((const struct tfc_rate_row *)a)->key.flow,
			    &((const struct tfc_rate_row *)b)->key.flow);
}

/* Cgroup order: id, then direction. */
static int cmp_cg_row(const void *pa, const void *pb)
{
	const struct cgroup_key *a = &((const struct tfc_rate_row *)pa)->key.cg;
	const struct cgroup_key *b = &((const struct tfc_rate_row *)pb)->key.cg;

	return cmp_num(a->cgroup_id, b->cgroup_id) ?: cmp_num(a->direction, b->direction);
}

typedef int (*cmp_fn)(const void *, const void *);

static cmp_fn key_cmp(enum tfc_view view)
{
	return view == TFC_VIEW_IP ? cmp_ip_row : view == TFC_VIEW_FLOW ? cmp_flow_row : cmp_cg_row;
}

void tfc_rates_sort_key(struct tfc_rate_row *rows, size_t n, enum tfc_view view)
{
	if (n)
		qsort(rows, n, sizeof(*rows), key_cmp(view));
}

static int snap_alloc(struct tfc_rate_snap *snap, enum tfc_view view, size_t n, double t)
{
	memset(snap, 0, sizeof(*snap));
	snap->view = view;
	snap->t = t;
	snap->valid = 1;
	/* calloc(0) may return NULL: one spare row keeps "empty" distinct from "failed". */
	snap->rows = calloc(n + 1, sizeof(*snap->rows));
	if (!snap->rows)
		return -ENOMEM;
	snap->n = n;
	return 0;
}

int tfc_rate_snap_ip(struct tfc_rate_snap *snap, const struct tfc_ip_entry *e, size_t n, double t)
{
	int err = snap_alloc(snap, TFC_VIEW_IP, n, t);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		snap->rows[i].key.ip = e[i].key;
		snap->rows[i].bytes = e[i].val.bytes;
		snap->rows[i].packets = e[i].val.packets;
	}
	tfc_rates_sort_key(snap->rows, n, TFC_VIEW_IP);
	return 0;
}

int tfc_rate_snap_flow(struct tfc_rate_snap *snap, const struct tfc_flow_entry *e, size_t n,
		       double t)
{
	int err = snap_alloc(snap, TFC_VIEW_FLOW, n, t);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		snap->rows[i].key.flow = e[i].key;
		snap->rows[i].bytes = e[i].val.bytes;
		snap->rows[i].packets = e[i].val.packets;
		snap->rows[i].first_seen_ns = e[i].val.first_seen_ns;
	}
	tfc_rates_sort_key(snap->rows, n, TFC_VIEW_FLOW);
	return 0;
}

int tfc_rate_snap_cgroup(struct tfc_rate_snap *snap, const struct tfc_cgroup_entry *e, size_t n,
			 double t)
{
	int err = snap_alloc(snap, TFC_VIEW_CGROUP, n, t);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		snap->rows[i].key.cg = e[i].key;
		snap->rows[i].bytes = e[i].val.bytes;
		snap->rows[i].packets = e[i].val.packets;
	}
	tfc_rates_sort_key(snap->rows, n, TFC_VIEW_CGROUP);
	return 0;
}

void tfc_rate_snap_free(struct tfc_rate_snap *snap)
{
	free(snap->rows);
	memset(snap, 0, sizeof(*snap));
}

static const struct tfc_rate_row *find_row(const struct tfc_rate_snap *s,
					   const struct tfc_rate_row *r)
{
	return bsearch(r, s->rows, s->n, sizeof(*r), key_cmp(s->view));
}

/* Growth of one counter; a smaller value means it started again from 0. */
static __u64 growth(__u64 now, __u64 before, int restarted)
{
	return restarted || now < before ? now : now - before;
}

void tfc_rates_update(struct tfc_rate_snap *cur, const struct tfc_rate_snap *prev)
{
	double secs = 0;

	if (prev && prev->valid && prev->view == cur->view)
		secs = cur->t - prev->t;
	for (size_t i = 0; i < cur->n; i++) {
		struct tfc_rate_row *r = &cur->rows[i];
		const struct tfc_rate_row *p;
		int restarted;

		r->has_rate = secs > 0;
		if (!r->has_rate)
			continue;
		p = find_row(prev, r);
		/* Not there before: created during the interval, from zero. */
		restarted = !p || p->first_seen_ns != r->first_seen_ns;
		r->byte_rate = (double)growth(r->bytes, p ? p->bytes : 0, restarted) / secs;
		r->packet_rate = (double)growth(r->packets, p ? p->packets : 0, restarted) / secs;
	}
}

static int cmp_double_desc(double a, double b)
{
	return a > b ? -1 : a < b ? 1 : 0;
}

static enum tfc_view sort_view;
static enum tfc_rate_sort sort_by;

/* A row without a rate sorts after every row with one. */
static int cmp_rate(const struct tfc_rate_row *a, const struct tfc_rate_row *b)
{
	int c = cmp_num(b->has_rate, a->has_rate);

	if (c || !a->has_rate)
		return c;
	c = cmp_double_desc(a->byte_rate, b->byte_rate);
	return c ?: cmp_double_desc(a->packet_rate, b->packet_rate);
}

static int cmp_total(const struct tfc_rate_row *a, const struct tfc_rate_row *b)
{
	int c = cmp_num(b->bytes, a->bytes);

	return c ?: cmp_num(b->packets, a->packets);
}

static int cmp_display(const void *pa, const void *pb)
{
	const struct tfc_rate_row *a = pa, *b = pb;
	int c;

	if (sort_by == TFC_RSORT_RATE)
		c = cmp_rate(a, b) ?: cmp_total(a, b);
	else
		c = cmp_total(a, b) ?: cmp_rate(a, b);
	return c ?: key_cmp(sort_view)(a, b);
}

void tfc_rates_sort(struct tfc_rate_row *rows, size_t n, enum tfc_view view, enum tfc_rate_sort by)
{
	/* qsort has no context argument in C11; top sorts from one thread. */
	sort_view = view;
	sort_by = by;
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_display);
}

int tfc_rate_sort_parse(const char *s)
{
	if (!strcmp(s, "rate"))
		return TFC_RSORT_RATE;
	if (!strcmp(s, "total"))
		return TFC_RSORT_TOTAL;
	return -EINVAL;
}

const char *tfc_rate_sort_str(enum tfc_rate_sort by)
{
	return by == TFC_RSORT_TOTAL ? "total" : "rate";
}

void tfc_rates_sum(const struct tfc_rate_row *rows, size_t n, enum tfc_view view,
		   struct tfc_rate_sum out[2])
{
	memset(out, 0, 2 * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		__u8 dir = view == TFC_VIEW_IP	   ? rows[i].key.ip.direction
			   : view == TFC_VIEW_FLOW ? rows[i].key.flow.direction
						   : rows[i].key.cg.direction;
		struct tfc_rate_sum *s = &out[dir == TFC_DIR_EGRESS];

		s->bytes += rows[i].bytes;
		s->packets += rows[i].packets;
		if (rows[i].has_rate) {
			s->byte_rate += rows[i].byte_rate;
			s->packet_rate += rows[i].packet_rate;
		}
	}
}

const char *tfc_human(double v, const char *unit, char *buf, size_t len)
{
	static const char prefix[] = "kMGTPE";
	int p = -1;

	if (!(v > 0)) /* also NaN */
		v = 0;
	/* 999.5 and up would print as "1000": move to the next prefix. */
	while (v >= 999.5 && p < (int)sizeof(prefix) - 2) {
		v /= 1000;
		p++;
	}
	if (p < 0) {
		/* Whole numbers (totals) without a fraction; "9.96" is "10". */
		if (v >= 0.05 && v < 9.95 && v != (double)(__u64)v)
			snprintf(buf, len, "%.1f%s", v, unit);
		else
			snprintf(buf, len, "%.0f%s", v, unit);
	} else {
		int decimals = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;

		snprintf(buf, len, "%.*f%c%s", decimals, v, prefix[p], unit);
	}
	return buf;
}

int tfc_interval_parse(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !isfinite(v) || v < INTERVAL_MIN || v > INTERVAL_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}
