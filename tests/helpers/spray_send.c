// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * spray_send: send COUNT Ethernet + IP + UDP frames out of IFNAME through an
 * AF_PACKET socket, each from a pseudo-random source (xorshift from SEED:
 * reproducible), all of one length, as fast as the kernel takes them: the
 * random-source flood of the prefix tests. IPv4: the low BITS bits of
 * SRC_NET are random. IPv6: the low BITS bits of its first 64 (the /64),
 * the interface identifier zero. A send refused for lack of room (ENOBUFS,
 * EAGAIN) is retried, so exactly COUNT frames go out or it fails.
 *
 *   spray_send IFNAME DST_MAC SRC_NET BITS DST_ADDR COUNT SEED
 *
 * Prints "SENT FRAME_LEN CPU_START CPU_END" on success: the CPUs it ran on
 * at the first and the last frame.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COUNT   100000000UL
#define MAX_RETRIES 10000000UL
#define PAYLOAD	    18
#define FRAME_MAX   (14 + 40 + 8 + PAYLOAD)

#include "frame.h"
#include "packet.h"

struct spray {
	struct frame f;
	int family;
	size_t ip, udp, alen; /* offsets of the IP and UDP headers, address length */
	uint8_t src[16];
};

/* Ethernet header done: IP (source set per frame), UDP, a zero payload. */
static void build(struct spray *s, const uint8_t *dst)
{
	struct frame *f = &s->f;

	s->ip = f->len + 2;
	if (s->family == AF_INET) {
		put16(f, 0x0800);
		put8(f, 0x45);
		put8(f, 0);
		put16(f, 20 + 8 + PAYLOAD);
		put16(f, 0x1234); /* id */
		put16(f, 0x4000); /* DF */
		put8(f, 64);
		put8(f, IPPROTO_UDP);
		put16(f, 0);
		put_bytes(f, s->src, 4);
		put_bytes(f, dst, 4);
	} else {
		put16(f, 0x86dd);
		put8(f, 0x60);
		put8(f, 0);
		put16(f, 0);
		put16(f, 8 + PAYLOAD);
		put8(f, IPPROTO_UDP);
		put8(f, 64);
		put_bytes(f, s->src, 16);
		put_bytes(f, dst, 16);
	}
	s->udp = f->len;
	put16(f, 5000);
	put16(f, 6000);
	put16(f, 8 + PAYLOAD);
	put16(f, 0); /* IPv4: no checksum; IPv6: set per frame */
	memset(f->buf + f->len, 0, PAYLOAD);
	f->len += PAYLOAD;
}

static void put_sum(uint8_t *at, uint16_t c)
{
	at[0] = (uint8_t)(c >> 8);
	at[1] = (uint8_t)c;
}

/* The source's random bits, then the checksums that cover it. */
static void set_source(struct spray *s, uint64_t r, unsigned long bits)
{
	uint8_t *buf = s->f.buf, *src = buf + s->ip + (s->family == AF_INET ? 12 : 8);
	uint64_t mask = bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
	size_t top = s->family == AF_INET ? 4 : 8; /* bytes the random bits go in */
	uint64_t v = 0;
	uint32_t pseudo;
	uint16_t c;

	for (size_t i = 0; i < top; i++)
		v = v << 8 | s->src[i];
	v = (v & ~mask) | (r & mask);
	for (size_t i = top; i-- > 0; v >>= 8)
		src[i] = (uint8_t)v;
	if (s->family == AF_INET) {
		put_sum(buf + s->ip + 10, 0);
		put_sum(buf + s->ip + 10, fold(sum16(buf + s->ip, 20, 0)));
		return;
	}
	pseudo = sum16(src, 32, 0) + IPPROTO_UDP + 8 + PAYLOAD;
	put_sum(buf + s->udp + 6, 0);
	c = fold(sum16(buf + s->udp, 8 + PAYLOAD, pseudo));
	put_sum(buf + s->udp + 6, c ? c : 0xffff);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: spray_send IFNAME DST_MAC SRC_NET BITS DST_ADDR COUNT SEED\n"
		"  SRC_NET and DST_ADDR both IPv4 (BITS 1..32) or both IPv6 (BITS 1..64),\n"
		"  COUNT 0..%lu, SEED > 0\n",
		MAX_COUNT);
}

static int parse_addrs(struct spray *s, const char *net, const char *dst, uint8_t *out)
{
	if (inet_pton(AF_INET, net, s->src) == 1 && inet_pton(AF_INET, dst, out) == 1)
		s->family = AF_INET;
	else if (inet_pton(AF_INET6, net, s->src) == 1 && inet_pton(AF_INET6, dst, out) == 1)
		s->family = AF_INET6;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long bits, count, seed, sent = 0, retries = 0;
	uint8_t dmac[ETH_ALEN], dst[16];
	int fd, ret = 1, cpu_start;
	struct sockaddr_ll sll;
	struct spray s;
	uint64_t state;

	memset(&s, 0, sizeof(s));
	if (argc != 8) {
		usage();
		return 2;
	}
	if (parse_mac(argv[2], dmac) || parse_addrs(&s, argv[3], argv[5], dst) ||
	    parse_ulong(argv[4], s.family == AF_INET ? 32 : 64, &bits) || !bits ||
	    parse_ulong(argv[6], MAX_COUNT, &count) || parse_ulong(argv[7], ~0UL, &seed) || !seed) {
		fprintf(stderr,
			"spray_send: bad DST_MAC, SRC_NET, BITS, DST_ADDR, COUNT or SEED\n");
		usage();
		return 2;
	}
	state = seed;
	fd = packet_socket("spray_send", argv[1], dmac, &sll, &s.f);
	if (fd < 0)
		return 1;
	build(&s, dst);
	cpu_start = sched_getcpu();
	while (sent < count) {
		ssize_t n;

		set_source(&s, xorshift(&state), bits);
		do {
			n = sendto(fd, s.f.buf, s.f.len, 0, (struct sockaddr *)&sll, sizeof(sll));
		} while (n < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) &&
			 ++retries < MAX_RETRIES && (errno == EINTR || !sched_yield()));
		if (n < 0 || (size_t)n != s.f.len) {
			fprintf(stderr,
				"spray_send: send on %s after %lu frames (%lu retries): %s\n",
				argv[1], sent, retries, n < 0 ? strerror(errno) : "short write");
			goto out;
		}
		sent++;
	}
	printf("%lu %zu %d %d\n", sent, s.f.len, cpu_start, sched_getcpu());
	ret = 0;
out:
	close(fd);
	return ret;
}
