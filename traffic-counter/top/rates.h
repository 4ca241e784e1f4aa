/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What `top` computes, apart from the screen: rates from the difference
 * between two reads of the counters, the order of the rows, per-direction
 * sums and human units. Pure functions over arrays, unit-tested.
 */
#ifndef TC_RATES_H
#define TC_RATES_H

#include <stddef.h>

#include "maps/maps.h"

enum tc_view {
	TC_VIEW_IP,
	TC_VIEW_FLOW,
};

enum tc_rate_sort {
	TC_RSORT_RATE,	/* bytes per second over the last interval */
	TC_RSORT_TOTAL, /* bytes since the entry was created */
};

struct tc_rate_row {
	union {
		struct ip_key ip;
		struct flow_key flow;
	} key;
	__u64 bytes; /* totals as read */
	__u64 packets;
	/* Flows: an LRU entry evicted and created again between two reads
	 * has a new first-seen time, so its counters restart from zero. */
	__u64 first_seen_ns;
	double byte_rate; /* per second; meaningful only when has_rate */
	double packet_rate;
	int has_rate; /* 0 on the first read: nothing to compare with */
};

/* One read of a map: rows sorted by key (tc_rates_sort_key). */
struct tc_rate_snap {
	enum tc_view view;
	struct tc_rate_row *rows;
	size_t n;
	double t;  /* CLOCK_MONOTONIC seconds of the read */
	int valid; /* a read happened (it may have found no entry) */
};

/* Rows from dumped entries, sorted by key; the caller frees snap->rows. */
int tc_rate_snap_ip(struct tc_rate_snap *snap, const struct tc_ip_entry *e, size_t n, double t);
int tc_rate_snap_flow(struct tc_rate_snap *snap, const struct tc_flow_entry *e, size_t n, double t);
void tc_rate_snap_free(struct tc_rate_snap *snap);

/*
 * Fills the rates of cur from the counters' growth since prev (same view,
 * sorted by key). An entry that is new, or whose counters went down (the
 * map was created again) or, for a flow, was evicted and created again,
 * counts from zero. Without a valid prev, or with no time between the
 * reads, no row has a rate.
 */
void tc_rates_update(struct tc_rate_snap *cur, const struct tc_rate_snap *prev);

void tc_rates_sort_key(struct tc_rate_row *rows, size_t n, enum tc_view view);
/* Largest first; ties broken by the other measure, then by key, so the
 * order is stable from one refresh to the next. */
void tc_rates_sort(struct tc_rate_row *rows, size_t n, enum tc_view view, enum tc_rate_sort by);
int tc_rate_sort_parse(const char *s);
const char *tc_rate_sort_str(enum tc_rate_sort by);

struct tc_rate_sum {
	__u64 bytes;
	__u64 packets;
	double byte_rate;
	double packet_rate;
};

/* Sums per direction (out[TC_DIR_INGRESS], out[TC_DIR_EGRESS]). */
void tc_rates_sum(const struct tc_rate_row *rows, size_t n, enum tc_view view,
		  struct tc_rate_sum out[2]);

/*
 * v with a decimal (SI) prefix and three significant digits, then unit:
 * "512B/s", "1.50kB/s", "12.3MB", "999", "1.00k". Below 10 with no prefix a
 * fraction keeps one decimal ("2.5/s"). No space, so a line splits on
 * whitespace into its columns.
 */
const char *tc_human(double v, const char *unit, char *buf, size_t len);

/* Seconds between 0.1 and 3600, as a decimal number; 0 or -EINVAL. */
int tc_interval_parse(const char *s, double *out);

#endif /* TC_RATES_H */
