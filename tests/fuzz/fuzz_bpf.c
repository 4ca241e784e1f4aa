// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: every input is one Ethernet frame, run through the four
 * programs (tc_xdp, tc_xdp_legacy, tc_ingress, tc_egress) with
 * BPF_PROG_TEST_RUN and flow counting on. After each run the maps must hold
 * exactly what ref_parser.c predicts: the verdict is pass; one packet of the
 * frame's length under one IP key (with the flow key, and at most one remark
 * statistic), or under one exclusive statistic; nothing else anywhere.
 *
 * Maps start empty and each run deletes only the keys it expected, then
 * checks each map is empty again (one get_next_key), so a run costs a few
 * syscalls. On a mismatch every map is dumped, the frame printed in hex,
 * and the process aborts so that libFuzzer saves the input.
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

#include "ref_parser.h"
#include "traffic_counter.skel.h"

#define SKIP_EXIT 4 /* libFuzzer itself exits 77 on a crash, 70 on a timeout */
/* Under what both test-run flavours accept as one linear buffer (about 3.5 KiB). */
#define MAX_FRAME      3072
#define XDP_PASS_      2
#define TC_UNSPEC      (-1)
#define FZ_MAP_ENTRIES 256

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum fz_prog { FZ_XDP, FZ_XDP_LEGACY, FZ_TC_INGRESS, FZ_TC_EGRESS, FZ_PROGS };

static const struct {
	const char *name;
	uint8_t direction;
	int verdict;
	bool skb;
} progs[FZ_PROGS] = {
	[FZ_XDP] = {"tc_xdp", TC_DIR_INGRESS, XDP_PASS_, false},
	[FZ_XDP_LEGACY] = {"tc_xdp_legacy", TC_DIR_INGRESS, XDP_PASS_, false},
	[FZ_TC_INGRESS] = {"tc_ingress", TC_DIR_INGRESS, TC_UNSPEC, true},
	[FZ_TC_EGRESS] = {"tc_egress", TC_DIR_EGRESS, TC_UNSPEC, true},
};

static struct {
	struct traffic_counter_bpf *skel;
	int prog_fd[FZ_PROGS];
	int ip_fd, flow_fd, stats_fd;
	volatile struct tc_control *ctl; /* the mmapped control entry */
	int ncpus;
	struct counters *percpu;
	uint32_t ifindex;
	uint64_t flow_inserts; /* what ctl->flow_inserts must read */
	/* tallies for the closing line */
	unsigned long long inputs, runs, counted, uncounted, refused, skipped_short, skipped_long;
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
		"fuzz_bpf: %llu frames through %d programs = %llu program runs: %llu counted by "
		"address, %llu under a reason, %llu tc runs refused by the kernel for a short IP "
		"header; skipped %llu inputs under 14 bytes, %llu over %d bytes\n",
		fz.inputs, FZ_PROGS, fz.runs, fz.counted, fz.uncounted, fz.refused,
		fz.skipped_short, fz.skipped_long, MAX_FRAME);
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
	return d == TC_DIR_INGRESS ? "ingress" : d == TC_DIR_EGRESS ? "egress" : "dir?";
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

static bool map_empty(int fd)
{
	uint8_t key[64];

	return bpf_map_get_next_key(fd, NULL, key) && errno == ENOENT;
}

static void drain(int fd)
{
	uint8_t key[64];

	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			break;
}

