// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * traffic-counter kernel side: count bytes and packets per address (and per
 * flow when enabled) at XDP, tc ingress and tc egress, and per cgroup at
 * cgroup_skb ingress and egress. The programs never change a verdict: XDP
 * passes, tc defers to whatever runs next, cgroup_skb allows.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>

#include "traffic_counter_abi.h"
#include "parse.h"
#include "upsert.h"

/* Headers beyond this many bytes are not needed to classify a frame. */
#define TFC_PARSE_WINDOW 256

/* Set by the loader before load (openspec/specs/counting.md C3, --count-by). */
const volatile __u8 cfg_count_by = TFC_COUNT_BY_DEFAULT;
/* TFC_IP_MAP_SHARED: the loader made traffic_counters_ip a plain hash. */
const volatile __u8 cfg_ip_map_type = TFC_IP_MAP_PERCPU;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TFC_IP_MAP_DEFAULT_ENTRIES);
	__type(key, struct ip_key);
	__type(value, struct counters);
} traffic_counters_ip SEC(".maps");

/*
 * Shared (not per-CPU) LRU: a per-CPU LRU value costs 16 bytes per possible
 * CPU per flow and its eviction works per CPU. Same-flow updates from two
 * CPUs are made atomic below instead. See openspec/project.md.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TFC_FLOW_MAP_DEFAULT_ENTRIES);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} traffic_counters_flow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct tfc_control);
} traffic_control SEC(".maps");

#if TFC_ABI_VERSION >= 3
/* Overflow rows: rare and spread over many prefixes, so shared with atomic adds. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TFC_PREFIX_MAP_DEFAULT_ENTRIES);
	__type(key, struct ip_key);
	__type(value, struct counters);
} traffic_counters_prefix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, TFC_AGGREGATE_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tfc_agg_key);
	__type(value, struct tfc_agg_value);
} traffic_aggregate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TFC_CGROUP_MAP_DEFAULT_ENTRIES);
	__type(key, struct cgroup_key);
	__type(value, struct counters);
} traffic_counters_cgroup SEC(".maps");

/*
 * This CPU found the IP map full (openspec/changes/0025-prefix-maps.md):
 * misses skip the insert that would fail. An array: the verifier inlines
 * its lookup. Unpinned: each load starts with an empty memo.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tfc_full_memo);
} tfc_full_memo SEC(".maps");
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TFC_STATS_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct stat_key);
	__type(value, struct counters);
} traffic_stats SEC(".maps");

/* What one frame (or the wire packets of one GSO skb) adds. */
struct amount {
	__u64 bytes;
	__u64 packets;
};

/* Rare path (frames not counted by address, remarks): a hash is fine. */
static __always_inline void stat_add(__u32 reason, __u8 dir, __u32 ifindex, const struct amount *a)
{
	struct stat_key key = {.ifindex = ifindex, .direction = dir, .reason = reason};
	struct counters init = {.bytes = a->bytes, .packets = a->packets};
	struct counters *c;
	int inserted;

	c = tfc_upsert(&traffic_stats, &key, &init, &inserted);
	if (c) {
		c->bytes += a->bytes;
		c->packets += a->packets;
	}
}

static __always_inline int use_src(__u8 dir)
{
	if (cfg_count_by == TFC_COUNT_BY_SRC)
		return 1;
	if (cfg_count_by == TFC_COUNT_BY_DST)
		return 0;
	return dir == TFC_DIR_INGRESS;
}

/* Adds to an IP-map entry found or created by another CPU. */
static __always_inline void ip_add(struct counters *c, const struct amount *a)
{
	if (cfg_ip_map_type == TFC_IP_MAP_SHARED) {
		__sync_fetch_and_add(&c->bytes, a->bytes);
		__sync_fetch_and_add(&c->packets, a->packets);
	} else {
		/* Per-CPU value: no other CPU writes it, so no atomics needed. */
		c->bytes += a->bytes;
		c->packets += a->packets;
	}
}

