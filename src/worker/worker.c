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
 * The duties are a table of tasks (name, interval, function, next due).  A
 * task that fails is logged with its SQLSTATE, its transaction aborted, the
 * error kept for promscale_ha.stats, and the loop goes on: a broken task must
 * not turn into a crash-restart loop.  Every allocation of a cycle lives in
 * the cycle's memory context, reset at the top of the loop; the transaction
 * bracket (sql.c) comes back to it after each commit.
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
#include "worker/compress_job.h"
#include "worker/housekeeping.h"
#include "worker/lease_maint.h"
#include "shmem.h"
#include "stats.h"
#include "sql.h"
#include "worker/worker.h"

#define MAX_SLEEP_MS	60000
#define MIN_SLEEP_MS	100
#define NO_EXTENSION_SLEEP_MS 5000


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

static long
ms_until(TimestampTz now, TimestampTz t)
{
	return (long) Max((t - now) / 1000, 0);
}

/*
 * The worker's duties: each runs as its own transactions (sql.c's bracket)
 * when it is due; a task's interval comes from GUCs, read each cycle so that
 * a reload takes effect at once.  Adding a duty is adding a row.
 */
typedef struct PhaTask
{
	const char *name;
	void		(*run) (TimestampTz now);
	int64		(*interval_us) (void);	/* 0: every cycle; negative: off */
	int64		(*next_event_us) (TimestampTz now); /* sooner wake-up, or NULL */
	TimestampTz last_run;		/* due at last_run + interval, read anew each cycle */
} PhaTask;

static int64
every_cycle(void)
{
	return 0;
}

static int64
lease_refresh_us(void)
{
	return (int64) pha_lease_refresh_ms * 1000;
}

static int64
housekeeping_us(void)
{
	return pha_housekeeping_interval_s > 0 ? (int64) pha_housekeeping_interval_s * USECS_PER_SEC : -1;
}

static void
task_heartbeats(TimestampTz now)
{
	(void) pha_maint_flush_heartbeats(now);
}

static void
task_failover(TimestampTz now)
{
	(void) pha_maint_failover_silent(now);
}

static void
task_idle(TimestampTz now)
{
	(void) pha_maint_remove_idle(now);
}

static void
task_prune(TimestampTz now)
{
	(void) pha_hk_prune_replay_buffer(now);
}

static void
task_buffer_persistence(TimestampTz now)
{
	(void) pha_hk_replay_buffer_persistence(now);
}

static void
task_trim_logs(TimestampTz now)
{
	(void) pha_hk_trim_lease_logs(now);
}

static void
task_partitions(TimestampTz now)
{
	(void) pha_hk_partitions_ahead(now);
}

static void
task_compress(TimestampTz now)
{
	(void) pha_job_compress(now);
}

static void
task_retention(TimestampTz now)
{
	(void) pha_hk_drop_old_partitions(now);
}

static PhaTask tasks[] = {
	{"heartbeats", task_heartbeats, lease_refresh_us, NULL},
	{"failover", task_failover, every_cycle, pha_maint_next_failover_us},
	{"replay buffer pruning", task_prune, housekeeping_us, NULL},
	{"replay buffer persistence", task_buffer_persistence, housekeeping_us, NULL},
	{"idle clusters", task_idle, housekeeping_us, NULL},
	{"lease log trimming", task_trim_logs, housekeeping_us, NULL},
	{"partitions ahead", task_partitions, housekeeping_us, NULL},
	{"retention", task_retention, housekeeping_us, NULL},
	{"compression", task_compress, housekeeping_us, NULL},
};

/* The last failure of this cycle, for promscale_ha.stats. */
static PhaWorkerRun cycle_run;

/*
 * Run one task; on error log it with its SQLSTATE, abort its transaction and
 * go on.  A task must end every transaction it starts: one left open is
 * aborted and counted as a failure.  Either way the caller's memory context
 * is current again afterwards.
 */
