// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * attach --migrate (openspec/changes/0008). The steps, each safe to
 * interrupt: `attach --migrate` again finishes the job.
 *
 *   1. stage: new maps pinned under <pin dir>/migrating/; the new control
 *      map's layout version, written last, marks them complete;
 *   2. re-point: every attachment gets a program using the new maps;
 *   3. wait: an RCU grace period, after which no old program still runs;
 *   4. carry: the old entries move into the new maps, in the kernel
 *      (migrate.bpf.c), each deleted from the old map as it is added;
 *   5. commit: the new pins are renamed over the old, control last.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "abi/migrate_abi.h" /* before migrate.skel.h, which uses its types */
#include "migrate.skel.h"
#include "hooks.h"
#include "maps/aggregate.h"
#include "maps/maps.h"
#include "migrate.h"
#include "object.h"
#include "util/fault.h"
#include "util/log.h"

struct mig {
	const struct tfc_migrate_req *req;
	struct tfc_pins staging; /* the new maps until step 5 */
	struct tfc_pins target;	 /* per map: its staging pin while there, else the main pin */
	char staging_dir[PATH_MAX];
	int old_fd[TFC_MAP_KIND_ALL]; /* old maps left to carry over; -1: none */
	struct tfc_control old_ctl;   /* as far as its version has fields; zeroes beyond */
	__u32 old_value_size;	      /* the old control entry's */
	int resume;
	struct tfc_migrate_result res;
};

static int staging_init(struct mig *m)
{
	const struct tfc_pins *main = m->req->pins;
	int n;

	for (int k = 0; k < TFC_MAP_KIND_ALL; k++)
		m->old_fd[k] = -1; /* before any failure: the caller closes them */
	n = snprintf(m->staging_dir, sizeof(m->staging_dir), "%s/%s", main->dir,
		     TFC_STAGING_DIR_NAME);
	if (n >= (int)sizeof(m->staging_dir))
		return -ENAMETOOLONG;
	m->staging = *main;
	m->target = *main;
	for (int k = 0; k < TFC_MAP_KIND_ALL; k++) {
		n = snprintf(tfc_map_pin_buf(&m->staging, k), PATH_MAX, "%s/%s", m->staging_dir,
			     tfc_map_kind_name(k));
		if (n >= PATH_MAX)
			return -ENAMETOOLONG;
	}
	return 0;
}

int tfc_migration_pending(const struct tfc_pins *pins)
{
	struct tfc_migrate_req req = {.pins = pins};
	struct mig m = {.req = &req};

	return !staging_init(&m) && !access(m.staging_dir, F_OK);
}

int tfc_migration_refuse(const struct tfc_pins *pins)
{
	if (!tfc_migration_pending(pins))
		return 0;
	tfc_err("a migration of the maps in %s was interrupted: run 'traffic-counter attach "
		"--iface IF --migrate' to finish it",
		pins->dir);
	return -EBUSY;
}

void tfc_migration_discard(const struct tfc_pins *pins)
{
	struct tfc_migrate_req req = {.pins = pins};
	struct mig m = {.req = &req};

	if (staging_init(&m))
		return;
	for (int k = 0; k < TFC_MAP_KIND_ALL; k++)
		unlink(tfc_map_pin(&m.staging, k));
	rmdir(m.staging_dir);
}

/* Any version's control map, read-write: its entry as far as it goes. */
static int open_old_control(struct mig *m, const char *pin)
{
	struct bpf_map_info info;
	__u32 zero = 0;
	__u8 *buf;
	int fd, err = 0;

	fd = tfc_map_open_flags(pin, TFC_MAP_CONTROL, NULL, &info,
				TFC_OPEN_RDWR | TFC_OPEN_ANY_LAYOUT);
	if (fd < 0)
		return fd;
	buf = calloc(1, info.value_size);
	if (!buf || bpf_map_lookup_elem(fd, &zero, buf)) {
		err = buf ? -errno : -ENOMEM;
		tfc_err("cannot read %s: %s", pin, strerror(-err));
		close(fd);
		free(buf);
		return err;
	}
	memcpy(&m->old_ctl, buf,
	       info.value_size < sizeof(m->old_ctl) ? info.value_size : sizeof(m->old_ctl));
	m->old_value_size = info.value_size;
	free(buf);
	return fd;
}

