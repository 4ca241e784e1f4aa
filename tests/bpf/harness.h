/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Loads the traffic-counter skeleton with unpinned maps, runs frames through
 * its programs with BPF_PROG_TEST_RUN, and reads the maps back with per-CPU
 * values summed, so checks compare plain totals.
 */
#ifndef TFC_TEST_HARNESS_H
#define TFC_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/traffic_counter_abi.h"

enum prog_id {
	PROG_XDP,	 /* tfc_xdp, xdp.frags */
	PROG_XDP_LEGACY, /* tfc_xdp_legacy, plain xdp */
	PROG_TC_INGRESS,
	PROG_TC_EGRESS,
	PROG_COUNT,
};

struct prog_info {
	const char *name;
	uint8_t direction; /* enum tfc_direction */
	int retval;	   /* the verdict the program must always return */
};

extern const struct prog_info prog_infos[PROG_COUNT];

/* More than any single case creates: room to see unexpected extra entries. */
#define HARNESS_MAX_ENTRIES 16

struct harness;

struct harness *harness_open(uint32_t ip_max_entries, uint8_t count_by, char *err, size_t errlen);
/* As harness_open, with the prefix map's size too (0: the default). */
struct harness *harness_open_sized(uint32_t ip_max_entries, uint32_t prefix_max_entries,
				   uint8_t count_by, char *err, size_t errlen);
void harness_close(struct harness *h);
int harness_reset(struct harness *h, uint32_t control_flags);
int harness_run(struct harness *h, enum prog_id prog, const void *frame, size_t len, int *retval);
/* As harness_run, for a tc program, with the skb marked as GSO (gso_segs > 0). */
int harness_run_gso(struct harness *h, enum prog_id prog, const void *frame, size_t len,
		    uint32_t gso_segs, uint32_t gso_size, int *retval);
int harness_stat_entries(struct harness *h, struct tfc_stat_entry *out, size_t max);
int harness_ip_entries(struct harness *h, struct tfc_ip_entry *out, size_t max);
int harness_flow_entries(struct harness *h, struct tfc_flow_entry *out, size_t max);
int harness_control(struct harness *h, struct tfc_control *out);
/* Writes the whole control entry (harness_reset writes only flags). */
int harness_set_control(struct harness *h, const struct tfc_control *ctl);
/* As harness_run, `repeat` times in one test run (one CPU when pinned). */
int harness_run_repeat(struct harness *h, enum prog_id prog, const void *frame, size_t len,
		       uint32_t repeat, int *retval);
/* traffic_counters_prefix's rows (a shared hash: one value a key). */
int harness_prefix_entries(struct harness *h, struct tfc_ip_entry *out, size_t max);
/* Adds the --aggregate rule ADDR/CIDR_LEN=TO_LEN to traffic_aggregate. */
int harness_add_rule(struct harness *h, uint8_t family, const uint8_t *addr, uint8_t cidr_len,
		     uint8_t to_len);
/* This CPU's tfc_full_memo. */
int harness_memo(struct harness *h, int cpu, struct tfc_full_memo *out);
/* Deletes one IP-map entry, as idle eviction does (without bumping ip_map_frees). */
int harness_ip_delete(struct harness *h, const struct ip_key *key);
uint32_t harness_ifindex(void);

#endif /* TFC_TEST_HARNESS_H */
