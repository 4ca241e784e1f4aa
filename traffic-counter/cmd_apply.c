// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * apply: sets up what a configuration file describes (config.c), for the
 * boot unit. Every attachment is tried even when one fails, so a missing
 * interface does not stop counting on the others; the exit code still
 * says something failed. --stop undoes it only when the file asks to,
 * since pinned maps and links are meant to outlive the service.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "loader/caps.h"
#include "commands.h"
#include "loader/cgroup_attach.h"
#include "config/config.h"
#include "loader/loader.h"
#include "util/text.h"
#include "util/log.h"
#include "maps/maps.h"

enum {
	OPT_CONFIG = 1,
	OPT_CHECK,
	OPT_STOP,
};

static const struct tfc_opt apply_opts[] = {
	{"config", "FILE", "configuration file (default " TFC_CONFIG_DEFAULT ")", OPT_CONFIG},
	{"check", NULL, "only validate the file and print what it sets up", OPT_CHECK},
	{"stop", NULL,
	 "undo instead: detach what the file attaches, only if it says DETACH_ON_STOP=yes",
	 OPT_STOP},
	TFC_PIN_OPTIONS,
	{0},
};

const struct tfc_cmd_def apply_def = {
	.name = "apply",
	.summary = "Attach everything a configuration file names, with its sizes and flags (the\n"
		   "boot unit runs this). Errors name the file's line; the format is in\n"
		   "traffic-counter.conf(5).",
	.opts = apply_opts,
	.examples = "  traffic-counter apply --check --config /etc/traffic-counter/"
		    "traffic-counter.conf\n"
		    "  traffic-counter apply\n"
		    "  traffic-counter apply --stop\n",
};

static int apply_opt(int id, const char *arg, void *ctx)
{
	struct apply_args *a = ctx;

	if (tfc_pin_args_handle(&a->pins, id, arg))
		return 0;
	switch (id) {
	case OPT_CONFIG:
		a->config = arg;
		return 0;
	case OPT_CHECK:
		a->check = 1;
		return 0;
	case OPT_STOP:
		a->stop = 1;
		return 0;
	default:
		return -EINVAL;
	}
}

int apply_parse(int argc, char **argv, struct apply_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->config = TFC_CONFIG_DEFAULT;
	err = tfc_opts_parse(&apply_def, argc, argv, apply_opt, a);
	if (!err && a->check && a->stop)
		return tfc_opt_invalid("check", "cannot be combined with --stop");
	return err;
}

/* ---- --check -------------------------------------------------------------- */

static const char *on_off(int v)
{
	return v < 0 ? "left as it is" : v ? "on" : "off";
}

static void print_plan(const struct tfc_config *cfg, const struct tfc_pins *pins, const char *path)
{
	char buf[64];

	printf("%s: valid\nattach:", tfc_text_shown(path));
	for (size_t i = 0; i < cfg->n_attach; i++)
		printf(" %s",
		       tfc_text_shown(tfc_config_attach_str(&cfg->attach[i], buf, sizeof(buf))));
	printf("\npin directory: %s\n", tfc_text_shown(pins->dir));
	printf("flow counting: %s\n", on_off(cfg->flow_map));
	printf("count by: %s\n", cfg->count_by == TFC_COUNT_BY_SRC   ? "src"
				 : cfg->count_by == TFC_COUNT_BY_DST ? "dst"
								     : "default");
	if (cfg->ip_map_size)
		printf("ip map size: %u\n", cfg->ip_map_size);
	if (cfg->flow_map_size)
		printf("flow map size: %u\n", cfg->flow_map_size);
	if (cfg->cgroup)
		printf("cgroup: %s, depth %d\n",
		       cfg->cgroup_path[0] ? tfc_text_shown(cfg->cgroup_path) : "(v2 root)",
		       cfg->cgroup_depth < 0 ? 0 : cfg->cgroup_depth);
	printf("pin group: %s\n", cfg->pin_group[0] ? cfg->pin_group : "-");
	if (cfg->prefix_map_size)
		printf("prefix map size: %u\n", cfg->prefix_map_size);
	if (cfg->overflow_set)
		printf("overflow prefix: %u,%u\n", cfg->overflow_v4, cfg->overflow_v6);
	if (cfg->aggregate[0])
		printf("aggregate: %s\n", tfc_text_shown(cfg->aggregate));
	printf("migrate: %s\n", cfg->migrate ? "yes" : "no");
	printf("on stop: %s\n", !cfg->detach_on_stop ? "leave attached"
				: cfg->purge_on_stop ? "detach, then remove the maps"
						     : "detach");
}

