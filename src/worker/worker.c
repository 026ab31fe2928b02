/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The background worker loop: one worker for the database named by
 *	  promscale_ha.database, started after recovery, restarted by the
 *	  postmaster 5 s after a crash.
 *
 * Each cycle: wait for the extension to exist (it may be created, dropped
 * and created again while the worker runs); load the leases into shared
 * memory when the extension is new to it; write heartbeats back every
 * promscale_ha.lease_refresh; fail over silent leaders whose cluster has a
 * live replica (lease_maint.c); every promscale_ha.housekeeping_interval,
 * prune, trim, create and drop (housekeeping.c).  Then sleep on the latch
 * until the nearest of those deadlines.  SIGHUP reloads the configuration;
 * SIGTERM ends the loop.
 *
 * A task that fails is logged, its transaction aborted, the error kept for
 * promscale_ha.stats, and the loop goes on: a broken task must not turn into
 * a crash-restart loop.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "guc.h"
#include "worker/housekeeping.h"
#include "worker/lease_maint.h"
#include "shmem.h"
#include "stats.h"
#include "worker/worker.h"

#define MAX_SLEEP_MS	60000
#define MIN_SLEEP_MS	100
#define NO_EXTENSION_SLEEP_MS 5000

static char *last_error = NULL;

void
pha_worker_register(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 5;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "promscale_ha");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "pha_worker_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "promscale_ha worker");
	snprintf(w.bgw_type, BGW_MAXLEN, "promscale_ha worker");
	RegisterBackgroundWorker(&w);
}

void
pha_worker_begin_xact(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

void
pha_worker_end_xact(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

typedef void (*TaskFn) (TimestampTz now, void *arg);

/* Run one task; on error log it, abort its transaction and go on. */
static bool
run_task(const char *name, TaskFn fn, TimestampTz now, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		fn(now, arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		pgstat_report_activity(STATE_IDLE, NULL);
		ereport(LOG,
				(errmsg("promscale_ha worker: %s failed: %s", name, edata->message)));
		last_error = psprintf("%s: %s", name, edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* The relid of promscale_ha.ha_leases, or InvalidOid while there is no extension. */
static void
task_find_extension(TimestampTz now, void *arg)
{
	Oid		   *relid = (Oid *) arg;
	Oid			nsp;

	StartTransactionCommand();
	*relid = InvalidOid;
	if (OidIsValid(get_extension_oid("promscale_ha", true)) &&
		OidIsValid(nsp = get_namespace_oid("promscale_ha", true)))
		*relid = get_relname_relid("ha_leases", nsp);
	CommitTransactionCommand();
}

static void
task_load(TimestampTz now, void *arg)
{
	int			n = pha_maint_load_leases();

	if (n > 0)
		ereport(LOG, (errmsg("promscale_ha worker: loaded %d leases", n)));
}

static void
task_heartbeats(TimestampTz now, void *arg)
{
	(void) pha_maint_flush_heartbeats(now);
}

static void
task_failover(TimestampTz now, void *arg)
{
	(void) pha_maint_failover_silent(now);
}

static void
task_idle(TimestampTz now, void *arg)
{
	(void) pha_maint_remove_idle(now);
}

static void
task_prune(TimestampTz now, void *arg)
{
	(void) pha_hk_prune_replay_buffer(now);
}

static void
task_trim_logs(TimestampTz now, void *arg)
{
	(void) pha_hk_trim_lease_logs(now);
}

static void
task_partitions(TimestampTz now, void *arg)
{
	(void) pha_hk_partitions_ahead(now);
}

static void
task_retention(TimestampTz now, void *arg)
{
	(void) pha_hk_drop_old_partitions(now);
}

static long
ms_until(TimestampTz now, TimestampTz t)
{
	return (long) Max((t - now) / 1000, 0);
}

void
pha_worker_main(Datum arg)
{
	MemoryContext cycle;
	Oid			loaded_relid = InvalidOid;
	TimestampTz next_flush = 0;
	TimestampTz next_hk = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(pha_database, NULL, 0);
	pgstat_report_appname("promscale_ha worker");
	cycle = AllocSetContextCreate(TopMemoryContext, "promscale_ha worker cycle",
								  ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("promscale_ha worker started for database \"%s\"", pha_database)));

	while (!ShutdownRequestPending)
	{
		TimestampTz now;
		Oid			relid = InvalidOid;
		long		sleep_ms = NO_EXTENSION_SLEEP_MS;

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(cycle);
		MemoryContextSwitchTo(cycle);
		last_error = NULL;
		now = GetCurrentTimestamp();

		if (run_task("extension check", task_find_extension, now, &relid) && OidIsValid(relid))
		{
			int64		failover_us;

			if (relid != loaded_relid)
			{
				/* a new extension (first start, or DROP/CREATE): everything is due */
				if (run_task("lease loading", task_load, now, NULL))
					loaded_relid = relid;
				next_flush = next_hk = now;
			}
			if (now >= next_flush)
			{
				run_task("heartbeats", task_heartbeats, now, NULL);
				next_flush = now + (int64) pha_lease_refresh_ms * 1000;
			}
			run_task("failover", task_failover, now, NULL);
			if (pha_housekeeping_interval_s > 0 && now >= next_hk)
			{
				run_task("replay buffer pruning", task_prune, now, NULL);
				run_task("idle clusters", task_idle, now, NULL);
				run_task("lease log trimming", task_trim_logs, now, NULL);
				run_task("partitions ahead", task_partitions, now, NULL);
				run_task("retention", task_retention, now, NULL);
				next_hk = now + (int64) pha_housekeeping_interval_s * USECS_PER_SEC;
			}
			pha_stats_worker_run(last_error);

			now = GetCurrentTimestamp();
			sleep_ms = ms_until(now, next_flush);
			if (pha_housekeeping_interval_s > 0)
				sleep_ms = Min(sleep_ms, ms_until(now, next_hk));
			failover_us = pha_maint_next_failover_us(now);
			if (failover_us != PG_INT64_MAX)
				sleep_ms = Min(sleep_ms, (long) (failover_us / 1000) + 1);
			sleep_ms = Max(Min(sleep_ms, MAX_SLEEP_MS), MIN_SLEEP_MS);
		}
		else
			loaded_relid = InvalidOid;

		MemoryContextSwitchTo(TopMemoryContext);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	/* exit code 1: restarted after bgw_restart_time unless the server is stopping */
	ereport(LOG, (errmsg("promscale_ha worker shutting down")));
	proc_exit(1);
}
