// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF tests for the cgroup_skb programs (layout 3): the key, the GSO
 * arithmetic, a full map and the verdict, through BPF_PROG_TEST_RUN. The
 * skb test run gives the packet a socket of the running process's cgroup
 * (cgroup v2), so the key is that cgroup's id; --cgroup-depth is tested by
 * moving this process into nested cgroups made for the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "abi/traffic_counter_abi.h"
#include "cgroup_tests.h"
#include "pkt.h"
#include "traffic_counter.skel.h"

#if TFC_ABI_VERSION >= 3

/* The v2 mount point, from mountinfo; "" when there is none. */
static void cg2_mount(char *buf, size_t len)
{
	char line[4096], point[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	buf[0] = '\0';
	if (!f)
		return;
	while (!buf[0] && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		if (sep && !strncmp(sep + 3, "cgroup2 ", 8) &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1)
			snprintf(buf, len, "%s", point);
	}
	fclose(f);
}

/* The v2 cgroup of this process, as a directory path. */
static int own_cgroup(const char *mnt, char *buf, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s%s", mnt, line + 3);
			err = 0;
		}
	fclose(f);
	return err;
}

static uint64_t ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

static int move_to(const char *cg)
{
	char procs[4200];
	FILE *f;
	int ok;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	f = fopen(procs, "we");
	if (!f)
		return -errno;
	ok = fprintf(f, "%d\n", getpid()) > 0;
	ok = !fclose(f) && ok;
	return ok ? 0 : -EIO;
}

struct cg_h {
	struct traffic_counter_bpf *skel;
	int prog[2]; /* ingress, egress */
	int map, control, stats, ncpus;
};

static void cg_close(struct cg_h *h)
{
	traffic_counter_bpf__destroy(h->skel);
}

/* Only the cgroup programs, with the map size, level and depth given. */
static int cg_open(struct cg_h *h, uint32_t map_size, uint32_t level, uint32_t depth)
{
	struct bpf_program *p;

	memset(h, 0, sizeof(*h));
	h->skel = traffic_counter_bpf__open();
	if (!h->skel)
		return -errno;
	for (p = bpf_object__next_program(h->skel->obj, NULL); p;
	     p = bpf_object__next_program(h->skel->obj, p))
		bpf_program__set_autoload(p, false);
	bpf_program__set_autoload(h->skel->progs.TFC_PROG_CG_INGRESS, true);
	bpf_program__set_autoload(h->skel->progs.TFC_PROG_CG_EGRESS, true);
	h->skel->rodata->cfg_cg_level = level;
	h->skel->rodata->cfg_cg_depth = depth;
	if (map_size)
		bpf_map__set_max_entries(h->skel->maps.traffic_counters_cgroup, map_size);
	if (traffic_counter_bpf__load(h->skel))
		return -errno ?: -EINVAL;
	h->prog[0] = bpf_program__fd(h->skel->progs.TFC_PROG_CG_INGRESS);
	h->prog[1] = bpf_program__fd(h->skel->progs.TFC_PROG_CG_EGRESS);
	h->map = bpf_map__fd(h->skel->maps.traffic_counters_cgroup);
	h->control = bpf_map__fd(h->skel->maps.traffic_control);
	h->stats = bpf_map__fd(h->skel->maps.traffic_stats);
	h->ncpus = libbpf_num_possible_cpus();
	return 0;
}

static struct cg_h *open_or_skip(struct cg_h *h, uint32_t map_size, uint32_t level, uint32_t depth)
{
	int err;

	if (geteuid() != 0)
		skip();
	err = cg_open(h, map_size, level, depth);
	if (err)
		fail_msg("cannot load the cgroup programs: %s", strerror(-err));
	return h;
}

/* Runs one frame (Ethernet, as the test run wants; the program sees L3). */
static int cg_run(struct cg_h *h, int egress, const struct pkt *p, uint32_t segs, uint32_t mss)
{
	struct __sk_buff skb = {.gso_segs = segs, .gso_size = mss};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->data, .data_size_in = (uint32_t)p->len,
		    .repeat = 1);

	if (segs) {
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(h->prog[egress], &opts))
		return -errno;
	return (int)opts.retval;
}

