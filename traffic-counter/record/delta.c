// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* record's arithmetic: epochs, deltas, and its hash tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "delta.h"

enum rec_epoch_change rec_epoch_compare(const struct rec_epoch *last, const struct rec_epoch *now)
{
	/* An unknown boot id ("": unreadable) is no evidence of a reboot. */
	int rebooted = last->boot_id[0] && now->boot_id[0] && strcmp(last->boot_id, now->boot_id);

	if (rebooted || last->created_ns != now->created_ns || now->migrations < last->migrations)
		return REC_EPOCH_NEW;
	return now->migrations > last->migrations ? REC_EPOCH_MIGRATED : REC_EPOCH_SAME;
}

int rec_delta(const struct counters *last, const struct counters *now, struct counters *out)
{
	if (now->packets < last->packets || now->bytes < last->bytes) {
		*out = *now;
		return 1;
	}
	out->packets = now->packets - last->packets;
	out->bytes = now->bytes - last->bytes;
	return 0;
}

struct rec_key rec_key_ip(const struct ip_key *k)
{
	struct rec_key r;

	memset(&r, 0, sizeof(r));
	r.kind = REC_KEY_IP;
	r.ip = *k;
	return r;
}

struct rec_key rec_key_stat(const struct stat_key *k)
{
	struct rec_key r;

	memset(&r, 0, sizeof(r));
	r.kind = REC_KEY_STAT;
	r.stat = *k;
	return r;
}

struct rec_key rec_key_cgroup(const struct cgroup_key *k)
{
	struct rec_key r;

	memset(&r, 0, sizeof(r));
	r.kind = REC_KEY_CGROUP;
	r.cg = *k;
	return r;
}

struct rec_key rec_key_iface(__u32 ifindex, __u8 direction, enum rec_key_kind kind)
{
	struct rec_key r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.ip.ifindex = ifindex;
	r.ip.direction = direction;
	return r;
}

/* A multiply-xorshift over the key's four words and the bucket. */
static size_t slot_hash(const struct rec_key *key, __s64 ts)
{
	__u64 w[sizeof(*key) / 8], h = (__u64)ts * 0x9e3779b97f4a7c15ULL;

	memcpy(w, key, sizeof(w));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	return (size_t)(h ^ (h >> 29));
}

static int slot_is(const struct rec_slot *s, const struct rec_key *key, __s64 ts)
{
	return s->ts == ts && !memcmp(&s->key, key, sizeof(*key));
}

void rec_table_free(struct rec_table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void rec_table_clear(struct rec_table *t)
{
	if (t->slots)
		memset(t->slots, 0, t->cap * sizeof(*t->slots));
	t->n = 0;
}

struct rec_slot *rec_table_find(const struct rec_table *t, const struct rec_key *key, __s64 ts)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = slot_hash(key, ts) & (t->cap - 1); t->slots[i].used; i = (i + 1) & (t->cap - 1))
		if (slot_is(&t->slots[i], key, ts))
			return &t->slots[i];
	return NULL;
}

/* Doubles the table (or makes the first one): load stays under 3/4. */
static int grow(struct rec_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct rec_slot *old = t->slots, *slots = calloc(cap, sizeof(*slots));
	size_t old_cap = t->cap;

	if (!slots)
		return -ENOMEM;
	t->slots = slots;
	t->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (!old[i].used)
			continue;
		for (j = slot_hash(&old[i].key, old[i].ts) & (cap - 1); slots[j].used;
		     j = (j + 1) & (cap - 1))
			;
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

struct rec_slot *rec_table_get(struct rec_table *t, const struct rec_key *key, __s64 ts)
{
	struct rec_slot *s = rec_table_find(t, key, ts);
	size_t i;

	if (s)
		return s;
	if ((t->n + 1) * 4 > t->cap * 3 && grow(t))
		return NULL;
	for (i = slot_hash(key, ts) & (t->cap - 1); t->slots[i].used; i = (i + 1) & (t->cap - 1))
		;
	s = &t->slots[i];
	memset(s, 0, sizeof(*s));
	s->key = *key;
	s->ts = ts;
	s->used = 1;
	t->n++;
	return s;
}

/* Backward shift: the slots after the hole that hash at or before it move
 * into it, so every probe sequence stays unbroken without tombstones. */
void rec_table_del(struct rec_table *t, struct rec_slot *s)
{
	size_t mask = t->cap - 1, hole = (size_t)(s - t->slots), i = hole;

	for (;;) {
		size_t home;

		i = (i + 1) & mask;
		if (!t->slots[i].used)
			break;
		home = slot_hash(&t->slots[i].key, t->slots[i].ts) & mask;
		/* Movable when home is not cyclically in (hole, i]. */
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && home <= hole && home > i)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
	t->n--;
}

int rec_pending_add(struct rec_table *t, const struct rec_key *key, __s64 ts,
		    const struct counters *d)
{
	struct rec_slot *s;

	if (!d->packets && !d->bytes)
		return 0;
	s = rec_table_get(t, key, ts);
	if (!s)
		return -ENOMEM;
	s->val.packets += d->packets;
	s->val.bytes += d->bytes;
	return 0;
}

int rec_duration_parse(const char *s, int allow_forever, long long *out)
{
	static const struct {
		char unit;
		long long secs;
	} units[] = {{'s', 1},	   {'m', 60},	     {'h', 3600},
		     {'d', 86400}, {'w', 7 * 86400}, {'y', 365 * 86400}};
	long long v, mult = 1;
	char *end;

	if (allow_forever && !strcmp(s, "forever")) {
		*out = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 1)
		return -EINVAL;
	if (*end) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]) && units[i].unit != *end; i++)
			;
		if (i == sizeof(units) / sizeof(units[0]) || end[1])
			return -EINVAL;
		mult = units[i].secs;
	}
	if (v > (1LL << 40) / mult) /* beyond 34,000 years: a typo */
		return -EINVAL;
	*out = v * mult;
	return 0;
}

int rec_pending_ip(struct rec_table *pending, const struct ip_key *k, const struct counters *d,
		   __s64 hour_ts, __s64 m5_ts)
{
	struct rec_key a = rec_key_ip(k),
		       i = rec_key_iface(k->ifindex, k->direction, REC_KEY_IFACE);

	return rec_pending_add(pending, &a, hour_ts, d) ?: rec_pending_add(pending, &i, m5_ts, d);
}
