// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The assertions behind every frame case: the verdict, and that exactly one
 * packet of exactly the frame's length was added to exactly one place, with
 * nothing else in any map changed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cases.h"
#include "util/names.h"

/* The names users see, from the library: a test never invents its own. */
const char *stat_name(unsigned int stat)
{
	return tfc_stat_str(stat) ?: "unknown_reason";
}

/* Everything one check needs, so helpers take one argument. */
struct run {
	const struct frame_case *c;
	enum prog_id prog;
	bool flows;
	uint8_t count_by;
	uint64_t len;
	uint64_t t0, t1; /* CLOCK_MONOTONIC_COARSE around the run: bounds for first/last seen */
	char *msg;
	size_t msglen;
};

__attribute__((format(printf, 2, 3))) static bool mismatch(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, r->msglen, fmt, ap);
	va_end(ap);
	return false;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the clock flows use */
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *addr_str(uint8_t family, const uint8_t *addr, char *buf, size_t n)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

/* The key address the program must pick (openspec/specs/counting.md C3, --count-by). */
static bool key_uses_src(uint8_t count_by, uint8_t direction)
{
	if (count_by == TFC_COUNT_BY_SRC)
		return true;
	if (count_by == TFC_COUNT_BY_DST)
		return false;
	return direction == TFC_DIR_INGRESS;
}

static const char *expected_str(const struct expect *w, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s", w->counted ? "counted" : stat_name(w->stat),
		 w->note != NOTE_NONE ? " + " : "", w->note != NOTE_NONE ? stat_name(w->note) : "");
	return buf;
}

bool check_stats_exact(struct harness *h, uint8_t direction, const struct stat_want *want,
		       int nwant, char *msg, size_t msglen)
{
	struct tfc_stat_entry e[HARNESS_MAX_ENTRIES];
	int n = harness_stat_entries(h, e, HARNESS_MAX_ENTRIES);

	if (n < 0)
		return snprintf(msg, msglen, "reading traffic_stats: %s", strerror(-n)), false;
	if (n > HARNESS_MAX_ENTRIES)
		return snprintf(msg, msglen, "traffic_stats: %d entries", n), false;
	for (int i = 0; i < n; i++) {
		const struct stat_key *k = &e[i].key;
		const struct stat_want *w = NULL;

		for (int j = 0; j < nwant; j++)
			if (want[j].reason == k->reason)
				w = &want[j];
		if (!w)
			return snprintf(msg, msglen, "stat %s: unexpected %llu pkt/%llu B",
					stat_name(k->reason), (unsigned long long)e[i].val.packets,
					(unsigned long long)e[i].val.bytes),
			       false;
		if (k->ifindex != harness_ifindex() || k->direction != direction || k->pad[0] ||
		    k->pad[1])
			return snprintf(msg, msglen,
					"stat %s key: expected if %u dir %u, got if %u dir %u "
					"pad %u,%u",
					stat_name(k->reason), harness_ifindex(), direction,
					k->ifindex, k->direction, k->pad[0], k->pad[1]),
			       false;
		if (e[i].val.packets != w->packets || e[i].val.bytes != w->bytes)
			return snprintf(msg, msglen,
					"stat %s: expected %llu pkt/%llu B, got %llu pkt/%llu B",
					stat_name(k->reason), (unsigned long long)w->packets,
					(unsigned long long)w->bytes,
					(unsigned long long)e[i].val.packets,
					(unsigned long long)e[i].val.bytes),
			       false;
	}
	/* Every key seen was wanted and keys are unique: the counts must match. */
	if (n != nwant)
		return snprintf(msg, msglen, "traffic_stats: expected %d entries, got %d", nwant,
				n),
		       false;
	return true;
}

/* Exactly the case's statistic and/or remark, one packet of the frame's length. */
static bool check_stats(struct harness *h, struct run *r)
{
	const struct expect *w = &r->c->want;
	struct stat_want want[2];
	char want_s[48], tail[64];
	int n = 0;

	if (!w->counted)
		want[n++] = (struct stat_want){w->stat, 1, r->len};
	if (w->note != NOTE_NONE)
		want[n++] = (struct stat_want){w->note, 1, r->len};
	if (check_stats_exact(h, prog_infos[r->prog].direction, want, n, r->msg, r->msglen))
		return true;
	/* Append what the case expected: "stat x: ..." alone hides the intent. */
	snprintf(tail, sizeof(tail), " (case expects %s)", expected_str(w, want_s, sizeof(want_s)));
	strncat(r->msg, tail, r->msglen - strlen(r->msg) - 1);
	return false;
}

