// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The IPFIX export cycle against a fake flow map: deltas add up to the
 * totals, idle flows leave the map with their last packets, evictions are
 * seen, timestamps convert, records carry what the map held.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "unit.h"
#include "export/ipfix.h"

#define S(x) ((__u64)(x)*1000000000ULL)

/* ---- a fake map and collector ---------------------------------------------- */

#define FAKE_MAX 8

struct fake {
	struct tfc_flow_entry e[FAKE_MAX];
	int present[FAKE_MAX];
	size_t n;
	/* Added to an entry when it is taken: a packet between dump and delete. */
	__u64 late_packets, late_bytes;
	int take_calls;
	int emit_error; /* returned by emit when set */
	struct tfc_ipfix_record rec[32];
	size_t nrec;
};

static int fake_find(struct fake *f, const struct flow_key *k)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->present[i] && !memcmp(&f->e[i].key, k, sizeof(*k)))
			return (int)i;
	return -1;
}

static int fake_take(void *ctx, const struct flow_key *key, struct flow_value *val)
{
	struct fake *f = ctx;
	int i = fake_find(f, key);

	f->take_calls++;
	if (i < 0)
		return -ENOENT;
	f->e[i].val.packets += f->late_packets;
	f->e[i].val.bytes += f->late_bytes;
	*val = f->e[i].val;
	f->present[i] = 0;
	return 0;
}

static int fake_emit(void *ctx, const struct tfc_ipfix_record *r)
{
	struct fake *f = ctx;

	if (f->emit_error)
		return f->emit_error;
	assert_true(f->nrec < 32);
	f->rec[f->nrec++] = *r;
	return 0;
}

/* A UDP/IPv4 flow 198.18.0.1:1000 -> 198.18.0.2:<dport> on ifindex 3, ingress. */
static size_t fake_add(struct fake *f, __u16 dport, __u64 first_ns)
{
	struct tfc_flow_entry *e = &f->e[f->n];

	memset(e, 0, sizeof(*e));
	e->key.ifindex = 3;
	e->key.family = 4;
	e->key.proto = IPPROTO_UDP;
	e->key.sport = 1000;
	e->key.dport = dport;
	memcpy(e->key.src, (__u8[]){198, 18, 0, 1}, 4);
	memcpy(e->key.dst, (__u8[]){198, 18, 0, 2}, 4);
	e->val.first_seen_ns = first_ns;
	e->val.last_seen_ns = first_ns;
	f->present[f->n] = 1;
	return f->n++;
}

/* `packets` more packets of 100 bytes, the last at `t`. */
static void fake_traffic(struct fake *f, size_t i, __u64 packets, __u64 t)
{
	f->e[i].val.packets += packets;
	f->e[i].val.bytes += 100 * packets;
	f->e[i].val.last_seen_ns = t;
}

/* The dump: the entries still present, as tfc_dump_flow would return them. */
static size_t fake_dump(const struct fake *f, struct tfc_flow_entry *out)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->present[i])
			out[n++] = f->e[i];
	return n;
}

struct ctx {
	struct fake map;
	struct tfc_ipfix_table *t;
	struct tfc_ipfix_timeouts to;
	struct tfc_ipfix_io io;
	struct tfc_ipfix_counts c;
};

static int setup(void **state)
{
	struct ctx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->t = tfc_ipfix_table_new();
	assert_non_null(x->t);
	x->to.active_ns = S(10);
	x->to.idle_ns = S(5);
	x->io.take = fake_take;
	x->io.emit = fake_emit;
	x->io.ctx = &x->map;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *x = *state;

	tfc_ipfix_table_free(x->t);
	free(x);
	return 0;
}

static int scan(struct ctx *x, __u64 now)
{
	struct tfc_flow_entry e[FAKE_MAX];
	size_t n = fake_dump(&x->map, e);

	return tfc_ipfix_scan(x->t, &x->to, e, n, now, &x->io, &x->c);
}

static __u64 sum_packets(const struct fake *f)
{
	__u64 p = 0;

	for (size_t i = 0; i < f->nrec; i++)
		p += f->rec[i].packets;
	return p;
}

/* ---- the cycle ------------------------------------------------------------ */

