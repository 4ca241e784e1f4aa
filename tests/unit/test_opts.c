// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Option parsing of every command: defaults, values, usage errors (exit 2). */
#include <errno.h>

#include "unit.h"
#include "commands.h"
#include "util/log.h"

/* One argv at a time: parse results point into it until the next call. */
static struct unit_args args;
static struct unit_capture cap_out, cap_err;

/* Parsers print usage errors and --help: keep them out of the test log,
 * but keep the text to check what the user would read. */
static void quiet_begin(void)
{
	unit_capture_start(&cap_out, stdout);
	unit_capture_start(&cap_err, stderr);
}

static void quiet_end(void)
{
	unit_capture_end(&cap_err);
	unit_capture_end(&cap_out);
}

static int run_attach(struct attach_args *a)
{
	int err;

	quiet_begin();
	err = attach_parse(args.argc, args.argv, a);
	quiet_end();
	return err;
}

static int run_detach(struct detach_args *a)
{
	int err;

	quiet_begin();
	err = detach_parse(args.argc, args.argv, a);
	quiet_end();
	return err;
}

static int run_dump(struct dump_args *a)
{
	int err;

	quiet_begin();
	err = dump_parse(args.argc, args.argv, a);
	quiet_end();
	return err;
}

static int run_set(struct set_args *a)
{
	int err;

	quiet_begin();
	err = set_parse(args.argc, args.argv, a);
	quiet_end();
	return err;
}

static int run_status(struct status_args *a)
{
	int err;

	quiet_begin();
	err = status_parse(args.argc, args.argv, a);
	quiet_end();
	return err;
}

/* ATTACH(&a, "attach", "--iface", "eth0"): argv[0] is the command name. */
#define ATTACH(out, ...) (UNIT_ARGS(&args, __VA_ARGS__), run_attach(out))
#define DETACH(out, ...) (UNIT_ARGS(&args, __VA_ARGS__), run_detach(out))
#define DUMP(out, ...)	 (UNIT_ARGS(&args, __VA_ARGS__), run_dump(out))
#define SET(out, ...)	 (UNIT_ARGS(&args, __VA_ARGS__), run_set(out))
#define STATUS(out, ...) (UNIT_ARGS(&args, __VA_ARGS__), run_status(out))

/* A usage error is one line on stderr that names the culprit. */
static void assert_usage_error(int err, const char *needle)
{
	assert_int_equal(err, -EINVAL);
	if (!strstr(cap_err.text, needle))
		fail_msg("stderr does not mention '%s': %s", needle, cap_err.text);
	assert_non_null(strstr(cap_err.text, "traffic-counter: "));
	assert_ptr_equal(strchr(cap_err.text, '\n'), cap_err.text + strlen(cap_err.text) - 1);
}

/* ---- attach ----------------------------------------------------------- */

static void test_attach_defaults(void **state)
{
	struct attach_args a;

	(void)state;
	assert_int_equal(ATTACH(&a, "attach", "--iface", "eth0"), 0);
	assert_string_equal(a.iface, "eth0");
	assert_int_equal(a.ap, TFC_AP_XDP);
	assert_int_equal(a.xdp_mode, -1);
	assert_int_equal(a.tfc_api, -1);
	assert_int_equal(a.count_by, TFC_COUNT_BY_DEFAULT);
	assert_int_equal(a.ip_map_size, 0);
	assert_int_equal(a.flow_map_size, 0);
	assert_int_equal(a.enable_flow, 0);
	assert_null(a.pins.dir);
	assert_null(a.pins.ip);
	assert_null(a.pins.flow);
	assert_null(a.pins.control);
	assert_string_equal(cap_err.text, "");
}

static void test_attach_points(void **state)
{
	static const char *const names[] = {"xdp", "tc-ingress", "tc-egress"};
	static const int want[] = {TFC_AP_XDP, TFC_AP_TC_INGRESS, TFC_AP_TC_EGRESS};
	struct attach_args a;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
			ATTACH(&a, "attach", "--iface", "eth0", "--attach-point", names[i]), 0);
		assert_int_equal(a.ap, want[i]);
	}
}

