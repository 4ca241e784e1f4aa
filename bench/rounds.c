// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Round-robin runs and per-round ratios; see rounds.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "rounds.h"
#include "abi/traffic_counter_abi.h"

/*
 * One thread per CPU for multi-CPU configurations, pinned to CPUs
 * 0..n-1: all start a run on the same barrier, so their runs overlap.
 */
static struct {
	pthread_t thread[MAX_CPUS];
	pthread_barrier_t start, done;
	int n, quit;
	struct cfg *job;
	int rc[MAX_CPUS];
	double ns[MAX_CPUS];
} pool;

int cfg_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_CPUS ? MAX_CPUS : (int)n;
}

static void *worker(void *arg)
{
	int cpu = (int)(long)arg;

	if (bench_pin_cpu(cpu))
		fprintf(stderr, "bench: cannot pin a thread to CPU %d\n", cpu);
	for (;;) {
		struct cfg *c;

		pthread_barrier_wait(&pool.start);
		if (pool.quit)
			break;
		c = pool.job;
		if (cpu < c->ncpu)
			pool.rc[cpu] = bench_run(c->prog_fd, c->run_buf[cpu], c->frame.len,
						 c->repeat, &pool.ns[cpu]);
		pthread_barrier_wait(&pool.done);
	}
	return NULL;
}

static int workers_start(int n)
{
	if (pool.n)
		return n <= pool.n ? 0 : -EINVAL;
	if (pthread_barrier_init(&pool.start, NULL, (unsigned int)n + 1) ||
	    pthread_barrier_init(&pool.done, NULL, (unsigned int)n + 1))
		return -ENOMEM;
	for (long i = 0; i < n; i++)
		if (pthread_create(&pool.thread[i], NULL, worker, (void *)i))
			return -EAGAIN;
	pool.n = n;
	return 0;
}

void cfg_workers_stop(void)
{
	if (!pool.n)
		return;
	pool.quit = 1;
	pthread_barrier_wait(&pool.start);
	for (int i = 0; i < pool.n; i++)
		pthread_join(pool.thread[i], NULL);
	pool.n = 0;
}

int cfg_add(struct cfg_set *s, const struct cfg *c)
{
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		struct cfg *v = realloc(s->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = *c;
	if (s->v[s->n].ncpu < 1)
		s->v[s->n].ncpu = 1;
	s->v[s->n].run_buf = NULL;
	s->v[s->n].ns = NULL;
	s->v[s->n].ratio = NULL;
	return s->n++;
}

static int run_many(struct cfg *c, double *ns)
{
	int rc = workers_start(cfg_cpus());
	double sum = 0;

	if (rc)
		return rc;
	if (c->ncpu > pool.n)
		return -EINVAL;
	pool.job = c;
	pthread_barrier_wait(&pool.start);
	pthread_barrier_wait(&pool.done);
	for (int i = 0; i < c->ncpu; i++) {
		if (pool.rc[i])
			return pool.rc[i];
		sum += pool.ns[i];
	}
	*ns = sum / c->ncpu;
	return 0;
}

static int run_one(struct cfg *c, int round)
{
	int rc;

	for (int i = 0; i < c->ncpu; i++)
		memcpy(c->run_buf[i], c->frame.buf, c->frame.len);
	if (c->before && (rc = c->before(c, round)))
		return rc;
	if (c->ncpu > 1)
		rc = run_many(c, &c->ns[round]);
	else
		rc = bench_run(c->prog_fd, c->run_buf[0], c->frame.len, c->repeat, &c->ns[round]);
	if (rc) {
		fprintf(stderr, "bench: test run of %s: %s\n", c->name, strerror(-rc));
		return rc;
	}
	return c->after ? c->after(c, round) : 0;
}

int cfg_run(struct cfg_set *s, int rounds, const char *label)
{
	int step = rounds >= 10 ? rounds / 5 : 1;

	for (int i = 0; i < s->n; i++) {
		struct cfg *c = &s->v[i];

		c->ns = calloc((size_t)rounds, sizeof(double));
		c->ratio = calloc((size_t)rounds, sizeof(double));
		c->run_buf = calloc((size_t)c->ncpu, sizeof(*c->run_buf));
		if (!c->ns || !c->ratio || !c->run_buf)
			return -ENOMEM;
	}
	s->rounds = rounds;
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < s->n; k++) {
			int rc = run_one(&s->v[(r + k) % s->n], r);

			if (rc)
				return rc;
		}
		for (int i = 0; i < s->n; i++) {
			struct cfg *c = &s->v[i];

			c->ratio[r] = c->floor >= 0 ? c->ns[r] / s->v[c->floor].ns[r] : 1.0;
		}
		if ((r + 1) % step == 0 || r + 1 == rounds)
			progress("%s: round %d/%d", label, r + 1, rounds);
	}
	return 0;
}

