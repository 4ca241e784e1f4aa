// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "discover.h"
#include "hooks.h"
#include "util/log.h"

/* Every priority our cls_bpf filter has had: a filter of an older release
 * is still ours to find and to remove. */
static const __u32 netlink_prios[] = {TFC_NETLINK_PRIO, TFC_NETLINK_PRIO_LEGACY};

#define MAX_PROG_MAPS 64

/* Which of our maps `id` is, by name and shape; -ENOENT if none. */
static int map_kind_of(__u32 id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_map_get_fd_by_id(id), kind = -ENOENT;

	if (fd < 0)
		return -errno;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		/* Kernel names are cut at 15 characters: the IP and flow maps both
		 * read "traffic_counter", so their shapes tell them apart. */
		if (!strcmp(info.name, TFC_CONTROL_MAP_NAME))
			kind = TFC_MAP_CONTROL;
		else if (!strncmp(info.name, TFC_MAP_KERNEL_PREFIX, strlen(TFC_MAP_KERNEL_PREFIX)))
			for (int k = 0; k < TFC_MAP_KIND_MAX && kind < 0; k++)
				if (k != TFC_MAP_CONTROL && !tfc_map_check(&info, k))
					kind = k;
	}
	close(fd);
	return kind;
}

int tfc_prog_map_ids(__u32 prog_id, __u32 ids[TFC_MAP_KIND_MAX])
{
	__u32 map_ids[MAX_PROG_MAPS] = {0},
	      len; /* zeroed: valgrind cannot see the kernel fill it */
	struct bpf_prog_info info;
	int fd, err;

	memset(ids, 0, sizeof(ids[0]) * TFC_MAP_KIND_MAX);
	if (!tfc_prog_is_ours(prog_id, NULL, 0))
		return 0;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = MAX_PROG_MAPS;
	info.map_ids = (__u64)(unsigned long)map_ids;
	len = sizeof(info);
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	for (__u32 i = 0; i < info.nr_map_ids && i < MAX_PROG_MAPS; i++) {
		int k = map_kind_of(map_ids[i]);

		if (k >= 0 && !ids[k])
			ids[k] = map_ids[i];
	}
	/* Named like ours is not enough: it must use a control map like ours. */
	return ids[TFC_MAP_CONTROL] != 0;
}

void tfc_pins_map_ids(const struct tfc_pins *pins, __u32 ids[TFC_MAP_KIND_MAX])
{
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		struct bpf_map_info info = {};
		int fd = tfc_map_open_flags(tfc_map_pin(pins, k), k, NULL, &info,
					    TFC_OPEN_QUIET | TFC_OPEN_ANY_LAYOUT);

		ids[k] = fd >= 0 ? info.id : 0;
		if (fd >= 0)
			close(fd);
	}
}

struct found_vec {
	struct tfc_found *v;
	size_t n, cap;
};

static struct tfc_found *found_push(struct found_vec *fv)
{
	if (fv->n == fv->cap) {
		size_t ncap = fv->cap ? fv->cap * 2 : 4;
		struct tfc_found *nv = realloc(fv->v, ncap * sizeof(*nv));

		if (!nv)
			return NULL;
		fv->v = nv;
		fv->cap = ncap;
	}
	memset(&fv->v[fv->n], 0, sizeof(fv->v[0]));
	return &fv->v[fv->n++];
}

static const char *xdp_mode_of(const struct bpf_xdp_query_opts *q, __u32 prog_id)
{
	if (q->skb_prog_id == prog_id)
		return "skb";
	if (q->hw_prog_id == prog_id)
		return "hw";
	return "driver";
}

/*
 * A link's ifindex means the device in the namespace the link was made in,
 * which link info does not tell. The device here at that ifindex running
 * the link's program proves it: 1 here, 0 not here, -1 cannot tell.
 */
