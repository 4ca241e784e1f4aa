// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Packet builder for the BPF tests; see pkt.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

const uint8_t pkt_src4[4] = PKT_SRC4;
const uint8_t pkt_dst4[4] = PKT_DST4;
const uint8_t pkt_src6[16] = PKT_SRC6;
const uint8_t pkt_dst6[16] = PKT_DST6;

static const uint8_t mac_dst[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t mac_src[6] = {0x02, 0, 0, 0, 0, 0x01};

void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
}

/* Appends n zeroed bytes. Overflowing is a bug in a test, not a result. */
void *pkt_put(struct pkt *p, size_t n)
{
	void *at;

	if (p->len + n > sizeof(p->data)) {
		fprintf(stderr, "pkt_put: frame larger than PKT_MAX (%d)\n", PKT_MAX);
		abort();
	}
	at = p->data + p->len;
	memset(at, 0, n);
	p->len += n;
	return at;
}

/* A recognisable pattern, so a dumped frame shows where the payload starts. */
void pkt_payload(struct pkt *p, size_t n)
{
	uint8_t *b = pkt_put(p, n);

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(0xa0 + i);
}

struct pkt_eth *pkt_eth(struct pkt *p, uint16_t type)
{
	struct pkt_eth *e = pkt_put(p, sizeof(*e));

	memcpy(e->dst, mac_dst, sizeof(e->dst));
	memcpy(e->src, mac_src, sizeof(e->src));
	e->type = htons(type);
	return e;
}

/* The tag's TPID is the type field of the header before it. */
struct pkt_vlan *pkt_vlan(struct pkt *p, uint16_t vid, uint16_t type)
{
	struct pkt_vlan *v = pkt_put(p, sizeof(*v));

	v->tci = htons(vid & 0x0fff);
	v->type = htons(type);
	return v;
}

/* ihl > 5 appends NOP options closed by an End-of-Options byte. */
struct pkt_ip4 *pkt_ipv4(struct pkt *p, uint8_t proto, uint8_t ihl, const uint8_t src[4],
			 const uint8_t dst[4])
{
	size_t off = p->len;
	struct pkt_ip4 *ip = pkt_put(p, sizeof(*ip));

	ip->ver_ihl = (uint8_t)(4 << 4 | (ihl & 0x0f));
	ip->ttl = 64;
	ip->proto = proto;
	ip->id = htons(0x1234);
	memcpy(ip->src, src, 4);
	memcpy(ip->dst, dst, 4);
	if (ihl > 5) {
		size_t n = (size_t)(ihl - 5) * 4;
		uint8_t *opt = pkt_put(p, n);

		memset(opt, 1, n - 1);
	}
	if (!p->ip4_off && !p->ip6_off)
		p->ip4_off = off;
	return (struct pkt_ip4 *)(p->data + off);
}

struct pkt_ip6 *pkt_ipv6(struct pkt *p, uint8_t nexthdr, const uint8_t src[16],
			 const uint8_t dst[16])
{
	size_t off = p->len;
	struct pkt_ip6 *ip = pkt_put(p, sizeof(*ip));

	ip->ver_tc_flow = htonl(6U << 28);
	ip->nexthdr = nexthdr;
	ip->hop_limit = 64;
	memcpy(ip->src, src, 16);
	memcpy(ip->dst, dst, 16);
	if (!p->ip4_off && !p->ip6_off)
		p->ip6_off = off;
	return ip;
}

/*
 * Hop-by-hop, routing or destination options of (hdrlen + 1) * 8 bytes. The
 * body is zero: Pad1 options, or routing type 0 with no segments left.
 */
struct pkt_ext6 *pkt_ext6(struct pkt *p, uint8_t nexthdr, uint8_t hdrlen)
{
	size_t off = p->len;
	struct pkt_ext6 *h;

	pkt_put(p, ((size_t)hdrlen + 1) * 8);
	h = (struct pkt_ext6 *)(p->data + off);
	h->nexthdr = nexthdr;
	h->hdrlen = hdrlen;
	return h;
}

