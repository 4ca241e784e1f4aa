/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The three ways a program is attached: an XDP bpf_link, a TCX bpf_link
 * (Linux >= 6.6), or a cls_bpf filter on clsact through netlink for older
 * kernels. Each is recorded by one pin under links/: the link itself, or,
 * for netlink, the program (suffix TFC_NETLINK_SUFFIX). The pin names, the
 * filter's handle and priorities are in abi/traffic_counter_abi.h.
 */
#ifndef TFC_HOOKS_H
#define TFC_HOOKS_H

#include <limits.h>
#include <net/if.h>
#include <stddef.h>

#include "util/names.h"
#include "maps/pins.h"

/* libbpf 1.1 and older UAPI headers predate TCX (Linux 6.6). */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS	47
#endif
#define TFC_LINK_TYPE_TCX 11 /* BPF_LINK_TYPE_TCX */
/* link_create flag: with no relative program, insert at the chain's head. */
#define TFC_BPF_F_BEFORE (1U << 3) /* BPF_F_BEFORE */

/* One program for one hook: all that attaching it needs. */
struct tfc_hook {
	int prog_fd;
	int ifindex;
	const char *ifname; /* for messages */
	enum tfc_attach_point ap;
	enum tfc_xdp_mode xdp_mode;
	enum tfc_tc_api tc_api;
	const char *pin; /* the link's pin; a netlink attachment's adds TFC_NETLINK_SUFFIX */
	/* XDP: the driver's refusal of this program is not reported (the
	 * caller then attaches the frags-aware one). */
	int quiet_refusal;
};

/* What tfc_hook_attach did, or why it refused. */
struct tfc_hook_result {
	__u32 prog_id;	   /* the program attached now */
	__u32 old_prog_id; /* the one it replaced in place; 0: a new attachment */
	/* -EBUSY because our own program (this id) counts at xdp already,
	 * attached from other pins: the caller names them, not logged here. */
	__u32 ours_at_xdp;
};

/*
 * Attaches h->prog_fd (or replaces our program already there) and pins it;
 * r (may be NULL) says what it did. Errors are logged, except the one
 * r->ours_at_xdp stands for.
 */
int tfc_hook_attach(const struct tfc_hook *h, struct tfc_hook_result *r);

/* Detaches what `pin` records; unpins it. */
int tfc_hook_detach(const char *pin, enum tfc_attach_point ap, int ifindex);

struct tfc_attachment {
	enum tfc_attach_point ap;
	int ifindex; /* 0 when the interface is gone */
	char ifname[IF_NAMESIZE];
	const char *mode; /* driver, skb, hw, tcx, netlink */
	__u32 prog_id;
	__u32 link_id;	 /* 0 for netlink (cls_bpf) attachments */
	int pin_ifindex; /* ifindex in the pin name, to detach it */
	__u64 netns;	 /* inode of the network namespace of the interface */
	int other_netns; /* not ours: ifindex means nothing here, ifname unknown */
	char pin[PATH_MAX];
};

/* Every attachment recorded under pins->links. The caller frees *out. */
int tfc_attachments_list(const struct tfc_pins *pins, struct tfc_attachment **out, size_t *n);

/* Fills mode, prog_id, link_id and ifindex (0 if the device is gone). */
int tfc_hook_describe(const char *pin, struct tfc_attachment *a);

/* Whether `pin` records a netlink (cls_bpf) attachment. */
int tfc_is_netlink_pin(const char *pin);

/* Whether a program id belongs to one of our programs (by its name). */
int tfc_prog_is_ours(__u32 prog_id, char *name, size_t name_len);

/*
 * This build's name for a program of ours named `name` by this build or an
 * earlier release (TFC_PROG_NAMES_EARLIER); NULL when it is not ours.
 */
const char *tfc_prog_current_name(const char *name);

#endif /* TFC_HOOKS_H */
