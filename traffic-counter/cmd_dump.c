// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "util/log.h"
#include "maps/maps.h"
#include "export/cgroup_format.h"

enum {
	OPT_JSON = 1,
	OPT_CSV,
	OPT_SORT,
	OPT_TOP,
	OPT_CGROUPS,
	OPT_PODS_DIR,
};

static const struct tfc_opt dump_opts[] = {
	{"json", NULL, "print one JSON array", OPT_JSON},
	{"csv", NULL, "print CSV with a header line", OPT_CSV},
	{"sort", "KEY", "bytes (default), packets or ip", OPT_SORT},
	{"top", "N", "only the first N entries after sorting", OPT_TOP},
	{"cgroups", NULL,
	 "the per-cgroup map (DIR/" TFC_CGROUP_MAP_NAME
	 ") with unit, container and pod names; --sort ip sorts by cgroup id",
	 OPT_CGROUPS},
	{"pods-dir", "DIR",
	 "with --cgroups: the kubelet's pod directories NAMESPACE_NAME_UID "
	 "(default " TFC_PODS_DIR_DEFAULT ")",
	 OPT_PODS_DIR},
	TFC_FILTER_OPTIONS,
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def dump_maps_def = {
	.name = "dump-maps",
	.summary = "Print the counters of the IP map (default) or, given its pin, the flow map.\n"
		   "Per-CPU values are summed.",
	.opts = dump_opts,
	.examples = "  traffic-counter dump-maps --top 10\n"
		    "  traffic-counter dump-maps --pin /sys/fs/bpf/traffic_counter/"
		    "traffic_counters_flow --json\n"
		    "  traffic-counter dump-maps --address 10.0.0.0/8 --exclude-link-local\n"
		    "  traffic-counter dump-maps --cgroups --top 10\n",
};

static int dump_opt(int id, const char *arg, void *ctx)
{
	struct dump_args *a = ctx;
	int v, err;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	if (tfc_filter_args_handle(&a->filter, id, arg, &err))
		return err;
	switch (id) {
	case OPT_JSON:
	case OPT_CSV:
		if (a->format != TFC_FMT_TABLE)
			return tfc_opt_invalid(id == OPT_JSON ? "json" : "csv",
					       "choose one of --json and --csv");
		a->format = id == OPT_JSON ? TFC_FMT_JSON : TFC_FMT_CSV;
		return 0;
	case OPT_SORT:
		v = tfc_sort_parse(arg);
		if (v < 0)
			return tfc_opt_invalid("sort", "'%s' is not one of bytes, packets, ip",
					       arg);
		a->sort = v;
		return 0;
	case OPT_TOP:
		return tfc_parse_u32("top", arg, 1, UINT32_MAX, &a->top);
	case OPT_CGROUPS:
		a->cgroups = 1;
		return 0;
	case OPT_PODS_DIR:
		a->pods_dir = arg;
		return 0;
	default:
		return -EINVAL;
	}
}

int dump_parse(int argc, char **argv, struct dump_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->format = TFC_FMT_TABLE;
	a->sort = TFC_SORT_BYTES;
	err = tfc_opts_parse(&dump_maps_def, argc, argv, dump_opt, a);
	if (err)
		return err;
	/* Cgroup rows have no address to filter on. */
	if (a->cgroups && tfc_filter_active(&a->filter))
		return tfc_opt_invalid("cgroups", "--address and --exclude-* filter addresses: "
						  "leave them out with --cgroups");
	if (a->pods_dir && !a->cgroups)
		return tfc_opt_invalid("pods-dir", "names pods of --cgroups rows: add --cgroups");
	return 0;
}

static int dump_ip(int fd, const struct dump_args *a)
{
	struct tfc_ip_entry *e = NULL;
	size_t n = 0;
	int err;

	err = tfc_dump_ip(fd, &e, &n);
	if (!err) {
		n = tfc_filter_ip(&a->filter, e, n);
		tfc_sort_ip(e, n, a->sort);
		if (a->top && a->top < n)
			n = a->top;
		err = tfc_print_ip(stdout, e, n, a->format);
	}
	free(e);
	return err;
}

static int dump_flow(int fd, const struct dump_args *a)
{
	struct tfc_flow_entry *e = NULL;
	size_t n = 0;
	int err;

	err = tfc_dump_flow(fd, &e, &n);
	if (!err) {
		n = tfc_filter_flow(&a->filter, e, n);
		tfc_sort_flow(e, n, a->sort);
		if (a->top && a->top < n)
			n = a->top;
		err = tfc_print_flow(stdout, e, n, a->format);
	}
	free(e);
	return err;
}

/*
 * Names are read after the map: every id in it was then made by a cgroup
 * that existed before the walk, so an id the walk does not find is gone.
 */
static int dump_cgroup(int fd, const struct dump_args *a)
{
	struct tfc_cgroup_names *names = NULL;
	struct tfc_cgroup_entry *e = NULL;
	size_t n = 0;
	int err;

	err = tfc_dump_cgroup(fd, &e, &n);
	if (err)
		goto out;
	names = tfc_cgroup_names_new(NULL, a->pods_dir);
	if (!names)
		tfc_warn("cgroups shown by id alone: %s",
			 errno == ENOENT ? "no cgroup v2 mount on this host (/proc/self/mountinfo)"
					 : strerror(errno));
	tfc_sort_cgroup(e, n, a->sort);
	if (a->top && a->top < n)
		n = a->top;
	err = tfc_print_cgroup(stdout, e, n, names, a->format);
out:
	tfc_cgroup_names_free(names);
	free(e);
	return err;
}

/* --cgroups: DIR/traffic_counters_cgroup (--pin names the IP map, not this one). */
static int cmd_dump_cgroups(const struct dump_args *a, const struct tfc_pins *pins)
{
	struct bpf_map_info info;
	char pin[PATH_MAX];
	int fd, err;

	if (snprintf(pin, sizeof(pin), "%s/%s", pins->dir, TFC_CGROUP_MAP_NAME) >=
	    (int)sizeof(pin)) {
		tfc_err("pin directory too long: %s", pins->dir);
		return TFC_EXIT_USAGE;
	}
	fd = tfc_cgroup_map_open(pin, &info, 0);
	if (fd < 0)
		return TFC_EXIT_FAIL;
	err = dump_cgroup(fd, a);
	close(fd);
	if (err) {
		tfc_err("cannot read %s: %s", pin, strerror(-err));
		return TFC_EXIT_FAIL;
	}
	return TFC_EXIT_OK;
}

int cmd_dump_maps(int argc, char **argv)
{
	struct bpf_map_info info;
	enum tfc_map_kind kind;
	struct dump_args a;
	struct tfc_pins pins;
	int ret, fd, err;

	ret = tfc_parse_exit(dump_parse(argc, argv, &a));
	if (ret >= 0)
		return ret;
	if (tfc_pin_args_resolve(&a.pins, &pins))
		return TFC_EXIT_USAGE;
	if (a.cgroups)
		return cmd_dump_cgroups(&a, &pins);
	tfc_ifname_netns(tfc_pins_netns(&pins)); /* ifnames as the counters saw them */
	fd = tfc_map_open(pins.ip, -1, &kind, &info);
	if (fd < 0)
		return TFC_EXIT_FAIL;
	err = kind == TFC_MAP_IP ? dump_ip(fd, &a) : dump_flow(fd, &a);
	close(fd);
	if (err) {
		tfc_err("cannot read %s: %s", pins.ip, strerror(-err));
		return TFC_EXIT_FAIL;
	}
	return TFC_EXIT_OK;
}
