/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The prefix options attach and set share: --overflow-prefix, --aggregate, --no-aggregate. */
#ifndef TFC_PREFIX_ARGS_H
#define TFC_PREFIX_ARGS_H

#include <stddef.h>
#include <linux/types.h>

#include "maps/aggregate.h"

struct tfc_prefix_args {
	int overflow_set; /* --overflow-prefix given */
	__u8 overflow_v4, overflow_v6;
	int aggregate_set; /* --aggregate or --no-aggregate given */
	struct tfc_agg_rule *rules;
	size_t n_rules; /* 0 with aggregate_set: --no-aggregate */
};

enum {
	TFC_OPT_OVERFLOW_PREFIX = 1200,
	TFC_OPT_AGGREGATE,
	TFC_OPT_NO_AGGREGATE,
};

#define TFC_PREFIX_OPTIONS                                                                         \
	{"overflow-prefix", "V4,V6",                                                               \
	 "when the IP map is full, count new addresses by their /V4 or /V6 prefix in the prefix "  \
	 "map (default 24,48; V4 1..32, V6 1..128, 0 turns a family's overflow off; 0: both)",     \
	 TFC_OPT_OVERFLOW_PREFIX},                                                                 \
		{"aggregate", "CIDR=LEN[,...]",                                                    \
		 "count addresses under CIDR by their /LEN prefix, the longest CIDR matching "     \
		 "(LEN 32 or 128: per address); replaces the rules in force",                      \
		 TFC_OPT_AGGREGATE},                                                               \
	{                                                                                          \
		"no-aggregate", NULL, "remove every aggregation rule: count per address",          \
			TFC_OPT_NO_AGGREGATE                                                       \
	}

/*
 * Handles the TFC_OPT_OVERFLOW_PREFIX/AGGREGATE ids: 1 if it was one of them
 * (*err set to 0 or the usage error, logged), 0 if not.
 */
int tfc_prefix_args_handle(struct tfc_prefix_args *p, int id, const char *arg, int *err);

/* Whether any prefix option was given. */
int tfc_prefix_args_any(const struct tfc_prefix_args *p);

void tfc_prefix_args_free(struct tfc_prefix_args *p);

#endif /* TFC_PREFIX_ARGS_H */
