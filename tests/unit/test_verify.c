// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * verify's arithmetic (traffic-counter/verify/verify.h): the agent's sum, the
 * interface side per direction, the bounds from two snapshots, the
 * tolerance, the device conventions, the verdict; and its exit codes
 * before any map is read.
 */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "commands.h"
#include "verify/verify.h"

/* ---- building snapshots -------------------------------------------------- */

/* One direction (index 0): agent's totals and the interface around them. */
struct reading {
	__u64 agent_p, agent_b;
	__u64 before_p, before_b, after_p, after_b, dropped;
};

static struct verify_snapshot snap(struct reading r)
{
	struct verify_snapshot s;

	memset(&s, 0, sizeof(s));
	s.agent[0].packets = r.agent_p;
	s.agent[0].bytes = r.agent_b;
	s.before[0] = (struct verify_if_side){r.before_p, r.before_b, r.dropped};
	s.after[0] = (struct verify_if_side){r.after_p, r.after_b, r.dropped};
	return s;
}

/*
 * From an all-zero snapshot to one where the agent counted (p, b) and the
 * interface (ip, ib) with no traffic during the reads: lo == hi.
 */
static struct verify_verdict judge_flat(__u64 p, __u64 b, __u64 ip, __u64 ib, __u32 tol)
{
	struct verify_snapshot s0 = snap((struct reading){0});
	struct verify_snapshot s1 = snap((struct reading){p, b, ip, ib, ip, ib, 0});

	return verify_judge(&s0, &s1, 0, tol);
}

/* 100-byte frames: far from the 14-bytes-a-packet convention in byte tests. */
#define F 100

/* ---- bounds ---------------------------------------------------------- */

static void test_equal_counts_are_ok(void **state)
{
	struct verify_verdict v = judge_flat(10, 10 * F, 10, 10 * F, 0);

	(void)state;
	assert_true(v.ok);
	assert_int_equal(v.agent_p, 10);
	assert_int_equal(v.agent_b, 10 * F);
	assert_int_equal(v.lo_p, 10);
	assert_int_equal(v.hi_p, 10);
	assert_false(v.no_l2);
	assert_false(v.by_drops);
	assert_string_equal(verify_note(&v), "");
}

static void test_no_traffic_on_either_side_is_ok(void **state)
{
	struct verify_verdict v = judge_flat(0, 0, 0, 0, 0);

	(void)state;
	assert_true(v.ok);
	assert_int_equal(v.agent_p, 0);
	assert_int_equal(v.hi_p, 0);
	assert_string_equal(verify_note(&v), "");
}

static void test_interface_more_than_agent_is_a_mismatch(void **state)
{
	/* The agent missed 3 frames the interface counted (a program before ours dropped them). */
	struct verify_verdict v = judge_flat(7, 7 * F, 10, 10 * F, 0);

	(void)state;
	assert_false(v.ok);
	assert_int_equal(v.agent_p, 7);
	assert_int_equal(v.lo_p, 10);
	assert_string_equal(verify_note(&v), "");
}

static void test_agent_more_than_interface_is_a_mismatch_with_the_gso_note(void **state)
{
	struct verify_verdict v = judge_flat(12, 12 * F, 10, 10 * F, 0);

	(void)state;
	assert_false(v.ok);
	assert_non_null(strstr(verify_note(&v), "more packets than the interface"));
}

static void test_traffic_during_the_reads_needs_no_tolerance(void **state)
{
	/* Interface 100 -> 103 around the first agent read, 200 -> 205 around the second. */
	struct verify_snapshot s0 = snap((struct reading){0, 0, 100, 100 * F, 103, 103 * F, 0});
	struct verify_snapshot s1 = snap((struct reading){0, 0, 200, 200 * F, 205, 205 * F, 0});
	struct verify_verdict v;

	(void)state;
	v = verify_deltas(&s0, &s1, 0);
	assert_int_equal(v.lo_p, 97);
	assert_int_equal(v.hi_p, 105);
	assert_int_equal(v.lo_b, 97 * F);
	assert_int_equal(v.hi_b, 105 * F);
	for (__u64 p = 96; p <= 106; p++) {
		s1.agent[0].packets = p;
		s1.agent[0].bytes = p * F;
		v = verify_judge(&s0, &s1, 0, 0);
		assert_int_equal(v.ok, p >= 97 && p <= 105);
	}
}

