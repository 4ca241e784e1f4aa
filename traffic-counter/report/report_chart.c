// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * report --chart: a bar chart of the listing, drawn once through cairo onto
 * an SVG surface or an image surface written as PNG: one drawing path for
 * both formats. Per bucket two bars side by side, received then sent, each
 * filled in its own colour, which nothing else is filled with (the tests count
 * bars by their fill); a y axis in bytes
 * with SI units, bucket labels under the x axis, a title and a legend.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <cairo.h>
#include <cairo-svg.h>
#include <fontconfig/fontconfig.h>

#include "util/log.h"
#include "report.h"

/* The colours of the bars; tests/e2e/report.bats looks for them. */
static const double rx_rgb[3] = {0x1f / 255.0, 0x77 / 255.0, 0xb4 / 255.0};
static const double tx_rgb[3] = {0xff / 255.0, 0x7f / 255.0, 0x0e / 255.0};

#define MARGIN_L 80.0
#define MARGIN_R 20.0
#define MARGIN_T 40.0
#define MARGIN_B 60.0

struct plot {
	double x, y, w, h; /* the plot area */
	double ymax;	   /* bytes at its top */
};

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

int report_chart_path_ok(const char *path)
{
	return ends_with(path, ".svg") || ends_with(path, ".png");
}

/* A round axis maximum: 1, 2 or 5 times a power of ten, at least the data. */
static double nice_max(double v)
{
	double p;

	if (v <= 0)
		return 1;
	p = pow(10, floor(log10(v)));
	if (v <= p)
		return p;
	if (v <= 2 * p)
		return 2 * p;
	if (v <= 5 * p)
		return 5 * p;
	return 10 * p;
}

static void si_bytes(double v, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	int u = 0;

	while (v >= 1000 && u < 6) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, "%g %s", v, units[u]);
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double align)
{
	cairo_text_extents_t e;

	cairo_text_extents(cr, s, &e);
	cairo_move_to(cr, x - e.width * align - e.x_bearing, y);
	cairo_show_text(cr, s);
}

static void draw_axes(cairo_t *cr, const struct plot *p)
{
	char label[32];

	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, 1);
	cairo_move_to(cr, p->x, p->y);
	cairo_line_to(cr, p->x, p->y + p->h);
	cairo_line_to(cr, p->x + p->w, p->y + p->h);
	cairo_stroke(cr);
	cairo_set_font_size(cr, 11);
	for (int i = 0; i <= 4; i++) {
		double yy = p->y + p->h - p->h * i / 4;

		si_bytes(p->ymax * i / 4, label, sizeof(label));
		text_at(cr, p->x - 6, yy + 4, label, 1.0);
		cairo_move_to(cr, p->x - 3, yy);
		cairo_line_to(cr, p->x, yy);
		cairo_stroke(cr);
	}
}

static void draw_bar(cairo_t *cr, const struct plot *p, double x, double w, __u64 v,
		     const double rgb[3])
{
	double h = p->h * (double)v / p->ymax;

	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	cairo_rectangle(cr, x, p->y + p->h - h, w, h > 0 ? h : 0.01);
	cairo_fill(cr);
}

/* Every bucket's bars; every k-th bucket's label, so labels do not overlap. */
static void draw_bars(cairo_t *cr, const struct plot *p, const struct report_chart *c)
{
	double slot = p->w / (double)c->n, bw = slot * 0.4, widest = 0;
	size_t every;

	cairo_set_font_size(cr, 10);
	for (size_t i = 0; i < c->n; i++) {
		cairo_text_extents_t e;

		cairo_text_extents(cr, c->labels[i] ?: "", &e);
		widest = fmax(widest, e.width);
	}
	every = (size_t)ceil((widest + 12) / slot);
	for (size_t i = 0; i < c->n; i++) {
		double x = p->x + slot * (double)i + slot * 0.1;

		draw_bar(cr, p, x, bw, c->sums[i].rx_bytes, rx_rgb);
		draw_bar(cr, p, x + bw, bw, c->sums[i].tx_bytes, tx_rgb);
		if (c->labels[i] && i % (every ?: 1) == 0) {
			cairo_set_source_rgb(cr, 0, 0, 0);
			text_at(cr, x + bw, p->y + p->h + 16, c->labels[i], 0.5);
		}
	}
}

/* A legend swatch, stroked: only the bars are filled in the bar colours. */
static void swatch(cairo_t *cr, double x, double y, const double rgb[3])
{
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	cairo_set_line_width(cr, 4);
	cairo_rectangle(cr, x + 2, y - 8, 6, 6);
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
}

static void draw_legend(cairo_t *cr, const struct plot *p, const char *title)
{
	double y = p->y + p->h + 40;

	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_font_size(cr, 14);
	text_at(cr, p->x, MARGIN_T - 16, title, 0);
	cairo_set_font_size(cr, 11);
	text_at(cr, p->x, y, "bytes per bucket:", 0);
	swatch(cr, p->x + 110, y, rx_rgb);
	text_at(cr, p->x + 124, y, "received (rx)", 0);
	swatch(cr, p->x + 220, y, tx_rgb);
	text_at(cr, p->x + 234, y, "sent (tx)", 0);
}

static void draw(cairo_t *cr, const struct report_chart *c)
{
	struct plot p = {
		.x = MARGIN_L,
		.y = MARGIN_T,
		.w = c->width - MARGIN_L - MARGIN_R,
		.h = c->height - MARGIN_T - MARGIN_B,
	};
	double m = 0;

	for (size_t i = 0; i < c->n; i++) {
		m = fmax(m, (double)c->sums[i].rx_bytes);
		m = fmax(m, (double)c->sums[i].tx_bytes);
	}
	p.ymax = nice_max(m);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	draw_axes(cr, &p);
	if (c->n)
		draw_bars(cr, &p, c);
	draw_legend(cr, &p, c->title);
}

static int surface_failed(const char *path, cairo_status_t st)
{
	tfc_err("--chart: cannot write %s: %s", path, cairo_status_to_string(st));
	return -EIO;
}

int report_chart_write(const char *path, const struct report_chart *c)
{
	int png = ends_with(path, ".png");
	cairo_surface_t *s;
	cairo_status_t st;
	cairo_t *cr;

	if (png)
		s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)c->width, (int)c->height);
	else
		s = cairo_svg_surface_create(path, c->width, c->height);
	cr = cairo_create(s);
	draw(cr, c);
	st = cairo_status(cr);
	cairo_destroy(cr);
	if (!st && png)
		st = cairo_surface_write_to_png(s, path);
	cairo_surface_finish(s);
	if (!st)
		st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	/* Cairo's and fontconfig's caches: one chart a run, nothing kept. */
	cairo_debug_reset_static_data();
	FcFini();
	return st ? surface_failed(path, st) : 0;
}
