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
#include <json-c/json.h>

#include "commands.h"
#include "loader/discover.h"
#include "export/history.h"
#include "export/ipfix.h"
#include "loader/loader.h"
#include "util/log.h"
#include "maps/maps.h"
#include "loader/migrate.h"

enum {
	OPT_JSON = 1,
	OPT_DB,
};

static const struct tfc_opt status_opts[] = {
	{"json", NULL, "print one JSON object", OPT_JSON},
	{"db", "PATH", "the history database record writes (default " TFC_HISTORY_DB_DEFAULT ")",
	 OPT_DB},
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

/* Where an attachment's maps are: ids and pins by map name. */
static void map_fields(struct json_object *o, const struct tfc_found *f)
{
	struct json_object *ids = json_object_new_object();
	struct json_object *where = json_object_new_object();

	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		if (!f->map_ids[k])
			continue;
		json_object_object_add(ids, tfc_map_kind_name(k),
				       json_object_new_uint64(f->map_ids[k]));
		if (f->map_pins[k][0])
			json_object_object_add(where, tfc_map_kind_name(k),
					       json_object_new_string(f->map_pins[k]));
	}
	json_object_object_add(o, "maps_elsewhere", json_object_new_boolean(f->maps_elsewhere));
	json_object_object_add(o, "map_ids", ids);
	json_object_object_add(o, "map_pins", where);
}

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

/*
 * What status could not read, as negative errnos (0: read): the attachment
 * list and each map. Anything here makes status exit 1.
 */
struct status_unread {
	int links;
	int maps[TFC_MAP_KIND_MAX];
	int maps_elsewhere; /* a map missing here is pinned elsewhere */
};

static struct json_object *attachments_json(const struct tfc_pins *pins, int *err)
{
	struct json_object *arr = json_object_new_array();
	struct tfc_attachment *list;
	struct tfc_found *found;
	size_t n;

	*err = tfc_attachments_list(pins, &list, &n);
	if (*err)
		return arr;
	found = recorded_maps(list, n, pins);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "ifname", json_object_new_string(list[i].ifname));
		json_object_object_add(o, "ifindex", json_object_new_int(list[i].ifindex));
		json_object_object_add(o, "attach_point",
				       json_object_new_string(tfc_attach_point_str(list[i].ap)));
		json_object_object_add(o, "mode", json_object_new_string(list[i].mode));
		json_object_object_add(o, "prog_id", json_object_new_uint64(list[i].prog_id));
		json_object_object_add(o, "link_id", json_object_new_uint64(list[i].link_id));
		json_object_object_add(o, "pin", json_object_new_string(list[i].pin));
		json_object_object_add(o, "netns", json_object_new_uint64(list[i].netns));
		if (found)
			map_fields(o, &found[i]);
		json_object_array_add(arr, o);
	}
	free(found);
	free(list);
	return arr;
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

static struct json_object *other_json(const struct tfc_found *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ifname", json_object_new_string(f->a.ifname));
	json_object_object_add(o, "ifindex", json_object_new_int(f->a.ifindex));
	json_object_object_add(o, "attach_point",
			       json_object_new_string(tfc_attach_point_str(f->a.ap)));
	json_object_object_add(o, "mode", json_object_new_string(f->a.mode));
	json_object_object_add(o, "prog_id", json_object_new_uint64(f->a.prog_id));
	json_object_object_add(o, "link_id", json_object_new_uint64(f->a.link_id));
	json_object_object_add(o, "pin", f->a.pin[0] ? json_object_new_string(f->a.pin) : NULL);
	json_object_object_add(o, "netns", json_object_new_uint64(f->a.netns));
	json_object_object_add(o, "foreign", json_object_new_boolean(1));
	json_object_object_add(o, "pin_dir",
			       f->pin_dir[0] ? json_object_new_string(f->pin_dir) : NULL);
	json_object_object_add(o, "netns_verified", json_object_new_boolean(f->netns_verified));
	map_fields(o, f);
	return o;
}

