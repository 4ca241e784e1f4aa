// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Counter sums, address text, sort order and the table/JSON/CSV exports. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#include <arpa/inet.h>
#include <json-c/json.h>

#include "unit.h"
#include "export/format.h"

#define NO_IF	   999999 /* no such interface: its name is "if999999" */
#define NO_IF_NAME "if999999"
#define LO	   1 /* loopback is ifindex 1 in every network namespace */

/* ---- building entries ------------------------------------------------- */

static void v4(__u8 *out, __u8 a, __u8 b, __u8 c, __u8 d)
{
	memset(out, 0, 16);
	out[0] = a;
	out[1] = b;
	out[2] = c;
	out[3] = d;
}

/* IPv6 from its eight 16-bit groups, in network byte order. */
static void v6(__u8 *out, const __u16 g[8])
{
	for (int i = 0; i < 8; i++) {
		out[2 * i] = g[i] >> 8;
		out[2 * i + 1] = g[i] & 0xff;
	}
}

static struct tfc_ip_entry ip_entry(__u8 family, const __u8 *addr, __u8 dir, __u32 ifindex,
				    __u64 bytes, __u64 packets)
{
	struct tfc_ip_entry e;

	memset(&e, 0, sizeof(e));
	e.key.family = family;
	e.key.direction = dir;
	e.key.ifindex = ifindex;
	memcpy(e.key.addr, addr, 16);
	e.val.bytes = bytes;
	e.val.packets = packets;
	return e;
}

struct flow_spec {
	__u8 family;
	__u8 src[16];
	__u8 dst[16];
	__u16 sport, dport;
	__u8 proto, dir;
	__u32 ifindex;
	__u64 bytes, packets;
};

static struct tfc_flow_entry flow_entry(const struct flow_spec *s)
{
	struct tfc_flow_entry e;

	memset(&e, 0, sizeof(e));
	e.key.family = s->family;
	memcpy(e.key.src, s->src, 16);
	memcpy(e.key.dst, s->dst, 16);
	e.key.sport = s->sport;
	e.key.dport = s->dport;
	e.key.proto = s->proto;
	e.key.direction = s->dir;
	e.key.ifindex = s->ifindex;
	e.val.bytes = s->bytes;
	e.val.packets = s->packets;
	return e;
}

/* ---- tfc_counters_sum -------------------------------------------------- */

static void test_sum_several_cpus(void **state)
{
	const struct counters percpu[3] = {{100, 1}, {0, 0}, {1400, 2}};
	struct counters out = {7, 7};

	(void)state;
	tfc_counters_sum(percpu, 3, &out);
	assert_int_equal(out.bytes, 1500);
	assert_int_equal(out.packets, 3);
}

/* No CPUs: zero, whatever the output held before. */
static void test_sum_no_cpu(void **state)
{
	const struct counters percpu[1] = {{5, 5}};
	struct counters out = {99, 99};

	(void)state;
	tfc_counters_sum(percpu, 0, &out);
	assert_int_equal(out.bytes, 0);
	assert_int_equal(out.packets, 0);
}

/* Sums past 2^63 must stay unsigned 64-bit, not wrap as signed. */
static void test_sum_large(void **state)
{
	const struct counters percpu[3] = {
		{(__u64)INT64_MAX, 1ULL << 62},
		{1, 1ULL << 62},
		{1ULL << 62, 1ULL << 62},
	};
	struct counters out;

	(void)state;
	tfc_counters_sum(percpu, 2, &out);
	assert_true(out.bytes == 1ULL << 63);
	assert_true(out.packets == 1ULL << 63);
	tfc_counters_sum(percpu, 3, &out);
	assert_true(out.bytes == (1ULL << 63) + (1ULL << 62));
	assert_true(out.packets == 3ULL << 62);
}

/* ---- tfc_addr_str ------------------------------------------------------ */

static void assert_v6_text(const __u16 g[8], const char *want)
{
	char buf[TFC_ADDR_STRLEN];
	__u8 a[16];

	v6(a, g);
	assert_string_equal(tfc_addr_str(6, a, buf, sizeof(buf)), want);
}

static void test_addr_ipv4(void **state)
{
	char buf[TFC_ADDR_STRLEN];
	__u8 a[16];

	(void)state;
	v4(a, 192, 0, 2, 1);
	assert_string_equal(tfc_addr_str(4, a, buf, sizeof(buf)), "192.0.2.1");
	v4(a, 255, 255, 255, 255);
	assert_string_equal(tfc_addr_str(4, a, buf, sizeof(buf)), "255.255.255.255");
	v4(a, 0, 0, 0, 0);
	assert_string_equal(tfc_addr_str(4, a, buf, sizeof(buf)), "0.0.0.0");
}

/* RFC 5952: lower case, no leading zeros, the longest zero run as "::". */
static void test_addr_ipv6_rfc5952(void **state)
{
	(void)state;
	assert_v6_text((const __u16[8]){0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}, "2001:db8::1");
	assert_v6_text((const __u16[8]){0}, "::");
	assert_v6_text((const __u16[8]){0, 0, 0, 0, 0, 0, 0, 1}, "::1");
	assert_v6_text((const __u16[8]){0xfe80, 0, 0, 0, 0, 0, 0, 0}, "fe80::");
	assert_v6_text((const __u16[8]){0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xABCD}, "2001:db8::abcd");
	/* 4.2.2: a single zero group is not shortened. */
	assert_v6_text((const __u16[8]){0x2001, 0xdb8, 0, 1, 1, 1, 1, 1}, "2001:db8:0:1:1:1:1:1");
	/* 4.2.3: of two equal runs, the first is shortened. */
	assert_v6_text((const __u16[8]){0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}, "2001:db8::1:0:0:1");
	/* The longest run wins even when it comes second. */
	assert_v6_text((const __u16[8]){0x2001, 0, 0, 1, 0, 0, 0, 1}, "2001:0:0:1::1");
	/* 5: IPv4-mapped addresses end in dotted quad. */
	assert_v6_text((const __u16[8]){0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304}, "::ffff:1.2.3.4");
}

static void test_addr_unknown_family(void **state)
{
	char buf[TFC_ADDR_STRLEN];
	__u8 a[16] = {1, 2, 3, 4};

	(void)state;
	assert_string_equal(tfc_addr_str(0, a, buf, sizeof(buf)), "?");
	assert_string_equal(tfc_addr_str(5, a, buf, sizeof(buf)), "?");
	assert_string_equal(tfc_addr_str(10, a, buf, sizeof(buf)), "?"); /* AF_INET6 is not 6 */
}

