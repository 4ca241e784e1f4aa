// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "loader/caps.h"
#include "loader/cgroup_attach.h"
#include "commands.h"
#include "loader/loader.h"
#include "util/log.h"

enum {
	OPT_IFACE = 1,
	OPT_AP,
	OPT_XDP_MODE,
	OPT_IP_MAP_SIZE,
	OPT_FLOW,
	OPT_FLOW_MAP_SIZE,
	OPT_COUNT_BY,
	OPT_TC_API,
	OPT_IP_MAP_TYPE,
	OPT_MIGRATE,
	OPT_PREFIX_MAP_SIZE,
	OPT_CGROUP,
	OPT_CGROUP_DEPTH,
	OPT_CGROUP_MAP_SIZE,
};

static const struct tfc_opt attach_opts[] = {
	{"iface", "IF", "interface to count on (required, except at cgroup)", OPT_IFACE},
	{"attach-point", "POINT",
	 "xdp (default), tc-ingress, tc-egress, or cgroup (per cgroup, local sockets' traffic)",
	 OPT_AP},
	{"cgroup", "PATH", "cgroup v2 directory to count under (default: the v2 root)", OPT_CGROUP},
	{"cgroup-depth", "N",
	 "key by the ancestor N levels below --cgroup (default 0: each packet's own cgroup)",
	 OPT_CGROUP_DEPTH},
	{"cgroup-map-size", "N", "cgroup map capacity on first attach (default 4096)",
	 OPT_CGROUP_MAP_SIZE},
	{"xdp-mode", "MODE", "driver (alias native; default), skb or hw", OPT_XDP_MODE},
	{"tc-api", "API", "auto (default: TCX link, else netlink), tcx or netlink", OPT_TC_API},
	{"ip-map-size", "N", "IP map capacity on first attach (default 65536)", OPT_IP_MAP_SIZE},
	{"ip-map-type", "TYPE",
	 "percpu (default) or shared (atomic adds, 104 bytes an entry whatever the CPU count: "
	 "for machines with many CPUs); chosen on first attach",
	 OPT_IP_MAP_TYPE},
	{"enable-flow-map", NULL, "turn per-flow counting on", OPT_FLOW},
	{"flow-map-size", "N", "flow map capacity on first attach (default 32768)",
	 OPT_FLOW_MAP_SIZE},
	{"count-by", "WHICH",
	 "key IP entries by src or dst address (default: source at "
	 "ingress, destination at egress)",
	 OPT_COUNT_BY},
	{"migrate", NULL,
	 "if the pinned maps have another layout version, size or IP map type than this "
	 "version and the options ask for, make new maps and carry every counter over "
	 "(all attachments keep counting); finishes an interrupted migration",
	 OPT_MIGRATE},
	{"prefix-map-size", "N",
	 "prefix map capacity on first attach (default 16384): overflow rows when the IP map is "
	 "full",
	 OPT_PREFIX_MAP_SIZE},
	TFC_PREFIX_OPTIONS,
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def attach_def = {
	.name = "attach",
	.summary = "Load the counter, attach it to an interface and pin maps and attachment.\n"
		   "The program keeps counting after this command exits; attaching again\n"
		   "reuses the pinned maps, so counters continue.",
	.opts = attach_opts,
	.examples = "  traffic-counter attach --iface eth0\n"
		    "  traffic-counter attach --iface eth0 --attach-point tc-egress "
		    "--enable-flow-map\n"
		    "  traffic-counter attach --iface eth0 --xdp-mode skb --ip-map-size 131072\n"
		    "  traffic-counter attach --iface eth0 --ip-map-size 262144 --migrate\n"
		    "  traffic-counter attach --iface eth0 --overflow-prefix 24,48 "
		    "--aggregate 0.0.0.0/0=24,198.18.0.0/15=32\n"
		    "  traffic-counter attach --attach-point cgroup --cgroup-depth 1\n",
};

static int parse_enum(const char *option, const char *arg, int (*parse)(const char *), int *out,
		      const char *choices)
{
	int v = parse(arg);

	if (v < 0)
		return tfc_opt_invalid(option, "'%s' is not one of %s", arg, choices);
	*out = v;
	return 0;
}

static int attach_opt(int id, const char *arg, void *ctx)
{
	struct attach_args *a = ctx;
	int err;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	if (tfc_prefix_args_handle(&a->pfx, id, arg, &err))
		return err;
	switch (id) {
	case OPT_IFACE:
		a->iface = arg;
		return 0;
	case OPT_AP:
		a->cgroup = !strcmp(arg, TFC_AP_NAME_CGROUP);
		if (a->cgroup)
			return 0;
		return parse_enum("attach-point", arg, tfc_attach_point_parse, &a->ap,
				  "xdp, tc-ingress, tc-egress, cgroup");
	case OPT_XDP_MODE:
		return parse_enum("xdp-mode", arg, tfc_xdp_mode_parse, &a->xdp_mode,
				  "driver, native, skb, hw");
	case OPT_TC_API:
		return parse_enum("tc-api", arg, tfc_tc_api_parse, &a->tfc_api,
				  "auto, tcx, netlink");
	case OPT_COUNT_BY:
		if (!strcmp(arg, "default"))
			return tfc_opt_invalid("count-by", "'%s' is not one of src, dst", arg);
		return parse_enum("count-by", arg, tfc_count_by_parse, &a->count_by, "src, dst");
	case OPT_IP_MAP_TYPE:
		/* Indexes are enum tfc_ip_map_type. */
		return tfc_parse_choice("ip-map-type", arg,
					(const char *const[]){"percpu", "shared"}, 2,
					&a->ip_map_type);
	case OPT_IP_MAP_SIZE:
		return tfc_parse_u32("ip-map-size", arg, 1, TFC_MAX_MAP_ENTRIES, &a->ip_map_size);
	case OPT_FLOW_MAP_SIZE:
		return tfc_parse_u32("flow-map-size", arg, 1, TFC_MAX_MAP_ENTRIES,
				     &a->flow_map_size);
	case OPT_FLOW:
		a->enable_flow = 1;
		return 0;
	case OPT_MIGRATE:
		a->migrate = 1;
		return 0;
	case OPT_PREFIX_MAP_SIZE:
		return tfc_parse_u32("prefix-map-size", arg, 1, TFC_MAX_MAP_ENTRIES,
				     &a->prefix_map_size);
	case OPT_CGROUP:
		a->cgroup_path = arg;
		return 0;
	case OPT_CGROUP_DEPTH: {
		__u32 depth;

		err = tfc_parse_u32("cgroup-depth", arg, 0, TFC_CGROUP_MAX_DEPTH, &depth);
		a->cgroup_depth = (int)depth;
		return err;
	}
	case OPT_CGROUP_MAP_SIZE:
		return tfc_parse_u32("cgroup-map-size", arg, 1, TFC_MAX_MAP_ENTRIES,
				     &a->cgroup_map_size);
	default:
		return -EINVAL;
	}
}

/* The cgroup hooks count per socket: interface options mean nothing there. */
static int check_cgroup_args(const struct attach_args *a)
{
	if (a->iface)
		return tfc_opt_invalid("iface",
				       "does not apply to --attach-point cgroup (it "
				       "counts local sockets' traffic on every interface)");
	if (a->xdp_mode >= 0 || a->tfc_api >= 0 || a->count_by || a->enable_flow)
		return tfc_opt_invalid(a->xdp_mode >= 0	 ? "xdp-mode"
				       : a->tfc_api >= 0 ? "tc-api"
				       : a->count_by	 ? "count-by"
							 : "enable-flow-map",
				       "does not apply to --attach-point cgroup");
	return 0;
}

/* attach --attach-point cgroup */
static int attach_cgroup(const struct attach_args *a, const struct tfc_pins *pins)
{
	struct tfc_cgroup_attach_opts o = {
		.pins = pins,
		.path = a->cgroup_path,
		.depth = a->cgroup_depth,
		.map_size = a->cgroup_map_size,
		.migrate = a->migrate,
	};

	return tfc_cgroup_attach(&o) ? TFC_EXIT_FAIL : TFC_EXIT_OK;
}

int attach_parse(int argc, char **argv, struct attach_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->ap = TFC_AP_XDP;
	a->xdp_mode = -1;
	a->tfc_api = -1;
	a->ip_map_type = -1;
	a->cgroup_depth = -1;
	err = tfc_opts_parse(&attach_def, argc, argv, attach_opt, a);
	if (err) {
		tfc_prefix_args_free(&a->pfx);
		return err;
	}
	if (a->cgroup && (a->pfx.overflow_set || a->pfx.aggregate_set || a->prefix_map_size))
		return tfc_opt_invalid(a->prefix_map_size    ? "prefix-map-size"
				       : a->pfx.overflow_set ? "overflow-prefix"
							     : "aggregate",
				       "applies to interface attach points only");
	if (a->cgroup)
		return check_cgroup_args(a);
	if (a->cgroup_path || a->cgroup_depth >= 0 || a->cgroup_map_size)
		return tfc_opt_invalid(a->cgroup_path	      ? "cgroup"
				       : a->cgroup_depth >= 0 ? "cgroup-depth"
							      : "cgroup-map-size",
				       "applies to --attach-point cgroup only");
	if (!a->iface)
		return tfc_opt_invalid("iface", "is required: name the interface to count on");
	if (a->ap == TFC_AP_XDP && a->tfc_api >= 0)
		return tfc_opt_invalid("tc-api", "applies to tc-ingress and tc-egress only");
	if (a->ap != TFC_AP_XDP && a->xdp_mode >= 0)
		return tfc_opt_invalid("xdp-mode", "applies to --attach-point xdp only");
	return 0;
}

int cmd_attach(int argc, char **argv)
{
	struct tfc_attach_result res = {};
	struct tfc_attach_opts o = {};
	struct attach_args a;
	struct tfc_pins pins;
	int ret, ifindex;

	ret = tfc_parse_exit(attach_parse(argc, argv, &a));
	if (ret >= 0)
		goto out;
	ret = TFC_EXIT_USAGE;
	if (tfc_pin_args_resolve(&a.pins, &pins))
		goto out;
	ret = TFC_EXIT_FAIL;
	if (tfc_require_attach_caps("attach"))
		goto out;
	if (a.cgroup) {
		ret = attach_cgroup(&a, &pins);
		goto out;
	}
	ifindex = tfc_iface_index(a.iface);
	if (ifindex < 0)
		goto out;

	o.pins = &pins;
	o.ifindex = ifindex;
	o.ifname = a.iface;
	o.ap = a.ap;
	o.xdp_mode = a.xdp_mode < 0 ? TFC_XDP_DRIVER : a.xdp_mode;
	o.tfc_api = a.tfc_api < 0 ? TFC_API_AUTO : a.tfc_api;
	o.count_by = a.count_by;
	o.ip_map_type = a.ip_map_type;
	o.ip_map_size = a.ip_map_size;
	o.flow_map_size = a.flow_map_size;
	o.enable_flow = a.enable_flow;
	o.migrate = a.migrate;
	o.prefix_map_size = a.prefix_map_size;
	o.overflow_set = a.pfx.overflow_set;
	o.overflow_v4 = a.pfx.overflow_v4;
	o.overflow_v6 = a.pfx.overflow_v6;
	o.aggregate_set = a.pfx.aggregate_set;
	o.aggregate = a.pfx.rules;
	o.n_aggregate = a.pfx.n_rules;
	o.result = &res;
	if (tfc_attach(&o))
		goto out;
	tfc_attach_report(&o, &res);
	/* The cgroup programs too must count into the migrated maps. */
	if (a.migrate && tfc_cgroup_repoint(&pins))
		goto out;
	ret = TFC_EXIT_OK;
out:
	tfc_prefix_args_free(&a.pfx);
	return ret;
}