/* Ours in this netns, found from the kernel, that no pin here records. */
static struct json_object *other_attachments_json(const struct tfc_pins *pins)
{
	struct json_object *arr = json_object_new_array();
	struct tfc_attachment *list = NULL;
	struct tfc_found *found;
	size_t n = 0, m, kept = 0;

	if (tfc_discover(&found, &m))
		return arr;
	tfc_attachments_list(pins, &list, &n);
	for (size_t i = 0; i < m; i++)
		if (!is_recorded(&found[i], list, n))
			found[kept++] = found[i];
	tfc_found_locate(found, kept, pins);
	for (size_t i = 0; i < kept; i++)
		json_object_array_add(arr, other_json(&found[i]));
	free(list);
	free(found);
	return arr;
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

/* Records that map `kind` could not be read (the first cause only). */
static void map_unread(struct json_object *maps, enum tfc_map_kind kind, int err,
		       struct status_unread *u)
{
	struct json_object *o = json_object_array_get_idx(maps, kind);

	if (!err || u->maps[kind])
		return;
	u->maps[kind] = err;
	json_object_object_del(o, "max_entries");
	json_object_object_del(o, "entries");
	json_object_object_add(o, "error", json_object_new_string(unread_str(err)));
}

/*
 * Opens one map for status; one that cannot be opened is listed with the
 * cause and reported once, after the output, by report_unread.
 */
static int map_json(struct json_object *arr, const char *pin, enum tfc_map_kind kind,
		    struct status_unread *u)
{
	struct json_object *o = json_object_new_object();
	struct bpf_map_info info;
	__u32 entries = 0;
	int fd, err = 0;

	json_object_object_add(o, "name", json_object_new_string(tfc_map_kind_name(kind)));
	json_object_object_add(o, "pin", json_object_new_string(pin));
	json_object_array_add(arr, o);
	fd = tfc_map_open_flags(pin, kind, NULL, &info, TFC_OPEN_QUIET);
	if (fd < 0) {
		map_unread(arr, kind, fd, u);
		return fd;
	}
	if (kind != TFC_MAP_CONTROL)
		err = tfc_map_count(fd, info.key_size, &entries);
	else
		entries = info.max_entries;
	if (err) {
		map_unread(arr, kind, err, u);
		return fd;
	}
	json_object_object_add(o, "max_entries", json_object_new_uint64(info.max_entries));
	json_object_object_add(o, "entries", json_object_new_uint64(entries));
	return fd;
}

static void add_counters(struct json_object *obj, const char *name, const struct counters *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", json_object_new_uint64(c->packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(c->bytes));
	json_object_object_add(obj, name, o);
}

static int control_json(struct json_object *root, int fd)
{
	struct tfc_control c = {};
	int err;

	err = tfc_control_read(fd, &c);
	if (err)
		return err;
	json_object_object_add(root, "enable_flow_counters",
			       json_object_new_boolean(!!(c.flags & TFC_FLAG_FLOW_COUNTERS)));
	json_object_object_add(root, "dropped_packets", json_object_new_uint64(c.dropped_packets));
	json_object_object_add(root, "dropped_bytes", json_object_new_uint64(c.dropped_bytes));
	json_object_object_add(root, "flow_inserts", json_object_new_uint64(c.flow_inserts));
	json_object_object_add(root, "flow_insert_failures",
			       json_object_new_uint64(c.flow_insert_failures));
	json_object_object_add(root, "layout_version", json_object_new_uint64(c.abi_version));
#if TFC_ABI_VERSION >= 2
	json_object_object_add(root, "created_unix_ns", json_object_new_uint64(c.created_ns));
	json_object_object_add(root, "migrations", json_object_new_uint64(c.migrations));
#endif
	return 0;
}

/* LRU evictions = inserts - entries - flows export-ipfix removed on expiry. */
static void evictions_json(struct json_object *root, const struct tfc_pins *pins, int flow_fd,
			   int ctl_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), entries = 0;
	struct tfc_control c = {};
	__u64 expired = 0;

