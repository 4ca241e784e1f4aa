/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * attach --migrate: replace the pinned maps with maps of this version's
 * layout, or of another size or IP map type, without losing a count
 * (openspec/changes/0008).
 */
#ifndef TFC_MIGRATE_H
#define TFC_MIGRATE_H

#include "maps/pins.h"

/* What attach --migrate asks for; the rest of the maps stays as it is. */
struct tfc_migrate_req {
	const struct tfc_pins *pins; /* the pin directory's maps and links */
	int ip_map_type;	     /* enum tfc_ip_map_type; -1: the pinned map's */
	__u32 ip_map_size;	     /* 0: the pinned map's size */
	__u32 flow_map_size;	     /* 0: the pinned map's size */
	__u32 prefix_map_size;	     /* 0: the pinned map's size (layout 3) */
};

/*
 * With the pin directory locked: when the pinned maps differ from what req
 * asks for (layout version, --ip-map-size, --flow-map-size,
 * --ip-map-type), or a migration was interrupted, makes the new maps,
 * re-points every attachment at them, carries the counters over and pins
 * the new maps in place of the old. 0 when done or nothing differs.
 */
int tfc_migrate(const struct tfc_migrate_req *req);

/* Whether an interrupted migration waits to be finished. */
int tfc_migration_pending(const struct tfc_pins *pins);

/* -EBUSY, logged, while an interrupted migration waits to be finished. */
int tfc_migration_refuse(const struct tfc_pins *pins);

/* Unpins an interrupted migration's new maps (detach --purge). */
void tfc_migration_discard(const struct tfc_pins *pins);

#endif /* TFC_MIGRATE_H */
