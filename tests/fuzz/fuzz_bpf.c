// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target. An input is a scenario and up to 8 frames (format in
 * scenario.h): the --count-by variant, whether the IP map starts (nearly)
 * full, an offloaded VLAN tag, gso_segs/gso_size at tc. Every frame runs
 * through the four programs (tfc_xdp, tfc_xdp_legacy, tfc_tc_ingress, tfc_tc_egress)
 * with BPF_PROG_TEST_RUN, all into the same maps, with flow counting on.
 * ref_parser.c predicts each run; the predictions add up in a model of the
 * maps, and after the last frame every map must hold exactly the model:
 * cumulative packets and bytes per key, tcp_flags ORed, ip_map_full and
 * dropped_packets when the IP map has no room, nothing else.
 *
 * The kernel copy of the parser cannot be instrumented, so parse.h is also
 * compiled natively (native_parse.c) and run on every frame, with and
 * without an offloaded tag, and must agree with ref_parser.c: this gives
 * libFuzzer the parser's branches as coverage.
 *
 * One skeleton is loaded per --count-by value and IP map size (a .rodata
 * setting and a map size are fixed at load), once at start. After an input
 * the harness deletes what it found, so maps start empty (the tight IP map
 * keeps its filler entries). On a mismatch every map is dumped, the frames
 * printed in hex, and the process aborts so that libFuzzer saves the input.
 *
 * Needs root: exits with 4 (skip) when not root or when BPF is unavailable.
 * Reproduce a saved input with: build/fuzz/fuzz_bpf CRASH_FILE
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "native_parse.h"
#include "ref_parser.h"
#include "scenario.h"
#include "traffic_counter.skel.h"

#define SKIP_EXIT      4 /* libFuzzer itself exits 77 on a crash, 70 on a timeout */
#define XDP_PASS_      2
#define TC_UNSPEC      (-1)
#define FZ_MAP_ENTRIES 256
#define FZ_MODEL_MAX   (FZ_MAX_FRAMES * 4) /* one key per run at most, per map */
#define FILLER_IFINDEX 0x7fff0000u	   /* tight-map filler keys: no real interface */
#define ETH_HLEN_      14
#define FZ_MAX_INPUT   65536 /* above FUZZ_MAX_LEN; longer frames are cut here */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum fz_prog { FZ_XDP, FZ_XDP_LEGACY, FZ_TC_INGRESS, FZ_TC_EGRESS, FZ_PROGS };

static const struct {
	const char *name;
	uint8_t direction;
	int verdict;
	bool skb;
} progs[FZ_PROGS] = {
	[FZ_XDP] = {TFC_STR(TFC_PROG_XDP), TFC_DIR_INGRESS, XDP_PASS_, false},
	[FZ_XDP_LEGACY] = {TFC_STR(TFC_PROG_XDP_LEGACY), TFC_DIR_INGRESS, XDP_PASS_, false},
	[FZ_TC_INGRESS] = {TFC_STR(TFC_PROG_TC_INGRESS), TFC_DIR_INGRESS, TC_UNSPEC, true},
	[FZ_TC_EGRESS] = {TFC_STR(TFC_PROG_TC_EGRESS), TFC_DIR_EGRESS, TC_UNSPEC, true},
};

/* One loaded object: a --count-by value and an IP map size. */
struct inst {
	struct traffic_counter_bpf *skel;
	int prog_fd[FZ_PROGS];
	int ip_fd, flow_fd, stats_fd;
	volatile struct tfc_control *ctl; /* the mmapped control entry */
	uint8_t count_by;
	uint32_t ip_entries;
	uint32_t fillers; /* filler keys in the IP map now */
};

struct frame {
	const uint8_t *b;
	size_t len;
};

struct scenario {
	uint8_t count_by;
	bool tight;
	uint32_t free_slots;
	bool vlan;
	uint16_t gso_segs;
	uint16_t gso_size;
	struct frame f[FZ_MAX_FRAMES];
	int nframes;
};

/* What the maps must hold after the frames so far. */
struct model {
	struct {
		struct ip_key k;
		struct counters c;
	} ip[FZ_MODEL_MAX];
	struct {
		struct stat_key k;
		struct counters c;
	} stat[FZ_MODEL_MAX];
	struct {
		struct flow_key k;
		struct counters c;
		uint32_t tcp_flags;
	} flow[FZ_MODEL_MAX];
	int nip, nstat, nflow;
	uint64_t dropped_packets, dropped_bytes, flow_inserts;
};

static struct {
	struct inst inst[3][2]; /* [count_by][tight] */
	int ncpus;
	struct counters *percpu;
	uint32_t ifindex;
	uint32_t skb_max, xdp_linear_max; /* largest frames the test runs take linear */
	bool vlan_ctx;			  /* the kernel takes vlan_present in ctx_in */
	struct model m;
	uint64_t t0; /* before the first run of this input */
	/* tallies for the closing line */
	unsigned long long inputs, frames, runs, counted, uncounted, refused, refused_long, frags,
		gso_runs, full, native_tagged, skipped_short;
} fz;

