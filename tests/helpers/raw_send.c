// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * raw_send: send COUNT hand-made Ethernet frames of one KIND out of IFNAME
 * through an AF_PACKET socket, so end-to-end tests can drive every
 * per-reason statistic (and the remarks on counted frames) with exact
 * numbers. Prints "KIND COUNT FRAME_LEN" on success.
 *
 *   raw_send IFNAME DST_MAC KIND COUNT [SRC_ADDR DST_ADDR]
 *   raw_send IFNAME DST_MAC hex COUNT HEX
 *
 * Frame lengths are fixed per kind (no padding: veth carries short frames
 * as they are). SRC/DST addresses go into the IP header of the IPv4 kinds
 * (IPv4 addresses) or the IPv6 kinds (IPv6 addresses); unset they are zero.
 * The kind hex sends the frame HEX byte for byte, Ethernet header included
 * (DST_MAC only addresses the socket): a frame of the BPF tests' case table
 * (tests/helpers/tc_refused) goes out exactly as the table builds it.
 */
#include <arpa/inet.h>
#include <ctype.h>
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
#include <unistd.h>

#define MAX_COUNT	    100000UL
#define FRAME_MAX	    256
#define ETHERTYPE_LOCAL_EXP 0x88b5 /* IEEE local experimental: never IP */
#define UDP_SPORT	    4000
#define UDP_DPORT	    4001

#include "frame.h"
#include "packet.h"

struct addrs {
	int family; /* 0 (none given), AF_INET or AF_INET6 */
	uint8_t src[16];
	uint8_t dst[16];
};

enum l3 { L3_NONE, L3_V4, L3_V6 };

struct kind {
	const char *name;
	enum l3 l3;
	void (*build)(struct frame *f, const struct addrs *a);
	const char *what;
};

static void put_zero(struct frame *f, size_t n)
{
	memset(f->buf + f->len, 0, n);
	f->len += n;
}

/* An IPv4 header of 20 bytes; the caller may spoil one field afterwards. */
static size_t put_ipv4(struct frame *f, const struct addrs *a, uint8_t proto, uint16_t tot_len)
{
	size_t off = f->len;

	put8(f, 0x45);
	put8(f, 0);
	put16(f, tot_len);
	put16(f, 0x1234); /* id */
	put16(f, 0x4000); /* DF, offset 0 */
	put8(f, 64);
	put8(f, proto);
	put16(f, 0); /* checksum, below */
	put_bytes(f, a->src, 4);
	put_bytes(f, a->dst, 4);
	return off;
}

static void fix_ipv4_checksum(struct frame *f, size_t off)
{
	uint16_t c;

	f->buf[off + 10] = 0;
	f->buf[off + 11] = 0;
	c = fold(sum16(f->buf + off, (size_t)(f->buf[off] & 0x0f) * 4, 0));
	f->buf[off + 10] = (uint8_t)(c >> 8);
	f->buf[off + 11] = (uint8_t)c;
}

static size_t put_ipv6(struct frame *f, const struct addrs *a, uint8_t nexthdr, uint16_t plen)
{
	size_t off = f->len;

	put8(f, 0x60);
	put8(f, 0);
	put16(f, 0);
	put16(f, plen);
	put8(f, nexthdr);
	put8(f, 64);
	put_bytes(f, a->src, 16);
	put_bytes(f, a->dst, 16);
	return off;
}

static void put_udp(struct frame *f, uint16_t payload)
{
	put16(f, UDP_SPORT);
	put16(f, UDP_DPORT);
	put16(f, (uint16_t)(8 + payload));
	put16(f, 0); /* no checksum: these frames are counted, not delivered */
	for (uint16_t i = 0; i < payload; i++)
		put8(f, (uint8_t)('a' + i % 26));
}

static void build_nonip(struct frame *f, const struct addrs *a)
{
	(void)a;
	put16(f, ETHERTYPE_LOCAL_EXP);
	put_zero(f, 46); /* a 60-byte frame */
}

static void build_ipv4_trunc(struct frame *f, const struct addrs *a)
{
	put16(f, ETHERTYPE_IP);
	put_ipv4(f, a, IPPROTO_UDP, 20);
	f->len -= 10; /* only 10 of the 20 header bytes */
}

