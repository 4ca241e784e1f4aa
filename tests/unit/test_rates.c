// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* top's arithmetic: rates from two reads, restarts, order, sums, units, intervals. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "top/rates.h"

static struct tfc_ip_entry ip(__u8 last, __u8 dir, __u32 ifindex, __u64 bytes, __u64 packets)
{
	struct tfc_ip_entry e;

	memset(&e, 0, sizeof(e));
	e.key.family = 4;
	e.key.addr[0] = 198;
	e.key.addr[1] = 18;
	e.key.addr[3] = last;
	e.key.direction = dir;
	e.key.ifindex = ifindex;
	e.val.bytes = bytes;
	e.val.packets = packets;
	return e;
}

static struct tfc_flow_entry flow(__u16 sport, __u64 bytes, __u64 packets, __u64 first_seen)
{
	struct tfc_flow_entry e;

	memset(&e, 0, sizeof(e));
	e.key.family = 4;
	e.key.src[0] = 198;
	e.key.src[1] = 18;
	e.key.src[3] = 1;
	e.key.dst[0] = 198;
	e.key.dst[1] = 18;
	e.key.dst[3] = 2;
	e.key.sport = sport;
	e.key.dport = 9;
	e.key.proto = 17;
	e.key.ifindex = 2;
	e.val.bytes = bytes;
	e.val.packets = packets;
	e.val.first_seen_ns = first_seen;
	return e;
}

static const struct tfc_rate_row *row_of(const struct tfc_rate_snap *s, __u8 last)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->rows[i].key.ip.addr[3] == last)
			return &s->rows[i];
	fail_msg("no row for 198.18.0.%u", last);
	return NULL;
}

/* ---- rates ------------------------------------------------------------- */

static void test_first_read_has_no_rate(void **state)
{
	struct tfc_ip_entry e[] = {ip(1, 0, 2, 1000, 10)};
	struct tfc_rate_snap prev = {0}, cur;

	(void)state;
	assert_int_equal(tfc_rate_snap_ip(&cur, e, 1, 5.0), 0);
	tfc_rates_update(&cur, &prev);
	assert_false(cur.rows[0].has_rate);
	tfc_rates_update(&cur, NULL);
	assert_false(cur.rows[0].has_rate);
	tfc_rate_snap_free(&cur);
}

static void test_rate_is_growth_over_time(void **state)
{
	struct tfc_ip_entry a[] = {ip(1, 0, 2, 1000, 10), ip(2, 1, 2, 500, 5)};
	struct tfc_ip_entry b[] = {ip(2, 1, 2, 500, 5), ip(1, 0, 2, 4000, 40)};
	struct tfc_rate_snap prev, cur;
	const struct tfc_rate_row *r;

	(void)state;
	assert_int_equal(tfc_rate_snap_ip(&prev, a, 2, 10.0), 0);
	assert_int_equal(tfc_rate_snap_ip(&cur, b, 2, 12.0), 0);
	tfc_rates_update(&cur, &prev);
	r = row_of(&cur, 1);
	assert_true(r->has_rate);
	assert_true(r->byte_rate == 1500.0); /* (4000 - 1000) / 2 s */
	assert_true(r->packet_rate == 15.0);
	assert_int_equal(r->bytes, 4000);
	r = row_of(&cur, 2);
	assert_true(r->has_rate);
	assert_true(r->byte_rate == 0.0);
	tfc_rate_snap_free(&prev);
	tfc_rate_snap_free(&cur);
}

static void test_new_entry_counts_from_zero(void **state)
{
	struct tfc_ip_entry b[] = {ip(7, 0, 2, 300, 3)};
	struct tfc_rate_snap prev, cur;

	(void)state;
	/* An empty map read before is a valid baseline: everything is new. */
	assert_int_equal(tfc_rate_snap_ip(&prev, NULL, 0, 1.0), 0);
	assert_int_equal(tfc_rate_snap_ip(&cur, b, 1, 2.0), 0);
	tfc_rates_update(&cur, &prev);
	assert_true(cur.rows[0].has_rate);
	assert_true(cur.rows[0].byte_rate == 300.0);
	assert_true(cur.rows[0].packet_rate == 3.0);
	tfc_rate_snap_free(&prev);
	tfc_rate_snap_free(&cur);
}

