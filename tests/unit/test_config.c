// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The configuration file: what a valid one sets, and that every bad line is named. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "unit.h"
#include "config/config.h"

static int parse_text(const char *text, struct tfc_config *cfg)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int n;

	assert_non_null(f);
	n = tfc_config_parse(f, cfg);
	fclose(f);
	return n;
}

static void test_full_file(void **state)
{
	static const char text[] = "# traffic-counter.conf\n"
				   "; a systemd-style comment too\n"
				   "\n"
				   "ATTACH=\"eth0:xdp eth0:tc-egress:netlink\t eth1:xdp:skb\"\n"
				   "  TRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/tfc_boot  \n"
				   "PIN_GROUP=traffic-counter\n"
				   "COUNT_BY=dst\n"
				   "IP_MAP_SIZE=131072\n"
				   "FLOW_MAP=yes\n"
				   "FLOW_MAP_SIZE='16384'\n"
				   "DETACH_ON_STOP=true\r\n"
				   "PURGE_ON_STOP=On\n";
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));
	char buf[64];

	(void)state;
	assert_int_equal(parse_text(text, cfg), 0);
	assert_int_equal(cfg->n_attach, 3);
	assert_string_equal(cfg->attach[0].ifname, "eth0");
	assert_int_equal(cfg->attach[0].ap, TFC_AP_XDP);
	assert_int_equal(cfg->attach[0].mode, -1);
	assert_int_equal(cfg->attach[1].ap, TFC_AP_TC_EGRESS);
	assert_int_equal(cfg->attach[1].mode, TFC_API_NETLINK);
	assert_int_equal(cfg->attach[2].mode, TFC_XDP_SKB);
	assert_string_equal(tfc_config_attach_str(&cfg->attach[1], buf, sizeof(buf)),
			    "eth0:tc-egress:netlink");
	assert_string_equal(tfc_config_attach_str(&cfg->attach[0], buf, sizeof(buf)), "eth0:xdp");
	assert_int_equal(cfg->line_attach, 4);
	assert_string_equal(cfg->pin_dir, "/sys/fs/bpf/tfc_boot");
	assert_string_equal(cfg->pin_group, "traffic-counter");
	assert_int_equal(cfg->line_pin_group, 6);
	assert_int_equal(cfg->count_by, TFC_COUNT_BY_DST);
	assert_int_equal(cfg->ip_map_size, 131072);
	assert_int_equal(cfg->flow_map, 1);
	assert_int_equal(cfg->flow_map_size, 16384);
	assert_true(cfg->detach_on_stop);
	assert_true(cfg->purge_on_stop);
	free(cfg);
}

static void test_prefix_keys(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_int_equal(parse_text("ATTACH=eth0:xdp\nPREFIX_MAP_SIZE=2048\n"
				    "OVERFLOW_PREFIX=20,0\n"
				    "AGGREGATE=\"0.0.0.0/0=24,198.18.0.0/15=32\"\n",
				    cfg),
			 0);
	assert_int_equal(cfg->prefix_map_size, 2048);
	assert_true(cfg->overflow_set);
	assert_int_equal(cfg->overflow_v4, 20);
	assert_int_equal(cfg->overflow_v6, 0);
	assert_string_equal(cfg->aggregate, "0.0.0.0/0=24,198.18.0.0/15=32");
	memset(cfg, 0, sizeof(*cfg));
	assert_int_equal(parse_text("ATTACH=eth0:xdp\nAGGREGATE=none\n", cfg), 0);
	assert_string_equal(cfg->aggregate, "none");
	assert_false(cfg->overflow_set);
	assert_int_equal(cfg->prefix_map_size, 0);
	free(cfg);
}