/* ---- sorting ---------------------------------------------------------- */

enum { A, B, C, D, E, F, NIP };

/*
 * Bytes ties at 500 between C, E, A, D and F must fall back to address
 * (9.0.0.1 before 10.0.0.1 numerically; IPv4 before IPv6 even though ::1
 * is numerically smaller), then direction, then ifindex.
 */
static void ip_fixture(struct tfc_ip_entry *e)
{
	static const __u16 loop6[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	__u8 a10_1[16], a10_2[16], a9[16], a6[16];

	v4(a10_1, 10, 0, 0, 1);
	v4(a10_2, 10, 0, 0, 2);
	v4(a9, 9, 0, 0, 1);
	v6(a6, loop6);
	e[A] = ip_entry(4, a10_1, TFC_DIR_INGRESS, 2, 500, 3);
	e[B] = ip_entry(4, a10_2, TFC_DIR_INGRESS, 2, 900, 1);
	e[C] = ip_entry(4, a9, TFC_DIR_INGRESS, 2, 500, 3);
	e[D] = ip_entry(4, a10_1, TFC_DIR_EGRESS, 2, 500, 3);
	e[E] = ip_entry(4, a10_1, TFC_DIR_INGRESS, 1, 500, 3);
	e[F] = ip_entry(6, a6, TFC_DIR_INGRESS, 2, 500, 7);
}

static void assert_ip_order(enum tfc_sort by, const int want[NIP])
{
	struct tfc_ip_entry orig[NIP], e[NIP];

	ip_fixture(orig);
	memcpy(e, orig, sizeof(e));
	tfc_sort_ip(e, NIP, by);
	for (int i = 0; i < NIP; i++)
		assert_memory_equal(&e[i], &orig[want[i]], sizeof(e[i]));
}

static void test_sort_ip_bytes(void **state)
{
	(void)state;
	assert_ip_order(TFC_SORT_BYTES, (const int[NIP]){B, C, E, A, D, F});
}

static void test_sort_ip_packets(void **state)
{
	(void)state;
	assert_ip_order(TFC_SORT_PACKETS, (const int[NIP]){F, C, E, A, D, B});
}

static void test_sort_ip_address(void **state)
{
	(void)state;
	assert_ip_order(TFC_SORT_IP, (const int[NIP]){C, E, A, D, B, F});
}

static void test_sort_empty_and_single(void **state)
{
	struct tfc_ip_entry one[NIP], copy;

	(void)state;
	tfc_sort_ip(NULL, 0, TFC_SORT_BYTES);
	tfc_sort_flow(NULL, 0, TFC_SORT_IP);
	ip_fixture(one);
	copy = one[0];
	tfc_sort_ip(one, 1, TFC_SORT_IP);
	assert_memory_equal(&one[0], &copy, sizeof(copy));
}

enum { P, Q, R, S, T, U, V, NFLOW };

/* Ties at 100 bytes: source, then destination, then direction, ifindex. */
static void flow_fixture(struct tfc_flow_entry *e)
{
	static const __u16 l1[8] = {0, 0, 0, 0, 0, 0, 0, 1}, l2[8] = {0, 0, 0, 0, 0, 0, 0, 2};
	struct flow_spec s = {.family = 4, .sport = 1000, .dport = 80, .proto = 6, .ifindex = 2};

	v4(s.src, 10, 0, 0, 1);
	v4(s.dst, 10, 0, 0, 9);
	s.bytes = 100, s.packets = 5;
	e[P] = flow_entry(&s);
	v4(s.dst, 10, 0, 0, 3);
	s.packets = 1;
	e[Q] = flow_entry(&s);
	s.dir = TFC_DIR_EGRESS;
	e[T] = flow_entry(&s);
	s.dir = TFC_DIR_INGRESS, s.ifindex = 1;
	e[U] = flow_entry(&s);
	v4(s.src, 9, 0, 0, 1);
	s.ifindex = 2, s.packets = 2;
	e[R] = flow_entry(&s);
	v4(s.src, 10, 0, 0, 5);
	s.bytes = 7000, s.packets = 4;
	e[V] = flow_entry(&s);
	s.family = 6, s.bytes = 100, s.packets = 9;
	v6(s.src, l1);
	v6(s.dst, l2);
	e[S] = flow_entry(&s);
}

static void assert_flow_order(enum tfc_sort by, const int want[NFLOW])
{
	struct tfc_flow_entry orig[NFLOW], e[NFLOW];

	flow_fixture(orig);
	memcpy(e, orig, sizeof(e));
	tfc_sort_flow(e, NFLOW, by);
	for (int i = 0; i < NFLOW; i++)
		assert_memory_equal(&e[i], &orig[want[i]], sizeof(e[i]));
}

static void test_sort_flow_bytes(void **state)
{
	(void)state;
	assert_flow_order(TFC_SORT_BYTES, (const int[NFLOW]){V, R, U, Q, T, P, S});
}

static void test_sort_flow_packets(void **state)
{
	(void)state;
	assert_flow_order(TFC_SORT_PACKETS, (const int[NFLOW]){S, P, V, R, U, Q, T});
}

static void test_sort_flow_address(void **state)
{
	(void)state;
	assert_flow_order(TFC_SORT_IP, (const int[NFLOW]){R, U, Q, T, P, V, S});
}

/*
 * Many entries, few distinct values (ties at every level, counters near
 * 2^64, addresses that differ only past the 7th byte): the sorted result
 * must be in order by an independent comparison, and a permutation.
 */
#define NRAND 3000

static enum tfc_sort rand_by;

static int u64_desc(__u64 a, __u64 b)
{
	return a > b ? -1 : a < b;
}

static int ref_ip(const void *pa, const void *pb)
{
	const struct tfc_ip_entry *a = pa, *b = pb;
	int c = rand_by == TFC_SORT_BYTES     ? u64_desc(a->val.bytes, b->val.bytes)
		: rand_by == TFC_SORT_PACKETS ? u64_desc(a->val.packets, b->val.packets)
					      : 0;

	if (!c && a->key.family != b->key.family)
		c = a->key.family < b->key.family ? -1 : 1;
	for (int i = 0; !c && i < 16; i++)
		c = (a->key.addr[i] > b->key.addr[i]) - (a->key.addr[i] < b->key.addr[i]);
	if (!c)
		c = (a->key.direction > b->key.direction) - (a->key.direction < b->key.direction);
	if (!c)
		c = (a->key.ifindex > b->key.ifindex) - (a->key.ifindex < b->key.ifindex);
	return c;
}

static __u64 pick(unsigned int *seed, const __u64 *v, int n)
{
	return v[rand_r(seed) % n];
}

static void random_ip(struct tfc_ip_entry *e, size_t n, unsigned int seed)
{
	static const __u64 counts[] = {0, 1, 2, 255, 256, 65536, ~0ULL, ~0ULL - 1, 1ULL << 56};

	memset(e, 0, n * sizeof(*e));
	for (size_t i = 0; i < n; i++) {
		e[i].key.family = rand_r(&seed) % 2 ? 4 : 6;
		e[i].key.addr[0] = (__u8)(rand_r(&seed) % 2 ? 0xff : 10);
		e[i].key.addr[3] = (__u8)(rand_r(&seed) % 3);
		e[i].key.addr[15] = (__u8)(rand_r(&seed) % 3); /* beyond the sort key */
		/* Unique keys, as in a map: the comparison is then a total order. */
		memcpy(&e[i].key.addr[8], &i, sizeof(__u32));
		e[i].key.direction = (__u8)(rand_r(&seed) % 2);
		e[i].key.ifindex = 1 + rand_r(&seed) % 3;
		e[i].val.bytes = pick(&seed, counts, 9);
		e[i].val.packets = pick(&seed, counts, 9);
	}
}

static void test_sort_ip_random(void **state)
{
	static struct tfc_ip_entry e[NRAND], want[NRAND];
	static const enum tfc_sort bys[] = {TFC_SORT_BYTES, TFC_SORT_PACKETS, TFC_SORT_IP};

	(void)state;
	for (unsigned int seed = 1; seed <= 5; seed++) {
		for (size_t b = 0; b < 3; b++) {
			random_ip(e, NRAND, seed);
			memcpy(want, e, sizeof(e));
			rand_by = bys[b];
			qsort(want, NRAND, sizeof(*want), ref_ip);
			tfc_sort_ip(e, NRAND, bys[b]);
			assert_memory_equal(e, want, sizeof(e));
		}
	}
}

static int ref_flow(const void *pa, const void *pb)
{
	const struct tfc_flow_entry *a = pa, *b = pb;
	int c = rand_by == TFC_SORT_BYTES     ? u64_desc(a->val.bytes, b->val.bytes)
		: rand_by == TFC_SORT_PACKETS ? u64_desc(a->val.packets, b->val.packets)
					      : 0;

	if (!c && a->key.family != b->key.family)
		c = a->key.family < b->key.family ? -1 : 1;
	c = c ?: memcmp(a->key.src, b->key.src, 16);
	c = c ?: memcmp(a->key.dst, b->key.dst, 16);
	c = c ?: (int)a->key.proto - (int)b->key.proto;
	c = c ?: (int)a->key.sport - (int)b->key.sport;
	c = c ?: (int)a->key.dport - (int)b->key.dport;
	c = c ?: (int)a->key.direction - (int)b->key.direction;
	return c ?: (a->key.ifindex > b->key.ifindex) - (a->key.ifindex < b->key.ifindex);
}

/* Flows from the random IP entries: src from one, dst unique, ports few. */
static void test_sort_flow_random(void **state)
{
	static struct tfc_ip_entry ip[NRAND];
	static struct tfc_flow_entry e[NRAND], want[NRAND];
	static const enum tfc_sort bys[] = {TFC_SORT_BYTES, TFC_SORT_PACKETS, TFC_SORT_IP};

	(void)state;
	for (size_t b = 0; b < 3; b++) {
		random_ip(ip, NRAND, 7);
		memset(e, 0, sizeof(e));
		for (size_t i = 0; i < NRAND; i++) {
			e[i].key.family = ip[i].key.family;
			memcpy(e[i].key.src, ip[i].key.addr, 8);
			memcpy(e[i].key.dst, ip[i].key.addr, 16);
			e[i].key.sport = (__u16)(i % 3);
			e[i].key.proto = (__u8)(i % 2 ? 6 : 17);
			e[i].key.direction = ip[i].key.direction;
			e[i].key.ifindex = ip[i].key.ifindex;
			e[i].val.bytes = ip[i].val.bytes;
			e[i].val.packets = ip[i].val.packets;
		}
		memcpy(want, e, sizeof(e));
		rand_by = bys[b];
		qsort(want, NRAND, sizeof(*want), ref_flow);
		tfc_sort_flow(e, NRAND, bys[b]);
		assert_memory_equal(e, want, sizeof(e));
	}
}

static void test_sort_parse(void **state)
{
	(void)state;
	assert_int_equal(tfc_sort_parse("bytes"), TFC_SORT_BYTES);
	assert_int_equal(tfc_sort_parse("packets"), TFC_SORT_PACKETS);
	assert_int_equal(tfc_sort_parse("ip"), TFC_SORT_IP);
	assert_int_equal(tfc_sort_parse("flows"), -EINVAL);
	assert_int_equal(tfc_sort_parse(""), -EINVAL);
}

static void test_ifname(void **state)
{
	(void)state;
	assert_string_equal(tfc_ifname(NO_IF), NO_IF_NAME);
	assert_string_equal(tfc_ifname(LO), "lo");
	/* 999983 shares 999999's cache slot (both are 15 mod 16): no stale name. */
	assert_string_equal(tfc_ifname(999983), "if999983");
	assert_string_equal(tfc_ifname(NO_IF), NO_IF_NAME);
}

/* ---- JSON ------------------------------------------------------------- */

/* The whole output must be exactly one JSON value (then a newline). */
static struct json_object *parse_all(const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t len = strlen(text);

	assert_non_null(tok);
	o = json_tokener_parse_ex(tok, text, (int)len);
	assert_non_null(o);
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		assert_true(text[i] == '\n' || text[i] == ' ');
	json_tokener_free(tok);
	return o;
}

static void expect_str(struct json_object *o, const char *key, const char *want)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("JSON field '%s' missing", key);
	assert_int_equal(json_object_get_type(v), json_type_string);
	assert_string_equal(json_object_get_string(v), want);
}

