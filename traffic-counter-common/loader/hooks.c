// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "discover.h"
#include "hooks.h"
#include "util/log.h"

static int prog_name(__u32 prog_id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(prog_id);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		err = -errno;
	else
		snprintf(name, len, "%s", info.name);
	close(fd);
	return err;
}

/* This build's names, then earlier releases', TFC_PROG_COUNT a release. */
static const char *const ours[] = {TFC_PROG_NAMES, TFC_PROG_NAMES_EARLIER};
_Static_assert(sizeof(ours) / sizeof(ours[0]) % TFC_PROG_COUNT == 0,
	       "TFC_PROG_NAMES_EARLIER: one name per program and release");

const char *tfc_prog_current_name(const char *name)
{
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (!strcmp(name, ours[i]))
			return ours[i % TFC_PROG_COUNT];
	return NULL;
}

int tfc_prog_is_ours(__u32 prog_id, char *name, size_t name_len)
{
	char buf[BPF_OBJ_NAME_LEN] = "";

	if (prog_name(prog_id, buf, sizeof(buf)))
		return 0;
	if (name)
		snprintf(name, name_len, "%s", buf);
	return tfc_prog_current_name(buf) != NULL;
}

static __u32 xdp_mode_flag(enum tfc_xdp_mode mode)
{
	switch (mode) {
	case TFC_XDP_SKB:
		return XDP_FLAGS_SKB_MODE;
	case TFC_XDP_HW:
		return XDP_FLAGS_HW_MODE;
	default:
		return XDP_FLAGS_DRV_MODE;
	}
}

static const char *xdp_attached_str(__u8 attach_mode)
{
	switch (attach_mode) {
	case XDP_ATTACHED_DRV:
		return "driver";
	case XDP_ATTACHED_SKB:
		return "skb";
	case XDP_ATTACHED_HW:
		return "hw";
	default:
		return "unknown";
	}
}

static __u32 prog_fd_id(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.id;
}

/* Tells the caller which program was attached, and which one it replaced. */
static void report_result(const struct tfc_attach_opts *o, int prog_fd, __u32 old_prog_id)
{
	if (!o->result)
		return;
	o->result->prog_id = prog_fd_id(prog_fd);
	o->result->old_prog_id = old_prog_id;
}

static int link_info(int fd, struct bpf_link_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/*
 * Our link pinned earlier for this hook: replace its program in place so
 * counting never stops. Returns 1 when replaced, 0 when there is no live
 * link (a stale pin is removed), or a negative errno.
 */
static int replace_in_link(int prog_fd, const struct tfc_attach_opts *o, const char *pin)
{
	struct bpf_link_info info;
	int fd, err;

	fd = bpf_obj_get(pin);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = link_info(fd, &info);
	/* XDP and TCX link info both start with the ifindex (0: device gone). */
	if (!err && info.xdp.ifindex == (__u32)o->ifindex) {
		err = bpf_link_update(fd, prog_fd, NULL) ? -errno : 1;
		if (err < 0)
			tfc_err("cannot replace the program in %s: %s", pin, strerror(-err));
		else
			report_result(o, prog_fd, info.prog_id);
		close(fd);
		return err;
	}
	close(fd);
	tfc_debug("removing stale link pin %s", pin);
	unlink(pin);
	return 0;
}

static int pin_link(int link_fd, const char *pin)
{
	int err;

	tfc_fault_point("linked");
	err = bpf_obj_pin(link_fd, pin) ? -errno : 0;

	if (err)
		tfc_err("cannot pin the attachment at %s: %s", pin, strerror(-err));
	/* Closing an unpinned link detaches it: nothing is left half-attached. */
	close(link_fd);
	return err;
}

/*
 * Our own program, attached from another pin directory: advising
 * tc-ingress there would count ingress twice. Name that directory and the
 * two ways out instead.
 */
static int ours_elsewhere_xdp(const struct tfc_attach_opts *o, __u32 id)
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
	return -EBUSY;
}

static int foreign_xdp(const struct tfc_attach_opts *o, __u8 *mode_out)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN] = "?";
	__u32 id;

	if (bpf_xdp_query(o->ifindex, 0, &q))
		return 0;
	*mode_out = q.attach_mode;
	id = q.prog_id ?: q.drv_prog_id ?: q.skb_prog_id ?: q.hw_prog_id;
	if (!id)
		return 0;
	if (tfc_prog_is_ours(id, NULL, 0))
		return ours_elsewhere_xdp(o, id);
	prog_name(id, name, sizeof(name));
	tfc_err("%s already has XDP program id %u (%s) attached in %s mode; traffic-counter does "
		"not replace programs it does not own: detach it first, or use --attach-point "
		"tc-ingress",
		o->ifname, id, name, xdp_attached_str(q.attach_mode));
	return -EBUSY;
}