static void test_defaults(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_int_equal(parse_text("ATTACH=lo:tc-ingress\n", cfg), 0);
	assert_int_equal(cfg->n_attach, 1);
	assert_int_equal(cfg->flow_map, -1); /* left as it is */
	assert_int_equal(cfg->count_by, TFC_COUNT_BY_DEFAULT);
	assert_int_equal(cfg->ip_map_size, 0);
	assert_false(cfg->detach_on_stop);
	assert_string_equal(cfg->pin_dir, "");
	assert_string_equal(cfg->ipfix_collector, "");
	assert_int_equal(cfg->ipfix_transport, -1);
	assert_int_equal(cfg->ipfix_interval, 0);
	free(cfg);
}

static void test_ipfix_keys(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_int_equal(parse_text("ATTACH=lo:xdp\nIPFIX_COLLECTOR=192.0.2.10:4739\n"
				    "IPFIX_TRANSPORT=tcp\nIPFIX_INTERVAL=86400\n",
				    cfg),
			 0);
	assert_string_equal(cfg->ipfix_collector, "192.0.2.10:4739");
	assert_int_equal(cfg->ipfix_transport, 1);
	assert_int_equal(cfg->ipfix_interval, 86400);
	assert_int_equal(parse_text("ATTACH=lo:xdp\nIPFIX_COLLECTOR='[2001:db8::10]:1'\n"
				    "IPFIX_TRANSPORT=udp\nIPFIX_INTERVAL=1\n",
				    cfg),
			 0);
	assert_string_equal(cfg->ipfix_collector, "[2001:db8::10]:1");
	assert_int_equal(cfg->ipfix_transport, 0);
	assert_int_equal(cfg->ipfix_interval, 1);
	assert_int_equal(
		parse_text("ATTACH=lo:xdp\nIPFIX_COLLECTOR=collector.example:65535\n", cfg), 0);
	assert_string_equal(cfg->ipfix_collector, "collector.example:65535");
	free(cfg);
}

static void test_record_keys(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_int_equal(parse_text("ATTACH=lo:xdp\n", cfg), 0);
	assert_int_equal(cfg->record, 0);
	assert_int_equal(cfg->record_max_addresses, -1);
	assert_string_equal(cfg->record_db, "");
	assert_int_equal(parse_text("ATTACH=lo:xdp\nRECORD=yes\nRECORD_DB=/srv/h.db\n"
				    "RECORD_INTERVAL=3600\nRECORD_SAVE_INTERVAL=86400\n"
				    "RECORD_MAX_ADDRESSES=0\nRECORD_EVICT_IDLE=7d\n",
				    cfg),
			 0);
	assert_int_equal(cfg->record, 1);
	assert_string_equal(cfg->record_db, "/srv/h.db");
	assert_int_equal(cfg->record_interval, 3600);
	assert_int_equal(cfg->record_save_interval, 86400);
	assert_int_equal(cfg->record_max_addresses, 0);
	assert_string_equal(cfg->record_evict_idle, "7d");
	free(cfg);
}

static void test_double_quote_escapes(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_int_equal(parse_text("ATTACH=x:xdp\nPIN_GROUP=\"a\\.b\"\n", cfg), 1);
	assert_int_equal(parse_text("ATTACH=x:xdp\nTRAFFIC_COUNTER_PIN_DIR=\"/p/\\$x\"\n", cfg), 0);
	assert_string_equal(cfg->pin_dir, "/p/$x");
	free(cfg);
}

