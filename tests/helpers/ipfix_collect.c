// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ipfix_collect: a minimal IPFIX collector (libfixbuf) for the tests: what
 * nfcapd cannot show, layer2OctetDeltaCount, the statistics options record,
 * and TCP transport (nfcapd takes UDP only). Prints one line per record,
 * flushed at once, until killed or SECONDS have passed:
 *
 *   flow SRC DST SPORT DPORT PROTO PACKETS L2_OCTETS OCTETS START_MS END_MS
 *        TCP_FLAGS INGRESS EGRESS DIRECTION END_REASON
 *   stats DOMAIN EXPORTED_RECORDS NOT_SENT_FLOWS
 *
 *   ipfix_collect tcp|udp ADDR PORT SECONDS
 *
 * It prints "listening" once the socket is bound.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fixbuf/public.h>

struct flow_rec {
	uint64_t start_ms, end_ms, packets, l2_octets, octets;
	uint32_t ingress, egress, src4, dst4;
	uint8_t src6[16], dst6[16];
	uint16_t sport, dport, tcp_flags;
	uint8_t proto, direction, end_reason, pad[7];
};

static fbInfoElementSpec_t flow_spec[] = {
	{"flowStartMilliseconds", 8, 0},
	{"flowEndMilliseconds", 8, 0},
	{"packetDeltaCount", 8, 0},
	{"layer2OctetDeltaCount", 8, 0},
	{"octetDeltaCount", 8, 0},
	{"ingressInterface", 4, 0},
	{"egressInterface", 4, 0},
	{"sourceIPv4Address", 4, 0},
	{"destinationIPv4Address", 4, 0},
	{"sourceIPv6Address", 16, 0},
	{"destinationIPv6Address", 16, 0},
	{"sourceTransportPort", 2, 0},
	{"destinationTransportPort", 2, 0},
	{"tcpControlBits", 2, 0},
	{"protocolIdentifier", 1, 0},
	{"flowDirection", 1, 0},
	{"flowEndReason", 1, 0},
	{"paddingOctets", 7, 0},
	FB_IESPEC_NULL,
};

struct stats_rec {
	uint64_t exported, not_sent;
	uint32_t domain, pad;
};

static fbInfoElementSpec_t stats_spec[] = {
	{"exportedFlowRecordTotalCount", 8, 0},
	{"notSentFlowTotalCount", 8, 0},
	{"observationDomainId", 4, 0},
	{"paddingOctets", 4, 0},
	FB_IESPEC_NULL,
};

static uint16_t tid_flow, tid_stats;

/* IPv6 when either address is (:: is a valid IPv6 source). */
static void addr_text(const struct flow_rec *r, int src, char *buf, size_t len)
{
	uint32_t a4 = htonl(src ? r->src4 : r->dst4);
	static const uint8_t zero[16];

	if (memcmp(r->src6, zero, 16) || memcmp(r->dst6, zero, 16))
		inet_ntop(AF_INET6, src ? r->src6 : r->dst6, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET, &a4, buf, (socklen_t)len);
}

static void print_flow(const struct flow_rec *r)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	addr_text(r, 1, src, sizeof(src));
	addr_text(r, 0, dst, sizeof(dst));
	printf("flow %s %s %u %u %u %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
	       " %u %u %u %u %u\n",
	       src, dst, r->sport, r->dport, r->proto, r->packets, r->l2_octets, r->octets,
	       r->start_ms, r->end_ms, r->tcp_flags, r->ingress, r->egress, r->direction,
	       r->end_reason);
}

/* The next record through the internal template that fits its external one. */
static int next_record(fBuf_t *buf, GError **err)
{
	struct flow_rec fr;
	struct stats_rec sr;
	fbTemplate_t *t = fBufNextCollectionTemplate(buf, NULL, err);
	int options;
	size_t len;

	if (!t)
		return -1;
	options = fbTemplateGetOptionsScope(t) > 0;
	if (!fBufSetInternalTemplate(buf, options ? tid_stats : tid_flow, err))
		return -1;
	memset(&fr, 0, sizeof(fr));
	memset(&sr, 0, sizeof(sr));
	len = options ? sizeof(sr) : sizeof(fr);
	if (!fBufNext(buf, options ? (uint8_t *)&sr : (uint8_t *)&fr, &len, err))
		return -1;
	if (options)
		printf("stats %u %" PRIu64 " %" PRIu64 "\n", sr.domain, sr.exported, sr.not_sent);
	else
		print_flow(&fr);
	fflush(stdout);
	return 0;
}

static fbSession_t *session_new(fbInfoModel_t *model)
{
	fbSession_t *s = fbSessionAlloc(model);
	fbTemplate_t *tf = fbTemplateAlloc(model), *ts = fbTemplateAlloc(model);
	GError *err = NULL;

	if (!fbTemplateAppendSpecArray(tf, flow_spec, 0, &err) ||
	    !fbTemplateAppendSpecArray(ts, stats_spec, 0, &err) ||
	    !(tid_flow = fbSessionAddTemplate(s, TRUE, FB_TID_AUTO, tf, &err)) ||
	    !(tid_stats = fbSessionAddTemplate(s, TRUE, FB_TID_AUTO, ts, &err))) {
		fprintf(stderr, "ipfix_collect: templates: %s\n", err->message);
		exit(1);
	}
	return s;
}

int main(int argc, char **argv)
{
	fbInfoModel_t *model = fbInfoModelAlloc();
	fbConnSpec_t spec = {0};
	fbListener_t *l;
	GError *err = NULL;
	fBuf_t *buf = NULL;

	if (argc != 5 || (strcmp(argv[1], "tcp") && strcmp(argv[1], "udp")) || atoi(argv[4]) < 1) {
		fprintf(stderr, "usage: ipfix_collect tcp|udp ADDR PORT SECONDS\n");
		return 2;
	}
	/* The bound on the run: the default action of SIGALRM ends it. */
	alarm((unsigned int)atoi(argv[4]));
	spec.transport = strcmp(argv[1], "tcp") ? FB_UDP : FB_TCP;
	spec.host = argv[2];
	spec.svc = argv[3];
	l = fbListenerAlloc(&spec, session_new(model), NULL, NULL, &err);
	if (!l) {
		fprintf(stderr, "ipfix_collect: listen: %s\n", err->message);
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		if (!buf) {
			buf = fbListenerWait(l, &err);
			if (!buf)
				break;
			/* Manual: at the end of a message, back to the listener. */
			fBufSetAutomaticMode(buf, FALSE);
		}
		if (next_record(buf, &err)) {
			/* A closed connection: its buffer goes, so the listener forgets it. */
			if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOF))
				fBufFree(buf);
			else if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM) &&
				 !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_NLREAD))
				fprintf(stderr, "ipfix_collect: %s\n", err->message);
			g_clear_error(&err);
			buf = NULL;
		}
	}
	fprintf(stderr, "ipfix_collect: %s\n", err ? err->message : "stopped");
	return 1;
}
