/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attachments found from the kernel rather than from a pin directory's
 * links/: every XDP or TCX link and every cls_bpf filter at our handle and
 * priority in the current network namespace whose program is ours. And where
 * their maps and link pins are: the kernel does not know pin paths, so a
 * bounded walk of bpffs looks for pins holding the same ids.
 */
#ifndef TFC_DISCOVER_H
#define TFC_DISCOVER_H

#include "hooks.h" /* struct tfc_attachment */
#include "maps/maps.h"

/* Bounds of the bpffs walk: it must stay quick whatever is pinned. */
#define TFC_WALK_ROOT	     "/sys/fs/bpf"
#define TFC_WALK_MAX_DEPTH   8
#define TFC_WALK_MAX_ENTRIES 20000

struct tfc_found {
	struct tfc_attachment a; /* a.pin: the link's (netlink: program's) pin, "" if none */
	__u32 map_ids[TFC_MAP_KIND_MAX];	   /* 0: the program has no such map */
	char map_pins[TFC_MAP_KIND_MAX][PATH_MAX]; /* "" if no pin was found */
	char pin_dir[PATH_MAX];			   /* where it was attached from, "" unknown */
	int netns_verified; /* device proven to be in this netns, not just ifindex + name */
	int maps_elsewhere; /* its maps are not the ones pinned at the pins asked about */
};

/*
 * The map ids of one of our programs by kind. Returns 1 if prog_id is ours
 * (one of our program names, and a map named like our control map), 0 if
 * not, or a negative errno.
 */
int tfc_prog_map_ids(__u32 prog_id, __u32 ids[TFC_MAP_KIND_MAX]);

/* Ids of the maps pinned at `pins` (0 where none is). */
void tfc_pins_map_ids(const struct tfc_pins *pins, __u32 ids[TFC_MAP_KIND_MAX]);

/* Our attachments in the current netns, from the kernel. Caller frees *out. */
int tfc_discover(struct tfc_found **out, size_t *n);

/*
 * Fills pin paths (link pin, map pins, pin_dir) of f[0..n) from one bounded
 * walk of TFC_WALK_ROOT, and maps_elsewhere against `pins` (NULL: skip).
 */
void tfc_found_locate(struct tfc_found *f, size_t n, const struct tfc_pins *pins);

/*
 * The pin directory our attachment at (ap, ifindex) was made from, found
 * from the kernel and a walk of bpffs: 0 (dir "" when its pins are not
 * found), -ENOENT when none of ours is there, or a negative errno.
 */
int tfc_found_pin_dir(enum tfc_attach_point ap, int ifindex, char *dir, size_t len);

/*
 * Detaches our attachment at (ap, ifindex) that no pin of `pins` records:
 * the link is detached and its pin (wherever it is) removed, or the
 * cls_bpf filter deleted. -ENOENT if there is none; something there that is
 * not ours is left alone and named.
 */
int tfc_detach_found(const struct tfc_pins *pins, enum tfc_attach_point ap, int ifindex,
		     const char *ifname);

/*
 * Map pins given at attach time outside the pin directory's default names
 * are recorded as symlinks in DIR/TFC_MAP_RECORDS_DIR (abi), so that purge
 * finds them later without the same options.
 */

/* Records the custom map pins of `pins`. Logs and returns -errno on failure. */
int tfc_pins_record(const struct tfc_pins *pins);

/*
 * Removes the recorded map pins that are still traffic-counter maps of
 * their kind, printing each, and the records. Refuses (as an error) a
 * record whose target is a symlink or not on bpffs. 0 or the last error.
 */
int tfc_purge_records(const struct tfc_pins *pins);

/* The record name for a pin: "<map name>-<hash of the path>". Pure. */
int tfc_record_name(enum tfc_map_kind kind, const char *target, char *buf, size_t len);

/* Parses a record name back to its kind; -EINVAL if it is none. Pure. */
int tfc_record_kind(const char *name);

#endif /* TFC_DISCOVER_H */
