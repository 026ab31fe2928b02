/*-------------------------------------------------------------------------
 *
 * chunk_scan.c
 *	  The foreign-data wrapper behind promscale_ha.samples_compressed: reads
 *	  the chunks of promscale_ha.chunks that can hold wanted samples and
 *	  decodes them into (series_id, time, value) rows.
 *
 * This file runs the scan and holds the handler; the planner callbacks are
 * in chunk_plan.c (which clauses become "chunk conditions", estimates,
 * paths, the ForeignScan whose fdw_exprs/fdw_private layout chunk_plan.h
 * describes) and the "Chunk Filter" line of EXPLAIN in chunk_explain.c.
 *
 * Execution.  At the first fetch after Begin or ReScan the condition
 * expressions are evaluated (a NULL matches nothing, as in SQL), giving a
 * sorted set of series ids or none, and the tightest time bounds, made
 * inclusive (time > x is time >= x + 1 microsecond).  With series ids, the
 * chunk rows come straight from the primary key (series_id, max_time): one
 * index scan (chunk_index.c), opened at the first such fetch and kept across
 * rescans, is positioned per series on
 *		series_id = s AND max_time >= lo AND max_time < hi + 1 day
 * and rows with min_time > hi are skipped (chunk_index.h says why the bound
 * holds).  (A nested loop rescans once per outer row: an SPI cursor per
 * rescan cost ~0.5 ms, the index rescan a few microseconds.)  Without
 * series ids the rows come from a cursor over a kept plan with the same time
 * test (the BRIN index on max_time), fetched 64 at a time, each fetch inside
 * its own SPI_connect/SPI_finish so the SPI stack is balanced between
 * executor callbacks.  Both read with the query's snapshot, so a sample
 * moved from the head into a chunk is seen exactly once by
 * promscale_ha.samples.
 *
 * Memory: a batch context (one fetch: the rows, their data still toasted)
 * and a chunk context (the detoasted chunk and its decoded arrays), each
 * reset before reuse, so a scan holds one batch plus one chunk whatever the
 * result size.  Output tuples are virtual and hold only by-value datums.
 *
 * A chunk that fails to decode, or whose samples disagree with its row
 * (count, min_time/max_time), is ERRCODE_DATA_CORRUPTED naming the series
 * and the chunk's max_time (pha_chunk_read, chunk_io.c).  The scan writes
 * nothing, takes no locks of its own beyond AccessShareLock on the chunks
 * table (the planner's in chunk_plan.c, and the cursor's), and leaves
 * INSERT/UPDATE/DELETE unsupported (their callbacks are NULL).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "sql.h"
#include "store/chunk_explain.h"
#include "store/chunk_index.h"
#include "store/chunk_io.h"
#include "store/chunk_plan.h"
#include "store/chunk_scan.h"
#include "timeconv.h"

/* Chunk rows per cursor fetch. */
#define FETCH_BATCH		64

/* One chunk row of a fetched batch; data may still be a toast pointer. */
typedef struct ChunkRow
{
	int64		series_id;
	TimestampTz min_time;
	TimestampTz max_time;
	int32		samples;
	Datum		data;
} ChunkRow;

/* Executor state, in ForeignScanState.fdw_state. */
typedef struct ChunkScanState
{
	/* the plan's conditions */
	int			ncond;
	PhaChunkCondKind *kinds;
	int		   *strategies;
	Oid		   *types;
	List	   *exprstates;

	/* one (re)scan: evaluated conditions and the cursor, in scan_cxt */
	MemoryContext scan_cxt;
	bool		started;
	bool		empty;			/* the conditions match nothing */
	bool		have_series;
	int64	   *series;			/* sorted, distinct */
	int			nseries;
	TimestampTz lo;				/* inclusive */
	TimestampTz hi;				/* inclusive */
	char	   *cursor;			/* open cursor's name, NULL when closed */

	/* the primary-key scan (series ids known): opened once, kept across rescans */
	PhaChunkReader reader;		/* the primary-key scan, once opened (scan != NULL) */
	bool		by_index;		/* this (re)scan reads through the reader */
	int			series_pos;		/* next series of series[] to position on */
	bool		positioned;		/* the reader is on series[series_pos] */
	ChunkRow	irow;			/* the row just read through the reader */

	/* the current batch of chunk rows */
	MemoryContext batch_cxt;
	ChunkRow   *rows;
	int			nrows;
	int			next_row;

	/* the current chunk's samples inside the bounds: [pos, end) */
	MemoryContext chunk_cxt;
	int64		cur_series;
	int64	   *t;
	double	   *v;
	size_t		pos;
	size_t		end;

	/* EXPLAIN ANALYZE, summed over rescans */
	int64		chunks_read;
	int64		samples_decoded;
	int64		samples_returned;
} ChunkScanState;

