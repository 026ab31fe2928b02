/*-------------------------------------------------------------------------
 *
 * delete.c
 *	  Deleting samples from both tiers: rows of the head with a DELETE,
 *	  chunks by taking them out, dropping the samples in the range and
 *	  writing back what is left (in the chunk's own format).
 *
 * Locks: the DELETE on samples_head takes RowExclusiveLock on the
 * partitions, which waits for (and holds back) a compression of them; the
 * chunks are taken out with DELETE ... RETURNING, whose row locks serialize
 * with a compression merging the same chunks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "sql.h"
#include "store/chunk_io.h"
#include "store/delete.h"
#include "timeconv.h"

/* Write back the samples of chunk c outside [start, end); returns how many were dropped. */
static int64
rewrite_chunk(int64 sid, const bytea *data, const PhaChunkSamples *c, int64 start, int64 end)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, BYTEAOID};
	int			format = ((const uint8 *) VARDATA_ANY(data))[0];
	int64	   *t = palloc(c->n * sizeof(int64));
	double	   *v = palloc(c->n * sizeof(double));
	int			k = 0;
	int			off = 0;

	for (int i = 0; i < c->n; i++)
	{
		if (c->t[i] >= start && c->t[i] < end)
			continue;
		t[k] = c->t[i];
		v[k++] = c->v[i];
	}
	while (off < k)
	{
		int			m = pha_chunk_cut(t + off, k - off, format);
		Datum		args[5];

		args[0] = Int64GetDatum(sid);
		args[1] = pha_ms_datum(t[off]);
		args[2] = pha_ms_datum(t[off + m - 1]);
		args[3] = Int32GetDatum(m);
		args[4] = PointerGetDatum(pha_chunk_write(format, t + off, v + off, m));
		pha_sql_run(&plan, "INSERT INTO promscale_ha.chunks (series_id, min_time, max_time,"
					" samples, data) VALUES ($1, $2, $3, $4, $5)",
					5, types, args, NULL, SPI_OK_INSERT);
		off += m;
	}
	return c->n - k;
}

int64
pha_delete_samples(ArrayType *series_ids, int64 start_ms, int64 end_ms)
{
	static SPIPlanPtr head_plan = NULL;
	static SPIPlanPtr chunk_plan = NULL;
	Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[3];
	int64		deleted;
	SPITupleTable *tt;
	uint64		nchunks;
	MemoryContext cxt;

	if (start_ms >= end_ms)
		return 0;
	args[0] = PointerGetDatum(series_ids);
	args[1] = pha_ms_datum(start_ms);
	args[2] = pha_ms_datum(end_ms);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pha_sql_run(&head_plan, "DELETE FROM promscale_ha.samples_head"
				" WHERE series_id = ANY($1) AND time >= $2 AND time < $3",
				3, types, args, NULL, SPI_OK_DELETE);
	deleted = (int64) SPI_processed;
	pha_sql_run(&chunk_plan, "DELETE FROM promscale_ha.chunks"
				" WHERE series_id = ANY($1) AND max_time >= $2 AND min_time < $3"
				" RETURNING series_id, min_time, max_time, samples, data",
				3, types, args, NULL, SPI_OK_DELETE_RETURNING);
	tt = SPI_tuptable;
	nchunks = SPI_processed;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "promscale_ha delete", ALLOCSET_DEFAULT_SIZES);
	for (uint64 r = 0; r < nchunks; r++)
	{
		HeapTuple	tup = tt->vals[r];
		bool		isnull;
		int64		sid = DatumGetInt64(SPI_getbinval(tup, tt->tupdesc, 1, &isnull));
		int64		lo = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tup, tt->tupdesc, 2, &isnull)));
		int64		hi = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tup, tt->tupdesc, 3, &isnull)));
		int			n = DatumGetInt32(SPI_getbinval(tup, tt->tupdesc, 4, &isnull));
		bytea	   *data = DatumGetByteaPP(SPI_getbinval(tup, tt->tupdesc, 5, &isnull));
		MemoryContext old = MemoryContextSwitchTo(cxt);
		PhaChunkSamples c;

		CHECK_FOR_INTERRUPTS();
		pha_chunk_read(data, sid, lo, hi, n, &c);
		deleted += rewrite_chunk(sid, data, &c, start_ms, end_ms);
		MemoryContextSwitchTo(old);
		MemoryContextReset(cxt);
	}
	MemoryContextDelete(cxt);
	SPI_finish();
	return deleted;
}
