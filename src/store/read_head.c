/*-------------------------------------------------------------------------
 *
 * read_head.c
 *	  Remote read's head rows: the samples of a batch of series in a time
 *	  window from promscale_ha.samples_head (the rows not yet compressed).
 *
 * One statement per batch, kept plan:
 *		series_id = ANY($1) AND time >= $2 AND time <= $3
 * (index or bitmap scans on the head's partitions, pruned at run time).  A
 * DestReceiver of ours takes the rows from the executor into arrays kept
 * across batches (no SPI tuple table, no tuple per row beyond the
 * executor's); a counting pass groups them by series in the batch's order,
 * keeping their arrival order, and a series is sorted only if its rows came
 * out of time order (each partition's scan gives time order, and the
 * partitions come in time order).  The head holds one row per (series_id,
 * time), so nothing is deduplicated here.
 *
 * The chunks are read elsewhere (read_chunks.c); the two tiers are merged
 * per series by read_merge.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "store/read_head.h"
#include "sql.h"
#include "store/chunk_io.h"
#include "timeconv.h"

static SPIPlanPtr head_plan;

/* A batch's series in id order, to find a row's batch position. */
typedef struct SeriesPos
{
	int64		id;
	int			pos;
} SeriesPos;

/* Receives the rows: each row's batch position, time and value, in arrival order. */
typedef struct HeadReceiver
{
	DestReceiver pub;
	PhaHeadBuf *buf;
	const SeriesPos *index;
	int			nids;
	int64	   *count;			/* rows per batch position */
	int64		n;
	int64		last_id;		/* rows come grouped by series within a partition */
	int			last_pos;
} HeadReceiver;

static int
series_pos_cmp(const void *a, const void *b)
{
	const SeriesPos *x = a;
	const SeriesPos *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Room for one more row in buf: doubled, up to what a huge allocation allows. */
static void
grow(HeadReceiver *r)
{
	PhaHeadBuf *b = r->buf;
	int64		cap = b->cap * 2;

	if ((Size) cap * sizeof(int64) > MaxAllocHugeSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("remote-read batch of %d series has too many samples", r->nids),
				 errhint("Lower promscale_ha.read_batch_series or set promscale_ha.read_max_samples.")));
	b->pos = repalloc_huge(b->pos, sizeof(int32) * cap);
	b->t = repalloc_huge(b->t, sizeof(int64) * cap);
	b->v = repalloc_huge(b->v, sizeof(double) * cap);
	b->cap = cap;
}

static bool
head_receive(TupleTableSlot *slot, DestReceiver *self)
{
	HeadReceiver *r = (HeadReceiver *) self;
	PhaHeadBuf *b = r->buf;
	int64		id;

	slot_getallattrs(slot);
	if (slot->tts_isnull[0] || slot->tts_isnull[1] || slot->tts_isnull[2])
		return true;			/* NOT NULL columns */
	id = DatumGetInt64(slot->tts_values[0]);
	if (r->last_pos < 0 || id != r->last_id)
	{
		int			lo = 0,
					hi = r->nids;

		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (r->index[mid].id < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo >= r->nids || r->index[lo].id != id)
			elog(ERROR, "head query returned series %lld, which was not asked for",
				 (long long) id);
		r->last_id = id;
		r->last_pos = r->index[lo].pos;
	}
	if (r->n == b->cap)
		grow(r);
	b->pos[r->n] = r->last_pos;
	b->t[r->n] = pha_tstz_to_ms(DatumGetTimestampTz(slot->tts_values[1]));
	b->v[r->n] = DatumGetFloat8(slot->tts_values[2]);	/* the Datum's bits: NaN payloads intact */
	r->count[r->last_pos]++;
	r->n++;
	return true;
}

static void
head_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
head_nothing(DestReceiver *self)
{
}