static void test_counter_going_down_restarts(void **state)
{
	struct tfc_ip_entry a[] = {ip(1, 0, 2, 9000, 90)};
	struct tfc_ip_entry b[] = {ip(1, 0, 2, 200, 2)};
	struct tfc_rate_snap prev, cur;

	(void)state;
	/* The maps were purged and created again between the reads. */
	assert_int_equal(tfc_rate_snap_ip(&prev, a, 1, 1.0), 0);
	assert_int_equal(tfc_rate_snap_ip(&cur, b, 1, 1.5), 0);
	tfc_rates_update(&cur, &prev);
	assert_true(cur.rows[0].byte_rate == 400.0);
	assert_true(cur.rows[0].packet_rate == 4.0);
	tfc_rate_snap_free(&prev);
	tfc_rate_snap_free(&cur);
}

static void test_same_key_other_direction_or_interface_is_another_row(void **state)
{
	struct tfc_ip_entry a[] = {ip(1, 0, 2, 1000, 1)};
	struct tfc_ip_entry b[] = {ip(1, 1, 2, 1000, 1), ip(1, 0, 3, 1000, 1)};
	struct tfc_rate_snap prev, cur;

	(void)state;
	assert_int_equal(tfc_rate_snap_ip(&prev, a, 1, 1.0), 0);
	assert_int_equal(tfc_rate_snap_ip(&cur, b, 2, 2.0), 0);
	tfc_rates_update(&cur, &prev);
	assert_int_equal(cur.n, 2); /* both rows are new: neither matched a */
	for (size_t i = 0; i < cur.n; i++)
		assert_true(cur.rows[i].byte_rate == 1000.0);
	tfc_rate_snap_free(&prev);
	tfc_rate_snap_free(&cur);
}

/* A prefix row and the address equal to its network address are two rows. */
static void test_prefix_is_another_row(void **state)
{
	struct tfc_ip_entry a[] = {ip(0, 0, 2, 1000, 1), ip(0, 0, 2, 5000, 5)};
	struct tfc_ip_entry b[] = {ip(0, 0, 2, 1100, 2), ip(0, 0, 2, 5500, 6)};
	struct tfc_rate_snap prev, cur;

	(void)state;
	a[1].key.is_prefix = b[1].key.is_prefix = 1;
	a[1].key.prefix_len = b[1].key.prefix_len = 24;
	assert_int_equal(tfc_rate_snap_ip(&prev, a, 2, 1.0), 0);
	assert_int_equal(tfc_rate_snap_ip(&cur, b, 2, 2.0), 0);
	tfc_rates_update(&cur, &prev);
	assert_int_equal(cur.n, 2);
	for (size_t i = 0; i < cur.n; i++)
		assert_true(cur.rows[i].byte_rate ==
			    (cur.rows[i].key.ip.is_prefix ? 500.0 : 100.0));
	tfc_rate_snap_free(&prev);
	tfc_rate_snap_free(&cur);
}

static void test_flow_recreated_by_lru_restarts(void **state)
{
	struct tfc_flow_entry a[] = {flow(5000, 100, 1, 111), flow(5001, 100, 1, 222)};
	/* 5000: evicted and seen again (new first-seen), larger than before. */
	struct tfc_flow_entry b[] = {flow(5000, 150, 2, 999), flow(5001, 400, 4, 222)};
	struct tfc_rate_snap prev, cur;

	(void)state;
	assert_int_equal(tfc_rate_snap_flow(&prev, a, 2, 1.0), 0);
	assert_int_equal(tfc_rate_snap_flow(&cur, b, 2, 2.0), 0);
	tfc_rates_update(&cur, &prev);
	assert_int_equal(cur.rows[0].key.flow.sport, 5000); /* sorted by key */
	assert_true(cur.rows[0].byte_rate == 150.0);
	assert_true(cur.rows[1].byte_rate == 300.0);
	tfc_rate_snap_free(&prev);
	tfc_rate_snap_free(&cur);
}

static void test_no_time_between_reads_no_rate(void **state)
{
	struct tfc_ip_entry a[] = {ip(1, 0, 2, 1000, 1)};
	struct tfc_rate_snap prev, cur;

	(void)state;
	assert_int_equal(tfc_rate_snap_ip(&prev, a, 1, 3.0), 0);
	assert_int_equal(tfc_rate_snap_ip(&cur, a, 1, 3.0), 0);
	tfc_rates_update(&cur, &prev);
	assert_false(cur.rows[0].has_rate);
	tfc_rate_snap_free(&prev);
	tfc_rate_snap_free(&cur);
}

/* ---- order ------------------------------------------------------------- */

static struct tfc_rate_row rated(__u8 last, double rate, __u64 bytes)
{
	struct tfc_rate_row r;
	struct tfc_ip_entry e = ip(last, 0, 2, bytes, 1);

