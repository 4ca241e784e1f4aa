/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* An interface's own packet and byte counters, to reconcile against. */
#ifndef TFC_IFSTATS_H
#define TFC_IFSTATS_H

#include <linux/types.h>

struct tfc_if_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 rx_dropped;
	__u64 tx_dropped; /* e.g. seen by a tc egress hook, then dropped by the device */
};

/*
 * 64-bit counters of ifindex in the caller's network namespace, through
 * rtnetlink (IFLA_STATS64): sysfs would show the namespace it was mounted
 * in, which is wrong after nsenter. Returns 0 or a negative errno.
 */
int tfc_if_stats_read(int ifindex, struct tfc_if_stats *out);

#endif /* TFC_IFSTATS_H */
