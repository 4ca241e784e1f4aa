// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * history_fill DB: creates DB through the real schema (export/history.c)
 * and adds the rows read from stdin, one a line, summed into what is there:
 *
 *   iface  RES TS IFACE DIR PACKETS BYTES
 *   reason RES TS IFACE DIR REASON PACKETS BYTES
 *   addr   RES TS IFACE DIR ADDR PREFIX_LEN PACKETS BYTES
 *   gen    RES TS STEP COUNT IFACE NADDR BYTES
 *   event  TS IFACE DIR ADDR PACKETS BYTES   (ADDR "-": interface only)
 *
 * RES is a resolution name (5min hour day month year); DIR 0 (rx) or 1 (tx).
 * gen writes COUNT buckets TS, TS+STEP, ... each with NADDR addresses
 * (198.18.0.0 upwards, /32) in both directions, BYTES each, one packet each:
 * the report benchmark's month of data. event is traffic at one instant,
 * summed as record sums it: into the interface's rows of all five
 * resolutions and the address's rows of hour and coarser, bucketed by
 * tfc_history_bucket. One transaction; exit 0 or 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/history.h"

static sqlite3_stmt *st_iface, *st_reason, *st_addr;

static const char iface_sql[] =
	"INSERT INTO iface_traffic VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET"
	" packets = packets + excluded.packets, bytes = bytes + excluded.bytes";
static const char reason_sql[] =
	"INSERT INTO reason_traffic VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET"
	" packets = packets + excluded.packets, bytes = bytes + excluded.bytes";
static const char addr_sql[] =
	"INSERT INTO addr_traffic VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO UPDATE"
	" SET packets = packets + excluded.packets, bytes = bytes + excluded.bytes";

static int res_of(const char *s)
{
	for (int r = 0; r < TFC_RES_MAX; r++)
		if (!strcmp(s, tfc_history_res_name(r)))
			return r;
	return -1;
}

/* Binds texts and integers in order: 's' or 'i' per column of fmt. */
static int run(sqlite3_stmt *st, const char *fmt, char **v)
{
	int rc = SQLITE_OK;

	sqlite3_reset(st);
	for (int i = 0; fmt[i] && rc == SQLITE_OK; i++)
		rc = fmt[i] == 's' ? sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_TRANSIENT)
				   : sqlite3_bind_int64(st, i + 1, strtoll(v[i], NULL, 10));
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int gen(char **v)
{
	long long ts = strtoll(v[1], NULL, 10), step = strtoll(v[2], NULL, 10);
	long long count = strtoll(v[3], NULL, 10), naddr = strtoll(v[5], NULL, 10);
	char tsb[24], dirb[2], addrb[64];
	char *row[8] = {v[0], tsb, v[4], dirb, addrb, "32", "1", v[6]};

	for (long long t = 0; t < count; t++)
		for (long long a = 0; a < naddr; a++)
			for (int d = 0; d < 2; d++) {
				snprintf(tsb, sizeof(tsb), "%lld", ts + t * step);
				snprintf(dirb, sizeof(dirb), "%d", d);
				snprintf(addrb, sizeof(addrb), "198.%lld.%lld.%lld", 18 + a / 65536,
					 a / 256 % 256, a % 256);
				if (run(st_addr, "iisisiii", row))
					return -1;
			}
	return 0;
}

/* v: TS IFACE DIR ADDR PACKETS BYTES */
static int event(char **v)
{
	time_t t = (time_t)strtoll(v[0], NULL, 10);
	char res[4], ts[24];
	char *irow[6] = {res, ts, v[1], v[2], v[4], v[5]};
	char *arow[8] = {res, ts, v[1], v[2], v[3], strchr(v[3], ':') ? "128" : "32", v[4], v[5]};

	for (int r = 0; r < TFC_RES_MAX; r++) {
		snprintf(res, sizeof(res), "%d", r);
		snprintf(ts, sizeof(ts), "%lld", (long long)tfc_history_bucket(r, t));
		if (run(st_iface, "iisiii", irow))
			return -1;
		if (r >= TFC_RES_HOUR && strcmp(v[3], "-") && run(st_addr, "iisisiii", arow))
			return -1;
	}
	return 0;
}

static int line(char *buf)
{
	char *v[10], *save = NULL;
	int n = 0, r;
	char res[4];

	for (char *t = strtok_r(buf, " \t\n", &save); t && n < 10;
	     t = strtok_r(NULL, " \t\n", &save))
		v[n++] = t;
	if (!n)
		return 0;
	if (!strcmp(v[0], "event") && n == 7)
		return event(v + 1);
	if (n < 2 || (r = res_of(v[1])) < 0)
		return -1;
	snprintf(res, sizeof(res), "%d", r);
	v[1] = res;
	if (!strcmp(v[0], "iface") && n == 7)
		return run(st_iface, "iisiii", v + 1);
	if (!strcmp(v[0], "reason") && n == 8)
		return run(st_reason, "iisisii", v + 1);
	if (!strcmp(v[0], "addr") && n == 9)
		return run(st_addr, "iisisiii", v + 1);
	if (!strcmp(v[0], "gen") && n == 8)
		return gen(v + 1);
	return -1;
}

int main(int argc, char **argv)
{
	char buf[512];
	sqlite3 *db = NULL;
	int err = 1, lineno = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: history_fill DB < rows\n");
		return 2;
	}
	if (tfc_history_open(argv[1], TFC_HISTORY_CREATE, &db))
		return 1;
	if (sqlite3_prepare_v2(db, iface_sql, -1, &st_iface, NULL) ||
	    sqlite3_prepare_v2(db, reason_sql, -1, &st_reason, NULL) ||
	    sqlite3_prepare_v2(db, addr_sql, -1, &st_addr, NULL) ||
	    tfc_history_exec(db, "BEGIN IMMEDIATE"))
		goto out;
	while (fgets(buf, sizeof(buf), stdin)) {
		lineno++;
		if (line(buf)) {
			fprintf(stderr, "history_fill: line %d: bad row or %s\n", lineno,
				sqlite3_errmsg(db));
			goto out;
		}
	}
	err = tfc_history_exec(db, "COMMIT") ? 1 : 0;
out:
	sqlite3_finalize(st_iface);
	sqlite3_finalize(st_reason);
	sqlite3_finalize(st_addr);
	sqlite3_close(db);
	return err;
}
