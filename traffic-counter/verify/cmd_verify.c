// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * verify: reconcile what the agent counted on one interface (every address
 * plus every statistic) with the interface's own counters over an interval.
 * Each side is read between two reads of the other, so the agent's delta
 * must fall between the interface's inner and outer deltas; no tolerance is
 * needed for traffic that flows while the counters are read.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "export/json_writer.h"
#include "ifstats.h"
#include "loader/loader.h"
#include "util/log.h"
#include "util/text.h"
#include "maps/maps.h"
#include "verify.h"

enum {
	OPT_IFACE = 1,
	OPT_INTERVAL,
	OPT_DIRECTION,
	OPT_TOLERANCE,
	OPT_JSON,
};

static const struct tfc_opt verify_opts[] = {
	{"iface", "IF", "interface to reconcile (required)", OPT_IFACE},
	{"interval", "SECONDS", "how long to watch (default 5; fractions allowed)", OPT_INTERVAL},
	{"direction", "DIR", "ingress or egress (default: each one attached on IF)", OPT_DIRECTION},
	{"tolerance", "PACKETS", "packets the two may differ by (default 0)", OPT_TOLERANCE},
	{"json", NULL, "print one JSON object", OPT_JSON},
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def verify_def = {
	.name = "verify",
	.summary = "Reconcile the agent's totals for an interface (all addresses plus\n"
		   "statistics) with the interface's own counters over an interval.",
	.opts = verify_opts,
	.examples = "  traffic-counter verify --iface eth0 --interval 10\n",
};

struct verify_args {
	struct tfc_pin_args pins;
	const char *iface;
	double interval;
	int direction; /* -1: each attached one */
	__u32 tolerance;
	int json;
};

static int verify_opt(int id, const char *arg, void *ctx)
{
	struct verify_args *a = ctx;
	char *end;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	switch (id) {
	case OPT_IFACE:
		a->iface = arg;
		return 0;
	case OPT_INTERVAL:
		a->interval = strtod(arg, &end);
		if (*end || end == arg || !isfinite(a->interval) || a->interval < 0.1 ||
		    a->interval > 86400)
			return tfc_opt_invalid("interval",
					       "'%s' is not a number of seconds in "
					       "0.1..86400",
					       arg);
		return 0;
	case OPT_DIRECTION:
		/* Indexes are enum tfc_direction. */
		return tfc_parse_choice("direction", arg,
					(const char *const[]){"ingress", "egress"}, 2,
					&a->direction);
	case OPT_TOLERANCE:
		return tfc_parse_u32("tolerance", arg, 0, UINT32_MAX, &a->tolerance);
	case OPT_JSON:
		a->json = 1;
		return 0;
	default:
		return -EINVAL;
	}
}

static int verify_parse(int argc, char **argv, struct verify_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->interval = 5;
	a->direction = -1;
	err = tfc_opts_parse(&verify_def, argc, argv, verify_opt, a);
	if (!err && !a->iface)
		return tfc_opt_invalid("iface", "is required: name the interface to reconcile");
	return err;
}

struct maps_fds {
	int ip;
	int stats;
};

void verify_agent_sum(const struct tfc_ip_entry *ip, size_t n_ip, const struct tfc_stat_entry *st,
		      size_t n_st, __u32 ifindex, int dir, struct counters *out)
{
	struct counters by_reason[TFC_STAT_MAX];

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n_ip; i++) {
		if (ip[i].key.ifindex != ifindex || ip[i].key.direction != dir)
			continue;
		out->bytes += ip[i].val.bytes;
		out->packets += ip[i].val.packets;
	}
	tfc_stats_totals(st, n_st, ifindex, dir, by_reason);
	for (int r = 0; r < TFC_STAT_EXCLUSIVE_MAX; r++) {
		out->bytes += by_reason[r].bytes;
		out->packets += by_reason[r].packets;
	}
}

