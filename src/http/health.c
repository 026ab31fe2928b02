/*-------------------------------------------------------------------------
 *
 * health.c
 *	  GET /healthz: whether the database answers.
 *
 * 200 "ok" when a pooled connection answers SELECT 1, 503 (with the
 * reason) otherwise: the database is down or refuses connections, or no
 * pool connection came free within a short wait.  A load balancer's health
 * check (haproxy's "option httpchk GET /healthz") thus takes a front end
 * out of rotation while it cannot reach the database.  The wait for a free
 * connection is at most 2 s (or --pool-wait if shorter) so that a check
 * never hangs as long as a write may.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "health.h"
#include "pool.h"

#define HEALTH_POOL_WAIT_MS 2000

/* Run SELECT 1 on a pooled connection and answer 200 or 503. */
enum MHD_Result
fe_healthz(struct MHD_Connection *conn, FeExchange *ex)
{
	FeConn     *c;
	FeAcquireError why;
	PGresult   *res;
	char		err[512];
	bool		ok;
	int			wait_ms = fe_cfg->pool_wait_ms < HEALTH_POOL_WAIT_MS ?
		fe_cfg->pool_wait_ms : HEALTH_POOL_WAIT_MS;

	c = fe_pool_acquire(wait_ms, &why, err, sizeof(err));
	if (c == NULL)
		return fe_fail(conn, ex, 503, why == FE_ACQ_TIMEOUT ? "pool_timeout" : "db_unavailable",
					   "%s", err);
	res = PQexec(fe_conn_pg(c), "SELECT 1");
	ok = (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK);
	if (!ok)
	{
		char		sqlstate[8];
		char		msg[400];

		fe_result_error(fe_conn_pg(c), res, sqlstate, msg, sizeof(msg));
		PQclear(res);
		fe_pool_release(c, fe_conn_is_broken(c, sqlstate));
		return fe_fail(conn, ex, 503, "db_unavailable", "SELECT 1 failed [SQLSTATE %s]: %s",
					   sqlstate[0] ? sqlstate : "none", msg);
	}
	PQclear(res);
	fe_pool_release(c, false);
	return fe_respond(conn, ex, 200, "ok", NULL, "ok\n", 3, NULL, NULL);
}