/* Numbers must be JSON numbers, not strings, and exact to 64 bits. */
static void expect_u64(struct json_object *o, const char *key, uint64_t want)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("JSON field '%s' missing", key);
	assert_int_equal(json_object_get_type(v), json_type_int);
	if (json_object_get_uint64(v) != want)
		fail_msg("JSON field '%s' is %" PRIu64 ", want %" PRIu64, key,
			 json_object_get_uint64(v), want);
}

/* A v4 entry on a missing interface, a v6 one on lo with 64-bit extremes. */
static void ip_print_fixture(struct tfc_ip_entry *e)
{
	static const __u16 doc[8] = {0x2001, 0xdb8, 0, 0, 0, 0, 0, 1};
	__u8 a[16];

	v4(a, 192, 0, 2, 1);
	e[0] = ip_entry(4, a, TFC_DIR_INGRESS, NO_IF, 1500, 1);
	v6(a, doc);
	e[1] = ip_entry(6, a, TFC_DIR_EGRESS, LO, UINT64_MAX, 1ULL << 40);
}

static char *print_ip(const struct tfc_ip_entry *e, size_t n, enum tfc_format fmt)
{
	struct unit_mem m;

	unit_mem_open(&m);
	assert_int_equal(tfc_print_ip(m.f, e, n, fmt), 0);
	return unit_mem_close(&m);
}

