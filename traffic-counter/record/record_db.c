// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* record's writes to the history database: load, save, prune. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "maps/cgroup_rows.h"
#include "record_db.h"
#include "util/log.h"
#include "util/names.h"

enum {
	ST_IFACE,
	ST_REASON,
	ST_ADDR_UPDATE,
	ST_ADDR_INSERT,
	ST_ADDR_COUNT,
	ST_LAST_PUT,
	ST_LAST_DEL,
	ST_META_PUT,
	ST_CGROUP,
	ST_CGNAME_PUT,
	ST_CGNAME_GET,
	ST_MAX,
};

/* Upserts add: a bucket gets deltas from many saves. */
static const char *const sql[ST_MAX] = {
	[ST_IFACE] = "INSERT INTO iface_traffic VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO "
		     "UPDATE SET packets = packets + excluded.packets, bytes = bytes + "
		     "excluded.bytes",
	[ST_REASON] = "INSERT INTO reason_traffic VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT "
		      "DO UPDATE SET packets = packets + excluded.packets, bytes = bytes + "
		      "excluded.bytes",
	[ST_ADDR_UPDATE] = "UPDATE addr_traffic SET packets = packets + ?7, bytes = bytes + ?8 "
			   "WHERE res = ?1 AND ts = ?2 AND iface = ?3 AND dir = ?4 AND addr = ?5 "
			   "AND prefix_len = ?6",
	[ST_ADDR_INSERT] = "INSERT INTO addr_traffic VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON "
			   "CONFLICT DO UPDATE SET packets = packets + excluded.packets, bytes = "
			   "bytes + excluded.bytes",
	[ST_ADDR_COUNT] = "SELECT count(*) FROM addr_traffic WHERE res = ?1 AND ts = ?2 AND "
			  "iface = ?3 AND dir = ?4 AND prefix_len != 0",
	[ST_LAST_PUT] = "INSERT OR REPLACE INTO last_read VALUES (?1, ?2, ?3)",
	[ST_LAST_DEL] = "DELETE FROM last_read WHERE key = ?1",
	[ST_META_PUT] = "INSERT OR REPLACE INTO meta VALUES (?1, ?2)",
	/* The names are the latest a save saw: a removed cgroup keeps its last. */
	[ST_CGROUP] = "INSERT INTO cgroup_traffic VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		      "ON CONFLICT DO UPDATE SET unit = excluded.unit, container = "
		      "excluded.container, pod = excluded.pod, namespace = excluded.namespace, "
		      "packets = packets + excluded.packets, bytes = bytes + excluded.bytes",
	[ST_CGNAME_PUT] = "INSERT OR REPLACE INTO cgroup_names VALUES (?1, ?3, ?5, ?6, ?7, ?8)",
	[ST_CGNAME_GET] = "SELECT cgroup, unit, container, pod, namespace FROM cgroup_names "
			  "WHERE id = ?1",
};
_Static_assert(ST_MAX <= sizeof(((struct rec_db *)0)->st) / sizeof(sqlite3_stmt *),
	       "rec_db holds every statement");

static const char *db_name(const struct rec_db *d)
{
	return sqlite3_db_filename(d->db, "main") ?: "history";
}

static int db_fail(const struct rec_db *d, const char *what)
{
	tfc_err("%s: %s: %s", db_name(d), what, sqlite3_errmsg(d->db));
	return -EIO;
}

int rec_db_open(struct rec_db *d, const char *path)
{
	int err;

	memset(d, 0, sizeof(*d));
	err = tfc_history_open(path, TFC_HISTORY_CREATE, &d->db);
	if (err)
		return err;
	/* 8 MB of pages: a save at 65,536 addresses reads its buckets once. */
	if (tfc_history_exec(d->db, "PRAGMA cache_size = -8192")) {
		rec_db_close(d);
		return -EIO;
	}
	for (int i = 0; i < ST_MAX; i++)
		if (sqlite3_prepare_v3(d->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &d->st[i],
				       NULL) != SQLITE_OK) {
			err = db_fail(d, "prepare");
			rec_db_close(d);
			return err;
		}
	return 0;
}

void rec_db_close(struct rec_db *d)
{
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(d->st[i]);
	sqlite3_close(d->db);
	memset(d, 0, sizeof(*d));
}

/* Runs a bound statement with no rows; resets it for the next use. */
static int run(struct rec_db *d, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_fail(d, what);
}

/* ---- load ------------------------------------------------------------------ */

