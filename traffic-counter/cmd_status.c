// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "commands.h"
#include "loader/cgroup_attach.h"
#include "loader/discover.h"
#include "export/history.h"
#include "export/ipfix.h"
#include "export/json_writer.h"
#include "loader/loader.h"
#include "util/log.h"
#include "util/text.h"
#include "maps/maps.h"
#include "loader/migrate.h"
#include "status_cgroups.h"

enum {
	OPT_JSON = 1,
	OPT_DB,
	OPT_PODS_DIR,
};

static const struct tfc_opt status_opts[] = {
	{"json", NULL, "print one JSON object", OPT_JSON},
	{"db", "PATH", "the history database record writes (default " TFC_HISTORY_DB_DEFAULT ")",
	 OPT_DB},
	{"pods-dir", "DIR",
	 "the kubelet's pod directories NAMESPACE_NAME_UID, naming the heaviest cgroups' pods "
	 "(default " TFC_PODS_DIR_DEFAULT ")",
	 OPT_PODS_DIR},
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def status_def = {
	.name = "status",
	.summary = "Show attachments, map fill levels, flags and drops. Frames not counted\n"
		   "under an address are listed by reason, in total and per interface.",
	.opts = status_opts,
	.examples = "  traffic-counter status\n  traffic-counter status --json | jq .attachments\n",
};

static int status_opt(int id, const char *arg, void *ctx)
{
	struct status_args *a = ctx;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	if (id == OPT_DB) {
		a->db = arg;
		return 0;
	}
	if (id == OPT_PODS_DIR) {
		a->pods_dir = arg;
		return 0;
	}
	if (id != OPT_JSON)
		return -EINVAL;
	a->json = 1;
	return 0;
}

int status_parse(int argc, char **argv, struct status_args *a)
{
	memset(a, 0, sizeof(*a));
	a->db = TFC_HISTORY_DB_DEFAULT;
	return tfc_opts_parse(&status_def, argc, argv, status_opt, a);
}

/*
 * What status could not read, as negative errnos (0: read): the attachment
 * list and each map. Anything here makes status exit 1.
 */
struct status_unread {
	int links;
	int maps[TFC_MAP_KIND_MAX];
	int maps_elsewhere; /* a map missing here is pinned elsewhere */
	int prefix_map;	    /* -ENOENT (maps of an earlier layout) is no failure */
};

/* One map at its pin; max_entries and entries only when it could be read. */
struct status_map {
	const char *pin;
	__u32 max_entries;
	__u32 entries;
};

/*
 * The history database record writes, read-only. An absent file is no
 * error: record may not run on this node.
 */
struct status_history {
	const char *path;
	const char *error; /* why it could not be read, or NULL */
	__u64 size;	   /* the file and its WAL */
	int has_last_save;
	__s64 last_save; /* Unix seconds */
};

/*
 * Everything status shows, gathered once: the text and the JSON view are
 * both rendered from it, so neither can drift from the other.
 */
struct status {
	const char *pin_dir;
	struct tfc_found *recorded; /* attachments recorded here, with their maps */
	size_t n_recorded;
	struct tfc_found *others; /* ours in the kernel that no pin here records */
	size_t n_others;
	struct tfc_cgroup_attachment *cgroups; /* cgroup attachments recorded here */
	size_t n_cgroups;
	int migration_interrupted;
	struct status_map maps[TFC_MAP_KIND_MAX];
	char prefix_pin[PATH_MAX];
	struct status_map prefix; /* the overflow prefix map (layout 3) */
	int has_control;
	struct tfc_control control;
	int has_evictions;
	__u64 flow_evictions;
	__u64 flows_expired; /* removed by export-ipfix on expiry */
	int has_stats;
	struct counters totals[TFC_STAT_MAX];
	struct tfc_stat_entry *stats; /* per interface, direction and reason */
	size_t n_stats;
	struct status_history history;
	struct status_unread u;
	struct status_cgroups cgroup_map; /* optional: only with the cgroup programs */
	const char *pods_dir;		  /* names the heaviest cgroups' pods */
};

/* ---- gather ------------------------------------------------------------- */

/* The maps of the attachments recorded here, compared with the pinned ones. */
static struct tfc_found *recorded_maps(const struct tfc_attachment *list, size_t n,
				       const struct tfc_pins *pins)
{
	struct tfc_found *f = calloc(n ? n : 1, sizeof(*f));

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		f[i].a = list[i];
		snprintf(f[i].pin_dir, sizeof(f[i].pin_dir), "%s", pins->dir);
		tfc_prog_map_ids(list[i].prog_id, f[i].map_ids);
	}
	tfc_found_locate(f, n, pins);
	return f;
}

static int gather_recorded(struct status *st, const struct tfc_pins *pins)
{
	struct tfc_attachment *list;
	size_t n;
	int err;

	err = tfc_attachments_list(pins, &list, &n);
	if (err)
		return err;
	st->recorded = recorded_maps(list, n, pins);
	st->n_recorded = st->recorded ? n : 0;
	free(list);
	return st->recorded ? 0 : -ENOMEM;
}

/* Whether this pin directory records the attachment the kernel has. */
static int is_recorded(const struct tfc_found *f, const struct tfc_attachment *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (f->a.link_id && list[i].link_id == f->a.link_id)
			return 1;
		if (!f->a.link_id && !list[i].link_id && !list[i].other_netns &&
		    list[i].ap == f->a.ap && list[i].ifindex == f->a.ifindex)
			return 1;
	}
	return 0;
}

