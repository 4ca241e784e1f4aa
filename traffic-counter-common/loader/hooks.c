// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hooks.h"
#include "util/fault.h"
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
static void report_result(struct tfc_hook_result *r, int prog_fd, __u32 old_prog_id)
{
	r->prog_id = prog_fd_id(prog_fd);
	r->old_prog_id = old_prog_id;
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
static int replace_in_link(const struct tfc_hook *h, struct tfc_hook_result *r)
{
	struct bpf_link_info info;
	int fd, err;

	fd = bpf_obj_get(h->pin);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = link_info(fd, &info);
	/* XDP and TCX link info both start with the ifindex (0: device gone). */
	if (!err && info.xdp.ifindex == (__u32)h->ifindex) {
		err = bpf_link_update(fd, h->prog_fd, NULL) ? -errno : 1;
		if (err < 0 && !h->quiet_refusal)
			tfc_err("cannot replace the program in %s: %s", h->pin, strerror(-err));
		else
			report_result(r, h->prog_fd, info.prog_id);
		close(fd);
		return err;
	}
	close(fd);
	tfc_debug("removing stale link pin %s", h->pin);
	unlink(h->pin);
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

static int foreign_xdp(const struct tfc_hook *h, struct tfc_hook_result *r, __u8 *mode_out)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN] = "?";
	__u32 id;

	if (bpf_xdp_query(h->ifindex, 0, &q))
		return 0;
	*mode_out = q.attach_mode;
	id = q.prog_id ?: q.drv_prog_id ?: q.skb_prog_id ?: q.hw_prog_id;
	if (!id)
		return 0;
	if (tfc_prog_is_ours(id, NULL, 0)) {
		r->ours_at_xdp = id; /* the caller knows the pin directories to name */
		return -EBUSY;
	}
	prog_name(id, name, sizeof(name));
	tfc_err("%s already has XDP program id %u (%s) attached in %s mode; traffic-counter does "
		"not replace programs it does not own: detach it first, or use --attach-point "
		"tc-ingress",
		h->ifname, id, name, xdp_attached_str(q.attach_mode));
	return -EBUSY;
}

/* Our XDP attachment keeps its mode: changing it takes a detach first. */
static int check_xdp_mode(const struct tfc_hook *h)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (access(h->pin, F_OK) || bpf_xdp_query(h->ifindex, 0, &q) || !q.attach_mode ||
	    !strcmp(xdp_attached_str(q.attach_mode), tfc_xdp_mode_str(h->xdp_mode)))
		return 0;
	tfc_err("%s is already counted by XDP in %s mode; to change the mode run "
		"'traffic-counter detach --iface %s --attach-point xdp' first",
		h->ifname, xdp_attached_str(q.attach_mode), h->ifname);
	return -EBUSY;
}

static void report_xdp_error(const struct tfc_hook *h, int err)
{
	if (err == -EOPNOTSUPP || (err == -EINVAL && h->xdp_mode != TFC_XDP_SKB))
		tfc_err("cannot attach XDP in %s mode on %s: %s; the driver may not "
			"support "
			"it: try --xdp-mode skb",
			tfc_xdp_mode_str(h->xdp_mode), h->ifname, strerror(-err));
	else
		tfc_err("cannot attach XDP on %s: %s", h->ifname, strerror(-err));
}

static int attach_xdp(const struct tfc_hook *h, struct tfc_hook_result *r)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = xdp_mode_flag(h->xdp_mode));
	__u8 mode = 0;
	int fd, err;

	err = check_xdp_mode(h);
	if (err)
		return err;
	err = replace_in_link(h, r);
	if (err)
		return err < 0 ? err : 0;
	err = foreign_xdp(h, r, &mode);
	if (err)
		return err;
	fd = bpf_link_create(h->prog_fd, h->ifindex, BPF_XDP, &lo);
	if (fd < 0) {
		err = -errno;
		if (!h->quiet_refusal)
			report_xdp_error(h, err);
		return err;
	}
	report_result(r, h->prog_fd, 0);
	return pin_link(fd, h->pin);
}