/* The other old maps: this version's key and value layouts (as in 1 and 2). */
static int open_old(struct mig *m, enum tfc_map_kind k, struct bpf_map_info *info)
{
	const char *pin = tfc_map_pin(m->req->pins, k);

	if (access(pin, F_OK))
		return -ENOENT; /* never pinned (or removed by hand): nothing to carry */
	if (k == TFC_MAP_CONTROL)
		return open_old_control(m, pin);
	return tfc_map_open_flags(pin, k, NULL, info, TFC_OPEN_RDWR);
}

static int differs(const struct mig *m, const struct bpf_map_info *ip,
		   const struct bpf_map_info *flow, const struct bpf_map_info *prefix)
{
	const struct tfc_migrate_req *o = m->req;
	int type = ip->type == BPF_MAP_TYPE_HASH ? TFC_IP_MAP_SHARED : TFC_IP_MAP_PERCPU;

	return (m->old_ctl.abi_version && m->old_ctl.abi_version != TFC_ABI_VERSION) ||
	       (o->prefix_map_size && prefix->max_entries &&
		o->prefix_map_size != prefix->max_entries) ||
	       m->old_value_size != sizeof(struct tfc_control) ||
	       (o->ip_map_size && ip->max_entries && o->ip_map_size != ip->max_entries) ||
	       (o->flow_map_size && flow->max_entries && o->flow_map_size != flow->max_entries) ||
	       (o->ip_map_type >= 0 && ip->max_entries && o->ip_map_type != type);
}

/* Whether an earlier migration left complete new maps to continue with. */
static int staged_complete(struct mig *m)
{
	__u32 version = 0;
	int fd = bpf_obj_get(m->staging.control);

	if (fd < 0)
		return 0;
	tfc_control_version_fd(fd, &version);
	close(fd);
	return version == TFC_ABI_VERSION;
}

static int plan_resume(struct mig *m)
{
	struct bpf_map_info info;

	m->resume = 1;
	for (int k = 0; k < TFC_MAP_KINDS; k++) {
		if (access(tfc_map_pin(&m->staging, k), F_OK))
			continue; /* committed already */
		strcpy(tfc_map_pin_buf(&m->target, k), tfc_map_pin(&m->staging, k));
		m->old_fd[k] = open_old(m, k, &info);
		if (m->old_fd[k] == -ENOENT)
			m->old_fd[k] = -1;
		else if (m->old_fd[k] < 0)
			return m->old_fd[k];
	}
	tfc_info("finishing the interrupted migration of the maps in %s", m->req->pins->dir);
	return 1;
}

/* Checked before anything changes: the carry must not fail half-way. */
static int kernel_can_carry(void)
{
	int ok;

	tfc_log_libbpf_quiet(1);
	ok = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SYSCALL, NULL) == 1 &&
	     libbpf_probe_bpf_helper(BPF_PROG_TYPE_SYSCALL, BPF_FUNC_loop, NULL) == 1;
	tfc_log_libbpf_quiet(0);
	if (!ok)
		tfc_err("attach --migrate needs Linux >= 5.17 (syscall programs and bpf_loop): "
			"nothing was changed");
	return ok ? 0 : -EOPNOTSUPP;
}

