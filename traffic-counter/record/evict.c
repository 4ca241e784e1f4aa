// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* record --evict-idle: lookup-and-delete of idle IP-map entries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "evict.h"
#include "maps/maps.h"
#include "util/log.h"

/* The keys to evict, copied out: deleting from state moves its slots. */
static int idle_keys(const struct rec_table *state, time_t now, long long idle, struct ip_key **out,
		     size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < state->cap; i++) {
		const struct rec_slot *s = &state->slots[i];

		/*
		 * Addresses only: a prefix row may live in the prefix map, where
		 * a delete from the IP map would not find it, and its next read
		 * would count it all again.
		 */
		if (!s->used || s->key.kind != REC_KEY_IP || s->key.ip.is_prefix ||
		    s->changed > now - idle)
			continue;
		if (*n == cap) {
			struct ip_key *k = realloc(*out, (cap = cap ? cap * 2 : 256) * sizeof(*k));

			if (!k)
				return -ENOMEM;
			*out = k;
		}
		(*out)[(*n)++] = s->key.ip;
	}
	return 0;
}

static int remember_gone(struct rec_evict *ev, const struct rec_key *k)
{
	if (ev->n_gone == ev->cap_gone) {
		size_t cap = ev->cap_gone ? ev->cap_gone * 2 : 256;
		struct rec_key *g = realloc(ev->gone, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		ev->gone = g;
		ev->cap_gone = cap;
	}
	ev->gone[ev->n_gone++] = *k;
	return 0;
}

/* The final value, read and deleted at once; -ENOENT if already gone. */
static int take(int fd, int percpu, int ncpu, const struct ip_key *k, struct counters *vals,
		struct counters *out)
{
	if (bpf_map_lookup_and_delete_elem(fd, k, vals))
		return -errno;
	if (percpu)
		tfc_counters_sum(vals, ncpu, out);
	else
		*out = vals[0];
	return 0;
}

static int evict_one(struct rec_evict *ev, int fd, int percpu, int ncpu, struct counters *vals,
		     const struct ip_key *k, struct rec_table *state, struct rec_table *pending,
		     __s64 hour_ts, __s64 m5_ts)
{
	struct rec_key rk = rec_key_ip(k);
	struct rec_slot *s = rec_table_find(state, &rk, 0);
	struct counters now, d;
	int err;

	if (!s)
		return 0;
	err = take(fd, percpu, ncpu, k, vals, &now);
	if (err == -ENOENT) {
		/* Deleted by someone else: what it had since our read is lost to all. */
		rec_table_del(state, s);
		return remember_gone(ev, &rk);
	}
	if (err)
		return err;
	rec_delta(&s->val, &now, &d);
	err = rec_pending_ip(pending, k, &d, hour_ts, m5_ts);
	if (err)
		return err;
	rec_table_del(state, s);
	ev->evicted++;
	return remember_gone(ev, &rk) ?: 1;
}

int rec_evict_idle(struct rec_evict *ev, struct rec_table *state, struct rec_table *pending,
		   time_t now, __s64 hour_ts, __s64 m5_ts)
{
	struct bpf_map_info info;
	struct counters *vals = NULL;
	struct ip_key *keys = NULL;
	int fd, ncpu, percpu, n_done = 0, err;
	size_t n = 0;

	err = idle_keys(state, now, ev->idle, &keys, &n);
	if (err || !n)
		goto out_keys;
	fd = tfc_map_open_flags(ev->pin, TFC_MAP_IP, NULL, &info, TFC_OPEN_RDWR);
	if (fd < 0) {
		err = fd;
		goto out_keys;
	}
	ncpu = libbpf_num_possible_cpus();
	percpu = info.type == BPF_MAP_TYPE_PERCPU_HASH || info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	vals = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*vals));
	if (ncpu <= 0 || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && err >= 0; i++) {
		err = evict_one(ev, fd, percpu, ncpu, vals, &keys[i], state, pending, hour_ts,
				m5_ts);
		n_done += err > 0;
	}
	if (err < 0)
		tfc_err("evicting idle entries from %s: %s", ev->pin, strerror(-err));
	/* Room was made: programs that found the map full may insert again. */
	if (n_done && ev->control)
		tfc_ip_map_frees_bump(ev->control);
out:
	free(vals);
	close(fd);
out_keys:
	free(keys);
	return err < 0 ? err : n_done;
}
