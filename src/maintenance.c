/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *	  SQL entry points of storage maintenance: compress_now(), and the
 *	  trigger that answers DELETE/UPDATE through the samples view.
 *
 * Both entry points refuse a read-only transaction first (sql.c), before
 * any chunk is read or written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "sql.h"
#include "stats.h"
#include "store/compress.h"
#include "store/delete.h"
#include "timeconv.h"

PG_FUNCTION_INFO_V1(pha_compress_now);
PG_FUNCTION_INFO_V1(pha_samples_delete_refused);
PG_FUNCTION_INFO_V1(pha_delete_samples_sql);

/* Most partitions one call compresses: every one a year of 2-hour ones holds. */
#define COMPRESS_NOW_MAX 8784

/*
 * promscale_ha.compress_now(older_than): compress, in the caller's
 * transaction, every head partition that ended before now() - older_than.
 */
Datum
pha_compress_now(PG_FUNCTION_ARGS)
{
	Interval   *older = PG_GETARG_INTERVAL_P(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz cutoff;
	PhaCompressed *res;
	int			n;

	pha_require_read_write("promscale_ha.compress_now()");
	InitMaterializedSRF(fcinfo, 0);
	cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													 TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
													 IntervalPGetDatum(older)));
	res = palloc(COMPRESS_NOW_MAX * sizeof(PhaCompressed));
	n = pha_compress_older_than(pha_tstz_to_ms(cutoff), COMPRESS_NOW_MAX, res);
	for (int i = 0; i < n; i++)
	{
		Datum		v[6];
		bool		nulls[6] = {0};

		pha_stats_compressed(res[i].samples, res[i].bytes_before, res[i].bytes_after);
		v[0] = pha_ms_datum(res[i].lo);
		v[1] = pha_ms_datum(res[i].hi);
		v[2] = Int64GetDatum(res[i].samples);
		v[3] = Int64GetDatum(res[i].chunks);
		v[4] = Int64GetDatum(res[i].bytes_before);
		v[5] = Int64GetDatum(res[i].bytes_after);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

/* INSTEAD OF DELETE/UPDATE on promscale_ha.samples: say how to delete. */
Datum
pha_samples_delete_refused(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "pha_samples_delete_refused: not called as a trigger");
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("promscale_ha.samples cannot be changed by DELETE or UPDATE"),
			 errdetail("It is a view over the head (promscale_ha.samples_head) and the compressed chunks (promscale_ha.chunks)."),
			 errhint("Use promscale_ha.delete_samples(series_ids, start, end), or promscale_ha.retention to drop old data.")));
	PG_RETURN_NULL();
}

/*
 * promscale_ha.delete_samples(series_ids, start, end): delete those series'
 * samples with start <= time < end from the head and the chunks.
 */
Datum
pha_delete_samples_sql(PG_FUNCTION_ARGS)
{
	ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(0);
	TimestampTz start = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz end = PG_GETARG_TIMESTAMPTZ(2);

	pha_require_read_write("promscale_ha.delete_samples()");
	if (array_contains_nulls(ids))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("series_ids must not contain NULL")));
	PG_RETURN_INT64(pha_delete_samples(ids, pha_tstz_to_ms_ceil(start), pha_tstz_to_ms_ceil(end)));
}