static bool
run_task(const char *name, void (*fn) (TimestampTz), TimestampTz now)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		fn(now);
		if (IsTransactionState())
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("task left its transaction open")));
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
				(errmsg("promscale_ha worker: %s failed: %s (SQLSTATE %s)", name, edata->message,
						unpack_sql_state(edata->sqlerrcode)),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0));
		cycle_run.error = psprintf("%s: %s", name, edata->message);
		cycle_run.sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
		cycle_run.detail = edata->detail ? pstrdup(edata->detail) : NULL;
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return ok;
}

/* The relid of promscale_ha.ha_leases, or InvalidOid while there is no extension. */
static Oid	found_relid;

static void
task_find_extension(TimestampTz now)
{
	MemoryContext caller = pha_xact_begin("promscale_ha: look for the extension");
	Oid			nsp;

	found_relid = InvalidOid;
	if (OidIsValid(get_extension_oid("promscale_ha", true)) &&
		OidIsValid(nsp = get_namespace_oid("promscale_ha", true)))
		found_relid = get_relname_relid("ha_leases", nsp);
	pha_xact_end(caller);
}

static void
task_load(TimestampTz now)
{
	int			n = pha_maint_load_leases();

	if (n > 0)
		ereport(LOG, (errmsg("promscale_ha worker: loaded %d leases", n)));
}

/*
 * Run every due task; returns the milliseconds until the next one is due.  A
 * task is due one interval after its last run, with the interval as the
 * configuration says now, so a reload takes effect at once.
 */
static long
run_due_tasks(TimestampTz now)
{
	TimestampTz wake = now + (int64) MAX_SLEEP_MS * 1000;

	for (int i = 0; i < lengthof(tasks); i++)
	{
		PhaTask    *t = &tasks[i];
		int64		interval = t->interval_us();

		if (interval < 0)
			continue;
		if (now >= t->last_run + interval)
		{
			(void) run_task(t->name, t->run, now);
			t->last_run = now;
		}
		if (interval > 0)
			wake = Min(wake, t->last_run + interval);
		if (t->next_event_us)
		{
			int64		us = t->next_event_us(GetCurrentTimestamp());

			if (us != PG_INT64_MAX)
				wake = Min(wake, GetCurrentTimestamp() + us + 1000);
		}
	}
	return ms_until(GetCurrentTimestamp(), wake);
}

void
pha_worker_main(Datum arg)
{
	MemoryContext cycle;
	Oid			loaded_relid = InvalidOid;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(pha_database, NULL, 0);
	pgstat_report_appname("promscale_ha worker");
	pha_shared->worker_latch = MyLatch;	/* backends wake us at a new cluster or leader */
	cycle = AllocSetContextCreate(TopMemoryContext, "promscale_ha worker cycle",
								  ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("promscale_ha worker started for database \"%s\"", pha_database)));

	while (!ShutdownRequestPending)
	{
		TimestampTz now;
		long		sleep_ms = NO_EXTENSION_SLEEP_MS;

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(cycle);
		MemoryContextSwitchTo(cycle);
		memset(&cycle_run, 0, sizeof(cycle_run));
		now = GetCurrentTimestamp();

		if (run_task("extension check", task_find_extension, now) && OidIsValid(found_relid))
		{
			if (found_relid != loaded_relid)
			{
				/* a new extension (first start, or DROP/CREATE): everything is due */
				if (run_task("lease loading", task_load, now))
					loaded_relid = found_relid;
				for (int i = 0; i < lengthof(tasks); i++)
					tasks[i].last_run = 0;
			}
			sleep_ms = Max(Min(run_due_tasks(now), MAX_SLEEP_MS), MIN_SLEEP_MS);
			cycle_run.memory_top = (int64) MemoryContextMemAllocated(TopMemoryContext, false);
			cycle_run.memory_total = (int64) MemoryContextMemAllocated(TopMemoryContext, true);
			pha_stats_worker_run(&cycle_run);
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
