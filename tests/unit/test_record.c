// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * record's arithmetic and its saves: epochs, deltas of counters that grow,
 * go down or restart, the hash tables, durations, options, and a save's
 * rows (all resolutions, the cap's `other` row, last_read, one transaction).
 */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "record/delta.h"
#include "record/record.h"
#include "record/record_db.h"

static struct rec_epoch epoch(const char *boot, __u64 created, __u32 migrations)
{
	struct rec_epoch e;

	memset(&e, 0, sizeof(e));
	snprintf(e.boot_id, sizeof(e.boot_id), "%s", boot);
	e.created_ns = created;
	e.migrations = migrations;
	return e;
}

static void test_epoch_changes(void **state)
{
	struct rec_epoch a = epoch("b1", 100, 0), b;

	(void)state;
	b = a;
	assert_int_equal(rec_epoch_compare(&a, &b), REC_EPOCH_SAME);
	b = epoch("b2", 100, 0); /* reboot */
	assert_int_equal(rec_epoch_compare(&a, &b), REC_EPOCH_NEW);
	b = epoch("b1", 200, 0); /* maps purged and recreated */
	assert_int_equal(rec_epoch_compare(&a, &b), REC_EPOCH_NEW);
	b = epoch("b1", 100, 1); /* attach --migrate carried the counters */
	assert_int_equal(rec_epoch_compare(&a, &b), REC_EPOCH_MIGRATED);
	/* migrations going down: other maps with the same created_ns */
	assert_int_equal(rec_epoch_compare(&b, &a), REC_EPOCH_NEW);
	/* a boot id that could not be read says nothing either way */
	b = epoch("", 100, 0);
	assert_int_equal(rec_epoch_compare(&a, &b), REC_EPOCH_SAME);
	assert_int_equal(rec_epoch_compare(&b, &a), REC_EPOCH_SAME);
}

static void test_delta_grows_and_restarts(void **state)
{
	struct counters last = {.bytes = 1000, .packets = 10}, now, d;

	(void)state;
	now = (struct counters){.bytes = 1500, .packets = 15};
	assert_int_equal(rec_delta(&last, &now, &d), 0);
	assert_int_equal(d.bytes, 500);
	assert_int_equal(d.packets, 5);
	/* evicted and recreated: counts from zero, never a wrap */
	now = (struct counters){.bytes = 300, .packets = 3};
	assert_int_equal(rec_delta(&last, &now, &d), 1);
	assert_int_equal(d.bytes, 300);
	assert_int_equal(d.packets, 3);
	/* only the bytes went down: still a new counter */
	now = (struct counters){.bytes = 999, .packets = 11};
	assert_int_equal(rec_delta(&last, &now, &d), 1);
	assert_int_equal(d.bytes, 999);
	/* unchanged: zero */
	assert_int_equal(rec_delta(&last, &last, &d), 0);
	assert_int_equal(d.bytes, 0);
	assert_int_equal(d.packets, 0);
}

static struct ip_key key4(__u32 n, __u8 dir)
{
	struct ip_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = 2;
	k.family = 4;
	k.direction = dir;
	memcpy(k.addr, &n, sizeof(n));
	return k;
}

/* Insert, find, delete many keys: every survivor still found, no ghost. */
static void test_table_insert_delete(void **state)
{
	struct rec_table t = {0};
	const __u32 n = 20000;

	(void)state;
	for (__u32 i = 0; i < n; i++) {
		struct ip_key ik = key4(i, 0);
		struct rec_key k = rec_key_ip(&ik);
		struct rec_slot *s = rec_table_get(&t, &k, 0);

		assert_non_null(s);
		s->val.packets = i;
	}
	assert_int_equal(t.n, n);
	for (__u32 i = 0; i < n; i += 3) {
		struct ip_key ik = key4(i, 0);
		struct rec_key k = rec_key_ip(&ik);

		rec_table_del(&t, rec_table_find(&t, &k, 0));
	}
	for (__u32 i = 0; i < n; i++) {
		struct ip_key ik = key4(i, 0);
		struct rec_key k = rec_key_ip(&ik);
		struct rec_slot *s = rec_table_find(&t, &k, 0);

		if (i % 3 == 0) {
			assert_null(s);
		} else {
			assert_non_null(s);
			assert_int_equal(s->val.packets, i);
		}
	}
	rec_table_free(&t);
}

/* Deltas of one key in two buckets stay apart; the same bucket adds up. */
static void test_pending_per_bucket(void **state)
{
	struct rec_table p = {0};
	struct ip_key ik = key4(7, 1);
	struct counters d = {.bytes = 100, .packets = 1}, zero = {0};
	struct rec_key a = rec_key_ip(&ik), i = rec_key_iface(2, 1, REC_KEY_IFACE);

	(void)state;
	assert_int_equal(rec_pending_ip(&p, &ik, &d, 3600, 3600), 0);
	assert_int_equal(rec_pending_ip(&p, &ik, &d, 3600, 3900), 0);
	assert_int_equal(rec_pending_ip(&p, &ik, &zero, 7200, 7200), 0); /* no slot */
	assert_int_equal(rec_table_find(&p, &a, 3600)->val.bytes, 200);
	assert_int_equal(rec_table_find(&p, &i, 3600)->val.bytes, 100);
	assert_int_equal(rec_table_find(&p, &i, 3900)->val.bytes, 100);
	assert_null(rec_table_find(&p, &a, 7200));
	assert_int_equal(p.n, 3);
	rec_table_free(&p);
}

static void test_duration_parse(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(rec_duration_parse("90", 0, &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(rec_duration_parse("90m", 0, &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(rec_duration_parse("35d", 0, &v), 0);
	assert_int_equal(v, 35 * 86400);
	assert_int_equal(rec_duration_parse("5y", 0, &v), 0);
	assert_int_equal(v, 5 * 365 * 86400LL);
	assert_int_equal(rec_duration_parse("forever", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rec_duration_parse("forever", 0, &v), -EINVAL);
	assert_int_equal(rec_duration_parse("0", 0, &v), -EINVAL);
	assert_int_equal(rec_duration_parse("-1d", 0, &v), -EINVAL);
	assert_int_equal(rec_duration_parse("3x", 0, &v), -EINVAL);
	assert_int_equal(rec_duration_parse("3dd", 0, &v), -EINVAL);
	assert_int_equal(rec_duration_parse("99999999999y", 0, &v), -EINVAL);
}

static void test_options(void **state)
{
	struct unit_args ua;
	struct record_args a;

	(void)state;
	UNIT_ARGS(&ua, "record");
	assert_int_equal(record_parse(ua.argc, ua.argv, &a), 0);
	assert_int_equal(a.interval, 30);
	assert_int_equal(a.save_interval, 300);
	assert_int_equal(a.max_addresses, 10000);
	assert_int_equal(a.evict_idle, 0);
	assert_int_equal(a.retention[TFC_RES_5MIN], 35 * 86400);
	assert_int_equal(a.retention[TFC_RES_YEAR], 0);
	UNIT_ARGS(&ua, "record", "--interval", "5", "--save-interval", "10", "--evict-idle", "2h",
		  "--retention", "hour=30d", "--retention", "year=1y");
	assert_int_equal(record_parse(ua.argc, ua.argv, &a), 0);
	assert_int_equal(a.evict_idle, 7200);
	assert_int_equal(a.retention[TFC_RES_HOUR], 30 * 86400);
	assert_int_equal(a.retention[TFC_RES_YEAR], 365 * 86400);
	UNIT_ARGS(&ua, "record", "--interval", "60", "--save-interval", "30");
	assert_int_equal(record_parse(ua.argc, ua.argv, &a), -EINVAL);
	UNIT_ARGS(&ua, "record", "--retention", "week=3d");
	assert_int_equal(record_parse(ua.argc, ua.argv, &a), -EINVAL);
	UNIT_ARGS(&ua, "record", "--evict-idle", "soon");
	assert_int_equal(record_parse(ua.argc, ua.argv, &a), -EINVAL);
}

static long long q1(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * A save: interface rows at the five resolutions, address rows at four,
 * three addresses against a cap of 2 (one `other` row), last_read, meta;
 * saved again, every row adds up.
 */
static void test_save_rows_and_cap(void **state)
{
	char path[64] = "/tmp/tfc-test-record-XXXXXX"; /* room for "-wal" */
	struct rec_table pending = {0}, st = {0};
	struct rec_epoch e = epoch("boot", 1, 0);
	struct counters d = {.bytes = 1000, .packets = 10};
	struct rec_db db;
	struct rec_save s = {.pending = &pending, .state = &st, .epoch = &e, .max_addresses = 2};
	time_t t = 1700000000;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(rec_db_open(&db, path), 0);
	for (__u32 i = 0; i < 3; i++) {
		struct ip_key ik = key4(i + 1, 0);
		struct rec_key k = rec_key_ip(&ik);

		assert_int_equal(rec_pending_ip(&pending, &ik, &d,
						tfc_history_bucket(TFC_RES_HOUR, t),
						tfc_history_bucket(TFC_RES_5MIN, t)),
				 0);
		rec_table_get(&st, &k, 0)->dirty = 1;
	}
	s.now = t;
	assert_int_equal(rec_db_save(&db, &s), 0);
	assert_int_equal(q1(db.db, "SELECT count(DISTINCT res) FROM iface_traffic"), 5);
	assert_int_equal(q1(db.db, "SELECT sum(bytes) FROM iface_traffic WHERE res = 0"), 3000);
	assert_int_equal(q1(db.db, "SELECT sum(bytes) FROM iface_traffic WHERE res = 4"), 3000);
	assert_int_equal(q1(db.db, "SELECT count(DISTINCT res) FROM addr_traffic"), 4);
	assert_int_equal(q1(db.db, "SELECT sum(bytes) FROM addr_traffic WHERE res = 1"), 3000);
	assert_int_equal(q1(db.db, "SELECT count(*) FROM addr_traffic WHERE res = 1 AND "
				   "prefix_len = 32"),
			 2);
	assert_int_equal(q1(db.db, "SELECT bytes FROM addr_traffic WHERE res = 1 AND addr = "
				   "'other' AND prefix_len = 0"),
			 1000);
	assert_int_equal(q1(db.db, "SELECT count(*) FROM last_read"), 3);
	assert_int_equal(q1(db.db, "SELECT value FROM meta WHERE key = 'last_save'"), t);
	/* Saved again: the same bucket adds up, the `other` row too. */
	assert_int_equal(rec_db_save(&db, &s), 0);
	assert_int_equal(q1(db.db, "SELECT sum(bytes) FROM addr_traffic WHERE res = 1"), 6000);
	assert_int_equal(q1(db.db, "SELECT bytes FROM addr_traffic WHERE addr = 'other' AND "
				   "res = 2"),
			 2000);
	rec_db_close(&db);
	rec_table_free(&pending);
	rec_table_free(&st);
	unlink(path);
	strcat(path, "-wal");
	unlink(path);
	path[strlen(path) - 4] = 0;
	strcat(path, "-shm");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoch_changes),
		cmocka_unit_test(test_delta_grows_and_restarts),
		cmocka_unit_test(test_table_insert_delete),
		cmocka_unit_test(test_pending_per_bucket),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_save_rows_and_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
