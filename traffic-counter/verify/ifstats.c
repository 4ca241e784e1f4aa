// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "ifstats.h"

struct link_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
};

static int parse_link(const struct nlmsghdr *nh, struct tfc_if_stats *out)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	const struct rtattr *rta = IFLA_RTA(ifi);

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		struct rtnl_link_stats64 st;

		if (rta->rta_type != IFLA_STATS64 || RTA_PAYLOAD(rta) < sizeof(st))
			continue;
		memcpy(&st, RTA_DATA(rta), sizeof(st));
		out->rx_packets = st.rx_packets;
		out->rx_bytes = st.rx_bytes;
		out->tx_packets = st.tx_packets;
		out->tx_bytes = st.tx_bytes;
		out->rx_dropped = st.rx_dropped;
		out->tx_dropped = st.tx_dropped;
		return 0;
	}
	return -ENODATA;
}

int tfc_if_stats_read(int ifindex, struct tfc_if_stats *out)
{
	struct link_req req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.nh.nlmsg_type = RTM_GETLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_index = ifindex,
	};
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	int fd, err;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (unsigned int)n)) {
		err = -EBADMSG;
		goto out;
	}
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		err = e->error ? e->error : -EBADMSG;
		goto out;
	}
	err = nh->nlmsg_type == RTM_NEWLINK ? parse_link(nh, out) : -EBADMSG;
out:
	close(fd);
	return err;
}