/* Where a mismatch report is built up; printed whole before abort(). */
static char report[65536];
static size_t report_len;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (report_len >= sizeof(report) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(report + report_len, sizeof(report) - report_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		report_len += (size_t)n;
	if (report_len > sizeof(report) - 1)
		report_len = sizeof(report) - 1;
}

static void summary(void)
{
	fprintf(stderr,
		"fuzz_bpf: %llu inputs, %llu frames, %llu program runs: %llu counted by address, "
		"%llu under a reason, %llu refused by tc for a short IP header, %llu refused "
		"above the linear limit (skb %u, xdp %u B), %llu XDP multi-buffer runs, %llu GSO "
		"runs, %llu ip_map_full, %llu native parses with an offloaded tag; skipped %llu "
		"frames under 14 bytes\n",
		fz.inputs, fz.frames, fz.runs, fz.counted, fz.uncounted, fz.refused,
		fz.refused_long, fz.skb_max, fz.xdp_linear_max, fz.frags, fz.gso_runs, fz.full,
		fz.native_tagged, fz.skipped_short);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the clock flows use */
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *addr_str(uint8_t family, const uint8_t *a, char *buf, size_t n)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)n))
		snprintf(buf, n, "?(family %u)", family);
	return buf;
}

static const char *dir_str(uint8_t d)
{
	return d == TFC_DIR_INGRESS ? "ingress" : d == TFC_DIR_EGRESS ? "egress" : "dir?";
}

/* Sum of a per-CPU counters value; false when the key is absent. */
static bool percpu_get(int fd, const void *key, struct counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(fd, key, fz.percpu))
		return false;
	for (int c = 0; c < fz.ncpus; c++) {
		sum->bytes += fz.percpu[c].bytes;
		sum->packets += fz.percpu[c].packets;
	}
	return true;
}

static void drain(int fd)
{
	uint8_t key[64];

	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			break;
}

static bool is_filler(const struct ip_key *k)
{
	return k->ifindex >= FILLER_IFINDEX;
}

/* Appends every entry of every map, and the control counters, to the report. */
static void dump_maps(const struct inst *in)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct stat_key sk, *sprev = NULL;
	struct ip_key ik, *iprev = NULL;
	struct flow_key fk, *fprev = NULL;
	struct flow_value fv;
	struct counters c;
	int n = 0;

	say("  observed traffic_stats:");
	while (!bpf_map_get_next_key(in->stats_fd, sprev, &sk) && n++ < 64) {
		percpu_get(in->stats_fd, &sk, &c);
		say(" [%s if %u %s: %llu pkt/%llu B]", ref_stat_name(sk.reason), sk.ifindex,
		    dir_str(sk.direction), (unsigned long long)c.packets,
		    (unsigned long long)c.bytes);
		sprev = &sk;
	}
	say("%s\n  observed traffic_counters_ip (%u filler keys not shown):", n ? "" : " (empty)",
	    in->fillers);
	n = 0;
	while (!bpf_map_get_next_key(in->ip_fd, iprev, &ik) && n++ < 64) {
		iprev = &ik;
		if (is_filler(&ik))
			continue;
		percpu_get(in->ip_fd, &ik, &c);
		say(" [v%u %s if %u %s pad %u,%u: %llu pkt/%llu B]", ik.family,
		    addr_str(ik.family, ik.addr, a, sizeof(a)), ik.ifindex, dir_str(ik.direction),
		    ik.is_prefix, ik.prefix_len, (unsigned long long)c.packets,
		    (unsigned long long)c.bytes);
	}
	say("\n  observed traffic_counters_flow:");
	n = 0;
	while (!bpf_map_get_next_key(in->flow_fd, fprev, &fk) && n++ < 64) {
		memset(&fv, 0, sizeof(fv));
		bpf_map_lookup_elem(in->flow_fd, &fk, &fv);
		say(" [v%u proto %u %s:%u > %s:%u if %u %s: %llu pkt/%llu B tcp_flags 0x%02x]",
		    fk.family, fk.proto, addr_str(fk.family, fk.src, a, sizeof(a)), fk.sport,
		    addr_str(fk.family, fk.dst, b, sizeof(b)), fk.dport, fk.ifindex,
		    dir_str(fk.direction), (unsigned long long)fv.packets,
		    (unsigned long long)fv.bytes, fv.tcp_flags);
		fprev = &fk;
	}
	say("%s\n  observed traffic_control: flags 0x%x dropped %llu pkt/%llu B flow_inserts %llu "
	    "flow_insert_failures %llu\n",
	    n ? "" : " (empty)", in->ctl->flags, (unsigned long long)in->ctl->dropped_packets,
	    (unsigned long long)in->ctl->dropped_bytes, (unsigned long long)in->ctl->flow_inserts,
	    (unsigned long long)in->ctl->flow_insert_failures);
}

