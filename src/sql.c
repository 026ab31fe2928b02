/*-------------------------------------------------------------------------
 *
 * sql.c
 *	  SPI and transactions for every part of the extension: kept plans and
 *	  the worker's transaction bracket.
 *
 * Plans are prepared once per backend and kept (SPI_keepplan) in the static
 * SPIPlanPtr of their caller; a plan goes stale only with the schema, and
 * the plan cache replans it then.  The bracket restores the caller's memory
 * context after the commit: forgetting that is how the worker once leaked
 * every between-transaction allocation into TopMemoryContext.
 *
 * The read-only check is here so that every entry point that stores refuses
 * a read-only transaction the same way: write() stores through the COPY
 * machinery (and changes shared lease state before any SQL runs), neither of
 * which checks XactReadOnly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "tcop/utility.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "sql.h"

SPIPlanPtr
pha_sql_prepare(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

void
pha_sql_run(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *values,
			const char *nulls, int expect)
{
	int			rc;

	if (*plan == NULL)
		*plan = pha_sql_prepare(sql, nargs, types);
	rc = SPI_execute_plan(*plan, values, nulls, false, 0);
	if (rc != expect)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

MemoryContext
pha_xact_begin(const char *activity)
{
	MemoryContext caller = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
	return caller;
}

void
pha_xact_end(MemoryContext caller)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(caller);
}

void
pha_require_read_write(const char *what)
{
	PreventCommandIfReadOnly(what);
}

bool
pha_try_unless_duplicate(void (*fn) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool done = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		done = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return done;
}