	memset(&r, 0, sizeof(r));
	r.key.ip = e.key;
	r.bytes = bytes;
	r.packets = 1;
	r.byte_rate = rate;
	r.has_rate = 1;
	return r;
}

static void test_sort_by_rate_then_total(void **state)
{
	struct tfc_rate_row r[] = {rated(1, 10, 900), rated(2, 50, 100), rated(3, 10, 5000),
				   rated(4, 0, 1)};

	(void)state;
	r[3].has_rate = 0; /* no rate yet: after every row with one */
	tfc_rates_sort(r, 4, TFC_VIEW_IP, TFC_RSORT_RATE);
	assert_int_equal(r[0].key.ip.addr[3], 2);
	assert_int_equal(r[1].key.ip.addr[3], 3); /* same rate: larger total first */
	assert_int_equal(r[2].key.ip.addr[3], 1);
	assert_int_equal(r[3].key.ip.addr[3], 4);
	tfc_rates_sort(r, 4, TFC_VIEW_IP, TFC_RSORT_TOTAL);
	assert_int_equal(r[0].key.ip.addr[3], 3);
	assert_int_equal(r[1].key.ip.addr[3], 1);
	assert_int_equal(r[2].key.ip.addr[3], 2);
	assert_int_equal(r[3].key.ip.addr[3], 4);
}

static void test_sort_ties_by_address(void **state)
{
	struct tfc_rate_row r[] = {rated(9, 5, 5), rated(3, 5, 5), rated(6, 5, 5)};

	(void)state;
	tfc_rates_sort(r, 3, TFC_VIEW_IP, TFC_RSORT_RATE);
	assert_int_equal(r[0].key.ip.addr[3], 3);
	assert_int_equal(r[1].key.ip.addr[3], 6);
	assert_int_equal(r[2].key.ip.addr[3], 9);
}

static void test_sort_names(void **state)
{
	(void)state;
	assert_int_equal(tfc_rate_sort_parse("rate"), TFC_RSORT_RATE);
	assert_int_equal(tfc_rate_sort_parse("total"), TFC_RSORT_TOTAL);
	assert_int_equal(tfc_rate_sort_parse("bytes"), -EINVAL);
	assert_string_equal(tfc_rate_sort_str(TFC_RSORT_TOTAL), "total");
}

static void test_sum_per_direction(void **state)
{
	struct tfc_rate_row r[] = {rated(1, 10, 100), rated(2, 30, 300), rated(3, 7, 70)};
	struct tfc_rate_sum s[2];

	(void)state;
	r[1].key.ip.direction = TFC_DIR_EGRESS;
	r[2].has_rate = 0;
	tfc_rates_sum(r, 3, TFC_VIEW_IP, s);
	assert_int_equal(s[TFC_DIR_INGRESS].bytes, 170);
	assert_int_equal(s[TFC_DIR_INGRESS].packets, 2);
	assert_true(s[TFC_DIR_INGRESS].byte_rate == 10.0); /* rows without a rate add none */
	assert_int_equal(s[TFC_DIR_EGRESS].bytes, 300);
	assert_true(s[TFC_DIR_EGRESS].byte_rate == 30.0);
}

/* ---- human units and intervals ----------------------------------------- */

static void test_human_units(void **state)
{
	static const struct {
		double v;
		const char *unit, *want;
	} cases[] = {
		{0, "B/s", "0B/s"},	  {0.04, "/s", "0/s"},	      {2.5, "/s", "2.5/s"},
		{9.96, "/s", "10/s"},	  {512, "B/s", "512B/s"},     {999, "", "999"},
		{999.4, "B", "999B"},	  {999.6, "B", "1.00kB"},     {1500, "B/s", "1.50kB/s"},
		{12345, "B", "12.3kB"},	  {99960, "B", "100kB"},      {123456, "", "123k"},
		{9995000, "B", "10.0MB"}, {1.5e9, "B/s", "1.50GB/s"}, {2.0e12, "B", "2.00TB"},
		{3.0e18, "B", "3.00EB"},  {5.0e21, "B", "5000EB"},    {-1, "B", "0B"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tfc_human(cases[i].v, cases[i].unit, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want))
			fail_msg("tfc_human(%g, \"%s\") = \"%s\", expected \"%s\"", cases[i].v,
				 cases[i].unit, buf, cases[i].want);
	}
}