static char *print_flow(const struct tfc_flow_entry *e, size_t n, enum tfc_format fmt)
{
	struct unit_mem m;

	unit_mem_open(&m);
	assert_int_equal(tfc_print_flow(m.f, e, n, fmt), 0);
	return unit_mem_close(&m);
}

static void test_json_ip(void **state)
{
	struct tfc_ip_entry e[2];
	struct json_object *arr, *o;
	char *out;

	(void)state;
	ip_print_fixture(e);
	out = print_ip(e, 2, TFC_FMT_JSON);
	arr = parse_all(out);
	assert_int_equal(json_object_get_type(arr), json_type_array);
	assert_int_equal(json_object_array_length(arr), 2);
	o = json_object_array_get_idx(arr, 0);
	expect_str(o, "ip", "192.0.2.1");
	expect_u64(o, "family", 4);
	expect_str(o, "direction", "ingress");
	expect_u64(o, "ifindex", NO_IF);
	expect_str(o, "ifname", NO_IF_NAME);
	expect_u64(o, "bytes", 1500);
	expect_u64(o, "packets", 1);
	o = json_object_array_get_idx(arr, 1);
	expect_str(o, "ip", "2001:db8::1");
	expect_u64(o, "family", 6);
	expect_str(o, "direction", "egress");
	expect_u64(o, "ifindex", LO);
	expect_str(o, "ifname", "lo");
	expect_u64(o, "bytes", UINT64_MAX);
	expect_u64(o, "packets", 1ULL << 40);
	json_object_put(arr);
	free(out);
}

/* A TCP flow over IPv4 on a missing interface and a UDP one over IPv6. */
static void flow_print_fixture(struct tfc_flow_entry *e)
{
	static const __u16 s6[8] = {0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa};
	static const __u16 d6[8] = {0xfe80, 0, 0, 0, 0, 0, 0, 0xb};
	struct flow_spec s = {.family = 4, .sport = 40000, .dport = 443, .proto = 6};

	v4(s.src, 10, 0, 0, 1);
	v4(s.dst, 10, 0, 0, 2);
	s.ifindex = NO_IF, s.bytes = 3000, s.packets = 3;
	e[0] = flow_entry(&s);
	e[0].val.first_seen_ns = 1000;
	e[0].val.last_seen_ns = 2000;
	e[0].val.tcp_flags = 0x12; /* SYN|ACK */
	s.family = 6, s.proto = 17, s.sport = 5353, s.dport = 65535;
	s.dir = TFC_DIR_EGRESS, s.ifindex = LO, s.bytes = 1ULL << 63, s.packets = 7;
	v6(s.src, s6);
	v6(s.dst, d6);
	e[1] = flow_entry(&s);
	e[1].val.first_seen_ns = UINT64_MAX - 1;
	e[1].val.last_seen_ns = UINT64_MAX;
}

static void test_json_flow(void **state)
{
	struct tfc_flow_entry e[2];
	struct json_object *arr, *o;
	char *out;

	(void)state;
	flow_print_fixture(e);
	out = print_flow(e, 2, TFC_FMT_JSON);
	arr = parse_all(out);
	assert_int_equal(json_object_array_length(arr), 2);
	o = json_object_array_get_idx(arr, 0);
	expect_str(o, "src", "10.0.0.1");
	expect_str(o, "dst", "10.0.0.2");
	expect_u64(o, "sport", 40000);
	expect_u64(o, "dport", 443);
	expect_u64(o, "proto", 6);
	expect_u64(o, "family", 4);
	expect_str(o, "direction", "ingress");
	expect_u64(o, "ifindex", NO_IF);
	expect_u64(o, "bytes", 3000);
	expect_u64(o, "packets", 3);
	expect_u64(o, "first_seen_ns", 1000);
	expect_u64(o, "last_seen_ns", 2000);
	expect_u64(o, "tcp_flags", 0x12);
	o = json_object_array_get_idx(arr, 1);
	expect_str(o, "src", "2001:db8::a");
	expect_str(o, "dst", "fe80::b");
	expect_u64(o, "sport", 5353);
	expect_u64(o, "dport", 65535);
	expect_u64(o, "proto", 17);
	expect_u64(o, "family", 6);
	expect_str(o, "direction", "egress");
	expect_u64(o, "ifindex", LO);
	expect_u64(o, "bytes", 1ULL << 63);
	expect_u64(o, "packets", 7);
	expect_u64(o, "first_seen_ns", UINT64_MAX - 1);
	expect_u64(o, "last_seen_ns", UINT64_MAX);
	expect_u64(o, "tcp_flags", 0);
	json_object_put(arr);
	free(out);
}

/* ---- display filter: --address, --exclude-link-local/-multicast -------- */

static int in_cidr(const char *cidr, int family, const char *addr)
{
	struct tfc_addr_filter f = {0};
	__u8 a[16] = {0};

	assert_int_equal(tfc_cidr_parse(cidr, &f), 0);
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, addr, a), 1);
	return tfc_addr_in_cidr(&f, (__u8)family, a);
}

