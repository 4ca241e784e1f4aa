// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Prefix rows (openspec/changes/0025-prefix-maps.md): overflow into the
 * prefix map when the IP map is full, --aggregate rules, and the per-CPU
 * memo of a full IP map. Each scenario runs through every program and
 * checks the IP map, the prefix map, dropped_* and traffic_stats exactly.
 * Frames carry the same address as source and destination, so ingress and
 * egress key them alike.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "cases.h"
#include "prefix.h"

#define ADDR  -1 /* a want row that is one address, not a prefix */
#define MAX_N 8

struct rule {
	const char *cidr; /* address part */
	uint8_t cidr_len;
	uint8_t to_len;
};

struct row {
	const char *addr;
	int len; /* prefix length, or ADDR */
	uint64_t packets;
};

struct scenario {
	const char *name;
	uint32_t ip_size, prefix_size; /* 0: the default */
	uint8_t overflow_v4, overflow_v6;
	uint32_t flags;
	struct rule rules[MAX_N];
	const char *sends[MAX_N];
	struct row ip[MAX_N];
	struct row prefix[MAX_N];
	uint64_t dropped_v4, dropped_v6; /* frames in ip_map_full */
};

static uint8_t family_of(const char *addr)
{
	return strchr(addr, ':') ? 6 : 4;
}

static void parse_addr(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(family_of(s) == 6 ? AF_INET6 : AF_INET, s, out) != 1)
		fail_msg("bad address in a test table: %s", s);
}

