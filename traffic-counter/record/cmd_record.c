// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * record: the history daemon. Every --interval it reads the IP map and the
 * statistics (per-CPU values summed), and adds each counter's growth since
 * the previous read to pending deltas in memory; every --save-interval, and
 * on SIGTERM/SIGINT, it writes them with what it read (last_read) in one
 * transaction (record_db.c). A restart, even after kill -9, reads last_read
 * back: what was still only in memory is still in the maps, and is counted
 * once. A new epoch (boot, maps recreated) counts every counter from zero.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config/config.h"
#include "maps/cgroup_rows.h"
#include "maps/maps.h"
#include "util/log.h"
#include "evict.h"
#include "record.h"
#include "record_db.h"

#define BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"
/* Tests only: a file standing for the boot id, to simulate a reboot. */
#define BOOT_ID_ENV  "TRAFFIC_COUNTER_BOOT_ID_FILE"
#define PRUNE_BUDGET 64 /* buckets deleted a save, each its own statement */

enum {
	OPT_DB = 1,
	OPT_INTERVAL,
	OPT_SAVE_INTERVAL,
	OPT_MAX_ADDRESSES,
	OPT_EVICT_IDLE,
	OPT_RETENTION,
	OPT_ONCE,
	OPT_CONFIG,
};

static const struct tfc_opt record_opts[] = {
	{"db", "PATH", "the history database (default " TFC_HISTORY_DB_DEFAULT ")", OPT_DB},
	{"interval", "SECONDS", "time between reads of the maps (default 30; 1 to 3600)",
	 OPT_INTERVAL},
	{"save-interval", "SECONDS",
	 "time between saves to the database (default 300; at least the interval)",
	 OPT_SAVE_INTERVAL},
	{"max-addresses", "N",
	 "address rows per bucket, interface and direction (default 10000); the rest are "
	 "summed into one 'other' row",
	 OPT_MAX_ADDRESSES},
	{"evict-idle", "DURATION",
	 "delete IP-map entries with no traffic for DURATION (e.g. 1d) once their last "
	 "delta is saved (default: never)",
	 OPT_EVICT_IDLE},
	{"retention", "RES=DURATION",
	 "keep RES (5min, hour, day, month, year) buckets for DURATION or 'forever' (defaults "
	 "35d, 14d, 400d, 5y, forever); repeatable",
	 OPT_RETENTION},
	{"once", NULL, "read the maps once, save, and exit", OPT_ONCE},
	{"config", "FILE",
	 "take RECORD_DB, RECORD_INTERVAL, RECORD_SAVE_INTERVAL, RECORD_MAX_ADDRESSES, "
	 "RECORD_EVICT_IDLE and TRAFFIC_COUNTER_PIN_DIR from FILE (traffic-counter.conf(5)) "
	 "where the command line gives none",
	 OPT_CONFIG},
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def record_def = {
	.name = "record",
	.summary = "Record the traffic history: read the maps every interval and save the deltas\n"
		   "per interface, direction, reason and address into a SQLite database in\n"
		   "5-minute, hour, day, month and year buckets (local time), exactly once\n"
		   "across restarts, crashes and reboots. 'traffic-counter report' reads it.",
	.opts = record_opts,
	.examples = "  traffic-counter record\n"
		    "  traffic-counter record --interval 10 --evict-idle 7d\n"
		    "  traffic-counter record --db /tmp/h.db --retention hour=30d --once\n",
};

static int retention_arg(struct record_args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	long long v;
	int res;

	for (res = 0; eq && res < TFC_RES_MAX; res++) {
		const char *name = tfc_history_res_name(res);

		if (strlen(name) == (size_t)(eq - arg) && !strncmp(arg, name, (size_t)(eq - arg)))
			break;
	}
	if (!eq || res == TFC_RES_MAX || rec_duration_parse(eq + 1, 1, &v))
		return tfc_opt_invalid("retention",
				       "'%s' is not RES=DURATION with RES one of 5min, hour, day, "
				       "month, year and DURATION like 35d or 'forever'",
				       arg);
	a->retention[res] = v;
	return 0;
}

static int record_opt(int id, const char *arg, void *ctx)
{
	struct record_args *a = ctx;
	__u32 v;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	if (id > 0 && id < 32)
		a->given |= 1U << id;
	switch (id) {
	case OPT_CONFIG:
		a->config = arg;
		return 0;
	case OPT_DB:
		a->db = arg;
		return 0;
	case OPT_INTERVAL:
		return tfc_parse_u32("interval", arg, 1, 3600, &a->interval);
	case OPT_SAVE_INTERVAL:
		return tfc_parse_u32("save-interval", arg, 1, 86400, &a->save_interval);
	case OPT_MAX_ADDRESSES:
		if (tfc_parse_u32("max-addresses", arg, 0, UINT32_MAX, &v))
			return -EINVAL;
		a->max_addresses = v;
		return 0;
	case OPT_EVICT_IDLE:
		if (rec_duration_parse(arg, 0, &a->evict_idle))
			return tfc_opt_invalid("evict-idle",
					       "'%s' is not a duration like 3600, 90m, 12h or 7d",
					       arg);
		return 0;
	case OPT_RETENTION:
		return retention_arg(a, arg);
	case OPT_ONCE:
		a->once = 1;
		return 0;
	default:
		return -EINVAL;
	}
}

#define GIVEN(a, id) ((a)->given & (1U << (id)))

static int config_merge(struct record_args *a, const struct tfc_config *cfg)
{
	if (!GIVEN(a, OPT_DB) && cfg->record_db[0]) {
		snprintf(a->db_buf, sizeof(a->db_buf), "%s", cfg->record_db);
		a->db = a->db_buf;
	}
	if (!GIVEN(a, OPT_INTERVAL) && cfg->record_interval)
		a->interval = cfg->record_interval;
	if (!GIVEN(a, OPT_SAVE_INTERVAL) && cfg->record_save_interval)
		a->save_interval = cfg->record_save_interval;
	if (!GIVEN(a, OPT_MAX_ADDRESSES) && cfg->record_max_addresses >= 0)
		a->max_addresses = (__u32)cfg->record_max_addresses;
	if (!GIVEN(a, OPT_EVICT_IDLE) && cfg->record_evict_idle[0] &&
	    rec_duration_parse(cfg->record_evict_idle, 0, &a->evict_idle))
		return tfc_opt_invalid("config", "RECORD_EVICT_IDLE=%s is not a duration",
				       cfg->record_evict_idle);
	if (!a->pins.dir && cfg->pin_dir[0]) {
		snprintf(a->pin_dir_buf, sizeof(a->pin_dir_buf), "%s", cfg->pin_dir);
		a->pins.dir = a->pin_dir_buf;
	}
	return 0;
}

static int config_read(struct record_args *a)
{
	struct tfc_config *cfg = tfc_config_for_command(a->config);
	int err;

	if (!cfg)
		return -EINVAL;
	err = config_merge(a, cfg);
	free(cfg);
	return err;
}

int record_parse(int argc, char **argv, struct record_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->db = TFC_HISTORY_DB_DEFAULT;
	a->interval = 30;
	a->save_interval = 300;
	a->max_addresses = 10000;
	memcpy(a->retention, tfc_history_retention_default, sizeof(a->retention));
	err = tfc_opts_parse(&record_def, argc, argv, record_opt, a);
	if (!err && a->config)
		err = config_read(a);
	if (!err && a->save_interval < a->interval)
		err = tfc_opt_invalid("save-interval", "%u is shorter than --interval %u",
				      a->save_interval, a->interval);
	return err;
}

/* ---- one read ------------------------------------------------------------- */

struct rec {
	struct record_args a;
	struct tfc_pins pins;
	struct rec_db db;
	struct rec_table state, pending;
	struct rec_epoch epoch;
	int have_epoch;
	int reset; /* the epoch changed since the last save */
	struct rec_evict ev;
	struct tfc_cgroup_names *cg_names; /* NULL: no cgroup v2 mount */
};

/* The boot id, or "" when unreadable (then only the maps tell epochs). */
static void read_boot_id(char *buf, size_t len)
{
	const char *path = getenv(BOOT_ID_ENV);
	FILE *f = fopen(path && path[0] ? path : BOOT_ID_FILE, "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
}

static int read_epoch(struct rec *r, struct rec_epoch *e)
{
	struct bpf_map_info info;
	struct tfc_control ctl;
	int fd, err;

	memset(e, 0, sizeof(*e));
	read_boot_id(e->boot_id, sizeof(e->boot_id));
	fd = tfc_map_open(r->pins.control, TFC_MAP_CONTROL, NULL, &info);
	if (fd < 0)
		return fd;
	err = tfc_control_read(fd, &ctl);
	close(fd);
	if (err)
		return err;
#if TFC_ABI_VERSION >= 2
	e->created_ns = ctl.created_ns;
	e->migrations = ctl.migrations;
#endif /* layout 1 has neither: the boot id and falling counters still tell */
	return 0;
}

static int dump_maps(struct rec *r, struct tfc_ip_entry **ip, size_t *n_ip,
		     struct tfc_stat_entry **st, size_t *n_st)
{
	struct bpf_map_info info;
	int fd, prefix_fd, err;

	fd = tfc_map_open(r->pins.ip, TFC_MAP_IP, NULL, &info);
	if (fd < 0)
		return fd;
	/* The prefix rows of the pin directory too, unless --pin named one map. */
	prefix_fd = r->a.pins.ip ? -ENOENT : tfc_prefix_map_open_pins(&r->pins, 0);
	if (prefix_fd < 0 && prefix_fd != -ENOENT) {
		close(fd);
		return prefix_fd;
	}
	err = tfc_dump_ip_rows(fd, prefix_fd, ip, n_ip);
	close(fd);
	if (prefix_fd >= 0)
		close(prefix_fd);
	if (err)
		return err;
	fd = tfc_map_open(r->pins.stats, TFC_MAP_STATS, NULL, &info);
	if (fd < 0)
		return fd;
	err = tfc_dump_stats(fd, st, n_st);
	close(fd);
	return err;
}

/*
 * The cgroup map, when a cgroup attachment pinned one (else none, no
 * error). Each id is named now, while the cgroup exists: the names cache
 * then keeps its name after it is removed, for the save.
 */
static int dump_cgroups(struct rec *r, struct tfc_cgroup_entry **cg, size_t *n)
{
	int fd = tfc_cgroup_rows_open(r->pins.dir, NULL), err;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	err = tfc_dump_cgroup(fd, cg, n);
	close(fd);
	for (size_t i = 0; !err && r->cg_names && i < *n; i++)
		tfc_cgroup_name(r->cg_names, (*cg)[i].key.cgroup_id);
	return err;
}

/* Applies the epoch of a read: a new one forgets every last value. */
static void enter_epoch(struct rec *r, const struct rec_epoch *e)
{
	enum rec_epoch_change c = r->have_epoch ? rec_epoch_compare(&r->epoch, e) : REC_EPOCH_NEW;

	if (c == REC_EPOCH_NEW) {
		if (r->have_epoch)
			tfc_info("new epoch (boot id %s, maps created %llu, migrations %u): "
				 "every counter counts from zero",
				 e->boot_id[0] ? e->boot_id : "unknown",
				 (unsigned long long)e->created_ns, e->migrations);
		rec_table_clear(&r->state);
		r->reset = 1;
	} else if (c == REC_EPOCH_MIGRATED) {
		tfc_info("the maps were migrated (%u): their counters go on", e->migrations);
	}
	r->epoch = *e;
	r->have_epoch = 1;
}

/* One counter read: its delta, and the value kept as the last read. */
static int account(struct rec *r, const struct rec_key *key, const struct counters *now, time_t t,
		   struct counters *d)
{
	struct rec_slot *s = rec_table_get(&r->state, key, 0);

	if (!s)
		return -ENOMEM;
	if (rec_delta(&s->val, now, d))
		tfc_debug("a counter went down (entry evicted and recreated): counted from zero");
	/* A new slot starts its idle time at its first read. */
	if (d->packets || d->bytes || !s->changed)
		s->changed = t;
	if (memcmp(&s->val, now, sizeof(*now))) {
		s->val = *now;
		s->dirty = 1;
	}
	return 0;
}

static int account_all(struct rec *r, const struct tfc_ip_entry *ip, size_t n_ip,
		       const struct tfc_stat_entry *st, size_t n_st, time_t t)
{
	__s64 hour = tfc_history_bucket(TFC_RES_HOUR, t), m5 = tfc_history_bucket(TFC_RES_5MIN, t);
	struct counters d;
	int err = 0;

	for (size_t i = 0; !err && i < n_ip; i++) {
		struct rec_key k = rec_key_ip(&ip[i].key);

		err = account(r, &k, &ip[i].val, t, &d)
			      ?: rec_pending_ip(&r->pending, &ip[i].key, &d, hour, m5);
	}
	for (size_t i = 0; !err && i < n_st; i++) {
		struct rec_key k = rec_key_stat(&st[i].key);

		err = account(r, &k, &st[i].val, t, &d) ?: rec_pending_add(&r->pending, &k, m5, &d);
	}
	return err;
}

/* Cgroup rows are kept per hour and coarser, as addresses. */
static int account_cgroups(struct rec *r, const struct tfc_cgroup_entry *cg, size_t n, time_t t)
{
	__s64 hour = tfc_history_bucket(TFC_RES_HOUR, t);
	struct counters d;
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		struct rec_key k = rec_key_cgroup(&cg[i].key);

		err = account(r, &k, &cg[i].val, t, &d)
			      ?: rec_pending_add(&r->pending, &k, hour, &d);
	}
	return err;
}

/*
 * Reads the maps between two reads of the epoch: when they differ the maps
 * changed under the read (purged, migrated) and the pass is dropped; the
 * next one reads them whole again.
 */
static int read_pass(struct rec *r, time_t t)
{
	struct tfc_ip_entry *ip = NULL;
	struct tfc_stat_entry *st = NULL;
	struct tfc_cgroup_entry *cg = NULL;
	struct rec_epoch e1, e2;
	size_t n_ip = 0, n_st = 0, n_cg = 0;
	int err;

	err = read_epoch(r, &e1);
	if (!err)
		err = dump_maps(r, &ip, &n_ip, &st, &n_st);
	if (!err)
		err = dump_cgroups(r, &cg, &n_cg);
	if (!err)
		err = read_epoch(r, &e2);
	if (!err && rec_epoch_compare(&e1, &e2) != REC_EPOCH_SAME) {
		tfc_info("the maps changed during the read: reading again next interval");
		err = -EAGAIN;
	}
	if (!err) {
		enter_epoch(r, &e1);
		err = account_all(r, ip, n_ip, st, n_st, t) ?: account_cgroups(r, cg, n_cg, t);
	}
	free(ip);
	free(st);
	free(cg);
	return err;
}

/* ---- saving and the loop --------------------------------------------------- */

static int save(struct rec *r, time_t t)
{
	struct rec_save s = {
		.pending = &r->pending,
		.state = &r->state,
		.epoch = &r->epoch,
		.reset = r->reset,
		.max_addresses = r->a.max_addresses,
		.cg_names = r->cg_names,
		.now = t,
	};
	int err, pruned;

	if (!r->have_epoch)
		return 0; /* nothing read yet: nothing to save */
	if (r->a.evict_idle) {
		err = rec_evict_idle(&r->ev, &r->state, &r->pending, t,
				     tfc_history_bucket(TFC_RES_HOUR, t),
				     tfc_history_bucket(TFC_RES_5MIN, t));
		if (err > 0)
			tfc_info("evicted %d idle entries", err);
	}
	s.gone = r->ev.gone;
	s.n_gone = r->ev.n_gone;
	err = rec_db_save(&r->db, &s);
	if (err) {
		tfc_err("saving to %s failed: the deltas stay in memory (and in the maps) until a "
			"save succeeds",
			r->a.db);
		return err;
	}
	rec_table_clear(&r->pending);
	r->ev.n_gone = 0;
	r->reset = 0;
	pruned = rec_db_prune(&r->db, r->a.retention, t, PRUNE_BUDGET);
	if (pruned > 0)
		tfc_debug("pruned %d buckets past their retention", pruned);
	return 0;
}

/* Waits up to ms for SIGINT or SIGTERM (blocked): the signal, or 0. */
static int wait_signal(const sigset_t *set, long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	int sig;

	if (ms <= 0)
		return 0;
	sig = sigtimedwait(set, NULL, &ts);
	return sig > 0 ? sig : 0;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int run_loop(struct rec *r)
{
	long long next_read = mono_ms(), next_save = next_read + r->a.save_interval * 1000LL;
	sigset_t set;
	int sig = 0, err = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		int rerr = read_pass(r, time(NULL));

		/* --once: the reader said why, and there is nothing new to save. */
		if (r->a.once && rerr)
			return rerr;
		if (rerr && rerr != -EAGAIN)
			tfc_err("reading the maps failed (%s): trying again next interval",
				strerror(-rerr));
		if (r->a.once || sig || mono_ms() >= next_save) {
			err = save(r, time(NULL));
			next_save = mono_ms() + r->a.save_interval * 1000LL;
			if (r->a.once)
				return err ?: rerr;
		}
		if (sig) {
			tfc_info("stopping on signal %d%s", sig,
				 err ? ": the last save failed" : ", history saved");
			return err;
		}
		next_read += r->a.interval * 1000LL;
		sig = wait_signal(&set, next_read - mono_ms());
	}
}

int cmd_record(int argc, char **argv)
{
	struct rec r;
	int err = record_parse(argc, argv, &r.a), have;

	if (err)
		return tfc_parse_exit(err);
	memset((char *)&r + sizeof(r.a), 0, sizeof(r) - sizeof(r.a));
	if (tfc_pin_args_resolve(&r.a.pins, &r.pins))
		return TFC_EXIT_FAIL;
	r.ev.pin = r.pins.ip;
	r.ev.control = r.pins.control;
	r.ev.idle = r.a.evict_idle;
	err = rec_db_open(&r.db, r.a.db);
	if (err)
		return TFC_EXIT_FAIL;
	err = rec_db_load(&r.db, &r.epoch, &have, &r.state, time(NULL));
	r.have_epoch = have;
	/* Without a cgroup v2 mount cgroup rows are recorded by id alone. */
	r.cg_names = tfc_cgroup_names_new(NULL, NULL);
	if (!err) {
		tfc_debug("recording %s into %s every %u s, saving every %u s", r.pins.dir, r.a.db,
			  r.a.interval, r.a.save_interval);
		err = run_loop(&r);
	}
	rec_db_close(&r.db);
	rec_table_free(&r.state);
	rec_table_free(&r.pending);
	tfc_cgroup_names_free(r.cg_names);
	free(r.ev.gone);
	return err ? TFC_EXIT_FAIL : TFC_EXIT_OK;
}
