/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Turning map entries into text: addresses, sorting, table, JSON, CSV. */
#ifndef TC_FORMAT_H
#define TC_FORMAT_H

#include <stdio.h>

#include "maps.h"

#define TC_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

enum tc_sort {
	TC_SORT_BYTES,
	TC_SORT_PACKETS,
	TC_SORT_IP,
};

enum tc_format {
	TC_FMT_TABLE,
	TC_FMT_JSON,
	TC_FMT_CSV,
};

/* Canonical text (RFC 5952 for IPv6); "?" for an unknown family. */
const char *tc_addr_str(__u8 family, const __u8 *addr, char *buf, size_t len);

/* Interface name, or "if<N>" when there is none in this namespace. Cached. */
const char *tc_ifname(__u32 ifindex);

/*
 * Flow times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_coarse_ns).
 * tc_wall_offset_ns: CLOCK_REALTIME minus CLOCK_MONOTONIC now, read once per
 * dump. tc_wall_str: mono_ns + offset_ns as RFC 3339 UTC with milliseconds,
 * "2026-12-06T02:03:04.123Z", into buf of TC_WALL_STRLEN bytes.
 */
#define TC_WALL_STRLEN 32
__s64 tc_wall_offset_ns(void);
const char *tc_wall_str(__u64 mono_ns, __s64 offset_ns, char *buf);

int tc_sort_parse(const char *s);
/* Largest first for bytes and packets; address order for ip. Ties broken
 * by address, direction and ifindex so the output is stable. */
void tc_sort_ip(struct tc_ip_entry *e, size_t n, enum tc_sort by);
void tc_sort_flow(struct tc_flow_entry *e, size_t n, enum tc_sort by);

/* Writes n entries in fmt; returns 0 or -EIO. */
int tc_print_ip(FILE *f, const struct tc_ip_entry *e, size_t n, enum tc_format fmt);
int tc_print_flow(FILE *f, const struct tc_flow_entry *e, size_t n, enum tc_format fmt);

/* One CSV field, quoted only when it has to be (RFC 4180). */
void tc_csv_field(FILE *f, const char *s);

#endif /* TC_FORMAT_H */
