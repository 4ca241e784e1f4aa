// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The end-to-end traffic generator: run with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES, every repetition redirects the frame out of
 * gen_ifindex (the sending veth), which hands it to its peer's receive
 * path as a real frame. With gen_nsrc > 1 each frame gets the next of
 * gen_nsrc source addresses (from gen_base, host order) and a fresh IPv4
 * header checksum, so the receiver's stack accepts it. One generator runs
 * in one thread, so the sequence needs no atomics.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

volatile __u32 gen_ifindex;
volatile __u32 gen_nsrc;
volatile __u32 gen_base;
__u64 gen_seq;

static __always_inline __u16 ipv4_csum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int gen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + sizeof(struct ethhdr);
	__u32 nsrc = gen_nsrc;

	if (nsrc > 1 && (void *)(iph + 1) <= data_end) {
		iph->saddr = bpf_htonl(gen_base + (__u32)(gen_seq++ % nsrc));
		iph->check = 0;
		iph->check = ipv4_csum(iph);
	}
	return bpf_redirect(gen_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
