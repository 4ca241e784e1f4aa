/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one header parser shared by the xdp and tc programs. It reads packet
 * memory directly between data and data_end and decides, per
 * openspec/specs/counting.md, whether a frame is counted under an address or
 * under one statistic.
 */
#ifndef TFC_PARSE_H
#define TFC_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "traffic_counter_abi.h"

#define ETH_P_8021AD_ ETH_P_8021AD
#define ETH_P_QINQ1   0x9100 /* pre-standard QinQ, not in every UAPI */
#define TFC_NOTE_NONE TFC_STAT_MAX

/* Kernel-internal in <linux/if_vlan.h> and <net/ipv6.h>, so defined here. */
struct tfc_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct tfc_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | M flag */
	__be32 identification;
};

/* TCP, UDP and SCTP all start with the two ports. */
struct tfc_ports {
	__be16 source;
	__be16 dest;
};

struct tfc_pkt {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 proto;
	__u8 tcp_flags;
	__u8 note; /* TFC_STAT_* remark on a counted frame, or TFC_NOTE_NONE */
	/* Bytes of headers in front of the L4 payload: replicated in each
	 * segment of a GSO packet. */
	__u16 hdr_len;
};

static __always_inline int tfc_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD_) ||
	       proto == bpf_htons(ETH_P_QINQ1);
}

static __always_inline int tfc_is_ipv6_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_DSTOPTS;
}

/* Minimal header a port-carrying protocol needs to be taken as decodable. */
static __always_inline __u32 tfc_l4_min_len(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
		return 8;
	case IPPROTO_SCTP:
		return 12;
	default:
		return 0;
	}
}

/*
 * `avail` is how many bytes the IP header says follow up to l4's start
 * (~0 when the IP length is 0 and so unknown): Ethernet padding after a
 * short IP packet is not a transport header.
 */
static __always_inline void tfc_parse_l4(void *l4, void *data_end, __u32 avail, __u32 l4_off,
					 struct tfc_pkt *p)
{
	__u32 need = tfc_l4_min_len(p->proto);
	struct tfc_ports *ports = l4;

	p->hdr_len = l4_off;
	if (!need)
		return;
	if (l4 + need > data_end || need > avail) {
		p->note = TFC_STAT_L4_TRUNCATED;
		return;
	}
	p->sport = bpf_ntohs(ports->source);
	p->dport = bpf_ntohs(ports->dest);
	/* Checked again: the verifier does not tie `need` to the protocol. */
	if (p->proto == IPPROTO_TCP && l4 + 20 <= data_end) {
		p->tcp_flags = ((__u8 *)l4)[13];
		need = (((__u8 *)l4)[12] >> 4) * 4; /* data offset, with options */
	}
	p->hdr_len = l4_off + need;
}

static __always_inline int tfc_parse_ipv4(void *l3, void *data_end, __u32 l3_off, struct tfc_pkt *p)
{
	struct iphdr *iph = l3;
	__u32 hlen;
	__u16 tot_len;

	if ((void *)(iph + 1) > data_end)
		return TFC_STAT_IPV4_TRUNCATED;
	if (iph->version != 4)
		return TFC_STAT_IPV4_BAD_VERSION;
	if (iph->ihl < 5)
		return TFC_STAT_IPV4_BAD_IHL;
	hlen = iph->ihl * 4;
	if (l3 + hlen > data_end)
		return TFC_STAT_IPV4_TRUNCATED;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len != 0 && tot_len < hlen)
		return TFC_STAT_IPV4_BAD_LENGTH;

	p->family = 4;
	p->proto = iph->protocol;
	__builtin_memcpy(p->src, &iph->saddr, 4);
	__builtin_memcpy(p->dst, &iph->daddr, 4);
	/* Only the first fragment carries the L4 header. */
	if (!(iph->frag_off & bpf_htons(0x1fff)))
		tfc_parse_l4(l3 + hlen, data_end, tot_len ? tot_len - hlen : ~0U, l3_off + hlen, p);
	else
		p->hdr_len = l3_off + hlen;
	return -1;
}

