// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * top's data, for both of its outputs (plain text in cmd_top.c, the screen
 * in top_screen.c): the maps read into rates, the current view arranged,
 * and its rows as aligned cells and lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/text.h"
#include "maps/cgroup_rows.h"
#include "maps/maps.h"
#include "top.h"

volatile sig_atomic_t top_stop;

/* ---- reading ------------------------------------------------------------ */

double top_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Rates against the previous read of the same view, which cur replaces. */
static void commit(struct top *t, struct tfc_rate_snap *cur)
{
	struct tfc_rate_snap *prev = &t->snap[cur->view];

	tfc_rates_update(cur, prev);
	t->elapsed[cur->view] = prev->valid ? cur->t - prev->t : 0;
	tfc_rate_snap_free(prev);
	*prev = *cur;
}

static int read_ip(struct top *t, unsigned int flags)
{
	struct tfc_ip_entry *e = NULL;
	struct bpf_map_info info;
	struct tfc_rate_snap cur;
	int fd, prefix_fd = -1, err;
	size_t n = 0;

	fd = tfc_map_open_flags(t->pins.ip, TFC_MAP_IP, NULL, &info, flags);
	if (fd < 0)
		return fd;
	/* The prefix rows of the pin directory too, unless --pin named one map. */
	if (!t->a.pins.ip) {
		prefix_fd = tfc_prefix_map_open_pins(&t->pins, flags);
		if (prefix_fd < 0 && prefix_fd != -ENOENT) {
			close(fd);
			return prefix_fd;
		}
	}
	err = tfc_dump_ip_rows(fd, prefix_fd, &e, &n);
	close(fd);
	if (prefix_fd >= 0)
		close(prefix_fd);
	if (!err)
		err = tfc_rate_snap_ip(&cur, e, tfc_filter_ip(&t->a.filter, e, n), top_now());
	free(e);
	if (!err)
		commit(t, &cur);
	return err;
}

static void read_flow_state(struct top *t)
{
	struct bpf_map_info info;
	struct tfc_control c = {};
	int fd;

	fd = tfc_map_open_flags(t->pins.control, TFC_MAP_CONTROL, NULL, &info, TFC_OPEN_QUIET);
	if (fd < 0)
		return;
	if (!tfc_control_read(fd, &c))
		t->flow = (c.flags & TFC_FLAG_FLOW_COUNTERS) ? TOP_FLOW_ON : TOP_FLOW_OFF;
	close(fd);
}

/* The flow map is optional: not pinned is a state shown, not an error. */
static int read_flow(struct top *t)
{
	struct tfc_flow_entry *e = NULL;
	struct bpf_map_info info;
	struct tfc_rate_snap cur;
	size_t n = 0;
	int fd, err;

	fd = tfc_map_open_flags(t->pins.flow, TFC_MAP_FLOW, NULL, &info, TFC_OPEN_QUIET);
	if (fd < 0) {
		t->flow = TOP_FLOW_ABSENT;
		tfc_rate_snap_free(&t->snap[TFC_VIEW_FLOW]);
		return fd == -ENOENT ? 0 : fd;
	}
	t->flow = TOP_FLOW_OFF;
	read_flow_state(t);
	err = tfc_dump_flow(fd, &e, &n);
	close(fd);
	if (!err)
		err = tfc_rate_snap_flow(&cur, e, tfc_filter_flow(&t->a.filter, e, n), top_now());
	free(e);
	if (!err)
		commit(t, &cur);
	return err;
}

/* The cgroup map is pinned only while a cgroup attachment exists. */
static int read_cgroup(struct top *t)
{
	struct tfc_cgroup_entry *e = NULL;
	struct tfc_rate_snap cur;
	size_t n = 0;
	int fd, err;

	fd = tfc_cgroup_rows_open(t->pins.dir, NULL);
	t->cg_present = fd >= 0;
	if (fd < 0) {
		tfc_rate_snap_free(&t->snap[TFC_VIEW_CGROUP]);
		return fd == -ENOENT ? 0 : fd;
	}
	err = tfc_dump_cgroup(fd, &e, &n);
	close(fd);
	if (!err)
		err = tfc_rate_snap_cgroup(&cur, e, n, top_now());
	free(e);
	if (!err)
		commit(t, &cur);
	return err;
}

