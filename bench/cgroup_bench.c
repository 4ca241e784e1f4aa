// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup_bench: per-packet cost of the cgroup_skb programs (tfc_cg_ingress,
 * tfc_cg_egress) against a cgroup_skb program that only allows, as a ratio
 * in the same rounds (rounds.h), with BPF_PROG_TEST_RUN: the 64-byte and
 * the 1500-byte IPv4 frames (the programs see L3), the hit path (the key
 * exists), at --cgroup-depth 0 and 1 (an ancestor lookup more).
 *
 *   cgroup_bench OUT.json
 *
 * Environment: BENCH_ROUNDS, BENCH_REPEAT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_lib.h"
#include "rounds.h"
#include "abi/traffic_counter_abi.h"
#include "traffic_counter.skel.h"
#include "cg_floor.skel.h"

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

/* The cgroup programs alone, keyed at `depth` below the root. */
static struct traffic_counter_bpf *cg_open(uint32_t depth)
{
	struct traffic_counter_bpf *s = traffic_counter_bpf__open();
	struct bpf_program *p;

	if (!s)
		return NULL;
	for (p = bpf_object__next_program(s->obj, NULL); p; p = bpf_object__next_program(s->obj, p))
		bpf_program__set_autoload(p, false);
	bpf_program__set_autoload(s->progs.TFC_PROG_CG_EGRESS, true);
	s->rodata->cfg_cg_depth = depth;
	if (traffic_counter_bpf__load(s)) {
		traffic_counter_bpf__destroy(s);
		return NULL;
	}
	return s;
}

static int add(struct cfg_set *s, const struct frame *f, const char *program, const char *path,
	       int fd, int floor, uint32_t repeat)
{
	struct cfg c = {
		.hook = "cgroup_skb",
		.program = program,
		.path = path,
		.prog_fd = fd,
		.floor = floor,
		.repeat = repeat,
		.frame = *f,
	};

	snprintf(c.name, sizeof(c.name), "cgroup_skb %s %s %s", f->name, program, path);
	return cfg_add(s, &c);
}

static int configs(struct cfg_set *s, int floor_fd, int real_fd[2], uint32_t repeat)
{
	const enum frame_kind kinds[] = {FRAME_IPV4, FRAME_IPV4_1500};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct frame f;
		int fl, rc;

		frame_build(kinds[k], NULL, &f);
		fl = add(s, &f, "floor", "allow", floor_fd, -1, repeat);
		if (fl < 0)
			return fl;
		rc = add(s, &f, "traffic-counter", "depth 0", real_fd[0], fl, repeat);
		if (rc >= 0)
			rc = add(s, &f, "traffic-counter", "depth 1", real_fd[1], fl, repeat);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int write_results(struct cfg_set *s, int rounds, uint32_t repeat, const char *out)
{
	struct json_object *top = json_object_new_object(), *arr = json_object_new_array();
	int rc;

	json_set_int(top, "rounds", rounds);
	json_set_int(top, "repeat", repeat);
	for (int i = 0; i < s->n; i++) {
		json_object_array_add(arr, cfg_json(&s->v[i], s->rounds));
		if (s->v[i].floor >= 0)
			printf("  %-46s %6.1f ns, %.2fx the allow-only program (%.1f ns)\n",
			       s->v[i].name, stat_median(s->v[i].ns, (size_t)s->rounds),
			       stat_median(s->v[i].ratio, (size_t)s->rounds),
			       stat_median(s->v[s->v[i].floor].ns, (size_t)s->rounds));
	}
	json_object_object_add(top, "results", arr);
	rc = json_write(top, out);
	json_object_put(top);
	return rc;
}

static int cgroup_bench(const char *out)
{
	int rounds = (int)env_long("BENCH_ROUNDS", 61);
	uint32_t repeat = (uint32_t)env_long("BENCH_REPEAT", 20000);
	struct traffic_counter_bpf *real[2] = {cg_open(0), cg_open(1)};
	struct bench_cg_floor *floor = bench_cg_floor__open_and_load();
	struct cfg_set set = {0};
	int fds[2], rc = -EINVAL;

	if (!floor || !real[0] || !real[1]) {
		fprintf(stderr, "cgroup_bench: cannot load the programs (see above)\n");
		goto out;
	}
	for (int i = 0; i < 2; i++)
		fds[i] = bpf_program__fd(real[i]->progs.TFC_PROG_CG_EGRESS);
	rc = configs(&set, bpf_program__fd(floor->progs.cg_allow), fds, repeat);
	/* The first run inserts the key: the rounds then measure the hit path. */
	for (int i = 0; !rc && i < set.n; i++) {
		double ns;

		rc = bench_run(set.v[i].prog_fd, set.v[i].frame.buf, set.v[i].frame.len, 100, &ns);
	}
	if (!rc)
		rc = cfg_run(&set, rounds, "cgroup programs");
	if (!rc)
		rc = write_results(&set, rounds, repeat, out);
out:
	cfg_free(&set);
	for (int i = 0; i < 2; i++)
		traffic_counter_bpf__destroy(real[i]);
	bench_cg_floor__destroy(floor);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: cgroup_bench OUT.json\n");
		return 2;
	}
	libbpf_set_print(libbpf_quiet);
	if ((rc = bench_private_netns()) || (rc = bench_pin_cpu(0))) {
		fprintf(stderr, "cgroup_bench: %s (needs root)\n", strerror(-rc));
		return 1;
	}
	rc = cgroup_bench(argv[1]);
	if (rc)
		fprintf(stderr, "cgroup_bench: %s\n", strerror(-rc));
	return rc ? 1 : 0;
}
