/*-------------------------------------------------------------------------
 *
 * read.c
 *	  promscale_ha.read(request bytea) RETURNS TABLE (kind text, body bytea):
 *	  the database side of Prometheus remote read, in named steps:
 *
 *	  decode    request -> ReadRequest and its response type (wire/read.c)
 *	  select    per query, the matchers -> a cursor over the matching series,
 *	            ordered as Prometheus orders label sets (store/matchers.c)
 *	  fetch     per batch of up to promscale_ha.read_batch_series series (one
 *	            cursor fetch), their samples in [start, end] from the view
 *	            promscale_ha.samples (head and chunks) in one query, kept plan
 *	            (series_id = ANY($1): index or bitmap scans on the head
 *	            partitions, the chunk scan reads each series' chunks by its
 *	            key), grouped by series and sorted by time here
 *	  encode    SAMPLES: every series into one snappy ReadResponse, one row;
 *	            STREAMED_XOR_CHUNKS: 120-sample XOR chunks, series packed into
 *	            frames of at most promscale_ha.read_frame_bytes, one row each
 *
 * The function returns a set in value-per-call mode: for 'chunks' each call
 * reads series until a frame is complete and returns it, so memory stays at
 * about one batch plus one frame whatever the size of the result (when the
 * function runs in a select list; in FROM the executor stores the rows in a
 * tuplestore, which spills to disk).  The series cursor (an SPI portal)
 * outlives each call's SPI connection; an ExprContext callback closes it
 * when the statement stops early.  All SPI runs read-only, on the
 * statement's snapshot: the whole response reads one consistent state.
 *
 * Memory: a context for the request (decoded request, frame being filled,
 * frames ready, and the buffers the batch query's rows arrive in: a receiver
 * of ours takes them from the executor, no SPI tuple table; kept and grown to
 * the largest batch) under the SRF's multi-call context, one reset per batch
 * (its labels and samples, grouped by series with a stable counting pass in
 * the batch's order; a series is sorted only if its rows came out of time
 * order) and one reset per series (its encoding).  Limits are
 * checked per series as they are crossed, so a stream fails mid-way (the
 * front end turns that into a broken stream).  A batch's query returns at
 * most the samples left under promscale_ha.read_max_samples plus one; a
 * batch that reaches that is read again series by series, as one query each,
 * so the limit fails at the same series, with the same error, as unbatched.
 * No lock is taken beyond the AccessShareLocks of the reads.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/portal.h"

#include "codec/xor.h"
#include "guc.h"
#include "read.h"
#include "sql.h"
#include "store/matchers.h"
#include "timeconv.h"
#include "wire/read.h"

PG_FUNCTION_INFO_V1(pha_read);

/* Decoded bytes per request byte: a ReadRequest is a few matchers (as ingest.c). */
#define READ_MAX_AMPLIFICATION	16
/* One series as the cursor returns it: id and labels, sorted by name. */
typedef struct SeriesRow
{
	int64		id;
	int			n_labels;
	PhaReadLabel *labels;
	/* its samples: [off, off + n) of the arrays load_samples filled */
	int64		off;
	int64		n;
} SeriesRow;

/* One frame ready to be returned. */
typedef struct ReadyFrame
{
	char	   *series;			/* chunked_series fields */
	size_t		len;
	int			query;
} ReadyFrame;

typedef struct ReadState
{
	MemoryContext cxt;			/* the request's life */
	MemoryContext batch_cxt;	/* the current batch: labels and samples */
	MemoryContext series_cxt;	/* reset per series */
	Prometheus__ReadRequest *req;
	PhaReadResponseType type;

	/* the query being read */
	int			query;			/* index; n_queries when done */
	bool		query_open;
	char	   *portal;			/* cursor name, NULL when none */
	TimestampTz start;
	TimestampTz end;
	SeriesRow  *batch;
	int			batch_n;
	int			batch_pos;
	bool		cursor_done;
	int64	   *batch_t;		/* the batch's samples, series by series */
	double	   *batch_v;
	bool		batch_by_series;	/* too many samples: one query per series */

	/* rows of the samples query as they arrive, kept and grown (cxt) */
	int32	   *in_pos;
	int64	   *in_t;
	double	   *in_v;
	int64		in_cap;

	/* the series just fetched (in batch_cxt, or series_cxt by series) */
	SeriesRow  *cur;
	int64	   *t;
	double	   *v;
	int			n;

	/* STREAMED_XOR_CHUNKS */
	StringInfoData frame;		/* chunked_series fields of the frame being filled */
	int			frame_query;
	List	   *ready;			/* ReadyFrame *, oldest first */

	int64		series_total;
	int64		samples_total;
	bool		registered;		/* shutdown callback registered */
	ExprContext *econtext;
} ReadState;

