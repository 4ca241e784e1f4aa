// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <bpf/btf.h>

#include "xdp_fit.h"
#include "util/log.h"

/* XDP_PACKET_HEADROOM: the room every XDP buffer keeps before the frame. */
#define XDP_HEADROOM 256
/* SMP_CACHE_BYTES on x86-64 and arm64: SKB_DATA_ALIGN's unit. */
#define CACHE_LINE 64

/* sizeof(struct skb_shared_info) on the running kernel, from its BTF. */
static long shared_info_size(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	long size = -ENOENT;
	__s32 id;

	if (!btf)
		return -errno;
	id = btf__find_by_name_kind(btf, "skb_shared_info", BTF_KIND_STRUCT);
	if (id > 0)
		size = btf__resolve_size(btf, id);
	btf__free(btf);
	return size;
}

/*
 * The limit veth applies when a program without frags is attached
 * (drivers/net/veth.c, veth_xdp_set(), kernel 6.18):
 *
 *   max_mtu = SKB_WITH_OVERHEAD(PAGE_SIZE - VETH_XDP_HEADROOM)
 *             - peer->hard_header_len
 *
 * with VETH_XDP_HEADROOM = XDP_PACKET_HEADROOM + NET_IP_ALIGN (0 on x86-64
 * and arm64) and SKB_WITH_OVERHEAD(X) = X - SKB_DATA_ALIGN(sizeof(struct
 * skb_shared_info)): 4096 - 256 - 320 - 14 = 3506 on x86-64 with 4 KiB
 * pages. Drivers with multi-buffer support compute the same kind of limit
 * (some lower, e.g. a 3 KiB receive buffer) and refuse a program without
 * frags above it, at attach and at a later MTU change; the caller falls
 * back to the frags-aware program when a driver refuses.
 */
int tfc_xdp_single_buffer_mtu(void)
{
	long page = sysconf(_SC_PAGESIZE), info = shared_info_size();

	if (page <= 0)
		return -EINVAL;
	if (info <= 0)
		return info < 0 ? (int)info : -ENOENT;
	info = (info + CACHE_LINE - 1) & ~(long)(CACHE_LINE - 1);
	return (int)(page - XDP_HEADROOM - info - ETH_HLEN);
}

/* The device's MTU in the current network namespace (not /sys, which
 * shows the namespace it was mounted in). */
static int device_mtu(const char *ifname)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		err = -errno;
	close(fd);
	return err ? err : ifr.ifr_mtu;
}

int tfc_xdp_fits_one_buffer(const char *ifname)
{
	int limit = tfc_xdp_single_buffer_mtu(), mtu;

	if (limit < 0)
		return limit;
	mtu = device_mtu(ifname);
	if (mtu < 0)
		return mtu;
	tfc_debug("%s: MTU %d, one XDP buffer holds frames up to MTU %d", ifname, mtu, limit);
	return mtu <= limit;
}