/* --attach-point cgroup: no interface; the --cgroup* options only there. */
static void test_attach_cgroup(void **state)
{
	struct attach_args a;

	(void)state;
	assert_int_equal(ATTACH(&a, "attach", "--attach-point", "cgroup"), 0);
	assert_true(a.cgroup);
	assert_null(a.cgroup_path);
	assert_int_equal(a.cgroup_depth, -1);
	assert_int_equal(ATTACH(&a, "attach", "--attach-point", "cgroup", "--cgroup",
				"/sys/fs/cgroup/x", "--cgroup-depth", "2", "--cgroup-map-size",
				"64"),
			 0);
	assert_string_equal(a.cgroup_path, "/sys/fs/cgroup/x");
	assert_int_equal(a.cgroup_depth, 2);
	assert_int_equal(a.cgroup_map_size, 64);
	assert_usage_error(ATTACH(&a, "attach", "--attach-point", "cgroup", "--iface", "eth0"),
			   "--iface");
	assert_usage_error(ATTACH(&a, "attach", "--attach-point", "cgroup", "--cgroup-depth", "17"),
			   "cgroup-depth");
	assert_usage_error(ATTACH(&a, "attach", "--iface", "eth0", "--cgroup-depth", "1"),
			   "applies to --attach-point cgroup only");
	assert_usage_error(ATTACH(&a, "attach", "--attach-point", "cgroup", "--xdp-mode", "skb"),
			   "xdp-mode");
}

static void test_attach_xdp_modes(void **state)
{
	static const char *const names[] = {"driver", "native", "skb", "hw"};
	static const int want[] = {TFC_XDP_DRIVER, TFC_XDP_DRIVER, TFC_XDP_SKB, TFC_XDP_HW};
	struct attach_args a;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ATTACH(&a, "attach", "--iface", "eth0", "--xdp-mode", names[i]),
				 0);
		assert_int_equal(a.xdp_mode, want[i]);
		assert_int_equal(a.ap, TFC_AP_XDP);
	}
}

static void test_attach_tc_apis(void **state)
{
	static const char *const names[] = {"auto", "tcx", "netlink"};
	static const int want[] = {TFC_API_AUTO, TFC_API_TCX, TFC_API_NETLINK};
	struct attach_args a;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ATTACH(&a, "attach", "--iface", "eth0", "--attach-point",
					"tc-ingress", "--tc-api", names[i]),
				 0);
		assert_int_equal(a.tfc_api, want[i]);
		assert_int_equal(ATTACH(&a, "attach", "--tc-api", names[i], "--attach-point",
					"tc-egress", "--iface", "eth0"),
				 0);
		assert_int_equal(a.tfc_api, want[i]);
		assert_int_equal(a.ap, TFC_AP_TC_EGRESS);
	}
}

/* "default" is the absence of --count-by, not a value for it. */
static void test_attach_count_by(void **state)
{
	struct attach_args a;

	(void)state;
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e", "--count-by", "src"), 0);
	assert_int_equal(a.count_by, TFC_COUNT_BY_SRC);
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e", "--count-by", "dst"), 0);
	assert_int_equal(a.count_by, TFC_COUNT_BY_DST);
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--count-by", "default"),
			   "--count-by");
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--count-by", "both"), "'both'");
}

static void test_attach_sizes_and_flow(void **state)
{
	struct attach_args a;

	(void)state;
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e", "--ip-map-size", "1",
				"--flow-map-size", "16777216", "--enable-flow-map"),
			 0);
	assert_int_equal(a.ip_map_size, 1);
	assert_int_equal(a.flow_map_size, TFC_MAX_MAP_ENTRIES);
	assert_int_equal(a.enable_flow, 1);
	assert_int_equal(a.migrate, 0);
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e", "--ip-map-size", "131072"), 0);
	assert_int_equal(a.ip_map_size, 131072);
	assert_int_equal(a.flow_map_size, 0);
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e", "--migrate"), 0);
	assert_int_equal(a.migrate, 1);
	assert_int_equal(tfc_parse_exit(ATTACH(&a, "attach", "--iface", "e", "--migrate=yes")), 2);
}

/* Zero, negative, not a number, beyond 64 bits, beyond 2^24: all refused. */
static void test_attach_sizes_invalid(void **state)
{
	static const char *const bad[] = {"0",
					  "-5",
					  "abc",
					  "99999999999",
					  "16777217",
					  "12abc",
					  "+5",
					  "",
					  "0x10",
					  "1e3",
					  "99999999999999999999999"};
	struct attach_args a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--ip-map-size", bad[i]),
				   "--ip-map-size");
		assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--flow-map-size", bad[i]),
				   "--flow-map-size");
	}
}

