// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "util/log.h"
#include "pins.h"

#define BPFFS_ROOT "/sys/fs/bpf"

static int join(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int copy_path(char *buf, const char *src)
{
	if (strlen(src) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(buf, src);
	return 0;
}

int tfc_pins_init(struct tfc_pins *pins, const char *dir, const char *ip, const char *flow,
		  const char *control)
{
	int err = 0;

	if (dir)
		err = copy_path(pins->dir, dir);
	else if (control)
		err = copy_path(pins->dir, control);
	else
		err = copy_path(pins->dir, TFC_PIN_DIR_DEFAULT);
	if (err)
		return err;
	if (!dir && control) {
		char *slash = strrchr(pins->dir, '/');

		if (slash && slash != pins->dir)
			*slash = '\0';
		else
			strcpy(pins->dir, ".");
	}
	/* Trailing slashes would make "dir//name" pins: harmless but ugly. */
	for (size_t n = strlen(pins->dir); n > 1 && pins->dir[n - 1] == '/'; n--)
		pins->dir[n - 1] = '\0';

	err = ip ? copy_path(pins->ip, ip) : join(pins->ip, pins->dir, TFC_IP_MAP_NAME);
	err = err
		      ?: (flow ? copy_path(pins->flow, flow)
			       : join(pins->flow, pins->dir, TFC_FLOW_MAP_NAME));
	err = err
		      ?: (control ? copy_path(pins->control, control)
				  : join(pins->control, pins->dir, TFC_CONTROL_MAP_NAME));
	err = err ?: join(pins->stats, pins->dir, TFC_STATS_MAP_NAME);
	err = err ?: join(pins->links, pins->dir, TFC_LINKS_DIR_NAME);
	err = err ?: join(pins->prefix, pins->dir, TFC_PREFIX_MAP_NAME);
	err = err ?: join(pins->aggregate, pins->dir, TFC_AGGREGATE_MAP_NAME);
	return err;
}

int tfc_link_pin_path(const struct tfc_pins *pins, enum tfc_attach_point ap, int ifindex, char *buf,
		      size_t len)
{
	int n = snprintf(buf, len, "%s/%s" TFC_LINK_PIN_NS "%llu" TFC_LINK_PIN_IF "%d", pins->links,
			 tfc_attach_point_str(ap), (unsigned long long)tfc_netns_id(), ifindex);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int tfc_cgroup_map_pin(const struct tfc_pins *pins, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", pins->dir, TFC_CGROUP_MAP_NAME);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int tfc_cgroup_link_pin_path(const struct tfc_pins *pins, int egress, __u64 cgroup_id, char *buf,
			     size_t len)
{
	int n = snprintf(buf, len, "%s/%s" TFC_LINK_PIN_CG "%llu", pins->links,
			 egress ? TFC_AP_NAME_CG_OUT : TFC_AP_NAME_CG_IN,
			 (unsigned long long)cgroup_id);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int tfc_is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

int tfc_obj_kind(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (!strcmp(target, "anon_inode:bpf-map"))
		return TFC_OBJ_MAP;
	if (!strcmp(target, "anon_inode:bpf-prog"))
		return TFC_OBJ_PROG;
	/* "bpf_link" on older kernels */
	if (!strcmp(target, "anon_inode:bpf-link") || !strcmp(target, "anon_inode:bpf_link"))
		return TFC_OBJ_LINK;
	return TFC_OBJ_OTHER;
}

static int fd_on_bpffs(int fd)
{
	struct statfs st;

	return !fstatfs(fd, &st) && st.f_type == BPF_FS_MAGIC;
}

static int mount_default_bpffs(void)
{
	if (tfc_is_bpffs(BPFFS_ROOT))
		return 0;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		int err = -errno;

		tfc_err("cannot mount bpffs on %s: %s; mount it with 'mount -t bpf bpf %s' "
			"(needs root or CAP_SYS_ADMIN)",
			BPFFS_ROOT, strerror(-err), BPFFS_ROOT);
		return err;
	}
	tfc_debug("mounted bpffs on %s", BPFFS_ROOT);
	return 0;
}

/* Whether two paths name the same file (inode and device). */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * 'ip netns exec NS' runs the command in a mount namespace of its own with a
 * new sysfs on /sys (one for NS), mounted with NS as its source, where
 * /sys/fs/bpf is an empty directory: a bpffs mounted there, and every pin
 * on it, goes when the command exits, and the links with them. That mount
 * is the sign looked for: the top mount on /sys is a sysfs whose source
 * names, under /run/netns, the network namespace we are in. Nothing else
 * mounts sysfs that way, so private mount namespaces with a bpffs of their
 * own (unshare --mount, containers, the tests), where /sys is the inherited
 * mount or a plain "sysfs" one, keep working. PID 1's mounts are not
 * compared: /proc/1 is often out of reach, even for root in a sandbox.
 * Returns 1, with NS in `ns`, when that is where we run.
 */
static int ip_netns_exec_sysfs(char *ns, size_t len)
{
	char *line = NULL, mnt[PATH_MAX], type[64], src[NAME_MAX + 1], path[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	size_t cap = 0;
	int found = 0;

	if (!f)
		return 0;
	/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE SOURCE ...";
	 * the last line for /sys is the mount on top. */
	while (getline(&line, &cap, f) > 0) {
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strcmp(mnt, "/sys"))
			continue;
		found = sscanf(sep, " - %63s %255s", type, src) == 2 && !strcmp(type, "sysfs") &&
			!strchr(src, '/') && !strchr(src, '\\') &&
			snprintf(path, sizeof(path), "/run/netns/%s", src) < (int)sizeof(path) &&
			same_file(path, "/proc/self/ns/net");
		if (found)
			snprintf(ns, len, "%s", src);
	}
	free(line);
	fclose(f);
	return found;
}

/* Refuses, before mounting or pinning anything, pins that cannot last. */
static int refuse_vanishing_bpffs(const char *dir)
{
	char ns[NAME_MAX + 1];

	if (!ip_netns_exec_sysfs(ns, sizeof(ns)))
		return 0;
	tfc_err("%s would be on a bpffs private to this command: 'ip netns exec' mounts a "
		"sysfs of its own on /sys, so the pins and the attachment would vanish when "
		"traffic-counter exits; run 'nsenter --net=/run/netns/%s traffic-counter ...' "
		"instead",
		dir, ns);
	return -EXDEV;
}

/* mkdir -p, only below a directory that is already on bpffs. */
static int make_dirs(const char *dir)
{
	char tmp[PATH_MAX];

	if (copy_path(tmp, dir))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The nearest ancestor of `dir` that exists: where new directories would go. */
static int existing_ancestor(const char *dir, char *out)
{
	char *slash;

	if (copy_path(out, dir))
		return -ENAMETOOLONG;
	while (access(out, F_OK)) {
		if (errno != ENOENT)
			return -errno;
		slash = strrchr(out, '/');
		if (!slash || slash == out) {
			strcpy(out, "/");
			break;
		}
		*slash = '\0';
	}
	return 0;
}

int tfc_path_has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || !p[2]))
			return 1;
	return 0;
}

/*
 * Whether a directory others could change may hold our pins: owned by root
 * or by us, and not writable by group or others. The bpffs root is the one
 * exception: 1777 (the kernel's default) is fine there, since the sticky
 * bit keeps a directory we made ours; below it, a directory others may
 * write lets them plant a symlink or swap a pin, sticky or not.
 */
static int dir_trusted(const char *dir, const struct stat *st, int mount_root)
{
	mode_t mode = st->st_mode & 07777;

	if (st->st_uid && st->st_uid != geteuid()) {
		tfc_err("directory %s is owned by uid %u, not by root or by us: another user could "
			"plant links there that we would follow; remove it, or use a directory "
			"root owns ('chown root %s')",
			dir, (unsigned int)st->st_uid, dir);
		return -EPERM;
	}
	if (!(mode & 022) || (mount_root && (mode & S_ISVTX)))
		return 0;
	tfc_err("directory %s is writable by others (mode %04o): another user could plant "
		"links there that we would follow; run 'chmod go-w %s'",
		dir, (unsigned int)mode, dir);
	return -EPERM;
}

/* "/a/b" -> "/a", "/a" -> "/", "a" -> "." */
static void parent_of(const char *path, char *out)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash != path ? (size_t)(slash - path) : 1;

	if (!slash) {
		strcpy(out, ".");
		return;
	}
	memcpy(out, path, n);
	out[n] = '\0';
}

