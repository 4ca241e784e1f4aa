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

#include "loader.h"

/* libbpf 1.1 and older UAPI headers predate TCX (Linux 6.6). */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS	47
#endif
#define TFC_LINK_TYPE_TCX 11 /* BPF_LINK_TYPE_TCX */
/* link_create flag: with no relative program, insert at the chain's head. */
#define TFC_BPF_F_BEFORE (1U << 3) /* BPF_F_BEFORE */

/* Attaches prog_fd (or replaces our program already there) and pins it. */
int tfc_hook_attach(int prog_fd, const struct tfc_attach_opts *o, const char *pin);

/* Detaches what `pin` records; unpins it. */
int tfc_hook_detach(const char *pin, enum tfc_attach_point ap, int ifindex);

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
