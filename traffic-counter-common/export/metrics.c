// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "metrics.h"
#include "metrics_cgroup.h"
#include "util/names.h"
#include "util/text.h"

/*
 * tfc_ifname's longest answer, or an interface name (at most 15 bytes)
 * through tfc_text_safe, 4 bytes for each byte it escapes.
 */
#define DEVLEN 64
_Static_assert(DEVLEN >= TFC_IFNAME_LEN && DEVLEN >= TFC_SAFE_LEN(15), "DEVLEN too small");
#define PLEN_OTHER 0xff /* the series of everything without one of its own */

/* Label values of one series; byte-compared and hashed, so no padding. */
struct series_key {
	char device[DEVLEN];
	__u8 direction;
	__u8 family;
	__u8 plen;
	__u8 reason; /* statistics only */
	__u8 addr[16];
};
_Static_assert(sizeof(struct series_key) == DEVLEN + 20, "series_key has no padding");

struct series {
	struct series_key key;
	__u32 dev;    /* rank of the device name in this scrape: the sort order */
	__u32 member; /* has a series of its own under --max-series */
	struct counters val;
};

struct slot {
	struct series_key key;
	__u8 used;
};

struct tfc_metrics {
	struct tfc_metrics_policy policy;
	struct slot *slots; /* open addressing; grown to stay at most half full */
	size_t cap;
	size_t count;
	struct tfc_cgroup_members *cgroups; /* the cgroups' own membership */
};

/* ---- membership: addresses or prefixes holding a series of their own ---- */

static __u64 key_hash(const struct series_key *k)
{
	const __u8 *p = (const __u8 *)k;
	__u64 h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static struct slot *set_slot(struct slot *slots, size_t cap, const struct series_key *k)
{
	size_t i = key_hash(k) & (cap - 1);

	while (slots[i].used && memcmp(&slots[i].key, k, sizeof(*k)))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int set_has(const struct tfc_metrics *m, const struct series_key *k)
{
	return m->cap && set_slot(m->slots, m->cap, k)->used;
}

static int set_grow(struct tfc_metrics *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].used)
			*set_slot(slots, cap, &m->slots[i].key) = m->slots[i];
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

static int set_add(struct tfc_metrics *m, const struct series_key *k)
{
	struct slot *s;

	if (2 * (m->count + 1) > m->cap && set_grow(m))
		return -ENOMEM;
	s = set_slot(m->slots, m->cap, k);
	if (!s->used) {
		s->key = *k;
		s->used = 1;
		m->count++;
	}
	return 0;
}

struct tfc_metrics *tfc_metrics_new(const struct tfc_metrics_policy *policy)
{
	struct tfc_metrics *m;

	if (policy->max_series > TFC_METRICS_MAX_SERIES || policy->v4_prefix > 32 ||
	    policy->v6_prefix > 128) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->policy = *policy;
	m->cgroups = tfc_cgroup_members_new();
	if (!m->cgroups) {
		free(m);
		return NULL;
	}
	if (!m->policy.ifname)
		m->policy.ifname = tfc_ifname;
	return m;
}

void tfc_metrics_free(struct tfc_metrics *m)
{
	if (!m)
		return;
	tfc_cgroup_members_free(m->cgroups);
	free(m->slots);
	free(m);
}

size_t tfc_metrics_members(const struct tfc_metrics *m)
{
	return m->count;
}

size_t tfc_metrics_cgroup_members(const struct tfc_metrics *m)
{
	return tfc_cgroup_members_count(m->cgroups);
}

/* ---- devices: names of the interfaces one scrape saw, ranked by name ---- */

struct devices {
	__u32 *ifindex; /* sorted, distinct */
	__u32 *rank;	/* equal names share a rank, so their series merge */
	char (*name)[DEVLEN];
	size_t n;
};

struct named {
	char name[DEVLEN];
	size_t i;
};

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static void devices_free(struct devices *d)
{
	free(d->ifindex);
	free(d->rank);
	free(d->name);
}

static int devices_rank(struct devices *d)
{
	struct named *order = calloc(d->n ?: 1, sizeof(*order));
	__u32 rank = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++) {
		memcpy(order[i].name, d->name[i], DEVLEN);
		order[i].i = i;
	}
	qsort(order, d->n, sizeof(*order), cmp_named);
	for (size_t i = 0; i < d->n; i++) {
		if (i && strcmp(order[i].name, order[i - 1].name))
			rank++;
		d->rank[order[i].i] = rank;
	}
	free(order);
	return 0;
}