static int load_meta(struct rec_db *d, struct rec_epoch *e, int *have)
{
	sqlite3_stmt *st = NULL;
	int rc, n = 0;

	memset(e, 0, sizeof(*e));
	if (sqlite3_prepare_v2(d->db, "SELECT key, value FROM meta", -1, &st, NULL) != SQLITE_OK)
		return db_fail(d, "read meta");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		if (!k || !v)
			continue;
		if (!strcmp(k, "boot_id"))
			snprintf(e->boot_id, sizeof(e->boot_id), "%s", v), n++;
		else if (!strcmp(k, "created_ns"))
			e->created_ns = strtoull(v, NULL, 10), n++;
		else if (!strcmp(k, "migrations"))
			e->migrations = (__u32)strtoul(v, NULL, 10), n++;
	}
	sqlite3_finalize(st);
	*have = n == 3;
	return rc == SQLITE_DONE ? 0 : db_fail(d, "read meta");
}

static int load_last_read(struct rec_db *d, struct rec_table *state, time_t now)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	if (sqlite3_prepare_v2(d->db, "SELECT key, packets, bytes FROM last_read", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(d, "read last_read");
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rec_key key;
		struct rec_slot *s;

		/* Another encoding is another version's: skip, it counts from zero. */
		if (sqlite3_column_bytes(st, 0) != (int)sizeof(key))
			continue;
		memcpy(&key, sqlite3_column_blob(st, 0), sizeof(key));
		s = rec_table_get(state, &key, 0);
		if (!s) {
			err = -ENOMEM;
			break;
		}
		s->val.packets = (__u64)sqlite3_column_int64(st, 1);
		s->val.bytes = (__u64)sqlite3_column_int64(st, 2);
		s->changed = now;
	}
	sqlite3_finalize(st);
	if (err)
		return err;
	return rc == SQLITE_DONE ? 0 : db_fail(d, "read last_read");
}

int rec_db_load(struct rec_db *d, struct rec_epoch *e, int *have, struct rec_table *state,
		time_t now)
{
	int err = load_meta(d, e, have);

	if (!err && *have)
		err = load_last_read(d, state, now);
	return err;
}

/* ---- save ------------------------------------------------------------------ */

/* One lookup (a socket and an ioctl) per interface a save, not per row. */
struct iface_cache {
	__u32 ifindex[8];
	char name[8][IF_NAMESIZE];
	unsigned int n;
};

static const char *iface_name(struct iface_cache *c, __u32 ifindex)
{
	unsigned int i;

	for (i = 0; i < c->n && i < 8; i++)
		if (c->ifindex[i] == ifindex)
			return c->name[i];
	i = c->n++ % 8;
	c->ifindex[i] = ifindex;
	if (!if_indextoname(ifindex, c->name[i]))
		snprintf(c->name[i], IF_NAMESIZE, "if%u", ifindex);
	return c->name[i];
}

/*
 * The buckets of a pending ts at every resolution, remembered: localtime_r
 * checks the zone file at every call, and a save has few distinct ts.
 */
struct bucket_cache {
	__s64 ts[8];
	__s64 start[8][TFC_RES_MAX];
	unsigned int n;
};

static __s64 bucket_of(struct bucket_cache *c, int res, __s64 ts)
{
	unsigned int i;

	for (i = 0; i < c->n && i < 8; i++)
		if (c->ts[i] == ts)
			return c->start[i][res];
	i = c->n++ % 8;
	c->ts[i] = ts;
	for (int r = 0; r < TFC_RES_MAX; r++)
		c->start[i][r] = tfc_history_bucket(r, (time_t)ts);
	return c->start[i][res];
}

/* ?1 res, ?2 ts, ?3 iface, ?4 dir: the bucket columns of every traffic table. */
static void bind_bucket(sqlite3_stmt *st, int res, __s64 ts, const char *iface, int dir)
{
	sqlite3_bind_int(st, 1, res);
	sqlite3_bind_int64(st, 2, ts);
	sqlite3_bind_text(st, 3, iface, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, dir);
}

static int put_iface(struct rec_db *d, struct bucket_cache *bc, const struct rec_slot *p,
		     const char *iface)
{
	sqlite3_stmt *st = d->st[ST_IFACE];

	for (int res = TFC_RES_5MIN; res < TFC_RES_MAX; res++) {
		bind_bucket(st, res, bucket_of(bc, res, p->ts), iface, p->key.ip.direction);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)p->val.packets);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)p->val.bytes);
		if (run(d, st, "write interface rows"))
			return -EIO;
	}
	return 0;
}

