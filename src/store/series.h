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

#define PHA_SERIES_HASH_LEN 32	/* SHA-256 */

extern void pha_series_init(void);

/*
 * Fill ids[i] with the id of the label set of ts[i] (sorted, validated, the
 * replica label already removed), creating missing series.  Returns the
 * number of series created.
 */
extern int	pha_series_resolve(Prometheus__TimeSeries **ts, int n, int64 *ids);

#endif							/* PHA_SERIES_H */