static void test_attach_missing_iface(void **state)
{
	struct attach_args a;

	(void)state;
	assert_usage_error(ATTACH(&a, "attach"), "--iface");
	assert_usage_error(ATTACH(&a, "attach", "--attach-point", "tc-ingress"), "--iface");
}

/* The mismatch is found whatever the order of the options. */
static void test_attach_xdp_mode_with_tc(void **state)
{
	struct attach_args a;

	(void)state;
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--attach-point", "tc-ingress",
				  "--xdp-mode", "skb"),
			   "--xdp-mode");
	assert_usage_error(ATTACH(&a, "attach", "--xdp-mode", "driver", "--iface", "e",
				  "--attach-point", "tc-egress"),
			   "--xdp-mode");
}

static void test_attach_tc_api_with_xdp(void **state)
{
	struct attach_args a;

	(void)state;
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--tc-api", "tcx"), "--tc-api");
	assert_usage_error(
		ATTACH(&a, "attach", "--iface", "e", "--attach-point", "xdp", "--tc-api", "auto"),
		"--tc-api");
}

static void test_attach_bad_enums(void **state)
{
	struct attach_args a;

	(void)state;
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--attach-point", "tc"),
			   "--attach-point");
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--xdp-mode", "generic"),
			   "'generic'");
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--attach-point", "tc-ingress",
				  "--tc-api", "bpf"),
			   "--tc-api");
}

static void test_unknown_option(void **state)
{
	struct attach_args a;
	struct status_args s;

	(void)state;
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--bogus"), "'--bogus'");
	assert_usage_error(ATTACH(&a, "attach", "-x", "--iface", "e"), "'-x'");
	assert_usage_error(STATUS(&s, "status", "--csv"), "'--csv'");
}

/* A value-taking option at the end of the line has no value. */
static void test_missing_value(void **state)
{
	struct attach_args a;
	struct dump_args d;

	(void)state;
	assert_usage_error(ATTACH(&a, "attach", "--iface"), "'--iface' needs a value");
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "--ip-map-size"),
			   "'--ip-map-size'");
	assert_usage_error(DUMP(&d, "dump-maps", "--top"), "'--top'");
	assert_usage_error(DUMP(&d, "dump-maps", "--sort"), "'--sort'");
}

static void test_unexpected_argument(void **state)
{
	struct attach_args a;

	(void)state;
	assert_usage_error(ATTACH(&a, "attach", "--iface", "e", "extra"), "'extra'");
	/* Options after a positional argument are not reordered past it. */
	assert_usage_error(ATTACH(&a, "attach", "eth0", "--iface", "e"), "'eth0'");
}

static void test_pin_options(void **state)
{
	struct attach_args a;
	struct set_args s;

	(void)state;
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e", "--pin-dir", "/d", "--pin", "/p",
				"--flow-pin", "/f", "--control-pin", "/c"),
			 0);
	assert_string_equal(a.pins.dir, "/d");
	assert_string_equal(a.pins.ip, "/p");
	assert_string_equal(a.pins.flow, "/f");
	assert_string_equal(a.pins.control, "/c");
	assert_int_equal(SET(&s, "set", "--pin-dir", "/x", "--enable-flow-map"), 0);
	assert_string_equal(s.pins.dir, "/x");
}

/* ---- --help and the exit codes ---------------------------------------- */

static void assert_help(int err, const char *cmd, const char *opt)
{
	char usage[64];

	snprintf(usage, sizeof(usage), "Usage: traffic-counter %s ", cmd);
	assert_int_equal(err, TFC_OPTS_HELP);
	assert_non_null(strstr(cap_out.text, usage));
	assert_non_null(strstr(cap_out.text, opt));
	assert_non_null(strstr(cap_out.text, "--pin-dir DIR"));
	assert_string_equal(cap_err.text, "");
}

/* Help wins over missing required options: it is not a usage error. */
static void test_help_every_command(void **state)
{
	struct attach_args a;
	struct detach_args de;
	struct dump_args du;
	struct set_args s;
	struct status_args st;

	(void)state;
	assert_help(ATTACH(&a, "attach", "--help"), "attach", "--iface IF");
	assert_help(ATTACH(&a, "attach", "-h"), "attach", "--xdp-mode MODE");
	assert_help(DETACH(&de, "detach", "--help"), "detach", "--all");
	assert_help(DUMP(&du, "dump-maps", "--help"), "dump-maps", "--top N");
	assert_help(SET(&s, "set", "--help"), "set", "--disable-flow-map");
	assert_help(STATUS(&st, "status", "--help"), "status", "--json");
}

