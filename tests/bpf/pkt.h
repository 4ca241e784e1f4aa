/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small packet builder for the BPF tests. Headers are packed structs laid
 * out exactly as on the wire, appended one after the other to a flat buffer,
 * so a test reads like the frame it sends. Multi-byte fields are stored in
 * network byte order by the helpers; callers that tweak a field afterwards
 * (a wrong version, a short total length) go through the returned pointer.
 */
#ifndef TFC_TEST_PKT_H
#define TFC_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for a 9000-byte jumbo frame, the largest case we send. */
#define PKT_MAX 10240

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_QINQ	0x88a8
#define ETHERTYPE_9100	0x9100

struct pkt_eth {
	uint8_t dst[6];
	uint8_t src[6];
	uint16_t type;
} __attribute__((packed));

struct pkt_vlan {
	uint16_t tci;
	uint16_t type; /* EtherType of what follows the tag */
} __attribute__((packed));

struct pkt_ip4 {
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off; /* flags (3 bits) | offset in 8-byte units (13 bits) */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint8_t src[4];
	uint8_t dst[4];
} __attribute__((packed));

struct pkt_ip6 {
	uint32_t ver_tc_flow;
	uint16_t payload_len;
	uint8_t nexthdr;
	uint8_t hop_limit;
	uint8_t src[16];
	uint8_t dst[16];
} __attribute__((packed));

/* Hop-by-hop, routing and destination options share this first part. */
struct pkt_ext6 {
	uint8_t nexthdr;
	uint8_t hdrlen; /* in 8-byte units, not counting the first 8 bytes */
	uint8_t data[6];
} __attribute__((packed));

struct pkt_frag6 {
	uint8_t nexthdr;
	uint8_t reserved;
	uint16_t frag_off; /* offset in 8-byte units << 3 | M flag */
	uint32_t id;
} __attribute__((packed));

struct pkt_tcp {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t doff; /* data offset in 32-bit words << 4 */
	uint8_t flags;
	uint16_t window;
	uint16_t csum;
	uint16_t urg;
} __attribute__((packed));

struct pkt_udp {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;
	uint16_t csum;
} __attribute__((packed));

struct pkt_sctp {
	uint16_t sport;
	uint16_t dport;
	uint32_t vtag;
	uint32_t csum;
} __attribute__((packed));

/* ICMP and ICMPv6 have the same 8-byte shape. */
struct pkt_icmp {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint32_t rest;
} __attribute__((packed));

struct pkt_gre {
	uint16_t flags;
	uint16_t proto;
} __attribute__((packed));

struct pkt_arp {
	uint16_t htype;
	uint16_t ptype;
	uint8_t hlen;
	uint8_t plen;
	uint16_t op;
	uint8_t sha[6];
	uint8_t spa[4];
	uint8_t tha[6];
	uint8_t tpa[4];
} __attribute__((packed));

/* 802.2 LLC header following an 802.3 length field. */
struct pkt_llc {
	uint8_t dsap;
	uint8_t ssap;
	uint8_t ctrl;
} __attribute__((packed));

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

struct pkt {
	uint8_t data[PKT_MAX];
	size_t len;
	/* Where pkt_finish() fills in lengths; 0 = no such header. */
	size_t ip4_off;
	size_t ip6_off;
	size_t udp_off;
};

/* Documentation prefixes (RFC 5737, RFC 3849): never real peers. */
#define PKT_SRC4                                                                                   \
	{                                                                                          \
		192, 0, 2, 1                                                                       \
	}
#define PKT_DST4                                                                                   \
	{                                                                                          \
		198, 51, 100, 2                                                                    \
	}
#define PKT_SRC6                                                                                   \
	{                                                                                          \
		0x20, 0x01, 0x0d, 0xb8, [15] = 0x01                                                \
	}
#define PKT_DST6                                                                                   \
	{                                                                                          \
		0x20, 0x01, 0x0d, 0xb8, [15] = 0x02                                                \
	}

extern const uint8_t pkt_src4[4];
extern const uint8_t pkt_dst4[4];
extern const uint8_t pkt_src6[16];
extern const uint8_t pkt_dst6[16];

void pkt_init(struct pkt *p);
void *pkt_put(struct pkt *p, size_t n);
void pkt_payload(struct pkt *p, size_t n);
struct pkt_eth *pkt_eth(struct pkt *p, uint16_t type);
struct pkt_vlan *pkt_vlan(struct pkt *p, uint16_t vid, uint16_t type);
struct pkt_ip4 *pkt_ipv4(struct pkt *p, uint8_t proto, uint8_t ihl, const uint8_t src[4],
			 const uint8_t dst[4]);
struct pkt_ip6 *pkt_ipv6(struct pkt *p, uint8_t nexthdr, const uint8_t src[16],
			 const uint8_t dst[16]);
struct pkt_ext6 *pkt_ext6(struct pkt *p, uint8_t nexthdr, uint8_t hdrlen);
struct pkt_frag6 *pkt_frag6(struct pkt *p, uint8_t nexthdr, uint16_t offset8, int more);
struct pkt_tcp *pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags);
struct pkt_udp *pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport);
struct pkt_sctp *pkt_sctp(struct pkt *p, uint16_t sport, uint16_t dport);
struct pkt_icmp *pkt_icmp(struct pkt *p, uint8_t type, uint8_t code);
struct pkt_gre *pkt_gre(struct pkt *p, uint16_t proto);
struct pkt_arp *pkt_arp(struct pkt *p);
struct pkt_llc *pkt_llc(struct pkt *p);
void pkt_finish(struct pkt *p);

#endif /* TFC_TEST_PKT_H */
