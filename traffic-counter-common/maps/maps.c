// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>

#include "util/log.h"
#include "maps.h"

/* dump_entries relies on the value closing each entry. */
_Static_assert(offsetof(struct tfc_ip_entry, val) + sizeof(struct counters) ==
		       sizeof(struct tfc_ip_entry),
	       "tfc_ip_entry layout");
_Static_assert(offsetof(struct tfc_stat_entry, val) + sizeof(struct counters) ==
		       sizeof(struct tfc_stat_entry),
	       "tfc_stat_entry layout");
_Static_assert(offsetof(struct tfc_flow_entry, val) + sizeof(struct flow_value) ==
		       sizeof(struct tfc_flow_entry),
	       "tfc_flow_entry layout");

/* Linux's ENOTSUPP (524), returned by maps without batch ops. */
#define TFC_ENOTSUPP 524

struct map_shape {
	const char *name;
	__u32 type;
	__u32 key_size;
	__u32 value_size;
};

static const struct map_shape shapes[TFC_MAP_KIND_MAX] = {
	[TFC_MAP_IP] = {TFC_IP_MAP_NAME, BPF_MAP_TYPE_PERCPU_HASH, sizeof(struct ip_key),
			sizeof(struct counters)},
	[TFC_MAP_FLOW] = {TFC_FLOW_MAP_NAME, BPF_MAP_TYPE_LRU_HASH, sizeof(struct flow_key),
			  sizeof(struct flow_value)},
	[TFC_MAP_CONTROL] = {TFC_CONTROL_MAP_NAME, BPF_MAP_TYPE_ARRAY, sizeof(__u32),
			     sizeof(struct tfc_control)},
	[TFC_MAP_STATS] = {TFC_STATS_MAP_NAME, BPF_MAP_TYPE_PERCPU_HASH, sizeof(struct stat_key),
			   sizeof(struct counters)},
};

const char *tfc_map_kind_name(enum tfc_map_kind kind)
{
	return kind < TFC_MAP_KIND_MAX ? shapes[kind].name : "unknown";
}

char *tfc_map_pin_buf(struct tfc_pins *pins, enum tfc_map_kind kind)
{
	char *p[TFC_MAP_KIND_MAX] = {pins->ip, pins->flow, pins->control, pins->stats};

	return kind < TFC_MAP_KIND_MAX ? p[kind] : NULL;
}

int tfc_map_check(const struct bpf_map_info *info, enum tfc_map_kind kind)
{
	const struct map_shape *s = &shapes[kind];

	/* The IP map may be a shared hash (attach --ip-map-type shared). */
	int type_ok =
		info->type == s->type || (kind == TFC_MAP_IP && info->type == BPF_MAP_TYPE_HASH);

	if (!type_ok || info->key_size != s->key_size || info->value_size != s->value_size)
		return -EPROTO;
	return 0;
}

/* BPF_OBJ_GET also opens pinned programs and links: only a map will do.
 * Without /proc, the info checks decide. */
static int is_map_fd(int fd)
{
	int kind = tfc_obj_kind(fd);

	return kind < 0 || kind == TFC_OBJ_MAP;
}

static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static void report_open_error(const char *pin, int err, unsigned int flags)
{
	/* EINVAL: a pinned program or link; a directory or a file off bpffs
	 * gives EPERM or EACCES, which is not a permission problem then. */
	if (err == -ENOTTY || err == -EINVAL || is_dir(pin) ||
	    (err != -ENOENT && err != -EACCES && err != -EPERM && !tfc_is_bpffs(pin)) ||
	    ((err == -EACCES || err == -EPERM) && !access(pin, F_OK) && !tfc_is_bpffs(pin)))
		tfc_err("%s is not a BPF map pin: pass the pin of a traffic-counter map "
			"(on bpffs, e.g. " TFC_PIN_DIR_DEFAULT "/" TFC_IP_MAP_NAME ")",
			pin);
	else if (err == -ENOENT)
		tfc_err("no map pinned at %s: attach first ('traffic-counter attach'), "
			"or pass the pin used then",
			pin);
	else if (err == -EPERM || err == -EACCES)
		tfc_err("cannot open %s: Permission denied; run as root, or give this user search "
			"permission on its directories and %s permission on the pin "
			"(PIN_GROUP in traffic-counter.conf does it for a group)",
			pin, (flags & TFC_OPEN_RDWR) ? "read-write" : "read");
	else
		tfc_err("cannot open %s: %s", pin, strerror(-err));
}

/*
 * Read-only unless asked otherwise: read permission on the pin is then
 * enough, and read-only bind mounts of the pin directory work.
 */