static int link_here(__u32 ifindex, int tcx_type, __u32 prog_id, const char **mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 ids[64], cnt = 64;
	LIBBPF_OPTS(bpf_prog_query_opts, po, .prog_ids = ids, .prog_cnt = cnt);
	char name[IF_NAMESIZE];
	int err;

	if (!if_indextoname(ifindex, name))
		return 0;
	if (tcx_type < 0) {
		err = bpf_xdp_query((int)ifindex, 0, &q);
		if (err)
			return err == -ENODEV ? 0 : -1;
		*mode = xdp_mode_of(&q, prog_id);
		return q.prog_id == prog_id || q.drv_prog_id == prog_id ||
		       q.skb_prog_id == prog_id || q.hw_prog_id == prog_id;
	}
	*mode = "tcx";
	err = bpf_prog_query_opts((int)ifindex, tcx_type, &po);
	if (err)
		return err == -ENODEV ? 0 : -1;
	for (__u32 i = 0; i < po.prog_cnt && i < 64; i++)
		if (ids[i] == prog_id)
			return 1;
	return 0;
}

static int add_link(struct found_vec *fv, int fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info), ids[TFC_MAP_KIND_MAX], tcx[2];
	const char *mode = "unknown";
	struct tfc_found *f;
	int tcx_type = -1, here;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	if (info.type == TFC_LINK_TYPE_TCX) {
		/* libbpf 1.1 has no tcx member: { ifindex, attach_type } where
		 * the XDP link's { ifindex } is. */
		memcpy(tcx, (const char *)&info + offsetof(struct bpf_link_info, xdp), sizeof(tcx));
		tcx_type = (int)tcx[1];
		if (tcx_type != BPF_TCX_INGRESS && tcx_type != BPF_TCX_EGRESS)
			return 0;
	} else if (info.type != BPF_LINK_TYPE_XDP) {
		return 0;
	}
	/* ifindex 0: the device went, nothing is attached any more. */
	if (!info.xdp.ifindex || tfc_prog_map_ids(info.prog_id, ids) <= 0)
		return 0;
	here = link_here(info.xdp.ifindex, tcx_type, info.prog_id, &mode);
	if (!here)
		return 0;
	f = found_push(fv);
	if (!f)
		return -ENOMEM;
	f->a.ap = tcx_type < 0			? TFC_AP_XDP
		  : tcx_type == BPF_TCX_INGRESS ? TFC_AP_TC_INGRESS
						: TFC_AP_TC_EGRESS;
	f->a.ifindex = (int)info.xdp.ifindex;
	f->a.pin_ifindex = f->a.ifindex;
	f->a.mode = mode;
	f->a.prog_id = info.prog_id;
	f->a.link_id = info.id;
	f->a.netns = tfc_netns_id();
	memcpy(f->map_ids, ids, sizeof(ids));
	f->netns_verified = here > 0;
	return 0;
}

static int discover_links(struct found_vec *fv)
{
	__u32 id = 0;
	int fd, err = 0;

	while (!err && !bpf_link_get_next_id(id, &id)) {
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue; /* went meanwhile */
		err = add_link(fv, fd);
		close(fd);
	}
	return err;
}

static void hook_init(struct bpf_tc_hook *hook, int ifindex, enum tfc_attach_point ap)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = ap == TFC_AP_TC_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

/* The program of the cls_bpf filter at one of our priorities, 0 if none. */
static __u32 filter_prog(int ifindex, enum tfc_attach_point ap, __u32 *prio)
{
	struct bpf_tc_hook hook;

	hook_init(&hook, ifindex, ap);
	for (size_t i = 0; i < sizeof(netlink_prios) / sizeof(netlink_prios[0]); i++) {
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = TFC_NETLINK_HANDLE,
			    .priority = netlink_prios[i]);

		if (!bpf_tc_query(&hook, &q)) {
			*prio = netlink_prios[i];
			return q.prog_id;
		}
	}
	return 0;
}