/* The pinned maps to carry over; a control map of a newer layout is refused. */
static int open_olds(struct mig *m, struct bpf_map_info info[TFC_MAP_KIND_ALL])
{
	/* Layout 3's maps of an older layout's pin directory: none, made empty. */
	for (int k = 0; k < TFC_MAP_KINDS; k++) {
		m->old_fd[k] = open_old(m, k, &info[k]);
		if (m->old_fd[k] == -ENOENT && k != TFC_MAP_CONTROL)
			m->old_fd[k] = -1;
		else if (m->old_fd[k] < 0)
			return m->old_fd[k];
	}
	if (m->old_ctl.abi_version > TFC_ABI_VERSION) {
		tfc_layout_error(m->req->pins->control, m->old_ctl.abi_version);
		return -EPROTO;
	}
	return 0;
}

/* 1: something to migrate, 0: nothing, or a negative errno. */
static int inspect(struct mig *m, struct bpf_map_info *ip, struct bpf_map_info *flow,
		   struct bpf_map_info *prefix)
{
	struct bpf_map_info info[TFC_MAP_KIND_ALL] = {};
	int err;

	if (staged_complete(m))
		return plan_resume(m);
	tfc_migration_discard(m->req->pins); /* staged only in part: start again */
	if (access(m->req->pins->control, F_OK))
		return 0; /* first attach: the maps are made as asked */
	err = open_olds(m, info);
	if (err)
		return err;
	*ip = info[TFC_MAP_IP];
	*flow = info[TFC_MAP_FLOW];
	*prefix = info[TFC_MAP_PREFIX];
	if (!differs(m, ip, flow, prefix)) {
		tfc_info("the maps in %s already have this layout, size and type: nothing to "
			 "migrate",
			 m->req->pins->dir);
		return 0;
	}
	m->target = m->staging;
	err = kernel_can_carry();
	return err ? err : 1;
}

/* The new maps must hold every address the old one has. */
static int check_room(const struct mig *m, __u32 ip_size)
{
	__u32 count = 0;
	int err;

	if (m->old_fd[TFC_MAP_IP] < 0)
		return 0;
	err = tfc_map_count(m->old_fd[TFC_MAP_IP], sizeof(struct ip_key), &count);
	if (err)
		return err;
	if (count > ip_size) {
		tfc_err("the IP map holds %u addresses: an IP map of %u entries has no room for "
			"them; ask for --ip-map-size %u or more",
			count, ip_size, count);
		return -ENOSPC;
	}
	return 0;
}

#if TFC_ABI_VERSION >= 3
/* The rules in force move before any program counts into the new maps. */
static int copy_rules(const struct mig *m, struct tfc_control *ctl)
{
	struct tfc_agg_rule *rules = NULL;
	size_t n = 0;
	int fd, err = 0;

	if (m->old_fd[TFC_MAP_AGGREGATE] >= 0)
		err = tfc_aggregate_read(m->old_fd[TFC_MAP_AGGREGATE], &rules, &n);
	fd = err ? -1 : bpf_obj_get(m->staging.aggregate);
	if (!err && fd < 0)
		err = -errno;
	err = err ?: tfc_aggregate_replace(fd, ctl, rules, n);
	if (fd >= 0)
		close(fd);
	free(rules);
	return err;
}

/*
 * Layout 3's fields: the prefix map's size, and the overflow lengths as
 * they were (layout 3 maps) or the defaults (maps of an earlier layout).
 */
static int init_prefix_fields(const struct mig *m, const struct tfc_load_req *so,
			      struct tfc_control *ctl)
{
	int v3 = m->old_ctl.abi_version >= 3 && m->old_value_size >= sizeof(struct tfc_control);

	ctl->prefix_map_capacity = so->prefix_map_size;
	ctl->overflow_v4 = v3 ? m->old_ctl.overflow_v4 : TFC_OVERFLOW_V4_DEFAULT;
	ctl->overflow_v6 = v3 ? m->old_ctl.overflow_v6 : TFC_OVERFLOW_V6_DEFAULT;
	ctl->flags &= ~TFC_FLAG_AGGREGATE; /* set again by copy_rules if a rule moves */
	return copy_rules(m, ctl);
}
#endif

