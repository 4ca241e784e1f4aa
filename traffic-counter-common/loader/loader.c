// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "traffic_counter.skel.h"
#include "discover.h"
#include "hooks.h"
#include "export/ipfix.h"
#include "util/log.h"
#include "maps/maps.h"
#include "migrate.h"

struct map_plan {
	struct bpf_map *map;
	const char *pin;
	enum tfc_map_kind kind;
	__u32 requested; /* 0: keep the pinned size or use the default */
	__u32 def;
	const char *option;
	int existed;
};

/*
 * A pinned map is reused as it is: its size wins unless the user asked for
 * a different one, which is an error (resizing would lose the counters).
 */
/*
 * Same sizes do not prove the same layout: the control map records the ABI
 * version of the binary that created the maps, and only that one is read.
 */
static int check_abi_version(int fd, const char *pin)
{
	struct tfc_control ctl;
	int err = tfc_control_read(fd, &ctl);

	if (err)
		return err;
	if (ctl.abi_version && ctl.abi_version != TFC_ABI_VERSION) {
		tfc_layout_error(pin, ctl.abi_version);
		return -EPROTO;
	}
	return 0;
}

static int plan_map(struct map_plan *p)
{
	struct bpf_map_info info;
	__u32 size = p->requested ?: p->def;
	int fd, err = 0;

	if (p->existed) {
		fd = tfc_map_open(p->pin, p->kind, NULL, &info);
		if (fd < 0)
			return fd;
		if (p->kind == TFC_MAP_CONTROL)
			err = check_abi_version(fd, p->pin);
		close(fd);
		if (err)
			return err;
		if (p->requested && p->requested != info.max_entries) {
			tfc_err("the map pinned at %s has %u entries but %s asks for %u: add "
				"--migrate to move its counters into a new map of that size, or "
				"omit "
				"%s to keep it",
				p->pin, info.max_entries, p->option, p->requested, p->option);
			return -EEXIST;
		}
		size = info.max_entries;
	}
	if (p->def && bpf_map__set_max_entries(p->map, size))
		return -EINVAL;
	return bpf_map__set_pin_path(p->map, p->pin);
}

/*
 * The IP map's layout: a pinned map keeps its own (asking for the other is
 * an error: converting would lose counters), a new one is what was asked.
 */
static int plan_ip_type(struct traffic_counter_bpf *skel, const struct tfc_attach_opts *o,
			const struct map_plan *ip)
{
	int type = o->ip_map_type < 0 ? TFC_IP_MAP_PERCPU : o->ip_map_type;
	struct bpf_map_info info;
	int fd;

	if (ip->existed) {
		fd = tfc_map_open(ip->pin, TFC_MAP_IP, NULL, &info);
		if (fd < 0)
			return fd;
		close(fd);
		int pinned = info.type == BPF_MAP_TYPE_HASH ? TFC_IP_MAP_SHARED : TFC_IP_MAP_PERCPU;

		if (o->ip_map_type >= 0 && o->ip_map_type != pinned) {
			tfc_err("the IP map pinned at %s is %s, --ip-map-type asks for %s: add "
				"--migrate to move its counters into a new map of that type, or "
				"omit --ip-map-type to keep it",
				ip->pin, pinned ? "shared" : "percpu", type ? "shared" : "percpu");
			return -EEXIST;
		}
		type = pinned;
	}
	skel->rodata->cfg_ip_map_type = type;
	return type == TFC_IP_MAP_SHARED
		       ? bpf_map__set_type(skel->maps.traffic_counters_ip, BPF_MAP_TYPE_HASH)
		       : 0;
}

static int xdp_frags_supported(void)
{
	const char *env = getenv("TRAFFIC_COUNTER_XDP_LEGACY");
	int ret;

	if (env && *env && strcmp(env, "0"))
		return 0;
	tfc_log_libbpf_quiet(1);
	ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_get_buff_len, NULL);
	tfc_log_libbpf_quiet(0);
	return ret == 1;
}

