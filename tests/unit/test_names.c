// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Enum <-> text: the names users type and scripts read
 * (openspec/specs/cli.md CLI3 and CLI6, counting.md C6). */
#include <errno.h>
#include <ctype.h>

#include "unit.h"
#include "util/names.h"
#include "maps/maps.h"
#include "loader/hooks.h"

static void test_attach_point_round_trip(void **state)
{
	static const char *const names[TFC_AP_MAX] = {"xdp", "tc-ingress", "tc-egress"};

	(void)state;
	for (int ap = 0; ap < TFC_AP_MAX; ap++) {
		assert_string_equal(tfc_attach_point_str(ap), names[ap]);
		assert_int_equal(tfc_attach_point_parse(names[ap]), ap);
		assert_int_equal(tfc_attach_point_parse(tfc_attach_point_str(ap)), ap);
	}
	assert_string_equal(tfc_attach_point_str(TFC_AP_MAX), "unknown");
}

/* Names are exact: no case folding, no prefixes, no NULL crash. */
static void test_attach_point_rejects(void **state)
{
	(void)state;
	assert_int_equal(tfc_attach_point_parse("XDP"), -EINVAL);
	assert_int_equal(tfc_attach_point_parse("tc"), -EINVAL);
	assert_int_equal(tfc_attach_point_parse("tc-ingres"), -EINVAL);
	assert_int_equal(tfc_attach_point_parse("unknown"), -EINVAL);
	assert_int_equal(tfc_attach_point_parse(""), -EINVAL);
	assert_int_equal(tfc_attach_point_parse(NULL), -EINVAL);
}

static void test_xdp_mode_round_trip(void **state)
{
	const struct {
		enum tfc_xdp_mode mode;
		const char *name;
	} modes[] = {{TFC_XDP_DRIVER, "driver"}, {TFC_XDP_SKB, "skb"}, {TFC_XDP_HW, "hw"}};

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_string_equal(tfc_xdp_mode_str(modes[i].mode), modes[i].name);
		assert_int_equal(tfc_xdp_mode_parse(modes[i].name), modes[i].mode);
	}
	assert_string_equal(tfc_xdp_mode_str((enum tfc_xdp_mode)3), "unknown");
}

/* "native" is what ip-link calls driver mode; it must not print back as such. */
static void test_xdp_mode_native_alias(void **state)
{
	(void)state;
	assert_int_equal(tfc_xdp_mode_parse("native"), TFC_XDP_DRIVER);
	assert_string_equal(tfc_xdp_mode_str(tfc_xdp_mode_parse("native")), "driver");
	assert_int_equal(tfc_xdp_mode_parse("generic"), -EINVAL);
	assert_int_equal(tfc_xdp_mode_parse("Driver"), -EINVAL);
	assert_int_equal(tfc_xdp_mode_parse(NULL), -EINVAL);
}

static void test_tc_api_parse(void **state)
{
	(void)state;
	assert_int_equal(tfc_tc_api_parse("auto"), TFC_API_AUTO);
	assert_int_equal(tfc_tc_api_parse("tcx"), TFC_API_TCX);
	assert_int_equal(tfc_tc_api_parse("netlink"), TFC_API_NETLINK);
	assert_int_equal(tfc_tc_api_parse("tc"), -EINVAL);
	assert_int_equal(tfc_tc_api_parse(""), -EINVAL);
	assert_int_equal(tfc_tc_api_parse(NULL), -EINVAL);
}

static void test_count_by_parse(void **state)
{
	(void)state;
	assert_int_equal(tfc_count_by_parse("default"), TFC_COUNT_BY_DEFAULT);
	assert_int_equal(tfc_count_by_parse("src"), TFC_COUNT_BY_SRC);
	assert_int_equal(tfc_count_by_parse("dst"), TFC_COUNT_BY_DST);
	assert_int_equal(tfc_count_by_parse("source"), -EINVAL);
	assert_int_equal(tfc_count_by_parse(NULL), -EINVAL);
}

static void test_direction_str(void **state)
{
	(void)state;
	assert_string_equal(tfc_direction_str(TFC_DIR_INGRESS), "ingress");
	assert_string_equal(tfc_direction_str(TFC_DIR_EGRESS), "egress");
}

