// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Map shape checks and statistics totals: no BPF, hand-made inputs. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "maps/maps.h"

struct shape {
	enum tfc_map_kind kind;
	__u32 type;
	__u32 key_size;
	__u32 value_size;
};

/* The shapes the BPF side declares (openspec/specs/maps.md M2), written out independently. */
static const struct shape shapes[] = {
	{TFC_MAP_IP, BPF_MAP_TYPE_PERCPU_HASH, 24, 16},
	{TFC_MAP_FLOW, BPF_MAP_TYPE_LRU_HASH, 44, 40},
	{TFC_MAP_CONTROL, BPF_MAP_TYPE_ARRAY, 4, 104}, /* layout version 3 */
	{TFC_MAP_STATS, BPF_MAP_TYPE_PERCPU_HASH, 8, 16},
};

#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static struct bpf_map_info info_of(const struct shape *s)
{
	struct bpf_map_info info;

	memset(&info, 0, sizeof(info));
	info.type = s->type;
	info.key_size = s->key_size;
	info.value_size = s->value_size;
	info.max_entries = 1234; /* capacity is the user's choice: not checked */
	return info;
}

static void test_check_accepts_exact_shapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSHAPES; i++) {
		struct bpf_map_info info = info_of(&shapes[i]);

		assert_int_equal(tfc_map_check(&info, shapes[i].kind), 0);
	}
}

static void test_check_rejects_wrong_type(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSHAPES; i++) {
		struct bpf_map_info info = info_of(&shapes[i]);

		info.type = BPF_MAP_TYPE_ARRAY_OF_MAPS;
		assert_int_equal(tfc_map_check(&info, shapes[i].kind), -EPROTO);
		/* A plain hash is the IP map's shared layout (--ip-map-type shared) only. */
		info.type = BPF_MAP_TYPE_HASH;
		assert_int_equal(tfc_map_check(&info, shapes[i].kind),
				 shapes[i].kind == TFC_MAP_IP ? 0 : -EPROTO);
	}
}

static void test_check_rejects_wrong_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSHAPES; i++) {
		struct bpf_map_info info = info_of(&shapes[i]);

		info.key_size = shapes[i].key_size + 4;
		assert_int_equal(tfc_map_check(&info, shapes[i].kind), -EPROTO);
		info.key_size = shapes[i].key_size - 4;
		assert_int_equal(tfc_map_check(&info, shapes[i].kind), -EPROTO);
	}
}

static void test_check_rejects_wrong_value(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSHAPES; i++) {
		struct bpf_map_info info = info_of(&shapes[i]);

		info.value_size = shapes[i].value_size + 8;
		assert_int_equal(tfc_map_check(&info, shapes[i].kind), -EPROTO);
	}
}

/* No kind accepts another kind's map: dump-maps tells IP from flow this way. */
static void test_check_kinds_disjoint(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSHAPES; i++) {
		struct bpf_map_info info = info_of(&shapes[i]);

		for (size_t j = 0; j < NSHAPES; j++)
			assert_int_equal(tfc_map_check(&info, shapes[j].kind),
					 i == j ? 0 : -EPROTO);
	}
}

static struct tfc_stat_entry stat_entry(__u32 ifindex, __u8 dir, __u8 reason, __u64 bytes,
					__u64 pkts)
{
	struct tfc_stat_entry e;

	memset(&e, 0, sizeof(e));
	e.key.ifindex = ifindex;
	e.key.direction = dir;
	e.key.reason = reason;
	e.val.bytes = bytes;
	e.val.packets = pkts;
	return e;
}

/* Entries on two interfaces, both directions, plus reasons past the names. */
static void fill_stats(struct tfc_stat_entry *e)
{
	e[0] = stat_entry(2, TFC_DIR_INGRESS, TFC_STAT_NON_IP, 100, 1);
	e[1] = stat_entry(2, TFC_DIR_EGRESS, TFC_STAT_NON_IP, 200, 2);
	e[2] = stat_entry(3, TFC_DIR_INGRESS, TFC_STAT_NON_IP, 400, 4);
	e[3] = stat_entry(3, TFC_DIR_INGRESS, TFC_STAT_IPV6_EXT_LIMIT, 1000, 10);
	e[4] = stat_entry(2, TFC_DIR_INGRESS, TFC_STAT_MAX, 7000, 70);
	e[5] = stat_entry(2, TFC_DIR_INGRESS, 255, 9000, 90);
}

#define NSTATS 6

/* Marks every slot so a slot the function forgot to clear shows up. */
static void poison(struct counters *out)
{
	memset(out, 0xab, sizeof(*out) * TFC_STAT_MAX);
}

static void assert_counters(const struct counters *c, __u64 bytes, __u64 pkts)
{
	assert_int_equal(c->bytes, bytes);
	assert_int_equal(c->packets, pkts);
}

static void test_totals_any(void **state)
{
	struct tfc_stat_entry e[NSTATS];
	struct counters out[TFC_STAT_MAX];

	(void)state;
	fill_stats(e);
	poison(out);
	tfc_stats_totals(e, NSTATS, 0, -1, out);
	assert_counters(&out[TFC_STAT_NON_IP], 700, 7);
	assert_counters(&out[TFC_STAT_IPV6_EXT_LIMIT], 1000, 10);
	for (unsigned int r = 0; r < TFC_STAT_MAX; r++)
		if (r != TFC_STAT_NON_IP && r != TFC_STAT_IPV6_EXT_LIMIT)
			assert_counters(&out[r], 0, 0);
}

