// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPFIX export of the flow map, without the network: per-flow export state,
 * deltas, active/idle decisions, clocks and the records libfixbuf encodes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <glib.h>

#include "ipfix.h"
#include "util/log.h"

struct tfc_ipfix_table {
	GHashTable *flows; /* struct flow_key * (inside the value) -> struct tfc_ipfix_flow * */
	__u32 gen;
};

/* FNV-1a over the whole key: its padding is always zero (ABI). */
static guint key_hash(gconstpointer p)
{
	const unsigned char *b = p;
	__u32 h = 2166136261u;

	for (size_t i = 0; i < sizeof(struct flow_key); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct flow_key));
}

struct tfc_ipfix_table *tfc_ipfix_table_new(void)
{
	struct tfc_ipfix_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->flows = g_hash_table_new_full(key_hash, key_equal, NULL, free);
	return t;
}

void tfc_ipfix_table_free(struct tfc_ipfix_table *t)
{
	if (!t)
		return;
	g_hash_table_destroy(t->flows);
	free(t);
}

size_t tfc_ipfix_table_size(const struct tfc_ipfix_table *t)
{
	return g_hash_table_size(t->flows);
}

const struct tfc_ipfix_flow *tfc_ipfix_table_find(const struct tfc_ipfix_table *t,
						  const struct flow_key *key)
{
	return g_hash_table_lookup(t->flows, key);
}

/* A state that has exported nothing of this entry yet. */
static void flow_reset(struct tfc_ipfix_flow *f, const struct flow_key *key,
		       const struct flow_value *v)
{
	memset(f, 0, sizeof(*f));
	f->key = *key;
	f->first_seen_ns = v->first_seen_ns;
	f->exported_ns = v->first_seen_ns;
}

/*
 * The state of this entry, created or reset as needed. A different first
 * packet time, or totals below what was exported, mean the entry was
 * removed (LRU) and created again: nothing of the new one was exported.
 * NULL when out of memory.
 */
static struct tfc_ipfix_flow *track(struct tfc_ipfix_table *t, const struct flow_key *key,
				    const struct flow_value *v, struct tfc_ipfix_counts *c)
{
	struct tfc_ipfix_flow *f = g_hash_table_lookup(t->flows, key);

	if (!f) {
		f = malloc(sizeof(*f));
		if (!f)
			return NULL;
		flow_reset(f, key, v);
		g_hash_table_insert(t->flows, &f->key, f);
	} else if (f->first_seen_ns != v->first_seen_ns || v->bytes < f->bytes ||
		   v->packets < f->packets) {
		c->vanished++;
		flow_reset(f, key, v);
	}
	f->gen = t->gen;
	return f;
}

static void forget(struct tfc_ipfix_table *t, const struct flow_key *key)
{
	g_hash_table_remove(t->flows, key);
}

enum tfc_ipfix_end tfc_ipfix_decide(const struct tfc_ipfix_timeouts *to,
				    const struct tfc_ipfix_flow *f, const struct flow_value *v,
				    __u64 now_ns)
{
	/* Times from another CPU can be a little ahead of our clock read. */
	if (now_ns > v->last_seen_ns && now_ns - v->last_seen_ns >= to->idle_ns)
		return TFC_IPFIX_END_IDLE;
	if (v->packets == f->packets && v->bytes == f->bytes)
		return TFC_IPFIX_KEEP;
	if (now_ns > f->exported_ns && now_ns - f->exported_ns >= to->active_ns)
		return TFC_IPFIX_END_ACTIVE;
	return TFC_IPFIX_KEEP;
}

void tfc_ipfix_delta(const struct tfc_ipfix_flow *f, const struct flow_value *v,
		     struct tfc_ipfix_record *r)
{
	memset(r, 0, sizeof(*r));
	r->key = f->key;
	r->bytes = v->bytes - f->bytes;
	r->packets = v->packets - f->packets;
	/*
	 * The map keeps no time of the first packet after an export: the
	 * previous export is the best bound (packets before it were in it).
	 */
	r->start_ns = f->packets ? f->exported_ns : v->first_seen_ns;
	r->end_ns = v->last_seen_ns;
	if (r->start_ns > r->end_ns)
		r->start_ns = r->end_ns;
	r->tcp_flags = v->tcp_flags;
}

static int emit(const struct tfc_ipfix_io *io, const struct tfc_ipfix_flow *f,
		const struct flow_value *v, enum tfc_ipfix_end why, struct tfc_ipfix_counts *c)
{
	struct tfc_ipfix_record r;
	int err;

	tfc_ipfix_delta(f, v, &r);
	/* Nothing new since the last export: a record would only add a flow. */
	if (!r.packets && !r.bytes)
		return 0;
	r.end_reason = why;
	err = io->emit(io->ctx, &r);
	if (err)
		return err;
	c->records++;
	c->packets += r.packets;
	c->bytes += r.bytes;
	return 0;
}

/*
 * Idle: the final value comes from the delete itself, so a packet counted
 * after the dump is in the record, not lost. Already gone: evicted.
 */
