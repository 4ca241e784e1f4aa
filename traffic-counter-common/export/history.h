/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef TFC_HISTORY_H
#define TFC_HISTORY_H

/*
 * The history database that `record` writes and `report` and `status` read
 * (openspec/specs/history.md, openspec/changes/0020-history.md): one SQLite
 * file in WAL mode, so a report runs while record writes.
 */
#include <time.h>
#include <sqlite3.h>

#define TFC_HISTORY_DB_DEFAULT "/var/lib/traffic-counter/history.db"

/* PRAGMA user_version of the schema this binary writes and reads. */
#define TFC_HISTORY_SCHEMA 2

/* Bucket resolutions, finest first; the value is the `res` column. */
enum tfc_hist_res {
	TFC_RES_5MIN,
	TFC_RES_HOUR,
	TFC_RES_DAY,
	TFC_RES_MONTH,
	TFC_RES_YEAR,
	TFC_RES_MAX,
};

/* Default retention per resolution, in seconds; 0 keeps forever. */
extern const long long tfc_history_retention_default[TFC_RES_MAX];

enum tfc_history_open_flags {
	TFC_HISTORY_RDONLY = 0,
	TFC_HISTORY_CREATE = 1, /* read-write; creates the file and the schema */
	TFC_HISTORY_QUIET = 2,	/* no message: the caller shows the failure itself */
};

/*
 * Opens the database: read-only, or read-write creating the file (0600) and
 * the schema, and upgrading an older schema in one transaction. Refuses a
 * newer schema, a file that is not SQLite and a corrupt one, with one line
 * naming the file. 0 or a negative errno; *out is closed on failure.
 */
int tfc_history_open(const char *path, int flags, sqlite3 **out);

/* "5min", "hour", "day", "month", "year"; NULL past the end. */
const char *tfc_history_res_name(enum tfc_hist_res res);

/*
 * The start of the bucket of `res` holding `t`, as vnStat's: in local time
 * (TZ), so a day runs from local midnight to local midnight and is 23 or 25
 * hours long across a daylight-saving change. 5 minutes are aligned in UTC
 * (every zone's offset is a multiple of 15 minutes).
 */
time_t tfc_history_bucket(enum tfc_hist_res res, time_t t);

/* The start of the bucket after the one starting at `start`. */
time_t tfc_history_bucket_next(enum tfc_hist_res res, time_t start);

/* Runs one statement with no result rows; logs "PATH: what: error". */
int tfc_history_exec(sqlite3 *db, const char *sql);

#endif /* TFC_HISTORY_H */