/* The way out of a read refused for permission, appended to a note. */
static const char *way_out(int err)
{
	return err == -EACCES || err == -EPERM ? "; run as root, or give this user read "
						 "permission on the pin (PIN_GROUP)"
					       : "";
}

int top_read(struct top *t, unsigned int open_flags)
{
	int err;

	t->note[0] = '\0';
	tfc_ifname_netns(tfc_pins_netns(&t->pins)); /* ifnames as the counters saw them */
	err = read_ip(t, open_flags);
	if (err == -ENOENT)
		snprintf(t->note, sizeof(t->note), "no map pinned at %s any more", t->pins.ip);
	else if (err)
		snprintf(t->note, sizeof(t->note), "cannot read %s: %s%s", t->pins.ip,
			 strerror(-err), way_out(err));
	if (err)
		return err;
	/* The flow and cgroup maps matter only to their views: the IP view goes
	 * on without them. */
	t->flow_err = read_flow(t);
	t->cg_err = read_cgroup(t);
	if (t->view == TFC_VIEW_FLOW)
		return t->flow_err;
	return t->view == TFC_VIEW_CGROUP ? t->cg_err : 0;
}

int top_arrange(struct top *t)
{
	const struct tfc_rate_snap *s = &t->snap[t->view];
	struct tfc_rate_row *rows = NULL;

	if (s->n) {
		rows = malloc(s->n * sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		memcpy(rows, s->rows, s->n * sizeof(*rows));
		tfc_rates_sort(rows, s->n, t->view, t->sort);
	}
	free(t->shown);
	t->shown = rows;
	t->n_shown = s->n;
	return 0;
}

/* ---- cells and lines ---------------------------------------------------- */

static const char *const heads[TOP_NCOL] = {
	[TOP_ADDR] = "ADDRESS", [TOP_PROTO] = "PROTO",	   [TOP_DIR] = "DIR",
	[TOP_IFACE] = "IFACE",	[TOP_RATE] = "RATE",	   [TOP_PRATE] = "PKTS/S",
	[TOP_TOTAL] = "TOTAL",	[TOP_PACKETS] = "PACKETS",
};

void top_head_cells(const struct top *t, top_cells c)
{
	for (int i = 0; i < TOP_NCOL; i++)
		snprintf(c[i], TOP_CELL, "%s", heads[i]);
	if (t->view == TFC_VIEW_FLOW)
		snprintf(c[TOP_ADDR], TOP_CELL, "FLOW");
	if (t->view == TFC_VIEW_CGROUP) {
		snprintf(c[TOP_ADDR], TOP_CELL, "CGROUP");
		snprintf(c[TOP_PROTO], TOP_CELL, "NAME");
	}
}

static void rate_cell(const struct top *t, const struct tfc_rate_row *r, double v, const char *unit,
		      char *out)
{
	if (!r->has_rate)
		snprintf(out, TOP_CELL, "-");
	else if (t->a.exact)
		snprintf(out, TOP_CELL, "%.1f", v);
	else
		tfc_human(v, unit, out, TOP_CELL);
}

static void total_cell(const struct top *t, __u64 v, const char *unit, char *out)
{
	if (t->a.exact)
		snprintf(out, TOP_CELL, "%" PRIu64, (uint64_t)v);
	else
		tfc_human((double)v, unit, out, TOP_CELL);
}

static const char *proto_str(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	default:
		snprintf(buf, len, "%u", proto);
		return buf;
	}
}

