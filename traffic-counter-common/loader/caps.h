/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Capability checks, so a missing privilege is named before anything fails. */
#ifndef TFC_CAPS_H
#define TFC_CAPS_H

/*
 * Loading and attaching needs CAP_BPF (or CAP_SYS_ADMIN), CAP_NET_ADMIN and,
 * for pointer-leaking program types on older kernels, CAP_PERFMON. Returns
 * 0, or -EPERM after logging which capability `what` lacks and what to do.
 */
int tfc_require_attach_caps(const char *what);

#endif /* TFC_CAPS_H */
