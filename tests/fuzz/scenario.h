/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The fuzz input format, shared by the fuzzer and the seed writer:
 *
 *   byte 0   bits 0-1  --count-by (0 default, 1 src, 2 dst; 3 reads as 0)
 *            bit 2     the IP map is the tight one (FZ_TIGHT_ENTRIES)
 *            bit 3     vlan_present: one outer tag already in skb metadata
 *            bits 4-6  frames that follow, minus one (1 to 8)
 *   byte 1   free entries of the tight IP map at the start (mod 5)
 *   byte 2   gso_segs at tc (0 and 1: not a GSO skb)
 *   byte 3-4 gso_size at tc, big-endian
 *   then per frame: a 2-byte big-endian length and that many bytes (fewer
 *   when the input ends first).
 */
#ifndef TFC_FUZZ_SCENARIO_H
#define TFC_FUZZ_SCENARIO_H

#define FZ_HDR_BYTES	 5
#define FZ_LEN_BYTES	 2
#define FZ_MAX_FRAMES	 8
#define FZ_TIGHT_ENTRIES 4

#define FZ_B0_COUNT_BY_MASK 0x03
#define FZ_B0_TIGHT	    0x04
#define FZ_B0_VLAN	    0x08
#define FZ_B0_FRAMES_SHIFT  4
#define FZ_B0_FRAMES_MASK   0x07

#endif /* TFC_FUZZ_SCENARIO_H */