static void test_totals_by_ifindex(void **state)
{
	struct tfc_stat_entry e[NSTATS];
	struct counters out[TFC_STAT_MAX];

	(void)state;
	fill_stats(e);
	poison(out);
	tfc_stats_totals(e, NSTATS, 2, -1, out);
	assert_counters(&out[TFC_STAT_NON_IP], 300, 3);
	assert_counters(&out[TFC_STAT_IPV6_EXT_LIMIT], 0, 0);
	tfc_stats_totals(e, NSTATS, 42, -1, out);
	assert_counters(&out[TFC_STAT_NON_IP], 0, 0);
}

static void test_totals_by_direction(void **state)
{
	struct tfc_stat_entry e[NSTATS];
	struct counters out[TFC_STAT_MAX];

	(void)state;
	fill_stats(e);
	poison(out);
	tfc_stats_totals(e, NSTATS, 0, TFC_DIR_EGRESS, out);
	assert_counters(&out[TFC_STAT_NON_IP], 200, 2);
	assert_counters(&out[TFC_STAT_IPV6_EXT_LIMIT], 0, 0);
	/* Ingress is 0: it must filter too, not mean "any". */
	tfc_stats_totals(e, NSTATS, 0, TFC_DIR_INGRESS, out);
	assert_counters(&out[TFC_STAT_NON_IP], 500, 5);
	tfc_stats_totals(e, NSTATS, 3, TFC_DIR_INGRESS, out);
	assert_counters(&out[TFC_STAT_NON_IP], 400, 4);
	assert_counters(&out[TFC_STAT_IPV6_EXT_LIMIT], 1000, 10);
}

static void test_totals_empty(void **state)
{
	struct counters out[TFC_STAT_MAX];

	(void)state;
	poison(out);
	tfc_stats_totals(NULL, 0, 0, -1, out);
	for (unsigned int r = 0; r < TFC_STAT_MAX; r++)
		assert_counters(&out[r], 0, 0);
}

/* Prefix rows of the prefix map join the IP map's: equal keys summed, others appended. */
static struct tfc_ip_entry row(__u8 is_prefix, __u8 plen, __u8 third, __u64 bytes)
{
	struct tfc_ip_entry e;

	memset(&e, 0, sizeof(e));
	e.key.ifindex = 3;
	e.key.family = 4;
	e.key.is_prefix = is_prefix;
	e.key.prefix_len = plen;
	e.key.addr[0] = 198;
	e.key.addr[1] = 18;
	e.key.addr[2] = third;
	e.val.bytes = bytes;
	e.val.packets = bytes / 10;
	return e;
}

static void test_rows_merge(void **state)
{
	struct tfc_ip_entry *rows = malloc(3 * sizeof(*rows));
	struct tfc_ip_entry b[3];
	size_t n = 3;

	(void)state;
	assert_non_null(rows);
	rows[0] = row(0, 0, 0, 100);  /* 198.18.0.0, an address */
	rows[1] = row(1, 24, 1, 200); /* 198.18.1.0/24, a rule's row */
	rows[2] = row(1, 16, 0, 300); /* 198.18.0.0/16 */
	b[0] = row(1, 16, 0, 30);     /* same key as rows[2] */
	b[1] = row(1, 24, 0, 40);     /* 198.18.0.0/24: new */
	b[2] = row(1, 24, 1, 20);     /* same key as rows[1] */
	assert_int_equal(tfc_ip_rows_merge(&rows, &n, b, 3), 0);
	assert_int_equal(n, 4);
	assert_int_equal(rows[0].val.bytes, 100); /* an address never takes a prefix's counts */
	assert_int_equal(rows[1].val.bytes, 220);
	assert_int_equal(rows[1].val.packets, 22);
	assert_int_equal(rows[2].val.bytes, 330);
	assert_int_equal(rows[3].val.bytes, 40);
	assert_int_equal(rows[3].key.prefix_len, 24);
	/* Nothing to add: unchanged. */
	assert_int_equal(tfc_ip_rows_merge(&rows, &n, NULL, 0), 0);
	assert_int_equal(n, 4);
	free(rows);
}

static void test_prefix_map_shape(void **state)
{
	struct shape s = {TFC_MAP_IP, BPF_MAP_TYPE_HASH, 24, 16};
	struct bpf_map_info info = info_of(&s);

	(void)state;
	assert_int_equal(tfc_prefix_map_check(&info), 0);
	info.type = BPF_MAP_TYPE_PERCPU_HASH; /* shared values only */
	assert_int_equal(tfc_prefix_map_check(&info), -EPROTO);
	info = info_of(&s);
	info.key_size = 8;
	assert_int_equal(tfc_prefix_map_check(&info), -EPROTO);
	info = info_of(&s);
	info.value_size = 32;
	assert_int_equal(tfc_prefix_map_check(&info), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_accepts_exact_shapes),
		cmocka_unit_test(test_check_rejects_wrong_type),
		cmocka_unit_test(test_check_rejects_wrong_key),
		cmocka_unit_test(test_check_rejects_wrong_value),
		cmocka_unit_test(test_check_kinds_disjoint),
		cmocka_unit_test(test_totals_any),
		cmocka_unit_test(test_totals_by_ifindex),
		cmocka_unit_test(test_totals_by_direction),
		cmocka_unit_test(test_totals_empty),
		cmocka_unit_test(test_rows_merge),
		cmocka_unit_test(test_prefix_map_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
