// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "traffic_counter.skel.h"
#include "discover.h"
#include "loader.h"
#include "maps/maps.h"
#include "migrate.h"
#include "object.h"
#include "util/fault.h"
#include "util/log.h"

#if TFC_ABI_VERSION >= 3
/*
 * New maps (no prefix capacity recorded yet): overflow on at the default
 * lengths. Pinned maps keep what they hold, so a re-attach does not undo
 * what `set` changed.
 */
static void init_prefix_control(struct traffic_counter_bpf *skel, struct tfc_control *ctl)
{
	if (__atomic_load_n(&ctl->prefix_map_capacity, __ATOMIC_RELAXED))
		return;
	ctl->overflow_v4 = TFC_OVERFLOW_V4_DEFAULT;
	ctl->overflow_v6 = TFC_OVERFLOW_V6_DEFAULT;
	/* Last: a capacity recorded means the defaults above are in place. */
	__atomic_store_n(&ctl->prefix_map_capacity,
			 bpf_map__max_entries(skel->maps.traffic_counters_prefix),
			 __ATOMIC_RELEASE);
}
#endif

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
#if TFC_ABI_VERSION >= 3
	init_prefix_control(skel, ctl);
#endif
	tfc_control_unmap(ctl);
	return 0;
}

#if TFC_ABI_VERSION >= 3
/*
 * --overflow-prefix and --aggregate: single stores into the mmapped control
 * entry (never a whole-value update over the kernel's counters), and the
 * rules written new-first so that no frame finds no rule in between.
 */
static int apply_prefix_opts(struct traffic_counter_bpf *skel, const struct tfc_attach_opts *o)
{
	struct tfc_control *ctl = tfc_control_map(bpf_map__fd(skel->maps.traffic_control));
	int err = 0;

	if (!ctl) {
		err = -errno;
		tfc_err("cannot map the control map: %s", strerror(-err));
		return err;
	}
	__atomic_store_n(&ctl->prefix_map_capacity,
			 bpf_map__max_entries(skel->maps.traffic_counters_prefix),
			 __ATOMIC_RELAXED);
	if (o->overflow_set) {
		__atomic_store_n(&ctl->overflow_v4, o->overflow_v4, __ATOMIC_RELAXED);
		__atomic_store_n(&ctl->overflow_v6, o->overflow_v6, __ATOMIC_RELAXED);
	}
	if (o->aggregate_set)
		err = tfc_aggregate_replace(bpf_map__fd(skel->maps.traffic_aggregate), ctl,
					    o->aggregate, o->n_aggregate);
	tfc_control_unmap(ctl);
	return err;
}
#else
static int apply_prefix_opts(struct traffic_counter_bpf *skel, const struct tfc_attach_opts *o)
{
	(void)skel;
	(void)o;
	return 0;
}
#endif

