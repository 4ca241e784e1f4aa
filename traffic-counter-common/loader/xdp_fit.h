/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Whether every frame an interface receives fits one XDP buffer, so that
 * the single-buffer program (data_end - data, no bpf_xdp_get_buff_len)
 * counts it at full length. Used to choose the XDP program at attach.
 */
#ifndef TFC_XDP_FIT_H
#define TFC_XDP_FIT_H

/*
 * The largest MTU whose frames fit one page-sized XDP buffer on this
 * kernel, or a negative errno when it cannot be told (no vmlinux BTF).
 */
int tfc_xdp_single_buffer_mtu(void);

/* 1 when ifname's MTU is at most that, 0 when larger, negative errno. */
int tfc_xdp_fits_one_buffer(const char *ifname);

#endif /* TFC_XDP_FIT_H */