/* The last resort: the frame is counted by reason only (counting.md C9). */
static __always_inline void count_dropped(struct tfc_control *ctl, __u8 dir, __u32 ifindex,
					  const struct amount *a)
{
	if (ctl) {
		__sync_fetch_and_add(&ctl->dropped_packets, a->packets);
		__sync_fetch_and_add(&ctl->dropped_bytes, a->bytes);
	}
	stat_add(TFC_STAT_IP_MAP_FULL, dir, ifindex, a);
}

#if TFC_ABI_VERSION >= 3
static __always_inline __u8 full_len(__u8 family)
{
	return family == 4 ? 32 : 128;
}

/* Zeroes the bits of addr after the first len (len <= 128). */
static __always_inline void mask_addr(__u8 *addr, __u8 len)
{
	__u32 w[4];

	__builtin_memcpy(w, addr, sizeof(w));
#pragma unroll
	for (int i = 0; i < 4; i++) {
		int keep = (int)len - 32 * i;

		if (keep <= 0)
			w[i] = 0;
		else if (keep < 32)
			w[i] &= bpf_htonl(~0U << (32 - keep));
	}
	__builtin_memcpy(addr, w, sizeof(w));
}

/* Makes key the prefix of len bits of its address. */
static __always_inline void make_prefix(struct ip_key *key, __u8 len)
{
	key->is_prefix = 1;
	key->prefix_len = len;
	mask_addr(key->addr, len);
}

/*
 * --aggregate: the longest rule matching the address turns it into its
 * prefix; a rule of the full length keeps the address (an exemption from a
 * broader rule). The family byte comes first, so an IPv4 rule never matches
 * an IPv6 frame (not even ::ffff:a.b.c.d) and an IPv6 rule never an IPv4 one.
 * A global function: the verifier checks it once, not once for every path
 * out of the parser (inlined, the programs passed its 1M-instruction limit).
 */
__noinline int tfc_aggregate(struct ip_key *key)
{
	struct tfc_agg_key ak = {0};
	struct tfc_agg_value *v;

	if (!key)
		return 0;
	ak.prefixlen = 8 + full_len(key->family);
	ak.data[0] = key->family;
	__builtin_memcpy(&ak.data[1], key->addr, sizeof(key->addr));
	v = bpf_map_lookup_elem(&traffic_aggregate, &ak);
	if (v && v->prefix_len < full_len(key->family))
		make_prefix(key, v->prefix_len);
	return 0;
}

/*
 * This CPU's memo, forgotten when ip_map_frees moved since it was written
 * (userspace deleted entries: inserts may succeed again). Only a hint: it
 * picks the path of a frame; whichever path it picks counts the frame once.
 */
static __always_inline struct tfc_full_memo *memo_get(__u32 frees)
{
	__u32 zero = 0;
	struct tfc_full_memo *m = bpf_map_lookup_elem(&tfc_full_memo, &zero);

	if (m && m->frees != frees) {
		m->frees = frees;
		m->left = 0;
		m->prefix_left = 0;
	}
	return m;
}

/* True (one miss less left) while *left says its map was found full. */
static __always_inline int memo_skip(__u32 *left)
{
	if (!*left)
		return 0;
	(*left)--;
	return 1;
}

/*
 * The IP map is full: count under the overflow prefix of the key's family in
 * the prefix map. A key an --aggregate rule made shorter keeps its length.
 * False when overflow is off or the prefix map is full too (or the memo m
 * says it was a moment ago).
 */
static __always_inline int count_overflow(struct tfc_control *ctl, const struct ip_key *ip,
					  const struct amount *a, struct tfc_full_memo *m)
{
	struct counters init = {.bytes = a->bytes, .packets = a->packets};
	struct ip_key key = *ip;
	struct counters *c;
	int inserted;
	__u8 len;

	if (!ctl)
		return 0;
	len = key.family == 4 ? ctl->overflow_v4 : ctl->overflow_v6;
	if (!len)
		return 0;
	if (len > full_len(key.family))
		len = full_len(key.family);
	if (key.is_prefix && key.prefix_len < len)
		len = key.prefix_len;
	make_prefix(&key, len);
	c = bpf_map_lookup_elem(&traffic_counters_prefix, &key);
	if (!c) {
		if (m && memo_skip(&m->prefix_left))
			return 0;
		c = tfc_insert_or_find(&traffic_counters_prefix, &key, &init, &inserted);
		if (inserted)
			return 1;
		if (!c) {
			if (m)
				m->prefix_left = TFC_FULL_MEMO_PACKETS;
			return 0;
		}
	}
	/* Shared by every CPU: overflowing prefixes are few and spread out. */
	__sync_fetch_and_add(&c->bytes, a->bytes);
	__sync_fetch_and_add(&c->packets, a->packets);
	return 1;
}
#endif