/* Each bad file: the line of its (first) error and words the message must have. */
static const struct bad_case {
	const char *text;
	int line;
	const char *says;
} bad[] = {
	{"", 0, "ATTACH is not set"},
	{"# only a comment\n", 0, "ATTACH is not set"},
	{"ATTACH=eth0:xdp\nATTACH=eth1:xdp\n", 2, "ATTACH is already set on line 1"},
	{"ATTACH=\n", 1, "ATTACH is empty"},
	{"ATTACH=\"  \"\n", 1, "ATTACH is empty"},
	{"ATTACH=eth0\n", 1, "'eth0' is not IFACE:POINT[:MODE]"},
	{"\nATTACH=eth0:xpd\n", 2, "attach point 'xpd' is not one of xdp, tc-ingress, tc-egress"},
	{"ATTACH=eth0:xdp:fast\n", 1, "mode 'fast' is not one of driver, native, skb, hw"},
	{"ATTACH=eth0:tc-ingress:skb\n", 1, "mode 'skb' is not one of auto, tcx, netlink"},
	{"ATTACH=eth0:xdp:skb:x\n", 1, "more than three"},
	{"ATTACH=:xdp\n", 1, "'' is not an interface name"},
	{"ATTACH=averyveryverylongname:xdp\n", 1, "is not an interface name (1 to 15"},
	{"ATTACH=a/b:xdp\n", 1, "'a/b' is not an interface name"},
	{"ATTACH=\"eth0:xdp eth0:xdp\"\n", 1, "'eth0:xdp' is listed twice"},
	{"ATTACH=\"eth0:xdp:skb eth0:xdp\"\n", 1, "'eth0:xdp' is listed twice"},
	{"ATTACH=\"eth0:tc-ingress eth0:xdp\"\n", 1,
	 "'eth0:xdp': tc-ingress already counts ingress on eth0, so every frame would be counted "
	 "twice"},
	{"ATTACH=eth0:xdp eth1:xdp\n", 1, "quote a value with blanks"},
	{"ATTACH=eth0:xdp # counting\n", 1, "a comment must be on a line of its own"},
	{"ATTACH=\"eth0:xdp\" # counting\n", 1, "a comment must be on a line of its own"},
	{"ATTACH=\"eth0:xdp\"x\n", 1, "unexpected text after the closing quote: 'x'"},
	{"ATTACH=\"eth0:xdp\n", 1, "the \" quote is not closed on this line"},
	{"ATTACH='eth0:xdp\n", 1, "the ' quote is not closed on this line"},
	{"ATTACH=\"$IF:xdp\"\n", 1, "'$' would be expanded by a shell"},
	{"ATTACH=eth0:xdp\nATTACH =eth1:xdp\n", 2, "no blank allowed between ATTACH and '='"},
	{"ATTACH= eth0:xdp\n", 1, "no blank allowed between '=' and the value of ATTACH"},
	{"ATTACH=eth0:xdp\nexport COUNT_BY=src\n", 2, "'export' is not understood by systemd"},
	{"ATTACH=eth0:xdp\njust words\n", 2, "expected KEY=VALUE, found 'just words'"},
	{"ATTACH=eth0:xdp\n=x\n", 2, "expected KEY=VALUE"},
	{"ATTACH=eth0:xdp\n1X=2\n", 2, "expected KEY=VALUE"},
	{"ATTACH=eth0:xdp\nATACH=eth1:xdp\n", 2, "unknown key 'ATACH' (known: ATTACH,"},
	{"ATTACH=eth0:xdp\nattach=eth1:xdp\n", 2, "unknown key 'attach'"},
	{"ATTACH=eth0:xdp\nIP_MAP_SIZE=64k\n", 2, "IP_MAP_SIZE: '64k' is not a whole number"},
	{"ATTACH=eth0:xdp\nIP_MAP_SIZE=-5\n", 2, "IP_MAP_SIZE: '-5' is not a whole number"},
	{"ATTACH=eth0:xdp\nFLOW_MAP_SIZE=0\n", 2, "FLOW_MAP_SIZE: 0 is out of range 1..16777216"},
	{"ATTACH=eth0:xdp\nIP_MAP_SIZE=16777217\n", 2, "out of range 1..16777216"},
	{"ATTACH=eth0:xdp\nIP_MAP_SIZE=99999999999999999999999\n", 2, "out of range"},
	{"ATTACH=eth0:xdp\nFLOW_MAP=maybe\n", 2, "FLOW_MAP: 'maybe' is not yes or no"},
	{"ATTACH=eth0:xdp\nCOUNT_BY=source\n", 2, "COUNT_BY: 'source' is not src or dst"},
	{"ATTACH=eth0:xdp\nTRAFFIC_COUNTER_PIN_DIR=relative/dir\n", 2, "is not an absolute path"},
	{"ATTACH=eth0:xdp\nPIN_GROUP=-wheel\n", 2, "PIN_GROUP: '-wheel' is not a group name"},
	{"ATTACH=eth0:xdp\nIPFIX_COLLECTOR=192.0.2.1\n", 2,
	 "IPFIX_COLLECTOR: '192.0.2.1': is not HOST:PORT"},
	{"ATTACH=eth0:xdp\nIPFIX_COLLECTOR=:4739\n", 2, "is not HOST:PORT"},
	{"ATTACH=eth0:xdp\nIPFIX_COLLECTOR=h:0\n", 2, "the port is not a number in 1..65535"},
	{"ATTACH=eth0:xdp\nIPFIX_COLLECTOR=h:65536\n", 2, "the port is not a number"},
	{"ATTACH=eth0:xdp\nIPFIX_COLLECTOR=h:47x\n", 2, "the port is not a number"},
	{"ATTACH=eth0:xdp\nIPFIX_COLLECTOR=2001:db8::1:4739\n", 2,
	 "write an IPv6 address as [ADDR]:PORT"},
	{"ATTACH=eth0:xdp\nIPFIX_COLLECTOR=[]:4739\n", 2, "an IPv6 address goes in [ ]"},
	{"ATTACH=eth0:xdp\nIPFIX_TRANSPORT=sctp\n", 2, "IPFIX_TRANSPORT: 'sctp' is not udp or tcp"},
	{"ATTACH=eth0:xdp\nIPFIX_TRANSPORT=UDP\n", 2, "is not udp or tcp"},
	{"ATTACH=eth0:xdp\nIPFIX_INTERVAL=10s\n", 2,
	 "IPFIX_INTERVAL: '10s' is not a whole number of seconds"},
	{"ATTACH=eth0:xdp\nIPFIX_INTERVAL=-1\n", 2, "is not a whole number"},
	{"ATTACH=eth0:xdp\nIPFIX_INTERVAL=0\n", 2, "IPFIX_INTERVAL: 0 is out of range 1..86400"},
	{"ATTACH=eth0:xdp\nIPFIX_INTERVAL=86401\n", 2, "out of range 1..86400"},
	{"ATTACH=eth0:xdp\nIPFIX_INTERVAL=99999999999999999999999\n", 2, "out of range"},
	{"ATTACH=eth0:xdp\nRECORD_DB=h.db\n", 2, "RECORD_DB: 'h.db' is not an absolute path"},
	{"ATTACH=eth0:xdp\nRECORD_INTERVAL=0\n", 2, "RECORD_INTERVAL: 0 is out of range 1..3600"},
	{"ATTACH=eth0:xdp\nRECORD_SAVE_INTERVAL=86401\n", 2, "out of range 1..86400"},
	{"ATTACH=eth0:xdp\nRECORD_EVICT_IDLE=7x\n", 2, "RECORD_EVICT_IDLE: '7x' is not a duration"},
	{"ATTACH=eth0:xdp\nRECORD=maybe\n", 2, "RECORD: 'maybe' is not yes or no"},
	{"ATTACH=eth0:xdp\nOVERFLOW_PREFIX=24\n", 2, "OVERFLOW_PREFIX: '24' is not V4,V6"},
	{"ATTACH=eth0:xdp\nOVERFLOW_PREFIX=24,129\n", 2, "the IPv6 length must be 1..128"},
	{"ATTACH=eth0:xdp\nPREFIX_MAP_SIZE=0\n", 2, "PREFIX_MAP_SIZE: 0 is out of range"},
	{"ATTACH=eth0:xdp\nAGGREGATE=\n", 2, "AGGREGATE: no rule: give CIDR=LEN[,...], or none"},
	{"ATTACH=eth0:xdp\nAGGREGATE=10.0.0.0/8=4\n", 2, "AGGREGATE: '10.0.0.0/8=4': LEN must"},
	{"ATTACH=eth0:xdp\nAGGREGATE=10.0.0.0/8\n", 2, "is not CIDR=LEN"},
	{"ATTACH=eth0:xdp\nAGGREGATES=none\n", 2,
	 "RECORD_EVICT_IDLE, PREFIX_MAP_SIZE, "
	 "OVERFLOW_PREFIX, AGGREGATE, CGROUP, CGROUP_PATH, CGROUP_DEPTH, CGROUP_MAP_SIZE)"},
	{"ATTACH=eth0:xdp\n\n\nPURGE_ON_STOP=yes\n", 4,
	 "PURGE_ON_STOP=yes needs DETACH_ON_STOP=yes"},
};