static void build_ipv4_badver(struct frame *f, const struct addrs *a)
{
	size_t off;

	put16(f, ETHERTYPE_IP);
	off = put_ipv4(f, a, IPPROTO_UDP, 20);
	f->buf[off] = 0x55;
	fix_ipv4_checksum(f, off);
}

static void build_ipv4_badihl(struct frame *f, const struct addrs *a)
{
	size_t off;

	put16(f, ETHERTYPE_IP);
	off = put_ipv4(f, a, IPPROTO_UDP, 20);
	f->buf[off] = 0x44;
}

static void build_ipv4_badlen(struct frame *f, const struct addrs *a)
{
	size_t off;

	put16(f, ETHERTYPE_IP);
	off = put_ipv4(f, a, IPPROTO_UDP, 10); /* total length < header length */
	fix_ipv4_checksum(f, off);
}

static void build_ipv6_trunc(struct frame *f, const struct addrs *a)
{
	put16(f, ETHERTYPE_IPV6);
	put_ipv6(f, a, IPPROTO_UDP, 0);
	f->len -= 10; /* 30 of the 40 header bytes */
}

static void build_ipv6_badver(struct frame *f, const struct addrs *a)
{
	size_t off;

	put16(f, ETHERTYPE_IPV6);
	off = put_ipv6(f, a, IPPROTO_UDP, 0);
	f->buf[off] = 0x40;
}

static void build_vlan_deep(struct frame *f, const struct addrs *a)
{
	size_t off;

	/* Five 802.1Q tags: one more than the parser's limit of four. */
	put16(f, ETHERTYPE_VLAN);
	for (int i = 0; i < 5; i++) {
		put16(f, (uint16_t)(100 + i));
		put16(f, i < 4 ? ETHERTYPE_VLAN : ETHERTYPE_IP);
	}
	off = put_ipv4(f, a, IPPROTO_UDP, 28);
	put_udp(f, 0);
	fix_ipv4_checksum(f, off);
}

static void build_vlan_ipv4(struct frame *f, const struct addrs *a)
{
	size_t off;

	put16(f, ETHERTYPE_VLAN);
	put16(f, 100);
	put16(f, ETHERTYPE_IP);
	off = put_ipv4(f, a, IPPROTO_UDP, 20 + 8 + 10);
	put_udp(f, 10);
	fix_ipv4_checksum(f, off);
}

static void build_l4_trunc(struct frame *f, const struct addrs *a)
{
	size_t off;

	put16(f, ETHERTYPE_IP);
	off = put_ipv4(f, a, IPPROTO_UDP, 24);
	fix_ipv4_checksum(f, off);
	put16(f, UDP_SPORT); /* 4 of the 8 UDP header bytes */
	put16(f, UDP_DPORT);
}

static void build_ipv6_ext(struct frame *f, const struct addrs *a)
{
	/* Nine destination-options headers: one more than the walk's eight. */
	put16(f, ETHERTYPE_IPV6);
	put_ipv6(f, a, IPPROTO_DSTOPTS, 9 * 8 + 8);
	for (int i = 0; i < 9; i++) {
		put8(f, i < 8 ? IPPROTO_DSTOPTS : IPPROTO_UDP);
		put8(f, 0); /* 8 bytes */
		put8(f, 1); /* PadN, 4 bytes of padding */
		put8(f, 4);
		put_zero(f, 4);
	}
	put_udp(f, 0);
}

/* The frame of the hex kind, filled in from the command line (parse_hex). */
static struct frame hex_frame;

static void build_hex(struct frame *f, const struct addrs *a)
{
	(void)a;
	*f = hex_frame;
}

/* HEX into hex_frame: ETH_HLEN to FRAME_MAX bytes, two hex digits each. */
static int parse_hex(const char *hex)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 < ETH_HLEN || n / 2 > FRAME_MAX)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;

		if (!isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]) || sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		hex_frame.buf[i] = (uint8_t)b;
	}
	hex_frame.len = n / 2;
	return 0;
}

