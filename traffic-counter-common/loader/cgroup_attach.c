// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "traffic_counter.skel.h"
#include "cgroup_attach.h"
#include "discover.h"
#include "loader.h"
#include "maps/maps.h"
#include "migrate.h"
#include "object.h"
#include "util/cgroup_names.h"
#include "util/fault.h"
#include "util/log.h"

#if TFC_ABI_VERSION >= 3

static const enum bpf_attach_type cg_types[2] = {BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET_EGRESS};

/* The cgroup to attach to: its real path, id and level below the v2 root. */
struct cg_target {
	char path[PATH_MAX];
	__u64 id;
	__u32 level;
};

static int cg_mount(char *buf, size_t len)
{
	int err = tfc_cgroup2_mount(buf, len);

	if (err == -ENOENT)
		tfc_err("no cgroup v2 file system is mounted (no cgroup2 line in "
			"/proc/self/mountinfo): mount one (e.g. mount -t cgroup2 none "
			"/sys/fs/cgroup/unified) or count at the interfaces instead");
	else if (err)
		tfc_err("cannot find the cgroup v2 mount: %s", strerror(-err));
	return err;
}

/* Levels below the root: the path's components after the mount point's. */
static __u32 cg_level(const char *root, const char *path)
{
	const char *rest = path + strlen(root);
	__u32 level = 0;

	for (; *rest; rest++)
		if (*rest == '/' && rest[1] && rest[1] != '/')
			level++;
	return level;
}

static int cg_resolve(const char *path, struct cg_target *t)
{
	char mnt[PATH_MAX], root[PATH_MAX];
	size_t n;
	long long id;
	int err;

	err = cg_mount(mnt, sizeof(mnt));
	if (err)
		return err;
	if (!realpath(mnt, root) || !realpath(path ?: mnt, t->path)) {
		err = -errno;
		tfc_err("cannot resolve cgroup %s: %s; give an existing cgroup v2 directory "
			"under %s",
			path ?: mnt, strerror(-err), mnt);
		return err;
	}
	n = strlen(root);
	id = tfc_cgroup_id(t->path);
	if (id < 0 || strncmp(t->path, root, n) || (t->path[n] && t->path[n] != '/')) {
		tfc_err("%s is not a cgroup v2 directory (the v2 hierarchy is mounted at %s): "
			"give one under it with --cgroup",
			t->path, root);
		return id < 0 ? (int)id : -EINVAL;
	}
	t->id = (__u64)id;
	t->level = cg_level(root, t->path);
	return 0;
}

/* The control entry as pinned (zeroes when there is none yet). */
static void read_control(const struct tfc_pins *pins, struct tfc_control *ctl)
{
	struct bpf_map_info info;
	int fd;

	memset(ctl, 0, sizeof(*ctl));
	fd = tfc_map_open_flags(pins->control, TFC_MAP_CONTROL, NULL, &info,
				TFC_OPEN_OPTIONAL | TFC_OPEN_QUIET);
	if (fd < 0)
		return;
	tfc_control_read(fd, ctl);
	close(fd);
}

/*
 * Keys of one depth only: a map mixing keys of two depths would count the
 * same packets under two cgroups, so another depth needs every cgroup
 * attachment detached first (openspec/changes/0030-cgroup-hooks.md).
 */
static int choose_depth(const struct tfc_cgroup_attach_opts *o, __u32 *depth)
{
	struct tfc_cgroup_attachment *list;
	struct tfc_control ctl;
	size_t n = 0;
	int err;

	err = tfc_cgroup_attachments_list(o->pins, &list, &n);
	if (err)
		return err;
	free(list);
	read_control(o->pins, &ctl);
	if (!n) {
		*depth = o->depth < 0 ? 0 : (__u32)o->depth;
		return 0;
	}
	if (o->depth >= 0 && (__u32)o->depth != ctl.cgroup_depth) {
		tfc_err("the cgroup attachments in %s count with --cgroup-depth %u, not %d: "
			"detach them all first (detach --attach-point cgroup --all), or omit "
			"--cgroup-depth to keep %u",
			o->pins->dir, ctl.cgroup_depth, o->depth, ctl.cgroup_depth);
		return -EEXIST;
	}
	*depth = ctl.cgroup_depth;
	return 0;
}

static int cg_load(const struct tfc_cgroup_attach_opts *o, const struct cg_target *t, __u32 depth,
		   struct tfc_loaded *l)
{
	struct tfc_load_req req = {
		.pins = o->pins,
		.ap = TFC_AP_TC_INGRESS, /* unused with .cgroup: not XDP */
		.ifname = t->path,
		.ip_map_type = -1,
		.cgroup = 1,
		.cgroup_map_size = o->map_size,
		.cgroup_level = t->level,
		.cgroup_depth = depth,
	};

