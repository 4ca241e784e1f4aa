/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * record's side of the history database: what it read last (epoch and
 * last_read) loaded at start, and a save: the pending deltas into buckets at
 * every resolution, the new last_read rows and the epoch, in one
 * transaction; then incremental pruning past the retention.
 */
#ifndef TFC_RECORD_DB_H
#define TFC_RECORD_DB_H

#include <sqlite3.h>

#include "export/history.h"
#include "util/cgroup_names.h"
#include "delta.h"

/* The `other` row of a bucket: what the per-bucket address cap left out. */
#define REC_OTHER_ADDR "other"

struct rec_db {
	sqlite3 *db;
	sqlite3_stmt *st[11];
};

/* Opens (creating) the database and prepares the statements. */
int rec_db_open(struct rec_db *d, const char *path);
void rec_db_close(struct rec_db *d);

/*
 * The epoch of the last save (*have = 0 on a new database) and last_read
 * into `state` (ts 0, dirty 0, changed = now).
 */
int rec_db_load(struct rec_db *d, struct rec_epoch *e, int *have, struct rec_table *state,
		time_t now);

struct rec_save {
	const struct rec_table *pending; /* IP deltas at hour ts, the rest at 5 minutes */
	struct rec_table *state;	 /* dirty slots are written, then made clean */
	const struct rec_epoch *epoch;
	int reset;		    /* a new epoch: last_read is replaced, not updated */
	const struct rec_key *gone; /* evicted: their last_read rows go */
	size_t n_gone;
	__u32 max_addresses; /* per bucket, interface and direction */
	/* Names cgroup rows as they are saved; NULL: by id alone ("id:N"). */
	struct tfc_cgroup_names *cg_names;
	time_t now;
};

/* One transaction: all of it or none (then nothing in memory changes). */
int rec_db_save(struct rec_db *d, const struct rec_save *s);

/*
 * Deletes buckets older than their resolution's retention (0: forever), one
 * bucket a statement and at most `budget` buckets a call, so no lock is held
 * long. Returns the number of buckets deleted or a negative errno.
 */
int rec_db_prune(struct rec_db *d, const long long retention[TFC_RES_MAX], time_t now, int budget);

#endif /* TFC_RECORD_DB_H */
