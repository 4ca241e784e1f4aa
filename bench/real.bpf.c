// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The real data path, unchanged (the source file is included as is), plus
 * one entry point for the miss-path measurements: tfc_xdp with a key field
 * bumped in every packet first (see bench_bump.h). Its maps, parser and
 * counting code are those of traffic_counter.bpf.c, built with the same
 * flags; only what the programs are called from differs.
 */
#include "traffic_counter.bpf.c"
#include "bench_bump.h"

SEC("xdp.frags")
int tfc_xdp_bump(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	bench_bump(data, data_end);
	count_frame(data, data_end, bpf_xdp_get_buff_len(ctx), 0, TFC_DIR_INGRESS,
		    ctx->ingress_ifindex, 1);
	return XDP_PASS;
}

/*
 * Stages of tfc_xdp, for the cost breakdown of the hit path (flows off):
 * parsing alone, then the frame length helper, then the control map. The
 * rest is the IP map; tfc_xdp_legacy is tfc_xdp without the length helper.
 * The sink keeps the compiler from dropping work whose result is unused.
 */
volatile __u64 bd_sink;

SEC("xdp.frags")
int bd_parse(struct xdp_md *ctx)
{
	struct tfc_pkt p;

	bd_sink = tfc_parse_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, 0, &p) +
		  p.src[0];
	return XDP_PASS;
}

SEC("xdp.frags")
int bd_parse_len(struct xdp_md *ctx)
{
	struct tfc_pkt p;

	bd_sink = tfc_parse_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, 0, &p) +
		  p.src[0] + bpf_xdp_get_buff_len(ctx);
	return XDP_PASS;
}

SEC("xdp.frags")
int bd_parse_len_ctl(struct xdp_md *ctx)
{
	struct tfc_control *ctl;
	struct tfc_pkt p;
	__u32 zero = 0;

	bd_sink = tfc_parse_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, 0, &p) +
		  p.src[0] + bpf_xdp_get_buff_len(ctx);
	ctl = bpf_map_lookup_elem(&traffic_control, &zero);
	if (ctl && (*(volatile __u32 *)&ctl->flags & TFC_FLAG_FLOW_COUNTERS))
		bd_sink = 0;
	return XDP_PASS;
}

/* Parsing and the control-map read, without the length helper. */
SEC("xdp")
int bd_parse_ctl(struct xdp_md *ctx)
{
	struct tfc_control *ctl;
	struct tfc_pkt p;
	__u32 zero = 0;

	bd_sink = tfc_parse_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, 0, &p) +
		  p.src[0];
	ctl = bpf_map_lookup_elem(&traffic_control, &zero);
	if (ctl && (*(volatile __u32 *)&ctl->flags & TFC_FLAG_FLOW_COUNTERS))
		bd_sink = 0;
	return XDP_PASS;
}

/*
 * The statistics path: parsing, then one statistic row (stat_add, a
 * per-CPU hash upsert), as a non-IP frame or a frame into a full map pays.
 */
SEC("xdp")
int bd_stat(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct amount a = {.bytes = data_end - data, .packets = 1};
	struct tfc_pkt p;

	bd_sink = tfc_parse_frame(data, data_end, 0, &p);
	stat_add(TFC_STAT_NON_IP, TFC_DIR_INGRESS, ctx->ingress_ifindex, &a);
	return XDP_PASS;
}

/*
 * Key layout: the IP map's upsert after the same parse, with the real
 * 24-byte key and with an 8-byte IPv4 key (ifindex and address: family
 * and direction would take a map of their own each), over bench maps of
 * the data path's type and size. Neither reads the control map.
 */
struct bd_key8 {
	__u32 ifindex;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TFC_IP_MAP_DEFAULT_ENTRIES);
	__type(key, struct ip_key);
	__type(value, struct counters);
} bd_ip24 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TFC_IP_MAP_DEFAULT_ENTRIES);
	__type(key, struct bd_key8);
	__type(value, struct counters);
} bd_ip8 SEC(".maps");

static __always_inline void bd_add(void *map, const void *key, __u64 len)
{
	struct counters init = {.bytes = len, .packets = 1};
	struct counters *c;
	int inserted;

	c = tfc_upsert(map, key, &init, &inserted);
	if (c) {
		c->bytes += len;
		c->packets++;
	}
}

SEC("xdp")
int bd_key24(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct tfc_pkt p;

	if (tfc_parse_frame(data, data_end, 0, &p) >= 0)
		return XDP_PASS;
	struct ip_key k = {
		.ifindex = ctx->ingress_ifindex, .family = p.family, .direction = TFC_DIR_INGRESS};

	__builtin_memcpy(k.addr, p.src, sizeof(k.addr));
	bd_add(&bd_ip24, &k, data_end - data);
	return XDP_PASS;
}

SEC("xdp")
int bd_key8(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct tfc_pkt p;

	if (tfc_parse_frame(data, data_end, 0, &p) >= 0)
		return XDP_PASS;
	struct bd_key8 k = {.ifindex = ctx->ingress_ifindex};

	__builtin_memcpy(&k.addr, p.src, sizeof(k.addr));
	bd_add(&bd_ip8, &k, data_end - data);
	return XDP_PASS;
}

/* The clock read that flow counting adds (first/last seen), alone. */
SEC("xdp.frags")
int bd_ktime(struct xdp_md *ctx)
{
	bd_sink = bpf_ktime_get_ns();
	return XDP_PASS;
}

/* The coarse clock (one tick of resolution) that flow timestamps could use. */
SEC("xdp.frags")
int bd_ktime_coarse(struct xdp_md *ctx)
{
	bd_sink = bpf_ktime_get_coarse_ns();
	return XDP_PASS;
}

/*
 * What-if, not the data path: a per-CPU one-entry cache of the last
 * address in front of the IP map. A packet from the same address as the
 * one before on this CPU adds to the cache (an inlined array lookup, no
 * hash); another address flushes the cache into the IP map with the real
 * count_ip. Readers would have to add the caches in; this measures what
 * the hit path could cost with one source, not a finished design.
 */
struct last_key {
	__u8 addr[16];
	__u32 ifindex;
	__u8 family;
	__u8 pad[3];
	struct amount pending;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct last_key);
} bd_last SEC(".maps");

SEC("xdp.frags")
int bd_lastkey(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex, zero = 0;
	struct amount a = {.bytes = data_end - data, .packets = 1};
	struct tfc_control *ctl;
	struct last_key *lk;
	struct tfc_pkt p, q = {};

	if (tfc_parse_frame(data, data_end, 0, &p) >= 0)
		return XDP_PASS;
	lk = bpf_map_lookup_elem(&bd_last, &zero);
	if (!lk)
		return XDP_PASS;
	if (lk->ifindex == ifindex && lk->family == p.family &&
	    ((__u64 *)lk->addr)[0] == ((__u64 *)p.src)[0] &&
	    ((__u64 *)lk->addr)[1] == ((__u64 *)p.src)[1]) {
		lk->pending.bytes += a.bytes;
		lk->pending.packets++;
		return XDP_PASS;
	}
	ctl = bpf_map_lookup_elem(&traffic_control, &zero);
	if (lk->pending.packets) {
		q.family = lk->family;
		__builtin_memcpy(q.src, lk->addr, sizeof(q.src));
		count_ip(ctl, &q, TFC_DIR_INGRESS, lk->ifindex, &lk->pending);
	}
	__builtin_memcpy(lk->addr, p.src, sizeof(lk->addr));
	lk->ifindex = ifindex;
	lk->family = p.family;
	lk->pending = a;
	return XDP_PASS;
}
