// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* "HOST:PORT" and "[V6]:PORT", as --collector and IPFIX_COLLECTOR take them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostport.h"

static int port_parse(const char *s, __u16 *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v < 1 || v > 65535)
		return -EINVAL;
	*port = (__u16)v;
	return 0;
}

int tfc_hostport_split(const char *s, char *host, size_t hlen, __u16 *port, const char **why)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	*why = "is not HOST:PORT";
	if (!colon || colon == s)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		*why = "an IPv6 address goes in [ ]";
		if (n < 3 || s[n - 1] != ']')
			return -EINVAL;
		s++;
		n -= 2;
	} else if (memchr(s, ':', n)) {
		*why = "write an IPv6 address as [ADDR]:PORT";
		return -EINVAL;
	}
	*why = "is too long";
	if (n >= hlen)
		return -EINVAL;
	*why = "the port is not a number in 1..65535";
	if (port_parse(colon + 1, port))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	*why = NULL;
	return 0;
}
