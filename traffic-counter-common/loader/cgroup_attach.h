/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * attach --attach-point cgroup: the two cgroup_skb programs on one cgroup v2
 * directory, through two bpf_links (BPF_CGROUP_INET_INGRESS and _EGRESS;
 * links are multi-attach: other programs there stay and keep running),
 * pinned under links/ as "cgroup-ingress-cg<ID>" and "cgroup-egress-cg<ID>".
 * Same lock, fault points and in-place re-attach as the interface hooks.
 */
#ifndef TFC_CGROUP_ATTACH_H
#define TFC_CGROUP_ATTACH_H

#include <limits.h>
#include <stddef.h>
#include <linux/types.h>

#include "maps/pins.h"

struct tfc_cgroup_attach_opts {
	const struct tfc_pins *pins;
	const char *path; /* cgroup v2 directory; NULL: the v2 mount's root */
	int depth;	  /* --cgroup-depth; -1: as recorded (first attach: 0) */
	__u32 map_size;	  /* --cgroup-map-size; 0: the pinned map's, or the default */
	int migrate;	  /* attach --migrate */
};

/* One cgroup attachment found under links/ (both links, or one left). */
struct tfc_cgroup_attachment {
	__u64 cgroup_id;
	__u32 prog_id[2]; /* ingress, egress; 0: that link is missing */
	__u32 link_id[2];
	char path[PATH_MAX]; /* the cgroup's directory, "" when it is gone */
};

/* Attaches or re-attaches in place; the error has been logged. */
int tfc_cgroup_attach(const struct tfc_cgroup_attach_opts *o);

/*
 * Detaches the cgroup attachment of `path` (NULL: the v2 root); -ENOENT
 * when there is none. The caller holds the pin directory lock.
 */
int tfc_cgroup_detach(const struct tfc_pins *pins, const char *path);

/*
 * After attach --migrate: every cgroup attachment re-attached in place, so
 * that its programs use the new control and statistics maps.
 */
int tfc_cgroup_repoint(const struct tfc_pins *pins);

/* Detaches every cgroup attachment recorded; the first error, or 0. */
int tfc_cgroup_detach_all(const struct tfc_pins *pins);

/* Every cgroup attachment recorded under pins->links. The caller frees *out. */
int tfc_cgroup_attachments_list(const struct tfc_pins *pins, struct tfc_cgroup_attachment **out,
				size_t *n);

/*
 * detach --purge: with cgroup attachments left, -EBUSY (logged) or, with
 * if_unused, 0 and the maps kept; else the cgroup map's pin goes (when it
 * is our map), then the other maps (tfc_purge, tfc_purge_if_unused).
 */
int tfc_cgroup_purge(const struct tfc_pins *pins, int if_unused);

#endif /* TFC_CGROUP_ATTACH_H */
