// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Frames, timing, the private namespace and output; see bench_lib.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* unshare, sched_setaffinity */
#endif
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_lib.h"

/* ------------------------------------------------------------ frames -- */

struct writer {
	struct frame *f;
	size_t pos;
};

static void put8(struct writer *w, uint8_t v)
{
	w->f->buf[w->pos++] = v;
}

static void put16(struct writer *w, uint16_t v)
{
	put8(w, (uint8_t)(v >> 8));
	put8(w, (uint8_t)v);
}

static void put32(struct writer *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

static void put_bytes(struct writer *w, const void *p, size_t n)
{
	memcpy(w->f->buf + w->pos, p, n);
	w->pos += n;
}

static uint16_t ipv4_csum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static const struct frame_addrs default_addrs = {
	.dst_mac = {0x02, 0, 0, 0, 0, 0x02},
	.src_mac = {0x02, 0, 0, 0, 0, 0x01},
	.src4 = 0xc6120001, /* 198.18.0.1 */
	.dst4 = 0xc6120002,
};

static const char *const frame_names[FRAME_COUNT] = {
	[FRAME_IPV4] = "ipv4_64",	 [FRAME_IPV6] = "ipv6_84",
	[FRAME_VLAN] = "vlan_ipv4_68",	 [FRAME_QINQ_IPV6] = "qinq_ipv6_92",
	[FRAME_IPV4_1500] = "ipv4_1500",
};

static void put_udp(struct writer *w, size_t payload)
{
	w->f->l4_off = w->pos;
	put16(w, 1024);
	put16(w, 9);
	put16(w, (uint16_t)(8 + payload));
	put16(w, 0);
	memset(w->f->buf + w->pos, 0, payload);
	w->pos += payload;
}

static void put_ipv4(struct writer *w, const struct frame_addrs *a, size_t payload)
{
	size_t ip = w->pos;

	put8(w, 0x45);
	put8(w, 0);
	put16(w, (uint16_t)(20 + 8 + payload));
	put32(w, 0); /* id, no fragment */
	put8(w, 64);
	put8(w, 17); /* UDP */
	put16(w, 0);
	w->f->src_off = w->pos;
	put32(w, a->src4);
	put32(w, a->dst4);
	w->f->buf[ip + 10] = 0;
	put_udp(w, payload);
	{
		uint16_t c = ipv4_csum(w->f->buf + ip);

		w->f->buf[ip + 10] = (uint8_t)(c >> 8);
		w->f->buf[ip + 11] = (uint8_t)c;
	}
}

static void put_ipv6(struct writer *w, size_t payload)
{
	static const uint8_t src[16] = {0xfd, [15] = 1}, dst[16] = {0xfd, [15] = 2};

	put32(w, 0x60000000);
	put16(w, (uint16_t)(8 + payload));
	put8(w, 17);
	put8(w, 64);
	w->f->src_off = w->pos + 12;
	put_bytes(w, src, 16);
	put_bytes(w, dst, 16);
	put_udp(w, payload);
}

void frame_build(enum frame_kind kind, const struct frame_addrs *a, struct frame *f)
{
	struct writer w = {.f = f};

	if (!a)
		a = &default_addrs;
	memset(f, 0, sizeof(*f));
	f->name = frame_names[kind];
	put_bytes(&w, a->dst_mac, 6);
	put_bytes(&w, a->src_mac, 6);
	switch (kind) {
	case FRAME_IPV4:
		put16(&w, 0x0800);
		put_ipv4(&w, a, 64 - 42);
		break;
	case FRAME_IPV4_1500:
		put16(&w, 0x0800);
		put_ipv4(&w, a, 1500 - 42);
		break;
	case FRAME_VLAN:
		put16(&w, 0x8100);
		put16(&w, 100);
		put16(&w, 0x0800);
		put_ipv4(&w, a, 22);
		break;
	case FRAME_IPV6:
		put16(&w, 0x86dd);
		put_ipv6(&w, 22);
		break;
	case FRAME_QINQ_IPV6:
		put16(&w, 0x88a8);
		put16(&w, 200);
		put16(&w, 0x8100);
		put16(&w, 100);
		put16(&w, 0x86dd);
		put_ipv6(&w, 22);
		break;
	case FRAME_COUNT:
		break;
	}
	f->len = w.pos;
}

/* ------------------------------------------------------------ timing -- */

static double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

double mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int bench_run(int prog_fd, const void *frame, size_t len, uint32_t repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = repeat);
	double t0, t1;
	int rc;

	t0 = thread_cpu_ns();
	rc = bpf_prog_test_run_opts(prog_fd, &opts);
	t1 = thread_cpu_ns();
	if (rc)
		return rc < 0 ? rc : -rc;
	*ns = (t1 - t0) / repeat;
	return 0;
}

/* ------------------------------------------------- namespace, holding -- */

int bench_private_netns(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	return 0;
}

int bench_hold_xdp(int prog_fd)
{
	static int devs; /* veth ends created so far; even: "tcbhN", odd: "tcbhNp" */
	char name[IF_NAMESIZE], cmd[128];
	int ifindex, rc;

	if (devs % 2 == 0) {
		/* A namespace reused by a second run may still have ours. */
		snprintf(cmd, sizeof(cmd),
			 "ip link del tcbh%d 2>/dev/null; ip link add tcbh%d type veth peer name "
			 "tcbh%dp",
			 devs / 2, devs / 2, devs / 2);
		if (system(cmd) != 0)
			return -EIO;
	}
	snprintf(name, sizeof(name), devs % 2 ? "tcbh%dp" : "tcbh%d", devs / 2);
	devs++;
	ifindex = (int)if_nametoindex(name);
	if (!ifindex)
		return -errno;
	rc = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
	return rc < 0 ? rc : 0;
}

int bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* ------------------------------------------------------------- stats -- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double stat_quantile(const double *v, size_t n, double q)
{
	double *s, pos, r;
	size_t i;

	if (!n)
		return NAN;
	s = malloc(n * sizeof(*s));
	if (!s)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	pos = q * (double)(n - 1);
	i = (size_t)pos;
	r = i + 1 < n ? s[i] + (pos - (double)i) * (s[i + 1] - s[i]) : s[i];
	free(s);
	return r;
}

double stat_median(const double *v, size_t n)
{
	return stat_quantile(v, n, 0.5);
}

/* -------------------------------------------------------------- json -- */

void json_set_double(struct json_object *o, const char *key, double v)
{
	/* Four significant decimals are plenty for timings and ratios. */
	json_object_object_add(o, key,
			       isfinite(v) ? json_object_new_double(round(v * 1e4) / 1e4) : NULL);
}

void json_set_string(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

void json_set_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

struct json_object *json_summary(const double *v, size_t n)
{
	struct json_object *o = json_object_new_object();

	json_set_double(o, "median", stat_median(v, n));
	json_set_double(o, "p25", stat_quantile(v, n, 0.25));
	json_set_double(o, "p75", stat_quantile(v, n, 0.75));
	json_set_int(o, "n", (int64_t)n);
	return o;
}

int json_write(struct json_object *o, const char *path)
{
	if (json_object_to_file_ext(path, o,
				    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE))
		return -EIO;
	return 0;
}

/* ---------------------------------------------------------- progress -- */

void progress(const char *fmt, ...)
{
	va_list ap;

	const char *step = getenv("BENCH_STEP"); /* e.g. "[6/7]", set by run.sh */

	fprintf(stderr, "%s ", step && *step ? step : "     ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

long env_long(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 10);
	return *end || v <= 0 ? def : v;
}
