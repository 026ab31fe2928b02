/*-------------------------------------------------------------------------
 *
 * ha_metrics.h
 *	  GET /metrics: the front end's own metrics followed by the HA state of
 *	  the database (promscale_ha_*), read at most once per --ha-metrics-ttl.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_HA_METRICS_H
#define FE_HA_METRICS_H

#include "exchange.h"

/*
 * Answer ex with the exposition: metrics.c's promscale_ha_http_* families,
 * then the HA families from one call of promscale_ha.ha_metrics(), cached
 * for --ha-metrics-ttl and shared by concurrent scrapes.  When the database
 * cannot be read, promscale_ha_http_ha_state_up is 0 and the HA families
 * are left out; the answer is still 200.
 */
extern enum MHD_Result fe_ha_metrics_serve(struct MHD_Connection *conn, FeExchange *ex);

#endif							/* FE_HA_METRICS_H */