static const struct kind kinds[] = {
	{"nonip", L3_NONE, build_nonip, "EtherType 0x88b5, 60 bytes: non_ip"},
	{"ipv4-trunc", L3_V4, build_ipv4_trunc, "10 IPv4 header bytes: ipv4_truncated"},
	{"ipv4-badver", L3_V4, build_ipv4_badver, "IPv4 version 5: ipv4_bad_version"},
	{"ipv4-badihl", L3_V4, build_ipv4_badihl, "IPv4 IHL 4: ipv4_bad_ihl"},
	{"ipv4-badlen", L3_V4, build_ipv4_badlen, "IPv4 total length 10: ipv4_bad_length"},
	{"ipv6-trunc", L3_V6, build_ipv6_trunc, "30 IPv6 header bytes: ipv6_truncated"},
	{"ipv6-badver", L3_V6, build_ipv6_badver, "IPv6 version 4: ipv6_bad_version"},
	{"vlan-deep", L3_V4, build_vlan_deep, "five VLAN tags: vlan_too_deep"},
	{"vlan-ipv4", L3_V4, build_vlan_ipv4, "one VLAN tag, UDP/IPv4: counted by address"},
	{"l4-trunc", L3_V4, build_l4_trunc,
	 "UDP/IPv4 cut after 4 L4 bytes: counted + l4_truncated"},
	{"ipv6-ext", L3_V6, build_ipv6_ext, "nine IPv6 ext headers: counted + ipv6_ext_limit"},
	{"hex", L3_NONE, build_hex, "HEX: 14 to 256 bytes as given, Ethernet header included"},
};

static void usage(void)
{
	fprintf(stderr, "usage: raw_send IFNAME DST_MAC KIND COUNT [SRC_ADDR DST_ADDR]\n"
			"       raw_send IFNAME DST_MAC hex COUNT HEX\nkinds:\n");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		fprintf(stderr, "  %-12s %s\n", kinds[i].name, kinds[i].what);
}

static int parse_addrs(const char *src, const char *dst, struct addrs *a)
{
	memset(a, 0, sizeof(*a));
	if (!src)
		return 0;
	if (inet_pton(AF_INET, src, a->src) == 1 && inet_pton(AF_INET, dst, a->dst) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, src, a->src) == 1 && inet_pton(AF_INET6, dst, a->dst) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct kind *k = NULL;
	struct sockaddr_ll sll;
	struct addrs a;
	struct frame f;
	unsigned long count, sent = 0;
	uint8_t dmac[ETH_ALEN];
	char *end;
	int fd, ret = 1;

	if (argc != 5 && argc != 6 && argc != 7) {
		usage();
		return 2;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(argv[3], kinds[i].name))
			k = &kinds[i];
	/* hex takes its frame in place of the addresses, and nothing else does. */
	if (k && (k->build == build_hex) != (argc == 6)) {
		usage();
		return 2;
	}
	if (argc == 6 && parse_hex(argv[5])) {
		fprintf(stderr, "raw_send: HEX must be %d to %d bytes as pairs of hex digits\n",
			ETH_HLEN, FRAME_MAX);
		return 2;
	}
	errno = 0;
	count = strtoul(argv[4], &end, 10);
	if (!k || parse_mac(argv[2], dmac) || errno || end == argv[4] || *end ||
	    argv[4][0] == '-' || count > MAX_COUNT ||
	    parse_addrs(argc == 7 ? argv[5] : NULL, argc == 7 ? argv[6] : NULL, &a)) {
		fprintf(stderr, "raw_send: bad KIND, DST_MAC, COUNT (0..%lu) or addresses\n",
			MAX_COUNT);
		usage();
		return 2;
	}
	if (a.family &&
	    ((k->l3 == L3_V4 && a.family != AF_INET) || (k->l3 == L3_V6 && a.family != AF_INET6))) {
		fprintf(stderr, "raw_send: kind %s needs %s addresses\n", k->name,
			k->l3 == L3_V4 ? "IPv4" : "IPv6");
		return 2;
	}

	memset(&f, 0, sizeof(f));
	fd = packet_socket("raw_send", argv[1], dmac, &sll, &f);
	if (fd < 0)
		return 1;
	k->build(&f, &a);

	while (sent < count) {
		ssize_t n = sendto(fd, f.buf, f.len, 0, (struct sockaddr *)&sll, sizeof(sll));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (size_t)n != f.len) {
			fprintf(stderr, "raw_send: send on %s after %lu frames: %s\n", argv[1],
				sent, n < 0 ? strerror(errno) : "short write");
			goto out;
		}
		sent++;
	}
	printf("%s %lu %zu\n", k->name, sent, f.len);
	ret = 0;
out:
	close(fd);
	return ret;
}