	/* Counted again after reading the inserts: an insert in between can then
	 * only hide an eviction, never show one that did not happen. */
	if (bpf_obj_get_info_by_fd(flow_fd, &info, &len) || tfc_control_read(ctl_fd, &c) ||
	    tfc_map_count(flow_fd, info.key_size, &entries))
		return;
	tfc_ipfix_expired_read(pins->dir, info.id, &expired);
	json_object_object_add(
		root, "flow_evictions",
		json_object_new_uint64(tfc_ipfix_evictions(c.flow_inserts, entries, expired)));
	json_object_object_add(root, "flows_expired_by_exporter", json_object_new_uint64(expired));
}

/* Reasons from TFC_STAT_EXCLUSIVE_MAX on remark on frames counted by address. */
static int stat_is_remark(unsigned int reason)
{
	return reason >= TFC_STAT_EXCLUSIVE_MAX;
}

/* "stats" keeps every reason (backward compatible); this names the remarks. */
static struct json_object *remarks_json(void)
{
	struct json_object *arr = json_object_new_array();

	for (unsigned int i = TFC_STAT_EXCLUSIVE_MAX; i < TFC_STAT_MAX; i++)
		json_object_array_add(arr, json_object_new_string(tfc_stat_str(i)));
	return arr;
}

static int stats_json(struct json_object *root, int fd)
{
	struct json_object *totals, *by_if;
	struct counters sum[TFC_STAT_MAX];
	struct tfc_stat_entry *e = NULL;
	size_t n = 0;
	int err;

	err = tfc_dump_stats(fd, &e, &n);
	if (err) {
		free(e);
		return err;
	}
	totals = json_object_new_object();
	by_if = json_object_new_array();
	tfc_stats_totals(e, n, 0, -1, sum);
	for (unsigned int i = 0; i < TFC_STAT_MAX; i++)
		add_counters(totals, tfc_stat_str(i), &sum[i]);
	json_object_object_add(root, "stats", totals);
	json_object_object_add(root, "stats_remarks", remarks_json());
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const char *reason = tfc_stat_str(e[i].key.reason);

		json_object_object_add(o, "ifindex", json_object_new_uint64(e[i].key.ifindex));
		json_object_object_add(o, "ifname",
				       json_object_new_string(tfc_ifname(e[i].key.ifindex)));
		json_object_object_add(
			o, "direction",
			json_object_new_string(tfc_direction_str(e[i].key.direction)));
		json_object_object_add(o, "reason", json_object_new_string(reason ? reason : "?"));
		json_object_object_add(o, "remark",
				       json_object_new_boolean(stat_is_remark(e[i].key.reason)));
		json_object_object_add(o, "packets", json_object_new_uint64(e[i].val.packets));
		json_object_object_add(o, "bytes", json_object_new_uint64(e[i].val.bytes));
		json_object_array_add(by_if, o);
	}
	json_object_object_add(root, "stats_by_interface", by_if);
	free(e);
	return 0;
}

/*
 * The history database, read-only: its path, size (with the WAL), last
 * save. An absent file is no error: record may not run here.
 */
static struct json_object *history_json(const char *path)
{
	struct json_object *h = json_object_new_object();
	char wal[PATH_MAX];
	sqlite3_stmt *st = NULL;
	struct stat sb;
	sqlite3 *db = NULL;
	long long size;

	json_object_object_add(h, "path", json_object_new_string(path));
	if (stat(path, &sb)) {
		json_object_object_add(h, "error", json_object_new_string(strerror(errno)));
		return h;
	}
	size = sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (!stat(wal, &sb))
		size += sb.st_size;
	json_object_object_add(h, "size", json_object_new_int64(size));
	/* A bad file logs its one line on stderr; the JSON says it too. */
	if (tfc_history_open(path, TFC_HISTORY_RDONLY, &db)) {
		json_object_object_add(h, "error",
				       json_object_new_string("not a readable history database "
							      "of this version"));
		return h;
	}
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'last_save'", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		json_object_object_add(h, "last_save",
				       json_object_new_int64(sqlite3_column_int64(st, 0)));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return h;
}

static struct json_object *status_collect(const struct tfc_pins *pins, const char *db,
					  struct status_unread *u)
{
	struct json_object *root = json_object_new_object();
	struct json_object *maps = json_object_new_array();
	int fds[TFC_MAP_KIND_MAX];