static int init_staged_control(struct mig *m, const struct tfc_load_req *so)
{
	int fd = bpf_obj_get(m->staging.control), err = 0;
	struct tfc_control *ctl = fd < 0 ? NULL : tfc_control_map(fd);

	if (fd >= 0)
		close(fd);
	if (!ctl)
		return -EIO;
	ctl->flags = m->old_ctl.flags;
	ctl->ip_map_capacity = so->ip_map_size;
	ctl->flow_map_capacity = so->flow_map_size;
#if TFC_ABI_VERSION >= 2
	ctl->created_ns = m->old_ctl.created_ns ?: tfc_realtime_ns();
	ctl->migrations = m->old_ctl.migrations + 1;
#endif
#if TFC_ABI_VERSION >= 3
	err = init_prefix_fields(m, so, ctl);
#endif
	/* Last: the mark that the new maps are complete. */
	if (!err)
		__atomic_store_n(&ctl->abi_version, TFC_ABI_VERSION, __ATOMIC_RELEASE);
	tfc_control_unmap(ctl);
	return err;
}

/* The new maps' sizes and IP map type: as asked, else as the old ones. */
static void staged_req(const struct mig *m, const struct bpf_map_info *ip,
		       const struct bpf_map_info *flow, const struct bpf_map_info *prefix,
		       struct tfc_load_req *so)
{
	const struct tfc_migrate_req *req = m->req;

	memset(so, 0, sizeof(*so));
	so->pins = &m->staging;
	so->maps_only = 1;
	so->ip_map_size = req->ip_map_size ?: ip->max_entries ?: TFC_IP_MAP_DEFAULT_ENTRIES;
	so->flow_map_size = req->flow_map_size ?: flow->max_entries ?: TFC_FLOW_MAP_DEFAULT_ENTRIES;
	so->prefix_map_size =
		req->prefix_map_size ?: prefix->max_entries ?: TFC_PREFIX_MAP_DEFAULT_ENTRIES;
	so->ip_map_type = req->ip_map_type;
	if (so->ip_map_type < 0 && ip->max_entries)
		so->ip_map_type =
			ip->type == BPF_MAP_TYPE_HASH ? TFC_IP_MAP_SHARED : TFC_IP_MAP_PERCPU;
}

/* Step 1: the new maps, pinned under the staging directory. */
static int stage(struct mig *m, const struct bpf_map_info *ip, const struct bpf_map_info *flow,
		 const struct bpf_map_info *prefix)
{
	struct tfc_loaded l = {.prog_fd = -1};
	struct tfc_load_req so;
	int err;

	staged_req(m, ip, flow, prefix, &so);
	err = check_room(m, so.ip_map_size);
	if (err)
		return err;
	if (mkdir(m->staging_dir, 0700) && errno != EEXIST) {
		err = -errno;
		tfc_err("cannot create %s: %s", m->staging_dir, strerror(-err));
		return err;
	}
	err = tfc_load(&so, &l);
	if (err)
		goto out;
	err = init_staged_control(m, &so);
	if (!err && !staged_complete(m))
		err = -EIO;
out:
	tfc_loaded_free(&l);
	/* Nothing uses the new maps yet: no trace of a migration is left. */
	if (err)
		tfc_migration_discard(m->req->pins);
	return err;
}

/* Reads one variable of a loaded program's .rodata, found through its BTF. */
static int rodata_var(int map_fd, const struct bpf_map_info *info, const char *var, __u8 *out)
{
	const struct btf_var_secinfo *v;
	const struct btf_type *sec;
	__u8 *buf = calloc(1, info->value_size ?: 1);
	struct btf *btf = NULL;
	__u32 zero = 0;
	int err = -ENOENT;

	if (!buf || bpf_map_lookup_elem(map_fd, &zero, buf))
		goto out;
	btf = btf__load_from_kernel_by_id(info->btf_id);
	sec = btf ? btf__type_by_id(btf, info->btf_value_type_id) : NULL;
	if (!sec || !btf_is_datasec(sec))
		goto out;
	v = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, v++) {
		const struct btf_type *t = btf__type_by_id(btf, v->type);

		if (t && !strcmp(btf__name_by_offset(btf, t->name_off), var) && v->size == 1 &&
		    v->offset < info->value_size) {
			*out = buf[v->offset];
			err = 0;
			break;
		}
	}