	return tfc_load(&req, l);
}

static int cg_control(struct tfc_loaded *l, __u32 depth)
{
	struct tfc_control *ctl;
	int err = tfc_control_init(l->skel);

	if (err)
		return err;
	ctl = tfc_control_map(bpf_map__fd(l->skel->maps.traffic_control));
	if (!ctl)
		return -errno;
	__atomic_store_n(&ctl->cgroup_map_capacity,
			 bpf_map__max_entries(l->skel->maps.traffic_counters_cgroup),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&ctl->cgroup_depth, (__u8)depth, __ATOMIC_RELAXED);
	tfc_control_unmap(ctl);
	return 0;
}

/* One direction's link: the pinned one updated in place, or a new one (*new_fd). */
struct cg_link {
	char pin[PATH_MAX];
	int new_fd; /* a link made by this call, not pinned yet; -1: none */
	int pinned; /* this call pinned new_fd */
	__u32 old_prog;
};

static int link_prog_id(int fd, __u32 *prog)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*prog = info.prog_id;
	return 0;
}

static int cg_link_update(struct cg_link *k, int prog_fd)
{
	int fd = bpf_obj_get(k->pin), err;

	if (fd < 0)
		return -errno;
	err = link_prog_id(fd, &k->old_prog);
	if (!err && bpf_link_update(fd, prog_fd, NULL))
		err = -errno;
	close(fd);
	if (err)
		tfc_err("cannot replace the program of %s in place: %s", k->pin, strerror(-err));
	return err;
}

static int cg_link_one(struct cg_link *k, int prog_fd, int cg_fd, int egress)
{
	if (!access(k->pin, F_OK))
		return cg_link_update(k, prog_fd);
	k->new_fd = bpf_link_create(prog_fd, cg_fd, cg_types[egress], NULL);
	if (k->new_fd < 0) {
		int err = -errno;

		k->new_fd = -1;
		tfc_err("cannot attach the cgroup %s program: %s (needs Linux >= 5.7 for cgroup "
			"bpf_links)",
			egress ? "egress" : "ingress", strerror(-err));
		return err;
	}
	return 0;
}

static int cg_link_pin(struct cg_link *k)
{
	if (k->new_fd < 0)
		return 0;
	if (bpf_obj_pin(k->new_fd, k->pin)) {
		int err = -errno;

		tfc_err("cannot pin the cgroup link at %s: %s", k->pin, strerror(-err));
		return err;
	}
	k->pinned = 1;
	return 0;
}

/* On failure: links this call made go (closing detaches), pinned or not. */
static void cg_links_undo(struct cg_link *k, int failed)
{
	for (int i = 0; i < 2; i++) {
		if (failed && k[i].pinned)
			unlink(k[i].pin);
		if (k[i].new_fd >= 0)
			close(k[i].new_fd);
	}
}

static int cg_hook_up(const struct tfc_cgroup_attach_opts *o, const struct cg_target *t,
		      const struct tfc_loaded *l, struct cg_link *k)
{
	int fds[2] = {l->prog_fd, l->prog_fd2};
	int cg_fd, err = 0;

	cg_fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		err = -errno;
		tfc_err("cannot open cgroup %s: %s", t->path, strerror(-err));
		return err;
	}
	for (int i = 0; i < 2 && !err; i++)
		err = tfc_cgroup_link_pin_path(o->pins, i, t->id, k[i].pin, sizeof(k[i].pin))
			      ?: cg_link_one(&k[i], fds[i], cg_fd, i);
	close(cg_fd);
	if (err)
		return err;
	tfc_fault_point("linked");
	for (int i = 0; i < 2 && !err; i++)
		err = cg_link_pin(&k[i]);
	return err;
}

static void cg_report(const struct cg_target *t, const struct cg_link *k, __u32 depth,
		      const struct tfc_pins *pins)
{
	if (k[0].old_prog || k[1].old_prog)
		tfc_info("cgroup %s: replaced programs %u and %u in place; counters kept (maps in "
			 "%s)",
			 t->path, k[0].old_prog, k[1].old_prog, pins->dir);
	else
		tfc_info("attached to cgroup %s (id %llu, depth %u); maps pinned in %s", t->path,
			 (unsigned long long)t->id, depth, pins->dir);
}

