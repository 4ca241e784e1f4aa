// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The case table: one row per frame shape, each with the outcome
 * openspec/specs/counting.md prescribes, plus three frames cut at every
 * length from 14 bytes up, to cross every header boundary. Builders take
 * one int so rows can vary a field (IHL, fragment offset, tag stack,
 * extension chain) without one function per row.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

#define TCP_SPORT  40000
#define TCP_DPORT  443
#define UDP_SPORT  40001
#define UDP_DPORT  53
#define SCTP_SPORT 2905
#define SCTP_DPORT 3868
#define SYNACK	   (TCPF_SYN | TCPF_ACK)
#define FINPSHACK  (TCPF_FIN | TCPF_PSH | TCPF_ACK)

#define STAT(r)                                                                                    \
	{                                                                                          \
		.stat = (r), .note = NOTE_NONE                                                     \
	}
#define IN4(pr, sp, dp, fl, nt)                                                                    \
	{                                                                                          \
		.counted = true, .note = (nt), .family = 4, .proto = (pr), .tcp_flags = (fl),      \
		.sport = (sp), .dport = (dp), .src = PKT_SRC4, .dst = PKT_DST4                     \
	}
#define IN6(pr, sp, dp, fl, nt)                                                                    \
	{                                                                                          \
		.counted = true, .note = (nt), .family = 6, .proto = (pr), .tcp_flags = (fl),      \
		.sport = (sp), .dport = (dp), .src = PKT_SRC6, .dst = PKT_DST6                     \
	}
#define TCP4	       IN4(IPPROTO_TCP, TCP_SPORT, TCP_DPORT, SYNACK, NOTE_NONE)
#define UDP4	       IN4(IPPROTO_UDP, UDP_SPORT, UDP_DPORT, 0, NOTE_NONE)
#define UDP4_NOPORTS   IN4(IPPROTO_UDP, 0, 0, 0, NOTE_NONE)
#define UDP6	       IN6(IPPROTO_UDP, UDP_SPORT, UDP_DPORT, 0, NOTE_NONE)
#define UDP6_NOPORTS   IN6(IPPROTO_UDP, 0, 0, 0, NOTE_NONE)
#define EXT_LIMIT6(pr) IN6(pr, 0, 0, 0, TFC_STAT_IPV6_EXT_LIMIT)
#define L4_CUT4(pr)    IN4(pr, 0, 0, 0, TFC_STAT_L4_TRUNCATED)
#define L4_CUT6(pr)    IN6(pr, 0, 0, 0, TFC_STAT_L4_TRUNCATED)

/* Row argument for the total-length builders: IHL and total length. */
#define IHL_TOT(ihl, tot) ((ihl) << 16 | (tot))

typedef void (*build_fn)(struct pkt *p, int arg);

struct case_def {
	const char *name;
	build_fn build;
	int arg;
	struct expect want;
};

/* TCP, UDP, SCTP, ICMP(v6) or GRE with a few payload bytes after it. */
static void put_l4(struct pkt *p, uint8_t proto, uint8_t tcp_flags)
{
	switch (proto) {
	case IPPROTO_TCP:
		pkt_tcp(p, TCP_SPORT, TCP_DPORT, tcp_flags);
		break;
	case IPPROTO_UDP:
		pkt_udp(p, UDP_SPORT, UDP_DPORT);
		break;
	case IPPROTO_SCTP:
		pkt_sctp(p, SCTP_SPORT, SCTP_DPORT);
		break;
	case IPPROTO_ICMP:
		pkt_icmp(p, 8, 0); /* echo request */
		break;
	case IPPROTO_ICMPV6:
		pkt_icmp(p, 128, 0); /* echo request */
		break;
	case IPPROTO_GRE: {
		/* A tunnelled IPv4/UDP packet: must not be decapsulated. */
		static const uint8_t in_src[4] = {10, 0, 0, 1}, in_dst[4] = {10, 0, 0, 2};

		pkt_gre(p, ETHERTYPE_IPV4);
		pkt_ipv4(p, IPPROTO_UDP, 5, in_src, in_dst);
		pkt_udp(p, 1111, 2222);
		break;
	}
	}
	pkt_payload(p, 6);
}