static SPIPlanPtr samples_plan;

/* SQLSTATE for a decoder verdict: 54000 for limits, 22021 for text, else 22P03. */
static int
read_errcode(PhaDecodeStatus st)
{
	switch (st)
	{
		case PHA_DECODE_TOO_LARGE:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case PHA_DECODE_BAD_UTF8:
			return ERRCODE_CHARACTER_NOT_IN_REPERTOIRE;
		default:
			return ERRCODE_INVALID_BINARY_REPRESENTATION;
	}
}

static void *
arena_block(void *ctx, size_t size)
{
	return MemoryContextAllocHuge((MemoryContext) ctx, size);
}

/* decode: the request into st->cxt, or an error. */
static void
decode_request(ReadState *st, bytea *request)
{
	PhaArena	arena;
	PhaDecodeLimits limits = {0};
	PhaDecodeError err;
	PhaDecodeStatus rc;

	pha_arena_init(&arena, arena_block, st->cxt);
	limits.max_payload_bytes = (size_t) pha_max_payload_bytes;
	limits.max_amplification = READ_MAX_AMPLIFICATION;
	rc = pha_read_decode((const uint8_t *) VARDATA_ANY(request), VARSIZE_ANY_EXHDR(request),
						 &limits, &arena, &st->req, &st->type, &err);
	if (rc != PHA_DECODE_OK)
		ereport(ERROR,
				(errcode(read_errcode(rc)),
				 errmsg("%s", err.message),
				 err.detail[0] ? errdetail("%s", err.detail) : 0));
}

/* Close the series cursor, if one is open. */
static void
close_cursor(ReadState *st)
{
	if (st->portal)
	{
		Portal		p = GetPortalByName(st->portal);

		if (PortalIsValid(p))
			SPI_cursor_close(p);
		pfree(st->portal);
		st->portal = NULL;
	}
}

/* The statement ends before the last row: close the cursor. */
static void
read_shutdown(Datum arg)
{
	ReadState  *st = (ReadState *) DatumGetPointer(arg);

	st->registered = false;
	close_cursor(st);
}

static int64
clamp_ms(int64 ms)
{
	return Min(Max(ms, PHA_MIN_MS), PHA_MAX_MS);
}

/* select: open the cursor over query q's series (connected to SPI). */
static void
open_query(ReadState *st, int q)
{
	Prometheus__Query *query = st->req->queries[q];
	MemoryContext old = MemoryContextSwitchTo(st->series_cxt);
	PhaMatcherSql m;
	StringInfoData sql;
	Portal		portal;
	int64		start_ms = clamp_ms(query->start_timestamp_ms);
	int64		end_ms = clamp_ms(query->end_timestamp_ms);

	st->query = q;
	st->query_open = true;
	st->batch_n = st->batch_pos = 0;
	st->cursor_done = false;
	st->start = pha_ms_to_tstz(start_ms);
	st->end = pha_ms_to_tstz(end_ms);
	if (query->start_timestamp_ms > query->end_timestamp_ms)
	{
		st->cursor_done = true; /* an empty range: no series */
		MemoryContextSwitchTo(old);
		return;
	}

	pha_matchers_sql(query->matchers, query->n_matchers, pha_replica_label, 1, &m);

	/*
	 * Labels sorted by name bytewise (COLLATE "C" on UTF-8 is byte order);
	 * series ordered as Prometheus' labels.Compare: name, value, name, ...,
	 * shorter set first, which is the byte order of name\0value\0... (no
	 * label holds a NUL).
	 */
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT s.id, l.names, l.vals FROM promscale_ha.series s "
					 "CROSS JOIN LATERAL (SELECT "
					 "pg_catalog.array_agg(e.key ORDER BY e.key COLLATE pg_catalog.\"C\") AS names, "
					 "pg_catalog.array_agg(e.value ORDER BY e.key COLLATE pg_catalog.\"C\") AS vals, "
					 "pg_catalog.string_agg(pg_catalog.convert_to(e.key, 'UTF8') "
					 "OPERATOR(pg_catalog.||) E'\\\\x00'::pg_catalog.bytea "
					 "OPERATOR(pg_catalog.||) pg_catalog.convert_to(e.value, 'UTF8') "
					 "OPERATOR(pg_catalog.||) E'\\\\x00'::pg_catalog.bytea, ''::pg_catalog.bytea "
					 "ORDER BY e.key COLLATE pg_catalog.\"C\") AS sort_key "
					 "FROM pg_catalog.jsonb_each_text(s.labels) e) l "
					 "WHERE %s ORDER BY l.sort_key", m.where.data);
	portal = SPI_cursor_open_with_args(NULL, sql.data, m.nargs, m.types, m.values, NULL,
									   true, CURSOR_OPT_NO_SCROLL);
	if (portal == NULL)
		elog(ERROR, "could not open the series cursor: %s",
			 SPI_result_code_string(SPI_result));
	st->portal = MemoryContextStrdup(st->cxt, portal->name);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->series_cxt);
}

