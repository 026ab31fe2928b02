/*-------------------------------------------------------------------------
 *
 * chunk_index.h
 *	  The primary-key scan of promscale_ha.chunks (series_id, max_time): the
 *	  stored chunks of one series that may overlap a time window.  Used by
 *	  the foreign-data wrapper's scan (chunk_scan.c) and by remote read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CHUNK_INDEX_H
#define PHA_CHUNK_INDEX_H

#include "postgres.h"

#include "access/genam.h"
#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

/* Attribute numbers of promscale_ha.chunks (sql/promscale_ha--0.1.0--0.2.0.sql). */
#define ATT_SERIES_ID	1
#define ATT_MIN_TIME	2
#define ATT_MAX_TIME	3
#define ATT_SAMPLES		4
#define ATT_DATA		5

/* One stored chunk row, its bytes detoasted. */
typedef struct PhaStoredChunk
{
	int64		min_ms;			/* first and last sample, ms */
	int64		max_ms;
	int			samples;		/* the row's count (checked against the bytes by readers) */
	bytea	   *data;			/* format byte + codec bytes (codec/chunk.h) */
} PhaStoredChunk;

/* An open primary-key scan of promscale_ha.chunks. */
typedef struct PhaChunkReader
{
	Relation	heap;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
} PhaChunkReader;

/*
 * Open the scan on the active snapshot (the statement's), taking
 * AccessShareLock on the table and its primary key; its memory lives in
 * the current context.  Close it before that context goes and before the
 * snapshot may change (remote read opens it per call of its function).
 */
extern void pha_chunk_reader_open(PhaChunkReader *r);
/* The same on a given snapshot (an executor node's es_snapshot). */
extern void pha_chunk_reader_open_on(PhaChunkReader *r, Snapshot snapshot);
/* Close it; a reader never opened (zeroed) or already closed is left alone. */
extern void pha_chunk_reader_close(PhaChunkReader *r);

/*
 * The exclusive upper bound of max_time for chunks that start at or before
 * hi: hi + PHA_CHUNK_SPAN_MS (a chunk never spans a UTC day), or infinity.
 */
extern TimestampTz pha_chunk_max_time_below(TimestampTz hi);

/*
 * Position the scan on the rows of series id that may overlap [lo, hi]:
 * max_time >= lo and max_time < pha_chunk_max_time_below(hi); the caller reads r->scan into r->slot and skips rows
 * whose min_time is after hi.
 */
extern void pha_chunk_reader_position(PhaChunkReader *r, int64 id, TimestampTz lo,
									  TimestampTz hi);

/*
 * The chunks of series id with min_time <= hi and max_time >= lo (ms,
 * inclusive), in max_time order, into *out; their count.  The scan ends at
 * the first chunk that starts after hi (chunks of a series do not overlap).
 * The array and the detoasted bytes are allocated in the current memory
 * context.
 */
extern int	pha_chunk_reader_series(PhaChunkReader *r, int64 id, int64 lo_ms, int64 hi_ms,
									PhaStoredChunk **out);

#endif							/* PHA_CHUNK_INDEX_H */