static void test_interval_parse(void **state)
{
	double v = 0;

	(void)state;
	assert_int_equal(tfc_interval_parse("1", &v), 0);
	assert_true(v == 1.0);
	assert_int_equal(tfc_interval_parse("0.25", &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(tfc_interval_parse("0.1", &v), 0);
	assert_int_equal(tfc_interval_parse("3600", &v), 0);
	assert_int_equal(tfc_interval_parse("0.09", &v), -EINVAL);
	assert_int_equal(tfc_interval_parse("3601", &v), -EINVAL);
	assert_int_equal(tfc_interval_parse("", &v), -EINVAL);
	assert_int_equal(tfc_interval_parse("1s", &v), -EINVAL);
	assert_int_equal(tfc_interval_parse("nan", &v), -EINVAL);
	assert_int_equal(tfc_interval_parse("inf", &v), -EINVAL);
	assert_int_equal(tfc_interval_parse("-1", &v), -EINVAL);
	assert_int_equal(tfc_interval_parse(NULL, &v), -EINVAL);
}

/* ---- cgroups ----------------------------------------------------------- */

static struct tfc_cgroup_entry cg(__u64 id, __u8 dir, __u64 bytes, __u64 packets)
{
	struct tfc_cgroup_entry e;

	memset(&e, 0, sizeof(e));
	e.key.cgroup_id = id;
	e.key.direction = dir;
	e.val.bytes = bytes;
	e.val.packets = packets;
	return e;
}

/* Rows keyed by cgroup id and direction: each its own rate, its own sum. */
static void test_cgroup_rates_and_sums(void **state)
{
	struct tfc_cgroup_entry a[] = {cg(7, 0, 100, 1), cg(7, 1, 50, 1), cg(3, 0, 10, 1)};
	struct tfc_cgroup_entry b[] = {cg(3, 0, 10, 1), cg(7, 1, 450, 5), cg(7, 0, 100, 1),
				       cg(9, 1, 20, 2)};
	struct tfc_rate_snap s0, s1;
	struct tfc_rate_sum sum[2];

	(void)state;
	assert_int_equal(tfc_rate_snap_cgroup(&s0, a, 3, 10.0), 0);
	assert_int_equal(tfc_rate_snap_cgroup(&s1, b, 4, 12.0), 0);
	tfc_rates_update(&s1, &s0);
	tfc_rates_sort(s1.rows, s1.n, TFC_VIEW_CGROUP, TFC_RSORT_RATE);
	/* 7 egress grew by 400 B in 2 s; 9 is new (from zero); the rest did not grow. */
	assert_true(s1.rows[0].key.cg.cgroup_id == 7 && s1.rows[0].key.cg.direction == 1);
	assert_true(s1.rows[0].byte_rate == 200.0 && s1.rows[0].packet_rate == 2.0);
	assert_true(s1.rows[1].key.cg.cgroup_id == 9 && s1.rows[1].byte_rate == 10.0);
	/* Equal rates (0): by total, then by id. */
	assert_true(s1.rows[2].key.cg.cgroup_id == 7 && s1.rows[2].key.cg.direction == 0);
	assert_true(s1.rows[3].key.cg.cgroup_id == 3 && s1.rows[3].byte_rate == 0.0);
	tfc_rates_sum(s1.rows, s1.n, TFC_VIEW_CGROUP, sum);
	assert_int_equal(sum[TFC_DIR_INGRESS].bytes, 110);
	assert_int_equal(sum[TFC_DIR_EGRESS].bytes, 470);
	assert_true(sum[TFC_DIR_EGRESS].byte_rate == 210.0);
	tfc_rate_snap_free(&s0);
	tfc_rate_snap_free(&s1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_read_has_no_rate),
		cmocka_unit_test(test_rate_is_growth_over_time),
		cmocka_unit_test(test_new_entry_counts_from_zero),
		cmocka_unit_test(test_counter_going_down_restarts),
		cmocka_unit_test(test_same_key_other_direction_or_interface_is_another_row),
		cmocka_unit_test(test_prefix_is_another_row),
		cmocka_unit_test(test_flow_recreated_by_lru_restarts),
		cmocka_unit_test(test_no_time_between_reads_no_rate),
		cmocka_unit_test(test_sort_by_rate_then_total),
		cmocka_unit_test(test_sort_ties_by_address),
		cmocka_unit_test(test_sort_names),
		cmocka_unit_test(test_sum_per_direction),
		cmocka_unit_test(test_cgroup_rates_and_sums),
		cmocka_unit_test(test_human_units),
		cmocka_unit_test(test_interval_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
