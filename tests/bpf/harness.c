// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Skeleton loading, BPF_PROG_TEST_RUN and map reading; see harness.h. */
#include <errno.h>
#include <stddef.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "traffic_counter.skel.h"

const struct prog_info prog_infos[PROG_COUNT] = {
	[PROG_XDP] = {TFC_STR(TFC_PROG_XDP), TFC_DIR_INGRESS, 2 /* XDP_PASS */},
	[PROG_XDP_LEGACY] = {TFC_STR(TFC_PROG_XDP_LEGACY), TFC_DIR_INGRESS, 2 /* XDP_PASS */},
	[PROG_TC_INGRESS] = {TFC_STR(TFC_PROG_TC_INGRESS), TFC_DIR_INGRESS, -1 /* TC_ACT_UNSPEC */},
	[PROG_TC_EGRESS] = {TFC_STR(TFC_PROG_TC_EGRESS), TFC_DIR_EGRESS, -1 /* TC_ACT_UNSPEC */},
};

struct harness {
	struct traffic_counter_bpf *skel;
	int prog_fd[PROG_COUNT];
	int ip_fd;
	int flow_fd;
	int control_fd;
	int stats_fd;
	int prefix_fd;
	int agg_fd;
	int memo_fd;
	int ncpus;
	struct counters *percpu; /* one value per possible CPU */
};

/* libbpf prints verifier logs on load failure; keep them, drop debug noise. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int harness_fds(struct harness *h)
{
	struct traffic_counter_bpf *s = h->skel;

	h->prog_fd[PROG_XDP] = bpf_program__fd(s->progs.TFC_PROG_XDP);
	h->prog_fd[PROG_XDP_LEGACY] = bpf_program__fd(s->progs.TFC_PROG_XDP_LEGACY);
	h->prog_fd[PROG_TC_INGRESS] = bpf_program__fd(s->progs.TFC_PROG_TC_INGRESS);
	h->prog_fd[PROG_TC_EGRESS] = bpf_program__fd(s->progs.TFC_PROG_TC_EGRESS);
	h->ip_fd = bpf_map__fd(s->maps.traffic_counters_ip);
	h->flow_fd = bpf_map__fd(s->maps.traffic_counters_flow);
	h->control_fd = bpf_map__fd(s->maps.traffic_control);
	h->stats_fd = bpf_map__fd(s->maps.traffic_stats);
	h->prefix_fd = bpf_map__fd(s->maps.traffic_counters_prefix);
	h->agg_fd = bpf_map__fd(s->maps.traffic_aggregate);
	h->memo_fd = bpf_map__fd(s->maps.tfc_full_memo);
	h->ncpus = libbpf_num_possible_cpus();
	if (h->ncpus <= 0)
		return h->ncpus ? h->ncpus : -EINVAL;
	h->percpu = calloc((size_t)h->ncpus, sizeof(*h->percpu));
	return h->percpu ? 0 : -ENOMEM;
}

/*
 * Opens and loads a fresh object. ip_max_entries 0 keeps the default size;
 * count_by is written to .rodata before load, as the loader does. On failure
 * returns NULL with errno set, so callers can tell "no BPF here" (EPERM,
 * ENOSYS) from a program the verifier rejects.
 */
struct harness *harness_open(uint32_t ip_max_entries, uint8_t count_by, char *err, size_t errlen)
{
	return harness_open_sized(ip_max_entries, 0, count_by, err, errlen);
}

struct harness *harness_open_sized(uint32_t ip_max_entries, uint32_t prefix_max_entries,
				   uint8_t count_by, char *err, size_t errlen)
{
	struct harness *h = calloc(1, sizeof(*h));
	int rc = 0;

	libbpf_set_print(libbpf_print);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->skel = traffic_counter_bpf__open();
	if (!h->skel) {
		rc = -errno;
		snprintf(err, errlen, "open skeleton: %s", strerror(errno));
		goto fail;
	}
	h->skel->rodata->cfg_count_by = count_by;
	if (ip_max_entries &&
	    (rc = bpf_map__set_max_entries(h->skel->maps.traffic_counters_ip, ip_max_entries))) {
		snprintf(err, errlen, "set_max_entries: %s", strerror(-rc));
		goto fail;
	}
	if (prefix_max_entries &&
	    (rc = bpf_map__set_max_entries(h->skel->maps.traffic_counters_prefix,
					   prefix_max_entries))) {
		snprintf(err, errlen, "set_max_entries: %s", strerror(-rc));
		goto fail;
	}
	rc = traffic_counter_bpf__load(h->skel);
	if (rc) {
		snprintf(err, errlen, "load skeleton: %s", strerror(-rc));
		goto fail;
	}
	rc = harness_fds(h);
	if (rc) {
		snprintf(err, errlen, "map setup: %s", strerror(-rc));
		goto fail;
	}
	return h;
fail:
	harness_close(h);
	errno = -rc;
	return NULL;
}

