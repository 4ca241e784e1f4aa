/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reading the pinned maps: open and check, dump, sum per-CPU values. */
#ifndef TFC_MAPS_H
#define TFC_MAPS_H

#include <stddef.h>
#include <stdio.h>
#include <bpf/bpf.h>

#include "pins.h"
#include "abi/traffic_counter_abi.h"

enum tfc_map_kind {
	TFC_MAP_IP,
	TFC_MAP_FLOW,
	TFC_MAP_CONTROL,
	TFC_MAP_STATS,
	TFC_MAP_KIND_MAX,
};

const char *tfc_map_kind_name(enum tfc_map_kind kind);

/* The pin of one map in a set of pins; writable where the set is. */
char *tfc_map_pin_buf(struct tfc_pins *pins, enum tfc_map_kind kind);

static inline const char *tfc_map_pin(const struct tfc_pins *pins, enum tfc_map_kind kind)
{
	return tfc_map_pin_buf((struct tfc_pins *)pins, kind);
}

/*
 * Checks that a map has the type, key and value sizes this version of
 * traffic-counter uses for `kind`. Returns 0 or -EPROTO.
 */
int tfc_map_check(const struct bpf_map_info *info, enum tfc_map_kind kind);

/*
 * Opens the map pinned at `pin` read-only and checks it is a `kind` map (or, with
 * kind < 0, any of the IP or flow map; *kind_out tells which). Returns the
 * fd or a negative errno, having logged the cause and the fix.
 */
int tfc_map_open(const char *pin, int kind, enum tfc_map_kind *kind_out, struct bpf_map_info *info);

#define TFC_OPEN_RDWR  (1U << 0) /* writable too (default: read-only) */
#define TFC_OPEN_QUIET (1U << 1) /* log nothing on failure: the caller reports it */
/* A control map of any layout version too (migrate, purge): its size varies. */
#define TFC_OPEN_ANY_LAYOUT (1U << 2)
/* An optional map: a pin that does not exist is no error to log (-ENOENT). */
#define TFC_OPEN_OPTIONAL (1U << 3)

/* tfc_map_open with TFC_OPEN_* flags. */
int tfc_map_open_flags(const char *pin, int kind, enum tfc_map_kind *kind_out,
		       struct bpf_map_info *info, unsigned int flags);

/*
 * Removes `pin` (tfc_pin_unlink) when it is a traffic-counter map of this
 * kind, of any layout version; anything else is left alone with a warning
 * and 0 (purge never removes what is not ours).
 */
int tfc_map_pin_purge(const char *pin, enum tfc_map_kind kind);

void tfc_counters_sum(const struct counters *percpu, int ncpu, struct counters *out);

/*
 * Every entry of an IP (per-CPU values summed) or flow map, read with batch
 * lookups, falling back to get_next_key where batching is unsupported (or
 * TRAFFIC_COUNTER_NO_BATCH is set). The caller frees *out.
 */
int tfc_dump_ip(int fd, struct tfc_ip_entry **out, size_t *n);
int tfc_dump_flow(int fd, struct tfc_flow_entry **out, size_t *n);
/* Every entry of traffic_counters_cgroup, per-CPU values summed. */
int tfc_dump_cgroup(int fd, struct tfc_cgroup_entry **out, size_t *n);
/*
 * Opens traffic_counters_cgroup pinned at `pin` (TFC_OPEN_* flags) and
 * checks its shape: a per-CPU hash of cgroup_key to counters. The fd, or a
 * negative errno having logged the cause (unless TFC_OPEN_QUIET).
 */
int tfc_cgroup_map_open(const char *pin, struct bpf_map_info *info, unsigned int flags);

/* Number of entries, by walking the keys. */
int tfc_map_count(int fd, __u32 key_size, __u32 *count);

int tfc_dump_stats(int fd, struct tfc_stat_entry **out, size_t *n);

/*
 * Adds up statistics per reason into out[TFC_STAT_MAX], over the entries
 * matching ifindex (0: any) and direction (-1: any).
 */
void tfc_stats_totals(const struct tfc_stat_entry *e, size_t n, __u32 ifindex, int direction,
		      struct counters *out);

int tfc_control_read(int fd, struct tfc_control *out);

/*
 * The layout version recorded in a control map of any version (0 when the
 * attach that made it died before writing it). -EPROTO if fd is no
 * control map of any version.
 */
int tfc_control_version_fd(int fd, __u32 *version);

/* Logs that the maps beside `pin` have layout `version`, and the way out. */
void tfc_layout_error(const char *pin, __u32 version);
/* The same words, written to f (no newline). */
void tfc_layout_message(FILE *f, const char *pin, __u32 version);

/* Writable view of the control entry: single-field stores, never a
 * whole-value update that would race with the kernel's counters. */
struct tfc_control *tfc_control_map(int fd);
void tfc_control_unmap(struct tfc_control *ctl);

/* CLOCK_REALTIME in ns: tfc_control's created_ns. */
__u64 tfc_realtime_ns(void);

#endif /* TFC_MAPS_H */
