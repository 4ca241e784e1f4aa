/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * record's arithmetic, free of maps and SQLite so it is unit-tested alone:
 * the epoch identity of a set of maps, the delta of one counter, and the
 * hash tables that hold what was read last and the deltas not yet saved.
 */
#ifndef TFC_RECORD_DELTA_H
#define TFC_RECORD_DELTA_H

#include <stddef.h>
#include <time.h>
#include <linux/types.h>

#include "abi/traffic_counter_abi.h"

/* What identifies the counters' run: when any changes they restart. */
struct rec_epoch {
	char boot_id[40]; /* /proc/sys/kernel/random/boot_id, "" unknown */
	__u64 created_ns; /* the control map's, 0 for a layout 1 map */
	__u32 migrations; /* attach --migrate carried the counters over */
};

enum rec_epoch_change {
	REC_EPOCH_SAME,
	/* Only migrations grew: the counters were carried into new maps and
	 * go on from where they were: deltas against what was read last. */
	REC_EPOCH_MIGRATED,
	/* A reboot, maps purged and recreated, or migrations went down: every
	 * counter starts from zero. */
	REC_EPOCH_NEW,
};

enum rec_epoch_change rec_epoch_compare(const struct rec_epoch *last, const struct rec_epoch *now);

/*
 * The growth of one counter since `last`. A counter lower than last read,
 * in packets or bytes, was evicted and recreated: it counts from zero, so
 * the delta is its whole value; never negative, never a wrap. Returns 1
 * when that happened, else 0.
 */
int rec_delta(const struct counters *last, const struct counters *now, struct counters *out);

/* What a counter is, as record names it: the last_read table's key. */
enum rec_key_kind {
	REC_KEY_IP = 1,	    /* an IP map entry: ip */
	REC_KEY_STAT = 2,   /* a traffic_stats entry: stat */
	REC_KEY_IFACE = 3,  /* a pending interface total: ip.ifindex, ip.direction */
	REC_KEY_OTHER = 4,  /* a pending `other` sum: ip.ifindex, ip.direction */
	REC_KEY_CGROUP = 5, /* a traffic_counters_cgroup entry: cg */
};

/* Fixed layout, padding zeroed: its bytes are the hash and the DB key. */
struct rec_key {
	__u8 kind; /* enum rec_key_kind */
	__u8 pad[7];
	union {
		struct ip_key ip;
		struct stat_key stat;
		struct cgroup_key cg;
	};
};

TFC_STATIC_ASSERT(sizeof(struct rec_key) == 32, "rec_key: the last_read key's bytes");

struct rec_key rec_key_ip(const struct ip_key *k);
struct rec_key rec_key_stat(const struct stat_key *k);
struct rec_key rec_key_cgroup(const struct cgroup_key *k);
struct rec_key rec_key_iface(__u32 ifindex, __u8 direction, enum rec_key_kind kind);

/* A slot: the key and the bucket start it is pending for (0 in the state). */
struct rec_slot {
	struct rec_key key;
	__s64 ts;
	struct counters val;
	__s64 changed; /* state: when the value last grew (idle eviction) */
	__u8 used;
	__u8 dirty; /* state: changed since the last save */
};

/* Open addressing, linear probing, deletion by backward shift. */
struct rec_table {
	struct rec_slot *slots;
	size_t cap; /* a power of two */
	size_t n;
};

void rec_table_free(struct rec_table *t);
/* The slot of (key, ts), created zeroed when absent. NULL: out of memory. */
struct rec_slot *rec_table_get(struct rec_table *t, const struct rec_key *key, __s64 ts);
struct rec_slot *rec_table_find(const struct rec_table *t, const struct rec_key *key, __s64 ts);
void rec_table_del(struct rec_table *t, struct rec_slot *s);
/* Empties the table, keeping its memory. */
void rec_table_clear(struct rec_table *t);

/* Adds a delta to the pending slot (key, ts). 0 or -ENOMEM. */
int rec_pending_add(struct rec_table *t, const struct rec_key *key, __s64 ts,
		    const struct counters *d);

/*
 * An IP entry's delta, pending at its address (bucket hour_ts) and at its
 * interface and direction (bucket m5_ts). 0 or -ENOMEM.
 */
int rec_pending_ip(struct rec_table *pending, const struct ip_key *k, const struct counters *d,
		   __s64 hour_ts, __s64 m5_ts);

/*
 * A duration: seconds, or a number with a unit s, m, h, d, w, y (365 days);
 * "forever" is 0 when allow_forever. 0 or -EINVAL.
 */
int rec_duration_parse(const char *s, int allow_forever, long long *out);

#endif /* TFC_RECORD_DELTA_H */
