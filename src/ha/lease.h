/*-------------------------------------------------------------------------
 *
 * lease.h
 *	  Election of one leader per HA cluster, over promscale_ha.ha_leases.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_LEASE_H
#define PHA_LEASE_H

#include "executor/spi.h"
#include "storage/lockdefs.h"

#include "request.h"
#include "shmem.h"
#include "ha/lease_state.h"

/*
 * Decide every HA group of req: which sample times its replica owns, whether
 * it takes over (then its buffered requests are added to req for replay), or
 * buffer its payload as a follower's.
 */
extern void pha_lease_decide(PhaRequest *req);

/*
 * Make group's replica the leader now, with replay: reason "forced"
 * (set_leader) always, "failover" (the worker) only if the leader is silent.
 */
extern void pha_lease_force(PhaRequest *req, int group, const char *reason);


/* Building blocks shared with lease_maint.c (the worker's lease duties). */
extern bool pha_load_from_table(const char *cluster, TimestampTz now, PhaClusterState *st);
extern bool pha_leader_silent(const PhaClusterState *st, TimestampTz now);
extern void pha_cluster_lock(const char *cluster, LOCKMODE mode);
extern void pha_run_sql(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types,
						Datum *values, const char *nulls, int expect);

#endif							/* PHA_LEASE_H */
