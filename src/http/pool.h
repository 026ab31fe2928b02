/*-------------------------------------------------------------------------
 *
 * pool.h
 *	  A fixed-size pool of libpq connections shared by the HTTP threads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_POOL_H
#define FE_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "config.h"

typedef struct FeConn FeConn;

/* A snapshot of the pool for /metrics. */
typedef struct FePoolStats
{
	int			size;
	int			in_use;
	int			connected;
	int			waiting;
	unsigned long long waits;	/* acquisitions that had to wait */
	unsigned long long timeouts;	/* ... and gave up after --pool-wait */
	unsigned long long connects;	/* connections opened */
	unsigned long long connect_failures;
	unsigned long long disconnects; /* connections found broken and closed */
} FePoolStats;

/* Why fe_pool_acquire returned NULL. */
typedef enum FeAcquireError
{
	FE_ACQ_TIMEOUT,				/* every connection busy for wait_ms */
	FE_ACQ_CONNECT				/* the database did not accept a connection */
} FeAcquireError;

/*
 * Set up the connection parameters once: our defaults first, so that the
 * user's conninfo (expanded from "dbname") overrides them.  0, or -1 when
 * out of memory.  No connection is opened yet.
 */
extern int	fe_pool_init(const FeConfig *cfg);

/*
 * Take a slot, waiting at most wait_ms for one, and make sure it holds a
 * live connection.  NULL when none came free in time or the database
 * refused the connection; *why and err say which.
 */
extern FeConn *fe_pool_acquire(int wait_ms, FeAcquireError *why,
							   char *err, size_t errlen);

/* Give a slot back; broken closes its connection first. */
extern void fe_pool_release(FeConn *c, bool broken);

/* The connection of a slot the caller holds. */
extern PGconn *fe_conn_pg(FeConn *c);

/*
 * Prepare statement number stmt (0..31) on this connection unless it is
 * already.  False with the SQLSTATE (or "") and message when it fails (the
 * extension is not created, the server went away).
 */
extern bool fe_conn_prepare(FeConn *c, int stmt, const char *name,
							const char *sql, int nparams, const Oid *types,
							char *sqlstate, char *err, size_t errlen);

/*
 * Whether the error of the last query means the connection is unusable:
 * libpq says so, or the SQLSTATE is a connection exception (08) or an
 * operator intervention that ends the session (57P01-57P03).
 */
extern bool fe_conn_is_broken(FeConn *c, const char *sqlstate);

/* At shutdown: ask the server to cancel every query still running. */
extern void fe_pool_cancel_all(void);

/* A consistent copy of the pool's numbers. */
extern void fe_pool_stats(FePoolStats *s);

/* Close every connection; called after the HTTP threads have stopped. */
extern void fe_pool_close(void);

/* Replace the newlines of a libpq message by spaces and drop trailing blanks. */
extern void fe_trim_message(char *msg);

/*
 * The SQLSTATE ("" when there is none: the connection failed) and a
 * one-line message of a failed result: the server's primary message and
 * detail, or libpq's message when the server sent none.
 */
extern void fe_result_error(PGconn *conn, const PGresult *res, char *sqlstate,
							char *err, size_t errlen);

#endif							/* FE_POOL_H */