/*
 * After a lookup missed: creates the key's entry or adds to the one another
 * CPU just created. False, the frame not counted, when the map is full or
 * (layout 3) this CPU's memo m says it was a moment ago.
 */
static __always_inline int ip_insert(const struct ip_key *key, const struct amount *a,
				     struct tfc_full_memo *m)
{
	struct counters init = {.bytes = a->bytes, .packets = a->packets};
	struct counters *c;
	int inserted;

#if TFC_ABI_VERSION >= 3
	if (m && memo_skip(&m->left))
		return 0;
#endif
	c = tfc_insert_or_find(&traffic_counters_ip, key, &init, &inserted);
	if (inserted)
		return 1;
	if (c) {
		ip_add(c, a);
		return 1;
	}
	if (m)
		m->left = TFC_FULL_MEMO_PACKETS;
	return 0;
}

/*
 * The IP-map lookup missed: insert, else (layout 3) count by prefix, else by
 * reason. Global, so verified once (see tfc_aggregate); only misses pay the call.
 */
__noinline int tfc_count_miss(struct tfc_control *ctl, const struct ip_key *key,
			      const struct amount *a)
{
	struct tfc_full_memo *m = NULL;

	if (!key || !a)
		return 0;
#if TFC_ABI_VERSION >= 3
	/* ip_map_frees read before the inserts: a free after them drops the memo. */
	if (ctl)
		m = memo_get(*(volatile __u32 *)&ctl->ip_map_frees);
#endif
	if (ip_insert(key, a, m))
		return 0;
#if TFC_ABI_VERSION >= 3
	if (count_overflow(ctl, key, a, m))
		return 0;
#endif
	count_dropped(ctl, key->direction, key->ifindex, a);
	return 0;
}

/*
 * Every frame lands once: in its IP-map entry, else (layout 3, IP map full)
 * in its overflow prefix, else in dropped_* and ip_map_full.
 */
static __always_inline void count_ip(struct tfc_control *ctl, const struct tfc_pkt *p, __u8 dir,
				     __u32 ifindex, const struct amount *a)
{
	struct ip_key key = {.ifindex = ifindex, .family = p->family, .direction = dir};
	struct counters *c;

	__builtin_memcpy(key.addr, use_src(dir) ? p->src : p->dst, sizeof(key.addr));
#if TFC_ABI_VERSION >= 3
	/* Without rules the flag is clear and the trie is never read. */
	if (ctl && (*(volatile __u32 *)&ctl->flags & TFC_FLAG_AGGREGATE))
		tfc_aggregate(&key);
#endif
	c = bpf_map_lookup_elem(&traffic_counters_ip, &key);
	if (c)
		ip_add(c, a);
	else
		tfc_count_miss(ctl, &key, a);
}

static __always_inline void flow_add(struct flow_value *v, const struct tfc_pkt *p,
				     const struct amount *a, __u64 now)
{
	__sync_fetch_and_add(&v->bytes, a->bytes);
	__sync_fetch_and_add(&v->packets, a->packets);
	/* A racing writer can only store a time just as recent. */
	if (now > v->last_seen_ns)
		v->last_seen_ns = now;
	if (p->tcp_flags && (v->tcp_flags | p->tcp_flags) != v->tcp_flags)
		__sync_fetch_and_or(&v->tcp_flags, p->tcp_flags);
}