/* A key's counters summed over CPUs; {0, 0} when there is no entry. */
static struct counters cg_sum(const struct cg_h *h, int fd, const void *key)
{
	struct counters *v = calloc((size_t)h->ncpus, sizeof(*v)), sum = {0, 0};

	if (v && !bpf_map_lookup_elem(fd, key, v))
		for (int c = 0; c < h->ncpus; c++) {
			sum.bytes += v[c].bytes;
			sum.packets += v[c].packets;
		}
	free(v);
	return sum;
}

static struct counters cg_get(const struct cg_h *h, uint64_t id, int dir)
{
	struct cgroup_key k = {.cgroup_id = id, .direction = (uint8_t)dir};

	return cg_sum(h, h->map, &k);
}

static int cg_entries(const struct cg_h *h)
{
	struct cgroup_key k, *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(h->map, prev, &k)) {
		n++;
		prev = &k;
	}
	return n;
}

static void udp4(struct pkt *p, size_t payload)
{
	pkt_init(p);
	pkt_eth(p, ETHERTYPE_IPV4);
	pkt_ipv4(p, IPPROTO_UDP, 5, pkt_src4, pkt_dst4);
	pkt_udp(p, 40000, 53);
	pkt_payload(p, payload);
	pkt_finish(p);
}

static uint64_t own_id(void)
{
	char mnt[4096], cg[8300];

	cg2_mount(mnt, sizeof(mnt));
	if (!mnt[0] || own_cgroup(mnt, cg, sizeof(cg)))
		return 0;
	return ino_of(cg);
}

/* Key = (this process's cgroup, direction), bytes = L3 length, verdict 1. */
static void test_cg_key_and_verdict(void **state)
{
	uint64_t id = own_id();
	struct counters c;
	struct cg_h h;
	struct pkt p;

	(void)state;
	if (!id)
		skip();
	open_or_skip(&h, 0, 0, 0);
	udp4(&p, 100);
	for (int dir = 0; dir <= 1; dir++)
		for (int i = 0; i < 3; i++)
			assert_int_equal(cg_run(&h, dir, &p, 0, 0), 1);
	for (int dir = 0; dir <= 1; dir++) {
		c = cg_get(&h, id, dir);
		assert_int_equal(c.packets, 3);
		assert_int_equal(c.bytes, 3 * (20 + 8 + 100)); /* no Ethernet header */
	}
	assert_int_equal(cg_entries(&h), 2);
	cg_close(&h);
}

