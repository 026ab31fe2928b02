/*-------------------------------------------------------------------------
 *
 * compress_job.h
 *	  The background worker's compression duty.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_COMPRESS_JOB_H
#define PHA_COMPRESS_JOB_H

#include "postgres.h"

#include "datatype/timestamp.h"

/*
 * Compress head partitions that ended promscale_ha.compress_after ago or
 * earlier, oldest first, one transaction each, at most
 * promscale_ha.compress_batch of them; record progress and lag for
 * promscale_ha.stats.  Runs its own transactions; returns how many.
 */
extern int	pha_job_compress(TimestampTz now);

#endif							/* PHA_COMPRESS_JOB_H */
