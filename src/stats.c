/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  Counters of promscale_ha.stats: samples and requests by outcome,
 *	  leader changes, compression, worker runs and its last error.
 *
 * A backend adds to local pending counters while it writes and moves them
 * to the shared atomics (shmem.c) at commit, so aborted writes count for
 * nothing.  Without shared_preload_libraries the counters are not kept.
 * The column tracked_replicas_overflow (0.3.0) is read from ha/cluster_stats.c
 * through the function it registers at load (that file is a layer up).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "shmem.h"
#include "stats.h"

typedef struct Pending
{
	uint64		samples_written;
	uint64		samples_deduplicated;
	uint64		samples_future_dropped;
	uint64		samples_already_stored;
	uint64		samples_replayed;
	uint64		requests_stored;
	uint64		requests_deduplicated;
	uint64		requests_partial;
	uint64		requests_empty;
	uint64		leader_changes;
	uint64		samples_compressed;
	uint64		compress_bytes_before;
	uint64		compress_bytes_after;
} Pending;

static Pending pending;
static bool has_pending = false;

/* ha/cluster_stats.c's count of updates its full table dropped (0.3.0 column) */
static int64 (*overflow_reader) (void) = NULL;

PG_FUNCTION_INFO_V1(pha_stats);

/* Columns of promscale_ha.stats() in this version, and room for them. */
#define PHA_STATS_COLUMNS 25
#define PHA_STATS_MAX_COLUMNS 32

static void
stats_xact_cb(XactEvent event, void *arg)
{
	PhaCounters *c;

	if (!has_pending)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		c = &pha_shared->counters;
		pg_atomic_fetch_add_u64(&c->samples_written, pending.samples_written);
		pg_atomic_fetch_add_u64(&c->samples_deduplicated, pending.samples_deduplicated);
		pg_atomic_fetch_add_u64(&c->samples_future_dropped, pending.samples_future_dropped);
		pg_atomic_fetch_add_u64(&c->samples_already_stored, pending.samples_already_stored);
		pg_atomic_fetch_add_u64(&c->samples_replayed, pending.samples_replayed);
		pg_atomic_fetch_add_u64(&c->requests_stored, pending.requests_stored);
		pg_atomic_fetch_add_u64(&c->requests_deduplicated, pending.requests_deduplicated);
		pg_atomic_fetch_add_u64(&c->requests_partial, pending.requests_partial);
		pg_atomic_fetch_add_u64(&c->requests_empty, pending.requests_empty);
		pg_atomic_fetch_add_u64(&c->leader_changes, pending.leader_changes);
		pg_atomic_fetch_add_u64(&c->samples_compressed, pending.samples_compressed);
		pg_atomic_fetch_add_u64(&c->compress_bytes_before, pending.compress_bytes_before);
		pg_atomic_fetch_add_u64(&c->compress_bytes_after, pending.compress_bytes_after);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		memset(&pending, 0, sizeof(pending));
		has_pending = false;
	}
}

void
pha_stats_init(void)
{
	RegisterXactCallback(stats_xact_cb, NULL);
}

void
pha_stats_set_overflow_reader(int64 (*reader) (void))
{
	overflow_reader = reader;
}

void
pha_stats_samples(const PhaCounts *c)
{
	if (pha_shared == NULL)
		return;
	pending.samples_written += c->samples_written;
	pending.samples_deduplicated += c->samples_deduplicated;
	pending.samples_future_dropped += c->samples_future_dropped;
	pending.samples_already_stored += c->samples_already_stored;
	pending.samples_replayed += c->samples_replayed;
	has_pending = true;
}

void
pha_stats_request(const char *outcome)
{
	if (pha_shared == NULL)
		return;
	if (strcmp(outcome, "stored") == 0)
		pending.requests_stored++;
	else if (strcmp(outcome, "deduplicated") == 0)
		pending.requests_deduplicated++;
	else if (strcmp(outcome, "partial") == 0)
		pending.requests_partial++;
	else
		pending.requests_empty++;
	has_pending = true;
}

void
pha_stats_leader_change(void)
{
	if (pha_shared == NULL)
		return;
	pending.leader_changes++;
	has_pending = true;
}

void
pha_stats_compressed(int64 samples, int64 bytes_before, int64 bytes_after)
{
	if (pha_shared == NULL)
		return;
	pending.samples_compressed += samples;
	pending.compress_bytes_before += bytes_before;
	pending.compress_bytes_after += bytes_after;
	has_pending = true;
}

void
pha_stats_compress_run(TimestampTz at, int64 lag_s)
{
	LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
	pha_shared->compress_last_run = at;
	pha_shared->compress_lag_s = lag_s;
	LWLockRelease(pha_shared->lock);
}