/* ---- tolerance -------------------------------------------------------- */

static void test_tolerance_boundary_when_the_agent_missed_frames(void **state)
{
	(void)state;
	/* 3 missing: tolerance 3 accepts, 2 does not. */
	assert_true(judge_flat(7, 7 * F, 10, 10 * F, 3).ok);
	assert_false(judge_flat(7, 7 * F, 10, 10 * F, 2).ok);
	assert_true(judge_flat(7, 7 * F, 10, 10 * F, UINT32_MAX).ok);
}

static void test_tolerance_boundary_when_the_agent_counted_more(void **state)
{
	(void)state;
	assert_true(judge_flat(13, 13 * F, 10, 10 * F, 3).ok);
	assert_false(judge_flat(13, 13 * F, 10, 10 * F, 2).ok);
}

static void test_tolerance_widens_bytes_by_the_largest_frame_per_packet(void **state)
{
	struct verify_verdict v;

	(void)state;
	/* Same packets, bytes off by exactly one largest frame: tolerance 1 covers it. */
	assert_true(judge_flat(10, 10 * F + VERIFY_MAX_FRAME, 10, 10 * F, 1).ok);
	/*
	 * One byte more is within the tolerance only once the interface is
	 * taken to count without the Ethernet header (14 bytes a packet):
	 * said so. 14 bytes a packet further, nothing explains it.
	 */
	v = judge_flat(10, 10 * F + VERIFY_MAX_FRAME + 1, 10, 10 * F, 1);
	assert_true(v.ok);
	assert_true(v.no_l2);
	assert_false(judge_flat(10, 10 * F + VERIFY_MAX_FRAME + 1 + 10 * 14, 10, 10 * F, 1).ok);
	assert_false(judge_flat(10, 10 * F + 1, 10, 10 * F, 0).ok);
	/* Below as well. */
	assert_true(judge_flat(10, 1000000, 10, 1000000 + VERIFY_MAX_FRAME, 1).ok);
	assert_false(judge_flat(10, 1000000, 10, 1000000 + VERIFY_MAX_FRAME + 1, 1).ok);
}

static void test_within(void **state)
{
	(void)state;
	assert_true(verify_within(5, 5, 5, 0));
	assert_false(verify_within(4, 5, 5, 0));
	assert_false(verify_within(6, 5, 5, 0));
	assert_true(verify_within(3, 5, 8, 2));
	assert_false(verify_within(2, 5, 8, 2));
	assert_true(verify_within(10, 5, 8, 2));
	assert_false(verify_within(11, 5, 8, 2));
	assert_true(verify_within(0, 0, 0, 0));
}

/* ---- device conventions --------------------------------------------- */

static void test_bytes_without_the_ethernet_header_are_accepted_and_said(void **state)
{
	/* veth with native XDP: rx bytes are 14 a packet short of the frames. */
	struct verify_verdict v = judge_flat(10, 10 * F, 10, 10 * (F - 14), 0);

	(void)state;
	assert_true(v.ok);
	assert_true(v.no_l2);
	assert_string_equal(verify_note(&v),
			    "the interface counts bytes without the Ethernet header");
	/* 13 a packet short is no known convention. */
	v = judge_flat(10, 10 * F, 10, 10 * (F - 13), 0);
	assert_false(v.ok);
	assert_false(v.no_l2);
}

