/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * An independent userspace reading of openspec/specs/counting.md: what
 * the BPF programs must do with one Ethernet frame. It shares nothing with
 * traffic-counter-ebpf/parse.h except the ABI (reasons, limits); the fuzzer
 * compares the two on arbitrary frames.
 */
#ifndef TFC_FUZZ_REF_PARSER_H
#define TFC_FUZZ_REF_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/traffic_counter_abi.h"

#define REF_NO_REMARK 0xff

struct ref_verdict {
	bool counted;	/* one packet under an address (and a flow) */
	uint8_t reason; /* enum tfc_stat below TFC_STAT_EXCLUSIVE_MAX, when not counted */
	uint8_t remark; /* TFC_STAT_L4_TRUNCATED, TFC_STAT_IPV6_EXT_LIMIT or REF_NO_REMARK */
	uint8_t family; /* 4 or 6 */
	uint8_t proto;	/* IPv4 protocol, or the IPv6 header type the walk stopped at */
	uint8_t tcp_flags;
	uint16_t sport; /* host order; 0 without a decodable TCP/UDP/SCTP header */
	uint16_t dport;
	uint8_t src[16]; /* IPv4: first 4 bytes, the rest zero */
	uint8_t dst[16];
	/*
	 * Bytes in front of the L4 payload in the frame's data, replicated in
	 * every segment of a GSO skb (counting.md C5): L2 with in-data tags, the IP
	 * header, the IPv6 extension headers walked when the walk reached the
	 * transport, and the transport header (TCP data offset, UDP 8, SCTP 12)
	 * when it is there. 0 when not counted.
	 */
	uint32_t hdr_len;
};

/*
 * Classifies `len` bytes of frame. `offloaded` is how many VLAN tags the
 * kernel already moved into skb metadata (0 or 1): they count against the
 * tag limit as if they were in the data.
 */
void ref_parse(const uint8_t *frame, size_t len, unsigned int offloaded, struct ref_verdict *out);

/* The statistic's name as traffic-counter status prints it. */
const char *ref_stat_name(unsigned int stat);

/* One line: "counted v4 a > b proto p ports s > d flags f [+ remark]" or the reason. */
void ref_describe(const struct ref_verdict *v, char *buf, size_t len);

#endif /* TFC_FUZZ_REF_PARSER_H */
