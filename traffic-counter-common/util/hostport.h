/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef TFC_HOSTPORT_H
#define TFC_HOSTPORT_H

#include <stddef.h>
#include <linux/types.h>

/*
 * "HOST:PORT" or "[V6]:PORT", port 1..65535: 0, or -EINVAL with *why saying
 * what is wrong (to follow the value in a message). Used by the config
 * reader and export-ipfix alike, so it sits below both.
 */
int tfc_hostport_split(const char *s, char *host, size_t hlen, __u16 *port, const char **why);

#endif /* TFC_HOSTPORT_H */
