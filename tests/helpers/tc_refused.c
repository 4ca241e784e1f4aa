// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc_refused: the frame cases of the BPF tests' table (tests/bpf/cases.c)
 * that the kernel's skb test run refuses (skb_test_run_refuses), so that
 * tests/e2e/short_frames.bats can run them at tc over a veth instead. One
 * line a case:
 *
 *   NAME LEN HEX TC_INGRESS TC_EGRESS
 *
 * HEX is the whole frame, Ethernet header included. Each outcome is what one
 * such frame must add at that hook (one packet of LEN bytes) with the
 * default --count-by: "stat=REASON" (counted in that statistic only) or
 * "ip=ADDR" (counted in the IP map under ADDR), then ",note=REASON" when the
 * frame is also remarked in a statistic. test_bpf skips exactly these cases
 * at tc, from the same table and the same predicate.
 *
 *   tc_refused        the lines above
 *   tc_refused -c     only how many
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "util/names.h"

/* What one frame of case c adds at a hook whose key address is src or dst. */
static int outcome(const struct frame_case *c, bool key_src, char *buf, size_t len)
{
	const struct expect *w = &c->want;
	char addr[INET6_ADDRSTRLEN];
	const char *reason = tfc_stat_str(w->counted ? w->note : w->stat);
	int n;

	if (!w->counted) {
		if (!reason)
			return -1;
		return snprintf(buf, len, "stat=%s", reason) < (int)len ? 0 : -1;
	}
	if (!inet_ntop(w->family == 6 ? AF_INET6 : AF_INET, key_src ? w->src : w->dst, addr,
		       sizeof(addr)))
		return -1;
	n = snprintf(buf, len, "ip=%s", addr);
	if (w->note != NOTE_NONE) {
		if (!reason)
			return -1;
		n += snprintf(buf + n, len - (size_t)n, ",note=%s", reason);
	}
	return n < (int)len ? 0 : -1;
}

static int print_case(const struct frame_case *c)
{
	char in[96], eg[96];

	/* Defaults (openspec/specs/counting.md C3): tc-ingress counts the source,
	 * tc-egress the destination. */
	if (outcome(c, true, in, sizeof(in)) || outcome(c, false, eg, sizeof(eg))) {
		fprintf(stderr, "tc_refused: case %s: an outcome with no name\n", c->name);
		return -1;
	}
	printf("%s %zu ", c->name, c->pkt.len);
	for (size_t i = 0; i < c->pkt.len; i++)
		printf("%02x", c->pkt.data[i]);
	printf(" %s %s\n", in, eg);
	return 0;
}

int main(int argc, char **argv)
{
	struct frame_case *cases;
	int n = cases_build(&cases), refused = 0, ret = 0;
	bool count_only = argc == 2 && !strcmp(argv[1], "-c");

	if (argc > 2 || (argc == 2 && !count_only)) {
		fprintf(stderr, "usage: tc_refused [-c]\n");
		return 2;
	}
	if (n < 0) {
		fprintf(stderr, "tc_refused: out of memory building the case table\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (!skb_test_run_refuses(&cases[i].pkt))
			continue;
		refused++;
		if (!count_only && print_case(&cases[i]))
			ret = 1;
	}
	if (count_only)
		printf("%d\n", refused);
	free(cases);
	return ret;
}