/* Appends every entry of every map, and the control counters, to the report. */
static void dump_maps(void)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct stat_key sk, *sprev = NULL;
	struct ip_key ik, *iprev = NULL;
	struct flow_key fk, *fprev = NULL;
	struct flow_value fv;
	struct counters c;
	int n = 0;

	say("  observed traffic_stats:");
	while (!bpf_map_get_next_key(fz.stats_fd, sprev, &sk) && n++ < 64) {
		percpu_get(fz.stats_fd, &sk, &c);
		say(" [%s if %u %s: %llu pkt/%llu B]", ref_stat_name(sk.reason), sk.ifindex,
		    dir_str(sk.direction), (unsigned long long)c.packets,
		    (unsigned long long)c.bytes);
		sprev = &sk;
	}
	say("%s\n  observed traffic_counters_ip:", n ? "" : " (empty)");
	n = 0;
	while (!bpf_map_get_next_key(fz.ip_fd, iprev, &ik) && n++ < 64) {
		percpu_get(fz.ip_fd, &ik, &c);
		say(" [v%u %s if %u %s pad %u,%u: %llu pkt/%llu B]", ik.family,
		    addr_str(ik.family, ik.addr, a, sizeof(a)), ik.ifindex, dir_str(ik.direction),
		    ik.pad[0], ik.pad[1], (unsigned long long)c.packets,
		    (unsigned long long)c.bytes);
		iprev = &ik;
	}
	say("%s\n  observed traffic_counters_flow:", n ? "" : " (empty)");
	n = 0;
	while (!bpf_map_get_next_key(fz.flow_fd, fprev, &fk) && n++ < 64) {
		memset(&fv, 0, sizeof(fv));
		bpf_map_lookup_elem(fz.flow_fd, &fk, &fv);
		say(" [v%u proto %u %s:%u > %s:%u if %u %s: %llu pkt/%llu B tcp_flags 0x%02x]",
		    fk.family, fk.proto, addr_str(fk.family, fk.src, a, sizeof(a)), fk.sport,
		    addr_str(fk.family, fk.dst, b, sizeof(b)), fk.dport, fk.ifindex,
		    dir_str(fk.direction), (unsigned long long)fv.packets,
		    (unsigned long long)fv.bytes, fv.tcp_flags);
		fprev = &fk;
	}
	say("%s\n  observed traffic_control: flags 0x%x dropped %llu pkt/%llu B flow_inserts %llu "
	    "(before this run %llu) flow_insert_failures %llu\n",
	    n ? "" : " (empty)", fz.ctl->flags, (unsigned long long)fz.ctl->dropped_packets,
	    (unsigned long long)fz.ctl->dropped_bytes, (unsigned long long)fz.ctl->flow_inserts,
	    (unsigned long long)fz.flow_inserts, (unsigned long long)fz.ctl->flow_insert_failures);
}

static void expected_keys(enum fz_prog p, const struct ref_verdict *v, struct ip_key *ik,
			  struct flow_key *fk)
{
	uint8_t dir = progs[p].direction;

	memset(ik, 0, sizeof(*ik));
	ik->ifindex = fz.ifindex;
	ik->family = v->family;
	ik->direction = dir;
	/* Default --count-by: the remote peer, source at ingress, destination at egress. */
	memcpy(ik->addr, dir == TC_DIR_INGRESS ? v->src : v->dst, sizeof(ik->addr));

	memset(fk, 0, sizeof(*fk));
	fk->ifindex = fz.ifindex;
	memcpy(fk->src, v->src, sizeof(fk->src));
	memcpy(fk->dst, v->dst, sizeof(fk->dst));
	fk->sport = v->sport;
	fk->dport = v->dport;
	fk->proto = v->proto;
	fk->family = v->family;
	fk->direction = dir;
}

/* Prints the report for one failed run, with the frame, and aborts. */
__attribute__((noreturn)) static void fail(enum fz_prog p, const uint8_t *frame, size_t len,
					   const struct ref_verdict *v, const char *what)
{
	char want[256];
	char a[INET6_ADDRSTRLEN];

	ref_describe(v, want, sizeof(want));
	fprintf(stderr, "\nFUZZ MISMATCH in %s (%s): %s\n  frame (%zu bytes): ", progs[p].name,
		dir_str(progs[p].direction), what, len);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%02x", frame[i]);
	fprintf(stderr, "\n  expected: %s, %llu B", want, (unsigned long long)len);
	if (v->counted)
		fprintf(stderr, ", IP key v%u %s %s if %u", v->family,
			addr_str(v->family, progs[p].direction == TC_DIR_INGRESS ? v->src : v->dst,
				 a, sizeof(a)),
			dir_str(progs[p].direction), fz.ifindex);
	fprintf(stderr, "\n%s", report);
	summary();
	abort();
}

/* The remark or reason statistic: exactly one packet of `len` bytes. */
static bool stat_ok(enum fz_prog p, uint8_t reason, size_t len, struct stat_key *k)
{
	struct counters c;

	*k = (struct stat_key){
		.ifindex = fz.ifindex, .direction = progs[p].direction, .reason = reason};
	if (!percpu_get(fz.stats_fd, k, &c)) {
		say("  traffic_stats has no %s entry for if %u %s\n", ref_stat_name(reason),
		    fz.ifindex, dir_str(progs[p].direction));
		return false;
	}
	if (c.packets != 1 || c.bytes != len) {
		say("  %s: expected 1 pkt/%zu B, got %llu pkt/%llu B\n", ref_stat_name(reason), len,
		    (unsigned long long)c.packets, (unsigned long long)c.bytes);
		return false;
	}
	return true;
}