static int discover_filters(struct found_vec *fv)
{
	struct if_nameindex *ifs = if_nameindex();
	__u32 ids[TFC_MAP_KIND_MAX], prog, prio;
	struct tfc_found *f;
	int err = 0;

	if (!ifs)
		return -errno;
	for (struct if_nameindex *i = ifs; i->if_index && !err; i++) {
		for (int ap = TFC_AP_TC_INGRESS; ap <= TFC_AP_TC_EGRESS && !err; ap++) {
			prog = filter_prog((int)i->if_index, ap, &prio);
			if (!prog || tfc_prog_map_ids(prog, ids) <= 0)
				continue;
			f = found_push(fv);
			if (!f) {
				err = -ENOMEM;
				break;
			}
			f->a.ap = ap;
			f->a.ifindex = f->a.pin_ifindex = (int)i->if_index;
			f->a.mode = "netlink";
			f->a.prog_id = prog;
			f->a.netns = tfc_netns_id();
			memcpy(f->map_ids, ids, sizeof(ids));
			f->netns_verified = 1; /* netlink only reaches this namespace */
		}
	}
	if_freenameindex(ifs);
	return err;
}

int tfc_discover(struct tfc_found **out, size_t *n)
{
	struct found_vec fv = {};
	int err;

	tfc_log_libbpf_quiet(1);
	err = discover_links(&fv);
	err = err ?: discover_filters(&fv);
	tfc_log_libbpf_quiet(0);
	if (err) {
		free(fv.v);
		fv.v = NULL;
		fv.n = 0;
	}
	for (size_t i = 0; i < fv.n; i++)
		if (!if_indextoname((unsigned int)fv.v[i].a.ifindex, fv.v[i].a.ifname))
			snprintf(fv.v[i].a.ifname, sizeof(fv.v[i].a.ifname), "?");
	*out = fv.v;
	*n = fv.n;
	return err;
}

/* ------------------------------------------------ the bounded bpffs walk -- */

struct pinned {
	char *path;
	enum tfc_obj_kind type;
	__u32 id;
};

struct pin_vec {
	struct pinned *v;
	size_t n, cap;
	int budget;
};

static void pin_add(struct pin_vec *pv, const char *path)
{
	/* Map, program and link info all start with type and id. */
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path), type;

	if (fd < 0)
		return;
	type = tfc_obj_kind(fd);
	if (type > TFC_OBJ_OTHER && !bpf_obj_get_info_by_fd(fd, &info, &len) && pv->n < pv->cap) {
		pv->v[pv->n].path = strdup(path);
		pv->v[pv->n].type = type;
		pv->v[pv->n].id = info.id;
		if (pv->v[pv->n].path)
			pv->n++;
	}
	close(fd);
}

static void walk(struct pin_vec *pv, const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)) && pv->budget > 0) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		pv->budget--;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    lstat(path, &st))
			continue;
		/* Symlinks are not followed: the walk stays on this bpffs. */
		if (S_ISDIR(st.st_mode) && depth < TFC_WALK_MAX_DEPTH)
			walk(pv, path, depth + 1);
		else if (S_ISREG(st.st_mode))
			pin_add(pv, path);
	}
	closedir(d);
}

static const char *pinned_find(const struct pin_vec *pv, enum tfc_obj_kind type, __u32 id,
			       const char *suffix)
{
	for (size_t i = 0; i < pv->n; i++) {
		const char *p = pv->v[i].path;
		size_t n = strlen(p), s = suffix ? strlen(suffix) : 0;

		if (pv->v[i].type == type && pv->v[i].id == id &&
		    (!suffix || (n > s && !strcmp(p + n - s, suffix))))
			return p;
	}
	return NULL;
}

static void copy_dirname(char *out, const char *path, int levels)
{
	char *slash;

	snprintf(out, PATH_MAX, "%s", path);
	while (levels-- > 0 && (slash = strrchr(out, '/')) && slash != out)
		*slash = '\0';
}

/* A link pin sits in DIR/links/: DIR is where the attachment came from. */
static void pin_dir_of_link(struct tfc_found *f)
{
	char links[PATH_MAX];
	const char *base;

	copy_dirname(links, f->a.pin, 1);
	base = strrchr(links, '/');
	if (base && !strcmp(base + 1, TFC_LINKS_DIR_NAME))
		copy_dirname(f->pin_dir, links, 1);
}