static void test_bad_files(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = parse_text(bad[i].text, cfg);

		if (n < 1)
			fail_msg("case %zu (%s): no error", i, bad[i].text);
		if (cfg->errors[0].line != bad[i].line || !strstr(cfg->errors[0].msg, bad[i].says))
			fail_msg("case %zu (%s): line %d '%s', expected line %d '%s'", i,
				 bad[i].text, cfg->errors[0].line, cfg->errors[0].msg, bad[i].line,
				 bad[i].says);
	}
	free(cfg);
}

static void test_every_error_is_reported(void **state)
{
	static const char text[] = "ATTACH=\"eth0:xdp eth1:bogus\"\n"
				   "IP_MAP_SIZE=lots\n"
				   "# fine\n"
				   "FLOW_MAP=perhaps\n";
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_int_equal(parse_text(text, cfg), 3);
	assert_int_equal(cfg->errors[0].line, 1);
	assert_int_equal(cfg->errors[1].line, 2);
	assert_int_equal(cfg->errors[2].line, 4);
	/* The valid word of a line with a bad one is still taken. */
	assert_int_equal(cfg->n_attach, 1);
	free(cfg);
}

static void test_errors_are_bounded(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));
	char text[4096] = "ATTACH=eth0:xdp\n";

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(text, "junk\n");
	assert_int_equal(parse_text(text, cfg), 40);
	assert_int_equal(cfg->errors[TFC_CONFIG_MAX_ERRORS - 1].line, TFC_CONFIG_MAX_ERRORS + 1);
	free(cfg);
}