/* Ours in this netns, found from the kernel, that no pin here records. */
static void gather_others(struct status *st, const struct tfc_pins *pins)
{
	struct tfc_attachment *list = NULL;
	struct tfc_found *found;
	size_t n = 0, m, kept = 0;

	if (tfc_discover(&found, &m))
		return;
	tfc_attachments_list(pins, &list, &n);
	for (size_t i = 0; i < m; i++)
		if (!is_recorded(&found[i], list, n))
			found[kept++] = found[i];
	tfc_found_locate(found, kept, pins);
	st->others = found;
	st->n_others = kept;
	free(list);
}

/* Records that map `kind` could not be read (the first cause only). */
static void map_unread(struct status *st, enum tfc_map_kind kind, int err)
{
	if (err && !st->u.maps[kind])
		st->u.maps[kind] = err;
}

/*
 * Opens one map for status; one that cannot be opened is listed with the
 * cause and reported once, after the output, by report_unread.
 */
static int gather_map(struct status *st, const struct tfc_pins *pins, enum tfc_map_kind kind)
{
	struct status_map *m = &st->maps[kind];
	struct bpf_map_info info;
	int fd, err = 0;

	m->pin = tfc_map_pin(pins, kind);
	fd = tfc_map_open_flags(m->pin, kind, NULL, &info, TFC_OPEN_QUIET);
	if (fd < 0) {
		map_unread(st, kind, fd);
		return fd;
	}
	if (kind != TFC_MAP_CONTROL)
		err = tfc_map_count(fd, info.key_size, &m->entries);
	else
		m->entries = info.max_entries;
	m->max_entries = info.max_entries;
	map_unread(st, kind, err);
	return fd;
}

/* The prefix map beside the others: optional, it is not one of the map kinds. */
static void gather_prefix_map(struct status *st, const struct tfc_pins *pins)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd, err;

	st->prefix.pin = st->prefix_pin;
	err = tfc_prefix_pin(pins, st->prefix_pin, sizeof(st->prefix_pin));
	fd = err ?: tfc_prefix_map_open(st->prefix_pin, TFC_OPEN_QUIET);
	if (fd < 0) {
		st->u.prefix_map = fd;
		return;
	}
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	err = err ?: tfc_map_count(fd, info.key_size, &st->prefix.entries);
	st->prefix.max_entries = info.max_entries;
	st->u.prefix_map = err;
	close(fd);
}

static void gather_control(struct status *st, int fd)
{
	int err = tfc_control_read(fd, &st->control);

	st->has_control = !err;
	map_unread(st, TFC_MAP_CONTROL, err);
}

/* LRU evictions = inserts - entries - flows export-ipfix removed on expiry. */
static void gather_evictions(struct status *st, const struct tfc_pins *pins, int flow_fd,
			     int ctl_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), entries = 0;
	struct tfc_control c = {};

	/* Counted again after reading the inserts: an insert in between can then
	 * only hide an eviction, never show one that did not happen. */
	if (bpf_obj_get_info_by_fd(flow_fd, &info, &len) || tfc_control_read(ctl_fd, &c) ||
	    tfc_map_count(flow_fd, info.key_size, &entries))
		return;
	tfc_ipfix_expired_read(pins->dir, info.id, &st->flows_expired);
	st->flow_evictions = tfc_ipfix_evictions(c.flow_inserts, entries, st->flows_expired);
	st->has_evictions = 1;
}

static void gather_stats(struct status *st, int fd)
{
	int err = tfc_dump_stats(fd, &st->stats, &st->n_stats);

	if (err) {
		free(st->stats);
		st->stats = NULL;
		st->n_stats = 0;
		map_unread(st, TFC_MAP_STATS, err);
		return;
	}
	tfc_stats_totals(st->stats, st->n_stats, 0, -1, st->totals);
	st->has_stats = 1;
}

static __u64 file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? 0 : (__u64)sb.st_size;
}

static void gather_last_save(struct status_history *h)
{
	sqlite3_stmt *q = NULL;
	sqlite3 *db = NULL;

	/* Said in the output, not on stderr: the history is not status's to fail on. */
	if (tfc_history_open(h->path, TFC_HISTORY_RDONLY | TFC_HISTORY_QUIET, &db)) {
		h->error = "not a readable history database of this version";
		return;
	}
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'last_save'", -1, &q,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		h->has_last_save = 1;
		h->last_save = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void gather_history(struct status_history *h, const char *path)
{
	char wal[PATH_MAX];
	struct stat sb;

	h->path = path;
	if (stat(path, &sb)) {
		h->error = strerror(errno);
		return;
	}
	h->size = (__u64)sb.st_size;
	if (snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal))
		h->size += file_size(wal);
	gather_last_save(h);
}

