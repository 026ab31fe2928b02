/*-------------------------------------------------------------------------
 *
 * metrics.h
 *	  Counters of promscale-ha-http and their Prometheus text exposition
 *	  (GET /metrics).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_METRICS_H
#define FE_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "exchange.h"

/* Numbers promscale_ha.write() returned for one request. */
typedef struct FeWriteCounts
{
	long long	received;
	long long	written;
	long long	deduplicated;
	long long	already_stored;
	long long	future_dropped;
} FeWriteCounts;

/* Remember when the process started (called once from main). */
extern void fe_metrics_init(void);

/* When the process started, seconds since the epoch. */
extern long fe_metrics_start_time(void);

/* The "handler" label of an endpoint ("other" for one out of range). */
extern const char *fe_handler_name(FeHandler h);

/*
 * Count one finished request: its endpoint, status (0 = no response),
 * outcome word and duration.  Thread-safe, like all the counters here.
 */
extern void fe_metrics_request(FeHandler h, int status, const char *outcome,
							   double seconds);

/* Add what one promscale_ha.write() call reported. */
extern void fe_metrics_samples(const FeWriteCounts *c);

/* Count the bytes of one received body. */
extern void fe_metrics_body_bytes(size_t n);

/* Count the bytes of one remote-read request body. */
extern void fe_metrics_read_body_bytes(size_t n);

/* Count one remote-read 200 response begun: streamed (chunks) or not. */
extern void fe_metrics_read_response(bool streamed);

/* Count bytes and frames of a remote-read response handed to the client. */
extern void fe_metrics_read_sent(size_t bytes, unsigned long frames);

/* Count a streamed remote-read response cut off by an error. */
extern void fe_metrics_read_stream_error(void);

/* Count one database error by SQLSTATE ("" = no SQLSTATE: connection). */
extern void fe_metrics_db_error(const char *sqlstate);

/*
 * Every metric in the text exposition format, in a malloc'd buffer of
 * *len bytes that the caller frees; NULL when out of memory.
 */
extern char *fe_metrics_render(size_t *len);

/* GET /metrics: answer ex with the exposition (503 when out of memory). */
extern enum MHD_Result fe_metrics_serve(struct MHD_Connection *conn, FeExchange *ex);

#endif							/* FE_METRICS_H */
