// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The floor: programs that do nothing but return the pass verdict of their
 * hook. What the kernel spends to run any program at all (the test-run
 * loop, the dispatcher, the call) is in them, so a counter's ratio to them
 * is the cost it adds on top of being attached. xdp_bump is the floor of
 * the miss-path measurements, which bump a key field in every packet.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "bench_bump.h"

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int tfc_ok(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("xdp")
int xdp_bump(struct xdp_md *ctx)
{
	bench_bump((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
