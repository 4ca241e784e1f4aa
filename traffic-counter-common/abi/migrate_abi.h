/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the loader hands migrate.bpf.c: batches of entries read from the old
 * maps (laid out as the rows tc_dump_ip, tc_dump_stats and tc_dump_flow
 * return, so a dump goes in as it is), and what the runs report back.
 * Userspace only; never pinned.
 */
#ifndef TC_MIGRATE_ABI_H
#define TC_MIGRATE_ABI_H

#include "traffic_counter_abi.h"

/* Entries carried per BPF_PROG_TEST_RUN. */
#define TC_MIGRATE_BATCH 256

struct tc_migrate_ip {
	struct ip_key key;
	struct counters val; /* summed over CPUs */
};

struct tc_migrate_stat {
	struct stat_key key;
	struct counters val; /* summed over CPUs */
};

struct tc_migrate_flow {
	struct flow_key key;
	__u32 pad;
	struct flow_value val;
};

struct tc_migrate_ctx {
	__u32 count; /* entries in the batch */
};

struct tc_migrate_result {
	__u64 carried_entries; /* IP entries */
	__u64 lost_entries;    /* IP entries the new map had no room for */
	__u64 lost_packets;
	__u64 lost_stats;
	__u64 carried_flows;
};

TC_STATIC_ASSERT(sizeof(struct tc_migrate_ip) == 40, "tc_migrate_ip layout");
TC_STATIC_ASSERT(sizeof(struct tc_migrate_stat) == 24, "tc_migrate_stat layout");
TC_STATIC_ASSERT(sizeof(struct tc_migrate_flow) == 88, "tc_migrate_flow layout");

#endif /* TC_MIGRATE_ABI_H */