/*
 * Interfaces are looked up when apply runs, in its network namespace: a
 * file can be well formed and still fail there. --check says so up front,
 * naming each missing one, rather than "valid" and an apply that fails.
 */
/* Whether attach[i]'s interface is named by an earlier entry: one line each. */
static int named_before(const struct tfc_config *cfg, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (!strcmp(cfg->attach[k].ifname, cfg->attach[i].ifname))
			return 1;
	return 0;
}

static int check_interfaces(const struct tfc_config *cfg, const char *path)
{
	int missing = 0;

	for (size_t i = 0; i < cfg->n_attach; i++) {
		const char *ifname = cfg->attach[i].ifname;

		if (if_nametoindex(ifname) || named_before(cfg, i))
			continue;
		tfc_err("%s:%d: ATTACH: no interface '%s' in this network namespace (check 'ip "
			"link'; for another namespace, run 'nsenter --net=/run/netns/NAME "
			"traffic-counter apply ...'): apply would not attach there",
			path, cfg->line_attach, ifname);
		missing++;
	}
	return missing ? -ENODEV : 0;
}

/* ---- start ------------------------------------------------------------------ */

/* OVERFLOW_PREFIX, AGGREGATE (checked by the parser), PREFIX_MAP_SIZE into o. */
static int prefix_opts(const struct tfc_config *cfg, struct tfc_attach_opts *o,
		       struct tfc_agg_rule **rules)
{
	char why[200];
	size_t n = 0;
	int err = 0;

	*rules = NULL;
	o->prefix_map_size = cfg->prefix_map_size;
	o->overflow_set = cfg->overflow_set;
	o->overflow_v4 = cfg->overflow_v4;
	o->overflow_v6 = cfg->overflow_v6;
	o->aggregate_set = cfg->aggregate[0] != '\0';
	if (o->aggregate_set && strcmp(cfg->aggregate, "none"))
		err = tfc_agg_parse(cfg->aggregate, rules, &n, why, sizeof(why));
	o->aggregate = *rules;
	o->n_aggregate = n;
	return err;
}

static int attach_one(const struct tfc_config *cfg, const struct tfc_config_attach *e,
		      const struct tfc_pins *pins, const char *path)
{
	struct tfc_attach_result res = {};
	struct tfc_attach_opts o = {};
	struct tfc_agg_rule *rules = NULL;
	unsigned int idx = if_nametoindex(e->ifname);
	int err;

	if (!idx) {
		tfc_err("%s:%d: ATTACH: no interface '%s' in this network namespace (check 'ip "
			"link')",
			path, cfg->line_attach, e->ifname);
		return -ENODEV;
	}
	o.pins = pins;
	o.ifindex = (int)idx;
	o.ifname = e->ifname;
	o.ap = e->ap;
	o.xdp_mode = e->ap == TFC_AP_XDP && e->mode >= 0 ? e->mode : TFC_XDP_DRIVER;
	o.tfc_api = e->ap != TFC_AP_XDP && e->mode >= 0 ? e->mode : TFC_API_AUTO;
	o.count_by = cfg->count_by;
	o.ip_map_type = -1; /* keep the pinned map's layout */
	o.ip_map_size = cfg->ip_map_size;
	o.flow_map_size = cfg->flow_map_size;
	o.enable_flow = cfg->flow_map == 1;
	o.migrate = cfg->migrate;
	o.result = &res;
	err = prefix_opts(cfg, &o, &rules);
	err = err ?: tfc_attach(&o);
	if (!err)
		tfc_attach_report(&o, &res);
	free(rules);
	return err;
}

/* attach turns flow counting on, never off: FLOW_MAP=no is applied here. */
static int flow_off(const struct tfc_pins *pins)
{
	struct bpf_map_info info;
	struct tfc_control *ctl;
	int fd;

	fd = tfc_map_open_flags(pins->control, TFC_MAP_CONTROL, NULL, &info, TFC_OPEN_RDWR);
	if (fd < 0)
		return fd;
	ctl = tfc_control_map(fd);
	if (!ctl) {
		int err = -errno;

		tfc_err("cannot map %s for writing: %s", pins->control, strerror(-err));
		close(fd);
		return err;
	}
	__atomic_fetch_and(&ctl->flags, ~TFC_FLAG_FLOW_COUNTERS, __ATOMIC_SEQ_CST);
	tfc_control_unmap(ctl);
	close(fd);
	return 0;
}

