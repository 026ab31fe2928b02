/*-------------------------------------------------------------------------
 *
 * write.h
 *	  POST /write: remote-write requests into promscale_ha.write().
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_WRITE_H
#define FE_WRITE_H

#include <stddef.h>

#include "exchange.h"

/*
 * First call of a /write request: check the method and headers and
 * reserve room for an announced body; may answer at once (405, 415, 413,
 * 503), after which libmicrohttpd reads no body.
 */
extern enum MHD_Result fe_write_begin(struct MHD_Connection *conn, FeExchange *ex);

/*
 * A piece of the body (*size bytes, all consumed: *size becomes 0): kept,
 * or dropped after a failure that fe_write_finish will answer.  MHD_NO
 * (close the connection) for a client that keeps sending long after.
 */
extern enum MHD_Result fe_write_body(struct MHD_Connection *conn, FeExchange *ex,
									 const char *data, size_t *size);

/* Last call: store the body with promscale_ha.write() and answer. */
extern enum MHD_Result fe_write_finish(struct MHD_Connection *conn, FeExchange *ex);

/* Free the body of ex and give back its reservation; idempotent. */
extern void fe_write_cleanup(FeExchange *ex);

/* the statement numbers of fe_conn_prepare() */
#define FE_STMT_WRITE 0

#endif							/* FE_WRITE_H */
