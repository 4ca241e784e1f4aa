// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * e2e_bench: received packets per second and CPU time per packet on the
 * receiving end of a veth pair, with each configuration toggled on and
 * off every half second while one generator runs, so that each "on"
 * window is compared with the "off" windows on either side of it. The
 * configurations take turns, round after round.
 *
 *   e2e_bench TX_NETNS TX_DEV RX_DEV OUT.json [SOURCES...]
 *
 * Runs in the receiving namespace (nsenter --net); RX_DEV has threaded
 * NAPI, so all of its receive processing (veth poll, XDP, tc, netfilter,
 * IP, UDP) runs in one kernel thread, whose CPU time is read from
 * /proc/PID/schedstat. The generator (gen.bpf.c) runs in a child process
 * in TX_NETNS on CPU 0; the NAPI thread is pinned to CPU 1.
 *
 * Environment: BENCH_PAIRS (rounds: on/off pairs per configuration), BENCH_HALF_MS
 * (length of one window), BENCH_CONFIGS (comma-separated subset of xdp,
 * xdp-frags, xdp-full, tc-ingress, nft-prerouting, nft-netdev, ipset).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_lib.h"
#include "abi/traffic_counter_abi.h"
#include "traffic_counter.skel.h"
#include "gen.skel.h"

#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46 /* Linux 6.6; libbpf 1.1's headers predate it */
#endif

#define SRC_BASE 0xc6126400 /* 198.18.100.0: sources 198.18.100.0 upwards */
/* Sources above this would leave 198.18.0.0/15. */
#define MAX_SOURCES (0xc613ffffu - SRC_BASE)
/* The IP map of the "IP map full" configuration: every source of a flood
 * beyond the first FULL_MAP_ENTRIES takes the full-map path. */
#define FULL_MAP_ENTRIES 1024

struct e2e {
	const char *tx_netns, *tx_dev, *rx_dev;
	int rx_ifindex;
	struct traffic_counter_bpf *skel;
	struct traffic_counter_bpf *full; /* IP map of FULL_MAP_ENTRIES: full under a flood */
	int link_fd;
	int iptables_nft; /* iptables is the nf_tables variant */
	pid_t gen_pid;
	int gen_pipe; /* the generator's report: frames and seconds */
	pid_t napi_tid;
};

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* -------------------------------------------------------- generator -- */

static volatile sig_atomic_t gen_stop;

static void on_term(int sig)
{
	(void)sig;
	gen_stop = 1;
}

static int mac_of(const char *dev, uint8_t mac[6])
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		rc = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc;
}

/* In the child: sends until SIGTERM, then writes "frames seconds" to `out`. */
static int gen_loop(const struct e2e *e, const uint8_t rx_mac[6], uint32_t nsrc, int out)
{
	struct frame_addrs a = {.src4 = nsrc > 1 ? SRC_BASE : 0xc6120001, .dst4 = 0xc6120002};
	struct bench_gen *g;
	struct frame f;
	unsigned long long frames = 0;
	double t0;
	int fd, rc;

	fd = open(e->tx_netns, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) || bench_pin_cpu(0))
		return -errno;
	close(fd);
	memcpy(a.dst_mac, rx_mac, 6);
	if ((rc = mac_of(e->tx_dev, a.src_mac)))
		return rc;
	frame_build(FRAME_IPV4, &a, &f);
	g = bench_gen__open_and_load();
	if (!g)
		return -errno;
	g->bss->gen_ifindex = if_nametoindex(e->tx_dev);
	g->bss->gen_nsrc = nsrc;
	g->bss->gen_base = SRC_BASE;
	if ((rc = bench_hold_xdp(bpf_program__fd(g->progs.gen_xdp))))
		return rc;
	t0 = mono_ns();
	while (!gen_stop) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.buf, .data_size_in = (__u32)f.len,
			    .repeat = 1 << 18, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		/* A signal ends a run early (EINTR): that is the stop. */
		if (bpf_prog_test_run_opts(bpf_program__fd(g->progs.gen_xdp), &opts) &&
		    errno != EINTR)
			return -errno;
		frames += opts.repeat;
	}
	dprintf(out, "%llu %.3f\n", frames, (mono_ns() - t0) / 1e9);
	bench_gen__destroy(g);
	return 0;
}