static int put_reason(struct rec_db *d, struct bucket_cache *bc, const struct rec_slot *p,
		      const char *iface)
{
	sqlite3_stmt *st = d->st[ST_REASON];
	const char *reason = tfc_stat_str(p->key.stat.reason);
	char other[16];

	if (!reason) {
		snprintf(other, sizeof(other), "reason%u", p->key.stat.reason);
		reason = other;
	}
	for (int res = TFC_RES_5MIN; res < TFC_RES_MAX; res++) {
		bind_bucket(st, res, bucket_of(bc, res, p->ts), iface, p->key.stat.direction);
		sqlite3_bind_text(st, 5, reason, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)p->val.packets);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)p->val.bytes);
		if (run(d, st, "write reason rows"))
			return -EIO;
	}
	return 0;
}

/* An address row's values ?5 addr .. ?8 bytes. */
static void bind_addr(sqlite3_stmt *st, const char *addr, int prefix_len, const struct counters *v,
		      int first)
{
	sqlite3_bind_text(st, first, addr, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, first + 1, prefix_len);
	sqlite3_bind_int64(st, first + 2, (sqlite3_int64)v->packets);
	sqlite3_bind_int64(st, first + 3, (sqlite3_int64)v->bytes);
}

/* Address rows a bucket has: counted once a save, then kept up to date. */
static int bucket_rows(struct rec_db *d, struct rec_table *counts, int res, __s64 ts,
		       const char *iface, const struct ip_key *k, struct rec_slot **out)
{
	struct rec_key ck = rec_key_iface(k->ifindex, k->direction, REC_KEY_OTHER);
	sqlite3_stmt *st = d->st[ST_ADDR_COUNT];
	struct rec_slot *c;
	int rc;

	ck.pad[0] = (__u8)res; /* a day and its first hour start at the same ts */
	c = rec_table_find(counts, &ck, ts);
	if (c) {
		*out = c;
		return 0;
	}
	c = rec_table_get(counts, &ck, ts);
	if (!c)
		return -ENOMEM;
	bind_bucket(st, res, ts, iface, k->direction);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		c->val.packets = (__u64)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	*out = c;
	return rc == SQLITE_ROW ? 0 : db_fail(d, "count address rows");
}

/*
 * One address's delta at one resolution: added to its row, or a new row
 * while the bucket has fewer than the cap, or else to the bucket's `other`
 * sum (others: written after all addresses).
 */
static int put_addr_res(struct rec_db *d, const struct rec_save *s, struct rec_table *counts,
			struct rec_table *others, struct bucket_cache *bc, const struct rec_slot *p,
			int res, const char *iface, const char *addr)
{
	const struct ip_key *k = &p->key.ip;
	/* A prefix row (aggregation or overflow) under its length: report sums it. */
	int plen = k->is_prefix ? k->prefix_len : k->family == 4 ? 32 : 128;
	__s64 ts = bucket_of(bc, res, p->ts);
	sqlite3_stmt *st = d->st[ST_ADDR_UPDATE];
	struct rec_key ok;
	struct rec_slot *c;
	int err;

	bind_bucket(st, res, ts, iface, k->direction);
	bind_addr(st, addr, plen, &p->val, 5);
	if (run(d, st, "write address rows"))
		return -EIO;
	if (sqlite3_changes(d->db))
		return 0;
	err = bucket_rows(d, counts, res, ts, iface, k, &c);
	if (err)
		return err;
	if (c->val.packets < s->max_addresses) {
		c->val.packets++;
		st = d->st[ST_ADDR_INSERT];
		bind_bucket(st, res, ts, iface, k->direction);
		bind_addr(st, addr, plen, &p->val, 5);
		return run(d, st, "write address rows");
	}
	ok = rec_key_iface(k->ifindex, k->direction, REC_KEY_OTHER);
	ok.pad[0] = (__u8)res;
	return rec_pending_add(others, &ok, ts, &p->val);
}

static int put_addr(struct rec_db *d, const struct rec_save *s, struct rec_table *counts,
		    struct rec_table *others, struct bucket_cache *bc, const struct rec_slot *p,
		    const char *iface)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(p->key.ip.family == 4 ? AF_INET : AF_INET6, p->key.ip.addr, addr, sizeof(addr));
	for (int res = TFC_RES_HOUR; res < TFC_RES_MAX; res++) {
		int err = put_addr_res(d, s, counts, others, bc, p, res, iface, addr);

		if (err)
			return err;
	}
	return 0;
}

