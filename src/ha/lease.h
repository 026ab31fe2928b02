/*-------------------------------------------------------------------------
 *
 * lease.h
 *	  Election of one leader per HA cluster, over promscale_ha.ha_leases.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_LEASE_H
#define PHA_LEASE_H

#include "storage/lockdefs.h"

#include "request.h"
#include "shmem.h"

/*
 * Decide every undecided HA group of req under its cluster's advisory lock,
 * held until commit: the verdict (request.h) says which sample times the
 * replica owns and whether it leads or took over now.  Writes ha_leases and
 * ha_leases_logs; moves no samples.
 */
extern void pha_lease_decide(PhaRequest *req);

/*
 * Decide group as an operator's or the worker's change of leader: reason
 * "forced" (set_leader) always takes over, "failover" (the worker) only if
 * the leader is silent.  ERROR if the cluster does not exist.
 */
extern void pha_lease_force(PhaRequest *req, int group, const char *reason);

/*
 * After the driver has acted on the verdicts (replayed payloads included):
 * extend each leader's reservation (lease_until) over every sample it is
 * about to store, and write its heartbeat to ha_leases when one is due.
 */
extern void pha_lease_reserve(PhaRequest *req);

/* Building blocks shared with worker/lease_maint.c (the worker's lease duties). */
extern bool pha_load_from_table(const char *cluster, TimestampTz now, PhaClusterState *st);
extern bool pha_leader_silent(const PhaClusterState *st, TimestampTz now);
extern void pha_cluster_lock(const char *cluster, LOCKMODE mode);

#endif							/* PHA_LEASE_H */
