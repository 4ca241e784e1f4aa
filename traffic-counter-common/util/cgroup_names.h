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

/* What a cgroup path says; empty strings where it says nothing. */
struct tfc_cgroup_name {
	char path[4096];     /* below the v2 mount, "/" for the root */
	char unit[256];	     /* systemd unit: *.service, *.scope, *.slice owner */
	char container[128]; /* container id: docker, containerd, cri-o, podman */
	char pod_uid[64];    /* Kubernetes pod UID, dashes as in the API */
	char pod_namespace[256];
	char pod_name[256];
	int gone; /* the cgroup was removed: the name is its last known one */
};

struct tfc_cgroup_names;

/*
 * The cgroup v2 mount point from /proc/self/mountinfo (the first "cgroup2"
 * mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a
 * hybrid one). -ENOENT when the host has none.
 */
int tfc_cgroup2_mount(char *buf, size_t len);

/*
 * A cache over the cgroup tree under `mount` (NULL: tfc_cgroup2_mount),
 * naming pods from `pods_dir` (NULL: TFC_PODS_DIR_DEFAULT). NULL and errno
 * set on failure.
 */
struct tfc_cgroup_names *tfc_cgroup_names_new(const char *mount, const char *pods_dir);
void tfc_cgroup_names_free(struct tfc_cgroup_names *n);

/*
 * The name of cgroup `id`: from the cache, else after one new walk of the
 * tree. NULL when the id was never seen (removed before the first walk).
 * Valid until the next call on `n`.
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