static void test_egress_drops_after_the_hook_are_accepted_and_said(void **state)
{
	/* The hook saw 12, the device sent 10 and dropped 2. */
	struct verify_snapshot s0 = snap((struct reading){0});
	struct verify_snapshot s1 = snap((struct reading){12, 12 * F, 10, 10 * F, 10, 10 * F, 2});
	struct verify_verdict v;

	(void)state;
	v = verify_judge(&s0, &s1, 0, 0);
	assert_true(v.ok);
	assert_true(v.by_drops);
	assert_int_equal(v.dropped, 2);
	assert_string_equal(verify_note(&v),
			    "includes packets the device dropped after the hook saw them");
	/* One drop does not explain two extra packets. */
	s1.after[0].dropped = s1.before[0].dropped = 1;
	v = verify_judge(&s0, &s1, 0, 0);
	assert_false(v.ok);
	assert_false(v.by_drops);
	/* ...unless the tolerance covers the other one. */
	v = verify_judge(&s0, &s1, 0, 1);
	assert_true(v.ok);
	assert_true(v.by_drops);
}

/* ---- counters -------------------------------------------------------- */

static void test_growth_across_a_64_bit_wrap(void **state)
{
	struct verify_snapshot s0 =
		snap((struct reading){UINT64_MAX - 1, UINT64_MAX - 99, UINT64_MAX - 2,
				      UINT64_MAX - 199, UINT64_MAX - 2, UINT64_MAX - 199, 0});
	/* 5 packets of 100 bytes later on both sides. */
	struct verify_snapshot s1 = snap((struct reading){3, 400, 2, 300, 2, 300, 0});
	struct verify_verdict v;

	(void)state;
	v = verify_judge(&s0, &s1, 0, 0);
	assert_int_equal(v.agent_p, 5);
	assert_int_equal(v.agent_b, 500);
	assert_int_equal(v.lo_p, 5);
	assert_int_equal(v.hi_b, 500);
	assert_true(v.ok);
}

static void test_second_direction_uses_its_own_counters(void **state)
{
	struct verify_snapshot s0 = snap((struct reading){0});
	struct verify_snapshot s1 = snap((struct reading){4, 4 * F, 4, 4 * F, 4, 4 * F, 0});
	struct verify_verdict v;

	(void)state;
	s1.agent[1] = (struct counters){.bytes = 9 * F, .packets = 9};
	s1.before[1] = s1.after[1] = (struct verify_if_side){6, 6 * F, 0};
	assert_true(verify_judge(&s0, &s1, 0, 0).ok);
	v = verify_judge(&s0, &s1, 1, 0);
	assert_false(v.ok);
	assert_int_equal(v.agent_p, 9);
	assert_int_equal(v.hi_p, 6);
}

static void test_interface_side_per_direction(void **state)
{
	struct tfc_if_stats st = {.rx_packets = 1,
				  .rx_bytes = 2,
				  .tx_packets = 3,
				  .tx_bytes = 4,
				  .rx_dropped = 5,
				  .tx_dropped = 6};
	struct verify_if_side in, out;

	(void)state;
	verify_if_side(&st, TFC_DIR_INGRESS, &in);
	verify_if_side(&st, TFC_DIR_EGRESS, &out);
	assert_int_equal(in.packets, 1);
	assert_int_equal(in.bytes, 2);
	/* rx_dropped are frames the device dropped before any hook: not ours to allow. */
	assert_int_equal(in.dropped, 0);
	assert_int_equal(out.packets, 3);
	assert_int_equal(out.bytes, 4);
	assert_int_equal(out.dropped, 6);
}

static struct tfc_ip_entry ip_entry(__u32 ifindex, __u8 dir, __u8 last, __u64 p, __u64 b)
{
	struct tfc_ip_entry e;

	memset(&e, 0, sizeof(e));
	e.key.ifindex = ifindex;
	e.key.family = 4;
	e.key.direction = dir;
	e.key.addr[0] = 198;
	e.key.addr[1] = 18;
	e.key.addr[3] = last;
	e.val.packets = p;
	e.val.bytes = b;
	return e;
}

static struct tfc_stat_entry stat_entry(__u32 ifindex, __u8 dir, __u8 reason, __u64 p, __u64 b)
{
	struct tfc_stat_entry e;

