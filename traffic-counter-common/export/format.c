// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "format.h"
#include "json_writer.h"
#include "util/names.h"
#include "util/text.h"
#include "maps/pins.h"

/* Dotted quad by hand: glibc's inet_ntop formats IPv4 through sprintf. */
static char *ipv4_str(const __u8 *a, char *p)
{
	for (int i = 0; i < 4; i++) {
		__u8 v = a[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	return p;
}

const char *tfc_addr_str(__u8 family, const __u8 *addr, char *buf, size_t len)
{
	if (family == 4 && len >= sizeof("255.255.255.255"))
		ipv4_str(addr, buf);
	else if (family != 6 || !inet_ntop(AF_INET6, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

unsigned int tfc_key_plen(const struct ip_key *k)
{
	if (k->is_prefix)
		return k->prefix_len;
	return k->family == 4 ? 32 : 128;
}

const char *tfc_key_str(const struct ip_key *k, char *buf, size_t len)
{
	size_t used;

	tfc_addr_str(k->family, k->addr, buf, len);
	used = strlen(buf);
	if (k->is_prefix && used < len)
		snprintf(buf + used, len - used, "/%u", (unsigned int)k->prefix_len);
	return buf;
}

/* A dump has few distinct interfaces: avoid one ioctl per entry. */
#define IFNAME_CACHE 16
static struct {
	__u32 ifindex;
	char name[TFC_IFNAME_LEN];
} ifname_cache[IFNAME_CACHE];

/* The namespace the counters' ifindexes belong to; 0: this one. */
static __u64 ifname_netns;

void tfc_ifname_netns(__u64 netns)
{
	ifname_netns = netns == tfc_netns_id() ? 0 : netns;
	memset(ifname_cache, 0, sizeof(ifname_cache));
}

/* An ifindex of another namespace: any local name would be another device. */
static void foreign_name(__u32 ifindex, char *buf, size_t len)
{
	if (ifname_netns == TFC_NETNS_MIXED)
		snprintf(buf, len, "if%u@netns:mixed", ifindex);
	else
		snprintf(buf, len, "if%u@netns:%llu", ifindex, (unsigned long long)ifname_netns);
}

const char *tfc_ifname(__u32 ifindex)
{
	unsigned int slot = ifindex % IFNAME_CACHE;
	char *name = ifname_cache[slot].name;

	if (ifindex && ifname_cache[slot].ifindex == ifindex)
		return name;
	ifname_cache[slot].ifindex = ifindex;
	if (ifname_netns)
		foreign_name(ifindex, name, TFC_IFNAME_LEN);
	else if (!if_indextoname(ifindex, name))
		snprintf(name, TFC_IFNAME_LEN, "if%u", ifindex);
	return name;
}

__s64 tfc_wall_offset_ns(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return ((__s64)real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

/*
 * "YYYY-MM-DDTHH:MM:SS" per second, cached: a dump's times fall in few
 * seconds, and gmtime_r per entry would cost more than the rest of the row.
 */
#define WALL_CACHE	64
#define WALL_SECOND_LEN 19 /* "YYYY-MM-DDTHH:MM:SS": years 0000..9999 only */
static struct {
	__s64 sec;
	int set;
	char text[24];
} wall_cache[WALL_CACHE];

static char *put_digits(char *p, unsigned int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

static const char *wall_second(__s64 sec)
{
	unsigned int slot = (unsigned int)((__u64)sec % WALL_CACHE);
	time_t t = (time_t)sec;
	struct tm tm;
	char *p;

	if (wall_cache[slot].set && wall_cache[slot].sec == sec)
		return wall_cache[slot].text;
	p = wall_cache[slot].text;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		snprintf(p, sizeof(wall_cache[slot].text), "?");
	} else {
		p = put_digits(p, (unsigned int)tm.tm_year + 1900, 4);
		*p++ = '-';
		p = put_digits(p, (unsigned int)tm.tm_mon + 1, 2);
		*p++ = '-';
		p = put_digits(p, (unsigned int)tm.tm_mday, 2);
		*p++ = 'T';
		p = put_digits(p, (unsigned int)tm.tm_hour, 2);
		*p++ = ':';
		p = put_digits(p, (unsigned int)tm.tm_min, 2);
		*p++ = ':';
		p = put_digits(p, (unsigned int)tm.tm_sec, 2);
		*p = '\0';
	}
	wall_cache[slot].sec = sec;
	wall_cache[slot].set = 1;
	return wall_cache[slot].text;
}

const char *tfc_wall_str(__u64 mono_ns, __s64 offset_ns, char *buf)
{
	/* Split before adding: mono_ns may be anything up to 2^64 - 1. */
	__s64 sec = (__s64)(mono_ns / 1000000000ULL) + offset_ns / 1000000000LL;
	__s64 nsec = (__s64)(mono_ns % 1000000000ULL) + offset_ns % 1000000000LL;
	const char *date;
	char *p = buf;

	if (nsec < 0) {
		nsec += 1000000000LL;
		sec--;
	} else if (nsec >= 1000000000LL) {
		nsec -= 1000000000LL;
		sec++;
	}
	date = wall_second(sec);
	if (*date == '?')
		return strcpy(buf, "?");
	memcpy(p, date, WALL_SECOND_LEN);
	p += WALL_SECOND_LEN;
	*p++ = '.';
	p = put_digits(p, (unsigned int)(nsec / 1000000), 3);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

int tfc_cidr_parse(const char *s, struct tfc_addr_filter *f)
{
	char host[TFC_ADDR_STRLEN], *end;
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long plen;

	if (!len || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	memset(f->addr, 0, sizeof(f->addr));
	if (inet_pton(AF_INET, host, f->addr) == 1)
		f->family = 4;
	else if (inet_pton(AF_INET6, host, f->addr) == 1)
		f->family = 6;
	else
		return -EINVAL;
	plen = f->family == 4 ? 32 : 128;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return -EINVAL;
		plen = strtoul(slash + 1, &end, 10);
		if (*end || plen > (f->family == 4 ? 32UL : 128UL))
			return -EINVAL;
	}
	f->plen = (__u8)plen;
	f->cidr_set = 1;
	return 0;
}

int tfc_addr_in_cidr(const struct tfc_addr_filter *f, __u8 family, const __u8 *addr)
{
	unsigned int full = f->plen / 8, rest = f->plen % 8;

	if (family != f->family || memcmp(addr, f->addr, full))
		return 0;
	return !rest || !((addr[full] ^ f->addr[full]) & (0xff00 >> rest));
}

int tfc_addr_link_local(__u8 family, const __u8 *addr)
{
	if (family == 4)
		return addr[0] == 169 && addr[1] == 254;
	return family == 6 && addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80;
}

int tfc_addr_multicast(__u8 family, const __u8 *addr)
{
	if (family == 4)
		return (addr[0] & 0xf0) == 224;
	return family == 6 && addr[0] == 0xff;
}

int tfc_filter_active(const struct tfc_addr_filter *f)
{
	return f->cidr_set || f->no_link_local || f->no_multicast;
}

static int addr_excluded(const struct tfc_addr_filter *f, __u8 family, const __u8 *addr)
{
	return (f->no_link_local && tfc_addr_link_local(family, addr)) ||
	       (f->no_multicast && tfc_addr_multicast(family, addr));
}

size_t tfc_filter_ip(const struct tfc_addr_filter *f, struct tfc_ip_entry *e, size_t n)
{
	size_t kept = 0;

	if (!tfc_filter_active(f))
		return n;
	for (size_t i = 0; i < n; i++) {
		const struct ip_key *k = &e[i].key;

		if (addr_excluded(f, k->family, k->addr) ||
		    (f->cidr_set &&
		     (!tfc_addr_in_cidr(f, k->family, k->addr) || tfc_key_plen(k) < f->plen)))
			continue;
		e[kept++] = e[i];
	}
	return kept;
}

size_t tfc_filter_flow(const struct tfc_addr_filter *f, struct tfc_flow_entry *e, size_t n)
{
	size_t kept = 0;

	if (!tfc_filter_active(f))
		return n;
	for (size_t i = 0; i < n; i++) {
		const struct flow_key *k = &e[i].key;

		if (addr_excluded(f, k->family, k->src) || addr_excluded(f, k->family, k->dst) ||
		    (f->cidr_set && !tfc_addr_in_cidr(f, k->family, k->src) &&
		     !tfc_addr_in_cidr(f, k->family, k->dst)))
			continue;
		e[kept++] = e[i];
	}
	return kept;
}

int tfc_sort_parse(const char *s)
{
	if (!strcmp(s, "bytes"))
		return TFC_SORT_BYTES;
	if (!strcmp(s, "packets"))
		return TFC_SORT_PACKETS;
	if (!strcmp(s, "ip"))
		return TFC_SORT_IP;
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

static enum tfc_sort sort_by;

static int cmp_ip(const void *pa, const void *pb)
{
	const struct tfc_ip_entry *a = pa, *b = pb;
	int c = 0;

	if (sort_by == TFC_SORT_BYTES)
		c = cmp_u64_desc(a->val.bytes, b->val.bytes);
	else if (sort_by == TFC_SORT_PACKETS)
		c = cmp_u64_desc(a->val.packets, b->val.packets);
	c = c ?: cmp_addr(a->key.family, a->key.addr, b->key.family, b->key.addr);
	/* An address before the prefixes starting at it, shortest last. */
	c = c ?: (int)a->key.is_prefix - (int)b->key.is_prefix;
	c = c ?: (int)b->key.prefix_len - (int)a->key.prefix_len;
	c = c ?: (int)a->key.direction - (int)b->key.direction;
	return c ?: (a->key.ifindex > b->key.ifindex) - (a->key.ifindex < b->key.ifindex);
}

static int cmp_flow(const void *pa, const void *pb)
{
	const struct tfc_flow_entry *a = pa, *b = pb;
	const struct flow_key *x = &a->key, *y = &b->key;
	int c = 0;

	if (sort_by == TFC_SORT_BYTES)
		c = cmp_u64_desc(a->val.bytes, b->val.bytes);
	else if (sort_by == TFC_SORT_PACKETS)
		c = cmp_u64_desc(a->val.packets, b->val.packets);
	c = c ?: cmp_addr(x->family, x->src, y->family, y->src);
	c = c ?: cmp_addr(x->family, x->dst, y->family, y->dst);
	c = c ?: (int)x->proto - (int)y->proto;
	c = c ?: (int)x->sport - (int)y->sport;
	c = c ?: (int)x->dport - (int)y->dport;
	c = c ?: (int)x->direction - (int)y->direction;
	return c ?: (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

/*
 * Sorting a million 40- or 88-byte entries with qsort was a quarter of a
 * dump: the comparator calls and the moves. Instead each entry gets a
 * 64-bit key holding most of the order (the counter, inverted for
 * descending order; or family and the address's first 7 bytes), records
 * of key and index are radix-sorted (stable, LSD, bytes all equal
 * skipped), runs of equal keys are ordered by the full comparator, and the
 * entries are moved once, in place.
 */
struct sort_rec {
	__u64 key;
	__u64 idx;
};

struct sort_ctx {
	const char *e;
	size_t size;
	int (*cmp)(const void *, const void *);
};

static int cmp_rec(const void *pa, const void *pb, void *ctx)
{
	const struct sort_rec *a = pa, *b = pb;
	const struct sort_ctx *c = ctx;

	return c->cmp(c->e + a->idx * c->size, c->e + b->idx * c->size);
}

/* Stable LSD radix sort by key; returns whichever buffer holds the result. */
static struct sort_rec *radix_sort(struct sort_rec *a, struct sort_rec *tmp, size_t n)
{
	for (int shift = 0; shift < 64; shift += 8) {
		size_t count[256] = {0}, pos = 0;
		struct sort_rec *t;

		for (size_t i = 0; i < n; i++)
			count[(a[i].key >> shift) & 0xff]++;
		if (count[(a[0].key >> shift) & 0xff] == n)
			continue;
		for (int d = 0; d < 256; d++) {
			size_t c = count[d];

			count[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(a[i].key >> shift) & 0xff]++] = a[i];
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

/* Puts entry r[i].idx at i for every i, in place, one cycle at a time. */
static void permute(char *e, size_t size, struct sort_rec *r, size_t n)
{
	char held[sizeof(struct tfc_flow_entry)]; /* the largest entry */

	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		if (r[i].idx == i)
			continue;
		memcpy(held, e + i * size, size);
		while (r[j].idx != i) {
			size_t k = r[j].idx;

			memcpy(e + j * size, e + k * size, size);
			r[j].idx = j;
			j = k;
		}
		memcpy(e + j * size, held, size);
		r[j].idx = j;
	}
}

static void sort_entries(void *e, size_t n, size_t size, __u64 (*key)(const void *),
			 int (*cmp)(const void *, const void *))
{
	struct sort_rec *rec = malloc(n * sizeof(*rec)), *tmp = malloc(n * sizeof(*rec)), *r;
	struct sort_ctx ctx = {e, size, cmp};

	if (!rec || !tmp || size > sizeof(struct tfc_flow_entry)) {
		qsort(e, n, size, cmp); /* no memory for the fast way */
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		rec[i] = (struct sort_rec){key((const char *)e + i * size), i};
	r = radix_sort(rec, tmp, n);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && r[j].key == r[i].key; j++)
			;
		if (j - i > 1)
			qsort_r(r + i, j - i, sizeof(*r), cmp_rec, &ctx);
	}
	permute(e, size, r, n);
out:
	free(rec);
	free(tmp);
}

/* Family, then the first 7 address bytes, big-endian: ascending like cmp_addr. */
static __u64 addr_key(__u8 family, const __u8 *a)
{
	__u64 k = family;

	for (int i = 0; i < 7; i++)
		k = k << 8 | a[i];
	return k;
}

/* The radix key of an entry: its counters (largest first) or its address. */
static __u64 entry_key(__u64 bytes, __u64 packets, __u8 family, const __u8 *addr)
{
	if (sort_by == TFC_SORT_BYTES)
		return ~bytes;
	if (sort_by == TFC_SORT_PACKETS)
		return ~packets;
	return addr_key(family, addr);
}

static __u64 key_ip(const void *p)
{
	const struct tfc_ip_entry *e = p;

	return entry_key(e->val.bytes, e->val.packets, e->key.family, e->key.addr);
}

static __u64 key_flow(const void *p)
{
	const struct tfc_flow_entry *e = p;

	return entry_key(e->val.bytes, e->val.packets, e->key.family, e->key.src);
}

void tfc_sort_ip(struct tfc_ip_entry *e, size_t n, enum tfc_sort by)
{
	sort_by = by;
	if (n > 1)
		sort_entries(e, n, sizeof(*e), key_ip, cmp_ip);
}

void tfc_sort_flow(struct tfc_flow_entry *e, size_t n, enum tfc_sort by)
{
	sort_by = by;
	if (n > 1)
		sort_entries(e, n, sizeof(*e), key_flow, cmp_flow);
}

/*
 * Rows are written field by field through one writer for JSON, CSV and the
 * CSV header, so names, order and values cannot differ between formats.
 * No document object per row: a million-entry map is written in a stream
 * through json_writer.c (json-c objects per row made dump-maps --json of
 * 1M entries take 45-105% longer; one json-c document, 10 times as long:
 * openspec/project.md).
 */
struct row_out {
	FILE *f;
	enum tfc_format fmt;
	int header; /* CSV header: write the names, not the values */
	int first;
	struct tfc_json json;
	__s64 wall_offset_ns; /* flow times to wall clock: one offset per dump */
};

/* CSV only: the comma before every field but the first. */
static void csv_field_begin(struct row_out *w)
{
	if (!w->first)
		putc_unlocked(',', w->f);
	w->first = 0;
}

static void field_str(struct row_out *w, const char *k, const char *v)
{
	if (w->fmt == TFC_FMT_JSON) {
		tfc_json_str(&w->json, k, v);
		return;
	}
	csv_field_begin(w);
	tfc_csv_field(w->f, w->header ? k : v);
}

/* A flow time as wall-clock text. */
static void field_wall(struct row_out *w, const char *k, __u64 mono_ns)
{
	char buf[TFC_WALL_STRLEN];

	if (w->header) {
		field_str(w, k, NULL);
		return;
	}
	field_str(w, k, tfc_wall_str(mono_ns, w->wall_offset_ns, buf));
}

static void field_u64(struct row_out *w, const char *k, __u64 v)
{
	char buf[24], *p = buf + sizeof(buf);

	if (w->fmt == TFC_FMT_JSON) {
		tfc_json_u64(&w->json, k, v);
		return;
	}
	csv_field_begin(w);
	if (w->header) {
		tfc_csv_field(w->f, k);
		return;
	}
	/* By hand: fprintf's format parsing was a third of a 1M-entry dump. */
	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	fputs_unlocked(p, w->f);
}

/* JSON true/false; CSV the same words. */
static void field_bool(struct row_out *w, const char *k, int v)
{
	if (w->fmt == TFC_FMT_JSON) {
		tfc_json_bool(&w->json, k, v);
		return;
	}
	csv_field_begin(w);
	tfc_csv_field(w->f, w->header ? k : v ? "true" : "false");
}

/* JSON escapes the name itself; CSV is text for a terminal too. */
static void field_ifname(struct row_out *w, __u32 ifindex)
{
	char safe[TFC_IFNAME_SAFE_LEN];
	const char *name = tfc_ifname(ifindex);

	if (w->fmt == TFC_FMT_CSV && !w->header)
		name = tfc_text_safe(name, safe, sizeof(safe));
	field_str(w, "ifname", name);
}

static void ip_row(struct row_out *w, const void *row)
{
	const struct tfc_ip_entry *e = row;
	char addr[TFC_ADDR_STRLEN];

	field_str(w, "ip", tfc_addr_str(e->key.family, e->key.addr, addr, sizeof(addr)));
	field_u64(w, "family", e->key.family);
	field_str(w, "direction", tfc_direction_str(e->key.direction));
	field_u64(w, "ifindex", e->key.ifindex);
	field_ifname(w, e->key.ifindex);
	field_u64(w, "bytes", e->val.bytes);
	field_u64(w, "packets", e->val.packets);
	/* Last, so CSV readers that count columns keep working. */
	field_u64(w, "prefix_len", tfc_key_plen(&e->key));
	field_bool(w, "prefix", e->key.is_prefix);
}

static void flow_row(struct row_out *w, const void *row)
{
	const struct tfc_flow_entry *e = row;
	const struct flow_key *k = &e->key;
	char addr[TFC_ADDR_STRLEN];

	field_str(w, "src", tfc_addr_str(k->family, k->src, addr, sizeof(addr)));
	field_str(w, "dst", tfc_addr_str(k->family, k->dst, addr, sizeof(addr)));
	field_u64(w, "sport", k->sport);
	field_u64(w, "dport", k->dport);
	field_u64(w, "proto", k->proto);
	field_u64(w, "family", k->family);
	field_str(w, "direction", tfc_direction_str(k->direction));
	field_u64(w, "ifindex", k->ifindex);
	field_ifname(w, k->ifindex);
	field_u64(w, "bytes", e->val.bytes);
	field_u64(w, "packets", e->val.packets);
	field_u64(w, "first_seen_ns", e->val.first_seen_ns);
	field_u64(w, "last_seen_ns", e->val.last_seen_ns);
	field_u64(w, "tcp_flags", e->val.tcp_flags);
	/* Last, so CSV readers that count columns keep working. */
	field_wall(w, "first_seen", e->val.first_seen_ns);
	field_wall(w, "last_seen", e->val.last_seen_ns);
}

const char *tfc_overflow_len_str(unsigned int len, char *buf, size_t size)
{
	if (!len)
		return "off";
	snprintf(buf, size, "/%u", len);
	return buf;
}

const char *tfc_ip_map_full_hint(const struct tfc_control *c, char *buf, size_t len)
{
	char v4[8], v6[8];
	unsigned int o4 = 0, o6 = 0;

#if TFC_ABI_VERSION >= 3
	if (c) {
		o4 = c->overflow_v4;
		o6 = c->overflow_v6;
	}
#else
	(void)c;
#endif
	if (!o4 && !o6)
		snprintf(buf, len,
			 "new addresses go to ip_map_full (see --ip-map-size, attach --migrate)");
	else
		snprintf(buf, len,
			 "new addresses are counted by prefix (IPv4 %s, IPv6 %s) while the prefix "
			 "map has room (see --ip-map-size, attach --migrate)",
			 tfc_overflow_len_str(o4, v4, sizeof(v4)),
			 tfc_overflow_len_str(o6, v6, sizeof(v6)));
	return buf;
}

void tfc_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs_unlocked(s, f);
		return;
	}
	putc_unlocked('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc_unlocked('"', f);
		putc_unlocked(*s, f);
	}
	putc_unlocked('"', f);
}

/* One line per row: "[", a row a line, "]" ("[]" when empty). */
static void json_rows(struct row_out *w, const void *rows, size_t n, size_t row_size,
		      void (*row)(struct row_out *, const void *))
{
	tfc_json_init(&w->json, w->f, 1);
	tfc_json_arr_begin(&w->json, NULL);
	for (size_t i = 0; i < n; i++) {
		tfc_json_obj_begin(&w->json, NULL);
		row(w, (const char *)rows + i * row_size);
		tfc_json_obj_end(&w->json);
	}
	tfc_json_arr_end(&w->json);
	tfc_json_finish(&w->json);
}

/* A header line of the field names, then a line per row. */
static void csv_rows(struct row_out *w, const void *rows, size_t n, size_t row_size,
		     void (*row)(struct row_out *, const void *))
{
	static const struct tfc_flow_entry zero; /* the largest row type */

	row(w, &zero);
	putc_unlocked('\n', w->f);
	w->header = 0;
	for (size_t i = 0; i < n; i++) {
		w->first = 1;
		row(w, (const char *)rows + i * row_size);
		putc_unlocked('\n', w->f);
	}
}

static int print_rows(FILE *f, const void *rows, size_t n, size_t row_size,
		      void (*row)(struct row_out *, const void *), enum tfc_format fmt)
{
	struct row_out w = {.f = f,
			    .fmt = fmt,
			    .header = fmt == TFC_FMT_CSV,
			    .first = 1,
			    .wall_offset_ns = tfc_wall_offset_ns()};
	int err;

	/* One lock for the whole dump, not one per character written. */
	flockfile(f);
	if (fmt == TFC_FMT_CSV)
		csv_rows(&w, rows, n, row_size, row);
	else
		json_rows(&w, rows, n, row_size, row);
	err = ferror_unlocked(f) ? -EIO : 0;
	funlockfile(f);
	return err;
}

int tfc_print_ip(FILE *f, const struct tfc_ip_entry *e, size_t n, enum tfc_format fmt)
{
	char addr[TFC_KEY_STRLEN], name[TFC_IFNAME_SAFE_LEN];

	if (fmt != TFC_FMT_TABLE)
		return print_rows(f, e, n, sizeof(*e), ip_row, fmt);
	fprintf(f, "%-16s %-8s %-40s %14s %18s\n", "IFACE", "DIR", "ADDRESS", "PACKETS", "BYTES");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%-16s %-8s %-40s %14" PRIu64 " %18" PRIu64 "\n",
			tfc_text_safe(tfc_ifname(e[i].key.ifindex), name, sizeof(name)),
			tfc_direction_str(e[i].key.direction),
			tfc_key_str(&e[i].key, addr, sizeof(addr)), (uint64_t)e[i].val.packets,
			(uint64_t)e[i].val.bytes);
	return ferror(f) ? -EIO : 0;
}

int tfc_print_flow(FILE *f, const struct tfc_flow_entry *e, size_t n, enum tfc_format fmt)
{
	char src[TFC_ADDR_STRLEN], dst[TFC_ADDR_STRLEN], name[TFC_IFNAME_SAFE_LEN];

	if (fmt != TFC_FMT_TABLE)
		return print_rows(f, e, n, sizeof(*e), flow_row, fmt);
	fprintf(f, "%-12s %-7s %5s %-39s %5s %-39s %5s %12s %16s %5s\n", "IFACE", "DIR", "PROTO",
		"SRC", "SPORT", "DST", "DPORT", "PACKETS", "BYTES", "FLAGS");
	for (size_t i = 0; i < n; i++) {
		const struct flow_key *k = &e[i].key;

		fprintf(f,
			"%-12s %-7s %5u %-39s %5u %-39s %5u %12" PRIu64 " %16" PRIu64 " 0x%02x\n",
			tfc_text_safe(tfc_ifname(k->ifindex), name, sizeof(name)),
			tfc_direction_str(k->direction), k->proto,
			tfc_addr_str(k->family, k->src, src, sizeof(src)), k->sport,
			tfc_addr_str(k->family, k->dst, dst, sizeof(dst)), k->dport,
			(uint64_t)e[i].val.packets, (uint64_t)e[i].val.bytes, e[i].val.tcp_flags);
	}
	return ferror(f) ? -EIO : 0;
}