/* IPv4 TCP SYN|ACK with IHL `ihl` (5: no options; 6..15: NOP options). */
static void b_tcp4(struct pkt *p, int ihl)
{
	pkt_eth(p, ETHERTYPE_IPV4);
	pkt_ipv4(p, IPPROTO_TCP, (uint8_t)ihl, pkt_src4, pkt_dst4);
	put_l4(p, IPPROTO_TCP, SYNACK);
	pkt_finish(p);
}

static void b_l4_v4(struct pkt *p, int proto)
{
	pkt_eth(p, ETHERTYPE_IPV4);
	pkt_ipv4(p, (uint8_t)proto, 5, pkt_src4, pkt_dst4);
	put_l4(p, (uint8_t)proto, SYNACK);
	pkt_finish(p);
}

/* IPv6 TCP uses other flags than IPv4 so a flags mix-up would show. */
static void b_l4_v6(struct pkt *p, int proto)
{
	pkt_eth(p, ETHERTYPE_IPV6);
	pkt_ipv6(p, (uint8_t)proto, pkt_src6, pkt_dst6);
	put_l4(p, (uint8_t)proto, FINPSHACK);
	pkt_finish(p);
}

/* IHL field below 5 while all 20 header bytes and a TCP header follow. */
static void b_bad_ihl(struct pkt *p, int ihl)
{
	struct pkt_ip4 *ip;

	pkt_eth(p, ETHERTYPE_IPV4);
	ip = pkt_ipv4(p, IPPROTO_TCP, 5, pkt_src4, pkt_dst4);
	put_l4(p, IPPROTO_TCP, SYNACK);
	pkt_finish(p);
	ip->ver_ihl = (uint8_t)(4 << 4 | ihl);
}

static void b_totlen(struct pkt *p, int arg, uint8_t proto)
{
	struct pkt_ip4 *ip;

	pkt_eth(p, ETHERTYPE_IPV4);
	ip = pkt_ipv4(p, proto, (uint8_t)(arg >> 16), pkt_src4, pkt_dst4);
	put_l4(p, proto, SYNACK);
	pkt_finish(p);
	ip->tot_len = htons((uint16_t)(arg & 0xffff));
}

static void b_totlen_tcp4(struct pkt *p, int arg)
{
	b_totlen(p, arg, IPPROTO_TCP);
}

/* ICMP: no ports, so a total length ending before L4 leaves nothing to argue. */
static void b_totlen_icmp4(struct pkt *p, int arg)
{
	b_totlen(p, arg, IPPROTO_ICMP);
}

/* IPv4/UDP with the raw flags+offset field `frag_off`. */
static void b_frag4(struct pkt *p, int frag_off)
{
	struct pkt_ip4 *ip;

	pkt_eth(p, ETHERTYPE_IPV4);
	ip = pkt_ipv4(p, IPPROTO_UDP, 5, pkt_src4, pkt_dst4);
	put_l4(p, IPPROTO_UDP, 0);
	ip->frag_off = htons((uint16_t)frag_off);
	pkt_finish(p);
}

/*
 * Tag stacks: the Ethernet type, then each tag's type; the last entry is the
 * payload's EtherType. Zero-terminated.
 */
enum vlan_stack {
	VLAN_1Q,
	VLAN_QINQ,
	VLAN_9100,
	VLAN_9100_1Q_V6,
	VLAN_4_V4,
	VLAN_4_V6,
	VLAN_5_V4,
	VLAN_1Q_ARP,
	VLAN_4_ARP,
	VLAN_QINQ_V6,
};

static const uint16_t vlan_stacks[][8] = {
	[VLAN_1Q] = {ETHERTYPE_8021Q, ETHERTYPE_IPV4},
	[VLAN_QINQ] = {ETHERTYPE_QINQ, ETHERTYPE_8021Q, ETHERTYPE_IPV4},
	[VLAN_9100] = {ETHERTYPE_9100, ETHERTYPE_IPV4},
	[VLAN_9100_1Q_V6] = {ETHERTYPE_9100, ETHERTYPE_8021Q, ETHERTYPE_IPV6},
	[VLAN_4_V4] = {ETHERTYPE_QINQ, ETHERTYPE_8021Q, ETHERTYPE_8021Q, ETHERTYPE_8021Q,
		       ETHERTYPE_IPV4},
	[VLAN_4_V6] = {ETHERTYPE_9100, ETHERTYPE_QINQ, ETHERTYPE_8021Q, ETHERTYPE_9100,
		       ETHERTYPE_IPV6},
	[VLAN_5_V4] = {ETHERTYPE_QINQ, ETHERTYPE_8021Q, ETHERTYPE_8021Q, ETHERTYPE_8021Q,
		       ETHERTYPE_8021Q, ETHERTYPE_IPV4},
	[VLAN_1Q_ARP] = {ETHERTYPE_8021Q, ETHERTYPE_ARP},
	[VLAN_4_ARP] = {ETHERTYPE_8021Q, ETHERTYPE_8021Q, ETHERTYPE_8021Q, ETHERTYPE_8021Q,
			ETHERTYPE_ARP},
	[VLAN_QINQ_V6] = {ETHERTYPE_QINQ, ETHERTYPE_8021Q, ETHERTYPE_IPV6},
};