out:
	btf__free(btf);
	free(buf);
	return err;
}

/* The name and --count-by of a program of ours that is attached now. */
static int prog_config(__u32 prog_id, char *name, size_t len, __u8 *count_by)
{
	__u32 ids[16], info_len;
	struct bpf_prog_info info = {};
	int fd, err = -ENOENT;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	info_len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		err = -errno;
		goto out;
	}
	snprintf(name, len, "%s", info.name);
	for (__u32 i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]) && err; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) && strstr(mi.name, ".rodata"))
			err = rodata_var(mfd, &mi, "cfg_count_by", count_by);
		close(mfd);
	}
out:
	close(fd);
	return err;
}

static enum tfc_xdp_mode xdp_mode_of(const char *mode)
{
	int m = mode ? tfc_xdp_mode_parse(mode) : -1;

	return m < 0 ? TFC_XDP_DRIVER : m;
}

/* Loads the program `a` runs again, configured as it is, against the new maps. */
static int reload(struct mig *m, const struct tfc_attachment *a, struct tfc_loaded *l)
{
	struct tfc_load_req req = {.pins = &m->target,
				   .ap = a->ap,
				   .ifindex = a->pin_ifindex,
				   .ifname = a->ifname,
				   .xdp_mode = xdp_mode_of(a->mode),
				   .ip_map_type = -1};
	char name[BPF_OBJ_NAME_LEN];
	__u8 count_by = 0;
	int err;

	err = prog_config(a->prog_id, name, sizeof(name), &count_by);
	if (err) {
		tfc_err("cannot tell how %s counts (program id %u): %s", a->pin, a->prog_id,
			strerror(-err));
		return err;
	}
	req.prog_name = tfc_prog_current_name(name) ?: name; /* an earlier release's name */
	req.count_by = count_by;
	return tfc_load(&req, l);
}

/* A cls_bpf filter: our filter replaced in place, its pin re-pointed. */
static int replace_filter(const struct tfc_attachment *a, int prog_fd)
{
	char base[PATH_MAX];
	struct tfc_hook h = {.prog_fd = prog_fd,
			     .ifindex = a->pin_ifindex,
			     .ifname = a->ifname,
			     .ap = a->ap,
			     .tc_api = TFC_API_NETLINK,
			     .pin = base};

	snprintf(base, sizeof(base), "%.*s", (int)(strlen(a->pin) - strlen(TFC_NETLINK_SUFFIX)),
		 a->pin);
	return tfc_hook_attach(&h, NULL);
}

/* A link: updated through its pin, also right for a link in another namespace. */
static int replace_in_link(const struct tfc_attachment *a, int prog_fd)
{
	int fd, err;

	fd = bpf_obj_get(a->pin);
	err = fd < 0 || bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (err)
		tfc_err("cannot replace the program in %s: %s", a->pin, strerror(-err));
	return err;
}

/* Step 2 for one attachment: its program again, with the new maps. */
static int repoint(struct mig *m, const struct tfc_attachment *a)
{
	struct tfc_loaded l = {.prog_fd = -1};
	int err;

	err = reload(m, a, &l);
	if (err)
		return err;
	if (tfc_is_netlink_pin(a->pin))
		err = replace_filter(a, l.prog_fd);
	else
		err = replace_in_link(a, l.prog_fd);
	tfc_loaded_free(&l);
	return err;
}

/* A tc filter of another namespace can only be replaced from there. */
static int check_reachable(const struct tfc_attachment *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].other_netns && tfc_is_netlink_pin(list[i].pin)) {
			tfc_err("%s is a tc filter in another network namespace: run the "
				"migration there (nsenter --net=...)",
				list[i].pin);
			return -EXDEV;
		}
	return 0;
}

