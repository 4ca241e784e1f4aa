// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "cgroup_format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"
#include "util/names.h"
#include "util/text.h"

static enum tfc_sort cg_sort_by;

static int cmp_u64(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b;
}

static int cmp_cgroup(const void *pa, const void *pb)
{
	const struct tfc_cgroup_entry *a = pa, *b = pb;
	int c = 0;

	if (cg_sort_by == TFC_SORT_BYTES)
		c = cmp_u64(b->val.bytes, a->val.bytes);
	else if (cg_sort_by == TFC_SORT_PACKETS)
		c = cmp_u64(b->val.packets, a->val.packets);
	if (!c)
		c = cmp_u64(a->key.cgroup_id, b->key.cgroup_id);
	return c ? c : (int)a->key.direction - (int)b->key.direction;
}

void tfc_sort_cgroup(struct tfc_cgroup_entry *e, size_t n, enum tfc_sort by)
{
	/* A cgroup map holds thousands of rows, not millions: qsort is enough. */
	cg_sort_by = by;
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_cgroup);
}

void tfc_cgroup_label(struct tfc_cgroup_names *names, __u64 id, struct tfc_cgroup_label *l)
{
	const struct tfc_cgroup_name *c = names ? tfc_cgroup_name(names, id) : NULL;

	memset(l, 0, sizeof(*l));
	l->path = l->unit = l->container = l->pod_uid = l->pod_namespace = l->pod_name = "";
	if (!c) {
		l->gone = names != NULL;
		return;
	}
	l->path = c->path;
	l->unit = c->unit;
	l->container = c->container;
	l->pod_uid = c->pod_uid;
	l->pod_namespace = c->pod_namespace;
	l->pod_name = c->pod_name;
	l->gone = c->gone;
	if (c->pod_name[0])
		snprintf(l->pod, sizeof(l->pod), "%s/%s", c->pod_namespace, c->pod_name);
	else
		snprintf(l->pod, sizeof(l->pod), "%s", c->pod_uid);
}

/* CSV and JSON: one writer of the field names and values for both. */
struct cg_out {
	FILE *f;
	enum tfc_format fmt;
	int header, first;
	struct tfc_json json;
};

static void out_str(struct cg_out *w, const char *k, const char *v)
{
	if (w->fmt == TFC_FMT_JSON) {
		tfc_json_str(&w->json, k, v);
		return;
	}
	if (!w->first)
		putc_unlocked(',', w->f);
	w->first = 0;
	/* CSV is read in terminals too: paths are shown escaped. */
	tfc_csv_field(w->f, w->header ? k : tfc_text_shown(v));
}

static void out_u64(struct cg_out *w, const char *k, __u64 v)
{
	char buf[24];

	if (w->fmt == TFC_FMT_JSON) {
		tfc_json_u64(&w->json, k, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)v);
	out_str(w, k, buf);
}

static void out_bool(struct cg_out *w, const char *k, int v)
{
	if (w->fmt == TFC_FMT_JSON)
		tfc_json_bool(&w->json, k, v);
	else
		out_str(w, k, v ? "true" : "false");
}

static void cg_row(struct cg_out *w, const struct tfc_cgroup_entry *e,
		   const struct tfc_cgroup_label *l)
{
	out_u64(w, "cgroup_id", e->key.cgroup_id);
	out_str(w, "path", l->path);
	out_str(w, "unit", l->unit);
	out_str(w, "container", l->container);
	out_str(w, "pod", l->pod);
	out_str(w, "pod_uid", l->pod_uid);
	out_str(w, "pod_namespace", l->pod_namespace);
	out_str(w, "pod_name", l->pod_name);
	out_str(w, "direction", tfc_direction_str(e->key.direction));
	out_u64(w, "packets", e->val.packets);
	out_u64(w, "bytes", e->val.bytes);
	out_bool(w, "gone", l->gone);
}

static void cg_rows(struct cg_out *w, const struct tfc_cgroup_entry *e, size_t n,
		    struct tfc_cgroup_names *names)
{
	static const struct tfc_cgroup_entry zero;
	struct tfc_cgroup_label l;

	if (w->fmt == TFC_FMT_JSON) {
		tfc_json_init(&w->json, w->f, 1);
		tfc_json_arr_begin(&w->json, NULL);
	} else {
		tfc_cgroup_label(NULL, 0, &l);
		cg_row(w, &zero, &l); /* the header line */
		putc_unlocked('\n', w->f);
		w->header = 0;
	}
	for (size_t i = 0; i < n; i++) {
		tfc_cgroup_label(names, e[i].key.cgroup_id, &l);
		if (w->fmt == TFC_FMT_JSON) {
			tfc_json_obj_begin(&w->json, NULL);
			cg_row(w, &e[i], &l);
			tfc_json_obj_end(&w->json);
			continue;
		}
		w->first = 1;
		cg_row(w, &e[i], &l);
		putc_unlocked('\n', w->f);
	}
	if (w->fmt == TFC_FMT_JSON) {
		tfc_json_arr_end(&w->json);
		tfc_json_finish(&w->json);
	}
}

/* A table column: "-" for nothing known. */
static const char *cell(const char *s)
{
	return s[0] ? tfc_text_shown(s) : "-";
}

static void table_row(FILE *f, const struct tfc_cgroup_entry *e, const struct tfc_cgroup_label *l)
{
	char ctr[13];

	/* 12 hex digits, as docker ps and crictl ps show a container. */
	snprintf(ctr, sizeof(ctr), "%s", l->container);
	fprintf(f, "%-20" PRIu64 " %-8s %14" PRIu64 " %18" PRIu64 " %-12s %-32s %-32s %s%s\n",
		(uint64_t)e->key.cgroup_id, tfc_direction_str(e->key.direction),
		(uint64_t)e->val.packets, (uint64_t)e->val.bytes, ctr[0] ? ctr : "-", cell(l->unit),
		cell(l->pod), cell(l->path), l->gone ? " (gone)" : "");
}

int tfc_print_cgroup(FILE *f, const struct tfc_cgroup_entry *e, size_t n,
		     struct tfc_cgroup_names *names, enum tfc_format fmt)
{
	struct cg_out w = {.f = f, .fmt = fmt, .header = fmt == TFC_FMT_CSV, .first = 1};
	struct tfc_cgroup_label l;
	int err;

	flockfile(f);
	if (fmt != TFC_FMT_TABLE) {
		cg_rows(&w, e, n, names);
	} else {
		fprintf(f, "%-20s %-8s %14s %18s %-12s %-32s %-32s %s\n", "CGROUP", "DIR",
			"PACKETS", "BYTES", "CONTAINER", "UNIT", "POD", "PATH");
		for (size_t i = 0; i < n; i++) {
			tfc_cgroup_label(names, e[i].key.cgroup_id, &l);
			table_row(f, &e[i], &l);
		}
	}
	err = ferror_unlocked(f) ? -EIO : 0;
	funlockfile(f);
	return err;
}