static void status_gather(struct status *st, const struct tfc_pins *pins)
{
	int fds[TFC_MAP_KIND_MAX];

	st->pin_dir = pins->dir;
	st->u.links = gather_recorded(st, pins);
	gather_others(st, pins);
	tfc_cgroup_attachments_list(pins, &st->cgroups, &st->n_cgroups);
	st->migration_interrupted = tfc_migration_pending(pins);
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		fds[k] = gather_map(st, pins, k);
	if (fds[TFC_MAP_CONTROL] >= 0)
		gather_control(st, fds[TFC_MAP_CONTROL]);
	if (fds[TFC_MAP_CONTROL] >= 0 && fds[TFC_MAP_FLOW] >= 0)
		gather_evictions(st, pins, fds[TFC_MAP_FLOW], fds[TFC_MAP_CONTROL]);
	if (fds[TFC_MAP_STATS] >= 0)
		gather_stats(st, fds[TFC_MAP_STATS]);
	gather_prefix_map(st, pins);
	status_cgroups_gather(&st->cgroup_map, pins->dir, st->pods_dir);
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		if (fds[k] >= 0)
			close(fds[k]);
}

static void status_free(struct status *st)
{
	free(st->recorded);
	free(st->others);
	free(st->cgroups);
	free(st->stats);
}

/*
 * Reasons from TFC_STAT_EXCLUSIVE_MAX on remark on frames counted by address;
 * cgroup_map_full is neither: the cgroup programs' packets, no interface's.
 */
static int stat_is_remark(unsigned int reason)
{
	return reason >= TFC_STAT_EXCLUSIVE_MAX && reason != TFC_STAT_CGROUP_MAP_FULL;
}

static const char *unread_str(int err)
{
	switch (err) {
	case -ENOENT:
		return "not pinned";
	case -EPROTO:
		return "another layout";
	case -EACCES:
	case -EPERM:
		return "permission denied";
	default:
		return strerror(-err);
	}
}

/* ---- JSON --------------------------------------------------------------- */

/* Where an attachment's maps are: ids and pins by map name. */
static void json_map_fields(struct tfc_json *j, const struct tfc_found *f)
{
	tfc_json_bool(j, "maps_elsewhere", f->maps_elsewhere);
	tfc_json_obj_begin(j, "map_ids");
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		if (f->map_ids[k])
			tfc_json_u64(j, tfc_map_kind_name(k), f->map_ids[k]);
	tfc_json_obj_end(j);
	tfc_json_obj_begin(j, "map_pins");
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		if (f->map_ids[k] && f->map_pins[k][0])
			tfc_json_str(j, tfc_map_kind_name(k), f->map_pins[k]);
	tfc_json_obj_end(j);
}

/* "" as null: a pin or directory that was not found. */
static const char *or_null(const char *s)
{
	return *s ? s : NULL;
}

/* One attachment; `foreign`: found in the kernel, not recorded here. */
static void json_attachment(struct tfc_json *j, const struct tfc_found *f, int foreign)
{
	tfc_json_obj_begin(j, NULL);
	tfc_json_str(j, "ifname", f->a.ifname);
	tfc_json_u64(j, "ifindex", (uint64_t)f->a.ifindex);
	tfc_json_str(j, "attach_point", tfc_attach_point_str(f->a.ap));
	tfc_json_str(j, "mode", f->a.mode);
	tfc_json_u64(j, "prog_id", f->a.prog_id);
	tfc_json_u64(j, "link_id", f->a.link_id);
	tfc_json_str(j, "pin", foreign ? or_null(f->a.pin) : f->a.pin);
	tfc_json_u64(j, "netns", f->a.netns);
	if (foreign) {
		tfc_json_bool(j, "foreign", 1);
		tfc_json_str(j, "pin_dir", or_null(f->pin_dir));
		tfc_json_bool(j, "netns_verified", f->netns_verified);
	}
	json_map_fields(j, f);
	tfc_json_obj_end(j);
}

static void json_cgroup_attachment(struct tfc_json *j, const struct tfc_cgroup_attachment *c)
{
	tfc_json_obj_begin(j, NULL);
	tfc_json_u64(j, "cgroup_id", c->cgroup_id);
	tfc_json_str(j, "path", c->path[0] ? c->path : NULL);
	tfc_json_u64(j, "ingress_prog_id", c->prog_id[0]);
	tfc_json_u64(j, "egress_prog_id", c->prog_id[1]);
	tfc_json_u64(j, "ingress_link_id", c->link_id[0]);
	tfc_json_u64(j, "egress_link_id", c->link_id[1]);
	tfc_json_obj_end(j);
}

static void json_attachments(struct tfc_json *j, const struct status *st)
{
	tfc_json_arr_begin(j, "attachments");
	for (size_t i = 0; i < st->n_recorded; i++)
		json_attachment(j, &st->recorded[i], 0);
	tfc_json_arr_end(j);
	if (st->u.links)
		tfc_json_str(j, "attachments_error", unread_str(st->u.links));
	tfc_json_arr_begin(j, "cgroup_attachments");
	for (size_t i = 0; i < st->n_cgroups; i++)
		json_cgroup_attachment(j, &st->cgroups[i]);
	tfc_json_arr_end(j);
	tfc_json_arr_begin(j, "other_attachments");
	for (size_t i = 0; i < st->n_others; i++)
		json_attachment(j, &st->others[i], 1);
	tfc_json_arr_end(j);
}

/* A map that could not be read has "error" instead of its fill level. */
static void json_maps(struct tfc_json *j, const struct status *st)
{
	tfc_json_arr_begin(j, "maps");
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		tfc_json_obj_begin(j, NULL);
		tfc_json_str(j, "name", tfc_map_kind_name(k));
		tfc_json_str(j, "pin", st->maps[k].pin);
		if (st->u.maps[k]) {
			tfc_json_str(j, "error", unread_str(st->u.maps[k]));
		} else {
			tfc_json_u64(j, "max_entries", st->maps[k].max_entries);
			tfc_json_u64(j, "entries", st->maps[k].entries);
		}
		tfc_json_obj_end(j);
	}
	tfc_json_arr_end(j);
}

