/*-------------------------------------------------------------------------
 *
 * lease.h
 *	  Election of one leader per HA cluster, over promscale_ha.ha_leases.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_LEASE_H
#define PHA_LEASE_H

#include "request.h"

extern void pha_lease_init(void);

/*
 * Decide every HA group of req: which sample times its replica owns, whether
 * it takes over (then its buffered requests are added to req for replay), or
 * buffer its payload as a follower's.
 */
extern void pha_lease_decide(PhaRequest *req);

/* set_leader(): make group's replica the leader now, with replay. */
extern void pha_lease_force(PhaRequest *req, int group);

/* After the samples are stored: queue heartbeats and counters for commit. */
extern void pha_lease_record(PhaRequest *req);

#endif							/* PHA_LEASE_H */
