/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the AF_PACKET test senders share: their arguments and the socket
 * that puts hand-made frames on an interface. Include after frame.h.
 */
#ifndef TFC_TEST_PACKET_H
#define TFC_TEST_PACKET_H

#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned int b[ETH_ALEN];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) !=
	    ETH_ALEN)
		return -1;
	for (int i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

/* A whole number up to max: decimal, or hexadecimal with 0x. */
static inline int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return errno || end == s || *end || s[0] == '-' || *out > max ? -1 : 0;
}

/*
 * A send-only AF_PACKET socket on ifname, *sll addressed to dmac, and the
 * frame's Ethernet addresses written to f. -1 after saying why, as prog.
 */
static inline int packet_socket(const char *prog, const char *ifname, const uint8_t *dmac,
				struct sockaddr_ll *sll, struct frame *f)
{
	struct ifreq ifr;
	int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */

	if (fd < 0 || strlen(ifname) >= sizeof(ifr.ifr_name)) {
		fprintf(stderr, "%s: socket on %s: %s\n", prog, ifname,
			fd < 0 ? strerror(errno) : "interface name too long");
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr)) {
		fprintf(stderr, "%s: no interface %s: %s\n", prog, ifname, strerror(errno));
		goto fail;
	}
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_ifindex = ifr.ifr_ifindex;
	sll->sll_halen = ETH_ALEN;
	memcpy(sll->sll_addr, dmac, ETH_ALEN);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "%s: MAC of %s: %s\n", prog, ifname, strerror(errno));
		goto fail;
	}
	put_bytes(f, dmac, ETH_ALEN);
	put_bytes(f, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

#endif /* TFC_TEST_PACKET_H */
