/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * attach --migrate: replace the pinned maps with maps of this version's
 * layout, or of another size or IP map type, without losing a count
 * (openspec/changes/0008).
 */
#ifndef TFC_MIGRATE_H
#define TFC_MIGRATE_H

#include "loader.h"

/*
 * With the pin directory locked: when the pinned maps differ from what o
 * asks for (layout version, --ip-map-size, --flow-map-size,
 * --ip-map-type), or a migration was interrupted, makes the new maps,
 * re-points every attachment at them, carries the counters over and pins
 * the new maps in place of the old. 0 when done or nothing differs.
 */
int tfc_migrate(const struct tfc_attach_opts *o);

/* Whether an interrupted migration waits to be finished. */
int tfc_migration_pending(const struct tfc_pins *pins);

/* -EBUSY, logged, while an interrupted migration waits to be finished. */
int tfc_migration_refuse(const struct tfc_pins *pins);

/* Unpins an interrupted migration's new maps (detach --purge). */
void tfc_migration_discard(const struct tfc_pins *pins);

#endif /* TFC_MIGRATE_H */
