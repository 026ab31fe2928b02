/*-------------------------------------------------------------------------
 *
 * read_chunks.h
 *	  Remote read's chunk rows: the stored chunks of one series that overlap
 *	  a time window, straight from promscale_ha.chunks' primary key.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_READ_CHUNKS_H
#define PHA_READ_CHUNKS_H

#include "postgres.h"

#include "access/genam.h"
#include "executor/tuptable.h"
#include "utils/relcache.h"

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
extern void pha_chunk_reader_close(PhaChunkReader *r);

/*
 * The chunks of series id with min_time <= hi and max_time >= lo (ms,
 * inclusive), in max_time order, into *out; their count.  The array and the
 * detoasted bytes are allocated in the current memory context.
 */
extern int	pha_chunk_reader_series(PhaChunkReader *r, int64 id, int64 lo_ms, int64 hi_ms,
									PhaStoredChunk **out);

#endif							/* PHA_READ_CHUNKS_H */