/*
 * Prefix rows (issue 19): the prefix map's fill level and, from the control
 * map, the overflow lengths (0: off) and whether aggregation rules apply.
 */
static void json_prefixes(struct tfc_json *j, const struct status *st)
{
	tfc_json_obj_begin(j, "prefixes");
	tfc_json_str(j, "pin", st->prefix.pin);
	if (st->u.prefix_map) {
		tfc_json_str(j, "error", unread_str(st->u.prefix_map));
	} else {
		tfc_json_u64(j, "max_entries", st->prefix.max_entries);
		tfc_json_u64(j, "entries", st->prefix.entries);
	}
#if TFC_ABI_VERSION >= 3
	if (st->has_control) {
		tfc_json_u64(j, "overflow_v4", st->control.overflow_v4);
		tfc_json_u64(j, "overflow_v6", st->control.overflow_v6);
		tfc_json_bool(j, "aggregate", !!(st->control.flags & TFC_FLAG_AGGREGATE));
	}
#endif
	tfc_json_obj_end(j);
}

static void json_control(struct tfc_json *j, const struct status *st)
{
	const struct tfc_control *c = &st->control;

	tfc_json_bool(j, "enable_flow_counters", !!(c->flags & TFC_FLAG_FLOW_COUNTERS));
	tfc_json_u64(j, "dropped_packets", c->dropped_packets);
	tfc_json_u64(j, "dropped_bytes", c->dropped_bytes);
	tfc_json_u64(j, "flow_inserts", c->flow_inserts);
	tfc_json_u64(j, "flow_insert_failures", c->flow_insert_failures);
	tfc_json_u64(j, "layout_version", c->abi_version);
#if TFC_ABI_VERSION >= 2
	tfc_json_u64(j, "created_unix_ns", c->created_ns);
	tfc_json_u64(j, "migrations", c->migrations);
#endif
}

static void json_counters(struct tfc_json *j, const char *name, const struct counters *c)
{
	tfc_json_obj_begin(j, name);
	tfc_json_u64(j, "packets", c->packets);
	tfc_json_u64(j, "bytes", c->bytes);
	tfc_json_obj_end(j);
}

static void json_stat_row(struct tfc_json *j, const struct tfc_stat_entry *e)
{
	const char *reason = tfc_stat_str(e->key.reason);

	tfc_json_obj_begin(j, NULL);
	tfc_json_u64(j, "ifindex", e->key.ifindex);
	tfc_json_str(j, "ifname", tfc_ifname(e->key.ifindex));
	tfc_json_str(j, "direction", tfc_direction_str(e->key.direction));
	tfc_json_str(j, "reason", reason ? reason : "?");
	tfc_json_bool(j, "remark", stat_is_remark(e->key.reason));
	tfc_json_u64(j, "packets", e->val.packets);
	tfc_json_u64(j, "bytes", e->val.bytes);
	tfc_json_obj_end(j);
}

/* "stats" keeps every reason (backward compatible); "stats_remarks" names the remarks. */
static void json_stats(struct tfc_json *j, const struct status *st)
{
	tfc_json_obj_begin(j, "stats");
	for (unsigned int i = 0; i < TFC_STAT_MAX; i++)
		if (tfc_stat_str(i))
			json_counters(j, tfc_stat_str(i), &st->totals[i]);
	tfc_json_obj_end(j);
	tfc_json_arr_begin(j, "stats_remarks");
	for (unsigned int i = TFC_STAT_EXCLUSIVE_MAX; i < TFC_STAT_MAX; i++)
		if (stat_is_remark(i))
			tfc_json_str(j, NULL, tfc_stat_str(i));
	tfc_json_arr_end(j);
	tfc_json_arr_begin(j, "stats_by_interface");
	for (size_t i = 0; i < st->n_stats; i++)
		json_stat_row(j, &st->stats[i]);
	tfc_json_arr_end(j);
}

static void json_history(struct tfc_json *j, const struct status_history *h)
{
	tfc_json_obj_begin(j, "history");
	tfc_json_str(j, "path", h->path);
	if (h->error && !h->size) {
		tfc_json_str(j, "error", h->error);
	} else {
		tfc_json_u64(j, "size", h->size);
		if (h->error)
			tfc_json_str(j, "error", h->error);
		else if (h->has_last_save)
			tfc_json_u64(j, "last_save", (__u64)h->last_save);
	}
	tfc_json_obj_end(j);
}

static void status_json(const struct status *st)
{
	struct tfc_json j;

	tfc_json_init(&j, stdout, TFC_JSON_DEPTH);
	tfc_json_obj_begin(&j, NULL);
	tfc_json_str(&j, "version", TFC_VERSION);
	tfc_json_str(&j, "pin_dir", st->pin_dir);
	json_attachments(&j, st);
	tfc_json_bool(&j, "migration_interrupted", st->migration_interrupted);
	json_maps(&j, st);
	json_prefixes(&j, st);
	if (st->has_control)
		json_control(&j, st);
	if (st->has_evictions) {
		tfc_json_u64(&j, "flow_evictions", st->flow_evictions);
		tfc_json_u64(&j, "flows_expired_by_exporter", st->flows_expired);
	}
	if (st->has_stats)
		json_stats(&j, st);
	status_cgroups_json(&j, &st->cgroup_map, st->has_control ? &st->control : NULL);
	json_history(&j, &st->history);
	tfc_json_obj_end(&j);
	tfc_json_finish(&j);
}

