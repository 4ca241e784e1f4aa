// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flood_send: send COUNT identical Ethernet + IPv4/IPv6 + UDP frames out of
 * IFNAME through an AF_PACKET socket, as fast as the kernel takes them, so
 * that end-to-end tests can check exact counts under load from several
 * CPUs at once (pin it with taskset; on veth the receiving side runs on the
 * sending CPU). A send the kernel refuses for lack of room (ENOBUFS,
 * EAGAIN) is retried, so exactly COUNT frames go out or it fails.
 *
 *   flood_send IFNAME DST_MAC SRC_ADDR DST_ADDR SPORT DPORT PAYLOAD COUNT [SOURCES]
 *
 * With SOURCES (1..16777216), frame i comes from SRC_ADDR + i % SOURCES (the
 * address read as a number, its last 32 bits carried into): SOURCES distinct
 * senders, COUNT / SOURCES frames each (the first COUNT % SOURCES one more),
 * for the tests of a full IP map.
 *
 * Prints "SENT FRAME_LEN START_NS END_NS RETRIES CPU_START CPU_END" on
 * success: START/END_NS on CLOCK_MONOTONIC (the same clock for every
 * process, so a test can check that two senders overlapped), the CPUs it
 * ran on at the first and the last frame.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT   100000000UL
#define MAX_SOURCES 16777216UL
#define MAX_PAYLOAD 1400UL
#define MAX_RETRIES 10000000UL
#define FRAME_MAX   (14 + 40 + 8 + MAX_PAYLOAD)

#include "frame.h"
#include "packet.h"

/* Ethernet header done; adds IP, UDP and a zero payload with checksums. */
static void build(struct frame *f, int family, const uint8_t *src, const uint8_t *dst,
		  uint16_t sport, uint16_t dport, size_t payload)
{
	size_t alen = family == AF_INET ? 4 : 16;
	size_t ip = f->len, udp, udp_len = 8 + payload;
	uint32_t pseudo;
	uint16_t c;

	if (family == AF_INET) {
		put16(f, 0x0800);
		ip = f->len;
		put8(f, 0x45);
		put8(f, 0);
		put16(f, (uint16_t)(20 + udp_len));
		put16(f, 0x1234); /* id */
		put16(f, 0x4000); /* DF */
		put8(f, 64);
		put8(f, IPPROTO_UDP);
		put16(f, 0);
		put_bytes(f, src, 4);
		put_bytes(f, dst, 4);
		c = fold(sum16(f->buf + ip, 20, 0));
		f->buf[ip + 10] = (uint8_t)(c >> 8);
		f->buf[ip + 11] = (uint8_t)c;
	} else {
		put16(f, 0x86dd);
		put8(f, 0x60);
		put8(f, 0);
		put16(f, 0);
		put16(f, (uint16_t)udp_len);
		put8(f, IPPROTO_UDP);
		put8(f, 64);
		put_bytes(f, src, 16);
		put_bytes(f, dst, 16);
	}
	udp = f->len;
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)udp_len);
	put16(f, 0);
	memset(f->buf + f->len, 0, payload);
	f->len += payload;

	pseudo = sum16(src, alen, 0);
	pseudo = sum16(dst, alen, pseudo);
	pseudo += IPPROTO_UDP + (uint32_t)udp_len;
	c = fold(sum16(f->buf + udp, udp_len, pseudo));
	if (!c)
		c = 0xffff;
	f->buf[udp + 6] = (uint8_t)(c >> 8);
	f->buf[udp + 7] = (uint8_t)c;
}

/* base + i in the address's last 32 bits (big-endian). */
static void nth_source(const uint8_t *base, size_t alen, unsigned long i, uint8_t *out)
{
	uint32_t low = (uint32_t)base[alen - 4] << 24 | (uint32_t)base[alen - 3] << 16 |
		       (uint32_t)base[alen - 2] << 8 | base[alen - 1];

	memcpy(out, base, alen);
	low += (uint32_t)i;
	out[alen - 4] = (uint8_t)(low >> 24);
	out[alen - 3] = (uint8_t)(low >> 16);
	out[alen - 2] = (uint8_t)(low >> 8);
	out[alen - 1] = (uint8_t)low;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: flood_send IFNAME DST_MAC SRC_ADDR DST_ADDR SPORT DPORT PAYLOAD "
		"COUNT [SOURCES]\n  PAYLOAD 0..%lu UDP bytes, COUNT 0..%lu frames, SOURCES "
		"1..%lu\n",
		MAX_PAYLOAD, MAX_COUNT, MAX_SOURCES);
}

int main(int argc, char **argv)
{
	unsigned long sport, dport, payload, count, sent = 0, retries = 0, sources = 1;
	uint8_t dmac[ETH_ALEN], src[16], dst[16], from[16];
	size_t eth_len;
	int family, fd, ret = 1, cpu_start = -1;
	struct sockaddr_ll sll;
	struct frame f;
	uint64_t t0, t1;

	if (argc != 9 && argc != 10) {
		usage();
		return 2;
	}
	if (inet_pton(AF_INET, argv[3], src) == 1 && inet_pton(AF_INET, argv[4], dst) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, argv[3], src) == 1 && inet_pton(AF_INET6, argv[4], dst) == 1)
		family = AF_INET6;
	else
		family = 0;
	if (!family || parse_mac(argv[2], dmac) || parse_ulong(argv[5], 65535, &sport) ||
	    parse_ulong(argv[6], 65535, &dport) || parse_ulong(argv[7], MAX_PAYLOAD, &payload) ||
	    parse_ulong(argv[8], MAX_COUNT, &count) ||
	    (argc == 10 && (parse_ulong(argv[9], MAX_SOURCES, &sources) || !sources))) {
		fprintf(stderr, "flood_send: bad DST_MAC, addresses (both IPv4 or both IPv6), "
				"ports, PAYLOAD, COUNT or SOURCES\n");
		usage();
		return 2;
	}

	memset(&f, 0, sizeof(f));
	fd = packet_socket("flood_send", argv[1], dmac, &sll, &f);
	if (fd < 0)
		return 1;
	eth_len = f.len;
	build(&f, family, src, dst, (uint16_t)sport, (uint16_t)dport, payload);

	t0 = now_ns();
	cpu_start = sched_getcpu();
	while (sent < count) {
		ssize_t n;

		/* Every source's frame is built anew: the checksums change. */
		if (sources > 1) {
			nth_source(src, family == AF_INET ? 4 : 16, sent % sources, from);
			f.len = eth_len;
			build(&f, family, from, dst, (uint16_t)sport, (uint16_t)dport, payload);
		}
		n = sendto(fd, f.buf, f.len, 0, (struct sockaddr *)&sll, sizeof(sll));

		if (n < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) &&
		    retries < MAX_RETRIES) {
			if (errno != EINTR) {
				retries++;
				sched_yield();
			}
			continue;
		}
		if (n < 0 || (size_t)n != f.len) {
			fprintf(stderr,
				"flood_send: send on %s after %lu frames (%lu retries): %s\n",
				argv[1], sent, retries, n < 0 ? strerror(errno) : "short write");
			goto out;
		}
		sent++;
	}
	t1 = now_ns();
	printf("%lu %zu %llu %llu %lu %d %d\n", sent, f.len, (unsigned long long)t0,
	       (unsigned long long)t1, retries, cpu_start, sched_getcpu());
	ret = 0;
out:
	close(fd);
	return ret;
}