static void b_vlan(struct pkt *p, int idx)
{
	const uint16_t *s = vlan_stacks[idx];
	int i;

	pkt_eth(p, s[0]);
	for (i = 1; s[i]; i++)
		pkt_vlan(p, (uint16_t)(100 + i), s[i]);
	switch (s[i - 1]) {
	case ETHERTYPE_IPV4:
		pkt_ipv4(p, IPPROTO_UDP, 5, pkt_src4, pkt_dst4);
		put_l4(p, IPPROTO_UDP, 0);
		break;
	case ETHERTYPE_IPV6:
		pkt_ipv6(p, IPPROTO_TCP, pkt_src6, pkt_dst6);
		put_l4(p, IPPROTO_TCP, FINPSHACK);
		break;
	default:
		pkt_arp(p);
		break;
	}
	pkt_finish(p);
}

struct ext_spec {
	uint8_t type;	       /* IPPROTO_HOPOPTS, _ROUTING, _FRAGMENT or _DSTOPTS */
	uint8_t hdrlen;	       /* options headers: length in 8-byte units after the first 8 */
	uint16_t frag_offset8; /* fragment header: offset in 8-byte units */
};

#define HOP(l)                                                                                     \
	{                                                                                          \
		IPPROTO_HOPOPTS, (l), 0                                                            \
	}
#define RT(l)                                                                                      \
	{                                                                                          \
		IPPROTO_ROUTING, (l), 0                                                            \
	}
#define DST(l)                                                                                     \
	{                                                                                          \
		IPPROTO_DSTOPTS, (l), 0                                                            \
	}
#define FRAG(o)                                                                                    \
	{                                                                                          \
		IPPROTO_FRAGMENT, 0, (o)                                                           \
	}

/* Extension header chains in front of UDP; lengths vary to test the skip. */
enum ext_chain {
	EXT_HOP,
	EXT_ROUTING,
	EXT_FRAG_FIRST,
	EXT_FRAG_LATER,
	EXT_DST,
	EXT_RFC_ORDER,
	EXT_8,
	EXT_8_LATER_FRAG,
	EXT_9,
	EXT_10,
};

static const struct {
	int n;
	struct ext_spec h[10];
} ext_chains[] = {
	[EXT_HOP] = {1, {HOP(0)}},
	[EXT_ROUTING] = {1, {RT(2)}},
	[EXT_FRAG_FIRST] = {1, {FRAG(0)}},
	[EXT_FRAG_LATER] = {1, {FRAG(185)}},
	[EXT_DST] = {1, {DST(0)}},
	[EXT_RFC_ORDER] = {4, {HOP(1), RT(2), FRAG(0), DST(0)}},
	[EXT_8] = {8, {HOP(0), DST(1), RT(2), DST(0), DST(0), DST(0), DST(0), DST(3)}},
	[EXT_8_LATER_FRAG] = {8,
			      {HOP(0), DST(0), RT(2), FRAG(100), DST(0), DST(0), DST(0), DST(1)}},
	[EXT_9] = {9, {HOP(0), DST(0), DST(0), DST(0), DST(0), DST(0), DST(0), DST(0), RT(2)}},
	[EXT_10] = {10,
		    {DST(0), DST(0), DST(0), DST(0), DST(0), DST(0), DST(0), DST(0), FRAG(0),
		     DST(0)}},
};

