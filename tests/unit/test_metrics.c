// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The Prometheus exposition: escaping, order, the cardinality policy and
 * totals preserved under it. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "export/metrics.h"

/* Names by ifindex, independent of the host's interfaces. 5 and 6 share a
 * name, as two namespaces' interfaces can seen from a third. */
static const char *fake_ifname(__u32 ifindex)
{
	switch (ifindex) {
	case 1:
		return "lo";
	case 2:
		return "eth0";
	case 3:
		return "we\"ird\\dev";
	case 5:
	case 6:
		return "twin";
	case 7:
		return "\x1b[1m\xff"; /* renamed: an escape sequence, not UTF-8 */
	default:
		return "if99";
	}
}

static struct tfc_ip_entry v4e(__u32 ifindex, __u8 dir, __u8 a, __u8 b, __u8 c, __u8 d, __u64 bytes,
			       __u64 packets)
{
	struct tfc_ip_entry e;

	memset(&e, 0, sizeof(e));
	e.key.ifindex = ifindex;
	e.key.family = 4;
	e.key.direction = dir;
	e.key.addr[0] = a;
	e.key.addr[1] = b;
	e.key.addr[2] = c;
	e.key.addr[3] = d;
	e.val.bytes = bytes;
	e.val.packets = packets;
	return e;
}

/* fd00::<hi>:0:0:<lo> */
static struct tfc_ip_entry v6e(__u32 ifindex, __u8 hi, __u8 lo, __u64 bytes, __u64 packets)
{
	struct tfc_ip_entry e;

	memset(&e, 0, sizeof(e));
	e.key.ifindex = ifindex;
	e.key.family = 6;
	e.key.addr[0] = 0xfd;
	e.key.addr[7] = hi;
	e.key.addr[15] = lo;
	e.val.bytes = bytes;
	e.val.packets = packets;
	return e;
}

static struct tfc_metrics *policy(__u32 max_series, __u8 v4, __u8 v6)
{
	struct tfc_metrics_policy p = {max_series, v4, v6, fake_ifname};
	struct tfc_metrics *m = tfc_metrics_new(&p);

	assert_non_null(m);
	return m;
}

static void snap_ip(struct tfc_metrics_snapshot *s, const struct tfc_ip_entry *e, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->ip = e;
	s->n_ip = n;
	s->maps[TFC_MAP_IP] = (struct tfc_metrics_map){1, (__u32)n, 1024};
	s->version = "9.9.9";
	s->libbpf_version = "v1.1";
}

/* The whole exposition of one scrape; the caller frees it. */
static char *scrape(struct tfc_metrics *m, const struct tfc_metrics_snapshot *s)
{
	struct unit_mem mem;

	unit_mem_open(&mem);
	assert_int_equal(tfc_metrics_write(m, s, mem.f), 0);
	return unit_mem_close(&mem);
}

/* Sample lines of one metric, in output order, joined by '\n' (caller frees). */
static char *samples(const char *text, const char *name)
{
	size_t nlen = strlen(name), cap = strlen(text) + 1, used = 0;
	char *out = calloc(1, cap);

	assert_non_null(out);
	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (!strncmp(p, name, nlen) && (p[nlen] == '{' || p[nlen] == ' ')) {
			memcpy(out + used, p, len);
			used += len;
			out[used++] = '\n';
		}
		p += len + (eol ? 1 : 0);
	}
	return out;
}

static unsigned long long sum_of(const char *text, const char *name)
{
	char *s = samples(text, name);
	unsigned long long sum = 0;

	for (char *p = s; (p = strchr(p, '\n')); p++) {
		char *sp = p;

		while (sp > s && sp[-1] != ' ')
			sp--;
		sum += strtoull(sp, NULL, 10);
	}
	free(s);
	return sum;
}

static size_t count_of(const char *text, const char *name)
{
	char *s = samples(text, name);
	size_t n = 0;

	for (char *p = s; (p = strchr(p, '\n')); p++)
		n++;
	free(s);
	return n;
}

/* Value of the sample whose line starts with `prefix` (labels included). */
static unsigned long long value_of(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);

	assert_non_null(p);
	p = strchr(p, '}');
	assert_non_null(p);
	return strtoull(p + 2, NULL, 10);
}

/* ---- escaping and parsing options --------------------------------------- */

static void test_escape(void **state)
{
	struct unit_mem mem;
	char *out;

	(void)state;
	unit_mem_open(&mem);
	tfc_metrics_escape(mem.f, "plain");
	fputc('|', mem.f);
	tfc_metrics_escape(mem.f, "a\"b\\c\nd");
	out = unit_mem_close(&mem);
	assert_string_equal(out, "plain|a\\\"b\\\\c\\nd");
	free(out);
}

