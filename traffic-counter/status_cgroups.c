// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "status_cgroups.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/maps.h"
#include "util/names.h"
#include "util/text.h"

static int cmp_id(const void *pa, const void *pb)
{
	const struct tfc_cgroup_entry *a = pa, *b = pb;

	return a->key.cgroup_id < b->key.cgroup_id ? -1 : a->key.cgroup_id > b->key.cgroup_id;
}

static __u64 top_bytes(const struct status_cgroup_top *t)
{
	return t->in.bytes + t->out.bytes;
}

/* Keeps the TFC_STATUS_CGROUPS_TOP largest by bytes (ties: smaller id first). */
static void top_offer(struct status_cgroups *c, const struct status_cgroup_top *t)
{
	size_t i = c->n_top;

	if (i == TFC_STATUS_CGROUPS_TOP) {
		if (top_bytes(t) <= top_bytes(&c->top[i - 1]))
			return;
		i--;
	} else {
		c->n_top++;
	}
	for (; i > 0 && top_bytes(t) > top_bytes(&c->top[i - 1]); i--)
		c->top[i] = c->top[i - 1];
	c->top[i] = *t;
}

/* Rows sorted by id: one cgroup's directions are neighbours. */
static void top_collect(struct status_cgroups *c, struct tfc_cgroup_entry *e, size_t n)
{
	struct status_cgroup_top t;

	qsort(e, n, sizeof(*e), cmp_id);
	for (size_t i = 0; i < n;) {
		memset(&t, 0, sizeof(t));
		t.id = e[i].key.cgroup_id;
		for (; i < n && e[i].key.cgroup_id == t.id; i++) {
			struct counters *v = e[i].key.direction == TFC_DIR_EGRESS ? &t.out : &t.in;

			v->bytes += e[i].val.bytes;
			v->packets += e[i].val.packets;
		}
		if (top_bytes(&t))
			top_offer(c, &t);
	}
}

/* After the map is read: an id the walk does not find is a removed cgroup. */
static void top_name(struct status_cgroups *c, const char *pods_dir)
{
	struct tfc_cgroup_names *names = c->n_top ? tfc_cgroup_names_new(NULL, pods_dir) : NULL;

	for (size_t i = 0; names && i < c->n_top; i++) {
		const struct tfc_cgroup_name *name = tfc_cgroup_name(names, c->top[i].id);

		c->top[i].named = name != NULL;
		if (name)
			c->top[i].name = *name;
		else
			c->top[i].name.gone = 1;
	}
	tfc_cgroup_names_free(names);
}

void status_cgroups_gather(struct status_cgroups *c, const char *pin_dir, const char *pods_dir)
{
	struct tfc_cgroup_entry *e = NULL;
	struct bpf_map_info info;
	size_t n = 0;
	int fd;

	memset(c, 0, sizeof(*c));
	if (snprintf(c->pin, sizeof(c->pin), "%s/%s", pin_dir, TFC_CGROUP_MAP_NAME) >=
	    (int)sizeof(c->pin)) {
		c->err = -ENAMETOOLONG;
		return;
	}
	fd = tfc_cgroup_map_open(c->pin, &info, TFC_OPEN_QUIET);
	if (fd < 0) {
		c->err = fd;
		return;
	}
	c->max_entries = info.max_entries;
	c->err = tfc_dump_cgroup(fd, &e, &n);
	close(fd);
	if (!c->err) {
		c->entries = (__u32)n;
		top_collect(c, e, n);
		top_name(c, pods_dir);
	}
	free(e);
}

int status_cgroups_unread(const struct status_cgroups *c)
{
	return c->err && c->err != -ENOENT;
}

/* The control map's record of the capacity; the map's own before layout 3 fills it. */
static __u32 capacity(const struct status_cgroups *c, const struct tfc_control *ctl)
{
	return ctl && ctl->cgroup_map_capacity ? ctl->cgroup_map_capacity : c->max_entries;
}