static void test_cidr_match(void **state)
{
	(void)state;
	assert_true(in_cidr("10.0.0.0/8", 4, "10.255.1.2"));
	assert_false(in_cidr("10.0.0.0/8", 4, "11.0.0.1"));
	assert_true(in_cidr("198.18.0.0/15", 4, "198.19.255.255"));
	assert_false(in_cidr("198.18.0.0/15", 4, "198.20.0.0"));
	assert_true(in_cidr("192.168.1.7", 4, "192.168.1.7")); /* no length: one address */
	assert_false(in_cidr("192.168.1.7", 4, "192.168.1.6"));
	assert_true(in_cidr("0.0.0.0/0", 4, "203.0.113.9"));
	assert_false(in_cidr("0.0.0.0/0", 6, "::1")); /* families never match */
	assert_true(in_cidr("fd00::/8", 6, "fd12:3456::1"));
	assert_false(in_cidr("fd00::/8", 6, "fe00::1"));
	assert_true(in_cidr("2001:db8::/33", 6, "2001:db8:7fff::1"));
	assert_false(in_cidr("2001:db8::/33", 6, "2001:db8:8000::1"));
	assert_true(in_cidr("2001:db8::1/128", 6, "2001:db8::1"));
	assert_false(in_cidr("2001:db8::1/127", 6, "2001:db8::2"));
	assert_true(in_cidr("10.1.2.3/8", 4, "10.9.9.9")); /* host bits ignored */
}

static void test_cidr_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",	      "/8",	     "10.0.0.0/",     "10.0.0.0/33",
		"fd00::/129", "10.0.0.0/-1", "10.0.0.0/8x",   "10.0.0.0/ 8",
		"10.0.0/8",   "example.com", "10.0.0.0/0008", "fd00::/+8",
	};
	struct tfc_addr_filter f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tfc_cidr_parse(bad[i], &f) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
}

static void test_link_local_multicast(void **state)
{
	__u8 a[16] = {0};

	(void)state;
	v4(a, 169, 254, 3, 4);
	assert_true(tfc_addr_link_local(4, a));
	v4(a, 169, 253, 3, 4);
	assert_false(tfc_addr_link_local(4, a));
	v4(a, 224, 0, 0, 251);
	assert_true(tfc_addr_multicast(4, a));
	v4(a, 239, 255, 255, 250);
	assert_true(tfc_addr_multicast(4, a));
	v4(a, 240, 0, 0, 1);
	assert_false(tfc_addr_multicast(4, a));
	inet_pton(AF_INET6, "febf::1", a);
	assert_true(tfc_addr_link_local(6, a));
	inet_pton(AF_INET6, "fec0::1", a);
	assert_false(tfc_addr_link_local(6, a));
	inet_pton(AF_INET6, "ff02::fb", a);
	assert_true(tfc_addr_multicast(6, a));
	assert_false(tfc_addr_link_local(6, a));
}

static void test_filter_entries(void **state)
{
	struct tfc_addr_filter f = {0};
	struct tfc_ip_entry e[4];
	struct tfc_flow_entry fl[3];
	__u8 a[16];

	(void)state;
	memset(e, 0, sizeof(e));
	memset(fl, 0, sizeof(fl));
	v4(a, 198, 18, 0, 1);
	e[0] = ip_entry(4, a, TFC_DIR_INGRESS, LO, 1, 1);
	v4(a, 169, 254, 0, 1);
	e[1] = ip_entry(4, a, TFC_DIR_INGRESS, LO, 2, 2);
	inet_pton(AF_INET6, "ff02::1", a);
	e[2] = ip_entry(6, a, TFC_DIR_INGRESS, LO, 3, 3);
	v4(a, 10, 0, 0, 1);
	e[3] = ip_entry(4, a, TFC_DIR_INGRESS, LO, 4, 4);
	assert_int_equal(tfc_filter_ip(&f, e, 4), 4); /* no filter: all */
	f.no_link_local = 1;
	f.no_multicast = 1;
	assert_int_equal(tfc_filter_ip(&f, e, 4), 2);
	assert_int_equal(e[0].val.bytes, 1);
	assert_int_equal(e[1].val.bytes, 4);
	assert_int_equal(tfc_cidr_parse("10.0.0.0/8", &f), 0);
	assert_int_equal(tfc_filter_ip(&f, e, 2), 1);
	assert_int_equal(e[0].val.bytes, 4);
	/* Flows: shown when source or destination is under the CIDR. */
	for (int i = 0; i < 3; i++) {
		fl[i].key.family = 4;
		fl[i].val.bytes = (__u64)i;
	}
	v4(fl[0].key.src, 10, 1, 1, 1), v4(fl[0].key.dst, 198, 18, 0, 1);
	v4(fl[1].key.src, 198, 18, 0, 1), v4(fl[1].key.dst, 10, 2, 2, 2);
	v4(fl[2].key.src, 198, 18, 0, 1), v4(fl[2].key.dst, 224, 0, 0, 1);
	assert_int_equal(tfc_filter_flow(&f, fl, 3), 2);
	f.cidr_set = 0;
	assert_int_equal(tfc_filter_flow(&f, fl, 2), 2);
	v4(fl[1].key.dst, 239, 1, 1, 1); /* either end excluded hides the flow */
	assert_int_equal(tfc_filter_flow(&f, fl, 2), 1);
}

/* ---- wall-clock times of flows ----------------------------------------- */

#define T_2026_12_06_020304 1796522584LL /* 2026-12-06T02:03:04Z, Unix seconds */

static void test_wall_str(void **state)
{
	char buf[TFC_WALL_STRLEN];
	__s64 off = T_2026_12_06_020304 * 1000000000LL - 5000000000LL; /* boot: 5 s before */

	(void)state;
	/* Monotonic 5.123456789 s: the offset's second, milliseconds truncated. */
	assert_string_equal(tfc_wall_str(5123456789ULL, off, buf), "2026-12-06T02:03:04.123Z");
	/* Nanoseconds of the offset and of the time add up past a second. */
	assert_string_equal(tfc_wall_str(5999000000ULL, off + 2000000, buf),
			    "2026-12-06T02:03:05.001Z");
	/* A negative offset with nanoseconds borrows from the second. */
	assert_string_equal(tfc_wall_str(0, -1000000, buf), "1969-12-31T23:59:59.999Z");
	/* The same second again comes from the cache, a new one does not. */
	assert_string_equal(tfc_wall_str(5123456789ULL, off, buf), "2026-12-06T02:03:04.123Z");
	assert_string_equal(tfc_wall_str(5123456789ULL + 86400000000000ULL, off, buf),
			    "2026-12-07T02:03:04.123Z");
	/* The largest monotonic time does not overflow. */
	assert_string_equal(tfc_wall_str(UINT64_MAX, 0, buf), "2554-07-21T23:34:33.709Z");
}