static void b_ext6(struct pkt *p, int idx)
{
	int n = ext_chains[idx].n;
	const struct ext_spec *h = ext_chains[idx].h;

	pkt_eth(p, ETHERTYPE_IPV6);
	pkt_ipv6(p, h[0].type, pkt_src6, pkt_dst6);
	for (int i = 0; i < n; i++) {
		uint8_t next = i + 1 < n ? h[i + 1].type : IPPROTO_UDP;

		/* More fragments set on all, so offset 0 is a genuine first fragment. */
		if (h[i].type == IPPROTO_FRAGMENT)
			pkt_frag6(p, next, h[i].frag_offset8, 1);
		else
			pkt_ext6(p, next, h[i].hdrlen);
	}
	put_l4(p, IPPROTO_UDP, 0);
	pkt_finish(p);
}

static void b_arp(struct pkt *p, int unused)
{
	(void)unused;
	pkt_eth(p, ETHERTYPE_ARP);
	pkt_arp(p);
	pkt_payload(p, 18); /* padded to the 60-byte minimum */
}

/* 802.3: the type field is a length (<= 1500), followed by LLC. */
static void b_llc(struct pkt *p, int unused)
{
	(void)unused;
	pkt_eth(p, 3 + 43);
	pkt_llc(p);
	pkt_payload(p, 43);
}

/* An EtherType that is neither IP nor a tag (LLDP, MPLS), with IPv4 after it. */
static void b_ethertype(struct pkt *p, int type)
{
	pkt_eth(p, (uint16_t)type);
	if (type == 0x8847)
		pkt_put(p, 4); /* one MPLS label, bottom of stack bit left 0: opaque */
	pkt_ipv4(p, IPPROTO_UDP, 5, pkt_src4, pkt_dst4);
	put_l4(p, IPPROTO_UDP, 0);
	pkt_finish(p);
}

/* EtherType IPv4 carrying a complete IPv6 packet, and the converse. */
static void b_v6_as_v4(struct pkt *p, int unused)
{
	(void)unused;
	pkt_eth(p, ETHERTYPE_IPV4);
	pkt_ipv6(p, IPPROTO_UDP, pkt_src6, pkt_dst6);
	put_l4(p, IPPROTO_UDP, 0);
	pkt_finish(p);
}

/* 20 + 20 + 6 bytes after L2: more than an IPv6 header, so not "truncated". */
static void b_v4_as_v6(struct pkt *p, int unused)
{
	(void)unused;
	pkt_eth(p, ETHERTYPE_IPV6);
	pkt_ipv4(p, IPPROTO_TCP, 5, pkt_src4, pkt_dst4);
	put_l4(p, IPPROTO_TCP, SYNACK);
	pkt_finish(p);
}

/* Exactly ETH_HLEN bytes: the smallest frame BPF_PROG_TEST_RUN accepts. */
static void b_eth_only(struct pkt *p, int type)
{
	pkt_eth(p, (uint16_t)type);
}

/*
 * Found by fuzzing (tests/fuzz). Hop-by-hop, destination options and UDP,
 * with an IPv6 payload length of `plen`: bytes after it are not part of the
 * packet (as for IPv4's total length), so with plen 8 the walk cannot read
 * destination options' Next Header and must stop there.
 */
static void b_ext6_payload_len(struct pkt *p, int plen)
{
	struct pkt_ip6 *ip;

	pkt_eth(p, ETHERTYPE_IPV6);
	ip = pkt_ipv6(p, IPPROTO_HOPOPTS, pkt_src6, pkt_dst6);
	pkt_ext6(p, IPPROTO_DSTOPTS, 0);
	pkt_ext6(p, IPPROTO_UDP, 0);
	put_l4(p, IPPROTO_UDP, 0);
	pkt_finish(p);
	ip->payload_len = htons((uint16_t)plen);
}

/*
 * Found by fuzzing. A later fragment (offset 185) of a packet whose
 * fragmentable part starts with destination options, with `n` bytes of
 * fragment data: after a later fragment's header comes data, not headers,
 * so the protocol is the fragment header's Next Header and nothing is
 * truncated.
 */
static void b_frag6_later_dstopts(struct pkt *p, int n)
{
	pkt_eth(p, ETHERTYPE_IPV6);
	pkt_ipv6(p, IPPROTO_FRAGMENT, pkt_src6, pkt_dst6);
	pkt_frag6(p, IPPROTO_DSTOPTS, 185, 1);
	pkt_payload(p, (size_t)n);
	pkt_finish(p);
}