/* UDP from and to addr: 42 bytes for IPv4, 62 for IPv6. */
static void addr_frame(struct pkt *p, const char *addr)
{
	uint8_t a[16];

	parse_addr(addr, a);
	pkt_init(p);
	pkt_eth(p, family_of(addr) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	if (family_of(addr) == 6)
		pkt_ipv6(p, IPPROTO_UDP, a, a);
	else
		pkt_ipv4(p, IPPROTO_UDP, 5, a, a);
	pkt_udp(p, 5000, 6000);
	pkt_finish(p);
}

static uint64_t frame_len(uint8_t family)
{
	return family == 6 ? 62 : 42;
}

static void row_key(const struct row *r, uint8_t dir, struct ip_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = harness_ifindex();
	k->family = family_of(r->addr);
	k->direction = dir;
	k->is_prefix = r->len != ADDR;
	k->prefix_len = r->len == ADDR ? 0 : (uint8_t)r->len;
	parse_addr(r->addr, k->addr);
}

static int count_rows(const struct row *rows)
{
	int n = 0;

	while (n < MAX_N && rows[n].addr)
		n++;
	return n;
}

/* True when the entries read are exactly the wanted rows. */
static bool rows_exact(const char *map, const struct tfc_ip_entry *e, int n, const struct row *want,
		       uint8_t dir, char *msg, size_t len)
{
	int nwant = count_rows(want);

	if (n < 0)
		return snprintf(msg, len, "reading %s: %s", map, strerror(-n)), false;
	if (n != nwant)
		return snprintf(msg, len, "%s: expected %d rows, got %d", map, nwant, n), false;
	for (int i = 0; i < nwant; i++) {
		struct ip_key k;
		int j;

		row_key(&want[i], dir, &k);
		for (j = 0; j < n && memcmp(&e[j].key, &k, sizeof(k)); j++)
			;
		if (j == n)
			return snprintf(msg, len, "%s: no row %s/%d", map, want[i].addr,
					want[i].len),
			       false;
		if (e[j].val.packets != want[i].packets ||
		    e[j].val.bytes != want[i].packets * frame_len(k.family))
			return snprintf(msg, len,
					"%s row %s/%d: expected %llu pkt, got %llu/%llu B", map,
					want[i].addr, want[i].len,
					(unsigned long long)want[i].packets,
					(unsigned long long)e[j].val.packets,
					(unsigned long long)e[j].val.bytes),
			       false;
	}
	return true;
}

/* The IP map, the prefix map, dropped_* and traffic_stats, all exact. */
static bool maps_exact(struct harness *h, const struct scenario *s, enum prog_id prog, char *msg,
		       size_t len)
{
	uint8_t dir = prog_infos[prog].direction;
	uint64_t dp = s->dropped_v4 + s->dropped_v6;
	uint64_t db = s->dropped_v4 * frame_len(4) + s->dropped_v6 * frame_len(6);
	struct stat_want full = {TFC_STAT_IP_MAP_FULL, dp, db};
	struct tfc_ip_entry e[HARNESS_MAX_ENTRIES];
	struct tfc_control ctl;
	int n;

	n = harness_ip_entries(h, e, HARNESS_MAX_ENTRIES);
	if (!rows_exact("IP map", e, n, s->ip, dir, msg, len))
		return false;
	n = harness_prefix_entries(h, e, HARNESS_MAX_ENTRIES);
	if (!rows_exact("prefix map", e, n, s->prefix, dir, msg, len))
		return false;
	if (!check_stats_exact(h, dir, &full, dp ? 1 : 0, msg, len))
		return false;
	if (harness_control(h, &ctl))
		return snprintf(msg, len, "reading the control entry failed"), false;
	if (ctl.dropped_packets != dp || ctl.dropped_bytes != db)
		return snprintf(msg, len, "dropped: expected %llu pkt/%llu B, got %llu/%llu",
				(unsigned long long)dp, (unsigned long long)db,
				(unsigned long long)ctl.dropped_packets,
				(unsigned long long)ctl.dropped_bytes),
		       false;
	return true;
}

static int setup(struct harness *h, const struct scenario *s)
{
	struct tfc_control ctl = {
		.flags = s->flags, .overflow_v4 = s->overflow_v4, .overflow_v6 = s->overflow_v6};
	int rc = harness_reset(h, 0);

	if (!rc)
		rc = harness_set_control(h, &ctl);
	for (int i = 0; !rc && i < MAX_N && s->rules[i].cidr; i++) {
		uint8_t a[16];

		parse_addr(s->rules[i].cidr, a);
		rc = harness_add_rule(h, family_of(s->rules[i].cidr), a, s->rules[i].cidr_len,
				      s->rules[i].to_len);
	}
	return rc;
}

static bool run_scenario(struct harness *h, const struct scenario *s, enum prog_id prog, char *msg,
			 size_t len)
{
	struct pkt p;
	int ret;

	if (setup(h, s))
		return snprintf(msg, len, "setup failed"), false;
	for (int i = 0; i < MAX_N && s->sends[i]; i++) {
		addr_frame(&p, s->sends[i]);
		if (harness_run(h, prog, p.data, p.len, &ret) || ret != prog_infos[prog].retval)
			return snprintf(msg, len, "frame %s: run failed or verdict %d", s->sends[i],
					ret),
			       false;
	}
	return maps_exact(h, s, prog, msg, len);
}

static const struct scenario scenarios[] = {
	{.name = "overflow_v4_24",
	 .ip_size = 2,
	 .overflow_v4 = 24,
	 .overflow_v6 = 48,
	 .sends = {"198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.1.4", "198.18.0.5",
		   "198.18.0.1"},
	 .ip = {{"198.18.0.1", ADDR, 2}, {"198.18.0.2", ADDR, 1}},
	 .prefix = {{"198.18.0.0", 24, 2}, {"198.18.1.0", 24, 1}}},
	{.name = "overflow_v6_48",
	 .ip_size = 2,
	 .overflow_v4 = 24,
	 .overflow_v6 = 48,
	 .sends = {"fd00:1::1", "fd00:1::2", "fd00:1:0:5::3", "fd00:1:1::4", "fd00:1::2"},
	 .ip = {{"fd00:1::1", ADDR, 1}, {"fd00:1::2", ADDR, 2}},
	 .prefix = {{"fd00:1::", 48, 1}, {"fd00:1:1::", 48, 1}}},
	/* Off for IPv4 only: IPv4 is dropped as before, IPv6 still overflows. */
	{.name = "overflow_off_v4",
	 .ip_size = 1,
	 .overflow_v4 = 0,
	 .overflow_v6 = 48,
	 .sends = {"198.18.0.1", "198.18.0.2", "fd00::1", "198.18.0.3"},
	 .ip = {{"198.18.0.1", ADDR, 1}},
	 .prefix = {{"fd00::", 48, 1}},
	 .dropped_v4 = 2},
	{.name = "overflow_off",
	 .ip_size = 1,
	 .sends = {"198.18.0.1", "198.18.0.2", "fd00::1"},
	 .ip = {{"198.18.0.1", ADDR, 1}},
	 .dropped_v4 = 1,
	 .dropped_v6 = 1},
	{.name = "prefix_map_full",
	 .ip_size = 1,
	 .prefix_size = 2,
	 .overflow_v4 = 24,
	 .overflow_v6 = 48,
	 .sends = {"198.18.0.1", "198.18.1.1", "198.18.2.1", "198.18.3.1", "198.18.1.9"},
	 .ip = {{"198.18.0.1", ADDR, 1}},
	 .prefix = {{"198.18.1.0", 24, 2}, {"198.18.2.0", 24, 1}},
	 .dropped_v4 = 1},
	{.name = "rules_overlapping_longest_wins",
	 .flags = TFC_FLAG_AGGREGATE,
	 .rules = {{"198.18.0.0", 15, 16}, {"198.18.4.0", 22, 24}},
	 .sends = {"198.18.5.7", "198.19.3.3", "198.18.6.1", "198.18.5.8"},
	 .ip = {{"198.18.5.0", 24, 2}, {"198.18.6.0", 24, 1}, {"198.19.0.0", 16, 1}}},
	{.name = "rules_slash0",
	 .flags = TFC_FLAG_AGGREGATE,
	 .rules = {{"0.0.0.0", 0, 0}, {"::", 0, 8}},
	 .sends = {"198.18.0.1", "203.0.113.9", "fd00::1", "fd12::1"},
	 .ip = {{"0.0.0.0", 0, 2}, {"fd00::", 8, 2}}},
	{.name = "rules_slash32_exemption",
	 .flags = TFC_FLAG_AGGREGATE,
	 .rules = {{"198.18.0.0", 15, 24}, {"198.18.0.7", 32, 32}},
	 .sends = {"198.18.0.7", "198.18.0.8", "198.18.0.7"},
	 .ip = {{"198.18.0.7", ADDR, 2}, {"198.18.0.0", 24, 1}}},
	{.name = "rules_slash128_exemption",
	 .flags = TFC_FLAG_AGGREGATE,
	 .rules = {{"fd00::", 8, 48}, {"fd00::7", 128, 128}},
	 .sends = {"fd00::7", "fd00::8", "fd00:0:0:1::9"},
	 .ip = {{"fd00::7", ADDR, 1}, {"fd00::", 48, 2}}},
	/* An IPv6 rule for mapped addresses matches IPv6 frames only. */
	{.name = "rules_v4_mapped_v6_rule",
	 .flags = TFC_FLAG_AGGREGATE,
	 .rules = {{"::ffff:0.0.0.0", 96, 96}},
	 .sends = {"198.18.0.9", "::ffff:198.18.0.9", "::ffff:198.18.0.10"},
	 .ip = {{"198.18.0.9", ADDR, 1}, {"::ffff:0.0.0.0", 96, 2}}},
	/* An IPv4 rule never matches ::ffff:a.b.c.d. */
	{.name = "rules_v4_rule_not_mapped",
	 .flags = TFC_FLAG_AGGREGATE,
	 .rules = {{"198.18.0.0", 15, 16}},
	 .sends = {"::ffff:198.18.0.9", "198.18.0.9"},
	 .ip = {{"::ffff:198.18.0.9", ADDR, 1}, {"198.18.0.0", 16, 1}}},
	{.name = "rules_flag_off",
	 .rules = {{"198.18.0.0", 15, 16}},
	 .sends = {"198.18.0.1", "198.18.0.2"},
	 .ip = {{"198.18.0.1", ADDR, 1}, {"198.18.0.2", ADDR, 1}}},
	/*
	 * A rule's prefix shorter than the overflow length keeps its length in
	 * the prefix map; a longer one (or an exempt address) is cut to it.
	 */
	{.name = "rules_then_overflow",
	 .ip_size = 1,
	 .overflow_v4 = 24,
	 .overflow_v6 = 48,
	 .flags = TFC_FLAG_AGGREGATE,
	 .rules = {{"198.18.0.0", 15, 16},
		   {"198.18.0.1", 32, 32},
		   {"198.18.0.2", 32, 32},
		   {"198.18.64.0", 18, 28}},
	 .sends = {"198.18.0.1", "198.18.0.2", "198.19.5.5", "198.18.64.77", "198.19.6.6"},
	 .ip = {{"198.18.0.1", ADDR, 1}},
	 .prefix = {{"198.18.0.0", 24, 1}, {"198.19.0.0", 16, 2}, {"198.18.64.0", 24, 1}}},
};

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

void test_prefix_scenarios(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < NSCENARIOS; i++) {
		const struct scenario *s = &scenarios[i];
		char err[256];
		struct harness *h = harness_open_sized(s->ip_size, s->prefix_size,
						       TFC_COUNT_BY_DEFAULT, err, sizeof(err));

		if (!h)
			fail_msg("%s: cannot load the BPF object: %s", s->name, err);
		for (int prog = 0; prog < PROG_COUNT; prog++) {
			char msg[512];

			if (run_scenario(h, s, prog, msg, sizeof(msg)))
				continue;
			print_error("FAIL %s [%s]: %s\n", s->name, prog_infos[prog].name, msg);
			failed++;
		}
		harness_close(h);
	}
	print_message("test_prefix_scenarios: %zu scenarios x %d programs\n", NSCENARIOS,
		      PROG_COUNT);
	assert_int_equal(failed, 0);
}

