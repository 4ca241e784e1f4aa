// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flow_send: send COUNT frames of one TCP or UDP flow (IPv4 or IPv6) out of
 * IFNAME through an AF_PACKET socket, so the IPFIX tests know every packet
 * and byte of each flow: no handshake, no ACKs, no retransmissions. Frame
 * length: 14 + 20 (IPv4) or 40 (IPv6) + 20 (TCP) or 8 (UDP) + PAYLOAD.
 * Prints "sent COUNT FRAME_LEN".
 *
 *   flow_send IFNAME DST_MAC SRC DST tcp|udp SPORT DPORT COUNT PAYLOAD \
 *             [INTERVAL_US [TCP_FLAGS]]
 *
 * TCP_FLAGS is the flags byte of every segment (default 0x18, PSH|ACK).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bounds the run: the tests send tens of frames, never millions. */
#define MAX_COUNT	100000UL
#define MAX_PAYLOAD	1400UL
#define MAX_INTERVAL_US 10000000UL
#define FRAME_MAX	(14 + 40 + 20 + MAX_PAYLOAD)

struct flow {
	int family; /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	uint8_t proto;
	uint16_t sport, dport;
	size_t payload;
	uint8_t tcp_flags;
};

#include "frame.h"
#include "packet.h"

static void set16(struct frame *f, size_t off, uint16_t v)
{
	f->buf[off] = (uint8_t)(v >> 8);
	f->buf[off + 1] = (uint8_t)v;
}

static size_t l4_len(const struct flow *fl)
{
	return (fl->proto == IPPROTO_TCP ? 20 : 8) + fl->payload;
}

static void put_ip(struct frame *f, const struct flow *fl)
{
	size_t alen = fl->family == AF_INET ? 4 : 16, off = f->len;

	if (fl->family == AF_INET) {
		put8(f, 0x45);
		put8(f, 0);
		put16(f, (uint16_t)(20 + l4_len(fl)));
		put16(f, 0x1234); /* id */
		put16(f, 0x4000); /* DF */
		put8(f, 64);
		put8(f, fl->proto);
		put16(f, 0);
	} else {
		put8(f, 0x60);
		put8(f, 0);
		put16(f, 0);
		put16(f, (uint16_t)l4_len(fl));
		put8(f, fl->proto);
		put8(f, 64);
	}
	put_bytes(f, fl->src, alen);
	put_bytes(f, fl->dst, alen);
	if (fl->family == AF_INET)
		set16(f, off + 10, fold(sum16(f->buf + off, 20, 0)));
}

/* The L4 header and payload, checksummed so the receiver takes them as valid. */
static void put_l4(struct frame *f, const struct flow *fl)
{
	size_t alen = fl->family == AF_INET ? 4 : 16, off = f->len, len = l4_len(fl);
	uint32_t sum;

	put16(f, fl->sport);
	put16(f, fl->dport);
	if (fl->proto == IPPROTO_TCP) {
		put_bytes(f, "\0\0\0\1\0\0\0\0", 8); /* seq 1, ack 0 */
		put8(f, 5 << 4);		     /* data offset: 20 bytes */
		put8(f, fl->tcp_flags);
		put16(f, 0xffff); /* window */
		put16(f, 0);	  /* checksum */
		put16(f, 0);	  /* urgent */
	} else {
		put16(f, (uint16_t)len);
		put16(f, 0);
	}
	for (size_t i = 0; i < fl->payload; i++)
		put8(f, (uint8_t)i);
	sum = sum16(fl->src, alen, 0);
	sum = sum16(fl->dst, alen, sum);
	sum += fl->proto + (uint32_t)len;
	sum = sum16(f->buf + off, len, sum);
	set16(f, off + (fl->proto == IPPROTO_TCP ? 16 : 6), fold(sum) ?: 0xffff);
}

static int parse_flow(char **argv, int argc, struct flow *fl, unsigned long *count,
		      unsigned long *interval_us)
{
	unsigned long sport, dport, payload, flags = 0x18;

	memset(fl, 0, sizeof(*fl));
	if (inet_pton(AF_INET, argv[3], fl->src) == 1 && inet_pton(AF_INET, argv[4], fl->dst) == 1)
		fl->family = AF_INET;
	else if (inet_pton(AF_INET6, argv[3], fl->src) == 1 &&
		 inet_pton(AF_INET6, argv[4], fl->dst) == 1)
		fl->family = AF_INET6;
	else
		return -1;
	if (!strcmp(argv[5], "tcp"))
		fl->proto = IPPROTO_TCP;
	else if (!strcmp(argv[5], "udp"))
		fl->proto = IPPROTO_UDP;
	else
		return -1;
	*interval_us = 0;
	if (parse_ulong(argv[6], 65535, &sport) || parse_ulong(argv[7], 65535, &dport) ||
	    parse_ulong(argv[8], MAX_COUNT, count) || parse_ulong(argv[9], MAX_PAYLOAD, &payload) ||
	    (argc > 10 && parse_ulong(argv[10], MAX_INTERVAL_US, interval_us)) ||
	    (argc > 11 && parse_ulong(argv[11], 0xff, &flags)))
		return -1;
	fl->sport = (uint16_t)sport;
	fl->dport = (uint16_t)dport;
	fl->payload = payload;
	fl->tcp_flags = (uint8_t)flags;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long count, interval_us, sent = 0;
	struct sockaddr_ll sll;
	struct frame f = {.len = 0};
	uint8_t dmac[ETH_ALEN];
	struct flow fl;
	int fd;

	if (argc < 10 || argc > 12 || parse_mac(argv[2], dmac) ||
	    parse_flow(argv, argc, &fl, &count, &interval_us)) {
		fprintf(stderr, "usage: flow_send IFNAME DST_MAC SRC DST tcp|udp SPORT DPORT COUNT "
				"PAYLOAD [INTERVAL_US [TCP_FLAGS]]\n");
		return 2;
	}
	fd = packet_socket("flow_send", argv[1], dmac, &sll, &f);
	if (fd < 0)
		return 1;
	put16(&f, fl.family == AF_INET ? ETHERTYPE_IP : ETHERTYPE_IPV6);
	put_ip(&f, &fl);
	put_l4(&f, &fl);
	while (sent < count) {
		ssize_t n = sendto(fd, f.buf, f.len, 0, (struct sockaddr *)&sll, sizeof(sll));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (size_t)n != f.len) {
			fprintf(stderr, "flow_send: send after %lu frames: %s\n", sent,
				n < 0 ? strerror(errno) : "short write");
			close(fd);
			return 1;
		}
		sent++;
		if (interval_us && sent < count) {
			struct timespec ts = {.tv_sec = (time_t)(interval_us / 1000000),
					      .tv_nsec = (long)(interval_us % 1000000) * 1000};

			nanosleep(&ts, NULL);
		}
	}
	close(fd);
	printf("sent %lu %zu\n", sent, f.len);
	return 0;
}