static int attach_tcx(const struct tfc_hook *h, struct tfc_hook_result *r)
{
	/* At the head of the chain, so programs after us cannot hide frames
	 * they drop. A re-attach (replace_in_link) keeps the link's place. */
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = TFC_BPF_F_BEFORE);
	int type = h->ap == TFC_AP_TC_INGRESS ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;
	int fd, err;

	err = replace_in_link(h, r);
	if (err)
		return err < 0 ? err : 0;
	fd = bpf_link_create(h->prog_fd, h->ifindex, type, &lo);
	if (fd < 0) {
		err = -errno;
		/* Kernels before 6.6 do not know the TCX attach types. */
		if (err == -EINVAL && h->tc_api == TFC_API_AUTO)
			return -EOPNOTSUPP;
		tfc_err("cannot attach a TCX link on %s: %s%s", h->ifname, strerror(-err),
			err == -EINVAL ? " (TCX needs Linux >= 6.6: use --tc-api netlink)" : "");
		return err;
	}
	report_result(r, h->prog_fd, 0);
	return pin_link(fd, h->pin);
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
static int place_filter(const struct bpf_tc_hook *hook, const struct tfc_hook *h,
			struct tfc_hook_result *r, __u32 *prio, int *added)
{
	__u32 cur_id = 0, old_id = 0;
	int cur = ours_at(hook, TFC_NETLINK_PRIO, &cur_id);
	int old = ours_at(hook, TFC_NETLINK_PRIO_LEGACY, &old_id);
	int err;

	/* A filter of ours at either prio is the one this attach replaces. */
	report_result(r, h->prog_fd, cur ? cur_id : old_id);
	*prio = TFC_NETLINK_PRIO;
	*added = !cur;
	err = put_filter(hook, h->prog_fd, TFC_NETLINK_PRIO, cur);
	if (err != -EINVAL || cur)
		return err;
	tfc_warn("%s %s: prio %u holds tc filters of another kind or protocol, which the kernel "
		 "does not mix with ours; counting at prio %u instead, after them: frames they "
		 "drop or accept are not counted. Move them to prio 2 or later (or use TCX, "
		 "Linux >= 6.6) and attach again",
		 h->ifname, h->ap == TFC_AP_TC_INGRESS ? "ingress" : "egress", TFC_NETLINK_PRIO,
		 TFC_NETLINK_PRIO_LEGACY);
	*prio = TFC_NETLINK_PRIO_LEGACY;
	*added = !old;
	return put_filter(hook, h->prog_fd, TFC_NETLINK_PRIO_LEGACY, old);
}

/* The clsact qdisc our filter goes on, and no filter of another at our place. */
static int prepare_clsact(const struct tfc_hook *h, struct bpf_tc_hook *hook)
{
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = TFC_NETLINK_HANDLE, .priority = TFC_NETLINK_PRIO);
	char name[BPF_OBJ_NAME_LEN] = "?";
	int err;

	tfc_hook_init(hook, h->ifindex, h->ap);
	err = bpf_tc_hook_create(hook);
	if (err && err != -EEXIST) {
		tfc_err("cannot add a clsact qdisc on %s: %s", h->ifname, strerror(-err));
		return err;
	}
	if (!bpf_tc_query(hook, &q) && !tfc_prog_is_ours(q.prog_id, name, sizeof(name))) {
		tfc_err("%s has another tc filter (program id %u, %s) at handle 0x%x prio %u; "
			"traffic-counter does not replace it",
			h->ifname, q.prog_id, name, TFC_NETLINK_HANDLE, TFC_NETLINK_PRIO);
		return -EBUSY;
	}
	return 0;
}

/* The program's pin records the filter; a filter this attach added goes if it fails. */
static int pin_filter(const struct tfc_hook *h, const struct bpf_tc_hook *hook, const char *pin,
		      __u32 prio, int added)
{
	int err;

	tfc_fault_point("linked");
	unlink(pin);
	if (!bpf_obj_pin(h->prog_fd, pin))
		return 0;
	err = -errno;
	tfc_err("cannot pin the program at %s: %s", pin, strerror(-err));
	if (added)
		del_filter(hook, prio);
	return err;
}

