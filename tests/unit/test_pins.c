// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Where maps and attachments are pinned: defaults, overrides, environment. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "opts.h"
#include "maps/pins.h"

#define ENV_PIN_DIR "TRAFFIC_COUNTER_PIN_DIR"

/* Path names spelled out (openspec/specs/maps.md M1), not built from the macros under test. */
#define DEF "/sys/fs/bpf/traffic_counter"

static void assert_pins(const struct tfc_pins *p, const char *dir, const char *ip, const char *flow,
			const char *control)
{
	char buf[PATH_MAX];

	assert_string_equal(p->dir, dir);
	assert_string_equal(p->ip, ip);
	assert_string_equal(p->flow, flow);
	assert_string_equal(p->control, control);
	snprintf(buf, sizeof(buf), "%s/traffic_stats", dir);
	assert_string_equal(p->stats, buf);
	snprintf(buf, sizeof(buf), "%s/links", dir);
	assert_string_equal(p->links, buf);
}

static void test_defaults(void **state)
{
	struct tfc_pins p;

	(void)state;
	assert_int_equal(tfc_pins_init(&p, NULL, NULL, NULL, NULL), 0);
	assert_string_equal(TFC_PIN_DIR_DEFAULT, DEF);
	assert_pins(&p, DEF, DEF "/traffic_counters_ip", DEF "/traffic_counters_flow",
		    DEF "/traffic_control");
}

static void test_pin_dir(void **state)
{
	struct tfc_pins p;

	(void)state;
	assert_int_equal(tfc_pins_init(&p, "/sys/fs/bpf/mine", NULL, NULL, NULL), 0);
	assert_pins(&p, "/sys/fs/bpf/mine", "/sys/fs/bpf/mine/traffic_counters_ip",
		    "/sys/fs/bpf/mine/traffic_counters_flow", "/sys/fs/bpf/mine/traffic_control");
}

/* "dir/" would give "dir//name" pins, which other tools print oddly. */
static void test_trailing_slashes_stripped(void **state)
{
	struct tfc_pins p;

	(void)state;
	assert_int_equal(tfc_pins_init(&p, "/sys/fs/bpf/mine//", NULL, NULL, NULL), 0);
	assert_pins(&p, "/sys/fs/bpf/mine", "/sys/fs/bpf/mine/traffic_counters_ip",
		    "/sys/fs/bpf/mine/traffic_counters_flow", "/sys/fs/bpf/mine/traffic_control");
}

/* The stats map and links must follow the control map to another directory. */
static void test_control_pin_moves_dir(void **state)
{
	struct tfc_pins p;

	(void)state;
	assert_int_equal(tfc_pins_init(&p, NULL, NULL, NULL, "/sys/fs/bpf/other/ctl"), 0);
	assert_pins(&p, "/sys/fs/bpf/other", "/sys/fs/bpf/other/traffic_counters_ip",
		    "/sys/fs/bpf/other/traffic_counters_flow", "/sys/fs/bpf/other/ctl");
}

/* A bare file name has no directory part: beside it is the current one. */
static void test_control_pin_relative(void **state)
{
	struct tfc_pins p;

	(void)state;
	assert_int_equal(tfc_pins_init(&p, NULL, NULL, NULL, "ctl"), 0);
	assert_pins(&p, ".", "./traffic_counters_ip", "./traffic_counters_flow", "ctl");
}

/* An explicit --pin-dir wins over the control pin's directory. */
static void test_control_pin_with_dir(void **state)
{
	struct tfc_pins p;

	(void)state;
	assert_int_equal(tfc_pins_init(&p, "/sys/fs/bpf/d", NULL, NULL, "/sys/fs/bpf/o/ctl"), 0);
	assert_pins(&p, "/sys/fs/bpf/d", "/sys/fs/bpf/d/traffic_counters_ip",
		    "/sys/fs/bpf/d/traffic_counters_flow", "/sys/fs/bpf/o/ctl");
}

static void test_single_overrides(void **state)
{
	struct tfc_pins p;

	(void)state;
	assert_int_equal(tfc_pins_init(&p, NULL, "/x/ip", NULL, NULL), 0);
	assert_pins(&p, DEF, "/x/ip", DEF "/traffic_counters_flow", DEF "/traffic_control");
	assert_int_equal(tfc_pins_init(&p, NULL, NULL, "/x/flow", NULL), 0);
	assert_pins(&p, DEF, DEF "/traffic_counters_ip", "/x/flow", DEF "/traffic_control");
}

