// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The history database: schema, opening, buckets in local time. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "history.h"
#include "util/log.h"

#define DAY (24LL * 3600)

#define hist_err(quiet, ...)                                                                       \
	do {                                                                                       \
		if (!(quiet))                                                                      \
			tfc_err(__VA_ARGS__);                                                      \
	} while (0)

const long long tfc_history_retention_default[TFC_RES_MAX] = {
	[TFC_RES_5MIN] = 35 * DAY,				 /* a month's 95th percentile */
	[TFC_RES_HOUR] = 14 * DAY,    [TFC_RES_DAY] = 400 * DAY, /* this day last year */
	[TFC_RES_MONTH] = 1827 * DAY,				 /* five years */
	[TFC_RES_YEAR] = 0,					 /* forever */
};

/*
 * Version 1. Traffic rows are deltas summed into buckets: (res, ts) is the
 * resolution and the bucket's start (Unix seconds). Interfaces are named as
 * the readers name them. last_read holds what record read last, in the
 * transaction of the deltas it produced, keyed by record's own encoding of
 * the map key. Addresses are kept at hour and coarser: 5-minute rows per
 * address would be 12 times the hour rows for a figure nobody bills on.
 */
static const char schema_v1[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE last_read (key BLOB PRIMARY KEY, packets INTEGER NOT NULL,"
	" bytes INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE iface_traffic (res INTEGER NOT NULL, ts INTEGER NOT NULL,"
	" iface TEXT NOT NULL, dir INTEGER NOT NULL, packets INTEGER NOT NULL,"
	" bytes INTEGER NOT NULL, PRIMARY KEY (res, ts, iface, dir)) WITHOUT ROWID;"
	"CREATE TABLE reason_traffic (res INTEGER NOT NULL, ts INTEGER NOT NULL,"
	" iface TEXT NOT NULL, dir INTEGER NOT NULL, reason TEXT NOT NULL,"
	" packets INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" PRIMARY KEY (res, ts, iface, dir, reason)) WITHOUT ROWID;"
	"CREATE TABLE addr_traffic (res INTEGER NOT NULL, ts INTEGER NOT NULL,"
	" iface TEXT NOT NULL, dir INTEGER NOT NULL, addr TEXT NOT NULL,"
	" prefix_len INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" PRIMARY KEY (res, ts, iface, dir, addr, prefix_len)) WITHOUT ROWID;"
	"CREATE INDEX addr_traffic_addr ON addr_traffic (addr, res, ts);";

/*
 * Version 2 adds traffic per cgroup, at hour and coarser as addresses. A
 * row keeps the names the cgroup's path gave when it was recorded, so a
 * cgroup removed since still reads by unit, container and pod. Rows are
 * keyed by path: a cgroup made again under the same path (a restarted
 * unit) adds to the same rows. cgroup_names keeps the last names of each
 * cgroup id, for a record started after a cgroup it counted was removed.
 */
static const char schema_v2[] =
	"CREATE TABLE cgroup_traffic (res INTEGER NOT NULL, ts INTEGER NOT NULL,"
	" cgroup TEXT NOT NULL, dir INTEGER NOT NULL, unit TEXT NOT NULL,"
	" container TEXT NOT NULL, pod TEXT NOT NULL, namespace TEXT NOT NULL,"
	" packets INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" PRIMARY KEY (res, ts, cgroup, dir)) WITHOUT ROWID;"
	"CREATE TABLE cgroup_names (id INTEGER PRIMARY KEY, cgroup TEXT NOT NULL,"
	" unit TEXT NOT NULL, container TEXT NOT NULL, pod TEXT NOT NULL,"
	" namespace TEXT NOT NULL);";

int tfc_history_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	tfc_err("%s: %s", sqlite3_db_filename(db, "main") ?: "history", msg ?: "error");
	sqlite3_free(msg);
	return -EIO;
}

static int user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc;
}