/* A young flow waits for the active timeout; then its whole count goes out once. */
static void test_active_timeout(void **state)
{
	struct ctx *x = *state;
	size_t i = fake_add(&x->map, 53, S(100));

	fake_traffic(&x->map, i, 3, S(104));
	assert_int_equal(scan(x, S(105)), 0);
	assert_int_equal(x->map.nrec, 0);
	fake_traffic(&x->map, i, 2, S(109));
	assert_int_equal(scan(x, S(110)), 0);
	assert_int_equal(x->map.nrec, 1);
	assert_int_equal(x->map.rec[0].packets, 5);
	assert_int_equal(x->map.rec[0].bytes, 500);
	assert_int_equal(x->map.rec[0].start_ns, S(100));
	assert_int_equal(x->map.rec[0].end_ns, S(109));
	assert_int_equal(x->map.rec[0].end_reason, TFC_IPFIX_END_ACTIVE);
	assert_int_equal(x->map.take_calls, 0); /* still in the map */
	assert_int_equal(tfc_ipfix_table_size(x->t), 1);
	/* What the next delta is computed against. */
	assert_int_equal(tfc_ipfix_table_find(x->t, &x->map.e[i].key)->packets, 5);
	assert_int_equal(tfc_ipfix_table_find(x->t, &x->map.e[i].key)->exported_ns, S(110));
}

/* Traffic across exports: each record holds only what is new, all add up. */
static void test_deltas_add_up(void **state)
{
	struct ctx *x = *state;
	size_t i = fake_add(&x->map, 53, S(0));
	__u64 sent = 0;

	x->to.active_ns = S(1);
	for (int k = 1; k <= 5; k++) {
		fake_traffic(&x->map, i, (__u64)k, S(k) - 1000);
		sent += (__u64)k;
		assert_int_equal(scan(x, S(k)), 0);
		assert_int_equal(x->map.rec[x->map.nrec - 1].packets, k);
	}
	assert_int_equal(x->map.nrec, 5);
	assert_int_equal(sum_packets(&x->map), sent);
	/* A later record starts where the export before it was taken. */
	assert_int_equal(x->map.rec[1].start_ns, S(1));
	assert_int_equal(x->map.rec[4].start_ns, S(4));
	/* Nothing new: no record, however old the last export. */
	assert_int_equal(scan(x, S(6)), 0);
	assert_int_equal(x->map.nrec, 5);
}

/* Idle: removed from the map, with a packet that came between dump and delete. */
static void test_idle_expiry_takes_late_packets(void **state)
{
	struct ctx *x = *state;
	size_t i = fake_add(&x->map, 53, S(0));

	fake_traffic(&x->map, i, 4, S(1));
	x->map.late_packets = 1;
	x->map.late_bytes = 100;
	assert_int_equal(scan(x, S(7)), 0);
	assert_int_equal(x->map.take_calls, 1);
	assert_false(x->map.present[i]);
	assert_int_equal(x->map.nrec, 1);
	assert_int_equal(x->map.rec[0].packets, 5);
	assert_int_equal(x->map.rec[0].bytes, 500);
	assert_int_equal(x->map.rec[0].end_reason, TFC_IPFIX_END_IDLE);
	assert_int_equal(x->c.expired, 1);
	assert_null(tfc_ipfix_table_find(x->t, &x->map.e[i].key));
}

/* Exported at the active timeout, then idle: removed, its last delta only. */
static void test_idle_after_active(void **state)
{
	struct ctx *x = *state;
	size_t i = fake_add(&x->map, 53, S(0));

	x->to.active_ns = S(1);
	fake_traffic(&x->map, i, 2, S(1));
	assert_int_equal(scan(x, S(2)), 0);
	fake_traffic(&x->map, i, 3, S(3));
	assert_int_equal(scan(x, S(9)), 0);
	assert_int_equal(x->map.nrec, 2);
	assert_int_equal(x->map.rec[1].packets, 3);
	assert_int_equal(x->map.rec[1].end_reason, TFC_IPFIX_END_IDLE);
	assert_int_equal(sum_packets(&x->map), 5);

	/* Idle with nothing new: removed without a record. */
	i = fake_add(&x->map, 54, S(0));
	fake_traffic(&x->map, i, 1, S(11));
	assert_int_equal(scan(x, S(12)), 0); /* exported at the active timeout */
	assert_int_equal(x->map.nrec, 3);
	assert_int_equal(scan(x, S(20)), 0);
	assert_false(x->map.present[i]);
	assert_int_equal(x->map.nrec, 3);
	assert_int_equal(x->c.expired, 2);
}

