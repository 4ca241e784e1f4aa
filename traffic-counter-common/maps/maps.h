/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reading the pinned maps: open and check, dump, sum per-CPU values. */
#ifndef TC_MAPS_H
#define TC_MAPS_H

#include <stddef.h>
#include <stdio.h>
#include <bpf/bpf.h>

#include "pins.h"
#include "abi/traffic_counter_abi.h"

enum tc_map_kind {
	TC_MAP_IP,
	TC_MAP_FLOW,
	TC_MAP_CONTROL,
	TC_MAP_STATS,
	TC_MAP_KIND_MAX,
};

struct tc_ip_entry {
	struct ip_key key;
	struct counters val; /* summed over CPUs */
};

struct tc_flow_entry {
	struct flow_key key;
	struct flow_value val;
};

const char *tc_map_kind_name(enum tc_map_kind kind);

/* The pin of one map in a set of pins; writable where the set is. */
char *tc_map_pin_buf(struct tc_pins *pins, enum tc_map_kind kind);

static inline const char *tc_map_pin(const struct tc_pins *pins, enum tc_map_kind kind)
{
	return tc_map_pin_buf((struct tc_pins *)pins, kind);
}

/*
 * Checks that a map has the type, key and value sizes this version of
 * traffic-counter uses for `kind`. Returns 0 or -EPROTO.
 */
int tc_map_check(const struct bpf_map_info *info, enum tc_map_kind kind);

/*
 * Opens the map pinned at `pin` read-only and checks it is a `kind` map (or, with
 * kind < 0, any of the IP or flow map; *kind_out tells which). Returns the
 * fd or a negative errno, having logged the cause and the fix.
 */
int tc_map_open(const char *pin, int kind, enum tc_map_kind *kind_out, struct bpf_map_info *info);

#define TC_OPEN_RDWR  (1U << 0) /* writable too (default: read-only) */
#define TC_OPEN_QUIET (1U << 1) /* log nothing on failure: the caller reports it */
/* A control map of any layout version too (migrate, purge): its size varies. */
#define TC_OPEN_ANY_LAYOUT (1U << 2)
/* An optional map: a pin that does not exist is no error to log (-ENOENT). */
#define TC_OPEN_OPTIONAL (1U << 3)

/* tc_map_open with TC_OPEN_* flags. */
int tc_map_open_flags(const char *pin, int kind, enum tc_map_kind *kind_out,
		      struct bpf_map_info *info, unsigned int flags);

void tc_counters_sum(const struct counters *percpu, int ncpu, struct counters *out);

/*
 * Every entry of an IP (per-CPU values summed) or flow map, read with batch
 * lookups, falling back to get_next_key where batching is unsupported (or
 * TRAFFIC_COUNTER_NO_BATCH is set). The caller frees *out.
 */
int tc_dump_ip(int fd, struct tc_ip_entry **out, size_t *n);
int tc_dump_flow(int fd, struct tc_flow_entry **out, size_t *n);

/* Number of entries, by walking the keys. */
int tc_map_count(int fd, __u32 key_size, __u32 *count);

struct tc_stat_entry {
	struct stat_key key;
	struct counters val; /* summed over CPUs */
};

int tc_dump_stats(int fd, struct tc_stat_entry **out, size_t *n);

/*
 * Adds up statistics per reason into out[TC_STAT_MAX], over the entries
 * matching ifindex (0: any) and direction (-1: any).
 */
void tc_stats_totals(const struct tc_stat_entry *e, size_t n, __u32 ifindex, int direction,
		     struct counters *out);

int tc_control_read(int fd, struct tc_control *out);

/*
 * The layout version recorded in a control map of any version (0 when the
 * attach that made it died before writing it). -EPROTO if fd is no
 * control map of any version.
 */
int tc_control_version_fd(int fd, __u32 *version);

/* Logs that the maps beside `pin` have layout `version`, and the way out. */
void tc_layout_error(const char *pin, __u32 version);
/* The same words, written to f (no newline). */
void tc_layout_message(FILE *f, const char *pin, __u32 version);

/* Writable view of the control entry: single-field stores, never a
 * whole-value update that would race with the kernel's counters. */
struct tc_control *tc_control_map(int fd);
void tc_control_unmap(struct tc_control *ctl);

/* CLOCK_REALTIME in ns: tc_control's created_ns. */
__u64 tc_realtime_ns(void);

#endif /* TC_MAPS_H */