/* A label value must be valid UTF-8: such a name is shown as text shows it. */
static void test_hostile_device_label(void **state)
{
	struct tfc_ip_entry e[] = {v4e(7, TFC_DIR_INGRESS, 198, 18, 0, 7, 5, 1)};
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, e, 1);
	text = scrape(m, &s);
	assert_non_null(
		strstr(text, "traffic_counter_bytes_total{device=\"\\\\x1b[1m\\\\xff\","
			     "direction=\"ingress\",family=\"ipv4\",address=\"198.18.0.7\"} 5\n"));
	assert_null(strchr(text, 0x1b));
	assert_null(strchr(text, 0xff));
	free(text);
	tfc_metrics_free(m);
}

static void test_prefix_parse(void **state)
{
	static const char *const bad[] = {"", "x", "33", "24,", "24,129", "-1", "24,64,1", ",64"};
	__u8 v4 = 0, v6 = 0;

	(void)state;
	assert_int_equal(tfc_metrics_prefix_parse("24", &v4, &v6), 0);
	assert_int_equal(v4, 24);
	assert_int_equal(v6, 128);
	assert_int_equal(tfc_metrics_prefix_parse("16,48", &v4, &v6), 0);
	assert_int_equal(v4, 16);
	assert_int_equal(v6, 48);
	assert_int_equal(tfc_metrics_prefix_parse("0,0", &v4, &v6), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tfc_metrics_prefix_parse(bad[i], &v4, &v6), -EINVAL);
}

static void test_policy_out_of_range(void **state)
{
	struct tfc_metrics_policy p = {0, 33, 128, NULL};

	(void)state;
	errno = 0;
	assert_null(tfc_metrics_new(&p));
	assert_int_equal(errno, EINVAL);
	p = (struct tfc_metrics_policy){TFC_METRICS_MAX_SERIES + 1, 32, 128, NULL};
	assert_null(tfc_metrics_new(&p));
}

/* ---- exposition ---------------------------------------------------------- */

/* Devices by name, then direction, family, address: whatever the map order. */
static void test_order_and_escaping(void **state)
{
	const struct tfc_ip_entry e[] = {
		v4e(1, TFC_DIR_EGRESS, 10, 0, 0, 1, 5, 1),
		v6e(2, 0, 1, 7, 1),
		v4e(2, TFC_DIR_INGRESS, 198, 18, 0, 2, 20, 2),
		v4e(3, TFC_DIR_INGRESS, 198, 18, 0, 9, 3, 1),
		v4e(2, TFC_DIR_INGRESS, 198, 18, 0, 1, 10, 1),
		v4e(2, TFC_DIR_EGRESS, 198, 18, 0, 1, 30, 3),
	};
	const char *want =
		"traffic_counter_bytes_total{device=\"eth0\",direction=\"ingress\",family=\"ipv4\","
		"address=\"198.18.0.1\"} 10\n"
		"traffic_counter_bytes_total{device=\"eth0\",direction=\"ingress\",family=\"ipv4\","
		"address=\"198.18.0.2\"} 20\n"
		"traffic_counter_bytes_total{device=\"eth0\",direction=\"ingress\",family=\"ipv6\","
		"address=\"fd00::1\"} 7\n"
		"traffic_counter_bytes_total{device=\"eth0\",direction=\"egress\",family=\"ipv4\","
		"address=\"198.18.0.1\"} 30\n"
		"traffic_counter_bytes_total{device=\"lo\",direction=\"egress\",family=\"ipv4\","
		"address=\"10.0.0.1\"} 5\n"
		"traffic_counter_bytes_total{device=\"we\\\"ird\\\\dev\",direction=\"ingress\","
		"family=\"ipv4\",address=\"198.18.0.9\"} 3\n";
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text, *again, *got;

	(void)state;
	snap_ip(&s, e, sizeof(e) / sizeof(e[0]));
	text = scrape(m, &s);
	got = samples(text, "traffic_counter_bytes_total");
	assert_string_equal(got, want);
	assert_int_equal(value_of(text, "traffic_counter_packets_total{device=\"eth0\","
					"direction=\"egress\""),
			 3);
	/* Stable: the same maps give the same text. */
	again = scrape(m, &s);
	assert_string_equal(text, again);
	free(got);
	free(again);
	free(text);
	tfc_metrics_free(m);
}

