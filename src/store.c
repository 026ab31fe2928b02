/*-------------------------------------------------------------------------
 *
 * store.c
 *	  Batched insert of one request's samples into promscale_ha.samples.
 *
 * All rows of a request go in one statement: INSERT ... SELECT FROM unnest()
 * of three arrays with ON CONFLICT DO NOTHING against the unique index on
 * (series_id, time).  That gives "a (series, time) pair is stored once, the
 * first value wins" with no window for races: speculative insertion resolves
 * concurrent inserts of the same key without errors or deadlocks.  The
 * measured cost of the alternatives is in README.md ("Storage choices").
 *
 * Values travel as float8 Datums and are stored as their 8 bytes, so NaN
 * payloads (the Prometheus stale marker) stay bit-exact.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include "partition.h"
#include "store.h"
#include "timeconv.h"

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr newest_plan = NULL;

void
pha_rows_init(PhaRows *rows, int capacity)
{
	capacity = Max(capacity, 16);
	rows->series_id = palloc(capacity * sizeof(int64));
	rows->time_ms = palloc(capacity * sizeof(int64));
	rows->value = palloc(capacity * sizeof(double));
	rows->n = 0;
	rows->max = capacity;
}

void
pha_rows_add(PhaRows *rows, int64 series_id, int64 time_ms, double value)
{
	if (rows->n == rows->max)
	{
		rows->max *= 2;
		rows->series_id = repalloc_huge(rows->series_id, rows->max * sizeof(int64));
		rows->time_ms = repalloc_huge(rows->time_ms, rows->max * sizeof(int64));
		rows->value = repalloc_huge(rows->value, rows->max * sizeof(double));
	}
	rows->series_id[rows->n] = series_id;
	rows->time_ms[rows->n] = time_ms;
	rows->value[rows->n] = value;
	rows->n++;
}

Oid
pha_samples_relid(void)
{
	Oid			nsp = get_namespace_oid("promscale_ha", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("samples", nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table promscale_ha.samples does not exist"),
				 errhint("Run CREATE EXTENSION promscale_ha.")));
	return relid;
}

int64
pha_store_rows(PhaRows *rows)
{
	Datum	   *ids;
	Datum	   *times;
	Datum	   *values;
	Datum		args[3];
	int			rc;
	int64		stored;

	if (rows->n == 0)
		return 0;
	pha_partitions_ensure(pha_samples_relid(), rows->time_ms, rows->n);

	/* int8 and float8 are pass-by-value: the Datum arrays are the data */
	ids = palloc(rows->n * sizeof(Datum));
	times = palloc(rows->n * sizeof(Datum));
	values = palloc(rows->n * sizeof(Datum));
	for (int i = 0; i < rows->n; i++)
	{
		ids[i] = Int64GetDatum(rows->series_id[i]);
		times[i] = TimestampTzGetDatum(pha_ms_to_tstz(rows->time_ms[i]));
		values[i] = Float8GetDatum(rows->value[i]);
	}
	args[0] = PointerGetDatum(construct_array(ids, rows->n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(times, rows->n, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(values, rows->n, FLOAT8OID, 8, true, TYPALIGN_DOUBLE));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (insert_plan == NULL)
	{
		Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZARRAYOID, FLOAT8ARRAYOID};

		insert_plan = SPI_prepare("INSERT INTO promscale_ha.samples (series_id, time, value)"
								  " SELECT * FROM unnest($1, $2, $3)"
								  " ON CONFLICT DO NOTHING", 3, types);
		if (insert_plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(insert_plan);
	}
	rc = SPI_execute_plan(insert_plan, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "samples insert failed: %s", SPI_result_code_string(rc));
	stored = (int64) SPI_processed;
	SPI_finish();
	return stored;
}

int64 *
pha_store_newest(const int64 *ids, const bool *want, int n, int64 from_ms)
{
	int64	   *newest = palloc(Max(n, 1) * sizeof(int64));
	int		   *pos = palloc(Max(n, 1) * sizeof(int));
	Datum	   *d = palloc(Max(n, 1) * sizeof(Datum));
	int			m = 0;
	Datum		args[2];
	int			rc;

	for (int i = 0; i < n; i++)
	{
		newest[i] = PG_INT64_MIN;
		if (want[i])
		{
			pos[m] = i;
			d[m++] = Int64GetDatum(ids[i]);
		}
	}
	if (m == 0)
		return newest;
	args[0] = PointerGetDatum(construct_array(d, m, INT8OID, 8, true, TYPALIGN_DOUBLE));
	args[1] = TimestampTzGetDatum(pha_ms_to_tstz(from_ms));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (newest_plan == NULL)
	{
		Oid			types[2] = {INT8ARRAYOID, TIMESTAMPTZOID};

		/* one index probe per series, on the partitions from $2 on only */
		newest_plan = SPI_prepare("SELECT s.ord::int4, (SELECT max(time) FROM promscale_ha.samples"
								  "   WHERE series_id = s.id AND time >= $2)"
								  " FROM unnest($1) WITH ORDINALITY AS s(id, ord)", 2, types);
		if (newest_plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(newest_plan);
	}
	rc = SPI_execute_plan(newest_plan, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "newest-sample lookup failed: %s", SPI_result_code_string(rc));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int			ord = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
													  1, &isnull));
		Datum		t = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull && ord >= 1 && ord <= m)
			newest[pos[ord - 1]] = pha_tstz_to_ms(DatumGetTimestampTz(t));
	}
	SPI_finish();
	return newest;
}
