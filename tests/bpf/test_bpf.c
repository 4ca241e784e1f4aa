// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF tests for traffic-counter: every frame case of cases.c through the four
 * programs (flow counting off and on), then the behaviours one frame cannot
 * show: runts refused by BPF_PROG_TEST_RUN, a full IP map, --count-by, and
 * frames larger than a page. Needs root; skips when BPF is not available.
 * Cases whose IP header is cut too short for the kernel's skb test run run
 * at XDP here and at tc in tests/e2e/short_frames.bats, over a veth.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "cases.h"
#include "prefix.h"
#include "cgroup_tests.h"

static struct harness *g_h; /* shared by the frame cases: reset before each run */
static char g_skip[320];    /* non-empty: BPF cannot run here, skip everything */
static char g_err[256];	    /* why the shared harness failed to load */

/* Skips when BPF is unavailable, fails (never skips) when the load failed. */
static struct harness *open_harness(uint32_t ip_max_entries, uint8_t count_by)
{
	char err[256];
	struct harness *h;

	if (g_skip[0])
		skip();
	h = harness_open(ip_max_entries, count_by, err, sizeof(err));
	if (!h)
		fail_msg("cannot load the BPF object: %s", err);
	return h;
}

/* Runs c through programs [first, last] with flows off and on; false if any failed. */
static bool run_progs(struct harness *h, const struct frame_case *c, uint8_t count_by,
		      enum prog_id first, enum prog_id last)
{
	int failed = 0;

	for (int prog = first; prog <= (int)last; prog++) {
		for (int flows = 0; flows <= 1; flows++) {
			char msg[512];

			if (check_frame(h, c, prog, flows, count_by, msg, sizeof(msg)))
				continue;
			print_error("FAIL %s [%s, flows %s]: %s\n", c->name, prog_infos[prog].name,
				    flows ? "on" : "off", msg);
			failed++;
		}
	}
	return failed == 0;
}

/* Runs c through every program with flows off and on; false if any failed. */
static bool run_all_progs(struct harness *h, const struct frame_case *c, uint8_t count_by)
{
	return run_progs(h, c, count_by, 0, PROG_COUNT - 1);
}

/*
 * One table case, run through programs [first, last]: all four, or only the
 * XDP ones for a frame the kernel's skb test run refuses at tc (tc_refused).
 */
struct case_test {
	const struct frame_case *c;
	enum prog_id first, last;
};

static void test_frame_case(void **state)
{
	const struct case_test *t = *state;

	if (g_skip[0])
		skip();
	if (!g_h)
		fail_msg("cannot load the BPF object: %s", g_err);
	if (!run_progs(g_h, t->c, TFC_COUNT_BY_DEFAULT, t->first, t->last))
		fail_msg("%s: see the FAIL lines above", t->c->name);
}

/* -EINVAL from the skb test run at both tc hooks: the kernel refuses c there. */
static bool kernel_refuses_tc(const struct frame_case *c)
{
	int ret;

	return harness_run(g_h, PROG_TC_INGRESS, c->pkt.data, c->pkt.len, &ret) == -EINVAL &&
	       harness_run(g_h, PROG_TC_EGRESS, c->pkt.data, c->pkt.len, &ret) == -EINVAL;
}

/*
 * True when c is left to short_frames.bats at tc: the frames tc_refused lists
 * (skb_test_run_refuses) that this kernel really refuses. One it accepts runs
 * at tc here as well; one it refuses that the predicate misses fails at tc
 * here (test_tc_refused_listed says which), so none goes untested.
 */
static bool tc_refused(const struct frame_case *c)
{
	if (!skb_test_run_refuses(&c->pkt))
		return false;
	return !g_h || kernel_refuses_tc(c);
}

/* The cmocka tests of the table, one a case; returns how many are XDP only. */
static size_t case_tests(const struct frame_case *cases, int n, struct case_test *out)
{
	size_t refused = 0;

	for (int i = 0; i < n; i++) {
		bool xdp_only = tc_refused(&cases[i]);

		out[i] = (struct case_test){.c = &cases[i],
					    .first = 0,
					    .last = xdp_only ? PROG_XDP_LEGACY : PROG_COUNT - 1};
		refused += xdp_only;
	}
	return refused;
}

