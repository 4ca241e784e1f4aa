// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * top's full-screen view, through ncurses: it owns the terminal (alternate
 * screen, no echo, one key at a time) from newterm() to endwin(), and every
 * way out (a key, a signal) goes through endwin(), which gives the terminal
 * back as it was.
 */
#include <curses.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "maps/maps.h"
#include "top.h"

/* The longest wait for a key: how late a signal or a refresh can be. */
#define KEY_POLL_MS 250
/* Title, summary, note and column heads above the rows; the keys below. */
#define TOP_LINES    4
#define BOTTOM_LINES 1

/* One screen line; a bar (A_REVERSE) spans the whole width. */
static void put_line(int y, const char *s, attr_t attr)
{
	attron(attr);
	mvaddnstr(y, 0, s, COLS);
	if (attr & A_REVERSE)
		for (int x = (int)strlen(s); x < COLS; x++)
			addch(' ');
	attroff(attr);
}

static int line_width(const int visible[TOP_NCOL], const int width[TOP_NCOL])
{
	int w = 0;

	for (int i = 0; i < TOP_NCOL; i++)
		if (visible[i])
			w += width[i] + (w ? 2 : 0);
	return w;
}

/* On a narrow terminal the least telling columns go first; the address
 * and the rate stay. */
static void fit_columns(int visible[TOP_NCOL], const int width[TOP_NCOL])
{
	static const enum top_col drop[] = {TOP_PACKETS, TOP_PRATE, TOP_PROTO,
					    TOP_IFACE,	 TOP_DIR,   TOP_TOTAL};

	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		if (line_width(visible, width) <= COLS)
			return;
		visible[drop[i]] = 0;
	}
}

static void draw_title(const struct top *t, char *line)
{
	char clock[16] = "";
	time_t now = time(NULL);
	struct tm tm;
	int x;

	if (localtime_r(&now, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	snprintf(line, TOP_LINE_LEN, "traffic-counter top: every %gs, %s", t->a.interval,
		 t->pins.dir);
	put_line(0, line, A_BOLD);
	x = COLS - (int)strlen(clock);
	if (x > (int)strlen(line))
		mvaddstr(0, x, clock);
}

static void draw_rows(const struct top *t, char *line)
{
	size_t n =
		LINES > TOP_LINES + BOTTOM_LINES ? (size_t)(LINES - TOP_LINES - BOTTOM_LINES) : 0;
	int visible[TOP_NCOL], width[TOP_NCOL];
	top_cells c;

	top_columns(t, n, visible, width);
	fit_columns(visible, width);
	top_head_cells(t, c);
	top_line(c, visible, width, line, TOP_LINE_LEN);
	put_line(TOP_LINES - 1, line, A_REVERSE);
	for (size_t i = 0; i < n && i < t->n_shown; i++) {
		top_row_cells(t, &t->shown[i], c);
		top_line(c, visible, width, line, TOP_LINE_LEN);
		put_line(TOP_LINES + (int)i, line, A_NORMAL);
	}
}

static void draw(const struct top *t)
{
	char line[TOP_LINE_LEN];

	erase();
	draw_title(t, line);
	top_summary(t, line, sizeof(line));
	put_line(1, line, A_NORMAL);
	put_line(2, top_note(t, line, sizeof(line)), A_BOLD);
	draw_rows(t, line);
	snprintf(line, sizeof(line), " q quit   s sort by %s   f %s view   c %s view",
		 t->sort == TFC_RSORT_RATE ? "total" : "rate",
		 t->view == TFC_VIEW_FLOW ? "IP" : "flow",
		 t->view == TFC_VIEW_CGROUP ? "IP" : "cgroup");
	put_line(LINES - 1, line, A_REVERSE);
	refresh();
}

/* 1 to quit; otherwise the change is shown at once. */
static int on_key(struct top *t, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case 's':
	case 'S':
		t->sort = t->sort == TFC_RSORT_RATE ? TFC_RSORT_TOTAL : TFC_RSORT_RATE;
		break;
	case 'f':
	case 'F':
		t->view = t->view == TFC_VIEW_FLOW ? TFC_VIEW_IP : TFC_VIEW_FLOW;
		break;
	case 'c':
	case 'C':
		t->view = t->view == TFC_VIEW_CGROUP ? TFC_VIEW_IP : TFC_VIEW_CGROUP;
		break;
	case KEY_RESIZE: /* ncurses has updated LINES and COLS */
		break;
	default:
		return 0;
	}
	top_arrange(t); /* on failure the previous order stays: still consistent */
	draw(t);
	return 0;
}

static void refresh_data(struct top *t)
{
	top_read(t, TFC_OPEN_QUIET); /* a failure is shown as the note */
	top_arrange(t);
	draw(t);
}

static void loop(struct top *t)
{
	double next = top_now() + t->a.interval;

	while (!top_stop) {
		double left = next - top_now();
		int ch;

		if (left <= 0) {
			refresh_data(t);
			next += t->a.interval;
			/* After a stall (suspended with ^Z), no burst of catch-up reads. */
			if (next <= top_now())
				next = top_now() + t->a.interval;
			continue;
		}
		timeout(left * 1000 < KEY_POLL_MS ? (int)(left * 1000) + 1 : KEY_POLL_MS);
		ch = getch();
		if (ch != ERR && on_key(t, ch))
			return;
	}
}

int top_screen(struct top *t)
{
	SCREEN *scr;

	/* Only the character type: numbers keep the C locale's decimal point. */
	setlocale(LC_CTYPE, "");
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		tfc_err("cannot drive the terminal (TERM=%s): set TERM, or use --once or "
			"--iterations N for plain text",
			getenv("TERM") ? getenv("TERM") : "");
		return TFC_EXIT_FAIL;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	top_arrange(t);
	draw(t);
	loop(t);
	endwin();
	delscreen(scr);
	return TFC_EXIT_OK;
}