static const char *pod_of(const struct tfc_cgroup_name *n, char *buf, size_t len)
{
	if (n->pod_name[0])
		snprintf(buf, len, "%s/%s", n->pod_namespace, n->pod_name);
	else
		snprintf(buf, len, "%s", n->pod_uid);
	return buf;
}

static void json_top(struct tfc_json *j, const struct status_cgroup_top *t)
{
	char pod[520];

	tfc_json_obj_begin(j, NULL);
	tfc_json_u64(j, "cgroup_id", t->id);
	tfc_json_str(j, "path", t->name.path);
	tfc_json_str(j, "unit", t->name.unit);
	tfc_json_str(j, "container", t->name.container);
	tfc_json_str(j, "pod", pod_of(&t->name, pod, sizeof(pod)));
	tfc_json_bool(j, "gone", t->name.gone);
	tfc_json_u64(j, "ingress_bytes", t->in.bytes);
	tfc_json_u64(j, "ingress_packets", t->in.packets);
	tfc_json_u64(j, "egress_bytes", t->out.bytes);
	tfc_json_u64(j, "egress_packets", t->out.packets);
	tfc_json_obj_end(j);
}

void status_cgroups_json(struct tfc_json *j, const struct status_cgroups *c,
			 const struct tfc_control *ctl)
{
	tfc_json_obj_begin(j, "cgroups");
	tfc_json_str(j, "pin", c->pin);
	tfc_json_bool(j, "pinned", c->err != -ENOENT);
	if (c->err && c->err != -ENOENT)
		tfc_json_str(j, "error", strerror(-c->err));
	if (!c->err) {
		tfc_json_u64(j, "entries", c->entries);
		tfc_json_u64(j, "capacity", capacity(c, ctl));
	}
	if (!c->err && ctl) {
		tfc_json_u64(j, "depth", ctl->cgroup_depth);
		tfc_json_u64(j, "dropped_packets", ctl->cgroup_dropped_packets);
		tfc_json_u64(j, "dropped_bytes", ctl->cgroup_dropped_bytes);
	}
	if (!c->err) {
		tfc_json_arr_begin(j, "heaviest");
		for (size_t i = 0; i < c->n_top; i++)
			json_top(j, &c->top[i]);
		tfc_json_arr_end(j);
	}
	tfc_json_obj_end(j);
}

/* "UNIT", else "POD", else the path: the shortest name that says who. */
static const char *short_name(const struct status_cgroup_top *t, char *buf, size_t len)
{
	if (!t->named)
		return "-";
	if (t->name.pod_uid[0])
		return pod_of(&t->name, buf, len);
	if (t->name.unit[0])
		return t->name.unit;
	return t->name.path;
}

static void text_top(const struct status_cgroups *c)
{
	char pod[520];

	if (!c->n_top)
		return;
	printf("  heaviest (bytes in + out):\n");
	for (size_t i = 0; i < c->n_top; i++) {
		const struct status_cgroup_top *t = &c->top[i];

		printf("    %-20" PRIu64 " %18" PRIu64 " %s%s\n", (uint64_t)t->id,
		       (uint64_t)top_bytes(t), tfc_text_shown(short_name(t, pod, sizeof(pod))),
		       t->name.gone ? " (gone)" : "");
	}
}

void status_cgroups_text(const struct status_cgroups *c, const struct tfc_control *ctl)
{
	if (c->err == -ENOENT)
		return; /* no cgroup programs here: nothing to say */
	printf("\ncgroups:\n");
	if (c->err) {
		printf("  %-22s (%s at %s)\n", TFC_CGROUP_MAP_NAME, strerror(-c->err),
		       tfc_text_shown(c->pin));
		return;
	}
	printf("  %-22s %8u / %-8u %s\n", TFC_CGROUP_MAP_NAME, c->entries, capacity(c, ctl),
	       tfc_text_shown(c->pin));
	if (ctl)
		printf("  depth: %u, dropped (cgroup map full): %" PRIu64 " packets, %" PRIu64
		       " bytes\n",
		       ctl->cgroup_depth, (uint64_t)ctl->cgroup_dropped_packets,
		       (uint64_t)ctl->cgroup_dropped_bytes);
	text_top(c);
}