static bool ip_ok(const struct ip_key *k, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	struct counters c;

	if (!percpu_get(fz.ip_fd, k, &c)) {
		say("  traffic_counters_ip has no entry v%u %s %s if %u\n", k->family,
		    addr_str(k->family, k->addr, a, sizeof(a)), dir_str(k->direction), k->ifindex);
		return false;
	}
	if (c.packets != 1 || c.bytes != len) {
		say("  IP entry: expected 1 pkt/%zu B, got %llu pkt/%llu B\n", len,
		    (unsigned long long)c.packets, (unsigned long long)c.bytes);
		return false;
	}
	return true;
}

static bool flow_ok(const struct flow_key *k, const struct ref_verdict *v, size_t len, uint64_t t0,
		    uint64_t t1)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct flow_value fv;

	if (bpf_map_lookup_elem(fz.flow_fd, k, &fv)) {
		say("  traffic_counters_flow has no entry v%u proto %u %s:%u > %s:%u %s if %u\n",
		    k->family, k->proto, addr_str(k->family, k->src, a, sizeof(a)), k->sport,
		    addr_str(k->family, k->dst, b, sizeof(b)), k->dport, dir_str(k->direction),
		    k->ifindex);
		return false;
	}
	if (fv.packets != 1 || fv.bytes != len || fv.tcp_flags != v->tcp_flags) {
		say("  flow entry: expected 1 pkt/%zu B tcp_flags 0x%02x, got %llu pkt/%llu B "
		    "tcp_flags 0x%02x\n",
		    len, v->tcp_flags, (unsigned long long)fv.packets, (unsigned long long)fv.bytes,
		    fv.tcp_flags);
		return false;
	}
	if (fv.first_seen_ns < t0 || fv.first_seen_ns > fv.last_seen_ns || fv.last_seen_ns > t1) {
		say("  flow times: expected %llu <= first %llu <= last %llu <= %llu\n",
		    (unsigned long long)t0, (unsigned long long)fv.first_seen_ns,
		    (unsigned long long)fv.last_seen_ns, (unsigned long long)t1);
		return false;
	}
	return true;
}

static bool control_ok(uint64_t inserts)
{
	if (fz.ctl->flags == TC_FLAG_FLOW_COUNTERS && !fz.ctl->dropped_packets &&
	    !fz.ctl->dropped_bytes && fz.ctl->flow_inserts == inserts &&
	    !fz.ctl->flow_insert_failures)
		return true;
	say("  traffic_control changed beyond one flow insert\n");
	return false;
}

static bool maps_empty(const char *when)
{
	bool s = map_empty(fz.stats_fd), i = map_empty(fz.ip_fd), f = map_empty(fz.flow_fd);

	if (s && i && f)
		return true;
	say("  entries %s:%s%s%s\n", when, s ? "" : " traffic_stats",
	    i ? "" : " traffic_counters_ip", f ? "" : " traffic_counters_flow");
	return false;
}

/* The keys one verdict puts into the maps, to check and then delete. */
struct keys {
	struct stat_key stat;
	bool has_stat;
	struct ip_key ip;
	struct flow_key flow;
};

/* Read-only: do the maps hold what v says (and the run took t0..t1)? */
static bool maps_match(enum fz_prog p, size_t len, const struct ref_verdict *v, uint64_t t0,
		       uint64_t t1, struct keys *k)
{
	bool ok = true;

	k->has_stat = !v->counted || v->remark != REF_NO_REMARK;
	if (k->has_stat)
		ok = stat_ok(p, v->counted ? v->remark : v->reason, len, &k->stat);
	if (v->counted) {
		expected_keys(p, v, &k->ip, &k->flow);
		ok = ip_ok(&k->ip, len) && ok;
		ok = flow_ok(&k->flow, v, len, t0, t1) && ok;
	}
	return control_ok(fz.flow_inserts + (v->counted ? 1 : 0)) && ok;
}