static void dump_model(void)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const struct model *m = &fz.m;

	say("  model traffic_stats:");
	for (int i = 0; i < m->nstat; i++)
		say(" [%s %s: %llu pkt/%llu B]", ref_stat_name(m->stat[i].k.reason),
		    dir_str(m->stat[i].k.direction), (unsigned long long)m->stat[i].c.packets,
		    (unsigned long long)m->stat[i].c.bytes);
	say("\n  model traffic_counters_ip:");
	for (int i = 0; i < m->nip; i++)
		say(" [v%u %s %s: %llu pkt/%llu B]", m->ip[i].k.family,
		    addr_str(m->ip[i].k.family, m->ip[i].k.addr, a, sizeof(a)),
		    dir_str(m->ip[i].k.direction), (unsigned long long)m->ip[i].c.packets,
		    (unsigned long long)m->ip[i].c.bytes);
	say("\n  model traffic_counters_flow:");
	for (int i = 0; i < m->nflow; i++)
		say(" [v%u proto %u %s:%u > %s:%u %s: %llu pkt/%llu B tcp_flags 0x%02x]",
		    m->flow[i].k.family, m->flow[i].k.proto,
		    addr_str(m->flow[i].k.family, m->flow[i].k.src, a, sizeof(a)),
		    m->flow[i].k.sport,
		    addr_str(m->flow[i].k.family, m->flow[i].k.dst, b, sizeof(b)),
		    m->flow[i].k.dport, dir_str(m->flow[i].k.direction),
		    (unsigned long long)m->flow[i].c.packets,
		    (unsigned long long)m->flow[i].c.bytes, m->flow[i].tcp_flags);
	say("\n  model traffic_control: dropped %llu pkt/%llu B flow_inserts %llu\n",
	    (unsigned long long)m->dropped_packets, (unsigned long long)m->dropped_bytes,
	    (unsigned long long)m->flow_inserts);
}

/* Prints the report with the scenario and every frame, and aborts. */
__attribute__((noreturn)) static void fail(const struct scenario *s, const char *what)
{
	fprintf(stderr,
		"\nFUZZ MISMATCH: %s\n  scenario: count-by %u, %s IP map (%u free), vlan_present "
		"%d, gso_segs %u gso_size %u, %d frame(s)\n",
		what, s->count_by, s->tight ? "tight" : "roomy", s->free_slots, s->vlan,
		s->gso_segs, s->gso_size, s->nframes);
	for (int i = 0; i < s->nframes; i++) {
		fprintf(stderr, "  frame %d (%zu bytes): ", i, s->f[i].len);
		for (size_t j = 0; j < s->f[i].len; j++)
			fprintf(stderr, "%02x", s->f[i].b[j]);
		fputc('\n', stderr);
	}
	fprintf(stderr, "%s", report);
	summary();
	abort();
}

static struct counters *model_stat(uint8_t reason, uint8_t dir)
{
	struct model *m = &fz.m;

	for (int i = 0; i < m->nstat; i++)
		if (m->stat[i].k.reason == reason && m->stat[i].k.direction == dir)
			return &m->stat[i].c;
	m->stat[m->nstat].k =
		(struct stat_key){.ifindex = fz.ifindex, .direction = dir, .reason = reason};
	m->stat[m->nstat].c = (struct counters){0};
	return &m->stat[m->nstat++].c;
}

static void add(struct counters *c, const struct counters *a)
{
	c->packets += a->packets;
	c->bytes += a->bytes;
}

/* The IP key: --count-by src, dst, or the remote peer (src in, dst out). */
static void ip_key_of(const struct ref_verdict *v, uint8_t dir, uint8_t count_by, struct ip_key *k)
{
	bool src = count_by == TFC_COUNT_BY_SRC ||
		   (count_by == TFC_COUNT_BY_DEFAULT && dir == TFC_DIR_INGRESS);

	memset(k, 0, sizeof(*k));
	k->ifindex = fz.ifindex;
	k->family = v->family;
	k->direction = dir;
	memcpy(k->addr, src ? v->src : v->dst, sizeof(k->addr));
}

/* counting.md C9: a new address finds no room once the map holds ip_entries keys. */
static void model_ip(const struct inst *in, const struct ref_verdict *v, uint8_t dir,
		     const struct counters *a)
{
	struct model *m = &fz.m;
	struct ip_key k;

	ip_key_of(v, dir, in->count_by, &k);
	for (int i = 0; i < m->nip; i++)
		if (!memcmp(&m->ip[i].k, &k, sizeof(k)))
			return add(&m->ip[i].c, a);
	if ((uint32_t)m->nip + in->fillers >= in->ip_entries) {
		m->dropped_packets += a->packets;
		m->dropped_bytes += a->bytes;
		fz.full++;
		return add(model_stat(TFC_STAT_IP_MAP_FULL, dir), a);
	}
	m->ip[m->nip].k = k;
	m->ip[m->nip++].c = *a;
}

