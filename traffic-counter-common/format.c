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

/*
 * Rows are written field by field through one writer for JSON, CSV and the
 * CSV header, so names, order and values cannot differ between formats.
 * No document object per row: a million-entry map is written in a stream
 * (json-c objects per row made dump-maps --json of 1M entries take 3.9 s).
 */
struct row_out {
	FILE *f;
	enum tc_format fmt;
	int header; /* CSV header: write the names, not the values */
	int first;
};

/* JSON string: quotes, backslashes and control characters escaped. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void field_begin(struct row_out *w, const char *k)
{
	if (!w->first)
		fputc(',', w->f);
	w->first = 0;
	if (w->fmt == TC_FMT_JSON) {
		fputc('"', w->f);
		fputs(k, w->f);
		fputs("\":", w->f);
	}
}

static void field_str(struct row_out *w, const char *k, const char *v)
{
	field_begin(w, k);
	if (w->fmt == TC_FMT_JSON)
		json_str(w->f, v);
	else
		tc_csv_field(w->f, w->header ? k : v);
}

static void field_u64(struct row_out *w, const char *k, __u64 v)
{
	char buf[24], *p = buf + sizeof(buf);

	field_begin(w, k);
	if (w->header) {
		tc_csv_field(w->f, k);
		return;
	}
	/* By hand: fprintf's format parsing was a third of a 1M-entry dump. */
	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	fputs(p, w->f);
}

static void ip_row(struct row_out *w, const void *row)
{
	const struct tc_ip_entry *e = row;
	char addr[TC_ADDR_STRLEN];

	field_str(w, "ip", tc_addr_str(e->key.family, e->key.addr, addr, sizeof(addr)));
	field_u64(w, "family", e->key.family);
	field_str(w, "direction", tc_direction_str(e->key.direction));
	field_u64(w, "ifindex", e->key.ifindex);
	field_str(w, "ifname", tc_ifname(e->key.ifindex));
	field_u64(w, "bytes", e->val.bytes);
	field_u64(w, "packets", e->val.packets);
}

static void flow_row(struct row_out *w, const void *row)
{
	const struct tc_flow_entry *e = row;
	const struct flow_key *k = &e->key;
	char addr[TC_ADDR_STRLEN];

	field_str(w, "src", tc_addr_str(k->family, k->src, addr, sizeof(addr)));
	field_str(w, "dst", tc_addr_str(k->family, k->dst, addr, sizeof(addr)));
	field_u64(w, "sport", k->sport);
	field_u64(w, "dport", k->dport);
	field_u64(w, "proto", k->proto);
	field_u64(w, "family", k->family);
	field_str(w, "direction", tc_direction_str(k->direction));
	field_u64(w, "ifindex", k->ifindex);
	field_str(w, "ifname", tc_ifname(k->ifindex));
	field_u64(w, "bytes", e->val.bytes);
	field_u64(w, "packets", e->val.packets);
	field_u64(w, "first_seen_ns", e->val.first_seen_ns);
	field_u64(w, "last_seen_ns", e->val.last_seen_ns);
	field_u64(w, "tcp_flags", e->val.tcp_flags);
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

static int print_rows(FILE *f, const void *rows, size_t n, size_t row_size,
		      void (*row)(struct row_out *, const void *), enum tc_format fmt)
{
	static const struct tc_flow_entry zero; /* the largest row type */
	struct row_out w = {.f = f, .fmt = fmt, .header = 1, .first = 1};

	if (fmt == TC_FMT_CSV) {
		row(&w, &zero);
		fputc('\n', f);
	} else {
		fputs(n ? "[\n" : "[", f);
	}
	w.header = 0;
	for (size_t i = 0; i < n; i++) {
		w.first = 1;
		if (fmt == TC_FMT_JSON)
			fputs("  {", f);
		row(&w, (const char *)rows + i * row_size);
		fputs(fmt == TC_FMT_JSON ? (i + 1 < n ? "},\n" : "}\n") : "\n", f);
	}
	if (fmt == TC_FMT_JSON)
		fputs("]\n", f);
	return ferror(f) ? -EIO : 0;
}

int tc_print_ip(FILE *f, const struct tc_ip_entry *e, size_t n, enum tc_format fmt)
{
	char addr[TC_ADDR_STRLEN];

	if (fmt != TC_FMT_TABLE)
		return print_rows(f, e, n, sizeof(*e), ip_row, fmt);
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
		return print_rows(f, e, n, sizeof(*e), flow_row, fmt);
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