/* Only the program for this attach point is loaded (and verified). */
static struct bpf_program *select_program(struct traffic_counter_bpf *skel,
					  const struct tfc_attach_opts *o)
{
	struct bpf_program *progs[] = {skel->progs.tfc_xdp, skel->progs.tfc_xdp_legacy,
				       skel->progs.tfc_ingress, skel->progs.tfc_egress};
	struct bpf_program *want;

	if (o->maps_only)
		want = NULL;
	else if (o->prog_name)
		want = bpf_object__find_program_by_name(skel->obj, o->prog_name);
	else if (o->ap == TFC_AP_XDP)
		want = xdp_frags_supported() ? skel->progs.tfc_xdp : skel->progs.tfc_xdp_legacy;
	else
		want = o->ap == TFC_AP_TC_INGRESS ? skel->progs.tfc_ingress
						  : skel->progs.tfc_egress;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		bpf_program__set_autoload(progs[i], progs[i] == want);
	/* Hardware offload needs the program built for the device. */
	if (want && o->ap == TFC_AP_XDP && o->xdp_mode == TFC_XDP_HW)
		bpf_program__set_ifindex(want, o->ifindex);
	return want;
}

static void report_load_error(const struct tfc_attach_opts *o, int err)
{
	if (o->ap == TFC_AP_XDP && o->xdp_mode == TFC_XDP_HW)
		tfc_err("cannot load the XDP program for hardware offload on %s: %s; the device "
			"does not offload BPF: use --xdp-mode driver or skb",
			o->ifname, strerror(-err));
	else if (err == -EPERM || err == -EACCES)
		tfc_err("cannot load BPF programs: %s; run as root or with CAP_BPF, CAP_NET_ADMIN "
			"and CAP_PERFMON",
			strerror(-err));
	else
		tfc_err("cannot load the BPF programs: %s (run with -v to see libbpf's and the "
			"verifier's messages)",
			strerror(-err));
}

/* Records capacities and the ABI in the control map; turns flows on if asked. */
static int init_control(struct traffic_counter_bpf *skel, const struct tfc_attach_opts *o)
{
	struct tfc_control *ctl = tfc_control_map(bpf_map__fd(skel->maps.traffic_control));

	if (!ctl) {
		tfc_err("cannot map the control map: %s", strerror(errno));
		return -errno;
	}
	__atomic_store_n(&ctl->abi_version, TFC_ABI_VERSION, __ATOMIC_RELAXED);
	__atomic_store_n(&ctl->ip_map_capacity,
			 bpf_map__max_entries(skel->maps.traffic_counters_ip), __ATOMIC_RELAXED);
	__atomic_store_n(&ctl->flow_map_capacity,
			 bpf_map__max_entries(skel->maps.traffic_counters_flow), __ATOMIC_RELAXED);
	if (o->enable_flow)
		__atomic_fetch_or(&ctl->flags, TFC_FLAG_FLOW_COUNTERS, __ATOMIC_SEQ_CST);
#if TFC_ABI_VERSION >= 2
	if (!ctl->created_ns)
		ctl->created_ns = tfc_realtime_ns();
#endif
	tfc_control_unmap(ctl);
	return 0;
}

static void unpin_new_maps(const struct map_plan *plans, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (plans[i].pin && !plans[i].existed)
			unlink(plans[i].pin);
}

static int configure(struct traffic_counter_bpf *skel, const struct tfc_attach_opts *o,
		     struct map_plan *plans)
{
	const struct tfc_pins *pins = o->pins;
	struct map_plan init[] = {
		{skel->maps.traffic_counters_ip, pins->ip, TFC_MAP_IP, o->ip_map_size,
		 TFC_IP_MAP_DEFAULT_ENTRIES, "--ip-map-size", 0},
		{skel->maps.traffic_counters_flow, pins->flow, TFC_MAP_FLOW, o->flow_map_size,
		 TFC_FLOW_MAP_DEFAULT_ENTRIES, "--flow-map-size", 0},
		{skel->maps.traffic_control, pins->control, TFC_MAP_CONTROL, 0, 0, NULL, 0},
		{skel->maps.traffic_stats, pins->stats, TFC_MAP_STATS, 0, 0, NULL, 0},
	};
	int err = 0;