/* Every metric has one HELP and one TYPE line, right before its samples. */
static void test_help_and_type(void **state)
{
	const struct tfc_ip_entry e[] = {v4e(2, 0, 198, 18, 0, 1, 10, 1)};
	struct tfc_stat_entry st = {.key = {.ifindex = 2, .reason = TFC_STAT_NON_IP},
				    .val = {60, 1}};
	struct tfc_control ctl = {.dropped_packets = 4, .dropped_bytes = 400, .flow_inserts = 9};
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text, current[128] = "";
	int families = 0, samples = 0;

	(void)state;
	snap_ip(&s, e, 1);
	s.stats = &st;
	s.n_stats = 1;
	s.maps[TFC_MAP_STATS] = (struct tfc_metrics_map){1, 1, 4096};
	s.maps[TFC_MAP_FLOW] = (struct tfc_metrics_map){1, 0, 32768};
	s.control = &ctl;
	text = scrape(m, &s);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128];

		if (sscanf(line, "# HELP %127s", name) == 1) {
			assert_string_not_equal(name, current); /* no family twice */
			snprintf(current, sizeof(current), "%s", name);
			line = strtok(NULL, "\n");
			assert_non_null(line);
			assert_int_equal(sscanf(line, "# TYPE %127s", name), 1);
			assert_string_equal(name, current);
			families++;
			continue;
		}
		assert_int_equal(strncmp(line, current, strlen(current)), 0);
		assert_true(line[strlen(current)] == '{' || line[strlen(current)] == ' ');
		samples++;
	}
	/* Every family of this snapshot was seen: none is skipped unchecked. */
	assert_int_equal(families, 17);
	assert_int_equal(samples, 41);
	free(text);
	tfc_metrics_free(m);
}

static void test_other_metrics(void **state)
{
	const struct tfc_ip_entry e[] = {v4e(2, 0, 198, 18, 0, 1, 10, 1)};
	struct tfc_stat_entry st[] = {
		{.key = {.ifindex = 2, .reason = TFC_STAT_NON_IP}, .val = {60, 1}},
		{.key = {.ifindex = 6, .reason = TFC_STAT_NON_IP}, .val = {120, 2}},
		{.key = {.ifindex = 5, .reason = TFC_STAT_NON_IP}, .val = {60, 1}},
	};
	struct tfc_flow_entry fl = {.key = {.ifindex = 2, .family = 4},
				    .val = {.bytes = 80, .packets = 2}};
	struct tfc_control ctl = {.flags = TFC_FLAG_FLOW_COUNTERS,
				  .dropped_packets = 4,
				  .dropped_bytes = 400,
				  .created_ns = 1795720011999999999ULL};
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, e, 1);
	s.stats = st;
	s.n_stats = 3;
	s.flow = &fl;
	s.n_flow = 1;
	s.maps[TFC_MAP_STATS] = (struct tfc_metrics_map){1, 3, 4096};
	s.maps[TFC_MAP_FLOW] = (struct tfc_metrics_map){1, 1, 32768};
	s.control = &ctl;
	text = scrape(m, &s);
	assert_non_null(strstr(text, "traffic_counter_build_info{version=\"9.9.9\","
				     "abi_version=\"3\",libbpf=\"v1.1\"} 1\n"));
	assert_non_null(strstr(text, "\ntraffic_counter_dropped_packets_total 4\n"));
	assert_non_null(strstr(text, "\ntraffic_counter_dropped_bytes_total 400\n"));
	assert_non_null(strstr(text, "\ntraffic_counter_start_time_seconds 1795720011\n"));
	assert_non_null(strstr(text, "\ntraffic_counter_flow_counting_enabled 1\n"));
	assert_non_null(strstr(text, "\ntraffic_counter_flow_bytes{device=\"eth0\","
				     "direction=\"ingress\",family=\"ipv4\"} 80\n"));
	assert_non_null(
		strstr(text, "traffic_counter_map_entries{map=\"traffic_counters_ip\"} 1\n"));
	assert_non_null(strstr(text, "traffic_counter_map_capacity{map=\"traffic_stats\"} 4096\n"));
	/* Every interface reason of each interface seen (cgroup_map_full is ifindex
	 * 0's alone), and the two "twin"s merged. */
	assert_int_equal(count_of(text, "traffic_counter_stat_packets_total"),
			 2 * TFC_STAT_CGROUP_MAP_FULL);
	assert_int_equal(value_of(text, "traffic_counter_stat_bytes_total{device=\"twin\","
					"direction=\"ingress\",reason=\"non_ip\""),
			 180);
	assert_int_equal(value_of(text, "traffic_counter_stat_packets_total{device=\"eth0\","
					"direction=\"ingress\",reason=\"ipv4_truncated\""),
			 0);
	free(text);
	tfc_metrics_free(m);
}

/* Maps that were not read are left out, not exported as zeros. */
static void test_absent_maps(void **state)
{
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, NULL, 0);
	text = scrape(m, &s);
	assert_null(strstr(text, "traffic_counter_flow_bytes"));
	assert_null(strstr(text, "traffic_counter_stat_packets_total"));
	assert_null(strstr(text, "traffic_counter_dropped_packets_total"));
	assert_null(strstr(text, "map=\"traffic_counters_flow\""));
	assert_int_equal(count_of(text, "traffic_counter_bytes_total"), 0);
	free(text);
	tfc_metrics_free(m);
}