static void test_too_long(void **state)
{
	static char longp[PATH_MAX + 1], near[PATH_MAX];
	struct tfc_pins p;

	(void)state;
	memset(longp, 'a', PATH_MAX);
	longp[0] = '/';
	/* Fits as a directory, but not with "/traffic_counters_ip" appended. */
	memset(near, 'b', PATH_MAX - 5);
	near[0] = '/';
	assert_int_equal(tfc_pins_init(&p, longp, NULL, NULL, NULL), -ENAMETOOLONG);
	assert_int_equal(tfc_pins_init(&p, near, NULL, NULL, NULL), -ENAMETOOLONG);
	assert_int_equal(tfc_pins_init(&p, NULL, longp, NULL, NULL), -ENAMETOOLONG);
	assert_int_equal(tfc_pins_init(&p, NULL, NULL, longp, NULL), -ENAMETOOLONG);
	assert_int_equal(tfc_pins_init(&p, NULL, NULL, NULL, longp), -ENAMETOOLONG);
}

static void test_link_pin_path(void **state)
{
	char buf[PATH_MAX], want[PATH_MAX];
	unsigned long long ns = tfc_netns_id();
	struct tfc_pins p;

	(void)state;
	/* The namespace is part of the name: ifindexes repeat across namespaces. */
	assert_true(ns != 0);
	assert_int_equal(tfc_pins_init(&p, "/sys/fs/bpf/t", NULL, NULL, NULL), 0);
	assert_int_equal(tfc_link_pin_path(&p, TFC_AP_XDP, 7, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "/sys/fs/bpf/t/links/xdp-ns%llu-if7", ns);
	assert_string_equal(buf, want);
	assert_int_equal(tfc_link_pin_path(&p, TFC_AP_TC_INGRESS, 3, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "/sys/fs/bpf/t/links/tc-ingress-ns%llu-if3", ns);
	assert_string_equal(buf, want);
	assert_int_equal(tfc_link_pin_path(&p, TFC_AP_TC_EGRESS, 1234, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "/sys/fs/bpf/t/links/tc-egress-ns%llu-if1234", ns);
	assert_string_equal(buf, want);
}

/* Exactly enough room (with the NUL) succeeds; one byte less does not. */
static void test_link_pin_path_short_buffer(void **state)
{
	char buf[96], want[96];
	struct tfc_pins p;

	(void)state;
	snprintf(want, sizeof(want), "/sys/fs/bpf/t/links/xdp-ns%llu-if7",
		 (unsigned long long)tfc_netns_id());
	assert_int_equal(tfc_pins_init(&p, "/sys/fs/bpf/t", NULL, NULL, NULL), 0);
	assert_int_equal(tfc_link_pin_path(&p, TFC_AP_XDP, 7, buf, strlen(want) + 1), 0);
	assert_string_equal(buf, want);
	assert_int_equal(tfc_link_pin_path(&p, TFC_AP_XDP, 7, buf, strlen(want)), -ENAMETOOLONG);
}

static void test_env_pin_dir(void **state)
{
	struct tfc_pin_args a = {0};
	struct tfc_pins p;

	(void)state;
	assert_int_equal(setenv(ENV_PIN_DIR, "/sys/fs/bpf/envdir", 1), 0);
	assert_int_equal(tfc_pin_args_resolve(&a, &p), 0);
	assert_pins(&p, "/sys/fs/bpf/envdir", "/sys/fs/bpf/envdir/traffic_counters_ip",
		    "/sys/fs/bpf/envdir/traffic_counters_flow",
		    "/sys/fs/bpf/envdir/traffic_control");
	unsetenv(ENV_PIN_DIR);
}

static void test_env_loses_to_pin_dir(void **state)
{
	struct tfc_pin_args a = {.dir = "/sys/fs/bpf/cli"};
	struct tfc_pins p;

	(void)state;
	assert_int_equal(setenv(ENV_PIN_DIR, "/sys/fs/bpf/envdir", 1), 0);
	assert_int_equal(tfc_pin_args_resolve(&a, &p), 0);
	assert_string_equal(p.dir, "/sys/fs/bpf/cli");
	assert_string_equal(p.ip, "/sys/fs/bpf/cli/traffic_counters_ip");
	unsetenv(ENV_PIN_DIR);
}

/* Unset and empty both mean the default directory. */
static void test_env_unset_or_empty(void **state)
{
	struct tfc_pin_args a = {0};
	struct tfc_pins p;

	(void)state;
	unsetenv(ENV_PIN_DIR);
	assert_int_equal(tfc_pin_args_resolve(&a, &p), 0);
	assert_string_equal(p.dir, DEF);
	assert_int_equal(setenv(ENV_PIN_DIR, "", 1), 0);
	assert_int_equal(tfc_pin_args_resolve(&a, &p), 0);
	assert_string_equal(p.dir, DEF);
	unsetenv(ENV_PIN_DIR);
}

static void test_resolve_overrides(void **state)
{
	struct tfc_pin_args a = {0};
	struct tfc_pins p;

	(void)state;
	unsetenv(ENV_PIN_DIR);
	assert_int_equal(tfc_pin_args_handle(&a, TFC_OPT_PIN, "/x/ip"), 1);
	assert_int_equal(tfc_pin_args_handle(&a, TFC_OPT_FLOW_PIN, "/x/flow"), 1);
	assert_int_equal(tfc_pin_args_handle(&a, TFC_OPT_CONTROL_PIN, "/y/ctl"), 1);
	assert_int_equal(tfc_pin_args_handle(&a, 1, "ignored"), 0);
	assert_int_equal(tfc_pin_args_resolve(&a, &p), 0);
	assert_pins(&p, "/y", "/x/ip", "/x/flow", "/y/ctl");
}

/* Too long a path is a usage error that says what the limit is. */
static void test_resolve_too_long_logs(void **state)
{
	static char longp[PATH_MAX + 1];
	struct tfc_pin_args a = {.dir = longp};
	struct unit_capture cap;
	struct tfc_pins p;
	int err;

	(void)state;
	memset(longp, 'a', PATH_MAX);
	unit_capture_start(&cap, stderr);
	err = tfc_pin_args_resolve(&a, &p);
	unit_capture_end(&cap);
	assert_int_equal(err, -ENAMETOOLONG);
	assert_non_null(strstr(cap.text, "too long"));
}

/* A '..' component, and only a component: "a..b" is a name. */
static void test_dotdot(void **state)
{
	(void)state;
	assert_true(tfc_path_has_dotdot(".."));
	assert_true(tfc_path_has_dotdot("/sys/fs/bpf/x/../../tmp"));
	assert_true(tfc_path_has_dotdot("/sys/fs/bpf/x/.."));
	assert_true(tfc_path_has_dotdot("../x"));
	assert_false(tfc_path_has_dotdot("/sys/fs/bpf/a..b"));
	assert_false(tfc_path_has_dotdot("/sys/fs/bpf/..a/b.."));
	assert_false(tfc_path_has_dotdot("/sys/fs/bpf/./x"));
}

/* --pin-dir and the other pin options with '..': a usage error, logged. */
static void test_resolve_refuses_dotdot(void **state)
{
	struct tfc_pin_args a = {.dir = "/sys/fs/bpf/x/../../../tmp/y"};
	struct tfc_pins p;

	(void)state;
	assert_int_equal(tfc_pin_args_resolve(&a, &p), -EINVAL);
	a.dir = NULL;
	a.control = "/sys/fs/bpf/../ctl";
	assert_int_equal(tfc_pin_args_resolve(&a, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_pin_dir),
		cmocka_unit_test(test_trailing_slashes_stripped),
		cmocka_unit_test(test_control_pin_moves_dir),
		cmocka_unit_test(test_control_pin_relative),
		cmocka_unit_test(test_control_pin_with_dir),
		cmocka_unit_test(test_single_overrides),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_link_pin_path),
		cmocka_unit_test(test_link_pin_path_short_buffer),
		cmocka_unit_test(test_env_pin_dir),
		cmocka_unit_test(test_env_loses_to_pin_dir),
		cmocka_unit_test(test_env_unset_or_empty),
		cmocka_unit_test(test_resolve_overrides),
		cmocka_unit_test(test_resolve_too_long_logs),
		cmocka_unit_test(test_dotdot),
		cmocka_unit_test(test_resolve_refuses_dotdot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