/*
 * A symbolic link on bpffs among the components of `path` (which exists):
 * whoever may write where it is could point it elsewhere between our check
 * and our use. Links elsewhere (/run/pins -> /sys/fs/bpf) are followed.
 */
static int refuse_link_on_bpffs(const char *dir, const char *path)
{
	char pre[PATH_MAX], up[PATH_MAX];
	size_t n = strlen(path);
	struct stat st;

	for (size_t i = 1; i <= n && n < PATH_MAX; i++) {
		if (i < n && path[i] != '/')
			continue;
		memcpy(pre, path, i);
		pre[i] = '\0';
		if (lstat(pre, &st) || !S_ISLNK(st.st_mode))
			continue;
		parent_of(pre, up);
		if (!tfc_is_bpffs(up))
			continue;
		tfc_err("pin directory %s goes through %s, a symbolic link on bpffs: pass the "
			"real path, so that no one can point it elsewhere between check and use",
			dir, pre);
		return -ELOOP;
	}
	return 0;
}

/* `real` (no symlinks, on bpffs) and each directory above it, up to the bpffs root. */
static int check_dir_chain(const char *real)
{
	char cur[PATH_MAX], up_path[PATH_MAX];
	struct stat st, up;
	int err, root;

	if (copy_path(cur, real))
		return -ENAMETOOLONG;
	for (;;) {
		if (lstat(cur, &st))
			return -errno;
		parent_of(cur, up_path);
		root = !strcmp(cur, "/") || lstat(up_path, &up) || up.st_dev != st.st_dev;
		err = dir_trusted(cur, &st, root);
		if (err || root)
			return err;
		strcpy(cur, up_path);
	}
}