static int attach_xdp(int prog_fd, const struct tfc_attach_opts *o, const char *pin)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = xdp_mode_flag(o->xdp_mode));
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u8 mode = 0;
	int fd, err;

	if (!access(pin, F_OK) && !bpf_xdp_query(o->ifindex, 0, &q) && q.attach_mode &&
	    strcmp(xdp_attached_str(q.attach_mode), tfc_xdp_mode_str(o->xdp_mode))) {
		tfc_err("%s is already counted by XDP in %s mode; to change the mode run "
			"'traffic-counter detach --iface %s --attach-point xdp' first",
			o->ifname, xdp_attached_str(q.attach_mode), o->ifname);
		return -EBUSY;
	}
	err = replace_in_link(prog_fd, o, pin);
	if (err)
		return err < 0 ? err : 0;
	err = foreign_xdp(o, &mode);
	if (err)
		return err;
	fd = bpf_link_create(prog_fd, o->ifindex, BPF_XDP, &lo);
	if (fd < 0) {
		err = -errno;
		if (err == -EOPNOTSUPP || (err == -EINVAL && o->xdp_mode != TFC_XDP_SKB))
			tfc_err("cannot attach XDP in %s mode on %s: %s; the driver may not "
				"support "
				"it: try --xdp-mode skb",
				tfc_xdp_mode_str(o->xdp_mode), o->ifname, strerror(-err));
		else
			tfc_err("cannot attach XDP on %s: %s", o->ifname, strerror(-err));
		return err;
	}
	report_result(o, prog_fd, 0);
	return pin_link(fd, pin);
}

static int attach_tcx(int prog_fd, const struct tfc_attach_opts *o, const char *pin)
{
	/* At the head of the chain, so programs after us cannot hide frames
	 * they drop. A re-attach (replace_in_link) keeps the link's place. */
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = TFC_BPF_F_BEFORE);
	int type = o->ap == TFC_AP_TC_INGRESS ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;
	int fd, err;

	err = replace_in_link(prog_fd, o, pin);
	if (err)
		return err < 0 ? err : 0;
	fd = bpf_link_create(prog_fd, o->ifindex, type, &lo);
	if (fd < 0) {
		err = -errno;
		/* Kernels before 6.6 do not know the TCX attach types. */
		if (err == -EINVAL && o->tfc_api == TFC_API_AUTO)
			return -EOPNOTSUPP;
		tfc_err("cannot attach a TCX link on %s: %s%s", o->ifname, strerror(-err),
			err == -EINVAL ? " (TCX needs Linux >= 6.6: use --tc-api netlink)" : "");
		return err;
	}
	report_result(o, prog_fd, 0);
	return pin_link(fd, pin);
}

static void tfc_hook_init(struct bpf_tc_hook *hook, int ifindex, enum tfc_attach_point ap)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = ap == TFC_AP_TC_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

/* Whether our filter is at prio on this hook; its program id in *prog_id. */
static int ours_at(const struct bpf_tc_hook *hook, __u32 prio, __u32 *prog_id)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = TFC_NETLINK_HANDLE, .priority = prio);

	if (bpf_tc_query(hook, &q) || !tfc_prog_is_ours(q.prog_id, NULL, 0))
		return 0;
	if (prog_id)
		*prog_id = q.prog_id;
	return 1;
}

static int put_filter(const struct bpf_tc_hook *hook, int prog_fd, __u32 prio, int replace)
{
	LIBBPF_OPTS(bpf_tc_opts, a, .handle = TFC_NETLINK_HANDLE, .priority = prio,
		    .prog_fd = prog_fd, .flags = replace ? BPF_TC_F_REPLACE : 0);

	return bpf_tc_attach(hook, &a);
}

static int del_filter(const struct bpf_tc_hook *hook, __u32 prio)
{
	LIBBPF_OPTS(bpf_tc_opts, d, .handle = TFC_NETLINK_HANDLE, .priority = prio);

	return bpf_tc_detach(hook, &d);
}

/*
 * Our filter at prio 1 (replaced in place if there); if the kernel refuses
 * it there (-EINVAL: filters of another kind or protocol hold prio 1), at
 * the legacy prio, after them. *prio says where; *added whether it is new.
 */
