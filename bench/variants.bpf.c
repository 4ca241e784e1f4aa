// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Map layouts traffic-counter could use, side by side, for the map-choice
 * measurements. traffic_counter.bpf.c fixes its map types in the source, so
 * these are bench-only programs: the real parser (parse.h) and ABI, and a
 * copy of the real counting code (insert with BPF_NOEXIST, add on EEXIST,
 * drops and statistics when the IP map is full) over each layout:
 *
 *   IP map:   per-CPU hash, plain adds (the default) | shared hash, atomic adds
 *   flow map: shared LRU, atomic adds (the default) | per-CPU LRU, plain adds
 *             | shared LRU with BPF_F_NO_COMMON_LRU, atomic adds
 *
 * The flow programs count addresses in the per-CPU IP map, as the real one
 * does. Every program bumps a key field first when told to (bench_bump.h).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "traffic_counter_abi.h"
#include "parse.h"
#include "bench_bump.h"

#define IP_MAP(name, map_type)                                                                     \
	struct {                                                                                   \
		__uint(type, map_type);                                                            \
		__uint(max_entries, TFC_IP_MAP_DEFAULT_ENTRIES);                                   \
		__type(key, struct ip_key);                                                        \
		__type(value, struct counters);                                                    \
	} name SEC(".maps")

#define FLOW_MAP(name, map_type, flags)                                                            \
	struct {                                                                                   \
		__uint(type, map_type);                                                            \
		__uint(max_entries, TFC_FLOW_MAP_DEFAULT_ENTRIES);                                 \
		__uint(map_flags, flags);                                                          \
		__type(key, struct flow_key);                                                      \
		__type(value, struct flow_value);                                                  \
	} name SEC(".maps")

IP_MAP(ip_percpu, BPF_MAP_TYPE_PERCPU_HASH);
IP_MAP(ip_shared, BPF_MAP_TYPE_HASH);
FLOW_MAP(flow_lru, BPF_MAP_TYPE_LRU_HASH, 0);
FLOW_MAP(flow_lru_percpu, BPF_MAP_TYPE_LRU_PERCPU_HASH, 0);
FLOW_MAP(flow_nocommon, BPF_MAP_TYPE_LRU_HASH, BPF_F_NO_COMMON_LRU);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct tfc_control);
} v_control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TFC_STATS_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct stat_key);
	__type(value, struct counters);
} v_stats SEC(".maps");

#define ADD_PLAIN(p, v)	 (*(p) += (v))
#define ADD_ATOMIC(p, v) __sync_fetch_and_add((p), (v))

static __always_inline void stat_add(__u32 reason, __u32 ifindex, __u64 len)
{
	struct stat_key key = {.ifindex = ifindex, .direction = TFC_DIR_INGRESS, .reason = reason};
	struct counters init = {.bytes = len, .packets = 1};
	struct counters *c;

	c = bpf_map_lookup_elem(&v_stats, &key);
	if (!c) {
		if (!bpf_map_update_elem(&v_stats, &key, &init, BPF_NOEXIST))
			return;
		c = bpf_map_lookup_elem(&v_stats, &key);
	}
	if (c) {
		c->bytes += len;
		c->packets++;
	}
}

/* The real count_ip over `map`, adding with ADD. */
#define DEFINE_COUNT_IP(fn, map, ADD)                                                              \
	static __always_inline void fn(struct tfc_control *ctl, const struct tfc_pkt *p,           \
				       __u32 ifindex, __u64 len)                                   \
	{                                                                                          \
		struct counters init = {.bytes = len, .packets = 1};                               \
		struct ip_key key = {.ifindex = ifindex, .family = p->family};                     \
		struct counters *c;                                                                \
                                                                                                   \
		__builtin_memcpy(key.addr, p->src, sizeof(key.addr));                              \
		c = bpf_map_lookup_elem(&map, &key);                                               \
		if (!c) {                                                                          \
			if (!bpf_map_update_elem(&map, &key, &init, BPF_NOEXIST))                  \
				return;                                                            \
			c = bpf_map_lookup_elem(&map, &key);                                       \
		}                                                                                  \
		if (c) {                                                                           \
			ADD(&c->bytes, len);                                                       \
			ADD(&c->packets, 1);                                                       \
			return;                                                                    \
		}                                                                                  \
		if (ctl) {                                                                         \
			__sync_fetch_and_add(&ctl->dropped_packets, 1);                            \
			__sync_fetch_and_add(&ctl->dropped_bytes, len);                            \
		}                                                                                  \
		stat_add(TFC_STAT_IP_MAP_FULL, ifindex, len);                                      \
	}

DEFINE_COUNT_IP(count_ip_percpu, ip_percpu, ADD_PLAIN)
DEFINE_COUNT_IP(count_ip_shared, ip_shared, ADD_ATOMIC)