/* Gone from the map without us (LRU) or re-created: seen and counted. */
static void test_evicted_and_recreated(void **state)
{
	struct ctx *x = *state;
	size_t a = fake_add(&x->map, 53, S(0)), b = fake_add(&x->map, 54, S(0));

	fake_traffic(&x->map, a, 1, S(1));
	fake_traffic(&x->map, b, 1, S(1));
	assert_int_equal(scan(x, S(2)), 0);
	assert_int_equal(tfc_ipfix_table_size(x->t), 2);
	x->map.present[a] = 0; /* evicted */
	/* b evicted and created again by a later packet. */
	x->map.e[b].val = (struct flow_value){
		.bytes = 100, .packets = 1, .first_seen_ns = S(3), .last_seen_ns = S(3)};
	x->to.active_ns = S(0);
	assert_int_equal(scan(x, S(4)), 0);
	assert_int_equal(x->c.vanished, 2);
	assert_int_equal(tfc_ipfix_table_size(x->t), 1);
	assert_int_equal(x->map.nrec, 1);
	assert_int_equal(x->map.rec[0].packets, 1);
	assert_int_equal(x->map.rec[0].start_ns, S(3));
}

/* Evicted between the dump and the delete: nothing to send, state dropped. */
static void test_take_finds_nothing(void **state)
{
	struct ctx *x = *state;
	struct tfc_flow_entry e[FAKE_MAX];
	size_t i = fake_add(&x->map, 53, S(0)), n;

	fake_traffic(&x->map, i, 2, S(1));
	n = fake_dump(&x->map, e);
	x->map.present[i] = 0;
	assert_int_equal(tfc_ipfix_scan(x->t, &x->to, e, n, S(9), &x->io, &x->c), 0);
	assert_int_equal(x->map.nrec, 0);
	assert_int_equal(x->c.vanished, 1);
	assert_int_equal(x->c.expired, 0);
	assert_int_equal(tfc_ipfix_table_size(x->t), 0);
}

/* Shutdown: every flow leaves the map with what was not exported yet. */
static void test_flush(void **state)
{
	struct ctx *x = *state;
	struct tfc_flow_entry e[FAKE_MAX];
	size_t a = fake_add(&x->map, 53, S(0)), b = fake_add(&x->map, 54, S(0)), n;

	x->to.active_ns = S(1);
	fake_traffic(&x->map, a, 2, S(1));
	assert_int_equal(scan(x, S(2)), 0);
	fake_traffic(&x->map, a, 1, S(2));
	fake_traffic(&x->map, b, 4, S(2));
	n = fake_dump(&x->map, e);
	assert_int_equal(tfc_ipfix_flush(x->t, e, n, &x->io, &x->c), 0);
	assert_int_equal(x->map.nrec, 3);
	assert_int_equal(x->map.rec[1].packets, 1);
	assert_int_equal(x->map.rec[1].end_reason, TFC_IPFIX_END_FORCED);
	assert_int_equal(x->map.rec[2].packets, 4);
	assert_false(x->map.present[a] || x->map.present[b]);
	assert_int_equal(sum_packets(&x->map), 7);
	assert_int_equal(x->c.expired, 2);
}

/* A failed send stops the cycle and keeps every state (no sweep). */
static void test_emit_error(void **state)
{
	struct ctx *x = *state;
	size_t a = fake_add(&x->map, 53, S(0)), b = fake_add(&x->map, 54, S(0));

	fake_traffic(&x->map, a, 1, S(1));
	fake_traffic(&x->map, b, 1, S(1));
	x->to.active_ns = S(1);
	assert_int_equal(scan(x, S(2)), 0);
	fake_traffic(&x->map, a, 1, S(3));
	fake_traffic(&x->map, b, 1, S(3));
	x->map.present[b] = 0;
	x->map.emit_error = -EIO;
	assert_int_equal(scan(x, S(4)), -EIO);
	assert_int_equal(tfc_ipfix_table_size(x->t), 2);
	/* The delta that failed is sent by the next cycle. */
	x->map.emit_error = 0;
	assert_int_equal(scan(x, S(5)), 0);
	assert_int_equal(x->map.rec[x->map.nrec - 1].packets, 1);
	assert_int_equal(sum_packets(&x->map), 3);
}

/* A last_seen a little ahead of our clock (another CPU) is not idle. */
static void test_decide_clock_ahead(void **state)
{
	struct tfc_ipfix_timeouts to = {.active_ns = S(10), .idle_ns = S(5)};
	struct tfc_ipfix_flow f = {.exported_ns = S(0)};
	struct flow_value v = {.packets = 1, .bytes = 60, .last_seen_ns = S(20) + 5};

	(void)state;
	assert_int_equal(tfc_ipfix_decide(&to, &f, &v, S(20)), TFC_IPFIX_END_ACTIVE);
	v.last_seen_ns = S(15);
	assert_int_equal(tfc_ipfix_decide(&to, &f, &v, S(20)), TFC_IPFIX_END_IDLE);
	f.packets = 1;
	f.bytes = 60;
	v.last_seen_ns = S(19);
	assert_int_equal(tfc_ipfix_decide(&to, &f, &v, S(20)), TFC_IPFIX_KEEP);
}