/* export-ipfix's counts: only where an exporter ran, as counters. */
static void test_ipfix_counts(void **state)
{
	struct tfc_ipfix_stats x = {.records = 1234, .expired = 56};
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, NULL, 0);
	text = scrape(m, &s);
	assert_null(strstr(text, "traffic_counter_ipfix_"));
	free(text);
	s.ipfix = &x;
	text = scrape(m, &s);
	assert_non_null(strstr(text, "# TYPE traffic_counter_ipfix_records_sent_total counter\n"
				     "traffic_counter_ipfix_records_sent_total 1234\n"));
	assert_non_null(strstr(text, "# TYPE traffic_counter_ipfix_flows_expired_total counter\n"
				     "traffic_counter_ipfix_flows_expired_total 56\n"));
	free(text);
	tfc_metrics_free(m);
}

/* Two ifindexes with one name give one series per address, not two. */
static void test_same_name_merges(void **state)
{
	const struct tfc_ip_entry e[] = {
		v4e(5, 0, 198, 18, 0, 1, 10, 1),
		v4e(6, 0, 198, 18, 0, 1, 15, 2),
	};
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, e, 2);
	text = scrape(m, &s);
	assert_int_equal(count_of(text, "traffic_counter_bytes_total"), 1);
	assert_int_equal(sum_of(text, "traffic_counter_bytes_total"), 25);
	free(text);
	tfc_metrics_free(m);
}

/* ---- the cardinality policy ---------------------------------------------- */

/* The largest join at the first scrape; the rest is one "other" series. */
static void test_top_k_first_scrape(void **state)
{
	const struct tfc_ip_entry e[] = {
		v4e(2, 0, 198, 18, 0, 1, 100, 1), v4e(2, 0, 198, 18, 0, 2, 500, 5),
		v4e(2, 0, 198, 18, 0, 3, 300, 3), v4e(2, 0, 198, 18, 0, 4, 50, 1),
		v4e(2, 0, 198, 18, 0, 5, 400, 4), v4e(2, 0, 198, 18, 0, 6, 10, 1),
	};
	struct tfc_metrics *m = policy(3, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, e, 6);
	text = scrape(m, &s);
	assert_int_equal(count_of(text, "traffic_counter_bytes_total"), 4);
	assert_int_equal(tfc_metrics_members(m), 3);
	assert_int_equal(value_of(text, "traffic_counter_bytes_total{device=\"eth0\","
					"direction=\"ingress\",family=\"ipv4\",address=\"other\""),
			 160);
	assert_int_equal(value_of(text, "traffic_counter_packets_total{device=\"eth0\","
					"direction=\"ingress\",family=\"ipv4\",address=\"other\""),
			 3);
	assert_non_null(strstr(text, "address=\"198.18.0.2\"} 500"));
	assert_non_null(strstr(text, "address=\"198.18.0.5\"} 400"));
	assert_non_null(strstr(text, "address=\"198.18.0.3\"} 300"));
	assert_non_null(strstr(text, "\ntraffic_counter_address_series 3\n"));
	assert_int_equal(sum_of(text, "traffic_counter_bytes_total"), 1360);
	assert_int_equal(sum_of(text, "traffic_counter_packets_total"), 15);
	free(text);
	tfc_metrics_free(m);
}

/*
 * Sticky: an address in "other" that outgrows every member stays in
 * "other", a new address finds no room, and every series only grows.
 */
static void test_sticky_monotonic(void **state)
{
	struct tfc_ip_entry e[] = {
		v4e(2, 0, 198, 18, 0, 1, 100, 1),
		v4e(2, 0, 198, 18, 0, 2, 200, 2),
		v4e(2, 0, 198, 18, 0, 3, 10, 1),
		v4e(2, 0, 198, 18, 0, 4, 0, 0),
	};
	struct tfc_metrics *m = policy(2, 32, 128);
	struct tfc_metrics_snapshot s;
	char *first, *second, *a, *b;

	(void)state;
	snap_ip(&s, e, 3);
	first = scrape(m, &s);
	e[2].val.bytes = 100000; /* .3 outgrows both members */
	e[3].val.bytes = 50000;	 /* .4 is new: no room */
	e[3].val.packets = 1;
	snap_ip(&s, e, 4);
	second = scrape(m, &s);
	a = samples(first, "traffic_counter_bytes_total");
	b = samples(second, "traffic_counter_bytes_total");
	/* The same series, in the same order; each value at least as large. */
	assert_int_equal(count_of(first, "traffic_counter_bytes_total"), 3);
	assert_int_equal(count_of(second, "traffic_counter_bytes_total"), 3);
	for (char *p = a, *q = b; *p; p = strchr(p, '\n') + 1, q = strchr(q, '\n') + 1) {
		char *pv = strchr(p, '}'), *qv = strchr(q, '}');

		assert_int_equal(pv - p, qv - q);
		assert_memory_equal(p, q, (size_t)(pv - p));
		assert_true(strtoull(qv + 2, NULL, 10) >= strtoull(pv + 2, NULL, 10));
	}
	assert_int_equal(value_of(second,
				  "traffic_counter_bytes_total{device=\"eth0\","
				  "direction=\"ingress\",family=\"ipv4\",address=\"other\""),
			 150000);
	assert_int_equal(sum_of(second, "traffic_counter_bytes_total"), 150300);
	free(a);
	free(b);
	free(first);
	free(second);
	tfc_metrics_free(m);
}