static void bind_cgroup_labels(sqlite3_stmt *st, const struct tfc_cgroup_labels *l)
{
	sqlite3_bind_text(st, 3, l->path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, l->unit, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, l->container, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, l->pod, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, l->pod_namespace, -1, SQLITE_TRANSIENT);
}

static int replace_label(char **field, sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	char *dup = strdup(v ? v : "");

	if (!dup)
		return -ENOMEM;
	free(*field);
	*field = dup;
	return 0;
}

/*
 * The names of a cgroup the names cache does not know (removed before
 * this record started): the last ones saved for its id, if any.
 */
static int saved_labels(struct rec_db *d, __u64 id, struct tfc_cgroup_labels *l)
{
	sqlite3_stmt *st = d->st[ST_CGNAME_GET];
	int rc, err = 0;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		err = replace_label(&l->path, st, 0) ?: replace_label(&l->unit, st, 1)
			?: replace_label(&l->container, st, 2) ?: replace_label(&l->pod, st, 3)
			?: replace_label(&l->pod_namespace, st, 4);
		l->known = l->gone = 1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(d, "read cgroup names");
	return err;
}

/* Named cgroups' names, kept for their ids. */
static int save_labels(struct rec_db *d, __u64 id, const struct tfc_cgroup_labels *l)
{
	sqlite3_stmt *st = d->st[ST_CGNAME_PUT];

	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	bind_cgroup_labels(st, l);
	return run(d, st, "write cgroup names");
}

static int cgroup_labels(struct rec_db *d, const struct rec_save *s, __u64 id,
			 struct tfc_cgroup_labels *l)
{
	const struct tfc_cgroup_name *nm = s->cg_names ? tfc_cgroup_name(s->cg_names, id) : NULL;
	int err = tfc_cgroup_labels_set(l, id, nm);

	if (!err)
		err = nm ? save_labels(d, id, l) : saved_labels(d, id, l);
	if (err)
		tfc_cgroup_labels_free(l);
	return err;
}

/* A cgroup's delta at hour and coarser, under the names its path gives now. */
static int put_cgroup(struct rec_db *d, const struct rec_save *s, struct bucket_cache *bc,
		      const struct rec_slot *p)
{
	const struct cgroup_key *k = &p->key.cg;
	sqlite3_stmt *st = d->st[ST_CGROUP];
	struct tfc_cgroup_labels l;
	int err = cgroup_labels(d, s, k->cgroup_id, &l);

	for (int res = TFC_RES_HOUR; !err && res < TFC_RES_MAX; res++) {
		sqlite3_bind_int(st, 1, res);
		sqlite3_bind_int64(st, 2, bucket_of(bc, res, p->ts));
		bind_cgroup_labels(st, &l);
		sqlite3_bind_int(st, 4, k->direction);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)p->val.packets);
		sqlite3_bind_int64(st, 10, (sqlite3_int64)p->val.bytes);
		err = run(d, st, "write cgroup rows");
	}
	tfc_cgroup_labels_free(&l);
	return err;
}

static int put_others(struct rec_db *d, const struct rec_table *others, struct iface_cache *names)
{
	sqlite3_stmt *st = d->st[ST_ADDR_INSERT];

	for (size_t i = 0; i < others->cap; i++) {
		const struct rec_slot *o = &others->slots[i];

		if (!o->used)
			continue;
		bind_bucket(st, o->key.pad[0], o->ts, iface_name(names, o->key.ip.ifindex),
			    o->key.ip.direction);
		bind_addr(st, REC_OTHER_ADDR, 0, &o->val, 5);
		if (run(d, st, "write the other rows"))
			return -EIO;
	}
	return 0;
}

static int put_pending(struct rec_db *d, const struct rec_save *s)
{
	struct rec_table counts = {0}, others = {0};
	const struct rec_table *p = s->pending;
	struct iface_cache names = {0};
	struct bucket_cache bc = {0};
	int err = 0;

	for (size_t i = 0; !err && i < p->cap; i++) {
		const struct rec_slot *sl = &p->slots[i];

		if (!sl->used)
			continue;
		switch (sl->key.kind) {
		case REC_KEY_IP:
			err = put_addr(d, s, &counts, &others, &bc, sl,
				       iface_name(&names, sl->key.ip.ifindex));
			break;
		case REC_KEY_IFACE:
			err = put_iface(d, &bc, sl, iface_name(&names, sl->key.ip.ifindex));
			break;
		case REC_KEY_STAT:
			err = put_reason(d, &bc, sl, iface_name(&names, sl->key.stat.ifindex));
			break;
		case REC_KEY_CGROUP:
			err = put_cgroup(d, s, &bc, sl);
			break;
		default:
			break;
		}
	}
	if (!err)
		err = put_others(d, &others, &names);
	rec_table_free(&counts);
	rec_table_free(&others);
	return err;
}

