// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const attach_points[] = {
	[TC_AP_XDP] = "xdp",
	[TC_AP_TC_INGRESS] = "tc-ingress",
	[TC_AP_TC_EGRESS] = "tc-egress",
};

static const char *const xdp_modes[] = {
	[TC_XDP_DRIVER] = "driver",
	[TC_XDP_SKB] = "skb",
	[TC_XDP_HW] = "hw",
};

static const char *const tc_apis[] = {
	[TC_API_AUTO] = "auto",
	[TC_API_TCX] = "tcx",
	[TC_API_NETLINK] = "netlink",
};

static const char *const count_bys[] = {
	[TC_COUNT_BY_DEFAULT] = "default",
	[TC_COUNT_BY_SRC] = "src",
	[TC_COUNT_BY_DST] = "dst",
};

static const char *const stats[TC_STAT_MAX] = {
	[TC_STAT_IP_MAP_FULL] = "ip_map_full",
	[TC_STAT_NON_IP] = "non_ip",
	[TC_STAT_TRUNCATED_L2] = "truncated_l2",
	[TC_STAT_VLAN_TOO_DEEP] = "vlan_too_deep",
	[TC_STAT_IPV4_TRUNCATED] = "ipv4_truncated",
	[TC_STAT_IPV4_BAD_VERSION] = "ipv4_bad_version",
	[TC_STAT_IPV4_BAD_IHL] = "ipv4_bad_ihl",
	[TC_STAT_IPV4_BAD_LENGTH] = "ipv4_bad_length",
	[TC_STAT_IPV6_TRUNCATED] = "ipv6_truncated",
	[TC_STAT_IPV6_BAD_VERSION] = "ipv6_bad_version",
	[TC_STAT_L4_TRUNCATED] = "l4_truncated",
	[TC_STAT_IPV6_EXT_LIMIT] = "ipv6_ext_limit",
};

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && s && !strcmp(names[i], s))
			return (int)i;
	return -EINVAL;
}

int tc_attach_point_parse(const char *s)
{
	return lookup(attach_points, ARRAY_SIZE(attach_points), s);
}

int tc_xdp_mode_parse(const char *s)
{
	/* "native" is the name ip-link and libxdp use for driver mode. */
	if (s && !strcmp(s, "native"))
		return TC_XDP_DRIVER;
	return lookup(xdp_modes, ARRAY_SIZE(xdp_modes), s);
}

int tc_tc_api_parse(const char *s)
{
	return lookup(tc_apis, ARRAY_SIZE(tc_apis), s);
}

int tc_count_by_parse(const char *s)
{
	return lookup(count_bys, ARRAY_SIZE(count_bys), s);
}

const char *tc_attach_point_str(enum tc_attach_point ap)
{
	return (unsigned int)ap < ARRAY_SIZE(attach_points) ? attach_points[ap] : "unknown";
}

const char *tc_xdp_mode_str(enum tc_xdp_mode mode)
{
	return (unsigned int)mode < ARRAY_SIZE(xdp_modes) ? xdp_modes[mode] : "unknown";
}

const char *tc_direction_str(__u8 direction)
{
	return direction == TC_DIR_EGRESS ? "egress" : "ingress";
}

const char *tc_stat_str(unsigned int reason)
{
	return reason < ARRAY_SIZE(stats) ? stats[reason] : NULL;
}