int tfc_pin_dir_check(const char *dir)
{
	char base[PATH_MAX], real[PATH_MAX];
	int err;

	if (tfc_path_has_dotdot(dir)) {
		tfc_err("pin directory %s has a '..' component: pass the path without it", dir);
		return -EINVAL;
	}
	err = existing_ancestor(dir, base);
	if (err)
		return err;
	if (!realpath(base, real))
		return -errno;
	if (!tfc_is_bpffs(real))
		return 0; /* refused by tfc_bpffs_prepare, with its own message */
	return refuse_link_on_bpffs(dir, base) ?: check_dir_chain(real);
}

/* Before anything is created: the default bpffs, mounted if it is missing. */
static int prepare_default_root(const char *dir, int create)
{
	int err;

	if (strncmp(dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT) + 1) && strcmp(dir, BPFFS_ROOT))
		return 0;
	/* Before mounting: a bpffs mounted here would not outlive us. */
	err = create ? refuse_vanishing_bpffs(dir) : 0;
	return err ?: mount_default_bpffs();
}

static int report_missing(const char *dir)
{
	tfc_err("pin directory %s does not exist: nothing is attached there "
		"(run 'traffic-counter attach' first, or pass the --pin-dir used then)",
		dir);
	return -ENOENT;
}

/* Where `dir` would go must be on bpffs already: nothing is made elsewhere. */
static int check_on_bpffs(const char *dir, const char *base, int create)
{
	if (tfc_is_bpffs(base))
		return 0;
	if (!create && strcmp(base, dir))
		return report_missing(dir);
	tfc_err("%s is not on a BPF filesystem: mount one with 'mount -t bpf bpf DIR' "
		"and pin below it",
		dir);
	return -EINVAL;
}

int tfc_bpffs_prepare(const char *dir, int flags)
{
	int create = flags & TFC_BPFFS_CREATE, err;
	char base[PATH_MAX];

	if (tfc_path_has_dotdot(dir)) {
		tfc_err("pin directory %s has a '..' component: pass the path without it", dir);
		return -EINVAL;
	}
	err = prepare_default_root(dir, create);
	if (err)
		return err;
	err = existing_ancestor(dir, base);
	if (err == -EACCES || err == -EPERM) {
		tfc_err("cannot look into %s: %s; run as root, or as a user allowed to search the "
			"pin directory",
			dir, strerror(-err));
		return err;
	}
	err = err ?: check_on_bpffs(dir, base, create);
	if (!err && (flags & (TFC_BPFFS_CREATE | TFC_BPFFS_WRITE)))
		err = tfc_pin_dir_check(dir);
	if (err)
		return err;
	if (!create)
		return strcmp(base, dir) ? report_missing(dir) : 0;
	err = make_dirs(dir);
	if (err)
		tfc_err("cannot create pin directory %s: %s", dir, strerror(-err));
	return err;
}