/* The offset is CLOCK_REALTIME - CLOCK_MONOTONIC: now, converted, is now. */
static void test_wall_offset_now(void **state)
{
	struct timespec mono, real;
	__s64 off = tfc_wall_offset_ns();

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	__s64 got = (__s64)mono.tv_sec * 1000000000LL + mono.tv_nsec + off;
	__s64 want = (__s64)real.tv_sec * 1000000000LL + real.tv_nsec;

	assert_true(llabs(got - want) < 1000000000LL);
}

/* A field is the conversion with the offset read before or after the dump. */
static void expect_wall(struct json_object *o, const char *key, __u64 ns, __s64 before, __s64 after)
{
	char a[TFC_WALL_STRLEN], b[TFC_WALL_STRLEN];
	struct json_object *v;
	const char *got;

	assert_true(json_object_object_get_ex(o, key, &v));
	got = json_object_get_string(v);
	tfc_wall_str(ns, before, a);
	tfc_wall_str(ns, after, b);
	if (strcmp(got, a) && strcmp(got, b))
		fail_msg("%s: got %s, expected %s or %s", key, got, a, b);
}

static void test_json_flow_wall(void **state)
{
	struct tfc_flow_entry e[2];
	struct json_object *arr, *o;
	__s64 before, after;
	char *out;

	(void)state;
	flow_print_fixture(e);
	e[0].val.first_seen_ns = 3000000000ULL;
	e[0].val.last_seen_ns = 4500000000ULL;
	before = tfc_wall_offset_ns();
	out = print_flow(e, 1, TFC_FMT_JSON);
	after = tfc_wall_offset_ns();
	arr = parse_all(out);
	o = json_object_array_get_idx(arr, 0);
	expect_wall(o, "first_seen", 3000000000ULL, before, after);
	expect_wall(o, "last_seen", 4500000000ULL, before, after);
	expect_u64(o, "first_seen_ns", 3000000000ULL);
	expect_u64(o, "last_seen_ns", 4500000000ULL);
	json_object_put(arr);
	free(out);
}

static void test_json_empty(void **state)
{
	struct json_object *arr;
	char *out;

	(void)state;
	out = print_ip(NULL, 0, TFC_FMT_JSON);
	arr = parse_all(out);
	assert_int_equal(json_object_get_type(arr), json_type_array);
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(arr);
	free(out);
	out = print_flow(NULL, 0, TFC_FMT_JSON);
	arr = parse_all(out);
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(arr);
	free(out);
}

/* ---- CSV -------------------------------------------------------------- */

static char *csv_field(const char *s)
{
	struct unit_mem m;

	unit_mem_open(&m);
	tfc_csv_field(m.f, s);
	return unit_mem_close(&m);
}

static void assert_csv_field(const char *in, const char *want)
{
	char *out = csv_field(in);

	assert_string_equal(out, want);
	free(out);
}

/* RFC 4180 2.6-2.7: quote fields with , " CR or LF; double inner quotes. */
static void test_csv_field_quoting(void **state)
{
	(void)state;
	assert_csv_field("plain", "plain");
	assert_csv_field("", "");
	assert_csv_field("2001:db8::1", "2001:db8::1");
	assert_csv_field("a,b", "\"a,b\"");
	assert_csv_field("say \"hi\"", "\"say \"\"hi\"\"\"");
	assert_csv_field("\"", "\"\"\"\"");
	assert_csv_field("two\nlines", "\"two\nlines\"");
	assert_csv_field("cr\rhere", "\"cr\rhere\"");
}

