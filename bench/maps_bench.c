// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * maps_bench: the map layouts traffic-counter could use (variants.bpf.c),
 * measured side by side at XDP on the 64-byte IPv4 frame, round-robin
 * against the floor (rounds.h):
 *
 *   maps_bench run OUT.json      hit path on one CPU and on every CPU at once
 *                                (up to 64; the same key), inserts, LRU evictions
 *   maps_bench memory OUT.json   bytes per entry of each map type, read back
 *                                from the kernel (fdinfo memlock)
 *
 * Environment: BENCH_ROUNDS, BENCH_REPEAT. Runs in a network namespace of
 * its own.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_lib.h"
#include "rounds.h"
#include "abi/traffic_counter_abi.h"
#include "traffic_counter.skel.h"
#include "floor.skel.h"
#include "variants.skel.h"

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

struct variant {
	const char *name; /* as in the report */
	const char *map;  /* which map it changes */
	int flows;
	int fd[2]; /* in the hit/insert instance, in the eviction instance */
};

#define NVARIANTS 5

static void variants_list(struct variant *v, struct bench_variants *a, struct bench_variants *b)
{
	const struct variant list[NVARIANTS] = {
		{"ip: per-CPU hash",
		 "ip",
		 0,
		 {bpf_program__fd(a->progs.v_ip_percpu), bpf_program__fd(b->progs.v_ip_percpu)}},
		{"ip: shared hash, atomics",
		 "ip",
		 0,
		 {bpf_program__fd(a->progs.v_ip_shared), bpf_program__fd(b->progs.v_ip_shared)}},
		{"flow: shared LRU, atomics",
		 "flow",
		 1,
		 {bpf_program__fd(a->progs.v_flow_lru), bpf_program__fd(b->progs.v_flow_lru)}},
		{"flow: per-CPU LRU",
		 "flow",
		 1,
		 {bpf_program__fd(a->progs.v_flow_lru_percpu),
		  bpf_program__fd(b->progs.v_flow_lru_percpu)}},
		{"flow: LRU, BPF_F_NO_COMMON_LRU, atomics",
		 "flow",
		 1,
		 {bpf_program__fd(a->progs.v_flow_nocommon),
		  bpf_program__fd(b->progs.v_flow_nocommon)}},
	};

	memcpy(v, list, sizeof(list));
}

/* IP maps with room for every CPU's inserts of one run. */
static struct bench_variants *variants_open(uint32_t ip_entries)
{
	struct bench_variants *s = bench_variants__open();

	if (!s)
		return NULL;
	if (bpf_map__set_max_entries(s->maps.ip_percpu, ip_entries) ||
	    bpf_map__set_max_entries(s->maps.ip_shared, ip_entries) || bench_variants__load(s) ||
	    set_flags(bpf_map__fd(s->maps.v_control), TFC_FLAG_FLOW_COUNTERS)) {
		bench_variants__destroy(s);
		return NULL;
	}
	return s;
}

struct maps_ctx {
	struct bench_floor *floor;
	struct bench_variants *a, *b; /* hit and insert; eviction (flow maps full) */
	struct traffic_counter_bpf *real[2];
	struct variant v[NVARIANTS];
	struct bump bumps[4 * NVARIANTS];
	int nbumps;
	struct frame f;
	struct cfg_set set;
};

static struct bump *new_bump(struct maps_ctx *m, struct bench_variants *s, uint32_t off,
			     uint32_t base, int ip_fd)
{
	struct bump *b = &m->bumps[m->nbumps++];

	*b = (struct bump){&s->bss->bump_off, &s->bss->bump_mod, off, 0, base, ip_fd, 0, NULL};
	return b;
}

static int add(struct maps_ctx *m, const char *program, const char *path, int flows, int ncpu,
	       int fd, int floor, uint32_t repeat, struct bump *b)
{
	struct cfg c = {
		.hook = "xdp",
		.program = program,
		.path = path,
		.flows = flows,
		.ncpu = ncpu,
		.prog_fd = fd,
		.floor = floor,
		.repeat = repeat,
		.frame = m->f,
		.before = b ? bump_before : NULL,
		.after = b ? bump_after : NULL,
		.ctx = b,
	};

	snprintf(c.name, sizeof(c.name), "%s %s, %d CPU", program, path, ncpu);
	return cfg_add(&m->set, &c);
}

/* One floor per CPU count, then every variant's hit path. */
static int add_hits(struct maps_ctx *m, int ncpu, uint32_t repeat)
{
	int fl = add(m, "floor", "hit", 0, ncpu, bpf_program__fd(m->floor->progs.xdp_bump), -1,
		     repeat, NULL);

	if (fl < 0)
		return fl;
	/* Hits bump nothing: the insert configurations share the program's .bss. */
	for (int i = 0; i < NVARIANTS; i++)
		if (add(m, m->v[i].name, "hit", m->v[i].flows, ncpu, m->v[i].fd[0], fl, repeat,
			new_bump(m, m->a, 0, 0, -1)) < 0)
			return -ENOMEM;
	if (ncpu == 1)
		for (int fl2 = 0; fl2 < 2; fl2++)
			if (add(m, fl2 ? "traffic-counter (flows on)" : "traffic-counter", "hit",
				fl2, 1, bpf_program__fd(m->real[fl2]->progs.TFC_PROG_XDP), fl,
				repeat, NULL) < 0)
				return -ENOMEM;
	return fl;
}