static void model_flow(const struct ref_verdict *v, uint8_t dir, const struct counters *a)
{
	struct model *m = &fz.m;
	struct flow_key k = {
		.ifindex = fz.ifindex,
		.sport = v->sport,
		.dport = v->dport,
		.proto = v->proto,
		.family = v->family,
		.direction = dir,
	};

	memcpy(k.src, v->src, sizeof(k.src));
	memcpy(k.dst, v->dst, sizeof(k.dst));
	for (int i = 0; i < m->nflow; i++)
		if (!memcmp(&m->flow[i].k, &k, sizeof(k))) {
			m->flow[i].tcp_flags |= v->tcp_flags;
			return add(&m->flow[i].c, a);
		}
	m->flow[m->nflow].k = k;
	m->flow[m->nflow].c = *a;
	m->flow[m->nflow++].tcp_flags = v->tcp_flags;
	m->flow_inserts++;
}

/* What one run adds: a remark, the IP entry (or ip_map_full), the flow; or a reason. */
static void model_run(const struct inst *in, const struct ref_verdict *v, uint8_t dir,
		      const struct counters *a)
{
	if (!v->counted) {
		fz.uncounted++;
		return add(model_stat(v->reason, dir), a);
	}
	fz.counted++;
	if (v->remark != REF_NO_REMARK)
		add(model_stat(v->remark, dir), a);
	model_ip(in, v, dir, a);
	model_flow(v, dir, a);
}

static bool same_verdict(const struct ref_verdict *v, const struct native_pkt *n)
{
	if (!v->counted)
		return n->reason == v->reason && n->hdr_len == v->hdr_len;
	return n->reason < 0 &&
	       n->note == (v->remark == REF_NO_REMARK ? TFC_STAT_MAX : v->remark) &&
	       n->family == v->family && n->proto == v->proto && n->tcp_flags == v->tcp_flags &&
	       n->sport == v->sport && n->dport == v->dport && n->hdr_len == v->hdr_len &&
	       !memcmp(n->src, v->src, sizeof(n->src)) && !memcmp(n->dst, v->dst, sizeof(n->dst));
}

/*
 * parse.h compiled natively must agree with the reference, tag offloaded or
 * not. The frame is copied as a driver places it (NET_IP_ALIGN: the IP
 * header 4-byte aligned), since the native struct reads assume that.
 */
static void native_check(const struct scenario *s, const uint8_t *b, size_t len)
{
	static uint64_t aligned[(FZ_MAX_INPUT + 8) / 8];
	uint8_t *copy = (uint8_t *)aligned + 2;

	memcpy(copy, b, len);
	for (unsigned int tags = 0; tags <= (s->vlan ? 1U : 0U); tags++) {
		struct ref_verdict v;
		struct native_pkt n;
		char want[256];

		ref_parse(copy, len, tags, &v);
		native_parse(copy, len, tags, &n);
		fz.native_tagged += tags;
		if (same_verdict(&v, &n))
			continue;
		ref_describe(&v, want, sizeof(want));
		say("  native parse.h (%u offloaded tag(s), %zu B): reason %d note %u v%u proto %u "
		    "ports %u > %u tcp_flags 0x%02x hdr_len %u\n  reference: %s, hdr_len %u\n",
		    tags, len, n.reason, n.note, n.family, n.proto, n.sport, n.dport, n.tcp_flags,
		    n.hdr_len, want, v.hdr_len);
		fail(s, "the natively compiled parse.h differs from the reference");
	}
}

/*
 * openspec/specs/counting.md C5: at tc a skb of gso_segs > 1 stands for that
 * many wire packets, each repeating the headers. The test run cannot set
 * vlan_present, so no offloaded tag reaches the kernel here (see
 * native_check for the tag limit).
 */
static struct counters amount_of(const struct scenario *s, enum fz_prog p, size_t len,
				 const struct ref_verdict *v)
{
	struct counters a = {.bytes = len, .packets = 1};

	if (progs[p].skb && s->gso_segs > 1) {
		a.packets = s->gso_segs;
		a.bytes += (uint64_t)(s->gso_segs - 1) * v->hdr_len;
	}
	return a;
}