/* ---- clocks and records ------------------------------------------------------ */

static void test_wall_clock(void **state)
{
	struct timespec rt;
	__s64 off;
	__u64 now_ms, rt_ms;

	(void)state;
	assert_int_equal(tfc_ipfix_wall_ms(S(5), 1500000), 5001);
	assert_int_equal(tfc_ipfix_wall_ms(S(1), -(__s64)S(2)), 0);
	assert_int_equal(tfc_ipfix_clock_offset(&off), 0);
	now_ms = tfc_ipfix_wall_ms(tfc_ipfix_now_ns(), off);
	clock_gettime(CLOCK_REALTIME, &rt);
	rt_ms = (__u64)rt.tv_sec * 1000 + (__u64)rt.tv_nsec / 1000000;
	assert_true(now_ms <= rt_ms && rt_ms - now_ms < 100);
}

static void test_record_v4(void **state)
{
	struct tfc_ipfix_record r = {.bytes = 700,
				     .packets = 7,
				     .start_ns = S(1),
				     .end_ns = S(2),
				     .tcp_flags = 0x1b,
				     .end_reason = TFC_IPFIX_END_IDLE};
	struct tfc_ipfix_rec4 r4;
	struct tfc_ipfix_rec6 r6;

	(void)state;
	r.key.family = 4;
	r.key.proto = IPPROTO_TCP;
	r.key.ifindex = 9;
	r.key.direction = TFC_DIR_EGRESS;
	r.key.sport = 443;
	r.key.dport = 50000;
	memcpy(r.key.src, (__u8[]){198, 18, 0, 1}, 4);
	memcpy(r.key.dst, (__u8[]){198, 19, 2, 3}, 4);
	assert_int_equal(tfc_ipfix_rec_fill(&r, 0, &r4, &r6), 4);
	assert_int_equal(r4.src, 0xc6120001);
	assert_int_equal(r4.dst, 0xc6130203);
	assert_int_equal(r4.c.sport, 443);
	assert_int_equal(r4.c.dport, 50000);
	assert_int_equal(r4.c.packets, 7);
	assert_int_equal(r4.c.l2_octets, 700);
	assert_int_equal(r4.c.start_ms, 1000);
	assert_int_equal(r4.c.end_ms, 2000);
	assert_int_equal(r4.c.tcp_flags, 0x1b);
	assert_int_equal(r4.c.egress_if, 9);
	assert_int_equal(r4.c.ingress_if, 0);
	assert_int_equal(r4.c.direction, 1);
	assert_int_equal(r4.c.end_reason, 1);
	assert_int_equal(r4.c.proto, IPPROTO_TCP);
}

static void test_record_v6(void **state)
{
	struct tfc_ipfix_record r = {.bytes = 1, .packets = 1, .tcp_flags = 0x02};
	struct tfc_ipfix_rec4 r4;
	struct tfc_ipfix_rec6 r6;

	(void)state;
	r.key.family = 6;
	r.key.proto = IPPROTO_UDP;
	r.key.ifindex = 4;
	r.key.direction = TFC_DIR_INGRESS;
	inet_pton(AF_INET6, "fd00::1", r.key.src);
	inet_pton(AF_INET6, "fd00::2", r.key.dst);
	assert_int_equal(tfc_ipfix_rec_fill(&r, 0, &r4, &r6), 6);
	assert_memory_equal(r6.src, r.key.src, 16);
	assert_memory_equal(r6.dst, r.key.dst, 16);
	assert_int_equal(r6.c.ingress_if, 4);
	assert_int_equal(r6.c.egress_if, 0);
	assert_int_equal(r6.c.direction, 0);
	assert_int_equal(r6.c.tcp_flags, 0); /* not TCP */
	r.key.family = 0;
	assert_int_equal(tfc_ipfix_rec_fill(&r, 0, &r4, &r6), -EAFNOSUPPORT);
}

static void test_evictions(void **state)
{
	(void)state;
	assert_int_equal(tfc_ipfix_evictions(100, 30, 50), 20);
	assert_int_equal(tfc_ipfix_evictions(100, 60, 50), 0);
	assert_int_equal(tfc_ipfix_evictions(0, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_active_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deltas_add_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_expiry_takes_late_packets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_after_active, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evicted_and_recreated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_finds_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emit_error, setup, teardown),
		cmocka_unit_test(test_decide_clock_ahead),
		cmocka_unit_test(test_wall_clock),
		cmocka_unit_test(test_record_v4),
		cmocka_unit_test(test_record_v6),
		cmocka_unit_test(test_evictions),
	};

	return cmocka_run_group_tests_name("ipfix", tests, NULL, NULL);
}
