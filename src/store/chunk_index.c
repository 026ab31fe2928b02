/*-------------------------------------------------------------------------
 *
 * chunk_index.c
 *	  The primary-key scan of promscale_ha.chunks: the stored chunks of a
 *	  series that may overlap a window.
 *
 * Two readers use it: the foreign-data wrapper's scan (chunk_scan.c), which
 * decodes the rows it gets into tuples, and remote read, which wants the
 * rows themselves (a stored XOR chunk inside the window is sent as it is:
 * read_merge.c decides).  One index scan on (series_id, max_time) is opened
 * per executor node or per call of read(), and positioned per series on
 *		series_id = id AND max_time >= lo AND max_time < hi + 1 day
 * with rows of min_time > hi skipped by the caller: a chunk never spans a
 * UTC day boundary (store/chunk_io.h), so "max_time < hi + 1 day" bounds the
 * range without losing a chunk that starts at or before hi.  Remote read's
 * pha_chunk_reader_series stops at the first row that starts after hi
 * instead: the chunks of a series never overlap (compression merges a range's
 * chunks with its late rows; compress.sql checks it), so every later row
 * starts later still, and a one-hour read no longer fetches the heap rows of
 * a day of chunks after its window (48 per series at 120-sample chunks).  A
 * chunk made by hand that overlaps one ending before it would be missed
 * there, never read wrongly.
 *
 * Remote read's scan uses the active snapshot, the statement's, as the
 * head's query does (read_head.c): a chunk and the head partition it came
 * from are never both seen.  Locks: AccessShareLock on the table and its
 * primary key, kept to the end of the transaction as every reader's are.
 * pha_chunk_reader_series detoasts each row's bytes (storage EXTERNAL: out
 * of line when large, never compressed) into a copy in the caller's memory
 * context, since the slot's buffer pin goes with the next row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "store/chunk_index.h"
#include "store/chunk_io.h"
#include "timeconv.h"

/* Columns of its primary key. */
#define KEY_SERIES_ID	1
#define KEY_MAX_TIME	2

void
pha_chunk_reader_open_on(PhaChunkReader *r, Snapshot snapshot)
{
	Oid			relid = get_relname_relid("chunks", get_namespace_oid("promscale_ha", false));
	Oid			indexid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table promscale_ha.chunks does not exist")));
	r->heap = table_open(relid, AccessShareLock);
	indexid = RelationGetPrimaryKeyIndex(r->heap);
	if (OidIsValid(indexid))
		r->index = index_open(indexid, AccessShareLock);
	if (!OidIsValid(indexid) ||
		r->index->rd_index->indnkeyatts != 2 ||
		r->index->rd_index->indkey.values[0] != ATT_SERIES_ID ||
		r->index->rd_index->indkey.values[1] != ATT_MAX_TIME)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the primary key of promscale_ha.chunks is not (series_id, max_time)"),
				 errhint("Reinstall the extension.")));
	r->scan = index_beginscan(r->heap, r->index, snapshot, 3, 0);
	r->slot = table_slot_create(r->heap, NULL);
}

void
pha_chunk_reader_open(PhaChunkReader *r)
{
	if (!ActiveSnapshotSet())
		elog(ERROR, "remote read needs an active snapshot");
	pha_chunk_reader_open_on(r, GetActiveSnapshot());
}

void
pha_chunk_reader_close(PhaChunkReader *r)
{
	if (r->scan == NULL)
		return;
	index_endscan(r->scan);
	ExecDropSingleTupleTableSlot(r->slot);
	index_close(r->index, NoLock);
	table_close(r->heap, NoLock);
	r->scan = NULL;
}

TimestampTz
pha_chunk_max_time_below(TimestampTz hi)
{
	if (!TIMESTAMP_NOT_FINITE(hi) && hi < END_TIMESTAMP - PHA_CHUNK_SPAN_MS * 1000)
		return hi + PHA_CHUNK_SPAN_MS * 1000;
	return DT_NOEND;
}

void
pha_chunk_reader_position(PhaChunkReader *r, int64 id, TimestampTz lo, TimestampTz hi)
{
	ScanKeyData keys[3];

	ScanKeyInit(&keys[0], KEY_SERIES_ID, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
	ScanKeyInit(&keys[1], KEY_MAX_TIME, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
				TimestampTzGetDatum(lo));
	ScanKeyInit(&keys[2], KEY_MAX_TIME, BTLessStrategyNumber, F_TIMESTAMPTZ_LT,
				TimestampTzGetDatum(pha_chunk_max_time_below(hi)));
	index_rescan(r->scan, keys, 3, NULL, 0);
}

int
pha_chunk_reader_series(PhaChunkReader *r, int64 id, int64 lo_ms, int64 hi_ms,
						PhaStoredChunk **out)
{
	TimestampTz hi = pha_ms_to_tstz(hi_ms);
	int			cap = 8;
	int			n = 0;
	PhaStoredChunk *chunks = palloc(sizeof(PhaStoredChunk) * cap);

	pha_chunk_reader_position(r, id, pha_ms_to_tstz(lo_ms), hi);
	while (index_getnext_slot(r->scan, ForwardScanDirection, r->slot))
	{
		bool		isnull;
		TimestampTz min_time = DatumGetTimestampTz(slot_getattr(r->slot, ATT_MIN_TIME, &isnull));
		PhaStoredChunk *c;

		CHECK_FOR_INTERRUPTS();
		if (min_time > hi)
			break;				/* the rest start later still: see the file's header */
		if (n == cap)
		{
			cap *= 2;
			chunks = repalloc(chunks, sizeof(PhaStoredChunk) * cap);
		}
		/* every column is NOT NULL */
		c = &chunks[n++];
		c->min_ms = pha_tstz_to_ms(min_time);
		c->max_ms = pha_tstz_to_ms(DatumGetTimestampTz(slot_getattr(r->slot, ATT_MAX_TIME,
																	 &isnull)));
		c->samples = DatumGetInt32(slot_getattr(r->slot, ATT_SAMPLES, &isnull));
		c->data = DatumGetByteaPCopy(slot_getattr(r->slot, ATT_DATA, &isnull));
	}
	ExecClearTuple(r->slot);	/* its buffer pin */
	*out = chunks;
	return n;
}