/* The cgroup attach's way to the same records (declared in loader.h). */
int tfc_control_init(struct traffic_counter_bpf *skel)
{
	struct tfc_attach_opts none = {0};

	return init_control(skel, &none);
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
/*
 * Removes the stale records of other namespaces. *ours: a record of this
 * namespace; *other: the namespace of a live record of another, or 0.
 */
static void scan_netns(struct tfc_attachment *list, size_t n, int *ours, __u64 *other)
{
	for (size_t i = 0; i < n; i++) {
		if (!list[i].other_netns) {
			*ours = 1;
		} else if (record_is_stale(&list[i])) {
			if (!unlink(list[i].pin))
				tfc_info("removed %s: its network namespace or interface is gone",
					 list[i].pin);
		} else {
			*other = list[i].netns;
		}
	}
}

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
	scan_netns(list, n, &ours, &other);
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

/* Checks before anything is loaded; attach --migrate migrates here. */
static int check_attach(const struct tfc_attach_opts *o, int *mixed)
{
	struct tfc_migrate_req req = {
		.pins = o->pins,
		.ip_map_type = o->ip_map_type,
		.ip_map_size = o->ip_map_size,
		.flow_map_size = o->flow_map_size,
		.prefix_map_size = o->prefix_map_size,
	};
	int err;

	err = check_one_netns(o, mixed);
	if (err)
		return err;
	err = check_double_count(o);
	if (err)
		return err;
	return o->migrate ? tfc_migrate(&req) : tfc_migration_refuse(o->pins);
}

static int load_for(const struct tfc_attach_opts *o, int xdp_frags, struct tfc_loaded *l)
{
	struct tfc_load_req req = {
		.pins = o->pins,
		.ap = o->ap,
		.ifindex = o->ifindex,
		.ifname = o->ifname,
		.xdp_mode = o->xdp_mode,
		.count_by = o->count_by,
		.ip_map_type = o->ip_map_type,
		.ip_map_size = o->ip_map_size,
		.flow_map_size = o->flow_map_size,
		.prefix_map_size = o->prefix_map_size,
		.xdp_frags = xdp_frags,
	};

	return tfc_load(&req, l);
}

/*
 * Our own program, attached from another pin directory: advising
 * tc-ingress there would count ingress twice. Name that directory and the
 * two ways out instead.
 */
static void report_ours_elsewhere(const struct tfc_attach_opts *o, __u32 id)
{
	char dir[PATH_MAX] = "";

	tfc_found_pin_dir(TFC_AP_XDP, o->ifindex, dir, sizeof(dir));
	if (dir[0])
		tfc_err("%s is already counted at xdp by traffic-counter's own program (id %u) "
			"from "
			"another pin directory, %s (this one is %s): use that one (--pin-dir %s), "
			"or "
			"detach it there first ('traffic-counter detach --iface %s --pin-dir %s'); "
			"tc-ingress as well would count ingress twice",
			o->ifname, id, dir, o->pins->dir, dir, o->ifname, dir);
	else
		tfc_err("%s is already counted at xdp by traffic-counter's own program (id %u), "
			"attached with other pin options than %s (no pin of it found under %s): "
			"detach it first ('traffic-counter detach --iface %s' finds it in the "
			"kernel); tc-ingress as well would count ingress twice",
			o->ifname, id, o->pins->dir, TFC_WALK_ROOT, o->ifname);
}

/* Attaches the loaded program at o's hook, recorded by `pin`. */
static int hook_up(const struct tfc_attach_opts *o, const struct tfc_loaded *l, const char *pin)
{
	struct tfc_hook h = {
		.prog_fd = l->prog_fd,
		.ifindex = o->ifindex,
		.ifname = o->ifname,
		.ap = o->ap,
		.xdp_mode = o->xdp_mode,
		.tc_api = o->tfc_api,
		.pin = pin,
		.quiet_refusal = l->single_buffer,
	};
	struct tfc_hook_result r;
	int err;

	err = tfc_hook_attach(&h, &r);
	if (err == -EBUSY && r.ours_at_xdp)
		report_ours_elsewhere(o, r.ours_at_xdp);
	if (o->result) {
		o->result->prog_id = r.prog_id;
		o->result->old_prog_id = r.old_prog_id;
	}
	return err;
}

/* A driver's refusal of a program without frags (the MTU is above its limit). */
static int refused_single_buffer(const struct tfc_loaded *l, int err)
{
	return l->single_buffer && (err == -ERANGE || err == -EINVAL || err == -EOPNOTSUPP);
}

/*
 * The single-buffer program refused by the driver (its limit is below the
 * page-based one, or a veth's peer has the larger MTU): the frags-aware
 * program instead. The maps the first load created stay this call's.
 */
static int hook_up_frags(const struct tfc_attach_opts *o, struct tfc_loaded *l, const char *pin)
{
	const char *created[sizeof(l->created) / sizeof(l->created[0])];
	int err;

	tfc_debug("the driver of %s refused the single-buffer XDP program: attaching the "
		  "frags-aware one",
		  o->ifname);
	memcpy(created, l->created, sizeof(created));
	tfc_loaded_free(l);
	err = load_for(o, 1, l);
	/* Whatever the second load did, these are the pins to undo on failure. */
	memcpy(l->created, created, sizeof(created));
	err = err ?: init_control(l->skel, o);
	err = err ?: apply_prefix_opts(l->skel, o);
	return err ?: hook_up(o, l, pin);
}

/* Attached and pinned: what remains to record, and a warning to give. */
static void finish_attach(const struct tfc_attach_opts *o, int mixed)
{
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

int tfc_attach(const struct tfc_attach_opts *o)
{
	struct tfc_loaded l = {.prog_fd = -1};
	int lock, mixed = 0;
	char pin[PATH_MAX];
	int err;

	err = tfc_bpffs_prepare(o->pins->links, 1);
	if (err)
		return err;
	lock = tfc_pin_dir_lock(o->pins->dir);
	if (lock < 0)
		return lock;
	err = tfc_link_pin_path(o->pins, o->ap, o->ifindex, pin, sizeof(pin));
	if (err)
		goto out;
	err = check_attach(o, &mixed);
	if (err)
		goto out;
	err = load_for(o, 0, &l);
	if (err)
		goto out;
	tfc_fault_point("loaded");
	err = init_control(l.skel, o);
	err = err ?: apply_prefix_opts(l.skel, o);
	if (err)
		goto out;
	err = hook_up(o, &l, pin);
	if (refused_single_buffer(&l, err))
		err = hook_up_frags(o, &l, pin);
	if (err)
		goto out;
	finish_attach(o, mixed);
out:
	/* No new pins when the load failed: libbpf unpinned its own maps then. */
	tfc_loaded_finish(&l, o->pins, !!err);
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
	int err = tfc_pin_removable(pin);

	if (err)
		return err == -ENOENT ? 0 : err;
	return tfc_map_pin_purge(pin, k);
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

/*
 * Every map pin is checked before any is removed: a refusal is one line, and
 * it leaves the maps whole rather than half purged.
 */
static int refuse_if_unremovable(const struct tfc_pins *pins)
{
	for (int k = 0; k < TFC_MAP_KIND_ALL; k++) {
		int err = tfc_pin_removable(tfc_map_pin(pins, k));

		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

int tfc_purge(const struct tfc_pins *pins)
{
	int err, e;

	err = refuse_if_attached(pins);
	err = err ?: refuse_if_unremovable(pins);
	if (err)
		return err;
	/* Layout 3's maps too, whatever this build's layout: purge cleans up. */
	for (int k = 0; k < TFC_MAP_KIND_ALL; k++) {
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
