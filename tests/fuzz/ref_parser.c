// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reference classifier for the fuzzer, written from
 * openspec/specs/counting.md alone.
 * It reads the frame through a window (an offset and a limit into the frame)
 * instead of header structs, and narrows the window to the IP packet once
 * the IP header states a length, so that bytes after the packet (Ethernet
 * padding, trailers) are never taken for a header.
 *
 * The rules, in the order they are applied:
 *  - fewer than 14 bytes: truncated_l2 (the kernel's test run refuses these);
 *  - EtherType 0x8100, 0x88a8 or 0x9100 is a tag; a fifth tag is too deep
 *    (known from its TPID alone), a tag with fewer than 4 bytes is
 *    truncated_l2;
 *  - then IPv4 (0x0800), IPv6 (0x86dd) or non_ip;
 *  - IPv4: a header with fewer than its fixed 20 bytes cannot be judged and
 *    is truncated; then version 4, IHL >= 5, IHL*4 bytes present, total
 *    length 0 (unknown, e.g. TSO) or >= IHL*4. Counted under the addresses;
 *    only a packet with fragment offset 0 carries the transport header;
 *  - IPv6: 40 bytes, version 6. Counted. The packet ends 40 + payload
 *    length bytes in (payload length 0: a jumbogram, end unknown), and
 *    neither extension headers nor ports are read past it. The walk steps
 *    over at most TFC_MAX_IPV6_EXT hop-by-hop, routing, fragment and
 *    destination-options headers; one more is ipv6_ext_limit (ports 0).
 *    A header's Next Header
 *    is known once its first 8 bytes (the smallest extension header) are in
 *    the packet; otherwise the walk ends at that header with l4_truncated.
 *    A fragment header with a non-zero offset ends the walk: what follows
 *    it is fragment data, and its Next Header is the protocol;
 *  - transport: TCP, UDP and SCTP have ports when their minimal header (20,
 *    8, 12 bytes) lies inside the packet, else l4_truncated; TCP also gives
 *    the flags byte. Every other protocol has ports 0 and no remark.
 *  - hdr_len (counting.md C5, what each extra GSO segment repeats): everything up
 *    to where the L4 payload starts. The transport header counts when its
 *    ports were read (TCP by its data offset, as written, UDP 8, SCTP 12);
 *    a later fragment ends at its fragment header. An IPv6 walk that stops
 *    without reaching the transport (cut, or over the limit) knows only the
 *    fixed 40-byte header: the extension headers are not counted again.
 *
 * Where counting.md is silent (the 8 bytes an extension header needs; the
 * order of the IPv4 checks is C6's, the minimal transport headers C8's),
 * this follows the project's decisions (openspec/project.md, the case
 * table) and tshark, the oracle of the pcap corpus in tests/corpus; on those
 * captures it agrees with tshark except for the deliberate TFC_MAX_IPV6_EXT
 * limit.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ref_parser.h"
#include "util/names.h"

#define TPID_8021Q	 0x8100
#define TPID_8021AD	 0x88a8
#define TPID_QINQ_OLD	 0x9100
#define ETHERTYPE_INET4	 0x0800
#define ETHERTYPE_INET6	 0x86dd
#define PROTO_HOPOPTS	 0
#define PROTO_TCP	 6
#define PROTO_UDP	 17
#define PROTO_ROUTING	 43
#define PROTO_FRAGMENT	 44
#define PROTO_DSTOPTS	 60
#define PROTO_SCTP	 132
#define EXT_MIN_BYTES	 8 /* every IPv6 extension header is a multiple of 8 bytes */
#define FRAG_OFFSET_MASK 0xfff8

/* A read-only view of the frame: bytes [at, end) are the current header on. */
struct window {
	const uint8_t *frame;
	size_t at;
	size_t end;
};

static bool has(const struct window *w, size_t n)
{
	return w->at <= w->end && w->end - w->at >= n;
}

static uint8_t byte_at(const struct window *w, size_t off)
{
	return w->frame[w->at + off];
}

static uint16_t be16_at(const struct window *w, size_t off)
{
	return (uint16_t)(byte_at(w, off) << 8 | byte_at(w, off + 1));
}

/* The packet ends `len` bytes from here, or earlier if the frame does. */
static void clip(struct window *w, size_t len)
{
	if (w->end - w->at > len)
		w->end = w->at + len;
}

static void refuse(struct ref_verdict *v, enum tfc_stat why)
{
	v->counted = false;
	v->reason = (uint8_t)why;
}

static bool is_tag(uint16_t type)
{
	return type == TPID_8021Q || type == TPID_8021AD || type == TPID_QINQ_OLD;
}

/* Size of the fixed part a port-carrying protocol needs; 0: no ports. */
static size_t transport_min(uint8_t proto)
{
	static const struct {
		uint8_t proto;
		uint8_t bytes;
	} table[] = {{PROTO_TCP, 20}, {PROTO_UDP, 8}, {PROTO_SCTP, 12}};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].proto == proto)
			return table[i].bytes;
	return 0;
}

static void transport(const struct window *w, struct ref_verdict *v)
{
	size_t need = transport_min(v->proto);

	v->hdr_len = (uint32_t)w->at;
	if (!need)
		return;
	if (!has(w, need)) {
		v->remark = TFC_STAT_L4_TRUNCATED;
		return;
	}
	v->sport = be16_at(w, 0);
	v->dport = be16_at(w, 2);
	if (v->proto == PROTO_TCP) {
		v->tcp_flags = byte_at(w, 13);
		need = (size_t)(byte_at(w, 12) >> 4) * 4; /* the data offset */
	}
	v->hdr_len += (uint32_t)need;
}

