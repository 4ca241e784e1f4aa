// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "metrics_cgroup.h"

/*
 * A cgroup's identity in the exposition is its label set: the five label
 * values joined by a byte no label holds ("\x1f"). Rows with equal label
 * sets (a path reused by a new cgroup, with a new id) are one series, so a
 * service restarted under the same unit keeps adding to its series.
 */
#define SEP "\x1f"

struct cg_series {
	char *id; /* joined labels; NULL for "other" */
	const struct tfc_cgroup_labels *labels;
	__u8 direction;
	int member;
	struct counters val;
};

struct tfc_cgroup_members {
	char **slots; /* open addressing over joined label sets, at most half full */
	size_t cap;
	size_t count;
};

struct tfc_cgroup_members *tfc_cgroup_members_new(void)
{
	return calloc(1, sizeof(struct tfc_cgroup_members));
}

void tfc_cgroup_members_free(struct tfc_cgroup_members *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i]);
	free(m->slots);
	free(m);
}

size_t tfc_cgroup_members_count(const struct tfc_cgroup_members *m)
{
	return m->count;
}

static __u64 str_hash(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (__u8)*s) * 0x100000001b3ULL;
	return h;
}

static char **member_slot(char **slots, size_t cap, const char *id)
{
	size_t i = str_hash(id) & (cap - 1);

	while (slots[i] && strcmp(slots[i], id))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int member_has(const struct tfc_cgroup_members *m, const char *id)
{
	return m->cap && *member_slot(m->slots, m->cap, id);
}

static int members_grow(struct tfc_cgroup_members *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i])
			*member_slot(slots, cap, m->slots[i]) = m->slots[i];
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

static int member_add(struct tfc_cgroup_members *m, const char *id)
{
	char **s;

	if (2 * (m->count + 1) > m->cap && members_grow(m))
		return -ENOMEM;
	s = member_slot(m->slots, m->cap, id);
	if (*s)
		return 0;
	*s = strdup(id);
	if (!*s)
		return -ENOMEM;
	m->count++;
	return 0;
}

/* ---- series -------------------------------------------------------------- */

static char *join_labels(const struct tfc_cgroup_labels *l)
{
	char *s = NULL;

	if (asprintf(&s, "%s" SEP "%s" SEP "%s" SEP "%s" SEP "%s", l->path, l->unit, l->container,
		     l->pod, l->pod_namespace) < 0)
		return NULL;
	return s;
}

/* "other" after every cgroup; then by labels, then direction. */
static int cmp_series(const void *pa, const void *pb)
{
	const struct cg_series *a = pa, *b = pb;
	int c = (!a->id) - (!b->id);

	c = c ?: (a->id && b->id ? strcmp(a->id, b->id) : 0);
	return c ?: (int)a->direction - (int)b->direction;
}

static void series_free(struct cg_series *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		free(s[i].id);
	free(s);
}

/* One series per row, equal label sets and direction summed; sorted. */
static int build_series(const struct tfc_cgroup_row *rows, size_t n, struct cg_series **out,
			size_t *nout)
{
	struct cg_series *s = calloc(n + 2, sizeof(*s)); /* room for two "other" */
	size_t w = 0;

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s[i].id = join_labels(&rows[i].labels);
		if (!s[i].id) {
			series_free(s, i);
			return -ENOMEM;
		}
		s[i].labels = &rows[i].labels;
		s[i].direction = rows[i].key.direction;
		s[i].val = rows[i].val;
	}
	qsort(s, n, sizeof(*s), cmp_series);
	for (size_t i = 0; i < n; i++) {
		if (w && !cmp_series(&s[w - 1], &s[i])) {
			s[w - 1].val.bytes += s[i].val.bytes;
			s[w - 1].val.packets += s[i].val.packets;
			free(s[i].id);
		} else {
			s[w++] = s[i];
		}
	}
	*out = s;
	*nout = w;
	return 0;
}

static int cmp_cand_bytes(const void *pa, const void *pb)
{
	const struct cg_series *a = *(const struct cg_series *const *)pa;
	const struct cg_series *b = *(const struct cg_series *const *)pb;

	if (a->val.bytes != b->val.bytes)
		return a->val.bytes > b->val.bytes ? -1 : 1;
	return cmp_series(a, b);
}

/*
 * Sticky membership, as for addresses (metrics.c admit): while there is
 * room every new cgroup joins; when more are new than there is room for,
 * the largest by bytes (either direction) join. A cgroup once summed into
 * "other" stays there, so every exported counter only grows.
 */
