// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fill_flow_map: write COUNT synthetic UDP/IPv4 flows into a pinned flow
 * map, so the IPFIX exporter can be measured on many flows without sending
 * traffic for each. Flow i goes from 198.18.0.0 + i / 64 port 1024 + i % 64
 * to 198.19.0.1 port 9, ingress on IFINDEX, with 1 + i % 7 packets of 100
 * bytes; its first packet AGE seconds ago, its last one now, so a running
 * exporter with --active-timeout below AGE exports it in its next cycle.
 * Prints "inserted N bytes B packets P".
 *
 *   fill_flow_map PIN COUNT IFINDEX AGE
 *
 * Raw bpf(2), not libbpf: the helpers are built without the libraries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#include "abi/traffic_counter_abi.h"
#include "raw_bpf.h"

#define MAX_COUNT (1UL << 22) /* 64 ports x 65536 sources in 198.18.0.0/15 */

static int update(int fd, const struct flow_key *key, const struct flow_value *val)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)fd;
	attr.key = (__u64)(unsigned long)key;
	attr.value = (__u64)(unsigned long)val;
	attr.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) ? -errno : 0;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void flow_of(unsigned long i, __u32 ifindex, struct flow_key *k)
{
	__u32 a = (198U << 24 | 18U << 16) + (__u32)(i / 64);

	memset(k, 0, sizeof(*k));
	k->ifindex = ifindex;
	k->family = 4;
	k->proto = IPPROTO_UDP;
	k->direction = TFC_DIR_INGRESS;
	k->src[0] = a >> 24;
	k->src[1] = (a >> 16) & 0xff;
	k->src[2] = (a >> 8) & 0xff;
	k->src[3] = a & 0xff;
	k->dst[0] = 198;
	k->dst[1] = 19;
	k->dst[3] = 1;
	k->sport = (__u16)(1024 + i % 64);
	k->dport = 9;
}

int main(int argc, char **argv)
{
	unsigned long count, ifindex, age, i;
	unsigned long long bytes = 0, packets = 0;
	__u64 now = mono_ns();
	int fd, err = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: fill_flow_map PIN COUNT IFINDEX AGE\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 10);
	ifindex = strtoul(argv[3], NULL, 10);
	age = strtoul(argv[4], NULL, 10);
	if (!count || count > MAX_COUNT || !ifindex || ifindex > 0xffffffffUL || age > 86400) {
		fprintf(stderr, "fill_flow_map: COUNT 1..%lu, IFINDEX > 0, AGE 0..86400\n",
			MAX_COUNT);
		return 2;
	}
	fd = map_open(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "fill_flow_map: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < count && !err; i++) {
		struct flow_key k;
		struct flow_value v = {.packets = 1 + i % 7, .last_seen_ns = now};

		flow_of(i, (__u32)ifindex, &k);
		v.bytes = 100 * v.packets;
		v.first_seen_ns = now - age * 1000000000ULL;
		err = update(fd, &k, &v);
		if (!err) {
			bytes += v.bytes;
			packets += v.packets;
		}
	}
	if (err)
		fprintf(stderr, "fill_flow_map: update: %s\n", strerror(-err));
	printf("inserted %lu bytes %llu packets %llu\n", err ? i - 1 : i, bytes, packets);
	close(fd);
	return err ? 1 : 0;
}