void harness_close(struct harness *h)
{
	if (!h)
		return;
	traffic_counter_bpf__destroy(h->skel);
	free(h->percpu);
	free(h);
}

/* Deletes every key; collects first since deleting breaks get_next_key order. */
static int clear_hash(int fd, size_t key_size)
{
	uint8_t keys[64][64];
	int n;

	if (key_size > sizeof(keys[0]))
		return -EINVAL;
	do {
		void *prev = NULL;

		for (n = 0; n < 64 && !bpf_map_get_next_key(fd, prev, keys[n]); n++)
			prev = keys[n];
		for (int i = 0; i < n; i++)
			if (bpf_map_delete_elem(fd, keys[i]) && errno != ENOENT)
				return -errno;
	} while (n == 64);
	return 0;
}

/* Forgets every CPU's memo of a full IP map, as a fresh load would. */
static int clear_memo(struct harness *h)
{
	struct tfc_full_memo *m = calloc((size_t)h->ncpus, sizeof(*m));
	uint32_t zero = 0;
	int rc = 0;

	if (!m)
		return -ENOMEM;
	if (bpf_map_update_elem(h->memo_fd, &zero, m, BPF_ANY))
		rc = -errno;
	free(m);
	return rc;
}

/*
 * Empties every map (the rules too), forgets the memo, and writes the
 * control entry with only `flags` set: overflow off.
 */
int harness_reset(struct harness *h, uint32_t control_flags)
{
	struct tfc_control ctl = {.flags = control_flags};
	uint32_t zero = 0;
	int rc;

	rc = clear_hash(h->ip_fd, sizeof(struct ip_key));
	if (!rc)
		rc = clear_hash(h->flow_fd, sizeof(struct flow_key));
	if (!rc)
		rc = clear_hash(h->stats_fd, sizeof(struct stat_key));
	if (!rc)
		rc = clear_hash(h->prefix_fd, sizeof(struct ip_key));
	if (!rc)
		rc = clear_hash(h->agg_fd, sizeof(struct tfc_agg_key));
	if (!rc)
		rc = clear_memo(h);
	if (rc)
		return rc;
	if (bpf_map_update_elem(h->control_fd, &zero, &ctl, BPF_ANY))
		return -errno;
	return 0;
}

/* Returns 0 or a negative errno from the kernel (e.g. -EINVAL for a runt). */
int harness_run(struct harness *h, enum prog_id prog, const void *frame, size_t len, int *retval)
{
	return harness_run_gso(h, prog, frame, len, 0, 0, retval);
}

int harness_run_repeat(struct harness *h, enum prog_id prog, const void *frame, size_t len,
		       uint32_t repeat, int *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = repeat);
	int rc = bpf_prog_test_run_opts(h->prog_fd[prog], &opts);

	if (rc)
		return rc < 0 ? rc : -rc;
	*retval = (int)opts.retval;
	return 0;
}

int harness_run_gso(struct harness *h, enum prog_id prog, const void *frame, size_t len,
		    uint32_t gso_segs, uint32_t gso_size, int *retval)
{
	struct __sk_buff skb = {.gso_segs = gso_segs, .gso_size = gso_size};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = 1);
	int rc;

	/* Only skb programs take these: they make the skb a GSO packet. */
	if (gso_segs) {
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	}
	rc = bpf_prog_test_run_opts(h->prog_fd[prog], &opts);
	if (rc)
		return rc < 0 ? rc : -rc;
	*retval = (int)opts.retval;
	return 0;
}

