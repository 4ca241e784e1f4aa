// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
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
	TFC_PREFIX_OPTIONS,
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def set_def = {
	.name = "set",
	.summary = "Change runtime flags in the control map and the aggregation rules; takes\n"
		   "effect at once, no reload, no frame lost.",
	.opts = set_opts,
	.examples = "  traffic-counter set --enable-flow-map\n"
		    "  traffic-counter set --overflow-prefix 24,56\n"
		    "  traffic-counter set --aggregate 0.0.0.0/0=24,198.18.0.0/15=32\n"
		    "  traffic-counter set --no-aggregate\n",
};

static int set_opt(int id, const char *arg, void *ctx)
{
	struct set_args *a = ctx;
	int err;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	if (tfc_prefix_args_handle(&a->pfx, id, arg, &err))
		return err;
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
		goto out;
	/* Not --enable-flow-map's fault: name the command and list what it takes. */
	if (a->flow < 0 && !tfc_prefix_args_any(&a->pfx)) {
		tfc_err("set: nothing to set: give one of its flags, --enable-flow-map, "
			"--disable-flow-map, --overflow-prefix, --aggregate or --no-aggregate "
			"(see 'traffic-counter set --help')");
		err = -EINVAL;
	}
out:
	if (err)
		tfc_prefix_args_free(&a->pfx);
	return err;
}

static void set_flow(struct tfc_control *ctl, int on)
{
	/* One atomic store: the kernel's counters beside it are never rewritten. */
	if (on)
		__atomic_fetch_or(&ctl->flags, TFC_FLAG_FLOW_COUNTERS, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&ctl->flags, ~TFC_FLAG_FLOW_COUNTERS, __ATOMIC_SEQ_CST);
	tfc_info("flow counting %s", on ? "enabled" : "disabled");
}

#if TFC_ABI_VERSION >= 3
static void set_overflow(struct tfc_control *ctl, const struct tfc_prefix_args *p)
{
	__atomic_store_n(&ctl->overflow_v4, p->overflow_v4, __ATOMIC_RELAXED);
	__atomic_store_n(&ctl->overflow_v6, p->overflow_v6, __ATOMIC_RELAXED);
	char v4[8] = "off", v6[8] = "off";

	if (p->overflow_v4)
		snprintf(v4, sizeof(v4), "/%u", p->overflow_v4);
	if (p->overflow_v6)
		snprintf(v6, sizeof(v6), "/%u", p->overflow_v6);
	tfc_info("overflow to prefixes when the IP map is full: IPv4 %s, IPv6 %s", v4, v6);
}

/* The trie sits beside the control map it belongs to. */
static int set_aggregate(const struct tfc_pins *pins, struct tfc_control *ctl,
			 const struct tfc_prefix_args *p)
{
	struct bpf_map_info info;
	int fd, lock, err;

	fd = tfc_map_open_flags(pins->aggregate, TFC_MAP_AGGREGATE, NULL, &info, TFC_OPEN_RDWR);
	if (fd < 0)
		return fd;
	/* Two rule changes at once would each delete the other's new rules. */
	lock = tfc_pin_dir_lock(pins->dir);
	err = lock < 0 ? lock : tfc_aggregate_replace(fd, ctl, p->rules, p->n_rules);
	if (lock >= 0)
		close(lock);
	close(fd);
	if (!err && p->n_rules)
		tfc_info("%zu aggregation rule(s) in force", p->n_rules);
	else if (!err)
		tfc_info("aggregation off: every address counted on its own");
	return err;
}
#endif

/* Every change is checked (the trie opened) before the first is made. */
static int apply_set(const struct set_args *a, const struct tfc_pins *pins, struct tfc_control *ctl)
{
	int err = 0;

#if TFC_ABI_VERSION >= 3
	if (a->pfx.aggregate_set)
		err = set_aggregate(pins, ctl, &a->pfx);
	if (!err && a->pfx.overflow_set)
		set_overflow(ctl, &a->pfx);
#else
	(void)pins;
#endif
	if (!err && a->flow >= 0)
		set_flow(ctl, a->flow);
	return err;
}

int cmd_set(int argc, char **argv)
{
	struct tfc_control *ctl = NULL;
	struct bpf_map_info info;
	struct set_args a;
	struct tfc_pins pins;
	int ret, fd = -1;

	ret = tfc_parse_exit(set_parse(argc, argv, &a));
	if (ret >= 0)
		return ret;
	ret = TFC_EXIT_USAGE;
	if (tfc_pin_args_resolve(&a.pins, &pins))
		goto out;
	ret = TFC_EXIT_FAIL;
	fd = tfc_map_open_flags(pins.control, TFC_MAP_CONTROL, NULL, &info, TFC_OPEN_RDWR);
	if (fd < 0)
		goto out;
	ctl = tfc_control_map(fd);
	if (!ctl) {
		tfc_err("cannot map %s for writing: %s", pins.control, strerror(errno));
		goto out;
	}
	if (!apply_set(&a, &pins, ctl))
		ret = TFC_EXIT_OK;
out:
	tfc_control_unmap(ctl);
	if (fd >= 0)
		close(fd);
	tfc_prefix_args_free(&a.pfx);
	return ret;
}