static SPIPlanPtr by_time_plan = NULL;

#define CHUNK_COLUMNS "SELECT series_id, min_time, max_time, samples, data FROM promscale_ha.chunks"
static const char *const by_time_sql = CHUNK_COLUMNS
" WHERE max_time >= $1 AND max_time < $3 AND min_time <= $2";
PG_FUNCTION_INFO_V1(pha_chunks_fdw_handler);

/* ------------------------------------------------------------------------
 * Execution
 * ------------------------------------------------------------------------
 */

/* BeginForeignScan: compile the condition expressions; no I/O yet. */
static void
chunks_begin(ForeignScanState *node, int eflags)
{
	ForeignScan *fs = (ForeignScan *) node->ss.ps.plan;
	ChunkScanState *st;
	List	   *kinds = PHA_CHUNK_PRIVATE_KINDS(fs);
	List	   *strategies = PHA_CHUNK_PRIVATE_STRATEGIES(fs);
	List	   *types = PHA_CHUNK_PRIVATE_TYPES(fs);
	MemoryContext parent = node->ss.ps.state->es_query_cxt;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	st = palloc0(sizeof(ChunkScanState));
	st->ncond = list_length(kinds);
	st->kinds = palloc(sizeof(PhaChunkCondKind) * (st->ncond + 1));
	st->strategies = palloc(sizeof(int) * (st->ncond + 1));
	st->types = palloc(sizeof(Oid) * (st->ncond + 1));
	for (int i = 0; i < st->ncond; i++)
	{
		st->kinds[i] = (PhaChunkCondKind) list_nth_int(kinds, i);
		st->strategies[i] = list_nth_int(strategies, i);
		st->types[i] = list_nth_oid(types, i);
	}
	st->exprstates = ExecInitExprList(fs->fdw_exprs, (PlanState *) node);
	st->scan_cxt = AllocSetContextCreate(parent, "pha chunk scan", ALLOCSET_SMALL_SIZES);
	st->batch_cxt = AllocSetContextCreate(parent, "pha chunk batch", ALLOCSET_DEFAULT_SIZES);
	st->chunk_cxt = AllocSetContextCreate(parent, "pha chunk", ALLOCSET_DEFAULT_SIZES);
	node->fdw_state = st;
}

/* An integer of type typid (int2, int4, int8) as int64. */
static int64
series_datum(Datum d, Oid typid)
{
	if (typid == INT2OID)
		return DatumGetInt16(d);
	if (typid == INT4OID)
		return DatumGetInt32(d);
	return DatumGetInt64(d);
}

/* qsort comparator: int64 ascending. */
static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/* Keep only the series ids of st also in ids[0..n-1] (sorted, distinct). */
static void
intersect_series(ChunkScanState *st, int64 *ids, int n)
{
	int			i = 0,
				j = 0,
				k = 0;

	if (!st->have_series)
	{
		st->have_series = true;
		st->series = ids;
		st->nseries = n;
		return;
	}
	while (i < st->nseries && j < n)
	{
		if (st->series[i] < ids[j])
			i++;
		else if (st->series[i] > ids[j])
			j++;
		else
		{
			st->series[k++] = st->series[i];
			i++;
			j++;
		}
	}
	st->nseries = k;
}