static void test_parse_exit(void **state)
{
	struct attach_args a;

	(void)state;
	assert_int_equal(tfc_parse_exit(0), -1);
	assert_int_equal(tfc_parse_exit(TFC_OPTS_HELP), TFC_EXIT_OK);
	assert_int_equal(tfc_parse_exit(-EINVAL), TFC_EXIT_USAGE);
	assert_int_equal(tfc_parse_exit(ATTACH(&a, "attach", "--help")), 0);
	assert_int_equal(tfc_parse_exit(ATTACH(&a, "attach", "--nope")), 2);
	assert_int_equal(tfc_parse_exit(ATTACH(&a, "attach", "--iface", "e")), -1);
}

/* Every parse starts from the defaults, not from what a failed one set. */
static void test_parse_again_after_error(void **state)
{
	struct attach_args a;

	(void)state;
	assert_int_equal(ATTACH(&a, "attach", "--enable-flow-map", "--iface", "e", "--bogus"),
			 -EINVAL);
	assert_int_equal(ATTACH(&a, "attach", "--iface", "f"), 0);
	assert_string_equal(a.iface, "f");
	assert_int_equal(a.enable_flow, 0);
}

/*
 * Each parse must start afresh even when the previous one stopped inside a
 * group of short options ("-hx" stops at h): parsers are called more than
 * once per process here, with argv arrays of their own.
 */
static void test_reparse_after_cluster(void **state)
{
	struct unit_args first, second;
	struct status_args s;
	int err1, err2;

	(void)state;
	UNIT_ARGS(&first, "status", "-hx");
	UNIT_ARGS(&second, "status", "--json");
	quiet_begin();
	err1 = status_parse(first.argc, first.argv, &s);
	err2 = status_parse(second.argc, second.argv, &s);
	quiet_end();
	assert_int_equal(err1, TFC_OPTS_HELP);
	if (err2)
		fail_msg("second parse failed (%d): %s", err2, cap_err.text);
	assert_int_equal(s.json, 1);
}

/* ---- dump-maps -------------------------------------------------------- */

static void test_dump_defaults(void **state)
{
	struct dump_args d;

	(void)state;
	assert_int_equal(DUMP(&d, "dump-maps"), 0);
	assert_int_equal(d.format, TFC_FMT_TABLE);
	assert_int_equal(d.sort, TFC_SORT_BYTES);
	assert_int_equal(d.top, 0);
	assert_null(d.pins.ip);
}

static void test_dump_formats(void **state)
{
	struct dump_args d;

	(void)state;
	assert_int_equal(DUMP(&d, "dump-maps", "--json"), 0);
	assert_int_equal(d.format, TFC_FMT_JSON);
	assert_int_equal(DUMP(&d, "dump-maps", "--csv"), 0);
	assert_int_equal(d.format, TFC_FMT_CSV);
	assert_usage_error(DUMP(&d, "dump-maps", "--json", "--csv"), "--csv");
	assert_usage_error(DUMP(&d, "dump-maps", "--csv", "--json"), "--json");
}

static void test_dump_sort(void **state)
{
	static const char *const names[] = {"bytes", "packets", "ip"};
	static const int want[] = {TFC_SORT_BYTES, TFC_SORT_PACKETS, TFC_SORT_IP};
	struct dump_args d;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(DUMP(&d, "dump-maps", "--sort", names[i]), 0);
		assert_int_equal(d.sort, want[i]);
	}
	assert_usage_error(DUMP(&d, "dump-maps", "--sort", "flows"), "--sort");
	assert_usage_error(DUMP(&d, "dump-maps", "--sort", "Bytes"), "'Bytes'");
}

static void test_dump_top(void **state)
{
	static const char *const bad[] = {"0", "-1", "ten", "4294967296", ""};
	struct dump_args d;

	(void)state;
	assert_int_equal(DUMP(&d, "dump-maps", "--top", "1"), 0);
	assert_int_equal(d.top, 1);
	assert_int_equal(DUMP(&d, "dump-maps", "--top", "4294967295", "--sort", "ip"), 0);
	assert_int_equal(d.top, UINT32_MAX);
	assert_int_equal(d.sort, TFC_SORT_IP);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_usage_error(DUMP(&d, "dump-maps", "--top", bad[i]), "--top");
}

