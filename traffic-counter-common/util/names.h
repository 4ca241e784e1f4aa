/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Text names for the enums users see: attach points, modes, statistics. */
#ifndef TFC_NAMES_H
#define TFC_NAMES_H

#include "abi/traffic_counter_abi.h"

enum tfc_attach_point {
	TFC_AP_XDP,
	TFC_AP_TC_INGRESS,
	TFC_AP_TC_EGRESS,
	TFC_AP_MAX,
};

enum tfc_xdp_mode {
	TFC_XDP_DRIVER,
	TFC_XDP_SKB,
	TFC_XDP_HW,
};

enum tfc_tc_api {
	TFC_API_AUTO,
	TFC_API_TCX,
	TFC_API_NETLINK,
};

/* Each returns the enum value, or -EINVAL for a name it does not know. */
int tfc_attach_point_parse(const char *s);
int tfc_xdp_mode_parse(const char *s);
int tfc_tc_api_parse(const char *s);
int tfc_count_by_parse(const char *s);

const char *tfc_attach_point_str(enum tfc_attach_point ap);
const char *tfc_xdp_mode_str(enum tfc_xdp_mode mode);
const char *tfc_direction_str(__u8 direction);
/* NULL for an index without a name (unused slots of traffic_stats). */
const char *tfc_stat_str(unsigned int reason);

#endif /* TFC_NAMES_H */