/* A GSO skb: gso_segs packets, the IP and TCP headers repeated (segs - 1) times. */
static void test_cg_gso(void **state)
{
	const size_t mss = 800, segs = 4, payload = 3 * 800 + 300;
	uint64_t id = own_id();
	struct counters c;
	struct cg_h h;
	struct pkt p;

	(void)state;
	if (!id)
		skip();
	open_or_skip(&h, 0, 0, 0);
	for (int fam = 4; fam <= 6; fam += 2) {
		size_t l3 = fam == 4 ? 20 : 40;

		pkt_init(&p);
		pkt_eth(&p, fam == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
		if (fam == 4)
			pkt_ipv4(&p, IPPROTO_TCP, 5, pkt_src4, pkt_dst4);
		else
			pkt_ipv6(&p, IPPROTO_TCP, pkt_src6, pkt_dst6);
		pkt_tcp(&p, 40000, 443, TCPF_ACK);
		pkt_payload(&p, payload);
		pkt_finish(&p);
		bpf_map_delete_elem(h.map, &(struct cgroup_key){.cgroup_id = id, .direction = 1});
		assert_int_equal(cg_run(&h, 1, &p, segs, mss), 1);
		c = cg_get(&h, id, 1);
		assert_int_equal(c.packets, segs);
		assert_int_equal(c.bytes, segs * (l3 + 20) + payload);
	}
	cg_close(&h);
}

/* Map full: nothing counted, cgroup_dropped_* and stat cgroup_map_full under ifindex 0. */
static void test_cg_map_full(void **state)
{
	struct cgroup_key other = {.cgroup_id = ~0ULL, .direction = 0};
	struct stat_key sk = {.ifindex = 0, .direction = 1, .reason = TFC_STAT_CGROUP_MAP_FULL};
	uint64_t id = own_id();
	struct tfc_control ctl;
	struct counters *zero, c;
	struct cg_h h;
	struct pkt p;
	uint32_t k0 = 0;

	(void)state;
	if (!id)
		skip();
	open_or_skip(&h, 1, 0, 0);
	zero = calloc((size_t)h.ncpus, sizeof(*zero));
	assert_non_null(zero);
	assert_int_equal(bpf_map_update_elem(h.map, &other, zero, BPF_NOEXIST), 0);
	free(zero);
	udp4(&p, 100);
	assert_int_equal(cg_run(&h, 1, &p, 0, 0), 1);
	assert_int_equal(cg_run(&h, 1, &p, 0, 0), 1);
	assert_int_equal(cg_entries(&h), 1);
	assert_int_equal(bpf_map_lookup_elem(h.control, &k0, &ctl), 0);
	assert_int_equal(ctl.cgroup_dropped_packets, 2);
	assert_int_equal(ctl.cgroup_dropped_bytes, 2 * 128);
	c = cg_sum(&h, h.stats, &sk);
	assert_int_equal(c.packets, 2);
	assert_int_equal(c.bytes, 2 * 128);
	cg_close(&h);
}

/*
 * --cgroup-depth N: this process in <own>/tfc-bpf-<pid>/a/b, level L of
 * <own>: depth 1 keys by tfc-bpf-<pid>, 2 by a, 3 (b itself) by b, and 4
 * (deeper than the socket's cgroup) falls back to b.
 */
static void test_cg_depth(void **state)
{
	char mnt[4096], own[8300], top[8400], a[8500], b[8600];
	uint64_t want[5];
	uint32_t level = 0;
	struct cg_h h;
	struct pkt p;
	int err = 0;

	(void)state;
	if (geteuid() != 0)
		skip();
	cg2_mount(mnt, sizeof(mnt));
	if (!mnt[0] || own_cgroup(mnt, own, sizeof(own)))
		skip();
	for (const char *s = own + strlen(mnt); *s; s++)
		level += *s == '/' && s[1];
	snprintf(top, sizeof(top), "%s/tfc-bpf-%d", own, getpid());
	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(b, sizeof(b), "%s/b", a);
	if (mkdir(top, 0755) || mkdir(a, 0755) || mkdir(b, 0755) || move_to(b)) {
		err = -errno;
		goto out;
	}
	want[1] = ino_of(top);
	want[2] = ino_of(a);
	want[3] = want[4] = ino_of(b);
	udp4(&p, 10);
	for (uint32_t depth = 1; depth <= 4 && !err; depth++) {
		if (cg_open(&h, 0, level, depth)) {
			err = -EINVAL;
			break;
		}
		err = cg_run(&h, 0, &p, 0, 0) == 1 && cg_get(&h, want[depth], 0).packets == 1 &&
				      cg_entries(&h) == 1
			      ? 0
			      : -EBADMSG;
		if (err)
			print_error("depth %u: not keyed by cgroup %llu\n", depth,
				    (unsigned long long)want[depth]);
		cg_close(&h);
	}
out:
	move_to(own);
	rmdir(b);
	rmdir(a);
	rmdir(top);
	assert_int_equal(err, 0);
}

int cgroup_tests_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cg_key_and_verdict),
		cmocka_unit_test(test_cg_gso),
		cmocka_unit_test(test_cg_map_full),
		cmocka_unit_test(test_cg_depth),
	};

	return cmocka_run_group_tests_name("cgroup_programs", tests, NULL, NULL);
}

#else

int cgroup_tests_run(void)
{
	return 0;
}

#endif