static int gen_start(struct e2e *e, uint32_t nsrc)
{
	uint8_t rx_mac[6];
	int p[2], rc;

	if ((rc = mac_of(e->rx_dev, rx_mac)) || pipe(p))
		return rc ? rc : -errno;
	e->gen_pid = fork();
	if (e->gen_pid < 0)
		return -errno;
	if (e->gen_pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGTERM, on_term);
		rc = gen_loop(e, rx_mac, nsrc, p[1]);
		if (rc)
			fprintf(stderr, "e2e_bench: generator: %s\n", strerror(-rc));
		_exit(rc ? 1 : 0);
	}
	close(p[1]);
	e->gen_pipe = p[0];
	return 0;
}

/* Stops the generator; its rate in frames per second, or a negative errno. */
static double gen_stop_report(struct e2e *e)
{
	unsigned long long frames = 0;
	double secs = 0;
	char buf[128] = "";
	ssize_t n;
	int status;

	kill(e->gen_pid, SIGTERM);
	n = read(e->gen_pipe, buf, sizeof(buf) - 1);
	waitpid(e->gen_pid, &status, 0);
	close(e->gen_pipe);
	e->gen_pid = 0;
	if (n <= 0 || sscanf(buf, "%llu %lf", &frames, &secs) != 2 || secs <= 0)
		return -EIO;
	return (double)frames / secs;
}

/* ---------------------------------------------------------- readings -- */

/* The device's threaded NAPI kernel thread, "napi/<dev>-<id>". */
static pid_t find_napi_thread(const char *dev)
{
	char want[32], path[300], comm[64];
	struct dirent *d;
	pid_t found = 0;
	DIR *proc = opendir("/proc");

	snprintf(want, sizeof(want), "napi/%s-", dev);
	while (proc && (d = readdir(proc))) {
		FILE *f;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* Thread names are cut at 15 characters: compare what is left. */
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, want, strlen(want) < 15 ? strlen(want) : 15))
			found = (pid_t)atoi(d->d_name);
		fclose(f);
	}
	if (proc)
		closedir(proc);
	return found;
}

static int read_u64_field(const char *path, int field, uint64_t *v)
{
	unsigned long long x[3];
	FILE *f = fopen(path, "r");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%llu %llu %llu", &x[0], &x[1], &x[2]);
	fclose(f);
	if (n <= field)
		return -EIO;
	*v = x[field];
	return 0;
}

/* Received packets of `dev` in this namespace (/proc/self/net/dev). */
static int rx_packets(const char *dev, uint64_t *v)
{
	char line[512], name[IF_NAMESIZE + 2];
	FILE *f = fopen("/proc/self/net/dev", "r");
	int rc = -ENODEV;

	if (!f)
		return -errno;
	snprintf(name, sizeof(name), "%s:", dev);
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " ");
		unsigned long long bytes, pkts;

		if (strncmp(p, name, strlen(name)))
			continue;
		if (sscanf(p + strlen(name), "%llu %llu", &bytes, &pkts) == 2) {
			*v = pkts;
			rc = 0;
		}
		break;
	}
	fclose(f);
	return rc;
}

struct sample {
	double t;
	uint64_t pkts, cpu_ns;
};

static int take(const struct e2e *e, struct sample *s)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)e->napi_tid);
	s->t = mono_ns();
	return rx_packets(e->rx_dev, &s->pkts) ?: read_u64_field(path, 0, &s->cpu_ns);
}

struct window {
	double pps, cpu_ns_per_pkt, util;
	int empty; /* nothing received: a stall elsewhere on the machine */
};

