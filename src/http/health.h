/*-------------------------------------------------------------------------
 *
 * health.h
 *	  GET /healthz: whether the database answers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_HEALTH_H
#define PHA_HTTP_HEALTH_H

#include "server.h"

extern enum MHD_Result pha_healthz(struct MHD_Connection *conn, PhaRequest *req);

#endif							/* PHA_HTTP_HEALTH_H */
