/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The embedded BPF object loaded against the pinned maps: pinned maps are
 * reused as they are, missing ones created and pinned, and one program (or
 * none) loaded and verified. Used by attach and by attach --migrate.
 */
#ifndef TFC_OBJECT_H
#define TFC_OBJECT_H

#include "util/names.h"
#include "maps/maps.h"

/* What to load, and against which maps. */
struct tfc_load_req {
	const struct tfc_pins *pins;
	enum tfc_attach_point ap;
	int ifindex;	    /* the device, for XDP hardware offload */
	const char *ifname; /* for messages */
	enum tfc_xdp_mode xdp_mode;
	enum tfc_count_by count_by;
	int ip_map_type;   /* enum tfc_ip_map_type; -1: the pinned map's, or per-CPU */
	__u32 ip_map_size; /* 0: the pinned map's size, or the default */
	__u32 flow_map_size;
	__u32 prefix_map_size; /* layout 3; 0: the pinned map's size, or the default */
	const char *prog_name; /* the program to load (NULL: the one for ap) */
	int xdp_frags;	       /* xdp: the frags-aware program, whatever the MTU */
	/* Load the two cgroup_skb programs instead (layout 3), with these: */
	int cgroup;
	__u32 cgroup_map_size; /* 0: the pinned map's size, or the default */
	__u32 cgroup_level;    /* the attach cgroup's level (root: 0) */
	__u32 cgroup_depth;    /* --cgroup-depth */
	int maps_only;	       /* create the maps, load no program */
};

struct traffic_counter_bpf;

/* A loaded object. */
struct tfc_loaded {
	struct traffic_counter_bpf *skel;
	int prog_fd;	   /* -1 with maps_only; lives as long as skel */
	int prog_fd2;	   /* cgroup: prog_fd is the ingress program, this the egress one */
	int single_buffer; /* the program is the XDP one without frags */
	/* Pins of the maps this load created (NULL: the map was pinned before). */
	const char *created[TFC_MAP_KIND_ALL];
	const char *created_cgroup; /* cgroup_pin, when this load made that map */
	char cgroup_pin[PATH_MAX];  /* the cgroup map's pin */
};

/*
 * Opens the embedded object, plans the maps at req->pins (reusing pinned
 * ones), loads the program for req and pins the maps it created. On failure
 * nothing it created stays pinned; the error has been logged.
 */
int tfc_load(const struct tfc_load_req *req, struct tfc_loaded *out);

/* Unpins the maps the load created: what they were made for failed. */
void tfc_loaded_unpin_new(const struct tfc_loaded *l);

/* Frees the object; the program goes unless something attached it. */
void tfc_loaded_free(struct tfc_loaded *l);

/*
 * The end of an attach: after a failure, the maps this load created are
 * unpinned and the pin directories it leaves empty removed (only empty ones
 * go: this call's or unused); then the object is freed.
 */
void tfc_loaded_finish(struct tfc_loaded *l, const struct tfc_pins *pins, int failed);

#endif /* TFC_OBJECT_H */
