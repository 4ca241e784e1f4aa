/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the bench drivers share: crafted frames, running a program with
 * BPF_PROG_TEST_RUN and timing it by this thread's CPU time, a private
 * network namespace whose down veths hold XDP programs (see
 * bench_hold_xdp), medians, and JSON output.
 */
#ifndef BENCH_LIB_H
#define BENCH_LIB_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define FRAME_MAX 1600

enum frame_kind {
	FRAME_IPV4,	 /* 64 bytes, Ethernet + IPv4 + UDP */
	FRAME_IPV6,	 /* 84 bytes, Ethernet + IPv6 + UDP */
	FRAME_VLAN,	 /* 68 bytes, one 802.1Q tag + IPv4 + UDP */
	FRAME_QINQ_IPV6, /* 92 bytes, 802.1ad + 802.1Q tags + IPv6 + UDP */
	FRAME_IPV4_1500, /* 1500 bytes, Ethernet + IPv4 + UDP */
	FRAME_COUNT,
};

struct frame {
	const char *name;
	uint8_t buf[FRAME_MAX];
	size_t len;
	size_t src_off; /* first 4 bytes of the source address */
	size_t l4_off;	/* the UDP ports */
};

struct frame_addrs {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t src4, dst4; /* host order */
};

/* Builds one of the frames above; `a` NULL: 198.18.0.1 -> 198.18.0.2. */
void frame_build(enum frame_kind kind, const struct frame_addrs *a, struct frame *f);

/* Nanoseconds of this thread's CPU time, of CLOCK_MONOTONIC. */
double thread_cpu_ns(void);
double mono_ns(void);

/*
 * Runs prog_fd `repeat` times on the frame; *ns is this thread's CPU time
 * for the call divided by repeat (the kernel's own figure is rounded down
 * to whole nanoseconds, too coarse next to a ~10 ns floor, and CPU time
 * leaves out the time other tasks had the CPU). Returns 0 or -errno.
 */
int bench_run(int prog_fd, const void *frame, size_t len, uint32_t repeat, double *ns);

/* Moves this process into a new network namespace of its own (gone at exit). */
int bench_private_netns(void);

/*
 * Attaches an XDP program to a down veth of this namespace. XDP test runs
 * with repeat > 1 add the program to the XDP dispatcher and remove it
 * again, two RCU grace periods (~15 ms) per call; a program already
 * attached somewhere stays in the dispatcher, so the call costs what the
 * program costs.
 */
int bench_hold_xdp(int prog_fd);

/* Pins the calling thread to one CPU. */
int bench_pin_cpu(int cpu);

/* Median (and quartiles) of n values; sorts a copy. */
double stat_median(const double *v, size_t n);
double stat_quantile(const double *v, size_t n, double q);

/* {"median": .., "p25": .., "p75": ..} of n values. */
struct json_object *json_summary(const double *v, size_t n);
void json_set_double(struct json_object *o, const char *key, double v);
void json_set_string(struct json_object *o, const char *key, const char *v);
void json_set_int(struct json_object *o, const char *key, int64_t v);
int json_write(struct json_object *o, const char *path);

/* A progress line on stderr, after $BENCH_STEP ("[3/7]") when set. */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Positive integer from the environment, or `def`. */
long env_long(const char *name, long def);

#endif /* BENCH_LIB_H */