/* Runs one frame through one program and adds what the reference expects to the model. */
static void run_one(const struct inst *in, const struct scenario *s, enum fz_prog p,
		    const uint8_t *b, size_t len)
{
	struct __sk_buff ctx = {.gso_segs = s->gso_segs, .gso_size = s->gso_size};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = b, .data_size_in = (uint32_t)len,
		    .repeat = 1);
	size_t view = len;
	struct ref_verdict v;
	struct counters a;
	int rc, err;

	if (progs[p].skb) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	/*
	 * XDP multi-buffer: the parser sees the first buffer; tfc_xdp counts the
	 * whole frame, tfc_xdp_legacy its first buffer (the test run gives it
	 * frags, a device would not: a kernel with frags attaches tfc_xdp).
	 */
	if (!progs[p].skb && len > fz.xdp_linear_max)
		view = fz.xdp_linear_max;
	ref_parse(b, view, 0, &v);
	rc = bpf_prog_test_run_opts(in->prog_fd[p], &opts);
	err = errno;
	fz.runs++;
	if (rc) {
		/* Frames the test run only takes linear, and short IP headers at tc. */
		if (err == EINVAL && progs[p].skb && len > fz.skb_max) {
			fz.refused_long++;
			return;
		}
		if (progs[p].skb && err == EINVAL && !v.counted &&
		    (v.reason == TFC_STAT_IPV4_TRUNCATED || v.reason == TFC_STAT_IPV6_TRUNCATED)) {
			fz.refused++;
			return;
		}
		say("  BPF_PROG_TEST_RUN of %s on a %zu-byte frame: %s\n", progs[p].name, len,
		    strerror(err));
		fail(s, "the kernel refused to run a frame");
	}
	if ((int)opts.retval != progs[p].verdict) {
		say("  %s verdict: expected %d, got %d\n", progs[p].name, progs[p].verdict,
		    (int)opts.retval);
		fail(s, "the program changed the verdict");
	}
	fz.frags += view < len;
	fz.gso_runs += progs[p].skb && s->gso_segs > 1;
	a = amount_of(s, p, p == FZ_XDP_LEGACY ? view : len, &v);
	model_run(in, &v, progs[p].direction, &a);
}

/*
 * After deleting IP entries, as userspace must: the programs' memo of a full
 * map is dropped, so the next new address gets an entry as the model says.
 */
static void announce_frees(const struct inst *in)
{
#if TFC_ABI_VERSION >= 3
	__atomic_fetch_add(&in->ctl->ip_map_frees, 1, __ATOMIC_SEQ_CST);
#else
	(void)in;
#endif
}

/* Compares traffic_stats with the model and deletes what it found. */
static bool stats_match(const struct inst *in)
{
	struct stat_key k, found[FZ_MODEL_MAX * 2];
	int n = 0, matched = 0;
	bool ok = true;

	while (!bpf_map_get_next_key(in->stats_fd, n ? &found[n - 1] : NULL, &k) &&
	       n < FZ_MODEL_MAX * 2) {
		struct counters c, *want = NULL;

		found[n++] = k;
		percpu_get(in->stats_fd, &k, &c);
		for (int i = 0; i < fz.m.nstat && k.ifindex == fz.ifindex; i++)
			if (fz.m.stat[i].k.reason == k.reason &&
			    fz.m.stat[i].k.direction == k.direction)
				want = &fz.m.stat[i].c;
		if (!want || want->packets != c.packets || want->bytes != c.bytes) {
			say("  traffic_stats %s %s: %llu pkt/%llu B, model %llu pkt/%llu B\n",
			    ref_stat_name(k.reason), dir_str(k.direction),
			    (unsigned long long)c.packets, (unsigned long long)c.bytes,
			    want ? (unsigned long long)want->packets : 0ULL,
			    want ? (unsigned long long)want->bytes : 0ULL);
			ok = false;
		} else {
			matched++;
		}
	}
	if (matched != fz.m.nstat) {
		say("  traffic_stats: %d of the model's %d entries found\n", matched, fz.m.nstat);
		ok = false;
	}
	for (int i = 0; i < n; i++)
		bpf_map_delete_elem(in->stats_fd, &found[i]);
	return ok;
}

static bool ip_match(const struct inst *in)
{
	struct ip_key k, found[FZ_MAP_ENTRIES];
	char a[INET6_ADDRSTRLEN];
	int n = 0, matched = 0;
	bool ok = true;
	const struct ip_key *prev = NULL;

	while (!bpf_map_get_next_key(in->ip_fd, prev, &k) && n < FZ_MAP_ENTRIES) {
		struct counters c, *want = NULL;

		found[n] = k;
		prev = &found[n++];
		if (is_filler(&k))
			continue;
		percpu_get(in->ip_fd, &k, &c);
		for (int i = 0; i < fz.m.nip; i++)
			if (!memcmp(&fz.m.ip[i].k, &k, sizeof(k)))
				want = &fz.m.ip[i].c;
		if (!want || want->packets != c.packets || want->bytes != c.bytes) {
			say("  traffic_counters_ip v%u %s %s if %u: %llu pkt/%llu B, model %llu "
			    "pkt/%llu B\n",
			    k.family, addr_str(k.family, k.addr, a, sizeof(a)),
			    dir_str(k.direction), k.ifindex, (unsigned long long)c.packets,
			    (unsigned long long)c.bytes,
			    want ? (unsigned long long)want->packets : 0ULL,
			    want ? (unsigned long long)want->bytes : 0ULL);
			ok = false;
		} else {
			matched++;
		}
	}
	if (matched != fz.m.nip) {
		say("  traffic_counters_ip: %d of the model's %d entries found\n", matched,
		    fz.m.nip);
		ok = false;
	}
	for (int i = 0; i < n; i++)
		if (!is_filler(&found[i]))
			bpf_map_delete_elem(in->ip_fd, &found[i]);
	announce_frees(in);
	return ok;
}

