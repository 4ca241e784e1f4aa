/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Round-robin measurement: a set of configurations (a program, a frame, a
 * repeat count, optional steps before and after each run) is run one after
 * the other, round after round, so that whatever else the machine does
 * falls on all of them alike. Each configuration names its floor; its
 * ratio is taken per round against the floor's run of the same round and
 * the median of those ratios is reported.
 */
#ifndef BENCH_ROUNDS_H
#define BENCH_ROUNDS_H

#include <stdint.h>

#include <linux/types.h>

#include "bench_lib.h"

#define MAX_CPUS 64 /* CPUs a configuration runs on at once, at most */

struct cfg;

/* Called with the frames about to be run (which it may change); 0 or -errno. */
typedef int (*cfg_hook)(struct cfg *c, int round);

struct cfg {
	char name[64];
	const char *hook;    /* "xdp" or "tc" */
	const char *program; /* "floor", "traffic-counter", "naive", a variant name */
	const char *path;    /* what is measured, e.g. "hit", "insert" */
	int flows;
	int ncpu; /* 1, or CPUs 0..ncpu-1 at once (one thread each); ns: their mean */
	int prog_fd;
	int floor; /* index of this configuration's floor; -1 for a floor */
	uint32_t repeat;
	struct frame frame;
	uint8_t (*run_buf)[FRAME_MAX]; /* per CPU: the frame as run this time */
	cfg_hook before, after;
	void *ctx;
	double *ns; /* per round */
	double *ratio;
};

struct cfg_set {
	struct cfg *v;
	int n, cap;
	int rounds;
};

/* Appends a configuration; returns its index or -ENOMEM. */
int cfg_add(struct cfg_set *s, const struct cfg *c);
/* Runs every configuration `rounds` times, round-robin, starting each
 * round one place further so no configuration always follows the same
 * one. `label` prefixes the progress lines. */
int cfg_run(struct cfg_set *s, int rounds, const char *label);
/* {name, hook, program, path, flows, cpus, frame, frame_len, repeat, ns, ratio} */
struct json_object *cfg_json(const struct cfg *c, int rounds);
void cfg_free(struct cfg_set *s);
/* Stops the threads that ran multi-CPU configurations. */
void cfg_workers_stop(void);
/* CPUs online, at most MAX_CPUS: how many a multi-CPU configuration uses. */
int cfg_cpus(void);

/*
 * A new key on every packet (see bench_bump.h), as `before`/`after` hooks
 * with a struct bump as ctx: which field, which modulus, from which value
 * each round, and whether the keys inserted are deleted afterwards so the
 * map keeps the same number of entries. Each CPU of a multi-CPU
 * configuration gets keys of its own.
 */
struct bump {
	volatile __u32 *off_var, *mod_var; /* in the program's .bss; off 0: no bump */
	uint32_t off, mod;
	uint32_t base; /* mod 0: round r starts after base + r * repeat */
	int ip_fd;     /* >= 0: delete the inserted keys from this IP map after */
	uint32_t ifindex;
	void *keys; /* room for ncpu * repeat struct ip_key */
};

int bump_before(struct cfg *c, int round);
int bump_after(struct cfg *c, int round);
/* Inserts keys first..first+n-1 of the field at `off` by running the program. */
int bump_fill(int prog_fd, volatile __u32 *off_var, volatile __u32 *mod_var, const struct frame *f,
	      uint32_t off, uint32_t first, uint32_t n);

#endif /* BENCH_ROUNDS_H */