static int repoint_all(struct mig *m)
{
	struct tfc_attachment *list;
	size_t n, done = 0;
	int err;

	err = tfc_attachments_list(m->req->pins, &list, &n);
	if (err)
		return err;
	err = check_reachable(list, n);
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!list[i].ifindex) {
			tfc_warn("%s: its interface is gone, nothing to re-point", list[i].pin);
			continue;
		}
		err = repoint(m, &list[i]);
		if (err)
			goto out;
		if (++done == 1)
			tfc_fault_point("repointed");
	}
out:
	free(list);
	return err;
}

/*
 * Step 3. Updating a map of maps makes the kernel wait for an RCU grace
 * period (maybe_wait_bpf_programs): every program run that began before,
 * old programs included, has ended, and the old maps are quiet.
 */
static int wait_for_programs(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int inner, outer, err = 0;
	__u32 zero = 0;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, TFC_MIG_INNER_MAP_NAME, 4, 4, 1, NULL);
	if (inner < 0)
		return -errno;
	opts.inner_map_fd = inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, TFC_MIG_BARRIER_MAP_NAME, 4, 4, 1,
			       &opts);
	if (outer < 0 || bpf_map_update_elem(outer, &zero, &inner, BPF_ANY))
		err = -errno;
	if (outer >= 0)
		close(outer);
	close(inner);
	if (err)
		tfc_err("cannot wait for the old programs to finish: %s", strerror(-err));
	return err;
}

/* The migrate object's map takes the pinned map's fd, shape and all. */
static int reuse(struct bpf_map *map, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	err = bpf_map__set_type(map, info.type);
	if (err)
		return err;
	err = bpf_map__set_key_size(map, info.key_size);
	if (err)
		return err;
	err = bpf_map__set_value_size(map, info.value_size);
	if (err)
		return err;
	err = bpf_map__set_max_entries(map, info.max_entries);
	if (err)
		return err;
	err = bpf_map__set_map_flags(map, info.map_flags);
	if (err)
		return err;
	return bpf_map__reuse_fd(map, fd);
}

static int reuse_pinned(struct bpf_map *map, const char *pin)
{
	int fd = bpf_obj_get(pin), err;

	if (fd < 0)
		return -errno;
	err = reuse(map, fd);
	close(fd);
	return err;
}

/*
 * The carrier's old_* maps are the old maps, its new_* maps the new ones;
 * its IP maps are those of kind ip_kind: the IP maps, or the prefix maps
 * (same key and value: migrate_ip carries either).
 */
static int reuse_maps(const struct mig *m, struct migrate_bpf *skel, enum tfc_map_kind ip_kind)
{
	struct bpf_map *old[TFC_MAP_KIND_MAX], *new[TFC_MAP_KIND_MAX];
	int err;

	old[TFC_MAP_IP] = skel->maps.old_ip, new[TFC_MAP_IP] = skel->maps.new_ip;
	old[TFC_MAP_FLOW] = skel->maps.old_flow, new[TFC_MAP_FLOW] = skel->maps.new_flow;
	old[TFC_MAP_CONTROL] = skel->maps.old_control,
	new[TFC_MAP_CONTROL] = skel->maps.new_control;
	old[TFC_MAP_STATS] = skel->maps.old_stats, new[TFC_MAP_STATS] = skel->maps.new_stats;
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		int kind = k == TFC_MAP_IP ? (int)ip_kind : k;

		err = reuse_pinned(new[k], tfc_map_pin(&m->target, kind));
		if (err)
			return err;
		if (m->old_fd[kind] < 0)
			continue;
		err = reuse(old[k], m->old_fd[kind]);
		if (err)
			return err;
	}
	return 0;
}