/*
 * A label value must be valid UTF-8, else the whole scrape fails: a name
 * that is not, or that holds control characters, is shown escaped as on
 * every text output (tfc_text_safe); a printable one as it is, so labels of
 * ordinary names do not change. Label escaping (\\, \", \n) comes later.
 */
static void device_label(const char *name, char *out)
{
	if (tfc_text_is_printable(name))
		snprintf(out, DEVLEN, "%s", name);
	else
		tfc_text_safe(name, out, DEVLEN);
}

/*
 * Series are sorted by device rank rather than by name: one integer compare
 * instead of a strcmp per comparison (a 64k-entry scrape spent a quarter of
 * its time in strcmp). Takes ownership of ifx.
 */
static int devices_build(struct devices *d, __u32 *ifx, size_t n, const char *(*ifname)(__u32))
{
	memset(d, 0, sizeof(*d));
	d->ifindex = ifx;
	qsort(ifx, n, sizeof(*ifx), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (!d->n || ifx[d->n - 1] != ifx[i])
			ifx[d->n++] = ifx[i];
	d->rank = calloc(d->n ?: 1, sizeof(*d->rank));
	d->name = calloc(d->n ?: 1, sizeof(*d->name));
	if (!d->rank || !d->name)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++)
		device_label(ifname(d->ifindex[i]), d->name[i]);
	return devices_rank(d);
}

typedef __u32 (*ifindex_at)(const struct tfc_metrics_snapshot *s, size_t i);

static int devices_of(const struct tfc_metrics *m, const struct tfc_metrics_snapshot *s, size_t n,
		      ifindex_at at, struct devices *d)
{
	__u32 *ifx = calloc(n ?: 1, sizeof(*ifx));

	memset(d, 0, sizeof(*d));
	if (!ifx)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ifx[i] = at(s, i);
	return devices_build(d, ifx, n, m->policy.ifname);
}

/* ---- series: keys, order, aggregation ---------------------------------- */

static void key_init(struct series *s, const struct devices *d, __u32 ifindex, __u8 direction,
		     __u8 family)
{
	const __u32 *p = bsearch(&ifindex, d->ifindex, d->n, sizeof(ifindex), cmp_u32);
	size_t i = p ? (size_t)(p - d->ifindex) : 0; /* always found: d was built from s */

	memset(&s->key, 0, sizeof(s->key));
	memcpy(s->key.device, d->name[i], DEVLEN);
	s->key.direction = direction;
	s->key.family = family;
	s->dev = d->rank[i];
}

static void mask_addr(__u8 *addr, unsigned int plen)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = plen > 8 * i ? plen - 8 * i : 0;

		if (bits < 8)
			addr[i] &= (__u8)(0xff00 >> bits);
	}
}

static int cmp_group(const struct series *a, const struct series *b)
{
	int c = (a->dev > b->dev) - (a->dev < b->dev);

	c = c ?: (int)a->key.direction - (int)b->key.direction;
	return c ?: (int)a->key.family - (int)b->key.family;
}

static int cmp_series(const void *pa, const void *pb)
{
	const struct series *a = pa, *b = pb;
	const struct series_key *x = &a->key, *y = &b->key;
	int c = cmp_group(a, b);

	c = c ?: (int)x->reason - (int)y->reason;
	/* "other" closes its device/direction/family group. */
	c = c ?: (x->plen == PLEN_OTHER) - (y->plen == PLEN_OTHER);
	c = c ?: memcmp(x->addr, y->addr, sizeof(x->addr));
	return c ?: (int)x->plen - (int)y->plen;
}

/* Sorts and sums series with equal labels; returns how many remain. */
static size_t aggregate(struct series *s, size_t n)
{
	size_t out = 0;

	qsort(s, n, sizeof(*s), cmp_series);
	for (size_t i = 0; i < n; i++) {
		if (out && !cmp_series(&s[out - 1], &s[i])) {
			s[out - 1].val.bytes += s[i].val.bytes;
			s[out - 1].val.packets += s[i].val.packets;
		} else {
			s[out++] = s[i];
		}
	}
	return out;
}

static struct series *series_alloc(size_t n)
{
	return calloc(n ?: 1, sizeof(struct series));
}

static __u32 ip_ifindex(const struct tfc_metrics_snapshot *s, size_t i)
{
	return s->ip[i].key.ifindex;
}

static __u32 flow_ifindex(const struct tfc_metrics_snapshot *s, size_t i)
{
	return s->flow[i].key.ifindex;
}

