/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The three ways a program is attached: an XDP bpf_link, a TCX bpf_link
 * (Linux >= 6.6), or a cls_bpf filter on clsact through netlink for older
 * kernels. Each is recorded by one pin under links/: the link itself, or,
 * for netlink, the program (suffix TFC_NETLINK_SUFFIX).
 */
#ifndef TFC_HOOKS_H
#define TFC_HOOKS_H

#include "loader.h"

#define TFC_NETLINK_SUFFIX "-netlink" /* bpffs forbids dots in names */

/*
 * Our cls_bpf filter's place on clsact: fixed so we can find it again.
 * Priority 1 is the lowest there is, and lower runs first: we count frames
 * before any filter at a higher priority can drop them. Older builds used
 * priority 0x7c01 (openspec/changes/0009-tc-ordering.md): a filter of ours
 * found there is moved to 1 on re-attach and removed by detach. Where prio 1
 * holds filters of another kind or protocol (the kernel refuses to mix them
 * at one priority), 0x7c01 is the fallback.
 */
#define TFC_NETLINK_HANDLE	0x7c01
#define TFC_NETLINK_PRIO	1
#define TFC_NETLINK_PRIO_LEGACY 0x7c01

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

#endif /* TFC_HOOKS_H */