static int place_filter(const struct bpf_tc_hook *hook, int prog_fd,
			const struct tfc_attach_opts *o, __u32 *prio, int *added)
{
	__u32 cur_id = 0, old_id = 0;
	int cur = ours_at(hook, TFC_NETLINK_PRIO, &cur_id);
	int old = ours_at(hook, TFC_NETLINK_PRIO_LEGACY, &old_id);
	int err;

	/* A filter of ours at either prio is the one this attach replaces. */
	report_result(o, prog_fd, cur ? cur_id : old_id);
	*prio = TFC_NETLINK_PRIO;
	*added = !cur;
	err = put_filter(hook, prog_fd, TFC_NETLINK_PRIO, cur);
	if (err != -EINVAL || cur)
		return err;
	tfc_warn("%s %s: prio %u holds tc filters of another kind or protocol, which the kernel "
		 "does not mix with ours; counting at prio %u instead, after them: frames they "
		 "drop or accept are not counted. Move them to prio 2 or later (or use TCX, "
		 "Linux >= 6.6) and attach again",
		 o->ifname, o->ap == TFC_AP_TC_INGRESS ? "ingress" : "egress", TFC_NETLINK_PRIO,
		 TFC_NETLINK_PRIO_LEGACY);
	*prio = TFC_NETLINK_PRIO_LEGACY;
	*added = !old;
	return put_filter(hook, prog_fd, TFC_NETLINK_PRIO_LEGACY, old);
}

static int attach_netlink(int prog_fd, const struct tfc_attach_opts *o, const char *pin)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = TFC_NETLINK_HANDLE, .priority = TFC_NETLINK_PRIO);
	char name[BPF_OBJ_NAME_LEN] = "?";
	struct bpf_tc_hook hook;
	int err, added;
	__u32 prio;

	tfc_hook_init(&hook, o->ifindex, o->ap);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		tfc_err("cannot add a clsact qdisc on %s: %s", o->ifname, strerror(-err));
		return err;
	}
	if (!bpf_tc_query(&hook, &q) && !tfc_prog_is_ours(q.prog_id, name, sizeof(name))) {
		tfc_err("%s has another tc filter (program id %u, %s) at handle 0x%x prio %u; "
			"traffic-counter does not replace it",
			o->ifname, q.prog_id, name, TFC_NETLINK_HANDLE, TFC_NETLINK_PRIO);
		return -EBUSY;
	}
	err = place_filter(&hook, prog_fd, o, &prio, &added);
	if (err) {
		tfc_err("cannot attach the tc filter on %s: %s", o->ifname, strerror(-err));
		return err;
	}
	tfc_fault_point("linked");
	unlink(pin);
	if (bpf_obj_pin(prog_fd, pin)) {
		err = -errno;
		tfc_err("cannot pin the program at %s: %s", pin, strerror(-err));
		if (added)
			del_filter(&hook, prio);
		return err;
	}
	/* Moved from the legacy prio: the old filter goes only now, so no
	 * frame went uncounted (one in flight may be counted twice). */
	if (prio == TFC_NETLINK_PRIO && ours_at(&hook, TFC_NETLINK_PRIO_LEGACY, NULL))
		del_filter(&hook, TFC_NETLINK_PRIO_LEGACY);
	return 0;
}

static int our_filter_present(const struct tfc_attach_opts *o)
{
	struct bpf_tc_hook hook;

	tfc_hook_init(&hook, o->ifindex, o->ap);
	return ours_at(&hook, TFC_NETLINK_PRIO, NULL) ||
	       ours_at(&hook, TFC_NETLINK_PRIO_LEGACY, NULL);
}

int tfc_hook_attach(int prog_fd, const struct tfc_attach_opts *o, const char *pin)
{
	char nl_pin[PATH_MAX + sizeof(TFC_NETLINK_SUFFIX)];
	int err;

	if (o->ap == TFC_AP_XDP)
		return attach_xdp(prog_fd, o, pin);

	snprintf(nl_pin, sizeof(nl_pin), "%s%s", pin, TFC_NETLINK_SUFFIX);
	/* Keep an existing attachment's API: never count one hook twice, not
	 * even for a filter of ours whose pin a crash did not write. */
	if (!access(nl_pin, F_OK) || our_filter_present(o))
		return attach_netlink(prog_fd, o, nl_pin);
	if (!access(pin, F_OK) || o->tfc_api != TFC_API_NETLINK) {
		err = attach_tcx(prog_fd, o, pin);
		if (err != -EOPNOTSUPP)
			return err;
		tfc_info("TCX is not available on this kernel: using clsact + cls_bpf");
	}
	return attach_netlink(prog_fd, o, nl_pin);
}

