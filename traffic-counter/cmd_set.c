// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "util/log.h"
#include "maps/maps.h"

enum {
	OPT_ENABLE_FLOW = 1,
	OPT_DISABLE_FLOW,
};

static const struct tfc_opt set_opts[] = {
	{"enable-flow-map", NULL, "start per-flow counting", OPT_ENABLE_FLOW},
	{"disable-flow-map", NULL, "stop per-flow counting (the flow map keeps its entries)",
	 OPT_DISABLE_FLOW},
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def set_def = {
	.name = "set",
	.summary = "Change runtime flags in the control map; takes effect at once, no reload.",
	.opts = set_opts,
	.examples = "  traffic-counter set --enable-flow-map\n",
};

static int set_opt(int id, const char *arg, void *ctx)
{
	struct set_args *a = ctx;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	if (id != OPT_ENABLE_FLOW && id != OPT_DISABLE_FLOW)
		return -EINVAL;
	if (a->flow >= 0 && a->flow != (id == OPT_ENABLE_FLOW))
		return tfc_opt_invalid("enable-flow-map", "conflicts with --disable-flow-map");
	a->flow = id == OPT_ENABLE_FLOW;
	return 0;
}

int set_parse(int argc, char **argv, struct set_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->flow = -1;
	err = tfc_opts_parse(&set_def, argc, argv, set_opt, a);
	if (err)
		return err;
	/* Not --enable-flow-map's fault: name the command and list what it takes. */
	if (a->flow < 0) {
		tfc_err("set: nothing to set: give one of its flags, --enable-flow-map or "
			"--disable-flow-map (see 'traffic-counter set --help')");
		return -EINVAL;
	}
	return 0;
}

int cmd_set(int argc, char **argv)
{
	struct bpf_map_info info;
	struct tfc_control *ctl;
	struct set_args a;
	struct tfc_pins pins;
	int ret, fd;

	ret = tfc_parse_exit(set_parse(argc, argv, &a));
	if (ret >= 0)
		return ret;
	if (tfc_pin_args_resolve(&a.pins, &pins))
		return TFC_EXIT_USAGE;
	fd = tfc_map_open_flags(pins.control, TFC_MAP_CONTROL, NULL, &info, TFC_OPEN_RDWR);
	if (fd < 0)
		return TFC_EXIT_FAIL;
	ctl = tfc_control_map(fd);
	if (!ctl) {
		tfc_err("cannot map %s for writing: %s", pins.control, strerror(errno));
		close(fd);
		return TFC_EXIT_FAIL;
	}
	/* One atomic store: the kernel's counters beside it are never rewritten. */
	if (a.flow)
		__atomic_fetch_or(&ctl->flags, TFC_FLAG_FLOW_COUNTERS, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&ctl->flags, ~TFC_FLAG_FLOW_COUNTERS, __ATOMIC_SEQ_CST);
	tfc_control_unmap(ctl);
	close(fd);
	tfc_info("flow counting %s", a.flow ? "enabled" : "disabled");
	return TFC_EXIT_OK;
}