static int open_carrier(struct mig *m, enum tfc_map_kind ip_kind, struct migrate_bpf **out)
{
	struct migrate_bpf *skel = migrate_bpf__open();
	int err;

	if (!skel)
		return -errno;
	err = reuse_maps(m, skel, ip_kind);
	if (err)
		goto out;
	err = migrate_bpf__load(skel);
	if (err)
		goto out;
	*out = skel;
	return 0;
out:
	tfc_err("cannot load the migration programs: %s", strerror(-err));
	migrate_bpf__destroy(skel);
	return err;
}

static int run(struct bpf_program *prog, __u32 count)
{
	struct tfc_migrate_ctx ctx = {.count = count};
	LIBBPF_OPTS(bpf_test_run_opts, t, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	return bpf_prog_test_run_opts(bpf_program__fd(prog), &t) ? -errno : (int)t.retval;
}

/* One batch: written to the batch array, then carried by one program run. */
static int carry_batch(struct bpf_map *batch, struct bpf_program *prog, const void *vals, __u32 n)
{
	static __u32 keys[TFC_MIGRATE_BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 count = n;

	for (__u32 i = 0; i < n; i++)
		keys[i] = i;
	if (bpf_map_update_batch(bpf_map__fd(batch), keys, vals, &count, &bo))
		return -errno;
	return run(prog, n);
}

/* Dump rows, TFC_MIGRATE_BATCH at a time. */
static int carry_rows(struct bpf_map *batch, struct bpf_program *prog, const void *rows, size_t n,
		      size_t size)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i += TFC_MIGRATE_BATCH) {
		__u32 k = n - i < TFC_MIGRATE_BATCH ? (__u32)(n - i) : TFC_MIGRATE_BATCH;

		err = carry_batch(batch, prog, (const char *)rows + i * size, k);
		if (!err && !i)
			tfc_fault_point("carried");
	}
	return err;
}

/* The IP map's rows, or with kind TFC_MAP_PREFIX the prefix map's. */
static int carry_ip(const struct mig *m, struct migrate_bpf *c, enum tfc_map_kind kind)
{
	struct tfc_ip_entry *rows = NULL;
	size_t n;
	int err;

	if (m->old_fd[kind] < 0)
		return 0;
	err = tfc_dump_ip(m->old_fd[kind], &rows, &n);
	if (err)
		goto out;
	err = carry_rows(c->maps.batch_ip, c->progs.migrate_ip, rows, n, sizeof(*rows));
out:
	free(rows);
	return err;
}

static int carry_stats(const struct mig *m, struct migrate_bpf *c)
{
	struct tfc_stat_entry *rows = NULL;
	size_t n;
	int err;

	if (m->old_fd[TFC_MAP_STATS] < 0)
		return 0;
	err = tfc_dump_stats(m->old_fd[TFC_MAP_STATS], &rows, &n);
	if (err)
		goto out;
	err = carry_rows(c->maps.batch_stats, c->progs.migrate_stats, rows, n, sizeof(*rows));
out:
	free(rows);
	return err;
}

static int carry_flow(const struct mig *m, struct migrate_bpf *c)
{
	struct tfc_flow_entry *rows = NULL;
	size_t n;
	int err;

	if (m->old_fd[TFC_MAP_FLOW] < 0)
		return 0;
	err = tfc_dump_flow(m->old_fd[TFC_MAP_FLOW], &rows, &n);
	if (err)
		goto out;
	err = carry_rows(c->maps.batch_flow, c->progs.migrate_flow, rows, n, sizeof(*rows));
out:
	free(rows);
	return err;
}

/*
 * Layout 3's overflow rows: a carrier of their own, its IP maps the prefix
 * maps. A row the new prefix map has no room for is counted as the programs
 * count a frame that finds both maps full (ip_map_full).
 */
