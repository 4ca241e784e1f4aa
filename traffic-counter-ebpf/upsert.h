/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The one way every program here finds or creates a hash map entry. */
#ifndef TFC_UPSERT_H
#define TFC_UPSERT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * After a lookup of `key` missed: inserts `init` (*inserted set, NULL
 * returned: nothing left to add), or returns the entry another CPU
 * inserted meanwhile, or NULL when the map has no room.
 */
static __always_inline void *tfc_insert_or_find(void *map, const void *key, const void *init,
						int *inserted)
{
	*inserted = !bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return *inserted ? NULL : bpf_map_lookup_elem(map, key);
}

/* The entry for `key` to add to, or as tfc_insert_or_find when there is none. */
static __always_inline void *tfc_upsert(void *map, const void *key, const void *init, int *inserted)
{
	void *v = bpf_map_lookup_elem(map, key);

	*inserted = 0;
	return v ?: tfc_insert_or_find(map, key, init, inserted);
}

#endif /* TFC_UPSERT_H */