static const struct case_def table[] = {
	/* IPv4 header: options, IHL, total length, fragments */
	{"ipv4_tcp_synack", b_tcp4, 5, TCP4},
	{"ipv4_options_ihl_6", b_tcp4, 6, TCP4},
	{"ipv4_options_ihl_7", b_tcp4, 7, TCP4},
	{"ipv4_options_ihl_8", b_tcp4, 8, TCP4},
	{"ipv4_options_ihl_9", b_tcp4, 9, TCP4},
	{"ipv4_options_ihl_10", b_tcp4, 10, TCP4},
	{"ipv4_options_ihl_11", b_tcp4, 11, TCP4},
	{"ipv4_options_ihl_12", b_tcp4, 12, TCP4},
	{"ipv4_options_ihl_13", b_tcp4, 13, TCP4},
	{"ipv4_options_ihl_14", b_tcp4, 14, TCP4},
	{"ipv4_options_ihl_15", b_tcp4, 15, TCP4},
	{"ipv4_bad_ihl_4", b_bad_ihl, 4, STAT(TFC_STAT_IPV4_BAD_IHL)},
	{"ipv4_bad_ihl_1", b_bad_ihl, 1, STAT(TFC_STAT_IPV4_BAD_IHL)},
	{"ipv4_bad_ihl_0", b_bad_ihl, 0, STAT(TFC_STAT_IPV4_BAD_IHL)},
	{"ipv4_total_length_19_ihl_5", b_totlen_tcp4, IHL_TOT(5, 19),
	 STAT(TFC_STAT_IPV4_BAD_LENGTH)},
	{"ipv4_total_length_1_ihl_5", b_totlen_tcp4, IHL_TOT(5, 1), STAT(TFC_STAT_IPV4_BAD_LENGTH)},
	{"ipv4_total_length_59_ihl_15", b_totlen_tcp4, IHL_TOT(15, 59),
	 STAT(TFC_STAT_IPV4_BAD_LENGTH)},
	{"ipv4_total_length_0_ihl_5", b_totlen_tcp4, IHL_TOT(5, 0), TCP4},
	{"ipv4_total_length_0_ihl_15", b_totlen_tcp4, IHL_TOT(15, 0), TCP4},
	{"ipv4_total_length_20_ihl_5", b_totlen_icmp4, IHL_TOT(5, 20),
	 IN4(IPPROTO_ICMP, 0, 0, 0, NOTE_NONE)},
	{"ipv4_total_length_24_ihl_6", b_totlen_icmp4, IHL_TOT(6, 24),
	 IN4(IPPROTO_ICMP, 0, 0, 0, NOTE_NONE)},
	/* Bytes past the IP length (Ethernet padding) are not a TCP header. */
	{"ipv4_tcp_beyond_total_length", b_totlen_tcp4, IHL_TOT(5, 20), L4_CUT4(IPPROTO_TCP)},
	{"ipv4_tcp_header_cut_by_total_length", b_totlen_tcp4, IHL_TOT(5, 39),
	 L4_CUT4(IPPROTO_TCP)},
	{"ipv4_tcp_exactly_total_length", b_totlen_tcp4, IHL_TOT(5, 40), TCP4},
	{"ipv4_first_fragment_mf", b_frag4, 0x2000, UDP4},
	{"ipv4_dont_fragment", b_frag4, 0x4000, UDP4},
	{"ipv4_later_fragment_mf", b_frag4, 0x2000 | 185, UDP4_NOPORTS},
	{"ipv4_last_fragment", b_frag4, 185, UDP4_NOPORTS},
	{"ipv4_fragment_offset_1", b_frag4, 1, UDP4_NOPORTS},
	{"ipv4_fragment_offset_max", b_frag4, 0x1fff, UDP4_NOPORTS},
	/* L4 protocols */
	{"ipv4_udp", b_l4_v4, IPPROTO_UDP, UDP4},
	{"ipv4_sctp", b_l4_v4, IPPROTO_SCTP,
	 IN4(IPPROTO_SCTP, SCTP_SPORT, SCTP_DPORT, 0, NOTE_NONE)},
	{"ipv4_icmp", b_l4_v4, IPPROTO_ICMP, IN4(IPPROTO_ICMP, 0, 0, 0, NOTE_NONE)},
	{"ipv4_gre_not_decapsulated", b_l4_v4, IPPROTO_GRE, IN4(IPPROTO_GRE, 0, 0, 0, NOTE_NONE)},
	{"ipv6_tcp_fin_psh_ack", b_l4_v6, IPPROTO_TCP,
	 IN6(IPPROTO_TCP, TCP_SPORT, TCP_DPORT, FINPSHACK, NOTE_NONE)},
	{"ipv6_udp", b_l4_v6, IPPROTO_UDP, UDP6},
	{"ipv6_sctp", b_l4_v6, IPPROTO_SCTP,
	 IN6(IPPROTO_SCTP, SCTP_SPORT, SCTP_DPORT, 0, NOTE_NONE)},
	{"ipv6_icmpv6", b_l4_v6, IPPROTO_ICMPV6, IN6(IPPROTO_ICMPV6, 0, 0, 0, NOTE_NONE)},
	{"ipv6_gre_not_decapsulated", b_l4_v6, IPPROTO_GRE, IN6(IPPROTO_GRE, 0, 0, 0, NOTE_NONE)},
	/* IPv6 extension headers */
	{"ipv6_ext_hop_by_hop", b_ext6, EXT_HOP, UDP6},
	{"ipv6_ext_routing", b_ext6, EXT_ROUTING, UDP6},
	{"ipv6_ext_fragment_first", b_ext6, EXT_FRAG_FIRST, UDP6},
	{"ipv6_ext_fragment_later", b_ext6, EXT_FRAG_LATER, UDP6_NOPORTS},
	{"ipv6_ext_destination_options", b_ext6, EXT_DST, UDP6},
	{"ipv6_ext_rfc8200_order", b_ext6, EXT_RFC_ORDER, UDP6},
	{"ipv6_ext_chain_of_8", b_ext6, EXT_8, UDP6},
	/* After a later fragment comes data: the walk ends at the fragment header. */
	{"ipv6_ext_chain_of_8_later_fragment", b_ext6, EXT_8_LATER_FRAG,
	 IN6(IPPROTO_DSTOPTS, 0, 0, 0, NOTE_NONE)},
	{"ipv6_ext_chain_of_9", b_ext6, EXT_9, EXT_LIMIT6(IPPROTO_ROUTING)},
	{"ipv6_ext_chain_of_10", b_ext6, EXT_10, EXT_LIMIT6(IPPROTO_FRAGMENT)},
	/* VLAN tags */
	{"vlan_8021q", b_vlan, VLAN_1Q, UDP4},
	{"vlan_qinq_88a8_8100", b_vlan, VLAN_QINQ, UDP4},
	{"vlan_9100", b_vlan, VLAN_9100, UDP4},
	{"vlan_9100_8100_ipv6", b_vlan, VLAN_9100_1Q_V6,
	 IN6(IPPROTO_TCP, TCP_SPORT, TCP_DPORT, FINPSHACK, NOTE_NONE)},
	{"vlan_4_tags_ipv4", b_vlan, VLAN_4_V4, UDP4},
	{"vlan_4_tags_ipv6", b_vlan, VLAN_4_V6,
	 IN6(IPPROTO_TCP, TCP_SPORT, TCP_DPORT, FINPSHACK, NOTE_NONE)},
	{"vlan_5_tags", b_vlan, VLAN_5_V4, STAT(TFC_STAT_VLAN_TOO_DEEP)},
	{"vlan_8021q_arp", b_vlan, VLAN_1Q_ARP, STAT(TFC_STAT_NON_IP)},
	{"vlan_4_tags_arp", b_vlan, VLAN_4_ARP, STAT(TFC_STAT_NON_IP)},
	/* not IP, or not the IP version the EtherType says */
	{"arp", b_arp, 0, STAT(TFC_STAT_NON_IP)},
	{"ieee8023_llc", b_llc, 0, STAT(TFC_STAT_NON_IP)},
	{"ethertype_lldp", b_ethertype, 0x88cc, STAT(TFC_STAT_NON_IP)},
	{"ethertype_mpls_not_decapsulated", b_ethertype, 0x8847, STAT(TFC_STAT_NON_IP)},
	{"ipv4_ethertype_version_6", b_v6_as_v4, 0, STAT(TFC_STAT_IPV4_BAD_VERSION)},
	{"ipv6_ethertype_version_4", b_v4_as_v6, 0, STAT(TFC_STAT_IPV6_BAD_VERSION)},
	/* exactly 14 bytes */
	{"min14_arp", b_eth_only, ETHERTYPE_ARP, STAT(TFC_STAT_NON_IP)},
	{"min14_ieee8023_length", b_eth_only, 46, STAT(TFC_STAT_NON_IP)},
	{"min14_ipv4", b_eth_only, ETHERTYPE_IPV4, STAT(TFC_STAT_IPV4_TRUNCATED)},
	{"min14_ipv6", b_eth_only, ETHERTYPE_IPV6, STAT(TFC_STAT_IPV6_TRUNCATED)},
	{"min14_8021q", b_eth_only, ETHERTYPE_8021Q, STAT(TFC_STAT_TRUNCATED_L2)},
	{"min14_qinq", b_eth_only, ETHERTYPE_QINQ, STAT(TFC_STAT_TRUNCATED_L2)},
	{"min14_9100", b_eth_only, ETHERTYPE_9100, STAT(TFC_STAT_TRUNCATED_L2)},
	/* found by fuzzing (tests/fuzz); see the builders */
	{"ipv6_payload_length_ends_after_ext", b_ext6_payload_len, 16, L4_CUT6(IPPROTO_UDP)},
	{"ipv6_payload_length_ends_inside_ext", b_ext6_payload_len, 8, L4_CUT6(IPPROTO_DSTOPTS)},
	{"ipv6_later_fragment_of_dstopts", b_frag6_later_dstopts, 32,
	 IN6(IPPROTO_DSTOPTS, 0, 0, 0, NOTE_NONE)},
	{"ipv6_later_fragment_of_dstopts_4_bytes", b_frag6_later_dstopts, 4,
	 IN6(IPPROTO_DSTOPTS, 0, 0, 0, NOTE_NONE)},
};

