// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Names of the records of custom map pins (DIR/map_pins/<name>). */
#include <errno.h>

#include "unit.h"
#include "loader/discover.h"

static void test_record_name_round_trip(void **state)
{
	char name[NAME_MAX];

	(void)state;
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		assert_int_equal(tfc_record_name(k, "/sys/fs/bpf/x/ip", name, sizeof(name)), 0);
		assert_int_equal(strncmp(name, tfc_map_kind_name(k), strlen(tfc_map_kind_name(k))),
				 0);
		assert_int_equal(tfc_record_kind(name), k);
		/* bpffs refuses dots in names. */
		assert_null(strchr(name, '.'));
	}
}

/* One record per path: the same path again replaces it, another adds one. */
static void test_record_name_by_path(void **state)
{
	char a[NAME_MAX], b[NAME_MAX], c[NAME_MAX];

	(void)state;
	assert_int_equal(tfc_record_name(TFC_MAP_IP, "/sys/fs/bpf/x/ip", a, sizeof(a)), 0);
	assert_int_equal(tfc_record_name(TFC_MAP_IP, "/sys/fs/bpf/x/ip", b, sizeof(b)), 0);
	assert_int_equal(tfc_record_name(TFC_MAP_IP, "/sys/fs/bpf/y/ip", c, sizeof(c)), 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), strlen("traffic_counters_ip-") + 16);
}

static void test_record_kind_rejects(void **state)
{
	static const char *const bad[] = {
		"traffic_counters_ip",
		"traffic_counters_ip-",
		"traffic_counters_ip-0123456789abcde",
		"traffic_counters_ip-0123456789abcdef0",
		"traffic_counters_ip-0123456789abcdeg",
		"traffic_counters_ip-0123456789ABCDEF",
		"traffic_counters-0123456789abcdef",
		"something_else-0123456789abcdef",
		".",
		"..",
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tfc_record_kind(bad[i]), -EINVAL);
	assert_int_equal(tfc_record_kind("traffic_counters_flow-0123456789abcdef"), TFC_MAP_FLOW);
	assert_int_equal(tfc_record_kind("traffic_control-0123456789abcdef"), TFC_MAP_CONTROL);
}

static void test_record_name_short_buffer(void **state)
{
	char name[8];

	(void)state;
	assert_int_equal(tfc_record_name(TFC_MAP_IP, "/p", name, sizeof(name)), -ENAMETOOLONG);
	assert_int_equal(tfc_record_name(TFC_MAP_KIND_MAX, "/p", name, sizeof(name)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_name_round_trip),
		cmocka_unit_test(test_record_name_by_path),
		cmocka_unit_test(test_record_kind_rejects),
		cmocka_unit_test(test_record_name_short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