/* ---- text --------------------------------------------------------------- */

/* Where the maps of an attachment are, when not at this pin directory. */
static void text_maps_where(const struct tfc_found *f, int always)
{
	if (!always && !f->maps_elsewhere)
		return;
	printf("      maps%s:\n", always ? "" : " elsewhere (not the ones pinned here)");
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		if (!f->map_ids[k])
			continue;
		if (f->map_pins[k][0])
			printf("        %-22s id %-6u %s\n", tfc_map_kind_name(k), f->map_ids[k],
			       tfc_text_shown(f->map_pins[k]));
		else
			printf("        %-22s id %-6u (no pin found under %s)\n",
			       tfc_map_kind_name(k), f->map_ids[k], TFC_WALK_ROOT);
	}
}

static void text_attachments(const struct status *st)
{
	printf("\nattachments:\n");
	if (st->u.links)
		printf("  (cannot list them: %s)\n", unread_str(st->u.links));
	else if (!st->n_recorded && !st->n_cgroups)
		printf("  (none)\n");
	for (size_t i = 0; i < st->n_recorded; i++) {
		const struct tfc_found *f = &st->recorded[i];

		printf("  %-16s ifindex %-5d %-10s mode %-8s prog %u\n",
		       tfc_text_shown(f->a.ifname), f->a.ifindex, tfc_attach_point_str(f->a.ap),
		       f->a.mode, f->a.prog_id);
		text_maps_where(f, 0);
	}
	for (size_t i = 0; i < st->n_cgroups; i++) {
		const struct tfc_cgroup_attachment *c = &st->cgroups[i];

		printf("  cgroup %s (id %llu) ingress prog %u egress prog %u\n",
		       c->path[0] ? tfc_text_shown(c->path) : "(removed)",
		       (unsigned long long)c->cgroup_id, c->prog_id[0], c->prog_id[1]);
	}
}

static void text_other(const struct tfc_found *f)
{
	const char *ifname = tfc_text_shown(f->a.ifname);

	printf("  %-16s ifindex %-5d %-10s mode %-8s prog %u link %u\n", ifname, f->a.ifindex,
	       tfc_attach_point_str(f->a.ap), f->a.mode, f->a.prog_id, f->a.link_id);
	printf("      pin directory: %s\n",
	       f->pin_dir[0] ? tfc_text_shown(f->pin_dir) : "unknown (no pin found)");
	if (f->a.pin[0])
		printf("      pin: %s\n", tfc_text_shown(f->a.pin));
	if (!f->netns_verified)
		printf("      network namespace: assumed from ifindex and name (could not be "
		       "verified)\n");
	text_maps_where(f, 1);
	/* A name that needs escaping cannot be pasted: the ifindex can. */
	if (tfc_text_is_safe(f->a.ifname))
		printf("      remove: traffic-counter detach --iface %s --attach-point %s\n",
		       f->a.ifname, tfc_attach_point_str(f->a.ap));
	else
		printf("      remove: traffic-counter detach --iface \"$(ip -j link show | jq -r "
		       "'.[] | select(.ifindex == %d) | .ifname')\" --attach-point %s\n",
		       f->a.ifindex, tfc_attach_point_str(f->a.ap));
}

static void text_others(const struct status *st)
{
	if (!st->n_others)
		return;
	printf("\nother attachments (found in the kernel, not recorded in this pin directory):\n");
	for (size_t i = 0; i < st->n_others; i++)
		text_other(&st->others[i]);
}

/* A full IP map sums new addresses under ip_map_full: say so, and the way out. */
static void text_ip_map_full(const struct status *st)
{
	const struct status_map *m = &st->maps[TFC_MAP_IP];
	char hint[TFC_FULL_HINT_LEN];

	if (st->u.maps[TFC_MAP_IP] || !m->max_entries || m->entries < m->max_entries)
		return;
	printf("\nIP map full: %u of %u entries; %s\n", m->entries, m->max_entries,
	       tfc_ip_map_full_hint(st->has_control ? &st->control : NULL, hint, sizeof(hint)));
}

/* A full prefix map: frames of new prefixes go to ip_map_full too. */
static void text_prefix_map_full(const struct status *st)
{
	const struct status_map *m = &st->prefix;

	if (st->u.prefix_map || !m->max_entries || m->entries < m->max_entries)
		return;
	printf("\nprefix map full: %u of %u entries; frames of new prefixes go to "
	       "ip_map_full (see --prefix-map-size, --overflow-prefix)\n",
	       m->entries, m->max_entries);
}

static void text_prefix_map(const struct status *st)
{
	if (st->u.prefix_map)
		printf("  %-22s (%s at %s)\n", TFC_PREFIX_MAP_NAME, unread_str(st->u.prefix_map),
		       tfc_text_shown(st->prefix.pin));
	else /* the name is one wider than the column: the count one narrower */
		printf("  %-22s %7u / %-8u %s\n", TFC_PREFIX_MAP_NAME, st->prefix.entries,
		       st->prefix.max_entries, tfc_text_shown(st->prefix.pin));
}

