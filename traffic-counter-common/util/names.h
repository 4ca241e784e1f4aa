/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Text names for the enums users see: attach points, modes, statistics. */
#ifndef TC_NAMES_H
#define TC_NAMES_H

#include "abi/traffic_counter_abi.h"

enum tc_attach_point {
	TC_AP_XDP,
	TC_AP_TC_INGRESS,
	TC_AP_TC_EGRESS,
	TC_AP_MAX,
};

enum tc_xdp_mode {
	TC_XDP_DRIVER,
	TC_XDP_SKB,
	TC_XDP_HW,
};

enum tc_tc_api {
	TC_API_AUTO,
	TC_API_TCX,
	TC_API_NETLINK,
};

/* Each returns the enum value, or -EINVAL for a name it does not know. */
int tc_attach_point_parse(const char *s);
int tc_xdp_mode_parse(const char *s);
int tc_tc_api_parse(const char *s);
int tc_count_by_parse(const char *s);

const char *tc_attach_point_str(enum tc_attach_point ap);
const char *tc_xdp_mode_str(enum tc_xdp_mode mode);
const char *tc_direction_str(__u8 direction);
/* NULL for an index without a name (unused slots of traffic_stats). */
const char *tc_stat_str(unsigned int reason);

#endif /* TC_NAMES_H */