/* Waits out the settling time, then measures for the rest of the half. */
static int measure(const struct e2e *e, long half_ms, struct window *w)
{
	long settle = half_ms / 5;
	struct sample a, b;
	int rc;

	sleep_ms(settle);
	if ((rc = take(e, &a)))
		return rc;
	sleep_ms(half_ms - settle);
	if ((rc = take(e, &b)))
		return rc;
	if (b.pkts == a.pkts) {
		*w = (struct window){.pps = NAN, .cpu_ns_per_pkt = NAN, .util = NAN, .empty = 1};
		/* The generator gone is the end; a stall of its CPU or ours is one lost pair. */
		if (waitpid(e->gen_pid, NULL, WNOHANG) != 0) {
			fprintf(stderr, "e2e_bench: the generator exited\n");
			return -ECHILD;
		}
		fprintf(stderr, "e2e_bench: nothing received for %ld ms: pair left out\n",
			half_ms - settle);
		return 0;
	}
	w->empty = 0;
	w->pps = (double)(b.pkts - a.pkts) / ((b.t - a.t) / 1e9);
	w->cpu_ns_per_pkt = (double)(b.cpu_ns - a.cpu_ns) / (double)(b.pkts - a.pkts);
	w->util = (double)(b.cpu_ns - a.cpu_ns) / (b.t - a.t);
	return 0;
}

/* ------------------------------------------------------ configurations -- */

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0) {
		fprintf(stderr, "e2e_bench: '%s' failed\n", cmd);
		return -EIO;
	}
	return 0;
}

/* Feeds a script to `nft -f -`. */
static int nft(const char *script)
{
	FILE *p = popen("nft -f -", "w");

	if (!p)
		return -errno;
	fputs(script, p);
	if (pclose(p) != 0) {
		fprintf(stderr, "e2e_bench: nft failed on: %s", script);
		return -EIO;
	}
	return 0;
}

static int xdp_link(struct e2e *e, const struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);

	e->link_fd = bpf_link_create(bpf_program__fd(prog), e->rx_ifindex, BPF_XDP, &opts);
	return e->link_fd < 0 ? e->link_fd : 0;
}

/* What attach chooses at MTU 1500: the single-buffer program. */
static int xdp_on(struct e2e *e)
{
	return xdp_link(e, e->skel->progs.TFC_PROG_XDP_LEGACY);
}

/* The frags-aware program, as attach chooses above a page-sized MTU. */
static int xdp_frags_on(struct e2e *e)
{
	return xdp_link(e, e->skel->progs.TFC_PROG_XDP);
}

static int xdp_full_on(struct e2e *e)
{
	return xdp_link(e, e->full->progs.TFC_PROG_XDP_LEGACY);
}

static int tcx_on(struct e2e *e)
{
	e->link_fd = bpf_link_create(bpf_program__fd(e->skel->progs.TFC_PROG_TC_INGRESS),
				     e->rx_ifindex, BPF_TCX_INGRESS, NULL);
	return e->link_fd < 0 ? e->link_fd : 0;
}

static int link_off(struct e2e *e)
{
	close(e->link_fd);
	e->link_fd = -1;
	return 0;
}

#define NFT_SET "set s {\n type ipv4_addr\n size 65536\n flags dynamic\n counter\n}\n"

static int nft_pre_setup(struct e2e *e)
{
	(void)e;
	return nft("table ip tcb {\n" NFT_SET "}\n");
}

static int nft_pre_on(struct e2e *e)
{
	(void)e;
	return nft("add chain ip tcb pre { type filter hook prerouting priority raw; }\n"
		   "add rule ip tcb pre update @s { ip saddr }\n");
}

static int nft_pre_off(struct e2e *e)
{
	(void)e;
	return nft("flush chain ip tcb pre\ndelete chain ip tcb pre\n");
}

static int nft_pre_teardown(struct e2e *e)
{
	(void)e;
	return nft("delete table ip tcb\n");
}

static int nft_dev_setup(struct e2e *e)
{
	(void)e;
	return nft("table netdev tcb {\n" NFT_SET "}\n");
}

static int nft_dev_on(struct e2e *e)
{
	char script[256];

	snprintf(script, sizeof(script),
		 "add chain netdev tcb ing { type filter hook ingress device \"%s\" "
		 "priority -500; }\nadd rule netdev tcb ing update @s { ip saddr }\n",
		 e->rx_dev);
	return nft(script);
}

static int nft_dev_off(struct e2e *e)
{
	(void)e;
	return nft("flush chain netdev tcb ing\ndelete chain netdev tcb ing\n");
}

static int nft_dev_teardown(struct e2e *e)
{
	(void)e;
	return nft("delete table netdev tcb\n");
}

static int ipset_setup(struct e2e *e)
{
	(void)e;
	return sh("ipset create tcb hash:ip counters maxelem 65536 -exist");
}