/* Splits one line (no quoted fields in these fixtures) in place. */
static size_t split(char *line, char **cols, size_t max)
{
	size_t n = 0;

	for (char *p = line; n < max; p++) {
		cols[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p = '\0';
	}
	return n;
}

/* Field names of the JSON export of the same entries, in their order. */
static size_t json_keys(const char *json_text, char keys[][32], size_t max)
{
	struct json_object *arr = parse_all(json_text);
	size_t n = 0;

	json_object_object_foreach(json_object_array_get_idx(arr, 0), k, v)
	{
		(void)v;
		assert_true(n < max);
		snprintf(keys[n++], 32, "%s", k);
	}
	json_object_put(arr);
	return n;
}

struct kv {
	const char *key;
	const char *val;
};

#define NKV(rows) (sizeof(rows) / sizeof((rows)[0]))

/* Every expected field is a column, with this row's value under it. */
static void assert_row(char **hdr, char **row, size_t ncol, const struct kv *want, size_t nwant)
{
	for (size_t i = 0; i < nwant; i++) {
		size_t c = 0;

		while (c < ncol && strcmp(hdr[c], want[i].key))
			c++;
		if (c == ncol)
			fail_msg("CSV column '%s' missing", want[i].key);
		assert_string_equal(row[c], want[i].val);
	}
}

/* Header equals the JSON names in order; one row per entry, no more. */
static void check_csv(char *csv, const char *json, const struct kv *const rows[],
		      const size_t nkv[], size_t nrows)
{
	char keys[32][32], *lines[8], *hdr[32], *row[32];
	size_t nkeys = json_keys(json, keys, 32), nl = 0, nh;

	for (char *save = NULL, *l = strtok_r(csv, "\n", &save); l && nl < 8;
	     l = strtok_r(NULL, "\n", &save))
		lines[nl++] = l;
	assert_int_equal(nl, nrows + 1);
	nh = split(lines[0], hdr, 32);
	assert_int_equal(nh, nkeys);
	for (size_t i = 0; i < nh; i++)
		assert_string_equal(hdr[i], keys[i]);
	for (size_t r = 0; r < nrows; r++) {
		assert_int_equal(split(lines[r + 1], row, 32), nh);
		assert_row(hdr, row, nh, rows[r], nkv[r]);
	}
}

static const struct kv ip_row0[] = {
	{"ip", "192.0.2.1"},   {"family", "4"},	       {"direction", "ingress"},
	{"ifindex", "999999"}, {"ifname", NO_IF_NAME}, {"bytes", "1500"},
	{"packets", "1"},      {"prefix_len", "32"},   {"prefix", "false"},
};
static const struct kv ip_row1[] = {
	{"ip", "2001:db8::1"},
	{"family", "6"},
	{"direction", "egress"},
	{"ifindex", "1"},
	{"ifname", "lo"},
	{"bytes", "18446744073709551615"},
	{"packets", "1099511627776"},
	{"prefix_len", "128"},
	{"prefix", "false"},
};

static void test_csv_ip(void **state)
{
	const struct kv *const rows[] = {ip_row0, ip_row1};
	const size_t nkv[] = {NKV(ip_row0), NKV(ip_row1)};
	struct tfc_ip_entry e[2];
	char *csv, *json;

	(void)state;
	ip_print_fixture(e);
	csv = print_ip(e, 2, TFC_FMT_CSV);
	json = print_ip(e, 2, TFC_FMT_JSON);
	check_csv(csv, json, rows, nkv, 2);
	free(csv);
	free(json);
}

static const struct kv flow_row0[] = {
	{"src", "10.0.0.1"},
	{"dst", "10.0.0.2"},
	{"sport", "40000"},
	{"dport", "443"},
	{"proto", "6"},
	{"family", "4"},
	{"direction", "ingress"},
	{"ifindex", "999999"},
	{"bytes", "3000"},
	{"packets", "3"},
	{"first_seen_ns", "1000"},
	{"last_seen_ns", "2000"},
	{"tcp_flags", "18"},
};
static const struct kv flow_row1[] = {
	{"src", "2001:db8::a"},
	{"dst", "fe80::b"},
	{"proto", "17"},
	{"direction", "egress"},
	{"bytes", "9223372036854775808"},
	{"last_seen_ns", "18446744073709551615"},
};

static void test_csv_flow(void **state)
{
	const struct kv *const rows[] = {flow_row0, flow_row1};
	const size_t nkv[] = {NKV(flow_row0), NKV(flow_row1)};
	struct tfc_flow_entry e[2];
	char *csv, *json;

	(void)state;
	flow_print_fixture(e);
	csv = print_flow(e, 2, TFC_FMT_CSV);
	json = print_flow(e, 2, TFC_FMT_JSON);
	check_csv(csv, json, rows, nkv, 2);
	free(csv);
	free(json);
}

/*
 * `dump-maps --csv` promises "CSV with a header line": an empty map must
 * still give the header, or a script reading columns by name breaks.
 */
static void test_csv_empty_has_header(void **state)
{
	char *out;

	(void)state;
	out = print_ip(NULL, 0, TFC_FMT_CSV);
	assert_string_equal(out,
			    "ip,family,direction,ifindex,ifname,bytes,packets,prefix_len,prefix\n");
	free(out);
}

/* ---- table ------------------------------------------------------------ */

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static const char *line_n(const char *s, size_t n)
{
	while (n-- && s)
		s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL;
	return s;
}

/* Each needle appears on line n, before its end. */
static void assert_on_line(const char *text, size_t n, const char *const *needles, size_t k)
{
	const char *l = line_n(text, n);
	size_t len;

	assert_non_null(l);
	len = strcspn(l, "\n");
	for (size_t i = 0; i < k; i++) {
		const char *hit = strstr(l, needles[i]);

		if (!hit || hit >= l + len)
			fail_msg("'%s' not on line %zu: %.*s", needles[i], n, (int)len, l);
	}
}

static void test_table_ip(void **state)
{
	struct tfc_ip_entry e[2];
	char *out;

	(void)state;
	ip_print_fixture(e);
	out = print_ip(e, 2, TFC_FMT_TABLE);
	assert_int_equal(count_lines(out), 3);
	assert_on_line(out, 0, UNIT_WORDS("IFACE", "DIR", "ADDRESS", "PACKETS", "BYTES"), 5);
	assert_on_line(out, 1, UNIT_WORDS(NO_IF_NAME, "ingress", "192.0.2.1", " 1500"), 4);
	assert_on_line(out, 2, UNIT_WORDS("lo ", "egress", "2001:db8::1", "1099511627776"), 4);
	assert_on_line(out, 2, UNIT_WORDS("18446744073709551615"), 1);
	free(out);
	out = print_ip(NULL, 0, TFC_FMT_TABLE);
	assert_int_equal(count_lines(out), 1);
	free(out);
}

static void test_table_flow(void **state)
{
	struct tfc_flow_entry e[2];
	char *out;

	(void)state;
	flow_print_fixture(e);
	out = print_flow(e, 2, TFC_FMT_TABLE);
	assert_int_equal(count_lines(out), 3);
	assert_on_line(out, 0, UNIT_WORDS("SRC", "DST", "SPORT", "DPORT", "PROTO", "BYTES"), 6);
	assert_on_line(out, 1, UNIT_WORDS(NO_IF_NAME, "10.0.0.1", "10.0.0.2", "40000", "443"), 5);
	assert_on_line(out, 1, UNIT_WORDS(" 3000", "0x12"), 2);
	assert_on_line(out, 2, UNIT_WORDS("lo ", "2001:db8::a", "fe80::b", "5353", "65535"), 5);
	free(out);
}

/* ---- prefix rows (issue 19) --------------------------------------------- */

static struct tfc_ip_entry prefix_entry(__u8 family, const char *addr, __u8 plen, __u64 bytes)
{
	__u8 a[16] = {0};
	struct tfc_ip_entry e;

	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, addr, a), 1);
	e = ip_entry(family, a, TFC_DIR_INGRESS, LO, bytes, 1);
	e.key.is_prefix = 1;
	e.key.prefix_len = plen;
	return e;
}