static void expected_ip_key(const struct run *r, struct ip_key *k)
{
	const struct expect *w = &r->c->want;
	uint8_t dir = prog_infos[r->prog].direction;

	memset(k, 0, sizeof(*k));
	k->ifindex = harness_ifindex();
	k->family = w->family;
	k->direction = dir;
	memcpy(k->addr, key_uses_src(r->count_by, dir) ? w->src : w->dst, w->family == 6 ? 16 : 4);
}

static bool check_ip(struct harness *h, struct run *r)
{
	struct tfc_ip_entry e[HARNESS_MAX_ENTRIES];
	int n = harness_ip_entries(h, e, HARNESS_MAX_ENTRIES);
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct ip_key k;

	if (n < 0)
		return mismatch(r, "reading traffic_counters_ip: %s", strerror(-n));
	if (!r->c->want.counted)
		return n == 0 ? true
			      : mismatch(r, "IP map: expected no entry, got %d (first %s)", n,
					 addr_str(e[0].key.family, e[0].key.addr, a, sizeof(a)));
	if (n != 1)
		return mismatch(r, "IP map: expected 1 entry, got %d", n);
	expected_ip_key(r, &k);
	if (memcmp(&k, &e[0].key, sizeof(k)))
		return mismatch(r,
				"IP key: expected v%u %s dir %u if %u, got v%u %s dir %u if %u "
				"prefix %u/%u",
				k.family, addr_str(k.family, k.addr, a, sizeof(a)), k.direction,
				k.ifindex, e[0].key.family,
				addr_str(e[0].key.family, e[0].key.addr, b, sizeof(b)),
				e[0].key.direction, e[0].key.ifindex, e[0].key.is_prefix,
				e[0].key.prefix_len);
	if (e[0].val.packets != 1 || e[0].val.bytes != r->len)
		return mismatch(r, "IP value: expected 1 pkt/%llu B, got %llu pkt/%llu B",
				(unsigned long long)r->len, (unsigned long long)e[0].val.packets,
				(unsigned long long)e[0].val.bytes);
	return true;
}

static bool check_flow_key(struct run *r, const struct flow_key *got)
{
	const struct expect *w = &r->c->want;
	size_t alen = w->family == 6 ? 16 : 4;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct flow_key k = {
		.ifindex = harness_ifindex(),
		.sport = w->sport,
		.dport = w->dport,
		.proto = w->proto,
		.family = w->family,
		.direction = prog_infos[r->prog].direction,
	};

	memcpy(k.src, w->src, alen);
	memcpy(k.dst, w->dst, alen);
	if (!memcmp(&k, got, sizeof(k)))
		return true;
	return mismatch(r,
			"flow key: expected v%u proto %u %s:%u > %s:%u dir %u if %u, "
			"got v%u proto %u %s:%u > %s:%u dir %u if %u",
			k.family, k.proto, addr_str(k.family, k.src, a, sizeof(a)), k.sport,
			addr_str(k.family, k.dst, b, sizeof(b)), k.dport, k.direction, k.ifindex,
			got->family, got->proto, addr_str(got->family, got->src, a, sizeof(a)),
			got->sport, addr_str(got->family, got->dst, b, sizeof(b)), got->dport,
			got->direction, got->ifindex);
}