/* ---- detach ----------------------------------------------------------- */

static void test_detach_valid(void **state)
{
	struct detach_args d;

	(void)state;
	assert_int_equal(DETACH(&d, "detach", "--iface", "eth0"), 0);
	assert_string_equal(d.iface, "eth0");
	assert_int_equal(d.ap, TFC_AP_XDP);
	assert_int_equal(d.all, 0);
	assert_int_equal(d.purge, 0);
	assert_int_equal(DETACH(&d, "detach", "--iface", "eth0", "--attach-point", "tc-egress"), 0);
	assert_int_equal(d.ap, TFC_AP_TC_EGRESS);
	assert_int_equal(DETACH(&d, "detach", "--all", "--purge"), 0);
	assert_int_equal(d.all, 1);
	assert_int_equal(d.purge, 1);
	assert_null(d.iface);
	/* Only removing the maps, when nothing is attached any more. */
	assert_int_equal(DETACH(&d, "detach", "--purge"), 0);
	assert_int_equal(d.all, 0);
	assert_int_equal(d.purge, 1);
}

static void test_detach_if_attached(void **state)
{
	struct detach_args d;

	(void)state;
	assert_int_equal(DETACH(&d, "detach", "--iface", "eth0"), 0);
	assert_int_equal(d.if_attached, 0);
	assert_int_equal(DETACH(&d, "detach", "--all", "--purge", "--if-attached"), 0);
	assert_int_equal(d.if_attached, 1);
	assert_int_equal(d.all, 1);
	assert_int_equal(d.purge, 1);
}

static void test_detach_invalid(void **state)
{
	struct detach_args d;

	(void)state;
	assert_usage_error(DETACH(&d, "detach", "--all", "--iface", "eth0"), "--all");
	assert_usage_error(DETACH(&d, "detach", "--iface", "eth0", "--all"), "--iface");
	assert_usage_error(DETACH(&d, "detach"), "--iface");
	assert_usage_error(DETACH(&d, "detach", "--attach-point", "tc-ingress"), "--iface");
	assert_usage_error(DETACH(&d, "detach", "--iface", "e", "--attach-point", "xdp-generic"),
			   "--attach-point");
}

/* -v after the command, as before it (main.c): the log level, not an error. */
static void test_verbose_after_command(void **state)
{
	struct attach_args a;
	struct set_args s;

	(void)state;
	tfc_log_set_level(TFC_LOG_INFO);
	assert_int_equal(ATTACH(&a, "attach", "-v", "--iface", "eth0"), 0);
	assert_int_equal(tfc_log_get_level(), TFC_LOG_DEBUG);
	assert_string_equal(a.iface, "eth0");
	tfc_log_set_level(TFC_LOG_INFO);
	assert_int_equal(SET(&s, "set", "--enable-flow-map", "--verbose"), 0);
	assert_int_equal(tfc_log_get_level(), TFC_LOG_DEBUG);
	tfc_log_set_level(TFC_LOG_INFO);
}

/* ---- set and status --------------------------------------------------- */

static void test_set(void **state)
{
	struct set_args s;

	(void)state;
	assert_int_equal(SET(&s, "set", "--enable-flow-map"), 0);
	assert_int_equal(s.flow, 1);
	assert_int_equal(SET(&s, "set", "--disable-flow-map"), 0);
	assert_int_equal(s.flow, 0);
	assert_int_equal(SET(&s, "set", "--enable-flow-map", "--enable-flow-map"), 0);
	assert_int_equal(s.flow, 1);
}

static void test_set_invalid(void **state)
{
	struct set_args s;

	(void)state;
	/* No flag: the message lists the flags set has, blaming none of them. */
	assert_usage_error(SET(&s, "set"), "set: nothing to set");
	assert_non_null(strstr(cap_err.text, "--enable-flow-map"));
	assert_non_null(strstr(cap_err.text, "--disable-flow-map"));
	assert_null(strstr(cap_err.text, "--enable-flow-map: nothing"));
	assert_usage_error(SET(&s, "set", "--pin-dir", "/x"), "--disable-flow-map");
	assert_usage_error(SET(&s, "set", "--enable-flow-map", "--disable-flow-map"),
			   "--disable-flow-map");
	assert_usage_error(SET(&s, "set", "--disable-flow-map", "--enable-flow-map"),
			   "--enable-flow-map");
}

