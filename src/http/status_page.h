/*-------------------------------------------------------------------------
 *
 * status_page.h
 *	  GET /: the HA status page, one self-contained HTML document.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_STATUS_PAGE_H
#define FE_STATUS_PAGE_H

#include "exchange.h"

/*
 * Answer ex with the page: per HA cluster its leader and since when, its
 * replicas (last write, samples accepted and deduplicated) and a timeline
 * of the leadership periods of the last 24 hours; clusters whose series
 * came without the replica label; the endpoints.  One query; no external
 * asset (inline CSS, no script).  503 when the database cannot be read.
 */
extern enum MHD_Result fe_status_page_serve(struct MHD_Connection *conn, FeExchange *ex);

#endif							/* FE_STATUS_PAGE_H */