static int ipset_on(struct e2e *e)
{
	(void)e;
	return sh("iptables -t raw -A PREROUTING -j SET --add-set tcb src --exist && "
		  "iptables -t raw -A PREROUTING -m set --match-set tcb src");
}

/* With iptables-nft the empty table would keep its hook: remove it all. */
static int ipset_off(struct e2e *e)
{
	int rc = sh("iptables -t raw -F PREROUTING");

	if (!rc && e->iptables_nft)
		rc = nft("delete table ip raw\n");
	return rc;
}

static int ipset_teardown(struct e2e *e)
{
	(void)e;
	return sh("ipset destroy tcb");
}

struct e2e_cfg {
	const char *name, *label;
	int (*setup)(struct e2e *), (*on)(struct e2e *), (*off)(struct e2e *);
	int (*teardown)(struct e2e *);
};

static const struct e2e_cfg configs[] = {
	{"xdp", "traffic-counter, xdp", NULL, xdp_on, link_off, NULL},
	{"xdp-frags", "traffic-counter, xdp, frags-aware program (tfc_xdp)", NULL, xdp_frags_on,
	 link_off, NULL},
	{"xdp-full", "traffic-counter, xdp, IP map of 1024 entries (full)", NULL, xdp_full_on,
	 link_off, NULL},
	{"tc-ingress", "traffic-counter, tc-ingress (TCX)", NULL, tcx_on, link_off, NULL},
	{"nft-prerouting", "nftables dynamic set, prerouting", nft_pre_setup, nft_pre_on,
	 nft_pre_off, nft_pre_teardown},
	{"nft-netdev", "nftables dynamic set, netdev ingress", nft_dev_setup, nft_dev_on,
	 nft_dev_off, nft_dev_teardown},
	{"ipset", "iptables + ipset hash:ip counters, raw prerouting", ipset_setup, ipset_on,
	 ipset_off, ipset_teardown},
};

#define NCONFIGS (int)(sizeof(configs) / sizeof(configs[0]))

