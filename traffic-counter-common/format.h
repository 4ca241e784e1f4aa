/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Turning map entries into text: addresses, sorting, table, JSON, CSV. */
#ifndef TC_FORMAT_H
#define TC_FORMAT_H

#include <stdio.h>
#include <linux/types.h>

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

/* tc_ifname's longest answer: "if4294967295@netns:18446744073709551615". */
#define TC_IFNAME_LEN 48

/*
 * Interface name, or "if<N>" when there is none in this namespace. Cached.
 * After tc_ifname_netns(NS) with NS another namespace than the caller's,
 * never a local name: "if<N>@netns:<NS>" ("if<N>@netns:mixed" for
 * TC_NETNS_MIXED), since the same ifindex here is another interface.
 */
const char *tc_ifname(__u32 ifindex);

/* The namespace the counters were made in (tc_pins_netns); 0: this one. */
void tc_ifname_netns(__u64 netns);

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