int tfc_is_netlink_pin(const char *pin)
{
	size_t n = strlen(pin), s = strlen(TFC_NETLINK_SUFFIX);

	return n > s && !strcmp(pin + n - s, TFC_NETLINK_SUFFIX);
}

/* Removes our filters (at the current and the legacy prio): -ENOENT if none. */
static int detach_ours(int ifindex, enum tfc_attach_point ap)
{
	static const __u32 prios[] = {TFC_NETLINK_PRIO, TFC_NETLINK_PRIO_LEGACY};
	struct bpf_tc_hook hook;
	int err = -ENOENT, e;

	tfc_hook_init(&hook, ifindex, ap);
	for (size_t i = 0; i < sizeof(prios) / sizeof(prios[0]); i++) {
		if (!ours_at(&hook, prios[i], NULL))
			continue;
		e = del_filter(&hook, prios[i]);
		err = err == -ENOENT || !err ? e : err;
	}
	return err;
}

int tfc_hook_detach(const char *pin, enum tfc_attach_point ap, int ifindex)
{
	int fd, err = 0;

	if (access(pin, F_OK)) {
		/* A filter of ours whose pin a crash did not write: remove it too. */
		if (!tfc_is_netlink_pin(pin))
			return -ENOENT;
		return detach_ours(ifindex, ap);
	}
	if (tfc_is_netlink_pin(pin)) {
		err = detach_ours(ifindex, ap);
		/* Gone already (device deleted, or removed by hand): just unpin. */
		if (err == -ENOENT || err == -ENODEV || err == -EINVAL)
			err = 0;
	} else {
		fd = bpf_obj_get(pin);
		if (fd >= 0) {
			/* Detach now even if some other process still holds the link. */
			if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
				err = -errno;
			close(fd);
		}
	}
	if (err) {
		tfc_err("cannot detach %s: %s", pin, strerror(-err));
		return err;
	}
	return unlink(pin) ? -errno : 0;
}

static void describe_link(int fd, struct tfc_attachment *a)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_link_info info;

	if (link_info(fd, &info))
		return;
	a->link_id = info.id;
	a->prog_id = info.prog_id;
	a->ifindex = info.xdp.ifindex;
	if (info.type == TFC_LINK_TYPE_TCX) {
		a->mode = "tcx";
	} else if (a->other_netns) {
		a->mode = "xdp"; /* the mode query needs the interface's namespace */
	} else if (a->ifindex && !bpf_xdp_query(a->ifindex, 0, &q)) {
		a->mode = xdp_attached_str(q.attach_mode);
		if (q.attach_mode == XDP_ATTACHED_MULTI)
			a->mode = q.skb_prog_id == a->prog_id ? "skb" : "driver";
	}
}

static void describe_netlink(int fd, struct tfc_attachment *a)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id;
	struct bpf_tc_hook hook;

	a->mode = "netlink";
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	a->prog_id = info.id;
	if (a->other_netns) {
		a->ifindex = a->pin_ifindex;
		return;
	}
	tfc_hook_init(&hook, a->pin_ifindex, a->ap);
	/* Still our filter on that device (its program may be newer than the
	 * pinned one after an interrupted replace)? Otherwise the device went. */
	if (ours_at(&hook, TFC_NETLINK_PRIO, &id) || ours_at(&hook, TFC_NETLINK_PRIO_LEGACY, &id)) {
		a->ifindex = a->pin_ifindex;
		a->prog_id = id;
	}
}

int tfc_hook_describe(const char *pin, struct tfc_attachment *a)
{
	int fd = bpf_obj_get(pin);

	if (fd < 0)
		return -errno;
	a->mode = "unknown";
	a->ifindex = 0;
	if (tfc_is_netlink_pin(pin))
		describe_netlink(fd, a);
	else
		describe_link(fd, a);
	close(fd);
	if (a->other_netns)
		snprintf(a->ifname, sizeof(a->ifname), "(other netns)");
	else if (!a->ifindex || !if_indextoname(a->ifindex, a->ifname))
		snprintf(a->ifname, sizeof(a->ifname), "%s", a->ifindex ? "?" : "(gone)");
	return 0;
}