static const struct frame_case *g_cases; /* the table, for test_tc_refused_listed */
static int g_ncases;

/*
 * Every frame the kernel's skb test run refuses at tc is one tc_refused
 * lists, so short_frames.bats runs it at tc: the predicate and the kernel
 * agree on this kernel.
 */
static void test_tc_refused_listed(void **state)
{
	int missed = 0, refused = 0;

	(void)state;
	if (g_skip[0])
		skip();
	if (!g_h)
		fail_msg("cannot load the BPF object: %s", g_err);
	for (int i = 0; i < g_ncases; i++) {
		bool listed = skb_test_run_refuses(&g_cases[i].pkt);

		if (!kernel_refuses_tc(&g_cases[i]))
			continue;
		refused++;
		if (listed)
			continue;
		print_error("FAIL %s: the skb test run refuses it at tc, but tc_refused does not "
			    "list it for short_frames.bats\n",
			    g_cases[i].name);
		missed++;
	}
	print_message("test_tc_refused_listed: %d cases refused at tc, all listed\n", refused);
	assert_int_equal(missed, 0);
}

/* IPv4/UDP from 192.0.2.<host> to 198.51.100.<host>, `pad` payload bytes. */
static void udp4_frame(struct frame_case *c, uint8_t host, size_t pad)
{
	uint8_t src[4] = {192, 0, 2, host}, dst[4] = {198, 51, 100, host};

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "udp4_host_%u_pad_%zu", host, pad);
	pkt_init(&c->pkt);
	pkt_eth(&c->pkt, ETHERTYPE_IPV4);
	pkt_ipv4(&c->pkt, IPPROTO_UDP, 5, src, dst);
	pkt_udp(&c->pkt, 5000, 6000);
	pkt_payload(&c->pkt, pad);
	pkt_finish(&c->pkt);
	c->want = (struct expect){.counted = true,
				  .note = NOTE_NONE,
				  .family = 4,
				  .proto = IPPROTO_UDP,
				  .sport = 5000,
				  .dport = 6000};
	memcpy(c->want.src, src, 4);
	memcpy(c->want.dst, dst, 4);
}

static void tcp6_frame(struct frame_case *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "tcp6");
	pkt_init(&c->pkt);
	pkt_eth(&c->pkt, ETHERTYPE_IPV6);
	pkt_ipv6(&c->pkt, IPPROTO_TCP, pkt_src6, pkt_dst6);
	pkt_tcp(&c->pkt, 1234, 80, TCPF_SYN);
	pkt_finish(&c->pkt);
	c->want = (struct expect){.counted = true,
				  .note = NOTE_NONE,
				  .family = 6,
				  .proto = IPPROTO_TCP,
				  .tcp_flags = TCPF_SYN,
				  .sport = 1234,
				  .dport = 80};
	memcpy(c->want.src, pkt_src6, 16);
	memcpy(c->want.dst, pkt_dst6, 16);
}

/* BPF_PROG_TEST_RUN refuses frames shorter than ETH_HLEN: an error, no count. */
static void test_runt_frames(void **state)
{
	static const size_t lens[] = {0, 1, 13};
	static const uint8_t frame[14] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08};
	struct harness *h = open_harness(0, TFC_COUNT_BY_DEFAULT);
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int prog = 0; prog < PROG_COUNT; prog++) {
			char msg[256] = "";
			int ret = 0, rc;

			assert_int_equal(harness_reset(h, TFC_FLAG_FLOW_COUNTERS), 0);
			rc = harness_run(h, prog, frame, lens[i], &ret);
			if (rc < 0 && check_untouched(h, prog_infos[prog].direction,
						      TFC_FLAG_FLOW_COUNTERS, msg, sizeof(msg)))
				continue;
			print_error(
				"FAIL runt_%zu [%s]: expected an error and no count, got %s %s\n",
				lens[i], prog_infos[prog].name, rc < 0 ? strerror(-rc) : "success",
				msg);
			failed++;
		}
	}
	harness_close(h);
	assert_int_equal(failed, 0);
}

#define FULL_MAP   4
#define FULL_SENDS 6