static int group_id(const char *name, gid_t *gid)
{
	const struct group *gr;
	char *end;
	unsigned long v = strtoul(name, &end, 10);

	if (!*end) {
		*gid = (gid_t)v;
		return 0;
	}
	gr = getgrnam(name);
	if (!gr)
		return -ENOENT;
	*gid = gr->gr_gid;
	return 0;
}

/*
 * chgrp and chmod of `name` in the directory `dfd`, never through a
 * symbolic link: a link planted there would hand the group some other
 * file. fchmodat with AT_SYMLINK_NOFOLLOW works on the file itself (glibc
 * goes through an O_PATH descriptor), and fails on a link; the fstatat
 * before it is for a message that says so.
 */
static int give_group_at(int dfd, const char *name, const char *path, gid_t gid, mode_t mode,
			 const char *group)
{
	struct stat st;
	int err;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		err = -errno;
	} else if (S_ISLNK(st.st_mode)) {
		tfc_err("refusing to give group %s access to %s: it is a symbolic link, not a pin",
			group, path);
		return -ELOOP;
	} else if (!fchownat(dfd, name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) &&
		   !fchmodat(dfd, name, mode, AT_SYMLINK_NOFOLLOW)) {
		return 0;
	} else {
		err = -errno;
	}
	tfc_err("cannot give group %s read access to %s: %s", group, path, strerror(-err));
	return err;
}

/* give_group_at on a path: the last name is changed in its opened directory. */
static int give_group(const char *path, gid_t gid, mode_t mode, const char *group)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dfd, err;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	else
		strcpy(dir, ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		tfc_err("cannot open %s: %s", dir, strerror(-err));
		return err;
	}
	err = give_group_at(dfd, slash ? slash + 1 : path, path, gid, mode, group);
	close(dfd);
	return err;
}

/* The cgroup map, when a cgroup attachment made it (CGROUP=yes, or by hand). */
static int grant_group_cgroup_map(const struct tfc_pins *pins, gid_t gid, const char *group)
{
	char pin[PATH_MAX];

	if (tfc_cgroup_map_pin(pins, pin, sizeof(pin)) || access(pin, F_OK))
		return 0;
	return give_group(pin, gid, 0640, group);
}

/*
 * Lets PIN_GROUP read the maps: the serve unit sees the pin directory
 * through a bind mount, so it needs search permission on the directory and
 * read permission on the pins, not on /sys/fs/bpf (0700) above them.
 * tfc_pin_dir_check again, right before: no one else may change the
 * directory between its check and the chmods.
 */
static int grant_group(const struct tfc_config *cfg, const struct tfc_pins *pins, const char *path)
{
	gid_t gid;
	int err;

	if (group_id(cfg->pin_group, &gid)) {
		tfc_err("%s:%d: PIN_GROUP: no group '%s' (create it: systemd-sysusers, or groupadd "
			"--system %s)",
			path, cfg->line_pin_group, cfg->pin_group, cfg->pin_group);
		return -ENOENT;
	}
	err = tfc_pin_dir_check(pins->dir);
	err = err ?: give_group(pins->dir, gid, 0750, cfg->pin_group);
	/* The layout's maps: the readers read the prefix map and the rules too. */
	for (int k = 0; !err && k < TFC_MAP_KINDS; k++)
		err = give_group(tfc_map_pin(pins, k), gid, 0640, cfg->pin_group);
	return err ?: grant_group_cgroup_map(pins, gid, cfg->pin_group);
}

/* CGROUP=yes: attach --attach-point cgroup with the file's options. */
static int attach_cgroup(const struct tfc_config *cfg, const struct tfc_pins *pins)
{
	struct tfc_cgroup_attach_opts o = {
		.pins = pins,
		.path = cfg->cgroup_path[0] ? cfg->cgroup_path : NULL,
		.depth = cfg->cgroup_depth,
		.map_size = cfg->cgroup_map_size,
		.migrate = cfg->migrate,
	};

	return tfc_cgroup_attach(&o);
}