static int expire(struct tfc_ipfix_table *t, struct tfc_ipfix_flow *f, enum tfc_ipfix_end why,
		  const struct tfc_ipfix_io *io, struct tfc_ipfix_counts *c)
{
	struct flow_value v;
	int err = io->take(io->ctx, &f->key, &v);

	if (err == -ENOENT) {
		c->vanished++;
		forget(t, &f->key);
		return 0;
	}
	if (err)
		return err;
	c->expired++;
	/* Re-created between the dump and the delete: all of it is new. */
	if (v.first_seen_ns != f->first_seen_ns || v.packets < f->packets)
		flow_reset(f, &f->key, &v);
	err = emit(io, f, &v, why, c);
	forget(t, &f->key);
	return err;
}

static int scan_one(struct tfc_ipfix_table *t, const struct tfc_ipfix_timeouts *to,
		    const struct tfc_flow_entry *e, __u64 now_ns, const struct tfc_ipfix_io *io,
		    struct tfc_ipfix_counts *c)
{
	struct tfc_ipfix_flow *f = track(t, &e->key, &e->val, c);
	int err;

	if (!f)
		return -ENOMEM;
	switch (tfc_ipfix_decide(to, f, &e->val, now_ns)) {
	case TFC_IPFIX_END_IDLE:
		return expire(t, f, TFC_IPFIX_END_IDLE, io, c);
	case TFC_IPFIX_END_ACTIVE:
		err = emit(io, f, &e->val, TFC_IPFIX_END_ACTIVE, c);
		if (err)
			return err;
		f->bytes = e->val.bytes;
		f->packets = e->val.packets;
		f->exported_ns = now_ns;
		return 0;
	default:
		return 0;
	}
}

static gboolean stale(gpointer key, gpointer value, gpointer data)
{
	const struct tfc_ipfix_flow *f = value;
	struct tfc_ipfix_table *t = data;

	(void)key;
	return f->gen != t->gen;
}

/* Entries not in this dump left the map without us: the LRU evicted them. */
static void sweep(struct tfc_ipfix_table *t, struct tfc_ipfix_counts *c)
{
	c->vanished += g_hash_table_foreach_remove(t->flows, stale, t);
}

int tfc_ipfix_scan(struct tfc_ipfix_table *t, const struct tfc_ipfix_timeouts *to,
		   const struct tfc_flow_entry *e, size_t n, __u64 now_ns,
		   const struct tfc_ipfix_io *io, struct tfc_ipfix_counts *c)
{
	int err = 0;

	t->gen++;
	for (size_t i = 0; i < n && !err; i++)
		err = scan_one(t, to, &e[i], now_ns, io, c);
	/* A cycle cut short did not see every entry: sweeping would drop live state. */
	if (!err)
		sweep(t, c);
	return err;
}

int tfc_ipfix_flush(struct tfc_ipfix_table *t, const struct tfc_flow_entry *e, size_t n,
		    const struct tfc_ipfix_io *io, struct tfc_ipfix_counts *c)
{
	int err = 0;

	t->gen++;
	for (size_t i = 0; i < n && !err; i++) {
		struct tfc_ipfix_flow *f = track(t, &e[i].key, &e[i].val, c);

		err = f ? expire(t, f, TFC_IPFIX_END_FORCED, io, c) : -ENOMEM;
	}
	return err;
}

/* ---- time ------------------------------------------------------------------ */

static __s64 ts_ns(const struct timespec *ts)
{
	return (__s64)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/*
 * Of three tries, the pair read closest together (monotonic, realtime,
 * monotonic), with realtime taken against the middle of the two monotonic
 * reads: a preemption between the reads would otherwise skew every
 * timestamp of the cycle.
 */
int tfc_ipfix_clock_offset(__s64 *offset_ns)
{
	__s64 best = -1;

	for (int i = 0; i < 3; i++) {
		struct timespec m1, rt, m2;
		__s64 span;

		if (clock_gettime(CLOCK_MONOTONIC, &m1) || clock_gettime(CLOCK_REALTIME, &rt) ||
		    clock_gettime(CLOCK_MONOTONIC, &m2))
			return -errno;
		span = ts_ns(&m2) - ts_ns(&m1);
		if (best < 0 || span < best) {
			best = span;
			*offset_ns = ts_ns(&rt) - (ts_ns(&m1) + span / 2);
		}
	}
	return 0;
}

__u64 tfc_ipfix_wall_ms(__u64 mono_ns, __s64 offset_ns)
{
	__s64 wall = (__s64)mono_ns + offset_ns;

	return wall > 0 ? (__u64)wall / 1000000 : 0;
}

__u64 tfc_ipfix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts_ns(&ts);
}

/* ---- records --------------------------------------------------------------- */

