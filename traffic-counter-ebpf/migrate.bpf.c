// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * attach --migrate: carry counters from the old maps into the new ones
 * (openspec/changes/0008). Run through BPF_PROG_TEST_RUN, never attached.
 *
 * Why in the kernel: the new maps are live (the programs were re-pointed at
 * them first), so a userspace read-modify-write would overwrite what the
 * kernel adds meanwhile. Here every carried entry is added atomically, and
 * it is deleted from the old map in the same run, so a SIGKILL between two
 * runs never carries an entry twice nor loses one: the next
 * `attach --migrate` carries what is left.
 *
 * The loader sets each old_* and new_* map's type, sizes and flags to those
 * of the pinned map before it reuses the pin.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "migrate_abi.h"
#include "upsert.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TFC_MIGRATE_BATCH);
	__type(key, __u32);
	__type(value, struct tfc_ip_entry);
} batch_ip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TFC_MIGRATE_BATCH);
	__type(key, __u32);
	__type(value, struct tfc_stat_entry);
} batch_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TFC_MIGRATE_BATCH);
	__type(key, __u32);
	__type(value, struct tfc_flow_entry);
} batch_flow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct ip_key);
	__type(value, struct counters);
} old_ip SEC(".maps"), new_ip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct stat_key);
	__type(value, struct counters);
} old_stats SEC(".maps"), new_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} old_flow SEC(".maps"), new_flow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct tfc_control);
} old_control SEC(".maps"), new_control SEC(".maps");

/* What the runs carried and lost, read by the loader from .bss. */
struct tfc_migrate_result result;

static __always_inline struct tfc_control *control(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&new_control, &zero);
}

/* Adds to an existing entry, or inserts it; 0, or -1 when the map is full. */
static __always_inline int add_counters(void *map, const void *key, const struct counters *v)
{
	int inserted;
	struct counters *c = tfc_upsert(map, key, v, &inserted);

	if (!c)
		return inserted ? 0 : -1;
	__sync_fetch_and_add(&c->bytes, v->bytes);
	__sync_fetch_and_add(&c->packets, v->packets);
	return 0;
}

/*
 * An address the new IP map has no room for: counted as the counting
 * programs count a frame that finds the map full, so that every frame is
 * still in exactly one place (openspec/specs/counting.md C7,
 * maps.md M6).
 */
static __always_inline void lose_ip(const struct tfc_ip_entry *e)
{
	struct stat_key sk = {.ifindex = e->key.ifindex,
			      .direction = e->key.direction,
			      .reason = TFC_STAT_IP_MAP_FULL};
	struct tfc_control *ctl = control();

	if (ctl) {
		__sync_fetch_and_add(&ctl->dropped_packets, e->val.packets);
		__sync_fetch_and_add(&ctl->dropped_bytes, e->val.bytes);
	}
	add_counters(&new_stats, &sk, &e->val);
	__sync_fetch_and_add(&result.lost_entries, 1);
	__sync_fetch_and_add(&result.lost_packets, e->val.packets);
}

static long ip_one(__u32 i, void *unused)
{
	struct tfc_ip_entry *e = bpf_map_lookup_elem(&batch_ip, &i);

	/* Already carried by an earlier, interrupted run: skip. */
	if (!e || bpf_map_delete_elem(&old_ip, &e->key))
		return 0;
	if (add_counters(&new_ip, &e->key, &e->val))
		lose_ip(e);
	else
		__sync_fetch_and_add(&result.carried_entries, 1);
	return 0;
}

/* bpf_loop (Linux >= 5.17): the verifier checks one iteration, not 256. */
static __always_inline __u32 batch_count(const struct tfc_migrate_ctx *ctx)
{
	__u32 n = ctx->count;

	return n < TFC_MIGRATE_BATCH ? n : TFC_MIGRATE_BATCH;
}

SEC("syscall")
int migrate_ip(struct tfc_migrate_ctx *ctx)
{
	bpf_loop(batch_count(ctx), ip_one, NULL, 0);
	return 0;
}

static long stat_one(__u32 i, void *unused)
{
	struct tfc_stat_entry *e = bpf_map_lookup_elem(&batch_stats, &i);

	if (!e || bpf_map_delete_elem(&old_stats, &e->key))
		return 0;
	/* 4096 (interface, direction, reason) slots: only a full table loses
	 * a statistic, and that is reported, not hidden. */
	if (add_counters(&new_stats, &e->key, &e->val))
		__sync_fetch_and_add(&result.lost_stats, 1);
	return 0;
}

SEC("syscall")
int migrate_stats(struct tfc_migrate_ctx *ctx)
{
	bpf_loop(batch_count(ctx), stat_one, NULL, 0);
	return 0;
}

static __always_inline void merge_flow(struct flow_value *f, const struct flow_value *v)
{
	__sync_fetch_and_add(&f->bytes, v->bytes);
	__sync_fetch_and_add(&f->packets, v->packets);
	__sync_fetch_and_or(&f->tcp_flags, v->tcp_flags);
	/* Plain stores: the counting programs write first_seen only when they
	 * insert, and last_seen only later than anything carried here. */
	if (v->first_seen_ns && v->first_seen_ns < f->first_seen_ns)
		f->first_seen_ns = v->first_seen_ns;
	if (v->last_seen_ns > f->last_seen_ns)
		f->last_seen_ns = v->last_seen_ns;
}

static long flow_one(__u32 i, void *unused)
{
	struct tfc_flow_entry *e = bpf_map_lookup_elem(&batch_flow, &i);
	struct tfc_control *ctl;
	struct flow_value *f;
	int inserted;

	if (!e || bpf_map_delete_elem(&old_flow, &e->key))
		return 0;
	f = tfc_upsert(&new_flow, &e->key, &e->val, &inserted);
	if (f) {
		merge_flow(f, &e->val);
		/* One flow, inserted twice (old and new map): keep
		 * evictions = inserts - entries true. */
		ctl = control();
		if (ctl)
			__sync_fetch_and_add(&ctl->flow_inserts, -1);
	}
	if (f || inserted)
		__sync_fetch_and_add(&result.carried_flows, 1);
	return 0;
}

SEC("syscall")
int migrate_flow(struct tfc_migrate_ctx *ctx)
{
	bpf_loop(batch_count(ctx), flow_one, NULL, 0);
	return 0;
}

/* The old control counters move in one run: exchanged for zero, then added. */
SEC("syscall")
int migrate_control(struct tfc_migrate_ctx *ctx)
{
	struct tfc_control *ctl = control();
	struct tfc_control *old;
	__u32 zero = 0;

	old = bpf_map_lookup_elem(&old_control, &zero);
	if (!old || !ctl)
		return 1;
	__sync_fetch_and_add(&ctl->dropped_packets,
			     __sync_lock_test_and_set(&old->dropped_packets, 0));
	__sync_fetch_and_add(&ctl->dropped_bytes, __sync_lock_test_and_set(&old->dropped_bytes, 0));
	__sync_fetch_and_add(&ctl->flow_inserts, __sync_lock_test_and_set(&old->flow_inserts, 0));
	__sync_fetch_and_add(&ctl->flow_insert_failures,
			     __sync_lock_test_and_set(&old->flow_insert_failures, 0));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