static int open_pin(const char *pin, struct bpf_map_info *info, unsigned int flags)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts,
		    .file_flags = (flags & TFC_OPEN_RDWR) ? 0 : BPF_F_RDONLY);
	__u32 len = sizeof(*info);
	int fd, err;

	fd = bpf_obj_get_opts(pin, &opts);
	if (fd >= 0 && !is_map_fd(fd)) {
		close(fd);
		fd = -1;
		errno = ENOTTY; /* a pinned program or link */
	}
	if (fd < 0) {
		err = -errno;
		if ((flags & TFC_OPEN_QUIET) || ((flags & TFC_OPEN_OPTIONAL) && err == -ENOENT))
			return err;
		report_open_error(pin, err, flags);
		return err;
	}
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		err = -errno;
		if (!(flags & TFC_OPEN_QUIET))
			tfc_err("%s is not a BPF map: %s", pin, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int tfc_control_version_fd(int fd, __u32 *version)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	__u8 *buf;
	int err = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	/* Every version's entry starts with flags and abi_version. */
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    !(info.map_flags & BPF_F_MMAPABLE) || info.value_size < TFC_CONTROL_V1_SIZE ||
	    info.value_size > 4096)
		return -EPROTO;
	buf = calloc(1, info.value_size);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, buf))
		err = -errno;
	else
		memcpy(version, buf + offsetof(struct tfc_control, abi_version), sizeof(*version));
	free(buf);
	return err;
}

void tfc_layout_message(FILE *f, const char *pin, __u32 version)
{
	if (version > TFC_ABI_VERSION)
		fprintf(f,
			"the maps beside %s have layout version %u, newer than this "
			"traffic-counter's version %u: use the newer traffic-counter, or "
			"'traffic-counter detach --all --purge' (counters are lost)",
			pin, version, (unsigned int)TFC_ABI_VERSION);
	else
		fprintf(f,
			"the maps beside %s have layout version %u, this traffic-counter uses "
			"version %u: run 'traffic-counter attach --iface IF --migrate' to carry "
			"the counters over to this version's layout",
			pin, version, (unsigned int)TFC_ABI_VERSION);
}

void tfc_layout_error(const char *pin, __u32 version)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msg, &len);

	if (!f) {
		tfc_err("the maps beside %s have layout version %u", pin, version);
		return;
	}
	tfc_layout_message(f, pin, version);
	fclose(f);
	tfc_err("%s", msg);
	free(msg);
}

int tfc_map_open(const char *pin, int kind, enum tfc_map_kind *kind_out, struct bpf_map_info *info)
{
	return tfc_map_open_flags(pin, kind, kind_out, info, 0);
}

int tfc_map_open_flags(const char *pin, int kind, enum tfc_map_kind *kind_out,
		       struct bpf_map_info *info, unsigned int flags)
{
	int fd = open_pin(pin, info, flags);
	__u32 version;

	if (fd < 0)
		return fd;
	if (kind < 0) {
		if (!tfc_map_check(info, TFC_MAP_IP))
			kind = TFC_MAP_IP;
		else if (!tfc_map_check(info, TFC_MAP_FLOW))
			kind = TFC_MAP_FLOW;
		else
			kind = TFC_MAP_KIND_MAX;
	}
	/* A control map of another layout version (0: half-made by a crash). */
	if (kind == TFC_MAP_CONTROL && tfc_map_check(info, kind) &&
	    !tfc_control_version_fd(fd, &version)) {
		if (flags & TFC_OPEN_ANY_LAYOUT)
			goto out;
		if (version && version != TFC_ABI_VERSION) {
			if (!(flags & TFC_OPEN_QUIET))
				tfc_layout_error(pin, version);
			close(fd);
			return -EPROTO;
		}
	}
	if (kind == TFC_MAP_KIND_MAX || tfc_map_check(info, kind)) {
		if (!(flags & TFC_OPEN_QUIET))
			tfc_err("%s is not a traffic-counter %s map of this version (type %u, "
				"key %u B, value %u B); it was made by another program or an "
				"incompatible version",
				pin, kind == TFC_MAP_KIND_MAX ? "IP or flow" : shapes[kind].name,
				info->type, info->key_size, info->value_size);
		close(fd);
		return -EPROTO;
	}
out:
	if (kind_out)
		*kind_out = kind;
	return fd;
}

int tfc_map_pin_purge(const char *pin, enum tfc_map_kind kind)
{
	struct bpf_map_info info;
	int fd, err;

	fd = tfc_map_open_flags(pin, kind, NULL, &info, TFC_OPEN_QUIET | TFC_OPEN_ANY_LAYOUT);
	if (fd < 0) {
		tfc_warn("left %s alone: it is not a traffic-counter %s map", pin,
			 tfc_map_kind_name(kind));
		return 0;
	}
	close(fd);
	err = tfc_pin_unlink(pin);
	if (!err)
		tfc_info("removed %s", pin);
	return err;
}