/* Everything the agent saw on (ifindex, direction), read from the maps. */
static int agent_totals(const struct maps_fds *m, __u32 ifindex, int dir, struct counters *out)
{
	struct tfc_stat_entry *st = NULL;
	struct tfc_ip_entry *ip = NULL;
	size_t n_ip = 0, n_st = 0;
	int err;

	err = tfc_dump_ip(m->ip, &ip, &n_ip);
	err = err ?: tfc_dump_stats(m->stats, &st, &n_st);
	if (!err)
		verify_agent_sum(ip, n_ip, st, n_st, ifindex, dir, out);
	free(ip);
	free(st);
	return err;
}

void verify_if_side(const struct tfc_if_stats *s, int dir, struct verify_if_side *out)
{
	out->packets = dir == TFC_DIR_EGRESS ? s->tx_packets : s->rx_packets;
	out->bytes = dir == TFC_DIR_EGRESS ? s->tx_bytes : s->rx_bytes;
	out->dropped = dir == TFC_DIR_EGRESS ? s->tx_dropped : 0;
}

static int take_snapshot(const struct maps_fds *m, int ifindex, const int *dirs, int n,
			 struct verify_snapshot *s)
{
	struct tfc_if_stats a, b;
	int err;

	err = tfc_if_stats_read(ifindex, &a);
	for (int i = 0; !err && i < n; i++)
		err = agent_totals(m, ifindex, dirs[i], &s->agent[i]);
	err = err ?: tfc_if_stats_read(ifindex, &b);
	for (int i = 0; !err && i < n; i++) {
		verify_if_side(&a, dirs[i], &s->before[i]);
		verify_if_side(&b, dirs[i], &s->after[i]);
	}
	return err;
}

int verify_attached_directions(const struct tfc_attachment *list, size_t count, int ifindex,
			       int *dirs)
{
	int in = 0, out = 0, n = 0;

	for (size_t i = 0; i < count; i++) {
		if (list[i].other_netns || list[i].ifindex != ifindex)
			continue;
		if (list[i].ap == TFC_AP_TC_EGRESS)
			out = 1;
		else
			in = 1;
	}
	if (in)
		dirs[n++] = TFC_DIR_INGRESS;
	if (out)
		dirs[n++] = TFC_DIR_EGRESS;
	return n;
}

/*
 * Directions to check: the one asked for, or each one attached on ifindex.
 * -errno when the attachments cannot be listed.
 */
static int pick_directions(const struct tfc_pins *pins, int ifindex, int asked, int *dirs)
{
	struct tfc_attachment *list = NULL;
	size_t count = 0;
	int n;

	if (asked >= 0) {
		dirs[0] = asked;
		return 1;
	}
	n = tfc_attachments_list(pins, &list, &count);
	if (n) {
		tfc_err("cannot list the attachments in %s: %s; run as root, or pass --direction",
			pins->links, strerror(-n));
		return n;
	}
	n = verify_attached_directions(list, count, ifindex, dirs);
	free(list);
	return n;
}