static __u32 stat_ifindex(const struct tfc_metrics_snapshot *s, size_t i)
{
	return s->stats[i].key.ifindex;
}

/* Makes series i of a snapshot's entries: ip_one, flow_one. */
typedef void (*series_one)(const struct tfc_metrics *m, const struct devices *d,
			   const struct tfc_metrics_snapshot *s, size_t i, struct series *out);

static void ip_one(const struct tfc_metrics *m, const struct devices *d,
		   const struct tfc_metrics_snapshot *s, size_t i, struct series *out)
{
	const struct tfc_ip_entry *e = &s->ip[i];
	const struct ip_key *k = &e->key;

	key_init(out, d, k->ifindex, k->direction, k->family);
	memcpy(out->key.addr, k->addr, sizeof(out->key.addr));
	out->key.plen = k->family == 4 ? m->policy.v4_prefix : m->policy.v6_prefix;
	if (k->family != 4 && k->family != 6)
		out->key.plen = 128;
	/* A prefix row cannot be split: its own length, or shorter by the policy. */
	if (k->is_prefix && k->prefix_len < out->key.plen)
		out->key.plen = k->prefix_len;
	mask_addr(out->key.addr, out->key.plen);
	out->val = e->val;
}

static void flow_one(const struct tfc_metrics *m, const struct devices *d,
		     const struct tfc_metrics_snapshot *s, size_t i, struct series *out)
{
	const struct flow_key *k = &s->flow[i].key;

	(void)m;
	key_init(out, d, k->ifindex, k->direction, k->family);
	out->val.bytes = s->flow[i].val.bytes;
	out->val.packets = s->flow[i].val.packets;
}

/* One series per entry (count of them, made by `one`), equal labels summed. */
static int entry_series(const struct tfc_metrics *m, const struct tfc_metrics_snapshot *s,
			size_t count, ifindex_at at, series_one one, struct series **out, size_t *n)
{
	struct series *ser = series_alloc(count);
	struct devices d;
	int err = devices_of(m, s, count, at, &d);

	if (!err && !ser)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < count; i++)
		one(m, &d, s, i, &ser[i]);
	devices_free(&d);
	if (err) {
		free(ser);
		return err;
	}
	*out = ser;
	*n = aggregate(ser, count);
	return 0;
}

static int ip_series(const struct tfc_metrics *m, const struct tfc_metrics_snapshot *s,
		     struct series **out, size_t *n)
{
	return entry_series(m, s, s->n_ip, ip_ifindex, ip_one, out, n);
}

static int flow_series(const struct tfc_metrics *m, const struct tfc_metrics_snapshot *s,
		       struct series **out, size_t *n)
{
	return entry_series(m, s, s->n_flow, flow_ifindex, flow_one, out, n);
}

static int cmp_bytes_desc(const void *pa, const void *pb)
{
	const struct series *a = *(const struct series *const *)pa;
	const struct series *b = *(const struct series *const *)pb;

	if (a->val.bytes != b->val.bytes)
		return a->val.bytes > b->val.bytes ? -1 : 1;
	return cmp_series(a, b);
}

/*
 * Sticky membership. While there is room, every series not yet a member
 * joins; when more are new than there is room for, the largest by bytes
 * join and the table is full from then on. So a series that was ever summed
 * into "other" never leaves it: every exported counter only grows.
 */
static int admit(struct tfc_metrics *m, struct series *s, size_t n)
{
	size_t room = m->policy.max_series - m->count, ncand = 0;
	struct series **cand = calloc(n ?: 1, sizeof(*cand));
	int err = 0;

	if (!cand)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s[i].member = set_has(m, &s[i].key);
		if (!s[i].member)
			cand[ncand++] = &s[i];
	}
	if (ncand > room)
		qsort(cand, ncand, sizeof(*cand), cmp_bytes_desc);
	for (size_t i = 0; i < ncand && i < room && !err; i++) {
		err = set_add(m, &cand[i]->key);
		cand[i]->member = 1;
	}
	free(cand);
	return err;
}

/*
 * Within each device/direction/family run of the sorted series, members
 * keep their place and the rest is summed into one "other" closing the run;
 * the order stays sorted without a second sort.
 */
