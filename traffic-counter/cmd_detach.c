// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader/caps.h"
#include "loader/cgroup_attach.h"
#include "commands.h"
#include "loader/discover.h"
#include "loader/hooks.h"
#include "loader/loader.h"
#include "util/log.h"

enum {
	OPT_IFACE = 1,
	OPT_AP,
	OPT_ALL,
	OPT_PURGE,
	OPT_IF_ATTACHED,
	OPT_CGROUP,
};

static const struct tfc_opt detach_opts[] = {
	{"iface", "IF", "interface to stop counting on", OPT_IFACE},
	{"attach-point", "POINT", "xdp (default), tc-ingress, tc-egress or cgroup", OPT_AP},
	{"cgroup", "PATH", "with --attach-point cgroup: the cgroup (default: the v2 root)",
	 OPT_CGROUP},
	{"all", NULL,
	 "remove every attachment recorded in the pin directory (with --attach-point cgroup: "
	 "every cgroup one)",
	 OPT_ALL},
	{"purge", NULL, "also remove the maps (their counters are lost) once nothing is attached",
	 OPT_PURGE},
	{"if-attached", NULL,
	 "nothing to detach (nothing attached there, or no pin directory) is not an error: "
	 "say so and exit 0, for scripts",
	 OPT_IF_ATTACHED},
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def detach_def = {
	.name = "detach",
	.summary = "Remove one attachment (or all). The pinned maps and their counters stay\n"
		   "unless --purge is given.",
	.opts = detach_opts,
	.examples = "  traffic-counter detach --iface eth0 --attach-point xdp\n"
		    "  traffic-counter detach --attach-point cgroup --cgroup /sys/fs/cgroup/app\n"
		    "  traffic-counter detach --all --purge\n"
		    "  traffic-counter detach --all --purge --if-attached\n",
};

static int detach_opt(int id, const char *arg, void *ctx)
{
	struct detach_args *a = ctx;
	int v;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	switch (id) {
	case OPT_IFACE:
		a->iface = arg;
		return 0;
	case OPT_AP:
		a->cgroup = !strcmp(arg, TFC_AP_NAME_CGROUP);
		if (a->cgroup)
			return 0;
		v = tfc_attach_point_parse(arg);
		if (v < 0)
			return tfc_opt_invalid(
				"attach-point",
				"'%s' is not one of xdp, tc-ingress, tc-egress, cgroup", arg);
		a->ap = v;
		return 0;
	case OPT_CGROUP:
		a->cgroup_path = arg;
		return 0;
	case OPT_ALL:
		a->all = 1;
		return 0;
	case OPT_PURGE:
		a->purge = 1;
		return 0;
	case OPT_IF_ATTACHED:
		a->if_attached = 1;
		return 0;
	default:
		return -EINVAL;
	}
}

int detach_parse(int argc, char **argv, struct detach_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->ap = TFC_AP_XDP;
	err = tfc_opts_parse(&detach_def, argc, argv, detach_opt, a);
	if (err)
		return err;
	if (a->all && a->iface)
		return tfc_opt_invalid("all", "cannot be combined with --iface");
	if (a->cgroup_path && !a->cgroup)
		return tfc_opt_invalid("cgroup", "applies to --attach-point cgroup only");
	if (a->cgroup && a->iface)
		return tfc_opt_invalid("iface", "does not apply to --attach-point cgroup");
	if (a->cgroup && !a->all)
		return 0;
	if (!a->all && !a->iface && !a->purge)
		return tfc_opt_invalid("iface", "is required (or use --all)");
	return 0;
}

static int detach_all(const struct tfc_pins *pins)
{
	struct tfc_attachment *list;
	size_t n;
	int err, failed = 0;

	err = tfc_attachments_list(pins, &list, &n);
	if (err) {
		tfc_err("cannot list attachments in %s: %s", pins->links, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		/* A cls_bpf filter is only reachable from its own namespace. */
		if (list[i].other_netns && !list[i].link_id) {
			tfc_err("%s on ifindex %d is in another network namespace (inode %llu): "
				"run "
				"detach there (nsenter --net=...)",
				tfc_attach_point_str(list[i].ap), list[i].pin_ifindex,
				(unsigned long long)list[i].netns);
			failed = -EXDEV;
			continue;
		}
		err = tfc_hook_detach(list[i].pin, list[i].ap, list[i].pin_ifindex);
		if (err)
			failed = err;
		else
			tfc_info("detached %s from %s", tfc_attach_point_str(list[i].ap),
				 list[i].ifname);
	}
	free(list);
	err = tfc_cgroup_detach_all(pins);
	return failed ?: err;
}

/* detach --attach-point cgroup [--cgroup PATH] */
static int detach_cgroup(const struct tfc_pins *pins, const struct detach_args *a)
{
	int err = tfc_cgroup_detach(pins, a->cgroup_path);

	if (err == -ENOENT && a->if_attached) {
		tfc_info("nothing attached by traffic-counter at cgroup %s (pin directory %s): "
			 "nothing to detach",
			 a->cgroup_path ?: "(v2 root)", pins->dir);
		return 0;
	}
	if (err == -ENOENT)
		tfc_err("nothing attached by traffic-counter at cgroup %s (pin directory %s); see "
			"'traffic-counter status'",
			a->cgroup_path ?: "(v2 root)", pins->dir);
	return err;
}

/* Whether this pin directory has a pin for (ap, ifindex). */
static int recorded(const struct tfc_pins *pins, enum tfc_attach_point ap, int ifindex)
{
	char pin[PATH_MAX + sizeof(TFC_NETLINK_SUFFIX)];
	size_t n;

	if (tfc_link_pin_path(pins, ap, ifindex, pin, PATH_MAX))
		return 0;
	n = strlen(pin);
	if (!access(pin, F_OK))
		return 1;
	snprintf(pin + n, sizeof(pin) - n, "%s", TFC_NETLINK_SUFFIX);
	return !access(pin, F_OK);
}

/*
 * The attachment recorded in this pin directory, or else one of ours found
 * from the kernel (attached with other pin options).
 */
static int detach_one(const struct tfc_pins *pins, const struct detach_args *a)
{
	int ifindex = tfc_iface_index(a->iface), err;

	if (ifindex < 0)
		return ifindex;
	if (!recorded(pins, a->ap, ifindex)) {
		err = tfc_detach_found(pins, a->ap, ifindex, a->iface);
		if (err != -ENOENT)
			return err;
	}
	err = tfc_detach(pins, a->ap, ifindex);
	if (!err)
		tfc_info("detached %s from %s", tfc_attach_point_str(a->ap), a->iface);
	if (err == -ENOENT && a->if_attached) {
		tfc_info("nothing attached by traffic-counter at %s on %s (pin directory %s): "
			 "nothing to detach",
			 tfc_attach_point_str(a->ap), a->iface, pins->dir);
		return 0;
	}
	if (err == -ENOENT)
		tfc_err("nothing attached by traffic-counter at %s on %s (pin directory %s); see "
			"'traffic-counter status'",
			tfc_attach_point_str(a->ap), a->iface, pins->dir);
	return err;
}

int cmd_detach(int argc, char **argv)
{
	struct detach_args a;
	struct tfc_pins pins;
	int ret, err, lock, dir_missing;

	ret = tfc_parse_exit(detach_parse(argc, argv, &a));
	if (ret >= 0)
		return ret;
	if (tfc_pin_args_resolve(&a.pins, &pins))
		return TFC_EXIT_USAGE;
	if (tfc_require_attach_caps("detach"))
		return TFC_EXIT_FAIL;
	dir_missing = access(pins.dir, F_OK) && errno == ENOENT;
	if (dir_missing && a.if_attached && !a.iface) {
		tfc_info("pin directory %s does not exist: nothing to detach", pins.dir);
		return TFC_EXIT_OK;
	}
	/* One interface needs no pin directory: what is attached there may
	 * have been attached with other pin options (found from the kernel).
	 * With --if-attached, a missing directory has nothing to purge. */
	if (dir_missing && a.iface && (!a.purge || a.if_attached)) {
		lock = -1;
	} else {
		if (tfc_bpffs_prepare(pins.dir, TFC_BPFFS_WRITE))
			return TFC_EXIT_FAIL;
		lock = tfc_pin_dir_lock(pins.dir);
		if (lock < 0)
			return TFC_EXIT_FAIL;
	}
	if (a.all && a.cgroup) {
		err = tfc_cgroup_detach_all(&pins);
	} else if (a.all) {
		err = detach_all(&pins);
	} else if (a.cgroup) {
		err = detach_cgroup(&pins, &a);
	} else if (a.iface) {
		err = detach_one(&pins, &a);
	} else {
		err = 0;
	}
	if (!err && a.purge && lock >= 0)
		/* After one interface, other attachments keeping the maps is fine. */
		err = tfc_cgroup_purge(&pins, a.iface || a.cgroup);
	if (lock >= 0)
		close(lock);
	return err ? TFC_EXIT_FAIL : TFC_EXIT_OK;
}
