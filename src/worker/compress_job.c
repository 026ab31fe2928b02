/*-------------------------------------------------------------------------
 *
 * compress_job.c
 *	  The background worker's compression duty: bounded batches of
 *	  store/compress.c, one head partition per transaction.
 *
 * A batch is at most promscale_ha.compress_batch partitions, oldest first;
 * what is left waits for the next run (housekeeping_interval).  A partition
 * whose locks cannot be had within compress_lock_timeout (a long write into
 * it, or a long read of it) fails that transaction alone and is tried again
 * next run.  A kill at any moment loses nothing: the partition
 * and its chunks change in one transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "sql.h"
#include "stats.h"
#include "store/compress.h"
#include "store/store.h"
#include "timeconv.h"
#include "worker/compress_job.h"

int
pha_job_compress(TimestampTz now)
{
	int64		cutoff;
	int			done = 0;
	int64		oldest;
	MemoryContext caller;

	if (pha_compress_after_s < 0)
		return 0;
	caller = pha_xact_begin("promscale_ha: compression check");
	if (!pha_store_has_chunks())
	{
		pha_xact_end(caller);
		return 0;				/* the database is still at 0.1.0 */
	}
	pha_xact_end(caller);
	cutoff = pha_tstz_to_ms(now) - (int64) pha_compress_after_s * 1000;
	while (done < pha_compress_batch)
	{
		PhaCompressed res;
		char		lo_str[MAXDATELEN + 1];
		int			n;

		caller = pha_xact_begin("promscale_ha: compress a head partition");
		n = pha_compress_older_than(cutoff, 1, &res);
		if (n > 0)
			pha_stats_compressed(res.samples, res.bytes_before, res.bytes_after);
		pha_xact_end(caller);
		if (n == 0)
			break;
		/* timestamptz_to_str returns a static buffer: copy the first */
		strlcpy(lo_str, timestamptz_to_str(pha_ms_to_tstz(res.lo)), sizeof(lo_str));
		ereport(LOG,
				(errmsg("promscale_ha: compressed %s .. %s: %lld samples, %lld bytes -> %lld",
						lo_str,
						timestamptz_to_str(pha_ms_to_tstz(res.hi)),
						(long long) res.samples, (long long) res.bytes_before,
						(long long) res.bytes_after)));
		done++;
	}

	/* lag: how far the oldest head partition is past its compression time */
	caller = pha_xact_begin("promscale_ha: compression lag");
	oldest = pha_compress_oldest_head_end();
	pha_xact_end(caller);
	pha_stats_compress_run(now, oldest == PG_INT64_MAX || oldest > cutoff
						   ? 0 : (cutoff - oldest) / 1000);
	return done;
}
