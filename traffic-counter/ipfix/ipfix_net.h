/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The exporter's socket to the IPFIX collector, UDP or TCP: non-blocking,
 * every wait bounded by a timeout without progress and cut short by a
 * pending SIGINT/SIGTERM (a signalfd, never read here: the signal stays
 * pending for the main loop). libfixbuf only encodes; see
 * openspec/specs/ipfix.md.
 */
#ifndef TFC_IPFIX_NET_H
#define TFC_IPFIX_NET_H

#include <stddef.h>

/*
 * A socket to host:port (numeric) of the transport, connected (TCP: within
 * `timeout_ms`). The fd, or -EINTR (signal), -ETIMEDOUT, or another
 * negative errno.
 */
int tfc_net_connect(const char *host, const char *port, int tcp, int sig_fd, int timeout_ms);

/*
 * All of `buf` written: 0, -EINTR when a signal is pending, -ETIMEDOUT when
 * nothing could be written for `stall_ms`, or another negative errno (the
 * connection failed). A TCP message may then be half-written.
 */
int tfc_net_send(int fd, const void *buf, size_t len, int sig_fd, int stall_ms);

/*
 * TCP: whether the collector closed or reset the connection since (it sends
 * nothing on its own): 0 when it still looks open, or a negative errno.
 */
int tfc_net_check(int fd);

#endif /* TFC_IPFIX_NET_H */