static int wanted(const char *name)
{
	const char *list = getenv("BENCH_CONFIGS"), *p;
	size_t n = strlen(name);

	if (!list || !*list)
		return 1;
	for (p = strstr(list, name); p; p = strstr(p + 1, name))
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* Per configuration: each "on" window and the "off" windows either side. */
struct series {
	const struct e2e_cfg *c;
	struct window *on, *before, *after;
	int pairs;
};

static int series_alloc(struct series *s, const struct e2e_cfg *c, int pairs)
{
	s->c = c;
	s->pairs = pairs;
	s->on = calloc((size_t)pairs, sizeof(*s->on));
	s->before = calloc((size_t)pairs, sizeof(*s->before));
	s->after = calloc((size_t)pairs, sizeof(*s->after));
	return s->on && s->before && s->after ? 0 : -ENOMEM;
}

static void series_free(struct series *s)
{
	free(s->on);
	free(s->before);
	free(s->after);
}

static struct json_object *series_json(const struct series *s)
{
	double *ratio, *added, *on_ns, *off_ns, *on_pps, *off_pps, *util;
	int n = s->pairs, k = 0; /* k: pairs with three non-empty windows */
	double *v = calloc((size_t)n * 7, sizeof(double));
	struct json_object *o;

	if (!v)
		return NULL;
	ratio = v;
	added = v + n;
	on_ns = v + 2 * n;
	off_ns = v + 3 * n;
	on_pps = v + 4 * n;
	off_pps = v + 5 * n;
	util = v + 6 * n;
	for (int i = 0; i < s->pairs; i++) {
		double pps_off = (s->before[i].pps + s->after[i].pps) / 2;
		double ns_off = (s->before[i].cpu_ns_per_pkt + s->after[i].cpu_ns_per_pkt) / 2;

		if (s->on[i].empty || s->before[i].empty || s->after[i].empty)
			continue;
		ratio[k] = s->on[i].pps / pps_off;
		added[k] = s->on[i].cpu_ns_per_pkt - ns_off;
		on_ns[k] = s->on[i].cpu_ns_per_pkt;
		off_ns[k] = ns_off;
		on_pps[k] = s->on[i].pps;
		off_pps[k] = pps_off;
		util[k] = s->on[i].util;
		k++;
	}
	n = k;
	o = json_object_new_object();
	json_set_string(o, "name", s->c->name);
	json_set_string(o, "label", s->c->label);
	json_set_int(o, "pairs", n);
	json_set_int(o, "pairs_left_out", s->pairs - n);
	json_object_object_add(o, "pps_ratio", json_summary(ratio, (size_t)n));
	json_object_object_add(o, "added_cpu_ns_per_packet", json_summary(added, (size_t)n));
	json_object_object_add(o, "on_cpu_ns_per_packet", json_summary(on_ns, (size_t)n));
	json_object_object_add(o, "off_cpu_ns_per_packet", json_summary(off_ns, (size_t)n));
	json_object_object_add(o, "on_pps", json_summary(on_pps, (size_t)n));
	json_object_object_add(o, "off_pps", json_summary(off_pps, (size_t)n));
	json_object_object_add(o, "on_receiver_cpu_share", json_summary(util, (size_t)n));
	free(v);
	return o;
}

/*
 * Round after round, every configuration once, the starting one rotating:
 * on, a window, off, a window. A burst of other work on the machine falls
 * on all of them alike, as in the kernel-program rounds. Each "on" window
 * is framed by the "off" windows just before and after it.
 */
static int interleave(struct e2e *e, struct series *s, int n, uint32_t nsrc, long half_ms)
{
	struct window off;
	int pairs = s[0].pairs, rc;

	if ((rc = measure(e, half_ms, &off)))
		return rc;
	for (int p = 0; p < pairs; p++) {
		for (int k = 0; k < n; k++) {
			struct series *x = &s[(p + k) % n];

			x->before[p] = off;
			if ((rc = x->c->on(e))) {
				fprintf(stderr, "e2e_bench: cannot turn %s on\n", x->c->name);
				return rc;
			}
			rc = measure(e, half_ms, &x->on[p]);
			if (x->c->off(e) && !rc)
				rc = -EIO;
			if (!rc)
				rc = measure(e, half_ms, &off);
			if (rc)
				return rc;
			x->after[p] = off;
		}
		progress("end-to-end, %u source%s: round %d/%d of %d configurations", nsrc,
			 nsrc > 1 ? "s" : "", p + 1, pairs, n);
	}
	return 0;
}

static int run_sources(struct e2e *e, uint32_t nsrc, int pairs, long half_ms,
		       struct json_object *top)
{
	struct json_object *o, *arr;
	struct series s[NCONFIGS];
	int n = 0, ready = 0, rc;
	struct window idle;
	double gen_pps;

	memset(s, 0, sizeof(s));
	for (int i = 0; i < NCONFIGS; i++)
		if (wanted(configs[i].name) && (rc = series_alloc(&s[n++], &configs[i], pairs)))
			goto out;
	for (ready = 0; ready < n; ready++)
		if (s[ready].c->setup && (rc = s[ready].c->setup(e)))
			goto out;
	if ((rc = gen_start(e, nsrc)))
		goto out;
	sleep_ms(500);
	rc = measure(e, half_ms, &idle);
	if (!rc && n)
		rc = interleave(e, s, n, nsrc, half_ms);
	gen_pps = gen_stop_report(e);
	if (rc)
		goto out;
	o = json_object_new_object();
	arr = json_object_new_array();
	json_set_int(o, "sources", nsrc);
	json_set_double(o, "generator_pps", gen_pps);
	json_set_double(o, "idle_pps", idle.pps);
	json_set_double(o, "idle_cpu_ns_per_packet", idle.cpu_ns_per_pkt);
	json_set_double(o, "idle_receiver_cpu_share", idle.util);
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, series_json(&s[i]));
	json_object_object_add(o, "configs", arr);
	json_object_array_add(top, o);
out:
	for (int i = 0; i < ready; i++)
		if (s[i].c->teardown && s[i].c->teardown(e) && !rc)
			rc = -EIO;
	for (int i = 0; i < n; i++)
		series_free(&s[i]);
	if (rc)
		fprintf(stderr, "e2e_bench: %u sources: %s\n", nsrc, strerror(-rc));
	return rc;
}

