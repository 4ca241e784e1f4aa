/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPFIX export of the flow map: what was last exported of each flow, the
 * deltas, the active/idle decisions and the records to send. No network and
 * no BPF here: the map is reached through struct tfc_ipfix_io, so the whole
 * export cycle is unit-tested against a fake map. The encoding (libfixbuf)
 * is in traffic-counter/ipfix/cmd_ipfix.c. See
 * openspec/changes/0005-ipfix-export.md for the design and the loss model.
 */
#ifndef TFC_IPFIX_H
#define TFC_IPFIX_H

#include <stddef.h>
#include <linux/types.h>

#include "maps/maps.h"
#include "abi/traffic_counter_abi.h"

/* flowEndReason (IANA IPFIX registry, RFC 5102 5.11.3). */
enum tfc_ipfix_end {
	TFC_IPFIX_KEEP = 0, /* not exported this cycle */
	TFC_IPFIX_END_IDLE = 1,
	TFC_IPFIX_END_ACTIVE = 2,
	TFC_IPFIX_END_FORCED = 4, /* the exporter is stopping */
};

struct tfc_ipfix_timeouts {
	__u64 active_ns; /* a flow with new traffic is exported at least this often */
	__u64 idle_ns;	 /* a flow without a packet for this long is exported and removed */
};

/* What was last exported of one incarnation of a flow map entry. */
struct tfc_ipfix_flow {
	struct flow_key key;
	__u64 first_seen_ns; /* tells a re-created entry from the one exported */
	__u64 bytes;	     /* totals exported so far */
	__u64 packets;
	__u64 exported_ns; /* CLOCK_MONOTONIC of the last export, first_seen_ns before */
	__u32 gen;	   /* the last scan that saw the entry */
};

/* One record to send: the delta of one flow since its last export. */
struct tfc_ipfix_record {
	struct flow_key key;
	__u64 bytes; /* L2, as the maps count them */
	__u64 packets;
	__u64 start_ns; /* CLOCK_MONOTONIC */
	__u64 end_ns;
	__u32 tcp_flags; /* OR over the flow's life: the map keeps no per-delta OR */
	__u8 end_reason; /* enum tfc_ipfix_end */
};

/* The map and the collector, as the export cycle sees them. */
struct tfc_ipfix_io {
	/*
	 * Removes the entry and returns its value in one step (lookup and
	 * delete), so nothing counted after a read is lost: 0, -ENOENT when
	 * the entry is already gone, or another negative errno.
	 */
	int (*take)(void *ctx, const struct flow_key *key, struct flow_value *val);
	int (*emit)(void *ctx, const struct tfc_ipfix_record *r); /* 0 or -errno */
	void *ctx;
};

/* What one cycle did. */
struct tfc_ipfix_counts {
	__u64 records; /* flow records emitted */
	__u64 packets; /* and what they carried */
	__u64 bytes;
	__u64 expired;	/* entries this exporter removed from the map */
	__u64 vanished; /* entries an earlier cycle saw, gone without us: LRU-evicted */
};

struct tfc_ipfix_table;

struct tfc_ipfix_table *tfc_ipfix_table_new(void);
void tfc_ipfix_table_free(struct tfc_ipfix_table *t);
size_t tfc_ipfix_table_size(const struct tfc_ipfix_table *t);
const struct tfc_ipfix_flow *tfc_ipfix_table_find(const struct tfc_ipfix_table *t,
						  const struct flow_key *key);

/*
 * The decision for one entry at `now_ns` (CLOCK_MONOTONIC): idle expiry
 * when no packet came for idle_ns, an active export when there is new
 * traffic and the last export (or the first packet) is active_ns old.
 */
enum tfc_ipfix_end tfc_ipfix_decide(const struct tfc_ipfix_timeouts *to,
				    const struct tfc_ipfix_flow *f, const struct flow_value *v,
				    __u64 now_ns);

/* The delta of `v` over what `f` exported (`f` may be a fresh state). */
void tfc_ipfix_delta(const struct tfc_ipfix_flow *f, const struct flow_value *v,
		     struct tfc_ipfix_record *r);

/*
 * One export cycle over a dump of the map (`e`, `n`) taken at `now_ns`:
 * idle entries are taken out of the map and their final delta emitted,
 * active ones emitted and remembered; state of entries no longer in the map
 * is dropped (counted as vanished). `c` is added to. 0, or the first
 * negative errno of io->emit or io->take (the cycle stops there).
 */
int tfc_ipfix_scan(struct tfc_ipfix_table *t, const struct tfc_ipfix_timeouts *to,
		   const struct tfc_flow_entry *e, size_t n, __u64 now_ns,
		   const struct tfc_ipfix_io *io, struct tfc_ipfix_counts *c);

/* Shutdown: every entry of the dump taken out and its delta emitted (forced end). */
int tfc_ipfix_flush(struct tfc_ipfix_table *t, const struct tfc_flow_entry *e, size_t n,
		    const struct tfc_ipfix_io *io, struct tfc_ipfix_counts *c);

