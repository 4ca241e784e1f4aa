// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * prog_bench: per-packet cost of the kernel programs, measured with
 * BPF_PROG_TEST_RUN on crafted frames against the floor (programs that only
 * pass), round-robin in one process (see rounds.h).
 *
 *   prog_bench hit OUT.json    hit path: 5 frames x xdp/tc x flows off/on,
 *                              the naive reference beside it
 *   prog_bench miss OUT.json   miss paths at xdp with 16k/64k/1M keys
 *                              resident: insert, IP map full, LRU eviction
 *
 * Environment: BENCH_ROUNDS, BENCH_REPEAT, BENCH_SIZES (e.g. "16384,65536")
 * override the defaults. Runs in a network namespace of its own.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_lib.h"
#include "rounds.h"
#include "abi/traffic_counter_abi.h"
#include "traffic_counter.skel.h"
#include "floor.skel.h"
#include "naive.skel.h"
#include "real.skel.h"

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

static int set_flags(int control_fd, uint32_t flags)
{
	struct tfc_control ctl = {.flags = flags};
	uint32_t zero = 0;

	return bpf_map_update_elem(control_fd, &zero, &ctl, BPF_ANY) ? -errno : 0;
}

/* ---------------------------------------------------------- hit path -- */

static struct traffic_counter_bpf *real_open(uint32_t flags)
{
	struct traffic_counter_bpf *s = traffic_counter_bpf__open();

	if (!s)
		return NULL;
	bpf_program__set_autoload(s->progs.TFC_PROG_TC_EGRESS, false);
	if (traffic_counter_bpf__load(s) ||
	    set_flags(bpf_map__fd(s->maps.traffic_control), flags) ||
	    bench_hold_xdp(bpf_program__fd(s->progs.TFC_PROG_XDP)) ||
	    bench_hold_xdp(bpf_program__fd(s->progs.TFC_PROG_XDP_LEGACY))) {
		traffic_counter_bpf__destroy(s);
		return NULL;
	}
	return s;
}

/*
 * At xdp, "traffic-counter" is the program attach chooses at MTU 1500,
 * tfc_xdp_legacy (single buffer); "traffic-counter (tfc_xdp)" is the
 * frags-aware one, attached above a page-sized MTU.
 */
#define XDP_FRAGS_LABEL "traffic-counter (tfc_xdp)"

struct hit_progs {
	int floor_xdp, floor_tc;
	int real_xdp[2], real_tc[2]; /* flows off, on */
	int real_xdp_frags[2];
	int naive_xdp[2], naive_tc[2];
};

static int add_hit(struct cfg_set *s, const struct frame *f, const char *hook, const char *program,
		   int flows, int fd, int floor, uint32_t repeat)
{
	struct cfg c = {
		.hook = hook,
		.program = program,
		.flows = flows,
		.prog_fd = fd,
		.floor = floor,
		.repeat = repeat,
		.frame = *f,
	};

	snprintf(c.name, sizeof(c.name), "%s %s %s%s", hook, f->name, program,
		 floor < 0 ? "" : (flows ? " flows on" : " flows off"));
	return cfg_add(s, &c);
}

