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
#include "ifstats.h"
#include "loader.h"
#include "log.h"
#include "maps.h"

enum {
	OPT_IFACE = 1,
	OPT_INTERVAL,
	OPT_DIRECTION,
	OPT_TOLERANCE,
	OPT_JSON,
};

static const struct tc_opt verify_opts[] = {
	{"iface", "IF", "interface to reconcile (required)", OPT_IFACE},
	{"interval", "SECONDS", "how long to watch (default 5; fractions allowed)", OPT_INTERVAL},
	{"direction", "DIR", "ingress or egress (default: each one attached on IF)", OPT_DIRECTION},
	{"tolerance", "PACKETS", "packets the two may differ by (default 0)", OPT_TOLERANCE},
	{"json", NULL, "print one JSON object", OPT_JSON},
	TC_PIN_OPTIONS,
	{0},
};

const struct tc_cmd_def verify_def = {
	.name = "verify",
	.summary = "Reconcile the agent's totals for an interface (all addresses plus\n"
		   "statistics) with the interface's own counters over an interval.",
	.opts = verify_opts,
	.examples = "  traffic-counter verify --iface eth0 --interval 10\n",
};

struct verify_args {
	struct tc_pin_args pins;
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

	if (tc_pin_args_handle(&a->pins, id, arg))
		return 0;
	switch (id) {
	case OPT_IFACE:
		a->iface = arg;
		return 0;
	case OPT_INTERVAL:
		a->interval = strtod(arg, &end);
		if (*end || end == arg || !isfinite(a->interval) || a->interval < 0.1 ||
		    a->interval > 86400)
			return tc_opt_invalid("interval",
					      "'%s' is not a number of seconds in "
					      "0.1..86400",
					      arg);
		return 0;
	case OPT_DIRECTION:
		/* Indexes are enum tc_direction. */
		return tc_parse_choice("direction", arg, (const char *const[]){"ingress", "egress"},
				       2, &a->direction);
	case OPT_TOLERANCE:
		return tc_parse_u32("tolerance", arg, 0, UINT32_MAX, &a->tolerance);
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
	err = tc_opts_parse(&verify_def, argc, argv, verify_opt, a);
	if (!err && !a->iface)
		return tc_opt_invalid("iface", "is required: name the interface to reconcile");
	return err;
}

struct maps_fds {
	int ip;
	int stats;
};

/* Everything the agent saw on (ifindex, direction): addresses and statistics. */
static int agent_totals(const struct maps_fds *m, __u32 ifindex, int dir, struct counters *out)
{
	struct counters by_reason[TC_STAT_MAX];
	struct tc_stat_entry *st = NULL;
	struct tc_ip_entry *ip = NULL;
	size_t n_ip = 0, n_st = 0;
	int err;

	err = tc_dump_ip(m->ip, &ip, &n_ip);
	err = err ?: tc_dump_stats(m->stats, &st, &n_st);
	if (err)
		goto out;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n_ip; i++) {
		if (ip[i].key.ifindex != ifindex || ip[i].key.direction != dir)
			continue;
		out->bytes += ip[i].val.bytes;
		out->packets += ip[i].val.packets;
	}
	tc_stats_totals(st, n_st, ifindex, dir, by_reason);
	for (int r = 0; r < TC_STAT_EXCLUSIVE_MAX; r++) {
		out->bytes += by_reason[r].bytes;
		out->packets += by_reason[r].packets;
	}
out:
	free(ip);
	free(st);
	return err;
}

struct if_side {
	__u64 packets, bytes, dropped;
};

static void if_side(const struct tc_if_stats *s, int dir, struct if_side *out)
{
	out->packets = dir == TC_DIR_EGRESS ? s->tx_packets : s->rx_packets;
	out->bytes = dir == TC_DIR_EGRESS ? s->tx_bytes : s->rx_bytes;
	out->dropped = dir == TC_DIR_EGRESS ? s->tx_dropped : 0;
}

struct snapshot {
	struct counters agent[2];
	struct if_side before[2]; /* interface, read just before the agent */
	struct if_side after[2];  /* interface, read just after */
};

