// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "util/log.h"
#include "aggregate.h"

__attribute__((format(printf, 3, 4))) static int invalid(char *why, size_t len, const char *fmt,
							 ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A whole decimal number of at most 3 digits in [0, max]; -1 if not. */
static int small_number(const char *s, size_t n, int max)
{
	int v = 0;

	if (!n || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

static int host_bits_zero(const struct tfc_agg_rule *r)
{
	unsigned int bits = r->family == 4 ? 32 : 128;

	for (unsigned int b = r->cidr_len; b < bits; b++)
		if (r->addr[b / 8] & (0x80 >> (b % 8)))
			return 0;
	return 1;
}

/* "ADDR/LEN": the address and its length, the bits after it zero. */
static int parse_cidr(const char *s, size_t n, struct tfc_agg_rule *r, char *why, size_t len)
{
	const char *slash = memchr(s, '/', n);
	char host[INET6_ADDRSTRLEN];
	size_t hl = slash ? (size_t)(slash - s) : n;
	int plen;

	if (!slash || !hl || hl >= sizeof(host))
		return invalid(why, len, "'%.*s' is not a prefix: write ADDR/LEN", (int)n, s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(r->addr, 0, sizeof(r->addr));
	if (inet_pton(AF_INET, host, r->addr) == 1)
		r->family = 4;
	else if (inet_pton(AF_INET6, host, r->addr) == 1)
		r->family = 6;
	else
		return invalid(why, len, "'%s' is not an IPv4 or IPv6 address", host);
	plen = small_number(slash + 1, n - hl - 1, r->family == 4 ? 32 : 128);
	if (plen < 0)
		return invalid(why, len, "'%.*s': the length must be 0..%d", (int)n, s,
			       r->family == 4 ? 32 : 128);
	r->cidr_len = (__u8)plen;
	if (!host_bits_zero(r))
		return invalid(why, len, "'%.*s' has bits set after /%d: write the prefix itself",
			       (int)n, s, plen);
	return 0;
}

/* "CIDR=LEN", n bytes of it. */
static int parse_rule(const char *s, size_t n, struct tfc_agg_rule *r, char *why, size_t len)
{
	const char *eq = memchr(s, '=', n);
	int max, plen, err;

	if (!eq)
		return invalid(why, len, "'%.*s' is not CIDR=LEN (e.g. 0.0.0.0/0=24)", (int)n, s);
	err = parse_cidr(s, (size_t)(eq - s), r, why, len);
	if (err)
		return err;
	max = r->family == 4 ? 32 : 128;
	plen = small_number(eq + 1, n - (size_t)(eq - s) - 1, max);
	if (plen < r->cidr_len)
		return invalid(why, len,
			       "'%.*s': LEN must be %d..%d (at least the prefix's length)", (int)n,
			       s, r->cidr_len, max);
	r->prefix_len = (__u8)plen;
	return 0;
}

static int same_prefix(const struct tfc_agg_rule *a, const struct tfc_agg_rule *b)
{
	return a->family == b->family && a->cidr_len == b->cidr_len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int check_twice(const struct tfc_agg_rule *r, size_t n, char *why, size_t len)
{
	char buf[TFC_AGG_RULE_STRLEN];

	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			if (same_prefix(&r[i], &r[k]))
				return invalid(why, len, "%s is given twice: one length a prefix",
					       tfc_agg_rule_str(&r[k], buf, sizeof(buf)));
	return 0;
}

/* Rules are split at commas; empty items (",,", a trailing comma) are errors. */
static size_t count_items(const char *text)
{
	size_t n = 1;

	for (const char *p = text; *p; p++)
		n += *p == ',';
	return n;
}

int tfc_agg_parse(const char *text, struct tfc_agg_rule **out, size_t *n, char *why, size_t len)
{
	size_t items = *text ? count_items(text) : 0, i = 0;
	struct tfc_agg_rule *r = NULL;
	const char *p = text;
	int err = 0;

	*out = NULL;
	*n = 0;
	if (!items)
		return 0;
	if (items > TFC_AGGREGATE_MAX_RULES)
		return invalid(why, len, "%zu rules: at most %d", items, TFC_AGGREGATE_MAX_RULES);
	r = calloc(items, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (; i < items && !err; i++) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);

		err = l ? parse_rule(p, l, &r[i], why, len)
			: invalid(why, len, "an empty rule: separate rules with one comma");
		p += l + 1;
	}
	err = err ?: check_twice(r, items, why, len);
	if (err) {
		free(r);
		return err;
	}
	*out = r;
	*n = items;
	return 0;
}

const char *tfc_agg_rule_str(const struct tfc_agg_rule *r, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->addr, host, sizeof(host));
	snprintf(buf, len, "%s/%u=%u", host, r->cidr_len, r->prefix_len);
	return buf;
}

void tfc_agg_key_of(const struct tfc_agg_rule *r, struct tfc_agg_key *key)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = 8 + r->cidr_len;
	key->data[0] = r->family;
	memcpy(key->data + 1, r->addr, r->family == 4 ? 4 : 16);
}

static void rule_of(const struct tfc_agg_key *key, const struct tfc_agg_value *val,
		    struct tfc_agg_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->family = key->data[0];
	r->cidr_len = (__u8)(key->prefixlen - 8);
	r->prefix_len = val->prefix_len;
	memcpy(r->addr, key->data + 1, r->family == 4 ? 4 : 16);
}

int tfc_overflow_parse(const char *text, __u8 *v4, __u8 *v6, char *why, size_t len)
{
	const char *comma = strchr(text, ',');
	int a, b;

	if (!comma) {
		if (strcmp(text, "0"))
			return invalid(why, len,
				       "'%s' is not V4,V6 (e.g. 24,48), nor 0 to turn overflow off",
				       text);
		*v4 = *v6 = 0;
		return 0;
	}
	a = small_number(text, (size_t)(comma - text), 32);
	b = small_number(comma + 1, strlen(comma + 1), 128);
	if (a < 0)
		return invalid(why, len, "'%s': the IPv4 length must be 1..32, or 0 (off)", text);
	if (b < 0)
		return invalid(why, len, "'%s': the IPv6 length must be 1..128, or 0 (off)", text);
	*v4 = (__u8)a;
	*v6 = (__u8)b;
	return 0;
}

static int wanted(const struct tfc_agg_key *key, const struct tfc_agg_rule *rules, size_t n)
{
	struct tfc_agg_key k;

	for (size_t i = 0; i < n; i++) {
		tfc_agg_key_of(&rules[i], &k);
		if (!memcmp(&k, key, sizeof(k)))
			return 1;
	}
	return 0;
}

static int insert_rules(int fd, const struct tfc_agg_rule *rules, size_t n)
{
	char buf[TFC_AGG_RULE_STRLEN];
	struct tfc_agg_value val;
	struct tfc_agg_key key;

	for (size_t i = 0; i < n; i++) {
		tfc_agg_key_of(&rules[i], &key);
		memset(&val, 0, sizeof(val));
		val.prefix_len = rules[i].prefix_len;
		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY)) {
			int err = -errno;

			tfc_err("cannot add the aggregation rule %s: %s%s",
				tfc_agg_rule_str(&rules[i], buf, sizeof(buf)), strerror(-err),
				err == -ENOSPC ? " (too many rules)" : "");
			return err;
		}
	}
	return 0;
}

