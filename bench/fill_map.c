// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fill_map: fill a pinned traffic-counter IP map with COUNT IPv4 entries
 * (10.0.0.0 + i, ingress on IFINDEX, every CPU holding some counts), for
 * timing readers on a map of a given size without sending traffic from a
 * million sources. Batch updates of 8192 entries.
 *
 *   fill_map PIN COUNT IFINDEX
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi/traffic_counter_abi.h"

#define CHUNK 8192u

static int fill(int fd, uint32_t count, uint32_t ifindex, int ncpu)
{
	struct ip_key *keys = calloc(CHUNK, sizeof(*keys));
	struct counters *vals = calloc((size_t)CHUNK * (size_t)ncpu, sizeof(*vals));
	int rc = 0;

	if (!keys || !vals) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t done = 0; done < count && !rc;) {
		uint32_t n = count - done < CHUNK ? count - done : CHUNK;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t a = 0x0a000000u + done + i;

			memset(&keys[i], 0, sizeof(keys[i]));
			keys[i].ifindex = ifindex;
			keys[i].family = 4;
			keys[i].addr[0] = (uint8_t)(a >> 24);
			keys[i].addr[1] = (uint8_t)(a >> 16);
			keys[i].addr[2] = (uint8_t)(a >> 8);
			keys[i].addr[3] = (uint8_t)a;
			for (int c = 0; c < ncpu; c++) {
				vals[(size_t)i * ncpu + c].bytes = 100 + done + i + (uint64_t)c;
				vals[(size_t)i * ncpu + c].packets = 1 + (uint64_t)c;
			}
		}
		if (bpf_map_update_batch(fd, keys, vals, &n, NULL))
			rc = -errno;
		done += n;
	}
out:
	free(keys);
	free(vals);
	return rc;
}

int main(int argc, char **argv)
{
	int fd, ncpu, rc;

	if (argc != 4) {
		fprintf(stderr, "usage: fill_map PIN COUNT IFINDEX\n");
		return 2;
	}
	fd = bpf_obj_get(argv[1]);
	ncpu = libbpf_num_possible_cpus();
	if (fd < 0 || ncpu <= 0) {
		fprintf(stderr, "fill_map: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	rc = fill(fd, (uint32_t)strtoul(argv[2], NULL, 10), (uint32_t)strtoul(argv[3], NULL, 10),
		  ncpu);
	close(fd);
	if (rc) {
		fprintf(stderr, "fill_map: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}