/* Checks the map after FULL_SENDS frames into a FULL_MAP-entry IP map. */
static bool map_full_state(struct harness *h, enum prog_id prog, const struct frame_case *f,
			   uint64_t first_packets, char *msg, size_t len)
{
	bool by_src = prog_infos[prog].direction == TFC_DIR_INGRESS;
	struct tfc_ip_entry e[HARNESS_MAX_ENTRIES];
	int n = harness_ip_entries(h, e, HARNESS_MAX_ENTRIES);
	uint64_t drop_bytes = f[FULL_MAP].pkt.len + f[FULL_MAP + 1].pkt.len;
	struct stat_want full = {TFC_STAT_IP_MAP_FULL, FULL_SENDS - FULL_MAP, drop_bytes};
	struct tfc_control ctl;

	/* Each dropped frame is in dropped_* and in ip_map_full, in no other statistic. */
	if (!check_stats_exact(h, prog_infos[prog].direction, &full, 1, msg, len))
		return false;
	if (n != FULL_MAP)
		return snprintf(msg, len, "expected %d IP entries, got %d", FULL_MAP, n), false;
	if (harness_control(h, &ctl) || ctl.dropped_packets != FULL_SENDS - FULL_MAP ||
	    ctl.dropped_bytes != drop_bytes)
		return snprintf(msg, len, "expected dropped %d pkt/%llu B, got %llu/%llu",
				FULL_SENDS - FULL_MAP, (unsigned long long)drop_bytes,
				(unsigned long long)ctl.dropped_packets,
				(unsigned long long)ctl.dropped_bytes),
		       false;
	/* The first FULL_MAP frames got the entries, each with its own length. */
	for (int i = 0; i < n; i++) {
		int host = e[i].key.addr[3] - 10; /* .10 + i in both src and dst */
		uint64_t pk = host == 0 ? first_packets : 1;

		if (host < 0 || host >= FULL_MAP || e[i].val.packets != pk ||
		    e[i].val.bytes != pk * f[host].pkt.len || e[i].key.family != 4 ||
		    e[i].key.direction != prog_infos[prog].direction ||
		    e[i].key.ifindex != harness_ifindex() ||
		    memcmp(e[i].key.addr, by_src ? f[host].want.src : f[host].want.dst, 4))
			return snprintf(msg, len, "unexpected entry .%u: %llu pkt/%llu B",
					e[i].key.addr[3], (unsigned long long)e[i].val.packets,
					(unsigned long long)e[i].val.bytes),
			       false;
	}
	return true;
}

static bool map_full_prog(struct harness *h, enum prog_id prog, const struct frame_case *f,
			  char *msg, size_t len)
{
	int ret;

	if (harness_reset(h, 0))
		return snprintf(msg, len, "reset failed"), false;
	for (int i = 0; i < FULL_SENDS; i++) {
		if (harness_run(h, prog, f[i].pkt.data, f[i].pkt.len, &ret) ||
		    ret != prog_infos[prog].retval)
			return snprintf(msg, len, "frame %d: run failed or verdict %d", i, ret),
			       false;
	}
	if (!map_full_state(h, prog, f, 1, msg, len))
		return false;
	/* A full map still counts into the entries it has. */
	if (harness_run(h, prog, f[0].pkt.data, f[0].pkt.len, &ret))
		return snprintf(msg, len, "re-run failed"), false;
	return map_full_state(h, prog, f, 2, msg, len);
}

/* counting.md C9: IP map full, the packet still passes and dropped_* count it exactly. */
static void test_ip_map_full(void **state)
{
	struct frame_case *f = calloc(FULL_SENDS, sizeof(*f));
	struct harness *h;
	int failed = 0;

	(void)state;
	assert_non_null(f);
	h = open_harness(FULL_MAP, TFC_COUNT_BY_DEFAULT);
	for (int i = 0; i < FULL_SENDS; i++)
		udp4_frame(&f[i], (uint8_t)(10 + i), (size_t)(7 * i));
	for (int prog = 0; prog < PROG_COUNT; prog++) {
		char msg[256];

		if (map_full_prog(h, prog, f, msg, sizeof(msg)))
			continue;
		print_error("FAIL ip_map_full [%s]: %s\n", prog_infos[prog].name, msg);
		failed++;
	}
	harness_close(h);
	free(f);
	assert_int_equal(failed, 0);
}