static void test_long_line_and_nul(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));
	char *text = malloc(TFC_CONFIG_MAX_LINE + 64);
	static const char nul[] = "ATTACH=eth0:xdp\nCOUNT_BY=src\0x\n";
	FILE *f;

	(void)state;
	strcpy(text, "ATTACH=eth0:xdp\n# ");
	memset(text + strlen(text), 'x', TFC_CONFIG_MAX_LINE);
	strcpy(text + strlen("ATTACH=eth0:xdp\n# ") + TFC_CONFIG_MAX_LINE, "\n");
	assert_int_equal(parse_text(text, cfg), 1);
	assert_int_equal(cfg->errors[0].line, 2);
	assert_non_null(strstr(cfg->errors[0].msg, "longer than"));
	f = fmemopen((void *)nul, sizeof(nul) - 1, "r");
	assert_int_equal(tfc_config_parse(f, cfg), 1);
	fclose(f);
	assert_int_equal(cfg->errors[0].line, 2);
	assert_non_null(strstr(cfg->errors[0].msg, "NUL byte"));
	free(text);
	free(cfg);
}

static void test_print_errors(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));
	struct unit_mem m;
	char *out;

	(void)state;
	assert_int_equal(parse_text("COUNT_BY=up\n", cfg), 2);
	unit_mem_open(&m);
	tfc_config_print_errors(m.f, "/etc/tc.conf", cfg);
	out = unit_mem_close(&m);
	assert_string_equal(out, "traffic-counter: /etc/tc.conf:1: COUNT_BY: 'up' is not src or "
				 "dst\n"
				 "traffic-counter: /etc/tc.conf: ATTACH is not set: name the "
				 "interfaces to count on, e.g. ATTACH=\"eth0:xdp\"\n");
	free(out);
	free(cfg);
}

