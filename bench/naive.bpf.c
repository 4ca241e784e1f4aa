// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The naive reference: what a first per-IP counter usually looks like, to
 * put traffic-counter's figures next to. Ethernet, up to two VLAN tags,
 * IPv4 or IPv6 without extension headers; a per-CPU hash keyed by source
 * address (lookup, else update with BPF_ANY); optionally a shared LRU
 * hash keyed by 5-tuple with atomic adds. No statistics, no control map.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct naive_key {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

struct naive_flow_key {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

struct naive_counters {
	__u64 bytes;
	__u64 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct naive_key);
	__type(value, struct naive_counters);
} naive_ip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, struct naive_flow_key);
	__type(value, struct naive_counters);
} naive_flow SEC(".maps");

struct naive_vlan {
	__be16 tci;
	__be16 proto;
};

/* Returns 0 and fills the flow key (the IP key is its source) or -1. */
static __always_inline int naive_parse(void *data, void *data_end, struct naive_flow_key *k)
{
	struct ethhdr *eth = data;
	void *cur = eth + 1, *l4;
	__be16 proto;

	__builtin_memset(k, 0, sizeof(*k));
	if (cur > data_end)
		return -1;
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct naive_vlan *vh = cur;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			return -1;
		proto = vh->proto;
		cur = vh + 1;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = cur;

		if ((void *)(iph + 1) > data_end)
			return -1;
		k->family = 4;
		k->proto = iph->protocol;
		__builtin_memcpy(k->src, &iph->saddr, 4);
		__builtin_memcpy(k->dst, &iph->daddr, 4);
		l4 = cur + iph->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cur;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		k->family = 6;
		k->proto = ip6->nexthdr;
		__builtin_memcpy(k->src, &ip6->saddr, 16);
		__builtin_memcpy(k->dst, &ip6->daddr, 16);
		l4 = ip6 + 1;
	} else {
		return -1;
	}
	if ((k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) && l4 + 4 <= data_end) {
		k->sport = ((__u16 *)l4)[0];
		k->dport = ((__u16 *)l4)[1];
	}
	return 0;
}

static __always_inline void naive_count(void *data, void *data_end, __u64 len, int flows)
{
	struct naive_counters init = {.bytes = len, .packets = 1};
	struct naive_flow_key fk;
	struct naive_key k = {};
	struct naive_counters *c;

	if (naive_parse(data, data_end, &fk))
		return;
	k.family = fk.family;
	__builtin_memcpy(k.addr, fk.src, sizeof(k.addr));
	c = bpf_map_lookup_elem(&naive_ip, &k);
	if (c) {
		c->bytes += len;
		c->packets++;
	} else {
		bpf_map_update_elem(&naive_ip, &k, &init, BPF_ANY);
	}
	if (!flows)
		return;
	c = bpf_map_lookup_elem(&naive_flow, &fk);
	if (c) {
		__sync_fetch_and_add(&c->bytes, len);
		__sync_fetch_and_add(&c->packets, 1);
	} else {
		bpf_map_update_elem(&naive_flow, &fk, &init, BPF_ANY);
	}
}

SEC("xdp")
int naive_ip_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	naive_count(data, data_end, data_end - data, 0);
	return XDP_PASS;
}

SEC("xdp")
int naive_flow_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	naive_count(data, data_end, data_end - data, 1);
	return XDP_PASS;
}

SEC("tc")
int naive_ip_tc(struct __sk_buff *skb)
{
	naive_count((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, 0);
	return TC_ACT_OK;
}

SEC("tc")
int naive_flow_tc(struct __sk_buff *skb)
{
	naive_count((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