/* "a:p" or "[a]:p"; just the address for protocols without ports. */
static void endpoint(char *out, size_t len, __u8 family, const __u8 *addr, __u16 port, int ports)
{
	char a[TFC_ADDR_STRLEN];

	tfc_addr_str(family, addr, a, sizeof(a));
	if (!ports)
		snprintf(out, len, "%s", a);
	else
		snprintf(out, len, family == 6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void flow_cell(const struct flow_key *k, char *out)
{
	int ports = k->proto == 6 || k->proto == 17 || k->proto == 132;
	char src[TFC_ADDR_STRLEN + 8], dst[TFC_ADDR_STRLEN + 8];

	endpoint(src, sizeof(src), k->family, k->src, k->sport, ports);
	endpoint(dst, sizeof(dst), k->family, k->dst, k->dport, ports);
	/* No blank inside: a report line splits on whitespace into columns. */
	snprintf(out, TOP_CELL, "%s->%s", src, dst);
}

/*
 * A cgroup's path, and what it names (unit, else pod as NAMESPACE/NAME or
 * its UID, as dump-maps writes it, else container id), marked "(gone)"
 * once removed; "id:N" for an id never named. Escaped: a cgroup name is
 * any bytes its creator chose.
 */
static void cgroup_cells(const struct top *t, const struct cgroup_key *k, top_cells c)
{
	const struct tfc_cgroup_name *nm =
		t->cg_names ? tfc_cgroup_name(t->cg_names, k->cgroup_id) : NULL;
	struct tfc_cgroup_labels l;
	const char *shown;
	char name[TOP_CELL];
	int ns;

	if (tfc_cgroup_labels_set(&l, k->cgroup_id, nm)) {
		snprintf(c[TOP_ADDR], TOP_CELL, "id:%llu", (unsigned long long)k->cgroup_id);
		c[TOP_PROTO][0] = '\0';
		return;
	}
	shown = tfc_cgroup_labels_display(&l);
	ns = shown == l.pod && l.pod_namespace[0];
	tfc_text_safe(l.path, c[TOP_ADDR], TOP_CELL);
	snprintf(name, sizeof(name), "%.*s%s%.*s%s", TOP_CELL / 2 - 4, ns ? l.pod_namespace : "",
		 ns ? "/" : "", TOP_CELL / 2 - 4, shown == l.path ? "" : shown,
		 l.gone ? "(gone)" : "");
	tfc_text_safe(name, c[TOP_PROTO], TOP_CELL);
	tfc_cgroup_labels_free(&l);
}

void top_row_cells(const struct top *t, const struct tfc_rate_row *r, top_cells c)
{
	__u32 ifindex = t->view == TFC_VIEW_IP ? r->key.ip.ifindex : r->key.flow.ifindex;
	__u8 dir = t->view == TFC_VIEW_IP     ? r->key.ip.direction
		   : t->view == TFC_VIEW_FLOW ? r->key.flow.direction
					      : r->key.cg.direction;

	if (t->view == TFC_VIEW_CGROUP) {
		cgroup_cells(t, &r->key.cg, c);
		c[TOP_IFACE][0] = '\0';
	} else if (t->view == TFC_VIEW_IP) {
		tfc_key_str(&r->key.ip, c[TOP_ADDR], TOP_CELL);
		c[TOP_PROTO][0] = '\0';
	} else {
		char num[8];

		flow_cell(&r->key.flow, c[TOP_ADDR]);
		snprintf(c[TOP_PROTO], TOP_CELL, "%s",
			 proto_str(r->key.flow.proto, num, sizeof(num)));
	}
	snprintf(c[TOP_DIR], TOP_CELL, "%s", tfc_direction_str(dir));
	/* Any bytes can name an interface: escaped, as on every text output. */
	if (t->view != TFC_VIEW_CGROUP)
		tfc_text_safe(tfc_ifname(ifindex), c[TOP_IFACE], TOP_CELL);
	rate_cell(t, r, r->byte_rate, "B/s", c[TOP_RATE]);
	rate_cell(t, r, r->packet_rate, "/s", c[TOP_PRATE]);
	total_cell(t, r->bytes, "B", c[TOP_TOTAL]);
	total_cell(t, r->packets, "", c[TOP_PACKETS]);
}

static void widen(int width[TOP_NCOL], const top_cells c)
{
	for (int i = 0; i < TOP_NCOL; i++) {
		int len = (int)strlen(c[i]);

		if (len > width[i])
			width[i] = len;
	}
}

void top_columns(const struct top *t, size_t n, int visible[TOP_NCOL], int width[TOP_NCOL])
{
	top_cells c;

	for (int i = 0; i < TOP_NCOL; i++) {
		visible[i] = (i != TOP_PROTO || t->view != TFC_VIEW_IP) &&
			     (i != TOP_IFACE || t->view != TFC_VIEW_CGROUP);
		width[i] = 0;
	}
	top_head_cells(t, c);
	widen(width, c);
	for (size_t i = 0; i < n && i < t->n_shown; i++) {
		top_row_cells(t, &t->shown[i], c);
		widen(width, c);
	}
}

void top_line(const top_cells c, const int visible[TOP_NCOL], const int width[TOP_NCOL], char *out,
	      size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < TOP_NCOL && o < len; i++) {
		/* Text left-aligned, numbers right-aligned. */
		int left = i <= TOP_IFACE;

		if (!visible[i])
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s%*s", o ? "  " : "",
				      left ? -width[i] : width[i], c[i]);
	}
	o = strlen(out);
	while (o && out[o - 1] == ' ')
		out[--o] = '\0';
}

