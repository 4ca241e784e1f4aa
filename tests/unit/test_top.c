// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* top's and apply's options, and top's rows as text. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "commands.h"
#include "config/config.h"
#include "top/top.h"

static int top_args_of(struct top_args *t, struct unit_args *a, struct unit_capture *err)
{
	int ret;

	unit_capture_start(err, stderr);
	ret = top_parse(a->argc, a->argv, t);
	unit_capture_end(err);
	return ret;
}

static void test_top_defaults(void **state)
{
	struct unit_capture err;
	struct unit_args a;
	struct top_args t;

	(void)state;
	UNIT_ARGS(&a, "top");
	assert_int_equal(top_args_of(&t, &a, &err), 0);
	assert_true(t.interval == 1.0);
	assert_int_equal(t.sort, TFC_RSORT_RATE);
	assert_int_equal(t.iterations, 0);
	assert_int_equal(t.top, 0);
	assert_false(t.flows);
	assert_false(t.exact);
}

static void test_top_options(void **state)
{
	struct unit_capture err;
	struct unit_args a;
	struct top_args t;

	(void)state;
	UNIT_ARGS(&a, "top", "--interval", "0.5", "--sort", "total", "--flows", "--iterations", "3",
		  "--top", "10", "--exact", "--pin-dir", "/sys/fs/bpf/x");
	assert_int_equal(top_args_of(&t, &a, &err), 0);
	assert_true(t.interval == 0.5);
	assert_int_equal(t.sort, TFC_RSORT_TOTAL);
	assert_true(t.flows);
	assert_int_equal(t.iterations, 3);
	assert_int_equal(t.top, 10);
	assert_true(t.exact);
	assert_string_equal(t.pins.dir, "/sys/fs/bpf/x");
	UNIT_ARGS(&a, "top", "--once");
	assert_int_equal(top_args_of(&t, &a, &err), 0);
	assert_int_equal(t.iterations, 1);
}

static void test_top_usage_errors(void **state)
{
	static const struct {
		const char *opt, *val, *says;
	} cases[] = {
		{"--interval", "0", "--interval: '0' is not a number of seconds from 0.1 to 3600"},
		{"--interval", "fast", "--interval: 'fast'"},
		{"--sort", "bytes", "--sort: 'bytes' is not one of rate, total"},
		{"--iterations", "0", "--iterations: 0 is out of range"},
		{"--top", "x", "--top: 'x' is not a whole number"},
	};
	struct unit_capture err;
	struct unit_args a;
	struct top_args t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		UNIT_ARGS(&a, "top", cases[i].opt, cases[i].val);
		assert_int_equal(top_args_of(&t, &a, &err), -EINVAL);
		if (!strstr(err.text, cases[i].says))
			fail_msg("%s %s: '%s'", cases[i].opt, cases[i].val, err.text);
	}
	UNIT_ARGS(&a, "top", "--once", "--iterations", "2");
	assert_int_equal(top_args_of(&t, &a, &err), -EINVAL);
	assert_non_null(strstr(err.text, "choose one of --once and --iterations"));
}

static void test_apply_options(void **state)
{
	struct unit_capture err;
	struct apply_args ap;
	struct unit_args a;
	int ret;

	(void)state;
	UNIT_ARGS(&a, "apply");
	assert_int_equal(apply_parse(a.argc, a.argv, &ap), 0);
	assert_string_equal(ap.config, TFC_CONFIG_DEFAULT);
	assert_false(ap.check || ap.stop);
	UNIT_ARGS(&a, "apply", "--config", "/tmp/x.conf", "--stop");
	assert_int_equal(apply_parse(a.argc, a.argv, &ap), 0);
	assert_string_equal(ap.config, "/tmp/x.conf");
	assert_true(ap.stop);
	UNIT_ARGS(&a, "apply", "--check", "--stop");
	unit_capture_start(&err, stderr);
	ret = apply_parse(a.argc, a.argv, &ap);
	unit_capture_end(&err);
	assert_int_equal(ret, -EINVAL);
	assert_non_null(strstr(err.text, "--check: cannot be combined with --stop"));
}

/* ---- rows as text ------------------------------------------------------- */

static struct tfc_rate_row row(__u8 last, double rate, __u64 bytes, __u64 packets)
{
	struct tfc_rate_row r;

