/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Layout 3's prefix options: --aggregate rules (the traffic_aggregate LPM
 * trie) and --overflow-prefix lengths (traffic_control), parsed from text
 * (command line, configuration file) and written to the pinned maps by
 * attach, apply and set; read back by status.
 */
#ifndef TFC_AGGREGATE_H
#define TFC_AGGREGATE_H

#include <stddef.h>
#include <linux/types.h>

#include "abi/traffic_counter_abi.h"

/* One --aggregate CIDR=LEN: addresses under addr/cidr_len count as their /prefix_len. */
struct tfc_agg_rule {
	__u8 family; /* 4 or 6 */
	__u8 cidr_len;
	__u8 prefix_len; /* >= cidr_len; 32 or 128: every address on its own */
	__u8 addr[16];	 /* bits after cidr_len zero */
};

/* "CIDR=LEN" at its longest, with room for the terminating NUL. */
#define TFC_AGG_RULE_STRLEN 56

/*
 * Parses "CIDR=LEN[,CIDR=LEN...]" (at most TFC_AGGREGATE_MAX_RULES rules,
 * no CIDR twice) into *out (the caller frees it; NULL with *n 0 for "").
 * 0, or -EINVAL with what is wrong in why; -ENOMEM.
 */
int tfc_agg_parse(const char *text, struct tfc_agg_rule **out, size_t *n, char *why, size_t len);

/* "198.18.0.0/15=32" */
const char *tfc_agg_rule_str(const struct tfc_agg_rule *r, char *buf, size_t len);

/* The trie key of a rule: prefixlen 8 + cidr_len, data family then address. */
void tfc_agg_key_of(const struct tfc_agg_rule *r, struct tfc_agg_key *key);

/*
 * Parses --overflow-prefix "V4,V6" (V4 1..32 or 0, V6 1..128 or 0; "0"
 * alone: both off). 0, or -EINVAL with what is wrong in why.
 */
int tfc_overflow_parse(const char *text, __u8 *v4, __u8 *v6, char *why, size_t len);

struct tfc_control;

/*
 * Makes the trie at trie_fd hold exactly these rules without a moment where
 * a frame finds neither the old nor the new rule for its address: the new
 * rules are written first (an update replaces a value in place), then the
 * ones no longer wanted are deleted. TFC_FLAG_AGGREGATE is set in ctl (the
 * mmapped control entry) once a rule is in, and cleared only after the trie
 * is empty. 0 or -errno, logged.
 */
int tfc_aggregate_replace(int trie_fd, struct tfc_control *ctl, const struct tfc_agg_rule *rules,
			  size_t n);

/*
 * The rules in the trie at trie_fd, ordered by family, address and length
 * (for status and the readers). The caller frees *out. 0 or -errno.
 */
int tfc_aggregate_read(int trie_fd, struct tfc_agg_rule **out, size_t *n);

#endif /* TFC_AGGREGATE_H */
