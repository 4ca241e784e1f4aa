/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The rows of traffic_counters_cgroup as the readers (top, serve, record)
 * show them: counters summed over CPUs, with the labels the cgroup's path
 * gives. The map is optional: it is pinned only while a cgroup attachment
 * exists, so "not pinned" is an answer (-ENOENT), not an error to log.
 */
#ifndef TFC_CGROUP_ROWS_H
#define TFC_CGROUP_ROWS_H

#include <stddef.h>
#include <linux/types.h>

#include "abi/traffic_counter_abi.h"
#include "util/cgroup_names.h"

/* Label values of one row; never NULL, "" where the path says nothing. */
struct tfc_cgroup_labels {
	char *path; /* below the v2 mount; "id:N" for an id never named */
	char *unit;
	char *container;
	char *pod; /* the pod's name where the kubelet's directory names it, else its UID */
	char *pod_namespace;
	int gone;  /* the cgroup was removed: its last known name */
	int known; /* named from cgroupfs at least once */
};

struct tfc_cgroup_row {
	struct cgroup_key key;
	struct counters val;
	struct tfc_cgroup_labels labels;
};

/*
 * Opens <pin_dir>/traffic_counters_cgroup read-only. Returns the fd,
 * -ENOENT when it is not pinned (quietly), -EPROTO (logged) when the pin is
 * not a cgroup counter map of this layout, another negative errno (logged).
 */
int tfc_cgroup_rows_open(const char *pin_dir, __u32 *capacity);

/*
 * Every row of the map, named through `names` (NULL: rows keep "id:N"
 * paths). -ENOENT when the map is not pinned; *rows NULL and *n 0 then.
 */
int tfc_cgroup_rows_read(const char *pin_dir, struct tfc_cgroup_names *names,
			 struct tfc_cgroup_row **rows, size_t *n, __u32 *capacity);

/* Sets a row's labels from a name (NULL: unknown id). 0 or -ENOMEM. */
int tfc_cgroup_labels_set(struct tfc_cgroup_labels *l, __u64 id, const struct tfc_cgroup_name *nm);
void tfc_cgroup_labels_free(struct tfc_cgroup_labels *l);
void tfc_cgroup_rows_free(struct tfc_cgroup_row *rows, size_t n);

/* What a screen or table shows for a row: unit, else pod, else container, else path. */
const char *tfc_cgroup_labels_display(const struct tfc_cgroup_labels *l);

#endif /* TFC_CGROUP_ROWS_H */