/* A frame cut at `len` gets the outcome of the first rule with len < below. */
struct cut_rule {
	size_t below;
	struct expect want;
};

/* Ethernet 14 | 802.1Q 4 | IPv4 IHL 6: 24 | TCP 20 | payload 6 = 68 bytes. */
static void b_cut_tcp4(struct pkt *p, int unused)
{
	(void)unused;
	pkt_eth(p, ETHERTYPE_8021Q);
	pkt_vlan(p, 100, ETHERTYPE_IPV4);
	pkt_ipv4(p, IPPROTO_TCP, 6, pkt_src4, pkt_dst4);
	put_l4(p, IPPROTO_TCP, SYNACK);
	pkt_finish(p);
}

static const struct cut_rule cut_tcp4_rules[] = {
	{18, STAT(TFC_STAT_TRUNCATED_L2)},   /* inside the VLAN tag */
	{42, STAT(TFC_STAT_IPV4_TRUNCATED)}, /* fewer than 20, then fewer than IHL*4 bytes */
	{62, L4_CUT4(IPPROTO_TCP)},	     /* inside the TCP header: ports and flags unknown */
	{SIZE_MAX, TCP4},
};

/*
 * Ethernet 14 | IPv6 40 | hop-by-hop 16 | destination options 8 | UDP 8 |
 * payload 6 = 92 bytes. The walk needs an extension header's first 8 bytes
 * to step over it, so a cut there leaves that header's type as the protocol;
 * a cut after them already knows the next header's type.
 */