void
pha_stats_worker_run(const PhaWorkerRun *run)
{
	TimestampTz now = GetCurrentTimestamp();

	pg_atomic_fetch_add_u64(&pha_shared->counters.worker_runs, 1);
	LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
	pha_shared->worker_pid = MyProcPid;
	pha_shared->worker_last_run = now;
	pha_shared->worker_memory_top = run->memory_top;
	pha_shared->worker_memory_total = run->memory_total;
	if (run->error)
	{
		pha_shared->worker_last_error_at = now;
		strlcpy(pha_shared->worker_last_error, run->error, sizeof(pha_shared->worker_last_error));
		strlcpy(pha_shared->worker_last_error_sqlstate, run->sqlstate ? run->sqlstate : "",
				sizeof(pha_shared->worker_last_error_sqlstate));
		strlcpy(pha_shared->worker_last_error_detail, run->detail ? run->detail : "",
				sizeof(pha_shared->worker_last_error_detail));
	}
	LWLockRelease(pha_shared->lock);
}

/* promscale_ha.stats(): one row of counters. */
Datum
pha_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	PhaCounters *c;
	Datum		v[PHA_STATS_MAX_COLUMNS];
	bool		nulls[PHA_STATS_MAX_COLUMNS] = {0};
	TimestampTz last_run,
				last_error_at;
	char		last_error[256];
	char		last_sqlstate[6];
	char		last_detail[256];
	int64		mem_top,
				mem_total;
	TimestampTz compress_last_run;
	int64		compress_lag_s;
	int			pid;

	pha_shmem_require("promscale_ha.stats()");
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	c = &pha_shared->counters;
	LWLockAcquire(pha_shared->lock, LW_SHARED);
	pid = pha_shared->worker_pid;
	last_run = pha_shared->worker_last_run;
	last_error_at = pha_shared->worker_last_error_at;
	strlcpy(last_error, pha_shared->worker_last_error, sizeof(last_error));
	strlcpy(last_sqlstate, pha_shared->worker_last_error_sqlstate, sizeof(last_sqlstate));
	strlcpy(last_detail, pha_shared->worker_last_error_detail, sizeof(last_detail));
	mem_top = pha_shared->worker_memory_top;
	mem_total = pha_shared->worker_memory_total;
	compress_last_run = pha_shared->compress_last_run;
	compress_lag_s = pha_shared->compress_lag_s;
	LWLockRelease(pha_shared->lock);

	v[0] = Int64GetDatum((int64) pg_atomic_read_u64(&c->samples_written));
	v[1] = Int64GetDatum((int64) pg_atomic_read_u64(&c->samples_deduplicated));
	v[2] = Int64GetDatum((int64) pg_atomic_read_u64(&c->samples_future_dropped));
	v[3] = Int64GetDatum((int64) pg_atomic_read_u64(&c->samples_already_stored));
	v[4] = Int64GetDatum((int64) pg_atomic_read_u64(&c->samples_replayed));
	v[5] = Int64GetDatum((int64) pg_atomic_read_u64(&c->requests_stored));
	v[6] = Int64GetDatum((int64) pg_atomic_read_u64(&c->requests_deduplicated));
	v[7] = Int64GetDatum((int64) pg_atomic_read_u64(&c->requests_partial));
	v[8] = Int64GetDatum((int64) pg_atomic_read_u64(&c->requests_empty));
	v[9] = Int64GetDatum((int64) pg_atomic_read_u64(&c->leader_changes));
	v[10] = Int64GetDatum((int64) pg_atomic_read_u64(&c->worker_runs));
	v[11] = Int32GetDatum(pid);
	nulls[11] = (pid == 0);
	v[12] = TimestampTzGetDatum(last_run);
	nulls[12] = (last_run == 0);
	v[13] = CStringGetTextDatum(last_error);
	nulls[13] = (last_error[0] == '\0');
	v[14] = TimestampTzGetDatum(last_error_at);
	nulls[14] = (last_error_at == 0);
	/* added in 0.2.0 */
	v[15] = CStringGetTextDatum(last_sqlstate);
	nulls[15] = (last_sqlstate[0] == '\0');
	v[16] = CStringGetTextDatum(last_detail);
	nulls[16] = (last_detail[0] == '\0');
	v[17] = Int64GetDatum(mem_top);
	nulls[17] = (pid == 0);
	v[18] = Int64GetDatum(mem_total);
	nulls[18] = (pid == 0);
	v[19] = Int64GetDatum((int64) pg_atomic_read_u64(&c->samples_compressed));
	v[20] = Int64GetDatum((int64) pg_atomic_read_u64(&c->compress_bytes_before));
	v[21] = Int64GetDatum((int64) pg_atomic_read_u64(&c->compress_bytes_after));
	v[22] = TimestampTzGetDatum(compress_last_run);
	nulls[22] = (compress_last_run == 0);
	v[23] = Int64GetDatum(compress_lag_s);
	nulls[23] = (compress_last_run == 0);
	/* added in 0.3.0 */
	v[24] = Int64GetDatum(overflow_reader ? overflow_reader() : 0);

	/*
	 * A database still on an older version's SQL declares fewer columns (the
	 * library is newer until ALTER EXTENSION UPDATE): give it those.
	 */
	if (tupdesc->natts < 15 || tupdesc->natts > PHA_STATS_COLUMNS)
		elog(ERROR, "promscale_ha.stats() declares %d columns; this library has %d",
			 tupdesc->natts, PHA_STATS_COLUMNS);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), v, nulls)));
}
