// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * top: the top talkers, with rates. Every interval the IP map (and the
 * flow map, when pinned) is opened afresh and read whole; rates are the
 * counters' growth since the previous read over the time between the two
 * (rates.c). On a terminal: a full-screen view (top_screen.c). With --once
 * or --iterations, or when stdout is no terminal: plain-text reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/text.h"
#include "maps/maps.h"
#include "top.h"

#define TOP_INTERVAL_DEFAULT 1.0

enum {
	OPT_INTERVAL = 1,
	OPT_SORT,
	OPT_FLOWS,
	OPT_ONCE,
	OPT_ITERATIONS,
	OPT_TOP,
	OPT_EXACT,
};

static const struct tfc_opt top_opts[] = {
	{"interval", "SECONDS", "time between reads (default 1; 0.1 to 3600)", OPT_INTERVAL},
	{"sort", "KEY", "rate (bytes per second, default) or total (bytes)", OPT_SORT},
	{"flows", NULL, "start with the flow view (key f switches)", OPT_FLOWS},
	{"once", NULL, "print one plain-text report after one interval, then exit", OPT_ONCE},
	{"iterations", "N", "print N plain-text reports, one per interval, then exit",
	 OPT_ITERATIONS},
	{"top", "N", "plain text: at most N rows per report (default: all)", OPT_TOP},
	{"exact", NULL, "plain text: exact numbers instead of human units", OPT_EXACT},
	TFC_FILTER_OPTIONS,
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def top_def = {
	.name = "top",
	.summary = "Live view of the top talkers, by IP address or by flow, with rates (bytes/s,\n"
		   "packets/s) from the growth of the counters between reads, and totals.\n"
		   "Keys: q quits, s switches the sort (rate, total), f the view (IP, flow).",
	.opts = top_opts,
	.examples = "  traffic-counter top\n"
		    "  traffic-counter top --flows --sort total\n"
		    "  traffic-counter top --iterations 3 --interval 2 --top 10\n",
};

volatile sig_atomic_t top_stop;

static int top_opt(int id, const char *arg, void *ctx)
{
	struct top_args *a = ctx;
	int v, err;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	if (tfc_filter_args_handle(&a->filter, id, arg, &err))
		return err;
	switch (id) {
	case OPT_INTERVAL:
		if (tfc_interval_parse(arg, &a->interval))
			return tfc_opt_invalid("interval",
					       "'%s' is not a number of seconds from "
					       "0.1 to 3600",
					       arg);
		return 0;
	case OPT_SORT:
		v = tfc_rate_sort_parse(arg);
		if (v < 0)
			return tfc_opt_invalid("sort", "'%s' is not one of rate, total", arg);
		a->sort = v;
		return 0;
	case OPT_FLOWS:
		a->flows = 1;
		return 0;
	case OPT_ONCE:
		if (a->iterations)
			return tfc_opt_invalid("once", "choose one of --once and --iterations");
		a->iterations = 1;
		return 0;
	case OPT_ITERATIONS:
		if (a->iterations)
			return tfc_opt_invalid("iterations",
					       "choose one of --once and --iterations");
		return tfc_parse_u32("iterations", arg, 1, UINT32_MAX, &a->iterations);
	case OPT_TOP:
		return tfc_parse_u32("top", arg, 1, UINT32_MAX, &a->top);
	case OPT_EXACT:
		a->exact = 1;
		return 0;
	default:
		return -EINVAL;
	}
}

int top_parse(int argc, char **argv, struct top_args *a)
{
	memset(a, 0, sizeof(*a));
	a->interval = TOP_INTERVAL_DEFAULT;
	a->sort = TFC_RSORT_RATE;
	return tfc_opts_parse(&top_def, argc, argv, top_opt, a);
}

/* ---- reading ------------------------------------------------------------ */

static double now_s(void)
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
	size_t n = 0;
	int fd, err;

	fd = tfc_map_open_flags(t->pins.ip, TFC_MAP_IP, NULL, &info, flags);
	if (fd < 0)
		return fd;
	err = tfc_dump_ip(fd, &e, &n);
	close(fd);
	if (!err)
		err = tfc_rate_snap_ip(&cur, e, tfc_filter_ip(&t->a.filter, e, n), now_s());
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
		err = tfc_rate_snap_flow(&cur, e, tfc_filter_flow(&t->a.filter, e, n), now_s());
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
	/* The flow map matters only to its view: the IP view goes on without it. */
	t->flow_err = read_flow(t);
	return t->view == TFC_VIEW_FLOW ? t->flow_err : 0;
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

void top_row_cells(const struct top *t, const struct tfc_rate_row *r, top_cells c)
{
	__u32 ifindex = t->view == TFC_VIEW_IP ? r->key.ip.ifindex : r->key.flow.ifindex;
	__u8 dir = t->view == TFC_VIEW_IP ? r->key.ip.direction : r->key.flow.direction;

	if (t->view == TFC_VIEW_IP) {
		tfc_addr_str(r->key.ip.family, r->key.ip.addr, c[TOP_ADDR], TOP_CELL);
		c[TOP_PROTO][0] = '\0';
	} else {
		char num[8];

		flow_cell(&r->key.flow, c[TOP_ADDR]);
		snprintf(c[TOP_PROTO], TOP_CELL, "%s",
			 proto_str(r->key.flow.proto, num, sizeof(num)));
	}
	snprintf(c[TOP_DIR], TOP_CELL, "%s", tfc_direction_str(dir));
	/* Any bytes can name an interface: escaped, as on every text output. */
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
		visible[i] = i != TOP_PROTO || t->view == TFC_VIEW_FLOW;
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
		 t->view == TFC_VIEW_IP ? "ip" : "flow", s->n, tfc_rate_sort_str(t->sort), over, in,
		 eg);
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
	else if (t->view == TFC_VIEW_FLOW && t->flow == TOP_FLOW_OFF)
		snprintf(buf, len,
			 "flow counting is off: turn it on with 'traffic-counter set "
			 "--enable-flow-map'");
	else
		buf[0] = '\0';
	return buf;
}