static __always_inline void count_flow(struct tfc_control *ctl, const struct tfc_pkt *p, __u8 dir,
				       __u32 ifindex, const struct amount *a)
{
	struct flow_key key = {
		.ifindex = ifindex,
		.sport = p->sport,
		.dport = p->dport,
		.proto = p->proto,
		.family = p->family,
		.direction = dir,
	};
	/*
	 * The coarse clock (CLOCK_MONOTONIC_COARSE, one tick of resolution) is
	 * a memory read; bpf_ktime_get_ns() cost 42 ns a packet here (make
	 * bench), more than all of IP counting. Flow times need ms at most.
	 */
	__u64 now = bpf_ktime_get_coarse_ns();
	struct flow_value *v;
	int inserted;

	__builtin_memcpy(key.src, p->src, sizeof(key.src));
	__builtin_memcpy(key.dst, p->dst, sizeof(key.dst));
	v = bpf_map_lookup_elem(&traffic_counters_flow, &key);
	if (!v) {
		/* Built only on a miss: 40 bytes of stores a packet otherwise. */
		struct flow_value init = {
			.bytes = a->bytes,
			.packets = a->packets,
			.first_seen_ns = now,
			.last_seen_ns = now,
			.tcp_flags = p->tcp_flags,
		};

		v = tfc_insert_or_find(&traffic_counters_flow, &key, &init, &inserted);
		if (inserted) {
			__sync_fetch_and_add(&ctl->flow_inserts, 1);
			return;
		}
	}
	if (v)
		flow_add(v, p, a, now);
	else
		__sync_fetch_and_add(&ctl->flow_insert_failures, 1);
}

/*
 * `segs` > 1: a GSO/GRO skb standing for that many wire packets, each
 * carrying its own copy of the headers (and of an offloaded VLAN tag).
 */
static __always_inline void count_frame(void *data, void *data_end, __u64 len, __u32 tags, __u8 dir,
					__u32 ifindex, __u32 segs)
{
	struct amount a = {.bytes = len, .packets = 1};
	__u32 zero = 0;
	struct tfc_control *ctl;
	struct tfc_pkt p;
	int reason;

	reason = tfc_parse_frame(data, data_end, tags, &p);
	if (segs > 1) {
		a.packets = segs;
		a.bytes += (__u64)(segs - 1) * (p.hdr_len + tags * 4);
	}
	if (reason >= 0) {
		stat_add(reason, dir, ifindex, &a);
		return;
	}
	if (p.note != TFC_NOTE_NONE)
		stat_add(p.note, dir, ifindex, &a);

	ctl = bpf_map_lookup_elem(&traffic_control, &zero);
	count_ip(ctl, &p, dir, ifindex, &a);
	if (ctl && (*(volatile __u32 *)&ctl->flags & TFC_FLAG_FLOW_COUNTERS))
		count_flow(ctl, &p, dir, ifindex, &a);
}

/* Multi-buffer aware: counts frames larger than one page at full length. */
SEC("xdp.frags")
int TFC_PROG_XDP(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	count_frame(data, data_end, bpf_xdp_get_buff_len(ctx), 0, TFC_DIR_INGRESS,
		    ctx->ingress_ifindex, 1);
	return XDP_PASS;
}

/* For kernels before 5.18 (no frags, no bpf_xdp_get_buff_len). */
SEC("xdp")
int TFC_PROG_XDP_LEGACY(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	count_frame(data, data_end, data_end - data, 0, TFC_DIR_INGRESS, ctx->ingress_ifindex, 1);
	return XDP_PASS;
}

static __always_inline int tfc_count(struct __sk_buff *skb, __u8 dir)
{
	__u32 want = skb->len < TFC_PARSE_WINDOW ? skb->len : TFC_PARSE_WINDOW;
	__u64 len = skb->len;
	__u32 tags = 0;

	/* The kernel moved the outer tag into metadata: count it as on the wire. */
	if (skb->vlan_present) {
		len += 4;
		tags = 1;
	}
	/* Headers in paged data are not readable directly: make them linear. */
	if ((void *)(long)skb->data + want > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, want);

	/* GSO (egress) and GRO (ingress) skbs: count the wire packets, as a NIC does. */
	count_frame((void *)(long)skb->data, (void *)(long)skb->data_end, len, tags, dir,
		    skb->ifindex, skb->gso_segs);
	/* TC_ACT_UNSPEC: no opinion; the next program or the default decides. */
	return TC_ACT_UNSPEC;
}

