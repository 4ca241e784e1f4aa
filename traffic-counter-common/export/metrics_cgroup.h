/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The cgroup series of the Prometheus exposition (metrics.c calls it): one
 * series per cgroup and direction, labelled cgroup (the path), unit,
 * container, pod and namespace; bounded by --max-series with sticky
 * membership and a cgroup="other" series, as addresses are.
 */
#ifndef TFC_METRICS_CGROUP_H
#define TFC_METRICS_CGROUP_H

#include <stdio.h>
#include <linux/types.h>

#include "maps/cgroup_rows.h"

struct tfc_cgroup_members;

struct tfc_cgroup_members *tfc_cgroup_members_new(void);
void tfc_cgroup_members_free(struct tfc_cgroup_members *m);
/* Cgroups (label sets) holding a series of their own. */
size_t tfc_cgroup_members_count(const struct tfc_cgroup_members *m);

/*
 * Writes the cgroup families for these rows; max_series 0: no limit.
 * `escape` writes a label value (tfc_metrics_escape). 0 or -ENOMEM.
 */
int tfc_metrics_cgroup_write(struct tfc_cgroup_members *m, __u32 max_series,
			     const struct tfc_cgroup_row *rows, size_t n,
			     void (*escape)(FILE *f, const char *s), FILE *f);

#endif /* TFC_METRICS_CGROUP_H */