static void b_cut_udp6(struct pkt *p, int unused)
{
	(void)unused;
	pkt_eth(p, ETHERTYPE_IPV6);
	pkt_ipv6(p, IPPROTO_HOPOPTS, pkt_src6, pkt_dst6);
	pkt_ext6(p, IPPROTO_DSTOPTS, 1);
	pkt_ext6(p, IPPROTO_UDP, 0);
	put_l4(p, IPPROTO_UDP, 0);
	pkt_finish(p);
}

static const struct cut_rule cut_udp6_rules[] = {
	{54, STAT(TFC_STAT_IPV6_TRUNCATED)},
	{62, L4_CUT6(IPPROTO_HOPOPTS)}, /* hop-by-hop's first 8 bytes incomplete */
	{78, L4_CUT6(IPPROTO_DSTOPTS)}, /* rest of hop-by-hop, or destination options cut */
	{86, L4_CUT6(IPPROTO_UDP)},	/* inside the UDP header */
	{SIZE_MAX, UDP6},
};

/*
 * Ethernet 14 | 802.1ad 4 | 802.1Q 4 | IPv6 40 | TCP 20 | payload 6 = 88.
 * Also the tc programs' only view of a short IPv6 header: untagged, the
 * kernel's test run refuses it (see check.c).
 */