/* Run the head statement for ids into r (connected to SPI); the rows it returned. */
static uint64
run_query(HeadReceiver *r, const int64 *ids, int nids, TimestampTz start, TimestampTz end,
		  int64 tcount)
{
	static const char *sql =
		"SELECT series_id, time, value FROM promscale_ha.samples_head "
		"WHERE series_id = ANY($1) AND time >= $2 AND time <= $3";
	Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum	   *elems = palloc(sizeof(Datum) * Max(nids, 1));
	ParamListInfo params = makeParamList(3);
	SPIExecuteOptions options = {0};
	int			rc;

	if (head_plan == NULL)
		head_plan = pha_sql_prepare(sql, 3, types);
	for (int i = 0; i < nids; i++)
		elems[i] = Int64GetDatum(ids[i]);
	params->params[0].value = PointerGetDatum(construct_array(elems, nids, INT8OID, sizeof(int64),
															  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	params->params[1].value = TimestampTzGetDatum(start);
	params->params[2].value = TimestampTzGetDatum(end);
	for (int i = 0; i < 3; i++)
	{
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	r->pub.receiveSlot = head_receive;
	r->pub.rStartup = head_startup;
	r->pub.rShutdown = head_nothing;
	r->pub.rDestroy = head_nothing;
	r->pub.mydest = DestNone;
	options.params = params;
	options.read_only = true;
	options.tcount = (uint64) tcount;
	options.dest = (DestReceiver *) r;
	rc = SPI_execute_plan_extended(head_plan, &options);
	/* a SELECT into our receiver reports SPI_OK_UTILITY (no tuple table) */
	if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(rc));
	pfree(elems);
	return SPI_processed;
}

bool
pha_head_load(PhaHeadBuf *buf, const int64 *ids, int nids, TimestampTz start, TimestampTz end,
			  int64 tcount, MemoryContext cxt, PhaHeadRows *out)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SeriesPos  *index = palloc(sizeof(SeriesPos) * Max(nids, 1));
	HeadReceiver r = {0};
	uint64		got;

	if (buf->cap == 0)
	{
		buf->cap = 8192;
		buf->pos = MemoryContextAllocHuge(buf->cxt, sizeof(int32) * buf->cap);
		buf->t = MemoryContextAllocHuge(buf->cxt, sizeof(int64) * buf->cap);
		buf->v = MemoryContextAllocHuge(buf->cxt, sizeof(double) * buf->cap);
	}
	for (int i = 0; i < nids; i++)
	{
		index[i].id = ids[i];
		index[i].pos = i;
	}
	qsort(index, nids, sizeof(SeriesPos), series_pos_cmp);
	r.buf = buf;
	r.index = index;
	r.nids = nids;
	r.count = palloc0(sizeof(int64) * Max(nids, 1));
	r.last_pos = -1;
	got = run_query(&r, ids, nids, start, end, tcount);
	/* SPI returns in its procedure context, which SPI_finish deletes: back to cxt */
	MemoryContextSwitchTo(cxt);
	pfree(index);
	if (tcount > 0 && got >= (uint64) tcount)
	{
		pfree(r.count);
		MemoryContextSwitchTo(old);
		return false;
	}

	/* series after series in the batch's order, arrival order kept within each */
	out->off = palloc(sizeof(int64) * (nids + 1));
	out->n = r.count;
	out->off[0] = 0;
	for (int i = 0; i < nids; i++)
		out->off[i + 1] = out->off[i] + r.count[i];
	out->t = palloc_extended(sizeof(int64) * Max(r.n, 1), MCXT_ALLOC_HUGE);
	out->v = palloc_extended(sizeof(double) * Max(r.n, 1), MCXT_ALLOC_HUGE);
	{
		int64	   *next = palloc(sizeof(int64) * Max(nids, 1));

		memcpy(next, out->off, sizeof(int64) * nids);
		for (int64 k = 0; k < r.n; k++)
		{
			int64		at = next[buf->pos[k]]++;

			out->t[at] = buf->t[k];
			out->v[at] = buf->v[k];
		}
		pfree(next);
	}
	for (int i = 0; i < nids; i++)
	{
		if (out->n[i] > (int64) INT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("series %lld has too many samples", (long long) ids[i])));
		pha_sort_samples(out->t + out->off[i], out->v + out->off[i], (int) out->n[i]);
	}
	MemoryContextSwitchTo(old);
	return true;
}