static void locate_one(struct tfc_found *f, const struct pin_vec *pv)
{
	const char *p;

	if (!f->a.pin[0]) {
		p = f->a.link_id ? pinned_find(pv, TFC_OBJ_LINK, f->a.link_id, NULL)
				 : pinned_find(pv, TFC_OBJ_PROG, f->a.prog_id, TFC_NETLINK_SUFFIX);
		if (p)
			snprintf(f->a.pin, sizeof(f->a.pin), "%s", p);
	}
	if (f->a.pin[0] && !f->pin_dir[0])
		pin_dir_of_link(f);
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		if (!f->map_ids[k] || f->map_pins[k][0])
			continue;
		p = pinned_find(pv, TFC_OBJ_MAP, f->map_ids[k], NULL);
		if (p)
			snprintf(f->map_pins[k], PATH_MAX, "%s", p);
	}
	/* No link pin: the control map's directory is the best guess. */
	if (!f->pin_dir[0] && f->map_pins[TFC_MAP_CONTROL][0])
		copy_dirname(f->pin_dir, f->map_pins[TFC_MAP_CONTROL], 1);
}

/* Sets maps_elsewhere and the map pins that are the ones at `pins`. */
static int compare_with_pins(struct tfc_found *f, size_t n, const struct tfc_pins *pins)
{
	__u32 here[TFC_MAP_KIND_MAX];
	int need_walk = 0;

	if (pins)
		tfc_pins_map_ids(pins, here);
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < TFC_MAP_KIND_MAX && pins; k++) {
			if (!f[i].map_ids[k])
				continue;
			if (f[i].map_ids[k] == here[k])
				snprintf(f[i].map_pins[k], PATH_MAX, "%s", tfc_map_pin(pins, k));
			else
				f[i].maps_elsewhere = 1;
		}
		need_walk |= f[i].maps_elsewhere || !f[i].a.pin[0] || !pins;
	}
	return need_walk;
}

void tfc_found_locate(struct tfc_found *f, size_t n, const struct tfc_pins *pins)
{
	struct pin_vec pv = {.budget = TFC_WALK_MAX_ENTRIES};

	if (!compare_with_pins(f, n, pins))
		return;
	pv.cap = TFC_WALK_MAX_ENTRIES;
	pv.v = calloc(pv.cap, sizeof(*pv.v));
	if (!pv.v)
		return;
	walk(&pv, TFC_WALK_ROOT, 1);
	if (pv.budget <= 0)
		tfc_debug("stopped looking for pins after %d entries under %s",
			  TFC_WALK_MAX_ENTRIES, TFC_WALK_ROOT);
	for (size_t i = 0; i < n; i++)
		locate_one(&f[i], &pv);
	for (size_t i = 0; i < pv.n; i++)
		free(pv.v[i].path);
	free(pv.v);
}

/* ------------------------------------------------------------ detaching -- */

/* Names a program at (ap, ifindex) that is not ours: it is left alone. */
static void report_not_ours(enum tfc_attach_point ap, int ifindex, const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN] = "?";
	__u32 prog = 0, prio;

	tfc_log_libbpf_quiet(1);
	if (ap == TFC_AP_XDP && !bpf_xdp_query(ifindex, 0, &q))
		prog = q.prog_id ?: q.drv_prog_id ?: q.skb_prog_id ?: q.hw_prog_id;
	else if (ap != TFC_AP_XDP)
		prog = filter_prog(ifindex, ap, &prio);
	tfc_log_libbpf_quiet(0);
	if (prog && !tfc_prog_is_ours(prog, name, sizeof(name)))
		tfc_warn("%s on %s runs program id %u (%s), which is not traffic-counter's: left "
			 "alone",
			 tfc_attach_point_str(ap), ifname, prog, name);
}