/* A text[] column as C strings with lengths. */
static void
text_array(Datum d, int *n, Datum **elems)
{
	ArrayType  *a = DatumGetArrayTypePCopy(d);	/* out of SPI's memory */
	bool	   *nulls;

	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, elems, &nulls, n);
}

static void load_batch_samples(ReadState *st);

/* Fetch the next batch of series from the cursor, with their samples, into batch_cxt. */
static void
fetch_batch(ReadState *st)
{
	Portal		portal = GetPortalByName(st->portal);
	MemoryContext old;

	if (!PortalIsValid(portal))
		elog(ERROR, "series cursor \"%s\" is gone", st->portal);
	SPI_cursor_fetch(portal, true, pha_read_batch_series);
	MemoryContextReset(st->batch_cxt);
	st->batch_pos = 0;
	st->batch_n = (int) SPI_processed;
	if (SPI_processed == 0)
	{
		st->cursor_done = true;
		close_cursor(st);
		SPI_freetuptable(SPI_tuptable);
		return;
	}
	old = MemoryContextSwitchTo(st->batch_cxt);
	st->batch = palloc(sizeof(SeriesRow) * st->batch_n);
	for (int i = 0; i < st->batch_n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		id = SPI_getbinval(tup, desc, 1, &isnull);
		Datum		names = SPI_getbinval(tup, desc, 2, &isnull);
		Datum		vals;
		Datum	   *ne,
				   *ve;
		int			nn,
					nv;
		SeriesRow  *row = &st->batch[i];

		row->id = DatumGetInt64(id);
		row->n_labels = 0;
		row->labels = NULL;
		row->off = row->n = 0;
		if (isnull)
			continue;			/* labels '{}': cannot be, write() needs __name__ */
		vals = SPI_getbinval(tup, desc, 3, &isnull);
		text_array(names, &nn, &ne);
		text_array(vals, &nv, &ve);
		if (nn != nv)
			elog(ERROR, "series %lld: %d label names, %d values", (long long) row->id, nn, nv);
		row->labels = palloc(sizeof(PhaReadLabel) * Max(nn, 1));
		for (int k = 0; k < nn; k++)
		{
			text	   *tn = DatumGetTextPP(ne[k]);
			text	   *tv = DatumGetTextPP(ve[k]);

			row->labels[k].name = (const uint8_t *) VARDATA_ANY(tn);
			row->labels[k].name_len = VARSIZE_ANY_EXHDR(tn);
			row->labels[k].value = (const uint8_t *) VARDATA_ANY(tv);
			row->labels[k].value_len = VARSIZE_ANY_EXHDR(tv);
		}
		row->n_labels = nn;
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	load_batch_samples(st);
}

/* A batch's series in id order, to find a row's batch position. */
typedef struct SeriesPos
{
	int64		id;
	int			pos;
} SeriesPos;

/*
 * Receives the batch query's rows straight from the executor (no SPI tuple
 * table): each row's batch position, time and value, in arrival order.
 */
typedef struct BatchReceiver
{
	DestReceiver pub;
	ReadState  *st;				/* in_pos/in_t/in_v: per row, arrival order */
	const SeriesPos *index;
	int			nrows;
	int64	   *count;			/* rows per batch position */
	int64		n;
	int64		last_id;		/* rows come mostly grouped by series */
	int			last_pos;
} BatchReceiver;

static int
series_pos_cmp(const void *a, const void *b)
{
	const SeriesPos *x = a;
	const SeriesPos *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static bool
batch_receive(TupleTableSlot *slot, DestReceiver *self)
{
	BatchReceiver *r = (BatchReceiver *) self;
	ReadState  *st = r->st;
	int64		id;

	slot_getallattrs(slot);
	if (slot->tts_isnull[0] || slot->tts_isnull[1] || slot->tts_isnull[2])
		return true;
	id = DatumGetInt64(slot->tts_values[0]);
	if (r->last_pos < 0 || id != r->last_id)
	{
		int			lo = 0,
					hi = r->nrows;

		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (r->index[mid].id < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo >= r->nrows || r->index[lo].id != id)
			elog(ERROR, "samples query returned series %lld, which was not asked for",
				 (long long) id);
		r->last_id = id;
		r->last_pos = r->index[lo].pos;
	}
	if (r->n == st->in_cap)
	{
		int64		cap = st->in_cap * 2;

		if ((Size) cap * sizeof(int64) > MaxAllocHugeSize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("remote-read batch of %d series has too many samples", r->nrows),
					 errhint("Lower promscale_ha.read_batch_series or set promscale_ha.read_max_samples.")));
		st->in_pos = repalloc_huge(st->in_pos, sizeof(int32) * cap);
		st->in_t = repalloc_huge(st->in_t, sizeof(int64) * cap);
		st->in_v = repalloc_huge(st->in_v, sizeof(double) * cap);
		st->in_cap = cap;
	}
	st->in_pos[r->n] = r->last_pos;
	st->in_t[r->n] = pha_tstz_to_ms(DatumGetTimestampTz(slot->tts_values[1]));
	st->in_v[r->n] = DatumGetFloat8(slot->tts_values[2]);	/* the Datum's bits: NaN payloads intact */
	r->count[r->last_pos]++;
	r->n++;
	return true;
}

static void
batch_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
batch_shutdown(DestReceiver *self)
{
}

static void
batch_destroy(DestReceiver *self)
{
}

/* One sample of a series whose rows came out of time order. */
typedef struct TimedValue
{
	int64		t;
	double		v;
	int64		order;			/* arrival, for a stable sort */
} TimedValue;

static int
timed_cmp(const void *a, const void *b)
{
	const TimedValue *x = a;
	const TimedValue *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Sort t/v[0..n) by time, stably (rarely needed: each scan returns time order). */
static void
sort_run(int64 *t, double *v, int64 n)
{
	TimedValue *tv = palloc_extended(sizeof(TimedValue) * n, MCXT_ALLOC_HUGE);

	for (int64 i = 0; i < n; i++)
	{
		tv[i].t = t[i];
		tv[i].v = v[i];
		tv[i].order = i;
	}
	qsort(tv, n, sizeof(TimedValue), timed_cmp);
	for (int64 i = 0; i < n; i++)
	{
		t[i] = tv[i].t;
		v[i] = tv[i].v;
	}
	pfree(tv);
}

/*
 * fetch: the samples in [start, end] of rows[0..nrows), in one query, into
 * arrays *t and *v allocated in cxt, series after series in rows' order;
 * each row's off and n locate its own, sorted by time, one sample per time
 * (the first the query returned).  tcount > 0 bounds the rows the query may
 * return: when it returns that many, nothing is kept and the result is
 * false.  Connected to SPI.
 */
static bool
load_samples(ReadState *st, SeriesRow *rows, int nrows, int64 tcount, MemoryContext cxt,
			 int64 **t, double **v)
{
	static const char *sql =
		"SELECT series_id, time, value FROM promscale_ha.samples "
		"WHERE series_id = ANY($1) AND time >= $2 AND time <= $3";
	Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Datum	   *ids = palloc(sizeof(Datum) * Max(nrows, 1));
	SeriesPos  *index = palloc(sizeof(SeriesPos) * Max(nrows, 1));
	int64	   *start = palloc0(sizeof(int64) * (nrows + 1));
	ParamListInfo params = makeParamList(3);
	SPIExecuteOptions options = {0};
	BatchReceiver r = {0};
	int64	   *ot;
	double	   *ov;
	int			rc;

	if (samples_plan == NULL)
		samples_plan = pha_sql_prepare(sql, 3, types);
	for (int i = 0; i < nrows; i++)
	{
		ids[i] = Int64GetDatum(rows[i].id);
		index[i].id = rows[i].id;
		index[i].pos = i;
	}
	qsort(index, nrows, sizeof(SeriesPos), series_pos_cmp);
	params->params[0].value = PointerGetDatum(construct_array(ids, nrows, INT8OID, sizeof(int64),
															  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	params->params[1].value = TimestampTzGetDatum(st->start);
	params->params[2].value = TimestampTzGetDatum(st->end);
	for (int i = 0; i < 3; i++)
	{
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}

	r.pub.receiveSlot = batch_receive;
	r.pub.rStartup = batch_startup;
	r.pub.rShutdown = batch_shutdown;
	r.pub.rDestroy = batch_destroy;
	r.pub.mydest = DestNone;
	r.st = st;
	r.index = index;
	r.nrows = nrows;
	r.count = palloc0(sizeof(int64) * Max(nrows, 1));
	r.last_pos = -1;
	if (st->in_cap == 0)
	{
		st->in_cap = 8192;
		st->in_pos = MemoryContextAllocHuge(st->cxt, sizeof(int32) * st->in_cap);
		st->in_t = MemoryContextAllocHuge(st->cxt, sizeof(int64) * st->in_cap);
		st->in_v = MemoryContextAllocHuge(st->cxt, sizeof(double) * st->in_cap);
	}
	options.params = params;
	options.read_only = true;
	options.tcount = (uint64) tcount;
	options.dest = (DestReceiver *) &r;
	rc = SPI_execute_plan_extended(samples_plan, &options);
	/* a SELECT into our receiver reports SPI_OK_UTILITY (no tuple table) */
	if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(rc));
	/* SPI returns in its procedure context, which SPI_finish deletes: back to cxt */
	MemoryContextSwitchTo(cxt);
	if (tcount > 0 && SPI_processed >= (uint64) tcount)
	{
		MemoryContextSwitchTo(old);
		return false;
	}

	/* series after series in rows' order, arrival order kept within each */
	for (int i = 0; i < nrows; i++)
		start[i + 1] = start[i] + r.count[i];
	ot = palloc_extended(sizeof(int64) * Max(r.n, 1), MCXT_ALLOC_HUGE);
	ov = palloc_extended(sizeof(double) * Max(r.n, 1), MCXT_ALLOC_HUGE);
	for (int i = 0; i < nrows; i++)
		r.count[i] = start[i];	/* now the next free slot */
	for (int64 k = 0; k < r.n; k++)
	{
		int64		at = r.count[st->in_pos[k]]++;

		ot[at] = st->in_t[k];
		ov[at] = st->in_v[k];
	}

	/* per series: sorted by time (if it came out of order), one sample per time */
	for (int i = 0; i < nrows; i++)
	{
		int64		off = start[i];
		int64		n = start[i + 1] - off;
		int64		out = 0;
		bool		sorted = true;

		for (int64 k = 1; k < n && sorted; k++)
			sorted = ot[off + k] > ot[off + k - 1];
		if (!sorted)
		{
			sort_run(ot + off, ov + off, n);
			for (int64 k = 0; k < n; k++)
			{
				if (out > 0 && ot[off + out - 1] == ot[off + k])
					continue;	/* one sample per time: the first */
				ot[off + out] = ot[off + k];
				ov[off + out] = ov[off + k];
				out++;
			}
			n = out;
		}
		rows[i].off = off;
		rows[i].n = n;
	}
	pfree(r.count);
	pfree(start);
	pfree(index);
	pfree(ids);
	*t = ot;
	*v = ov;
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * The samples of the batch just fetched, in one query bounded by what
 * read_max_samples leaves (plus one, to see it passed); past that the batch
 * is read series by series in next_series.
 */
static void
load_batch_samples(ReadState *st)
{
	int64		tcount = 0;

	if (pha_read_max_samples > 0)
		tcount = Max((int64) pha_read_max_samples - st->samples_total, 0) + 1;
	st->batch_by_series = !load_samples(st, st->batch, st->batch_n, tcount, st->batch_cxt,
										&st->batch_t, &st->batch_v);
}

/*
 * The next series of the current query with samples in its range, into
 * st->cur/t/v/n; false at the end of the query.  Checks the limits and
 * interrupts once per series.
 */
static bool
next_series(ReadState *st)
{
	for (;;)
	{
		SeriesRow  *row;

		CHECK_FOR_INTERRUPTS();
		if (st->batch_pos >= st->batch_n)
		{
			if (st->cursor_done)
				return false;
			fetch_batch(st);
			if (st->batch_n == 0)
				return false;
		}
		row = &st->batch[st->batch_pos++];
		MemoryContextReset(st->series_cxt);
		if (st->batch_by_series)
		{
			int64	   *t;
			double	   *v;

			(void) load_samples(st, row, 1, 0, st->series_cxt, &t, &v);
			st->t = t + row->off;
			st->v = v + row->off;
		}
		else
		{
			st->t = st->batch_t + row->off;
			st->v = st->batch_v + row->off;
		}
		if (row->n > (int64) INT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("series %lld has too many samples", (long long) row->id)));
		st->n = (int) row->n;
		if (st->n == 0)
			continue;
		st->cur = row;
		st->series_total++;
		st->samples_total += st->n;
		if (pha_read_max_series > 0 && st->series_total > pha_read_max_series)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("remote-read request returns more than %d series", pha_read_max_series),
					 errdetail("The limit is promscale_ha.read_max_series, summed over the request's queries."),
					 errhint("Narrow the query's matchers or time range.")));
		if (pha_read_max_samples > 0 && st->samples_total > pha_read_max_samples)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("remote-read request returns more than %d samples", pha_read_max_samples),
					 errdetail("The limit is promscale_ha.read_max_samples, summed over the request's queries."),
					 errhint("Narrow the query's matchers or time range.")));
		return true;
	}
}

