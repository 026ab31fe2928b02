/*-------------------------------------------------------------------------
 *
 * stats.h
 *	  Counters of promscale_ha.stats, kept in shared memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_STATS_H
#define PHA_STATS_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* What one write() did, by sample; summed into promscale_ha.stats at commit. */
typedef struct PhaCounts
{
	int64		samples_received;
	int64		samples_written;
	int64		samples_deduplicated;
	int32		series_created;
	int64		samples_already_stored;
	int64		samples_future_dropped;
	int64		samples_replayed;
	int64		exemplars_ignored;
	int64		histograms_ignored;
	int64		metadata_ignored;
} PhaCounts;

extern void pha_stats_init(void);

/*
 * Where the column tracked_replicas_overflow of promscale_ha.stats comes
 * from (ha/cluster_stats.c registers it at load; 0 until then).
 */
extern void pha_stats_set_overflow_reader(int64 (*reader) (void));

/* Count what a request stored, and a write() call's outcome (applied at commit). */
extern void pha_stats_samples(const PhaCounts *c);
extern void pha_stats_request(const char *outcome);
extern void pha_stats_leader_change(void);

/* Samples compressed and the bytes before and after (applied at commit). */
extern void pha_stats_compressed(int64 samples, int64 bytes_before, int64 bytes_after);

/* The worker's last compression run and how far behind compress_after it is. */
extern void pha_stats_compress_run(TimestampTz at, int64 lag_s);

/* One cycle of the worker: its failure, if any, and its memory. */
typedef struct PhaWorkerRun
{
	const char *error;			/* "task: message" of the last failed task, or NULL */
	const char *sqlstate;		/* its SQLSTATE, five characters */
	const char *detail;			/* its errdetail, or NULL */
	int64		memory_top;		/* bytes TopMemoryContext itself holds */
	int64		memory_total;	/* bytes of every memory context */
} PhaWorkerRun;

/* The worker's bookkeeping after each cycle (immediate, not transactional). */
extern void pha_stats_worker_run(const PhaWorkerRun *run);

#endif							/* PHA_STATS_H */