static void b_cut_tcp6(struct pkt *p, int unused)
{
	(void)unused;
	b_vlan(p, VLAN_QINQ_V6);
}

static const struct cut_rule cut_tcp6_rules[] = {
	{22, STAT(TFC_STAT_TRUNCATED_L2)}, /* inside either tag */
	{62, STAT(TFC_STAT_IPV6_TRUNCATED)},
	{82, L4_CUT6(IPPROTO_TCP)},
	{SIZE_MAX, IN6(IPPROTO_TCP, TCP_SPORT, TCP_DPORT, FINPSHACK, NOTE_NONE)},
};

static const struct {
	const char *name;
	build_fn build;
	const struct cut_rule *rules;
} cut_series[] = {
	{"cut_vlan_ipv4opt_tcp", b_cut_tcp4, cut_tcp4_rules},
	{"cut_ipv6ext_udp", b_cut_udp6, cut_udp6_rules},
	{"cut_qinq_ipv6_tcp", b_cut_tcp6, cut_tcp6_rules},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* How many cases the cut series produce: one per length from 14 to full. */
static size_t cut_count(void)
{
	struct pkt *p = malloc(sizeof(*p));
	size_t n = 0;

	if (!p)
		return 0;
	for (size_t s = 0; s < ARRAY_LEN(cut_series); s++) {
		pkt_init(p);
		cut_series[s].build(p, 0);
		n += p->len - 14 + 1;
	}
	free(p);
	return n;
}

/* Appends one case per cut length of series s; returns the new count. */
static size_t add_cuts(struct frame_case *cases, size_t n, size_t s)
{
	struct frame_case full;

	pkt_init(&full.pkt);
	cut_series[s].build(&full.pkt, 0);
	for (size_t len = 14; len <= full.pkt.len; len++) {
		const struct cut_rule *r = cut_series[s].rules;
		struct frame_case *c = &cases[n++];

		while (len >= r->below)
			r++;
		snprintf(c->name, sizeof(c->name), "%s_len_%zu", cut_series[s].name, len);
		/* The IP length fields still describe the whole packet, as on the wire. */
		c->pkt = full.pkt;
		c->pkt.len = len;
		c->want = r->want;
	}
	return n;
}

int cases_build(struct frame_case **out)
{
	size_t total = ARRAY_LEN(table) + cut_count(), n = 0;
	struct frame_case *cases = calloc(total, sizeof(*cases));

	if (!cases)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(table); i++, n++) {
		snprintf(cases[n].name, sizeof(cases[n].name), "%s", table[i].name);
		pkt_init(&cases[n].pkt);
		table[i].build(&cases[n].pkt, table[i].arg);
		cases[n].want = table[i].want;
	}
	for (size_t s = 0; s < ARRAY_LEN(cut_series); s++)
		n = add_cuts(cases, n, s);
	*out = cases;
	return (int)n;
}

/*
 * BPF_PROG_TEST_RUN for skb programs refuses (EINVAL) a frame whose EtherType
 * is IPv4 or IPv6 but whose linear data after the Ethernet header is shorter
 * than an IPv4 (20) or IPv6 (40) header: bpf_prog_test_run_skb() checks
 * skb_headlen() against sizeof(struct iphdr) / sizeof(struct ipv6hdr) right
 * after eth_type_trans() (6.18 and the stable kernels that took the fix).
 * Nothing in ctx_in changes the data length, and padding would make the
 * header whole, so these frames cannot run at tc here. A real interface does
 * hand them to tc: tests/helpers/tc_refused lists them from this table and
 * tests/e2e/short_frames.bats sends them over a veth through both tc hooks.
 * Here in cases.c so that test_bpf and tc_refused decide alike.
 */
bool skb_test_run_refuses(const struct pkt *p)
{
	uint16_t type = (uint16_t)(p->data[12] << 8 | p->data[13]);

	if (type == ETHERTYPE_IPV4)
		return p->len < 14 + 20;
	if (type == ETHERTYPE_IPV6)
		return p->len < 14 + 40;
	return false;
}