static void inet4(struct window *w, struct ref_verdict *v)
{
	size_t hdr, total;
	bool later;

	if (!has(w, 20))
		return refuse(v, TFC_STAT_IPV4_TRUNCATED);
	if (byte_at(w, 0) >> 4 != 4)
		return refuse(v, TFC_STAT_IPV4_BAD_VERSION);
	hdr = (size_t)(byte_at(w, 0) & 0x0f) * 4;
	if (hdr < 20)
		return refuse(v, TFC_STAT_IPV4_BAD_IHL);
	if (!has(w, hdr))
		return refuse(v, TFC_STAT_IPV4_TRUNCATED);
	total = be16_at(w, 2);
	if (total != 0 && total < hdr)
		return refuse(v, TFC_STAT_IPV4_BAD_LENGTH);

	v->counted = true;
	v->family = 4;
	v->proto = byte_at(w, 9);
	memcpy(v->src, w->frame + w->at + 12, 4);
	memcpy(v->dst, w->frame + w->at + 16, 4);
	if (total)
		clip(w, total);
	later = be16_at(w, 6) & 0x1fff;
	w->at += hdr;
	if (later) {
		v->hdr_len = (uint32_t)w->at;
		return; /* a later fragment: no transport header */
	}
	transport(w, v);
}

static bool is_ext(uint8_t type)
{
	return type == PROTO_HOPOPTS || type == PROTO_ROUTING || type == PROTO_FRAGMENT ||
	       type == PROTO_DSTOPTS;
}

static void inet6(struct window *w, struct ref_verdict *v)
{
	uint16_t payload;
	uint8_t type;

	if (!has(w, 40))
		return refuse(v, TFC_STAT_IPV6_TRUNCATED);
	if (byte_at(w, 0) >> 4 != 6)
		return refuse(v, TFC_STAT_IPV6_BAD_VERSION);

	v->counted = true;
	v->family = 6;
	memcpy(v->src, w->frame + w->at + 8, 16);
	memcpy(v->dst, w->frame + w->at + 24, 16);
	payload = be16_at(w, 4);
	type = byte_at(w, 6);
	/* Payload length 0: a jumbogram (or TSO), the length is not here. */
	if (payload)
		clip(w, 40 + (size_t)payload);
	w->at += 40;
	v->hdr_len = (uint32_t)w->at; /* unless the walk reaches the transport */

	for (unsigned int walked = 0; is_ext(type); walked++) {
		uint8_t next;

		if (walked == TFC_MAX_IPV6_EXT) {
			v->proto = type;
			v->remark = TFC_STAT_IPV6_EXT_LIMIT;
			return;
		}
		if (!has(w, EXT_MIN_BYTES)) {
			v->proto = type;
			v->remark = TFC_STAT_L4_TRUNCATED;
			return;
		}
		next = byte_at(w, 0);
		if (type == PROTO_FRAGMENT && (be16_at(w, 2) & FRAG_OFFSET_MASK)) {
			v->proto = next; /* fragment data follows, not headers */
			v->hdr_len = (uint32_t)(w->at + EXT_MIN_BYTES);
			return;
		}
		w->at += type == PROTO_FRAGMENT ? EXT_MIN_BYTES
						: ((size_t)byte_at(w, 1) + 1) * EXT_MIN_BYTES;
		type = next;
	}
	v->proto = type;
	transport(w, v);
}

void ref_parse(const uint8_t *frame, size_t len, unsigned int offloaded, struct ref_verdict *out)
{
	struct window w = {.frame = frame, .at = 0, .end = len};
	unsigned int tags = offloaded;
	uint16_t type;

	memset(out, 0, sizeof(*out));
	out->remark = REF_NO_REMARK;
	if (!has(&w, 14))
		return refuse(out, TFC_STAT_TRUNCATED_L2);
	type = be16_at(&w, 12);
	w.at = 14;
	while (is_tag(type)) {
		if (tags++ == TFC_MAX_VLAN_TAGS)
			return refuse(out, TFC_STAT_VLAN_TOO_DEEP);
		if (!has(&w, 4))
			return refuse(out, TFC_STAT_TRUNCATED_L2);
		type = be16_at(&w, 2);
		w.at += 4;
	}
	if (type == ETHERTYPE_INET4)
		return inet4(&w, out);
	if (type == ETHERTYPE_INET6)
		return inet6(&w, out);
	refuse(out, TFC_STAT_NON_IP);
}

const char *ref_stat_name(unsigned int stat)
{
	return tfc_stat_str(stat) ?: "unknown_reason";
}

void ref_describe(const struct ref_verdict *v, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = v->family == 6 ? AF_INET6 : AF_INET;

	if (!v->counted) {
		snprintf(buf, len, "not counted: %s", ref_stat_name(v->reason));
		return;
	}
	if (!inet_ntop(af, v->src, s, sizeof(s)))
		snprintf(s, sizeof(s), "?");
	if (!inet_ntop(af, v->dst, d, sizeof(d)))
		snprintf(d, sizeof(d), "?");
	snprintf(buf, len, "counted v%u %s > %s proto %u ports %u > %u tcp_flags 0x%02x, remark %s",
		 v->family, s, d, v->proto, v->sport, v->dport, v->tcp_flags,
		 v->remark == REF_NO_REMARK ? "none" : ref_stat_name(v->remark));
}