/* The non-null elements of an integer array, sorted and distinct, in scan_cxt. */
static void
add_series_array(ChunkScanState *st, ArrayType *arr, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			m = 0;
	int64	   *ids;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	ids = MemoryContextAlloc(st->scan_cxt, sizeof(int64) * (n + 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			ids[m++] = series_datum(elems[i], elemtype);
	if (m > 1)
	{
		int			u = 1;

		qsort(ids, m, sizeof(int64), cmp_int64);
		for (int i = 1; i < m; i++)
			if (ids[i] != ids[u - 1])
				ids[u++] = ids[i];
		m = u;
	}
	intersect_series(st, ids, m);
}

/*
 * Narrow [lo, hi] by one time condition.  Strict bounds become inclusive
 * ones (a timestamptz is a whole number of microseconds), so that the chunk
 * query does not read a chunk that only touches an excluded end.
 */
static void
add_time_bound(ChunkScanState *st, int strategy, TimestampTz ts)
{
	switch (strategy)
	{
		case BTGreaterStrategyNumber:
			if (ts == DT_NOEND)
				st->empty = true;
			else if (ts != DT_NOBEGIN)
				st->lo = Max(st->lo, ts + 1);
			break;
		case BTLessStrategyNumber:
			if (ts == DT_NOBEGIN)
				st->empty = true;
			else if (ts != DT_NOEND)
				st->hi = Min(st->hi, ts - 1);
			break;
		case BTGreaterEqualStrategyNumber:
			st->lo = Max(st->lo, ts);
			break;
		case BTLessEqualStrategyNumber:
			st->hi = Min(st->hi, ts);
			break;
		case BTEqualStrategyNumber:
			st->lo = Max(st->lo, ts);
			st->hi = Min(st->hi, ts);
			break;
	}
}

/* Evaluate the conditions (after Begin or ReScan): series set and time bounds. */
static void
evaluate_conditions(ForeignScanState *node, ChunkScanState *st)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	ListCell   *lc;
	int			i = 0;

	st->have_series = false;
	st->nseries = 0;
	st->lo = DT_NOBEGIN;
	st->hi = DT_NOEND;
	st->empty = false;
	foreach(lc, st->exprstates)
	{
		bool		isnull;
		Datum		d = ExecEvalExpr((ExprState *) lfirst(lc), econtext, &isnull);
		int			c = i++;

		if (isnull)
		{
			st->empty = true;	/* x = NULL, x < NULL, x = ANY (NULL) */
			continue;
		}
		if (st->kinds[c] == PHA_COND_TIME)
			add_time_bound(st, st->strategies[c], DatumGetTimestampTz(d));
		else if (st->kinds[c] == PHA_COND_SERIES_ANY)
			add_series_array(st, DatumGetArrayTypeP(d), st->types[c]);
		else
		{
			int64	   *id = MemoryContextAlloc(st->scan_cxt, sizeof(int64));

			*id = series_datum(d, st->types[c]);
			intersect_series(st, id, 1);
		}
	}
	MemoryContextSwitchTo(old);
	if (st->lo > st->hi || (st->have_series && st->nseries == 0))
		st->empty = true;
}

/*
 * Open the primary-key scan of promscale_ha.chunks (once per executor node,
 * on its snapshot), in the query's context: Iterate runs in the per-tuple
 * context and the scan must outlive it.
 */
static void
open_index_scan(ForeignScanState *node, ChunkScanState *st)
{
	MemoryContext old = MemoryContextSwitchTo(node->ss.ps.state->es_query_cxt);

	pha_chunk_reader_open_on(&st->reader, node->ss.ps.state->es_snapshot);
	MemoryContextSwitchTo(old);
}

/*
 * The next chunk row through the primary key, or NULL after the last series.
 * The row's data points into the slot's pinned buffer (or is a toast
 * pointer): valid until the next call, which is after load_chunk decoded it.
 */
static ChunkRow *
next_index_row(ChunkScanState *st)
{
	while (st->series_pos < st->nseries)
	{
		TupleTableSlot *slot = st->reader.slot;

		if (!st->positioned)
		{
			pha_chunk_reader_position(&st->reader, st->series[st->series_pos], st->lo, st->hi);
			st->positioned = true;
		}
		while (index_getnext_slot(st->reader.scan, ForwardScanDirection, slot))
		{
			ChunkRow   *row = &st->irow;
			bool		isnull;

			/* every column is NOT NULL */
			row->min_time = DatumGetTimestampTz(slot_getattr(slot, ATT_MIN_TIME, &isnull));
			if (row->min_time > st->hi)
				continue;
			row->series_id = DatumGetInt64(slot_getattr(slot, ATT_SERIES_ID, &isnull));
			row->max_time = DatumGetTimestampTz(slot_getattr(slot, ATT_MAX_TIME, &isnull));
			row->samples = DatumGetInt32(slot_getattr(slot, ATT_SAMPLES, &isnull));
			row->data = slot_getattr(slot, ATT_DATA, &isnull);
			return row;
		}
		st->positioned = false;
		st->series_pos++;
	}
	return NULL;
}

/* Open the cursor over the chunk rows the conditions can match (no series ids). */
static void
open_cursor(ChunkScanState *st)
{
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	Portal		portal;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = TimestampTzGetDatum(st->lo);
	values[1] = TimestampTzGetDatum(st->hi);
	values[2] = TimestampTzGetDatum(pha_chunk_max_time_below(st->hi));
	if (by_time_plan == NULL)
		by_time_plan = pha_sql_prepare(by_time_sql, 3,
									   (Oid[]) {TIMESTAMPTZOID, TIMESTAMPTZOID,
												TIMESTAMPTZOID});
	/* read-only: the cursor sees the query's snapshot, as the head scan does */
	portal = SPI_cursor_open(NULL, by_time_plan, values, nulls, true);
	st->cursor = MemoryContextStrdup(st->scan_cxt, portal->name);
	SPI_finish();
}

/* Close the cursor if open. */
static void
close_cursor(ChunkScanState *st)
{
	Portal		portal;

	if (st->cursor == NULL)
		return;
	portal = SPI_cursor_find(st->cursor);
	if (portal != NULL)
		SPI_cursor_close(portal);
	st->cursor = NULL;
}

/* Fetch the next batch of chunk rows into batch_cxt; closes the cursor at its end. */
static void
fetch_batch(ChunkScanState *st)
{
	Portal		portal;
	MemoryContext old;

	MemoryContextReset(st->batch_cxt);
	st->rows = NULL;
	st->nrows = st->next_row = 0;
	if (st->cursor == NULL)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_find(st->cursor);
	if (portal == NULL)
		elog(ERROR, "cursor \"%s\" of a chunk scan is gone", st->cursor);
	SPI_cursor_fetch(portal, true, FETCH_BATCH);

	old = MemoryContextSwitchTo(st->batch_cxt);
	st->rows = palloc(sizeof(ChunkRow) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ChunkRow   *row = &st->rows[st->nrows++];
		bool		isnull;

		/* every column is NOT NULL */
		row->series_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		row->min_time = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		row->max_time = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull));
		row->samples = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
		/* a toast pointer stays one: the chunk is detoasted when its turn comes */
		row->data = datumCopy(SPI_getbinval(tup, desc, 5, &isnull), false, -1);
	}
	MemoryContextSwitchTo(old);
	if (SPI_processed < FETCH_BATCH)
		close_cursor(st);
	SPI_finish();
}