/* The memo step by step, on one CPU (the test runs there), for one program. */
struct memo_run {
	struct harness *h;
	enum prog_id prog;
	int cpu;
	char *msg;
	size_t len;
};

static bool send_addr(struct memo_run *r, const char *addr, uint32_t repeat)
{
	struct pkt p;
	int ret;

	addr_frame(&p, addr);
	if (harness_run_repeat(r->h, r->prog, p.data, p.len, repeat, &ret) ||
	    ret != prog_infos[r->prog].retval)
		return snprintf(r->msg, r->len, "frame %s: run failed or verdict %d", addr, ret),
		       false;
	return true;
}

static bool memo_is(struct memo_run *r, const char *step, uint32_t frees, uint32_t left,
		    uint32_t prefix_left)
{
	struct tfc_full_memo m;

	if (harness_memo(r->h, r->cpu, &m))
		return snprintf(r->msg, r->len, "%s: reading the memo failed", step), false;
	if (m.frees != frees || m.left != left || m.prefix_left != prefix_left)
		return snprintf(r->msg, r->len,
				"%s: memo {frees %u, left %u, prefix_left %u}, expected {%u, %u, "
				"%u}",
				step, m.frees, m.left, m.prefix_left, frees, left, prefix_left),
		       false;
	return true;
}