struct json_object *cfg_json(const struct cfg *c, int rounds)
{
	struct json_object *o = json_object_new_object();

	json_set_string(o, "name", c->name);
	json_set_string(o, "hook", c->hook);
	json_set_string(o, "program", c->program);
	json_set_string(o, "path", c->path ? c->path : "hit");
	json_object_object_add(o, "flows", json_object_new_boolean(c->flows));
	json_set_int(o, "cpus", c->ncpu);
	json_set_string(o, "frame", c->frame.name);
	json_set_int(o, "frame_len", (int64_t)c->frame.len);
	json_set_int(o, "repeat", c->repeat);
	json_object_object_add(o, "ns", json_summary(c->ns, (size_t)rounds));
	if (c->floor >= 0)
		json_object_object_add(o, "ratio", json_summary(c->ratio, (size_t)rounds));
	return o;
}

void cfg_free(struct cfg_set *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->v[i].ns);
		free(s->v[i].ratio);
		free(s->v[i].run_buf);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Each CPU: a 1/64 slice of the key space, or its own point of the cycle. */
static uint32_t bump_start(const struct cfg *c, int round, int cpu)
{
	const struct bump *b = c->ctx;

	if (b->mod)
		return (uint32_t)(((uint64_t)round * 2654435761u +
				   (uint64_t)b->mod * (uint64_t)cpu / (uint64_t)c->ncpu) %
				  b->mod);
	return b->base + (uint32_t)cpu * 0x01000000u + (uint32_t)round * c->repeat;
}

int bump_before(struct cfg *c, int round)
{
	struct bump *b = c->ctx;

	*b->off_var = b->off;
	*b->mod_var = b->mod;
	if (!b->off) /* no bump: the program's other configurations may have set one */
		return 0;
	for (int cpu = 0; cpu < c->ncpu; cpu++) {
		uint32_t v = bump_start(c, round, cpu);

		memcpy(c->run_buf[cpu] + b->off, &v, sizeof(v));
	}
	return 0;
}

int bump_after(struct cfg *c, int round)
{
	struct bump *b = c->ctx;
	struct ip_key *keys = b->keys;
	uint32_t count = 0;

	if (b->ip_fd < 0)
		return 0;
	for (int cpu = 0; cpu < c->ncpu; cpu++) {
		uint32_t v = bump_start(c, round, cpu);

		for (uint32_t i = 0; i < c->repeat; i++, count++) {
			uint32_t a = v + 1 + i;

			memset(&keys[count], 0, sizeof(keys[count]));
			keys[count].ifindex = b->ifindex;
			keys[count].family = 4;
			memcpy(keys[count].addr, &a, sizeof(a));
		}
	}
	if (bpf_map_delete_batch(b->ip_fd, keys, &count, NULL) && errno != ENOENT)
		return -errno;
	return 0;
}

int bump_fill(int prog_fd, volatile __u32 *off_var, volatile __u32 *mod_var, const struct frame *f,
	      uint32_t off, uint32_t first, uint32_t n)
{
	uint8_t buf[FRAME_MAX];
	uint32_t v = first - 1; /* the program bumps before it counts */
	double ns;

	memcpy(buf, f->buf, f->len);
	memcpy(buf + off, &v, sizeof(v));
	*off_var = off;
	*mod_var = 0;
	return bench_run(prog_fd, buf, f->len, n, &ns);
}