	json_object_object_add(root, "version", json_object_new_string(TFC_VERSION));
	json_object_object_add(root, "pin_dir", json_object_new_string(pins->dir));
	json_object_object_add(root, "attachments", attachments_json(pins, &u->links));
	if (u->links)
		json_object_object_add(root, "attachments_error",
				       json_object_new_string(unread_str(u->links)));
	json_object_object_add(root, "other_attachments", other_attachments_json(pins));
	json_object_object_add(root, "migration_interrupted",
			       json_object_new_boolean(tfc_migration_pending(pins)));
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		fds[k] = map_json(maps, tfc_map_pin(pins, k), k, u);
	json_object_object_add(root, "maps", maps);
	json_object_object_add(root, "history", history_json(db));
	if (fds[TFC_MAP_CONTROL] >= 0)
		map_unread(maps, TFC_MAP_CONTROL, control_json(root, fds[TFC_MAP_CONTROL]), u);
	if (fds[TFC_MAP_CONTROL] >= 0 && fds[TFC_MAP_FLOW] >= 0)
		evictions_json(root, pins, fds[TFC_MAP_FLOW], fds[TFC_MAP_CONTROL]);
	if (fds[TFC_MAP_STATS] >= 0)
		map_unread(maps, TFC_MAP_STATS, stats_json(root, fds[TFC_MAP_STATS]), u);
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	return root;
}

static uint64_t get_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