/* Layout 3's prefix options: parsed rules, the overflow lengths, the prefix map size. */
static void test_attach_prefix_options(void **state)
{
	char buf[TFC_AGG_RULE_STRLEN];
	struct attach_args a;

	(void)state;
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e", "--prefix-map-size", "1000",
				"--overflow-prefix", "20,40", "--aggregate",
				"0.0.0.0/0=24,198.18.0.0/15=32,fd00::/8=64"),
			 0);
	assert_int_equal(a.prefix_map_size, 1000);
	assert_true(a.pfx.overflow_set);
	assert_int_equal(a.pfx.overflow_v4, 20);
	assert_int_equal(a.pfx.overflow_v6, 40);
	assert_true(a.pfx.aggregate_set);
	assert_int_equal(a.pfx.n_rules, 3);
	assert_string_equal(tfc_agg_rule_str(&a.pfx.rules[0], buf, sizeof(buf)), "0.0.0.0/0=24");
	assert_string_equal(tfc_agg_rule_str(&a.pfx.rules[1], buf, sizeof(buf)),
			    "198.18.0.0/15=32");
	assert_string_equal(tfc_agg_rule_str(&a.pfx.rules[2], buf, sizeof(buf)), "fd00::/8=64");
	tfc_prefix_args_free(&a.pfx);
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e", "--overflow-prefix", "0"), 0);
	assert_true(a.pfx.overflow_set);
	assert_int_equal(a.pfx.overflow_v4 + a.pfx.overflow_v6, 0);
	assert_false(a.pfx.aggregate_set);
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e", "--overflow-prefix", "32,0"), 0);
	assert_int_equal(a.pfx.overflow_v4, 32);
	assert_int_equal(a.pfx.overflow_v6, 0);
	assert_int_equal(ATTACH(&a, "attach", "--iface", "e"), 0);
	assert_false(a.pfx.overflow_set);
	assert_int_equal(a.prefix_map_size, 0);
}

static void test_prefix_options_invalid(void **state)
{
	static const struct {
		const char *opt, *arg, *says;
	} bad[] = {
		{"--overflow-prefix", "33,48", "the IPv4 length must be 1..32, or 0 (off)"},
		{"--overflow-prefix", "24,129", "the IPv6 length must be 1..128, or 0 (off)"},
		{"--overflow-prefix", "24", "'24' is not V4,V6 (e.g. 24,48)"},
		{"--overflow-prefix", "24,", "the IPv6 length"},
		{"--overflow-prefix", "-1,48", "the IPv4 length"},
		{"--overflow-prefix", "", "is not V4,V6"},
		{"--prefix-map-size", "0", "--prefix-map-size: 0 is out of range 1..16777216"},
		{"--aggregate", "", "no rule given: use --no-aggregate"},
		{"--aggregate", "10.0.0.0/8", "'10.0.0.0/8' is not CIDR=LEN"},
		{"--aggregate", "10.0.0.0/8=7", "LEN must be 8..32"},
		{"--aggregate", "10.0.0.0/8=33", "LEN must be 8..32"},
		{"--aggregate", "fd00::/8=129", "LEN must be 8..128"},
		{"--aggregate", "10.0.0.0/33=33", "the length must be 0..32"},
		{"--aggregate", "10.0.0.1/8=24", "'10.0.0.1/8' has bits set after /8"},
		{"--aggregate", "10.0.0.0=24", "'10.0.0.0' is not a prefix: write ADDR/LEN"},
		{"--aggregate", "x/8=24", "'x' is not an IPv4 or IPv6 address"},
		{"--aggregate", "10.0.0.0/8=24,,fd00::/8=64", "an empty rule"},
		{"--aggregate", "10.0.0.0/8=24,10.0.0.0/8=16", "10.0.0.0/8=16 is given twice"},
	};
	struct attach_args a;
	struct set_args s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_usage_error(ATTACH(&a, "attach", "--iface", "e", bad[i].opt, bad[i].arg),
				   bad[i].says);
		if (strcmp(bad[i].opt, "--prefix-map-size"))
			assert_usage_error(SET(&s, "set", bad[i].opt, bad[i].arg), bad[i].says);
	}
	assert_usage_error(SET(&s, "set", "--aggregate", "0.0.0.0/0=24", "--no-aggregate"),
			   "--no-aggregate: conflicts with --aggregate");
	assert_usage_error(
		SET(&s, "set", "--aggregate", "0.0.0.0/0=24", "--aggregate", "fd00::/8=64"),
		"give --aggregate once");
	assert_usage_error(SET(&s, "set", "--prefix-map-size", "5"), "unknown option");
}

