/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one ABI shared by the BPF programs and userspace: map keys and values,
 * statistic indexes, flags, the rows userspace reads, and every name the
 * project puts on bpffs or shows to the kernel (pins, program and map
 * names, the tc filter's handle and priorities). Fixed-width types only;
 * every size is asserted so the two sides cannot drift. A change here is a
 * change to what earlier releases left pinned or attached: write a proposal
 * under openspec/changes/ first.
 */
#ifndef TRAFFIC_COUNTER_ABI_H
#define TRAFFIC_COUNTER_ABI_H

#include <linux/types.h>

/*
 * Names on bpffs, under the pin directory. Every one is a contract with the
 * pins an earlier release left there: renaming one strands them. bpffs
 * forbids dots in names.
 */
#define TFC_PIN_DIR_DEFAULT  "/sys/fs/bpf/traffic_counter"
#define TFC_IP_MAP_NAME	     "traffic_counters_ip"
#define TFC_FLOW_MAP_NAME    "traffic_counters_flow"
#define TFC_CONTROL_MAP_NAME "traffic_control"
#define TFC_STATS_MAP_NAME   "traffic_stats"
/* Layout 3: where frames go when the IP map is full (counted by prefix). */
#define TFC_PREFIX_MAP_NAME "traffic_counters_prefix"
/* Layout 3: --aggregate rules, an LPM trie read before the IP map. */
#define TFC_AGGREGATE_MAP_NAME "traffic_aggregate"
/* Layout 3: bytes and packets per cgroup and direction (cgroup_skb hooks). */
#define TFC_CGROUP_MAP_NAME "traffic_counters_cgroup"
/*
 * Layout 3: the per-CPU memo of a full IP map (struct tfc_full_memo). Never
 * pinned, so it starts empty with every load; not "traffic_": it holds no
 * counts and readers that list our maps by that prefix skip it.
 */
#define TFC_FULL_MEMO_MAP_NAME "tfc_full_memo"
/* export-ipfix's own counters (records sent, flows expired), beside the maps. */
#define TFC_IPFIX_STATS_NAME "traffic_ipfix"
/* Attach --migrate's new maps until they are renamed over the old ones. */
#define TFC_STAGING_DIR_NAME "migrating"
/* Symlinks to map pins outside the pin directory, for detach --purge:
 * "<map name>-<16 hex digits of the target path's hash>". */
#define TFC_MAP_RECORDS_DIR "map_pins"

/*
 * One pin per attachment under links/: "<attach point>-ns<netns inode>-if
 * <ifindex>", the attach point named as on the command line; a netlink
 * (cls_bpf) attachment pins its program with TFC_NETLINK_SUFFIX appended.
 */
#define TFC_LINKS_DIR_NAME "links"
#define TFC_LINK_PIN_NS	   "-ns"
#define TFC_LINK_PIN_IF	   "-if"
#define TFC_NETLINK_SUFFIX "-netlink"
#define TFC_AP_NAME_XDP	   "xdp"
#define TFC_AP_NAME_TC_IN  "tc-ingress"
#define TFC_AP_NAME_TC_OUT "tc-egress"
/*
 * --attach-point cgroup attaches two programs, each with its own link pin:
 * "<cgroup-ingress|cgroup-egress>-cg<cgroup id of the attach point>".
 */
#define TFC_AP_NAME_CGROUP "cgroup"
#define TFC_AP_NAME_CG_IN  "cgroup-ingress"
#define TFC_AP_NAME_CG_OUT "cgroup-egress"
#define TFC_LINK_PIN_CG	   "-cg"

/*
 * Kernel names of our maps start with this (they are cut at 15 characters:
 * the IP and flow maps both read "traffic_counter"). The map definitions in
 * traffic_counter.bpf.c carry the names above as identifiers.
 */
#define TFC_MAP_KERNEL_PREFIX "traffic_"
/* attach --migrate's short-lived maps: the RCU barrier of its step 3. */
#define TFC_MIG_INNER_MAP_NAME	 "tfc_mig_inner"
#define TFC_MIG_BARRIER_MAP_NAME "tfc_mig_barrier"

/*
 * Our cls_bpf filter's place on clsact: fixed so we can find it again.
 * Priority 1 is the lowest there is, and lower runs first: we count frames
 * before any filter at a higher priority can drop them. Older builds used
 * priority 0x7c01 (openspec/changes/0009-tc-ordering.md): a filter of ours
 * found there is moved to 1 on re-attach and removed by detach. Where prio 1
 * holds filters of another kind or protocol (the kernel refuses to mix them
 * at one priority), 0x7c01 is the fallback.
 */
#define TFC_NETLINK_HANDLE	0x7c01
#define TFC_NETLINK_PRIO	1
#define TFC_NETLINK_PRIO_LEGACY 0x7c01

#define TFC_IP_MAP_DEFAULT_ENTRIES   65536
#define TFC_FLOW_MAP_DEFAULT_ENTRIES 32768
/* Overflow prefixes (--prefix-map-size): one shared hash, atomic adds. */
#define TFC_PREFIX_MAP_DEFAULT_ENTRIES 16384
/* --overflow-prefix V4,V6 default; 0 turns overflow off for that family. */
#define TFC_OVERFLOW_V4_DEFAULT 24
#define TFC_OVERFLOW_V6_DEFAULT 48
/* --aggregate rules the trie holds. */
#define TFC_AGGREGATE_MAX_RULES 1024
/* --cgroup-map-size default: a per-CPU hash keyed by cgroup id and direction. */
#define TFC_CGROUP_MAP_DEFAULT_ENTRIES 4096
/* --cgroup-depth at most this (cgroup v2 nesting deeper is rare). */
#define TFC_CGROUP_MAX_DEPTH 16

/* At least four stacked tags, at least eight IPv6 extension headers
 * (openspec/specs/counting.md C2, C8). */
#define TFC_MAX_VLAN_TAGS 4
#define TFC_MAX_IPV6_EXT  8

enum tfc_direction {
	TFC_DIR_INGRESS = 0,
	TFC_DIR_EGRESS = 1,
};

/*
 * IP map layout (attach --ip-map-type): a per-CPU hash (default: no shared
 * cache line, 96 + 16 x CPUs bytes an entry) or one shared hash with atomic
 * adds (104 bytes an entry whatever the CPU count). Same key and value.
 */
enum tfc_ip_map_type {
	TFC_IP_MAP_PERCPU = 0,
	TFC_IP_MAP_SHARED = 1,
};

/* Which address an IP entry is keyed by; set in .rodata at load time. */
enum tfc_count_by {
	TFC_COUNT_BY_DEFAULT = 0, /* source at ingress, destination at egress */
	TFC_COUNT_BY_SRC = 1,
	TFC_COUNT_BY_DST = 2,
};

/*
 * IPv4 addresses use the first 4 bytes of addr, the other 12 are zero.
 * is_prefix 1: addr is a prefix of prefix_len bits, the bits after it zero
 * (an --aggregate rule's row in the IP map, or an overflow row in the prefix
 * map). is_prefix 0: one address, prefix_len 0. Layouts 1 and 2 had two
 * always-zero pad bytes there, so their entries read as addresses.
 */
struct ip_key {
	__u32 ifindex;
	__u8 family;	/* 4 or 6 */
	__u8 direction; /* enum tfc_direction */
	__u8 is_prefix;
	__u8 prefix_len;
	__u8 addr[16];
};

/*
 * traffic_counters_cgroup key: the cgroup id (its cgroupfs inode number) of
 * the socket's cgroup, or with --cgroup-depth N of its ancestor N levels
 * below the attach point. Bytes are L3 (skb->len at cgroup_skb).
 */
struct cgroup_key {
	__u64 cgroup_id;
	__u8 direction; /* enum tfc_direction */
	__u8 pad[7];	/* always zero: part of the hash */
};

/*
 * traffic_aggregate (LPM trie) key: family then address, so one trie holds
 * both families. prefixlen counts bits of data: 8 + the CIDR's length (an
 * IPv4 rule uses data[1..4]). An IPv4-mapped IPv6 rule is an IPv6 rule: it
 * matches IPv6 frames carrying such addresses, never IPv4 frames.
 */
struct tfc_agg_key {
	__u32 prefixlen;
	__u8 data[17]; /* family (4 or 6), address */
	__u8 pad[3];   /* always zero */
};

/*
 * tfc_full_memo's value, one per CPU: while ip_map_frees reads `frees`, the
 * next `left` IP-map misses skip the insert (one failed for lack of room)
 * and go to overflow, and the next `prefix_left` prefix-map misses skip
 * theirs (likewise) and go to ip_map_full. Only a hint: it picks a path,
 * never a count.
 */
struct tfc_full_memo {
	__u32 frees;
	__u32 left;
	__u32 prefix_left;
	__u32 pad;
};

/* Misses a CPU sends past a full map on the memo before it tries an insert again. */
#define TFC_FULL_MEMO_PACKETS 4096

/* What a rule maps a matching address to: its /prefix_len prefix (32 or 128: the address). */
struct tfc_agg_value {
	__u8 prefix_len;
	__u8 pad[3];
};

struct counters {
	__u64 bytes;
	__u64 packets;
};

/* Ports in host byte order; 0 for protocols without ports or later fragments. */
struct flow_key {
	__u32 ifindex;
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 direction;
	__u8 pad; /* always zero */
};

/* Shared LRU entries: bytes, packets and tcp_flags are updated atomically. */
struct flow_value {
	__u64 bytes;
	__u64 packets;
	__u64 first_seen_ns; /* CLOCK_MONOTONIC_COARSE (bpf_ktime_get_coarse_ns) */
	__u64 last_seen_ns;
	__u32 tcp_flags; /* OR of every TCP flags byte seen */
	__u32 pad;
};

/* traffic_control flags */
#define TFC_FLAG_FLOW_COUNTERS (1U << 0)
/* traffic_aggregate holds rules: without it the programs never read the trie. */
#define TFC_FLAG_AGGREGATE (1U << 1)

/*
 * Map layout version, recorded in traffic_control by whoever creates the
 * maps; a binary refuses maps of another version unless `attach --migrate`
 * carries their counters over (openspec/changes/0008). Every released
 * layout stays selectable with -DTFC_ABI_VERSION=N so that the upgrade tests
 * build the previous release's layout from this tree (make ABI=1):
 *   1: the first release.
 *   2: traffic_control gains created_ns and migrations.
 *   3: prefix rows: ip_key's pad bytes become is_prefix and prefix_len, the
 *      prefix map and the aggregation trie, traffic_control gains the
 *      prefix map's capacity, the overflow lengths and ip_map_frees (the
 *      prefix map's rows are the overflow totals: no shared counter); the
 *      cgroup map, its capacity, depth and dropped packets.
 */
#ifndef TFC_ABI_VERSION
#define TFC_ABI_VERSION 3
#endif

/*
 * The single entry of traffic_control. The map is BPF_F_MMAPABLE so that
 * userspace writes `flags` with one store instead of a whole-value update,
 * which would race with the kernel's atomic adds to the counters below.
 * Later versions only append: the first 48 bytes mean the same in all.
 */
struct tfc_control {
	__u32 flags;	   /* TFC_FLAG_* */
	__u32 abi_version; /* TFC_ABI_VERSION of whoever created the maps */
	__u32 ip_map_capacity;
	__u32 flow_map_capacity;
	__u64 dropped_packets; /* IP-map inserts that failed: map full */
	__u64 dropped_bytes;
	__u64 flow_inserts; /* new flow entries: evictions = inserts - entries */
	__u64 flow_insert_failures;
#if TFC_ABI_VERSION >= 2
	__u64 created_ns; /* CLOCK_REALTIME when these counters started */
	__u32 migrations; /* times attach --migrate carried them into new maps */
	__u32 pad2;
#endif
#if TFC_ABI_VERSION >= 3
	__u32 prefix_map_capacity;
	__u8 overflow_v4; /* --overflow-prefix: IPv4 overflow length, 0: off */
	__u8 overflow_v6;
	__u8 pad3[2];
	/*
	 * Bumped by userspace after it deletes IP-map or prefix-map entries
	 * (evictions, resets): a program that found a map full tries to
	 * insert again.
	 */
	__u32 ip_map_frees;
	__u32 cgroup_map_capacity;
	__u8 cgroup_depth; /* --cgroup-depth of the cgroup programs attached */
	__u8 pad4[7];
	/* Packets the cgroup programs could not count: cgroup map full. */
	__u64 cgroup_dropped_packets;
	__u64 cgroup_dropped_bytes;
#endif
};

/*
 * The BPF programs' names, as `bpftool prog` and `ip link` show them: the
 * project and the hook, in at most BPF_OBJ_NAME_LEN - 1 = 15 characters
 * (the kernel cuts longer ones). They are the function names in
 * traffic_counter.bpf.c, hence the skeleton's fields: skel->progs.TFC_PROG_XDP.
 * A layout 1 build (make ABI=1) names them as the release that made that
 * layout did, so the upgrade tests attach programs with the old names.
 */
#if TFC_ABI_VERSION < 2
#define TFC_PROG_XDP	    tc_xdp
#define TFC_PROG_XDP_LEGACY tc_xdp_legacy
#define TFC_PROG_TC_INGRESS tc_ingress
#define TFC_PROG_TC_EGRESS  tc_egress
#else
#define TFC_PROG_XDP	    tfc_xdp
#define TFC_PROG_XDP_LEGACY tfc_xdp_legacy
#define TFC_PROG_TC_INGRESS tfc_tc_ingress
#define TFC_PROG_TC_EGRESS  tfc_tc_egress
#endif
/*
 * Layout 3: the cgroup_skb programs (attach --attach-point cgroup). Kept out
 * of TFC_PROG_NAMES, whose users take four interface programs in a fixed
 * order; they have no earlier names.
 */
#define TFC_PROG_CG_INGRESS tfc_cg_ingress
#define TFC_PROG_CG_EGRESS  tfc_cg_egress
#define TFC_STR_(x)	    #x
#define TFC_STR(x)	    TFC_STR_(x)
/* This build's program names, as strings (an initializer list), in this order. */
#define TFC_PROG_COUNT 4
#define TFC_PROG_NAMES                                                                             \
	TFC_STR(TFC_PROG_XDP), TFC_STR(TFC_PROG_XDP_LEGACY), TFC_STR(TFC_PROG_TC_INGRESS),         \
		TFC_STR(TFC_PROG_TC_EGRESS)
/* The cgroup programs' names, as strings, ingress then egress. */
#define TFC_PROG_CG_COUNT 2
#define TFC_PROG_CG_NAMES TFC_STR(TFC_PROG_CG_INGRESS), TFC_STR(TFC_PROG_CG_EGRESS)
/*
 * Names earlier releases gave the same programs (an initializer list),
 * TFC_PROG_COUNT a release in the order of TFC_PROG_NAMES: a program attached
 * under one of them is still ours to re-attach over, to migrate (as this
 * build's program of the same place in the list), to find, to report and to
 * detach, so an upgrade in place keeps counting. The tc_ prefix came first,
 * then tfc_ingress and tfc_egress. (A layout 1 build, named as that release,
 * knows no later names: neither did that release.)
 */
#define TFC_PROG_NAMES_EARLIER                                                                     \
	"tc_xdp", "tc_xdp_legacy", "tc_ingress", "tc_egress", "tfc_xdp", "tfc_xdp_legacy",         \
		"tfc_ingress", "tfc_egress"

/* Version 1's control entry: what every version's entry starts with. */
#define TFC_CONTROL_V1_SIZE 48

/*
 * traffic_stats: per-CPU counters keyed by interface, direction and reason.
 * Every frame a program sees lands exactly once in the IP map or in one of
 * the reasons below TFC_STAT_EXCLUSIVE_MAX (TFC_STAT_IP_MAP_FULL mirrors, per
 * interface, what traffic_control's dropped_packets counts in total).
 * Reasons from TFC_STAT_EXCLUSIVE_MAX on are remarks on frames that were
 * also counted by address.
 */
enum tfc_stat {
	TFC_STAT_IP_MAP_FULL = 0, /* valid IP frame, IP map full: dropped_packets */
	TFC_STAT_NON_IP,	  /* EtherType other than IPv4/IPv6, 802.3 length/LLC */
	TFC_STAT_TRUNCATED_L2,	  /* shorter than an Ethernet header or a VLAN tag */
	TFC_STAT_VLAN_TOO_DEEP,	  /* more than TFC_MAX_VLAN_TAGS tags */
	TFC_STAT_IPV4_TRUNCATED,  /* fewer than 20 or IHL*4 header bytes */
	TFC_STAT_IPV4_BAD_VERSION,
	TFC_STAT_IPV4_BAD_IHL,	  /* IHL < 5 */
	TFC_STAT_IPV4_BAD_LENGTH, /* total length not 0 and < IHL*4 */
	TFC_STAT_IPV6_TRUNCATED,  /* fewer than 40 bytes */
	TFC_STAT_IPV6_BAD_VERSION,
	TFC_STAT_EXCLUSIVE_MAX,
	TFC_STAT_L4_TRUNCATED = TFC_STAT_EXCLUSIVE_MAX, /* TCP/UDP/SCTP header cut: ports 0 */
	TFC_STAT_IPV6_EXT_LIMIT,			/* chain longer than the walk: ports 0 */
	/*
	 * Layout 3: a packet the cgroup programs could not count, cgroup map
	 * full (cgroup_dropped_packets per direction). Kept under ifindex 0,
	 * never an interface's: no interface frame is counted there.
	 */
	TFC_STAT_CGROUP_MAP_FULL,
	TFC_STAT_MAX,
};

struct stat_key {
	__u32 ifindex;
	__u8 direction;
	__u8 reason; /* enum tfc_stat */
	__u8 pad[2]; /* always zero */
};

/* Not preallocated: only (interface, direction, reason) triples seen cost memory. */
#define TFC_STATS_MAX_ENTRIES 4096

/*
 * Rows of a map read by userspace: per-CPU values summed. The dumps return
 * them (tfc_dump_ip, tfc_dump_stats, tfc_dump_flow) and attach --migrate
 * hands them as they are to migrate.bpf.c, so the layouts are fixed.
 */
struct tfc_ip_entry {
	struct ip_key key;
	struct counters val; /* summed over CPUs */
};

struct tfc_stat_entry {
	struct stat_key key;
	struct counters val; /* summed over CPUs */
};

/* A row of traffic_counters_cgroup (tfc_dump_cgroup). */
struct tfc_cgroup_entry {
	struct cgroup_key key;
	struct counters val; /* summed over CPUs */
};

struct tfc_flow_entry {
	struct flow_key key;
	__u32 pad; /* flow_value is 8-byte aligned: said, not implied */
	struct flow_value val;
};

#ifdef __cplusplus
#define TFC_STATIC_ASSERT static_assert
#else
#define TFC_STATIC_ASSERT _Static_assert
#endif

/*
 * The value of the TFC_IPFIX_STATS_NAME pin (an array of one entry), kept by
 * export-ipfix across its runs: how many entries exporters removed from this
 * flow map. Without it, the LRU's evictions (flow_inserts - entries) would
 * include the exporter's expiries. Read by serve and status, removed with
 * the maps by detach --purge.
 */
struct tfc_ipfix_stats {
	__u32 flow_map_id; /* the flow map counted: another id means stale counts */
	__u32 pad;
	__u64 expired; /* entries removed by exporters (idle expiry, shutdown) */
	__u64 records; /* flow records sent, all runs */
};

TFC_STATIC_ASSERT(sizeof(struct ip_key) == 24, "ip_key layout");
TFC_STATIC_ASSERT(sizeof(struct counters) == 16, "counters layout");
TFC_STATIC_ASSERT(sizeof(struct flow_key) == 44, "flow_key layout");
TFC_STATIC_ASSERT(sizeof(struct flow_value) == 40, "flow_value layout");
#if TFC_ABI_VERSION >= 3
TFC_STATIC_ASSERT(sizeof(struct tfc_control) == 104, "tfc_control layout");
#elif TFC_ABI_VERSION >= 2
TFC_STATIC_ASSERT(sizeof(struct tfc_control) == 64, "tfc_control layout");
#else
TFC_STATIC_ASSERT(sizeof(struct tfc_control) == TFC_CONTROL_V1_SIZE, "tfc_control layout");
#endif
TFC_STATIC_ASSERT(sizeof(struct stat_key) == 8, "stat_key layout");
TFC_STATIC_ASSERT(sizeof(struct tfc_agg_key) == 24, "tfc_agg_key layout");
TFC_STATIC_ASSERT(sizeof(struct cgroup_key) == 16, "cgroup_key layout");
TFC_STATIC_ASSERT(sizeof(struct tfc_agg_value) == 4, "tfc_agg_value layout");
TFC_STATIC_ASSERT(sizeof(struct tfc_full_memo) == 16, "tfc_full_memo layout");
TFC_STATIC_ASSERT(sizeof(struct tfc_ip_entry) == 40, "tfc_ip_entry layout");
TFC_STATIC_ASSERT(sizeof(struct tfc_stat_entry) == 24, "tfc_stat_entry layout");
TFC_STATIC_ASSERT(sizeof(struct tfc_cgroup_entry) == 32, "tfc_cgroup_entry layout");
TFC_STATIC_ASSERT(sizeof(struct tfc_flow_entry) == 88, "tfc_flow_entry layout");
TFC_STATIC_ASSERT(sizeof(struct tfc_ipfix_stats) == 24, "tfc_ipfix_stats layout");

#endif /* TRAFFIC_COUNTER_ABI_H */