void tfc_counters_sum(const struct counters *percpu, int ncpu, struct counters *out)
{
	out->bytes = 0;
	out->packets = 0;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		out->bytes += percpu[cpu].bytes;
		out->packets += percpu[cpu].packets;
	}
}

static int batch_supported(void)
{
	const char *env = getenv("TRAFFIC_COUNTER_NO_BATCH");

	return !env || !*env || !strcmp(env, "0");
}

/* Where a walk by bpf_map_lookup_batch stands: the kernel's bucket token. */
struct batch_cursor {
	__u32 in, out;
	int started;
};

/*
 * Reads up to *count entries after the cursor, setting *count to how many
 * came. -ENOENT: the map ended (with the last *count); -EOPNOTSUPP on the
 * first call: no batch operations here, walk the keys instead.
 */
static int batch_step(int fd, struct batch_cursor *c, void *keys, void *vals, __u32 *count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int err;

	err = bpf_map_lookup_batch(fd, c->started ? &c->in : NULL, &c->out, keys, vals, count,
				   &opts)
		      ? -errno
		      : 0;
	if (!c->started && (err == -EINVAL || err == -TFC_ENOTSUPP || err == -EOPNOTSUPP))
		return -EOPNOTSUPP;
	c->in = c->out;
	c->started = 1;
	return err;
}

/* Returns 0 when the whole map was read, -EOPNOTSUPP to fall back. */
static int dump_batch(int fd, __u32 ksz, __u32 vsz, __u32 max, char *keys, char *vals, __u32 *n)
{
	struct batch_cursor c = {};
	__u32 count;
	int err;

	*n = 0;
	while (*n < max) {
		count = max - *n;
		err = batch_step(fd, &c, keys + (size_t)*n * ksz, vals + (size_t)*n * vsz, &count);
		if (err == -EOPNOTSUPP)
			return err;
		*n += count;
		if (err)
			return err == -ENOENT ? 0 : err;
	}
	return 0;
}

static int dump_keys(int fd, __u32 ksz, __u32 vsz, __u32 max, char *keys, char *vals, __u32 *n)
{
	char *prev = NULL, *cur;
	char *last = malloc(ksz);

	if (!last)
		return -ENOMEM;
	*n = 0;
	while (*n < max) {
		cur = keys + (size_t)*n * ksz;
		if (bpf_map_get_next_key(fd, prev, cur))
			break;
		memcpy(last, cur, ksz);
		prev = last;
		/* An entry deleted since get_next_key (LRU eviction) is skipped. */
		if (!bpf_map_lookup_elem(fd, cur, vals + (size_t)*n * vsz))
			(*n)++;
	}
	free(last);
	return 0;
}

static int dump_map(int fd, __u32 ksz, __u32 vsz, char **keys, char **vals, __u32 *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err;

	*keys = NULL;
	*vals = NULL;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*keys = calloc(info.max_entries ?: 1, ksz);
	*vals = calloc(info.max_entries ?: 1, vsz);
	if (!*keys || !*vals)
		return -ENOMEM;
	err = batch_supported() ? dump_batch(fd, ksz, vsz, info.max_entries, *keys, *vals, n)
				: -EOPNOTSUPP;
	if (err == -EOPNOTSUPP)
		err = dump_keys(fd, ksz, vsz, info.max_entries, *keys, *vals, n);
	return err;
}

/* Values per entry: one per possible CPU, or one for a shared IP map. */
static int value_slots(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return info.type == BPF_MAP_TYPE_HASH ? 1 : libbpf_num_possible_cpus();
}

/*
 * Dumps the map into `out`, an array of entries of entry_size bytes that
 * start with the ksz-byte key and end with the value: with ncpu > 0 the
 * map's per-CPU struct counters summed, else its vsz-byte value as it is.
 */
static int dump_entries(int fd, __u32 ksz, __u32 vsz, int ncpu, size_t entry_size, void **out,
			size_t *n)
{
	size_t tail = ncpu > 0 ? sizeof(struct counters) : vsz;
	char *keys = NULL, *vals = NULL, *e = NULL;
	__u32 count = 0;
	int err;

	err = dump_map(fd, ksz, vsz, &keys, &vals, &count);
	if (err)
		goto out;
	e = calloc(count ?: 1, entry_size);
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 i = 0; i < count; i++) {
		char *row = e + (size_t)i * entry_size;
		const char *val = vals + (size_t)i * vsz;

		memcpy(row, keys + (size_t)i * ksz, ksz);
		if (ncpu > 0)
			tfc_counters_sum((const struct counters *)val, ncpu,
					 (struct counters *)(row + entry_size - tail));
		else
			memcpy(row + entry_size - tail, val, tail);
	}
	*out = e;
	*n = count;
	e = NULL;
out:
	free(e);
	free(keys);
	free(vals);
	return err;
}