int tfc_cgroup_attach(const struct tfc_cgroup_attach_opts *o)
{
	struct cg_link k[2] = {{.new_fd = -1}, {.new_fd = -1}};
	struct tfc_migrate_req mig = {.pins = o->pins, .ip_map_type = -1};
	struct tfc_loaded l = {.prog_fd = -1, .prog_fd2 = -1};
	struct cg_target t;
	__u32 depth = 0;
	int lock, err;

	err = cg_resolve(o->path, &t);
	if (err)
		return err;
	err = tfc_bpffs_prepare(o->pins->links, TFC_BPFFS_CREATE);
	if (err)
		return err;
	lock = tfc_pin_dir_lock(o->pins->dir);
	if (lock < 0)
		return lock;
	err = o->migrate ? tfc_migrate(&mig) : tfc_migration_refuse(o->pins);
	err = err ?: choose_depth(o, &depth);
	err = err ?: cg_load(o, &t, depth, &l);
	if (err)
		goto out;
	tfc_fault_point("loaded");
	err = cg_control(&l, depth);
	err = err ?: cg_hook_up(o, &t, &l, k);
	if (err)
		goto out;
	tfc_pins_record(o->pins);
	tfc_fault_point("pinned");
	cg_report(&t, k, depth, o->pins);
out:
	cg_links_undo(k, !!err);
	tfc_loaded_finish(&l, o->pins, !!err);
	close(lock);
	/* Other cgroups' programs still use the maps the migration replaced. */
	return err || !o->migrate ? err : tfc_cgroup_repoint(o->pins);
}

int tfc_cgroup_repoint(const struct tfc_pins *pins)
{
	struct tfc_cgroup_attachment *list;
	size_t n;
	int err, failed = 0;

	err = tfc_cgroup_attachments_list(pins, &list, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct tfc_cgroup_attach_opts o = {.pins = pins, .path = list[i].path, .depth = -1};

		/* A removed cgroup's links count nothing any more: nothing to re-point. */
		if (list[i].path[0] && (err = tfc_cgroup_attach(&o)))
			failed = failed ?: err;
	}
	free(list);
	return failed;
}

/* Detaches (even when the cgroup is gone) and unpins one link pin. */
static int cg_unlink_pin(const char *pin)
{
	int fd = bpf_obj_get(pin), err = 0;

	if (fd < 0)
		return -errno;
	/* A link whose cgroup was removed is detached already: not an error. */
	if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
		err = -errno;
	close(fd);
	if (err) {
		tfc_err("cannot detach the link pinned at %s: %s", pin, strerror(-err));
		return err;
	}
	return tfc_pin_unlink(pin);
}

static int cg_detach_id(const struct tfc_pins *pins, __u64 id)
{
	char pin[PATH_MAX];
	int err = -ENOENT, e;

	for (int i = 0; i < 2; i++) {
		if (tfc_cgroup_link_pin_path(pins, i, id, pin, sizeof(pin)))
			return -ENAMETOOLONG;
		if (access(pin, F_OK))
			continue;
		e = cg_unlink_pin(pin);
		err = err == -ENOENT || !err ? e : err;
	}
	return err;
}

int tfc_cgroup_detach(const struct tfc_pins *pins, const char *path)
{
	struct cg_target t;
	int err = cg_resolve(path, &t);

	if (err)
		return err;
	err = cg_detach_id(pins, t.id);
	if (!err)
		tfc_info("detached from cgroup %s", t.path);
	return err;
}

int tfc_cgroup_detach_all(const struct tfc_pins *pins)
{
	struct tfc_cgroup_attachment *list;
	size_t n;
	int err, failed = 0;

	err = tfc_cgroup_attachments_list(pins, &list, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		err = cg_detach_id(pins, list[i].cgroup_id);
		if (err)
			failed = failed ?: err;
		else
			tfc_info("detached from cgroup %s",
				 list[i].path[0] ? list[i].path : "(removed)");
	}
	free(list);
	return failed;
}

/* "cgroup-ingress-cg<ID>" -> 0 (ingress) or 1 (egress) and the id; -1 otherwise. */
static int parse_cg_pin(const char *name, __u64 *id)
{
	static const char *const prefix[2] = {TFC_AP_NAME_CG_IN TFC_LINK_PIN_CG,
					      TFC_AP_NAME_CG_OUT TFC_LINK_PIN_CG};
	char *end;

	for (int i = 0; i < 2; i++) {
		size_t n = strlen(prefix[i]);

		if (strncmp(name, prefix[i], n) || name[n] < '0' || name[n] > '9')
			continue;
		errno = 0;
		*id = strtoull(name + n, &end, 10);
		if (!errno && !*end)
			return i;
	}
	return -1;
}

static __u64 find_id;
static char *find_out;

static int find_visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_D || (__u64)st->st_ino != find_id)
		return FTW_CONTINUE;
	snprintf(find_out, PATH_MAX, "%s", path);
	return FTW_STOP;
}

/* The directory of cgroup `id` under the v2 mount, or "" (removed). */
static void cg_path_of(__u64 id, char *out)
{
	char mnt[PATH_MAX];

	out[0] = '\0';
	if (tfc_cgroup2_mount(mnt, sizeof(mnt)))
		return;
	find_id = id;
	find_out = out;
	nftw(mnt, find_visit, 16, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);
}