static size_t fold_others(struct series *s, size_t n)
{
	size_t w = 0, i = 0;

	while (i < n) {
		struct series other = s[i];
		int any = 0;

		memset(other.key.addr, 0, sizeof(other.key.addr));
		other.key.plen = PLEN_OTHER;
		other.val.bytes = other.val.packets = 0;
		for (; i < n && !cmp_group(&other, &s[i]); i++) {
			if (s[i].member) {
				s[w++] = s[i];
				continue;
			}
			other.val.bytes += s[i].val.bytes;
			other.val.packets += s[i].val.packets;
			any = 1;
		}
		if (any)
			s[w++] = other;
	}
	return w;
}

static int apply_policy(struct tfc_metrics *m, struct series *s, size_t *n)
{
	int err;

	if (!m->policy.max_series)
		return 0;
	err = admit(m, s, *n);
	if (!err)
		*n = fold_others(s, *n);
	return err;
}

/*
 * The reasons a statistics row stands for: an interface's are those of its
 * frames; ifindex 0 holds cgroup_map_full alone (the cgroup programs' full
 * map, no interface's frame).
 */
static void stat_reasons(const struct stat_key *k, unsigned int *lo, unsigned int *hi)
{
	*lo = k->ifindex ? 0 : TFC_STAT_CGROUP_MAP_FULL;
	*hi = k->ifindex ? TFC_STAT_CGROUP_MAP_FULL : TFC_STAT_CGROUP_MAP_FULL + 1;
}

/* Every known reason for each interface and direction seen, zeros included,
 * so a reason's series exists before its first frame. */
static int stat_series(const struct tfc_metrics *m, const struct tfc_metrics_snapshot *s,
		       struct series **out, size_t *n)
{
	size_t total = s->n_stats * TFC_STAT_MAX, used = 0;
	struct series *ser = series_alloc(total);
	struct devices d;
	int err = devices_of(m, s, s->n_stats, stat_ifindex, &d);

	if (!err && !ser)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < s->n_stats; i++) {
		const struct stat_key *k = &s->stats[i].key;
		unsigned int lo, hi;

		stat_reasons(k, &lo, &hi);
		for (unsigned int r = lo; r < hi; r++) {
			key_init(&ser[used], &d, k->ifindex, k->direction, 0);
			ser[used].key.reason = (__u8)r;
			if (r == k->reason)
				ser[used].val = s->stats[i].val;
			used++;
		}
	}
	devices_free(&d);
	if (err) {
		free(ser);
		return err;
	}
	*out = ser;
	*n = aggregate(ser, used);
	return 0;
}

/* ---- text -------------------------------------------------------------- */

