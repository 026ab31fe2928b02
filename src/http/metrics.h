/*-------------------------------------------------------------------------
 *
 * metrics.h
 *	  Counters of promscale-ha-http and their Prometheus text exposition.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_METRICS_H
#define PHA_HTTP_METRICS_H

#include <stddef.h>

/* The endpoints, as the "handler" label of the request metrics. */
typedef enum PhaHandler
{
	PHA_H_WRITE = 0,
	PHA_H_HEALTHZ,
	PHA_H_METRICS,
	PHA_H_OTHER,
	PHA_NUM_HANDLERS
} PhaHandler;

/* Numbers promscale_ha.write() returned for one request. */
typedef struct PhaWriteCounts
{
	long long	received;
	long long	written;
	long long	deduplicated;
	long long	already_stored;
	long long	future_dropped;
} PhaWriteCounts;

extern void pha_metrics_init(void);
extern long pha_metrics_start_time(void);
extern const char *pha_handler_name(PhaHandler h);
extern void pha_metrics_request(PhaHandler h, int status, const char *outcome,
								double seconds);
extern void pha_metrics_samples(const PhaWriteCounts *c);
extern void pha_metrics_body_bytes(size_t n);
extern void pha_metrics_db_error(const char *sqlstate);
extern char *pha_metrics_render(size_t *len);

#endif							/* PHA_HTTP_METRICS_H */