/* A per-CPU (or shared) hash of struct counters, summed: dump_entries. */
static int dump_percpu_counters(int fd, __u32 key_size, size_t entry_size, void **out, size_t *n)
{
	int ncpu = value_slots(fd);

	if (ncpu < 0)
		return ncpu;
	/* Per-CPU values come as one 8-byte-aligned slot per possible CPU. */
	return dump_entries(fd, key_size, sizeof(struct counters) * ncpu, ncpu, entry_size, out, n);
}

int tfc_dump_ip(int fd, struct tfc_ip_entry **out, size_t *n)
{
	return dump_percpu_counters(fd, sizeof(struct ip_key), sizeof(**out), (void **)out, n);
}

int tfc_dump_cgroup(int fd, struct tfc_cgroup_entry **out, size_t *n)
{
	return dump_percpu_counters(fd, sizeof(struct cgroup_key), sizeof(**out), (void **)out, n);
}

int tfc_cgroup_map_open(const char *pin, struct bpf_map_info *info, unsigned int flags)
{
	int fd = open_pin(pin, info, flags);

	if (fd < 0)
		return fd;
	if (info->type != BPF_MAP_TYPE_PERCPU_HASH || info->key_size != sizeof(struct cgroup_key) ||
	    info->value_size != sizeof(struct counters)) {
		if (!(flags & TFC_OPEN_QUIET))
			tfc_err("%s is not a traffic-counter cgroup map of this version (type %u, "
				"key %u B, value %u B); it was made by another program or an "
				"incompatible version",
				pin, info->type, info->key_size, info->value_size);
		close(fd);
		return -EPROTO;
	}
	return fd;
}

int tfc_dump_stats(int fd, struct tfc_stat_entry **out, size_t *n)
{
	return dump_percpu_counters(fd, sizeof(struct stat_key), sizeof(**out), (void **)out, n);
}

void tfc_stats_totals(const struct tfc_stat_entry *e, size_t n, __u32 ifindex, int direction,
		      struct counters *out)
{
	memset(out, 0, sizeof(*out) * TFC_STAT_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct stat_key *k = &e[i].key;

		if (k->reason >= TFC_STAT_MAX || (ifindex && k->ifindex != ifindex) ||
		    (direction >= 0 && k->direction != direction))
			continue;
		out[k->reason].bytes += e[i].val.bytes;
		out[k->reason].packets += e[i].val.packets;
	}
}

int tfc_dump_flow(int fd, struct tfc_flow_entry **out, size_t *n)
{
	return dump_entries(fd, sizeof(struct flow_key), sizeof(struct flow_value), 0,
			    sizeof(**out), (void **)out, n);
}

/*
 * Counting by batches of 4096 (values read and dropped) makes 1/4096 of
 * the syscalls of a get_next_key walk: status on a 1M-entry map went from
 * 1.4 s to about 0.5 s. -EOPNOTSUPP: walk the keys instead.
 */
static int count_batch(int fd, __u32 key_size, __u32 *count)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), chunk = 4096, n;
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	struct batch_cursor c = {};
	char *keys = NULL, *vals = NULL;
	size_t vsz;

	if (!batch_supported() || ncpu < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return -EOPNOTSUPP;
	vsz = ((size_t)info.value_size + 7) / 8 * 8;
	if (info.type == BPF_MAP_TYPE_PERCPU_HASH || info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		vsz *= (size_t)ncpu;
	keys = malloc((size_t)chunk * key_size);
	vals = malloc((size_t)chunk * vsz);
	if (!keys || !vals)
		err = -ENOMEM;
	while (!err) {
		n = chunk;
		err = batch_step(fd, &c, keys, vals, &n);
		if (err != -EOPNOTSUPP)
			*count += n;
	}
	free(keys);
	free(vals);
	return err == -ENOENT ? 0 : err;
}

int tfc_map_count(int fd, __u32 key_size, __u32 *count)
{
	char *prev = NULL, *cur = malloc(key_size), *last = malloc(key_size);
	int err = 0;

	*count = 0;
	if (!cur || !last) {
		err = -ENOMEM;
		goto out;
	}
	err = count_batch(fd, key_size, count);
	if (err != -EOPNOTSUPP)
		goto out;
	err = 0;
	*count = 0;
	while (!bpf_map_get_next_key(fd, prev, cur)) {
		(*count)++;
		memcpy(last, cur, key_size);
		prev = last;
	}
	if (errno != ENOENT)
		err = -errno;
out:
	free(cur);
	free(last);
	return err;
}

int tfc_control_read(int fd, struct tfc_control *out)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, out) ? -errno : 0;
}

struct tfc_control *tfc_control_map(int fd)
{
	void *p = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

void tfc_control_unmap(struct tfc_control *ctl)
{
	if (ctl)
		munmap(ctl, sysconf(_SC_PAGESIZE));
}

__u64 tfc_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}