static int admit(struct tfc_cgroup_members *m, __u32 max, struct cg_series *s, size_t n)
{
	size_t room = max - m->count, ncand = 0;
	struct cg_series **cand = calloc(n ?: 1, sizeof(*cand));
	int err = 0;

	if (!cand)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s[i].member = member_has(m, s[i].id);
		if (!s[i].member)
			cand[ncand++] = &s[i];
	}
	if (ncand > room)
		qsort(cand, ncand, sizeof(*cand), cmp_cand_bytes);
	for (size_t i = 0; i < ncand && !err; i++) {
		if (!member_has(m, cand[i]->id) && m->count >= max)
			continue;
		err = member_add(m, cand[i]->id);
	}
	for (size_t i = 0; i < n && !err; i++)
		s[i].member = member_has(m, s[i].id);
	free(cand);
	return err;
}

/* Non-members summed into one "other" per direction, after the members. */
static size_t fold_others(struct cg_series *s, size_t n)
{
	struct cg_series other[2];
	int any[2] = {0, 0};
	size_t w = 0;

	memset(other, 0, sizeof(other));
	for (size_t i = 0; i < n; i++) {
		int d = s[i].direction ? 1 : 0;

		if (s[i].member) {
			s[w++] = s[i];
			continue;
		}
		other[d].direction = s[i].direction;
		other[d].val.bytes += s[i].val.bytes;
		other[d].val.packets += s[i].val.packets;
		any[d] = 1;
		free(s[i].id);
	}
	for (int d = 0; d < 2; d++)
		if (any[d])
			s[w++] = other[d];
	return w;
}

/* ---- text ---------------------------------------------------------------- */

typedef void (*escape_fn)(FILE *f, const char *s);

static void label(FILE *f, escape_fn esc, const char *name, const char *value, int first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	esc(f, value);
	fputc('"', f);
}

static void series_labels(FILE *f, escape_fn esc, const struct cg_series *s)
{
	const struct tfc_cgroup_labels *l = s->labels;

	if (!s->id) {
		fputs("cgroup=\"other\",unit=\"\",container=\"\",pod=\"\",namespace=\"\"", f);
	} else {
		label(f, esc, "cgroup", l->path, 1);
		label(f, esc, "unit", l->unit, 0);
		label(f, esc, "container", l->container, 0);
		label(f, esc, "pod", l->pod, 0);
		label(f, esc, "namespace", l->pod_namespace, 0);
	}
	fprintf(f, ",direction=\"%s\"", tfc_direction_str(s->direction));
}

static void emit(FILE *f, escape_fn esc, const char *name, const char *help, int packets,
		 const struct cg_series *s, size_t n)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{", name);
		series_labels(f, esc, &s[i]);
		fprintf(f, "} %llu\n",
			(unsigned long long)(packets ? s[i].val.packets : s[i].val.bytes));
	}
}

static size_t own_cgroups(const struct cg_series *s, size_t n)
{
	size_t own = 0;

	/* Series are sorted by labels, so one cgroup's directions are adjacent. */
	for (size_t i = 0; i < n; i++)
		own += s[i].id && (!i || !s[i - 1].id || strcmp(s[i - 1].id, s[i].id));
	return own;
}

int tfc_metrics_cgroup_write(struct tfc_cgroup_members *m, __u32 max_series,
			     const struct tfc_cgroup_row *rows, size_t n,
			     void (*escape)(FILE *f, const char *s), FILE *f)
{
	struct cg_series *s = NULL;
	size_t ns = 0;
	int err = build_series(rows, n, &s, &ns);

	if (!err && max_series) {
		err = admit(m, max_series, s, ns);
		if (!err)
			ns = fold_others(s, ns);
	}
	if (!err) {
		emit(f, escape, "traffic_counter_cgroup_bytes_total",
		     "Bytes counted by cgroup (L3: skb->len at the cgroup_skb hooks, local sockets "
		     "only); cgroup=\"other\" sums the cgroups beyond --max-series.",
		     0, s, ns);
		emit(f, escape, "traffic_counter_cgroup_packets_total",
		     "Packets counted by cgroup; cgroup=\"other\" sums the cgroups beyond "
		     "--max-series.",
		     1, s, ns);
		fprintf(f,
			"# HELP traffic_counter_cgroup_series Cgroups exported with a series of "
			"their own.\n# TYPE traffic_counter_cgroup_series gauge\n"
			"traffic_counter_cgroup_series %zu\n",
			own_cgroups(s, ns));
	}
	series_free(s, ns);
	return err;
}
