/*-------------------------------------------------------------------------
 *
 * stats.h
 *	  Counters of promscale_ha.stats, kept in shared memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_STATS_H
#define PHA_STATS_H

#include "request.h"

extern void pha_stats_init(void);

/* Count what a request stored, and a write() call's outcome (applied at commit). */
extern void pha_stats_samples(const PhaCounts *c);
extern void pha_stats_request(const char *outcome);
extern void pha_stats_leader_change(void);

/* The worker's bookkeeping (immediate). */
extern void pha_stats_worker_run(const char *error);

#endif							/* PHA_STATS_H */
