/*-------------------------------------------------------------------------
 *
 * read_chunks.c
 *	  Remote read's chunk rows: the stored chunks of a series that overlap a
 *	  window, read through promscale_ha.chunks' primary key.
 *
 * Remote read wants chunk rows, not samples: a stored XOR chunk inside the
 * window is sent as it is (read_merge.c decides), so the rows are read here
 * without the foreign table samples_compressed, whose scan decodes every
 * chunk into one executor tuple per sample.  One index scan on the primary
 * key (series_id, max_time) is opened per call of read() and positioned per
 * series on
 *		series_id = id AND max_time >= lo AND max_time < hi + 1 day
 * skipping rows with min_time > hi: a chunk never spans a UTC day boundary
 * (store/chunk_io.h), so "max_time < hi + 1 day" bounds the range without
 * losing a chunk that starts at or before hi.  This is the rule the chunk
 * scan (store/chunk_scan.c) applies, for the same table.
 *
 * The scan reads with the active snapshot, the statement's, as the head's
 * query does (read_head.c): a chunk and the head partition it came from are
 * never both seen.  Its locks are AccessShareLock on the table and its
 * primary key, kept to the end of the transaction as every reader's are.
 * The bytes of each row are detoasted (storage EXTERNAL: out of line when
 * large, never compressed) into a copy in the caller's memory context,
 * since the slot's buffer pin goes with the next row.
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

#include "store/read_chunks.h"
#include "store/chunk_io.h"
#include "timeconv.h"

/* Attribute numbers of promscale_ha.chunks (sql/promscale_ha--0.1.0--0.2.0.sql). */
#define ATT_SERIES_ID	1
#define ATT_MIN_TIME	2
#define ATT_MAX_TIME	3
#define ATT_SAMPLES		4
#define ATT_DATA		5
/* Columns of its primary key. */
#define KEY_SERIES_ID	1
#define KEY_MAX_TIME	2

void
pha_chunk_reader_open(PhaChunkReader *r)
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
	if (!ActiveSnapshotSet())
		elog(ERROR, "remote read needs an active snapshot");
	r->scan = index_beginscan(r->heap, r->index, GetActiveSnapshot(), 3, 0);
	r->slot = table_slot_create(r->heap, NULL);
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

int
pha_chunk_reader_series(PhaChunkReader *r, int64 id, int64 lo_ms, int64 hi_ms,
						PhaStoredChunk **out)
{
	TimestampTz lo = pha_ms_to_tstz(lo_ms);
	TimestampTz hi = pha_ms_to_tstz(hi_ms);
	TimestampTz below = DT_NOEND;
	ScanKeyData keys[3];
	int			cap = 8;
	int			n = 0;
	PhaStoredChunk *chunks = palloc(sizeof(PhaStoredChunk) * cap);

	if (hi < END_TIMESTAMP - PHA_CHUNK_SPAN_MS * 1000)
		below = hi + PHA_CHUNK_SPAN_MS * 1000;
	ScanKeyInit(&keys[0], KEY_SERIES_ID, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
	ScanKeyInit(&keys[1], KEY_MAX_TIME, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
				TimestampTzGetDatum(lo));
	ScanKeyInit(&keys[2], KEY_MAX_TIME, BTLessStrategyNumber, F_TIMESTAMPTZ_LT, TimestampTzGetDatum(below));
	index_rescan(r->scan, keys, 3, NULL, 0);
	while (index_getnext_slot(r->scan, ForwardScanDirection, r->slot))
	{
		bool		isnull;
		TimestampTz min_time = DatumGetTimestampTz(slot_getattr(r->slot, ATT_MIN_TIME, &isnull));
		PhaStoredChunk *c;

		CHECK_FOR_INTERRUPTS();
		if (min_time > hi)
			continue;
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