/* An error when a response would not fit in a bytea. */
static void
check_size(size_t have, size_t add)
{
	if (add > MaxAllocSize - VARHDRSZ - 64 || have > MaxAllocSize - VARHDRSZ - 64 - add)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("remote-read response is too large"),
				 errdetail("A response of the SAMPLES type is one value, of at most 1 GB."),
				 errhint("Use the STREAMED_XOR_CHUNKS response type, or narrow the query.")));
}

/* encode (SAMPLES): the whole response, snappy-compressed, as one bytea in callcxt. */
static bytea *
samples_response(ReadState *st, MemoryContext callcxt)
{
	StringInfoData resp;
	StringInfoData qbuf;
	MemoryContext old = MemoryContextSwitchTo(st->cxt);
	size_t		bound,
				out_len;
	bytea	   *out;

	initStringInfo(&resp);
	initStringInfo(&qbuf);
	MemoryContextSwitchTo(old);
	for (int q = 0; q < (int) st->req->n_queries; q++)
	{
		resetStringInfo(&qbuf);
		open_query(st, q);
		while (next_series(st))
		{
			size_t		need = pha_read_timeseries_len(st->cur->labels, st->cur->n_labels,
													   st->t, st->v, st->n);
			uint8_t    *end;

			check_size(resp.len + qbuf.len, need + 16);
			enlargeStringInfo(&qbuf, (int) need);
			end = pha_read_put_timeseries((uint8_t *) qbuf.data + qbuf.len, st->cur->labels,
										  st->cur->n_labels, st->t, st->v, st->n);
			qbuf.len = (char *) end - qbuf.data;
			Assert((size_t) qbuf.len <= (size_t) qbuf.maxlen);
		}
		check_size(resp.len, qbuf.len + 16);
		enlargeStringInfo(&resp, (int) pha_read_result_header_len(qbuf.len) + qbuf.len);
		resp.len = (char *) pha_read_put_result_header((uint8_t *) resp.data + resp.len,
													   qbuf.len) - resp.data;
		appendBinaryStringInfo(&resp, qbuf.data, qbuf.len);
	}
	pfree(qbuf.data);

	bound = pha_read_snappy_bound(resp.len);
	check_size(0, bound);
	out = (bytea *) MemoryContextAlloc(callcxt, bound + VARHDRSZ);
	out_len = bound;
	if (!pha_read_snappy((const uint8_t *) resp.data, resp.len, (uint8_t *) VARDATA(out),
						 &out_len))
		elog(ERROR, "snappy compression of %d bytes failed", resp.len);
	SET_VARSIZE(out, out_len + VARHDRSZ);
	pfree(resp.data);
	return out;
}