static bool set_frees(struct memo_run *r, uint32_t frees)
{
	struct tfc_control ctl;

	if (harness_control(r->h, &ctl))
		return false;
	ctl.ip_map_frees = frees;
	return !harness_set_control(r->h, &ctl);
}

static bool forget(struct memo_run *r, const char *addr)
{
	struct row row = {addr, ADDR, 0};
	struct ip_key k;

	row_key(&row, prog_infos[r->prog].direction, &k);
	return !harness_ip_delete(r->h, &k);
}

static const struct scenario memo_final = {
	.ip = {{"198.18.0.4", ADDR, 1}, {"198.18.0.5", ADDR, 1}},
	.prefix = {{"198.18.1.0", 24, 2},
		   {"198.18.2.0", 24, 1},
		   {"198.18.3.0", 24, TFC_FULL_MEMO_PACKETS}},
};

/*
 * A 2-entry IP map fills; the failed insert sets the memo; a free without a
 * bump of ip_map_frees goes unseen (frames overflow); the bump drops the
 * memo; then the bound drops it after TFC_FULL_MEMO_PACKETS misses.
 */
static bool memo_prog(struct memo_run *r)
{
	struct tfc_control ctl = {.overflow_v4 = 24, .overflow_v6 = 48};

	if (harness_reset(r->h, 0) || harness_set_control(r->h, &ctl))
		return snprintf(r->msg, r->len, "setup failed"), false;
	if (!send_addr(r, "198.18.0.1", 1) || !send_addr(r, "198.18.0.2", 1) ||
	    !memo_is(r, "filling", 0, 0, 0))
		return false;
	/* Full: the insert fails, the frame overflows, the memo is set. */
	if (!send_addr(r, "198.18.1.3", 1) || !memo_is(r, "full", 0, TFC_FULL_MEMO_PACKETS, 0))
		return false;
	/* A free nobody announced: the memo still holds, the new address overflows. */
	if (!forget(r, "198.18.0.1") || !send_addr(r, "198.18.2.4", 1) ||
	    !memo_is(r, "held", 0, TFC_FULL_MEMO_PACKETS - 1, 0))
		return false;
	/* Announced: the next miss inserts. */
	if (!set_frees(r, 1) || !send_addr(r, "198.18.0.4", 1) || !memo_is(r, "bumped", 1, 0, 0))
		return false;
	/* Full again (.2 and .4): set again, with the new frees. */
	if (!send_addr(r, "198.18.1.5", 1) ||
	    !memo_is(r, "full again", 1, TFC_FULL_MEMO_PACKETS, 0))
		return false;
	/* An unannounced free, then the bound: exactly that many misses overflow. */
	if (!forget(r, "198.18.0.2") || !send_addr(r, "198.18.3.5", TFC_FULL_MEMO_PACKETS) ||
	    !memo_is(r, "bound", 1, 0, 0))
		return false;
	return send_addr(r, "198.18.0.5", 1) && memo_is(r, "after bound", 1, 0, 0) &&
	       maps_exact(r->h, &memo_final, r->prog, r->msg, r->len);
}

