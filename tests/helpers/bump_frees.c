// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bump_frees: add one to ip_map_frees in the pinned control map, as
 * userspace does after it deletes IP-map entries, so the programs' memo of
 * a full map is dropped. Through the map's mmap and an atomic add: a write
 * of the whole entry would race with the programs' adds to its counters.
 *
 *   bump_frees CONTROL_PIN
 *
 * Prints the new value. Raw bpf(2), not libbpf: the helpers are built
 * without the libraries.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#include "abi/traffic_counter_abi.h"

int main(int argc, char **argv)
{
	union bpf_attr attr;
	struct tfc_control *ctl;
	long page = sysconf(_SC_PAGESIZE);
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: bump_frees CONTROL_PIN\n");
		return 2;
	}
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (__u64)(unsigned long)argv[1];
	fd = (int)syscall(__NR_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
	if (fd < 0) {
		fprintf(stderr, "bump_frees: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ctl = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ctl == MAP_FAILED) {
		fprintf(stderr, "bump_frees: map %s: %s\n", argv[1], strerror(errno));
		close(fd);
		return 1;
	}
	printf("%u\n", __atomic_add_fetch(&ctl->ip_map_frees, 1, __ATOMIC_SEQ_CST));
	munmap(ctl, (size_t)page);
	close(fd);
	return 0;
}