static bool check_flow(struct harness *h, struct run *r)
{
	struct tfc_flow_entry e[HARNESS_MAX_ENTRIES];
	int n = harness_flow_entries(h, e, HARNESS_MAX_ENTRIES);
	const struct flow_value *v = &e[0].val;

	if (n < 0)
		return mismatch(r, "reading traffic_counters_flow: %s", strerror(-n));
	if (!r->flows || !r->c->want.counted)
		return n == 0 ? true : mismatch(r, "flow map: expected no entry, got %d", n);
	if (n != 1)
		return mismatch(r, "flow map: expected 1 entry, got %d", n);
	if (!check_flow_key(r, &e[0].key))
		return false;
	if (v->packets != 1 || v->bytes != r->len)
		return mismatch(r, "flow value: expected 1 pkt/%llu B, got %llu pkt/%llu B",
				(unsigned long long)r->len, (unsigned long long)v->packets,
				(unsigned long long)v->bytes);
	if (v->tcp_flags != r->c->want.tcp_flags)
		return mismatch(r, "flow tcp_flags: expected 0x%02x, got 0x%02x",
				r->c->want.tcp_flags, v->tcp_flags);
	if (v->first_seen_ns < r->t0 || v->first_seen_ns > v->last_seen_ns ||
	    v->last_seen_ns > r->t1)
		return mismatch(r, "flow times: expected %llu <= first %llu <= last %llu <= %llu",
				(unsigned long long)r->t0, (unsigned long long)v->first_seen_ns,
				(unsigned long long)v->last_seen_ns, (unsigned long long)r->t1);
	return true;
}

static bool check_control(struct harness *h, struct run *r, uint32_t flags)
{
	uint64_t inserts = r->flows && r->c->want.counted ? 1 : 0;
	struct tfc_control ctl;
	int rc = harness_control(h, &ctl);

	if (rc)
		return mismatch(r, "reading traffic_control: %s", strerror(-rc));
	if (ctl.flags != flags || ctl.dropped_packets || ctl.dropped_bytes ||
	    ctl.flow_inserts != inserts || ctl.flow_insert_failures)
		return mismatch(r,
				"control: expected flags 0x%x dropped 0/0 inserts %llu failures 0, "
				"got flags 0x%x dropped %llu/%llu inserts %llu failures %llu",
				flags, (unsigned long long)inserts, ctl.flags,
				(unsigned long long)ctl.dropped_packets,
				(unsigned long long)ctl.dropped_bytes,
				(unsigned long long)ctl.flow_inserts,
				(unsigned long long)ctl.flow_insert_failures);
	return true;
}

bool check_untouched(struct harness *h, uint8_t direction, uint32_t flags, char *msg, size_t msglen)
{
	struct tfc_ip_entry ip[1];
	struct tfc_flow_entry fl[1];
	struct tfc_control ctl;
	int nip, nfl;

	if (!check_stats_exact(h, direction, NULL, 0, msg, msglen))
		return false;
	nip = harness_ip_entries(h, ip, 1);
	nfl = harness_flow_entries(h, fl, 1);
	if (nip || nfl)
		return snprintf(msg, msglen, "expected empty maps, got %d IP and %d flow entries",
				nip, nfl),
		       false;
	if (harness_control(h, &ctl))
		return snprintf(msg, msglen, "reading traffic_control failed"), false;
	if (ctl.flags != flags || ctl.dropped_packets || ctl.dropped_bytes || ctl.flow_inserts ||
	    ctl.flow_insert_failures)
		return snprintf(msg, msglen, "traffic_control changed: dropped %llu, inserts %llu",
				(unsigned long long)ctl.dropped_packets,
				(unsigned long long)ctl.flow_inserts),
		       false;
	return true;
}

bool check_frame(struct harness *h, const struct frame_case *c, enum prog_id prog, bool flows,
		 uint8_t count_by, char *msg, size_t msglen)
{
	struct run r = {.c = c,
			.prog = prog,
			.flows = flows,
			.count_by = count_by,
			.len = c->pkt.len,
			.msg = msg,
			.msglen = msglen};
	uint32_t flags = flows ? TFC_FLAG_FLOW_COUNTERS : 0;
	int rc, ret = 0;

	rc = harness_reset(h, flags);
	if (rc)
		return mismatch(&r, "resetting maps: %s", strerror(-rc));
	r.t0 = now_ns();
	rc = harness_run(h, prog, c->pkt.data, c->pkt.len, &ret);
	r.t1 = now_ns();
	if (rc)
		return mismatch(&r, "BPF_PROG_TEST_RUN of %zu bytes failed: %s", c->pkt.len,
				strerror(-rc));
	if (ret != prog_infos[prog].retval)
		return mismatch(&r, "verdict: expected %d, got %d", prog_infos[prog].retval, ret);
	return check_stats(h, &r) && check_ip(h, &r) && check_flow(h, &r) &&
	       check_control(h, &r, flags);
}
