/*-------------------------------------------------------------------------
 *
 * late.c
 *	  Samples for compressed time: a write() may bring samples older than the
 *	  head (a leader's backfill, an old leader's late data for its own
 *	  period, a retried request).  They are stored in a head partition made
 *	  for their range, which the worker compresses again later, merging into
 *	  the chunks; those that a chunk holds already are dropped here first,
 *	  so a (series, time) is stored once and the first value wins.
 *
 * The horizon -- the end of the newest compressed range -- is cached per
 * backend and forgotten on any relcache invalidation of samples_head (every
 * compression drops a partition of it) and at abort.  Rows at or after it
 * cost one compare each.  Rows before it: one query for the chunks of their
 * series that overlap their time span (an index range scan on chunks_pkey,
 * bounded by the chunks' one-day span), decoded and merge-walked against the
 * rows sorted by (series, time).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "sql.h"
#include "store/chunk_io.h"
#include "store/late.h"
#include "schema.h"
#include "timeconv.h"

static bool horizon_known = false;
static int64 horizon = PG_INT64_MIN;

static void
late_relcache_cb(Datum arg, Oid relid)
{
	/* any relation: cheap to reload, and samples_head's OID may be new */
	horizon_known = false;
}

static void
late_xact_cb(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		horizon_known = false;
}

void
pha_late_init(void)
{
	CacheRegisterRelcacheCallback(late_relcache_cb, (Datum) 0);
	RegisterXactCallback(late_xact_cb, NULL);
}

int64
pha_late_horizon(void)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;
	Datum		d;

	if (horizon_known)
		return horizon;
	if (!pha_store_has_chunks())
	{
		/* a database still at 0.1.0: nothing is compressed */
		horizon = PG_INT64_MIN;
		horizon_known = true;
		return horizon;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pha_sql_run(&plan, "SELECT max(range_end) FROM promscale_ha.compressed_ranges",
				0, NULL, NULL, NULL, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	horizon = isnull ? PG_INT64_MIN : pha_tstz_to_ms(DatumGetTimestampTz(d));
	SPI_finish();
	horizon_known = true;
	return horizon;
}

static PhaRows *sort_rows;

/* qsort order of row indexes: (series_id, time) */
static int
cmp_idx(const void *a, const void *b)
{
	int			i = *(const int *) a;
	int			j = *(const int *) b;

	if (sort_rows->series_id[i] != sort_rows->series_id[j])
		return sort_rows->series_id[i] < sort_rows->series_id[j] ? -1 : 1;
	if (sort_rows->time_ms[i] != sort_rows->time_ms[j])
		return sort_rows->time_ms[i] < sort_rows->time_ms[j] ? -1 : 1;
	return 0;
}

/*
 * Mark (in dup) the late rows, idx[0..nlate) sorted by (series, time), that
 * the chunk c of series s holds.
 */
static void
mark_in_chunk(const PhaRows *rows, const int *idx, int nlate, int64 s,
			  const PhaChunkSamples *c, bool *dup)
{
	int			lo = 0,
				hi = nlate;
	int			j = 0;

	/* first late row at or after (s, t[0]) */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;
		int			r = idx[mid];

		if (rows->series_id[r] < s || (rows->series_id[r] == s && rows->time_ms[r] < c->t[0]))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int p = lo; p < nlate; p++)
	{
		int			r = idx[p];
		int64		t = rows->time_ms[r];

		if (rows->series_id[r] != s || t > c->t[c->n - 1])
			break;
		while (j < c->n && c->t[j] < t)
			j++;
		if (j < c->n && c->t[j] == t)
			dup[r] = true;
	}
}

void
pha_late_drop_stored(PhaRows *rows)
{
	static SPIPlanPtr plan = NULL;
	int64		h = pha_late_horizon();
	int		   *idx;
	int			nlate = 0;
	Datum	   *ids;
	int			nids = 0;
	int64		tmin = PG_INT64_MAX,
				tmax = PG_INT64_MIN;
	bool	   *dup;
	Datum		args[3];
	Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	MemoryContext cxt,
				old;
	int			k;

	if (h == PG_INT64_MIN)
		return;
	idx = palloc(rows->n * sizeof(int));
	for (int i = 0; i < rows->n; i++)
		if (rows->time_ms[i] < h)
			idx[nlate++] = i;
	if (nlate == 0)
	{
		pfree(idx);
		return;
	}

	sort_rows = rows;
	qsort(idx, nlate, sizeof(int), cmp_idx);
	ids = palloc(nlate * sizeof(Datum));
	for (int p = 0; p < nlate; p++)
	{
		int			r = idx[p];

		if (nids == 0 || DatumGetInt64(ids[nids - 1]) != rows->series_id[r])
			ids[nids++] = Int64GetDatum(rows->series_id[r]);
		tmin = Min(tmin, rows->time_ms[r]);
		tmax = Max(tmax, rows->time_ms[r]);
	}
	args[0] = PointerGetDatum(construct_array(ids, nids, INT8OID, 8, true, TYPALIGN_DOUBLE));
	args[1] = pha_ms_datum(tmin);
	args[2] = pha_ms_datum(tmax);
	dup = palloc0(rows->n * sizeof(bool));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pha_sql_run(&plan, "SELECT series_id, min_time, max_time, samples, data FROM promscale_ha.chunks"
				" WHERE series_id = ANY($1) AND max_time >= $2"
				"   AND max_time < $3 + interval '1 day' AND min_time <= $3"
				" ORDER BY series_id, max_time",
				3, types, args, NULL, SPI_OK_SELECT);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "promscale_ha late check",
								ALLOCSET_DEFAULT_SIZES);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		s = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
		int64		lo = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tup, td, 2, &isnull)));
		int64		hi = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tup, td, 3, &isnull)));
		int			n = DatumGetInt32(SPI_getbinval(tup, td, 4, &isnull));
		PhaChunkSamples c;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(cxt);
		pha_chunk_read(DatumGetByteaPP(SPI_getbinval(tup, td, 5, &isnull)), s, lo, hi, n, &c);
		mark_in_chunk(rows, idx, nlate, s, &c, dup);
		MemoryContextSwitchTo(old);
		MemoryContextReset(cxt);
	}
	MemoryContextDelete(cxt);
	SPI_finish();

	k = 0;
	for (int i = 0; i < rows->n; i++)
	{
		if (dup[i])
			continue;
		rows->series_id[k] = rows->series_id[i];
		rows->time_ms[k] = rows->time_ms[i];
		rows->value[k] = rows->value[i];
		k++;
	}
	rows->n = k;
	pfree(dup);
	pfree(ids);
	pfree(idx);
}