/* While there is room, new addresses join; when too many arrive at once,
 * the largest of them take the room left. */
static void test_join_while_room(void **state)
{
	const struct tfc_ip_entry e[] = {
		v4e(2, 0, 198, 18, 0, 1, 10, 1), v4e(2, 0, 198, 18, 0, 2, 10, 1),
		v4e(2, 0, 198, 18, 0, 3, 5, 1),	 v4e(2, 0, 198, 18, 0, 4, 70, 1),
		v4e(2, 0, 198, 18, 0, 5, 60, 1), v4e(2, 0, 198, 18, 0, 6, 1, 1),
	};
	struct tfc_metrics *m = policy(4, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, e, 2);
	free(scrape(m, &s));
	assert_int_equal(tfc_metrics_members(m), 2);
	snap_ip(&s, e, 6);
	text = scrape(m, &s);
	assert_int_equal(tfc_metrics_members(m), 4);
	assert_non_null(strstr(text, "address=\"198.18.0.4\"} 70"));
	assert_non_null(strstr(text, "address=\"198.18.0.5\"} 60"));
	assert_null(strstr(text, "address=\"198.18.0.3\""));
	assert_int_equal(value_of(text, "traffic_counter_bytes_total{device=\"eth0\","
					"direction=\"ingress\",family=\"ipv4\",address=\"other\""),
			 6);
	free(text);
	tfc_metrics_free(m);
}

/* One "other" per device, direction and family; the totals of each kept. */
static void test_other_per_group(void **state)
{
	const struct tfc_ip_entry e[] = {
		v4e(2, 0, 198, 18, 0, 1, 100, 1), v4e(2, 0, 198, 18, 0, 2, 1, 1),
		v4e(2, 1, 198, 18, 0, 1, 2, 1),	  v6e(2, 0, 1, 3, 1),
		v4e(1, 0, 127, 0, 0, 1, 4, 1),
	};
	struct tfc_metrics *m = policy(1, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, e, 5);
	text = scrape(m, &s);
	/* The one member, plus "other" for eth0 in/v4, eth0 out/v4, eth0 in/v6, lo. */
	assert_int_equal(count_of(text, "traffic_counter_bytes_total"), 5);
	assert_int_equal(sum_of(text, "traffic_counter_bytes_total"), 110);
	assert_int_equal(value_of(text, "traffic_counter_bytes_total{device=\"eth0\","
					"direction=\"egress\",family=\"ipv4\",address=\"other\""),
			 2);
	free(text);
	tfc_metrics_free(m);
}

/* Many entries, a small limit: bounded series, totals kept exactly. */
static void test_totals_preserved(void **state)
{
	enum { N = 600 };
	struct tfc_ip_entry *e = calloc(N, sizeof(*e));
	unsigned long long bytes = 0, packets = 0;
	struct tfc_metrics *m = policy(17, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	assert_non_null(e);
	for (unsigned int i = 0; i < N; i++) {
		e[i] = i % 3 ? v4e(2 + i % 2, (__u8)(i % 4 / 2), 198, 18, (__u8)(i / 256), (__u8)i,
				   (i * 7919ULL) % 100003, i % 13 + 1)
			     : v6e(2, (__u8)(i / 256), (__u8)i, (i * 104729ULL) % 65537, i % 5 + 1);
		bytes += e[i].val.bytes;
		packets += e[i].val.packets;
	}
	snap_ip(&s, e, N);
	text = scrape(m, &s);
	/* 17 own series + at most one "other" per device/direction/family (2*2*2). */
	assert_true(count_of(text, "traffic_counter_bytes_total") <= 17 + 8);
	assert_int_equal(tfc_metrics_members(m), 17);
	assert_int_equal(sum_of(text, "traffic_counter_bytes_total"), bytes);
	assert_int_equal(sum_of(text, "traffic_counter_packets_total"), packets);
	free(text);
	free(e);
	tfc_metrics_free(m);
}

/* Prefixes: one series per /24 and /64, summing their addresses. */
static void test_prefix_aggregation(void **state)
{
	const struct tfc_ip_entry e[] = {
		v4e(2, 0, 198, 18, 0, 1, 10, 1),
		v4e(2, 0, 198, 18, 0, 200, 20, 2),
		v4e(2, 0, 198, 18, 1, 1, 40, 4),
		v6e(2, 0, 1, 5, 1),
		v6e(2, 0, 2, 6, 1),
		v6e(2, 1, 1, 7, 1),
	};
	struct tfc_metrics *m = policy(0, 24, 64);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, e, 6);
	text = scrape(m, &s);
	assert_int_equal(count_of(text, "traffic_counter_bytes_total"), 4);
	assert_non_null(strstr(text, "address=\"198.18.0.0/24\"} 30\n"));
	assert_non_null(strstr(text, "address=\"198.18.1.0/24\"} 40\n"));
	assert_non_null(strstr(text, "address=\"fd00::/64\"} 11\n"));
	assert_non_null(strstr(text, "address=\"fd00:0:0:1::/64\"} 7\n"));
	assert_int_equal(sum_of(text, "traffic_counter_packets_total"), 10);
	free(text);
	tfc_metrics_free(m);
}