/* The directory holding `path`, opened; *name: the last component. */
static int open_parent(const char *path, const char **name)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (slash)
		parent_of(path, parent);
	else
		strcpy(parent, ".");
	*name = slash ? slash + 1 : path;
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* `name` in directory `dfd` is a pin we may remove (logged when not). */
static int check_removable(int dfd, const char *path, const char *name)
{
	struct stat st;

	if (tfc_path_has_dotdot(path) || !fd_on_bpffs(dfd)) {
		tfc_err("refusing to remove %s: it is not on a BPF filesystem, so it is no pin",
			path);
		return -EXDEV;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		tfc_err("refusing to remove %s: it is a symbolic link; pass the pin itself", path);
		return -ELOOP;
	}
	return 0;
}

int tfc_pin_removable(const char *path)
{
	const char *name;
	int dfd = open_parent(path, &name), err;

	if (dfd < 0)
		return dfd;
	err = check_removable(dfd, path, name);
	close(dfd);
	return err;
}

int tfc_pin_unlink(const char *path)
{
	const char *name;
	int dfd = open_parent(path, &name), err;

	if (dfd < 0)
		return dfd;
	err = check_removable(dfd, path, name);
	if (!err && unlinkat(dfd, name, 0)) {
		err = -errno;
		tfc_err("cannot remove %s: %s", path, strerror(-err));
	}
	close(dfd);
	return err;
}

__u64 tfc_netns_id(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (__u64)st.st_ino;
}

int tfc_pin_dir_lock(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err;

	if (fd < 0) {
		err = -errno;
		tfc_err("cannot open pin directory %s: %s", dir, strerror(-err));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (err == -EBUSY)
			tfc_err("another traffic-counter command is changing %s right now: wait "
				"for "
				"it to finish, then run this one again",
				dir);
		else
			tfc_err("cannot lock %s: %s", dir, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

__u64 tfc_link_pin_netns(const char *name)
{
	const char *p = strstr(name, TFC_LINK_PIN_NS);
	unsigned long long ns;
	char *end;

	if (!p)
		return 0;
	ns = strtoull(p + strlen(TFC_LINK_PIN_NS), &end, 10);
	return strncmp(end, TFC_LINK_PIN_IF, strlen(TFC_LINK_PIN_IF)) ? 0 : (__u64)ns;
}

__u64 tfc_pins_netns(const struct tfc_pins *pins)
{
	DIR *d = opendir(pins->links);
	struct dirent *de;
	__u64 found = 0, ns;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		ns = tfc_link_pin_netns(de->d_name);
		if (!ns)
			continue;
		if (found && found != ns) {
			found = TFC_NETNS_MIXED;
			break;
		}
		found = ns;
	}
	closedir(d);
	return found;
}

static __u64 path_inode(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (__u64)st.st_ino;
}

int tfc_netns_name(__u64 ns, char *buf, size_t len)
{
	char path[PATH_MAX];
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	int err = -ENOENT;

	if (!d)
		return err;
	while (err && (de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "/run/netns/%s", de->d_name) >= (int)sizeof(path))
			continue;
		if (path_inode(path) == ns && (size_t)snprintf(buf, len, "%s", de->d_name) < len)
			err = 0;
	}
	closedir(d);
	return err;
}

/* nsfs bind mounts show "net:[INODE]" as their root in mountinfo. */
static int netns_mounted(__u64 ns)
{
	char line[4096], want[48];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found = 0;

	if (!f)
		return 0;
	snprintf(want, sizeof(want), " net:[%llu] ", (unsigned long long)ns);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

static int netns_has_process(__u64 ns)
{
	char path[64], link[64], want[48];
	DIR *d = opendir("/proc");
	struct dirent *de;
	ssize_t n;
	int found = 0;

	if (!d)
		return 1; /* cannot tell: assume it exists */
	snprintf(want, sizeof(want), "net:[%llu]", (unsigned long long)ns);
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/ns/net", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, want);
	}
	closedir(d);
	return found;
}

int tfc_netns_alive(__u64 ns)
{
	return ns == tfc_netns_id() || netns_mounted(ns) || netns_has_process(ns);
}