/* Stat names become JSON keys of status: all present, distinct, plain. */
static void test_stat_names_distinct(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < TFC_STAT_MAX; i++) {
		const char *name = tfc_stat_str(i);

		assert_non_null(name);
		assert_true(name[0] != '\0');
		for (const char *p = name; *p; p++)
			assert_true(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
				    *p == '_');
		for (unsigned int j = 0; j < i; j++)
			assert_string_not_equal(name, tfc_stat_str(j));
	}
}

static void test_stat_names_bounds(void **state)
{
	(void)state;
	assert_string_equal(tfc_stat_str(TFC_STAT_IP_MAP_FULL), "ip_map_full");
	assert_string_equal(tfc_stat_str(TFC_STAT_IPV6_EXT_LIMIT), "ipv6_ext_limit");
	assert_null(tfc_stat_str(TFC_STAT_MAX));
	assert_null(tfc_stat_str(255));
	assert_null(tfc_stat_str(UINT_MAX));
}

static void test_map_kind_names(void **state)
{
	(void)state;
	assert_string_equal(tfc_map_kind_name(TFC_MAP_IP), TFC_IP_MAP_NAME);
	assert_string_equal(tfc_map_kind_name(TFC_MAP_FLOW), TFC_FLOW_MAP_NAME);
	assert_string_equal(tfc_map_kind_name(TFC_MAP_CONTROL), TFC_CONTROL_MAP_NAME);
	assert_string_equal(tfc_map_kind_name(TFC_MAP_STATS), TFC_STATS_MAP_NAME);
	/* Layout 3's maps come after the first four. */
	assert_string_equal(tfc_map_kind_name(TFC_MAP_PREFIX), TFC_PREFIX_MAP_NAME);
	assert_string_equal(tfc_map_kind_name(TFC_MAP_AGGREGATE), TFC_AGGREGATE_MAP_NAME);
	assert_string_equal(tfc_map_kind_name(TFC_MAP_KIND_ALL), "unknown");
}

/* Every name any release gave a program maps to this build's program of
 * the same kind; each fits in the kernel's 15 characters. */
static void test_prog_names(void **state)
{
	static const char *const now[] = {TFC_PROG_NAMES};
	static const char *const earlier[] = {TFC_PROG_NAMES_EARLIER};
	static const char *const want[] = {"tfc_xdp", "tfc_xdp_legacy", "tfc_tc_ingress",
					   "tfc_tc_egress"};

	(void)state;
	assert_int_equal(sizeof(now) / sizeof(now[0]), TFC_PROG_COUNT);
	for (size_t i = 0; i < TFC_PROG_COUNT; i++) {
		assert_string_equal(now[i], want[i]);
		assert_true(strlen(now[i]) < BPF_OBJ_NAME_LEN);
		assert_string_equal(tfc_prog_current_name(now[i]), now[i]);
	}
	for (size_t i = 0; i < sizeof(earlier) / sizeof(earlier[0]); i++)
		assert_string_equal(tfc_prog_current_name(earlier[i]), want[i % TFC_PROG_COUNT]);
	assert_string_equal(tfc_prog_current_name("tc_ingress"), "tfc_tc_ingress");
	assert_string_equal(tfc_prog_current_name("tfc_egress"), "tfc_tc_egress");
	assert_string_equal(tfc_prog_current_name("tc_xdp_legacy"), "tfc_xdp_legacy");
	assert_null(tfc_prog_current_name("tc_drop"));
	assert_null(tfc_prog_current_name("tfc_xdp_"));
	assert_null(tfc_prog_current_name(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_point_round_trip),
		cmocka_unit_test(test_attach_point_rejects),
		cmocka_unit_test(test_xdp_mode_round_trip),
		cmocka_unit_test(test_xdp_mode_native_alias),
		cmocka_unit_test(test_tc_api_parse),
		cmocka_unit_test(test_count_by_parse),
		cmocka_unit_test(test_direction_str),
		cmocka_unit_test(test_stat_names_distinct),
		cmocka_unit_test(test_stat_names_bounds),
		cmocka_unit_test(test_map_kind_names),
		cmocka_unit_test(test_prog_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