/* ---- time ---------------------------------------------------------------- */

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns, read as one close pair. */
int tfc_ipfix_clock_offset(__s64 *offset_ns);
__u64 tfc_ipfix_wall_ms(__u64 mono_ns, __s64 offset_ns);
__u64 tfc_ipfix_now_ns(void); /* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns */

/* ---- records as libfixbuf reads them (internal templates) ------------------ */

/*
 * Field order and sizes are the internal templates' in cmd_ipfix.c;
 * libfixbuf converts to network order. octets repeats l2_octets and is
 * only sent with --octet-delta-count l2 (the external template leaves it out
 * otherwise): the maps count L2 bytes, octetDeltaCount means IP bytes.
 */
struct tfc_ipfix_rec_common {
	__u64 start_ms;	  /* flowStartMilliseconds */
	__u64 end_ms;	  /* flowEndMilliseconds */
	__u64 packets;	  /* packetDeltaCount */
	__u64 l2_octets;  /* layer2OctetDeltaCount */
	__u64 octets;	  /* octetDeltaCount */
	__u32 ingress_if; /* ingressInterface */
	__u32 egress_if;  /* egressInterface */
	__u16 sport;	  /* sourceTransportPort */
	__u16 dport;	  /* destinationTransportPort */
	__u16 tcp_flags;  /* tcpControlBits */
	__u8 proto;	  /* protocolIdentifier */
	__u8 direction;	  /* flowDirection: 0 ingress, 1 egress */
	__u8 end_reason;  /* flowEndReason */
	__u8 pad[7];	  /* paddingOctets: the struct is 8-byte aligned */
};

struct tfc_ipfix_rec4 {
	struct tfc_ipfix_rec_common c;
	__u32 src; /* sourceIPv4Address, host order */
	__u32 dst; /* destinationIPv4Address */
};

struct tfc_ipfix_rec6 {
	struct tfc_ipfix_rec_common c;
	__u8 src[16]; /* sourceIPv6Address */
	__u8 dst[16]; /* destinationIPv6Address */
};

/* Metering process statistics, an options record scoped by the domain. */
struct tfc_ipfix_rec_stats {
	__u32 domain; /* observationDomainId (scope) */
	__u8 pad[4];
	__u64 exported; /* exportedFlowRecordTotalCount: since this exporter started */
	__u64 not_sent; /* notSentFlowTotalCount: flows the LRU evicted before export */
};

_Static_assert(sizeof(struct tfc_ipfix_rec_common) == 64, "rec_common layout");
_Static_assert(sizeof(struct tfc_ipfix_rec4) == 72, "rec4 layout");
_Static_assert(sizeof(struct tfc_ipfix_rec6) == 96, "rec6 layout");
_Static_assert(sizeof(struct tfc_ipfix_rec_stats) == 24, "rec_stats layout");

/* Fills the IPv4 or IPv6 record (by r->key.family): 4 or 6, -EAFNOSUPPORT otherwise. */
int tfc_ipfix_rec_fill(const struct tfc_ipfix_record *r, __s64 offset_ns, struct tfc_ipfix_rec4 *r4,
		       struct tfc_ipfix_rec6 *r6);

/* ---- evictions, kept across exporter runs -------------------------------- */

/* struct tfc_ipfix_stats, the pinned counters, is in the ABI header. */

/*
 * Flows the LRU evicted from the flow map since it was created:
 * inserts - entries - removed by the exporter (0 if that is negative, as a
 * racing insert can make it for a moment).
 */
__u64 tfc_ipfix_evictions(__u64 flow_inserts, __u64 entries, __u64 expired);

/*
 * For status: reads the pin `<dir>/traffic_ipfix` and returns how many
 * entries exporters removed from the flow map whose id is `flow_map_id`; 0
 * when no exporter ever ran (no pin) or its counts are for an older map.
 * 0 or a negative errno.
 */
int tfc_ipfix_expired_read(const char *pin_dir, __u32 flow_map_id, __u64 *expired);

/*
 * The statistics of the exporters of the flow map whose id is `flow_map_id`,
 * from the pin `<dir>/traffic_ipfix`: 0, -ENOENT when no exporter ever ran
 * on that map (no pin, or counts of an older map), or a negative errno.
 */
int tfc_ipfix_stats_read(const char *pin_dir, __u32 flow_map_id, struct tfc_ipfix_stats *out);

/* The pin path of the statistics map under `pin_dir`: 0 or -ENAMETOOLONG. */
int tfc_ipfix_stats_pin(const char *pin_dir, char *buf, size_t len);

/*
 * Opens the statistics map pinned under `pin_dir` (read-only unless
 * `create`), creating and pinning it when missing and `create` is set.
 * The fd, -ENOENT when absent, -EPROTO when the pin is not such a map, or
 * another negative errno.
 */
int tfc_ipfix_stats_open(const char *pin_dir, int create);

#endif /* TFC_IPFIX_H */