	memcpy(plans, init, sizeof(init));
	/* Known for every map before any check can fail: only maps this call
	 * creates may be unpinned on failure, never ones that were there. */
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		plans[i].existed = !access(plans[i].pin, F_OK);
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]) && !err; i++)
		err = plan_map(&plans[i]);
	err = err ?: plan_ip_type(skel, o, &plans[0]);
	skel->rodata->cfg_count_by = o->count_by;
	return err;
}

/*
 * xdp and tc-ingress both count ingress under the same keys: with one set of
 * maps, both on one interface would count every frame twice.
 */
static int check_double_count(const struct tfc_attach_opts *o)
{
	enum tfc_attach_point other;
	char pin[PATH_MAX + sizeof(TFC_NETLINK_SUFFIX)];
	size_t n;

	if (o->ap == TFC_AP_TC_EGRESS)
		return 0;
	other = o->ap == TFC_AP_XDP ? TFC_AP_TC_INGRESS : TFC_AP_XDP;
	if (tfc_link_pin_path(o->pins, other, o->ifindex, pin, PATH_MAX))
		return 0;
	n = strlen(pin);
	if (access(pin, F_OK)) {
		snprintf(pin + n, sizeof(pin) - n, "%s", TFC_NETLINK_SUFFIX);
		if (access(pin, F_OK))
			return 0;
	}
	tfc_err("%s already counts ingress on %s into these maps; attaching %s too would count "
		"every frame twice: detach it first, or use another --pin-dir",
		tfc_attach_point_str(other), o->ifname, tfc_attach_point_str(o->ap));
	return -EEXIST;
}

/* " (/run/netns/NAME)" when the namespace has a name there, else "". */
static const char *netns_label(__u64 ns, char *buf, size_t len)
{
	char name[NAME_MAX + 1];

	if (tfc_netns_name(ns, name, sizeof(name)))
		buf[0] = '\0';
	else
		snprintf(buf, len, " (/run/netns/%s)", name);
	return buf;
}

static void report_other_netns(const struct tfc_attach_opts *o, __u64 other)
{
	char a[NAME_MAX + 32], b[NAME_MAX + 32], name[NAME_MAX + 1];
	__u64 here = tfc_netns_id();

	if (tfc_netns_name(here, name, sizeof(name)))
		snprintf(name, sizeof(name), "ns%llu", (unsigned long long)here);
	tfc_err("pin directory %s counts in network namespace %llu%s, and this attach runs in "
		"network namespace %llu%s: counter keys hold the ifindex but not the namespace, "
		"so interfaces of the two would share counters. Use one pin directory per "
		"network namespace (e.g. --pin-dir %s-%s), or detach the other namespace's "
		"attachments first",
		o->pins->dir, (unsigned long long)other, netns_label(other, a, sizeof(a)),
		(unsigned long long)here, netns_label(here, b, sizeof(b)), o->pins->dir, name);
}

/*
 * A record in another namespace counts as long as it can still count: a
 * link whose device went (with its namespace) reports ifindex 0, and a
 * netlink filter goes with its namespace.
 */
static int record_is_stale(const struct tfc_attachment *a)
{
	return a->link_id ? !a->ifindex : !tfc_netns_alive(a->netns);
}

/*
 * Keys hold the ifindex, not the network namespace: one pin directory
 * counts in one namespace, or interfaces with the same ifindex in two
 * namespaces would share keys (openspec/changes/0012). Stale records of
 * another namespace are removed so that they do not block for ever. A
 * directory that already mixes namespaces (older versions) keeps working
 * for the namespaces it has: *mixed is set, for a warning once attached.
 */