static int put_last_read(struct rec_db *d, const struct rec_save *s)
{
	sqlite3_stmt *st = d->st[ST_LAST_PUT];
	const struct rec_table *t = s->state;

	if (s->reset && tfc_history_exec(d->db, "DELETE FROM last_read"))
		return -EIO;
	for (size_t i = 0; i < t->cap; i++) {
		const struct rec_slot *sl = &t->slots[i];

		if (!sl->used || (!sl->dirty && !s->reset))
			continue;
		sqlite3_bind_blob(st, 1, &sl->key, sizeof(sl->key), SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)sl->val.packets);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)sl->val.bytes);
		if (run(d, st, "write last_read"))
			return -EIO;
	}
	st = d->st[ST_LAST_DEL];
	for (size_t i = 0; i < s->n_gone; i++) {
		sqlite3_bind_blob(st, 1, &s->gone[i], sizeof(s->gone[i]), SQLITE_STATIC);
		if (run(d, st, "forget evicted entries"))
			return -EIO;
	}
	return 0;
}

static int put_meta(struct rec_db *d, const char *key, unsigned long long v, const char *text)
{
	sqlite3_stmt *st = d->st[ST_META_PUT];
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", v);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text ?: buf, -1, SQLITE_TRANSIENT);
	return run(d, st, "write meta");
}

static int put_epoch(struct rec_db *d, const struct rec_save *s)
{
	return put_meta(d, "boot_id", 0, s->epoch->boot_id) ?:
	       put_meta(d, "created_ns", s->epoch->created_ns, NULL) ?:
	       put_meta(d, "migrations", s->epoch->migrations, NULL) ?:
	       put_meta(d, "last_save", (unsigned long long)s->now, NULL);
}

static void mark_clean(struct rec_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		t->slots[i].dirty = 0;
}

int rec_db_save(struct rec_db *d, const struct rec_save *s)
{
	int err = tfc_history_exec(d->db, "BEGIN IMMEDIATE");

	if (err)
		return err;
	/* A new epoch (a reboot, maps made again): ids of before name nothing now. */
	if (s->reset)
		err = tfc_history_exec(d->db, "DELETE FROM cgroup_names");
	err = err ?: put_pending(d, s) ?: put_last_read(d, s) ?: put_epoch(d, s);
	if (!err)
		err = tfc_history_exec(d->db, "COMMIT");
	if (err) {
		/* A failed COMMIT may have rolled back already: ignore that error. */
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	mark_clean(s->state);
	return 0;
}

/* ---- prune ----------------------------------------------------------------- */

static int prune_bucket(struct rec_db *d, const char *table, int res, __s64 cutoff)
{
	char q[256];
	sqlite3_stmt *st = NULL;
	int rc;

	snprintf(q, sizeof(q),
		 "DELETE FROM %s WHERE res = ?1 AND ts = (SELECT min(ts) FROM %s WHERE res = ?1 "
		 "AND ts < ?2)",
		 table, table);
	if (sqlite3_prepare_v2(d->db, q, -1, &st, NULL) != SQLITE_OK)
		return db_fail(d, "prune");
	sqlite3_bind_int(st, 1, res);
	sqlite3_bind_int64(st, 2, cutoff);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(d, "prune");
	return sqlite3_changes(d->db) > 0;
}

int rec_db_prune(struct rec_db *d, const long long retention[TFC_RES_MAX], time_t now, int budget)
{
	static const char *const tables[] = {"iface_traffic", "reason_traffic", "addr_traffic",
					     "cgroup_traffic"};
	int done = 0;

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (int res = 0; res < TFC_RES_MAX; res++) {
			int r = 1;

			while (retention[res] > 0 && done < budget && r > 0) {
				r = prune_bucket(d, tables[t], res, (__s64)now - retention[res]);
				if (r < 0)
					return r;
				done += r;
			}
		}
	return done;
}
