// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * udp_send: send exactly COUNT UDP datagrams of PAYLOAD bytes to DST:DPORT
 * from source port SPORT, so end-to-end tests know every frame they caused:
 * UDP/IPv4 frame = 14 + 20 + 8 + PAYLOAD bytes, UDP/IPv6 = 14 + 40 + 8 + PAYLOAD.
 *
 *   udp_send DST_ADDR DST_PORT SRC_PORT COUNT PAYLOAD_SIZE [INTERVAL_US]
 *
 * The socket stays unconnected on purpose: a connected UDP socket turns the
 * receiver's ICMP port-unreachable into ECONNREFUSED on a later send, and
 * that send would then carry no datagram.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Payloads above one IPv4 datagram cannot be sent as one datagram anyway. */
#define MAX_PAYLOAD 65507UL
/* Bounds the run: a test asks for tens or hundreds, never millions. */
#define MAX_COUNT	1000000UL
#define MAX_INTERVAL_US 10000000UL

static void usage(void)
{
	fprintf(stderr, "usage: udp_send DST_ADDR DST_PORT SRC_PORT COUNT PAYLOAD_SIZE "
			"[INTERVAL_US]\n");
}

static int parse_ulong(const char *what, const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "udp_send: %s must be a number from %lu to %lu, got '%s'\n", what,
			min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static void sleep_us(unsigned long us)
{
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000UL),
			      .tv_nsec = (long)(us % 1000000UL) * 1000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	unsigned long dport, sport, count, size, interval = 0, sent = 0;
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage src;
	char *payload;
	int fd, err, ret = 1;

	if (argc != 6 && argc != 7) {
		usage();
		return 2;
	}
	if (parse_ulong("DST_PORT", argv[2], 1, 65535, &dport) ||
	    parse_ulong("SRC_PORT", argv[3], 1, 65535, &sport) ||
	    parse_ulong("COUNT", argv[4], 0, MAX_COUNT, &count) ||
	    parse_ulong("PAYLOAD_SIZE", argv[5], 0, MAX_PAYLOAD, &size) ||
	    (argc == 7 && parse_ulong("INTERVAL_US", argv[6], 0, MAX_INTERVAL_US, &interval))) {
		usage();
		return 2;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	err = getaddrinfo(argv[1], argv[2], &hints, &ai);
	if (err) {
		fprintf(stderr, "udp_send: '%s' is not a numeric IPv4/IPv6 address: %s\n", argv[1],
			gai_strerror(err));
		return 2;
	}

	payload = calloc(1, size ? size : 1);
	if (!payload) {
		perror("udp_send: calloc");
		goto out_ai;
	}
	for (unsigned long i = 0; i < size; i++)
		payload[i] = (char)('a' + i % 26);

	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udp_send: socket");
		goto out_payload;
	}

	memset(&src, 0, sizeof(src));
	if (ai->ai_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons((unsigned short)sport);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&src;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		s4->sin_port = htons((unsigned short)sport);
	}
	if (bind(fd, (struct sockaddr *)&src,
		 ai->ai_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					   : sizeof(struct sockaddr_in))) {
		fprintf(stderr, "udp_send: bind to source port %lu: %s\n", sport, strerror(errno));
		goto out_fd;
	}

	while (sent < count) {
		ssize_t n = sendto(fd, payload, size, 0, ai->ai_addr, ai->ai_addrlen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "udp_send: sendto %s port %lu after %lu datagrams: %s\n",
				argv[1], dport, sent, strerror(errno));
			goto out_fd;
		}
		if ((size_t)n != size) {
			fprintf(stderr, "udp_send: short send: %zd of %lu bytes\n", n, size);
			goto out_fd;
		}
		sent++;
		if (interval && sent < count)
			sleep_us(interval);
	}
	printf("sent %lu UDP datagrams of %lu payload bytes to %s port %lu from port %lu\n", sent,
	       size, argv[1], dport, sport);
	ret = 0;
out_fd:
	close(fd);
out_payload:
	free(payload);
out_ai:
	freeaddrinfo(ai);
	return ret;
}
