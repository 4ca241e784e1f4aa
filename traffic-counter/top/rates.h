/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What `top` computes, apart from the screen: rates from the difference
 * between two reads of the counters, the order of the rows, per-direction
 * sums and human units. Pure functions over arrays, unit-tested.
 */
#ifndef TFC_RATES_H
#define TFC_RATES_H

#include <stddef.h>

#include "maps/maps.h"

enum tfc_view {
	TFC_VIEW_IP,
	TFC_VIEW_FLOW,
	TFC_VIEW_CGROUP,
	TFC_VIEW_MAX,
};

enum tfc_rate_sort {
	TFC_RSORT_RATE,	 /* bytes per second over the last interval */
	TFC_RSORT_TOTAL, /* bytes since the entry was created */
};

struct tfc_rate_row {
	union {
		struct ip_key ip;
		struct flow_key flow;
		struct cgroup_key cg;
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

/* One read of a map: rows sorted by key (tfc_rates_sort_key). */
struct tfc_rate_snap {
	enum tfc_view view;
	struct tfc_rate_row *rows;
	size_t n;
	double t;  /* CLOCK_MONOTONIC seconds of the read */
	int valid; /* a read happened (it may have found no entry) */
};

/* Rows from dumped entries, sorted by key; the caller frees snap->rows. */
int tfc_rate_snap_ip(struct tfc_rate_snap *snap, const struct tfc_ip_entry *e, size_t n, double t);
int tfc_rate_snap_flow(struct tfc_rate_snap *snap, const struct tfc_flow_entry *e, size_t n,
		       double t);
int tfc_rate_snap_cgroup(struct tfc_rate_snap *snap, const struct tfc_cgroup_entry *e, size_t n,
			 double t);
void tfc_rate_snap_free(struct tfc_rate_snap *snap);

/*
 * Fills the rates of cur from the counters' growth since prev (same view,
 * sorted by key). An entry that is new, or whose counters went down (the
 * map was created again) or, for a flow, was evicted and created again,
 * counts from zero. Without a valid prev, or with no time between the
 * reads, no row has a rate.
 */
void tfc_rates_update(struct tfc_rate_snap *cur, const struct tfc_rate_snap *prev);

void tfc_rates_sort_key(struct tfc_rate_row *rows, size_t n, enum tfc_view view);
/* Largest first; ties broken by the other measure, then by key, so the
 * order is stable from one refresh to the next. */
void tfc_rates_sort(struct tfc_rate_row *rows, size_t n, enum tfc_view view, enum tfc_rate_sort by);
int tfc_rate_sort_parse(const char *s);
const char *tfc_rate_sort_str(enum tfc_rate_sort by);

struct tfc_rate_sum {
	__u64 bytes;
	__u64 packets;
	double byte_rate;
	double packet_rate;
};

/* Sums per direction (out[TFC_DIR_INGRESS], out[TFC_DIR_EGRESS]). */
void tfc_rates_sum(const struct tfc_rate_row *rows, size_t n, enum tfc_view view,
		   struct tfc_rate_sum out[2]);

/*
 * v with a decimal (SI) prefix and three significant digits, then unit:
 * "512B/s", "1.50kB/s", "12.3MB", "999", "1.00k". Below 10 with no prefix a
 * fraction keeps one decimal ("2.5/s"). No space, so a line splits on
 * whitespace into its columns.
 */
const char *tfc_human(double v, const char *unit, char *buf, size_t len);

/* Seconds between 0.1 and 3600, as a decimal number; 0 or -EINVAL. */
int tfc_interval_parse(const char *s, double *out);

#endif /* TFC_RATES_H */