/* The real count_flow over `map`; atomic updates unless the value is per CPU. */
#define DEFINE_COUNT_FLOW(fn, map, ADD, ATOMIC)                                                    \
	static __always_inline void fn(struct tfc_control *ctl, const struct tfc_pkt *p,           \
				       __u32 ifindex, __u64 len)                                   \
	{                                                                                          \
		struct flow_key key = {                                                            \
			.ifindex = ifindex,                                                        \
			.sport = p->sport,                                                         \
			.dport = p->dport,                                                         \
			.proto = p->proto,                                                         \
			.family = p->family,                                                       \
		};                                                                                 \
		__u64 now = bpf_ktime_get_coarse_ns(); /* as the data path */                      \
		struct flow_value *v;                                                              \
                                                                                                   \
		__builtin_memcpy(key.src, p->src, sizeof(key.src));                                \
		__builtin_memcpy(key.dst, p->dst, sizeof(key.dst));                                \
		v = bpf_map_lookup_elem(&map, &key);                                               \
		if (!v) {                                                                          \
			struct flow_value init = {                                                 \
				.bytes = len,                                                      \
				.packets = 1,                                                      \
				.first_seen_ns = now,                                              \
				.last_seen_ns = now,                                               \
				.tcp_flags = p->tcp_flags,                                         \
			};                                                                         \
                                                                                                   \
			if (!bpf_map_update_elem(&map, &key, &init, BPF_NOEXIST)) {                \
				__sync_fetch_and_add(&ctl->flow_inserts, 1);                       \
				return;                                                            \
			}                                                                          \
			v = bpf_map_lookup_elem(&map, &key);                                       \
		}                                                                                  \
		if (!v) {                                                                          \
			__sync_fetch_and_add(&ctl->flow_insert_failures, 1);                       \
			return;                                                                    \
		}                                                                                  \
		ADD(&v->bytes, len);                                                               \
		ADD(&v->packets, 1);                                                               \
		if (now > v->last_seen_ns)                                                         \
			v->last_seen_ns = now;                                                     \
		if (p->tcp_flags && (v->tcp_flags | p->tcp_flags) != v->tcp_flags) {               \
			if (ATOMIC)                                                                \
				__sync_fetch_and_or(&v->tcp_flags, p->tcp_flags);                  \
			else                                                                       \
				v->tcp_flags |= p->tcp_flags;                                      \
		}                                                                                  \
	}

DEFINE_COUNT_FLOW(count_flow_lru, flow_lru, ADD_ATOMIC, 1)
DEFINE_COUNT_FLOW(count_flow_lru_percpu, flow_lru_percpu, ADD_PLAIN, 0)
DEFINE_COUNT_FLOW(count_flow_nocommon, flow_nocommon, ADD_ATOMIC, 1)

/* count_frame of the real program at XDP (one wire packet, no offloaded tag). */
#define DEFINE_PROG(name, count_ip, count_flow)                                                    \
	SEC("xdp.frags")                                                                           \
	int name(struct xdp_md *ctx)                                                               \
	{                                                                                          \
		void *data = (void *)(long)ctx->data;                                              \
		void *data_end = (void *)(long)ctx->data_end;                                      \
		__u64 len = bpf_xdp_get_buff_len(ctx);                                             \
		__u32 ifindex = ctx->ingress_ifindex, zero = 0;                                    \
		struct tfc_control *ctl;                                                           \
		struct tfc_pkt p;                                                                  \
		int reason;                                                                        \
                                                                                                   \
		bench_bump(data, data_end);                                                        \
		reason = tfc_parse_frame(data, data_end, 0, &p);                                   \
		if (reason >= 0) {                                                                 \
			stat_add(reason, ifindex, len);                                            \
			return XDP_PASS;                                                           \
		}                                                                                  \
		if (p.note != TFC_NOTE_NONE)                                                       \
			stat_add(p.note, ifindex, len);                                            \
		ctl = bpf_map_lookup_elem(&v_control, &zero);                                      \
		count_ip(ctl, &p, ifindex, len);                                                   \
		if (ctl && (*(volatile __u32 *)&ctl->flags & TFC_FLAG_FLOW_COUNTERS))              \
			count_flow(ctl, &p, ifindex, len);                                         \
		return XDP_PASS;                                                                   \
	}

/* An IP-only program never has the flag set; it gets a no-op flow step. */
static __always_inline void no_flow(struct tfc_control *ctl, const struct tfc_pkt *p, __u32 ifindex,
				    __u64 len)
{
}

DEFINE_PROG(v_ip_percpu, count_ip_percpu, no_flow)
DEFINE_PROG(v_ip_shared, count_ip_shared, no_flow)
DEFINE_PROG(v_flow_lru, count_ip_percpu, count_flow_lru)
DEFINE_PROG(v_flow_lru_percpu, count_ip_percpu, count_flow_lru_percpu)
DEFINE_PROG(v_flow_nocommon, count_ip_percpu, count_flow_nocommon)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