static int hit_configs(struct cfg_set *s, const struct hit_progs *p, uint32_t repeat)
{
	for (int k = 0; k < FRAME_COUNT; k++) {
		struct frame f;
		int fx, ft, rc = 0;

		frame_build((enum frame_kind)k, NULL, &f);
		fx = add_hit(s, &f, "xdp", "floor", 0, p->floor_xdp, -1, repeat);
		ft = add_hit(s, &f, "tc", "floor", 0, p->floor_tc, -1, repeat);
		if (fx < 0 || ft < 0)
			return -ENOMEM;
		for (int fl = 0; fl < 2 && rc >= 0; fl++) {
			rc = add_hit(s, &f, "xdp", "traffic-counter", fl, p->real_xdp[fl], fx,
				     repeat);
			if (rc >= 0)
				rc = add_hit(s, &f, "xdp", XDP_FRAGS_LABEL, fl,
					     p->real_xdp_frags[fl], fx, repeat);
			if (rc >= 0)
				rc = add_hit(s, &f, "tc", "traffic-counter", fl, p->real_tc[fl], ft,
					     repeat);
			if (rc >= 0)
				rc = add_hit(s, &f, "xdp", "naive", fl, p->naive_xdp[fl], fx,
					     repeat);
			if (rc >= 0)
				rc = add_hit(s, &f, "tc", "naive", fl, p->naive_tc[fl], ft, repeat);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Where tfc_xdp's time goes, at XDP on the 64-byte IPv4 frame, flows off:
 * stages of the real program built from its source (real.bpf.c).
 */
static int breakdown_configs(struct cfg_set *s, struct bench_real *r, int floor, uint32_t repeat)
{
	const struct {
		const char *name;
		struct bpf_program *prog;
	} stages[] = {
		{"parse", r->progs.bd_parse},
		{"parse+len", r->progs.bd_parse_len},
		{"parse+len+control", r->progs.bd_parse_len_ctl},
		{"parse+control", r->progs.bd_parse_ctl},
		{"parse+statistic row", r->progs.bd_stat},
		{"parse+IP map, 24-byte key", r->progs.bd_key24},
		{"parse+IP map, 8-byte IPv4 key", r->progs.bd_key8},
		{"all-but-len (tfc_xdp_legacy)", r->progs.TFC_PROG_XDP_LEGACY},
		{"all (tfc_xdp)", r->progs.TFC_PROG_XDP},
		{"bpf_ktime_get_ns alone", r->progs.bd_ktime},
		{"bpf_ktime_get_coarse_ns alone", r->progs.bd_ktime_coarse},
		{"what-if: last-key cache before the IP map", r->progs.bd_lastkey},
	};
	struct frame f;

	frame_build(FRAME_IPV4, NULL, &f);
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		struct cfg c = {
			.hook = "xdp",
			.program = stages[i].name,
			.flows = 0,
			.path = "breakdown",
			.prog_fd = bpf_program__fd(stages[i].prog),
			.floor = floor,
			.repeat = repeat,
			.frame = f,
		};
		int rc = bench_hold_xdp(c.prog_fd);

		if (rc)
			return rc;
		snprintf(c.name, sizeof(c.name), "xdp %s stage %s", f.name, stages[i].name);
		if (cfg_add(s, &c) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int write_results(struct cfg_set *s, struct json_object *top, const char *out)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < s->n; i++)
		json_object_array_add(arr, cfg_json(&s->v[i], s->rounds));
	json_object_object_add(top, "results", arr);
	return json_write(top, out);
}

static int hit_bench(const char *out)
{
	int rounds = (int)env_long("BENCH_ROUNDS", 101);
	uint32_t repeat = (uint32_t)env_long("BENCH_REPEAT", 20000);
	struct traffic_counter_bpf *real[2] = {NULL, NULL};
	struct bench_floor *floor = NULL;
	struct bench_naive *naive = NULL;
	struct bench_real *stages = NULL;
	struct cfg_set set = {0};
	struct hit_progs p;
	struct json_object *top;
	int rc = -EINVAL;

	floor = bench_floor__open_and_load();
	naive = bench_naive__open_and_load();
	real[0] = real_open(0);
	real[1] = real_open(TFC_FLAG_FLOW_COUNTERS);
	stages = bench_real__open();
	if (stages) {
		bpf_program__set_autoload(stages->progs.tfc_xdp_bump, false);
		bpf_program__set_autoload(stages->progs.TFC_PROG_TC_INGRESS, false);
		bpf_program__set_autoload(stages->progs.TFC_PROG_TC_EGRESS, false);
		if (bench_real__load(stages)) {
			bench_real__destroy(stages);
			stages = NULL;
		}
	}
	if (!floor || !naive || !real[0] || !real[1] || !stages) {
		fprintf(stderr, "prog_bench: cannot load the programs (see above)\n");
		goto out;
	}
	p = (struct hit_progs){
		.floor_xdp = bpf_program__fd(floor->progs.xdp_pass),
		.floor_tc = bpf_program__fd(floor->progs.tfc_ok),
		.naive_xdp = {bpf_program__fd(naive->progs.naive_ip_xdp),
			      bpf_program__fd(naive->progs.naive_flow_xdp)},
		.naive_tc = {bpf_program__fd(naive->progs.naive_ip_tc),
			     bpf_program__fd(naive->progs.naive_flow_tc)},
	};
	for (int i = 0; i < 2; i++) {
		p.real_xdp[i] = bpf_program__fd(real[i]->progs.TFC_PROG_XDP_LEGACY);
		p.real_xdp_frags[i] = bpf_program__fd(real[i]->progs.TFC_PROG_XDP);
		p.real_tc[i] = bpf_program__fd(real[i]->progs.TFC_PROG_TC_INGRESS);
	}
	if ((rc = bench_hold_xdp(p.floor_xdp)) || (rc = bench_hold_xdp(p.naive_xdp[0])) ||
	    (rc = bench_hold_xdp(p.naive_xdp[1]))) {
		fprintf(stderr, "prog_bench: cannot attach to a scratch veth: %s\n", strerror(-rc));
		goto out;
	}
	rc = hit_configs(&set, &p, repeat);
	if (!rc)
		rc = breakdown_configs(&set, stages, 0, repeat);
	/* The first run inserts the keys: the rounds then measure the hit path. */
	for (int i = 0; !rc && i < set.n; i++) {
		double ns;

		rc = bench_run(set.v[i].prog_fd, set.v[i].frame.buf, set.v[i].frame.len, 100, &ns);
	}
	if (!rc)
		rc = cfg_run(&set, rounds, "hit path");
	if (rc)
		goto out;
	top = json_object_new_object();
	json_set_int(top, "rounds", rounds);
	json_set_int(top, "repeat", repeat);
	rc = write_results(&set, top, out);
	json_object_put(top);
out:
	cfg_free(&set);
	for (int i = 0; i < 2; i++)
		traffic_counter_bpf__destroy(real[i]);
	bench_naive__destroy(naive);
	bench_real__destroy(stages);
	bench_floor__destroy(floor);
	return rc;
}

/* --------------------------------------------------------- miss paths -- */

struct miss_inst {
	struct bench_real *skel;
	int prog_fd;
};

/* A copy of the real program with its maps sized, flows as asked, attached. */
static int miss_open(struct miss_inst *m, uint32_t ip_entries, uint32_t flow_entries, int flows)
{
	struct bench_real *s = bench_real__open();
	int rc;

	m->skel = s;
	if (!s)
		return -errno;
	bpf_program__set_autoload(s->progs.TFC_PROG_XDP, false);
	bpf_program__set_autoload(s->progs.TFC_PROG_XDP_LEGACY, false);
	bpf_program__set_autoload(s->progs.TFC_PROG_TC_INGRESS, false);
	bpf_program__set_autoload(s->progs.TFC_PROG_TC_EGRESS, false);
	if ((rc = bpf_map__set_max_entries(s->maps.traffic_counters_ip, ip_entries)) ||
	    (rc = bpf_map__set_max_entries(s->maps.traffic_counters_flow, flow_entries)) ||
	    (rc = bench_real__load(s)))
		return rc;
	m->prog_fd = bpf_program__fd(s->progs.tfc_xdp_bump);
	if ((rc = set_flags(bpf_map__fd(s->maps.traffic_control),
			    flows ? TFC_FLAG_FLOW_COUNTERS : 0)))
		return rc;
	return bench_hold_xdp(m->prog_fd);
}

static int miss_prefill(struct miss_inst *m, const struct frame *f, uint32_t off, uint32_t n)
{
	return bump_fill(m->prog_fd, &m->skel->bss->bump_off, &m->skel->bss->bump_mod, f, off, 0,
			 n);
}

#define MISS_INST 4 /* ip (hit, insert), ip full, flow hit, flow eviction */

struct miss_size {
	uint32_t entries;
	struct miss_inst inst[MISS_INST];
	struct bump bumps[7];
	struct cfg_set set;
};

static void miss_size_free(struct miss_size *ms)
{
	for (int i = 0; i < MISS_INST; i++)
		bench_real__destroy(ms->inst[i].skel);
	free(ms->bumps[2].keys);
	cfg_free(&ms->set);
}

static int miss_add(struct miss_size *ms, const struct frame *f, const char *path, int flows,
		    int fd, int floor, uint32_t repeat, struct bump *b)
{
	struct cfg c = {
		.hook = "xdp",
		.program = floor < 0 ? "floor" : "traffic-counter",
		.path = path,
		.flows = flows,
		.prog_fd = fd,
		.floor = floor,
		.repeat = repeat,
		.frame = *f,
		.before = bump_before,
		.after = bump_after,
		.ctx = b,
	};

	snprintf(c.name, sizeof(c.name), "xdp %s %u resident", path, ms->entries);
	return cfg_add(&ms->set, &c);
}

static int miss_setup(struct miss_size *ms, struct bench_floor *floor, const struct frame *f,
		      uint32_t repeat, uint32_t ins)
{
	uint32_t S = ms->entries, src = (uint32_t)f->src_off, ports = (uint32_t)f->l4_off;
	uint32_t ifindex = if_nametoindex("lo");
	struct bump *b = ms->bumps;
	int rc, fl;

	progress("miss paths, %u keys resident: loading and filling the maps", S);
	if ((rc = miss_open(&ms->inst[0], S + ins, TFC_FLOW_MAP_DEFAULT_ENTRIES, 0)) ||
	    (rc = miss_open(&ms->inst[1], S, TFC_FLOW_MAP_DEFAULT_ENTRIES, 0)) ||
	    (rc = miss_open(&ms->inst[2], TFC_IP_MAP_DEFAULT_ENTRIES, S, 1)) ||
	    (rc = miss_open(&ms->inst[3], TFC_IP_MAP_DEFAULT_ENTRIES, S, 1)))
		return rc;
	if ((rc = miss_prefill(&ms->inst[0], f, src, S)) ||
	    (rc = miss_prefill(&ms->inst[1], f, src, S)) ||
	    (rc = miss_prefill(&ms->inst[2], f, ports, S)) ||
	    (rc = miss_prefill(&ms->inst[3], f, ports, S)))
		return rc;

#define BUMP_VARS(skel) &(skel)->bss->bump_off, &(skel)->bss->bump_mod
	b[0] = (struct bump){BUMP_VARS(floor), src, S, 0, -1, 0, NULL};
	b[1] = (struct bump){BUMP_VARS(ms->inst[0].skel), src, S, 0, -1, 0, NULL};
	b[2] = (struct bump){BUMP_VARS(ms->inst[0].skel),
			     src,
			     0,
			     0x40000000,
			     bpf_map__fd(ms->inst[0].skel->maps.traffic_counters_ip),
			     ifindex,
			     calloc(2 * (size_t)ins, sizeof(struct ip_key))};
	b[3] = (struct bump){BUMP_VARS(ms->inst[1].skel), src, 0, 0x80000000, -1, 0, NULL};
	b[4] = (struct bump){BUMP_VARS(ms->inst[2].skel), ports, S, 0, -1, 0, NULL};
	b[5] = (struct bump){BUMP_VARS(ms->inst[3].skel), ports, 0, 0x40000000, -1, 0, NULL};
	/* Modulus 1: the field is 0 after every bump, a key the fill put there. */
	b[6] = (struct bump){BUMP_VARS(ms->inst[1].skel), src, 1, 0, -1, 0, NULL};
#undef BUMP_VARS
	if (!b[2].keys)
		return -ENOMEM;

	fl = miss_add(ms, f, "floor", 0, bpf_program__fd(floor->progs.xdp_bump), -1, repeat, &b[0]);
	if (fl < 0 ||
	    miss_add(ms, f, "ip_hit_cycle", 0, ms->inst[0].prog_fd, fl, repeat, &b[1]) < 0 ||
	    miss_add(ms, f, "ip_insert", 0, ms->inst[0].prog_fd, fl, ins, &b[2]) < 0 ||
	    miss_add(ms, f, "ip_map_full", 0, ms->inst[1].prog_fd, fl, repeat, &b[3]) < 0 ||
	    miss_add(ms, f, "ip_full_hit_one", 0, ms->inst[1].prog_fd, fl, repeat, &b[6]) < 0 ||
	    miss_add(ms, f, "flow_hit_cycle", 1, ms->inst[2].prog_fd, fl, repeat, &b[4]) < 0 ||
	    miss_add(ms, f, "flow_lru_evict", 1, ms->inst[3].prog_fd, fl, repeat, &b[5]) < 0)
		return -ENOMEM;
	return 0;
}

/* The IP-map-full instance must really be full: its inserts must fail. */
static int miss_check(struct miss_size *ms)
{
	struct tfc_control ctl;
	uint32_t zero = 0;
	int fd = bpf_map__fd(ms->inst[1].skel->maps.traffic_control);

	if (bpf_map_lookup_elem(fd, &zero, &ctl))
		return -errno;
	if (!ctl.dropped_packets) {
		fprintf(stderr, "prog_bench: the full IP map took new keys\n");
		return -EPROTO;
	}
	return 0;
}

static int parse_sizes(const char *s, uint32_t *sizes, int max)
{
	int n = 0;

	while (s && *s && n < max) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v < 1024 || v > (1UL << 24))
			return -EINVAL;
		sizes[n++] = (uint32_t)v;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static int miss_bench(const char *out)
{
	int rounds = (int)env_long("BENCH_ROUNDS", 31);
	uint32_t repeat = (uint32_t)env_long("BENCH_REPEAT", 32768), ins = 8192;
	uint32_t sizes[8] = {16384, 65536, 1048576};
	int nsizes = 3, rc = 0;
	struct bench_floor *floor = bench_floor__open_and_load();
	struct json_object *top = json_object_new_object(), *arr = json_object_new_array();
	struct frame f;

	if (getenv("BENCH_SIZES"))
		nsizes = parse_sizes(getenv("BENCH_SIZES"), sizes, 8);
	if (!floor || nsizes <= 0) {
		fprintf(stderr, "prog_bench: cannot load the floor, or bad BENCH_SIZES\n");
		rc = -EINVAL;
		goto out;
	}
	if ((rc = bench_hold_xdp(bpf_program__fd(floor->progs.xdp_bump))))
		goto out;
	frame_build(FRAME_IPV4, NULL, &f);
	for (int i = 0; i < nsizes && !rc; i++) {
		struct miss_size *ms = calloc(1, sizeof(*ms));
		char label[64];

		if (!ms) {
			rc = -ENOMEM;
			break;
		}
		ms->entries = sizes[i];
		snprintf(label, sizeof(label), "miss paths, %u keys resident", sizes[i]);
		rc = miss_setup(ms, floor, &f, repeat, ins);
		if (!rc)
			rc = cfg_run(&ms->set, rounds, label);
		if (!rc)
			rc = miss_check(ms);
		if (!rc) {
			struct json_object *o = json_object_new_object(), *res;

			res = json_object_new_array();
			json_set_int(o, "resident", sizes[i]);
			for (int k = 0; k < ms->set.n; k++)
				json_object_array_add(res, cfg_json(&ms->set.v[k], rounds));
			json_object_object_add(o, "results", res);
			json_object_array_add(arr, o);
		} else {
			fprintf(stderr, "prog_bench: miss paths with %u keys: %s\n", sizes[i],
				strerror(-rc));
		}
		miss_size_free(ms);
		free(ms);
	}
	json_set_int(top, "rounds", rounds);
	json_set_int(top, "repeat", repeat);
	json_set_int(top, "insert_repeat", ins);
	json_object_object_add(top, "sizes", arr);
	arr = NULL;
	if (!rc)
		rc = json_write(top, out);
out:
	json_object_put(arr);
	json_object_put(top);
	bench_floor__destroy(floor);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc != 3 || (strcmp(argv[1], "hit") && strcmp(argv[1], "miss"))) {
		fprintf(stderr, "usage: prog_bench hit|miss OUT.json\n");
		return 2;
	}
	libbpf_set_print(libbpf_quiet);
	if ((rc = bench_private_netns()) || (rc = bench_pin_cpu(0))) {
		fprintf(stderr, "prog_bench: %s (needs root)\n", strerror(-rc));
		return 1;
	}
	rc = strcmp(argv[1], "hit") ? miss_bench(argv[2]) : hit_bench(argv[2]);
	if (rc)
		fprintf(stderr, "prog_bench %s: %s\n", argv[1], strerror(-rc));
	return rc ? 1 : 0;
}