static void text_maps(const struct status *st)
{
	printf("\nmaps:\n");
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		const struct status_map *m = &st->maps[k];

		if (st->u.maps[k])
			printf("  %-22s (%s at %s)\n", tfc_map_kind_name(k),
			       unread_str(st->u.maps[k]), tfc_text_shown(m->pin));
		else
			printf("  %-22s %8u / %-8u %s\n", tfc_map_kind_name(k), m->entries,
			       m->max_entries, tfc_text_shown(m->pin));
	}
	text_prefix_map(st);
	text_ip_map_full(st);
	text_prefix_map_full(st);
}

/* When these counters started, and how many migrations carried them. */
static void text_since(const struct status *st)
{
#if TFC_ABI_VERSION >= 2
	char when[32] = "?";
	struct tm tm;
	time_t t = (time_t)(st->control.created_ns / 1000000000ULL);

	if (t && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("\ncounting since: %s (layout version %u, migrations: %u)\n", when,
	       st->control.abi_version, st->control.migrations);
#else
	(void)st;
#endif
}

static void text_prefix_control(const struct status *st)
{
#if TFC_ABI_VERSION >= 3
	char v4[8], v6[8];

	printf("overflow to prefixes: IPv4 %s, IPv6 %s\n",
	       tfc_overflow_len_str(st->control.overflow_v4, v4, sizeof(v4)),
	       tfc_overflow_len_str(st->control.overflow_v6, v6, sizeof(v6)));
	printf("aggregation rules: %s\n", st->control.flags & TFC_FLAG_AGGREGATE ? "on" : "off");
#else
	(void)st;
#endif
}

static void text_control(const struct status *st)
{
	const struct tfc_control *c = &st->control;

	text_since(st);
	printf("\nflow counting: %s\n", c->flags & TFC_FLAG_FLOW_COUNTERS ? "on" : "off");
	printf("dropped (IP map full): %" PRIu64 " packets, %" PRIu64 " bytes\n",
	       (uint64_t)c->dropped_packets, (uint64_t)c->dropped_bytes);
	printf("flow inserts: %" PRIu64 " (failed %" PRIu64 ")\n", (uint64_t)c->flow_inserts,
	       (uint64_t)c->flow_insert_failures);
	printf("flow evictions: %" PRIu64 " (LRU; removed by export-ipfix: %" PRIu64 ")\n",
	       (uint64_t)st->flow_evictions, (uint64_t)st->flows_expired);
	text_prefix_control(st);
}

/* The totals of one kind: reasons not counted by address, or remarks. */
static void text_stats(const struct status *st, int remarks)
{
	printf("\n%s (packets, bytes):\n",
	       remarks ? "remarks on frames counted by address" : "not counted by address");
	for (unsigned int i = 0; i < TFC_STAT_MAX; i++) {
		if (stat_is_remark(i) != remarks || !tfc_stat_str(i) ||
		    i == TFC_STAT_CGROUP_MAP_FULL)
			continue;
		printf("  %-18s %14" PRIu64 " %18" PRIu64 "\n", tfc_stat_str(i),
		       (uint64_t)st->totals[i].packets, (uint64_t)st->totals[i].bytes);
	}
}

/* An attachment's name for ifindex ("(other netns)"), else this netns's. */
static const char *stat_ifname(const struct status *st, __u32 ifindex)
{
	for (size_t i = 0; i < st->n_recorded; i++)
		if ((__u32)st->recorded[i].a.ifindex == ifindex)
			return st->recorded[i].a.ifname;
	return tfc_ifname(ifindex);
}

/* The figures behind the totals, per interface and direction: non-zero only. */
static void text_stats_by_if(const struct status *st)
{
	int header = 0;

	for (size_t i = 0; i < st->n_stats; i++) {
		const struct tfc_stat_entry *e = &st->stats[i];
		const char *reason = tfc_stat_str(e->key.reason);

		if (!e->val.packets && !e->val.bytes)
			continue;
		if (!header++)
			printf("\nper interface:\n  %-16s %-9s %-18s %14s %18s\n", "interface",
			       "direction", "reason", "packets", "bytes");
		printf("  %-16s %-9s %-18s %14" PRIu64 " %18" PRIu64 "\n",
		       e->key.ifindex ? tfc_text_shown(stat_ifname(st, e->key.ifindex))
				      : "(cgroups)",
		       tfc_direction_str(e->key.direction), reason ? reason : "?",
		       (uint64_t)e->val.packets, (uint64_t)e->val.bytes);
	}
}

static void text_history(const struct status_history *h)
{
	char when[64] = "never";
	struct tm tm;
	time_t t;

	if (h->error) {
		printf("\nhistory: %s: %s\n", tfc_text_shown(h->path), h->error);
		return;
	}
	t = (time_t)h->last_save;
	if (h->has_last_save && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
	printf("\nhistory: %s (%" PRIu64 " bytes), last save: %s\n", tfc_text_shown(h->path),
	       (uint64_t)h->size, when);
}

static void status_text(const struct status *st)
{
	printf("pin directory: %s\n", tfc_text_shown(st->pin_dir));
	if (st->migration_interrupted)
		printf("migration: interrupted; run 'traffic-counter attach --iface IF --migrate' "
		       "to finish it\n");
	text_attachments(st);
	text_others(st);
	text_maps(st);
	if (st->has_control)
		text_control(st);
	if (st->has_control && st->has_stats) {
		text_stats(st, 0);
		text_stats(st, 1);
		text_stats_by_if(st);
	}
	status_cgroups_text(&st->cgroup_map, st->has_control ? &st->control : NULL);
	text_history(&st->history);
}

/*
 * Whether a map missing here is pinned elsewhere for one of the attachments
 * recorded here (their map pins from the kernel), rather than removed.
 */
static int missing_pinned_elsewhere(const struct status *st, const struct tfc_pins *pins)
{
	for (size_t i = 0; i < st->n_recorded; i++) {
		const struct tfc_found *f = &st->recorded[i];

		for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
			if (st->u.maps[k] == -ENOENT && f->map_ids[k] && f->map_pins[k][0] &&
			    strcmp(f->map_pins[k], tfc_map_pin(pins, k)))
				return 1;
	}
	return 0;
}

/* Where the pin directory would be is bpffs: it is just not made yet. */
static int parent_on_bpffs(const char *dir)
{
	char parent[PATH_MAX];
	struct statfs st;
	char *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	return !statfs(parent, &st) && st.f_type == BPF_FS_MAGIC;
}

/* No pin directory yet where one could be: bpffs is mounted above it. */
static int pin_dir_absent(const char *dir)
{
	return access(dir, F_OK) && errno == ENOENT && parent_on_bpffs(dir);
}

static int kernel_has_ours(void)
{
	struct tfc_found *found;
	size_t n = 0;

	if (tfc_discover(&found, &n))
		return 0;
	free(found);
	return n > 0;
}

/* ---- what could not be read: one line, after the output ---------------- */

enum unread_cause {
	UNREAD_PERMISSION,
	UNREAD_MISSING,
	UNREAD_LAYOUT,
	UNREAD_OTHER,
	UNREAD_CAUSES,
};

static enum unread_cause unread_cause(int err)
{
	if (err == -EACCES || err == -EPERM)
		return UNREAD_PERMISSION;
	if (err == -ENOENT)
		return UNREAD_MISSING;
	return err == -EPROTO ? UNREAD_LAYOUT : UNREAD_OTHER;
}

/* A map's name when it is pinned under it in the pin directory, else its pin. */
static const char *map_label(const struct tfc_pins *pins, enum tfc_map_kind k)
{
	const char *pin = tfc_map_pin(pins, k);
	size_t n = strlen(pins->dir);

	if (!strncmp(pin, pins->dir, n) && pin[n] == '/' &&
	    !strcmp(pin + n + 1, tfc_map_kind_name(k)))
		return tfc_map_kind_name(k);
	return pin;
}

/* The prefix map unread for another cause than its absence. */
static int prefix_map_failed(const struct status_unread *u)
{
	return u->prefix_map && u->prefix_map != -ENOENT;
}

/* The first error of one cause (0: nothing unread for that cause). */
static int first_of(const struct status_unread *u, enum unread_cause cause)
{
	if (u->links && unread_cause(u->links) == cause)
		return u->links;
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		if (u->maps[k] && unread_cause(u->maps[k]) == cause)
			return u->maps[k];
	if (prefix_map_failed(u) && unread_cause(u->prefix_map) == cause)
		return u->prefix_map;
	return 0;
}

/* Writes "links/, traffic_control": what could not be read for one cause. */
static void unread_list(FILE *f, const struct tfc_pins *pins, const struct status_unread *u,
			enum unread_cause cause)
{
	int n = 0;

	if (u->links && unread_cause(u->links) == cause) {
		fprintf(f, "%s/", TFC_LINKS_DIR_NAME);
		n++;
	}
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		if (u->maps[k] && unread_cause(u->maps[k]) == cause)
			fprintf(f, "%s%s", n++ ? ", " : "", map_label(pins, k));
	if (prefix_map_failed(u) && unread_cause(u->prefix_map) == cause)
		fprintf(f, "%s%s", n ? ", " : "", TFC_PREFIX_MAP_NAME);
}

/* The layout version of a control map of another layout, 0 if unknown. */
static __u32 other_layout(const struct tfc_pins *pins)
{
	struct bpf_map_info info;
	__u32 version = 0;
	int fd;

	fd = tfc_map_open_flags(pins->control, TFC_MAP_CONTROL, NULL, &info,
				TFC_OPEN_QUIET | TFC_OPEN_ANY_LAYOUT);
	if (fd < 0)
		return 0;
	if (tfc_control_version_fd(fd, &version) || version == TFC_ABI_VERSION)
		version = 0;
	close(fd);
	return version;
}

/* What is wrong with the items of one cause, and the way out. */
static void cause_words(FILE *f, const struct tfc_pins *pins, const struct status_unread *u,
			enum unread_cause cause, int err)
{
	__u32 version;

	switch (cause) {
	case UNREAD_PERMISSION:
		fprintf(f, ": permission denied (run as root, or give this user search and read "
			   "permission on them: PIN_GROUP in traffic-counter.conf does it for the "
			   "maps)");
		break;
	case UNREAD_MISSING:
		if (u->maps_elsewhere)
			fprintf(f,
				": not pinned here (the attachments recorded here count into "
				"the maps pinned elsewhere, listed above: pass --pin, --flow-pin "
				"and --control-pin to read them)");
		else
			fprintf(f, ": not pinned (attach pins all four maps, so it was removed "
				   "since: 'traffic-counter attach --iface IF' pins a new one, "
				   "counting from zero)");
		break;
	case UNREAD_LAYOUT:
		/* A control map of another layout version explains the others. */
		version = u->maps[TFC_MAP_CONTROL] == -EPROTO ? other_layout(pins) : 0;
		fprintf(f, ": ");
		if (version)
			tfc_layout_message(f, pins->control, version);
		else
			fprintf(f, "not a traffic-counter map of this version (made by another "
				   "program or an incompatible version: remove it, or pass the pin "
				   "of a traffic-counter map)");
		break;
	default:
		fprintf(f, ": %s", strerror(-err));
		break;
	}
}

/*
 * Names, in one line, what status could not read and why, with the way out.
 * `said`: an error already logged about the pin directory itself (a
 * permission problem is then not told again); `empty`: the attachments were
 * listed and there are none.
 */
static void report_unread(const struct tfc_pins *pins, const struct status_unread *u, int said,
			  int empty)
{
	char *msg = NULL;
	size_t len = 0, parts = 0;
	FILE *f;
	int err;

	if (u->maps[TFC_MAP_IP] == -ENOENT && u->maps[TFC_MAP_FLOW] == -ENOENT &&
	    u->maps[TFC_MAP_CONTROL] == -ENOENT && u->maps[TFC_MAP_STATS] == -ENOENT && empty) {
		tfc_err("no maps pinned in %s: nothing is attached there (run 'traffic-counter "
			"attach' first, or pass the --pin-dir used then)",
			pins->dir);
		return;
	}
	f = open_memstream(&msg, &len);
	if (!f) {
		tfc_err("cannot read everything in %s", pins->dir);
		return;
	}
	fprintf(f, "cannot read everything in %s: ", pins->dir);
	for (int c = 0; c < UNREAD_CAUSES; c++) {
		err = first_of(u, c);
		if (!err || (c == UNREAD_PERMISSION && unread_cause(said) == UNREAD_PERMISSION))
			continue;
		fprintf(f, "%s", parts++ ? "; " : "");
		unread_list(f, pins, u, c);
		cause_words(f, pins, u, c, err);
	}
	fclose(f);
	if (parts)
		tfc_err("%s", msg);
	free(msg);
}

static int any_unread(const struct status_unread *u)
{
	int any = u->links;

	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		any |= u->maps[k];
	return any != 0 || prefix_map_failed(u);
}

/* Made by a version without the one-namespace rule: keys may be merged. */
static void warn_mixed_netns(const struct tfc_pins *pins)
{
	if (tfc_pins_netns(pins) == TFC_NETNS_MIXED)
		tfc_warn("pin directory %s records attachments in more than one network "
			 "namespace: interfaces with the same ifindex there may share counters; "
			 "detach one namespace's attachments, or purge and attach each namespace "
			 "with its own --pin-dir",
			 pins->dir);
}

/*
 * Whether the cgroup map needs a line of its own: only when nothing else
 * was unread. Otherwise the pin directory or the other maps were already
 * named with the cause, which is the cgroup map's too (a directory this
 * user cannot search, or a pin directory that is not one): one line.
 */
static int cgroups_unread_alone(const struct status *st, int dir_err)
{
	return !dir_err && status_cgroups_unread(&st->cgroup_map) && !any_unread(&st->u);
}

/* Shows the status gathered, then names what could not be read; the exit code. */
static int status_show(const struct status_args *a, const struct tfc_pins *pins, int dir_err)
{
	struct status st = {};
	int ret;

	st.pods_dir = a->pods_dir;
	status_gather(&st, pins);
	gather_history(&st.history, a->db);
	if (a->json)
		status_json(&st);
	else
		status_text(&st);
	fflush(stdout);
	st.u.maps_elsewhere = missing_pinned_elsewhere(&st, pins);
	if (dir_err != -ENOENT)
		report_unread(pins, &st.u, dir_err, !st.u.links && !st.n_recorded);
	if (cgroups_unread_alone(&st, dir_err))
		tfc_err("cannot read %s: %s", st.cgroup_map.pin, strerror(-st.cgroup_map.err));
	/* Exit 0 only when everything status shows was read. */
	ret = dir_err || any_unread(&st.u) || status_cgroups_unread(&st.cgroup_map) ? TFC_EXIT_FAIL
										    : TFC_EXIT_OK;
	status_free(&st);
	return ret;
}

int cmd_status(int argc, char **argv)
{
	struct status_args a;
	struct tfc_pins pins;
	int ret, dir_err;

	ret = tfc_parse_exit(status_parse(argc, argv, &a));
	if (ret >= 0)
		return ret;
	if (tfc_pin_args_resolve(&a.pins, &pins))
		return TFC_EXIT_USAGE;
	tfc_ifname_netns(tfc_pins_netns(&pins)); /* ifnames as the counters saw them */
	warn_mixed_netns(&pins);
	/* No pin directory, but attachments made with other pin options: those
	 * are still worth showing (and status still exits 1: nothing is pinned
	 * where it was asked to look). */
	if (pin_dir_absent(pins.dir) && kernel_has_ours()) {
		tfc_warn("pin directory %s does not exist; showing what is attached in the kernel",
			 pins.dir);
		dir_err = -ENOENT;
	} else {
		/* A pin directory this user cannot search: still show what is known. */
		dir_err = tfc_bpffs_prepare(pins.dir, 0);
		if (dir_err && unread_cause(dir_err) != UNREAD_PERMISSION)
			return TFC_EXIT_FAIL;
	}
	return status_show(&a, &pins, dir_err);
}