static void sum_str(const struct top *t, const struct tfc_rate_sum *s, char *out, size_t len)
{
	char rate[32], prate[32];

	if (!t->elapsed[t->view])
		snprintf(out, len, "-");
	else if (t->a.exact)
		snprintf(out, len, "%.1fB/s %.1f/s", s->byte_rate, s->packet_rate);
	else
		snprintf(out, len, "%s %s", tfc_human(s->byte_rate, "B/s", rate, sizeof(rate)),
			 tfc_human(s->packet_rate, "/s", prate, sizeof(prate)));
}

void top_summary(const struct top *t, char *out, size_t len)
{
	const struct tfc_rate_snap *s = &t->snap[t->view];
	struct tfc_rate_sum sum[2];
	char in[80], eg[80], over[32] = "-";

	tfc_rates_sum(s->rows, s->n, t->view, sum);
	sum_str(t, &sum[TFC_DIR_INGRESS], in, sizeof(in));
	sum_str(t, &sum[TFC_DIR_EGRESS], eg, sizeof(eg));
	/* Exact: rate times this gives back the bytes to well under one. */
	if (t->elapsed[t->view])
		snprintf(over, sizeof(over), "%.*f s", t->a.exact ? 6 : 3, t->elapsed[t->view]);
	snprintf(out, len, "%s view, %zu entries, sorted by %s, over %s; ingress %s, egress %s",
		 t->view == TFC_VIEW_IP	    ? "ip"
		 : t->view == TFC_VIEW_FLOW ? "flow"
					    : "cgroup",
		 s->n, tfc_rate_sort_str(t->sort), over, in, eg);
}

const char *top_note(const struct top *t, char *buf, size_t len)
{
	if (t->note[0])
		snprintf(buf, len, "%s", t->note);
	else if (t->view == TFC_VIEW_FLOW && t->flow_err)
		snprintf(buf, len, "cannot read %s: %s%s", t->pins.flow, strerror(-t->flow_err),
			 way_out(t->flow_err));
	else if (t->view == TFC_VIEW_FLOW && t->flow == TOP_FLOW_ABSENT)
		snprintf(buf, len, "no flow map pinned at %s", t->pins.flow);
	else if (t->view == TFC_VIEW_CGROUP && t->cg_err)
		snprintf(buf, len, "cannot read %s/%s: %s%s", t->pins.dir, TFC_CGROUP_MAP_NAME,
			 strerror(-t->cg_err), way_out(t->cg_err));
	else if (t->view == TFC_VIEW_CGROUP && !t->cg_present)
		snprintf(buf, len,
			 "no cgroup map pinned at %s/%s: count by cgroup with 'traffic-counter "
			 "attach --attach-point cgroup'",
			 t->pins.dir, TFC_CGROUP_MAP_NAME);
	else if (t->view == TFC_VIEW_FLOW && t->flow == TOP_FLOW_OFF)
		snprintf(buf, len,
			 "flow counting is off: turn it on with 'traffic-counter set "
			 "--enable-flow-map'");
	else
		buf[0] = '\0';
	return buf;
}