/* The NAPI thread on CPU 1, everything of ours (and the generator) on CPU 0. */
static int place_threads(struct e2e *e)
{
	cpu_set_t set;

	e->napi_tid = find_napi_thread(e->rx_dev);
	if (!e->napi_tid) {
		fprintf(stderr, "e2e_bench: no NAPI thread for %s: is threaded NAPI on?\n",
			e->rx_dev);
		return -ENOENT;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	if (sched_setaffinity(e->napi_tid, sizeof(set), &set))
		return -errno;
	return bench_pin_cpu(0);
}

/*
 * The real program with its own maps, the IP map of ip_entries, flows off,
 * overflow to /24 and /48 as attach sets it for new maps (a data path
 * without prefix rows ignores it: frames into a full map are dropped).
 */
static int real_load(struct traffic_counter_bpf **out, uint32_t ip_entries)
{
	struct traffic_counter_bpf *s = traffic_counter_bpf__open();
	struct tfc_control ctl = {.overflow_v4 = 24, .overflow_v6 = 48};
	uint32_t zero = 0;
	int rc;

	*out = s;
	if (!s)
		return -errno;
	bpf_program__set_autoload(s->progs.TFC_PROG_TC_EGRESS, false);
	if ((rc = bpf_map__set_max_entries(s->maps.traffic_counters_ip, ip_entries)) ||
	    (rc = traffic_counter_bpf__load(s)))
		return rc;
	if (bpf_map_update_elem(bpf_map__fd(s->maps.traffic_control), &zero, &ctl, BPF_ANY))
		return -errno;
	return 0;
}

static int setup(struct e2e *e)
{
	int rc;

	e->rx_ifindex = (int)if_nametoindex(e->rx_dev);
	if (!e->rx_ifindex)
		return -ENODEV;
	if ((rc = real_load(&e->skel, TFC_IP_MAP_DEFAULT_ENTRIES)) ||
	    (rc = real_load(&e->full, FULL_MAP_ENTRIES)))
		return rc;
	e->iptables_nft = system("iptables -V 2>/dev/null | grep -q nf_tables") == 0;
	return place_threads(e);
}

int main(int argc, char **argv)
{
	int pairs = (int)env_long("BENCH_PAIRS", 16);
	long half_ms = env_long("BENCH_HALF_MS", 500);
	struct e2e e = {.link_fd = -1};
	struct json_object *top, *arr;
	uint32_t sources[8] = {1, 10000};
	int nsources = 2, rc = 0;

	if (argc < 5 || argc > 5 + 8) {
		fprintf(stderr, "usage: e2e_bench TX_NETNS TX_DEV RX_DEV OUT.json [SOURCES...]\n");
		return 2;
	}
	e.tx_netns = argv[1];
	e.tx_dev = argv[2];
	e.rx_dev = argv[3];
	if (argc > 5) {
		nsources = argc - 5;
		for (int i = 0; i < nsources; i++) {
			sources[i] = (uint32_t)strtoul(argv[5 + i], NULL, 10);
			if (!sources[i] || sources[i] > MAX_SOURCES) {
				fprintf(stderr, "e2e_bench: SOURCES must be 1..%u\n", MAX_SOURCES);
				return 2;
			}
		}
	}
	libbpf_set_print(libbpf_quiet);
	if ((rc = setup(&e))) {
		fprintf(stderr, "e2e_bench: setup: %s\n", strerror(-rc));
		traffic_counter_bpf__destroy(e.skel);
		traffic_counter_bpf__destroy(e.full);
		return 1;
	}
	top = json_object_new_object();
	arr = json_object_new_array();
	json_set_int(top, "pairs", pairs);
	json_set_int(top, "half_ms", half_ms);
	json_set_string(top, "iptables", e.iptables_nft ? "nf_tables" : "legacy");
	json_object_object_add(top, "runs", arr);
	for (int i = 0; i < nsources && !rc; i++)
		rc = run_sources(&e, sources[i], pairs, half_ms, arr);
	if (!rc)
		rc = json_write(top, argv[4]);
	json_object_put(top);
	traffic_counter_bpf__destroy(e.skel);
	traffic_counter_bpf__destroy(e.full);
	if (rc)
		fprintf(stderr, "e2e_bench: %s\n", strerror(-rc));
	return rc ? 1 : 0;
}
