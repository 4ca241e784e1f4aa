// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_rows.h"
#include "maps.h"
#include "util/log.h"

int tfc_cgroup_rows_open(const char *pin_dir, __u32 *capacity)
{
	struct bpf_map_info info;
	char pin[PATH_MAX];
	int fd;

	if (snprintf(pin, sizeof(pin), "%s/%s", pin_dir, TFC_CGROUP_MAP_NAME) >= (int)sizeof(pin))
		return -ENAMETOOLONG;
	fd = tfc_cgroup_map_open(pin, &info, TFC_OPEN_OPTIONAL);
	if (fd >= 0 && capacity)
		*capacity = info.max_entries;
	return fd;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int tfc_cgroup_labels_set(struct tfc_cgroup_labels *l, __u64 id, const struct tfc_cgroup_name *nm)
{
	char unknown[32];

	memset(l, 0, sizeof(*l));
	snprintf(unknown, sizeof(unknown), "id:%llu", (unsigned long long)id);
	l->path = dup_or_empty(nm ? nm->path : unknown);
	l->unit = dup_or_empty(nm ? nm->unit : NULL);
	l->container = dup_or_empty(nm ? nm->container : NULL);
	l->pod = dup_or_empty(!nm ? NULL : nm->pod_name[0] ? nm->pod_name : nm->pod_uid);
	l->pod_namespace = dup_or_empty(nm ? nm->pod_namespace : NULL);
	l->gone = nm ? nm->gone : 0;
	l->known = !!nm;
	if (!l->path || !l->unit || !l->container || !l->pod || !l->pod_namespace) {
		tfc_cgroup_labels_free(l);
		return -ENOMEM;
	}
	return 0;
}

void tfc_cgroup_labels_free(struct tfc_cgroup_labels *l)
{
	free(l->path);
	free(l->unit);
	free(l->container);
	free(l->pod);
	free(l->pod_namespace);
	memset(l, 0, sizeof(*l));
}

void tfc_cgroup_rows_free(struct tfc_cgroup_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		tfc_cgroup_labels_free(&rows[i].labels);
	free(rows);
}

const char *tfc_cgroup_labels_display(const struct tfc_cgroup_labels *l)
{
	if (l->unit[0])
		return l->unit;
	if (l->pod[0])
		return l->pod;
	if (l->container[0])
		return l->container;
	return l->path;
}

/* Names rows in place: one lookup per row (the cache makes repeats cheap). */
static int rows_name(struct tfc_cgroup_row *rows, size_t n, struct tfc_cgroup_names *names)
{
	for (size_t i = 0; i < n; i++) {
		__u64 id = rows[i].key.cgroup_id;
		const struct tfc_cgroup_name *nm = names ? tfc_cgroup_name(names, id) : NULL;
		int err = tfc_cgroup_labels_set(&rows[i].labels, id, nm);

		if (err)
			return err;
	}
	return 0;
}

static int rows_from_entries(const struct tfc_cgroup_entry *e, size_t n,
			     struct tfc_cgroup_names *names, struct tfc_cgroup_row **out)
{
	struct tfc_cgroup_row *rows = calloc(n ?: 1, sizeof(*rows));
	int err;

	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rows[i].key = e[i].key;
		rows[i].val = e[i].val;
	}
	err = rows_name(rows, n, names);
	if (err) {
		tfc_cgroup_rows_free(rows, n);
		return err;
	}
	*out = rows;
	return 0;
}

int tfc_cgroup_rows_read(const char *pin_dir, struct tfc_cgroup_names *names,
			 struct tfc_cgroup_row **rows, size_t *n, __u32 *capacity)
{
	struct tfc_cgroup_entry *e = NULL;
	size_t ne = 0;
	int fd, err;

	*rows = NULL;
	*n = 0;
	fd = tfc_cgroup_rows_open(pin_dir, capacity);
	if (fd < 0)
		return fd;
	err = tfc_dump_cgroup(fd, &e, &ne);
	close(fd);
	if (err) {
		tfc_err("cannot read %s/%s: %s", pin_dir, TFC_CGROUP_MAP_NAME, strerror(-err));
		goto out;
	}
	err = rows_from_entries(e, ne, names, rows);
	if (!err)
		*n = ne;
out:
	free(e);
	return err;
}
