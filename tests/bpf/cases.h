/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The frame cases and what each must do to the maps. A case is a frame plus
 * one expected outcome that must hold at every hook
 * (openspec/specs/counting.md C2: the same frame gives the same count at
 * every hook): either the frame is counted under an address (with the flow
 * key it gets when flow counting is on), or it lands in exactly one
 * statistic.
 */
#ifndef TFC_TEST_CASES_H
#define TFC_TEST_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "pkt.h"

#define NOTE_NONE 0xff /* no remark expected on a counted frame */

struct expect {
	bool counted;
	uint8_t stat;	/* enum tfc_stat, when not counted */
	uint8_t note;	/* remark counted in addition (TFC_STAT_L4_TRUNCATED, ...) or NOTE_NONE */
	uint8_t family; /* 4 or 6 */
	uint8_t proto;
	uint8_t tcp_flags;
	uint16_t sport; /* host order, as in struct flow_key */
	uint16_t dport;
	uint8_t src[16]; /* IPv4 in the first 4 bytes */
	uint8_t dst[16];
};

struct frame_case {
	char name[64];
	struct pkt pkt;
	struct expect want;
};

/* Builds every table and truncation case; returns how many, or -1. */
int cases_build(struct frame_case **out);

/*
 * Runs one case through one program on a freshly reset harness and checks
 * every map. On a mismatch returns false with the first difference in msg.
 * count_by must be what the harness was loaded with.
 */
bool check_frame(struct harness *h, const struct frame_case *c, enum prog_id prog, bool flows,
		 uint8_t count_by, char *msg, size_t msglen);

/* One traffic_stats entry a check wants, for this netns' loopback. */
struct stat_want {
	uint8_t reason; /* enum tfc_stat */
	uint64_t packets;
	uint64_t bytes;
};

/*
 * True when traffic_stats holds exactly the wanted reasons for `direction`
 * on loopback, with these totals, and nothing else.
 */
bool check_stats_exact(struct harness *h, uint8_t direction, const struct stat_want *want,
		       int nwant, char *msg, size_t msglen);

/* True when no map changed at all (a refused run): flags as written, zeros. */
bool check_untouched(struct harness *h, uint8_t direction, uint32_t flags, char *msg,
		     size_t msglen);

/*
 * True when the kernel's skb test run refuses p: an IP header cut short
 * (cases.c). Such frames run at tc in tests/e2e/short_frames.bats instead.
 */
bool skb_test_run_refuses(const struct pkt *p);

const char *stat_name(unsigned int stat);

#endif /* TFC_TEST_CASES_H */