static int attach_netlink(const struct tfc_hook *h, struct tfc_hook_result *r, const char *pin)
{
	struct bpf_tc_hook hook;
	int err, added;
	__u32 prio;

	err = prepare_clsact(h, &hook);
	if (err)
		return err;
	err = place_filter(&hook, h, r, &prio, &added);
	if (err) {
		tfc_err("cannot attach the tc filter on %s: %s", h->ifname, strerror(-err));
		return err;
	}
	err = pin_filter(h, &hook, pin, prio, added);
	if (err)
		return err;
	/* Moved from the legacy prio: the old filter goes only now, so no
	 * frame went uncounted (one in flight may be counted twice). */
	if (prio == TFC_NETLINK_PRIO && ours_at(&hook, TFC_NETLINK_PRIO_LEGACY, NULL))
		del_filter(&hook, TFC_NETLINK_PRIO_LEGACY);
	return 0;
}

static int our_filter_present(const struct tfc_hook *h)
{
	struct bpf_tc_hook hook;

	tfc_hook_init(&hook, h->ifindex, h->ap);
	return ours_at(&hook, TFC_NETLINK_PRIO, NULL) ||
	       ours_at(&hook, TFC_NETLINK_PRIO_LEGACY, NULL);
}

int tfc_hook_attach(const struct tfc_hook *h, struct tfc_hook_result *r)
{
	char nl_pin[PATH_MAX + sizeof(TFC_NETLINK_SUFFIX)];
	struct tfc_hook_result unused;
	int err;

	if (!r)
		r = &unused;
	memset(r, 0, sizeof(*r));
	if (h->ap == TFC_AP_XDP)
		return attach_xdp(h, r);

	snprintf(nl_pin, sizeof(nl_pin), "%s%s", h->pin, TFC_NETLINK_SUFFIX);
	/* Keep an existing attachment's API: never count one hook twice, not
	 * even for a filter of ours whose pin a crash did not write. */
	if (!access(nl_pin, F_OK) || our_filter_present(h))
		return attach_netlink(h, r, nl_pin);
	if (!access(h->pin, F_OK) || h->tc_api != TFC_API_NETLINK) {
		err = attach_tcx(h, r);
		if (err != -EOPNOTSUPP)
			return err;
		tfc_info("TCX is not available on this kernel: using clsact + cls_bpf");
	}
	return attach_netlink(h, r, nl_pin);
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

/*
 * The filters a netlink pin records. Gone already (device deleted, or
 * removed by hand) is no error: the pin just goes.
 */
static int detach_filter(int ifindex, enum tfc_attach_point ap)
{
	int err = detach_ours(ifindex, ap);

	return err == -ENOENT || err == -ENODEV || err == -EINVAL ? 0 : err;
}

/* The link a pin records, detached now even if another process holds it. */
static int detach_link(const char *pin)
{
	int fd = bpf_obj_get(pin), err = 0;

	if (fd < 0)
		return 0;
	if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
		err = -errno;
	close(fd);
	return err;
}

int tfc_hook_detach(const char *pin, enum tfc_attach_point ap, int ifindex)
{
	int err;

	if (access(pin, F_OK)) {
		/* A filter of ours whose pin a crash did not write: remove it too. */
		if (!tfc_is_netlink_pin(pin))
			return -ENOENT;
		return detach_ours(ifindex, ap);
	}
	err = tfc_is_netlink_pin(pin) ? detach_filter(ifindex, ap) : detach_link(pin);
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

/* A name in links/ as our attachment: 0, or -ENOENT if it records none. */
static int attachment_of(const struct tfc_pins *pins, const char *name, struct tfc_attachment *a)
{
	memset(a, 0, sizeof(*a));
	if (parse_pin_name(name, a))
		return -ENOENT;
	if (snprintf(a->pin, sizeof(a->pin), "%s/%s", pins->links, name) >= (int)sizeof(a->pin))
		return -ENOENT;
	a->other_netns = a->netns != tfc_netns_id();
	return tfc_hook_describe(a->pin, a) ? -ENOENT : 0;
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
		if (attachment_of(pins, de->d_name, &a))
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
