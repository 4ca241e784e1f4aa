/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * status's cgroup part: the fill level of traffic_counters_cgroup (entries
 * of the capacity the control map records), the --cgroup-depth of the
 * programs, the packets they could not count, and the heaviest cgroups.
 */
#ifndef TFC_STATUS_CGROUPS_H
#define TFC_STATUS_CGROUPS_H

#include <limits.h>

#include "abi/traffic_counter_abi.h"
#include "export/json_writer.h"
#include "util/cgroup_names.h"

/* The heaviest cgroups status names: both directions summed, most bytes first. */
#define TFC_STATUS_CGROUPS_TOP 5

struct status_cgroup_top {
	__u64 id;
	struct counters in, out;
	int named; /* name holds what the walk found; else the id alone */
	struct tfc_cgroup_name name;
};

struct status_cgroups {
	char pin[PATH_MAX];
	int err; /* 0: read; -ENOENT: not pinned, no cgroup programs (no error) */
	__u32 entries, max_entries;
	size_t n_top;
	struct status_cgroup_top top[TFC_STATUS_CGROUPS_TOP];
};

/*
 * Reads DIR/traffic_counters_cgroup and names its heaviest cgroups, pods
 * from pods_dir (NULL: TFC_PODS_DIR_DEFAULT).
 */
void status_cgroups_gather(struct status_cgroups *c, const char *pin_dir, const char *pods_dir);

/* Whether the map is pinned but could not be read (status then exits 1). */
int status_cgroups_unread(const struct status_cgroups *c);

/* ctl: the control map when it was read, else NULL (capacity from the map). */
void status_cgroups_json(struct tfc_json *j, const struct status_cgroups *c,
			 const struct tfc_control *ctl);
void status_cgroups_text(const struct status_cgroups *c, const struct tfc_control *ctl);

#endif /* TFC_STATUS_CGROUPS_H */
