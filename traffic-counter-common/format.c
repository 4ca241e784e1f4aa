// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "format.h"
#include "names.h"

const char *tc_addr_str(__u8 family, const __u8 *addr, char *buf, size_t len)
{
	int af = family == 4 ? AF_INET : family == 6 ? AF_INET6 : -1;

	if (af < 0 || !inet_ntop(af, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* A dump has few distinct interfaces: avoid one ioctl per entry. */
#define IFNAME_CACHE 16
static struct {
	__u32 ifindex;
	char name[IF_NAMESIZE + 8];
} ifname_cache[IFNAME_CACHE];

const char *tc_ifname(__u32 ifindex)
{
	unsigned int slot = ifindex % IFNAME_CACHE;

	if (ifindex && ifname_cache[slot].ifindex == ifindex)
		return ifname_cache[slot].name;
	ifname_cache[slot].ifindex = ifindex;
	if (!if_indextoname(ifindex, ifname_cache[slot].name))
		snprintf(ifname_cache[slot].name, sizeof(ifname_cache[slot].name), "if%u", ifindex);
	return ifname_cache[slot].name;
}

int tc_sort_parse(const char *s)
{
	if (!strcmp(s, "bytes"))
		return TC_SORT_BYTES;
	if (!strcmp(s, "packets"))
		return TC_SORT_PACKETS;
	if (!strcmp(s, "ip"))
		return TC_SORT_IP;
	return -EINVAL;
}

static int cmp_u64_desc(__u64 a, __u64 b)
{
	return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_addr(__u8 fa, const __u8 *a, __u8 fb, const __u8 *b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(a, b, 16);
}

static enum tc_sort sort_by;

static int cmp_ip(const void *pa, const void *pb)
{
	const struct tc_ip_entry *a = pa, *b = pb;
	int c = 0;

	if (sort_by == TC_SORT_BYTES)
		c = cmp_u64_desc(a->val.bytes, b->val.bytes);
	else if (sort_by == TC_SORT_PACKETS)
		c = cmp_u64_desc(a->val.packets, b->val.packets);
	c = c ?: cmp_addr(a->key.family, a->key.addr, b->key.family, b->key.addr);
	c = c ?: (int)a->key.direction - (int)b->key.direction;
	return c ?: (a->key.ifindex > b->key.ifindex) - (a->key.ifindex < b->key.ifindex);
}

static int cmp_flow(const void *pa, const void *pb)
{
	const struct tc_flow_entry *a = pa, *b = pb;
	const struct flow_key *x = &a->key, *y = &b->key;
	int c = 0;

	if (sort_by == TC_SORT_BYTES)
		c = cmp_u64_desc(a->val.bytes, b->val.bytes);
	else if (sort_by == TC_SORT_PACKETS)
		c = cmp_u64_desc(a->val.packets, b->val.packets);
	c = c ?: cmp_addr(x->family, x->src, y->family, y->src);
	c = c ?: cmp_addr(x->family, x->dst, y->family, y->dst);
	c = c ?: (int)x->proto - (int)y->proto;
	c = c ?: (int)x->sport - (int)y->sport;
	c = c ?: (int)x->dport - (int)y->dport;
	c = c ?: (int)x->direction - (int)y->direction;
	return c ?: (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

void tc_sort_ip(struct tc_ip_entry *e, size_t n, enum tc_sort by)
{
	sort_by = by;
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_ip);
}

void tc_sort_flow(struct tc_flow_entry *e, size_t n, enum tc_sort by)
{
	sort_by = by;
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_flow);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_u64(struct json_object *o, const char *k, __u64 v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

struct json_object *tc_ip_entry_json(const struct tc_ip_entry *e)
{
	struct json_object *o = json_object_new_object();
	char addr[TC_ADDR_STRLEN];

	if (!o)
		return NULL;
	add_str(o, "ip", tc_addr_str(e->key.family, e->key.addr, addr, sizeof(addr)));
	add_u64(o, "family", e->key.family);
	add_str(o, "direction", tc_direction_str(e->key.direction));
	add_u64(o, "ifindex", e->key.ifindex);
	add_str(o, "ifname", tc_ifname(e->key.ifindex));
	add_u64(o, "bytes", e->val.bytes);
	add_u64(o, "packets", e->val.packets);
	return o;
}

struct json_object *tc_flow_entry_json(const struct tc_flow_entry *e)
{
	struct json_object *o = json_object_new_object();
	const struct flow_key *k = &e->key;
	char addr[TC_ADDR_STRLEN];

	if (!o)
		return NULL;
	add_str(o, "src", tc_addr_str(k->family, k->src, addr, sizeof(addr)));
	add_str(o, "dst", tc_addr_str(k->family, k->dst, addr, sizeof(addr)));
	add_u64(o, "sport", k->sport);
	add_u64(o, "dport", k->dport);
	add_u64(o, "proto", k->proto);
	add_u64(o, "family", k->family);
	add_str(o, "direction", tc_direction_str(k->direction));
	add_u64(o, "ifindex", k->ifindex);
	add_str(o, "ifname", tc_ifname(k->ifindex));
	add_u64(o, "bytes", e->val.bytes);
	add_u64(o, "packets", e->val.packets);
	add_u64(o, "first_seen_ns", e->val.first_seen_ns);
	add_u64(o, "last_seen_ns", e->val.last_seen_ns);
	add_u64(o, "tcp_flags", e->val.tcp_flags);
	return o;
}

void tc_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* The header names come from a zeroed row, so even an empty map prints them. */
static int print_csv_header(FILE *f, size_t row_size, struct json_object *(*to_json)(const void *))
{
	void *zero = calloc(1, row_size);
	struct json_object *o = zero ? to_json(zero) : NULL;
	int first = 1;

	free(zero);
	if (!o)
		return -ENOMEM;
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		fputs(first ? "" : ",", f);
		tc_csv_field(f, key);
		first = 0;
	}
	fputc('\n', f);
	json_object_put(o);
	return 0;
}

/* JSON and CSV share one path: every row is built as a JSON object first,
 * so the two can never disagree on names or values. */
static int print_rows(FILE *f, const void *rows, size_t n, size_t row_size,
		      struct json_object *(*to_json)(const void *), enum tc_format fmt)
{
	struct json_object *arr = json_object_new_array();
	int err = 0;

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = to_json((const char *)rows + i * row_size);

		if (!o) {
			err = -ENOMEM;
			goto out;
		}
		json_object_array_add(arr, o);
	}
	if (fmt == TC_FMT_JSON) {
		fprintf(f, "%s\n",
			json_object_to_json_string_ext(
				arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		goto out;
	}
	err = print_csv_header(f, row_size, to_json);
	for (size_t i = 0; !err && i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		int first = 1;

		json_object_object_foreach(o, k, val)
		{
			(void)k;
			fputs(first ? "" : ",", f);
			tc_csv_field(f, json_object_get_string(val));
			first = 0;
		}
		fputc('\n', f);
	}
out:
	json_object_put(arr);
	return err ?: (ferror(f) ? -EIO : 0);
}

static struct json_object *ip_json(const void *e)
{
	return tc_ip_entry_json(e);
}

static struct json_object *flow_json(const void *e)
{
	return tc_flow_entry_json(e);
}

int tc_print_ip(FILE *f, const struct tc_ip_entry *e, size_t n, enum tc_format fmt)
{
	char addr[TC_ADDR_STRLEN];

	if (fmt != TC_FMT_TABLE)
		return print_rows(f, e, n, sizeof(*e), ip_json, fmt);
	fprintf(f, "%-16s %-8s %-40s %14s %18s\n", "IFACE", "DIR", "ADDRESS", "PACKETS", "BYTES");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%-16s %-8s %-40s %14" PRIu64 " %18" PRIu64 "\n",
			tc_ifname(e[i].key.ifindex), tc_direction_str(e[i].key.direction),
			tc_addr_str(e[i].key.family, e[i].key.addr, addr, sizeof(addr)),
			(uint64_t)e[i].val.packets, (uint64_t)e[i].val.bytes);
	return ferror(f) ? -EIO : 0;
}

int tc_print_flow(FILE *f, const struct tc_flow_entry *e, size_t n, enum tc_format fmt)
{
	char src[TC_ADDR_STRLEN], dst[TC_ADDR_STRLEN];

	if (fmt != TC_FMT_TABLE)
		return print_rows(f, e, n, sizeof(*e), flow_json, fmt);
	fprintf(f, "%-12s %-7s %5s %-39s %5s %-39s %5s %12s %16s %5s\n", "IFACE", "DIR", "PROTO",
		"SRC", "SPORT", "DST", "DPORT", "PACKETS", "BYTES", "FLAGS");
	for (size_t i = 0; i < n; i++) {
		const struct flow_key *k = &e[i].key;

		fprintf(f,
			"%-12s %-7s %5u %-39s %5u %-39s %5u %12" PRIu64 " %16" PRIu64 " 0x%02x\n",
			tc_ifname(k->ifindex), tc_direction_str(k->direction), k->proto,
			tc_addr_str(k->family, k->src, src, sizeof(src)), k->sport,
			tc_addr_str(k->family, k->dst, dst, sizeof(dst)), k->dport,
			(uint64_t)e[i].val.packets, (uint64_t)e[i].val.bytes, e[i].val.tcp_flags);
	}
	return ferror(f) ? -EIO : 0;
}