	memset(&e, 0, sizeof(e));
	e.key.ifindex = ifindex;
	e.key.direction = dir;
	e.key.reason = reason;
	e.val.packets = p;
	e.val.bytes = b;
	return e;
}

static void test_agent_sum_is_addresses_plus_exclusive_statistics(void **state)
{
	const struct tfc_ip_entry ip[] = {
		ip_entry(3, TFC_DIR_INGRESS, 1, 10, 1000), ip_entry(3, TFC_DIR_INGRESS, 2, 5, 500),
		ip_entry(3, TFC_DIR_EGRESS, 1, 100, 10000),    /* other direction */
		ip_entry(4, TFC_DIR_INGRESS, 1, 1000, 100000), /* other interface */
	};
	const struct tfc_stat_entry st[] = {
		stat_entry(3, TFC_DIR_INGRESS, TFC_STAT_IP_MAP_FULL, 7, 700),
		stat_entry(3, TFC_DIR_INGRESS, TFC_STAT_NON_IP, 2, 120),
		stat_entry(3, TFC_DIR_INGRESS, TFC_STAT_IPV6_BAD_VERSION, 1, 60),
		/* A remark: that frame is in the IP map already. */
		stat_entry(3, TFC_DIR_INGRESS, TFC_STAT_L4_TRUNCATED, 3, 300),
		stat_entry(3, TFC_DIR_EGRESS, TFC_STAT_IP_MAP_FULL, 50, 5000),
		stat_entry(4, TFC_DIR_INGRESS, TFC_STAT_NON_IP, 60, 6000),
	};
	struct counters c;

	(void)state;
	verify_agent_sum(ip, 4, st, 6, 3, TFC_DIR_INGRESS, &c);
	assert_int_equal(c.packets, 10 + 5 + 7 + 2 + 1);
	assert_int_equal(c.bytes, 1000 + 500 + 700 + 120 + 60);
	verify_agent_sum(ip, 4, st, 6, 3, TFC_DIR_EGRESS, &c);
	assert_int_equal(c.packets, 150);
	assert_int_equal(c.bytes, 15000);
	verify_agent_sum(ip, 4, st, 6, 9, TFC_DIR_INGRESS, &c);
	assert_int_equal(c.packets, 0);
	assert_int_equal(c.bytes, 0);
	verify_agent_sum(NULL, 0, NULL, 0, 3, TFC_DIR_INGRESS, &c);
	assert_int_equal(c.packets, 0);
}

/* ---- directions ----------------------------------------------------- */

static struct tfc_attachment att(enum tfc_attach_point ap, int ifindex, int other_netns)
{
	struct tfc_attachment a;

	memset(&a, 0, sizeof(a));
	a.ap = ap;
	a.ifindex = ifindex;
	a.other_netns = other_netns;
	return a;
}

static void test_directions_from_the_attachments(void **state)
{
	struct tfc_attachment l[4];
	int dirs[2] = {-1, -1};

	(void)state;
	assert_int_equal(verify_attached_directions(NULL, 0, 3, dirs), 0);

	l[0] = att(TFC_AP_XDP, 3, 0);
	assert_int_equal(verify_attached_directions(l, 1, 3, dirs), 1);
	assert_int_equal(dirs[0], TFC_DIR_INGRESS);

	l[0] = att(TFC_AP_TC_EGRESS, 3, 0);
	assert_int_equal(verify_attached_directions(l, 1, 3, dirs), 1);
	assert_int_equal(dirs[0], TFC_DIR_EGRESS);

	/* Ingress first, whatever the order; XDP and tc-ingress are one direction. */
	l[0] = att(TFC_AP_TC_EGRESS, 3, 0);
	l[1] = att(TFC_AP_TC_INGRESS, 3, 0);
	l[2] = att(TFC_AP_XDP, 3, 0);
	assert_int_equal(verify_attached_directions(l, 3, 3, dirs), 2);
	assert_int_equal(dirs[0], TFC_DIR_INGRESS);
	assert_int_equal(dirs[1], TFC_DIR_EGRESS);

	/* Another interface, or the same ifindex in another namespace: not this one. */
	l[0] = att(TFC_AP_TC_EGRESS, 4, 0);
	l[1] = att(TFC_AP_XDP, 3, 1);
	assert_int_equal(verify_attached_directions(l, 2, 3, dirs), 0);
}