/* ---- plain text ----------------------------------------------------------- */

static void print_report(struct top *t, FILE *f)
{
	size_t n = t->a.top && t->a.top < t->n_shown ? t->a.top : t->n_shown;
	int visible[TOP_NCOL], width[TOP_NCOL];
	char line[TOP_LINE_LEN];
	top_cells c;

	top_summary(t, line, sizeof(line));
	fprintf(f, "%s\n", line);
	if (*top_note(t, line, sizeof(line)))
		fprintf(f, "note: %s\n", tfc_text_shown(line)); /* it may quote a pin path */
	top_columns(t, n, visible, width);
	top_head_cells(t, c);
	top_line(c, visible, width, line, sizeof(line));
	fprintf(f, "%s\n", line);
	for (size_t i = 0; i < n; i++) {
		top_row_cells(t, &t->shown[i], c);
		top_line(c, visible, width, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	fprintf(f, "\n");
	fflush(f);
}

/* 0 at the deadline, -EINTR once a signal asked to stop. */
static int sleep_until(double deadline)
{
	struct timespec ts = {
		.tv_sec = (time_t)deadline,
		.tv_nsec = (long)((deadline - (double)(time_t)deadline) * 1e9),
	};

	while (!top_stop) {
		int err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

		if (!err)
			return 0;
		if (err != EINTR)
			return -err;
	}
	return -EINTR;
}

/* Reports at fixed times after the first read, so they do not drift. */
static int top_plain(struct top *t)
{
	double start = t->snap[TFC_VIEW_IP].t;
	char line[TOP_LINE_LEN];

	for (__u32 i = 1; !t->a.iterations || i <= t->a.iterations; i++) {
		if (sleep_until(start + i * t->a.interval))
			break;
		if (top_read(t, TFC_OPEN_QUIET)) {
			tfc_err("%s", top_note(t, line, sizeof(line)));
			return TFC_EXIT_FAIL;
		}
		if (top_arrange(t)) {
			tfc_err("out of memory");
			return TFC_EXIT_FAIL;
		}
		print_report(t, stdout);
	}
	return TFC_EXIT_OK;
}

/* ---- the command ------------------------------------------------------------ */

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* No SA_RESTART: a signal must cut the sleep or the wait for a key short. */
static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int check_ip_map(const struct tfc_pins *pins)
{
	struct bpf_map_info info;
	int fd = tfc_map_open(pins->ip, TFC_MAP_IP, NULL, &info);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static void top_free(struct top *t)
{
	tfc_rate_snap_free(&t->snap[TFC_VIEW_IP]);
	tfc_rate_snap_free(&t->snap[TFC_VIEW_FLOW]);
	free(t->shown);
}

int cmd_top(int argc, char **argv)
{
	struct top t = {};
	int ret;

	ret = tfc_parse_exit(top_parse(argc, argv, &t.a));
	if (ret >= 0)
		return ret;
	if (tfc_pin_args_resolve(&t.a.pins, &t.pins))
		return TFC_EXIT_USAGE;
	t.view = t.a.flows ? TFC_VIEW_FLOW : TFC_VIEW_IP;
	t.sort = t.a.sort;
	/* Opening the IP map once first explains the usual problems (not
	 * attached, no permission); the first read is then the baseline. */
	ret = check_ip_map(&t.pins);
	if (!ret && top_read(&t, TFC_OPEN_QUIET)) {
		char why[TOP_LINE_LEN];

		tfc_err("%s", top_note(&t, why, sizeof(why)));
		ret = -EIO;
	}
	if (ret) {
		top_free(&t);
		return TFC_EXIT_FAIL;
	}
	catch_signals();
	if (t.a.iterations || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		ret = top_plain(&t);
	else
		ret = top_screen(&t);
	top_free(&t);
	return ret;
}