static int check_one_netns(const struct tfc_attach_opts *o, int *mixed)
{
	struct tfc_attachment *list;
	__u64 other = 0;
	int ours = 0, err;
	size_t n;

#if TFC_ABI_VERSION < 2
	/* The version 1 build stands for the release before this rule: the
	 * upgrade tests make mixed pin directories with it, as that release did
	 * (openspec/changes/0012-one-netns-per-pin-dir.md). */
	return 0;
#endif
	err = tfc_attachments_list(o->pins, &list, &n);
	if (err) {
		tfc_err("cannot list the attachments in %s: %s", o->pins->links, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		if (!list[i].other_netns) {
			ours = 1;
		} else if (record_is_stale(&list[i])) {
			if (!unlink(list[i].pin))
				tfc_info("removed %s: its network namespace or interface is gone",
					 list[i].pin);
		} else {
			other = list[i].netns;
		}
	}
	free(list);
	if (other && !ours) {
		report_other_netns(o, other);
		return -EXDEV;
	}
	*mixed = !!other;
	return 0;
}

void tfc_attach_report(const struct tfc_attach_opts *o, const struct tfc_attach_result *r)
{
	if (r->old_prog_id && r->old_prog_id != r->prog_id)
		tfc_info("%s at %s: replaced program %u with %u in place; counters kept (maps in "
			 "%s)",
			 o->ifname, tfc_attach_point_str(o->ap), r->old_prog_id, r->prog_id,
			 o->pins->dir);
	else
		tfc_info("attached to %s at %s; maps pinned in %s", o->ifname,
			 tfc_attach_point_str(o->ap), o->pins->dir);
}

void tfc_fault_point(const char *step)
{
	const char *at = getenv("TRAFFIC_COUNTER_TEST_KILL_AT");

	if (at && !strcmp(at, step))
		raise(SIGKILL);
}

/*
 * Opens the embedded object, plans the maps at o->pins (reusing pinned
 * ones), loads the program for o and pins the maps it created. On failure
 * nothing it created stays pinned.
 */
static int load(const struct tfc_attach_opts *o, struct traffic_counter_bpf **out,
		struct map_plan *plans, int *prog_fd)
{
	struct traffic_counter_bpf *skel;
	struct bpf_program *prog;
	int err;

	skel = traffic_counter_bpf__open();
	if (!skel) {
		err = -errno;
		tfc_err("cannot open the embedded BPF object: %s", strerror(-err));
		return err;
	}
	err = configure(skel, o, plans);
	if (err)
		goto out;
	prog = select_program(skel, o);
	if (o->prog_name && !prog) {
		tfc_err("this traffic-counter has no program %s", o->prog_name);
		err = -ENOENT;
		goto out;
	}
	err = traffic_counter_bpf__load(skel);
	if (err) {
		/* libbpf unpins the maps it pinned during a failed load itself. */
		report_load_error(o, err);
		goto out;
	}
	*prog_fd = prog ? bpf_program__fd(prog) : -1;
	*out = skel;
	return 0;
out:
	traffic_counter_bpf__destroy(skel);
	return err;
}

int tfc_load(const struct tfc_attach_opts *o, struct traffic_counter_bpf **skel, int *prog_fd)
{
	struct map_plan plans[4] = {};

	return load(o, skel, plans, prog_fd);
}

int tfc_attach(const struct tfc_attach_opts *o)
{
	struct traffic_counter_bpf *skel = NULL;
	struct map_plan plans[4] = {};
	int lock, prog_fd = -1, mixed = 0;
	char pin[PATH_MAX];
	int err;

	err = tfc_bpffs_prepare(o->pins->links, 1);
	if (err)
		return err;
	lock = tfc_pin_dir_lock(o->pins->dir);
	if (lock < 0)
		return lock;
	err = tfc_link_pin_path(o->pins, o->ap, o->ifindex, pin, sizeof(pin));
	err = err ?: check_one_netns(o, &mixed);
	err = err ?: check_double_count(o);
	err = err ?: (o->migrate ? tfc_migrate(o) : tfc_migration_refuse(o->pins));
	err = err ?: load(o, &skel, plans, &prog_fd);
	if (err)
		goto out;
	tfc_fault_point("loaded");
	err = init_control(skel, o);
	if (err)
		goto out;
	err = tfc_hook_attach(prog_fd, o, pin);
	if (!err) {
		/* Map pins outside the pin directory's names: purge finds them. */
		tfc_pins_record(o->pins);
		tfc_fault_point("pinned");
		/* After success only: a refusal is reported in one line. */
		if (mixed)
			tfc_warn("pin directory %s records attachments in more than one network "
				 "namespace: their counts may be merged; detach one namespace's "
				 "attachments, or purge and use one pin directory per namespace",
				 o->pins->dir);
	}
out:
	if (err) {
		if (skel)
			unpin_new_maps(plans, sizeof(plans) / sizeof(plans[0]));
		/* Only empty directories go: ours from this call, or unused. */
		rmdir(o->pins->links);
		rmdir(o->pins->dir);
	}
	traffic_counter_bpf__destroy(skel);
	close(lock);
	return err;
}

int tfc_detach(const struct tfc_pins *pins, enum tfc_attach_point ap, int ifindex)
{
	char pin[PATH_MAX], nl_pin[PATH_MAX + sizeof(TFC_NETLINK_SUFFIX)];
	int err;

	err = tfc_link_pin_path(pins, ap, ifindex, pin, sizeof(pin));
	if (err)
		return err;
	snprintf(nl_pin, sizeof(nl_pin), "%s%s", pin, TFC_NETLINK_SUFFIX);
	err = tfc_hook_detach(pin, ap, ifindex);
	if (err == -ENOENT && ap != TFC_AP_XDP)
		err = tfc_hook_detach(nl_pin, ap, ifindex);
	return err;
}

/* "<attach point>-ns<netns inode>-if<ifindex>[-netlink]" */
static int parse_pin_name(const char *name, struct tfc_attachment *a)
{
	for (int ap = 0; ap < TFC_AP_MAX; ap++) {
		const char *s = tfc_attach_point_str(ap);
		size_t n = strlen(s);
		unsigned long long ns;
		char *end;
		long idx;

		if (strncmp(name, s, n) || strncmp(name + n, "-ns", 3))
			continue;
		ns = strtoull(name + n + 3, &end, 10);
		if (strncmp(end, "-if", 3))
			return -EINVAL;
		idx = strtol(end + 3, &end, 10);
		if (idx <= 0 || (*end && strcmp(end, TFC_NETLINK_SUFFIX)))
			return -EINVAL;
		a->ap = ap;
		a->pin_ifindex = (int)idx;
		a->netns = ns;
		return 0;
	}
	return -EINVAL;
}

static int list_push(struct tfc_attachment **v, size_t *n, size_t *cap,
		     const struct tfc_attachment *a)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct tfc_attachment *nv = realloc(*v, ncap * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *a;
	return 0;
}

static int cmp_attachment(const void *a, const void *b)
{
	const struct tfc_attachment *x = a, *y = b;

	if (x->pin_ifindex != y->pin_ifindex)
		return x->pin_ifindex < y->pin_ifindex ? -1 : 1;
	return (int)x->ap - (int)y->ap;
}

int tfc_attachments_list(const struct tfc_pins *pins, struct tfc_attachment **out, size_t *n)
{
	struct tfc_attachment *v = NULL, a;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	*out = NULL;
	*n = 0;
	d = opendir(pins->links);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		memset(&a, 0, sizeof(a));
		if (parse_pin_name(de->d_name, &a))
			continue;
		if (snprintf(a.pin, sizeof(a.pin), "%s/%s", pins->links, de->d_name) >=
		    (int)sizeof(a.pin))
			continue;
		a.other_netns = a.netns != tfc_netns_id();
		if (tfc_hook_describe(a.pin, &a))
			continue;
		err = list_push(&v, n, &cap, &a);
		if (err)
			break;
	}
	closedir(d);
	if (err) {
		free(v);
		*n = 0;
		return err;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_attachment);
	*out = v;
	return 0;
}

