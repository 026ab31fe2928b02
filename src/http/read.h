/*-------------------------------------------------------------------------
 *
 * read.h
 *	  POST /read: Prometheus remote-read requests answered by
 *	  promscale_ha.read().
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_READ_H
#define FE_READ_H

#include <stddef.h>

#include "exchange.h"

/*
 * First call of a /read request: check the method, the Content-Encoding
 * and an announced Content-Length (--max-read-body), and reserve room for
 * the body; may answer at once (405, 415, 413, 503), after which
 * libmicrohttpd reads no body.
 */
extern enum MHD_Result fe_read_begin(struct MHD_Connection *conn, FeExchange *ex);

/*
 * A piece of the body (*size bytes, all consumed: *size becomes 0): kept,
 * or dropped after a failure that fe_read_finish will answer.  MHD_NO
 * (close the connection) for a client that keeps sending long after.
 */
extern enum MHD_Result fe_read_body(struct MHD_Connection *conn, FeExchange *ex,
									const char *data, size_t *size);

/*
 * Last call: run promscale_ha.read() on the body and answer: the whole
 * response (SAMPLES) or a streamed one (STREAMED_XOR_CHUNKS) that keeps a
 * pooled connection until its last frame is sent or the client goes.
 */
extern enum MHD_Result fe_read_finish(struct MHD_Connection *conn, FeExchange *ex);

/*
 * Called once per request from the completion callback, for any handler:
 * detaches a streamed response from ex (the response may outlive it) and
 * frees the body; idempotent.
 */
extern void fe_read_cleanup(FeExchange *ex);

/* the statement number of fe_conn_prepare() (write.h has 0) */
#define FE_STMT_READ 1

#endif							/* FE_READ_H */
