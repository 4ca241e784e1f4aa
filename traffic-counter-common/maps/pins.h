/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Where the maps and attachments live on bpffs. */
#ifndef TFC_PINS_H
#define TFC_PINS_H

#include <limits.h>
#include <stddef.h>
#include <linux/types.h>

#include "util/names.h"

struct tfc_pins {
	char dir[PATH_MAX]; /* holds traffic_stats and links/ */
	char ip[PATH_MAX];
	char flow[PATH_MAX];
	char control[PATH_MAX];
	char stats[PATH_MAX];
	char links[PATH_MAX];
	/* Layout 3: always in dir, beside the stats map. */
	char prefix[PATH_MAX];
	char aggregate[PATH_MAX];
};

/*
 * dir: NULL for the default (TFC_PIN_DIR_DEFAULT); ip, flow, control: NULL
 * for DIR/<map name>. With an explicit control pin and no dir, the stats
 * map and links/ sit beside the control map. Returns 0 or -ENAMETOOLONG.
 */
int tfc_pins_init(struct tfc_pins *pins, const char *dir, const char *ip, const char *flow,
		  const char *control);

/*
 * Pin of the attachment of one attach point on one interface. The name
 * holds the network namespace too: an ifindex is only unique within one,
 * while bpffs is shared by all namespaces of a mount namespace.
 */
int tfc_link_pin_path(const struct tfc_pins *pins, enum tfc_attach_point ap, int ifindex, char *buf,
		      size_t len);

/* The cgroup map's pin: DIR/traffic_counters_cgroup. 0 or -ENAMETOOLONG. */
int tfc_cgroup_map_pin(const struct tfc_pins *pins, char *buf, size_t len);

/*
 * Pin of one of the two links of a cgroup attachment:
 * "links/<cgroup-ingress|cgroup-egress>-cg<cgroup id>" (egress: 1).
 */
int tfc_cgroup_link_pin_path(const struct tfc_pins *pins, int egress, __u64 cgroup_id, char *buf,
			     size_t len);

/* tfc_bpffs_prepare's flags; 0: only read what is there. */
#define TFC_BPFFS_CREATE 1 /* make missing directories (implies WRITE) */
#define TFC_BPFFS_WRITE	 2 /* we will change what is there: tfc_pin_dir_check */

/*
 * Makes sure `dir` is on a BPF filesystem: mounts bpffs on /sys/fs/bpf when
 * nothing is mounted there, and creates missing directories with
 * TFC_BPFFS_CREATE. A path with a '..' component is refused, and nothing
 * is created outside bpffs. Logs the cause and the fix on failure.
 */
int tfc_bpffs_prepare(const char *dir, int flags);

/* Whether `path` is on a BPF filesystem (0 when it cannot be told). */
int tfc_is_bpffs(const char *path);

/* What a BPF object fd stands for, from its /proc/self/fd link. */
enum tfc_obj_kind { TFC_OBJ_OTHER, TFC_OBJ_MAP, TFC_OBJ_PROG, TFC_OBJ_LINK };

/* A TFC_OBJ_*, or -errno when /proc cannot tell (not mounted). */
int tfc_obj_kind(int fd);

/* Whether `path` has a ".." component. */
int tfc_path_has_dotdot(const char *path);

/*
 * Before we create, chmod or remove anything in `dir`: no '..', no symbolic
 * link on bpffs on the way, and `dir` (the part that exists) and each
 * directory above it up to the bpffs root owned by root or by us and not
 * writable by others (sticky 1777 is allowed for the bpffs root only).
 * Logs which directory and why; -EPERM, -ELOOP or -EINVAL. 0 when `dir` is
 * not on bpffs (tfc_bpffs_prepare refuses that).
 */
int tfc_pin_dir_check(const char *dir);

/*
 * Removes one pin, only if it is on bpffs and not a symbolic link (the link
 * itself would go, wherever it is: a file named on the command line is not
 * proof that it is ours). Logs why not; -EXDEV, -ELOOP or -errno.
 */
int tfc_pin_unlink(const char *path);

/* tfc_pin_unlink's checks alone; -ENOENT, not logged, when there is nothing. */
int tfc_pin_removable(const char *path);

/*
 * Takes the pin directory's lock (flock on the directory) so that two
 * attach/detach commands never interleave. Returns the fd holding the lock
 * (close it to release), or -EBUSY after logging who to wait for.
 */
int tfc_pin_dir_lock(const char *dir);

/* Inode of the caller's network namespace (/proc/self/ns/net), 0 if unknown. */
__u64 tfc_netns_id(void);

/* tfc_pins_netns's answer when links/ records several network namespaces. */
#define TFC_NETNS_MIXED ((__u64)-1)

/*
 * The network namespace the pin directory counts in, from the link pin
 * names under links/ (no BPF call: readers without privileges can list
 * them): 0 when nothing is recorded, TFC_NETNS_MIXED when several are (a pin
 * directory made by a version without the one-namespace rule).
 */
__u64 tfc_pins_netns(const struct tfc_pins *pins);

/* The netns inode in a link pin name ("<point>-ns<INODE>-if<N>..."), or 0. */
__u64 tfc_link_pin_netns(const char *name);

/* The /run/netns name of netns inode `ns` into buf; -ENOENT when none. */
int tfc_netns_name(__u64 ns, char *buf, size_t len);

/*
 * Whether network namespace `ns` still exists, as far as can be seen: a
 * process in it (/proc/PID/ns/net) or a bind mount of it (mountinfo, which
 * covers /run/netns and container runtimes). A namespace only held by an
 * open file descriptor is not seen.
 */
int tfc_netns_alive(__u64 ns);

#endif /* TFC_PINS_H */