/* One transaction from any older version to this one; v0 is a new file. */
static int upgrade(sqlite3 *db, int from)
{
	char sql[64];
	int err;

	err = tfc_history_exec(db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	if (from < 1)
		err = tfc_history_exec(db, schema_v1);
	if (!err && from < 2)
		err = tfc_history_exec(db, schema_v2);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", TFC_HISTORY_SCHEMA);
	if (!err)
		err = tfc_history_exec(db, sql);
	if (err) {
		/* The first failure is the one to report, not ROLLBACK's. */
		tfc_history_exec(db, "ROLLBACK");
		return err;
	}
	return tfc_history_exec(db, "COMMIT");
}

static int check_schema(sqlite3 *db, const char *path, int writable, int quiet)
{
	int v = 0, rc = user_version(db, &v);

	if (rc) {
		hist_err(quiet, "%s is not a traffic-counter history database (%s)", path,
			 sqlite3_errstr(rc));
		return -EINVAL;
	}
	if (v > TFC_HISTORY_SCHEMA) {
		hist_err(quiet,
			 "%s has history schema %d, newer than this traffic-counter's %d: "
			 "use the newer traffic-counter",
			 path, v, TFC_HISTORY_SCHEMA);
		return -EPROTO;
	}
	if (v == TFC_HISTORY_SCHEMA)
		return 0;
	if (!writable) {
		hist_err(quiet, "%s has %s: run record once to %s it", path,
			 v ? "an older history schema" : "no history yet",
			 v ? "upgrade" : "create");
		return -ENOENT;
	}
	return upgrade(db, v);
}

/* The file is created 0600 by us, not by SQLite with the umask's mode. */
static int create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * A WAL file read-only: SQLite needs the -shm and -wal files, and creates
 * them when they are missing. Where it cannot (a read-only directory or
 * file system, another user's file), the file is read as immutable: no
 * writer can be at work on it then, or the files would be there.
 */
static int reopen_immutable(const char *path, sqlite3 **db)
{
	char uri[PATH_MAX * 3 + 32];
	size_t n = (size_t)snprintf(uri, sizeof(uri), "file:");

	for (const char *p = path; *p && n + 4 < sizeof(uri); p++)
		n += (size_t)(strchr("%?#", *p) ? snprintf(uri + n, 4, "%%%02X", (unsigned char)*p)
						: snprintf(uri + n, 2, "%c", *p));
	snprintf(uri + n, sizeof(uri) - n, "?immutable=1");
	sqlite3_close(*db);
	*db = NULL;
	return sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
}

/* Whether a read-only open can read; if not for want of the WAL files, immutable. */
static int open_readable(const char *path, sqlite3 **db)
{
	int v, rc = user_version(*db, &v);

	if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN)
		return reopen_immutable(path, db);
	return SQLITE_OK;
}

int tfc_history_open(const char *path, int flags, sqlite3 **out)
{
	int writable = flags & TFC_HISTORY_CREATE, quiet = flags & TFC_HISTORY_QUIET;
	int oflags = writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
	sqlite3 *db = NULL;
	int err = 0;

	*out = NULL;
	if (writable && (err = create_private(path))) {
		hist_err(quiet, "cannot create %s: %s", path, strerror(-err));
		return err;
	}
	if (sqlite3_open_v2(path, &db, oflags | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		hist_err(quiet, "cannot open %s: %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		err = -EIO;
		goto out;
	}
	if (!writable && open_readable(path, &db) != SQLITE_OK) {
		hist_err(quiet, "cannot open %s: %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		err = -EIO;
		goto out;
	}
	/* A writer holds the lock for a save at most; wait for it, briefly. */
	sqlite3_busy_timeout(db, 5000);
	err = check_schema(db, path, writable, quiet);
	if (!err && writable)
		err = tfc_history_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
out:
	if (err) {
		sqlite3_close(db);
		return err;
	}
	*out = db;
	return 0;
}

const char *tfc_history_res_name(enum tfc_hist_res res)
{
	static const char *const names[TFC_RES_MAX] = {"5min", "hour", "day", "month", "year"};

	return (unsigned)res < TFC_RES_MAX ? names[res] : NULL;
}

/* mktime() of a broken-down local time, its DST left to the C library. */
static time_t local_start(struct tm *tm)
{
	tm->tm_isdst = -1;
	return mktime(tm);
}

time_t tfc_history_bucket(enum tfc_hist_res res, time_t t)
{
	struct tm tm;

	if (res == TFC_RES_5MIN)
		return t - ((t % 300) + 300) % 300;
	localtime_r(&t, &tm);
	tm.tm_sec = 0;
	tm.tm_min = 0;
	/* The hour keeps its own DST flag: the repeated hour of a fall-back
	 * change is two buckets, not one. */
	if (res == TFC_RES_HOUR)
		return mktime(&tm);
	tm.tm_hour = 0;
	if (res >= TFC_RES_MONTH)
		tm.tm_mday = 1;
	if (res == TFC_RES_YEAR)
		tm.tm_mon = 0;
	return local_start(&tm);
}

time_t tfc_history_bucket_next(enum tfc_hist_res res, time_t start)
{
	struct tm tm;

	switch (res) {
	case TFC_RES_5MIN:
		return start + 300;
	case TFC_RES_HOUR:
		/* Any instant inside the next hour, then its bucket: 23/25 h days. */
		return tfc_history_bucket(res, start + 3600 + 1800);
	default:
		break;
	}
	localtime_r(&start, &tm);
	if (res == TFC_RES_DAY)
		tm.tm_mday++;
	else if (res == TFC_RES_MONTH)
		tm.tm_mon++;
	else
		tm.tm_year++;
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	return local_start(&tm);
}
