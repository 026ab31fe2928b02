/*-------------------------------------------------------------------------
 *
 * series.h
 *	  Label set -> series id, with a per-backend cache.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_SERIES_H
#define PHA_SERIES_H

#include "postgres.h"

#include "remote.pb-c.h"
#include "wire/fastpath.h"

#define PHA_SERIES_HASH_LEN 32	/* SHA-256 */

extern void pha_series_init(void);

/*
 * Fill ids[i] with the id of the label set of ts[i] (sorted, validated, the
 * replica label already removed), creating missing series.  known (may be
 * NULL) holds ids the wire cache found (store/wire_cache.h), taken as they
 * are; PHA_WIRE_UNKNOWN where it found none.  Returns the number of series
 * created.
 */
extern int	pha_series_resolve(Prometheus__TimeSeries **ts, const int64 *known, int n,
							   int64 *ids);

#endif							/* PHA_SERIES_H */
