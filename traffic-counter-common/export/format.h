/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Turning map entries into text: addresses, sorting, table, JSON, CSV. */
#ifndef TFC_FORMAT_H
#define TFC_FORMAT_H

#include <stdio.h>
#include <linux/types.h>

#include "maps/maps.h"

#define TFC_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

enum tfc_sort {
	TFC_SORT_BYTES,
	TFC_SORT_PACKETS,
	TFC_SORT_IP,
};

enum tfc_format {
	TFC_FMT_TABLE,
	TFC_FMT_JSON,
	TFC_FMT_CSV,
};

/* Canonical text (RFC 5952 for IPv6); "?" for an unknown family. */
const char *tfc_addr_str(__u8 family, const __u8 *addr, char *buf, size_t len);

/* An address or "ADDR/LEN" (a prefix row: is_prefix set). */
#define TFC_KEY_STRLEN (TFC_ADDR_STRLEN + 4)

/* An IP map row's address: "a.b.c.d", or "a.b.c.0/24" for a prefix row. */
const char *tfc_key_str(const struct ip_key *k, char *buf, size_t len);

/* A row's prefix length: prefix_len for a prefix row, 32 or 128 for an address. */
unsigned int tfc_key_plen(const struct ip_key *k);

/* tfc_ifname's longest answer: "if4294967295@netns:18446744073709551615". */
#define TFC_IFNAME_LEN 48
/* Room for tfc_ifname's answer through tfc_text_safe (util/text.h). */
#define TFC_IFNAME_SAFE_LEN (4 * TFC_IFNAME_LEN + 1)

/*
 * Interface name, or "if<N>" when there is none in this namespace. Cached.
 * After tfc_ifname_netns(NS) with NS another namespace than the caller's,
 * never a local name: "if<N>@netns:<NS>" ("if<N>@netns:mixed" for
 * TFC_NETNS_MIXED), since the same ifindex here is another interface.
 */
const char *tfc_ifname(__u32 ifindex);

/*
 * The namespace the counters were made in (tfc_pins_netns); 0: this one.
 * Also empties the name cache: called once per read (serve: per scrape),
 * so a renamed interface shows under its new name on the next read.
 */
void tfc_ifname_netns(__u64 netns);

/*
 * Flow times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_coarse_ns).
 * tfc_wall_offset_ns: CLOCK_REALTIME minus CLOCK_MONOTONIC now, read once per
 * dump. tfc_wall_str: mono_ns + offset_ns as RFC 3339 UTC with milliseconds,
 * "2026-12-06T02:03:04.123Z", into buf of TFC_WALL_STRLEN bytes.
 */
#define TFC_WALL_STRLEN 32
__s64 tfc_wall_offset_ns(void);
const char *tfc_wall_str(__u64 mono_ns, __s64 offset_ns, char *buf);

/*
 * What dump-maps and top show (never what is counted): entries under one
 * CIDR, without link-local (fe80::/10, 169.254.0.0/16) or multicast
 * (ff00::/8, 224.0.0.0/4) addresses. A flow is shown when its source or
 * destination is in the CIDR, and hidden when either is excluded.
 */
struct tfc_addr_filter {
	int cidr_set;
	__u8 family; /* 4 or 6 */
	__u8 plen;
	__u8 addr[16];
	int no_link_local;
	int no_multicast;
};

/* "ADDR[/LEN]", IPv4 or IPv6 (no LEN: one address) into f; -EINVAL if not. */
int tfc_cidr_parse(const char *s, struct tfc_addr_filter *f);
int tfc_addr_in_cidr(const struct tfc_addr_filter *f, __u8 family, const __u8 *addr);
int tfc_addr_link_local(__u8 family, const __u8 *addr);
int tfc_addr_multicast(__u8 family, const __u8 *addr);
int tfc_filter_active(const struct tfc_addr_filter *f);
/*
 * Keep the entries f shows, in order, at the front; returns how many. A
 * prefix row is under the CIDR when the whole prefix is: counts of a /24
 * cannot be split among the addresses of a narrower CIDR.
 */
size_t tfc_filter_ip(const struct tfc_addr_filter *f, struct tfc_ip_entry *e, size_t n);
size_t tfc_filter_flow(const struct tfc_addr_filter *f, struct tfc_flow_entry *e, size_t n);

int tfc_sort_parse(const char *s);
/* Largest first for bytes and packets; address order for ip. Ties broken
 * by address, direction and ifindex so the output is stable. */
void tfc_sort_ip(struct tfc_ip_entry *e, size_t n, enum tfc_sort by);
void tfc_sort_flow(struct tfc_flow_entry *e, size_t n, enum tfc_sort by);

/* Writes n entries in fmt; returns 0 or -EIO. */
int tfc_print_ip(FILE *f, const struct tfc_ip_entry *e, size_t n, enum tfc_format fmt);
int tfc_print_flow(FILE *f, const struct tfc_flow_entry *e, size_t n, enum tfc_format fmt);

/* An overflow prefix length as shown: "/24", or "off" for 0 (buf: 8 bytes). */
const char *tfc_overflow_len_str(unsigned int len, char *buf, size_t size);

/*
 * Where a full IP map's new addresses go, for "IP map full: N of N entries;
 * <this>": ip_map_full, or their overflow prefix while the prefix map has
 * room (control's overflow lengths, layout 3; c NULL: not known).
 */
const char *tfc_ip_map_full_hint(const struct tfc_control *c, char *buf, size_t len);
#define TFC_FULL_HINT_LEN 160

/* One CSV field, quoted only when it has to be (RFC 4180). */
void tfc_csv_field(FILE *f, const char *s);

#endif /* TFC_FORMAT_H */
