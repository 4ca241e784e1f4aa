/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The raw bpf(2) calls the map-writing test helpers share. They do not use
 * libbpf or the project's maps layer on purpose: a helper that writes what a
 * test then reads back must not share the code under test.
 */
#ifndef TFC_TEST_RAW_BPF_H
#define TFC_TEST_RAW_BPF_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

static inline int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Highest id in /sys/devices/system/cpu/possible ("0-3", "0,2-5") + 1. */
static inline int possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	char buf[256], *p;
	long max = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (p = buf; *p;) {
		long v = strtol(p, &p, 10);

		max = v > max ? v : max;
		if (*p == '-' || *p == ',')
			p++;
		else
			break;
	}
	return (int)max + 1;
}

static inline int map_open(const char *pin)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (__u64)(unsigned long)pin;
	return sys_bpf(BPF_OBJ_GET, &attr);
}

#endif /* TFC_TEST_RAW_BPF_H */