static bool flow_match(const struct inst *in, uint64_t t1)
{
	struct flow_key k, found[FZ_MODEL_MAX * 2];
	int n = 0, matched = 0;
	bool ok = true;

	while (!bpf_map_get_next_key(in->flow_fd, n ? &found[n - 1] : NULL, &k) &&
	       n < FZ_MODEL_MAX * 2) {
		struct flow_value fv = {0};
		int want = -1;

		found[n++] = k;
		bpf_map_lookup_elem(in->flow_fd, &k, &fv);
		for (int i = 0; i < fz.m.nflow; i++)
			if (!memcmp(&fz.m.flow[i].k, &k, sizeof(k)))
				want = i;
		if (want < 0 || fz.m.flow[want].c.packets != fv.packets ||
		    fz.m.flow[want].c.bytes != fv.bytes ||
		    fz.m.flow[want].tcp_flags != fv.tcp_flags || fv.first_seen_ns < fz.t0 ||
		    fv.first_seen_ns > fv.last_seen_ns || fv.last_seen_ns > t1) {
			say("  traffic_counters_flow proto %u ports %u > %u %s: %llu pkt/%llu B "
			    "tcp_flags 0x%02x seen %llu..%llu (input ran %llu..%llu)%s\n",
			    k.proto, k.sport, k.dport, dir_str(k.direction),
			    (unsigned long long)fv.packets, (unsigned long long)fv.bytes,
			    fv.tcp_flags, (unsigned long long)fv.first_seen_ns,
			    (unsigned long long)fv.last_seen_ns, (unsigned long long)fz.t0,
			    (unsigned long long)t1, want < 0 ? ", not in the model" : "");
			ok = false;
		} else {
			matched++;
		}
	}
	if (matched != fz.m.nflow) {
		say("  traffic_counters_flow: %d of the model's %d entries found\n", matched,
		    fz.m.nflow);
		ok = false;
	}
	for (int i = 0; i < n; i++)
		bpf_map_delete_elem(in->flow_fd, &found[i]);
	return ok;
}

/* The control counters must equal the model's; then they are reset for the next input. */
static bool control_match(const struct inst *in)
{
	volatile struct tfc_control *c = in->ctl;
	bool ok = c->flags == TFC_FLAG_FLOW_COUNTERS &&
		  c->dropped_packets == fz.m.dropped_packets &&
		  c->dropped_bytes == fz.m.dropped_bytes && c->flow_inserts == fz.m.flow_inserts &&
		  !c->flow_insert_failures;

	if (!ok)
		say("  traffic_control: flags 0x%x dropped %llu pkt/%llu B flow_inserts %llu "
		    "failures %llu; model dropped %llu pkt/%llu B flow_inserts %llu\n",
		    c->flags, (unsigned long long)c->dropped_packets,
		    (unsigned long long)c->dropped_bytes, (unsigned long long)c->flow_inserts,
		    (unsigned long long)c->flow_insert_failures,
		    (unsigned long long)fz.m.dropped_packets,
		    (unsigned long long)fz.m.dropped_bytes, (unsigned long long)fz.m.flow_inserts);
	c->dropped_packets = 0;
	c->dropped_bytes = 0;
	c->flow_inserts = 0;
	c->flow_insert_failures = 0;
	return ok;
}

/* Checks every map against the model; a mismatch dumps them first, then fails. */
static void check_maps(const struct inst *in, const struct scenario *s)
{
	uint64_t t1 = now_ns();
	bool ok;

	report_len = 0;
	report[0] = '\0';
	dump_model();
	dump_maps(in);
	ok = stats_match(in);
	ok = ip_match(in) && ok;
	ok = flow_match(in, t1) && ok;
	ok = control_match(in) && ok;
	if (!ok)
		fail(s, "the maps differ from the model");
}

