/*-------------------------------------------------------------------------
 *
 * server.h
 *	  The libmicrohttpd daemon of promscale-ha-http: routing and the life
 *	  of a request.
 *
 * Only main.c includes this header; the handlers find the state of a
 * request and the responses in exchange.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_SERVER_H
#define FE_SERVER_H

#include "config.h"

/* Start listening with the settings of cfg (kept); -1 after logging why not. */
extern int	fe_server_start(const FeConfig *cfg);

/*
 * Stop accepting connections; responses from now on carry
 * "Connection: close".  The requests in flight go on (fe_exchange_inflight
 * counts them).
 */
extern void fe_server_drain(void);

/* Close every connection and join the threads of the daemon. */
extern void fe_server_stop(void);

#endif							/* FE_SERVER_H */