/* Move the frame being filled to the ready list. */
static void
flush_frame(ReadState *st)
{
	MemoryContext old;
	ReadyFrame *f;

	if (st->frame.len == 0)
		return;
	old = MemoryContextSwitchTo(st->cxt);
	f = palloc(sizeof(ReadyFrame));
	f->series = st->frame.data;
	f->len = st->frame.len;
	f->query = st->frame_query;
	st->ready = lappend(st->ready, f);
	initStringInfo(&st->frame);
	MemoryContextSwitchTo(old);
}

/* Append a chunked_series field (labels + chunks[0..n)) to the frame being filled. */
static void
frame_add(ReadState *st, const PhaReadChunk *chunks, size_t n)
{
	size_t		need = pha_read_chunked_series_len(st->cur->labels, st->cur->n_labels, chunks, n);
	uint8_t    *end;

	enlargeStringInfo(&st->frame, (int) need);
	end = pha_read_put_chunked_series((uint8_t *) st->frame.data + st->frame.len,
									  st->cur->labels, st->cur->n_labels, chunks, n);
	st->frame.len = (char *) end - st->frame.data;
	st->frame_query = st->query;
}

/* encode (STREAMED_XOR_CHUNKS): the current series into frames. */
static void
chunk_series(ReadState *st)
{
	size_t		n_chunks = (st->n + PHA_READ_CHUNK_SAMPLES - 1) / PHA_READ_CHUNK_SAMPLES;
	PhaReadChunk *chunks = MemoryContextAlloc(st->series_cxt, sizeof(PhaReadChunk) * n_chunks);
	size_t		bound = (size_t) pha_read_frame_bytes;
	size_t		labels_len = pha_read_labels_len(st->cur->labels, st->cur->n_labels);
	size_t		whole;
	size_t		i;

	for (i = 0; i < n_chunks; i++)
	{
		size_t		off = i * PHA_READ_CHUNK_SAMPLES;
		size_t		k = Min((size_t) st->n - off, (size_t) PHA_READ_CHUNK_SAMPLES);
		size_t		cap = pha_xor_bound(k);
		uint8_t    *buf = MemoryContextAlloc(st->series_cxt, cap);
		size_t		len;
		PhaCodecStatus rc = pha_xor_encode(st->t + off, st->v + off, k, buf, cap, &len);

		if (rc != PHA_CODEC_OK)
			elog(ERROR, "XOR encoding of series %lld failed (%d)", (long long) st->cur->id,
				 (int) rc);
		chunks[i].min_time_ms = st->t[off];
		chunks[i].max_time_ms = st->t[off + k - 1];
		chunks[i].data = buf;
		chunks[i].len = len;
	}

	whole = pha_read_chunked_series_len(st->cur->labels, st->cur->n_labels, chunks, n_chunks);
	if (st->frame.len > 0 &&
		pha_read_frame_msg_len(st->frame.len + whole, st->query) > bound)
		flush_frame(st);
	if (pha_read_frame_msg_len(whole, st->query) <= bound || n_chunks == 1)
	{
		frame_add(st, chunks, n_chunks);
		return;
	}

	/* too big for one frame: consecutive parts, each as many chunks as fit (one at least) */
	i = 0;
	while (i < n_chunks)
	{
		size_t		body = labels_len + pha_read_chunk_len(&chunks[i]);
		size_t		j = i + 1;

		while (j < n_chunks &&
			   pha_read_frame_msg_len(pha_read_field_len(body + pha_read_chunk_len(&chunks[j])),
									  st->query) <= bound)
			body += pha_read_chunk_len(&chunks[j++]);
		frame_add(st, chunks + i, j - i);
		if (j < n_chunks)
			flush_frame(st);	/* the last part may share its frame with later series */
		i = j;
	}
}