/* Only our pin: a regular file on bpffs holding this very object. */
static int unpin(const char *pin)
{
	struct stat st;

	if (!pin[0] || lstat(pin, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (unlink(pin)) {
		tfc_err("cannot remove the pin %s: %s", pin, strerror(errno));
		return -errno;
	}
	return 0;
}

static int detach_link(const struct tfc_found *f)
{
	int fd = bpf_link_get_fd_by_id(f->a.link_id), err = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* went meanwhile */
	/* Kernels without LINK_DETACH for this link type: dropping the pin,
	 * the last reference once our fd closes, detaches it too. */
	if (bpf_link_detach(fd) && errno != EOPNOTSUPP && errno != EINVAL && errno != ENOLINK)
		err = -errno;
	close(fd);
	if (err) {
		tfc_err("cannot detach link id %u: %s", f->a.link_id, strerror(-err));
		return err;
	}
	return unpin(f->a.pin);
}

static int detach_filter(const struct tfc_found *f)
{
	struct bpf_tc_hook hook;
	__u32 prio = 0;
	int err;

	hook_init(&hook, f->a.ifindex, f->a.ap);
	/* Still the same program of ours (not replaced meanwhile)? */
	if (filter_prog(f->a.ifindex, f->a.ap, &prio) != f->a.prog_id)
		return -ENOENT;
	LIBBPF_OPTS(bpf_tc_opts, d, .handle = TFC_NETLINK_HANDLE, .priority = prio);
	err = bpf_tc_detach(&hook, &d);
	if (err) {
		tfc_err("cannot remove the tc filter on %s: %s", f->a.ifname, strerror(-err));
		return err;
	}
	return unpin(f->a.pin);
}

static void report_detached(const struct tfc_found *f)
{
	char maps[PATH_MAX + 64] = "";

	if (f->pin_dir[0])
		snprintf(maps, sizeof(maps), "; its maps stay pinned in %s", f->pin_dir);
	else
		snprintf(maps, sizeof(maps), "; its maps (ids %u %u %u %u) have no pin under %s",
			 f->map_ids[0], f->map_ids[1], f->map_ids[2], f->map_ids[3], TFC_WALK_ROOT);
	tfc_info("detached %s from %s (%s %u, found in the kernel%s%s)%s",
		 tfc_attach_point_str(f->a.ap), f->a.ifname, f->a.link_id ? "link" : "program",
		 f->a.link_id ?: f->a.prog_id, f->a.pin[0] ? ", removed its pin " : "", f->a.pin,
		 maps);
}

/*
 * Discovers ours and points *f at the one at this attach point of this
 * interface (NULL if none), located with tfc_found_locate(pins). The
 * caller frees *list when this returns 0.
 */
static int discover_at(enum tfc_attach_point ap, int ifindex, const struct tfc_pins *pins,
		       struct tfc_found **list, struct tfc_found **f)
{
	size_t n;
	int err = tfc_discover(list, &n);

	*f = NULL;
	if (err)
		return err;
	for (size_t i = 0; i < n && !*f; i++)
		if ((*list)[i].a.ap == ap && (*list)[i].a.ifindex == ifindex)
			*f = &(*list)[i];
	if (*f)
		tfc_found_locate(*f, 1, pins);
	return 0;
}

int tfc_found_pin_dir(enum tfc_attach_point ap, int ifindex, char *dir, size_t len)
{
	struct tfc_found *list, *f;
	int err = discover_at(ap, ifindex, NULL, &list, &f);

	if (err)
		return err;
	if (f)
		snprintf(dir, len, "%s", f->pin_dir);
	free(list);
	return f ? 0 : -ENOENT;
}

int tfc_detach_found(const struct tfc_pins *pins, enum tfc_attach_point ap, int ifindex,
		     const char *ifname)
{
	struct tfc_found *list, *f;
	int err = discover_at(ap, ifindex, pins, &list, &f);

	if (err)
		return err;
	if (!f) {
		report_not_ours(ap, ifindex, ifname);
		err = -ENOENT;
		goto out;
	}
	err = f->a.link_id ? detach_link(f) : detach_filter(f);
	if (!err)
		report_detached(f);
out:
	free(list);
	return err;
}

/* ---------------------------------------------- records of custom pins -- */

static unsigned long long path_hash(const char *s)
{
	unsigned long long h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

int tfc_record_name(enum tfc_map_kind kind, const char *target, char *buf, size_t len)
{
	int n;

	if (kind >= TFC_MAP_KIND_MAX)
		return -EINVAL;
	n = snprintf(buf, len, "%s-%016llx", tfc_map_kind_name(kind), path_hash(target));
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int tfc_record_kind(const char *name)
{
	for (int k = 0; k < TFC_MAP_KIND_MAX; k++) {
		const char *kn = tfc_map_kind_name(k), *h;
		size_t n = strlen(kn);

		if (strncmp(name, kn, n) || name[n] != '-')
			continue;
		h = name + n + 1;
		if (strlen(h) != 16 || strspn(h, "0123456789abcdef") != 16)
			return -EINVAL;
		return k;
	}
	return -EINVAL;
}

static int join_path(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int record_one(const char *records, enum tfc_map_kind kind, const char *pin)
{
	char target[PATH_MAX], name[NAME_MAX], path[PATH_MAX];
	int err;

	if (!realpath(pin, target))
		return -errno;
	err = tfc_record_name(kind, target, name, sizeof(name));
	err = err ?: join_path(path, records, name);
	if (err)
		return err;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return symlink(target, path) ? -errno : 0;
}

int tfc_pins_record(const struct tfc_pins *pins)
{
	char def[PATH_MAX], records[PATH_MAX];
	int err = join_path(records, pins->dir, TFC_MAP_RECORDS_DIR), made = 0;

	for (int k = 0; k < TFC_MAP_KIND_MAX && !err; k++) {
		const char *pin = tfc_map_pin(pins, k);

		err = join_path(def, pins->dir, tfc_map_kind_name(k));
		if (err || !strcmp(pin, def))
			continue;
		if (!made && mkdir(records, 0700) && errno != EEXIST)
			err = -errno;
		made = 1;
		err = err ?: record_one(records, k, pin);
		if (err)
			tfc_warn("cannot record the %s map pin %s in %s: %s; 'detach --purge' will "
				 "need the same pin options to remove it",
				 tfc_map_kind_name(k), pin, records, strerror(-err));
	}
	return err;
}

/* One recorded pin: removed if it is still a map of ours. 0 or -errno. */
static int purge_target(enum tfc_map_kind kind, const char *target, const char *record)
{
	char real[PATH_MAX];
	struct stat st;

	if (lstat(target, &st))
		return errno == ENOENT ? 0 : -errno; /* removed already */
	/* The record holds the resolved path: any symlink on the way now is
	 * someone else's doing, and could lead anywhere. */
	if (target[0] != '/' || S_ISLNK(st.st_mode) || !realpath(target, real) ||
	    strcmp(real, target)) {
		tfc_err("refusing to remove %s (recorded by %s): the path now goes through a "
			"symlink; remove it by hand if it is a traffic-counter map pin",
			target, record);
		return -ELOOP;
	}
	if (!tfc_is_bpffs(target)) {
		tfc_err("refusing to remove %s (recorded by %s): it is not on a BPF filesystem",
			target, record);
		return -EXDEV;
	}
	return tfc_map_pin_purge(target, kind);
}

static int purge_record(const char *records, const char *name)
{
	char path[PATH_MAX], target[PATH_MAX];
	int kind = tfc_record_kind(name), err;
	ssize_t len;

	if (kind < 0 || join_path(path, records, name))
		return 0; /* not ours: rmdir below leaves the directory then */
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return 0;
	target[len] = '\0';
	err = purge_target(kind, target, path);
	/* A failed removal keeps its record, so that a retry finds it again. */
	if (!err && unlink(path)) {
		err = -errno;
		tfc_err("cannot remove %s: %s", path, strerror(-err));
	}
	return err;
}

int tfc_purge_records(const struct tfc_pins *pins)
{
	char records[PATH_MAX];
	struct dirent *de;
	int err = 0, e;
	DIR *d;

	if (join_path(records, pins->dir, TFC_MAP_RECORDS_DIR))
		return 0;
	d = opendir(records);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		e = purge_record(records, de->d_name);
		if (e)
			err = e;
	}
	closedir(d);
	rmdir(records);
	return err;
}