/* export-ipfix's own map: never a file or another map someone put there. */
static int is_ipfix_stats_pin(const char *path)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get_opts(path, &opts), ok;

	if (fd < 0)
		return 0;
	ok = !bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_MAP_TYPE_ARRAY &&
	     info.key_size == sizeof(__u32) && info.value_size == sizeof(struct tfc_ipfix_stats);
	close(fd);
	return ok;
}

/* Maps are removed only once nothing uses them. */
static int refuse_if_attached(const struct tfc_pins *pins)
{
	struct tfc_attachment *list;
	size_t n;
	int err;

	err = tfc_attachments_list(pins, &list, &n);
	if (err)
		return err;
	free(list);
	if (!n)
		return 0;
	tfc_err("%zu attachment(s) still use the maps in %s: detach them first "
		"(or use 'detach --all --purge')",
		n, pins->dir);
	return -EBUSY;
}

/*
 * Removes the pin of map kind k, only when it is on bpffs, not a symbolic
 * link (--pin may name anything: the link would go, not the map) and our
 * map of that kind, of any layout version.
 */
static int purge_map_pin(const struct tfc_pins *pins, int k)
{
	const char *pin = tfc_map_pin(pins, k);
	struct bpf_map_info info;
	int fd, err;

	err = tfc_pin_removable(pin);
	if (err)
		return err == -ENOENT ? 0 : err;
	fd = tfc_map_open_flags(pin, k, NULL, &info, TFC_OPEN_QUIET | TFC_OPEN_ANY_LAYOUT);
	if (fd < 0) {
		tfc_warn("left %s alone: it is not a traffic-counter %s map", pin,
			 tfc_map_kind_name(k));
		return 0;
	}
	close(fd);
	err = tfc_pin_unlink(pin);
	if (!err)
		tfc_info("removed %s", pin);
	return err;
}