/* Produce frames until one is ready or the response is complete (connected to SPI). */
static void
fill_ready(ReadState *st)
{
	while (st->ready == NIL && st->query < (int) st->req->n_queries)
	{
		if (!st->query_open)
			open_query(st, st->query);
		if (next_series(st))
		{
			chunk_series(st);
			continue;
		}
		flush_frame(st);		/* frames never mix queries */
		st->query_open = false;
		st->query++;
	}
}

/* One ready frame as a bytea in the caller's context, its buffer freed. */
static bytea *
pop_frame(ReadState *st)
{
	ReadyFrame *f = linitial(st->ready);
	size_t		len = pha_read_frame_len(f->len, f->query);
	bytea	   *out = palloc(len + VARHDRSZ);
	uint8_t    *end;

	end = pha_read_put_frame((uint8_t *) VARDATA(out), (const uint8_t *) f->series, f->len,
							 f->query);
	Assert(end == (uint8_t *) VARDATA(out) + len);
	(void) end;
	SET_VARSIZE(out, len + VARHDRSZ);
	st->ready = list_delete_first(st->ready);
	pfree(f->series);
	pfree(f);
	return out;
}

static Datum
make_row(FuncCallContext *funcctx, const char *kind, bytea *body)
{
	Datum		values[2];
	bool		nulls[2] = {false, false};

	values[0] = CStringGetTextDatum(kind);
	values[1] = PointerGetDatum(body);
	return HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls));
}