void tfc_metrics_escape(FILE *f, const char *s)
{
	if (!strpbrk(s, "\\\"\n")) {
		fputs(s, f);
		return;
	}
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static const char *family_str(__u8 family)
{
	return family == 4 ? "ipv4" : family == 6 ? "ipv6" : "unknown";
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void device_labels(FILE *f, const struct series_key *k)
{
	fputs("device=\"", f);
	tfc_metrics_escape(f, k->device);
	fprintf(f, "\",direction=\"%s\"", tfc_direction_str(k->direction));
}

static void group_labels(FILE *f, const struct series_key *k)
{
	device_labels(f, k);
	fprintf(f, ",family=\"%s\"", family_str(k->family));
}

static void ip_labels(FILE *f, const struct series_key *k)
{
	char buf[TFC_ADDR_STRLEN];

	group_labels(f, k);
	if (k->plen == PLEN_OTHER) {
		fputs(",address=\"other\"", f);
		return;
	}
	fprintf(f, ",address=\"%s", tfc_addr_str(k->family, k->addr, buf, sizeof(buf)));
	if (k->plen < (k->family == 4 ? 32 : 128))
		fprintf(f, "/%u", k->plen);
	fputc('"', f);
}

static void stat_labels(FILE *f, const struct series_key *k)
{
	const char *reason = tfc_stat_str(k->reason);

	device_labels(f, k);
	fprintf(f, ",reason=\"%s\"", reason ? reason : "unknown");
}

struct family {
	const char *name;
	const char *type;
	const char *help;
	int packets; /* which counter of the series */
	void (*labels)(FILE *f, const struct series_key *k);
};

static void emit(FILE *f, const struct family *fam, const struct series *s, size_t n)
{
	header(f, fam->name, fam->type, fam->help);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{", fam->name);
		fam->labels(f, &s[i].key);
		fprintf(f, "} %llu\n",
			(unsigned long long)(fam->packets ? s[i].val.packets : s[i].val.bytes));
	}
}

static void emit_value(FILE *f, const char *name, const char *type, const char *help, __u64 v)
{
	header(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static const struct family ip_families[] = {
	{"traffic_counter_bytes_total", "counter",
	 "Bytes counted by address (frame length at the hook, L2 header included), from the IP "
	 "and prefix maps; address=\"ADDR/LEN\" is a prefix (a kernel prefix row, or "
	 "--aggregate-prefix), "
	 "address=\"other\" sums the addresses beyond --max-series.",
	 0, ip_labels},
	{"traffic_counter_packets_total", "counter",
	 "Packets counted by address, from the IP and prefix maps; address=\"ADDR/LEN\" is a "
	 "prefix, "
	 "address=\"other\" sums the addresses beyond --max-series.",
	 1, ip_labels},
};

static const struct family flow_families[] = {
	{"traffic_counter_flow_bytes", "gauge",
	 "Bytes of the flows now in the flow map (a gauge: LRU eviction removes flows).", 0,
	 group_labels},
	{"traffic_counter_flow_packets", "gauge",
	 "Packets of the flows now in the flow map (a gauge: LRU eviction removes flows).", 1,
	 group_labels},
};

static const struct family stat_families[] = {
	{"traffic_counter_stat_packets_total", "counter",
	 "Frames by per-reason statistic: frames not counted under an address, and remarks "
	 "(l4_truncated, ipv6_ext_limit) on frames that were.",
	 1, stat_labels},
	{"traffic_counter_stat_bytes_total", "counter",
	 "Bytes by per-reason statistic: frames not counted under an address, and remarks "
	 "(l4_truncated, ipv6_ext_limit) on frames that were.",
	 0, stat_labels},
};

static void emit_build_info(FILE *f, const struct tfc_metrics_snapshot *s)
{
	header(f, "traffic_counter_build_info", "gauge",
	       "Always 1; the labels name the traffic-counter version, its map ABI and libbpf.");
	fputs("traffic_counter_build_info{version=\"", f);
	tfc_metrics_escape(f, s->version ? s->version : "unknown");
	fprintf(f, "\",abi_version=\"%d\",libbpf=\"", TFC_ABI_VERSION);
	tfc_metrics_escape(f, s->libbpf_version ? s->libbpf_version : "unknown");
	fputs("\"} 1\n", f);
}

/* The cgroup counts only where a cgroup map is pinned (a cgroup attachment). */
static void emit_control(FILE *f, const struct tfc_control *c, int cgroups)
{
	(void)cgroups; /* layouts before 3 have no cgroup counts */
	emit_value(f, "traffic_counter_dropped_packets_total", "counter",
		   "Packets not counted by address because the IP map was full (passed on all "
		   "the same).",
		   c->dropped_packets);
	emit_value(f, "traffic_counter_dropped_bytes_total", "counter",
		   "Bytes of the packets not counted by address because the IP map was full.",
		   c->dropped_bytes);
	emit_value(f, "traffic_counter_flow_inserts_total", "counter",
		   "New flow entries; evictions are this minus the flow map's entries.",
		   c->flow_inserts);
	emit_value(f, "traffic_counter_flow_insert_failures_total", "counter",
		   "Flow entries that could not be inserted.", c->flow_insert_failures);
	emit_value(f, "traffic_counter_flow_counting_enabled", "gauge",
		   "1 while flow counting is on ('traffic-counter set --enable-flow-map').",
		   !!(c->flags & TFC_FLAG_FLOW_COUNTERS));
#if TFC_ABI_VERSION >= 2
	emit_value(f, "traffic_counter_start_time_seconds", "gauge",
		   "When these counters started (Unix time); attach --migrate keeps it.",
		   c->created_ns / 1000000000ULL);
#endif
#if TFC_ABI_VERSION >= 3
	if (!cgroups)
		return;
	emit_value(f, "traffic_counter_cgroup_dropped_packets_total", "counter",
		   "Packets the cgroup programs could not count because the cgroup map was full "
		   "(allowed all the same).",
		   c->cgroup_dropped_packets);
	emit_value(f, "traffic_counter_cgroup_dropped_bytes_total", "counter",
		   "Bytes of the packets not counted by cgroup because the cgroup map was full.",
		   c->cgroup_dropped_bytes);
#endif
}

/* Only where an exporter ran on this flow map: absent means "no exporter". */
static void emit_ipfix(FILE *f, const struct tfc_ipfix_stats *x)
{
	emit_value(f, "traffic_counter_ipfix_records_sent_total", "counter",
		   "Flow records export-ipfix sent to its collector, all runs (a record counts "
		   "once its message was sent).",
		   x->records);
	emit_value(f, "traffic_counter_ipfix_flows_expired_total", "counter",
		   "Flow entries export-ipfix exported and removed from the flow map.", x->expired);
}

static void emit_map(FILE *f, const char *metric, const char *map, const struct tfc_metrics_map *mp,
		     int capacity)
{
	if (mp->present)
		fprintf(f, "%s{map=\"%s\"} %u\n", metric, map,
			capacity ? mp->capacity : mp->entries);
}

static void emit_maps(FILE *f, const struct tfc_metrics_snapshot *s)
{
	static const enum tfc_map_kind kinds[] = {TFC_MAP_IP, TFC_MAP_FLOW, TFC_MAP_STATS};
	static const char *const names[] = {"traffic_counter_map_entries",
					    "traffic_counter_map_capacity"};
	static const char *const helps[] = {"Entries now in each pinned map.",
					    "Capacity (max_entries) of each pinned map."};

	for (int g = 0; g < 2; g++) {
		header(f, names[g], "gauge", helps[g]);
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			emit_map(f, names[g], tfc_map_kind_name(kinds[i]), &s->maps[kinds[i]], g);
		emit_map(f, names[g], TFC_PREFIX_MAP_NAME, &s->prefix_map, g);
		emit_map(f, names[g], TFC_CGROUP_MAP_NAME, &s->cgroup_map, g);
	}
}

static void emit_policy(FILE *f, const struct tfc_metrics *m, size_t exported)
{
	emit_value(f, "traffic_counter_address_series", "gauge",
		   "Addresses or prefixes exported with a series of their own.", exported);
	emit_value(f, "traffic_counter_address_series_limit", "gauge",
		   "--max-series: beyond it addresses are summed into address=\"other\" (0: no "
		   "limit).",
		   m->policy.max_series);
}

static size_t own_series(const struct series *s, size_t n)
{
	size_t own = 0;

	for (size_t i = 0; i < n; i++)
		own += s[i].key.plen != PLEN_OTHER;
	return own;
}

static int write_ip(struct tfc_metrics *m, const struct tfc_metrics_snapshot *s, FILE *f)
{
	struct series *ser = NULL;
	size_t n = 0;
	int err;

	err = ip_series(m, s, &ser, &n);
	err = err ?: apply_policy(m, ser, &n);
	if (!err) {
		emit(f, &ip_families[0], ser, n);
		emit(f, &ip_families[1], ser, n);
		emit_policy(f, m, own_series(ser, n));
	}
	free(ser);
	return err;
}

typedef int (*series_fn)(const struct tfc_metrics *m, const struct tfc_metrics_snapshot *s,
			 struct series **out, size_t *n);

static int write_pair(const struct tfc_metrics *m, const struct tfc_metrics_snapshot *s, FILE *f,
		      series_fn build, const struct family fams[2])
{
	struct series *ser = NULL;
	size_t n = 0;
	int err = build(m, s, &ser, &n);

	if (!err) {
		emit(f, &fams[0], ser, n);
		emit(f, &fams[1], ser, n);
	}
	free(ser);
	return err;
}

int tfc_metrics_write(struct tfc_metrics *m, const struct tfc_metrics_snapshot *s, FILE *f)
{
	int err;

	emit_build_info(f, s);
	err = write_ip(m, s, f);
	if (!err && s->maps[TFC_MAP_FLOW].present)
		err = write_pair(m, s, f, flow_series, flow_families);
	if (!err && s->maps[TFC_MAP_STATS].present)
		err = write_pair(m, s, f, stat_series, stat_families);
	if (!err && s->cgroup_map.present)
		err = tfc_metrics_cgroup_write(m->cgroups, m->policy.max_series, s->cgroups,
					       s->n_cgroups, tfc_metrics_escape, f);
	if (err)
		return err;
	if (s->control)
		emit_control(f, s->control, s->cgroup_map.present);
	if (s->ipfix)
		emit_ipfix(f, s->ipfix);
	emit_maps(f, s);
	return ferror(f) ? -EIO : 0;
}

int tfc_metrics_prefix_parse(const char *s, __u8 *v4, __u8 *v6)
{
	unsigned long a, b = 128;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	a = strtoul(s, &end, 10);
	if (*end == ',') {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		b = strtoul(end + 1, &end, 10);
	}
	if (*end || a > 32 || b > 128)
		return -EINVAL;
	*v4 = (__u8)a;
	*v6 = (__u8)b;
	return 0;
}