/* Odd prefix lengths mask within a byte. */
static void test_prefix_within_byte(void **state)
{
	const struct tfc_ip_entry e[] = {v4e(2, 0, 198, 19, 255, 255, 1, 1)};
	struct tfc_metrics *m = policy(0, 15, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, e, 1);
	text = scrape(m, &s);
	assert_non_null(strstr(text, "address=\"198.18.0.0/15\"} 1\n"));
	free(text);
	tfc_metrics_free(m);
}

/*
 * Prefix rows of the maps: address="ADDR/LEN", never split by a longer
 * --aggregate-prefix, folded by a shorter one, counted against --max-series
 * like addresses.
 */
static struct tfc_ip_entry pfx(struct tfc_ip_entry e, __u8 plen)
{
	e.key.is_prefix = 1;
	e.key.prefix_len = plen;
	return e;
}

static void test_prefix_rows(void **state)
{
	const struct tfc_ip_entry e[] = {
		v4e(2, 0, 198, 18, 0, 1, 10, 1),
		pfx(v4e(2, 0, 198, 18, 7, 0, 2000, 20), 24),
		pfx(v4e(2, 0, 198, 18, 0, 0, 500, 5), 16),
		pfx(v6e(2, 1, 0, 50, 1), 48),
	};
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, e, 4);
	s.prefix_map = (struct tfc_metrics_map){1, 3, 16384};
	text = scrape(m, &s);
	assert_int_equal(count_of(text, "traffic_counter_bytes_total"), 4);
	assert_non_null(strstr(text, "address=\"198.18.0.1\"} 10\n"));
	assert_non_null(strstr(text, "address=\"198.18.7.0/24\"} 2000\n"));
	assert_non_null(strstr(text, "address=\"198.18.0.0/16\"} 500\n"));
	assert_non_null(strstr(text, "address=\"fd00::/48\"} 50\n"));
	assert_non_null(
		strstr(text, "traffic_counter_map_entries{map=\"traffic_counters_prefix\"} 3\n"));
	assert_non_null(strstr(
		text, "traffic_counter_map_capacity{map=\"traffic_counters_prefix\"} 16384\n"));
	free(text);
	tfc_metrics_free(m);

	/* --aggregate-prefix 24: the address joins its /24; the /16 stays a /16. */
	m = policy(0, 24, 64);
	s.prefix_map.present = 0;
	text = scrape(m, &s);
	assert_int_equal(count_of(text, "traffic_counter_bytes_total"), 4);
	assert_non_null(strstr(text, "address=\"198.18.0.0/24\"} 10\n"));
	assert_non_null(strstr(text, "address=\"198.18.0.0/16\"} 500\n"));
	assert_null(strstr(text, "traffic_counters_prefix"));
	free(text);
	tfc_metrics_free(m);

	/* --max-series 2: the two largest rows keep a series, the rest is "other". */
	m = policy(2, 32, 128);
	text = scrape(m, &s);
	assert_int_equal(tfc_metrics_members(m), 2);
	assert_non_null(strstr(text, "address=\"198.18.7.0/24\"} 2000\n"));
	assert_non_null(strstr(text, "address=\"198.18.0.0/16\"} 500\n"));
	assert_non_null(strstr(text, "family=\"ipv4\",address=\"other\"} 10\n"));
	assert_non_null(strstr(text, "family=\"ipv6\",address=\"other\"} 50\n"));
	assert_int_equal(sum_of(text, "traffic_counter_bytes_total"), 2560);
	free(text);
	tfc_metrics_free(m);
}

/* ---- cgroups ------------------------------------------------------------- */

