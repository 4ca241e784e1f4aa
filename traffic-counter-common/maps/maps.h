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
	/*
	 * Layout 3's maps come after TFC_MAP_KIND_MAX: loops over the first
	 * four (readers, discovery) stay as they were; the loader, purge and
	 * migrate go up to TFC_MAP_KINDS, the kinds of this build's layout.
	 */
	TFC_MAP_PREFIX = TFC_MAP_KIND_MAX, /* overflow rows: shared hash of ip_key */
	TFC_MAP_AGGREGATE,		   /* --aggregate rules: LPM trie */
	TFC_MAP_KIND_ALL,
};

#if TFC_ABI_VERSION >= 3
#define TFC_MAP_KINDS TFC_MAP_KIND_ALL
#else
#define TFC_MAP_KINDS TFC_MAP_KIND_MAX
#endif

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

/*
 * The prefix map (layout 3): overflow rows, keyed like the IP map (is_prefix
 * set), one shared value per entry. It is not a tfc_map_kind: readers treat
 * it as an optional companion of the IP map of the same pin directory.
 */
/* DIR/traffic_counters_prefix of a set of pins; 0 or -ENAMETOOLONG. */
int tfc_prefix_pin(const struct tfc_pins *pins, char *buf, size_t len);

/* Whether a map has the prefix map's shape: a plain hash of ip_key to counters. */
int tfc_prefix_map_check(const struct bpf_map_info *info);

/*
 * Opens the prefix map pinned at `pin` read-only (TFC_OPEN_* flags) and
 * checks its shape. -ENOENT, never logged, when nothing is pinned there
 * (maps made by a layout without one, or an attach that made none).
 */
int tfc_prefix_map_open(const char *pin, unsigned int flags);

/* tfc_prefix_map_open of DIR/traffic_counters_prefix of a set of pins. */
int tfc_prefix_map_open_pins(const struct tfc_pins *pins, unsigned int flags);

/* Every entry of the prefix map (shape as tfc_dump_ip's rows). */
int tfc_dump_prefix(int fd, struct tfc_ip_entry **out, size_t *n);

/*
 * Adds the rows b[0..nb) to *rows (*n of them, from malloc): a row whose
 * key is already there (an aggregation rule's row in the IP map and an
 * overflow row of the same prefix) is summed into it, others are appended.
 */
int tfc_ip_rows_merge(struct tfc_ip_entry **rows, size_t *n, const struct tfc_ip_entry *b,
		      size_t nb);

/*
 * What readers show of one pin directory: the IP map's rows plus the
 * prefix map's (prefix_fd < 0: none), equal keys summed. The caller frees *out.
 */
int tfc_dump_ip_rows(int ip_fd, int prefix_fd, struct tfc_ip_entry **out, size_t *n);

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

/*
 * After userspace deleted IP-map entries (record --evict-idle, migrate):
 * one atomic add to ip_map_frees through the mmapped control entry at
 * control_pin, so that programs that found the IP map full try to insert
 * again. 0 on layouts before 3 (no such field); -errno, logged as a warning
 * (the programs retry after a bounded number of packets anyway).
 */
int tfc_ip_map_frees_bump(const char *control_pin);

/* CLOCK_REALTIME in ns: tfc_control's created_ns. */
__u64 tfc_realtime_ns(void);

#endif /* TFC_MAPS_H */
