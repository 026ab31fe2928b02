/*-------------------------------------------------------------------------
 *
 * pool.h
 *	  A fixed-size pool of libpq connections shared by the HTTP threads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_POOL_H
#define PHA_HTTP_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "config.h"

typedef struct PhaConn PhaConn;

/* A snapshot of the pool for /metrics. */
typedef struct PhaPoolStats
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
} PhaPoolStats;

/* Why pha_pool_acquire returned NULL. */
typedef enum PhaAcquireError
{
	PHA_ACQ_TIMEOUT,			/* every connection busy for wait_ms */
	PHA_ACQ_CONNECT				/* the database did not accept a connection */
} PhaAcquireError;

extern int	pha_pool_init(const PhaConfig *cfg);
extern PhaConn *pha_pool_acquire(int wait_ms, PhaAcquireError *why,
								 char *err, size_t errlen);
extern void pha_pool_release(PhaConn *c, bool broken);
extern PGconn *pha_conn_pg(PhaConn *c);
extern bool pha_conn_prepare(PhaConn *c, int stmt, const char *name,
							 const char *sql, int nparams, const Oid *types,
							 char *sqlstate, char *err, size_t errlen);
extern bool pha_conn_is_broken(PhaConn *c, const char *sqlstate);
extern void pha_pool_cancel_all(void);
extern void pha_pool_stats(PhaPoolStats *s);
extern void pha_pool_close(void);

extern void pha_trim_message(char *msg);
extern void pha_result_error(PGconn *conn, const PGresult *res, char *sqlstate,
							 char *err, size_t errlen);

#endif							/* PHA_HTTP_POOL_H */
