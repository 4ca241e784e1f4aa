/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A new key on every packet, for the miss-path measurements. With
 * bpf_prog_test_run and repeat > 1, XDP runs every repetition on the same
 * buffer, so what a program writes into the frame is there for the next
 * run: bumping a 32-bit field (an address, or the two ports) makes each
 * repetition a different key. The driver picks the field and, with a
 * modulus, cycles through a set of keys already in the map. The bump costs
 * the same in the floor (xdp_bump) as in the measured programs.
 */
#ifndef BENCH_BUMP_H
#define BENCH_BUMP_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

/* Set by the driver through the skeleton's .bss before each run. */
volatile __u32 bump_off; /* byte offset of the field in the frame; 0: no bump */
volatile __u32 bump_mod; /* wrap to 0 at this value; 0: never */

static __always_inline void bench_bump(void *data, void *data_end)
{
	__u32 off = bump_off, mod = bump_mod;
	__u32 *field, v;

	if (!off)
		return;
	/* Masked so the verifier sees a bounded offset into the packet. */
	field = data + (off & 0xff);
	if ((void *)(field + 1) > data_end)
		return;
	v = *field + 1;
	if (mod && v >= mod)
		v = 0;
	*field = v;
}

#endif /* BENCH_BUMP_H */
