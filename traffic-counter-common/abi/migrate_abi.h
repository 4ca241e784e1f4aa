/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the loader hands migrate.bpf.c: batches of entries read from the old
 * maps (laid out as the rows tfc_dump_ip, tfc_dump_stats and tfc_dump_flow
 * return, so a dump goes in as it is), and what the runs report back.
 * Userspace only; never pinned.
 */
#ifndef TFC_MIGRATE_ABI_H
#define TFC_MIGRATE_ABI_H

#include "traffic_counter_abi.h"

/* Entries carried per BPF_PROG_TEST_RUN. */
#define TFC_MIGRATE_BATCH 256

struct tfc_migrate_ctx {
	__u32 count; /* entries in the batch */
};

struct tfc_migrate_result {
	__u64 carried_entries; /* IP entries */
	__u64 lost_entries;    /* IP entries the new map had no room for */
	__u64 lost_packets;
	__u64 lost_stats;
	__u64 carried_flows;
};

#endif /* TFC_MIGRATE_ABI_H */