	memset(&r, 0, sizeof(r));
	r.key.ip.family = 4;
	r.key.ip.addr[0] = 198;
	r.key.ip.addr[1] = 18;
	r.key.ip.addr[3] = last;
	r.key.ip.ifindex = 1; /* lo, in every namespace */
	r.bytes = bytes;
	r.packets = packets;
	r.byte_rate = rate;
	r.packet_rate = rate / 100;
	r.has_rate = 1;
	return r;
}

static void render(struct top *t, char out[][TOP_LINE_LEN], size_t n)
{
	int visible[TOP_NCOL], width[TOP_NCOL];
	top_cells c;

	top_columns(t, n, visible, width);
	top_head_cells(t, c);
	top_line(c, visible, width, out[0], TOP_LINE_LEN);
	for (size_t i = 0; i < n; i++) {
		top_row_cells(t, &t->shown[i], c);
		top_line(c, visible, width, out[i + 1], TOP_LINE_LEN);
	}
}

static void test_rows_human_and_exact(void **state)
{
	struct tfc_rate_row rows[] = {row(1, 15000, 1234567, 890), row(22, 0, 60, 1)};
	struct top t;
	char out[3][TOP_LINE_LEN];

	(void)state;
	memset(&t, 0, sizeof(t));
	t.view = TFC_VIEW_IP;
	t.shown = rows;
	t.n_shown = 2;
	rows[1].has_rate = 0;
	render(&t, out, 2);
	assert_string_equal(out[0],
			    "ADDRESS      DIR      IFACE      RATE  PKTS/S   TOTAL  PACKETS");
	assert_string_equal(out[1],
			    "198.18.0.1   ingress  lo     15.0kB/s   150/s  1.23MB      890");
	assert_string_equal(out[2],
			    "198.18.0.22  ingress  lo            -       -     60B        1");
	t.a.exact = 1;
	render(&t, out, 1);
	assert_string_equal(out[1],
			    "198.18.0.1  ingress  lo     15000.0   150.0  1234567      890");
}

/* A prefix row: its address with /LEN, like any other row otherwise. */
static void test_prefix_row(void **state)
{
	struct tfc_rate_row rows[] = {row(0, 0, 60, 1), row(7, 0, 70, 1)};
	struct top t;
	char out[3][TOP_LINE_LEN];

	(void)state;
	memset(&t, 0, sizeof(t));
	t.view = TFC_VIEW_IP;
	t.shown = rows;
	t.n_shown = 2;
	t.a.exact = 1;
	rows[0].key.ip.is_prefix = 1;
	rows[0].key.ip.prefix_len = 24;
	render(&t, out, 2);
	assert_string_equal(out[0], "ADDRESS        DIR      IFACE  RATE  PKTS/S  TOTAL  PACKETS");
	assert_string_equal(out[1], "198.18.0.0/24  ingress  lo      0.0     0.0     60        1");
	assert_string_equal(out[2], "198.18.0.7     ingress  lo      0.0     0.0     70        1");
}

static void test_flow_row(void **state)
{
	struct tfc_rate_row r;
	struct top t;
	top_cells c;

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(&r, 0, sizeof(r));
	t.view = TFC_VIEW_FLOW;
	r.key.flow.family = 6;
	r.key.flow.src[0] = 0xfd;
	r.key.flow.src[15] = 1;
	r.key.flow.dst[0] = 0xfd;
	r.key.flow.dst[15] = 2;
	r.key.flow.sport = 5000;
	r.key.flow.dport = 443;
	r.key.flow.proto = 6;
	r.key.flow.direction = TFC_DIR_EGRESS;
	top_row_cells(&t, &r, c);
	assert_string_equal(c[TOP_ADDR], "[fd00::1]:5000->[fd00::2]:443");
	assert_string_equal(c[TOP_PROTO], "tcp");
	assert_string_equal(c[TOP_DIR], "egress");
	r.key.flow.proto = 58; /* no ports */
	top_row_cells(&t, &r, c);
	assert_string_equal(c[TOP_ADDR], "fd00::1->fd00::2");
	assert_string_equal(c[TOP_PROTO], "icmpv6");
	r.key.flow.proto = 47;
	top_row_cells(&t, &r, c);
	assert_string_equal(c[TOP_PROTO], "47");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_defaults),	     cmocka_unit_test(test_top_options),
		cmocka_unit_test(test_top_usage_errors),     cmocka_unit_test(test_apply_options),
		cmocka_unit_test(test_rows_human_and_exact), cmocka_unit_test(test_flow_row),
		cmocka_unit_test(test_prefix_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