/* Puts filler keys into the tight IP map until `free_slots` entries are left. */
static int set_fillers(struct inst *in, uint32_t free_slots)
{
	uint32_t want = in->ip_entries - free_slots;

	while (in->fillers != want) {
		struct ip_key k = {.family = 4, .direction = TFC_DIR_INGRESS};
		struct counters *c = fz.percpu;

		if (in->fillers < want) {
			k.ifindex = FILLER_IFINDEX + in->fillers;
			memset(c, 0, sizeof(*c) * (size_t)fz.ncpus);
			if (bpf_map_update_elem(in->ip_fd, &k, c, BPF_NOEXIST))
				return -errno;
			in->fillers++;
		} else {
			k.ifindex = FILLER_IFINDEX + in->fillers - 1;
			if (bpf_map_delete_elem(in->ip_fd, &k))
				return -errno;
			in->fillers--;
			announce_frees(in);
		}
	}
	return 0;
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Splits an input into its scenario and frames (format in scenario.h); false if no frame. */
static bool decode(const uint8_t *data, size_t size, struct scenario *s)
{
	size_t at = FZ_HDR_BYTES;
	int want;

	if (size < FZ_HDR_BYTES + FZ_LEN_BYTES)
		return false;
	memset(s, 0, sizeof(*s));
	s->count_by = (data[0] & FZ_B0_COUNT_BY_MASK) % 3;
	s->tight = data[0] & FZ_B0_TIGHT;
	s->vlan = data[0] & FZ_B0_VLAN;
	want = 1 + ((data[0] >> FZ_B0_FRAMES_SHIFT) & FZ_B0_FRAMES_MASK);
	s->free_slots = s->tight ? data[1] % (FZ_TIGHT_ENTRIES + 1) : FZ_MAP_ENTRIES;
	s->gso_segs = data[2];
	s->gso_size = be16(data + 3);
	while (s->nframes < want && size - at >= FZ_LEN_BYTES) {
		size_t len = be16(data + at);

		at += FZ_LEN_BYTES;
		if (len > size - at)
			len = size - at;
		if (len > FZ_MAX_INPUT)
			len = FZ_MAX_INPUT;
		s->f[s->nframes].b = data + at;
		s->f[s->nframes++].len = len;
		at += len;
	}
	return s->nframes > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario s;
	struct inst *in;
	int ran = 0;

	if (!decode(data, size, &s))
		return -1;
	in = &fz.inst[s.count_by][s.tight];
	if (s.tight && set_fillers(in, s.free_slots)) {
		fprintf(stderr, "fuzz_bpf: cannot set up the tight IP map: %s\n", strerror(errno));
		abort();
	}
	memset(&fz.m, 0, sizeof(fz.m));
	fz.inputs++;
	fz.t0 = now_ns();
	for (int i = 0; i < s.nframes; i++) {
		const uint8_t *b = s.f[i].b;
		size_t len = s.f[i].len;

		if (len < ETH_HLEN_) {
			fz.skipped_short++; /* BPF_PROG_TEST_RUN refuses frames under ETH_HLEN */
			continue;
		}
		fz.frames++;
		ran++;
		report_len = 0;
		report[0] = '\0';
		native_check(&s, b, len);
		for (int p = 0; p < FZ_PROGS; p++)
			run_one(in, &s, (enum fz_prog)p, b, len);
	}
	check_maps(in, &s);
	return ran ? 0 : -1;
}

/* The largest frame the skb test run takes, by bisection over a non-IP frame. */
static uint32_t skb_limit(const struct inst *in)
{
	static uint8_t frame[16384]; /* zeros: EtherType 0, non_ip */
	uint32_t lo = ETH_HLEN_, hi = sizeof(frame);

	while (lo + 1 < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = mid,
			    .repeat = 1);

		if (bpf_prog_test_run_opts(in->prog_fd[FZ_TC_INGRESS], &opts))
			hi = mid;
		else
			lo = mid;
	}
	drain(in->stats_fd);
	return lo;
}

/* The first buffer of a large XDP test run: what tfc_xdp_legacy counts of it. */
static uint32_t xdp_linear(const struct inst *in)
{
	static uint8_t frame[16384]; /* zeros: EtherType 0, non_ip */
	struct stat_key k = {
		.ifindex = fz.ifindex, .direction = TFC_DIR_INGRESS, .reason = TFC_STAT_NON_IP};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);
	struct counters c = {0};

	if (!bpf_prog_test_run_opts(in->prog_fd[FZ_XDP_LEGACY], &opts))
		percpu_get(in->stats_fd, &k, &c);
	drain(in->stats_fd);
	return (uint32_t)c.bytes;
}

/* Does the skb test run take vlan_present from ctx_in? (6.18: no, EINVAL.) */
static bool vlan_ctx_taken(const struct inst *in)
{
	static uint8_t frame[64];
	struct __sk_buff ctx = {.vlan_present = 1, .vlan_tci = 5};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	bool taken = !bpf_prog_test_run_opts(in->prog_fd[FZ_TC_INGRESS], &opts);

	drain(in->stats_fd);
	return taken;
}