/* ---- verdict and exit codes ------------------------------------------ */

static void test_all_ok_needs_every_direction(void **state)
{
	struct verify_verdict v[2];

	(void)state;
	memset(v, 0, sizeof(v));
	v[0].ok = 1;
	assert_true(verify_all_ok(v, 1));
	assert_false(verify_all_ok(v, 2));
	v[1].ok = 1;
	assert_true(verify_all_ok(v, 2));
	v[0].ok = 0;
	assert_false(verify_all_ok(v, 2));
}

static int run_verify(const char *const *words, size_t n, const char **err_text)
{
	static struct unit_capture out, err;
	struct unit_args a;
	int rc;

	unit_args_build(&a, words, n);
	unit_capture_start(&out, stdout);
	unit_capture_start(&err, stderr);
	rc = cmd_verify(a.argc, a.argv);
	*err_text = unit_capture_end(&err);
	unit_capture_end(&out);
	return rc;
}

#define RUN_VERIFY(e, ...) run_verify(UNIT_WORDS(__VA_ARGS__), UNIT_NWORDS(__VA_ARGS__), e)

static void test_usage_errors_exit_2(void **state)
{
	const char *e;

	(void)state;
	assert_int_equal(RUN_VERIFY(&e, "verify"), TFC_EXIT_USAGE);
	assert_non_null(strstr(e, "--iface"));
	assert_int_equal(RUN_VERIFY(&e, "verify", "--iface", "lo", "--tolerance", "-1"),
			 TFC_EXIT_USAGE);
	assert_non_null(strstr(e, "tolerance"));
	assert_int_equal(RUN_VERIFY(&e, "verify", "--iface", "lo", "--direction", "both"),
			 TFC_EXIT_USAGE);
	assert_non_null(strstr(e, "direction"));
	assert_int_equal(RUN_VERIFY(&e, "verify", "--iface", "lo", "--interval", "0.05"),
			 TFC_EXIT_USAGE);
	assert_non_null(strstr(e, "interval"));
}

static void test_unknown_interface_exits_1(void **state)
{
	const char *e;

	(void)state;
	assert_int_equal(RUN_VERIFY(&e, "verify", "--iface", "tcnosuch0", "--pin-dir",
				    "/nonexistent/tc-unit"),
			 TFC_EXIT_FAIL);
	assert_non_null(strstr(e, "tcnosuch0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_counts_are_ok),
		cmocka_unit_test(test_no_traffic_on_either_side_is_ok),
		cmocka_unit_test(test_interface_more_than_agent_is_a_mismatch),
		cmocka_unit_test(test_agent_more_than_interface_is_a_mismatch_with_the_gso_note),
		cmocka_unit_test(test_traffic_during_the_reads_needs_no_tolerance),
		cmocka_unit_test(test_tolerance_boundary_when_the_agent_missed_frames),
		cmocka_unit_test(test_tolerance_boundary_when_the_agent_counted_more),
		cmocka_unit_test(test_tolerance_widens_bytes_by_the_largest_frame_per_packet),
		cmocka_unit_test(test_within),
		cmocka_unit_test(test_bytes_without_the_ethernet_header_are_accepted_and_said),
		cmocka_unit_test(test_egress_drops_after_the_hook_are_accepted_and_said),
		cmocka_unit_test(test_growth_across_a_64_bit_wrap),
		cmocka_unit_test(test_second_direction_uses_its_own_counters),
		cmocka_unit_test(test_interface_side_per_direction),
		cmocka_unit_test(test_agent_sum_is_addresses_plus_exclusive_statistics),
		cmocka_unit_test(test_directions_from_the_attachments),
		cmocka_unit_test(test_all_ok_needs_every_direction),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_unknown_interface_exits_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
