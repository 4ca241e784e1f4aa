/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Attaching, detaching and purging: the commands' entry to the loader. */
#ifndef TFC_LOADER_H
#define TFC_LOADER_H

#include "hooks.h" /* struct tfc_attachment, tfc_attachments_list */
#include "maps/aggregate.h"

/* What tfc_attach did at the hook, for the user: a re-attach is no first attach. */
struct tfc_attach_result {
	__u32 prog_id;	   /* the program attached now */
	__u32 old_prog_id; /* the one it replaced in place; 0: a new attachment */
};

struct tfc_attach_opts {
	const struct tfc_pins *pins;
	int ifindex;
	const char *ifname;
	enum tfc_attach_point ap;
	enum tfc_xdp_mode xdp_mode;
	enum tfc_tc_api tfc_api;
	enum tfc_count_by count_by;
	int ip_map_type;   /* enum tfc_ip_map_type; -1: the pinned map's, or per-CPU */
	__u32 ip_map_size; /* 0: the pinned map's size, or the default */
	__u32 flow_map_size;
	int enable_flow;
	int migrate; /* attach --migrate: carry counters into maps of another layout */
	/* Layout 3's options (maps/aggregate.h); ignored by earlier layouts. */
	__u32 prefix_map_size; /* 0: the pinned map's size, or the default */
	int overflow_set;      /* --overflow-prefix given: overflow_v4/v6 written */
	__u8 overflow_v4, overflow_v6;
	int aggregate_set; /* --aggregate given: the trie holds these rules after */
	const struct tfc_agg_rule *aggregate;
	size_t n_aggregate;
	struct tfc_attach_result *result; /* filled on success when not NULL */
};

/*
 * Loads the program for opts->ap with the shared pinned maps (creating and
 * pinning them on first use), attaches it and pins the attachment. A second
 * call for the same interface and attach point replaces our program in
 * place. On failure nothing stays attached and maps this call created are
 * unpinned again. The error has been logged.
 */
int tfc_attach(const struct tfc_attach_opts *opts);

/* One line on what tfc_attach did: "attached to ..." or "replaced program N with M ...". */
void tfc_attach_report(const struct tfc_attach_opts *o, const struct tfc_attach_result *r);

struct traffic_counter_bpf;

/*
 * The records an attach makes in a loaded object's control map (layout
 * version, capacities, creation time), for the cgroup attach.
 */
int tfc_control_init(struct traffic_counter_bpf *skel);

/* Removes one attachment made by tfc_attach. -ENOENT when there is none. */
int tfc_detach(const struct tfc_pins *pins, enum tfc_attach_point ap, int ifindex);

/* Unpins the maps and removes the pin directory if no attachment remains. */
int tfc_purge(const struct tfc_pins *pins);

/* As tfc_purge, but attachments still using the maps keep them: not an error. */
int tfc_purge_if_unused(const struct tfc_pins *pins);

#endif /* TFC_LOADER_H */