SEC("tc")
int TFC_PROG_TC_INGRESS(struct __sk_buff *skb)
{
	return tfc_count(skb, TFC_DIR_INGRESS);
}

SEC("tc")
int TFC_PROG_TC_EGRESS(struct __sk_buff *skb)
{
	return tfc_count(skb, TFC_DIR_EGRESS);
}

#if TFC_ABI_VERSION >= 3
/*
 * Per-cgroup counting (attach --attach-point cgroup). The loader sets the
 * attach cgroup's level and --cgroup-depth: with a depth N > 0 a packet is
 * keyed by its socket cgroup's ancestor at level + N, so that every cgroup
 * of a service or pod adds up under one key.
 */
const volatile __u32 cfg_cg_level = 0;
const volatile __u32 cfg_cg_depth = 0;

/* The key's cgroup: the socket's own one when it is no deeper than level + N. */
static __always_inline __u64 cg_key_id(struct __sk_buff *skb)
{
	__u64 id = 0;

	if (cfg_cg_depth)
		id = bpf_skb_ancestor_cgroup_id(skb, cfg_cg_level + cfg_cg_depth);
	return id ?: bpf_skb_cgroup_id(skb);
}

/*
 * L3 and L4 header bytes of a GSO skb (skb->data is the network header at
 * this hook): each of its wire packets carries them. 0 when they cannot be
 * read, so that only skb->len is counted.
 */
static __always_inline __u32 cg_hdr_len(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct tfc_pkt p;

	__builtin_memset(&p, 0, sizeof(p));
	if (skb->protocol == bpf_htons(ETH_P_IP) && tfc_parse_ipv4(data, data_end, 0, &p) < 0)
		return p.hdr_len;
	if (skb->protocol == bpf_htons(ETH_P_IPV6) && tfc_parse_ipv6(data, data_end, 0, &p) < 0)
		return p.hdr_len;
	return 0;
}

static __always_inline void cg_count(struct __sk_buff *skb, __u8 dir)
{
	struct cgroup_key key = {.cgroup_id = cg_key_id(skb), .direction = dir};
	struct amount a = {.bytes = skb->len, .packets = 1};
	__u32 segs = skb->gso_segs, zero = 0;
	struct tfc_control *ctl;
	struct counters *c;
	int inserted;

	/* A GSO skb stands for `segs` wire packets, each with its own headers, as at tc. */
	if (segs > 1) {
		a.packets = segs;
		a.bytes += (__u64)(segs - 1) * cg_hdr_len(skb);
	}
	struct counters init = {.bytes = a.bytes, .packets = a.packets};

	c = tfc_upsert(&traffic_counters_cgroup, &key, &init, &inserted);
	if (inserted)
		return;
	if (c) {
		/* Per-CPU value: no other CPU writes it, so no atomics needed. */
		c->bytes += a.bytes;
		c->packets += a.packets;
		return;
	}
	ctl = bpf_map_lookup_elem(&traffic_control, &zero);
	if (ctl) {
		__sync_fetch_and_add(&ctl->cgroup_dropped_packets, a.packets);
		__sync_fetch_and_add(&ctl->cgroup_dropped_bytes, a.bytes);
	}
	stat_add(TFC_STAT_CGROUP_MAP_FULL, dir, 0, &a);
}

/* Returns 1: the packet is allowed; counting never changes a verdict. */
SEC("cgroup_skb/ingress")
int TFC_PROG_CG_INGRESS(struct __sk_buff *skb)
{
	cg_count(skb, TFC_DIR_INGRESS);
	return 1;
}

SEC("cgroup_skb/egress")
int TFC_PROG_CG_EGRESS(struct __sk_buff *skb)
{
	cg_count(skb, TFC_DIR_EGRESS);
	return 1;
}
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";