/* --count-by overrides the address picked per direction, at every hook. */
static void count_by(uint8_t by)
{
	struct frame_case *f = calloc(2, sizeof(*f));
	struct harness *h;
	bool ok;

	assert_non_null(f);
	h = open_harness(0, by);
	udp4_frame(&f[0], 10, 20);
	tcp6_frame(&f[1]);
	snprintf(f[0].name, sizeof(f[0].name), "count_by_%s_udp4",
		 by == TFC_COUNT_BY_SRC ? "src" : "dst");
	snprintf(f[1].name, sizeof(f[1].name), "count_by_%s_tcp6",
		 by == TFC_COUNT_BY_SRC ? "src" : "dst");
	ok = run_all_progs(h, &f[0], by);
	ok = run_all_progs(h, &f[1], by) && ok;
	harness_close(h);
	free(f);
	assert_true(ok);
}

static void test_count_by_src(void **state)
{
	(void)state;
	count_by(TFC_COUNT_BY_SRC);
}

static void test_count_by_dst(void **state)
{
	(void)state;
	count_by(TFC_COUNT_BY_DST);
}

#define JUMBO_LEN 9000

/* Checks a UDP frame of `len` bytes through prog, flows off and on. */
static bool big_frame(struct harness *h, enum prog_id prog, size_t len)
{
	struct frame_case *f = malloc(sizeof(*f));
	bool ok = true;

	assert_non_null(f);
	udp4_frame(f, 10, len - 14 - 20 - 8);
	snprintf(f->name, sizeof(f->name), "frame_%zu_bytes", len);
	for (int flows = 0; flows <= 1; flows++) {
		char msg[512];

		if (check_frame(h, f, prog, flows, TFC_COUNT_BY_DEFAULT, msg, sizeof(msg)))
			continue;
		print_error("FAIL %s [%s, flows %s]: %s\n", f->name, prog_infos[prog].name,
			    flows ? "on" : "off", msg);
		ok = false;
	}
	free(f);
	return ok;
}

/* counting.md C4: a multi-buffer frame is counted at its full length, not the first page's. */
static void test_jumbo_xdp_frags(void **state)
{
	struct harness *h = open_harness(0, TFC_COUNT_BY_DEFAULT);
	bool ok = big_frame(h, PROG_XDP, JUMBO_LEN);

	(void)state;
	harness_close(h);
	assert_true(ok);
}

/*
 * The skb test run builds linear skbs of at most about a page; a kernel that
 * refuses the jumbo frame cannot show the tc side of it, so that is a skip
 * (test_large_linear_tc still checks tc past its 256-byte parse window).
 */
/* The largest frame the skb test run accepts, found by bisection. */
static size_t largest_skb_frame(struct harness *h)
{
	static uint8_t frame[8192];
	size_t lo = 14, hi = sizeof(frame); /* lo accepted, hi refused */
	int ret;

	memset(frame, 0, sizeof(frame)); /* EtherType 0: never refused for a short IP header */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (harness_run(h, PROG_TC_INGRESS, frame, mid, &ret))
			hi = mid;
		else
			lo = mid;
	}
	return lo;
}

/* tc counts skb->len, not the part of the frame it parsed or pulled. */
static void test_large_linear_tc(void **state)
{
	struct harness *h = open_harness(0, TFC_COUNT_BY_DEFAULT);
	size_t len = largest_skb_frame(h);
	bool ok;

	(void)state;
	print_message("test_large_linear_tc: %zu-byte frames\n", len);
	assert_true(len > 1500);
	ok = big_frame(h, PROG_TC_INGRESS, len);
	ok = big_frame(h, PROG_TC_EGRESS, len) && ok;
	harness_close(h);
	assert_true(ok);
}

/*
 * A GSO/GRO skb stands for gso_segs wire packets, each with its own copy of
 * the Ethernet, IP and TCP headers: tc counts those, as the NIC does.
 */
