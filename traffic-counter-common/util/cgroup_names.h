/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Names for cgroup ids (the keys of traffic_counters_cgroup): the cgroup's
 * path under the cgroup v2 mount, and what the path shows of who runs there
 * (systemd unit, container id, Kubernetes pod). Ids are cgroupfs inode
 * numbers: a walk of the mount finds them, a cache keeps them by inode, and
 * an id not seen before makes the next lookup walk again. A cgroup that was
 * removed keeps its last known name, marked gone.
 */
#ifndef TFC_CGROUP_NAMES_H
#define TFC_CGROUP_NAMES_H

#include <stddef.h>
#include <linux/types.h>

/* Where the kubelet keeps one directory per pod: NAMESPACE_NAME_UID. */
#define TFC_PODS_DIR_DEFAULT "/var/log/pods"

/*
 * Bounds of one walk: directories below the mount at most this deep, at
 * most this many cgroups (a node with more is named in part: the rest are
 * ids alone, never marked gone). The cache keeps removed cgroups' names
 * too, up to TFC_CGROUP_CACHE_MAX entries in all.
 */
#define TFC_CGROUP_WALK_DEPTH 32
#define TFC_CGROUP_WALK_MAX   65536
#define TFC_CGROUP_CACHE_MAX  (2 * TFC_CGROUP_WALK_MAX)
#define TFC_CGROUP_PODS_MAX   65536
/* An unknown id walks again only if the last walk is this old: one walk a
 * second, however many new ids a dump or a scrape meets. */
#define TFC_CGROUP_WALK_INTERVAL_NS 1000000000ULL

/* What a cgroup path says; empty strings where it says nothing. */
struct tfc_cgroup_name {
	char path[4096];     /* below the v2 mount, "/" for the root */
	char unit[256];	     /* systemd unit: the innermost *.service or *.scope */
	char container[128]; /* container id: docker, containerd, cri-o, podman */
	char pod_uid[64];    /* Kubernetes pod UID, dashes as in the API */
	char pod_namespace[256];
	char pod_name[256];
	int gone; /* the cgroup was removed: the name is its last known one */
};

/* One cache per thread: the calls change it and share no lock. */
struct tfc_cgroup_names;

/*
 * The cgroup v2 mount point from /proc/self/mountinfo (the first "cgroup2"
 * mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a
 * hybrid one). -ENOENT when the host has none.
 */
int tfc_cgroup2_mount(char *buf, size_t len);

/*
 * A cache over the cgroup tree under `mount` (NULL: tfc_cgroup2_mount),
 * naming pods from `pods_dir` (NULL: TFC_PODS_DIR_DEFAULT), filled by a
 * first walk. NULL and errno set on failure (ENOENT: no cgroup v2 mount, or
 * `mount` does not exist). A pods_dir that does not exist is no error: pods
 * are then named by UID alone.
 */
struct tfc_cgroup_names *tfc_cgroup_names_new(const char *mount, const char *pods_dir);
void tfc_cgroup_names_free(struct tfc_cgroup_names *n);

/* The mount the cache walks. */
const char *tfc_cgroup_names_mount(const struct tfc_cgroup_names *n);

/*
 * Walks the tree and the pods dir now, whatever the time since the last
 * walk: cgroups not found any more are marked gone. 0 or a negative errno.
 */
int tfc_cgroup_names_refresh(struct tfc_cgroup_names *n);

/*
 * The name of cgroup `id`: from the cache, else after one new walk of the
 * tree, if the last walk is at least TFC_CGROUP_WALK_INTERVAL_NS old. NULL
 * when the id was never seen (removed before the first walk, or created
 * after the last). Valid until the next call on `n`.
 */
const struct tfc_cgroup_name *tfc_cgroup_name(struct tfc_cgroup_names *n, __u64 id);

/*
 * The cgroup id of the cgroup directory `path` (absolute, in cgroupfs): its
 * inode number, what bpf_skb_cgroup_id() returns. A negative errno when it
 * is not a cgroup v2 directory (-ENOTDIR, -EMEDIUMTYPE for another file
 * system).
 */
long long tfc_cgroup_id(const char *path);

/*
 * Fills unit, container and pod_uid of `out` from out->path alone (no file
 * system access; pod namespace and name come from pods_dir, not here).
 */
void tfc_cgroup_parse_path(struct tfc_cgroup_name *out);

#endif /* TFC_CGROUP_NAMES_H */
