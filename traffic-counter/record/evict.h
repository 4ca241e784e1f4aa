/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * record --evict-idle: IP-map entries with no traffic for a while are read
 * and deleted in one step per key (BPF_MAP_LOOKUP_AND_DELETE_ELEM), so a
 * packet counted between a read and a delete cannot be lost: the final
 * value is what was deleted, and its delta goes into the save being made.
 */
#ifndef TFC_RECORD_EVICT_H
#define TFC_RECORD_EVICT_H

#include "delta.h"

struct rec_evict {
	const char *pin;     /* the IP map, opened read-write */
	const char *control; /* its control map: ip_map_frees bumped after deletes */
	long long idle;	     /* seconds without growth */
	struct rec_key *gone;
	size_t n_gone, cap_gone;
	unsigned long long evicted; /* all runs of this process */
};

/*
 * Evicts the idle entries of `state` (changed <= now - idle): their final
 * deltas into `pending` at hour_ts/m5_ts, their keys appended to gone and
 * removed from state. Returns the number evicted or a negative errno.
 */
int rec_evict_idle(struct rec_evict *ev, struct rec_table *state, struct rec_table *pending,
		   time_t now, __s64 hour_ts, __s64 m5_ts);

#endif /* TFC_RECORD_EVICT_H */