/* New keys on every packet: IP inserts (deleted again), LRU evictions. */
static int add_misses(struct maps_ctx *m, int ncpu, int floor, uint32_t repeat, uint32_t ins)
{
	uint32_t ifindex = if_nametoindex("lo");

	for (int i = 0; i < NVARIANTS; i++) {
		struct bump *b;
		int rc;

		if (!m->v[i].flows) {
			int ip_fd =
				bpf_map__fd(i == 0 ? m->a->maps.ip_percpu : m->a->maps.ip_shared);

			b = new_bump(m, m->a, (uint32_t)m->f.src_off, 0x40000000, ip_fd);
			b->ifindex = ifindex;
			b->keys = calloc((size_t)ncpu * ins, sizeof(struct ip_key));
			if (!b->keys)
				return -ENOMEM;
			rc = add(m, m->v[i].name, "insert", 0, ncpu, m->v[i].fd[0], floor, ins, b);
		} else {
			b = new_bump(m, m->b, (uint32_t)m->f.l4_off, 0x40000000, -1);
			rc = add(m, m->v[i].name, "lru_evict", 1, ncpu, m->v[i].fd[1], floor,
				 repeat, b);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The eviction instance's flow maps, full from every CPU (per-CPU LRU lists too). */
static int fill_flow_maps(struct maps_ctx *m)
{
	uint32_t n = TFC_FLOW_MAP_DEFAULT_ENTRIES, ncpu = (uint32_t)cfg_cpus();
	int rc = 0;

	for (uint32_t cpu = 0; cpu < ncpu && !rc; cpu++) {
		if ((rc = bench_pin_cpu((int)cpu)))
			break;
		for (int i = 0; i < NVARIANTS && !rc; i++)
			if (m->v[i].flows)
				rc = bump_fill(m->v[i].fd[1], &m->b->bss->bump_off,
					       &m->b->bss->bump_mod, &m->f, (uint32_t)m->f.l4_off,
					       cpu * n, n);
	}
	return rc ? rc : bench_pin_cpu(0);
}

static int maps_setup(struct maps_ctx *m, uint32_t repeat, uint32_t ins)
{
	int ncpu = cfg_cpus(), rc;
	uint32_t ip_entries = TFC_IP_MAP_DEFAULT_ENTRIES;

	if ((uint64_t)ncpu * ins + 1024 > ip_entries)
		ip_entries = (uint32_t)ncpu * ins + 1024;
	m->floor = bench_floor__open_and_load();
	m->a = variants_open(ip_entries);
	m->b = variants_open(ip_entries);
	for (int i = 0; i < 2; i++) {
		m->real[i] = traffic_counter_bpf__open_and_load();
		if (m->real[i] && set_flags(bpf_map__fd(m->real[i]->maps.traffic_control),
					    i ? TFC_FLAG_FLOW_COUNTERS : 0))
			return -EIO;
	}
	if (!m->floor || !m->a || !m->b || !m->real[0] || !m->real[1])
		return -EINVAL;
	variants_list(m->v, m->a, m->b);
	frame_build(FRAME_IPV4, NULL, &m->f);
	if ((rc = bench_hold_xdp(bpf_program__fd(m->floor->progs.xdp_bump))) ||
	    (rc = bench_hold_xdp(bpf_program__fd(m->real[0]->progs.TFC_PROG_XDP))) ||
	    (rc = bench_hold_xdp(bpf_program__fd(m->real[1]->progs.TFC_PROG_XDP))))
		return rc;
	for (int i = 0; i < NVARIANTS; i++)
		for (int k = 0; k < 2; k++)
			if ((rc = bench_hold_xdp(m->v[i].fd[k])))
				return rc;
	if ((rc = fill_flow_maps(m)))
		return rc;
	/* One CPU, then every CPU at once (when there is more than one). */
	for (int n = 1; n <= ncpu; n = n == ncpu ? ncpu + 1 : ncpu) {
		int fl = add_hits(m, n, repeat);

		if (fl < 0)
			return fl;
		if ((rc = add_misses(m, n, fl, repeat, ins)))
			return rc;
	}
	/* The first run of each inserts its key: the rounds measure hits. */
	for (int i = 0; i < m->set.n; i++) {
		double ns;

		if (!m->set.v[i].before &&
		    (rc = bench_run(m->set.v[i].prog_fd, m->f.buf, m->f.len, 10, &ns)))
			return rc;
	}
	return 0;
}

static void maps_free(struct maps_ctx *m)
{
	cfg_workers_stop();
	for (int i = 0; i < m->nbumps; i++)
		free(m->bumps[i].keys);
	cfg_free(&m->set);
	for (int i = 0; i < 2; i++)
		traffic_counter_bpf__destroy(m->real[i]);
	bench_variants__destroy(m->a);
	bench_variants__destroy(m->b);
	bench_floor__destroy(m->floor);
}

static int maps_run(const char *out)
{
	int rounds = (int)env_long("BENCH_ROUNDS", 31);
	uint32_t repeat = (uint32_t)env_long("BENCH_REPEAT", 20000), ins = 4096;
	struct maps_ctx *m = calloc(1, sizeof(*m));
	struct json_object *top, *arr;
	int rc;

	if (!m)
		return -ENOMEM;
	progress("map choices: loading the variants and filling the flow maps");
	rc = maps_setup(m, repeat, ins);
	if (!rc)
		rc = cfg_run(&m->set, rounds, "map choices");
	if (!rc) {
		top = json_object_new_object();
		arr = json_object_new_array();
		json_set_int(top, "rounds", rounds);
		json_set_int(top, "repeat", repeat);
		json_set_int(top, "insert_repeat", ins);
		json_set_int(top, "flow_map_entries", TFC_FLOW_MAP_DEFAULT_ENTRIES);
		for (int i = 0; i < m->set.n; i++)
			json_object_array_add(arr, cfg_json(&m->set.v[i], rounds));
		json_object_object_add(top, "results", arr);
		rc = json_write(top, out);
		json_object_put(top);
	}
	maps_free(m);
	free(m);
	return rc;
}

/* ------------------------------------------------------------ memory -- */

static long fdinfo_memlock(int fd)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int maps_memory(const char *out)
{
	const struct {
		const char *name;
		enum bpf_map_type type;
		uint32_t key, value, flags;
		int percpu;
	} types[] = {
		{"ip: per-CPU hash", BPF_MAP_TYPE_PERCPU_HASH, sizeof(struct ip_key),
		 sizeof(struct counters), 0, 1},
		{"ip: shared hash, atomics", BPF_MAP_TYPE_HASH, sizeof(struct ip_key),
		 sizeof(struct counters), 0, 0},
		{"flow: shared LRU, atomics", BPF_MAP_TYPE_LRU_HASH, sizeof(struct flow_key),
		 sizeof(struct flow_value), 0, 0},
		{"flow: per-CPU LRU", BPF_MAP_TYPE_LRU_PERCPU_HASH, sizeof(struct flow_key),
		 sizeof(struct flow_value), 0, 1},
		{"flow: LRU, BPF_F_NO_COMMON_LRU, atomics", BPF_MAP_TYPE_LRU_HASH,
		 sizeof(struct flow_key), sizeof(struct flow_value), BPF_F_NO_COMMON_LRU, 0},
	};
	const uint32_t sizes[] = {65536, 1048576};
	int ncpu = libbpf_num_possible_cpus(), rc = 0;
	struct json_object *top = json_object_new_object(), *arr = json_object_new_array();

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]) && !rc; t++) {
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = types[t].flags);
			struct json_object *o = json_object_new_object();
			/* Per-CPU values: one 8-byte-aligned slot per possible CPU. */
			double slot = types[t].percpu ? (double)((types[t].value + 7) & ~7u) : 0;
			double per_entry, base;
			long memlock;
			int fd;

			fd = bpf_map_create(types[t].type, "tcb_mem", types[t].key, types[t].value,
					    sizes[k], &opts);
			if (fd < 0) {
				rc = fd;
				json_object_put(o);
				break;
			}
			memlock = fdinfo_memlock(fd);
			close(fd);
			per_entry = (double)memlock / sizes[k];
			base = per_entry - slot * ncpu;
			json_set_string(o, "map", types[t].name);
			json_set_int(o, "entries", sizes[k]);
			json_set_int(o, "memlock", memlock);
			json_set_double(o, "bytes_per_entry", per_entry);
			json_set_double(o, "bytes_per_entry_fixed", base);
			json_set_double(o, "bytes_per_entry_per_cpu", slot);
			json_set_double(o, "bytes_per_entry_64_cpus", base + slot * 64);
			json_set_double(o, "gib_per_million_64_cpus",
					(base + slot * 64) * 1e6 / (1024.0 * 1024 * 1024));
			json_object_array_add(arr, o);
		}
	}
	json_set_int(top, "possible_cpus", ncpu);
	json_object_object_add(top, "maps", arr);
	if (!rc)
		rc = json_write(top, out);
	json_object_put(top);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc != 3 || (strcmp(argv[1], "run") && strcmp(argv[1], "memory"))) {
		fprintf(stderr, "usage: maps_bench run|memory OUT.json\n");
		return 2;
	}
	libbpf_set_print(libbpf_quiet);
	if ((rc = bench_private_netns()) || (rc = bench_pin_cpu(0))) {
		fprintf(stderr, "maps_bench: %s (needs root)\n", strerror(-rc));
		return 1;
	}
	rc = strcmp(argv[1], "run") ? maps_memory(argv[2]) : maps_run(argv[2]);
	if (rc)
		fprintf(stderr, "maps_bench %s: %s\n", argv[1], strerror(-rc));
	return rc ? 1 : 0;
}
