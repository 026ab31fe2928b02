/*-------------------------------------------------------------------------
 *
 * health.h
 *	  GET /healthz: whether the database answers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_HEALTH_H
#define FE_HEALTH_H

#include "exchange.h"

/*
 * GET /healthz: 200 "ok" when a pooled connection answers SELECT 1 within
 * min(2 s, --pool-wait), 503 with the reason otherwise.
 */
extern enum MHD_Result fe_healthz(struct MHD_Connection *conn, FeExchange *ex);

#endif							/* FE_HEALTH_H */
