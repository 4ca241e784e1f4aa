/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * attach --migrate: replace the pinned maps with maps of this version's
 * layout, or of another size or IP map type, without losing a count
 * (openspec/changes/0008).
 */
#ifndef TC_MIGRATE_H
#define TC_MIGRATE_H

#include "loader.h"

/*
 * With the pin directory locked: when the pinned maps differ from what o
 * asks for (layout version, --ip-map-size, --flow-map-size,
 * --ip-map-type), or a migration was interrupted, makes the new maps,
 * re-points every attachment at them, carries the counters over and pins
 * the new maps in place of the old. 0 when done or nothing differs.
 */
int tc_migrate(const struct tc_attach_opts *o);

/* Whether an interrupted migration waits to be finished. */
int tc_migration_pending(const struct tc_pins *pins);

/* -EBUSY, logged, while an interrupted migration waits to be finished. */
int tc_migration_refuse(const struct tc_pins *pins);

/* Unpins an interrupted migration's new maps (detach --purge). */
void tc_migration_discard(const struct tc_pins *pins);

#endif /* TC_MIGRATE_H */