/* Sums a per-CPU counters value for one key. */
static int percpu_sum(struct harness *h, int fd, const void *key, struct counters *out)
{
	if (bpf_map_lookup_elem(fd, key, h->percpu))
		return -errno;
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < h->ncpus; c++) {
		out->bytes += h->percpu[c].bytes;
		out->packets += h->percpu[c].packets;
	}
	return 0;
}

/*
 * Walks a per-CPU hash of struct counters into an array of {key, counters}
 * records (`stride` bytes apart, the value at `val_off`). Returns how many
 * entries the map holds, so a caller seeing more than `max` knows.
 */
static int percpu_entries(struct harness *h, int fd, size_t key_size, void *out, size_t max,
			  size_t stride, size_t val_off)
{
	uint8_t key[64], prev[64] = {0};
	int n = 0;

	while (!bpf_map_get_next_key(fd, n ? prev : NULL, key)) {
		uint8_t *rec = (uint8_t *)out + (size_t)n * stride;

		if ((size_t)n < max) {
			int rc = percpu_sum(h, fd, key, (struct counters *)(rec + val_off));

			if (rc)
				return rc;
			memcpy(rec, key, key_size);
		}
		memcpy(prev, key, key_size);
		n++;
	}
	return n;
}

int harness_stat_entries(struct harness *h, struct tfc_stat_entry *out, size_t max)
{
	return percpu_entries(h, h->stats_fd, sizeof(out->key), out, max, sizeof(*out),
			      offsetof(struct tfc_stat_entry, val));
}

int harness_ip_entries(struct harness *h, struct tfc_ip_entry *out, size_t max)
{
	return percpu_entries(h, h->ip_fd, sizeof(out->key), out, max, sizeof(*out),
			      offsetof(struct tfc_ip_entry, val));
}

int harness_flow_entries(struct harness *h, struct tfc_flow_entry *out, size_t max)
{
	struct flow_key key, *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(h->flow_fd, prev, &key)) {
		if ((size_t)n < max) {
			out[n].key = key;
			if (bpf_map_lookup_elem(h->flow_fd, &key, &out[n].val))
				return -errno;
		}
		n++;
		prev = &key;
	}
	return n;
}

int harness_control(struct harness *h, struct tfc_control *out)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(h->control_fd, &zero, out) ? -errno : 0;
}

/* BPF_PROG_TEST_RUN without a ctx runs the frame "on" this netns' loopback. */
uint32_t harness_ifindex(void)
{
	static uint32_t idx;

	if (!idx)
		idx = if_nametoindex("lo");
	return idx ? idx : 1;
}

int harness_set_control(struct harness *h, const struct tfc_control *ctl)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(h->control_fd, &zero, ctl, BPF_ANY) ? -errno : 0;
}

int harness_prefix_entries(struct harness *h, struct tfc_ip_entry *out, size_t max)
{
	struct ip_key key, prev;
	int n = 0;

	while (!bpf_map_get_next_key(h->prefix_fd, n ? &prev : NULL, &key)) {
		if ((size_t)n < max) {
			out[n].key = key;
			if (bpf_map_lookup_elem(h->prefix_fd, &key, &out[n].val))
				return -errno;
		}
		prev = key;
		n++;
	}
	return n;
}

int harness_add_rule(struct harness *h, uint8_t family, const uint8_t *addr, uint8_t cidr_len,
		     uint8_t to_len)
{
	struct tfc_agg_key key = {.prefixlen = 8U + cidr_len, .data = {family}};
	struct tfc_agg_value val = {.prefix_len = to_len};

	memcpy(&key.data[1], addr, family == 4 ? 4 : 16);
	return bpf_map_update_elem(h->agg_fd, &key, &val, BPF_ANY) ? -errno : 0;
}

int harness_memo(struct harness *h, int cpu, struct tfc_full_memo *out)
{
	struct tfc_full_memo *m;
	uint32_t zero = 0;
	int rc = 0;

	if (cpu < 0 || cpu >= h->ncpus)
		return -EINVAL;
	m = calloc((size_t)h->ncpus, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (bpf_map_lookup_elem(h->memo_fd, &zero, m))
		rc = -errno;
	else
		*out = m[cpu];
	free(m);
	return rc;
}

int harness_ip_delete(struct harness *h, const struct ip_key *key)
{
	return bpf_map_delete_elem(h->ip_fd, key) ? -errno : 0;
}
