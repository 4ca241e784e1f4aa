// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * put_ip_row: write one row into a pinned IP map or prefix map, so the
 * readers can be tested on prefix rows without the data path that makes
 * them. ADDR/LEN writes a prefix row (is_prefix 1, prefix_len LEN, the bits
 * after LEN cleared); a bare ADDR an address row. DIR is in or out. On a
 * per-CPU map, CPU 0 holds the counters (the others zero); on a plain hash
 * (the prefix map, a shared IP map) the one value does.
 *
 *   put_ip_row PIN IFINDEX DIR ADDR[/LEN] BYTES PACKETS
 *
 * Raw bpf(2), not libbpf: the helpers are built without the libraries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#include "abi/traffic_counter_abi.h"
#include "raw_bpf.h"

static int map_type(int fd, __u32 *type)
{
	struct bpf_map_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (__u32)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (__u64)(unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr))
		return -errno;
	*type = info.type;
	return 0;
}

/* "ADDR[/LEN]" into the key; -EINVAL if it is neither family or LEN is too long. */
static int parse_key(const char *s, struct ip_key *k)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long plen;
	char *end;

	if (!len || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, k->addr) == 1)
		k->family = 4;
	else if (inet_pton(AF_INET6, host, k->addr) == 1)
		k->family = 6;
	else
		return -EINVAL;
	if (!slash)
		return 0;
	plen = strtoul(slash + 1, &end, 10);
	if (*end || end == slash + 1 || plen > (k->family == 4 ? 32UL : 128UL))
		return -EINVAL;
	k->is_prefix = 1;
	k->prefix_len = (__u8)plen;
	for (unsigned int bit = (unsigned int)plen; bit < 128; bit++)
		k->addr[bit / 8] &= (__u8) ~(0x80 >> (bit % 8));
	return 0;
}

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

static int put(const char *pin, const struct ip_key *key, const struct counters *c)
{
	struct counters *vals = NULL;
	int fd, ncpu, err;
	__u32 type = 0;

	fd = map_open(pin);
	if (fd < 0) {
		fprintf(stderr, "put_ip_row: cannot open %s: %s\n", pin, strerror(errno));
		return -errno;
	}
	err = map_type(fd, &type);
	ncpu = type == BPF_MAP_TYPE_HASH ? 1 : possible_cpus();
	if (!err && ncpu <= 0)
		err = -EIO;
	if (!err) {
		vals = calloc((size_t)ncpu, sizeof(*vals));
		err = vals ? 0 : -ENOMEM;
	}
	if (!err) {
		vals[0] = *c;
		err = update(fd, key, vals);
	}
	if (err)
		fprintf(stderr, "put_ip_row: update %s: %s\n", pin, strerror(-err));
	free(vals);
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	struct ip_key key;
	struct counters c;
	unsigned long ifindex;

	if (argc != 7) {
		fprintf(stderr, "usage: put_ip_row PIN IFINDEX in|out ADDR[/LEN] BYTES PACKETS\n");
		return 2;
	}
	memset(&key, 0, sizeof(key));
	ifindex = strtoul(argv[2], NULL, 10);
	if (!ifindex || ifindex > 0xffffffffUL || parse_key(argv[4], &key) ||
	    (strcmp(argv[3], "in") && strcmp(argv[3], "out"))) {
		fprintf(stderr,
			"put_ip_row: IFINDEX > 0, DIR in or out, ADDR[/LEN] IPv4 or IPv6\n");
		return 2;
	}
	key.ifindex = (__u32)ifindex;
	key.direction = strcmp(argv[3], "in") ? TFC_DIR_EGRESS : TFC_DIR_INGRESS;
	c.bytes = strtoull(argv[5], NULL, 10);
	c.packets = strtoull(argv[6], NULL, 10);
	return put(argv[1], &key, &c) ? 1 : 0;
}