static void fill_common(const struct tfc_ipfix_record *r, __s64 offset_ns,
			struct tfc_ipfix_rec_common *o)
{
	memset(o, 0, sizeof(*o));
	o->start_ms = tfc_ipfix_wall_ms(r->start_ns, offset_ns);
	o->end_ms = tfc_ipfix_wall_ms(r->end_ns, offset_ns);
	o->packets = r->packets;
	o->l2_octets = r->bytes;
	o->octets = r->bytes;
	if (r->key.direction == TFC_DIR_EGRESS)
		o->egress_if = r->key.ifindex;
	else
		o->ingress_if = r->key.ifindex;
	o->sport = r->key.sport;
	o->dport = r->key.dport;
	/* tcpControlBits carries the flags byte for TCP only (RFC 7125). */
	o->tcp_flags = r->key.proto == IPPROTO_TCP ? (__u16)(r->tcp_flags & 0xff) : 0;
	o->proto = r->key.proto;
	o->direction = r->key.direction == TFC_DIR_EGRESS;
	o->end_reason = r->end_reason;
}

int tfc_ipfix_rec_fill(const struct tfc_ipfix_record *r, __s64 offset_ns, struct tfc_ipfix_rec4 *r4,
		       struct tfc_ipfix_rec6 *r6)
{
	__u32 a;

	switch (r->key.family) {
	case 4:
		fill_common(r, offset_ns, &r4->c);
		memcpy(&a, r->key.src, sizeof(a));
		r4->src = ntohl(a);
		memcpy(&a, r->key.dst, sizeof(a));
		r4->dst = ntohl(a);
		return 4;
	case 6:
		fill_common(r, offset_ns, &r6->c);
		memcpy(r6->src, r->key.src, sizeof(r6->src));
		memcpy(r6->dst, r->key.dst, sizeof(r6->dst));
		return 6;
	default:
		return -EAFNOSUPPORT;
	}
}

/* ---- evictions ------------------------------------------------------------- */

__u64 tfc_ipfix_evictions(__u64 flow_inserts, __u64 entries, __u64 expired)
{
	__u64 gone = entries + expired;

	return flow_inserts > gone ? flow_inserts - gone : 0;
}

int tfc_ipfix_stats_pin(const char *pin_dir, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", pin_dir, TFC_IPFIX_STATS_NAME);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A lookup copies value_size bytes: only a map of our shape may be read. */
static int stats_check(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(struct tfc_ipfix_stats) || info.max_entries != 1)
		return -EPROTO;
	return 0;
}

/*
 * The new pin gets the control map's group and group read bit, so the
 * readers PIN_GROUP lets read the maps (serve) read the exporter's counts.
 */
static void share_like_control(const char *pin_dir, const char *pin)
{
	char control[PATH_MAX];
	struct stat st;

	if (snprintf(control, sizeof(control), "%s/%s", pin_dir, TFC_CONTROL_MAP_NAME) >=
		    (int)sizeof(control) ||
	    stat(control, &st) || !(st.st_mode & S_IRGRP))
		return;
	if (fchownat(AT_FDCWD, pin, (uid_t)-1, st.st_gid, AT_SYMLINK_NOFOLLOW) || chmod(pin, 0640))
		tfc_warn("cannot give %s the group of %s: %s", pin, control, strerror(errno));
}

int tfc_ipfix_stats_open(const char *pin_dir, int create)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = create ? 0 : BPF_F_RDONLY);
	struct tfc_ipfix_stats zero_stats = {};
	char pin[PATH_MAX];
	__u32 zero = 0;
	int fd, err;

	err = tfc_ipfix_stats_pin(pin_dir, pin, sizeof(pin));
	if (err)
		return err;
	fd = bpf_obj_get_opts(pin, &opts);
	if (fd < 0 && errno == ENOENT && create) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, TFC_IPFIX_STATS_NAME, sizeof(__u32),
				    sizeof(struct tfc_ipfix_stats), 1, NULL);
		if (fd < 0)
			return -errno;
		if (bpf_map_update_elem(fd, &zero, &zero_stats, 0) || bpf_obj_pin(fd, pin)) {
			err = -errno;
			close(fd);
			return err;
		}
		share_like_control(pin_dir, pin);
		return fd;
	}
	if (fd < 0)
		return -errno;
	err = stats_check(fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int tfc_ipfix_stats_read(const char *pin_dir, __u32 flow_map_id, struct tfc_ipfix_stats *out)
{
	__u32 zero = 0;
	int fd, err;

	fd = tfc_ipfix_stats_open(pin_dir, 0);
	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &zero, out) ? -errno : 0;
	close(fd);
	if (!err && out->flow_map_id != flow_map_id)
		err = -ENOENT; /* counts of an older flow map */
	return err;
}

int tfc_ipfix_expired_read(const char *pin_dir, __u32 flow_map_id, __u64 *expired)
{
	struct tfc_ipfix_stats s;
	int err;

	*expired = 0;
	err = tfc_ipfix_stats_read(pin_dir, flow_map_id, &s);
	if (err == -ENOENT)
		return 0;
	if (!err)
		*expired = s.expired;
	return err;
}

/* ---- the collector's address ---------------------------------------------- */