static int cg_list_add(struct tfc_cgroup_attachment **v, size_t *n, __u64 id, int dir,
		       const char *pin)
{
	struct tfc_cgroup_attachment *a = NULL, *nv;
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd;

	for (size_t i = 0; i < *n && !a; i++)
		if ((*v)[i].cgroup_id == id)
			a = &(*v)[i];
	if (!a) {
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		a = &nv[(*n)++];
		memset(a, 0, sizeof(*a));
		a->cgroup_id = id;
		cg_path_of(id, a->path);
	}
	fd = bpf_obj_get(pin);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		a->prog_id[dir] = info.prog_id;
		a->link_id[dir] = info.id;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

int tfc_cgroup_attachments_list(const struct tfc_pins *pins, struct tfc_cgroup_attachment **out,
				size_t *n)
{
	char pin[PATH_MAX * 2];
	struct dirent *de;
	int err = 0, dir;
	__u64 id;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(pins->links);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (de = readdir(d))) {
		dir = parse_cg_pin(de->d_name, &id);
		if (dir < 0)
			continue;
		snprintf(pin, sizeof(pin), "%s/%s", pins->links, de->d_name);
		err = cg_list_add(out, n, id, dir, pin);
	}
	closedir(d);
	if (err) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}

static int cgroup_map_purge(const struct tfc_pins *pins)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char pin[PATH_MAX];
	int fd, ours, err;

	if (tfc_cgroup_map_pin(pins, pin, sizeof(pin)))
		return -ENAMETOOLONG;
	err = tfc_pin_removable(pin);
	if (err)
		return err == -ENOENT ? 0 : err;
	fd = bpf_obj_get(pin);
	if (fd < 0)
		return -errno;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_MAP_TYPE_PERCPU_HASH &&
	       info.key_size == sizeof(struct cgroup_key) &&
	       info.value_size == sizeof(struct counters);
	close(fd);
	if (!ours) {
		tfc_warn("%s is not a traffic-counter cgroup map: left alone", pin);
		return 0;
	}
	err = tfc_pin_unlink(pin);
	if (!err)
		tfc_info("removed %s", pin);
	return err;
}

/* Attachments of both kinds recorded in the pin directory. */
static int count_attachments(const struct tfc_pins *pins, size_t *n)
{
	struct tfc_cgroup_attachment *cg;
	struct tfc_attachment *hooks;
	size_t m = 0;
	int err;

	err = tfc_cgroup_attachments_list(pins, &cg, n);
	if (err)
		return err;
	free(cg);
	err = tfc_attachments_list(pins, &hooks, &m);
	if (err)
		return err;
	free(hooks);
	*n += m;
	return 0;
}

int tfc_cgroup_purge(const struct tfc_pins *pins, int if_unused)
{
	struct tfc_cgroup_attachment *list;
	size_t n = 0;
	int err;

	if (if_unused) {
		err = count_attachments(pins, &n);
		if (err)
			return err;
		if (n) {
			tfc_info("maps kept in %s: %zu other attachment(s) still use them",
				 pins->dir, n);
			return 0;
		}
	}
	err = tfc_cgroup_attachments_list(pins, &list, &n);
	if (err)
		return err;
	free(list);
	if (n) {
		tfc_err("%zu cgroup attachment(s) still use the maps in %s: detach them first "
			"(or use 'detach --all --purge')",
			n, pins->dir);
		return -EBUSY;
	}
	/* Only when the others can go too: a refusal leaves every map whole. */
	err = tfc_purge(pins);
	if (err)
		return err;
	err = cgroup_map_purge(pins);
	rmdir(pins->links);
	if (!rmdir(pins->dir))
		tfc_info("removed %s", pins->dir);
	return err;
}

#else /* layout 1 and 2 builds: no cgroup programs */

int tfc_cgroup_attach(const struct tfc_cgroup_attach_opts *o)
{
	(void)o;
	tfc_err("this build (map layout %d) has no cgroup programs", TFC_ABI_VERSION);
	return -EOPNOTSUPP;
}

int tfc_cgroup_detach(const struct tfc_pins *pins, const char *path)
{
	(void)pins;
	(void)path;
	return -ENOENT;
}

int tfc_cgroup_detach_all(const struct tfc_pins *pins)
{
	(void)pins;
	return 0;
}

int tfc_cgroup_attachments_list(const struct tfc_pins *pins, struct tfc_cgroup_attachment **out,
				size_t *n)
{
	(void)pins;
	*out = NULL;
	*n = 0;
	return 0;
}

int tfc_cgroup_purge(const struct tfc_pins *pins, int if_unused)
{
	return if_unused ? tfc_purge_if_unused(pins) : tfc_purge(pins);
}

int tfc_cgroup_repoint(const struct tfc_pins *pins)
{
	(void)pins;
	return 0;
}
#endif