static int carry_prefix(struct mig *m)
{
	struct migrate_bpf *c = NULL;
	int err;

	if (TFC_MAP_KINDS <= TFC_MAP_PREFIX || m->old_fd[TFC_MAP_PREFIX] < 0)
		return 0;
	err = open_carrier(m, TFC_MAP_PREFIX, &c);
	if (err)
		return err;
	err = carry_ip(m, c, TFC_MAP_PREFIX);
	m->res.lost_entries += c->bss->result.lost_entries;
	m->res.lost_packets += c->bss->result.lost_packets;
	migrate_bpf__destroy(c);
	return err > 0 ? -EIO : err;
}

/* Step 4. A program's non-zero return is a failure too. */
static int carry_all(struct mig *m)
{
	struct migrate_bpf *c = NULL;
	int err;

	err = open_carrier(m, TFC_MAP_IP, &c);
	if (err)
		return err;
	err = carry_ip(m, c, TFC_MAP_IP);
	if (err)
		goto out;
	err = carry_stats(m, c);
	if (err)
		goto out;
	err = carry_flow(m, c);
	if (err)
		goto out;
	if (m->old_fd[TFC_MAP_CONTROL] >= 0)
		err = run(c->progs.migrate_control, 1);
out:
	if (err > 0)
		err = -EIO;
	if (err)
		tfc_err("cannot carry the counters over: %s; run 'traffic-counter attach "
			"--migrate' "
			"again to finish",
			strerror(-err));
	m->res = c->bss->result;
	migrate_bpf__destroy(c);
	return err ?: carry_prefix(m);
}

/* Step 5: control last, so that its staging pin marks an unfinished job. */
static int commit(struct mig *m)
{
	static const enum tfc_map_kind order[] = {TFC_MAP_IP,	     TFC_MAP_FLOW,
						  TFC_MAP_STATS,     TFC_MAP_PREFIX,
						  TFC_MAP_AGGREGATE, TFC_MAP_CONTROL};
	int err;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *from = tfc_map_pin(&m->staging, order[i]);

		if (access(from, F_OK))
			continue;
		if (rename(from, tfc_map_pin(m->req->pins, order[i]))) {
			err = -errno;
			tfc_err("cannot pin the new %s map: %s", tfc_map_kind_name(order[i]),
				strerror(-err));
			return err;
		}
		if (!i)
			tfc_fault_point("committing");
	}
	rmdir(m->staging_dir);
	return 0;
}

static void report(const struct mig *m)
{
	const struct tfc_migrate_result *r = &m->res;

	tfc_info("migrated the maps in %s to layout version %u: %llu addresses and %llu flows "
		 "carried over",
		 m->req->pins->dir, TFC_ABI_VERSION, (unsigned long long)r->carried_entries,
		 (unsigned long long)r->carried_flows);
	if (r->lost_entries || r->lost_stats)
		tfc_warn("%llu addresses (%llu packets) found the new IP map full: counted as "
			 "ip_map_full drops; %llu statistics lost",
			 (unsigned long long)r->lost_entries, (unsigned long long)r->lost_packets,
			 (unsigned long long)r->lost_stats);
}

int tfc_migrate(const struct tfc_migrate_req *req)
{
	struct bpf_map_info ip = {}, flow = {}, prefix = {};
	struct mig m = {.req = req};
	int err;

	err = staging_init(&m);
	if (err)
		goto out;
	err = inspect(&m, &ip, &flow, &prefix);
	if (err <= 0)
		goto out;
	if (!m.resume) {
		err = stage(&m, &ip, &flow, &prefix);
		if (err)
			goto out;
	}
	tfc_fault_point("staged");
	err = repoint_all(&m);
	if (err)
		goto out;
	err = wait_for_programs();
	if (err)
		goto out;
	err = carry_all(&m);
	if (err)
		goto out;
	err = commit(&m);
	if (err)
		goto out;
	report(&m);
out:
	for (int k = 0; k < TFC_MAP_KIND_ALL; k++)
		if (m.old_fd[k] >= 0)
			close(m.old_fd[k]);
	return err < 0 ? err : 0;
}