static int load_one(struct inst *in, uint8_t count_by, bool tight)
{
	struct tfc_control init = {.flags = TFC_FLAG_FLOW_COUNTERS};
	struct traffic_counter_bpf *s;
	uint32_t zero = 0;
	void *ctl;
	int rc;

	s = traffic_counter_bpf__open();
	if (!s)
		return -errno;
	in->skel = s;
	in->count_by = count_by;
	in->ip_entries = tight ? FZ_TIGHT_ENTRIES : FZ_MAP_ENTRIES;
	s->rodata->cfg_count_by = count_by;
	/*
	 * Small maps: a run leaves them empty, and get_next_key on an empty hash
	 * walks every bucket (at the default 65,536 that was 40% of the time).
	 */
	rc = bpf_map__set_max_entries(s->maps.traffic_counters_ip, in->ip_entries);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.traffic_counters_flow, FZ_MAP_ENTRIES);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.traffic_stats, FZ_MAP_ENTRIES);
	if (!rc)
		rc = traffic_counter_bpf__load(s);
	if (rc)
		return rc;
	in->prog_fd[FZ_XDP] = bpf_program__fd(s->progs.TFC_PROG_XDP);
	in->prog_fd[FZ_XDP_LEGACY] = bpf_program__fd(s->progs.TFC_PROG_XDP_LEGACY);
	in->prog_fd[FZ_TC_INGRESS] = bpf_program__fd(s->progs.TFC_PROG_TC_INGRESS);
	in->prog_fd[FZ_TC_EGRESS] = bpf_program__fd(s->progs.TFC_PROG_TC_EGRESS);
	in->ip_fd = bpf_map__fd(s->maps.traffic_counters_ip);
	in->flow_fd = bpf_map__fd(s->maps.traffic_counters_flow);
	in->stats_fd = bpf_map__fd(s->maps.traffic_stats);
	/* Flow counting on, as userspace turns it on: through the control map. */
	if (bpf_map_update_elem(bpf_map__fd(s->maps.traffic_control), &zero, &init, BPF_ANY))
		return -errno;
	ctl = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		   bpf_map__fd(s->maps.traffic_control), 0);
	if (ctl == MAP_FAILED)
		return -errno;
	in->ctl = ctl;
	drain(in->stats_fd);
	drain(in->ip_fd);
	drain(in->flow_fd);
	return 0;
}

static int load(void)
{
	int rc;

	libbpf_set_print(libbpf_quiet);
	fz.ncpus = libbpf_num_possible_cpus();
	if (fz.ncpus <= 0)
		return fz.ncpus ? fz.ncpus : -EINVAL;
	fz.percpu = calloc((size_t)fz.ncpus, sizeof(*fz.percpu));
	if (!fz.percpu)
		return -ENOMEM;
	for (uint8_t by = 0; by < 3; by++)
		for (int tight = 0; tight < 2; tight++) {
			rc = load_one(&fz.inst[by][tight], by, tight);
			if (rc)
				return rc;
		}
	rc = (int)if_nametoindex("lo");
	/* BPF_PROG_TEST_RUN without an ifindex runs on this namespace's loopback. */
	fz.ifindex = rc > 0 ? (uint32_t)rc : 1;
	fz.skb_max = skb_limit(&fz.inst[0][0]);
	fz.xdp_linear_max = xdp_linear(&fz.inst[0][0]);
	if (fz.skb_max <= ETH_HLEN_ || fz.xdp_linear_max <= ETH_HLEN_)
		return -EINVAL;
	fz.vlan_ctx = vlan_ctx_taken(&fz.inst[0][0]);
	fprintf(stderr,
		"fuzz_bpf: test runs take skb frames up to %u B and linear XDP frames up to %u "
		"B (larger ones come as multi-buffer); vlan_present in ctx_in: %s\n",
		fz.skb_max, fz.xdp_linear_max,
		fz.vlan_ctx ? "taken (not yet used here)" : "refused, checked natively only");
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int rc;

	(void)argc;
	(void)argv;
	if (geteuid() != 0) {
		fprintf(stderr, "fuzz_bpf: SKIP: not root; BPF_PROG_TEST_RUN needs root "
				"(CAP_BPF + CAP_NET_ADMIN)\n");
		exit(SKIP_EXIT);
	}
	rc = load();
	if (rc == -EPERM || rc == -ENOSYS) {
		fprintf(stderr, "fuzz_bpf: SKIP: BPF unavailable here: %s\n", strerror(-rc));
		exit(SKIP_EXIT);
	}
	if (rc) {
		fprintf(stderr, "fuzz_bpf: cannot load the BPF object: %s\n", strerror(-rc));
		exit(1);
	}
	atexit(summary);
	return 0;
}
