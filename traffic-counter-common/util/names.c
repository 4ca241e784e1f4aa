// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const attach_points[] = {
	[TFC_AP_XDP] = TFC_AP_NAME_XDP, /* also in link pin names */
	[TFC_AP_TC_INGRESS] = TFC_AP_NAME_TC_IN,
	[TFC_AP_TC_EGRESS] = TFC_AP_NAME_TC_OUT,
};

static const char *const xdp_modes[] = {
	[TFC_XDP_DRIVER] = "driver",
	[TFC_XDP_SKB] = "skb",
	[TFC_XDP_HW] = "hw",
};

static const char *const tfc_apis[] = {
	[TFC_API_AUTO] = "auto",
	[TFC_API_TCX] = "tcx",
	[TFC_API_NETLINK] = "netlink",
};

static const char *const count_bys[] = {
	[TFC_COUNT_BY_DEFAULT] = "default",
	[TFC_COUNT_BY_SRC] = "src",
	[TFC_COUNT_BY_DST] = "dst",
};

static const char *const stats[TFC_STAT_MAX] = {
	[TFC_STAT_IP_MAP_FULL] = "ip_map_full",
	[TFC_STAT_NON_IP] = "non_ip",
	[TFC_STAT_TRUNCATED_L2] = "truncated_l2",
	[TFC_STAT_VLAN_TOO_DEEP] = "vlan_too_deep",
	[TFC_STAT_IPV4_TRUNCATED] = "ipv4_truncated",
	[TFC_STAT_IPV4_BAD_VERSION] = "ipv4_bad_version",
	[TFC_STAT_IPV4_BAD_IHL] = "ipv4_bad_ihl",
	[TFC_STAT_IPV4_BAD_LENGTH] = "ipv4_bad_length",
	[TFC_STAT_IPV6_TRUNCATED] = "ipv6_truncated",
	[TFC_STAT_IPV6_BAD_VERSION] = "ipv6_bad_version",
	[TFC_STAT_L4_TRUNCATED] = "l4_truncated",
	[TFC_STAT_IPV6_EXT_LIMIT] = "ipv6_ext_limit",
	[TFC_STAT_CGROUP_MAP_FULL] = "cgroup_map_full",
};

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && s && !strcmp(names[i], s))
			return (int)i;
	return -EINVAL;
}

int tfc_attach_point_parse(const char *s)
{
	return lookup(attach_points, ARRAY_SIZE(attach_points), s);
}

int tfc_xdp_mode_parse(const char *s)
{
	/* "native" is the name ip-link and libxdp use for driver mode. */
	if (s && !strcmp(s, "native"))
		return TFC_XDP_DRIVER;
	return lookup(xdp_modes, ARRAY_SIZE(xdp_modes), s);
}

int tfc_tc_api_parse(const char *s)
{
	return lookup(tfc_apis, ARRAY_SIZE(tfc_apis), s);
}

int tfc_count_by_parse(const char *s)
{
	return lookup(count_bys, ARRAY_SIZE(count_bys), s);
}

const char *tfc_attach_point_str(enum tfc_attach_point ap)
{
	return (unsigned int)ap < ARRAY_SIZE(attach_points) ? attach_points[ap] : "unknown";
}

const char *tfc_xdp_mode_str(enum tfc_xdp_mode mode)
{
	return (unsigned int)mode < ARRAY_SIZE(xdp_modes) ? xdp_modes[mode] : "unknown";
}

const char *tfc_direction_str(__u8 direction)
{
	return direction == TFC_DIR_EGRESS ? "egress" : "ingress";
}

const char *tfc_stat_str(unsigned int reason)
{
	return reason < ARRAY_SIZE(stats) ? stats[reason] : NULL;
}
