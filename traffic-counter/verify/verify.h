/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * verify's arithmetic (cmd_verify.c), apart from reading maps and
 * interfaces so that it is unit-tested: which directions to check, which
 * interface counters stand for a direction, the bounds two snapshots give,
 * and the verdict with its tolerance and known device conventions.
 */
#ifndef TFC_VERIFY_H
#define TFC_VERIFY_H

#include <stddef.h>
#include <linux/types.h>

#include "ifstats.h"
#include "loader/loader.h"
#include "maps/maps.h"
#include "abi/traffic_counter_abi.h"

/* Bytes the tolerance allows per packet: the largest frame an IP length allows. */
#define VERIFY_MAX_FRAME 65549

/* The interface's counters for one direction. */
struct verify_if_side {
	__u64 packets, bytes, dropped;
};

/* One reading: the agent's totals between two reads of the interface. */
struct verify_snapshot {
	struct counters agent[2];	 /* per checked direction */
	struct verify_if_side before[2]; /* interface, read just before the agent */
	struct verify_if_side after[2];	 /* interface, read just after */
};

struct verify_verdict {
	__u64 agent_p, agent_b, lo_p, hi_p, lo_b, hi_b;
	__u64 dropped; /* at egress: packets the device dropped after the hook saw them */
	int ok;
	int no_l2;    /* the interface counts bytes without the Ethernet header */
	int by_drops; /* agreed once device drops after the hook are allowed for */
};

/*
 * What the agent counted on (ifindex, dir): every IP map entry plus every
 * exclusive statistic (frames the IP map had no room for included). The
 * remarks (reasons from TFC_STAT_EXCLUSIVE_MAX on) are left out: their
 * frames are in the IP map already.
 */
void verify_agent_sum(const struct tfc_ip_entry *ip, size_t n_ip, const struct tfc_stat_entry *st,
		      size_t n_st, __u32 ifindex, int dir, struct counters *out);

/* rx counters for ingress, tx (and tx_dropped) for egress. */
void verify_if_side(const struct tfc_if_stats *s, int dir, struct verify_if_side *out);

/*
 * Directions with one of our attachments on ifindex in this namespace
 * (ingress first); returns how many were written to dirs (0 to 2).
 */
int verify_attached_directions(const struct tfc_attachment *list, size_t count, int ifindex,
			       int *dirs);

/* Growth from s0 to s1 of direction i: the agent's, and the interface's inner/outer bounds. */
struct verify_verdict verify_deltas(const struct verify_snapshot *s0,
				    const struct verify_snapshot *s1, int i);

/* Whether v lies in [lo - tol, hi + tol]. */
int verify_within(__u64 v, __u64 lo, __u64 hi, __u64 tol);

/* The deltas with the verdict and its note flags set; tol in packets. */
struct verify_verdict verify_judge(const struct verify_snapshot *s0,
				   const struct verify_snapshot *s1, int i, __u32 tol);

/* Why a verdict is what it is, "" when there is nothing to add. */
const char *verify_note(const struct verify_verdict *v);

/* 1 when each of the n directions is OK. */
int verify_all_ok(const struct verify_verdict *v, int n);

#endif /* TFC_VERIFY_H */