static int apply_start(const struct tfc_config *cfg, const struct tfc_pins *pins, const char *path)
{
	int failed = 0, attached = 0;

	/* Before attaching anything there: a refusal leaves nothing half done. */
	if (tfc_pin_dir_check(pins->dir))
		return -EPERM;
	for (size_t i = 0; i < cfg->n_attach; i++) {
		if (attach_one(cfg, &cfg->attach[i], pins, path))
			failed++;
		else
			attached++;
	}
	if (cfg->cgroup && attach_cgroup(cfg, pins))
		failed++;
	else if (cfg->cgroup)
		attached++;
	if (!attached)
		return -ENODEV;
	if (cfg->flow_map == 0 && flow_off(pins))
		failed++;
	if (cfg->pin_group[0] && grant_group(cfg, pins, path))
		failed++;
	if (failed)
		tfc_err("%d of the steps of %s failed (see above); the other attachments count",
			failed, path);
	return failed ? -EIO : 0;
}

/* ---- stop ------------------------------------------------------------------- */

static int detach_listed(const struct tfc_config *cfg, const struct tfc_pins *pins)
{
	int failed = 0;

	for (size_t i = 0; i < cfg->n_attach; i++) {
		const struct tfc_config_attach *e = &cfg->attach[i];
		unsigned int idx = if_nametoindex(e->ifname);
		int err;

		/* The kernel detached it with the device; its pin is left for --all. */
		if (!idx) {
			tfc_warn("%s is gone: nothing to detach there", e->ifname);
			continue;
		}
		err = tfc_detach(pins, e->ap, (int)idx);
		if (!err)
			tfc_info("detached %s from %s", tfc_attach_point_str(e->ap), e->ifname);
		else if (err != -ENOENT)
			failed = err;
	}
	if (cfg->cgroup) {
		int err = tfc_cgroup_detach(pins, cfg->cgroup_path[0] ? cfg->cgroup_path : NULL);

		if (err && err != -ENOENT)
			failed = err;
	}
	return failed;
}

static int apply_stop(const struct tfc_config *cfg, const struct tfc_pins *pins)
{
	int lock, err;

	if (!cfg->detach_on_stop) {
		tfc_info("DETACH_ON_STOP is not yes: the attachments stay and keep counting");
		return 0;
	}
	if (tfc_bpffs_prepare(pins->dir, TFC_BPFFS_WRITE))
		return -ENOENT;
	lock = tfc_pin_dir_lock(pins->dir);
	if (lock < 0)
		return lock;
	err = detach_listed(cfg, pins);
	if (!err && cfg->purge_on_stop)
		err = tfc_cgroup_purge(pins, 1); /* the cgroup map too */
	close(lock);
	return err;
}

/* ---- the command ------------------------------------------------------------ */

static int load(const char *path, struct tfc_config *cfg)
{
	int n = tfc_config_load(path, cfg);

	if (n == -EISDIR) {
		tfc_err("cannot read %s: it is a directory; --config takes the configuration "
			"file (default " TFC_CONFIG_DEFAULT ")",
			path);
		return TFC_EXIT_FAIL;
	}
	if (n == -EPERM) /* refused, and said why */
		return TFC_EXIT_FAIL;
	if (n < 0) {
		tfc_err("cannot read %s: %s", path, strerror(-n));
		return TFC_EXIT_FAIL;
	}
	if (n > 0) {
		tfc_config_print_errors(stderr, path, cfg);
		return TFC_EXIT_USAGE;
	}
	return TFC_EXIT_OK;
}

int cmd_apply(int argc, char **argv)
{
	struct tfc_config *cfg = NULL;
	struct apply_args a;
	struct tfc_pins pins;
	int ret;

	ret = tfc_parse_exit(apply_parse(argc, argv, &a));
	if (ret >= 0)
		return ret;
	/* About 30 kB: kept off the stack. */
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		tfc_err("out of memory");
		return TFC_EXIT_FAIL;
	}
	ret = load(a.config, cfg);
	if (ret)
		goto out;
	if (!a.pins.dir && cfg->pin_dir[0])
		a.pins.dir = cfg->pin_dir;
	ret = TFC_EXIT_USAGE;
	if (tfc_pin_args_resolve(&a.pins, &pins))
		goto out;
	if (a.check) {
		ret = check_interfaces(cfg, a.config) ? TFC_EXIT_FAIL : TFC_EXIT_OK;
		if (ret == TFC_EXIT_OK)
			print_plan(cfg, &pins, a.config);
	} else if (tfc_require_attach_caps("apply")) {
		ret = TFC_EXIT_FAIL;
	} else if (a.stop) {
		ret = apply_stop(cfg, &pins) ? TFC_EXIT_FAIL : TFC_EXIT_OK;
	} else {
		ret = apply_start(cfg, &pins, a.config) ? TFC_EXIT_FAIL : TFC_EXIT_OK;
	}
out:
	free(cfg);
	return ret;
}