/* Runs the frame through one program and checks every map against the verdict. */
static void run_one(enum fz_prog p, const uint8_t *frame, size_t len, const struct ref_verdict *v)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = 1);
	struct keys k;
	uint64_t t0, t1;
	int rc;

	report_len = 0;
	report[0] = '\0';
	t0 = now_ns();
	rc = bpf_prog_test_run_opts(fz.prog_fd[p], &opts);
	t1 = now_ns();
	fz.runs++;
	if (rc) {
		int err = errno;

		/* The skb test run refuses an IPv4/IPv6 EtherType with a short header. */
		if (progs[p].skb && err == EINVAL && !v->counted &&
		    (v->reason == TC_STAT_IPV4_TRUNCATED || v->reason == TC_STAT_IPV6_TRUNCATED)) {
			fz.refused++;
			if (maps_empty("after a refused run") && control_ok(fz.flow_inserts))
				return;
			dump_maps();
			fail(p, frame, len, v, "the refused run changed the maps");
		}
		say("  BPF_PROG_TEST_RUN: %s\n", strerror(err));
		dump_maps();
		fail(p, frame, len, v, "the kernel refused to run the frame");
	}
	if ((int)opts.retval != progs[p].verdict) {
		say("  verdict: expected %d, got %d\n", progs[p].verdict, (int)opts.retval);
		dump_maps();
		fail(p, frame, len, v, "the program changed the verdict");
	}
	if (!maps_match(p, len, v, t0, t1, &k)) {
		dump_maps();
		fail(p, frame, len, v, "the maps differ from the reference");
	}

	/* Everything expected is there: remove it, and nothing may be left. */
	if (k.has_stat)
		bpf_map_delete_elem(fz.stats_fd, &k.stat);
	if (v->counted) {
		bpf_map_delete_elem(fz.ip_fd, &k.ip);
		bpf_map_delete_elem(fz.flow_fd, &k.flow);
		fz.flow_inserts++;
		fz.counted++;
	} else {
		fz.uncounted++;
	}
	if (!maps_empty("besides the expected ones")) {
		dump_maps();
		fail(p, frame, len, v,
		     "a program added more than the reference expects (the expected entries were "
		     "there and are removed: the dump shows the rest)");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ref_verdict v;

	if (size < 14) {
		fz.skipped_short++; /* BPF_PROG_TEST_RUN refuses frames under ETH_HLEN */
		return -1;
	}
	if (size > MAX_FRAME) {
		fz.skipped_long++;
		return -1;
	}
	fz.inputs++;
	ref_parse(data, size, &v);
	for (int p = 0; p < FZ_PROGS; p++)
		run_one((enum fz_prog)p, data, size, &v);
	return 0;
}

static int load(void)
{
	struct traffic_counter_bpf *s;
	uint32_t zero = 0;
	struct tc_control init = {.flags = TC_FLAG_FLOW_COUNTERS};
	void *ctl;
	int rc;

	libbpf_set_print(libbpf_quiet);
	s = traffic_counter_bpf__open();
	if (!s)
		return -errno;
	fz.skel = s;
	/*
	 * Small maps: a run leaves them empty, and get_next_key on an empty hash
	 * walks every bucket (at the default 65,536 that was 40% of the time).
	 * A frame adds at most one entry to each, so nothing can fill them.
	 */
	rc = bpf_map__set_max_entries(s->maps.traffic_counters_ip, FZ_MAP_ENTRIES);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.traffic_counters_flow, FZ_MAP_ENTRIES);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.traffic_stats, FZ_MAP_ENTRIES);
	if (!rc)
		rc = traffic_counter_bpf__load(s);
	if (rc)
		return rc;
	fz.prog_fd[FZ_XDP] = bpf_program__fd(s->progs.tc_xdp);
	fz.prog_fd[FZ_XDP_LEGACY] = bpf_program__fd(s->progs.tc_xdp_legacy);
	fz.prog_fd[FZ_TC_INGRESS] = bpf_program__fd(s->progs.tc_ingress);
	fz.prog_fd[FZ_TC_EGRESS] = bpf_program__fd(s->progs.tc_egress);
	fz.ip_fd = bpf_map__fd(s->maps.traffic_counters_ip);
	fz.flow_fd = bpf_map__fd(s->maps.traffic_counters_flow);
	fz.stats_fd = bpf_map__fd(s->maps.traffic_stats);
	fz.ncpus = libbpf_num_possible_cpus();
	if (fz.ncpus <= 0)
		return fz.ncpus ? fz.ncpus : -EINVAL;
	fz.percpu = calloc((size_t)fz.ncpus, sizeof(*fz.percpu));
	if (!fz.percpu)
		return -ENOMEM;
	/* Flow counting on, as userspace turns it on: through the control map. */
	if (bpf_map_update_elem(bpf_map__fd(s->maps.traffic_control), &zero, &init, BPF_ANY))
		return -errno;
	ctl = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		   bpf_map__fd(s->maps.traffic_control), 0);
	if (ctl == MAP_FAILED)
		return -errno;
	fz.ctl = ctl;
	rc = if_nametoindex("lo");
	/* BPF_PROG_TEST_RUN without a context runs on this namespace's loopback. */
	fz.ifindex = rc > 0 ? (uint32_t)rc : 1;
	drain(fz.stats_fd);
	drain(fz.ip_fd);
	drain(fz.flow_fd);
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
