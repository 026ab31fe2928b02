/*-------------------------------------------------------------------------
 *
 * cluster_stats.h
 *	  Per (cluster, replica) counters in shared memory, behind
 *	  promscale_ha.cluster_stats, and the warning about samples that carry
 *	  the cluster label but no replica label.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CLUSTER_STATS_H
#define PHA_CLUSTER_STATS_H

#include "request.h"

/*
 * Register the shared table (promscale_ha.max_tracked_replicas entries) and
 * its lock: call from _PG_init while preloading, after the GUCs exist.
 */
extern void pha_cluster_stats_shmem_init(void);

/* Register the transaction callbacks: call from _PG_init, always. */
extern void pha_cluster_stats_init(void);

/*
 * Note n samples of a series that carries the cluster label with this value
 * (len bytes, not NUL-terminated) but no replica label.  Called per such
 * series by the grouping step; backend-local, one compare when the cluster
 * is the same as the previous series'.  No-op without shared memory.
 */
extern void pha_cluster_stats_no_replica(const char *cluster, size_t len, int64 n);

/*
 * Once per write() request, after its samples are stored: queue each
 * group's counts (accepted, deduplicated, future-dropped, one request, its
 * last write) for commit, and log the rate-limited WARNING for clusters
 * whose series arrived without the replica label.  Counts reach shared
 * memory at commit only; an aborted (sub)transaction counts nothing.
 */
extern void pha_cluster_stats_record(PhaRequest *req);

/* Updates lost because the shared table was full (since the server started). */
extern int64 pha_cluster_stats_overflow(void);

#endif							/* PHA_CLUSTER_STATS_H */
