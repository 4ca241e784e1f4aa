// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "traffic_counter.skel.h"
#include "object.h"
#include "xdp_fit.h"
#include "util/log.h"

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

/*
 * A pinned map is reused as it is: its size wins unless the user asked for
 * a different one, which is an error (resizing would lose the counters).
 */
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
static int plan_ip_type(struct traffic_counter_bpf *skel, const struct tfc_load_req *req,
			const struct map_plan *ip)
{
	int type = req->ip_map_type < 0 ? TFC_IP_MAP_PERCPU : req->ip_map_type;
	struct bpf_map_info info;
	int fd;

	if (ip->existed) {
		fd = tfc_map_open(ip->pin, TFC_MAP_IP, NULL, &info);
		if (fd < 0)
			return fd;
		close(fd);
		int pinned = info.type == BPF_MAP_TYPE_HASH ? TFC_IP_MAP_SHARED : TFC_IP_MAP_PERCPU;

		if (req->ip_map_type >= 0 && req->ip_map_type != pinned) {
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

/*
 * The single-buffer program counts data_end - data and skips
 * bpf_xdp_get_buff_len (6-9 ns a packet, make bench): it is chosen when
 * every frame on the interface fits one buffer (the MTU fits a page). A
 * driver keeps that true after attach: it refuses a program without frags,
 * and later an MTU above its limit, rather than hand it a multi-buffer
 * frame; in skb mode the kernel linearizes every frame for such a program
 * (net/core/dev.c, netif_receive_generic_xdp()). So data_end - data is the
 * frame's full length in every mode. Re-attach chooses again.
 */
static struct bpf_program *xdp_program(struct traffic_counter_bpf *skel,
				       const struct tfc_load_req *req)
{
	int fits;

	if (!xdp_frags_supported())
		return skel->progs.TFC_PROG_XDP_LEGACY;
	/* A layout 1 build attaches as that release did: frags-aware always. */
	if (req->xdp_frags || req->xdp_mode == TFC_XDP_HW || TFC_ABI_VERSION < 2)
		return skel->progs.TFC_PROG_XDP;
	fits = tfc_xdp_fits_one_buffer(req->ifname);
	if (fits < 0)
		tfc_debug("cannot tell whether %s's frames fit one XDP buffer (%s): using "
			  "the frags-aware program",
			  req->ifname, strerror(-fits));
	return fits > 0 ? skel->progs.TFC_PROG_XDP_LEGACY : skel->progs.TFC_PROG_XDP;
}

/* Only the program for this attach point is loaded (and verified). */
static struct bpf_program *select_program(struct traffic_counter_bpf *skel,
					  const struct tfc_load_req *req)
{
	struct bpf_program *progs[] = {skel->progs.TFC_PROG_XDP, skel->progs.TFC_PROG_XDP_LEGACY,
				       skel->progs.TFC_PROG_TC_INGRESS,
				       skel->progs.TFC_PROG_TC_EGRESS};
	struct bpf_program *want;

#if TFC_ABI_VERSION >= 3
	bpf_program__set_autoload(skel->progs.TFC_PROG_CG_INGRESS, req->cgroup && !req->maps_only);
	bpf_program__set_autoload(skel->progs.TFC_PROG_CG_EGRESS, req->cgroup && !req->maps_only);
	if (req->cgroup) {
		for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
			bpf_program__set_autoload(progs[i], false);
		return req->maps_only ? NULL : skel->progs.TFC_PROG_CG_INGRESS;
	}
#endif
	if (req->maps_only)
		want = NULL;
	else if (req->prog_name)
		want = bpf_object__find_program_by_name(skel->obj, req->prog_name);
	else if (req->ap == TFC_AP_XDP)
		want = xdp_program(skel, req);
	else
		want = req->ap == TFC_AP_TC_INGRESS ? skel->progs.TFC_PROG_TC_INGRESS
						    : skel->progs.TFC_PROG_TC_EGRESS;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		bpf_program__set_autoload(progs[i], progs[i] == want);
	/* Hardware offload needs the program built for the device. */
	if (want && req->ap == TFC_AP_XDP && req->xdp_mode == TFC_XDP_HW)
		bpf_program__set_ifindex(want, req->ifindex);
	return want;
}

static void report_load_error(const struct tfc_load_req *req, int err)
{
	if (req->ap == TFC_AP_XDP && req->xdp_mode == TFC_XDP_HW)
		tfc_err("cannot load the XDP program for hardware offload on %s: %s; the device "
			"does not offload BPF: use --xdp-mode driver or skb",
			req->ifname, strerror(-err));
	else if (err == -EPERM || err == -EACCES)
		tfc_err("cannot load BPF programs: %s; run as root or with CAP_BPF, CAP_NET_ADMIN "
			"and CAP_PERFMON",
			strerror(-err));
	else
		tfc_err("cannot load the BPF programs: %s (run with -v to see libbpf's and the "
			"verifier's messages)",
			strerror(-err));
}

static int configure(struct traffic_counter_bpf *skel, const struct tfc_load_req *req,
		     struct map_plan *plans)
{
	const struct tfc_pins *pins = req->pins;
	struct map_plan init[] = {
		{skel->maps.traffic_counters_ip, pins->ip, TFC_MAP_IP, req->ip_map_size,
		 TFC_IP_MAP_DEFAULT_ENTRIES, "--ip-map-size", 0},
		{skel->maps.traffic_counters_flow, pins->flow, TFC_MAP_FLOW, req->flow_map_size,
		 TFC_FLOW_MAP_DEFAULT_ENTRIES, "--flow-map-size", 0},
		{skel->maps.traffic_control, pins->control, TFC_MAP_CONTROL, 0, 0, NULL, 0},
		{skel->maps.traffic_stats, pins->stats, TFC_MAP_STATS, 0, 0, NULL, 0},
#if TFC_ABI_VERSION >= 3
		{skel->maps.traffic_counters_prefix, pins->prefix, TFC_MAP_PREFIX,
		 req->prefix_map_size, TFC_PREFIX_MAP_DEFAULT_ENTRIES, "--prefix-map-size", 0},
		{skel->maps.traffic_aggregate, pins->aggregate, TFC_MAP_AGGREGATE, 0, 0, NULL, 0},
#endif
	};
	int err;

	_Static_assert(sizeof(init) / sizeof(init[0]) == TFC_MAP_KINDS, "a plan for every map");
	memcpy(plans, init, sizeof(init));
	/* Known for every map before any check can fail: only maps this call
	 * creates may be unpinned on failure, never ones that were there. */
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		plans[i].existed = !access(plans[i].pin, F_OK);
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
		err = plan_map(&plans[i]);
		if (err)
			return err;
	}
	skel->rodata->cfg_count_by = req->count_by;
	return plan_ip_type(skel, req, &plans[0]);
}

#if TFC_ABI_VERSION >= 3
/*
 * The cgroup map is not one of the TFC_MAP_* kinds the interface programs
 * share: a pinned one is reused by every load (same size), and a cgroup
 * load pins a new one beside the others.
 */
static int plan_cgroup_map(struct traffic_counter_bpf *skel, const struct tfc_load_req *req,
			   char *pin, size_t len, int *existed)
{
	struct map_plan p = {
		.map = skel->maps.traffic_counters_cgroup,
		.pin = pin,
		.kind = TFC_MAP_KIND_MAX,
		.requested = req->cgroup_map_size,
		.def = TFC_CGROUP_MAP_DEFAULT_ENTRIES,
		.option = "--cgroup-map-size",
	};
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	int fd, err;

	if (tfc_cgroup_map_pin(req->pins, pin, len))
		return -ENAMETOOLONG;
	*existed = !access(pin, F_OK);
	if (!*existed)
		return req->cgroup ? plan_map(&p) : 0;
	fd = bpf_obj_get(pin);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	close(fd);
	if (err || info.type != BPF_MAP_TYPE_PERCPU_HASH ||
	    info.key_size != sizeof(struct cgroup_key) ||
	    info.value_size != sizeof(struct counters)) {
		tfc_err("%s is not a traffic-counter cgroup map: remove it, or use another "
			"--pin-dir",
			pin);
		return -EPROTO;
	}
	if (req->cgroup_map_size && req->cgroup_map_size != info.max_entries) {
		tfc_err("the map pinned at %s has %u entries but --cgroup-map-size asks for %u: "
			"detach the cgroup attachments and remove it (detach --all --purge), or "
			"omit --cgroup-map-size to keep it",
			pin, info.max_entries, req->cgroup_map_size);
		return -EEXIST;
	}
	if (bpf_map__set_max_entries(p.map, info.max_entries))
		return -EINVAL;
	return bpf_map__set_pin_path(p.map, pin);
}
#endif

/* The pins of the maps that were not there before this load. */
static void note_created(const struct map_plan *plans, size_t n, struct tfc_loaded *l)
{
	for (size_t i = 0; i < n; i++)
		l->created[plans[i].kind] = plans[i].existed ? NULL : plans[i].pin;
}

int tfc_load(const struct tfc_load_req *req, struct tfc_loaded *out)
{
	struct map_plan plans[TFC_MAP_KINDS] = {};
	struct traffic_counter_bpf *skel;
	struct bpf_program *prog;
	int err;
#if TFC_ABI_VERSION >= 3
	int cg_existed = 1;
#endif

	memset(out, 0, sizeof(*out));
	out->prog_fd = -1;
	out->prog_fd2 = -1;
	skel = traffic_counter_bpf__open();
	if (!skel) {
		err = -errno;
		tfc_err("cannot open the embedded BPF object: %s", strerror(-err));
		return err;
	}
	err = configure(skel, req, plans);
	if (err)
		goto out;
#if TFC_ABI_VERSION >= 3
	err = plan_cgroup_map(skel, req, out->cgroup_pin, sizeof(out->cgroup_pin), &cg_existed);
	if (err)
		goto out;
	skel->rodata->cfg_cg_level = req->cgroup_level;
	skel->rodata->cfg_cg_depth = req->cgroup_depth;
#endif
	prog = select_program(skel, req);
	if (req->prog_name && !prog) {
		tfc_err("this traffic-counter has no program %s", req->prog_name);
		err = -ENOENT;
		goto out;
	}
	err = traffic_counter_bpf__load(skel);
	if (err) {
		/* libbpf unpins the maps it pinned during a failed load itself. */
		report_load_error(req, err);
		goto out;
	}
	out->prog_fd = prog ? bpf_program__fd(prog) : -1;
	out->single_buffer = prog == skel->progs.TFC_PROG_XDP_LEGACY;
#if TFC_ABI_VERSION >= 3
	if (req->cgroup && prog)
		out->prog_fd2 = bpf_program__fd(skel->progs.TFC_PROG_CG_EGRESS);
	if (req->cgroup && !cg_existed)
		out->created_cgroup = out->cgroup_pin;
#endif
	note_created(plans, TFC_MAP_KINDS, out);
	out->skel = skel;
	return 0;
out:
	traffic_counter_bpf__destroy(skel);
	return err;
}

void tfc_loaded_unpin_new(const struct tfc_loaded *l)
{
	for (int k = 0; k < TFC_MAP_KINDS; k++)
		if (l->created[k])
			unlink(l->created[k]);
	if (l->created_cgroup)
		unlink(l->created_cgroup);
}

void tfc_loaded_finish(struct tfc_loaded *l, const struct tfc_pins *pins, int failed)
{
	if (failed) {
		tfc_loaded_unpin_new(l);
		rmdir(pins->links);
		rmdir(pins->dir);
	}
	tfc_loaded_free(l);
}

void tfc_loaded_free(struct tfc_loaded *l)
{
	traffic_counter_bpf__destroy(l->skel);
	l->skel = NULL;
	l->prog_fd = -1;
	l->prog_fd2 = -1;
}