/* export-ipfix's count of the flows it removed belongs to these maps. */
static void purge_ipfix_stats(const struct tfc_pins *pins)
{
	char ipfix[PATH_MAX + sizeof(TFC_IPFIX_STATS_NAME) + 1];

	if (snprintf(ipfix, sizeof(ipfix), "%s/%s", pins->dir, TFC_IPFIX_STATS_NAME) <
		    (int)sizeof(ipfix) &&
	    !tfc_pin_removable(ipfix) && is_ipfix_stats_pin(ipfix) && !tfc_pin_unlink(ipfix))
		tfc_info("removed %s", ipfix);
}

int tfc_purge(const struct tfc_pins *pins)
{
	int err, e;

	err = refuse_if_attached(pins);
	if (err)
		return err;
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		e = purge_map_pin(pins, k);
		if (e)
			err = e;
	}
	/* Pins given at attach time with --pin, --flow-pin or --control-pin. */
	e = tfc_purge_records(pins);
	if (e)
		err = e;
	tfc_migration_discard(pins);
	purge_ipfix_stats(pins);
	/* Only empty directories go; anything else there is not ours. */
	rmdir(pins->links);
	if (!rmdir(pins->dir))
		tfc_info("removed %s", pins->dir);
	return err;
}

int tfc_purge_if_unused(const struct tfc_pins *pins)
{
	struct tfc_attachment *list;
	size_t n = 0;
	int err;

	err = tfc_attachments_list(pins, &list, &n);
	if (err)
		return err;
	free(list);
	if (n) {
		tfc_info("maps kept in %s: %zu other attachment(s) still use them", pins->dir, n);
		return 0;
	}
	return tfc_purge(pins);
}