Datum
pha_read(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	ReadState  *st;
	MemoryContext callcxt = CurrentMemoryContext;
	bytea	   *body = NULL;

	if (SRF_IS_FIRSTCALL())
	{
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
		bytea	   *request = PG_GETARG_BYTEA_PP(0);
		MemoryContext old;
		TupleDesc	desc;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "read() must return a composite type");
		funcctx->tuple_desc = BlessTupleDesc(desc);
		st = palloc0(sizeof(ReadState));
		st->cxt = AllocSetContextCreate(funcctx->multi_call_memory_ctx,
										"promscale_ha read", ALLOCSET_DEFAULT_SIZES);
		st->batch_cxt = AllocSetContextCreate(st->cxt, "promscale_ha read batch",
											  ALLOCSET_DEFAULT_SIZES);
		st->series_cxt = AllocSetContextCreate(st->cxt, "promscale_ha read series",
											   ALLOCSET_DEFAULT_SIZES);
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(st->cxt);
		initStringInfo(&st->frame);
		decode_request(st, request);
		MemoryContextSwitchTo(old);
		if (rsinfo && IsA(rsinfo, ReturnSetInfo) && rsinfo->econtext)
		{
			st->econtext = rsinfo->econtext;
			RegisterExprContextCallback(st->econtext, read_shutdown, PointerGetDatum(st));
			st->registered = true;
		}
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;

	if (st->type == PHA_READ_SAMPLES)
	{
		if (funcctx->call_cntr == 0)
		{
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			body = samples_response(st, callcxt);
			SPI_finish();
			MemoryContextSwitchTo(callcxt);
			SRF_RETURN_NEXT(funcctx, make_row(funcctx, "samples", body));
		}
	}
	else
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		fill_ready(st);
		SPI_finish();
		MemoryContextSwitchTo(callcxt);
		if (st->ready != NIL)
		{
			body = pop_frame(st);
			SRF_RETURN_NEXT(funcctx, make_row(funcctx, "chunks", body));
		}
	}

	close_cursor(st);
	if (st->registered)
	{
		UnregisterExprContextCallback(st->econtext, read_shutdown, PointerGetDatum(st));
		st->registered = false;
	}
	SRF_RETURN_DONE(funcctx);
}
