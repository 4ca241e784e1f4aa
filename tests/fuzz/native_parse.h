/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The BPF parser, traffic-counter-ebpf/parse.h, compiled natively into the
 * fuzzer: the kernel copy cannot be instrumented, this one can, so
 * libFuzzer's coverage includes the parser's branches. Plain types here, so
 * that the fuzzer does not include BPF-side headers.
 */
#ifndef TFC_FUZZ_NATIVE_PARSE_H
#define TFC_FUZZ_NATIVE_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct native_pkt {
	int reason;   /* -1: counted under an address, else the TFC_STAT_* reason */
	uint8_t note; /* TFC_STAT_* remark, or TFC_STAT_MAX for none */
	uint8_t family;
	uint8_t proto;
	uint8_t tcp_flags;
	uint16_t sport;
	uint16_t dport;
	uint16_t hdr_len;
	uint8_t src[16];
	uint8_t dst[16];
};

/* tfc_parse_frame() on frame[0, len) with `tags` VLAN tags already offloaded. */
void native_parse(const uint8_t *frame, size_t len, unsigned int tags, struct native_pkt *out);

#endif /* TFC_FUZZ_NATIVE_PARSE_H */