/* When these counters started, and how many migrations carried them. */
static void print_since(struct json_object *root)
{
	struct json_object *v;
	char when[32] = "?";
	struct tm tm;
	time_t t;

	if (!json_object_object_get_ex(root, "created_unix_ns", &v))
		return;
	t = (time_t)(json_object_get_uint64(v) / 1000000000ULL);
	if (t && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("\ncounting since: %s (layout version %" PRIu64 ", migrations: %" PRIu64 ")\n", when,
	       get_u64(root, "layout_version"), get_u64(root, "migrations"));
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

/* Where the maps of an attachment are, when not at this pin directory. */
static void print_maps_where(struct json_object *a, int always)
{
	struct json_object *v, *ids, *where, *pin;

	if (!always &&
	    !(json_object_object_get_ex(a, "maps_elsewhere", &v) && json_object_get_boolean(v)))
		return;
	if (!json_object_object_get_ex(a, "map_ids", &ids) ||
	    !json_object_object_get_ex(a, "map_pins", &where))
		return;
	printf("      maps%s:\n", always ? "" : " elsewhere (not the ones pinned here)");
	json_object_object_foreach(ids, name, id)
	{
		if (json_object_object_get_ex(where, name, &pin))
			printf("        %-22s id %-6" PRIu64 " %s\n", name,
			       json_object_get_uint64(id), json_object_get_string(pin));
		else
			printf("        %-22s id %-6" PRIu64 " (no pin found under %s)\n", name,
			       json_object_get_uint64(id), TFC_WALK_ROOT);
	}
}

/* A string that may be null: "" then. */
static const char *opt_str(struct json_object *o, const char *key)
{
	const char *s = get_str(o, key);

	return s ? s : "";
}

static void print_others(struct json_object *root)
{
	struct json_object *arr, *v;
	size_t n;

	if (!json_object_object_get_ex(root, "other_attachments", &arr))
		return;
	n = json_object_array_length(arr);
	if (!n)
		return;
	printf("\nother attachments (found in the kernel, not recorded in this pin directory):\n");
	for (size_t i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(arr, i);
		const char *dir = opt_str(a, "pin_dir");

		printf("  %-16s ifindex %-5" PRIu64 " %-10s mode %-8s prog %" PRIu64
		       " link %" PRIu64 "\n",
		       get_str(a, "ifname"), get_u64(a, "ifindex"), get_str(a, "attach_point"),
		       get_str(a, "mode"), get_u64(a, "prog_id"), get_u64(a, "link_id"));
		printf("      pin directory: %s\n", *dir ? dir : "unknown (no pin found)");
		if (*opt_str(a, "pin"))
			printf("      pin: %s\n", opt_str(a, "pin"));
		if (json_object_object_get_ex(a, "netns_verified", &v) &&
		    !json_object_get_boolean(v))
			printf("      network namespace: assumed from ifindex and name (could not "
			       "be verified)\n");
		print_maps_where(a, 1);
		printf("      remove: traffic-counter detach --iface %s --attach-point %s\n",
		       get_str(a, "ifname"), get_str(a, "attach_point"));
	}
}

/* The totals of one kind: reasons not counted by address, or remarks. */
static void print_stats(struct json_object *stats, int remarks)
{
	printf("\n%s (packets, bytes):\n",
	       remarks ? "remarks on frames counted by address" : "not counted by address");
	for (unsigned int i = 0; i < TFC_STAT_MAX; i++) {
		struct json_object *c;

		if (stat_is_remark(i) != remarks ||
		    !json_object_object_get_ex(stats, tfc_stat_str(i), &c))
			continue;
		printf("  %-18s %14" PRIu64 " %18" PRIu64 "\n", tfc_stat_str(i),
		       get_u64(c, "packets"), get_u64(c, "bytes"));
	}
}

/* An attachment's name for ifindex ("(other netns)"), else this netns's. */
static const char *stat_ifname(struct json_object *root, struct json_object *row)
{
	struct json_object *arr;
	uint64_t ifindex = get_u64(row, "ifindex");

	if (json_object_object_get_ex(root, "attachments", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *a = json_object_array_get_idx(arr, i);

			if (get_u64(a, "ifindex") == ifindex)
				return get_str(a, "ifname");
		}
	return get_str(row, "ifname");
}

/* The figures behind the totals, per interface and direction: non-zero only. */
static void print_stats_by_if(struct json_object *root)
{
	struct json_object *arr;
	int header = 0;

	if (!json_object_object_get_ex(root, "stats_by_interface", &arr))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *row = json_object_array_get_idx(arr, i);

		if (!get_u64(row, "packets") && !get_u64(row, "bytes"))
			continue;
		if (!header++)
			printf("\nper interface:\n  %-16s %-9s %-18s %14s %18s\n", "interface",
			       "direction", "reason", "packets", "bytes");
		printf("  %-16s %-9s %-18s %14" PRIu64 " %18" PRIu64 "\n", stat_ifname(root, row),
		       get_str(row, "direction"), get_str(row, "reason"), get_u64(row, "packets"),
		       get_u64(row, "bytes"));
	}
}

/* A full IP map sums new addresses under ip_map_full: say so, and the way out. */
static void print_ip_map_full(struct json_object *maps)
{
	struct json_object *m = json_object_array_get_idx(maps, TFC_MAP_IP), *max;

	if (!m || !json_object_object_get_ex(m, "max_entries", &max) ||
	    !json_object_get_uint64(max) || get_u64(m, "entries") < json_object_get_uint64(max))
		return;
	printf("\nIP map full: %" PRIu64 " of %" PRIu64 " entries; new addresses go to "
	       "ip_map_full (see --ip-map-size, attach --migrate)\n",
	       get_u64(m, "entries"), json_object_get_uint64(max));
}

static void print_history(struct json_object *root)
{
	struct json_object *h, *v;
	char when[64] = "never";

	if (!json_object_object_get_ex(root, "history", &h))
		return;
	if (json_object_object_get_ex(h, "error", &v)) {
		printf("\nhistory: %s: %s\n", get_str(h, "path"), json_object_get_string(v));
		return;
	}
	if (json_object_object_get_ex(h, "last_save", &v)) {
		time_t t = (time_t)json_object_get_int64(v);
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
	}
	printf("\nhistory: %s (%" PRIu64 " bytes), last save: %s\n", get_str(h, "path"),
	       get_u64(h, "size"), when);
}

static void print_text(struct json_object *root)
{
	struct json_object *arr, *stats, *flow;
	size_t n;

	printf("pin directory: %s\n", get_str(root, "pin_dir"));
	if (json_object_object_get_ex(root, "migration_interrupted", &arr) &&
	    json_object_get_boolean(arr))
		printf("migration: interrupted; run 'traffic-counter attach --iface IF --migrate' "
		       "to finish it\n");
	printf("\nattachments:\n");
	json_object_object_get_ex(root, "attachments", &arr);
	n = json_object_array_length(arr);
	if (json_object_object_get_ex(root, "attachments_error", &flow))
		printf("  (cannot list them: %s)\n", json_object_get_string(flow));
	else if (!n)
		printf("  (none)\n");
	for (size_t i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(arr, i);

		printf("  %-16s ifindex %-5" PRIu64 " %-10s mode %-8s prog %" PRIu64 "\n",
		       get_str(a, "ifname"), get_u64(a, "ifindex"), get_str(a, "attach_point"),
		       get_str(a, "mode"), get_u64(a, "prog_id"));
		print_maps_where(a, 0);
	}
	print_others(root);
	printf("\nmaps:\n");
	json_object_object_get_ex(root, "maps", &arr);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *m = json_object_array_get_idx(arr, i);
		struct json_object *max;

		if (!json_object_object_get_ex(m, "max_entries", &max)) {
			printf("  %-22s (%s at %s)\n", get_str(m, "name"), get_str(m, "error"),
			       get_str(m, "pin"));
			continue;
		}
		printf("  %-22s %8" PRIu64 " / %-8" PRIu64 " %s\n", get_str(m, "name"),
		       get_u64(m, "entries"), get_u64(m, "max_entries"), get_str(m, "pin"));
	}
	print_ip_map_full(arr);
	print_history(root);
	if (!json_object_object_get_ex(root, "enable_flow_counters", &flow))
		return;
	print_since(root);
	printf("\nflow counting: %s\n", json_object_get_boolean(flow) ? "on" : "off");
	printf("dropped (IP map full): %" PRIu64 " packets, %" PRIu64 " bytes\n",
	       get_u64(root, "dropped_packets"), get_u64(root, "dropped_bytes"));
	printf("flow inserts: %" PRIu64 " (failed %" PRIu64 ")\n", get_u64(root, "flow_inserts"),
	       get_u64(root, "flow_insert_failures"));
	printf("flow evictions: %" PRIu64 " (LRU; removed by export-ipfix: %" PRIu64 ")\n",
	       get_u64(root, "flow_evictions"), get_u64(root, "flows_expired_by_exporter"));
	if (!json_object_object_get_ex(root, "stats", &stats))
		return;
	print_stats(stats, 0);
	print_stats(stats, 1);
	print_stats_by_if(root);
}

/*
 * Whether a map missing here is pinned elsewhere for one of the attachments
 * recorded here (their "map_pins" from the kernel), rather than removed.
 */
static int missing_pinned_elsewhere(struct json_object *arr, const struct tfc_pins *pins,
				    const struct status_unread *u)
{
	struct json_object *where, *pin;

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(arr, i), "map_pins",
					       &where))
			continue;
		for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
			if (u->maps[k] == -ENOENT &&
			    json_object_object_get_ex(where, tfc_map_kind_name(k), &pin) &&
			    strcmp(json_object_get_string(pin), tfc_map_pin(pins, k)))
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

/* The first error of one cause (0: nothing unread for that cause). */
static int first_of(const struct status_unread *u, enum unread_cause cause)
{
	if (u->links && unread_cause(u->links) == cause)
		return u->links;
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++)
		if (u->maps[k] && unread_cause(u->maps[k]) == cause)
			return u->maps[k];
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
	return any != 0;
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

int cmd_status(int argc, char **argv)
{
	struct status_unread u = {};
	struct json_object *root, *arr;
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
	root = status_collect(&pins, a.db, &u);
	if (a.json)
		printf("%s\n",
		       json_object_to_json_string_ext(
			       root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(root);
	fflush(stdout);
	json_object_object_get_ex(root, "attachments", &arr);
	u.maps_elsewhere = missing_pinned_elsewhere(arr, &pins, &u);
	if (dir_err != -ENOENT)
		report_unread(&pins, &u, dir_err, !u.links && !json_object_array_length(arr));
	json_object_put(root);
	/* Exit 0 only when everything status shows was read. */
	return dir_err || any_unread(&u) ? TFC_EXIT_FAIL : TFC_EXIT_OK;
}