static void sleep_seconds(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s,
			      .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

const char *verify_note(const struct verify_verdict *v)
{
	if (v->no_l2)
		return "the interface counts bytes without the Ethernet header";
	if (v->by_drops)
		return "includes packets the device dropped after the hook saw them";
	if (!v->ok && v->agent_p > v->hi_p)
		return "more packets than the interface: a device that passes GSO/GRO packets "
		       "unsegmented (veth without XDP, lo) counts each as one, traffic-counter "
		       "counts the wire packets they stand for";
	return "";
}

int verify_within(__u64 v, __u64 lo, __u64 hi, __u64 tol)
{
	return v + tol >= lo && v <= hi + tol;
}

/*
 * Counters only grow, so unsigned subtraction gives the growth even across
 * a 64-bit wrap. The inner bound is from the last read of s0 to the first
 * of s1, the outer from the first of s0 to the last of s1.
 */
struct verify_verdict verify_deltas(const struct verify_snapshot *s0,
				    const struct verify_snapshot *s1, int i)
{
	return (struct verify_verdict){
		.agent_p = s1->agent[i].packets - s0->agent[i].packets,
		.agent_b = s1->agent[i].bytes - s0->agent[i].bytes,
		.lo_p = s1->before[i].packets - s0->after[i].packets,
		.hi_p = s1->after[i].packets - s0->before[i].packets,
		.lo_b = s1->before[i].bytes - s0->after[i].bytes,
		.hi_b = s1->after[i].bytes - s0->before[i].bytes,
		.dropped = s1->after[i].dropped - s0->before[i].dropped,
	};
}

/*
 * tc egress sees packets the device may drop afterwards (a full queue):
 * they were sent to the device, so they may count, with unknown bytes.
 */
static int explained_by_device_drops(const struct verify_verdict *v, __u32 tol)
{
	return v->dropped && v->agent_p > v->hi_p + tol &&
	       v->agent_p <= v->hi_p + v->dropped + tol && v->agent_b >= v->lo_b;
}

/*
 * Some drivers count rx bytes after the Ethernet header was pulled (veth
 * with a native XDP program): accept that convention, and say so.
 */
static int bytes_without_l2(const struct verify_verdict *v, __u64 tol_b)
{
	return v->agent_b >= v->agent_p * 14 &&
	       verify_within(v->agent_b - v->agent_p * 14, v->lo_b, v->hi_b, tol_b);
}

struct verify_verdict verify_judge(const struct verify_snapshot *s0,
				   const struct verify_snapshot *s1, int i, __u32 tol)
{
	struct verify_verdict v = verify_deltas(s0, s1, i);
	/* Byte bounds widen by the tolerance times the largest frame. */
	__u64 tol_b = (__u64)tol * VERIFY_MAX_FRAME;

	if (explained_by_device_drops(&v, tol)) {
		v.ok = v.by_drops = 1;
		return v;
	}
	if (!verify_within(v.agent_p, v.lo_p, v.hi_p, tol))
		return v;
	v.ok = verify_within(v.agent_b, v.lo_b, v.hi_b, tol_b);
	if (!v.ok && bytes_without_l2(&v, tol_b))
		v.ok = v.no_l2 = 1;
	return v;
}

int verify_all_ok(const struct verify_verdict *v, int n)
{
	for (int i = 0; i < n; i++)
		if (!v[i].ok)
			return 0;
	return 1;
}

static void report_json_direction(struct tfc_json *j, int dir, const struct verify_verdict *v)
{
	tfc_json_obj_begin(j, NULL);
	tfc_json_str(j, "direction", tfc_direction_str(dir));
	tfc_json_bool(j, "ok", v->ok);
	tfc_json_u64(j, "agent_packets", v->agent_p);
	tfc_json_u64(j, "agent_bytes", v->agent_b);
	tfc_json_u64(j, "iface_packets_min", v->lo_p);
	tfc_json_u64(j, "iface_packets_max", v->hi_p);
	tfc_json_u64(j, "iface_bytes_min", v->lo_b);
	tfc_json_u64(j, "iface_bytes_max", v->hi_b);
	tfc_json_u64(j, "iface_dropped", v->dropped);
	tfc_json_bool(j, "iface_bytes_exclude_l2", v->no_l2);
	tfc_json_str(j, "note", verify_note(v));
	tfc_json_obj_end(j);
}

/* One line: the interface name escaped by the writer like every string. */
static void report_json(const struct verify_args *a, const int *dirs, int n,
			const struct verify_verdict *v)
{
	struct tfc_json j;

	tfc_json_init(&j, stdout, 0);
	tfc_json_obj_begin(&j, NULL);
	tfc_json_str(&j, "iface", a->iface);
	tfc_json_double(&j, "interval", a->interval);
	tfc_json_bool(&j, "ok", verify_all_ok(v, n));
	tfc_json_arr_begin(&j, "directions");
	for (int i = 0; i < n; i++)
		report_json_direction(&j, dirs[i], &v[i]);
	tfc_json_arr_end(&j);
	tfc_json_obj_end(&j);
	tfc_json_finish(&j);
}

static void report_text(const struct verify_args *a, const int *dirs, int n,
			const struct verify_verdict *v)
{
	const char *iface = tfc_text_shown(a->iface);

	for (int i = 0; i < n; i++)
		printf("%s %-7s agent %" PRIu64 " packets %" PRIu64 " bytes; interface %s %" PRIu64
		       "..%" PRIu64 " packets %" PRIu64 "..%" PRIu64 " bytes: %s%s%s%s\n",
		       iface, tfc_direction_str(dirs[i]), (uint64_t)v[i].agent_p,
		       (uint64_t)v[i].agent_b, dirs[i] == TFC_DIR_EGRESS ? "tx" : "rx",
		       (uint64_t)v[i].lo_p, (uint64_t)v[i].hi_p, (uint64_t)v[i].lo_b,
		       (uint64_t)v[i].hi_b, v[i].ok ? "OK" : "MISMATCH",
		       *verify_note(&v[i]) ? " (" : "", verify_note(&v[i]),
		       *verify_note(&v[i]) ? ")" : "");
}

static int open_maps(const struct tfc_pins *pins, struct maps_fds *m)
{
	struct bpf_map_info info;

	m->ip = tfc_map_open(pins->ip, TFC_MAP_IP, NULL, &info);
	m->stats = m->ip < 0 ? -1 : tfc_map_open(pins->stats, TFC_MAP_STATS, NULL, &info);
	return m->ip < 0 ? m->ip : m->stats < 0 ? m->stats : 0;
}

/* Two snapshots interval seconds apart; 0, or -errno once said what failed. */
static int watch(const struct maps_fds *m, const struct verify_args *a, int ifindex,
		 const int *dirs, int n, struct verify_snapshot *s)
{
	int err = take_snapshot(m, ifindex, dirs, n, &s[0]);

	if (!err) {
		sleep_seconds(a->interval);
		err = take_snapshot(m, ifindex, dirs, n, &s[1]);
	}
	if (err)
		tfc_err("cannot read the counters of %s: %s", a->iface, strerror(-err));
	return err;
}

/* The directions to check on ifindex: asked, else those attached; 0 if none. */
static int directions_to_check(const struct verify_args *a, const struct tfc_pins *pins,
			       int ifindex, int *dirs)
{
	int n = pick_directions(pins, ifindex, a->direction, dirs);

	if (!n)
		tfc_err("nothing is attached on %s in %s: attach first, or pass --direction",
			a->iface, pins->dir);
	return n;
}

/* Watches, judges and reports one interface; the exit code. */
static int verify_iface(const struct verify_args *a, const struct tfc_pins *pins,
			const struct maps_fds *m, int ifindex)
{
	struct verify_snapshot s[2];
	struct verify_verdict v[2];
	int dirs[2], n;

	n = directions_to_check(a, pins, ifindex, dirs);
	if (n <= 0 || watch(m, a, ifindex, dirs, n, s))
		return TFC_EXIT_FAIL;
	for (int i = 0; i < n; i++)
		v[i] = verify_judge(&s[0], &s[1], i, a->tolerance);
	if (a->json)
		report_json(a, dirs, n, v);
	else
		report_text(a, dirs, n, v);
	return verify_all_ok(v, n) ? TFC_EXIT_OK : TFC_EXIT_FAIL;
}

int cmd_verify(int argc, char **argv)
{
	struct maps_fds m = {-1, -1};
	struct verify_args a;
	struct tfc_pins pins;
	int ret, ifindex;

	ret = tfc_parse_exit(verify_parse(argc, argv, &a));
	if (ret >= 0)
		return ret;
	if (tfc_pin_args_resolve(&a.pins, &pins))
		return TFC_EXIT_USAGE;
	ret = TFC_EXIT_FAIL;
	ifindex = tfc_iface_index(a.iface);
	if (ifindex < 0 || open_maps(&pins, &m))
		goto out;
	ret = verify_iface(&a, &pins, &m, ifindex);
out:
	if (m.ip >= 0)
		close(m.ip);
	if (m.stats >= 0)
		close(m.stats);
	return ret;
}
