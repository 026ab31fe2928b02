/*-------------------------------------------------------------------------
 *
 * sql.h
 *	  SPI and transactions, the ground floor every other part uses: one way
 *	  to run a kept, parameterised statement, one transaction bracket.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_SQL_H
#define PHA_SQL_H

#include "postgres.h"

#include "executor/spi.h"

/* Prepare sql and keep the plan for the backend's life; never NULL. */
extern SPIPlanPtr pha_sql_prepare(const char *sql, int nargs, Oid *types);

/*
 * Run a parameterised statement through *plan, prepared and kept on first
 * use; the caller is connected to SPI.  An SPI result other than expect is an
 * internal error (elog): statements here never fail on user input.
 */
extern void pha_sql_run(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types,
						Datum *values, const char *nulls, int expect);

/*
 * A unit of work in a process of our own (the worker): start a transaction,
 * connect SPI, push a snapshot, show activity.  Returns the caller's memory
 * context, to be handed to pha_xact_end, which commits and switches back to
 * it (a commit leaves CurrentMemoryContext at TopMemoryContext, where every
 * later allocation would live for the process's life).
 */
extern MemoryContext pha_xact_begin(const char *activity);
extern void pha_xact_end(MemoryContext caller);

/*
 * Run fn(arg) in an internal subtransaction.  True when it returned (the
 * subtransaction is released into the caller's transaction); false when it
 * raised a unique violation (23505), whose work is then rolled back with the
 * subtransaction and the error discarded; any other error is re-thrown.
 * The caller's memory context and resource owner are the current ones again
 * on return either way.  For "insert the fast way, and if a row is already
 * there, fall back to the way that settles conflicts".
 */
extern bool pha_try_unless_duplicate(void (*fn) (void *arg), void *arg);

/*
 * Fail with SQLSTATE 25006, as INSERT does, when the transaction is read-only
 * (default_transaction_read_only, BEGIN READ ONLY, a hot standby): what is the
 * statement named in the message.  Every entry point that stores calls it
 * first, because part of what they store bypasses the executor's check.
 */
extern void pha_require_read_write(const char *what);

#endif							/* PHA_SQL_H */
