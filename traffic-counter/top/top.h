/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * top's state and its data (top_view.c), shared by its plain-text report
 * (cmd_top.c) and its screen (top_screen.c): both use top_view.c, and only
 * cmd_top.c calls top_screen.
 */
#ifndef TFC_TOP_H
#define TFC_TOP_H

#include <signal.h>

#include "commands.h"
#include "rates.h"
#include "util/cgroup_names.h"

enum top_flow_state {
	TOP_FLOW_ABSENT, /* no flow map pinned */
	TOP_FLOW_OFF,	 /* pinned, flow counting disabled */
	TOP_FLOW_ON,
};

struct top {
	struct top_args a;
	struct tfc_pins pins;
	struct tfc_rate_snap snap[TFC_VIEW_MAX]; /* latest read per view, sorted by key */
	double elapsed[TFC_VIEW_MAX]; /* seconds between the last two reads of each view */
	enum top_flow_state flow;
	int flow_err;	/* why the flow map could not be read, -errno; shown in its view */
	int cg_present; /* the cgroup map is pinned */
	int cg_err;	/* why it could not be read, -errno; shown in its view */
	struct tfc_cgroup_names *cg_names; /* NULL: no cgroup v2 mount, ids unnamed */
	enum tfc_view view;
	enum tfc_rate_sort sort;
	char note[PATH_MAX + 128];  /* what went wrong with the last read, shown */
	struct tfc_rate_row *shown; /* the current view in display order */
	size_t n_shown;
};

/* The cgroup view shows the path under ADDR and what it names under PROTO. */
enum top_col {
	TOP_ADDR,
	TOP_PROTO,
	TOP_DIR,
	TOP_IFACE,
	TOP_RATE,
	TOP_PRATE,
	TOP_TOTAL,
	TOP_PACKETS,
	TOP_NCOL,
};

#define TOP_CELL 112 /* "[v6]:port->[v6]:port" fits */
typedef char top_cells[TOP_NCOL][TOP_CELL];
/* A row, or the title with the pin directory in it. */
#define TOP_LINE_LEN (PATH_MAX + TOP_NCOL * (TOP_CELL + 2))

/* Set by SIGINT, SIGTERM and SIGHUP: leave the loop, restore the terminal. */
extern volatile sig_atomic_t top_stop;

/* Seconds on the monotonic clock. */
double top_now(void);

/* Reads the maps; with TFC_OPEN_QUIET a failure goes to t->note only. */
int top_read(struct top *t, unsigned int open_flags);
/* Sorts the current view into t->shown. 0 or -ENOMEM. */
int top_arrange(struct top *t);

void top_head_cells(const struct top *t, top_cells c);
void top_row_cells(const struct top *t, const struct tfc_rate_row *r, top_cells c);
/* Which columns the view has; widths to fit the n first shown rows. */
void top_columns(const struct top *t, size_t n, int visible[TOP_NCOL], int width[TOP_NCOL]);
/* The visible cells, aligned, two blanks apart, without trailing blanks. */
void top_line(const top_cells c, const int visible[TOP_NCOL], const int width[TOP_NCOL], char *out,
	      size_t len);
void top_summary(const struct top *t, char *out, size_t len);
/* Why the view may be empty or stale; "" when nothing is wrong. */
const char *top_note(const struct top *t, char *buf, size_t len);

/* top_screen.c: the full-screen view until a key or a signal ends it; an exit code. */
int top_screen(struct top *t);

#endif /* TFC_TOP_H */
