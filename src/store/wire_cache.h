/*-------------------------------------------------------------------------
 *
 * wire_cache.h
 *	  Per-backend cache: a series' label bytes as sent (wire/fastpath.c)
 *	  -> its series id, so that a known series costs one hash lookup.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_WIRE_CACHE_H
#define PHA_WIRE_CACHE_H

#include "postgres.h"

#include "wire/fastpath.h"

/* Register the transaction callbacks (from pha_series_init). */
extern void pha_wire_cache_init(void);

/* The seed of this backend's key hashes (pha_fast_parse's seed). */
extern uint64 pha_wire_cache_seed(void);

/*
 * Fill fr->ids[i] for every cacheable key the cache holds: the series id, or
 * PHA_WIRE_VALID when only its validity is known (learned from a follower's
 * request, which resolves no ids); the others stay PHA_WIRE_UNKNOWN.  Notes
 * the cache's generation; returns the hits.
 */
extern int	pha_wire_cache_probe(PhaFastRequest *fr);

/* Are ids filled at generation still valid (no reset since)? */
extern bool pha_wire_cache_valid(uint64 generation);

/*
 * Learn key -> id, or that the key's labels are valid (id PHA_WIRE_VALID;
 * a real id learned later replaces it).  The entry is kept aside and enters the cache when the
 * transaction commits (forgotten on abort, or on the abort of the
 * subtransaction that learned it), so the cache never names a row that a
 * rollback took away.  The key's bytes are copied.
 */
extern void pha_wire_cache_remember(const PhaWireKey *key, int64 id);

/* Forget everything (series deleted, extension recreated, cache full). */
extern void pha_wire_cache_reset(void);

#endif							/* PHA_WIRE_CACHE_H */