/*
 * Keys to delete are collected first: deleting while walking with
 * get_next_key could skip entries.
 */
static int delete_unwanted(int fd, const struct tfc_agg_rule *rules, size_t n)
{
	struct tfc_agg_key *old = calloc(TFC_AGGREGATE_MAX_RULES, sizeof(*old)), cur, *prev = NULL;
	size_t m = 0;
	int err = 0;

	if (!old)
		return -ENOMEM;
	while (m < TFC_AGGREGATE_MAX_RULES && !bpf_map_get_next_key(fd, prev, &cur)) {
		old[m] = cur;
		prev = &old[m++];
	}
	for (size_t i = 0; i < m && !err; i++)
		if (!wanted(&old[i], rules, n) && bpf_map_delete_elem(fd, &old[i]) &&
		    errno != ENOENT)
			err = -errno;
	if (err)
		tfc_err("cannot remove an aggregation rule: %s", strerror(-err));
	free(old);
	return err;
}

int tfc_aggregate_replace(int trie_fd, struct tfc_control *ctl, const struct tfc_agg_rule *rules,
			  size_t n)
{
	int err;

	err = insert_rules(trie_fd, rules, n);
	if (err)
		return err;
	if (n)
		__atomic_fetch_or(&ctl->flags, TFC_FLAG_AGGREGATE, __ATOMIC_SEQ_CST);
	err = delete_unwanted(trie_fd, rules, n);
	if (err)
		return err;
	if (!n)
		__atomic_fetch_and(&ctl->flags, ~TFC_FLAG_AGGREGATE, __ATOMIC_SEQ_CST);
	return 0;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct tfc_agg_rule *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	return x->cidr_len < y->cidr_len ? -1 : x->cidr_len > y->cidr_len;
}

int tfc_aggregate_read(int trie_fd, struct tfc_agg_rule **out, size_t *n)
{
	struct tfc_agg_rule *r = calloc(TFC_AGGREGATE_MAX_RULES, sizeof(*r));
	struct tfc_agg_key key, next, *prev = NULL;
	struct tfc_agg_value val;
	size_t m = 0;

	*out = NULL;
	*n = 0;
	if (!r)
		return -ENOMEM;
	while (m < TFC_AGGREGATE_MAX_RULES && !bpf_map_get_next_key(trie_fd, prev, &next)) {
		key = next;
		prev = &key;
		/* A rule deleted since get_next_key is skipped. */
		if (!bpf_map_lookup_elem(trie_fd, &key, &val))
			rule_of(&key, &val, &r[m++]);
	}
	qsort(r, m, sizeof(*r), rule_cmp);
	*out = r;
	*n = m;
	return 0;
}