static void test_set_prefix_options(void **state)
{
	struct set_args s;

	(void)state;
	assert_int_equal(SET(&s, "set", "--no-aggregate"), 0);
	assert_true(s.pfx.aggregate_set);
	assert_int_equal(s.pfx.n_rules, 0);
	assert_int_equal(s.flow, -1);
	assert_int_equal(SET(&s, "set", "--aggregate", "198.18.0.0/15=32", "--overflow-prefix",
			     "24,48", "--enable-flow-map"),
			 0);
	assert_int_equal(s.pfx.n_rules, 1);
	assert_int_equal(s.pfx.rules[0].cidr_len, 15);
	assert_int_equal(s.pfx.overflow_v6, 48);
	assert_int_equal(s.flow, 1);
	tfc_prefix_args_free(&s.pfx);
}

static void test_status(void **state)
{
	struct status_args s;

	(void)state;
	assert_int_equal(STATUS(&s, "status"), 0);
	assert_int_equal(s.json, 0);
	assert_null(s.pins.dir);
	assert_int_equal(STATUS(&s, "status", "--json", "--pin-dir", "/y"), 0);
	assert_int_equal(s.json, 1);
	assert_string_equal(s.pins.dir, "/y");
	assert_usage_error(STATUS(&s, "status", "now"), "'now'");
}

/* ---- tfc_parse_u32 ----------------------------------------------------- */

static int parse_u32(const char *s, __u32 min, __u32 max, __u32 *out)
{
	int err;

	quiet_begin();
	err = tfc_parse_u32("n", s, min, max, out);
	quiet_end();
	return err;
}

static void test_parse_u32(void **state)
{
	__u32 v = 77;

	(void)state;
	assert_int_equal(parse_u32("10", 10, 20, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_u32("20", 10, 20, &v), 0);
	assert_int_equal(v, 20);
	assert_int_equal(parse_u32("010", 0, 20, &v), 0); /* decimal, not octal */
	assert_int_equal(v, 10);
	assert_int_equal(parse_u32("4294967295", 0, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	v = 77;
	assert_usage_error(parse_u32("9", 10, 20, &v), "--n");
	assert_usage_error(parse_u32("21", 10, 20, &v), "out of range");
	assert_usage_error(parse_u32("4294967296", 0, UINT32_MAX, &v), "4294967296");
	assert_usage_error(parse_u32("18446744073709551616", 0, UINT32_MAX, &v), "--n");
	assert_usage_error(parse_u32("5 ", 0, 20, &v), "not a whole number");
	assert_usage_error(parse_u32(NULL, 0, 20, &v), "--n");
	assert_int_equal(v, 77); /* untouched on error */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_defaults),
		cmocka_unit_test(test_attach_points),
		cmocka_unit_test(test_attach_cgroup),
		cmocka_unit_test(test_attach_xdp_modes),
		cmocka_unit_test(test_attach_tc_apis),
		cmocka_unit_test(test_attach_count_by),
		cmocka_unit_test(test_attach_sizes_and_flow),
		cmocka_unit_test(test_attach_sizes_invalid),
		cmocka_unit_test(test_attach_missing_iface),
		cmocka_unit_test(test_attach_xdp_mode_with_tc),
		cmocka_unit_test(test_attach_tc_api_with_xdp),
		cmocka_unit_test(test_attach_bad_enums),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_unexpected_argument),
		cmocka_unit_test(test_pin_options),
		cmocka_unit_test(test_help_every_command),
		cmocka_unit_test(test_parse_exit),
		cmocka_unit_test(test_parse_again_after_error),
		cmocka_unit_test(test_reparse_after_cluster),
		cmocka_unit_test(test_dump_defaults),
		cmocka_unit_test(test_dump_formats),
		cmocka_unit_test(test_dump_sort),
		cmocka_unit_test(test_dump_top),
		cmocka_unit_test(test_detach_valid),
		cmocka_unit_test(test_detach_if_attached),
		cmocka_unit_test(test_detach_invalid),
		cmocka_unit_test(test_verbose_after_command),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_invalid),
		cmocka_unit_test(test_attach_prefix_options),
		cmocka_unit_test(test_prefix_options_invalid),
		cmocka_unit_test(test_set_prefix_options),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_parse_u32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
