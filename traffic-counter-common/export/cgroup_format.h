/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Rows of traffic_counters_cgroup as text: sorted, named (util/cgroup_names)
 * and written as a table, JSON or CSV (dump-maps --cgroups, status).
 */
#ifndef TFC_CGROUP_FORMAT_H
#define TFC_CGROUP_FORMAT_H

#include <stdio.h>

#include "format.h"
#include "util/cgroup_names.h"

/*
 * Largest first for bytes and packets; TFC_SORT_IP: by cgroup id. Ties by
 * id, then direction, so the output is stable.
 */
void tfc_sort_cgroup(struct tfc_cgroup_entry *e, size_t n, enum tfc_sort by);

/*
 * What one row says of its cgroup. names NULL (no cgroup v2 mount to walk):
 * the id alone, not gone. An id the walk did not find: the id alone, gone
 * (the cgroup was removed before the walk: every id in the map was made by
 * a cgroup that existed).
 */
struct tfc_cgroup_label {
	const char *path, *unit, *container, *pod_uid, *pod_namespace, *pod_name;
	char pod[520]; /* "NAMESPACE/NAME", else the UID, else "" */
	int gone;
};

/* Fills l for `id`; its strings are valid until the next lookup in names. */
void tfc_cgroup_label(struct tfc_cgroup_names *names, __u64 id, struct tfc_cgroup_label *l);

/*
 * Writes n rows in fmt (names may be NULL: ids alone). Columns, in every
 * format: cgroup_id, path, unit, container, pod, pod_uid, pod_namespace,
 * pod_name, direction, packets, bytes, gone. Returns 0 or -EIO.
 */
int tfc_print_cgroup(FILE *f, const struct tfc_cgroup_entry *e, size_t n,
		     struct tfc_cgroup_names *names, enum tfc_format fmt);

#endif /* TFC_CGROUP_FORMAT_H */