/* A row named as the names cache would (path "": an id never named). */
static struct tfc_cgroup_row cgr(__u64 id, __u8 dir, const char *path, const char *unit,
				 const char *pod, __u64 bytes, __u64 packets)
{
	struct tfc_cgroup_name nm;
	struct tfc_cgroup_row r;

	memset(&r, 0, sizeof(r));
	memset(&nm, 0, sizeof(nm));
	r.key.cgroup_id = id;
	r.key.direction = dir;
	r.val.bytes = bytes;
	r.val.packets = packets;
	snprintf(nm.path, sizeof(nm.path), "%s", path);
	snprintf(nm.unit, sizeof(nm.unit), "%s", unit);
	snprintf(nm.pod_uid, sizeof(nm.pod_uid), "%s", pod);
	if (*pod) {
		snprintf(nm.pod_name, sizeof(nm.pod_name), "web-0");
		snprintf(nm.pod_namespace, sizeof(nm.pod_namespace), "shop");
	}
	assert_int_equal(tfc_cgroup_labels_set(&r.labels, id, *path ? &nm : NULL), 0);
	return r;
}

static void snap_cg(struct tfc_metrics_snapshot *s, const struct tfc_cgroup_row *r, size_t n)
{
	snap_ip(s, NULL, 0);
	s->cgroups = r;
	s->n_cgroups = n;
	s->cgroup_map = (struct tfc_metrics_map){1, (__u32)n, 4096};
}

static void cg_free(struct tfc_cgroup_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tfc_cgroup_labels_free(&r[i].labels);
}

/* Labels, order (by labels, then direction), escaping, an unnamed id. */
static void test_cgroup_series(void **state)
{
	struct tfc_cgroup_row r[] = {
		cgr(20, 1, "/system.slice/nginx.service", "nginx.service", "", 500, 5),
		cgr(20, 0, "/system.slice/nginx.service", "nginx.service", "", 300, 3),
		cgr(30, 0, "/kubepods/pod\"x", "", "1234-ab", 70, 1),
		cgr(77, 1, "", "", "", 9, 1),
	};
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text, *b;

	struct tfc_control ctl = {.cgroup_dropped_packets = 6, .cgroup_dropped_bytes = 600};

	(void)state;
	snap_cg(&s, r, 4);
	s.control = &ctl;
	text = scrape(m, &s);
	assert_non_null(strstr(text, "\ntraffic_counter_cgroup_dropped_packets_total 6\n"));
	assert_non_null(strstr(text, "\ntraffic_counter_cgroup_dropped_bytes_total 600\n"));
	b = samples(text, "traffic_counter_cgroup_bytes_total");
	assert_string_equal(
		b, "traffic_counter_cgroup_bytes_total{cgroup=\"/kubepods/pod\\\"x\",unit=\"\","
		   "container=\"\",pod=\"web-0\",namespace=\"shop\",direction=\"ingress\"} 70\n"
		   "traffic_counter_cgroup_bytes_total{cgroup=\"/system.slice/nginx.service\","
		   "unit=\"nginx.service\",container=\"\",pod=\"\",namespace=\"\","
		   "direction=\"ingress\"} 300\n"
		   "traffic_counter_cgroup_bytes_total{cgroup=\"/system.slice/nginx.service\","
		   "unit=\"nginx.service\",container=\"\",pod=\"\",namespace=\"\","
		   "direction=\"egress\"} 500\n"
		   "traffic_counter_cgroup_bytes_total{cgroup=\"id:77\",unit=\"\",container=\"\","
		   "pod=\"\",namespace=\"\",direction=\"egress\"} 9\n");
	assert_int_equal(sum_of(text, "traffic_counter_cgroup_packets_total"), 10);
	assert_non_null(strstr(text, "\ntraffic_counter_cgroup_series 3\n"));
	assert_non_null(strstr(text, "# TYPE traffic_counter_cgroup_bytes_total counter\n"));
	assert_non_null(
		strstr(text, "traffic_counter_map_entries{map=\"traffic_counters_cgroup\"} 4\n"));
	assert_non_null(strstr(
		text, "traffic_counter_map_capacity{map=\"traffic_counters_cgroup\"} 4096\n"));
	free(b);
	free(text);
	cg_free(r, 4);
	tfc_metrics_free(m);
}

/* No cgroup map pinned: no cgroup family at all; pinned and empty: headers. */
static void test_cgroup_absent(void **state)
{
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_ip(&s, NULL, 0);
	text = scrape(m, &s);
	assert_null(strstr(text, "cgroup"));
	free(text);
	snap_cg(&s, NULL, 0);
	text = scrape(m, &s);
	assert_int_equal(count_of(text, "traffic_counter_cgroup_bytes_total"), 0);
	assert_non_null(strstr(text, "traffic_counter_cgroup_series 0\n"));
	assert_non_null(
		strstr(text, "traffic_counter_map_entries{map=\"traffic_counters_cgroup\"} 0\n"));
	free(text);
	tfc_metrics_free(m);
}

