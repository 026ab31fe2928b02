/*-------------------------------------------------------------------------
 *
 * compress.h
 *	  Head partitions -> per-series compressed chunks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_COMPRESS_H
#define PHA_COMPRESS_H

#include "postgres.h"

/* What compressing one head partition did. */
typedef struct PhaCompressed
{
	int64		lo;				/* the partition's range [lo, hi), ms */
	int64		hi;
	int64		samples;		/* rows turned into chunk samples */
	int64		chunks;			/* chunk rows written (merged ones included) */
	int64		bytes_before;	/* the partition's heap, TOAST and index bytes */
	int64		bytes_after;	/* bytes of the chunk rows written, less those replaced */
} PhaCompressed;

/*
 * Compress the oldest head partitions that end at or before cutoff_ms, at
 * most max of them, in the caller's transaction; returns how many, results in
 * out[] (room for max).  Each partition is locked ShareRowExclusiveLock (late
 * writes into it wait), read in (series, time) order, merged with the chunks
 * its range has already (late data compressed again), written as chunks, and
 * emptied; emptied partitions (and empty ones left before) are dropped when
 * samples_head can be locked without queueing (asked again for up to 50 ms),
 * else left for a later call.
 * Partitions found empty are not counted.  Lock waits are bounded by
 * promscale_ha.compress_lock_timeout (55P03 then); samples_head is never
 * waited for.  READ COMMITTED only (ERROR otherwise).
 */
extern int	pha_compress_older_than(int64 cutoff_ms, int max, PhaCompressed *out);

/*
 * The oldest end of a head partition not yet compressed (holding rows; an
 * emptied one waiting for its drop does not count), or PG_INT64_MAX.
 */
extern int64 pha_compress_oldest_head_end(void);

#endif							/* PHA_COMPRESS_H */
