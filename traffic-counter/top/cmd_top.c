// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * top: the top talkers, with rates. Every interval the IP map (and the
 * flow map, when pinned) is opened afresh and read whole; rates are the
 * counters' growth since the previous read over the time between the two
 * (rates.c), read and laid out by top_view.c. On a terminal: a full-screen
 * view (top_screen.c). With --once or --iterations, or when stdout is no
 * terminal: plain-text reports.
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
	OPT_CGROUPS,
	OPT_ONCE,
	OPT_ITERATIONS,
	OPT_TOP,
	OPT_EXACT,
};

static const struct tfc_opt top_opts[] = {
	{"interval", "SECONDS", "time between reads (default 1; 0.1 to 3600)", OPT_INTERVAL},
	{"sort", "KEY", "rate (bytes per second, default) or total (bytes)", OPT_SORT},
	{"flows", NULL, "start with the flow view (key f switches)", OPT_FLOWS},
	{"cgroups", NULL, "start with the cgroup view (key c switches; needs a cgroup attachment)",
	 OPT_CGROUPS},
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
	.summary = "Live view of the top talkers, by IP address, by flow or by cgroup, with rates\n"
		   "(bytes/s, packets/s) from the growth of the counters between reads, and\n"
		   "totals. Keys: q quits, s switches the sort (rate, total), f the flow view,\n"
		   "c the cgroup view (f or c again: back to the IP view).",
	.opts = top_opts,
	.examples = "  traffic-counter top\n"
		    "  traffic-counter top --flows --sort total\n"
		    "  traffic-counter top --cgroups --once\n"
		    "  traffic-counter top --iterations 3 --interval 2 --top 10\n",
};

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
	case OPT_CGROUPS:
		if (a->flows || a->cgroups)
			return tfc_opt_invalid(id == OPT_FLOWS ? "flows" : "cgroups",
					       "choose one of --flows and --cgroups");
		*(id == OPT_FLOWS ? &a->flows : &a->cgroups) = 1;
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
	for (int v = 0; v < TFC_VIEW_MAX; v++)
		tfc_rate_snap_free(&t->snap[v]);
	tfc_cgroup_names_free(t->cg_names);
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
	t.view = t.a.flows ? TFC_VIEW_FLOW : t.a.cgroups ? TFC_VIEW_CGROUP : TFC_VIEW_IP;
	/* Without a cgroup v2 mount cgroups are shown by id alone. */
	t.cg_names = tfc_cgroup_names_new(NULL, NULL);
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