static void test_gso_counts_wire_packets(void **state)
{
	struct harness *h = open_harness(0, TFC_COUNT_BY_DEFAULT);
	/* Three full 800-byte segments and a last one of 300: 2700 payload bytes. */
	const size_t mss = 800, segs = 4, last = 300, payload = (segs - 1) * mss + last;
	/* On the wire each segment is an Ethernet, an IPv4 and a TCP header, then data. */
	const size_t eth = 14, ipv4 = 20, tcp = 20;
	const size_t wire = (segs - 1) * (eth + ipv4 + tcp + mss) + (eth + ipv4 + tcp + last);
	struct tfc_ip_entry e[HARNESS_MAX_ENTRIES];
	struct pkt p;
	int ret, n;

	(void)state;
	pkt_init(&p);
	pkt_eth(&p, ETHERTYPE_IPV4);
	pkt_ipv4(&p, IPPROTO_TCP, 5, pkt_src4, pkt_dst4);
	pkt_tcp(&p, 40000, 443, TCPF_ACK);
	pkt_payload(&p, payload);
	pkt_finish(&p);
	assert_int_equal(p.len, 14 + 20 + 20 + 2700); /* skb test runs take one page at most */
	assert_int_equal(wire, 3 * 854 + 354);
	for (int prog = PROG_TC_INGRESS; prog <= PROG_TC_EGRESS; prog++) {
		assert_int_equal(harness_reset(h, 0), 0);
		assert_int_equal(harness_run_gso(h, prog, p.data, p.len, segs, mss, &ret), 0);
		n = harness_ip_entries(h, e, HARNESS_MAX_ENTRIES);
		assert_int_equal(n, 1);
		assert_int_equal(e[0].val.packets, segs);
		assert_int_equal(e[0].val.bytes, wire);
	}
	harness_close(h);
}

/* Decides once whether BPF can run here; keeps the loaded object if so. */
static void probe_bpf(void)
{
	if (geteuid() != 0) {
		snprintf(g_skip, sizeof(g_skip),
			 "not root: BPF_PROG_TEST_RUN needs root (CAP_BPF + CAP_NET_ADMIN)");
		return;
	}
	g_h = harness_open(0, TFC_COUNT_BY_DEFAULT, g_err, sizeof(g_err));
	if (!g_h && (errno == EPERM || errno == ENOSYS))
		snprintf(g_skip, sizeof(g_skip), "BPF unavailable: %s", g_err);
}

int main(void)
{
	/* One test per line reads better than the packed columns clang-format makes. */
	/* clang-format off */
	const struct CMUnitTest special[] = {
		cmocka_unit_test(test_runt_frames),
		cmocka_unit_test(test_ip_map_full),
		cmocka_unit_test(test_count_by_src),
		cmocka_unit_test(test_count_by_dst),
		cmocka_unit_test(test_jumbo_xdp_frags),
		cmocka_unit_test(test_large_linear_tc),
		cmocka_unit_test(test_gso_counts_wire_packets),
		cmocka_unit_test(test_tc_refused_listed),
		cmocka_unit_test(test_prefix_scenarios),
		cmocka_unit_test(test_full_memo),
	};
	/* clang-format on */
	struct frame_case *cases;
	struct case_test *ct = NULL;
	struct CMUnitTest *tests = NULL;
	int n = cases_build(&cases), failed;
	size_t refused;

	if (n < 0 || !(ct = calloc((size_t)n, sizeof(*ct))) ||
	    !(tests = calloc((size_t)n, sizeof(*tests)))) {
		fprintf(stderr, "test_bpf: out of memory building cases\n");
		return 1;
	}
	g_cases = cases;
	g_ncases = n;
	probe_bpf(); /* first: which frames this kernel refuses at tc decides the tests */
	if (g_skip[0])
		fprintf(stderr, "test_bpf: skipping all tests: %s\n", g_skip);
	refused = case_tests(cases, n, ct);
	for (int i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){.name = cases[i].name,
					       .test_func = test_frame_case,
					       .initial_state = &ct[i]};
	printf("test_bpf: %d frame cases x %d programs x flows off/on\n", n, PROG_COUNT);
	printf("test_bpf: %zu cases the kernel's test run refuses at tc are run at tc over a veth "
	       "by tests/e2e/short_frames.bats\n",
	       refused);
	/* The table is built at run time, so the array-size macro cannot be used. */
	failed = _cmocka_run_group_tests("frame_cases", tests, (size_t)n, NULL, NULL);
	failed += cmocka_run_group_tests(special, NULL, NULL);
	failed += cgroup_tests_run();
	harness_close(g_h);
	free(tests);
	free(ct);
	free(cases);
	return failed ? 1 : 0;
}