/* First index in t[0..n-1] (strictly increasing ms) whose time is >= ts, or > ts. */
static size_t
first_at(const int64 *t, size_t n, TimestampTz ts, bool after)
{
	size_t		lo = 0,
				hi = n;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		TimestampTz x = pha_ms_to_tstz(t[mid]);

		if (x < ts || (after && x == ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Decode row's chunk into chunk_cxt and select its samples inside the
 * bounds.  pha_chunk_read raises ERRCODE_DATA_CORRUPTED for bytes that do
 * not decode, a count other than the row's, or times outside the row's.
 */
static void
load_chunk(ChunkScanState *st, ChunkRow *row)
{
	MemoryContext old;
	PhaChunkSamples chunk;

	CHECK_FOR_INTERRUPTS();
	MemoryContextReset(st->chunk_cxt);
	st->pos = st->end = 0;
	old = MemoryContextSwitchTo(st->chunk_cxt);
	pha_chunk_read(DatumGetByteaPP(row->data), row->series_id,
				   pha_tstz_to_ms(row->min_time), pha_tstz_to_ms(row->max_time),
				   row->samples, &chunk);
	MemoryContextSwitchTo(old);

	st->chunks_read++;
	st->samples_decoded += chunk.n;
	st->cur_series = row->series_id;
	st->t = chunk.t;
	st->v = chunk.v;
	st->pos = first_at(chunk.t, chunk.n, st->lo, false);
	st->end = first_at(chunk.t, chunk.n, st->hi, true);
	if (st->end < st->pos)
		st->end = st->pos;
}

/* IterateForeignScan: the next sample inside the bounds, or an empty slot. */
static TupleTableSlot *
chunks_iterate(ForeignScanState *node)
{
	ChunkScanState *st = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	if (!st->started)
	{
		st->started = true;
		evaluate_conditions(node, st);
		if (st->empty)
			return ExecClearTuple(slot);
		st->by_index = st->have_series;
		if (!st->by_index)
			open_cursor(st);
		else if (st->reader.scan == NULL)
			open_index_scan(node, st);
	}
	for (;;)
	{
		if (st->pos < st->end)
		{
			ExecClearTuple(slot);
			slot->tts_values[PHA_ATT_SERIES_ID - 1] = Int64GetDatum(st->cur_series);
			slot->tts_values[PHA_ATT_TIME - 1] = TimestampTzGetDatum(pha_ms_to_tstz(st->t[st->pos]));
			slot->tts_values[PHA_ATT_VALUE - 1] = Float8GetDatum(st->v[st->pos]);
			memset(slot->tts_isnull, 0, sizeof(bool) * slot->tts_tupleDescriptor->natts);
			ExecStoreVirtualTuple(slot);
			st->pos++;
			st->samples_returned++;
			return slot;
		}
		if (st->by_index)
		{
			ChunkRow   *row = next_index_row(st);

			if (row == NULL)
				return ExecClearTuple(slot);
			load_chunk(st, row);
			continue;
		}
		if (st->next_row >= st->nrows)
		{
			fetch_batch(st);
			if (st->nrows == 0)
				return ExecClearTuple(slot);
		}
		load_chunk(st, &st->rows[st->next_row++]);
	}
}

/* Forget the current scan: cursor, batch, chunk; conditions are re-evaluated. */
static void
reset_scan(ChunkScanState *st)
{
	close_cursor(st);
	MemoryContextReset(st->chunk_cxt);
	MemoryContextReset(st->batch_cxt);
	MemoryContextReset(st->scan_cxt);
	st->rows = NULL;
	st->nrows = st->next_row = 0;
	st->t = NULL;
	st->v = NULL;
	st->pos = st->end = 0;
	st->series = NULL;
	st->by_index = false;
	st->series_pos = 0;
	st->positioned = false;
	st->started = false;
}

/* ReScanForeignScan: new parameter values (a nested loop's next outer row). */
static void
chunks_rescan(ForeignScanState *node)
{
	reset_scan(node->fdw_state);
}

/* EndForeignScan: close the cursor; the contexts go with the query's. */
static void
chunks_end(ForeignScanState *node)
{
	ChunkScanState *st = node->fdw_state;

	if (st == NULL)
		return;
	reset_scan(st);
	pha_chunk_reader_close(&st->reader);
	MemoryContextDelete(st->chunk_cxt);
	MemoryContextDelete(st->batch_cxt);
	MemoryContextDelete(st->scan_cxt);
	node->fdw_state = NULL;
}

/* ------------------------------------------------------------------------
 * EXPLAIN
 * ------------------------------------------------------------------------
 */

/*
 * ExplainForeignScan: the conditions the scan enforces ("Chunk Filter",
 * chunk_explain.c), and with ANALYZE what it read, decoded and returned
 * (summed over loops).
 */
static void
chunks_explain(ForeignScanState *node, ExplainState *es)
{
	ChunkScanState *st = node->fdw_state;

	pha_chunks_explain_filter((ForeignScan *) node->ss.ps.plan, es);
	if (es->analyze && st != NULL)
	{
		ExplainPropertyInteger("Chunks Read", NULL, st->chunks_read, es);
		ExplainPropertyInteger("Samples Decoded", NULL, st->samples_decoded, es);
		ExplainPropertyInteger("Samples Returned", NULL, st->samples_returned, es);
	}
}

/* ------------------------------------------------------------------------
 * Handler
 * ------------------------------------------------------------------------
 */

/*
 * The FdwRoutine of promscale_ha_chunks: read-only, so the modify callbacks
 * stay NULL and PostgreSQL refuses INSERT/UPDATE/DELETE on the table.
 */
Datum
pha_chunks_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = pha_chunks_rel_size;
	routine->GetForeignPaths = pha_chunks_paths;
	routine->GetForeignPlan = pha_chunks_plan;
	routine->BeginForeignScan = chunks_begin;
	routine->IterateForeignScan = chunks_iterate;
	routine->ReScanForeignScan = chunks_rescan;
	routine->EndForeignScan = chunks_end;
	routine->ExplainForeignScan = chunks_explain;
	PG_RETURN_POINTER(routine);
}