static const struct scenario memo_prefix_final = {
	.ip = {{"198.18.0.1", ADDR, 1}},
	.prefix = {{"198.18.1.0", 24, 2}},
	.dropped_v4 = 3,
};

/*
 * One IP entry, one prefix row: a failed prefix insert sets prefix_left;
 * a prefix hit still counts there, a prefix miss goes to ip_map_full without
 * the insert, and a bump of ip_map_frees drops both memos.
 */
static bool memo_prefix_prog(struct memo_run *r)
{
	struct tfc_control ctl = {.overflow_v4 = 24, .overflow_v6 = 48};
	const uint32_t n = TFC_FULL_MEMO_PACKETS;

	if (harness_reset(r->h, 0) || harness_set_control(r->h, &ctl))
		return snprintf(r->msg, r->len, "setup failed"), false;
	if (!send_addr(r, "198.18.0.1", 1) || !send_addr(r, "198.18.1.1", 1) ||
	    !memo_is(r, "IP map full", 0, n, 0))
		return false;
	if (!send_addr(r, "198.18.2.1", 1) || !memo_is(r, "prefix map full", 0, n - 1, n))
		return false;
	if (!send_addr(r, "198.18.1.7", 1) || !memo_is(r, "prefix hit", 0, n - 2, n))
		return false;
	if (!send_addr(r, "198.18.3.1", 1) || !memo_is(r, "prefix skipped", 0, n - 3, n - 1))
		return false;
	if (!set_frees(r, 1) || !send_addr(r, "198.18.4.1", 1) ||
	    !memo_is(r, "bumped, full again", 1, n, n))
		return false;
	return maps_exact(r->h, &memo_prefix_final, r->prog, r->msg, r->len);
}

/* Runs on one CPU from here on: the memo is per CPU and test runs use the caller's. */
static int pin_to_current_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : cpu;
}

void test_full_memo(void **state)
{
	cpu_set_t saved;
	struct harness *h, *h1;
	char err[256];
	int failed = 0, cpu;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(saved), &saved), 0);
	cpu = pin_to_current_cpu();
	assert_true(cpu >= 0);
	h = harness_open(2, TFC_COUNT_BY_DEFAULT, err, sizeof(err));
	h1 = harness_open_sized(1, 1, TFC_COUNT_BY_DEFAULT, err, sizeof(err));
	if (!h || !h1)
		fail_msg("cannot load the BPF object: %s", err);
	for (int prog = 0; prog < PROG_COUNT; prog++) {
		char msg[512];
		struct memo_run r = {h, prog, cpu, msg, sizeof(msg)};
		struct memo_run r1 = {h1, prog, cpu, msg, sizeof(msg)};

		if (!memo_prog(&r)) {
			print_error("FAIL full_memo [%s]: %s\n", prog_infos[prog].name, msg);
			failed++;
		}
		if (!memo_prefix_prog(&r1)) {
			print_error("FAIL full_memo_prefix [%s]: %s\n", prog_infos[prog].name, msg);
			failed++;
		}
	}
	harness_close(h);
	harness_close(h1);
	sched_setaffinity(0, sizeof(saved), &saved);
	assert_int_equal(failed, 0);
}
