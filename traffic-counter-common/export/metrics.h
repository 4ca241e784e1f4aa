/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Prometheus text exposition of the maps' contents. Pure functions over
 * a snapshot taken by the caller, so ordering, escaping and the cardinality
 * policy are unit-tested without BPF. See
 * openspec/changes/0002-prometheus-exporter.md for the policy.
 */
#ifndef TFC_METRICS_H
#define TFC_METRICS_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "ipfix.h"
#include "maps/cgroup_rows.h"
#include "maps/maps.h"

/* The largest --max-series: bounds the membership table (~64 B a slot). */
#define TFC_METRICS_MAX_SERIES (1U << 20)

struct tfc_metrics_policy {
	__u32 max_series; /* address/prefix series of their own; 0: no limit */
	__u8 v4_prefix;	  /* 32: one series per IPv4 address */
	__u8 v6_prefix;	  /* 128: one series per IPv6 address */
	/* Interface name of an ifindex; NULL: tfc_ifname (this namespace). */
	const char *(*ifname)(__u32 ifindex);
};

/* One map's fill level; present 0 when its pin could not be read. */
struct tfc_metrics_map {
	int present;
	__u32 entries;
	__u32 capacity;
};

/* What one scrape read from the maps. Absent parts are left out. */
struct tfc_metrics_snapshot {
	/* Address and prefix rows (is_prefix: "ADDR/LEN" labels, bounded alike). */
	const struct tfc_ip_entry *ip;
	size_t n_ip;
	const struct tfc_flow_entry *flow;
	size_t n_flow;
	const struct tfc_stat_entry *stats;
	size_t n_stats;
	const struct tfc_control *control; /* NULL: not read */
	/* export-ipfix's counts for this flow map (pin traffic_ipfix); NULL: none ran */
	const struct tfc_ipfix_stats *ipfix;
	struct tfc_metrics_map maps[TFC_MAP_KIND_MAX];
	struct tfc_metrics_map prefix_map; /* traffic_counters_prefix (layout 3) */
	/* traffic_counters_cgroup's rows, named; cgroup_map.present 0: not pinned */
	const struct tfc_cgroup_row *cgroups;
	size_t n_cgroups;
	struct tfc_metrics_map cgroup_map;
	const char *version;
	const char *libbpf_version;
};

struct tfc_metrics;

/* NULL on allocation failure or a policy out of range (errno set). */
struct tfc_metrics *tfc_metrics_new(const struct tfc_metrics_policy *policy);
void tfc_metrics_free(struct tfc_metrics *m);

/*
 * Writes the exposition of one snapshot to f, in a stable order, and
 * records new series members. Returns 0 or a negative errno (-ENOMEM,
 * -EIO for a failed write).
 */
int tfc_metrics_write(struct tfc_metrics *m, const struct tfc_metrics_snapshot *s, FILE *f);

/* Number of addresses or prefixes holding a series of their own. */
size_t tfc_metrics_members(const struct tfc_metrics *m);
/* Number of cgroups holding a series of their own (--max-series bounds both). */
size_t tfc_metrics_cgroup_members(const struct tfc_metrics *m);

/* A label value escaped as the text format wants: \\, \" and \n. */
void tfc_metrics_escape(FILE *f, const char *s);

/* "24" or "24,64": IPv4 and optionally IPv6 prefix lengths. 0 or -EINVAL. */
int tfc_metrics_prefix_parse(const char *s, __u8 *v4, __u8 *v6);

#endif /* TFC_METRICS_H */