static int take_snapshot(const struct maps_fds *m, int ifindex, const int *dirs, int n,
			 struct snapshot *s)
{
	struct tc_if_stats a, b;
	int err;

	err = tc_if_stats_read(ifindex, &a);
	for (int i = 0; !err && i < n; i++)
		err = agent_totals(m, ifindex, dirs[i], &s->agent[i]);
	err = err ?: tc_if_stats_read(ifindex, &b);
	for (int i = 0; !err && i < n; i++) {
		if_side(&a, dirs[i], &s->before[i]);
		if_side(&b, dirs[i], &s->after[i]);
	}
	return err;
}

/*
 * Directions to check: the one asked for, or each one attached on ifindex.
 * -errno when the attachments cannot be listed.
 */
static int pick_directions(const struct tc_pins *pins, int ifindex, int asked, int *dirs)
{
	struct tc_attachment *list = NULL;
	int in = 0, out = 0, n = 0, err;
	size_t count = 0;

	if (asked >= 0) {
		dirs[0] = asked;
		return 1;
	}
	err = tc_attachments_list(pins, &list, &count);
	if (err) {
		tc_err("cannot list the attachments in %s: %s; run as root, or pass --direction",
		       pins->links, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < count; i++) {
		if (list[i].other_netns || list[i].ifindex != ifindex)
			continue;
		if (list[i].ap == TC_AP_TC_EGRESS)
			out = 1;
		else
			in = 1;
	}
	free(list);
	if (in)
		dirs[n++] = TC_DIR_INGRESS;
	if (out)
		dirs[n++] = TC_DIR_EGRESS;
	return n;
}

static void sleep_seconds(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s,
			      .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

struct verdict {
	__u64 agent_p, agent_b, lo_p, hi_p, lo_b, hi_b;
	__u64 dropped; /* at egress: packets the device dropped after the hook saw them */
	int ok;
	int no_l2;    /* the interface counts bytes without the Ethernet header */
	int by_drops; /* agreed once device drops after the hook are allowed for */
};

static const char *verdict_note(const struct verdict *v)
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

static int within(__u64 v, __u64 lo, __u64 hi, __u64 tol)
{
	return v + tol >= lo && v <= hi + tol;
}

static struct verdict judge(const struct snapshot *s0, const struct snapshot *s1, int i, __u32 tol)
{
	struct verdict v = {
		.agent_p = s1->agent[i].packets - s0->agent[i].packets,
		.agent_b = s1->agent[i].bytes - s0->agent[i].bytes,
		.lo_p = s1->before[i].packets - s0->after[i].packets,
		.hi_p = s1->after[i].packets - s0->before[i].packets,
		.lo_b = s1->before[i].bytes - s0->after[i].bytes,
		.hi_b = s1->after[i].bytes - s0->before[i].bytes,
		.dropped = s1->after[i].dropped - s0->before[i].dropped,
	};
	/* Byte bounds widen by the tolerance times the largest frame the IP length allows. */
	__u64 tol_b = (__u64)tol * 65549;

	/*
	 * tc egress sees packets the device may drop afterwards (a full queue):
	 * they were sent to the device, so they may count, with unknown bytes.
	 */
	if (v.dropped && v.agent_p > v.hi_p + tol && v.agent_p <= v.hi_p + v.dropped + tol &&
	    v.agent_b >= v.lo_b) {
		v.ok = v.by_drops = 1;
		return v;
	}
	if (!within(v.agent_p, v.lo_p, v.hi_p, tol))
		return v;
	v.ok = within(v.agent_b, v.lo_b, v.hi_b, tol_b);
	/*
	 * Some drivers count rx bytes after the Ethernet header was pulled
	 * (veth with a native XDP program): accept that convention, and say so.
	 */
	if (!v.ok && v.agent_b >= v.agent_p * 14 &&
	    within(v.agent_b - v.agent_p * 14, v.lo_b, v.hi_b, tol_b))
		v.ok = v.no_l2 = 1;
	return v;
}

static void report(const struct verify_args *a, const int *dirs, int n, const struct verdict *v)
{
	if (a->json) {
		printf("{\"iface\":\"%s\",\"interval\":%g,\"ok\":%s,\"directions\":[", a->iface,
		       a->interval, v[0].ok && (n < 2 || v[1].ok) ? "true" : "false");
		for (int i = 0; i < n; i++)
			printf("%s{\"direction\":\"%s\",\"ok\":%s,\"agent_packets\":%" PRIu64
			       ",\"agent_bytes\":%" PRIu64 ",\"iface_packets_min\":%" PRIu64
			       ",\"iface_packets_max\":%" PRIu64 ",\"iface_bytes_min\":%" PRIu64
			       ",\"iface_bytes_max\":%" PRIu64 ",\"iface_dropped\":%" PRIu64
			       ",\"iface_bytes_exclude_l2\":%s,\"note\":\"%s\"}",
			       i ? "," : "", tc_direction_str(dirs[i]), v[i].ok ? "true" : "false",
			       (uint64_t)v[i].agent_p, (uint64_t)v[i].agent_b, (uint64_t)v[i].lo_p,
			       (uint64_t)v[i].hi_p, (uint64_t)v[i].lo_b, (uint64_t)v[i].hi_b,
			       (uint64_t)v[i].dropped, v[i].no_l2 ? "true" : "false",
			       verdict_note(&v[i]));
		printf("]}\n");
		return;
	}
	for (int i = 0; i < n; i++)
		printf("%s %-7s agent %" PRIu64 " packets %" PRIu64 " bytes; interface %s %" PRIu64
		       "..%" PRIu64 " packets %" PRIu64 "..%" PRIu64 " bytes: %s%s%s%s\n",
		       a->iface, tc_direction_str(dirs[i]), (uint64_t)v[i].agent_p,
		       (uint64_t)v[i].agent_b, dirs[i] == TC_DIR_EGRESS ? "tx" : "rx",
		       (uint64_t)v[i].lo_p, (uint64_t)v[i].hi_p, (uint64_t)v[i].lo_b,
		       (uint64_t)v[i].hi_b, v[i].ok ? "OK" : "MISMATCH",
		       *verdict_note(&v[i]) ? " (" : "", verdict_note(&v[i]),
		       *verdict_note(&v[i]) ? ")" : "");
}

static int open_maps(const struct tc_pins *pins, struct maps_fds *m)
{
	struct bpf_map_info info;

	m->ip = tc_map_open(pins->ip, TC_MAP_IP, NULL, &info);
	m->stats = m->ip < 0 ? -1 : tc_map_open(pins->stats, TC_MAP_STATS, NULL, &info);
	return m->ip < 0 ? m->ip : m->stats < 0 ? m->stats : 0;
}

int cmd_verify(int argc, char **argv)
{
	struct maps_fds m = {-1, -1};
	struct snapshot s0, s1;
	struct verdict v[2];
	struct verify_args a;
	struct tc_pins pins;
	int ret, ifindex, dirs[2], n;

	ret = tc_parse_exit(verify_parse(argc, argv, &a));
	if (ret >= 0)
		return ret;
	if (tc_pin_args_resolve(&a.pins, &pins))
		return TC_EXIT_USAGE;
	ifindex = tc_iface_index(a.iface);
	if (ifindex < 0 || open_maps(&pins, &m))
		goto fail;
	n = pick_directions(&pins, ifindex, a.direction, dirs);
	if (n < 0)
		goto fail;
	if (!n) {
		tc_err("nothing is attached on %s in %s: attach first, or pass --direction",
		       a.iface, pins.dir);
		goto fail;
	}
	if (take_snapshot(&m, ifindex, dirs, n, &s0))
		goto read_fail;
	sleep_seconds(a.interval);
	if (take_snapshot(&m, ifindex, dirs, n, &s1))
		goto read_fail;
	ret = TC_EXIT_OK;
	for (int i = 0; i < n; i++) {
		v[i] = judge(&s0, &s1, i, a.tolerance);
		if (!v[i].ok)
			ret = TC_EXIT_FAIL;
	}
	report(&a, dirs, n, v);
	goto out;
read_fail:
	tc_err("cannot read the counters of %s: %s", a.iface, strerror(errno));
fail:
	ret = TC_EXIT_FAIL;
out:
	if (m.ip >= 0)
		close(m.ip);
	if (m.stats >= 0)
		close(m.stats);
	return ret;
}