struct pkt_frag6 *pkt_frag6(struct pkt *p, uint8_t nexthdr, uint16_t offset8, int more)
{
	struct pkt_frag6 *f = pkt_put(p, sizeof(*f));

	f->nexthdr = nexthdr;
	f->frag_off = htons((uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	f->id = htonl(0xabcd);
	return f;
}

struct pkt_tcp *pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct pkt_tcp *t = pkt_put(p, sizeof(*t));

	t->sport = htons(sport);
	t->dport = htons(dport);
	t->seq = htonl(1000);
	t->doff = 5 << 4;
	t->flags = flags;
	t->window = htons(65535);
	return t;
}

struct pkt_udp *pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	size_t off = p->len;
	struct pkt_udp *u = pkt_put(p, sizeof(*u));

	u->sport = htons(sport);
	u->dport = htons(dport);
	if (!p->udp_off)
		p->udp_off = off;
	return u;
}

struct pkt_sctp *pkt_sctp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	struct pkt_sctp *s = pkt_put(p, sizeof(*s));

	s->sport = htons(sport);
	s->dport = htons(dport);
	s->vtag = htonl(0x01020304);
	return s;
}

struct pkt_icmp *pkt_icmp(struct pkt *p, uint8_t type, uint8_t code)
{
	struct pkt_icmp *i = pkt_put(p, sizeof(*i));

	i->type = type;
	i->code = code;
	i->rest = htonl(0x00010001); /* echo id 1, sequence 1 */
	return i;
}

struct pkt_gre *pkt_gre(struct pkt *p, uint16_t proto)
{
	struct pkt_gre *g = pkt_put(p, sizeof(*g));

	g->proto = htons(proto);
	return g;
}

/* An ARP request, who-has dst4 tell src4. */
struct pkt_arp *pkt_arp(struct pkt *p)
{
	struct pkt_arp *a = pkt_put(p, sizeof(*a));

	a->htype = htons(1);
	a->ptype = htons(ETHERTYPE_IPV4);
	a->hlen = 6;
	a->plen = 4;
	a->op = htons(1);
	memcpy(a->sha, mac_src, 6);
	memcpy(a->spa, pkt_src4, 4);
	memcpy(a->tpa, pkt_dst4, 4);
	return a;
}

/* An STP-style LLC header (DSAP/SSAP 0x42, UI). */
struct pkt_llc *pkt_llc(struct pkt *p)
{
	struct pkt_llc *l = pkt_put(p, sizeof(*l));

	l->dsap = 0x42;
	l->ssap = 0x42;
	l->ctrl = 0x03;
	return l;
}

static uint16_t ip4_csum(const struct pkt_ip4 *ip, size_t hlen)
{
	const uint8_t *b = (const uint8_t *)ip;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < hlen; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/*
 * Fills the length fields of the outermost IP header and the first UDP
 * header from the final frame length, and the IPv4 header checksum, so the
 * frames are well formed unless a case breaks them on purpose afterwards.
 */
void pkt_finish(struct pkt *p)
{
	if (p->ip4_off) {
		struct pkt_ip4 *ip = (struct pkt_ip4 *)(p->data + p->ip4_off);
		size_t hlen = (size_t)(ip->ver_ihl & 0x0f) * 4;

		ip->tot_len = htons((uint16_t)(p->len - p->ip4_off));
		ip->csum = 0;
		if (hlen >= sizeof(*ip) && p->ip4_off + hlen <= p->len)
			ip->csum = ip4_csum(ip, hlen);
	}
	if (p->ip6_off) {
		struct pkt_ip6 *ip = (struct pkt_ip6 *)(p->data + p->ip6_off);

		ip->payload_len = htons((uint16_t)(p->len - p->ip6_off - sizeof(*ip)));
	}
	if (p->udp_off) {
		struct pkt_udp *u = (struct pkt_udp *)(p->data + p->udp_off);

		u->len = htons((uint16_t)(p->len - p->udp_off));
	}
}