static __always_inline int tfc_parse_ipv6(void *l3, void *data_end, __u32 l3_off, struct tfc_pkt *p)
{
	struct ipv6hdr *ip6 = l3;
	void *cur = ip6 + 1;
	__u32 ext_len = 0, plen;
	__u8 nh;

	if (cur > data_end)
		return TFC_STAT_IPV6_TRUNCATED;
	if (ip6->version != 6)
		return TFC_STAT_IPV6_BAD_VERSION;

	p->family = 6;
	p->hdr_len = l3_off + sizeof(*ip6);
	__builtin_memcpy(p->src, &ip6->saddr, 16);
	__builtin_memcpy(p->dst, &ip6->daddr, 16);
	nh = ip6->nexthdr;
	/* Payload length 0: a jumbogram, whose length is in an option. */
	plen = bpf_ntohs(ip6->payload_len) ?: ~0U;

	/* Bounded so the verifier sees a fixed number of steps (counting.md C8: 8). */
#pragma unroll
	for (int i = 0; i < TFC_MAX_IPV6_EXT; i++) {
		struct ipv6_opt_hdr *oh = cur;
		__u32 len;

		if (!tfc_is_ipv6_ext(nh))
			break;
		/* Cut by the frame, or past the payload length (padding). */
		if (cur + sizeof(struct tfc_frag_hdr) > data_end ||
		    ext_len + sizeof(struct tfc_frag_hdr) > plen) {
			p->proto = nh;
			p->note = TFC_STAT_L4_TRUNCATED;
			return -1;
		}
		if (nh == IPPROTO_FRAGMENT) {
			struct tfc_frag_hdr *fh = cur;

			/* A later fragment carries data, not headers: stop here. */
			if (fh->frag_off & bpf_htons(0xfff8)) {
				p->proto = fh->nexthdr;
				p->hdr_len = l3_off + sizeof(*ip6) + ext_len + sizeof(*fh);
				return -1;
			}
			len = sizeof(*fh);
		} else {
			len = ((__u32)oh->hdrlen + 1) * 8;
		}
		nh = oh->nexthdr;
		cur += len;
		ext_len += len;
	}
	p->proto = nh;
	if (tfc_is_ipv6_ext(nh)) {
		p->note = TFC_STAT_IPV6_EXT_LIMIT;
		return -1;
	}
	p->hdr_len = l3_off + sizeof(*ip6) + ext_len;
	tfc_parse_l4(cur, data_end, plen > ext_len ? plen - ext_len : 0,
		     l3_off + sizeof(*ip6) + ext_len, p);
	return -1;
}

/*
 * Returns -1 when the frame is counted under an address (p filled in), or
 * the TFC_STAT_* reason it is not. `tags` is the number of VLAN tags the
 * kernel already moved out of the data (tc ingress offload), so the tag
 * limit applies to the frame as it was on the wire.
 */
static __always_inline int tfc_parse_frame(void *data, void *data_end, __u32 tags,
					   struct tfc_pkt *p)
{
	struct ethhdr *eth = data;
	void *cur = eth + 1;
	__be16 proto;

	__builtin_memset(p, 0, sizeof(*p));
	p->note = TFC_NOTE_NONE;
	if (cur > data_end)
		return TFC_STAT_TRUNCATED_L2;
	proto = eth->h_proto;

	/* One pass more than the limit, to see a tag beyond it. */
#pragma unroll
	for (int i = 0; i <= TFC_MAX_VLAN_TAGS; i++) {
		struct tfc_vlan_hdr *vh = cur;

		if (!tfc_is_vlan(proto))
			break;
		if (tags >= TFC_MAX_VLAN_TAGS)
			return TFC_STAT_VLAN_TOO_DEEP;
		if ((void *)(vh + 1) > data_end)
			return TFC_STAT_TRUNCATED_L2;
		proto = vh->encap_proto;
		cur = vh + 1;
		tags++;
	}

	/* At most 14 + 4 * 4 bytes: the offset fits the verifier's bounds. */
	if (proto == bpf_htons(ETH_P_IP))
		return tfc_parse_ipv4(cur, data_end, (__u32)(cur - data), p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return tfc_parse_ipv6(cur, data_end, (__u32)(cur - data), p);
	return TFC_STAT_NON_IP;
}

#endif /* TFC_PARSE_H */