static void test_prefix_key_str(void **state)
{
	struct tfc_ip_entry e = prefix_entry(4, "198.18.7.0", 24, 1);
	char buf[TFC_KEY_STRLEN];
	__u8 a[16];

	(void)state;
	assert_string_equal(tfc_key_str(&e.key, buf, sizeof(buf)), "198.18.7.0/24");
	assert_int_equal(tfc_key_plen(&e.key), 24);
	e = prefix_entry(6, "fd00:1::", 48, 1);
	assert_string_equal(tfc_key_str(&e.key, buf, sizeof(buf)), "fd00:1::/48");
	e = prefix_entry(4, "0.0.0.0", 0, 1);
	assert_string_equal(tfc_key_str(&e.key, buf, sizeof(buf)), "0.0.0.0/0");
	assert_int_equal(tfc_key_plen(&e.key), 0);
	/* The longest text there is fits. */
	e = prefix_entry(6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 128, 1);
	assert_string_equal(tfc_key_str(&e.key, buf, sizeof(buf)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	/* An address: bare, its full length. */
	v4(a, 198, 18, 0, 1);
	e = ip_entry(4, a, TFC_DIR_INGRESS, LO, 1, 1);
	assert_string_equal(tfc_key_str(&e.key, buf, sizeof(buf)), "198.18.0.1");
	assert_int_equal(tfc_key_plen(&e.key), 32);
	e.key.family = 6;
	assert_int_equal(tfc_key_plen(&e.key), 128);
}

static void test_prefix_json_csv_table(void **state)
{
	struct tfc_ip_entry e[1] = {prefix_entry(6, "fd00:1::", 48, 300)};
	struct json_object *arr, *o, *v;
	char *out;

	(void)state;
	out = print_ip(e, 1, TFC_FMT_JSON);
	arr = parse_all(out);
	o = json_object_array_get_idx(arr, 0);
	expect_str(o, "ip", "fd00:1::"); /* the bare address: prefix_len says the rest */
	expect_u64(o, "prefix_len", 48);
	assert_true(json_object_object_get_ex(o, "prefix", &v));
	assert_int_equal(json_object_get_type(v), json_type_boolean);
	assert_true(json_object_get_boolean(v));
	json_object_put(arr);
	free(out);
	out = print_ip(e, 1, TFC_FMT_CSV);
	assert_string_equal(out,
			    "ip,family,direction,ifindex,ifname,bytes,packets,prefix_len,prefix\n"
			    "fd00:1::,6,ingress,1,lo,300,1,48,true\n");
	free(out);
	out = print_ip(e, 1, TFC_FMT_TABLE);
	assert_on_line(out, 1, UNIT_WORDS("lo ", " fd00:1::/48 ", " 300"), 3);
	free(out);
}

/* A prefix row is shown when the whole prefix is under the CIDR. */
static void test_filter_prefix_rows(void **state)
{
	struct tfc_addr_filter f = {0};
	struct tfc_ip_entry e[3];

	(void)state;
	e[0] = prefix_entry(4, "198.18.7.0", 24, 1);
	e[1] = prefix_entry(4, "198.18.0.0", 15, 2);
	e[2] = prefix_entry(6, "fd00:1::", 48, 3);
	assert_int_equal(tfc_cidr_parse("198.18.0.0/16", &f), 0);
	assert_int_equal(tfc_filter_ip(&f, e, 3), 1);
	assert_int_equal(e[0].val.bytes, 1);
	e[1] = prefix_entry(4, "198.18.0.0", 15, 2);
	assert_int_equal(tfc_cidr_parse("198.18.7.0/24", &f), 0);
	assert_int_equal(tfc_filter_ip(&f, e, 2), 1); /* the /24 itself */
	assert_int_equal(tfc_cidr_parse("198.18.7.1", &f), 0);
	assert_int_equal(tfc_filter_ip(&f, e, 1), 0); /* one address of it: no */
}

/* What status and serve say a full IP map does with new addresses. */
static void test_ip_map_full_hint(void **state)
{
	struct tfc_control c;
	char buf[TFC_FULL_HINT_LEN];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_string_equal(
		tfc_ip_map_full_hint(NULL, buf, sizeof(buf)),
		"new addresses go to ip_map_full (see --ip-map-size, attach --migrate)");
	assert_string_equal(
		tfc_ip_map_full_hint(&c, buf, sizeof(buf)),
		"new addresses go to ip_map_full (see --ip-map-size, attach --migrate)");
	c.overflow_v4 = 24;
	c.overflow_v6 = 48;
	assert_string_equal(tfc_ip_map_full_hint(&c, buf, sizeof(buf)),
			    "new addresses are counted by prefix (IPv4 /24, IPv6 /48) while the "
			    "prefix map has room (see --ip-map-size, attach --migrate)");
	c.overflow_v4 = 0;
	assert_non_null(strstr(tfc_ip_map_full_hint(&c, buf, sizeof(buf)), "(IPv4 off, IPv6 /48)"));
}

/* --sort ip: an address first, then the prefixes starting there, longest first. */
static void test_sort_prefix_rows(void **state)
{
	struct tfc_ip_entry e[4];
	__u8 a[16];

	(void)state;
	e[0] = prefix_entry(4, "198.18.0.0", 16, 1);
	e[1] = prefix_entry(4, "198.18.0.0", 24, 2);
	v4(a, 198, 18, 0, 0);
	e[2] = ip_entry(4, a, TFC_DIR_INGRESS, LO, 3, 1);
	e[3] = prefix_entry(4, "198.17.0.0", 16, 4);
	tfc_sort_ip(e, 4, TFC_SORT_IP);
	assert_int_equal(e[0].val.bytes, 4);
	assert_int_equal(e[1].val.bytes, 3);
	assert_int_equal(e[2].val.bytes, 2);
	assert_int_equal(e[3].val.bytes, 1);
	/* By bytes: a prefix is one row like any other. */
	tfc_sort_ip(e, 4, TFC_SORT_BYTES);
	assert_int_equal(e[0].val.bytes, 4);
	assert_int_equal(e[3].val.bytes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sum_several_cpus),
		cmocka_unit_test(test_sum_no_cpu),
		cmocka_unit_test(test_sum_large),
		cmocka_unit_test(test_addr_ipv4),
		cmocka_unit_test(test_addr_ipv6_rfc5952),
		cmocka_unit_test(test_addr_unknown_family),
		cmocka_unit_test(test_sort_ip_bytes),
		cmocka_unit_test(test_sort_ip_packets),
		cmocka_unit_test(test_sort_ip_address),
		cmocka_unit_test(test_sort_empty_and_single),
		cmocka_unit_test(test_sort_ip_random),
		cmocka_unit_test(test_sort_flow_random),
		cmocka_unit_test(test_sort_flow_bytes),
		cmocka_unit_test(test_sort_flow_packets),
		cmocka_unit_test(test_sort_flow_address),
		cmocka_unit_test(test_sort_parse),
		cmocka_unit_test(test_ifname),
		cmocka_unit_test(test_json_ip),
		cmocka_unit_test(test_json_flow),
		cmocka_unit_test(test_json_empty),
		cmocka_unit_test(test_wall_str),
		cmocka_unit_test(test_cidr_match),
		cmocka_unit_test(test_cidr_parse_rejects),
		cmocka_unit_test(test_link_local_multicast),
		cmocka_unit_test(test_filter_entries),
		cmocka_unit_test(test_wall_offset_now),
		cmocka_unit_test(test_json_flow_wall),
		cmocka_unit_test(test_csv_field_quoting),
		cmocka_unit_test(test_csv_ip),
		cmocka_unit_test(test_csv_flow),
		cmocka_unit_test(test_csv_empty_has_header),
		cmocka_unit_test(test_table_ip),
		cmocka_unit_test(test_table_flow),
		cmocka_unit_test(test_prefix_key_str),
		cmocka_unit_test(test_prefix_json_csv_table),
		cmocka_unit_test(test_filter_prefix_rows),
		cmocka_unit_test(test_sort_prefix_rows),
		cmocka_unit_test(test_ip_map_full_hint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
