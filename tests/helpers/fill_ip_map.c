// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fill_ip_map: write COUNT synthetic IPv4 entries into a pinned IP map, so
 * the exporter can be measured on a full map without sending traffic from
 * 64k sources. Entry i is 198.18.0.0 + i (198.18.0.0/15 holds 131072),
 * ingress on IFINDEX, with CPU 0 holding bytes 100 + i and packets 1 + i % 7.
 * Prints "inserted N bytes B packets P": the totals the map now holds in
 * these entries. Stops early, and says so, when the map is full.
 *
 *   fill_ip_map PIN COUNT IFINDEX
 *
 * Raw bpf(2), not libbpf: the helpers are built without the libraries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#include "abi/traffic_counter_abi.h"
#include "raw_bpf.h"

#define MAX_COUNT 131072UL /* 198.18.0.0/15 */

static int update(int fd, const struct ip_key *key, const struct counters *vals)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)fd;
	attr.key = (__u64)(unsigned long)key;
	attr.value = (__u64)(unsigned long)vals;
	attr.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) ? -errno : 0;
}

static int fill(int fd, int ncpu, unsigned long count, __u32 ifindex)
{
	struct counters *vals = calloc((size_t)ncpu, sizeof(*vals));
	unsigned long long bytes = 0, packets = 0;
	unsigned long i;
	int err = 0;

	if (!vals)
		return -ENOMEM;
	for (i = 0; i < count && !err; i++) {
		struct ip_key key = {.ifindex = ifindex, .family = 4, .direction = TFC_DIR_INGRESS};
		__u32 a = (198U << 24 | 18U << 16) + (__u32)i;

		key.addr[0] = a >> 24;
		key.addr[1] = (a >> 16) & 0xff;
		key.addr[2] = (a >> 8) & 0xff;
		key.addr[3] = a & 0xff;
		vals[0].bytes = 100 + i;
		vals[0].packets = 1 + i % 7;
		err = update(fd, &key, vals);
		if (!err) {
			bytes += vals[0].bytes;
			packets += vals[0].packets;
		}
	}
	if (err == -E2BIG || err == -ENOSPC)
		fprintf(stderr, "fill_ip_map: map full after %lu entries\n", i - 1);
	else if (err)
		fprintf(stderr, "fill_ip_map: update: %s\n", strerror(-err));
	printf("inserted %lu bytes %llu packets %llu\n", err ? i - 1 : i, bytes, packets);
	free(vals);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long count, ifindex;
	int fd, ncpu, err;

	if (argc != 4) {
		fprintf(stderr, "usage: fill_ip_map PIN COUNT IFINDEX\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 10);
	ifindex = strtoul(argv[3], NULL, 10);
	if (!count || count > MAX_COUNT || !ifindex || ifindex > 0xffffffffUL) {
		fprintf(stderr, "fill_ip_map: COUNT 1..%lu, IFINDEX > 0\n", MAX_COUNT);
		return 2;
	}
	ncpu = possible_cpus();
	fd = map_open(argv[1]);
	if (ncpu <= 0 || fd < 0) {
		fprintf(stderr, "fill_ip_map: cannot open %s: %s\n", argv[1],
			fd < 0 ? strerror(errno) : "no CPU count");
		return 1;
	}
	err = fill(fd, ncpu, count, (__u32)ifindex);
	close(fd);
	return err ? 1 : 0;
}