/* A path reused by a new cgroup (a restarted unit) is one series. */
static void test_cgroup_same_labels_merge(void **state)
{
	struct tfc_cgroup_row r[] = {
		cgr(40, 0, "/system.slice/a.service", "a.service", "", 100, 1),
		cgr(41, 0, "/system.slice/a.service", "a.service", "", 20, 2),
	};
	struct tfc_metrics *m = policy(0, 32, 128);
	struct tfc_metrics_snapshot s;
	char *text;

	(void)state;
	snap_cg(&s, r, 2);
	text = scrape(m, &s);
	assert_int_equal(count_of(text, "traffic_counter_cgroup_bytes_total"), 1);
	assert_int_equal(sum_of(text, "traffic_counter_cgroup_bytes_total"), 120);
	assert_int_equal(sum_of(text, "traffic_counter_cgroup_packets_total"), 3);
	free(text);
	cg_free(r, 2);
	tfc_metrics_free(m);
}

/*
 * --max-series 2: the two largest cgroups first, the rest in "other" per
 * direction; a cgroup in "other" stays there when it grows, a new one too,
 * and every value only grows.
 */
static void test_cgroup_sticky_other(void **state)
{
	struct tfc_cgroup_row r[] = {
		cgr(1, 0, "/a", "", "", 1000, 10), cgr(2, 0, "/b", "", "", 10, 1),
		cgr(3, 0, "/c", "", "", 2000, 20), cgr(3, 1, "/c", "", "", 5, 1),
		cgr(4, 1, "/d", "", "", 7, 1),
	};
	struct tfc_metrics *m = policy(2, 32, 128);
	struct tfc_metrics_snapshot s;
	char *first, *second, *b;

	(void)state;
	snap_cg(&s, r, 4);
	first = scrape(m, &s);
	b = samples(first, "traffic_counter_cgroup_bytes_total");
	assert_string_equal(b,
			    "traffic_counter_cgroup_bytes_total{cgroup=\"/a\",unit=\"\","
			    "container=\"\",pod=\"\",namespace=\"\",direction=\"ingress\"} 1000\n"
			    "traffic_counter_cgroup_bytes_total{cgroup=\"/c\",unit=\"\","
			    "container=\"\",pod=\"\",namespace=\"\",direction=\"ingress\"} 2000\n"
			    "traffic_counter_cgroup_bytes_total{cgroup=\"/c\",unit=\"\","
			    "container=\"\",pod=\"\",namespace=\"\",direction=\"egress\"} 5\n"
			    "traffic_counter_cgroup_bytes_total{cgroup=\"other\",unit=\"\","
			    "container=\"\",pod=\"\",namespace=\"\",direction=\"ingress\"} 10\n");
	free(b);
	assert_non_null(strstr(first, "\ntraffic_counter_cgroup_series 2\n"));
	assert_int_equal(tfc_metrics_cgroup_members(m), 2);
	r[1].val.bytes = 90000; /* /b outgrows the members: still "other" */
	snap_cg(&s, r, 5);	/* /d is new: no room */
	second = scrape(m, &s);
	assert_int_equal(value_of(second, "traffic_counter_cgroup_bytes_total{cgroup=\"other\","
					  "unit=\"\",container=\"\",pod=\"\",namespace=\"\","
					  "direction=\"ingress\""),
			 90000);
	assert_int_equal(value_of(second, "traffic_counter_cgroup_bytes_total{cgroup=\"other\","
					  "unit=\"\",container=\"\",pod=\"\",namespace=\"\","
					  "direction=\"egress\""),
			 7);
	assert_int_equal(sum_of(second, "traffic_counter_cgroup_bytes_total"), 93012);
	assert_int_equal(count_of(second, "traffic_counter_cgroup_bytes_total"), 5);
	/* The address membership is a table of its own. */
	assert_int_equal(tfc_metrics_members(m), 0);
	free(first);
	free(second);
	cg_free(r, 5);
	tfc_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_hostile_device_label),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_policy_out_of_range),
		cmocka_unit_test(test_order_and_escaping),
		cmocka_unit_test(test_help_and_type),
		cmocka_unit_test(test_other_metrics),
		cmocka_unit_test(test_absent_maps),
		cmocka_unit_test(test_ipfix_counts),
		cmocka_unit_test(test_same_name_merges),
		cmocka_unit_test(test_top_k_first_scrape),
		cmocka_unit_test(test_sticky_monotonic),
		cmocka_unit_test(test_join_while_room),
		cmocka_unit_test(test_other_per_group),
		cmocka_unit_test(test_totals_preserved),
		cmocka_unit_test(test_prefix_aggregation),
		cmocka_unit_test(test_prefix_within_byte),
		cmocka_unit_test(test_prefix_rows),
		cmocka_unit_test(test_cgroup_series),
		cmocka_unit_test(test_cgroup_absent),
		cmocka_unit_test(test_cgroup_same_labels_merge),
		cmocka_unit_test(test_cgroup_sticky_other),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