static void test_load_missing_file(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_int_equal(tfc_config_load("/nonexistent/traffic-counter.conf", cfg), -ENOENT);
	free(cfg);
}

/* A directory opens, but reading it failed as "Input/output error". */
static void test_load_directory(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_int_equal(tfc_config_load("/", cfg), -EISDIR);
	free(cfg);
}

/*
 * A stream larger than TFC_CONFIG_MAX_SIZE: read up to the bound, then one
 * error about the whole file (a regular file that large is refused by
 * tfc_config_load before reading; a stream can grow while it is read).
 */
static void test_stream_is_bounded(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));
	size_t len = 2 * TFC_CONFIG_MAX_SIZE;
	char *text = malloc(len);
	FILE *f;

	(void)state;
	assert_non_null(text);
	/* One line of 2 MiB: one "longer than" error, then the size. */
	memset(text, '#', len);
	f = fmemopen(text, len, "r");
	assert_non_null(f);
	assert_int_equal(tfc_config_parse(f, cfg), 3);
	fclose(f);
	assert_non_null(strstr(cfg->errors[0].msg, "line longer than 4096 bytes"));
	assert_int_equal(cfg->errors[1].line, 0);
	assert_non_null(strstr(cfg->errors[1].msg, "larger than 1048576 bytes"));
	/* Exactly the bound, in short lines: valid. */
	memset(text, '\n', TFC_CONFIG_MAX_SIZE);
	memcpy(text, "ATTACH=eth0:xdp\n", 16);
	f = fmemopen(text, TFC_CONFIG_MAX_SIZE, "r");
	assert_int_equal(tfc_config_parse(f, cfg), 0);
	fclose(f);
	free(text);
	free(cfg);
}

/* tfc_config_load: EPERM for what others could write or what is no file. */
static void test_load_refuses_unsafe_files(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));
	char path[] = "/tmp/tfc-unit-config.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "ATTACH=eth0:xdp\n", 16), 16);
	assert_int_equal(fchmod(fd, 0644), 0);
	assert_int_equal(tfc_config_load(path, cfg), 0);
	assert_int_equal(fchmod(fd, 0664), 0);
	assert_int_equal(tfc_config_load(path, cfg), -EPERM);
	assert_int_equal(fchmod(fd, 0646), 0);
	assert_int_equal(tfc_config_load(path, cfg), -EPERM);
	assert_int_equal(fchmod(fd, 0600), 0);
	assert_int_equal(tfc_config_load(path, cfg), 0);
	assert_int_equal(tfc_config_load("/dev/null", cfg), -EPERM);
	close(fd);
	unlink(path);
	free(cfg);
}

/* TRAFFIC_COUNTER_PIN_DIR with '..' could point out of bpffs. */
static void test_pin_dir_dotdot(void **state)
{
	struct tfc_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_int_equal(
		parse_text("ATTACH=eth0:xdp\nTRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/a/../b\n", cfg),
		1);
	assert_non_null(strstr(cfg->errors[0].msg, "has a '..' component"));
	assert_int_equal(
		parse_text("ATTACH=eth0:xdp\nTRAFFIC_COUNTER_PIN_DIR=/sys/fs/bpf/a..b\n", cfg), 0);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_prefix_keys),
		cmocka_unit_test(test_ipfix_keys),
		cmocka_unit_test(test_record_keys),
		cmocka_unit_test(test_double_quote_escapes),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_every_error_is_reported),
		cmocka_unit_test(test_errors_are_bounded),
		cmocka_unit_test(test_long_line_and_nul),
		cmocka_unit_test(test_print_errors),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_directory),
		cmocka_unit_test(test_stream_is_bounded),
		cmocka_unit_test(test_load_refuses_unsafe_files),
		cmocka_unit_test(test_pin_dir_dotdot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
