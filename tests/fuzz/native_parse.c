// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * parse.h is plain C over packet memory (direct access between data and
 * data_end), so it compiles natively as it is: the BPF helper declarations
 * it pulls in through <bpf/bpf_helpers.h> are never called here.
 */
#include <string.h>

#include "parse.h"
#include "native_parse.h"

void native_parse(const uint8_t *frame, size_t len, unsigned int tags, struct native_pkt *out)
{
	/* The parser only reads; its void * arguments are the BPF context's. */
	void *data = (void *)(uintptr_t)frame;
	struct tfc_pkt p;

	out->reason = tfc_parse_frame(data, (uint8_t *)data + len, tags, &p);
	out->note = p.note;
	out->family = p.family;
	out->proto = p.proto;
	out->tcp_flags = p.tcp_flags;
	out->sport = p.sport;
	out->dport = p.dport;
	out->hdr_len = p.hdr_len;
	memcpy(out->src, p.src, sizeof(out->src));
	memcpy(out->dst, p.dst, sizeof(out->dst));
}
